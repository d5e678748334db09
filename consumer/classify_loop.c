/* Exactly-once design, in short (docs/configuration.md has the operator's
 * side):
 *
 * - One transactional producer per instance. Its transactional.id is
 *   stable across restarts of the same instance ("newstap-classify-" plus
 *   the host name, or consumer.transactional_id), so that a restarted
 *   instance's init_transactions() at once aborts whatever transaction its
 *   killed predecessor left open, instead of leaving read_committed
 *   readers stuck behind it until transaction.timeout.ms.
 * - Zombie fencing does not rely on the transactional.id (KIP-447): the
 *   consumed offsets go into the transaction with
 *   rd_kafka_send_offsets_to_transaction() and the consumer's group
 *   metadata, so the group coordinator refuses them from a member whose
 *   generation is gone. An instance that lost its partitions therefore
 *   cannot commit output for them, whatever its transactional.id, and
 *   partitions may move between instances freely. Two live instances must
 *   not share a transactional.id (they would fence each other in turns);
 *   repeated fencing stops the loop with a message saying so.
 * - A batch is one transaction: at most consumer.batch_max inputs or
 *   consumer.batch_ms, far below transaction.timeout.ms. The transaction
 *   begins with the batch's first input, so no empty transaction is kept
 *   open; it never spans a revoke (the rebalance callback commits it, or
 *   aborts it when the partitions were lost).
 * - Errors as librdkafka's documentation sorts them: retriable -> call
 *   again (bounded); abortable -> abort, seek the batch's partitions back
 *   to the committed offsets and redo; fatal (or anything else) -> destroy
 *   and recreate the producer, whose init_transactions() aborts the old
 *   transaction, then seek back and redo. rd_kafka_fatal_error() is checked
 *   before every begin_transaction(): librdkafka 2.0.2 can hang in it after
 *   a fatal error.
 * - An input whose output the broker refused for good (too large for the
 *   topic, invalid record) would abort its batch forever. The broker
 *   refuses a whole record batch, so every input with an output in it is
 *   a suspect: on the redo each suspect gets a transaction of its own;
 *   one that fails alone is guilty and goes to the dead-letter topic
 *   instead (and is skipped, logged, if even that is refused), so the
 *   partition keeps flowing and innocent inputs are not sent away.
 * - Shutdown is bounded by consumer.shutdown_timeout in every state:
 *   transactional calls run in slices that see the signal; once stopping,
 *   a batch that cannot commit is left to the broker (not aborted, no new
 *   producer), since the next start's init_transactions() aborts it and
 *   its uncommitted inputs are read again; a call librdkafka does not
 *   end (send_offsets_to_transaction with the coordinator down) is cut by
 *   a watchdog thread ending the process at the timeout.
 *
 * At-least-once mode uses an idempotent producer without transactions and
 * commits a batch's offsets only after every output of the batch was
 * delivered; a failure rewinds to the committed offsets (duplicates, never
 * losses).
 *
 * Events are built (parse, classify, write) by consumer.threads workers
 * ahead of the loop, so that building overlaps sending and committing;
 * the loop takes them back in input order and does everything else as
 * before. An input read ahead is in no batch until the loop takes it, so
 * every move of the consumer's position drops what was read ahead of it
 * there (consumer/classify_ahead.c). Such a move (a seek) that fails on a
 * partition still assigned stops the loop, since reading on would skip
 * inputs (nt_cl_seek()).
 *
 * This file is the loop: inputs, their outputs, label topics, set-up, run
 * and shutdown. The batch's transaction (clients, delivery reports,
 * begin, commit, abort, rewind, rebuild) is consumer/classify_txn.c; the
 * queue of inputs read ahead and its workers, consumer/classify_ahead.c. */
#include "consumer/classify_loop_internal.h"
#include "common/buf.h"

/* The loop's metrics, in the order refresh_health() sets them. */
static const struct nt_metric_desc metric_defs[] = {
    {"newstap_classify_inputs_total", "counter",
     "Inputs read from the raw topic (again after a rewind)."},
    {"newstap_classify_committed_total", "counter",
     "Inputs whose batch was committed."},
    {"newstap_classify_events_total", "counter",
     "Events written to the enriched topic (in committed or aborted "
     "batches)."},
    {"newstap_classify_label_events_total", "counter",
     "Events written to label topics."},
    {"newstap_classify_dead_letters_total", "counter",
     "Inputs written to the dead-letter topic."},
    {"newstap_classify_batches_total", "counter",
     "Batches (transactions) committed."},
    {"newstap_classify_aborts_total", "counter",
     "Batches aborted and read again."},
    {"newstap_classify_producer_rebuilds_total", "counter",
     "Producers recreated after a fatal error."},
    {"newstap_classify_reloads_total", "counter", "Rule sets swapped in."},
    {"newstap_kafka_brokers_up", "gauge",
     "Brokers librdkafka sees in state UP."},
    {"newstap_kafka_consumer_lag", "gauge",
     "Messages behind on the raw topic (librdkafka)."},
};

/* ---- label topics ------------------------------------------------ */

