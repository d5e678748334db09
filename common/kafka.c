#include "common/kafka.h"
#include "common/err.h"
#include "common/log.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

void nt_kafka_extra_default(const nt_config_t *cfg, const char **props,
                            size_t *n, const char *name, const char *value)
{
        if (json_object_get(nt_config_kafka(cfg), name))
                return;
        props[(*n)++] = name;
        props[(*n)++] = value;
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

rd_kafka_t *nt_kafka_txn_consumer_new(
    const nt_config_t *cfg, const char *group_key, const char *const *extra,
    void (*rebalance_cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque),
    int (*stats_cb)(rd_kafka_t *rk, char *json, size_t len, void *opaque),
    void *opaque, char *errstr, size_t errstr_size)
{
        static const char *const txn_props[] = {
            "enable.auto.commit",       "false",
            "enable.auto.offset.store", "false",
            "isolation.level",          "read_committed"};
        const char *props[32];
        rd_kafka_conf_t *conf;
        char rkerr[512];
        size_t n = 0, i;
        rd_kafka_t *rk;

        for (i = 0; i < sizeof(txn_props) / sizeof(txn_props[0]); i++)
                props[n++] = txn_props[i];
        for (i = 0; extra && extra[i]; i++) {
                if (n + 1 >= sizeof(props) / sizeof(props[0])) {
                        nt_errf(errstr, errstr_size, NT_ERR_INVALID,
                                "too many consumer properties");
                        return NULL;
                }
                props[n++] = extra[i];
        }
        props[n] = NULL;
        conf = nt_kafka_conf_new(cfg, props, errstr, errstr_size);
        if (!conf)
                return NULL;
        if (rd_kafka_conf_set(conf, "group.id", nt_config_str(cfg, group_key),
                              rkerr, sizeof(rkerr)) != RD_KAFKA_CONF_OK) {
                rd_kafka_conf_destroy(conf);
                nt_errf(errstr, errstr_size, NT_ERR_CONFIG, "%s: %s", group_key,
                        rkerr);
                return NULL;
        }
        rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
        if (stats_cb)
                rd_kafka_conf_set_stats_cb(conf, stats_cb);
        rd_kafka_conf_set_opaque(conf, opaque);
        rk = nt_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
        if (rk)
                rd_kafka_poll_set_consumer(rk);
        return rk;
}

int nt_kafka_subscribe_one(rd_kafka_t *rk, const char *topic, char *errstr,
                           size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *topics =
            rd_kafka_topic_partition_list_new(1);
        rd_kafka_resp_err_t err;

        rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
        err = rd_kafka_subscribe(rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (err)
                return nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                               "subscribing to %s: %s", topic,
                               rd_kafka_err2str(err));
        return NT_OK;
}

/* An admin request's options, with its timeout, and its result queue. */
struct admin_call {
        rd_kafka_AdminOptions_t *opts;
        rd_kafka_queue_t *q;
        int timeout_ms;
};

static int admin_begin(rd_kafka_t *rk, rd_kafka_admin_op_t op, int timeout_ms,
                       struct admin_call *ac, char *errstr, size_t errstr_size)
{
        char rkerr[512];

        ac->timeout_ms = timeout_ms;
        ac->opts = rd_kafka_AdminOptions_new(rk, op);
        ac->q = rd_kafka_queue_new(rk);
        if (!ac->opts || !ac->q)
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory");
        rd_kafka_AdminOptions_set_request_timeout(ac->opts, timeout_ms, rkerr,
                                                  sizeof(rkerr));
        return NT_OK;
}

/* The answer to the request (caller destroys it), or NULL with *err and
 * errstr set: no answer in time, or the request failed as a whole.
 * `what` opens the message ("creating topics"). */
static rd_kafka_event_t *admin_wait(struct admin_call *ac, const char *what,
                                    int *err, char *errstr, size_t errstr_size)
{
        rd_kafka_event_t *ev =
            rd_kafka_queue_poll(ac->q, ac->timeout_ms + 1000);

        if (!ev) {
                *err =
                    nt_errf(errstr, errstr_size, NT_ERR_TIMEOUT,
                            "%s: no answer within %d ms", what, ac->timeout_ms);
                return NULL;
        }
        if (rd_kafka_event_error(ev)) {
                *err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA, "%s: %s",
                               what, rd_kafka_event_error_string(ev));
                rd_kafka_event_destroy(ev);
                return NULL;
        }
        return ev;
}

