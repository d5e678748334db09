/* produce --group: instances share the feeds of topics.feeds through
 * consumer group producer.group, and each poll's articles go out in a
 * Kafka transaction with the feed's new state (topics.feeds_state) and
 * the feeds topic's offsets.
 *
 * - Membership: dynamic (no group.instance.id), cooperative-sticky
 *   assignment, so that a join or a death moves only the partitions it
 *   must. Static membership would keep a restarted instance's feeds
 *   through a quick restart, but would also hold a dead instance's feeds
 *   until session.timeout.ms with no rebalance to announce it; the
 *   default's behaviour is the easier to reason about (-X
 *   group.instance.id=... sets it for those who want it).
 * - Assignment: for each new partition, its states are read from the
 *   state topic (read_committed, to its end) before the partition is
 *   assigned, and the partition is read from its beginning: the records
 *   are the feed list, later ones live adds, changes and removals. A
 *   transaction another instance left open on the state topic (killed
 *   mid-poll) hides what was committed after it from read_committed
 *   readers until the broker aborts it, so the restore first waits,
 *   within transaction.timeout.ms, until no transaction is open on those
 *   partitions: restoring an older state would publish its articles
 *   twice.
 * - Revocation: the open transaction is committed while the generation
 *   is still ours (aborted when the partitions were lost), then the
 *   feeds are dropped; their fetches in flight are discarded.
 * - Commit: every producer.txn_ms (or when the publisher is full), the
 *   articles sent since the last commit are marked seen in their feeds'
 *   states, each changed state is written to the state topic (same key
 *   and partition as the feed's record), the consumer's positions go in
 *   with the group metadata (KIP-447: a zombie's commit is refused), and
 *   the transaction commits. An abort puts every changed feed back to
 *   its last committed state (the record's value, kept per feed), so the
 *   articles are fetched and sent again by the next poll. */
#include "producer/producer_internal.h"
#include "common/kafka.h"
#include "common/num.h"
#include "common/txn.h"
#include "producer/feeds_topic.h"
#include "producer/state_topic.h"

/* Feeds topic records handled per loop round at most, so that a large
 * partition's first read does not stall fetching. */
#define RECORDS_PER_ROUND 500

void nt_pr_group_ids(nt_producer_t *p)
{
        const char *inst = nt_config_str(p->cfg, "producer.instance");
        char host[sizeof(((nt_producer_t *)0)->instance)];

        if (inst && *inst) {
                snprintf(p->instance, sizeof(p->instance), "%s", inst);
        } else {
                if (gethostname(host, sizeof(host)) != 0 || !host[0])
                        snprintf(host, sizeof(host), "localhost");
                host[sizeof(host) - 1] = '\0';
                snprintf(p->instance, sizeof(p->instance), "%s", host);
        }
        /* Stable across restarts of the same instance: the restarted
         * instance's init_transactions() aborts what it left open. */
        snprintf(p->txn_id, sizeof(p->txn_id), "newstap-produce.%s.%s",
                 nt_config_str(p->cfg, "producer.group"), p->instance);
        p->feeds_topic = nt_config_str(p->cfg, "topics.feeds");
        p->state_topic = nt_config_str(p->cfg, "topics.feeds_state");
        p->txn_ms = nt_config_ms(p->cfg, "producer.txn_ms");
}

static struct pfeed *feed_by_key(nt_producer_t *p, const char *key)
{
        json_t *v = json_object_get(p->by_key, key);

        return v ? (struct pfeed *)(intptr_t)json_integer_value(v) : NULL;
}

/* ---- restore ------------------------------------------------------ */

static int keep_state(const char *key, int32_t partition,
                      struct nt_feed_state *st, void *opaque)
{
        nt_producer_t *p = opaque;
        json_t *js;

        (void)partition;
        js = nt_state_to_json(key, st);
        if (!js)
                return NT_ERR_NOMEM;
        /* The seen-set is shared with st, which the loader frees: the
         * reference taken by the JSON keeps it. */
        return json_object_set_new(p->restored, key, js) ? NT_ERR_NOMEM : NT_OK;
}

/* The producers' transaction.timeout.ms (the kafka section or -X; else
 * librdkafka's default of 60 s). */
