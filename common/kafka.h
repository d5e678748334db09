/* Kafka helpers over librdkafka: client construction from the
 * configuration (the kafka section passed through, librdkafka's log routed
 * to nt_log), topic creation, and a bounded flush for shutdown. */
#ifndef NT_KAFKA_H
#define NT_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

/* A librdkafka configuration from the config's kafka properties, then the
 * `extra` ones (NULL-terminated name, value, name, value, ...; may be
 * NULL) which override them. Logging goes through nt_log with component
 * "rdkafka". Caller owns the result: hand it to nt_kafka_new() or free it
 * with rd_kafka_conf_destroy(). NULL with errstr set on a rejected
 * property. */
rd_kafka_conf_t *nt_kafka_conf_new(const nt_config_t *cfg,
                                   const char *const *extra, char *errstr,
                                   size_t errstr_size);

/* Appends `name`, `value` to an `extra` list being built (at props[*n];
 * the caller keeps room for them and the final NULL) unless the
 * configuration's kafka properties (the file's kafka object, -X) set
 * `name`: a default of newstap's, which the user's own setting wins over
 * because `extra` would override it. */
void nt_kafka_extra_default(const nt_config_t *cfg, const char **props,
                            size_t *n, const char *name, const char *value);

/* Creates a client. Takes ownership of conf whether it succeeds or not. */
rd_kafka_t *nt_kafka_new(rd_kafka_type_t type, rd_kafka_conf_t *conf,
                         char *errstr, size_t errstr_size);

/* Delivery report callback, called from rd_kafka_poll()/flush() once per
 * message with its final outcome; `opaque` is the producer's opaque. */
typedef void(nt_kafka_dr_cb)(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                             void *opaque);

/* A producer from the configuration and `extra` properties (as for
 * nt_kafka_conf_new), with `dr_cb` (may be NULL) receiving every delivery
 * report and `opaque` handed to it. Caller frees with rd_kafka_destroy()
 * after a bounded nt_kafka_flush(). NULL with errstr set on failure. */
rd_kafka_t *nt_kafka_producer_new(const nt_config_t *cfg,
                                  const char *const *extra,
                                  nt_kafka_dr_cb *dr_cb, void *opaque,
                                  char *errstr, size_t errstr_size);

/* The same, with librdkafka's statistics callback set too (see
 * statistics.interval.ms); `stats_cb` gets `opaque`. */
rd_kafka_t *nt_kafka_producer_new_with_stats(
    const nt_config_t *cfg, const char *const *extra, nt_kafka_dr_cb *dr_cb,
    int (*stats_cb)(rd_kafka_t *rk, char *json, size_t len, void *opaque),
    void *opaque, char *errstr, size_t errstr_size);

/* A consumer in group `group_id` (NULL: no group; the caller assigns
 * partitions itself), from the configuration and `extra` properties, with
 * its main queue redirected to the consumer queue so that
 * rd_kafka_consumer_poll() serves everything. Caller closes it with
 * rd_kafka_consumer_close() (when in a group) and rd_kafka_destroy(). */
rd_kafka_t *nt_kafka_consumer_new(const nt_config_t *cfg, const char *group_id,
                                  const char *const *extra, char *errstr,
                                  size_t errstr_size);

/* The consumer of a loop that commits its offsets itself, with its Kafka
 * transactions (produce --group, classify; KIP-447) or after its outputs
 * are delivered (classify at-least-once): in the group named by the
 * configuration key `group_key` (which an error names), librdkafka
 * neither commits nor stores offsets, and records of aborted or open
 * transactions are never read (read_committed). `extra` (name, value,
 * ..., NULL) comes on top; `rebalance_cb` and `stats_cb` (may be NULL)
 * get `opaque`; the main queue is the consumer's, as in
 * nt_kafka_consumer_new(). */
rd_kafka_t *nt_kafka_txn_consumer_new(
    const nt_config_t *cfg, const char *group_key, const char *const *extra,
    void (*rebalance_cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque),
    int (*stats_cb)(rd_kafka_t *rk, char *json, size_t len, void *opaque),
    void *opaque, char *errstr, size_t errstr_size);

/* Subscribes the consumer rk to the one topic `topic` (the group assigns
 * its partitions). NT_ERR_KAFKA with errstr "subscribing to TOPIC: ..."
 * when librdkafka refuses. */
int nt_kafka_subscribe_one(rd_kafka_t *rk, const char *topic, char *errstr,
                           size_t errstr_size);

