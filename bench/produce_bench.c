/* Producer benchmark, three parts, each beside a baseline measured in the
 * same run on the same machine:
 *
 * 1. Fetching: 5,000 feeds on a local HTTP server (libmicrohttpd, the
 *    tests' server). newstap's whole produce loop in once mode (fetch,
 *    parse, article model, publish to the dev broker, state files) versus
 *    bare libcurl multi transfers of the same URLs with a no-op body.
 *    Reports feeds/s, CPU ms per fetch, peak RSS.
 * 2. Publishing: articles/s through the loss-free publisher to a real
 *    broker ($NT_TEST_BOOTSTRAP, skipped without one) versus bare
 *    rd_kafka_producev() with the same producer settings.
 *
 * 3. Re-polling (`repoll` mode): FEEDS feeds that have not changed since
 *    their last poll, each with its state file (validators and a seen-set
 *    of its 10 items), polled once more by the produce loop in once mode:
 *    every answer is 304 Not Modified; a quarter of the states are an
 *    hour old, and rewritten (`repoll-fresh`: none, all saved a minute
 *    ago, to show what the rewrites cost). Versus bare libcurl multi sending
 *    the same conditional GETs, 32 at a time (no per-host limit), with
 *    libcurl's own caches and (column "+share") with a share handle per
 *    host as the fetcher has. The feeds: one in five on one big host, the
 *    rest ten to a host (127.1.x.y), default limits. Reports CPU per
 *    re-poll of the loop's thread (and of the whole process, which also
 *    holds librdkafka's threads and the in-process dev broker), for each
 *    feed count, with its ratio to the first count and to bare libcurl.
 *    The counts are measured in turns for NT_REPOLL_ROUNDS rounds (default
 *    3, the order reversed every other round), each polled at least
 *    10,000 times a round (1,000 feeds: ten loops), so that no figure is
 *    a few milliseconds; every round prints its ratios, and the summary
 *    the medians of the rounds' figures and ratios. The server is this
 *    program's own (a forked single-threaded epoll loop with keep-alive
 *    that makes every answer from the path), since the tests' server
 *    holds at most 8,192 routes.
 *
 * Run: build/release/bench/produce_bench [FEEDS] [ARTICLES]
 * (scripts/with-kafka build/release/bench/produce_bench for part 2);
 * build/release/bench/produce_bench repoll 1000 10000 50000 for part 3
 * (or repoll-fresh). */
/* accept4() for the part 3 server. */
#define _GNU_SOURCE
#include "common/config.h"
#include "common/devbroker.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/log.h"
#include "producer/feeds.h"
#include "producer/producer.h"
#include "producer/publish.h"
#include "producer/state.h"
#include "support/httpd.h"
#include "support/bench.h"

#include <curl/curl.h>
#include <jansson.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long peak_rss_kb(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return ru.ru_maxrss;
}

/* A small news feed: 10 items, about 4 KB. */
static char *feed_body(int n)
{
        char *buf = malloc(8192);
        size_t len = 0;
        int i;

        len += (size_t)snprintf(buf + len, 8192 - len,
                                "<?xml version=\"1.0\"?><rss version=\"2.0\">"
                                "<channel><title>Feed %d</title>"
                                "<link>http://127.0.0.1/%d</link>",
                                n, n);
        for (i = 0; i < 10; i++)
                len += (size_t)snprintf(
                    buf + len, 8192 - len,
                    "<item><title>Story %d of feed %d</title>"
                    "<link>http://news.example/%d/%d</link>"
                    "<pubDate>Mon, 05 Jan 2026 10:%02d:00 GMT</pubDate>"
                    "<description>&lt;p&gt;Negotiators met again on "
                    "security guarantees and the contact line; the "
                    "plant's power line was repaired.&lt;/p&gt;"
                    "</description></item>",
                    i, n, n, i, i);
        snprintf(buf + len, 8192 - len, "</channel></rss>");
        return buf;
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
        (void)p;
        (void)ud;
        return size * n;
}

/* The URL of feed i into buf; ctx says where the feeds are served. */
typedef void feed_url_fn(char *buf, size_t size, const void *ctx, int i);

/* Feed i under the base URL ctx (a string): BASE/feed/I. */
static void url_on_base(char *buf, size_t size, const void *ctx, int i)
{
        snprintf(buf, size, "%s/feed/%d", (const char *)ctx, i);
}

/* The host of feed i as a small number 0..feeds, for a share per host;
 * ctx as for feed_url_fn. */
typedef int feed_host_fn(const void *ctx, int i);

/* One request of curl_get_all(): its headers and its host's number. */
struct bare_req {
        struct curl_slist *headers;
        int host;
};

