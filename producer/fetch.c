#include "producer/fetch.h"
#include "common/buf.h"
#include "common/date.h"
#include "common/err.h"
#include "common/num.h"
#include "common/url.h"
#include "producer/schedule.h"

#include <curl/curl.h>
#include <xxhash.h>

#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* What libcurl keeps for one host between its transfers: its
 * connections and its DNS cache, in a share handle of its own
 * (CURL_LOCK_DATA_CONNECT and _DNS; one thread, so no lock callbacks).
 * Why not libcurl's multi-wide caches: libcurl 7.88 drops the oldest idle
 * connection when its cache is full (4 per easy handle added) but leaves
 * the host's "bundle" in the cache's hash, empty; every later eviction
 * and every curl_multi_remove_handle() walks all of them, so with
 * thousands of hosts each transfer cost grew with the number of hosts
 * ever polled (0.05 ms at 1,000 feeds, 0.1 ms at 50,000). Its DNS cache
 * is walked after every transfer too. A host's share holds only its own
 * few connections and names, and goes when the host has nothing queued
 * or running: a connection kept open for the next poll of a feed, 15
 * minutes later, would only hold a socket on both sides. Refcounted: the
 * host holds one reference, each easy handle attached to it another (a
 * transfer redirected to another host keeps its first host's share). */
struct conn_share {
        CURLSH *share;
        int users;
};

/* One host: its queued requests and its running count, found by a hash
 * of its name, so that starting a transfer costs the same with 50,000
 * feeds queued as with ten. A host with nothing queued or running is
 * freed, and its connections closed. */
struct host {
        struct host *chain;       /* hash bucket link */
        struct xfer *head, *tail; /* queued, oldest first */
        int running;              /* transfers to it now */
        struct nt_timer ready;    /* in the fetcher's `ready` heap while it has
                                     a request queued and a free slot, keyed
                                     by that request's sequence number */
        struct conn_share *conns; /* NULL (out of memory): libcurl's own */
        uint64_t hash;
        char name[256];
};

/* One fetch, from the queue through its redirect hops to a result. */
struct xfer {
        struct xfer *next; /* queue link */
        CURL *easy;
        struct curl_slist *req_headers;
        struct nt_fetch_result *res;
        struct nt_buf body;
        char *retry_after; /* raw header values, parsed at the end */
        char *cache_control;
        struct host *host;        /* of the current hop; NULL once done */
        struct conn_share *conns; /* attached to the easy handle, or NULL */
        uint64_t seq;             /* order of arrival */
        int slot;                 /* index in `running`, -1 when not running */
        int all_permanent;        /* every hop so far was 301/308 */
        int body_too_big;         /* the write callback hit max_body */
        long timeout_ms;          /* of each hop */
        char curl_err[CURL_ERROR_SIZE];
};

struct nt_fetcher {
        CURLM *multi;
        struct nt_fetch_limits lim;
        char *user_agent;
        struct host **buckets; /* n_buckets, a power of two */
        size_t n_buckets, n_hosts;
        /* Hosts that could start a transfer now, the one with the oldest
         * queued request first: the queue's order across hosts, skipping
         * those at their limit, without walking it. */
        struct nt_timer_heap ready;
        uint64_t seq;
        size_t n_queued;
        struct xfer **running; /* max_transfers slots */
        int n_running;
        struct xfer *done_head, *done_tail; /* finished, oldest first */
};

void nt_fetch_limits_default(struct nt_fetch_limits *lim)
{
        lim->max_transfers = 32;
        lim->max_per_host = 2;
        lim->connect_timeout_ms = 10000;
        lim->timeout_ms = 60000;
        lim->max_body = 32u << 20;
        lim->max_redirects = 5;
        lim->max_queue = 100000;
        lim->user_agent = NULL;
}

void nt_fetch_result_free(struct nt_fetch_result *res)
{
        if (!res)
                return;
        free(res->url);
        free(res->final_url);
        free(res->moved_to);
        free(res->etag);
        free(res->last_modified);
        free(res->content_type);
        free(res->content_location);
        free(res->body);
        free(res);
}

/* A share for a new host's connections and DNS cache (NULL: out of
 * memory; its transfers then use libcurl's caches, as before). */
static struct conn_share *conn_share_new(void)
{
        struct conn_share *c = calloc(1, sizeof(*c));

        if (!c)
                return NULL;
        c->share = curl_share_init();
        if (!c->share ||
            curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) !=
                CURLSHE_OK ||
            curl_share_setopt(c->share, CURLSHOPT_SHARE,
                              CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
                curl_share_cleanup(c->share);
                free(c);
                return NULL;
        }
        c->users = 1;
        return c;
}

/* Drops one reference; the last closes the host's connections. Every
 * easy handle that used the share has been cleaned up by then (libcurl
 * refuses to clean up a share in use). */
static void conn_share_release(struct conn_share *c)
{
        if (!c || --c->users > 0)
                return;
        curl_share_cleanup(c->share);
        free(c);
}

/* Attaches the host's share to a new easy handle. */
static void conn_share_attach(struct xfer *x, struct host *h)
{
        if (!h->conns)
                return;
        x->conns = h->conns;
        x->conns->users++;
        curl_easy_setopt(x->easy, CURLOPT_SHARE, x->conns->share);
}

static void xfer_free(struct xfer *x)
{
        if (!x)
                return;
        if (x->easy)
                curl_easy_cleanup(x->easy);
        conn_share_release(x->conns);
        curl_slist_free_all(x->req_headers);
        nt_fetch_result_free(x->res);
        nt_buf_free(&x->body);
        free(x->retry_after);
        free(x->cache_control);
        free(x);
}

long nt_fetch_parse_retry_after(const char *value, long long now_s)
{
        const int64_t max_s = 365LL * 86400; /* longer is not believed */
        int64_t secs, ms;

        if (!value)
                return -1;
        while (isspace((unsigned char)*value))
                value++;
        if (nt_num_parse_i64(value, 0, max_s, &secs) == NT_OK)
                return (long)secs;
        if (nt_date_parse(value, &ms) == NT_OK) {
                secs = ms / 1000 > now_s ? ms / 1000 - now_s : 0;
                return secs <= max_s ? (long)secs : -1;
        }
        return -1;
}

/* strcasestr is a GNU extension; this is the portable few lines. */
static const char *find_nocase(const char *hay, const char *needle)
{
        size_t n = strlen(needle);

        for (; *hay; hay++)
                if (strncasecmp(hay, needle, n) == 0)
                        return hay;
        return NULL;
}

long nt_fetch_parse_max_age(const char *value)
{
        const char *p = value;
        char digits[24];
        int64_t v;
        size_t n;

        while (p && (p = find_nocase(p, "max-age")) != NULL) {
                /* "s-maxage" is for shared caches; we are a private one. */
                if (p != value &&
                    (isalnum((unsigned char)p[-1]) || p[-1] == '-')) {
                        p += 7;
                        continue;
                }
                p += 7;
                while (*p == ' ')
                        p++;
                if (*p != '=')
                        continue;
                p++;
                while (*p == ' ' || *p == '"')
                        p++;
                for (n = 0;
                     isdigit((unsigned char)p[n]) && n + 1 < sizeof(digits);
                     n++)
                        digits[n] = p[n];
                digits[n] = '\0';
                if (nt_num_parse_i64(digits, 0, INT32_MAX, &v) == NT_OK)
                        return (long)v;
                return -1;
        }
        return -1;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
        struct xfer *x = userdata;
        size_t n = size * nmemb;

        if (nt_buf_append(&x->body, ptr, n) != NT_OK) {
                x->body_too_big = 1;
                return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
        }
        return n;
}

/* Stores a copy of the header value, without surrounding white space. */
static void keep_header(char **slot, const char *v, size_t len)
{
        while (len && isspace((unsigned char)*v)) {
                v++;
                len--;
        }
        while (len && isspace((unsigned char)v[len - 1]))
                len--;
        free(*slot);
        *slot = strndup(v, len);
}

static size_t on_header(char *line, size_t size, size_t nitems, void *userdata)
{
        struct xfer *x = userdata;
        size_t n = size * nitems;
        const char *colon = memchr(line, ':', n);
        size_t name_len;

        /* A new status line starts a new response (e.g. after 100). */
        if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
                free(x->res->etag);
                free(x->res->last_modified);
                free(x->res->content_type);
                free(x->res->content_location);
                free(x->retry_after);
                free(x->cache_control);
                x->res->etag = x->res->last_modified = NULL;
                x->res->content_type = x->res->content_location = NULL;
                x->retry_after = x->cache_control = NULL;
                return n;
        }
        if (!colon)
                return n;
        name_len = (size_t)(colon - line);
        colon++;
#define IS(name) \
        (name_len == sizeof(name) - 1 && strncasecmp(line, name, name_len) == 0)
        if (IS("etag"))
                keep_header(&x->res->etag, colon, n - name_len - 1);
        else if (IS("last-modified"))
                keep_header(&x->res->last_modified, colon, n - name_len - 1);
        else if (IS("content-type"))
                keep_header(&x->res->content_type, colon, n - name_len - 1);
        else if (IS("content-location"))
                keep_header(&x->res->content_location, colon, n - name_len - 1);
        else if (IS("retry-after"))
                keep_header(&x->retry_after, colon, n - name_len - 1);
        else if (IS("cache-control"))
                keep_header(&x->cache_control, colon, n - name_len - 1);
#undef IS
        return n;
}