static void admin_end(struct admin_call *ac)
{
        if (ac->q)
                rd_kafka_queue_destroy(ac->q);
        if (ac->opts)
                rd_kafka_AdminOptions_destroy(ac->opts);
}

int nt_kafka_topic_config(rd_kafka_t *rk, const char *topic, const char *name,
                          char *value, size_t size, int timeout_ms,
                          char *errstr, size_t errstr_size)
{
        struct admin_call ac = {0};
        rd_kafka_ConfigResource_t *res;
        rd_kafka_event_t *ev = NULL;
        const rd_kafka_DescribeConfigs_result_t *result;
        const rd_kafka_ConfigResource_t **rres;
        const rd_kafka_ConfigEntry_t **entries;
        char what[300];
        size_t i, n_res = 0, n_entries = 0;
        int err;

        snprintf(what, sizeof(what), "describing topic %s", topic);
        res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
        err = admin_begin(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms,
                          &ac, errstr, errstr_size);
        if (!err && !res)
                err =
                    nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
        if (err)
                goto out;
        rd_kafka_DescribeConfigs(rk, &res, 1, ac.opts, ac.q);
        ev = admin_wait(&ac, what, &err, errstr, errstr_size);
        if (!ev)
                goto out;
        result = rd_kafka_event_DescribeConfigs_result(ev);
        rres = rd_kafka_DescribeConfigs_result_resources(result, &n_res);
        if (n_res < 1) {
                err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                              "%s: no answer for it", what);
                goto out;
        }
        if (rd_kafka_ConfigResource_error(rres[0])) {
                err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA, "%s: %s", what,
                              rd_kafka_ConfigResource_error_string(rres[0]));
                goto out;
        }
        err = NT_ERR_NOTFOUND;
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
        admin_end(&ac);
        if (res)
                rd_kafka_ConfigResource_destroy(res);
        return err;
}

int nt_kafka_create_topics(rd_kafka_t *rk, const char *const *topics,
                           size_t count, int partitions, int timeout_ms,
                           char *errstr, size_t errstr_size)
{
        return nt_kafka_create_topics_config(rk, topics, count, partitions,
                                             NULL, timeout_ms, errstr,
                                             errstr_size);
}

int nt_kafka_create_topics_config(rd_kafka_t *rk, const char *const *topics,
                                  size_t count, int partitions,
                                  const char *const *config, int timeout_ms,
                                  char *errstr, size_t errstr_size)
{
        struct admin_call ac = {0};
        rd_kafka_NewTopic_t **nt = NULL;
        rd_kafka_event_t *ev = NULL;
        const rd_kafka_CreateTopics_result_t *res;
        const rd_kafka_topic_result_t **tres;
        char rkerr[512];
        size_t i, n, c;
        int err;

        if (count == 0)
                return NT_OK;
        nt = calloc(count, sizeof(*nt));
        err = admin_begin(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms, &ac,
                          errstr, errstr_size);
        if (!err && !nt)
                err =
                    nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
        if (err)
                goto out;
        for (i = 0; i < count; i++) {
                /* -1: the broker's default.replication.factor. */
                nt[i] = rd_kafka_NewTopic_new(topics[i], partitions, -1, rkerr,
                                              sizeof(rkerr));
                if (!nt[i]) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_INVALID,
                                      "topic %s: %s", topics[i], rkerr);
                        goto out;
                }
                for (c = 0; config && config[c] && config[c + 1]; c += 2) {
                        if (rd_kafka_NewTopic_set_config(nt[i], config[c],
                                                         config[c + 1]) ==
                            RD_KAFKA_RESP_ERR_NO_ERROR)
                                continue;
                        err = nt_errf(errstr, errstr_size, NT_ERR_INVALID,
                                      "topic %s: cannot set %s", topics[i],
                                      config[c]);
                        goto out;
                }
        }
        rd_kafka_CreateTopics(rk, nt, count, ac.opts, ac.q);
        ev = admin_wait(&ac, "creating topics", &err, errstr, errstr_size);
        if (!ev)
                goto out;
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
        admin_end(&ac);
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

static int64_t mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int left_ms(int64_t deadline)
{
        int64_t left = deadline - mono_ms();

        return left > 0 ? (int)(left > INT32_MAX ? INT32_MAX : left) : 0;
}

