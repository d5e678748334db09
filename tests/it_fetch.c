/* The fetcher against a real HTTP server on 127.0.0.1: validators and
 * 304, redirects (permanent, temporary, loops, non-http targets), error
 * statuses with Retry-After, timeouts, endless bodies, a gzip bomb, the
 * per-host limit (and that it holds one host only), and a host's
 * connections: reused while it has requests, closed when it has none. */
#include "common/err.h"
#include "producer/fetch.h"
#include "support/httpd.h"

#include <criterion/criterion.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static nt_httpd_t *srv;

static void setup(void)
{
        srv = nt_httpd_start();
        cr_assert_not_null(srv, "cannot start the test HTTP server");
}

static void teardown(void)
{
        nt_httpd_stop(srv);
}

static void route(const char *path, int status, const char *headers,
                  const char *body)
{
        nt_httpd_serve(srv, path, status, headers, body, NULL);
}

static nt_fetcher_t *fetcher(size_t max_body, long timeout_ms)
{
        struct nt_fetch_limits lim;
        char errstr[256];
        nt_fetcher_t *f;

        nt_fetch_limits_default(&lim);
        lim.max_body = max_body;
        lim.timeout_ms = timeout_ms;
        lim.user_agent = "newstap-test/1 (+https://example.invalid/contact)";
        f = nt_fetcher_new(&lim, errstr, sizeof(errstr));
        cr_assert_not_null(f, "%s", errstr);
        return f;
}

/* A fetcher with the default limits but one transfer per host. */
static nt_fetcher_t *one_per_host(void)
{
        struct nt_fetch_limits lim;
        char errstr[256];
        nt_fetcher_t *f;

        nt_fetch_limits_default(&lim);
        lim.max_per_host = 1;
        f = nt_fetcher_new(&lim, errstr, sizeof(errstr));
        cr_assert_not_null(f, "%s", errstr);
        return f;
}

/* /paced: 256 bytes sent in 4 pieces `delay_ms` apart. */
static void paced_route(int delay_ms)
{
        static char body[257];
        struct nt_httpd_route r;

        memset(body, 'b', 256);
        memset(&r, 0, sizeof(r));
        snprintf(r.path, sizeof(r.path), "/paced");
        r.kind = NT_HTTPD_SLOW;
        r.status = 200;
        r.body = body;
        r.body_len = 256;
        r.delay_ms = delay_ms;
        nt_httpd_route(srv, &r);
}

/* Runs the fetcher until one result arrives (at most 30 s). */
static struct nt_fetch_result *wait_result(nt_fetcher_t *f)
{
        time_t deadline = time(NULL) + 30;
        struct nt_fetch_result *res;

        while ((res = nt_fetcher_next(f)) == NULL && time(NULL) < deadline)
                nt_fetcher_run(f, 100);
        cr_assert_not_null(res, "no fetch result within 30 s");
        return res;
}

static struct nt_fetch_result *fetch(nt_fetcher_t *f, const char *path,
                                     const char *etag, const char *lm)
{
        struct nt_fetch_request req;
        char url[256];

        snprintf(url, sizeof(url), "%s%s", nt_httpd_url(srv), path);
        memset(&req, 0, sizeof(req));
        req.url = url;
        req.etag = etag;
        req.last_modified = lm;
        cr_assert_eq(nt_fetcher_add(f, &req), NT_OK);
        return wait_result(f);
}

/* Fetches `path`, which must fail with `want_err` and, unless
 * `errstr_has` is NULL, an errstr holding it; the result, which the
 * caller frees with nt_fetch_result_free(). */
static struct nt_fetch_result *fetch_error(nt_fetcher_t *f, const char *path,
                                           int want_err, const char *errstr_has)
{
        struct nt_fetch_result *res = fetch(f, path, NULL, NULL);

        cr_assert_eq(res->err, want_err, "%s: err %d (%s), want %d", path,
                     res->err, res->errstr, want_err);
        if (errstr_has)
                cr_assert_not_null(strstr(res->errstr, errstr_has),
                                   "%s: errstr \"%s\" lacks \"%s\"", path,
                                   res->errstr, errstr_has);
        return res;
}

TestSuite(fetch, .init = setup, .fini = teardown, .timeout = 60);

