/* `newstap extract`: the main text of one saved article page, as JSON,
 * through the same extraction the producer and replay --pages use; for
 * operators checking what newstap makes of a site. */
#include "cli/commands.h"
#include "common/cli.h"
#include "common/date.h"
#include "common/err.h"
#include "common/extract.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char extract_help[] =
    "Usage: newstap extract [OPTIONS] FILE|-\n"
    "\n"
    "Extract the main text of one article page (HTML) and print it as one\n"
    "JSON object: method (jsonld, article, density or none), title, text\n"
    "(paragraphs separated by blank lines), paragraphs, description,\n"
    "author, site_name, language, canonical, published, modified,\n"
    "encoding and cuts. The text is the JSON-LD articleBody when the page\n"
    "has one, else the <article> holding most of the prose, else the block\n"
    "that scores best on text and link density; navigation, headers,\n"
    "footers, asides, forms, comments and related, share, cookie and\n"
    "newsletter boxes are left out. `-' reads standard input.\n"
    "\n"
    "Options:\n"
    "  --base-url URL   the page's URL: resolves the canonical link\n"
    "  --charset NAME   the HTTP charset of the page (default: the page's\n"
    "                   <meta charset>, else UTF-8)\n"
    "  --text           print only the title and the text, not JSON\n"
    "  --compact        print the JSON on one line\n"
    "  -h, --help       show this help\n"
    "\n"
    "The page may be at most 8 MiB; the text is cut at 1 MiB (listed in\n"
    "cuts).\n"
    "\n"
    "Exit status: 0 output printed (also when no main text was found:\n"
    "method none), 1 the file unreadable, 2 usage error.\n";

static json_t *str_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

static json_t *date_or_null(int64_t ms)
{
        char buf[40];

        if (ms == INT64_MIN)
                return json_null();
        nt_date_format(ms, buf, sizeof(buf));
        return json_string(buf);
}

static json_t *page_json(const struct nt_extract_page *pg)
{
        static const struct {
                unsigned bit;
                const char *name;
        } cut_names[] = {
            {NT_EXTRACT_CUT_INPUT, "input"},   {NT_EXTRACT_CUT_TEXT, "text"},
            {NT_EXTRACT_CUT_DEPTH, "depth"},   {NT_EXTRACT_CUT_NODES, "nodes"},
            {NT_EXTRACT_CUT_JSONLD, "jsonld"},
        };
        json_t *cuts = json_array();
        size_t i;

        for (i = 0; cuts && i < sizeof(cut_names) / sizeof(cut_names[0]); i++)
                if (pg->cuts & cut_names[i].bit)
                        json_array_append_new(cuts,
                                              json_string(cut_names[i].name));
        return json_pack(
            "{s:s, s:o, s:s, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s, "
            "s:o*}",
            "method", nt_extract_method_name(pg->method), "title",
            str_or_null(pg->title), "text", pg->text, "paragraphs",
            (json_int_t)pg->n_paragraphs, "description",
            str_or_null(pg->description), "author", str_or_null(pg->author),
            "site_name", str_or_null(pg->site_name), "language",
            str_or_null(pg->language), "canonical", str_or_null(pg->canonical),
            "published", date_or_null(pg->published), "modified",
            date_or_null(pg->modified), "encoding", pg->encoding, "cuts", cuts);
}

int nt_cmd_extract(int argc, char **argv)
{
        const char *base_url = NULL, *charset = NULL;
        bool text_only = false, compact = false;
        const struct nt_cli_option options[] = {
            {.name = "base-url", .kind = NT_CLI_VALUE, .value = &base_url},
            {.name = "charset", .kind = NT_CLI_VALUE, .value = &charset},
            {.name = "text", .kind = NT_CLI_FLAG, .flag = &text_only},
            {.name = "compact", .kind = NT_CLI_FLAG, .flag = &compact},
            {0},
        };
        const struct nt_cli_spec spec = {
            .options = options,
            .help = extract_help,
            .hint_help = true,
        };
        struct nt_extract_limits lim;
        struct nt_extract_page page;
        const char *path = NULL;
        char *data = NULL;
        struct nt_cli cli;
        size_t len = 0;
        json_t *out;
        int rc;

        nt_extract_limits_init(&lim);
        nt_extract_page_init(&page);
        rc = nt_cli_start_file(&cli, "extract", &spec, argc, argv,
                               lim.max_input, &path, &data, &len);
        if (rc != NT_CLI_GO)
                goto out;
        rc = 0;
        if (nt_extract(data, len, charset, base_url, &lim, &page) != NT_OK) {
                rc = nt_cli_fail(&cli, 1, "out of memory");
                goto out;
        }
        if (text_only) {
                if (page.title)
                        printf("%s\n\n", page.title);
                printf("%s\n", page.text);
                goto out;
        }
        out = page_json(&page);
        if (!out ||
            json_dumpf(out, stdout,
                       JSON_PRESERVE_ORDER |
                           (compact ? JSON_COMPACT : JSON_INDENT(2))) != 0) {
                rc = nt_cli_fail(&cli, 1, "cannot write the output");
        } else {
                fputc('\n', stdout);
        }
        json_decref(out);
out:
        nt_extract_page_free(&page);
        return nt_cli_end_file(&cli, rc, data);
}
