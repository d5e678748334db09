/* The list of feeds to poll: from the configuration (producer.feeds) and
 * from OPML files, the format feed readers export. Each feed has a URL,
 * an optional name, a poll interval, tags and extra request headers. */
#ifndef NT_FEEDS_H
#define NT_FEEDS_H

#include <jansson.h>
#include "common/config.h"
#include <stddef.h>
#include <stdint.h>

struct nt_feed_spec {
        char *url;  /* http(s); also the feed's key in the state dir */
        char *name; /* as given, else the URL without its userinfo */
        int64_t interval_ms;
        char **tags;    /* NULL-terminated; may be empty */
        char **headers; /* "Name: value", NULL-terminated; may be empty */
        int content;    /* enum nt_content_mode; NT_CONTENT_DEFAULT:
                           producer.content */
};

struct nt_feed_list {
        struct nt_feed_spec *feeds;
        size_t n;
        size_t cap;
        /* An index by URL for nt_feed_list_find(), built as it is needed
         * (a list of 50,000 feeds is checked for duplicates in one pass,
         * not n searches): open addressing, a slot holds 1 + the spec's
         * index, 0 is empty; feeds[0, indexed) are in it. */
        size_t *index;
        size_t index_mask;
        size_t indexed;
};

void nt_feed_list_init(struct nt_feed_list *l);
void nt_feed_list_free(struct nt_feed_list *l);

/* Appends the feeds of a producer.feeds array: objects with "url"
 * (required), "name", "interval" (duration, seconds when a number),
 * "tags" (strings), "headers" (object of strings), "content" ("feed",
 * "page", "auto"). A feed without an
 * interval gets `default_interval_ms`. The array is checked by
 * nt_config_check_feeds() (with a floor of 1 s; producer.min_interval is
 * the configuration's business) and every error is reported, joined by
 * "; ", each naming the element: "producer.feeds[2].interval: ...". A
 * URL listed twice is an error. */
int nt_feed_list_from_json(struct nt_feed_list *l, const json_t *arr,
                           int64_t default_interval_ms, char *errstr,
                           size_t errstr_size);

/* Appends the feeds of an OPML file: every <outline> with an xmlUrl
 * (title or text as the name, enclosing outlines' text as tags). At most
 * 16 MiB of file. URLs already in the list are skipped. */
int nt_feed_list_from_opml(struct nt_feed_list *l, const char *path,
                           int64_t default_interval_ms, char *errstr,
                           size_t errstr_size);

/* Appends the feeds a producer polls with this configuration:
 * producer.feeds, then the `n_opml` OPML files, each feed without an
 * interval getting producer.interval. */
int nt_feed_list_from_config(struct nt_feed_list *l, const nt_config_t *cfg,
                             const char *const *opml, size_t n_opml,
                             char *errstr, size_t errstr_size);

/* Replaces the secret references (common/secret.h: "${env:NAME}",
 * "${file:/path}") in every feed's URL and header lines by what they
 * name, on the machine that fetches the feeds. A feed's name was made
 * before, from the URL as written without its userinfo, so it never
 * holds the secret. An
 * error names the feed and the reference: NT_ERR_NOTFOUND (variable not
 * set), NT_ERR_IO (file unreadable), and the others of
 * nt_secret_resolve(). */
int nt_feed_list_resolve_secrets(struct nt_feed_list *l, char *errstr,
                                 size_t errstr_size);

/* The feed with this URL, or NULL. Entries whose url is NULL (taken by
 * the caller) are skipped. Feeds appended to the list since the last call
 * are indexed first; a caller that changes a feed's URL string in place
 * (other than to NULL) calls nt_feed_list_reindex() after. */
struct nt_feed_spec *nt_feed_list_find(struct nt_feed_list *l, const char *url);

/* Drops the index by URL: the next nt_feed_list_find() builds it again. */
void nt_feed_list_reindex(struct nt_feed_list *l);

/* Frees what one spec owns (not the struct). */
void nt_feed_spec_free(struct nt_feed_spec *f);

#endif
