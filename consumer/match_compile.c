/* Compiling a rule set for the matcher: a byte trie over the normalised
 * words and prefixes of all terms (one lexeme per distinct word or
 * prefix) behind a filter of word heads, and the tables a run follows
 * from a lexeme to its terms, from a term to its topics and entities,
 * and from a rules node to what it needs (its term set, whether it has
 * word positions, the terms under a sentence: scope). */
#include "consumer/match_internal.h"

#include "common/buf.h"
#include "common/err.h"

#include <stdlib.h>
#include <string.h>

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

static uint32_t b_new_node(struct builder *b)
{
        if (nt_array_grow(&b->nodes, &b->cap, b->n + 1, sizeof(*b->nodes)))
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
                        if (nt_array_grow(&bn->lab, &cap, bn->n + 1, 1))
                                return NONE32;
                        cap = bn->cap;
                        if (nt_array_grow(&bn->kid, &cap, bn->n + 1,
                                          sizeof(uint32_t)))
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
                if (nt_array_grow(out, cap, *n + 1, sizeof(**out)))
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

int nt_match_cmp_u32(const void *a, const void *b)
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
                qsort(list + from, n - from, sizeof(*list), nt_match_cmp_u32);
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

/* Node gates (see struct nt_match), built as dense bitmaps of set_words
 * words, one per node, filled on first need (lists nest boundedly, the
 * rules checks): state[node] 0 not yet, 1 no gate, 2 a gate. */
struct gates {
        uint64_t *bits;
        uint8_t *state;
        size_t w;
};

static size_t gate_count(const struct gates *g, uint32_t node)
{
        size_t i, c = 0;

        for (i = 0; i < g->w; i++)
                c += (size_t)__builtin_popcountll(g->bits[node * g->w + i]);
        return c;
}

static uint8_t find_gate(const nt_match_t *m, struct gates *g, uint32_t node)
{
        const struct nt_rules *r = m->rules;
        const struct nt_rules_node *nd = &r->nodes[node];
        uint64_t *bits = g->bits + node * g->w;
        uint32_t i, kid, best = NONE32;
        size_t c, best_c = SIZE_MAX;
        uint8_t v = 1;

        if (g->state[node])
                return g->state[node];
        switch (nd->op) {
        case NT_RULES_TERM:
                bits[nd->term >> 6] |= (uint64_t)1 << (nd->term & 63);
                v = 2;
                break;
        case NT_RULES_FIELD:
        case NT_RULES_SENT:
        case NT_RULES_EXCEPT:
        case NT_RULES_REF:
                kid = nd->op == NT_RULES_REF ? r->defines[nd->ref].expr
                                             : r->kids[nd->kid0];
                v = find_gate(m, g, kid);
                if (v == 2)
                        memcpy(bits, g->bits + kid * g->w,
                               g->w * sizeof(*bits));
                break;
        case NT_RULES_OR:
                v = 2;
                for (i = 0; i < nd->n_kids && v == 2; i++) {
                        kid = r->kids[nd->kid0 + i];
                        v = find_gate(m, g, kid);
                        for (c = 0; v == 2 && c < g->w; c++)
                                bits[c] |= g->bits[kid * g->w + c];
                }
                if (v != 2)
                        memset(bits, 0, g->w * sizeof(*bits));
                break;
        case NT_RULES_AND:
        case NT_RULES_NEAR:
        case NT_RULES_ONEAR:
                /* All kids must hold: the narrowest gate. */
                for (i = 0; i < nd->n_kids; i++) {
                        kid = r->kids[nd->kid0 + i];
                        if (find_gate(m, g, kid) != 2)
                                continue;
                        c = gate_count(g, kid);
                        if (c < best_c) {
                                best_c = c;
                                best = kid;
                        }
                }
                if (best != NONE32) {
                        memcpy(bits, g->bits + best * g->w,
                               g->w * sizeof(*bits));
                        v = 2;
                }
                break;
        default:
                v = 1;
                break;
        }
        g->state[node] = v;
        return v;
}

static int build_gates(nt_match_t *m)
{
        const struct nt_rules *r = m->rules;
        struct gates g;
        size_t i, k, n = 0;
        int err = NT_ERR_NOMEM;

        g.w = m->set_words;
        g.bits = calloc(r->n_nodes * g.w + 1, sizeof(*g.bits));
        g.state = calloc(r->n_nodes + 1, 1);
        m->gate_off = calloc(r->n_nodes + 1, sizeof(*m->gate_off));
        if (!g.bits || !g.state || !m->gate_off)
                goto out;
        for (i = 0; i < r->n_nodes; i++)
                if (find_gate(m, &g, (uint32_t)i) == 2)
                        for (k = 0; k < g.w; k++)
                                n += g.bits[i * g.w + k] != 0;
        m->gate_word = calloc(n + 1, sizeof(*m->gate_word));
        m->gate_mask = calloc(n + 1, sizeof(*m->gate_mask));
        if (!m->gate_word || !m->gate_mask)
                goto out;
        n = 0;
        for (i = 0; i < r->n_nodes; i++) {
                m->gate_off[i] = (uint32_t)n;
                if (g.state[i] != 2)
                        continue;
                for (k = 0; k < g.w; k++) {
                        if (!g.bits[i * g.w + k])
                                continue;
                        m->gate_word[n] = (uint32_t)k;
                        m->gate_mask[n++] = g.bits[i * g.w + k];
                }
        }
        m->gate_off[r->n_nodes] = (uint32_t)n;
        err = 0;
out:
        free(g.bits);
        free(g.state);
        return err;
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
        if (!err)
                err = build_gates(m);
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
        free(m->gate_off);
        free(m->gate_word);
        free(m->gate_mask);
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
