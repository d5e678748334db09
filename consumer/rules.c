/* Lexer, recursive-descent parser and the checks of the rules language.
 * Errors are collected (up to NT_RULES_MAX_ERRORS) rather than stopping at
 * the first, so that `newstap rules check` shows an analyst every mistake
 * in one run; after an error the parser skips to the next statement. */
#include "consumer/rules.h"

#include "common/err.h"
#include "common/num.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <xxhash.h>

enum tk {
        TK_EOF,
        TK_ERROR, /* already reported by the lexer */
        TK_WORD,
        TK_STRING,
        TK_REF,    /* @NAME */
        TK_DEFINE, /* @define */
        TK_LPAREN,
        TK_RPAREN,
        TK_LBRACE,
        TK_RBRACE,
        TK_SEMI,
        TK_COMMA,
        TK_EQ,
        TK_OR,
        TK_AND,
        TK_NOT,
        TK_NEAR,
        TK_ONEAR,
        TK_EXCEPT,
        TK_FIELD, /* title: lead: body: */
        TK_SENT,  /* sentence: sentence/n: */
};

struct token {
        enum tk kind;
        const char *p; /* the token's text in the source */
        size_t len;
        struct nt_rules_loc loc;
        uint32_t num; /* NEAR distance, FIELD mask */
};

struct pending_ref {
        uint32_t node;
        char *name;
};

struct parser {
        struct nt_rules *r;
        const char *p, *end;
        struct nt_rules_loc at; /* position of p */
        struct token tok;       /* the lookahead */
        struct nt_buf *diag;
        char *errstr;
        size_t errstr_size;
        int n_errors;
        int fatal; /* NT_ERR_NOMEM or NT_ERR_LIMIT: stop at once */
        const char *define_name; /* inside `@define NAME = ...` */
        int depth;
        struct pending_ref *refs;
        size_t n_refs, cap_refs;
        struct nt_tokens words; /* scratch for normalising terms */
};

const char *nt_entity_type_name(enum nt_entity_type t)
{
        switch (t) {
        case NT_ENTITY_PERSON:
                return "person";
        case NT_ENTITY_PLACE:
                return "place";
        case NT_ENTITY_ORG:
                return "org";
        }
        return "?";
}

/* Grows an array to hold `need` elements. */
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

static char *dup_n(const char *s, size_t n)
{
        char *d = malloc(n + 1);

        if (d) {
                memcpy(d, s, n);
                d[n] = '\0';
        }
        return d;
}

const char *nt_rules_loc_str(const struct nt_rules *r, struct nt_rules_loc loc,
                             char *buf, size_t size)
{
        snprintf(buf, size, "%s:%u:%u",
                 loc.src < r->n_src ? r->src_names[loc.src] : "?", loc.line,
                 loc.col);
        return buf;
}

/* Reports an error at loc. The message should quote the offending text. */
static void error_at(struct parser *ps, struct nt_rules_loc loc,
                     const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void error_at(struct parser *ps, struct nt_rules_loc loc,
                     const char *fmt, ...)
{
        char where[512], msg[512];
        va_list ap;

        ps->n_errors++;
        if (ps->n_errors > NT_RULES_MAX_ERRORS)
                return;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        nt_rules_loc_str(ps->r, loc, where, sizeof(where));
        if (ps->n_errors == 1)
                nt_errf(ps->errstr, ps->errstr_size, NT_ERR_PARSE, "%s: %s",
                        where, msg);
        if (ps->diag)
                nt_buf_printf(ps->diag, "%s: %s\n", where, msg);
}

/* The token's text for a message: at most 40 bytes, cut on a character
 * boundary, with "..." when cut. */
static void tok_text(const struct token *t, char *buf, size_t size)
{
        size_t n = t->len;

        if (t->kind == TK_EOF) {
                snprintf(buf, size, "end of file");
                return;
        }
        if (n > 40) {
                n = 40;
                while (n > 0 && ((unsigned char)t->p[n] & 0xC0) == 0x80)
                        n--;
        }
        snprintf(buf, size, "\"%.*s%s\"", (int)n, t->p,
                 n < t->len ? "..." : "");
}

/* ---- lexer ---- */

static void advance(struct parser *ps, size_t n)
{
        while (n-- > 0 && ps->p < ps->end) {
                unsigned char c = (unsigned char)*ps->p++;

                if (c == '\n') {
                        ps->at.line++;
                        ps->at.col = 1;
                } else if ((c & 0xC0) != 0x80) {
                        ps->at.col++;
                }
        }
}

static int is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
               c == '\v';
}

/* Characters that end a bare word. */
static int is_delim(char c)
{
        return is_space(c) || strchr("()|&!\";:,{}=@#", c) != NULL;
}

static int is_name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '_';
}

static int word_is(const struct token *t, const char *s)
{
        return t->len == strlen(s) && memcmp(t->p, s, t->len) == 0;
}

