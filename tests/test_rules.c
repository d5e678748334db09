/* The rules language: lexer and parser on good and bad input, error
 * positions and messages, whole-set checks, the rules version. */
#include "common/buf.h"
#include "common/err.h"
#include "consumer/rules.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_one(const char *text, struct nt_rules **out,
                     struct nt_buf *diag, char *errstr, size_t size)
{
        struct nt_rules_source src = {"test.rules", text, strlen(text)};

        return nt_rules_parse(&src, 1, out, diag, errstr, size);
}

static const char full_example[] =
    "# every construct once\n"
    "@define PLANT = \"nuclear power plant\" | npp | \"Запорізьк* АЕС\"\n"
    "              | ЗАЭС;\n"
    "@define ZAP = zaporizh* | запоріж* | запорож*;\n"
    "topic zaporizhzhia {\n"
    "  label \"Zaporizhzhia \\\"ZNPP\\\"\";\n"
    "  threshold 2.5;\n"
    "  weights title 4, lead 2, body 0.5;\n"
    "  cap 3;\n"
    "  match @ZAP NEAR/8 @PLANT | znpp | title:(iaea AND grossi)\n"
    "      | (energodar ONEAR/3 plant) | lead:заес\n"
    "      | (territory EXCEPT \"uncharted territory\");\n"
    "  require NOT body:\"thermal power plant\";\n"
    "  exclude drill & ! iaea;\n"
    "}\n"
    "entity \"Volodymyr Zelenskyy\" person = zelenskyy | Zelensky's |\n"
    "    зеленськ*;\n"
    "entity \"IAEA\" org = @IAEA_NAMES;\n"
    "@define IAEA_NAMES = iaea | магате;\n";

