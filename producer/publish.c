#include "producer/publish.h"
#include "common/date.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/sig.h"
#include "common/txn.h"
#include "common/url.h"

#include <librdkafka/rdkafka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One article message, owned here from send until confirmation. */
struct pmsg {
        struct pmsg *prev, *next; /* the tracked list */
        struct pmsg *retry_next;  /* on the resend list when pending */
        struct nt_publish_meta meta;
        char *key, *revision, *feed_url; /* in strs[] */
        size_t key_len, revision_len, feed_url_len;
        char *value;
        size_t value_len;
        int queued;           /* handed to librdkafka, report not yet seen */
        struct timespec sent; /* first send, for the latency */
        int pending;          /* on the resend list */
        rd_kafka_resp_err_t refused; /* refused for good: settle, no resend */
        char strs[]; /* key, revision and feed URL, each with its NUL: one
                      * allocation with the message, not three more */
};

/* From a local broker's few milliseconds to a cluster in trouble. */
const double nt_publish_latency_bounds[NT_PUBLISH_LATENCY_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

struct nt_publisher {
        rd_kafka_t *rk;
        const nt_config_t *cfg;
        char *topic;
        size_t max_inflight;
        size_t n_tracked;
        struct pmsg *head; /* tracked messages */
        /* Waiting to be (re)sent, oldest first: sent again in the order
         * they were first sent, and new ones wait behind them, so that
         * a partition keeps the order of sending (two revisions of one
         * article included) through a full queue or a rebuild. */
        struct pmsg *retry_head, *retry_tail;
        struct pmsg *refused_head; /* refused for good, not settled yet */
        nt_publish_confirm_cb *confirm;
        void *ctx;
        struct nt_publish_stats stats;
        struct nt_kafka_stats kstats;
        bool have_kstats;
        /* During an outage every article fails once per
         * message.timeout.ms: these fold the lines (one per kind and
         * interval) instead of one per article. */
        nt_log_agg_t *warns, *errors;

        /* Transactional mode (txn_id set): the tracked messages are the
         * open transaction's; they are confirmed when it commits. */
        char *txn_id;
        bool open;         /* a transaction is open */
        bool txn_failed;   /* a delivery of the open transaction failed */
        bool left;         /* nt_publisher_leave() freed the messages whose
                            * reports may still come: they are ignored */
        int64_t opened_at; /* monotonic ms the open transaction began */
        int64_t stop_at;   /* shutdown deadline (common/txn.h) */
        struct nt_txn_fences fences;
        /* The transaction's ending under way (nt_publisher_end_step()):
         * which call, with what, since when, how often, and no call
         * before retry_at (a nap between tries). */
        int end; /* enum txn_end */
        rd_kafka_t *end_consumer;
        rd_kafka_topic_partition_list_t *end_offsets; /* a copy */
        int64_t call_start, retry_at, warn_at;
        int tries;
};

/* How often one kind of repeated line is written at most. */
#define LOG_INTERVAL_MS 10000
/* Kinds of repeated lines kept apart (one per librdkafka error). */
#define LOG_KINDS 16

/* Served by rd_kafka_poll() in the loop's thread, like delivery reports. */
static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
        nt_publisher_t *p = opaque;

        (void)rk;
        if (nt_kafka_stats_parse(json, len, &p->kstats) == NT_OK)
                p->have_kstats = true;
        return 0; /* librdkafka frees json */
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque);
static void end_clear(nt_publisher_t *p);

static void pmsg_free(struct pmsg *m)
{
        free(m->value);
        free(m);
}

static void untrack(nt_publisher_t *p, struct pmsg *m)
{
        if (m->prev)
                m->prev->next = m->next;
        else
                p->head = m->next;
        if (m->next)
                m->next->prev = m->prev;
        p->n_tracked--;
}

static void mark_pending(nt_publisher_t *p, struct pmsg *m)
{
        m->queued = 0;
        if (m->pending || m->refused)
                return;
        m->pending = 1;
        m->retry_next = NULL;
        if (p->retry_tail)
                p->retry_tail->retry_next = m;
        else
                p->retry_head = m;
        p->retry_tail = m;
}

/* Errors of one message that sending it again cannot change. */
static bool refused_for_good(rd_kafka_resp_err_t err)
{
        return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
               err == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE ||
               err == RD_KAFKA_RESP_ERR_INVALID_RECORD;
}

/* Sets a refused message aside; nt_publisher_poll() settles it, so that
 * callbacks come from there only. */
static void mark_refused(nt_publisher_t *p, struct pmsg *m,
                         rd_kafka_resp_err_t err)
{
        m->queued = 0;
        m->refused = err;
        m->retry_next = p->refused_head;
        p->refused_head = m;
}

static rd_kafka_t *make_producer(nt_publisher_t *p, char *errstr,
                                 size_t errstr_size)
{
        const char *compression = nt_config_str(p->cfg, "producer.compression");
        const char *props[12];
        rd_kafka_t *rk;
        size_t n = 0;

        props[n++] = "enable.idempotence";
        props[n++] = "true";
        props[n++] = "acks";
        props[n++] = "all";
        if (p->txn_id) {
                props[n++] = "transactional.id";
                props[n++] = p->txn_id;
        }
        if (!json_object_get(nt_config_kafka(p->cfg), "compression.type") &&
            !json_object_get(nt_config_kafka(p->cfg), "compression.codec")) {
                props[n++] = "compression.type";
                props[n++] = compression;
        }
        if (!json_object_get(nt_config_kafka(p->cfg),
                             "statistics.interval.ms")) {
                /* Readiness and the metrics follow the broker states. */
                props[n++] = "statistics.interval.ms";
                props[n++] = "1000";
        }
        props[n] = NULL;
        rk = nt_kafka_producer_new_with_stats(p->cfg, props, on_delivery,
                                              on_stats, p, errstr, errstr_size);
        return rk;
}

