/* Enrichment. One hash table, keyed by the XXH3 of a normalised word,
 * holds what the enrichment knows about words: stop words of each
 * language, number words and unit words; a token costs one hash and one
 * probe. */
#include "consumer/enrich.h"

#include "common/buf.h"
#include "common/err.h"
#include "common/num.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
/* Inlined: most words are a few bytes, and the library's entry point
 * spends as much choosing its path as hashing them. Same values. */
#define XXH_INLINE_ALL
#include <xxhash.h>

/* SSE2 is part of every x86-64; elsewhere, or built with -DNT_NO_SIMD (to
 * test the scalar paths alone), SimHash counts its votes a byte at a
 * time. */
#if defined(__SSE2__) && !defined(NT_NO_SIMD)
#include <emmintrin.h>
#define NT_HAVE_SSE2 1
#endif

#define STOP_EN 0x1u
#define STOP_UK 0x2u
#define STOP_RU 0x4u

#define TABLE_SIZE 1024 /* power of two, well above the ~400 words */

struct word {
        uint64_t key;   /* XXH3_64bits of the word; 0 = empty slot */
        uint8_t stop;   /* STOP_* */
        int16_t unit;   /* index into units[], or -1 */
        int32_t number; /* value of a number word, or -1 */
};

/* Bits of the number words' filter: a few hundred words, so that a word
 * of news text passes by chance a few times in a hundred. */
#define NUMBER_FILTER_BITS 4096

struct nt_enrich {
        struct word table[TABLE_SIZE];
        /* Set at number_filter_bit() of each number word: a word whose
         * bit is clear is no number word, without hashing it. */
        uint64_t number_filter[NUMBER_FILTER_BITS / 64];
};

struct unit {
        const char *name;
        enum nt_fact_type type;
};

static const struct unit units[] = {
    {"year", NT_FACT_DURATION},   {"month", NT_FACT_DURATION},
    {"week", NT_FACT_DURATION},   {"day", NT_FACT_DURATION},
    {"decade", NT_FACT_DURATION}, {"reactor", NT_FACT_COUNT},
    {"unit", NT_FACT_COUNT},      {"country", NT_FACT_COUNT},
    {"soldier", NT_FACT_COUNT},   {"km", NT_FACT_COUNT},
    {"inspector", NT_FACT_COUNT},
};

enum {
        U_YEAR,
        U_MONTH,
        U_WEEK,
        U_DAY,
        U_DECADE,
        U_REACTOR,
        U_UNIT,
        U_COUNTRY,
        U_SOLDIER,
        U_KM,
        U_INSPECTOR
};

/* Unit words, exact. Date forms such as "у 2014 році" are left out, and
 * calendar years are skipped below, so that dates are not durations. */
static const struct {
        const char *word;
        int unit;
} unit_words[] = {
    {"year", U_YEAR},
    {"years", U_YEAR},
    {"yr", U_YEAR},
    {"yrs", U_YEAR},
    {"рік", U_YEAR},
    {"роки", U_YEAR},
    {"років", U_YEAR},
    {"год", U_YEAR},
    {"года", U_YEAR},
    {"лет", U_YEAR},
    {"month", U_MONTH},
    {"months", U_MONTH},
    {"місяць", U_MONTH},
    {"місяці", U_MONTH},
    {"місяців", U_MONTH},
    {"месяц", U_MONTH},
    {"месяца", U_MONTH},
    {"месяцев", U_MONTH},
    {"week", U_WEEK},
    {"weeks", U_WEEK},
    {"тиждень", U_WEEK},
    {"тижні", U_WEEK},
    {"тижнів", U_WEEK},
    {"неделя", U_WEEK},
    {"недели", U_WEEK},
    {"недель", U_WEEK},
    {"day", U_DAY},
    {"days", U_DAY},
    {"день", U_DAY},
    {"дні", U_DAY},
    {"днів", U_DAY},
    {"дня", U_DAY},
    {"дней", U_DAY},
    {"decade", U_DECADE},
    {"decades", U_DECADE},
    {"десятиліття", U_DECADE},
    {"десятилетие", U_DECADE},
    {"десятилетия", U_DECADE},
    {"десятилетий", U_DECADE},
    {"reactor", U_REACTOR},
    {"reactors", U_REACTOR},
    {"unit", U_UNIT},
    {"units", U_UNIT},
    {"country", U_COUNTRY},
    {"countries", U_COUNTRY},
    {"soldier", U_SOLDIER},
    {"soldiers", U_SOLDIER},
    {"troops", U_SOLDIER},
    {"km", U_KM},
    {"км", U_KM},
    {"kilometre", U_KM},
    {"kilometres", U_KM},
    {"kilometer", U_KM},
    {"kilometers", U_KM},
    {"inspector", U_INSPECTOR},
    {"inspectors", U_INSPECTOR},
};

