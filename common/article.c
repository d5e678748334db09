/* The article model: a feed entry made self-contained (plain text, the
 * feed it came from, when it was fetched) with its identity, and its JSON
 * both ways. The identity rules are in article.h, because consumers and
 * operators reason about them. */
#include "common/article.h"
#include "common/buf.h"
#include "common/date.h"
#include "common/err.h"
#include "common/feed.h"
#include "common/html.h"
#include "common/json_out.h"
#include "common/num.h"
#include "common/url.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* XXH3's streaming state on the stack (no allocation per article); the
 * header and the library come from one package, so its layout is the
 * library's. */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

void nt_article_init(struct nt_article *art)
{
        memset(art, 0, sizeof(*art));
        art->published = NT_FEED_NO_DATE;
        art->updated = NT_FEED_NO_DATE;
        art->fetched = NT_FEED_NO_DATE;
}

void nt_article_free(struct nt_article *art)
{
        if (!art)
                return;
        free(art->feed_url);
        free(art->feed_title);
        free(art->feed_link);
        free(art->url);
        free(art->guid);
        free(art->title);
        free(art->summary);
        free(art->content);
        free(art->language);
        nt_feed_persons_free(art->authors, art->n_authors);
        nt_feed_strings_free(art->categories, art->n_categories);
        nt_feed_enclosures_free(art->enclosures, art->n_enclosures);
        nt_feed_image_free(&art->image);
        free(art->page_error);
        nt_article_init(art);
}

/* strdup that keeps NULL and notes a failure. */
static char *dup(const char *s, bool *oom)
{
        char *d;

        if (!s)
                return NULL;
        d = strdup(s);
        if (!d)
                *oom = true;
        return d;
}

/* Plain text of an HTML field, NULL when there is none. */
static char *plain(const char *html, size_t max, bool *oom)
{
        char *text = NULL;
        int rc;

        if (!html || !*html)
                return NULL;
        rc = nt_html_to_text(html, strlen(html), max, &text, NULL);
        if (rc == NT_ERR_NOMEM) {
                *oom = true;
                return NULL;
        }
        if (rc)
                return dup(html, oom); /* not HTML: keep it as written */
        if (!*text) {
                free(text);
                return NULL;
        }
        return text;
}

/* Feeds a key part to the hash with its NUL separator (the NUL is part
 * of the key: "a" + "bc" and "ab" + "c" must differ); the last part
 * goes without one. */
static int key_part(XXH3_state_t *state, const char *s, bool last)
{
        if (!s)
                s = "";
        return XXH3_128bits_update(state, s, strlen(s) + !last) == XXH_OK
                   ? NT_OK
                   : NT_ERR_INVALID;
}

/* The id of an entry: the rules in article.h, the key's parts hashed as
 * they come (XXH3's streaming form gives the one-shot hash of the whole
 * key). */
static int make_id(const struct nt_feed_entry *e, const char *feed_url,
                   char id[33])
{
        XXH128_canonical_t canon;
        XXH3_state_t state;
        char *canonical = NULL, date[32] = "";
        int rc;

        if (XXH3_128bits_reset(&state) != XXH_OK)
                return NT_ERR_INVALID;
        if (e->link)
                canonical = nt_url_canonical(e->link);
        if (canonical) {
                rc = key_part(&state, "link", false);
                if (!rc)
                        rc = key_part(&state, canonical, true);
        } else if (e->id || e->link) {
                rc = key_part(&state, "guid", false);
                if (!rc)
                        rc = key_part(&state, feed_url, false);
                if (!rc)
                        rc = key_part(&state, e->id ? e->id : e->link, true);
        } else {
                if (e->published != NT_FEED_NO_DATE)
                        nt_date_format(e->published, date, sizeof(date));
                rc = key_part(&state, "title", false);
                if (!rc)
                        rc = key_part(&state, feed_url, false);
                if (!rc)
                        rc = key_part(&state, e->title, false);
                if (!rc)
                        rc = key_part(&state, date, true);
        }
        if (rc == NT_OK) {
                XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(&state));
                nt_num_hex(canon.digest, sizeof(canon.digest), id);
        }
        free(canonical);
        return rc;
}

/* The same bytes the rules in article.h name, "<title>\0<summary>\0
 * <content>", fed to XXH3's streaming state part by part rather than
 * copied into one buffer first (the content is most of an article's
 * bytes): XXH3's streaming and one-shot forms give the same hash. */
