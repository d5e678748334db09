/* Log line formats: logfmt and JSON lines, escaping, levels. */
#include "common/err.h"
#include "common/log.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* 2026-01-05T10:00:00.123Z */
static const long long ts = 1767607200123LL;

/* A string member a JSON log line must have. */
struct member {
        const char *name, *value;
};

/* Fails unless `line` is a JSON object with each member of want (ended
 * by a NULL name). */
static void assert_json_line(const char *line, const struct member *want)
{
        json_error_t jerr;
        json_t *obj = json_loads(line, 0, &jerr);
        size_t i;

        cr_assert_not_null(obj, "not JSON: %s (%s)", line, jerr.text);
        for (i = 0; want[i].name; i++) {
                const char *got =
                    json_string_value(json_object_get(obj, want[i].name));

                cr_assert_not_null(got, "no string %s in %s", want[i].name,
                                   line);
                cr_assert_str_eq(got, want[i].value, "%s in %s", want[i].name,
                                 line);
        }
        json_decref(obj);
}

Test(log, logfmt_line)
{
        char line[512];

        nt_log_format_line(line, sizeof(line), NT_LOG_LOGFMT, ts, NT_LOG_WARN,
                           "producer", "feed failed");
        cr_assert_str_eq(line, "ts=2026-01-05T10:00:00.123Z level=warn "
                               "component=producer msg=\"feed failed\"\n");
}

Test(log, logfmt_escapes_quotes_and_newlines)
{
        char line[512];

        nt_log_format_line(line, sizeof(line), NT_LOG_LOGFMT, ts, NT_LOG_ERROR,
                           "a b", "say \"hi\"\nnext\x01");
        cr_assert_str_eq(line, "ts=2026-01-05T10:00:00.123Z level=error "
                               "component=\"a b\" "
                               "msg=\"say \\\"hi\\\"\\nnext\\u0001\"\n");
}

/* Details as fields of their own: bare when they can be, quoted when
 * not; members in JSON. */
Test(log, fields_after_the_message)
{
        const char *fields[] = {
            "feed",      "Wire", "url", "https://wire.example/a b",
            "partition", "3",    NULL};
        char line[512];

        nt_log_format_line_kv(line, sizeof(line), NT_LOG_LOGFMT, ts,
                              NT_LOG_WARN, "producer", "feed failed", fields);
        cr_assert_str_eq(line, "ts=2026-01-05T10:00:00.123Z level=warn "
                               "component=producer msg=\"feed failed\" "
                               "feed=Wire url=\"https://wire.example/a b\" "
                               "partition=3\n");
        nt_log_format_line_kv(line, sizeof(line), NT_LOG_JSON, ts, NT_LOG_WARN,
                              "producer", "feed failed", fields);
        assert_json_line(
            line, (const struct member[]){{"url", "https://wire.example/a b"},
                                          {"partition", "3"},
                                          {NULL, NULL}});
}

Test(log, json_line_parses_back)
{
        char line[512];

        nt_log_format_line(line, sizeof(line), NT_LOG_JSON, ts, NT_LOG_INFO,
                           "rdkafka", "quote \" backslash \\ tab\t");
        assert_json_line(line, (const struct member[]){
                                   {"msg", "quote \" backslash \\ tab\t"},
                                   {"level", "info"},
                                   {"ts", "2026-01-05T10:00:00.123Z"},
                                   {"component", "rdkafka"},
                                   {NULL, NULL}});
}

Test(log, truncates_like_snprintf)
{
        char line[16];
        size_t need;

        need = nt_log_format_line(line, sizeof(line), NT_LOG_LOGFMT, ts,
                                  NT_LOG_INFO, "c", "a long message");
        cr_assert_gt(need, sizeof(line), "the full length is reported");
        cr_assert_eq(strlen(line), sizeof(line) - 1, "output is terminated");
}

/* Logging into memory for one test: `buf` holds what was written once
 * `mem` is flushed or closed. */
struct captured {
        char *buf;
        size_t len;
        FILE *mem;
};

static void capture_start(struct captured *c, enum nt_log_level level)
{
        c->buf = NULL;
        c->len = 0;
        c->mem = open_memstream(&c->buf, &c->len);
        cr_assert_not_null(c->mem, "open_memstream");
        nt_log_setup(level, NT_LOG_LOGFMT, c->mem);
}

/* After fclose(c->mem): logging back to stderr, the text freed. */
static void capture_end(struct captured *c)
{
        nt_log_setup(NT_LOG_INFO, NT_LOG_LOGFMT, NULL);
        free(c->buf);
}

Test(log, levels_filter_and_parse)
{
        enum nt_log_level lvl;
        enum nt_log_format fmt;
        struct captured c;

        cr_assert_eq(nt_log_level_parse("debug", &lvl), NT_OK);
        cr_assert_eq(lvl, NT_LOG_DEBUG);
        cr_assert_eq(nt_log_level_parse("WARNING", &lvl), NT_OK);
        cr_assert_eq(lvl, NT_LOG_WARN);
        cr_assert_eq(nt_log_level_parse("loud", &lvl), NT_ERR_INVALID);
        cr_assert_eq(nt_log_format_parse("json", &fmt), NT_OK);
        cr_assert_eq(nt_log_format_parse("xml", &fmt), NT_ERR_INVALID);

        capture_start(&c, NT_LOG_WARN);
        nt_log(NT_LOG_INFO, "t", "hidden");
        nt_log(NT_LOG_ERROR, "t", "shown %d", 7);
        fclose(c.mem);
        cr_assert_null(strstr(c.buf, "hidden"), "info is below warn: %s",
                       c.buf);
        cr_assert_not_null(strstr(c.buf, "msg=\"shown 7\""), "got: %s", c.buf);
        capture_end(&c);
}

