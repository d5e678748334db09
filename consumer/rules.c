/* The grammar of the rules language: a recursive-descent parser over the
 * lexer's tokens (consumer/rules_lex.c) that builds the expression tree,
 * topics, entities and @define lists; the checks on the whole set are in
 * consumer/rules_check.c, reading files in consumer/rules_load.c.
 * Errors are collected (up to NT_RULES_MAX_ERRORS) rather than stopping at
 * the first, so that `newstap rules check` shows an analyst every mistake
 * in one run; after an error the parser skips to the next statement. */
#include "consumer/rules.h"
#include "consumer/rules_parser.h"

#include "common/buf.h"
#include "common/err.h"
#include "common/num.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

/* ---- building the tree ---- */

/* nt_array_grow() in the parser: true when *pp has room for `need`
 * elements; false with ps->fatal set when memory ran out (the parse
 * stops). */
static bool grow(struct parser *ps, void *pp, size_t *cap, size_t need,
                 size_t elem)
{
        if (nt_array_grow(pp, cap, need, elem) == NT_OK)
                return true;
        ps->fatal = NT_ERR_NOMEM;
        return false;
}

static uint32_t new_node(struct parser *ps, enum nt_rules_op op,
                         struct nt_rules_loc loc)
{
        struct nt_rules *r = ps->r;
        struct nt_rules_node *n;

        if (!grow(ps, &r->nodes, &r->cap_nodes, r->n_nodes + 1, sizeof(*n)))
                return NT_RULES_NONE;
        n = &r->nodes[r->n_nodes];
        memset(n, 0, sizeof(*n));
        n->op = op;
        n->loc = loc;
        n->term = n->ref = NT_RULES_NONE;
        return (uint32_t)r->n_nodes++;
}

/* A node with the given kids (copied into r->kids). */
static uint32_t new_parent(struct parser *ps, enum nt_rules_op op,
                           struct nt_rules_loc loc, const uint32_t *kids,
                           size_t n)
{
        struct nt_rules *r = ps->r;
        uint32_t id;

        if (!grow(ps, &r->kids, &r->cap_kids, r->n_kids + n, sizeof(*r->kids)))
                return NT_RULES_NONE;
        id = new_node(ps, op, loc);
        if (id == NT_RULES_NONE)
                return id;
        r->nodes[id].kid0 = (uint32_t)r->n_kids;
        r->nodes[id].n_kids = (uint32_t)n;
        memcpy(r->kids + r->n_kids, kids, n * sizeof(*kids));
        r->n_kids += n;
        return id;
}

/* Unescapes a quoted string's contents (\" and \\ only) into a new
 * string. Returns NULL (error reported) for other escapes. */
static char *unquote(struct parser *ps, const struct token *t)
{
        const char *s = t->p + 1, *e = t->p + t->len - 1;
        char *out = malloc(t->len), *o = out;

        if (!out) {
                ps->fatal = NT_ERR_NOMEM;
                return NULL;
        }
        while (s < e) {
                if (*s == '\\') {
                        if (s[1] != '"' && s[1] != '\\') {
                                nt_rl_error(ps, t->loc,
                                            "unknown escape \"\\%c\" in %.*s: "
                                            "only \\\" and \\\\ are allowed",
                                            s[1], (int)t->len, t->p);
                                free(out);
                                return NULL;
                        }
                        s++;
                }
                *o++ = *s++;
        }
        *o = '\0';
        return out;
}

static int count_chars(const char *s, size_t n)
{
        int c = 0;

        while (n-- > 0)
                if (((unsigned char)*s++ & 0xC0) != 0x80)
                        c++;
        return c;
}

/* Normalises a term's text (a bare word, or a quoted phrase's contents)
 * into words and appends it to r->terms. */
