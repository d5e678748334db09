/* Kafka in tests: reading a topic back (every message from the beginning
 * of every partition, without a consumer group, until a predicate holds
 * or time runs out), a plain producer to write one, making topics, and
 * taking the real broker down and up. */
#ifndef NT_TEST_KAFKA_READ_H
#define NT_TEST_KAFKA_READ_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

/* Called for each message read; return true to stop reading. */
typedef bool(nt_test_msg_cb)(const rd_kafka_message_t *rkm, void *ctx);

/* A consumer assigned to every partition of `topic` from the beginning,
 * read_committed, in a group of its own that never commits; with `eof` it
 * reports each partition's end. *partitions (may be NULL) receives the
 * partition count, 0 when the topic does not exist. Caller destroys it
 * with rd_kafka_destroy(). */
rd_kafka_t *nt_test_topic_reader(const char *bootstrap, const char *topic,
                                 bool eof, int *partitions);

/* A producer on `bootstrap` that keeps each partition in the order the
 * records were produced (idempotent: librdkafka's default producer may
 * reorder them when it retries a batch while a later one is in flight, as
 * on a topic just created under load). The test fails when it cannot be
 * made. Caller destroys it with rd_kafka_destroy(). */
rd_kafka_t *nt_test_producer(const char *bootstrap);

/* Reads `topic` on `bootstrap` from the start (read_committed) for at
 * most timeout_ms, calling cb for every message. Returns the number of
 * messages read. */
size_t nt_test_read_topic(const char *bootstrap, const char *topic,
                          nt_test_msg_cb *cb, void *ctx, int timeout_ms);

/* Creates the topics (n <= 8) with time-based retention off: some tests
 * write records stamped with old times themselves (tail --since), which a
 * broker with the default seven days deletes as soon as a segment rolls
 * or the broker restarts. */
void nt_test_make_topics(const char *bootstrap, const char *const *topics,
                         size_t n, int partitions);

/* The same with the topics' retention.ms set to `retention_ms`. */
void nt_test_make_topics_retention(const char *bootstrap,
                                   const char *const *topics, size_t n,
                                   int partitions, const char *retention_ms);

/* The same with one more topic setting, `key` = `value`, besides
 * retention.ms (NULL key: none). */
void nt_test_make_topics_config(const char *bootstrap,
                                const char *const *topics, size_t n,
                                int partitions, const char *retention_ms,
                                const char *key, const char *value);

/* Runs scripts/kafka-local with one argument (restart, down, up, pause,
 * resume); returns its exit status. */
int nt_test_kafka_local(const char *arg);

/* Brings the broker up (or resumes it) again when this test took it down
 * (or paused it) and failed before undoing that: for a suite's .fini, so
 * that one failure does not leave the broker down for every test after
 * it. */
void nt_test_kafka_restore(void);

#endif
