/* `newstap rules check | explain` through the binary: exit codes, the
 * file:line:col of a broken file, the explanation of a text. */
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs newstap with up to 9 arguments; "$RULES" becomes the shipped rules
 * directory and "$FIX/x" a fixture path. */
static int run(char *const args[], char **out, char **err)
{
        static char paths[10][512];
        char *argv[12] = {(char *)nt_test_bin()};
        const char *src = getenv("NT_SOURCE_DIR");
        int i;

        cr_assert(src && *src, "NT_SOURCE_DIR is not set: run through ctest");
        for (i = 0; i < 10 && args[i]; i++) {
                if (!strcmp(args[i], "$RULES")) {
                        snprintf(paths[i], sizeof(paths[i]), "%s/config/rules",
                                 src);
                        argv[i + 1] = paths[i];
                } else if (!strncmp(args[i], "$FIX/", 5)) {
                        argv[i + 1] = (char *)nt_test_fixture(
                            args[i] + 5, paths[i], sizeof(paths[i]));
                } else {
                        argv[i + 1] = args[i];
                }
        }
        argv[i + 1] = NULL;
        return nt_run(argv, NULL, out, err, 30000);
}

struct cli_case {
        char name[40];
        char args[8][80]; /* empty strings end the list */
        int status;
        char out_has[64];
        char err_has[72];
};