/* The host of a URL ("" when it has none). */
static void host_of(const char *url, char *host, size_t size)
{
        CURLU *u = curl_url();
        char *h = NULL;

        host[0] = '\0';
        if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK)
                snprintf(host, size, "%s", h);
        curl_free(h);
        curl_url_cleanup(u);
}

static struct host *host_of_timer(struct nt_timer *t)
{
        return (struct host *)(void *)((char *)t -
                                       offsetof(struct host, ready));
}

/* The host named `name`, created when new (NULL: out of memory). */
static struct host *host_get(nt_fetcher_t *f, const char *name)
{
        uint64_t hash = XXH3_64bits(name, strlen(name));
        struct host *h;
        size_t b;

        for (h = f->buckets[hash & (f->n_buckets - 1)]; h; h = h->chain)
                if (h->hash == hash && strcmp(h->name, name) == 0)
                        return h;
        /* Grow at one host per bucket; the ready heap gets room for every
         * host now, so that queueing one later cannot fail. */
        if (f->n_hosts + 1 > f->n_buckets) {
                size_t n = f->n_buckets * 2, i;
                struct host **nb = calloc(n, sizeof(*nb));

                if (!nb)
                        return NULL;
                for (i = 0; i < f->n_buckets; i++) {
                        while ((h = f->buckets[i]) != NULL) {
                                f->buckets[i] = h->chain;
                                h->chain = nb[h->hash & (n - 1)];
                                nb[h->hash & (n - 1)] = h;
                        }
                }
                free(f->buckets);
                f->buckets = nb;
                f->n_buckets = n;
        }
        if (nt_timer_heap_reserve(&f->ready, f->n_hosts + 1) != NT_OK)
                return NULL;
        h = calloc(1, sizeof(*h));
        if (!h)
                return NULL;
        h->hash = hash;
        h->conns = conn_share_new();
        snprintf(h->name, sizeof(h->name), "%s", name);
        b = hash & (f->n_buckets - 1);
        h->chain = f->buckets[b];
        f->buckets[b] = h;
        f->n_hosts++;
        return h;
}

