/* `newstap produce` end to end: a real HTTP server on 127.0.0.1 serving
 * feeds, the real Kafka broker receiving articles. Checks what the server
 * saw (validators, intervals, backoff, redirects, 410) and what landed on
 * the topic (counts, keys, edits re-published, nothing lost to SIGKILL). */
// ctest-suites: real
#include "common/buf.h"
#include "common/err.h"
#include "common/kafka.h"
#include "support/archive.h"
#include "support/httpd.h"
#include "support/kafka_read.h"
#include "support/nt_test.h"
#include "support/scrape.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <glob.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static nt_httpd_t *srv;
static char topic[128], state_dir[64], config_path[96];

/* An RSS 2.0 feed of items first..last; item `edited` (or -1) carries a
 * changed description. */
static char *rss(int first, int last, int edited)
{
        struct nt_buf b;
        int i;

        nt_buf_init(&b, 16 << 20);
        nt_buf_append_str(&b, "<?xml version=\"1.0\"?><rss version=\"2.0\">"
                              "<channel><title>Test wire</title>"
                              "<link>http://example.org/</link>");
        for (i = first; i <= last; i++)
                nt_buf_printf(
                    &b,
                    "<item><title>Article %d</title>"
                    "<link>http://example.org/a/%d?utm_source=x</link>"
                    "<guid>urn:test:%d</guid>"
                    "<pubDate>Mon, 05 Jan 2026 10:%02d:00 GMT</pubDate>"
                    "<description>Body of article %d%s</description>"
                    "</item>",
                    i, i, i, i % 60, i, i == edited ? " (corrected)" : "");
        nt_buf_append_str(&b, "</channel></rss>");
        return nt_buf_detach(&b);
}

static void serve(const char *path, int status, const char *etag,
                  const char *headers, const char *body)
{
        nt_httpd_serve(srv, path, status,
                       headers ? headers : "Content-Type: application/rss+xml",
                       body, etag);
}

/* Serves at `path` the feed rss(first, last, edited) with status 200. */
static void serve_rss(const char *path, const char *etag, int first, int last,
                      int edited)
{
        char *body = rss(first, last, edited);

        serve(path, 200, etag, NULL, body);
        free(body);
}

/* Starts the daemon `argv` with its metrics endpoint on 127.0.0.1:port. */
static void start_with_metrics(struct nt_child *c, char *const argv[],
                               unsigned port)
{
        char env[64];

        snprintf(env, sizeof(env), "127.0.0.1:%u", port);
        setenv("NEWSTAP_METRICS_LISTEN", env, 1);
        cr_assert_eq(nt_child_start(c, argv), 0);
        unsetenv("NEWSTAP_METRICS_LISTEN");
}

/* Starts `newstap produce -c config_path` with its metrics endpoint on
 * 127.0.0.1:port. */
static void start_produce(struct nt_child *c, unsigned port)
{
        char *argv[] = {(char *)nt_test_bin(), "produce", "-c", config_path,
                        NULL};

        start_with_metrics(c, argv, port);
}

/* Stops the daemon with SIGTERM; it must exit 0. */
static void stop_produce(struct nt_child *c)
{
        int status = nt_child_stop(c, SIGTERM, 30000);

        cr_assert_eq(status, 0, "produce exited %d", status);
}

/* The shell command (into cmd) that runs `newstap produce -c config_path`
 * with its log appended to state_dir/produce.log (its path into
 * log_path): a pipe nobody reads could fill up and stall it. */
static void produce_logged(char *cmd, size_t cmd_size, char *log_path,
                           size_t log_size)
{
        snprintf(log_path, log_size, "%s/produce.log", state_dir);
        snprintf(cmd, cmd_size, "exec '%s' produce -c '%s' 2>>'%s'",
                 nt_test_bin(), config_path, log_path);
}

/* A configuration naming the test's topic and state directory, with
 * short intervals, the producer settings `extra_producer` (or NULL) and
 * the feeds given as JSON elements (so that they can carry "content"). */
static void write_config_feeds(const char *feeds, const char *extra_producer)
{
        nt_test_printf_file(
            config_path,
            "{\"kafka\": {\"bootstrap.servers\": \"%s\"},"
            " \"topics\": {\"raw\": \"%s\"},"
            " \"log\": {\"level\": \"info\"},"
            " \"metrics\": {\"listen\": \"127.0.0.1:0\"},"
            " \"producer\": {\"state_dir\": \"%s\", \"interval\": \"1s\", "
            "\"min_interval\": \"1s\", \"summary_interval\": 0%s%s,"
            " \"feeds\": [%s]}}\n",
            nt_test_kafka_bootstrap(), topic, state_dir,
            extra_producer ? ", " : "", extra_producer ? extra_producer : "",
            feeds);
}

/* write_config_feeds() with the feeds at `paths` on the test server,
 * each polled every second, and a backoff from 1 s to 4 s. */
static void write_config(const char *const *paths, size_t n,
                         const char *extra_producer)
{
        struct nt_buf feeds;
        char extra[512];
        size_t i;

        nt_buf_init(&feeds, 1 << 20);
        for (i = 0; i < n; i++)
                nt_buf_printf(&feeds, "%s{\"url\": \"%s%s\", \"interval\": 1}",
                              i ? ", " : "", nt_httpd_url(srv), paths[i]);
        snprintf(extra, sizeof(extra),
                 "\"backoff_base\": \"1s\", \"backoff_max\": \"4s\"%s%s",
                 extra_producer ? ", " : "",
                 extra_producer ? extra_producer : "");
        write_config_feeds(nt_buf_str(&feeds), extra);
        nt_buf_free(&feeds);
}

static void setup(void)
{
        const char *topics[1];

        srv = nt_httpd_start();
        cr_assert_not_null(srv);
        nt_test_unique_name("nt-produce", topic, sizeof(topic));
        snprintf(state_dir, sizeof(state_dir), "/tmp/nt-prod-XXXXXX");
        cr_assert_not_null(mkdtemp(state_dir));
        snprintf(config_path, sizeof(config_path), "%s/newstap.json",
                 state_dir);
        topics[0] = topic;
        nt_test_make_topics(nt_test_kafka_bootstrap(), topics, 1, 3);
}

static void teardown(void)
{
        char cmd[128];

        nt_test_kafka_restore();
        nt_httpd_stop(srv);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
        cr_assert_eq(system(cmd), 0);
}

TestSuite(real, .init = setup, .fini = teardown, .timeout = 300);

/* Runs `newstap produce --once`; returns its exit status. */
static int produce_once(void)
{
        char *argv[] = {(char *)nt_test_bin(), "produce", "--once", "-c",
                        config_path,           NULL};
        char *out, *err;
        int status = nt_run(argv, NULL, &out, &err, 120000);

        if (status != 0)
                fprintf(stderr, "produce --once exited %d:\n%s\n", status, err);
        free(out);
        free(err);
        return status;
}

/* The topic as read back: a list of values per key (what a key is, and
 * a value, is the reader's choice: revisions by article id, articles by
 * title). */
struct topic_view {
        json_t *by_key; /* key -> [values in order] */
        size_t messages;
        size_t want; /* stop reading at this many messages */
};

/* Appends `value` (taking it) to the list of `key`; true once the view
 * holds the messages it waits for. */
static bool view_add(struct topic_view *v, const char *key, json_t *value)
{
        json_t *list = json_object_get(v->by_key, key);

        if (!list) {
                list = json_array();
                json_object_set_new(v->by_key, key, list);
        }
        json_array_append_new(list, value);
        v->messages++;
        return v->want && v->messages >= v->want;
}

/* Reads the topic through `cb`; waits up to timeout_ms when `want`
 * messages are expected, else reads what is there within timeout_ms. */
static void read_view(struct topic_view *v, nt_test_msg_cb *cb, size_t want,
                      int timeout_ms)
{
        v->by_key = json_object();
        v->messages = 0;
        v->want = want;
        nt_test_read_topic(nt_test_kafka_bootstrap(), topic, cb, v, timeout_ms);
}

/* Revisions by article id. */
static bool collect(const rd_kafka_message_t *rkm, void *ctx)
{
        struct topic_view *v = ctx;
        char key[64];
        rd_kafka_headers_t *hdrs = NULL;
        const void *rev;
        size_t len;

        cr_assert(rkm->key_len < sizeof(key));
        memcpy(key, rkm->key, rkm->key_len);
        key[rkm->key_len] = '\0';
        cr_assert_eq(rd_kafka_message_headers(rkm, &hdrs), 0);
        cr_assert_eq(rd_kafka_header_get_last(hdrs, "revision", &rev, &len), 0,
                     "message without a revision header");
        return view_add(v, key, json_stringn(rev, len));
}

/* Revisions by article id; see read_view(). */
static void read_topic(struct topic_view *v, size_t want, int timeout_ms)
{
        read_view(v, collect, want, timeout_ms);
}

/* The inode of the one feed state file in state_dir: a rewrite (temporary
 * file, rename) gives the file a new one. */
