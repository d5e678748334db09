/* libFuzzer target: any bytes as a WARC file (plain, or gzip'd when they
 * start with the gzip magic) through nt_warc_next() until the end, with
 * small limits chosen by the first byte, and every record's block through
 * nt_warc_http_parse(). Crashes, sanitizer reports, leaks and hangs are
 * the findings; results are not checked. */
#include "common/err.h"
#include "producer/warc.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct nt_warc_limits lim;
        struct nt_warc_record rec;
        struct nt_warc_http http;
        char errstr[256];
        nt_warc_t *w;
        FILE *f;
        int err, guard = 0;

        /* tmpfile, not fmemopen: the reader's seek-back path wants a
         * regular file. */
        f = tmpfile();
        if (!f)
                return 0;
        if (size > 0 && fwrite(data, 1, size, f) != size) {
                fclose(f);
                return 0;
        }
        rewind(f);
        nt_warc_limits_init(&lim);
        if (size > 0 && (data[size - 1] & 1)) {
                lim.max_header = 128;
                lim.max_block = 256;
        }
        w = nt_warc_open(f, &lim, errstr, sizeof(errstr));
        nt_warc_record_init(&rec);
        while (w && guard++ < 100000) {
                err = nt_warc_next(w, &rec, errstr, sizeof(errstr));
                if (err == NT_ERR_NOTFOUND || err == NT_ERR_NOMEM)
                        break;
                if (err == NT_OK && rec.block) {
                        nt_warc_http_init(&http);
                        nt_warc_http_parse(rec.block, rec.block_len, 1 << 20,
                                           &http, errstr, sizeof(errstr));
                        nt_warc_http_free(&http);
                }
        }
        nt_warc_record_free(&rec);
        nt_warc_close(w);
        fclose(f);
        return 0;
}
