/* HTML to text: nt_html_to_text (one pass of the HTML5-style tokenizer,
 * no tree) against libxml2's bare parse of the same bytes
 * (htmlReadMemory, no walk), the floor of the module before, which ran
 * libxml2 after its tokenizer and walked the tree (1.07x that floor's
 * time, docs/benchmarks.md), on the same generated feed content. Also
 * times both on hostile markup, where the figures that matter are
 * seconds, not MB/s. libxml2 is optional (scripts/install-deps --bench):
 * without it the bench reports nt_html_to_text alone.
 *
 *   html_text_bench [MB] [rounds]     (defaults: 4 MB, 3 rounds)
 */
#include "common/html.h"
#include "support/bench.h"

#ifdef NT_BENCH_LIBXML2
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct doc {
        char *html;
        size_t len;
};

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint32_t rnd(uint32_t n)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (uint32_t)(rng_state % n);
}

/* Words a news feed about the war and the plant would use, in English,
 * Ukrainian and Russian, so that the text has multi-byte characters in
 * realistic proportion. */
static const char *const words[] = {
    "the",         "plant",        "security",    "guarantees", "Ukraine",
    "IAEA",        "inspectors",   "reported",    "power",      "line",
    "restored",    "after",        "shelling",    "near",       "Enerhodar",
    "officials",   "said",         "on",          "Tuesday",    "that",
    "talks",       "continued",    "in",          "Geneva",     "with",
    "Запорізька",  "АЕС",          "МАГАТЕ",      "заявило",    "про",
    "відновлення", "живлення",     "Запорожская", "АЭС",        "переговоры",
    "гарантии",    "безопасности", "and",         "a",          "of",
};

/* A word of the list, at random. */
static const char *random_word(void)
{
        return words[rnd(sizeof(words) / sizeof(words[0]))];
}

/* A random word between the tags `open` and `close`. */
static void put_tagged_word(struct nt_bench_text *t, const char *open,
                            const char *close)
{
        nt_bench_puts(t, open);
        nt_bench_puts(t, random_word());
        nt_bench_puts(t, close);
}

static void sentence(struct nt_bench_text *t)
{
        size_t i, n = 8 + rnd(14);

        for (i = 0; i < n; i++) {
                if (i)
                        nt_bench_puts(t, rnd(25) == 0 ? "&nbsp;" : " ");
                switch (rnd(30)) {
                case 0:
                        put_tagged_word(
                            t,
                            "<a href=\"https://news.example.com/world/"
                            "2025/12/zaporizhzhia-npp-power?utm_source="
                            "rss&amp;utm_medium=feed\" target=\"_blank\" "
                            "rel=\"noopener\">",
                            "</a>");
                        continue;
                case 1:
                        put_tagged_word(t, "<strong>", "</strong>");
                        continue;
                case 2:
                        put_tagged_word(t, "<em>", "</em>");
                        continue;
                case 3:
                        nt_bench_puts(t, "&mdash;");
                        continue;
                case 4:
                        nt_bench_puts(t, "&#8220;quoted&#8221;");
                        continue;
                default:
                        break;
                }
                nt_bench_puts(t, random_word());
        }
        nt_bench_puts(t, rnd(4) ? ". " : "&hellip; ");
}

/* One feed item's content: paragraphs, links, images, lists, quotes, a
 * figure, now and then an embed script and line breaks; 1 to 10 KB. */
