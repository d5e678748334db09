/* The classifier entry point with the shipped rules (config/rules) on the
 * sample articles of tests/fixtures/articles: labels, facts, language;
 * the JSON result; forks on threads; reload semantics. */
#include "common/err.h"
#include "consumer/classify.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const article_files[] = {
    "guarantees.json", "territory.json", "zaporizhzhia.json",
    "hard_negatives.json", "sentences.json"};

/* Criterion may run each case in a fresh process: parameters hold the
 * file and the index, not pointers. */
struct article_case {
        char file[32];
        int index;
        char name[64];
};

ParameterizedTestParameters(classify, shipped_rules)
{
        static struct article_case cases[128];
        const char *dir = getenv("NT_FIXTURES");
        size_t n = 0, f, i;

        for (f = 0; dir && f < sizeof(article_files) / sizeof(*article_files);
             f++) {
                char path[512];
                json_t *arr;

                snprintf(path, sizeof(path), "%s/articles/%s", dir,
                         article_files[f]);
                arr = json_load_file(path, 0, NULL);
                for (i = 0; arr && i < json_array_size(arr) && n < 128; i++) {
                        snprintf(cases[n].file, sizeof(cases[n].file), "%s",
                                 article_files[f]);
                        cases[n].index = (int)i;
                        snprintf(cases[n].name, sizeof(cases[n].name), "%s",
                                 json_string_value(json_object_get(
                                     json_array_get(arr, i), "name")));
                        n++;
                }
                json_decref(arr);
        }
        return cr_make_param_array(struct article_case, cases, n);
}

static json_t *load_article(const char *file, int index)
{
        char buf[512], path[512];
        json_error_t jerr;
        json_t *arr, *a;

        snprintf(buf, sizeof(buf), "articles/%s", file);
        nt_test_fixture(buf, path, sizeof(path));
        arr = json_load_file(path, 0, &jerr);
        cr_assert_not_null(arr, "%s: %s", path, jerr.text);
        a = json_incref(json_array_get(arr, (size_t)index));
        json_decref(arr);
        return a;
}

static struct nt_text_fields article_fields(json_t *a)
{
        static const char *const keys[] = {"title", "lead", "body"};
        struct nt_text_fields in;
        int f;

        for (f = 0; f < NT_FIELD_COUNT; f++) {
                json_t *s = json_object_get(a, keys[f]);

                in.text[f] = json_string_value(s);
                in.len[f] = json_string_length(s);
        }
        return in;
}

ParameterizedTest(struct article_case *c, classify, shipped_rules)
{
        nt_classifier_t *cl = nt_test_shipped_classifier();
        json_t *a = load_article(c->file, c->index), *res = NULL, *v, *f;
        struct nt_text_fields in = article_fields(a);
        char errstr[256], got[128] = "", want[128] = "";
        const char *lang;
        size_t i, k;

        cr_assert_eq(nt_classifier_run(cl, &in, &res, errstr, sizeof(errstr)),
                     0, "%s: %s", c->name, errstr);
        json_array_foreach(json_object_get(res, "labels"), i, v)
        {
                size_t used = strlen(got);
                snprintf(got + used, sizeof(got) - used, "%s ",
                         json_string_value(json_object_get(v, "topic")));
        }
        json_array_foreach(json_object_get(a, "labels"), i, v)
        {
                size_t used = strlen(want);
                snprintf(want + used, sizeof(want) - used, "%s ",
                         json_string_value(v));
        }
        cr_assert_str_eq(got, want, "%s: labels \"%s\", want \"%s\"", c->name,
                         got, want);
        /* Facts the sample names must be found (others may be too). */
        json_array_foreach(json_object_get(a, "facts"), i, f)
        {
                int found = 0;

                json_array_foreach(json_object_get(res, "facts"), k, v)
                {
                        if (!strcmp(
                                json_string_value(json_object_get(v, "type")),
                                json_string_value(json_array_get(f, 0))) &&
                            json_number_value(json_object_get(v, "value")) ==
                                json_number_value(json_array_get(f, 1)) &&
                            !strcmp(
                                json_string_value(json_object_get(v, "unit")),
                                json_string_value(json_array_get(f, 2))))
                                found = 1;
                }
                cr_assert(found, "%s: fact %s %g %s not found", c->name,
                          json_string_value(json_array_get(f, 0)),
                          json_number_value(json_array_get(f, 1)),
                          json_string_value(json_array_get(f, 2)));
        }
        lang = json_string_value(json_object_get(res, "language"));
        if (strstr(c->name, "_en_"))
                cr_assert_str_eq(lang, "en", "%s", c->name);
        else if (strstr(c->name, "_uk_"))
                cr_assert_str_eq(lang, "uk", "%s", c->name);
        else if (strstr(c->name, "_ru_"))
                cr_assert_str_eq(lang, "ru", "%s", c->name);
        json_decref(res);
        json_decref(a);
        nt_classifier_destroy(cl);
}

