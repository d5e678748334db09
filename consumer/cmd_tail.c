/* `newstap tail`: follow the classified topics from a terminal or a
 * pipe. */
#include "common/cli.h"
#include "consumer/commands.h"
#include "common/buf.h"
#include "common/date.h"
#include "common/err.h"
#include "common/num.h"
#include "common/sig.h"
#include "consumer/tail.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char tail_help[] =
    "Usage: newstap tail [OPTIONS] [LABEL...]\n"
    "\n"
    "Follows the classified articles: the topic of each LABEL\n"
    "(topics.label_prefix + LABEL, e.g. news.topic.guarantees), every label\n"
    "topic when none is named, or every enriched event (topics.enriched)\n"
    "with --all. Reads read_committed and, without --group, commits\n"
    "nothing: tailing never moves a consumer group's offsets. An article\n"
    "that reaches several followed topics is shown once.\n"
    "\n"
    "Where to start (default: the end, i.e. only what arrives from now):\n"
    "  --from-beginning     every record still on the topics\n"
    "  --since TIME         the first record written at or after TIME (RFC\n"
    "                       3339, 2026-01-05T10:00:00Z, or an age: \"2h\",\n"
    "                       \"30m\"), showing only articles published at or\n"
    "                       after it (those without a published time: by\n"
    "                       their record time)\n"
    "  --offset START, -o START\n"
    "                       kcat's starts: beginning, end, -N (the last N\n"
    "                       records of each partition), N (offset N of\n"
    "                       each partition), @TIME or s@MS (as --since)\n"
    "When to stop:\n"
    "  --follow             wait for more (default when stdout is a terminal)\n"
    "  --exit-at-end        stop once every partition reached the end it had\n"
    "                       at the start (default otherwise)\n"
    "  --count N            stop after N articles shown\n"
    "Filters (all must hold):\n"
    "  --min-score X        a (followed) label scores at least X\n"
    "  --entity NAME        an entity of that name, any case\n"
    "  --lang CODE          the article's language (en, uk, ru, ...)\n"
    "  --grep TEXT          TEXT in the title or summary (a label record's\n"
    "                       lead), any case\n"
    "Output (-o takes a start, as above, or one of these names):\n"
    "  -o, --output pretty  time, labels with scores, title, URL and the\n"
    "                       evidence with its match highlighted (default on\n"
    "                       a terminal; colour unless NO_COLOR is set)\n"
    "  -o, --output jsonl   the record's value, one per line (default\n"
    "                       otherwise): with --all the whole event, which\n"
    "                       `newstap replay` reads back; on label topics\n"
    "                       the lean label record (no body)\n"
    "  -f FORMAT            kcat-style: %t topic, %p partition, %o offset,\n"
    "                       %k key, %T timestamp (ms), %s value, %S value\n"
    "                       size, %h headers, %% a percent sign; event\n"
    "                       fields %{title} %{url} %{id} %{labels}\n"
    "                       %{published} %{score:LABEL}; escapes \\n \\t.\n"
    "                       Every record is shown, even repeated ones.\n"
    "Groups:\n"
    "  --group ID           consume in group ID and commit what was read; its\n"
    "                       committed offsets are the start unless\n"
    "                       --from-beginning, --since or --offset says\n"
    "                       otherwise\n"
    "Broker:\n"
    "  -b BROKERS           bootstrap servers (host:port,...), as kcat's -b;\n"
    "                       the same as -X bootstrap.servers=BROKERS\n"
    "\n"
    "When it starts at the end without being told to, it says so on\n"
    "stderr: on a terminal it is waiting for new records; in a pipe it\n"
    "stops at once, with 0 records (use --from-beginning, --offset or\n"
    "--since for what is on the topics, --follow to wait).\n";

static int emit_stdout(void *ctx, const char *text, size_t len)
{
        (void)ctx;
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
                return 1; /* the reader went away */
        return 0;
}

/* The followed topics for a note: up to three names, then how many
 * more. */
static void topic_list(const nt_tail_t *t, char *buf, size_t size)
{
        size_t n, i, used = 0;
        const char *const *topics = nt_tail_topics(t, &n);

        buf[0] = '\0';
        for (i = 0; i < n && i < 3 && used < size; i++)
                used += (size_t)snprintf(buf + used, size - used, "%s%s",
                                         i == 0       ? ""
                                         : i + 1 == n ? " and "
                                                      : ", ",
                                         topics[i]);
        if (n > 3 && used < size)
                snprintf(buf + used, size - used, " and %zu more topics",
                         n - 3);
}

/* The outputs -o and --output name (-f gives NT_TAIL_FORMAT). */
static const char *const output_names[] = {
    [NT_TAIL_PRETTY] = "pretty",
    [NT_TAIL_JSONL] = "jsonl",
};

/* The output `name` stands for, or -1. */
static long output_named(const char *name)
{
        return nt_name_find(output_names, NT_COUNT_OF(output_names), name);
}

