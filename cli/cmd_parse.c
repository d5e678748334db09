/* `newstap parse`: parse one feed document from a file or stdin and print
 * the parse as JSON (the contract conformance suites check), or the
 * articles the producer would publish, one JSON object per line. */
#include "common/article.h"
#include "cli/commands.h"
#include "common/cli.h"
#include "common/date.h"
#include "common/err.h"
#include "common/feed.h"
#include "common/feed_parse.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char parse_help[] =
    "Usage: newstap parse [OPTIONS] FILE|-\n"
    "\n"
    "Parse one feed document (RSS 0.90-0.94, RSS 1.0, RSS 2.0, Atom 0.3\n"
    "and 1.0, JSON Feed 1.0 and 1.1; the format is read from the content)\n"
    "and print one JSON object: format, wellformed, encoding, errors, feed\n"
    "and entries. Ill-formed documents are recovered where their entries\n"
    "are readable (wellformed: false, errors with line numbers). `-' reads\n"
    "standard input.\n"
    "\n"
    "Options:\n"
    "  --base-url URL      resolve relative links against URL (as HTTP's\n"
    "                      Content-Location or the request URL would)\n"
    "  --content-type CT   the HTTP Content-Type, whose charset counts\n"
    "                      (\"text/xml; charset=koi8-r\")\n"
    "  --articles          print the articles instead (newstap.article/1),\n"
    "                      one JSON object per line: what `newstap produce'\n"
    "                      publishes\n"
    "  --feed-url URL      the feed URL of the articles (default: --base-url,\n"
    "                      else FILE)\n"
    "  --fetched DATE      the fetch time of the articles (default: now)\n"
    "  --compact           print the parse on one line\n"
    "  -h, --help          show this help\n"
    "\n"
    "The document may be at most 32 MiB; a feed keeps at most 10,000\n"
    "entries and 1 MiB per field (cuts are listed in errors).\n"
    "\n"
    "Exit status: 0 output printed (also for a recovered document), 1\n"
    "nothing recoverable or the file unreadable, 2 usage error.\n";

/* Prints one article per entry; returns the exit status. */
static int print_articles(const struct nt_feed *feed, const char *feed_url,
                          int64_t fetched)
{
        struct nt_article art;
        char errstr[256], *line;
        size_t i;

        for (i = 0; i < feed->n_entries; i++) {
                nt_article_init(&art);
                if (nt_article_from_entry(feed, &feed->entries[i], feed_url,
                                          fetched, &art, errstr,
                                          sizeof(errstr))) {
                        fprintf(stderr, "newstap parse: entry %zu: %s\n", i,
                                errstr);
                        return 1;
                }
                line = nt_article_to_json_line(&art);
                nt_article_free(&art);
                if (!line) {
                        fprintf(stderr, "newstap parse: out of memory\n");
                        return 1;
                }
                puts(line);
                free(line);
        }
        return 0;
}

/* --fetched, the one option with a value to check. */
static int parse_option(struct nt_cli *cli, void *ctx, int opt, const char *arg)
{
        int64_t *fetched = ctx;

        if (opt != 'f')
                return 2;
        if (nt_date_parse(arg, fetched) != NT_OK)
                return nt_cli_fail(cli, 2, "--fetched: \"%s\" is not a date",
                                   arg);
        return 0;
}

int nt_cmd_parse(int argc, char **argv)
{
        const char *base_url = NULL, *content_type = NULL, *feed_url = NULL;
        bool articles = false, compact = false;
        int64_t fetched = NT_FEED_NO_DATE;
        const struct nt_cli_option options[] = {
            {.name = "base-url", .kind = NT_CLI_VALUE, .value = &base_url},
            {.name = "content-type",
             .kind = NT_CLI_VALUE,
             .value = &content_type},
            {.name = "articles", .kind = NT_CLI_FLAG, .flag = &articles},
            {.name = "feed-url", .kind = NT_CLI_VALUE, .value = &feed_url},
            {.name = "fetched", .kind = NT_CLI_CALL, .id = 'f'},
            {.name = "compact", .kind = NT_CLI_FLAG, .flag = &compact},
            {0},
        };
        const struct nt_cli_spec spec = {
            .options = options,
            .help = parse_help,
            .on_option = parse_option,
            .ctx = &fetched,
            .hint_help = true,
        };
        const char *path = NULL;
        char errstr[512], *data = NULL;
        struct nt_feed feed;
        struct nt_cli cli;
        size_t len = 0;
        int rc, err;
        char *text;

        nt_feed_init(&feed);
        rc = nt_cli_start_file(&cli, "parse", &spec, argc, argv,
                               feed.limits.max_document, &path, &data, &len);
        if (rc != NT_CLI_GO)
                goto out;
        rc = 0;
        err = nt_feed_parse(data, len, content_type, base_url, NULL, &feed,
                            errstr, sizeof(errstr));
        if (err) {
                rc = nt_cli_fail(&cli, 1, "%s: %s", path, errstr);
                goto out;
        }
        if (articles) {
                unsigned bit;

                /* The JSON says "truncated"; the article lines cannot,
                 * so each cut is said on stderr. */
                for (bit = 1; bit & NT_FEED_CUT_ALL; bit <<= 1) {
                        char what[1024];

                        if (feed.cuts & bit)
                                fprintf(stderr, "newstap parse: %s: %s\n", path,
                                        nt_feed_cut_describe(&feed, bit, what,
                                                             sizeof(what)));
                }
                if (!feed_url)
                        feed_url = base_url ? base_url : path;
                rc = print_articles(
                    &feed, feed_url,
                    fetched == NT_FEED_NO_DATE ? nt_date_now_ms() : fetched);
                goto out;
        }
        text = nt_feed_to_json_text(&feed, compact ? 0 : 2);
        if (!text || fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF)
                rc = nt_cli_fail(&cli, 1, "cannot write the output");
        free(text);
out:
        nt_feed_free(&feed);
        return nt_cli_end_file(&cli, rc, data);
}
