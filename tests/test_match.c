/* The matcher: every operator, field scoping, lists, weights, caps,
 * thresholds, require and exclude; evidence offsets; entity counts. */
#include "common/err.h"
#include "consumer/match.h"
#include "consumer/rules.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <string.h>

/* A compiled set from text, with one scratch. */
struct fixture {
        nt_match_t *m;
        nt_match_scratch_t *s;
};

static void compile(struct fixture *f, const char *text)
{
        struct nt_rules_source src = {"t.rules", text, strlen(text)};
        struct nt_rules *r = NULL;
        char errstr[512] = "";

        cr_assert_eq(nt_rules_parse(&src, 1, &r, NULL, errstr, sizeof(errstr)),
                     0, "rules do not parse: %s\n%s", errstr, text);
        cr_assert_eq(nt_match_compile(r, &f->m, errstr, sizeof(errstr)), 0,
                     "%s", errstr);
        f->s = nt_match_scratch_new(f->m);
        cr_assert_not_null(f->s);
}

static void release(struct fixture *f)
{
        nt_match_scratch_destroy(f->s);
        nt_match_destroy(f->m);
}

static struct nt_text_fields fields(const char *title, const char *lead,
                                    const char *body)
{
        struct nt_text_fields in = {
            {title, lead, body}, {strlen(title), strlen(lead), strlen(body)}};
        return in;
}

/* The result for topic `id`, or NULL when none of its terms occurred. */
static const struct nt_match_topic *
topic_result(const struct fixture *f, const struct nt_match_result *res,
             const char *id)
{
        const struct nt_rules *r = nt_match_rules(f->m);
        size_t i;

        for (i = 0; i < res->n_topics; i++)
                if (!strcmp(r->topics[res->topics[i].topic].id, id))
                        return &res->topics[i];
        return NULL;
}

/* Compiles `rules` into f and runs them over in into res; the run must
 * succeed. */
static void compile_and_run(struct fixture *f, const char *rules,
                            const struct nt_text_fields *in,
                            struct nt_match_result *res)
{
        compile(f, rules);
        cr_assert_eq(nt_match_run(f->m, f->s, in, res), 0);
}

struct op_case {
        char name[40];
        char defs[80];  /* lines before the topic */
        char extra[64]; /* statements in the topic besides label and match */
        char expr[96];
        char title[64];
        char lead[64];
        char body[96];
        int labelled;
        double score; /* < 0: not checked */
};

