/* The classify loop's batch as a Kafka transaction: the clients it
 * needs, the delivery reports that find refused outputs, and begin,
 * commit, abort, rewind and rebuilding the producer after a fatal error,
 * each bounded by the shutdown deadline. How and why: the design note at
 * the top of consumer/classify_loop.c; the calls themselves, their error
 * classes and librdkafka's pitfalls are common/txn.c, shared with
 * produce --group. */
#include "consumer/classify_loop_internal.h"

void nt_cl_nap_ms(int ms)
{
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

        nanosleep(&ts, NULL);
}

/* The monotonic time by which the loop's Kafka calls must be done: four
 * fifths of consumer.shutdown_timeout after the signal was first seen
 * (the rest is for closing and freeing), INT64_MAX while running. */
int64_t nt_cl_stop_deadline(nt_classify_loop_t *l)
{
        return nt_txn_stop_deadline(&l->stop_at, l->shutdown_ms);
}

void nt_cl_set_broken(nt_classify_loop_t *l, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(l->broken_why, sizeof(l->broken_why), fmt, ap);
        va_end(ap);
        l->broken = true;
        NT_ERROR(COMPONENT, "%s", l->broken_why);
}

int nt_cl_seek(nt_classify_loop_t *l, rd_kafka_topic_partition_list_t *parts,
               const char *what)
{
        char errstr[256];

        if (nt_kafka_seek(l->consumer, parts, l->op_ms, COMPONENT, errstr,
                          sizeof(errstr)) == NT_OK)
                return NT_OK;
        nt_cl_set_broken(l,
                         "%s: %s; stopping, so that no input is skipped (the "
                         "next start reads from the committed offsets)",
                         what, errstr);
        return NT_ERR_KAFKA;
}

/* ---- delivery reports -------------------------------------------- */

/* Errors that sending the same record again cannot cure. */
static bool permanent_delivery_error(rd_kafka_resp_err_t err)
{
        return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
               err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE ||
               err == RD_KAFKA_RESP_ERR_INVALID_RECORD ||
               err == RD_KAFKA_RESP_ERR_INVALID_MSG;
}

/* The per-message opaque: the batch generation and the input's index. */
void *nt_cl_msg_tag(const nt_classify_loop_t *l, size_t idx)
{
        return (void *)(uintptr_t)(((uint64_t)l->gen << 32) |
                                   (uint64_t)(idx + 1));
}

