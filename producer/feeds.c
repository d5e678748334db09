#include "producer/feeds.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/err.h"
#include "common/num.h"
#include "common/secret.h"
#include "common/url.h"

#include <expat.h>
#include <xxhash.h>

#include <errno.h>
#include <stdbool.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OPML_MAX_BYTES ((size_t)16 << 20)
#define OPML_MAX_DEPTH 32
#define MAX_FEEDS      1000000

void nt_feed_spec_free(struct nt_feed_spec *f)
{
        char **p;

        free(f->url);
        free(f->name);
        for (p = f->tags; p && *p; p++)
                free(*p);
        free(f->tags);
        for (p = f->headers; p && *p; p++)
                free(*p);
        free(f->headers);
}

void nt_feed_list_init(struct nt_feed_list *l)
{
        memset(l, 0, sizeof(*l));
}

void nt_feed_list_free(struct nt_feed_list *l)
{
        size_t i;

        if (!l)
                return;
        for (i = 0; i < l->n; i++)
                nt_feed_spec_free(&l->feeds[i]);
        free(l->feeds);
        free(l->index);
        memset(l, 0, sizeof(*l));
}

void nt_feed_list_reindex(struct nt_feed_list *l)
{
        free(l->index);
        l->index = NULL;
        l->index_mask = 0;
        l->indexed = 0;
}

/* Brings the index up to the list: a new table (at least twice as many
 * slots as feeds) when the list has outgrown it, then the feeds added
 * since. False when out of memory for the table. */
static bool index_update(struct nt_feed_list *l)
{
        size_t slots = l->index ? l->index_mask + 1 : 0, j;

        if (!l->index || l->n > slots / 2) {
                size_t n = 16;

                while (n / 2 < l->n)
                        n *= 2;
                nt_feed_list_reindex(l);
                l->index = calloc(n, sizeof(*l->index));
                if (!l->index)
                        return false;
                l->index_mask = n - 1;
        }
        for (; l->indexed < l->n; l->indexed++) {
                const char *url = l->feeds[l->indexed].url;

                if (!url)
                        continue;
                for (j = XXH3_64bits(url, strlen(url)) & l->index_mask;
                     l->index[j]; j = (j + 1) & l->index_mask)
                        ;
                l->index[j] = l->indexed + 1;
        }
        return true;
}

struct nt_feed_spec *nt_feed_list_find(struct nt_feed_list *l, const char *url)
{
        size_t i, j;

        /* A spec whose URL was taken by its consumer (NULL) matches
         * nothing: a reload takes known feeds out of the fresh list one by
         * one and goes on searching it. */
        if (!index_update(l)) {
                /* Out of memory for the index: search the list. */
                for (i = 0; i < l->n; i++)
                        if (l->feeds[i].url &&
                            strcmp(l->feeds[i].url, url) == 0)
                                return &l->feeds[i];
                return NULL;
        }
        for (j = XXH3_64bits(url, strlen(url)) & l->index_mask; l->index[j];
             j = (j + 1) & l->index_mask) {
                struct nt_feed_spec *f = &l->feeds[l->index[j] - 1];

                if (f->url && strcmp(f->url, url) == 0)
                        return f;
        }
        return NULL;
}

/* Takes ownership of *spec's contents on success. A feed without a name
 * is named after its URL without the userinfo: the name is what logs
 * and metric labels show, and credentials stay out of both. */
static int push(struct nt_feed_list *l, struct nt_feed_spec *spec)
{
        if (!spec->name) {
                spec->name = nt_url_without_userinfo(spec->url, NULL);
                if (!spec->name)
                        return NT_ERR_NOMEM;
        }
        if (l->n >= MAX_FEEDS)
                return NT_ERR_LIMIT;
        if (nt_array_grow(&l->feeds, &l->cap, l->n + 1, sizeof(*l->feeds)))
                return NT_ERR_NOMEM;
        l->feeds[l->n++] = *spec;
        return NT_OK;
}

/* A NULL-terminated copy of n strings. */
static char **str_vec(size_t n)
{
        return calloc(n + 1, sizeof(char *));
}

/* The floor of a feed's interval here: the configurable one
 * (producer.min_interval) was checked with the whole configuration. */
#define HARD_MIN_INTERVAL_MS 1000

/* A copy of a string member, or NULL (with *oom) when out of memory. */
static char *dup_or_oom(const char *s, bool *oom)
{
        char *d = s ? strdup(s) : NULL;

        if (s && !d)
                *oom = true;
        return d;
}

