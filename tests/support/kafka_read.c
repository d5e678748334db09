#include "support/kafka_read.h"
#include "common/kafka.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

rd_kafka_t *nt_test_producer(const char *bootstrap)
{
        /* Tests look at what is where in a partition (tail -o -N, the
         * first record at a time): the records must land in order. */
        const char *props[] = {"bootstrap.servers", bootstrap,
                               "enable.idempotence", "true", NULL};
        char errstr[512];
        rd_kafka_t *rk = nt_kafka_producer_new(NULL, props, NULL, NULL, errstr,
                                               sizeof(errstr));

        cr_assert_not_null(rk, "%s", errstr);
        return rk;
}

rd_kafka_t *nt_test_topic_reader(const char *bootstrap, const char *topic,
                                 bool eof, int *partitions)
{
        const char *props[] = {"bootstrap.servers",
                               bootstrap,
                               "isolation.level",
                               "read_committed",
                               "enable.partition.eof",
                               eof ? "true" : "false",
                               "enable.auto.commit",
                               "false",
                               NULL};
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_partition_list_t *parts;
        rd_kafka_topic_t *rkt;
        char group[128], errstr[512];
        rd_kafka_t *rk;
        int i, n;

        /* librdkafka 2.0.2 wants a group.id even for assign(); one that
         * never commits leaves no trace. */
        nt_test_unique_name("nt-read", group, sizeof(group));
        rk = nt_kafka_consumer_new(NULL, group, props, errstr, sizeof(errstr));
        cr_assert_not_null(rk, "%s", errstr);
        rkt = rd_kafka_topic_new(rk, topic, NULL);
        cr_assert_eq(rd_kafka_metadata(rk, 0, rkt, &md, 10000), 0,
                     "metadata of %s", topic);
        cr_assert_eq(md->topic_cnt, 1);
        n = md->topics[0].err ? 0 : md->topics[0].partition_cnt;
        parts = rd_kafka_topic_partition_list_new(n + 1);
        for (i = 0; i < n; i++)
                rd_kafka_topic_partition_list_add(parts, topic, i)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        cr_assert_eq(rd_kafka_assign(rk, parts), 0);
        rd_kafka_topic_partition_list_destroy(parts);
        if (partitions)
                *partitions = n;
        return rk;
}

size_t nt_test_read_topic(const char *bootstrap, const char *topic,
                          nt_test_msg_cb *cb, void *ctx, int timeout_ms)
{
        rd_kafka_t *rk = nt_test_topic_reader(bootstrap, topic, false, NULL);
        struct timespec now;
        long long deadline;
        size_t n = 0;

        clock_gettime(CLOCK_MONOTONIC, &now);
        deadline = now.tv_sec * 1000LL + now.tv_nsec / 1000000 + timeout_ms;
        for (;;) {
                rd_kafka_message_t *rkm;

                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec * 1000LL + now.tv_nsec / 1000000 > deadline)
                        break;
                rkm = rd_kafka_consumer_poll(rk, 100);
                if (!rkm)
                        continue;
                if (rkm->err) {
                        rd_kafka_message_destroy(rkm);
                        continue;
                }
                n++;
                if (cb(rkm, ctx)) {
                        rd_kafka_message_destroy(rkm);
                        break;
                }
                rd_kafka_message_destroy(rkm);
        }
        rd_kafka_destroy(rk);
        return n;
}

/* Set between a "down" and its "up" (a "pause" and its "resume") in this
 * test's process. */
static bool broker_down, broker_paused;

int nt_test_kafka_local(const char *arg)
{
        const char *src = getenv("NT_SOURCE_DIR");
        char cmd[1024];
        int status;

        cr_assert_not_null(src, "NT_SOURCE_DIR is not set: run through ctest");
        snprintf(cmd, sizeof(cmd), "'%s/scripts/kafka-local' %s >&2", src, arg);
        status = system(cmd);
        status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        if (status == 0 && !strcmp(arg, "down"))
                broker_down = true;
        else if (status == 0 && !strcmp(arg, "up"))
                broker_down = false;
        else if (status == 0 && !strcmp(arg, "pause"))
                broker_paused = true;
        else if (status == 0 && !strcmp(arg, "resume"))
                broker_paused = false;
        return status;
}

void nt_test_kafka_restore(void)
{
        if (broker_paused)
                (void)nt_test_kafka_local("resume");
        if (broker_down)
                (void)nt_test_kafka_local("up");
}

void nt_test_make_topics(const char *bootstrap, const char *const *topics,
                         size_t n, int partitions)
{
        nt_test_make_topics_retention(bootstrap, topics, n, partitions, "-1");
}

void nt_test_make_topics_retention(const char *bootstrap,
                                   const char *const *topics, size_t n,
                                   int partitions, const char *retention_ms)
{
        nt_test_make_topics_config(bootstrap, topics, n, partitions,
                                   retention_ms, NULL, NULL);
}

void nt_test_make_topics_config(const char *bootstrap,
                                const char *const *topics, size_t n,
                                int partitions, const char *retention_ms,
                                const char *key, const char *value)
{
        const char *props[] = {"bootstrap.servers", bootstrap, NULL};
        char errstr[512];
        rd_kafka_t *rk = nt_kafka_producer_new(NULL, props, NULL, NULL, errstr,
                                               sizeof(errstr));
        rd_kafka_NewTopic_t *nt[8];
        rd_kafka_queue_t *q;
        rd_kafka_event_t *ev;
        const rd_kafka_topic_result_t **res;
        size_t i, n_res;

        cr_assert_not_null(rk, "%s", errstr);
        cr_assert(n <= 8);
        for (i = 0; i < n; i++) {
                nt[i] = rd_kafka_NewTopic_new(topics[i], partitions, 1, errstr,
                                              sizeof(errstr));
                cr_assert_not_null(nt[i], "%s", errstr);
                cr_assert_eq(rd_kafka_NewTopic_set_config(nt[i], "retention.ms",
                                                          retention_ms),
                             0);
                if (key)
                        cr_assert_eq(
                            rd_kafka_NewTopic_set_config(nt[i], key, value), 0);
        }
        q = rd_kafka_queue_new(rk);
        rd_kafka_CreateTopics(rk, nt, n, NULL, q);
        ev = rd_kafka_queue_poll(q, 30000);
        cr_assert_not_null(ev, "CreateTopics timed out");
        cr_assert_eq(rd_kafka_event_error(ev), 0, "%s",
                     rd_kafka_event_error_string(ev));
        res = rd_kafka_CreateTopics_result_topics(
            rd_kafka_event_CreateTopics_result(ev), &n_res);
        for (i = 0; i < n_res; i++)
                cr_assert_eq(rd_kafka_topic_result_error(res[i]), 0, "%s: %s",
                             rd_kafka_topic_result_name(res[i]),
                             rd_kafka_topic_result_error_string(res[i]));
        rd_kafka_event_destroy(ev);
        rd_kafka_queue_destroy(q);
        for (i = 0; i < n; i++)
                rd_kafka_NewTopic_destroy(nt[i]);
        rd_kafka_destroy(rk);
}
