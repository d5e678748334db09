/* Feed parse throughput against expat's own, on the same bytes in the
 * same run: a large generated RSS 2.0 document and a large Atom 1.0 one
 * (realistic entries: titles with entities, escaped and CDATA HTML,
 * dates, links, categories, authors). For each: (a) expat alone with
 * no-op handlers (namespace processing on, as the parser uses it), (b)
 * nt_feed_parse (decoding, entity repair, expat and the model), (c) what
 * `newstap parse --articles` does, nt_feed_parse and then every entry's
 * article and JSON line, and (d) what `newstap parse --compact` does,
 * nt_feed_parse and the feed's JSON (nt_feed_to_json_text); (b),
 * (c) and (d) also as a share of expat's speed. Best of N runs, in
 * thread CPU time.
 *
 *   build/feed-rel/bench/feed_parse_bench [MB] [RUNS] [--no-articles]
 */
#include "common/article.h"
#include "common/buf.h"
#include "common/feed.h"
#include "common/feed_parse.h"
#include "common/num.h"
#include "support/bench.h"

#include <expat.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const words[] = {
    "security", "guarantees", "territory", "Zaporizhzhia", "nuclear",
    "plant",    "talks",      "ceasefire", "minister",     "council",
    "report",   "inspectors", "power",     "grid",         "agency",
    "said",     "on",         "Monday",    "the",          "and",
};

/* Appends n pseudo-random words (deterministic). */
static void words_into(struct nt_buf *b, unsigned *seed, int n)
{
        int i;

        for (i = 0; i < n; i++) {
                *seed = *seed * 1103515245u + 12345u;
                nt_buf_append_str(b, words[(*seed >> 16) % 20]);
                if (i + 1 < n)
                        nt_buf_append_char(b, ' ');
        }
}

static void rss_item(struct nt_buf *b, unsigned *seed, int i)
{
        nt_buf_printf(b, "<item>\n<title>");
        words_into(b, seed, 8);
        nt_buf_printf(b, " &amp; more &#8212; part %d</title>\n", i);
        nt_buf_printf(b,
                      "<link>https://news.example/2026/01/story-%d?utm_"
                      "source=rss&amp;utm_medium=feed</link>\n"
                      "<guid isPermaLink=\"false\">news-example-%d</guid>\n"
                      "<pubDate>Mon, %02d Jan 2026 %02d:%02d:00 +0200"
                      "</pubDate>\n"
                      "<dc:creator>Reporter %d</dc:creator>\n"
                      "<category>World</category><category>Europe</category>"
                      "<category>Energy</category>\n<description>&lt;p&gt;",
                      i, i, 1 + i % 28, i % 24, i % 60, i % 50);
        words_into(b, seed, 60);
        nt_buf_printf(b, " &amp;lt;quoted&amp;gt; &lt;a href=\"https://news."
                         "example/x\"&gt;link&lt;/a&gt;.&lt;/p&gt;"
                         "</description>\n<content:encoded><![CDATA[<p>");
        words_into(b, seed, 250);
        nt_buf_printf(b,
                      "</p><p><img src=\"https://img.example/%d.jpg\" "
                      "alt=\"photo\"> ",
                      i);
        words_into(b, seed, 150);
        nt_buf_printf(b, " &mdash; &copy; News</p>]]></content:encoded>\n"
                         "</item>\n");
}

