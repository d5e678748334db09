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
 * - Assignment: each new partition is assigned paused, its states are
 *   read from the state topic (read_committed, to its end) by a thread
 *   while the loop goes on with the other feeds, and then the partition
 *   resumes, read from its beginning: the records are the feed list,
 *   later ones live adds, changes and removals. A
 *   transaction another instance left open on the state topic (killed
 *   mid-poll) hides what was committed after it from read_committed
 *   readers until the broker aborts it, so the restore first waits,
 *   within transaction.timeout.ms, until no transaction is open on those
 *   partitions: restoring an older state would publish its articles
 *   twice.
 * - Revocation: the open transaction is committed while the generation
 *   is still ours (aborted when the partitions were lost), then the
 *   feeds are dropped (their fetches in flight are discarded), and so
 *   are the restored states of feeds not seen yet and a restore not
 *   made yet.
 * - Commit: every producer.txn_ms (or when the publisher is full), the
 *   articles sent since the last commit are marked seen in their feeds'
 *   states, each changed state is written to the state topic (same key
 *   and partition as the feed's record), the consumer's positions go in
 *   with the group metadata (KIP-447: a zombie's commit is refused), and
 *   the transaction commits. An abort puts every changed feed back to
 *   its last committed state (the record's value, kept per feed) and
 *   makes it due at once (repoll_soon()), so the articles are fetched
 *   and sent again by a poll that does not wait for the interval. */
#include "producer/producer_internal.h"
#include "common/kafka.h"
#include "common/num.h"
#include "common/txn.h"
#include "producer/feeds_topic.h"
#include "producer/state_topic.h"

#include <pthread.h>
#include <stdatomic.h>

/* Feeds topic records handled per loop round at most, so that a large
 * partition's first read does not stall fetching. */
#define RECORDS_PER_ROUND 500
/* Feeds rolled back by aborts in a row wait this long before their
 * repoll after the second abort, doubling per abort up to the maximum
 * (the first abort's feeds are polled again at once). */
#define REPOLL_FIRST_MS 1000
#define REPOLL_MAX_MS   60000
/* The longest the loop waits in one transactional call of a commit
 * that it steps on (nt_pr_group_commit()): it goes on between them. */
#define STEP_MS 50

/* The instance id (producer.instance, else the host name) and the
 * transactional.id derived from it into buffers of NT_PR_INSTANCE_MAX
 * and NT_PR_TXN_ID_MAX bytes; NT_ERR_CONFIG when one does not fit (a cut
 * id could be another instance's, and two instances sharing one fence
 * each other). */
static int group_ids(const nt_config_t *cfg, char *instance, char *txn_id,
                     char *errstr, size_t errstr_size)
{
        const char *inst = nt_config_str(cfg, "producer.instance");
        const char *group = nt_config_str(cfg, "producer.group");
        char host[NT_PR_INSTANCE_MAX];
        int n;

        if (!inst || !*inst) {
                if (gethostname(host, sizeof(host)) != 0 || !host[0])
                        snprintf(host, sizeof(host), "localhost");
                host[sizeof(host) - 1] = '\0';
                inst = host;
        }
        if (strlen(inst) >= NT_PR_INSTANCE_MAX)
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "producer.instance (--instance) is %zu bytes "
                               "long; at most %d",
                               strlen(inst), NT_PR_INSTANCE_MAX - 1);
        snprintf(instance, NT_PR_INSTANCE_MAX, "%s", inst);
        /* Stable across restarts of the same instance: the restarted
         * instance's init_transactions() aborts what it left open. */
        n = snprintf(txn_id, NT_PR_TXN_ID_MAX, "newstap-produce.%s.%s", group,
                     instance);
        if (n < 0 || n >= NT_PR_TXN_ID_MAX)
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "transactional.id newstap-produce.<group>."
                               "<instance> would be %d bytes long; at most "
                               "%d: shorten producer.group (--group) or "
                               "producer.instance (--instance)",
                               n, NT_PR_TXN_ID_MAX - 1);
        return NT_OK;
}

int nt_producer_group_check(const nt_config_t *cfg, char *errstr,
                            size_t errstr_size)
{
        char instance[NT_PR_INSTANCE_MAX], txn_id[NT_PR_TXN_ID_MAX];

        return group_ids(cfg, instance, txn_id, errstr, errstr_size);
}

int nt_pr_group_ids(nt_producer_t *p, char *errstr, size_t errstr_size)
{
        int err =
            group_ids(p->cfg, p->instance, p->txn_id, errstr, errstr_size);

        if (err != NT_OK)
                return err;
        p->feeds_topic = nt_config_str(p->cfg, "topics.feeds");
        p->state_topic = nt_config_str(p->cfg, "topics.feeds_state");
        p->txn_ms = nt_config_ms(p->cfg, "producer.txn_ms");
        return NT_OK;
}

static struct pfeed *feed_by_key(nt_producer_t *p, const char *key)
{
        json_t *v = json_object_get(p->by_key, key);

        return v ? (struct pfeed *)(intptr_t)json_integer_value(v) : NULL;
}

/* ---- restore ------------------------------------------------------ */

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

/* A restore runs in a thread of its own while the loop goes on: it may
 * wait for a dead instance's transaction (up to transaction.timeout.ms)
 * and read many states, far longer than a rebalance callback may take
 * (max.poll.interval.ms) or the instance's other feeds may wait. The
 * new partitions are assigned paused meanwhile, so that no feed of
 * theirs is taken on before its state is there. The thread reads only
 * what does not change while it runs (the configuration, the topic
 * names, the consumer and probe handles, which librdkafka lets threads
 * share) and writes only the job; the loop takes the result once
 * `done` is set. */
struct restore_job {
        pthread_t thread;
        nt_producer_t *p;
        rd_kafka_topic_partition_list_t *parts; /* a copy */
        json_t *states; /* key -> [partition, state], the thread's */
        int err;
        int64_t took_ms;
        atomic_bool done;
        atomic_bool cancel; /* the loop stops: give up */
};

static int keep_state(const char *key, int32_t partition,
                      struct nt_feed_state *st, void *opaque)
{
        struct restore_job *job = opaque;
        json_t *js, *pair;

        js = nt_state_to_json(key, st);
        if (!js)
                return NT_ERR_NOMEM;
        /* [partition, state]: the partition, so that a revocation
         * forgets the states of its feeds not seen yet. The seen-set is
         * shared with st, which the loader frees: the reference taken by
         * the JSON keeps it. */
        pair = json_pack("[io]", (int)partition, js);
        if (!pair)
                return NT_ERR_NOMEM;
        return json_object_set_new(job->states, key, pair) ? NT_ERR_NOMEM
                                                           : NT_OK;
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
static void await_no_open_txn(struct restore_job *job, const int32_t *parts,
                              size_t n)
{
        nt_producer_t *p = job->p;
        int64_t t0 = nt_date_mono_ms();
        int64_t deadline = t0 + txn_timeout_ms(p->cfg) + 15000;
        size_t i;
        bool told = false;

        for (i = 0; i < n && nt_sig_running() && !atomic_load(&job->cancel);) {
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

/* The thread: reads the states of the job's partitions into
 * job->states. */
static void *restore_run(void *arg)
{
        struct restore_job *job = arg;
        nt_producer_t *p = job->p;
        const rd_kafka_topic_partition_list_t *parts = job->parts;
        int32_t *ids = calloc((size_t)parts->cnt + 1, sizeof(*ids));
        char errstr[512] = "";
        int64_t t0 = nt_date_mono_ms();
        int i, err = NT_ERR_TIMEOUT;

        if (!ids) {
                job->err = NT_ERR_NOMEM;
                atomic_store(&job->done, true);
                return NULL;
        }
        for (i = 0; i < parts->cnt; i++)
                ids[i] = parts->elems[i].partition;
        await_no_open_txn(job, ids, (size_t)parts->cnt);
        while (nt_sig_running() && !atomic_load(&job->cancel)) {
                err = nt_state_topic_load(p->cfg, NULL, ids, (size_t)parts->cnt,
                                          keep_state, job, 60000, errstr,
                                          sizeof(errstr));
                if (err != NT_ERR_TIMEOUT && err != NT_ERR_KAFKA)
                        break;
                NT_WARN("producer", "restoring state: %s; trying again",
                        errstr);
        }
        if (err == NT_ERR_NOTFOUND)
                err = NT_OK; /* no state topic yet: every feed is new */
        else if (err != NT_OK &&
                 (!nt_sig_running() || atomic_load(&job->cancel)))
                err = NT_ERR_STOPPED; /* a stop while waiting or reading */
        else if (err != NT_OK)
                NT_ERROR("producer", "restoring state: %s", errstr);
        free(ids);
        job->err = err;
        job->took_ms = nt_date_mono_ms() - t0;
        atomic_store(&job->done, true);
        return NULL;
}

static void job_free(struct restore_job *job)
{
        if (!job)
                return;
        rd_kafka_topic_partition_list_destroy(job->parts);
        json_decref(job->states);
        free(job);
}

/* Starts the restore of p->restore_next's partitions (paused). */
static void restore_start(nt_producer_t *p)
{
        struct restore_job *job = calloc(1, sizeof(*job));

        if (job)
                job->states = json_object();
        if (!job || !job->states) {
                NT_ERROR("producer", "restoring state: out of memory");
                p->group_broken = true;
                job_free(job);
                return;
        }
        job->p = p;
        job->parts = p->restore_next;
        p->restore_next = NULL;
        atomic_init(&job->done, false);
        atomic_init(&job->cancel, false);
        if (pthread_create(&job->thread, NULL, restore_run, job) != 0) {
                NT_ERROR("producer", "restoring state: cannot start a thread");
                p->group_broken = true;
                job_free(job);
                return;
        }
        p->job = job;
}

/* The restore is done: its states join p->restored and its partitions,
 * when still ours and not assigned anew since (restored again then),
 * resume. */
static void restore_finish(nt_producer_t *p)
{
        struct restore_job *job = p->job;
        rd_kafka_topic_partition_list_t *mine = NULL, *resume;
        const char *key;
        json_t *pair;
        size_t n = 0;
        int i;

        pthread_join(job->thread, NULL);
        p->job = NULL;
        p->gstats.restore_s += (double)job->took_ms / 1000.0;
        if (job->err == NT_ERR_STOPPED) {
                /* The feeds of these partitions must not be polled from
                 * a fresh state, which would publish their articles
                 * again. A stop is no failure: the process exits as it
                 * would have. */
                p->unrestored = true;
                job_free(job);
                return;
        }
        if (job->err != NT_OK) {
                p->group_broken = true;
                job_free(job);
                return;
        }
        if (rd_kafka_assignment(p->consumer, &mine) != 0)
                mine = NULL;
        resume = rd_kafka_topic_partition_list_new(job->parts->cnt);
        for (i = 0; mine && i < job->parts->cnt; i++) {
                int32_t part = job->parts->elems[i].partition;

                if (in_list(mine, part) &&
                    !(p->restore_next && in_list(p->restore_next, part)))
                        rd_kafka_topic_partition_list_add(resume,
                                                          p->feeds_topic, part);
        }
        json_object_foreach(job->states, key, pair)
        {
                if (in_list(resume, (int32_t)json_integer_value(
                                        json_array_get(pair, 0)))) {
                        json_object_set(p->restored, key, pair);
                        n++;
                }
        }
        if (resume->cnt > 0) {
                rd_kafka_resp_err_t err =
                    rd_kafka_resume_partitions(p->consumer, resume);

                if (err)
                        NT_ERROR("producer", "resuming %s: %s", p->feeds_topic,
                                 rd_kafka_err2str(err));
        }
        NT_INFO("producer",
                "instance %s: restored %zu feed state(s) of %d partition(s) "
                "in %lld ms",
                p->instance, n, resume->cnt, (long long)job->took_ms);
        p->restored_once = true;
        rd_kafka_topic_partition_list_destroy(resume);
        if (mine)
                rd_kafka_topic_partition_list_destroy(mine);
        job_free(job);
}

/* From the loop: takes a finished restore and starts the next. */
static void restore_poll(nt_producer_t *p)
{
        if (p->job && atomic_load(&p->job->done))
                restore_finish(p);
        if (!p->job && p->restore_next && !p->group_broken && !p->unrestored)
                restore_start(p);
}

/* ---- rebalance ---------------------------------------------------- */

static int group_end(nt_producer_t *p, bool commit);

/* Forgets the restored states of these (revoked) partitions' feeds
 * whose records were not read yet: they are the next owner's, and a
 * later assignment restores them afresh. */
static void forget_restored(nt_producer_t *p,
                            const rd_kafka_topic_partition_list_t *parts)
{
        const char *key;
        json_t *pair;
        void *tmp;

        json_object_foreach_safe(p->restored, tmp, key, pair)
        {
                if (in_list(parts, (int32_t)json_integer_value(
                                       json_array_get(pair, 0))))
                        json_object_del(p->restored, key);
        }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        nt_producer_t *p = opaque;
        rd_kafka_error_t *error = NULL;
        size_t i;
        int k;

        p->gstats.rebalances++;
        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                NT_INFO("producer", "instance %s: assigned %d partition(s)",
                        p->instance, parts->cnt);
                /* The feed list: each partition from its beginning, paused
                 * until the loop has restored its states (restore_poll()),
                 * the callback returning at once. */
                for (k = 0; k < parts->cnt; k++)
                        parts->elems[k].offset = RD_KAFKA_OFFSET_BEGINNING;
                error = rd_kafka_incremental_assign(rk, parts);
                if (!error && parts->cnt > 0) {
                        rd_kafka_resp_err_t perr;

                        p->owned += parts->cnt;
                        perr = rd_kafka_pause_partitions(rk, parts);
                        if (perr)
                                NT_ERROR("producer", "pausing %s: %s",
                                         p->feeds_topic,
                                         rd_kafka_err2str(perr));
                        if (!p->restore_next)
                                p->restore_next =
                                    rd_kafka_topic_partition_list_new(
                                        parts->cnt);
                        for (k = 0; k < parts->cnt; k++)
                                rd_kafka_topic_partition_list_add(
                                    p->restore_next, parts->elems[k].topic,
                                    parts->elems[k].partition);
                }
                /* librdkafka (cooperative) calls this after every
                 * SyncGroup, with an empty list too: an instance given no
                 * partition is ready and idle (tests/kafka_group.c,
                 * instance_with_no_partition); one given some once their
                 * states are restored. */
                if (parts->cnt == 0 && !p->job && !p->restore_next)
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
                forget_restored(p, parts);
                /* Not restored yet: not restored at all (a running
                 * restore's states of them are dropped when it ends). */
                if (p->restore_next) {
                        rd_kafka_topic_partition_list_t *keep =
                            rd_kafka_topic_partition_list_new(
                                p->restore_next->cnt);

                        for (k = 0; k < p->restore_next->cnt; k++) {
                                if (!in_list(
                                        parts,
                                        p->restore_next->elems[k].partition))
                                        rd_kafka_topic_partition_list_add(
                                            keep,
                                            p->restore_next->elems[k].topic,
                                            p->restore_next->elems[k]
                                                .partition);
                        }
                        rd_kafka_topic_partition_list_destroy(p->restore_next);
                        p->restore_next = keep->cnt > 0 ? keep : NULL;
                        if (keep->cnt == 0)
                                rd_kafka_topic_partition_list_destroy(keep);
                }
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
        state = json_array_get(json_object_get(p->restored, key), 1);
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

        restore_poll(p);
        for (n = 0; n < RECORDS_PER_ROUND; n++) {
                rd_kafka_message_t *rkm;

                /* A restore that failed or was stopped (the rebalance
                 * callback runs inside the poll): no feed is taken on. */
                if (p->group_broken || p->unrestored)
                        return;
                /* A record changes the feeds that the transaction ending
                 * wrote: it waits (in librdkafka) until the end is over. */
                if (p->ending)
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
        size_t n = 0;

        if (nt_state_topic_ensure(nt_publisher_handle(p->pub), p->cfg, 30000,
                                  errstr, errstr_size) != NT_OK)
                return NT_ERR_KAFKA;
        p->probe = nt_kafka_consumer_new(p->cfg, NULL, probe_props, errstr,
                                         errstr_size);
        if (!p->probe)
                return NT_ERR_KAFKA;
        props[n++] = "partition.assignment.strategy";
        props[n++] = "cooperative-sticky";
        props[n++] = "auto.offset.reset";
        props[n++] = "earliest";
        props[n] = NULL;
        p->consumer = nt_kafka_txn_consumer_new(p->cfg, "producer.group", props,
                                                on_rebalance, NULL, p, errstr,
                                                errstr_size);
        if (!p->consumer)
                return NT_ERR_KAFKA;
        if (nt_kafka_subscribe_one(p->consumer, p->feeds_topic, errstr,
                                   errstr_size) != NT_OK)
                return NT_ERR_KAFKA;
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
        if (p->job) {
                /* It reads through the consumer: over before it goes. */
                atomic_store(&p->job->cancel, true);
                pthread_join(p->job->thread, NULL);
                job_free(p->job);
                p->job = NULL;
        }
        if (p->restore_next) {
                rd_kafka_topic_partition_list_destroy(p->restore_next);
                p->restore_next = NULL;
        }
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
        f->rollbacks++;
}

/* A rolled-back feed is due again now, not after its interval (an
 * hour's wait for articles that were fetched and lost with the abort):
 * at once after a first abort, then after REPOLL_FIRST_MS doubling per
 * abort in a row up to REPOLL_MAX_MS, so that a broker refusing every
 * transaction is not hammered; never later than its own schedule. A
 * feed being fetched is queued by its result. The fetcher's per-host
 * limits pace a crowd of them. */
static void repoll_soon(nt_producer_t *p, struct pfeed *f)
{
        int64_t delay = 0, due;
        int n;

        for (n = 1; n < p->abort_streak && delay < REPOLL_MAX_MS; n++)
                delay = delay ? delay * 2 : REPOLL_FIRST_MS;
        if (delay > REPOLL_MAX_MS)
                delay = REPOLL_MAX_MS;
        due = nt_date_now_ms() + delay;
        if (f->fetching || f->due_ms <= due)
                return;
        f->due_ms = due;
        nt_pr_requeue(p, f);
}

/* The consumer's positions on its assigned partitions (offsets read so
 * far), for send_offsets_to_transaction. When none has a position yet
 * (no record read since the assignment), the offsets committed, else 0:
 * a transaction is never committed without the group metadata, which
 * fences a zombie (KIP-447), and these offsets serve only that (every
 * assignment reads its partition from the beginning). NULL when no
 * partition is assigned. */
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
        if (out->cnt == 0 && parts->cnt > 0) {
                if (rd_kafka_committed(p->consumer, parts, 5000))
                        NT_WARN("producer",
                                "no position on %s and its committed "
                                "offsets unknown: offset 0 goes with the "
                                "group metadata",
                                p->feeds_topic);
                for (i = 0; i < parts->cnt; i++)
                        rd_kafka_topic_partition_list_add(
                            out, parts->elems[i].topic,
                            parts->elems[i].partition)
                            ->offset = parts->elems[i].offset >= 0
                                           ? parts->elems[i].offset
                                           : 0;
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

static int group_end_done(nt_producer_t *p, bool commit, int err);

/* Begins the end of the open transaction: committed with every changed
 * feed's state (commit true), or aborted. Either way the articles sent
 * leave their feeds' pending lists first (seen when committed; sent
 * again by a poll at once when not). Each librdkafka call waits at most
 * slice_ms: NT_ERR_TIMEOUT says the ending is under way (p->ending; the
 * loop steps it on with nt_pr_group_commit()), else as group_end(). */
static int group_end_begin(nt_producer_t *p, bool commit, int slice_ms)
{
        rd_kafka_topic_partition_list_t *offsets = NULL;
        size_t i;
        int err = NT_OK;

        /* Reports served first: an article refused before it was sent is
         * settled (marked seen) before the states are written. */
        nt_publisher_poll(p->pub, 0);
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
                err = nt_publisher_end_start(p->pub, true, p->consumer, offsets,
                                             slice_ms);
                if (offsets)
                        rd_kafka_topic_partition_list_destroy(offsets);
        } else {
                commit = false;
                err =
                    nt_publisher_end_start(p->pub, false, NULL, NULL, slice_ms);
        }
        if (err == NT_ERR_TIMEOUT) {
                /* Nothing of the feeds changes until it is over: no
                 * result is handled, no record, no fetch started. */
                p->ending = true;
                p->ending_commit = commit;
                return NT_ERR_TIMEOUT;
        }
        return group_end_done(p, commit, err);
}

/* The transaction is over (err: the publisher's answer): the states
 * written become the committed ones, or the feeds go back to theirs. */
static int group_end_done(nt_producer_t *p, bool commit, int err)
{
        size_t i;

        p->ending = false;
        if (!commit)
                err = err == NT_ERR_KAFKA ? NT_ERR_KAFKA : NT_ERR_TRANSIENT;
        if (err == NT_OK)
                p->abort_streak = 0;
        else
                p->abort_streak++;
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
                        repoll_soon(p, f);
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

/* Ends the open transaction now, blocking (a rebalance, a full
 * publisher, the stop): an ending under way is finished first. */
static int group_end(nt_producer_t *p, bool commit)
{
        int err;

        /* Broken (fenced for good, or no producer any more): nothing
         * more is written, also not by the revocation that closing the
         * consumer calls back. */
        if (p->group_broken)
                return NT_ERR_KAFKA;
        if (p->ending) {
                err = group_end_done(p, p->ending_commit,
                                     nt_publisher_end_finish(p->pub));
                if (err != NT_OK || !commit)
                        return err;
        }
        if (!nt_publisher_txn_open(p->pub) && p->n_dirty == 0)
                return NT_OK;
        err = group_end_begin(p, commit, NT_TXN_SLICE_MS);
        if (err == NT_ERR_TIMEOUT)
                err = group_end_done(p, p->ending_commit,
                                     nt_publisher_end_finish(p->pub));
        return err;
}

/* One step of the commit (or abort) under way, or the commit begun
 * when the transaction is txn_ms old (`now_due`: whatever its age). */
static int group_commit_step(nt_producer_t *p, bool now_due)
{
        int64_t now = nt_date_mono_ms();
        int err;

        if (!p->pub || p->group_broken)
                return p->group_broken ? NT_ERR_KAFKA : NT_OK;
        if (p->ending) {
                err = nt_publisher_end_step(p->pub, STEP_MS);
                return err == NT_ERR_TIMEOUT
                           ? NT_OK
                           : group_end_done(p, p->ending_commit, err);
        }
        if (!nt_publisher_txn_open(p->pub) && p->n_dirty == 0)
                return NT_OK;
        if (!now_due && now - p->last_commit_ms < p->txn_ms)
                return NT_OK;
        p->last_commit_ms = now;
        err = group_end_begin(p, true, STEP_MS);
        return err == NT_ERR_TIMEOUT ? NT_OK : err;
}

int nt_pr_group_commit(nt_producer_t *p, bool force)
{
        if (!p->pub || p->group_broken)
                return p->group_broken ? NT_ERR_KAFKA : NT_OK;
        return force ? group_end(p, true) : group_commit_step(p, false);
}

int nt_pr_group_make_room(nt_producer_t *p)
{
        return group_commit_step(p, true);
}

void nt_pr_group_repoll(nt_producer_t *p, struct pfeed *f)
{
        repoll_soon(p, f);
}

bool nt_pr_group_ending(const nt_producer_t *p)
{
        return p->ending;
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
