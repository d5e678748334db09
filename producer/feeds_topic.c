/* The feeds topic. Records are written by `newstap feeds` with an
 * idempotent producer and acks=all, one confirmed delivery per record;
 * they are read back without a consumer group from the beginning of every
 * partition to the end it had when the read began (the topic is
 * compacted, so that end holds each feed's last word). A record that is
 * not a feed never stops a read: it is logged with its partition and
 * offset and skipped, so one bad write cannot take every feed down. */
#include "producer/feeds_topic.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/secret.h"
#include "common/url.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMPONENT "feeds"

/* The floor of an interval read from the topic: the configurable one
 * (producer.min_interval) is the reading producer's business. */
#define HARD_MIN_INTERVAL_MS 1000

const char *nt_feeds_topic_find(const json_t *view, const char *key)
{
        const char *k;
        json_t *v;

        if (json_object_get(view, key))
                return json_object_iter_key(
                    json_object_iter_at((json_t *)view, key));
        json_object_foreach((json_t *)view, k, v)
        {
                char *again = nt_feeds_topic_key(k);
                bool same = again && strcmp(again, key) == 0;

                free(again);
                if (same)
                        return k;
        }
        return NULL;
}

char *nt_feeds_topic_key(const char *url)
{
        char *plain = nt_url_without_userinfo(url, NULL);
        char *key =
            plain && nt_url_is_http(plain) ? nt_url_canonical(plain) : NULL;

        free(plain);
        return key;
}

size_t nt_feeds_topic_check_spec(const json_t *spec, const char *what,
                                 int64_t min_interval_ms,
                                 struct nt_config_report *r)
{
        size_t before = r->n;
        json_t *arr = json_array();
        const char *url, *name;
        const json_t *hv;
        char errstr[512];
        char *shown;

        if (!arr || json_array_append(arr, (json_t *)spec) != 0) {
                json_decref(arr);
                nt_config_report_add(r, "out of memory");
                return r->n - before;
        }
        nt_config_check_feeds(arr, what, min_interval_ms, r);
        json_decref(arr);
        if (r->n > before)
                return r->n - before;
        url = json_string_value(json_object_get(spec, "url"));
        shown = nt_url_without_userinfo(url, NULL);
        if (nt_secret_check_url(url, errstr, sizeof(errstr)) != NT_OK)
                nt_config_report_add(r, "%s: %s: %s", what, shown ? shown : "?",
                                     errstr);
        json_object_foreach((json_t *)json_object_get(spec, "headers"), name,
                            hv)
        {
                if (nt_secret_check_header(name, json_string_value(hv), errstr,
                                           sizeof(errstr)) != NT_OK)
                        nt_config_report_add(r, "%s%s%s: %s", what ? what : "",
                                             what ? ": " : "",
                                             shown ? shown : "?", errstr);
        }
        free(shown);
        return r->n - before;
}

/* ---- Reading the view ------------------------------------------------ */

struct load_ctx {
        json_t *view;
        json_t *parts; /* key -> partition of its record, or NULL */
        size_t skipped;
};

static void skip(struct load_ctx *c, const rd_kafka_message_t *rkm,
                 const char *reason)
{
        nt_kafka_log_skipped(COMPONENT, "feeds topic", rkm, reason);
        c->skipped++;
}

static int load_one(const rd_kafka_message_t *rkm, void *opaque)
{
        struct load_ctx *c = opaque;
        struct nt_config_report r;
        json_error_t jerr;
        json_t *spec = NULL, *arr = NULL;
        char *key = NULL, *want = NULL, *again = NULL, reason[512];
        int err = NT_OK;

        if (!rkm->key || rkm->key_len == 0 ||
            memchr(rkm->key, '\0', rkm->key_len)) {
                skip(c, rkm, "no key, or a key that is not text");
                return NT_OK;
        }
        key = strndup(rkm->key, rkm->key_len);
        if (!key)
                return NT_ERR_NOMEM;
        if (!rkm->payload) {
                /* A tombstone: the feed is gone. */
                json_object_del(c->view, key);
                if (c->parts)
                        json_object_del(c->parts, key);
                goto out;
        }
        spec =
            json_loadb(rkm->payload, rkm->len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(spec)) {
                snprintf(reason, sizeof(reason),
                         "the value is not a JSON object%s%s", spec ? "" : ": ",
                         spec ? "" : jerr.text);
                skip(c, rkm, reason);
                goto out;
        }
        arr = json_pack("[O]", spec);
        nt_config_report_init(&r);
        nt_config_check_feeds(arr, NULL, HARD_MIN_INTERVAL_MS, &r);
        nt_config_report_errstr(&r, "; ", reason, sizeof(reason));
        if (r.n > 0) {
                nt_config_report_free(&r);
                skip(c, rkm, reason);
                goto out;
        }
        nt_config_report_free(&r);
        /* Compared in canonical form on both sides, so that a key
         * written before the canonical form changed (a tracking
         * parameter added to the list) still matches its URL. */
        want =
            nt_feeds_topic_key(json_string_value(json_object_get(spec, "url")));
        again = nt_feeds_topic_key(key);
        if (!want || !again || strcmp(want, again) != 0) {
                skip(c, rkm,
                     "the key is not the value's url in canonical form");
                goto out;
        }
        if (json_object_set(c->view, key, spec) != 0 ||
            (c->parts && json_object_set_new(
                             c->parts, key, json_integer(rkm->partition)) != 0))
                err = NT_ERR_NOMEM;
out:
        json_decref(arr);
        json_decref(spec);
        free(again);
        free(want);
        free(key);
        return err;
}