Test(classify, json_result_shape)
{
        nt_classifier_t *cl = nt_test_shipped_classifier();
        json_t *a = load_article("guarantees.json", 0), *res = NULL, *lab, *ev,
               *e;
        struct nt_text_fields in = article_fields(a);
        char errstr[256];
        size_t i;

        cr_assert_eq(nt_classifier_run(cl, &in, &res, errstr, sizeof(errstr)),
                     0, "%s", errstr);
        lab = json_array_get(json_object_get(res, "labels"), 0);
        nt_test_assert_json_str(lab, "topic", "guarantees");
        nt_test_assert_json_str(lab, "label",
                                "Security guarantees for Ukraine");
        cr_assert(json_number_value(json_object_get(lab, "score")) >= 3);
        ev = json_object_get(lab, "evidence");
        cr_assert_gt(json_array_size(ev), 0);
        json_array_foreach(ev, i, e)
        {
                const char *field =
                    json_string_value(json_object_get(e, "field"));
                int f = !strcmp(field, "title")  ? 0
                        : !strcmp(field, "lead") ? 1
                                                 : 2;
                json_int_t s = json_integer_value(json_object_get(e, "start"));
                json_int_t end = json_integer_value(json_object_get(e, "end"));
                const char *text =
                    json_string_value(json_object_get(e, "text"));

                cr_assert_eq((size_t)(end - s), strlen(text));
                cr_assert_eq(memcmp(in.text[f] + s, text, strlen(text)), 0,
                             "evidence %zu is the original text", i);
                cr_assert_not_null(json_object_get(e, "rule"));
        }
        cr_assert_gt(json_array_size(json_object_get(res, "entities")), 0);
        nt_test_assert_json_str(res, "language", "en");
        cr_assert_eq(
            strlen(json_string_value(json_object_get(res, "fingerprint"))), 16);
        cr_assert_str_eq(
            json_string_value(json_object_get(res, "rules_version")),
            nt_classifier_rules_version(cl));
        json_decref(res);
        json_decref(a);
        nt_classifier_destroy(cl);
}

#define MAX_ARTICLES 128

/* Labels of one result as "topic topic ", as the fixtures list them. */
static void labels_of(json_t *labels, bool from_result, char *out, size_t size)
{
        size_t k, used;
        json_t *v;

        out[0] = '\0';
        json_array_foreach(labels, k, v)
        {
                used = strlen(out);
                snprintf(out + used, size - used, "%s ",
                         json_string_value(
                             from_result ? json_object_get(v, "topic") : v));
        }
}

struct worker {
        nt_classifier_t *cl;
        json_t *articles; /* every sample article, loaded once */
        char labels[MAX_ARTICLES][64];
        int failed;
};

static void *classify_all(void *arg)
{
        struct worker *w = arg;
        size_t i, n = json_array_size(w->articles);
        int round;

        for (round = 0; round < 5; round++) {
                for (i = 0; i < n; i++) {
                        json_t *res = NULL;
                        struct nt_text_fields in =
                            article_fields(json_array_get(w->articles, i));
                        char got[64];

                        if (nt_classifier_run(w->cl, &in, &res, NULL, 0)) {
                                w->failed = 1;
                                continue;
                        }
                        labels_of(json_object_get(res, "labels"), true, got,
                                  sizeof(got));
                        if (round == 0)
                                memcpy(w->labels[i], got, sizeof(got));
                        else if (strcmp(w->labels[i], got))
                                w->failed = 1;
                        json_decref(res);
                }
        }
        return NULL;
}