/* Frees a host with nothing queued or running. */
static void host_put(nt_fetcher_t *f, struct host *h)
{
        struct host **pp;

        if (h->head || h->running > 0)
                return;
        nt_timer_heap_remove(&f->ready, &h->ready);
        for (pp = &f->buckets[h->hash & (f->n_buckets - 1)]; *pp;
             pp = &(*pp)->chain) {
                if (*pp == h) {
                        *pp = h->chain;
                        break;
                }
        }
        f->n_hosts--;
        conn_share_release(h->conns);
        free(h);
}

/* Puts the host in the ready heap, or takes it out, as its queue and
 * running count say. */
static void host_update(nt_fetcher_t *f, struct host *h)
{
        if (h->head && h->running < f->lim.max_per_host) {
                if (!nt_timer_queued(&h->ready) ||
                    h->ready.at != (int64_t)h->head->seq)
                        nt_timer_heap_push(&f->ready, &h->ready,
                                           (int64_t)h->head->seq);
        } else {
                nt_timer_heap_remove(&f->ready, &h->ready);
        }
}

/* Moves a running transfer's count from its host to `name`'s (a redirect
 * to another host). NT_ERR_NOMEM leaves it where it was. */
static int host_move(nt_fetcher_t *f, struct xfer *x, const char *name)
{
        struct host *old = x->host, *h;

        if (strcmp(old->name, name) == 0)
                return NT_OK;
        h = host_get(f, name);
        if (!h)
                return NT_ERR_NOMEM;
        h->running++;
        host_update(f, h);
        x->host = h;
        old->running--;
        host_update(f, old);
        host_put(f, old);
        return NT_OK;
}