/* The partition count of `topic`, waiting while a topic created a moment
 * ago has no leaders yet. The metadata of every topic is asked for, not
 * of this one: a request naming a topic makes a broker with
 * auto.create.topics.enable create it (with the broker's defaults, not
 * compacted) when the client is a producer, and the question is whether
 * it exists. */
static int partition_count(rd_kafka_t *rk, const char *topic, int64_t deadline,
                           int *count, char *errstr, size_t errstr_size)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t rerr;
        int err = NT_ERR_TIMEOUT, i;

        do {
                const struct rd_kafka_metadata_topic *mt = NULL;

                rerr = rd_kafka_metadata(rk, 1, NULL, &md, left_ms(deadline));
                if (rerr) {
                        nt_errf(errstr, errstr_size, NT_ERR_TIMEOUT,
                                "metadata of topic %s: %s", topic,
                                rd_kafka_err2str(rerr));
                        continue;
                }
                for (i = 0; i < md->topic_cnt && !mt; i++)
                        if (strcmp(md->topics[i].topic, topic) == 0)
                                mt = &md->topics[i];
                rerr = mt ? mt->err : RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
                if (rerr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                    rerr == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_NOTFOUND,
                                      "topic %s does not exist", topic);
                } else if (rerr == RD_KAFKA_RESP_ERR_NO_ERROR &&
                           mt->partition_cnt > 0) {
                        *count = mt->partition_cnt;
                        err = NT_OK;
                } else if (rerr != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE &&
                           rerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                                      "metadata of topic %s: %s", topic,
                                      rd_kafka_err2str(rerr));
                } else {
                        nt_errf(errstr, errstr_size, NT_ERR_TIMEOUT,
                                "topic %s: no partition leaders", topic);
                }
                rd_kafka_metadata_destroy(md);
                md = NULL;
        } while (err == NT_ERR_TIMEOUT && left_ms(deadline) > 0);
        return err;
}

int nt_kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms,
                             int *count, char *errstr, size_t errstr_size)
{
        return partition_count(rk, topic, mono_ms() + timeout_ms, count, errstr,
                               errstr_size);
}

int nt_kafka_read_to_end(const nt_config_t *cfg, const char *const *extra,
                         const char *topic, nt_kafka_read_cb *cb, void *opaque,
                         int timeout_ms, char *errstr, size_t errstr_size)
{
        return nt_kafka_read_to_end_parts(cfg, extra, topic, NULL, 0, cb,
                                          opaque, timeout_ms, errstr,
                                          errstr_size);
}

