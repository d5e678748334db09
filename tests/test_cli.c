/* The option parser of the commands (common/cli.c): one table per
 * command, from which nt_cli_parse() builds getopt_long()'s tables, puts
 * each option where its row says, and says what is wrong. */
#include "common/cli.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* What the test command's options set. */
struct opts {
        const char *state_dir, *output;
        bool once, dry_run;
        int calls, last_id;
        const char *last_arg;
        char seen[64]; /* the ids handed to on_option(), in order */
        int fail_on;   /* on_option() returns 2 for this id */
};

enum { ID_COUNT = 300 };

static int on_option(struct nt_cli *cli, void *ctx, int id, const char *arg)
{
        struct opts *o = ctx;
        size_t n = strlen(o->seen);

        (void)cli;
        o->calls++;
        o->last_id = id;
        o->last_arg = arg;
        if (n + 1 < sizeof(o->seen))
                o->seen[n] = id == ID_COUNT ? '#' : (char)id;
        return id == o->fail_on ? 2 : 0;
}

/* The spec of a command with rows of every kind (name and letter, name
 * alone, letter alone, each destination), written into `rows` and
 * pointing into o; with the common options, any number of positional
 * arguments. */
#define N_ROWS 9
static struct nt_cli_spec test_spec(struct opts *o, struct nt_cli_option *rows)
{
        const struct nt_cli_spec spec = {.options = rows,
                                         .help = "h\n",
                                         .common = true,
                                         .on_option = on_option,
                                         .ctx = o,
                                         .max_args = INT_MAX};
        const struct nt_cli_option t[N_ROWS] = {
            {.name = "opml", .kind = NT_CLI_REPEAT},
            {.name = "once", .kind = NT_CLI_FLAG, .flag = &o->once},
            {.name = "state-dir", .kind = NT_CLI_VALUE, .value = &o->state_dir},
            {.name = "output",
             .letter = 'o',
             .kind = NT_CLI_VALUE,
             .value = &o->output},
            {.name = "count", .kind = NT_CLI_CALL, .id = ID_COUNT},
            {.name = "follow", .kind = NT_CLI_CALL_NOARG, .id = 'F'},
            {.name = "content", .kind = NT_CLI_FLAG, .flag = &o->dry_run},
            {.letter = 'b', .kind = NT_CLI_CALL},
            {0},
        };

        memcpy(rows, t, sizeof(t));
        return spec;
}

/* Parses argv (NULL-terminated) with a fresh getopt state. */
static int parse(struct nt_cli *cli, const struct nt_cli_spec *spec,
                 char **argv)
{
        int argc = 0;

        while (argv[argc])
                argc++;
        optind = 0; /* glibc: start again from scratch */
        cr_assert_eq(nt_cli_init(cli, "test", argc), 0);
        return nt_cli_parse(cli, spec, argc, argv);
}

Test(cli, every_row_puts_its_option_where_it_says)
{
        struct opts o = {0};
        struct nt_cli_option options[N_ROWS];
        struct nt_cli_spec spec = test_spec(&o, options);
        char *argv[] = {
            "test",     "--opml", "a.opml",   "first",       "--once",
            "--sta",    "/tmp/s", "-o",       "jsonl",       "--count=3",
            "--opml",   "b.opml", "--follow", "-b",          "host:1",
            "--output", "pretty", "-c",       "f.json",      "-X",
            "acks=all", "-v",     "-X",       "linger.ms=5", "--config=g.json",
            "second",   NULL};
        struct nt_cli cli;

        cr_assert_eq(parse(&cli, &spec, argv), NT_CLI_GO);
        cr_assert_eq(cli.n_values, 2, "--opml twice: %zu values", cli.n_values);
        cr_assert_str_eq(cli.values[0], "a.opml");
        cr_assert_str_eq(cli.values[1], "b.opml");
        cr_assert(o.once, "--once sets its flag");
        cr_assert_not(o.dry_run, "--content was not given");
        cr_assert_str_eq(o.state_dir, "/tmp/s",
                         "--sta abbreviates --state-dir");
        cr_assert_str_eq(o.output, "pretty", "the last of -o and --output");
        cr_assert_str_eq(o.seen, "#Fb", "on_option() ids in order: %s", o.seen);
        cr_assert_eq(o.last_id, 'b', "a letter row's id is its letter");
        cr_assert_str_eq(o.last_arg, "host:1");
        cr_assert_str_eq(cli.config_path, "g.json", "the last -c counts");
        cr_assert_eq(cli.n_xprops, 2);
        cr_assert_str_eq(cli.xprops[0], "acks=all");
        cr_assert_str_eq(cli.xprops[1], "linger.ms=5");
        cr_assert_eq(cli.verbose, 1);
        /* getopt_long() moved the positional arguments to the end. */
        cr_assert_eq(optind, (int)(sizeof(argv) / sizeof(argv[0])) - 3,
                     "optind %d", optind);
        cr_assert_str_eq(argv[optind], "first");
        cr_assert_str_eq(argv[optind + 1], "second");
        nt_cli_free(&cli);
}

