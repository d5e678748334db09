/* Enrichment: language detection, SimHash fingerprints, facts. */
#include "common/err.h"
#include "consumer/enrich.h"
#include "consumer/normalize.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static void tokenize(struct nt_tokens *t, const char *body)
{
        nt_tokens_init(t, 100000);
        cr_assert_eq(nt_tokens_add(t, NT_FIELD_BODY, body, strlen(body)), 0);
}

/* An enricher and the tokens of one body text, for one test. */
struct subject {
        nt_enrich_t *e;
        struct nt_tokens t;
};

static void subject_init(struct subject *s, const char *body)
{
        s->e = nt_enrich_new();
        cr_assert_not_null(s->e);
        tokenize(&s->t, body);
}

static void subject_free(struct subject *s)
{
        nt_tokens_free(&s->t);
        nt_enrich_destroy(s->e);
}

struct lang_case {
        char name[32];
        char text[200];
        enum nt_lang want;
};

ParameterizedTestParameters(enrich, language)
{
        static struct lang_case cases[] = {
            {"english",
             "The United States offered Ukraine guarantees that "
             "would last for fifteen years.",
             NT_LANG_EN},
            {"english title", "Talks on the future of the plant", NT_LANG_EN},
            {"ukrainian",
             "США запропонували Україні гарантії безпеки, які "
             "діятимуть п'ятнадцять років.",
             NT_LANG_UK},
            {"ukrainian short", "Зеленський і Макрон", NT_LANG_UK},
            {"russian",
             "США предложили Украине гарантии безопасности, "
             "которые будут действовать пятнадцать лет.",
             NT_LANG_RU},
            {"russian short", "Путин и Трамп", NT_LANG_RU},
            {"russian letters", "объект под охраной", NT_LANG_RU},
            {"german",
             "Die Vereinigten Staaten bieten der Ukraine "
             "Sicherheitsgarantien an.",
             NT_LANG_OTHER},
            {"greek", "Γειά σου κόσμε", NT_LANG_OTHER},
            {"cyrillic without clues", "Москва Київ", NT_LANG_UK},
            {"bulgarian-like", "Путин Москва", NT_LANG_OTHER},
            {"empty", "", NT_LANG_OTHER},
        };
        return cr_make_param_array(struct lang_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct lang_case *c, enrich, language)
{
        struct subject s;
        enum nt_lang got;

        subject_init(&s, c->text);
        got = nt_enrich_language(s.e, &s.t);
        cr_assert_eq(got, c->want, "%s: got %s, want %s", c->name,
                     nt_lang_name(got), nt_lang_name(c->want));
        subject_free(&s);
}

static uint64_t fingerprint(const char *text)
{
        struct nt_tokens t;
        uint64_t h;

        tokenize(&t, text);
        h = nt_enrich_simhash(&t);
        nt_tokens_free(&t);
        return h;
}

static const char story[] =
    "The United States has offered Ukraine security guarantees lasting "
    "fifteen years as part of a framework to end the war, the Ukrainian "
    "president said after talks in Florida. He welcomed the offer but said "
    "a commitment of fifty years would deter a future attack far better. "
    "The guarantees would include monitoring of a ceasefire and the "
    "presence of partner forces, although details remain secret. European "
    "allies are due to meet in Paris next month to settle what each "
    "country contributes, and any deal would need approval by Congress.";

Test(enrich, simhash_near_duplicates_are_close)
{
        char edited[sizeof(story) + 64];
        uint64_t a = fingerprint(story), b, c, d;
        const char *p;

        /* The same story through another feed: a changed word, a
         * different case, other punctuation. */
        snprintf(edited, sizeof(edited), "%s", story);
        p = strstr(edited, "Florida");
        memcpy((char *)p, "Miami, ", 7);
        b = fingerprint(edited);
        c = fingerprint("THE UNITED STATES HAS OFFERED UKRAINE SECURITY "
                        "GUARANTEES LASTING FIFTEEN YEARS AS PART OF A "
                        "FRAMEWORK TO END THE WAR");
        d = fingerprint("The United States has offered Ukraine security "
                        "guarantees lasting fifteen years as part of a "
                        "framework to end the war!");
        cr_assert_leq(nt_enrich_hamming(a, b), 8,
                      "one word changed: %d bits apart",
                      nt_enrich_hamming(a, b));
        cr_assert_eq(nt_enrich_hamming(c, d), 0,
                     "case and punctuation do not change the fingerprint");
}

Test(enrich, simhash_unrelated_texts_are_far)
{
        uint64_t a = fingerprint(story);
        uint64_t b = fingerprint(
            "Water levels in the cooling pond of the nuclear plant have "
            "fallen since the dam downstream collapsed, inspectors said on "
            "Friday. The reactors need less water in cold shutdown, but the "
            "margin is shrinking and repairs to the last power line are "
            "delayed by shelling nearby. Staff numbers at the site have "
            "halved since the occupation began, and the operator warned "
            "that spare parts are running out.");
        uint64_t c = fingerprint("Окупанти обстріляли місто вночі, "
                                 "пошкоджено житлові будинки та школу.");

        cr_assert_geq(nt_enrich_hamming(a, b), 16, "%d bits apart",
                      nt_enrich_hamming(a, b));
        cr_assert_geq(nt_enrich_hamming(a, c), 16, "%d bits apart",
                      nt_enrich_hamming(a, c));
        cr_assert_eq(fingerprint(""), 0);
}

struct fact_case {
        char name[40];
        char text[160];
        int n; /* facts expected (0 or 1) */
        enum nt_fact_type type;
        double value;
        char unit[16];
        char span[40]; /* the original text of the fact */
};

ParameterizedTestParameters(enrich, facts)
{
        static struct fact_case cases[] = {
            {"digits years", "guarantees lasting 15 years now", 1,
             NT_FACT_DURATION, 15, "year", "15 years"},
            {"hyphenated", "a 50-year guarantee", 1, NT_FACT_DURATION, 50,
             "year", "50-year"},
            {"en dash", "a 50\xE2\x80\x93year guarantee", 1, NT_FACT_DURATION,
             50, "year", "50\xE2\x80\x93year"},
            {"number word", "all six reactors stopped", 1, NT_FACT_COUNT, 6,
             "reactor", "six reactors"},
            {"word between", "six nuclear reactors", 1, NT_FACT_COUNT, 6,
             "reactor", "six nuclear reactors"},
            {"tens and ones", "twenty-five years of guarantees", 1,
             NT_FACT_DURATION, 25, "year", "twenty-five years"},
            {"months", "within 18 months", 1, NT_FACT_DURATION, 18, "month",
             "18 months"},
            {"ukrainian years", "гарантії на 15 років", 1, NT_FACT_DURATION, 15,
             "year", "15 років"},
            {"ukrainian word", "на п'ятнадцять років", 1, NT_FACT_DURATION, 15,
             "year", "п'ятнадцять років"},
            {"ukrainian adjective", "15-річні гарантії", 1, NT_FACT_DURATION,
             15, "year", "15-річні"},
            {"ukrainian units", "шість енергоблоків", 1, NT_FACT_COUNT, 6,
             "unit", "шість енергоблоків"},
            {"russian years", "гарантии на 50 лет", 1, NT_FACT_DURATION, 50,
             "year", "50 лет"},
            {"russian god", "через 2 года", 1, NT_FACT_DURATION, 2, "year",
             "2 года"},
            {"russian reactors", "шесть реакторов", 1, NT_FACT_COUNT, 6,
             "reactor", "шесть реакторов"},
            {"thousands", "1,500 troops", 1, NT_FACT_COUNT, 1500, "soldier",
             "1,500 troops"},
            {"decimal comma", "1,5 року", 0, NT_FACT_DURATION, 0, "", ""},
            {"date is not a duration", "у 2014 році та 2022 року", 0,
             NT_FACT_DURATION, 0, "", ""},
            {"calendar year", "in 2014 years ago", 0, NT_FACT_DURATION, 0, "",
             ""},
            {"bare number", "about 15 of them", 0, NT_FACT_DURATION, 0, "", ""},
        };
        return cr_make_param_array(struct fact_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct fact_case *c, enrich, facts)
{
        struct subject s;
        struct nt_fact_anchor all;
        struct nt_fact out[4];
        size_t n;

        subject_init(&s, c->text);
        all.tok_start = 0;
        all.tok_end = s.t.n ? (uint32_t)s.t.n - 1 : 0;
        n = nt_enrich_facts(s.e, &s.t, &all, 1, out, 4);
        cr_assert_eq(n, (size_t)c->n, "%s: %zu facts, want %d", c->name, n,
                     c->n);
        if (n) {
                cr_assert_eq(out[0].type, c->type, "%s", c->name);
                cr_assert_float_eq(out[0].value, c->value, 1e-9, "%s: value %g",
                                   c->name, out[0].value);
                cr_assert_str_eq(out[0].unit, c->unit, "%s", c->name);
                cr_assert_eq(out[0].end - out[0].start, strlen(c->span),
                             "%s: span %u-%u", c->name, out[0].start,
                             out[0].end);
                cr_assert_eq(
                    memcmp(c->text + out[0].start, c->span, strlen(c->span)), 0,
                    "%s: span text", c->name);
        }
        subject_free(&s);
}

Test(enrich, facts_only_near_anchors_and_once_each)
{
        struct subject s;
        struct nt_fact_anchor a = {0, 0};
        struct nt_fact out[4];
        char text[600] = "guarantees for 15 years and again 15 years";
        size_t n, i, used = strlen(text);

        /* Far beyond the window: 40 filler words, then a fact. */
        for (i = 0; i < 40; i++)
                used += (size_t)snprintf(text + used, sizeof(text) - used,
                                         " filler");
        snprintf(text + used, sizeof(text) - used, " and 50 years");
        subject_init(&s, text);
        n = nt_enrich_facts(s.e, &s.t, &a, 1, out, 4);
        cr_assert_eq(n, 1, "15 years once; 50 years is too far: %zu", n);
        cr_assert_float_eq(out[0].value, 15, 1e-9);
        subject_free(&s);
}

/* The SimHash as its header defines it, one vote per feature and bit, the
 * slow way: the module counts the votes in byte lanes, and must agree. */
static uint64_t simhash_by_votes(const struct nt_tokens *t)
{
        int64_t v[64] = {0};
        uint64_t prev = 0, h, feature, out = 0, pair[2];
        size_t i, n = 0;
        int b, have_prev = 0;

        for (i = 0; i < t->n; i++) {
                if (i > 0 && t->tok[i].field != t->tok[i - 1].field)
                        have_prev = 0;
                if (t->tok[i].norm_len == 0)
                        continue;
                h = XXH3_64bits(nt_tokens_norm(t, i), t->tok[i].norm_len);
                pair[0] = prev;
                pair[1] = h;
                feature = have_prev ? XXH3_64bits(pair, sizeof(pair)) : h;
                prev = h;
                have_prev = 1;
                for (b = 0; b < 64; b++)
                        v[b] += (feature >> b) & 1 ? 1 : -1;
                n++;
        }
        for (b = 0; b < 64; b++)
                if (n && v[b] > 0)
                        out |= (uint64_t)1 << b;
        return out;
}

Test(enrich, simhash_counts_every_vote_of_a_long_text)
{
        /* Lengths around and past the 255 features a byte lane holds. */
        static const size_t words[] = {1, 254, 255, 256, 600, 5000};
        size_t k, i, used;
        char *text;

        for (k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
                struct nt_tokens t;

                text = malloc(words[k] * 12 + 1);
                cr_assert_not_null(text);
                used = 0;
                for (i = 0; i < words[k]; i++)
                        used += (size_t)snprintf(text + used, 13, "w%zu ",
                                                 (i * 7919) % 1000);
                tokenize(&t, text);
                cr_assert_eq(t.n, words[k]);
                cr_assert_eq(nt_enrich_simhash(&t), simhash_by_votes(&t),
                             "%zu words", words[k]);
                nt_tokens_free(&t);
                free(text);
        }
}

/* nt_enrich_text() is the one pass the classifier runs: the language of
 * each case of the language table and the fingerprint by votes, over
 * several fields (shingles stop at a field's end) and long texts. */
Test(enrich, text_pass_gives_language_and_fingerprint)
{
        static const struct {
                const char *title, *body;
                enum nt_lang want;
        } cases[] = {
            {"Talks on the plant", story, NT_LANG_EN},
            {"", "США запропонували Україні гарантії безпеки на 15 років.",
             NT_LANG_UK},
            {"Путин и Трамп", "объект под охраной", NT_LANG_RU},
            {"Γειά σου", "Die Vereinigten Staaten bieten Garantien an.",
             NT_LANG_OTHER},
            {"", "", NT_LANG_OTHER},
        };
        nt_enrich_t *e = nt_enrich_new();
        size_t k, i, used;
        char *text;

        cr_assert_not_null(e);
        for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
                struct nt_tokens t;
                enum nt_lang lang;
                uint64_t fp;

                nt_tokens_init(&t, 100000);
                cr_assert_eq(nt_tokens_add(&t, NT_FIELD_TITLE, cases[k].title,
                                           strlen(cases[k].title)),
                             0);
                cr_assert_eq(nt_tokens_add(&t, NT_FIELD_BODY, cases[k].body,
                                           strlen(cases[k].body)),
                             0);
                nt_enrich_text(e, &t, &lang, &fp);
                cr_assert_eq(lang, cases[k].want, "case %zu: got %s", k,
                             nt_lang_name(lang));
                cr_assert_eq(fp, simhash_by_votes(&t), "case %zu", k);
                nt_tokens_free(&t);
        }
        /* Past the 255 votes a lane holds, in two fields. */
        text = malloc(3000 * 12 + 1);
        cr_assert_not_null(text);
        used = 0;
        for (i = 0; i < 3000; i++)
                used += (size_t)snprintf(text + used, 13, "w%zu ",
                                         (i * 7919) % 1000);
        for (k = 0; k < 2; k++) {
                struct nt_tokens t;
                enum nt_lang lang;
                uint64_t fp;

                nt_tokens_init(&t, 100000);
                cr_assert_eq(nt_tokens_add(&t, NT_FIELD_LEAD, text, used / 2),
                             0);
                cr_assert_eq(
                    nt_tokens_add(&t, NT_FIELD_BODY, text + k, used - k), 0);
                nt_enrich_text(e, &t, &lang, &fp);
                cr_assert_eq(fp, simhash_by_votes(&t), "long text %zu", k);
                cr_assert_eq(lang, NT_LANG_OTHER);
                nt_tokens_free(&t);
        }
        free(text);
        nt_enrich_destroy(e);
}
