/* The classify daemon's loop: a consumer group on the raw topic, one
 * enriched event per input on the enriched topic and one more per label on
 * the label's topic, dead letters for bad input; exactly once through Kafka
 * transactions (or at least once, for brokers without them). Single
 * threaded apart from librdkafka's own threads. */
#ifndef NT_CLASSIFY_LOOP_H
#define NT_CLASSIFY_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/health.h"
#include "consumer/classify.h"

typedef struct nt_classify_loop nt_classify_loop_t;

/* Counters of a run, for logs, tests and benchmarks. */
struct nt_classify_stats {
        uint64_t consumed;      /* inputs read (again after a rewind) */
        uint64_t events;        /* events committed to the enriched topic */
        uint64_t label_events;  /* events committed to label topics */
        uint64_t dead_letters;  /* inputs committed to the DLQ (counted
                                   when their batch commits, never per
                                   attempt) */
        uint64_t committed;     /* inputs whose batch was committed */
        uint64_t batches;       /* committed batches (transactions) */
        uint64_t aborts;        /* aborted batches (redone) */
        uint64_t rebuilds;      /* producers recreated after fatal errors */
        uint64_t reloads;       /* rule sets swapped in */
        int64_t first_input_ms; /* monotonic time of the first input */
        int64_t last_commit_ms; /* monotonic time of the last commit */
};

/* Asked on SIGHUP for a freshly built rule set; returns it (the loop takes
 * ownership) or NULL after logging why, in which case the old set stays. */
typedef nt_classifier_t *(nt_classify_reload_cb)(void *opaque);

/* Sets up the loop from the configuration (topics.*, consumer.*, kafka):
 * the producer (transactional, with its transactions initialised, in the
 * exactly_once mode), the label topics of the rule set, the consumer
 * (subscribed only when run starts). Takes ownership of `clf` on
 * success. NULL with errstr set on failure. Caller frees with
 * nt_classify_loop_destroy(). */
nt_classify_loop_t *nt_classify_loop_new(const nt_config_t *cfg,
                                         nt_classifier_t *clf, char *errstr,
                                         size_t errstr_size);

/* Runs until nt_sig_running() turns false, or until `limit` inputs have
 * been committed when limit > 0 (benchmarks and tests). Then ends the open
 * batch (committed, or aborted when that fails within
 * consumer.shutdown_timeout) and leaves the group. Returns 0, or
 * NT_ERR_KAFKA after an error it cannot recover from (errstr says
 * which). */
int nt_classify_loop_run(nt_classify_loop_t *l, uint64_t limit,
                         nt_classify_reload_cb *reload, void *opaque,
                         char *errstr, size_t errstr_size);

/* Serves the loop's metrics and readiness on `h` (borrowed; it must
 * outlive the loop's run), refreshed once a second. Ready means: rules
 * loaded, the producer usable, a broker up, the group joined. */
void nt_classify_loop_set_health(nt_classify_loop_t *l, nt_health_t *h);

/* The counters so far. */
void nt_classify_loop_stats(const nt_classify_loop_t *l,
                            struct nt_classify_stats *out);

/* The transactional.id in use ("" in at_least_once mode). Borrowed. */
const char *nt_classify_loop_transactional_id(const nt_classify_loop_t *l);

/* Frees everything; a producer still holding messages is purged (run
 * already ended the batch). NULL-safe. */
void nt_classify_loop_destroy(nt_classify_loop_t *l);

#endif