ParameterizedTestParameters(match, operators)
{
        static struct op_case cases[] = {
            {"and both", "", "", "alpha AND beta", "", "", "alpha and beta", 1,
             2},
            {"and one", "", "", "alpha AND beta", "", "", "alpha only", 0, -1},
            {"and symbol", "", "", "alpha & beta", "", "", "beta alpha", 1, 2},
            {"or one", "", "", "alpha | beta", "", "", "beta here", 1, 1},
            {"or keyword", "", "", "alpha OR beta", "", "", "alpha", 1, 1},
            {"or sums terms", "", "", "alpha | beta", "", "", "alpha beta", 1,
             2},
            {"not absent", "", "", "alpha AND NOT beta", "", "", "alpha", 1, 1},
            {"not present", "", "", "alpha AND NOT beta", "", "",
             "alpha and beta", 0, -1},
            {"not symbol", "", "", "alpha & !beta", "", "", "alpha beta", 0,
             -1},
            {"phrase", "", "", "\"nuclear power plant\"", "", "",
             "the Nuclear Power Plant", 1, 1},
            {"phrase order", "", "", "\"nuclear power plant\"", "", "",
             "nuclear plant power", 0, -1},
            {"phrase across fields", "", "", "\"nuclear power plant\"",
             "nuclear power", "", "plant", 0, -1},
            {"phrase across punctuation", "", "", "\"power plant\"", "", "",
             "more power. Plant", 1, 1},
            {"bare word with hyphen is a phrase", "", "", "mar-a-lago", "", "",
             "at Mar a Lago", 1, 1},
            {"prefix", "", "", "zaporizh*", "", "", "Zaporizhzhia's plant", 1,
             1},
            {"prefix other spelling", "", "", "zaporizh*", "", "", "Zaporozhye",
             0, -1},
            {"prefix cyrillic", "", "", "запоріж*", "", "", "у Запоріжжі", 1,
             1},
            {"prefix is not a stem", "", "", "запоріж*", "", "",
             "Запорізька АЕС", 0, -1},
            {"prefix in a phrase", "", "", "\"запорізьк* аес\"", "", "",
             "Запорізької АЕС", 1, 1},
            {"exact is not prefix", "", "", "plant", "", "", "plants", 0, -1},
            {"word boundary", "", "", "npp", "", "", "snpp nppx", 0, -1},
            {"near within", "", "", "zap NEAR/2 plant", "", "", "zap big plant",
             1, 2},
            {"near too far", "", "", "zap NEAR/2 plant", "", "",
             "zap a big plant", 0, -1},
            {"near any order", "", "", "zap NEAR/2 plant", "", "",
             "plant of zap", 1, 2},
            {"near not across fields", "", "", "zap NEAR/5 plant", "zap", "",
             "plant", 0, -1},
            {"near same word twice", "", "", "zap NEAR/3 zap", "", "",
             "one zap only", 0, -1},
            {"near of alternatives", "", "", "(zap | zip) NEAR/1 (npp | plant)",
             "", "", "zip plant", 1, 2},
            {"onear in order", "", "", "zap ONEAR/2 plant", "", "", "zap plant",
             1, 2},
            {"onear wrong order", "", "", "zap ONEAR/2 plant", "", "",
             "plant zap", 0, -1},
            {"nested near", "", "", "(a1 NEAR/1 b1) NEAR/2 c1", "", "",
             "a1 b1 x c1", 1, 3},
            {"title scope hit", "", "", "title:alpha", "Alpha", "", "", 1, 3},
            {"title scope miss", "", "", "title:alpha", "", "", "alpha", 0, -1},
            {"lead scope", "", "", "lead:alpha", "", "alpha", "", 1, 2},
            {"group scope", "", "", "body:(alpha | beta)", "beta", "", "beta",
             1, 1},
            {"scope on near", "", "", "title:(zap NEAR/1 plant)", "", "",
             "zap plant", 0, -1},
            {"scope on phrase", "", "", "lead:\"power plant\"", "",
             "the power plant", "", 1, 2},
            {"list", "@define L = alpha | \"beta gamma\";", "", "@L", "", "",
             "Beta Gamma", 1, 1},
            {"list in near", "@define L = npp | plant;", "", "zap NEAR/1 @L",
             "", "", "zap npp", 1, 2},
            {"list scoped", "@define L = alpha | beta;", "", "title:@L", "", "",
             "alpha", 0, -1},
            /* A list named in several clauses is evaluated once per
             * field scope (a memo): each clause must still see its own. */
            {"list twice, two scopes", "@define L = alpha | beta;", "",
             "title:@L AND body:@L", "alpha", "", "beta", 1, 4},
            {"list twice, one scope misses", "@define L = alpha | beta;", "",
             "title:@L AND body:@L", "alpha", "", "gamma", 0, -1},
            {"list and not list", "@define L = alpha | beta;", "",
             "@L AND NOT lead:@L", "", "beta", "alpha", 0, -1},
            {"list and not list absent", "@define L = alpha | beta;", "",
             "@L AND NOT lead:@L", "", "gamma", "alpha", 1, 1},
            {"list near itself", "@define L = alpha | beta;", "",
             "@L NEAR/2 @L", "", "", "alpha x beta", 1, 2},
            {"list near itself too far", "@define L = alpha | beta;", "",
             "@L NEAR/2 @L", "", "", "alpha x y z beta", 0, -1},
            {"list except scoped list", "@define L = alpha | beta;", "",
             "@L EXCEPT title:@L", "beta", "", "alpha", 1, 1},
            {"list except scoped list, nothing left",
             "@define L = alpha | beta;", "", "@L EXCEPT title:@L", "beta", "",
             "", 0, -1},
            {"nested lists",
             "@define L = alpha | beta; @define M = @L | gamma;", "",
             "(@M NEAR/1 zap) AND lead:@L AND @M", "", "beta",
             "gamma zap alpha", 1, 5},
            {"except keeps others", "", "",
             "territory EXCEPT \"uncharted territory\"", "", "",
             "occupied territory", 1, 1},
            {"except removes idiom", "", "",
             "territory EXCEPT \"uncharted territory\"", "", "",
             "uncharted territory", 0, -1},
            {"except per place", "", "",
             "territory EXCEPT \"uncharted territory\"", "", "",
             "uncharted territory and more territory", 1, 1},
            {"threshold not met", "", "threshold 3;", "alpha", "", "", "alpha",
             0, 1},
            {"threshold by title", "", "threshold 3;", "alpha", "Alpha", "", "",
             1, 3},
            {"threshold by lead and body", "", "threshold 3;", "alpha", "",
             "alpha", "alpha", 1, 3},
            {"weights", "", "weights title 10, lead 0, body 1;", "alpha",
             "alpha", "alpha", "", 1, 10},
            {"zero weight", "", "weights lead 0;", "alpha", "", "alpha", "", 0,
             0},
            {"cap per term", "", "cap 2;", "alpha", "", "",
             "alpha alpha alpha alpha", 1, 2},
            {"cap is per term", "", "cap 2;", "alpha | beta", "", "",
             "alpha alpha alpha beta beta beta", 1, 4},
            {"require met", "", "require gamma;", "alpha", "", "",
             "alpha gamma", 1, 1},
            {"require unmet", "", "require gamma;", "alpha", "", "", "alpha", 0,
             1},
            {"exclude vetoes", "", "exclude gamma;", "alpha", "", "",
             "alpha gamma", 0, 1},
            {"exclude absent", "", "exclude gamma;", "alpha", "", "", "alpha",
             1, 1},
            {"cyrillic case", "", "", "заес", "ЗАЕС", "", "", 1, 3},
            {"short i differs", "", "", "йод", "", "", "иод", 0, -1},
            {"yi differs", "", "", "їжак", "", "", "іжак", 0, -1},
            {"decomposed short i", "", "", "йод", "", "", "\xD0\xB8\xCC\x86од",
             1, 1},
            {"curly apostrophe", "", "", "п'ять", "", "",
             "п\xE2\x80\x99ять років", 1, 1},
            {"possessive", "", "", "russia", "", "", "Russia's war", 1, 1},
            /* sentence: and sentence/n: */
            {"sentence both", "", "", "sentence:(alpha AND beta)", "", "",
             "Alpha and beta here. Gamma.", 1, 1},
            {"sentence split", "", "", "sentence:(alpha AND beta)", "", "",
             "Alpha here. Beta there.", 0, -1},
            {"sentence u.s.", "", "", "sentence:(alpha AND beta)", "", "",
             "Alpha in the U.S. Beta too.", 1, 1},
            {"sentence mr.", "", "", "sentence:(alpha AND beta)", "", "",
             "Alpha met Mr. Beta.", 1, 1},
            {"sentence cyrillic r.", "", "", "sentence:(альфа AND бета)", "",
             "", "Альфа у 2014 р. Бета теж.", 1, 1},
            {"sentence cyrillic tys.", "", "", "sentence:(альфа AND бета)", "",
             "", "Альфа 5 тыс. Бета.", 1, 1},
            {"sentence question", "", "", "sentence:(alpha AND beta)", "", "",
             "Alpha? beta", 0, -1},
            {"sentence exclamation", "", "", "sentence:(альфа AND бета)", "",
             "", "Альфа! Бета", 0, -1},
            {"sentence ellipsis", "", "", "sentence:(alpha AND beta)", "", "",
             "Alpha\xE2\x80\xA6 Beta", 0, -1},
            {"sentence lower-case goes on", "", "", "sentence:(alpha AND beta)",
             "", "", "Alpha at rbc.ua beta", 1, 1},
            {"sentence blank line", "", "", "sentence:(alpha AND beta)", "", "",
             "alpha\n\nbeta", 0, -1},
            {"sentence wrapped line", "", "", "sentence:(alpha AND beta)", "",
             "", "alpha\nbeta", 1, 1},
            {"sentence line break", "", "", "sentence:(alpha AND beta)", "", "",
             "Alpha\nBeta", 0, -1},
            {"sentence quote closes", "", "", "sentence:(alpha AND beta)", "",
             "", "\"Alpha.\" Beta said.", 0, -1},
            {"sentence fields part", "", "", "sentence:(alpha AND beta)",
             "Alpha", "", "beta", 0, -1},
            {"sentence window 2", "", "", "sentence/2:(alpha AND beta)", "", "",
             "Alpha here. Beta there.", 1, 2},
            {"sentence window 2 short", "", "", "sentence/2:(alpha AND beta)",
             "", "", "Alpha. Gamma. Beta.", 0, -1},
            {"sentence window 3", "", "", "sentence/3:(alpha AND beta)", "", "",
             "Alpha. Gamma. Beta.", 1, 2},
            {"sentence not", "", "", "sentence:(alpha AND NOT beta)", "", "",
             "Alpha beta. Alpha alone.", 1, 1},
            {"sentence near", "", "", "sentence:(alpha NEAR/2 beta)", "", "",
             "Alpha x beta. Alpha.", 1, 1},
            {"sentence counts sentences", "", "", "sentence:(alpha AND beta)",
             "", "", "Alpha beta alpha. Alpha beta.", 1, 2},
            {"sentence field weights", "", "", "sentence:(alpha AND beta)",
             "Alpha beta", "", "alpha beta", 1, 4},
            {"sentence and word", "@define L = alpha | beta;", "",
             "@L | sentence:(@L AND gamma)", "", "", "Alpha. Beta gamma.", 1,
             3},
            {"sentence list memo", "@define L = alpha | beta;", "",
             "@L | sentence:(@L AND gamma)", "", "", "Alpha. Gamma.", 1, 1},
            {"sentence threshold", "", "threshold 2;",
             "sentence:(alpha AND beta)", "", "", "Alpha beta.", 0, 1},
            /* veto: per sentence */
            {"veto its sentence", "", "veto gamma;", "sentence:(alpha)", "", "",
             "Alpha gamma. Alpha.", 1, 1},
            {"veto all", "", "veto gamma;", "sentence:(alpha)", "", "",
             "Alpha gamma.", 0, 0},
            {"veto elsewhere", "", "veto gamma;", "alpha", "", "",
             "Alpha. Gamma.", 1, 1},
            {"veto word clause", "", "veto gamma;", "alpha", "", "",
             "Alpha gamma. Beta.", 0, 0},
            {"veto and exclude", "", "veto gamma; exclude delta;",
             "sentence:(alpha)", "", "", "Alpha. Delta.", 0, -1},
            {"fullwidth", "", "", "iaea", "", "",
             "\xEF\xBC\xA9\xEF\xBC\xA1"
             "\xEF\xBC\xA5\xEF\xBC\xA1",
             1, 1},
        };
        return cr_make_param_array(struct op_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct op_case *c, match, operators)
{
        char text[600];
        struct fixture f;
        struct nt_text_fields in = fields(c->title, c->lead, c->body);
        struct nt_match_result res;
        const struct nt_match_topic *tp;

        snprintf(text, sizeof(text),
                 "%s\ntopic t { label \"T\"; %s match %s; }\n", c->defs,
                 c->extra, c->expr);
        compile_and_run(&f, text, &in, &res);
        tp = topic_result(&f, &res, "t");
        cr_assert_eq(tp && tp->labelled, c->labelled,
                     "%s: labelled %d, want %d (score %.2f)", c->name,
                     tp && tp->labelled, c->labelled, tp ? tp->score : 0.0);
        if (c->score >= 0) {
                cr_assert_not_null(tp, "%s: no result", c->name);
                cr_assert_float_eq(tp->score, c->score, 1e-9,
                                   "%s: score %.2f, want %.2f", c->name,
                                   tp->score, c->score);
        }
        release(&f);
}

/* The veto keeps its count, and evidence from a sentence: clause is
 * marked as such. */
Test(match, veto_counts_and_sentence_evidence)
{
        struct fixture f;
        struct nt_text_fields in =
            fields("", "", "Alpha gamma. Alpha beta. Gamma alpha.");
        struct nt_match_result res;
        const struct nt_match_topic *tp;
        size_t i;

        compile_and_run(&f,
                        "topic t { label \"T\"; match sentence:(alpha); "
                        "veto gamma; }",
                        &in, &res);
        tp = topic_result(&f, &res, "t");
        cr_assert_not_null(tp);
        cr_assert(tp->labelled);
        cr_assert_eq(tp->n_vetoed, 2, "two sentences vetoed, got %u",
                     tp->n_vetoed);
        cr_assert_eq(tp->n_ev, 1);
        cr_assert_eq(tp->ev[0].start, 13, "the clean sentence's alpha");
        for (i = 0; i < tp->n_ev; i++)
                cr_assert_eq(tp->ev[i].sentence, 1);
        release(&f);
}

Test(match, evidence_points_into_the_original_text)
{
        const char *title = "Zelenskyy\xE2\x80\x99s visit to the ЗАЕС";
        const char *body = "Energodar is near the plant.";
        struct fixture f;
        struct nt_text_fields in = fields(title, "", body);
        struct nt_match_result res;
        const struct nt_match_topic *tp;
        const struct nt_match_evidence *e;
        size_t zaes = (size_t)(strstr(title, "ЗАЕС") - title);

        compile_and_run(&f,
                        "topic t { label \"T\"; match zelenskyy | заес | "
                        "energodar NEAR/4 plant; }",
                        &in, &res);
        tp = topic_result(&f, &res, "t");
        cr_assert_not_null(tp);
        cr_assert_eq(tp->n_ev, 4);
        e = tp->ev;
        cr_assert_eq(e[0].field, NT_FIELD_TITLE);
        cr_assert_eq(e[0].start, 0);
        cr_assert_eq(e[0].end, 9, "the possessive is not part of the name");
        cr_assert_eq(e[1].start, zaes);
        cr_assert_eq(e[1].end, zaes + strlen("ЗАЕС"));
        cr_assert_eq(memcmp(title + e[1].start, "ЗАЕС", e[1].end - e[1].start),
                     0);
        cr_assert_eq(e[2].field, NT_FIELD_BODY);
        cr_assert_eq(e[2].start, 0);
        cr_assert_eq(e[2].end, 9);
        cr_assert_eq(e[3].start, 22, "both sides of a NEAR are evidence");
        cr_assert_eq(e[3].end, 27);
        cr_assert_str_eq(nt_match_rules(f.m)->terms[e[3].term].rule, "plant");
        release(&f);
}

Test(match, evidence_names_the_list)
{
        struct fixture f;
        struct nt_text_fields in = fields("", "", "a nuclear power plant");
        struct nt_match_result res;

        compile_and_run(&f,
                        "@define PLANT = npp | \"nuclear power plant\";\n"
                        "topic t { label \"T\"; match @PLANT; }",
                        &in, &res);
        cr_assert_eq(res.n_topics, 1);
        cr_assert_eq(res.topics[0].n_ev, 1);
        cr_assert_str_eq(
            nt_match_rules(f.m)->terms[res.topics[0].ev[0].term].rule,
            "@PLANT:\"nuclear power plant\"");
        cr_assert_eq(res.topics[0].ev[0].start, 2);
        cr_assert_eq(res.topics[0].ev[0].end, 21);
        release(&f);
}

Test(match, require_exclude_and_veto_terms_do_not_trigger)
{
        struct fixture f;
        struct nt_text_fields in = fields("", "", "beta gamma delta");
        struct nt_match_result res;

        compile_and_run(&f,
                        "topic t { label \"T\"; match alpha; require beta;\n"
                        "  exclude gamma; veto delta; }\n",
                        &in, &res);
        cr_assert_eq(res.n_topics, 0, "no term of the match occurs");
        release(&f);
}

Test(match, only_topics_with_present_terms_are_evaluated)
{
        struct fixture f;
        struct nt_text_fields in = fields("", "", "beta");
        struct nt_match_result res;

        compile_and_run(&f,
                        "topic a { label \"A\"; match alpha; }\n"
                        "topic b { label \"B\"; match beta; }\n"
                        "topic c { label \"C\"; match gamma AND NOT beta; }\n",
                        &in, &res);
        cr_assert_eq(res.n_topics, 2, "b, and c because beta is its term");
        cr_assert_null(topic_result(&f, &res, "a"));
        cr_assert(topic_result(&f, &res, "b")->labelled);
        cr_assert(!topic_result(&f, &res, "c")->matched);
        release(&f);
}

Test(match, entities_count_places_not_alternatives)
{
        struct fixture f;
        struct nt_text_fields in =
            fields("Zelenskyy meets Macron", "", "Zelensky and Зеленський");
        struct nt_match_result res;
        const struct nt_rules *r;

        compile_and_run(&f,
                        "entity \"Volodymyr Zelenskyy\" person = zelenskyy | "
                        "zelensky | zelensk* | зеленськ*;\n"
                        "entity \"Emmanuel Macron\" person = macron;\n"
                        "entity \"Vladimir Putin\" person = putin;\n",
                        &in, &res);
        r = nt_match_rules(f.m);
        cr_assert_eq(res.n_entities, 2);
        cr_assert_str_eq(r->entities[res.entities[0].entity].name,
                         "Volodymyr Zelenskyy");
        cr_assert_eq(res.entities[0].count, 3,
                     "three places, each matched by two alternatives");
        cr_assert_eq(r->entities[res.entities[1].entity].type,
                     NT_ENTITY_PERSON);
        cr_assert_eq(res.entities[1].count, 1);
        release(&f);
}

Test(match, scratches_share_one_compiled_set)
{
        struct fixture f;
        nt_match_scratch_t *other;
        struct nt_text_fields a = fields("", "", "zap plant");
        struct nt_text_fields b = fields("", "", "nothing here");
        struct nt_match_result ra, rb;
        int i;

        compile(&f, "topic t { label \"T\"; match zap NEAR/1 plant; }");
        other = nt_match_scratch_new(f.m);
        for (i = 0; i < 3; i++) {
                cr_assert_eq(nt_match_run(f.m, f.s, &a, &ra), 0);
                cr_assert_eq(nt_match_run(f.m, other, &b, &rb), 0);
                cr_assert_eq(ra.n_topics, 1, "run %d", i);
                cr_assert(ra.topics[0].labelled, "run %d", i);
                cr_assert_eq(rb.n_topics, 0, "run %d", i);
        }
        nt_match_scratch_destroy(other);
        release(&f);
}

Test(match, too_many_tokens_is_a_limit_error)
{
        struct fixture f;
        static char big[3 * NT_MATCH_MAX_TOKENS + 10];
        struct nt_text_fields in;
        struct nt_match_result res;
        size_t i;

        for (i = 0; i + 2 < sizeof(big); i += 2) {
                big[i] = 'a';
                big[i + 1] = ' ';
        }
        in = fields("", "", big);
        compile(&f, "topic t { label \"T\"; match a; }");
        cr_assert_eq(nt_match_run(f.m, f.s, &in, &res), NT_ERR_LIMIT);
        release(&f);
}
