/* Main-text extraction. One pass of an HTML5-style tokenizer builds a flat
 * record of the page: the block elements (nodes, with their parent and
 * the range of text blocks they hold) and the runs of text between block
 * boundaries (blocks, with their length and how much of it is link
 * text). Boilerplate is marked during that pass: an element that is
 * boilerplate by its tag (nav, header, footer, aside, form ...) or by its
 * class or id marks everything inside it.
 *
 * Then the choice, cheapest sure signal first:
 * 1. JSON-LD: an Article (NewsArticle, BlogPosting, ...) with an
 *    articleBody that is not much shorter than what the page shows. Sites
 *    put the whole story there for search engines even when the page
 *    shows a teaser.
 * 2. <article>: the one holding most prose, when it holds at least half
 *    of the page's prose (a live blog with one <article> per entry, or a
 *    page of teaser cards, fails this and goes on to 3).
 * 3. Density, after readability: each paragraph of 25 characters or
 *    more scores 1 + its commas + one per 100 characters (at most 3),
 *    added to its parent, half to its grandparent, a third to the next;
 *    a container's class words add or take 25; the total is scaled by
 *    (1 - link density). The best container wins, with its siblings that
 *    score at least a fifth of it (the entries of a live blog).
 * Within the chosen element, a block is kept when it is prose: a
 * paragraph, heading or quotation with little link text, a list item or
 * bare text long enough to be a sentence, or a timestamp.
 *
 * The tokenizer is this module's own rather than common/html.c's, which
 * is static and drops attributes by design (text needs none; extraction
 * needs class, id, meta content and JSON-LD scripts). It follows the same
 * HTML5 rules for where tags, comments and raw text end. */
#include "common/extract.h"
#include "common/buf.h"
#include "common/charset.h"
#include "common/date.h"
#include "common/entities.h"
#include "common/err.h"
#include "common/html.h"
#include "common/url.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NO_DATE INT64_MIN
/* JSON-LD scripts looked at on one page. */
#define MAX_JSONLD_SCRIPTS 16
/* How deep the search for the article object goes in a JSON-LD tree. */
#define MAX_JSONLD_DEPTH 6
/* Bytes of a meta value or title kept. */
#define MAX_META ((size_t)64 * 1024)

void nt_extract_limits_init(struct nt_extract_limits *lim)
{
        lim->max_input = NT_EXTRACT_DEFAULT_MAX_INPUT;
        lim->max_text = NT_EXTRACT_DEFAULT_MAX_TEXT;
        lim->max_depth = NT_EXTRACT_DEFAULT_MAX_DEPTH;
        lim->max_nodes = NT_EXTRACT_DEFAULT_MAX_NODES;
        lim->max_jsonld = NT_EXTRACT_DEFAULT_MAX_JSONLD;
}

void nt_extract_page_init(struct nt_extract_page *page)
{
        memset(page, 0, sizeof(*page));
        page->published = NO_DATE;
        page->modified = NO_DATE;
}

void nt_extract_page_free(struct nt_extract_page *page)
{
        if (!page)
                return;
        free(page->title);
        free(page->text);
        free(page->description);
        free(page->author);
        free(page->site_name);
        free(page->language);
        free(page->canonical);
        nt_extract_page_init(page);
}

const char *nt_extract_method_name(enum nt_extract_method m)
{
        switch (m) {
        case NT_EXTRACT_JSONLD:
                return "jsonld";
        case NT_EXTRACT_ARTICLE:
                return "article";
        case NT_EXTRACT_DENSITY:
                return "density";
        case NT_EXTRACT_NONE:
                break;
        }
        return "none";
}

/* ---- Elements ------------------------------------------------------- */

enum tag {
        T_OTHER = 0, /* inline or unknown: text joins the text around it */
        T_A,
        T_ARTICLE,
        T_BLOCKQUOTE,
        T_BODY,
        T_BR,
        T_DIV, /* and the other plain containers */
        T_H1,
        T_H2, /* h2-h6 */
        T_HTML,
        T_LI,
        T_LINK,
        T_MAIN,
        T_META,
        T_P,
        T_PRE,
        T_SCRIPT,
        T_SECTION,
        T_TD,
        T_TIME,
        T_TITLE,
        T_DT,
};

/* What an element is to the extraction. */
enum {
        F_BLOCK = 1 << 0,  /* a block boundary, recorded as a node */
        F_BOILER = 1 << 1, /* boilerplate by its tag */
        F_DROP = 1 << 2,   /* its content is not text */
        F_RAW = 1 << 3,    /* raw text to its end tag (script, style ...) */
        F_VOID = 1 << 4,   /* no content, no end tag */
};

static const struct tag_info {
        char name[12];
        unsigned char tag;
        unsigned char flags;
} tag_infos[] = {
    /* Sorted by name for bsearch. */
    {"a", T_A, 0},
    {"address", T_DIV, F_BLOCK},
    {"area", T_OTHER, F_VOID},
    {"article", T_ARTICLE, F_BLOCK},
    {"aside", T_DIV, F_BLOCK | F_BOILER},
    {"audio", T_OTHER, F_DROP},
    {"base", T_OTHER, F_VOID},
    {"blockquote", T_BLOCKQUOTE, F_BLOCK},
    {"body", T_BODY, F_BLOCK},
    {"br", T_BR, F_VOID},
    {"button", T_OTHER, F_DROP},
    {"canvas", T_OTHER, F_DROP},
    {"caption", T_DIV, F_BLOCK},
    {"center", T_DIV, F_BLOCK},
    {"col", T_OTHER, F_VOID},
    {"dd", T_P, F_BLOCK},
    {"details", T_DIV, F_BLOCK},
    {"dialog", T_DIV, F_BLOCK | F_BOILER},
    {"div", T_DIV, F_BLOCK},
    {"dl", T_DIV, F_BLOCK},
    {"dt", T_DT, F_BLOCK},
    {"embed", T_OTHER, F_VOID},
    {"fieldset", T_DIV, F_BLOCK | F_BOILER},
    {"figure", T_DIV, F_BLOCK | F_BOILER},
    {"footer", T_DIV, F_BLOCK | F_BOILER},
    {"form", T_DIV, F_BLOCK | F_BOILER},
    {"h1", T_H1, F_BLOCK},
    {"h2", T_H2, F_BLOCK},
    {"h3", T_H2, F_BLOCK},
    {"h4", T_H2, F_BLOCK},
    {"h5", T_H2, F_BLOCK},
    {"h6", T_H2, F_BLOCK},
    {"head", T_OTHER, F_DROP},
    {"header", T_DIV, F_BLOCK | F_BOILER},
    {"hr", T_OTHER, F_VOID | F_BLOCK},
    {"html", T_HTML, F_BLOCK},
    {"iframe", T_OTHER, F_DROP | F_RAW},
    {"img", T_OTHER, F_VOID},
    {"input", T_OTHER, F_VOID},
    {"li", T_LI, F_BLOCK},
    {"link", T_LINK, F_VOID},
    {"main", T_MAIN, F_BLOCK},
    {"math", T_OTHER, F_DROP},
    {"menu", T_DIV, F_BLOCK | F_BOILER},
    {"meta", T_META, F_VOID},
    {"nav", T_DIV, F_BLOCK | F_BOILER},
    {"noembed", T_OTHER, F_DROP | F_RAW},
    {"noframes", T_OTHER, F_DROP | F_RAW},
    {"noscript", T_OTHER, F_DROP | F_RAW},
    {"object", T_OTHER, F_DROP},
    {"ol", T_DIV, F_BLOCK},
    {"option", T_OTHER, F_DROP},
    {"p", T_P, F_BLOCK},
    {"param", T_OTHER, F_VOID},
    {"pre", T_PRE, F_BLOCK},
    {"script", T_SCRIPT, F_DROP | F_RAW},
    {"section", T_SECTION, F_BLOCK},
    {"select", T_OTHER, F_DROP},
    {"source", T_OTHER, F_VOID},
    {"style", T_OTHER, F_DROP | F_RAW},
    {"svg", T_OTHER, F_DROP},
    {"table", T_DIV, F_BLOCK},
    {"td", T_TD, F_BLOCK},
    {"template", T_OTHER, F_DROP},
    {"textarea", T_OTHER, F_DROP | F_RAW},
    {"th", T_TD, F_BLOCK},
    {"time", T_TIME, 0},
    {"title", T_TITLE, F_DROP | F_RAW},
    {"tr", T_DIV, F_BLOCK},
    {"track", T_OTHER, F_VOID},
    {"ul", T_DIV, F_BLOCK},
    {"video", T_OTHER, F_DROP},
    {"wbr", T_OTHER, F_VOID},
    {"xmp", T_OTHER, F_DROP | F_RAW},
};

