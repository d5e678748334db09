/* Matcher. Compilation builds a byte trie over the normalised words and
 * prefixes of all terms (one "lexeme" per distinct word or prefix); a run
 * walks each token down the trie once, collecting the lexemes it matches,
 * then turns lexeme occurrences into term occurrences (phrases checked
 * word by word), and evaluates only the topics that own a present term.
 *
 * Evaluation works on spans (a field and a token range): a term yields
 * one span per occurrence, OR concatenates, NEAR pairs spans up into
 * composite spans that remember their two parts, so that the evidence of
 * a topic can be unfolded back into the term occurrences that made it. */
#include "consumer/match.h"

#include "common/err.h"

#include <stdlib.h>
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
static uint64_t word_head(const uint8_t *w, size_t len)
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

static void filter_set(uint64_t *f, uint32_t h)
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

/* ---- building ---- */

struct bnode {
        uint32_t exact, prefix;
        uint8_t *lab;
        uint32_t *kid;
        uint32_t n, cap;
};

struct builder {
        struct bnode *nodes;
        size_t n, cap;
        size_t n_lex;
};

static int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
        void **p = pp;
        size_t c = *cap ? *cap : 16;
        void *q;

        if (need <= *cap)
                return 0;
        while (c < need)
                c *= 2;
        q = realloc(*p, c * elem);
        if (!q)
                return NT_ERR_NOMEM;
        *p = q;
        *cap = c;
        return 0;
}

static uint32_t b_new_node(struct builder *b)
{
        if (grow(&b->nodes, &b->cap, b->n + 1, sizeof(*b->nodes)))
                return NONE32;
        memset(&b->nodes[b->n], 0, sizeof(b->nodes[0]));
        b->nodes[b->n].exact = b->nodes[b->n].prefix = NONE32;
        return (uint32_t)b->n++;
}

/* Inserts a word (or prefix) and returns its lexeme, NONE32 on NOMEM. */
static uint32_t b_insert(struct builder *b, const char *w, bool prefix)
{
        uint32_t node = 0, i, k, next;
        size_t len = strlen(w);

        for (i = 0; i < len; i++) {
                struct bnode *bn = &b->nodes[node];
                uint8_t c = (uint8_t)w[i];

                next = NONE32;
                for (k = 0; k < bn->n; k++)
                        if (bn->lab[k] == c)
                                next = bn->kid[k];
                if (next == NONE32) {
                        size_t cap;

                        next = b_new_node(b);
                        if (next == NONE32)
                                return NONE32;
                        bn = &b->nodes[node]; /* nodes may have moved */
                        cap = bn->cap;
                        if (grow(&bn->lab, &cap, bn->n + 1, 1))
                                return NONE32;
                        cap = bn->cap;
                        if (grow(&bn->kid, &cap, bn->n + 1, sizeof(uint32_t)))
                                return NONE32;
                        bn->cap = (uint32_t)cap;
                        bn->lab[bn->n] = c;
                        bn->kid[bn->n] = next;
                        bn->n++;
                }
                node = next;
        }
        if (prefix) {
                if (b->nodes[node].prefix == NONE32)
                        b->nodes[node].prefix = (uint32_t)b->n_lex++;
                return b->nodes[node].prefix;
        }
        if (b->nodes[node].exact == NONE32)
                b->nodes[node].exact = (uint32_t)b->n_lex++;
        return b->nodes[node].exact;
}

static void b_free(struct builder *b)
{
        size_t i;

        for (i = 0; i < b->n; i++) {
                free(b->nodes[i].lab);
                free(b->nodes[i].kid);
        }
        free(b->nodes);
}

/* Lays the builder's nodes out into the compact arrays. */
static int freeze(nt_match_t *m, struct builder *b)
{
        size_t i, k, n_sparse = 0, n_dense = 0, si = 0, di = 0;

        for (i = 0; i < b->n; i++) {
                if (i == 0 || b->nodes[i].n > DENSE_MIN)
                        n_dense++;
                else
                        n_sparse += b->nodes[i].n;
        }
        m->nodes = calloc(b->n, sizeof(*m->nodes));
        m->labels = malloc(n_sparse + 1);
        m->child = malloc((n_sparse + 1) * sizeof(*m->child));
        m->dense = calloc(n_dense * 256, sizeof(*m->dense));
        if (!m->nodes || !m->labels || !m->child || !m->dense)
                return NT_ERR_NOMEM;
        m->n_nodes = b->n;
        for (i = 0; i < b->n; i++) {
                const struct bnode *bn = &b->nodes[i];
                struct tnode *tn = &m->nodes[i];

                tn->exact = bn->exact;
                tn->prefix = bn->prefix;
                if (i == 0 || bn->n > DENSE_MIN) {
                        tn->dense = 1;
                        tn->first = (uint32_t)(di * 256);
                        for (k = 0; k < bn->n; k++)
                                m->dense[di * 256 + bn->lab[k]] = bn->kid[k];
                        di++;
                } else {
                        tn->first = (uint32_t)si;
                        tn->n = (uint16_t)bn->n;
                        for (k = 0; k < bn->n; k++) {
                                m->labels[si] = bn->lab[k];
                                m->child[si] = bn->kid[k];
                                si++;
                        }
                }
        }
        return 0;
}

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

/* Collects the terms an expression uses, through lists, once each. */
static int collect_terms(const struct nt_rules *r, uint32_t node,
                         uint32_t *mark, uint32_t stamp, uint32_t **out,
                         size_t *n, size_t *cap)
{
        const struct nt_rules_node *nd;
        uint32_t i;
        int err;

        if (node == NT_RULES_NONE)
                return 0;
        nd = &r->nodes[node];
        switch (nd->op) {
        case NT_RULES_TERM:
                if (mark[nd->term] == stamp)
                        return 0;
                mark[nd->term] = stamp;
                if (grow(out, cap, *n + 1, sizeof(**out)))
                        return NT_ERR_NOMEM;
                (*out)[(*n)++] = nd->term;
                return 0;
        case NT_RULES_REF:
                return collect_terms(r, r->defines[nd->ref].expr, mark, stamp,
                                     out, n, cap);
        default:
                for (i = 0; i < nd->n_kids; i++) {
                        err = collect_terms(r, r->kids[nd->kid0 + i], mark,
                                            stamp, out, n, cap);
                        if (err)
                                return err;
                }
                return 0;
        }
}

static int cmp_u32(const void *a, const void *b)
{
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

        return (x > y) - (x < y);
}

/* Builds owner -> terms lists for topics or entities and inverts them into
 * term -> owners. */
static int build_owners(const struct nt_rules *r, bool topics,
                        uint32_t **own_off, uint32_t **own_terms,
                        uint32_t **term_off, uint32_t **term_owners)
{
        size_t n_own = topics ? r->n_topics : r->n_entities;
        uint32_t *mark = calloc(r->n_terms + 1, sizeof(*mark));
        uint32_t *list = NULL, *cnt = NULL;
        size_t n = 0, cap = 0, i, k;
        int err = NT_ERR_NOMEM;

        *own_off = calloc(n_own + 1, sizeof(**own_off));
        *term_off = calloc(r->n_terms + 1, sizeof(**term_off));
        cnt = calloc(r->n_terms + 1, sizeof(*cnt));
        if (!mark || !*own_off || !*term_off || !cnt)
                goto out;
        for (i = 0; i < n_own; i++) {
                size_t from = n;

                (*own_off)[i] = (uint32_t)n;
                if (topics) {
                        const struct nt_rules_topic *tp = &r->topics[i];

                        err = collect_terms(r, tp->match, mark, (uint32_t)i + 1,
                                            &list, &n, &cap);
                        if (!err)
                                err = collect_terms(r, tp->require, mark,
                                                    (uint32_t)i + 1, &list, &n,
                                                    &cap);
                        if (!err)
                                err = collect_terms(r, tp->exclude, mark,
                                                    (uint32_t)i + 1, &list, &n,
                                                    &cap);
                        if (!err)
                                err = collect_terms(r, tp->veto, mark,
                                                    (uint32_t)i + 1, &list, &n,
                                                    &cap);
                } else {
                        err = collect_terms(r, r->entities[i].expr, mark,
                                            (uint32_t)i + 1, &list, &n, &cap);
                }
                if (err)
                        goto out;
                qsort(list + from, n - from, sizeof(*list), cmp_u32);
        }
        (*own_off)[n_own] = (uint32_t)n;
        *own_terms = list ? list : calloc(1, sizeof(*list));
        list = NULL;
        if (!*own_terms)
                goto out;
        for (i = 0; i < n; i++)
                cnt[(*own_terms)[i]]++;
        for (i = 0; i < r->n_terms; i++)
                (*term_off)[i + 1] = (*term_off)[i] + cnt[i];
        *term_owners = calloc(n + 1, sizeof(**term_owners));
        if (!*term_owners)
                goto out;
        memset(cnt, 0, (r->n_terms + 1) * sizeof(*cnt));
        for (i = 0; i < n_own; i++)
                for (k = (*own_off)[i]; k < (*own_off)[i + 1]; k++) {
                        uint32_t t = (*own_terms)[k];

                        (*term_owners)[(*term_off)[t] + cnt[t]++] = (uint32_t)i;
                }
        err = 0;
out:
        free(list);
        free(mark);
        free(cnt);
        return err;
}

/* term -> the topics whose match expression uses it. Only these terms
 * need to trigger a topic's evaluation: a match is never true without one
 * of its own terms (the rules checks see to it), so a require, exclude or
 * veto term alone ("Ukraine", a plant's name in a veto) cannot label the
 * topic. Replaces the lists build_owners() made from all the terms. */
