/* `newstap produce --group` against the real broker: instances sharing
 * the feeds of topics.feeds through a consumer group, counted at a local
 * HTTP server (every feed polled by one instance per interval), killed
 * with SIGKILL while feeds change (the survivors take the orphaned feeds
 * over; news.raw read with read_committed holds every served article
 * exactly once), garbage records on the feeds and state topics skipped
 * and logged with partition and offset, a restart of every instance
 * that sends conditional GETs and re-publishes nothing, and feeds added
 * and removed with `newstap feeds` while an instance runs. `newstap
 * classify` reads news.raw through the kills: news.enriched holds every
 * served article exactly once too. A broker stop and start under two
 * instances loses and doubles nothing either. The loop goes on while
 * the broker is down, a feed rolled back by an abort is polled again at
 * once, an article refused before sending aborts nothing, and a restore
 * that waits does not hold up the instance's other feeds. */
// ctest-suites: real
#include "common/buf.h"
#include "support/archive.h"
#include "support/httpd.h"
#include "support/kafka_read.h"
#include "support/nt_test.h"
#include "support/scrape.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PARTITIONS  6
#define INTERVAL_S  3
#define MAX_FEEDS   300
#define MAX_INST    3
#define SESSION_MS  6000
#define TXN_TIMEOUT 5000

static nt_httpd_t *srv;
static char dir[64], config[128], raw[128], feeds_topic[128], state[128],
    group[128], enriched[128], dlq[128], prefix[128], cls_group[128];
/* Items each feed serves now (1..n) and its body's version. */
static int items[MAX_FEEDS];
static int version[MAX_FEEDS];
/* Whether the feed serves, first, one more item of 16 KiB (guid
 * urn:grp:<feed>:big): too large for a test's max.message.bytes. */
static int big_item[MAX_FEEDS];
/* The feeds' interval and more kafka properties (`, "k": "v"` pairs),
 * when a test wants others (reset by setup). */
static int interval_s;
static const char *extra_kafka;
static const char *extra_producer; /* `"k": v, ` pairs */

struct inst {
        struct nt_child child;
        bool running;
        char id[16];
        char log[128];
        unsigned port;
};
static struct inst inst[MAX_INST];
/* `newstap classify` over news.raw, when a test runs it. */
static struct nt_child classifier;
static bool classifier_running;

static long long mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(int ms)
{
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

        nanosleep(&ts, NULL);
}

/* Feed i's current body: its items 1..items[i], each with a guid of its
 * own, and an ETag naming the version (so a poll after a change gets a
 * 200 and one after that a 304). */
static void serve_feed(int i)
{
        struct nt_httpd_route r;
        struct nt_buf b;
        int k;

        nt_buf_init(&b, 1 << 20);
        nt_buf_printf(&b,
                      "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
                      "<title>Wire %d</title><link>http://example.org/</link>",
                      i);
        if (big_item[i]) {
                /* First in the document, so that the feed's other items
                 * are sent after it. Letters from a little generator:
                 * compression does not bring 16 KiB of them under a few
                 * KiB. */
                unsigned x = (unsigned)i * 2654435761u + 1;

                nt_buf_printf(&b,
                              "<item><title>Long story of wire %d</title>"
                              "<link>http://example.org/w%d/big</link>"
                              "<guid>urn:grp:%d:big</guid><description>",
                              i, i, i);
                for (k = 0; k < 16384; k++) {
                        x = x * 1103515245u + 12345u;
                        nt_buf_printf(&b, "%c", 'a' + (int)((x >> 16) % 26));
                }
                nt_buf_append_str(&b, "</description></item>");
        }
        for (k = 1; k <= items[i]; k++)
                nt_buf_printf(&b,
                              "<item><title>Story %d of wire %d</title>"
                              "<link>http://example.org/w%d/s%d</link>"
                              "<guid>urn:grp:%d:%d</guid>"
                              "<description>What happened in story %d of "
                              "wire %d.</description></item>",
                              k, i, i, k, i, k, k, i);
        nt_buf_append_str(&b, "</channel></rss>");
        memset(&r, 0, sizeof(r));
        snprintf(r.path, sizeof(r.path), "/f/%d", i);
        r.status = 200;
        snprintf(r.headers, sizeof(r.headers),
                 "Content-Type: application/rss+xml");
        r.body = b.data;
        r.body_len = b.len;
        snprintf(r.etag, sizeof(r.etag), "\"v%d\"", version[i]);
        nt_httpd_route(srv, &r);
        nt_buf_free(&b);
}

/* A new article on feed i. */
static void grow(int i)
{
        items[i]++;
        version[i]++;
        serve_feed(i);
}

static void write_config(int n_feeds)
{
        FILE *f = fopen(config, "w");
        int i;

        cr_assert_not_null(f);
        fprintf(f,
                "{\"kafka\": {\"bootstrap.servers\": \"%s\","
                " \"session.timeout.ms\": \"%d\","
                " \"heartbeat.interval.ms\": \"1000\","
                " \"transaction.timeout.ms\": \"%d\"%s},"
                " \"log\": {\"level\": \"info\"},"
                " \"topics\": {\"raw\": \"%s\", \"feeds\": \"%s\","
                " \"feeds_state\": \"%s\", \"enriched\": \"%s\","
                " \"dlq\": \"%s\", \"label_prefix\": \"%s\"},"
                " \"consumer\": {\"rules\": \"%s/config/rules\","
                " \"group_id\": \"%s\", \"transactional_id\": \"%s.tx\","
                " \"batch_ms\": \"200ms\"},"
                " \"producer\": {\"feeds_partitions\": %d,"
                " \"min_interval\": \"1s\", \"interval\": \"%ds\","
                " \"txn_ms\": \"100ms\", \"max_per_host\": 8,"
                " \"shutdown_timeout\": \"10s\", %s\"feeds\": [",
                nt_test_kafka_bootstrap(), SESSION_MS, TXN_TIMEOUT, extra_kafka,
                raw, feeds_topic, state, enriched, dlq, prefix,
                getenv("NT_SOURCE_DIR"), cls_group, cls_group, PARTITIONS,
                interval_s, extra_producer);
        for (i = 0; i < n_feeds; i++)
                fprintf(f, "%s{\"url\": \"%s/f/%d\"}", i ? ", " : "",
                        nt_httpd_url(srv), i);
        fprintf(f, "]}}\n");
        fclose(f);
}