static int64_t txn_timeout_ms(const nt_config_t *cfg)
{
        json_t *v =
            json_object_get(nt_config_kafka(cfg), "transaction.timeout.ms");
        int64_t ms = 60000;

        if (json_is_integer(v))
                ms = json_integer_value(v);
        else if (json_is_string(v) && nt_num_parse_i64(json_string_value(v), 1,
                                                       INT32_MAX, &ms) != NT_OK)
                ms = 60000;
        return ms;
}

/* Waits until no transaction is open on these partitions of the state
 * topic (the read_committed end equals the end): at most
 * transaction.timeout.ms and 15 s more, by when the broker has aborted a
 * dead instance's transaction (the instances share one configuration). */
static void await_no_open_txn(nt_producer_t *p, const int32_t *parts, size_t n)
{
        int64_t t0 = nt_date_mono_ms();
        int64_t deadline = t0 + txn_timeout_ms(p->cfg) + 15000;
        size_t i;
        bool told = false;

        for (i = 0; i < n && nt_sig_running();) {
                int64_t lo, hi_c = 0, hi_u = 0;
                rd_kafka_resp_err_t err;

                err = rd_kafka_query_watermark_offsets(
                    p->consumer, p->state_topic, parts[i], &lo, &hi_c, 5000);
                if (!err)
                        err = rd_kafka_query_watermark_offsets(
                            p->probe, p->state_topic, parts[i], &lo, &hi_u,
                            5000);
                if (!err && hi_c >= hi_u) {
                        i++;
                        continue;
                }
                if (nt_date_mono_ms() > deadline) {
                        /* Not seen to end: a zombie's transactions cannot
                         * commit (their offsets carry an old generation),
                         * so what is committed is read. */
                        NT_WARN("producer",
                                "%s [%d]: %s after %lld ms; restoring what "
                                "is committed",
                                p->state_topic, (int)parts[i],
                                err ? rd_kafka_err2str(err)
                                    : "a transaction is still open",
                                (long long)(deadline - t0));
                        i++;
                        continue;
                }
                /* A failed query is asked again: skipping it could restore
                 * a state older than one committed behind an open
                 * transaction, and publish its articles twice. */
                if (!told)
                        NT_INFO("producer",
                                "%s [%d]: %s; waiting before restoring",
                                p->state_topic, (int)parts[i],
                                err ? rd_kafka_err2str(err)
                                    : "a transaction of another instance is "
                                      "open");
                told = true;
                nanosleep(&(struct timespec){0, 200000000L}, NULL);
        }
}

/* Reads the states of newly assigned partitions into p->restored. */
static int restore(nt_producer_t *p,
                   const rd_kafka_topic_partition_list_t *parts)
{
        int32_t *ids = calloc((size_t)parts->cnt + 1, sizeof(*ids));
        char errstr[512] = "";
        int64_t t0 = nt_date_mono_ms();
        size_t before = json_object_size(p->restored);
        int i, err = NT_ERR_TIMEOUT;

        if (!ids)
                return NT_ERR_NOMEM;
        for (i = 0; i < parts->cnt; i++)
                ids[i] = parts->elems[i].partition;
        await_no_open_txn(p, ids, (size_t)parts->cnt);
        while (nt_sig_running()) {
                err = nt_state_topic_load(p->cfg, NULL, ids, (size_t)parts->cnt,
                                          keep_state, p, 60000, errstr,
                                          sizeof(errstr));
                if (err != NT_ERR_TIMEOUT && err != NT_ERR_KAFKA)
                        break;
                NT_WARN("producer", "restoring state: %s; trying again",
                        errstr);
        }
        if (err == NT_ERR_NOTFOUND)
                err = NT_OK; /* no state topic yet: every feed is new */
        else if (err != NT_OK && !nt_sig_running())
                err = NT_ERR_STOPPED; /* a stop while waiting or reading */
        else if (err != NT_OK)
                NT_ERROR("producer", "restoring state: %s", errstr);
        p->gstats.restore_s += (double)(nt_date_mono_ms() - t0) / 1000.0;
        NT_INFO("producer",
                "instance %s: restored %zu feed state(s) of %d partition(s) "
                "in %lld ms",
                p->instance, json_object_size(p->restored) - before, parts->cnt,
                (long long)(nt_date_mono_ms() - t0));
        free(ids);
        return err;
}

