/* The command-line contract of the newstap binary: --help on every
 * command, --version, exit codes 0 / 1 / 2, config check and dump,
 * extract's JSON. */
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
        char err_has[64]; /* substring of stderr, or empty */
        char env[40];     /* NAME=VALUE set for the run, or empty */
};

ParameterizedTestParameters(cli, contract)
{
        static struct cli_case cases[] = {
            {{"--help"}, 0, "Commands:", "", ""},
            {{"--version"}, 0, "librdkafka 2.", "", ""},
            {{""}, 2, "", "Usage: newstap COMMAND", ""},
            {{"no-such-command"}, 2, "", "unknown command", ""},
            {{"broker", "--help"}, 0, "5 MiB", "", ""},
            {{"broker", "--brokers", "0"}, 2, "", "1..16", ""},
            {{"broker", "--topic", "x:zero"}, 2, "", "NAME:PARTITIONS", ""},
            {{"replay", "--topic", "news raw", "-"},
             2,
             "",
             "--topic: topics.raw: \"news raw\" cannot name",
             ""},
            {{"config", "check"},
             2,
             "",
             "topics.dlq: \"..\" cannot name a Kafka topic",
             "NEWSTAP_TOPICS_DLQ=.."},
            {{"demo", "--help"}, 0, "dev broker", "", ""},
            {{"config", "--help"}, 0, "--show-secrets", "", ""},
            {{"config", "check"}, 0, "configuration OK", "", ""},
            {{"config", "frobnicate"}, 2, "", "unknown subcommand", ""},
            {{"config", "check", "-X", "acks"},
             2,
             "",
             "expected key=value",
             ""},
            {{"config", "check", "-X", "linger.ms=soon"},
             2,
             "",
             "-X: kafka.linger.ms: Invalid value",
             ""},
            {{"config", "check", "-c", "/nonexistent.json"},
             2,
             "",
             "/nonexistent.json",
             ""},
            {{"config", "keys"}, 0, "NEWSTAP_TOPICS_RAW", "", ""},
            {{"config", "--bogus-option"}, 2, "", "", ""},
            /* An unknown variable is a configuration error. */
            {{"config", "check"},
             2,
             "",
             "NEWSTAP_TOPICS_RWA",
             "NEWSTAP_TOPICS_RWA=typo"},
            /* A bare port is refused by check as by the daemon. */
            {{"config", "check"},
             2,
             "",
             "environment NEWSTAP_METRICS_LISTEN: metrics.listen: ",
             "NEWSTAP_METRICS_LISTEN=19484"},
            {{"extract", "--help"}, 0, "articleBody", "", ""},
            {{"extract"}, 2, "", "expected one FILE", ""},
            {{"extract", "/nonexistent.html"}, 1, "", "/nonexistent.html", ""},
            {{"extract", "--bogus-option"}, 2, "", "--help", ""},
        };
        return cr_make_param_array(struct cli_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct cli_case *c, cli, contract)
{
        char *argv[8] = {(char *)nt_test_bin()};
        char label[256] = "newstap", name[40];
        char *value = strchr(c->env, '=');
        int i;

        for (i = 0; i < 6 && c->args[i][0]; i++) {
                argv[i + 1] = c->args[i];
                size_t used = strlen(label);
                snprintf(label + used, sizeof(label) - used, " %s", c->args[i]);
        }
        if (value) {
                snprintf(name, sizeof(name), "%.*s", (int)(value - c->env),
                         c->env);
                setenv(name, value + 1, 1);
                size_t used = strlen(label);
                snprintf(label + used, sizeof(label) - used, " with %s",
                         c->env);
        }
        nt_test_expect_run(argv, label, c->status, c->out_has, c->err_has);
        if (value)
                unsetenv(name);
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
        cr_assert_str_eq(nt_test_json_str(dump, "topics", "raw"), "from.env");
        cr_assert_str_eq(nt_test_json_str(dump, "kafka", "sasl.password"),
                         "[redacted]");
        json_decref(dump);
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

/* Writes `text` to a fresh file under /tmp; its path goes to `path`. */
static void temp_file(char *path, size_t size, const char *text)
{
        FILE *f;
        int fd;

        snprintf(path, size, "/tmp/nt-cli-XXXXXX");
        fd = mkstemp(path);
        cr_assert_geq(fd, 0, "mkstemp");
        f = fdopen(fd, "w");
        cr_assert_not_null(f);
        fputs(text, f);
        fclose(f);
}

/* A configuration with six mistakes, each of a kind `config check` let
 * pass or stopped at one by one: a section key, a key inside a feed, a
 * feed URL that is not http(s), an interval below the floor, a feed
 * listed twice, and a listen address without a host. */
static const char six_mistakes[] =
    "{\"topics\": {\"rww\": \"typo\"},\n"
    " \"producer\": {\"feeds\": [\n"
    "   {\"url\": \"http://127.0.0.1:1/a.xml\", \"intervall\": \"5m\"},\n"
    "   {\"url\": \"feeds.example.org/rss\"},\n"
    "   {\"url\": \"http://127.0.0.1:1/b.xml\", \"interval\": \"1s\"},\n"
    "   {\"url\": \"http://127.0.0.1:1/a.xml\"}]},\n"
    " \"metrics\": {\"listen\": \"19484\"}}\n";

static const char *const six_keys[] = {
    "topics.rww",
    "producer.feeds[0].intervall",
    "producer.feeds[1].url",
    "producer.feeds[2].interval",
    "producer.feeds[3].url",
    "metrics.listen",
};

/* The lines of `err` that start with "PATH: ", sorted, as one string. */
static char *error_lines(const char *err, const char *path)
{
        char *copy = strdup(err), *line, *save = NULL, *lines[64];
        size_t n = 0, i, j, len = 1;
        char *out;

        cr_assert_not_null(copy);
        for (line = strtok_r(copy, "\n", &save); line && n < 64;
             line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, path, strlen(path)) == 0 &&
                    strncmp(line + strlen(path), ": ", 2) == 0)
                        lines[n++] = line;
        }
        for (i = 1; i < n; i++)
                for (j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
                        char *t = lines[j];
                        lines[j] = lines[j - 1];
                        lines[j - 1] = t;
                }
        for (i = 0; i < n; i++)
                len += strlen(lines[i]) + 1;
        out = calloc(1, len);
        cr_assert_not_null(out);
        for (i = 0; i < n; i++) {
                size_t used = strlen(out);
                snprintf(out + used, len - used, "%s\n", lines[i]);
        }
        free(copy);
        return out;
}

