/* Main-text extraction: the choice of the main text, over the record of
 * the page that the scan (extract_scan.c) builds: block elements with
 * their parent and text blocks, runs of text with their length and link
 * text, boilerplate marked by tag, class and id, meta values and JSON-LD.
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
 * bare text long enough to be a sentence, or a timestamp. */
#include "common/extract.h"
#include "common/extract_record.h"
#include "common/buf.h"
#include "common/charset.h"
#include "common/date.h"
#include "common/err.h"
#include "common/html.h"
#include "common/url.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* How deep the search for the article object goes in a JSON-LD tree. */
#define MAX_JSONLD_DEPTH 6

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
        static const char *const names[] = {
            [NT_EXTRACT_NONE] = "none",
            [NT_EXTRACT_JSONLD] = "jsonld",
            [NT_EXTRACT_ARTICLE] = "article",
            [NT_EXTRACT_DENSITY] = "density",
        };

        return nt_name_of(names, NT_COUNT_OF(names), m, "none");
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

        return s ? nt_extract_plain(x, s, strlen(s), MAX_META) : NULL;
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
                    nt_extract_plain(x, p, (size_t)(nl - p), (size_t)(nl - p));
                if (para)
                        put_paragraph(x, out, para, strlen(para));
                free(para);
        }
        free(html_text);
}

/* ---- Putting it together --------------------------------------------- */

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
                /* Not inside a UTF-8 character: bytes that are not UTF-8
                 * would make the whole page read as windows-1252. */
                len = lim->max_input;
                for (i = 0; i < 3 && len > 0 &&
                            ((unsigned char)html[len] & 0xC0) == 0x80;
                     i++)
                        len--;
                page->cuts |= NT_EXTRACT_CUT_INPUT;
        }
        if (!http_charset &&
            nt_extract_meta_charset(html, len, charset, sizeof(charset)))
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
        nt_extract_scan(&x);
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