/* The feeds on the topic (newstap feeds sync), each serving `n_items`. */
static void make_feeds(int n_feeds, int n_items)
{
        char *argv[] = {
            (char *)nt_test_bin(), "feeds", "sync", "-c", config, NULL};
        char *out = NULL, *err = NULL;
        int i, rc;

        for (i = 0; i < n_feeds; i++) {
                items[i] = n_items;
                version[i] = 1;
                serve_feed(i);
        }
        write_config(n_feeds);
        rc = nt_run(argv, NULL, &out, &err, 120000);
        cr_assert_eq(rc, 0, "feeds sync: %d: %s", rc, err);
        free(out);
        free(err);
}

static void start(int k)
{
        char cmd[1024], env[64];
        char *argv[] = {"/bin/sh", "-c", cmd, NULL};

        snprintf(inst[k].id, sizeof(inst[k].id), "i%d", k);
        snprintf(inst[k].log, sizeof(inst[k].log), "%s/i%d.log", dir, k);
        if (!inst[k].port)
                inst[k].port = nt_test_free_port();
        snprintf(cmd, sizeof(cmd),
                 "exec '%s' produce -c '%s' --group '%s' --instance %s "
                 "2>>'%s'",
                 nt_test_bin(), config, group, inst[k].id, inst[k].log);
        snprintf(env, sizeof(env), "127.0.0.1:%u", inst[k].port);
        setenv("NEWSTAP_METRICS_LISTEN", env, 1);
        cr_assert_eq(nt_child_start(&inst[k].child, argv), 0);
        unsetenv("NEWSTAP_METRICS_LISTEN");
        inst[k].running = true;
}

static int stop(int k, int sig)
{
        int status = nt_child_stop(&inst[k].child, sig, 60000);

        inst[k].running = false;
        return status;
}

