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
 *   convert_bench [ARTICLES.jsonl] [N] [ROUNDS] [--write DIR | --replay]
 *   (defaults: ../shared/devset/articles.jsonl, 20000 articles, 5 rounds)
 *
 * With --write DIR the feeds are written to DIR (feed-NNNNN.xml) and
 * nothing is timed: an archive for `newstap replay` to be timed on.
 *
 * With --replay (under scripts/with-kafka: $NT_TEST_BOOTSTRAP) the whole
 * replay as `newstap replay DIR` runs it (nt_replay_run: reading the
 * files, conversion, duplicate check, the idempotent publisher, every
 * article confirmed by the real broker), in this process, over the same
 * feeds written to a temporary directory, each round onto a new topic.
 * Each round times the conversion alone first (the baseline, thread CPU)
 * and then the replay: the CPU of the main thread (the thread that reads,
 * converts and produces) and of the whole process (librdkafka's threads
 * too, getrusage), besides the broker's CPU and the bytes of the topic's
 * log segments ($NT_KAFKA_DIR, else build/kafka). NT_BENCH_KAFKA=
 * "name=value,..." sets librdkafka properties of the replay's producer
 * (compression.level, linger.ms, ...); NT_BENCH_KAFKA_B another set,
 * replayed in the same rounds, the two in turns. The medians of the
 * rounds.
 */
#include "common/article.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/feed.h"
#include "common/feed_parse.h"
#include "common/num.h"
#include "producer/replay.h"
#include "support/bench.h"

