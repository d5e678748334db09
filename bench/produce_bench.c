/* Producer benchmark, two parts, each beside a baseline measured in the
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
 * Run: build/release/bench/produce_bench [FEEDS] [ARTICLES]
 * (scripts/with-kafka build/release/bench/produce_bench for part 2). */
#include "common/config.h"
#include "common/devbroker.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/log.h"
#include "producer/feeds.h"
#include "producer/producer.h"
#include "producer/publish.h"
#include "support/httpd.h"

#include <curl/curl.h>
#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

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

/* Baseline: the same URLs with bare libcurl multi, 32 at a time. */
static double curl_baseline(const char *base, int feeds, double *cpu)
{
        CURLM *multi = curl_multi_init();
        double t0 = now_s(), c0 = cpu_s();
        int next = 0, running = 0, done = 0;
        char url[256];

        while (done < feeds) {
                CURLMsg *msg;
                int left;

                while (running < 32 && next < feeds) {
                        CURL *e = curl_easy_init();
                        snprintf(url, sizeof(url), "%s/feed/%d", base, next++);
                        curl_easy_setopt(e, CURLOPT_URL, url);
                        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
                        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
                        curl_multi_add_handle(multi, e);
                        running++;
                }
                curl_multi_perform(multi, &left);
                curl_multi_poll(multi, NULL, 0, 50, NULL);
                curl_multi_perform(multi, &left);
                while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        curl_multi_remove_handle(multi, msg->easy_handle);
                        curl_easy_cleanup(msg->easy_handle);
                        running--;
                        done++;
                }
        }
        curl_multi_cleanup(multi);
        *cpu = cpu_s() - c0;
        return now_s() - t0;
}

static double produce_loop(const char *base, int feeds, const char *bootstrap,
                           const char *state_dir, double *cpu)
{
        struct nt_feed_list list;
        char errstr[512];
        nt_config_t *cfg = nt_config_new();
        nt_producer_t *prod;
        double t0, c0;
        int i;

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
        nt_feed_list_init(&list);
        list.feeds = calloc((size_t)feeds, sizeof(*list.feeds));
        list.cap = (size_t)feeds;
        for (i = 0; i < feeds; i++) {
                struct nt_feed_spec *s = &list.feeds[list.n++];
                char url[256];
                snprintf(url, sizeof(url), "%s/feed/%d", base, i);
                s->url = strdup(url);
                s->interval_ms = 900000;
                s->tags = calloc(1, sizeof(char *));
                s->headers = calloc(1, sizeof(char *));
        }
        t0 = now_s();
        c0 = cpu_s();
        prod = nt_producer_new(cfg, &list, true, errstr, sizeof(errstr));
        if (!prod) {
                fprintf(stderr, "produce_bench: %s\n", errstr);
                exit(1);
        }
        nt_producer_run(prod, NULL, NULL);
        *cpu = cpu_s() - c0;
        t0 = now_s() - t0;
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
        char errstr[512], state_dir[64], cmd[128], url[128];
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
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
        if (system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", state_dir);
        nt_devbroker_destroy(db);
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
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
        t0 = now_s();
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
        t_bare = now_s() - t0;
        rd_kafka_destroy(rk);

        cfg = nt_config_new();
        nt_config_set_kafka(cfg, "bootstrap.servers", bootstrap, "bench",
                            errstr, sizeof(errstr));
        snprintf(topic, sizeof(topic), "bench-pub-%ld", (long)getpid());
        pub = nt_publisher_new(cfg, topic, 100000, NULL, NULL, errstr,
                               sizeof(errstr));
        t0 = now_s();
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
        t_pub = now_s() - t0;
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

int main(int argc, char **argv)
{
        int feeds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 5000;
        int articles = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 100000;

        nt_log_setup(NT_LOG_WARN, NT_LOG_LOGFMT, NULL);
        printf("command: %s %d %d\n", argv[0], feeds, articles);
        part_fetch(feeds);
        part_publish(articles);
        return 0;
}