static int make_revision(const struct nt_article *art, char revision[17])
{
        XXH64_canonical_t canon;
        XXH3_state_t state;
        const char *parts[3] = {art->title, art->summary, art->content};
        size_t i;

        if (XXH3_64bits_reset(&state) != XXH_OK)
                return NT_ERR_INVALID;
        for (i = 0; i < 3; i++) {
                const char *s = parts[i] ? parts[i] : "";

                /* The NUL after the first two parts is a separator. */
                if (XXH3_64bits_update(&state, s, strlen(s) + (i < 2)) !=
                    XXH_OK)
                        return NT_ERR_INVALID;
        }
        XXH64_canonicalFromHash(&canon, XXH3_64bits_digest(&state));
        nt_num_hex(canon.digest, sizeof(canon.digest), revision);
        return NT_OK;
}

static int copy_persons(const struct nt_feed_person *src, size_t n,
                        struct nt_article *art, bool *oom)
{
        size_t i;

        if (!n)
                return NT_OK;
        art->authors = calloc(n, sizeof(*art->authors));
        if (!art->authors)
                return NT_ERR_NOMEM;
        art->n_authors = n;
        for (i = 0; i < n; i++) {
                art->authors[i].name = dup(src[i].name, oom);
                art->authors[i].email = dup(src[i].email, oom);
                art->authors[i].uri = dup(src[i].uri, oom);
        }
        return NT_OK;
}

static int copy_lists(const struct nt_feed_entry *e, struct nt_article *art,
                      bool *oom)
{
        size_t i;

        if (e->n_categories) {
                art->categories =
                    calloc(e->n_categories, sizeof(*art->categories));
                if (!art->categories)
                        return NT_ERR_NOMEM;
                art->n_categories = e->n_categories;
                for (i = 0; i < e->n_categories; i++)
                        art->categories[i] = dup(e->categories[i], oom);
        }
        if (e->n_enclosures) {
                art->enclosures =
                    calloc(e->n_enclosures, sizeof(*art->enclosures));
                if (!art->enclosures)
                        return NT_ERR_NOMEM;
                art->n_enclosures = e->n_enclosures;
                for (i = 0; i < e->n_enclosures; i++) {
                        art->enclosures[i].url = dup(e->enclosures[i].url, oom);
                        art->enclosures[i].length =
                            dup(e->enclosures[i].length, oom);
                        art->enclosures[i].type =
                            dup(e->enclosures[i].type, oom);
                }
        }
        if (e->image.url) {
                art->image = e->image;
                art->image.url = dup(e->image.url, oom);
                art->image.type = dup(e->image.type, oom);
        }
        return NT_OK;
}

/* Credentials in the feed URL (user:pass@host) are the feed server's
 * business: they are left out of every URL the article carries, and out
 * of links resolved against that URL. The id was made before, from the
 * URLs as they came, so that ids stay what they always were. */
static void scrub_urls(struct nt_article *art)
{
        size_t i;

        if (art->feed_url)
                nt_url_scrub_userinfo(art->feed_url);
        if (art->feed_link)
                nt_url_scrub_userinfo(art->feed_link);
        if (art->url)
                nt_url_scrub_userinfo(art->url);
        for (i = 0; i < art->n_enclosures; i++)
                if (art->enclosures[i].url)
                        nt_url_scrub_userinfo(art->enclosures[i].url);
        if (art->image.url)
                nt_url_scrub_userinfo(art->image.url);
}

int nt_article_from_entry(const struct nt_feed *feed,
                          const struct nt_feed_entry *entry,
                          const char *feed_url, int64_t fetched_ms,
                          struct nt_article *art, char *errstr,
                          size_t errstr_size)
{
        size_t max = feed->limits.max_field;
        bool oom = false;
        int rc;

        rc = make_id(entry, feed_url, art->id);
        if (rc)
                goto out;
        art->feed_url = dup(feed_url, &oom);
        art->feed_title = dup(feed->title, &oom);
        art->feed_link = dup(feed->link, &oom);
        art->url = dup(entry->link, &oom);
        art->guid = dup(entry->id, &oom);
        art->title = dup(entry->title, &oom);
        art->summary = plain(entry->summary, max, &oom);
        art->content = plain(entry->content, max, &oom);
        art->language =
            dup(entry->language ? entry->language : feed->language, &oom);
        art->published = entry->published;
        art->updated = entry->updated;
        art->fetched = fetched_ms;
        /* Atom: an entry without authors has the feed's. */
        if (entry->n_authors)
                rc = copy_persons(entry->authors, entry->n_authors, art, &oom);
        else
                rc = copy_persons(feed->authors, feed->n_authors, art, &oom);
        if (!rc)
                rc = copy_lists(entry, art, &oom);
        if (!rc && oom)
                rc = NT_ERR_NOMEM;
        if (!rc)
                scrub_urls(art);
        if (!rc)
                rc = make_revision(art, art->revision);
out:
        if (rc) {
                nt_article_free(art);
                return nt_errf(errstr, errstr_size, rc,
                               "cannot build the article: %s", nt_err_name(rc));
        }
        return NT_OK;
}

