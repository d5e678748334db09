/* The classify loop's insides, shared by its three parts: the loop itself
 * (consumer/classify_loop.c: inputs, outputs, label topics, set-up, run
 * and shutdown), the batch's transaction (consumer/classify_txn.c: the
 * clients, delivery reports, begin, commit, abort, rewind and producer
 * rebuild) and the inputs read ahead, whose events worker threads build
 * (consumer/classify_ahead.c). The design note at the top of
 * classify_loop.c says why each step is as it is. Internal: the public
 * face is consumer/classify_loop.h. */
#ifndef NT_CLASSIFY_LOOP_INTERNAL_H
#define NT_CLASSIFY_LOOP_INTERNAL_H

#include "consumer/classify_loop.h"
#include "common/date.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/num.h"
#include "common/sig.h"
#include "common/txn.h"
#include "consumer/enriched.h"

#include <librdkafka/rdkafka.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define COMPONENT "classify"
/* Dead letters of inputs whose output was refused carry at most this
 * much of the input. */
#define DLQ_REFUSED_KEEP ((size_t)64 * 1024)
/* Room a dead letter's record needs besides its value and key: the
 * headers (names, the reason, the origin; the message is counted apart)
 * and the record batch's framing (61 bytes and varints). */
#define DLQ_OVERHEAD ((size_t)1024)
/* Kafka's default max.message.bytes (broker and topic): what a dead
 * letter is sized for when the dead-letter topic cannot be described. */
#define KAFKA_DEFAULT_MAX_MESSAGE ((size_t)1048588)
/* librdkafka's default message.max.bytes, and the most it allows. */
#define RDKAFKA_DEFAULT_MAX_MESSAGE ((size_t)1000000)
#define RDKAFKA_MAX_MAX_MESSAGE     ((size_t)1000000000)
/* Inputs remembered as refused by the broker. */
#define MAX_POISON 64
#define SUMMARY_MS 60000

/* Inputs read ahead and built by worker threads (consumer.threads):
 * consumer/classify_ahead.c. */
typedef struct nt_cl_ahead nt_cl_ahead_t;

/* An input of the open batch, found again from a delivery report. */
struct batch_input {
        int32_t partition;
        int64_t offset;
};

/* An input whose output the broker refused for good: how often. */
enum {
        SUSPECT = 1, /* refused with others: to be tried alone */
        GUILTY = 2,  /* refused alone: goes to the dead-letter topic */
        HOPELESS = 3 /* its dead letter was refused too: skipped */
};
struct poison {
        int32_t partition;
        int64_t offset;
        int times;
        char why[64];
};

struct nt_classify_loop {
        const nt_config_t *cfg;
        nt_classifier_t *clf;
        struct nt_enriched_opts opts;
        struct nt_enriched_event ev; /* built by the loop (threads 0) */
        nt_cl_ahead_t *ahead;        /* or ahead of it; NULL: threads 0 */
        bool eos;
        char txn_id[256];
        const char *in_topic, *out_topic, *prefix, *dlq_topic, *source;
        size_t batch_max;
        int64_t batch_ms, shutdown_ms;
        int op_ms; /* bound of one blocking Kafka call */
        int label_partitions;
        rd_kafka_t *consumer, *producer;

        /* The open batch. */
        bool open;
        bool isolated; /* the batch holds one suspect: commit after it */
        uint32_t gen;  /* tells this batch's delivery reports from older */
        size_t batch_n;
        int64_t batch_start;
        rd_kafka_topic_partition_list_t *next;  /* offset after the last */
        rd_kafka_topic_partition_list_t *first; /* first offset per part */
        struct batch_input *inputs;
        size_t cap_inputs;
        size_t outstanding; /* at_least_once: reports still to come */
        bool failed;        /* at_least_once: a delivery failed */

        struct poison poison[MAX_POISON];
        size_t n_poison;
        struct poison pending[MAX_POISON]; /* refused in the open batch */
        size_t n_pending;

        char **known; /* label topics created (or tried) */
        size_t n_known, cap_known;
        struct nt_txn_fences fences;

        /* Largest record the producer sends (message.max.bytes) and the
         * largest the dead-letter topic takes: a dead letter is cut to
         * fit both, so that it is never refused for its size. */
        size_t producer_max, dlq_max;
        char producer_max_str[24];
        /* linger.ms of the producer unless kafka.linger.ms is set: half
         * of consumer.batch_ms, so that a batch goes out in about two
         * sends rather than one every 5 ms (librdkafka's default). */
        char linger_str[24];

        /* Outputs of the open batch: they count in `st` once the batch is
         * committed, not when they are sent (an aborted batch sends them
         * again). */
        uint64_t batch_events, batch_label_events, batch_dead_letters;

        bool broken;
        char broken_why[512];
        struct nt_classify_stats st;
        int64_t last_summary;

        nt_metrics_t *metrics;
        nt_health_t *health;           /* borrowed */
        struct nt_kafka_stats kstats;  /* the producer's */
        struct nt_kafka_stats ckstats; /* the consumer's: the lag */
        bool have_kstats, have_ckstats;
        bool joined; /* a group assignment arrived */
        int64_t last_health;
        int64_t stop_at;      /* monotonic: when shutdown must be done; 0: not
                                 stopping yet */
        bool consumer_closed; /* left the group: destroy need not */
        bool left_batch;      /* stopping left a batch to the broker */
        nt_sig_watchdog_t *watchdog; /* bounds a stop librdkafka blocks */
};