#ifdef NT_BENCH_LIBXML2
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#endif

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ITEMS_PER_FEED 20
#define MAX_ROUNDS     100

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
                       size_t ndocs, bool say)
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
        if (say)
                printf("%zu feeds written to %s\n", ndocs, dir);
        return 0;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
        qsort(v, n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Bytes of the topic's log segments in the local broker's data
 * directory; -1 when it is not found. */
static double topic_bytes(const char *topic)
{
        const char *kdir = getenv("NT_KAFKA_DIR");
        char data[4096], sub[8192], file[12288];
        size_t tl = strlen(topic);
        DIR *d, *pd;
        struct dirent *de, *fe;
        struct stat st;
        double total = -1;

        snprintf(data, sizeof(data), "%s/data/kraft-combined-logs",
                 kdir ? kdir : NT_SOURCE_DIR "/build/kafka");
        d = opendir(data);
        if (!d)
                return -1;
        while ((de = readdir(d)) != NULL) {
                if (strncmp(de->d_name, topic, tl) != 0 ||
                    de->d_name[tl] != '-')
                        continue;
                snprintf(sub, sizeof(sub), "%s/%s", data, de->d_name);
                pd = opendir(sub);
                if (!pd)
                        continue;
                if (total < 0)
                        total = 0;
                while ((fe = readdir(pd)) != NULL) {
                        size_t fl = strlen(fe->d_name);

                        if (fl < 4 || strcmp(fe->d_name + fl - 4, ".log"))
                                continue;
                        snprintf(file, sizeof(file), "%s/%s", sub, fe->d_name);
                        if (stat(file, &st) == 0)
                                total += (double)st.st_size;
                }
                closedir(pd);
        }
        closedir(d);
        return total;
}

struct replay_fig {
        double main_s, proc_s, broker_s, wall_s, bytes;
        uint64_t published;
};

/* One `newstap replay DIR` onto a new topic, in this process; `extra`:
 * librdkafka properties, "name=value,...". */
static int replay_round(const char *bootstrap, const char *dir,
                        const char *extra, int round, struct replay_fig *f)
{
        struct nt_replay_opts o;
        struct nt_replay_stats st;
        const char *paths[] = {dir};
        char topic[96], errstr[512];
        nt_config_t *cfg = nt_config_new();
        nt_replay_t *r;
        long broker = nt_bench_broker_pid();
        double t0, p0, b0, w0;
        int err;

        snprintf(topic, sizeof(topic), "bench-replay-%ld-%d", (long)getpid(),
                 round);
        if (!cfg ||
            nt_config_set_kafka(cfg, "bootstrap.servers", bootstrap, "bench",
                                errstr, sizeof(errstr)) ||
            nt_config_set(cfg, "topics.raw", topic, "bench", errstr,
                          sizeof(errstr)) ||
            nt_config_set(cfg, "metrics.enabled", "off", "bench", errstr,
                          sizeof(errstr))) {
                fprintf(stderr, "convert_bench: %s\n", errstr);
                return 1;
        }
        if (extra && *extra) {
                char *copy = strdup(extra), *kv, *save = NULL;

                if (!copy)
                        return 1;
                for (kv = strtok_r(copy, ",", &save); kv;
                     kv = strtok_r(NULL, ",", &save))
                        if (nt_config_set_kafka_kv(cfg, kv, "bench", errstr,
                                                   sizeof(errstr))) {
                                fprintf(stderr, "convert_bench: %s\n", errstr);
                                return 1;
                        }
                free(copy);
        }
        nt_replay_opts_init(&o);
        r = nt_replay_new(cfg, &o, errstr, sizeof(errstr));
        if (!r) {
                fprintf(stderr, "convert_bench: %s\n", errstr);
                return 1;
        }
        b0 = broker ? nt_bench_proc_cpu_s(broker) : -1;
        w0 = nt_bench_wall_s();
        t0 = nt_bench_thread_cpu_s();
        p0 = nt_bench_cpu_s();
        err = nt_replay_run(r, paths, 1, errstr, sizeof(errstr));
        f->main_s = nt_bench_thread_cpu_s() - t0;
        f->proc_s = nt_bench_cpu_s() - p0;
        f->wall_s = nt_bench_wall_s() - w0;
        f->broker_s = broker ? nt_bench_proc_cpu_s(broker) - b0 : -1;
        nt_replay_stats(r, &st);
        nt_replay_destroy(r);
        nt_config_destroy(cfg);
        f->published = st.published;
        f->bytes = topic_bytes(topic);
        if (err) {
                fprintf(stderr, "convert_bench: replay: %s\n", errstr);
                return 1;
        }
        return 0;
}

/* The figures of one configuration over the rounds. */
struct replay_col {
        const char *extra;
        double mainr[MAX_ROUNDS], procr[MAX_ROUNDS], rm[MAX_ROUNDS],
            rp[MAX_ROUNDS], brk[MAX_ROUNDS], bytes[MAX_ROUNDS];
};

/* --replay: the conversion alone, then the whole replay (with
 * NT_BENCH_KAFKA_B, a second producer configuration too, the two in
 * turns), every round. */
static int replay_rounds(const struct feed_doc *docs, size_t ndocs, size_t n,
                         int rounds)
{
        const char *bootstrap = nt_bench_bootstrap("convert_bench --replay");
        char dir[] = "/tmp/convert_bench.XXXXXX", path[4096];
        static struct replay_col col[2];
        double conv[MAX_ROUNDS], art_bytes = 0;
        struct replay_fig f;
        size_t articles, b, d;
        int i, k, c, ncol, rc = 0;

        if (!bootstrap)
                return 0;
        col[0].extra = getenv("NT_BENCH_KAFKA");
        col[1].extra = getenv("NT_BENCH_KAFKA_B");
        ncol = col[1].extra ? 2 : 1;
        if (!mkdtemp(dir)) {
                perror("convert_bench: mkdtemp");
                return 1;
        }
        if (write_feeds(dir, docs, ndocs, false))
                return 1;
        printf("replay of %zu feeds (%zu articles) from %s onto the broker at "
               "%s\n",
               ndocs, n, dir, bootstrap);
        for (c = 0; c < ncol; c++)
                printf("  %c: producer properties: %s\n", 'A' + c,
                       col[c].extra && *col[c].extra ? col[c].extra
                                                     : "(newstap's defaults)");
        printf("  round  conversion/s  replay: main thread/CPU-s  process/CPU-s"
               "  main/conv  proc/conv  wall s  broker CPU s  topic bytes\n");
        for (i = 0; i < rounds && !rc; i++) {
                double t = run(NEW, docs, ndocs, &articles, &b);

                art_bytes = (double)b;
                conv[i] = (double)articles / t;
                /* With two configurations, which goes first turns. */
                for (k = 0; k < ncol && !rc; k++) {
                        struct replay_col *x;

                        c = (k + i) % ncol;
                        x = &col[c];
                        rc = replay_round(bootstrap, dir, x->extra,
                                          i * ncol + c, &f);
                        if (rc)
                                break;
                        if (f.published != articles) {
                                printf("  (!) %llu of %zu articles published\n",
                                       (unsigned long long)f.published,
                                       articles);
                                rc = 1;
                                break;
                        }
                        x->mainr[i] = (double)articles / f.main_s;
                        x->procr[i] = (double)articles / f.proc_s;
                        x->rm[i] = x->mainr[i] / conv[i];
                        x->rp[i] = x->procr[i] / conv[i];
                        x->brk[i] = f.broker_s;
                        x->bytes[i] = f.bytes;
                        printf("  %3d %c  %12.0f  %25.0f  %13.0f  %8.2fx  "
                               "%8.2fx  %6.2f  %12.2f  %11.0f\n",
                               i + 1, 'A' + c, conv[i], x->mainr[i],
                               x->procr[i], x->rm[i], x->rp[i], f.wall_s,
                               f.broker_s, f.bytes);
                        fflush(stdout);
                }
        }
        for (d = 0; d < ndocs; d++) {
                snprintf(path, sizeof(path), "%s/feed-%05zu.xml", dir, d);
                unlink(path);
        }
        rmdir(dir);
        if (rc || i == 0)
                return rc ? rc : 1;
        printf("  medians: conversion %.0f/s\n", median(conv, (size_t)i));
        for (c = 0; c < ncol; c++) {
                struct replay_col *x = &col[c];

                printf("  %c: replay %.0f articles per CPU-second of the main "
                       "thread (%.2fx the conversion's rate), %.0f of the "
                       "process (%.2fx); broker %.2f s CPU; topic %.0f bytes "
                       "(%.3f of the %.0f bytes of JSON)\n",
                       'A' + c, median(x->mainr, (size_t)i),
                       median(x->rm, (size_t)i), median(x->procr, (size_t)i),
                       median(x->rp, (size_t)i), median(x->brk, (size_t)i),
                       median(x->bytes, (size_t)i),
                       median(x->bytes, (size_t)i) / art_bytes, art_bytes);
        }
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
            (argc > 3 && nt_num_parse_i64(argv[3], 1, MAX_ROUNDS, &rounds)) ||
            (argc > 4 && !(argc == 6 && strcmp(argv[4], "--write") == 0) &&
             !(argc == 5 && strcmp(argv[4], "--replay") == 0))) {
                fprintf(stderr, "usage: convert_bench [ARTICLES.jsonl] [N] "
                                "[ROUNDS] [--write DIR | --replay]\n");
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
                return write_feeds(argv[5], docs, ndocs, true);
        printf("command:");
        for (r = 0; r < argc; r++)
                printf(" %s", argv[r]);
        printf("\ninput: %zu articles from %zu of %s in %zu RSS feeds, "
               "%.1f MB (%zu bytes an item), %s of %d rounds, CPU time\n",
               n, nsrc, path, ndocs, (double)input / 1e6, input / n,
               argc == 5 ? "medians" : "best", (int)rounds);
        if (argc == 5)
                return replay_rounds(docs, ndocs, n, (int)rounds);
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
