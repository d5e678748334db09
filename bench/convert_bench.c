/* Article conversion, what `newstap replay` and the producer do for every
 * feed entry: nt_feed_parse of the feed, then per entry
 * nt_article_from_entry (id, HTML to text, revision) and
 * nt_article_to_json_line (the line published on Kafka). Realistic input,
 * built at run time from the development set's real articles (English,
 * Ukrainian, Russian; real sizes), never copied into the project: each
 * article becomes an RSS item whose description is its summary as escaped
 * HTML and whose content:encoded (CDATA) is its text as news HTML
 * (paragraphs, links, emphasis, a figure, quotes, now and then an embed
 * script and references), shuffled and repeated with varied ids into
 * feeds of 20 items.
 *
 * Baseline, in the same run on the same feeds: the route before this
 * code's floor, that is the same parse and article model plus, per
 * entry, libxml2's bare htmlReadMemory of the summary and the content
 * (the parser the old conversion ran after its tokenizer; only when
 * built with libxml2) and the jansson tree built and dumped
 * (nt_article_to_json + json_dumps) instead of the streaming line. The
 * old route cost more than that floor (its tokenizer and tree walk
 * came on top). Best of N rounds, thread CPU time, one core.
 *
 *   convert_bench [ARTICLES.jsonl] [N] [ROUNDS] [--write DIR]
 *   (defaults: ../shared/devset/articles.jsonl, 20000 articles, 5 rounds)
 *
 * With --write DIR the feeds are written to DIR (feed-NNNNN.xml) and
 * nothing is timed: an archive for `newstap replay` to be timed on, as
 * docs/benchmarks.md does.
 */
#include "common/article.h"
#include "common/buf.h"
#include "common/feed.h"
#include "common/feed_parse.h"
#include "common/num.h"
#include "support/bench.h"

#ifdef NT_BENCH_LIBXML2
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#endif

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ITEMS_PER_FEED 20

static unsigned seed = 7;

static unsigned rnd(unsigned n)
{
        seed = seed * 1103515245u + 12345u;
        return (seed >> 16) % n;
}

/* An article's texts, borrowed from its JSON (NULL where absent). */
struct source {
        const char *title, *summary, *content, *lang;
};

/* Appends text escaped for HTML (and so for XML). */
static void esc(struct nt_buf *b, const char *s, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                switch (s[i]) {
                case '&':
                        nt_buf_append_str(b, "&amp;");
                        break;
                case '<':
                        nt_buf_append_str(b, "&lt;");
                        break;
                case '>':
                        nt_buf_append_str(b, "&gt;");
                        break;
                case '"':
                        nt_buf_append_str(b, rnd(2) ? "&quot;" : "&#8220;");
                        break;
                default:
                        nt_buf_append_char(b, s[i]);
                }
        }
}

/* One paragraph of sentences as news HTML: a link or emphasis on a word
 * now and then, a no-break space before the last word. */
static void paragraph(struct nt_buf *b, const char *s, size_t n)
{
        const char *sp = memchr(s, ' ', n);

        nt_buf_append_str(b, "<p>");
        if (sp && rnd(4) == 0) {
                int link = rnd(2);

                if (link)
                        nt_buf_printf(b,
                                      "<a href=\"https://news.example/tag/"
                                      "%u?utm_source=rss&amp;utm_medium=feed"
                                      "\" target=\"_blank\">",
                                      rnd(1000));
                else
                        nt_buf_append_str(b, "<strong>");
                esc(b, s, (size_t)(sp - s));
                nt_buf_append_str(b, link ? "</a>" : "</strong>");
                n -= (size_t)(sp - s);
                s = sp;
        }
        if (n > 8 && s[n - 1] == '.' && rnd(3) == 0) {
                /* A no-break space before the last word. */
                const char *last = s + n - 1;

                while (last > s && *last != ' ')
                        last--;
                if (last > s) {
                        esc(b, s, (size_t)(last - s));
                        nt_buf_append_str(b, "&nbsp;");
                        n -= (size_t)(last + 1 - s);
                        s = last + 1;
                }
        }
        esc(b, s, n);
        nt_buf_append_str(b, "</p>\n");
}

/* The article's text as the content of a news page. */
static void content_html(struct nt_buf *b, const char *text)
{
        size_t len = strlen(text), start = 0, i, sentences = 0;

        if (rnd(2))
                nt_buf_printf(b,
                              "<figure><img src=\"https://cdn.example/img/"
                              "%u-1200x800.jpg\" width=\"1200\" height=\"800\" "
                              "alt=\"photo\" loading=\"lazy\"><figcaption>"
                              "Photo: agency</figcaption></figure>\n",
                              rnd(100000));
        for (i = 0; i < len; i++) {
                if (text[i] == '\n' ||
                    (text[i] == '.' && i + 1 < len && text[i + 1] == ' ' &&
                     ++sentences % 3 == 0)) {
                        if (i + 1 > start + 1)
                                paragraph(b, text + start, i + 1 - start);
                        start = i + 1;
                        while (start < len &&
                               (text[start] == ' ' || text[start] == '\n'))
                                start++;
                        i = start;
                        if (rnd(12) == 0)
                                nt_buf_append_str(
                                    b, "<blockquote class=\"twitter-tweet\">"
                                       "<p>&mdash; a post</p></blockquote>"
                                       "<script async src=\"https://platform."
                                       "example/widgets.js\" charset=\"utf-8\">"
                                       "</script>\n");
                }
        }
        if (start < len)
                paragraph(b, text + start, len - start);
}

