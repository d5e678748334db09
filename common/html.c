#include "common/html.h"
#include "common/utf8.h"
#include "common/buf.h"
#include "common/entities.h"
#include "common/err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Input past this many bytes is cut: what a feed field can hold (the feed
 * parser caps fields at 1 MiB) with room to spare, and a bound on the
 * work of one call. */
#define INPUT_MAX (4u << 20)

/* Bytes of a tag name that count: the rest of a longer run of name
 * characters is read as attributes (as libxml2 did). No name this module
 * knows is that long. */
#define NAME_MAX_LEN 100

/* Open elements kept on the stack. Only the elements the text cares about
 * are kept (blocks, cells, tables, dropped elements); past this many, a
 * further one is not: its end tag then closes an outer one of its name or
 * is ignored, and the content of a dropped element opened past the cap is
 * read as text. Hostile nesting costs bounded memory either way. */
#define STACK_MAX 65536

/* ------------------------------------------------------------------ */
/* The tokenizer.
 *
 * The markup is read once, the way HTML5 reads it, and the text is built
 * as it is read: no tree. Attributes are skipped with HTML5's rules for
 * where a tag ends; the content of script, style and the other raw text
 * elements ends at its own end tag only; comments, doctypes, processing
 * instructions and "<!" declarations are dropped with HTML5's rules for
 * where they end; C0 control bytes are dropped (form feed and vertical
 * tab are spaces) and bytes that are not UTF-8 become U+FFFD. Every step
 * moves forward through the input, and the work per byte is bounded: the
 * whole is linear in the input, whatever the markup. */

