/* Logging: leveled lines to stderr (or another stream) in logfmt or JSON
 * lines, each with a time, a level, a component ("producer", "rdkafka")
 * and a message. librdkafka's own log lines are routed in here too. */
#ifndef NT_LOG_H
#define NT_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

enum nt_log_level {
        NT_LOG_ERROR = 0,
        NT_LOG_WARN = 1,
        NT_LOG_INFO = 2,
        NT_LOG_DEBUG = 3,
};

enum nt_log_format {
        NT_LOG_LOGFMT = 0,
        NT_LOG_JSON = 1,
};

/* Sets the level, the format and the stream (NULL: stderr). Called once by
 * the command entry point before any thread starts; see log.c for why this
 * is the one piece of process-wide configuration besides the signal flag. */
void nt_log_setup(enum nt_log_level level, enum nt_log_format format,
                  FILE *stream);

/* Parses "error" "warn" "info" "debug" / "logfmt" "json". 0 or
 * NT_ERR_INVALID. */
int nt_log_level_parse(const char *s, enum nt_log_level *out);
int nt_log_format_parse(const char *s, enum nt_log_format *out);

/* True when a line at this level would be written. */
int nt_log_enabled(enum nt_log_level level);

void nt_log(enum nt_log_level level, const char *component, const char *fmt,
            ...) __attribute__((format(printf, 3, 4)));
void nt_log_v(enum nt_log_level level, const char *component, const char *fmt,
              va_list ap);

/* A line whose details are fields of their own, not packed into the
 * message, so that log tools can filter on them: `fields` is NULL or
 * "key", "value", ..., NULL, written after msg as key=value (logfmt) or as
 * members (JSON). Keys are [a-z_] words other than ts, level, component
 * and msg; values are scrubbed of URL credentials like messages. */
void nt_log_kv(enum nt_log_level level, const char *component,
               const char *const *fields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Formats one log line (with its newline) into buf, as nt_log writes it;
 * `ts_ms` is the wall-clock time in milliseconds since the epoch. Returns
 * the length the whole line needs, like snprintf. Exposed for tests. */
size_t nt_log_format_line(char *buf, size_t size, enum nt_log_format format,
                          long long ts_ms, enum nt_log_level level,
                          const char *component, const char *msg);

/* The same with fields as nt_log_kv() takes them. */
size_t nt_log_format_line_kv(char *buf, size_t size, enum nt_log_format format,
                             long long ts_ms, enum nt_log_level level,
                             const char *component, const char *msg,
                             const char *const *fields);

/* ---- Aggregated warnings -------------------------------------------- */

/* Repeated lines of one kind (a delivery failure per article while the
 * broker is away) folded into one line per interval: the first of a kind
 * is written at once, the next ones are counted, and at most once per
 * interval a line says how many there were and shows the last, e.g.
 * "delivery failed (Local: Message timed out) ×5594 in the last 10 s;
 * the last: ...". Not thread-safe: one owner thread calls it (the loop
 * that polls librdkafka). Times are the caller's monotonic milliseconds,
 * so that tests can drive the clock. */
typedef struct nt_log_agg nt_log_agg_t;

/* At most `max_kinds` kinds are kept apart; further kinds share one
 * "other" slot. `component` is borrowed and must outlive the handle.
 * NULL when out of memory. */
nt_log_agg_t *nt_log_agg_new(enum nt_log_level level, const char *component,
                             long long interval_ms, size_t max_kinds);

/* Writes what is still counted (nt_log_agg_flush with `all`) and frees.
 * NULL-safe. */
void nt_log_agg_destroy(nt_log_agg_t *agg);

/* One occurrence of `kind` (the key, and the head of the summary line)
 * with its own message. */
void nt_log_agg_add(nt_log_agg_t *agg, long long now_ms, const char *kind,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Writes the summary of every kind whose interval has passed since its
 * last line (every counted kind when `all`). Called from the owner's
 * loop so that the last burst of an outage is reported too. */
void nt_log_agg_flush(nt_log_agg_t *agg, long long now_ms, int all);

/* Occurrences of every kind so far, written or folded. */
unsigned long long nt_log_agg_total(const nt_log_agg_t *agg);

#define NT_ERROR(comp, ...) nt_log(NT_LOG_ERROR, comp, __VA_ARGS__)
#define NT_WARN(comp, ...)  nt_log(NT_LOG_WARN, comp, __VA_ARGS__)
#define NT_INFO(comp, ...)  nt_log(NT_LOG_INFO, comp, __VA_ARGS__)
#define NT_DEBUG(comp, ...) nt_log(NT_LOG_DEBUG, comp, __VA_ARGS__)

#endif
