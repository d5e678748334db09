/* A real HTTP server on 127.0.0.1 for tests (libmicrohttpd, ephemeral
 * port): routes with fixed responses, validators answered with 304,
 * redirects, slow and endless bodies and a gzip bomb, and a log of every
 * request it saw, so tests assert what a client really sent. */
#ifndef NT_TEST_HTTPD_H
#define NT_TEST_HTTPD_H

#include <stddef.h>

typedef struct nt_httpd nt_httpd_t;

enum nt_httpd_kind {
        NT_HTTPD_FIXED = 0, /* status, headers and body as given */
        NT_HTTPD_SLOW,      /* the body in 64-byte pieces, `delay_ms` apart */
        NT_HTTPD_ENDLESS,   /* 200 with a body that never ends */
        NT_HTTPD_GZIP_BOMB, /* 200, Content-Encoding: gzip, 256 MiB inflated */
};

struct nt_httpd_route {
        char path[128]; /* exact path, without the query */
        enum nt_httpd_kind kind;
        int status;        /* FIXED / SLOW */
        char headers[512]; /* "Name: value" lines separated by \n */
        const char *body;  /* copied by nt_httpd_route(); may be NULL */
        size_t body_len;
        char etag[64];          /* when set: ETag sent, If-None-Match -> 304 */
        char last_modified[64]; /* when set: sent, If-Modified-Since equal ->
                                   304 */
        int delay_ms;           /* SLOW */
};

struct nt_httpd_request {
        char path[128];
        char if_none_match[64];
        char if_modified_since[64];
        char user_agent[128];
        char accept_encoding[64];
        long long at_ms; /* CLOCK_MONOTONIC milliseconds */
        int status;      /* what the server answered */
};

/* Starts a server on 127.0.0.1 with an ephemeral port. NULL on failure. */
nt_httpd_t *nt_httpd_start(void);
void nt_httpd_stop(nt_httpd_t *srv);

/* The base URL, "http://127.0.0.1:PORT". */
const char *nt_httpd_url(const nt_httpd_t *srv);

/* Adds or replaces the route for r->path (the body is copied). Routes can
 * change while the server runs: a feed that changes between polls. */
void nt_httpd_route(nt_httpd_t *srv, const struct nt_httpd_route *r);

/* nt_httpd_route() of a fixed route: `status`, the header lines
 * `headers` (NULL: none), `body` (NULL: empty; copied) and, unless it is
 * NULL, the ETag `etag` (answered with 304 when asked for). */
void nt_httpd_serve(nt_httpd_t *srv, const char *path, int status,
                    const char *headers, const char *body, const char *etag);

/* Copies up to `max` logged requests for `path` (NULL: all) into out;
 * returns how many there were in all. */
size_t nt_httpd_requests(nt_httpd_t *srv, const char *path,
                         struct nt_httpd_request *out, size_t max);

/* A TCP port on 127.0.0.1 that nobody listens on right now (for a
 * daemon's metrics endpoint beside the server); 0 when there is none. */
unsigned nt_httpd_free_port(void);

#endif
