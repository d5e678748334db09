/* Building events ahead of the loop (consumer.threads > 0).
 *
 * The loop reads an input, hands it to this queue and goes on: worker
 * threads parse and classify the queued inputs and write their events
 * (nt_enriched_build(), each worker with its own classifier handle from
 * nt_classifier_fork()) while the loop sends the events before them,
 * serves delivery reports and commits transactions. The loop takes the
 * events back strictly in the order it read the inputs, so the order per
 * partition, the batches and their transactions are the same as when the
 * loop builds each event itself: only the building moved.
 *
 * What the queue holds has not been sent and its offsets are in no
 * batch: forgetting it loses nothing as long as the consumer reads it
 * again. So whenever the consumer's position moves under the queue (a
 * batch rewound, an input sought back, partitions revoked, the rules
 * reloaded), the queued inputs of those partitions are dropped first,
 * and sought back to when nothing else rewinds them; at a stop they are
 * simply freed (uncommitted: read again after the restart).
 *
 * Bounds: at most AHEAD_SLOTS inputs and AHEAD_BYTES of input bytes are
 * queued (one input always fits); an event buffer grown past AHEAD_KEEP
 * is freed once sent rather than kept for the next input. */
#include "consumer/classify_loop_internal.h"

#include <pthread.h>

#define AHEAD_SLOTS 256
#define AHEAD_BYTES ((size_t)32 << 20)
#define AHEAD_KEEP  ((size_t)1 << 20)
#define MAX_THREADS 64

enum slot_state { SLOT_QUEUED = 0, SLOT_BUSY = 1, SLOT_BUILT = 2 };

struct ahead_slot {
        struct nt_cl_slot s; /* what the loop sees */
        enum slot_state state;
};

struct nt_cl_ahead {
        pthread_mutex_t mu;
        pthread_cond_t work; /* an input was queued, or stop */
        pthread_cond_t done; /* an event was built, or a worker went idle */
        struct ahead_slot slots[AHEAD_SLOTS];
        /* Sequence numbers: slot seq % AHEAD_SLOTS. [head, tail) are in
         * use; [head, next) are claimed by workers (built or being
         * built), [next, tail) wait. */
        uint64_t head, next, tail;
        size_t bytes; /* input bytes of the slots in use */
        bool taken;   /* the head slot is with the loop */
        bool paused;  /* a drop is under way: claim nothing */
        bool stop;    /* workers: end */
        size_t busy;  /* workers building */
        const struct nt_enriched_opts *opts;
        size_t n_threads, n_started;
        pthread_t threads[MAX_THREADS];
        nt_classifier_t *clf[MAX_THREADS];
};

struct worker_arg {
        nt_cl_ahead_t *a;
        size_t i;
};

static struct ahead_slot *slot_at(nt_cl_ahead_t *a, uint64_t seq)
{
        return &a->slots[seq % AHEAD_SLOTS];
}

static void *worker_main(void *arg)
{
        struct worker_arg *w = arg;
        nt_cl_ahead_t *a = w->a;
        size_t me = w->i;
        struct timespec t0, t1;

        free(w);
        pthread_mutex_lock(&a->mu);
        for (;;) {
                struct ahead_slot *sl;
                nt_classifier_t *clf;
                int rc;

                while (!a->stop && (a->paused || a->next == a->tail))
                        pthread_cond_wait(&a->work, &a->mu);
                if (a->stop)
                        break;
                sl = slot_at(a, a->next++);
                sl->state = SLOT_BUSY;
                clf = a->clf[me];
                a->busy++;
                pthread_mutex_unlock(&a->mu);

                clock_gettime(CLOCK_MONOTONIC, &t0);
                rc = nt_enriched_build(clf, a->opts, sl->s.rkm->payload,
                                       sl->s.rkm->len, nt_date_now_ms(),
                                       &sl->s.ev);
                clock_gettime(CLOCK_MONOTONIC, &t1);

                pthread_mutex_lock(&a->mu);
                sl->s.rc = rc;
                sl->s.eval_s = (double)(t1.tv_sec - t0.tv_sec) +
                               (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
                sl->state = SLOT_BUILT;
                a->busy--;
                pthread_cond_broadcast(&a->done);
        }
        pthread_mutex_unlock(&a->mu);
        return NULL;
}

nt_cl_ahead_t *nt_cl_ahead_new(nt_classifier_t *clf,
                               const struct nt_enriched_opts *opts,
                               size_t max_value, size_t threads, char *errstr,
                               size_t errstr_size)
{
        nt_cl_ahead_t *a = calloc(1, sizeof(*a));
        size_t i;

        if (!a) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                return NULL;
        }
        pthread_mutex_init(&a->mu, NULL);
        pthread_cond_init(&a->work, NULL);
        /* nt_cl_ahead_take() waits on it with a monotonic deadline. */
        if (nt_date_cond_init(&a->done)) {
                pthread_cond_destroy(&a->work);
                pthread_mutex_destroy(&a->mu);
                free(a);
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                return NULL;
        }
        a->opts = opts;
        a->n_threads = threads < MAX_THREADS ? threads : MAX_THREADS;
        for (i = 0; i < AHEAD_SLOTS; i++)
                nt_enriched_event_init(&a->slots[i].s.ev, max_value);
        for (i = 0; i < a->n_threads; i++) {
                a->clf[i] = nt_classifier_fork(clf);
                if (!a->clf[i]) {
                        nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                                "out of memory");
                        goto fail;
                }
        }
        for (i = 0; i < a->n_threads; i++) {
                struct worker_arg *w = malloc(sizeof(*w));

                if (w) {
                        w->a = a;
                        w->i = i;
                }
                if (!w ||
                    pthread_create(&a->threads[i], NULL, worker_main, w) != 0) {
                        free(w);
                        nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                                "consumer.threads: cannot start thread %zu "
                                "of %zu",
                                i + 1, a->n_threads);
                        goto fail;
                }
                a->n_started++;
        }
        return a;
