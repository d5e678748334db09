/* Main-text extraction: the page set in tests/fixtures/pages/ (pages we
 * wrote in several site layouts, each NAME.html with the expected text in
 * NAME.txt and the navigation strings that must not appear in NAME.nav)
 * scored by word-level precision, recall and F1; the choice of method,
 * the metadata, the encodings, and the limits. */
#include "common/err.h"
#include "common/extract.h"
#include "support/archive.h"
#include "support/word_score.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Helpers --------------------------------------------------------- */

/* A page of tests/fixtures/pages; caller frees. */
static char *slurp(const char *name, size_t *len)
{
        const char *dir = getenv("NT_FIXTURES");
        char path[1024];

        snprintf(path, sizeof(path), "%s/pages/%s",
                 dir ? dir : "tests/fixtures", name);
        return nt_test_slurp(path, len);
}

static void extract_file(const char *name, struct nt_extract_page *pg)
{
        size_t len;
        char *html = slurp(name, &len);

        nt_extract_page_init(pg);
        cr_assert_eq(
            nt_extract(html, len, NULL, "https://site.example/a/b", NULL, pg),
            NT_OK, "%s", name);
        free(html);
}

static void extract_str(const char *html, const struct nt_extract_limits *lim,
                        struct nt_extract_page *pg)
{
        nt_extract_page_init(pg);
        cr_assert_eq(nt_extract(html, strlen(html), NULL, NULL, lim, pg),
                     NT_OK);
}

/* ---- The page set ---------------------------------------------------- */

struct page_case {
        char name[32];
        enum nt_extract_method method;
        char title[80];
};