/* A share holding a host's connections and DNS cache, as the fetcher
 * keeps one per host (producer/fetch.c). */
static CURLSH *bare_share_new(void)
{
        CURLSH *sh = curl_share_init();

        curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
        curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
        return sh;
}

/* Bare libcurl multi: GETs of the feeds 0..feeds-1, 32 at a time, a new
 * easy handle per request as the fetcher does; with `conditional`, each
 * asks If-None-Match: "vI". With host_of, each host's transfers share
 * their connections and DNS cache in a share handle of the host's own,
 * cleaned up (its connections closed) after its last transfer, as the
 * fetcher does; without, libcurl's multi-wide caches. Returns how many
 * were answered 304. */
static int curl_get_all(int feeds, feed_url_fn *url_of, const void *ctx,
                        bool conditional, feed_host_fn *host_of)
{
        CURLM *multi = curl_multi_init();
        CURLSH **shares = NULL;
        int *left_of = NULL; /* requests not yet done, by host */
        int next = 0, running = 0, done = 0, n304 = 0, i;
        char url[256], inm[64];

        if (host_of) {
                shares = calloc((size_t)feeds + 1, sizeof(*shares));
                left_of = calloc((size_t)feeds + 1, sizeof(*left_of));
                if (!shares || !left_of)
                        exit(1);
                for (i = 0; i < feeds; i++)
                        left_of[host_of(ctx, i)]++;
        }
        while (done < feeds) {
                CURLMsg *msg;
                int left;

                while (running < 32 && next < feeds) {
                        CURL *e = curl_easy_init();
                        struct bare_req *r = calloc(1, sizeof(*r));

                        if (!e || !r)
                                exit(1);
                        if (conditional) {
                                snprintf(inm, sizeof(inm),
                                         "If-None-Match: \"v%d\"", next);
                                r->headers = curl_slist_append(NULL, inm);
                        }
                        if (host_of) {
                                r->host = host_of(ctx, next);
                                if (!shares[r->host])
                                        shares[r->host] = bare_share_new();
                                curl_easy_setopt(e, CURLOPT_SHARE,
                                                 shares[r->host]);
                        }
                        url_of(url, sizeof(url), ctx, next++);
                        curl_easy_setopt(e, CURLOPT_URL, url);
                        curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
                        curl_easy_setopt(e, CURLOPT_PRIVATE, r);
                        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
                        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
                        curl_multi_add_handle(multi, e);
                        running++;
                }
                curl_multi_perform(multi, &left);
                curl_multi_poll(multi, NULL, 0, 50, NULL);
                curl_multi_perform(multi, &left);
                while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
                        struct bare_req *r = NULL;
                        long status = 0;

                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        curl_easy_getinfo(msg->easy_handle,
                                          CURLINFO_RESPONSE_CODE, &status);
                        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
                                          (char **)&r);
                        n304 += status == 304;
                        curl_multi_remove_handle(multi, msg->easy_handle);
                        curl_easy_cleanup(msg->easy_handle);
                        if (host_of && --left_of[r->host] == 0) {
                                curl_share_cleanup(shares[r->host]);
                                shares[r->host] = NULL;
                        }
                        curl_slist_free_all(r->headers);
                        free(r);
                        running--;
                        done++;
                }
        }
        curl_multi_cleanup(multi);
        free(shares);
        free(left_of);
        return n304;
}

/* A list of the feeds 0..feeds-1, each polled every 15 minutes. */
static void feed_list_make(struct nt_feed_list *list, int feeds,
                           feed_url_fn *url_of, const void *ctx)
{
        int i;

        nt_feed_list_init(list);
        list->feeds = calloc((size_t)feeds, sizeof(*list->feeds));
        list->cap = (size_t)feeds;
        for (i = 0; i < feeds; i++) {
                struct nt_feed_spec *s = &list->feeds[list->n++];
                char url[256];

                url_of(url, sizeof(url), ctx, i);
                s->url = strdup(url);
                s->interval_ms = 900000;
                s->tags = calloc(1, sizeof(char *));
                s->headers = calloc(1, sizeof(char *));
        }
}

/* What a part leaves behind: its state directory, its dev broker and its
 * HTTP server process. */
static void part_cleanup(const char *state_dir, nt_devbroker_t *db,
                         pid_t server)
{
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", state_dir);
        nt_devbroker_destroy(db);
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
}

/* Baseline: the same URLs with bare libcurl multi, 32 at a time. */
static double curl_baseline(const char *base, int feeds, double *cpu)
{
        double t0 = nt_bench_wall_s(), c0 = nt_bench_cpu_s();

        curl_get_all(feeds, url_on_base, base, false, NULL);
        *cpu = nt_bench_cpu_s() - c0;
        return nt_bench_wall_s() - t0;
}

