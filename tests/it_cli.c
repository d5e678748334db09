/* The command-line contract of the newstap binary: --help on every
 * command, --version, exit codes 0 / 1 / 2, config check and dump. */
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Criterion may run each case in a fresh process of a position-
 * independent binary, so parameters hold their text, not pointers. */
struct cli_case {
        char args[6][40]; /* empty strings end the list */
        int status;
        char out_has[48]; /* substring of stdout, or empty */
        char err_has[48]; /* substring of stderr, or empty */
};

ParameterizedTestParameters(cli, contract)
{
        static struct cli_case cases[] = {
            {{"--help"}, 0, "Commands:", ""},
            {{"--version"}, 0, "librdkafka 2.", ""},
            {{""}, 2, "", "Usage: newstap COMMAND"},
            {{"no-such-command"}, 2, "", "unknown command"},
            {{"broker", "--help"}, 0, "5 MiB", ""},
            {{"broker", "--brokers", "0"}, 2, "", "1..16"},
            {{"broker", "--topic", "x:zero"}, 2, "", "NAME:PARTITIONS"},
            {{"demo", "--help"}, 0, "dev broker", ""},
            {{"config", "--help"}, 0, "--show-secrets", ""},
            {{"config", "check"}, 0, "configuration OK", ""},
            {{"config", "frobnicate"}, 2, "", "unknown subcommand"},
            {{"config", "check", "-X", "acks"}, 2, "", "expected key=value"},
            {{"config", "check", "-X", "linger.ms=soon"},
             2,
             "",
             "-X: kafka.linger.ms: Invalid value"},
            {{"config", "check", "-c", "/nonexistent.json"},
             2,
             "",
             "/nonexistent.json"},
            {{"config", "keys"}, 0, "NEWSTAP_TOPICS_RAW", ""},
            {{"config", "--bogus-option"}, 2, "", ""},
        };
        return cr_make_param_array(struct cli_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct cli_case *c, cli, contract)
{
        char *argv[8] = {(char *)nt_test_bin()};
        char *out, *err, label[256] = "newstap";
        int i, status;

        for (i = 0; i < 6 && c->args[i][0]; i++) {
                argv[i + 1] = (char *)c->args[i];
                size_t used = strlen(label);
                snprintf(label + used, sizeof(label) - used, " %s", c->args[i]);
        }
        status = nt_run(argv, NULL, &out, &err, 30000);
        cr_assert_eq(status, c->status, "`%s` exited %d, want %d; stderr: %s",
                     label, status, c->status, err);
        if (c->out_has[0])
                cr_assert_not_null(strstr(out, c->out_has),
                                   "`%s`: stdout lacks \"%s\": %s", label,
                                   c->out_has, out);
        if (c->err_has[0])
                cr_assert_not_null(strstr(err, c->err_has),
                                   "`%s`: stderr lacks \"%s\": %s", label,
                                   c->err_has, err);
        free(out);
        free(err);
}

Test(cli, config_dump_layers_env_and_redacts)
{
        char *argv[] = {(char *)nt_test_bin(),   "config", "dump", "-X",
                        "sasl.password=hunter2", NULL};
        char *out, *err;
        json_error_t jerr;
        json_t *dump;
        int status;

        setenv("NEWSTAP_TOPICS_RAW", "from.env", 1);
        status = nt_run(argv, NULL, &out, &err, 30000);
        unsetenv("NEWSTAP_TOPICS_RAW");
        cr_assert_eq(status, 0, "stderr: %s", err);
        cr_assert_null(strstr(out, "hunter2"), "secret leaked: %s", out);
        dump = json_loads(out, 0, &jerr);
        cr_assert_not_null(dump, "dump is not JSON: %s", jerr.text);
        cr_assert_str_eq(json_string_value(json_object_get(
                             json_object_get(dump, "topics"), "raw")),
                         "from.env");
        cr_assert_str_eq(json_string_value(json_object_get(
                             json_object_get(dump, "kafka"), "sasl.password")),
                         "[redacted]");
        json_decref(dump);
        free(out);
        free(err);
}

Test(cli, unknown_env_variable_is_a_config_error)
{
        char *argv[] = {(char *)nt_test_bin(), "config", "check", NULL};
        char *out, *err;
        int status;

        setenv("NEWSTAP_TOPICS_RWA", "typo", 1);
        status = nt_run(argv, NULL, &out, &err, 30000);
        unsetenv("NEWSTAP_TOPICS_RWA");
        cr_assert_eq(status, 2, "stderr: %s", err);
        cr_assert_not_null(strstr(err, "NEWSTAP_TOPICS_RWA"), "%s", err);
        free(out);
        free(err);
}

Test(cli, demo_runs_on_the_dev_broker)
{
        char *argv[] = {(char *)nt_test_bin(), "demo", NULL};
        char *out, *err;
        int status;

        status = nt_run(argv, NULL, &out, &err, 60000);
        cr_assert_eq(status, 0, "demo exited %d: %s", status, err);
        cr_assert_not_null(strstr(out, "dev broker running on 127.0.0.1:"),
                           "%s", out);
        cr_assert_not_null(strstr(out, "created topic news.raw"), "%s", out);
        free(out);
        free(err);
}
