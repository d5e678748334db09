/* The Kafka helpers that need no broker: the default properties that
 * yield to the user's, the checked seek's decision
 * (which failed partitions count), and the seek itself on a consumer
 * that never reaches one. A seek of an assigned partition that fails
 * could not be provoked through librdkafka without a broker (nor with
 * its mock cluster's faults, which act on requests, not on seeks), so
 * the decision table covers that side. */
#include "common/config.h"
#include "common/err.h"
#include "common/kafka.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdbool.h>
#include <string.h>

/* A default of newstap's goes into the extra properties unless the
 * user's kafka properties (here as -X gives them) name it. */
Test(kafka, extra_default_yields_to_the_user)
{
        nt_config_t *cfg = nt_config_new();
        const char *props[8];
        char errstr[256];
        size_t n = 0;

        cr_assert_not_null(cfg);
        cr_assert_eq(nt_config_set_kafka_kv(cfg, "auto.offset.reset=latest",
                                            "-X", errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
        nt_kafka_extra_default(cfg, props, &n, "auto.offset.reset", "earliest");
        cr_assert_eq(n, 0, "the user's auto.offset.reset stays");
        nt_kafka_extra_default(cfg, props, &n, "statistics.interval.ms",
                               "1000");
        cr_assert_eq(n, 2, "statistics.interval.ms is not the user's");
        cr_assert_str_eq(props[0], "statistics.interval.ms");
        cr_assert_str_eq(props[1], "1000");
        nt_config_destroy(cfg);
}

/* One partition as rd_kafka_seek_partitions() left it: its own error,
 * the call's error (0: none) and whether it is still assigned. */
struct seek_case {
        char name[56];
        int part_err;
        int call_err;
        bool assigned;
        bool assignment_known;
        size_t want;
};

ParameterizedTestParameters(kafka, seek_failures)
{
        static struct seek_case cases[] = {
            {"moved", 0, 0, true, true, 0},
            {"revoked meanwhile (stopped)", RD_KAFKA_RESP_ERR__STATE, 0, false,
             true, 0},
            {"revoked meanwhile (stopping)",
             RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS, 0, false, true, 0},
            {"never known, not assigned", RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION,
             0, false, true, 0},
            {"assigned but stopped", RD_KAFKA_RESP_ERR__STATE, 0, true, true,
             1},
            {"assigned but unknown", RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, 0,
             true, true, 1},
            {"assigned, no answer in time", RD_KAFKA_RESP_ERR__IN_PROGRESS,
             RD_KAFKA_RESP_ERR__TIMED_OUT, true, true, 1},
            {"answered before the call timed out", 0,
             RD_KAFKA_RESP_ERR__TIMED_OUT, true, true, 0},
            {"no answer in time, revoked", RD_KAFKA_RESP_ERR__IN_PROGRESS,
             RD_KAFKA_RESP_ERR__TIMED_OUT, false, true, 0},
            {"call refused before any seek", 0, RD_KAFKA_RESP_ERR__INVALID_ARG,
             true, true, 1},
            {"client being destroyed", RD_KAFKA_RESP_ERR__IN_PROGRESS,
             RD_KAFKA_RESP_ERR__DESTROY, true, true, 1},
            {"assignment unknown: counts as assigned", RD_KAFKA_RESP_ERR__STATE,
             0, false, false, 1},
        };
        return cr_make_param_array(struct seek_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct seek_case *c, kafka, seek_failures)
{
        rd_kafka_topic_partition_list_t *parts =
            rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_t *assigned =
            rd_kafka_topic_partition_list_new(1);
        rd_kafka_error_t *error =
            c->call_err ? rd_kafka_error_new(c->call_err, "%s", c->name) : NULL;
        char errstr[256] = "";
        size_t n;

        rd_kafka_topic_partition_list_add(parts, "news.raw", 2)->offset = 41;
        parts->elems[0].err = c->part_err;
        if (c->assigned)
                rd_kafka_topic_partition_list_add(assigned, "news.raw", 2);
        rd_kafka_topic_partition_list_add(assigned, "news.raw", 3);
        n = nt_kafka_seek_failures(parts, error,
                                   c->assignment_known ? assigned : NULL,
                                   "test", errstr, sizeof(errstr));
        cr_assert_eq(n, c->want, "%s: %zu failure(s), want %zu", c->name, n,
                     c->want);
        if (c->want)
                cr_assert(strstr(errstr, "news.raw [2] to offset 41"),
                          "%s: errstr \"%s\" does not name the partition",
                          c->name, errstr);
        if (error)
                rd_kafka_error_destroy(error);
        rd_kafka_topic_partition_list_destroy(assigned);
        rd_kafka_topic_partition_list_destroy(parts);
}

Test(kafka, seek_failures_counts_each_partition)
{
        rd_kafka_topic_partition_list_t *parts =
            rd_kafka_topic_partition_list_new(3);
        rd_kafka_topic_partition_list_t *assigned =
            rd_kafka_topic_partition_list_new(2);
        char errstr[256] = "";

        rd_kafka_topic_partition_list_add(parts, "t", 0)->offset = 5;
        rd_kafka_topic_partition_list_add(parts, "t", 1)->err =
            RD_KAFKA_RESP_ERR__STATE;
        rd_kafka_topic_partition_list_add(parts, "t", 2)->err =
            RD_KAFKA_RESP_ERR__STATE;
        parts->elems[2].offset = 7;
        rd_kafka_topic_partition_list_add(assigned, "t", 0);
        rd_kafka_topic_partition_list_add(assigned, "t", 2);
        cr_assert_eq(nt_kafka_seek_failures(parts, NULL, assigned, "test",
                                            errstr, sizeof(errstr)),
                     1, "only the assigned partition 2 failed");
        cr_assert(strstr(errstr, "t [2] to offset 7"), "errstr: %s", errstr);
        rd_kafka_topic_partition_list_destroy(assigned);
        rd_kafka_topic_partition_list_destroy(parts);
}

/* A group consumer that never reaches a broker (nothing listens on
 * port 9 of 127.0.0.1): it knows no topic. */
static rd_kafka_t *lonely_consumer(void)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char errstr[256];
        rd_kafka_t *rk;

        cr_assert_eq(rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:9",
                                       errstr, sizeof(errstr)),
                     RD_KAFKA_CONF_OK, "%s", errstr);
        cr_assert_eq(rd_kafka_conf_set(conf, "group.id", "nt-test-seek", errstr,
                                       sizeof(errstr)),
                     RD_KAFKA_CONF_OK, "%s", errstr);
        cr_assert_eq(
            rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr)),
            RD_KAFKA_CONF_OK, "%s", errstr);
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        cr_assert(rk, "consumer: %s", errstr);
        return rk;
}

Test(kafka, seek_skips_a_partition_not_assigned)
{
        rd_kafka_t *rk = lonely_consumer();
        rd_kafka_topic_partition_list_t *parts =
            rd_kafka_topic_partition_list_new(1);
        char errstr[256] = "";

        rd_kafka_topic_partition_list_add(parts, "nt-test-seek", 0)->offset = 3;
        cr_assert_eq(
            nt_kafka_seek(rk, parts, 2000, "test", errstr, sizeof(errstr)),
            NT_OK, "a partition not assigned is skipped: %s", errstr);
        cr_assert_neq(parts->elems[0].err, RD_KAFKA_RESP_ERR_NO_ERROR,
                      "librdkafka did refuse the seek");
        rd_kafka_topic_partition_list_destroy(parts);
        rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}