static void atom_entry(struct nt_buf *b, unsigned *seed, int i)
{
        nt_buf_printf(b, "<entry>\n<title type=\"html\">");
        words_into(b, seed, 8);
        nt_buf_printf(b, " &amp;amp; more, part %d</title>\n", i);
        nt_buf_printf(b,
                      "<link rel=\"alternate\" type=\"text/html\" "
                      "href=\"https://news.example/2026/01/story-%d\"/>\n"
                      "<id>tag:news.example,2026:%d</id>\n"
                      "<published>2026-01-%02dT%02d:%02d:00+02:00</published>\n"
                      "<updated>2026-01-%02dT%02d:%02d:30Z</updated>\n"
                      "<author><name>Reporter %d</name><email>r%d@news.example"
                      "</email></author>\n"
                      "<category term=\"world\"/><category term=\"energy\"/>\n"
                      "<summary type=\"html\">&lt;p&gt;",
                      i, i, 1 + i % 28, i % 24, i % 60, 1 + i % 28, i % 24,
                      i % 60, i % 50, i % 50);
        words_into(b, seed, 60);
        nt_buf_printf(b, "&lt;/p&gt;</summary>\n<content type=\"xhtml\"><div "
                         "xmlns=\"http://www.w3.org/1999/xhtml\"><p>");
        words_into(b, seed, 250);
        nt_buf_printf(b,
                      "</p><p><a href=\"https://news.example/x\">link</a> "
                      "<img src=\"https://img.example/%d.jpg\" alt=\"\"/> ",
                      i);
        words_into(b, seed, 150);
        nt_buf_printf(b, " &amp; more</p></div></content>\n</entry>\n");
}

static char *generate(int atom, size_t target, size_t *len, int *entries)
{
        struct nt_buf b;
        unsigned seed = 42;
        int i = 0;

        nt_buf_init(&b, target + (1 << 20));
        if (atom)
                nt_buf_append_str(
                    &b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                        "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
                        "xml:lang=\"en\">\n<title>Big Atom</title>\n"
                        "<link href=\"https://news.example/\"/>\n"
                        "<id>urn:bench</id><updated>2026-01-05T00:00:00Z"
                        "</updated>\n");
        else
                nt_buf_append_str(
                    &b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                        "<rss version=\"2.0\" xmlns:content=\"http://purl.org/"
                        "rss/1.0/modules/content/\" xmlns:dc=\"http://purl.org/"
                        "dc/elements/1.1/\">\n<channel>\n<title>Big RSS"
                        "</title>\n<link>https://news.example/</link>\n"
                        "<description>Generated</description>\n");
        while (b.len + 8192 < target) {
                if (atom)
                        atom_entry(&b, &seed, i);
                else
                        rss_item(&b, &seed, i);
                i++;
        }
        nt_buf_append_str(&b, atom ? "</feed>\n" : "</channel>\n</rss>\n");
        *len = b.len;
        *entries = i;
        return nt_buf_detach(&b);
}

static void XMLCALL noop_start(void *ud, const XML_Char *n, const XML_Char **a)
{
        (void)ud;
        (void)n;
        (void)a;
}

static void XMLCALL noop_end(void *ud, const XML_Char *n)
{
        (void)ud;
        (void)n;
}

static void XMLCALL noop_text(void *ud, const XML_Char *s, int len)
{
        (void)ud;
        (void)s;
        (void)len;
}

static double time_expat(const char *doc, size_t len)
{
        XML_Parser p = XML_ParserCreateNS("UTF-8", '\x01');
        double t0 = nt_bench_thread_cpu_s(), t;

        XML_SetElementHandler(p, noop_start, noop_end);
        XML_SetCharacterDataHandler(p, noop_text);
        if (XML_Parse(p, doc, (int)len, XML_TRUE) != XML_STATUS_OK)
                fprintf(stderr, "expat: %s\n",
                        XML_ErrorString(XML_GetErrorCode(p)));
        t = nt_bench_thread_cpu_s() - t0;
        XML_ParserFree(p);
        return t;
}

