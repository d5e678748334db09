/* `newstap feeds`: the producer's feeds as an operator sees them, each with
 * what its state file says (last success, next poll, failures,
 * validators), read beside a running producer without disturbing it. */
#include "common/cli.h"
#include "producer/commands.h"
#include "common/date.h"
#include "common/err.h"
#include "common/url.h"
#include "producer/feeds.h"
#include "producer/state.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char feeds_help[] =
    "Usage: newstap feeds [list] [OPTIONS]\n"
    "\n"
    "Lists the feeds `newstap produce` polls with this configuration\n"
    "(producer.feeds and --opml files) and what each one's state file in\n"
    "producer.state_dir says: when it last succeeded (200 or 304), when\n"
    "it is polled next, consecutive failures and the last error, the\n"
    "validators kept for conditional GET, and whether it was disabled by\n"
    "410 Gone. Reading the state beside a running producer is safe: the\n"
    "files are replaced atomically and nothing is written.\n"
    "\n"
    "URLs are shown without credentials.\n"
    "\n"
    "Options:\n"
    "  --opml FILE        add the feeds of an OPML file (repeatable)\n"
    "  --state-dir DIR    overrides producer.state_dir\n"
    "  -o, --output FMT   table (default) or jsonl (one object per feed,\n"
    "                     times as RFC 3339 or null)\n"
    "\n"
    "Exit status: 0, also when a feed is failing (see the FAIL column);\n"
    "1 when a state file is unreadable; 2 on a usage or configuration\n"
    "error.\n";

/* "3m ago", "in 12s", "never": an age or a wait, to the coarsest unit. */
static void relative(int64_t when_ms, int64_t now_ms, char *buf, size_t size)
{
        int64_t d = when_ms - now_ms;
        int64_t a = d < 0 ? -d : d;
        const char *unit = "s";
        int64_t n = a / 1000;

        if (when_ms <= 0) {
                snprintf(buf, size, "%s", "never");
                return;
        }
        if (n >= 86400) {
                n /= 86400;
                unit = "d";
        } else if (n >= 3600) {
                n /= 3600;
                unit = "h";
        } else if (n >= 60) {
                n /= 60;
                unit = "m";
        }
        if (d < 0)
                snprintf(buf, size, "%lld%s ago", (long long)n, unit);
        else
                snprintf(buf, size, "in %lld%s", (long long)n, unit);
}

static json_t *time_or_null(int64_t ms)
{
        char buf[32];

        if (ms <= 0)
                return json_null();
        nt_date_format(ms, buf, sizeof(buf));
        return json_string(buf);
}

/* One feed: its line of the table, or its JSON object. */
static void print_feed(const struct nt_feed_spec *spec,
                       const struct nt_feed_state *st, bool known, bool jsonl,
                       int64_t now)
{
        char *url = nt_url_without_userinfo(spec->url, NULL);
        char *moved = st->url ? nt_url_without_userinfo(st->url, NULL) : NULL;
        char last[32], next[32], validators[16];

        snprintf(validators, sizeof(validators), "%s%s%s",
                 st->etag ? "etag" : "",
                 st->etag && st->last_modified ? "," : "",
                 st->last_modified ? "lm" : "");
        if (jsonl) {
                /* "s?": null for a NULL string. */
                json_t *obj = json_pack(
                    "{s:s?, s:s?, s:s?, s:b, s:o, s:o, s:i, s:s?, s:s?, s:s?, "
                    "s:b}",
                    "url", url, "name", spec->name, "moved_to", moved, "polled",
                    known, "last_success", time_or_null(st->last_success_ms),
                    "next_poll", time_or_null(st->next_poll_ms), "failures",
                    st->failures, "last_error", st->last_error, "etag",
                    st->etag, "last_modified", st->last_modified, "disabled",
                    st->disabled);
                char *line = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

                if (line)
                        printf("%s\n", line);
                free(line);
                json_decref(obj);
        } else {
                relative(st->last_success_ms, now, last, sizeof(last));
                if (!known)
                        snprintf(next, sizeof(next), "%s", "at start");
                else if (st->disabled)
                        snprintf(next, sizeof(next), "%s", "disabled");
                else if (st->next_poll_ms <= now)
                        snprintf(next, sizeof(next), "%s", "due");
                else
                        relative(st->next_poll_ms, now, next, sizeof(next));
                /* A feed without a name of its own is named by its URL. */
                bool named = spec->name && url && strcmp(spec->name, url) != 0;

                printf("%-10s %-10s %4d  %-10s %s%s%s%s%s\n", last, next,
                       st->failures, *validators ? validators : "-",
                       named ? spec->name
                       : url ? url
                             : "?",
                       named ? " <" : "", named ? url : "", named ? ">" : "",
                       moved ? " (moved)" : "");
                if (st->last_error)
                        printf("%-10s %-10s %4s  %-10s   last error: %s\n", "",
                               "", "", "", st->last_error);
        }
        free(url);
        free(moved);
}

