/* Log line formats: logfmt and JSON lines, escaping, levels. */
#include "common/err.h"
#include "common/log.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* 2026-01-05T10:00:00.123Z */
static const long long ts = 1767607200123LL;

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

Test(log, json_line_parses_back)
{
        char line[512];
        json_error_t jerr;
        json_t *obj;

        nt_log_format_line(line, sizeof(line), NT_LOG_JSON, ts, NT_LOG_INFO,
                           "rdkafka", "quote \" backslash \\ tab\t");
        obj = json_loads(line, 0, &jerr);
        cr_assert_not_null(obj, "not JSON: %s (%s)", line, jerr.text);
        cr_assert_str_eq(json_string_value(json_object_get(obj, "msg")),
                         "quote \" backslash \\ tab\t");
        cr_assert_str_eq(json_string_value(json_object_get(obj, "level")),
                         "info");
        cr_assert_str_eq(json_string_value(json_object_get(obj, "ts")),
                         "2026-01-05T10:00:00.123Z");
        cr_assert_str_eq(json_string_value(json_object_get(obj, "component")),
                         "rdkafka");
        json_decref(obj);
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

Test(log, levels_filter_and_parse)
{
        enum nt_log_level lvl;
        enum nt_log_format fmt;
        char *buf = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&buf, &len);

        cr_assert_eq(nt_log_level_parse("debug", &lvl), NT_OK);
        cr_assert_eq(lvl, NT_LOG_DEBUG);
        cr_assert_eq(nt_log_level_parse("WARNING", &lvl), NT_OK);
        cr_assert_eq(lvl, NT_LOG_WARN);
        cr_assert_eq(nt_log_level_parse("loud", &lvl), NT_ERR_INVALID);
        cr_assert_eq(nt_log_format_parse("json", &fmt), NT_OK);
        cr_assert_eq(nt_log_format_parse("xml", &fmt), NT_ERR_INVALID);

        nt_log_setup(NT_LOG_WARN, NT_LOG_LOGFMT, mem);
        nt_log(NT_LOG_INFO, "t", "hidden");
        nt_log(NT_LOG_ERROR, "t", "shown %d", 7);
        fclose(mem);
        cr_assert_null(strstr(buf, "hidden"), "info is below warn: %s", buf);
        cr_assert_not_null(strstr(buf, "msg=\"shown 7\""), "got: %s", buf);
        free(buf);
        nt_log_setup(NT_LOG_INFO, NT_LOG_LOGFMT, NULL);
}