static nt_publisher_t *publisher_new(const nt_config_t *cfg, const char *topic,
                                     size_t max_inflight, const char *txn_id,
                                     nt_publish_confirm_cb *confirm, void *ctx,
                                     char *errstr, size_t errstr_size)
{
        nt_publisher_t *p = calloc(1, sizeof(*p));

        if (!p || !(p->topic = strdup(topic)) ||
            (txn_id && !(p->txn_id = strdup(txn_id)))) {
                if (p)
                        free(p->topic);
                free(p);
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                return NULL;
        }
        p->cfg = cfg;
        p->max_inflight = max_inflight ? max_inflight : 1;
        p->confirm = confirm;
        p->ctx = ctx;
        p->warns =
            nt_log_agg_new(NT_LOG_WARN, "producer", LOG_INTERVAL_MS, LOG_KINDS);
        p->errors = nt_log_agg_new(NT_LOG_ERROR, "producer", LOG_INTERVAL_MS,
                                   LOG_KINDS);
        if (!p->warns || !p->errors) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                goto fail;
        }
        p->rk = make_producer(p, errstr, errstr_size);
        if (!p->rk)
                goto fail;
        /* A restarted instance's init aborts what its predecessor left
         * open, so read_committed readers are not held up by it. */
        if (p->txn_id && nt_txn_init(p->rk, p->txn_id, NT_TXN_OP_MS, "producer",
                                     errstr, errstr_size) != NT_OK)
                goto fail;
        return p;
fail:
        if (p->rk)
                rd_kafka_destroy(p->rk);
        nt_log_agg_destroy(p->warns);
        nt_log_agg_destroy(p->errors);
        free(p->txn_id);
        free(p->topic);
        free(p);
        return NULL;
}

nt_publisher_t *nt_publisher_new(const nt_config_t *cfg, const char *topic,
                                 size_t max_inflight,
                                 nt_publish_confirm_cb *confirm, void *ctx,
                                 char *errstr, size_t errstr_size)
{
        return publisher_new(cfg, topic, max_inflight, NULL, confirm, ctx,
                             errstr, errstr_size);
}

nt_publisher_t *nt_publisher_new_txn(const nt_config_t *cfg, const char *topic,
                                     size_t max_inflight, const char *txn_id,
                                     nt_publish_confirm_cb *confirm, void *ctx,
                                     char *errstr, size_t errstr_size)
{
        return publisher_new(cfg, topic, max_inflight, txn_id, confirm, ctx,
                             errstr, errstr_size);
}

/* Hands one message to librdkafka. The message pointer is the
 * per-message opaque, so its report finds it again. */
static int produce(nt_publisher_t *p, struct pmsg *m)
{
        rd_kafka_headers_t *hdrs = rd_kafka_headers_new(5);
        rd_kafka_resp_err_t err;

        rd_kafka_header_add(hdrs, "content-type", 12, "application/json", 16);
        rd_kafka_header_add(hdrs, "schema", 6, "newstap.article/1", 17);
        rd_kafka_header_add(hdrs, "revision", 8, m->revision,
                            (ssize_t)m->revision_len);
        rd_kafka_header_add(hdrs, "feed", 4, m->feed_url,
                            (ssize_t)m->feed_url_len);
        if (m->meta.published_ms > 0) {
                char when[32];

                nt_date_format(m->meta.published_ms, when, sizeof(when));
                rd_kafka_header_add(hdrs, "published", -1, when, -1);
        }
        err = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(p->topic),
            RD_KAFKA_V_KEY(m->key, m->key_len),
            RD_KAFKA_V_VALUE(m->value, m->value_len),
            RD_KAFKA_V_TIMESTAMP(m->meta.timestamp_ms > 0 ? m->meta.timestamp_ms
                                                          : 0),
            RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(m), RD_KAFKA_V_END);
        if (err) {
                rd_kafka_headers_destroy(hdrs);
                if (refused_for_good(err)) {
                        mark_refused(p, m, err);
                        return NT_ERR_INVALID;
                }
                return err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? NT_ERR_LIMIT
                                                            : NT_ERR_KAFKA;
        }
        m->queued = 1;
        p->stats.sent++;
        return NT_OK;
}

rd_kafka_t *nt_publisher_handle(nt_publisher_t *p)
{
        return p->rk;
}

/* Tracks and produces one message; `value` is copied unless `owned`,
 * when it is taken over on NT_OK only. */
