/* Checks shared by the fuzz targets of the HTML-to-text paths: the text
 * nt_html_to_text() gives and the text nt_extract gives make the same
 * promises about their shape. A header of static functions because each
 * fuzz target is built from its one source file (tests/fuzz/fuzz_*.c). */
#ifndef NT_FUZZ_CHECK_H
#define NT_FUZZ_CHECK_H

#include "common/utf8.h"

#include <stdlib.h>
#include <string.h>

/* Aborts unless `s` is valid UTF-8. */
static void fuzz_check_utf8(const char *s)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t n = strlen(s), i = 0, step;

        while (i < n) {
                step = nt_utf8_len(u + i, n - i);
                if (step == 0)
                        abort();
                i += step;
        }
}

/* Aborts unless `text` has at most `max` bytes, is UTF-8, has no white
 * space at either end, and no white space other than single spaces,
 * line breaks and paragraph breaks ("\n\n"). */
static void fuzz_check_text_shape(const char *text, size_t max)
{
        size_t n = strlen(text);

        if (n > max)
                abort();
        if (n > 0 && (text[0] == ' ' || text[0] == '\n' || text[n - 1] == ' ' ||
                      text[n - 1] == '\n'))
                abort();
        if (strstr(text, "  ") || strstr(text, "\n\n\n") ||
            strstr(text, " \n") || strstr(text, "\n ") || strchr(text, '\t') ||
            strchr(text, '\r'))
                abort();
        fuzz_check_utf8(text);
}

#endif
