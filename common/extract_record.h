/* Internal to the extract module (common/extract.c and
 * common/extract_scan.c), not part of its public face (common/extract.h):
 * the record of a page that the scan (extract_scan.c: tokenizer,
 * elements, boilerplate, meta tags, JSON-LD scripts) builds and the
 * choice of the main text (extract.c) reads. */
#ifndef NT_EXTRACT_RECORD_H
#define NT_EXTRACT_RECORD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* From common/extract.h, which the two files include themselves. */
struct nt_extract_limits;
struct nt_extract_page;

#define NO_DATE INT64_MIN
/* JSON-LD scripts looked at on one page. */
#define MAX_JSONLD_SCRIPTS 16
/* Bytes of a meta value or title kept. */
#define MAX_META ((size_t)64 * 1024)

/* What an element is to the choice: blocks are tagged with it. */
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

/* Scans the page x->s (x->len bytes of UTF-8) into the record: nodes,
 * blocks, the meta values and the JSON-LD scripts. x->lim and x->page set,
 * the rest zeroed. Errors in x->err; cuts in x->page->cuts. */
void nt_extract_scan(struct ex *x);

/* A value decoded and collapsed, at most `max` bytes of it read (cut at a
 * character boundary); NULL when empty. Caller frees with free(). Out of
 * memory sets x->err. */
char *nt_extract_plain(struct ex *x, const char *p, size_t n, size_t max);

/* The charset a <meta> in the first 1024 bytes names, into buf. */
bool nt_extract_meta_charset(const char *html, size_t len, char *buf,
                             size_t size);

#endif
