/* Kafka transactions as both daemons use them (classify's batches,
 * produce --group's polls): init_transactions, send_offsets, commit and
 * abort in slices that see a shutdown signal, librdkafka's error classes
 * (retriable, abortable, fatal, fenced) turned into what to do next, and
 * the pitfalls of librdkafka 2.0.2 worked around (begin_transaction after
 * a fatal error can hang; abort_transaction waits for delivery reports
 * that only polling serves). The caller owns its producer and decides
 * what a rebuild or an abort means for its own work. A caller whose
 * loop must go on while the broker is away makes one attempt at a time
 * (nt_txn_call_once(), nt_txn_judge_next()) and steps on from its loop
 * (producer/publish.c); the others block in nt_txn_call(). */
#ifndef NT_TXN_H
#define NT_TXN_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Time allowed to one transactional call before it counts as failed
 * (less when a shutdown deadline is nearer). */
#define NT_TXN_OP_MS 30000
/* The calls are made in slices of at most this long, each continuing the
 * last (librdkafka: a timed-out transactional call may be called again),
 * so that a shutdown signal is seen within a slice, not 30 s later. */
#define NT_TXN_SLICE_MS 500
/* No transactional call waits less: a shorter one can time out before
 * librdkafka's thread has taken its request, whose late answer librdkafka
 * 2.0.2 then takes for a later call's (docs/operations.md, "librdkafka
 * 2.0.2's commit race"). */
#define NT_TXN_MIN_CALL_MS 50
/* Retries of a retriable transactional call before giving up on it. */
#define NT_TXN_RETRIES 5
/* Fencings within NT_TXN_FENCE_WINDOW_MS that mean another live instance
 * shares the transactional.id. */
#define NT_TXN_FENCE_LIMIT     3
#define NT_TXN_FENCE_WINDOW_MS 60000

/* The transactional calls nt_txn_call() makes. */
enum nt_txn_op { NT_TXN_SEND_OFFSETS, NT_TXN_COMMIT, NT_TXN_ABORT };

/* What to do after a transactional call failed. */
enum nt_txn_next {
        NT_TXN_NEXT_RETRY,   /* call again (after the nap it took) */
        NT_TXN_NEXT_ABORT,   /* abortable: abort the transaction, redo */
        NT_TXN_NEXT_REBUILD, /* fatal or unknown: a new producer, redo */
        NT_TXN_NEXT_LEAVE    /* stopping: leave the transaction to the
                                broker, the next start aborts it */
};

/* The monotonic time a caller's Kafka calls must be done by once the
 * process is stopping: 4/5 of shutdown_ms after the signal was first
 * seen (*stop_at remembers it; 0 before), INT64_MAX while running. */
int64_t nt_txn_stop_deadline(int64_t *stop_at, int64_t shutdown_ms);

/* rd_kafka_init_transactions() in slices, again while it times out and
 * the process is not stopping (a warning every op_ms). NT_OK, or
 * NT_ERR_KAFKA with errstr naming txn_id. */
int nt_txn_init(rd_kafka_t *producer, const char *txn_id, int op_ms,
                const char *component, char *errstr, size_t errstr_size);

/* rd_kafka_begin_transaction(), after checking for a fatal error first
 * (librdkafka 2.0.2 can hang in begin after one). NT_OK; NT_ERR_KAFKA
 * when the producer must be rebuilt (*rebuild true) or begin failed
 * otherwise (logged). */
int nt_txn_begin(rd_kafka_t *producer, const char *component, bool *rebuild);

/* One transactional call in slices of NT_TXN_SLICE_MS, each continuing
 * the last, until it answers otherwise than by timing out, op_ms have
 * passed, or `deadline` (monotonic) has. Delivery reports are served
 * between slices. `consumer` and `offsets` are for NT_TXN_SEND_OFFSETS
 * (the consumer's group metadata goes with the offsets: KIP-447). The
 * caller destroys the returned error. */
rd_kafka_error_t *nt_txn_call(rd_kafka_t *producer, enum nt_txn_op op,
                              rd_kafka_t *consumer,
                              const rd_kafka_topic_partition_list_t *offsets,
                              int op_ms, int64_t deadline);

/* One attempt at the call, waiting at most timeout_ms: for a caller
 * that must not block (it calls again from its loop while the answer
 * is a retriable __TIMED_OUT, which librdkafka allows). */
rd_kafka_error_t *
nt_txn_call_once(rd_kafka_t *producer, enum nt_txn_op op, rd_kafka_t *consumer,
                 const rd_kafka_topic_partition_list_t *offsets,
                 int timeout_ms);

/* True when a call's error is a timeout librdkafka marks retriable and
 * the call's time (ending at `end`, monotonic ms) is not up: serve the
 * delivery reports and call again, continuing the call. False for no
 * error. */
bool nt_txn_call_again(const rd_kafka_error_t *error, int64_t end);

/* The name of the call, as librdkafka's function without its prefix. */
const char *nt_txn_op_name(enum nt_txn_op op);

/* Sorts a failed call's error (logging it as "CALL: message (class)")
 * and destroys it. A retriable one below NT_TXN_RETRIES tries, while
 * running (nt_sig_running()), naps 100 ms per try and says retry. */
enum nt_txn_next nt_txn_judge(const char *component, const char *call,
                              rd_kafka_error_t *error, int tries);

/* nt_txn_judge() without the nap: *nap_ms says how long to wait before
 * the retry (0 for the other answers). */
enum nt_txn_next nt_txn_judge_next(const char *component, const char *call,
                                   rd_kafka_error_t *error, int tries,
                                   int *nap_ms);

/* Aborts the open transaction: serves the delivery reports, purges what
 * is queued or in flight (abort_transaction waits until nothing is left
 * to report), then aborts, retrying retriable errors. NT_OK, or
 * NT_ERR_KAFKA when the producer must be rebuilt. */
int nt_txn_abort(rd_kafka_t *producer, int op_ms, int64_t deadline,
                 const char *component);

/* Drops every queued and in-flight message without waiting. */
void nt_txn_purge(rd_kafka_t *producer);

/* True for the errors that mean another producer took the
 * transactional.id or the epoch (fenced). */
bool nt_txn_fenced_error(rd_kafka_resp_err_t err);

/* Recent fencings of one transactional.id. Zero-initialised. */
struct nt_txn_fences {
        int64_t at[NT_TXN_FENCE_LIMIT];
        size_t n;
};

/* Records a fencing at now_ms; returns how many fell within
 * NT_TXN_FENCE_WINDOW_MS (this one included): NT_TXN_FENCE_LIMIT or more
 * means a live twin shares the transactional.id. */
size_t nt_txn_fence_note(struct nt_txn_fences *fe, int64_t now_ms);

/* Builds a producer, as the caller wants it, for nt_txn_rebuild(). */
typedef rd_kafka_t *(nt_txn_make_cb)(void *opaque, char *errstr,
                                     size_t errstr_size);

/* Replaces a producer that hit a fatal error: purges and destroys `old`
 * (NULL is fine), builds a new one with `make` and, with txn_id set,
 * initialises its transactions, which aborts what the old one left
 * open; a failed init is tried again every second while running. The
 * new producer, or NULL with errstr (stopping, or `make` failed). */
rd_kafka_t *nt_txn_rebuild(rd_kafka_t *old, nt_txn_make_cb *make, void *opaque,
                           const char *txn_id, int op_ms, const char *component,
                           char *errstr, size_t errstr_size);

#endif