static void setup(void)
{
        nt_test_kafka_bootstrap();
        snprintf(dir, sizeof(dir), "/tmp/nt-group-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
        snprintf(config, sizeof(config), "%s/newstap.json", dir);
        nt_test_unique_name("grp-raw", raw, sizeof(raw));
        nt_test_unique_name("grp-feeds", feeds_topic, sizeof(feeds_topic));
        nt_test_unique_name("grp-state", state, sizeof(state));
        nt_test_unique_name("grp", group, sizeof(group));
        nt_test_unique_name("grp-enriched", enriched, sizeof(enriched));
        nt_test_unique_name("grp-dlq", dlq, sizeof(dlq));
        {
                char stem[100];

                nt_test_unique_name("grp-label", stem, sizeof(stem));
                snprintf(prefix, sizeof(prefix), "%s.", stem);
        }
        nt_test_unique_name("grp-classify", cls_group, sizeof(cls_group));
        {
                const char *topics[] = {raw};

                nt_test_make_topics(nt_test_kafka_bootstrap(), topics, 1, 3);
        }
        srv = nt_httpd_start();
        cr_assert_not_null(srv);
        memset(inst, 0, sizeof(inst));
        memset(items, 0, sizeof(items));
        memset(version, 0, sizeof(version));
        memset(big_item, 0, sizeof(big_item));
        interval_s = INTERVAL_S;
        extra_kafka = "";
        extra_producer = "";
}

static void teardown(void)
{
        char cmd[160];
        int k;

        for (k = 0; k < MAX_INST; k++) {
                if (inst[k].running)
                        stop(k, SIGKILL);
        }
        if (classifier_running)
                nt_child_stop(&classifier, SIGKILL, 10000);
        classifier_running = false;
        nt_httpd_stop(srv);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        (void)system(cmd);
        nt_test_kafka_restore();
}

TestSuite(real, .init = setup, .fini = teardown);

/* ---- what the server saw ------------------------------------------ */

static struct nt_httpd_request *log_buf;

/* The requests for feed i (into log_buf); how many. */
static size_t requests(int i)
{
        char path[32];
        size_t n;

        if (!log_buf)
                log_buf = calloc(4096, sizeof(*log_buf));
        snprintf(path, sizeof(path), "/f/%d", i);
        n = nt_httpd_requests(srv, path, log_buf, 4096);
        return n < 4096 ? n : 4096;
}

/* Waits until every one of n feeds got a request after `since_ms`
 * (monotonic; with a 304 when `not_modified`); returns how many did. */
static int wait_all_polled(int n, long long since_ms, bool not_modified,
                           int timeout_s)
{
        long long end = mono_ms() + (long long)timeout_s * 1000;
        int i, done = 0;

        while (mono_ms() < end) {
                done = 0;
                for (i = 0; i < n; i++) {
                        size_t k, m = requests(i);

                        for (k = 0; k < m; k++) {
                                if (log_buf[k].at_ms > since_ms &&
                                    (!not_modified ||
                                     log_buf[k].status == 304)) {
                                        done++;
                                        break;
                                }
                        }
                }
                if (done == n)
                        return done;
                nap_ms(250);
        }
        return done;
}

/* Waits until the running instances own every partition, each at least
 * one: the group is stable. */
static bool wait_group(int n_inst, int timeout_s)
{
        long long end = mono_ms() + (long long)timeout_s * 1000;

        while (mono_ms() < end) {
                double sum = 0;
                int k, each = 0;

                for (k = 0; k < n_inst; k++) {
                        double v = nt_test_metric(
                            inst[k].port, "newstap_group_partitions", "");

                        sum += v > 0 ? v : 0;
                        each += v >= 1;
                }
                if (sum == PARTITIONS && each == n_inst)
                        return true;
                nap_ms(250);
        }
        return false;
}

/* ---- news.raw and news.enriched ------------------------------------ */

struct tally {
        json_t *count; /* "guid revision" -> number of records */
        size_t records;
        size_t stop_at; /* stop reading at this many records (0: never) */
        bool nested;    /* an event: the article is its "article" */
};

static bool count_record(const rd_kafka_message_t *rkm, void *ctx)
{
        struct tally *t = ctx;
        json_t *rec = json_loadb(rkm->payload, rkm->len, 0, NULL);
        json_t *art = t->nested ? json_object_get(rec, "article") : rec;
        const char *id = json_string_value(json_object_get(art, "id"));
        char key[256];
        json_int_t n;

        cr_assert_not_null(art, "offset %lld is not an article or an event",
                           (long long)rkm->offset);
        /* The record's key is the article's id, on both topics. */
        cr_assert(id && rkm->key_len == strlen(id) &&
                      memcmp(rkm->key, id, rkm->key_len) == 0,
                  "offset %lld: key is not the article id",
                  (long long)rkm->offset);
        snprintf(key, sizeof(key), "%s %s",
                 json_string_value(json_object_get(art, "guid")),
                 json_string_value(json_object_get(art, "revision")));
        n = json_integer_value(json_object_get(t->count, key));
        json_object_set_new(t->count, key, json_integer(n + 1));
        t->records++;
        json_decref(rec);
        return t->stop_at && t->records >= t->stop_at;
}

/* `topic` as read_committed readers see it (until `stop_at` records, or
 * for `ms`). */
static void tally_topic(struct tally *t, const char *topic, size_t stop_at,
                        int ms)
{
        t->count = json_object();
        t->records = 0;
        t->stop_at = stop_at;
        t->nested = topic == enriched;
        nt_test_read_topic(nt_test_kafka_bootstrap(), topic, count_record, t,
                           ms);
}

static void tally_raw(struct tally *t)
{
        tally_topic(t, raw, 0, 15000);
}

/* The articles served: feeds 0..n-1, items 1..items[i]. */
static size_t served_count(int n)
{
        size_t served = 0;
        int i;

        for (i = 0; i < n; i++)
                served += (size_t)items[i];
        return served;
}

/* Every article served is on `topic` exactly once (counted per guid and
 * revision), and nothing else is. */
static void assert_exactly_once_on(const char *topic, int n, const char *when)
{
        struct tally t;
        size_t served = served_count(n), lost = 0, doubled = 0;
        int i, k;

        tally_topic(&t, topic, 0, 15000);
        for (i = 0; i < n; i++) {
                for (k = 1; k <= items[i]; k++) {
                        char guid[64];
                        const char *key;
                        json_t *v;
                        bool found = false;

                        snprintf(guid, sizeof(guid), "urn:grp:%d:%d ", i, k);
                        json_object_foreach(t.count, key, v)
                        {
                                if (strncmp(key, guid, strlen(guid)) != 0)
                                        continue;
                                found = true;
                                if (json_integer_value(v) > 1)
                                        doubled++;
                        }
                        lost += !found;
                }
        }
        cr_assert_eq(lost, 0, "%s: %zu of %zu served article(s) lost on %s",
                     when, lost, served, topic);
        cr_assert_eq(doubled, 0, "%s: %zu article(s) twice on %s", when,
                     doubled, topic);
        cr_assert_eq(t.records, served,
                     "%s: %zu records on %s for %zu served article(s)", when,
                     t.records, topic, served);
        json_decref(t.count);
}

static void assert_exactly_once(int n, const char *when)
{
        assert_exactly_once_on(raw, n, when);
}

/* ---- the classifier -------------------------------------------------- */

/* `newstap classify` (transactional, the shipped rules) over news.raw,
 * into news.enriched; its log in the work directory. */
static void start_classify(void)
{
        char cmd[1024];
        char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        const char *topics[] = {enriched, dlq};

        nt_test_make_topics(nt_test_kafka_bootstrap(), topics, 2, 3);
        snprintf(cmd, sizeof(cmd),
                 "exec '%s' classify -c '%s' 2>>'%s/classify.log'",
                 nt_test_bin(), config, dir);
        setenv("NEWSTAP_METRICS_LISTEN", "127.0.0.1:0", 1);
        cr_assert_eq(nt_child_start(&classifier, argv), 0);
        unsetenv("NEWSTAP_METRICS_LISTEN");
        classifier_running = true;
}

/* Waits until news.enriched holds as many events as articles were served
 * from n feeds, stops the classifier with SIGTERM, and checks each served
 * article is there exactly once. */
static void assert_enriched_exactly_once(int n, const char *when)
{
        struct tally t;
        size_t served = served_count(n);
        int status;

        tally_topic(&t, enriched, served, 180000);
        json_decref(t.count);
        cr_assert_eq(t.records, served,
                     "%s: classify wrote %zu of %zu events in 3 minutes", when,
                     t.records, served);
        status = nt_child_stop(&classifier, SIGTERM, 60000);
        classifier_running = false;
        cr_assert_eq(status, 0, "classify exited %d", status);
        assert_exactly_once_on(enriched, n, when);
}

/* ---- the tests ---------------------------------------------------- */

Test(real, three_instances_poll_each_feed_once_per_interval, .timeout = 240)
{
        const int n = 300;
        long long t0, window = 3LL * INTERVAL_S * 1000;
        int i, k, late = 0;

        make_feeds(n, 1);
        for (k = 0; k < 3; k++)
                start(k);
        cr_assert(wait_group(3, 90), "the group never spread over 3");
        cr_assert_eq(wait_all_polled(n, 0, false, 90), n,
                     "not every feed was polled");
        t0 = mono_ms();
        /* A window of three intervals, then the count. */
        while (mono_ms() < t0 + window)
                nap_ms(200);
        for (i = 0; i < n; i++) {
                size_t j, m = requests(i);
                long long prev = -1;
                int in_window = 0;

                for (j = 0; j < m; j++) {
                        long long at = log_buf[j].at_ms;

                        if (at < t0 || at > t0 + window)
                                continue;
                        in_window++;
                        /* Two instances polling one feed would poll it
                         * at unrelated phases: a gap well below the
                         * interval. */
                        cr_assert(prev < 0 || at - prev >= INTERVAL_S * 800,
                                  "feed %d polled twice within %lld ms", i,
                                  at - prev);
                        prev = at;
                }
                cr_assert_leq(in_window, 4,
                              "feed %d polled %d times in 3 intervals", i,
                              in_window);
                late += in_window == 0;
        }
        cr_assert_eq(late, 0, "%d feed(s) not polled within 3 intervals", late);
        for (k = 0; k < 3; k++)
                cr_assert_eq(stop(k, SIGTERM), 0, "instance %d exit", k);
}

/* Five SIGKILLs of the producer instances while feeds change, with
 * `newstap classify` reading news.raw all along: every served article
 * exactly once on news.raw and, through the classifier, on
 * news.enriched. */
Test(real, kills_lose_and_double_nothing_through_to_enriched, .timeout = 420)
{
        const int n = 60;
        /* Orphaned feeds are polled again within the session timeout, the
         * dead instance's transaction timing out (the broker checks each
         * second here) and one interval, plus room for a loaded
         * machine's restore. */
        const int takeover_s =
            (SESSION_MS + TXN_TIMEOUT + INTERVAL_S * 1000) / 1000 + 20;
        int kill_no, i, k;
        long long t_last;

        make_feeds(n, 2);
        start_classify();
        for (k = 0; k < 3; k++)
                start(k);
        cr_assert(wait_group(3, 90), "the group never spread over 3");
        cr_assert_eq(wait_all_polled(n, 0, false, 90), n,
                     "not every feed was polled");
        for (kill_no = 0; kill_no < 5; kill_no++) {
                int victim = kill_no % 3;
                long long t_kill;

                /* Articles appear while the instances run and die. */
                for (i = kill_no; i < n; i += 3)
                        grow(i);
                nap_ms(INTERVAL_S * 500);
                t_kill = mono_ms();
                cr_assert_eq(stop(victim, SIGKILL), 128 + SIGKILL);
                for (i = kill_no + 1; i < n; i += 4)
                        grow(i);
                cr_assert_eq(wait_all_polled(n, t_kill, false, takeover_s), n,
                             "kill %d: feeds not polled again within %d s",
                             kill_no + 1, takeover_s);
                start(victim);
        }
        /* No more changes: wait until each feed answered 304 to the
         * validators of its last version, which are kept only once its
         * articles are committed. */
        t_last = mono_ms();
        cr_assert_eq(wait_all_polled(n, t_last, true, 120), n,
                     "not every feed settled");
        for (k = 0; k < 3; k++)
                stop(k, SIGTERM);
        assert_exactly_once(n, "after 5 kills");
        assert_enriched_exactly_once(n, "after 5 kills");
}

/* The broker stops and starts again (same ports, same data) while two
 * instances run and feeds change: the instances keep going, each feed is
 * polled to a 304 afterwards, a SIGTERM stops both cleanly, and news.raw
 * holds every served article exactly once. */
Test(real, broker_restart_loses_and_doubles_nothing, .timeout = 300)
{
        const int n = 24;
        long long t_up;
        int i, k;

        make_feeds(n, 1);
        for (k = 0; k < 2; k++)
                start(k);
        cr_assert(wait_group(2, 90), "the group never spread over 2");
        cr_assert_eq(wait_all_polled(n, 0, false, 90), n,
                     "not every feed was polled");
        for (i = 0; i < n; i += 2)
                grow(i);
        cr_assert_eq(nt_test_kafka_local("down"), 0,
                     "scripts/kafka-local down failed");
        /* Articles that appear while the broker is down (the time `up`
         * takes to start it): not publishable until it is back. */
        for (i = 1; i < n; i += 2)
                grow(i);
        cr_assert_eq(nt_test_kafka_local("up"), 0,
                     "scripts/kafka-local up failed");
        t_up = mono_ms();
        for (i = 0; i < n; i += 3)
                grow(i);
        cr_assert_eq(wait_all_polled(n, t_up, true, 120), n,
                     "not every feed settled after the restart");
        for (k = 0; k < 2; k++) {
                siginfo_t si;

                /* Still running (not reaped: WNOWAIT), then a clean stop. */
                memset(&si, 0, sizeof(si));
                cr_assert_eq(waitid(P_PID, (id_t)inst[k].child.pid, &si,
                                    WEXITED | WNOHANG | WNOWAIT),
                             0);
                cr_assert_eq(si.si_pid, 0,
                             "instance %d exited (status %d) across the "
                             "broker restart",
                             k, si.si_status);
                cr_assert_eq(stop(k, SIGTERM), 0, "instance %d exit", k);
        }
        assert_exactly_once(n, "after a broker restart");
}

static int count_in_file(const char *path, const char *needle)
{
        char *text = nt_test_slurp(path, NULL), *at = text;
        int n = 0;

        while ((at = strstr(at, needle)) != NULL) {
                n++;
                at += strlen(needle);
        }
        free(text);
        return n;
}

/* Instance 0 started on n feeds and settled (a 304 for each, so nothing
 * is waiting), then the broker stopped. */
static void settled_then_broker_down(int n)
{
        make_feeds(n, 1);
        start(0);
        cr_assert(wait_group(1, 90), "the instance never owned the feeds");
        cr_assert_eq(wait_all_polled(n, 0, true, 90), n,
                     "not every feed was polled");
        cr_assert_eq(nt_test_kafka_local("down"), 0,
                     "scripts/kafka-local down failed");
}

/* The broker is back since t_up: instance 0 settles every feed, stops
 * cleanly, and each article is on news.raw exactly once. */
static void settles_and_stops_exactly_once(int n, long long t_up,
                                           const char *when)
{
        cr_assert_eq(wait_all_polled(n, t_up, true, 120), n,
                     "not every feed settled after the restart");
        cr_assert_eq(stop(0, SIGTERM), 0, "a clean stop");
        assert_exactly_once(n, when);
}

/* With the broker down and a commit waiting for it, instance k's loop
 * goes on: newstap_transaction_open_seconds, which only the loop
 * refreshes, grows past 10 s within `within_ms`, and /readyz says no
 * broker is reachable. */
static void assert_loop_goes_on_broker_down(int k, long long within_ms)
{
        long long t0 = mono_ms();
        double age;

        do {
                age = nt_test_metric(inst[k].port,
                                     "newstap_transaction_open_seconds", "");
                if (age < 10)
                        nap_ms(500);
        } while (age < 10 && mono_ms() - t0 < within_ms);
        cr_assert_geq(age, 10,
                      "the open transaction's age stopped at %g s: the "
                      "loop is not running",
                      age);
        cr_assert(nt_test_wait_status(inst[k].port, "/readyz", 503, 10),
                  "ready with the broker down");
}

/* SIGTERM while the broker is down and a poll's articles wait for it
 * (the loop going on meanwhile, as the age of the open transaction on
 * /metrics shows):
 * librdkafka 2.0.2 can block in send_offsets_to_transaction() far past
 * its timeout (librdkafka issue 5456), so the stop is bounded by
 * producer.shutdown_timeout (10 s here) and exits 0, as systemd's
 * TimeoutStopSec expects; the next start publishes what was left,
 * exactly once. */
Test(real, sigterm_with_the_broker_down_stops_in_time, .timeout = 300)
{
        const int n = 8;
        long long t0, took, t_up;
        int i, status;

        settled_then_broker_down(n);
        for (i = 0; i < n; i++)
                grow(i);
        /* A transaction call failing in the log: the polls' articles
         * and states wait for the broker in the open transaction. */
        /* The first failure is logged when a call's 30 s are spent;
         * polls and the commit's start come first, slow under ASan on a
         * loaded machine: up to 120 s. */
        t0 = mono_ms();
        while (count_in_file(inst[0].log, "_transaction: ") == 0 &&
               mono_ms() - t0 < 120000)
                nap_ms(200);
        cr_assert_gt(count_in_file(inst[0].log, "_transaction: "), 0,
                     "no transaction call failed with the broker down");
        assert_loop_goes_on_broker_down(0, 30000);
        t0 = mono_ms();
        status = stop(0, SIGTERM);
        took = mono_ms() - t0;
        cr_assert_eq(nt_test_kafka_local("up"), 0,
                     "scripts/kafka-local up failed");
        cr_assert_eq(status, 0, "SIGTERM with the broker down: exit %d",
                     status);
        /* 10 s of shutdown_timeout, and the time to reap the process. */
        cr_assert_leq(took, 12000, "SIGTERM with the broker down took %lld ms",
                      took);
        t_up = mono_ms();
        start(0);
        settles_and_stops_exactly_once(n, t_up,
                                       "after a stop with the broker down");
}

Test(real, garbage_records_are_skipped_and_logged, .timeout = 180)
{
        const int n = 6;
        char errstr[512], *text;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        long long t0;

        make_feeds(n, 1);
        /* The first run creates the state topic. */
        start(0);
        cr_assert(wait_group(1, 90), "no assignment");
        cr_assert_eq(wait_all_polled(n, 0, false, 60), n, "not polled");
        cr_assert_eq(stop(0, SIGTERM), 0);
        rd_kafka_conf_set(conf, "bootstrap.servers", nt_test_kafka_bootstrap(),
                          errstr, sizeof(errstr));
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        cr_assert_not_null(rk, "%s", errstr);
        cr_assert_eq(rd_kafka_producev(
                         rk, RD_KAFKA_V_TOPIC(feeds_topic),
                         RD_KAFKA_V_PARTITION(1), RD_KAFKA_V_KEY("junk", 4),
                         RD_KAFKA_V_VALUE("{not json", 9), RD_KAFKA_V_END),
                     0);
        cr_assert_eq(rd_kafka_producev(
                         rk, RD_KAFKA_V_TOPIC(state), RD_KAFKA_V_PARTITION(2),
                         RD_KAFKA_V_KEY("junk", 4), RD_KAFKA_V_VALUE("[1,2", 4),
                         RD_KAFKA_V_END),
                     0);
        cr_assert_eq(rd_kafka_flush(rk, 30000), 0);
        rd_kafka_destroy(rk);
        grow(0);
        t0 = mono_ms();
        start(0);
        cr_assert_eq(wait_all_polled(n, t0, true, 90), n,
                     "the instance stopped working");
        cr_assert_eq(stop(0, SIGTERM), 0, "a clean stop");
        text = nt_test_slurp(inst[0].log, NULL);
        cr_assert(strstr(text, feeds_topic) && strstr(text, "[1] at offset"),
                  "the feeds topic's garbage not logged with its partition "
                  "and offset:\n%s",
                  text);
        cr_assert(strstr(text, state) && strstr(text, "[2] at offset"),
                  "the state topic's garbage not logged with its partition "
                  "and offset:\n%s",
                  text);
        free(text);
        assert_exactly_once(n, "after garbage");
}

Test(real, restart_of_every_instance_republishes_nothing, .timeout = 240)
{
        const int n = 24;
        struct tally before;
        long long t0;
        int i, k, conditional = 0;

        make_feeds(n, 3);
        for (k = 0; k < 2; k++)
                start(k);
        cr_assert(wait_group(2, 90), "the group never spread over 2");
        cr_assert_eq(wait_all_polled(n, 0, true, 90), n,
                     "not every feed settled");
        for (k = 0; k < 2; k++)
                cr_assert_eq(stop(k, SIGTERM), 0, "instance %d exit", k);
        tally_raw(&before);
        json_decref(before.count);
        cr_assert_eq(before.records, (size_t)n * 3);

        t0 = mono_ms();
        for (k = 0; k < 2; k++)
                start(k);
        cr_assert_eq(wait_all_polled(n, t0, false, 90), n,
                     "not every feed polled after the restart");
        for (k = 0; k < 2; k++)
                cr_assert_eq(stop(k, SIGTERM), 0, "instance %d exit", k);
        for (i = 0; i < n; i++) {
                size_t j, m = requests(i);

                for (j = 0; j < m; j++) {
                        if (log_buf[j].at_ms > t0) {
                                conditional += log_buf[j].if_none_match[0] != 0;
                                break;
                        }
                }
        }
        cr_assert_eq(conditional, n,
                     "%d of %d first polls after the restart were "
                     "conditional",
                     conditional, n);
        assert_exactly_once(n, "after a restart of every instance");
}

/* Counts the lines of `path` holding `needle`. */
Test(real, feeds_added_and_removed_while_running, .timeout = 180)
{
        char url[256];
        char *add[] = {(char *)nt_test_bin(),
                       "feeds",
                       "add",
                       url,
                       "--interval",
                       "3s",
                       "-c",
                       config,
                       NULL};
        char *rm[] = {
            (char *)nt_test_bin(), "feeds", "remove", url, "-c", config, NULL};
        long long t0, end;
        size_t j, m, before;
        int i;

        make_feeds(4, 1);
        start(0);
        cr_assert(wait_group(1, 90), "no assignment");
        cr_assert_eq(wait_all_polled(4, 0, false, 60), 4, "not polled");

        /* A fifth feed, added while the instance runs. */
        items[4] = 2;
        version[4] = 1;
        serve_feed(4);
        snprintf(url, sizeof(url), "%s/f/4", nt_httpd_url(srv));
        nt_test_expect_run(add, "feeds add", 0, NULL, NULL);
        cr_assert_eq(wait_all_polled(5, 0, true, 60), 5,
                     "the added feed was not polled (to a 304)");

        /* The first feed removed: polled no more once the instance has
         * seen the tombstone. */
        snprintf(url, sizeof(url), "%s/f/0", nt_httpd_url(srv));
        nt_test_expect_run(rm, "feeds remove", 0, NULL, NULL);
        end = mono_ms() + 60000;
        while (count_in_file(inst[0].log, "removed") < 1 && mono_ms() < end)
                nap_ms(200);
        cr_assert_geq(count_in_file(inst[0].log, "removed"), 1,
                      "the removal never reached the instance");
        t0 = mono_ms();
        before = requests(0);
        while (mono_ms() < t0 + 3LL * INTERVAL_S * 1000)
                nap_ms(200);
        m = requests(0);
        for (j = 0, i = 0; j < m; j++)
                i += log_buf[j].at_ms > t0;
        cr_assert_eq(i, 0,
                     "the removed feed was polled %d time(s) after "
                     "its removal (%zu before)",
                     i, before);
        for (i = 1; i < 5; i++) {
                size_t after = 0;

                m = requests(i);
                for (j = 0; j < m; j++)
                        after += log_buf[j].at_ms > t0;
                cr_assert_gt(after, 0, "feed %d no longer polled", i);
        }
        cr_assert_eq(stop(0, SIGTERM), 0);
        assert_exactly_once(5, "after an add and a remove");
}

/* ---- review of issue 15 (branch rev15) ---------------------------- */

/* An instance that joined and was given no partition (more instances
 * than partitions) is ready: it has nothing to restore, and a
 * deployment waiting for every replica's readiness must not hang on it.
 * The feeds topic has one partition here, so one of the two owns
 * nothing. */
Test(real, instance_with_no_partition_is_ready, .timeout = 180)
{
        char *argv[] = {
            (char *)nt_test_bin(), "feeds", "sync", "-c", config, NULL};
        char *text, *at, pat[64];
        double owned[2];
        FILE *f;
        int k;

        for (k = 0; k < 2; k++) {
                items[k] = 1;
                version[k] = 1;
                serve_feed(k);
        }
        write_config(2);
        /* The same configuration with a one-partition feeds topic. */
        text = nt_test_slurp(config, NULL);
        cr_assert_not_null(text);
        snprintf(pat, sizeof(pat), "\"feeds_partitions\": %d,", PARTITIONS);
        at = strstr(text, pat);
        cr_assert_not_null(at);
        f = fopen(config, "w");
        cr_assert_not_null(f);
        fprintf(f, "%.*s\"feeds_partitions\": 1,%s", (int)(at - text), text,
                at + strlen(pat));
        fclose(f);
        free(text);
        nt_test_expect_run(argv, "feeds sync", 0, NULL, NULL);
        start(0);
        cr_assert(nt_test_wait_status(inst[0].port, "/readyz", 200, 90),
                  "the first instance never got ready");
        start(1);
        cr_assert(nt_test_wait_status(inst[1].port, "/readyz", 200, 90),
                  "the instance with no partition never got ready");
        for (k = 0; k < 2; k++)
                owned[k] = nt_test_metric(inst[k].port,
                                          "newstap_group_partitions", "");
        /* Sticky: the first keeps the partition, the second owns none. */
        cr_assert(owned[0] == 1 && owned[1] == 0, "partitions owned: %g and %g",
                  owned[0], owned[1]);
        for (k = 0; k < 2; k++)
                cr_assert_eq(stop(k, SIGTERM), 0, "instance %d exit", k);
}

/* A transaction left open on partitions 0..n_parts-1 of the state
 * topic, as a killed instance leaves one (its timeout far beyond the
 * test's); NULL on failure. */
static rd_kafka_t *open_state_txn_on(int n_parts)
{
        char errstr[512], txn_id[160];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_error_t *error;
        rd_kafka_t *rk;
        int part = 0;

        snprintf(txn_id, sizeof(txn_id), "%s-open", group);
        if (rd_kafka_conf_set(conf, "bootstrap.servers",
                              nt_test_kafka_bootstrap(), errstr,
                              sizeof(errstr)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "transactional.id", txn_id, errstr,
                              sizeof(errstr)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "transaction.timeout.ms", "300000", errstr,
                              sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk)
                return NULL;
        error = rd_kafka_init_transactions(rk, 60000);
        if (!error)
                error = rd_kafka_begin_transaction(rk);
        for (part = 0; !error && part < n_parts; part++) {
                if (rd_kafka_producev(
                        rk, RD_KAFKA_V_TOPIC(state), RD_KAFKA_V_PARTITION(part),
                        RD_KAFKA_V_KEY("http://open.example/", 20),
                        RD_KAFKA_V_VALUE("{}", 2),
                        RD_KAFKA_V_END) != RD_KAFKA_RESP_ERR_NO_ERROR)
                        break;
        }
        if (!error && part == n_parts &&
            rd_kafka_flush(rk, 30000) == RD_KAFKA_RESP_ERR_NO_ERROR)
                return rk;
        if (error)
                rd_kafka_error_destroy(error);
        rd_kafka_destroy(rk);
        return NULL;
}

static rd_kafka_t *open_state_txn(void)
{
        return open_state_txn_on(1);
}

/* SIGTERM while the restore waits for another instance's open
 * transaction: a clean stop (exit 0), not a failure, and no feed of the
 * partitions not restored is polled meanwhile. */
Test(real, stop_while_restore_waits_is_clean, .timeout = 180)
{
        rd_kafka_error_t *error;
        rd_kafka_t *open_txn;
        long long end;
        size_t before[4];
        int i;

        make_feeds(4, 1);
        start(0);
        cr_assert(wait_group(1, 90), "no assignment");
        cr_assert_eq(stop(0, SIGTERM), 0, "first run's exit");
        open_txn = open_state_txn();
        cr_assert_not_null(open_txn, "cannot open a transaction");
        for (i = 0; i < 4; i++)
                before[i] = requests(i);
        start(0);
        end = mono_ms() + 60000;
        while (count_in_file(inst[0].log, "waiting before restoring") < 1 &&
               mono_ms() < end)
                nap_ms(100);
        cr_assert_geq(count_in_file(inst[0].log, "waiting before restoring"), 1,
                      "the restore did not wait for the open transaction");
        cr_assert_eq(stop(0, SIGTERM), 0,
                     "a stop during the restore is not a failure");
        for (i = 0; i < 4; i++)
                cr_assert_eq(requests(i), before[i],
                             "feed %d polled without its state restored", i);
        error = rd_kafka_abort_transaction(open_txn, 30000);
        if (error)
                rd_kafka_error_destroy(error);
        rd_kafka_destroy(open_txn);
}

/* A feeds topic record whose key holds a NUL is garbage (skipped and
 * logged), not the feed its key's first part names. */
Test(real, key_with_nul_is_skipped, .timeout = 180)
{
        char errstr[512], url[256], key[300], value[300];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        size_t klen;
        long long end;
        const char *needle = "a key that is not text";

        make_feeds(2, 1);
        items[9] = 1;
        version[9] = 1;
        serve_feed(9);
        start(0);
        cr_assert(wait_group(1, 90), "no assignment");
        snprintf(url, sizeof(url), "%s/f/9", nt_httpd_url(srv));
        klen = (size_t)snprintf(key, sizeof(key), "%s", url) + 1;
        klen += (size_t)snprintf(key + klen, sizeof(key) - klen, "junk");
        snprintf(value, sizeof(value), "{\"url\": \"%s\"}", url);
        cr_assert_eq(rd_kafka_conf_set(conf, "bootstrap.servers",
                                       nt_test_kafka_bootstrap(), errstr,
                                       sizeof(errstr)),
                     RD_KAFKA_CONF_OK);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        cr_assert_not_null(rk, "%s", errstr);
        cr_assert_eq(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(feeds_topic),
                                       RD_KAFKA_V_KEY(key, klen),
                                       RD_KAFKA_V_VALUE(value, strlen(value)),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_END),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
        cr_assert_eq(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_destroy(rk);
        end = mono_ms() + 60000;
        while (count_in_file(inst[0].log, needle) < 1 && mono_ms() < end)
                nap_ms(100);
        cr_assert_geq(count_in_file(inst[0].log, needle), 1,
                      "the record with a NUL in its key was not skipped");
        cr_assert_eq(requests(9), 0, "the key's first part was taken on");
        cr_assert_eq(stop(0, SIGTERM), 0);
}

/* ---- robustness of issue 15 (branch grp3) ------------------------- */

/* A topics.raw of its own whose records may take 4 KiB, so that the
 * broker refuses a big article for good. */
static void small_raw_topic(void)
{
        const char *topics[1];

        nt_test_unique_name("grp-raw-small", raw, sizeof(raw));
        topics[0] = raw;
        nt_test_make_topics_config(nt_test_kafka_bootstrap(), topics, 1, 3,
                                   "-1", "max.message.bytes", "4096");
}

/* Waits (up to 60 s) until news.raw holds every small article served to
 * the n feeds. */
static void wait_small_articles(int n)
{
        long long end = mono_ms() + 60000;
        struct tally t;

        do {
                nap_ms(500);
                tally_topic(&t, raw, served_count(n), 5000);
                json_decref(t.count);
        } while (t.records < served_count(n) && mono_ms() < end);
}

/* The broker refuses one article of a poll (larger than topics.raw's
 * max.message.bytes), which fails the whole transaction: the feed goes
 * back to its committed state and, with an interval of an hour, must be
 * polled again at once rather than an hour later. The refused article
 * is marked seen (not sent again), every other one is on news.raw
 * exactly once. */
Test(real, rolled_back_feed_is_polled_again_at_once, .timeout = 180)
{
        const int n = 3;
        struct tally t;
        char guid[64];
        int i, k;

        /* A topics.raw of its own, whose records may take 4 KiB, and
         * one record per batch (so that only the big one is refused). */
        small_raw_topic();
        interval_s = 3600;
        extra_kafka = ", \"batch.num.messages\": \"1\"";
        big_item[0] = 1;
        make_feeds(n, 2);
        start(0);
        cr_assert(wait_group(1, 90), "no assignment");
        /* Every small article committed; the wait is far below the
         * interval. */
        wait_small_articles(n);
        cr_assert_geq(count_in_file(inst[0].log, "refused for good"), 1,
                      "the big article was not refused");
        cr_assert_geq(nt_test_metric(inst[0].port, "newstap_transactions_total",
                                     "{outcome=\"aborted\"}"),
                      1, "no transaction was aborted");
        cr_assert_eq(stop(0, SIGTERM), 0);
        assert_exactly_once(n, "after an aborted transaction");
        tally_raw(&t);
        for (i = 0; i < n; i++) {
                snprintf(guid, sizeof(guid), "urn:grp:%d:big ", i);
                k = 0;
                {
                        const char *key;
                        json_t *v;

                        json_object_foreach(t.count, key, v)
                        {
                                k += strncmp(key, guid, strlen(guid)) == 0;
                        }
                }
                cr_assert_eq(k, 0, "the refused article of feed %d is stored",
                             i);
        }
        json_decref(t.count);
}

/* A poll whose articles do not fit the publisher (room for 20 in
 * flight) commits in the middle of the feed's document to make room;
 * when that commit aborts (the broker refuses the big first article
 * for good), the articles sent before it are rolled back with their
 * feed: the rest of the document must not store the response's
 * validators nor put the feed off to its interval (an hour), or the
 * rolled-back articles would never be sent. Every small article is on
 * news.raw exactly once, well within the interval. */
Test(real, abort_in_the_middle_of_a_poll_loses_nothing, .timeout = 180)
{
        const int n = 1;

        small_raw_topic();
        interval_s = 3600;
        extra_kafka = ", \"batch.num.messages\": \"1\"";
        extra_producer = "\"max_inflight\": 20, ";
        big_item[0] = 1;
        make_feeds(n, 30);
        start(0);
        cr_assert(wait_group(1, 90), "no assignment");
        wait_small_articles(n);
        /* The log line, written when the abort ends (the metric is
         * refreshed once a second, maybe after the last commit). */
        cr_assert_geq(count_in_file(inst[0].log, "its feeds are back to "
                                                 "their committed state"),
                      1, "no transaction was aborted");
        cr_assert_eq(stop(0, SIGTERM), 0);
        assert_exactly_once(n, "after an abort in the middle of a poll");
}

/* A poll with more articles than the publisher has room for (20 in
 * flight) while the broker is down: the commit that makes room waits
 * for the broker as the loop's own does, the loop going on (the open
 * transaction's age on /metrics, which only the loop refreshes, keeps
 * growing, and /readyz says no broker is reachable); once the broker is
 * back every article is on news.raw exactly once. */
Test(real, full_publisher_with_the_broker_down_keeps_the_loop, .timeout = 300)
{
        const int n = 1;
        long long t_up;

        interval_s = 2;
        extra_producer = "\"max_inflight\": 20, ";
        settled_then_broker_down(n);
        items[0] = 30;
        version[0]++;
        serve_feed(0);
        assert_loop_goes_on_broker_down(0, 45000);
        cr_assert_eq(nt_test_kafka_local("up"), 0,
                     "scripts/kafka-local up failed");
        t_up = mono_ms();
        settles_and_stops_exactly_once(
            n, t_up, "after a full publisher with the broker down");
}

/* An article larger than the producer's message.max.bytes is refused
 * before it is sent: logged, counted and marked seen as without
 * --group, while the rest of its transaction commits (no abort); every
 * other article is on news.raw exactly once, the big one not at all.
 * With room for 20 articles in flight, the 21st of the feed's poll
 * commits the transaction at once to make room (before the loop has
 * settled the refusal). */
Test(real, article_refused_before_sending_aborts_nothing, .timeout = 180)
{
        const int n = 2;
        struct tally t;
        const char *key;
        json_t *v;
        int big = 0;

        /* fetch.max.bytes may not be below message.max.bytes. */
        extra_kafka = ", \"message.max.bytes\": \"10000\","
                      " \"fetch.max.bytes\": \"10000\"";
        extra_producer = "\"max_inflight\": 20, ";
        big_item[1] = 1;
        make_feeds(n, 25);
        start(0);
        cr_assert(wait_group(1, 90), "no assignment");
        /* Settled: the refused article counts as done, so the feed's
         * validators are kept and its next poll answers 304. */
        cr_assert_eq(wait_all_polled(n, 0, true, 90), n,
                     "not every feed settled");
        cr_assert_eq(nt_test_metric(inst[0].port, "newstap_transactions_total",
                                    "{outcome=\"aborted\"}"),
                     0, "a transaction was aborted");
        cr_assert_eq(
            nt_test_metric(inst[0].port, "newstap_publish_refused_total", ""),
            1, "the big article was not counted as refused");
        cr_assert_eq(stop(0, SIGTERM), 0);
        assert_exactly_once(n, "after a refusal");
        tally_raw(&t);
        json_object_foreach(t.count, key, v)
        {
                big += strncmp(key, "urn:grp:1:big ", 14) == 0;
        }
        json_decref(t.count);
        cr_assert_eq(big, 0, "the refused article is stored");
}

/* The restore of partitions taken over waits for a transaction another
 * instance left open on them (here up to transaction.timeout.ms and 15
 * s, 20 s): meanwhile the instance keeps polling the feeds it had, and
 * once the wait is over it polls the new ones too, each article exactly
 * once. */
Test(real, restore_does_not_stop_the_other_feeds, .timeout = 240)
{
        const int n = 24;
        const char *done = "feed state(s) of";
        rd_kafka_error_t *error;
        rd_kafka_t *open_txn;
        long long t_w, end;
        int i, before, done_at_poll = -1;
        bool polled = false;

        make_feeds(n, 1);
        for (i = 0; i < 2; i++)
                start(i);
        cr_assert(wait_group(2, 90), "the group never spread over 2");
        cr_assert_eq(wait_all_polled(n, 0, true, 90), n,
                     "not every feed settled");
        open_txn = open_state_txn_on(PARTITIONS);
        cr_assert_not_null(open_txn, "cannot open a transaction");
        before = count_in_file(inst[0].log, done);
        /* Instance 1 leaves: its partitions go to instance 0, whose
         * restore of them waits for the open transaction. */
        cr_assert_eq(stop(1, SIGTERM), 0, "instance 1 exit");
        end = mono_ms() + 30000;
        while (count_in_file(inst[0].log, "waiting before restoring") < 1 &&
               mono_ms() < end)
                nap_ms(100);
        cr_assert_geq(count_in_file(inst[0].log, "waiting before restoring"), 1,
                      "the restore did not wait for the open transaction");
        t_w = mono_ms();
        end = t_w + 3LL * INTERVAL_S * 1000;
        while (!polled && mono_ms() < end) {
                for (i = 0; i < n && !polled; i++) {
                        size_t j, m = requests(i);

                        for (j = 0; j < m; j++)
                                polled |= log_buf[j].at_ms > t_w;
                }
                if (polled)
                        done_at_poll = count_in_file(inst[0].log, done);
                else
                        nap_ms(100);
        }
        cr_assert(polled, "no feed polled within 3 intervals of the wait");
        cr_assert_eq(done_at_poll, before,
                     "feeds were polled only once the restore was over");
        error = rd_kafka_abort_transaction(open_txn, 30000);
        if (error)
                rd_kafka_error_destroy(error);
        rd_kafka_destroy(open_txn);
        end = mono_ms() + 60000;
        while (count_in_file(inst[0].log, done) <= before && mono_ms() < end)
                nap_ms(200);
        cr_assert_gt(count_in_file(inst[0].log, done), before,
                     "the restore never ended");
        for (i = 0; i < n; i++)
                grow(i);
        t_w = mono_ms();
        cr_assert_eq(wait_all_polled(n, t_w, true, 90), n,
                     "not every feed settled after the takeover");
        cr_assert_eq(stop(0, SIGTERM), 0, "instance 0 exit");
        assert_exactly_once(n, "after a restore that waited");
}
