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

/* Formats one log line (with its newline) into buf, as nt_log writes it;
 * `ts_ms` is the wall-clock time in milliseconds since the epoch. Returns
 * the length the whole line needs, like snprintf. Exposed for tests. */
size_t nt_log_format_line(char *buf, size_t size, enum nt_log_format format,
                          long long ts_ms, enum nt_log_level level,
                          const char *component, const char *msg);

#define NT_ERROR(comp, ...) nt_log(NT_LOG_ERROR, comp, __VA_ARGS__)
#define NT_WARN(comp, ...)  nt_log(NT_LOG_WARN, comp, __VA_ARGS__)
#define NT_INFO(comp, ...)  nt_log(NT_LOG_INFO, comp, __VA_ARGS__)
#define NT_DEBUG(comp, ...) nt_log(NT_LOG_DEBUG, comp, __VA_ARGS__)

#endif
