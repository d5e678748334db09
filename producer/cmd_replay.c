/* `newstap replay`: publish archived feeds to the raw topic. */
#include "common/cli.h"
#include "producer/commands.h"
#include "common/date.h"
#include "common/err.h"
#include "common/num.h"
#include "common/sig.h"
#include "producer/replay.h"

#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>

static const char replay_help[] =
    "Usage: newstap replay [OPTIONS] PATH...\n"
    "\n"
    "Publishes archived feeds to the raw topic (topics.raw) exactly as\n"
    "`newstap produce` would: same article ids and keys, same headers\n"
    "(the published time in `published`). Records are stamped with the\n"
    "time they are written, so the topic's retention counts from the\n"
    "replay, not from the article's date. Each PATH is a file, a directory\n"
    "(every file below it, in name order; hidden files skipped), a glob\n"
    "pattern, or - for standard input (JSON lines or one feed, gzip'd or\n"
    "not; read as it comes, so `kcat ... | newstap replay -` streams).\n"
    "Formats are detected from the content, gzip'd or not:\n"
    "  - feeds (RSS, Atom, JSON Feed), as `newstap parse` reads them;\n"
    "  - JSON lines of articles (`parse --articles`) or of enriched\n"
    "    events (`tail -o jsonl`: their article is replayed);\n"
    "  - WARC/1.0 and 1.1 files (.warc, .warc.gz): every `response` record\n"
    "    is parsed as a feed with its HTTP headers, its WARC-Target-URI as\n"
    "    the feed URL and base; with --pages, HTML responses are article\n"
    "    pages instead.\n"
    "The same article (id and revision) is published once per run.\n"
    "\n"
    "A bad file or record is reported with its path, record number or\n"
    "byte offset and skipped; the exit status is then 1. Every article\n"
    "published is confirmed by the broker before the command ends.\n"
    "\n"
    "Options:\n"
    "  --rate N           at most N articles per second\n"
    "  --speed X          replay at X times the original pace, by published\n"
    "                     time (the archive is ordered by time first)\n"
    "  --max-gap DUR      longest wait between two articles under --speed\n"
    "                     (\"10s\", \"2m\"; default: no cap)\n"
    "  --from TIME        only articles published at or after TIME\n"
    "  --until TIME       only articles published at or before TIME;\n"
    "                     TIME is RFC 3339 (2026-01-05T10:00:00Z) or an age\n"
    "                     (\"2h\", \"7d\": that long ago). Articles without a\n"
    "                     date are left out when a window is given.\n"
    "  --timestamp WHICH  record time: `now` (default) or `published`\n"
    "                     (the article's time; a record older than the\n"
    "                     topic's retention.ms is deleted by the broker at\n"
    "                     its next check: replay warns and counts them)\n"
    "  --skip-seen        first read the raw topic back and skip articles\n"
    "                     whose id and revision are already on it\n"
    "  --strict           stop at the first bad file or record\n"
    "  --feed-url URL     feed URL of plain feed files (default: the path,\n"
    "                     as `newstap parse --articles`); it enters the id\n"
    "                     of entries without a link\n"
    "  --base-url URL     base of relative links in feed files (default:\n"
    "                     the feed URL)\n"
    "  --pages            WARC responses that are HTML (text/html,\n"
    "                     application/xhtml+xml) are article pages: their\n"
    "                     main text (as `newstap extract' finds it) is\n"
    "                     published as an article with content_source\n"
    "                     \"page\", its url the WARC-Target-URI, published\n"
    "                     the page's date (JSON-LD, meta) or the WARC-Date\n"
    "  --topic NAME       overrides topics.raw\n"
    "\n"
    "Progress goes to stderr when it is a terminal; a summary is printed\n"
    "at the end. See docs/replay-and-tail.md.\n";

struct ui {
        bool tty;
        bool line_shown; /* a progress line is on the terminal */
};

static void clear_line(struct ui *ui)
{
        if (ui->line_shown) {
                fputs("\r\033[K", stderr);
                ui->line_shown = false;
        }
}

static void on_error(void *ctx, const char *path, const char *what)
{
        struct ui *ui = ctx;

        clear_line(ui);
        fprintf(stderr, "newstap replay: %s: %s\n", path, what);
}

