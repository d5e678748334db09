/* Produce N keyed messages with headers to a new topic and read them back
 * through a consumer group: against the real Kafka broker (suite "real")
 * and against `newstap broker`, started as a separate process with its
 * bootstrap list read from its stdout (suite "devbroker"). */
// ctest-suites: real devbroker
#include "common/err.h"
#include "common/kafka.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_MESSAGES 1000

struct dr_tally {
        int ok;
        int failed;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque)
{
        struct dr_tally *t = opaque;

        (void)rk;
        if (rkm->err)
                t->failed++;
        else
                t->ok++;
}

/* Round trip through `topic`; creates it with the Admin API when `create`
 * (the mock cluster of librdkafka 2.0.2 has no controller for that: the
 * dev broker creates its topics from --topic). */
static void roundtrip(const char *bootstrap, const char *topic, bool create,
                      int partitions)
{
        const char *pprops[] = {"bootstrap.servers", bootstrap,
                                "enable.idempotence", "true", NULL};
        const char *cprops[] = {"bootstrap.servers", bootstrap,
                                "auto.offset.reset", "earliest", NULL};
        char group[128], errstr[512], key[32], value[64];
        struct dr_tally tally = {0, 0};
        rd_kafka_t *producer, *consumer;
        rd_kafka_topic_partition_list_t *subs;
        static char seen[N_MESSAGES];
        int i, received = 0;
        time_t deadline;
        const char *topics[1];

        memset(seen, 0, sizeof(seen));
        nt_test_unique_name("nt-group", group, sizeof(group));

        producer = nt_kafka_producer_new(NULL, pprops, on_delivery, &tally,
                                         errstr, sizeof(errstr));
        cr_assert_not_null(producer, "%s", errstr);

        topics[0] = topic;
        if (create)
                cr_assert_eq(nt_kafka_create_topics(producer, topics, 1,
                                                    partitions, 15000, errstr,
                                                    sizeof(errstr)),
                             NT_OK, "%s", errstr);

        for (i = 0; i < N_MESSAGES; i++) {
                rd_kafka_headers_t *hdrs = rd_kafka_headers_new(2);
                rd_kafka_resp_err_t err;

                snprintf(key, sizeof(key), "key-%04d", i);
                snprintf(value, sizeof(value), "{\"n\":%d}", i);
                rd_kafka_header_add(hdrs, "content-type", -1,
                                    "application/json", -1);
                rd_kafka_header_add(hdrs, "seq", -1, key + 4, -1);
                err =
                    rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic),
                                      RD_KAFKA_V_KEY(key, strlen(key)),
                                      RD_KAFKA_V_VALUE(value, strlen(value)),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
                if (err)
                        rd_kafka_headers_destroy(hdrs);
                cr_assert_eq(err, 0, "produce %d: %s", i,
                             rd_kafka_err2str(err));
                rd_kafka_poll(producer, 0);
        }
        cr_assert_eq(nt_kafka_flush(producer, 30000, errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
        cr_assert_eq(tally.ok, N_MESSAGES, "delivered %d of %d (%d failed)",
                     tally.ok, N_MESSAGES, tally.failed);
        rd_kafka_destroy(producer);

        consumer =
            nt_kafka_consumer_new(NULL, group, cprops, errstr, sizeof(errstr));
        cr_assert_not_null(consumer, "%s", errstr);
        subs = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(subs, topic, RD_KAFKA_PARTITION_UA);
        cr_assert_eq(rd_kafka_subscribe(consumer, subs), 0);
        rd_kafka_topic_partition_list_destroy(subs);

        /* Polls until everything is back or 60 s have passed. */
        deadline = time(NULL) + 60;
        while (received < N_MESSAGES && time(NULL) < deadline) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(consumer, 100);
                const void *hval;
                size_t hlen;
                rd_kafka_headers_t *hdrs;
                int n;
                char kbuf[32];

                if (!rkm)
                        continue;
                cr_assert_eq(rkm->err, 0, "consume: %s",
                             rd_kafka_message_errstr(rkm));
                cr_assert(rkm->key_len > 4 && rkm->key_len < sizeof(kbuf),
                          "unexpected key length %zu", rkm->key_len);
                memcpy(kbuf, rkm->key, rkm->key_len);
                kbuf[rkm->key_len] = '\0';
                n = (int)strtol(kbuf + 4, NULL, 10);
                cr_assert(n >= 0 && n < N_MESSAGES, "key %s", kbuf);
                cr_assert_eq(seen[n], 0, "message %s delivered twice", kbuf);
                seen[n] = 1;
                snprintf(value, sizeof(value), "{\"n\":%d}", n);
                cr_assert_eq(rkm->len, strlen(value), "value of %s", kbuf);
                cr_assert_eq(memcmp(rkm->payload, value, rkm->len), 0,
                             "value of %s", kbuf);
                cr_assert_eq(rd_kafka_message_headers(rkm, &hdrs), 0,
                             "headers of %s", kbuf);
                cr_assert_eq(rd_kafka_header_get_last(hdrs, "content-type",
                                                      &hval, &hlen),
                             0);
                cr_assert_eq(hlen, strlen("application/json"));
                cr_assert_eq(
                    rd_kafka_header_get_last(hdrs, "seq", &hval, &hlen), 0);
                cr_assert_eq(memcmp(hval, kbuf + 4, hlen), 0);
                received++;
                rd_kafka_message_destroy(rkm);
        }
        cr_assert_eq(received, N_MESSAGES, "read back %d of %d", received,
                     N_MESSAGES);
        cr_assert_eq(rd_kafka_commit(consumer, NULL, 0), 0,
                     "the group can commit its offsets");
        rd_kafka_consumer_close(consumer);
        rd_kafka_destroy(consumer);
}

Test(real, produce_and_consume_with_keys_and_headers, .timeout = 180)
{
        char topic[128];

        nt_test_unique_name("nt-roundtrip", topic, sizeof(topic));
        roundtrip(nt_test_kafka_bootstrap(), topic, true, 3);
}

Test(devbroker, produce_and_consume_with_keys_and_headers, .timeout = 180)
{
        char *argv[] = {(char *)nt_test_bin(), "broker", "--topic",
                        "nt-roundtrip:3", NULL};
        struct nt_child broker;
        char bootstrap[256];
        int status;

        cr_assert_eq(nt_child_start(&broker, argv), 0, "cannot start %s",
                     argv[0]);
        cr_assert_gt(
            nt_child_read_line(&broker, bootstrap, sizeof(bootstrap), 15000), 0,
            "newstap broker printed no bootstrap list");
        cr_assert_not_null(strstr(bootstrap, "127.0.0.1:"), "got \"%s\"",
                           bootstrap);
        roundtrip(bootstrap, "nt-roundtrip", false, 3);
        status = nt_child_stop(&broker, SIGTERM, 10000);
        cr_assert_eq(status, 0, "newstap broker exited %d after SIGTERM",
                     status);
}
