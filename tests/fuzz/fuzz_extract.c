/* libFuzzer target: any bytes through nt_extract, with limits chosen by
 * the first byte (small ones reach the cut paths) and, from the second,
 * whether an HTTP charset is given. Besides crashes, sanitizer reports
 * and leaks, the findings are broken promises of common/extract.h: an
 * error other than NT_ERR_NOMEM, a NULL text, text past max_text or not
 * UTF-8, white space at either end of the text or runs other than the
 * paragraph separator, a paragraph count that disagrees with the text,
 * a method out of range, or cut flags other than the five. */
#include "common/err.h"
#include "common/extract.h"
#include "fuzz_check.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const struct nt_extract_page *pg, size_t max_text)
{
        const char *t = pg->text, *p;
        size_t n = strlen(t), paragraphs = n ? 1 : 0;

        fuzz_check_text_shape(t, max_text);
        for (p = t; (p = strstr(p, "\n\n")) != NULL; p += 2)
                paragraphs++;
        if (paragraphs != pg->n_paragraphs)
                abort();
        if (pg->method == NT_EXTRACT_NONE && n > 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const size_t texts[] = {0,   1,    7,       64,
                                       300, 4096, 1 << 20, 1 << 20};
        static const size_t depths[] = {1, 2, 8, 512};
        struct nt_extract_limits lim;
        struct nt_extract_page pg;
        const char *charset = NULL;
        int err;

        nt_extract_limits_init(&lim);
        if (size >= 2) {
                lim.max_text = texts[data[0] & 7];
                lim.max_depth = depths[(data[0] >> 3) & 3];
                lim.max_nodes = (data[0] & 0x20) ? 16 : lim.max_nodes;
                lim.max_jsonld = (data[0] & 0x40) ? 32 : lim.max_jsonld;
                if (data[1] & 1)
                        charset = (data[1] & 2) ? "koi8-r" : "utf-16le";
                data += 2;
                size -= 2;
        }
        nt_extract_page_init(&pg);
        err = nt_extract((const char *)data, size, charset,
                         "https://fuzz.example/a/b", &lim, &pg);
        if (err == NT_ERR_NOMEM) {
                nt_extract_page_free(&pg);
                return 0;
        }
        if (err != NT_OK || !pg.text || pg.method > NT_EXTRACT_DENSITY ||
            (pg.cuts & ~(unsigned)0x1F))
                abort();
        check_text(&pg, lim.max_text);
        if (pg.title)
                fuzz_check_utf8(pg.title);
        nt_extract_page_free(&pg);
        return 0;
}