static int load(const nt_config_t *cfg, const char *topic, int timeout_ms,
                json_t **view, json_t **parts, size_t *skipped, char *errstr,
                size_t errstr_size)
{
        struct load_ctx c = {json_object(), parts ? json_object() : NULL, 0};
        int err;

        *view = NULL;
        if (parts)
                *parts = NULL;
        if (!c.view || (parts && !c.parts)) {
                json_decref(c.view);
                json_decref(c.parts);
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory");
        }
        err = nt_kafka_read_to_end(cfg, NULL, topic, load_one, &c, timeout_ms,
                                   errstr, errstr_size);
        if (err == NT_ERR_NOMEM)
                nt_errf(errstr, errstr_size, err, "out of memory");
        if (skipped)
                *skipped = c.skipped;
        if (err) {
                json_decref(c.view);
                json_decref(c.parts);
                return err;
        }
        *view = c.view;
        if (parts)
                *parts = c.parts;
        return NT_OK;
}

int nt_feeds_topic_load(const nt_config_t *cfg, const char *topic,
                        int timeout_ms, json_t **view, size_t *skipped,
                        char *errstr, size_t errstr_size)
{
        return load(cfg, topic, timeout_ms, view, NULL, skipped, errstr,
                    errstr_size);
}

int nt_feeds_topic_load_partitions(const nt_config_t *cfg, const char *topic,
                                   int timeout_ms, json_t **view,
                                   json_t **parts, char *errstr,
                                   size_t errstr_size)
{
        return load(cfg, topic, timeout_ms, view, parts, NULL, errstr,
                    errstr_size);
}

/* ---- Writing ----------------------------------------------------------- */

int nt_feeds_topic_ensure(rd_kafka_t *rk, const nt_config_t *cfg,
                          const char *topic, int timeout_ms, char *errstr,
                          size_t errstr_size)
{
        return nt_kafka_ensure_compacted(
            rk, topic, (int)nt_config_int(cfg, "producer.feeds_partitions"),
            "the feed list", timeout_ms, errstr, errstr_size);
}

rd_kafka_t *nt_feeds_topic_producer(const nt_config_t *cfg, char *errstr,
                                    size_t errstr_size)
{
        return nt_kafka_confirmed_producer_new(cfg, errstr, errstr_size);
}

/* The value of feed i: its spec as compact JSON, NULL a tombstone. */
static int spec_value(void *ctx, size_t i, char **value, size_t *len,
                      char *errstr, size_t errstr_size)
{
        const json_t *const *specs = ctx;

        if (!specs[i])
                return NT_OK;
        *value = json_dumps(specs[i], JSON_COMPACT | JSON_SORT_KEYS);
        if (!*value)
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory");
        *len = strlen(*value);
        return NT_OK;
}

int nt_feeds_topic_write(rd_kafka_t *rk, const char *topic,
                         const char *const *keys, const json_t *const *specs,
                         size_t n, int timeout_ms, char *errstr,
                         size_t errstr_size)
{
        return nt_kafka_write_confirmed(rk, topic, NT_FEEDS_TOPIC_SCHEMA, keys,
                                        NULL, n, spec_value, (void *)specs,
                                        timeout_ms, errstr, errstr_size);
}

/* ---- The difference ----------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of `obj` in order. */
static const char **sorted_keys(const json_t *obj, size_t *n)
{
        const char **keys = calloc(json_object_size(obj) + 1, sizeof(*keys));
        const char *k;
        json_t *v;

        *n = 0;
        if (!keys)
                return NULL;
        json_object_foreach((json_t *)obj, k, v) keys[(*n)++] = k;
        qsort(keys, *n, sizeof(*keys), cmp_str);
        return keys;
}

int nt_feeds_topic_diff(const json_t *view, const json_t *want, json_t **added,
                        json_t **changed, json_t **removed)
{
        size_t n_want, n_view, i;
        const char **wk = sorted_keys(want, &n_want);
        const char **vk = sorted_keys(view, &n_view);
        int err = NT_OK;

        *added = json_array();
        *changed = json_array();
        *removed = json_array();
        if (!wk || !vk || !*added || !*changed || !*removed) {
                err = NT_ERR_NOMEM;
                goto out;
        }
        for (i = 0; i < n_want && err == NT_OK; i++) {
                json_t *old = json_object_get(view, wk[i]);

                if (!old)
                        err = json_array_append_new(*added, json_string(wk[i]));
                else if (!json_equal(old, json_object_get(want, wk[i])))
                        err =
                            json_array_append_new(*changed, json_string(wk[i]));
        }
        for (i = 0; i < n_view && err == NT_OK; i++)
                if (!json_object_get(want, vk[i]))
                        err =
                            json_array_append_new(*removed, json_string(vk[i]));
        if (err)
                err = NT_ERR_NOMEM;
out:
        if (err) {
                json_decref(*added);
                json_decref(*changed);
                json_decref(*removed);
                *added = *changed = *removed = NULL;
        }
        free(wk);
        free(vk);
        return err;
}