static void on_progress(void *ctx, const struct nt_replay_stats *st)
{
        struct ui *ui = ctx;
        double secs = (double)(nt_date_mono_ms() - st->started_ms) / 1000.0;
        double rate = secs > 0 ? (double)st->queued / secs : 0;
        char eta[32] = "-", line[256];
        double left = -1;
        struct winsize ws;
        int width = 79;

        if (!ui->tty)
                return;
        if (st->publishing && st->articles > 0 && st->queued > 0)
                left = secs *
                       (double)(st->articles - st->duplicates - st->outside -
                                st->queued) /
                       (double)st->queued;
        else if (!st->publishing && st->bytes_done > 0 &&
                 st->bytes_total > st->bytes_done)
                left = secs * (double)(st->bytes_total - st->bytes_done) /
                       (double)st->bytes_done;
        if (left >= 0)
                snprintf(eta, sizeof(eta), "%d:%02d", (int)(left / 60),
                         (int)left % 60);
        snprintf(line, sizeof(line),
                 "files %zu/%zu  articles %llu (published %llu)  "
                 "%.1f/%.1f MiB  %.0f/s  ETA %s",
                 st->files_done, st->files_total,
                 (unsigned long long)st->articles,
                 (unsigned long long)st->published,
                 (double)st->bytes_done / 1048576.0,
                 (double)st->bytes_total / 1048576.0, rate, eta);
        /* One line that fits: a line longer than the terminal wraps, and
         * "\r" then rewrites only its last row. */
        if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
                width = (int)ws.ws_col - 1;
        fprintf(stderr, "\r\033[K%.*s", width, line);
        ui->line_shown = true;
}

/* RFC 3339, or an age such as "2h" meaning that long before now. */
static int parse_time(const char *s, int64_t *out)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return nt_date_parse_since(
            s, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, out);
}

struct replay_cli {
        struct nt_replay_opts o;
        const char *topic; /* --topic */
};

static int replay_option(struct nt_cli *cli, void *opaque, int opt,
                         const char *arg)
{
        struct replay_cli *ro = opaque;

        switch (opt) {
        case 'r':
                if (nt_num_parse_double(arg, 0.001, 1e9, &ro->o.rate)) {
                        return nt_cli_fail(cli, 2,
                                           "--rate: \"%s\" is not a "
                                           "number of articles per "
                                           "second",
                                           arg);
                }
                return 0;
        case 's':
                if (nt_num_parse_double(arg, 0.0001, 1e9, &ro->o.speed)) {
                        return nt_cli_fail(cli, 2,
                                           "--speed: \"%s\" is not a "
                                           "positive factor",
                                           arg);
                }
                return 0;
        case 'g':
                if (nt_num_parse_duration_ms(arg, 1000, &ro->o.max_gap_ms) ||
                    ro->o.max_gap_ms < 0) {
                        return nt_cli_fail(cli, 2,
                                           "--max-gap: \"%s\" is not a "
                                           "duration",
                                           arg);
                }
                return 0;
        case 'f':
        case 'u':
                if (parse_time(arg,
                               opt == 'f' ? &ro->o.from_ms : &ro->o.until_ms)) {
                        return nt_cli_fail(cli, 2,
                                           "--%s: \"%s\" is neither "
                                           "RFC 3339 nor an age like "
                                           "2h",
                                           opt == 'f' ? "from" : "until", arg);
                }
                return 0;
        case 'W':
                if (strcmp(arg, "now") == 0) {
                        ro->o.stamp_published = false;
                } else if (strcmp(arg, "published") == 0) {
                        ro->o.stamp_published = true;
                } else {
                        return nt_cli_fail(cli, 2,
                                           "--timestamp: \"%s\" is "
                                           "neither now nor published",
                                           arg);
                }
                return 0;
        }
        return 2;
}

/* The options that go together, and the PATHs, checked before the
 * configuration is read. */
static int replay_check(struct nt_cli *cli, void *opaque, int argc, char **argv)
{
        const struct replay_cli *ro = opaque;

        (void)argv;
        if (optind == argc)
                return nt_cli_fail(cli, 2,
                                   "no input: give files, directories or "
                                   "patterns (see --help)");
        if (ro->o.from_ms > ro->o.until_ms)
                return nt_cli_fail(cli, 2, "--from is later than --until");
        if (ro->o.max_gap_ms >= 0 && ro->o.speed <= 0)
                return nt_cli_fail(cli, 2, "--max-gap goes with --speed");
        return 0;
}

