/* `newstap feeds migrate STATE_DIR -c FILE` on the real broker: a state
 * directory written by a real `newstap produce --once` against a local
 * HTTP server moves onto the topics; each state on the state topic equals
 * its file's and sits on its feed's partition; --dry-run writes nothing;
 * a second migrate is refused without --force; a held STATE_DIR is
 * refused. */
// ctest-suites: real
#include "common/config.h"
#include "common/err.h"
#include "common/kafka.h"
#include "producer/feeds_topic.h"
#include "producer/state.h"
#include "producer/state_topic.h"
#include "support/archive.h"
#include "support/httpd.h"
#include "support/kafka_read.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Four feeds polled by produce; the migrated file lists three of them
 * and one never polled. */
static const char *const polled[] = {"/wire.xml", "/grid.xml", "/ports.xml",
                                     "/gone.xml"};
static const char *const listed[] = {"/wire.xml", "/grid.xml", "/ports.xml",
                                     "/late.xml"};
#define N_FEEDS 4

static char dir[64], state_dir[96], config[128], feeds_topic[128],
    state_topic[128], raw_topic[128];
static nt_httpd_t *srv;

/* An RSS document of `n` articles of the feed `name`. */
static char *rss(const char *name, int n)
{
        size_t size = 512 + (size_t)n * 512, used;
        char *b = malloc(size);
        int i;

        cr_assert_not_null(b);
        used = (size_t)snprintf(b, size,
                                "<?xml version=\"1.0\"?><rss version=\"2.0\">"
                                "<channel><title>%s desk</title>"
                                "<link>https://%s.example/</link>",
                                name, name);
        for (i = 1; i <= n; i++)
                used += (size_t)snprintf(
                    b + used, size - used,
                    "<item><title>%s report %d on the harbour "
                    "works</title><link>https://%s.example/news/%d</link>"
                    "<guid>%s-%d</guid><description>Crews finished "
                    "stage %d of the %s repairs on Tuesday.</description>"
                    "<pubDate>Mon, 07 Dec 2026 0%d:00:00 GMT</pubDate>"
                    "</item>",
                    name, i, name, i, name, i, i, name, i % 10);
        snprintf(b + used, size - used, "</channel></rss>");
        return b;
}

/* producer.feeds with the server's URLs of `paths`. */
static void write_config(const char *const *paths)
{
        FILE *f = fopen(config, "w");
        int i;

        cr_assert_not_null(f);
        fprintf(f,
                "{\"kafka\": {\"bootstrap.servers\": \"%s\"},"
                " \"topics\": {\"feeds\": \"%s\", \"feeds_state\": \"%s\","
                " \"raw\": \"%s\"},"
                " \"producer\": {\"feeds_partitions\": 3,"
                " \"state_dir\": \"%s\", \"feeds\": [",
                nt_test_kafka_bootstrap(), feeds_topic, state_topic, raw_topic,
                state_dir);
        for (i = 0; i < N_FEEDS; i++)
                fprintf(f, "%s{\"url\": \"%s%s\"}", i ? ", " : "",
                        nt_httpd_url(srv), paths[i]);
        fprintf(f, "]}}\n");
        fclose(f);
}

