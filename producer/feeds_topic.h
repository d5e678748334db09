/* The feed list on a compacted Kafka topic (topics.feeds, default
 * news.feeds): key = the feed's canonical URL (without credentials),
 * value = the feed's spec as JSON, the members of a producer.feeds
 * element; a tombstone (null value) removes the feed. This module reads
 * the topic's current view, checks specs before they are written (no
 * plain-text secrets: see common/secret.h), writes and removes them, and
 * computes the difference between the topic and a wanted list.
 *
 * `newstap feeds` writes the topic; `newstap produce --group` reads its
 * records as they come (producer/producer_group.c). */
#ifndef NT_FEEDS_TOPIC_H
#define NT_FEEDS_TOPIC_H

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "common/config.h"

/* The schema header of a record's value. */
#define NT_FEEDS_TOPIC_SCHEMA "newstap.feed/1"

/* The key of a feed: its URL canonical (common/url.h) and without its
 * userinfo. NULL when the URL is not an http(s) URL or out of memory.
 * Caller frees with free(). */
char *nt_feeds_topic_key(const char *url);

/* The key of `view` (key -> spec) that stands for the feed with the
 * canonical key `key`: `key` itself, or a key written by an older
 * version whose canonical form is `key` now. NULL when none. Borrowed
 * from view. */
const char *nt_feeds_topic_find(const json_t *view, const char *key);

/* Checks one spec as it is about to leave this machine: the rules of a
 * producer.feeds element (nt_config_check_feeds(), with
 * producer.min_interval as the floor) and the secret rules
 * (nt_secret_check_header(), nt_secret_check_url()). Every problem is
 * added to `r` as a line starting with "WHAT: " (e.g. "FILE:
 * producer.feeds[2]: ") unless `what` is NULL. Returns the number of
 * lines added. */
size_t nt_feeds_topic_check_spec(const json_t *spec, const char *what,
                                 int64_t min_interval_ms,
                                 struct nt_config_report *r);

/* The topic's current view: every partition read from its beginning to
 * its end (nt_kafka_read_to_end()), the last value of a key winning and a
 * tombstone deleting it. A record that is not a feed (no key, a value
 * that is not a JSON object passing nt_config_check_feeds(), a key whose
 * canonical form is not its value's url's) is logged as a warning
 * with its partition and offset and skipped: the key keeps its earlier
 * value. *view is a new object key -> spec; caller frees it with
 * json_decref(). `*skipped` (may be NULL) gets the number of skipped
 * records. NT_ERR_NOTFOUND when the topic does not exist; other errors
 * as nt_kafka_read_to_end(). */
int nt_feeds_topic_load(const nt_config_t *cfg, const char *topic,
                        int timeout_ms, json_t **view, size_t *skipped,
                        char *errstr, size_t errstr_size);

/* The same view, and in *parts a new object key -> the partition of the
 * record that holds the key's spec: where the feed's state belongs on
 * the state topic (producer/state_topic.h). Caller frees both with
 * json_decref(). */
int nt_feeds_topic_load_partitions(const nt_config_t *cfg, const char *topic,
                                   int timeout_ms, json_t **view,
                                   json_t **parts, char *errstr,
                                   size_t errstr_size);

/* Creates the topic when it is missing, compacted (cleanup.policy=compact)
 * with producer.feeds_partitions partitions. When it exists and is not
 * compacted, says so in errstr and returns NT_ERR_CONFIG: a deleting
 * topic would lose feeds to retention. */
int nt_feeds_topic_ensure(rd_kafka_t *rk, const nt_config_t *cfg,
                          const char *topic, int timeout_ms, char *errstr,
                          size_t errstr_size);

/* A producer for the topic: nt_kafka_confirmed_producer_new(), idempotent,
 * acks=all. Caller frees with rd_kafka_destroy(). NULL with errstr on
 * failure. */
rd_kafka_t *nt_feeds_topic_producer(const nt_config_t *cfg, char *errstr,
                                    size_t errstr_size);

/* Writes records and waits until each is confirmed: `keys[i]` with
 * `specs[i]` as its value (JSON, with content-type and schema headers),
 * or a tombstone when specs[i] is NULL. NT_OK when every record was
 * confirmed; otherwise the first failure in errstr (records confirmed
 * before it stay written). */
int nt_feeds_topic_write(rd_kafka_t *rk, const char *topic,
                         const char *const *keys, const json_t *const *specs,
                         size_t n, int timeout_ms, char *errstr,
                         size_t errstr_size);

/* The difference from the topic's view to the wanted feeds (both key ->
 * spec objects): keys only in `want` are added, keys in both with
 * unequal specs changed, keys only in `view` removed. Each list is a new
 * JSON array of keys in key order; caller frees with json_decref(). */
int nt_feeds_topic_diff(const json_t *view, const json_t *want, json_t **added,
                        json_t **changed, json_t **removed);

#endif
