#include "consumer/enriched.h"
#include "common/article.h"
#include "common/buf.h"
#include "common/date.h"
#include "common/err.h"
#include "common/feed.h"
#include "common/json_in.h"
#include "common/json_out.h"
#include "common/num.h"
#include "common/utf8.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const map_names[] = {
    [NT_MAP_TITLE] = "title",         [NT_MAP_SUMMARY] = "summary",
    [NT_MAP_BODY] = "body",           [NT_MAP_URL] = "url",
    [NT_MAP_PUBLISHED] = "published", [NT_MAP_ID] = "id",
};
/* A field added to enum nt_enriched_map_field (before NT_MAP_COUNT)
 * without a name here fails the build instead of reading "?". */
_Static_assert(NT_COUNT_OF(map_names) == NT_MAP_COUNT,
               "a field of enum nt_enriched_map_field without a name");

const char *nt_enriched_map_name(enum nt_enriched_map_field f)
{
        return nt_name_of(map_names, NT_COUNT_OF(map_names), f, "?");
}

const char *nt_enriched_reason_name(enum nt_enriched_reason r)
{
        static const char *const names[] = {
            [NT_ENRICHED_OK] = "ok",
            [NT_ENRICHED_TOO_LARGE] = "too_large",
            [NT_ENRICHED_NOT_JSON] = "not_json",
            [NT_ENRICHED_NOT_ARTICLE] = "not_article",
            [NT_ENRICHED_UNCLASSIFIABLE] = "unclassifiable",
            [NT_ENRICHED_OUTPUT_REJECTED] = "output_rejected",
        };

        return nt_name_of(names, NT_COUNT_OF(names), r, "unknown");
}

void nt_enriched_opts_init(struct nt_enriched_opts *o)
{
        memset(o, 0, sizeof(*o));
        o->input = NT_ENRICHED_INPUT_ARTICLE;
        o->max_message = (size_t)1 << 20;
        o->classify = true;
        o->label_records = true;
}

int nt_enriched_opts_from_config(struct nt_enriched_opts *o,
                                 const nt_config_t *cfg, char *errstr,
                                 size_t errstr_size)
{
        const char *input = nt_config_str(cfg, "consumer.input");
        char key[64];
        size_t f;

        nt_enriched_opts_init(o);
        o->input = input && strcmp(input, "mapped") == 0
                       ? NT_ENRICHED_INPUT_MAPPED
                       : NT_ENRICHED_INPUT_ARTICLE;
        o->max_message = (size_t)nt_config_bytes(cfg, "consumer.max_message");
        o->classify = nt_config_bool(cfg, "consumer.classify");
        for (f = 0; f < NT_MAP_COUNT; f++) {
                const char *path;

                snprintf(key, sizeof(key), "consumer.map.%s", map_names[f]);
                path = nt_config_str(cfg, key);
                if (!path)
                        continue;
                if (strlen(path) >= sizeof(o->map[f]))
                        return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                                       "%s: path longer than %zu bytes", key,
                                       sizeof(o->map[f]) - 1);
                memcpy(o->map[f], path, strlen(path) + 1);
        }
        if (o->input == NT_ENRICHED_INPUT_MAPPED && !o->map[NT_MAP_TITLE][0] &&
            !o->map[NT_MAP_SUMMARY][0] && !o->map[NT_MAP_BODY][0])
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "consumer.input is \"mapped\" but none of "
                               "consumer.map.title, .summary, .body is set");
        return NT_OK;
}

void nt_enriched_event_init(struct nt_enriched_event *ev, size_t max_value)
{
        memset(ev, 0, sizeof(*ev));
        nt_buf_init(&ev->value, max_value);
        nt_buf_init(&ev->label_value, max_value);
}

void nt_enriched_event_free(struct nt_enriched_event *ev)
{
        if (!ev)
                return;
        nt_buf_free(&ev->value);
        nt_buf_free(&ev->label_value);
        free(ev->labels);
        free(ev->label_off);
        free(ev->label_len);
        ev->labels = NULL;
        ev->label_off = ev->label_len = NULL;
        ev->n_labels = ev->cap_labels = 0;
}

void nt_enriched_label(const struct nt_enriched_event *ev, size_t i,
                       const char **value, size_t *len)
{
        *value =
            ev->label_value.data ? ev->label_value.data + ev->label_off[i] : "";
        *len = ev->label_len[i];
}

