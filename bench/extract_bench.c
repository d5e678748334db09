/* Main-text extraction: nt_extract (tokenizer with attributes, JSON-LD,
 * scoring) against nt_html_to_text over the same bytes (common/html.c:
 * the project's HTML-to-text path, which reads every tag and reference
 * but keeps no structure), on realistic article pages:
 *   - the page set of tests/fixtures/pages/, repeated;
 *   - pages built at run time from the dev set's article bodies
 *     (../shared/devset/articles.jsonl; never copied into the repo),
 *     each wrapped in a news-site template: head with meta tags, inline
 *     scripts and styles, navigation, breadcrumbs, byline, the body in
 *     paragraphs, related links, an aside, comments, a footer; a third
 *     also carry the body as JSON-LD articleBody, as many sites do.
 * Single-threaded CPU time, so MB/s is per core. Also prints the word
 * recall and precision of the extracted text against the dev-set body of
 * the generated pages (the template is ours; the prose is real news).
 *
 *   extract_bench [ARTICLES.jsonl] [rounds]
 *       (defaults: ../shared/devset/articles.jsonl, 5 rounds)
 */
#include "common/extract.h"
#include "common/html.h"
#include "support/bench.h"
#include "support/word_score.h"

#include <dirent.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Passes over the pages in one timed round: about 20 MB. */
#define PASSES 10

struct page {
        char *html;
        size_t len;
        char *body; /* the expected text, for generated pages */
};

/* Text escaped for HTML. */
static void put_escaped(struct nt_bench_text *t, const char *s, size_t n)
{
        nt_bench_put_escaped(t, s, n, false);
}

/* Text escaped for a JSON string inside a script. */
static void put_json_string(struct nt_bench_text *t, const char *s)
{
        json_t *j = json_string(s);
        char *d = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_ESCAPE_SLASH) : NULL;

        if (d)
                nt_bench_puts(t, d);
        free(d);
        json_decref(j);
}