Test(fetch, validators_are_sent_and_304_is_reported)
{
        struct nt_httpd_route r;
        struct nt_httpd_request log[4];
        nt_fetcher_t *f = fetcher(1 << 20, 10000);
        struct nt_fetch_result *res;

        memset(&r, 0, sizeof(r));
        snprintf(r.path, sizeof(r.path), "/feed");
        r.status = 200;
        snprintf(r.headers, sizeof(r.headers),
                 "Content-Type: application/rss+xml; charset=utf-8\n"
                 "Cache-Control: public, max-age=600");
        r.body = "<rss/>";
        r.body_len = 6;
        snprintf(r.etag, sizeof(r.etag), "\"v1\"");
        snprintf(r.last_modified, sizeof(r.last_modified),
                 "Mon, 05 Jan 2026 10:00:00 GMT");
        nt_httpd_route(srv, &r);

        res = fetch(f, "/feed", NULL, NULL);
        cr_assert_eq(res->err, NT_OK, "%s", res->errstr);
        cr_assert_eq(res->status, 200);
        cr_assert_str_eq(res->body, "<rss/>");
        cr_assert_str_eq(res->etag, "\"v1\"");
        cr_assert_str_eq(res->last_modified, "Mon, 05 Jan 2026 10:00:00 GMT");
        cr_assert_str_eq(res->content_type,
                         "application/rss+xml; charset=utf-8");
        cr_assert_eq(res->max_age_s, 600);
        cr_assert_null(res->moved_to);

        nt_fetch_result_free(res);
        res = fetch(f, "/feed", "\"v1\"", "Mon, 05 Jan 2026 10:00:00 GMT");
        cr_assert_eq(res->status, 304, "validators must produce a 304");
        cr_assert_eq(res->body_len, 0);
        nt_fetch_result_free(res);

        cr_assert_eq(nt_httpd_requests(srv, "/feed", log, 4), 2);
        cr_assert_str_eq(log[0].if_none_match, "",
                         "the first fetch has no validator");
        cr_assert_str_eq(log[1].if_none_match, "\"v1\"");
        cr_assert_str_eq(log[1].if_modified_since,
                         "Mon, 05 Jan 2026 10:00:00 GMT");
        cr_assert_not_null(strstr(log[0].user_agent, "newstap-test/1"),
                           "User-Agent: %s", log[0].user_agent);
        cr_assert_not_null(strstr(log[0].accept_encoding, "gzip"),
                           "Accept-Encoding: %s", log[0].accept_encoding);
        nt_fetcher_destroy(f);
}

Test(fetch, permanent_redirects_move_the_feed)
{
        nt_fetcher_t *f = fetcher(1 << 20, 10000);
        struct nt_fetch_result *res;

        route("/old", 301, "Location: /older", NULL);
        route("/older", 308, "Location: /new", NULL);
        route("/new", 200, NULL, "<feed/>");
        res = fetch(f, "/old", NULL, NULL);
        cr_assert_eq(res->err, NT_OK, "%s", res->errstr);
        cr_assert_eq(res->status, 200);
        cr_assert_eq(res->redirects, 2);
        cr_assert_not_null(res->moved_to, "301 + 308 is permanent");
        cr_assert_not_null(strstr(res->moved_to, "/new"), "%s", res->moved_to);
        nt_fetch_result_free(res);
        nt_fetcher_destroy(f);
}

Test(fetch, temporary_redirects_do_not_move_the_feed)
{
        static const int codes[] = {302, 303, 307};
        nt_fetcher_t *f = fetcher(1 << 20, 10000);
        struct nt_fetch_result *res;
        char path[32];
        size_t i;

        route("/target", 200, NULL, "<rss/>");
        for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
                snprintf(path, sizeof(path), "/tmp%d", codes[i]);
                route(path, codes[i], "Location: /target", NULL);
                res = fetch(f, path, NULL, NULL);
                cr_assert_eq(res->status, 200, "%d: status %ld", codes[i],
                             res->status);
                cr_assert_null(res->moved_to, "%d must not move the feed",
                               codes[i]);
                cr_assert_not_null(strstr(res->final_url, "/target"));
                nt_fetch_result_free(res);
        }
        /* A permanent hop followed by a temporary one is not permanent. */
        route("/mixed", 301, "Location: /tmp302", NULL);
        res = fetch(f, "/mixed", NULL, NULL);
        cr_assert_eq(res->status, 200);
        cr_assert_null(res->moved_to, "301 then 302 is not permanent");
        nt_fetch_result_free(res);
        nt_fetcher_destroy(f);
}