/* ---- rebalance ---------------------------------------------------- */

static int group_end(nt_producer_t *p, bool commit);

static bool in_list(const rd_kafka_topic_partition_list_t *parts,
                    int32_t partition)
{
        int i;

        for (i = 0; i < parts->cnt; i++) {
                if (parts->elems[i].partition == partition)
                        return true;
        }
        return false;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        nt_producer_t *p = opaque;
        rd_kafka_error_t *error = NULL;
        size_t i;
        int k, rerr;

        p->gstats.rebalances++;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                NT_INFO("producer", "instance %s: assigned %d partition(s)",
                        p->instance, parts->cnt);
                /* The restore may wait for a dead instance's transaction:
                 * this one's own is committed first rather than left to
                 * run into transaction.timeout.ms meanwhile. */
                if (parts->cnt > 0)
                        group_end(p, true);
                /* Not restored (an error, or a stop meanwhile): the feeds
                 * of these partitions must not be polled from a fresh
                 * state, which would publish their articles again. A stop
                 * is no failure: the process exits as it would have. */
                rerr = parts->cnt > 0 ? restore(p, parts) : NT_OK;
                if (rerr == NT_ERR_STOPPED)
                        p->unrestored = true;
                else if (rerr != NT_OK)
                        p->group_broken = true;
                /* The feed list: each partition from its beginning. */
                for (k = 0; k < parts->cnt; k++)
                        parts->elems[k].offset = RD_KAFKA_OFFSET_BEGINNING;
                error = rd_kafka_incremental_assign(rk, parts);
                if (!error)
                        p->owned += parts->cnt;
                /* Ready from here on: librdkafka (cooperative) calls this
                 * after every SyncGroup, with an empty list too, so an
                 * instance given no partition is ready and idle
                 * (tests/kafka_group.c, instance_with_no_partition). */
                p->restored_once = true;
        } else {
                bool lost = rd_kafka_assignment_lost(rk);
                size_t dropped = 0;

                NT_INFO("producer", "instance %s: revoking %d partition(s)%s",
                        p->instance, parts->cnt, lost ? " (lost)" : "");
                /* No transaction spans a revoke: committed while the
                 * generation is ours, aborted when it is gone. */
                group_end(p, !lost);
                for (i = 0; i < p->n_feeds; i++) {
                        struct pfeed *f = p->feeds[i];

                        if (f->removed || !in_list(parts, f->partition))
                                continue;
                        f->revoked = true;
                        nt_pr_drop_feed(p, f);
                        dropped++;
                }
                NT_INFO("producer", "instance %s: let go of %zu feed(s)",
                        p->instance, dropped);
                error = rd_kafka_incremental_unassign(rk, parts);
                if (!error)
                        p->owned -= parts->cnt;
        }
        if (error) {
                NT_ERROR("producer", "rebalance: %s",
                         rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        }
}

/* ---- the feeds topic's records ------------------------------------ */

static void skip_record(nt_producer_t *p, const rd_kafka_message_t *rkm,
                        const char *why)
{
        p->gstats.skipped_records++;
        nt_kafka_log_skipped("producer", "feed record", rkm, why);
}

/* A feed's record: a new feed, a changed one or (a tombstone) a removed
 * one. */