ParameterizedTestParameters(extract, page_set)
{
        static struct page_case cases[] = {
            {"news_nav", NT_EXTRACT_DENSITY,
             "Harbour city approves night ferry trial"},
            {"blog", NT_EXTRACT_DENSITY,
             "What three winters taught me about heat pumps"},
            {"liveblog", NT_EXTRACT_DENSITY,
             "Live: river levels rise as rain continues across the valley"},
            {"article_tag", NT_EXTRACT_ARTICLE,
             "Library reopens with longer hours after roof repairs"},
            {"jsonld_teaser", NT_EXTRACT_JSONLD,
             "Grain cooperative signs deal for new drying plant"},
            {"cookie_comments", NT_EXTRACT_DENSITY,
             "Town trials four-day week for bin collections"},
            /* Written after the extractor was tuned on the others, and
             * passed at once. */
            {"magazine_sections", NT_EXTRACT_DENSITY,
             "The night shift at the seed bank"},
            {"legacy_latin1", NT_EXTRACT_DENSITY,
             "Alpine Herald - Valley café wins regional baking prize"},
        };
        return cr_make_param_array(struct page_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

/* F1 >= 0.9 against the expected text, and none of the page's navigation
 * strings in the text or the title. The figures go to stderr, one line a
 * page, for docs/benchmarks.md. */
ParameterizedTest(struct page_case *c, extract, page_set)
{
        struct nt_extract_page pg;
        char file[64], *want, *nav, *line, *save = NULL;
        struct nt_test_prf s;

        snprintf(file, sizeof(file), "%s.html", c->name);
        extract_file(file, &pg);
        snprintf(file, sizeof(file), "%s.txt", c->name);
        want = slurp(file, NULL);
        s = nt_test_word_score(pg.text, want);
        fprintf(stderr, "page %-18s method %-8s P %.3f R %.3f F1 %.3f\n",
                c->name, nt_extract_method_name(pg.method), s.p, s.r, s.f1);
        cr_expect_geq(s.f1, 0.9, "%s: F1 %.3f (P %.3f R %.3f); text:\n%s",
                      c->name, s.f1, s.p, s.r, pg.text);
        cr_expect_eq(pg.method, c->method, "%s: method %s", c->name,
                     nt_extract_method_name(pg.method));
        cr_expect_str_eq(pg.title ? pg.title : "(null)", c->title, "%s",
                         c->name);
        snprintf(file, sizeof(file), "%s.nav", c->name);
        nav = slurp(file, NULL);
        for (line = strtok_r(nav, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                cr_expect(!strstr(pg.text, line),
                          "%s: navigation text \"%s\" in the text", c->name,
                          line);
                cr_expect(!pg.title || !strstr(pg.title, line),
                          "%s: navigation text \"%s\" in the title", c->name,
                          line);
        }
        free(nav);
        free(want);
        nt_extract_page_free(&pg);
}

/* ---- Metadata -------------------------------------------------------- */

Test(extract, jsonld_metadata_from_a_graph)
{
        struct nt_extract_page pg;

        extract_file("jsonld_teaser.html", &pg);
        cr_expect_str_eq(pg.author, "Helga Nordstrom, Samir Haddad");
        cr_expect_str_eq(pg.site_name, "Farm and Market Weekly");
        cr_expect_str_eq(pg.language, "en");
        cr_expect_str_eq(pg.description,
                         "Members will share a 40-tonne-an-hour dryer from "
                         "next harvest.");
        /* 2026-09-03T06:45:00+02:00 */
        cr_expect_eq(pg.published, 1788410700000LL);
        cr_expect_eq(pg.modified, 1788419400000LL);
        cr_expect_eq(pg.n_paragraphs, 5);
        nt_extract_page_free(&pg);
}

Test(extract, meta_tags_and_canonical)
{
        struct nt_extract_page pg;

        extract_file("news_nav.html", &pg);
        cr_expect_str_eq(pg.site_name, "The Coastal Ledger");
        cr_expect_str_eq(pg.description, "Councillors back a six-month "
                                         "trial of late ferries across the "
                                         "estuary.");
        cr_expect_str_eq(
            pg.canonical,
            "https://site.example/local/2026/03/night-ferry-trial");
        cr_expect_str_eq(pg.language, "en");
        cr_expect_eq(pg.published, 1773477000000LL); /* 2026-03-14T08:30Z */
        cr_expect_eq(pg.modified, INT64_MIN);
        cr_expect_eq(pg.n_paragraphs, 8);
        cr_expect_str_eq(pg.encoding, "utf-8");
        nt_extract_page_free(&pg);
}

Test(extract, meta_charset_decodes_a_latin1_page)
{
        struct nt_extract_page pg;

        extract_file("legacy_latin1.html", &pg);
        cr_expect_str_eq(pg.encoding, "windows-1252");
        cr_expect(strstr(pg.text, "Annelies Müller"), "%s", pg.text);
        cr_expect(strstr(pg.text, "«In winter"), "%s", pg.text);
        nt_extract_page_free(&pg);
}

Test(extract, http_charset_wins_over_meta)
{
        struct nt_extract_page pg;
        /* "Ж" in KOI8-R is 0xF6; the meta's windows-1252 would make it
         * "ö". */
        const char html[] = "<meta charset=windows-1252><article><p>"
                            "\xF6\xF6\xF6 is the first word of a sentence that "
                            "goes on long enough to be the article here, with "
                            "more words after it than a teaser would hold, and "
                            "then some more words to be sure of it all.</p>"
                            "</article>";

        nt_extract_page_init(&pg);
        cr_assert_eq(nt_extract(html, strlen(html), "koi8-r", NULL, NULL, &pg),
                     NT_OK);
        cr_expect_str_eq(pg.encoding, "koi8-r");
        cr_expect(strncmp(pg.text, "ЖЖЖ is", 9) == 0, "%s", pg.text);
        nt_extract_page_free(&pg);
}

/* ---- Choices --------------------------------------------------------- */

static const char long_para[] =
    "<p>The committee met for three hours on Tuesday evening, heard from "
    "residents, engineers and the bus company, and agreed that the new "
    "timetable would start in the spring, with a review after six months "
    "of service.</p>";

Test(extract, short_jsonld_body_loses_to_the_page)
{
        struct nt_extract_page pg;
        char html[4096];

        snprintf(html, sizeof(html),
                 "<script type=\"application/ld+json\">{\"@type\":"
                 "\"NewsArticle\",\"articleBody\":\"Short teaser only, "
                 "cut by a paywall.\"}</script><div class=story>%s%s%s</div>",
                 long_para, long_para, long_para);
        extract_str(html, NULL, &pg);
        cr_expect_eq(pg.method, NT_EXTRACT_DENSITY);
        cr_expect(strstr(pg.text, "The committee met"));
        nt_extract_page_free(&pg);
}

Test(extract, jsonld_type_array_and_html_body)
{
        struct nt_extract_page pg;
        const char html[] =
            "<script type='application/ld+json'>[{\"@type\":\"Organization\"},"
            "{\"@type\":[\"Thing\",\"https://schema.org/BlogPosting\"],"
            "\"headline\":\"H &amp; M\",\"articleBody\":\"<p>One two three "
            "four five six seven eight nine ten.</p><p>Eleven twelve "
            "thirteen fourteen fifteen sixteen seventeen eighteen nineteen "
            "twenty twenty-one twenty-two twenty-three twenty-four "
            "twenty-five.</p>\"}]</script>"
            "<p>x</p>";

        extract_str(html, NULL, &pg);
        cr_expect_eq(pg.method, NT_EXTRACT_JSONLD);
        cr_expect_str_eq(pg.title, "H & M");
        cr_expect_eq(pg.n_paragraphs, 2);
        cr_expect(strncmp(pg.text, "One two", 7) == 0, "%s", pg.text);
        nt_extract_page_free(&pg);
}

Test(extract, teaser_articles_do_not_win)
{
        struct nt_extract_page pg;
        char html[8192];

        /* The story in a div, then teaser cards in <article> elements:
         * none holds 300 characters of prose, so density decides, and
         * the story's div wins. */
        snprintf(html, sizeof(html),
                 "<div id=story>%s%s%s%s</div><div>"
                 "<article><h3><a href=/1>Allotment list passes 300</a></h3>"
                 "<p>Demand for plots keeps growing.</p></article>"
                 "<article><h3><a href=/2>Choir celebrates its fiftieth "
                 "season</a></h3><p>The anniversary concert sold out.</p>"
                 "</article></div>",
                 long_para, long_para, long_para, long_para);
        extract_str(html, NULL, &pg);
        cr_expect_eq(pg.method, NT_EXTRACT_DENSITY);
        cr_expect_eq(pg.n_paragraphs, 4, "%zu", pg.n_paragraphs);
        nt_extract_page_free(&pg);
}

Test(extract, no_text_at_all)
{
        struct nt_extract_page pg;

        extract_str("", NULL, &pg);
        cr_expect_eq(pg.method, NT_EXTRACT_NONE);
        cr_expect_str_eq(pg.text, "");
        cr_expect_null(pg.title);
        nt_extract_page_free(&pg);
        extract_str("<nav><p>Home, News, Sport, Weather, Opinion, Puzzles, "
                    "Jobs</p></nav><script>var a = '<p>not text</p>';</script>",
                    NULL, &pg);
        cr_expect_eq(pg.method, NT_EXTRACT_NONE);
        cr_expect_str_eq(pg.text, "");
        nt_extract_page_free(&pg);
}

Test(extract, references_and_white_space)
{
        struct nt_extract_page pg;

        extract_str("<article><p>Caf&eacute;&nbsp;&amp; bar, &#8220;open"
                    "&#x201D;   late\n\tAT&T &unknown; a&b, and a long enough "
                    "sentence after it to pass for an article on its own, "
                    "which needs some three hundred characters of prose "
                    "before the article element counts as the whole story "
                    "of the page, so here are a few more words about the "
                    "café and its opening hours in the summer months, when "
                    "the terrace is open until midnight and the kitchen "
                    "serves cold soups, salads and ice cream to the crowds "
                    "coming back from the lake.</p>"
                    "</article>",
                    NULL, &pg);
        cr_expect_eq(pg.method, NT_EXTRACT_ARTICLE);
        cr_expect(strncmp(pg.text,
                          "Café & bar, “open” late AT&T &unknown; a&b, and",
                          51) == 0,
                  "%s", pg.text);
        nt_extract_page_free(&pg);
}

Test(extract, a_story_word_keeps_a_container_with_a_boilerplate_word)
{
        struct nt_extract_page pg;
        char html[4096];

        snprintf(html, sizeof(html),
                 "<div class=\"article-body comments-open\">%s%s</div>"
                 "<div class=\"comments\">%s</div>",
                 long_para, long_para, long_para);
        extract_str(html, NULL, &pg);
        cr_expect_eq(pg.n_paragraphs, 2, "%zu: %s", pg.n_paragraphs, pg.text);
        nt_extract_page_free(&pg);
}

Test(extract, references_to_white_space_are_white_space)
{
        struct nt_extract_page pg;

        extract_str("<div><p>Alpha&#10;beta&#9;gamma &#13;&#32; delta&#xA0;"
                    "epsilon, with more words, so it scores as a paragraph "
                    "in the density pass of the extractor.</p></div>",
                    NULL, &pg);
        cr_expect(strncmp(pg.text, "Alpha beta gamma delta epsilon,", 31) == 0,
                  "%s", pg.text);
        nt_extract_page_free(&pg);
}

/* ---- Limits ---------------------------------------------------------- */

Test(extract, text_limit_cuts_at_a_character_and_says_so)
{
        struct nt_extract_limits lim;
        struct nt_extract_page pg;
        char html[8192];

        snprintf(html, sizeof(html), "<div>%s%s%s</div>", long_para, long_para,
                 "<p>é é é é é é é é é é é é é é é é é é é é é é é "
                 "é é é é é é é é é, é, é, é</p>");
        nt_extract_limits_init(&lim);
        lim.max_text = 300;
        extract_str(html, &lim, &pg);
        cr_expect(pg.cuts & NT_EXTRACT_CUT_TEXT);
        cr_expect_leq(strlen(pg.text), 300);
        nt_extract_page_free(&pg);
        /* Wherever the limit falls: no white space left at the end, and
         * never part of a character. */
        for (lim.max_text = 1; lim.max_text < 420; lim.max_text++) {
                size_t n;

                extract_str(html, &lim, &pg);
                n = strlen(pg.text);
                cr_assert_leq(n, lim.max_text);
                cr_assert(n == 0 ||
                              (pg.text[n - 1] != ' ' &&
                               pg.text[n - 1] != '\n' &&
                               ((unsigned char)pg.text[n - 1] & 0xC0) != 0xC0),
                          "max_text %zu: \"%s\"", lim.max_text, pg.text);
                nt_extract_page_free(&pg);
        }
        lim.max_text = 1 << 20;
        extract_str(html, &lim, &pg);
        cr_expect_eq(pg.cuts, 0);
        nt_extract_page_free(&pg);
}

Test(extract, input_and_depth_limits_are_flagged)
{
        struct nt_extract_limits lim;
        struct nt_extract_page pg;
        char *deep = malloc(6 * 2000 + sizeof(long_para) + 1), *p = deep;
        int i;

        for (i = 0; i < 2000; i++) {
                memcpy(p, "<div>", 5);
                p += 5;
        }
        memcpy(p, long_para, sizeof(long_para));
        nt_extract_limits_init(&lim);
        extract_str(deep, &lim, &pg);
        cr_expect(pg.cuts & NT_EXTRACT_CUT_DEPTH);
        cr_expect(strstr(pg.text, "The committee met"), "%s", pg.text);
        nt_extract_page_free(&pg);
        lim.max_input = 100;
        extract_str(deep, &lim, &pg);
        cr_expect(pg.cuts & NT_EXTRACT_CUT_INPUT);
        nt_extract_page_free(&pg);
        /* A cut inside a character does not turn the page into
         * windows-1252. */
        lim.max_input = 268; /* inside the first "К" */
        extract_str("<article><p>The words of this paragraph run on long "
                    "enough for the article element to count as the story, "
                    "which takes three hundred characters of prose or more, "
                    "so here is a sentence about a café and another one "
                    "about the weather in the hills, and then a last word: "
                    "Київ Київ Київ Київ</p></article>",
                    &lim, &pg);
        cr_expect(pg.cuts & NT_EXTRACT_CUT_INPUT);
        cr_expect_str_eq(pg.encoding, "utf-8");
        cr_expect(strstr(pg.text, "café"), "%s", pg.text);
        nt_extract_page_free(&pg);
        free(deep);
}