static bool known_topic(const nt_classify_loop_t *l, const char *topic)
{
        size_t i;

        for (i = 0; i < l->n_known; i++) {
                if (strcmp(l->known[i], topic) == 0)
                        return true;
        }
        return false;
}

/* Which of the topics the cluster does not have, by a metadata request
 * for all topics (asking for the topics by name could auto-create them
 * with the broker's defaults). When the request fails, all of them. */
static size_t count_missing(nt_classify_loop_t *l, char *const *topics,
                            size_t n, const char **missing)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err;
        size_t i, n_missing = 0;
        int k;

        err = rd_kafka_metadata(l->producer, 1, NULL, &md, 10000);
        for (i = 0; i < n; i++) {
                bool found = false;

                for (k = 0; !err && k < md->topic_cnt && !found; k++)
                        found = md->topics[k].err == 0 &&
                                strcmp(md->topics[k].topic, topics[i]) == 0;
                if (!found)
                        missing[n_missing++] = topics[i];
        }
        if (md)
                rd_kafka_metadata_destroy(md);
        return n_missing;
}

/* Creates the label topics of these topic ids that were not seen yet
 * (auto-creation may be off on a production cluster). A failure is
 * logged, not fatal: the topics may exist already without the right to
 * create them; producing then says what is wrong. */
static int ensure_label_topics(nt_classify_loop_t *l, const char *const *ids,
                               size_t n)
{
        char **fresh = calloc(n ? n : 1, sizeof(*fresh));
        const char **missing = calloc(n ? n : 1, sizeof(*missing));
        char errstr[512];
        size_t i, k, n_fresh = 0, n_missing;
        int err = NT_OK;

        if (!fresh || !missing) {
                err = NT_ERR_NOMEM;
                goto out;
        }
        for (i = 0; i < n; i++) {
                size_t len = strlen(l->prefix) + strlen(ids[i]) + 1;
                char *topic = malloc(len);

                if (!topic) {
                        err = NT_ERR_NOMEM;
                        goto out;
                }
                snprintf(topic, len, "%s%s", l->prefix, ids[i]);
                for (k = 0; k < n_fresh; k++) {
                        if (strcmp(fresh[k], topic) == 0)
                                break;
                }
                if (known_topic(l, topic) || k < n_fresh) {
                        free(topic);
                        continue;
                }
                fresh[n_fresh++] = topic;
        }
        if (n_fresh == 0)
                goto out;
        err = nt_array_grow(&l->known, &l->cap_known, l->n_known + n_fresh,
                            sizeof(*l->known));
        if (err)
                goto out;
        n_missing = count_missing(l, fresh, n_fresh, missing);
        if (n_missing == 0)
                NT_DEBUG(COMPONENT, "label topics exist: %zu", n_fresh);
        else if (nt_kafka_create_topics(l->producer, missing, n_missing,
                                        l->label_partitions, 10000, errstr,
                                        sizeof(errstr)) != NT_OK)
                NT_WARN(COMPONENT, "label topics: %s", errstr);
        else
                NT_INFO(COMPONENT, "label topics created: %zu (%s...)",
                        n_missing, missing[0]);
        for (i = 0; i < n_fresh; i++) {
                l->known[l->n_known++] = fresh[i];
                fresh[i] = NULL;
        }
out:
        for (i = 0; i < n_fresh; i++)
                free(fresh[i]);
        free(fresh);
        free(missing);
        return err;
}

/* The label topics of every topic of the rule set. */
static int ensure_rule_topics(nt_classify_loop_t *l, nt_classifier_t *c)
{
        const struct nt_rules *r = nt_match_rules(nt_classifier_matcher(c));
        const char **ids = calloc(r->n_topics ? r->n_topics : 1, sizeof(*ids));
        size_t i;
        int err;

        if (!ids)
                return NT_ERR_NOMEM;
        for (i = 0; i < r->n_topics; i++)
                ids[i] = r->topics[i].id;
        err = ensure_label_topics(l, ids, r->n_topics);
        free(ids);
        return err;
}

/* ---- one input --------------------------------------------------- */

/* Hands one record to the producer, waiting while its queue is full.
 * Takes `hdrs` in all cases. Returns 0 or the producev error. */