static int send_value(nt_publisher_t *p, const struct nt_publish_meta *meta,
                      char *value, size_t value_len, bool owned)
{
        const char *feed_url = meta->feed_url ? meta->feed_url : "";
        size_t key_len = strlen(meta->key),
               revision_len = strlen(meta->revision),
               feed_url_len = strlen(feed_url);
        struct pmsg *m;

        /* A transaction ending takes no new message: the caller ends it
         * (nt_publisher_commit()) to make room, as when full. */
        if (p->n_tracked >= p->max_inflight || p->end)
                return NT_ERR_LIMIT;
        if (p->txn_id && nt_publisher_begin(p) != NT_OK)
                return NT_ERR_KAFKA;
        /* Three strings a few dozen bytes each, bounded by the fields
         * they come from: no overflow in the sum. */
        m = calloc(1, sizeof(*m) + key_len + revision_len + feed_url_len + 3);
        if (!m)
                return NT_ERR_NOMEM;
        m->key = m->strs;
        memcpy(m->key, meta->key, key_len + 1);
        m->key_len = key_len;
        m->revision = m->key + key_len + 1;
        memcpy(m->revision, meta->revision, revision_len + 1);
        m->revision_len = revision_len;
        m->feed_url = m->revision + revision_len + 1;
        memcpy(m->feed_url, feed_url, feed_url_len + 1);
        /* The "feed" header and the log name the feed, never its
         * credentials. */
        m->feed_url_len = nt_url_scrub_userinfo(m->feed_url);
        m->value = owned ? value : malloc(value_len ? value_len : 1);
        if (!m->value) {
                pmsg_free(m);
                return NT_ERR_NOMEM;
        }
        if (!owned)
                memcpy(m->value, value, value_len);
        clock_gettime(CLOCK_MONOTONIC, &m->sent);
        m->value_len = value_len;
        m->meta = *meta;
        m->meta.refused = NULL;
        m->meta.key = m->key;
        m->meta.revision = m->revision;
        m->meta.feed_url = m->feed_url;
        m->next = p->head;
        if (p->head)
                p->head->prev = m;
        p->head = m;
        p->n_tracked++;
        /* Once tracked, the message is ours to deliver: behind the ones
         * waiting to be sent again, or if librdkafka's queue is full now,
         * it waits on the resend list (a refused one is already set
         * aside). */
        if (p->retry_head || (produce(p, m) != NT_OK && !m->refused))
                mark_pending(p, m);
        return NT_OK;
}

int nt_publisher_send(nt_publisher_t *p, const struct nt_publish_meta *meta,
                      const char *value, size_t value_len)
{
        /* Not written to: copied before the message holds it. */
        return send_value(p, meta, (char *)value, value_len, false);
}

int nt_publisher_send_owned(nt_publisher_t *p,
                            const struct nt_publish_meta *meta, char *value,
                            size_t value_len)
{
        return send_value(p, meta, value, value_len, true);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque)
{
        nt_publisher_t *p = opaque;
        struct pmsg *m = rkm->_private;

        (void)rk;
        if (p->left) /* m was freed by nt_publisher_leave() */
                return;
        if (p->txn_id && rkm->err) {
                /* In a transaction a failed record fails the transaction:
                 * it is aborted and its polls redone; one refused for
                 * good is settled as refused after the abort. */
                p->txn_failed = true;
                if (m && refused_for_good(rkm->err))
                        m->refused = rkm->err;
                if (rkm->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
                    rkm->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
                        NT_WARN("producer", "delivery to %s failed: %s",
                                rd_kafka_topic_name(rkm->rkt),
                                rd_kafka_err2str(rkm->err));
                return;
        }
        if (!m)
                return;
        if (p->txn_id) {
                /* Written, not committed: confirmed by the commit. */
                m->queued = 0;
                return;
        }
        if (rkm->err && refused_for_good(rkm->err) && !m->pending) {
                mark_refused(p, m, rkm->err);
                return;
        }
        if (rkm->err) {
                p->stats.failed++;
                if (rkm->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
                    rkm->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
                        char kind[160];

                        snprintf(kind, sizeof(kind), "delivery failed (%s)",
                                 rd_kafka_err2str(rkm->err));
                        nt_log_agg_add(p->warns, nt_date_mono_ms(), kind,
                                       "delivery of %s failed (%s); sending "
                                       "again",
                                       m->key, rd_kafka_err2str(rkm->err));
                }
                mark_pending(p, m);
                return;
        }
        m->queued = 0;
        p->stats.confirmed++;
        {
                struct timespec now;
                double took;
                size_t i;

                clock_gettime(CLOCK_MONOTONIC, &now);
                took = (double)(now.tv_sec - m->sent.tv_sec) +
                       (double)(now.tv_nsec - m->sent.tv_nsec) / 1e9;
                p->stats.latency_s += took;
                for (i = 0; i < NT_PUBLISH_LATENCY_BUCKETS; i++)
                        p->stats.latency_le[i] +=
                            took <= nt_publish_latency_bounds[i];
        }
        if (p->confirm)
                p->confirm(p->ctx, &m->meta);
        if (m->pending) {
                /* Confirmed while a resend was planned (an old report
                 * arriving late): drop it from the resend list. */
                struct pmsg **pp = &p->retry_head, *before = NULL;
                while (*pp && *pp != m) {
                        before = *pp;
                        pp = &(*pp)->retry_next;
                }
                if (*pp) {
                        *pp = m->retry_next;
                        if (p->retry_tail == m)
                                p->retry_tail = before;
                }
        }
        untrack(p, m);
        pmsg_free(m);
}

/* Replaces a producer that hit a fatal error. Every tracked message that
 * was not confirmed is sent again by the new one. */
static int rebuild(nt_publisher_t *p)
{
        char reason[512], errstr[512];
        rd_kafka_resp_err_t ferr;
        rd_kafka_t *fresh;
        struct pmsg *m;

        ferr = rd_kafka_fatal_error(p->rk, reason, sizeof(reason));
        NT_ERROR("producer",
                 "fatal producer error %s: %s; rebuilding the producer and "
                 "sending the %zu unconfirmed article(s) again",
                 rd_kafka_err2name(ferr), reason, p->n_tracked);
        fresh = make_producer(p, errstr, sizeof(errstr));
        if (!fresh) {
                NT_ERROR("producer", "cannot rebuild the producer: %s", errstr);
                return NT_ERR_KAFKA;
        }
        /* Reports for purged messages arrive with purge errors during
         * this poll and put them on the resend list. */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE |
                                  RD_KAFKA_PURGE_F_INFLIGHT |
                                  RD_KAFKA_PURGE_F_NON_BLOCKING);
        rd_kafka_poll(p->rk, 0);
        rd_kafka_destroy(p->rk);
        p->rk = fresh;
        p->stats.rebuilds++;
        /* All of them again, oldest first (the tracked list is newest
         * first), those already waiting included. */
        p->retry_head = p->retry_tail = NULL;
        for (m = p->head; m; m = m->next) {
                m->pending = 0;
                if (!m->next)
                        break;
        }
        for (; m; m = m->prev)
                mark_pending(p, m);
        return NT_OK;
}

