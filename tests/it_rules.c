/* `newstap rules check | explain` through the binary: exit codes, the
 * file:line:col of a broken file, the explanation of a text. */
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The command line of newstap with up to 9 arguments in argv (12
 * slots); "$RULES" becomes the shipped rules directory and "$FIX/x" a
 * fixture path. */
static void command_line(char *const args[], char *argv[])
{
        static char paths[10][512];
        int i;

        argv[0] = (char *)nt_test_bin();
        for (i = 0; i < 10 && args[i]; i++) {
                if (!strcmp(args[i], "$RULES")) {
                        argv[i + 1] = (char *)nt_test_source(
                            "config/rules", paths[i], sizeof(paths[i]));
                } else if (!strncmp(args[i], "$FIX/", 5)) {
                        argv[i + 1] = (char *)nt_test_fixture(
                            args[i] + 5, paths[i], sizeof(paths[i]));
                } else {
                        argv[i + 1] = args[i];
                }
        }
        argv[i + 1] = NULL;
}

/* Runs the command line of `args` with `input` on stdin (may be NULL)
 * and checks that it exits 0 and prints every string of `want`. */
static void expect_output(char *const args[], const char *input,
                          const char *const want[], const char *label)
{
        char *argv[12], *out, *err;
        int status;

        command_line(args, argv);
        status = nt_run(argv, input, &out, &err, 30000);
        cr_assert_eq(status, 0, "%s: exit %d; stderr: %s", label, status, err);
        nt_test_assert_has_all(out, want, label);
        free(out);
        free(err);
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
        char *args[9] = {NULL}, *argv[12];
        int i;

        for (i = 0; i < 8 && c->args[i][0]; i++)
                args[i] = c->args[i];
        command_line(args, argv);
        nt_test_expect_run(argv, c->name, c->status, c->out_has, c->err_has);
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
        static const char *const want[] = {
            "topic guarantees \"Security guarantees for Ukraine\": "
            "LABELLED, score",
            "threshold 1.00", "@SEC_GUARANTEE:\"security guarantee*\"",
            /* Where the terms are defined. */
            "guarantees.rules:", "title 26-45 \"security guarantees\"",
            /* The deciding sentences, matched words in brackets. */
            "deciding sentences:",
            "title \"US offers Ukraine 15-year [security] [guarantees]\"",
            "body  \"Zelenskyy asked for [security] [guarantees] lasting 50 "
            "years, not 15 years\"",
            "topic territory \"Territorial control in the war\": "
            "not labelled",
            "Volodymyr Zelenskyy (person) x1", "duration 15 year \"15-year\"",
            "duration 50 year \"50 years\"", "language en", NULL};

        expect_output(args, NULL, want, "explain");
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
        static const char *const want[] = {
            "topic guarantees \"Security guarantees for Ukraine\": "
            "not labelled",
            "nearest miss", "found @G_NOUN:guarantees",
            "\"[Kyiv] asked for [guarantees]\"", NULL};

        expect_output(args, NULL, want, "nearest miss");
}

Test(it_rules, explain_reads_the_body_from_a_file_or_stdin)
{
        char *args[] = {"rules", "explain", "--rules", "$RULES", "-", NULL};
        static const char *const want[] = {
            "topic zaporizhzhia \"Zaporizhzhia nuclear power plant\": "
            "LABELLED",
            "language uk", NULL};

        expect_output(args,
                      "Запорізька АЕС знову втратила зовнішнє живлення, "
                      "повідомили у МАГАТЕ.",
                      want, "body from stdin");
}
