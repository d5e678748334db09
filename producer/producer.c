/* The produce loop: every feed polled on its own schedule (a timer heap of
 * due feeds), fetched politely (producer/fetch.c), parsed, its new and
 * edited articles published and confirmed before they are marked seen,
 * its state saved when it changed; health and metrics; a bounded stop.
 * Pages of page/auto feeds are producer/producer_pages.c, SIGHUP's
 * reload producer/producer_reload.c. */
#include "producer/producer_internal.h"

/* xorshift64*: jitter needs spread, not secrecy. */
static uint64_t next_random(nt_producer_t *p)
{
        p->rng ^= p->rng >> 12;
        p->rng ^= p->rng << 25;
        p->rng ^= p->rng >> 27;
        return p->rng * 2685821657736338717ULL;
}

static struct pfeed *pfeed_of(struct nt_timer *t)
{
        return (struct pfeed *)(void *)((char *)t -
                                        offsetof(struct pfeed, due));
}

/* The feed's state changed: saved at the next flush (written in the
 * next transaction with --group). */
void nt_pr_mark_dirty(nt_producer_t *p, struct pfeed *f)
{
        if (f->dirty)
                return;
        f->dirty = true;
        p->dirty[p->n_dirty++] = f;
}

/* Puts the feed in the due heap at due_ms, unless it is not to be polled
 * again: fetching, removed, disabled, or polled in once mode. */
void nt_pr_requeue(nt_producer_t *p, struct pfeed *f)
{
        if (f->fetching || f->removed || f->st.disabled ||
            (p->once && f->polled)) {
                nt_timer_heap_remove(&p->due, &f->due);
                return;
        }
        /* Room for every feed is reserved in nt_pr_add_feed(). */
        nt_timer_heap_push(&p->due, &f->due, f->due_ms);
}

void nt_pr_pfeed_free(struct pfeed *f)
{
        if (!f)
                return;
        nt_feed_spec_free(&f->spec);
        nt_state_free(&f->st);
        json_decref(f->pending);
        free(f->next_etag);
        free(f->next_last_modified);
        free(f->key);
        free(f->committed);
        free(f->txn_value);
        free(f);
}

/* Saves every changed feed state (the dirty list, not a walk of every
 * feed) in one batch (one disk sync). Called about once a second and at
 * shutdown: a crash loses at most that second of seen-marks, which costs
 * a re-publish, never an article. */
static void flush_states(nt_producer_t *p)
{
        const char **keys;
        const struct nt_feed_state **states;
        char errstr[512];
        size_t i, n = p->n_dirty;

        if (n == 0 || p->group) /* --group: written by its transactions */
                return;
        keys = calloc(n, sizeof(*keys));
        states = calloc(n, sizeof(*states));
        if (!keys || !states)
                goto out; /* the next flush tries again */
        for (i = 0; i < n; i++) {
                keys[i] = p->dirty[i]->spec.url;
                states[i] = &p->dirty[i]->st;
        }
        if (nt_state_save_many(p->state_dir, keys, states, n, errstr,
                               sizeof(errstr)) != NT_OK) {
                /* Nothing is marked done that was not, so a lost save
                 * only costs a re-publish; the next flush tries these
                 * feeds again (saving is idempotent): they stay dirty. */
                NT_ERROR("producer", "saving state: %s", errstr);
                goto out;
        }
        for (i = 0; i < n; i++) {
                p->dirty[i]->dirty = false;
                p->dirty[i]->saved_success_ms = p->dirty[i]->st.last_success_ms;
        }
        p->n_dirty = 0;
out:
        free(keys);
        free(states);
}

/* The feed's last success on /metrics, when it has one (also from the
 * state of an earlier run, so that a restart does not blank it). */
static void show_last_success(nt_producer_t *p, const struct pfeed *f)
{
        if (f->st.last_success_ms > 0)
                nt_metrics_set(p->metrics,
                               "newstap_feed_last_success_timestamp_seconds",
                               (double)f->st.last_success_ms / 1000.0, "feed",
                               f->label, NULL);
}

/* Takes the contents of *spec. With --group, the state is `state` (a
 * state record's JSON; NULL: none) under `key`, not a file. */
static struct pfeed *pfeed_new(nt_producer_t *p, struct nt_feed_spec *spec,
                               const char *key, int32_t partition,
                               const json_t *state)
{
        struct pfeed *f = calloc(1, sizeof(*f));
        char errstr[1024];
        int err;

        if (!f)
                return NULL;
        f->kind = JOB_FEED;
        f->spec = *spec;
        memset(spec, 0, sizeof(*spec));
        f->label = f->spec.name ? f->spec.name : f->spec.url;
        f->pending = json_object();
        if (!f->pending || nt_state_init(&f->st) != NT_OK) {
                nt_pr_pfeed_free(f);
                return NULL;
        }
        if (p->group) {
                f->key = strdup(key);
                f->partition = partition;
                if (!f->key) {
                        nt_pr_pfeed_free(f);
                        return NULL;
                }
                err = state && nt_state_from_json(state, key, &f->st) == NT_OK
                          ? NT_OK
                          : NT_ERR_NOTFOUND;
                if (err == NT_OK)
                        f->committed =
                            json_dumps(state, JSON_COMPACT | JSON_SORT_KEYS);
        } else {
                err = nt_state_load(p->state_dir, f->spec.url, &f->st, errstr,
                                    sizeof(errstr));
        }
        if (err == NT_ERR_PARSE)
                NT_ERROR("producer", "feed %s: %s", f->label, errstr);
        if (f->st.disabled)
                NT_WARN("producer",
                        "feed %s is disabled (410 Gone earlier); remove its "
                        "state file to poll it again",
                        f->label);
        f->hints.interval_ms = f->spec.interval_ms;
        f->hints.ttl_minutes = -1;
        f->hints.max_age_s = -1;
        f->hints.retry_after_s = -1;
        show_last_success(p, f);
        /* A feed polled before keeps its schedule, which its first poll
         * spread over the interval; one never polled is due now (the
         * fetcher's concurrency limits pace a crowd of them): a user who
         * adds a feed expects its articles, not a wait of up to its
         * interval. Once mode polls everything now. */
        f->first_poll = !(err == NT_OK && f->st.next_poll_ms > 0);
        f->saved_success_ms = f->st.last_success_ms;
        if (p->once || f->first_poll)
                f->due_ms = 0;
        else if (f->st.failures > 0) /* a backoff is saved when it starts */
                f->due_ms = f->st.next_poll_ms;
        else
                f->due_ms = nt_schedule_resume(
                    f->st.next_poll_ms, f->spec.interval_ms, nt_date_now_ms());
        return f;
}