Test(cli, config_check_reports_every_mistake_in_one_run)
{
        char path[64], want[128];
        char *argv[] = {
            (char *)nt_test_bin(), "config", "check", "-c", path, NULL};
        char *out, *err, *lines;
        size_t i, n = 0;
        int status;
        const char *p;

        temp_file(path, sizeof(path), six_mistakes);
        status = nt_run(argv, NULL, &out, &err, 30000);
        unlink(path);
        cr_assert_eq(status, 2, "config check exited %d; stderr: %s", status,
                     err);
        lines = error_lines(err, path);
        for (p = lines; (p = strchr(p, '\n')) != NULL; p++)
                n++;
        cr_assert_eq(n, 6, "want 6 `FILE: key: reason` lines, got %zu:\n%s", n,
                     err);
        for (i = 0; i < sizeof(six_keys) / sizeof(six_keys[0]); i++) {
                snprintf(want, sizeof(want), "%s: %s: ", path, six_keys[i]);
                cr_assert_not_null(strstr(err, want), "no line for %s:\n%s",
                                   six_keys[i], err);
        }
        free(lines);
        free(out);
        free(err);
}

/* `config check` and every daemon agree, line for line: a daemon never
 * starts on a file that check refuses, nor refuses one that it passes. */
Test(cli, daemons_refuse_what_config_check_refuses)
{
        char path[64], rules[64];
        char *check[] = {
            (char *)nt_test_bin(), "config", "check", "-c", path, NULL};
        char *produce[] = {(char *)nt_test_bin(), "produce", "-c", path, NULL};
        char *classify[] = {(char *)nt_test_bin(),
                            "classify",
                            "-c",
                            path,
                            "--rules",
                            rules,
                            NULL};
        char *replay[] = {(char *)nt_test_bin(), "replay", "-c", path,
                          "/dev/null",           NULL};
        char **daemons[] = {produce, classify, replay};
        char *out, *err, *want;
        const char *p;
        size_t i, n = 0;
        int status;

        temp_file(path, sizeof(path), six_mistakes);
        temp_file(rules, sizeof(rules), "");
        status = nt_run(check, NULL, &out, &err, 30000);
        cr_assert_eq(status, 2, "config check exited %d: %s", status, err);
        want = error_lines(err, path);
        for (p = want; (p = strchr(p, '\n')) != NULL; p++)
                n++;
        cr_assert_eq(n, 6, "config check: want 6 lines, got %zu:\n%s", n, err);
        free(out);
        free(err);
        for (i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++) {
                char *got;

                status = nt_run(daemons[i], NULL, &out, &err, 30000);
                cr_assert_eq(status, 2, "%s exited %d: %s", daemons[i][1],
                             status, err);
                got = error_lines(err, path);
                cr_assert_str_eq(got, want,
                                 "%s and config check disagree:\n%s\n---\n%s",
                                 daemons[i][1], got, want);
                free(got);
                free(out);
                free(err);
        }
        free(want);
        unlink(path);
        unlink(rules);
}

