/* The article: what the producer publishes on news.raw for one feed entry
 * (JSON, schema tag "newstap.article/1"), with an id that stays the same
 * on every poll and a revision that changes when the text does; and its
 * JSON form, one line per article.
 *
 * Identity. `id` is 32 lower-case hex digits of XXH3_128bits (written
 * big-endian, as XXH128_canonicalFromHash does) over a key chosen by the
 * first rule that applies ("\0" is a NUL byte, <feed> the feed URL or ""):
 *   1. the entry has a link that nt_url_canonical() accepts:
 *        "link\0<canonical link>"   (the same story in two feeds, or with
 *        utm_* parameters, gets the same id)
 *   2. the entry has a guid (RSS guid, Atom id, JSON Feed id), or else a
 *      link that is not an absolute http(s) URL:
 *        "guid\0<feed>\0<guid or link>"
 *   3. otherwise: "title\0<feed>\0<title>\0<published as RFC 3339 or "">"
 * `revision` is 16 lower-case hex digits of XXH3_64bits over
 * "<title>\0<summary>\0<content>" in plain text. */
#ifndef NT_ARTICLE_H
#define NT_ARTICLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/feed.h"

#define NT_ARTICLE_SCHEMA "newstap.article/1"

/* Where an article's content came from: not said (an article of a feed
 * whose pages are not wanted), the feed entry, or the linked page. */
enum nt_article_source {
        NT_ARTICLE_SOURCE_NONE = 0,
        NT_ARTICLE_SOURCE_FEED,
        NT_ARTICLE_SOURCE_PAGE,
};

/* Strings are owned (malloc'd, freed by nt_article_free) and NULL when
 * there is no value. Dates are ms since the epoch, UTC, or
 * NT_FEED_NO_DATE. */
struct nt_article {
        char id[33];       /* 32 hex digits + NUL */
        char revision[17]; /* 16 hex digits + NUL */
        char *feed_url;
        char *feed_title;
        char *feed_link;
        char *url;     /* the entry's link */
        char *guid;    /* the entry's id as the feed wrote it */
        char *title;   /* plain text */
        char *summary; /* plain text (HTML turned to text) */
        char *content; /* plain text */
        char *language;
        struct nt_feed_person *authors; /* the entry's, else the feed's */
        size_t n_authors;
        char **categories;
        size_t n_categories;
        struct nt_feed_enclosure *enclosures;
        size_t n_enclosures;
        struct nt_feed_image image; /* the entry's picture; url NULL: none */
        enum nt_article_source content_source; /* where content came from */
        char *page_error; /* why the page's text was not used, or NULL */
        int64_t published;
        int64_t updated;
        int64_t fetched;
};

void nt_article_init(struct nt_article *art);

/* Frees what the article holds and leaves it empty. NULL-safe. */
void nt_article_free(struct nt_article *art);

/* Builds the article of one entry of `feed` (copying what it needs, so
 * the feed may be freed afterwards). `feed_url` is the URL the feed was
 * fetched from (may be NULL); `fetched_ms` when. Summary and content are
 * turned to plain text with nt_html_to_text(), each at most
 * feed->limits.max_field bytes. `art` must be initialised; on error it is
 * left empty. Returns 0, NT_ERR_NOMEM. */
int nt_article_from_entry(const struct nt_feed *feed,
                          const struct nt_feed_entry *entry,
                          const char *feed_url, int64_t fetched_ms,
                          struct nt_article *art, char *errstr,
                          size_t errstr_size);

/* The article as JSON: {"schema","id","revision","feed":{"url","title",
 * "link"},"url","guid","title","summary","content","authors":[{"name",
 * "email","uri"}],"categories":[..],"language","published","updated",
 * "fetched","enclosures":[{"url","length","type"}]}; dates RFC 3339 UTC
 * or null, enclosure length an integer or null. Then, only when set:
 * "image":{"url","type","width","height"} (sizes integers or null),
 * "content_source" ("feed" or "page") and "page_error". Caller frees
 * with json_decref(); NULL when out of memory. */
json_t *nt_article_to_json(const struct nt_article *art);

/* The same JSON as one line without a newline (what goes on Kafka),
 * byte for byte what json_dumps(nt_article_to_json(art), JSON_COMPACT |
 * JSON_PRESERVE_ORDER) gives, written directly (common/json_out.h).
 * Caller frees with free(); NULL when out of memory. */
char *nt_article_to_json_line(const struct nt_article *art);

/* The same, and its length in *len (no strlen needed). */
char *nt_article_to_json_line_len(const struct nt_article *art, size_t *len);

/* Sets where the article's content came from and, when not NULL, why
 * its page's text was not used (copied). NT_OK or NT_ERR_NOMEM. */
int nt_article_set_source(struct nt_article *art, enum nt_article_source source,
                          const char *page_error);

/* Reads an article back from its JSON (the consumer's side, and replay
 * of JSON lines). The schema tag must be NT_ARTICLE_SCHEMA and id and
 * revision must be present; other fields may be missing; content_source,
 * when present, must be "feed" or "page". `art` must be initialised; on
 * error it is left empty. Returns 0 or NT_ERR_PARSE (errstr says which
 * field), NT_ERR_NOMEM. */
int nt_article_from_json(const json_t *obj, struct nt_article *art,
                         char *errstr, size_t errstr_size);

#endif
