/* The checks on a parsed rules set as a whole: @references resolved,
 * no cycles among @define lists, and no topic, veto or entity whose
 * expression cannot match (or matches every article). Run once every
 * source has parsed without an error. */
#include "consumer/rules_parser.h"

#include "common/err.h"

#include <stdlib.h>
#include <string.h>

/* ---- checks on the whole set ---- */

static void resolve_refs(struct parser *ps)
{
        struct nt_rules *r = ps->r;
        size_t i, k;

        for (i = 0; i < ps->n_refs; i++) {
                struct nt_rules_node *n = &r->nodes[ps->refs[i].node];

                for (k = 0; k < r->n_defines; k++)
                        if (!strcmp(r->defines[k].name, ps->refs[i].name))
                                break;
                if (k == r->n_defines)
                        nt_rl_error(ps, n->loc,
                                    "unknown list \"@%s\": define it with "
                                    "@define %s = ...;",
                                    ps->refs[i].name, ps->refs[i].name);
                else
                        n->ref = (uint32_t)k;
        }
}

/* Finds lists that refer to themselves, and bounds how deep lists nest in
 * lists, so that later walks over the tree are bounded. state per define:
 * 0 new, 1 being visited, 2 done. */
static int check_cycles(struct parser *ps, uint32_t node, unsigned char *state,
                        int depth)
{
        struct nt_rules *r = ps->r;
        const struct nt_rules_node *n = &r->nodes[node];
        uint32_t i;

        if (depth > 4 * NT_RULES_MAX_DEPTH) {
                nt_rl_error(ps, n->loc, "lists nest more than %d levels deep",
                            4 * NT_RULES_MAX_DEPTH);
                return -1;
        }
        if (n->op == NT_RULES_REF) {
                const struct nt_rules_define *d = &r->defines[n->ref];

                if (state[n->ref] == 1) {
                        nt_rl_error(ps, n->loc,
                                    "list @%s refers to itself (directly or "
                                    "through other lists)",
                                    d->name);
                        return -1;
                }
                if (state[n->ref] == 2 || d->expr == NT_RULES_NONE)
                        return 0;
                state[n->ref] = 1;
                if (check_cycles(ps, d->expr, state, depth + 1))
                        return -1;
                state[n->ref] = 2;
                return 0;
        }
        for (i = 0; i < n->n_kids; i++)
                if (check_cycles(ps, r->kids[n->kid0 + i], state, depth + 1))
                        return -1;
        return 0;
}

/* Whether `test` gives `want` for some kid of n: "every kid passes" is
 * !some_kid(r, n, test, 0), which holds for a node without kids. */
static int some_kid(const struct nt_rules *r, const struct nt_rules_node *n,
                    int (*test)(const struct nt_rules *, uint32_t), int want)
{
        uint32_t i;

        for (i = 0; i < n->n_kids; i++)
                if (!!test(r, r->kids[n->kid0 + i]) == want)
                        return 1;
        return 0;
}

/* The operators whose value is a set of word positions of their own. */
static int positional(enum nt_rules_op op)
{
        return op == NT_RULES_TERM || op == NT_RULES_NEAR ||
               op == NT_RULES_ONEAR || op == NT_RULES_EXCEPT;
}

/* The one expression a FIELD, NOT or SENT node wraps, or the one a list
 * reference (REF) stands for. */
static uint32_t inner(const struct nt_rules *r, const struct nt_rules_node *n)
{
        return n->op == NT_RULES_REF ? r->defines[n->ref].expr
                                     : r->kids[n->kid0];
}

/* True when the expression has word positions: terms, alternatives of
 * them, NEAR groups and field scopes of them. AND and NOT have none. */
static int has_positions(const struct nt_rules *r, uint32_t node)
{
        const struct nt_rules_node *n = &r->nodes[node];

        if (positional(n->op))
                return 1;
        switch (n->op) {
        case NT_RULES_FIELD:
        case NT_RULES_REF:
                return has_positions(r, inner(r, n));
        case NT_RULES_OR:
                return !some_kid(r, n, has_positions, 0);
        default:
                return 0;
        }
}

/* The expression's value on a text without any term: a topic's match
 * must be false there, or every article would need evaluating. */
static int true_on_empty(const struct nt_rules *r, uint32_t node)
{
        const struct nt_rules_node *n = &r->nodes[node];

        /* A SENT's kid is checked on its own. */
        if (positional(n->op) || n->op == NT_RULES_SENT)
                return 0;
        switch (n->op) {
        case NT_RULES_NOT:
                return !true_on_empty(r, inner(r, n));
        case NT_RULES_FIELD:
        case NT_RULES_REF:
                return true_on_empty(r, inner(r, n));
        case NT_RULES_AND:
                return !some_kid(r, n, true_on_empty, 0);
        case NT_RULES_OR:
                return some_kid(r, n, true_on_empty, 1);
        default:
                return 0;
        }
}