Test(fetch, redirect_loops_and_non_http_targets_fail)
{
        nt_fetcher_t *f = fetcher(1 << 20, 10000);
        struct nt_fetch_result *res;

        route("/loop-a", 302, "Location: /loop-b", NULL);
        route("/loop-b", 302, "Location: /loop-a", NULL);
        nt_fetch_result_free(
            fetch_error(f, "/loop-a", NT_ERR_LIMIT, "redirects"));

        route("/to-ftp", 301, "Location: ftp://127.0.0.1/feed.xml", NULL);
        res = fetch_error(f, "/to-ftp", NT_ERR_INVALID, "non-http");
        cr_assert_null(res->moved_to);
        nt_fetch_result_free(res);
        nt_fetcher_destroy(f);
}

Test(fetch, error_statuses_and_retry_after)
{
        nt_fetcher_t *f = fetcher(1 << 20, 10000);
        struct nt_fetch_result *res;

        route("/gone", 410, NULL, "gone");
        route("/busy", 429, "Retry-After: 120", "slow down");
        route("/down", 503, "Retry-After: Fri, 31 Dec 2100 23:59:59 GMT",
              "maintenance");
        route("/broken", 500, NULL, "oops");

        res = fetch(f, "/missing", NULL, NULL);
        cr_assert_eq(res->err, NT_OK);
        cr_assert_eq(res->status, 404);
        nt_fetch_result_free(res);
        res = fetch(f, "/gone", NULL, NULL);
        cr_assert_eq(res->status, 410);
        nt_fetch_result_free(res);
        res = fetch(f, "/busy", NULL, NULL);
        cr_assert_eq(res->status, 429);
        cr_assert_eq(res->retry_after_s, 120);
        nt_fetch_result_free(res);
        res = fetch(f, "/down", NULL, NULL);
        cr_assert_eq(res->status, 503);
        /* An HTTP date in 2100 is decades away: not believed (the
         * backoff applies), as a delay of more than a year is not. */
        cr_assert_eq(res->retry_after_s, -1, "%ld", res->retry_after_s);
        nt_fetch_result_free(res);
        res = fetch(f, "/broken", NULL, NULL);
        cr_assert_eq(res->status, 500);
        cr_assert_eq(res->retry_after_s, -1);
        nt_fetch_result_free(res);
        nt_fetcher_destroy(f);
}

Test(fetch, slow_response_times_out)
{
        struct nt_httpd_route r;
        nt_fetcher_t *f = fetcher(1 << 20, 500);
        static char body[4096];

        memset(body, 'a', sizeof(body) - 1);
        memset(&r, 0, sizeof(r));
        snprintf(r.path, sizeof(r.path), "/slow");
        r.kind = NT_HTTPD_SLOW;
        r.status = 200;
        r.body = body;
        r.body_len = sizeof(body) - 1;
        r.delay_ms = 100; /* 64 pieces x 100 ms: far beyond 500 ms */
        nt_httpd_route(srv, &r);
        nt_fetch_result_free(fetch_error(f, "/slow", NT_ERR_TIMEOUT, NULL));
        nt_fetcher_destroy(f);
}

Test(fetch, endless_body_and_gzip_bomb_hit_the_body_limit)
{
        struct nt_httpd_route r;
        nt_fetcher_t *f = fetcher(1 << 20, 20000);
        struct nt_fetch_result *res;

        memset(&r, 0, sizeof(r));
        snprintf(r.path, sizeof(r.path), "/endless");
        r.kind = NT_HTTPD_ENDLESS;
        nt_httpd_route(srv, &r);
        snprintf(r.path, sizeof(r.path), "/bomb");
        r.kind = NT_HTTPD_GZIP_BOMB;
        nt_httpd_route(srv, &r);

        res = fetch_error(f, "/endless", NT_ERR_LIMIT, NULL);
        cr_assert_null(res->body, "no partial body is handed out");
        nt_fetch_result_free(res);
        nt_fetch_result_free(fetch_error(f, "/bomb", NT_ERR_LIMIT, NULL));
        nt_fetcher_destroy(f);
}

