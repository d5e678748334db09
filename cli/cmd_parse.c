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

int nt_cmd_parse(int argc, char **argv)
{
        static const struct option longopts[] = {
            {"base-url", required_argument, NULL, 'b'},
            {"content-type", required_argument, NULL, 't'},
            {"articles", no_argument, NULL, 'a'},
            {"feed-url", required_argument, NULL, 'u'},
            {"fetched", required_argument, NULL, 'f'},
            {"compact", no_argument, NULL, 'C'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        const char *base_url = NULL, *content_type = NULL, *feed_url = NULL;
        const char *path;
        int opt, rc = 0, articles = 0, compact = 0, err;
        int64_t fetched = NT_FEED_NO_DATE;
        char errstr[512], *data = NULL;
        struct nt_feed feed;
        size_t len = 0;
        char *text;

        nt_feed_init(&feed);
        optind = 1;
        while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                switch (opt) {
                case 'b':
                        base_url = optarg;
                        break;
                case 't':
                        content_type = optarg;
                        break;
                case 'a':
                        articles = 1;
                        break;
                case 'u':
                        feed_url = optarg;
                        break;
                case 'f':
                        if (nt_date_parse(optarg, &fetched) != NT_OK) {
                                fprintf(stderr,
                                        "newstap parse: --fetched: \"%s\" is "
                                        "not a date\n",
                                        optarg);
                                rc = 2;
                                goto out;
                        }
                        break;
                case 'C':
                        compact = 1;
                        break;
                case 'h':
                        fputs(parse_help, stdout);
                        goto out;
                default:
                        fputs("Run `newstap parse --help' for the options.\n",
                              stderr);
                        rc = 2;
                        goto out;
                }
        }
        if (optind != argc - 1) {
                fputs("newstap parse: expected one FILE (or - for stdin)\n\n",
                      stderr);
                fputs(parse_help, stderr);
                rc = 2;
                goto out;
        }
        path = argv[optind];
        err = nt_cli_read_input(path, feed.limits.max_document, &data, &len,
                                errstr, sizeof(errstr));
        if (err) {
                fprintf(stderr, "newstap parse: %s\n",
                        err == NT_ERR_NOMEM ? "out of memory" : errstr);
                rc = 1;
                goto out;
        }
        err = nt_feed_parse(data, len, content_type, base_url, NULL, &feed,
                            errstr, sizeof(errstr));
        if (err) {
                fprintf(stderr, "newstap parse: %s: %s\n", path, errstr);
                rc = 1;
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
        if (!text || fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF) {
                fprintf(stderr, "newstap parse: cannot write the output\n");
                rc = 1;
        }
        free(text);
out:
        if (fflush(stdout) != 0 && rc == 0)
                rc = 1;
        nt_feed_free(&feed);
        free(data);
        return rc;
}
