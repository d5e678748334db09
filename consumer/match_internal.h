/* The matcher's insides, shared by its three parts: compiling a rule set
 * into a trie and tables (consumer/match_compile.c), evaluating rule
 * expressions over an article's spans and sentences
 * (consumer/match_eval.c), and the run that finds words, terms, topics and
 * entities (consumer/match.c). Internal: the public face is
 * consumer/match.h. */
#ifndef NT_MATCH_INTERNAL_H
#define NT_MATCH_INTERNAL_H

#include "consumer/match.h"

#include "common/buf.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define NONE32 UINT32_MAX

/* A node of the frozen trie. Edges are either a 256-entry table (dense,
 * for the root and busy nodes such as the first byte of Cyrillic) or a
 * short list of (byte, child) scanned linearly. Child 0 means "none": the
 * root is never a child. */
struct tnode {
        uint32_t exact;  /* lexeme of the word ending here, or NONE32 */
        uint32_t prefix; /* lexeme of the prefix ending here, or NONE32 */
        uint32_t first;  /* into dense[] or labels[]/child[] */
        uint16_t n;      /* sparse edge count */
        uint8_t dense;
};

#define DENSE_MIN 8 /* a node with more edges gets a table */

/* The filter before the trie walk (see struct nt_match). A word's head
 * is its first HEAD_MAX bytes; lexemes are entered by their head, by their
 * whole bytes when shorter, and prefixes shorter than HEAD_MAX by their
 * own length, so that a word can be tested with one probe per such prefix
 * length plus one. */
#define HEAD_MAX     8
#define FILTER_BITS  15
#define FILTER_WORDS ((1u << FILTER_BITS) / 64)

/* The first 8 bytes at w as an integer: normalised forms are followed by
 * at least 8 readable bytes of the arena (consumer/normalize.h), and
 * head_hash() masks off what lies beyond the word. */
static inline uint64_t head_bytes(const uint8_t *w)
{
        uint64_t x;

        memcpy(&x, w, 8);
        return x;
}

/* The same for a word of a rule, which has no readable slack after it. */
static inline uint64_t word_head(const uint8_t *w, size_t len)
{
        uint64_t x = 0;

        memcpy(&x, w, len < 8 ? len : 8);
        return x;
}

/* Hash of the first n bytes (already in x, little-endian) with n mixed in,
 * FILTER_BITS wide. */
static inline uint32_t head_hash(uint64_t x, size_t n)
{
        if (n < 8)
                x &= ((uint64_t)1 << (8 * n)) - 1;
        x = (x ^ (uint64_t)n) * 0x9E3779B97F4A7C15ull;
        return (uint32_t)(x >> (64 - FILTER_BITS));
}

static inline bool filter_has(const uint64_t *f, uint32_t h)
{
        return (f[h >> 6] >> (h & 63)) & 1;
}

static inline void filter_set(uint64_t *f, uint32_t h)
{
        f[h >> 6] |= (uint64_t)1 << (h & 63);
}

struct nt_match {
        struct nt_rules *rules;
        struct tnode *nodes;
        size_t n_nodes;
        uint8_t *labels;
        uint32_t *child;
        uint32_t *dense;
        size_t n_lex;
        /* CSR lists: [off[i], off[i + 1]) */
        uint32_t *lex_term_off, *lex_terms; /* terms starting with lexeme */
        uint32_t *term_lex_off, *term_lex;  /* lexemes of a term's words */
        uint32_t *term_topic_off, *term_topics;
        uint32_t *term_ent_off, *term_ents;
        uint32_t *topic_term_off, *topic_terms;
        uint32_t *ent_term_off, *ent_terms;
        uint32_t *node_term; /* per rules node: its term, or NONE32 */
        uint32_t *kid_term;  /* node_term of rules->kids[i], side by side */
        /* Per rules node: the terms under a sentence: scope (empty for
         * other nodes), whose occurrences name the sentences to try. */
        uint32_t *sent_term_off, *sent_terms;
        /* Term sets (bitmaps of set_words words) for sentence: scopes and
         * long alternatives: node_set[node] is the offset of the node's set
         * in term_sets, or NONE32. An article holds far fewer distinct
         * terms than a long list has alternatives, so these nodes walk the
         * article's terms instead of their kids. or_rest lists the kids
         * of such an OR that are not plain terms (CSR over nodes). */
        uint64_t *term_sets;
        uint32_t *node_set;
        size_t set_words;
        uint32_t *or_rest_off, *or_rest;
        uint64_t *topic_sets; /* set_words per topic: all its terms */
        /* Gates: per rules node, terms one of which must occur for the
         * node to hold anywhere (a term; any alternative's gate for an OR;
         * the narrowest kid's for AND and NEAR; EXCEPT's left side), as
         * words of the term bitmap with their masks, CSR over nodes; an
         * empty gate (a NOT, an OR with one) is always open. A node whose
         * gate is closed is not evaluated: it could give no span and no
         * truth. */
        uint32_t *gate_off, *gate_word;
        uint64_t *gate_mask;
        /* Per rules node: 1 when it has word positions (terms, their
         * alternatives, NEAR, EXCEPT, field scopes of those), so that its
         * spans say where it holds; 0 for AND, NOT and what holds them. */
        uint8_t *positional;
        /* Lengths (< HEAD_MAX bytes) that prefix lexemes have, ascending,
         * for the filter below. */
        uint8_t plens[HEAD_MAX];
        size_t n_plens;
        /* A filter before the trie walk. Most words of a text start like
         * no lexeme; a few probes of a 4 KiB bitmap tell so, where the
         * walk would touch a node per byte. */
        uint64_t filter[FILTER_WORDS];
        /* A cheaper first test: bit h(first 4 bytes) of every lexeme of 4
         * bytes or more. Usable when no prefix is shorter than 4 bytes
         * (then a word of 4 bytes or more starting like no lexeme cannot
         * match one); most words stop here after a single probe. */
        uint64_t first4[FILTER_WORDS];
        bool use_first4;
};