static void article(struct nt_bench_text *t)
{
        size_t p, s, n = 2 + rnd(10);

        for (p = 0; p < n; p++) {
                switch (rnd(9)) {
                case 0:
                        nt_bench_puts(t, "<ul>\n");
                        for (s = 0; s < 2 + rnd(4); s++) {
                                nt_bench_puts(t, "  <li>");
                                sentence(t);
                                nt_bench_puts(t, "</li>\n");
                        }
                        nt_bench_puts(t, "</ul>\n");
                        break;
                case 1:
                        nt_bench_puts(
                            t, "<figure><img src=\"https://cdn.example.com/"
                               "img/2025/12/znpp-1200x800.jpg\" width=\"1200\""
                               " height=\"800\" alt=\"The Zaporizhzhia plant"
                               "\" loading=\"lazy\"><figcaption>");
                        sentence(t);
                        nt_bench_puts(t, "</figcaption></figure>\n");
                        break;
                case 2:
                        nt_bench_puts(t, "<blockquote><p>");
                        sentence(t);
                        nt_bench_puts(t, "</p></blockquote>\n");
                        break;
                case 3:
                        nt_bench_puts(t, "<p>");
                        sentence(t);
                        nt_bench_puts(t, "<br>\n");
                        sentence(t);
                        nt_bench_puts(
                            t, "</p>\n<script async src=\"https://platform."
                               "example.com/widgets.js\" charset=\"utf-8\">"
                               "</script>\n");
                        break;
                default:
                        nt_bench_puts(t, "<p>");
                        for (s = 0; s < 1 + rnd(4); s++)
                                sentence(t);
                        nt_bench_puts(t, "</p>\n");
                        break;
                }
        }
}

#ifdef NT_BENCH_LIBXML2
/* The options nt_html_to_text parsed with when it used libxml2. */
static const int xml_opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                            HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                            HTML_PARSE_COMPACT | HTML_PARSE_NODEFDTD;

static void libxml2_parse_only(const char *html, size_t len)
{
        xmlFreeDoc(htmlReadMemory(html, (int)len, NULL, "UTF-8", xml_opts));
}
#define HAVE_BASELINE 1
#else
static void libxml2_parse_only(const char *html, size_t len)
{
        (void)html;
        (void)len;
}
#define HAVE_BASELINE 0
#endif

/* Text bytes of one conversion; *truncated gets the flag. */
static size_t nt_text(const char *html, size_t len, int *truncated)
{
        char *out = NULL;
        size_t n;

        if (nt_html_to_text(html, len, 64u << 20, &out, truncated)) {
                fprintf(stderr, "nt_html_to_text failed\n");
                exit(1);
        }
        n = strlen(out);
        free(out);
        return n;
}

enum which { NT_TEXT, XML_PARSE };

/* One pass of one method over all documents: its CPU time, and the
 * bytes of text it made. */
static double pass(enum which w, const struct doc *docs, size_t ndocs,
                   size_t *text_bytes)
{
        double t0 = nt_bench_process_cpu_s();
        size_t i, text = 0;
        int truncated;

        for (i = 0; i < ndocs; i++) {
                if (w == NT_TEXT)
                        text += nt_text(docs[i].html, docs[i].len, &truncated);
                else
                        libxml2_parse_only(docs[i].html, docs[i].len);
        }
        *text_bytes = text;
        return nt_bench_process_cpu_s() - t0;
}

/* Hostile inputs: `unit` repeated `reps` times after `head`, with "%d"
 * in the unit replaced by the repetition's number. Timed through
 * nt_html_to_text and through libxml2 alone. */
static void hostile(const char *label, const char *head, const char *unit,
                    size_t reps)
{
        struct nt_bench_text t = {NULL, 0, 0};
        char piece[128];
        double t0, nt, raw;
        size_t i, text;
        int truncated = 0;

        nt_bench_puts(&t, head);
        for (i = 0; i < reps; i++) {
                snprintf(piece, sizeof(piece), unit, (int)i);
                nt_bench_puts(&t, piece);
        }
        t0 = nt_bench_process_cpu_s();
        text = nt_text(t.data, t.len, &truncated);
        nt = nt_bench_process_cpu_s() - t0;
        t0 = nt_bench_process_cpu_s();
        libxml2_parse_only(t.data, t.len);
        raw = nt_bench_process_cpu_s() - t0;
        printf("  %-32s %7zu B  nt_html_to_text %6.3f s (%zu B text%s)", label,
               t.len, nt, text, truncated ? ", truncated" : "");
        if (HAVE_BASELINE)
                printf("  libxml2 alone %6.3f s", raw);
        printf("\n");
        free(t.data);
}