/* Grows one list of cap_feeds slots to cap. */
static int grow(struct pfeed ***arr, size_t cap)
{
        struct pfeed **a = realloc(*arr, cap * sizeof(*a));

        if (!a)
                return NT_ERR_NOMEM;
        *arr = a;
        return NT_OK;
}

static int add_feed(nt_producer_t *p, struct nt_feed_spec *spec,
                    const char *key, int32_t partition, const json_t *state)
{
        struct pfeed *f;

        if (p->n_feeds == p->cap_feeds) {
                size_t cap = p->cap_feeds ? p->cap_feeds * 2 : 16;

                /* The lists grow together: each holds at most every
                 * feed, so none of them can be full when a feed goes on
                 * it. */
                if (grow(&p->feeds, cap) || grow(&p->dirty, cap) ||
                    grow(&p->removed, cap) ||
                    nt_timer_heap_reserve(&p->due, cap))
                        return NT_ERR_NOMEM;
                p->cap_feeds = cap;
        }
        f = pfeed_new(p, spec, key, partition, state);
        if (!f)
                return NT_ERR_NOMEM;
        if (p->group &&
            json_object_set_new(p->by_key, key,
                                json_integer((json_int_t)(intptr_t)f)) != 0) {
                nt_pr_pfeed_free(f);
                return NT_ERR_NOMEM;
        }
        f->idx = p->n_feeds;
        p->feeds[p->n_feeds++] = f;
        nt_pr_requeue(p, f);
        return NT_OK;
}

int nt_pr_add_feed(nt_producer_t *p, struct nt_feed_spec *spec)
{
        return add_feed(p, spec, NULL, 0, NULL);
}

int nt_pr_add_group_feed(nt_producer_t *p, struct nt_feed_spec *spec,
                         const char *key, int32_t partition,
                         const json_t *state)
{
        return add_feed(p, spec, key, partition, state);
}

/* Takes the feed off the schedule; freed by nt_pr_reap_removed() once its
 * fetch and pages are done with. */
void nt_pr_drop_feed(nt_producer_t *p, struct pfeed *f)
{
        if (p->group && f->key)
                json_object_del(p->by_key, f->key);
        f->removed = true;
        nt_timer_heap_remove(&p->due, &f->due);
        if (!f->on_removed) {
                f->on_removed = true;
                p->removed[p->n_removed++] = f;
        }
}

/* The producer's metrics (its pages' are nt_pr_pages_describe()'s). */
static const struct nt_metric_desc metric_descs[] = {
    {"newstap_fetches_total", "counter",
     "Feed fetches by feed and HTTP status (0: no response)."},
    {"newstap_fetch_bytes_total", "counter",
     "Decoded bytes of feed bodies by feed."},
    {"newstap_articles_total", "counter",
     "Articles by feed and kind (new, updated, duplicate)."},
    {"newstap_parse_errors_total", "counter",
     "Feed documents that could not be parsed."},
    {"newstap_feed_truncations_total", "counter",
     "Feed documents cut by a limit, by feed and limit (document, entries, "
     "field, depth, list)."},
    {"newstap_published_total", "counter", "Articles confirmed by the broker."},
    {"newstap_publish_inflight", "gauge",
     "Articles sent and not yet confirmed."},
    {"newstap_feeds", "gauge", "Feeds polled."},
    {"newstap_delivery_failures_total", "counter",
     "Delivery reports that failed (the article was sent again)."},
    {"newstap_publish_refused_total", "counter",
     "Articles the broker refused for good (too large, invalid); logged, "
     "not sent again."},
    {"newstap_producer_rebuilds_total", "counter",
     "Kafka producers rebuilt after a fatal error."},
    {"newstap_kafka_brokers_up", "gauge",
     "Brokers librdkafka sees in state UP."},
    {"newstap_kafka_queue_messages", "gauge",
     "Messages in librdkafka's producer queue."},
    {"newstap_kafka_tx_bytes_total", "counter",
     "Bytes sent to brokers (librdkafka)."},
    {"newstap_kafka_request_errors_total", "counter",
     "Request errors to and from brokers (librdkafka)."},
    {"newstap_kafka_rtt_seconds", "gauge",
     "Mean broker round trip (librdkafka)."},
    {"newstap_publish_latency_seconds", "histogram",
     "Time from sending an article to its confirmation by the broker, resends "
     "included."},
    {"newstap_feed_last_success_timestamp_seconds", "gauge",
     "When the feed was last fetched successfully (200 or 304), Unix time: "
     "alert on its age."},
    {"newstap_group_info", "gauge",
     "--group: always 1; the group and this instance's id are the labels."},
    {"newstap_group_partitions", "gauge",
     "--group: feeds topic partitions this instance owns."},
    {"newstap_group_rebalances_total", "counter",
     "--group: partition assignments and revocations."},
    {"newstap_group_restore_seconds", "counter",
     "--group: time spent restoring state from the state topic."},
    {"newstap_transactions_total", "counter",
     "--group: transactions by outcome (committed, aborted)."},
    {"newstap_transaction_open_seconds", "gauge",
     "--group: how long the open transaction has been open (0: none); it "
     "grows while its commit waits for the broker."},
    {"newstap_group_skipped_records_total", "counter",
     "--group: feeds topic records skipped as garbage."},
    {"newstap_build_info", "gauge", "Always 1; the version is the label."},
};