int nt_cmd_replay(int argc, char **argv)
{
        struct replay_cli ro = {0};
        const struct nt_cli_option options[] = {
            {.name = "rate", .kind = NT_CLI_CALL, .id = 'r'},
            {.name = "speed", .kind = NT_CLI_CALL, .id = 's'},
            {.name = "max-gap", .kind = NT_CLI_CALL, .id = 'g'},
            {.name = "from", .kind = NT_CLI_CALL, .id = 'f'},
            {.name = "until", .kind = NT_CLI_CALL, .id = 'u'},
            {.name = "skip-seen", .kind = NT_CLI_FLAG, .flag = &ro.o.skip_seen},
            {.name = "strict", .kind = NT_CLI_FLAG, .flag = &ro.o.strict},
            {.name = "feed-url", .kind = NT_CLI_VALUE, .value = &ro.o.feed_url},
            {.name = "base-url", .kind = NT_CLI_VALUE, .value = &ro.o.base_url},
            {.name = "topic", .kind = NT_CLI_VALUE, .value = &ro.topic},
            {.name = "timestamp", .kind = NT_CLI_CALL, .id = 'W'},
            {.name = "pages", .kind = NT_CLI_FLAG, .flag = &ro.o.pages},
            {0},
        };
        const struct nt_cli_spec spec = {
            .options = options,
            .help = replay_help,
            .common = true,
            .on_option = replay_option,
            .ctx = &ro,
            .check = replay_check,
            .max_args = INT_MAX,
        };
        struct nt_replay_stats st;
        struct nt_cli cli;
        struct ui ui = {0};
        nt_config_t *cfg = NULL;
        nt_replay_t *rp = NULL;
        char errstr[1024];
        int rc = 0, err;

        nt_replay_opts_init(&ro.o);
        rc = nt_cli_start(&cli, "replay", &spec, argc, argv, &cfg);
        if (rc != NT_CLI_GO)
                goto out;
        rc = nt_cli_set_key(&cli, cfg, "topics.raw", ro.topic, "--topic");
        if (rc)
                goto out;
        ui.tty = isatty(STDERR_FILENO) == 1;
        ro.o.on_error = on_error;
        ro.o.on_progress = on_progress;
        ro.o.ctx = &ui;
        nt_sig_install();
        rp = nt_replay_new(cfg, &ro.o, errstr, sizeof(errstr));
        if (!rp) {
                rc = nt_cli_fail(&cli, 1, "%s", errstr);
                goto out;
        }
        err = nt_replay_run(rp, (const char *const *)argv + optind,
                            (size_t)(argc - optind), errstr, sizeof(errstr));
        clear_line(&ui);
        nt_replay_stats(rp, &st);
        printf(
            "replay: %zu file(s), %llu record(s), %llu article(s) found; "
            "%llu published, %llu duplicate(s) skipped, %llu outside the "
            "window, %llu not feeds, %llu error(s)",
            st.files_total, (unsigned long long)st.records,
            (unsigned long long)st.articles, (unsigned long long)st.published,
            (unsigned long long)st.duplicates, (unsigned long long)st.outside,
            (unsigned long long)st.not_feeds, (unsigned long long)st.errors);
        if (ro.o.pages)
                printf("; %llu page(s) extracted, %llu without a main text",
                       (unsigned long long)st.pages,
                       (unsigned long long)st.pages_no_text);
        if (st.refused)
                printf("; %llu refused by the broker",
                       (unsigned long long)st.refused);
        if (ro.o.skip_seen)
                printf("; %llu already on the topic",
                       (unsigned long long)st.on_topic);
        if (st.past_retention)
                printf("; %llu older than the topic's retention.ms (%lld ms)",
                       (unsigned long long)st.past_retention,
                       (long long)st.retention_ms);
        printf("; %.1f s\n",
               (double)(nt_date_mono_ms() - st.started_ms) / 1000.0);
        fflush(stdout);
        if (err) {
                nt_cli_fail(&cli, 1, "%s", errstr);
                rc = 1;
        }
out:
        nt_replay_destroy(rp);
        nt_config_destroy(cfg);
        nt_cli_free(&cli);
        return rc;
}
