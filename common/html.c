#include "common/html.h"
#include "common/buf.h"
#include "common/entities.h"
#include "common/err.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Input past this many bytes is cut. It keeps libxml2 within its own
 * limits without HTML_PARSE_HUGE: a text node over 10,000,000 bytes stops
 * the parser with the error it uses for a failed allocation, which would
 * read as NT_ERR_NOMEM. The feed parser caps fields at 1 MiB. */
#define INPUT_MAX (4u << 20)

/* Bytes of a tag name libxml2 reads as the name (HTML_PARSER_BUFFER_SIZE
 * in HTMLparser.c); it reads the rest as attributes. */
#define NAME_MAX_LEN 100

/* The options of every parse: recover from anything, report nothing
 * (NOERROR and NOWARNING clear the parser's own handlers, and libxml2
 * then drops its messages instead of printing them to stderr, unless the
 * process installs a global handler, which newstap does not), never touch
 * the network, and no DTD node nobody reads. HTML_PARSE_NOIMPLIED stays
 * off: a fragment needs the implied html and body around it. Nor is
 * HTML_PARSE_HUGE set, so libxml2 keeps its own limits (a tree at most
 * 256 deep). */
#define PARSE_OPTIONS                                                     \
        (HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | \
         HTML_PARSE_NONET | HTML_PARSE_COMPACT | HTML_PARSE_NODEFDTD)

/* ------------------------------------------------------------------ */
/* The tokenizer.
 *
 * libxml2 builds the tree, but it does not read the markup as written:
 * a tokenizer here reads it first, the way HTML5 does, and hands libxml2
 * a canonical copy made only of text, character references and bare tags
 * ("<p>", "<br/>", "</p>"). Nothing of the text is lost, and libxml2
 * never sees what is costly or ambiguous for it:
 *
 * - attributes, which text does not need and whose duplicate check in
 *   libxml2 2.9 is quadratic (20,000 attributes on one tag take seconds);
 * - the content of script, style and the other raw text elements (HTML5
 *   ends them at their own end tag only; libxml2 reads markup in all but
 *   script and style);
 * - comments, doctypes, processing instructions and "<!" declarations,
 *   which are dropped here with HTML5's rules for where they end;
 * - C0 control bytes and bytes that are not UTF-8: libxml2 formats an
 *   error for each (1 MiB of them takes a second), passes the latter into
 *   the text and stops reading at a NUL.
 *
 * A '<' that starts no tag becomes "&lt;", so libxml2 tokenizes the copy
 * exactly as this code did. */

struct canon {
        const unsigned char *s;
        size_t len;
        struct nt_buf out;
        int err; /* first append failure */
};

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

/* A character libxml2 takes in a tag name. */
static int is_name_char(unsigned char c)
{
        return is_alpha(c) || is_digit(c) || c == ':' || c == '-' || c == '_' ||
               c == '.';
}

/* Length of the well-formed UTF-8 character at p (`avail` bytes there),
 * or 0 when the byte at p starts none: overlong forms, surrogates and
 * values past U+10FFFF are not characters. */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
        unsigned char lo = 0x80, hi = 0xBF;
        size_t n, k;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xC2 && p[0] <= 0xDF)
                n = 2;
        else if (p[0] >= 0xE0 && p[0] <= 0xEF)
                n = 3;
        else if (p[0] >= 0xF0 && p[0] <= 0xF4)
                n = 4;
        else
                return 0;
        if (n > avail)
                return 0;
        if (p[0] == 0xE0)
                lo = 0xA0;
        else if (p[0] == 0xED)
                hi = 0x9F;
        else if (p[0] == 0xF0)
                lo = 0x90;
        else if (p[0] == 0xF4)
                hi = 0x8F;
        if (p[1] < lo || p[1] > hi)
                return 0;
        for (k = 2; k < n; k++) {
                if ((p[k] & 0xC0) != 0x80)
                        return 0;
        }
        return n;
}

/* Bytes at s[i] that go to libxml2 as they are: a UTF-8 character other
 * than '<', '&' and the C0 controls but tab, line feed and carriage
 * return. 0 otherwise. */