/* Unit stems for the inflected Ukrainian and Russian forms ("реакторів",
 * "енергоблоки", "15-річні", "15-летние"). */
static const struct {
        const char *stem;
        int unit;
} unit_stems[] = {
    {"річн", U_YEAR},           {"летн", U_YEAR},
    {"реактор", U_REACTOR},     {"енергоблок", U_UNIT},
    {"энергоблок", U_UNIT},     {"країн", U_COUNTRY},
    {"стран", U_COUNTRY},       {"солдат", U_SOLDIER},
    {"військов", U_SOLDIER},    {"военн", U_SOLDIER},
    {"кілометр", U_KM},         {"километр", U_KM},
    {"інспектор", U_INSPECTOR}, {"инспектор", U_INSPECTOR},
};

static const struct {
        const char *word;
        int value;
} number_words[] = {
    {"one", 1},          {"two", 2},         {"three", 3},
    {"four", 4},         {"five", 5},        {"six", 6},
    {"seven", 7},        {"eight", 8},       {"nine", 9},
    {"ten", 10},         {"eleven", 11},     {"twelve", 12},
    {"thirteen", 13},    {"fourteen", 14},   {"fifteen", 15},
    {"sixteen", 16},     {"seventeen", 17},  {"eighteen", 18},
    {"nineteen", 19},    {"twenty", 20},     {"thirty", 30},
    {"forty", 40},       {"fifty", 50},      {"sixty", 60},
    {"seventy", 70},     {"eighty", 80},     {"ninety", 90},
    {"hundred", 100},    {"dozen", 12},      {"один", 1},
    {"одна", 1},         {"одне", 1},        {"одно", 1},
    {"два", 2},          {"дві", 2},         {"две", 2},
    {"двох", 2},         {"двух", 2},        {"три", 3},
    {"трьох", 3},        {"трех", 3},        {"трёх", 3},
    {"чотири", 4},       {"четыре", 4},      {"п'ять", 5},
    {"пять", 5},         {"п'яти", 5},       {"пяти", 5},
    {"шість", 6},        {"шесть", 6},       {"шести", 6},
    {"сім", 7},          {"семь", 7},        {"вісім", 8},
    {"восемь", 8},       {"дев'ять", 9},     {"девять", 9},
    {"десять", 10},      {"десяти", 10},     {"одинадцять", 11},
    {"одиннадцать", 11}, {"дванадцять", 12}, {"двенадцать", 12},
    {"п'ятнадцять", 15}, {"пятнадцать", 15}, {"п'ятнадцяти", 15},
    {"пятнадцати", 15},  {"двадцять", 20},   {"двадцать", 20},
    {"двадцяти", 20},    {"двадцати", 20},   {"тридцять", 30},
    {"тридцать", 30},    {"сорок", 40},      {"п'ятдесят", 50},
    {"пятьдесят", 50},   {"п'ятдесяти", 50}, {"пятидесяти", 50},
    {"сто", 100},
};