/* ---- consumer/classify_txn.c ---- */

/* Sleeps ms milliseconds. */
void nt_cl_nap_ms(int ms);

/* The monotonic time by which the loop's Kafka calls must be done: four
 * fifths of consumer.shutdown_timeout after the signal was first seen
 * (the rest is for closing and freeing), INT64_MAX while running. */
int64_t nt_cl_stop_deadline(nt_classify_loop_t *l);

/* Marks the loop broken: it stops with this message. */
void nt_cl_set_broken(nt_classify_loop_t *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Seeks the consumer's partitions in `parts` (nt_kafka_seek(): those no
 * longer assigned are skipped). When an assigned one cannot be moved, its
 * position is past inputs in no committed batch, so the loop is marked
 * broken (`what` says which seek) and stops without reading further: the
 * next start reads from the committed offsets. (A batch still open then
 * holds only inputs before that position, so the revoke on the way out
 * may commit it.) NT_OK or NT_ERR_KAFKA. */
int nt_cl_seek(nt_classify_loop_t *l, rd_kafka_topic_partition_list_t *parts,
               const char *what);

/* The opaque of an output's delivery report: the input idx of the open
 * batch, tagged with the batch's generation. */
void *nt_cl_msg_tag(const nt_classify_loop_t *l, size_t idx);

/* The record of an input the broker refused an output of, or NULL. */
const struct poison *nt_cl_find_poison(const nt_classify_loop_t *l,
                                       int32_t partition, int64_t offset);

/* The clients: the (transactional or idempotent) producer, its
 * init_transactions() in slices, and the group consumer. */
rd_kafka_t *nt_cl_make_producer(nt_classify_loop_t *l, char *errstr,
                                size_t errstr_size);
int nt_cl_init_transactions(nt_classify_loop_t *l, char *errstr,
                            size_t errstr_size);
rd_kafka_t *nt_cl_make_consumer(nt_classify_loop_t *l, char *errstr,
                                size_t errstr_size);

/* The batch: begin (a transaction with exactly_once), commit its outputs
 * with its input offsets, abort and read it again (rewind), forget it. */
int nt_cl_begin_batch(nt_classify_loop_t *l);
int nt_cl_commit_batch(nt_classify_loop_t *l, bool rewind);
int nt_cl_abort_batch(nt_classify_loop_t *l, bool rewind);
void nt_cl_batch_reset(nt_classify_loop_t *l);

/* ---- consumer/classify_ahead.c ---- */

/* An input read ahead and its event, as the loop takes it back. */
struct nt_cl_slot {
        rd_kafka_message_t *rkm; /* owned by the queue */
        struct nt_enriched_event ev;
        int rc;        /* what nt_enriched_build() returned */
        double eval_s; /* how long it took */
};

/* The queue and `threads` workers (1..64), each with a fork of `clf`
 * (borrowed: forked, not kept), building with `opts` (borrowed: must
 * outlive the queue) events of at most max_value bytes. NULL on failure,
 * with errstr. Free with nt_cl_ahead_destroy(), before the consumer: it
 * destroys the messages it holds. */
nt_cl_ahead_t *nt_cl_ahead_new(nt_classifier_t *clf,
                               const struct nt_enriched_opts *opts,
                               size_t max_value, size_t threads, char *errstr,
                               size_t errstr_size);
void nt_cl_ahead_destroy(nt_cl_ahead_t *a);

/* True when no further input may be queued now. */
bool nt_cl_ahead_full(nt_cl_ahead_t *a);

/* True when inputs wait besides the one the loop holds. */
bool nt_cl_ahead_waiting(nt_cl_ahead_t *a);

/* Queues an input (takes the message). */
void nt_cl_ahead_push(nt_cl_ahead_t *a, rd_kafka_message_t *rkm);

/* The oldest input with its event once built, waiting up to wait_ms for
 * it; NULL when there is none or it was not built in time. Borrowed
 * until nt_cl_ahead_release(); one at a time. */
struct nt_cl_slot *nt_cl_ahead_take(nt_cl_ahead_t *a, int wait_ms);

/* Done with the taken input: its message is destroyed. */
void nt_cl_ahead_release(nt_cl_ahead_t *a);

/* Forgets the queued inputs (not the taken one) of the partitions in
 * `only`, or all of them when it is NULL, and with `seek` seeks each
 * partition back to its first forgotten input (within timeout_ms,
 * nt_kafka_seek()), so that they are read again. Without `seek` the
 * caller must move those partitions itself (rewind, revoke). NT_ERR_KAFKA
 * (logged) when an assigned partition could not be moved back: the loop
 * must then stop. NULL-safe. */
int nt_cl_ahead_drop(nt_cl_ahead_t *a, rd_kafka_t *consumer,
                     const rd_kafka_topic_partition_list_t *only, bool seek,
                     int timeout_ms);

/* The workers build with forks of clf from now on. Only when nothing is
 * queued (after a drop of all): queued events borrow the old rules.
 * NT_ERR_NOMEM leaves the old ones. */
int nt_cl_ahead_set_classifier(nt_cl_ahead_t *a, nt_classifier_t *clf);

#endif