static rd_kafka_resp_err_t produce(nt_classify_loop_t *l, const char *topic,
                                   const void *key, size_t key_len,
                                   const void *value, size_t len,
                                   rd_kafka_headers_t *hdrs, int64_t ts,
                                   size_t idx)
{
        rd_kafka_resp_err_t err;

        for (;;) {
                err = rd_kafka_producev(
                    l->producer, RD_KAFKA_V_TOPIC(topic),
                    RD_KAFKA_V_KEY(key, key_len),
                    RD_KAFKA_V_VALUE((void *)value, len),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_TIMESTAMP(ts),
                    RD_KAFKA_V_OPAQUE(nt_cl_msg_tag(l, idx)), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || !nt_sig_running())
                        break;
                rd_kafka_poll(l->producer, 50);
        }
        if (err) {
                rd_kafka_headers_destroy(hdrs);
                return err;
        }
        l->outstanding++;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* The dead letter of an input: its key and (up to `keep` bytes of) its
 * value, headers naming the reason and the origin, cut to what the
 * producer and the dead-letter topic take (dlq_max). When even that is
 * too large for the producer, only the first DLQ_REFUSED_KEEP bytes go. */
static rd_kafka_resp_err_t send_dead_letter(nt_classify_loop_t *l,
                                            const rd_kafka_message_t *rkm,
                                            enum nt_enriched_reason reason,
                                            const char *message, size_t keep,
                                            size_t idx)
{
        struct nt_enriched_origin origin = {l->in_topic, rkm->partition,
                                            rkm->offset};
        rd_kafka_timestamp_type_t tstype;
        int64_t ts = rd_kafka_message_timestamp(rkm, &tstype);
        rd_kafka_resp_err_t err;
        size_t len = rkm->len;
        size_t overhead = rkm->key_len + strlen(message) + DLQ_OVERHEAD;
        int attempt;

        if (l->dlq_max > overhead && keep > l->dlq_max - overhead)
                keep = l->dlq_max - overhead;
        {
                char part[16], off[24];
                const char *fields[] = {
                    "topic",     l->in_topic,
                    "partition", part,
                    "offset",    off,
                    "reason",    nt_enriched_reason_name(reason),
                    "detail",    message,
                    NULL};

                snprintf(part, sizeof(part), "%d", (int)rkm->partition);
                snprintf(off, sizeof(off), "%lld", (long long)rkm->offset);
                nt_log_kv(NT_LOG_WARN, COMPONENT, fields,
                          "dead letter: %s [%d] at %lld: %s", l->in_topic,
                          (int)rkm->partition, (long long)rkm->offset,
                          nt_enriched_reason_name(reason));
        }
        for (attempt = 0; attempt < 2; attempt++) {
                size_t n = len < keep ? len : keep;

                err = produce(l, l->dlq_topic, rkm->key, rkm->key_len,
                              rkm->payload, n,
                              nt_enriched_dlq_headers(reason, message, &origin,
                                                      len, n < len),
                              ts > 0 ? ts : 0, idx);
                if (err != RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
                    keep <= DLQ_REFUSED_KEEP)
                        break;
                keep = DLQ_REFUSED_KEEP;
        }
        if (!err)
                l->batch_dead_letters++;
        return err;
}

/* The event on the enriched topic and its label records on the labels'
 * topics. */
static rd_kafka_resp_err_t send_event(nt_classify_loop_t *l,
                                      const rd_kafka_message_t *rkm,
                                      const struct nt_enriched_event *ev,
                                      size_t idx)
{
        struct nt_enriched_origin origin = {l->in_topic, rkm->partition,
                                            rkm->offset};
        rd_kafka_timestamp_type_t tstype;
        int64_t ts = rd_kafka_message_timestamp(rkm, &tstype);
        rd_kafka_headers_t *hdrs = nt_enriched_headers(ev, l->source, &origin);
        rd_kafka_resp_err_t err;
        char topic[512];
        size_t i;

        /* The record keeps the input's time (when the article was
         * written to the raw topic), so that retention downstream counts
         * from the same moment as upstream and `tail --since` finds the
         * same records on every topic; ce_time says when it was
         * classified, the article's `published` when it was published. */
        if (ts < 0)
                ts = 0;
        for (i = 0; i < ev->n_labels; i++) {
                /* The rule set's topics were created with it; a label
                 * outside it (none, today) gets its topic on demand. */
                snprintf(topic, sizeof(topic), "%s%s", l->prefix,
                         ev->labels[i]);
                if (!known_topic(l, topic) &&
                    ensure_label_topics(l, &ev->labels[i], 1) != NT_OK) {
                        rd_kafka_headers_destroy(hdrs);
                        return RD_KAFKA_RESP_ERR__FAIL;
                }
        }
        for (i = 0; i <= ev->n_labels; i++) {
                const char *t = l->out_topic, *value = ev->value.data;
                size_t len = ev->value.len;

                if (i > 0) {
                        /* A label topic gets the label's lean record. */
                        snprintf(topic, sizeof(topic), "%s%s", l->prefix,
                                 ev->labels[i - 1]);
                        t = topic;
                        nt_enriched_label(ev, i - 1, &value, &len);
                }
                err = produce(l, t, ev->id, strlen(ev->id), value, len,
                              i < ev->n_labels ? rd_kafka_headers_copy(hdrs)
                                               : hdrs,
                              ts, idx);
                if (err) {
                        if (i < ev->n_labels)
                                rd_kafka_headers_destroy(hdrs);
                        return err;
                }
                if (i == 0) {
                        l->batch_events++;
                } else {
                        l->batch_label_events++;
                        if (l->metrics)
                                nt_metrics_add(l->metrics,
                                               "newstap_classify_label_events_"
                                               "by_label_total",
                                               1, "label", ev->labels[i - 1],
                                               NULL);
                }
        }
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* Records the input in the batch (for the delivery reports and the
 * offsets). Returns its index, or -1 when out of memory. */
static long batch_add(nt_classify_loop_t *l, const rd_kafka_message_t *rkm)
{
        const char *topic = rd_kafka_topic_name(rkm->rkt);
        rd_kafka_topic_partition_t *p;

        if (nt_array_grow(&l->inputs, &l->cap_inputs, l->batch_n + 1,
                          sizeof(*l->inputs)))
                return -1;
        l->inputs[l->batch_n].partition = rkm->partition;
        l->inputs[l->batch_n].offset = rkm->offset;
        if (!rd_kafka_topic_partition_list_find(l->first, topic,
                                                rkm->partition))
                rd_kafka_topic_partition_list_add(l->first, topic,
                                                  rkm->partition)
                    ->offset = rkm->offset;
        p = rd_kafka_topic_partition_list_find(l->next, topic, rkm->partition);
        if (!p)
                p = rd_kafka_topic_partition_list_add(l->next, topic,
                                                      rkm->partition);
        p->offset = rkm->offset + 1;
        return (long)l->batch_n++;
}

/* Seeks one partition back to an input that could not be handled, so
 * that it is read again (with the inputs read ahead after it). */
static void seek_back(nt_classify_loop_t *l, const rd_kafka_message_t *rkm)
{
        rd_kafka_topic_partition_list_t *parts =
            rd_kafka_topic_partition_list_new(1);

        rd_kafka_topic_partition_list_add(parts, rd_kafka_topic_name(rkm->rkt),
                                          rkm->partition)
            ->offset = rkm->offset;
        nt_cl_ahead_drop(l->ahead, l->consumer, parts, false, l->op_ms);
        nt_cl_seek(l, parts, "seeking back an input");
        rd_kafka_topic_partition_list_destroy(parts);
}

/* Builds the event of an input in the loop's thread (consumer.threads
 * 0). Returns nt_enriched_build()'s code. */
static int build_here(nt_classify_loop_t *l, const rd_kafka_message_t *rkm,
                      double *eval_s)
{
        struct timespec t0, t1;
        int rc;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = nt_enriched_build(l->clf, &l->opts, rkm->payload, rkm->len,
                               nt_date_now_ms(), &l->ev);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        *eval_s = (double)(t1.tv_sec - t0.tv_sec) +
                  (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        return rc;
}

/* One input into the open batch, with its event built ahead (`slot`) or,
 * when slot is NULL, built here. Returns 0, or NT_ERR_TRANSIENT when the
 * batch must be aborted and read again. */
static int handle_input(nt_classify_loop_t *l, const rd_kafka_message_t *rkm,
                        const struct nt_cl_slot *slot)
{
        const struct nt_enriched_event *ev = slot ? &slot->ev : &l->ev;
        const struct poison *poison;
        rd_kafka_resp_err_t err;
        double eval_s = slot ? slot->eval_s : 0;
        long idx;
        int rc;

        poison = nt_cl_find_poison(l, rkm->partition, rkm->offset);
        if (poison && poison->times == SUSPECT && l->batch_n > 0) {
                /* A suspect is tried in a transaction of its own: first
                 * commit what the batch holds. If that fails, the rewind
                 * covers this input's partition when the batch read it;
                 * otherwise everything before this input there is
                 * committed, and seeking back to it is right. */
                bool covered = rd_kafka_topic_partition_list_find(
                                   l->first, rd_kafka_topic_name(rkm->rkt),
                                   rkm->partition) != NULL;

                if (nt_cl_commit_batch(l, true) != NT_OK) {
                        if (!covered)
                                seek_back(l, rkm);
                        return NT_OK;
                }
                /* The commit may have acquitted an earlier suspect. */
                poison = nt_cl_find_poison(l, rkm->partition, rkm->offset);
        }
        if (!l->open && nt_cl_begin_batch(l) != NT_OK) {
                seek_back(l, rkm);
                nt_cl_nap_ms(200);
                return NT_OK;
        }
        if (poison && poison->times == SUSPECT)
                l->isolated = true;
        if (l->st.first_input_ms == 0)
                l->st.first_input_ms = nt_date_mono_ms();
        idx = batch_add(l, rkm);
        if (idx < 0) {
                /* Not in the batch, so the rewind would not cover it. */
                seek_back(l, rkm);
                return NT_ERR_TRANSIENT;
        }
        l->st.consumed++;
        if (poison && poison->times >= HOPELESS) {
                NT_ERROR(COMPONENT,
                         "skipping %s [%d] at %lld: the broker refused both "
                         "its event and its dead letter (%s)",
                         l->in_topic, (int)rkm->partition,
                         (long long)rkm->offset, poison->why);
                return NT_OK;
        }
        if (poison && poison->times == GUILTY) {
                char msg[128];

                snprintf(msg, sizeof(msg), "the broker refused its event: %s",
                         poison->why);
                err = send_dead_letter(l, rkm, NT_ENRICHED_OUTPUT_REJECTED, msg,
                                       DLQ_REFUSED_KEEP, (size_t)idx);
                return err ? NT_ERR_TRANSIENT : NT_OK;
        }
        rc = slot ? slot->rc : build_here(l, rkm, &eval_s);
        if (l->metrics)
                nt_metrics_add(l->metrics,
                               "newstap_classify_eval_seconds_total", eval_s,
                               NULL);
        if (rc) {
                NT_ERROR(COMPONENT, "building an event: %s", nt_err_name(rc));
                return NT_ERR_TRANSIENT;
        }
        if (ev->reason != NT_ENRICHED_OK) {
                err = send_dead_letter(l, rkm, ev->reason, ev->error,
                                       l->opts.max_message, (size_t)idx);
        } else {
                err = send_event(l, rkm, ev, (size_t)idx);
                if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
                        char msg[160];

                        snprintf(msg, sizeof(msg),
                                 "the event (%zu bytes) is larger than the "
                                 "producer's message.max.bytes",
                                 ev->value.len);
                        err = send_dead_letter(
                            l, rkm, NT_ENRICHED_OUTPUT_REJECTED, msg,
                            l->opts.max_message, (size_t)idx);
                }
        }
        if (err) {
                NT_WARN(COMPONENT, "producing: %s", rd_kafka_err2str(err));
                return NT_ERR_TRANSIENT;
        }
        return NT_OK;
}

/* ---- setup and run ----------------------------------------------- */

/* How large a dead letter may be: the producer's message.max.bytes and
 * the dead-letter topic's max.message.bytes as the broker has it (Kafka's
 * default when the topic cannot be described: absent, no ACL, broker
 * down). Logged, as it decides how much of an input a dead letter
 * keeps. */
static void size_dead_letters(nt_classify_loop_t *l)
{
        const json_t *set =
            json_object_get(nt_config_kafka(l->cfg), "message.max.bytes");
        char value[32] = "", errstr[256] = "";
        int64_t n;
        size_t topic_max = KAFKA_DEFAULT_MAX_MESSAGE;
        const char *from = "Kafka's default";

        /* Set by the user: librdkafka has checked it already. */
        if (json_is_integer(set) && json_integer_value(set) > 0)
                l->producer_max = (size_t)json_integer_value(set);
        else if (json_is_string(set) &&
                 nt_num_parse_i64(json_string_value(set), 1, INT64_MAX, &n) ==
                     NT_OK)
                l->producer_max = (size_t)n;
        if (nt_kafka_topic_config(l->producer, l->dlq_topic,
                                  "max.message.bytes", value, sizeof(value),
                                  5000, errstr, sizeof(errstr)) == NT_OK &&
            nt_num_parse_i64(value, 1, INT64_MAX, &n) == NT_OK) {
                topic_max = (size_t)n;
                from = "the topic's max.message.bytes";
        } else {
                if (!errstr[0])
                        snprintf(errstr, sizeof(errstr),
                                 "max.message.bytes of %s is \"%s\"",
                                 l->dlq_topic, value);
                NT_INFO(COMPONENT,
                        "dead letters sized for Kafka's default "
                        "max.message.bytes (%zu): %s",
                        topic_max, errstr);
        }
        l->dlq_max = l->producer_max < topic_max ? l->producer_max : topic_max;
        NT_INFO(COMPONENT,
                "dead letters keep at most %zu bytes of an input "
                "(consumer.max_message), less key and headers within %zu "
                "(the producer's message.max.bytes %zu, %s %zu)",
                l->opts.max_message, l->dlq_max, l->producer_max, from,
                topic_max);
}

static void default_txn_id(char *buf, size_t size)
{
        char host[128];

        if (gethostname(host, sizeof(host)) != 0 || !host[0])
                snprintf(host, sizeof(host), "localhost");
        host[sizeof(host) - 1] = '\0';
        snprintf(buf, size, "newstap-classify-%s", host);
}

nt_classify_loop_t *nt_classify_loop_new(const nt_config_t *cfg,
                                         nt_classifier_t *clf, char *errstr,
                                         size_t errstr_size)
{
        nt_classify_loop_t *l = calloc(1, sizeof(*l));
        const char *txn;
        size_t max_value, threads;

        if (!l) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                return NULL;
        }
        l->cfg = cfg;
        /* The fixed series plus one per label. */
        l->metrics = nt_metrics_new(1024);
        if (!l->metrics) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                goto fail;
        }
        nt_metrics_describe_all(l->metrics, metric_defs,
                                sizeof(metric_defs) / sizeof(metric_defs[0]));
        nt_metrics_describe(l->metrics, "newstap_classify_eval_seconds_total",
                            "counter",
                            "Time spent classifying and building events "
                            "(divide by inputs for the mean).");
        nt_metrics_describe(l->metrics,
                            "newstap_classify_label_events_by_label_total",
                            "counter",
                            "Events written to label topics, by "
                            "label.");
        nt_metrics_describe(l->metrics, "newstap_build_info", "gauge",
                            "Always 1; the version is the label.");
        nt_metrics_set(l->metrics, "newstap_build_info", 1, "version",
                       NT_VERSION, NULL);
        l->eos = strcmp(nt_config_str(cfg, "consumer.delivery"),
                        "exactly_once") == 0;
        l->in_topic = nt_config_str(cfg, "topics.raw");
        l->out_topic = nt_config_str(cfg, "topics.enriched");
        l->prefix = nt_config_str(cfg, "topics.label_prefix");
        l->dlq_topic = nt_config_str(cfg, "topics.dlq");
        l->source = nt_config_str(cfg, "consumer.ce_source");
        l->batch_max = (size_t)nt_config_int(cfg, "consumer.batch_max");
        l->batch_ms = nt_config_ms(cfg, "consumer.batch_ms");
        l->shutdown_ms = nt_config_ms(cfg, "consumer.shutdown_timeout");
        l->op_ms = NT_TXN_OP_MS;
        l->label_partitions =
            (int)nt_config_int(cfg, "consumer.label_partitions");
        if (nt_enriched_opts_from_config(&l->opts, cfg, errstr, errstr_size))
                goto fail;
        /* The event is the input plus what was found in it: labels with
         * at most NT_ENRICHED_MAX_EVIDENCE spans each, entities, facts. */
        max_value = 2 * l->opts.max_message + ((size_t)4 << 20);
        nt_enriched_event_init(&l->ev, max_value);
        threads = (size_t)nt_config_int(cfg, "consumer.threads");
        if (threads > 0) {
                l->ahead = nt_cl_ahead_new(clf, &l->opts, max_value, threads,
                                           errstr, errstr_size);
                if (!l->ahead)
                        goto fail;
        }
        txn = nt_config_str(cfg, "consumer.transactional_id");
        if (l->eos && txn && *txn)
                snprintf(l->txn_id, sizeof(l->txn_id), "%s", txn);
        else if (l->eos)
                default_txn_id(l->txn_id, sizeof(l->txn_id));
        nt_cl_batch_reset(l);
        l->producer_max = l->opts.max_message + DLQ_OVERHEAD;
        if (l->producer_max < RDKAFKA_DEFAULT_MAX_MESSAGE)
                l->producer_max = RDKAFKA_DEFAULT_MAX_MESSAGE;
        if (l->producer_max > RDKAFKA_MAX_MAX_MESSAGE)
                l->producer_max = RDKAFKA_MAX_MAX_MESSAGE;
        snprintf(l->producer_max_str, sizeof(l->producer_max_str), "%zu",
                 l->producer_max);
        snprintf(l->linger_str, sizeof(l->linger_str), "%lld",
                 (long long)(l->batch_ms / 2));
        l->producer = nt_cl_make_producer(l, errstr, errstr_size);
        if (!l->producer)
                goto fail;
        size_dead_letters(l);
        if (l->eos) {
                NT_INFO(COMPONENT,
                        "exactly-once: transactional.id %s, batches of %zu "
                        "inputs or %lld ms",
                        l->txn_id, l->batch_max, (long long)l->batch_ms);
                if (nt_cl_init_transactions(l, errstr, errstr_size) != NT_OK)
                        goto fail;
        } else {
                NT_INFO(COMPONENT,
                        "at-least-once: batches of %zu inputs or %lld ms",
                        l->batch_max, (long long)l->batch_ms);
        }
        if (ensure_rule_topics(l, clf) != NT_OK) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                goto fail;
        }
        l->consumer = nt_cl_make_consumer(l, errstr, errstr_size);
        if (!l->consumer)
                goto fail;
        l->clf = clf;
        return l;