/* Common words only one of the languages uses. Words both Ukrainian and
 * Russian share ("в", "на", "не") tell nothing and are left out. */
static const char *const stop_en[] = {
    "the",  "and",  "of",   "to",    "in",    "is",   "for",   "on",
    "that", "with", "was",  "as",    "by",    "at",   "from",  "it",
    "be",   "are",  "has",  "have",  "said",  "will", "been",  "its",
    "this", "not",  "were", "which", "would", "but",  "after", "their",
};

static const char *const stop_uk[] = {
    "і",    "та",  "що",    "з",       "це",    "як",   "від", "який",
    "яка",  "які", "також", "але",     "або",   "її",   "він", "вона",
    "вони", "ще",  "вже",   "після",   "між",   "під",  "був", "була",
    "були", "має", "щодо",  "зокрема", "цього", "буде", "чи",  "цей",
};

static const char *const stop_ru[] = {
    "и",       "что",     "с",      "это",  "как",  "от",    "который",
    "которая", "которые", "также",  "но",   "или",  "ее",    "её",
    "он",      "она",     "они",    "еще",  "ещё",  "уже",   "после",
    "между",   "под",     "был",    "была", "были", "имеет", "этого",
    "будет",   "чтобы",   "только", "при",
};

const char *nt_lang_name(enum nt_lang lang)
{
        static const char *const names[] = {
            [NT_LANG_OTHER] = "other",
            [NT_LANG_EN] = "en",
            [NT_LANG_UK] = "uk",
            [NT_LANG_RU] = "ru",
        };

        return nt_name_of(names, NT_COUNT_OF(names), lang, "other");
}

const char *nt_fact_type_name(enum nt_fact_type t)
{
        return t == NT_FACT_DURATION ? "duration" : "count";
}

static uint64_t word_key(const char *w, size_t len)
{
        uint64_t h = XXH3_64bits(w, len);

        return h ? h : 1;
}

static struct word *slot(struct word *table, uint64_t key)
{
        size_t i = key & (TABLE_SIZE - 1);

        while (table[i].key && table[i].key != key)
                i = (i + 1) & (TABLE_SIZE - 1);
        return &table[i];
}

/* The entry of the word whose word_key() is key, or NULL. */
static const struct word *find_key(const nt_enrich_t *e, uint64_t key)
{
        size_t i = key & (TABLE_SIZE - 1);

        while (e->table[i].key) {
                if (e->table[i].key == key)
                        return &e->table[i];
                i = (i + 1) & (TABLE_SIZE - 1);
        }
        return NULL;
}

static const struct word *find(const nt_enrich_t *e, const char *w, size_t len)
{
        return find_key(e, word_key(w, len));
}

/* A word's bit in the number words' filter, from its length (at least
 * 1), its first two bytes (a Cyrillic letter, or two ASCII ones) and its
 * last byte. */
static size_t number_filter_bit(const unsigned char *w, size_t len)
{
        uint64_t k = (uint64_t)w[0] | (uint64_t)(len > 1 ? w[1] : 0) << 8 |
                     (uint64_t)w[len - 1] << 16 | (uint64_t)len << 24;

        return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 52);
}

static struct word *add(nt_enrich_t *e, const char *w)
{
        uint64_t key = word_key(w, strlen(w));
        struct word *s = slot(e->table, key);

        if (!s->key) {
                s->key = key;
                s->unit = -1;
                s->number = -1;
        }
        return s;
}

