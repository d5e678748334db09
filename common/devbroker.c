#include "common/devbroker.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/num.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nt_devbroker {
        rd_kafka_t *rk; /* hosts the mock cluster, which dies with it */
        rd_kafka_mock_cluster_t *mcluster; /* borrowed from rk */
};

nt_devbroker_t *nt_devbroker_new(int brokers, char *errstr, size_t errstr_size)
{
        nt_devbroker_t *db = NULL;
        rd_kafka_conf_t *conf;
        char count[16];
        const char *props[] = {"test.mock.num.brokers", count, NULL};

        if (brokers < 1 || brokers > 16) {
                nt_errf(errstr, errstr_size, NT_ERR_USAGE,
                        "broker count %d is outside 1..16", brokers);
                return NULL;
        }
        db = calloc(1, sizeof(*db));
        if (!db) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                return NULL;
        }
        /* The mock cluster lives inside a client handle: with
         * test.mock.num.brokers librdkafka starts it and points the
         * handle's own bootstrap list at it. */
        snprintf(count, sizeof(count), "%d", brokers);
        conf = nt_kafka_conf_new(NULL, props, errstr, errstr_size);
        if (!conf)
                goto fail;
        db->rk = nt_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
        if (!db->rk)
                goto fail;
        db->mcluster = rd_kafka_handle_mock_cluster(db->rk);
        if (!db->mcluster) {
                nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                        "librdkafka could not start the mock cluster");
                goto fail;
        }
        return db;
fail:
        nt_devbroker_destroy(db);
        return NULL;
}

void nt_devbroker_destroy(nt_devbroker_t *db)
{
        if (!db)
                return;
        if (db->rk)
                rd_kafka_destroy(db->rk);
        free(db);
}

const char *nt_devbroker_bootstraps(const nt_devbroker_t *db)
{
        return rd_kafka_mock_cluster_bootstraps(db->mcluster);
}

int nt_devbroker_create_topic(nt_devbroker_t *db, const char *topic,
                              int partitions, char *errstr, size_t errstr_size)
{
        rd_kafka_resp_err_t err;

        err = rd_kafka_mock_topic_create(db->mcluster, topic, partitions, 1);
        if (err)
                return nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                               "topic %s: %s", topic, rd_kafka_err2str(err));
        return NT_OK;
}

int nt_devbroker_parse_topic_spec(const char *spec, int def_partitions,
                                  char *name, size_t size, int *partitions)
{
        const char *colon = strrchr(spec, ':');
        size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
        int64_t p = def_partitions;

        if (n == 0 || n >= size || n > 249)
                return NT_ERR_INVALID;
        if (colon && nt_num_parse_i64(colon + 1, 1, 10000, &p) != NT_OK)
                return NT_ERR_INVALID;
        memcpy(name, spec, n);
        name[n] = '\0';
        *partitions = (int)p;
        return NT_OK;
}