static void refuse(struct nt_enriched_event *ev, enum nt_enriched_reason r,
                   const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void refuse(struct nt_enriched_event *ev, enum nt_enriched_reason r,
                   const char *fmt, ...)
{
        va_list ap;

        ev->reason = r;
        va_start(ap, fmt);
        vsnprintf(ev->error, sizeof(ev->error), fmt, ap);
        va_end(ap);
}

/* ---- mapped input ---------------------------------------------------- */

/* The value at a dot path: object members by name, array elements by
 * index ("items.0.title"). NULL when any step is missing. */
static const json_t *path_get(const json_t *root, const char *path)
{
        const json_t *node = root;
        const char *seg = path;
        char name[128];

        while (node && *seg) {
                const char *dot = strchr(seg, '.');
                size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
                int64_t idx;

                if (n >= sizeof(name))
                        return NULL;
                memcpy(name, seg, n);
                name[n] = '\0';
                if (json_is_object(node))
                        node = json_object_get(node, name);
                else if (json_is_array(node) &&
                         nt_num_parse_i64(name, 0, INT32_MAX, &idx) == NT_OK)
                        node = json_array_get(node, (size_t)idx);
                else
                        return NULL;
                seg = dot ? dot + 1 : seg + n;
        }
        return node;
}

static bool is_hex32(const char *s)
{
        size_t i;

        for (i = 0; i < 32; i++) {
                if (!((s[i] >= '0' && s[i] <= '9') ||
                      (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        }
        return s[32] == '\0';
}

/* A date as a string in any form the feed parser reads, or a number of
 * seconds (milliseconds when it is too large to be seconds) since the
 * epoch. */
static int mapped_date(const json_t *v, int64_t *out)
{
        double x;

        if (json_is_string(v))
                return nt_date_parse(json_string_value(v), out);
        if (!json_is_number(v))
                return NT_ERR_PARSE;
        x = json_number_value(v);
        if (x < 0 || x > 1e15)
                return NT_ERR_PARSE;
        /* 1e11 seconds is the year 5138; larger values are milliseconds. */
        *out = x < 1e11 ? (int64_t)(x * 1000) : (int64_t)x;
        return NT_OK;
}

/* Builds the article of someone else's JSON through the configured paths,
 * with the article model's rules for id and revision (the feed-entry path,
 * so that summary and body get the same HTML-to-text step). A given id is
 * kept when it is already 32 hex digits; any other id is hashed as a
 * guid; without an id, the url gives it. */
static int map_article(const struct nt_enriched_opts *o, const json_t *root,
                       int64_t now_ms, struct nt_article *art, char *errstr,
                       size_t errstr_size)
{
        const char *text[NT_MAP_COUNT] = {NULL};
        struct nt_feed_entry entry;
        struct nt_feed feed;
        char idbuf[32];
        int64_t published = NT_FEED_NO_DATE;
        size_t f;
        int rc;

        if (!json_is_object(root))
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "not a JSON object");
        for (f = 0; f < NT_MAP_COUNT; f++) {
                const json_t *v;

                if (!o->map[f][0])
                        continue;
                v = path_get(root, o->map[f]);
                if (!v || json_is_null(v))
                        continue;
                if (f == NT_MAP_PUBLISHED) {
                        if (mapped_date(v, &published) != NT_OK)
                                return nt_errf(
                                    errstr, errstr_size, NT_ERR_PARSE,
                                    "published (%s) is not a date", o->map[f]);
                } else if (json_is_string(v)) {
                        text[f] = json_string_value(v);
                } else if (f == NT_MAP_ID && json_is_integer(v)) {
                        snprintf(idbuf, sizeof(idbuf), "%" JSON_INTEGER_FORMAT,
                                 json_integer_value(v));
                        text[f] = idbuf;
                } else {
                        return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                                       "%s (%s) is not a string", map_names[f],
                                       o->map[f]);
                }
        }
        if (!text[NT_MAP_TITLE] && !text[NT_MAP_SUMMARY] && !text[NT_MAP_BODY])
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "no title, summary or body at the mapped "
                               "paths");
        memset(&entry, 0, sizeof(entry));
        entry.published = published;
        entry.updated = NT_FEED_NO_DATE;
        entry.title = (char *)text[NT_MAP_TITLE];
        entry.summary = (char *)text[NT_MAP_SUMMARY];
        entry.content = (char *)text[NT_MAP_BODY];
        if (text[NT_MAP_ID])
                entry.id = (char *)text[NT_MAP_ID];
        else
                entry.link = (char *)text[NT_MAP_URL];
        nt_feed_init(&feed);
        rc = nt_article_from_entry(&feed, &entry, NULL, now_ms, art, errstr,
                                   errstr_size);
        if (rc)
                return rc;
        if (text[NT_MAP_ID] && text[NT_MAP_URL] && !art->url) {
                art->url = strdup(text[NT_MAP_URL]);
                if (!art->url)
                        return NT_ERR_NOMEM;
        }
        if (text[NT_MAP_ID] && is_hex32(text[NT_MAP_ID]))
                memcpy(art->id, text[NT_MAP_ID], 33);
        return NT_OK;
}

/* ---- the classifier's view of an article ----------------------------- */

/* Where the first paragraph of a text ends: returns its length and sets
 * *rest to where the next one starts, or returns 0 when the text has one
 * paragraph only. A blank line separates paragraphs; failing that, a line
 * break. */
static size_t first_paragraph(const char *s, size_t len, size_t *rest)
{
        const char *br = memchr(s, '\n', len), *p = br;
        size_t end, next;

        while (p && (size_t)(p - s) + 1 < len && p[1] != '\n')
                p = memchr(p + 1, '\n', len - (size_t)(p + 1 - s));
        if (p && (size_t)(p - s) + 1 < len)
                br = p; /* a blank line */
        if (!br)
                return 0;
        end = (size_t)(br - s);
        next = end;
        while (next < len && (s[next] == '\n' || s[next] == '\r'))
                next++;
        if (end == 0 || next >= len)
                return 0;
        *rest = next;
        return end;
}

/* Title, lead and body of an article; *body_shift is where the body starts
 * in the content (not 0 when the first paragraph became the lead). */
static void text_fields(const struct nt_article *art, struct nt_text_fields *in,
                        size_t *body_shift)
{
        size_t clen = art->content ? strlen(art->content) : 0;
        size_t lead = 0, rest = 0;

        memset(in, 0, sizeof(*in));
        *body_shift = 0;
        if (art->title) {
                in->text[NT_FIELD_TITLE] = art->title;
                in->len[NT_FIELD_TITLE] = strlen(art->title);
        }
        if (art->summary && *art->summary) {
                in->text[NT_FIELD_LEAD] = art->summary;
                in->len[NT_FIELD_LEAD] = strlen(art->summary);
        } else if (clen) {
                lead = first_paragraph(art->content, clen, &rest);
        }
        if (lead) {
                in->text[NT_FIELD_LEAD] = art->content;
                in->len[NT_FIELD_LEAD] = lead;
                *body_shift = rest;
        }
        if (clen > *body_shift) {
                in->text[NT_FIELD_BODY] = art->content + *body_shift;
                in->len[NT_FIELD_BODY] = clen - *body_shift;
        }
}

/* ---- the event's text --------------------------------------------- */

/* Appends s[0..n) as a JSON string, escaped as jansson escapes it. Text
 * that is not valid UTF-8 becomes "", as in the classifier's own JSON
 * result (a fact's span may cover broken bytes between its words). */
static int put_str(struct nt_buf *b, const char *s, size_t n)
{
        int err;

        if (!nt_utf8_valid((const unsigned char *)s, n))
                return nt_buf_append(b, "\"\"", 2);
        err = nt_buf_append_char(b, '"');
        if (!err)
                err = nt_json_out_append_escaped(b, s, n);
        return err ? err : nt_buf_append_char(b, '"');
}

static int put_cstr(struct nt_buf *b, const char *s)
{
        return put_str(b, s, strlen(s));
}

/* A number as the classifier's JSON writes it: an integer when it is
 * one, else jansson's real format. */
static int put_num(struct nt_buf *b, double v)
{
        char num[32];
        json_t *j;
        char *text;
        int err;

        if (v > -9e15 && v < 9e15 && v == (double)(long long)v) {
                snprintf(num, sizeof(num), "%lld", (long long)v);
                return nt_buf_append_str(b, num);
        }
        j = json_real(v);
        text = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        err = text ? nt_buf_append_str(b, text) : NT_ERR_NOMEM;
        free(text);
        json_decref(j);
        return err;
}

/* prefix and v in decimal (without snprintf: a few are written for
 * every span). */
static int put_uint(struct nt_buf *b, const char *prefix, uint64_t v)
{
        char num[24];
        size_t n = sizeof(num);
        int err;

        do {
                num[--n] = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        err = nt_buf_append_str(b, prefix);
        return err ? err : nt_buf_append(b, num + n, sizeof(num) - n);
}

static int add_label(struct nt_enriched_event *ev, const char *id)
{
        if (ev->n_labels == ev->cap_labels) {
                /* Three arrays in step: the shared capacity moves once
                 * all three have grown. */
                size_t cap = ev->cap_labels, cap_off = cap, cap_len = cap;

                if (nt_array_grow(&ev->labels, &cap, ev->n_labels + 1,
                                  sizeof(*ev->labels)) ||
                    nt_array_grow(&ev->label_off, &cap_off, ev->n_labels + 1,
                                  sizeof(*ev->label_off)) ||
                    nt_array_grow(&ev->label_len, &cap_len, ev->n_labels + 1,
                                  sizeof(*ev->label_len)))
                        return NT_ERR_NOMEM;
                ev->cap_labels = cap;
        }
        ev->label_off[ev->n_labels] = ev->label_len[ev->n_labels] = 0;
        ev->labels[ev->n_labels++] = id;
        return NT_OK;
}

/* The best NT_ENRICHED_MAX_EVIDENCE spans of a label, as indexes into its
 * evidence in text order: a span of a term not kept yet at a place not
 * kept yet, before another occurrence of a kept term, before a second
 * term at a kept place; then one in a field the topic weighs more; then
 * the earliest. So the few spans kept say as many different reasons as
 * there are, and the first in a title when the title weighs most, as
 * `tail` highlights the first. Returns how many. */
static size_t best_evidence(const struct nt_rules_topic *rt,
                            const struct nt_match_topic *tp,
                            size_t pick[NT_ENRICHED_MAX_EVIDENCE])
{
        size_t n = 0, k, j;

        if (tp->n_ev <= NT_ENRICHED_MAX_EVIDENCE) {
                for (k = 0; k < tp->n_ev; k++)
                        pick[k] = k;
                return tp->n_ev;
        }
        while (n < NT_ENRICHED_MAX_EVIDENCE) {
                size_t best = tp->n_ev;
                int best_new = -1;
                double best_w = 0;

                for (k = 0; k < tp->n_ev; k++) {
                        const struct nt_match_evidence *e = &tp->ev[k];
                        bool taken = false, new_term = true, new_place = true;
                        double w = rt->weight[e->field];
                        int novelty;

                        for (j = 0; j < n; j++) {
                                const struct nt_match_evidence *p =
                                    &tp->ev[pick[j]];

                                taken = taken || pick[j] == k;
                                new_term = new_term && p->term != e->term;
                                new_place =
                                    new_place && !(p->field == e->field &&
                                                   p->start == e->start);
                        }
                        if (taken)
                                continue;
                        novelty = new_place ? 1 + new_term : 0;
                        if (novelty > best_new ||
                            (novelty == best_new && w > best_w)) {
                                best = k;
                                best_new = novelty;
                                best_w = w;
                        }
                }
                pick[n++] = best;
        }
        /* Back to text order (the evidence is sorted by field, start). */
        for (k = 1; k < n; k++)
                for (j = k; j > 0 && pick[j - 1] > pick[j]; j--) {
                        size_t t = pick[j];

                        pick[j] = pick[j - 1];
                        pick[j - 1] = t;
                }
        return n;
}

static bool utf8_cont(char c)
{
        return ((unsigned char)c & 0xC0) == 0x80;
}

/* Where the text `chars` characters before pos starts (or 0). */
static size_t chars_back(const char *s, size_t pos, size_t chars)
{
        while (chars-- > 0 && pos > 0) {
                pos--;
                while (pos > 0 && utf8_cont(s[pos]))
                        pos--;
        }
        return pos;
}

/* Where the text `chars` characters after pos ends (or len). */
static size_t chars_fwd(const char *s, size_t len, size_t pos, size_t chars)
{
        while (chars-- > 0 && pos < len) {
                pos++;
                while (pos < len && utf8_cont(s[pos]))
                        pos++;
        }
        return pos;
}

#define PUT(call)                        \
        do {                             \
                if ((err = (call)) != 0) \
                        return err;      \
        } while (0)

/* How much of a label is written. */
enum label_form {
        LABEL_BRIEF = 0,   /* topic, label, score */
        LABEL_EVENT = 1,   /* and its best evidence */
        LABEL_CONTEXT = 2, /* and each span's text around it */
};

/* One label. Body evidence offsets move by body_shift, into the
 * article's content. */
static int put_label(struct nt_buf *b, const struct nt_rules *r,
                     const struct nt_match_topic *tp,
                     const struct nt_text_fields *in, size_t body_shift,
                     enum label_form form)
{
        const struct nt_rules_topic *rt = &r->topics[tp->topic];
        size_t pick[NT_ENRICHED_MAX_EVIDENCE], n, k;
        int err;

        PUT(nt_buf_append_str(b, "{\"topic\":"));
        PUT(put_cstr(b, rt->id));
        PUT(nt_buf_append_str(b, ",\"label\":"));
        PUT(put_cstr(b, rt->label));
        PUT(nt_buf_append_str(b, ",\"score\":"));
        PUT(put_num(b, tp->score));
        if (form == LABEL_BRIEF)
                return nt_buf_append_char(b, '}');
        PUT(put_uint(b, ",\"evidence_total\":", tp->n_ev));
        PUT(nt_buf_append_str(b, ",\"evidence\":["));
        n = best_evidence(rt, tp, pick);
        for (k = 0; k < n; k++) {
                const struct nt_match_evidence *e = &tp->ev[pick[k]];
                const char *text = in->text[e->field];
                size_t shift = e->field == NT_FIELD_BODY ? body_shift : 0;

                PUT(nt_buf_append_str(b, k ? ",{\"field\":" : "{\"field\":"));
                PUT(put_cstr(b, nt_field_name(e->field)));
                PUT(put_uint(b, ",\"start\":", e->start + shift));
                PUT(put_uint(b, ",\"end\":", e->end + shift));
                PUT(nt_buf_append_str(b, ",\"text\":"));
                PUT(put_str(b, text + e->start, e->end - e->start));
                PUT(nt_buf_append_str(b, ",\"rule\":"));
                PUT(put_cstr(b, r->terms[e->term].rule));
                if (form == LABEL_CONTEXT) {
                        size_t a =
                            chars_back(text, e->start, NT_ENRICHED_CONTEXT);
                        size_t z = chars_fwd(text, in->len[e->field], e->end,
                                             NT_ENRICHED_CONTEXT);

                        PUT(nt_buf_append_str(b, ",\"before\":"));
                        PUT(put_str(b, text + a, e->start - a));
                        PUT(nt_buf_append_str(b, ",\"after\":"));
                        PUT(put_str(b, text + e->end, z - e->end));
                }
                PUT(nt_buf_append_char(b, '}'));
        }
        return nt_buf_append_str(b, "]}");
}

/* "labels": every label of the article; `own` (a topic index, or
 * SIZE_MAX in the event) is written with context, the others brief. With
 * `ev`, records the labels' topic ids in it. */
static int put_labels(struct nt_buf *b, const struct nt_rules *r,
                      const struct nt_match_result *mr,
                      const struct nt_text_fields *in, size_t body_shift,
                      size_t own, struct nt_enriched_event *ev)
{
        bool first = true;
        size_t i;
        int err;

        PUT(nt_buf_append_str(b, ",\"labels\":["));
        for (i = 0; i < mr->n_topics; i++) {
                const struct nt_match_topic *tp = &mr->topics[i];
                enum label_form form = LABEL_EVENT;

                if (!tp->labelled)
                        continue;
                if (ev)
                        PUT(add_label(ev, r->topics[tp->topic].id));
                if (own != SIZE_MAX)
                        form = i == own ? LABEL_CONTEXT : LABEL_BRIEF;
                if (!first)
                        PUT(nt_buf_append_char(b, ','));
                first = false;
                PUT(put_label(b, r, tp, in, body_shift, form));
        }
        return nt_buf_append_char(b, ']');
}

static int put_entities(struct nt_buf *b, const struct nt_rules *r,
                        const struct nt_match_result *mr)
{
        size_t i;
        int err;

        PUT(nt_buf_append_str(b, ",\"entities\":["));
        for (i = 0; i < mr->n_entities; i++) {
                const struct nt_rules_entity *en =
                    &r->entities[mr->entities[i].entity];

                PUT(nt_buf_append_str(b, i ? ",{\"name\":" : "{\"name\":"));
                PUT(put_cstr(b, en->name));
                PUT(nt_buf_append_str(b, ",\"type\":"));
                PUT(put_cstr(b, nt_entity_type_name(en->type)));
                PUT(put_uint(b, ",\"count\":", mr->entities[i].count));
                PUT(nt_buf_append_char(b, '}'));
        }
        return nt_buf_append_char(b, ']');
}

/* Language, fingerprint and rules version. */
static int put_identity(struct nt_buf *b, const struct nt_rules *r,
                        const struct nt_classifier_result *res)
{
        char fp[48];
        int err;

        PUT(nt_buf_append_str(b, ",\"language\":"));
        PUT(put_cstr(b, nt_lang_name(res->language)));
        snprintf(fp, sizeof(fp), ",\"fingerprint\":\"%016llx\"",
                 (unsigned long long)res->fingerprint);
        PUT(nt_buf_append_str(b, fp));
        PUT(nt_buf_append_str(b, ",\"rules_version\":"));
        return put_cstr(b, r->version);
}

/* Where the event's entities and its language, fingerprint and rules
 * version were written: the label records copy those bytes. */
struct shared_text {
        size_t entities_at, entities_len;
        size_t identity_at, identity_len;
};

/* The classification members of the event, written straight from the
 * classifier's C result: the same members and values as
 * nt_classifier_run() gives (a unit test compares the two) but for the
 * evidence, which keeps the best spans and counts them all, and without
 * building and dumping a JSON tree for each article. Records the labels'
 * topic ids in ev. */
static int put_result(struct nt_buf *b, nt_classifier_t *c,
                      const struct nt_classifier_result *res,
                      const struct nt_text_fields *in, size_t body_shift,
                      struct nt_enriched_event *ev, struct shared_text *sh)
{
        const struct nt_rules *r = nt_match_rules(nt_classifier_matcher(c));
        size_t i;
        int err;

        PUT(put_labels(b, r, &res->match, in, body_shift, SIZE_MAX, ev));
        sh->entities_at = b->len;
        PUT(put_entities(b, r, &res->match));
        sh->entities_len = b->len - sh->entities_at;
        PUT(nt_buf_append_str(b, ",\"facts\":["));
        for (i = 0; i < res->n_facts; i++) {
                const struct nt_fact *f = &res->facts[i];

                PUT(nt_buf_append_str(b, i ? ",{\"type\":" : "{\"type\":"));
                PUT(put_cstr(b, nt_fact_type_name(f->type)));
                PUT(nt_buf_append_str(b, ",\"value\":"));
                PUT(put_num(b, f->value));
                PUT(nt_buf_append_str(b, ",\"unit\":"));
                PUT(put_cstr(b, f->unit));
                PUT(nt_buf_append_str(b, ",\"text\":"));
                PUT(put_str(b, in->text[f->field] + f->start,
                            f->end - f->start));
                PUT(nt_buf_append_str(b, ",\"field\":"));
                PUT(put_cstr(b, nt_field_name(f->field)));
                PUT(nt_buf_append_char(b, '}'));
        }
        PUT(nt_buf_append_char(b, ']'));
        sh->identity_at = b->len;
        PUT(put_identity(b, r, res));
        sh->identity_len = b->len - sh->identity_at;
        return NT_OK;
}

/* A member with a string or null value, after a comma unless first. */
static int put_member(struct nt_buf *b, const char *name, const char *s,
                      bool first)
{
        int err;

        if (!first)
                PUT(nt_buf_append_char(b, ','));
        PUT(nt_buf_append_char(b, '"'));
        PUT(nt_buf_append_str(b, name));
        PUT(nt_buf_append_str(b, "\":"));
        return s ? put_cstr(b, s) : nt_buf_append_str(b, "null");
}

/* The lead as a label record carries it: at most NT_ENRICHED_LEAD_MAX
 * bytes, cut after a whole word (or character) and ending in "…". */
static int put_lead(struct nt_buf *b, const struct nt_text_fields *in)
{
        const char *s = in->text[NT_FIELD_LEAD];
        size_t len = in->len[NT_FIELD_LEAD], n, k;
        char cut[NT_ENRICHED_LEAD_MAX + 4];

        if (!s)
                return nt_buf_append_str(b, "null");
        if (len <= NT_ENRICHED_LEAD_MAX)
                return put_str(b, s, len);
        n = NT_ENRICHED_LEAD_MAX;
        while (n > 0 && utf8_cont(s[n]))
                n--;
        for (k = n; k > NT_ENRICHED_LEAD_MAX / 2; k--)
                if (s[k] == ' ' || s[k] == '\n') {
                        n = k;
                        break;
                }
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\n'))
                n--;
        memcpy(cut, s, n);
        memcpy(cut + n, "\xE2\x80\xA6", 3);
        return put_str(b, cut, n + 3);
}

/* The label records: one per label, one after another in
 * ev->label_value. */
static int write_label_records(struct nt_enriched_event *ev, nt_classifier_t *c,
                               const struct nt_article *art,
                               const struct nt_classifier_result *res,
                               const struct nt_text_fields *in,
                               size_t body_shift, const struct shared_text *sh)
{
        static const char head[] =
            "{\"schema\":\"" NT_ENRICHED_LABEL_SCHEMA "\",\"topic\":";
        const struct nt_rules *r = nt_match_rules(nt_classifier_matcher(c));
        const struct nt_match_result *mr = &res->match;
        struct nt_buf *b = &ev->label_value;
        char published[32];
        size_t i, n = 0;
        int err;

        nt_buf_reset(b);
        if (ev->n_labels == 0)
                return NT_OK;
        if (art->published != NT_FEED_NO_DATE)
                nt_date_format(art->published, published, sizeof(published));
        for (i = 0; i < mr->n_topics; i++) {
                const struct nt_match_topic *tp = &mr->topics[i];

                if (!tp->labelled)
                        continue;
                ev->label_off[n] = b->len;
                PUT(nt_buf_append(b, head, sizeof(head) - 1));
                PUT(put_cstr(b, r->topics[tp->topic].id));
                PUT(nt_buf_append_str(b, ",\"article\":{"));
                PUT(put_member(b, "id", art->id, true));
                PUT(put_member(b, "revision", art->revision, false));
                PUT(put_member(b, "url", art->url, false));
                PUT(put_member(b, "title", art->title, false));
                PUT(put_member(b, "published",
                               art->published != NT_FEED_NO_DATE ? published
                                                                 : NULL,
                               false));
                PUT(put_member(b, "language", art->language, false));
                PUT(nt_buf_append_str(b, ",\"feed\":{"));
                PUT(put_member(b, "url", art->feed_url, true));
                PUT(put_member(b, "title", art->feed_title, false));
                PUT(nt_buf_append_str(b, "},\"lead\":"));
                PUT(put_lead(b, in));
                PUT(nt_buf_append_char(b, '}'));
                PUT(put_labels(b, r, mr, in, body_shift, i, NULL));
                PUT(nt_buf_append(b, ev->value.data + sh->entities_at,
                                  sh->entities_len));
                PUT(nt_buf_append(b, ev->value.data + sh->identity_at,
                                  sh->identity_len));
                PUT(nt_buf_append_str(b, ",\"classified_at\":\""));
                PUT(nt_buf_append_str(b, ev->classified_at));
                PUT(nt_buf_append(b, "\"}", 2));
                ev->label_len[n] = b->len - ev->label_off[n];
                n++;
        }
        return NT_OK;
}

/* The event: the head, the article's bytes, the classification (or the
 * empty members when it is switched off), the time. */
static int write_value(struct nt_enriched_event *ev, nt_classifier_t *c,
                       const char *article, size_t len,
                       const struct nt_classifier_result *res,
                       const struct nt_text_fields *in, size_t body_shift,
                       struct shared_text *sh)
{
        static const char head[] =
            "{\"schema\":\"" NT_ENRICHED_SCHEMA "\",\"article\":";
        static const char unclassified[] =
            ",\"labels\":[],\"entities\":[],\"facts\":[],\"language\":null,"
            "\"fingerprint\":null,\"rules_version\":null";
        struct nt_buf *b = &ev->value;
        int err;

        nt_buf_reset(b);
        PUT(nt_buf_append(b, head, sizeof(head) - 1));
        PUT(nt_buf_append(b, article, len));
        if (res)
                PUT(put_result(b, c, res, in, body_shift, ev, sh));
        else
                PUT(nt_buf_append(b, unclassified, sizeof(unclassified) - 1));
        PUT(nt_buf_append_str(b, ",\"classified_at\":\""));
        PUT(nt_buf_append_str(b, ev->classified_at));
        return nt_buf_append(b, "\"}", 2);
}

#undef PUT

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int nt_enriched_build(nt_classifier_t *c, const struct nt_enriched_opts *o,
                      const char *value, size_t len, int64_t now_ms,
                      struct nt_enriched_event *ev)
{
        struct nt_classifier_result res;
        struct nt_text_fields in;
        struct shared_text sh = {0, 0, 0, 0};
        struct nt_article art;
        json_error_t jerr;
        json_t *root = NULL;
        char *line = NULL, msg[256];
        const char *bytes = value;
        size_t blen = len, shift;
        int rc = NT_OK, err;

        nt_article_init(&art);
        ev->reason = NT_ENRICHED_OK;
        ev->error[0] = '\0';
        ev->id[0] = '\0';
        ev->n_labels = 0;
        nt_buf_reset(&ev->value);
        nt_buf_reset(&ev->label_value);
        nt_date_format(now_ms, ev->classified_at, sizeof(ev->classified_at));
        if (len > o->max_message) {
                refuse(ev, NT_ENRICHED_TOO_LARGE,
                       "%zu bytes, more than consumer.max_message (%zu)", len,
                       o->max_message);
                goto out;
        }
        root = nt_json_in_load(value ? value : "", len, &jerr);
        if (!root) {
                refuse(ev, NT_ENRICHED_NOT_JSON, "line %d column %d: %s",
                       jerr.line, jerr.column, jerr.text);
                goto out;
        }
        if (o->input == NT_ENRICHED_INPUT_ARTICLE)
                err = nt_article_from_json(root, &art, msg, sizeof(msg));
        else
                err = map_article(o, root, now_ms, &art, msg, sizeof(msg));
        if (err == NT_ERR_NOMEM) {
                rc = err;
                goto out;
        }
        if (err) {
                refuse(ev, NT_ENRICHED_NOT_ARTICLE, "%s", msg);
                goto out;
        }
        if (o->input == NT_ENRICHED_INPUT_MAPPED) {
                line = nt_article_to_json_line(&art);
                if (!line) {
                        rc = NT_ERR_NOMEM;
                        goto out;
                }
                bytes = line;
                blen = strlen(line);
        } else {
                /* jansson accepted the bytes as one object, so trimming the
                 * white space around it leaves exactly that object. */
                while (blen && is_space(bytes[0])) {
                        bytes++;
                        blen--;
                }
                while (blen && is_space(bytes[blen - 1]))
                        blen--;
        }
        memcpy(ev->id, art.id, sizeof(ev->id));
        text_fields(&art, &in, &shift);
        if (o->classify) {
                err = nt_classifier_match(c, &in, &res, msg, sizeof(msg));
                if (err == NT_ERR_NOMEM) {
                        rc = err;
                        goto out;
                }
                if (err) {
                        refuse(ev, NT_ENRICHED_UNCLASSIFIABLE, "%s", msg);
                        goto out;
                }
        }
        err = write_value(ev, c, bytes, blen, o->classify ? &res : NULL, &in,
                          shift, &sh);
        if (!err && o->classify && o->label_records)
                err = write_label_records(ev, c, &art, &res, &in, shift, &sh);
        if (err == NT_ERR_LIMIT)
                refuse(ev, NT_ENRICHED_TOO_LARGE,
                       "the event would be larger than %zu bytes",
                       ev->value.max);
        else if (err)
                rc = err;
out:
        if (ev->reason != NT_ENRICHED_OK || rc) {
                nt_buf_reset(&ev->value);
                nt_buf_reset(&ev->label_value);
                ev->n_labels = 0;
        }
        json_decref(root);
        free(line);
        nt_article_free(&art);
        return rc;
}

void nt_enriched_ce_id(const struct nt_enriched_origin *origin, char *buf,
                       size_t size)
{
        snprintf(buf, size, "%s/%d/%lld", origin->topic ? origin->topic : "",
                 (int)origin->partition, (long long)origin->offset);
}

rd_kafka_headers_t *nt_enriched_headers(const struct nt_enriched_event *ev,
                                        const char *source,
                                        const struct nt_enriched_origin *origin)
{
        rd_kafka_headers_t *hdrs = rd_kafka_headers_new(8);
        char ce_id[320];

        if (!hdrs)
                return NULL;
        nt_enriched_ce_id(origin, ce_id, sizeof(ce_id));
        rd_kafka_header_add(hdrs, "content-type", -1, NT_ENRICHED_CONTENT_TYPE,
                            -1);
        rd_kafka_header_add(hdrs, "ce_specversion", -1, "1.0", -1);
        rd_kafka_header_add(hdrs, "ce_id", -1, ce_id, -1);
        rd_kafka_header_add(hdrs, "ce_source", -1,
                            source ? source : NT_ENRICHED_CE_SOURCE, -1);
        rd_kafka_header_add(hdrs, "ce_type", -1, NT_ENRICHED_CE_TYPE, -1);
        rd_kafka_header_add(hdrs, "ce_time", -1, ev->classified_at, -1);
        rd_kafka_header_add(hdrs, "ce_subject", -1, ev->id, -1);
        return hdrs;
}

rd_kafka_headers_t *
nt_enriched_dlq_headers(enum nt_enriched_reason reason, const char *message,
                        const struct nt_enriched_origin *origin, size_t size,
                        bool truncated)
{
        rd_kafka_headers_t *hdrs = rd_kafka_headers_new(8);
        char num[32];

        if (!hdrs)
                return NULL;
        rd_kafka_header_add(hdrs, "nt_error", -1,
                            nt_enriched_reason_name(reason), -1);
        rd_kafka_header_add(hdrs, "nt_error_message", -1,
                            message ? message : "", -1);
        rd_kafka_header_add(hdrs, "nt_origin_topic", -1,
                            origin->topic ? origin->topic : "", -1);
        snprintf(num, sizeof(num), "%d", (int)origin->partition);
        rd_kafka_header_add(hdrs, "nt_origin_partition", -1, num, -1);
        snprintf(num, sizeof(num), "%lld", (long long)origin->offset);
        rd_kafka_header_add(hdrs, "nt_origin_offset", -1, num, -1);
        snprintf(num, sizeof(num), "%zu", size);
        rd_kafka_header_add(hdrs, "nt_origin_size", -1, num, -1);
        if (truncated)
                rd_kafka_header_add(hdrs, "nt_truncated", -1, "true", -1);
        return hdrs;
}
