/* Encoding detection and decoding to UTF-8: the precedence of BOM, HTTP
 * charset and XML declaration, legacy Cyrillic encodings, the
 * windows-1252 recovery path, UTF-8 under a single-byte label,
 * replacement of bad bytes and the output limit. */
#include "common/charset.h"
#include "common/err.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Criterion may run each case in a fresh process of a position-
 * independent binary, so parameters hold their bytes, not pointers. */
struct decode_case {
        char name[48];
        char in[96];
        size_t in_len;
        char http[32]; /* "" for none */
        char want[96];
        char want_enc[24];
        int want_recovered;
};

#define BYTES(s) s, sizeof(s) - 1

ParameterizedTestParameters(charset, decode)
{
        static struct decode_case cases[] = {
            {"windows-1251 from HTTP",
             BYTES("\xC7\xE0\xEF\xEE\xF0\xB3\xE7\xFC\xEA\xE0\x20\xC0\xC5\xD1"),
             "windows-1251", "Запорізька АЕС", "windows-1251", 0},
            {"KOI8-R from HTTP",
             BYTES("\xFA\xC1\xD0\xCF\xD2\xCF\xD6\xD3\xCB\xC1\xD1\x20\xE1\xFC"
                   "\xF3"),
             "KOI8-R", "Запорожская АЭС", "koi8-r", 0},
            {"cp1251 alias", BYTES("\xC5\xED\xE5\xF0\xE3\xEE\xE4\xE0\xF0"),
             "cp1251", "Енергодар", "windows-1251", 0},
            {"UTF-16LE with BOM",
             BYTES("\xFF\xFE\x3C\x00\x74\x00\x3E\x00\x17\x04\x30\x04\x3F\x04"
                   "\x3E\x04\x40\x04\x56\x04\x36\x04\x36\x04\x4F\x04\x3C\x00"
                   "\x2F\x00\x74\x00\x3E\x00"),
             "", "<t>Запоріжжя</t>", "utf-16le", 0},
            {"UTF-16BE with BOM",
             BYTES("\xFE\xFF\x00\x3C\x00\x74\x00\x3E\x04\x1C\x04\x10\x04\x13"
                   "\x04\x10\x04\x22\x04\x15\x00\x3C\x00\x2F\x00\x74\x00\x3E"),
             "", "<t>МАГАТЕ</t>", "utf-16be", 0},
            {"UTF-32LE with BOM",
             BYTES("\xFF\xFE\x00\x00\x41\x00\x00\x00\x1F\x04\x00\x00"), "",
             "AП", "utf-32le", 0},
            {"UTF-32BE with BOM",
             BYTES("\x00\x00\xFE\xFF\x00\x00\x00\x41\x00\x00\x04\x1F"), "",
             "AП", "utf-32be", 0},
            {"UTF-8 BOM stripped", BYTES("\xEF\xBB\xBF<a/>"), "", "<a/>",
             "utf-8", 0},
            {"BOM beats HTTP charset", BYTES("\xEF\xBB\xBF\xC3\xA9"),
             "windows-1251", "é", "utf-8", 0},
            {"HTTP charset beats XML declaration",
             BYTES("<?xml version=\"1.0\" encoding=\"koi8-r\"?><t>\xC0</t>"),
             "windows-1251",
             "<?xml version=\"1.0\" encoding=\"koi8-r\"?><t>А</t>",
             "windows-1251", 0},
            {"XML declaration used",
             BYTES("<?xml version=\"1.0\" encoding=\"koi8-r\"?><t>\xC0</t>"),
             "", "<?xml version=\"1.0\" encoding=\"koi8-r\"?><t>ю</t>",
             "koi8-r", 0},
            {"XML declaration after a blank line",
             BYTES("\n<?xml version='1.0' encoding='windows-1251'?><t>\xC0"
                   "</t>"),
             "", "\n<?xml version='1.0' encoding='windows-1251'?><t>А</t>",
             "windows-1251", 0},
            {"UTF-16LE without BOM (Appendix F)",
             BYTES("<\0?\0x\0m\0l\0 \0?\0>\0\x1F\x04"), "", "<?xml ?>П",
             "utf-16le", 0},
            {"UTF-16BE without BOM (Appendix F)",
             BYTES("\0<\0?\0x\0m\0l\0 \0?\0>\x04\x1F"), "", "<?xml ?>П",
             "utf-16be", 0},
            {"ASCII bytes declared UTF-16 read as UTF-8",
             BYTES("<?xml version=\"1.0\" encoding=\"UTF-16\"?><t>é</t>"), "",
             "<?xml version=\"1.0\" encoding=\"UTF-16\"?><t>é</t>", "utf-8", 0},
            {"ISO-8859-1 read as windows-1252", BYTES("\x93quoted\x94 caf\xE9"),
             "ISO-8859-1", "\u201Cquoted\u201D café", "windows-1252", 0},
            {"US-ASCII read as windows-1252", BYTES("\x80 5"), "us-ascii",
             "€ 5", "windows-1252", 0},
            {"latin1 in the XML declaration",
             BYTES("<?xml version=\"1.0\" encoding=\"latin1\"?>\x96"), "",
             "<?xml version=\"1.0\" encoding=\"latin1\"?>\u2013",
             "windows-1252", 0},
            {"windows-1252 punctuation under ISO-8859-1", BYTES("don\x92t"),
             "iso-8859-1", "don’t", "windows-1252", 0},
            {"UTF-8 under an ISO-8859-1 label", BYTES("Caf\xC3\xA9"),
             "ISO-8859-1", "Café", "utf-8", 2},
            {"UTF-8 under a windows-1251 declaration",
             BYTES("<?xml version=\"1.0\" encoding=\"windows-1251\"?>"
                   "\xD0\x9A\xD0\xB8\xD1\x97\xD0\xB2"),
             "", "<?xml version=\"1.0\" encoding=\"windows-1251\"?>Київ",
             "utf-8", 2},
            {"ASCII under ISO-8859-1 keeps the label", BYTES("plain text"),
             "iso-8859-1", "plain text", "windows-1252", 0},
            {"multi-byte label is not second-guessed", BYTES("\xC3\xA9"),
             "shift_jis", "ﾃｩ", "shift_jis", 0},
            {"JSON without BOM is UTF-8", BYTES("{\"t\":\"Крим\"}"), "",
             "{\"t\":\"Крим\"}", "utf-8", 0},
            {"invalid UTF-8 recovered as windows-1252",
             BYTES("caf\xE9 \x93ok\x94"), "", "café \u201Cok\u201D",
             "windows-1252", 1},
            {"invalid UTF-8 under an HTTP utf-8 label", BYTES("na\xEFve"),
             "utf-8", "naïve", "windows-1252", 1},
            {"windows-1251 0x98 replaced", BYTES("\xC0\x98\xC1"),
             "windows-1251", "А\uFFFDБ", "windows-1251", 0},
            {"UTF-16LE odd last byte replaced", BYTES("\xFF\xFE\x41\x00\x42"),
             "", "A\uFFFD", "utf-16le", 0},
            {"UTF-16LE lone surrogate replaced",
             BYTES("\xFF\xFE\x41\x00\x00\xDC\x42\x00"), "", "A\uFFFDB",
             "utf-16le", 0},
            {"Shift_JIS truncated at the end", BYTES("a\x82"), "shift_jis",
             "a\uFFFD", "shift_jis", 0},
            {"unknown label falls back to UTF-8", BYTES("Крим"), "x-no-such",
             "Крим", "utf-8", 1},
            {"label with an iconv suffix is not a name", BYTES("abc"),
             "utf-8//TRANSLIT", "abc", "utf-8", 1},
            {"empty document", "", 0, "", "", "utf-8", 0},
        };
        return cr_make_param_array(struct decode_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct decode_case *c, charset, decode)
{
        char *out = NULL, enc[32] = "unset";
        size_t out_len = 99;
        int recovered = -1;
        int err = nt_charset_to_utf8(c->in, c->in_len,
                                     c->http[0] ? c->http : NULL, 4096, &out,
                                     &out_len, enc, sizeof(enc), &recovered);

        cr_assert_eq(err, NT_OK, "%s: error %d", c->name, err);
        cr_assert_not_null(out, "%s: no output", c->name);
        cr_assert_eq(out_len, strlen(c->want), "%s: length %zu, want %zu",
                     c->name, out_len, strlen(c->want));
        cr_assert_str_eq(out, c->want, "%s: got \"%s\"", c->name, out);
        cr_assert_str_eq(enc, c->want_enc, "%s: encoding %s, want %s", c->name,
                         enc, c->want_enc);
        cr_assert_eq(recovered, c->want_recovered, "%s: recovered %d", c->name,
                     recovered);
        free(out);
}

/* The UTF-8 validator: what it must refuse sends the document down the
 * recovery path; what it must accept comes out unchanged. */
struct utf8_case {
        char name[40];
        char in[16];
        int valid;
};

ParameterizedTestParameters(charset, utf8_validation)
{
        static struct utf8_case cases[] = {
            {"ASCII", "plain", 1},
            {"two-byte", "\xC3\xA9", 1},
            {"three-byte", "\xE2\x82\xAC", 1},
            {"four-byte emoji", "\xF0\x9F\x98\x80", 1},
            {"largest code point", "\xF4\x8F\xBF\xBF", 1},
            {"overlong slash", "\xC0\xAF", 0},
            {"overlong three-byte", "\xE0\x80\xAF", 0},
            {"overlong four-byte", "\xF0\x80\x80\xAF", 0},
            {"surrogate", "\xED\xA0\x80", 0},
            {"past U+10FFFF", "\xF4\x90\x80\x80", 0},
            {"F5 lead byte", "\xF5\x80\x80\x80", 0},
            {"lone continuation", "a\x80", 0},
            {"truncated at the end", "ab\xE2\x82", 0},
            {"ASCII run then bad byte", "abcdefghijkl\xFF", 0},
        };
        return cr_make_param_array(struct utf8_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct utf8_case *c, charset, utf8_validation)
{
        char *out = NULL, enc[32];
        size_t out_len;
        int recovered = -1;
        int err = nt_charset_to_utf8(c->in, strlen(c->in), NULL, 64, &out,
                                     &out_len, enc, sizeof(enc), &recovered);

        cr_assert_eq(err, NT_OK, "%s: error %d", c->name, err);
        cr_assert_eq(recovered, !c->valid, "%s: recovered %d", c->name,
                     recovered);
        if (c->valid)
                cr_assert_str_eq(out, c->in, "%s: changed", c->name);
        free(out);
}

Test(charset, large_utf8_copied_unchanged)
{
        static const char unit[] = "Zaporizhzhia NPP / Запорізька АЕС 😀 ";
        size_t n = sizeof(unit) - 1, reps = 3000, len = n * reps, i;
        char *in = malloc(len), *out = NULL, enc[16];
        size_t out_len;
        int recovered;

        cr_assert_not_null(in);
        for (i = 0; i < reps; i++)
                memcpy(in + i * n, unit, n);
        cr_assert_eq(nt_charset_to_utf8(in, len, "utf-8", len, &out, &out_len,
                                        enc, sizeof(enc), &recovered),
                     NT_OK);
        cr_assert_eq(out_len, len);
        cr_assert(memcmp(out, in, len) == 0, "UTF-8 input changed");
        cr_assert_eq(out[len], '\0');
        cr_assert_eq(recovered, 0);
        cr_assert_str_eq(enc, "utf-8");
        free(out);
        free(in);
}

/* Converts len bytes of in, with no charset declared, and returns
 * whether any byte was recovered; *same says whether the output is the
 * input unchanged. */
static int utf8_recovered(const char *in, size_t len, bool *same)
{
        char *out = NULL, enc[16];
        size_t out_len;
        int recovered;

        cr_assert_eq(nt_charset_to_utf8(in, len, NULL, 256, &out, &out_len, enc,
                                        sizeof(enc), &recovered),
                     NT_OK);
        *same = out_len == len && memcmp(out, in, len) == 0;
        free(out);
        return recovered;
}

/* Blocks of ASCII and two-byte characters are validated 16 bytes at a
 * time, one that ends inside a character 15: a bad byte is found at any
 * offset from any alignment, and a text whose characters straddle every
 * block boundary is accepted unchanged. */
Test(charset, utf8_validation_at_every_offset)
{
        /* What replaces two bytes of the Cyrillic text: a byte that is
         * never UTF-8, a lone continuation, a lead without its second
         * byte, an overlong form, a surrogate (with its third byte). */
        static const char *const bad[] = {"\xFF\xD0", "\xB0\xD0",
                                          "\xD0"
                                          "a",
                                          "\xC0\xAF", "\xED\xA0"};
        char in[80];
        size_t pre, at, b, len;
        bool same;

        for (pre = 0; pre < 16; pre++) {
                /* pre ASCII bytes, then 30 Cyrillic letters. */
                memset(in, 'a', pre);
                for (at = 0; at < 30; at++)
                        memcpy(in + pre + 2 * at, "\xD0\xB6", 2);
                len = pre + 60;
                in[len] = '\0';
                cr_assert_eq(utf8_recovered(in, len, &same), 0,
                             "%zu ASCII bytes first", pre);
                cr_assert(same, "%zu ASCII bytes first: changed", pre);
                for (at = 0; at < 30; at++) {
                        for (b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
                                memcpy(in + pre + 2 * at, bad[b], 2);
                                cr_assert_eq(utf8_recovered(in, len, &same), 1,
                                             "bad sequence %zu at byte %zu "
                                             "accepted",
                                             b, pre + 2 * at);
                                memcpy(in + pre + 2 * at, "\xD0\xB6", 2);
                        }
                }
        }
}

/* The same with three-byte characters among ASCII, as English news puts
 * quotes and dashes (the 16-byte skips stop at them, and the scalar loop
 * reads them). Each character of the text is replaced in turn, at every
 * alignment, by the edge cases of the three-byte range (which must be
 * accepted) and by sequences that are not UTF-8 (which must not). */
Test(charset, utf8_three_byte_validation_at_every_offset)
{
        static const char *const good[] = {
            "\xE2\x80\x99", /* U+2019, the usual apostrophe */
            "\xE0\xA0\x80", /* U+0800, the first three-byte one */
            "\xED\x9F\xBF", /* U+D7FF, the last before the surrogates */
            "\xEE\x80\x80", /* U+E000, the first after them */
            "\xEF\xBF\xBD", /* U+FFFD */
            "a\xC3\xA9",    /* ASCII and a two-byte character */
        };
        static const char *const bad[] = {
            "\xE0\x9F\xBF", /* overlong */
            "\xED\xA0\x80", /* a surrogate */
            "\xE2\x80"
            "a", /* a lead without its third byte */
            "\xE2"
            "a\x99",        /* ... without its second */
            "\x80\x80\x80", /* lone continuations */
            "\xC0\xAF"
            "a",            /* an overlong two-byte form */
            "\xF0\x9F\x98", /* a four-byte lead with three bytes */
            "a\xFF"
            "a",            /* a byte that is never UTF-8 */
            "\xE2\x99\xC3", /* a two-byte lead as a continuation */
        };
        char in[96];
        size_t pre, at, k, len, unit = 4;
        bool same;

        for (pre = 0; pre < 16; pre++) {
                /* pre ASCII bytes, then 18 times "x" and U+2019. */
                memset(in, 'a', pre);
                for (at = 0; at < 18; at++)
                        memcpy(in + pre + unit * at, "x\xE2\x80\x99", unit);
                len = pre + unit * 18;
                in[len] = '\0';
                for (at = 0; at < 18; at++) {
                        char *c = in + pre + unit * at + 1;

                        for (k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
                                memcpy(c, good[k], 3);
                                cr_assert(utf8_recovered(in, len, &same) == 0 &&
                                              same,
                                          "good sequence %zu at byte %zu "
                                          "not accepted unchanged",
                                          k, (size_t)(c - in));
                        }
                        for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
                                memcpy(c, bad[k], 3);
                                cr_assert_eq(utf8_recovered(in, len, &same), 1,
                                             "bad sequence %zu at byte %zu "
                                             "accepted",
                                             k, (size_t)(c - in));
                        }
                        memcpy(c, "\xE2\x80\x99", 3);
                }
        }
}

struct limit_case {
        char name[40];
        char in[32];
        char http[16];
        size_t max_out;
        int err;
};

ParameterizedTestParameters(charset, max_out)
{
        static struct limit_case cases[] = {
            {"UTF-8 within the limit", "0123456789", "", 10, NT_OK},
            {"UTF-8 one byte over", "0123456789", "", 9, NT_ERR_LIMIT},
            /* Five Cyrillic letters: five bytes in, ten out. */
            {"iconv output fits", "\xC0\xC1\xC2\xC3\xC4", "windows-1251", 10,
             NT_OK},
            {"iconv output over", "\xC0\xC1\xC2\xC3\xC4", "windows-1251", 9,
             NT_ERR_LIMIT},
            {"recovery output over", "\xE9\xE9\xE9", "", 5, NT_ERR_LIMIT},
            {"nothing allowed", "a", "", 0, NT_ERR_LIMIT},
        };
        return cr_make_param_array(struct limit_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct limit_case *c, charset, max_out)
{
        char *out = (char *)"untouched", enc[16];
        size_t out_len = 7;
        int err = nt_charset_to_utf8(c->in, strlen(c->in),
                                     c->http[0] ? c->http : NULL, c->max_out,
                                     &out, &out_len, enc, sizeof(enc), NULL);

        cr_assert_eq(err, c->err, "%s: error %d, want %d", c->name, err,
                     c->err);
        if (err == NT_OK) {
                cr_assert_leq(out_len, c->max_out, "%s: %zu bytes", c->name,
                              out_len);
                free(out);
        } else {
                cr_assert_null(out, "%s: output left on error", c->name);
                cr_assert_eq(out_len, 0, "%s: length left on error", c->name);
        }
}

struct ct_case {
        char in[64];
        size_t size;
        int err;
        char want[32];
};

ParameterizedTestParameters(charset, content_type)
{
        static struct ct_case cases[] = {
            {"text/xml; charset=windows-1251", 32, NT_OK, "windows-1251"},
            {"text/html; Charset=\"UTF-8\"", 32, NT_OK, "UTF-8"},
            {"application/rss+xml;charset='koi8-r'", 32, NT_OK, "koi8-r"},
            {"text/xml; format=flowed; CHARSET = utf-8 ", 32, NT_OK, "utf-8"},
            {"text/xml;charset=\"iso-8859-1\";q=1", 32, NT_OK, "iso-8859-1"},
            {"text/xml", 32, NT_ERR_NOTFOUND, ""},
            {"text/xml; charset=", 32, NT_ERR_NOTFOUND, ""},
            {"text/xml; charset=\"\"", 32, NT_ERR_NOTFOUND, ""},
            {"text/xml; mycharset=utf-8", 32, NT_ERR_NOTFOUND, ""},
            {"text/xml; charset=windows-1251", 8, NT_ERR_LIMIT, ""},
        };
        return cr_make_param_array(struct ct_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct ct_case *c, charset, content_type)
{
        char buf[32] = "";
        int err = nt_charset_from_content_type(c->in, buf, c->size);

        cr_assert_eq(err, c->err, "\"%s\": error %d, want %d", c->in, err,
                     c->err);
        if (err == NT_OK)
                cr_assert_str_eq(buf, c->want, "\"%s\": got \"%s\"", c->in,
                                 buf);
}

Test(charset, content_type_null)
{
        char buf[16];

        cr_assert_eq(nt_charset_from_content_type(NULL, buf, sizeof(buf)),
                     NT_ERR_NOTFOUND);
}
