/* HTML fragments (feed summaries and content) to plain text with a real
 * HTML parser (gumbo): tags dropped, script and style removed with their
 * content, references decoded, white space collapsed, block elements
 * (p, div, li, h1-h6, blockquote, tr, ...) turned into paragraph breaks
 * and <br> into line breaks. */
#ifndef NT_HTML_H
#define NT_HTML_H

#include <stddef.h>

/* Converts `len` bytes of UTF-8 HTML to text: paragraphs separated by
 * "\n\n", lines within one by "\n", runs of other white space as one
 * space, no leading or trailing white space. At most `max_out` bytes:
 * longer text is cut at a character boundary and `*truncated` set (may be
 * NULL). Caller frees *out with free(). Returns 0 or NT_ERR_NOMEM /
 * NT_ERR_PARSE. */
int nt_html_to_text(const char *html, size_t len, size_t max_out, char **out,
                    int *truncated);

#endif
