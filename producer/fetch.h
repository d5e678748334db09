/* HTTP fetching of feeds: many transfers on one libcurl multi handle,
 * driven from the producer's loop (no thread per feed), with a global and
 * a per-host limit on concurrent transfers, timeouts, a bounded body
 * (decoded size, so a gzip bomb is cut), redirects followed by hand so
 * that permanent ones (301/308) can move the feed, conditional GET, and
 * the headers that politeness needs (Retry-After, Cache-Control). */
#ifndef NT_FETCH_H
#define NT_FETCH_H

#include <stddef.h>

typedef struct nt_fetcher nt_fetcher_t;

struct nt_fetch_limits {
        int max_transfers;       /* concurrent transfers in all */
        int max_per_host;        /* concurrent transfers to one host */
        long connect_timeout_ms; /* TCP + TLS handshake */
        long timeout_ms;         /* whole transfer, per hop */
        size_t max_body;         /* decoded bytes; more fails the fetch */
        int max_redirects;       /* hops; more fails the fetch */
        size_t max_queue;        /* requests waiting for a slot */
        const char *user_agent;  /* copied */
};

/* Sensible defaults: 32 transfers, 2 per host, 10 s connect, 60 s total,
 * 32 MiB body, 5 redirects, 100000 queued, no User-Agent. */
void nt_fetch_limits_default(struct nt_fetch_limits *lim);

struct nt_fetch_request {
        const char *url;            /* copied */
        const char *etag;           /* If-None-Match; may be NULL */
        const char *last_modified;  /* If-Modified-Since; may be NULL */
        const char *const *headers; /* extra "Name: value" lines, NULL-
                                     * terminated; may be NULL; copied */
        void *opaque;               /* handed back in the result */
        long timeout_ms; /* time limit of each hop; 0: limits.timeout_ms */
};

struct nt_fetch_result {
        void *opaque;
        int err; /* NT_OK when an HTTP response arrived (any
                  * status); else NT_ERR_TIMEOUT, NT_ERR_LIMIT
                  * (body or redirects), NT_ERR_TRANSIENT
                  * (connection), NT_ERR_INVALID (bad redirect
                  * target) */
        char errstr[256];
        int body_too_big; /* the NT_ERR_LIMIT was max_body */
        long status;      /* final HTTP status, 0 without a response */
        char *url;        /* the URL requested */
        char *final_url;  /* after redirects */
        char *moved_to;   /* set when every redirect was permanent
                           * (301/308): the feed's new URL */
        int redirects;
        char *etag; /* response validators, NULL when absent */
        char *last_modified;
        char *content_type;
        char *content_location;
        long retry_after_s; /* -1 when absent or unreadable */
        long max_age_s;     /* Cache-Control max-age, -1 when absent */
        char *body;         /* decoded body, NUL-terminated */
        size_t body_len;
        double seconds; /* wall time of all hops */
};

/* Frees a result and everything it holds. NULL-safe. */
void nt_fetch_result_free(struct nt_fetch_result *res);

/* Caller frees with nt_fetcher_destroy(). NULL with errstr on failure. */
nt_fetcher_t *nt_fetcher_new(const struct nt_fetch_limits *lim, char *errstr,
                             size_t errstr_size);

/* Aborts every transfer and frees queued requests and results. NULL-safe. */
void nt_fetcher_destroy(nt_fetcher_t *f);

/* Queues a request; it starts as soon as the limits allow. NT_ERR_LIMIT
 * when the queue is full (the caller keeps the feed due and retries). */
int nt_fetcher_add(nt_fetcher_t *f, const struct nt_fetch_request *req);

/* Drives the transfers, waiting at most timeout_ms for network activity.
 * Returns the number of requests not finished yet (running + queued). */
int nt_fetcher_run(nt_fetcher_t *f, int timeout_ms);

/* The next finished fetch, or NULL. Caller frees with
 * nt_fetch_result_free(). */
struct nt_fetch_result *nt_fetcher_next(nt_fetcher_t *f);

/* Requests not finished yet (running + queued). */
size_t nt_fetcher_pending(const nt_fetcher_t *f);

/* Parses a Retry-After value: delay-seconds or an HTTP date, relative to
 * now_s (Unix seconds). Returns seconds to wait (>= 0), or -1 when it is
 * unreadable or more than a year away, either way. */
long nt_fetch_parse_retry_after(const char *value, long long now_s);

/* The max-age of a Cache-Control value, or -1. */
long nt_fetch_parse_max_age(const char *value);

#endif