static ino_t state_file_inode(void)
{
        char pattern[128];
        glob_t g;
        struct stat st;
        ino_t ino;

        snprintf(pattern, sizeof(pattern), "%s/feed-*.json", state_dir);
        cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no state file in %s",
                     state_dir);
        cr_assert_eq(g.gl_pathc, 1, "%zu state files", g.gl_pathc);
        cr_assert_eq(stat(g.gl_pathv[0], &st), 0);
        ino = st.st_ino;
        globfree(&g);
        return ino;
}

Test(real, new_then_not_modified_then_edited)
{
        const char *paths[] = {"/feed.xml"};
        struct nt_httpd_request log[8];
        struct topic_view v;
        json_t *revs;
        size_t n;
        ino_t ino;

        serve_rss("/feed.xml", "\"v1\"", 1, 5, -1);
        write_config(paths, 1, NULL);
        cr_assert_eq(produce_once(), 0);
        read_topic(&v, 5, 30000);
        cr_assert_eq(json_object_size(v.by_key), 5, "5 articles, got %zu",
                     json_object_size(v.by_key));
        cr_assert_eq(v.messages, 5);
        json_decref(v.by_key);

        /* Unchanged: the validator comes back, the server says 304,
         * nothing new lands, and the state file, fresh, is not rewritten
         * for times alone (docs/operations.md: hourly). */
        ino = state_file_inode();
        cr_assert_eq(produce_once(), 0);
        n = nt_httpd_requests(srv, "/feed.xml", log, 8);
        cr_assert_eq(n, 2);
        cr_assert_str_eq(log[1].if_none_match, "\"v1\"");
        cr_assert_eq(log[1].status, 304);
        cr_assert_eq(state_file_inode(), ino,
                     "a 304 that changed only times rewrote the state");

        /* Edited article 3 and a new article 6. */
        serve_rss("/feed.xml", "\"v2\"", 1, 6, 3);
        cr_assert_eq(produce_once(), 0);
        read_topic(&v, 7, 30000);
        cr_assert_eq(v.messages, 7, "5 + edited + new, got %zu", v.messages);
        cr_assert_eq(json_object_size(v.by_key), 6);
        n = 0;
        {
                const char *key;
                json_object_foreach(v.by_key, key, revs)
                {
                        if (json_array_size(revs) == 2) {
                                n++;
                                cr_assert_str_neq(
                                    json_string_value(json_array_get(revs, 0)),
                                    json_string_value(json_array_get(revs, 1)),
                                    "an edit is a new revision");
                        }
                }
        }
        cr_assert_eq(n, 1, "exactly one article was re-published");
        json_decref(v.by_key);
}

Test(real, sigkill_mid_run_loses_nothing)
{
        const char *paths[] = {"/big.xml"};
        struct nt_child child;
        struct topic_view v;
        unsigned port = nt_test_free_port();
        const char *key;
        json_t *revs;
        size_t before;
        int status;

        serve_rss("/big.xml", "\"big\"", 1, 3000, -1);
        write_config(paths, 1, "\"max_inflight\": 200");
        /* With the broker down, the daemon takes the feed's 3000
         * articles and can confirm none: the kill is certain to meet
         * articles accepted and not stored. (Down, not paused: a KRaft
         * broker resumed from SIGSTOP may stay fenced for a while.) */
        cr_assert_eq(nt_test_kafka_local("down"), 0);
        start_produce(&child, port);
        cr_assert_geq(
            nt_test_wait_metric(port, "newstap_publish_inflight", "", 200, 60),
            200, "the daemon never filled its in-flight window");
        status = nt_child_stop(&child, SIGKILL, 10000);
        cr_assert_eq(status, 128 + SIGKILL);
        cr_assert_eq(nt_test_kafka_local("up"), 0);
        read_topic(&v, 0, 20000);
        before = json_object_size(v.by_key);
        json_decref(v.by_key);
        cr_assert_lt(before, 3000, "everything was stored before the kill");

        cr_assert_eq(produce_once(), 0, "the restart failed");
        read_topic(&v, 0, 20000);
        cr_assert_eq(json_object_size(v.by_key), 3000,
                     "%zu of 3000 articles on the topic (%zu before the "
                     "restart)",
                     json_object_size(v.by_key), before);
        json_object_foreach(v.by_key, key, revs)
        {
                size_t i;
                for (i = 1; i < json_array_size(revs); i++)
                        cr_assert_str_eq(
                            json_string_value(json_array_get(revs, i)),
                            json_string_value(json_array_get(revs, 0)),
                            "a duplicate of %s with another revision", key);
        }
        json_decref(v.by_key);
}

/* Runs the daemon until the server has seen at least want[i] requests
 * for paths[i] (at most 60 s), then stops it with SIGTERM. */
static void run_daemon_until(const char *const *paths, const size_t *want,
                             size_t n)
{
        char *argv[] = {(char *)nt_test_bin(), "produce", "-c", config_path,
                        NULL};
        struct nt_child child;
        struct timespec tick = {0, 50 * 1000 * 1000};
        time_t deadline = time(NULL) + 60;
        size_t i, done = 0;
        int status;

        cr_assert_eq(nt_child_start(&child, argv), 0);
        while (done < n && time(NULL) < deadline) {
                nanosleep(&tick, NULL);
                for (i = 0, done = 0; i < n; i++)
                        done += nt_httpd_requests(srv, paths[i], NULL, 0) >=
                                want[i];
        }
        status = nt_child_stop(&child, SIGTERM, 30000);
        cr_assert_eq(done, n,
                     "the server did not see the expected requests "
                     "within 60 s");
        cr_assert_eq(status, 0, "produce exited %d after SIGTERM", status);
}

Test(real, backoff_grows_and_gone_feeds_stop)
{
        const char *paths[] = {"/broken.xml", "/gone.xml", "/ok.xml"};
        struct nt_httpd_request log[64];
        size_t n, i;

        serve("/broken.xml", 500, NULL, NULL, "oops");
        serve("/gone.xml", 410, NULL, NULL, "gone");
        serve_rss("/ok.xml", NULL, 1, 2, -1);
        write_config(paths, 3, NULL);
        {
                /* Four polls of the healthy feed take over three seconds:
                 * long enough for a 410 feed that was not disabled to be
                 * asked again. */
                const char *watch[] = {"/broken.xml", "/ok.xml"};
                const size_t want[] = {4, 4};
                run_daemon_until(watch, want, 2);
        }

        n = nt_httpd_requests(srv, "/gone.xml", log, 64);
        cr_assert_eq(n, 1, "a 410 feed is polled once, then never: %zu", n);

        n = nt_httpd_requests(srv, "/broken.xml", log, 64);
        cr_assert_geq(n, 4, "a failing feed keeps being retried: %zu", n);
        for (i = 2; i < n; i++)
                cr_assert_geq(log[i].at_ms - log[i - 1].at_ms,
                              (log[i - 1].at_ms - log[i - 2].at_ms) - 100,
                              "backoff shrank between tries %zu and %zu", i - 1,
                              i);
        cr_assert_geq(log[1].at_ms - log[0].at_ms, 450,
                      "first retry after at least half of backoff_base");

        n = nt_httpd_requests(srv, "/ok.xml", log, 64);
        cr_assert_geq(n, 4, "a healthy feed is polled every second: %zu", n);
        for (i = 1; i < n; i++)
                cr_assert_geq(log[i].at_ms - log[i - 1].at_ms, 950,
                              "polls %zu and %zu closer than the interval",
                              i - 1, i);
}

Test(real, permanent_redirect_moves_the_feed)
{
        const char *paths[] = {"/old.xml"};
        struct nt_httpd_request log[8];

        serve("/old.xml", 301, NULL, "Location: /new.xml", NULL);
        serve_rss("/new.xml", "\"n1\"", 1, 1, -1);
        write_config(paths, 1, NULL);
        cr_assert_eq(produce_once(), 0);
        cr_assert_eq(produce_once(), 0);
        cr_assert_eq(nt_httpd_requests(srv, "/old.xml", log, 8), 1,
                     "after a 301 the old URL is not asked again");
        cr_assert_eq(nt_httpd_requests(srv, "/new.xml", log, 8), 2);
        cr_assert_str_eq(log[1].if_none_match, "\"n1\"");
}

/* Waits (at most 60 s) until the server has seen `want` requests for
 * `path`; returns how many it saw. */
static size_t wait_requests(const char *path, size_t want)
{
        struct timespec tick = {0, 50 * 1000 * 1000};
        time_t deadline = time(NULL) + 60;
        size_t n;

        while ((n = nt_httpd_requests(srv, path, NULL, 0)) < want &&
               time(NULL) < deadline)
                nanosleep(&tick, NULL);
        return n;
}

