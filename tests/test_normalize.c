/* Normalisation (NFKC, case folding, apostrophes and dashes, diacritics
 * kept) and tokenisation with offsets into the original text. */
#include "common/err.h"
#include "consumer/normalize.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
