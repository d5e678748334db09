/* Talking to a daemon's metrics and health endpoint from tests: a free
 * port to give it, GET with libcurl, waiting for a status, reading one
 * metric out of the Prometheus text and waiting for it to reach a value. */
#ifndef NT_TEST_SCRAPE_H
#define NT_TEST_SCRAPE_H

#include <stdbool.h>

#include "common/buf.h"

/* A TCP port on 127.0.0.1 that nobody listens on right now. */
unsigned nt_test_free_port(void);

/* GET http://127.0.0.1:port/path into out; the HTTP status, 0 when
 * nothing answered. */
long nt_test_http_get(unsigned port, const char *path, struct nt_buf *out);

/* Polls `path` until it answers `want`, at most `seconds`. */
bool nt_test_wait_status(unsigned port, const char *path, long want,
                         int seconds);

/* The value of the first series of `name` whose text starts with
 * `name` + `labels` ("" or "{...}" prefix) in /metrics, or -1. */
double nt_test_metric(unsigned port, const char *name, const char *labels);

/* Polls nt_test_metric() until the series reaches `want`, at most
 * `seconds`; its last value (below `want` when the time ran out). */
double nt_test_wait_metric(unsigned port, const char *name, const char *labels,
                           double want, int seconds);

#endif