static void describe_metrics(nt_metrics_t *m)
{
        nt_metrics_describe_all(m, metric_descs,
                                sizeof(metric_descs) / sizeof(metric_descs[0]));
        nt_metrics_set(m, "newstap_build_info", 1, "version", NT_VERSION, NULL);
}

nt_producer_t *nt_producer_new(const nt_config_t *cfg,
                               struct nt_feed_list *feeds, bool once,
                               char *errstr, size_t errstr_size)
{
        nt_producer_t *p = calloc(1, sizeof(*p));
        struct nt_fetch_limits lim;
        const char *contact;
        size_t i;

        if (!p) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                return NULL;
        }
        p->cfg = cfg;
        p->lock_fd = -1;
        nt_timer_heap_init(&p->due);
        p->once = once;
        p->rng = (uint64_t)nt_date_now_ms() ^ ((uint64_t)getpid() << 32) ^
                 0x9E3779B97F4A7C15ULL;
        p->state_dir = nt_config_str(cfg, "producer.state_dir");
        {
                json_t *mode =
                    json_string(nt_config_str(cfg, "producer.content"));

                p->content = nt_config_feed_content(mode);
                json_decref(mode);
                if (p->content < 0)
                        p->content = NT_CONTENT_FEED;
        }
        p->content_min_chars = nt_config_int(cfg, "producer.content_min_chars");
        p->page_timeout_ms = (long)nt_config_ms(cfg, "producer.page_timeout");
        p->robots_max = (size_t)nt_config_int(cfg, "producer.robots_origins");
        p->pc_max = (size_t)nt_config_bytes(cfg, "producer.page_cache_bytes");
        p->robots = json_object();
        p->page_cache = json_object();
        if (!p->robots || !p->page_cache) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                goto fail;
        }
        /* About 16 series per feed at most (fetches by status, bytes,
         * articles by kind, cuts by limit, last success): a large feed
         * list must not run into the bound and lose its series. */
        p->metrics = nt_metrics_new(100000 + 16 * feeds->n);
        if (!p->metrics) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                goto fail;
        }
        describe_metrics(p->metrics);
        nt_pr_pages_describe(p->metrics);
        p->group =
            strcmp(nt_config_str(cfg, "producer.coordination"), "kafka") == 0;
        if (p->group) {
                /* The feeds and their states are the group's topics:
                 * producer.feeds and state_dir are not used. */
                p->by_key = json_object();
                p->restored = json_object();
                p->refusals = json_array();
                if (!p->by_key || !p->restored || !p->refusals) {
                        nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                                "out of memory");
                        goto fail;
                }
                if (nt_pr_group_ids(p, errstr, errstr_size) != NT_OK)
                        goto fail;
        } else {
                if (nt_state_mkdir(p->state_dir, errstr, errstr_size) != NT_OK)
                        goto fail;
                p->lock_fd = nt_state_lock(p->state_dir, errstr, errstr_size);
                if (p->lock_fd < 0)
                        goto fail;
        }
        contact = nt_config_str(cfg, "producer.contact");
        if (contact && *contact)
                snprintf(p->user_agent, sizeof(p->user_agent),
                         "newstap/%s (+%s)", NT_VERSION, contact);
        else
                snprintf(p->user_agent, sizeof(p->user_agent), "newstap/%s",
                         NT_VERSION);
        nt_fetch_limits_default(&lim);
        lim.max_transfers = (int)nt_config_int(cfg, "producer.max_transfers");
        lim.max_per_host = (int)nt_config_int(cfg, "producer.max_per_host");
        lim.connect_timeout_ms =
            (long)nt_config_ms(cfg, "producer.connect_timeout");
        lim.timeout_ms = (long)nt_config_ms(cfg, "producer.timeout");
        lim.max_body = (size_t)nt_config_bytes(cfg, "producer.max_body");
        lim.max_redirects = (int)nt_config_int(cfg, "producer.max_redirects");
        lim.user_agent = p->user_agent;
        p->fetcher = nt_fetcher_new(&lim, errstr, errstr_size);
        if (!p->fetcher)
                goto fail;
        for (i = 0; i < feeds->n; i++) {
                if (nt_pr_add_feed(p, &feeds->feeds[i]) != NT_OK) {
                        nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                                "out of memory");
                        goto fail;
                }
        }
        nt_feed_list_free(feeds);
        return p;
fail:
        nt_feed_list_free(feeds);
        nt_producer_destroy(p);
        return NULL;
}

void nt_producer_set_health(nt_producer_t *p, nt_health_t *h)
{
        p->health = h;
}

/* Once a second: librdkafka's view of the cluster into the metrics, the
 * snapshot to the HTTP endpoint, and readiness (feeds loaded and a broker
 * up). */