static uint32_t make_term(struct parser *ps, const struct token *t,
                          const char *raw, size_t len)
{
        struct nt_rules *r = ps->r;
        struct nt_tokens *w = &ps->words;
        struct nt_rules_term *term;
        struct nt_buf rule;
        size_t i, k;
        uint32_t node;
        int err;

        nt_tokens_reset(w);
        err = nt_tokens_add(w, NT_FIELD_BODY, raw, len);
        if (err == NT_ERR_LIMIT) {
                nt_rl_error(ps, t->loc, "phrase %.*s has more than %zu words",
                            (int)t->len, t->p, w->max);
                return NT_RULES_NONE;
        }
        if (err) {
                ps->fatal = err;
                return NT_RULES_NONE;
        }
        if (w->n == 0) {
                nt_rl_error(ps, t->loc, "term %.*s has no letters or digits",
                            (int)t->len, t->p);
                return NT_RULES_NONE;
        }
        /* A '*' must end a word: directly after it, before a space or the
         * end. Anything else would silently mean something else. */
        for (i = 0; i < len; i++) {
                int ok = 0;

                if (raw[i] != '*')
                        continue;
                for (k = 0; k < w->n; k++)
                        if (w->tok[k].end == i)
                                ok = 1;
                if (i + 1 < len && !nt_rl_is_space(raw[i + 1]))
                        ok = 0;
                if (!ok) {
                        nt_rl_error(ps, t->loc,
                                    "\"*\" in %.*s: a \"*\" marks a prefix and "
                                    "goes right after the end of a word",
                                    (int)t->len, t->p);
                        return NT_RULES_NONE;
                }
        }
        if (!grow(ps, &r->terms, &r->cap_terms, r->n_terms + 1, sizeof(*term)))
                return NT_RULES_NONE;
        term = &r->terms[r->n_terms];
        memset(term, 0, sizeof(*term));
        term->loc = t->loc;
        term->words = calloc(w->n, sizeof(*term->words));
        term->prefix = calloc(w->n, sizeof(*term->prefix));
        nt_buf_init(&rule, 4096);
        if (ps->define_name)
                nt_buf_printf(&rule, "@%s:", ps->define_name);
        nt_buf_append(&rule, t->p, t->len);
        term->rule = nt_buf_detach(&rule);
        r->n_terms++; /* owned by the set from here, freed with it */
        if (!term->words || !term->prefix || !term->rule) {
                ps->fatal = NT_ERR_NOMEM;
                return NT_RULES_NONE;
        }
        term->n_words = w->n;
        for (k = 0; k < w->n; k++) {
                const struct nt_token *wt = &w->tok[k];

                if (wt->flags & NT_TOK_LONG) {
                        nt_rl_error(ps, t->loc, "word in %.*s is too long",
                                    (int)t->len, t->p);
                        return NT_RULES_NONE;
                }
                term->prefix[k] = wt->end < len && raw[wt->end] == '*';
                term->words[k] =
                    nt_strdup_n(nt_tokens_norm(w, k), wt->norm_len);
                if (!term->words[k]) {
                        ps->fatal = NT_ERR_NOMEM;
                        return NT_RULES_NONE;
                }
                if (term->prefix[k] &&
                    count_chars(term->words[k], wt->norm_len) <
                        NT_RULES_MIN_PREFIX) {
                        nt_rl_error(ps, t->loc,
                                    "prefix %.*s is too short: at least %d "
                                    "characters before \"*\"",
                                    (int)t->len, t->p, NT_RULES_MIN_PREFIX);
                        return NT_RULES_NONE;
                }
        }
        node = new_node(ps, NT_RULES_TERM, t->loc);
        if (node != NT_RULES_NONE)
                r->nodes[node].term = (uint32_t)(r->n_terms - 1);
        return node;
}

/* "or", "near/5" in lower case: almost surely a misspelt operator, which
 * would otherwise be searched as a word. */
static int lowercase_operator(const struct token *t)
{
        if (t->kind != TK_WORD)
                return 0;
        return nt_rl_word_is(t, "and") || nt_rl_word_is(t, "or") ||
               nt_rl_word_is(t, "not") || nt_rl_word_is(t, "except") ||
               (t->len > 5 && strncasecmp(t->p, "near/", 5) == 0) ||
               (t->len > 6 && strncasecmp(t->p, "onear/", 6) == 0);
}

static void lowercase_error(struct parser *ps, const struct token *t)
{
        nt_rl_error(
            ps, t->loc,
            "lower-case \"%.*s\" would be searched as a word: write the "
            "operator in capitals, or quote the word",
            (int)t->len, t->p);
}

static int is_term_token(enum tk k)
{
        return k == TK_WORD || k == TK_STRING || k == TK_REF;
}

static uint32_t parse_or(struct parser *ps);
static uint32_t parse_primary(struct parser *ps);
static uint32_t parse_unary(struct parser *ps);