static int build_triggers(nt_match_t *m)
{
        const struct nt_rules *r = m->rules;
        uint32_t *mark = calloc(r->n_terms + 1, sizeof(*mark));
        uint32_t *cnt = calloc(r->n_terms + 1, sizeof(*cnt));
        uint32_t *off = calloc(r->n_topics + 1, sizeof(*off));
        uint32_t *list = NULL, *t_off = NULL, *t_topics = NULL;
        size_t n = 0, cap = 0, i, k;
        int err = NT_ERR_NOMEM;

        if (!mark || !cnt || !off)
                goto out;
        for (i = 0; i < r->n_topics; i++) {
                off[i] = (uint32_t)n;
                err = collect_terms(r, r->topics[i].match, mark,
                                    (uint32_t)i + 1, &list, &n, &cap);
                if (err)
                        goto out;
                err = NT_ERR_NOMEM;
        }
        off[r->n_topics] = (uint32_t)n;
        t_off = calloc(r->n_terms + 1, sizeof(*t_off));
        t_topics = calloc(n + 1, sizeof(*t_topics));
        if (!t_off || !t_topics)
                goto out;
        for (i = 0; i < n; i++)
                cnt[list[i]]++;
        for (i = 0; i < r->n_terms; i++)
                t_off[i + 1] = t_off[i] + cnt[i];
        memset(cnt, 0, (r->n_terms + 1) * sizeof(*cnt));
        for (i = 0; i < r->n_topics; i++)
                for (k = off[i]; k < off[i + 1]; k++)
                        t_topics[t_off[list[k]] + cnt[list[k]]++] = (uint32_t)i;
        free(m->term_topic_off);
        free(m->term_topics);
        m->term_topic_off = t_off;
        m->term_topics = t_topics;
        t_off = t_topics = NULL;
        err = 0;
out:
        free(mark);
        free(cnt);
        free(off);
        free(list);
        free(t_off);
        free(t_topics);
        return err;
}

/* Fills m->positional[node] (2 for yes, 1 for no while building; 0 not
 * yet known). Lists nest boundedly (the rules checks). */
static uint8_t find_positional(nt_match_t *m, uint32_t node)
{
        const struct nt_rules *r = m->rules;
        const struct nt_rules_node *n = &r->nodes[node];
        uint8_t v = 1;
        uint32_t i;

        if (m->positional[node])
                return m->positional[node];
        switch (n->op) {
        case NT_RULES_TERM:
        case NT_RULES_NEAR:
        case NT_RULES_ONEAR:
        case NT_RULES_EXCEPT:
                v = 2;
                break;
        case NT_RULES_FIELD:
                v = find_positional(m, r->kids[n->kid0]);
                break;
        case NT_RULES_REF:
                v = find_positional(m, r->defines[n->ref].expr);
                break;
        case NT_RULES_OR:
                v = 2;
                for (i = 0; i < n->n_kids && v == 2; i++)
                        v = find_positional(m, r->kids[n->kid0 + i]);
                break;
        default:
                v = 1;
                break;
        }
        m->positional[node] = v;
        return v;
}

#define OR_SET_MIN 8 /* alternatives from which an OR gets a term set */

static bool has_term_set(const nt_match_t *m, uint32_t node)
{
        const struct nt_rules_node *nd = &m->rules->nodes[node];

        return nd->op == NT_RULES_SENT ||
               (nd->op == NT_RULES_OR && nd->n_kids >= OR_SET_MIN);
}

static int build_term_sets(nt_match_t *m)
{
        const struct nt_rules *r = m->rules;
        size_t i, n_sets = 0, n_rest = 0, w = r->n_terms / 64 + 1;
        uint32_t k, next = 0;

        m->set_words = w;
        m->node_set = malloc((r->n_nodes + 1) * sizeof(*m->node_set));
        m->or_rest_off = calloc(r->n_nodes + 1, sizeof(*m->or_rest_off));
        if (!m->node_set || !m->or_rest_off)
                return NT_ERR_NOMEM;
        for (i = 0; i < r->n_nodes; i++) {
                m->node_set[i] = NONE32;
                if (!has_term_set(m, (uint32_t)i))
                        continue;
                n_sets++;
                if (r->nodes[i].op == NT_RULES_OR)
                        for (k = 0; k < r->nodes[i].n_kids; k++)
                                n_rest +=
                                    m->kid_term[r->nodes[i].kid0 + k] == NONE32;
        }
        m->term_sets = calloc(n_sets * w + 1, sizeof(*m->term_sets));
        m->or_rest = calloc(n_rest + 1, sizeof(*m->or_rest));
        if (!m->term_sets || !m->or_rest)
                return NT_ERR_NOMEM;
        n_rest = 0;
        for (i = 0; i < r->n_nodes; i++) {
                const struct nt_rules_node *nd = &r->nodes[i];
                uint64_t *bits;

                m->or_rest_off[i] = (uint32_t)n_rest;
                if (!has_term_set(m, (uint32_t)i))
                        continue;
                m->node_set[i] = next;
                bits = m->term_sets + next;
                next += (uint32_t)w;
                if (nd->op == NT_RULES_SENT) {
                        for (k = m->sent_term_off[i];
                             k < m->sent_term_off[i + 1]; k++)
                                bits[m->sent_terms[k] >> 6] |=
                                    (uint64_t)1 << (m->sent_terms[k] & 63);
                        continue;
                }
                for (k = 0; k < nd->n_kids; k++) {
                        uint32_t t = m->kid_term[nd->kid0 + k];

                        if (t == NONE32)
                                m->or_rest[n_rest++] = nd->kid0 + k;
                        else
                                bits[t >> 6] |= (uint64_t)1 << (t & 63);
                }
        }
        m->or_rest_off[r->n_nodes] = (uint32_t)n_rest;
        m->topic_sets = calloc(r->n_topics * w + 1, sizeof(*m->topic_sets));
        if (!m->topic_sets)
                return NT_ERR_NOMEM;
        for (i = 0; i < r->n_topics; i++)
                for (k = m->topic_term_off[i]; k < m->topic_term_off[i + 1];
                     k++)
                        m->topic_sets[i * w + (m->topic_terms[k] >> 6)] |=
                            (uint64_t)1 << (m->topic_terms[k] & 63);
        return 0;
}

static int build_positional(nt_match_t *m)
{
        size_t i;

        m->positional = calloc(m->rules->n_nodes + 1, 1);
        if (!m->positional)
                return NT_ERR_NOMEM;
        for (i = 0; i < m->rules->n_nodes; i++)
                find_positional(m, (uint32_t)i);
        for (i = 0; i < m->rules->n_nodes; i++)
                m->positional[i] = m->positional[i] == 2;
        return 0;
}

/* The terms under each sentence: scope, as CSR lists over the rules'
 * nodes. */
static int build_sentence_terms(nt_match_t *m)
{
        const struct nt_rules *r = m->rules;
        uint32_t *mark = calloc(r->n_terms + 1, sizeof(*mark));
        uint32_t *list = NULL;
        size_t n = 0, cap = 0, i;
        int err = NT_ERR_NOMEM;

        m->sent_term_off = calloc(r->n_nodes + 1, sizeof(uint32_t));
        if (!mark || !m->sent_term_off)
                goto out;
        for (i = 0; i < r->n_nodes; i++) {
                const struct nt_rules_node *nd = &r->nodes[i];

                m->sent_term_off[i] = (uint32_t)n;
                if (nd->op != NT_RULES_SENT)
                        continue;
                err = collect_terms(r, r->kids[nd->kid0], mark, (uint32_t)i + 1,
                                    &list, &n, &cap);
                if (err)
                        goto out;
                err = NT_ERR_NOMEM;
        }
        m->sent_term_off[r->n_nodes] = (uint32_t)n;
        m->sent_terms = list ? list : calloc(1, sizeof(*list));
        list = NULL;
        if (m->sent_terms)
                err = 0;
out:
        free(list);
        free(mark);
        return err;
}

int nt_match_compile(struct nt_rules *rules, nt_match_t **out, char *errstr,
                     size_t errstr_size)
{
        struct builder b = {0};
        nt_match_t *m;
        uint32_t *cnt = NULL;
        size_t i, k, n_words = 0;
        unsigned prefix_lens = 0;
        int err = NT_ERR_NOMEM;

        *out = NULL;
        m = calloc(1, sizeof(*m));
        if (!m || b_new_node(&b) == NONE32)
                goto out;
        m->rules = rules;
        for (i = 0; i < rules->n_terms; i++)
                n_words += rules->terms[i].n_words;
        m->term_lex_off = calloc(rules->n_terms + 1, sizeof(uint32_t));
        m->term_lex = calloc(n_words + 1, sizeof(uint32_t));
        if (!m->term_lex_off || !m->term_lex)
                goto out;
        n_words = 0;
        for (i = 0; i < rules->n_terms; i++) {
                const struct nt_rules_term *t = &rules->terms[i];

                m->term_lex_off[i] = (uint32_t)n_words;
                for (k = 0; k < t->n_words; k++) {
                        uint32_t lex = b_insert(&b, t->words[k], t->prefix[k]);
                        const uint8_t *w = (const uint8_t *)t->words[k];
                        size_t wl = strlen(t->words[k]);

                        if (wl >= 4)
                                filter_set(m->first4,
                                           head_hash(word_head(w, wl), 4));
                        if (wl >= HEAD_MAX) {
                                filter_set(
                                    m->filter,
                                    head_hash(word_head(w, wl), HEAD_MAX));
                        } else {
                                filter_set(m->filter,
                                           head_hash(word_head(w, wl), wl));
                                if (t->prefix[k])
                                        prefix_lens |= 1u << wl;
                        }

                        if (lex == NONE32)
                                goto out;
                        m->term_lex[n_words++] = lex;
                }
        }
        m->term_lex_off[rules->n_terms] = (uint32_t)n_words;
        for (i = 1; i < HEAD_MAX; i++)
                if (prefix_lens & (1u << i))
                        m->plens[m->n_plens++] = (uint8_t)i;
        m->use_first4 = (prefix_lens & 0xFu) == 0;
        m->node_term = malloc((rules->n_nodes + 1) * sizeof(uint32_t));
        if (!m->node_term)
                goto out;
        for (i = 0; i < rules->n_nodes; i++)
                m->node_term[i] = rules->nodes[i].op == NT_RULES_TERM
                                      ? rules->nodes[i].term
                                      : NONE32;
        m->kid_term = malloc((rules->n_kids + 1) * sizeof(uint32_t));
        if (!m->kid_term)
                goto out;
        for (i = 0; i < rules->n_kids; i++)
                m->kid_term[i] = m->node_term[rules->kids[i]];
        m->n_lex = b.n_lex;
        err = freeze(m, &b);
        if (err)
                goto out;
        err = NT_ERR_NOMEM;
        /* lexeme -> the terms that start with it */
        m->lex_term_off = calloc(m->n_lex + 1, sizeof(uint32_t));
        m->lex_terms = calloc(rules->n_terms + 1, sizeof(uint32_t));
        cnt = calloc(m->n_lex + 1, sizeof(uint32_t));
        if (!m->lex_term_off || !m->lex_terms || !cnt)
                goto out;
        for (i = 0; i < rules->n_terms; i++)
                cnt[m->term_lex[m->term_lex_off[i]]]++;
        for (i = 0; i < m->n_lex; i++)
                m->lex_term_off[i + 1] = m->lex_term_off[i] + cnt[i];
        memset(cnt, 0, (m->n_lex + 1) * sizeof(uint32_t));
        for (i = 0; i < rules->n_terms; i++) {
                uint32_t lex = m->term_lex[m->term_lex_off[i]];

                m->lex_terms[m->lex_term_off[lex] + cnt[lex]++] = (uint32_t)i;
        }
        err = build_owners(rules, true, &m->topic_term_off, &m->topic_terms,
                           &m->term_topic_off, &m->term_topics);
        if (!err)
                err =
                    build_owners(rules, false, &m->ent_term_off, &m->ent_terms,
                                 &m->term_ent_off, &m->term_ents);
        if (!err)
                err = build_triggers(m);
        if (!err)
                err = build_sentence_terms(m);
        if (!err)
                err = build_positional(m);
        if (!err)
                err = build_term_sets(m);
        if (err)
                goto out;
        *out = m;
        m = NULL;
out:
        if (err)
                nt_errf(errstr, errstr_size, err, "compiling rules: %s",
                        nt_err_name(err));
        if (m)
                m->rules = NULL; /* the caller keeps the rules on failure */
        nt_match_destroy(m);
        b_free(&b);
        free(cnt);
        return err;
}