static void item(struct nt_buf *b, const struct source *a, unsigned n)
{
        nt_buf_append_str(b, "<item>\n<title>");
        if (a->title && *a->title)
                esc(b, a->title, strlen(a->title));
        else
                nt_buf_printf(b, "Story %u", n);
        nt_buf_printf(b,
                      "</title>\n<link>https://news.example/%s/2026/01/"
                      "story-%u?utm_source=rss&amp;utm_medium=feed</link>\n"
                      "<guid isPermaLink=\"false\">news-example-%u</guid>\n"
                      "<pubDate>Mon, %02u Jan 2026 %02u:%02u:00 +0200"
                      "</pubDate>\n<dc:creator>Reporter %u</dc:creator>\n"
                      "<category>World</category><category>Energy</category>"
                      "\n<description>&lt;p&gt;",
                      a->lang ? a->lang : "en", n, n, 1 + n % 28, n % 24,
                      n % 60, n % 50);
        /* The summary as escaped HTML, inside XML: escaped twice. */
        {
                struct nt_buf h;

                nt_buf_init(&h, 1 << 24);
                esc(&h, a->summary ? a->summary : "",
                    a->summary ? strlen(a->summary) : 0);
                esc(b, nt_buf_str(&h), h.len);
                nt_buf_free(&h);
        }
        nt_buf_append_str(b, "&lt;/p&gt;</description>\n"
                             "<content:encoded><![CDATA[");
        content_html(b, a->content ? a->content : "");
        nt_buf_append_str(b, "]]></content:encoded>\n</item>\n");
}