static void refresh_health(nt_producer_t *p)
{
        const struct nt_kafka_stats *ks;
        bool have;

        ks = nt_publisher_kafka_stats(p->pub, &have);
        nt_metrics_set(p->metrics, "newstap_publish_inflight",
                       (double)nt_publisher_inflight(p->pub), NULL);
        if (have) {
                nt_metrics_set(p->metrics, "newstap_kafka_brokers_up",
                               ks->brokers_up, NULL);
                nt_metrics_set(p->metrics, "newstap_kafka_queue_messages",
                               (double)ks->msg_cnt, NULL);
                nt_metrics_set(p->metrics, "newstap_kafka_tx_bytes_total",
                               (double)ks->tx_bytes, NULL);
                nt_metrics_set(p->metrics, "newstap_kafka_request_errors_total",
                               (double)(ks->tx_errs + ks->rx_errs), NULL);
                nt_metrics_set(p->metrics, "newstap_kafka_rtt_seconds",
                               (double)ks->rtt_avg_us / 1e6, NULL);
        }
        nt_metrics_set(p->metrics, "newstap_feeds", (double)p->n_feeds, NULL);
        {
                struct nt_publish_stats ps;

                nt_publisher_stats(p->pub, &ps);
                nt_metrics_histogram(
                    p->metrics, "newstap_publish_latency_seconds",
                    nt_publish_latency_bounds, ps.latency_le,
                    NT_PUBLISH_LATENCY_BUCKETS, ps.confirmed, ps.latency_s);
                nt_metrics_set(p->metrics, "newstap_delivery_failures_total",
                               (double)ps.failed, NULL);
                nt_metrics_set(p->metrics, "newstap_producer_rebuilds_total",
                               (double)ps.rebuilds, NULL);
        }
        if (p->group) {
                nt_metrics_set(p->metrics, "newstap_group_info", 1, "group",
                               nt_config_str(p->cfg, "producer.group"),
                               "instance", p->instance, NULL);
                nt_metrics_set(p->metrics, "newstap_group_partitions",
                               (double)p->owned, NULL);
                nt_metrics_set(p->metrics, "newstap_group_rebalances_total",
                               (double)p->gstats.rebalances, NULL);
                nt_metrics_set(p->metrics, "newstap_group_restore_seconds",
                               p->gstats.restore_s, NULL);
                nt_metrics_set(p->metrics, "newstap_transactions_total",
                               (double)p->gstats.commits, "outcome",
                               "committed", NULL);
                nt_metrics_set(p->metrics, "newstap_transactions_total",
                               (double)p->gstats.aborts, "outcome", "aborted",
                               NULL);
                nt_metrics_set(p->metrics,
                               "newstap_group_skipped_records_total",
                               (double)p->gstats.skipped_records, NULL);
                nt_metrics_set(p->metrics, "newstap_transaction_open_seconds",
                               (double)nt_publisher_txn_age_ms(p->pub) / 1000.0,
                               NULL);
        }
        if (!p->health)
                return;
        nt_health_publish(p->health, p->metrics);
        if (p->group && !p->restored_once)
                nt_health_set_ready(p->health, false,
                                    "waiting for a partition assignment and "
                                    "its state restored");
        else if (p->group && !have)
                nt_health_set_ready(p->health, false,
                                    "waiting for librdkafka statistics");
        else if (p->group)
                nt_health_set_ready(
                    p->health, ks->brokers_up > 0,
                    ks->brokers_up > 0 ? NULL : "no Kafka broker reachable");
        else if (p->n_feeds == 0)
                nt_health_set_ready(p->health, false, "no feeds loaded");
        else if (!have)
                nt_health_set_ready(p->health, false,
                                    "waiting for librdkafka statistics");
        else if (ks->brokers_up == 0)
                nt_health_set_ready(p->health, false,
                                    "no Kafka broker reachable");
        else
                nt_health_set_ready(p->health, true, NULL);
}

nt_metrics_t *nt_producer_metrics(nt_producer_t *p)
{
        return p->metrics;
}

/* All confirmed: the validators of the response that carried these
 * articles may now be stored, and the state saved. */
void nt_pr_settle(nt_producer_t *p, struct pfeed *f)
{
        if (json_object_size(f->pending) > 0)
                return;
        if (f->next_validators) {
                free(f->st.etag);
                free(f->st.last_modified);
                f->st.etag = f->next_etag;
                f->st.last_modified = f->next_last_modified;
                f->next_etag = f->next_last_modified = NULL;
                f->next_validators = false;
                nt_pr_mark_dirty(p, f);
        }
}

static void on_confirm(void *ctx, const struct nt_publish_meta *meta)
{
        nt_producer_t *p = ctx;
        struct pfeed *f = meta->opaque;

        if (p->group && !meta->refused) {
                /* Committed: its feed's seen-mark went into the same
                 * transaction (producer_group.c). */
                p->totals.confirmed++;
                nt_metrics_add(p->metrics, "newstap_published_total", 1, NULL);
                return;
        }
        if (p->group) /* also marked again after the abort's roll-back */
                nt_pr_group_refused(p, f, meta);
        /* A refused article (the publisher logged why) is settled too:
         * marked seen, so that it is not sent again until it changes, and
         * the feed's validators may be kept. */
        nt_state_mark_seen(&f->st, meta->key, meta->revision, nt_date_now_ms());
        json_object_del(f->pending, meta->key);
        nt_pr_mark_dirty(p, f);
        if (meta->refused) {
                nt_metrics_add(p->metrics, "newstap_publish_refused_total", 1,
                               "feed", f->label, NULL);
        } else {
                p->totals.confirmed++;
                nt_metrics_add(p->metrics, "newstap_published_total", 1, NULL);
        }
        nt_pr_settle(p, f);
}

static void count_fetch(nt_producer_t *p, struct pfeed *f, long status)
{
        char code[16];

        snprintf(code, sizeof(code), "%ld", status);
        nt_metrics_add(p->metrics, "newstap_fetches_total", 1, "feed", f->label,
                       "status", code, NULL);
}