fail:
        nt_classify_loop_destroy(l);
        return NULL;
}

void nt_classify_loop_set_health(nt_classify_loop_t *l, nt_health_t *h)
{
        l->health = h;
}

/* Leaves the group. With the broker unreachable (a batch was left, or
 * the deadline has passed) the close would wait on the coordinator, so
 * the consumer is destroyed without it and the group drops the member at
 * its session timeout; otherwise the close is quick, and the watchdog
 * bounds it should the broker go away meanwhile. (The close on a queue,
 * rd_kafka_consumer_close_queue(), was tried: serving that queue with
 * callbacks trips an assertion in librdkafka 2.0.2.) */
static void close_consumer(nt_classify_loop_t *l)
{
        rd_kafka_resp_err_t err;

        if (l->left_batch || nt_date_mono_ms() >= nt_cl_stop_deadline(l)) {
                NT_WARN(COMPONENT, "leaving the group without the close: the "
                                   "broker did not answer in time");
                return;
        }
        err = rd_kafka_consumer_close(l->consumer);
        if (err)
                NT_WARN(COMPONENT, "closing the consumer: %s",
                        rd_kafka_err2str(err));
        l->consumer_closed = true;
}

/* Once a second: the counters into the registry, the snapshot to the
 * endpoint, and readiness. */
