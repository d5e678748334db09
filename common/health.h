/* The daemons' HTTP endpoint, on libmicrohttpd: /metrics (Prometheus
 * text), /healthz (the process runs) and /readyz (Kafka reachable and the
 * work loaded). The server threads never touch the loop's state: the
 * loop hands them a rendered snapshot and a readiness flag, under a lock,
 * and renders the snapshot only when a scrape asks for it. */
#ifndef NT_HEALTH_H
#define NT_HEALTH_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "common/config.h"
#include "common/metrics.h"

typedef struct nt_health nt_health_t;

/* Listens on `listen` ("HOST:PORT", an IPv4 address or "localhost"; port
 * 0 picks a free one). Caller frees with nt_health_stop(). NULL with
 * errstr set (e.g. the address is taken). */
nt_health_t *nt_health_start(const char *listen, char *errstr,
                             size_t errstr_size);

/* Starts the endpoint a command's configuration asks for: metrics.enabled
 * "on", or "auto" when `daemon` is true; on metrics.listen, else
 * `default_listen`, and says so in the log as `component`. Returns NULL
 * with *err 0 when it is off, NULL with *err set and errstr filled when
 * it cannot listen. */
nt_health_t *nt_health_from_config(const nt_config_t *cfg,
                                   const char *component,
                                   const char *default_listen, bool daemon,
                                   int *err, char *errstr, size_t errstr_size);

/* Stops the server. NULL-safe. */
void nt_health_stop(nt_health_t *h);

/* The port it listens on (useful with port 0). */
unsigned nt_health_port(const nt_health_t *h);

/* Called by the loop that owns the registry, about once a second: the
 * first call, and a call after a scrape asked for fresh metrics, render
 * the registry and make it what /metrics serves; the others only mark
 * that snapshot out of date, and a scrape of an out-of-date snapshot
 * waits (at most 3 s) for the next call to render it. So an endpoint
 * nobody scrapes costs nothing, and a scrape sees the registry as it is
 * within a second. */
int nt_health_publish(nt_health_t *h, const nt_metrics_t *m);

/* Sets what /readyz answers: 200 "ready", or 503 with the reason. */
void nt_health_set_ready(nt_health_t *h, bool ready, const char *reason);

/* Parses "HOST:PORT" for the listen address. 0 or NT_ERR_INVALID. */
int nt_health_parse_listen(const char *listen, char *host, size_t host_size,
                           unsigned *port);

#endif