struct nt_rules *nt_match_release(nt_match_t *m)
{
        struct nt_rules *r = m->rules;

        m->rules = NULL;
        nt_match_destroy(m);
        return r;
}

void nt_match_destroy(nt_match_t *m)
{
        if (!m)
                return;
        nt_rules_destroy(m->rules);
        free(m->nodes);
        free(m->labels);
        free(m->child);
        free(m->dense);
        free(m->lex_term_off);
        free(m->lex_terms);
        free(m->term_lex_off);
        free(m->term_lex);
        free(m->term_topic_off);
        free(m->term_topics);
        free(m->term_ent_off);
        free(m->term_ents);
        free(m->topic_term_off);
        free(m->topic_terms);
        free(m->ent_term_off);
        free(m->ent_terms);
        free(m->node_term);
        free(m->kid_term);
        free(m->sent_term_off);
        free(m->sent_terms);
        free(m->term_sets);
        free(m->node_set);
        free(m->or_rest_off);
        free(m->or_rest);
        free(m->topic_sets);
        free(m->positional);
        free(m);
}

const struct nt_rules *nt_match_rules(const nt_match_t *m)
{
        return m->rules;
}

size_t nt_match_lexeme_count(const nt_match_t *m)
{
        return m->n_lex;
}

const uint32_t *nt_match_topic_terms(const nt_match_t *m, uint32_t topic,
                                     size_t *n)
{
        *n = m->topic_term_off[topic + 1] - m->topic_term_off[topic];
        return m->topic_terms + m->topic_term_off[topic];
}

/* ---- running ---- */

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
 * costs less than the filter probes and the trie walk it replaces. */
#define WC_BITS    12
#define WC_MAX_LEN 16
#define WC_MAX_LEX 3

struct wcache {
        uint64_t w0, w1; /* first and last 8 bytes (masked when short) */
        uint32_t lex[WC_MAX_LEX];
        uint8_t len; /* 0: empty slot */
        uint8_t n;
};

struct nt_match_scratch {
        const nt_match_t *m;
        struct wcache *wc; /* 1 << WC_BITS slots, tied to m */
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

nt_match_scratch_t *nt_match_scratch_new(const nt_match_t *m)
{
        const struct nt_rules *r = m->rules;
        nt_match_scratch_t *s = calloc(1, sizeof(*s));
        size_t nl = m->n_lex + 1, nt = r->n_terms + 1, np = r->n_topics + 1;

        if (!s)
                return NULL;
        s->m = m;
        nt_tokens_init(&s->toks, NT_MATCH_MAX_TOKENS);
        s->lex_gen = calloc(nl, sizeof(uint32_t));
        s->lex_cnt = calloc(nl, sizeof(uint32_t));
        s->lex_off = calloc(nl, sizeof(uint32_t));
        s->touched_lex = calloc(nl, sizeof(uint32_t));
        s->term_gen = calloc(nt, sizeof(uint32_t));
        s->term_off = calloc(nt, sizeof(uint32_t));
        s->term_n = calloc(nt, sizeof(uint32_t));
        s->touched_terms = calloc(nt, sizeof(uint32_t));
        s->tt = calloc(nt, sizeof(uint32_t));
        s->topic_gen = calloc(np, sizeof(uint32_t));
        s->touched_topics = calloc(np, sizeof(uint32_t));
        s->topics = calloc(np, sizeof(*s->topics));
        s->topic_ev_off = calloc(np, sizeof(size_t));
        s->ents = calloc(r->n_entities + 1, sizeof(*s->ents));
        s->memo =
            calloc((r->n_defines + 1) << NT_FIELD_COUNT, sizeof(*s->memo));
        s->wc = calloc((size_t)1 << WC_BITS, sizeof(*s->wc));
        s->present = calloc(nt / 64 + 1, sizeof(uint64_t));
        if (!s->wc || !s->present || !s->lex_gen || !s->lex_cnt ||
            !s->lex_off || !s->touched_lex || !s->term_gen || !s->term_off ||
            !s->term_n || !s->touched_terms || !s->tt || !s->topic_gen ||
            !s->touched_topics || !s->topics || !s->topic_ev_off || !s->ents ||
            !s->memo) {
                nt_match_scratch_destroy(s);
                return NULL;
        }
        return s;
}

void nt_match_scratch_destroy(nt_match_scratch_t *s)
{
        if (!s)
                return;
        nt_tokens_free(&s->toks);
        free(s->wc);
        free(s->present);
        free(s->hit_off);
        free(s->hits);
        free(s->hit_tok);
        free(s->lex_gen);
        free(s->lex_cnt);
        free(s->lex_off);
        free(s->touched_lex);
        free(s->lex_occ);
        free(s->term_gen);
        free(s->term_off);
        free(s->term_n);
        free(s->touched_terms);
        free(s->occ);
        free(s->topic_gen);
        free(s->touched_topics);
        free(s->topics);
        free(s->topic_ev_off);
        free(s->ev);
        free(s->ent_pos);
        free(s->ents);
        free(s->spans);
        free(s->list);
        free(s->keys);
        free(s->memo);
        free(s->memo_list);
        free(s->sent);
        free(s->sent_first);
        free(s->cand);
        free(s->kspans);
        free(s->sets);
        free(s->tmp);
        free(s->tt);
        free(s);
}

size_t nt_match_term_hits(const nt_match_scratch_t *s, uint32_t term)
{
        return s->term_gen[term] == s->gen ? s->term_n[term] : 0;
}

const struct nt_match_occ *nt_match_term_occ(const nt_match_scratch_t *s,
                                             uint32_t term, size_t *n)
{
        *n = nt_match_term_hits(s, term);
        return *n ? s->occ + s->term_off[term] : NULL;
}

static int add_hit(nt_match_scratch_t *s, uint32_t lex, uint32_t tok)
{
        if (s->n_hits == s->hits_cap) {
                size_t cap = s->hits_cap;

                if (grow(&s->hits, &cap, s->n_hits + 1, sizeof(*s->hits)) ||
                    grow(&s->hit_tok, &s->hits_cap, s->n_hits + 1,
                         sizeof(*s->hit_tok)))
                        return NT_ERR_NOMEM;
        }
        s->hit_tok[s->n_hits] = tok;
        s->hits[s->n_hits++] = lex;
        if (s->lex_gen[lex] != s->gen) {
                s->lex_gen[lex] = s->gen;
                s->lex_cnt[lex] = 0;
                s->touched_lex[s->n_touched_lex++] = lex;
        }
        s->lex_cnt[lex]++;
        return 0;
}

/* False when no lexeme can match the word: none has its head (or, for a
 * short word, its bytes), and no short prefix its first bytes. */
static inline bool maybe_lexeme(const nt_match_t *m, const uint8_t *w,
                                size_t len)
{
        uint64_t x = head_bytes(w);
        size_t k;

        if (m->use_first4 && len >= 4 &&
            !filter_has(m->first4, head_hash(x, 4)))
                return false;
        if (filter_has(m->filter,
                       head_hash(x, len < HEAD_MAX ? len : HEAD_MAX)))
                return true;
        for (k = 0; k < m->n_plens && m->plens[k] < len; k++)
                if (filter_has(m->filter, head_hash(x, m->plens[k])))
                        return true;
        return false;
}

/* Walks one word down the trie, recording the lexemes it matches: the
 * prefixes met on the way and the word when the walk ends on one. */
static int walk_word(const nt_match_t *m, nt_match_scratch_t *s,
                     const uint8_t *w, size_t len, uint32_t tok)
{
        uint32_t node = 0;
        size_t k;
        int err;

        if (!maybe_lexeme(m, w, len))
                return 0;
        for (k = 0; k < len; k++) {
                node = step(m, node, w[k]);
                if (!node)
                        break;
                if (m->nodes[node].prefix != NONE32) {
                        err = add_hit(s, m->nodes[node].prefix, tok);
                        if (err)
                                return err;
                }
        }
        if (node && len > 0 && m->nodes[node].exact != NONE32)
                return add_hit(s, m->nodes[node].exact, tok);
        return 0;
}

/* Per word length 0..WC_MAX_LEN: the mask of its bytes among its first
 * 8 (lo); where its last 8 bytes start when it is longer than 8, and the
 * mask that keeps them (hi). Tables, not tests of the length: word lengths
 * vary at random, and branches on them mispredict. */
static const uint64_t wc_lo[WC_MAX_LEN + 1] = {
    0,          0xFF,         0xFFFF,         0xFFFFFF,
    0xFFFFFFFF, 0xFFFFFFFFFF, 0xFFFFFFFFFFFF, 0xFFFFFFFFFFFFFF,
    UINT64_MAX, UINT64_MAX,   UINT64_MAX,     UINT64_MAX,
    UINT64_MAX, UINT64_MAX,   UINT64_MAX,     UINT64_MAX,
    UINT64_MAX,
};
static const uint8_t wc_hi_off[WC_MAX_LEN + 1] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8,
};
static const uint64_t wc_hi[WC_MAX_LEN + 1] = {
    0,          0,          0,          0,          0,          0,
    0,          0,          0,          UINT64_MAX, UINT64_MAX, UINT64_MAX,
    UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX,
};