static const char head_fmt[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>%s | World News Network</title>\n"
    "<meta property=\"og:type\" content=\"article\">\n"
    "<meta property=\"og:site_name\" content=\"World News Network\">\n"
    "<meta property=\"article:published_time\" "
    "content=\"2026-02-11T09:15:00Z\">\n"
    "<link rel=\"canonical\" href=\"/world/2026/02/11/story-%d\">\n"
    "<link rel=\"stylesheet\" href=\"/assets/main.3f9a1c.css\">\n"
    "<style>.nav-list{display:flex;gap:1rem}.story-body p{line-height:1.6;"
    "margin:0 0 1em}.related a{color:#036}.cookie-bar{position:fixed;"
    "bottom:0}</style>\n"
    "<script>(function(w,d,s,l,i){w[l]=w[l]||[];w[l].push({'gtm.start':new "
    "Date().getTime(),event:'gtm.js'});var f=d.getElementsByTagName(s)[0],"
    "j=d.createElement(s),dl=l!='dataLayer'?'&l='+l:'';j.async=true;j.src="
    "'https://tags.example/gtm.js?id='+i+dl;f.parentNode.insertBefore(j,f);"
    "})(window,document,'script','dataLayer','GTM-XXXX');</script>\n";

static const char nav_html[] =
    "<body class=\"article-page\">\n"
    "<div class=\"cookie-bar\" id=\"cookie-consent\"><p>We use cookies "
    "to personalise content and ads and to analyse our traffic.</p>"
    "<button>Accept</button><button>Settings</button></div>\n"
    "<header class=\"site-header\"><a class=\"logo\" href=\"/\">World News "
    "Network</a>\n<nav class=\"main-nav\"><ul class=\"nav-list\">"
    "<li><a href=\"/\">Home</a></li><li><a href=\"/world\">World</a></li>"
    "<li><a href=\"/europe\">Europe</a></li><li><a href=\"/politics\">"
    "Politics</a></li><li><a href=\"/business\">Business</a></li>"
    "<li><a href=\"/tech\">Technology</a></li><li><a href=\"/science\">"
    "Science</a></li><li><a href=\"/sport\">Sport</a></li><li><a "
    "href=\"/culture\">Culture</a></li><li><a href=\"/opinion\">Opinion"
    "</a></li><li><a href=\"/video\">Video</a></li><li><a href=\"/live\">"
    "Live</a></li></ul></nav>\n"
    "<form class=\"search\" action=\"/search\"><input name=\"q\" "
    "placeholder=\"Search\"><button>Go</button></form></header>\n"
    "<div class=\"breadcrumbs\"><a href=\"/\">Home</a> &rsaquo; <a "
    "href=\"/world\">World</a> &rsaquo; <a href=\"/europe\">Europe</a>"
    "</div>\n<main class=\"layout\">\n<div class=\"story\">\n";

static const char tail_html[] =
    "<div class=\"share-bar\"><a href=\"#\">Share on Facebook</a> <a "
    "href=\"#\">Share on X</a> <a href=\"#\">Email</a></div>\n"
    "<div class=\"related\"><h3>Related coverage</h3><ul>"
    "<li><a href=\"/r1\">Talks resume as envoys meet again in Geneva</a></li>"
    "<li><a href=\"/r2\">What the latest sanctions package contains</a></li>"
    "<li><a href=\"/r3\">Energy prices climb for a third week</a></li>"
    "<li><a href=\"/r4\">Explainer: how the grain corridor works</a></li>"
    "</ul></div>\n</div>\n"
    "<aside class=\"sidebar\"><div class=\"most-read\"><h3>Most read</h3>"
    "<ol><li><a href=\"/m1\">Storm warnings across the north</a></li>"
    "<li><a href=\"/m2\">Central bank holds rates</a></li><li><a "
    "href=\"/m3\">Election results in full</a></li><li><a href=\"/m4\">"
    "The week in pictures</a></li></ol></div>"
    "<div class=\"newsletter\"><h4>The morning briefing</h4><p>Our editors' "
    "pick of the day's news, in your inbox before breakfast.</p><form>"
    "<input type=\"email\"><button>Sign up</button></form></div>"
    "<div class=\"ad-slot\"><script>googletag.cmd.push(function(){"
    "googletag.display('div-gpt-ad-1');});</script></div></aside>\n"
    "<section id=\"comments\" class=\"comments\"><h3>Comments</h3>"
    "<div class=\"comment\"><p>Thanks for the clear reporting on this, it "
    "is hard to find elsewhere.</p></div><div class=\"comment\"><p>I would "
    "like to know more about what happens next.</p></div></section>\n"
    "</main>\n<footer class=\"site-footer\"><ul><li><a href=\"/about\">About "
    "us</a></li><li><a href=\"/contact\">Contact</a></li><li><a "
    "href=\"/privacy\">Privacy</a></li><li><a href=\"/terms\">Terms</a></li>"
    "</ul><p>&copy; 2026 World News Network</p></footer>\n"
    "<script src=\"/assets/app.9c2e.js\" defer></script>\n</body>\n</html>\n";

/* One article page around a dev-set body. */
static struct page make_page(const char *title, const char *body, int n)
{
        struct nt_bench_text t = {0};
        struct page pg;
        char buf[4096];
        const char *p, *end, *nl;

        snprintf(buf, sizeof(buf), head_fmt, "Story", n);
        nt_bench_puts(&t, buf);
        if (n % 3 == 0) {
                nt_bench_puts(
                    &t, "<script type=\"application/ld+json\">{\"@context\":"
                        "\"https://schema.org\",\"@type\":\"NewsArticle\","
                        "\"headline\":");
                put_json_string(&t, title);
                nt_bench_puts(&t, ",\"datePublished\":\"2026-02-11T09:15:00Z\","
                                  "\"articleBody\":");
                put_json_string(&t, body);
                nt_bench_puts(&t, "}</script>\n");
        }
        nt_bench_puts(&t, "</head>\n");
        nt_bench_puts(&t, nav_html);
        nt_bench_puts(&t, "<h1 class=\"headline\">");
        put_escaped(&t, title, strlen(title));
        nt_bench_puts(
            &t, "</h1>\n<div class=\"byline\">By <a href=\"/staff/1\">"
                "Staff reporter</a> &middot; <time datetime=\"2026-02-11\">"
                "11 February 2026</time></div>\n"
                "<figure><img src=\"/img/1.jpg\" alt=\"\"><figcaption>A "
                "photograph from the scene. Photo: agency</figcaption>"
                "</figure>\n<div class=\"story-body\">\n");
        /* The body's paragraphs: its blank-line or line breaks. */
        end = body + strlen(body);
        for (p = body; p < end; p = nl + 1) {
                nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl)
                        nl = end;
                if (nl > p) {
                        nt_bench_puts(&t, "<p>");
                        put_escaped(&t, p, (size_t)(nl - p));
                        nt_bench_puts(&t, "</p>\n");
                }
        }
        nt_bench_puts(&t, "</div>\n");
        nt_bench_puts(&t, tail_html);
        pg.html = t.data;
        pg.len = t.len;
        pg.body = strdup(body);
        return pg;
}