static double produce_loop(const char *base, int feeds, const char *bootstrap,
                           const char *state_dir, double *cpu)
{
        struct nt_feed_list list;
        char errstr[512];
        nt_config_t *cfg = nt_config_new();
        nt_producer_t *prod;
        double t0, c0;

        nt_config_set_kafka(cfg, "bootstrap.servers", bootstrap, "bench",
                            errstr, sizeof(errstr));
        nt_config_set(cfg, "producer.state_dir", state_dir, "bench", errstr,
                      sizeof(errstr));
        nt_config_set(cfg, "producer.max_per_host", "32", "bench", errstr,
                      sizeof(errstr));
        nt_config_set(cfg, "producer.summary_interval", "0", "bench", errstr,
                      sizeof(errstr));
        nt_config_set(cfg, "producer.max_inflight", "100000", "bench", errstr,
                      sizeof(errstr));
        feed_list_make(&list, feeds, url_on_base, base);
        t0 = nt_bench_wall_s();
        c0 = nt_bench_cpu_s();
        prod = nt_producer_new(cfg, &list, true, errstr, sizeof(errstr));
        if (!prod) {
                fprintf(stderr, "produce_bench: %s\n", errstr);
                exit(1);
        }
        nt_producer_run(prod, NULL, NULL);
        *cpu = nt_bench_cpu_s() - c0;
        t0 = nt_bench_wall_s() - t0;
        nt_producer_destroy(prod);
        nt_config_destroy(cfg);
        return t0;
}

/* The publishers run in a child process, so that their CPU is not
 * counted as newstap's. Returns the child's pid; the base URL goes into
 * url. */
static pid_t start_server(int feeds, char *url, size_t size)
{
        int fds[2];
        pid_t pid;
        ssize_t n;

        if (pipe(fds) != 0)
                exit(1);
        pid = fork();
        if (pid == 0) {
                nt_httpd_t *srv = nt_httpd_start();
                int i;

                for (i = 0; srv && i < feeds; i++) {
                        struct nt_httpd_route r;
                        memset(&r, 0, sizeof(r));
                        snprintf(r.path, sizeof(r.path), "/feed/%d", i);
                        r.status = 200;
                        snprintf(r.headers, sizeof(r.headers),
                                 "Content-Type: application/rss+xml");
                        r.body = feed_body(i);
                        r.body_len = strlen(r.body);
                        nt_httpd_route(srv, &r);
                        free((char *)r.body);
                }
                if (!srv || write(fds[1], nt_httpd_url(srv),
                                  strlen(nt_httpd_url(srv))) < 0)
                        _exit(1);
                close(fds[1]);
                pause(); /* until the benchmark kills it */
                _exit(0);
        }
        close(fds[1]);
        n = read(fds[0], url, size - 1);
        close(fds[0]);
        if (n <= 0) {
                fprintf(stderr,
                        "produce_bench: the HTTP server did not start\n");
                exit(1);
        }
        url[n] = '\0';
        return pid;
}

static void part_fetch(int feeds)
{
        nt_devbroker_t *db;
        char errstr[512], state_dir[64], url[128];
        double t_curl, c_curl, t_nt, c_nt;
        long rss_before;
        pid_t server = start_server(feeds, url, sizeof(url));

        db = nt_devbroker_new(1, errstr, sizeof(errstr));
        nt_devbroker_create_topic(db, "news.raw", 3, errstr, sizeof(errstr));
        snprintf(state_dir, sizeof(state_dir), "/tmp/nt-bench-XXXXXX");
        if (!mkdtemp(state_dir))
                exit(1);

        t_curl = curl_baseline(url, feeds, &c_curl);
        rss_before = peak_rss_kb();
        t_nt = produce_loop(url, feeds, nt_devbroker_bootstraps(db), state_dir,
                            &c_nt);
        printf("fetch: %d feeds, 10 items each, local HTTP server\n", feeds);
        printf("  bare libcurl multi : %8.0f feeds/s  %6.3f ms CPU/fetch\n",
               feeds / t_curl, c_curl * 1000 / feeds);
        printf("  newstap produce    : %8.0f feeds/s  %6.3f ms CPU/fetch "
               "(fetch+parse+publish+state)\n",
               feeds / t_nt, c_nt * 1000 / feeds);
        printf("  ratio newstap/bare : %.2f of the feeds/s, %.1fx the CPU\n",
               t_curl / t_nt, c_nt / c_curl);
        printf("  peak RSS           : %ld MiB (%ld MiB before the loop)\n",
               peak_rss_kb() / 1024, rss_before / 1024);
        part_cleanup(state_dir, db, server);
}