/* Lines of the memory stream that contain `what`. */
static int count_lines(const char *buf, const char *what)
{
        const char *p = buf;
        int n = 0;

        while (p && *p) {
                const char *end = strchr(p, '\n');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                const char *hit = strstr(p, what);

                if (hit && hit < p + len)
                        n++;
                p = end ? end + 1 : NULL;
        }
        return n;
}

/* Logging captured into c at level info, and an aggregator of warnings
 * of `component` over `interval_ms`, keeping at most `kinds` kinds. */
static nt_log_agg_t *capture_agg(struct captured *c, const char *component,
                                 long long interval_ms, size_t kinds)
{
        nt_log_agg_t *agg;

        capture_start(c, NT_LOG_INFO);
        agg = nt_log_agg_new(NT_LOG_WARN, component, interval_ms, kinds);
        cr_assert_not_null(agg);
        return agg;
}

Test(log, aggregated_warnings_one_line_per_interval_per_kind)
{
        struct captured c;
        nt_log_agg_t *agg;
        int i;

        agg = capture_agg(&c, "producer", 10000, 4);
        /* 5,594 failures of one kind and 3 of another within 9 s. */
        for (i = 0; i < 5594; i++)
                nt_log_agg_add(agg, 1000 + i, "delivery failed (timed out)",
                               "delivery of a%d failed (timed out)", i);
        for (i = 0; i < 3; i++)
                nt_log_agg_add(agg, 2000 + i, "delivery failed (refused)",
                               "delivery of b%d failed (refused)", i);
        nt_log_agg_flush(agg, 9000, 0);
        fflush(c.mem);
        cr_assert_eq(count_lines(c.buf, "level=warn"), 2,
                     "only the first of each kind so far: %s", c.buf);
        cr_assert_not_null(strstr(c.buf, "delivery of a0 failed"), "%s", c.buf);
        /* The interval passes: one summary line per kind. */
        nt_log_agg_flush(agg, 12000, 0);
        fflush(c.mem);
        cr_assert_eq(count_lines(c.buf, "level=warn"), 4, "%s", c.buf);
        cr_assert_eq(count_lines(c.buf, "delivery failed (timed out) \xC3\x97"
                                        "5593 in the last 11 s; the last: "
                                        "delivery of a5593 failed"),
                     1, "summary of the first kind: %s", c.buf);
        cr_assert_eq(count_lines(c.buf, "delivery failed (refused) \xC3\x97"
                                        "2 in the last"),
                     1, "summary of the second kind: %s", c.buf);
        /* Nothing held: a flush writes nothing; after a quiet interval
         * the next one goes out at once, as it is. */
        nt_log_agg_flush(agg, 30000, 0);
        nt_log_agg_add(agg, 30000, "delivery failed (timed out)",
                       "delivery of c failed (timed out)");
        fflush(c.mem);
        cr_assert_eq(count_lines(c.buf, "level=warn"), 5, "%s", c.buf);
        cr_assert_not_null(strstr(c.buf, "delivery of c failed"), "%s", c.buf);
        /* What is held at the end is written by destroy. */
        nt_log_agg_add(agg, 30001, "delivery failed (timed out)",
                       "delivery of d failed (timed out)");
        cr_assert_eq(nt_log_agg_total(agg), 5594 + 3 + 2);
        nt_log_agg_destroy(agg);
        fclose(c.mem);
        cr_assert_eq(count_lines(c.buf, "level=warn"), 6, "%s", c.buf);
        cr_assert_not_null(strstr(c.buf, "the last: delivery of d failed"),
                           "%s", c.buf);
        capture_end(&c);
}

Test(log, aggregated_warnings_bound_the_kinds)
{
        struct captured c;
        nt_log_agg_t *agg;
        int i;

        agg = capture_agg(&c, "t", 10000, 2);
        for (i = 0; i < 1000; i++)
                nt_log_agg_add(agg, 1000, i % 2 ? "odd" : "even", "kind %d", i);
        for (i = 0; i < 1000; i++) {
                char kind[32];

                snprintf(kind, sizeof(kind), "kind %d", i);
                nt_log_agg_add(agg, 1000, kind, "many %d", i);
        }
        nt_log_agg_destroy(agg);
        fclose(c.mem);
        /* odd, even, "other warnings": a first line and a summary each. */
        cr_assert_eq(count_lines(c.buf, "level=warn"), 6, "%s", c.buf);
        cr_assert_eq(count_lines(c.buf, "other warnings \xC3\x97"
                                        "999"),
                     1, "%s", c.buf);
        capture_end(&c);
}
