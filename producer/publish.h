/* Loss-free publishing of articles to the raw topic: an idempotent
 * producer (acks=all) whose every message stays tracked here until its
 * delivery report succeeds. A failed report sends the message again,
 * unless the failure is one no resend can change (larger than the
 * broker accepts, an invalid record): that message is logged and handed
 * to the callback as refused, instead of blocking its feed forever; a
 * fatal producer error (librdkafka 2.0.2 can raise a spurious one after a
 * disconnect) rebuilds the producer and sends again whatever was not
 * confirmed. The caller learns of each confirmation through a callback,
 * and only then marks the article seen: a crash costs at most a second
 * copy with the same key and revision, never a lost article. */
#ifndef NT_PUBLISH_H
#define NT_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/kafka.h"

typedef struct nt_publisher nt_publisher_t;

/* What one article message carries besides its value. */
struct nt_publish_meta {
        const char *key; /* the article id */
        const char *revision;
        const char *feed_url;
        /* The record's time: 0 (the usual) stamps it with the time it is
         * written, so that time-based retention counts from the write;
         * replay --timestamp published passes the published time. */
        int64_t timestamp_ms;
        /* The article's published time for the `published` header (RFC
         * 3339); 0 or negative: unknown, no header. */
        int64_t published_ms;
        void *opaque; /* handed back on confirmation */
        /* Set by the publisher for the callback: NULL when the message is
         * stored; else why it was refused for good (too large for the
         * broker, an invalid record), which no resend can change. */
        const char *refused;
};

/* Called from nt_publisher_poll() when a message is settled: confirmed
 * stored, or refused for good (meta->refused; the publisher has logged it
 * with the article's key, size and the reason). Every other failure is
 * retried. `meta` and its strings are valid only during the call. */
typedef void(nt_publish_confirm_cb)(void *ctx,
                                    const struct nt_publish_meta *meta);

/* A publisher to `topic` with the config's kafka properties, forcing
 * enable.idempotence=true and acks=all, compression from
 * producer.compression unless the kafka section sets compression.type.
 * At most `max_inflight` messages are tracked: more is back-pressure.
 * Caller frees with nt_publisher_destroy(). NULL with errstr on error. */
nt_publisher_t *nt_publisher_new(const nt_config_t *cfg, const char *topic,
                                 size_t max_inflight,
                                 nt_publish_confirm_cb *confirm, void *ctx,
                                 char *errstr, size_t errstr_size);

/* Flushes for at most timeout_ms, then frees. Messages still unconfirmed
 * are not marked seen by anyone, so they are fetched and sent again after
 * a restart. Returns how many were left unconfirmed. NULL-safe. */
size_t nt_publisher_destroy(nt_publisher_t *p, int timeout_ms);

/* The librdkafka handle, for admin requests. Borrowed; valid until the
 * next nt_publisher_poll() or nt_publisher_send() (a fatal producer error
 * rebuilds it there). */
rd_kafka_t *nt_publisher_handle(nt_publisher_t *p);

/* Queues one article (value copied). NT_ERR_LIMIT when max_inflight
 * messages are unconfirmed: stop producing work until it drops. */
int nt_publisher_send(nt_publisher_t *p, const struct nt_publish_meta *meta,
                      const char *value, size_t value_len);

/* The same, with the value handed over instead of copied: `value` comes
 * from malloc(), and on NT_OK the publisher owns it (and frees it once
 * the message is settled). Any other answer leaves it the caller's, to
 * send again after NT_ERR_LIMIT or to free. */
int nt_publisher_send_owned(nt_publisher_t *p,
                            const struct nt_publish_meta *meta, char *value,
                            size_t value_len);

/* Serves delivery reports (calling confirm), resends failed messages and
 * rebuilds the producer after a fatal error. Waits at most timeout_ms. */
int nt_publisher_poll(nt_publisher_t *p, int timeout_ms);

/* Messages not confirmed yet. */
size_t nt_publisher_inflight(const nt_publisher_t *p);

/* librdkafka's latest statistics (every second); `have` is false until
 * the first arrived. Borrowed; valid until the next poll. */
const struct nt_kafka_stats *nt_publisher_kafka_stats(const nt_publisher_t *p,
                                                      bool *have);

/* Upper bounds (seconds) of the publish latency histogram's buckets. */
#define NT_PUBLISH_LATENCY_BUCKETS 12
extern const double nt_publish_latency_bounds[NT_PUBLISH_LATENCY_BUCKETS];

/* Counters since creation. */
struct nt_publish_stats {
        uint64_t sent;         /* produce calls, resends included */
        uint64_t confirmed;    /* delivery reports that succeeded */
        uint64_t failed;       /* delivery reports that failed (resent) */
        uint64_t refused;      /* messages refused for good (not resent) */
        uint64_t rebuilds;     /* producers rebuilt after fatal errors */
        uint64_t transactions; /* transactional mode: committed */
        uint64_t aborted;      /* transactional mode: aborted (redone) */
        double latency_s;      /* sum over confirmed messages of the time
                                * from send to confirmation, resends
                                * included: divide by `confirmed` */
        /* Confirmations within nt_publish_latency_bounds[i] seconds of
         * the first send (cumulative, as Prometheus buckets are). */
        uint64_t latency_le[NT_PUBLISH_LATENCY_BUCKETS];
        /* Transactional mode: commits librdkafka refused with __STATE,
         * or answered before they were over (its result race), called
         * again in place. */
        uint64_t commit_refusals;
};
void nt_publisher_stats(const nt_publisher_t *p, struct nt_publish_stats *st);

