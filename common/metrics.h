/* A small registry of counters and gauges, each a name plus a label set
 * ("newstap_fetches_total" {feed="...",status="200"}), kept by the loop
 * that owns it and written in the Prometheus text format. Not
 * thread-safe: one registry per loop. */
#ifndef NT_METRICS_H
#define NT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef struct nt_metrics nt_metrics_t;

/* At most max_series distinct name+labels pairs (a limit, since labels
 * come from the outside world, e.g. feed URLs). Caller frees with
 * nt_metrics_destroy(). NULL when out of memory. */
nt_metrics_t *nt_metrics_new(size_t max_series);
void nt_metrics_destroy(nt_metrics_t *m);

/* Declares a metric's type and help line (before or after its first use;
 * undeclared metrics are written as untyped). `type` is "counter",
 * "gauge" or "histogram". */
int nt_metrics_describe(nt_metrics_t *m, const char *name, const char *type,
                        const char *help);

/* One metric's declaration, a row of a module's table of its metrics. */
struct nt_metric_desc {
        const char *name, *type, *help;
};

/* nt_metrics_describe() for each of the n rows of `descs`, in order.
 * NT_ERR_NOMEM at the first that fails. */
int nt_metrics_describe_all(nt_metrics_t *m, const struct nt_metric_desc *descs,
                            size_t n);

/* Adds to a counter / sets a gauge. `labels` is NULL or pairs of
 * name, value, ..., NULL. NT_ERR_LIMIT past max_series. */
int nt_metrics_add(nt_metrics_t *m, const char *name, double delta, ...);
int nt_metrics_set(nt_metrics_t *m, const char *name, double value, ...);

/* Sets a histogram without labels: `n` increasing upper bounds (+Inf is
 * implied), the cumulative count of observations at or below each, the
 * total count and sum. Written as NAME_bucket{le="..."} in bound order,
 * NAME_sum and NAME_count, under the HELP and TYPE of NAME (describe it
 * as "histogram"). */
int nt_metrics_histogram(nt_metrics_t *m, const char *name,
                         const double *bounds, const uint64_t *cumulative,
                         size_t n, uint64_t count, double sum);

/* The value of a series, 0 when absent (labels as for add). */
double nt_metrics_get(const nt_metrics_t *m, const char *name, ...);

/* Appends the registry in the Prometheus text exposition format. */
int nt_metrics_write(const nt_metrics_t *m, struct nt_buf *out);

#endif
