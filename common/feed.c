/* The feed model: its limits, its builders (what the XML and JSON Feed
 * readers fill it with) and its JSON, the outside face of `newstap parse`.
 * It calls no reader: turning bytes into a feed is common/feed_parse.c,
 * which stands on this file and on the readers. */
#include "common/feed.h"
#include "common/utf8.h"
#include "common/buf.h"
#include "common/date.h"
#include "common/err.h"
#include "common/json_out.h"
#include "common/num.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void nt_feed_limits_init(struct nt_feed_limits *lim)
{
        lim->max_document = NT_FEED_DEFAULT_MAX_DOCUMENT;
        lim->max_entries = NT_FEED_DEFAULT_MAX_ENTRIES;
        lim->max_field = NT_FEED_DEFAULT_MAX_FIELD;
        lim->max_depth = NT_FEED_DEFAULT_MAX_DEPTH;
        lim->max_list = NT_FEED_DEFAULT_MAX_LIST;
        lim->max_errors = NT_FEED_DEFAULT_MAX_ERRORS;
}

const char *nt_feed_format_name(enum nt_feed_format format)
{
        static const char *const names[] = {
            [NT_FEED_UNKNOWN] = "unknown",
            [NT_FEED_RSS090] = "rss090",
            [NT_FEED_RSS091] = "rss091",
            [NT_FEED_RSS092] = "rss092",
            [NT_FEED_RSS093] = "rss093",
            [NT_FEED_RSS094] = "rss094",
            [NT_FEED_RSS20] = "rss20",
            [NT_FEED_RSS10] = "rss10",
            [NT_FEED_ATOM03] = "atom03",
            [NT_FEED_ATOM10] = "atom10",
            [NT_FEED_JSONFEED10] = "jsonfeed10",
            [NT_FEED_JSONFEED11] = "jsonfeed11",
        };

        return nt_name_of(names, NT_COUNT_OF(names), format, "unknown");
}

void nt_feed_init(struct nt_feed *feed)
{
        memset(feed, 0, sizeof(*feed));
        feed->wellformed = true;
        feed->updated = NT_FEED_NO_DATE;
        feed->ttl_minutes = -1;
        nt_feed_limits_init(&feed->limits);
}

void nt_feed_persons_free(struct nt_feed_person *list, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                free(list[i].name);
                free(list[i].email);
                free(list[i].uri);
        }
        free(list);
}

void nt_feed_strings_free(char **list, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                free(list[i]);
        free(list);
}

void nt_feed_enclosures_free(struct nt_feed_enclosure *list, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                free(list[i].url);
                free(list[i].length);
                free(list[i].type);
        }
        free(list);
}

void nt_feed_image_free(struct nt_feed_image *image)
{
        if (!image)
                return;
        free(image->url);
        free(image->type);
}

void nt_feed_entry_init(struct nt_feed_entry *e)
{
        memset(e, 0, sizeof(*e));
        e->id_is_permalink = true;
        e->published = NT_FEED_NO_DATE;
        e->updated = NT_FEED_NO_DATE;
}

void nt_feed_entry_free(struct nt_feed_entry *e)
{
        if (!e)
                return;
        free(e->id);
        free(e->title);
        free(e->link);
        free(e->summary);
        free(e->content);
        free(e->published_raw);
        free(e->updated_raw);
        free(e->language);
        nt_feed_persons_free(e->authors, e->n_authors);
        nt_feed_strings_free(e->categories, e->n_categories);
        nt_feed_enclosures_free(e->enclosures, e->n_enclosures);
        nt_feed_image_free(&e->image);
        nt_feed_entry_init(e);
}

void nt_feed_free(struct nt_feed *feed)
{
        struct nt_feed_limits lim;
        size_t i;

        if (!feed)
                return;
        lim = feed->limits;
        free(feed->title);
        free(feed->link);
        free(feed->subtitle);
        free(feed->language);
        free(feed->updated_raw);
        nt_feed_persons_free(feed->authors, feed->n_authors);
        for (i = 0; i < feed->n_entries; i++)
                nt_feed_entry_free(&feed->entries[i]);
        free(feed->entries);
        for (i = 0; i < feed->n_errors; i++)
                free(feed->errors[i].message);
        free(feed->errors);
        nt_feed_init(feed);
        feed->limits = lim;
}