/* What tail's options set beside the tail's own options. */
struct tail_cli {
        struct nt_tail_opts o;
        const char *output; /* -o/--output pretty or jsonl, or NULL */
        int follow;         /* --follow 1, --exit-at-end 0, else -1 */
        int starts;         /* how many starts were given */
        char **owned;       /* the -b values as -X properties: argc slots */
        size_t n_owned;
};

/* Records a -b value as the -X property it stands for. The copy lives in
 * tc->owned until the command ends. */
static int add_brokers(struct nt_cli *cli, struct tail_cli *tc,
                       const char *brokers)
{
        static const char key[] = "bootstrap.servers=";
        size_t len = strlen(brokers);
        char *kv = malloc(sizeof(key) + len);

        if (!kv)
                return NT_ERR_NOMEM;
        memcpy(kv, key, sizeof(key) - 1);
        memcpy(kv + sizeof(key) - 1, brokers, len + 1);
        tc->owned[tc->n_owned++] = kv;
        return nt_cli_add_xprop(cli, kv);
}

/* The ids tail_option() gets for long options that have no letter to be
 * named by: past char. */
enum { OPT_FROM_BEGINNING = 256, OPT_OFFSET };

/* The starts: --since, --from-beginning, --offset and -o START (`opt`
 * 'o'). */
static int tail_start_option(struct nt_cli *cli, struct tail_cli *tc, int opt,
                             const char *arg)
{
        struct nt_tail_opts *o = &tc->o;

        tc->starts++;
        switch (opt) {
        case 's':
                if (nt_date_parse_since(arg, nt_date_now_ms(), &o->since_ms))
                        return nt_cli_fail(cli, 2,
                                           "--since: \"%s\" is neither "
                                           "RFC 3339 nor an age like 2h",
                                           arg);
                return 0;
        case OPT_FROM_BEGINNING:
                o->from_beginning = true;
                return 0;
        }
        /* --offset START or -o START. */
        if (nt_tail_parse_start(arg, nt_date_now_ms(), o) == 0)
                return 0;
        if (opt == OPT_OFFSET)
                return nt_cli_fail(cli, 2,
                                   "--offset: \"%s\" is not beginning, end, "
                                   "-N, N, @TIME or s@MS",
                                   arg);
        return nt_cli_fail(cli, 2,
                           "-o: \"%s\" is neither an output (pretty, jsonl) "
                           "nor a start (beginning, end, -N, N, @TIME, s@MS)",
                           arg);
}

static int tail_option(struct nt_cli *cli, void *ctx, int opt, const char *arg)
{
        struct tail_cli *tc = ctx;
        struct nt_tail_opts *o = &tc->o;
        int64_t count;

        switch (opt) {
        case 'o':
                /* The output formats and kcat's starts do not overlap, so
                 * -o takes both. */
                if (output_named(arg) >= 0) {
                        tc->output = arg;
                        return 0;
                }
                return tail_start_option(cli, tc, opt, arg);
        case 's':
        case OPT_FROM_BEGINNING:
        case OPT_OFFSET:
                return tail_start_option(cli, tc, opt, arg);
        case 'b':
                if (add_brokers(cli, tc, arg))
                        return nt_cli_fail(cli, 1, "out of memory");
                return 0;
        case 'n':
                if (nt_num_parse_i64(arg, 1, INT64_MAX, &count))
                        return nt_cli_fail(cli, 2,
                                           "--count: \"%s\" is not a "
                                           "positive number",
                                           arg);
                o->count = (uint64_t)count;
                return 0;
        case 'F':
                tc->follow = 1;
                return 0;
        case 'e':
                tc->follow = 0;
                return 0;
        case 'm':
                if (nt_num_parse_double(arg, 0, 1e12, &o->min_score))
                        return nt_cli_fail(cli, 2,
                                           "--min-score: \"%s\" is not a "
                                           "number >= 0",
                                           arg);
                return 0;
        }
        return 2;
}

/* The options that go together, and what they decide together: the
 * output, whether to stop at the end, colour, the labels. Before the
 * configuration is read. */
static int tail_check(struct nt_cli *cli, void *ctx, int argc, char **argv)
{
        struct tail_cli *tc = ctx;
        struct nt_tail_opts *o = &tc->o;
        const char *output = tc->output, *no_color = getenv("NO_COLOR");
        bool tty = isatty(STDOUT_FILENO) == 1;
        char errstr[1024];
        long named;

        if (o->all && optind < argc)
                return nt_cli_fail(cli, 2,
                                   "--all follows %s; labels do not go with "
                                   "it",
                                   "topics.enriched");
        if (tc->starts > 1)
                return nt_cli_fail(cli, 2,
                                   "one start at most: --from-beginning, "
                                   "--since and --offset (or -o START) "
                                   "exclude each other");
        if (o->format && output)
                return nt_cli_fail(cli, 2,
                                   "-o %s and -f exclude each other (-o "
                                   "takes a start with -f)",
                                   output);
        if (o->format) {
                o->output = NT_TAIL_FORMAT;
                if (nt_tail_check_format(o->format, errstr, sizeof(errstr)))
                        return nt_cli_fail(cli, 2, "%s", errstr);
        } else if (output) {
                named = output_named(output);
                if (named < 0)
                        return nt_cli_fail(cli, 2,
                                           "--output: \"%s\" is not pretty "
                                           "or jsonl",
                                           output);
                o->output = (enum nt_tail_output)named;
        } else {
                o->output = tty ? NT_TAIL_PRETTY : NT_TAIL_JSONL;
        }
        o->exit_at_end = tc->follow == -1 ? !tty : tc->follow == 0;
        o->color = tty && !(no_color && *no_color);
        o->labels = (const char *const *)argv + optind;
        o->n_labels = (size_t)(argc - optind);
        o->emit = emit_stdout;
        return 0;
}