static size_t plain_len(const struct canon *c, size_t i)
{
        unsigned char ch = c->s[i];

        if (ch >= 0x20 && ch < 0x80)
                return ch == '<' || ch == '&' ? 0 : 1;
        if (ch == '\t' || ch == '\n' || ch == '\r')
                return 1;
        if (ch < 0x20)
                return 0;
        return utf8_len(c->s + i, c->len - i);
}

static void put(struct canon *c, const void *p, size_t n)
{
        int err;

        if (c->err || n == 0)
                return;
        err = nt_buf_append(&c->out, p, n);
        if (err)
                c->err = err;
}

/* Emits what stands for the byte at s[i] when plain_len() refused it and
 * it is not '<' or '&'. libxml2 would report each such byte (slowly, as
 * an error it formats) and pass a byte that is not UTF-8 through into
 * the text: it becomes U+FFFD, as in HTML5. Form feed and vertical tab
 * are white space to the text, and become spaces; the other C0 controls,
 * NUL included (libxml2 stops reading at one), are dropped. */
static void put_fix(struct canon *c, size_t i)
{
        unsigned char ch = c->s[i];

        if (ch >= 0x80)
                put(c, "\xEF\xBF\xBD", 3);
        else if (ch == '\f' || ch == '\v')
                put(c, " ", 1);
}

/* The end of a tag whose name starts at `i`: the index after its '>', or
 * 0 when the input ends first (HTML5 then drops the tag). Follows
 * HTML5's attribute states far enough to know which '>' ends the tag: one
 * inside a quoted value does not. `*name_len` gets the length of the
 * name, `*self_closing` whether the tag ends with "/>". */
static size_t tag_end(const struct canon *c, size_t i, size_t *name_len,
                      int *self_closing)
{
        const unsigned char *s = c->s;
        size_t start = i;
        unsigned char q;

        *self_closing = 0;
        while (i < c->len && !is_space(s[i]) && s[i] != '/' && s[i] != '>')
                i++;
        *name_len = i - start;
        while (i < c->len) {
                if (is_space(s[i])) {
                        i++;
                        continue;
                }
                if (s[i] == '>')
                        return i + 1;
                if (s[i] == '/') {
                        i++;
                        if (i < c->len && s[i] == '>') {
                                *self_closing = 1;
                                return i + 1;
                        }
                        continue;
                }
                /* An attribute name: its first character may be anything,
                 * '=' included. */
                i++;
                while (i < c->len && !is_space(s[i]) && s[i] != '/' &&
                       s[i] != '>' && s[i] != '=')
                        i++;
                while (i < c->len && is_space(s[i]))
                        i++;
                if (i >= c->len || s[i] != '=')
                        continue;
                i++;
                while (i < c->len && is_space(s[i]))
                        i++;
                if (i >= c->len)
                        break;
                if (s[i] == '"' || s[i] == '\'') {
                        q = s[i++];
                        while (i < c->len && s[i] != q)
                                i++;
                        if (i < c->len)
                                i++;
                        continue;
                }
                while (i < c->len && !is_space(s[i]) && s[i] != '>')
                        i++;
        }
        return 0;
}

/* Emits "<name>", "<name/>" or "</name>" with as much of the name as
 * libxml2 takes for one. */