static const char *const cut_names[] = {"document", "entries", "field", "depth",
                                        "list"};

const char *nt_feed_cut_name(unsigned cut)
{
        size_t i;

        for (i = 0; i < sizeof(cut_names) / sizeof(cut_names[0]); i++)
                if (cut == 1u << i)
                        return cut_names[i];
        return "";
}

const char *nt_feed_cut_describe(const struct nt_feed *feed, unsigned cut,
                                 char *buf, size_t size)
{
        const struct nt_feed_error *first = NULL;
        size_t i, times = 0, n_entries = 0;

        for (i = 0; i < feed->n_entries; i++)
                n_entries += (feed->entries[i].cuts & cut) != 0;
        for (i = 0; i < feed->n_errors; i++) {
                if (feed->errors[i].cut != cut)
                        continue;
                if (!first)
                        first = &feed->errors[i];
                times++;
        }
        if (first)
                snprintf(buf, size,
                         "cut by the %s limit %zu time(s), first at line "
                         "%lu: %s; %zu of the %zu entries kept were cut",
                         nt_feed_cut_name(cut), times, first->line,
                         first->message, n_entries, feed->n_entries);
        else
                snprintf(buf, size, "cut by the %s limit",
                         nt_feed_cut_name(cut));
        return buf;
}

int nt_feed_add_error(struct nt_feed *feed, unsigned long line,
                      unsigned long column, unsigned cut, const char *fmt, ...)
{
        struct nt_feed_error *err;
        char msg[512];
        va_list ap;

        if (cut) {
                feed->truncated = true;
                feed->cuts |= cut;
        } else
                feed->wellformed = false;
        if (feed->n_errors >= feed->limits.max_errors) {
                feed->errors_dropped++;
                return NT_OK;
        }
        if (nt_array_grow(&feed->errors, &feed->cap_errors, feed->n_errors + 1,
                          sizeof(*feed->errors)))
                return NT_ERR_NOMEM;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        err = &feed->errors[feed->n_errors];
        err->message = strdup(msg);
        if (!err->message)
                return NT_ERR_NOMEM;
        err->line = line;
        err->column = column;
        err->cut = cut;
        feed->n_errors++;
        return NT_OK;
}

bool nt_feed_entries_full(const struct nt_feed *feed)
{
        return feed->n_entries >= feed->limits.max_entries;
}

/* A lone enclosure that is an image is the entry's picture, when the
 * entry names none (an enclosure among others is one file of several,
 * not the entry's picture). The enclosure stays an enclosure. */
static int lone_image_enclosure(struct nt_feed_entry *e)
{
        const struct nt_feed_enclosure *x;
        char *url, *type;

        if (e->image.url || e->n_enclosures != 1)
                return NT_OK;
        x = &e->enclosures[0];
        if (!x->url || !x->type || strncasecmp(x->type, "image/", 6) != 0)
                return NT_OK;
        url = strdup(x->url);
        type = strdup(x->type);
        if (!url || !type) {
                free(url);
                free(type);
                return NT_ERR_NOMEM;
        }
        nt_feed_offer_image(e, NT_FEED_IMAGE_ENCLOSURE, url, type, NULL, NULL);
        return NT_OK;
}

int nt_feed_commit_entry(struct nt_feed *feed, struct nt_feed_entry *e)
{
        if (nt_feed_entries_full(feed)) {
                nt_feed_entry_free(e);
                nt_feed_add_error(feed, 0, 0, NT_FEED_CUT_ENTRIES,
                                  "more than %zu entries: the rest are "
                                  "ignored",
                                  feed->limits.max_entries);
                return NT_ERR_LIMIT;
        }
        if (lone_image_enclosure(e) != NT_OK) {
                nt_feed_entry_free(e);
                return NT_ERR_NOMEM;
        }
        if (nt_array_grow(&feed->entries, &feed->cap_entries,
                          feed->n_entries + 1, sizeof(*feed->entries))) {
                nt_feed_entry_free(e);
                return NT_ERR_NOMEM;
        }
        feed->entries[feed->n_entries++] = *e;
        nt_feed_entry_init(e);
        return NT_OK;
}

/* A per-entry list with room for element n: `list` itself, or a bigger
 * copy (NULL when out of memory; list is kept). Capacity is 4, then
 * powers of two: the lists carry no capacity field, the count alone
 * tells when to grow, so nt_array_grow() does not serve them. */
