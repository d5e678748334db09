/* The matcher: every term of every rule compiled once into one trie of
 * normalised words and word prefixes, so that an article costs one trie
 * walk per token plus the evaluation of the topics whose terms occur.
 * Scoring, evidence and entity counts are defined in docs/rules.md. */
#ifndef NT_MATCH_H
#define NT_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer/normalize.h"
#include "consumer/rules.h"

/* A compiled rule set: immutable, safe to share between threads. */
typedef struct nt_match nt_match_t;

/* Per-thread working memory for nt_match_run(); reused from article to
 * article. Belongs to one nt_match_t. */
typedef struct nt_match_scratch nt_match_scratch_t;

/* Limits per article: past them nt_match_run() fails with NT_ERR_LIMIT
 * (tokens) or stops collecting (spans of one NEAR, evidence), flagging the
 * result as truncated. */
#define NT_MATCH_MAX_TOKENS     (1u << 20)
#define NT_MATCH_MAX_NEAR_SPANS 1024  /* pairs one NEAR keeps */
#define NT_MATCH_MAX_SPANS      65536 /* spans of one topic's evaluation */

/* One piece of evidence: an occurrence of a term of the topic's match
 * expression that made it true. Offsets are bytes into the ORIGINAL
 * field text, [start, end). */
struct nt_match_evidence {
        uint32_t term;    /* index into rules->terms */
        uint8_t field;    /* enum nt_field */
        uint8_t sentence; /* 1: found by a sentence: clause, which scores
                             its sentences rather than its words */
        uint32_t start, end;
        uint32_t tok_start, tok_end; /* token indices (inclusive) */
};

/* The outcome for one topic that had at least one of its terms present. */
struct nt_match_topic {
        uint32_t topic; /* index into rules->topics */
        double score;
        bool matched;  /* the match expression is true */
        bool required; /* the require expression is true (or absent) */
        bool excluded; /* the exclude expression is true */
        bool labelled; /* matched, required, not excluded, score >= threshold */
        uint32_t n_vetoed; /* spans of the match dropped by the veto */
        const struct nt_match_evidence *ev; /* sorted by field, start */
        size_t n_ev;
};

struct nt_match_entity {
        uint32_t entity; /* index into rules->entities */
        uint32_t count;  /* distinct places in the text that name it */
};

/* The result of one run. Borrowed from the scratch: valid until its next
 * run or its destruction. */
struct nt_match_result {
        const struct nt_tokens *tokens;      /* the article's tokens */
        const struct nt_match_topic *topics; /* in rule order */
        size_t n_topics;
        const struct nt_match_entity *entities; /* in rule order */
        size_t n_entities;
        bool truncated; /* a span limit cut the evaluation short */
};

/* Compiles a rule set. Takes ownership of `rules` on success (freed with
 * the matcher); on failure the caller still owns it. Caller frees the
 * matcher with nt_match_destroy(). */
int nt_match_compile(struct nt_rules *rules, nt_match_t **out, char *errstr,
                     size_t errstr_size);

/* NULL-safe. */
void nt_match_destroy(nt_match_t *m);

/* Destroys the matcher but gives its rules back to the caller: the undo
 * of a successful nt_match_compile(). */
struct nt_rules *nt_match_release(nt_match_t *m);

/* The rule set. Borrowed; valid while the matcher lives. */
const struct nt_rules *nt_match_rules(const nt_match_t *m);

/* Number of distinct words and prefixes in the trie (for `rules check`). */
size_t nt_match_lexeme_count(const nt_match_t *m);

/* The terms a topic uses (match, require and exclude, through lists), in
 * term order. Borrowed. */
const uint32_t *nt_match_topic_terms(const nt_match_t *m, uint32_t topic,
                                     size_t *n);

/* Working memory for one thread. NULL when out of memory. Caller frees
 * with nt_match_scratch_destroy(); the matcher must outlive it. */
nt_match_scratch_t *nt_match_scratch_new(const nt_match_t *m);
void nt_match_scratch_destroy(nt_match_scratch_t *s);

/* Tokenises the fields and evaluates every rule. NT_ERR_LIMIT when the
 * text has more than NT_MATCH_MAX_TOKENS tokens, NT_ERR_NOMEM. */
int nt_match_run(const nt_match_t *m, nt_match_scratch_t *s,
                 const struct nt_text_fields *in, struct nt_match_result *out);

/* Occurrences of a term in the last run. */
size_t nt_match_term_hits(const nt_match_scratch_t *s, uint32_t term);

/* A term occurrence: token indices, inclusive. */
struct nt_match_occ {
        uint32_t start, end;
};

/* The occurrences of a term in the last run, in text order (*n of them;
 * NULL when none). Borrowed: valid until the next run. */
const struct nt_match_occ *nt_match_term_occ(const nt_match_scratch_t *s,
                                             uint32_t term, size_t *n);

#endif
