/* The embedded dev broker: librdkafka's mock cluster, hosted in this
 * process. Memory only; about 5 MiB kept per partition (older data is
 * dropped by librdkafka without a word); transactions are a state machine
 * without commit markers or stored transactional offsets. For demos and
 * client fault injection only: it never proves a delivery guarantee. */
#ifndef NT_DEVBROKER_H
#define NT_DEVBROKER_H

#include <stddef.h>

typedef struct nt_devbroker nt_devbroker_t;

/* Starts a cluster of `brokers` brokers listening on 127.0.0.1. Caller
 * frees with nt_devbroker_destroy(). NULL with errstr set on failure. */
nt_devbroker_t *nt_devbroker_new(int brokers, char *errstr, size_t errstr_size);

/* Stops the cluster. NULL-safe. */
void nt_devbroker_destroy(nt_devbroker_t *db);

/* The bootstrap list ("127.0.0.1:port,..."). Borrowed; valid until
 * nt_devbroker_destroy(). */
const char *nt_devbroker_bootstraps(const nt_devbroker_t *db);

/* Creates a topic (replication factor 1). Creating an existing topic is an
 * error from librdkafka, reported in errstr. */
int nt_devbroker_create_topic(nt_devbroker_t *db, const char *topic,
                              int partitions, char *errstr, size_t errstr_size);

/* Parses "NAME" or "NAME:PARTITIONS" (partitions 1..10000, default
 * `def_partitions`) into name (size bytes) and *partitions. */
int nt_devbroker_parse_topic_spec(const char *spec, int def_partitions,
                                  char *name, size_t size, int *partitions);

#endif
