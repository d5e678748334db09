/* JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) into the feed
 * model. The document is loaded whole with jansson: its size is bounded
 * by the document limit before it gets here, and jansson bounds nesting.
 * Values of the wrong JSON type are ignored rather than fatal, as feeds
 * in the wild mix numbers and strings (ids, sizes). */
#include "common/feed_json.h"
#include "common/err.h"
#include "common/feed.h"
#include "common/url.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jstate {
        struct nt_feed *feed;
        const char *base;
        unsigned *cuts; /* the entry being read, or NULL */
        bool oom;
};

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
               c == '\v';
}

/* A copy of a string member, trimmed, cut at the field limit (the cut
 * recorded as an error); NULL when missing, not a string or empty. */
static char *member_str(struct jstate *js, const json_t *obj, const char *key)
{
        const json_t *v = json_object_get(obj, key);
        size_t n, max = js->feed->limits.max_field;
        const char *s;
        char *out;

        if (!json_is_string(v))
                return NULL;
        s = json_string_value(v);
        n = json_string_length(v);
        while (n && is_space(*s)) {
                s++;
                n--;
        }
        while (n && is_space(s[n - 1]))
                n--;
        if (!n)
                return NULL;
        if (n > max) {
                /* Cut before the character that straddles the limit. */
                n = max;
                while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
                        n--;
                nt_feed_add_error(js->feed, 0, 0, NT_FEED_CUT_FIELD,
                                  "%s longer than %zu bytes: truncated", key,
                                  max);
                if (js->cuts)
                        *js->cuts |= NT_FEED_CUT_FIELD;
        }
        /* jansson allows NUL inside strings; a C string ends there. */
        out = malloc(n + 1);
        if (!out) {
                js->oom = true;
                return NULL;
        }
        memcpy(out, s, n);
        out[n] = '\0';
        return out;
}

/* A string or a number member as text (JSON Feed 1.0 ids may be
 * numbers). */
static char *member_text(struct jstate *js, const json_t *obj, const char *key)
{
        const json_t *v = json_object_get(obj, key);
        char buf[64];
        char *out;

        if (json_is_integer(v))
                snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(v));
        else if (json_is_real(v))
                snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
        else
                return member_str(js, obj, key);
        out = strdup(buf);
        if (!out)
                js->oom = true;
        return out;
}

/* A URL member resolved against the document's base. */
static char *member_url(struct jstate *js, const json_t *obj, const char *key)
{
        char *raw = member_str(js, obj, key), *url;

        if (!raw)
                return NULL;
        /* A blank member is no URL, not an error. */
        if (nt_url_resolve(js->base, raw, &url))
                js->oom = true;
        free(raw);
        return url;
}

static void check(struct jstate *js, int rc)
{
        if (rc == NT_ERR_NOMEM)
                js->oom = true;
}

/* JSON Feed 1.1 "authors" (a list), else 1.0 "author" (one object). */
static void read_authors(struct jstate *js, const json_t *obj,
                         struct nt_feed_entry *e)
{
        const json_t *list = json_object_get(obj, "authors"), *a;
        size_t i, n = 1;

        if (!json_is_array(list) || json_array_size(list) == 0) {
                list = NULL;
                if (!json_is_object(json_object_get(obj, "author")))
                        return;
        } else {
                n = json_array_size(list);
        }
        for (i = 0; i < n && !js->oom; i++) {
                a = list ? json_array_get(list, i)
                         : json_object_get(obj, "author");
                if (!json_is_object(a))
                        continue;
                check(js,
                      nt_feed_add_person(js->feed, e, member_str(js, a, "name"),
                                         NULL, member_url(js, a, "url")));
        }
}