/* Sends the waiting messages again in order, up to the first that
 * librdkafka's queue has no room for: it and those behind it wait for
 * the next poll. */
static void resend_pending(nt_publisher_t *p)
{
        struct pmsg *m;

        while ((m = p->retry_head) != NULL) {
                p->retry_head = m->retry_next;
                if (!p->retry_head)
                        p->retry_tail = NULL;
                m->pending = 0;
                if (produce(p, m) != NT_OK && !m->refused) {
                        m->pending = 1;
                        m->retry_next = p->retry_head;
                        p->retry_head = m;
                        if (!p->retry_tail)
                                p->retry_tail = m;
                        return;
                }
        }
}

/* Settles the messages refused for good: logged, counted, handed to the
 * callback with meta.refused set, forgotten. */
static void settle_refused(nt_publisher_t *p)
{
        struct pmsg *m;

        while ((m = p->refused_head) != NULL) {
                char kind[160];

                p->refused_head = m->retry_next;
                p->stats.refused++;
                snprintf(kind, sizeof(kind), "refused for good (%s)",
                         rd_kafka_err2str(m->refused));
                nt_log_agg_add(p->errors, nt_date_mono_ms(), kind,
                               "article %s (feed %s, %zu bytes) refused for "
                               "good: %s; it is not sent again",
                               m->key, m->feed_url, m->value_len,
                               rd_kafka_err2str(m->refused));
                m->meta.refused = rd_kafka_err2str(m->refused);
                if (p->confirm)
                        p->confirm(p->ctx, &m->meta);
                untrack(p, m);
                pmsg_free(m);
        }
}

int nt_publisher_poll(nt_publisher_t *p, int timeout_ms)
{
        if (!p->rk) /* transactional, its rebuild failed: nothing to serve */
                return 0;
        rd_kafka_poll(p->rk, timeout_ms);
        /* A transactional producer's fatal error is met by the commit,
         * which rebuilds it and redoes the transaction's polls. */
        if (!p->txn_id &&
            rd_kafka_fatal_error(p->rk, NULL, 0) != RD_KAFKA_RESP_ERR_NO_ERROR)
                rebuild(p);
        if (p->retry_head)
                resend_pending(p);
        if (p->refused_head)
                settle_refused(p);
        nt_log_agg_flush(p->warns, nt_date_mono_ms(), 0);
        nt_log_agg_flush(p->errors, nt_date_mono_ms(), 0);
        return NT_OK;
}

const struct nt_kafka_stats *nt_publisher_kafka_stats(const nt_publisher_t *p,
                                                      bool *have)
{
        *have = p->have_kstats;
        return &p->kstats;
}

size_t nt_publisher_inflight(const nt_publisher_t *p)
{
        return p->n_tracked;
}

void nt_publisher_stats(const nt_publisher_t *p, struct nt_publish_stats *st)
{
        *st = p->stats;
}

size_t nt_publisher_destroy(nt_publisher_t *p, int timeout_ms)
{
        struct pmsg *m;
        size_t left;
        int64_t deadline, now;

        if (!p)
                return 0;
        /* Bounded: keep serving reports (and resends) until everything is
         * confirmed or the time is up (a poll returns early when reports
         * arrive, so the clock says when). A transaction's messages are
         * confirmed only by its commit (nt_publisher_commit()). */
        deadline = nt_date_mono_ms() + timeout_ms;
        while (!p->txn_id && p->n_tracked > 0 &&
               (now = nt_date_mono_ms()) < deadline)
                nt_publisher_poll(
                    p, deadline - now < 100 ? (int)(deadline - now) : 100);
        left = p->n_tracked;
        /* What the aggregates still hold comes before the last word. */
        nt_log_agg_flush(p->warns, nt_date_mono_ms(), 1);
        nt_log_agg_flush(p->errors, nt_date_mono_ms(), 1);
        if (left)
                NT_WARN("producer",
                        "%zu article(s) unconfirmed at shutdown; they are "
                        "not marked seen and will be sent again",
                        left);
        p->confirm = NULL;
        end_clear(p);
        if (p->rk) {
                rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE |
                                          RD_KAFKA_PURGE_F_INFLIGHT |
                                          RD_KAFKA_PURGE_F_NON_BLOCKING);
                rd_kafka_poll(p->rk, 0);
                rd_kafka_destroy(p->rk);
        }
        while ((m = p->head) != NULL) {
                p->head = m->next;
                pmsg_free(m);
        }
        nt_log_agg_destroy(p->warns);
        nt_log_agg_destroy(p->errors);
        free(p->txn_id);
        free(p->topic);
        free(p);
        return left;
}

int nt_publisher_inject_fatal(nt_publisher_t *p)
{
        return rd_kafka_test_fatal_error(
                   p->rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                   "injected by a test") == RD_KAFKA_RESP_ERR_NO_ERROR
                   ? NT_OK
                   : NT_ERR_KAFKA;
}

/* ---- transactional mode ------------------------------------------ */

/* A transaction ends in steps (nt_publisher_end_step()), each one
 * librdkafka call of at most a slice, so that the produce loop goes on
 * between them while the broker is away (metrics, readiness, signals,
 * fetches in flight): send_offsets_to_transaction, commit_transaction,
 * or, when it cannot commit, abort_transaction or a new producer whose
 * init_transactions aborts it. A call that times out is called again
 * (librdkafka allows it) until NT_TXN_OP_MS have passed; the error
 * classes decide the rest as nt_txn_judge() says. */
