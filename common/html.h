/* HTML fragments (feed summaries and content) to plain text, read in one
 * pass by an HTML5-style tokenizer (no tree): tags dropped, script,
 * style, template, svg and the like removed with their content,
 * references decoded, white space collapsed, block elements (p, div, li,
 * h1-h6, blockquote, tr, ...) turned into paragraph breaks and <br> into
 * line breaks. */
#ifndef NT_HTML_H
#define NT_HTML_H

#include <stdbool.h>
#include <stddef.h>

/* Converts `len` bytes of UTF-8 HTML to text: paragraphs separated by
 * "\n\n", lines within one by "\n", runs of other white space as one
 * space, no leading or trailing white space; bytes that are not UTF-8
 * become U+FFFD. At most `max_out` bytes: longer text is cut at a
 * character boundary and `*truncated` set (may be NULL). `*truncated` is
 * also set when the input was cut past 4 MiB; the text is then that of
 * the markup before the cut. Time is linear in the input whatever the
 * markup (no depth limit: nesting costs nothing). Caller frees *out with
 * free(). Returns 0 or NT_ERR_NOMEM. Safe to call from any thread. */
int nt_html_to_text(const char *html, size_t len, size_t max_out, char **out,
                    int *truncated);

/* The tokenizer's scanning steps over s[0..n), shared with the main-text
 * extraction (common/extract_scan.c). Each takes the index i just past
 * what opened the construct and returns the index just past its end, or
 * n when the input ends first. */

/* A comment, i just after "<!--": ends at "-->", "--!>", or at once for
 * the abrupt "<!-->" and "<!--->". */
size_t nt_html_comment_end(const unsigned char *s, size_t n, size_t i);

/* A bogus comment or declaration ("<!DOCTYPE", "<?xml"): the next '>'. */
size_t nt_html_gt_end(const unsigned char *s, size_t n, size_t i);

/* One attribute of a start tag, pointing into the input. */
struct nt_html_attr {
        const unsigned char *name;
        size_t name_len;
        const unsigned char *value; /* without its quotes; an attribute
                                       without '=' has an empty value at
                                       the end of its name */
        size_t value_len;
};

/* What nt_html_attr_next() found. */
enum nt_html_attr_step {
        NT_HTML_ATTR,             /* an attribute, in *attr */
        NT_HTML_TAG_END,          /* the tag's '>' */
        NT_HTML_TAG_SELF_CLOSING, /* the tag's "/>" */
        NT_HTML_TAG_CUT,          /* the input ends inside the tag (HTML5
                                     then drops the tag) */
};

/* The attributes of a start or end tag, one a call, following HTML5's
 * attribute states far enough to know which '>' ends the tag: one inside
 * a quoted value does not. *i is just past the tag's name on the first
 * call and moves past what each call reads: past the attribute, or past
 * the tag's '>'. The first character of a name may be anything, '='
 * included. */
enum nt_html_attr_step nt_html_attr_next(const unsigned char *s, size_t n,
                                         size_t *i, struct nt_html_attr *attr);

/* Raw text (script, style, title, textarea...), i just after its start
 * tag: returns where its end tag "</name" (any case, then white space,
 * '/' or '>') begins, or n. In a script, an end tag inside "<!--" ...
 * "-->" after a "<script" is skipped, as HTML5 does. */
size_t nt_html_raw_end(const unsigned char *s, size_t n, size_t i,
                       const unsigned char *name, size_t len, bool script);

#endif