Test(real, sighup_adds_feeds_without_a_restart)
{
        const char *one[] = {"/a.xml"};
        const char *two[] = {"/a.xml", "/b.xml"};
        char *argv[] = {(char *)nt_test_bin(), "produce", "-c", config_path,
                        NULL};
        struct nt_child child;
        struct topic_view v;

        serve_rss("/a.xml", "\"a\"", 1, 2, -1);
        serve_rss("/b.xml", "\"b\"", 101, 103, -1);
        write_config(one, 1, NULL);
        cr_assert_eq(nt_child_start(&child, argv), 0);
        cr_assert_geq(wait_requests("/a.xml", 1), 1, "feed a never polled");
        cr_assert_eq(nt_httpd_requests(srv, "/b.xml", NULL, 0), 0);
        write_config(two, 2, NULL);
        kill(child.pid, SIGHUP);
        cr_assert_geq(wait_requests("/b.xml", 1), 1,
                      "feed b was not picked up after SIGHUP");
        read_topic(&v, 5, 30000);
        stop_produce(&child);
        cr_assert_eq(json_object_size(v.by_key), 5,
                     "2 articles of a and 3 of b, got %zu",
                     json_object_size(v.by_key));
        json_decref(v.by_key);
}

/* How many lines of the file hold `needle`. */
static size_t count_in_file(const char *path, const char *needle)
{
        FILE *f = fopen(path, "r");
        char line[4096];
        size_t n = 0;

        while (f && fgets(line, sizeof(line), f))
                n += strstr(line, needle) != NULL;
        if (f)
                fclose(f);
        return n;
}

/* Waits (at most 60 s) until `path` holds `want` lines with `needle`. */
static size_t wait_in_file(const char *path, const char *needle, size_t want)
{
        struct timespec tick = {0, 50 * 1000 * 1000};
        time_t deadline = time(NULL) + 60;
        size_t n;

        while ((n = count_in_file(path, needle)) < want &&
               time(NULL) < deadline)
                nanosleep(&tick, NULL);
        return n;
}

/* SIGHUP is what the systemd unit's ExecReload sends: with several feeds,
 * reloading an unchanged list, then a changed one (a feed removed, one
 * added, one with a new interval), keeps the producer running and does
 * what the new list says. */
Test(real, sighup_reloads_several_feeds_unchanged_and_changed)
{
        const char *three[] = {"/r1.xml", "/r2.xml", "/r3.xml"};
        const char *changed[] = {"/r3.xml", "/r1.xml", "/r4.xml"};
        char log_path[128], cmd[512];
        char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        struct nt_child child;
        size_t i, reloads = 0, r2_before, r1_want;

        for (i = 1; i <= 4; i++) {
                char path[16], etag[16];
                snprintf(path, sizeof(path), "/r%zu.xml", i);
                snprintf(etag, sizeof(etag), "\"r%zu\"", i);
                serve_rss(path, etag, (int)i * 100, (int)i * 100 + 1, -1);
        }
        write_config(three, 3, NULL);
        produce_logged(cmd, sizeof(cmd), log_path, sizeof(log_path));
        cr_assert_eq(nt_child_start(&child, argv), 0);
        for (i = 0; i < 3; i++)
                cr_assert_geq(wait_requests(three[i], 1), 1, "%s never polled",
                              three[i]);
        for (i = 0; i < 3; i++) {
                cr_assert_eq(kill(child.pid, SIGHUP), 0);
                reloads++;
                cr_assert_eq(
                    wait_in_file(log_path, "reloaded the feed list", reloads),
                    reloads, "unchanged reload %zu not done", i + 1);
        }
        cr_assert_eq(count_in_file(log_path, "0 added, 0 removed"), 3,
                     "an unchanged list adds and removes nothing");

        write_config(changed, 3, NULL);
        cr_assert_eq(kill(child.pid, SIGHUP), 0);
        reloads++;
        cr_assert_eq(wait_in_file(log_path, "1 added, 1 removed", 1), 1,
                     "the changed list was not taken");
        cr_assert_geq(wait_requests("/r4.xml", 1), 1,
                      "the added feed was never polled");
        r2_before = nt_httpd_requests(srv, "/r2.xml", NULL, 0);
        r1_want = nt_httpd_requests(srv, "/r1.xml", NULL, 0) + 3;
        cr_assert_geq(wait_requests("/r1.xml", r1_want), r1_want,
                      "feed r1 stopped being polled");
        cr_assert_eq(nt_httpd_requests(srv, "/r2.xml", NULL, 0), r2_before,
                     "the removed feed is still polled");

        /* And again, unchanged, after the change. */
        cr_assert_eq(kill(child.pid, SIGHUP), 0);
        reloads++;
        cr_assert_eq(wait_in_file(log_path, "reloaded the feed list", reloads),
                     reloads);
        stop_produce(&child);
}

/* A feed never polled before is polled at once, however long its
 * interval; the log says so. */
Test(real, a_new_feed_is_polled_at_once)
{
        char log_path[128], cmd[512];
        char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        struct nt_child child;

        serve_rss("/daily.xml", NULL, 1, 2, -1);
        nt_test_printf_file(
            config_path,
            "{\"kafka\": {\"bootstrap.servers\": \"%s\"},"
            " \"topics\": {\"raw\": \"%s\"},"
            " \"metrics\": {\"listen\": \"127.0.0.1:0\"},"
            " \"producer\": {\"state_dir\": \"%s\","
            " \"feeds\": [{\"url\": \"%s/daily.xml\", \"interval\": "
            "\"24h\"}]}}\n",
            nt_test_kafka_bootstrap(), topic, state_dir, nt_httpd_url(srv));
        produce_logged(cmd, sizeof(cmd), log_path, sizeof(log_path));
        cr_assert_eq(nt_child_start(&child, argv), 0);
        cr_assert_eq(wait_requests("/daily.xml", 1), 1,
                     "a new feed with a 24 h interval was not polled at once");
        cr_assert_eq(count_in_file(log_path, "1 feed(s) never polled"), 1);
        stop_produce(&child);
}

/* Two producers cannot share a state directory by accident: the second
 * is refused with the holder's pid, and the directory is free again once
 * the first has stopped. */
Test(real, a_state_directory_has_one_producer)
{
        const char *paths[] = {"/lock.xml"};
        char *argv[] = {(char *)nt_test_bin(), "produce", "-c", config_path,
                        NULL};
        char *once[] = {(char *)nt_test_bin(), "produce", "--once", "-c",
                        config_path,           NULL};
        char *out, *err, pid[32];
        struct nt_child child;
        int status;

        serve_rss("/lock.xml", NULL, 1, 2, -1);
        write_config(paths, 1, NULL);
        cr_assert_eq(nt_child_start(&child, argv), 0);
        cr_assert_geq(wait_requests("/lock.xml", 1), 1, "never polled");
        status = nt_run(once, NULL, &out, &err, 60000);
        snprintf(pid, sizeof(pid), "pid %d", (int)child.pid);
        cr_assert_neq(status, 0,
                      "a second producer on the same state "
                      "directory was let in");
        cr_assert(strstr(err, "is in use by another newstap produce"), "%s",
                  err);
        cr_assert(strstr(err, pid), "the holder's %s is not named: %s", pid,
                  err);
        free(out);
        free(err);
        stop_produce(&child);
        status = nt_run(once, NULL, &out, &err, 60000);
        cr_assert_eq(status, 0, "after the first stopped: %s", err);
        free(out);
        free(err);
}

/* Runs `newstap feeds -c config_path -o jsonl`, which must exit 0; its
 * output (caller frees). */
static char *feeds_jsonl(void)
{
        char *argv[] = {(char *)nt_test_bin(),
                        "feeds",
                        "-c",
                        config_path,
                        "-o",
                        "jsonl",
                        NULL};
        char *out, *err;
        int status = nt_run(argv, NULL, &out, &err, 60000);

        cr_assert_eq(status, 0, "feeds exited %d: %s", status, err);
        free(err);
        return out;
}

/* `newstap feeds` shows each feed's state: a good one with its last
 * success and validators, a failing one with its failures and error, a
 * new one as polled at start. */
