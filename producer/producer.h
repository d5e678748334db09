/* The produce loop: keeps the feeds polled on their schedules, parses
 * what they return, publishes new and edited articles, and saves each
 * feed's state once its articles are confirmed. One thread: libcurl's
 * multi handle and librdkafka's delivery reports are both served from
 * nt_producer_run(). */
#ifndef NT_PRODUCER_H
#define NT_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"
#include "common/health.h"
#include "common/metrics.h"
#include "producer/feeds.h"

typedef struct nt_producer nt_producer_t;

/* Loads each feed's state (a corrupt state file is logged, moved aside
 * and the feed starts fresh) and connects the publisher. Takes the
 * contents of `feeds` (left empty). `cfg` is borrowed and must outlive
 * the producer. With `once`, every feed is polled once, its articles
 * confirmed, and nt_producer_run() returns. Caller frees with
 * nt_producer_destroy(). NULL with errstr set. */
nt_producer_t *nt_producer_new(const nt_config_t *cfg,
                               struct nt_feed_list *feeds, bool once,
                               char *errstr, size_t errstr_size);

/* producer.coordination kafka: checks that the instance id
 * (producer.instance, else the host name) and the transactional.id
 * made of it and producer.group fit their bounds. NT_ERR_CONFIG with
 * errstr saying which to shorten. */
int nt_producer_group_check(const nt_config_t *cfg, char *errstr,
                            size_t errstr_size);

/* Builds a fresh feed list on SIGHUP (the command re-reads its files). */
typedef int(nt_producer_reload_cb)(void *ctx, struct nt_feed_list *out,
                                   char *errstr, size_t errstr_size);

/* Runs until SIGINT/SIGTERM (or, with `once`, until done), then shuts
 * down within producer.shutdown_timeout: in-flight transfers finish,
 * unconfirmed articles are flushed, state is saved. On SIGHUP the feed
 * list is replaced by what `reload` builds (may be NULL): new feeds
 * start, removed ones stop once their articles are confirmed, state and
 * in-flight work are kept; a failed reload keeps the old list. Returns
 * 0, or an error when the loop could not go on. */
int nt_producer_run(nt_producer_t *p, nt_producer_reload_cb *reload,
                    void *reload_ctx);

/* Serves the producer's metrics and readiness through `h` (borrowed; may
 * be NULL), refreshed every second. */
void nt_producer_set_health(nt_producer_t *p, nt_health_t *h);

/* The producer's metrics registry. Borrowed. */
nt_metrics_t *nt_producer_metrics(nt_producer_t *p);

/* Frees everything. NULL-safe. */
void nt_producer_destroy(nt_producer_t *p);

#endif
