/* The rules compiler's insides, shared by its three parts: the lexer
 * (consumer/rules_lex.c) turns a source into tokens, the grammar
 * (consumer/rules.c) builds the tree from them, and the checks on the
 * whole set (consumer/rules_check.c) resolve references and refuse what
 * cannot be matched. Internal: the public face is consumer/rules.h. The
 * lexer also owns the diagnostics (nt_rl_error). */
#ifndef NT_RULES_PARSER_H
#define NT_RULES_PARSER_H

#include "common/buf.h"
#include "consumer/rules_model.h"

#include <stdint.h>

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

/* Reports an error at loc and counts it; the first one also goes to the
 * parser's errstr. The message should quote the offending text. */
void nt_rl_error(struct parser *ps, struct nt_rules_loc loc, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));

/* The token's text for a message: at most 40 bytes, cut on a character
 * boundary, with "..." when cut. */
void nt_rl_tok_text(const struct token *t, char *buf, size_t size);

/* Reads the next token into ps->tok, skipping blanks and comments. */
void nt_rl_lex(struct parser *ps);

/* Whether the token is exactly the word s (case matters). */
int nt_rl_word_is(const struct token *t, const char *s);

int nt_rl_is_space(char c);
int nt_rl_is_name_char(char c);

/* Resolves @references and checks the set as a whole (cycles, topics that
 * cannot match, vetoes without sentences...), once every source parsed. */
void nt_rl_check_set(struct parser *ps);

/* The start of loading or parsing n sources: *out = NULL, and
 * NT_ERR_LIMIT past NT_RULES_MAX_SOURCES. */
int nt_rl_begin(struct nt_rules **out, size_t n, char *errstr,
                size_t errstr_size);

#endif