/* Reads "NEAR/n" or "ONEAR/n" distances. */
static void lex_near(struct parser *ps, struct token *t, size_t kwlen)
{
        char num[16];
        int64_t v;
        size_t n = t->len - kwlen - 1;

        if (t->len <= kwlen + 1 || t->p[kwlen] != '/' || n >= sizeof(num)) {
                error_at(ps, t->loc,
                         "%.*s needs a distance in words, as in %.*s/5",
                         (int)kwlen, t->p, (int)kwlen, t->p);
                t->kind = TK_ERROR;
                return;
        }
        memcpy(num, t->p + kwlen + 1, n);
        num[n] = '\0';
        if (nt_num_parse_i64(num, 1, NT_RULES_MAX_NEAR, &v) != 0) {
                error_at(ps, t->loc,
                         "bad distance \"%s\" in \"%.*s\": a whole number of "
                         "words from 1 to %d",
                         num, (int)t->len, t->p, NT_RULES_MAX_NEAR);
                t->kind = TK_ERROR;
                return;
        }
        t->num = (uint32_t)v;
}

/* Reads "sentence:" (one sentence) or "sentence/n:" (n adjacent
 * sentences); the ':' is part of the token. */
static void lex_sentence(struct parser *ps, struct token *t)
{
        char num[16];
        int64_t v = 1;
        size_t n;

        t->kind = TK_SENT;
        if (t->len > 8) {
                n = t->len - 9;
                if (n == 0 || n >= sizeof(num)) {
                        v = 0;
                } else {
                        memcpy(num, t->p + 9, n);
                        num[n] = '\0';
                        if (nt_num_parse_i64(num, 1, NT_RULES_MAX_SENT_WINDOW,
                                             &v) != 0)
                                v = 0;
                }
        }
        t->len++;
        advance(ps, t->len);
        if (v == 0) {
                error_at(ps, t->loc,
                         "bad window in \"%.*s\": sentence/n: takes n "
                         "adjacent sentences, n from 1 to %d",
                         (int)t->len, t->p, NT_RULES_MAX_SENT_WINDOW);
                t->kind = TK_ERROR;
                return;
        }
        t->num = (uint32_t)v;
}

static void lex(struct parser *ps)
{
        struct token *t = &ps->tok;

        for (;;) {
                while (ps->p < ps->end && is_space(*ps->p))
                        advance(ps, 1);
                if (ps->p < ps->end && *ps->p == '#') {
                        while (ps->p < ps->end && *ps->p != '\n')
                                advance(ps, 1);
                        continue;
                }
                break;
        }
        memset(t, 0, sizeof(*t));
        t->p = ps->p;
        t->loc = ps->at;
        if (ps->p >= ps->end) {
                t->kind = TK_EOF;
                return;
        }
        switch (*ps->p) {
        case '(':
                t->kind = TK_LPAREN;
                break;
        case ')':
                t->kind = TK_RPAREN;
                break;
        case '{':
                t->kind = TK_LBRACE;
                break;
        case '}':
                t->kind = TK_RBRACE;
                break;
        case ';':
                t->kind = TK_SEMI;
                break;
        case ',':
                t->kind = TK_COMMA;
                break;
        case '=':
                t->kind = TK_EQ;
                break;
        case '|':
                t->kind = TK_OR;
                break;
        case '&':
                t->kind = TK_AND;
                break;
        case '!':
                t->kind = TK_NOT;
                break;
        case '"': {
                const char *q = ps->p + 1;

                while (q < ps->end && *q != '"' && *q != '\n') {
                        if (*q == '\\' && q + 1 < ps->end && q[1] != '\n')
                                q++;
                        q++;
                }
                if (q >= ps->end || *q != '"') {
                        t->len = (size_t)(q - ps->p);
                        error_at(ps, t->loc,
                                 "unterminated string: a quote opened here "
                                 "is not closed on the same line");
                        t->kind = TK_ERROR;
                        advance(ps, t->len);
                        return;
                }
                t->kind = TK_STRING;
                t->len = (size_t)(q + 1 - ps->p);
                advance(ps, t->len);
                return;
        }
        case '@': {
                const char *q = ps->p + 1;

                while (q < ps->end && is_name_char(*q))
                        q++;
                t->len = (size_t)(q - ps->p);
                advance(ps, t->len);
                if (t->len == 1) {
                        error_at(ps, t->loc,
                                 "\"@\" must be followed by a list name, as "
                                 "in @PLANT");
                        t->kind = TK_ERROR;
                } else {
                        t->kind = word_is(t, "@define") ? TK_DEFINE : TK_REF;
                }
                return;
        }
        case ':':
                t->len = 1;
                advance(ps, 1);
                error_at(ps, t->loc,
                         "\":\" only follows a field name (title:, lead:, "
                         "body:)");
                t->kind = TK_ERROR;
                return;
        default: {
                const char *q = ps->p;

                while (q < ps->end && !is_delim(*q))
                        q++;
                t->len = (size_t)(q - ps->p);
                if (q < ps->end && *q == ':' &&
                    (word_is(t, "sentence") ||
                     (t->len > 9 && memcmp(t->p, "sentence/", 9) == 0))) {
                        lex_sentence(ps, t);
                        return;
                }
                if (q < ps->end && *q == ':') {
                        if (word_is(t, "title"))
                                t->num = 1u << NT_FIELD_TITLE;
                        else if (word_is(t, "lead"))
                                t->num = 1u << NT_FIELD_LEAD;
                        else if (word_is(t, "body"))
                                t->num = 1u << NT_FIELD_BODY;
                        t->len++;
                        advance(ps, t->len);
                        if (!t->num) {
                                error_at(ps, t->loc,
                                         "unknown field \"%.*s\": the fields "
                                         "are title:, lead: and body: (and "
                                         "sentence: or sentence/n: for a "
                                         "sentence)",
                                         (int)t->len, t->p);
                                t->kind = TK_ERROR;
                        } else {
                                t->kind = TK_FIELD;
                        }
                        return;
                }
                advance(ps, t->len);
                t->kind = TK_WORD;
                if (word_is(t, "AND"))
                        t->kind = TK_AND;
                else if (word_is(t, "OR"))
                        t->kind = TK_OR;
                else if (word_is(t, "NOT"))
                        t->kind = TK_NOT;
                else if (word_is(t, "EXCEPT"))
                        t->kind = TK_EXCEPT;
                else if (t->len >= 4 && memcmp(t->p, "NEAR", 4) == 0) {
                        t->kind = TK_NEAR;
                        lex_near(ps, t, 4);
                } else if (t->len >= 5 && memcmp(t->p, "ONEAR", 5) == 0) {
                        t->kind = TK_ONEAR;
                        lex_near(ps, t, 5);
                }
                return;
        }
        }
        t->len = 1;
        advance(ps, 1);
}