static void refresh_health(nt_classify_loop_t *l)
{
        const double values[] = {
            (double)l->st.consumed,     (double)l->st.committed,
            (double)l->st.events,       (double)l->st.label_events,
            (double)l->st.dead_letters, (double)l->st.batches,
            (double)l->st.aborts,       (double)l->st.rebuilds,
            (double)l->st.reloads,
        };
        size_t i;

        if (!l->health || !l->metrics)
                return;
        for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
                nt_metrics_set(l->metrics, metric_defs[i].name, values[i],
                               NULL);
        if (l->have_kstats) {
                nt_metrics_set(l->metrics, "newstap_kafka_brokers_up",
                               l->kstats.brokers_up, NULL);
        }
        if (l->have_ckstats)
                nt_metrics_set(l->metrics, "newstap_kafka_consumer_lag",
                               (double)l->ckstats.consumer_lag, NULL);
        nt_health_publish(l->health, l->metrics);
        if (l->broken)
                nt_health_set_ready(l->health, false, l->broken_why);
        else if (!l->have_kstats)
                nt_health_set_ready(l->health, false,
                                    "waiting for librdkafka statistics");
        else if (l->kstats.brokers_up == 0)
                nt_health_set_ready(l->health, false,
                                    "no Kafka broker reachable");
        else if (!l->joined)
                nt_health_set_ready(l->health, false,
                                    "joining the consumer group");
        else
                nt_health_set_ready(l->health, true, NULL);
}

