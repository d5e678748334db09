/* `newstap tail`: follow the classified topics from a terminal or a
 * pipe. */
#include "common/cli.h"
#include "common/commands.h"
#include "common/date.h"
#include "common/err.h"
#include "common/num.h"
#include "common/sig.h"
#include "consumer/tail.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
    "  --since TIME         the first record at or after TIME: RFC 3339\n"
    "                       (2026-01-05T10:00:00Z) or an age (\"2h\", "
    "\"30m\")\n"
    "When to stop:\n"
    "  --follow             wait for more (default when stdout is a terminal)\n"
    "  --exit-at-end        stop once every partition reached the end it had\n"
    "                       at the start (default otherwise)\n"
    "  --count N            stop after N articles shown\n"
    "Filters (all must hold):\n"
    "  --min-score X        a (followed) label scores at least X\n"
    "  --entity NAME        an entity of that name, any case\n"
    "  --lang CODE          the article's language (en, uk, ru, ...)\n"
    "  --grep TEXT          TEXT in the title or summary, any case\n"
    "Output:\n"
    "  -o pretty            time, labels with scores, title, URL and the\n"
    "                       evidence with its match highlighted (default on\n"
    "                       a terminal; colour unless NO_COLOR is set)\n"
    "  -o jsonl             the whole event, one per line (default\n"
    "                       otherwise; `newstap replay` reads it back)\n"
    "  -f FORMAT            kcat-style: %t topic, %p partition, %o offset,\n"
    "                       %k key, %T timestamp (ms), %s value, %S value\n"
    "                       size, %h headers, %% a percent sign; event\n"
    "                       fields %{title} %{url} %{id} %{labels}\n"
    "                       %{published} %{score:LABEL}; escapes \\n \\t.\n"
    "                       Every record is shown, even repeated ones.\n"
    "Groups:\n"
    "  --group ID           consume in group ID and commit what was read; its\n"
    "                       committed offsets are the start unless\n"
    "                       --from-beginning or --since says otherwise\n";

static int emit_stdout(void *ctx, const char *text, size_t len)
{
        (void)ctx;
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
                return 1; /* the reader went away */
        return 0;
}

static int parse_time(const char *s, int64_t *out)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return nt_date_parse_since(
            s, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, out);
}