/* ---- building the tree ---- */

static uint32_t new_node(struct parser *ps, enum nt_rules_op op,
                         struct nt_rules_loc loc)
{
        struct nt_rules *r = ps->r;
        struct nt_rules_node *n;

        if (grow(&r->nodes, &r->cap_nodes, r->n_nodes + 1, sizeof(*n))) {
                ps->fatal = NT_ERR_NOMEM;
                return NT_RULES_NONE;
        }
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

        if (grow(&r->kids, &r->cap_kids, r->n_kids + n, sizeof(*r->kids))) {
                ps->fatal = NT_ERR_NOMEM;
                return NT_RULES_NONE;
        }
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
                                error_at(ps, t->loc,
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
                error_at(ps, t->loc, "phrase %.*s has more than %zu words",
                         (int)t->len, t->p, w->max);
                return NT_RULES_NONE;
        }
        if (err) {
                ps->fatal = err;
                return NT_RULES_NONE;
        }
        if (w->n == 0) {
                error_at(ps, t->loc, "term %.*s has no letters or digits",
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
                if (i + 1 < len && !is_space(raw[i + 1]))
                        ok = 0;
                if (!ok) {
                        error_at(ps, t->loc,
                                 "\"*\" in %.*s: a \"*\" marks a prefix and "
                                 "goes right after the end of a word",
                                 (int)t->len, t->p);
                        return NT_RULES_NONE;
                }
        }
        if (grow(&r->terms, &r->cap_terms, r->n_terms + 1, sizeof(*term))) {
                ps->fatal = NT_ERR_NOMEM;
                return NT_RULES_NONE;
        }
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
                        error_at(ps, t->loc, "word in %.*s is too long",
                                 (int)t->len, t->p);
                        return NT_RULES_NONE;
                }
                term->prefix[k] = wt->end < len && raw[wt->end] == '*';
                term->words[k] = dup_n(nt_tokens_norm(w, k), wt->norm_len);
                if (!term->words[k]) {
                        ps->fatal = NT_ERR_NOMEM;
                        return NT_RULES_NONE;
                }
                if (term->prefix[k] &&
                    count_chars(term->words[k], wt->norm_len) <
                        NT_RULES_MIN_PREFIX) {
                        error_at(ps, t->loc,
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
        return word_is(t, "and") || word_is(t, "or") || word_is(t, "not") ||
               word_is(t, "except") ||
               (t->len > 5 && strncasecmp(t->p, "near/", 5) == 0) ||
               (t->len > 6 && strncasecmp(t->p, "onear/", 6) == 0);
}

static void lowercase_error(struct parser *ps, const struct token *t)
{
        error_at(ps, t->loc,
                 "lower-case \"%.*s\" would be searched as a word: write the "
                 "operator in capitals, or quote the word",
                 (int)t->len, t->p);
}

static int is_term_token(enum tk k)
{
        return k == TK_WORD || k == TK_STRING || k == TK_REF;
}

static uint32_t parse_or(struct parser *ps);

static uint32_t parse_primary(struct parser *ps)
{
        struct token t = ps->tok;
        char text[64];
        uint32_t node, kid;

        switch (t.kind) {
        case TK_FIELD:
                lex(ps);
                kid = parse_primary(ps);
                if (kid == NT_RULES_NONE)
                        return kid;
                node = new_parent(ps, NT_RULES_FIELD, t.loc, &kid, 1);
                if (node != NT_RULES_NONE)
                        ps->r->nodes[node].fields = t.num;
                return node;
        case TK_SENT:
                lex(ps);
                kid = parse_primary(ps);
                if (kid == NT_RULES_NONE)
                        return kid;
                node = new_parent(ps, NT_RULES_SENT, t.loc, &kid, 1);
                if (node != NT_RULES_NONE)
                        ps->r->nodes[node].dist = t.num;
                return node;
        case TK_LPAREN:
                if (++ps->depth > NT_RULES_MAX_DEPTH) {
                        error_at(ps, t.loc,
                                 "expression nests deeper than %d levels",
                                 NT_RULES_MAX_DEPTH);
                        return NT_RULES_NONE;
                }
                lex(ps);
                node = parse_or(ps);
                ps->depth--;
                if (node == NT_RULES_NONE)
                        return node;
                if (ps->tok.kind != TK_RPAREN) {
                        tok_text(&ps->tok, text, sizeof(text));
                        error_at(ps, ps->tok.loc,
                                 "expected \")\" to close the \"(\" at "
                                 "line %u, column %u, found %s",
                                 t.loc.line, t.loc.col, text);
                        return NT_RULES_NONE;
                }
                lex(ps);
                return node;
        case TK_WORD:
                if (lowercase_operator(&t)) {
                        lowercase_error(ps, &t);
                        return NT_RULES_NONE;
                }
                node = make_term(ps, &t, t.p, t.len);
                lex(ps);
                return node;
        case TK_STRING: {
                char *s = unquote(ps, &t);

                if (!s)
                        return NT_RULES_NONE;
                node = make_term(ps, &t, s, strlen(s));
                free(s);
                lex(ps);
                return node;
        }
        case TK_REF: {
                struct pending_ref *pr;

                node = new_node(ps, NT_RULES_REF, t.loc);
                if (node == NT_RULES_NONE)
                        return node;
                if (grow(&ps->refs, &ps->cap_refs, ps->n_refs + 1,
                         sizeof(*pr))) {
                        ps->fatal = NT_ERR_NOMEM;
                        return NT_RULES_NONE;
                }
                pr = &ps->refs[ps->n_refs];
                pr->node = node;
                pr->name = dup_n(t.p + 1, t.len - 1);
                if (!pr->name) {
                        ps->fatal = NT_ERR_NOMEM;
                        return NT_RULES_NONE;
                }
                ps->n_refs++;
                lex(ps);
                return node;
        }
        case TK_ERROR:
                return NT_RULES_NONE;
        default:
                tok_text(&t, text, sizeof(text));
                error_at(ps, t.loc,
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
        if (++ps->depth > NT_RULES_MAX_DEPTH) {
                error_at(ps, t.loc, "expression nests deeper than %d levels",
                         NT_RULES_MAX_DEPTH);
                return NT_RULES_NONE;
        }
        lex(ps);
        kid = parse_unary(ps);
        ps->depth--;
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
                lex(ps);
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
        if (grow(&kids, &cap, 1, sizeof(*kids)))
                goto nomem;
        kids[n++] = first;
        while (ps->tok.kind == sep) {
                lex(ps);
                if (grow(&kids, &cap, n + 1, sizeof(*kids)))
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
                lex(ps);
                return node;
        }
        tok_text(&ps->tok, text, sizeof(text));
        if (lowercase_operator(&ps->tok))
                lowercase_error(ps, &ps->tok);
        else if (is_term_token(ps->tok.kind))
                error_at(ps, ps->tok.loc,
                         "two terms in a row before %s: join them with AND or "
                         "OR (or |), or quote them as one \"phrase\"",
                         text);
        else if (ps->tok.kind == TK_RPAREN)
                error_at(ps, ps->tok.loc, "unbalanced \")\" in the %s", what);
        else if (ps->tok.kind != TK_ERROR)
                error_at(ps, ps->tok.loc,
                         "expected \";\" after the %s, found %s", what, text);
        return NT_RULES_NONE;
}

/* ---- statements ---- */

static int expect(struct parser *ps, enum tk kind, const char *what)
{
        char text[64];

        if (ps->tok.kind == kind) {
                lex(ps);
                return 0;
        }
        if (ps->tok.kind != TK_ERROR) {
                tok_text(&ps->tok, text, sizeof(text));
                error_at(ps, ps->tok.loc, "expected %s, found %s", what, text);
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
        lex(ps);
        return 0;
bad:
        tok_text(&ps->tok, text, sizeof(text));
        error_at(ps, ps->tok.loc, "%s must be a number from 0 to %g, found %s",
                 what, max, text);
        return -1;
}

/* Skips to the end of the statement (after ';') or to a '}'. */
static void sync_stmt(struct parser *ps)
{
        while (ps->tok.kind != TK_EOF && ps->tok.kind != TK_RBRACE) {
                if (ps->tok.kind == TK_SEMI) {
                        lex(ps);
                        return;
                }
                lex(ps);
        }
}

/* Skips to something that starts a top-level statement. */
static void sync_top(struct parser *ps)
{
        while (ps->tok.kind != TK_EOF && ps->tok.kind != TK_DEFINE &&
               !(ps->tok.kind == TK_WORD &&
                 (word_is(&ps->tok, "topic") || word_is(&ps->tok, "entity"))))
                lex(ps);
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
                if (kw.kind == TK_WORD && word_is(&kw, names[k]))
                        break;
        if (k == sizeof(names) / sizeof(names[0])) {
                tok_text(&kw, text, sizeof(text));
                error_at(ps, kw.loc,
                         "expected label, threshold, weights, cap, match, "
                         "require, exclude or veto in topic \"%s\", found "
                         "%s",
                         tp->id, text);
                return -1;
        }
        if (seen[k]) {
                error_at(ps, kw.loc, "second \"%s\" in topic \"%s\"", names[k],
                         tp->id);
                return -1;
        }
        seen[k] = 1;
        lex(ps);
        switch (k) {
        case 0: {
                char *s;

                if (ps->tok.kind != TK_STRING) {
                        tok_text(&ps->tok, text, sizeof(text));
                        error_at(ps, ps->tok.loc,
                                 "label needs a \"quoted\" text, found %s",
                                 text);
                        return -1;
                }
                s = unquote(ps, &ps->tok);
                if (!s)
                        return -1;
                free(tp->label);
                tp->label = s;
                lex(ps);
                return expect(ps, TK_SEMI, "\";\" after the label");
        }
        case 1:
                if (parse_number(ps, 1e6, &tp->threshold, "threshold"))
                        return -1;
                if (tp->threshold <= 0) {
                        error_at(ps, kw.loc,
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
                                field = word_is(&f, "title")  ? 0
                                        : word_is(&f, "lead") ? 1
                                        : word_is(&f, "body") ? 2
                                                              : -1;
                        }
                        if (field < 0) {
                                tok_text(&f, text, sizeof(text));
                                error_at(ps, f.loc,
                                         "weights are \"title N, lead N, "
                                         "body N\"; found %s",
                                         text);
                                return -1;
                        }
                        lex(ps);
                        if (parse_number(ps, 1000, &tp->weight[field],
                                         "a weight"))
                                return -1;
                        if (ps->tok.kind != TK_COMMA)
                                break;
                        lex(ps);
                }
                return expect(ps, TK_SEMI, "\";\" after the weights");
        case 3:
                if (parse_number(ps, 1e6, &tp->cap, "cap"))
                        return -1;
                if (tp->cap <= 0) {
                        error_at(ps, kw.loc, "cap must be above 0");
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

static void parse_topic(struct parser *ps)
{
        struct nt_rules *r = ps->r;
        struct nt_rules_topic *tp;
        struct nt_rules_loc loc = ps->tok.loc;
        struct token id;
        char text[64];
        int seen[8] = {0};
        size_t i;

        lex(ps);
        id = ps->tok;
        if (id.kind != TK_WORD || !valid_topic_id(&id)) {
                tok_text(&id, text, sizeof(text));
                error_at(ps, id.loc,
                         "topic id %s: lower-case letters, digits, and . _ - "
                         "after the first character (it names a Kafka topic)",
                         text);
                sync_top(ps);
                return;
        }
        for (i = 0; i < r->n_topics; i++) {
                if (strlen(r->topics[i].id) == id.len &&
                    memcmp(r->topics[i].id, id.p, id.len) == 0) {
                        char where[300];

                        nt_rules_loc_str(r, r->topics[i].loc, where,
                                         sizeof(where));
                        error_at(ps, id.loc,
                                 "topic \"%.*s\" is already defined at %s",
                                 (int)id.len, id.p, where);
                }
        }
        if (grow(&r->topics, &r->cap_topics, r->n_topics + 1, sizeof(*tp))) {
                ps->fatal = NT_ERR_NOMEM;
                return;
        }
        tp = &r->topics[r->n_topics];
        memset(tp, 0, sizeof(*tp));
        tp->id = dup_n(id.p, id.len);
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
        lex(ps);
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
                error_at(ps, ps->tok.loc,
                         "topic \"%s\" (line %u) is not closed with \"}\"",
                         tp->id, loc.line);
                return;
        }
        if (!seen[0])
                error_at(ps, loc, "topic \"%s\" has no label", tp->id);
        if (!seen[4])
                error_at(ps, loc, "topic \"%s\" has no match expression",
                         tp->id);
        if (!tp->label)
                tp->label = dup_n(tp->id, strlen(tp->id));
        if (!seen[3]) {
                /* By default one term adds at most two title mentions'
                 * worth (twice the largest weight). */
                int f;

                tp->cap = 0;
                for (f = 0; f < NT_FIELD_COUNT; f++)
                        if (2 * tp->weight[f] > tp->cap)
                                tp->cap = 2 * tp->weight[f];
        }
        lex(ps);
}

static void parse_entity(struct parser *ps)
{
        struct nt_rules *r = ps->r;
        struct nt_rules_entity *en;
        struct nt_rules_loc loc = ps->tok.loc;
        char text[64], *name;
        int type;
        uint32_t expr;

        lex(ps);
        if (ps->tok.kind != TK_STRING) {
                tok_text(&ps->tok, text, sizeof(text));
                error_at(ps, ps->tok.loc,
                         "entity needs a \"quoted\" name, found %s", text);
                sync_stmt(ps);
                return;
        }
        name = unquote(ps, &ps->tok);
        if (!name) {
                sync_stmt(ps);
                return;
        }
        lex(ps);
        type = word_is(&ps->tok, "person")  ? NT_ENTITY_PERSON
               : word_is(&ps->tok, "place") ? NT_ENTITY_PLACE
               : word_is(&ps->tok, "org")   ? NT_ENTITY_ORG
                                            : -1;
        if (ps->tok.kind != TK_WORD || type < 0) {
                tok_text(&ps->tok, text, sizeof(text));
                error_at(ps, ps->tok.loc,
                         "entity type must be person, place or org, found %s",
                         text);
                free(name);
                sync_stmt(ps);
                return;
        }
        lex(ps);
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
        if (grow(&r->entities, &r->cap_entities, r->n_entities + 1,
                 sizeof(*en))) {
                free(name);
                ps->fatal = NT_ERR_NOMEM;
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
                if (!is_name_char(t->p[i]))
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

        lex(ps);
        name = ps->tok;
        if (name.kind != TK_WORD || !valid_list_name(&name)) {
                tok_text(&name, text, sizeof(text));
                error_at(ps, name.loc,
                         "@define needs a list name (letters, digits, _), "
                         "found %s",
                         text);
                sync_stmt(ps);
                return;
        }
        for (i = 0; i < r->n_defines; i++) {
                if (strlen(r->defines[i].name) == name.len &&
                    memcmp(r->defines[i].name, name.p, name.len) == 0) {
                        char where[300];

                        nt_rules_loc_str(r, r->defines[i].loc, where,
                                         sizeof(where));
                        error_at(ps, name.loc,
                                 "list @%.*s is already defined at %s",
                                 (int)name.len, name.p, where);
                }
        }
        lex(ps);
        if (expect(ps, TK_EQ, "\"=\" after the list name")) {
                sync_stmt(ps);
                return;
        }
        if (grow(&r->defines, &r->cap_defines, r->n_defines + 1, sizeof(*d))) {
                ps->fatal = NT_ERR_NOMEM;
                return;
        }
        d = &r->defines[r->n_defines];
        d->name = dup_n(name.p, name.len);
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
                error_at(ps, ps->at, "the file contains a NUL byte: not text");
                return;
        }
        lex(ps);
        while (ps->tok.kind != TK_EOF && !ps->fatal &&
               ps->n_errors <= NT_RULES_MAX_ERRORS) {
                if (ps->tok.kind == TK_DEFINE) {
                        parse_define(ps);
                } else if (ps->tok.kind == TK_WORD &&
                           word_is(&ps->tok, "topic")) {
                        parse_topic(ps);
                } else if (ps->tok.kind == TK_WORD &&
                           word_is(&ps->tok, "entity")) {
                        parse_entity(ps);
                } else {
                        if (ps->tok.kind != TK_ERROR) {
                                tok_text(&ps->tok, msg, sizeof(msg));
                                error_at(ps, ps->tok.loc,
                                         "expected topic, entity or @define, "
                                         "found %s",
                                         msg);
                        }
                        lex(ps);
                        sync_top(ps);
                }
        }
}

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
                        error_at(ps, n->loc,
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
                error_at(ps, n->loc, "lists nest more than %d levels deep",
                         4 * NT_RULES_MAX_DEPTH);
                return -1;
        }
        if (n->op == NT_RULES_REF) {
                const struct nt_rules_define *d = &r->defines[n->ref];

                if (state[n->ref] == 1) {
                        error_at(ps, n->loc,
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

/* True when the expression has word positions: terms, alternatives of
 * them, NEAR groups and field scopes of them. AND and NOT have none. */
static int has_positions(const struct nt_rules *r, uint32_t node)
{
        const struct nt_rules_node *n = &r->nodes[node];
        uint32_t i;

        switch (n->op) {
        case NT_RULES_TERM:
        case NT_RULES_NEAR:
        case NT_RULES_ONEAR:
        case NT_RULES_EXCEPT:
                return 1;
        case NT_RULES_FIELD:
                return has_positions(r, r->kids[n->kid0]);
        case NT_RULES_REF:
                return has_positions(r, r->defines[n->ref].expr);
        case NT_RULES_OR:
                for (i = 0; i < n->n_kids; i++)
                        if (!has_positions(r, r->kids[n->kid0 + i]))
                                return 0;
                return 1;
        default:
                return 0;
        }
}

/* The expression's value on a text without any term: a topic's match
 * must be false there, or every article would need evaluating. */
static int true_on_empty(const struct nt_rules *r, uint32_t node)
{
        const struct nt_rules_node *n = &r->nodes[node];
        uint32_t i;

        switch (n->op) {
        case NT_RULES_TERM:
        case NT_RULES_NEAR:
        case NT_RULES_ONEAR:
        case NT_RULES_EXCEPT:
        case NT_RULES_SENT: /* its kid is checked on its own */
                return 0;
        case NT_RULES_NOT:
                return !true_on_empty(r, r->kids[n->kid0]);
        case NT_RULES_FIELD:
                return true_on_empty(r, r->kids[n->kid0]);
        case NT_RULES_REF:
                return true_on_empty(r, r->defines[n->ref].expr);
        case NT_RULES_AND:
                for (i = 0; i < n->n_kids; i++)
                        if (!true_on_empty(r, r->kids[n->kid0 + i]))
                                return 0;
                return 1;
        case NT_RULES_OR:
                for (i = 0; i < n->n_kids; i++)
                        if (true_on_empty(r, r->kids[n->kid0 + i]))
                                return 1;
                return 0;
        }
        return 0;
}

/* True when the expression holds a sentence: scope (through lists). */
static int has_sentence(const struct nt_rules *r, uint32_t node)
{
        const struct nt_rules_node *n = &r->nodes[node];
        uint32_t i;

        if (n->op == NT_RULES_SENT)
                return 1;
        if (n->op == NT_RULES_REF)
                return has_sentence(r, r->defines[n->ref].expr);
        for (i = 0; i < n->n_kids; i++)
                if (has_sentence(r, r->kids[n->kid0 + i]))
                        return 1;
        return 0;
}

/* Entities are alternatives of terms: counting "occurrences" of an AND or a
 * NOT would mean nothing. */
static int only_alternatives(const struct nt_rules *r, uint32_t node)
{
        const struct nt_rules_node *n = &r->nodes[node];
        uint32_t i;

        switch (n->op) {
        case NT_RULES_TERM:
                return 1;
        case NT_RULES_REF:
                return only_alternatives(r, r->defines[n->ref].expr);
        case NT_RULES_OR:
                for (i = 0; i < n->n_kids; i++)
                        if (!only_alternatives(r, r->kids[n->kid0 + i]))
                                return 0;
                return 1;
        default:
                return 0;
        }
}

static void check_set(struct parser *ps)
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
                        error_at(ps, n->loc,
                                 "EXCEPT works on word positions: its sides "
                                 "must be terms, phrases, alternatives (|), "
                                 "NEAR or EXCEPT groups, not AND or NOT");
                else
                        error_at(ps, n->loc,
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
                        error_at(ps, n->loc,
                                 "sentence: needs a term that occurs in the "
                                 "sentence: this group is true for a "
                                 "sentence without any of its terms (a NOT "
                                 "alone?)");
                else if (has_sentence(r, r->kids[n->kid0]))
                        error_at(ps, n->loc,
                                 "sentence: inside another sentence: scope "
                                 "means nothing more: remove one");
        }
        for (i = 0; i < r->n_topics; i++) {
                const struct nt_rules_topic *tp = &r->topics[i];

                if (tp->veto != NT_RULES_NONE && true_on_empty(r, tp->veto))
                        error_at(ps, r->nodes[tp->veto].loc,
                                 "the veto of topic \"%s\" is true for a "
                                 "sentence without any of its terms: it "
                                 "would veto every sentence",
                                 tp->id);
                else if (tp->veto != NT_RULES_NONE && has_sentence(r, tp->veto))
                        error_at(ps, r->nodes[tp->veto].loc,
                                 "the veto of topic \"%s\" is already "
                                 "judged sentence by sentence: drop its "
                                 "sentence: scope",
                                 tp->id);
                if (tp->match != NT_RULES_NONE && true_on_empty(r, tp->match))
                        error_at(ps, r->nodes[tp->match].loc,
                                 "the match expression of topic \"%s\" is "
                                 "true for a text without any of its terms "
                                 "(a NOT alone?): put the NOT in exclude",
                                 tp->id);
        }
        for (i = 0; i < r->n_entities; i++) {
                const struct nt_rules_entity *en = &r->entities[i];

                if (!only_alternatives(r, en->expr))
                        error_at(ps, r->nodes[en->expr].loc,
                                 "entity \"%s\" must be alternatives of words "
                                 "and phrases (a | b | \"c d\"): AND, NOT, "
                                 "NEAR and fields are for topics",
                                 en->name);
        }
}

void nt_rules_destroy(struct nt_rules *r)
{
        size_t i, k;

        if (!r)
                return;
        for (i = 0; i < r->n_src; i++)
                free(r->src_names[i]);
        free(r->src_names);
        for (i = 0; i < r->n_terms; i++) {
                for (k = 0; k < r->terms[i].n_words; k++)
                        if (r->terms[i].words)
                                free(r->terms[i].words[k]);
                free(r->terms[i].words);
                free(r->terms[i].prefix);
                free(r->terms[i].rule);
        }
        free(r->terms);
        free(r->nodes);
        free(r->kids);
        for (i = 0; i < r->n_defines; i++)
                free(r->defines[i].name);
        free(r->defines);
        for (i = 0; i < r->n_topics; i++) {
                free(r->topics[i].id);
                free(r->topics[i].label);
        }
        free(r->topics);
        for (i = 0; i < r->n_entities; i++)
                free(r->entities[i].name);
        free(r->entities);
        free(r);
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

        *out = NULL;
        if (n > NT_RULES_MAX_SOURCES)
                return nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                               "more than %d rules files",
                               NT_RULES_MAX_SOURCES);
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
                r->src_names[i] = dup_n(src[i].name, strlen(src[i].name));
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
                check_set(&ps);
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

/* Reads a whole file of at most `max` bytes into a malloc'd buffer. */
static int read_file(const char *path, size_t max, char **out, size_t *len,
                     char *errstr, size_t errstr_size)
{
        FILE *f = fopen(path, "rb");
        struct nt_buf b;
        char chunk[8192];
        size_t n;
        int err = 0;

        if (!f)
                return nt_errf(errstr, errstr_size,
                               errno == ENOENT ? NT_ERR_NOTFOUND : NT_ERR_IO,
                               "%s: %s", path, strerror(errno));
        nt_buf_init(&b, max);
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
                err = nt_buf_append(&b, chunk, n);
                if (err) {
                        nt_errf(errstr, errstr_size, err,
                                "%s: larger than %zu bytes", path, max);
                        goto out;
                }
        }
        if (ferror(f)) {
                err = nt_errf(errstr, errstr_size, NT_ERR_IO, "%s: read error",
                              path);
                goto out;
        }
        *len = b.len;
        *out = nt_buf_detach(&b);
        if (!*out)
                err = NT_ERR_NOMEM;
out:
        nt_buf_free(&b);
        fclose(f);
        return err;
}

int nt_rules_load_files(const char *const *paths, size_t n,
                        struct nt_rules **out, struct nt_buf *diag,
                        char *errstr, size_t errstr_size)
{
        struct nt_rules_source *src;
        size_t i;
        int err = 0;

        *out = NULL;
        if (n > NT_RULES_MAX_SOURCES)
                return nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                               "more than %d rules files",
                               NT_RULES_MAX_SOURCES);
        src = calloc(n + 1, sizeof(*src));
        if (!src)
                return NT_ERR_NOMEM;
        for (i = 0; i < n; i++) {
                char *text = NULL;

                src[i].name = paths[i];
                err = read_file(paths[i], NT_RULES_MAX_FILE_BYTES, &text,
                                &src[i].len, errstr, errstr_size);
                if (err) {
                        if (diag)
                                nt_buf_printf(diag, "%s\n",
                                              errstr ? errstr : "");
                        goto out;
                }
                src[i].text = text;
        }
        err = nt_rules_parse(src, n, out, diag, errstr, errstr_size);
out:
        for (i = 0; i < n; i++)
                free((char *)src[i].text);
        free(src);
        return err;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push_path(char ***paths, size_t *n, size_t *cap, const char *dir,
                     const char *name)
{
        struct nt_buf b;
        char *s;

        if (grow(paths, cap, *n + 1, sizeof(**paths)))
                return NT_ERR_NOMEM;
        nt_buf_init(&b, 4096);
        if (dir)
                nt_buf_printf(&b, "%s/%s", dir, name);
        else
                nt_buf_append_str(&b, name);
        s = nt_buf_detach(&b);
        if (!s)
                return NT_ERR_NOMEM;
        (*paths)[(*n)++] = s;
        return 0;
}

int nt_rules_expand_paths(const char *const *in, size_t n, char ***paths,
                          size_t *n_paths, char *errstr, size_t errstr_size)
{
        size_t i, cap = *n_paths, first;
        struct stat st;
        int err = 0;

        for (i = 0; i < n && !err; i++) {
                DIR *d;
                struct dirent *de;

                if (stat(in[i], &st) != 0)
                        return nt_errf(errstr, errstr_size,
                                       errno == ENOENT ? NT_ERR_NOTFOUND
                                                       : NT_ERR_IO,
                                       "%s: %s", in[i], strerror(errno));
                if (!S_ISDIR(st.st_mode)) {
                        err = push_path(paths, n_paths, &cap, NULL, in[i]);
                        continue;
                }
                d = opendir(in[i]);
                if (!d)
                        return nt_errf(errstr, errstr_size, NT_ERR_IO, "%s: %s",
                                       in[i], strerror(errno));
                first = *n_paths;
                while (!err && (de = readdir(d)) != NULL) {
                        size_t len = strlen(de->d_name);

                        if (de->d_name[0] == '.' || len < 7 ||
                            strcmp(de->d_name + len - 6, ".rules") != 0)
                                continue;
                        err =
                            push_path(paths, n_paths, &cap, in[i], de->d_name);
                }
                closedir(d);
                if (!err && *n_paths == first)
                        return nt_errf(errstr, errstr_size, NT_ERR_NOTFOUND,
                                       "%s: no .rules files in this directory",
                                       in[i]);
                qsort(*paths + first, *n_paths - first, sizeof(**paths),
                      cmp_str);
        }
        if (err == NT_ERR_NOMEM)
                nt_errf(errstr, errstr_size, err, "out of memory");
        return err;
}