Test(cli, a_call_without_argument_gets_null)
{
        struct opts o = {0};
        struct nt_cli_option options[N_ROWS];
        struct nt_cli_spec spec = test_spec(&o, options);
        char *argv[] = {"test", "--follow", NULL};
        struct nt_cli cli;

        cr_assert_eq(parse(&cli, &spec, argv), NT_CLI_GO);
        cr_assert_eq(o.calls, 1);
        cr_assert_eq(o.last_id, 'F');
        cr_assert_null(o.last_arg);
        nt_cli_free(&cli);
}

static void redirect(void)
{
        cr_redirect_stdout();
        cr_redirect_stderr();
}

Test(cli, help_prints_both_parts_and_the_common_options, .init = redirect)
{
        struct opts o = {0};
        struct nt_cli_option options[N_ROWS];
        struct nt_cli_spec spec = test_spec(&o, options);
        char *argv[] = {"test", "--once", "-h", "--bogus", NULL};
        char want[4096];
        struct nt_cli cli;

        spec.help = "Usage: test\n";
        spec.help_more = "More.\n";
        snprintf(want, sizeof(want), "Usage: test\nMore.\n%s",
                 nt_cli_common_help);
        cr_assert_eq(parse(&cli, &spec, argv), 0, "--help: exit 0");
        fflush(stdout);
        cr_assert_stdout_eq_str(want);
        nt_cli_free(&cli);
}

Test(cli, without_common_options_c_and_x_are_unknown, .init = redirect)
{
        struct opts o = {0};
        struct nt_cli_option options[N_ROWS];
        struct nt_cli_spec spec = test_spec(&o, options);
        char *argv[] = {"test", "-c", "f.json", NULL};
        struct nt_cli cli;

        spec.common = false;
        spec.hint_help = true;
        cr_assert_eq(parse(&cli, &spec, argv), 2);
        fflush(stderr);
        cr_assert_stderr_eq_str("test: invalid option -- 'c'\n"
                                "Run `newstap test --help' for the "
                                "options.\n");
        nt_cli_free(&cli);
}

struct usage_case {
        const char *argv[4];
        int rc;
        const char *err; /* stderr, exactly */
};

/* Each mistake gets getopt_long()'s word (named by argv[0]) or the
 * parser's, and exit 2. */
Test(cli, usage_errors_say_what_is_wrong, .init = redirect)
{
        static const struct usage_case cases[] = {
            {{"test", "--bogus"}, 2, "test: unrecognized option '--bogus'\n"},
            {{"test", "--state-dir"},
             2,
             "test: option '--state-dir' requires an argument\n"},
            {{"test", "-o"}, 2, "test: option requires an argument -- 'o'\n"},
            {{"test", "--once=yes"},
             2,
             "test: option '--once' doesn't allow an argument\n"},
            {{"test", "a", "b"},
             2,
             "newstap test: unexpected argument \"b\"\n"},
            {{"test", "--count", "9"}, 2, ""}, /* on_option() said no */
        };
        char all[1024] = "";
        size_t i, used = 0;

        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct opts o = {.fail_on = ID_COUNT};
                struct nt_cli_option options[N_ROWS];
                struct nt_cli_spec spec = test_spec(&o, options);
                char *argv[4] = {0};
                struct nt_cli cli;
                size_t k;

                spec.max_args = 1;
                for (k = 0; k < 4 && cases[i].argv[k]; k++)
                        argv[k] = (char *)cases[i].argv[k];
                cr_assert_eq(parse(&cli, &spec, argv), cases[i].rc,
                             "case %zu (%s)", i, cases[i].argv[1]);
                nt_cli_free(&cli);
                used += (size_t)snprintf(all + used, sizeof(all) - used, "%s",
                                         cases[i].err);
        }
        fflush(stderr);
        cr_assert_stderr_eq_str(all);
}

/* getopt_long() lists an ambiguous abbreviation's possibilities in the
 * order of its table: common_first puts --config before the command's
 * options. */
Test(cli, common_first_orders_the_ambiguous_possibilities, .init = redirect)
{
        struct opts o = {0};
        struct nt_cli_option options[N_ROWS];
        struct nt_cli_spec spec = test_spec(&o, options);
        char *argv[] = {"test", "--co", NULL};
        char *argv2[] = {"test", "--co", NULL};
        struct nt_cli cli;

        cr_assert_eq(parse(&cli, &spec, argv), 2);
        nt_cli_free(&cli);
        spec.common_first = true;
        cr_assert_eq(parse(&cli, &spec, argv2), 2);
        nt_cli_free(&cli);
        fflush(stderr);
        cr_assert_stderr_eq_str(
            "test: option '--co' is ambiguous; possibilities: '--count' "
            "'--content' '--config'\n"
            "test: option '--co' is ambiguous; possibilities: '--config' "
            "'--count' '--content'\n");
}

