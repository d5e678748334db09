/* Fetching an article's page beside fetching a feed (issue 16): the CPU
 * the produce loop's thread spends per page (HTTP through the fetcher,
 * then nt_extract(), as producer_pages.c does) against per feed (HTTP
 * through the same fetcher, then nt_feed_parse()), both served by a local
 * HTTP server on 127.0.0.1, alternated in rounds. Thread CPU: the
 * server's own threads are not counted, libcurl's work is.
 *
 * Inputs are built at run time from the development set's articles
 * (ARTICLES.jsonl; never copied into the project): feeds of 20 items
 * (title, link, the summary), and one page per article, its content in
 * a news-site template (navigation, breadcrumbs, byline, related links,
 * an aside, a newsletter box, a footer). Target: a page within 2x a
 * feed fetch's CPU.
 *
 * Run: build/release/bench/page_bench [ARTICLES.jsonl] [ROUNDS] */
#include "common/err.h"
#include "common/extract.h"
#include "common/feed.h"
#include "common/feed_parse.h"
#include "common/num.h"
#include "producer/fetch.h"
#include "support/bench.h"
#include "support/httpd.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEMS_PER_FEED 20
#define MAX_ARTICLES   1000
#define FETCHES        400 /* of each kind per round */

struct art {
        const char *title, *summary, *content;
};

static void put_escaped(struct nt_bench_text *t, const char *s, size_t n)
{
        nt_bench_put_escaped(t, s, n, true);
}

static void put_escaped_str(struct nt_bench_text *t, const char *s)
{
        put_escaped(t, s, strlen(s));
}

/* An RSS 2.0 feed of ITEMS_PER_FEED articles from `first`. */
static char *make_feed(const struct art *a, size_t n, size_t first,
                       const char *base)
{
        struct nt_bench_text t = {0};
        char link[256];
        size_t i, k;

        nt_bench_puts(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<rss version=\"2.0\"><channel><title>Wire "
                          "</title><link>https://news.example/</link>"
                          "<description>Latest</description>\n");
        for (i = 0; i < ITEMS_PER_FEED; i++) {
                k = (first + i) % n;
                snprintf(link, sizeof(link), "%s/page-%zu.html", base, k);
                nt_bench_puts(&t, "<item><title>");
                put_escaped_str(&t, a[k].title);
                nt_bench_puts(&t, "</title><link>");
                nt_bench_puts(&t, link);
                nt_bench_puts(&t, "</link><guid>");
                nt_bench_puts(&t, link);
                nt_bench_puts(&t, "</guid><pubDate>Mon, 07 Dec 2026 10:00:00 "
                                  "GMT</pubDate><description>");
                put_escaped_str(&t, a[k].summary);
                nt_bench_puts(&t, "</description></item>\n");
        }
        nt_bench_puts(&t, "</channel></rss>\n");
        return t.data;
}