static double time_feed(const char *doc, size_t len, int want_entries,
                        double *article_s, double *json_s)
{
        char *line;
        struct nt_feed_limits lim;
        struct nt_article art;
        struct nt_feed feed;
        char errstr[256];
        double t0, t;
        size_t i;

        nt_feed_limits_init(&lim);
        lim.max_entries = 10000000;
        lim.max_document = len + 1;
        nt_feed_init(&feed);
        t0 = nt_bench_thread_cpu_s();
        if (nt_feed_parse(doc, len, "application/rss+xml; charset=utf-8",
                          "https://news.example/feed", &lim, &feed, errstr,
                          sizeof(errstr)) != 0)
                fprintf(stderr, "nt_feed_parse: %s\n", errstr);
        t = nt_bench_thread_cpu_s() - t0;
        if ((int)feed.n_entries != want_entries || !feed.wellformed)
                fprintf(stderr,
                        "unexpected parse: %zu entries (want %d), "
                        "wellformed %d\n",
                        feed.n_entries, want_entries, feed.wellformed);
        t0 = nt_bench_thread_cpu_s();
        for (i = 0; article_s && i < feed.n_entries; i++) {
                nt_article_init(&art);
                nt_article_from_entry(&feed, &feed.entries[i],
                                      "https://news.example/feed", 0, &art,
                                      NULL, 0);
                line = nt_article_to_json_line(&art);
                if (!line)
                        exit(1);
                free(line);
                nt_article_free(&art);
        }
        if (article_s)
                *article_s = nt_bench_thread_cpu_s() - t0;
        t0 = nt_bench_thread_cpu_s();
        if (json_s) {
                line = nt_feed_to_json_text(&feed, 0);
                if (!line)
                        exit(1);
                free(line);
                *json_s = nt_bench_thread_cpu_s() - t0;
        }
        nt_feed_free(&feed);
        return t;
}

int main(int argc, char **argv)
{
        static const char *const names[] = {"RSS 2.0", "Atom 1.0"};
        int64_t mb = 30, runs = 5;
        bool articles = !(argc > 3 && strcmp(argv[3], "--no-articles") == 0);
        int kind, r, entries;
        size_t len;
        char *doc;

        if ((argc > 1 && nt_num_parse_i64(argv[1], 1, 30, &mb)) ||
            (argc > 2 && nt_num_parse_i64(argv[2], 1, 100, &runs))) {
                fprintf(stderr, "usage: feed_parse_bench [MB 1-30] [RUNS]\n");
                return 2;
        }
        printf("feed_parse_bench: %d MB documents, best of %d runs, %s\n",
               (int)mb, (int)runs, XML_ExpatVersion());
        for (kind = 0; kind < 2; kind++) {
                double best_x = 1e9, best_f = 1e9, best_a = 1e9, best_j = 1e9,
                       t, a = 0, j = 0;

                doc = generate(kind, (size_t)mb << 20, &len, &entries);
                for (r = 0; r < runs; r++) {
                        t = time_expat(doc, len);
                        best_x = t < best_x ? t : best_x;
                        t = time_feed(doc, len, entries, articles ? &a : NULL,
                                      &j);
                        best_f = t < best_f ? t : best_f;
                        /* Each command's best run: its parse and its
                         * output in the same run. */
                        best_a = t + a < best_a ? t + a : best_a;
                        best_j = t + j < best_j ? t + j : best_j;
                }
                printf("%-8s %6.1f MB %6d entries | expat %7.1f MB/s | "
                       "nt_feed_parse %7.1f MB/s | ratio %5.1f %%\n",
                       names[kind], (double)len / 1e6, entries,
                       (double)len / 1e6 / best_x, (double)len / 1e6 / best_f,
                       100.0 * best_x / best_f);
                printf("         parse --compact (feed JSON) %7.1f MB/s, "
                       "%5.1f %% of expat\n",
                       (double)len / 1e6 / best_j, 100.0 * best_x / best_j);
                if (articles)
                        printf("         parse --articles        %7.1f MB/s, "
                               "%5.1f %% of expat (%.1f us/entry after the "
                               "parse)\n",
                               (double)len / 1e6 / best_a,
                               100.0 * best_x / best_a,
                               (best_a - best_f) * 1e6 / entries);
                free(doc);
        }
        printf("command: %s %d %d%s\n", argv[0], (int)mb, (int)runs,
               articles ? "" : " --no-articles");
        return 0;
}