Test(fetch, per_host_limit_serialises_transfers)
{
        struct nt_httpd_request log[8];
        struct nt_fetch_request req;
        char url[256];
        nt_fetcher_t *f;
        int i, got = 0;
        time_t deadline;

        paced_route(50); /* each response takes >= 200 ms */

        f = one_per_host();
        snprintf(url, sizeof(url), "%s/paced", nt_httpd_url(srv));
        memset(&req, 0, sizeof(req));
        req.url = url;
        for (i = 0; i < 3; i++)
                cr_assert_eq(nt_fetcher_add(f, &req), NT_OK);
        deadline = time(NULL) + 30;
        while (got < 3 && time(NULL) < deadline) {
                struct nt_fetch_result *res;
                nt_fetcher_run(f, 50);
                while ((res = nt_fetcher_next(f)) != NULL) {
                        cr_assert_eq(res->status, 200, "%s", res->errstr);
                        nt_fetch_result_free(res);
                        got++;
                }
        }
        cr_assert_eq(got, 3);
        cr_assert_eq(nt_httpd_requests(srv, "/paced", log, 8), 3);
        for (i = 1; i < 3; i++)
                cr_assert_geq(log[i].at_ms - log[i - 1].at_ms, 190,
                              "request %d started %lld ms after the one "
                              "before: the per-host limit of 1 was not "
                              "kept",
                              i, log[i].at_ms - log[i - 1].at_ms);
        nt_fetcher_destroy(f);
}

/* A host at its limit holds only its own queue: a request to another
 * host, added after three to the busy one, is served while the busy
 * host's second one still waits. (localhost and 127.0.0.1 are two hosts
 * to the fetcher and one server here.) */
Test(fetch, a_full_host_does_not_hold_another)
{
        struct nt_fetch_request req;
        char busy[256], other[256];
        nt_fetcher_t *f;
        int i, paced_done = 0, paced_before_other = -1;
        time_t deadline;

        /* Each response takes >= 1.2 s, so that the other host's
         * request has more than a second to be served before the busy
         * host's second ends, even on a loaded machine. */
        paced_route(300);
        route("/quick", 200, NULL, "ok");

        f = one_per_host();
        snprintf(busy, sizeof(busy), "%s/paced", nt_httpd_url(srv));
        snprintf(other, sizeof(other), "http://localhost:%s/quick",
                 strrchr(nt_httpd_url(srv), ':') + 1);
        memset(&req, 0, sizeof(req));
        req.url = busy;
        for (i = 0; i < 3; i++)
                cr_assert_eq(nt_fetcher_add(f, &req), NT_OK);
        req.url = other;
        cr_assert_eq(nt_fetcher_add(f, &req), NT_OK);
        deadline = time(NULL) + 30;
        while ((paced_done < 3 || paced_before_other < 0) &&
               time(NULL) < deadline) {
                struct nt_fetch_result *res;

                nt_fetcher_run(f, 20);
                while ((res = nt_fetcher_next(f)) != NULL) {
                        cr_assert_eq(res->status, 200, "%s", res->errstr);
                        if (strstr(res->url, "/quick"))
                                paced_before_other = paced_done;
                        else
                                paced_done++;
                        nt_fetch_result_free(res);
                }
        }
        cr_assert_eq(paced_done, 3, "the busy host's requests all end");
        cr_assert_geq(paced_before_other, 0, "the other host was served");
        cr_assert_leq(paced_before_other, 1,
                      "the other host waited for %d of the busy host's "
                      "requests: held behind a host at its limit",
                      paced_before_other);
        nt_fetcher_destroy(f);
}

/* A bare HTTP/1.1 keep-alive server on 127.0.0.1 that counts the
 * connections it accepts and sees closed (the test server counts
 * requests only). Every request is answered 200 "ok", but /moved, which
 * redirects (301) to http://localhost:PORT/target: another host to the
 * fetcher, the same server here. */
#define CONN_MAX 16

struct conn_server {
        int lfd, port;
        pthread_t thread;
        atomic_int stop, accepted, closed, requests;
        int fds[CONN_MAX];
        char in[CONN_MAX][2048];
        size_t in_len[CONN_MAX];
};

