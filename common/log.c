#include "common/log.h"
#include "common/err.h"
#include "common/url.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* The sink is process-wide on purpose: every module and librdkafka's
 * threads log, and threading a logger handle through all of them buys
 * nothing. It is written once by nt_log_setup() before threads start and
 * only read afterwards; each line goes out with one fwrite so lines from
 * different threads do not interleave (stdio locks the stream). */
static struct {
        enum nt_log_level level;
        enum nt_log_format format;
        FILE *stream;
} log_sink = {NT_LOG_INFO, NT_LOG_LOGFMT, NULL};

static const char *level_names[] = {"error", "warn", "info", "debug"};

void nt_log_setup(enum nt_log_level level, enum nt_log_format format,
                  FILE *stream)
{
        log_sink.level = level;
        log_sink.format = format;
        log_sink.stream = stream;
}

int nt_log_level_parse(const char *s, enum nt_log_level *out)
{
        size_t i;

        for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
                if (strcasecmp(s, level_names[i]) == 0) {
                        *out = (enum nt_log_level)i;
                        return NT_OK;
                }
        }
        if (strcasecmp(s, "warning") == 0) {
                *out = NT_LOG_WARN;
                return NT_OK;
        }
        return NT_ERR_INVALID;
}

int nt_log_format_parse(const char *s, enum nt_log_format *out)
{
        if (strcasecmp(s, "logfmt") == 0)
                *out = NT_LOG_LOGFMT;
        else if (strcasecmp(s, "json") == 0)
                *out = NT_LOG_JSON;
        else
                return NT_ERR_INVALID;
        return NT_OK;
}

int nt_log_enabled(enum nt_log_level level)
{
        return level <= log_sink.level;
}

/* Appends s quoted for the format: JSON string escaping, which is also a
 * valid logfmt quoted value. Keeps going past the end of buf so that the
 * returned length is the full one, like snprintf. */
static size_t put_quoted(char *buf, size_t size, size_t pos, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *)s;
        char esc[7];
        size_t n, i;

#define PUT(c)                          \
        do {                            \
                if (pos + 1 < size)     \
                        buf[pos] = (c); \
                pos++;                  \
        } while (0)
        PUT('"');
        for (; *p; p++) {
                n = 0;
                if (*p == '"' || *p == '\\') {
                        esc[n++] = '\\';
                        esc[n++] = (char)*p;
                } else if (*p == '\n') {
                        esc[n++] = '\\';
                        esc[n++] = 'n';
                } else if (*p == '\t') {
                        esc[n++] = '\\';
                        esc[n++] = 't';
                } else if (*p < 0x20) {
                        memcpy(esc, "\\u00", 4);
                        esc[4] = hex[*p >> 4];
                        esc[5] = hex[*p & 15];
                        n = 6;
                } else {
                        esc[n++] = (char)*p;
                }
                for (i = 0; i < n; i++)
                        PUT(esc[i]);
        }
        PUT('"');
#undef PUT
        return pos;
}

static size_t put_raw(char *buf, size_t size, size_t pos, const char *s)
{
        for (; *s; s++) {
                if (pos + 1 < size)
                        buf[pos] = *s;
                pos++;
        }
        return pos;
}

/* True when a logfmt value needs no quotes. */
static int logfmt_bare(const char *s)
{
        if (!*s)
                return 0;
        for (; *s; s++) {
                if ((unsigned char)*s <= ' ' || *s == '"' || *s == '=' ||
                    *s == '\\')
                        return 0;
        }
        return 1;
}

size_t nt_log_format_line(char *buf, size_t size, enum nt_log_format format,
                          long long ts_ms, enum nt_log_level level,
                          const char *component, const char *msg)
{
        return nt_log_format_line_kv(buf, size, format, ts_ms, level, component,
                                     msg, NULL);
}

/* The fields after the message: ` key=value` or `,"key":"value"`. */
static size_t put_fields(char *buf, size_t size, size_t pos,
                         enum nt_log_format format, const char *const *fields)
{
        size_t i;

        for (i = 0; fields && fields[i] && fields[i + 1]; i += 2) {
                if (format == NT_LOG_JSON) {
                        pos = put_raw(buf, size, pos, ",");
                        pos = put_quoted(buf, size, pos, fields[i]);
                        pos = put_raw(buf, size, pos, ":");
                        pos = put_quoted(buf, size, pos, fields[i + 1]);
                } else {
                        pos = put_raw(buf, size, pos, " ");
                        pos = put_raw(buf, size, pos, fields[i]);
                        pos = put_raw(buf, size, pos, "=");
                        if (logfmt_bare(fields[i + 1]))
                                pos = put_raw(buf, size, pos, fields[i + 1]);
                        else
                                pos = put_quoted(buf, size, pos, fields[i + 1]);
                }
        }
        return pos;
}