int nt_kafka_read_to_end_parts(const nt_config_t *cfg, const char *const *extra,
                               const char *topic, const int32_t *want,
                               size_t n_want, nt_kafka_read_cb *cb,
                               void *opaque, int timeout_ms, char *errstr,
                               size_t errstr_size)
{
        /* Partition EOF events say where a partition ends when its last
         * offsets are transaction markers or compacted away. */
        static const char *const own[] = {"enable.partition.eof",
                                          "true",
                                          "enable.auto.commit",
                                          "false",
                                          "auto.offset.reset",
                                          "earliest",
                                          "isolation.level",
                                          "read_committed",
                                          NULL};
        int64_t deadline = mono_ms() + timeout_ms;
        rd_kafka_topic_partition_list_t *parts = NULL;
        const char **props = NULL;
        int64_t *ends = NULL, lo, hi;
        size_t n_own = sizeof(own) / sizeof(own[0]) - 1, n_extra = 0, i;
        rd_kafka_t *rk = NULL;
        int n_parts = 0, pending = 0, p, err;

        while (extra && extra[n_extra])
                n_extra++;
        props = calloc(n_own + n_extra + 1, sizeof(*props));
        if (!props)
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory");
        for (i = 0; i < n_own; i++)
                props[i] = own[i];
        for (i = 0; i < n_extra; i++)
                props[n_own + i] = extra[i];
        /* librdkafka 2.0.2 wants a group.id even for assign(); this one
         * is never joined and nothing is committed under it. */
        rk = nt_kafka_consumer_new(cfg, "newstap-read-to-end", props, errstr,
                                   errstr_size);
        if (!rk) {
                err = NT_ERR_KAFKA;
                goto out;
        }
        err =
            partition_count(rk, topic, deadline, &n_parts, errstr, errstr_size);
        if (err)
                goto out;
        ends = calloc((size_t)n_parts, sizeof(*ends));
        parts = rd_kafka_topic_partition_list_new(n_parts);
        if (!ends || !parts) {
                err =
                    nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                goto out;
        }
        /* -1 marks a partition not read (left out, or read to its end);
         * -2 one still to be looked at. */
        for (p = 0; p < n_parts; p++)
                ends[p] = n_want == 0 ? -2 : -1;
        for (i = 0; i < n_want; i++) {
                if (want[i] < 0 || want[i] >= n_parts) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_INVALID,
                                      "topic %s has %d partition(s): there is "
                                      "no partition %d",
                                      topic, n_parts, (int)want[i]);
                        goto out;
                }
                ends[want[i]] = -2;
        }
        for (p = 0; p < n_parts; p++) {
                rd_kafka_resp_err_t rerr;

                if (ends[p] != -2)
                        continue;
                rerr = rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi,
                                                        left_ms(deadline));
                if (rerr) {
                        err = nt_errf(
                            errstr, errstr_size,
                            rerr == RD_KAFKA_RESP_ERR__TIMED_OUT
                                ? NT_ERR_TIMEOUT
                                : NT_ERR_KAFKA,
                            "topic %s [%d]: cannot read its offsets: %s", topic,
                            p, rd_kafka_err2str(rerr));
                        goto out;
                }
                ends[p] = hi > lo ? hi : -1;
                if (hi > lo) {
                        rd_kafka_topic_partition_list_add(parts, topic, p)
                            ->offset = RD_KAFKA_OFFSET_BEGINNING;
                        pending++;
                }
        }
        if (pending > 0 && rd_kafka_assign(rk, parts)) {
                err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                              "topic %s: cannot assign its partitions", topic);
                goto out;
        }
        while (pending > 0) {
                rd_kafka_message_t *rkm;
                int32_t part;

                if (left_ms(deadline) == 0) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_TIMEOUT,
                                      "topic %s: %d partition(s) not read to "
                                      "the end within %d ms",
                                      topic, pending, timeout_ms);
                        goto out;
                }
                rkm = rd_kafka_consumer_poll(
                    rk, left_ms(deadline) < 100 ? left_ms(deadline) : 100);
                if (!rkm)
                        continue;
                part = rkm->partition;
                if (rkm->err && rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        /* Transport errors are retried by librdkafka;
                         * only a topic that went away ends the read. */
                        bool fatal =
                            rkm->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                            rkm->err ==
                                RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                            rkm->err ==
                                RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED;

                        if (fatal)
                                err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                                              "reading topic %s: %s", topic,
                                              rd_kafka_message_errstr(rkm));
                        rd_kafka_message_destroy(rkm);
                        if (fatal)
                                goto out;
                        continue;
                }
                if (part < 0 || part >= n_parts || ends[part] < 0) {
                        rd_kafka_message_destroy(rkm);
                        continue;
                }
                if (!rkm->err && rkm->offset < ends[part])
                        err = cb(rkm, opaque);
                if (rkm->err || rkm->offset >= ends[part] - 1) {
                        ends[part] = -1;
                        pending--;
                }
                rd_kafka_message_destroy(rkm);
                if (err)
                        goto out;
        }
out:
        if (parts)
                rd_kafka_topic_partition_list_destroy(parts);
        if (rk)
                rd_kafka_destroy(rk);
        free(ends);
        free(props);
        return err;
}

int nt_kafka_topic_config_wait(rd_kafka_t *rk, const char *topic,
                               const char *name, char *value, size_t size,
                               int timeout_ms, char *errstr, size_t errstr_size)
{
        const struct timespec pause = {0, 200 * 1000 * 1000};
        int64_t deadline = mono_ms() + timeout_ms;
        int err;

        /* A topic created a moment ago may be unknown to the broker that
         * answers DescribeConfigs until the metadata reaches it. */
        for (;;) {
                int left = left_ms(deadline);

                err = nt_kafka_topic_config(rk, topic, name, value, size,
                                            left > 1000 ? left : 1000, errstr,
                                            errstr_size);
                if (err != NT_ERR_KAFKA || mono_ms() + 200 >= deadline)
                        return err;
                nanosleep(&pause, NULL);
        }
}