static void add_pending(nt_classify_loop_t *l, const struct batch_input *in,
                        rd_kafka_resp_err_t err)
{
        size_t i;

        for (i = 0; i < l->n_pending; i++) {
                if (l->pending[i].partition == in->partition &&
                    l->pending[i].offset == in->offset)
                        return;
        }
        if (l->n_pending == MAX_POISON)
                return;
        l->pending[l->n_pending].partition = in->partition;
        l->pending[l->n_pending].offset = in->offset;
        l->pending[l->n_pending].times = 0;
        snprintf(l->pending[l->n_pending].why,
                 sizeof(l->pending[l->n_pending].why), "%s",
                 rd_kafka_err2name(err));
        l->n_pending++;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque)
{
        nt_classify_loop_t *l = opaque;
        uint64_t tag = (uint64_t)(uintptr_t)rkm->_private;
        size_t idx;

        (void)rk;
        if (!tag || (uint32_t)(tag >> 32) != l->gen)
                return; /* an older batch's: already settled */
        idx = (size_t)(tag & 0xffffffffu) - 1;
        if (l->outstanding)
                l->outstanding--;
        if (!rkm->err)
                return;
        l->failed = true;
        if (rkm->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
            rkm->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
                return;
        NT_WARN(COMPONENT, "delivery to %s failed: %s",
                rd_kafka_topic_name(rkm->rkt), rd_kafka_err2str(rkm->err));
        if (permanent_delivery_error(rkm->err) && idx < l->batch_n)
                add_pending(l, &l->inputs[idx], rkm->err);
}

/* Moves the refusals of a failed batch to the remembered set; an input
 * refused a second time (its dead letter too) is marked to be skipped. */
static void promote_pending(nt_classify_loop_t *l)
{
        size_t i, k;

        for (i = 0; i < l->n_pending; i++) {
                struct poison *p = &l->pending[i];

                for (k = 0; k < l->n_poison; k++) {
                        if (l->poison[k].partition == p->partition &&
                            l->poison[k].offset == p->offset)
                                break;
                }
                if (k == l->n_poison) {
                        if (l->n_poison == MAX_POISON) {
                                memmove(&l->poison[0], &l->poison[1],
                                        (MAX_POISON - 1) * sizeof(*p));
                                l->n_poison--;
                        }
                        k = l->n_poison++;
                        l->poison[k] = *p;
                }
                l->poison[k].times++;
                NT_WARN(COMPONENT,
                        "the broker refused the output of %s [%d] at offset "
                        "%lld (%s): %s",
                        l->in_topic, (int)p->partition, (long long)p->offset,
                        p->why,
                        l->poison[k].times == SUSPECT ? "trying it alone"
                        : l->poison[k].times == GUILTY
                            ? "it goes to the dead-letter topic instead"
                            : "it will be skipped");
        }
        l->n_pending = 0;
}

const struct poison *nt_cl_find_poison(const nt_classify_loop_t *l,
                                       int32_t partition, int64_t offset)
{
        size_t i;

        for (i = 0; i < l->n_poison; i++) {
                if (l->poison[i].partition == partition &&
                    l->poison[i].offset == offset)
                        return &l->poison[i];
        }
        return NULL;
}

/* A suspect whose transaction of its own committed was innocent. */
static void acquit(nt_classify_loop_t *l, int32_t partition, int64_t offset)
{
        size_t i;

        for (i = 0; i < l->n_poison; i++) {
                if (l->poison[i].partition == partition &&
                    l->poison[i].offset == offset) {
                        memmove(&l->poison[i], &l->poison[i + 1],
                                (l->n_poison - i - 1) * sizeof(l->poison[0]));
                        l->n_poison--;
                        return;
                }
        }
}

/* ---- clients ----------------------------------------------------- */

static bool kafka_has(const nt_config_t *cfg, const char *name)
{
        return json_object_get(nt_config_kafka(cfg), name) != NULL;
}

/* Served by rd_kafka_poll() in the loop's thread, like delivery reports. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
        nt_classify_loop_t *l = opaque;

        (void)rk;
        if (nt_kafka_stats_parse(json, len, &l->kstats) == NT_OK)
                l->have_kstats = true;
        return 0; /* librdkafka frees json */
}

static int on_consumer_stats(rd_kafka_t *rk, char *json, size_t len,
                             void *opaque)
{
        nt_classify_loop_t *l = opaque;

        (void)rk;
        if (nt_kafka_stats_parse(json, len, &l->ckstats) == NT_OK)
                l->have_ckstats = true;
        return 0;
}

rd_kafka_t *nt_cl_make_producer(nt_classify_loop_t *l, char *errstr,
                                size_t errstr_size)
{
        const char *props[16];
        size_t n = 0;

        props[n++] = "enable.idempotence";
        props[n++] = "true";
        props[n++] = "acks";
        props[n++] = "all";
        if (l->eos) {
                props[n++] = "transactional.id";
                props[n++] = l->txn_id;
        }
        /* librdkafka's default (1,000,000) is below consumer.max_message
         * (1 MiB): a dead letter of a whole input would be refused before
         * it left. */
        nt_kafka_extra_default(l->cfg, props, &n, "message.max.bytes",
                               l->producer_max_str);
        /* Readiness and the metrics follow the broker states. */
        nt_kafka_extra_default(l->cfg, props, &n, "statistics.interval.ms",
                               "1000");
        if (!kafka_has(l->cfg, "linger.ms") &&
            !kafka_has(l->cfg, "queue.buffering.max.ms")) {
                /* librdkafka's 5 ms sends many small batches, and the
                 * broker's CPU goes with batches and requests more than
                 * with bytes (docs/benchmarks.md). Waiting adds no
                 * latency that a reader sees: nothing is visible before
                 * the commit, and commit_transaction() sends what waits
                 * at once (so does rd_kafka_flush() in
                 * await_deliveries()). */
                props[n++] = "linger.ms";
                props[n++] = l->linger_str;
        }
        if (!kafka_has(l->cfg, "compression.type") &&
            !kafka_has(l->cfg, "compression.codec")) {
                /* Each input becomes an enriched event (the input and
                 * more) and a record per label: several times the raw
                 * topic's bytes uncompressed (docs/benchmarks.md). */
                props[n++] = "compression.type";
                props[n++] = nt_config_str(l->cfg, "consumer.compression");
        }
        props[n] = NULL;
        return nt_kafka_producer_new_with_stats(
            l->cfg, props, on_delivery, on_stats, l, errstr, errstr_size);
}