int nt_feed_list_from_json(struct nt_feed_list *l, const json_t *arr,
                           int64_t default_interval_ms, char *errstr,
                           size_t errstr_size)
{
        struct nt_config_report r;
        size_t i;
        json_t *item;
        int err;

        if (!arr)
                return NT_OK;
        /* The configuration's validator, so that the rules live once. */
        nt_config_report_init(&r);
        nt_config_check_feeds(arr, NULL, HARD_MIN_INTERVAL_MS, &r);
        err = nt_config_report_errstr(&r, "; ", errstr, errstr_size);
        nt_config_report_free(&r);
        if (err)
                return err;
        json_array_foreach(arr, i, item)
        {
                struct nt_feed_spec spec;
                const char *url =
                    json_string_value(json_object_get(item, "url"));
                json_t *v;
                size_t j;
                bool oom = false;

                if (nt_feed_list_find(l, url))
                        return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                                       "producer.feeds[%zu].url: %s is listed "
                                       "twice",
                                       i, url);
                memset(&spec, 0, sizeof(spec));
                spec.interval_ms = default_interval_ms;
                spec.url = dup_or_oom(url, &oom);
                spec.name = dup_or_oom(
                    json_string_value(json_object_get(item, "name")), &oom);
                v = json_object_get(item, "interval");
                if (v)
                        nt_config_feed_interval(v, &spec.interval_ms);
                v = json_object_get(item, "content");
                if (v)
                        spec.content = nt_config_feed_content(v);
                v = json_object_get(item, "tags");
                spec.tags = str_vec(v ? json_array_size(v) : 0);
                oom |= !spec.tags;
                for (j = 0; spec.tags && v && j < json_array_size(v); j++)
                        spec.tags[j] = dup_or_oom(
                            json_string_value(json_array_get(v, j)), &oom);
                v = json_object_get(item, "headers");
                spec.headers = str_vec(v ? json_object_size(v) : 0);
                oom |= !spec.headers;
                j = 0;
                if (v && spec.headers) {
                        const char *hname;
                        json_t *hv;

                        json_object_foreach(v, hname, hv)
                        {
                                struct nt_buf line;
                                nt_buf_init(&line, 8192);
                                nt_buf_printf(&line, "%s: %s", hname,
                                              json_string_value(hv));
                                spec.headers[j] = nt_buf_detach(&line);
                                oom |= !spec.headers[j++];
                        }
                }
                err = oom ? NT_ERR_NOMEM : push(l, &spec);
                if (err) {
                        nt_feed_spec_free(&spec);
                        return nt_errf(errstr, errstr_size, err,
                                       err == NT_ERR_NOMEM
                                           ? "out of memory"
                                           : "producer.feeds: too many feeds");
                }
        }
        return NT_OK;
}

struct opml_ctx {
        struct nt_feed_list *l;
        int64_t interval_ms;
        char *folders[OPML_MAX_DEPTH]; /* text of enclosing outlines */
        int depth;
        int err;
        char *errstr;
        size_t errstr_size;
        XML_Parser parser;
};

static const char *attr(const char **atts, const char *name)
{
        size_t i;

        for (i = 0; atts[i]; i += 2)
                if (strcasecmp(atts[i], name) == 0)
                        return atts[i + 1];
        return NULL;
}

static void opml_start(void *data, const char *el, const char **atts)
{
        struct opml_ctx *c = data;
        const char *url, *title;
        struct nt_feed_spec spec;
        int i, n = 0;

        if (c->err || strcmp(el, "outline") != 0) {
                return;
        }
        url = attr(atts, "xmlUrl");
        title = attr(atts, "title");
        if (!title)
                title = attr(atts, "text");
        if (c->depth >= OPML_MAX_DEPTH) {
                c->err =
                    nt_errf(c->errstr, c->errstr_size, NT_ERR_LIMIT,
                            "outlines nested deeper than %d", OPML_MAX_DEPTH);
                XML_StopParser(c->parser, XML_FALSE);
                return;
        }
        c->folders[c->depth++] = url ? NULL : strdup(title ? title : "");
        if (!url || !nt_url_is_http(url) || nt_feed_list_find(c->l, url))
                return;
        memset(&spec, 0, sizeof(spec));
        spec.url = strdup(url);
        spec.name = title ? strdup(title) : NULL;
        spec.interval_ms = c->interval_ms;
        spec.headers = str_vec(0);
        spec.tags = str_vec((size_t)c->depth);
        for (i = 0; spec.tags && i < c->depth - 1; i++)
                if (c->folders[i] && *c->folders[i])
                        spec.tags[n++] = strdup(c->folders[i]);
        if (!spec.url || !spec.headers || !spec.tags ||
            push(c->l, &spec) != NT_OK) {
                nt_feed_spec_free(&spec);
                c->err = nt_errf(c->errstr, c->errstr_size, NT_ERR_NOMEM,
                                 "out of memory or too many feeds");
                XML_StopParser(c->parser, XML_FALSE);
        }
}

static void opml_end(void *data, const char *el)
{
        struct opml_ctx *c = data;

        if (strcmp(el, "outline") != 0 || c->depth == 0)
                return;
        c->depth--;
        free(c->folders[c->depth]);
        c->folders[c->depth] = NULL;
}

/* An OPML file has no business declaring entities: refuse them, which
 * also closes the door on entity expansion attacks. */