nt_enrich_t *nt_enrich_new(void)
{
        nt_enrich_t *e = calloc(1, sizeof(*e));
        size_t i;

        if (!e)
                return NULL;
        for (i = 0; i < sizeof(stop_en) / sizeof(stop_en[0]); i++)
                add(e, stop_en[i])->stop |= STOP_EN;
        for (i = 0; i < sizeof(stop_uk) / sizeof(stop_uk[0]); i++)
                add(e, stop_uk[i])->stop |= STOP_UK;
        for (i = 0; i < sizeof(stop_ru) / sizeof(stop_ru[0]); i++)
                add(e, stop_ru[i])->stop |= STOP_RU;
        for (i = 0; i < sizeof(unit_words) / sizeof(unit_words[0]); i++)
                add(e, unit_words[i].word)->unit = (int16_t)unit_words[i].unit;
        for (i = 0; i < sizeof(number_words) / sizeof(number_words[0]); i++) {
                const char *w = number_words[i].word;
                size_t bit =
                    number_filter_bit((const unsigned char *)w, strlen(w));

                add(e, w)->number = number_words[i].value;
                e->number_filter[bit / 64] |= (uint64_t)1 << (bit % 64);
        }
        return e;
}

void nt_enrich_destroy(nt_enrich_t *e)
{
        free(e);
}

/* SimHash votes are counted in 64 byte lanes, one per bit of a feature,
 * and moved to 32-bit counts every 255 features, before a lane can
 * overflow. With SSE2 a feature's 64 bits become 64 lanes of 0 or 1 in a
 * few shuffles and compares; elsewhere spread8[] does it a byte at a
 * time. Either way lane b ends up counting bit b. */
#ifdef NT_HAVE_SSE2
struct lanes {
        __m128i v[4]; /* v[q] byte j: bit 16q + j */
};

static inline void lanes_add(struct lanes *l, uint64_t feature)
{
        /* Byte k of each group of 8 is 1 << k. */
        const __m128i bit = _mm_set1_epi64x((long long)0x8040201008040201ull);
        const __m128i f = _mm_cvtsi64_si128((long long)feature);
        const __m128i b2 = _mm_unpacklo_epi8(f, f);    /* b0 b0 b1 b1 .. */
        const __m128i lo = _mm_unpacklo_epi16(b2, b2); /* b0 x4 .. b3 x4 */
        const __m128i hi = _mm_unpackhi_epi16(b2, b2); /* b4 x4 .. b7 x4 */
        const __m128i q0 = _mm_unpacklo_epi32(lo, lo);
        const __m128i q1 = _mm_unpackhi_epi32(lo, lo);
        const __m128i q2 = _mm_unpacklo_epi32(hi, hi);
        const __m128i q3 = _mm_unpackhi_epi32(hi, hi);

        /* A set bit compares to -1: subtracting it adds one. Written out,
         * as a loop over an array kept the lanes in memory. */
        l->v[0] =
            _mm_sub_epi8(l->v[0], _mm_cmpeq_epi8(_mm_and_si128(q0, bit), bit));
        l->v[1] =
            _mm_sub_epi8(l->v[1], _mm_cmpeq_epi8(_mm_and_si128(q1, bit), bit));
        l->v[2] =
            _mm_sub_epi8(l->v[2], _mm_cmpeq_epi8(_mm_and_si128(q2, bit), bit));
        l->v[3] =
            _mm_sub_epi8(l->v[3], _mm_cmpeq_epi8(_mm_and_si128(q3, bit), bit));
}

static void lanes_flush(struct lanes *l, uint32_t ones[64])
{
        uint8_t c[64];
        int k;

        for (k = 0; k < 4; k++) {
                _mm_storeu_si128((__m128i *)(void *)(c + 16 * k), l->v[k]);
                l->v[k] = _mm_setzero_si128();
        }
        for (k = 0; k < 64; k++)
                ones[k] += c[k];
}
#else
/* spread8[x]: bit k of x moved to bit 0 of byte k. */
#define SP(x)                                                                  \
        (((uint64_t)(x)&1) | ((uint64_t)((x) >> 1 & 1) << 8) |                 \
         ((uint64_t)((x) >> 2 & 1) << 16) | ((uint64_t)((x) >> 3 & 1) << 24) | \
         ((uint64_t)((x) >> 4 & 1) << 32) | ((uint64_t)((x) >> 5 & 1) << 40) | \
         ((uint64_t)((x) >> 6 & 1) << 48) | ((uint64_t)((x) >> 7 & 1) << 56))