/* The article's page: its content as paragraphs in a news-site frame. */
static char *make_page(const struct art *a)
{
        struct nt_bench_text t = {0};
        const char *p = a->content, *end;

        nt_bench_puts(&t, "<!DOCTYPE html><html lang=\"en\"><head><meta "
                          "charset=\"utf-8\"><title>");
        put_escaped_str(&t, a->title);
        nt_bench_puts(
            &t, " | The Daily Wire</title></head><body><header><nav "
                "class=\"menu\"><a href=\"/\">Home</a> <a href=\"/world\">World"
                "</a> <a href=\"/politics\">Politics</a> <a href=\"/business\">"
                "Business</a> <a href=\"/opinion\">Opinion</a> <a "
                "href=\"/sport\">Sport</a></nav></header><div "
                "class=\"breadcrumbs\"><a href=\"/\">Home</a> &gt; <a "
                "href=\"/world\">World</a></div><main><article><h1>");
        put_escaped_str(&t, a->title);
        nt_bench_puts(&t, "</h1><p class=\"byline\">By a staff reporter, 7 "
                          "December 2026</p>");
        while (*p) {
                end = strstr(p, "\n");
                if (!end)
                        end = p + strlen(p);
                if (end > p) {
                        nt_bench_puts(&t, "<p>");
                        put_escaped(&t, p, (size_t)(end - p));
                        nt_bench_puts(&t, "</p>\n");
                }
                p = *end ? end + 1 : end;
        }
        nt_bench_puts(
            &t, "<div class=\"related\"><h3>Related</h3><ul><li><a "
                "href=\"/a\">Markets steady after the holiday</a></li><li><a "
                "href=\"/b\">Weather: a cold week ahead</a></li><li><a "
                "href=\"/c\">Five things to know today</a></li></ul></div>"
                "</article><aside class=\"sidebar\"><h3>Most read</h3><ol><li>"
                "<a href=\"/d\">Ten photos of the week</a></li><li><a "
                "href=\"/e\">The quiz</a></li></ol><div class=\"newsletter\">"
                "Sign up for our morning briefing <form><input "
                "type=\"email\"></form></div></aside></main><footer><p>&copy; "
                "2026 The Daily Wire. All rights reserved. <a "
                "href=\"/privacy\">Privacy</a> <a href=\"/terms\">Terms</a>"
                "</p></footer></body></html>\n");
        return t.data;
}

/* Fetches `n` URLs of the kind (pages or feeds), handling each body as
 * the producer does. Returns thread CPU seconds; *bytes the bodies. */