ParameterizedTestParameters(it_rules, contract)
{
        static struct cli_case cases[] = {
            {"help", {"rules", "--help"}, 0, "rules check", ""},
            {"check help", {"rules", "check", "--help"}, 0, "explain", ""},
            {"no subcommand", {"rules"}, 2, "", "Usage: newstap rules"},
            {"unknown subcommand",
             {"rules", "frob"},
             2,
             "",
             "unknown subcommand"},
            {"check shipped",
             {"rules", "check", "$RULES"},
             0,
             "OK: 4 files, 3 topics",
             ""},
            {"check broken",
             {"rules", "check", "$FIX/rules/broken.rules"},
             2,
             "",
             "broken.rules:5:26: unknown list \"@PLANTS\""},
            {"check missing",
             {"rules", "check", "/nonexistent.rules"},
             2,
             "",
             "/nonexistent.rules"},
            {"check bad option",
             {"rules", "check", "--frob"},
             2,
             "",
             "unknown option"},
            {"check dir of two",
             {"rules", "check", "$FIX/rules/valid"},
             0,
             "OK: 2 files, 1 topics, 1 entities",
             ""},
            {"explain labels",
             {"rules", "explain", "--rules", "$RULES", "--title",
              "IAEA: Zaporizhzhia nuclear plant lost power"},
             0,
             "topic zaporizhzhia \"Zaporizhzhia nuclear power plant\": "
             "LABELLED",
             ""},
            {"explain without text",
             {"rules", "explain", "--rules", "$RULES"},
             2,
             "",
             "no text"},
            {"explain broken rules",
             {"rules", "explain", "--rules", "$FIX/rules/broken.rules",
              "--text", "x"},
             2,
             "",
             "broken.rules:5:26"},
            {"explain missing file",
             {"rules", "explain", "--rules", "$RULES", "/nonexistent.txt"},
             1,
             "",
             "/nonexistent.txt"},
            {"explain json",
             {"rules", "explain", "--rules", "$RULES", "--json", "--text",
              "Security guarantees for Ukraine: security guarantees matter."},
             0,
             "\"topic\": \"guarantees\"",
             ""},
        };
        return cr_make_param_array(struct cli_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct cli_case *c, it_rules, contract)
{
        char *args[9] = {NULL}, *out, *err;
        int i, status;

        for (i = 0; i < 8 && c->args[i][0]; i++)
                args[i] = c->args[i];
        status = run(args, &out, &err);
        cr_assert_eq(status, c->status, "%s: exit %d, want %d; stderr: %s",
                     c->name, status, c->status, err);
        if (c->out_has[0])
                cr_assert_not_null(strstr(out, c->out_has),
                                   "%s: stdout lacks \"%s\": %s", c->name,
                                   c->out_has, out);
        if (c->err_has[0])
                cr_assert_not_null(strstr(err, c->err_has),
                                   "%s: stderr lacks \"%s\": %s", c->name,
                                   c->err_has, err);
        free(out);
        free(err);
}

Test(it_rules, explain_shows_scores_terms_spans_and_facts)
{
        char *args[] = {"rules",
                        "explain",
                        "--rules",
                        "$RULES",
                        "--title",
                        "US offers Ukraine 15-year security guarantees",
                        "--text",
                        "Zelenskyy asked for security guarantees lasting 50 "
                        "years, not 15 years.",
                        NULL};
        char *out, *err;

        cr_assert_eq(run(args, &out, &err), 0, "%s", err);
        cr_assert_not_null(
            strstr(out, "topic guarantees \"Security guarantees for Ukraine\": "
                        "LABELLED, score"),
            "%s", out);
        cr_assert_not_null(strstr(out, "threshold 1.00"), "%s", out);
        cr_assert_not_null(
            strstr(out, "@SEC_GUARANTEE:\"security guarantee*\""), "%s", out);
        cr_assert_not_null(strstr(out, "guarantees.rules:"),
                           "term locations: %s", out);
        cr_assert_not_null(strstr(out, "title 26-45 \"security guarantees\""),
                           "%s", out);
        /* The deciding sentences, matched words in brackets. */
        cr_assert_not_null(strstr(out, "deciding sentences:"), "%s", out);
        cr_assert_not_null(
            strstr(out, "title \"US offers Ukraine 15-year [security] "
                        "[guarantees]\""),
            "%s", out);
        cr_assert_not_null(strstr(out, "body  \"Zelenskyy asked for [security] "
                                       "[guarantees] lasting 50 years, not 15 "
                                       "years\""),
                           "%s", out);
        cr_assert_not_null(
            strstr(out, "topic territory \"Territorial control in the war\": "
                        "not labelled"),
            "%s", out);
        cr_assert_not_null(strstr(out, "Volodymyr Zelenskyy (person) x1"), "%s",
                           out);
        cr_assert_not_null(strstr(out, "duration 15 year \"15-year\""), "%s",
                           out);
        cr_assert_not_null(strstr(out, "duration 50 year \"50 years\""), "%s",
                           out);
        cr_assert_not_null(strstr(out, "language en"), "%s", out);
        free(out);
        free(err);
}

/* Without the label: the sentence that came closest, with what it held. */
Test(it_rules, explain_shows_the_nearest_miss)
{
        char *args[] = {"rules",
                        "explain",
                        "--rules",
                        "$RULES",
                        "--text",
                        "Kyiv asked for guarantees. Security was on the "
                        "agenda too.",
                        NULL};
        char *out, *err;

        cr_assert_eq(run(args, &out, &err), 0, "%s", err);
        cr_assert_not_null(
            strstr(out, "topic guarantees \"Security guarantees for Ukraine\": "
                        "not labelled"),
            "%s", out);
        cr_assert_not_null(strstr(out, "nearest miss"), "%s", out);
        cr_assert_not_null(strstr(out, "found @G_NOUN:guarantees"), "%s", out);
        cr_assert_not_null(strstr(out, "\"[Kyiv] asked for [guarantees]\""),
                           "%s", out);
        free(out);
        free(err);
}

Test(it_rules, explain_reads_the_body_from_a_file_or_stdin)
{
        char *argv[] = {(char *)nt_test_bin(),
                        "rules",
                        "explain",
                        "--rules",
                        NULL,
                        "-",
                        NULL};
        char dir[512], *out, *err;
        const char *src = getenv("NT_SOURCE_DIR");
        int status;

        snprintf(dir, sizeof(dir), "%s/config/rules", src ? src : ".");
        argv[4] = dir;
        status = nt_run(argv,
                        "Запорізька АЕС знову втратила зовнішнє живлення, "
                        "повідомили у МАГАТЕ.",
                        &out, &err, 30000);
        cr_assert_eq(status, 0, "%s", err);
        cr_assert_not_null(strstr(out, "topic zaporizhzhia "
                                       "\"Zaporizhzhia nuclear power plant\": "
                                       "LABELLED"),
                           "%s", out);
        cr_assert_not_null(strstr(out, "language uk"), "%s", out);
        free(out);
        free(err);
}
