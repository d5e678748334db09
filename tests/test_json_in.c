/* The JSON reader against jansson: for every case, nt_json_in_load()
 * gives what json_loadb(buf, len, 0, error) gives (an equal tree with its
 * keys in the same order, or the same error at the same place), and the
 * scanner takes the cases it is there for and declines the others, so
 * that a scanner that declined everything would fail here too. */
#include "common/json_in.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct load_case {
        char name[48];
        char in[160];
        size_t in_len; /* 0: strlen(in) */
        bool scanned;  /* the scanner takes it (else jansson reads it) */
};

/* Same tree and same key order: the compact dump says both. */
static void assert_same(json_t *want, json_t *got, const char *name)
{
        char *a, *b;

        cr_assert(json_equal(want, got), "%s: trees differ", name);
        a = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
        b = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
        cr_assert(a && b, "%s: dump", name);
        cr_assert_str_eq(b, a, "%s: key order or values differ", name);
        free(a);
        free(b);
}

/* nt_json_in_load() and the scanner on buf[0..len) against jansson. */
static void check(const char *name, const char *buf, size_t len, bool scanned)
{
        json_error_t want_err, got_err;
        json_t *want = json_loadb(buf, len, 0, &want_err);
        json_t *got = nt_json_in_load(buf, len, &got_err);
        json_t *scan = nt_json_in_scan(buf, len);

        cr_assert_eq(scan != NULL, scanned, "%s: the scanner %s it", name,
                     scan ? "took" : "declined");
        if (!want) {
                cr_assert_null(got, "%s: jansson refuses it", name);
                cr_assert_null(scan, "%s: the scanner took a bad input", name);
                cr_assert_str_eq(got_err.text, want_err.text, "%s", name);
                cr_assert_eq(got_err.line, want_err.line, "%s", name);
                cr_assert_eq(got_err.column, want_err.column, "%s", name);
                cr_assert_eq(got_err.position, want_err.position, "%s", name);
        } else {
                cr_assert_not_null(got, "%s: jansson reads it: %s", name,
                                   got_err.text);
                assert_same(want, got, name);
                if (scan)
                        assert_same(want, scan, name);
        }
        json_decref(want);
        json_decref(got);
        json_decref(scan);
}

ParameterizedTestParameters(json_in, load)
{
        static struct load_case cases[] = {
            {"empty object", "{}", 0, true},
            {"empty array", " [ ] ", 0, true},
            {"white space everywhere",
             "\t{ \"a\" :\r\n[ 1 , true ,false,null ] }\n", 0, true},
            {"nested objects", "{\"a\":{\"b\":{\"c\":[{}]}},\"d\":\"e\"}", 0,
             true},
            {"integers", "[0,-0,7,-12,123456789012345678,-123456789012345678]",
             0, true},
            {"a repeated key keeps its place", "{\"a\":1,\"b\":2,\"a\":3}", 0,
             true},
            {"the letter escapes", "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", 0, true},
            {"\\u escapes, BMP and a pair",
             "[\"\\u00e9\\u0416\\u20AC\\ud83d\\ude00x\"]", 0, true},
            {"raw UTF-8, 2 to 4 bytes",
             "[\"\xc3\xa9 \xd0\x96 \xe2\x82\xac \xf0\x9f\x98\x80\"]", 0, true},
            /* Past 16 bytes, where the SSE2 scan hands over. */
            {"escape after whole blocks",
             "[\"0123456789abcdef\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0"
             "\x96\xd0\x96\xd0\x96\\n\xd0\x96\"]",
             0, true},
            {"a quote ending a block",
             "[\"0123456789abcde\",\"0123456789abcdefghijklmnopqrstu\"]", 0,
             true},
            {"DEL and U+2028 are plain", "[\"a\x7f\xe2\x80\xa8z\"]", 0, true},
            /* Declined, read by jansson. */
            {"a real", "{\"a\":1.5}", 0, false},
            {"an exponent", "[1e3]", 0, false},
            {"19 digits", "[1234567890123456789]", 0, false},
            {"too big an integer", "[12345678901234567890123]", 0, false},
            {"an escaped key", "{\"\\u0061\":1}", 0, false},
            /* Errors: jansson's own message and place. */
            {"empty", "", 0, false},
            {"a string at the top", "\"a\"", 0, false},
            {"a number at the top", "1", 0, false},
            {"trailing junk", "{} x", 0, false},
            {"trailing NUL", "{}\0", 3, false},
            {"a trailing comma", "{\"a\":1,}", 0, false},
            {"a missing colon", "{\"a\" 1}", 0, false},
            {"unclosed", "{\"a\":[1,2", 0, false},
            {"an unclosed string", "[\"abc", 0, false},
            {"a leading zero", "[01]", 0, false},
            {"a lone minus", "[-]", 0, false},
            {"a bad literal", "[tru]", 0, false},
            {"a longer literal", "[truex]", 0, false},
            {"a raw tab", "[\"a\tb\"]", 0, false},
            {"a raw NUL", "[\"a\0b\"]", 6, false},
            {"\\u0000", "[\"a\\u0000b\"]", 0, false},
            {"a bad escape", "[\"\\x\"]", 0, false},
            {"a short \\u", "[\"\\u12\"]", 0, false},
            {"a lone high surrogate", "[\"\\ud83dx\"]", 0, false},
            {"a high surrogate and no low", "[\"\\ud83d\\u0041\"]", 0, false},
            {"a lone low surrogate", "[\"\\ude00\"]", 0, false},
            {"a stray byte", "[\"a\xff\"]", 0, false},
            {"an overlong form", "[\"\xc0\xaf\"]", 0, false},
            {"an encoded surrogate", "[\"\xed\xa0\x80\"]", 0, false},
            {"a character cut", "[\"\xe2\x82\"]", 0, false},
            {"a byte order mark", "\xef\xbb\xbf{}", 0, false},
        };
        return cr_make_param_array(struct load_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct load_case *c, json_in, load)
{
        check(c->name, c->in, c->in_len ? c->in_len : strlen(c->in),
              c->scanned);
}

/* Arrays nested `depth` deep: the scanner's limit, one past it, and
 * past jansson's own (2048), which is jansson's error. */
/* nt_json_in_load_unique() against json_loadb(JSON_REJECT_DUPLICATES):
 * a repeated key, at the top or nested, is jansson's error at jansson's
 * place; documents without one are the same trees. */
Test(json_in, load_unique)
{
        static const char *const docs[] = {
            "{\"a\":1,\"b\":2,\"a\":3}",
            "{\"a\":{\"x\":1,\"x\":1},\"b\":2}",
            "[{\"k\":\"v\"},{\"k\":\"v\",\"k\":null}]",
            "{\"a\":1,\"b\":{\"a\":1},\"c\":[{\"a\":1}]}",
            "{\"schema\":\"newstap.article/1\",\"title\":\"t\\u00e9\"}",
            "{\"a\":1,\"a\"}",
        };
        size_t i;

        for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
                json_error_t want_err, got_err;
                json_t *want = json_loadb(docs[i], strlen(docs[i]),
                                          JSON_REJECT_DUPLICATES, &want_err);
                json_t *got =
                    nt_json_in_load_unique(docs[i], strlen(docs[i]), &got_err);

                if (!want) {
                        cr_assert_null(got, "%s: jansson refuses it", docs[i]);
                        cr_assert_str_eq(got_err.text, want_err.text, "%s",
                                         docs[i]);
                        cr_assert_eq(got_err.position, want_err.position, "%s",
                                     docs[i]);
                } else {
                        cr_assert_not_null(got, "%s: %s", docs[i],
                                           got_err.text);
                        assert_same(want, got, docs[i]);
                }
                json_decref(want);
                json_decref(got);
        }
}