int nt_cmd_tail(int argc, char **argv)
{
        struct tail_cli tc = {.follow = -1};
        struct nt_tail_opts *o = &tc.o;
        const struct nt_cli_option options[] = {
            {.name = "all", .kind = NT_CLI_FLAG, .flag = &o->all},
            {.name = "since", .kind = NT_CLI_CALL, .id = 's'},
            {.name = "from-beginning",
             .kind = NT_CLI_CALL_NOARG,
             .id = OPT_FROM_BEGINNING},
            {.name = "offset", .kind = NT_CLI_CALL, .id = OPT_OFFSET},
            {.name = "output", .kind = NT_CLI_VALUE, .value = &tc.output},
            {.name = "count", .kind = NT_CLI_CALL, .id = 'n'},
            {.name = "follow", .kind = NT_CLI_CALL_NOARG, .id = 'F'},
            {.name = "exit-at-end", .kind = NT_CLI_CALL_NOARG, .id = 'e'},
            {.name = "min-score", .kind = NT_CLI_CALL, .id = 'm'},
            {.name = "entity", .kind = NT_CLI_VALUE, .value = &o->entity},
            {.name = "lang", .kind = NT_CLI_VALUE, .value = &o->lang},
            {.name = "grep", .kind = NT_CLI_VALUE, .value = &o->grep},
            {.name = "group", .kind = NT_CLI_VALUE, .value = &o->group},
            {.letter = 'o', .kind = NT_CLI_CALL},
            {.letter = 'f', .kind = NT_CLI_VALUE, .value = &o->format},
            {.letter = 'b', .kind = NT_CLI_CALL},
            {0},
        };
        const struct nt_cli_spec spec = {
            .options = options,
            .help = tail_help,
            .common = true,
            .on_option = tail_option,
            .ctx = &tc,
            .check = tail_check,
            .max_args = INT_MAX,
        };
        struct nt_cli cli;
        nt_config_t *cfg = NULL;
        nt_tail_t *t = NULL;
        char errstr[1024], topics[512];
        int rc = 0, err, done = 0;
        bool start_given;
        uint64_t n_read, n_shown;

        nt_tail_opts_init(o);
        tc.owned = calloc((size_t)(argc > 0 ? argc : 1), sizeof(*tc.owned));
        if (!tc.owned)
                return 1;
        rc = nt_cli_start(&cli, "tail", &spec, argc, argv, &cfg);
        if (rc != NT_CLI_GO)
                goto out;
        rc = 0;
        start_given = nt_tail_start_given(o);
        nt_sig_install();
        t = nt_tail_new(cfg, o, errstr, sizeof(errstr));
        if (!t) {
                rc = nt_cli_fail(&cli, 2, "%s", errstr);
                goto out;
        }
        err = nt_tail_start(t, errstr, sizeof(errstr));
        topic_list(t, topics, sizeof(topics));
        /* A blank screen or an empty pipe with no word of why is what a
         * kcat user meets first: say where it started. In a group the
         * start is the group's offsets, so there is nothing to explain. */
        if (!err && !o->group && !o->exit_at_end &&
            (!start_given || o->from_end))
                fprintf(stderr,
                        "newstap tail: waiting for new records on %s (from the "
                        "end; --from-beginning, --offset or --since for "
                        "older ones)\n",
                        topics);
        while (!err && !done && nt_sig_running()) {
                int polled = nt_tail_poll(t, 200, errstr, sizeof(errstr));

                if (polled < 0)
                        err = polled;
                else
                        done = polled == 1;
        }
        if (err) {
                rc = nt_cli_fail(&cli, err == NT_ERR_USAGE ? 2 : 1, "%s",
                                 errstr);
                goto out;
        }
        nt_tail_counts(t, &n_read, &n_shown);
        if (!o->group && o->exit_at_end && !start_given)
                fprintf(stderr,
                        "newstap tail: %llu records: started at the end of "
                        "%s and stopped there, %s (use --from-beginning, "
                        "--offset or --since for what is on the topics, "
                        "--follow to wait for more)\n",
                        (unsigned long long)n_shown, topics,
                        tc.follow == -1 ? "as stdout is not a terminal"
                                        : "as --exit-at-end says");
out:
        nt_tail_destroy(t);
        nt_config_destroy(cfg);
        nt_cli_free(&cli);
        while (tc.n_owned > 0)
                free(tc.owned[--tc.n_owned]);
        free(tc.owned);
        return rc;
}
