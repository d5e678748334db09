/* `newstap produce`: the feed-polling daemon. */
#include "common/cli.h"
#include "producer/commands.h"
#include "common/err.h"
#include "common/sig.h"
#include "producer/feeds.h"
#include "producer/producer.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char produce_help[] =
    "Usage: newstap produce [OPTIONS]\n"
    "\n"
    "Polls the feeds of producer.feeds (and --opml files) on their\n"
    "schedules and publishes every new or edited article to the raw\n"
    "topic (topics.raw), keyed by article id. Polite: conditional GET,\n"
    "Retry-After, RSS ttl/skipHours/skipDays and Cache-Control max-age\n"
    "respected, exponential backoff on failures, one User-Agent naming\n"
    "newstap and producer.contact. Loss-free: an article is marked seen\n"
    "only after the broker confirmed it; state is saved per feed in\n"
    "producer.state_dir.\n"
    "\n"
    "Signals: SIGINT/SIGTERM stop cleanly (a second one exits at once),\n"
    "SIGHUP reloads the feed list from the configuration and OPML files.\n"
    "\n"
    "Credentials in a feed URL (https://user:pass@host/...) and header\n"
    "values go to the feed's server only: articles, logs and metrics show\n"
    "the URL without them. Intervals below producer.min_interval (1m) are\n"
    "refused; `newstap config check` validates as produce does.\n"
    "\n"
    "With --group NAME (or producer.coordination: kafka), instances share\n"
    "the feeds of topics.feeds (newstap feeds add/remove/sync) through\n"
    "consumer group NAME: each polls the feeds of its partitions, keeps\n"
    "their state in topics.feeds_state instead of state_dir, and writes a\n"
    "poll's articles and the feed's new state in one Kafka transaction:\n"
    "exactly once from the feed for read_committed readers. A kill moves\n"
    "the instance's feeds to the others (docs/operations.md, Scaling the\n"
    "producer). producer.feeds and --state-dir are not used; --opml and\n"
    "--once are refused (exit 2).\n"
    "\n"
    "Options:\n"
    "  --group NAME       share topics.feeds with the instances of group\n"
    "                     NAME (sets producer.coordination kafka and\n"
    "                     producer.group)\n"
    "  --instance ID      this instance's id (producer.instance; default\n"
    "                     the host name): logs, metrics and its\n"
    "                     transactional.id newstap-produce.NAME.ID; two\n"
    "                     instances on one host need distinct ids\n"
    "  --opml FILE        add the feeds of an OPML file (repeatable)\n"
    "  --once             poll every feed once, publish, and exit: 0 when\n"
    "                     every poll succeeded and every article was\n"
    "                     confirmed, 1 when a feed failed\n"
    "  --state-dir DIR    overrides producer.state_dir\n";

struct produce_ctx {
        struct nt_cli *cli; /* --opml files in cli->values */
        const char *state_dir;
        const char *group, *instance;
        bool once; /* --once */
};

/* SIGHUP: read the files again; only the feed list is taken over (the
 * logging set up at start stays: other threads are logging). */
static int reload(void *opaque, struct nt_feed_list *out, char *errstr,
                  size_t errstr_size)
{
        struct produce_ctx *ctx = opaque;
        nt_config_t *cfg =
            nt_cli_build_config(ctx->cli, NULL, errstr, errstr_size);
        int err;

        if (!cfg)
                return NT_ERR_CONFIG;
        err = nt_feed_list_from_config(out, cfg, ctx->cli->values,
                                       ctx->cli->n_values, errstr, errstr_size);
        if (!err)
                err = nt_feed_list_resolve_secrets(out, errstr, errstr_size);
        nt_config_destroy(cfg);
        return err;
}