static void read_item(struct jstate *js, const json_t *item)
{
        struct nt_feed_entry e;
        const json_t *tags, *atts, *x;
        char *v, *length;
        size_t i;

        nt_feed_entry_init(&e);
        js->cuts = &e.cuts;
        e.id = member_text(js, item, "id");
        e.title = member_str(js, item, "title");
        e.link = member_url(js, item, "url");
        /* A link-blog item may only point elsewhere. */
        if (!e.link)
                e.link = member_url(js, item, "external_url");
        e.content = member_str(js, item, "content_html");
        if (!e.content) {
                v = member_str(js, item, "content_text");
                if (v) {
                        e.content = nt_feed_escape_html(v, strlen(v));
                        if (!e.content)
                                js->oom = true;
                        free(v);
                }
        }
        /* The summary is plain text in JSON Feed; the model holds HTML. */
        v = member_str(js, item, "summary");
        if (v) {
                e.summary = nt_feed_escape_html(v, strlen(v));
                if (!e.summary)
                        js->oom = true;
                free(v);
        }
        v = member_str(js, item, "date_published");
        check(js, nt_feed_set_date(&e.published, &e.published_raw, v));
        free(v);
        v = member_str(js, item, "date_modified");
        check(js, nt_feed_set_date(&e.updated, &e.updated_raw, v));
        free(v);
        e.language = member_str(js, item, "language");
        read_authors(js, item, &e);
        tags = json_object_get(item, "tags");
        for (i = 0; json_is_array(tags) && i < json_array_size(tags); i++) {
                x = json_array_get(tags, i);
                if (!json_is_string(x) || !json_string_length(x))
                        continue;
                v = strdup(json_string_value(x));
                if (!v)
                        js->oom = true;
                else
                        check(js, nt_feed_add_category(js->feed, &e, v));
        }
        atts = json_object_get(item, "attachments");
        for (i = 0; json_is_array(atts) && i < json_array_size(atts); i++) {
                x = json_array_get(atts, i);
                if (!json_is_object(x))
                        continue;
                v = member_url(js, x, "url");
                if (!v)
                        continue;
                length = member_text(js, x, "size_in_bytes");
                check(js,
                      nt_feed_add_enclosure(js->feed, &e, v, length,
                                            member_str(js, x, "mime_type")));
        }
        /* The item's main image (JSON Feed 1.1 "image"). */
        v = member_url(js, item, "image");
        if (v)
                nt_feed_offer_image(&e, NT_FEED_IMAGE_CONTENT, v, NULL, NULL,
                                    NULL);
        js->cuts = NULL;
        check(js, nt_feed_commit_entry(js->feed, &e));
        nt_feed_entry_free(&e);
}

/* The version from its URL; NT_FEED_UNKNOWN when this is not a JSON
 * Feed at all. A missing or unknown version with an item list is read as
 * the newest version. */
static enum nt_feed_format version_of(const json_t *root)
{
        const char *v = json_string_value(json_object_get(root, "version"));

        if (v &&
            (strstr(v, "jsonfeed.org/version/1.1") || strcmp(v, "1.1") == 0))
                return NT_FEED_JSONFEED11;
        if (v && (strstr(v, "jsonfeed.org/version/1") || strcmp(v, "1") == 0 ||
                  strcmp(v, "1.0") == 0))
                return NT_FEED_JSONFEED10;
        if (json_is_array(json_object_get(root, "items")))
                return NT_FEED_JSONFEED11;
        return NT_FEED_UNKNOWN;
}

int nt_feed_json_parse(struct nt_feed *feed, const char *utf8, size_t len,
                       const char *base_url, char *errstr, size_t errstr_size)
{
        struct jstate js = {feed, base_url, NULL, false};
        const json_t *items;
        json_error_t jerr;
        json_t *root;
        size_t i;
        int rc = NT_OK;

        root = json_loadb(utf8, len, 0, &jerr);
        if (!root) {
                nt_feed_add_error(feed, (unsigned long)jerr.line,
                                  (unsigned long)jerr.column, false, "%s",
                                  jerr.text);
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "not a JSON Feed: line %d column %d: %s",
                               jerr.line, jerr.column, jerr.text);
        }
        feed->format =
            json_is_object(root) ? version_of(root) : NT_FEED_UNKNOWN;
        if (feed->format == NT_FEED_UNKNOWN) {
                rc = nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                             "not a feed: JSON without a JSON Feed version "
                             "or items");
                goto out;
        }
        feed->title = member_str(&js, root, "title");
        feed->link = member_url(&js, root, "home_page_url");
        feed->subtitle = member_str(&js, root, "description");
        if (feed->subtitle) {
                char *html =
                    nt_feed_escape_html(feed->subtitle, strlen(feed->subtitle));

                nt_feed_set(&feed->subtitle, html);
                if (!html)
                        js.oom = true;
        }
        feed->language = member_str(&js, root, "language");
        read_authors(&js, root, NULL);
        items = json_object_get(root, "items");
        for (i = 0;
             json_is_array(items) && i < json_array_size(items) && !js.oom;
             i++) {
                if (!json_is_object(json_array_get(items, i)))
                        continue;
                if (nt_feed_entries_full(feed)) {
                        nt_feed_add_error(feed, 0, 0, NT_FEED_CUT_ENTRIES,
                                          "more than %zu entries: the rest "
                                          "are ignored",
                                          feed->limits.max_entries);
                        break;
                }
                read_item(&js, json_array_get(items, i));
        }
        if (js.oom)
                rc =
                    nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
out:
        json_decref(root);
        return rc;
}