/* init_transactions() in slices (common/txn.c). */
int nt_cl_init_transactions(nt_classify_loop_t *l, char *errstr,
                            size_t errstr_size)
{
        return nt_txn_init(l->producer, l->txn_id, l->op_ms, COMPONENT, errstr,
                           errstr_size);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque);

rd_kafka_t *nt_cl_make_consumer(nt_classify_loop_t *l, char *errstr,
                                size_t errstr_size)
{
        const char *props[8];
        size_t n = 0;

        props[n++] = "enable.partition.eof";
        props[n++] = "false";
        /* A new group starts at the beginning of the raw topic, so that
         * nothing published before the first start is skipped. */
        nt_kafka_extra_default(l->cfg, props, &n, "auto.offset.reset",
                               "earliest");
        nt_kafka_extra_default(l->cfg, props, &n, "statistics.interval.ms",
                               "1000");
        props[n] = NULL;
        return nt_kafka_txn_consumer_new(l->cfg, "consumer.group_id", props,
                                         on_rebalance, on_consumer_stats, l,
                                         errstr, errstr_size);
}

/* ---- the batch --------------------------------------------------- */

void nt_cl_batch_reset(nt_classify_loop_t *l)
{
        l->batch_events = l->batch_label_events = l->batch_dead_letters = 0;
        l->open = false;
        l->isolated = false;
        l->batch_n = 0;
        l->outstanding = 0;
        l->failed = false;
        l->gen++;
        if (l->next)
                rd_kafka_topic_partition_list_destroy(l->next);
        if (l->first)
                rd_kafka_topic_partition_list_destroy(l->first);
        l->next = rd_kafka_topic_partition_list_new(8);
        l->first = rd_kafka_topic_partition_list_new(8);
}

/* Seeks the partitions the batch read back to their committed offsets (or
 * to where the batch began, when the group has none yet), so that the
 * batch is read again. */
static void rewind_batch(nt_classify_loop_t *l)
{
        rd_kafka_topic_partition_list_t *parts;
        rd_kafka_resp_err_t err;
        int i;

        if (!l->first || l->first->cnt == 0)
                return;
        /* Inputs of these partitions read ahead come after the batch's:
         * the seek below reads them again. */
        nt_cl_ahead_drop(l->ahead, l->consumer, l->first, false, l->op_ms);
        parts = rd_kafka_topic_partition_list_copy(l->first);
        for (i = 0; i < parts->cnt; i++)
                parts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
        err = rd_kafka_committed(l->consumer, parts, l->op_ms);
        if (err)
                NT_WARN(COMPONENT,
                        "reading the committed offsets: %s; rewinding to "
                        "the start of the batch",
                        rd_kafka_err2str(err));
        for (i = 0; i < parts->cnt; i++) {
                rd_kafka_topic_partition_t *p = &parts->elems[i];
                rd_kafka_topic_partition_t *f =
                    rd_kafka_topic_partition_list_find(l->first, p->topic,
                                                       p->partition);

                if (err || p->err || p->offset < 0)
                        p->offset = f->offset;
                p->err = RD_KAFKA_RESP_ERR_NO_ERROR;
        }
        if (nt_cl_seek(l, parts, "rewinding the batch") == NT_OK) {
                for (i = 0; i < parts->cnt; i++) {
                        if (!parts->elems[i].err)
                                NT_DEBUG(COMPONENT, "rewound %s [%d] to %lld",
                                         parts->elems[i].topic,
                                         (int)parts->elems[i].partition,
                                         (long long)parts->elems[i].offset);
                }
        }
        rd_kafka_topic_partition_list_destroy(parts);
}