static void part_publish(int articles)
{
        const char *bootstrap = nt_bench_bootstrap("publish");
        const char *props[] = {"bootstrap.servers",
                               bootstrap,
                               "enable.idempotence",
                               "true",
                               "acks",
                               "all",
                               "compression.type",
                               "zstd",
                               NULL};
        char errstr[512], key[40], value[1600], topic[64];
        nt_config_t *cfg;
        nt_publisher_t *pub;
        rd_kafka_t *rk;
        double t0, t_bare, t_pub;
        int i;

        if (!bootstrap)
                return;
        memset(value, 'x', sizeof(value) - 1);
        value[sizeof(value) - 1] = '\0';
        snprintf(topic, sizeof(topic), "bench-bare-%ld", (long)getpid());
        rk = nt_kafka_producer_new(NULL, props, NULL, NULL, errstr,
                                   sizeof(errstr));
        t0 = nt_bench_wall_s();
        for (i = 0; i < articles; i++) {
                snprintf(key, sizeof(key), "%032d", i);
                while (rd_kafka_producev(
                           rk, RD_KAFKA_V_TOPIC(topic),
                           RD_KAFKA_V_KEY(key, strlen(key)),
                           RD_KAFKA_V_VALUE(value, sizeof(value) - 1),
                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                           RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        rd_kafka_poll(rk, 10);
                rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 120000);
        t_bare = nt_bench_wall_s() - t0;
        rd_kafka_destroy(rk);

        cfg = nt_config_new();
        nt_config_set_kafka(cfg, "bootstrap.servers", bootstrap, "bench",
                            errstr, sizeof(errstr));
        snprintf(topic, sizeof(topic), "bench-pub-%ld", (long)getpid());
        pub = nt_publisher_new(cfg, topic, 100000, NULL, NULL, errstr,
                               sizeof(errstr));
        t0 = nt_bench_wall_s();
        for (i = 0; i < articles; i++) {
                struct nt_publish_meta meta;
                memset(&meta, 0, sizeof(meta));
                snprintf(key, sizeof(key), "%032d", i);
                meta.key = key;
                meta.revision = "0123456789abcdef";
                meta.feed_url = "http://127.0.0.1/feed";
                while (nt_publisher_send(pub, &meta, value,
                                         sizeof(value) - 1) == NT_ERR_LIMIT)
                        nt_publisher_poll(pub, 10);
                nt_publisher_poll(pub, 0);
        }
        while (nt_publisher_inflight(pub) > 0)
                nt_publisher_poll(pub, 10);
        t_pub = nt_bench_wall_s() - t0;
        nt_publisher_destroy(pub, 1000);
        nt_config_destroy(cfg);
        printf("publish: %d articles of %zu bytes, idempotent, acks=all, "
               "zstd, real broker\n",
               articles, sizeof(value) - 1);
        printf("  bare rd_kafka_producev : %8.0f articles/s\n",
               articles / t_bare);
        printf("  nt_publisher           : %8.0f articles/s\n",
               articles / t_pub);
        printf("  ratio                  : %.2f\n", t_bare / t_pub);
}

/* ---- Part 3: re-polls of unchanged feeds. ---- */

#define SRV_MAX_CONN 4096

/* The server's answers by status, in memory shared with the parent. */
struct srv_counts {
        volatile long n200, n304;
};
static struct srv_counts *srv_counts;

struct srv_conn {
        int fd;
        char in[8192];
        size_t in_len;
        char *out;
        size_t out_len, out_off;
};

/* Feed i's URL: one feed in five on one big host (127.0.0.1), the others
 * ten to a host (127.1.x.y), as real news crawls look: a few large
 * publishers and a long tail. The default limit of 2 transfers per host
 * then leaves a backlog of the big host's feeds in the queue. */
static void repoll_url(char *buf, size_t size, int port, int i)
{
        int k = i / 10 + 1;

        if (i % 5 == 0)
                snprintf(buf, size, "http://127.0.0.1:%d/feed/%d", port, i);
        else
                snprintf(buf, size, "http://127.1.%d.%d:%d/feed/%d", k / 250,
                         k % 250 + 1, port, i);
}

/* repoll_url() as a feed_url_fn: ctx is the port (an int). */
static void url_repoll(char *buf, size_t size, const void *ctx, int i)
{
        repoll_url(buf, size, *(const int *)ctx, i);
}

/* The number of feed i's host (repoll_url()): 0 for the big one, 1 + i / 10
 * for the others. */
static int host_repoll(const void *ctx, int i)
{
        (void)ctx;
        return i % 5 == 0 ? 0 : i / 10 + 1;
}

/* Builds the answer to one request: 304 when If-None-Match names the
 * feed's ETag ("vN"), else 200 with the feed. Caller frees. */
static char *srv_answer(const char *req, size_t *len)
{
        const char *inm;
        char etag[32], *out, *body;
        long n = -1;
        size_t cap;

        if (strncmp(req, "GET /feed/", 10) == 0)
                n = strtol(req + 10, NULL, 10);
        out = malloc(16384);
        if (!out)
                exit(1);
        if (n < 0) {
                *len = (size_t)snprintf(out, 16384,
                                        "HTTP/1.1 404 Not Found\r\n"
                                        "Content-Length: 0\r\n\r\n");
                return out;
        }
        snprintf(etag, sizeof(etag), "\"v%ld\"", n);
        inm = strstr(req, "\r\nIf-None-Match: ");
        if (inm && strncmp(inm + 17, etag, strlen(etag)) == 0) {
                srv_counts->n304++;
                *len = (size_t)snprintf(out, 16384,
                                        "HTTP/1.1 304 Not Modified\r\n"
                                        "ETag: %s\r\n\r\n",
                                        etag);
                return out;
        }
        srv_counts->n200++;
        body = feed_body((int)n);
        cap = 16384;
        *len = (size_t)snprintf(out, cap,
                                "HTTP/1.1 200 OK\r\nETag: %s\r\n"
                                "Content-Type: application/rss+xml\r\n"
                                "Content-Length: %zu\r\n\r\n%s",
                                etag, strlen(body), body);
        free(body);
        return out;
}

static void srv_close(int ep, struct srv_conn *c)
{
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        free(c->out);
        free(c);
}

/* Writes what is pending; then answers the next buffered request, if a
 * whole one is there. Returns -1 when the connection is done for. */
static int srv_pump(int ep, struct srv_conn *c)
{
        for (;;) {
                char *end;
                size_t used;

                while (c->out && c->out_off < c->out_len) {
                        ssize_t w = write(c->fd, c->out + c->out_off,
                                          c->out_len - c->out_off);
                        if (w < 0 && errno == EAGAIN) {
                                struct epoll_event ev = {.events =
                                                             EPOLLIN | EPOLLOUT,
                                                         .data.ptr = c};
                                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                                return 0;
                        }
                        if (w <= 0)
                                return -1;
                        c->out_off += (size_t)w;
                }
                free(c->out);
                c->out = NULL;
                c->in[c->in_len] = '\0';
                end = strstr(c->in, "\r\n\r\n");
                if (!end) {
                        struct epoll_event ev = {.events = EPOLLIN,
                                                 .data.ptr = c};
                        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                        return c->in_len + 1 >= sizeof(c->in) ? -1 : 0;
                }
                end[2] = '\0'; /* the headers end at the last CRLF */
                c->out = srv_answer(c->in, &c->out_len);
                c->out_off = 0;
                used = (size_t)(end + 4 - c->in);
                memmove(c->in, c->in + used, c->in_len - used);
                c->in_len -= used;
        }
}

/* The publishers of part 3: every feed exists, so no route table. */
static void srv_run(int lfd)
{
        struct epoll_event ev, evs[256];
        int ep = epoll_create1(0), i, n;

        ev.events = EPOLLIN;
        ev.data.ptr = NULL;
        epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
        for (;;) {
                n = epoll_wait(ep, evs, 256, -1);
                for (i = 0; i < n; i++) {
                        struct srv_conn *c = evs[i].data.ptr;

                        if (!c) {
                                int fd;

                                struct sockaddr_in peer;
                                socklen_t pl = sizeof(peer);

                                while (
                                    (fd = accept4(lfd, (struct sockaddr *)&peer,
                                                  &pl, SOCK_NONBLOCK)) >= 0) {
                                        pl = sizeof(peer);
                                        /* Listening on every address
                                         * (for 127.1.x.y); serving
                                         * loopback only. */
                                        if ((ntohl(peer.sin_addr.s_addr) >>
                                             24) != 127) {
                                                close(fd);
                                                continue;
                                        }
                                        c = calloc(1, sizeof(*c));
                                        if (!c)
                                                exit(1);
                                        c->fd = fd;
                                        ev.events = EPOLLIN;
                                        ev.data.ptr = c;
                                        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                                }
                                continue;
                        }
                        if (evs[i].events & EPOLLIN) {
                                ssize_t r = read(c->fd, c->in + c->in_len,
                                                 sizeof(c->in) - 1 - c->in_len);
                                if (r <= 0 && !(r < 0 && errno == EAGAIN)) {
                                        srv_close(ep, c);
                                        continue;
                                }
                                if (r > 0)
                                        c->in_len += (size_t)r;
                        }
                        if (srv_pump(ep, c) != 0)
                                srv_close(ep, c);
                }
        }
}

static pid_t start_repoll_server(int *port)
{
        struct sockaddr_in sa;
        socklen_t sl = sizeof(sa);
        int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
        pid_t pid;

        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_ANY);
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
            listen(lfd, SRV_MAX_CONN) != 0 ||
            getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
                perror("produce_bench: server socket");
                exit(1);
        }
        *port = ntohs(sa.sin_port);
        if (!srv_counts) {
                srv_counts =
                    mmap(NULL, sizeof(*srv_counts), PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
                if (srv_counts == MAP_FAILED)
                        exit(1);
        }
        srv_counts->n200 = srv_counts->n304 = 0;
        pid = fork();
        if (pid == 0) {
                /* Goes with the benchmark, also when it exits on an
                 * error without killing it. */
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                if (getppid() == 1)
                        _exit(0);
                srv_run(lfd);
                _exit(0);
        }
        close(lfd);
        return pid;
}

/* Bare libcurl multi: the same conditional GETs, 32 at a time, a new easy
 * handle per request as the fetcher does; with `per_host`, a share per
 * host as the fetcher has. Exits unless every answer was 304. */
static void curl_conditional(int port, int feeds, bool per_host, double *cpu)
{
        double c0 = nt_bench_thread_cpu_s();
        int n304 = curl_get_all(feeds, url_repoll, &port, true,
                                per_host ? host_repoll : NULL);

        *cpu += nt_bench_thread_cpu_s() - c0;
        if (n304 != feeds) {
                fprintf(stderr,
                        "produce_bench: bare libcurl got %d 304s of %d\n", n304,
                        feeds);
                exit(1);
        }
}

/* State files as a poll of an unchanged feed leaves them: the ETag, the
 * ids of its 10 items, a next poll in the future. */
static void write_states(int port, int feeds, const char *dir, bool fresh)
{
        enum { BATCH = 1000 };
        struct nt_feed_state st[BATCH];
        const struct nt_feed_state *sp[BATCH];
        char *keys[BATCH], errstr[512], id[64], rev[32];
        int64_t now = (int64_t)time(NULL) * 1000;
        int i, j, k, n;

        for (i = 0; i < feeds; i += n) {
                n = feeds - i < BATCH ? feeds - i : BATCH;
                for (j = 0; j < n; j++) {
                        char url[256], etag[32];

                        nt_state_init(&st[j]);
                        repoll_url(url, sizeof(url), port, i + j);
                        snprintf(etag, sizeof(etag), "\"v%d\"", i + j);
                        keys[j] = strdup(url);
                        st[j].etag = strdup(etag);
                        /* Saved 15 to 60 minutes ago, as polls every
                         * 15 minutes leave them: a 304 rewrites a state
                         * saved an hour ago, so one feed in four. Fresh:
                         * all a minute ago, none rewritten. */
                        st[j].last_success_ms =
                            fresh ? now - 60000
                                  : now - (int64_t)((i + j) % 4 + 1) * 900000;
                        st[j].next_poll_ms = now + 840000;
                        for (k = 0; k < 10; k++) {
                                snprintf(id, sizeof(id), "%016llx%016llx",
                                         (unsigned long long)(i + j),
                                         (unsigned long long)k);
                                snprintf(rev, sizeof(rev), "%016llx",
                                         (unsigned long long)(k * 7919));
                                nt_state_mark_seen(&st[j], id, rev,
                                                   now - 60000);
                        }
                        sp[j] = &st[j];
                }
                if (nt_state_save_many(dir, (const char *const *)keys, sp,
                                       (size_t)n, errstr,
                                       sizeof(errstr)) != NT_OK) {
                        fprintf(stderr, "produce_bench: %s\n", errstr);
                        exit(1);
                }
                for (j = 0; j < n; j++) {
                        nt_state_free(&st[j]);
                        free(keys[j]);
                }
        }
}

/* Rounds of part 3 (NT_REPOLL_ROUNDS), and the polls each measurement
 * makes at least: a smaller feed count is polled several times over, so
 * that a figure is never a few milliseconds of CPU that one slow
 * syncfs() or neighbour decides. */
#define REPOLL_MAX_ROUNDS 15
#define REPOLL_MIN_POLLS  10000

struct repoll_figures {
        double loop_ms, proc_ms, curl_ms, share_ms; /* CPU per request */
};

/* One feed count: its state files, kept across rounds when `fresh` (a
 * poll of a fresh state writes nothing), and its figures per round. */
struct repoll_count {
        int feeds, reps;
        char state_dir[64];
        struct repoll_figures round[REPOLL_MAX_ROUNDS];
};

/* One produce loop in once mode over the count's feeds: its thread's CPU
 * and the process's are added to *c_loop and *c_proc. */
static void repoll_loop(struct repoll_count *rc, int port,
                        const char *bootstrap, double *c_loop, double *c_proc)
{
        struct nt_feed_list list;
        nt_config_t *cfg = nt_config_new();
        nt_producer_t *prod;
        char errstr[512];
        double c0, p0;
        long before304, before200;
        int err;

        nt_config_set_kafka(cfg, "bootstrap.servers", bootstrap, "bench",
                            errstr, sizeof(errstr));
        nt_config_set(cfg, "producer.state_dir", rc->state_dir, "bench", errstr,
                      sizeof(errstr));
        nt_config_set(cfg, "producer.summary_interval", "0", "bench", errstr,
                      sizeof(errstr));
        feed_list_make(&list, rc->feeds, url_repoll, &port);
        /* Loading the states is a start-up cost, not a re-poll's. */
        prod = nt_producer_new(cfg, &list, true, errstr, sizeof(errstr));
        if (!prod) {
                fprintf(stderr, "produce_bench: %s\n", errstr);
                exit(1);
        }
        before304 = srv_counts->n304;
        before200 = srv_counts->n200;
        c0 = nt_bench_thread_cpu_s();
        p0 = nt_bench_cpu_s();
        err = nt_producer_run(prod, NULL, NULL);
        *c_loop += nt_bench_thread_cpu_s() - c0;
        *c_proc += nt_bench_cpu_s() - p0;
        if (srv_counts->n304 - before304 != rc->feeds ||
            srv_counts->n200 != before200) {
                fprintf(stderr,
                        "produce_bench: the loop got %ld 304s and %ld 200s "
                        "for %d feeds\n",
                        srv_counts->n304 - before304,
                        srv_counts->n200 - before200, rc->feeds);
                exit(1);
        }
        if (err != NT_OK) {
                fprintf(stderr, "produce_bench: the loop failed (%d)\n", err);
                exit(1);
        }
        nt_producer_destroy(prod);
        nt_config_destroy(cfg);
}

/* One round's measurement of a feed count: rc->reps times each, bare
 * libcurl, bare libcurl with a share per host, the loop; against the
 * server on `port` and the broker `bootstrap`, the same for the whole
 * run (the port is in every URL, so in the state files' keys). */
static void repoll_one(struct repoll_count *rc, bool fresh, int port,
                       const char *bootstrap, struct repoll_figures *out)
{
        double c_curl = 0, c_share = 0, c_loop = 0, c_proc = 0, polls;
        int rep;

        for (rep = 0; rep < rc->reps; rep++) {
                /* Fresh states are written once: a poll leaves them as
                 * they are. */
                if (!fresh || rc->state_dir[0] == '\0') {
                        if (rc->state_dir[0] == '\0') {
                                snprintf(rc->state_dir, sizeof(rc->state_dir),
                                         "/tmp/nt-bench-XXXXXX");
                                if (!mkdtemp(rc->state_dir))
                                        exit(1);
                        }
                        write_states(port, rc->feeds, rc->state_dir, fresh);
                }
                curl_conditional(port, rc->feeds, false, &c_curl);
                curl_conditional(port, rc->feeds, true, &c_share);
                repoll_loop(rc, port, bootstrap, &c_loop, &c_proc);
        }
        polls = (double)rc->feeds * rc->reps;
        out->loop_ms = c_loop * 1000 / polls;
        out->proc_ms = c_proc * 1000 / polls;
        out->curl_ms = c_curl * 1000 / polls;
        out->share_ms = c_share * 1000 / polls;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int part_repoll(int argc, char **argv, bool fresh)
{
        const char *env = getenv("NT_REPOLL_ROUNDS");
        struct repoll_count *counts = calloc((size_t)argc, sizeof(*counts));
        int rounds = env ? (int)strtol(env, NULL, 10) : 3, i, r, k, port;
        nt_devbroker_t *db;
        char errstr[512];
        pid_t server;

        if (!counts)
                exit(1);
        if (rounds < 1 || rounds > REPOLL_MAX_ROUNDS) {
                fprintf(stderr, "produce_bench: NT_REPOLL_ROUNDS 1..%d\n",
                        REPOLL_MAX_ROUNDS);
                return 2;
        }
        for (i = 0; i < argc; i++) {
                counts[i].feeds = (int)strtol(argv[i], NULL, 10);
                if (counts[i].feeds < 1) {
                        fprintf(stderr, "produce_bench: bad feed count %s\n",
                                argv[i]);
                        return 2;
                }
                counts[i].reps =
                    (REPOLL_MIN_POLLS + counts[i].feeds - 1) / counts[i].feeds;
        }
        printf("repoll: unchanged feeds (304 Not Modified), once mode, "
               "default limits (32 transfers, 2 per host); a fifth of the "
               "feeds on one host, the rest 10 per host; %d rounds, the "
               "counts in turns (order reversed every other round), each "
               "count polled at least %d times a round\n",
               rounds, REPOLL_MIN_POLLS);
        server = start_repoll_server(&port);
        db = nt_devbroker_new(1, errstr, sizeof(errstr));
        if (!db) {
                fprintf(stderr, "produce_bench: %s\n", errstr);
                exit(1);
        }
        nt_devbroker_create_topic(db, "news.raw", 3, errstr, sizeof(errstr));
        printf("  %5s %7s %6s %12s %12s %12s %12s %9s %9s\n", "round", "feeds",
               "polls", "loop ms/poll", "proc ms/poll", "curl ms/req",
               "+share ms", "vs first", "vs curl");
        for (r = 0; r < rounds; r++) {
                for (k = 0; k < argc; k++) {
                        i = r % 2 ? argc - 1 - k : k;
                        repoll_one(&counts[i], fresh, port,
                                   nt_devbroker_bootstraps(db),
                                   &counts[i].round[r]);
                }
                for (i = 0; i < argc; i++) {
                        struct repoll_figures *f = &counts[i].round[r];

                        printf("  %5d %7d %6d %12.3f %12.3f %12.3f %12.3f "
                               "%8.2fx %8.2fx\n",
                               r + 1, counts[i].feeds,
                               counts[i].feeds * counts[i].reps, f->loop_ms,
                               f->proc_ms, f->curl_ms, f->share_ms,
                               f->loop_ms / counts[0].round[r].loop_ms,
                               f->loop_ms / f->curl_ms);
                }
                fflush(stdout);
        }
        printf("median of %d rounds (the ratios: median of the rounds' "
               "ratios)\n",
               rounds);
        printf("  %7s %12s %12s %12s %12s %9s %9s %9s\n", "feeds",
               "loop ms/poll", "proc ms/poll", "curl ms/req", "+share ms",
               "vs first", "vs curl", "curl/1st");
        for (i = 0; i < argc; i++) {
                struct repoll_count *c = &counts[i];
                double loop, proc, curl, share, vs_first, vs_curl, curl_first;

                double a[7][REPOLL_MAX_ROUNDS];

                for (r = 0; r < rounds; r++) {
                        const struct repoll_figures *f = &c->round[r],
                                                    *f0 = &counts[0].round[r];

                        a[0][r] = f->loop_ms;
                        a[1][r] = f->proc_ms;
                        a[2][r] = f->curl_ms;
                        a[3][r] = f->share_ms;
                        a[4][r] = f->loop_ms / f0->loop_ms;
                        a[5][r] = f->loop_ms / f->curl_ms;
                        a[6][r] = f->curl_ms / f0->curl_ms;
                }
                loop = median(a[0], rounds);
                proc = median(a[1], rounds);
                curl = median(a[2], rounds);
                share = median(a[3], rounds);
                vs_first = median(a[4], rounds);
                vs_curl = median(a[5], rounds);
                curl_first = median(a[6], rounds);
                printf("  %7d %12.3f %12.3f %12.3f %12.3f %8.2fx %8.2fx "
                       "%8.2fx\n",
                       c->feeds, loop, proc, curl, share, vs_first, vs_curl,
                       curl_first);
        }
        for (i = 0; i < argc; i++) {
                char cmd[128];

                snprintf(cmd, sizeof(cmd), "rm -rf '%s'", counts[i].state_dir);
                if (counts[i].state_dir[0] && system(cmd) != 0)
                        fprintf(stderr, "could not remove %s\n",
                                counts[i].state_dir);
        }
        nt_devbroker_destroy(db);
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
        free(counts);
        return 0;
}

int main(int argc, char **argv)
{
        int feeds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 5000;
        int articles = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 100000;

        nt_log_setup(NT_LOG_WARN, NT_LOG_LOGFMT, NULL);
        if (argc > 1 && (strcmp(argv[1], "repoll") == 0 ||
                         strcmp(argv[1], "repoll-fresh") == 0)) {
                int i;

                printf("command: %s %s", argv[0], argv[1]);
                for (i = 2; i < argc; i++)
                        printf(" %s", argv[i]);
                printf("\n");
                return part_repoll(argc - 2, argv + 2,
                                   strcmp(argv[1], "repoll-fresh") == 0);
        }
        printf("command: %s %d %d\n", argv[0], feeds, articles);
        part_fetch(feeds);
        part_publish(articles);
        return 0;
}
