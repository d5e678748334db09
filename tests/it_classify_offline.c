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

/* One run of `classify --offline` with the shipped rules on a fixture
 * file (which a test may cut before the run). */
struct run {
        char *input; /* the fixture, whole */
        char *out, *err;
        int status;
};

/* The input of a run: a fixture file, or nothing (fixture NULL). */
static void run_load(struct run *r, const char *fixture)
{
        char path[512];

        memset(r, 0, sizeof(*r));
        r->input = fixture
                       ? nt_test_slurp(
                             nt_test_fixture(fixture, path, sizeof(path)), NULL)
                       : strdup("");
        cr_assert_not_null(r->input, "%s", fixture ? fixture : "no input");
}

/* Runs classify --offline with the rules at `rules`, NULL: the shipped. */
static void run_offline(struct run *r, const char *rules)
{
        char shipped[512];
        char *argv[] = {(char *)nt_test_bin(), "classify",
                        "--offline",           "--rules",
                        (char *)rules,         NULL};

        if (!rules)
                argv[4] = (char *)nt_test_source("config/rules", shipped,
                                                 sizeof(shipped));
        r->status = nt_run(argv, r->input, &r->out, &r->err, 60000);
}

static void run_free(struct run *r)
{
        free(r->out);
        free(r->err);
        free(r->input);
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
        static const char *const reported[] = {"stdin:4: not_json",
                                               "stdin:5: not_article",
                                               "2 of 7 line(s)", NULL};
        struct run r;
        char *line, *save = NULL, labels[128];
        size_t n = 0;

        run_load(&r, "classify/mixed.jsonl");
        run_offline(&r, NULL);
        cr_assert_eq(r.status, 1, "exit 1 when a line was bad, got %d:\n%s",
                     r.status, r.err);
        for (line = strtok_r(r.out, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                json_error_t jerr;
                json_t *ev = json_loads(line, 0, &jerr);
                json_t *art;

                cr_assert_not_null(ev, "output line %zu is not JSON: %s", n,
                                   jerr.text);
                cr_assert_lt(n, 4, "more events than good lines");
                art = json_object_get(ev, "article");
                nt_test_assert_json_str(ev, "schema", "newstap.enriched/1");
                cr_assert_str_eq(json_string_value(json_object_get(art, "id")),
                                 want[n].id, "event %zu", n);
                label_list(ev, labels, sizeof(labels));
                cr_assert_str_eq(labels, want[n].labels, "labels of %s",
                                 want[n].id);
                cr_assert_str_eq(
                    json_string_value(json_object_get(ev, "language")),
                    want[n].language, "language of %s", want[n].id);
                cr_assert_not_null(strstr(
                    r.input, json_string_value(json_object_get(art, "title"))));
                json_decref(ev);
                n++;
        }
        cr_assert_eq(n, 4, "4 good lines, %zu events", n);
        nt_test_assert_has_all(r.err, reported, "stderr");
        cr_assert_null(strstr(r.err, "stdin:6"), "a blank line is no error");
        run_free(&r);
}

Test(it_classify_offline, all_good_exits_0)
{
        struct run r;
        char *cut;

        run_load(&r, "classify/mixed.jsonl");
        cut = strstr(r.input, "\n{\"schema\":\"newstap.article/1\", ");
        cr_assert_not_null(cut);
        cut[1] = '\0'; /* the first three lines only */
        run_offline(&r, NULL);
        cr_assert_eq(r.status, 0, "exit %d:\n%s", r.status, r.err);
        cr_assert_str_eq(r.err, "");
        run_free(&r);
}

/* The article's bytes come out exactly as they went in. */
Test(it_classify_offline, article_bytes_verbatim)
{
        struct run r;

        run_load(&r, "classify/mixed.jsonl");
        *strchr(r.input, '\n') = '\0';
        run_offline(&r, NULL);
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert_not_null(strstr(r.out, r.input),
                           "the first article is carried verbatim");
        run_free(&r);
}

Test(it_classify_offline, mapped_input)
{
        struct run r;
        json_t *ev;

        setenv("NEWSTAP_CONSUMER_INPUT", "mapped", 1);
        setenv("NEWSTAP_CONSUMER_MAP_TITLE", "data.headline", 1);
        setenv("NEWSTAP_CONSUMER_MAP_BODY", "data.text", 1);
        setenv("NEWSTAP_CONSUMER_MAP_URL", "data.link", 1);
        setenv("NEWSTAP_CONSUMER_MAP_PUBLISHED", "data.ts", 1);
        run_load(&r, "classify/mapped.jsonl");
        run_offline(&r, NULL);
        cr_assert_eq(r.status, 0, "%s", r.err);
        ev = json_loads(r.out, 0, NULL);
        cr_assert_not_null(ev, "%s", r.out);
        cr_assert_str_eq(nt_test_json_str(ev, "article", "published"),
                         "2026-01-05T09:00:00Z");
        cr_assert_str_eq(
            json_string_value(json_object_get(
                json_array_get(json_object_get(ev, "labels"), 0), "topic")),
            "zaporizhzhia");
        json_decref(ev);
        run_free(&r);
}

Test(it_classify_offline, broken_rules_exit_2)
{
        char rules[512];
        struct run r;

        run_load(&r, NULL);
        run_offline(
            &r, nt_test_fixture("rules/broken.rules", rules, sizeof(rules)));
        cr_assert_eq(r.status, 2, "exit %d", r.status);
        cr_assert_not_null(strstr(r.err, "broken.rules:5:"), "%s", r.err);
        run_free(&r);
}

Test(it_classify_offline, help)
{
        char *argv[] = {(char *)nt_test_bin(), "classify", "--help", NULL};
        char *out, *err;
        static const char *const want[] = {"--offline", "consumer.delivery",
                                           NULL};

        cr_assert_eq(nt_run(argv, NULL, &out, &err, 30000), 0);
        nt_test_assert_has_all(out, want, "classify --help");
        free(out);
        free(err);
}