static void schedule_failure(nt_producer_t *p, struct pfeed *f, const char *why,
                             long retry_after_s)
{
        int64_t delay;

        f->st.failures++;
        delay = nt_schedule_backoff(
            f->st.failures, nt_config_ms(p->cfg, "producer.backoff_base"),
            nt_config_ms(p->cfg, "producer.backoff_max"), retry_after_s,
            next_random(p));
        f->due_ms = nt_date_now_ms() + delay;
        f->st.next_poll_ms = f->due_ms;
        free(f->st.last_error);
        /* curl's messages may name the URL with its credentials; the
         * state file is read by `newstap feeds`. */
        f->st.last_error = strdup(why);
        if (f->st.last_error)
                nt_url_scrub_userinfo(f->st.last_error);
        nt_pr_mark_dirty(p, f);
        p->totals.failed++;
        {
                char failures[16], next[24];
                const char *fields[] = {
                    "feed",       f->label,
                    "url",        f->st.url ? f->st.url : f->spec.url,
                    "reason",     why,
                    "failures",   failures,
                    "next_try_s", next,
                    NULL};

                snprintf(failures, sizeof(failures), "%d", f->st.failures);
                snprintf(next, sizeof(next), "%lld", (long long)(delay / 1000));
                nt_log_kv(NT_LOG_WARN, "producer", fields,
                          "feed %s: %s; failure %d, next try in %lld s",
                          f->label, why, f->st.failures,
                          (long long)(delay / 1000));
        }
}

static void schedule_success(nt_producer_t *p, struct pfeed *f,
                             const struct nt_fetch_result *res)
{
        /* More than the times changes: saved at the next flush. */
        bool changed =
            f->first_poll || f->st.failures != 0 || f->st.last_error != NULL;

        f->st.last_success_ms = nt_date_now_ms();
        show_last_success(p, f);
        f->st.failures = 0;
        free(f->st.last_error);
        f->st.last_error = NULL;
        f->hints.max_age_s = res->max_age_s;
        f->hints.retry_after_s = -1;
        f->due_ms = nt_schedule_next(nt_date_now_ms(), &f->hints);
        if (f->first_poll) {
                /* Feeds added together were polled together; a stable
                 * offset of up to half the interval on the second poll
                 * keeps them from firing in lockstep ever after. */
                f->due_ms +=
                    nt_schedule_spread(f->spec.url, f->spec.interval_ms) / 2;
                f->first_poll = false;
        }
        f->st.next_poll_ms = f->due_ms;
        if (changed ||
            f->st.last_success_ms - f->saved_success_ms >= STATE_REFRESH_MS)
                nt_pr_mark_dirty(p, f);
}

/* Once a second: the states saved, the metrics and readiness refreshed. */
static void every_second(nt_producer_t *p, int64_t now)
{
        if (now - p->last_flush_ms < 1000)
                return;
        flush_states(p);
        refresh_health(p);
        p->last_flush_ms = now;
}

/* Sends one article; waits for room when the publisher is full (the
 * back-pressure that slows fetching), but gives up on shutdown: what was
 * not sent is not marked seen and is fetched again after a restart.
 * While it waits, the once-a-second duties go on: a broker down for an
 * hour must show on /readyz and /metrics, and the confirmations that do
 * arrive must reach the state files. */
int nt_pr_send_article(nt_producer_t *p, struct pfeed *f,
                       const struct nt_article *art)
{
        struct nt_publish_meta meta;
        size_t len;
        char *line = nt_article_to_json_line_len(art, &len);
        int err;

        if (p->group && f->removed) {
                /* Revoked or deleted: its articles are not ours to send. */
                free(line);
                return NT_ERR_STOPPED;
        }
        if (!line)
                return NT_ERR_NOMEM;
        memset(&meta, 0, sizeof(meta));
        meta.key = art->id;
        meta.revision = art->revision;
        meta.feed_url = f->spec.url;
        /* Record time is the time of writing (0), so that retention
         * counts from when the article reached Kafka; an item a feed has
         * listed for a month is not deleted at the next retention check.
         * The published time travels in the article and a header. */
        meta.timestamp_ms = 0;
        meta.published_ms =
            art->published != NT_FEED_NO_DATE && art->published > 0
                ? art->published
                : 0;
        meta.opaque = f;
        /* The line is handed over, not copied (taken on NT_OK only). */
        while ((err = nt_publisher_send_owned(p->pub, &meta, line, len)) ==
                   NT_ERR_LIMIT &&
               nt_sig_running()) {
                /* A transaction's articles leave the publisher when it
                 * commits: commit what is open to make room, in steps, so
                 * that metrics, readiness and signals are served while
                 * the commit waits for the broker. */
                if (p->group) {
                        if (nt_pr_group_make_room(p) != NT_OK)
                                break;
                        nt_publisher_poll(p->pub,
                                          nt_pr_group_ending(p) ? 10 : 100);
                } else {
                        nt_publisher_poll(p->pub, 100);
                }
                every_second(p, nt_date_now_ms());
        }
        if (err != NT_OK)
                free(line); /* not taken */
        if (err == NT_OK)
                json_object_set_new(f->pending, art->id,
                                    json_string(art->revision));
        return err;
}

/* A limit cut the document: counted per limit, and logged with the
 * feed and the parser's words for the first cut of each limit (which
 * say where), one line per limit and poll however many fields were cut. */
static void report_cuts(nt_producer_t *p, struct pfeed *f,
                        const struct nt_feed *feed)
{
        char what[1024];
        unsigned bit;

        for (bit = 1; bit & NT_FEED_CUT_ALL; bit <<= 1) {
                if (!(feed->cuts & bit))
                        continue;
                nt_metrics_add(p->metrics, "newstap_feed_truncations_total", 1,
                               "feed", f->label, "limit", nt_feed_cut_name(bit),
                               NULL);
                NT_WARN("producer", "feed %s: %s (docs/operations.md, Limits)",
                        f->label,
                        nt_feed_cut_describe(feed, bit, what, sizeof(what)));
        }
}