/* What `parse` reads after the token at loc that opens a level of the
 * expression ("(", NOT, a prefix), one level deeper: NT_RULES_NONE, with
 * the error, past NT_RULES_MAX_DEPTH. */
static uint32_t parse_nested(struct parser *ps, struct nt_rules_loc loc,
                             uint32_t (*parse)(struct parser *ps))
{
        uint32_t node;

        if (++ps->depth > NT_RULES_MAX_DEPTH) {
                nt_rl_error(ps, loc, "expression nests deeper than %d levels",
                            NT_RULES_MAX_DEPTH);
                ps->depth--;
                return NT_RULES_NONE;
        }
        nt_rl_lex(ps);
        node = parse(ps);
        ps->depth--;
        return node;
}

/* A prefix operator (a field or a sentence distance, token t) over the
 * primary that follows it: a node of op with that one kid. */
static uint32_t parse_prefixed(struct parser *ps, const struct token *t,
                               enum nt_rules_op op)
{
        uint32_t kid;

        /* A prefix is a level too: "title:title:..." recurses as "(" does. */
        kid = parse_nested(ps, t->loc, parse_primary);
        if (kid == NT_RULES_NONE)
                return kid;
        return new_parent(ps, op, t->loc, &kid, 1);
}

static uint32_t parse_primary(struct parser *ps)
{
        struct token t = ps->tok;
        char text[64];
        uint32_t node;

        switch (t.kind) {
        case TK_FIELD:
                node = parse_prefixed(ps, &t, NT_RULES_FIELD);
                if (node != NT_RULES_NONE)
                        ps->r->nodes[node].fields = t.num;
                return node;
        case TK_SENT:
                node = parse_prefixed(ps, &t, NT_RULES_SENT);
                if (node != NT_RULES_NONE)
                        ps->r->nodes[node].dist = t.num;
                return node;
        case TK_LPAREN:
                node = parse_nested(ps, t.loc, parse_or);
                if (node == NT_RULES_NONE)
                        return node;
                if (ps->tok.kind != TK_RPAREN) {
                        nt_rl_tok_text(&ps->tok, text, sizeof(text));
                        nt_rl_error(ps, ps->tok.loc,
                                    "expected \")\" to close the \"(\" at "
                                    "line %u, column %u, found %s",
                                    t.loc.line, t.loc.col, text);
                        return NT_RULES_NONE;
                }
                nt_rl_lex(ps);
                return node;
        case TK_WORD:
                if (lowercase_operator(&t)) {
                        lowercase_error(ps, &t);
                        return NT_RULES_NONE;
                }
                node = make_term(ps, &t, t.p, t.len);
                nt_rl_lex(ps);
                return node;
        case TK_STRING: {
                char *s = unquote(ps, &t);

                if (!s)
                        return NT_RULES_NONE;
                node = make_term(ps, &t, s, strlen(s));
                free(s);
                nt_rl_lex(ps);
                return node;
        }
        case TK_REF: {
                struct pending_ref *pr;

                node = new_node(ps, NT_RULES_REF, t.loc);
                if (node == NT_RULES_NONE)
                        return node;
                if (!grow(ps, &ps->refs, &ps->cap_refs, ps->n_refs + 1,
                          sizeof(*pr)))
                        return NT_RULES_NONE;
                pr = &ps->refs[ps->n_refs];
                pr->node = node;
                pr->name = nt_strdup_n(t.p + 1, t.len - 1);
                if (!pr->name) {
                        ps->fatal = NT_ERR_NOMEM;
                        return NT_RULES_NONE;
                }
                ps->n_refs++;
                nt_rl_lex(ps);
                return node;
        }
        case TK_ERROR:
                return NT_RULES_NONE;
        default:
                nt_rl_tok_text(&t, text, sizeof(text));
                nt_rl_error(
                    ps, t.loc,
                    "expected a word, a \"phrase\", @LIST or \"(\", found "
                    "%s",
                    text);
                return NT_RULES_NONE;
        }
}

static uint32_t parse_unary(struct parser *ps)
{
        struct token t = ps->tok;
        uint32_t kid, node;

        if (t.kind != TK_NOT)
                return parse_primary(ps);
        kid = parse_nested(ps, t.loc, parse_unary);
        if (kid == NT_RULES_NONE)
                return kid;
        node = new_parent(ps, NT_RULES_NOT, t.loc, &kid, 1);
        return node;
}