static void *list_reserve(void *list, size_t n, size_t size)
{
        size_t ncap;

        if (n != 0 && (n < 4 || (n & (n - 1)) != 0))
                return list;
        ncap = n < 4 ? 4 : n * 2;
        if (ncap > SIZE_MAX / size)
                return NULL;
        return realloc(list, ncap * size);
}

/* True when a list already holds max_list values; records the truncation
 * the first time for each list (bit `which` of *full). */
static bool list_full(struct nt_feed *feed, struct nt_feed_entry *e, size_t n,
                      uint8_t *full, uint8_t which, const char *what)
{
        if (n < feed->limits.max_list)
                return false;
        if (e)
                e->cuts |= NT_FEED_CUT_LIST;
        if (!(*full & which)) {
                *full |= which;
                nt_feed_add_error(feed, 0, 0, NT_FEED_CUT_LIST,
                                  "more than %zu %s in one entry: the rest "
                                  "are ignored",
                                  feed->limits.max_list, what);
        }
        return true;
}

int nt_feed_add_person(struct nt_feed *feed, struct nt_feed_entry *e,
                       char *name, char *email, char *uri)
{
        struct nt_feed_person **list = e ? &e->authors : &feed->authors;
        size_t *n = e ? &e->n_authors : &feed->n_authors;
        uint8_t *full = e ? &e->lists_full : &feed->lists_full;
        struct nt_feed_person *grown;
        int rc = NT_OK;

        if (!name && !email && !uri)
                return NT_OK;
        if (list_full(feed, e, *n, full, 1, "authors"))
                goto fail;
        grown = list_reserve(*list, *n, sizeof(**list));
        if (!grown) {
                rc = NT_ERR_NOMEM;
                goto fail;
        }
        *list = grown;
        (*list)[*n].name = name;
        (*list)[*n].email = email;
        (*list)[*n].uri = uri;
        (*n)++;
        return NT_OK;
fail:
        free(name);
        free(email);
        free(uri);
        return rc;
}

int nt_feed_add_category(struct nt_feed *feed, struct nt_feed_entry *e,
                         char *term)
{
        char **grown;
        int rc = NT_OK;

        if (!term)
                return NT_OK;
        if (list_full(feed, e, e->n_categories, &e->lists_full, 2,
                      "categories"))
                goto fail;
        grown = list_reserve(e->categories, e->n_categories,
                             sizeof(*e->categories));
        if (!grown) {
                rc = NT_ERR_NOMEM;
                goto fail;
        }
        e->categories = grown;
        e->categories[e->n_categories++] = term;
        return NT_OK;
fail:
        free(term);
        return rc;
}

int nt_feed_add_enclosure(struct nt_feed *feed, struct nt_feed_entry *e,
                          char *url, char *length, char *type)
{
        struct nt_feed_enclosure *x;
        int rc = NT_OK;

        if (list_full(feed, e, e->n_enclosures, &e->lists_full, 4,
                      "enclosures"))
                goto fail;
        x = list_reserve(e->enclosures, e->n_enclosures,
                         sizeof(*e->enclosures));
        if (!x) {
                rc = NT_ERR_NOMEM;
                goto fail;
        }
        e->enclosures = x;
        x = &e->enclosures[e->n_enclosures++];
        x->url = url;
        x->length = length;
        x->type = type;
        return NT_OK;
fail:
        free(url);
        free(length);
        free(type);
        return rc;
}

/* A picture's side in pixels as written, 0 when it is not one. */
static int64_t image_side(const char *s)
{
        int64_t n;

        if (s && nt_num_parse_i64(s, 1, INT32_MAX, &n) == NT_OK)
                return n;
        return 0;
}

void nt_feed_offer_image(struct nt_feed_entry *e, enum nt_feed_image_rank rank,
                         char *url, char *type, const char *width,
                         const char *height)
{
        int64_t w = image_side(width), h = image_side(height);
        struct nt_feed_image *img = &e->image;

        if (!url || !*url || rank < img->rank ||
            (rank == img->rank && w * h <= img->width * img->height)) {
                free(url);
                free(type);
                return;
        }
        free(img->url);
        free(img->type);
        img->url = url;
        img->type = type;
        img->width = w;
        img->height = h;
        img->rank = (uint8_t)rank;
}