static void handle_body(nt_producer_t *p, struct pfeed *f,
                        struct nt_fetch_result *res)
{
        struct nt_feed_limits lim;
        struct nt_feed feed;
        char errstr[512];
        const char *base;
        size_t i, n_new = 0, n_upd = 0, n_dup = 0;
        int64_t fetched = nt_date_now_ms();
        int err;
        bool complete = true;
        /* --group: a commit that makes room in the middle of the document
         * (nt_pr_send_article()) may abort and roll the feed back, its
         * articles sent so far with it: then the rest is not sent, the
         * validators are not kept and the feed is due again at once. */
        unsigned rollbacks = f->rollbacks;

        nt_feed_limits_init(&lim);
        lim.max_document = (size_t)nt_config_bytes(p->cfg, "producer.max_body");
        nt_feed_init(&feed);
        base = res->content_location ? res->content_location : res->final_url;
        err = nt_feed_parse(res->body, res->body_len, res->content_type, base,
                            &lim, &feed, errstr, sizeof(errstr));
        if (err != NT_OK) {
                nt_metrics_add(p->metrics, "newstap_parse_errors_total", 1,
                               "feed", f->label, NULL);
                schedule_failure(p, f, errstr, -1);
                nt_feed_free(&feed);
                return;
        }
        if (!feed.wellformed && feed.n_errors > 0)
                NT_WARN("producer",
                        "feed %s: recovered an ill-formed document (line "
                        "%lu: %s)",
                        f->label, feed.errors[0].line, feed.errors[0].message);
        if (feed.truncated)
                report_cuts(p, f, &feed);
        f->hints.ttl_minutes = feed.ttl_minutes;
        f->hints.skip_hours = feed.skip_hours;
        f->hints.skip_days = feed.skip_days;
        for (i = 0; i < feed.n_entries; i++) {
                struct nt_article art;
                json_t *was;
                const char *pend;

                nt_article_init(&art);
                if (nt_article_from_entry(&feed, &feed.entries[i], f->spec.url,
                                          fetched, &art, errstr,
                                          sizeof(errstr)) != NT_OK) {
                        NT_ERROR("producer", "feed %s: entry %zu: %s", f->label,
                                 i, errstr);
                        complete = false;
                        continue;
                }
                pend = json_string_value(json_object_get(f->pending, art.id));
                if (nt_state_seen(&f->st, art.id, art.revision) ||
                    (pend && strcmp(pend, art.revision) == 0)) {
                        n_dup++;
                        nt_article_free(&art);
                        continue;
                }
                was = json_object_get(f->st.seen, art.id);
                /* A page article is sent when its page is fetched. */
                err = nt_pr_wants_page(p, f, &art)
                          ? nt_pr_start_page(p, f, &art)
                          : nt_pr_send_article(p, f, &art);
                if (err != NT_OK) {
                        complete = false;
                        nt_article_free(&art);
                        break;
                }
                if (was)
                        n_upd++;
                else
                        n_new++;
                nt_article_free(&art);
                if (f->rollbacks != rollbacks) {
                        complete = false;
                        break;
                }
        }
        nt_feed_free(&feed);
        /* Keep the seen-set near its bound as it grows (10 % slack, so
         * that pruning, a sort, runs rarely). */
        {
                size_t max = (size_t)nt_config_int(p->cfg, "producer.seen_max");
                if (json_object_size(f->st.seen) > max + max / 10)
                        nt_state_prune(
                            &f->st, max,
                            nt_config_ms(p->cfg, "producer.seen_max_age"),
                            fetched);
        }
        nt_metrics_add(p->metrics, "newstap_articles_total", (double)n_new,
                       "feed", f->label, "kind", "new", NULL);
        nt_metrics_add(p->metrics, "newstap_articles_total", (double)n_upd,
                       "feed", f->label, "kind", "updated", NULL);
        nt_metrics_add(p->metrics, "newstap_articles_total", (double)n_dup,
                       "feed", f->label, "kind", "duplicate", NULL);
        p->totals.new_articles += n_new;
        p->totals.updated += n_upd;
        p->totals.duplicates += n_dup;
        /* The validators are kept only when every entry made it out:
         * otherwise the next poll must fetch the whole feed again. */
        if (complete) {
                free(f->next_etag);
                free(f->next_last_modified);
                f->next_etag = res->etag ? strdup(res->etag) : NULL;
                f->next_last_modified =
                    res->last_modified ? strdup(res->last_modified) : NULL;
                f->next_validators = true;
        }
        schedule_success(p, f, res);
        if (f->rollbacks != rollbacks)
                nt_pr_group_repoll(p, f);
        NT_DEBUG("producer", "feed %s: %zu new, %zu updated, %zu unchanged",
                 f->label, n_new, n_upd, n_dup);
}