size_t nt_log_format_line_kv(char *buf, size_t size, enum nt_log_format format,
                             long long ts_ms, enum nt_log_level level,
                             const char *component, const char *msg,
                             const char *const *fields)
{
        char ts[64];
        struct tm tm;
        time_t secs = (time_t)(ts_ms / 1000);
        size_t pos = 0;

        gmtime_r(&secs, &tm);
        snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (int)(ts_ms % 1000));
        if (format == NT_LOG_JSON) {
                pos = put_raw(buf, size, pos, "{\"ts\":\"");
                pos = put_raw(buf, size, pos, ts);
                pos = put_raw(buf, size, pos, "\",\"level\":\"");
                pos = put_raw(buf, size, pos, level_names[level]);
                pos = put_raw(buf, size, pos, "\",\"component\":");
                pos = put_quoted(buf, size, pos, component);
                pos = put_raw(buf, size, pos, ",\"msg\":");
                pos = put_quoted(buf, size, pos, msg);
                pos = put_fields(buf, size, pos, format, fields);
                pos = put_raw(buf, size, pos, "}\n");
        } else {
                pos = put_raw(buf, size, pos, "ts=");
                pos = put_raw(buf, size, pos, ts);
                pos = put_raw(buf, size, pos, " level=");
                pos = put_raw(buf, size, pos, level_names[level]);
                pos = put_raw(buf, size, pos, " component=");
                if (logfmt_bare(component))
                        pos = put_raw(buf, size, pos, component);
                else
                        pos = put_quoted(buf, size, pos, component);
                pos = put_raw(buf, size, pos, " msg=");
                pos = put_quoted(buf, size, pos, msg);
                pos = put_fields(buf, size, pos, format, fields);
                pos = put_raw(buf, size, pos, "\n");
        }
        if (size > 0)
                buf[pos < size ? pos : size - 1] = '\0';
        return pos;
}

static void log_line(enum nt_log_level level, const char *component,
                     const char *const *fields, const char *fmt, va_list ap);

void nt_log_v(enum nt_log_level level, const char *component, const char *fmt,
              va_list ap)
{
        log_line(level, component, NULL, fmt, ap);
}

void nt_log_kv(enum nt_log_level level, const char *component,
               const char *const *fields, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_line(level, component, fields, fmt, ap);
        va_end(ap);
}

#define MAX_FIELDS 16

static void log_line(enum nt_log_level level, const char *component,
                     const char *const *fields, const char *fmt, va_list ap)
{
        /* Escaping grows a byte to at most six, so the line buffer always holds
         * the whole (already bounded) message. */
        char msg[2048], line[(2048 + 1024) * 6 + 256];
        char values[1024]; /* the fields' values, scrubbed, NUL-separated */
        const char *kv[2 * MAX_FIELDS + 1];
        struct timespec now;
        size_t n, i, used = 0;
        FILE *out = log_sink.stream ? log_sink.stream : stderr;

        if (!nt_log_enabled(level))
                return;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        /* Feed URLs may carry credentials (user:pass@host), and they reach
         * messages in many ways (labels, redirects, curl's errors): the one
         * place all lines pass is where they are taken out. */
        nt_url_scrub_userinfo(msg);
        for (i = 0; fields && fields[i] && fields[i + 1] && i < 2 * MAX_FIELDS;
             i += 2) {
                int w = snprintf(values + used, sizeof(values) - used, "%s",
                                 fields[i + 1]);

                kv[i] = fields[i];
                kv[i + 1] = values + used;
                nt_url_scrub_userinfo(values + used);
                used += w < 0 ? 0 : (size_t)w + 1;
                if (used >= sizeof(values)) {
                        used = sizeof(values) - 1; /* cut: the rest empty */
                        values[used] = '\0';
                }
        }
        kv[i] = NULL;
        clock_gettime(CLOCK_REALTIME, &now);
        n = nt_log_format_line_kv(line, sizeof(line), log_sink.format,
                                  (long long)now.tv_sec * 1000 +
                                      now.tv_nsec / 1000000,
                                  level, component, msg, kv);
        /* A line longer than the buffer is cut; make sure it still ends
         * with a newline so that the next line starts cleanly. */
        if (n >= sizeof(line)) {
                n = sizeof(line) - 1;
                line[n - 1] = '\n';
        }
        fwrite(line, 1, n, out);
        fflush(out);
}