/* Creates the topics that do not exist yet, each with `partitions`
 * partitions and the broker's default replication. Topics that already
 * exist are fine. Waits at most timeout_ms. */
int nt_kafka_create_topics(rd_kafka_t *rk, const char *const *topics,
                           size_t count, int partitions, int timeout_ms,
                           char *errstr, size_t errstr_size);

/* The same with topic configuration entries for the new topics:
 * `config` is NULL or "name", "value", ..., NULL (e.g. "cleanup.policy",
 * "compact"). A topic that exists already keeps its own; check it with
 * nt_kafka_topic_config() where it matters. */
int nt_kafka_create_topics_config(rd_kafka_t *rk, const char *const *topics,
                                  size_t count, int partitions,
                                  const char *const *config, int timeout_ms,
                                  char *errstr, size_t errstr_size);

/* Called by nt_kafka_read_to_end() for every message read; a non-zero
 * return stops the read and is returned. The message is borrowed. */
typedef int(nt_kafka_read_cb)(const rd_kafka_message_t *rkm, void *opaque);

/* Reads a whole topic as it stands: every partition from its beginning
 * up to the end it had when the call began (its high watermark; with
 * read_committed, the end of what is committed), calling `cb` for each
 * message, each partition in offset order. Records written during the
 * read are left out. For compacted topics that hold a current view
 * (feeds, state): no consumer group is joined and no offset committed.
 * The client is built from the configuration's kafka section (cfg may be
 * NULL) and the `extra` properties (as for nt_kafka_conf_new()).
 * NT_OK; NT_ERR_NOTFOUND when the topic does not exist; NT_ERR_TIMEOUT
 * (retriable) when the end was not reached within timeout_ms; NT_ERR_KAFKA
 * on a client or broker error; or cb's own return. */
int nt_kafka_read_to_end(const nt_config_t *cfg, const char *const *extra,
                         const char *topic, nt_kafka_read_cb *cb, void *opaque,
                         int timeout_ms, char *errstr, size_t errstr_size);

/* The same for some partitions of the topic only: `parts` (n_parts of
 * them, each listed once; n_parts 0: every partition, as
 * nt_kafka_read_to_end()). NT_ERR_INVALID when the topic has no such
 * partition. */
int nt_kafka_read_to_end_parts(const nt_config_t *cfg, const char *const *extra,
                               const char *topic, const int32_t *parts,
                               size_t n_parts, nt_kafka_read_cb *cb,
                               void *opaque, int timeout_ms, char *errstr,
                               size_t errstr_size);

/* The partition count of an existing topic into *count, waiting while a
 * topic created a moment ago has no partition leaders yet. NT_OK;
 * NT_ERR_NOTFOUND when the topic does not exist (never creating it, even
 * on a broker with auto.create.topics.enable); NT_ERR_TIMEOUT when no
 * answer came within timeout_ms; NT_ERR_KAFKA on a broker error. */
int nt_kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms,
                             int *count, char *errstr, size_t errstr_size);

/* Creates `topic` when it is missing, compacted (cleanup.policy=compact)
 * with `partitions` partitions, then checks that the topic as it is has
 * cleanup.policy=compact: NT_ERR_CONFIG otherwise, the message saying
 * that `why` (what the topic holds: "the feed list") would be deleted by
 * retention. A topic that exists keeps its partition count. */
int nt_kafka_ensure_compacted(rd_kafka_t *rk, const char *topic, int partitions,
                              const char *why, int timeout_ms, char *errstr,
                              size_t errstr_size);

/* The value of one configuration entry of a topic as the broker has it
 * (DescribeConfigs), e.g. "retention.ms", into value (truncated to size).
 * NT_ERR_NOTFOUND when the broker does not list it; waits at most
 * timeout_ms. */
int nt_kafka_topic_config(rd_kafka_t *rk, const char *topic, const char *name,
                          char *value, size_t size, int timeout_ms,
                          char *errstr, size_t errstr_size);

/* The same, asking again for at most timeout_ms while the broker does
 * not know the topic yet (one created a moment ago, whose metadata has
 * not reached the broker that answers). */
int nt_kafka_topic_config_wait(rd_kafka_t *rk, const char *topic,
                               const char *name, char *value, size_t size,
                               int timeout_ms, char *errstr,
                               size_t errstr_size);

/* Logs a record that a reader skips as a warning of `component`: "WHAT
 * TOPIC [PARTITION] at offset OFFSET: REASON; record skipped", with
 * topic, partition, offset and reason as fields of their own. */
