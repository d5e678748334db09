/* The state topic. A load reads the partitions it is asked for without
 * a consumer group, from their beginning to the end they had when it
 * began (nt_kafka_read_to_end_parts(), read_committed), decoding each
 * record as it comes and keeping the last state per key; only then does
 * it hand the states out, so that a caller never sees a state that a
 * later record of the same key replaces. A record that is not a state is
 * logged and skipped, never fatal: one bad write must not keep every
 * feed of a partition from being restored. */
#include "producer/state_topic.h"
#include "common/buf.h"
#include "common/date.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/log.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COMPONENT "state"

/* A bound on the feeds one load keeps, far above any real installation
 * (the issue speaks of 50,000), so that a topic flooded with keys fails
 * with a message instead of taking the machine's memory. */
#define MAX_KEYS ((size_t)10 * 1000 * 1000)

char *nt_state_topic_value(const char *key, const struct nt_feed_state *st,
                           size_t *lenp)
{
        json_t *root = nt_state_to_json_packed(key, st);
        char *value = root ? json_dumps(root, JSON_COMPACT) : NULL;

        json_decref(root);
        if (value && lenp)
                *lenp = strlen(value);
        return value;
}

/* What nt_state_topic_write() writes: the keys and states. */
struct state_values {
        const char *const *keys;
        const struct nt_feed_state *const *states;
};

/* The value of feed i: its state, NULL a tombstone. */
static int state_value(void *ctx, size_t i, char **value, size_t *len,
                       char *errstr, size_t errstr_size)
{
        const struct state_values *sv = ctx;

        if (!sv->states[i])
                return NT_OK;
        *value = nt_state_topic_value(sv->keys[i], sv->states[i], len);
        if (!*value)
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory");
        return NT_OK;
}

int nt_state_topic_write(rd_kafka_t *rk, const nt_config_t *cfg,
                         const char *const *keys, const int32_t *partitions,
                         const struct nt_feed_state *const *states, size_t n,
                         int timeout_ms, char *errstr, size_t errstr_size)
{
        struct state_values sv = {keys, states};

        return nt_kafka_write_confirmed(
            rk, nt_config_str(cfg, "topics.feeds_state"), NT_STATE_TOPIC_SCHEMA,
            keys, partitions, n, state_value, &sv, timeout_ms, errstr,
            errstr_size);
}

/* How long a topic that is not known yet may be a topic created a moment
 * ago whose metadata has not reached the broker that answers. */
#define CREATED_LAG_MS 5000

/* The partition count of `topic`, asking again for at most wait_ms while
 * the broker does not know it. */
static int count_of(rd_kafka_t *rk, const char *topic, int timeout_ms,
                    int wait_ms, int *count, char *errstr, size_t errstr_size)
{
        const struct timespec pause = {0, 200 * 1000 * 1000};
        int64_t deadline = nt_date_mono_ms() + wait_ms;
        int err;

        for (;;) {
                err = nt_kafka_partition_count(rk, topic, timeout_ms, count,
                                               errstr, errstr_size);
                if (err != NT_ERR_NOTFOUND || nt_date_mono_ms() >= deadline)
                        return err;
                nanosleep(&pause, NULL);
        }
}

int nt_state_topic_ensure(rd_kafka_t *rk, const nt_config_t *cfg,
                          int timeout_ms, char *errstr, size_t errstr_size)
{
        const char *feeds = nt_config_str(cfg, "topics.feeds");
        const char *state = nt_config_str(cfg, "topics.feeds_state");
        int n_feeds = 0, n_state = 0, err;

        err =
            count_of(rk, feeds, timeout_ms,
                     timeout_ms < CREATED_LAG_MS ? timeout_ms : CREATED_LAG_MS,
                     &n_feeds, errstr, errstr_size);
        if (err == NT_ERR_NOTFOUND)
                return nt_errf(errstr, errstr_size, NT_ERR_NOTFOUND,
                               "the feeds topic %s does not exist: the state "
                               "topic %s takes its partition count from it "
                               "(newstap feeds sync or add creates it)",
                               feeds, state);
        if (err)
                return err;
        /* A deleting topic would lose states to retention, and their
         * feeds would publish their articles again. */
        err = nt_kafka_ensure_compacted(rk, state, n_feeds, "the feeds' state",
                                        timeout_ms, errstr, errstr_size);
        if (err)
                return err;
        err = count_of(rk, state, timeout_ms, timeout_ms, &n_state, errstr,
                       errstr_size);
        if (err)
                return err;
        if (n_state != n_feeds)
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "the state topic %s has %d partition(s) and "
                               "the feeds topic %s has %d: a feed's state "
                               "must sit on its feed's partition, so both "
                               "need the same count (recreate %s, or name "
                               "another topic in topics.feeds_state)",
                               state, n_state, feeds, n_feeds, state);
        return NT_OK;
}

