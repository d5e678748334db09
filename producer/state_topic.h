/* Each feed's state on a compacted Kafka topic (topics.feeds_state,
 * default news.feeds.state), co-partitioned with the feeds topic, so that
 * the producer instance that owns a partition of the feeds owns the same
 * partition of their states. This module encodes the records, creates and
 * checks the topic, and reads partitions of it back into states.
 *
 * A record: key = nt_feeds_topic_key(url), the feed's key on the feeds
 * topic; value = the compact JSON of nt_state_to_json_packed(key, st)
 * (schema newstap.feed-state/2; records of /1, the encoding of a state
 * file, written by earlier versions, are read too); partition = the
 * partition of the feed's record on the feeds topic, given explicitly by
 * the writer (never left to a partitioner); a tombstone (null value)
 * forgets the feed's state. Writers are the producer's transactions and
 * `newstap feeds migrate`; readers use read_committed. */
#ifndef NT_STATE_TOPIC_H
#define NT_STATE_TOPIC_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "producer/state.h"

/* The schema of a record's value (and its schema header) as written. */
#define NT_STATE_TOPIC_SCHEMA "newstap.feed-state/2"

/* The value of the record of `st` under `key`: compact JSON of
 * nt_state_to_json_packed(key, st), not NUL-terminated as far as Kafka is
 * concerned (*lenp bytes; a NUL follows them). NULL when out of memory.
 * Caller frees with free(). */
char *nt_state_topic_value(const char *key, const struct nt_feed_state *st,
                           size_t *lenp);

/* Writes the states of n feeds with a producer from
 * nt_kafka_confirmed_producer_new() (idempotent, acks=all): keys[i]'s
 * state states[i] (NULL: a tombstone) on partition partitions[i], and
 * waits at most timeout_ms until each record is confirmed. NT_OK when
 * every one was; otherwise the first failure in errstr. For writers
 * outside a transaction (`newstap feeds migrate`). */
int nt_state_topic_write(rd_kafka_t *rk, const nt_config_t *cfg,
                         const char *const *keys, const int32_t *partitions,
                         const struct nt_feed_state *const *states, size_t n,
                         int timeout_ms, char *errstr, size_t errstr_size);

/* Creates topics.feeds_state when it is missing, compacted
 * (cleanup.policy=compact) with the partition count of topics.feeds,
 * which must exist (NT_ERR_NOTFOUND otherwise, after asking for at most
 * 5 s: a topic created a moment ago may not be known yet). An existing state
 * topic whose partition count differs from the feeds topic's, or whose
 * cleanup.policy is not compact, is refused with NT_ERR_CONFIG: its
 * states would sit on other partitions than their feeds, or be deleted
 * by retention. Waits at most timeout_ms per step. */
int nt_state_topic_ensure(rd_kafka_t *rk, const nt_config_t *cfg,
                          int timeout_ms, char *errstr, size_t errstr_size);

/* Called by nt_state_topic_load() once per feed with a state: `key` and
 * `partition` of its last record, `st` its state. `st` is never NULL
 * from nt_state_topic_load() (a key whose last record is a tombstone is
 * not reported at all); NULL is reserved for a tombstone. Both are
 * borrowed for the call; the loader frees st with nt_state_free()
 * afterwards, so a callback that keeps the state moves it out (`mine =
 * *st; memset(st, 0, sizeof(*st));`). A non-zero return stops the load
 * and is returned by it. */
typedef int nt_state_topic_cb(const char *key, int32_t partition,
                              struct nt_feed_state *st, void *opaque);

/* Reads partitions `parts` (nparts of them; 0: all) of topics.feeds_state
 * from their beginning to their end as it stands when the call begins,
 * with isolation.level=read_committed (so the end of what is committed,
 * aborted records never seen), then calls cb once per key still present:
 * the last record of a key wins and a tombstone deletes it. A record
 * that is not a state (null key, a value that is not JSON or not schema
 * newstap.feed-state/1 or /2, a "key" member that is not the record's key) is
 * logged as a warning with its topic, partition, offset and reason and
 * skipped: the key keeps its earlier state. The reading client is built
 * from the configuration's kafka section and the `extra` properties (as
 * for nt_kafka_conf_new(); may be NULL). NT_OK; NT_ERR_NOTFOUND when the
 * topic does not exist; NT_ERR_INVALID when it has no such partition;
 * NT_ERR_TIMEOUT (retriable) when the end was not reached within
 * timeout_ms; NT_ERR_KAFKA; NT_ERR_NOMEM; or cb's own return. */
int nt_state_topic_load(const nt_config_t *cfg, const char *const *extra,
                        const int32_t *parts, size_t nparts,
                        nt_state_topic_cb *cb, void *opaque, int timeout_ms,
                        char *errstr, size_t errstr_size);

#endif