void nt_kafka_log_skipped(const char *component, const char *what,
                          const rd_kafka_message_t *rkm, const char *reason)
{
        const char *topic = rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "?";
        char part[16], off[24];
        const char *fields[] = {"topic", topic,    "partition", part, "offset",
                                off,     "reason", reason,      NULL};

        snprintf(part, sizeof(part), "%d", (int)rkm->partition);
        snprintf(off, sizeof(off), "%lld", (long long)rkm->offset);
        nt_log_kv(NT_LOG_WARN, component, fields,
                  "%s %s [%d] at offset %lld: %s; record skipped", what, topic,
                  (int)rkm->partition, (long long)rkm->offset, reason);
}

/* A partition's seek error: rd_kafka_seek_partitions() leaves
 * __IN_PROGRESS on those it stopped waiting for when it timed out, and
 * sets none when it failed before seeking any (bad arguments, a
 * producer handle), so the call's error stands for them. */
static rd_kafka_resp_err_t seek_error(const rd_kafka_topic_partition_t *p,
                                      const rd_kafka_error_t *error)
{
        rd_kafka_resp_err_t code =
            error ? rd_kafka_error_code(error) : RD_KAFKA_RESP_ERR_NO_ERROR;

        if (code && code != RD_KAFKA_RESP_ERR__TIMED_OUT)
                return code;
        if (p->err == RD_KAFKA_RESP_ERR__IN_PROGRESS && code)
                return code;
        return p->err;
}

size_t nt_kafka_seek_failures(const rd_kafka_topic_partition_list_t *parts,
                              const rd_kafka_error_t *error,
                              const rd_kafka_topic_partition_list_t *assigned,
                              const char *component, char *errstr,
                              size_t errstr_size)
{
        size_t n = 0;
        int i;

        for (i = 0; i < parts->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &parts->elems[i];
                rd_kafka_resp_err_t err = seek_error(p, error);
                const char *why;

                if (!err)
                        continue;
                if (assigned && !rd_kafka_topic_partition_list_find(
                                    assigned, p->topic, p->partition)) {
                        NT_DEBUG(component,
                                 "not seeking %s [%d]: no longer assigned",
                                 p->topic, (int)p->partition);
                        continue;
                }
                why = error && err == rd_kafka_error_code(error)
                          ? rd_kafka_error_string(error)
                          : rd_kafka_err2str(err);
                NT_ERROR(component, "seeking %s [%d] to offset %lld: %s",
                         p->topic, (int)p->partition, (long long)p->offset,
                         why);
                if (n++ == 0)
                        nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                                "seeking %s [%d] to offset %lld: %s", p->topic,
                                (int)p->partition, (long long)p->offset, why);
        }
        return n;
}

int nt_kafka_seek(rd_kafka_t *consumer, rd_kafka_topic_partition_list_t *parts,
                  int timeout_ms, const char *component, char *errstr,
                  size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *assigned = NULL;
        rd_kafka_error_t *error;
        rd_kafka_resp_err_t err;
        size_t n;

        if (parts->cnt == 0)
                return NT_OK;
        error = rd_kafka_seek_partitions(consumer, parts, timeout_ms);
        /* The assignment changes only in the rebalance callback, which
         * the caller's polls serve: it says which of the partitions were
         * revoked since their inputs were read. Without it every failure
         * counts. */
        err = rd_kafka_assignment(consumer, &assigned);
        if (err) {
                NT_WARN(component, "reading the assignment: %s",
                        rd_kafka_err2str(err));
                assigned = NULL;
        }
        n = nt_kafka_seek_failures(parts, error, assigned, component, errstr,
                                   errstr_size);
        if (assigned)
                rd_kafka_topic_partition_list_destroy(assigned);
        if (error)
                rd_kafka_error_destroy(error);
        return n ? NT_ERR_KAFKA : NT_OK;
}

/* One record's outcome, set by its delivery report. */
struct outcome {
        bool done;
        rd_kafka_resp_err_t err;
};

static void confirm_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                          void *opaque)
{
        struct outcome *o = rkm->_private;

        (void)rk;
        (void)opaque;
        if (!o)
                return;
        o->done = true;
        o->err = rkm->err;
}

rd_kafka_t *nt_kafka_confirmed_producer_new(const nt_config_t *cfg,
                                            char *errstr, size_t errstr_size)
{
        static const char *const props[] = {"enable.idempotence", "true",
                                            "acks", "all", NULL};

        return nt_kafka_producer_new(cfg, props, confirm_dr_cb, NULL, errstr,
                                     errstr_size);
}

