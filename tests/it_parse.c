/* `newstap parse` as a program: exit codes 0 / 1 / 2, the JSON it
 * prints, --articles lines, standard input. */
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Criterion may run each case in a fresh process of a position-
 * independent binary, so parameters hold their text, not pointers. */
struct parse_case {
        char args[5][72]; /* after "parse"; "@name" is a fixture path */
        int status;
        char out_has[48];
        char err_has[48];
};

ParameterizedTestParameters(parse, exit_codes)
{
        static struct parse_case cases[] = {
            {{"--help"}, 0, "--articles", ""},
            {{""}, 2, "", "expected one FILE"},
            {{"--no-such-option", "@rss20-full.xml"}, 2, "", ""},
            {{"@rss20-full.xml", "extra"}, 2, "", "expected one FILE"},
            {{"--fetched", "yesterday", "@rss20-full.xml"},
             2,
             "",
             "not a date"},
            {{"@rss20-full.xml"}, 0, "\"format\": \"rss20\"", ""},
            {{"@rss20-truncated.xml"}, 0, "\"wellformed\": false", ""},
            {{"@atom10-full.xml"}, 0, "\"format\": \"atom10\"", ""},
            {{"@jsonfeed11.json"}, 0, "\"format\": \"jsonfeed11\"", ""},
            {{"@not-a-feed.html"}, 1, "", "not a feed"},
            {{"@billion-laughs.xml"}, 1, "", "entity declarations"},
            {{"/nonexistent/feed.xml"}, 1, "", "/nonexistent/feed.xml"},
            {{"--content-type", "text/xml; charset=koi8-r",
              "@rss20-koi8r-http-charset.xml"},
             0,
             "\"encoding\": \"koi8-r\"",
             ""},
            {{"@rss090.rdf"}, 0, "\"format\": \"rss090\"", ""},
            {{"--content-type", "text/xml", "@rss20-windows-1251.xml"},
             0,
             "\"encoding\": \"windows-1251\"",
             ""},
            {{"@rss20-utf8-labelled-iso-8859-1.xml"}, 0, "Café du Port", ""},
            {{"--articles", "@atom10-media-group-youtube.xml"},
             0,
             "Filmed from the upper deck",
             ""},
            {{"--base-url", "https://site.example/feeds/rss.xml",
              "@rss20-relative-links.xml"},
             0,
             "https://site.example/feeds/stories/42",
             ""},
        };
        return cr_make_param_array(struct parse_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct parse_case *c, parse, exit_codes)
{
        char paths[5][512], rel[128], label[512] = "newstap parse";
        char *argv[8] = {(char *)nt_test_bin(), "parse"};
        char *out, *err;
        int i, n = 2, status;

        for (i = 0; i < 5 && c->args[i][0]; i++) {
                if (c->args[i][0] == '@') {
                        snprintf(rel, sizeof(rel), "feeds/%s", c->args[i] + 1);
                        argv[n++] = (char *)nt_test_fixture(rel, paths[i],
                                                            sizeof(paths[i]));
                } else {
                        argv[n++] = (char *)c->args[i];
                }
                size_t used = strlen(label);
                snprintf(label + used, sizeof(label) - used, " %s", c->args[i]);
        }
        argv[n] = NULL;
        status = nt_run(argv, NULL, &out, &err, 30000);
        cr_assert_eq(status, c->status, "`%s` exited %d, want %d; stderr: %s",
                     label, status, c->status, err);
        if (c->out_has[0])
                cr_assert_not_null(strstr(out, c->out_has),
                                   "`%s`: stdout lacks \"%s\"", label,
                                   c->out_has);
        if (c->err_has[0])
                cr_assert_not_null(strstr(err, c->err_has),
                                   "`%s`: stderr lacks \"%s\": %s", label,
                                   c->err_has, err);
        free(out);
        free(err);
}

Test(parse, articles_are_json_lines)
{
        char path[512];
        char *argv[] = {
            (char *)nt_test_bin(),
            "parse",
            "--articles",
            "--feed-url",
            "https://gazette.example/feed.xml",
            "--fetched",
            "2026-01-07T00:00:00Z",
            (char *)nt_test_fixture("feeds/rss20-full.xml", path, sizeof(path)),
            NULL};
        char *out, *err, *line, *save = NULL;
        json_error_t jerr;
        int status, lines = 0;
        json_t *j;

        status = nt_run(argv, NULL, &out, &err, 30000);
        cr_assert_eq(status, 0, "exit %d: %s", status, err);
        for (line = strtok_r(out, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                j = json_loads(line, 0, &jerr);
                cr_assert_not_null(j, "line %d is not JSON: %s", lines + 1,
                                   line);
                nt_test_assert_json_str(j, "schema", "newstap.article/1");
                cr_assert_str_eq(json_string_value(json_object_get(
                                     json_object_get(j, "feed"), "url")),
                                 "https://gazette.example/feed.xml");
                nt_test_assert_json_str(j, "fetched", "2026-01-07T00:00:00Z");
                cr_assert_eq(
                    strlen(json_string_value(json_object_get(j, "id"))), 32);
                json_decref(j);
                lines++;
        }
        cr_assert_eq(lines, 2, "one line per entry, got %d", lines);
        free(out);
        free(err);
}

Test(parse, reads_standard_input)
{
        char *argv[] = {(char *)nt_test_bin(), "parse", "--compact", "-", NULL};
        char *out, *err;
        int status;

        status = nt_run(argv,
                        "<rss version=\"2.0\"><channel><title>From stdin"
                        "</title><item><title>x</title></item></channel>"
                        "</rss>",
                        &out, &err, 30000);
        cr_assert_eq(status, 0, "exit %d: %s", status, err);
        cr_assert_not_null(strstr(out, "\"title\":\"From stdin\""), "%s", out);
        cr_assert_null(strchr(out, '\n') == out + strlen(out) - 1
                           ? NULL
                           : strchr(out, '\n'),
                       "--compact prints one line: %s", out);
        free(out);
        free(err);
}

Test(parse, empty_standard_input_is_nothing_recoverable)
{
        char *argv[] = {(char *)nt_test_bin(), "parse", "-", NULL};
        char *out, *err;
        int status;

        status = nt_run(argv, "", &out, &err, 30000);
        cr_assert_eq(status, 1, "exit %d", status);
        cr_assert_str_eq(out, "", "nothing on stdout: %s", out);
        free(out);
        free(err);
}

/* Cuts by a limit are flagged where they happened: the entry that lost
 * its field says so in the JSON, and --articles says it on stderr (its
 * lines have no room for it). */
static void assert_entry_cut(const char *out, size_t entry, const char *cut)
{
        json_error_t jerr;
        json_t *j = json_loads(out, 0, &jerr), *cuts;
        size_t i;
        bool found = false;

        cr_assert_not_null(j, "not JSON: %s", jerr.text);
        cr_assert(json_is_true(json_object_get(j, "truncated")),
                  "the feed is flagged truncated");
        cuts = json_object_get(
            json_array_get(json_object_get(j, "entries"), entry), "cuts");
        for (i = 0; i < json_array_size(cuts); i++)
                found =
                    found || strcmp(json_string_value(json_array_get(cuts, i)),
                                    cut) == 0;
        cr_assert(found, "entry %zu is not flagged as cut by %s", entry, cut);
        json_decref(j);
}

/* Parses SRC (a path, or "-" for DOC on standard input) as JSON, whose
 * first entry must be flagged as cut by CUT, then with --articles, which
 * must say "cut by the CUT limit" on stderr. Returns that stderr; the
 * caller frees it. */
static char *assert_cut_flagged_both_ways(const char *src, const char *doc,
                                          const char *cut)
{
        char *argv[] = {(char *)nt_test_bin(), "parse", (char *)src, NULL,
                        NULL};
        char *out, *err, want[64];
        int status;

        status = nt_run(argv, doc, &out, &err, 60000);
        cr_assert_eq(status, 0, "exit %d: %s", status, err);
        assert_entry_cut(out, 0, cut);
        free(out);
        free(err);
        argv[2] = "--articles";
        argv[3] = (char *)src;
        status = nt_run(argv, doc, &out, &err, 60000);
        cr_assert_eq(status, 0, "--articles: exit %d: %s", status, err);
        free(out);
        snprintf(want, sizeof(want), "cut by the %s limit", cut);
        cr_assert_not_null(strstr(err, want),
                           "--articles is silent about the cut: %s", err);
        return err;
}

Test(parse, deep_description_is_flagged_not_silent)
{
        char path[512], *err;

        err = assert_cut_flagged_both_ways(
            nt_test_fixture("feeds/rss20-deep-description.xml", path,
                            sizeof(path)),
            NULL, "depth");
        cr_assert_not_null(strstr(err, "nested deeper than 64"), "%s", err);
        free(err);
}

Test(parse, field_cap_is_flagged_not_silent)
{
        size_t big = ((size_t)1 << 20) + 4096, off;
        char *doc = malloc(big + 512);

        cr_assert_not_null(doc);
        off = (size_t)snprintf(doc, 512,
                               "<rss version=\"2.0\"><channel><title>T"
                               "</title><item><title>Big</title>"
                               "<description>");
        memset(doc + off, 'a', big);
        off += big;
        snprintf(doc + off, 512, "</description></item></channel></rss>");
        free(assert_cut_flagged_both_ways("-", doc, "field"));
        free(doc);
}