static void handle_result(nt_producer_t *p, struct nt_fetch_result *res)
{
        struct pfeed *f = res->opaque;
        char why[400];

        if (p->group && f->removed) {
                /* No longer this instance's: its new owner polls it. */
                f->fetching = false;
                return;
        }
        f->fetching = false;
        f->polled = true;
        count_fetch(p, f, res->err == NT_OK ? res->status : 0);
        if (res->moved_to &&
            (!f->st.url || strcmp(f->st.url, res->moved_to) != 0)) {
                const char *fields[] = {"feed", f->label, "url", res->moved_to,
                                        NULL};

                nt_log_kv(NT_LOG_INFO, "producer", fields,
                          "feed %s moved permanently", f->label);
                free(f->st.url);
                f->st.url = strdup(res->moved_to);
                nt_pr_mark_dirty(p, f);
        }
        if (res->err != NT_OK) {
                if (res->body_too_big)
                        nt_metrics_add(
                            p->metrics, "newstap_feed_truncations_total", 1,
                            "feed", f->label, "limit", "document", NULL);
                schedule_failure(p, f, res->errstr, -1);
        } else if (res->status == 200) {
                p->totals.fetched++;
                nt_metrics_add(p->metrics, "newstap_fetch_bytes_total",
                               (double)res->body_len, "feed", f->label, NULL);
                handle_body(p, f, res);
        } else if (res->status == 304) {
                p->totals.not_modified++;
                schedule_success(p, f, res);
        } else if (res->status == 410) {
                f->st.disabled = true;
                nt_pr_mark_dirty(p, f);
                NT_WARN("producer",
                        "feed %s (%s) is gone (410): disabled, not polled "
                        "again",
                        f->label, res->final_url);
        } else {
                snprintf(why, sizeof(why), "HTTP %ld", res->status);
                schedule_failure(p, f, why,
                                 res->status == 429 || res->status == 503
                                     ? res->retry_after_s
                                     : -1);
        }
        nt_pr_settle(p, f);
        nt_pr_requeue(p, f);
}

/* Starts the fetches that are due, earliest first, unless the publisher
 * is near full. */
static void start_due(nt_producer_t *p, int64_t now)
{
        size_t max_inflight =
            (size_t)nt_config_int(p->cfg, "producer.max_inflight");
        struct nt_timer *t;

        if (nt_publisher_inflight(p->pub) >= max_inflight / 10 * 9)
                return;
        while ((t = nt_timer_heap_peek(&p->due)) != NULL && t->at <= now) {
                struct pfeed *f = pfeed_of(t);
                struct nt_fetch_request req;

                memset(&req, 0, sizeof(req));
                req.url = f->st.url ? f->st.url : f->spec.url;
                /* Validators of a response whose articles are not all
                 * confirmed are not sent yet: st holds the confirmed ones. */
                req.etag = f->st.etag;
                req.last_modified = f->st.last_modified;
                req.headers = (const char *const *)f->spec.headers;
                req.opaque = f;
                if (nt_fetcher_add(p->fetcher, &req) != NT_OK)
                        return; /* queue full: try again next round */
                f->fetching = true;
                nt_timer_heap_remove(&p->due, &f->due);
        }
}

static void summary(nt_producer_t *p, int64_t now)
{
        int64_t every = nt_config_ms(p->cfg, "producer.summary_interval");

        if (every <= 0 || now - p->last_summary_ms < every)
                return;
        p->last_summary_ms = now;
        NT_INFO("producer",
                "feeds=%zu fetching=%zu fetched=%llu not_modified=%llu "
                "failed=%llu new=%llu updated=%llu duplicates=%llu "
                "confirmed=%llu inflight=%zu",
                p->n_feeds, nt_fetcher_pending(p->fetcher),
                (unsigned long long)p->totals.fetched,
                (unsigned long long)p->totals.not_modified,
                (unsigned long long)p->totals.failed,
                (unsigned long long)p->totals.new_articles,
                (unsigned long long)p->totals.updated,
                (unsigned long long)p->totals.duplicates,
                (unsigned long long)p->totals.confirmed,
                nt_publisher_inflight(p->pub));
}

/* Once mode is done when no feed waits (a polled one is not queued
 * again), none is fetching and every article is confirmed. */
static bool once_done(const nt_producer_t *p)
{
        return nt_timer_heap_peek(&p->due) == NULL &&
               nt_fetcher_pending(p->fetcher) == 0 &&
               nt_publisher_inflight(p->pub) == 0;
}

static void drain_results(nt_producer_t *p)
{
        struct nt_fetch_result *res;

        while ((res = nt_fetcher_next(p->fetcher)) != NULL) {
                enum job_kind kind = *(const enum job_kind *)res->opaque;

                if (kind == JOB_PAGE)
                        nt_pr_handle_page(p, res->opaque, res);
                else if (kind == JOB_ROBOTS)
                        nt_pr_handle_robots(p, res->opaque, res);
                else
                        handle_result(p, res);
                nt_fetch_result_free(res);
        }
}

/* Says which feeds are polled at once (never polled before) and when
 * the first of the others is due, so that a quiet start is explained. */
static void log_schedule(nt_producer_t *p)
{
        int64_t now = nt_date_now_ms(), next = INT64_MAX;
        size_t i, fresh = 0;

        for (i = 0; i < p->n_feeds; i++) {
                const struct pfeed *f = p->feeds[i];

                if (f->first_poll)
                        fresh++;
                else if (!f->st.disabled && f->due_ms < next)
                        next = f->due_ms;
        }
        if (fresh > 0)
                NT_INFO("producer",
                        "%zu feed(s) never polled: polling them now", fresh);
        if (next != INT64_MAX)
                NT_INFO("producer",
                        "%zu feed(s) resume their schedule: the first is due "
                        "in %lld s",
                        p->n_feeds - fresh,
                        (long long)(next > now ? (next - now) / 1000 : 0));
}