/* Stopping with a batch that cannot be committed in time (the broker is
 * down or slow): the batch is left to the broker. Its offsets were not
 * committed, so its inputs are read again after a restart, whose
 * nt_cl_init_transactions() (same transactional.id) aborts the open
 * transaction; nothing is lost and nothing is doubled. */
static void leave_batch(nt_classify_loop_t *l)
{
        l->left_batch = true;
        if (l->open)
                NT_WARN(COMPONENT,
                        "stopping: the batch of %zu input(s) is left "
                        "uncommitted; it is read again after a restart",
                        l->batch_n);
        if (l->producer) {
                nt_txn_purge(l->producer);
                rd_kafka_poll(l->producer, 0);
        }
        l->n_pending = 0;
        nt_cl_batch_reset(l);
}

/* One transactional call of the batch (common/txn.c), bounded by the
 * shutdown deadline. */
static rd_kafka_error_t *txn_call(nt_classify_loop_t *l, enum nt_txn_op op)
{
        return nt_txn_call(l->producer, op, l->consumer, l->next, l->op_ms,
                           nt_cl_stop_deadline(l));
}

static rd_kafka_t *make_producer_cb(void *opaque, char *errstr,
                                    size_t errstr_size)
{
        return nt_cl_make_producer(opaque, errstr, errstr_size);
}

/* Replaces a producer that hit a fatal error (or an error of no known
 * class, which librdkafka's documentation says to treat as fatal). The new
 * producer's nt_cl_init_transactions() aborts what the old one left open. The
 * batch is read again unless `rewind` is false (its partitions are being
 * revoked). */
static int rebuild_producer(nt_classify_loop_t *l, bool rewind)
{
        char reason[512] = "", errstr[512];
        rd_kafka_resp_err_t ferr;
        int64_t now = nt_date_mono_ms();

        if (!nt_sig_running()) {
                leave_batch(l);
                return NT_ERR_STOPPED;
        }

        ferr = rd_kafka_fatal_error(l->producer, reason, sizeof(reason));
        NT_ERROR(COMPONENT,
                 "producer error %s: %s; recreating the producer and "
                 "redoing the batch of %zu input(s)",
                 rd_kafka_err2name(ferr), reason[0] ? reason : "(no detail)",
                 l->batch_n);
        if (nt_txn_fenced_error(ferr)) {
                size_t recent = nt_txn_fence_note(&l->fences, now);

                if (recent >= NT_TXN_FENCE_LIMIT) {
                        nt_cl_set_broken(
                            l,
                            "fenced %zu times within %d s: another "
                            "live instance uses transactional.id "
                            "\"%s\"; give each instance its own "
                            "consumer.transactional_id",
                            recent, NT_TXN_FENCE_WINDOW_MS / 1000, l->txn_id);
                        return NT_ERR_KAFKA;
                }
        }
        promote_pending(l);
        l->st.rebuilds++;
        l->producer = nt_txn_rebuild(l->producer, make_producer_cb, l,
                                     l->eos ? l->txn_id : NULL, l->op_ms,
                                     COMPONENT, errstr, sizeof(errstr));
        if (!l->producer) {
                if (!nt_sig_running()) {
                        nt_cl_set_broken(l, "%s", errstr);
                        return NT_ERR_STOPPED;
                }
                nt_cl_set_broken(l, "cannot recreate the producer: %s", errstr);
                return NT_ERR_KAFKA;
        }
        if (rewind)
                rewind_batch(l);
        nt_cl_batch_reset(l);
        return NT_OK;
}