void nt_log(enum nt_log_level level, const char *component, const char *fmt,
            ...)
{
        va_list ap;

        va_start(ap, fmt);
        nt_log_v(level, component, fmt, ap);
        va_end(ap);
}

/* ---- Aggregated warnings -------------------------------------------- */

#define AGG_KIND_MAX 128
#define AGG_MSG_MAX  512

struct agg_kind {
        char kind[AGG_KIND_MAX];
        char last[AGG_MSG_MAX];  /* the last message folded */
        unsigned long long held; /* folded since the last line */
        long long line_ms;       /* when the last line of it was written */
};

struct nt_log_agg {
        enum nt_log_level level;
        const char *component;
        long long interval_ms;
        struct agg_kind *kinds;
        size_t n_kinds, max_kinds;
        unsigned long long total;
};

nt_log_agg_t *nt_log_agg_new(enum nt_log_level level, const char *component,
                             long long interval_ms, size_t max_kinds)
{
        nt_log_agg_t *agg = calloc(1, sizeof(*agg));

        if (!agg)
                return NULL;
        /* One more slot than asked: the shared "other" one. */
        agg->kinds = calloc(max_kinds + 1, sizeof(*agg->kinds));
        if (!agg->kinds) {
                free(agg);
                return NULL;
        }
        agg->level = level;
        agg->component = component;
        agg->interval_ms = interval_ms > 0 ? interval_ms : 1;
        agg->max_kinds = max_kinds;
        return agg;
}

/* The summary line of one kind, and its count reset. */
static void agg_write(nt_log_agg_t *agg, struct agg_kind *k, long long now_ms)
{
        long long secs = (now_ms - k->line_ms + 999) / 1000;

        nt_log(agg->level, agg->component,
               "%s \xC3\x97%llu in the last %lld s; the last: %s", k->kind,
               k->held, secs > 0 ? secs : 1, k->last);
        k->held = 0;
        k->line_ms = now_ms;
}

void nt_log_agg_flush(nt_log_agg_t *agg, long long now_ms, int all)
{
        size_t i;

        if (!agg)
                return;
        for (i = 0; i < agg->n_kinds; i++) {
                struct agg_kind *k = &agg->kinds[i];

                if (k->held > 0 &&
                    (all || now_ms - k->line_ms >= agg->interval_ms))
                        agg_write(agg, k, now_ms);
        }
}

void nt_log_agg_destroy(nt_log_agg_t *agg)
{
        struct timespec now;

        if (!agg)
                return;
        clock_gettime(CLOCK_MONOTONIC, &now);
        nt_log_agg_flush(
            agg, (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000, 1);
        free(agg->kinds);
        free(agg);
}

void nt_log_agg_add(nt_log_agg_t *agg, long long now_ms, const char *kind,
                    const char *fmt, ...)
{
        struct agg_kind *k = NULL;
        char msg[AGG_MSG_MAX];
        va_list ap;
        size_t i;

        if (!agg)
                return;
        agg->total++;
        if (!nt_log_enabled(agg->level))
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        for (i = 0; i < agg->n_kinds && !k; i++)
                if (strncmp(agg->kinds[i].kind, kind, AGG_KIND_MAX - 1) == 0)
                        k = &agg->kinds[i];
        if (!k && agg->n_kinds <= agg->max_kinds) {
                k = &agg->kinds[agg->n_kinds++];
                snprintf(k->kind, sizeof(k->kind), "%s",
                         agg->n_kinds > agg->max_kinds ? "other warnings"
                                                       : kind);
                /* A new kind is written at once. */
                k->line_ms = now_ms - agg->interval_ms;
        } else if (!k) {
                k = &agg->kinds[agg->max_kinds];
        }
        if (k->held == 0 && now_ms - k->line_ms >= agg->interval_ms) {
                /* Quiet for a whole interval: this one goes out as it is. */
                nt_log(agg->level, agg->component, "%s", msg);
                k->line_ms = now_ms;
                return;
        }
        k->held++;
        snprintf(k->last, sizeof(k->last), "%s", msg);
        if (now_ms - k->line_ms >= agg->interval_ms)
                agg_write(agg, k, now_ms);
}

unsigned long long nt_log_agg_total(const nt_log_agg_t *agg)
{
        return agg ? agg->total : 0;
}