static uint32_t parse_near(struct parser *ps)
{
        uint32_t kids[2], node;
        struct token op;

        kids[0] = parse_unary(ps);
        while (kids[0] != NT_RULES_NONE &&
               (ps->tok.kind == TK_NEAR || ps->tok.kind == TK_ONEAR ||
                ps->tok.kind == TK_EXCEPT)) {
                op = ps->tok;
                nt_rl_lex(ps);
                kids[1] = parse_unary(ps);
                if (kids[1] == NT_RULES_NONE)
                        return NT_RULES_NONE;
                node = new_parent(ps,
                                  op.kind == TK_NEAR    ? NT_RULES_NEAR
                                  : op.kind == TK_ONEAR ? NT_RULES_ONEAR
                                                        : NT_RULES_EXCEPT,
                                  op.loc, kids, 2);
                if (node == NT_RULES_NONE)
                        return node;
                ps->r->nodes[node].dist = op.num;
                kids[0] = node;
        }
        return kids[0];
}

/* An n-ary AND or OR: a | b | c is one node with three kids, so that long
 * alternatives neither nest deeply nor cost a recursion per term. */
static uint32_t parse_list(struct parser *ps, enum tk sep,
                           uint32_t (*sub)(struct parser *),
                           enum nt_rules_op op)
{
        uint32_t first, *kids = NULL, node = NT_RULES_NONE;
        size_t n = 0, cap = 0;
        struct nt_rules_loc loc = ps->tok.loc;

        first = sub(ps);
        if (first == NT_RULES_NONE || ps->tok.kind != sep)
                return first;
        if (nt_array_grow(&kids, &cap, 1, sizeof(*kids)))
                goto nomem;
        kids[n++] = first;
        while (ps->tok.kind == sep) {
                nt_rl_lex(ps);
                if (nt_array_grow(&kids, &cap, n + 1, sizeof(*kids)))
                        goto nomem;
                kids[n] = sub(ps);
                if (kids[n] == NT_RULES_NONE)
                        goto out;
                n++;
        }
        node = new_parent(ps, op, loc, kids, n);
        goto out;
nomem:
        ps->fatal = NT_ERR_NOMEM;
out:
        free(kids);
        return node;
}

static uint32_t parse_and(struct parser *ps)
{
        return parse_list(ps, TK_AND, parse_near, NT_RULES_AND);
}

static uint32_t parse_or(struct parser *ps)
{
        return parse_list(ps, TK_OR, parse_and, NT_RULES_OR);
}

/* Parses an expression that must end with ';'. */
static uint32_t parse_expr_stmt(struct parser *ps, const char *what)
{
        char text[64];
        uint32_t node;

        ps->depth = 0;
        node = parse_or(ps);
        if (node == NT_RULES_NONE)
                return node;
        if (ps->tok.kind == TK_SEMI) {
                nt_rl_lex(ps);
                return node;
        }
        nt_rl_tok_text(&ps->tok, text, sizeof(text));
        if (lowercase_operator(&ps->tok))
                lowercase_error(ps, &ps->tok);
        else if (is_term_token(ps->tok.kind))
                nt_rl_error(
                    ps, ps->tok.loc,
                    "two terms in a row before %s: join them with AND or "
                    "OR (or |), or quote them as one \"phrase\"",
                    text);
        else if (ps->tok.kind == TK_RPAREN)
                nt_rl_error(ps, ps->tok.loc, "unbalanced \")\" in the %s",
                            what);
        else if (ps->tok.kind != TK_ERROR)
                nt_rl_error(ps, ps->tok.loc,
                            "expected \";\" after the %s, found %s", what,
                            text);
        return NT_RULES_NONE;
}

/* ---- statements ---- */

static int expect(struct parser *ps, enum tk kind, const char *what)
{
        char text[64];

        if (ps->tok.kind == kind) {
                nt_rl_lex(ps);
                return 0;
        }
        if (ps->tok.kind != TK_ERROR) {
                nt_rl_tok_text(&ps->tok, text, sizeof(text));
                nt_rl_error(ps, ps->tok.loc, "expected %s, found %s", what,
                            text);
        }
        return -1;
}