void nt_feed_set(char **slot, char *value)
{
        free(*slot);
        *slot = value;
}

int nt_feed_set_date(int64_t *when, char **raw, const char *text)
{
        int64_t ms;

        if (*when != NT_FEED_NO_DATE || *raw || !text || !*text)
                return NT_OK;
        if (nt_date_parse(text, &ms) == NT_OK) {
                *when = ms;
                return NT_OK;
        }
        *raw = strdup(text);
        return *raw ? NT_OK : NT_ERR_NOMEM;
}

char *nt_feed_escape_html(const char *s, size_t n)
{
        size_t i, extra = 0;
        char *out, *o;

        for (i = 0; i < n; i++) {
                if (s[i] == '&')
                        extra += 4;
                else if (s[i] == '<' || s[i] == '>')
                        extra += 3;
        }
        if (extra > SIZE_MAX - n - 1)
                return NULL;
        out = malloc(n + extra + 1);
        if (!out)
                return NULL;
        o = out;
        for (i = 0; i < n; i++) {
                switch (s[i]) {
                case '&':
                        memcpy(o, "&amp;", 5);
                        o += 5;
                        break;
                case '<':
                        memcpy(o, "&lt;", 4);
                        o += 4;
                        break;
                case '>':
                        memcpy(o, "&gt;", 4);
                        o += 4;
                        break;
                default:
                        *o++ = s[i];
                }
        }
        *o = '\0';
        return out;
}

/* ---- People --------------------------------------------------------- */

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
               c == '\v';
}

/* A malloc'd copy of [p, p+n) without surrounding white space, or NULL
 * when nothing is left (and *oom set when out of memory). */
static char *trimmed_copy(const char *p, size_t n, bool *oom)
{
        char *s;

        while (n && is_space(*p)) {
                p++;
                n--;
        }
        while (n && is_space(p[n - 1]))
                n--;
        if (!n)
                return NULL;
        s = malloc(n + 1);
        if (!s) {
                *oom = true;
                return NULL;
        }
        memcpy(s, p, n);
        s[n] = '\0';
        return s;
}

/* True when [p, p+n) is one word holding an '@' (an address). */
static bool is_email(const char *p, size_t n)
{
        size_t i;
        bool at = false;

        if (!n)
                return false;
        for (i = 0; i < n; i++) {
                if (is_space(p[i]) || p[i] == '<' || p[i] == '>' ||
                    p[i] == '(' || p[i] == ')')
                        return false;
                if (p[i] == '@')
                        at = true;
        }
        return at;
}

/* Skips a "mailto:" prefix. */
static void skip_mailto(const char **p, size_t *n)
{
        if (*n >= 7 && strncasecmp(*p, "mailto:", 7) == 0) {
                *p += 7;
                *n -= 7;
        }
}

int nt_feed_split_person(const char *text, char **name, char **email)
{
        const char *s = text, *open, *close, *e_p, *n_p;
        size_t len, e_n, n_n;
        bool oom = false;
        char *cut;

        *name = NULL;
        *email = NULL;
        if (!text)
                return NT_OK;
        while (is_space(*s))
                s++;
        len = strlen(s);
        while (len && is_space(s[len - 1]))
                len--;
        if (!len)
                return NT_OK;
        /* "Name <addr>" */
        if (s[len - 1] == '>') {
                open = memchr(s, '<', len);
                if (open) {
                        e_p = open + 1;
                        e_n = (size_t)(s + len - 1 - e_p);
                        skip_mailto(&e_p, &e_n);
                        if (is_email(e_p, e_n)) {
                                *email = trimmed_copy(e_p, e_n, &oom);
                                *name =
                                    trimmed_copy(s, (size_t)(open - s), &oom);
                                goto out;
                        }
                }
        }
        /* "addr (Name)" or "Name (addr)" */
        if (s[len - 1] == ')') {
                open = memchr(s, '(', len);
                close = s + len - 1;
                if (open) {
                        n_p = open + 1;
                        n_n = (size_t)(close - n_p);
                        e_p = s;
                        e_n = (size_t)(open - s);
                        while (e_n && is_space(e_p[e_n - 1]))
                                e_n--;
                        skip_mailto(&e_p, &e_n);
                        if (is_email(e_p, e_n)) {
                                *email = trimmed_copy(e_p, e_n, &oom);
                                *name = trimmed_copy(n_p, n_n, &oom);
                                goto out;
                        }
                        skip_mailto(&n_p, &n_n);
                        if (is_email(n_p, n_n)) {
                                *email = trimmed_copy(n_p, n_n, &oom);
                                *name =
                                    trimmed_copy(s, (size_t)(open - s), &oom);
                                goto out;
                        }
                }
        }
        e_p = s;
        e_n = len;
        skip_mailto(&e_p, &e_n);
        if (is_email(e_p, e_n)) {
                *email = trimmed_copy(e_p, e_n, &oom);
                goto out;
        }
        *name = trimmed_copy(s, len, &oom);
out:
        /* An address never carries a trailing dot from prose. */
        if (*email) {
                cut = *email + strlen(*email);
                while (cut > *email && cut[-1] == '.')
                        *--cut = '\0';
        }
        if (oom) {
                free(*name);
                free(*email);
                *name = NULL;
                *email = NULL;
                return NT_ERR_NOMEM;
        }
        return NT_OK;
}

