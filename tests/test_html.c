/* HTML fragments to plain text: paragraphs and lines, what is dropped,
 * white space, malformed and hostile markup, and the output limit. */
#include "common/err.h"
#include "common/html.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
            {"gumbo abort pattern cut",
             "ok<table><svg><select><foreignObject><select><tbody>", "ok"},
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

/* Hostile markup: gumbo alone takes from seconds to a minute, or over a
 * gigabyte, on these; the guard cuts them short, which the truncation
 * flag shows. (No Criterion .timeout here: with parallel jobs, Criterion
 * 2.4.1 then leaks in its runner and LeakSanitizer fails the binary.) */
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
            {"formatting elements reopened", "</p><p>x", 100000,
             "<p><b id=1><b id=2><b id=3><b id=4><b id=5><b id=6>"},
        };
        return cr_make_param_array(struct hostile_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct hostile_case *c, html, hostile)
{
        size_t len;
        char *body = repeat(c->unit, c->reps, "", &len);
        size_t head_len = strlen(c->head);
        char *in = malloc(head_len + len + 1), *out = NULL;
        int truncated = -1, err;

        cr_assert_not_null(in);
        memcpy(in, c->head, head_len);
        memcpy(in + head_len, body, len + 1);
        err = nt_html_to_text(in, head_len + len, 1 << 20, &out, &truncated);
        cr_assert_eq(err, NT_OK, "%s: error %d", c->name, err);
        cr_assert_eq(truncated, 1, "%s: not flagged as truncated", c->name);
        if (strcmp(c->head, "before") == 0)
                cr_assert(strncmp(out, "before", 6) == 0,
                          "%s: text before the nesting lost: \"%.20s\"",
                          c->name, out);
        free(out);
        free(in);
        free(body);
}

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
        cr_assert_eq(truncated, 1);
        free(out);
        free(in);
}

/* Ordinary long documents are not cut: many paragraphs, list items and
 * unclosed <p> and <li> that HTML closes itself. */
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