/* Points the easy handle at x->res->final_url for the next hop. */
static int xfer_setup(nt_fetcher_t *f, struct xfer *x)
{
        CURL *e = x->easy;

        nt_buf_reset(&x->body);
        x->body_too_big = 0;
        curl_easy_setopt(e, CURLOPT_URL, x->res->final_url);
        curl_easy_setopt(e, CURLOPT_PRIVATE, x);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->curl_err);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->req_headers);
        /* Every encoding libcurl can decode; the body limit applies to
         * the decoded bytes, so a small compressed bomb is still cut. */
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        /* Redirects are followed by hand (see finish()) so that each hop's
         * status is known: only an all-permanent chain moves the feed. */
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                         f->lim.connect_timeout_ms);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, x->timeout_ms);
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                         (curl_off_t)f->lim.max_body);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
        if (f->user_agent)
                curl_easy_setopt(e, CURLOPT_USERAGENT, f->user_agent);
        return curl_multi_add_handle(f->multi, e) == CURLM_OK ? NT_OK
                                                              : NT_ERR_NOMEM;
}

nt_fetcher_t *nt_fetcher_new(const struct nt_fetch_limits *lim, char *errstr,
                             size_t errstr_size)
{
        nt_fetcher_t *f;

        if (lim->max_transfers < 1 || lim->max_per_host < 1 ||
            lim->max_queue < 1) {
                nt_errf(errstr, errstr_size, NT_ERR_INVALID,
                        "fetch limits must be positive");
                return NULL;
        }
        f = calloc(1, sizeof(*f));
        if (!f)
                goto nomem;
        f->lim = *lim;
        nt_timer_heap_init(&f->ready);
        f->multi = curl_multi_init();
        f->running = calloc((size_t)lim->max_transfers, sizeof(*f->running));
        f->n_buckets = 64;
        f->buckets = calloc(f->n_buckets, sizeof(*f->buckets));
        if (lim->user_agent)
                f->user_agent = strdup(lim->user_agent);
        f->lim.user_agent = NULL;
        if (!f->multi || !f->running || !f->buckets ||
            (lim->user_agent && !f->user_agent))
                goto nomem;
        return f;
nomem:
        nt_fetcher_destroy(f);
        nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
        return NULL;
}

void nt_fetcher_destroy(nt_fetcher_t *f)
{
        struct xfer *x;
        struct host *h;
        size_t b;
        int i;

        if (!f)
                return;
        for (i = 0; i < f->n_running; i++) {
                curl_multi_remove_handle(f->multi, f->running[i]->easy);
                xfer_free(f->running[i]);
        }
        for (b = 0; f->buckets && b < f->n_buckets; b++) {
                while ((h = f->buckets[b]) != NULL) {
                        f->buckets[b] = h->chain;
                        while ((x = h->head) != NULL) {
                                h->head = x->next;
                                xfer_free(x);
                        }
                        conn_share_release(h->conns);
                        free(h);
                }
        }
        while ((x = f->done_head) != NULL) {
                f->done_head = x->next;
                xfer_free(x);
        }
        if (f->multi)
                curl_multi_cleanup(f->multi);
        nt_timer_heap_free(&f->ready);
        free(f->buckets);
        free(f->running);
        free(f->user_agent);
        free(f);
}

static int add_header(struct curl_slist **list, const char *name,
                      const char *value)
{
        char line[1024];
        struct curl_slist *l;

        snprintf(line, sizeof(line), "%s: %s", name, value);
        l = curl_slist_append(*list, line);
        if (!l)
                return NT_ERR_NOMEM;
        *list = l;
        return NT_OK;
}