/* ---- JSON output --------------------------------------------------- */

json_t *nt_feed_json_str(const char *s)
{
        const unsigned char *p;
        struct nt_buf b;
        size_t n, len, k;
        json_t *j;

        if (!s)
                return json_null();
        j = json_string(s);
        if (j)
                return j;
        /* Not valid UTF-8 (nothing the parsers make should be, but this
         * is the last gate before output): replace what does not decode. */
        len = strlen(s);
        nt_buf_init(&b, len * 3 + 1);
        p = (const unsigned char *)s;
        for (n = 0; n < len; n += k) {
                k = nt_utf8_len(p + n, len - n);
                if (k) {
                        if (nt_buf_append(&b, p + n, k))
                                break;
                } else {
                        k = 1;
                        if (nt_buf_append(&b, "\xEF\xBF\xBD", 3))
                                break;
                }
        }
        j = json_string(nt_buf_str(&b));
        nt_buf_free(&b);
        return j;
}

json_t *nt_feed_json_date(int64_t epoch_ms)
{
        char buf[32];

        if (epoch_ms == NT_FEED_NO_DATE)
                return json_null();
        nt_date_format(epoch_ms, buf, sizeof(buf));
        return json_string(buf);
}

static void str_member(struct nt_json_out *o, const char *key, const char *s)
{
        nt_json_out_key(o, key);
        nt_json_out_str(o, s);
}

void nt_feed_json_out_date(struct nt_json_out *o, int64_t epoch_ms)
{
        char buf[32];

        if (epoch_ms == NT_FEED_NO_DATE) {
                nt_json_out_null(o);
                return;
        }
        nt_date_format(epoch_ms, buf, sizeof(buf));
        nt_json_out_str(o, buf);
}

static void date_member(struct nt_json_out *o, const char *key, int64_t ms)
{
        nt_json_out_key(o, key);
        nt_feed_json_out_date(o, ms);
}

static void persons_out(struct nt_json_out *o,
                        const struct nt_feed_person *list, size_t n)
{
        size_t i;

        nt_json_out_array(o);
        for (i = 0; i < n; i++) {
                nt_json_out_object(o);
                str_member(o, "name", list[i].name);
                str_member(o, "email", list[i].email);
                str_member(o, "uri", list[i].uri);
                nt_json_out_end(o);
        }
        nt_json_out_end(o);
}

/* ["depth", "field"]: the names of the cut bits. */
static void cuts_out(struct nt_json_out *o, unsigned cuts)
{
        size_t i;

        nt_json_out_key(o, "cuts");
        nt_json_out_array(o);
        for (i = 0; i < sizeof(cut_names) / sizeof(cut_names[0]); i++)
                if (cuts & (1u << i))
                        nt_json_out_str(o, cut_names[i]);
        nt_json_out_end(o);
}

void nt_feed_json_out_image(struct nt_json_out *o,
                            const struct nt_feed_image *img)
{
        nt_json_out_object(o);
        str_member(o, "url", img->url);
        str_member(o, "type", img->type);
        nt_json_out_key(o, "width");
        if (img->width > 0)
                nt_json_out_int(o, img->width);
        else
                nt_json_out_null(o);
        nt_json_out_key(o, "height");
        if (img->height > 0)
                nt_json_out_int(o, img->height);
        else
                nt_json_out_null(o);
        nt_json_out_end(o);
}