static void setup(void)
{
        const char *names[] = {"wire", "grid", "ports", "gone"};
        int i;

        nt_test_kafka_bootstrap();
        snprintf(dir, sizeof(dir), "/tmp/nt-migrate-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
        snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
        snprintf(config, sizeof(config), "%s/newstap.json", dir);
        nt_test_unique_name("feeds", feeds_topic, sizeof(feeds_topic));
        nt_test_unique_name("state", state_topic, sizeof(state_topic));
        nt_test_unique_name("raw", raw_topic, sizeof(raw_topic));
        srv = nt_httpd_start();
        cr_assert_not_null(srv);
        for (i = 0; i < N_FEEDS; i++) {
                char *body = rss(names[i], 3 + i), etag[64];

                snprintf(etag, sizeof(etag), "\"%s-v%d\"", names[i], i);
                nt_httpd_serve(srv, polled[i], 200,
                               "Content-Type: application/rss+xml", body, etag);
                free(body);
        }
}

static void teardown(void)
{
        char cmd[160];

        nt_httpd_stop(srv);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        (void)system(cmd);
        nt_test_kafka_restore();
}

TestSuite(real, .init = setup, .fini = teardown);

/* Runs newstap with up to 6 arguments after the command name. */
static int run(char **out, char **err, const char *a1, const char *a2,
               const char *a3, const char *a4, const char *a5, const char *a6)
{
        char *argv[10] = {(char *)nt_test_bin()};
        const char *rest[] = {a1, a2, a3, a4, a5, a6};
        int n = 1, i;

        for (i = 0; i < 6 && rest[i]; i++)
                argv[n++] = (char *)rest[i];
        argv[n] = NULL;
        return nt_run(argv, NULL, out, err, 180000);
}

/* produce --once over the four polled feeds: their state files. */
static void produce_states(void)
{
        char *out, *err;
        int rc;

        write_config(polled);
        rc = run(&out, &err, "produce", "--once", "-c", config, NULL, NULL);
        cr_assert_eq(rc, 0, "produce --once: %d: %s", rc, err);
        free(out);
        free(err);
        write_config(listed);
}

static nt_config_t *test_config(void)
{
        nt_config_t *cfg = nt_config_new();
        char errstr[512];

        cr_assert_not_null(cfg);
        cr_assert_eq(nt_config_load_file(cfg, config, errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
        return cfg;
}

static bool has(const char *text, const char *needle)
{
        return text && strstr(text, needle) != NULL;
}

static bool topic_exists(const char *topic)
{
        const char *props[] = {"bootstrap.servers", nt_test_kafka_bootstrap(),
                               NULL};
        char errstr[512];
        rd_kafka_t *rk = nt_kafka_producer_new(NULL, props, NULL, NULL, errstr,
                                               sizeof(errstr));
        int n = 0, err;

        cr_assert_not_null(rk, "%s", errstr);
        err = nt_kafka_partition_count(rk, topic, 15000, &n, errstr,
                                       sizeof(errstr));
        rd_kafka_destroy(rk);
        cr_assert(err == NT_OK || err == NT_ERR_NOTFOUND, "%s", errstr);
        return err == NT_OK;
}

/* The state topic's states: key -> {"partition", "state" (as JSON)}. */
static int collect(const char *key, int32_t partition, struct nt_feed_state *st,
                   void *opaque)
{
        json_t *st_json = nt_state_to_json(key, st);

        cr_assert_not_null(st_json);
        json_object_set_new(opaque, key,
                            json_pack("{s:i, s:o}", "partition", (int)partition,
                                      "state", st_json));
        return 0;
}

static json_t *states_on_topic(const nt_config_t *cfg)
{
        json_t *got = json_object();
        char errstr[512];

        cr_assert_eq(nt_state_topic_load(cfg, NULL, NULL, 0, collect, got,
                                         60000, errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
        return got;
}

/* Each of the three polled feeds that are listed: its state on the
 * topic equals its file's and sits on its feed's partition. */
static void assert_migrated(const nt_config_t *cfg)
{
        json_t *got = states_on_topic(cfg), *view = NULL, *parts = NULL;
        char errstr[512];
        int i;

        cr_assert_eq(nt_feeds_topic_load_partitions(cfg, feeds_topic, 60000,
                                                    &view, &parts, errstr,
                                                    sizeof(errstr)),
                     NT_OK, "%s", errstr);
        cr_assert_eq(json_object_size(view), N_FEEDS, "the file's feeds");
        cr_assert_eq(json_object_size(got), 3, "three states");
        for (i = 0; i < 3; i++) {
                struct nt_feed_state st;
                char url[256];
                char *key;
                json_t *entry, *want;

                snprintf(url, sizeof(url), "%s%s", nt_httpd_url(srv),
                         listed[i]);
                key = nt_feeds_topic_key(url);
                cr_assert_not_null(key);
                cr_assert_eq(nt_state_init(&st), NT_OK);
                cr_assert_eq(
                    nt_state_peek(state_dir, url, &st, errstr, sizeof(errstr)),
                    NT_OK, "%s: %s", url, errstr);
                cr_assert_not_null(st.etag, "%s: produce kept its ETag", url);
                cr_assert_eq(json_object_size(st.seen), (size_t)(3 + i),
                             "%s: every article seen", url);
                entry = json_object_get(got, key);
                cr_assert_not_null(entry, "%s: no state on the topic", key);
                want = nt_state_to_json(key, &st);
                cr_assert(json_equal(json_object_get(entry, "state"), want),
                          "%s: the topic's state differs from the file's", key);
                cr_assert_eq(
                    json_integer_value(json_object_get(entry, "partition")),
                    json_integer_value(json_object_get(parts, key)),
                    "%s: not on its feed's partition", key);
                json_decref(want);
                nt_state_free(&st);
                free(key);
        }
        json_decref(view);
        json_decref(parts);
        json_decref(got);
}

Test(real, migrate_moves_feeds_and_states, .timeout = 600)
{
        nt_config_t *cfg;
        char *out, *err;
        int rc;

        produce_states();
        cfg = test_config();

        /* A dry run tells what it would do and writes nothing. */
        rc = run(&out, &err, "feeds", "migrate", state_dir, "-c", config,
                 "--dry-run");
        cr_assert_eq(rc, 0, "migrate --dry-run: %d: %s", rc, err);
        cr_assert(has(out, "/wire.xml: state -> "), "%s", out);
        cr_assert(has(out, "/late.xml: no state file"), "%s", out);
        cr_assert(has(out, "/gone.xml: state file "), "%s", out);
        cr_assert(has(err, "3 state(s) to write to"), "%s", err);
        cr_assert(has(err, "1 feed(s) without a state file, 1 state file(s) "
                           "without a feed (dry run: nothing written)"),
                  "%s", err);
        free(out);
        free(err);
        cr_assert(!topic_exists(feeds_topic), "the dry run made %s",
                  feeds_topic);
        cr_assert(!topic_exists(state_topic), "the dry run made %s",
                  state_topic);

        rc = run(&out, &err, "feeds", "migrate", state_dir, "-c", config, NULL);
        cr_assert_eq(rc, 0, "migrate: %d: %s", rc, err);
        cr_assert(has(out, "+ "), "the feeds were synced: %s", out);
        cr_assert(has(err, "4 feed(s) on"), "%s", err);
        cr_assert(has(err, "3 state(s) written to"), "%s", err);
        free(out);
        free(err);
        assert_migrated(cfg);

        /* Once: a second migrate would set the topic's states back. */
        rc = run(&out, &err, "feeds", "migrate", state_dir, "-c", config, NULL);
        cr_assert_eq(rc, 1, "a second migrate: %d: %s", rc, err);
        cr_assert(has(err, "already holds the state of 3 of these feeds"), "%s",
                  err);
        cr_assert(has(err, "--force"), "%s", err);
        free(out);
        free(err);

        rc = run(&out, &err, "feeds", "migrate", state_dir, "-c", config,
                 "--force");
        cr_assert_eq(rc, 0, "migrate --force: %d: %s", rc, err);
        cr_assert(has(err, "3 state(s) written to"), "%s", err);
        free(out);
        free(err);
        assert_migrated(cfg);
        nt_config_destroy(cfg);
}

Test(real, migrate_refuses_a_state_dir_in_use, .timeout = 300)
{
        char *out, *err, errstr[512];
        int lock, rc;

        produce_states();
        lock = nt_state_lock(state_dir, errstr, sizeof(errstr));
        cr_assert_geq(lock, 0, "%s", errstr);
        rc = run(&out, &err, "feeds", "migrate", state_dir, "-c", config, NULL);
        nt_state_unlock(lock);
        cr_assert_eq(rc, 1, "migrate beside a producer: %d: %s", rc, err);
        cr_assert(has(err, "is in use by another newstap produce"), "%s", err);
        cr_assert(has(err, "nothing written"), "%s", err);
        free(out);
        free(err);
        cr_assert(!topic_exists(feeds_topic), "%s was made", feeds_topic);
}

Test(real, migrate_refuses_a_plain_secret, .timeout = 300)
{
        char *out, *err;
        int rc;

        produce_states();
        nt_test_printf_file(
            config,
            "{\"kafka\": {\"bootstrap.servers\": \"%s\"},"
            " \"topics\": {\"feeds\": \"%s\", \"feeds_state\": \"%s\"},"
            " \"producer\": {\"feeds\": [{\"url\": \"%s/wire.xml\","
            " \"headers\": {\"Authorization\": \"Bearer s3cr3t\"}}]}}\n",
            nt_test_kafka_bootstrap(), feeds_topic, state_topic,
            nt_httpd_url(srv));
        rc = run(&out, &err, "feeds", "migrate", state_dir, "-c", config, NULL);
        cr_assert_eq(rc, 2, "a plain secret: %d: %s", rc, err);
        cr_assert(!has(err, "s3cr3t"), "the secret in a message: %s", err);
        free(out);
        free(err);
        cr_assert(!topic_exists(feeds_topic), "%s was made", feeds_topic);
        cr_assert(!topic_exists(state_topic), "%s was made", state_topic);
}