/* Aborts the open batch: the transaction is aborted (exactly_once) and,
 * unless the partitions are being revoked, the inputs are read again from
 * the committed offsets. */
int nt_cl_abort_batch(nt_classify_loop_t *l, bool rewind)
{
        if (!l->producer) {
                /* The producer could not be recreated: nothing to abort
                 * here; the broker ends the transaction on its timeout. */
                nt_cl_batch_reset(l);
                return NT_ERR_KAFKA;
        }
        if (l->eos && l->open) {
                /* The purge's delivery reports also name the outputs the
                 * broker refused. */
                if (nt_txn_abort(l->producer, l->op_ms, nt_cl_stop_deadline(l),
                                 COMPONENT) != NT_OK)
                        return rebuild_producer(l, rewind);
        }
        l->st.aborts++;
        NT_WARN(COMPONENT, "batch of %zu input(s) aborted; %s", l->batch_n,
                rewind ? "reading it again" : "its partitions were revoked");
        promote_pending(l);
        if (rewind)
                rewind_batch(l);
        nt_cl_batch_reset(l);
        return NT_OK;
}

/* What to do with a transactional call's error: 1 retry, 0 handled (the
 * batch was aborted, left or the producer rebuilt). */
static int txn_error(nt_classify_loop_t *l, const char *call,
                     rd_kafka_error_t *error, int tries, bool rewind)
{
        switch (nt_txn_judge(COMPONENT, call, error, tries)) {
        case NT_TXN_NEXT_RETRY:
                return 1;
        case NT_TXN_NEXT_LEAVE:
                leave_batch(l);
                return 0;
        case NT_TXN_NEXT_ABORT:
                nt_cl_abort_batch(l, rewind);
                return 0;
        default:
                rebuild_producer(l, rewind);
                return 0;
        }
}

/* Starts the batch's transaction. Checks for a fatal error first:
 * begin_transaction() after one can hang in librdkafka 2.0.2. */
int nt_cl_begin_batch(nt_classify_loop_t *l)
{
        bool rebuild;

        l->batch_start = nt_date_mono_ms();
        if (!l->eos) {
                l->open = true;
                return NT_OK;
        }
        if (rd_kafka_fatal_error(l->producer, NULL, 0) &&
            rebuild_producer(l, false) != NT_OK)
                return NT_ERR_KAFKA;
        if (nt_txn_begin(l->producer, COMPONENT, &rebuild) != NT_OK) {
                if (rebuild)
                        rebuild_producer(l, false);
                return NT_ERR_KAFKA;
        }
        l->open = true;
        return NT_OK;
}

/* at_least_once: waits for every report of the batch, at most timeout_ms.
 * True when all were delivered. */
static bool await_deliveries(nt_classify_loop_t *l, int64_t timeout_ms)
{
        int64_t deadline = nt_date_mono_ms() + timeout_ms;

        /* rd_kafka_flush(), not rd_kafka_poll(): it sends at once what
         * waits for linger.ms, and serves the delivery reports. */
        while (l->outstanding > 0 && !l->failed && nt_date_mono_ms() < deadline)
                rd_kafka_flush(l->producer, 50);
        if (l->outstanding > 0 && !l->failed)
                NT_WARN(COMPONENT,
                        "%zu output(s) of the batch not confirmed within "
                        "%lld ms",
                        l->outstanding, (long long)timeout_ms);
        return l->outstanding == 0 && !l->failed;
}

static void batch_done(nt_classify_loop_t *l)
{
        if (l->isolated && l->batch_n == 1)
                acquit(l, l->inputs[0].partition, l->inputs[0].offset);
        l->st.committed += l->batch_n;
        l->st.events += l->batch_events;
        l->st.label_events += l->batch_label_events;
        l->st.dead_letters += l->batch_dead_letters;
        l->st.batches++;
        l->st.last_commit_ms = nt_date_mono_ms();
        nt_cl_batch_reset(l);
}

