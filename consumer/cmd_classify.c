/* `newstap classify`: the classifier daemon (raw -> enriched and per-label
 * topics, exactly once), and --offline: article JSON lines in, enriched
 * JSON lines out, through the same event code and without Kafka. */
#include "common/date.h"
#include "common/buf.h"
#include "common/cli.h"
#include "consumer/commands.h"
#include "common/err.h"
#include "common/health.h"
#include "common/log.h"
#include "common/sig.h"
#include "consumer/classify.h"
#include "consumer/classify_loop.h"
#include "consumer/enriched.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char classify_help[] =
    "Usage: newstap classify [OPTIONS]\n"
    "       newstap classify --offline [OPTIONS] < articles.jsonl\n"
    "\n"
    "Reads the raw topic (topics.raw) in consumer group consumer.group_id\n"
    "and writes one enriched event per article to topics.enriched and a\n"
    "lean label record (docs/schema/label.schema.json) to\n"
    "topics.label_prefix<label> for each label it carries; input\n"
    "that is not JSON, not an article or larger than consumer.max_message\n"
    "goes to topics.dlq with the reason and its origin in headers. Exactly\n"
    "once by default (Kafka transactions; consumer.delivery=at_least_once\n"
    "for brokers without them). Events are CloudEvents 1.0 in binary mode.\n"
    "\n"
    "Signals: SIGINT/SIGTERM commit (or abort) the open batch within\n"
    "consumer.shutdown_timeout and stop; SIGHUP reloads the rules (a\n"
    "broken rules file is reported and the old rules stay).\n"
    "\n"
    "Options:\n"
    "  --rules DIR|FILE   rule files (repeatable; a directory means its\n"
    "                     *.rules files); default consumer.rules\n"
    "  --offline          read article JSON lines on stdin, write enriched\n"
    "                     events as JSON lines on stdout; no Kafka. A bad\n"
    "                     line is reported on stderr with its number and\n"
    "                     skipped; the exit status is then 1\n";

/* Reads lines of at most `max` bytes from a stream in large blocks. */
struct line_reader {
        FILE *f;
        char block[1 << 16];
        size_t pos, len;
        int eof;
};

/* Reads the next line (without its newline) into b. Returns 1 for a line,
 * 0 at the end, NT_ERR_LIMIT for a line longer than b's maximum (the rest
 * of it is skipped), NT_ERR_IO. */
static int read_line(struct line_reader *r, struct nt_buf *b)
{
        int too_long = 0, any = 0;

        nt_buf_reset(b);
        for (;;) {
                const char *nl;
                size_t n;

                if (r->pos == r->len) {
                        if (r->eof)
                                break;
                        r->len = fread(r->block, 1, sizeof(r->block), r->f);
                        r->pos = 0;
                        if (r->len == 0) {
                                r->eof = 1;
                                if (ferror(r->f))
                                        return NT_ERR_IO;
                                break;
                        }
                }
                any = 1;
                nl = memchr(r->block + r->pos, '\n', r->len - r->pos);
                n = nl ? (size_t)(nl - (r->block + r->pos)) : r->len - r->pos;
                if (!too_long && nt_buf_append(b, r->block + r->pos, n) != 0)
                        too_long = 1;
                r->pos += n;
                if (nl) {
                        r->pos++;
                        break;
                }
        }
        if (!any)
                return 0;
        return too_long ? NT_ERR_LIMIT : 1;
}

static bool blank(const char *s, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
                        return false;
        }
        return true;
}

