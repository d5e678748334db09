/* HTML fragments (feed summaries and content) to plain text, read in one
 * pass by an HTML5-style tokenizer (no tree): tags dropped, script,
 * style, template, svg and the like removed with their content,
 * references decoded, white space collapsed, block elements (p, div, li,
 * h1-h6, blockquote, tr, ...) turned into paragraph breaks and <br> into
 * line breaks. */
#ifndef NT_HTML_H
#define NT_HTML_H

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

#endif