Test(json_in, depth)
{
        static const struct {
                size_t depth;
                bool scanned;
        } cases[] = {{NT_JSON_IN_DEPTH, true},
                     {NT_JSON_IN_DEPTH + 1, false},
                     {3000, false}};
        size_t c, k;

        for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
                size_t d = cases[c].depth;
                char *buf = malloc(2 * d), name[32];

                cr_assert_not_null(buf);
                for (k = 0; k < d; k++) {
                        buf[k] = '[';
                        buf[2 * d - 1 - k] = ']';
                }
                snprintf(name, sizeof(name), "%zu levels", d);
                check(name, buf, 2 * d, cases[c].scanned);
                free(buf);
        }
}

/* A fixture file's text; caller frees. */
static char *slurp(const char *name, size_t *len)
{
        const char *dir = getenv("NT_FIXTURES");
        char path[1024], *text;
        long n;
        FILE *fp;

        cr_assert_not_null(dir, "NT_FIXTURES is not set");
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fp = fopen(path, "rb");
        cr_assert_not_null(fp, "%s", path);
        cr_assert_eq(fseek(fp, 0, SEEK_END), 0);
        n = ftell(fp);
        cr_assert_gt(n, 0, "%s", path);
        rewind(fp);
        text = malloc((size_t)n);
        cr_assert_not_null(text);
        cr_assert_eq(fread(text, 1, (size_t)n, fp), (size_t)n, "%s", path);
        fclose(fp);
        *len = (size_t)n;
        return text;
}

/* The test articles the classifier's tests use (whole files of indented
 * JSON in three languages), each taken by the scanner and read as
 * jansson reads it. */
Test(json_in, fixture_articles)
{
        static const char *const files[] = {
            "articles/guarantees.json", "articles/territory.json",
            "articles/zaporizhzhia.json", "articles/sentences.json",
            "articles/hard_negatives.json"};
        size_t f, len;

        for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
                char *text = slurp(files[f], &len);

                check(files[f], text, len, true);
                free(text);
        }
}

/* The lines of classify --offline's mixed input, good and bad: the
 * scanner takes the articles, and every line reads as with jansson. */
Test(json_in, fixture_lines)
{
        size_t len, from = 0, to, taken = 0;
        char *text = slurp("classify/mixed.jsonl", &len);

        while (from < len) {
                json_t *j;

                for (to = from; to < len && text[to] != '\n'; to++)
                        ;
                j = nt_json_in_scan(text + from, to - from);
                taken += j != NULL;
                json_decref(j);
                check("classify/mixed.jsonl", text + from, to - from,
                      j != NULL);
                from = to + 1;
        }
        free(text);
        cr_assert_geq(taken, 3, "the scanner took %zu lines", taken);
}
