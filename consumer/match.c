/* The matcher's run. Compilation (consumer/match_compile.c) builds a byte
 * trie over the normalised words and prefixes of all terms (one "lexeme"
 * per distinct word or prefix); a run walks each token down the trie once,
 * collecting the lexemes it matches, then turns lexeme occurrences into
 * term occurrences (phrases checked word by word), evaluates only the
 * topics that own a present term (consumer/match_eval.c), and unfolds
 * their evidence into the term occurrences that made it. */
#include "consumer/match_internal.h"

#include "common/buf.h"
#include "common/err.h"

#include <stdlib.h>
#include <string.h>

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
        s->wcl = calloc((size_t)1 << WCL_BITS, sizeof(*s->wcl));
        s->present = calloc(nt / 64 + 1, sizeof(uint64_t));
        if (!s->wc || !s->wcl || !s->present || !s->lex_gen || !s->lex_cnt ||
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
        free(s->wcl);
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

/* A word of WC_MAX_LEN + 1 to WCL_MAX_LEN bytes through the long words'
 * cache: its lexemes from there, or from the walk, remembered after. */
static int long_word(const nt_match_t *m, nt_match_scratch_t *s,
                     const uint8_t *w, size_t len, uint32_t tok)
{
        uint64_t k[4];
        struct wcache_long *e;
        size_t first = s->n_hits, i;
        int err;

        k[0] = head_bytes(w);
        k[1] = head_bytes(w + 8);
        k[2] = head_bytes(w + len - 16);
        k[3] = head_bytes(w + len - 8);
        e = &s->wcl[((k[0] * 0x9E3779B97F4A7C15ull) ^
                     (k[3] * 0xC2B2AE3D27D4EB4Full) ^ (k[2] >> 7) ^ len) >>
                    (64 - WCL_BITS)];
        if (e->len == len && e->w[0] == k[0] && e->w[1] == k[1] &&
            e->w[2] == k[2] && e->w[3] == k[3]) {
                for (i = 0; i < e->n; i++) {
                        err = add_hit(s, e->lex[i], tok);
                        if (err)
                                return err;
                }
                return 0;
        }
        err = walk_word(m, s, w, len, tok);
        if (err || s->n_hits - first > WC_MAX_LEX)
                return err;
        memcpy(e->w, k, sizeof(k));
        e->len = (uint8_t)len;
        e->n = (uint8_t)(s->n_hits - first);
        for (i = 0; i < e->n; i++)
                e->lex[i] = s->hits[first + i];
        return 0;
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
                        err = len > WC_MAX_LEN && len <= WCL_MAX_LEN
                                  ? long_word(m, s, w, len, (uint32_t)i)
                                  : walk_word(m, s, w, len, (uint32_t)i);
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

/* Sorts evidence: insertion sort for the short arrays of one topic,
 * qsort beyond. Inline, so that each caller's comparison is too. */
static inline void sort_ev(struct nt_match_evidence *ev, size_t n,
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
        nt_match_sort_u32(s->cand, nc);
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

        if (nt_match_need_sentences(s)) {
                s->nomem = true;
                return 0;
        }
        br = nt_match_eval_bucket(m, s, tp->veto, all, false);
        s->n_list = n;
        for (i = 0; i < n; i++) {
                const struct span *sp = &s->spans[s->list[i]];
                bool vetoed = false;

                for (k = s->sent[sp->start]; k <= s->sent[sp->end] && !vetoed;
                     k++)
                        vetoed =
                            nt_match_set_find(s->sets + br.off, br.n_set, k);
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
        s->memo_stamp = nt_match_next_stamp(m, s);
        /* A clause, a veto, a requirement none of whose gate's terms
         * occur is not evaluated: it could not hold. */
        r = gate_open(m, s->present, tp->match)
                ? nt_match_eval(m, s, tp->match, all)
                : (struct res){0, false};
        if (r.truth && tp->veto != NT_RULES_NONE &&
            gate_open(m, s->present, tp->veto)) {
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
                res->required = gate_open(m, s->present, tp->require) &&
                                nt_match_eval(m, s, tp->require, all).truth;
        }
        if (res->matched && tp->exclude != NT_RULES_NONE) {
                s->n_list = 0;
                res->excluded = gate_open(m, s->present, tp->exclude) &&
                                nt_match_eval(m, s, tp->exclude, all).truth;
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
                      nt_match_cmp_u32);
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