static double run_kind(nt_fetcher_t *f, const char *base, bool pages,
                       size_t n_urls, size_t n, size_t *bytes)
{
        struct nt_extract_limits xlim;
        struct nt_feed_limits flim;
        char url[256], errstr[256];
        size_t added = 0, done = 0;
        double t0 = nt_bench_thread_cpu_s();

        nt_extract_limits_init(&xlim);
        nt_feed_limits_init(&flim);
        *bytes = 0;
        while (done < n) {
                struct nt_fetch_result *res;

                while (added < n && nt_fetcher_pending(f) < 32) {
                        struct nt_fetch_request req = {0};

                        snprintf(url, sizeof(url), "%s/%s-%zu.%s", base,
                                 pages ? "page" : "feed", added % n_urls,
                                 pages ? "html" : "xml");
                        req.url = url;
                        if (nt_fetcher_add(f, &req) != NT_OK)
                                break;
                        added++;
                }
                nt_fetcher_run(f, 10);
                while ((res = nt_fetcher_next(f)) != NULL) {
                        if (res->err || res->status != 200) {
                                fprintf(stderr, "page_bench: %s: %s %ld\n",
                                        res->url, res->errstr, res->status);
                                exit(1);
                        }
                        *bytes += res->body_len;
                        if (pages) {
                                struct nt_extract_page pg;

                                nt_extract_page_init(&pg);
                                nt_extract(res->body, res->body_len,
                                           res->content_type, res->url, &xlim,
                                           &pg);
                                nt_extract_page_free(&pg);
                        } else {
                                struct nt_feed feed;

                                nt_feed_init(&feed);
                                nt_feed_parse(res->body, res->body_len,
                                              res->content_type, res->url,
                                              &flim, &feed, errstr,
                                              sizeof(errstr));
                                nt_feed_free(&feed);
                        }
                        nt_fetch_result_free(res);
                        done++;
                }
        }
        return nt_bench_thread_cpu_s() - t0;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
        const char *path = argc > 1 && *argv[1] ? argv[1] : NT_BENCH_DEVSET;
        int64_t rounds = 5;
        struct art *a = calloc(MAX_ARTICLES, sizeof(*a));
        json_t **docs;
        struct nt_fetch_limits lim;
        struct nt_httpd_route r;
        double page_cpu[64], feed_cpu[64], ratio[64];
        size_t n = 0, n_docs, n_feeds, i, pbytes = 0, fbytes = 0;
        char errstr[256];
        nt_httpd_t *srv;
        nt_fetcher_t *f;
        int k;

        if (argc > 2 && nt_num_parse_i64(argv[2], 1, 64, &rounds))
                return 2;
        if (!a)
                return 1;
        docs = nt_bench_devset_load("page_bench", path, &n_docs);
        /* Articles with a page's worth of text (200 bytes at least). */
        for (i = 0; i < n_docs && n < MAX_ARTICLES; i++) {
                const char *c = nt_bench_field(docs[i], "content");

                if (strlen(c) < 200)
                        continue;
                a[n].content = c;
                a[n].title = nt_bench_field(docs[i], "title");
                a[n].summary = nt_bench_field(docs[i], "summary");
                n++;
        }
        if (n == 0) {
                fprintf(stderr, "page_bench: no articles in %s\n", path);
                return 1;
        }
        srv = nt_httpd_start();
        if (!srv)
                return 1;
        memset(&r, 0, sizeof(r));
        r.status = 200;
        snprintf(r.headers, sizeof(r.headers),
                 "Content-Type: text/html; charset=utf-8");
        for (i = 0; i < n; i++) {
                char *page = make_page(&a[i]);

                snprintf(r.path, sizeof(r.path), "/page-%zu.html", i);
                r.body = page;
                r.body_len = strlen(page);
                nt_httpd_route(srv, &r);
                free(page);
        }
        n_feeds = n / ITEMS_PER_FEED ? n / ITEMS_PER_FEED : 1;
        snprintf(r.headers, sizeof(r.headers),
                 "Content-Type: application/rss+xml; charset=utf-8");
        for (i = 0; i < n_feeds; i++) {
                char *feed =
                    make_feed(a, n, i * ITEMS_PER_FEED, nt_httpd_url(srv));

                snprintf(r.path, sizeof(r.path), "/feed-%zu.xml", i);
                r.body = feed;
                r.body_len = strlen(feed);
                nt_httpd_route(srv, &r);
                free(feed);
        }
        nt_fetch_limits_default(&lim);
        lim.max_per_host = 8;
        lim.user_agent = "newstap-bench/1";
        f = nt_fetcher_new(&lim, errstr, sizeof(errstr));
        if (!f) {
                fprintf(stderr, "page_bench: %s\n", errstr);
                return 1;
        }
        /* One unmeasured pass of each warms the connections and caches. */
        run_kind(f, nt_httpd_url(srv), false, n_feeds, 50, &fbytes);
        run_kind(f, nt_httpd_url(srv), true, n, 50, &pbytes);
        for (k = 0; k < rounds; k++) {
                feed_cpu[k] = run_kind(f, nt_httpd_url(srv), false, n_feeds,
                                       FETCHES, &fbytes) /
                              FETCHES;
                page_cpu[k] =
                    run_kind(f, nt_httpd_url(srv), true, n, FETCHES, &pbytes) /
                    FETCHES;
                ratio[k] = page_cpu[k] / feed_cpu[k];
        }
        qsort(feed_cpu, (size_t)rounds, sizeof(double), cmp_double);
        qsort(page_cpu, (size_t)rounds, sizeof(double), cmp_double);
        qsort(ratio, (size_t)rounds, sizeof(double), cmp_double);
        printf("page_bench: %zu articles, %zu feeds of %d items; %d rounds "
               "of %d fetches of each\n",
               n, n_feeds, ITEMS_PER_FEED, (int)rounds, FETCHES);
        printf("  feed: fetch + nt_feed_parse  %7.1f us CPU (median round; "
               "%zu bytes a feed)\n",
               feed_cpu[rounds / 2] * 1e6, fbytes / FETCHES);
        printf("  page: fetch + nt_extract     %7.1f us CPU (median round; "
               "%zu bytes a page)\n",
               page_cpu[rounds / 2] * 1e6, pbytes / FETCHES);
        printf("  ratio page / feed: %.2fx (median of the rounds' ratios; "
               "target <= 2x)\n",
               ratio[rounds / 2]);
        printf("command: %s %s %d\n", argv[0], path, (int)rounds);
        nt_fetcher_destroy(f);
        nt_httpd_stop(srv);
        nt_bench_devset_free(docs, n_docs);
        free(a);
        return 0;
}
