/* Evaluating rule expressions over an article: a term gives one span
 * per occurrence, OR concatenates, NEAR pairs spans up into composite
 * spans that remember their two parts (so that a topic's evidence unfolds
 * back into term occurrences), EXCEPT drops overlapped places, field
 * scopes filter, and a sentence: scope asks in which sentences its
 * expression holds, through sets of sentences. */
#include "consumer/match_internal.h"

#include "common/buf.h"
#include "common/err.h"

#include <stdlib.h>
#include <string.h>

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

/* Appends v to one of the scratch's uint32_t stacks; false (and nomem
 * set) when out of memory. */
static bool push_u32(nt_match_scratch_t *s, uint32_t **arr, size_t *n,
                     size_t *cap, uint32_t v)
{
        if (grow(arr, cap, *n + 1, sizeof(**arr))) {
                s->nomem = true;
                return false;
        }
        (*arr)[(*n)++] = v;
        return true;
}

static bool push_list(nt_match_scratch_t *s, uint32_t span)
{
        return push_u32(s, &s->list, &s->n_list, &s->list_cap, span);
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

        if (!gate_open(m, s->present, r->kids[nd->kid0]) ||
            !gate_open(m, s->present, r->kids[nd->kid0 + 1]))
                goto none;
        ra = nt_match_eval(m, s, r->kids[nd->kid0], mask);
        rb = nt_match_eval(m, s, r->kids[nd->kid0 + 1], mask);
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

        ra = nt_match_eval(m, s, r->kids[nd->kid0], mask);
        if (!ra.n) {
                s->n_list = top;
                return (struct res){0, false};
        }
        rb = nt_match_eval(m, s, r->kids[nd->kid0 + 1], mask);
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
uint32_t nt_match_next_stamp(const nt_match_t *m, nt_match_scratch_t *s)
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
int nt_match_need_sentences(nt_match_scratch_t *s)
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
        s->memo_stamp = nt_match_next_stamp(m, s);
        r = nt_match_eval(m, s, node, mask);
        s->rlo = save_lo;
        s->rhi = save_hi;
        s->memo_stamp = save;
        return r;
}

void nt_match_sort_u32(uint32_t *v, size_t n)
{
        size_t i, j;

        if (n > 24) {
                qsort(v, n, sizeof(*v), nt_match_cmp_u32);
                return;
        }
        for (i = 1; i < n; i++) {
                uint32_t x = v[i];

                for (j = i; j > 0 && v[j - 1] > x; j--)
                        v[j] = v[j - 1];
                v[j] = x;
        }
}

/* False when kid i (an index into rules->kids) cannot hold: a term
 * absent from the text, or a node whose gate is closed. */
static inline bool kid_may_hold(const nt_match_t *m,
                                const nt_match_scratch_t *s, uint32_t i)
{
        uint32_t t = m->kid_term[i];

        if (t != NONE32)
                return (s->present[t >> 6] >> (t & 63)) & 1;
        return gate_open(m, s->present, m->rules->kids[i]);
}

/* Whether every kid of an AND may hold: checked before any is
 * evaluated, so that a costly first kid is not evaluated for nothing. */
