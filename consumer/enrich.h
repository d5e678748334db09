/* Enrichment from an article's tokens: the language (en / uk / ru /
 * other, by script and common words), a 64-bit SimHash fingerprint for
 * near-duplicate stories, and facts (durations and counts such as "15
 * years", "six reactors") found near a topic's evidence. */
#ifndef NT_ENRICH_H
#define NT_ENRICH_H

#include <stddef.h>
#include <stdint.h>

#include "consumer/normalize.h"

/* Word tables, built once; immutable and shareable between threads. */
typedef struct nt_enrich nt_enrich_t;

enum nt_lang {
        NT_LANG_OTHER = 0,
        NT_LANG_EN = 1,
        NT_LANG_UK = 2,
        NT_LANG_RU = 3,
};

/* "other", "en", "uk", "ru". Static. */
const char *nt_lang_name(enum nt_lang lang);

/* NULL when out of memory. Caller frees with nt_enrich_destroy(). */
nt_enrich_t *nt_enrich_new(void);
void nt_enrich_destroy(nt_enrich_t *e);

/* The language of the tokens: the dominant script decides Latin against
 * Cyrillic; then common words (and, for Cyrillic, the letters only one of
 * the two languages has: і ї є ґ against ы э ъ ё) decide en, uk or ru.
 * Too little evidence gives NT_LANG_OTHER. */
enum nt_lang nt_enrich_language(const nt_enrich_t *e,
                                const struct nt_tokens *t);

/* SimHash over shingles of two consecutive normalised tokens (within a
 * field), each hashed with XXH3_64bits: near-duplicate texts differ in a
 * few bits, unrelated ones in about 32. 0 for a text without tokens. */
uint64_t nt_enrich_simhash(const struct nt_tokens *t);

/* Both of the above in one pass over the tokens, each word hashed once:
 * *lang and *fingerprint receive what nt_enrich_language() and
 * nt_enrich_simhash() return. */
void nt_enrich_text(const nt_enrich_t *e, const struct nt_tokens *t,
                    enum nt_lang *lang, uint64_t *fingerprint);

/* Number of differing bits. */
int nt_enrich_hamming(uint64_t a, uint64_t b);

enum nt_fact_type {
        NT_FACT_DURATION = 0, /* unit: year, month, week, day, decade */
        NT_FACT_COUNT = 1,    /* unit: reactor, unit, country, ... */
};

/* "duration", "count". Static. */
const char *nt_fact_type_name(enum nt_fact_type t);

/* A number with its unit, as written at bytes [start, end) of a field. */
struct nt_fact {
        enum nt_fact_type type;
        double value;
        const char *unit; /* static */
        uint8_t field;
        uint32_t start, end;
        uint32_t tok_start, tok_end;
};

/* A token range (inclusive) that facts must be near. */
struct nt_fact_anchor {
        uint32_t tok_start, tok_end;
};

/* Tokens within this many tokens of an anchor, in the same field, count
 * as near it. */
#define NT_FACT_WINDOW 15

/* Finds facts near any anchor: a number (digits, or a number word in
 * English, Ukrainian or Russian) directly followed by a unit word ("15
 * years", "50-year", "six reactors", "15 років", "шесть реакторов").
 * Each distinct (type, value, unit) is reported once, at its first place.
 * Writes at most `max` facts; returns how many. */
size_t nt_enrich_facts(const nt_enrich_t *e, const struct nt_tokens *t,
                       const struct nt_fact_anchor *anchors, size_t n_anchors,
                       struct nt_fact *out, size_t max);

#endif
