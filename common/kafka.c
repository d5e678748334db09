#include "common/kafka.h"
#include "common/err.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nt_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                     const char *buf)
{
        enum nt_log_level lvl;

        (void)rk;
        /* librdkafka uses syslog levels: 0..3 are errors, 4 warnings, 5..6
         * notices and info, 7 debug. */
        if (level <= 3)
                lvl = NT_LOG_ERROR;
        else if (level == 4)
                lvl = NT_LOG_WARN;
        else if (level <= 6)
                lvl = NT_LOG_INFO;
        else
                lvl = NT_LOG_DEBUG;
        nt_log(lvl, "rdkafka", "%s: %s", fac, buf);
}

rd_kafka_conf_t *nt_kafka_conf_new(const nt_config_t *cfg,
                                   const char *const *extra, char *errstr,
                                   size_t errstr_size)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char rkerr[512];
        const char *name;
        json_t *v;
        size_t i;

        if (!conf) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                return NULL;
        }
        rd_kafka_conf_set_log_cb(conf, nt_kafka_log_cb);
        if (cfg) {
                json_object_foreach(nt_config_kafka(cfg), name, v)
                {
                        if (rd_kafka_conf_set(conf, name, json_string_value(v),
                                              rkerr, sizeof(rkerr)) !=
                            RD_KAFKA_CONF_OK) {
                                nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                                        "kafka.%s: %s", name, rkerr);
                                goto fail;
                        }
                }
        }
        for (i = 0; extra && extra[i] && extra[i + 1]; i += 2) {
                if (rd_kafka_conf_set(conf, extra[i], extra[i + 1], rkerr,
                                      sizeof(rkerr)) != RD_KAFKA_CONF_OK) {
                        nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                                "kafka.%s: %s", extra[i], rkerr);
                        goto fail;
                }
        }
        return conf;
fail:
        rd_kafka_conf_destroy(conf);
        return NULL;
}

rd_kafka_t *nt_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                         char *errstr, size_t errstr_size)
{
        char rkerr[512];
        rd_kafka_t *rk;

        rk = rd_kafka_new(type, conf, rkerr, sizeof(rkerr));
        if (!rk) {
                /* rd_kafka_new() takes conf only on success. */
                rd_kafka_conf_destroy(conf);
                nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                        "cannot create Kafka %s: %s",
                        type == RD_KAFKA_PRODUCER ? "producer" : "consumer",
                        rkerr);
        }
        return rk;
}

rd_kafka_t *nt_kafka_producer_new_with_stats(
    const nt_config_t *cfg, const char *const *extra, nt_kafka_dr_cb *dr_cb,
    int (*stats_cb)(rd_kafka_t *rk, char *json, size_t len, void *opaque),
    void *opaque, char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *conf =
            nt_kafka_conf_new(cfg, extra, errstr, errstr_size);

        if (!conf)
                return NULL;
        if (dr_cb)
                rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        if (stats_cb)
                rd_kafka_conf_set_stats_cb(conf, stats_cb);
        rd_kafka_conf_set_opaque(conf, opaque);
        return nt_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
}

rd_kafka_t *nt_kafka_producer_new(const nt_config_t *cfg,
                                  const char *const *extra,
                                  nt_kafka_dr_cb *dr_cb, void *opaque,
                                  char *errstr, size_t errstr_size)
{
        return nt_kafka_producer_new_with_stats(cfg, extra, dr_cb, NULL, opaque,
                                                errstr, errstr_size);
}

rd_kafka_t *nt_kafka_consumer_new(const nt_config_t *cfg, const char *group_id,
                                  const char *const *extra, char *errstr,
                                  size_t errstr_size)
{
        rd_kafka_conf_t *conf =
            nt_kafka_conf_new(cfg, extra, errstr, errstr_size);
        char rkerr[512];
        rd_kafka_t *rk;

        if (!conf)
                return NULL;
        if (group_id && rd_kafka_conf_set(conf, "group.id", group_id, rkerr,
                                          sizeof(rkerr)) != RD_KAFKA_CONF_OK) {
                rd_kafka_conf_destroy(conf);
                nt_errf(errstr, errstr_size, NT_ERR_CONFIG, "group.id: %s",
                        rkerr);
                return NULL;
        }
        rk = nt_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
        if (rk)
                rd_kafka_poll_set_consumer(rk);
        return rk;
}