static int parse_number(struct parser *ps, double max, double *out,
                        const char *what)
{
        char num[32], text[64];

        if (ps->tok.kind != TK_WORD || ps->tok.len >= sizeof(num))
                goto bad;
        memcpy(num, ps->tok.p, ps->tok.len);
        num[ps->tok.len] = '\0';
        if (nt_num_parse_double(num, 0, max, out) != 0)
                goto bad;
        nt_rl_lex(ps);
        return 0;
bad:
        nt_rl_tok_text(&ps->tok, text, sizeof(text));
        nt_rl_error(ps, ps->tok.loc,
                    "%s must be a number from 0 to %g, found %s", what, max,
                    text);
        return -1;
}

/* Skips to the end of the statement (after ';') or to a '}'. */
static void sync_stmt(struct parser *ps)
{
        while (ps->tok.kind != TK_EOF && ps->tok.kind != TK_RBRACE) {
                if (ps->tok.kind == TK_SEMI) {
                        nt_rl_lex(ps);
                        return;
                }
                nt_rl_lex(ps);
        }
}

/* Skips to something that starts a top-level statement. */
static void sync_top(struct parser *ps)
{
        while (
            ps->tok.kind != TK_EOF && ps->tok.kind != TK_DEFINE &&
            !(ps->tok.kind == TK_WORD && (nt_rl_word_is(&ps->tok, "topic") ||
                                          nt_rl_word_is(&ps->tok, "entity"))))
                nt_rl_lex(ps);
}

static int valid_topic_id(const struct token *t)
{
        size_t i;

        if (t->len == 0 || t->len > 100)
                return 0;
        for (i = 0; i < t->len; i++) {
                char c = t->p[i];

                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      (i > 0 && (c == '_' || c == '-' || c == '.'))))
                        return 0;
        }
        return 1;
}

/* One statement inside a topic block. Returns -1 after an error. */
static int parse_topic_stmt(struct parser *ps, struct nt_rules_topic *tp,
                            int *seen)
{
        static const char *const names[] = {"label",   "threshold", "weights",
                                            "cap",     "match",     "require",
                                            "exclude", "veto"};
        struct token kw = ps->tok;
        char text[64];
        size_t k;
        uint32_t node;

        for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
                if (kw.kind == TK_WORD && nt_rl_word_is(&kw, names[k]))
                        break;
        if (k == sizeof(names) / sizeof(names[0])) {
                nt_rl_tok_text(&kw, text, sizeof(text));
                nt_rl_error(ps, kw.loc,
                            "expected label, threshold, weights, cap, match, "
                            "require, exclude or veto in topic \"%s\", found "
                            "%s",
                            tp->id, text);
                return -1;
        }
        if (seen[k]) {
                nt_rl_error(ps, kw.loc, "second \"%s\" in topic \"%s\"",
                            names[k], tp->id);
                return -1;
        }
        seen[k] = 1;
        nt_rl_lex(ps);
        switch (k) {
        case 0: {
                char *s;

                if (ps->tok.kind != TK_STRING) {
                        nt_rl_tok_text(&ps->tok, text, sizeof(text));
                        nt_rl_error(ps, ps->tok.loc,
                                    "label needs a \"quoted\" text, found %s",
                                    text);
                        return -1;
                }
                s = unquote(ps, &ps->tok);
                if (!s)
                        return -1;
                free(tp->label);
                tp->label = s;
                nt_rl_lex(ps);
                return expect(ps, TK_SEMI, "\";\" after the label");
        }
        case 1:
                if (parse_number(ps, 1e6, &tp->threshold, "threshold"))
                        return -1;
                if (tp->threshold <= 0) {
                        nt_rl_error(ps, kw.loc,
                                    "threshold must be above 0: a topic needs "
                                    "evidence");
                        return -1;
                }
                return expect(ps, TK_SEMI, "\";\" after the threshold");
        case 2:
                for (;;) {
                        struct token f = ps->tok;
                        int field = -1;

                        if (f.kind == TK_FIELD) {
                                field = f.num == 1 ? 0 : f.num == 2 ? 1 : 2;
                        } else if (f.kind == TK_WORD) {
                                field = nt_rl_word_is(&f, "title")  ? 0
                                        : nt_rl_word_is(&f, "lead") ? 1
                                        : nt_rl_word_is(&f, "body") ? 2
                                                                    : -1;
                        }
                        if (field < 0) {
                                nt_rl_tok_text(&f, text, sizeof(text));
                                nt_rl_error(ps, f.loc,
                                            "weights are \"title N, lead N, "
                                            "body N\"; found %s",
                                            text);
                                return -1;
                        }
                        nt_rl_lex(ps);
                        if (parse_number(ps, 1000, &tp->weight[field],
                                         "a weight"))
                                return -1;
                        if (ps->tok.kind != TK_COMMA)
                                break;
                        nt_rl_lex(ps);
                }
                return expect(ps, TK_SEMI, "\";\" after the weights");
        case 3:
                if (parse_number(ps, 1e6, &tp->cap, "cap"))
                        return -1;
                if (tp->cap <= 0) {
                        nt_rl_error(ps, kw.loc, "cap must be above 0");
                        return -1;
                }
                return expect(ps, TK_SEMI, "\";\" after the cap");
        default:
                node = parse_expr_stmt(ps, k == 4   ? "match expression"
                                           : k == 5 ? "require expression"
                                           : k == 6 ? "exclude expression"
                                                    : "veto expression");
                if (node == NT_RULES_NONE)
                        return -1;
                if (k == 4)
                        tp->match = node;
                else if (k == 5)
                        tp->require = node;
                else if (k == 6)
                        tp->exclude = node;
                else
                        tp->veto = node;
                return 0;
        }
}

