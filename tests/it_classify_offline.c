/* `newstap classify --offline` through the binary: article JSON lines in,
 * enriched events out with the labels the shipped rules give; bad lines
 * reported on stderr with their number while the others still come out;
 * mapped input; a broken rules file refused with its position. */
#include "support/archive.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fixture file, whole; caller frees. */
static char *slurp(const char *name)
{
        char path[512];

        return nt_test_slurp(nt_test_fixture(name, path, sizeof(path)), NULL);
}

/* Runs classify --offline on `input` with the shipped rules. */
static int offline(const char *input, char **out, char **err)
{
        char rules[512];
        const char *src = getenv("NT_SOURCE_DIR");
        char *argv[] = {(char *)nt_test_bin(),
                        "classify",
                        "--offline",
                        "--rules",
                        rules,
                        NULL};

        cr_assert(src, "NT_SOURCE_DIR is not set: run through ctest");
        snprintf(rules, sizeof(rules), "%s/config/rules", src);
        return nt_run(argv, input, out, err, 60000);
}

/* The topics of an event's labels, comma-separated. */
static void label_list(json_t *ev, char *buf, size_t size)
{
        json_t *label;
        size_t i, n = 0;

        buf[0] = '\0';
        json_array_foreach(json_object_get(ev, "labels"), i, label) n +=
            (size_t)snprintf(
                buf + n, size - n, "%s%s", i ? "," : "",
                json_string_value(json_object_get(label, "topic")));
}

Test(it_classify_offline, good_and_bad_lines)
{
        static const struct {
                const char *id, *labels, *language;
        } want[] = {
            {"000000000000000000000000c1a55001", "guarantees", "en"},
            {"000000000000000000000000c1a55002", "territory", "en"},
            {"000000000000000000000000c1a55003", "zaporizhzhia", "uk"},
            {"000000000000000000000000c1a55007", "", "en"},
        };
        char *input = slurp("classify/mixed.jsonl");
        char *out, *err, *line, *save = NULL, labels[128];
        size_t n = 0;
        int status = offline(input, &out, &err);

        cr_assert_eq(status, 1, "exit 1 when a line was bad, got %d:\n%s",
                     status, err);
        for (line = strtok_r(out, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                json_error_t jerr;
                json_t *ev = json_loads(line, 0, &jerr);
                json_t *art;

                cr_assert_not_null(ev, "output line %zu is not JSON: %s", n,
                                   jerr.text);
                cr_assert_lt(n, 4, "more events than good lines");
                art = json_object_get(ev, "article");
                cr_assert_str_eq(
                    json_string_value(json_object_get(ev, "schema")),
                    "newstap.enriched/1");
                cr_assert_str_eq(json_string_value(json_object_get(art, "id")),
                                 want[n].id, "event %zu", n);
                label_list(ev, labels, sizeof(labels));
                cr_assert_str_eq(labels, want[n].labels, "labels of %s",
                                 want[n].id);
                cr_assert_str_eq(
                    json_string_value(json_object_get(ev, "language")),
                    want[n].language, "language of %s", want[n].id);
                cr_assert_not_null(strstr(
                    input, json_string_value(json_object_get(art, "title"))));
                json_decref(ev);
                n++;
        }
        cr_assert_eq(n, 4, "4 good lines, %zu events", n);
        cr_assert_not_null(strstr(err, "stdin:4: not_json"), "%s", err);
        cr_assert_not_null(strstr(err, "stdin:5: not_article"), "%s", err);
        cr_assert_null(strstr(err, "stdin:6"), "a blank line is no error");
        cr_assert_not_null(strstr(err, "2 of 7 line(s)"), "%s", err);
        free(out);
        free(err);
        free(input);
}

Test(it_classify_offline, all_good_exits_0)
{
        char *input = slurp("classify/mixed.jsonl");
        char *cut = strstr(input, "\n{\"schema\":\"newstap.article/1\", ");
        char *out, *err;
        int status;

        cr_assert_not_null(cut);
        cut[1] = '\0'; /* the first three lines only */
        status = offline(input, &out, &err);
        cr_assert_eq(status, 0, "exit %d:\n%s", status, err);
        cr_assert_str_eq(err, "");
        free(out);
        free(err);
        free(input);
}

/* The article's bytes come out exactly as they went in. */
Test(it_classify_offline, article_bytes_verbatim)
{
        char *input = slurp("classify/mixed.jsonl");
        char *nl = strchr(input, '\n');
        char *out, *err;

        *nl = '\0';
        cr_assert_eq(offline(input, &out, &err), 0, "%s", err);
        cr_assert_not_null(strstr(out, input),
                           "the first article is carried verbatim");
        free(out);
        free(err);
        free(input);
}

Test(it_classify_offline, mapped_input)
{
        char *input = slurp("classify/mapped.jsonl");
        char *out, *err;
        json_t *ev;

        setenv("NEWSTAP_CONSUMER_INPUT", "mapped", 1);
        setenv("NEWSTAP_CONSUMER_MAP_TITLE", "data.headline", 1);
        setenv("NEWSTAP_CONSUMER_MAP_BODY", "data.text", 1);
        setenv("NEWSTAP_CONSUMER_MAP_URL", "data.link", 1);
        setenv("NEWSTAP_CONSUMER_MAP_PUBLISHED", "data.ts", 1);
        cr_assert_eq(offline(input, &out, &err), 0, "%s", err);
        ev = json_loads(out, 0, NULL);
        cr_assert_not_null(ev, "%s", out);
        cr_assert_str_eq(json_string_value(json_object_get(
                             json_object_get(ev, "article"), "published")),
                         "2026-01-05T09:00:00Z");
        cr_assert_str_eq(
            json_string_value(json_object_get(
                json_array_get(json_object_get(ev, "labels"), 0), "topic")),
            "zaporizhzhia");
        json_decref(ev);
        free(out);
        free(err);
        free(input);
}

Test(it_classify_offline, broken_rules_exit_2)
{
        char rules[512];
        char *argv[] = {(char *)nt_test_bin(),
                        "classify",
                        "--offline",
                        "--rules",
                        rules,
                        NULL};
        char *out, *err;
        int status;

        nt_test_fixture("rules/broken.rules", rules, sizeof(rules));
        status = nt_run(argv, "", &out, &err, 30000);
        cr_assert_eq(status, 2, "exit %d", status);
        cr_assert_not_null(strstr(err, "broken.rules:5:"), "%s", err);
        free(out);
        free(err);
}

Test(it_classify_offline, help)
{
        char *argv[] = {(char *)nt_test_bin(), "classify", "--help", NULL};
        char *out, *err;

        cr_assert_eq(nt_run(argv, NULL, &out, &err, 30000), 0);
        cr_assert_not_null(strstr(out, "--offline"));
        cr_assert_not_null(strstr(out, "consumer.delivery"));
        free(out);
        free(err);
}