#define SP2(x)   SP(x), SP((x) + 1)
#define SP4(x)   SP2(x), SP2((x) + 2)
#define SP8(x)   SP4(x), SP4((x) + 4)
#define SP16(x)  SP8(x), SP8((x) + 8)
#define SP32(x)  SP16(x), SP16((x) + 16)
#define SP64(x)  SP32(x), SP32((x) + 32)
#define SP128(x) SP64(x), SP64((x) + 64)
static const uint64_t spread8[256] = {SP128(0), SP128(128)};
#undef SP
#undef SP2
#undef SP4
#undef SP8
#undef SP16
#undef SP32
#undef SP64
#undef SP128

struct lanes {
        uint64_t v[8]; /* v[j] byte k: bit 8j + k */
};

static inline void lanes_add(struct lanes *l, uint64_t feature)
{
        int j;

        for (j = 0; j < 8; j++)
                l->v[j] += spread8[(feature >> (8 * j)) & 0xFF];
}

static void lanes_flush(struct lanes *l, uint32_t ones[64])
{
        int j, k;

        for (j = 0; j < 8; j++) {
                for (k = 0; k < 8; k++)
                        ones[8 * j + k] +=
                            (uint32_t)(l->v[j] >> (8 * k)) & 0xFF;
                l->v[j] = 0;
        }
}
#endif

/* The language from the pass's counts (see nt_enrich_language()). */
static enum nt_lang language_of(size_t latin, size_t cyr, size_t en, size_t uk,
                                size_t ru)
{
        if (cyr > latin) {
                if (uk > ru)
                        return NT_LANG_UK;
                if (ru > uk)
                        return NT_LANG_RU;
                return NT_LANG_OTHER;
        }
        /* English prose is a third stop words, headlines much less; one
         * in ten is a low bar that still keeps other Latin-script
         * languages out (the list avoids words German or French share). */
        if (latin > 0 && en > 0 && en * 10 >= latin)
                return NT_LANG_EN;
        return NT_LANG_OTHER;
}

/* One pass over the tokens for the language (when e is given) and the
 * fingerprint: each word is hashed once, and its hash serves both as its
 * key in the word table and as its SimHash feature. */
static void text_pass(const nt_enrich_t *e, const struct nt_tokens *t,
                      enum nt_lang *lang, uint64_t *fingerprint)
{
        size_t i, n = 0, latin = 0, cyr = 0, en = 0, uk = 0, ru = 0;
        uint64_t prev = 0, feature, h, out = 0;
        uint32_t ones[64] = {0};
        struct lanes lanes;
        unsigned pending = 0;
        int have_prev = 0, b;
        uint8_t field = 0;