/* The word cache's key of a word of 0 to WC_MAX_LEN bytes: its length
 * and its first and last 8 bytes, which overlap for fewer than 16 and
 * cover all of it; and its slot. */
struct wc_key {
        uint64_t w0, w1;
        size_t slot;
};

static inline struct wc_key wc_key(const uint8_t *w, size_t len)
{
        struct wc_key k;

        k.w0 = head_bytes(w) & wc_lo[len];
        k.w1 = head_bytes(w + wc_hi_off[len]) & wc_hi[len];
        k.slot = (size_t)(((k.w0 * 0x9E3779B97F4A7C15ull) ^
                           (k.w1 * 0xC2B2AE3D27D4EB4Full) ^ len) >>
                          (64 - WC_BITS));
        return k;
}

/* The length a token's key is made of: its own, or 0 (a key that is
 * never looked up) past WC_MAX_LEN; without a branch. */
static inline size_t wc_len(size_t len)
{
        return len & ((size_t)0 - (size_t)(len <= WC_MAX_LEN));
}

/* Walks every token down the trie, through the word cache for short
 * words. The cache is larger than the first-level data cache and its
 * slots are met at random: the next token's slot is found and fetched
 * while this token's is read, so that the waits for memory overlap. */
static int find_lexemes(const nt_match_t *m, nt_match_scratch_t *s)
{
        const struct nt_tokens *t = &s->toks;
        size_t i, k, cap = s->hit_off_cap;
        struct wc_key key, next = {0, 0, 0};
        int err;

        if (grow(&s->hit_off, &cap, t->n + 1, sizeof(*s->hit_off)))
                return NT_ERR_NOMEM;
        s->hit_off_cap = cap;
        if (t->n > 0)
                next = wc_key((const uint8_t *)nt_tokens_norm(t, 0),
                              wc_len(t->tok[0].norm_len));
        for (i = 0; i < t->n; i++) {
                const uint8_t *w = (const uint8_t *)nt_tokens_norm(t, i);
                size_t len = t->tok[i].norm_len, first = s->n_hits;
                struct wcache *e;

                key = next;
                e = &s->wc[key.slot];
                if (i + 1 < t->n) {
                        next = wc_key((const uint8_t *)nt_tokens_norm(t, i + 1),
                                      wc_len(t->tok[i + 1].norm_len));
                        __builtin_prefetch(&s->wc[next.slot]);
                }
                s->hit_off[i] = (uint32_t)first;
                if (len == 0 || len > WC_MAX_LEN) {
                        err = walk_word(m, s, w, len, (uint32_t)i);
                        if (err)
                                return err;
                        continue;
                }
                if (e->len == len && e->w0 == key.w0 && e->w1 == key.w1) {
                        /* Most words match nothing. */
                        if (e->n == 0)
                                continue;
                        for (k = 0; k < e->n; k++) {
                                err = add_hit(s, e->lex[k], (uint32_t)i);
                                if (err)
                                        return err;
                        }
                        continue;
                }
                err = walk_word(m, s, w, len, (uint32_t)i);
                if (err)
                        return err;
                if (s->n_hits - first > WC_MAX_LEX)
                        continue;
                e->w0 = key.w0;
                e->w1 = key.w1;
                e->len = (uint8_t)len;
                e->n = (uint8_t)(s->n_hits - first);
                for (k = 0; k < e->n; k++)
                        e->lex[k] = s->hits[first + k];
        }
        s->hit_off[t->n] = (uint32_t)s->n_hits;
        return 0;
}

/* Lays out each touched lexeme's occurrences, in token order. */
static int place_lexemes(nt_match_scratch_t *s)
{
        size_t i, total = 0, cap = s->lex_occ_cap;

        for (i = 0; i < s->n_touched_lex; i++) {
                uint32_t lex = s->touched_lex[i];

                s->lex_off[lex] = (uint32_t)total;
                total += s->lex_cnt[lex];
                s->lex_cnt[lex] = 0;
        }
        if (grow(&s->lex_occ, &cap, total + 1, sizeof(*s->lex_occ)))
                return NT_ERR_NOMEM;
        s->lex_occ_cap = cap;
        for (i = 0; i < s->n_hits; i++) {
                uint32_t lex = s->hits[i];

                s->lex_occ[s->lex_off[lex] + s->lex_cnt[lex]++] = s->hit_tok[i];
        }
        return 0;
}

static bool token_has(const nt_match_scratch_t *s, size_t tok, uint32_t lex)
{
        uint32_t k;

        for (k = s->hit_off[tok]; k < s->hit_off[tok + 1]; k++)
                if (s->hits[k] == lex)
                        return true;
        return false;
}

/* Turns lexeme occurrences into term occurrences: a phrase occurs where
 * its first word does and each next word follows in the same field. */
static int find_terms(const nt_match_t *m, nt_match_scratch_t *s)
{
        const struct nt_token *tok = s->toks.tok;
        size_t i, o, j;
        uint32_t k;

        for (i = 0; i < s->n_touched_lex; i++) {
                uint32_t lex = s->touched_lex[i];

                for (k = m->lex_term_off[lex]; k < m->lex_term_off[lex + 1];
                     k++) {
                        uint32_t term = m->lex_terms[k];
                        const uint32_t *w = m->term_lex + m->term_lex_off[term];
                        size_t nw =
                            m->term_lex_off[term + 1] - m->term_lex_off[term];
                        size_t first = s->n_occ;

                        for (o = 0; o < s->lex_cnt[lex]; o++) {
                                uint32_t p = s->lex_occ[s->lex_off[lex] + o];

                                for (j = 1; j < nw; j++) {
                                        size_t q = p + j;

                                        if (q >= s->toks.n ||
                                            tok[q].field != tok[p].field ||
                                            !token_has(s, q, w[j]))
                                                break;
                                }
                                if (j < nw)
                                        continue;
                                if (grow(&s->occ, &s->occ_cap, s->n_occ + 1,
                                         sizeof(*s->occ)))
                                        return NT_ERR_NOMEM;
                                s->occ[s->n_occ].start = p;
                                s->occ[s->n_occ].end = (uint32_t)(p + nw - 1);
                                s->n_occ++;
                        }
                        if (s->n_occ == first)
                                continue;
                        s->term_gen[term] = s->gen;
                        s->term_off[term] = (uint32_t)first;
                        s->term_n[term] = (uint32_t)(s->n_occ - first);
                        s->touched_terms[s->n_touched_terms++] = term;
                        s->present[term >> 6] |= (uint64_t)1 << (term & 63);
                }
        }
        return 0;
}

static uint32_t new_span(nt_match_scratch_t *s, const struct span *sp)
{
        if (s->n_spans >= NT_MATCH_MAX_SPANS) {
                s->truncated = true;
                return NONE32;
        }
        if (grow(&s->spans, &s->spans_cap, s->n_spans + 1, sizeof(*s->spans))) {
                s->nomem = true;
                return NONE32;
        }
        s->spans[s->n_spans] = *sp;
        return (uint32_t)s->n_spans++;
}

static bool push_list(nt_match_scratch_t *s, uint32_t span)
{
        if (grow(&s->list, &s->list_cap, s->n_list + 1, sizeof(*s->list))) {
                s->nomem = true;
                return false;
        }
        s->list[s->n_list++] = span;
        return true;
}

static uint64_t span_key(uint8_t field, uint32_t pos)
{
        return ((uint64_t)field << 32) | pos;
}

static int cmp_keyed(const void *a, const void *b)
{
        const struct keyed *x = a, *y = b;

        return (x->key > y->key) - (x->key < y->key);
}

static struct res eval(const nt_match_t *m, nt_match_scratch_t *s,
                       uint32_t node, unsigned mask);

static struct res eval_except(const nt_match_t *m, nt_match_scratch_t *s,
                              const struct nt_rules_node *nd, unsigned mask);

static struct res eval_sent(const nt_match_t *m, nt_match_scratch_t *s,
                            uint32_t node, unsigned mask);

/* NEAR/n and ONEAR/n: pairs of a span from each side, in the same field,
 * at most n words apart (from the end of the first to the start of the
 * second: adjacent words are 1 apart), not overlapping. */