fail:
        nt_cl_ahead_destroy(a);
        return NULL;
}

void nt_cl_ahead_destroy(nt_cl_ahead_t *a)
{
        uint64_t seq;
        size_t i;

        if (!a)
                return;
        pthread_mutex_lock(&a->mu);
        a->stop = true;
        pthread_cond_broadcast(&a->work);
        pthread_mutex_unlock(&a->mu);
        for (i = 0; i < a->n_started; i++)
                pthread_join(a->threads[i], NULL);
        for (seq = a->head; seq < a->tail; seq++)
                rd_kafka_message_destroy(slot_at(a, seq)->s.rkm);
        for (i = 0; i < AHEAD_SLOTS; i++)
                nt_enriched_event_free(&a->slots[i].s.ev);
        for (i = 0; i < a->n_threads; i++)
                nt_classifier_destroy(a->clf[i]);
        pthread_cond_destroy(&a->work);
        pthread_cond_destroy(&a->done);
        pthread_mutex_destroy(&a->mu);
        free(a);
}

bool nt_cl_ahead_full(nt_cl_ahead_t *a)
{
        bool full;

        pthread_mutex_lock(&a->mu);
        full = a->tail - a->head >= AHEAD_SLOTS ||
               (a->tail > a->head && a->bytes >= AHEAD_BYTES);
        pthread_mutex_unlock(&a->mu);
        return full;
}

bool nt_cl_ahead_waiting(nt_cl_ahead_t *a)
{
        bool waiting;

        pthread_mutex_lock(&a->mu);
        waiting = a->tail - a->head > (a->taken ? 1u : 0u);
        pthread_mutex_unlock(&a->mu);
        return waiting;
}

void nt_cl_ahead_push(nt_cl_ahead_t *a, rd_kafka_message_t *rkm)
{
        struct ahead_slot *sl;

        pthread_mutex_lock(&a->mu);
        sl = slot_at(a, a->tail++);
        sl->s.rkm = rkm;
        sl->s.rc = 0;
        sl->s.eval_s = 0;
        sl->state = SLOT_QUEUED;
        a->bytes += rkm->len;
        pthread_cond_signal(&a->work);
        pthread_mutex_unlock(&a->mu);
}

struct nt_cl_slot *nt_cl_ahead_take(nt_cl_ahead_t *a, int wait_ms)
{
        struct ahead_slot *sl = NULL;
        struct timespec until;

        until = nt_date_mono_deadline(wait_ms);
        pthread_mutex_lock(&a->mu);
        while (!a->taken && a->head < a->tail) {
                if (slot_at(a, a->head)->state == SLOT_BUILT) {
                        sl = slot_at(a, a->head);
                        a->taken = true;
                        break;
                }
                if (wait_ms <= 0 ||
                    pthread_cond_timedwait(&a->done, &a->mu, &until) != 0)
                        break;
        }
        pthread_mutex_unlock(&a->mu);
        return sl ? &sl->s : NULL;
}