void nt_kafka_log_skipped(const char *component, const char *what,
                          const rd_kafka_message_t *rkm, const char *reason);

/* Seeks a consumer's partitions to the offsets in `parts`, waiting at most
 * timeout_ms, and checks each partition: one that is no longer assigned
 * (revoked meanwhile; its next owner reads from the committed offset) is
 * skipped; any other failure is logged as an error of `component` with
 * topic, partition, offset and cause. NT_OK, or NT_ERR_KAFKA with errstr
 * when a partition still assigned could not be moved: its position is
 * then past inputs that must be read again, so the caller must not commit
 * offsets of that partition any more. Overwrites the err fields of
 * `parts`. */
int nt_kafka_seek(rd_kafka_t *consumer, rd_kafka_topic_partition_list_t *parts,
                  int timeout_ms, const char *component, char *errstr,
                  size_t errstr_size);

/* nt_kafka_seek()'s decision, apart so that it can be tested: how many
 * partitions of `parts`, as rd_kafka_seek_partitions() left them with the
 * error it returned (`error`, may be NULL), failed while in `assigned`
 * (NULL: the assignment is unknown, so every partition counts as
 * assigned). Logs each failure; errstr gets the first one. */
size_t nt_kafka_seek_failures(const rd_kafka_topic_partition_list_t *parts,
                              const rd_kafka_error_t *error,
                              const rd_kafka_topic_partition_list_t *assigned,
                              const char *component, char *errstr,
                              size_t errstr_size);

/* A producer for nt_kafka_write_confirmed(): idempotent, acks=all, its
 * delivery reports kept per record. Caller frees with
 * rd_kafka_destroy(). NULL with errstr on failure. */
rd_kafka_t *nt_kafka_confirmed_producer_new(const nt_config_t *cfg,
                                            char *errstr, size_t errstr_size);

/* Makes the value of record i for nt_kafka_write_confirmed(): *value
 * (malloc'd; the writer frees it) and its length in *len, or *value NULL
 * for a tombstone. Returns NT_OK, or an error said in errstr. */
typedef int (*nt_kafka_value_fn)(void *ctx, size_t i, char **value, size_t *len,
                                 char *errstr, size_t errstr_size);

/* Writes n records to `topic` (JSON values: content-type and `schema`
 * headers) with a producer from nt_kafka_confirmed_producer_new() and
 * waits at most timeout_ms until each is confirmed. Record i has the key
 * keys[i] (text), the partition partitions[i] (partitions NULL: the
 * partitioner's) and the value make_value() gives; the values are all
 * made before the first is written, so that a failure there writes
 * nothing. NT_OK when every record was confirmed; otherwise the first
 * failure in errstr (records confirmed before it stay written). */
int nt_kafka_write_confirmed(rd_kafka_t *rk, const char *topic,
                             const char *schema, const char *const *keys,
                             const int32_t *partitions, size_t n,
                             nt_kafka_value_fn make_value, void *ctx,
                             int timeout_ms, char *errstr, size_t errstr_size);

/* Flushes a producer for at most timeout_ms. Returns 0 when nothing is
 * left, NT_ERR_TIMEOUT with the count of undelivered messages in errstr
 * otherwise. */
int nt_kafka_flush(rd_kafka_t *rk, int timeout_ms, char *errstr,
                   size_t errstr_size);

/* The useful parts of librdkafka's statistics (statistics.interval.ms):
 * broker states, queue depth, traffic and errors. */
struct nt_kafka_stats {
        int brokers;      /* known brokers (bootstrap entries excluded) */
        int brokers_up;   /* of those, in state UP */
        int64_t msg_cnt;  /* messages in the producer queues */
        int64_t msg_size; /* bytes in the producer queues */
        int64_t tx, tx_bytes, tx_errs; /* requests sent, bytes, errors */
        int64_t rx, rx_bytes, rx_errs; /* responses received */
        int64_t rtt_avg_us;   /* broker round trip, mean of the UP brokers */
        int64_t consumer_lag; /* sum over assigned partitions, -1 if none */
};

/* Parses a statistics JSON document. 0 or NT_ERR_PARSE. */
int nt_kafka_stats_parse(const char *json, size_t len,
                         struct nt_kafka_stats *out);

/* librdkafka's log callback, routed into nt_log. Set by nt_kafka_conf_new;
 * exposed for code that builds its own configuration. */
void nt_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                     const char *buf);

#endif