static int is_space(unsigned char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int is_alpha(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
        return c >= '0' && c <= '9';
}

static unsigned char lower(unsigned char c)
{
        return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* A character of a tag name; the rest of a tag is its attributes. */
static int is_name_char(unsigned char c)
{
        return is_alpha(c) || is_digit(c) || c == ':' || c == '-' || c == '_' ||
               c == '.';
}

/* What an element is to the text. */
enum {
        T_BLOCK = 1 << 0, /* paragraph break before and after */
        T_DROP = 1 << 1,  /* content is not text */
        T_CELL = 1 << 2,  /* table cell: a space before and after */
        T_BR = 1 << 3,    /* line break */
        T_VOID = 1 << 4,  /* never has content: not kept open */
};

/* The elements the text cares about, sorted by name (strcmp) for
 * tag_kind()'s binary search. Elements not listed are inline: their text
 * joins the text around them, and their tags change nothing. `prio` is how hard
 * an element is to close from inside (libxml2's end priorities, which follow
 * HTML's scopes): an end tag does not close an element whose priority is above
 * its own, and is then ignored. */
static const struct tag_kind {
        char name[12];
        unsigned char flags;
        unsigned char prio;
} tag_kinds[] = {
    {"address", T_BLOCK, 100},
    {"article", T_BLOCK, 100},
    {"aside", T_BLOCK, 100},
    {"blockquote", T_BLOCK, 100},
    {"br", T_BR | T_VOID, 100},
    {"caption", T_BLOCK, 100},
    {"center", T_BLOCK, 100},
    {"dd", T_BLOCK, 100},
    {"details", T_BLOCK, 100},
    {"dir", T_BLOCK, 100},
    {"div", T_BLOCK, 150},
    {"dl", T_BLOCK, 100},
    {"dt", T_BLOCK, 100},
    {"embed", T_VOID, 100},
    {"fieldset", T_BLOCK, 100},
    {"figcaption", T_BLOCK, 100},
    {"figure", T_BLOCK, 100},
    {"footer", T_BLOCK, 100},
    {"form", T_BLOCK, 100},
    {"frameset", T_DROP, 100},
    {"h1", T_BLOCK, 100},
    {"h2", T_BLOCK, 100},
    {"h3", T_BLOCK, 100},
    {"h4", T_BLOCK, 100},
    {"h5", T_BLOCK, 100},
    {"h6", T_BLOCK, 100},
    {"header", T_BLOCK, 100},
    {"hgroup", T_BLOCK, 100},
    {"hr", T_BLOCK | T_VOID, 100},
    {"legend", T_BLOCK, 100},
    {"li", T_BLOCK, 100},
    {"listing", T_BLOCK, 100},
    {"main", T_BLOCK, 100},
    {"menu", T_BLOCK, 100},
    {"nav", T_BLOCK, 100},
    {"object", T_DROP, 100},
    {"ol", T_BLOCK, 100},
    {"option", T_BLOCK, 100},
    {"p", T_BLOCK, 100},
    {"pre", T_BLOCK, 100},
    {"section", T_BLOCK, 100},
    {"summary", T_BLOCK, 100},
    {"svg", T_DROP, 100},
    {"table", T_BLOCK, 190},
    {"tbody", 0, 180},
    {"td", T_CELL, 160},
    {"template", T_DROP, 100},
    {"tfoot", 0, 180},
    {"th", T_CELL, 160},
    {"thead", 0, 180},
    {"tr", T_BLOCK, 170},
    {"ul", T_BLOCK, 100},
};

#define N_KINDS (sizeof(tag_kinds) / sizeof(tag_kinds[0]))

/* What separates the next text from the text before it. */
enum gap { GAP_NONE, GAP_SPACE, GAP_LINE, GAP_PARA };

/* One open element: its kind and the index of the next open element of
 * the same kind below it (-1 for none). */
struct open {
        unsigned char kind;
        int below;
};

struct conv {
        const unsigned char *s;
        size_t len;
        char *out; /* the text: out_len bytes, room for out_cap */
        size_t out_len, out_cap;
        size_t max; /* the caller's max_out */
        enum gap gap;
        int full; /* max reached: the rest is dropped */
        int err;  /* first allocation failure */
        struct open *stack;
        size_t depth, cap;
        int top[N_KINDS]; /* index of the topmost open one, or -1 */
        size_t dropping;  /* open elements whose content is not text */
};

/* ------------------------------------------------------------------ */
/* The text. */

static void gap_at_least(struct conv *c, enum gap g)
{
        if (c->gap < g)
                c->gap = g;
}

/* Makes room for n more bytes of text and a NUL, within the maximum;
 * false (with c->err set) when out of memory. */
static int text_room(struct conv *c, size_t n)
{
        size_t cap = c->out_cap;
        char *grown;

        if (c->out_len + n + 1 <= cap)
                return 1;
        while (cap < c->out_len + n + 1)
                cap = cap ? 2 * cap : 256;
        if (cap > c->max + 1)
                cap = c->max + 1;
        grown = realloc(c->out, cap);
        if (!grown) {
                c->err = NT_ERR_NOMEM;
                c->full = 1;
                return 0;
        }
        c->out = grown;
        c->out_cap = cap;
        return 1;
}

/* Appends n bytes of whole UTF-8 characters, or as many as fit when cut
 * at a character boundary. */
static void text_put(struct conv *c, const unsigned char *p, size_t n)
{
        size_t room = c->max - c->out_len;

        if (n > room) {
                n = room;
                /* Back up over continuation bytes to the first byte of
                 * the character that does not fit. */
                while (n > 0 && (p[n] & 0xC0) == 0x80)
                        n--;
                c->full = 1;
        }
        if (n == 0 || !text_room(c, n))
                return;
        memcpy(c->out + c->out_len, p, n);
        c->out_len += n;
}

/* Appends a run of words, after the separator the gap calls for. */
static void text_words(struct conv *c, const unsigned char *p, size_t n)
{
        static const char *const seps[] = {"", " ", "\n", "\n\n"};
        static const size_t sep_lens[] = {0, 1, 1, 2};
        size_t sep_len = sep_lens[c->gap];

        if (c->out_len > 0 && sep_len > 0) {
                if (sep_len > c->max - c->out_len) {
                        c->full = 1;
                        return;
                }
                text_put(c, (const unsigned char *)seps[c->gap], sep_len);
        }
        c->gap = GAP_NONE;
        text_put(c, p, n);
}

/* Whether p (before end) is white space to the text: the HTML white
 * space characters and U+00A0, which feeds use to space words as often
 * as to glue them. */
static int gap_at(const unsigned char *p, const unsigned char *end)
{
        return is_space(*p) || (p[0] == 0xC2 && p + 1 < end && p[1] == 0xA0);
}

/* The bytes that end a run of word characters: white space, and the
 * first byte of U+00A0. */
static const unsigned char word_stop[256] = {
    [' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1, ['\f'] = 1, [0xC2] = 1,
};

#ifdef NT_HAVE_SSE2
/* Where the run of words at p stops being one to copy as it stands, or a
 * place before it, 16 bytes at a time: word bytes, and single spaces
 * before a byte that is neither white space nor 0xC2 (which may start
 * U+00A0), are skipped. */
static const unsigned char *word_run(const unsigned char *p,
                                     const unsigned char *end)
{
        const __m128i sp = _mm_set1_epi8(' '), c2 = _mm_set1_epi8((char)0xC2);

        while (end - p >= 17) {
                const __m128i v =
                    _mm_loadu_si128((const __m128i *)(const void *)p);
                const __m128i nx =
                    _mm_loadu_si128((const __m128i *)(const void *)(p + 1));
                /* Bytes up to 0x20 (unsigned): white space. */
                const __m128i ws = _mm_cmpeq_epi8(_mm_min_epu8(v, sp), v);
                const __m128i ws_nx = _mm_cmpeq_epi8(_mm_min_epu8(nx, sp), nx);
                const __m128i is_sp = _mm_cmpeq_epi8(v, sp);
                const __m128i stop = _mm_or_si128(
                    _mm_or_si128(_mm_andnot_si128(is_sp, ws),
                                 _mm_cmpeq_epi8(v, c2)),
                    _mm_and_si128(is_sp,
                                  _mm_or_si128(ws_nx, _mm_cmpeq_epi8(nx, c2))));
                unsigned m = (unsigned)_mm_movemask_epi8(stop);

                if (m)
                        return p + __builtin_ctz(m);
                p += 16;
        }
        return p;
}
#endif

/* Adds n bytes of text (whole UTF-8 characters): runs of white space
 * become one gap. Words separated by single spaces are appended as one
 * run, as they stand. Nothing is added inside an element that is not
 * text. */
static void text(struct conv *c, const unsigned char *p, size_t n)
{
        const unsigned char *end = p + n, *run;

        if (c->dropping)
                return;
        while (p < end && !c->full) {
                if (gap_at(p, end)) {
                        gap_at_least(c, GAP_SPACE);
                        p += is_space(*p) ? 1 : 2;
                        continue;
                }
                run = p;
                for (;;) {
#ifdef NT_HAVE_SSE2
                        p = word_run(p, end);
#endif
                        while (p < end && !word_stop[*p])
                                p++;
                        if (p < end && *p == 0xC2 && !gap_at(p, end)) {
                                p++; /* U+0080-U+00BF but U+00A0 */
                                continue;
                        }
                        /* One space between two words stays as it is. */
                        if (p + 1 < end && *p == ' ' && !gap_at(p + 1, end)) {
                                p++;
                                continue;
                        }
                        break;
                }
                text_words(c, run, (size_t)(p - run));
        }
}

static void text_str(struct conv *c, const char *s)
{
        text(c, (const unsigned char *)s, strlen(s));
}

/* The effect on the text of entering (`leaving` 0) or leaving an
 * element. */
static void text_element(struct conv *c, unsigned flags, int leaving)
{
        if (c->dropping)
                return;
        if (flags & T_BR) {
                /* Two line breaks in a row are how much HTML marks a
                 * paragraph. */
                if (!leaving)
                        c->gap = c->gap >= GAP_LINE ? GAP_PARA : GAP_LINE;
        } else if (flags & T_BLOCK) {
                gap_at_least(c, GAP_PARA);
        } else if (flags & T_CELL) {
                gap_at_least(c, GAP_SPACE);
        }
}

/* Emits what stands for the byte at s[i] when it is neither text as it
 * is nor markup: a byte that is not UTF-8 becomes U+FFFD, as in HTML5;
 * form feed and vertical tab are white space; the other C0 controls, NUL
 * included, are dropped. */
static void text_fix(struct conv *c, size_t i)
{
        unsigned char ch = c->s[i];

        if (ch >= 0x80)
                text_str(c, "\xEF\xBF\xBD");
        else if (ch == '\f' || ch == '\v')
                text_str(c, " ");
}

/* The ASCII bytes that are text as they are: all but '<', '&' and the C0
 * controls other than tab, line feed and carriage return. */
static const unsigned char plain_ascii[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Bytes at s[i] that are text as they are: a UTF-8 character other than
 * '<', '&' and the C0 controls but tab, line feed and carriage return. 0
 * otherwise. */
static size_t plain_len(const struct conv *c, size_t i)
{
        unsigned char ch = c->s[i];

        if (ch >= 0x20 && ch < 0x80)
                return ch == '<' || ch == '&' ? 0 : 1;
        if (ch == '\t' || ch == '\n' || ch == '\r')
                return 1;
        if (ch < 0x20)
                return 0;
        return nt_utf8_len(c->s + i, c->len - i);
}

/* ------------------------------------------------------------------ */
/* Character references. */

/* Whether libxml2 (and XML) takes code point cp as a character: a
 * reference to any other is dropped. */
static int is_xml_char(unsigned long cp)
{
        return cp == 0x9 || cp == 0xA || cp == 0xD ||
               (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
               (cp >= 0x10000 && cp <= 0x10FFFF);
}

static size_t utf8_put(unsigned long cp, unsigned char *b)
{
        if (cp < 0x80) {
                b[0] = (unsigned char)cp;
                return 1;
        }
        if (cp < 0x800) {
                b[0] = (unsigned char)(0xC0 | (cp >> 6));
                b[1] = (unsigned char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                b[0] = (unsigned char)(0xE0 | (cp >> 12));
                b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                b[2] = (unsigned char)(0x80 | (cp & 0x3F));
                return 3;
        }
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        return 4;
}

/* A numeric reference at s[i] ("&#"), with or without its ';'. HTML's
 * rules for the values it reads otherwise (nt_entities_decode() has
 * them): NUL, surrogates and values past Unicode become U+FFFD, C1
 * controls are read as windows-1252 (&#146; is a right single quote).
 * Other values that are not characters (C0 controls, U+FFFE) are
 * dropped, as libxml2 did. "&#" without digits is text. Returns the
 * index after the reference. */
static size_t numref(struct conv *c, size_t i)
{
        size_t k = i + 2, digits;
        unsigned long cp = 0;
        unsigned char b[4];
        char ref[16];
        struct nt_buf dec;
        int hex = 0, d;

        if (k < c->len && (c->s[k] == 'x' || c->s[k] == 'X')) {
                hex = 1;
                k++;
        }
        digits = k;
        while (k < c->len) {
                if (is_digit(c->s[k]))
                        d = c->s[k] - '0';
                else if (hex && lower(c->s[k]) >= 'a' && lower(c->s[k]) <= 'f')
                        d = lower(c->s[k]) - 'a' + 10;
                else
                        break;
                if (cp <= 0x10FFFF)
                        cp = cp * (hex ? 16 : 10) + (unsigned long)d;
                k++;
        }
        if (k == digits) {
                text_str(c, "&");
                return i + 1;
        }
        if (k < c->len && c->s[k] == ';')
                k++;
        if (cp == 0 || (cp >= 0x80 && cp <= 0x9F) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
                snprintf(ref, sizeof(ref), "&#%lu;",
                         cp > 0x10FFFF ? 0x110000UL : cp);
                nt_buf_init(&dec, 16);
                if (nt_entities_decode(ref, strlen(ref), &dec) == NT_OK)
                        text(c, (const unsigned char *)dec.data, dec.len);
                else
                        c->err = NT_ERR_NOMEM;
                nt_buf_free(&dec);
        } else if (is_xml_char(cp)) {
                text(c, b, utf8_put(cp, b));
        }
        return k;
}

/* A reference at s[i] ('&'): a numeric one, or a named one closed by ';'
 * whose name nt_entity_lookup() knows; any other '&' is text. Returns
 * the index after what was read. */
static size_t reference(struct conv *c, size_t i)
{
        size_t k = i + 1;
        const char *value;

        if (k < c->len && c->s[k] == '#')
                return numref(c, i);
        while (k < c->len && k - i <= 32 &&
               (is_alpha(c->s[k]) || is_digit(c->s[k])))
                k++;
        if (k > i + 1 && k < c->len && c->s[k] == ';') {
                value = nt_entity_lookup((const char *)c->s + i + 1, k - i - 1);
                if (value) {
                        text_str(c, value);
                        return k + 1;
                }
        }
        text_str(c, "&");
        return i + 1;
}

/* Adds the text from..to: characters as they are, and either references
 * (`refs`) or '&' as text; '<' is text. For the content of raw text
 * elements. */
static void text_raw(struct conv *c, size_t from, size_t to, int refs)
{
        size_t run = from, i = from, n;

        while (i < to && !c->full) {
                n = plain_len(c, i);
                if (n > 0) {
                        i += n;
                        continue;
                }
                text(c, c->s + run, i - run);
                if (c->s[i] == '&' && refs) {
                        i = reference(c, i);
                } else {
                        if (c->s[i] == '<' || c->s[i] == '&')
                                text(c, c->s + i, 1);
                        else
                                text_fix(c, i);
                        i++;
                }
                run = i;
        }
        text(c, c->s + run, i - run);
}

enum nt_html_attr_step nt_html_attr_next(const unsigned char *s, size_t n,
                                         size_t *i, struct nt_html_attr *attr)
{
        size_t j = *i;
        unsigned char q;

        while (j < n) {
                if (is_space(s[j])) {
                        j++;
                        continue;
                }
                if (s[j] == '>') {
                        *i = j + 1;
                        return NT_HTML_TAG_END;
                }
                if (s[j] != '/')
                        break;
                j++;
                if (j < n && s[j] == '>') {
                        *i = j + 1;
                        return NT_HTML_TAG_SELF_CLOSING;
                }
        }
        if (j >= n) {
                *i = n;
                return NT_HTML_TAG_CUT;
        }
        attr->name = s + j++;
        while (j < n && !is_space(s[j]) && s[j] != '/' && s[j] != '>' &&
               s[j] != '=')
                j++;
        attr->name_len = (size_t)(s + j - attr->name);
        while (j < n && is_space(s[j]))
                j++;
        attr->value = s + j;
        attr->value_len = 0;
        if (j < n && s[j] == '=') {
                j++;
                while (j < n && is_space(s[j]))
                        j++;
                if (j >= n) {
                        *i = n;
                        return NT_HTML_TAG_CUT;
                }
                if (s[j] == '"' || s[j] == '\'') {
                        q = s[j++];
                        attr->value = s + j;
                        while (j < n && s[j] != q)
                                j++;
                        attr->value_len = (size_t)(s + j - attr->value);
                        if (j < n)
                                j++;
                } else {
                        attr->value = s + j;
                        while (j < n && !is_space(s[j]) && s[j] != '>')
                                j++;
                        attr->value_len = (size_t)(s + j - attr->value);
                }
        }
        *i = j;
        return NT_HTML_ATTR;
}

/* The end of a tag whose name starts at `i`: the index after its '>', or
 * 0 when the input ends first (HTML5 then drops the tag). `*name_len`
 * gets the length of the name, `*self_closing` whether the tag ends with
 * "/>". */
static size_t tag_end(const struct conv *c, size_t i, size_t *name_len,
                      int *self_closing)
{
        const unsigned char *s = c->s;
        size_t start = i;
        struct nt_html_attr attr;
        enum nt_html_attr_step step;

        while (i < c->len && !is_space(s[i]) && s[i] != '/' && s[i] != '>')
                i++;
        *name_len = i - start;
        do
                step = nt_html_attr_next(s, c->len, &i, &attr);
        while (step == NT_HTML_ATTR);
        *self_closing = step == NT_HTML_TAG_SELF_CLOSING;
        return step == NT_HTML_TAG_CUT ? 0 : i;
}

/* What the tokenizer does with an element's tags and content. */
enum tag_use {
        USE_TAGS,    /* tags passed on, content read as markup */
        USE_OMIT,    /* tags left out, content read as markup */
        USE_DROP,    /* tags and content left out: raw text, not text */
        USE_SCRIPT,  /* the same, with script's rules for where it ends */
        USE_RCDATA,  /* content is text and references up to the end tag */
        USE_RAWTEXT, /* content is text only, up to the end tag */
        USE_ALL,     /* content is text only, to the end (plaintext) */
};

/* The elements HTML5 reads their content as raw text for, and html, head
 * and body: in a fragment that is already in its body HTML5 ignores
 * their tags, which keeps the text of a whole page pasted into a feed as
 * HTML5 has it (what a page's head holds besides title, style and script,
 * meta and link, has no text anyway). */
static enum tag_use tag_use(const unsigned char *name, size_t len)
{
        static const struct {
                char name[10];
                unsigned char len;
                unsigned char use;
        } uses[] = {
            {"body", 4, USE_OMIT},       {"head", 4, USE_OMIT},
            {"html", 4, USE_OMIT},       {"iframe", 6, USE_DROP},
            {"noembed", 7, USE_DROP},    {"noframes", 8, USE_DROP},
            {"noscript", 8, USE_DROP},   {"plaintext", 9, USE_ALL},
            {"script", 6, USE_SCRIPT},   {"style", 5, USE_DROP},
            {"textarea", 8, USE_RCDATA}, {"title", 5, USE_DROP},
            {"xmp", 3, USE_RAWTEXT},
        };
        size_t i, k;

        if (len < 3 || len > 9)
                return USE_TAGS;
        for (i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
                if (uses[i].len != len)
                        continue;
                for (k = 0; k < len; k++) {
                        if (lower(name[k]) != (unsigned char)uses[i].name[k])
                                break;
                }
                if (k == len)
                        return (enum tag_use)uses[i].use;
        }
        return USE_TAGS;
}

/* Whether s[i..] is `name` (any case) and then white space, '/' or '>':
 * what makes "</name" an end tag in raw text. */
static int name_at(const unsigned char *s, size_t n, size_t i,
                   const unsigned char *name, size_t len)
{
        size_t k;

        if (len >= n - i)
                return 0;
        for (k = 0; k < len; k++) {
                if (lower(s[i + k]) != lower(name[k]))
                        return 0;
        }
        k = s[i + len];
        return is_space((unsigned char)k) || k == '/' || k == '>';
}

/* Where the raw text starting at `i` ends: at "</name" followed by white
 * space, '/' or '>', or at the end of the input. In a script, HTML5 also
 * skips an end tag inside "<!--" ... "-->" once a "<script" has opened
 * there (document.write("<script>...</script>") in an old-style comment
 * guard). */
size_t nt_html_raw_end(const unsigned char *s, size_t n, size_t i,
                       const unsigned char *name, size_t len, bool script)
{
        int escaped = 0, nested = 0;

        for (; i < n; i++) {
                if (script && s[i] == '-' && escaped && i + 2 < n &&
                    s[i + 1] == '-' && s[i + 2] == '>') {
                        escaped = nested = 0;
                        continue;
                }
                if (s[i] != '<' || i + 1 >= n)
                        continue;
                if (s[i + 1] == '/' && name_at(s, n, i + 2, name, len)) {
                        if (!nested)
                                return i;
                        nested = 0;
                } else if (script && !escaped && s[i + 1] == '!' && i + 3 < n &&
                           s[i + 2] == '-' && s[i + 3] == '-') {
                        /* The "--" stays to be read: "<!-->" ends at
                         * once. */
                        escaped = 1;
                        i++;
                } else if (script && escaped && !nested &&
                           name_at(s, n, i + 1, name, len)) {
                        nested = 1;
                }
        }
        return n;
}

/* After "<!--": the index after the comment's end ("-->", "--!>", or the
 * abrupt "<!-->" and "<!--->"), or c->len. */
size_t nt_html_comment_end(const unsigned char *s, size_t n, size_t i)
{
        if (i < n && s[i] == '>')
                return i + 1;
        if (i + 1 < n && s[i] == '-' && s[i + 1] == '>')
                return i + 2;
        for (; i + 2 < n; i++) {
                if (s[i] != '-' || s[i + 1] != '-')
                        continue;
                if (s[i + 2] == '>')
                        return i + 3;
                if (s[i + 2] == '!' && i + 3 < n && s[i + 3] == '>')
                        return i + 4;
        }
        return n;
}

/* The index after the first '>' from i, or c->len. */
size_t nt_html_gt_end(const unsigned char *s, size_t n, size_t i)
{
        const unsigned char *p = memchr(s + i, '>', n - i);

        return p ? (size_t)(p - s) + 1 : n;
}

/* ------------------------------------------------------------------ */
/* Elements. */

/* The first eight bytes at p as a big-endian number, and the four after
 * them: two numbers that order names (NUL-padded to 12 bytes) as strcmp
 * does. */
static uint64_t name_hi(const char *p)
{
        uint64_t w;

        memcpy(&w, p, sizeof(w));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        return w;
}

static uint32_t name_lo(const char *p)
{
        uint32_t w;

        memcpy(&w, p + 8, sizeof(w));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        w = __builtin_bswap32(w);
#endif
        return w;
}

/* The kind of the element named at `name` (its name characters, in any
 * case), or -1 for an element the text does not care about. A binary
 * search over the sorted table, a name compared as two numbers: this
 * runs for every tag of every article. */
static int tag_kind(const unsigned char *name, size_t len)
{
        char key[sizeof(tag_kinds[0].name)] = {0};
        uint64_t kh, eh;
        uint32_t kl, el;
        size_t n = 0, lo = 0, hi = N_KINDS, mid;

        while (n < len && n < NAME_MAX_LEN && is_name_char(name[n]))
                n++;
        if (n == 0 || n >= sizeof(key))
                return -1;
        for (len = 0; len < n; len++)
                key[len] = (char)lower(name[len]);
        kh = name_hi(key);
        kl = name_lo(key);
        while (lo < hi) {
                mid = lo + (hi - lo) / 2;
                eh = name_hi(tag_kinds[mid].name);
                el = name_lo(tag_kinds[mid].name);
                if (kh == eh && kl == el)
                        return (int)mid;
                if (kh < eh || (kh == eh && kl < el))
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return -1;
}

static void start_tag(struct conv *c, const unsigned char *name, size_t len,
                      int self_closing)
{
        int kind = tag_kind(name, len);
        unsigned flags;
        struct open *grown;
        size_t cap;

        if (kind < 0)
                return;
        flags = tag_kinds[kind].flags;
        text_element(c, flags, 0);
        if ((flags & T_VOID) || self_closing) {
                text_element(c, flags, 1);
                return;
        }
        if (c->depth == c->cap) {
                if (c->cap == STACK_MAX)
                        return;
                cap = c->cap ? 2 * c->cap : 64;
                grown = realloc(c->stack, cap * sizeof(*grown));
                if (!grown) {
                        c->err = NT_ERR_NOMEM;
                        c->full = 1;
                        return;
                }
                c->stack = grown;
                c->cap = cap;
        }
        c->stack[c->depth].kind = (unsigned char)kind;
        c->stack[c->depth].below = c->top[kind];
        c->top[kind] = (int)c->depth++;
        if (flags & T_DROP)
                c->dropping++;
}

/* An end tag closes the topmost open element of its name and those
 * opened after it, unless one of these is harder to close than it (a
 * </div> does not reach out of a table cell): then it is ignored, as is
 * an end tag with no open element of its name, except </p>, which HTML
 * reads as an empty paragraph. */
static void end_tag(struct conv *c, const unsigned char *name, size_t len)
{
        int kind = tag_kind(name, len), at, k;
        struct open *o;

        if (kind < 0)
                return;
        at = c->top[kind];
        if (at < 0) {
                if (strcmp(tag_kinds[kind].name, "p") == 0)
                        text_element(c, T_BLOCK, 1);
                return;
        }
        for (k = 0; k < (int)N_KINDS; k++) {
                if (tag_kinds[k].prio > tag_kinds[kind].prio && c->top[k] > at)
                        return;
        }
        while (c->depth > (size_t)at) {
                o = &c->stack[--c->depth];
                c->top[o->kind] = o->below;
                if (tag_kinds[o->kind].flags & T_DROP)
                        c->dropping--;
                text_element(c, tag_kinds[o->kind].flags, 1);
        }
}

/* ------------------------------------------------------------------ */

/* Reads c->s into the text. */
static void convert(struct conv *c)
{
        const unsigned char *s = c->s;
        size_t i = 0, run = 0, n, name, name_len, end, body;
        int self_closing, closing;
        enum tag_use use;

        while (i < c->len && !c->full) {
#ifdef NT_HAVE_SSE2
                i = nt_utf8_plain_run(s, i, c->len, '<', '&');
                if (i >= c->len)
                        break;
#endif
                if (plain_ascii[s[i]]) {
                        i++;
                        continue;
                }
                /* Two-byte characters (Latin, Cyrillic, Greek...) inline. */
                if (s[i] >= 0xC2 && s[i] <= 0xDF && i + 1 < c->len &&
                    (s[i + 1] & 0xC0) == 0x80) {
                        i += 2;
                        continue;
                }
                n = s[i] >= 0x80 ? nt_utf8_len(s + i, c->len - i) : 0;
                if (n > 0) {
                        i += n;
                        continue;
                }
                text(c, s + run, i - run);
                if (s[i] == '&') {
                        i = run = reference(c, i);
                        continue;
                }
                if (s[i] != '<') {
                        text_fix(c, i);
                        run = ++i;
                        continue;
                }
                closing = i + 1 < c->len && s[i + 1] == '/';
                name = i + 1 + (size_t)closing;
                if (name < c->len && is_alpha(s[name])) {
                        end = tag_end(c, name, &name_len, &self_closing);
                        if (end == 0) {
                                /* The input ends inside the tag. */
                                i = run = c->len;
                                break;
                        }
                        i = run = end;
                        use = tag_use(s + name, name_len);
                        if (use == USE_OMIT || use == USE_DROP ||
                            use == USE_SCRIPT)
                                ;
                        else if (closing)
                                end_tag(c, s + name, name_len);
                        else
                                start_tag(c, s + name, name_len, self_closing);
                        if (closing || use == USE_TAGS || use == USE_OMIT)
                                continue;
                        body =
                            use == USE_ALL
                                ? c->len
                                : nt_html_raw_end(c->s, c->len, i, s + name,
                                                  name_len, use == USE_SCRIPT);
                        if (use != USE_DROP && use != USE_SCRIPT)
                                text_raw(c, i, body, use == USE_RCDATA);
                        i = run = body;
                        continue;
                }
                if (closing) {
                        /* "</>" is nothing; "</" and another character
                         * start a bogus comment; "</" at the end is
                         * text. */
                        if (name >= c->len) {
                                text_str(c, "</");
                                i = run = c->len;
                        } else {
                                i = run = nt_html_gt_end(c->s, c->len, name);
                        }
                        continue;
                }
                if (i + 1 < c->len && s[i + 1] == '!') {
                        if (i + 3 < c->len && s[i + 2] == '-' &&
                            s[i + 3] == '-')
                                i = run =
                                    nt_html_comment_end(c->s, c->len, i + 4);
                        else
                                i = run = nt_html_gt_end(c->s, c->len, i + 2);
                        continue;
                }
                if (i + 1 < c->len && s[i + 1] == '?') {
                        i = run = nt_html_gt_end(c->s, c->len, i + 2);
                        continue;
                }
                text_str(c, "<");
                run = ++i;
        }
        if (!c->full)
                text(c, s + run, i - run);
}

int nt_html_to_text(const char *html, size_t len, size_t max_out, char **out,
                    int *truncated)
{
        struct conv c;
        size_t k;
        int cut = 0, err;

        *out = NULL;
        if (truncated)
                *truncated = 0;
        memset(&c, 0, sizeof(c));
        c.max = max_out;
        for (k = 0; k < N_KINDS; k++)
                c.top[k] = -1;
        if (len > INPUT_MAX) {
                /* Cut at a character boundary. */
                len = INPUT_MAX;
                while (len > 0 && ((unsigned char)html[len] & 0xC0) == 0x80)
                        len--;
                cut = 1;
        }
        c.s = (const unsigned char *)html;
        c.len = len;
        /* Text is seldom longer than its markup: one allocation, most of
         * the time. */
        if (!text_room(&c, len + len / 8 + 64 < max_out ? len + len / 8 + 64
                                                        : max_out)) {
                free(c.stack);
                return NT_ERR_NOMEM;
        }
        convert(&c);
        free(c.stack);
        err = c.err;
        if (err) {
                free(c.out);
                return NT_ERR_NOMEM;
        }
        /* Gaps are written only before text, but a word cut to nothing
         * by the limit can leave one behind. */
        while (c.out_len > 0 &&
               (c.out[c.out_len - 1] == ' ' || c.out[c.out_len - 1] == '\n'))
                c.out_len--;
        c.out[c.out_len] = '\0';
        if (truncated)
                *truncated = c.full || cut;
        *out = c.out;
        return NT_OK;
}