/* True when the expression holds a sentence: scope (through lists). */
static int has_sentence(const struct nt_rules *r, uint32_t node)
{
        const struct nt_rules_node *n = &r->nodes[node];

        if (n->op == NT_RULES_SENT)
                return 1;
        if (n->op == NT_RULES_REF)
                return has_sentence(r, inner(r, n));
        return some_kid(r, n, has_sentence, 1);
}

/* Entities are alternatives of terms: counting "occurrences" of an AND or a
 * NOT would mean nothing. */
static int only_alternatives(const struct nt_rules *r, uint32_t node)
{
        const struct nt_rules_node *n = &r->nodes[node];

        switch (n->op) {
        case NT_RULES_TERM:
                return 1;
        case NT_RULES_REF:
                return only_alternatives(r, inner(r, n));
        case NT_RULES_OR:
                return !some_kid(r, n, only_alternatives, 0);
        default:
                return 0;
        }
}

void nt_rl_check_set(struct parser *ps)
{
        struct nt_rules *r = ps->r;
        unsigned char *state;
        size_t i;

        resolve_refs(ps);
        if (ps->n_errors || ps->fatal)
                return;
        state = calloc(r->n_defines + 1, 1);
        if (!state) {
                ps->fatal = NT_ERR_NOMEM;
                return;
        }
        for (i = 0; i < r->n_defines; i++) {
                if (state[i] || r->defines[i].expr == NT_RULES_NONE)
                        continue;
                state[i] = 1;
                if (check_cycles(ps, r->defines[i].expr, state, 0) == 0)
                        state[i] = 2;
        }
        free(state);
        if (ps->n_errors)
                return;
        for (i = 0; i < r->n_nodes; i++) {
                const struct nt_rules_node *n = &r->nodes[i];

                if (n->op != NT_RULES_NEAR && n->op != NT_RULES_ONEAR &&
                    n->op != NT_RULES_EXCEPT)
                        continue;
                if (has_positions(r, r->kids[n->kid0]) &&
                    has_positions(r, r->kids[n->kid0 + 1]))
                        continue;
                if (n->op == NT_RULES_EXCEPT)
                        nt_rl_error(ps, n->loc,
                                    "EXCEPT works on word positions: its sides "
                                    "must be terms, phrases, alternatives (|), "
                                    "NEAR or EXCEPT groups, not AND or NOT");
                else
                        nt_rl_error(
                            ps, n->loc,
                            "%sNEAR/%u joins words by position: its "
                            "sides must be terms, phrases, alternatives "
                            "(|), NEAR or EXCEPT groups, not AND, NOT or "
                            "sentence:",
                            n->op == NT_RULES_ONEAR ? "O" : "", n->dist);
        }
        for (i = 0; i < r->n_nodes; i++) {
                const struct nt_rules_node *n = &r->nodes[i];

                if (n->op != NT_RULES_SENT)
                        continue;
                if (true_on_empty(r, r->kids[n->kid0]))
                        nt_rl_error(ps, n->loc,
                                    "sentence: needs a term that occurs in the "
                                    "sentence: this group is true for a "
                                    "sentence without any of its terms (a NOT "
                                    "alone?)");
                else if (has_sentence(r, r->kids[n->kid0]))
                        nt_rl_error(ps, n->loc,
                                    "sentence: inside another sentence: scope "
                                    "means nothing more: remove one");
        }
        for (i = 0; i < r->n_topics; i++) {
                const struct nt_rules_topic *tp = &r->topics[i];

                if (tp->veto != NT_RULES_NONE && true_on_empty(r, tp->veto))
                        nt_rl_error(ps, r->nodes[tp->veto].loc,
                                    "the veto of topic \"%s\" is true for a "
                                    "sentence without any of its terms: it "
                                    "would veto every sentence",
                                    tp->id);
                else if (tp->veto != NT_RULES_NONE && has_sentence(r, tp->veto))
                        nt_rl_error(ps, r->nodes[tp->veto].loc,
                                    "the veto of topic \"%s\" is already "
                                    "judged sentence by sentence: drop its "
                                    "sentence: scope",
                                    tp->id);
                if (tp->match != NT_RULES_NONE && true_on_empty(r, tp->match))
                        nt_rl_error(ps, r->nodes[tp->match].loc,
                                    "the match expression of topic \"%s\" is "
                                    "true for a text without any of its terms "
                                    "(a NOT alone?): put the NOT in exclude",
                                    tp->id);
        }
        for (i = 0; i < r->n_entities; i++) {
                const struct nt_rules_entity *en = &r->entities[i];

                if (!only_alternatives(r, en->expr))
                        nt_rl_error(
                            ps, r->nodes[en->expr].loc,
                            "entity \"%s\" must be alternatives of words "
                            "and phrases (a | b | \"c d\"): AND, NOT, "
                            "NEAR and fields are for topics",
                            en->name);
        }
}
