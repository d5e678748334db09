/* libFuzzer target: any bytes through nt_json_in_load() and its scanner,
 * against json_loadb(). Besides crashes, sanitizer reports and leaks, the
 * findings are broken promises of common/json_in.h: the scanner taking a
 * document jansson refuses, or making another tree than jansson's (values,
 * types or key order); nt_json_in_load() giving another tree or
 * another error than json_loadb(); and nt_json_in_load_unique() another
 * than json_loadb() with JSON_REJECT_DUPLICATES.
 *
 *   build/fuzz/fuzz_json_in -max_total_time=300 tests/fuzz/corpus/json_in */
#include "common/json_in.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_tree(json_t *a, json_t *b)
{
        char *da, *db;

        if (!json_equal(a, b))
                abort();
        da = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
        db = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY);
        /* NULL from both is out of memory; one NULL is a difference. */
        if ((da == NULL) != (db == NULL) || (da && strcmp(da, db) != 0))
                abort();
        free(da);
        free(db);
}

/* `got` (and got_err) against what jansson made of the same input. */
static void same_result(json_t *want, const json_error_t *want_err, json_t *got,
                        const json_error_t *got_err)
{
        if (!want) {
                if (got || strcmp(got_err->text, want_err->text) != 0 ||
                    got_err->line != want_err->line ||
                    got_err->column != want_err->column ||
                    got_err->position != want_err->position)
                        abort();
        } else {
                if (!got)
                        abort();
                same_tree(want, got);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *buf = (const char *)data;
        json_error_t want_err, got_err;
        json_t *want = json_loadb(buf, size, 0, &want_err);
        json_t *got = nt_json_in_load(buf, size, &got_err);
        json_t *scan = nt_json_in_scan(buf, size);

        if (!want) {
                if (got || scan || strcmp(got_err.text, want_err.text) != 0 ||
                    got_err.line != want_err.line ||
                    got_err.column != want_err.column ||
                    got_err.position != want_err.position)
                        abort();
        } else {
                if (!got)
                        abort();
                same_tree(want, got);
                if (scan)
                        same_tree(want, scan);
        }
        json_decref(want);
        json_decref(got);
        json_decref(scan);
        want = json_loadb(buf, size, JSON_REJECT_DUPLICATES, &want_err);
        got = nt_json_in_load_unique(buf, size, &got_err);
        same_result(want, &want_err, got, &got_err);
        json_decref(want);
        json_decref(got);
        return 0;
}