static void handle_record(nt_producer_t *p, const rd_kafka_message_t *rkm)
{
        struct nt_feed_list l;
        json_t *spec = NULL, *arr = NULL, *state;
        char *key = NULL, *canon = NULL, errstr[1024];
        struct pfeed *f;

        nt_feed_list_init(&l);
        if (!rkm->key || rkm->key_len == 0 ||
            memchr(rkm->key, '\0', rkm->key_len)) {
                /* A NUL would cut the key short: another feed's key. */
                skip_record(p, rkm, "no key, or a key that is not text");
                return;
        }
        key = strndup(rkm->key, rkm->key_len);
        if (!key)
                return;
        f = feed_by_key(p, key);
        if (!rkm->payload) {
                if (f) {
                        NT_INFO("producer", "feed %s removed", f->label);
                        nt_pr_drop_feed(p, f);
                        /* Its state's tombstone goes in the next commit. */
                        nt_pr_mark_dirty(p, f);
                }
                json_object_del(p->restored, key);
                goto out;
        }
        spec = json_loadb(rkm->payload, rkm->len, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(spec) ||
            !json_is_string(json_object_get(spec, "url"))) {
                skip_record(p, rkm, "not a JSON object with a url");
                goto out;
        }
        canon =
            nt_feeds_topic_key(json_string_value(json_object_get(spec, "url")));
        if (!canon || strcmp(canon, key) != 0) {
                skip_record(p, rkm, "the key is not the canonical url");
                goto out;
        }
        arr = json_array();
        if (!arr || json_array_append(arr, spec) != 0)
                goto out;
        if (nt_feed_list_from_json(&l, arr,
                                   nt_config_ms(p->cfg, "producer.interval"),
                                   errstr, sizeof(errstr)) != NT_OK ||
            l.n != 1) {
                skip_record(p, rkm, errstr);
                goto out;
        }
        /* Secret references are resolved here, on the fetching machine. */
        if (nt_feed_list_resolve_secrets(&l, errstr, sizeof(errstr)) != NT_OK) {
                skip_record(p, rkm, errstr);
                goto out;
        }
        if (f) {
                /* A change: new settings, same state and work (the URL
                 * string stays: work in flight refers to it). */
                struct nt_feed_spec old = f->spec;

                f->spec = l.feeds[0];
                f->spec.url = old.url;
                old.url = l.feeds[0].url;
                memset(&l.feeds[0], 0, sizeof(l.feeds[0]));
                nt_feed_spec_free(&old);
                f->label = f->spec.name ? f->spec.name : f->spec.url;
                f->hints.interval_ms = f->spec.interval_ms;
                goto out;
        }
        state = json_object_get(p->restored, key);
        if (nt_pr_add_group_feed(p, &l.feeds[0], key, rkm->partition, state) !=
            NT_OK)
                NT_ERROR("producer", "feed %s: out of memory", key);
        json_object_del(p->restored, key);
out:
        nt_feed_list_free(&l);
        json_decref(arr);
        json_decref(spec);
        free(canon);
        free(key);
}

void nt_pr_group_poll(nt_producer_t *p)
{
        int n;

        for (n = 0; n < RECORDS_PER_ROUND; n++) {
                rd_kafka_message_t *rkm;

                /* A restore that failed or was stopped (the rebalance
                 * callback runs inside the poll): no feed is taken on. */
                if (p->group_broken || p->unrestored)
                        return;
                rkm = rd_kafka_consumer_poll(p->consumer, 0);
                if (!rkm)
                        return;
                if (rkm->err) {
                        if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                NT_WARN("producer", "feeds topic: %s",
                                        rd_kafka_message_errstr(rkm));
                } else {
                        handle_record(p, rkm);
                }
                rd_kafka_message_destroy(rkm);
        }
}

/* ---- start and stop ----------------------------------------------- */