/* Says so when the name in `tok` is `name`, defined before at `prev`:
 * "<before>NAME<after> is already defined at FILE:LINE:COL". */
static void check_redefined(struct parser *ps, const struct token *tok,
                            const char *name, struct nt_rules_loc prev,
                            const char *before, const char *after)
{
        char where[300];

        if (!nt_rl_word_is(tok, name))
                return;
        nt_rules_loc_str(ps->r, prev, where, sizeof(where));
        nt_rl_error(ps, tok->loc, "%s%.*s%s is already defined at %s", before,
                    (int)tok->len, tok->p, after, where);
}

static void parse_topic(struct parser *ps)
{
        struct nt_rules *r = ps->r;
        struct nt_rules_topic *tp;
        struct nt_rules_loc loc = ps->tok.loc;
        struct token id;
        char text[64];
        int seen[8] = {0};
        size_t i;

        nt_rl_lex(ps);
        id = ps->tok;
        if (id.kind != TK_WORD || !valid_topic_id(&id)) {
                nt_rl_tok_text(&id, text, sizeof(text));
                nt_rl_error(
                    ps, id.loc,
                    "topic id %s: lower-case letters, digits, and . _ - "
                    "after the first character (it names a Kafka topic)",
                    text);
                sync_top(ps);
                return;
        }
        for (i = 0; i < r->n_topics; i++)
                check_redefined(ps, &id, r->topics[i].id, r->topics[i].loc,
                                "topic \"", "\"");
        if (!grow(ps, &r->topics, &r->cap_topics, r->n_topics + 1, sizeof(*tp)))
                return;
        tp = &r->topics[r->n_topics];
        memset(tp, 0, sizeof(*tp));
        tp->id = nt_strdup_n(id.p, id.len);
        r->n_topics++;
        if (!tp->id) {
                ps->fatal = NT_ERR_NOMEM;
                return;
        }
        tp->loc = loc;
        tp->threshold = 1.0;
        tp->weight[NT_FIELD_TITLE] = 3;
        tp->weight[NT_FIELD_LEAD] = 2;
        tp->weight[NT_FIELD_BODY] = 1;
        tp->cap = -1; /* set from the weights below unless given */
        tp->match = tp->require = tp->exclude = tp->veto = NT_RULES_NONE;
        nt_rl_lex(ps);
        if (expect(ps, TK_LBRACE, "\"{\" after the topic id")) {
                sync_top(ps);
                return;
        }
        while (ps->tok.kind != TK_RBRACE && ps->tok.kind != TK_EOF &&
               !ps->fatal) {
                if (parse_topic_stmt(ps, tp, seen))
                        sync_stmt(ps);
        }
        if (ps->tok.kind != TK_RBRACE) {
                nt_rl_error(ps, ps->tok.loc,
                            "topic \"%s\" (line %u) is not closed with \"}\"",
                            tp->id, loc.line);
                return;
        }
        if (!seen[0])
                nt_rl_error(ps, loc, "topic \"%s\" has no label", tp->id);
        if (!seen[4])
                nt_rl_error(ps, loc, "topic \"%s\" has no match expression",
                            tp->id);
        if (!tp->label)
                tp->label = nt_strdup_n(tp->id, strlen(tp->id));
        if (!seen[3]) {
                /* By default one term adds at most two title mentions'
                 * worth (twice the largest weight). */
                int f;

                tp->cap = 0;
                for (f = 0; f < NT_FIELD_COUNT; f++)
                        if (2 * tp->weight[f] > tp->cap)
                                tp->cap = 2 * tp->weight[f];
        }
        nt_rl_lex(ps);
}