void nt_cl_ahead_release(nt_cl_ahead_t *a)
{
        struct ahead_slot *sl;
        rd_kafka_message_t *rkm;

        pthread_mutex_lock(&a->mu);
        if (!a->taken) {
                pthread_mutex_unlock(&a->mu);
                return;
        }
        sl = slot_at(a, a->head);
        rkm = sl->s.rkm;
        sl->s.rkm = NULL;
        a->bytes -= rkm->len;
        a->head++;
        a->taken = false;
        /* A huge event's memory is not kept for the next input. */
        if (sl->s.ev.value.cap > AHEAD_KEEP ||
            sl->s.ev.label_value.cap > AHEAD_KEEP) {
                nt_buf_free(&sl->s.ev.value);
                nt_buf_free(&sl->s.ev.label_value);
        }
        pthread_mutex_unlock(&a->mu);
        rd_kafka_message_destroy(rkm);
}

/* Whether a partition list names this input's partition. */
static bool names(const rd_kafka_topic_partition_list_t *parts,
                  const rd_kafka_message_t *rkm)
{
        return rd_kafka_topic_partition_list_find(parts,
                                                  rd_kafka_topic_name(rkm->rkt),
                                                  rkm->partition) != NULL;
}

int nt_cl_ahead_drop(nt_cl_ahead_t *a, rd_kafka_t *consumer,
                     const rd_kafka_topic_partition_list_t *only, bool seek,
                     int timeout_ms)
{
        rd_kafka_message_t *gone[AHEAD_SLOTS];
        rd_kafka_topic_partition_list_t *back;
        uint64_t seq, keep, first;
        size_t n_gone = 0, i;
        int rc;

        if (!a)
                return NT_OK;
        pthread_mutex_lock(&a->mu);
        /* No worker may hold a slot while they move. */
        a->paused = true;
        while (a->busy > 0)
                pthread_cond_wait(&a->done, &a->mu);
        first = a->head + (a->taken ? 1 : 0);
        keep = first;
        for (seq = first; seq < a->tail; seq++) {
                struct ahead_slot *sl = slot_at(a, seq);

                if (!only || names(only, sl->s.rkm)) {
                        gone[n_gone++] = sl->s.rkm;
                        a->bytes -= sl->s.rkm->len;
                        sl->s.rkm = NULL;
                        continue;
                }
                if (keep != seq) {
                        /* Swap, so that each slot keeps an event buffer
                         * of its own. */
                        struct ahead_slot t = *slot_at(a, keep);

                        *slot_at(a, keep) = *sl;
                        *sl = t;
                }
                keep++;
        }
        a->tail = keep;
        /* Claims were in order, so the built kept slots lead. */
        for (a->next = first;
             a->next < a->tail && slot_at(a, a->next)->state == SLOT_BUILT;
             a->next++)
                ;
        a->paused = false;
        pthread_cond_broadcast(&a->work);
        pthread_mutex_unlock(&a->mu);
        if (n_gone == 0)
                return NT_OK;
        NT_DEBUG(COMPONENT, "%zu input(s) read ahead dropped%s", n_gone,
                 seek ? ", to be read again" : "");
        back = seek ? rd_kafka_topic_partition_list_new(4) : NULL;
        for (i = 0; i < n_gone; i++) {
                rd_kafka_message_t *rkm = gone[i];

                /* The first dropped input of a partition is its lowest. */
                if (back && !names(back, rkm))
                        rd_kafka_topic_partition_list_add(
                            back, rd_kafka_topic_name(rkm->rkt), rkm->partition)
                            ->offset = rkm->offset;
                rd_kafka_message_destroy(rkm);
        }
        if (!back)
                return NT_OK;
        rc = nt_kafka_seek(consumer, back, timeout_ms, COMPONENT, NULL, 0);
        rd_kafka_topic_partition_list_destroy(back);
        return rc;
}

int nt_cl_ahead_set_classifier(nt_cl_ahead_t *a, nt_classifier_t *clf)
{
        nt_classifier_t *fresh[MAX_THREADS];
        size_t i;

        for (i = 0; i < a->n_threads; i++) {
                fresh[i] = nt_classifier_fork(clf);
                if (!fresh[i]) {
                        while (i-- > 0)
                                nt_classifier_destroy(fresh[i]);
                        return NT_ERR_NOMEM;
                }
        }
        pthread_mutex_lock(&a->mu);
        a->paused = true;
        while (a->busy > 0)
                pthread_cond_wait(&a->done, &a->mu);
        for (i = 0; i < a->n_threads; i++) {
                nt_classifier_t *old = a->clf[i];

                a->clf[i] = fresh[i];
                fresh[i] = old;
        }
        a->paused = false;
        pthread_cond_broadcast(&a->work);
        pthread_mutex_unlock(&a->mu);
        for (i = 0; i < a->n_threads; i++)
                nt_classifier_destroy(fresh[i]);
        return NT_OK;
}