/* One step down the trie from node by byte c: the child, or 0. */
static inline uint32_t step(const nt_match_t *m, uint32_t node, uint8_t c)
{
        const struct tnode *t = &m->nodes[node];
        uint32_t i;

        if (t->dense)
                return m->dense[t->first + c];
        for (i = 0; i < t->n; i++)
                if (m->labels[t->first + i] == c)
                        return m->child[t->first + i];
        return 0;
}

/* nt_array_grow() with its usual case, room enough, inline: the run
 * pushes spans, sets and evidence one at a time. */
static inline int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
        return need <= *cap ? 0 : nt_array_grow(pp, cap, need, elem);
}

/* ---- the run's state ---- */

/* Whether one of the terms of node's gate occurs (present: a bit per term
 * of the run). */
static inline bool gate_open(const nt_match_t *m, const uint64_t *present,
                             uint32_t node)
{
        uint32_t k = m->gate_off[node], e = m->gate_off[node + 1];

        if (k == e)
                return true;
        for (; k < e; k++)
                if (present[m->gate_word[k]] & m->gate_mask[k])
                        return true;
        return false;
}

/* A span of the evaluation: a term occurrence (term set), a NEAR pair
 * (left and right set) or a sentence that a sentence: scope held in
 * (its spans are kspans[left .. left + right)). */
enum span_kind { SPAN_TERM, SPAN_PAIR, SPAN_SENT };

struct span {
        uint32_t start, end; /* token indices, inclusive */
        uint32_t term;       /* NONE32 for a pair or a sentence */
        uint32_t left, right;
        uint8_t field;
        uint8_t kind; /* enum span_kind */
};

struct res {
        uint32_t n; /* spans at the top of the list arena */
        bool truth;
};

/* A span index with its sort key (field, start), for NEAR's window. */
struct keyed {
        uint64_t key;
        uint32_t idx;
};

struct ent_pos {
        uint32_t entity, start;
};

struct memo {
        uint32_t stamp;  /* valid when it is the scratch's memo_stamp */
        uint32_t off, n; /* spans memo_list[off .. off + n) */
        bool truth;
};

/* A remembered word: the lexemes a normalised word of 1 to WC_MAX_LEN
 * bytes matched, in the order the walk found them. Words repeat a lot
 * within and across articles ("the", "уряд"), and a probe of this table
 * costs less than the filter probes and the trie walk it replaces. 16,384
 * slots (512 KiB per scratch): news in three languages meets tens of
 * thousands of distinct words, and with 4,096 a third of the short words
 * missed, each then filtered and walked against twice the lexemes since
 * the sentence rules. */
#define WC_BITS    14
#define WC_MAX_LEN 16
#define WC_MAX_LEX 3

struct wcache {
        uint64_t w0, w1; /* first and last 8 bytes (masked when short) */
        uint32_t lex[WC_MAX_LEX];
        uint8_t len; /* 0: empty slot */
        uint8_t n;
};

/* The same for words of WC_MAX_LEN + 1 to WCL_MAX_LEN bytes (9 to 16
 * Cyrillic letters): their first and last 16 bytes, which cover them. */
#define WCL_BITS    12
#define WCL_MAX_LEN 32

struct wcache_long {
        uint64_t w[4];
        uint32_t lex[WC_MAX_LEX];
        uint8_t len; /* 0: empty slot */
        uint8_t n;
};