static const char *text_or_null(const json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

/* The texts of the n articles; caller frees the array (the texts stay
 * the articles'). */
static struct source *sources(json_t **arts, size_t n)
{
        struct source *v = calloc(n, sizeof(*v));
        size_t i;

        if (!v)
                exit(1);
        for (i = 0; i < n; i++) {
                v[i].title = text_or_null(arts[i], "title");
                v[i].summary = text_or_null(arts[i], "summary");
                v[i].content = text_or_null(arts[i], "content");
                v[i].lang = text_or_null(arts[i], "language");
        }
        return v;
}

struct feed_doc {
        char *xml;
        size_t len;
};

enum route { NEW, OLD_FLOOR, PARSE_ONLY };

#ifdef NT_BENCH_LIBXML2
static void libxml2_parse(const char *html)
{
        if (html && *html)
                xmlFreeDoc(htmlReadMemory(
                    html, (int)strlen(html), NULL, "UTF-8",
                    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                        HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
                        HTML_PARSE_COMPACT | HTML_PARSE_NODEFDTD));
}
#endif

/* One round of a route over every feed: its CPU time; *articles and
 * *bytes get what it made. */
static double run(enum route r, const struct feed_doc *docs, size_t ndocs,
                  size_t *articles, size_t *bytes)
{
        struct nt_article art;
        struct nt_feed feed;
        char errstr[256], *line;
        double t0 = nt_bench_thread_cpu_s();
        size_t d, i;
        json_t *tree;

        *articles = *bytes = 0;
        for (d = 0; d < ndocs; d++) {
                nt_feed_init(&feed);
                if (nt_feed_parse(docs[d].xml, docs[d].len,
                                  "application/rss+xml; charset=utf-8",
                                  "https://news.example/feed", NULL, &feed,
                                  errstr, sizeof(errstr))) {
                        fprintf(stderr, "parse: %s\n", errstr);
                        exit(1);
                }
                for (i = 0; r != PARSE_ONLY && i < feed.n_entries; i++) {
                        nt_article_init(&art);
                        if (nt_article_from_entry(&feed, &feed.entries[i],
                                                  "https://news.example/feed",
                                                  1767225600000LL, &art, errstr,
                                                  sizeof(errstr))) {
                                fprintf(stderr, "article: %s\n", errstr);
                                exit(1);
                        }
                        if (r == NEW) {
                                line = nt_article_to_json_line(&art);
                        } else {
#ifdef NT_BENCH_LIBXML2
                                libxml2_parse(feed.entries[i].summary);
                                libxml2_parse(feed.entries[i].content);
#endif
                                tree = nt_article_to_json(&art);
                                line = json_dumps(
                                    tree, JSON_COMPACT | JSON_PRESERVE_ORDER);
                                json_decref(tree);
                        }
                        if (!line)
                                exit(1);
                        *bytes += strlen(line);
                        (*articles)++;
                        free(line);
                        nt_article_free(&art);
                }
                nt_feed_free(&feed);
        }
        return nt_bench_thread_cpu_s() - t0;
}

static int write_feeds(const char *dir, const struct feed_doc *docs,
                       size_t ndocs)
{
        char path[4096];
        size_t d;
        FILE *f;

        for (d = 0; d < ndocs; d++) {
                snprintf(path, sizeof(path), "%s/feed-%05zu.xml", dir, d);
                f = fopen(path, "w");
                if (!f ||
                    fwrite(docs[d].xml, 1, docs[d].len, f) != docs[d].len ||
                    fclose(f) != 0) {
                        perror(path);
                        return 1;
                }
        }
        printf("%zu feeds written to %s\n", ndocs, dir);
        return 0;
}

int main(int argc, char **argv)
{
        const char *path =
            argc > 1 ? argv[1] : "../shared/devset/articles.jsonl";
        int64_t want = 20000, rounds = 5;
        struct source *src;
        json_t **arts;
        struct feed_doc *docs;
        size_t nsrc, ndocs, d, k, n = 0, articles[3], bytes[3], input = 0;
        double best[3] = {1e30, 1e30, 1e30}, t;
        struct nt_buf b;
        int r, w;

        if ((argc > 2 && nt_num_parse_i64(argv[2], 20, 10000000, &want)) ||
            (argc > 3 && nt_num_parse_i64(argv[3], 1, 100, &rounds)) ||
            (argc > 4 && (argc != 6 || strcmp(argv[4], "--write") != 0))) {
                fprintf(stderr, "usage: convert_bench [ARTICLES.jsonl] [N] "
                                "[ROUNDS] [--write DIR]\n");
                return 2;
        }
        arts = nt_bench_devset_load("convert_bench", path, &nsrc);
        src = sources(arts, nsrc);
        ndocs = (size_t)want / ITEMS_PER_FEED;
        docs = calloc(ndocs, sizeof(*docs));
        if (!docs)
                return 1;
        for (d = 0; d < ndocs; d++) {
                nt_buf_init(&b, (size_t)1 << 30);
                nt_buf_append_str(
                    &b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                        "<rss version=\"2.0\" xmlns:content=\"http://purl.org/"
                        "rss/1.0/modules/content/\" xmlns:dc=\"http://purl.org/"
                        "dc/elements/1.1/\">\n<channel>\n<title>News</title>\n"
                        "<link>https://news.example/</link>\n"
                        "<description>Wire</description>\n");
                for (k = 0; k < ITEMS_PER_FEED; k++, n++)
                        item(&b, &src[rnd((unsigned)nsrc)], (unsigned)n);
                nt_buf_append_str(&b, "</channel>\n</rss>\n");
                docs[d].len = b.len;
                docs[d].xml = nt_buf_detach(&b);
                input += docs[d].len;
        }
        if (argc == 6)
                return write_feeds(argv[5], docs, ndocs);
        printf("command:");
        for (r = 0; r < argc; r++)
                printf(" %s", argv[r]);
        printf("\ninput: %zu articles from %zu of %s in %zu RSS feeds, "
               "%.1f MB (%zu bytes an item), best of %d rounds, CPU time\n",
               n, nsrc, path, ndocs, (double)input / 1e6, input / n,
               (int)rounds);
        /* The routes take turns within each round, and each keeps its
         * best round, so that a busy moment hurts them alike. */
        for (r = 0; r < rounds; r++) {
                for (w = 0; w < 3; w++) {
                        t = run((enum route)w, docs, ndocs, &articles[w],
                                &bytes[w]);
                        if (t < best[w])
                                best[w] = t;
                }
        }
        if (bytes[NEW] != bytes[OLD_FLOOR])
                printf("  (!) the lines differ in size: %zu vs %zu bytes\n",
                       bytes[NEW], bytes[OLD_FLOOR]);
        printf("  feed parse only                 %9.0f articles/s  "
               "%6.1f us/article\n",
               (double)n / best[PARSE_ONLY], best[PARSE_ONLY] * 1e6 / n);
        printf("  conversion (parse + article + JSON line)\n"
               "    this code                     %9.0f articles/s  "
               "%6.1f us/article  %.1f MB of JSON\n",
               (double)n / best[NEW], best[NEW] * 1e6 / n,
               (double)bytes[NEW] / 1e6);
#ifdef NT_BENCH_LIBXML2
        printf(
            "    old route's floor (+ libxml2 parse, jansson tree + dump)\n");
#else
        printf("    old route's floor (+ jansson tree + dump; no libxml2 in "
               "this build)\n");
#endif
        printf("                                  %9.0f articles/s  "
               "%6.1f us/article\n",
               (double)n / best[OLD_FLOOR], best[OLD_FLOOR] * 1e6 / n);
        printf("  ratio this code / old floor: %.2fx the time\n",
               best[NEW] / best[OLD_FLOOR]);
        for (d = 0; d < ndocs; d++)
                free(docs[d].xml);
        free(docs);
        free(src);
        nt_bench_devset_free(arts, nsrc);
        return 0;
}