/* ---- JSON ------------------------------------------------------------ */

static bool put(json_t *obj, const char *key, json_t *value)
{
        return value && json_object_set_new(obj, key, value) == 0;
}

static json_t *length_json(const char *length)
{
        int64_t n;

        if (length && nt_num_parse_i64(length, 0, INT64_MAX, &n) == NT_OK)
                return json_integer((json_int_t)n);
        return json_null();
}

/* The names of content_source in the JSON, both ways. */
static const char *const source_names[] = {
    [NT_ARTICLE_SOURCE_FEED] = "feed",
    [NT_ARTICLE_SOURCE_PAGE] = "page",
};

static const char *source_name(enum nt_article_source source)
{
        return nt_name_of(source_names, NT_COUNT_OF(source_names), source,
                          "feed");
}

/* NT_ARTICLE_SOURCE_NONE when `name` (may be NULL) is none of them. */
static enum nt_article_source source_from_name(const char *name)
{
        long i = nt_name_find(source_names, NT_COUNT_OF(source_names), name);

        return i < 0 ? NT_ARTICLE_SOURCE_NONE : (enum nt_article_source)i;
}

json_t *nt_article_to_json(const struct nt_article *art)
{
        json_t *o = json_object(), *f, *arr, *x;
        size_t i;

        if (!o)
                return NULL;
        f = json_object();
        if (!put(o, "schema", json_string(NT_ARTICLE_SCHEMA)) ||
            !put(o, "id", json_string(art->id)) ||
            !put(o, "revision", json_string(art->revision)) ||
            !put(o, "feed", f) ||
            !put(f, "url", nt_feed_json_str(art->feed_url)) ||
            !put(f, "title", nt_feed_json_str(art->feed_title)) ||
            !put(f, "link", nt_feed_json_str(art->feed_link)) ||
            !put(o, "url", nt_feed_json_str(art->url)) ||
            !put(o, "guid", nt_feed_json_str(art->guid)) ||
            !put(o, "title", nt_feed_json_str(art->title)) ||
            !put(o, "summary", nt_feed_json_str(art->summary)) ||
            !put(o, "content", nt_feed_json_str(art->content)))
                goto fail;
        arr = json_array();
        if (!put(o, "authors", arr))
                goto fail;
        for (i = 0; i < art->n_authors; i++) {
                x = json_object();
                if (!x || json_array_append_new(arr, x) ||
                    !put(x, "name", nt_feed_json_str(art->authors[i].name)) ||
                    !put(x, "email", nt_feed_json_str(art->authors[i].email)) ||
                    !put(x, "uri", nt_feed_json_str(art->authors[i].uri)))
                        goto fail;
        }
        arr = json_array();
        if (!put(o, "categories", arr))
                goto fail;
        for (i = 0; i < art->n_categories; i++) {
                if (json_array_append_new(arr,
                                          nt_feed_json_str(art->categories[i])))
                        goto fail;
        }
        if (!put(o, "language", nt_feed_json_str(art->language)) ||
            !put(o, "published", nt_feed_json_date(art->published)) ||
            !put(o, "updated", nt_feed_json_date(art->updated)) ||
            !put(o, "fetched", nt_feed_json_date(art->fetched)))
                goto fail;
        arr = json_array();
        if (!put(o, "enclosures", arr))
                goto fail;
        for (i = 0; i < art->n_enclosures; i++) {
                x = json_object();
                if (!x || json_array_append_new(arr, x) ||
                    !put(x, "url", nt_feed_json_str(art->enclosures[i].url)) ||
                    !put(x, "length", length_json(art->enclosures[i].length)) ||
                    !put(x, "type", nt_feed_json_str(art->enclosures[i].type)))
                        goto fail;
        }
        if (art->image.url && !put(o, "image", nt_feed_json_image(&art->image)))
                goto fail;
        if (art->content_source &&
            !put(o, "content_source",
                 json_string(source_name(art->content_source))))
                goto fail;
        if (art->page_error &&
            !put(o, "page_error", nt_feed_json_str(art->page_error)))
                goto fail;
        return o;
fail:
        json_decref(o);
        return NULL;
}