static bool and_may_hold(const nt_match_t *m, const nt_match_scratch_t *s,
                         const struct nt_rules_node *nd)
{
        uint32_t k;

        for (k = 0; k < nd->n_kids; k++)
                if (!kid_may_hold(m, s, nd->kid0 + k))
                        return false;
        return true;
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

bool nt_match_set_find(const uint32_t *v, size_t n, uint32_t x)
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

/* Sorts and dedups s->sets[off..n_sets); returns the count. The values
 * are sentences of the run: when there are few, through a bitmap of
 * them rather than a sort. */
#define SET_BITMAP_MAX 256

static size_t set_close(nt_match_scratch_t *s, size_t off)
{
        size_t n = s->n_sets - off, i, w = 0;
        uint32_t *v = s->sets + off;

        if (n > 1 && s->n_sents <= SET_BITMAP_MAX) {
                uint64_t bits[SET_BITMAP_MAX / 64] = {0};
                size_t words = (s->n_sents + 63) / 64;

                for (i = 0; i < n; i++)
                        bits[v[i] >> 6] |= (uint64_t)1 << (v[i] & 63);
                for (i = 0; i < words; i++)
                        for (; bits[i]; bits[i] &= bits[i] - 1)
                                v[w++] =
                                    (uint32_t)(i * 64 + (size_t)__builtin_ctzll(
                                                            bits[i]));
                s->n_sets = off + w;
                return w;
        }
        nt_match_sort_u32(v, n);
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
        return push_u32(s, &s->sets, &s->n_sets, &s->sets_cap, v);
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

                if (a == s->sent[sp->end] &&
                    nt_match_set_find(s->sets + off, n, a))
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

struct bres nt_match_eval_bucket(const nt_match_t *m, nt_match_scratch_t *s,
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
                nt_match_eval(m, s, node, mask);
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
                return nt_match_eval_bucket(m, s, r->defines[nd->ref].expr,
                                            mask, spans);
        case NT_RULES_FIELD:
                return nt_match_eval_bucket(m, s, r->kids[nd->kid0],
                                            mask & nd->fields, spans);
        case NT_RULES_NOT:
                /* Every sentence of the article but the kid's. */
                kr = nt_match_eval_bucket(m, s, r->kids[nd->kid0], mask, false);
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
                        if (!kid_may_hold(m, s, nd->kid0 + k))
                                continue;
                        nt_match_eval_bucket(m, s, r->kids[nd->kid0 + k], mask,
                                             spans);
                }
                out.n_set = set_close(s, out.off);
                out.n = (uint32_t)(s->n_list - top);
                return out;
        case NT_RULES_AND:
                if (!and_may_hold(m, s, nd))
                        goto none;
                for (k = 0; k < nd->n_kids; k++) {
                        nt_match_eval_bucket(m, s, r->kids[nd->kid0 + k], mask,
                                             spans);
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
        struct bres br = nt_match_eval_bucket(m, s, kid, mask, true);
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

        if (!gate_open(m, s->present, node))
                return out;
        if (w == 1) {
                /* Through sentence sets (the NOTs complement within all
                 * the sentences: a sentence without any of the scope's
                 * terms never satisfies it, which the rules check). */
                if (nt_match_need_sentences(s)) {
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
        if (nt_match_need_sentences(s)) {
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
        nt_match_sort_u32(s->cand, nc);
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

struct res nt_match_eval(const nt_match_t *m, nt_match_scratch_t *s,
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
                                kid = nt_match_eval(
                                    m, s, r->kids[m->or_rest[i]], mask);
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
                        if (!kid_may_hold(m, s, nd->kid0 + i))
                                continue;
                        kid = nt_match_eval(m, s, k, mask);
                        out.truth = out.truth || kid.truth;
                }
                out.n = (uint32_t)(s->n_list - top);
                return out;
        case NT_RULES_AND:
                if (!and_may_hold(m, s, nd))
                        return out;
                for (i = 0; i < nd->n_kids; i++) {
                        uint32_t k = r->kids[nd->kid0 + i];

                        kid = nt_match_eval(m, s, k, mask);
                        if (!kid.truth) {
                                s->n_list = top;
                                return out;
                        }
                }
                out.n = (uint32_t)(s->n_list - top);
                out.truth = true;
                return out;
        case NT_RULES_NOT:
                kid = nt_match_eval(m, s, r->kids[nd->kid0], mask);
                s->n_list = top;
                out.truth = !kid.truth;
                return out;
        case NT_RULES_NEAR:
        case NT_RULES_ONEAR:
                return eval_near(m, s, nd, mask);
        case NT_RULES_EXCEPT:
                return eval_except(m, s, nd, mask);
        case NT_RULES_FIELD:
                return nt_match_eval(m, s, r->kids[nd->kid0],
                                     mask & nd->fields);
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
                out = nt_match_eval(m, s, r->defines[nd->ref].expr, mask);
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