static void log_summary(nt_classify_loop_t *l, const char *when)
{
        NT_INFO(COMPONENT,
                "%s: %llu input(s) read, %llu committed in %llu batch(es), "
                "%llu event(s), %llu label event(s), %llu dead letter(s), "
                "%llu abort(s), %llu producer rebuild(s)",
                when, (unsigned long long)l->st.consumed,
                (unsigned long long)l->st.committed,
                (unsigned long long)l->st.batches,
                (unsigned long long)l->st.events,
                (unsigned long long)l->st.label_events,
                (unsigned long long)l->st.dead_letters,
                (unsigned long long)l->st.aborts,
                (unsigned long long)l->st.rebuilds);
}

static void reload_rules(nt_classify_loop_t *l, nt_classify_reload_cb *reload,
                         void *opaque)
{
        nt_classifier_t *fresh = reload ? reload(opaque) : NULL;

        if (!fresh) {
                NT_WARN(COMPONENT, "reload: keeping rules_version %s",
                        nt_classifier_rules_version(l->clf));
                return;
        }
        /* Between two inputs: the event of the last one is built, and the
         * next one sees only the new set. Inputs built ahead with the old
         * set are read again. */
        if (l->ahead) {
                if (nt_cl_ahead_drop(l->ahead, l->consumer, NULL, true,
                                     l->op_ms) != NT_OK) {
                        nt_cl_set_broken(l, "reload: the inputs read ahead "
                                            "could not be read again");
                        nt_classifier_destroy(fresh);
                        return;
                }
                if (nt_cl_ahead_set_classifier(l->ahead, fresh) != NT_OK) {
                        NT_WARN(COMPONENT,
                                "reload: out of memory; keeping "
                                "rules_version %s",
                                nt_classifier_rules_version(l->clf));
                        nt_classifier_destroy(fresh);
                        return;
                }
        }
        ensure_rule_topics(l, fresh);
        nt_classifier_destroy(l->clf);
        l->clf = fresh;
        l->st.reloads++;
        NT_INFO(COMPONENT, "reload: rules_version %s in use",
                nt_classifier_rules_version(fresh));
}