int nt_kafka_topic_config(rd_kafka_t *rk, const char *topic, const char *name,
                          char *value, size_t size, int timeout_ms,
                          char *errstr, size_t errstr_size)
{
        rd_kafka_ConfigResource_t *res;
        rd_kafka_AdminOptions_t *opts;
        rd_kafka_queue_t *q;
        rd_kafka_event_t *ev = NULL;
        const rd_kafka_DescribeConfigs_result_t *result;
        const rd_kafka_ConfigResource_t **rres;
        const rd_kafka_ConfigEntry_t **entries;
        char rkerr[512];
        size_t i, n_res = 0, n_entries = 0;
        int err = NT_ERR_NOTFOUND;

        res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
        opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
        q = rd_kafka_queue_new(rk);
        if (!res || !opts || !q) {
                err =
                    nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                goto out;
        }
        rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, rkerr,
                                                  sizeof(rkerr));
        rd_kafka_DescribeConfigs(rk, &res, 1, opts, q);
        ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
        if (!ev) {
                err = nt_errf(errstr, errstr_size, NT_ERR_TIMEOUT,
                              "describing topic %s: no answer within %d ms",
                              topic, timeout_ms);
                goto out;
        }
        if (rd_kafka_event_error(ev)) {
                err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                              "describing topic %s: %s", topic,
                              rd_kafka_event_error_string(ev));
                goto out;
        }
        result = rd_kafka_event_DescribeConfigs_result(ev);
        rres = rd_kafka_DescribeConfigs_result_resources(result, &n_res);
        if (n_res < 1) {
                err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                              "describing topic %s: no answer for it", topic);
                goto out;
        }
        if (rd_kafka_ConfigResource_error(rres[0])) {
                err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                              "describing topic %s: %s", topic,
                              rd_kafka_ConfigResource_error_string(rres[0]));
                goto out;
        }
        entries = rd_kafka_ConfigResource_configs(rres[0], &n_entries);
        for (i = 0; i < n_entries; i++) {
                const char *v = rd_kafka_ConfigEntry_value(entries[i]);

                if (strcmp(rd_kafka_ConfigEntry_name(entries[i]), name) != 0)
                        continue;
                snprintf(value, size, "%s", v ? v : "");
                err = NT_OK;
                break;
        }
        if (err == NT_ERR_NOTFOUND)
                nt_errf(errstr, errstr_size, err, "topic %s: no %s listed",
                        topic, name);
out:
        if (ev)
                rd_kafka_event_destroy(ev);
        if (q)
                rd_kafka_queue_destroy(q);
        if (opts)
                rd_kafka_AdminOptions_destroy(opts);
        if (res)
                rd_kafka_ConfigResource_destroy(res);
        return err;
}

int nt_kafka_create_topics(rd_kafka_t *rk, const char *const *topics,
                           size_t count, int partitions, int timeout_ms,
                           char *errstr, size_t errstr_size)
{
        rd_kafka_NewTopic_t **nt = NULL;
        rd_kafka_AdminOptions_t *opts = NULL;
        rd_kafka_queue_t *q = NULL;
        rd_kafka_event_t *ev = NULL;
        const rd_kafka_CreateTopics_result_t *res;
        const rd_kafka_topic_result_t **tres;
        char rkerr[512];
        size_t i, n;
        int err = NT_OK;

        if (count == 0)
                return NT_OK;
        nt = calloc(count, sizeof(*nt));
        q = rd_kafka_queue_new(rk);
        opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        if (!nt || !q || !opts) {
                err =
                    nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                goto out;
        }
        rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, rkerr,
                                                  sizeof(rkerr));
        for (i = 0; i < count; i++) {
                /* -1: the broker's default.replication.factor. */
                nt[i] = rd_kafka_NewTopic_new(topics[i], partitions, -1, rkerr,
                                              sizeof(rkerr));
                if (!nt[i]) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_INVALID,
                                      "topic %s: %s", topics[i], rkerr);
                        goto out;
                }
        }
        rd_kafka_CreateTopics(rk, nt, count, opts, q);
        ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
        if (!ev) {
                err = nt_errf(errstr, errstr_size, NT_ERR_TIMEOUT,
                              "creating topics: no answer within %d ms",
                              timeout_ms);
                goto out;
        }
        if (rd_kafka_event_error(ev)) {
                err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                              "creating topics: %s",
                              rd_kafka_event_error_string(ev));
                goto out;
        }
        res = rd_kafka_event_CreateTopics_result(ev);
        tres = rd_kafka_CreateTopics_result_topics(res, &n);
        for (i = 0; i < n; i++) {
                rd_kafka_resp_err_t terr = rd_kafka_topic_result_error(tres[i]);
                if (terr && terr != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                        err = nt_errf(
                            errstr, errstr_size,
                            terr == RD_KAFKA_RESP_ERR__TIMED_OUT
                                ? NT_ERR_TIMEOUT
                                : NT_ERR_KAFKA,
                            "creating topic %s: %s",
                            rd_kafka_topic_result_name(tres[i]),
                            rd_kafka_topic_result_error_string(tres[i]));
                        goto out;
                }
        }
