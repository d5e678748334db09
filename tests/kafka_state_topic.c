/* The state topic (producer/state_topic.h) on the real broker: the topic
 * created with the feeds topic's partition count and refused when it
 * differs or is not compacted; states loaded per partition subset, the
 * last record per key winning, tombstones forgetting, garbage records
 * logged with their partition and offset and skipped, and aborted or
 * still open transactions never seen. */
// ctest-suites: real
#include "common/config.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/log.h"
#include "producer/feeds_topic.h"
#include "producer/state_topic.h"
#include "support/kafka_read.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char feeds_topic[128], state_topic[128];
static nt_config_t *cfg;
static const char *props[3];

static void setup(void)
{
        char errstr[512];

        props[0] = "bootstrap.servers";
        props[1] = nt_test_kafka_bootstrap();
        props[2] = NULL;
        nt_test_unique_name("feeds", feeds_topic, sizeof(feeds_topic));
        nt_test_unique_name("state", state_topic, sizeof(state_topic));
        cfg = nt_config_new();
        cr_assert_not_null(cfg);
        cr_assert_eq(nt_config_set(cfg, "topics.feeds", feeds_topic, "test",
                                   errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
        cr_assert_eq(nt_config_set(cfg, "topics.feeds_state", state_topic,
                                   "test", errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
        cr_assert_eq(nt_config_set_kafka(cfg, "bootstrap.servers", props[1],
                                         "test", errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
}

static void teardown(void)
{
        nt_log_setup(NT_LOG_INFO, NT_LOG_LOGFMT, NULL);
        nt_config_destroy(cfg);
        nt_test_kafka_restore();
}

TestSuite(real, .init = setup, .fini = teardown);

/* Delivery reports: every record a test writes must be confirmed. */
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
        (void)rk;
        (void)opaque;
        cr_assert_eq(rkm->err, 0, "delivery to %s [%d]: %s",
                     rd_kafka_topic_name(rkm->rkt), (int)rkm->partition,
                     rd_kafka_err2str(rkm->err));
}

static rd_kafka_t *producer(const char *transactional_id)
{
        const char *txn[] = {"bootstrap.servers", props[1], "transactional.id",
                             transactional_id, NULL};
        char errstr[512];
        rd_kafka_t *rk =
            nt_kafka_producer_new(NULL, transactional_id ? txn : props, dr_cb,
                                  NULL, errstr, sizeof(errstr));

        cr_assert_not_null(rk, "%s", errstr);
        return rk;
}

/* The compacted feeds topic, made as `newstap feeds` makes it. */
static void ensure_feeds_topic(rd_kafka_t *rk)
{
        char errstr[512];

        cr_assert_eq(nt_feeds_topic_ensure(rk, cfg, feeds_topic, 30000, errstr,
                                           sizeof(errstr)),
                     NT_OK, "%s", errstr);
}

/* A compacted feeds topic of n partitions, made as `newstap feeds` makes
 * it, and the state topic by nt_state_topic_ensure(). */
static void make_topics(int n)
{
        char errstr[512], count[16];
        rd_kafka_t *rk = producer(NULL);

        snprintf(count, sizeof(count), "%d", n);
        cr_assert_eq(nt_config_set(cfg, "producer.feeds_partitions", count,
                                   "test", errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
        ensure_feeds_topic(rk);
        cr_assert_eq(
            nt_state_topic_ensure(rk, cfg, 30000, errstr, sizeof(errstr)),
            NT_OK, "%s", errstr);
        rd_kafka_destroy(rk);
}

Test(real, ensure_creates_a_compacted_topic_like_the_feeds_topic,
     .timeout = 300)
{
        char errstr[512], policy[64];
        rd_kafka_t *rk;
        int n = 0;

        make_topics(3);
        rk = producer(NULL);
        cr_assert_eq(nt_kafka_partition_count(rk, state_topic, 15000, &n,
                                              errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
        cr_assert_eq(n, 3, "the feeds topic's partition count");
        cr_assert_eq(nt_kafka_topic_config_wait(
                         rk, state_topic, "cleanup.policy", policy,
                         sizeof(policy), 15000, errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
        cr_assert_str_eq(policy, "compact");
        /* Once there, it is accepted as it is. */
        cr_assert_eq(
            nt_state_topic_ensure(rk, cfg, 30000, errstr, sizeof(errstr)),
            NT_OK, "%s", errstr);
        rd_kafka_destroy(rk);
}

Test(real, ensure_needs_the_feeds_topic, .timeout = 300)
{
        char errstr[512];
        rd_kafka_t *rk = producer(NULL);
        int n = 0;

        cr_assert_eq(
            nt_state_topic_ensure(rk, cfg, 30000, errstr, sizeof(errstr)),
            NT_ERR_NOTFOUND, "%s", errstr);
        cr_assert(strstr(errstr, feeds_topic) &&
                      strstr(errstr, "does not exist"),
                  "%s", errstr);
        cr_assert_eq(nt_kafka_partition_count(rk, state_topic, 5000, &n, errstr,
                                              sizeof(errstr)),
                     NT_ERR_NOTFOUND, "no state topic was made: %s", errstr);
        rd_kafka_destroy(rk);
}

Test(real, ensure_refuses_another_partition_count, .timeout = 300)
{
        static const char *const compact[] = {"cleanup.policy", "compact",
                                              NULL};
        const char *topics[] = {state_topic};
        char errstr[512];
        rd_kafka_t *rk = producer(NULL);

        ensure_feeds_topic(rk);
        cr_assert_eq(nt_kafka_create_topics_config(rk, topics, 1, 2, compact,
                                                   30000, errstr,
                                                   sizeof(errstr)),
                     NT_OK, "%s", errstr);
        cr_assert_eq(
            nt_state_topic_ensure(rk, cfg, 30000, errstr, sizeof(errstr)),
            NT_ERR_CONFIG);
        cr_assert(strstr(errstr, "has 2 partition(s)") &&
                      strstr(errstr, "has 6"),
                  "%s", errstr);
        rd_kafka_destroy(rk);
}

Test(real, ensure_refuses_a_deleting_topic, .timeout = 300)
{
        const char *topics[] = {state_topic};
        char errstr[512];
        rd_kafka_t *rk = producer(NULL);

        ensure_feeds_topic(rk);
        nt_test_make_topics(props[1], topics, 1, 6);
        cr_assert_eq(
            nt_state_topic_ensure(rk, cfg, 30000, errstr, sizeof(errstr)),
            NT_ERR_CONFIG, "%s", errstr);
        cr_assert(strstr(errstr, "cleanup.policy=delete"), "%s", errstr);
        rd_kafka_destroy(rk);
}

/* ---- Loading -------------------------------------------------------- */

/* A state whose failures count tells the versions apart, with a
 * seen-set of `seen` articles. */
static void put(rd_kafka_t *rk, const char *key, int32_t partition,
                int failures, int seen)
{
        struct nt_feed_state st;
        size_t len = 0;
        char *value, id[32];
        int i;

        cr_assert_eq(nt_state_init(&st), NT_OK);
        st.failures = failures;
        st.etag = strdup("\"v-17\"");
        for (i = 0; i < seen; i++) {
                snprintf(id, sizeof(id), "%016x", 0x5eed0000u + (unsigned)i);
                cr_assert_eq(nt_state_mark_seen(&st, id, "r1", 1796630000000),
                             NT_OK);
        }
        value = nt_state_topic_value(key, &st, &len);
        cr_assert_not_null(value);
        cr_assert_eq(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(state_topic),
                                       RD_KAFKA_V_PARTITION(partition),
                                       RD_KAFKA_V_KEY(key, strlen(key)),
                                       RD_KAFKA_V_VALUE(value, len),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                                       RD_KAFKA_V_END),
                     0);
        nt_state_free(&st);
}

/* A raw record: key and value as given (NULL: none, a tombstone). */
static void put_raw(rd_kafka_t *rk, const char *key, int32_t partition,
                    const char *value)
{
        cr_assert_eq(
            rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(state_topic),
                RD_KAFKA_V_PARTITION(partition),
                RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                RD_KAFKA_V_VALUE((void *)value, value ? strlen(value) : 0),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
            0);
}

static void flush(rd_kafka_t *rk)
{
        char errstr[512];

        cr_assert_eq(nt_kafka_flush(rk, 30000, errstr, sizeof(errstr)), NT_OK,
                     "%s", errstr);
}

/* What a load reported: key -> {"partition", "failures", "seen"}. */
static int collect(const char *key, int32_t partition, struct nt_feed_state *st,
                   void *opaque)
{
        json_t *got = opaque;

        cr_assert_not_null(st, "%s: a NULL state", key);
        cr_assert_null(json_object_get(got, key), "%s reported twice", key);
        json_object_set_new(got, key,
                            json_pack("{s:i, s:i, s:i}", "partition",
                                      (int)partition, "failures", st->failures,
                                      "seen", (int)json_object_size(st->seen)));
        return 0;
}

static json_t *load(const int32_t *parts, size_t n)
{
        char errstr[512];
        json_t *got = json_object();

        cr_assert_eq(nt_state_topic_load(cfg, NULL, parts, n, collect, got,
                                         60000, errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
        return got;
}

static void assert_state(const json_t *got, const char *key, int partition,
                         int failures, int seen)
{
        json_t *s = json_object_get(got, key);

        cr_assert_not_null(s, "%s: not loaded", key);
        cr_assert_eq(json_integer_value(json_object_get(s, "partition")),
                     partition, "%s: partition", key);
        cr_assert_eq(json_integer_value(json_object_get(s, "failures")),
                     failures, "%s: not its last state", key);
        cr_assert_eq(json_integer_value(json_object_get(s, "seen")), seen,
                     "%s: seen-set", key);
}

Test(real, load_keeps_the_last_state_per_key_of_the_partitions_asked,
     .timeout = 300)
{
        const int32_t one[] = {1}, two[] = {0, 2}, none[] = {3};
        char errstr[512];
        rd_kafka_t *rk;
        json_t *got;

        make_topics(3);
        rk = producer(NULL);
        put(rk, "https://a.example/rss", 0, 1, 3);
        put(rk, "https://a.example/rss", 0, 2, 4);
        put(rk, "https://b.example/rss", 1, 0, 20);
        put(rk, "https://c.example/rss", 2, 5, 0);
        put(rk, "https://d.example/rss", 2, 0, 1);
        put_raw(rk, "https://d.example/rss", 2, NULL);
        put(rk, "https://e.example/rss", 0, 1, 1);
        put_raw(rk, "https://e.example/rss", 0, NULL);
        put(rk, "https://e.example/rss", 0, 3, 2);
        /* A tombstone of a key never written is nothing. */
        put_raw(rk, "https://f.example/rss", 1, NULL);
        flush(rk);
        rd_kafka_destroy(rk);

        got = load(NULL, 0);
        cr_assert_eq(json_object_size(got), 4, "a, b, c, e");
        assert_state(got, "https://a.example/rss", 0, 2, 4);
        assert_state(got, "https://b.example/rss", 1, 0, 20);
        assert_state(got, "https://c.example/rss", 2, 5, 0);
        assert_state(got, "https://e.example/rss", 0, 3, 2);
        cr_assert_null(json_object_get(got, "https://d.example/rss"),
                       "a tombstone forgets the state");
        json_decref(got);

        got = load(one, 1);
        cr_assert_eq(json_object_size(got), 1);
        assert_state(got, "https://b.example/rss", 1, 0, 20);
        json_decref(got);

        got = load(two, 2);
        cr_assert_eq(json_object_size(got), 3);
        assert_state(got, "https://a.example/rss", 0, 2, 4);
        assert_state(got, "https://c.example/rss", 2, 5, 0);
        assert_state(got, "https://e.example/rss", 0, 3, 2);
        json_decref(got);

        got = json_object();
        cr_assert_eq(nt_state_topic_load(cfg, NULL, none, 1, collect, got,
                                         60000, errstr, sizeof(errstr)),
                     NT_ERR_INVALID);
        cr_assert(strstr(errstr, "no partition 3"), "%s", errstr);
        json_decref(got);
}

/* The log lines written while `f` was the log's stream. */
static char *log_text(FILE *f)
{
        long size;
        char *text;

        nt_log_setup(NT_LOG_INFO, NT_LOG_LOGFMT, NULL);
        fflush(f);
        size = ftell(f);
        cr_assert_geq(size, 0);
        text = calloc(1, (size_t)size + 1);
        cr_assert_not_null(text);
        rewind(f);
        cr_assert_eq(fread(text, 1, (size_t)size, f), (size_t)size);
        fclose(f);
        return text;
}

Test(real, garbage_is_logged_with_partition_and_offset_and_skipped,
     .timeout = 300)
{
        const char *wrong_key = "{\"schema\":\"newstap.feed-state/1\","
                                "\"key\":\"https://b.example/rss\","
                                "\"seen\":{}}";
        FILE *f = tmpfile();
        rd_kafka_t *rk;
        json_t *got;
        char *text;

        cr_assert_not_null(f);
        /* One partition, so that the offsets below are known. (A record
         * without a key cannot be among them: a compacted topic refuses
         * the whole batch.) */
        make_topics(1);
        rk = producer(NULL);
        put(rk, "https://a.example/rss", 0, 1, 2);               /* 0 */
        put_raw(rk, "https://a.example/rss", 0, "{\"schema\":"); /* 1 */
        put_raw(rk, "https://a.example/rss", 0,
                "{\"schema\":\"newstap.feed/1\",\"key\":"
                "\"https://a.example/rss\",\"seen\":{}}");  /* 2 */
        put_raw(rk, "https://a.example/rss", 0, wrong_key); /* 3 */
        put(rk, "https://b.example/rss", 0, 7, 1);          /* 4 */
        flush(rk);
        rd_kafka_destroy(rk);

        nt_log_setup(NT_LOG_WARN, NT_LOG_LOGFMT, f);
        got = load(NULL, 0);
        text = log_text(f);
        cr_assert_eq(json_object_size(got), 2, "%s", text);
        assert_state(got, "https://a.example/rss", 0, 1, 2);
        assert_state(got, "https://b.example/rss", 0, 7, 1);
        json_decref(got);
        cr_assert(strstr(text, "partition=0 offset=1"), "%s", text);
        cr_assert(strstr(text, "not JSON"), "%s", text);
        cr_assert(strstr(text, "partition=0 offset=2"), "%s", text);
        cr_assert(strstr(text, "partition=0 offset=3"), "%s", text);
        cr_assert(strstr(text, state_topic), "the topic is named: %s", text);
        cr_assert_null(strstr(text, "offset=0"), "%s", text);
        cr_assert_null(strstr(text, "offset=4"), "%s", text);
        free(text);
}

static void txn_ok(rd_kafka_error_t *error, const char *what)
{
        cr_assert_null(error, "%s: %s", what,
                       error ? rd_kafka_error_string(error) : "");
}

Test(real, aborted_and_open_transactions_are_not_seen, .timeout = 300)
{
        char txn_id[128];
        rd_kafka_t *rk;
        json_t *got;

        make_topics(1);
        nt_test_unique_name("state-txn", txn_id, sizeof(txn_id));
        rk = producer(txn_id);
        txn_ok(rd_kafka_init_transactions(rk, 30000), "init");
        txn_ok(rd_kafka_begin_transaction(rk), "begin");
        put(rk, "https://a.example/rss", 0, 1, 1);
        txn_ok(rd_kafka_commit_transaction(rk, 30000), "commit");

        txn_ok(rd_kafka_begin_transaction(rk), "begin");
        put(rk, "https://a.example/rss", 0, 99, 0);
        put(rk, "https://b.example/rss", 0, 99, 0);
        flush(rk);
        txn_ok(rd_kafka_abort_transaction(rk, 30000), "abort");

        /* Written to the broker but not committed: the load ends at the
         * last stable offset without waiting for it. */
        txn_ok(rd_kafka_begin_transaction(rk), "begin");
        put(rk, "https://c.example/rss", 0, 4, 0);
        flush(rk);

        got = load(NULL, 0);
        cr_assert_eq(json_object_size(got), 1);
        assert_state(got, "https://a.example/rss", 0, 1, 1);
        json_decref(got);

        txn_ok(rd_kafka_commit_transaction(rk, 30000), "commit");
        got = load(NULL, 0);
        cr_assert_eq(json_object_size(got), 2);
        assert_state(got, "https://a.example/rss", 0, 1, 1);
        assert_state(got, "https://c.example/rss", 0, 4, 0);
        json_decref(got);
        rd_kafka_destroy(rk);
}