Test(cli, more_rows_than_the_limit_is_a_bug_said_as_such, .init = redirect)
{
        struct nt_cli_option options[NT_CLI_MAX_OPTIONS + 2];
        const struct nt_cli_spec spec = {.options = options, .help = "h\n"};
        char names[NT_CLI_MAX_OPTIONS + 1][8];
        char *argv[] = {"test", NULL};
        struct nt_cli cli;
        size_t i;

        memset(options, 0, sizeof(options));
        for (i = 0; i <= NT_CLI_MAX_OPTIONS; i++) {
                snprintf(names[i], sizeof(names[i]), "o%zu", i);
                options[i].name = names[i];
                options[i].kind = NT_CLI_CALL_NOARG;
        }
        cr_assert_eq(parse(&cli, &spec, argv), 1);
        nt_cli_free(&cli);
        fflush(stderr);
        cr_assert_stderr_eq_str("newstap test: bug: more than 32 options\n");
}

Test(cli, a_row_reusing_a_common_letter_is_a_bug_said_as_such, .init = redirect)
{
        const struct nt_cli_option options[] = {
            {.name = "verbose-ish", .letter = 'v', .kind = NT_CLI_CALL_NOARG},
            {0},
        };
        const struct nt_cli_spec spec = {.options = options, .help = "h\n"};
        char *argv[] = {"test", NULL};
        struct nt_cli cli;

        cr_assert_eq(parse(&cli, &spec, argv), 1);
        nt_cli_free(&cli);
        fflush(stderr);
        cr_assert_stderr_eq_str("newstap test: bug: -v is a common option\n");
}

/* For a command that finds its verb before parsing: which words take
 * the next one as their value. Exact words only, as getopt_long() sees
 * them before it reads on. */
Test(cli, takes_next_knows_the_options_with_a_value)
{
        struct opts o = {0};
        struct nt_cli_option options[N_ROWS];
        struct nt_cli_spec spec = test_spec(&o, options);
        static const struct {
                const char *word;
                bool common, want;
        } cases[] = {
            {"-c", true, true},        {"--config", true, true},
            {"-X", true, true},        {"-c", false, false},
            {"-X", false, false},      {"-v", true, false},
            {"--opml", true, true},    {"--state-dir", false, true},
            {"-o", false, true},       {"--output", false, true},
            {"--count", false, true},  {"-b", false, true},
            {"--once", true, false},   {"--follow", true, false},
            {"--opml=x", true, false}, {"--op", true, false},
            {"opml", true, false},     {"-", true, false},
            {"--", true, false},       {"-ob", true, false},
        };
        size_t i;

        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                spec.common = cases[i].common;
                cr_assert_eq(nt_cli_takes_next(&spec, cases[i].word),
                             cases[i].want, "%s (common %d)", cases[i].word,
                             cases[i].common);
        }
}

/* What check_options() saw. */
struct check_seen {
        int calls;
        int rc;            /* what it returns */
        const char *first; /* the first positional argument */
};

static int check_options(struct nt_cli *cli, void *ctx, int argc, char **argv)
{
        struct check_seen *seen = ctx;

        (void)cli;
        seen->calls++;
        seen->first = optind < argc ? argv[optind] : NULL;
        return seen->rc;
}

/* nt_cli_start() runs spec->check() after the options and before the
 * configuration: what it refuses never reads the file, what it passes
 * does. */
Test(cli, start_checks_the_options_before_the_configuration, .init = redirect)
{
        struct check_seen seen = {.rc = 3};
        const struct nt_cli_spec spec = {.help = "h\n",
                                         .common = true,
                                         .ctx = &seen,
                                         .check = check_options,
                                         .max_args = 1};
        char *argv[] = {"test", "pos", "-c", "/nonexistent/cfg.json", NULL};
        char *argv2[] = {"test", "pos", "-c", "/nonexistent/cfg.json", NULL};
        nt_config_t *cfg = NULL;
        struct nt_cli cli;
        char err[4096] = "";
        size_t n;

        optind = 0;
        cr_assert_eq(nt_cli_start(&cli, "test", &spec, 4, argv, &cfg), 3,
                     "check()'s exit code");
        cr_assert_null(cfg);
        cr_assert_eq(seen.calls, 1);
        cr_assert_str_eq(seen.first, "pos");
        nt_cli_free(&cli);

        seen.rc = 0;
        optind = 0;
        cr_assert_eq(nt_cli_start(&cli, "test", &spec, 4, argv2, &cfg), 2,
                     "the configuration file is missing");
        cr_assert_null(cfg);
        cr_assert_eq(seen.calls, 2);
        nt_cli_free(&cli);
        fflush(stderr);
        n = fread(err, 1, sizeof(err) - 1, cr_get_redirected_stderr());
        err[n] = '\0';
        cr_assert(strstr(err, "/nonexistent/cfg.json") &&
                      strstr(err, "newstap test: 1 configuration error"),
                  "only the second start read the file: %s", err);
        cr_assert_null(strstr(strstr(err, "configuration error") + 1,
                              "configuration error"),
                       "the file was read once: %s", err);
}
