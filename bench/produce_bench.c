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
 *    the same conditional GETs, 32 at a time (no per-host limit). The
 *    feeds: one in five on one big host, the rest ten to a host
 *    (127.1.x.y), default limits. Reports CPU per re-poll of
 *    the loop's thread (and of the whole process, which also holds
 *    librdkafka's threads and the in-process dev broker), for each feed
 *    count, with its ratio to the first count and to bare libcurl. The
 *    server is this program's own (a forked single-threaded epoll loop
 *    with keep-alive that makes every answer from the path), since the
 *    tests' server holds at most 8,192 routes.
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

/* Bare libcurl multi: GETs of the feeds 0..feeds-1, 32 at a time, a new
 * easy handle per request as the fetcher does; with `conditional`, each
 * asks If-None-Match: "vI". Returns how many were answered 304. */
static int curl_get_all(int feeds, feed_url_fn *url_of, const void *ctx,
                        bool conditional)
{
        CURLM *multi = curl_multi_init();
        int next = 0, running = 0, done = 0, n304 = 0;
        char url[256], inm[64];

        while (done < feeds) {
                CURLMsg *msg;
                int left;

                while (running < 32 && next < feeds) {
                        CURL *e = curl_easy_init();
                        struct curl_slist *h = NULL;

                        if (conditional) {
                                snprintf(inm, sizeof(inm),
                                         "If-None-Match: \"v%d\"", next);
                                h = curl_slist_append(NULL, inm);
                        }
                        url_of(url, sizeof(url), ctx, next++);
                        curl_easy_setopt(e, CURLOPT_URL, url);
                        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
                        curl_easy_setopt(e, CURLOPT_PRIVATE, h);
                        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
                        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
                        curl_multi_add_handle(multi, e);
                        running++;
                }
                curl_multi_perform(multi, &left);
                curl_multi_poll(multi, NULL, 0, 50, NULL);
                curl_multi_perform(multi, &left);
                while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
                        struct curl_slist *h = NULL;
                        long status = 0;

                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        curl_easy_getinfo(msg->easy_handle,
                                          CURLINFO_RESPONSE_CODE, &status);
                        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
                                          (char **)&h);
                        n304 += status == 304;
                        curl_multi_remove_handle(multi, msg->easy_handle);
                        curl_easy_cleanup(msg->easy_handle);
                        curl_slist_free_all(h);
                        running--;
                        done++;
                }
        }
        curl_multi_cleanup(multi);
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

        curl_get_all(feeds, url_on_base, base, false);
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
        const char *bootstrap = getenv("NT_TEST_BOOTSTRAP");
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

        if (!bootstrap || !*bootstrap) {
                printf("publish: skipped (no NT_TEST_BOOTSTRAP; run under "
                       "scripts/with-kafka)\n");
                return;
        }
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
 * handle per request as the fetcher does. Returns how many were 304. */
static int curl_conditional(int port, int feeds, double *cpu)
{
        double c0 = nt_bench_thread_cpu_s();
        int n304 = curl_get_all(feeds, url_repoll, &port, true);

        *cpu = nt_bench_thread_cpu_s() - c0;
        return n304;
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

struct repoll_figures {
        double loop_ms, proc_ms, curl_ms; /* CPU per request */
};

static void repoll_one(int feeds, bool fresh, struct repoll_figures *out)
{
        struct nt_feed_list list;
        nt_devbroker_t *db;
        nt_config_t *cfg = nt_config_new();
        nt_producer_t *prod;
        char errstr[512], state_dir[64];
        double c_curl, c0, p0, c_loop, c_proc;
        long before304;
        int n304, err, port;
        pid_t server = start_repoll_server(&port);

        db = nt_devbroker_new(1, errstr, sizeof(errstr));
        nt_devbroker_create_topic(db, "news.raw", 3, errstr, sizeof(errstr));
        snprintf(state_dir, sizeof(state_dir), "/tmp/nt-bench-XXXXXX");
        if (!db || !mkdtemp(state_dir))
                exit(1);
        write_states(port, feeds, state_dir, fresh);

        n304 = curl_conditional(port, feeds, &c_curl);
        if (n304 != feeds) {
                fprintf(stderr,
                        "produce_bench: bare libcurl got %d 304s of %d\n", n304,
                        feeds);
                exit(1);
        }

        nt_config_set_kafka(cfg, "bootstrap.servers",
                            nt_devbroker_bootstraps(db), "bench", errstr,
                            sizeof(errstr));
        nt_config_set(cfg, "producer.state_dir", state_dir, "bench", errstr,
                      sizeof(errstr));
        nt_config_set(cfg, "producer.summary_interval", "0", "bench", errstr,
                      sizeof(errstr));
        feed_list_make(&list, feeds, url_repoll, &port);
        /* Loading the states is a start-up cost, not a re-poll's. */
        prod = nt_producer_new(cfg, &list, true, errstr, sizeof(errstr));
        if (!prod) {
                fprintf(stderr, "produce_bench: %s\n", errstr);
                exit(1);
        }
        before304 = srv_counts->n304;
        c0 = nt_bench_thread_cpu_s();
        p0 = nt_bench_cpu_s();
        err = nt_producer_run(prod, NULL, NULL);
        c_loop = nt_bench_thread_cpu_s() - c0;
        c_proc = nt_bench_cpu_s() - p0;
        if (srv_counts->n304 - before304 != feeds || srv_counts->n200 != 0) {
                fprintf(stderr,
                        "produce_bench: the loop got %ld 304s and %ld 200s "
                        "for %d feeds\n",
                        srv_counts->n304 - before304, srv_counts->n200, feeds);
                exit(1);
        }
        if (err != NT_OK) {
                fprintf(stderr, "produce_bench: the loop failed (%d)\n", err);
                exit(1);
        }
        nt_producer_destroy(prod);
        nt_config_destroy(cfg);
        out->loop_ms = c_loop * 1000 / feeds;
        out->proc_ms = c_proc * 1000 / feeds;
        out->curl_ms = c_curl * 1000 / feeds;
        part_cleanup(state_dir, db, server);
}

static int part_repoll(int argc, char **argv, bool fresh)
{
        struct repoll_figures first, fig;
        int i;

        printf("repoll: unchanged feeds (304 Not Modified), once mode, "
               "default limits (32 transfers, 2 per host); a fifth of the "
               "feeds on one host, the rest 10 per host\n");
        printf("  %7s %12s %12s %12s %9s %9s\n", "feeds", "loop ms/poll",
               "proc ms/poll", "curl ms/req", "vs first", "vs curl");
        for (i = 0; i < argc; i++) {
                int feeds = (int)strtol(argv[i], NULL, 10);

                if (feeds < 1) {
                        fprintf(stderr, "produce_bench: bad feed count %s\n",
                                argv[i]);
                        return 2;
                }
                repoll_one(feeds, fresh, &fig);
                if (i == 0)
                        first = fig;
                printf("  %7d %12.3f %12.3f %12.3f %8.2fx %8.2fx\n", feeds,
                       fig.loop_ms, fig.proc_ms, fig.curl_ms,
                       fig.loop_ms / first.loop_ms, fig.loop_ms / fig.curl_ms);
                fflush(stdout);
        }
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