Test(real, feeds_lists_each_feed_with_its_state)
{
        const char *two[] = {"/good.xml", "/gone-missing.xml"};
        const char *three[] = {"/good.xml", "/gone-missing.xml", "/new.xml"};
        char *table[] = {(char *)nt_test_bin(), "feeds", "list", "-c",
                         config_path,           NULL};
        char *out, *err, *line, *save = NULL;
        int status, good = 0, bad = 0, fresh = 0;

        serve_rss("/good.xml", "\"g1\"", 1, 2, -1);
        serve("/gone-missing.xml", 404, NULL, "Content-Type: text/plain", "no");
        write_config(two, 2, NULL);
        cr_assert_eq(produce_once(), 1, "a failed feed makes --once exit 1");
        write_config(three, 3, NULL);

        out = feeds_jsonl();
        for (line = strtok_r(out, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                json_t *f = json_loads(line, 0, NULL);
                const char *url = json_string_value(json_object_get(f, "url"));

                cr_assert_not_null(url, "not a feed object: %s", line);
                if (strstr(url, "/good.xml")) {
                        good++;
                        cr_assert(json_is_true(json_object_get(f, "polled")));
                        cr_assert(
                            json_is_string(json_object_get(f, "last_success")),
                            "%s", line);
                        cr_assert_str_eq(
                            json_string_value(json_object_get(f, "etag")),
                            "\"g1\"");
                        cr_assert_eq(
                            json_integer_value(json_object_get(f, "failures")),
                            0);
                } else if (strstr(url, "/gone-missing.xml")) {
                        bad++;
                        cr_assert(
                            json_is_null(json_object_get(f, "last_success")),
                            "%s", line);
                        cr_assert_eq(
                            json_integer_value(json_object_get(f, "failures")),
                            1, "%s", line);
                        cr_assert(strstr(json_string_value(
                                             json_object_get(f, "last_error")),
                                         "404"),
                                  "%s", line);
                } else {
                        fresh++;
                        cr_assert(json_is_false(json_object_get(f, "polled")),
                                  "%s", line);
                }
                json_decref(f);
        }
        cr_assert(good == 1 && bad == 1 && fresh == 1,
                  "good %d, failing %d, new %d", good, bad, fresh);
        free(out);

        status = nt_run(table, NULL, &out, &err, 60000);
        cr_assert_eq(status, 0, "%s", err);
        cr_assert(strstr(out, "SUCCEEDED"), "%s", out);
        cr_assert(strstr(out, "at start"), "%s", out);
        cr_assert(strstr(out, "last error:"), "%s", out);
        free(out);
        free(err);
}

Test(real, metrics_move_and_readiness_follows_the_broker)
{
        const char *paths[] = {"/m.xml"};
        struct nt_child child;
        unsigned port = nt_test_free_port();

        serve_rss("/m.xml", NULL, 1, 3, -1);
        write_config(paths, 1, NULL);
        start_produce(&child, port);

        cr_assert(nt_test_wait_status(port, "/healthz", 200, 30),
                  "no /healthz");
        cr_assert(nt_test_wait_status(port, "/readyz", 200, 30),
                  "never ready with the broker up");
        cr_assert_geq(
            nt_test_wait_metric(port, "newstap_published_total", "", 3, 30), 3,
            "the published counter did not move");
        cr_assert_geq(nt_test_metric(port, "newstap_kafka_brokers_up", ""), 1);
        /* As Prometheus users expect: a build_info, _total on counters,
         * the latency as a histogram, a per-feed last success time. */
        cr_assert_eq(nt_test_metric(port, "newstap_build_info", "{"), 1);
        cr_assert_geq(
            nt_test_metric(port, "newstap_publish_latency_seconds_count", ""),
            3);
        cr_assert_geq(nt_test_metric(port,
                                     "newstap_publish_latency_seconds_bucket",
                                     "{le=\"+Inf\"}"),
                      3);
        cr_assert_gt(nt_test_metric(port, "newstap_kafka_tx_bytes_total", ""),
                     0);
        cr_assert_gt(nt_test_metric(port,
                                    "newstap_feed_last_success_timestamp_"
                                    "seconds",
                                    "{"),
                     (double)time(NULL) - 120);

        cr_assert_eq(nt_test_kafka_local("down"), 0);
        cr_assert(nt_test_wait_status(port, "/readyz", 503, 60),
                  "still ready with the broker down");
        cr_assert_eq(nt_test_kafka_local("up"), 0);
        cr_assert(nt_test_wait_status(port, "/readyz", 200, 60),
                  "not ready again after the broker came back");

        stop_produce(&child);
}

/* Appends what the child has written to stderr so far (waiting at most
 * wait_ms for more) to `log`, so that its pipe never fills. Returns false
 * at the end of the stream. */
static bool drain_stderr(struct nt_child *c, struct nt_buf *log, int wait_ms)
{
        char chunk[4096];
        struct pollfd pfd = {c->err_fd, POLLIN, 0};
        ssize_t n;

        while (poll(&pfd, 1, wait_ms) > 0) {
                n = read(c->err_fd, chunk, sizeof(chunk));
                if (n <= 0)
                        return false;
                nt_buf_append(log, chunk, (size_t)n);
        }
        return true;
}

struct secret_scan {
        const char *secret;
        size_t messages, leaks;
        char feed_url[256];
        char leak[512];
};

/* Counts the messages of the topic whose key, value or headers hold the
 * secret; remembers feed.url of the last article. */
static bool scan_secret(const rd_kafka_message_t *rkm, void *ctx)
{
        struct secret_scan *s = ctx;
        rd_kafka_headers_t *hdrs = NULL;
        const char *name;
        const void *val;
        size_t len, i;
        struct nt_buf all;
        json_t *art;

        nt_buf_init(&all, 16 << 20);
        nt_buf_append(&all, rkm->key, rkm->key_len);
        nt_buf_append(&all, rkm->payload, rkm->len);
        if (rd_kafka_message_headers(rkm, &hdrs) == 0)
                for (i = 0;
                     rd_kafka_header_get_all(hdrs, i, &name, &val, &len) == 0;
                     i++) {
                        nt_buf_append_str(&all, name);
                        nt_buf_append(&all, val, len);
                }
        if (strstr(nt_buf_str(&all), s->secret)) {
                s->leaks++;
                snprintf(s->leak, sizeof(s->leak), "%.500s", nt_buf_str(&all));
        }
        art = json_loadb(rkm->payload, rkm->len, 0, NULL);
        snprintf(s->feed_url, sizeof(s->feed_url), "%s",
                 json_string_value(
                     json_object_get(json_object_get(art, "feed"), "url")));
        json_decref(art);
        nt_buf_free(&all);
        s->messages++;
        return false;
}

/* Neither the secret password nor the user name of the credentials
 * test below is in `text`, what `where` shows. */
static void assert_no_credentials(const char *text, const char *where)
{
        cr_assert_null(strstr(text, "s3cretPW"), "the secret is in %s:\n%s",
                       where, text);
        cr_assert_null(strstr(text, "newsuser"), "the user name is in %s:\n%s",
                       where, text);
}

/* Credentials in a feed URL and an Authorization header are what a
 * paywalled wire needs; they must reach the feed's server and nothing
 * else: not the articles on the topic (feed.url, links resolved against
 * the feed), not the log, not the feed label on /metrics. */
Test(real, credentials_never_leave_the_process)
{
        static const char body[] =
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
            "<title>Paywalled wire</title><link>/</link>"
            "<item><title>Relative one</title><link>/story/1</link>"
            "<guid>cred-1</guid></item>"
            "<item><title>Relative two</title><link>story/2</link>"
            "<guid>cred-2</guid></item>"
            "</channel></rss>";
        const char *port_at = strrchr(nt_httpd_url(srv), ':');
        struct timespec tick = {0, 50 * 1000 * 1000};
        struct secret_scan scan = {.secret = "s3cretPW"};
        struct nt_child child;
        struct nt_buf log, metrics;
        unsigned port = nt_test_free_port();
        char want_url[128], *out;
        time_t deadline;
        int status;

        serve("/cred.xml", 200, NULL, NULL, body);
        serve("/cred-missing.xml", 404, NULL, "Content-Type: text/plain", "no");
        nt_test_printf_file(
            config_path,
            "{\"kafka\": {\"bootstrap.servers\": \"%s\"},"
            " \"topics\": {\"raw\": \"%s\"},"
            " \"producer\": {\"state_dir\": \"%s\", \"interval\": \"1s\", "
            "\"min_interval\": \"1s\","
            " \"backoff_base\": \"1s\", \"backoff_max\": \"2s\","
            " \"summary_interval\": 0, \"feeds\": ["
            " {\"url\": \"http://newsuser:s3cretPW@127.0.0.1%s/cred.xml\","
            "  \"headers\": {\"Authorization\": \"Bearer tok-s3cretPW\"}},"
            " {\"url\": "
            "\"http://newsuser:s3cretPW@127.0.0.1%s/cred-missing.xml\"}"
            "]}}\n",
            nt_test_kafka_bootstrap(), topic, state_dir, port_at, port_at);
        start_produce(&child, port);

        /* Two articles confirmed, and the failing feed asked twice: its
         * first failure has then been handled and logged. */
        nt_buf_init(&log, 16 << 20);
        nt_buf_init(&metrics, 16 << 20);
        deadline = time(NULL) + 60;
        while ((nt_test_metric(port, "newstap_published_total", "") < 2 ||
                nt_httpd_requests(srv, "/cred-missing.xml", NULL, 0) < 2) &&
               time(NULL) < deadline) {
                drain_stderr(&child, &log, 0);
                nanosleep(&tick, NULL);
        }
        cr_assert_eq(nt_test_http_get(port, "/metrics", &metrics), 200);
        kill(child.pid, SIGTERM);
        deadline = time(NULL) + 30;
        while (drain_stderr(&child, &log, 200) && time(NULL) < deadline)
                ;
        status = nt_child_stop(&child, SIGTERM, 30000);
        cr_assert_eq(status, 0, "produce exited %d: %s", status,
                     nt_buf_str(&log));

        cr_assert_not_null(strstr(nt_buf_str(&metrics), "cred.xml"),
                           "no series labelled with the feed:\n%s",
                           nt_buf_str(&metrics));
        assert_no_credentials(nt_buf_str(&metrics), "/metrics");
        cr_assert_not_null(strstr(nt_buf_str(&log), "cred-missing.xml"),
                           "the failing feed is not in the log:\n%s",
                           nt_buf_str(&log));
        assert_no_credentials(nt_buf_str(&log), "the log");

        nt_test_read_topic(nt_test_kafka_bootstrap(), topic, scan_secret, &scan,
                           10000);
        cr_assert_eq(scan.messages, 2, "2 articles on the topic, got %zu",
                     scan.messages);
        cr_assert_eq(scan.leaks, 0, "%zu message(s) hold the secret: %s",
                     scan.leaks, scan.leak);
        snprintf(want_url, sizeof(want_url), "http://127.0.0.1%s/cred.xml",
                 port_at);
        cr_assert_str_eq(scan.feed_url, want_url,
                         "feed.url keeps the feed without its credentials");
        out = feeds_jsonl();
        cr_assert_not_null(strstr(out, "cred-missing.xml"), "%s", out);
        assert_no_credentials(out, "`newstap feeds`");
        free(out);
        nt_buf_free(&log);
        nt_buf_free(&metrics);
}

/* Reads the child's stderr into *acc until `needle` appears or the time
 * is up; true when it appeared. */
static bool wait_stderr(struct nt_child *c, struct nt_buf *acc,
                        const char *needle, int timeout_s)
{
        time_t deadline = time(NULL) + timeout_s;
        char chunk[4096];

        while (!strstr(nt_buf_str(acc), needle) && time(NULL) < deadline) {
                struct pollfd pfd = {c->err_fd, POLLIN, 0};
                ssize_t n;

                if (poll(&pfd, 1, 200) <= 0)
                        continue;
                n = read(c->err_fd, chunk, sizeof(chunk));
                if (n <= 0)
                        break;
                nt_buf_append(acc, chunk, (size_t)n);
        }
        return strstr(nt_buf_str(acc), needle) != NULL;
}

/* A limit that cuts a feed is logged with the feed and counted per
 * limit: before, a description nested deeper than 64 elements was
 * published as `summary: null` (and the rest of the feed dropped) without
 * a word. */
Test(real, a_cut_feed_is_logged_and_counted)
{
        const char *paths[] = {"/deep.xml"};
        char fixture[512], labels[512], want[512], *body;
        struct nt_child child;
        struct nt_buf log;
        unsigned port = nt_test_free_port();
        size_t len;

        body = nt_test_slurp(nt_test_fixture("feeds/rss20-deep-description.xml",
                                             fixture, sizeof(fixture)),
                             &len);
        cr_assert_not_null(body);
        serve("/deep.xml", 200, NULL, NULL, body);
        free(body);
        write_config(paths, 1, NULL);
        start_produce(&child, port);

        nt_buf_init(&log, 4 << 20);
        snprintf(want, sizeof(want), "feed %s/deep.xml: cut by the depth limit",
                 nt_httpd_url(srv));
        cr_assert(wait_stderr(&child, &log, want, 30),
                  "no log line with the feed and the limit: %s",
                  nt_buf_str(&log));
        cr_assert(strstr(nt_buf_str(&log), "nested deeper than 64"), "%s",
                  nt_buf_str(&log));
        snprintf(labels, sizeof(labels),
                 "{feed=\"%s/deep.xml\",limit=\"depth\"}", nt_httpd_url(srv));
        cr_assert_geq(nt_test_wait_metric(port,
                                          "newstap_feed_truncations_total",
                                          labels, 1, 30),
                      1, "the cut is not counted as %s", labels);
        stop_produce(&child);
        nt_buf_free(&log);
}

/* Lines of `text` holding both `a` and `b`. */
static int count_lines_with(const char *text, const char *a, const char *b)
{
        const char *p = text;
        int n = 0;

        while (p && *p) {
                const char *end = strchr(p, '\n');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                char *line = strndup(p, len);

                cr_assert_not_null(line);
                n += strstr(line, a) && strstr(line, b);
                free(line);
                p = end ? end + 1 : NULL;
        }
        return n;
}

/* While the broker is away every article fails once per
 * message.timeout.ms. The log folds those failures: at most a line per
 * kind and 10 s, not one per failure (5,594 lines in 45 s before). */
Test(real, an_outage_does_not_flood_the_log)
{
        const char *paths[] = {"/many.xml"};
        char cmd[1024], log_path[160], *text;
        char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        struct nt_child child;
        struct timespec tick = {0, 200 * 1000 * 1000};
        unsigned port = nt_test_free_port();
        double failures;
        time_t deadline;
        size_t len;
        int lines;

        serve_rss("/many.xml", NULL, 1, 300, -1);
        write_config(paths, 1, NULL);
        produce_logged(cmd, sizeof(cmd), log_path, sizeof(log_path));
        cr_assert_eq(nt_test_kafka_local("down"), 0);
        setenv("NEWSTAP_KAFKA_MESSAGE_TIMEOUT_MS", "2000", 1);
        start_with_metrics(&child, argv, port);
        unsetenv("NEWSTAP_KAFKA_MESSAGE_TIMEOUT_MS");

        /* Two rounds of failures of all 300 articles at least. */
        failures = nt_test_wait_metric(port, "newstap_delivery_failures_total",
                                       "", 600, 90);
        cr_assert_geq(failures, 600, "the deliveries did not fail");
        /* The first folded line comes once its interval (10 s) is over. */
        deadline = time(NULL) + 60;
        for (;;) {
                text = nt_test_slurp(log_path, &len);
                cr_assert_not_null(text);
                if (count_lines_with(text, "delivery failed (",
                                     " in the last ") > 0 ||
                    time(NULL) >= deadline)
                        break;
                free(text);
                nanosleep(&tick, NULL);
        }
        failures = nt_test_metric(port, "newstap_delivery_failures_total", "");
        lines = count_lines_with(text, "level=warn", "deliver");
        cr_assert_geq(
            count_lines_with(text, "delivery failed (", " in the last "), 1,
            "no folded line: %s", text);
        /* The first of each kind, then a line per kind and interval. */
        cr_assert_leq(lines, 12, "%d warning lines for %.0f failures: %s",
                      lines, failures, text);
        free(text);

        cr_assert_eq(nt_test_kafka_local("up"), 0);
        cr_assert_geq(
            nt_test_wait_metric(port, "newstap_published_total", "", 300, 90),
            300,
            "not everything was published once the broker "
            "came back");
        stop_produce(&child);
}

/* ---- full text from pages (producer.content, a feed's "content") ---- */

/* An RSS feed of n items titled "PREFIX story I", whose description is
 * a one-line teaser and whose link is the page /PREFIX/I on the test
 * server, written into b (initialised here; the caller frees it). */
static void feed_linking(struct nt_buf *b, const char *prefix, int n)
{
        int i;

        nt_buf_init(b, 1 << 20);
        nt_buf_append_str(b, "<?xml version=\"1.0\"?><rss version=\"2.0\">"
                             "<channel><title>Short wire</title>"
                             "<link>http://127.0.0.1/</link>");
        for (i = 1; i <= n; i++)
                nt_buf_printf(
                    b,
                    "<item><title>%s story %d</title>"
                    "<link>%s/%s/%d</link>"
                    "<guid>urn:%s:%d</guid>"
                    "<description>Teaser of %s story %d.</description>"
                    "</item>",
                    prefix, i, nt_httpd_url(srv), prefix, i, prefix, i, prefix,
                    i);
        nt_buf_append_str(b, "</channel></rss>");
}

/* Serves that feed at feed_path. */
static void serve_feed_linking(const char *feed_path, const char *prefix, int n)
{
        struct nt_buf b;

        feed_linking(&b, prefix, n);
        serve(feed_path, 200, NULL, NULL, nt_buf_str(&b));
        nt_buf_free(&b);
}

/* An article page: navigation, the story in <article>, related links. */
static const char story_page[] =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<title>Harbour cranes return | Test Gazette</title></head><body>"
    "<nav><a href=\"/\">Home</a> <a href=\"/world\">World</a> "
    "<a href=\"/sport\">Sport</a></nav>"
    "<article><h1>Harbour cranes return</h1>"
    "<p>The three cranes that left the eastern harbour in spring came back "
    "on Tuesday morning, towed by two tugs through a calm and grey sea.</p>"
    "<p>Dock workers said the refit had taken longer than planned because a "
    "gearbox part had to be made again from the original drawings.</p>"
    "<p>Loading of the first grain ship is to start next week, the port "
    "authority said in a short statement on its notice board.</p>"
    "</article><aside class=\"related\"><a href=\"/x\">Other news</a></aside>"
    "</body></html>";

static void serve_page(const char *path, int status, const char *body)
{
        serve(path, status, NULL, "Content-Type: text/html; charset=utf-8",
              body);
}

/* Serves the feed of serve_feed_linking() at feed_path and story_page
 * at each of its n links. */
static void serve_feed_of_stories(const char *feed_path, const char *prefix,
                                  int n)
{
        char path[64];
        int i;

        serve_feed_linking(feed_path, prefix, n);
        for (i = 1; i <= n; i++) {
                snprintf(path, sizeof(path), "/%s/%d", prefix, i);
                serve_page(path, 200, story_page);
        }
}

/* Articles by title: [{"v": article, "ts": record time in ms}]. */
static bool collect_values(const rd_kafka_message_t *rkm, void *ctx)
{
        json_error_t jerr;
        json_t *art = json_loadb(rkm->payload, rkm->len, 0, &jerr);
        rd_kafka_timestamp_type_t tstype;
        const char *title;
        bool done;

        cr_assert_not_null(art, "not JSON: %s", jerr.text);
        title = json_string_value(json_object_get(art, "title"));
        cr_assert_not_null(title);
        /* The title is the article's: hold the article until the view
         * has copied it. */
        json_incref(art);
        done = view_add(
            ctx, title,
            json_pack("{s:o,s:I}", "v", art, "ts",
                      (json_int_t)rd_kafka_message_timestamp(rkm, &tstype)));
        json_decref(art);
        return done;
}

/* Articles by title; see read_view(). */
static void read_values(struct topic_view *v, size_t want, int timeout_ms)
{
        read_view(v, collect_values, want, timeout_ms);
}

/* The one article titled `title` (it must have been published exactly
 * once). */
static json_t *only(const struct topic_view *v, const char *title)
{
        json_t *list = json_object_get(v->by_key, title);

        cr_assert_not_null(list, "\"%s\" was not published", title);
        cr_assert_eq(json_array_size(list), 1,
                     "\"%s\" published %zu times, not once", title,
                     json_array_size(list));
        return json_object_get(json_array_get(list, 0), "v");
}

static const char *field(const json_t *art, const char *name)
{
        return json_string_value(json_object_get(art, name));
}

/* The article titled `title` (a story of feed_linking()) went out once
 * with the feed's text, for the reason `page_error`. */
static void assert_feed_text(const struct topic_view *v, const char *title,
                             const char *page_error)
{
        const json_t *a = only(v, title);
        char teaser[128];

        snprintf(teaser, sizeof(teaser), "Teaser of %s.", title);
        cr_assert_str_eq(field(a, "content_source"), "feed", "%s", title);
        cr_assert_str_eq(field(a, "page_error"), page_error, "%s", title);
        cr_assert_str_eq(field(a, "summary"), teaser, "%s", title);
}

/* Runs `produce --once` (which must succeed) on the configuration of
 * write_config_feeds(feeds, extra), then reads the articles by title
 * into v, waiting for `want`. */
static void produce_once_reading(const char *feeds, const char *extra,
                                 struct topic_view *v, size_t want)
{
        write_config_feeds(feeds, extra);
        cr_assert_eq(produce_once(), 0);
        read_values(v, want, 30000);
}

/* Two feeds on the test server as configuration elements, into `feeds`:
 * the one at `path` with "content": `content`, the one at `plain` with
 * no "content" of its own. */
static void feeds_content_and_plain(char *feeds, size_t size, const char *path,
                                    const char *content, const char *plain)
{
        snprintf(feeds, size,
                 "{\"url\": \"%s%s\", \"content\": \"%s\"},"
                 "{\"url\": \"%s%s\"}",
                 nt_httpd_url(srv), path, content, nt_httpd_url(srv), plain);
}

/* produce_once_reading() on the one feed at `feed_path` on the test
 * server, with "content": "page". */
static void produce_page_feed_once(const char *feed_path, const char *extra,
                                   struct topic_view *v, size_t want)
{
        char feeds[512];

        snprintf(feeds, sizeof(feeds),
                 "{\"url\": \"%s%s\", \"content\": \"page\"}",
                 nt_httpd_url(srv), feed_path);
        produce_once_reading(feeds, extra, v, want);
}

/* Serves body at path in 64-byte pieces, each after delay_ms. */
static void serve_slow(const char *path, const char *headers, const char *body,
                       int delay_ms)
{
        struct nt_httpd_route r;

        memset(&r, 0, sizeof(r));
        snprintf(r.path, sizeof(r.path), "%s", path);
        r.kind = NT_HTTPD_SLOW;
        r.status = 200;
        snprintf(r.headers, sizeof(r.headers), "%s", headers);
        r.body = body;
        r.body_len = strlen(body);
        r.delay_ms = delay_ms;
        nt_httpd_route(srv, &r);
}

/* content "page": a good page gives the article its main text; a 404
 * and a page without main text publish the feed's text, once each, with
 * the reason; a second poll fetches no page again and publishes nothing. */
Test(real, page_content_good_missing_and_empty_pages)
{
        struct topic_view v;
        json_t *a;

        serve_feed_linking("/feed.xml", "p", 3);
        serve_page("/p/1", 200, story_page);
        serve_page("/p/2", 404, "<html><body><p>Not here.</p></body></html>");
        serve_page("/p/3", 200, "<html><body></body></html>");
        produce_page_feed_once("/feed.xml", NULL, &v, 3);
        cr_assert_eq(v.messages, 3, "got %zu", v.messages);

        a = only(&v, "p story 1");
        cr_assert_str_eq(field(a, "content_source"), "page");
        cr_assert_null(json_object_get(a, "page_error"));
        cr_assert_not_null(strstr(field(a, "content"), "gearbox part"), "%s",
                           field(a, "content"));
        cr_assert_null(strstr(field(a, "content"), "Sport"),
                       "navigation in the text: %s", field(a, "content"));
        cr_assert_str_eq(field(a, "summary"), "Teaser of p story 1.");

        assert_feed_text(&v, "p story 2", "HTTP 404");
        {
                char *text = json_dumps(only(&v, "p story 2"), 0);

                cr_assert_null(strstr(text, "Not here"));
                free(text);
        }

        assert_feed_text(&v, "p story 3", "no main text");
        json_decref(v.by_key);

        /* Seen: the next poll sends nothing and asks for no page. */
        cr_assert_eq(produce_once(), 0);
        cr_assert_eq(nt_httpd_requests(srv, "/feed.xml", NULL, 0), 2);
        cr_assert_eq(nt_httpd_requests(srv, "/p/1", NULL, 0), 1);
        cr_assert_eq(nt_httpd_requests(srv, "/p/2", NULL, 0), 1);
        cr_assert_eq(nt_httpd_requests(srv, "/p/3", NULL, 0), 1);
        read_values(&v, 0, 5000);
        cr_assert_eq(v.messages, 3, "published again: %zu", v.messages);
        json_decref(v.by_key);
}

/* content "auto" fetches only the pages of short entries; "feed" (the
 * default) none. */
Test(real, auto_content_fetches_pages_of_short_entries_only)
{
        char feeds[512];
        struct topic_view v;
        json_t *a;

        serve_feed_of_stories("/short.xml", "s", 1);
        serve_feed_of_stories("/plain.xml", "q", 1);
        feeds_content_and_plain(feeds, sizeof(feeds), "/short.xml", "auto",
                                "/plain.xml");
        /* "Teaser of s story 1." has 20 characters. */
        produce_once_reading(feeds, "\"content_min_chars\": 21", &v, 2);
        a = only(&v, "s story 1");
        cr_assert_str_eq(field(a, "content_source"), "page");
        a = only(&v, "q story 1");
        cr_assert_null(json_object_get(a, "content_source"),
                       "a feed-mode article is as before");
        cr_assert_eq(nt_httpd_requests(srv, "/q/1", NULL, 0), 0);
        json_decref(v.by_key);

        /* At the threshold the entry's own text is enough. */
        serve_feed_of_stories("/short.xml", "t", 1);
        produce_once_reading(feeds, "\"content_min_chars\": 20", &v, 3);
        a = only(&v, "t story 1");
        cr_assert_null(json_object_get(a, "content_source"));
        cr_assert_eq(nt_httpd_requests(srv, "/t/1", NULL, 0), 0);
        json_decref(v.by_key);
}

/* A page slower than producer.timeout: its article goes out with the
 * feed's text ("timeout") after the others of its feed and after another
 * feed's articles, which did not wait for it. */
Test(real, a_slow_page_delays_neither_its_feed_nor_another)
{
        static char slow_body[1024];
        char feeds[512];
        struct topic_view v;
        json_t *a;
        json_int_t slow_ts;

        serve_feed_linking("/wire.xml", "w", 2);
        serve_rss("/other.xml", NULL, 1, 3, -1);
        serve_page("/w/2", 200, story_page);
        /* 16 pieces of 64 bytes, 1 s apart: 16 s, far past the 2 s
         * limit. */
        memset(slow_body, 'x', sizeof(slow_body) - 1);
        serve_slow("/w/1", "Content-Type: text/html", slow_body, 1000);
        feeds_content_and_plain(feeds, sizeof(feeds), "/wire.xml", "page",
                                "/other.xml");
        produce_once_reading(feeds, "\"timeout\": \"2s\"", &v, 5);
        cr_assert_eq(v.messages, 5, "got %zu", v.messages);
        assert_feed_text(&v, "w story 1", "timeout");
        slow_ts = json_integer_value(json_object_get(
            json_array_get(json_object_get(v.by_key, "w story 1"), 0), "ts"));
        {
                const char *title;
                json_t *list;

                json_object_foreach(v.by_key, title, list)
                {
                        json_int_t ts;

                        if (strcmp(title, "w story 1") == 0)
                                continue;
                        a = json_object_get(json_array_get(list, 0), "v");
                        ts = json_integer_value(
                            json_object_get(json_array_get(list, 0), "ts"));
                        cr_assert_lt(ts, slow_ts,
                                     "\"%s\" waited for the slow page", title);
                }
        }
        a = only(&v, "w story 2");
        cr_assert_str_eq(field(a, "content_source"), "page");
        json_decref(v.by_key);
}

/* robots.txt is asked once per host, its group for newstap wins over
 * "*", and a disallowed page is never requested: its article goes out
 * once with the feed's text and page_error "robots.txt". */
Test(real, robots_txt_disallow_is_honoured)
{
        char feeds[512];
        struct topic_view v;
        json_t *a;

        serve_feed_of_stories("/a.xml", "private", 1);
        serve_feed_of_stories("/b.xml", "open", 2);
        serve("/robots.txt", 200, NULL, "Content-Type: text/plain",
              "User-agent: *\nDisallow: /\n\n"
              "User-agent: newstap\nDisallow: /private/\n");
        feeds_content_and_plain(feeds, sizeof(feeds), "/a.xml", "page",
                                "/b.xml");
        produce_once_reading(feeds, "\"content\": \"page\"", &v, 3);
        cr_assert_eq(v.messages, 3, "got %zu", v.messages);
        assert_feed_text(&v, "private story 1", "robots.txt");
        a = only(&v, "open story 1");
        cr_assert_str_eq(field(a, "content_source"), "page",
                         "producer.content applies to a feed without one");
        a = only(&v, "open story 2");
        cr_assert_str_eq(field(a, "content_source"), "page");
        cr_assert_eq(nt_httpd_requests(srv, "/private/1", NULL, 0), 0,
                     "a disallowed page was requested");
        cr_assert_eq(nt_httpd_requests(srv, "/robots.txt", NULL, 0), 1,
                     "robots.txt once per host");
        json_decref(v.by_key);
}

/* A robots.txt that fails with 5xx disallows for now; one that is
 * missing (404) allows everything. */
Test(real, robots_txt_server_error_disallows_missing_allows)
{
        struct topic_view v;
        json_t *a;

        serve_feed_of_stories("/e.xml", "e", 1);
        serve("/robots.txt", 503, NULL, "Content-Type: text/plain", "busy");
        produce_page_feed_once("/e.xml", NULL, &v, 1);
        assert_feed_text(&v, "e story 1", "robots.txt unreachable");
        cr_assert_eq(nt_httpd_requests(srv, "/e/1", NULL, 0), 0);
        json_decref(v.by_key);

        /* Another run, robots.txt gone: a new article's page is
         * fetched. */
        serve_feed_of_stories("/e.xml", "g", 1);
        serve("/robots.txt", 404, NULL, "Content-Type: text/plain", "no");
        cr_assert_eq(produce_once(), 0);
        read_values(&v, 2, 30000);
        a = only(&v, "g story 1");
        cr_assert_str_eq(field(a, "content_source"), "page");
        json_decref(v.by_key);
}

/* A page larger than producer.max_body (one that never ends) is cut off
 * and the article goes out with the feed's text, "too big". */
Test(real, a_huge_page_publishes_the_feed_text)
{
        struct nt_httpd_route r;
        struct topic_view v;

        serve_feed_linking("/h.xml", "h", 1);
        memset(&r, 0, sizeof(r));
        snprintf(r.path, sizeof(r.path), "/h/1");
        r.kind = NT_HTTPD_ENDLESS;
        nt_httpd_route(srv, &r);
        produce_page_feed_once("/h.xml", "\"max_body\": \"64KiB\"", &v, 1);
        assert_feed_text(&v, "h story 1", "too big");
        json_decref(v.by_key);
}

/* producer.page_timeout is the limit of a page, not of a feed nor of a
 * robots.txt: with producer.timeout at a minute, the feed and the
 * robots.txt, each slower than page_timeout, arrive; a page slower than
 * it goes out with the feed's text ("timeout"), and its sibling with
 * its page. */
Test(real, page_timeout_limits_pages_only)
{
        static char slow_body[512];
        struct topic_view v;
        struct nt_buf feed;
        json_t *a;

        /* The feed (about 500 bytes) in pieces 500 ms apart and the
         * robots.txt (one piece) after 3 s: both past the 2 s page limit,
         * far within the 60 s transfer limit. */
        feed_linking(&feed, "pt", 2);
        cr_assert_gt(feed.len, 4 * 64, "the feed takes more than 2 s");
        serve_slow("/pt.xml", "Content-Type: application/rss+xml",
                   nt_buf_str(&feed), 500);
        nt_buf_free(&feed);
        serve_slow("/robots.txt", "Content-Type: text/plain",
                   "User-agent: *\nAllow: /\n", 3000);
        serve_page("/pt/2", 200, story_page);
        /* 8 pieces of 64 bytes, 1 s apart: 8 s. */
        memset(slow_body, 'x', sizeof(slow_body) - 1);
        serve_slow("/pt/1", "Content-Type: text/html", slow_body, 1000);
        produce_page_feed_once(
            "/pt.xml", "\"timeout\": \"60s\", \"page_timeout\": \"2s\"", &v, 2);
        assert_feed_text(&v, "pt story 1", "timeout");
        a = only(&v, "pt story 2");
        cr_assert_str_eq(field(a, "content_source"), "page");
        cr_assert_null(json_object_get(a, "page_error"),
                       "the robots.txt was read within producer.timeout");
        json_decref(v.by_key);
}

/* Serves at /mx.xml a feed whose items link to the given page URLs, each
 * titled "mx story I". */
static void serve_feed_of(const char *const *links, int n)
{
        struct nt_buf b;
        int i;

        nt_buf_init(&b, 1 << 20);
        nt_buf_append_str(&b, "<?xml version=\"1.0\"?><rss version=\"2.0\">"
                              "<channel><title>Two origins</title>"
                              "<link>http://127.0.0.1/</link>");
        for (i = 0; i < n; i++)
                nt_buf_printf(&b,
                              "<item><title>mx story %d</title><link>%s</link>"
                              "<guid>urn:mx:%d</guid><description>Teaser %d."
                              "</description></item>",
                              i + 1, links[i], i + 1, i + 1);
        nt_buf_append_str(&b, "</channel></rss>");
        serve("/mx.xml", 200, NULL, NULL, nt_buf_str(&b));
        nt_buf_free(&b);
}

/* Waits (at most 60 s) until the series reaches `want`; its value. */
static double wait_metric(unsigned port, const char *name, const char *labels,
                          double want)
{
        return nt_test_wait_metric(port, name, labels, want, 60);
}

/* The pages and robots.txt metrics on /metrics, and the robots.txt cache
 * bound: with producer.robots_origins 1 and pages on two origins (the
 * test server as 127.0.0.1 and as localhost), one origin is kept, and
 * the next page of the forgotten one asks for its robots.txt again. */
Test(real, page_and_robots_metrics_and_the_robots_bound)
{
        char feeds[512], links[5][256];
        const char *linkp[5];
        const char *base = nt_httpd_url(srv);
        struct nt_child child;
        unsigned port = nt_test_free_port();
        int i;

        /* The same server under two origins. */
        snprintf(links[0], sizeof(links[0]), "%s/mx/1", base);
        snprintf(links[1], sizeof(links[1]), "http://localhost:%s/mx/2",
                 strrchr(base, ':') + 1);
        snprintf(links[2], sizeof(links[2]), "%s/private/3", base);
        snprintf(links[3], sizeof(links[3]), "%s/mx/4", base);
        snprintf(links[4], sizeof(links[4]), "http://localhost:%s/mx/5",
                 strrchr(base, ':') + 1);
        for (i = 0; i < 5; i++)
                linkp[i] = links[i];
        serve_feed_of(linkp, 3);
        serve_page("/mx/1", 200, story_page);
        serve_page("/mx/2", 404, "<html><body><p>Gone.</p></body></html>");
        serve_page("/private/3", 200, story_page);
        serve_page("/mx/4", 200, story_page);
        serve_page("/mx/5", 200, story_page);
        serve("/robots.txt", 200, NULL, "Content-Type: text/plain",
              "User-agent: *\nDisallow: /private/\n");
        snprintf(feeds, sizeof(feeds),
                 "{\"url\": \"%s/mx.xml\", \"interval\": 1, "
                 "\"content\": \"page\"}",
                 base);
        write_config_feeds(feeds, "\"robots_origins\": 1");
        start_produce(&child, port);
        cr_assert(nt_test_wait_status(port, "/healthz", 200, 30),
                  "no /healthz");

        cr_assert_geq(wait_metric(port, "newstap_published_total", "", 3), 3,
                      "the three articles were not published");
        cr_assert_eq(
            wait_metric(port, "newstap_pages_total", "{result=\"ok\"}", 1), 1);
        cr_assert_eq(wait_metric(port, "newstap_pages_total",
                                 "{result=\"http_error\"}", 1),
                     1);
        cr_assert_eq(wait_metric(port, "newstap_pages_total",
                                 "{result=\"robots_disallowed\"}", 1),
                     1);
        cr_assert_eq(wait_metric(port, "newstap_robots_fetches_total",
                                 "{result=\"ok\"}", 2),
                     2, "one robots.txt per origin");
        cr_assert_eq(nt_test_metric(port, "newstap_robots_origins", ""), 1,
                     "more origins kept than producer.robots_origins");
        cr_assert_eq(nt_httpd_requests(srv, "/robots.txt", NULL, 0), 2);

        /* Two new articles, one on each origin: the forgotten one asks
         * for its robots.txt again. */
        serve_feed_of(linkp, 5);
        cr_assert_geq(wait_metric(port, "newstap_published_total", "", 5), 5,
                      "the two new articles were not published");
        cr_assert_eq(
            wait_metric(port, "newstap_pages_total", "{result=\"ok\"}", 3), 3);
        cr_assert_geq(nt_httpd_requests(srv, "/robots.txt", NULL, 0), 3,
                      "no origin was forgotten");
        cr_assert_eq(nt_test_metric(port, "newstap_robots_origins", ""), 1);
        stop_produce(&child);
}

/* A robots.txt that allows everything, and a story page at path, on
 * another test server than the suite's. */
static void serve_origin(nt_httpd_t *s, const char *path)
{
        nt_httpd_serve(s, "/robots.txt", 200, "Content-Type: text/plain",
                       "User-agent: *\nAllow: /\n", NULL);
        nt_httpd_serve(s, path, 200, "Content-Type: text/html", story_page,
                       NULL);
}

/* The robots.txt cache forgets the least recently used origin, not the
 * oldest: with producer.robots_origins 2 and three origins (three test
 * servers) A, B, C, pages wanted one at a time on A, B, A, C, A, B keep
 * A (used again before C came), forget B for C, then C for B: A's
 * robots.txt is asked once, B's twice, C's once. Each step waits for
 * the previous article to be published, so every robots.txt has
 * arrived before the next page is wanted. */
Test(real, robots_cache_forgets_the_least_recently_used)
{
        static const int at[] = {0, 1, 0, 2, 0, 1}; /* A B A C A B */
        nt_httpd_t *s[3] = {srv, nt_httpd_start(), nt_httpd_start()};
        char feeds[512], links[6][256], path[64];
        const char *linkp[6];
        struct nt_child child;
        unsigned port = nt_test_free_port();
        int i;

        cr_assert(s[1] && s[2]);
        for (i = 0; i < 6; i++) {
                snprintf(path, sizeof(path), "/lru/%d", i + 1);
                snprintf(links[i], sizeof(links[i]), "%s%s",
                         nt_httpd_url(s[at[i]]), path);
                linkp[i] = links[i];
                serve_origin(s[at[i]], path);
        }
        serve_feed_of(linkp, 1);
        snprintf(feeds, sizeof(feeds),
                 "{\"url\": \"%s/mx.xml\", \"interval\": 1, "
                 "\"content\": \"page\"}",
                 nt_httpd_url(srv));
        write_config_feeds(feeds, "\"robots_origins\": 2");
        start_produce(&child, port);
        cr_assert(nt_test_wait_status(port, "/healthz", 200, 30),
                  "no /healthz");
        for (i = 1; i <= 6; i++) {
                if (i > 1)
                        serve_feed_of(linkp, i);
                cr_assert_geq(wait_metric(port, "newstap_pages_total",
                                          "{result=\"ok\"}", i),
                              i, "page %d was not published with its text", i);
        }
        stop_produce(&child);
        cr_assert_eq(nt_httpd_requests(s[0], "/robots.txt", NULL, 0), 1,
                     "A, used again before C, was forgotten");
        cr_assert_eq(nt_httpd_requests(s[1], "/robots.txt", NULL, 0), 2,
                     "B was not forgotten for C");
        cr_assert_eq(nt_httpd_requests(s[2], "/robots.txt", NULL, 0), 1);
        nt_httpd_stop(s[1]);
        nt_httpd_stop(s[2]);
}

/* Conditional GET of pages: the feed /a.xml links the page /cg/1 (with
 * an ETag); once its article is out, the feed /mx.xml, empty until then,
 * gets an item linking the same page. With the page kept
 * (`conditional`), its second request carries If-None-Match, the server
 * answers 304, and the second article has the page's text all the same;
 * else (producer settings `extra`: a bound too small for the page, or 0)
 * the page is fetched whole again. */
static void page_fetched_again(const char *extra, bool conditional,
                               bool by_date)
{
        char feeds[512], link[256];
        const char *linkp[1] = {link};
        const char *base = nt_httpd_url(srv);
        struct nt_httpd_request req[4];
        struct nt_child child;
        struct topic_view v;
        unsigned port = nt_test_free_port();
        json_t *a, *b;

        snprintf(link, sizeof(link), "%s/cg/1", base);
        serve_feed_linking("/a.xml", "cg", 1);
        serve_feed_of(linkp, 0);
        serve("/cg/1", 200, by_date ? NULL : "\"cg-v1\"",
              "Content-Type: text/html; charset=utf-8", story_page);
        if (by_date) { /* Last-Modified only */
                struct nt_httpd_route r;

                memset(&r, 0, sizeof(r));
                snprintf(r.path, sizeof(r.path), "/cg/1");
                r.status = 200;
                snprintf(r.headers, sizeof(r.headers),
                         "Content-Type: text/html; charset=utf-8");
                snprintf(r.last_modified, sizeof(r.last_modified),
                         "Tue, 01 Dec 2026 08:00:00 GMT");
                r.body = story_page;
                r.body_len = strlen(story_page);
                nt_httpd_route(srv, &r);
        }
        snprintf(feeds, sizeof(feeds),
                 "{\"url\": \"%s/a.xml\", \"interval\": 1, "
                 "\"content\": \"page\"}, "
                 "{\"url\": \"%s/mx.xml\", \"interval\": 1, "
                 "\"content\": \"page\"}",
                 base, base);
        write_config_feeds(feeds, extra);
        start_produce(&child, port);
        cr_assert(nt_test_wait_status(port, "/healthz", 200, 30),
                  "no /healthz");
        cr_assert_eq(
            wait_metric(port, "newstap_pages_total", "{result=\"ok\"}", 1), 1);

        serve_feed_of(linkp, 1);
        cr_assert_geq(wait_metric(port, "newstap_published_total", "", 2), 2,
                      "the second article was not published");
        cr_assert_eq(nt_httpd_requests(srv, "/cg/1", req, 4), 2);
        cr_assert_str_eq(req[0].if_none_match, "");
        cr_assert_str_eq(req[0].if_modified_since, "");
        if (conditional && by_date) {
                cr_assert_str_eq(req[1].if_modified_since,
                                 "Tue, 01 Dec 2026 08:00:00 GMT",
                                 "the page was not asked conditionally");
                cr_assert_eq(req[1].status, 304);
        } else if (conditional) {
                cr_assert_str_eq(req[1].if_none_match, "\"cg-v1\"",
                                 "the page was not asked conditionally");
                cr_assert_eq(req[1].status, 304);
        } else {
                cr_assert_str_eq(req[1].if_none_match, "",
                                 "a page not kept was asked conditionally");
                cr_assert_str_eq(req[1].if_modified_since, "");
                cr_assert_eq(req[1].status, 200);
        }
        cr_assert_eq(nt_test_metric(port, "newstap_pages_total",
                                    "{result=\"not_modified\"}"),
                     conditional ? 1 : -1); /* -1: no such series */
        cr_assert_eq(
            nt_test_metric(port, "newstap_pages_total", "{result=\"ok\"}"),
            conditional ? 1 : 2);
        stop_produce(&child);

        read_values(&v, 2, 30000);
        cr_assert_eq(v.messages, 2, "got %zu", v.messages);
        a = only(&v, "cg story 1");
        b = only(&v, "mx story 1");
        cr_assert_str_eq(field(b, "content_source"), "page");
        cr_assert_null(json_object_get(b, "page_error"));
        cr_assert_not_null(strstr(field(b, "content"), "gearbox part"), "%s",
                           field(b, "content"));
        cr_assert_str_eq(field(b, "content"), field(a, "content"));
        cr_assert_str_eq(field(b, "summary"), "Teaser 1.");
        json_decref(v.by_key);
}

Test(real, a_page_fetched_again_is_asked_conditionally)
{
        page_fetched_again(NULL, true, false);
}

/* The same with a page that sends Last-Modified only. */
Test(real, a_page_with_a_date_only_is_asked_if_modified_since)
{
        page_fetched_again(NULL, true, true);
}

/* A page larger than producer.page_cache_bytes is not kept. */
Test(real, a_page_over_the_cache_bound_is_not_kept)
{
        page_fetched_again("\"page_cache_bytes\": 200", false, false);
}

/* producer.page_cache_bytes 0 keeps no page. */
Test(real, page_cache_bytes_0_keeps_no_page)
{
        page_fetched_again("\"page_cache_bytes\": 0", false, false);
}