/* The member `key` with string value s (null when NULL). */
static void str_member(struct nt_json_out *o, const char *key, const char *s)
{
        nt_json_out_key(o, key);
        nt_json_out_str(o, s);
}

/* Written as it goes, not built as a jansson tree and dumped: the same
 * bytes as json_dumps(nt_article_to_json(art), JSON_COMPACT |
 * JSON_PRESERVE_ORDER), at a fraction of the cost. */
char *nt_article_to_json_line(const struct nt_article *art)
{
        size_t len;

        return nt_article_to_json_line_len(art, &len);
}

char *nt_article_to_json_line_len(const struct nt_article *art, size_t *len)
{
        struct nt_json_out o;
        int64_t n;
        size_t i;
        int err;

        /* No limit of its own: the fields are bounded already. */
        nt_json_out_init(&o, SIZE_MAX / 2, 0);
        nt_json_out_object(&o);
        str_member(&o, "schema", NT_ARTICLE_SCHEMA);
        str_member(&o, "id", art->id);
        str_member(&o, "revision", art->revision);
        nt_json_out_key(&o, "feed");
        nt_json_out_object(&o);
        str_member(&o, "url", art->feed_url);
        str_member(&o, "title", art->feed_title);
        str_member(&o, "link", art->feed_link);
        nt_json_out_end(&o);
        str_member(&o, "url", art->url);
        str_member(&o, "guid", art->guid);
        str_member(&o, "title", art->title);
        str_member(&o, "summary", art->summary);
        str_member(&o, "content", art->content);
        nt_json_out_key(&o, "authors");
        nt_json_out_array(&o);
        for (i = 0; i < art->n_authors; i++) {
                nt_json_out_object(&o);
                str_member(&o, "name", art->authors[i].name);
                str_member(&o, "email", art->authors[i].email);
                str_member(&o, "uri", art->authors[i].uri);
                nt_json_out_end(&o);
        }
        nt_json_out_end(&o);
        nt_json_out_key(&o, "categories");
        nt_json_out_array(&o);
        for (i = 0; i < art->n_categories; i++)
                nt_json_out_str(&o, art->categories[i]);
        nt_json_out_end(&o);
        str_member(&o, "language", art->language);
        nt_json_out_key(&o, "published");
        nt_feed_json_out_date(&o, art->published);
        nt_json_out_key(&o, "updated");
        nt_feed_json_out_date(&o, art->updated);
        nt_json_out_key(&o, "fetched");
        nt_feed_json_out_date(&o, art->fetched);
        nt_json_out_key(&o, "enclosures");
        nt_json_out_array(&o);
        for (i = 0; i < art->n_enclosures; i++) {
                nt_json_out_object(&o);
                str_member(&o, "url", art->enclosures[i].url);
                nt_json_out_key(&o, "length");
                if (art->enclosures[i].length &&
                    nt_num_parse_i64(art->enclosures[i].length, 0, INT64_MAX,
                                     &n) == NT_OK)
                        nt_json_out_int(&o, n);
                else
                        nt_json_out_null(&o);
                str_member(&o, "type", art->enclosures[i].type);
                nt_json_out_end(&o);
        }
        nt_json_out_end(&o);
        if (art->image.url) {
                nt_json_out_key(&o, "image");
                nt_feed_json_out_image(&o, &art->image);
        }
        if (art->content_source)
                str_member(&o, "content_source",
                           source_name(art->content_source));
        if (art->page_error)
                str_member(&o, "page_error", art->page_error);
        nt_json_out_end(&o);
        *len = o.buf.len;
        return nt_json_out_finish(&o, &err);
}

/* A string member copied (NULL when absent or null); a member of another
 * type is an error naming the field. */