int nt_fetcher_add(nt_fetcher_t *f, const struct nt_fetch_request *req)
{
        struct xfer *x;
        struct host *h;
        char host[256];
        size_t i;
        int err = NT_ERR_NOMEM;

        if (f->n_queued >= f->lim.max_queue)
                return NT_ERR_LIMIT;
        x = calloc(1, sizeof(*x));
        if (!x)
                return NT_ERR_NOMEM;
        nt_buf_init(&x->body, f->lim.max_body);
        x->res = calloc(1, sizeof(*x->res));
        if (!x->res)
                goto fail;
        x->res->opaque = req->opaque;
        x->res->retry_after_s = -1;
        x->res->max_age_s = -1;
        x->res->url = strdup(req->url);
        x->res->final_url = strdup(req->url);
        x->all_permanent = 1;
        x->slot = -1;
        x->timeout_ms =
            req->timeout_ms > 0 ? req->timeout_ms : f->lim.timeout_ms;
        if (!x->res->url || !x->res->final_url)
                goto fail;
        if (req->etag && *req->etag &&
            add_header(&x->req_headers, "If-None-Match", req->etag))
                goto fail;
        if (req->last_modified && *req->last_modified &&
            add_header(&x->req_headers, "If-Modified-Since",
                       req->last_modified))
                goto fail;
        for (i = 0; req->headers && req->headers[i]; i++) {
                struct curl_slist *l =
                    curl_slist_append(x->req_headers, req->headers[i]);
                if (!l)
                        goto fail;
                x->req_headers = l;
        }
        host_of(req->url, host, sizeof(host));
        h = host_get(f, host);
        if (!h)
                goto fail;
        x->seq = f->seq++;
        x->host = h;
        if (h->tail)
                h->tail->next = x;
        else
                h->head = x;
        h->tail = x;
        f->n_queued++;
        host_update(f, h);
        return NT_OK;
fail:
        xfer_free(x);
        return err;
}

static void push_done(nt_fetcher_t *f, struct xfer *x);

/* Moves queued requests into free slots, oldest first, skipping hosts
 * that are at their limit: each start takes the host with the oldest
 * request from the ready heap. */
static void fill_slots(nt_fetcher_t *f)
{
        struct nt_timer *t;

        while (f->n_running < f->lim.max_transfers &&
               (t = nt_timer_heap_peek(&f->ready)) != NULL) {
                struct host *h = host_of_timer(t);
                struct xfer *x = h->head;

                h->head = x->next;
                if (!h->head)
                        h->tail = NULL;
                f->n_queued--;
                x->next = NULL;
                x->easy = curl_easy_init();
                if (x->easy)
                        conn_share_attach(x, h);
                if (!x->easy || xfer_setup(f, x) != NT_OK) {
                        /* Out of memory: report it as a failed fetch so
                         * the feed is retried later. */
                        x->res->err = NT_ERR_TRANSIENT;
                        snprintf(x->res->errstr, sizeof(x->res->errstr),
                                 "cannot start transfer (out of memory)");
                        x->host = NULL;
                        host_update(f, h);
                        host_put(f, h);
                        push_done(f, x);
                        continue;
                }
                h->running++;
                host_update(f, h);
                x->slot = f->n_running;
                f->running[f->n_running++] = x;
        }
}

/* Completes the result and moves the transfer to the done list (no
 * allocation, so a finished fetch is never lost). */
static void push_done(nt_fetcher_t *f, struct xfer *x)
{
        /* A failed fetch hands out no partial body: half a feed parsed
         * as if whole would drop the articles it cut. */
        if (x->res->err == NT_OK) {
                x->res->body_len = x->body.len;
                x->res->body = nt_buf_detach(&x->body);
        }
        x->res->retry_after_s =
            nt_fetch_parse_retry_after(x->retry_after, (long long)time(NULL));
        x->res->max_age_s = nt_fetch_parse_max_age(x->cache_control);
        if (x->res->redirects > 0 && x->all_permanent && x->res->err == NT_OK)
                x->res->moved_to = strdup(x->res->final_url);
        if (x->easy) {
                curl_easy_cleanup(x->easy);
                x->easy = NULL;
        }
        conn_share_release(x->conns);
        x->conns = NULL;
        x->next = NULL;
        if (f->done_tail)
                f->done_tail->next = x;
        else
                f->done_head = x;
        f->done_tail = x;
}