/* ---- Loading ------------------------------------------------------------ */

/* The last state of one key; `live` false once a tombstone followed. */
struct entry {
        char *key;
        int32_t partition;
        bool live;
        struct nt_feed_state st;
};

struct load_ctx {
        json_t *index; /* key -> integer index into entries */
        struct entry *entries;
        size_t n, cap;
};

static void skip(const rd_kafka_message_t *rkm, const char *reason)
{
        nt_kafka_log_skipped(COMPONENT, "state topic", rkm, reason);
}

/* The entry of `key`, added (not live, state fresh) when missing. NULL
 * when out of memory or past MAX_KEYS. */
static struct entry *entry_of(struct load_ctx *c, const char *key)
{
        json_t *at = json_object_get(c->index, key);
        struct entry *e;

        if (at)
                return &c->entries[json_integer_value(at)];
        if (c->n >= MAX_KEYS ||
            nt_array_grow(&c->entries, &c->cap, c->n + 1, sizeof(*c->entries)))
                return NULL;
        e = &c->entries[c->n];
        memset(e, 0, sizeof(*e));
        e->key = strdup(key);
        if (!e->key || nt_state_init(&e->st) != NT_OK ||
            json_object_set_new(c->index, key,
                                json_integer((json_int_t)c->n)) != 0) {
                free(e->key);
                nt_state_free(&e->st);
                return NULL;
        }
        c->n++;
        return e;
}

static int load_one(const rd_kafka_message_t *rkm, void *opaque)
{
        struct load_ctx *c = opaque;
        struct entry *e;
        json_error_t jerr;
        json_t *root = NULL;
        char *key = NULL, reason[256];
        int err = NT_OK;

        if (!rkm->key || rkm->key_len == 0 ||
            memchr(rkm->key, '\0', rkm->key_len)) {
                skip(rkm, "no key, or a key that is not text");
                return NT_OK;
        }
        key = strndup(rkm->key, rkm->key_len);
        if (!key)
                return NT_ERR_NOMEM;
        if (!rkm->payload) {
                /* A tombstone: the feed's state is forgotten. */
                json_t *at = json_object_get(c->index, key);

                if (at) {
                        e = &c->entries[json_integer_value(at)];
                        e->live = false;
                        nt_state_free(&e->st);
                        err = nt_state_init(&e->st);
                }
                goto out;
        }
        root =
            json_loadb(rkm->payload, rkm->len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
                snprintf(reason, sizeof(reason), "the value is not JSON: %s",
                         jerr.text);
                skip(rkm, reason);
                goto out;
        }
        e = entry_of(c, key);
        if (!e) {
                err = c->n >= MAX_KEYS ? NT_ERR_LIMIT : NT_ERR_NOMEM;
                goto out;
        }
        /* nt_state_from_json() leaves the state as it was when the value
         * is not a state of this key, so garbage keeps the earlier one. */
        if (nt_state_from_json(root, key, &e->st) != NT_OK) {
                skip(rkm, "the value is not a state (schema "
                          "newstap.feed-state/1 or /2) of the record's key");
                goto out;
        }
        e->live = true;
        e->partition = rkm->partition;
out:
        json_decref(root);
        free(key);
        return err;
}

int nt_state_topic_load(const nt_config_t *cfg, const char *const *extra,
                        const int32_t *parts, size_t nparts,
                        nt_state_topic_cb *cb, void *opaque, int timeout_ms,
                        char *errstr, size_t errstr_size)
{
        const char *topic = nt_config_str(cfg, "topics.feeds_state");
        struct load_ctx c = {json_object(), NULL, 0, 0};
        size_t i;
        int err;

        if (!c.index)
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory");
        err = nt_kafka_read_to_end_parts(cfg, extra, topic, parts, nparts,
                                         load_one, &c, timeout_ms, errstr,
                                         errstr_size);
        if (err == NT_ERR_NOMEM)
                nt_errf(errstr, errstr_size, err,
                        "out of memory reading the state topic %s", topic);
        else if (err == NT_ERR_LIMIT)
                nt_errf(errstr, errstr_size, err,
                        "the state topic %s holds more than %zu keys", topic,
                        MAX_KEYS);
        for (i = 0; i < c.n; i++) {
                struct entry *e = &c.entries[i];

                if (err == NT_OK && e->live) {
                        err = cb(e->key, e->partition, &e->st, opaque);
                        if (err)
                                nt_errf(errstr, errstr_size, err,
                                        "state topic %s: stopped at the state "
                                        "of %s",
                                        topic, e->key);
                }
                nt_state_free(&e->st);
                free(e->key);
        }
        free(c.entries);
        json_decref(c.index);
        return err;
}