int nt_pr_group_start(nt_producer_t *p, char *errstr, size_t errstr_size)
{
        static const char *const probe_props[] = {"isolation.level",
                                                  "read_uncommitted", NULL};
        const char *props[16];
        rd_kafka_topic_partition_list_t *topics;
        rd_kafka_conf_t *conf;
        rd_kafka_resp_err_t err;
        char rkerr[512];
        size_t n = 0;

        if (nt_state_topic_ensure(nt_publisher_handle(p->pub), p->cfg, 30000,
                                  errstr, errstr_size) != NT_OK)
                return NT_ERR_KAFKA;
        p->probe = nt_kafka_consumer_new(p->cfg, NULL, probe_props, errstr,
                                         errstr_size);
        if (!p->probe)
                return NT_ERR_KAFKA;
        props[n++] = "enable.auto.commit";
        props[n++] = "false";
        props[n++] = "enable.auto.offset.store";
        props[n++] = "false";
        props[n++] = "isolation.level";
        props[n++] = "read_committed";
        props[n++] = "partition.assignment.strategy";
        props[n++] = "cooperative-sticky";
        props[n++] = "auto.offset.reset";
        props[n++] = "earliest";
        props[n] = NULL;
        conf = nt_kafka_conf_new(p->cfg, props, errstr, errstr_size);
        if (!conf)
                return NT_ERR_CONFIG;
        if (rd_kafka_conf_set(conf, "group.id",
                              nt_config_str(p->cfg, "producer.group"), rkerr,
                              sizeof(rkerr)) != RD_KAFKA_CONF_OK) {
                rd_kafka_conf_destroy(conf);
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "producer.group: %s", rkerr);
        }
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
        rd_kafka_conf_set_opaque(conf, p);
        p->consumer =
            nt_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
        if (!p->consumer)
                return NT_ERR_KAFKA;
        rd_kafka_poll_set_consumer(p->consumer);
        topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, p->feeds_topic,
                                          RD_KAFKA_PARTITION_UA);
        err = rd_kafka_subscribe(p->consumer, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        if (err)
                return nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                               "subscribing to %s: %s", p->feeds_topic,
                               rd_kafka_err2str(err));
        NT_INFO("producer",
                "instance %s joining group %s on %s (transactional.id %s); "
                "articles to %s, states to %s",
                p->instance, nt_config_str(p->cfg, "producer.group"),
                p->feeds_topic, p->txn_id, nt_config_str(p->cfg, "topics.raw"),
                p->state_topic);
        return NT_OK;
}

void nt_pr_group_stop(nt_producer_t *p)
{
        if (p->consumer) {
                rd_kafka_consumer_close(p->consumer);
                rd_kafka_destroy(p->consumer);
                p->consumer = NULL;
        }
        if (p->probe) {
                rd_kafka_destroy(p->probe);
                p->probe = NULL;
        }
}

/* ---- the transaction ---------------------------------------------- */

/* Before the commit: an article of the transaction is seen by its feed
 * in the state written with it. */
static void mark_sent_seen(void *ctx, const struct nt_publish_meta *meta)
{
        nt_producer_t *p = ctx;
        struct pfeed *f = meta->opaque;

        nt_state_mark_seen(&f->st, meta->key, meta->revision, nt_date_now_ms());
        json_object_del(f->pending, meta->key);
        nt_pr_mark_dirty(p, f);
}

/* After an abort: the feed as last committed. Validators of a response
 * whose articles were not all committed are dropped too, so that the
 * next poll fetches the whole feed and sends them again. */
static void roll_back(struct pfeed *f)
{
        json_t *js = f->committed ? json_loads(f->committed, 0, NULL) : NULL;
        struct nt_feed_state st;

        if (nt_state_init(&st) == NT_OK) {
                if (js)
                        nt_state_from_json(js, f->key, &st);
                nt_state_free(&f->st);
                f->st = st;
        }
        json_decref(js);
        free(f->next_etag);
        free(f->next_last_modified);
        f->next_etag = f->next_last_modified = NULL;
        f->next_validators = false;
}

/* The consumer's positions on its assigned partitions (offsets read so
 * far), for send_offsets_to_transaction. NULL when none. */
static rd_kafka_topic_partition_list_t *positions(nt_producer_t *p)
{
        rd_kafka_topic_partition_list_t *parts = NULL, *out;
        int i;

        if (rd_kafka_assignment(p->consumer, &parts) || !parts)
                return NULL;
        rd_kafka_position(p->consumer, parts);
        out = rd_kafka_topic_partition_list_new(parts->cnt ? parts->cnt : 1);
        for (i = 0; i < parts->cnt; i++) {
                if (parts->elems[i].offset >= 0)
                        rd_kafka_topic_partition_list_add(
                            out, parts->elems[i].topic,
                            parts->elems[i].partition)
                            ->offset = parts->elems[i].offset;
        }
        rd_kafka_topic_partition_list_destroy(parts);
        return out;
}

/* An article the broker refused for good in an aborted transaction is
 * marked seen anyway (as without --group: sending it again cannot help),
 * after the roll-back, so that its feed's next transaction records it. */