Test(rules, full_example_parses)
{
        struct nt_rules *r = NULL;
        const struct nt_rules_topic *tp;
        const struct nt_rules_term *t;
        char errstr[256] = "";
        size_t i;
        int found_phrase = 0, found_upper = 0;

        cr_assert_eq(parse_one(full_example, &r, NULL, errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
        cr_assert_eq(r->n_topics, 1);
        cr_assert_eq(r->n_entities, 2);
        cr_assert_eq(r->n_defines, 3);
        tp = &r->topics[0];
        cr_assert_str_eq(tp->id, "zaporizhzhia");
        cr_assert_str_eq(tp->label, "Zaporizhzhia \"ZNPP\"");
        cr_assert_float_eq(tp->threshold, 2.5, 1e-9);
        cr_assert_float_eq(tp->weight[NT_FIELD_TITLE], 4, 1e-9);
        cr_assert_float_eq(tp->weight[NT_FIELD_BODY], 0.5, 1e-9);
        cr_assert_float_eq(tp->cap, 3, 1e-9);
        cr_assert_neq(tp->require, NT_RULES_NONE);
        cr_assert_neq(tp->exclude, NT_RULES_NONE);
        for (i = 0; i < r->n_terms; i++) {
                t = &r->terms[i];
                if (!strcmp(t->rule, "@PLANT:\"Запорізьк* АЕС\"")) {
                        found_phrase = 1;
                        cr_assert_eq(t->n_words, 2);
                        cr_assert_str_eq(t->words[0], "запорізьк");
                        cr_assert(t->prefix[0]);
                        cr_assert_str_eq(t->words[1], "аес");
                        cr_assert(!t->prefix[1]);
                        cr_assert_eq(t->loc.line, 2);
                        cr_assert_eq(t->loc.col, 47);
                }
                if (!strcmp(t->rule, "@PLANT:ЗАЭС")) {
                        found_upper = 1;
                        cr_assert_str_eq(t->words[0], "заэс");
                }
                if (!strcmp(t->rule, "Zelensky's"))
                        cr_assert_str_eq(t->words[0], "zelensky",
                                         "possessive folded like text");
        }
        cr_assert(found_phrase, "the Cyrillic prefix phrase is a term");
        cr_assert(found_upper, "the upper-case term is normalised");
        cr_assert_eq(strlen(r->version), 16);
        nt_rules_destroy(r);
}

Test(rules, operator_precedence_and_or_not_near)
{
        /* NOT binds tightest, then NEAR, then AND, then OR. */
        struct nt_rules *r = NULL;
        const struct nt_rules_node *top, *and_node;
        char errstr[256] = "";

        cr_assert_eq(parse_one("topic t { label \"T\"; match a | NOT b AND c "
                               "NEAR/2 d; }",
                               &r, NULL, errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
        top = &r->nodes[r->topics[0].match];
        cr_assert_eq(top->op, NT_RULES_OR);
        cr_assert_eq(top->n_kids, 2);
        and_node = &r->nodes[r->kids[top->kid0 + 1]];
        cr_assert_eq(and_node->op, NT_RULES_AND);
        cr_assert_eq(r->nodes[r->kids[and_node->kid0]].op, NT_RULES_NOT);
        cr_assert_eq(r->nodes[r->kids[and_node->kid0 + 1]].op, NT_RULES_NEAR);
        cr_assert_eq(r->nodes[r->kids[and_node->kid0 + 1]].dist, 2);
        nt_rules_destroy(r);
}

struct bad_case {
        char name[32];
        char src[200];
        char at[24]; /* the offending text; the error points at it */
        int nth;     /* which occurrence of `at` (1 = first) */
        char msg[72];
};

ParameterizedTestParameters(rules, bad_input)
{
        static struct bad_case cases[] = {
            {"missing semicolon", "topic a {\n  label \"A\";\n  match foo\n}\n",
             "}", 1, "expected \";\" after the match expression"},
            {"unknown list", "topic a { label \"A\"; match @NOPE; }", "@NOPE",
             1, "unknown list \"@NOPE\""},
            {"unclosed paren",
             "topic a {\n label \"A\";\n match (foo | bar;\n}", ";", 2,
             "expected \")\" to close"},
            {"near without distance",
             "topic a { label \"A\"; match a NEAR b; }", "NEAR", 1,
             "NEAR needs a distance"},
            {"near zero", "topic a { label \"A\"; match a NEAR/0 b; }",
             "NEAR/0", 1, "bad distance"},
            {"near too far", "topic a { label \"A\"; match a ONEAR/5000 b; }",
             "ONEAR/5000", 1, "bad distance"},
            {"short prefix", "topic a { label \"A\"; match ab*; }", "ab*", 1,
             "is too short"},
            {"star inside word", "topic a { label \"A\"; match zap*rizh; }",
             "zap*rizh", 1, "marks a prefix"},
            {"star inside phrase", "topic a { label \"A\"; match \"a*b c\"; }",
             "\"a*b", 1, "marks a prefix"},
            {"lower-case or", "topic a { label \"A\"; match foo or bar; }",
             "or", 1, "lower-case \"or\""},
            {"lower-case near", "topic a { label \"A\"; match x near/3 y; }",
             "near/3", 1, "lower-case"},
            {"unknown field", "topic a { label \"A\"; match headline:foo; }",
             "headline:", 1, "unknown field \"headline:\""},
            {"duplicate topic",
             "topic a { label \"A\"; match x; }\ntopic a { label \"B\"; "
             "match y; }",
             "a", 4, "already defined at test.rules:1:1"},
            {"missing label", "topic a { match foo; }", "topic", 1,
             "has no label"},
            {"missing match", "topic a { label \"A\"; }", "topic", 1,
             "has no match expression"},
            {"match true on empty", "topic a { label \"A\"; match NOT foo; }",
             "NOT", 1, "true for a text without any of its terms"},
            {"near over and",
             "topic a { label \"A\"; match (a AND b) NEAR/3 c; }", "NEAR/3", 1,
             "NEAR/3 joins words by position"},
            {"except over not",
             "topic a { label \"A\"; match a EXCEPT NOT b; }", "EXCEPT", 1,
             "EXCEPT works on word positions"},
            {"entity with and", "entity \"X\" person = alpha AND beta;",
             "alpha", 1, "must be alternatives"},
            {"entity bad type", "entity \"X\" city = alpha;", "city", 1,
             "entity type must be person, place or org"},
            {"list cycle",
             "@define A = @B | x;\n@define B = @A;\ntopic t { label \"T\"; "
             "match @A; }",
             "@A", 1, "list @A refers to itself"},
            {"duplicate list", "@define A = x;\n@define A = y;", "A", 2,
             "list @A is already defined"},
            {"unterminated string", "topic a { label \"A; }", "\"A", 1,
             "unterminated string"},
            {"bad threshold",
             "topic a { label \"A\"; threshold lots; match x; }", "lots", 1,
             "threshold must be a number"},
            {"zero threshold", "topic a { label \"A\"; threshold 0; match x; }",
             "threshold", 1, "threshold must be above 0"},
            {"bad weights",
             "topic a { label \"A\"; weights headline 3; match x; }",
             "headline", 1, "weights are"},
            {"unknown statement", "frobnicate;", "frobnicate", 1,
             "expected topic, entity or @define"},
            {"unknown topic statement",
             "topic a { label \"A\"; colour red; match x; }", "colour", 1,
             "expected label, threshold"},
            {"second match", "topic a { label \"A\"; match x; match y; }",
             "match", 2, "second \"match\""},
            {"two terms in a row", "topic a { label \"A\"; match foo bar; }",
             "bar", 1, "two terms in a row"},
            {"bad topic id", "topic Big { label \"A\"; match x; }", "Big", 1,
             "topic id \"Big\""},
            {"bad escape", "topic a { label \"a\\qb\"; match x; }", "\"a\\qb\"",
             1, "unknown escape"},
            {"term without letters", "topic a { label \"A\"; match \"--\"; }",
             "\"--\"", 1, "has no letters or digits"},
            {"unbalanced close", "topic a { label \"A\"; match a); }", ")", 1,
             "unbalanced \")\""},
            {"empty operand", "topic a { label \"A\"; match a | ; }", ";", 2,
             "expected a word"},
            {"sentence window zero",
             "topic a { label \"A\"; match sentence/0:(a); }", "sentence/0:", 1,
             "bad window in \"sentence/0:\""},
            {"sentence window too wide",
             "topic a { label \"A\"; match sentence/4:(a); }", "sentence/4:", 1,
             "n from 1 to 3"},
            {"sentence misspelt",
             "topic a { label \"A\"; match sentense:(a); }", "sentense:", 1,
             "unknown field \"sentense:\""},
            {"sentence of not alone",
             "topic a { label \"A\";\n  match x | sentence:(NOT b); }",
             "sentence:", 1, "sentence: needs a term that occurs"},
            {"sentence in sentence",
             "topic a { label \"A\"; match sentence:(a AND sentence:(b)); }",
             "sentence:", 1, "inside another sentence: scope"},
            {"sentence as near side",
             "topic a { label \"A\"; match sentence:(a) NEAR/2 b; }", "NEAR/2",
             1, "not AND, NOT or sentence:"},
            {"sentence without operand",
             "topic a { label \"A\"; match sentence: ; }", ";", 2,
             "expected a word"},
            {"veto true on empty",
             "topic a { label \"A\"; match x;\n  veto NOT y; }", "NOT", 1,
             "veto of topic \"a\" is true for a sentence without"},
            {"veto with sentence",
             "topic a { label \"A\"; match x; veto sentence:(y); }",
             "sentence:", 1, "already judged sentence by sentence"},
            {"second veto", "topic a { label \"A\"; match x; veto y; veto z; }",
             "veto", 2, "second \"veto\""},
        };
        return cr_make_param_array(struct bad_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

/* Line and column (in characters) of the nth occurrence of `at`. */
static void locate(const char *src, const char *at, int nth, unsigned *line,
                   unsigned *col)
{
        const char *p = src, *hit = NULL;
        int k;

        for (k = 0; k < nth; k++) {
                hit = strstr(p, at);
                cr_assert_not_null(hit, "test data: \"%s\" #%d not in source",
                                   at, k + 1);
                p = hit + 1;
        }
        *line = 1;
        *col = 1;
        for (p = src; p < hit; p++) {
                if (*p == '\n') {
                        (*line)++;
                        *col = 1;
                } else if (((unsigned char)*p & 0xC0) != 0x80) {
                        (*col)++;
                }
        }
}

ParameterizedTest(struct bad_case *c, rules, bad_input)
{
        struct nt_rules *r = (struct nt_rules *)1;
        struct nt_buf diag;
        char errstr[512] = "", want[64];
        unsigned line, col;
        int err;

        nt_buf_init(&diag, 1 << 16);
        err = parse_one(c->src, &r, &diag, errstr, sizeof(errstr));
        cr_assert_eq(err, NT_ERR_PARSE, "%s: error %d (%s)", c->name, err,
                     errstr);
        cr_assert_null(r, "%s: no rule set on error", c->name);
        locate(c->src, c->at, c->nth, &line, &col);
        snprintf(want, sizeof(want), "test.rules:%u:%u: ", line, col);
        cr_assert_eq(strncmp(errstr, want, strlen(want)), 0,
                     "%s: \"%s\" does not start with \"%s\"", c->name, errstr,
                     want);
        cr_assert_not_null(strstr(errstr, c->msg), "%s: \"%s\" lacks \"%s\"",
                           c->name, errstr, c->msg);
        cr_assert_not_null(strstr(nt_buf_str(&diag), errstr),
                           "%s: the diagnostics hold the first error", c->name);
        nt_buf_free(&diag);
}

Test(rules, sentence_scope_and_veto_parse)
{
        struct nt_rules *r = NULL;
        char errstr[512] = "";
        const struct nt_rules_node *n;

        cr_assert_eq(parse_one("topic a { label \"A\";\n"
                               "  match sentence:(x AND NOT y)\n"
                               "      | title:sentence/2:(p NEAR/3 q);\n"
                               "  veto z | \"w v\"; }",
                               &r, NULL, errstr, sizeof(errstr)),
                     0, "%s", errstr);
        cr_assert_neq(r->topics[0].veto, NT_RULES_NONE, "veto kept");
        n = &r->nodes[r->topics[0].match];
        cr_assert_eq(n->op, NT_RULES_OR);
        n = &r->nodes[r->kids[n->kid0]];
        cr_assert_eq(n->op, NT_RULES_SENT, "sentence: is a node");
        cr_assert_eq(n->dist, 1, "sentence: is one sentence");
        cr_assert_eq(r->nodes[r->kids[n->kid0]].op, NT_RULES_AND);
        n = &r->nodes[r->kids[r->nodes[r->topics[0].match].kid0 + 1]];
        cr_assert_eq(n->op, NT_RULES_FIELD, "the field scope is outside");
        n = &r->nodes[r->kids[n->kid0]];
        cr_assert_eq(n->op, NT_RULES_SENT);
        cr_assert_eq(n->dist, 2, "sentence/2: is two sentences");
        nt_rules_destroy(r);
}

Test(rules, every_error_is_reported)
{
        const char *src = "topic a {\n"
                          "  label \"A\";\n"
                          "  match foo bar;\n"
                          "  threshold none;\n"
                          "}\n"
                          "topic b { label \"B\"; match x NEAR/0 y; }\n";
        struct nt_rules *r = NULL;
        struct nt_buf diag;
        char errstr[256];
        const char *d;

        nt_buf_init(&diag, 1 << 16);
        cr_assert_eq(parse_one(src, &r, &diag, errstr, sizeof(errstr)),
                     NT_ERR_PARSE);
        d = nt_buf_str(&diag);
        cr_assert_not_null(strstr(d, "test.rules:3:13: two terms in a row"),
                           "%s", d);
        cr_assert_not_null(strstr(d, "test.rules:4:13: threshold must be"),
                           "%s", d);
        cr_assert_not_null(strstr(d, "test.rules:6:30: bad distance"), "%s", d);
        nt_buf_free(&diag);
}

Test(rules, version_follows_every_byte_and_the_order)
{
        struct nt_rules_source a[2] = {
            {"a.rules", "@define X = x;", 14},
            {"b.rules", "topic t { label \"T\"; match @X; }", 32},
        };
        struct nt_rules_source b[2] = {a[0], a[1]};
        struct nt_rules *r1, *r2, *r3;
        char e[256];

        cr_assert_eq(nt_rules_parse(a, 2, &r1, NULL, e, sizeof(e)), 0, "%s", e);
        cr_assert_eq(nt_rules_parse(a, 2, &r2, NULL, e, sizeof(e)), 0, "%s", e);
        cr_assert_str_eq(r1->version, r2->version, "same sources, same hash");
        b[1].text = "topic t { label \"T\"; match @X; } ";
        b[1].len = 33;
        nt_rules_destroy(r2);
        cr_assert_eq(nt_rules_parse(b, 2, &r2, NULL, e, sizeof(e)), 0, "%s", e);
        cr_assert_str_neq(r1->version, r2->version, "one more byte");
        b[0] = a[1];
        b[1] = a[0];
        cr_assert_eq(nt_rules_parse(b, 2, &r3, NULL, e, sizeof(e)), 0, "%s", e);
        cr_assert_str_neq(r1->version, r3->version, "other order");
        nt_rules_destroy(r1);
        nt_rules_destroy(r2);
        nt_rules_destroy(r3);
}

Test(rules, files_and_directories)
{
        char dir[512], broken[512], errstr[512];
        const char *in[1];
        char **paths = NULL;
        size_t n = 0;
        struct nt_rules *r = NULL;
        struct nt_buf diag;

        in[0] = nt_test_fixture("rules/valid", dir, sizeof(dir));
        cr_assert_eq(
            nt_rules_expand_paths(in, 1, &paths, &n, errstr, sizeof(errstr)), 0,
            "%s", errstr);
        cr_assert_eq(n, 2);
        cr_assert_not_null(strstr(paths[0], "10_lists.rules"), "name order");
        cr_assert_eq(nt_rules_load_files((const char *const *)paths, n, &r,
                                         NULL, errstr, sizeof(errstr)),
                     0, "a list from another file resolves: %s", errstr);
        cr_assert_eq(r->n_topics, 1);
        nt_rules_destroy(r);
        nt_rules_free_paths(paths, n);

        in[0] = nt_test_fixture("rules/broken.rules", broken, sizeof(broken));
        nt_buf_init(&diag, 1 << 16);
        cr_assert_eq(
            nt_rules_load_files(in, 1, &r, &diag, errstr, sizeof(errstr)),
            NT_ERR_PARSE);
        cr_assert_null(r);
        cr_assert_not_null(strstr(errstr, "broken.rules:5:26: unknown list "
                                          "\"@PLANTS\""),
                           "%s", errstr);
        nt_buf_free(&diag);

        in[0] = "/nonexistent/x.rules";
        cr_assert_eq(
            nt_rules_load_files(in, 1, &r, NULL, errstr, sizeof(errstr)),
            NT_ERR_NOTFOUND);
        cr_assert_not_null(strstr(errstr, "/nonexistent/x.rules"), "%s",
                           errstr);
}

Test(rules, empty_set_is_valid)
{
        struct nt_rules *r = NULL;
        char errstr[64];

        cr_assert_eq(parse_one("# nothing but a comment\n", &r, NULL, errstr,
                               sizeof(errstr)),
                     0);
        cr_assert_eq(r->n_topics, 0);
        nt_rules_destroy(r);
}

/* A field or sentence prefix is a level as "(" is: a chain of 100,000
 * ("title:title:...foo") is the depth error, not a stack overflow. */
Test(rules, prefix_chains_stop_at_the_depth_limit)
{
        static const char *const prefixes[] = {"title:", "sentence/2:"};
        size_t k, i;

        for (k = 0; k < 2; k++) {
                struct nt_rules *r = NULL;
                struct nt_buf src, diag;
                char errstr[512] = "";

                nt_buf_init(&src, 1 << 20);
                nt_buf_init(&diag, 1 << 16);
                nt_buf_append_str(&src, "topic a { label \"A\"; match ");
                for (i = 0; i < 100000; i++)
                        nt_buf_append_str(&src, prefixes[k]);
                nt_buf_append_str(&src, "foo; }\n");
                cr_assert_eq(parse_one(nt_buf_str(&src), &r, &diag, errstr,
                                       sizeof(errstr)),
                             NT_ERR_PARSE, "%s", prefixes[k]);
                cr_assert_not_null(
                    strstr(errstr, "expression nests deeper than 64 levels"),
                    "%s: %s", prefixes[k], errstr);
                nt_buf_free(&diag);
                nt_buf_free(&src);
        }
}

/* Parentheses and NOT nest NT_RULES_MAX_DEPTH (64) levels deep, not one
 * more: the 65th is an error at the token that opens it. */
Test(rules, nesting_stops_past_the_depth_limit)
{
        static const char *const openers[] = {"(", "NOT "};
        size_t k, depth, i;

        for (k = 0; k < 2; k++) {
                for (depth = 64; depth <= 65; depth++) {
                        struct nt_rules *r = NULL;
                        struct nt_buf src, diag;
                        char errstr[512] = "";
                        int err;

                        nt_buf_init(&src, 1 << 16);
                        nt_buf_init(&diag, 1 << 16);
                        nt_buf_append_str(&src,
                                          "topic a { label \"A\"; match ");
                        for (i = 0; i < depth; i++)
                                nt_buf_append_str(&src, openers[k]);
                        nt_buf_append_str(&src, "foo");
                        for (i = 0; k == 0 && i < depth; i++)
                                nt_buf_append_str(&src, ")");
                        nt_buf_append_str(&src, "; }\n");
                        err = parse_one(nt_buf_str(&src), &r, &diag, errstr,
                                        sizeof(errstr));
                        if (depth == 64) {
                                cr_assert_eq(err, NT_OK, "%s x%zu: %s",
                                             openers[k], depth, errstr);
                                nt_rules_destroy(r);
                        } else {
                                cr_assert_eq(err, NT_ERR_PARSE, "%s x%zu",
                                             openers[k], depth);
                                cr_assert_not_null(
                                    strstr(errstr, "expression nests deeper "
                                                   "than 64 levels"),
                                    "%s x%zu: %s", openers[k], depth, errstr);
                        }
                        nt_buf_free(&diag);
                        nt_buf_free(&src);
                }
        }
}