static int get_str(const json_t *obj, const char *key, char **out, char *errstr,
                   size_t errstr_size)
{
        const json_t *v = json_object_get(obj, key);

        *out = NULL;
        if (!v || json_is_null(v))
                return NT_OK;
        if (!json_is_string(v))
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "article: \"%s\" is not a string", key);
        *out = strdup(json_string_value(v));
        return *out ? NT_OK : NT_ERR_NOMEM;
}

static int get_date(const json_t *obj, const char *key, int64_t *out,
                    char *errstr, size_t errstr_size)
{
        const json_t *v = json_object_get(obj, key);

        *out = NT_FEED_NO_DATE;
        if (!v || json_is_null(v))
                return NT_OK;
        if (!json_is_string(v) ||
            nt_date_parse(json_string_value(v), out) != NT_OK)
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "article: \"%s\" is not a date", key);
        return NT_OK;
}

/* Copies a hex digest member of exactly `len` digits into buf. */
static int get_digest(const json_t *obj, const char *key, size_t len, char *buf,
                      char *errstr, size_t errstr_size)
{
        const char *s = json_string_value(json_object_get(obj, key));
        size_t i;

        if (!s || strlen(s) != len)
                goto bad;
        for (i = 0; i < len; i++) {
                if (!((s[i] >= '0' && s[i] <= '9') ||
                      (s[i] >= 'a' && s[i] <= 'f')))
                        goto bad;
        }
        memcpy(buf, s, len + 1);
        return NT_OK;
bad:
        return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                       "article: \"%s\" is not %zu hex digits", key, len);
}

static int get_lists(const json_t *obj, struct nt_article *art, char *errstr,
                     size_t errstr_size)
{
        const json_t *arr, *x;
        json_int_t len;
        char buf[32];
        size_t i;
        int rc = NT_OK;

        arr = json_object_get(obj, "authors");
        if (json_is_array(arr) && json_array_size(arr)) {
                art->authors =
                    calloc(json_array_size(arr), sizeof(*art->authors));
                if (!art->authors)
                        return NT_ERR_NOMEM;
                json_array_foreach(arr, i, x)
                {
                        struct nt_feed_person *p =
                            &art->authors[art->n_authors++];

                        if (!rc)
                                rc = get_str(x, "name", &p->name, errstr,
                                             errstr_size);
                        if (!rc)
                                rc = get_str(x, "email", &p->email, errstr,
                                             errstr_size);
                        if (!rc)
                                rc = get_str(x, "uri", &p->uri, errstr,
                                             errstr_size);
                }
        }
        arr = json_object_get(obj, "categories");
        if (!rc && json_is_array(arr) && json_array_size(arr)) {
                art->categories =
                    calloc(json_array_size(arr), sizeof(*art->categories));
                if (!art->categories)
                        return NT_ERR_NOMEM;
                json_array_foreach(arr, i, x)
                {
                        if (!json_is_string(x))
                                continue;
                        art->categories[art->n_categories] =
                            strdup(json_string_value(x));
                        if (!art->categories[art->n_categories++])
                                return NT_ERR_NOMEM;
                }
        }
        arr = json_object_get(obj, "enclosures");
        if (!rc && json_is_array(arr) && json_array_size(arr)) {
                art->enclosures =
                    calloc(json_array_size(arr), sizeof(*art->enclosures));
                if (!art->enclosures)
                        return NT_ERR_NOMEM;
                json_array_foreach(arr, i, x)
                {
                        struct nt_feed_enclosure *e =
                            &art->enclosures[art->n_enclosures++];

                        if (!rc)
                                rc = get_str(x, "url", &e->url, errstr,
                                             errstr_size);
                        if (!rc)
                                rc = get_str(x, "type", &e->type, errstr,
                                             errstr_size);
                        if (!rc &&
                            json_is_integer(json_object_get(x, "length"))) {
                                len = json_integer_value(
                                    json_object_get(x, "length"));
                                snprintf(buf, sizeof(buf),
                                         "%" JSON_INTEGER_FORMAT, len);
                                e->length = strdup(buf);
                                if (!e->length)
                                        rc = NT_ERR_NOMEM;
                        }
                }
        }
        return rc;
}

/* A string member of "image", named as such when it is not one (the
 * article has a "url" and a "type" of its own elsewhere). */
