/* libFuzzer target: any bytes through nt_html_to_text, with an output
 * limit chosen by the first byte (small limits reach the cut paths).
 * Besides crashes, sanitizer reports and leaks, the findings are broken
 * promises of common/html.h: more than max_out bytes, text that is not
 * UTF-8, white space at either end, runs of white space other than the
 * separators, or an error other than NT_ERR_NOMEM. */
#include "common/err.h"
#include "common/html.h"
#include "common/utf8.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *out, size_t max_out)
{
        const unsigned char *s = (const unsigned char *)out;
        size_t n = strlen(out), i = 0, step;

        if (n > max_out)
                abort();
        if (n > 0 && (s[0] == ' ' || s[0] == '\n' || s[n - 1] == ' ' ||
                      s[n - 1] == '\n'))
                abort();
        if (strstr(out, "  ") || strstr(out, "\n\n\n") || strstr(out, " \n") ||
            strstr(out, "\n ") || strchr(out, '\t') || strchr(out, '\r'))
                abort();
        while (i < n) {
                step = nt_utf8_len(s + i, n - i);
                if (step == 0)
                        abort();
                i += step;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const size_t limits[] = {0, 1, 2, 3, 7, 16, 64, 1 << 20};
        size_t max_out = 1 << 20;
        char *out = NULL;
        int truncated = -1, err;

        if (size > 0) {
                max_out = limits[data[0] & 7];
                data++;
                size--;
        }
        err = nt_html_to_text((const char *)data, size, max_out, &out,
                              &truncated);
        if (err == NT_ERR_NOMEM)
                return 0;
        if (err != NT_OK || !out || (truncated != 0 && truncated != 1))
                abort();
        check(out, max_out);
        free(out);
        return 0;
}