static void parse_entity(struct parser *ps)
{
        struct nt_rules *r = ps->r;
        struct nt_rules_entity *en;
        struct nt_rules_loc loc = ps->tok.loc;
        char text[64], *name;
        int type;
        uint32_t expr;

        nt_rl_lex(ps);
        if (ps->tok.kind != TK_STRING) {
                nt_rl_tok_text(&ps->tok, text, sizeof(text));
                nt_rl_error(ps, ps->tok.loc,
                            "entity needs a \"quoted\" name, found %s", text);
                sync_stmt(ps);
                return;
        }
        name = unquote(ps, &ps->tok);
        if (!name) {
                sync_stmt(ps);
                return;
        }
        nt_rl_lex(ps);
        type = nt_rl_word_is(&ps->tok, "person")  ? NT_ENTITY_PERSON
               : nt_rl_word_is(&ps->tok, "place") ? NT_ENTITY_PLACE
               : nt_rl_word_is(&ps->tok, "org")   ? NT_ENTITY_ORG
                                                  : -1;
        if (ps->tok.kind != TK_WORD || type < 0) {
                nt_rl_tok_text(&ps->tok, text, sizeof(text));
                nt_rl_error(
                    ps, ps->tok.loc,
                    "entity type must be person, place or org, found %s", text);
                free(name);
                sync_stmt(ps);
                return;
        }
        nt_rl_lex(ps);
        if (expect(ps, TK_EQ, "\"=\" after the entity type")) {
                free(name);
                sync_stmt(ps);
                return;
        }
        expr = parse_expr_stmt(ps, "entity's alternatives");
        if (expr == NT_RULES_NONE) {
                free(name);
                sync_stmt(ps);
                return;
        }
        if (!grow(ps, &r->entities, &r->cap_entities, r->n_entities + 1,
                  sizeof(*en))) {
                free(name);
                return;
        }
        en = &r->entities[r->n_entities++];
        en->name = name;
        en->type = (enum nt_entity_type)type;
        en->expr = expr;
        en->loc = loc;
}

static int valid_list_name(const struct token *t)
{
        size_t i;

        if (t->len == 0 || (t->p[0] >= '0' && t->p[0] <= '9'))
                return 0;
        for (i = 0; i < t->len; i++)
                if (!nt_rl_is_name_char(t->p[i]))
                        return 0;
        return 1;
}

static void parse_define(struct parser *ps)
{
        struct nt_rules *r = ps->r;
        struct nt_rules_define *d;
        struct token name;
        char text[64];
        uint32_t expr;
        size_t i;

        nt_rl_lex(ps);
        name = ps->tok;
        if (name.kind != TK_WORD || !valid_list_name(&name)) {
                nt_rl_tok_text(&name, text, sizeof(text));
                nt_rl_error(ps, name.loc,
                            "@define needs a list name (letters, digits, _), "
                            "found %s",
                            text);
                sync_stmt(ps);
                return;
        }
        for (i = 0; i < r->n_defines; i++)
                check_redefined(ps, &name, r->defines[i].name,
                                r->defines[i].loc, "list @", "");
        nt_rl_lex(ps);
        if (expect(ps, TK_EQ, "\"=\" after the list name")) {
                sync_stmt(ps);
                return;
        }
        if (!grow(ps, &r->defines, &r->cap_defines, r->n_defines + 1,
                  sizeof(*d)))
                return;
        d = &r->defines[r->n_defines];
        d->name = nt_strdup_n(name.p, name.len);
        d->loc = name.loc;
        d->expr = NT_RULES_NONE;
        r->n_defines++;
        if (!d->name) {
                ps->fatal = NT_ERR_NOMEM;
                return;
        }
        ps->define_name = d->name;
        expr = parse_expr_stmt(ps, "list");
        ps->define_name = NULL;
        r->defines[r->n_defines - 1].expr = expr;
        if (expr == NT_RULES_NONE)
                sync_stmt(ps);
}