static void consumer_error(nt_classify_loop_t *l, const rd_kafka_message_t *rkm)
{
        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                return;
        if (rkm->err == RD_KAFKA_RESP_ERR__FATAL) {
                char reason[512];

                rd_kafka_fatal_error(l->consumer, reason, sizeof(reason));
                nt_cl_set_broken(l, "consumer: fatal error: %s", reason);
                return;
        }
        NT_WARN(COMPONENT, "consumer: %s", rd_kafka_message_errstr(rkm));
}

/* One input read and handled, its event built here (consumer.threads
 * 0). */
static void step_here(nt_classify_loop_t *l, int timeout)
{
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(l->consumer, timeout);

        if (!rkm)
                return;
        if (rkm->err)
                consumer_error(l, rkm);
        else if (handle_input(l, rkm, NULL) != NT_OK)
                nt_cl_abort_batch(l, true);
        rd_kafka_message_destroy(rkm);
}

/* One input read into the queue, and the oldest one handled once its
 * event is built. The loop waits (up to `timeout`) only when there is
 * nothing to read or no room to queue it, so that the workers always
 * have inputs while there are any. */
static void step_ahead(nt_classify_loop_t *l, int timeout)
{
        rd_kafka_message_t *rkm = NULL;
        struct nt_cl_slot *slot;
        bool waiting = nt_cl_ahead_waiting(l->ahead);

        if (!nt_cl_ahead_full(l->ahead)) {
                rkm =
                    rd_kafka_consumer_poll(l->consumer, waiting ? 0 : timeout);
                if (rkm && rkm->err) {
                        consumer_error(l, rkm);
                        rd_kafka_message_destroy(rkm);
                        rkm = NULL;
                } else if (rkm) {
                        if (l->st.first_input_ms == 0)
                                l->st.first_input_ms = nt_date_mono_ms();
                        nt_cl_ahead_push(l->ahead, rkm);
                        waiting = true;
                }
        }
        if (!waiting)
                return;
        slot = nt_cl_ahead_take(l->ahead, rkm ? 0 : timeout);
        if (!slot)
                return;
        if (handle_input(l, slot->rkm, slot) != NT_OK)
                nt_cl_abort_batch(l, true);
        nt_cl_ahead_release(l->ahead);
}