        memset(&lanes, 0, sizeof(lanes));
        for (i = 0; i < t->n; i++) {
                const struct nt_token *tok = &t->tok[i];
                uint64_t pair[2];

                /* Counted for every token, normalised or not. */
                if (tok->flags & NT_TOK_CYRILLIC) {
                        cyr++;
                        uk += (tok->flags & NT_TOK_UK) != 0;
                        ru += (tok->flags & NT_TOK_RU) != 0;
                } else if (tok->flags & NT_TOK_LATIN) {
                        latin++;
                }
                /* Shingles do not cross fields. */
                if (tok->field != field) {
                        have_prev = 0;
                        field = tok->field;
                }
                if (tok->norm_len == 0)
                        continue;
                h = XXH3_64bits(nt_tokens_norm(t, i), tok->norm_len);
                if (e && tok->norm_len <= 24) {
                        const struct word *w = find_key(e, h ? h : 1);

                        /* A stop word weighs more than a letter: it is a
                         * whole word of evidence. */
                        if (w) {
                                en += (w->stop & STOP_EN) != 0;
                                uk += (w->stop & STOP_UK) ? 2 : 0;
                                ru += (w->stop & STOP_RU) ? 2 : 0;
                        }
                }
                if (have_prev) {
                        pair[0] = prev;
                        pair[1] = h;
                        feature = XXH3_64bits(pair, sizeof(pair));
                } else {
                        feature = h;
                }
                prev = h;
                have_prev = 1;
                lanes_add(&lanes, feature);
                if (++pending == 255) {
                        lanes_flush(&lanes, ones);
                        pending = 0;
                }
                n++;
        }
        if (lang)
                *lang = language_of(latin, cyr, en, uk, ru);
        if (!fingerprint)
                return;
        if (n > 0) {
                lanes_flush(&lanes, ones);
                /* Each bit's vote is +1 where features have it and -1
                 * where they do not: positive when more than half have
                 * it. */
                for (b = 0; b < 64; b++)
                        if (2 * (uint64_t)ones[b] > n)
                                out |= (uint64_t)1 << b;
        }
        *fingerprint = out;
}

enum nt_lang nt_enrich_language(const nt_enrich_t *e, const struct nt_tokens *t)
{
        enum nt_lang lang;

        text_pass(e, t, &lang, NULL);
        return lang;
}

uint64_t nt_enrich_simhash(const struct nt_tokens *t)
{
        uint64_t fingerprint;

        text_pass(NULL, t, NULL, &fingerprint);
        return fingerprint;
}

void nt_enrich_text(const nt_enrich_t *e, const struct nt_tokens *t,
                    enum nt_lang *lang, uint64_t *fingerprint)
{
        text_pass(e, t, lang, fingerprint);
}

int nt_enrich_hamming(uint64_t a, uint64_t b)
{
        return __builtin_popcountll(a ^ b);
}

/* The value of a digits token: "15", "1,000" and "12,500,000"
 * (thousands), "3.5", the Ukrainian and Russian "1,5" (decimal comma) and
 * "1.000.000" (thousands dots). */
static bool parse_digits(const char *w, size_t len, double *out)
{
        char buf[40];
        size_t i, o = 0, commas = 0, dots = 0, run = 0;
        bool groups_of_three = true;

        if (len >= sizeof(buf))
                return false;
        for (i = len; i-- > 0;) {
                if (w[i] == ',' || w[i] == '.') {
                        if (run != 3)
                                groups_of_three = false;
                        run = 0;
                        if (w[i] == ',')
                                commas++;
                        else
                                dots++;
                } else {
                        run++;
                }
        }
        for (i = 0; i < len; i++) {
                char c = w[i];

                if (c == ',') {
                        /* A thousands separator unless it is the only
                         * separator and not followed by three digits. */
                        if (groups_of_three || dots == 1)
                                continue;
                        if (commas > 1)
                                return false;
                        c = '.';
                } else if (c == '.' && dots > 1) {
                        if (!groups_of_three)
                                return false;
                        continue;
                }
                buf[o++] = c;
        }
        buf[o] = '\0';
        return nt_num_parse_double(buf, 0, 1e9, out) == 0;
}

/* The number a token says, or false. */
static bool token_number(const nt_enrich_t *e, const struct nt_tokens *t,
                         size_t i, double *value)
{
        const struct nt_token *tok = &t->tok[i];
        const struct word *w;
        size_t bit;

        if (tok->norm_len == 0)
                return false;
        if (tok->flags & NT_TOK_NUMBER)
                return parse_digits(nt_tokens_norm(t, i), tok->norm_len, value);
        if (tok->norm_len > 24)
                return false;
        bit = number_filter_bit((const unsigned char *)nt_tokens_norm(t, i),
                                tok->norm_len);
        if (!(e->number_filter[bit / 64] >> (bit % 64) & 1))
                return false;
        w = find(e, nt_tokens_norm(t, i), tok->norm_len);
        if (!w || w->number < 0)
                return false;
        *value = w->number;
        return true;
}