/* Frees the transfer's slot and its count on its host. */
static void remove_running(nt_fetcher_t *f, struct xfer *x)
{
        struct host *h = x->host;

        f->running[x->slot] = f->running[--f->n_running];
        f->running[x->slot]->slot = x->slot;
        x->slot = -1;
        x->host = NULL;
        h->running--;
        host_update(f, h);
        host_put(f, h);
}

/* A transfer finished one hop: follow a redirect or record the result. */
static void finish(nt_fetcher_t *f, struct xfer *x, CURLcode rc)
{
        struct nt_fetch_result *res = x->res;
        double secs = 0;
        char *location = NULL, host[256];

        curl_multi_remove_handle(f->multi, x->easy);
        curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &secs);
        res->seconds += secs;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res->status);
        if (rc != CURLE_OK) {
                if (x->body_too_big || rc == CURLE_FILESIZE_EXCEEDED) {
                        res->err = NT_ERR_LIMIT;
                        res->body_too_big = 1;
                        snprintf(res->errstr, sizeof(res->errstr),
                                 "body larger than %zu bytes", f->lim.max_body);
                } else if (rc == CURLE_OPERATION_TIMEDOUT) {
                        res->err = NT_ERR_TIMEOUT;
                        snprintf(res->errstr, sizeof(res->errstr), "%s",
                                 x->curl_err[0] ? x->curl_err
                                                : curl_easy_strerror(rc));
                } else {
                        res->err = NT_ERR_TRANSIENT;
                        snprintf(res->errstr, sizeof(res->errstr), "%s",
                                 x->curl_err[0] ? x->curl_err
                                                : curl_easy_strerror(rc));
                }
                goto done;
        }
        if (res->status >= 300 && res->status < 400 && res->status != 304 &&
            curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &location) ==
                CURLE_OK &&
            location) {
                char *next;

                if (!nt_url_is_http(location)) {
                        res->err = NT_ERR_INVALID;
                        snprintf(res->errstr, sizeof(res->errstr),
                                 "redirect to a non-http URL: %.200s",
                                 location);
                        goto done;
                }
                if (res->redirects >= f->lim.max_redirects) {
                        res->err = NT_ERR_LIMIT;
                        snprintf(res->errstr, sizeof(res->errstr),
                                 "more than %d redirects",
                                 f->lim.max_redirects);
                        goto done;
                }
                next = strdup(location);
                if (!next) {
                        res->err = NT_ERR_NOMEM;
                        goto done;
                }
                if (res->status != 301 && res->status != 308)
                        x->all_permanent = 0;
                res->redirects++;
                free(res->final_url);
                res->final_url = next;
                /* The next hop counts against its own host's limit, as
                 * the first did (it starts now, even when that host is
                 * full: it is the same fetch, not a new one). */
                host_of(next, host, sizeof(host));
                if (host_move(f, x, host) == NT_OK && xfer_setup(f, x) == NT_OK)
                        return;
                res->err = NT_ERR_NOMEM;
                snprintf(res->errstr, sizeof(res->errstr), "out of memory");
        }
done:
        remove_running(f, x);
        push_done(f, x);
}

int nt_fetcher_run(nt_fetcher_t *f, int timeout_ms)
{
        CURLMsg *msg;
        int running = 0, left;

        fill_slots(f);
        curl_multi_perform(f->multi, &running);
        curl_multi_poll(f->multi, NULL, 0, timeout_ms, NULL);
        curl_multi_perform(f->multi, &running);
        while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
                struct xfer *x = NULL;

                if (msg->msg != CURLMSG_DONE)
                        continue;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
                                  (char **)&x);
                finish(f, x, msg->data.result);
        }
        fill_slots(f);
        return (int)nt_fetcher_pending(f);
}

struct nt_fetch_result *nt_fetcher_next(nt_fetcher_t *f)
{
        struct xfer *x = f->done_head;
        struct nt_fetch_result *res;

        if (!x)
                return NULL;
        f->done_head = x->next;
        if (!f->done_head)
                f->done_tail = NULL;
        res = x->res;
        x->res = NULL;
        xfer_free(x);
        return res;
}

size_t nt_fetcher_pending(const nt_fetcher_t *f)
{
        return f->n_queued + (size_t)f->n_running;
}