/* Answers every whole request buffered for connection i. */
static void conn_answer(struct conn_server *cs, int i)
{
        char *end, out[256];
        int n;

        while ((end = strstr(cs->in[i], "\r\n\r\n")) != NULL) {
                size_t used = (size_t)(end + 4 - cs->in[i]);

                if (strncmp(cs->in[i], "GET /moved ", 11) == 0)
                        n = snprintf(out, sizeof(out),
                                     "HTTP/1.1 301 Moved Permanently\r\n"
                                     "Location: http://localhost:%d/target\r\n"
                                     "Content-Length: 0\r\n\r\n",
                                     cs->port);
                else
                        n = snprintf(out, sizeof(out),
                                     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                                     "\r\nok");
                cs->requests++;
                if (write(cs->fds[i], out, (size_t)n) != n)
                        break;
                memmove(cs->in[i], cs->in[i] + used, cs->in_len[i] - used + 1);
                cs->in_len[i] -= used;
        }
}

static void *conn_server_run(void *arg)
{
        struct conn_server *cs = arg;
        struct pollfd pfd[CONN_MAX + 1];
        int i;

        while (!cs->stop) {
                pfd[0].fd = cs->lfd;
                pfd[0].events = POLLIN;
                for (i = 0; i < CONN_MAX; i++) {
                        pfd[i + 1].fd = cs->fds[i];
                        pfd[i + 1].events = POLLIN;
                }
                if (poll(pfd, CONN_MAX + 1, 20) <= 0)
                        continue;
                if (pfd[0].revents & POLLIN) {
                        int fd = accept(cs->lfd, NULL, NULL);

                        for (i = 0; fd >= 0 && i < CONN_MAX; i++)
                                if (cs->fds[i] < 0)
                                        break;
                        if (fd >= 0 && i < CONN_MAX) {
                                cs->fds[i] = fd;
                                cs->in_len[i] = 0;
                                cs->accepted++;
                        } else if (fd >= 0) {
                                close(fd);
                        }
                }
                for (i = 0; i < CONN_MAX; i++) {
                        ssize_t r;

                        if (cs->fds[i] < 0 || !(pfd[i + 1].revents &
                                                (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        r = read(cs->fds[i], cs->in[i] + cs->in_len[i],
                                 sizeof(cs->in[i]) - 1 - cs->in_len[i]);
                        if (r <= 0) {
                                close(cs->fds[i]);
                                cs->fds[i] = -1;
                                cs->closed++;
                                continue;
                        }
                        cs->in_len[i] += (size_t)r;
                        cs->in[i][cs->in_len[i]] = '\0';
                        conn_answer(cs, i);
                }
        }
        return NULL;
}

static void conn_server_start(struct conn_server *cs)
{
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        int i;

        memset(cs, 0, sizeof(*cs));
        for (i = 0; i < CONN_MAX; i++)
                cs->fds[i] = -1;
        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        cs->lfd = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert(cs->lfd >= 0 &&
                      bind(cs->lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
                      listen(cs->lfd, 16) == 0 &&
                      getsockname(cs->lfd, (struct sockaddr *)&sa, &sl) == 0,
                  "cannot listen on 127.0.0.1");
        cs->port = ntohs(sa.sin_port);
        cr_assert_eq(pthread_create(&cs->thread, NULL, conn_server_run, cs), 0);
}

static void conn_server_stop(struct conn_server *cs)
{
        int i;

        cs->stop = 1;
        pthread_join(cs->thread, NULL);
        for (i = 0; i < CONN_MAX; i++)
                if (cs->fds[i] >= 0)
                        close(cs->fds[i]);
        close(cs->lfd);
}

/* Waits (at most 10 s) until the server has seen `want` connections
 * closed; returns how many it saw. */
static int wait_closed(struct conn_server *cs, int want)
{
        time_t deadline = time(NULL) + 10;
        const struct timespec tick = {0, 10 * 1000 * 1000};

        while (cs->closed < want && time(NULL) < deadline)
                nanosleep(&tick, NULL);
        return cs->closed;
}

/* Fetches the paths under http://127.0.0.1:PORT one after the other
 * (all queued at once) and checks each is a 200. */
static void fetch_all(nt_fetcher_t *f, int port, const char *const *paths,
                      int n)
{
        struct nt_fetch_request req;
        char url[256];
        int i;

        memset(&req, 0, sizeof(req));
        req.url = url;
        for (i = 0; i < n; i++) {
                snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port,
                         paths[i]);
                cr_assert_eq(nt_fetcher_add(f, &req), NT_OK);
        }
        for (i = 0; i < n; i++) {
                struct nt_fetch_result *res = wait_result(f);

                cr_assert_eq(res->status, 200, "%s: status %ld (%s)", res->url,
                             res->status, res->errstr);
                nt_fetch_result_free(res);
        }
}

/* A feed is polled again minutes later: a connection kept open for it
 * would only hold a socket on both sides. So the host's requests share
 * one connection while they last, and it is closed when the last ends. */
Test(fetch, a_host_keeps_its_connection_while_it_has_requests)
{
        const char *const paths[] = {"/a", "/b", "/c", "/d", "/e"};
        struct conn_server cs;
        nt_fetcher_t *f = one_per_host();

        conn_server_start(&cs);
        fetch_all(f, cs.port, paths, 5);
        cr_assert_eq(cs.requests, 5);
        cr_assert_eq(cs.accepted, 1,
                     "the host's 5 requests took %d connections, not one",
                     cs.accepted);
        cr_assert_eq(wait_closed(&cs, 1), 1,
                     "the connection stayed open after the host's last "
                     "request");

        /* The host comes back: a new connection, closed again. */
        fetch_all(f, cs.port, paths, 1);
        cr_assert_eq(cs.accepted, 2);
        cr_assert_eq(wait_closed(&cs, 2), 2,
                     "the second connection stayed open");
        nt_fetcher_destroy(f);
        conn_server_stop(&cs);
}

/* A redirect to another host outlives its first host (which has nothing
 * left once the transfer moves on): the result arrives and both
 * connections are closed at its end. */
Test(fetch, a_redirect_to_another_host_closes_both_connections)
{
        struct conn_server cs;
        nt_fetcher_t *f = one_per_host();
        struct nt_fetch_request req;
        struct nt_fetch_result *res;
        char url[256], want[256];

        conn_server_start(&cs);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/moved", cs.port);
        snprintf(want, sizeof(want), "http://localhost:%d/target", cs.port);
        memset(&req, 0, sizeof(req));
        req.url = url;
        cr_assert_eq(nt_fetcher_add(f, &req), NT_OK);
        res = wait_result(f);
        cr_assert_eq(res->status, 200, "%s", res->errstr);
        cr_assert_eq(res->redirects, 1);
        cr_assert_str_eq(res->final_url, want);
        nt_fetch_result_free(res);
        cr_assert_eq(cs.requests, 2);
        cr_assert_eq(cs.accepted, 2, "one connection per host");
        cr_assert_eq(wait_closed(&cs, 2), 2,
                     "a connection stayed open after the fetch");
        nt_fetcher_destroy(f);
        conn_server_stop(&cs);
}

Test(fetch, parse_helpers)
{
        cr_assert_eq(nt_fetch_parse_retry_after("30", 0), 30);
        cr_assert_eq(nt_fetch_parse_retry_after("soon", 0), -1);
        cr_assert_eq(nt_fetch_parse_retry_after(NULL, 0), -1);
        cr_assert_eq(nt_fetch_parse_retry_after("31536001", 0), -1);
        /* A date: from now (2026-01-05 10:00:00), and a year away at most,
         * as the number form. */
        cr_assert_eq(nt_fetch_parse_retry_after("Mon, 05 Jan 2026 10:02:00 GMT",
                                                1767607200LL),
                     120);
        cr_assert_eq(nt_fetch_parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT",
                                                1767607200LL),
                     -1, "a date decades away parks the feed");
        cr_assert_eq(nt_fetch_parse_max_age("no-cache, max-age=300"), 300);
        cr_assert_eq(nt_fetch_parse_max_age("s-maxage=100"), -1);
        cr_assert_eq(nt_fetch_parse_max_age("private"), -1);
        cr_assert_eq(nt_fetch_parse_max_age("max-age=\"60\""), 60);
}