json_t *nt_feed_json_image(const struct nt_feed_image *img)
{
        json_t *o = json_object();

        if (!o ||
            json_object_set_new(o, "url", nt_feed_json_str(img->url)) != 0 ||
            json_object_set_new(o, "type", nt_feed_json_str(img->type)) != 0 ||
            json_object_set_new(o, "width",
                                img->width > 0 ? json_integer(img->width)
                                               : json_null()) != 0 ||
            json_object_set_new(o, "height",
                                img->height > 0 ? json_integer(img->height)
                                                : json_null()) != 0) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static void entry_out(struct nt_json_out *o, const struct nt_feed_entry *e)
{
        size_t i;

        nt_json_out_object(o);
        str_member(o, "id", e->id);
        str_member(o, "title", e->title);
        str_member(o, "link", e->link);
        date_member(o, "published", e->published);
        date_member(o, "updated", e->updated);
        str_member(o, "summary", e->summary);
        str_member(o, "content", e->content);
        nt_json_out_key(o, "authors");
        persons_out(o, e->authors, e->n_authors);
        nt_json_out_key(o, "categories");
        nt_json_out_array(o);
        for (i = 0; i < e->n_categories; i++)
                nt_json_out_str(o, e->categories[i]);
        nt_json_out_end(o);
        nt_json_out_key(o, "enclosures");
        nt_json_out_array(o);
        for (i = 0; i < e->n_enclosures; i++) {
                nt_json_out_object(o);
                str_member(o, "url", e->enclosures[i].url);
                str_member(o, "length", e->enclosures[i].length);
                str_member(o, "type", e->enclosures[i].type);
                nt_json_out_end(o);
        }
        nt_json_out_end(o);
        if (e->image.url) {
                nt_json_out_key(o, "image");
                nt_feed_json_out_image(o, &e->image);
        }
        if (e->published_raw)
                str_member(o, "published_raw", e->published_raw);
        if (e->updated_raw)
                str_member(o, "updated_raw", e->updated_raw);
        if (e->cuts)
                cuts_out(o, e->cuts);
        nt_json_out_end(o);
}

char *nt_feed_to_json_text(const struct nt_feed *feed, int indent)
{
        struct nt_json_out o;
        size_t i;
        int err;

        nt_json_out_init(&o, SIZE_MAX / 2, indent);
        nt_json_out_object(&o);
        str_member(&o, "format", nt_feed_format_name(feed->format));
        nt_json_out_key(&o, "wellformed");
        nt_json_out_bool(&o, feed->wellformed);
        str_member(&o, "encoding", feed->encoding[0] ? feed->encoding : NULL);
        nt_json_out_key(&o, "errors");
        nt_json_out_array(&o);
        for (i = 0; i < feed->n_errors; i++) {
                nt_json_out_object(&o);
                nt_json_out_key(&o, "line");
                nt_json_out_int(&o, (int64_t)feed->errors[i].line);
                nt_json_out_key(&o, "column");
                nt_json_out_int(&o, (int64_t)feed->errors[i].column);
                str_member(&o, "message", feed->errors[i].message);
                nt_json_out_end(&o);
        }
        nt_json_out_end(&o);
        if (feed->errors_dropped) {
                nt_json_out_key(&o, "errors_dropped");
                nt_json_out_int(&o, (int64_t)feed->errors_dropped);
        }
        if (feed->truncated) {
                nt_json_out_key(&o, "truncated");
                nt_json_out_bool(&o, 1);
        }
        if (feed->cuts)
                cuts_out(&o, feed->cuts);
        nt_json_out_key(&o, "feed");
        nt_json_out_object(&o);
        str_member(&o, "title", feed->title);
        str_member(&o, "link", feed->link);
        str_member(&o, "subtitle", feed->subtitle);
        date_member(&o, "updated", feed->updated);
        str_member(&o, "language", feed->language);
        if (feed->updated_raw)
                str_member(&o, "updated_raw", feed->updated_raw);
        nt_json_out_end(&o);
        nt_json_out_key(&o, "entries");
        nt_json_out_array(&o);
        for (i = 0; i < feed->n_entries; i++)
                entry_out(&o, &feed->entries[i]);
        nt_json_out_end(&o);
        nt_json_out_end(&o);
        return nt_json_out_finish(&o, &err);
}