static void reapply_refusals(nt_producer_t *p)
{
        size_t i;
        json_t *mark;

        json_array_foreach(p->refusals, i, mark)
        {
                struct pfeed *f = (struct pfeed *)(intptr_t)json_integer_value(
                    json_object_get(mark, "feed"));

                if (f->removed)
                        continue;
                nt_state_mark_seen(
                    &f->st, json_string_value(json_object_get(mark, "id")),
                    json_string_value(json_object_get(mark, "revision")),
                    nt_date_now_ms());
                nt_pr_mark_dirty(p, f);
        }
}

/* Ends the open transaction: committed with every changed feed's state
 * (commit true), or aborted. Either way the articles sent leave their
 * feeds' pending lists first (seen when committed; sent again by the
 * next poll when not). */
static int group_end(nt_producer_t *p, bool commit)
{
        rd_kafka_topic_partition_list_t *offsets = NULL;
        size_t i;
        int err = NT_OK;

        /* Broken (fenced for good, or no producer any more): nothing
         * more is written, also not by the revocation that closing the
         * consumer calls back. */
        if (p->group_broken)
                return NT_ERR_KAFKA;
        if (!nt_publisher_txn_open(p->pub) && p->n_dirty == 0)
                return NT_OK;
        nt_publisher_each(p->pub, mark_sent_seen, p);
        for (i = 0; commit && i < p->n_dirty; i++) {
                struct pfeed *f = p->dirty[i];
                size_t len = 0;

                if (f->revoked)
                        continue;
                if (!f->removed) {
                        nt_pr_settle(p, f);
                        free(f->txn_value);
                        f->txn_value =
                            nt_state_topic_value(f->key, &f->st, &len);
                        if (!f->txn_value) {
                                err = NT_ERR_NOMEM;
                                break;
                        }
                }
                /* A removed feed's state is forgotten: a tombstone. */
                err = nt_publisher_send_record(
                    p->pub, p->state_topic, f->partition, f->key,
                    f->removed ? NULL : f->txn_value, len,
                    f->removed ? NULL : NT_STATE_TOPIC_SCHEMA);
                if (err != NT_OK)
                        break;
        }
        if (commit && err == NT_OK) {
                offsets = positions(p);
                err = nt_publisher_commit(p->pub, p->consumer, offsets);
                if (offsets)
                        rd_kafka_topic_partition_list_destroy(offsets);
        } else {
                err = nt_publisher_abort(p->pub) == NT_ERR_KAFKA
                          ? NT_ERR_KAFKA
                          : NT_ERR_TRANSIENT;
        }
        for (i = 0; i < p->n_dirty; i++) {
                struct pfeed *f = p->dirty[i];

                f->dirty = false;
                if (err == NT_OK) {
                        free(f->committed);
                        f->committed = f->txn_value;
                        f->txn_value = NULL;
                        f->saved_success_ms = f->st.last_success_ms;
                } else if (!f->revoked && !f->removed) {
                        roll_back(f);
                }
        }
        p->n_dirty = 0;
        if (err != NT_OK)
                reapply_refusals(p);
        json_array_clear(p->refusals);
        if (err == NT_OK) {
                p->gstats.commits++;
                return NT_OK;
        }
        p->gstats.aborts++;
        if (err == NT_ERR_KAFKA) {
                p->group_broken = true;
                return NT_ERR_KAFKA;
        }
        NT_WARN("producer",
                "transaction %s: its feeds are back to their committed "
                "state; their articles are sent again by their next poll",
                commit ? "failed" : "aborted");
        return NT_OK;
}

int nt_pr_group_commit(nt_producer_t *p, bool force)
{
        int64_t now = nt_date_mono_ms();

        if (!p->pub || p->group_broken)
                return p->group_broken ? NT_ERR_KAFKA : NT_OK;
        if (!nt_publisher_txn_open(p->pub) && p->n_dirty == 0)
                return NT_OK;
        if (!force && now - p->last_commit_ms < p->txn_ms)
                return NT_OK;
        p->last_commit_ms = now;
        return group_end(p, true);
}

void nt_pr_group_refused(nt_producer_t *p, struct pfeed *f,
                         const struct nt_publish_meta *meta)
{
        json_t *mark =
            json_pack("{s:I,s:s,s:s}", "feed", (json_int_t)(intptr_t)f, "id",
                      meta->key, "revision", meta->revision);

        if (mark)
                json_array_append_new(p->refusals, mark);
}