Test(cli, produce_once_exits_1_when_a_feed_failed)
{
        char path[64], state[64] = "/tmp/nt-cli-state-XXXXXX", text[512],
                       cmd[128];
        char *argv[] = {
            (char *)nt_test_bin(), "produce", "--once", "-c", path, NULL};
        char *out, *err;
        int status;

        cr_assert_not_null(mkdtemp(state));
        /* Port 1 refuses connections: the fetch fails at once. */
        snprintf(text, sizeof(text),
                 "{\"kafka\": {\"bootstrap.servers\": \"127.0.0.1:1\"},"
                 " \"producer\": {\"state_dir\": \"%s\", \"feeds\": "
                 "[{\"url\": \"http://127.0.0.1:1/feed.xml\"}]}}\n",
                 state);
        temp_file(path, sizeof(path), text);
        status = nt_run(argv, NULL, &out, &err, 60000);
        cr_assert_eq(status, 1, "produce --once exited %d; stderr: %s", status,
                     err);
        free(out);
        free(err);
        unlink(path);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
        cr_assert_eq(system(cmd), 0);
}

Test(cli, config_dump_redacts_feed_credentials_and_headers)
{
        char path[64];
        char *dump[] = {
            (char *)nt_test_bin(), "config", "dump", "-c", path, NULL};
        char *show[] = {(char *)nt_test_bin(), "config", "dump", "-c", path,
                        "--show-secrets",      NULL};
        char *out, *err;
        int status;

        temp_file(path, sizeof(path),
                  "{\"producer\": {\"feeds\": [{\"url\": "
                  "\"https://wireuser:pw-s3cret@wire.example/feed.xml\","
                  " \"headers\": {\"Authorization\": \"Bearer tok-s3cret\","
                  " \"X-Api-Key\": \"key-s3cret\"}}]}}\n");
        status = nt_run(dump, NULL, &out, &err, 30000);
        cr_assert_eq(status, 0, "stderr: %s", err);
        cr_assert_null(strstr(out, "s3cret"), "a secret in the dump:\n%s", out);
        cr_assert_null(strstr(out, "wireuser"), "userinfo in the dump:\n%s",
                       out);
        cr_assert_not_null(strstr(out, "wire.example/feed.xml"), "%s", out);
        cr_assert_not_null(strstr(out, "Authorization"), "%s", out);
        free(out);
        free(err);
        status = nt_run(show, NULL, &out, &err, 30000);
        cr_assert_eq(status, 0, "stderr: %s", err);
        cr_assert_not_null(strstr(out, "wireuser:pw-s3cret@"), "%s", out);
        cr_assert_not_null(strstr(out, "Bearer tok-s3cret"), "%s", out);
        free(out);
        free(err);
        unlink(path);
}