int nt_cmd_produce(int argc, char **argv)
{
        struct produce_ctx ctx;
        const struct nt_cli_option options[] = {
            {.name = "opml", .kind = NT_CLI_REPEAT},
            {.name = "once", .kind = NT_CLI_FLAG, .flag = &ctx.once},
            {.name = "state-dir",
             .kind = NT_CLI_VALUE,
             .value = &ctx.state_dir},
            {.name = "group", .kind = NT_CLI_VALUE, .value = &ctx.group},
            {.name = "instance", .kind = NT_CLI_VALUE, .value = &ctx.instance},
            {0},
        };
        const struct nt_cli_spec spec = {
            .options = options,
            .help = produce_help,
            .common = true,
        };
        struct nt_feed_list feeds;
        struct nt_cli cli;
        nt_config_t *cfg = NULL;
        nt_producer_t *prod = NULL;
        nt_health_t *health = NULL;
        char errstr[1024];
        int rc = 0, err;
        bool group = false;

        memset(&ctx, 0, sizeof(ctx));
        nt_feed_list_init(&feeds);
        ctx.cli = &cli;
        rc = nt_cli_start(&cli, "produce", &spec, argc, argv, &cfg);
        if (rc != NT_CLI_GO)
                goto out;
        rc = nt_cli_set_key(&cli, cfg, "producer.state_dir", ctx.state_dir,
                            "--state-dir");
        if (!rc)
                rc = nt_cli_set_key(&cli, cfg, "producer.coordination",
                                    ctx.group ? "kafka" : NULL, "--group");
        if (!rc)
                rc = nt_cli_set_key(&cli, cfg, "producer.group", ctx.group,
                                    "--group");
        if (!rc)
                rc = nt_cli_set_key(&cli, cfg, "producer.instance",
                                    ctx.instance, "--instance");
        if (rc)
                goto out;
        if (strcmp(nt_config_str(cfg, "producer.coordination"), "kafka") == 0)
                group = true;
        if (group && !*nt_config_str(cfg, "producer.group")) {
                rc = nt_cli_fail(&cli, 2,
                                 "producer.coordination kafka needs "
                                 "producer.group (or --group NAME)");
                goto out;
        }
        if (group &&
            nt_producer_group_check(cfg, errstr, sizeof(errstr)) != NT_OK) {
                rc = nt_cli_fail(&cli, 2, "%s", errstr);
                goto out;
        }
        if (group && (ctx.once || cli.n_values > 0)) {
                rc = nt_cli_fail(&cli, 2,
                                 "--group takes its feeds from topics.feeds: "
                                 "--once and --opml do not apply");
                goto out;
        }
        if (group) {
                /* The feeds come from the topic, their secrets are
                 * resolved as their records arrive. */
                err = NT_OK;
                goto start;
        }
        err = nt_feed_list_from_config(&feeds, cfg, cli.values, cli.n_values,
                                       errstr, sizeof(errstr));
        if (!err)
                err = nt_feed_list_resolve_secrets(&feeds, errstr,
                                                   sizeof(errstr));
        if (err) {
                /* A bad feed list or OPML file is the user's input. */
                rc = nt_cli_fail(&cli, err == NT_ERR_NOMEM ? 1 : 2, "%s",
                                 errstr);
                goto out;
        }
        if (feeds.n == 0) {
                rc = nt_cli_fail(&cli, 2,
                                 "no feeds: list them in producer.feeds or "
                                 "pass --opml FILE");
                goto out;
        }
start:
        nt_sig_install();
        prod = nt_producer_new(cfg, &feeds, ctx.once, errstr, sizeof(errstr));
        if (!prod) {
                rc = nt_cli_fail(&cli, 1, "%s", errstr);
                goto out;
        }
        /* auto: on for the daemon, off for a one-shot --once run. */
        health = nt_health_from_config(cfg, "producer", "127.0.0.1:9464",
                                       !ctx.once, &err, errstr, sizeof(errstr));
        if (err) {
                rc = nt_cli_fail(&cli, 1, "%s", errstr);
                goto out;
        }
        if (health)
                nt_producer_set_health(prod, health);
        if (nt_producer_run(prod, group ? NULL : reload, &ctx) != NT_OK)
                rc = 1;
out:
        nt_producer_destroy(prod);
        nt_health_stop(health);
        nt_feed_list_free(&feeds);
        nt_config_destroy(cfg);
        nt_cli_free(&cli);
        return rc;
}