static char *slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        char *buf;
        long n;

        if (!f)
                return NULL;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t)n + 1);
        if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
                fclose(f);
                free(buf);
                return NULL;
        }
        buf[n] = '\0';
        fclose(f);
        *len = (size_t)n;
        return buf;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        const char *jsonl =
            argc > 1 ? argv[1] : "../shared/devset/articles.jsonl";
        int rounds = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
        struct page *pages = NULL;
        size_t n_pages = 0, cap = 0, n_fixture = 0, i, bytes = 0;
        double t0, t_ex[64], t_txt[64], ratio[64], sum_p = 0, sum_r = 0,
                                                   min_r = 1;
        size_t n_gen = 0, methods[4] = {0};
        char path[1024], line[1 << 16];
        FILE *f;
        DIR *d;
        struct dirent *de;
        int round, k;

        if (rounds < 1 || rounds > 64) {
                fprintf(stderr, "usage: %s [ARTICLES.jsonl] [rounds 1-64]\n",
                        argv[0]);
                return 2;
        }
        /* The fixture pages, each repeated 20 times. */
        d = opendir(NT_SOURCE_DIR "/tests/fixtures/pages");
        while (d && (de = readdir(d)) != NULL) {
                size_t len, l = strlen(de->d_name);
                char *html;
                if (l < 5 || strcmp(de->d_name + l - 5, ".html") != 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s",
                         NT_SOURCE_DIR "/tests/fixtures/pages", de->d_name);
                html = slurp(path, &len);
                for (k = 0; html && k < 20; k++) {
                        nt_bench_grow(&pages, &cap, n_pages + 1,
                                      sizeof(*pages));
                        pages[n_pages].html = k ? strdup(html) : html;
                        pages[n_pages].len = len;
                        pages[n_pages].body = NULL;
                        n_pages++;
                }
        }
        if (d)
                closedir(d);
        n_fixture = n_pages;
        /* The dev set's bodies in the template. */
        f = fopen(jsonl, "r");
        if (!f) {
                fprintf(stderr,
                        "%s: cannot open (give the dev set's "
                        "articles.jsonl)\n",
                        jsonl);
                return 1;
        }
        while (fgets(line, sizeof(line), f)) {
                json_t *a = json_loads(line, 0, NULL);
                const char *title =
                    json_string_value(json_object_get(a, "title"));
                const char *body =
                    json_string_value(json_object_get(a, "content"));

                if (!body || strlen(body) < 200)
                        body = json_string_value(json_object_get(a, "summary"));
                if (body && strlen(body) >= 200) {
                        nt_bench_grow(&pages, &cap, n_pages + 1,
                                      sizeof(*pages));
                        pages[n_pages] = make_page(
                            title && *title ? title : "News", body, (int)n_gen);
                        n_pages++;
                        n_gen++;
                }
                json_decref(a);
        }
        fclose(f);
        for (i = 0; i < n_pages; i++)
                bytes += pages[i].len;

        /* Quality on the generated pages. */
        {
                double *recalls = malloc(n_gen * sizeof(double));
                size_t g = 0;

                for (i = n_fixture; i < n_pages; i++) {
                        struct nt_extract_page pg;
                        struct nt_test_prf s;

                        nt_extract_page_init(&pg);
                        if (nt_extract(pages[i].html, pages[i].len, NULL,
                                       "https://wnn.example/", NULL, &pg)) {
                                fprintf(stderr, "nt_extract failed\n");
                                return 1;
                        }
                        methods[pg.method]++;
                        s = nt_test_word_score(pg.text, pages[i].body);
                        sum_p += s.p;
                        sum_r += s.r;
                        if (s.r < min_r)
                                min_r = s.r;
                        recalls[g++] = s.r;
                        nt_extract_page_free(&pg);
                }
                qsort(recalls, g, sizeof(double), cmp_double);
                printf("command:");
                for (k = 0; k < argc; k++)
                        printf(" %s", argv[k]);
                printf("\ninput: %zu pages, %.2f MB of HTML (%zu fixture pages "
                       "x20 = %zu, %zu built from %s; mean %zu B a page)\n",
                       n_pages, (double)bytes / 1e6, n_fixture / 20, n_fixture,
                       n_gen, jsonl, bytes / (n_pages ? n_pages : 1));
                printf("quality on the %zu built pages: word precision mean "
                       "%.3f, recall mean %.3f, min %.3f, p10 %.3f; methods: "
                       "jsonld %zu, article %zu, density %zu, none %zu\n",
                       n_gen, n_gen ? sum_p / n_gen : 0,
                       n_gen ? sum_r / n_gen : 0, min_r,
                       g ? recalls[g / 10] : 0, methods[NT_EXTRACT_JSONLD],
                       methods[NT_EXTRACT_ARTICLE], methods[NT_EXTRACT_DENSITY],
                       methods[NT_EXTRACT_NONE]);
                free(recalls);
        }

        /* Speed: rounds alternating the subject and the baseline. */
        for (round = 0; round < rounds; round++) {
                t0 = nt_bench_process_cpu_s();
                for (i = 0; i < n_pages * PASSES; i++) {
                        struct nt_extract_page pg;

                        nt_extract_page_init(&pg);
                        if (nt_extract(pages[i % n_pages].html,
                                       pages[i % n_pages].len, NULL,
                                       "https://wnn.example/", NULL, &pg)) {
                                fprintf(stderr, "nt_extract failed\n");
                                return 1;
                        }
                        nt_extract_page_free(&pg);
                }
                t_ex[round] = nt_bench_process_cpu_s() - t0;
                t0 = nt_bench_process_cpu_s();
                for (i = 0; i < n_pages * PASSES; i++) {
                        char *out = NULL;
                        int truncated;

                        if (nt_html_to_text(pages[i % n_pages].html,
                                            pages[i % n_pages].len, 1 << 20,
                                            &out, &truncated)) {
                                fprintf(stderr, "nt_html_to_text failed\n");
                                return 1;
                        }
                        free(out);
                }
                t_txt[round] = nt_bench_process_cpu_s() - t0;
                ratio[round] = t_ex[round] / t_txt[round];
        }
        qsort(t_ex, (size_t)rounds, sizeof(double), cmp_double);
        qsort(t_txt, (size_t)rounds, sizeof(double), cmp_double);
        qsort(ratio, (size_t)rounds, sizeof(double), cmp_double);
        bytes *= PASSES;
        printf("speed, one core, CPU time, %d rounds of %d passes (median / "
               "best):\n",
               rounds, PASSES);
        printf("  nt_extract                          %7.1f / %7.1f MB/s\n",
               (double)bytes / 1e6 / t_ex[rounds / 2],
               (double)bytes / 1e6 / t_ex[0]);
        printf("  nt_html_to_text (baseline)          %7.1f / %7.1f MB/s\n",
               (double)bytes / 1e6 / t_txt[rounds / 2],
               (double)bytes / 1e6 / t_txt[0]);
        printf("  ratio nt_extract / nt_html_to_text: %.2fx the time "
               "(median of the rounds' ratios)\n",
               ratio[rounds / 2]);
        for (i = 0; i < n_pages; i++) {
                free(pages[i].html);
                free(pages[i].body);
        }
        free(pages);
        return 0;
}
