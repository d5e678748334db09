/* The scan of a page for main-text extraction: one pass of an
 * HTML5-style tokenizer that records the block elements (nodes, with
 * their parent and the range of text blocks they hold), the runs of text
 * between block boundaries (blocks, with their length and how much of it
 * is link text), the meta values and the JSON-LD scripts. Boilerplate is
 * marked during the pass: an element that is boilerplate by its tag (nav,
 * header, footer, aside, form ...) or by its class or id marks everything
 * inside it.
 *
 * The tokenizer is this module's own rather than common/html.c's, which
 * is static and drops attributes by design (text needs none; extraction
 * needs class, id, meta content and JSON-LD scripts). It follows the same
 * HTML5 rules for where tags, comments and raw text end, through the
 * scanning steps common/html.h shares, the attribute scanner included. */
#include "common/extract.h"
#include "common/extract_record.h"
#include "common/html.h"
#include "common/date.h"
#include "common/entities.h"
#include "common/err.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- Elements ------------------------------------------------------- */

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

/* Words that keep an element whose class or id also has a boilerplate
 * word. */
static const char *const story_words[] = {
    "article", "body", "content", "main", "story",
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
 * character references decoded when `refs` (what they decode to is read
 * by the same rules: "&#10;" is white space too), C0 controls read as
 * white space. */
static void text_run(struct ex *x, const char *p, size_t n, bool refs)
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
                if (c == '&' && refs) {
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
                                text_run(x, x->scratch.data, x->scratch.len,
                                         false);
                                i = k + 1;
                                continue;
                        }
                }
                start = i;
                while (i < n) {
                        c = (unsigned char)p[i];
                        if (c <= ' ' || c == 0x7F || (c == '&' && refs) ||
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

static void text(struct ex *x, const char *p, size_t n)
{
        text_run(x, p, n, true);
}

/* ---- Plain values (meta content, <title>) ---------------------------- */

/* The value decoded and collapsed, as a malloc'd string; NULL when
 * empty. At most `max` bytes of it are read (cut at a character
 * boundary): a meta value or a title longer than MAX_META is not one. */
char *nt_extract_plain(struct ex *x, const char *p, size_t n, size_t max)
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
        return nt_extract_plain(x, p, n, MAX_META);
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

/* The attributes the extraction reads: name and where it goes in struct
 * attrs (the first of a repeated attribute counts, as in HTML5). */
static const struct attr_field {
        char name[10];
        unsigned char len;
        unsigned short off;
} attr_fields[] = {
    {"class", 5, offsetof(struct attrs, cls)},
    {"id", 2, offsetof(struct attrs, id)},
    {"role", 4, offsetof(struct attrs, role)},
    {"type", 4, offsetof(struct attrs, type)},
    {"property", 8, offsetof(struct attrs, property)},
    {"name", 4, offsetof(struct attrs, name)},
    {"content", 7, offsetof(struct attrs, content)},
    {"itemprop", 8, offsetof(struct attrs, itemprop)},
    {"rel", 3, offsetof(struct attrs, rel)},
    {"href", 4, offsetof(struct attrs, href)},
    {"charset", 7, offsetof(struct attrs, charset)},
    {"lang", 4, offsetof(struct attrs, lang)},
    {"datetime", 8, offsetof(struct attrs, datetime)},
    {"style", 5, offsetof(struct attrs, style)},
};

static void keep_attr(struct attrs *a, const struct nt_html_attr *at)
{
        const char *name = (const char *)at->name;
        struct span *slot;
        size_t k;

        for (k = 0; k < sizeof(attr_fields) / sizeof(attr_fields[0]); k++) {
                if (at->name_len != attr_fields[k].len ||
                    strncasecmp(name, attr_fields[k].name, at->name_len) != 0)
                        continue;
                slot = (struct span *)(void *)((char *)a + attr_fields[k].off);
                if (!slot->p) {
                        slot->p = (const char *)at->value;
                        slot->n = at->value_len;
                }
                return;
        }
        if (at->name_len == 6 && strncasecmp(name, "hidden", 6) == 0)
                a->hidden = true;
}

/* Reads the attributes of a tag whose name ends at `i` (common/html.c's
 * scanner); returns the index after its '>', or 0 when the input ends
 * first. */
static size_t read_attrs(const struct ex *x, size_t i, struct attrs *a,
                         int *self_closing)
{
        const unsigned char *s = (const unsigned char *)x->s;
        struct nt_html_attr at;
        enum nt_html_attr_step step;

        memset(a, 0, sizeof(*a));
        while ((step = nt_html_attr_next(s, x->len, &i, &at)) == NT_HTML_ATTR)
                keep_attr(a, &at);
        *self_closing = step == NT_HTML_TAG_SELF_CLOSING;
        return step == NT_HTML_TAG_CUT ? 0 : i;
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
        if (!has_word(a->cls.p, a->cls.n, boiler_words,
                      sizeof(boiler_words) / sizeof(boiler_words[0])) &&
            !has_word(a->id.p, a->id.n, boiler_words,
                      sizeof(boiler_words) / sizeof(boiler_words[0])))
                return false;
        /* As readability does: a word of the story too ("article-body
         * comments-open", "main-content has-sidebar") keeps it. */
        return !has_word(a->cls.p, a->cls.n, story_words,
                         sizeof(story_words) / sizeof(story_words[0])) &&
               !has_word(a->id.p, a->id.n, story_words,
                         sizeof(story_words) / sizeof(story_words[0]));
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

        if (x->n_nodes > 0 && x->n_nodes >= x->lim->max_nodes) {
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
        size_t end = nt_html_raw_end((const unsigned char *)x->s, x->len, i,
                                     name, len, tag == T_SCRIPT);
        if (tag == T_SCRIPT && span_has(a->type, "ld+json"))
                jsonld_script(x, i, end);
        else if (tag == T_TITLE && !x->title_tag && !in_boiler(x))
                x->title_tag = plain_value(x, x->s + i, end - i);
        return end;
}

/* ---- The pass -------------------------------------------------------- */

void nt_extract_scan(struct ex *x)
{
        const char *s = x->s;
        size_t i = 0, run = 0, name, name_len, end;
        const struct tag_info *ti;
        struct attrs a;
        int self_closing, closing;
        const char *lt;

        /* Node 0: the document, the parent of everything. */
        if (add_node(x, T_HTML, false, 0) < 0) {
                if (!x->err)
                        x->err = NT_ERR_NOMEM;
                return;
        }
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
                        i = run =
                            name >= x->len
                                ? x->len
                                : nt_html_gt_end((const unsigned char *)x->s,
                                                 x->len, name);
                        continue;
                }
                if (i + 1 < x->len && (s[i + 1] == '!' || s[i + 1] == '?')) {
                        if (!in_drop(x))
                                text(x, s + run, i - run);
                        if (i + 3 < x->len && s[i + 1] == '!' &&
                            s[i + 2] == '-' && s[i + 3] == '-')
                                i = run = nt_html_comment_end(
                                    (const unsigned char *)x->s, x->len, i + 4);
                        else
                                i = run = nt_html_gt_end(
                                    (const unsigned char *)x->s, x->len, i + 2);
                        continue;
                }
                i++; /* a '<' that is text */
        }
        if (!in_drop(x) && run < x->len && !x->err)
                text(x, s + run, x->len - run);
        while (x->depth > 0)
                pop(x);
        block_close(x);
        x->nodes[0].end = (uint32_t)x->n_blocks;
}

/* The charset a <meta> in the first 1024 bytes names (HTML's prescan,
 * simplified: the first "charset=" there), into buf. */
bool nt_extract_meta_charset(const char *html, size_t len, char *buf,
                             size_t size)
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