int nt_producer_run(nt_producer_t *p, nt_producer_reload_cb *reload,
                    void *reload_ctx)
{
        char errstr[512];
        int64_t deadline, shutdown_ms;
        size_t i, left, seen_max;
        int64_t seen_age;
        int rc = NT_OK;
        nt_sig_watchdog_t *watchdog = NULL;

        if (p->group)
                p->pub = nt_publisher_new_txn(
                    p->cfg, nt_config_str(p->cfg, "topics.raw"),
                    (size_t)nt_config_int(p->cfg, "producer.max_inflight"),
                    p->txn_id, on_confirm, p, errstr, sizeof(errstr));
        else
                p->pub = nt_publisher_new(
                    p->cfg, nt_config_str(p->cfg, "topics.raw"),
                    (size_t)nt_config_int(p->cfg, "producer.max_inflight"),
                    on_confirm, p, errstr, sizeof(errstr));
        if (!p->pub) {
                NT_ERROR("producer", "%s", errstr);
                return NT_ERR_KAFKA;
        }
        if (p->group) {
                if (nt_pr_group_start(p, errstr, sizeof(errstr)) != NT_OK) {
                        NT_ERROR("producer", "%s", errstr);
                        return NT_ERR_KAFKA;
                }
        } else {
                NT_INFO("producer", "polling %zu feed(s) into %s%s", p->n_feeds,
                        nt_config_str(p->cfg, "topics.raw"),
                        p->once ? " once" : "");
                if (!p->once)
                        log_schedule(p);
        }
        shutdown_ms = nt_config_ms(p->cfg, "producer.shutdown_timeout");
        /* In a group, a stop commits through librdkafka calls that can
         * block while the broker is down (common/sig.h): bound it. A kill
         * is what the transactions are built for. */
        if (p->group)
                watchdog = nt_sig_watchdog_start(
                    "producer", "producer.shutdown_timeout", shutdown_ms,
                    "the open transaction is aborted and its feeds polled "
                    "again from their committed state");
        p->last_summary_ms = nt_date_now_ms();
        while (nt_sig_running()) {
                int64_t now = nt_date_now_ms();

                if (reload && nt_sig_take_reload())
                        nt_pr_reload_feeds(p, reload, reload_ctx);
                if (p->group)
                        nt_pr_group_poll(p);
                /* While a transaction ends (the broker away, maybe for
                 * long), fetches in flight go on and wait to be handled;
                 * the rest of the loop goes on too. */
                if (!p->group || !nt_pr_group_ending(p))
                        start_due(p, now);
                nt_fetcher_run(p->fetcher, 50);
                if (!p->group || !nt_pr_group_ending(p))
                        drain_results(p);
                nt_publisher_poll(p->pub, 0);
                if (p->group && nt_pr_group_commit(p, false) != NT_OK) {
                        rc = NT_ERR_KAFKA;
                        break;
                }
                every_second(p, now);
                nt_pr_reap_removed(p);
                summary(p, now);
                if (p->once && once_done(p))
                        break;
        }

        /* Shutdown: no new fetches; let the running ones finish and their
         * articles go out, all within the bound. */
        deadline = nt_date_now_ms() + shutdown_ms / 2;
        if (nt_fetcher_pending(p->fetcher) > 0)
                NT_INFO("producer", "shutting down: waiting for %zu fetch(es)",
                        nt_fetcher_pending(p->fetcher));
        while (nt_fetcher_pending(p->fetcher) > 0 &&
               nt_date_now_ms() < deadline) {
                nt_fetcher_run(p->fetcher, 50);
                drain_results(p);
                nt_publisher_poll(p->pub, 0);
        }
        drain_results(p);
        if (p->group) {
                /* The last polls' articles and states, then the group
                 * left (its partitions go to the others at once). */
                if (rc == NT_OK)
                        nt_pr_group_commit(p, true);
                nt_pr_group_stop(p);
        }
        left = nt_publisher_destroy(p->pub, (int)(shutdown_ms / 2));
        p->pub = NULL;
        nt_sig_watchdog_end(watchdog);
        seen_max = (size_t)nt_config_int(p->cfg, "producer.seen_max");
        seen_age = nt_config_ms(p->cfg, "producer.seen_max_age");
        for (i = 0; !p->group && i < p->n_feeds; i++) {
                struct pfeed *f = p->feeds[i];
                if (nt_state_prune(&f->st, seen_max, seen_age,
                                   nt_date_now_ms()) > 0)
                        nt_pr_mark_dirty(p, f);
        }
        flush_states(p);
        NT_INFO("producer",
                "stopped: %llu article(s) confirmed, %zu left unconfirmed "
                "(sent again after a restart)",
                (unsigned long long)p->totals.confirmed, left);
        /* --once is run by cron and scripts: a failed feed or an article
         * left unconfirmed must show in the exit status. */
        if (p->once && (p->totals.failed > 0 || left > 0)) {
                NT_ERROR("producer",
                         "once: %llu failed poll(s), %zu article(s) "
                         "unconfirmed",
                         (unsigned long long)p->totals.failed, left);
                return NT_ERR_TRANSIENT;
        }
        return rc;
}

void nt_producer_destroy(nt_producer_t *p)
{
        size_t i;

        if (!p)
                return;
        if (p->pub)
                nt_publisher_destroy(p->pub, 0);
        nt_fetcher_destroy(p->fetcher);
        while (p->pages) /* not sent: fetched again after a restart */
                nt_pr_page_free(p, p->pages);
        nt_pr_page_cache_free(p);
        if (p->robots) {
                const char *origin;
                json_t *v;

                json_object_foreach(p->robots, origin, v)
                {
                        struct robots *rb =
                            (struct robots *)(intptr_t)json_integer_value(v);

                        free(rb->origin);
                        free(rb->text);
                        free(rb);
                }
                json_decref(p->robots);
        }
        nt_timer_heap_free(&p->due);
        for (i = 0; i < p->n_feeds; i++)
                nt_pr_pfeed_free(p->feeds[i]);
        free(p->feeds);
        free(p->dirty);
        free(p->removed);
        nt_pr_group_stop(p);
        json_decref(p->by_key);
        json_decref(p->restored);
        json_decref(p->refusals);
        nt_metrics_destroy(p->metrics);
        nt_state_unlock(p->lock_fd);
        free(p);
}