/* `newstap extract` prints the page as JSON, from a file or stdin alike. */
Test(cli, extract_prints_the_main_text_as_json)
{
        char path[1024], *out, *err, *out2, *err2, *html;
        char *argv[] = {(char *)nt_test_bin(),      "extract", "--base-url",
                        "https://ledger.example/x", path,      NULL};
        json_t *j;

        nt_test_fixture("pages/news_nav.html", path, sizeof(path));
        cr_assert_eq(nt_run(argv, NULL, &out, &err, 30000), 0, "%s", err);
        j = json_loads(out, 0, NULL);
        cr_assert_not_null(j, "%s", out);
        cr_expect_str_eq(json_string_value(json_object_get(j, "method")),
                         "density");
        cr_expect_str_eq(json_string_value(json_object_get(j, "canonical")),
                         "https://ledger.example/local/2026/03/"
                         "night-ferry-trial");
        cr_expect_str_eq(json_string_value(json_object_get(j, "published")),
                         "2026-03-14T08:30:00Z");
        cr_expect_eq(json_integer_value(json_object_get(j, "paragraphs")), 8);
        cr_expect_eq(json_array_size(json_object_get(j, "cuts")), 0);
        cr_expect(strstr(json_string_value(json_object_get(j, "text")),
                         "12 minutes") == NULL &&
                  strstr(json_string_value(json_object_get(j, "text")),
                         "twelve minutes"));
        json_decref(j);
        {
                FILE *f = fopen(path, "rb");
                long n;

                cr_assert(f);
                fseek(f, 0, SEEK_END);
                n = ftell(f);
                fseek(f, 0, SEEK_SET);
                html = calloc(1, (size_t)n + 1);
                cr_assert_eq(fread(html, 1, (size_t)n, f), (size_t)n);
                fclose(f);
        }
        argv[4] = "-";
        cr_assert_eq(nt_run(argv, html, &out2, &err2, 30000), 0, "%s", err2);
        cr_expect_str_eq(out2, out, "stdin and the file differ");
        free(html);
        free(out);
        free(err);
        free(out2);
        free(err2);
}

/* produce --group refuses an instance id or a transactional.id longer
 * than it keeps, saying which to shorten, rather than cutting it (a cut
 * id could be another instance's): exit 2 before any broker is asked. */
Test(cli, produce_group_refuses_ids_too_long)
{
        char long_id[201], long_group[311];
        char *inst[] = {(char *)nt_test_bin(), "produce", "--group", "wires",
                        "--instance",          long_id,   NULL};
        char *grp[] = {(char *)nt_test_bin(), "produce", "--group", long_group,
                       "--instance",          "a",       NULL};

        memset(long_id, 'i', sizeof(long_id) - 1);
        long_id[sizeof(long_id) - 1] = '\0';
        memset(long_group, 'g', sizeof(long_group) - 1);
        long_group[sizeof(long_group) - 1] = '\0';
        nt_test_expect_run(inst, "produce --instance of 200 bytes", 2, NULL,
                           "producer.instance (--instance) is 200 bytes long; "
                           "at most 127");
        nt_test_expect_run(grp, "produce --group of 310 bytes", 2, NULL,
                           "shorten producer.group (--group)");
}
