/* The rules language's lexer: words, strings, @references, operators
 * (OR AND NOT NEAR/n ONEAR/n EXCEPT), field and sentence scopes, with the
 * line and column of each token; and the diagnostics that the grammar
 * and the checks report at those locations. */
#include "consumer/rules_parser.h"

#include "common/err.h"
#include "common/num.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Reports an error at loc (see consumer/rules_parser.h). */
void nt_rl_error(struct parser *ps, struct nt_rules_loc loc, const char *fmt,
                 ...)
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
void nt_rl_tok_text(const struct token *t, char *buf, size_t size)
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

/* The tokens of one character. */
static const struct {
        char c;
        enum tk kind;
} punctuation[] = {
    {'(', TK_LPAREN}, {')', TK_RPAREN}, {'{', TK_LBRACE}, {'}', TK_RBRACE},
    {';', TK_SEMI},   {',', TK_COMMA},  {'=', TK_EQ},     {'|', TK_OR},
    {'&', TK_AND},    {'!', TK_NOT},
};

/* Words that are operators, written in capitals. */
static const struct {
        const char *word;
        enum tk kind;
} operators[] = {
    {"AND", TK_AND},
    {"OR", TK_OR},
    {"NOT", TK_NOT},
    {"EXCEPT", TK_EXCEPT},
};

/* The field scopes, "title:" and so on. */
static const struct {
        const char *name;
        enum nt_field field;
} fields[] = {
    {"title", NT_FIELD_TITLE},
    {"lead", NT_FIELD_LEAD},
    {"body", NT_FIELD_BODY},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

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

int nt_rl_is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
               c == '\v';
}

/* Characters that end a bare word. */
static int is_delim(char c)
{
        return nt_rl_is_space(c) || strchr("()|&!\";:,{}=@#", c) != NULL;
}

int nt_rl_is_name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '_';
}

int nt_rl_word_is(const struct token *t, const char *s)
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
                nt_rl_error(ps, t->loc,
                            "%.*s needs a distance in words, as in %.*s/5",
                            (int)kwlen, t->p, (int)kwlen, t->p);
                t->kind = TK_ERROR;
                return;
        }
        memcpy(num, t->p + kwlen + 1, n);
        num[n] = '\0';
        if (nt_num_parse_i64(num, 1, NT_RULES_MAX_NEAR, &v) != 0) {
                nt_rl_error(
                    ps, t->loc,
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
                nt_rl_error(ps, t->loc,
                            "bad window in \"%.*s\": sentence/n: takes n "
                            "adjacent sentences, n from 1 to %d",
                            (int)t->len, t->p, NT_RULES_MAX_SENT_WINDOW);
                t->kind = TK_ERROR;
                return;
        }
        t->num = (uint32_t)v;
}

void nt_rl_lex(struct parser *ps)
{
        struct token *t = &ps->tok;
        size_t i;

        for (;;) {
                while (ps->p < ps->end && nt_rl_is_space(*ps->p))
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
        for (i = 0; i < COUNT(punctuation); i++) {
                if (*ps->p == punctuation[i].c) {
                        t->kind = punctuation[i].kind;
                        t->len = 1;
                        advance(ps, 1);
                        return;
                }
        }
        switch (*ps->p) {
        case '"': {
                const char *q = ps->p + 1;

                while (q < ps->end && *q != '"' && *q != '\n') {
                        if (*q == '\\' && q + 1 < ps->end && q[1] != '\n')
                                q++;
                        q++;
                }
                if (q >= ps->end || *q != '"') {
                        t->len = (size_t)(q - ps->p);
                        nt_rl_error(ps, t->loc,
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

                while (q < ps->end && nt_rl_is_name_char(*q))
                        q++;
                t->len = (size_t)(q - ps->p);
                advance(ps, t->len);
                if (t->len == 1) {
                        nt_rl_error(ps, t->loc,
                                    "\"@\" must be followed by a list name, as "
                                    "in @PLANT");
                        t->kind = TK_ERROR;
                } else {
                        t->kind =
                            nt_rl_word_is(t, "@define") ? TK_DEFINE : TK_REF;
                }
                return;
        }
        case ':':
                t->len = 1;
                advance(ps, 1);
                nt_rl_error(ps, t->loc,
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
                    (nt_rl_word_is(t, "sentence") ||
                     (t->len > 9 && memcmp(t->p, "sentence/", 9) == 0))) {
                        lex_sentence(ps, t);
                        return;
                }
                if (q < ps->end && *q == ':') {
                        for (i = 0; i < COUNT(fields); i++)
                                if (nt_rl_word_is(t, fields[i].name))
                                        t->num = 1u << fields[i].field;
                        t->len++;
                        advance(ps, t->len);
                        if (!t->num) {
                                nt_rl_error(
                                    ps, t->loc,
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
                for (i = 0; i < COUNT(operators); i++)
                        if (nt_rl_word_is(t, operators[i].word))
                                t->kind = operators[i].kind;
                if (t->kind != TK_WORD)
                        return;
                if (t->len >= 4 && memcmp(t->p, "NEAR", 4) == 0) {
                        t->kind = TK_NEAR;
                        lex_near(ps, t, 4);
                } else if (t->len >= 5 && memcmp(t->p, "ONEAR", 5) == 0) {
                        t->kind = TK_ONEAR;
                        lex_near(ps, t, 5);
                }
                return;
        }
        }
}