static int get_image_str(const json_t *img, const char *key, char **out,
                         char *errstr, size_t errstr_size)
{
        int rc = get_str(img, key, out, NULL, 0);

        if (rc == NT_ERR_PARSE)
                return nt_errf(errstr, errstr_size, rc,
                               "article: \"image\".\"%s\" is not a string",
                               key);
        return rc;
}

/* "image" (an object with a url, or absent or null), "content_source"
 * and "page_error". */
static int get_extras(const json_t *obj, struct nt_article *art, char *errstr,
                      size_t errstr_size)
{
        const json_t *img = json_object_get(obj, "image"), *v;
        enum nt_article_source source;
        int rc = NT_OK;

        if (json_is_object(img)) {
                rc = get_image_str(img, "url", &art->image.url, errstr,
                                   errstr_size);
                if (!rc)
                        rc = get_image_str(img, "type", &art->image.type,
                                           errstr, errstr_size);
                v = json_object_get(img, "width");
                if (json_is_integer(v) && json_integer_value(v) > 0)
                        art->image.width = json_integer_value(v);
                v = json_object_get(img, "height");
                if (json_is_integer(v) && json_integer_value(v) > 0)
                        art->image.height = json_integer_value(v);
        } else if (img && !json_is_null(img)) {
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "article: \"image\" is not an object");
        }
        v = json_object_get(obj, "content_source");
        source = source_from_name(json_string_value(v));
        if (!rc && v && !json_is_null(v)) {
                if (source == NT_ARTICLE_SOURCE_NONE)
                        return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                                       "article: \"content_source\" is not "
                                       "\"feed\" or \"page\"");
                art->content_source = source;
        }
        if (!rc)
                rc = get_str(obj, "page_error", &art->page_error, errstr,
                             errstr_size);
        return rc;
}

int nt_article_from_json(const json_t *obj, struct nt_article *art,
                         char *errstr, size_t errstr_size)
{
        const char *schema = json_string_value(json_object_get(obj, "schema"));
        const json_t *feed = json_object_get(obj, "feed");
        int rc;

        if (!json_is_object(obj) || !schema ||
            strcmp(schema, NT_ARTICLE_SCHEMA) != 0)
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "not a %s object", NT_ARTICLE_SCHEMA);
        rc = get_digest(obj, "id", 32, art->id, errstr, errstr_size);
        if (!rc)
                rc = get_digest(obj, "revision", 16, art->revision, errstr,
                                errstr_size);
        if (!rc && json_is_object(feed)) {
                rc = get_str(feed, "url", &art->feed_url, errstr, errstr_size);
                if (!rc)
                        rc = get_str(feed, "title", &art->feed_title, errstr,
                                     errstr_size);
                if (!rc)
                        rc = get_str(feed, "link", &art->feed_link, errstr,
                                     errstr_size);
        }
        if (!rc)
                rc = get_str(obj, "url", &art->url, errstr, errstr_size);
        if (!rc)
                rc = get_str(obj, "guid", &art->guid, errstr, errstr_size);
        if (!rc)
                rc = get_str(obj, "title", &art->title, errstr, errstr_size);
        if (!rc)
                rc =
                    get_str(obj, "summary", &art->summary, errstr, errstr_size);
        if (!rc)
                rc =
                    get_str(obj, "content", &art->content, errstr, errstr_size);
        if (!rc)
                rc = get_str(obj, "language", &art->language, errstr,
                             errstr_size);
        if (!rc)
                rc = get_date(obj, "published", &art->published, errstr,
                              errstr_size);
        if (!rc)
                rc = get_date(obj, "updated", &art->updated, errstr,
                              errstr_size);
        if (!rc)
                rc = get_date(obj, "fetched", &art->fetched, errstr,
                              errstr_size);
        if (!rc)
                rc = get_lists(obj, art, errstr, errstr_size);
        if (!rc)
                rc = get_extras(obj, art, errstr, errstr_size);
        if (rc == NT_ERR_NOMEM)
                nt_errf(errstr, errstr_size, rc, "out of memory");
        if (rc)
                nt_article_free(art);
        return rc;
}

int nt_article_set_source(struct nt_article *art, enum nt_article_source source,
                          const char *page_error)
{
        char *copy = NULL;

        if (page_error) {
                copy = strdup(page_error);
                if (!copy)
                        return NT_ERR_NOMEM;
        }
        free(art->page_error);
        art->page_error = copy;
        art->content_source = source;
        return NT_OK;
}