/* ---- transactional mode ----
 *
 * produce --group writes a poll's articles and its feed's new state in
 * one Kafka transaction (common/txn.h), with the feeds topic's offsets
 * and the group metadata (KIP-447 fencing). The publisher then tracks
 * the open transaction's articles; nt_publisher_send() begins the
 * transaction when none is open, and a message is confirmed (the
 * callback called) only once the transaction commits. A failed delivery
 * fails the transaction: it is aborted and its messages are forgotten
 * without confirmation (their polls are redone); one refused for good is
 * settled as refused instead. Resends and rebuilds of the idempotent
 * mode do not happen here: the commit rebuilds the producer after a
 * fatal error (its init_transactions aborts the old transaction). */

/* A publisher as nt_publisher_new(), transactional with `txn_id`
 * (transactional.id), its transactions initialised (which aborts what a
 * predecessor with the same id left open). NULL with errstr. */
nt_publisher_t *nt_publisher_new_txn(const nt_config_t *cfg, const char *topic,
                                     size_t max_inflight, const char *txn_id,
                                     nt_publish_confirm_cb *confirm, void *ctx,
                                     char *errstr, size_t errstr_size);

/* Begins a transaction unless one is open. NT_ERR_KAFKA when it cannot
 * (the next commit rebuilds the producer or aborts). */
int nt_publisher_begin(nt_publisher_t *p);

/* True while a transaction is open. */
bool nt_publisher_txn_open(const nt_publisher_t *p);

/* How long the open transaction has been open (ms), 0 when none. */
int64_t nt_publisher_txn_age_ms(const nt_publisher_t *p);

/* Writes one record (value NULL: a tombstone) to an explicit partition of
 * `topic` in the open transaction (begun when needed), with content-type
 * and `schema` (may be NULL) headers; not tracked, not confirmed: its
 * failure fails the transaction. The value is copied: the caller may
 * reuse its buffer on return. */
int nt_publisher_send_record(nt_publisher_t *p, const char *topic,
                             int32_t partition, const char *key,
                             const char *value, size_t value_len,
                             const char *schema);

/* Calls cb for every article of the open transaction not refused (the
 * meta borrowed for the call), before a commit. */
void nt_publisher_each(nt_publisher_t *p, nt_publish_confirm_cb *cb, void *ctx);

/* Commits the open transaction with `offsets` of `consumer`'s group
 * (send_offsets_to_transaction; none when offsets is NULL or empty),
 * then confirms its articles. NT_OK (also when none was open);
 * NT_ERR_TRANSIENT: it was aborted (nothing confirmed; redo its polls);
 * NT_ERR_STOPPED: stopping, it was left to the broker (the next start's
 * init aborts it); NT_ERR_KAFKA: the publisher cannot go on. */
int nt_publisher_commit(nt_publisher_t *p, rd_kafka_t *consumer,
                        const rd_kafka_topic_partition_list_t *offsets);

/* Aborts the open transaction (NT_ERR_TRANSIENT when one was: redo its
 * polls; NT_ERR_KAFKA as for commit). */
int nt_publisher_abort(nt_publisher_t *p);

/* The same two without blocking, for a loop that must go on while the
 * broker is away: nt_publisher_end_start() begins the commit (`commit`)
 * or the abort and makes its first call, nt_publisher_end_step() makes
 * the next; each call waits at most slice_ms (a commit's at least
 * 50 ms, below which librdkafka 2.0.2 can take one request's answer for
 * another's: docs/operations.md). NT_ERR_TIMEOUT: under
 * way, step again later (no new message is taken meanwhile:
 * nt_publisher_send() says NT_ERR_LIMIT); otherwise the answer of
 * nt_publisher_commit() or nt_publisher_abort(). nt_publisher_end_finish()
 * blocks until the ending under way is over and gives its answer. */
int nt_publisher_end_start(nt_publisher_t *p, bool commit, rd_kafka_t *consumer,
                           const rd_kafka_topic_partition_list_t *offsets,
                           int slice_ms);
int nt_publisher_end_step(nt_publisher_t *p, int slice_ms);
int nt_publisher_end_finish(nt_publisher_t *p);

/* Stopping: drops the open transaction without waiting for the broker
 * (the next start's init aborts it). */
void nt_publisher_leave(nt_publisher_t *p);

/* Fault injection for tests: raises a fatal error in the current
 * producer (librdkafka's rd_kafka_test_fatal_error), as Debian's
 * librdkafka 2.0.2 may do after a disconnect. */
int nt_publisher_inject_fatal(nt_publisher_t *p);

#endif