int nt_classify_loop_run(nt_classify_loop_t *l, uint64_t limit,
                         nt_classify_reload_cb *reload, void *opaque,
                         char *errstr, size_t errstr_size)
{
        int64_t now;

        /* So that a stop comes within consumer.shutdown_timeout even
         * when librdkafka blocks (common/sig.h), as systemd's
         * TimeoutStopSec counts on: the open transaction's offsets were not
         * committed, and the next start's nt_cl_init_transactions()
         * aborts it. */
        if (!l->watchdog)
                l->watchdog = nt_sig_watchdog_start(
                    COMPONENT, "consumer.shutdown_timeout", l->shutdown_ms,
                    "the open transaction is aborted and its inputs read "
                    "again at the next start");
        if (nt_kafka_subscribe_one(l->consumer, l->in_topic, errstr,
                                   errstr_size) != NT_OK)
                return NT_ERR_KAFKA;
        NT_INFO(COMPONENT, "reading %s in group %s, writing %s, %s<label>, %s",
                l->in_topic, nt_config_str(l->cfg, "consumer.group_id"),
                l->out_topic, l->prefix, l->dlq_topic);
        l->last_summary = nt_date_mono_ms();
        while (nt_sig_running() && !l->broken &&
               !(limit && l->st.committed >= limit)) {
                int timeout = 100;

                if (nt_sig_take_reload()) {
                        reload_rules(l, reload, opaque);
                        /* A failed seek: nothing more may be read. */
                        if (l->broken)
                                continue;
                }
                if (l->open) {
                        int64_t left =
                            l->batch_start + l->batch_ms - nt_date_mono_ms();
                        timeout = left < 0 ? 0 : left < 100 ? (int)left : 100;
                }
                if (l->ahead)
                        step_ahead(l, timeout);
                else
                        step_here(l, timeout);
                if (l->producer)
                        rd_kafka_poll(l->producer, 0);
                now = nt_date_mono_ms();
                if (l->open && (l->batch_n >= l->batch_max || l->isolated ||
                                now - l->batch_start >= l->batch_ms))
                        nt_cl_commit_batch(l, true);
                if (now - l->last_health >= 1000) {
                        refresh_health(l);
                        l->last_health = now;
                }
                if (now - l->last_summary >= SUMMARY_MS) {
                        log_summary(l, "progress");
                        l->last_summary = now;
                }
        }
        /* Stopping: end the batch within the bound, then leave the group
         * (the revoke that follows finds nothing open). */
        if (l->shutdown_ms < l->op_ms)
                l->op_ms = l->shutdown_ms > 0 ? (int)l->shutdown_ms : 1;
        if (l->open && !l->broken && nt_cl_commit_batch(l, false) != NT_OK &&
            l->open)
                nt_cl_abort_batch(l, false);
        /* What was read ahead is in no batch: the next start reads it. */
        nt_cl_ahead_drop(l->ahead, l->consumer, NULL, false, l->op_ms);
        close_consumer(l);
        log_summary(l, "stopped");
        if (l->broken)
                return nt_errf(errstr, errstr_size, NT_ERR_KAFKA, "%s",
                               l->broken_why);
        return NT_OK;
}

void nt_classify_loop_stats(const nt_classify_loop_t *l,
                            struct nt_classify_stats *out)
{
        *out = l->st;
}

const char *nt_classify_loop_transactional_id(const nt_classify_loop_t *l)
{
        return l->txn_id;
}

void nt_classify_loop_destroy(nt_classify_loop_t *l)
{
        size_t i;

        if (!l)
                return;
        /* Its messages first: a consumer is not destroyed while the
         * application holds messages of it. */
        nt_cl_ahead_destroy(l->ahead);
        if (l->consumer)
                rd_kafka_destroy_flags(
                    l->consumer, l->consumer_closed
                                     ? 0
                                     : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        if (l->producer) {
                if (!l->eos)
                        nt_kafka_flush(l->producer, (int)l->shutdown_ms, NULL,
                                       0);
                rd_kafka_purge(l->producer, RD_KAFKA_PURGE_F_QUEUE |
                                                RD_KAFKA_PURGE_F_INFLIGHT |
                                                RD_KAFKA_PURGE_F_NON_BLOCKING);
                rd_kafka_poll(l->producer, 0);
                rd_kafka_destroy(l->producer);
        }
        nt_sig_watchdog_end(l->watchdog);
        nt_classifier_destroy(l->clf);
        nt_enriched_event_free(&l->ev);
        nt_metrics_destroy(l->metrics);
        if (l->next)
                rd_kafka_topic_partition_list_destroy(l->next);
        if (l->first)
                rd_kafka_topic_partition_list_destroy(l->first);
        free(l->inputs);
        for (i = 0; i < l->n_known; i++)
                free(l->known[i]);
        free(l->known);
        free(l);
}