static unsigned char lower(unsigned char c)
{
        return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static int is_space(unsigned char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int is_alpha(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(unsigned char c)
{
        return is_alpha(c) || (c >= '0' && c <= '9');
}

static int tag_info_cmp(const void *key, const void *elem)
{
        return strcmp(key, ((const struct tag_info *)elem)->name);
}

static const struct tag_info *tag_lookup(const unsigned char *name, size_t len)
{
        char key[12];
        size_t i;

        if (len == 0 || len >= sizeof(key))
                return NULL;
        for (i = 0; i < len; i++)
                key[i] = (char)lower(name[i]);
        key[len] = '\0';
        return bsearch(key, tag_infos, sizeof(tag_infos) / sizeof(tag_infos[0]),
                       sizeof(tag_infos[0]), tag_info_cmp);
}

/* ---- Class and id words --------------------------------------------- */

/* Words that mark boilerplate when a class or id token starts with one
 * ("site-nav", "navbar", "related-stories", "cookieBanner"). */
static const char *const boiler_words[] = {
    "nav",     "menu",      "breadcrumb", "related",    "share",
    "sharing", "social",    "comment",    "footer",     "sidebar",
    "promo",   "cookie",    "consent",    "newsletter", "subscribe",
    "signup",  "advert",    "sponsor",    "popup",      "modal",
    "byline",  "skip",      "masthead",   "outbrain",   "taboola",
    "disqus",  "recommend", "most-read",  "mostread",   "trending",
    "tags",    "caption",   "author",     "toolbar",    "pagination",
    "widget",  "banner",    "paywall",    "read-more",  "readmore",
    "meta",    "dateline",
};

/* Words that mark a container of the story. */
static const char *const good_words[] = {
    "article", "body", "content", "entry", "main",
    "post",    "text", "blog",    "story",
};

/* True when one of `words` starts a token of the attribute value: at its
 * start, or after a character that is not a letter or digit, or at a
 * lower-to-upper case change (camelCase). */
static bool has_word(const char *v, size_t n, const char *const *words,
                     size_t n_words)
{
        size_t i, w, k;

        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char)v[i];

                if (!is_alpha(c))
                        continue;
                if (i > 0 && is_alnum((unsigned char)v[i - 1]) &&
                    !(c >= 'A' && c <= 'Z' && v[i - 1] >= 'a' &&
                      v[i - 1] <= 'z'))
                        continue;
                for (w = 0; w < n_words; w++) {
                        const char *word = words[w];
                        for (k = 0; word[k] && i + k < n; k++) {
                                if (lower((unsigned char)v[i + k]) !=
                                    (unsigned char)word[k])
                                        break;
                        }
                        if (!word[k])
                                return true;
                }
        }
        return false;
}

/* ---- The record of the page ----------------------------------------- */

struct node {
        int32_t parent; /* index, -1 for the root */
        uint32_t first; /* first block inside */
        uint32_t end;   /* one past the last block inside */
        unsigned char tag;
        bool boiler;  /* it or an ancestor is boilerplate */
        bool touched; /* a candidate: a paragraph scored into it */
        signed char class_weight;
        double score;
};

struct block {
        uint32_t off, len; /* text in the arena */
        uint32_t chars;    /* non-space bytes */
        uint32_t link;     /* of which inside <a> */
        uint32_t commas;
        int32_t node;       /* the block element that holds it */
        unsigned char kind; /* that element's tag */
        bool boiler;
        bool time; /* holds a <time> */
};

/* One attribute value as written (not decoded). */
struct span {
        const char *p;
        size_t n;
};

struct attrs {
        struct span cls, id, role, type, property, name, content, itemprop, rel,
            href, charset, lang, datetime, style;
        bool hidden;
};

struct open {
        unsigned char tag;
        unsigned char name[12]; /* lower case, for matching end tags */
        unsigned char name_len; /* 0: a name longer than 11 bytes */
        bool drop;              /* content is not text */
        bool boiler;
        int32_t node; /* -1 when not a block element */
};

struct ex {
        const struct nt_extract_limits *lim;
        struct nt_extract_page *page;
        const char *s;
        size_t len;
        struct open *stack;
        size_t depth, ghost; /* ghost: elements past max_depth */
        struct node *nodes;
        size_t n_nodes, cap_nodes;
        struct block *blocks;
        size_t n_blocks, cap_blocks;
        struct nt_buf arena;   /* the text of every block */
        struct nt_buf scratch; /* a decoded reference */
        bool in_block;         /* blocks[n_blocks] is being filled */
        bool space;            /* a space is due before the next word */
        bool pending_time;
        int links; /* open <a> elements */
        char *title_tag;
        char *og_title, *og_desc, *meta_desc, *og_site, *meta_author;
        char *og_url, *link_canonical;
        int64_t meta_published, meta_modified;
        json_t *jsonld[MAX_JSONLD_SCRIPTS];
        size_t n_jsonld;
        int err;
};

static int32_t current_node(const struct ex *x)
{
        size_t i = x->depth;

        while (i > 0) {
                if (x->stack[i - 1].node >= 0)
                        return x->stack[i - 1].node;
                i--;
        }
        return 0;
}

static bool in_drop(const struct ex *x)
{
        return x->depth > 0 && x->stack[x->depth - 1].drop;
}

static bool in_boiler(const struct ex *x)
{
        return x->depth > 0 && x->stack[x->depth - 1].boiler;
}

/* Ends the block being filled: kept when it holds text. */
static void block_close(struct ex *x)
{
        struct block *b;

        if (!x->in_block)
                return;
        x->in_block = false;
        x->space = false;
        b = &x->blocks[x->n_blocks];
        b->len = (uint32_t)(x->arena.len - b->off);
        if (b->chars == 0) {
                x->arena.len = b->off;
                if (x->arena.data)
                        x->arena.data[x->arena.len] = '\0';
                return;
        }
        x->n_blocks++;
        x->pending_time = false;
}

static bool block_open(struct ex *x)
{
        struct block *b;
        int32_t node;
        int err;

        if (x->in_block)
                return true;
        if (x->n_blocks >= UINT32_MAX - 1) {
                x->page->cuts |= NT_EXTRACT_CUT_NODES;
                return false;
        }
        err = nt_array_grow(&x->blocks, &x->cap_blocks, x->n_blocks + 1,
                            sizeof(*x->blocks));
        if (err) {
                x->err = err;
                return false;
        }
        node = current_node(x);
        b = &x->blocks[x->n_blocks];
        memset(b, 0, sizeof(*b));
        b->off = (uint32_t)x->arena.len;
        b->node = node;
        b->kind = x->nodes[node].tag;
        b->boiler = in_boiler(x);
        b->time = x->pending_time;
        x->in_block = true;
        x->space = false;
        return true;
}

static void arena_put(struct ex *x, const void *p, size_t n)
{
        int err;

        if (x->err)
                return;
        err = nt_buf_append(&x->arena, p, n);
        if (err)
                x->err = err;
}

/* Appends one word's bytes (no white space in them) to the block. */
static void word(struct ex *x, const char *p, size_t n)
{
        struct block *b;
        size_t i;

        if (n == 0 || !block_open(x))
                return;
        b = &x->blocks[x->n_blocks];
        if (x->space && x->arena.len > b->off)
                arena_put(x, " ", 1);
        x->space = false;
        arena_put(x, p, n);
        b->chars += (uint32_t)n;
        if (x->links > 0)
                b->link += (uint32_t)n;
        for (i = 0; i < n; i++)
                if (p[i] == ',')
                        b->commas++;
}

/* Adds text to the current block: white space (and U+00A0) collapsed,
 * character references decoded, C0 controls read as white space. */
static void text(struct ex *x, const char *p, size_t n)
{
        size_t i = 0, start, k;

        while (i < n && !x->err) {
                unsigned char c = (unsigned char)p[i];

                if (c <= ' ' || c == 0x7F) {
                        x->space = true;
                        i++;
                        continue;
                }
                if (c == 0xC2 && i + 1 < n && (unsigned char)p[i + 1] == 0xA0) {
                        x->space = true;
                        i += 2;
                        continue;
                }
                if (c == '&') {
                        /* A reference: "&name;" or "&#...;", at most 40
                         * bytes; anything else is a literal '&'. */
                        for (k = i + 1;
                             k < n && k - i < 40 &&
                             (is_alnum((unsigned char)p[k]) || p[k] == '#');
                             k++)
                                ;
                        if (k < n && p[k] == ';' && k > i + 1) {
                                nt_buf_reset(&x->scratch);
                                if (nt_entities_decode(p + i, k + 1 - i,
                                                       &x->scratch) != NT_OK) {
                                        x->err = NT_ERR_NOMEM;
                                        return;
                                }
                                if (strcmp(nt_buf_str(&x->scratch),
                                           "\xC2\xA0") == 0)
                                        x->space = true;
                                else
                                        word(x, x->scratch.data,
                                             x->scratch.len);
                                i = k + 1;
                                continue;
                        }
                }
                start = i;
                while (i < n) {
                        c = (unsigned char)p[i];
                        if (c <= ' ' || c == 0x7F || c == '&' ||
                            (c == 0xC2 && i + 1 < n &&
                             (unsigned char)p[i + 1] == 0xA0))
                                break;
                        i++;
                }
                if (i == start) {
                        /* A '&' that starts no reference. */
                        i++;
                }
                word(x, p + start, i - start);
        }
}

/* ---- Plain values (meta content, <title>) ---------------------------- */

/* The value decoded and collapsed, as a malloc'd string; NULL when
 * empty. At most `max` bytes of it are read (cut at a character
 * boundary): a meta value or a title longer than MAX_META is not one. */
static char *plain_value_max(struct ex *x, const char *p, size_t n, size_t max)
{
        struct nt_buf raw, out;
        size_t i;
        bool space = false;
        char *s = NULL;

        if (n > max) {
                n = max;
                while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
                        n--;
        }
        nt_buf_init(&raw, 4 * n + 16);
        nt_buf_init(&out, 4 * n + 16);
        if (nt_entities_decode(p, n, &raw) != NT_OK) {
                x->err = NT_ERR_NOMEM;
                goto out;
        }
        for (i = 0; i < raw.len; i++) {
                unsigned char c = (unsigned char)raw.data[i];
                if (c <= ' ' || (c == 0xC2 && i + 1 < raw.len &&
                                 (unsigned char)raw.data[i + 1] == 0xA0)) {
                        if (c == 0xC2)
                                i++;
                        space = out.len > 0;
                        continue;
                }
                if (space && nt_buf_append_char(&out, ' ') != NT_OK)
                        break;
                space = false;
                if (nt_buf_append_char(&out, (char)c) != NT_OK)
                        break;
        }
        if (out.len > 0) {
                s = nt_buf_detach(&out);
                if (!s)
                        x->err = NT_ERR_NOMEM;
        }
out:
        nt_buf_free(&raw);
        nt_buf_free(&out);
        return s;
}

static char *plain_value(struct ex *x, const char *p, size_t n)
{
        return plain_value_max(x, p, n, MAX_META);
}

static void keep_first(struct ex *x, char **slot, struct span v)
{
        if (*slot || !v.p || v.n == 0)
                return;
        *slot = plain_value(x, v.p, v.n);
}

static bool span_is(struct span v, const char *word)
{
        size_t n = strlen(word);

        return v.p && v.n == n && strncasecmp(v.p, word, n) == 0;
}

static bool span_has(struct span v, const char *word)
{
        size_t n = strlen(word), i;

        for (i = 0; v.p && i + n <= v.n; i++)
                if (strncasecmp(v.p + i, word, n) == 0)
                        return true;
        return false;
}

static void meta_date(struct ex *x, int64_t *slot, struct span v)
{
        char *s;

        if (*slot != NO_DATE || !v.p)
                return;
        s = plain_value(x, v.p, v.n);
        if (s && nt_date_parse(s, slot) != NT_OK)
                *slot = NO_DATE;
        free(s);
}

static void on_meta(struct ex *x, const struct attrs *a)
{
        struct span key = a->property.p ? a->property : a->name;

        if (a->itemprop.p && span_is(a->itemprop, "datePublished"))
                meta_date(x, &x->meta_published,
                          a->content.p ? a->content : a->datetime);
        if (!key.p || !a->content.p)
                return;
        if (span_is(key, "og:title"))
                keep_first(x, &x->og_title, a->content);
        else if (span_is(key, "og:description"))
                keep_first(x, &x->og_desc, a->content);
        else if (span_is(key, "description"))
                keep_first(x, &x->meta_desc, a->content);
        else if (span_is(key, "og:site_name"))
                keep_first(x, &x->og_site, a->content);
        else if (span_is(key, "author"))
                keep_first(x, &x->meta_author, a->content);
        else if (span_is(key, "og:url"))
                keep_first(x, &x->og_url, a->content);
        else if (span_is(key, "article:published_time"))
                meta_date(x, &x->meta_published, a->content);
        else if (span_is(key, "article:modified_time"))
                meta_date(x, &x->meta_modified, a->content);
}

/* ---- Tags ------------------------------------------------------------ */

/* Reads the attributes of a tag whose name ends at `i`; returns the index
 * after its '>', or 0 when the input ends first. */
static size_t read_attrs(const struct ex *x, size_t i, struct attrs *a,
                         int *self_closing)
{
        const char *s = x->s;
        size_t name, name_len;
        struct span v;
        char q;

        memset(a, 0, sizeof(*a));
        *self_closing = 0;
        while (i < x->len) {
                if (is_space((unsigned char)s[i])) {
                        i++;
                        continue;
                }
                if (s[i] == '>')
                        return i + 1;
                if (s[i] == '/') {
                        i++;
                        if (i < x->len && s[i] == '>') {
                                *self_closing = 1;
                                return i + 1;
                        }
                        continue;
                }
                name = i++;
                while (i < x->len && !is_space((unsigned char)s[i]) &&
                       s[i] != '/' && s[i] != '>' && s[i] != '=')
                        i++;
                name_len = i - name;
                while (i < x->len && is_space((unsigned char)s[i]))
                        i++;
                v.p = NULL;
                v.n = 0;
                if (i < x->len && s[i] == '=') {
                        i++;
                        while (i < x->len && is_space((unsigned char)s[i]))
                                i++;
                        if (i >= x->len)
                                break;
                        if (s[i] == '"' || s[i] == '\'') {
                                q = s[i++];
                                v.p = s + i;
                                while (i < x->len && s[i] != q)
                                        i++;
                                v.n = (size_t)(s + i - v.p);
                                if (i < x->len)
                                        i++;
                        } else {
                                v.p = s + i;
                                while (i < x->len &&
                                       !is_space((unsigned char)s[i]) &&
                                       s[i] != '>')
                                        i++;
                                v.n = (size_t)(s + i - v.p);
                        }
                } else {
                        v.p = s + i; /* present, empty */
                }
#define ATTR(field, str)                                        \
        if (name_len == sizeof(str) - 1 &&                      \
            strncasecmp(s + name, str, sizeof(str) - 1) == 0) { \
                if (!a->field.p)                                \
                        a->field = v;                           \
                continue;                                       \
        }
                ATTR(cls, "class")
                ATTR(id, "id")
                ATTR(role, "role")
                ATTR(type, "type")
                ATTR(property, "property")
                ATTR(name, "name")
                ATTR(content, "content")
                ATTR(itemprop, "itemprop")
                ATTR(rel, "rel")
                ATTR(href, "href")
                ATTR(charset, "charset")
                ATTR(lang, "lang")
                ATTR(datetime, "datetime")
                ATTR(style, "style")
#undef ATTR
                if (name_len == 6 && strncasecmp(s + name, "hidden", 6) == 0)
                        a->hidden = true;
        }
        return 0;
}

/* Whether the attributes make an element boilerplate. */
static bool boiler_attrs(const struct attrs *a, unsigned char tag)
{
        /* The page's frame is never boilerplate by its class: a body of
         * class "has-comments" holds the story all the same. */
        if (tag == T_HTML || tag == T_BODY || tag == T_MAIN || tag == T_ARTICLE)
                return false;
        if (a->hidden || span_has(a->style, "display:none") ||
            span_has(a->style, "display: none"))
                return true;
        if (span_is(a->role, "navigation") || span_is(a->role, "banner") ||
            span_is(a->role, "complementary") ||
            span_is(a->role, "contentinfo") || span_is(a->role, "dialog") ||
            span_is(a->role, "alertdialog") || span_is(a->role, "menu"))
                return true;
        return has_word(a->cls.p, a->cls.n, boiler_words,
                        sizeof(boiler_words) / sizeof(boiler_words[0])) ||
               has_word(a->id.p, a->id.n, boiler_words,
                        sizeof(boiler_words) / sizeof(boiler_words[0]));
}

static signed char class_weight(const struct attrs *a)
{
        size_t n = sizeof(good_words) / sizeof(good_words[0]);

        if (has_word(a->cls.p, a->cls.n, good_words, n) ||
            has_word(a->id.p, a->id.n, good_words, n))
                return 25;
        return 0;
}

static int add_node(struct ex *x, unsigned char tag, bool boiler,
                    signed char weight)
{
        struct node *nd;
        int err;

        if (x->n_nodes >= x->lim->max_nodes) {
                x->page->cuts |= NT_EXTRACT_CUT_NODES;
                return -1;
        }
        err = nt_array_grow(&x->nodes, &x->cap_nodes, x->n_nodes + 1,
                            sizeof(*x->nodes));
        if (err) {
                x->err = err;
                return -1;
        }
        nd = &x->nodes[x->n_nodes];
        memset(nd, 0, sizeof(*nd));
        nd->parent = x->n_nodes == 0 ? -1 : current_node(x);
        nd->first = nd->end = (uint32_t)x->n_blocks;
        nd->tag = tag;
        nd->boiler = boiler;
        nd->class_weight = weight;
        return (int)x->n_nodes++;
}

static void pop(struct ex *x)
{
        struct open *o = &x->stack[--x->depth];

        if (o->tag == T_A && x->links > 0)
                x->links--;
        if (o->node >= 0) {
                block_close(x);
                x->nodes[o->node].end = (uint32_t)x->n_blocks;
        }
}

static void end_tag(struct ex *x, const unsigned char *name, size_t len)
{
        size_t i, k;

        if (x->ghost > 0) {
                x->ghost--;
                return;
        }
        if (len == 0 || len >= sizeof(x->stack[0].name))
                return;
        /* The nearest open element of that name, closing those inside it
         * (HTML5 does so for most; where it would not, the text is the
         * same). An end tag with no open element is ignored. */
        for (i = x->depth; i > 0; i--) {
                struct open *o = &x->stack[i - 1];
                if (o->name_len != len)
                        continue;
                for (k = 0; k < len; k++)
                        if (o->name[k] != lower(name[k]))
                                break;
                if (k == len)
                        break;
        }
        if (i == 0) {
                if (len == 2 && lower(name[0]) == 'b' && lower(name[1]) == 'r')
                        block_close(x); /* </br> is a <br> */
                return;
        }
        while (x->depth >= i)
                pop(x);
}

/* An element start: what it does to the open stack and the record. */
static void start_tag(struct ex *x, const unsigned char *name, size_t len,
                      const struct attrs *a, int self_closing)
{
        const struct tag_info *ti = tag_lookup(name, len);
        unsigned char tag = ti ? ti->tag : T_OTHER;
        unsigned flags = ti ? ti->flags : 0;
        struct open *o;
        bool boiler, drop;
        size_t k;
        int node = -1;

        if (tag == T_META) {
                on_meta(x, a);
                return;
        }
        if (tag == T_LINK) {
                if (a->rel.p && span_has(a->rel, "canonical"))
                        keep_first(x, &x->link_canonical, a->href);
                return;
        }
        if (tag == T_HTML && a->lang.p)
                keep_first(x, &x->page->language, a->lang);
        if (tag == T_TIME) {
                if (a->itemprop.p && span_is(a->itemprop, "datePublished"))
                        meta_date(x, &x->meta_published, a->datetime);
                if (x->in_block)
                        x->blocks[x->n_blocks].time = true;
                else
                        x->pending_time = true;
        }
        if (tag == T_BR) {
                x->space = true;
                return;
        }
        if (flags & F_VOID) {
                if (flags & F_BLOCK)
                        block_close(x);
                return;
        }
        /* An open <p> ends at a block element; an <li> at the next. */
        if ((flags & F_BLOCK) && x->depth > 0) {
                struct open *top = &x->stack[x->depth - 1];
                if (top->tag == T_P || (tag == T_LI && top->tag == T_LI) ||
                    (tag == T_DT && top->tag == T_DT))
                        pop(x);
        }
        /* "<div/>" as the author meant it: nothing inside (HTML5 would
         * open the div; for svg and math it too closes them). */
        if (self_closing && !(flags & F_RAW))
                return;
        if (x->depth >= x->lim->max_depth) {
                x->page->cuts |= NT_EXTRACT_CUT_DEPTH;
                x->ghost++;
                return;
        }
        boiler = in_boiler(x) || (flags & F_BOILER) || boiler_attrs(a, tag);
        /* Boilerplate is recorded (flagged): its <h1> may be the title. */
        drop = in_drop(x) || (flags & F_DROP);
        if (flags & F_BLOCK) {
                block_close(x);
                node = add_node(x, tag, boiler, class_weight(a));
        }
        if (x->err)
                return;
        o = &x->stack[x->depth++];
        o->tag = tag;
        o->name_len = len < sizeof(o->name) ? (unsigned char)len : 0;
        for (k = 0; k < o->name_len; k++)
                o->name[k] = lower(name[k]);
        o->drop = drop;
        o->boiler = boiler;
        o->node = node;
        if (tag == T_A)
                x->links++;
}

/* ---- Raw text -------------------------------------------------------- */

/* Whether s[i..] is the lower-case `name` (any case) and then white
 * space, '/' or '>'. */
static bool name_at(const struct ex *x, size_t i, const unsigned char *name,
                    size_t len)
{
        size_t k;

        if (len >= x->len - i)
                return false;
        for (k = 0; k < len; k++)
                if (lower((unsigned char)x->s[i + k]) != name[k])
                        return false;
        k = (unsigned char)x->s[i + len];
        return is_space((unsigned char)k) || k == '/' || k == '>';
}

/* Where the raw text from `i` ends: at "</name" then white space, '/' or
 * '>', or at the end of the input. */
static size_t raw_end(const struct ex *x, size_t i, const unsigned char *name,
                      size_t len)
{
        const char *p;

        while (i < x->len) {
                p = memchr(x->s + i, '<', x->len - i);
                if (!p)
                        return x->len;
                i = (size_t)(p - x->s);
                if (i + 1 < x->len && x->s[i + 1] == '/' &&
                    name_at(x, i + 2, name, len))
                        return i;
                i++;
        }
        return x->len;
}

static void jsonld_script(struct ex *x, size_t from, size_t to)
{
        json_t *j;

        if (x->n_jsonld >= MAX_JSONLD_SCRIPTS)
                return;
        if (to - from > x->lim->max_jsonld) {
                x->page->cuts |= NT_EXTRACT_CUT_JSONLD;
                return;
        }
        j = json_loadb(x->s + from, to - from, 0, NULL);
        if (j)
                x->jsonld[x->n_jsonld++] = j;
}

/* The content of a raw text element from `i`; returns where it ends. */
static size_t raw_text(struct ex *x, size_t i, unsigned char tag,
                       const unsigned char *name, size_t len,
                       const struct attrs *a)
{
        unsigned char lname[12];
        size_t k, end;

        for (k = 0; k < len && k < sizeof(lname); k++)
                lname[k] = lower(name[k]);
        end = raw_end(x, i, lname, len);
        if (tag == T_SCRIPT && span_has(a->type, "ld+json"))
                jsonld_script(x, i, end);
        else if (tag == T_TITLE && !x->title_tag && !in_boiler(x))
                x->title_tag = plain_value(x, x->s + i, end - i);
        return end;
}

/* ---- The pass -------------------------------------------------------- */

/* After "<!--": the index after the comment's end, or x->len. */
static size_t comment_end(const struct ex *x, size_t i)
{
        const char *s = x->s;

        if (i < x->len && s[i] == '>')
                return i + 1;
        if (i + 1 < x->len && s[i] == '-' && s[i + 1] == '>')
                return i + 2;
        for (; i + 2 < x->len; i++) {
                if (s[i] != '-' || s[i + 1] != '-')
                        continue;
                if (s[i + 2] == '>')
                        return i + 3;
                if (s[i + 2] == '!' && i + 3 < x->len && s[i + 3] == '>')
                        return i + 4;
        }
        return x->len;
}

static size_t gt_end(const struct ex *x, size_t i)
{
        const char *p = memchr(x->s + i, '>', x->len - i);

        return p ? (size_t)(p - x->s) + 1 : x->len;
}

static void walk(struct ex *x)
{
        const char *s = x->s;
        size_t i = 0, run = 0, name, name_len, end;
        const struct tag_info *ti;
        struct attrs a;
        int self_closing, closing;
        const char *lt;

        while (i < x->len && !x->err) {
                lt = memchr(s + i, '<', x->len - i);
                if (!lt) {
                        i = x->len;
                        break;
                }
                i = (size_t)(lt - s);
                closing = i + 1 < x->len && s[i + 1] == '/';
                name = i + 1 + (size_t)closing;
                if (name < x->len && is_alpha((unsigned char)s[name])) {
                        if (!in_drop(x))
                                text(x, s + run, i - run);
                        name_len = 0;
                        while (name + name_len < x->len &&
                               !is_space((unsigned char)s[name + name_len]) &&
                               s[name + name_len] != '/' &&
                               s[name + name_len] != '>')
                                name_len++;
                        end = read_attrs(x, name + name_len, &a, &self_closing);
                        if (end == 0) {
                                /* The input ends inside the tag. */
                                i = run = x->len;
                                break;
                        }
                        i = run = end;
                        if (closing) {
                                end_tag(x, (const unsigned char *)s + name,
                                        name_len);
                                continue;
                        }
                        start_tag(x, (const unsigned char *)s + name, name_len,
                                  &a, self_closing);
                        ti = tag_lookup((const unsigned char *)s + name,
                                        name_len);
                        /* As in HTML5, "<script/>" opens a script all the
                         * same. */
                        if (ti && (ti->flags & F_RAW) && x->depth > 0 &&
                            x->stack[x->depth - 1].tag == ti->tag) {
                                end = raw_text(x, i, ti->tag,
                                               (const unsigned char *)s + name,
                                               name_len, &a);
                                i = run = end;
                        }
                        continue;
                }
                if (closing) {
                        if (!in_drop(x))
                                text(x, s + run, i - run);
                        i = run = name >= x->len ? x->len : gt_end(x, name);
                        continue;
                }
                if (i + 1 < x->len && (s[i + 1] == '!' || s[i + 1] == '?')) {
                        if (!in_drop(x))
                                text(x, s + run, i - run);
                        if (i + 3 < x->len && s[i + 1] == '!' &&
                            s[i + 2] == '-' && s[i + 3] == '-')
                                i = run = comment_end(x, i + 4);
                        else
                                i = run = gt_end(x, i + 2);
                        continue;
                }
                i++; /* a '<' that is text */
        }
        if (!in_drop(x) && run < x->len && !x->err)
                text(x, s + run, x->len - run);
        while (x->depth > 0)
                pop(x);
        block_close(x);
}

/* ---- The choice ------------------------------------------------------ */

static bool is_prose_kind(unsigned char kind)
{
        return kind == T_P || kind == T_PRE || kind == T_BLOCKQUOTE ||
               kind == T_TD || kind == T_DIV || kind == T_SECTION ||
               kind == T_ARTICLE || kind == T_MAIN || kind == T_BODY ||
               kind == T_LI;
}

static int tag_bonus(unsigned char tag)
{
        switch (tag) {
        case T_DIV:
        case T_ARTICLE:
        case T_SECTION:
        case T_MAIN:
                return 5;
        case T_PRE:
        case T_TD:
        case T_BLOCKQUOTE:
                return 3;
        case T_LI:
                return -3;
        case T_H1:
        case T_H2:
                return -5;
        default:
                return 0;
        }
}

static double link_density(const uint64_t *chars, const uint64_t *links,
                           uint32_t first, uint32_t end)
{
        uint64_t c = chars[end] - chars[first];

        return c ? (double)(links[end] - links[first]) / (double)c : 0.0;
}

/* Whether a block of the chosen element is prose worth keeping. */
static bool keep_block(const struct block *b)
{
        double ld = b->chars ? (double)b->link / b->chars : 1.0;
        if (b->boiler || b->chars == 0)
                return false;
        switch (b->kind) {
        case T_H1:
                return false; /* the title */
        case T_H2:
        case T_DT:
                return ld < 0.5;
        case T_P:
        case T_PRE:
        case T_BLOCKQUOTE:
                return ld < 0.5 && (b->chars >= 12 || b->time);
        case T_LI:
                return ld < 0.3 && b->chars >= 30;
        default:
                return (ld < 0.3 && b->chars >= 50) || (b->time && ld < 0.5);
        }
}

/* Scores the candidates; returns the best node, or -1. */
static int32_t density_choice(struct ex *x, const uint64_t *chars,
                              const uint64_t *links)
{
        size_t i;
        int32_t best = -1, n;
        double best_score = 0, s;
        int level;

        for (i = 0; i < x->n_blocks; i++) {
                const struct block *b = &x->blocks[i];
                double score;

                if (b->boiler || b->chars < 25 || !is_prose_kind(b->kind))
                        continue;
                score = 1.0 + b->commas +
                        (b->chars / 100 > 3 ? 3 : (double)(b->chars / 100));
                n = x->nodes[b->node].parent;
                for (level = 0; n >= 0 && level < 3; level++) {
                        struct node *nd = &x->nodes[n];
                        if (nd->boiler)
                                break;
                        if (!nd->touched) {
                                nd->touched = true;
                                nd->score =
                                    nd->class_weight + tag_bonus(nd->tag);
                        }
                        nd->score += level == 0   ? score
                                     : level == 1 ? score / 2
                                                  : score / (level * 3);
                        n = nd->parent;
                }
        }
        for (i = 0; i < x->n_nodes; i++) {
                struct node *nd = &x->nodes[i];
                if (!nd->touched)
                        continue;
                s = nd->score *
                    (1.0 - link_density(chars, links, nd->first, nd->end));
                nd->score = s;
                if (best < 0 || s > best_score) {
                        best = (int32_t)i;
                        best_score = s;
                }
        }
        return best;
}

/* <article>: the one holding most prose, when it holds half the page's. */
static int32_t article_choice(const struct ex *x, const uint64_t *prose)
{
        uint64_t total = prose[x->n_blocks], best_n = 0, n;
        int32_t best = -1;
        size_t i;

        for (i = 0; i < x->n_nodes; i++) {
                const struct node *nd = &x->nodes[i];
                if (nd->tag != T_ARTICLE || nd->boiler)
                        continue;
                n = prose[nd->end] - prose[nd->first];
                if (n > best_n) {
                        best_n = n;
                        best = (int32_t)i;
                }
        }
        if (best < 0 || best_n < 300 || 2 * best_n < total)
                return -1;
        return best;
}

/* Marks the blocks of `top` and of its siblings that score near it. */
static void select_blocks(const struct ex *x, int32_t top, bool siblings,
                          const uint64_t *chars, const uint64_t *links,
                          bool *sel)
{
        const struct node *t = &x->nodes[top];
        double threshold = t->score * 0.2 > 10 ? t->score * 0.2 : 10;
        size_t i;
        uint32_t k;

        for (k = t->first; k < t->end; k++)
                sel[k] = true;
        if (!siblings || t->parent < 0)
                return;
        for (i = 0; i < x->n_nodes; i++) {
                const struct node *nd = &x->nodes[i];
                bool take;
                if ((int32_t)i == top || nd->parent != t->parent || nd->boiler)
                        continue;
                take = nd->touched && nd->score >= threshold;
                if (!take && nd->tag == T_P) {
                        uint64_t c = chars[nd->end] - chars[nd->first];
                        take = c >= 80 && link_density(chars, links, nd->first,
                                                       nd->end) < 0.25;
                }
                if (take)
                        for (k = nd->first; k < nd->end; k++)
                                sel[k] = true;
        }
}

/* A candidate text: its paragraphs, words, and whether max_text cut
 * it. */
struct text_out {
        struct nt_buf buf;
        size_t paragraphs;
        size_t words;
        bool cut;
};

/* Appends one paragraph (collapsed text, no white space at its ends) to
 * the text, "\n\n" before it; past max_text it is cut at a character
 * boundary and the cut flagged. */
static void put_paragraph(struct ex *x, struct text_out *out, const char *p,
                          size_t n)
{
        struct nt_buf *b = &out->buf;
        size_t room, k;
        int err;

        if (out->cut || n == 0)
                return;
        room = b->max - b->len;
        if (b->len > 0)
                room = room > 2 ? room - 2 : 0;
        if (n > room) {
                n = room;
                while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
                        n--;
                /* Nor a space at the end of the text. */
                while (n > 0 && p[n - 1] == ' ')
                        n--;
                out->cut = true;
                if (n == 0)
                        return;
        }
        err = b->len > 0 ? nt_buf_append(b, "\n\n", 2) : NT_OK;
        if (!err)
                err = nt_buf_append(b, p, n);
        if (err) {
                x->err = err;
                return;
        }
        out->paragraphs++;
        out->words++;
        for (k = 0; k < n; k++)
                if (p[k] == ' ')
                        out->words++;
}

/* The DOM text of the selected blocks into out. */
static void dom_text(struct ex *x, const bool *sel, struct text_out *out)
{
        size_t i;

        for (i = 0; i < x->n_blocks && !x->err; i++) {
                const struct block *b = &x->blocks[i];
                if (sel[i] && keep_block(b))
                        put_paragraph(x, out, x->arena.data + b->off, b->len);
        }
}

/* ---- JSON-LD --------------------------------------------------------- */

static bool is_article_type(const json_t *t)
{
        static const char *const types[] = {
            "Article",
            "NewsArticle",
            "BlogPosting",
            "ReportageNewsArticle",
            "AnalysisNewsArticle",
            "LiveBlogPosting",
            "OpinionNewsArticle",
            "Report",
            "BackgroundNewsArticle",
            "TechArticle",
            "ScholarlyArticle",
        };
        const char *s;
        size_t i, k;

        if (json_is_array(t)) {
                for (k = 0; k < json_array_size(t); k++)
                        if (is_article_type(json_array_get(t, k)))
                                return true;
                return false;
        }
        s = json_string_value(t);
        if (!s)
                return false;
        if (strncmp(s, "http://schema.org/", 18) == 0)
                s += 18;
        else if (strncmp(s, "https://schema.org/", 19) == 0)
                s += 19;
        for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
                if (strcmp(s, types[i]) == 0)
                        return true;
        return false;
}

/* The first article object in a JSON-LD tree: the root, an element of a
 * root array, or a member of an @graph, at most MAX_JSONLD_DEPTH deep. */
static const json_t *find_article(const json_t *j, int depth)
{
        const json_t *found;
        size_t i;

        if (depth > MAX_JSONLD_DEPTH)
                return NULL;
        if (json_is_array(j)) {
                for (i = 0; i < json_array_size(j); i++) {
                        found = find_article(json_array_get(j, i), depth + 1);
                        if (found)
                                return found;
                }
                return NULL;
        }
        if (!json_is_object(j))
                return NULL;
        if (is_article_type(json_object_get(j, "@type")))
                return j;
        return find_article(json_object_get(j, "@graph"), depth + 1);
}

static char *json_plain(struct ex *x, const json_t *v)
{
        const char *s = json_string_value(v);

        return s ? plain_value(x, s, strlen(s)) : NULL;
}

/* "name" of an object, or the string itself; an array's joined by ", ". */
static char *json_names(struct ex *x, const json_t *v)
{
        struct nt_buf b;
        char *one, *out = NULL;
        size_t i;

        if (json_is_object(v))
                return json_plain(x, json_object_get(v, "name"));
        if (json_is_string(v))
                return json_plain(x, v);
        if (!json_is_array(v))
                return NULL;
        nt_buf_init(&b, MAX_META);
        for (i = 0; i < json_array_size(v) && i < 32; i++) {
                const json_t *e = json_array_get(v, i);
                one = json_is_array(e) ? NULL : json_names(x, e);
                if (one && (b.len == 0 || nt_buf_append_str(&b, ", ") == 0))
                        nt_buf_append_str(&b, one);
                free(one);
        }
        if (b.len > 0)
                out = nt_buf_detach(&b);
        nt_buf_free(&b);
        return out;
}

static void json_date(const json_t *v, int64_t *slot)
{
        const char *s = json_string_value(v);

        if (*slot == NO_DATE && s && nt_date_parse(s, slot) != NT_OK)
                *slot = NO_DATE;
}

/* The articleBody as paragraphs into out: HTML in it is read as HTML;
 * plain text is split at its line breaks. */
static void jsonld_body(struct ex *x, const char *body, struct text_out *out)
{
        char *html_text = NULL, *para;
        const char *p, *nl;
        size_t len = strlen(body);
        int truncated = 0;

        if (memchr(body, '<', len)) {
                if (nt_html_to_text(body, len, x->lim->max_text, &html_text,
                                    &truncated) != NT_OK) {
                        x->err = NT_ERR_NOMEM;
                        return;
                }
                if (truncated)
                        out->cut = true;
                body = html_text;
                len = strlen(body);
        }
        for (p = body; p < body + len && !x->err; p = nl + 1) {
                nl = memchr(p, '\n', (size_t)(body + len - p));
                if (!nl)
                        nl = body + len;
                /* The body is bounded by max_jsonld: no cut per line. */
                para =
                    plain_value_max(x, p, (size_t)(nl - p), (size_t)(nl - p));
                if (para)
                        put_paragraph(x, out, para, strlen(para));
                free(para);
        }
        free(html_text);
}

/* ---- Putting it together --------------------------------------------- */

/* The charset a <meta> in the first 1024 bytes names (HTML's prescan,
 * simplified: the first "charset=" there), into buf. */
static bool meta_charset(const char *html, size_t len, char *buf, size_t size)
{
        size_t n = len < 1024 ? len : 1024, i, k;

        for (i = 0; i + 8 <= n; i++) {
                if (strncasecmp(html + i, "charset=", 8) != 0)
                        continue;
                i += 8;
                while (i < n && (html[i] == '"' || html[i] == '\'' ||
                                 is_space((unsigned char)html[i])))
                        i++;
                for (k = 0; i + k < n && k + 1 < size &&
                            (is_alnum((unsigned char)html[i + k]) ||
                             html[i + k] == '-' || html[i + k] == '_' ||
                             html[i + k] == ':' || html[i + k] == '.');
                     k++)
                        buf[k] = html[i + k];
                buf[k] = '\0';
                /* A page that says UTF-16 in ASCII bytes is not UTF-16
                 * (HTML reads it as UTF-8). */
                if (k == 0 || strncasecmp(buf, "utf-16", 6) == 0)
                        return false;
                return true;
        }
        return false;
}

static char *take(char **p)
{
        char *s = *p;

        *p = NULL;
        return s;
}

static void fill_metadata(struct ex *x, const json_t *art, const char *base,
                          int32_t top)
{
        struct nt_extract_page *pg = x->page;
        const char *canon;
        size_t i;

        if (art) {
                pg->title = json_plain(x, json_object_get(art, "headline"));
                pg->description =
                    json_plain(x, json_object_get(art, "description"));
                pg->author = json_names(x, json_object_get(art, "author"));
                if (!pg->site_name) {
                        const json_t *pub = json_object_get(art, "publisher");
                        pg->site_name =
                            json_plain(x, json_object_get(pub, "name"));
                }
                if (!pg->language) {
                        pg->language =
                            json_plain(x, json_object_get(art, "inLanguage"));
                } else {
                        /* <html lang> was read first; JSON-LD says it of
                         * the article itself. */
                        char *l =
                            json_plain(x, json_object_get(art, "inLanguage"));
                        if (l) {
                                free(pg->language);
                                pg->language = l;
                        }
                }
                json_date(json_object_get(art, "datePublished"),
                          &pg->published);
                json_date(json_object_get(art, "dateModified"), &pg->modified);
        }
        if (!pg->title)
                pg->title = take(&x->og_title);
        if (!pg->title) {
                /* The first <h1> inside the chosen element (its own
                 * header included), else the first that is not
                 * boilerplate. */
                const struct block *h1 = NULL;
                for (i = 0; i < x->n_blocks; i++) {
                        const struct block *b = &x->blocks[i];
                        bool inside = top >= 0 && i >= x->nodes[top].first &&
                                      i < x->nodes[top].end;
                        if (b->kind != T_H1 || (b->boiler && !inside))
                                continue;
                        if (!h1)
                                h1 = b;
                        if (inside) {
                                h1 = b;
                                break;
                        }
                }
                if (h1) {
                        size_t n = h1->len;
                        const char *t = x->arena.data + h1->off;

                        /* A title, not a page: MAX_META at most. */
                        if (n > MAX_META) {
                                n = MAX_META;
                                while (n > 0 &&
                                       ((unsigned char)t[n] & 0xC0) == 0x80)
                                        n--;
                        }
                        pg->title = strndup(t, n);
                        if (!pg->title)
                                x->err = NT_ERR_NOMEM;
                }
        }
        if (!pg->title)
                pg->title = take(&x->title_tag);
        if (!pg->description)
                pg->description = take(&x->og_desc);
        if (!pg->description)
                pg->description = take(&x->meta_desc);
        if (!pg->author)
                pg->author = take(&x->meta_author);
        if (!pg->site_name)
                pg->site_name = take(&x->og_site);
        if (pg->published == NO_DATE)
                pg->published = x->meta_published;
        if (pg->modified == NO_DATE)
                pg->modified = x->meta_modified;
        canon = x->link_canonical ? x->link_canonical : x->og_url;
        if (canon) {
                if (base) {
                        if (nt_url_resolve(base, canon, &pg->canonical) ==
                            NT_ERR_NOMEM)
                                x->err = NT_ERR_NOMEM;
                }
                if (!pg->canonical && !x->err) {
                        pg->canonical = strdup(canon);
                        if (!pg->canonical)
                                x->err = NT_ERR_NOMEM;
                }
        }
}

static int choose(struct ex *x, const char *base)
{
        uint64_t *chars = NULL, *links = NULL, *prose = NULL;
        bool *sel = NULL;
        const json_t *art = NULL;
        const char *body = NULL;
        struct text_out dom, ld, *use;
        size_t i;
        int32_t top = -1;
        enum nt_extract_method method = NT_EXTRACT_NONE;

        memset(&dom, 0, sizeof(dom));
        memset(&ld, 0, sizeof(ld));
        nt_buf_init(&dom.buf, x->lim->max_text);
        nt_buf_init(&ld.buf, x->lim->max_text);
        chars = calloc(x->n_blocks + 1, sizeof(*chars));
        links = calloc(x->n_blocks + 1, sizeof(*links));
        prose = calloc(x->n_blocks + 1, sizeof(*prose));
        sel = calloc(x->n_blocks + 1, sizeof(*sel));
        if (!chars || !links || !prose || !sel) {
                x->err = NT_ERR_NOMEM;
                goto out;
        }
        for (i = 0; i < x->n_blocks; i++) {
                const struct block *b = &x->blocks[i];
                bool counts = !b->boiler;
                bool is_prose = b->kind == T_P || b->kind == T_BLOCKQUOTE ||
                                b->kind == T_PRE;

                chars[i + 1] = chars[i] + (counts ? b->chars : 0);
                links[i + 1] = links[i] + (counts ? b->link : 0);
                prose[i + 1] =
                    prose[i] + (counts && is_prose ? b->chars - b->link : 0);
        }
        top = article_choice(x, prose);
        if (top >= 0) {
                method = NT_EXTRACT_ARTICLE;
                select_blocks(x, top, false, chars, links, sel);
        } else {
                top = density_choice(x, chars, links);
                if (top >= 0) {
                        method = NT_EXTRACT_DENSITY;
                        select_blocks(x, top, true, chars, links, sel);
                }
        }
        if (top >= 0)
                dom_text(x, sel, &dom);
        if (dom.buf.len == 0)
                method = NT_EXTRACT_NONE;
        for (i = 0; i < x->n_jsonld && !art; i++)
                art = find_article(x->jsonld[i], 0);
        body = json_string_value(json_object_get(art, "articleBody"));
        if (body && !x->err) {
                jsonld_body(x, body, &ld);
                /* A body much shorter than the page's text is a teaser or
                 * a paywall's cut: the page wins then. */
                if (ld.words >= 25 && 2 * ld.words >= dom.words)
                        method = NT_EXTRACT_JSONLD;
        }
        if (x->err)
                goto out;
        use = method == NT_EXTRACT_JSONLD ? &ld : &dom;
        x->page->method = method;
        x->page->n_paragraphs = use->paragraphs;
        if (use->cut)
                x->page->cuts |= NT_EXTRACT_CUT_TEXT;
        x->page->text = nt_buf_detach(&use->buf);
        if (!x->page->text) {
                x->err = NT_ERR_NOMEM;
                goto out;
        }
        fill_metadata(x, art, base, top);
out:
        nt_buf_free(&dom.buf);
        nt_buf_free(&ld.buf);
        free(chars);
        free(links);
        free(prose);
        free(sel);
        return x->err;
}

int nt_extract(const char *html, size_t len, const char *http_charset,
               const char *base_url, const struct nt_extract_limits *lim,
               struct nt_extract_page *page)
{
        struct nt_extract_limits defaults;
        struct ex x;
        char charset[40];
        const char *doc = NULL;
        size_t doc_len = 0, i;
        int borrowed = 0, recovered = 0, err;

        if (!lim) {
                nt_extract_limits_init(&defaults);
                lim = &defaults;
        }
        memset(&x, 0, sizeof(x));
        x.lim = lim;
        x.page = page;
        x.meta_published = x.meta_modified = NO_DATE;
        if (len > lim->max_input) {
                len = lim->max_input;
                page->cuts |= NT_EXTRACT_CUT_INPUT;
        }
        if (!http_charset && meta_charset(html, len, charset, sizeof(charset)))
                http_charset = charset;
        /* Decoding never grows a single-byte page past 3 bytes a byte;
         * UTF-16 shrinks or keeps its size. */
        err = nt_charset_to_utf8_view(html, len, http_charset, 3 * len + 16,
                                      &doc, &doc_len, &borrowed, page->encoding,
                                      sizeof(page->encoding), &recovered);
        if (err)
                return err == NT_ERR_NOMEM ? NT_ERR_NOMEM : NT_OK;
        x.s = doc;
        x.len = doc_len;
        /* Each input byte gives at most one text byte, but a reference
         * may decode to a few more than it takes. */
        nt_buf_init(&x.arena, 2 * doc_len + 64);
        nt_buf_init(&x.scratch, 64);
        x.stack = calloc(lim->max_depth + 1, sizeof(*x.stack));
        if (!x.stack) {
                x.err = NT_ERR_NOMEM;
                goto out;
        }
        /* Node 0: the document, the parent of everything. */
        x.depth = 0;
        if (add_node(&x, T_HTML, false, 0) < 0) {
                x.err = x.err ? x.err : NT_ERR_NOMEM;
                goto out;
        }
        walk(&x);
        if (x.n_nodes > 0)
                x.nodes[0].end = (uint32_t)x.n_blocks;
        if (!x.err)
                choose(&x, base_url);
out:
        if (x.err) {
                nt_extract_page_free(page);
                err = NT_ERR_NOMEM;
        } else {
                err = NT_OK;
        }
        for (i = 0; i < x.n_jsonld; i++)
                json_decref(x.jsonld[i]);
        free(x.title_tag);
        free(x.og_title);
        free(x.og_desc);
        free(x.meta_desc);
        free(x.og_site);
        free(x.meta_author);
        free(x.og_url);
        free(x.link_canonical);
        free(x.stack);
        free(x.nodes);
        free(x.blocks);
        nt_buf_free(&x.arena);
        nt_buf_free(&x.scratch);
        if (!borrowed)
                free((char *)doc);
        return err;
}