/* The unit a token names, or -1. */
static int token_unit(const nt_enrich_t *e, const struct nt_tokens *t, size_t i)
{
        const struct nt_token *tok = &t->tok[i];
        const char *s = nt_tokens_norm(t, i);
        const struct word *w;
        size_t k, n;

        if (tok->norm_len == 0 || tok->norm_len > 40 ||
            (tok->flags & NT_TOK_NUMBER))
                return -1;
        w = find(e, s, tok->norm_len);
        if (w && w->unit >= 0)
                return w->unit;
        for (k = 0; k < sizeof(unit_stems) / sizeof(unit_stems[0]); k++) {
                n = strlen(unit_stems[k].stem);
                if (tok->norm_len >= n && memcmp(s, unit_stems[k].stem, n) == 0)
                        return unit_stems[k].unit;
        }
        return -1;
}

static bool near_anchor(const struct nt_tokens *t, size_t i,
                        const struct nt_fact_anchor *a, size_t n)
{
        size_t k;

        for (k = 0; k < n; k++) {
                size_t lo = a[k].tok_start > NT_FACT_WINDOW
                                ? a[k].tok_start - NT_FACT_WINDOW
                                : 0;
                size_t hi = (size_t)a[k].tok_end + NT_FACT_WINDOW;

                if (i >= lo && i <= hi &&
                    t->tok[i].field == t->tok[a[k].tok_start].field)
                        return true;
        }
        return false;
}

size_t nt_enrich_facts(const nt_enrich_t *e, const struct nt_tokens *t,
                       const struct nt_fact_anchor *anchors, size_t n_anchors,
                       struct nt_fact *out, size_t max)
{
        size_t i, j, k, n = 0, num_end;
        double value, ones;
        int unit;

        for (i = 0; i < t->n && n < max; i++) {
                if (!token_number(e, t, i, &value))
                        continue;
                num_end = i;
                /* "twenty-five": a tens word and a ones word. */
                if (!(t->tok[i].flags & NT_TOK_NUMBER) && value >= 20 &&
                    value < 100 && (int)value % 10 == 0 && i + 1 < t->n &&
                    t->tok[i + 1].field == t->tok[i].field &&
                    !(t->tok[i + 1].flags & NT_TOK_NUMBER) &&
                    token_number(e, t, i + 1, &ones) && ones < 10) {
                        value += ones;
                        num_end = i + 1;
                }
                /* The unit follows directly or after one word ("six
                 * nuclear reactors", "15 more years"). */
                unit = -1;
                for (j = num_end + 1; j <= num_end + 2 && j < t->n; j++) {
                        if (t->tok[j].field != t->tok[i].field)
                                break;
                        unit = token_unit(e, t, j);
                        if (unit >= 0 || (t->tok[j].flags & NT_TOK_NUMBER))
                                break;
                }
                if (unit < 0)
                        continue;
                /* "у 2014 році", "2014 года": calendar years are dates. */
                if (units[unit].type == NT_FACT_DURATION && value >= 1800 &&
                    value <= 2200)
                        continue;
                if (!near_anchor(t, i, anchors, n_anchors))
                        continue;
                for (k = 0; k < n; k++)
                        if (out[k].type == units[unit].type &&
                            out[k].value == value &&
                            !strcmp(out[k].unit, units[unit].name))
                                break;
                if (k < n)
                        continue;
                out[n].type = units[unit].type;
                out[n].value = value;
                out[n].unit = units[unit].name;
                out[n].field = t->tok[i].field;
                out[n].start = t->tok[i].start;
                out[n].end = t->tok[j].end;
                out[n].tok_start = (uint32_t)i;
                out[n].tok_end = (uint32_t)j;
                n++;
                i = j;
        }
        return n;
}