static void put_tag(struct canon *c, const unsigned char *name, size_t len,
                    int closing, int self_closing)
{
        size_t n = 0;

        while (n < len && n < NAME_MAX_LEN && is_name_char(name[n]))
                n++;
        put(c, closing ? "</" : "<", closing ? 2 : 1);
        put(c, name, n);
        put(c, self_closing && !closing ? "/>" : ">",
            self_closing && !closing ? 2 : 1);
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
 * their tags, while libxml2 reads them as the end of a paragraph. Left
 * out, they keep the text of a whole page pasted into a feed as HTML5
 * has it; the elements libxml2 then puts in an implied head (meta, link)
 * have no text anyway. */
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

/* Emits the content of a raw text element as text: '<', and '&' too
 * when references are not read in it, become references. */
static void put_escaped(struct canon *c, size_t from, size_t to, int refs)
{
        size_t run = from, i = from, n;

        while (i < to) {
                n = plain_len(c, i);
                if (n > 0) {
                        i += n;
                        continue;
                }
                put(c, c->s + run, i - run);
                if (c->s[i] == '<')
                        put(c, "&lt;", 4);
                else if (c->s[i] == '&')
                        put(c, refs ? "&" : "&amp;", refs ? 1 : 5);
                else
                        put_fix(c, i);
                run = ++i;
        }
        put(c, c->s + run, to - run);
}

/* Whether s[i..] is `name` (any case) and then white space, '/' or '>':
 * what makes "</name" an end tag in raw text. */
static int name_at(const struct canon *c, size_t i, const unsigned char *name,
                   size_t len)
{
        size_t k;

        if (len >= c->len - i)
                return 0;
        for (k = 0; k < len; k++) {
                if (lower(c->s[i + k]) != lower(name[k]))
                        return 0;
        }
        k = c->s[i + len];
        return is_space((unsigned char)k) || k == '/' || k == '>';
}

/* Where the raw text starting at `i` ends: at "</name" followed by white
 * space, '/' or '>', or at the end of the input. In a script, HTML5 also
 * skips an end tag inside "<!--" ... "-->" once a "<script" has opened
 * there (document.write("<script>...</script>") in an old-style comment
 * guard). */
static size_t raw_end(const struct canon *c, size_t i,
                      const unsigned char *name, size_t len, int script)
{
        const unsigned char *s = c->s;
        int escaped = 0, nested = 0;

        for (; i < c->len; i++) {
                if (script && s[i] == '-' && escaped && i + 2 < c->len &&
                    s[i + 1] == '-' && s[i + 2] == '>') {
                        escaped = nested = 0;
                        continue;
                }
                if (s[i] != '<' || i + 1 >= c->len)
                        continue;
                if (s[i + 1] == '/' && name_at(c, i + 2, name, len)) {
                        if (!nested)
                                return i;
                        nested = 0;
                } else if (script && !escaped && s[i + 1] == '!' &&
                           i + 3 < c->len && s[i + 2] == '-' &&
                           s[i + 3] == '-') {
                        /* The "--" stays to be read: "<!-->" ends at
                         * once. */
                        escaped = 1;
                        i++;
                } else if (script && escaped && !nested &&
                           name_at(c, i + 1, name, len)) {
                        nested = 1;
                }
        }
        return c->len;
}

/* After "<!--": the index after the comment's end ("-->", "--!>", or the
 * abrupt "<!-->" and "<!--->"), or c->len. */
static size_t comment_end(const struct canon *c, size_t i)
{
        const unsigned char *s = c->s;

        if (i < c->len && s[i] == '>')
                return i + 1;
        if (i + 1 < c->len && s[i] == '-' && s[i + 1] == '>')
                return i + 2;
        for (; i + 2 < c->len; i++) {
                if (s[i] != '-' || s[i + 1] != '-')
                        continue;
                if (s[i + 2] == '>')
                        return i + 3;
                if (s[i + 2] == '!' && i + 3 < c->len && s[i + 3] == '>')
                        return i + 4;
        }
        return c->len;
}

/* The index after the first '>' from i, or c->len. */
static size_t gt_end(const struct canon *c, size_t i)
{
        const unsigned char *p = memchr(c->s + i, '>', c->len - i);

        return p ? (size_t)(p - c->s) + 1 : c->len;
}

/* A numeric reference at s[i] ("&#"): libxml2 decodes most as HTML does,
 * but not those HTML reads as windows-1252 (&#146; is a right single
 * quote) or as U+FFFD; nt_entities_decode() has HTML's rules for them.
 * Returns the index after what was emitted. */
static size_t put_numref(struct canon *c, size_t i)
{
        size_t k = i + 2, digits;
        unsigned long cp = 0;
        int hex = 0, d;

        if (k < c->len && (c->s[k] == 'x' || c->s[k] == 'X')) {
                hex = 1;
                k++;
        }
        digits = k;
        /* As many digits as nt_entities_decode() reads. */
        while (k < c->len && k - digits < 32) {
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
                /* "&#" without digits is text in HTML; libxml2 would
                 * drop it. */
                put(c, "&amp;", 5);
                return i + 1;
        }
        if (k >= c->len || c->s[k] != ';' ||
            !(cp == 0 || (cp >= 0x80 && cp <= 0x9F) ||
              (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)) {
                put(c, "&", 1);
                return i + 1;
        }
        if (!c->err)
                c->err = nt_entities_decode((const char *)c->s + i, k + 1 - i,
                                            &c->out);
        return k + 1;
}

/* Makes the canonical copy of c->s in c->out. */
static void canonicalize(struct canon *c)
{
        const unsigned char *s = c->s;
        size_t i = 0, run = 0, n, name, name_len, end, body;
        int self_closing, closing;
        enum tag_use use;

        while (i < c->len && !c->err) {
                n = plain_len(c, i);
                if (n > 0) {
                        i += n;
                        continue;
                }
                put(c, s + run, i - run);
                if (s[i] != '<' && s[i] != '&') {
                        put_fix(c, i);
                        run = ++i;
                        continue;
                }
                if (s[i] == '&') {
                        if (i + 1 < c->len && s[i + 1] == '#')
                                i = put_numref(c, i);
                        else
                                put(c, s + i++, 1);
                        run = i;
                        continue;
                }
                /* A '<'. */
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
                        if (use != USE_OMIT && use != USE_DROP &&
                            use != USE_SCRIPT)
                                put_tag(c, s + name, name_len, closing,
                                        self_closing);
                        if (closing || use == USE_TAGS || use == USE_OMIT)
                                continue;
                        body = use == USE_ALL
                                   ? c->len
                                   : raw_end(c, i, s + name, name_len,
                                             use == USE_SCRIPT);
                        if (use != USE_DROP && use != USE_SCRIPT)
                                put_escaped(c, i, body, use == USE_RCDATA);
                        i = run = body;
                        continue;
                }
                if (closing) {
                        /* "</>" is nothing; "</" and another character
                         * start a bogus comment; "</" at the end is
                         * text. */
                        if (name >= c->len) {
                                put(c, "&lt;/", 5);
                                i = run = c->len;
                        } else {
                                i = run = gt_end(c, name);
                        }
                        continue;
                }
                if (i + 1 < c->len && s[i + 1] == '!') {
                        if (i + 3 < c->len && s[i + 2] == '-' &&
                            s[i + 3] == '-')
                                i = run = comment_end(c, i + 4);
                        else
                                i = run = gt_end(c, i + 2);
                        continue;
                }
                if (i + 1 < c->len && s[i + 1] == '?') {
                        i = run = gt_end(c, i + 2);
                        continue;
                }
                put(c, "&lt;", 4);
                run = ++i;
        }
        put(c, s + run, i - run);
}

/* ------------------------------------------------------------------ */
/* The text walk. */

/* What an element is to the text. */
enum {
        T_BLOCK = 1 << 0, /* paragraph break before and after */
        T_DROP = 1 << 1,  /* content is not text */
        T_CELL = 1 << 2,  /* table cell: a space before and after */
        T_BR = 1 << 3,    /* line break */
};

/* Sorted by name (strcmp) for bsearch; libxml2 gives names in lower
 * case. Elements not listed are inline: their text joins the text
 * around them. */
static const struct tag_kind {
        char name[12];
        unsigned char flags;
} tag_kinds[] = {
    {"address", T_BLOCK},    {"article", T_BLOCK}, {"aside", T_BLOCK},
    {"blockquote", T_BLOCK}, {"br", T_BR},         {"caption", T_BLOCK},
    {"center", T_BLOCK},     {"dd", T_BLOCK},      {"details", T_BLOCK},
    {"dir", T_BLOCK},        {"div", T_BLOCK},     {"dl", T_BLOCK},
    {"dt", T_BLOCK},         {"embed", T_DROP},    {"fieldset", T_BLOCK},
    {"figcaption", T_BLOCK}, {"figure", T_BLOCK},  {"footer", T_BLOCK},
    {"form", T_BLOCK},       {"frameset", T_DROP}, {"h1", T_BLOCK},
    {"h2", T_BLOCK},         {"h3", T_BLOCK},      {"h4", T_BLOCK},
    {"h5", T_BLOCK},         {"h6", T_BLOCK},      {"head", T_DROP},
    {"header", T_BLOCK},     {"hgroup", T_BLOCK},  {"hr", T_BLOCK},
    {"iframe", T_DROP},      {"legend", T_BLOCK},  {"li", T_BLOCK},
    {"listing", T_BLOCK},    {"main", T_BLOCK},    {"menu", T_BLOCK},
    {"nav", T_BLOCK},        {"noembed", T_DROP},  {"noframes", T_DROP},
    {"noscript", T_DROP},    {"object", T_DROP},   {"ol", T_BLOCK},
    {"option", T_BLOCK},     {"p", T_BLOCK},       {"pre", T_BLOCK},
    {"script", T_DROP},      {"section", T_BLOCK}, {"style", T_DROP},
    {"summary", T_BLOCK},    {"svg", T_DROP},      {"table", T_BLOCK},
    {"td", T_CELL},          {"template", T_DROP}, {"th", T_CELL},
    {"title", T_DROP},       {"tr", T_BLOCK},      {"ul", T_BLOCK},
};

static int tag_kind_cmp(const void *key, const void *elem)
{
        return strcmp(key, ((const struct tag_kind *)elem)->name);
}

static unsigned tag_flags(const xmlChar *name)
{
        const struct tag_kind *k;

        if (!name)
                return 0;
        k = bsearch(name, tag_kinds, sizeof(tag_kinds) / sizeof(tag_kinds[0]),
                    sizeof(tag_kinds[0]), tag_kind_cmp);
        return k ? k->flags : 0;
}

/* What separates the next text from the text before it. */
enum gap { GAP_NONE, GAP_SPACE, GAP_LINE, GAP_PARA };

struct text {
        struct nt_buf buf; /* its max is the caller's max_out */
        enum gap gap;
        int full; /* max reached: the rest is dropped */
        int err;  /* first allocation failure */
};

static void gap_at_least(struct text *t, enum gap g)
{
        if (t->gap < g)
                t->gap = g;
}

/* Appends n bytes of whole UTF-8 characters, or as many as fit when cut
 * at a character boundary. */
static void text_put(struct text *t, const char *p, size_t n)
{
        size_t room = t->buf.max - t->buf.len;
        int err;

        if (n > room) {
                n = room;
                /* Back up over continuation bytes to the first byte of
                 * the character that does not fit. */
                while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
                        n--;
                t->full = 1;
        }
        err = nt_buf_append(&t->buf, p, n);
        if (err) {
                t->err = err;
                t->full = 1;
        }
}

/* Appends (part of) a word, after the separator the gap calls for. */
static void text_word(struct text *t, const char *p, size_t n)
{
        static const char *const seps[] = {"", " ", "\n", "\n\n"};
        const char *sep = seps[t->gap];
        size_t sep_len = strlen(sep);

        if (n == 0)
                return;
        if (t->buf.len > 0 && sep_len > 0) {
                if (sep_len > t->buf.max - t->buf.len) {
                        t->full = 1;
                        return;
                }
                text_put(t, sep, sep_len);
        }
        t->gap = GAP_NONE;
        text_put(t, p, n);
}

/* Adds a text node: runs of white space (and U+00A0, which feeds use to
 * space words as often as to glue them) become one gap. */
static void text_node(struct text *t, const xmlChar *s)
{
        const unsigned char *p = s, *word;

        while (*p && !t->full) {
                if (is_space(*p)) {
                        gap_at_least(t, GAP_SPACE);
                        p++;
                        continue;
                }
                if (p[0] == 0xC2 && p[1] == 0xA0) {
                        gap_at_least(t, GAP_SPACE);
                        p += 2;
                        continue;
                }
                word = p;
                while (*p && !is_space(*p) && !(p[0] == 0xC2 && p[1] == 0xA0))
                        p++;
                text_word(t, (const char *)word, (size_t)(p - word));
        }
}

/* The effect of entering (`leaving` 0) or leaving an element. */
static void text_element(struct text *t, unsigned flags, int leaving)
{
        if (flags & T_BR) {
                /* Two line breaks in a row are how much HTML marks a
                 * paragraph. */
                if (!leaving)
                        t->gap = t->gap >= GAP_LINE ? GAP_PARA : GAP_LINE;
        } else if (flags & T_BLOCK) {
                gap_at_least(t, GAP_PARA);
        } else if (flags & T_CELL) {
                gap_at_least(t, GAP_SPACE);
        }
}

/* Walks the tree depth first through the nodes' parent and sibling links:
 * no recursion, and no stack to allocate. */
static void text_walk(xmlNodePtr root, struct text *t)
{
        xmlNodePtr n = root->children;
        unsigned flags;

        while (n && !t->full) {
                if (n->type == XML_TEXT_NODE ||
                    n->type == XML_CDATA_SECTION_NODE) {
                        if (n->content)
                                text_node(t, n->content);
                } else if (n->type == XML_ELEMENT_NODE) {
                        flags = tag_flags(n->name);
                        if (!(flags & T_DROP)) {
                                text_element(t, flags, 0);
                                if (n->children) {
                                        n = n->children;
                                        continue;
                                }
                                text_element(t, flags, 1);
                        }
                }
                /* Climb out of the elements this node ends. */
                while (!n->next) {
                        n = n->parent;
                        if (!n || n == root)
                                return;
                        text_element(t, tag_flags(n->name), 1);
                }
                n = n->next;
        }
}

/* ------------------------------------------------------------------ */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libxml2(void)
{
        xmlInitParser();
}

/* Parses the canonical markup and walks its tree into t. */
static int parse_and_walk(const char *canon, size_t len, struct text *t,
                          int *halted)
{
        htmlParserCtxtPtr ctxt = NULL;
        htmlDocPtr doc = NULL;
        int err = NT_OK;

        *halted = 0;
        ctxt = htmlNewParserCtxt();
        if (!ctxt) {
                err = NT_ERR_NOMEM;
                goto out;
        }
        doc = htmlCtxtReadMemory(ctxt, canon, (int)len, NULL, "UTF-8",
                                 PARSE_OPTIONS);
        if (ctxt->errNo == XML_ERR_NO_MEMORY) {
                err = NT_ERR_NOMEM;
                goto out;
        }
        if (!doc) {
                err = NT_ERR_PARSE;
                goto out;
        }
        /* libxml2 stops for good (and disables its callbacks) when the
         * tree would pass its depth limit: what it built up to there is
         * kept. */
        *halted = ctxt->disableSAX != 0;
        text_walk((xmlNodePtr)doc, t);
        err = t->err;
out:
        xmlFreeDoc(doc);
        htmlFreeParserCtxt(ctxt);
        return err;
}

int nt_html_to_text(const char *html, size_t len, size_t max_out, char **out,
                    int *truncated)
{
        struct canon c;
        struct text t;
        int cut = 0, halted = 0, err = NT_OK;

        *out = NULL;
        if (truncated)
                *truncated = 0;
        memset(&c, 0, sizeof(c));
        memset(&t, 0, sizeof(t));
        nt_buf_init(&t.buf, max_out);
        if (len > INPUT_MAX) {
                /* Cut at a character boundary. */
                len = INPUT_MAX;
                while (len > 0 && ((unsigned char)html[len] & 0xC0) == 0x80)
                        len--;
                cut = 1;
        }
        c.s = (const unsigned char *)html;
        c.len = len;
        /* Each input byte becomes at most five ('<' and '&' in raw text
         * become "&lt;" and "&amp;"), so this bound is never reached. */
        nt_buf_init(&c.out, 5 * len + 16);
        if (len > 0)
                canonicalize(&c);
        if (c.err) {
                err = c.err == NT_ERR_NOMEM ? NT_ERR_NOMEM : NT_ERR_PARSE;
                goto out;
        }
        if (c.out.len > 0) {
                pthread_once(&init_once, init_libxml2);
                err = parse_and_walk(c.out.data, c.out.len, &t, &halted);
                if (err)
                        goto out;
        }
        /* Gaps are written only before text, but a word cut to nothing
         * by the limit can leave one behind. */
        while (t.buf.len > 0 && (t.buf.data[t.buf.len - 1] == ' ' ||
                                 t.buf.data[t.buf.len - 1] == '\n'))
                t.buf.data[--t.buf.len] = '\0';
        if (truncated)
                *truncated = t.full || cut || halted;
        *out = nt_buf_detach(&t.buf);
        if (!*out)
                err = NT_ERR_NOMEM;
out:
        nt_buf_free(&c.out);
        nt_buf_free(&t.buf);
        return err;
}