static void opml_entity(void *data, const XML_Char *name, int is_param,
                        const XML_Char *value, int value_len,
                        const XML_Char *base, const XML_Char *system_id,
                        const XML_Char *public_id, const XML_Char *notation)
{
        struct opml_ctx *c = data;

        (void)name;
        (void)is_param;
        (void)value;
        (void)value_len;
        (void)base;
        (void)system_id;
        (void)public_id;
        (void)notation;
        c->err = nt_errf(c->errstr, c->errstr_size, NT_ERR_PARSE,
                         "entity declarations are not allowed");
        XML_StopParser(c->parser, XML_FALSE);
}

int nt_feed_list_from_opml(struct nt_feed_list *l, const char *path,
                           int64_t default_interval_ms, char *errstr,
                           size_t errstr_size)
{
        struct opml_ctx c;
        char chunk[65536];
        size_t total = 0, n;
        int done = 0;
        FILE *f;

        memset(&c, 0, sizeof(c));
        c.l = l;
        c.interval_ms = default_interval_ms;
        c.errstr = errstr;
        c.errstr_size = errstr_size;
        f = fopen(path, "rb");
        if (!f)
                return nt_errf(errstr, errstr_size, NT_ERR_IO,
                               "%s: cannot open: %s", path, strerror(errno));
        c.parser = XML_ParserCreate(NULL);
        if (!c.parser) {
                fclose(f);
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory");
        }
        XML_SetUserData(c.parser, &c);
        XML_SetElementHandler(c.parser, opml_start, opml_end);
        XML_SetEntityDeclHandler(c.parser, opml_entity);
        XML_SetParamEntityParsing(c.parser, XML_PARAM_ENTITY_PARSING_NEVER);
        while (!done && !c.err) {
                n = fread(chunk, 1, sizeof(chunk), f);
                total += n;
                done = n < sizeof(chunk);
                if (total > OPML_MAX_BYTES) {
                        c.err = nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                                        "%s: larger than %zu bytes", path,
                                        OPML_MAX_BYTES);
                        break;
                }
                if (XML_Parse(c.parser, chunk, (int)n, done) ==
                        XML_STATUS_ERROR &&
                    !c.err)
                        c.err = nt_errf(
                            errstr, errstr_size, NT_ERR_PARSE, "%s:%lu:%lu: %s",
                            path,
                            (unsigned long)XML_GetCurrentLineNumber(c.parser),
                            (unsigned long)XML_GetCurrentColumnNumber(
                                c.parser) +
                                1,
                            XML_ErrorString(XML_GetErrorCode(c.parser)));
        }
        if (c.err == NT_ERR_PARSE &&
            strncmp(errstr ? errstr : "", path, strlen(path)) != 0) {
                char inner[512];
                snprintf(inner, sizeof(inner), "%s", errstr ? errstr : "");
                nt_errf(errstr, errstr_size, NT_ERR_PARSE, "%s: %s", path,
                        inner);
        }
        while (c.depth > 0)
                free(c.folders[--c.depth]);
        XML_ParserFree(c.parser);
        fclose(f);
        return c.err;
}

int nt_feed_list_from_config(struct nt_feed_list *l, const nt_config_t *cfg,
                             const char *const *opml, size_t n_opml,
                             char *errstr, size_t errstr_size)
{
        int64_t interval = nt_config_ms(cfg, "producer.interval");
        size_t i;
        int err;

        err = nt_feed_list_from_json(l, nt_config_array(cfg, "producer.feeds"),
                                     interval, errstr, errstr_size);
        for (i = 0; !err && i < n_opml; i++)
                err = nt_feed_list_from_opml(l, opml[i], interval, errstr,
                                             errstr_size);
        return err;
}

/* Resolves one string in place. */
static int resolve_in_place(char **s, char *errstr, size_t errstr_size)
{
        char *out;
        int err;

        if (!*s || !nt_secret_has_ref(*s))
                return NT_OK;
        err = nt_secret_resolve(*s, NULL, &out, errstr, errstr_size);
        if (err)
                return err;
        free(*s);
        *s = out;
        return NT_OK;
}

int nt_feed_list_resolve_secrets(struct nt_feed_list *l, char *errstr,
                                 size_t errstr_size)
{
        char reason[512];
        size_t i;
        char **h;
        int err;

        /* The URLs change: the index by URL is built again when next
         * needed. */
        nt_feed_list_reindex(l);
        for (i = 0; i < l->n; i++) {
                struct nt_feed_spec *f = &l->feeds[i];

                err = resolve_in_place(&f->url, reason, sizeof(reason));
                for (h = f->headers; !err && h && *h; h++)
                        err = resolve_in_place(h, reason, sizeof(reason));
                if (err)
                        return nt_errf(errstr, errstr_size, err, "feed %s: %s",
                                       f->name, reason);
        }
        return NT_OK;
}