int main(int argc, char **argv)
{
        double mb = argc > 1 ? strtod(argv[1], NULL) : 4.0;
        int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 3;
        size_t target = (size_t)(mb * 1024 * 1024), total = 0, ndocs = 0,
               cap = 0, i;
        struct doc *docs = NULL;
        double size_mb, best[2], dt;
        size_t text[2];
        int k, r;

        if (mb <= 0 || rounds <= 0) {
                fprintf(stderr, "usage: %s [MB] [rounds]\n", argv[0]);
                return 2;
        }
#ifdef NT_BENCH_LIBXML2
        LIBXML_TEST_VERSION
#endif
        while (total < target) {
                struct nt_bench_text t = {NULL, 0, 0};

                article(&t);
                nt_bench_grow(&docs, &cap, ndocs + 1, sizeof(*docs));
                docs[ndocs].html = t.data;
                docs[ndocs].len = t.len;
                ndocs++;
                total += t.len;
        }
        size_mb = (double)total / (1024.0 * 1024.0);
        printf("command:");
        for (k = 0; k < argc; k++)
                printf(" %s", argv[k]);
        printf("\ninput: %zu documents, %.2f MB of feed HTML (mean %zu "
               "bytes), best of %d rounds, CPU time\n",
               ndocs, size_mb, total / ndocs, rounds);
#ifdef NT_BENCH_LIBXML2
        printf("baseline: libxml2 %s\n", xmlParserVersion);
#else
        printf("baseline: none (built without libxml2)\n");
#endif

        /* The methods take turns within each round, and each keeps its
         * best round, so that a busy moment hurts them alike. */
        best[NT_TEXT] = best[XML_PARSE] = 1e30;
        for (r = 0; r < rounds; r++) {
                for (k = 0; k < 1 + HAVE_BASELINE; k++) {
                        dt = pass((enum which)k, docs, ndocs, &text[k]);
                        if (dt < best[k])
                                best[k] = dt;
                }
        }
        printf("  nt_html_to_text (one pass, no tree)         %8.1f MB/s  "
               "(%zu text bytes)\n",
               size_mb / best[NT_TEXT], text[NT_TEXT]);
        if (HAVE_BASELINE) {
                printf("  libxml2 htmlReadMemory only (old floor)     %8.1f "
                       "MB/s\n",
                       size_mb / best[XML_PARSE]);
                printf("  ratio nt_html_to_text / libxml2 alone: %.2fx the "
                       "time (before: 1.07x)\n",
                       best[NT_TEXT] / best[XML_PARSE]);
        }

        printf("hostile markup (one document each):\n");
        hostile("20000 nested <div>", "", "<div>", 20000);
        hostile("20000 attributes on one tag", "<a ", "a%d=1 ", 20000);
        hostile("32 <b> reopened in 20000 <p>",
                "<p><b id=1><b id=2><b id=3><b id=4><b id=5><b id=6><b id=7>"
                "<b id=8><b id=9><b id=10><b id=11><b id=12><b id=13><b id=14>"
                "<b id=15><b id=16><b id=17><b id=18><b id=19><b id=20>"
                "<b id=21><b id=22><b id=23><b id=24><b id=25><b id=26>"
                "<b id=27><b id=28><b id=29><b id=30><b id=31><b id=32>",
                "</p><p>x", 20000);
        hostile("200000 stray end tags", "before", "</x%d>", 200000);
        hostile("pattern that aborted gumbo", "before",
                "<table><svg><select><foreignObject><select><tbody>after", 1);

        for (i = 0; i < ndocs; i++)
                free(docs[i].html);
        free(docs);
#ifdef NT_BENCH_LIBXML2
        xmlCleanupParser();
#endif
        return 0;
}