/* Commits the open batch: its outputs and its input offsets together.
 * `rewind` false when called on a revoke (a failed batch is then not read
 * again here; the partitions' next owner reads it). Returns 0 when
 * committed, NT_ERR_TRANSIENT when the batch was aborted (and will be
 * redone), NT_ERR_KAFKA when the loop cannot go on. */
int nt_cl_commit_batch(nt_classify_loop_t *l, bool rewind)
{
        rd_kafka_error_t *error;
        int tries;

        if (!l->open)
                return NT_OK;
        if (!l->producer)
                return nt_cl_abort_batch(l, rewind);
        if (!l->eos) {
                rd_kafka_resp_err_t err;

                if (!await_deliveries(l, l->op_ms)) {
                        nt_cl_abort_batch(l, rewind);
                        return l->broken ? NT_ERR_KAFKA : NT_ERR_TRANSIENT;
                }
                err = l->next->cnt ? rd_kafka_commit(l->consumer, l->next, 0)
                                   : RD_KAFKA_RESP_ERR_NO_ERROR;
                if (err)
                        /* The outputs are out; the next commit covers
                         * these offsets too. A crash before it repeats the
                         * batch, which at-least-once allows. */
                        NT_WARN(COMPONENT, "committing offsets: %s",
                                rd_kafka_err2str(err));
                batch_done(l);
                return NT_OK;
        }
        if (l->next->cnt) {
                for (tries = 0;; tries++) {
                        error = txn_call(l, NT_TXN_SEND_OFFSETS);
                        if (!error)
                                break;
                        if (!txn_error(l, "send_offsets_to_transaction", error,
                                       tries, rewind))
                                return l->broken ? NT_ERR_KAFKA
                                                 : NT_ERR_TRANSIENT;
                }
        }
        for (tries = 0;; tries++) {
                error = txn_call(l, NT_TXN_COMMIT);
                if (!error)
                        break;
                if (!txn_error(l, "commit_transaction", error, tries, rewind))
                        return l->broken ? NT_ERR_KAFKA : NT_ERR_TRANSIENT;
        }
        /* Refusals can only be seen in a failed transaction; none here. */
        l->n_pending = 0;
        batch_done(l);
        return NT_OK;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        nt_classify_loop_t *l = opaque;
        bool cooperative =
            strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
        rd_kafka_error_t *error = NULL;
        int i;

        for (i = 0; i < parts->cnt; i++)
                NT_DEBUG(COMPONENT, "%s %s [%d]",
                         err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS
                             ? "assigned"
                             : "revoked",
                         parts->elems[i].topic, (int)parts->elems[i].partition);
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                NT_INFO(COMPONENT, "assigned %d partition(s)", parts->cnt);
                l->joined = true;
                /* Offsets are left unset, so each partition starts at the
                 * group's committed offset. */
                if (cooperative)
                        error = rd_kafka_incremental_assign(rk, parts);
                else
                        rd_kafka_assign(rk, parts);
        } else {
                /* No transaction spans a revoke: commit what was done for
                 * these partitions while the group generation is still
                 * ours, or abort when they are already lost. */
                NT_INFO(COMPONENT, "revoking %d partition(s)%s", parts->cnt,
                        rd_kafka_assignment_lost(rk) ? " (lost)" : "");
                if (l->open) {
                        if (rd_kafka_assignment_lost(rk))
                                nt_cl_abort_batch(l, false);
                        else
                                nt_cl_commit_batch(l, false);
                }
                /* Their next owner reads what was read ahead of them. */
                nt_cl_ahead_drop(l->ahead, rk, parts, false, l->op_ms);
                if (cooperative)
                        error = rd_kafka_incremental_unassign(rk, parts);
                else
                        rd_kafka_assign(rk, NULL);
        }
        if (error) {
                NT_ERROR(COMPONENT, "rebalance: %s",
                         rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
}