/* One record for write_records(). */
struct record {
        const char *key;   /* text */
        const void *value; /* NULL: a tombstone */
        size_t len;
        int32_t partition; /* RD_KAFKA_PARTITION_UA: the partitioner's */
};

/* nt_kafka_write_confirmed() once the values are made. */
static int write_records(rd_kafka_t *rk, const char *topic, const char *schema,
                         const struct record *recs, size_t n, int timeout_ms,
                         char *errstr, size_t errstr_size)
{
        struct outcome *out = calloc(n ? n : 1, sizeof(*out));
        size_t i;
        int err = NT_OK;

        if (!out)
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory");
        for (i = 0; i < n && err == NT_OK; i++) {
                rd_kafka_resp_err_t rerr = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic),
                    RD_KAFKA_V_PARTITION(recs[i].partition),
                    RD_KAFKA_V_KEY(recs[i].key, strlen(recs[i].key)),
                    RD_KAFKA_V_VALUE((void *)recs[i].value,
                                     recs[i].value ? recs[i].len : 0),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_HEADER("content-type", "application/json", -1),
                    RD_KAFKA_V_HEADER("schema", schema, -1),
                    RD_KAFKA_V_OPAQUE(&out[i]), RD_KAFKA_V_END);

                if (rerr)
                        err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                                      "writing %s to %s: %s", recs[i].key,
                                      topic, rd_kafka_err2str(rerr));
        }
        /* Flushed also after a failure, so that no delivery report is
         * left pointing at `out`. */
        if (nt_kafka_flush(rk, timeout_ms, errstr, errstr_size) != NT_OK &&
            err == NT_OK)
                err = NT_ERR_TIMEOUT;
        for (i = 0; i < n && err == NT_OK; i++) {
                if (!out[i].done)
                        err = nt_errf(errstr, errstr_size, NT_ERR_TIMEOUT,
                                      "writing %s to %s: not confirmed",
                                      recs[i].key, topic);
                else if (out[i].err)
                        err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                                      "writing %s to %s: %s", recs[i].key,
                                      topic, rd_kafka_err2str(out[i].err));
        }
        if (rd_kafka_outq_len(rk) == 0)
                free(out);
        /* else: librdkafka still holds reports that point into `out`;
         * the caller destroys the client next, which purges them, and
         * the few bytes are the price of not reading freed memory. */
        return err;
}

int nt_kafka_write_confirmed(rd_kafka_t *rk, const char *topic,
                             const char *schema, const char *const *keys,
                             const int32_t *partitions, size_t n,
                             nt_kafka_value_fn make_value, void *ctx,
                             int timeout_ms, char *errstr, size_t errstr_size)
{
        struct record *recs = calloc(n ? n : 1, sizeof(*recs));
        size_t i;
        int err = NT_OK;

        if (!recs)
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory");
        for (i = 0; i < n && err == NT_OK; i++) {
                char *value = NULL;

                recs[i].key = keys[i];
                recs[i].partition =
                    partitions ? partitions[i] : RD_KAFKA_PARTITION_UA;
                err = make_value(ctx, i, &value, &recs[i].len, errstr,
                                 errstr_size);
                recs[i].value = value;
        }
        if (err == NT_OK)
                err = write_records(rk, topic, schema, recs, n, timeout_ms,
                                    errstr, errstr_size);
        for (i = 0; i < n; i++)
                free((void *)recs[i].value);
        free(recs);
        return err;
}

int nt_kafka_ensure_compacted(rd_kafka_t *rk, const char *topic, int partitions,
                              const char *why, int timeout_ms, char *errstr,
                              size_t errstr_size)
{
        static const char *const compact[] = {"cleanup.policy", "compact",
                                              NULL};
        const char *topics[] = {topic};
        char policy[64];
        int err;

        err = nt_kafka_create_topics_config(rk, topics, 1, partitions, compact,
                                            timeout_ms, errstr, errstr_size);
        if (err)
                return err;
        err = nt_kafka_topic_config_wait(rk, topic, "cleanup.policy", policy,
                                         sizeof(policy), timeout_ms, errstr,
                                         errstr_size);
        if (err)
                return err;
        if (strcmp(policy, "compact") != 0)
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "topic %s has cleanup.policy=%s: %s needs a "
                               "compacted topic (cleanup.policy=compact), or "
                               "retention deletes %s",
                               topic, policy, why, why);
        return NT_OK;
}
