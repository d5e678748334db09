/* libFuzzer target: any bytes as an article's title, lead and body (the
 * first two bytes choose where the input is cut), tokenised and classified
 * with the shipped rules. Besides crashes, sanitizer reports and leaks,
 * the findings are broken promises of consumer/normalize.h: tokens out of
 * order, overlapping or outside their field, or a normalised form other
 * than what nt_normalize_text() makes of the token's span (this compares
 * the tokeniser's fast paths, 16 bytes at a time among them, with
 * utf8proc); and any classifier error other than NT_ERR_NOMEM or
 * NT_ERR_LIMIT.
 *
 *   build/fuzz/fuzz_text -max_total_time=300 tests/fuzz/corpus/text */
#include "common/err.h"
#include "consumer/classify.h"
#include "consumer/normalize.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nt_classifier_t *shipped(void)
{
        static nt_classifier_t *c;
        const char *dir = NT_SOURCE_DIR "/config/rules";
        char errstr[256];

        if (!c)
                c = nt_classifier_from_paths(&dir, 1, errstr, sizeof(errstr));
        if (!c)
                abort();
        return c;
}

/* Checks the tokens of one field, text[0..len). */
static void check_tokens(const struct nt_tokens *t, size_t from,
                         const char *text, size_t len)
{
        size_t i, prev_end = 0;

        for (i = from; i < t->n; i++) {
                const struct nt_token *tok = &t->tok[i];
                char *want = NULL;
                size_t want_len = 0;

                if (tok->start >= tok->end || tok->end > len ||
                    (i > from && tok->start <= prev_end))
                        abort();
                prev_end = tok->end;
                if (tok->flags & NT_TOK_LONG) {
                        if (tok->norm_len != 0 ||
                            tok->end - tok->start <= NT_TOKEN_MAX_BYTES)
                                abort();
                        continue;
                }
                if (tok->norm + tok->norm_len > t->text_len)
                        abort();
                if (nt_normalize_text(text + tok->start, tok->end - tok->start,
                                      &want, &want_len) != NT_OK)
                        abort();
                if (want_len != tok->norm_len ||
                    memcmp(want, nt_tokens_norm(t, i), want_len) != 0)
                        abort();
                free(want);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct nt_text_fields in;
        json_t *res = NULL;
        struct nt_tokens t;
        const char *text = (const char *)data;
        size_t cut1 = 0, cut2 = 0, f, first;
        int err;

        if (size >= 2) {
                cut1 = (size - 2) * data[0] / 255;
                cut2 = cut1 + (size - 2 - cut1) * data[1] / 255;
                text += 2;
                size -= 2;
        }
        in.text[NT_FIELD_TITLE] = text;
        in.len[NT_FIELD_TITLE] = cut1;
        in.text[NT_FIELD_LEAD] = text + cut1;
        in.len[NT_FIELD_LEAD] = cut2 - cut1;
        in.text[NT_FIELD_BODY] = text + cut2;
        in.len[NT_FIELD_BODY] = size - cut2;

        nt_tokens_init(&t, 100000);
        for (f = 0; f < NT_FIELD_COUNT; f++) {
                first = t.n;
                err =
                    nt_tokens_add(&t, (enum nt_field)f, in.text[f], in.len[f]);
                if (err == NT_ERR_NOMEM || err == NT_ERR_LIMIT)
                        break;
                if (err != NT_OK)
                        abort();
                check_tokens(&t, first, in.text[f], in.len[f]);
        }
        nt_tokens_free(&t);

        /* The JSON result too: its evidence quotes the fields at the
         * offsets the matcher found. */
        err = nt_classifier_run(shipped(), &in, &res, NULL, 0);
        if (err == NT_OK)
                json_decref(res);
        else if (err != NT_ERR_NOMEM && err != NT_ERR_LIMIT)
                abort();
        return 0;
}