/* --offline: stdin to stdout. Returns the exit status. */
static int run_offline(const struct nt_cli *cli, const nt_config_t *cfg,
                       nt_classifier_t *clf)
{
        static struct line_reader reader;
        struct nt_enriched_opts opts;
        struct nt_enriched_event ev;
        struct nt_buf line;
        char errstr[512];
        unsigned long lineno = 0, bad = 0;
        int rc = 0, got;

        if (nt_enriched_opts_from_config(&opts, cfg, errstr, sizeof(errstr)))
                return nt_cli_fail(cli, 2, "%s", errstr);
        opts.label_records = false; /* only the events are printed */
        nt_buf_init(&line, opts.max_message);
        nt_enriched_event_init(&ev, 2 * opts.max_message + ((size_t)4 << 20));
        memset(&reader, 0, sizeof(reader));
        reader.f = stdin;
        while ((got = read_line(&reader, &line)) != 0) {
                int err;

                lineno++;
                if (got == NT_ERR_IO) {
                        rc = nt_cli_fail(cli, 1, "stdin: read error");
                        goto out;
                }
                if (got == NT_ERR_LIMIT) {
                        fprintf(stderr,
                                "newstap classify: stdin:%lu: too_large: "
                                "longer than consumer.max_message (%zu "
                                "bytes)\n",
                                lineno, opts.max_message);
                        bad++;
                        continue;
                }
                if (blank(line.data ? line.data : "", line.len))
                        continue;
                err = nt_enriched_build(clf, &opts, line.data, line.len,
                                        nt_date_now_ms(), &ev);
                if (err) {
                        rc = nt_cli_fail(cli, 1, "stdin:%lu: %s", lineno,
                                         nt_err_name(err));
                        goto out;
                }
                if (ev.reason != NT_ENRICHED_OK) {
                        fprintf(stderr, "newstap classify: stdin:%lu: %s: %s\n",
                                lineno, nt_enriched_reason_name(ev.reason),
                                ev.error);
                        bad++;
                        continue;
                }
                if (fwrite(ev.value.data, 1, ev.value.len, stdout) !=
                        ev.value.len ||
                    putchar('\n') == EOF) {
                        rc = nt_cli_fail(cli, 1, "stdout: write error");
                        goto out;
                }
        }
        if (fflush(stdout) != 0) {
                rc = nt_cli_fail(cli, 1, "stdout: write error");
                goto out;
        }
        if (bad) {
                fprintf(stderr,
                        "newstap classify: %lu of %lu line(s) were not "
                        "classified\n",
                        bad, lineno);
                rc = 1;
        }
out:
        nt_enriched_event_free(&ev);
        nt_buf_free(&line);
        return rc;
}

/* SIGHUP: the rule files again; a broken set is reported and kept out. */
static nt_classifier_t *reload(void *opaque)
{
        const struct nt_cli *cli = opaque;
        char errstr[1024];
        nt_classifier_t *clf = nt_classifier_from_paths(
            cli->values, cli->n_values, errstr, sizeof(errstr));

        if (!clf)
                NT_ERROR("classify", "reload failed: %s", errstr);
        return clf;
}

int nt_cmd_classify(int argc, char **argv)
{
        bool offline = false;
        const struct nt_cli_option options[] = {
            {.name = "rules", .kind = NT_CLI_REPEAT},
            {.name = "offline", .kind = NT_CLI_FLAG, .flag = &offline},
            {0},
        };
        const struct nt_cli_spec spec = {
            .options = options,
            .help = classify_help,
            .common = true,
        };
        struct nt_cli cli;
        nt_config_t *cfg = NULL;
        nt_classifier_t *clf = NULL;
        nt_classify_loop_t *loop = NULL;
        nt_health_t *health = NULL;
        const char *cfg_rules;
        char errstr[1024];
        int rc = 0, err;

        rc = nt_cli_start(&cli, "classify", &spec, argc, argv, &cfg);
        if (rc != NT_CLI_GO)
                goto out;
        rc = 0;
        cfg_rules = nt_config_str(cfg, "consumer.rules");
        if (cli.n_values == 0 && cfg_rules && *cfg_rules)
                nt_cli_add_value(&cli, cfg_rules);
        if (cli.n_values == 0) {
                rc = nt_cli_fail(&cli, 2,
                                 "no rules: set consumer.rules or pass "
                                 "--rules DIR");
                goto out;
        }
        clf = nt_classifier_from_paths(cli.values, cli.n_values, errstr,
                                       sizeof(errstr));
        if (!clf) {
                rc = nt_cli_fail(&cli, 2, "%s", errstr);
                goto out;
        }
        if (offline) {
                rc = run_offline(&cli, cfg, clf);
                goto out;
        }
        nt_sig_install();
        loop = nt_classify_loop_new(cfg, clf, errstr, sizeof(errstr));
        if (!loop) {
                rc = nt_cli_fail(&cli, 1, "%s", errstr);
                goto out;
        }
        clf = NULL; /* the loop owns it */
        health = nt_health_from_config(cfg, "classify", "127.0.0.1:9465", true,
                                       &err, errstr, sizeof(errstr));
        if (err) {
                rc = nt_cli_fail(&cli, 1, "%s", errstr);
                goto out;
        }
        if (health)
                nt_classify_loop_set_health(loop, health);
        if (nt_classify_loop_run(loop, 0, reload, &cli, errstr,
                                 sizeof(errstr)) != NT_OK)
                rc = nt_cli_fail(&cli, 1, "%s", errstr);
out:
        nt_classify_loop_destroy(loop);
        nt_health_stop(health);
        nt_classifier_destroy(clf);
        nt_config_destroy(cfg);
        nt_cli_free(&cli);
        return rc;
}