static struct res eval_near(const nt_match_t *m, nt_match_scratch_t *s,
                            const struct nt_rules_node *nd, unsigned mask)
{
        const struct nt_rules *r = m->rules;
        size_t top = s->n_list, na, nb, i, lo, hi, mid, j, cap, out = 0;
        uint32_t dist = nd->dist, maxlen = 0;
        bool ordered = nd->op == NT_RULES_ONEAR;
        struct res ra, rb;

        ra = eval(m, s, r->kids[nd->kid0], mask);
        rb = eval(m, s, r->kids[nd->kid0 + 1], mask);
        na = ra.n;
        nb = rb.n;
        if (!na || !nb || s->nomem)
                goto none;
        cap = s->keys_cap;
        if (grow(&s->keys, &cap, nb, sizeof(*s->keys))) {
                s->nomem = true;
                goto none;
        }
        s->keys_cap = cap;
        for (j = 0; j < nb; j++) {
                const struct span *b = &s->spans[s->list[top + na + j]];

                s->keys[j].key = span_key(b->field, b->start);
                s->keys[j].idx = s->list[top + na + j];
                if (b->end - b->start > maxlen)
                        maxlen = b->end - b->start;
        }
        if (nb > 24) {
                qsort(s->keys, nb, sizeof(*s->keys), cmp_keyed);
        } else {
                /* Short lists, the usual case: insertion sort. */
                for (j = 1; j < nb; j++) {
                        struct keyed kj = s->keys[j];

                        for (lo = j; lo > 0 && s->keys[lo - 1].key > kj.key;
                             lo--)
                                s->keys[lo] = s->keys[lo - 1];
                        s->keys[lo] = kj;
                }
        }
        for (i = 0; i < na; i++) {
                uint32_t ai = s->list[top + i];
                struct span a = s->spans[ai];
                uint64_t from, to;

                if (ordered)
                        from = span_key(a.field, a.end + 1);
                else if (a.start > dist + maxlen)
                        from = span_key(a.field, a.start - dist - maxlen);
                else
                        from = span_key(a.field, 0);
                to = span_key(a.field, a.end + dist);
                lo = 0;
                hi = nb;
                while (lo < hi) {
                        mid = lo + (hi - lo) / 2;
                        if (s->keys[mid].key < from)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                for (j = lo; j < nb && s->keys[j].key <= to; j++) {
                        const struct span *b = &s->spans[s->keys[j].idx];
                        bool after =
                            b->start > a.end && b->start - a.end <= dist;
                        bool before =
                            a.start > b->end && a.start - b->end <= dist;
                        struct span pair;
                        uint32_t pi;

                        if (!(after || (!ordered && before)))
                                continue;
                        if (out >= NT_MATCH_MAX_NEAR_SPANS) {
                                s->truncated = true;
                                break;
                        }
                        pair.field = a.field;
                        pair.start = a.start < b->start ? a.start : b->start;
                        pair.end = a.end > b->end ? a.end : b->end;
                        pair.term = NONE32;
                        pair.kind = SPAN_PAIR;
                        pair.left = ai;
                        pair.right = s->keys[j].idx;
                        pi = new_span(s, &pair);
                        if (pi == NONE32 || !push_list(s, pi))
                                goto done;
                        out++;
                }
        }
done:
        memmove(s->list + top, s->list + top + na + nb, out * sizeof(*s->list));
        s->n_list = top + out;
        return (struct res){(uint32_t)out, out > 0};
none:
        s->n_list = top;
        return (struct res){0, false};
}

/* A EXCEPT B: the spans of A that no span of B overlaps ("territory"
 * except where it is part of "uncharted territory"). */
static struct res eval_except(const nt_match_t *m, nt_match_scratch_t *s,
                              const struct nt_rules_node *nd, unsigned mask)
{
        const struct nt_rules *r = m->rules;
        size_t top = s->n_list, na, nb, i, j, out = 0;
        struct res ra, rb;

        ra = eval(m, s, r->kids[nd->kid0], mask);
        if (!ra.n) {
                s->n_list = top;
                return (struct res){0, false};
        }
        rb = eval(m, s, r->kids[nd->kid0 + 1], mask);
        na = ra.n;
        nb = rb.n;
        for (i = 0; i < na; i++) {
                const struct span *a = &s->spans[s->list[top + i]];

                for (j = 0; j < nb; j++) {
                        const struct span *b = &s->spans[s->list[top + na + j]];

                        if (a->field == b->field && a->start <= b->end &&
                            b->start <= a->end)
                                break;
                }
                if (j == nb)
                        s->list[top + out++] = s->list[top + i];
        }
        s->n_list = top + out;
        return (struct res){(uint32_t)out, out > 0};
}

/* A fresh stamp for the lists' memos: one per topic, and one per
 * sentence a sentence: scope or a veto is tried in, so that a list's spans
 * from one range are never reused in another. */
static uint32_t next_stamp(const nt_match_t *m, nt_match_scratch_t *s)
{
        if (++s->stamp_ctr == 0) {
                memset(s->memo, 0,
                       ((m->rules->n_defines + 1) << NT_FIELD_COUNT) *
                           sizeof(*s->memo));
                s->stamp_ctr = 1;
        }
        return s->stamp_ctr;
}

/* The sentences of the run's tokens, found on first use: most articles
 * touch no sentence rule. */
static int need_sentences(nt_match_scratch_t *s)
{
        size_t n = s->toks.n;

        if (s->sent_gen == s->gen)
                return 0;
        if (grow(&s->sent, &s->sent_cap, n + 1, sizeof(*s->sent)) ||
            grow(&s->sent_first, &s->sent_first_cap, n + 2,
                 sizeof(*s->sent_first)))
                return NT_ERR_NOMEM;
        s->n_sents =
            nt_tokens_sentences(&s->toks, s->in, s->sent, s->sent_first);
        s->sent_gen = s->gen;
        return 0;
}

/* Evaluates node confined to sentences a .. b (one field), with memos of
 * its own; the range and the memo stamp are restored after. */
static struct res eval_in(const nt_match_t *m, nt_match_scratch_t *s,
                          uint32_t node, unsigned mask, uint32_t a, uint32_t b)
{
        uint32_t lo = s->sent_first[a], hi = s->sent_first[b + 1] - 1;
        uint32_t save_lo = s->rlo, save_hi = s->rhi, save = s->memo_stamp;
        struct res r;

        s->rlo = lo > save_lo ? lo : save_lo;
        s->rhi = hi < save_hi ? hi : save_hi;
        s->memo_stamp = next_stamp(m, s);
        r = eval(m, s, node, mask);
        s->rlo = save_lo;
        s->rhi = save_hi;
        s->memo_stamp = save;
        return r;
}

static void sort_u32(uint32_t *v, size_t n)
{
        size_t i, j;

        if (n > 24) {
                qsort(v, n, sizeof(*v), cmp_u32);
                return;
        }
        for (i = 1; i < n; i++) {
                uint32_t x = v[i];

                for (j = i; j > 0 && v[j - 1] > x; j--)
                        v[j] = v[j - 1];
                v[j] = x;
        }
}

/* False when kid i (an index into rules->kids) is a term absent from the
 * text: most alternatives of a long list are, and this tells so from two
 * small arrays without visiting the kid's node. */
static inline bool term_may_occur(const nt_match_t *m,
                                  const nt_match_scratch_t *s, uint32_t i)
{
        uint32_t t = m->kid_term[i];

        return t == NONE32 || (s->present[t >> 6] >> (t & 63)) & 1;
}

/* ---- sentence sets ----
 *
 * sentence:(x) asks in which sentences x holds. Evaluating x once per
 * sentence would walk its long lists once per sentence; instead x's
 * positional parts (terms, alternatives, NEAR) are evaluated once over
 * the whole text, as a word clause is, and their spans sorted into the
 * sentences they lie in; AND intersects those sets, OR unites them and
 * NOT takes the complement within all the article's sentences. A span across a
 * sentence boundary (a NEAR pair over a full stop) belongs to no sentence. */

struct bres {
        uint32_t n;        /* spans at the top of the list arena */
        size_t off, n_set; /* sentences where it holds: s->sets[off..] */
};

static bool set_find(const uint32_t *v, size_t n, uint32_t x)
{
        size_t lo = 0, hi = n, mid;

        while (lo < hi) {
                mid = lo + (hi - lo) / 2;
                if (v[mid] < x)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < n && v[lo] == x;
}

/* Sorts and dedups s->sets[off..n_sets); returns the count. */
static size_t set_close(nt_match_scratch_t *s, size_t off)
{
        size_t n = s->n_sets - off, i, w = 0;
        uint32_t *v = s->sets + off;

        sort_u32(v, n);
        for (i = 0; i < n; i++)
                if (w == 0 || v[i] != v[w - 1])
                        v[w++] = v[i];
        s->n_sets = off + w;
        return w;
}

/* Replaces the sets a = sets[off..off+na) and b = sets[off+na..n_sets)
 * by their intersection, at sets[off..). */
static size_t set_intersect(nt_match_scratch_t *s, size_t off, size_t na)
{
        const uint32_t *a = s->sets + off, *b = a + na;
        size_t nb = s->n_sets - off - na, i = 0, j = 0, w = 0;

        if (grow(&s->tmp, &s->tmp_cap, na + nb + 1, sizeof(*s->tmp))) {
                s->nomem = true;
                s->n_sets = off;
                return 0;
        }
        while (i < na || j < nb) {
                bool ta = i < na && (j >= nb || a[i] <= b[j]);
                bool tb = j < nb && (i >= na || b[j] <= a[i]);
                uint32_t v = ta ? a[i] : b[j];

                if (ta && tb)
                        s->tmp[w++] = v;
                i += ta;
                j += tb;
        }
        if (w)
                memcpy(s->sets + off, s->tmp, w * sizeof(*s->tmp));
        s->n_sets = off + w;
        return w;
}

static bool set_push(nt_match_scratch_t *s, uint32_t v)
{
        if (grow(&s->sets, &s->sets_cap, s->n_sets + 1, sizeof(*s->sets))) {
                s->nomem = true;
                return false;
        }
        s->sets[s->n_sets++] = v;
        return true;
}

/* Keeps the spans at list[top..] that lie in one sentence of the set
 * sets[off..off+n). Returns how many are kept. */
static uint32_t keep_spans_in(nt_match_scratch_t *s, size_t top, size_t off,
                              size_t n)
{
        size_t i, out = top;

        for (i = top; i < s->n_list; i++) {
                const struct span *sp = &s->spans[s->list[i]];
                uint32_t a = s->sent[sp->start];

                if (a == s->sent[sp->end] && set_find(s->sets + off, n, a))
                        s->list[out++] = s->list[i];
        }
        s->n_list = out;
        return (uint32_t)(out - top);
}

/* Pushes the sentences of term t's occurrences in the fields of mask. */
static void term_sentences(nt_match_scratch_t *s, uint32_t t, unsigned mask)
{
        uint32_t i;

        if (s->term_gen[t] != s->gen)
                return;
        for (i = 0; i < s->term_n[t]; i++) {
                const struct nt_match_occ *o = &s->occ[s->term_off[t] + i];

                if ((mask & (1u << s->toks.tok[o->start].field)) &&
                    s->sent[o->start] == s->sent[o->end] &&
                    !set_push(s, s->sent[o->start]))
                        return;
        }
}

/* The sentences of a term or of an OR of terms, without making spans:
 * for a veto and under a NOT, where only the sets count. False when the
 * node is of another kind. */
static bool sets_only(const nt_match_t *m, nt_match_scratch_t *s, uint32_t node,
                      unsigned mask)
{
        const struct nt_rules *r = m->rules;
        const struct nt_rules_node *nd = &r->nodes[node];
        uint32_t i;

        while (nd->op == NT_RULES_REF || nd->op == NT_RULES_FIELD) {
                if (nd->op == NT_RULES_FIELD)
                        mask &= nd->fields;
                node = nd->op == NT_RULES_REF ? r->defines[nd->ref].expr
                                              : r->kids[nd->kid0];
                nd = &r->nodes[node];
        }
        if (nd->op == NT_RULES_TERM) {
                term_sentences(s, nd->term, mask);
                return true;
        }
        if (nd->op != NT_RULES_OR || m->node_set[node] == NONE32 ||
            m->or_rest_off[node] != m->or_rest_off[node + 1])
                return false;
        for (i = 0; i < s->n_tt; i++) {
                uint32_t t = s->tt[i];

                if ((m->term_sets[m->node_set[node] + (t >> 6)] >> (t & 63)) &
                    1)
                        term_sentences(s, t, mask);
        }
        return true;
}

static struct bres eval_bucket(const nt_match_t *m, nt_match_scratch_t *s,
                               uint32_t node, unsigned mask, bool spans)
{
        const struct nt_rules *r = m->rules;
        const struct nt_rules_node *nd = &r->nodes[node];
        size_t top = s->n_list, i, w, cur = 0;
        struct bres out = {0, s->n_sets, 0}, kr;
        uint32_t k;

        if (m->positional[node]) {
                if (!spans && sets_only(m, s, node, mask)) {
                        out.n_set = set_close(s, out.off);
                        return out;
                }
                eval(m, s, node, mask);
                /* The spans' sentences; a span across a boundary goes. */
                for (i = w = top; i < s->n_list; i++) {
                        const struct span *sp = &s->spans[s->list[i]];

                        if (s->sent[sp->start] != s->sent[sp->end])
                                continue;
                        if (!set_push(s, s->sent[sp->start]))
                                break;
                        s->list[w++] = s->list[i];
                }
                s->n_list = spans ? w : top;
                out.n_set = set_close(s, out.off);
                out.n = (uint32_t)(s->n_list - top);
                return out;
        }
        switch (nd->op) {
        case NT_RULES_REF:
                return eval_bucket(m, s, r->defines[nd->ref].expr, mask, spans);
        case NT_RULES_FIELD:
                return eval_bucket(m, s, r->kids[nd->kid0], mask & nd->fields,
                                   spans);
        case NT_RULES_NOT:
                /* Every sentence of the article but the kid's. */
                kr = eval_bucket(m, s, r->kids[nd->kid0], mask, false);
                s->n_list = top;
                if (grow(&s->tmp, &s->tmp_cap, s->n_sents + 1, sizeof(*s->tmp)))
                        goto nomem;
                for (i = 0, cur = 0, k = 0; k < s->n_sents; k++) {
                        if (i < kr.n_set && s->sets[kr.off + i] == k) {
                                i++;
                                continue;
                        }
                        s->tmp[cur++] = k;
                }
                s->n_sets = out.off;
                if (grow(&s->sets, &s->sets_cap, out.off + cur + 1,
                         sizeof(*s->sets)))
                        goto nomem;
                memcpy(s->sets + out.off, s->tmp, cur * sizeof(*s->tmp));
                s->n_sets = out.off + cur;
                out.n_set = cur;
                return out;
        case NT_RULES_OR:
                /* The kids' sets pile up, then one sort unites them:
                 * cheaper than a merge per kid. */
                for (k = 0; k < nd->n_kids; k++) {
                        if (!term_may_occur(m, s, nd->kid0 + k))
                                continue;
                        eval_bucket(m, s, r->kids[nd->kid0 + k], mask, spans);
                }
                out.n_set = set_close(s, out.off);
                out.n = (uint32_t)(s->n_list - top);
                return out;
        case NT_RULES_AND:
                for (k = 0; k < nd->n_kids; k++) {
                        if (!term_may_occur(m, s, nd->kid0 + k))
                                goto none;
                        eval_bucket(m, s, r->kids[nd->kid0 + k], mask, spans);
                        cur = k == 0 ? s->n_sets - out.off
                                     : set_intersect(s, out.off, cur);
                        if (cur == 0)
                                goto none;
                }
                out.n_set = cur;
                out.n = spans ? keep_spans_in(s, top, out.off, cur) : 0;
                return out;
        default:
                /* Positional kinds are handled above. */
                goto none;
        }
nomem:
        s->nomem = true;
none:
        s->n_list = top;
        s->n_sets = out.off;
        out.n = 0;
        out.n_set = 0;
        return out;
}

/* sentence:(x) through the sets: one span per sentence where x holds,
 * keeping x's spans there. */
static struct res sent_by_sets(const nt_match_t *m, nt_match_scratch_t *s,
                               uint32_t kid, unsigned mask)
{
        size_t top = s->n_list, set_top = s->n_sets, i, j, cap;
        struct res out = {0, false};
        struct bres br = eval_bucket(m, s, kid, mask, true);
        uint32_t off, si;

        if (!br.n_set || !br.n || s->nomem) {
                s->n_list = top;
                goto out;
        }
        cap = s->keys_cap;
        if (grow(&s->keys, &cap, br.n, sizeof(*s->keys)) ||
            grow(&s->kspans, &s->kspans_cap, s->n_kspans + br.n,
                 sizeof(*s->kspans))) {
                s->nomem = true;
                s->n_list = top;
                goto out;
        }
        s->keys_cap = cap;
        for (i = 0; i < br.n; i++) {
                uint32_t sp = s->list[top + i];

                s->keys[i].key =
                    ((uint64_t)s->sent[s->spans[sp].start] << 32) | sp;
                s->keys[i].idx = sp;
        }
        if (br.n > 24)
                qsort(s->keys, br.n, sizeof(*s->keys), cmp_keyed);
        else
                for (i = 1; i < br.n; i++) {
                        struct keyed kj = s->keys[i];

                        for (j = i; j > 0 && s->keys[j - 1].key > kj.key; j--)
                                s->keys[j] = s->keys[j - 1];
                        s->keys[j] = kj;
                }
        s->n_list = top;
        for (i = 0; i < br.n; i = j) {
                uint32_t sn = (uint32_t)(s->keys[i].key >> 32);
                struct span sp;

                off = (uint32_t)s->n_kspans;
                for (j = i; j < br.n && (uint32_t)(s->keys[j].key >> 32) == sn;
                     j++)
                        s->kspans[s->n_kspans++] = s->keys[j].idx;
                sp.start = s->sent_first[sn];
                sp.end = s->sent_first[sn + 1] - 1;
                sp.term = NONE32;
                sp.left = off;
                sp.right = (uint32_t)(j - i);
                sp.field = s->toks.tok[sp.start].field;
                sp.kind = SPAN_SENT;
                si = new_span(s, &sp);
                if (si == NONE32 || !push_list(s, si))
                        break;
        }
out:
        s->n_sets = set_top;
        out.n = (uint32_t)(s->n_list - top);
        out.truth = out.n > 0;
        return out;
}

/* sentence/n:(x): x evaluated within each window of n adjacent sentences
 * of one field that holds an occurrence of one of x's terms. Each window
 * where x holds becomes one span, keeping x's spans there as evidence. */
static struct res eval_sent(const nt_match_t *m, nt_match_scratch_t *s,
                            uint32_t node, unsigned mask)
{
        const struct nt_rules *r = m->rules;
        const struct nt_rules_node *nd = &r->nodes[node];
        size_t top = s->n_list, nc = 0, i, k, cap;
        uint32_t w = nd->dist ? nd->dist : 1, j;
        struct res out = {0, false};
        const uint64_t *bits = m->term_sets + m->node_set[node];

        if (w == 1) {
                /* Through sentence sets (the NOTs complement within all
                 * the sentences: a sentence without any of the scope's
                 * terms never satisfies it, which the rules check). */
                if (need_sentences(s)) {
                        s->nomem = true;
                        return out;
                }
                return sent_by_sets(m, s, r->kids[nd->kid0], mask);
        }
        /* The article's terms that the scope names; most articles that
         * reach the clause hold none of them, and then their sentences
         * need not be found. */
        for (k = 0; k < s->n_tt; k++)
                if ((bits[s->tt[k] >> 6] >> (s->tt[k] & 63)) & 1)
                        break;
        if (k == s->n_tt)
                return out;
        if (need_sentences(s)) {
                s->nomem = true;
                return out;
        }
        for (k = 0; k < s->n_tt; k++) {
                uint32_t t = s->tt[k];

                if (!((bits[t >> 6] >> (t & 63)) & 1))
                        continue;
                for (i = 0; i < s->term_n[t]; i++) {
                        const struct nt_match_occ *o =
                            &s->occ[s->term_off[t] + i];
                        uint32_t sn = s->sent[o->start];

                        if (!(mask & (1u << s->toks.tok[o->start].field)) ||
                            o->start < s->rlo || o->end > s->rhi)
                                continue;
                        if (grow(&s->cand, &s->cand_cap, nc + w,
                                 sizeof(*s->cand))) {
                                s->nomem = true;
                                return out;
                        }
                        for (j = 0; j < w && j <= sn; j++)
                                s->cand[nc++] = sn - j;
                }
        }
        sort_u32(s->cand, nc);
        for (i = 0; i < nc; i++) {
                uint32_t a = s->cand[i], b = a + w - 1, off;
                uint8_t field = s->toks.tok[s->sent_first[a]].field;
                size_t ktop = s->n_list;
                struct span sp;
                struct res kr;

                if (i > 0 && a == s->cand[i - 1])
                        continue;
                if (b >= s->n_sents)
                        b = (uint32_t)s->n_sents - 1;
                while (b > a && s->toks.tok[s->sent_first[b]].field != field)
                        b--;
                kr = eval_in(m, s, r->kids[nd->kid0], mask, a, b);
                if (!kr.truth || kr.n == 0 || s->nomem) {
                        s->n_list = ktop;
                        continue;
                }
                cap = s->kspans_cap;
                if (grow(&s->kspans, &cap, s->n_kspans + kr.n,
                         sizeof(*s->kspans))) {
                        s->nomem = true;
                        s->n_list = ktop;
                        break;
                }
                s->kspans_cap = cap;
                off = (uint32_t)s->n_kspans;
                memcpy(s->kspans + off, s->list + ktop,
                       kr.n * sizeof(*s->list));
                s->n_kspans += kr.n;
                s->n_list = ktop;
                sp.start = s->sent_first[a];
                sp.end = s->sent_first[b + 1] - 1;
                sp.term = NONE32;
                sp.left = off;
                sp.right = kr.n;
                sp.field = field;
                sp.kind = SPAN_SENT;
                off = new_span(s, &sp);
                if (off == NONE32 || !push_list(s, off))
                        break;
        }
        out.n = (uint32_t)(s->n_list - top);
        out.truth = out.n > 0;
        return out;
}

/* Pushes the occurrences of term t in the fields of mask (and the current
 * range) as spans; returns how many. */
static uint32_t eval_term(nt_match_scratch_t *s, uint32_t t, unsigned mask)
{
        size_t top = s->n_list;
        uint32_t i;

        if (s->term_gen[t] != s->gen)
                return 0;
        for (i = 0; i < s->term_n[t]; i++) {
                const struct nt_match_occ *o = &s->occ[s->term_off[t] + i];
                struct span sp;
                uint32_t si;

                sp.field = s->toks.tok[o->start].field;
                if (!(mask & (1u << sp.field)) || o->start < s->rlo ||
                    o->end > s->rhi)
                        continue;
                sp.start = o->start;
                sp.end = o->end;
                sp.term = t;
                sp.left = sp.right = NONE32;
                sp.kind = SPAN_TERM;
                si = new_span(s, &sp);
                if (si == NONE32 || !push_list(s, si))
                        break;
        }
        return (uint32_t)(s->n_list - top);
}

/* Evaluates an expression restricted to the fields in mask. Leaves exactly
 * its own spans at the top of the list arena (see struct res): kids'
 * spans are appended in turn, so OR is a concatenation. */

static struct res eval(const nt_match_t *m, nt_match_scratch_t *s,
                       uint32_t node, unsigned mask)
{
        const struct nt_rules *r = m->rules;
        const struct nt_rules_node *nd = &r->nodes[node];
        size_t top = s->n_list;
        struct res kid, out = {0, false};
        uint32_t i;

        switch (nd->op) {
        case NT_RULES_TERM:
                out.n = eval_term(s, nd->term, mask);
                out.truth = out.n > 0;
                return out;
        case NT_RULES_OR:
                if (m->node_set[node] != NONE32 && s->n_tt < nd->n_kids) {
                        /* A long list: walk the article's terms. */
                        const uint64_t *bits = m->term_sets + m->node_set[node];

                        for (i = 0; i < s->n_tt; i++) {
                                uint32_t t = s->tt[i];

                                if ((bits[t >> 6] >> (t & 63)) & 1)
                                        eval_term(s, t, mask);
                        }
                        for (i = m->or_rest_off[node];
                             i < m->or_rest_off[node + 1]; i++) {
                                kid = eval(m, s, r->kids[m->or_rest[i]], mask);
                                out.truth = out.truth || kid.truth;
                        }
                        out.n = (uint32_t)(s->n_list - top);
                        out.truth = out.truth || out.n > 0;
                        return out;
                }
                for (i = 0; i < nd->n_kids; i++) {
                        uint32_t k = r->kids[nd->kid0 + i];

                        /* Most alternatives of a long list are absent:
                         * tell so without visiting their node. */
                        if (!term_may_occur(m, s, nd->kid0 + i))
                                continue;
                        kid = eval(m, s, k, mask);
                        out.truth = out.truth || kid.truth;
                }
                out.n = (uint32_t)(s->n_list - top);
                return out;
        case NT_RULES_AND:
                for (i = 0; i < nd->n_kids; i++) {
                        uint32_t k = r->kids[nd->kid0 + i];

                        if (!term_may_occur(m, s, nd->kid0 + i)) {
                                s->n_list = top;
                                return out;
                        }
                        kid = eval(m, s, k, mask);
                        if (!kid.truth) {
                                s->n_list = top;
                                return out;
                        }
                }
                out.n = (uint32_t)(s->n_list - top);
                out.truth = true;
                return out;
        case NT_RULES_NOT:
                kid = eval(m, s, r->kids[nd->kid0], mask);
                s->n_list = top;
                out.truth = !kid.truth;
                return out;
        case NT_RULES_NEAR:
        case NT_RULES_ONEAR:
                return eval_near(m, s, nd, mask);
        case NT_RULES_EXCEPT:
                return eval_except(m, s, nd, mask);
        case NT_RULES_FIELD:
                return eval(m, s, r->kids[nd->kid0], mask & nd->fields);
        case NT_RULES_SENT:
                return eval_sent(m, s, node, mask);
        case NT_RULES_REF: {
                struct memo *e = &s->memo[(nd->ref << NT_FIELD_COUNT) | mask];

                if (e->stamp == s->memo_stamp) {
                        for (i = 0; i < e->n; i++)
                                if (!push_list(s, s->memo_list[e->off + i]))
                                        break;
                        out.n = (uint32_t)(s->n_list - top);
                        out.truth = e->truth;
                        return out;
                }
                out = eval(m, s, r->defines[nd->ref].expr, mask);
                if (grow(&s->memo_list, &s->memo_list_cap,
                         s->n_memo_list + out.n, sizeof(*s->memo_list))) {
                        s->nomem = true;
                        return out;
                }
                if (out.n)
                        memcpy(s->memo_list + s->n_memo_list, s->list + top,
                               out.n * sizeof(*s->list));
                e->stamp = s->memo_stamp;
                e->off = (uint32_t)s->n_memo_list;
                e->n = out.n;
                e->truth = out.truth;
                s->n_memo_list += out.n;
                return out;
        }
        }
        return out;
}

static int add_evidence(nt_match_scratch_t *s, uint32_t span, int depth,
                        uint8_t in_sentence)
{
        const struct span *sp = &s->spans[span];
        struct nt_match_evidence *e;
        uint32_t i;
        int err = 0;

        /* Pairs nest no deeper than expressions do (bounded by the rules
         * checks); the depth guard is belt and braces. */
        if (sp->kind != SPAN_TERM && depth > 512)
                return 0;
        if (sp->kind == SPAN_SENT) {
                uint32_t off = sp->left, n = sp->right;

                for (i = 0; i < n && !err; i++)
                        err = add_evidence(s, s->kspans[off + i], depth + 1, 1);
                return err;
        }
        if (sp->kind == SPAN_PAIR) {
                err = add_evidence(s, sp->left, depth + 1, in_sentence);
                if (!err)
                        err = add_evidence(s, s->spans[span].right, depth + 1,
                                           in_sentence);
                return err;
        }
        if (grow(&s->ev, &s->ev_cap, s->n_ev + 1, sizeof(*s->ev)))
                return NT_ERR_NOMEM;
        e = &s->ev[s->n_ev++];
        e->term = sp->term;
        e->field = sp->field;
        e->sentence = in_sentence;
        e->tok_start = sp->start;
        e->tok_end = sp->end;
        e->start = s->toks.tok[sp->start].start;
        e->end = s->toks.tok[sp->end].end;
        return 0;
}

/* Sorts evidence: insertion sort for the short arrays of one topic,
 * qsort beyond. */
static void sort_ev(struct nt_match_evidence *ev, size_t n,
                    int (*cmp)(const void *, const void *))
{
        size_t i, j;

        if (n > 24) {
                qsort(ev, n, sizeof(*ev), cmp);
                return;
        }
        for (i = 1; i < n; i++) {
                struct nt_match_evidence e = ev[i];

                for (j = i; j > 0 && cmp(&ev[j - 1], &e) > 0; j--)
                        ev[j] = ev[j - 1];
                ev[j] = e;
        }
}

static int cmp_ev_term(const void *a, const void *b)
{
        const struct nt_match_evidence *x = a, *y = b;

        if (x->term != y->term)
                return x->term < y->term ? -1 : 1;
        return (x->tok_start > y->tok_start) - (x->tok_start < y->tok_start);
}

static int cmp_ev_pos(const void *a, const void *b)
{
        const struct nt_match_evidence *x = a, *y = b;

        if (x->field != y->field)
                return x->field < y->field ? -1 : 1;
        if (x->tok_start != y->tok_start)
                return x->tok_start < y->tok_start ? -1 : 1;
        return (x->term > y->term) - (x->term < y->term);
}

/* Unfolds the match's spans into term occurrences (once each) and scores
 * them. Word clauses: every occurrence adds its field's weight, and one
 * term adds at most the topic's cap. Sentence clauses: every sentence
 * holding their evidence adds its field's weight once, however many of
 * its words matched. An occurrence reached both ways scores as a word. */
static int score_topic(nt_match_scratch_t *s, const struct nt_rules_topic *tp,
                       struct nt_match_topic *res, size_t n_spans)
{
        size_t first = s->n_ev, i, n, w, nc = 0;
        double term_sum = 0;
        uint32_t prev_term = NONE32;
        int err;

        for (i = 0; i < n_spans; i++) {
                err = add_evidence(s, s->list[i], 0, 0);
                if (err)
                        return err;
        }
        n = s->n_ev - first;
        if (n == 0)
                return 0;
        sort_ev(s->ev + first, n, cmp_ev_term);
        for (i = 0, w = 0; i < n; i++) {
                struct nt_match_evidence *e = &s->ev[first + i];

                if (w > 0 && e->term == s->ev[first + w - 1].term &&
                    e->tok_start == s->ev[first + w - 1].tok_start) {
                        /* The same occurrence reached twice. */
                        s->ev[first + w - 1].sentence &= e->sentence;
                        continue;
                }
                s->ev[first + w++] = *e;
        }
        res->score = 0;
        for (i = 0; i < w; i++) {
                const struct nt_match_evidence *e = &s->ev[first + i];

                if (e->sentence) {
                        if (grow(&s->cand, &s->cand_cap, nc + 1,
                                 sizeof(*s->cand)))
                                return NT_ERR_NOMEM;
                        s->cand[nc++] = s->sent[e->tok_start];
                        continue;
                }
                if (prev_term != NONE32 && e->term != prev_term) {
                        res->score += term_sum < tp->cap ? term_sum : tp->cap;
                        term_sum = 0;
                }
                prev_term = e->term;
                term_sum += tp->weight[e->field];
        }
        res->score += term_sum < tp->cap ? term_sum : tp->cap;
        sort_u32(s->cand, nc);
        for (i = 0; i < nc; i++)
                if (i == 0 || s->cand[i] != s->cand[i - 1])
                        res->score +=
                            tp->weight[s->toks.tok[s->sent_first[s->cand[i]]]
                                           .field];
        s->n_ev = first + w;
        sort_ev(s->ev + first, w, cmp_ev_pos);
        return 0;
}

/* Drops the match's spans that lie in a sentence where the veto holds;
 * returns how many are left (at the bottom of the list arena). The veto
 * is judged through sentence sets, within the sentences of the match's
 * spans. */
static uint32_t apply_veto(const nt_match_t *m, nt_match_scratch_t *s,
                           const struct nt_rules_topic *tp,
                           struct nt_match_topic *res, uint32_t n)
{
        const unsigned all = (1u << NT_FIELD_COUNT) - 1;
        size_t set_top = s->n_sets, i;
        uint32_t out = 0, k;
        struct bres br;

        if (need_sentences(s)) {
                s->nomem = true;
                return 0;
        }
        br = eval_bucket(m, s, tp->veto, all, false);
        s->n_list = n;
        for (i = 0; i < n; i++) {
                const struct span *sp = &s->spans[s->list[i]];
                bool vetoed = false;

                for (k = s->sent[sp->start]; k <= s->sent[sp->end] && !vetoed;
                     k++)
                        vetoed = set_find(s->sets + br.off, br.n_set, k);
                if (vetoed)
                        res->n_vetoed++;
                else
                        s->list[out++] = s->list[i];
        }
        s->n_sets = set_top;
        s->n_list = out;
        return out;
}

static int eval_topic(const nt_match_t *m, nt_match_scratch_t *s,
                      uint32_t topic, struct nt_match_topic *res)
{
        const struct nt_rules_topic *tp = &m->rules->topics[topic];
        const unsigned all = (1u << NT_FIELD_COUNT) - 1;
        struct res r;
        int err;

        memset(res, 0, sizeof(*res));
        res->topic = topic;
        s->n_spans = 0;
        s->n_list = 0;
        s->n_kspans = 0;
        s->rlo = 0;
        s->rhi = NONE32;
        {
                /* The topic's terms that occur, for the long lists. */
                const uint64_t *bits = m->topic_sets + topic * m->set_words;
                size_t k;

                s->n_tt = 0;
                for (k = 0; k < s->n_touched_terms; k++) {
                        uint32_t t = s->touched_terms[k];

                        if ((bits[t >> 6] >> (t & 63)) & 1)
                                s->tt[s->n_tt++] = t;
                }
        }
        /* Spans start again: so do the lists' memos. */
        s->n_memo_list = 0;
        s->memo_stamp = next_stamp(m, s);
        r = eval(m, s, tp->match, all);
        if (r.truth && tp->veto != NT_RULES_NONE) {
                r.n = apply_veto(m, s, tp, res, r.n);
                r.truth = r.n > 0;
        }
        res->matched = r.truth;
        s->topic_ev_off[topic] = s->n_ev;
        if (r.truth) {
                err = score_topic(s, tp, res, r.n);
                if (err)
                        return err;
        }
        res->n_ev = s->n_ev - s->topic_ev_off[topic];
        res->required = true;
        if (res->matched && tp->require != NT_RULES_NONE) {
                s->n_list = 0;
                res->required = eval(m, s, tp->require, all).truth;
        }
        if (res->matched && tp->exclude != NT_RULES_NONE) {
                s->n_list = 0;
                res->excluded = eval(m, s, tp->exclude, all).truth;
        }
        res->labelled = res->matched && res->required && !res->excluded &&
                        res->score >= tp->threshold;
        return s->nomem ? NT_ERR_NOMEM : 0;
}

static int cmp_ent_pos(const void *a, const void *b)
{
        const struct ent_pos *x = a, *y = b;

        if (x->entity != y->entity)
                return x->entity < y->entity ? -1 : 1;
        return (x->start > y->start) - (x->start < y->start);
}

/* Entity counts: distinct token positions naming the entity, whichever of
 * its alternatives matched there. */
static int count_entities(const nt_match_t *m, nt_match_scratch_t *s)
{
        size_t i, o;
        uint32_t k;

        for (i = 0; i < s->n_touched_terms; i++) {
                uint32_t t = s->touched_terms[i];

                for (k = m->term_ent_off[t]; k < m->term_ent_off[t + 1]; k++)
                        for (o = 0; o < s->term_n[t]; o++) {
                                if (grow(&s->ent_pos, &s->ent_pos_cap,
                                         s->n_ent_pos + 1, sizeof(*s->ent_pos)))
                                        return NT_ERR_NOMEM;
                                s->ent_pos[s->n_ent_pos].entity =
                                    m->term_ents[k];
                                s->ent_pos[s->n_ent_pos].start =
                                    s->occ[s->term_off[t] + o].start;
                                s->n_ent_pos++;
                        }
        }
        if (s->n_ent_pos > 0)
                qsort(s->ent_pos, s->n_ent_pos, sizeof(*s->ent_pos),
                      cmp_ent_pos);
        for (i = 0; i < s->n_ent_pos; i++) {
                const struct ent_pos *p = &s->ent_pos[i];

                if (i > 0 && p->entity == p[-1].entity) {
                        if (p->start != p[-1].start)
                                s->ents[s->n_ents - 1].count++;
                        continue;
                }
                s->ents[s->n_ents].entity = p->entity;
                s->ents[s->n_ents].count = 1;
                s->n_ents++;
        }
        return 0;
}

static void new_generation(const nt_match_t *m, nt_match_scratch_t *s)
{
        size_t i;

        s->gen++;
        if (s->gen == 0) {
                /* After 2^32 runs the stamps wrap: clear them once. */
                memset(s->lex_gen, 0, (m->n_lex + 1) * sizeof(uint32_t));
                memset(s->term_gen, 0,
                       (m->rules->n_terms + 1) * sizeof(uint32_t));
                memset(s->topic_gen, 0,
                       (m->rules->n_topics + 1) * sizeof(uint32_t));
                s->sent_gen = 0;
                s->gen = 1;
        }
        s->n_hits = 0;
        s->n_touched_lex = 0;
        s->n_occ = 0;
        /* Clears the last run's bits, term by term: cheaper than the
         * whole map for the few terms an article has. */
        for (i = 0; i < s->n_touched_terms; i++)
                s->present[s->touched_terms[i] >> 6] = 0;
        s->n_touched_terms = 0;
        s->n_touched_topics = 0;
        s->n_ev = 0;
        s->n_ent_pos = 0;
        s->n_ents = 0;
        s->truncated = false;
        s->nomem = false;
}

int nt_match_run(const nt_match_t *m, nt_match_scratch_t *s,
                 const struct nt_text_fields *in, struct nt_match_result *out)
{
        size_t i;
        uint32_t k;
        int err;

        memset(out, 0, sizeof(*out));
        new_generation(m, s);
        s->in = in;
        err = nt_tokens_add_fields(&s->toks, in);
        if (!err)
                err = find_lexemes(m, s);
        if (!err)
                err = place_lexemes(s);
        if (!err)
                err = find_terms(m, s);
        if (err)
                return err;
        for (i = 0; i < s->n_touched_terms; i++) {
                uint32_t t = s->touched_terms[i];

                for (k = m->term_topic_off[t]; k < m->term_topic_off[t + 1];
                     k++) {
                        uint32_t tp = m->term_topics[k];

                        if (s->topic_gen[tp] == s->gen)
                                continue;
                        s->topic_gen[tp] = s->gen;
                        s->touched_topics[s->n_touched_topics++] = tp;
                }
        }
        if (s->n_touched_topics > 1)
                qsort(s->touched_topics, s->n_touched_topics, sizeof(uint32_t),
                      cmp_u32);
        for (i = 0; i < s->n_touched_topics; i++) {
                err = eval_topic(m, s, s->touched_topics[i], &s->topics[i]);
                if (err)
                        return err;
        }
        /* Evidence pointers only now: s->ev may move while it grows (and
         * is NULL until some topic has evidence). */
        for (i = 0; i < s->n_touched_topics; i++)
                s->topics[i].ev =
                    s->ev ? s->ev + s->topic_ev_off[s->topics[i].topic] : NULL;
        err = count_entities(m, s);
        if (err)
                return err;
        out->tokens = &s->toks;
        out->topics = s->topics;
        out->n_topics = s->n_touched_topics;
        out->entities = s->ents;
        out->n_entities = s->n_ents;
        out->truncated = s->truncated;
        return 0;
}
