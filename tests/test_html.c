/* HTML fragments to plain text: paragraphs and lines, what is dropped,
 * white space, references and bytes that are not UTF-8, malformed and
 * hostile markup, the limits, and silence on stderr. */
#include "common/err.h"
#include "common/html.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct text_case {
        char name[48];
        char in[200];
        char want[120];
};

ParameterizedTestParameters(html, to_text)
{
        static struct text_case cases[] = {
            {"paragraphs", "<p>One</p><p>Two</p>", "One\n\nTwo"},
            {"line break", "a<br>b", "a\nb"},
            {"two line breaks", "a<br>\n<br/>b", "a\n\nb"},
            {"list items", "<ul><li>one</li><li>two</li></ul>after",
             "one\n\ntwo\n\nafter"},
            {"unclosed list items", "<ol><li>one<li>two</ol>", "one\n\ntwo"},
            {"heading", "<h1>Title</h1>Body", "Title\n\nBody"},
            {"blockquote in div", "<div>a<blockquote>b</blockquote>c</div>",
             "a\n\nb\n\nc"},
            {"table",
             "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr>"
             "</table>",
             "a b\n\nc"},
            {"script and style removed",
             "<script>alert('x')</script>Text<style>p{color:red}</style>",
             "Text"},
            {"noscript, iframe, object, template removed",
             "<noscript>n</noscript><iframe>i</iframe><object>o</object>"
             "<template>t</template>kept",
             "kept"},
            {"head content removed", "<title>T</title><meta charset=utf-8>Body",
             "Body"},
            {"svg removed", "x <svg><text>icon</text></svg> y", "x y"},
            {"comment removed", "<!-- note -->text", "text"},
            {"references decoded",
             "caf&eacute; &amp; &#8217;s &lt;tag&gt; &mdash;",
             "café & ’s <tag> —"},
            {"white space collapsed", "  a \n\t b  \r\n c ", "a b c"},
            {"no-break spaces collapsed", "a&nbsp;&nbsp;b\u00A0 c", "a b c"},
            {"nested inline tags",
             "<b>bold <i>and <u>under</u></i></b> <a href=x>link</a>.",
             "bold and under link."},
            {"inline tags join words", "<b>Zapo</b>rizhzhia", "Zaporizhzhia"},
            {"unclosed tags", "<div><p>unclosed <b>bold<p>next",
             "unclosed "
             "bold\n\nnext"},
            {"stray end tags", "a</span></div>b</p>c", "ab\n\nc"},
            {"bare text", "plain text only", "plain text only"},
            {"Cyrillic", "<p>Запорізька <b>АЕС</b></p>", "Запорізька АЕС"},
            {"image alt not text", "<img src=a.jpg alt=\"photo\">caption",
             "caption"},
            {"empty", "", ""},
            {"only white space", "<p> </p>\n<div>\t</div>", ""},
            {"pattern that aborted gumbo",
             "ok<table><svg><select><foreignObject><select><tbody>", "ok"},
            {"windows-1252 numeric references", "a&#146;s &#150; &#x85;",
             "a\u2019s \u2013 \u2026"},
            {"invalid numeric references", "&#0;x &#xD800;y &#x110000;z",
             "\uFFFDx \uFFFDy \uFFFDz"},
            {"numeric references without digits", "a&#; b&#x; &##",
             "a&#; b&#x; &##"},
            {"control characters",
             "a\x01"
             "b\x0B"
             "c\fd",
             "ab c d"},
            {"bytes that are not UTF-8",
             "a\xFF"
             "b \xC3(",
             "a\uFFFDb \uFFFD("},
            {"quoted > in attributes",
             "<p title=\"a>b\">one</p><a href='x>y'>two</a>", "one\n\ntwo"},
            {"bare less-than signs", "a < b, c<3 </ d", "a < b, c<3"},
            {"tag cut by the end", "k<a href=\"x", "k"},
            {"page tags ignored", "x<html><body>y</body></html>z", "xyz"},
            {"title in the body", "x<title>t</title>y", "xy"},
            {"comments end as in HTML5", "<!-->a<!--->b<!-- c --!>d", "abd"},
            {"CDATA and processing instructions dropped",
             "<![CDATA[x]]>a<?php y ?>b<!DOCTYPE html>c", "abc"},
            {"script written by a script",
             "a<script><!-- document.write('<script>x</script>'); -->"
             "</script>b",
             "ab"},
            {"script end tag in any case", "a<script>x<y</SCRIPT >b", "ab"},
            {"textarea content is text", "<textarea>a<b>c</b></textarea>",
             "a<b>c</b>"},
            {"self-closing svg", "<svg/>after", "after"},
            {"upper-case tags", "<P>a</P><DIV>b</DIV>", "a\n\nb"},
            {"embed is void", "<p>a<embed src=v.swf>b</p>", "ab"},
            {"text after page-head tags",
             "<link rel=x><meta charset=utf-8><base href=/>text", "text"},
            {"end tag closes a dropped element", "<div>a<svg>x</div>b",
             "a\n\nb"},
            {"dropped element nested", "<svg><svg>a</svg>b</svg>c", "c"},
            {"end tag does not reach out of a cell",
             "<div><table><tr><td>a</div>b</td></tr></table>c", "ab\n\nc"},
            {"stray end of paragraph", "<b>a</b></p>b", "a\n\nb"},
            {"space after an image",
             "<p>a<img src=x> <b>b</b> <sup>1</sup> <x-y>c</x-y></p>",
             "a b 1 c"},
            {"numeric references without ';'", "&#65&#x42;&#146 &#1;x",
             "AB\u2019 x"},
            {"named references need ';'", "&amp &ampx &unknown; &amp;",
             "&amp &ampx &unknown; &"},
            {"references in textarea", "<textarea>&lt;&amp</textarea>",
             "<&amp"},
        };
        return cr_make_param_array(struct text_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct text_case *c, html, to_text)
{
        char *out = NULL;
        int err = nt_html_to_text(c->in, strlen(c->in), 4096, &out, NULL);

        cr_assert_eq(err, NT_OK, "%s: error %d", c->name, err);
        cr_assert_not_null(out, "%s: no output", c->name);
        cr_assert_str_eq(out, c->want, "%s: got \"%s\"", c->name, out);
        free(out);
}

/* True when s is n bytes of whole UTF-8 characters. */
static int whole_utf8(const char *s, size_t n)
{
        size_t i = 0, k, need;
        unsigned char c;

        while (i < n) {
                c = (unsigned char)s[i];
                need = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
                if (i + need > n)
                        return 0;
                for (k = 1; k < need; k++) {
                        if (((unsigned char)s[i + k] & 0xC0) != 0x80)
                                return 0;
                }
                i += need;
        }
        return 1;
}

struct cut_case {
        size_t max;
        char want[40];
        int truncated;
};

ParameterizedTestParameters(html, truncation)
{
        /* "Запорізька АЕС" is 27 bytes: two per letter, one space. */
        static struct cut_case cases[] = {
            {0, "", 1},
            {1, "", 1},
            {2, "З", 1},
            {3, "З", 1},
            {7, "Зап", 1},
            {20, "Запорізька", 1},
            {21, "Запорізька", 1},
            {23, "Запорізька А", 1},
            {26, "Запорізька АЕ", 1},
            {27, "Запорізька АЕС", 0},
            {100, "Запорізька АЕС", 0},
        };
        return cr_make_param_array(struct cut_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct cut_case *c, html, truncation)
{
        static const char in[] = "<p>Запорізька <b>АЕС</b></p>";
        char *out = NULL;
        int truncated = -1;
        int err = nt_html_to_text(in, strlen(in), c->max, &out, &truncated);

        cr_assert_eq(err, NT_OK, "max %zu: error %d", c->max, err);
        cr_assert_str_eq(out, c->want, "max %zu: got \"%s\"", c->max, out);
        cr_assert_leq(strlen(out), c->max, "max %zu: too long", c->max);
        cr_assert(whole_utf8(out, strlen(out)), "max %zu: cut in a character",
                  c->max);
        cr_assert_eq(truncated, c->truncated, "max %zu: truncated %d", c->max,
                     truncated);
        free(out);
}

/* Builds `reps` copies of `unit` followed by `tail`. Caller frees. */
static char *repeat(const char *unit, size_t reps, const char *tail,
                    size_t *len)
{
        size_t n = strlen(unit), t = strlen(tail), i;
        char *s = malloc(n * reps + t + 1);

        cr_assert_not_null(s);
        for (i = 0; i < reps; i++)
                memcpy(s + i * n, unit, n);
        memcpy(s + n * reps, tail, t + 1);
        *len = n * reps + t;
        return s;
}

/* Hostile markup (gumbo took from seconds to a minute, or over a
 * gigabyte, on these; libxml2 stopped at its depth limit). Without a tree
 * nesting costs nothing: the text after it is kept, nothing is cut. (No
 * Criterion .timeout here: with parallel jobs, Criterion 2.4.1 then leaks
 * in its runner and LeakSanitizer fails the binary.) */
struct hostile_case {
        char name[48];
        char unit[40];
        size_t reps;
        char head[64];
};

ParameterizedTestParameters(html, hostile)
{
        static struct hostile_case cases[] = {
            {"100000 nested divs", "<div>", 100000, "before"},
            {"100000 unclosed inline tags", "<span>", 100000, "before"},
            {"nesting through ignored end tags", "<span><div></span>", 50000,
             "before"},
            {"nesting through a form", "<form><div></form>", 50000, "before"},
            {"nested tables", "<table><tr><td>", 40000, "before"},
            {"end tags blocked by a cell", "</div>", 100000, "before<div><td>"},
            {"nested dropped elements", "<svg><object>", 50000, "before"},
            {"formatting elements reopened", "</p><p>x", 100000,
             "before<p><b id=1><b id=2><b id=3><b id=4><b id=5><b id=6>"},
        };
        return cr_make_param_array(struct hostile_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct hostile_case *c, html, hostile)
{
        size_t len;
        /* What closes the dropped elements of the last case. */
        char *body = repeat(c->unit, c->reps, "</svg></object>after", &len);
        size_t head_len = strlen(c->head);
        char *in = malloc(head_len + len + 1), *out = NULL;
        int truncated = -1, err;

        cr_assert_not_null(in);
        memcpy(in, c->head, head_len);
        memcpy(in + head_len, body, len + 1);
        err = nt_html_to_text(in, head_len + len, 1 << 20, &out, &truncated);
        free(in);
        free(body);
        cr_assert_eq(err, NT_OK, "%s: error %d", c->name, err);
        cr_assert_eq(truncated, 0, "%s: truncated", c->name);
        cr_assert(strncmp(out, "before", 6) == 0,
                  "%s: text before the nesting lost: \"%.20s\"", c->name, out);
        if (strcmp(c->unit, "<svg><object>") == 0)
                cr_assert_str_eq(out, "before", "%s", c->name);
        else
                cr_assert(strlen(out) > 5 &&
                              strcmp(out + strlen(out) - 5, "after") == 0,
                          "%s: text after the nesting lost", c->name);
        free(out);
}

/* Attributes are skipped in one pass (libxml2's duplicate check was
 * quadratic: seconds for 20,000 on one tag): nothing is cut. */
Test(html, many_attributes)
{
        size_t len, i, n = 0, cap = 60000 * 8 + 16;
        char *in = malloc(cap), *out = NULL;
        int truncated = -1;

        cr_assert_not_null(in);
        n += (size_t)snprintf(in, cap, "text<a ");
        for (i = 0; i < 60000; i++)
                n += (size_t)snprintf(in + n, cap - n, "x%zu ", i);
        in[n++] = '>';
        in[n] = '\0';
        len = n;
        cr_assert_eq(nt_html_to_text(in, len, 4096, &out, &truncated), NT_OK);
        cr_assert_str_eq(out, "text");
        cr_assert_eq(truncated, 0);
        free(out);
        free(in);
}

/* Ordinary long documents are not cut: many paragraphs, list items and
 * unclosed <p> and <li> that HTML closes itself. */
/* Element names are looked up in a sorted table as two numbers: every
 * name of the table in any case is found, and names next to them (a
 * prefix, one more letter, a neighbour in the order) are inline. */
struct name_case {
        char name[16];
        int block; /* 1: a paragraph break; 2: a space (cell); 0: inline */
};

ParameterizedTestParameters(html, element_names)
{
        static struct name_case cases[] = {
            {"address", 1},     {"ARTICLE", 1},     {"aside", 1},
            {"BlockQuote", 1},  {"caption", 1},     {"center", 1},
            {"dd", 1},          {"details", 1},     {"dir", 1},
            {"div", 1},         {"dl", 1},          {"dt", 1},
            {"fieldset", 1},    {"figcaption", 1},  {"figure", 1},
            {"footer", 1},      {"form", 1},        {"h1", 1},
            {"h6", 1},          {"header", 1},      {"hgroup", 1},
            {"legend", 1},      {"li", 1},          {"listing", 1},
            {"main", 1},        {"menu", 1},        {"nav", 1},
            {"ol", 1},          {"option", 1},      {"P", 1},
            {"pre", 1},         {"section", 1},     {"summary", 1},
            {"table", 1},       {"tr", 1},          {"ul", 1},
            {"td", 2},          {"th", 2},          {"a", 0},
            {"b", 0},           {"abbr", 0},        {"addresses", 0},
            {"blockquotes", 0}, {"figcaptions", 0}, {"h7", 0},
            {"pa", 0},          {"span", 0},        {"tablex", 0},
            {"u", 0},           {"ulx", 0},         {"zzzzzzzzzzz", 0},
        };
        return cr_make_param_array(struct name_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct name_case *c, html, element_names)
{
        static const char *const want[] = {"ab", "a\n\nb", "a b"};
        char in[64], *out = NULL;

        snprintf(in, sizeof(in), "a<%s>b</%s>", c->name, c->name);
        cr_assert_eq(nt_html_to_text(in, strlen(in), 1024, &out, NULL), NT_OK);
        cr_assert_str_eq(out, want[c->block], "<%s>: got \"%s\"", c->name, out);
        free(out);
}

/* Plain text is skipped 16 bytes at a time (ASCII and two-byte
 * characters; a block ending inside a character 15): a tag, a reference
 * or a longer character is read at any offset after any alignment. */
Test(html, markup_at_every_offset)
{
        static const char *const odd[] = {"<b>", "&amp;", "\xE2\x80\x94",
                                          "\xFF"};
        static const char *const odd_text[] = {"", "&", "\xE2\x80\x94",
                                               "\xEF\xBF\xBD"};
        char in[128], want[128], *out;
        size_t pre, at, k, l, n, w;

        for (pre = 0; pre < 16; pre++) {
                for (at = 0; at < 24; at++) {
                        for (k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
                                memset(in, 'a', pre);
                                memset(want, 'a', pre);
                                n = w = pre;
                                for (l = 0; l < 24; l++) {
                                        memcpy(in + n, "\xD0\xB6", 2);
                                        memcpy(want + w, "\xD0\xB6", 2);
                                        n += 2;
                                        w += 2;
                                        if (l != at)
                                                continue;
                                        memcpy(in + n, odd[k], strlen(odd[k]));
                                        n += strlen(odd[k]);
                                        memcpy(want + w, odd_text[k],
                                               strlen(odd_text[k]));
                                        w += strlen(odd_text[k]);
                                }
                                in[n] = want[w] = '\0';
                                out = NULL;
                                cr_assert_eq(
                                    nt_html_to_text(in, n, 1024, &out, NULL),
                                    NT_OK);
                                cr_assert_str_eq(out, want,
                                                 "%zu ASCII bytes, odd %zu "
                                                 "after letter %zu",
                                                 pre, k, at);
                                free(out);
                        }
                }
        }
}

struct long_case {
        char name[40];
        char head[16];
        char unit[48];
        size_t reps;
};

ParameterizedTestParameters(html, long_documents_kept)
{
        static struct long_case cases[] = {
            {"paragraphs", "", "<p>Text <b>bold</b> <a href=x>l</a></p>", 5000},
            {"unclosed paragraphs", "", "<p>text", 5000},
            {"unclosed list items", "<ul>", "<li><p>text", 5000},
            {"unclosed links", "", "<a href=x>text", 5000},
            {"table rows", "<table>", "<tr><td>a<td>b", 5000},
            {"cells outside a table", "", "<td>cell</td>", 5000},
            {"divs closed", "", "<div><div>text</div></div>", 5000},
        };
        return cr_make_param_array(struct long_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct long_case *c, html, long_documents_kept)
{
        size_t len, head_len = strlen(c->head);
        char *body = repeat(c->unit, c->reps, "<p>THE END", &len);
        char *in = malloc(head_len + len + 1), *out = NULL;
        int truncated = -1;

        cr_assert_not_null(in);
        memcpy(in, c->head, head_len);
        memcpy(in + head_len, body, len + 1);
        cr_assert_eq(
            nt_html_to_text(in, head_len + len, 1 << 20, &out, &truncated),
            NT_OK, "%s", c->name);
        cr_assert_eq(truncated, 0, "%s: cut", c->name);
        cr_assert(strstr(out, "THE END") != NULL, "%s: end missing", c->name);
        free(out);
        free(in);
        free(body);
}

Test(html, truncated_may_be_null)
{
        char *out = NULL;

        cr_assert_eq(nt_html_to_text("<p>abc</p>", 10, 2, &out, NULL), NT_OK);
        cr_assert_str_eq(out, "ab");
        free(out);
}

/* NUL bytes are dropped, and reading goes on after them. */
Test(html, nul_bytes)
{
        static const char in[] = "a\0b<p>c\0</p>d";
        char *out = NULL;
        int truncated = -1;

        cr_assert_eq(nt_html_to_text(in, sizeof(in) - 1, 100, &out, &truncated),
                     NT_OK);
        cr_assert_str_eq(out, "ab\n\nc\n\nd");
        cr_assert_eq(truncated, 0);
        free(out);
}

/* Malformed markup of every kind: nothing may reach stderr. */
Test(html, silent)
{
        static const char *const ins[] = {
            "<section><foo>x</bar></p></foo>",
            "a\xFF\xFE b &#xD800; &bogus;",
            "<table><td><tr><select><option><table>",
            "<a b=1 b=2 c>x</a>",
            "<!DOCTYPE x PUBLIC \"y",
            "<p><div></span></p></div>"};
        char path[] = "/tmp/nt_html_stderr_XXXXXX";
        char *deep, *out = NULL;
        size_t i, n = 2000;
        int fd = mkstemp(path), saved;
        struct stat st;

        cr_assert_geq(fd, 0);
        deep = malloc(5 * n + 1);
        cr_assert_not_null(deep);
        for (i = 0; i < n; i++)
                memcpy(deep + 5 * i, "<div>", 5);
        deep[5 * n] = '\0';
        fflush(stderr);
        saved = dup(2);
        cr_assert_geq(saved, 0);
        cr_assert_geq(dup2(fd, 2), 0);
        for (i = 0; i < sizeof(ins) / sizeof(ins[0]); i++) {
                nt_html_to_text(ins[i], strlen(ins[i]), 4096, &out, NULL);
                free(out);
        }
        nt_html_to_text(deep, 5 * n, 4096, &out, NULL);
        free(out);
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        cr_assert_eq(fstat(fd, &st), 0);
        cr_assert_eq(st.st_size, 0, "%lld bytes written to stderr",
                     (long long)st.st_size);
        close(fd);
        unlink(path);
        free(deep);
}

/* Input past 4 MiB is cut, and flagged. */
Test(html, input_cap)
{
        size_t len;
        char *in = repeat("ab ", (5u << 20) / 3, "", &len), *out = NULL;
        int truncated = -1;

        cr_assert_eq(nt_html_to_text(in, len, 8u << 20, &out, &truncated),
                     NT_OK);
        cr_assert_eq(truncated, 1);
        cr_assert_leq(strlen(out), 4u << 20);
        cr_assert(strncmp(out, "ab ab", 5) == 0);
        free(out);
        free(in);
}

/* Conversions in several threads at once give the same text as one
 * thread does. */
static void *convert_many(void *arg)
{
        static const char in[] = "<p>Запорізька <b>АЕС</b></p><ul><li>a<li>b";
        char *out = NULL;
        int i, *failures = arg;

        for (i = 0; i < 200; i++) {
                if (nt_html_to_text(in, strlen(in), 4096, &out, NULL) !=
                        NT_OK ||
                    strcmp(out, "Запорізька АЕС\n\na\n\nb") != 0)
                        (*failures)++;
                free(out);
                out = NULL;
        }
        return NULL;
}

Test(html, threads)
{
        pthread_t th[4];
        int failures[4] = {0, 0, 0, 0}, i;

        for (i = 0; i < 4; i++)
                cr_assert_eq(
                    pthread_create(&th[i], NULL, convert_many, &failures[i]),
                    0);
        for (i = 0; i < 4; i++) {
                pthread_join(th[i], NULL);
                cr_assert_eq(failures[i], 0, "thread %d: %d failures", i,
                             failures[i]);
        }
}

/* The attribute scanner shared with the extraction, from just past a
 * tag's name: each attribute as name=[value], then how the tag ends and
 * where the scanner stopped. */
struct attr_case {
        char in[48];
        char want[96];
};

ParameterizedTestParameters(html, attr_next)
{
        static struct attr_case cases[] = {
            {" a=\"x>y\" b='z' c=w d>", "a=[x>y] b=[z] c=[w] d=[] end@21"},
            {" / x = \"q\" />", "x=[q] self@13"},
            {" =a>", "=a=[] end@4"},
            {" a= >", "a=[] end@5"},
            {" A=1/>", "A=[1/] end@6"},
            {" a=\"open", "a=[open] cut@8"},
            {" a=  ", "cut@5"},
            {">", "end@1"},
            {"", "cut@0"},
        };

        return cr_make_param_array(struct attr_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct attr_case *c, html, attr_next)
{
        const unsigned char *s = (const unsigned char *)c->in;
        size_t n = strlen(c->in), i = 0, used = 0;
        struct nt_html_attr at;
        enum nt_html_attr_step step;
        char got[128];

        got[0] = '\0';
        while ((step = nt_html_attr_next(s, n, &i, &at)) == NT_HTML_ATTR)
                used += (size_t)snprintf(
                    got + used, sizeof(got) - used, "%.*s=[%.*s] ",
                    (int)at.name_len, (const char *)at.name, (int)at.value_len,
                    (const char *)at.value);
        snprintf(got + used, sizeof(got) - used, "%s@%zu",
                 step == NT_HTML_TAG_END            ? "end"
                 : step == NT_HTML_TAG_SELF_CLOSING ? "self"
                                                    : "cut",
                 i);
        cr_assert_str_eq(got, c->want, "attributes of \"%s\"", c->in);
}