struct nt_match_scratch {
        const nt_match_t *m;
        struct wcache *wc;       /* 1 << WC_BITS slots, tied to m */
        struct wcache_long *wcl; /* 1 << WCL_BITS slots, tied to m */
        struct nt_tokens toks;
        uint32_t gen;
        /* lexemes each token matched: hits[hit_off[i] .. hit_off[i + 1]),
         * and for each hit its token */
        uint32_t *hit_off;
        size_t hit_off_cap;
        uint32_t *hits, *hit_tok;
        size_t n_hits, hits_cap;
        /* per lexeme: occurrences (token indices) */
        uint32_t *lex_gen, *lex_cnt, *lex_off;
        uint32_t *touched_lex;
        size_t n_touched_lex;
        uint32_t *lex_occ;
        size_t lex_occ_cap;
        /* per term: occurrences */
        uint32_t *term_gen, *term_off, *term_n;
        uint32_t *touched_terms;
        size_t n_touched_terms;
        uint64_t *present; /* bit per term: occurs in this run */
        struct nt_match_occ *occ;
        size_t n_occ, occ_cap;
        /* topics and entities */
        uint32_t *topic_gen, *touched_topics;
        size_t n_touched_topics;
        struct nt_match_topic *topics;
        size_t *topic_ev_off;
        struct nt_match_evidence *ev;
        size_t n_ev, ev_cap;
        struct ent_pos *ent_pos;
        size_t n_ent_pos, ent_pos_cap;
        struct nt_match_entity *ents;
        size_t n_ents;
        /* evaluation */
        struct span *spans;
        size_t n_spans, spans_cap;
        uint32_t *list;
        size_t n_list, list_cap;
        struct keyed *keys;
        size_t keys_cap;
        /* The spans each list (@define) gave under each field mask, for
         * the topic being evaluated: a topic often names a list in several
         * clauses, and its long OR is walked once. */
        struct memo *memo; /* (n_defines + 1) << NT_FIELD_COUNT */
        uint32_t memo_stamp, stamp_ctr;
        uint32_t *memo_list;
        size_t n_memo_list, memo_list_cap;
        /* Sentences, computed on first use in a run: the sentence of each
         * token, the first token of each sentence (n_sents + 1 entries). */
        const struct nt_text_fields *in; /* borrowed for the run */
        uint32_t *sent, *sent_first;
        size_t sent_cap, sent_first_cap, n_sents;
        uint32_t sent_gen;
        /* Token range the evaluation is confined to (a sentence). */
        uint32_t rlo, rhi;
        /* Sentences to try for a sentence: scope; spans kept by sentence
         * spans; veto state per sentence (0 unknown, 1 clean, 2 vetoed). */
        uint32_t *cand;
        size_t cand_cap;
        uint32_t *kspans;
        size_t n_kspans, kspans_cap;
        /* Sets of sentences (ascending ids), stacked like the list arena;
         * the universe a NOT is the complement in; a merge buffer. */
        uint32_t *sets, *tmp;
        size_t n_sets, sets_cap, tmp_cap;
        /* The terms of the topic being evaluated that occur: long lists
         * walk these rather than their alternatives. */
        uint32_t *tt;
        size_t n_tt;

        bool truncated;
        bool nomem;
};

/* What a sentence: scope's expression gives: spans, and the sentences in
 * which it holds. */
struct bres {
        uint32_t n;        /* spans at the top of the list arena */
        size_t off, n_set; /* sentences where it holds: s->sets[off..] */
};

/* qsort() order of uint32_t values (consumer/match_compile.c). */
int nt_match_cmp_u32(const void *a, const void *b);

/* ---- evaluation (consumer/match_eval.c) ---- */

/* The spans where rules node `node` holds within the fields of mask
 * (pushed on the list arena) and whether it holds. */
struct res nt_match_eval(const nt_match_t *m, nt_match_scratch_t *s,
                         uint32_t node, unsigned mask);

/* The same for a sentence: scope's expression, with the set of sentences
 * it holds in; `spans` false when only the sentences are wanted. */
struct bres nt_match_eval_bucket(const nt_match_t *m, nt_match_scratch_t *s,
                                 uint32_t node, unsigned mask, bool spans);

/* Finds the run's sentences on first use. NT_ERR_NOMEM. */
int nt_match_need_sentences(nt_match_scratch_t *s);

/* A fresh stamp for the lists' memos. */
uint32_t nt_match_next_stamp(const nt_match_t *m, nt_match_scratch_t *s);

/* Whether the ascending set v[0..n) holds x. */
bool nt_match_set_find(const uint32_t *v, size_t n, uint32_t x);

/* Sorts v[0..n) ascending. */
void nt_match_sort_u32(uint32_t *v, size_t n);

#endif