Test(classify, forks_run_on_threads)
{
        nt_classifier_t *cl = nt_test_shipped_classifier();
        json_t *articles = json_array();
        struct worker w[2];
        pthread_t th[2];
        char want[64];
        size_t f, i, n;

        for (f = 0; f < sizeof(article_files) / sizeof(*article_files); f++) {
                char buf[512], path[512];
                json_error_t jerr;
                json_t *arr;

                snprintf(buf, sizeof(buf), "articles/%s", article_files[f]);
                nt_test_fixture(buf, path, sizeof(path));
                arr = json_load_file(path, 0, &jerr);
                cr_assert_not_null(arr, "%s: %s", path, jerr.text);
                json_array_extend(articles, arr);
                json_decref(arr);
        }
        n = json_array_size(articles);
        cr_assert(n >= 40 && n <= MAX_ARTICLES, "%zu sample articles", n);
        memset(w, 0, sizeof(w));
        w[0].cl = cl;
        w[1].cl = nt_classifier_fork(cl);
        cr_assert_not_null(w[1].cl);
        cr_assert_str_eq(nt_classifier_rules_version(w[1].cl),
                         nt_classifier_rules_version(cl));
        for (i = 0; i < 2; i++) {
                w[i].articles = articles;
                cr_assert_eq(pthread_create(&th[i], NULL, classify_all, &w[i]),
                             0);
        }
        for (i = 0; i < 2; i++)
                pthread_join(th[i], NULL);
        cr_assert(!w[0].failed && !w[1].failed, "stable results per thread");
        /* Both threads give every article the labels its sample names. */
        for (i = 0; i < n; i++) {
                json_t *a = json_array_get(articles, i);

                labels_of(json_object_get(a, "labels"), false, want,
                          sizeof(want));
                cr_assert_str_eq(w[0].labels[i], want, "%s",
                                 json_string_value(json_object_get(a, "name")));
                cr_assert_str_eq(w[1].labels[i], want, "%s",
                                 json_string_value(json_object_get(a, "name")));
        }
        json_decref(articles);
        /* Either handle may go first: the rules are reference-counted. */
        nt_classifier_destroy(cl);
        nt_classifier_destroy(w[1].cl);
}

Test(classify, broken_reload_keeps_the_working_set)
{
        nt_classifier_t *cl = nt_test_shipped_classifier(), *next;
        char path[512], errstr[512] = "";
        const char *files[1];
        struct nt_text_fields in = {{"ZNPP", NULL, NULL}, {4, 0, 0}};
        struct nt_classifier_result res;

        files[0] = nt_test_fixture("rules/broken.rules", path, sizeof(path));
        next = nt_classifier_new(files, 1, errstr, sizeof(errstr));
        cr_assert_null(next, "a broken set yields no handle");
        cr_assert_not_null(strstr(errstr, "broken.rules:5:26: unknown list"),
                           "%s", errstr);
        cr_assert_eq(nt_classifier_match(cl, &in, &res, NULL, 0), 0);
        cr_assert_eq(res.match.n_topics, 1);
        cr_assert(res.match.topics[0].labelled, "the old set still works");
        nt_classifier_destroy(cl);
}

/* The loan-guarantee and other-country samples are hard: a clause holds
 * in their sentences, and the sentence veto is what keeps the label off. */
Test(classify, hard_negatives_are_vetoed_not_missed)
{
        nt_classifier_t *cl = nt_test_shipped_classifier();
        const struct nt_rules *r = nt_match_rules(nt_classifier_matcher(cl));
        int idx[] = {0, 2}; /* neg_en_loan_guarantees, neg_en_other_country */
        size_t i, k;

        for (i = 0; i < 2; i++) {
                json_t *a = load_article("hard_negatives.json", idx[i]);
                struct nt_text_fields in = article_fields(a);
                struct nt_classifier_result res;
                int seen = 0;

                cr_assert_eq(nt_classifier_match(cl, &in, &res, NULL, 0), 0);
                for (k = 0; k < res.match.n_topics; k++) {
                        const struct nt_match_topic *tp = &res.match.topics[k];

                        if (strcmp(r->topics[tp->topic].id, "guarantees"))
                                continue;
                        seen = 1;
                        cr_assert(tp->n_vetoed > 0 && !tp->labelled,
                                  "%s: vetoed %u labelled %d",
                                  json_string_value(json_object_get(a, "name")),
                                  tp->n_vetoed, tp->labelled);
                }
                cr_assert(seen, "guarantees evaluated");
                json_decref(a);
        }
        nt_classifier_destroy(cl);
}