static void parse_source(struct parser *ps, uint32_t src, const char *text,
                         size_t len)
{
        char msg[64];

        ps->p = text;
        ps->end = text + len;
        ps->at.src = src;
        ps->at.line = 1;
        ps->at.col = 1;
        if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
                ps->p += 3; /* a byte-order mark is not a character */
        if (memchr(text, '\0', len)) {
                nt_rl_error(ps, ps->at,
                            "the file contains a NUL byte: not text");
                return;
        }
        nt_rl_lex(ps);
        while (ps->tok.kind != TK_EOF && !ps->fatal &&
               ps->n_errors <= NT_RULES_MAX_ERRORS) {
                if (ps->tok.kind == TK_DEFINE) {
                        parse_define(ps);
                } else if (ps->tok.kind == TK_WORD &&
                           nt_rl_word_is(&ps->tok, "topic")) {
                        parse_topic(ps);
                } else if (ps->tok.kind == TK_WORD &&
                           nt_rl_word_is(&ps->tok, "entity")) {
                        parse_entity(ps);
                } else {
                        if (ps->tok.kind != TK_ERROR) {
                                nt_rl_tok_text(&ps->tok, msg, sizeof(msg));
                                nt_rl_error(
                                    ps, ps->tok.loc,
                                    "expected topic, entity or @define, "
                                    "found %s",
                                    msg);
                        }
                        nt_rl_lex(ps);
                        sync_top(ps);
                }
        }
}

int nt_rl_begin(struct nt_rules **out, size_t n, char *errstr,
                size_t errstr_size)
{
        *out = NULL;
        if (n > NT_RULES_MAX_SOURCES)
                return nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                               "more than %d rules files",
                               NT_RULES_MAX_SOURCES);
        return 0;
}

int nt_rules_parse(const struct nt_rules_source *src, size_t n,
                   struct nt_rules **out, struct nt_buf *diag, char *errstr,
                   size_t errstr_size)
{
        struct parser ps;
        struct nt_rules *r;
        XXH64_hash_t h = 0;
        size_t i;
        int err = 0;

        err = nt_rl_begin(out, n, errstr, errstr_size);
        if (err)
                return err;
        r = calloc(1, sizeof(*r));
        if (!r)
                return NT_ERR_NOMEM;
        memset(&ps, 0, sizeof(ps));
        ps.r = r;
        ps.diag = diag;
        ps.errstr = errstr;
        ps.errstr_size = errstr_size;
        /* A phrase of more than 32 words is a sentence, not a term. */
        nt_tokens_init(&ps.words, 32);
        r->src_names = calloc(n + 1, sizeof(*r->src_names));
        if (!r->src_names) {
                err = NT_ERR_NOMEM;
                goto out;
        }
        for (i = 0; i < n; i++) {
                r->src_names[i] = nt_strdup_n(src[i].name, strlen(src[i].name));
                if (!r->src_names[i]) {
                        err = NT_ERR_NOMEM;
                        goto out;
                }
                r->n_src++;
        }
        for (i = 0; i < n && !ps.fatal; i++) {
                if (src[i].len > NT_RULES_MAX_FILE_BYTES) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                                      "%s: larger than %u bytes", src[i].name,
                                      NT_RULES_MAX_FILE_BYTES);
                        goto out;
                }
                /* Each source's hash seeds the next: the version changes
                 * with any byte and with the order of the files. */
                h = XXH3_64bits_withSeed(src[i].text, src[i].len, h);
                parse_source(&ps, (uint32_t)i, src[i].text, src[i].len);
        }
        snprintf(r->version, sizeof(r->version), "%016llx",
                 (unsigned long long)h);
        if (!ps.fatal && !ps.n_errors)
                nt_rl_check_set(&ps);
        if (ps.fatal) {
                err = nt_errf(errstr, errstr_size, ps.fatal,
                              "loading rules: %s", nt_err_name(ps.fatal));
                goto out;
        }
        if (ps.n_errors) {
                if (ps.n_errors > NT_RULES_MAX_ERRORS && diag)
                        nt_buf_printf(diag, "(%d more errors not shown)\n",
                                      ps.n_errors - NT_RULES_MAX_ERRORS);
                err = NT_ERR_PARSE;
                goto out;
        }
        *out = r;
        r = NULL;
out:
        for (i = 0; i < ps.n_refs; i++)
                free(ps.refs[i].name);
        free(ps.refs);
        nt_tokens_free(&ps.words);
        nt_rules_destroy(r);
        return err;
}
