/* Normalisation (NFKC, case folding, apostrophes and dashes, diacritics
 * kept) and tokenisation with offsets into the original text. */
#include "common/err.h"
#include "consumer/normalize.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

struct norm_case {
        char name[32];
        char in[64];
        char want[64];
};

ParameterizedTestParameters(normalize, text)
{
        static struct norm_case cases[] = {
            {"fullwidth", "\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3", "abc"},
            {"ligature fi", "\xEF\xAC\x81le", "file"},
            {"sharp s folds",
             "Stra\xC3\x9F"
             "e",
             "strasse"},
            {"latin upper", "ZNPP IAEA", "znpp iaea"},
            {"ukrainian upper", "ЗАПОРІЖЖЯ ЇЖАК ҐАНОК", "запоріжжя їжак ґанок"},
            {"russian upper", "ЗАПОРОЖЬЕ ЭНЕРГОДАР", "запорожье энергодар"},
            {"yo kept", "ЁЛКА", "ёлка"},
            {"short i composes", "\xD0\xB8\xCC\x86", "й"},
            {"yi composes", "\xD1\x96\xCC\x88", "ї"},
            {"right quote", "п\xE2\x80\x99ять", "п'ять"},
            {"modifier apostrophe", "п\xCA\xBCять", "п'ять"},
            {"left quote", "\xE2\x80\x98x", "'x"},
            {"backtick", "п`ять", "п'ять"},
            {"prime", "п\xE2\x80\xB2ять", "п'ять"},
            {"em dash",
             "a\xE2\x80\x94"
             "b",
             "a-b"},
            {"en dash",
             "1\xE2\x80\x93"
             "2",
             "1-2"},
            {"minus sign",
             "\xE2\x88\x92"
             "5",
             "-5"},
            {"non-breaking hyphen",
             "a\xE2\x80\x91"
             "b",
             "a-b"},
            {"soft hyphen dropped", "Zapo\xC2\xADrizhzhia", "zaporizhzhia"},
        };
        return cr_make_param_array(struct norm_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct norm_case *c, normalize, text)
{
        char *out = NULL;
        size_t len = 0;
        int err = nt_normalize_text(c->in, strlen(c->in), &out, &len);

        cr_assert_eq(err, NT_OK, "%s: error %d", c->name, err);
        cr_assert_str_eq(out, c->want, "%s: got \"%s\", want \"%s\"", c->name,
                         out, c->want);
        cr_assert_eq(len, strlen(c->want), "%s: length %zu", c->name, len);
        free(out);
}

Test(normalize, diacritics_are_kept)
{
        const char *pairs[][2] = {
            {"й", "и"}, {"ї", "і"}, {"ё", "е"}, {"ґ", "г"}};
        size_t i;

        for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
                char *a, *b;
                size_t la, lb;

                cr_assert_eq(nt_normalize_text(pairs[i][0], strlen(pairs[i][0]),
                                               &a, &la),
                             0);
                cr_assert_eq(nt_normalize_text(pairs[i][1], strlen(pairs[i][1]),
                                               &b, &lb),
                             0);
                cr_assert_str_neq(a, b, "%s and %s must stay different",
                                  pairs[i][0], pairs[i][1]);
                free(a);
                free(b);
        }
}

Test(normalize, invalid_utf8_is_rejected_by_text_normaliser)
{
        char *out = NULL;
        size_t len;

        cr_assert_eq(nt_normalize_text("a\xFF", 2, &out, &len), NT_ERR_INVALID);
        cr_assert_null(out);
}

/* Tokens as "norm@start-end" joined by spaces, for compact tables. */
static void describe(const struct nt_tokens *t, char *buf, size_t size)
{
        size_t i, used = 0;

        buf[0] = '\0';
        for (i = 0; i < t->n && used < size; i++)
                used += (size_t)snprintf(
                    buf + used, size - used, "%s%.*s@%u-%u", i ? " " : "",
                    (int)t->tok[i].norm_len, nt_tokens_norm(t, i),
                    t->tok[i].start, t->tok[i].end);
}

struct tok_case {
        char name[40];
        char in[96];
        char want[256];
};