int nt_cmd_tail(int argc, char **argv)
{
        static const struct option longopts[] = {
            NT_CLI_LONGOPTS,
            {"all", no_argument, NULL, 'A'},
            {"since", required_argument, NULL, 's'},
            {"from-beginning", no_argument, NULL, 'b'},
            {"count", required_argument, NULL, 'n'},
            {"follow", no_argument, NULL, 'F'},
            {"exit-at-end", no_argument, NULL, 'e'},
            {"min-score", required_argument, NULL, 'm'},
            {"entity", required_argument, NULL, 'E'},
            {"lang", required_argument, NULL, 'l'},
            {"grep", required_argument, NULL, 'g'},
            {"group", required_argument, NULL, 'G'},
            {NULL, 0, NULL, 0},
        };
        struct nt_tail_opts o;
        struct nt_cli cli;
        nt_config_t *cfg = NULL;
        nt_tail_t *t = NULL;
        const char *output = NULL, *no_color = getenv("NO_COLOR");
        char errstr[1024];
        int opt, rc = 0, follow = -1, err;
        bool tty = isatty(STDOUT_FILENO) == 1;
        int64_t count;

        nt_tail_opts_init(&o);
        if (nt_cli_init(&cli, "tail", argc))
                return 1;
        while ((opt = getopt_long(argc, argv, NT_CLI_SHORTOPTS "o:f:", longopts,
                                  NULL)) != -1) {
                if (nt_cli_common_option(&cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'A':
                        o.all = true;
                        break;
                case 's':
                        if (parse_time(optarg, &o.since_ms)) {
                                rc = nt_cli_fail(&cli, 2,
                                                 "--since: \"%s\" is neither "
                                                 "RFC 3339 nor an age like "
                                                 "2h",
                                                 optarg);
                                goto out;
                        }
                        break;
                case 'b':
                        o.from_beginning = true;
                        break;
                case 'n':
                        if (nt_num_parse_i64(optarg, 1, INT64_MAX, &count)) {
                                rc = nt_cli_fail(&cli, 2,
                                                 "--count: \"%s\" is not a "
                                                 "positive number",
                                                 optarg);
                                goto out;
                        }
                        o.count = (uint64_t)count;
                        break;
                case 'F':
                        follow = 1;
                        break;
                case 'e':
                        follow = 0;
                        break;
                case 'm':
                        if (nt_num_parse_double(optarg, 0, 1e12,
                                                &o.min_score)) {
                                rc = nt_cli_fail(&cli, 2,
                                                 "--min-score: \"%s\" is not "
                                                 "a number >= 0",
                                                 optarg);
                                goto out;
                        }
                        break;
                case 'E':
                        o.entity = optarg;
                        break;
                case 'l':
                        o.lang = optarg;
                        break;
                case 'g':
                        o.grep = optarg;
                        break;
                case 'G':
                        o.group = optarg;
                        break;
                case 'o':
                        output = optarg;
                        break;
                case 'f':
                        o.format = optarg;
                        break;
                case 'h':
                        fputs(tail_help, stdout);
                        fputs(nt_cli_common_help, stdout);
                        goto out;
                default:
                        rc = 2;
                        goto out;
                }
        }
        if (o.all && optind < argc) {
                rc = nt_cli_fail(&cli, 2,
                                 "--all follows %s; labels do not "
                                 "go with it",
                                 "topics.enriched");
                goto out;
        }
        if (o.from_beginning && o.since_ms != INT64_MIN) {
                rc = nt_cli_fail(&cli, 2,
                                 "--from-beginning and --since exclude each "
                                 "other");
                goto out;
        }
        if (o.format && output) {
                rc = nt_cli_fail(&cli, 2, "-o and -f exclude each other");
                goto out;
        }
        if (o.format) {
                o.output = NT_TAIL_FORMAT;
                if (nt_tail_check_format(o.format, errstr, sizeof(errstr))) {
                        rc = nt_cli_fail(&cli, 2, "%s", errstr);
                        goto out;
                }
        } else if (output) {
                if (strcmp(output, "pretty") == 0) {
                        o.output = NT_TAIL_PRETTY;
                } else if (strcmp(output, "jsonl") == 0) {
                        o.output = NT_TAIL_JSONL;
                } else {
                        rc = nt_cli_fail(&cli, 2,
                                         "-o: \"%s\" is not pretty or jsonl",
                                         output);
                        goto out;
                }
        } else {
                o.output = tty ? NT_TAIL_PRETTY : NT_TAIL_JSONL;
        }
        o.exit_at_end = follow == -1 ? !tty : follow == 0;
        o.color = tty && !(no_color && *no_color);
        o.labels = (const char *const *)argv + optind;
        o.n_labels = (size_t)(argc - optind);
        o.emit = emit_stdout;
        cfg = nt_cli_load_config(&cli, NULL);
        if (!cfg) {
                rc = 2;
                goto out;
        }
        nt_sig_install();
        t = nt_tail_new(cfg, &o, errstr, sizeof(errstr));
        if (!t) {
                rc = nt_cli_fail(&cli, 2, "%s", errstr);
                goto out;
        }
        err = nt_tail_run(t, errstr, sizeof(errstr));
        if (err)
                rc = nt_cli_fail(&cli, err == NT_ERR_USAGE ? 2 : 1, "%s",
                                 errstr);
out:
        nt_tail_destroy(t);
        nt_config_destroy(cfg);
        nt_cli_free(&cli);
        return rc;
}