int nt_cmd_feeds(int argc, char **argv)
{
        static const struct option longopts[] = {
            NT_CLI_LONGOPTS,
            {"opml", required_argument, NULL, 'p'},
            {"state-dir", required_argument, NULL, 's'},
            {"output", required_argument, NULL, 'o'},
            {NULL, 0, NULL, 0},
        };
        struct nt_feed_list feeds;
        struct nt_cli cli;
        nt_config_t *cfg = NULL;
        const char **opml = NULL;
        const char *state_dir = NULL;
        size_t n_opml = 0, i;
        bool jsonl = false;
        char errstr[1024];
        int64_t now;
        int opt, rc = 0, err = NT_OK;

        nt_feed_list_init(&feeds);
        opml = calloc((size_t)argc + 1, sizeof(*opml));
        if (!opml || nt_cli_init(&cli, "feeds", argc)) {
                free(opml);
                return 1;
        }
        while ((opt = getopt_long(argc, argv, NT_CLI_SHORTOPTS "o:", longopts,
                                  NULL)) != -1) {
                if (nt_cli_common_option(&cli, opt, optarg))
                        continue;
                switch (opt) {
                case 'p':
                        opml[n_opml++] = optarg;
                        break;
                case 's':
                        state_dir = optarg;
                        break;
                case 'o':
                        if (strcmp(optarg, "jsonl") == 0) {
                                jsonl = true;
                        } else if (strcmp(optarg, "table") != 0) {
                                rc = nt_cli_fail(&cli, 2,
                                                 "-o: \"%s\" is neither "
                                                 "table nor jsonl",
                                                 optarg);
                                goto out;
                        }
                        break;
                case 'h':
                        fputs(feeds_help, stdout);
                        fputs(nt_cli_common_help, stdout);
                        goto out;
                default:
                        rc = 2;
                        goto out;
                }
        }
        /* `list` is the verb today; the others are for feeds kept in
         * Kafka (add, remove, import, sync). */
        if (optind < argc && strcmp(argv[optind], "list") == 0)
                optind++;
        if (optind < argc) {
                rc =
                    nt_cli_fail(&cli, 2, "unknown argument \"%s\" (see --help)",
                                argv[optind]);
                goto out;
        }
        cfg = nt_cli_load_config(&cli, NULL);
        if (!cfg) {
                rc = 2;
                goto out;
        }
        if (state_dir &&
            nt_config_set(cfg, "producer.state_dir", state_dir, "--state-dir",
                          errstr, sizeof(errstr)) != NT_OK) {
                rc = nt_cli_fail(&cli, 2, "%s", errstr);
                goto out;
        }
        err = nt_feed_list_from_config(&feeds, cfg, opml, n_opml, errstr,
                                       sizeof(errstr));
        if (err) {
                rc = nt_cli_fail(&cli, 2, "%s", errstr);
                goto out;
        }
        state_dir = nt_config_str(cfg, "producer.state_dir");
        now = nt_date_now_ms();
        if (!jsonl)
                printf("%-10s %-10s %4s  %-10s %s\n", "SUCCEEDED", "NEXT",
                       "FAIL", "VALIDATORS", "FEED");
        for (i = 0; i < feeds.n; i++) {
                struct nt_feed_state st;
                int lerr;

                if (nt_state_init(&st) != NT_OK) {
                        rc = nt_cli_fail(&cli, 1, "out of memory");
                        goto out;
                }
                lerr = nt_state_peek(state_dir, feeds.feeds[i].url, &st, errstr,
                                     sizeof(errstr));
                /* A state file written before credentials were scrubbed
                 * may still hold them in its last error. */
                if (st.last_error)
                        nt_url_scrub_userinfo(st.last_error);
                if (lerr == NT_OK || lerr == NT_ERR_NOTFOUND) {
                        print_feed(&feeds.feeds[i], &st, lerr == NT_OK, jsonl,
                                   now);
                } else {
                        nt_url_scrub_userinfo(errstr);
                        nt_cli_fail(&cli, 1, "%s", errstr);
                        rc = 1;
                }
                nt_state_free(&st);
        }
out:
        nt_feed_list_free(&feeds);
        nt_config_destroy(cfg);
        nt_cli_free(&cli);
        free(opml);
        return rc;
}
