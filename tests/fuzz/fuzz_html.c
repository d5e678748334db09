/* libFuzzer target: any bytes through nt_html_to_text, with an output
 * limit chosen by the first byte (small limits reach the cut paths).
 * Besides crashes, sanitizer reports and leaks, the findings are broken
 * promises of common/html.h: more than max_out bytes, text that is not
 * UTF-8, white space at either end, runs of white space other than the
 * separators, or an error other than NT_ERR_NOMEM. */
#include "common/err.h"
#include "common/html.h"
#include "fuzz_check.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
        fuzz_check_text_shape(out, max_out);
        free(out);
        return 0;
}