ParameterizedTestParameters(normalize, tokens)
{
        static struct tok_case cases[] = {
            {"plain", "Hello, world!", "hello@0-5 world@7-12"},
            {"possessive dropped", "Russia's plan", "russia@0-6 plan@9-13"},
            {"curly possessive", "Zelenskyy\xE2\x80\x99s visit",
             "zelenskyy@0-9 visit@14-19"},
            {"contraction kept", "don't", "don't@0-5"},
            {"ukrainian apostrophe kept", "п'ять років",
             "п'ять@0-9 років@10-20"},
            {"ukrainian curly apostrophe", "п\xE2\x80\x99ять", "п'ять@0-11"},
            {"apostrophe at edges splits", "'quoted'", "quoted@1-7"},
            {"hyphen splits", "Mar-a-Lago", "mar@0-3 a@4-5 lago@6-10"},
            {"dash splits", "15\xE2\x80\x94year", "15@0-2 year@5-9"},
            {"thousands stay one number", "1,000 troops",
             "1,000@0-5 troops@6-12"},
            {"decimal stays one number", "3.5 km", "3.5@0-3 km@4-6"},
            {"sentence dot splits", "end. Next", "end@0-3 next@5-9"},
            {"digits and letters", "F-16s", "f@0-1 16s@2-5"},
            {"soft hyphen joins", "Zapo\xC2\xADrizhzhia", "zaporizhzhia@0-14"},
            {"decomposed short i", "\xD0\xB8\xCC\x86од", "йод@0-8"},
            {"cyrillic upper", "ЗАЕС, ЗАЭС", "заес@0-8 заэс@10-18"},
            {"invalid byte separates",
             "ab\xFF"
             "cd",
             "ab@0-2 cd@3-5"},
            {"punctuation only", "-- ... !!", ""},
            {"accented latin", "Café", "café@0-5"},
        };
        return cr_make_param_array(struct tok_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct tok_case *c, normalize, tokens)
{
        struct nt_tokens t;
        char got[512];
        int err;

        nt_tokens_init(&t, 1000);
        err = nt_tokens_add(&t, NT_FIELD_BODY, c->in, strlen(c->in));
        cr_assert_eq(err, NT_OK, "%s: error %d", c->name, err);
        describe(&t, got, sizeof(got));
        cr_assert_str_eq(got, c->want, "%s: got \"%s\", want \"%s\"", c->name,
                         got, c->want);
        nt_tokens_free(&t);
}

Test(normalize, flags_say_script_and_language_letters)
{
        struct nt_tokens t;
        const char *text = "NATO Київ Москва объект 2025 Γειά";

        nt_tokens_init(&t, 100);
        cr_assert_eq(nt_tokens_add(&t, NT_FIELD_BODY, text, strlen(text)), 0);
        cr_assert_eq(t.n, 6);
        cr_assert_eq(t.tok[0].flags, NT_TOK_LATIN);
        cr_assert_eq(t.tok[1].flags, NT_TOK_CYRILLIC | NT_TOK_UK);
        cr_assert_eq(t.tok[2].flags, NT_TOK_CYRILLIC);
        cr_assert_eq(t.tok[3].flags, NT_TOK_CYRILLIC | NT_TOK_RU);
        cr_assert_eq(t.tok[4].flags, NT_TOK_NUMBER);
        cr_assert(t.tok[5].flags & NT_TOK_OTHER);
        nt_tokens_free(&t);
}

Test(normalize, fields_keep_their_own_offsets)
{
        struct nt_text_fields in = {{"Title here", NULL, "Body text"},
                                    {10, 0, 9}};
        struct nt_tokens t;

        nt_tokens_init(&t, 100);
        cr_assert_eq(nt_tokens_add_fields(&t, &in), 0);
        cr_assert_eq(t.n, 4);
        cr_assert_eq(t.first[NT_FIELD_LEAD], 2);
        cr_assert_eq(t.first[NT_FIELD_BODY], 2);
        cr_assert_eq(t.first[NT_FIELD_COUNT], 4);
        cr_assert_eq(t.tok[2].field, NT_FIELD_BODY);
        cr_assert_eq(t.tok[2].start, 0, "body offsets restart at 0");
        nt_tokens_free(&t);
}

/* Sentence numbers per token, as a string of digits: "0011" is two
 * sentences of two words each. */
struct sent_case {
        char name[32];
        char body[120];
        char want[40];
};

ParameterizedTestParameters(normalize, sentences)
{
        static struct sent_case cases[] = {
            {"en full stop", "Kyiv agreed. Moscow did not.", "00111"},
            {"en u.s.", "The U.S. President spoke. Then", "000001"},
            {"en mr. and gen.", "Mr. Smith met Gen. Jones today. Yes",
             "0000001"},
            {"en initial", "J. Smith said so. Then", "00001"},
            {"en question", "Why? Because.", "01"},
            {"en exclamation lower", "Stop! now", "01"},
            {"en ellipsis", "Wait\xE2\x80\xA6 More", "01"},
            {"en quote", "\"We agree.\" He left.", "0011"},
            {"en lower-case after dot", "see rbc.ua for more", "00000"},
            {"en number dot", "In 2022. Then", "001"},
            {"en decimals", "Up 3.5 percent. Down", "0001"},
            {"uk full stop", "Київ погодився. Москва ні.", "0011"},
            {"uk r.", "У 2014 р. Крим анексували. Далі", "000001"},
            {"uk tys.", "Понад 5 тис. осіб. Ще", "00001"},
            {"ru g. and t.e.", "В 2014 г. т.е. давно. Потом", "0000001"},
            {"ru obl.", "Курской обл. Россия", "000"},
            {"blank line", "one\n\ntwo", "01"},
            {"wrapped line", "one\ntwo", "00"},
            {"line break", "One\nTwo", "01"},
            {"comma and line break", "One,\nTwo", "00"},
            {"two marks", "Really?! Yes", "01"},
            {"number then full stop", "Up 3.5. Then", "001"},
            {"dot after a space", "Done .Next", "01"},
            {"long gap without a mark", "One \"(Two", "00"},
        };
        return cr_make_param_array(struct sent_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct sent_case *c, normalize, sentences)
{
        struct nt_text_fields in = {{NULL, NULL, c->body},
                                    {0, 0, strlen(c->body)}};
        struct nt_tokens t;
        uint32_t sent[64];
        char got[65];
        size_t i, n;

        nt_tokens_init(&t, 64);
        cr_assert_eq(nt_tokens_add_fields(&t, &in), 0);
        n = nt_tokens_sentences(&t, &in, sent, NULL);
        for (i = 0; i < t.n; i++)
                got[i] = (char)('0' + sent[i]);
        got[t.n] = '\0';
        cr_assert_str_eq(got, c->want, "%s: sentences \"%s\", want \"%s\"",
                         c->name, got, c->want);
        cr_assert_eq(n, t.n ? (size_t)(got[t.n - 1] - '0') + 1 : 0, "%s",
                     c->name);
        nt_tokens_free(&t);
}

Test(normalize, sentences_restart_at_each_field)
{
        struct nt_text_fields in = {{"Title words", "Lead", "Body one"},
                                    {11, 4, 8}};
        struct nt_tokens t;
        uint32_t sent[8], first[9];

        nt_tokens_init(&t, 100);
        cr_assert_eq(nt_tokens_add_fields(&t, &in), 0);
        cr_assert_eq(nt_tokens_sentences(&t, &in, sent, first), 3);
        cr_assert_eq(first[1], 2, "the lead starts at its first token");
        cr_assert_eq(first[3], 5, "then the token count");
        cr_assert_eq(sent[1], 0);
        cr_assert_eq(sent[2], 1, "the lead is a new sentence");
        cr_assert_eq(sent[3], 2, "the body is a new sentence");
        nt_tokens_free(&t);
}

Test(normalize, token_limit_is_an_error)
{
        struct nt_tokens t;
        const char *text = "one two three four";

        nt_tokens_init(&t, 3);
        cr_assert_eq(nt_tokens_add(&t, NT_FIELD_BODY, text, strlen(text)),
                     NT_ERR_LIMIT);
        nt_tokens_free(&t);
}

Test(normalize, overlong_token_is_kept_but_not_normalised)
{
        struct nt_tokens t;
        char text[400];

        memset(text, 'a', 300);
        memcpy(text + 300, " ok", 4);
        nt_tokens_init(&t, 100);
        cr_assert_eq(nt_tokens_add(&t, NT_FIELD_BODY, text, strlen(text)), 0);
        cr_assert_eq(t.n, 2);
        cr_assert(t.tok[0].flags & NT_TOK_LONG);
        cr_assert_eq(t.tok[0].norm_len, 0);
        cr_assert_eq(t.tok[0].end, 300);
        cr_assert_eq(t.tok[1].norm_len, 2);
        nt_tokens_free(&t);
}

Test(normalize, reuse_after_reset)
{
        struct nt_tokens t;
        int i;

        nt_tokens_init(&t, 100);
        for (i = 0; i < 3; i++) {
                nt_tokens_reset(&t);
                cr_assert_eq(
                    nt_tokens_add(&t, NT_FIELD_TITLE, "Ａ б", strlen("Ａ б")),
                    0);
                cr_assert_eq(t.n, 2);
                cr_assert_eq(memcmp(nt_tokens_norm(&t, 0), "a", 1), 0);
        }
        nt_tokens_free(&t);
}

/* ---- properties on random text ----
 * Text is drawn from pieces that exercise every path of the tokeniser:
 * ASCII and basic Cyrillic letters of both cases (the plain scan, 16 bytes
 * at a time where it can), long runs, joiners (apostrophes, . and ,
 * between digits), letters outside the basic block, combining marks, soft
 * hyphens, non-ASCII separators and invalid bytes. Each input lies in a
 * buffer of exactly its length, so a read past its end shows under ASan. */

static const char *const pieces[] = {
    "a",
    "Z",
    "q",
    "5",
    "0",
    " ",
    " ",
    ".",
    ",",
    "'",
    "`",
    "'s",
    "’",
    "’s",
    "й",
    "Ї",
    "ґ",
    "Ґ",
    "Ж",
    "ж",
    "Р",
    "я",
    "Ё",
    "ё",
    "Э",
    "ы",
    "І",
    "є",
    "Ѐ",
    "ѐ",
    "Ѡ",
    "\xC2\xAD",
    "\xCC\x86",
    "«",
    "—",
    "é",
    "ß",
    "\xC2\xA0",
    "\xFF",
    "\xD0",
    "\xD1",
    "\x80",
    "\xA5",
    "\xBF",
    "ﬁ",
    "Γ",
    "2.5",
    "1,000",
    "-",
    "\n",
    "Zaporizhzhia",
    "ЗАПОРІЖЖЯ",
    "энергоблоков",
    "abcdefghijklmnopqrstu",
    "АБВГДЕЖЗИКЛМНОПРСТУФ",
};

static uint64_t prop_rng(uint64_t *st)
{
        *st ^= *st << 13;
        *st ^= *st >> 7;
        *st ^= *st << 17;
        return *st;
}

/* True when the code point is a letter, number or mark: such characters
 * belong to tokens. */
static bool is_wordish(int32_t cp)
{
        switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
        case UTF8PROC_CATEGORY_ME:
                return true;
        default:
                return false;
        }
}

/* The code point at text[i] (-1 for an invalid byte or the end) and its
 * length in bytes (at least 1). */
static size_t cp_at(const char *text, size_t len, size_t i, int32_t *cp)
{
        utf8proc_ssize_t n;

        *cp = -1;
        if (i >= len)
                return 1;
        n = utf8proc_iterate((const utf8proc_uint8_t *)text + i,
                             (utf8proc_ssize_t)(len - i), cp);
        if (n < 1) {
                *cp = -1;
                return 1;
        }
        return (size_t)n;
}

/* The code point that ends at text[i] (exclusive), or -1. */
static int32_t cp_before(const char *text, size_t i)
{
        size_t back;
        int32_t cp;

        for (back = 1; back <= 4 && back <= i; back++) {
                if (((unsigned char)text[i - back] & 0xC0) == 0x80)
                        continue;
                if (cp_at(text, i, i - back, &cp) == back)
                        return cp;
                return -1;
        }
        return -1;
}

static bool is_apostrophe(int32_t cp)
{
        return cp == '\'' || cp == '`' || cp == 0x2019 || cp == 0x02BC ||
               cp == 0x2018 || cp == 0x2032;
}

static bool is_digit(int32_t cp)
{
        return cp >= 0 && utf8proc_category(cp) == UTF8PROC_CATEGORY_ND;
}

static bool is_letter_or_mark(int32_t cp)
{
        return cp >= 0 && is_wordish(cp) && !is_digit(cp);
}

/* Checks that text[from, to) holds no letter, number or mark, except an
 * "s" at allowed_s (the rest of a possessive); returns the offending
 * offset or -1. */
static long gap_offender(const char *text, size_t from, size_t to,
                         size_t allowed_s)
{
        size_t i = from;

        while (i < to) {
                int32_t cp;
                size_t n = cp_at(text, to, i, &cp);

                if (cp >= 0 && is_wordish(cp) && !(cp == 's' && i == allowed_s))
                        return (long)i;
                i += n;
        }
        return -1;
}

/* Where a token ends, nothing that joins may follow: an apostrophe
 * between a letter and a word character continues the word (unless it
 * starts the possessive 's of a Latin word, which the token leaves out),
 * and . or , between two digits continues the number. Returns the offset
 * of the "s" a possessive leaves out, SIZE_MAX when there is none, and
 * fails the test when the token was cut at a joiner. */
static size_t check_token_end(const char *text, size_t len,
                              const struct nt_token *tok, int round)
{
        int32_t last = cp_before(text, tok->end), at, next, after;
        size_t n_at = cp_at(text, len, tok->end, &at), n_next;

        n_next = cp_at(text, len, tok->end + n_at, &next);
        cp_at(text, len, tok->end + n_at + n_next, &after);
        if ((at == '.' || at == ',') && is_digit(last) && is_digit(next))
                cr_assert_fail("round %d: a number is cut at %u", round,
                               tok->end);
        if (is_apostrophe(at) && is_letter_or_mark(last) && next >= 0 &&
            is_wordish(next)) {
                cr_assert(next == 's' && !(after >= 0 && is_wordish(after)) &&
                              !(tok->flags & (NT_TOK_CYRILLIC | NT_TOK_OTHER)),
                          "round %d: a word is cut at the apostrophe at %u",
                          round, tok->end);
                return tok->end + n_at;
        }
        return SIZE_MAX;
}

Test(normalize, random_text_tokens_keep_their_properties)
{
        struct nt_tokens t;
        uint64_t st = 0x2545F4914F6CDD1Dull;
        int round;

        nt_tokens_init(&t, 100000);
        for (round = 0; round < 3000; round++) {
                char tmp[4096];
                size_t len = 0, k, n_pieces = 1 + prop_rng(&st) % 60;
                char *text;
                size_t prev_end = 0, allowed_s = SIZE_MAX;

                for (k = 0; k < n_pieces; k++) {
                        const char *p =
                            pieces[prop_rng(&st) %
                                   (sizeof(pieces) / sizeof(pieces[0]))];
                        size_t l = strlen(p);

                        memcpy(tmp + len, p, l);
                        len += l;
                }
                text = malloc(len ? len : 1);
                cr_assert_not_null(text);
                memcpy(text, tmp, len);
                nt_tokens_reset(&t);
                cr_assert_eq(nt_tokens_add(&t, NT_FIELD_BODY, text, len), 0,
                             "round %d", round);
                for (k = 0; k < t.n; k++) {
                        const struct nt_token *tok = &t.tok[k];
                        char *want = NULL;
                        size_t want_len = 0, j;
                        long bad;
                        bool digits_only = true;

                        cr_assert(tok->start < tok->end && tok->end <= len,
                                  "round %d: token %zu spans %u-%u of %zu",
                                  round, k, tok->start, tok->end, len);
                        cr_assert(k == 0 || tok->start > prev_end,
                                  "round %d: token %zu starts at %u, the one "
                                  "before ends at %zu",
                                  round, k, tok->start, prev_end);
                        bad =
                            gap_offender(text, prev_end, tok->start, allowed_s);
                        cr_assert(bad < 0,
                                  "round %d: a word character at %ld lies "
                                  "outside every token",
                                  round, bad);
                        allowed_s = check_token_end(text, len, tok, round);
                        prev_end = tok->end;
                        if (tok->flags & NT_TOK_LONG) {
                                cr_assert_gt(tok->end - tok->start,
                                             NT_TOKEN_MAX_BYTES,
                                             "round %d: token %u-%u is long",
                                             round, tok->start, tok->end);
                                continue;
                        }
                        /* The normalised form is the text normaliser's
                         * output for the token's span. */
                        cr_assert_eq(nt_normalize_text(text + tok->start,
                                                       tok->end - tok->start,
                                                       &want, &want_len),
                                     0, "round %d: token %u-%u", round,
                                     tok->start, tok->end);
                        cr_assert(
                            want_len == tok->norm_len &&
                                !memcmp(want, nt_tokens_norm(&t, k), want_len),
                            "round %d: token %u-%u is \"%.*s\", the "
                            "normaliser says \"%s\"",
                            round, tok->start, tok->end, (int)tok->norm_len,
                            nt_tokens_norm(&t, k), want);
                        for (j = 0; j < want_len; j++)
                                if (!strchr("0123456789.,", want[j]))
                                        digits_only = false;
                        cr_assert_eq(!!(tok->flags & NT_TOK_NUMBER),
                                     digits_only,
                                     "round %d: \"%s\" has flags %#x", round,
                                     want, tok->flags);
                        cr_assert_eq(!!(tok->flags & NT_TOK_UK),
                                     strstr(want, "і") || strstr(want, "ї") ||
                                         strstr(want, "є") || strstr(want, "ґ"),
                                     "round %d: \"%s\" has flags %#x", round,
                                     want, tok->flags);
                        cr_assert_eq(!!(tok->flags & NT_TOK_RU),
                                     strstr(want, "ы") || strstr(want, "э") ||
                                         strstr(want, "ъ") || strstr(want, "ё"),
                                     "round %d: \"%s\" has flags %#x", round,
                                     want, tok->flags);
                        free(want);
                }
                cr_assert(gap_offender(text, prev_end, len, allowed_s) < 0,
                          "round %d: a word character after the last token",
                          round);
                free(text);
        }
        nt_tokens_free(&t);
}