enum txn_end { END_NONE = 0, END_OFFSETS, END_COMMIT, END_ABORT, END_REBUILD };

/* A step's answer (never an NT_ERR_*): the next call is set, make it
 * now. */
#define STEP_ON 1

static int end_start_fail(nt_publisher_t *p, bool rebuild);
static int end_wait(nt_publisher_t *p, int rc);

static int commit_slice(int64_t end, int slice);

/* A begin refused after a commit answered: the commit called again
 * (blocking, as nt_publisher_commit() does) until it is over, in
 * slices of at least COMMIT_MIN_SLICE_MS, and the stop deadline read
 * again after each: a SIGTERM during the call ends it within
 * producer.shutdown_timeout, not NT_TXN_OP_MS later. */
static int commit_finish(nt_publisher_t *p)
{
        int64_t op_end = nt_date_mono_ms() + NT_TXN_OP_MS;
        rd_kafka_error_t *error;

        for (;;) {
                int64_t end = nt_txn_stop_deadline(
                    &p->stop_at,
                    nt_config_ms(p->cfg, "producer.shutdown_timeout"));

                if (op_end < end)
                        end = op_end;
                error = nt_txn_call_once(p->rk, NT_TXN_COMMIT, NULL, NULL,
                                         commit_slice(end, NT_TXN_SLICE_MS));
                if (!nt_txn_call_again(error, end))
                        break;
                rd_kafka_error_destroy(error);
                rd_kafka_poll(p->rk, 0);
        }
        if (!error) {
                p->stats.commit_refusals++;
                NT_WARN("producer", "the last commit_transaction answered "
                                    "before it was over; it is now");
                return NT_OK;
        }
        NT_ERROR("producer", "commit_transaction after a refused begin: %s",
                 rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        return NT_ERR_KAFKA;
}

int nt_publisher_begin(nt_publisher_t *p)
{
        bool rebuild;

        if (!p->txn_id || p->open)
                return NT_OK;
        if (!p->rk || p->end) /* its rebuild failed, or one is ending */
                return NT_ERR_KAFKA;
        if (nt_txn_begin(p->rk, "producer", &rebuild) != NT_OK) {
                /* librdkafka's result race (above step_commit()) can
                 * answer a commit before it is over: the commit is
                 * called again until it is, then the begin. */
                if (!rebuild && commit_finish(p) == NT_OK &&
                    nt_txn_begin(p->rk, "producer", &rebuild) == NT_OK)
                        goto begun;
                /* A fatal error met before any message of the transaction
                 * was sent: a new producer, and begin again. */
                if (!rebuild ||
                    end_wait(p, end_start_fail(p, true)) == NT_ERR_KAFKA ||
                    nt_txn_begin(p->rk, "producer", &rebuild) != NT_OK)
                        return NT_ERR_KAFKA;
        }
begun:
        p->left = false;
        p->open = true;
        p->txn_failed = false;
        p->opened_at = nt_date_mono_ms();
        return NT_OK;
}

bool nt_publisher_txn_open(const nt_publisher_t *p)
{
        return p->open;
}

int64_t nt_publisher_txn_age_ms(const nt_publisher_t *p)
{
        return p->open ? nt_date_mono_ms() - p->opened_at : 0;
}

int nt_publisher_send_record(nt_publisher_t *p, const char *topic,
                             int32_t partition, const char *key,
                             const char *value, size_t value_len,
                             const char *schema)
{
        rd_kafka_headers_t *hdrs = NULL;
        rd_kafka_resp_err_t err;

        if (nt_publisher_begin(p) != NT_OK)
                return NT_ERR_KAFKA;
        if (value) {
                hdrs = rd_kafka_headers_new(2);
                rd_kafka_header_add(hdrs, "content-type", -1,
                                    "application/json", -1);
                if (schema)
                        rd_kafka_header_add(hdrs, "schema", -1, schema, -1);
        }
        for (;;) {
                err = rd_kafka_producev(
                    p->rk, RD_KAFKA_V_TOPIC(topic),
                    RD_KAFKA_V_PARTITION(partition),
                    RD_KAFKA_V_KEY(key, strlen(key)),
                    RD_KAFKA_V_VALUE((void *)value, value ? value_len : 0),
                    /* Copied: librdkafka batches and compresses it later
                     * in its own thread, and the caller's buffer is not
                     * the publisher's to keep alive (a state record is
                     * a few KB, once per feed and commit). */
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(NULL),
                    RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                rd_kafka_poll(p->rk, 10);
        }
        if (err) {
                if (hdrs)
                        rd_kafka_headers_destroy(hdrs);
                NT_ERROR("producer", "writing %s to %s [%d]: %s", key, topic,
                         (int)partition, rd_kafka_err2str(err));
                p->txn_failed = true;
                return NT_ERR_KAFKA;
        }
        return NT_OK;
}

void nt_publisher_each(nt_publisher_t *p, nt_publish_confirm_cb *cb, void *ctx)
{
        struct pmsg *m;

        for (m = p->head; m; m = m->next) {
                if (!m->refused)
                        cb(ctx, &m->meta);
        }
}

/* The ending is over: back to no call under way. */
static void end_clear(nt_publisher_t *p)
{
        p->end = END_NONE;
        if (p->end_offsets)
                rd_kafka_topic_partition_list_destroy(p->end_offsets);
        p->end_offsets = NULL;
        p->end_consumer = NULL;
}

/* Forgets the messages of a transaction that did not commit: none is
 * confirmed, except that those refused for good are settled as refused
 * (sending them again cannot help). */
static void drop_tracked(nt_publisher_t *p)
{
        struct pmsg *m;

        p->retry_head = p->retry_tail = p->refused_head = NULL;
        while ((m = p->head) != NULL) {
                if (m->refused && p->confirm) {
                        p->stats.refused++;
                        NT_ERROR("producer",
                                 "article %s (feed %s, %zu bytes) refused "
                                 "for good: %s; it is not sent again",
                                 m->key, m->feed_url, m->value_len,
                                 rd_kafka_err2str(m->refused));
                        m->meta.refused = rd_kafka_err2str(m->refused);
                        p->confirm(p->ctx, &m->meta);
                }
                untrack(p, m);
                pmsg_free(m);
        }
        p->open = false;
        p->txn_failed = false;
        end_clear(p);
}

/* Sets the next call going: op_ms count from now, no nap. */
static int end_next(nt_publisher_t *p, enum txn_end end)
{
        p->end = end;
        p->call_start = nt_date_mono_ms();
        p->retry_at = 0;
        p->tries = 0;
        return STEP_ON;
}

/* The time the current call must answer by: NT_TXN_OP_MS after it
 * started, sooner when stopping (common/txn.h). */
static int64_t call_end(nt_publisher_t *p)
{
        int64_t deadline = nt_txn_stop_deadline(
            &p->stop_at, nt_config_ms(p->cfg, "producer.shutdown_timeout"));
        int64_t end = p->call_start + NT_TXN_OP_MS;

        return deadline < end ? deadline : end;
}

static int slice_ms(int64_t end, int slice)
{
        int64_t left = end - nt_date_mono_ms();

        return left < 1 ? 1 : left < slice ? (int)left : slice;
}

/* A new producer for one that cannot end its transaction otherwise: its
 * init_transactions aborts what the old one left open. Gives up (no
 * producer, NT_ERR_KAFKA) when fenced again and again by a live twin. */
static int start_rebuild(nt_publisher_t *p)
{
        char reason[512] = "";
        rd_kafka_resp_err_t ferr = RD_KAFKA_RESP_ERR_NO_ERROR;

        if (p->rk)
                ferr = rd_kafka_fatal_error(p->rk, reason, sizeof(reason));
        NT_ERROR("producer",
                 "producer error %s: %s; recreating the producer, the "
                 "transaction's polls are redone",
                 rd_kafka_err2name(ferr), reason[0] ? reason : "(no detail)");
        if (nt_txn_fenced_error(ferr) &&
            nt_txn_fence_note(&p->fences, nt_date_mono_ms()) >=
                NT_TXN_FENCE_LIMIT) {
                NT_ERROR("producer",
                         "fenced %d times within %d s: another live "
                         "instance uses transactional.id \"%s\"; give each "
                         "instance its own producer.instance",
                         NT_TXN_FENCE_LIMIT, NT_TXN_FENCE_WINDOW_MS / 1000,
                         p->txn_id);
                /* Purged and destroyed first, as below: no report may
                 * refer to a message freed here. */
                nt_txn_purge(p->rk);
                rd_kafka_destroy(p->rk);
                p->rk = NULL;
                drop_tracked(p);
                return NT_ERR_KAFKA;
        }
        /* Purged and destroyed first: no report of the old producer
         * refers to a tracked message afterwards. The step makes the
         * new one. */
        if (p->rk) {
                nt_txn_purge(p->rk);
                rd_kafka_destroy(p->rk);
                p->rk = NULL;
        }
        p->warn_at = nt_date_mono_ms() + NT_TXN_OP_MS;
        return end_next(p, END_REBUILD);
}

/* One step of the new producer's init_transactions (nt_txn_init() and
 * nt_txn_rebuild() in steps). */
static int step_rebuild(nt_publisher_t *p, int slice)
{
        char errstr[512];
        rd_kafka_error_t *error;
        int64_t now = nt_date_mono_ms();

        if (!p->rk) { /* a new producer (again, after an init failed) */
                p->rk = make_producer(p, errstr, sizeof(errstr));
                if (!p->rk) {
                        NT_ERROR("producer", "cannot recreate the producer: %s",
                                 errstr);
                        drop_tracked(p);
                        return NT_ERR_KAFKA;
                }
        }
        error = rd_kafka_init_transactions(p->rk, slice);
        if (!error) {
                drop_tracked(p);
                p->stats.rebuilds++;
                return NT_ERR_TRANSIENT;
        }
        if (rd_kafka_error_is_retriable(error) && nt_sig_running()) {
                if (rd_kafka_error_code(error) !=
                        RD_KAFKA_RESP_ERR__TIMED_OUT ||
                    now >= p->warn_at) {
                        NT_WARN("producer",
                                "init_transactions: %s; trying again",
                                rd_kafka_error_string(error));
                        p->warn_at = now + NT_TXN_OP_MS;
                }
                rd_kafka_error_destroy(error);
                return NT_ERR_TIMEOUT;
        }
        NT_ERROR("producer", "init_transactions (transactional.id %s): %s%s",
                 p->txn_id, rd_kafka_error_string(error),
                 nt_sig_running() ? "; trying again" : "");
        rd_kafka_error_destroy(error);
        rd_kafka_destroy(p->rk);
        p->rk = NULL;
        if (!nt_sig_running()) {
                drop_tracked(p);
                return NT_ERR_KAFKA;
        }
        p->retry_at = now + 1000;
        return NT_ERR_TIMEOUT;
}

/* The open transaction cannot commit: aborted, or (`rebuild`, or the
 * abort failing) a new producer. */
static int end_start_fail(nt_publisher_t *p, bool rebuild)
{
        p->stats.aborted++;
        if (rebuild)
                return start_rebuild(p);
        if (!p->open) {
                drop_tracked(p);
                return NT_ERR_TRANSIENT;
        }
        /* abort_transaction() waits until no message is left to report,
         * and with a delivery report callback only polling serves the
         * reports: serve them, purge what is queued or in flight, serve
         * those too (nt_txn_abort() does the same). */
        rd_kafka_poll(p->rk, 0);
        nt_txn_purge(p->rk);
        rd_kafka_poll(p->rk, 0);
        return end_next(p, END_ABORT);
}

static int step_abort(nt_publisher_t *p, int slice)
{
        int64_t end = call_end(p);
        rd_kafka_error_t *error = nt_txn_call_once(p->rk, NT_TXN_ABORT, NULL,
                                                   NULL, slice_ms(end, slice));

        if (!error) {
                drop_tracked(p);
                return NT_ERR_TRANSIENT;
        }
        if (nt_txn_call_again(error, end)) {
                rd_kafka_error_destroy(error);
                rd_kafka_poll(p->rk, 0);
                return NT_ERR_TIMEOUT;
        }
        if (rd_kafka_error_is_retriable(error) && nt_sig_running() &&
            p->tries + 1 < NT_TXN_RETRIES) {
                NT_WARN("producer", "abort_transaction: %s; again",
                        rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
                rd_kafka_poll(p->rk, 0);
                p->tries++;
                p->retry_at = nt_date_mono_ms() + 100;
                p->call_start = p->retry_at;
                return NT_ERR_TIMEOUT;
        }
        NT_ERROR("producer", "abort_transaction: %s",
                 rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        return start_rebuild(p);
}

/* Committed: every article of the transaction confirmed. */
static int commit_done(nt_publisher_t *p)
{
        struct pmsg *m;

        p->open = false;
        while ((m = p->head) != NULL) {
                p->stats.confirmed++;
                if (p->confirm)
                        p->confirm(p->ctx, &m->meta);
                untrack(p, m);
                pmsg_free(m);
        }
        p->retry_head = p->retry_tail = p->refused_head = NULL;
        p->stats.transactions++;
        end_clear(p);
        return NT_OK;
}

/* A commit that has had no answer for its whole time (or a retriable
 * error) has an unknown outcome: the broker may have committed it. An
 * abort, or a new producer, would roll its feeds back to their states
 * before it and publish its articles a second time, so the commit is
 * called again in place, for as long as the process runs (librdkafka
 * resumes the same commit). A stop leaves it to the next
 * init_transactions() of this transactional.id, which completes or
 * aborts it on the broker: the articles and the states go together
 * either way. */
static int commit_unknown(nt_publisher_t *p, rd_kafka_error_t *error)
{
        int64_t now = nt_date_mono_ms();

        if (now >= p->warn_at) {
                NT_WARN("producer",
                        "commit_transaction: %s; its outcome is unknown, "
                        "trying again until it answers (an abort could "
                        "publish its articles twice)",
                        rd_kafka_error_string(error));
                p->warn_at = now + NT_TXN_OP_MS;
        }
        rd_kafka_error_destroy(error);
        rd_kafka_poll(p->rk, 0);
        p->retry_at = now + 100;
        p->call_start = p->retry_at;
        return NT_ERR_TIMEOUT;
}

/* librdkafka (2.0.2 to at least 2.15) keeps one result slot per
 * transactional API, not one per request: a commit call whose first
 * request (begin commit) timed out leaves that request queued, and its
 * late answer can be taken as the answer of a later request of a later
 * call. The call then goes on too early and its last request finds the
 * transaction not yet committed: __STATE "Operation not valid in state
 * BeginCommit" (the commit was never sent) or "... CommittingTransaction"
 * (it was sent: the broker commits it). Either way the transaction is
 * still the same one, and calling commit_transaction() again resumes it
 * (sends the commit, or waits for its answer), while a new producer
 * would redo the polls of a transaction the broker may have committed.
 * So a refusal is called again at once (within this step: librdkafka
 * cannot tell a commit's answer from an abort's between the calls) a
 * few times; one that lasts is not this race, and a new producer it
 * is. docs/operations.md, "librdkafka 2.0.2's commit race". */
#define COMMIT_REFUSALS 10
/* The race needs a request that timed out before librdkafka's thread
 * took it, which a call of 0-1 ms meets every few hundred commits and
 * one of 50 ms met in none of thousands (docs/operations.md): a commit's
 * call waits at least this long, whatever the step's slice. */
#define COMMIT_MIN_SLICE_MS NT_TXN_MIN_CALL_MS

static int commit_slice(int64_t end, int slice)
{
        int s = slice_ms(end, slice);

        return s < COMMIT_MIN_SLICE_MS ? COMMIT_MIN_SLICE_MS : s;
}

static bool commit_refused(nt_publisher_t *p, const rd_kafka_error_t *error)
{
        return rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__STATE &&
               !rd_kafka_error_is_fatal(error) &&
               !rd_kafka_error_txn_requires_abort(error) &&
               p->tries < COMMIT_REFUSALS && nt_sig_running();
}

static int commit_again(nt_publisher_t *p, rd_kafka_error_t *error)
{
        p->stats.commit_refusals++;
        NT_WARN("producer",
                "commit_transaction: %s (librdkafka's result of an earlier "
                "request taken for a later one); calling it again",
                rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
        p->tries++;
        p->call_start = nt_date_mono_ms();
        return STEP_ON;
}

/* One step of send_offsets_to_transaction or commit_transaction. */
static int step_commit(nt_publisher_t *p, int slice)
{
        enum nt_txn_op op =
            p->end == END_OFFSETS ? NT_TXN_SEND_OFFSETS : NT_TXN_COMMIT;
        int64_t end = call_end(p);
        rd_kafka_error_t *error;
        enum nt_txn_next next;
        int nap = 0;

        /* Never under COMMIT_MIN_SLICE_MS: librdkafka's result race. */
        error = nt_txn_call_once(p->rk, op, p->end_consumer, p->end_offsets,
                                 commit_slice(end, slice));
        if (!error)
                return op == NT_TXN_COMMIT ? commit_done(p)
                                           : end_next(p, END_COMMIT);
        if (nt_txn_call_again(error, end)) {
                rd_kafka_error_destroy(error);
                rd_kafka_poll(p->rk, 0);
                return NT_ERR_TIMEOUT;
        }
        if (op == NT_TXN_COMMIT && rd_kafka_error_is_retriable(error) &&
            nt_sig_running())
                return commit_unknown(p, error);
        if (op == NT_TXN_COMMIT && commit_refused(p, error))
                return commit_again(p, error);
        next = nt_txn_judge_next("producer", nt_txn_op_name(op), error,
                                 p->tries, &nap);
        switch (next) {
        case NT_TXN_NEXT_RETRY:
                p->tries++;
                p->retry_at = nt_date_mono_ms() + nap;
                p->call_start = p->retry_at;
                return NT_ERR_TIMEOUT;
        case NT_TXN_NEXT_LEAVE:
                nt_publisher_leave(p);
                return NT_ERR_STOPPED;
        case NT_TXN_NEXT_ABORT:
                return end_start_fail(p, false);
        default:
                return end_start_fail(p, true);
        }
}

int nt_publisher_end_step(nt_publisher_t *p, int slice)
{
        int rc = STEP_ON;

        /* A call that answered goes on to the next within the step
         * (send_offsets, then commit; a failed abort, then init). */
        while (rc == STEP_ON) {
                if (p->end == END_NONE)
                        return NT_OK;
                if (nt_date_mono_ms() < p->retry_at)
                        return NT_ERR_TIMEOUT;
                switch (p->end) {
                case END_OFFSETS:
                case END_COMMIT:
                        rc = step_commit(p, slice);
                        break;
                case END_ABORT:
                        rc = step_abort(p, slice);
                        break;
                default:
                        rc = step_rebuild(p, slice);
                        break;
                }
        }
        return rc;
}

static int end_wait(nt_publisher_t *p, int rc)
{
        if (rc == STEP_ON)
                rc = nt_publisher_end_step(p, NT_TXN_SLICE_MS);
        while (rc == NT_ERR_TIMEOUT) {
                int64_t wait = p->retry_at - nt_date_mono_ms();

                /* A nap between tries serves the reports meanwhile. */
                if (wait > 0 && p->rk)
                        rd_kafka_poll(p->rk, wait < 100 ? (int)wait : 100);
                else if (wait > 0)
                        nanosleep(&(struct timespec){0, 100000000L}, NULL);
                rc = nt_publisher_end_step(p, NT_TXN_SLICE_MS);
        }
        return rc;
}

int nt_publisher_end_start(nt_publisher_t *p, bool commit, rd_kafka_t *consumer,
                           const rd_kafka_topic_partition_list_t *offsets,
                           int slice)
{
        int64_t deadline;
        int rc;

        if (!p->txn_id || p->end)
                return p->end ? nt_publisher_end_step(p, slice) : NT_OK;
        if (!commit) {
                if (!p->open)
                        return NT_OK;
                rc = end_start_fail(
                    p,
                    p->rk == NULL || rd_kafka_fatal_error(p->rk, NULL, 0) != 0);
                return rc == STEP_ON ? nt_publisher_end_step(p, slice) : rc;
        }
        if (!p->open)
                return NT_OK;
        deadline = nt_txn_stop_deadline(
            &p->stop_at, nt_config_ms(p->cfg, "producer.shutdown_timeout"));
        /* Messages waiting for room in librdkafka's queue go first. */
        while (p->retry_head && !p->txn_failed &&
               nt_date_mono_ms() < deadline) {
                rd_kafka_poll(p->rk, 10);
                resend_pending(p);
        }
        /* One refused before it was sent (larger than message.max.bytes)
         * is no part of the transaction: settled as refused (marked seen
         * by the callback, in the state this transaction writes), as
         * without a transaction, while the others commit. */
        if (p->refused_head)
                settle_refused(p);
        if (p->retry_head || p->txn_failed ||
            rd_kafka_fatal_error(p->rk, NULL, 0))
                rc = end_start_fail(p,
                                    rd_kafka_fatal_error(p->rk, NULL, 0) != 0);
        else if (consumer && offsets && offsets->cnt > 0) {
                p->end_consumer = consumer;
                p->end_offsets = rd_kafka_topic_partition_list_copy(offsets);
                rc = end_next(p, END_OFFSETS);
        } else {
                rc = end_next(p, END_COMMIT);
        }
        return rc == STEP_ON ? nt_publisher_end_step(p, slice) : rc;
}

int nt_publisher_end_finish(nt_publisher_t *p)
{
        return end_wait(p, p->end ? NT_ERR_TIMEOUT : NT_OK);
}

int nt_publisher_abort(nt_publisher_t *p)
{
        return end_wait(
            p, nt_publisher_end_start(p, false, NULL, NULL, NT_TXN_SLICE_MS));
}

void nt_publisher_leave(nt_publisher_t *p)
{
        if (!p->txn_id)
                return;
        if (p->rk) {
                nt_txn_purge(p->rk);
                rd_kafka_poll(p->rk, 0);
        }
        /* Reports of messages in flight can still come (the purge does
         * not wait for them): on_delivery() ignores them from now on. */
        p->left = true;
        drop_tracked(p);
}

int nt_publisher_commit(nt_publisher_t *p, rd_kafka_t *consumer,
                        const rd_kafka_topic_partition_list_t *offsets)
{
        return end_wait(p, nt_publisher_end_start(p, true, consumer, offsets,
                                                  NT_TXN_SLICE_MS));
}
