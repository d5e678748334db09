/* The main text of an article page, readability-style: the JSON-LD
 * articleBody when the page has one, else the <article> that holds most
 * of the page's prose, else the block of the page that scores best on
 * text density and link density. Navigation, headers, footers, asides,
 * forms, scripts, comments and the boxes whose class or id say so
 * (related, share, cookie, newsletter ...) never reach the text.
 *
 * A pure function over bytes: no I/O, no global state, safe from any
 * thread. The producer (fetched pages), replay --pages (WARC response
 * records) and `newstap extract` call the same nt_extract(). */
#ifndef NT_EXTRACT_H
#define NT_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

/* Bounds on what one page may make the extractor hold; every one is a
 * flagged cut (cuts below), never a silent one. */
struct nt_extract_limits {
        size_t max_input;  /* bytes of HTML read (default 8 MiB): the rest
                              is not looked at */
        size_t max_text;   /* bytes of extracted text (default 1 MiB) */
        size_t max_depth;  /* open elements tracked (default 512): deeper
                              elements count as their ancestor */
        size_t max_nodes;  /* block elements recorded (default 262,144):
                              past it, text joins the last one */
        size_t max_jsonld; /* bytes of one JSON-LD script (default 1 MiB):
                              a larger one is skipped */
};

#define NT_EXTRACT_DEFAULT_MAX_INPUT  ((size_t)8 * 1024 * 1024)
#define NT_EXTRACT_DEFAULT_MAX_TEXT   ((size_t)1024 * 1024)
#define NT_EXTRACT_DEFAULT_MAX_DEPTH  ((size_t)512)
#define NT_EXTRACT_DEFAULT_MAX_NODES  ((size_t)262144)
#define NT_EXTRACT_DEFAULT_MAX_JSONLD ((size_t)1024 * 1024)

/* Which limit cut something (bits of nt_extract_page.cuts). */
enum {
        NT_EXTRACT_CUT_INPUT = 1 << 0,
        NT_EXTRACT_CUT_TEXT = 1 << 1,
        NT_EXTRACT_CUT_DEPTH = 1 << 2,
        NT_EXTRACT_CUT_NODES = 1 << 3,
        NT_EXTRACT_CUT_JSONLD = 1 << 4,
};

/* Where the text came from. */
enum nt_extract_method {
        NT_EXTRACT_NONE = 0, /* no main text found: text is "" */
        NT_EXTRACT_JSONLD,   /* JSON-LD articleBody */
        NT_EXTRACT_ARTICLE,  /* the <article> element */
        NT_EXTRACT_DENSITY,  /* the best-scoring block */
};

/* The result. Strings are owned (freed by nt_extract_page_free) and NULL
 * when the page does not say; `text` is never NULL after a successful
 * nt_extract(). Dates are ms since the epoch, UTC, or INT64_MIN. */
struct nt_extract_page {
        char *title; /* JSON-LD headline, og:title, the first <h1>,
                        or <title>; plain text */
        char *text;  /* paragraphs separated by "\n\n", plain text;
                        the title is not repeated in it */
        size_t n_paragraphs;
        char *description; /* JSON-LD description, og:description or
                              meta description */
        char *author;      /* JSON-LD author name(s) joined by ", ", or
                              meta author */
        char *site_name;   /* og:site_name, JSON-LD publisher name */
        char *language;    /* JSON-LD inLanguage, <html lang> */
        char *canonical;   /* link rel=canonical or og:url, resolved
                              against the base URL */
        int64_t published; /* JSON-LD datePublished, meta
                              article:published_time, itemprop
                              datePublished */
        int64_t modified;  /* JSON-LD dateModified, meta
                              article:modified_time */
        enum nt_extract_method method;
        char encoding[32]; /* what the bytes were decoded from */
        unsigned cuts;     /* NT_EXTRACT_CUT_* */
};

/* Fills in the defaults above. */
void nt_extract_limits_init(struct nt_extract_limits *lim);

void nt_extract_page_init(struct nt_extract_page *page);

/* Frees what the page holds and leaves it empty. NULL-safe. */
void nt_extract_page_free(struct nt_extract_page *page);

/* Extracts the article of `len` bytes of HTML. `http_charset` is the
 * HTTP Content-Type's charset (may be NULL); the encoding is then found
 * as browsers do: byte order mark, HTTP charset, <meta charset>, UTF-8
 * (bytes that are not UTF-8 are read as windows-1252). `base_url` (may
 * be NULL) resolves the canonical link. `lim` NULL for the defaults.
 * `page` must be initialised; the caller frees it with
 * nt_extract_page_free() whatever this returns. Returns 0 (also when no
 * main text was found: method NT_EXTRACT_NONE) or NT_ERR_NOMEM. */
int nt_extract(const char *html, size_t len, const char *http_charset,
               const char *base_url, const struct nt_extract_limits *lim,
               struct nt_extract_page *page);

/* "jsonld", "article", "density" or "none". Static. */
const char *nt_extract_method_name(enum nt_extract_method m);

#endif