out:
        if (ev)
                rd_kafka_event_destroy(ev);
        if (nt) {
                for (i = 0; i < count; i++)
                        if (nt[i])
                                rd_kafka_NewTopic_destroy(nt[i]);
                free(nt);
        }
        if (opts)
                rd_kafka_AdminOptions_destroy(opts);
        if (q)
                rd_kafka_queue_destroy(q);
        return err;
}

/* A partition's lag. librdkafka's consumer_lag is measured from the
 * consumer's own committed offset, which offsets committed inside a
 * producer's transaction never update; then the lag is taken from the
 * offset stored for the next commit, or from the last position handed to
 * the application, against the last stable offset (read_committed). */
static json_int_t partition_lag(json_t *p)
{
        json_int_t lag = json_integer_value(json_object_get(p, "consumer_lag"));
        json_int_t stored, app, ls;

        if (lag >= 0)
                return lag;
        stored = json_integer_value(json_object_get(p, "consumer_lag_stored"));
        if (json_object_get(p, "consumer_lag_stored") && stored >= 0)
                return stored;
        app = json_integer_value(json_object_get(p, "app_offset"));
        ls = json_integer_value(json_object_get(p, "ls_offset"));
        if (app >= 0 && ls >= 0)
                return ls > app ? ls - app : 0;
        return -1;
}

int nt_kafka_stats_parse(const char *json, size_t len,
                         struct nt_kafka_stats *out)
{
        json_error_t jerr;
        json_t *root = json_loadb(json, len, 0, &jerr), *brokers, *topics;
        const char *name, *tname;
        json_t *b, *t;
        int64_t rtt_sum = 0;

        memset(out, 0, sizeof(*out));
        out->consumer_lag = -1;
        if (!json_is_object(root)) {
                json_decref(root);
                return NT_ERR_PARSE;
        }
        out->msg_cnt = json_integer_value(json_object_get(root, "msg_cnt"));
        out->msg_size = json_integer_value(json_object_get(root, "msg_size"));
        out->tx = json_integer_value(json_object_get(root, "tx"));
        out->tx_bytes = json_integer_value(json_object_get(root, "tx_bytes"));
        out->rx = json_integer_value(json_object_get(root, "rx"));
        out->rx_bytes = json_integer_value(json_object_get(root, "rx_bytes"));
        brokers = json_object_get(root, "brokers");
        json_object_foreach(brokers, name, b)
        {
                const char *state;

                /* Bootstrap entries (nodeid -1) are not brokers. */
                if (json_integer_value(json_object_get(b, "nodeid")) < 0)
                        continue;
                out->brokers++;
                out->tx_errs +=
                    json_integer_value(json_object_get(b, "txerrs"));
                out->rx_errs +=
                    json_integer_value(json_object_get(b, "rxerrs"));
                state = json_string_value(json_object_get(b, "state"));
                if (state && strcmp(state, "UP") == 0) {
                        out->brokers_up++;
                        rtt_sum += json_integer_value(
                            json_object_get(json_object_get(b, "rtt"), "avg"));
                }
        }
        if (out->brokers_up > 0)
                out->rtt_avg_us = rtt_sum / out->brokers_up;
        topics = json_object_get(root, "topics");
        json_object_foreach(topics, tname, t)
        {
                const char *pname;
                json_t *p;

                json_object_foreach(json_object_get(t, "partitions"), pname, p)
                {
                        json_int_t lag = partition_lag(p);
                        /* -1 means unknown; the internal partition -1
                         * is not a real one. */
                        if (strcmp(pname, "-1") == 0 || lag < 0)
                                continue;
                        if (out->consumer_lag < 0)
                                out->consumer_lag = 0;
                        out->consumer_lag += lag;
                }
        }
        json_decref(root);
        return NT_OK;
}

int nt_kafka_flush(rd_kafka_t *rk, int timeout_ms, char *errstr,
                   size_t errstr_size)
{
        int left;

        rd_kafka_flush(rk, timeout_ms);
        left = rd_kafka_outq_len(rk);
        if (left > 0)
                return nt_errf(errstr, errstr_size, NT_ERR_TIMEOUT,
                               "%d message(s) not delivered within %d ms", left,
                               timeout_ms);
        return NT_OK;
}
