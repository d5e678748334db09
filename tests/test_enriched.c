/* The enriched event: its JSON shape with the shipped rules, the input
 * article's bytes carried verbatim, the CloudEvents headers, the reasons
 * that send an input to the dead-letter topic, mapped input, the lead
 * taken from the first paragraph, the evidence kept, and the lean record
 * of each label's topic. */
#include "common/buf.h"
#include "common/date.h"
#include "common/err.h"
#include "common/extract.h"
#include "common/feed.h"
#include "consumer/enrich.h"
#include "consumer/enriched.h"
#include "consumer/normalize.h"
#include "consumer/rules_model.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 2026-01-05T10:00:00Z */
#define NOW_MS 1767607200000LL

#define ZAP_ARTICLE                                                          \
        "{\"schema\":\"newstap.article/1\","                                 \
        "\"id\":\"0123456789abcdef0123456789abcdef\","                       \
        "\"revision\":\"0123456789abcdef\","                                 \
        "\"url\":\"https://example.org/a/1\","                               \
        "\"title\":\"Zaporizhzhia nuclear plant loses off-site power\","     \
        "\"summary\":\"The IAEA said the plant ran on diesel generators.\"," \
        "\"content\":\"All six reactors are in cold shutdown.\","            \
        "\"published\":\"2026-01-05T09:00:00Z\"}"

/* Builds the event of `input`; the caller frees ev. */
static void build(nt_classifier_t *c, const struct nt_enriched_opts *o,
                  const char *input, struct nt_enriched_event *ev)
{
        nt_enriched_event_init(ev, 1 << 22);
        cr_assert_eq(nt_enriched_build(c, o, input, strlen(input), NOW_MS, ev),
                     0, "build failed on %s", input);
}

Test(enriched, event_shape)
{
        nt_classifier_t *c = nt_test_shipped_classifier();
        struct nt_enriched_opts o;
        struct nt_enriched_event ev;
        json_t *v, *in, *labels;
        json_error_t jerr;
        const char *key;
        size_t i;
        static const char *const order[] = {
            "schema",   "article",     "labels",        "entities",     "facts",
            "language", "fingerprint", "rules_version", "classified_at"};
        json_t *member;

        nt_enriched_opts_init(&o);
        build(c, &o, ZAP_ARTICLE, &ev);
        cr_assert_eq(ev.reason, NT_ENRICHED_OK, "refused: %s", ev.error);
        v = json_loadb(ev.value.data, ev.value.len, 0, &jerr);
        cr_assert_not_null(v, "the event is not JSON: %s", jerr.text);
        in = json_loads(ZAP_ARTICLE, 0, NULL);
        cr_assert(json_equal(json_object_get(v, "article"), in),
                  "the article is not the input article");
        i = 0;
        json_object_foreach(v, key, member)
        {
                cr_assert_lt(i, 9, "extra member %s", key);
                cr_assert_str_eq(key, order[i], "member %zu", i);
                i++;
        }
        cr_assert_eq(i, 9, "%zu members", i);
        nt_test_assert_json_str(v, "schema", "newstap.enriched/1");
        labels = json_object_get(v, "labels");
        cr_assert_eq(json_array_size(labels), 1);
        cr_assert_str_eq(json_string_value(json_object_get(
                             json_array_get(labels, 0), "topic")),
                         "zaporizhzhia");
        cr_assert_gt(json_integer_value(json_object_get(
                         json_array_get(labels, 0), "evidence_total")),
                     0);
        cr_assert_leq(json_array_size(json_object_get(json_array_get(labels, 0),
                                                      "evidence")),
                      NT_ENRICHED_MAX_EVIDENCE);
        cr_assert_eq(ev.n_labels, 1);
        cr_assert_str_eq(ev.labels[0], "zaporizhzhia");
        nt_test_assert_json_str(v, "language", "en");
        cr_assert_eq(
            strlen(json_string_value(json_object_get(v, "fingerprint"))), 16);
        cr_assert_str_eq(json_string_value(json_object_get(v, "rules_version")),
                         nt_classifier_rules_version(c));
        nt_test_assert_json_str(v, "classified_at", "2026-01-05T10:00:00Z");
        cr_assert_str_eq(ev.classified_at, "2026-01-05T10:00:00Z");
        cr_assert_str_eq(ev.id, "0123456789abcdef0123456789abcdef");
        cr_assert_null(memchr(ev.value.data, '\n', ev.value.len),
                       "the event is one line");
        json_decref(in);
        json_decref(v);
        nt_enriched_event_free(&ev);
        nt_classifier_destroy(c);
}

Test(enriched, article_bytes_verbatim)
{
        /* Spacing, key order, escapes and number forms that a re-serialised
         * copy would change. */
        static const char input[] =
            "  { \"title\" : \"\\u0417\\u0430\\u043f\\u043e\\u0440\\u0456"
            "\\u0436\\u0436\\u044f \\/ ZNPP\" "
            ",\"schema\":\"newstap.article/1\","
            "\"revision\":\"fedcba9876543210\", \"x\": 1.50e2,"
            "\"id\":\"fedcba9876543210fedcba9876543210\" }\r\n";
        const char *start = strchr(input, '{');
        const char *end = strrchr(input, '}') + 1;
        static const char head[] =
            "{\"schema\":\"newstap.enriched/1\",\"article\":";
        nt_classifier_t *c = nt_test_shipped_classifier();
        struct nt_enriched_opts o;
        struct nt_enriched_event ev;

        nt_enriched_opts_init(&o);
        build(c, &o, input, &ev);
        cr_assert_eq(ev.reason, NT_ENRICHED_OK, "refused: %s", ev.error);
        cr_assert_eq(memcmp(ev.value.data, head, sizeof(head) - 1), 0);
        cr_assert_eq(memcmp(ev.value.data + sizeof(head) - 1, start,
                            (size_t)(end - start)),
                     0, "the article bytes changed: %s", ev.value.data);
        cr_assert_eq(ev.value.data[sizeof(head) - 1 + (size_t)(end - start)],
                     ',');
        nt_enriched_event_free(&ev);
        nt_classifier_destroy(c);
}

/* Fails unless h holds each name of want[i][0] with the value
 * want[i][1] (the last of its name). */
static void expect_headers(rd_kafka_headers_t *h, const char *const want[][2],
                           size_t n)
{
        size_t i;

        for (i = 0; i < n; i++) {
                const void *val;
                size_t len;

                cr_assert_eq(
                    rd_kafka_header_get_last(h, want[i][0], &val, &len), 0,
                    "no header %s", want[i][0]);
                cr_assert_eq(len, strlen(want[i][1]), "%s", want[i][0]);
                cr_assert_eq(memcmp(val, want[i][1], len), 0, "%s: %.*s",
                             want[i][0], (int)len, (const char *)val);
        }
}

Test(enriched, cloudevents_headers)
{
        struct nt_enriched_origin origin = {"news.raw", 2, 42};
        struct nt_enriched_event ev;
        rd_kafka_headers_t *h;
        static const char *const want[][2] = {
            {"content-type", "application/json"},
            {"ce_specversion", "1.0"},
            {"ce_id", "news.raw/2/42"},
            {"ce_source", "newstap/test"},
            {"ce_type", "org.newstap.article.classified"},
            {"ce_time", "2026-01-05T10:00:00Z"},
            {"ce_subject", "0123456789abcdef0123456789abcdef"},
        };

        nt_enriched_event_init(&ev, 1024);
        snprintf(ev.id, sizeof(ev.id), "0123456789abcdef0123456789abcdef");
        snprintf(ev.classified_at, sizeof(ev.classified_at),
                 "2026-01-05T10:00:00Z");
        h = nt_enriched_headers(&ev, "newstap/test", &origin);
        cr_assert_not_null(h);
        cr_assert_eq(rd_kafka_header_cnt(h), 7);
        expect_headers(h, want, sizeof(want) / sizeof(want[0]));
        rd_kafka_headers_destroy(h);
        nt_enriched_event_free(&ev);
}

Test(enriched, dead_letter_headers)
{
        struct nt_enriched_origin origin = {"news.raw", 1, 7};
        rd_kafka_headers_t *h = nt_enriched_dlq_headers(
            NT_ENRICHED_TOO_LARGE, "too big", &origin, 2000000, true);
        static const char *const want[][2] = {
            {"nt_error", "too_large"},       {"nt_error_message", "too big"},
            {"nt_origin_topic", "news.raw"}, {"nt_origin_partition", "1"},
            {"nt_origin_offset", "7"},       {"nt_origin_size", "2000000"},
            {"nt_truncated", "true"},
        };

        expect_headers(h, want, sizeof(want) / sizeof(want[0]));
        rd_kafka_headers_destroy(h);
        h = nt_enriched_dlq_headers(NT_ENRICHED_NOT_JSON, "x", &origin, 3,
                                    false);
        cr_assert_neq(rd_kafka_header_get_last(h, "nt_truncated", NULL, NULL),
                      0, "not truncated: no nt_truncated header");
        rd_kafka_headers_destroy(h);
}

struct refusal_case {
        char name[40];
        char input[200];
        int mapped;
        size_t max_message;
        enum nt_enriched_reason reason;
        char error_has[60];
};

ParameterizedTestParameters(enriched, refusals)
{
        static struct refusal_case cases[] = {
            {"empty", "", 0, 0, NT_ENRICHED_NOT_JSON, "line 1"},
            {"not json", "Zaporizhzhia nuclear plant", 0, 0,
             NT_ENRICHED_NOT_JSON, "column"},
            {"truncated json", "{\"schema\":\"newstap.article/1\"", 0, 0,
             NT_ENRICHED_NOT_JSON, "line 1"},
            {"trailing junk", "{\"a\":1} x", 0, 0, NT_ENRICHED_NOT_JSON,
             "end of file expected"},
            {"array", "[1,2]", 0, 0, NT_ENRICHED_NOT_ARTICLE,
             "not a newstap.article/1"},
            {"other json", "{\"hello\":\"world\"}", 0, 0,
             NT_ENRICHED_NOT_ARTICLE, "not a newstap.article/1"},
            {"bad id",
             "{\"schema\":\"newstap.article/1\",\"id\":\"zz\","
             "\"revision\":\"0123456789abcdef\"}",
             0, 0, NT_ENRICHED_NOT_ARTICLE, "\"id\""},
            {"bad date",
             "{\"schema\":\"newstap.article/1\","
             "\"id\":\"0123456789abcdef0123456789abcdef\","
             "\"revision\":\"0123456789abcdef\",\"published\":\"soon\"}",
             0, 0, NT_ENRICHED_NOT_ARTICLE, "published"},
            {"too large", "{\"schema\":\"newstap.article/1\"}", 0, 10,
             NT_ENRICHED_TOO_LARGE, "more than consumer.max_message (10)"},
            {"mapped: no text", "{\"data\":{\"link\":\"https://e.org/1\"}}", 1,
             0, NT_ENRICHED_NOT_ARTICLE, "no title, summary or body"},
            {"mapped: title not a string", "{\"data\":{\"headline\":5}}", 1, 0,
             NT_ENRICHED_NOT_ARTICLE, "title (data.headline)"},
            {"mapped: not an object", "[\"x\"]", 1, 0, NT_ENRICHED_NOT_ARTICLE,
             "not a JSON object"},
        };
        return cr_make_param_array(struct refusal_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

static void mapped_opts(struct nt_enriched_opts *o)
{
        nt_enriched_opts_init(o);
        o->input = NT_ENRICHED_INPUT_MAPPED;
        snprintf(o->map[NT_MAP_TITLE], sizeof(o->map[0]), "data.headline");
        snprintf(o->map[NT_MAP_BODY], sizeof(o->map[0]), "data.text");
        snprintf(o->map[NT_MAP_URL], sizeof(o->map[0]), "data.link");
        snprintf(o->map[NT_MAP_PUBLISHED], sizeof(o->map[0]), "data.ts");
}

ParameterizedTest(struct refusal_case *tc, enriched, refusals)
{
        nt_classifier_t *c = nt_test_shipped_classifier();
        struct nt_enriched_opts o;
        struct nt_enriched_event ev;

        if (tc->mapped)
                mapped_opts(&o);
        else
                nt_enriched_opts_init(&o);
        if (tc->max_message)
                o.max_message = tc->max_message;
        build(c, &o, tc->input, &ev);
        cr_assert_eq(ev.reason, tc->reason, "%s: reason %s (%s)", tc->name,
                     nt_enriched_reason_name(ev.reason), ev.error);
        cr_assert_not_null(strstr(ev.error, tc->error_has),
                           "%s: error \"%s\" lacks \"%s\"", tc->name, ev.error,
                           tc->error_has);
        cr_assert_eq(ev.value.len, 0, "%s: no event for a refused input",
                     tc->name);
        nt_enriched_event_free(&ev);
        nt_classifier_destroy(c);
}

Test(enriched, reason_names)
{
        cr_assert_str_eq(nt_enriched_reason_name(NT_ENRICHED_NOT_JSON),
                         "not_json");
        cr_assert_str_eq(nt_enriched_reason_name(NT_ENRICHED_NOT_ARTICLE),
                         "not_article");
        cr_assert_str_eq(nt_enriched_reason_name(NT_ENRICHED_TOO_LARGE),
                         "too_large");
        cr_assert_str_eq(nt_enriched_reason_name(NT_ENRICHED_UNCLASSIFIABLE),
                         "unclassifiable");
        cr_assert_str_eq(nt_enriched_reason_name(NT_ENRICHED_OUTPUT_REJECTED),
                         "output_rejected");
}

/* Someone else's JSON through the mapping: the article is built from the
 * paths, the id follows the article model (the canonical link), and a
 * given 32-hex id is kept. */
Test(enriched, mapped_input)
{
        nt_classifier_t *c = nt_test_shipped_classifier();
        struct nt_enriched_opts o;
        struct nt_enriched_event ev;
        char id1[33], id2[33];
        json_t *v, *art;

        mapped_opts(&o);
        build(c, &o,
              "{\"data\":{\"headline\":\"Zaporizhzhia nuclear plant loses "
              "power\",\"text\":\"The IAEA said all six reactors are in "
              "cold shutdown.\",\"link\":\"https://Example.org/a/9?utm_"
              "source=x\",\"ts\":1767607200}}",
              &ev);
        cr_assert_eq(ev.reason, NT_ENRICHED_OK, "refused: %s", ev.error);
        memcpy(id1, ev.id, sizeof(id1));
        v = json_loadb(ev.value.data, ev.value.len, 0, NULL);
        art = json_object_get(v, "article");
        nt_test_assert_json_str(art, "schema", "newstap.article/1");
        nt_test_assert_json_str(art, "id", id1);
        nt_test_assert_json_str(art, "title",
                                "Zaporizhzhia nuclear plant loses power");
        nt_test_assert_json_str(art, "published", "2026-01-05T10:00:00Z");
        cr_assert_eq(ev.n_labels, 1);
        cr_assert_str_eq(ev.labels[0], "zaporizhzhia");
        json_decref(v);
        nt_enriched_event_free(&ev);

        /* The same story without tracking parameters: the same id. */
        build(c, &o,
              "{\"data\":{\"headline\":\"Other words\","
              "\"link\":\"https://example.org/a/9\"}}",
              &ev);
        cr_assert_eq(ev.reason, NT_ENRICHED_OK, "refused: %s", ev.error);
        memcpy(id2, ev.id, sizeof(id2));
        cr_assert_str_eq(id1, id2, "one canonical link, one id");
        nt_enriched_event_free(&ev);

        snprintf(o.map[NT_MAP_ID], sizeof(o.map[0]), "data.uid");
        build(c, &o,
              "{\"data\":{\"headline\":\"x\",\"uid\":"
              "\"00000000000000000000000000000abc\"}}",
              &ev);
        cr_assert_str_eq(ev.id, "00000000000000000000000000000abc");
        nt_enriched_event_free(&ev);
        build(c, &o, "{\"data\":{\"headline\":\"x\",\"uid\":12345}}", &ev);
        cr_assert_eq(ev.reason, NT_ENRICHED_OK, "refused: %s", ev.error);
        cr_assert_eq(strlen(ev.id), 32, "a foreign id is hashed into one");
        nt_enriched_event_free(&ev);
        nt_classifier_destroy(c);
}

/* Without a summary, the content's first paragraph is the lead; body
 * evidence still points into the content. */
Test(enriched, lead_from_first_paragraph)
{
        static const char input[] =
            "{\"schema\":\"newstap.article/1\","
            "\"id\":\"0123456789abcdef0123456789abcdef\","
            "\"revision\":\"0123456789abcdef\","
            "\"title\":\"Power line cut again\","
            "\"content\":\"Engineers worked through the night.\\n\\nThe "
            "Zaporizhzhia nuclear plant relies on diesel, the IAEA said; "
            "its reactors are cold.\"}";
        nt_classifier_t *c = nt_test_shipped_classifier();
        struct nt_enriched_opts o;
        struct nt_enriched_event ev;
        const char *content;
        json_t *v, *label, *e;
        size_t i, body = 0;

        nt_enriched_opts_init(&o);
        build(c, &o, input, &ev);
        cr_assert_eq(ev.reason, NT_ENRICHED_OK, "refused: %s", ev.error);
        v = json_loadb(ev.value.data, ev.value.len, 0, NULL);
        content = json_string_value(
            json_object_get(json_object_get(v, "article"), "content"));
        label = json_array_get(json_object_get(v, "labels"), 0);
        cr_assert_not_null(label, "labelled: %s", ev.value.data);
        json_array_foreach(json_object_get(label, "evidence"), i, e)
        {
                const char *text =
                    json_string_value(json_object_get(e, "text"));
                json_int_t start =
                    json_integer_value(json_object_get(e, "start"));
                json_int_t end = json_integer_value(json_object_get(e, "end"));

                if (strcmp(json_string_value(json_object_get(e, "field")),
                           "body") != 0)
                        continue;
                body++;
                cr_assert_eq((size_t)(end - start), strlen(text));
                cr_assert_eq(memcmp(content + start, text, strlen(text)), 0,
                             "body evidence \"%s\" at %lld is not in the "
                             "content",
                             text, (long long)start);
        }
        cr_assert_gt(body, 0, "body evidence found: %s", ev.value.data);
        json_decref(v);
        nt_enriched_event_free(&ev);
        nt_classifier_destroy(c);
}

Test(enriched, classification_off)
{
        nt_classifier_t *c = nt_test_shipped_classifier();
        struct nt_enriched_opts o;
        struct nt_enriched_event ev;
        json_t *v;

        nt_enriched_opts_init(&o);
        o.classify = false;
        build(c, &o, ZAP_ARTICLE, &ev);
        cr_assert_eq(ev.reason, NT_ENRICHED_OK);
        v = json_loadb(ev.value.data, ev.value.len, 0, NULL);
        cr_assert_eq(json_array_size(json_object_get(v, "labels")), 0);
        cr_assert(json_is_null(json_object_get(v, "language")));
        cr_assert_eq(ev.n_labels, 0);
        json_decref(v);
        nt_enriched_event_free(&ev);
        nt_classifier_destroy(c);
}

Test(enriched, event_limit)
{
        nt_classifier_t *c = nt_test_shipped_classifier();
        struct nt_enriched_opts o;
        struct nt_enriched_event ev;

        nt_enriched_opts_init(&o);
        nt_enriched_event_init(&ev, 64);
        cr_assert_eq(nt_enriched_build(c, &o, ZAP_ARTICLE, strlen(ZAP_ARTICLE),
                                       NOW_MS, &ev),
                     0);
        cr_assert_eq(ev.reason, NT_ENRICHED_TOO_LARGE,
                     "an event past its limit is refused, not cut");
        cr_assert_eq(ev.value.len, 0);
        nt_enriched_event_free(&ev);
        nt_classifier_destroy(c);
}

/* The event's classification members are written straight from the
 * classifier's C result; they must equal nt_classifier_run()'s JSON for
 * every sample article (all languages, hard negatives included). */
struct parity_case {
        char file[32];
};

ParameterizedTestParameters(enriched, same_result_as_classifier_run)
{
        static struct parity_case cases[] = {
            {"guarantees.json"},
            {"territory.json"},
            {"zaporizhzhia.json"},
            {"hard_negatives.json"},
        };
        return cr_make_param_array(struct parity_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

/* The event's labels are the classifier's, but for the evidence: at most
 * NT_ENRICHED_MAX_EVIDENCE of its spans, in its order, and the count of
 * them all (the classifier writes up to NT_CLASSIFY_MAX_EVIDENCE). */
static void same_labels(const json_t *got, const json_t *want, const char *file,
                        size_t i)
{
        size_t k, e, at;

        cr_assert_eq(json_array_size(got), json_array_size(want),
                     "%s[%zu]: label count", file, i);
        for (k = 0; k < json_array_size(want); k++) {
                const json_t *g = json_array_get(got, k);
                const json_t *w = json_array_get(want, k);
                const json_t *gev = json_object_get(g, "evidence");
                const json_t *wev = json_object_get(w, "evidence");
                size_t n = json_array_size(wev);
                json_int_t total =
                    json_integer_value(json_object_get(g, "evidence_total"));
                static const char *const same[] = {"topic", "label", "score"};

                for (e = 0; e < 3; e++)
                        cr_assert(json_equal(json_object_get(g, same[e]),
                                             json_object_get(w, same[e])),
                                  "%s[%zu] label %zu: %s differs", file, i, k,
                                  same[e]);
                cr_assert(n < NT_CLASSIFY_MAX_EVIDENCE ? total == (json_int_t)n
                                                       : total >= (json_int_t)n,
                          "%s[%zu] label %zu: evidence_total %lld, classifier "
                          "%zu",
                          file, i, k, (long long)total, n);
                cr_assert_eq(
                    json_array_size(gev),
                    n < NT_ENRICHED_MAX_EVIDENCE ? n : NT_ENRICHED_MAX_EVIDENCE,
                    "%s[%zu] label %zu: %zu spans kept of %zu", file, i, k,
                    json_array_size(gev), n);
                /* Each span kept is one of the classifier's, in its order
                 * (spans past its 20 are not compared). */
                for (e = 0, at = 0; e < json_array_size(gev); e++) {
                        const json_t *span = json_array_get(gev, e);

                        while (at < n &&
                               !json_equal(span, json_array_get(wev, at)))
                                at++;
                        cr_assert(at < n || total > (json_int_t)n,
                                  "%s[%zu] label %zu: span %zu is not the "
                                  "classifier's (or out of order)",
                                  file, i, k, e);
                        at++;
                }
        }
}

ParameterizedTest(struct parity_case *tc, enriched,
                  same_result_as_classifier_run)
{
        static const char *const members[] = {"entities", "facts", "language",
                                              "fingerprint", "rules_version"};
        const char *dir = getenv("NT_FIXTURES");
        nt_classifier_t *c = nt_test_shipped_classifier();
        struct nt_enriched_opts o;
        char path[512];
        json_t *arr, *a;
        size_t i, k, labelled = 0;

        cr_assert(dir, "NT_FIXTURES is not set: run through ctest");
        snprintf(path, sizeof(path), "%s/articles/%s", dir, tc->file);
        arr = json_load_file(path, 0, NULL);
        cr_assert(json_array_size(arr) > 0, "%s", path);
        nt_enriched_opts_init(&o);
        json_array_foreach(arr, i, a)
        {
                const char *title =
                    json_string_value(json_object_get(a, "title"));
                const char *lead =
                    json_string_value(json_object_get(a, "lead"));
                const char *body =
                    json_string_value(json_object_get(a, "body"));
                struct nt_text_fields in = {
                    {title, lead, body},
                    {strlen(title), strlen(lead), strlen(body)}};
                struct nt_enriched_event ev;
                json_t *art, *want, *got;
                char *line;

                art = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "schema",
                                "newstap.article/1", "id",
                                "0123456789abcdef0123456789abcdef", "revision",
                                "0123456789abcdef", "title", title, "summary",
                                lead, "content", body);
                line = json_dumps(art, JSON_COMPACT);
                build(c, &o, line, &ev);
                cr_assert_eq(ev.reason, NT_ENRICHED_OK, "%s: %s", tc->file,
                             ev.error);
                got = json_loadb(ev.value.data, ev.value.len, 0, NULL);
                cr_assert_not_null(got, "%s[%zu]: the event is not JSON",
                                   tc->file, i);
                cr_assert_eq(nt_classifier_run(c, &in, &want, NULL, 0), 0);
                for (k = 0; k < sizeof(members) / sizeof(members[0]); k++) {
                        char *w = json_dumps(json_object_get(want, members[k]),
                                             JSON_ENCODE_ANY);
                        char *g = json_dumps(json_object_get(got, members[k]),
                                             JSON_ENCODE_ANY);

                        cr_assert(json_equal(json_object_get(want, members[k]),
                                             json_object_get(got, members[k])),
                                  "%s[%zu] %s: event %s, classifier %s",
                                  tc->file, i, members[k], g, w);
                        free(w);
                        free(g);
                }
                same_labels(json_object_get(got, "labels"),
                            json_object_get(want, "labels"), tc->file, i);
                labelled += json_array_size(json_object_get(want, "labels"));
                json_decref(want);
                json_decref(got);
                json_decref(art);
                free(line);
                nt_enriched_event_free(&ev);
        }
        if (strcmp(tc->file, "hard_negatives.json") != 0)
                cr_assert_gt(labelled, 0, "%s: some labels compared", tc->file);
        json_decref(arr);
        nt_classifier_destroy(c);
}

/* Strings are escaped as JSON wants: quotes, backslashes and control
 * characters in what the event copies from the rules and the text. */
Test(enriched, escapes_in_written_members)
{
        static const char input[] =
            "{\"schema\":\"newstap.article/1\","
            "\"id\":\"0123456789abcdef0123456789abcdef\","
            "\"revision\":\"0123456789abcdef\","
            "\"title\":\"\\\"Zaporizhzhia\\\"\\tnuclear\\u0001plant\\\\ "
            "loses power\","
            "\"summary\":\"The IAEA said \\\"six reactors\\\" are cold.\"}";
        nt_classifier_t *c = nt_test_shipped_classifier();
        struct nt_enriched_opts o;
        struct nt_enriched_event ev;
        json_error_t jerr;
        json_t *v;

        nt_enriched_opts_init(&o);
        build(c, &o, input, &ev);
        cr_assert_eq(ev.reason, NT_ENRICHED_OK, "%s", ev.error);
        v = json_loadb(ev.value.data, ev.value.len, 0, &jerr);
        cr_assert_not_null(v, "not JSON: %s: %s", jerr.text, ev.value.data);
        cr_assert_gt(json_array_size(json_object_get(v, "labels")), 0, "%s",
                     ev.value.data);
        json_decref(v);
        nt_enriched_event_free(&ev);
        nt_classifier_destroy(c);
}

/* Two topics of test rules: bread and flour make a bakery story, an
 * oven an oven story. */
static nt_classifier_t *bakery_rules(void)
{
        static const char text[] =
            "topic bakery {\n  label \"Bakeries\";\n  threshold 1;\n"
            "  match bread | flour | rye;\n}\n"
            "topic ovens {\n  label \"Ovens\";\n  threshold 1;\n"
            "  match oven;\n}\n";
        struct nt_rules_source src = {"bakery.rules", text, sizeof(text) - 1};
        struct nt_rules *r = NULL;
        nt_classifier_t *c;
        char errstr[512] = "";

        cr_assert_eq(nt_rules_parse(&src, 1, &r, NULL, errstr, sizeof(errstr)),
                     0, "%s", errstr);
        c = nt_classifier_new_from_rules(r, errstr, sizeof(errstr));
        cr_assert_not_null(c, "%s", errstr);
        return c;
}

/* A bakery story: "bread" in the title, then ten times in the body before
 * "oven", "flour" and "rye" come; a summary longer than a label record
 * keeps. */
static char *bakery_article(void)
{
        struct nt_buf body, summary;
        json_t *a;
        char *line;
        int i;

        nt_buf_init(&body, 1 << 16);
        nt_buf_init(&summary, 1 << 16);
        for (i = 0; i < 10; i++)
                nt_buf_append_str(&body, "They sell bread every day. ");
        nt_buf_append_str(&body, "The old oven still works. Flour comes from "
                                 "the mill next door, and the rye from "
                                 "further away.");
        for (i = 0; i < 12; i++)
                nt_buf_append_str(&summary,
                                  "A baker talks about the night shift. ");
        a = json_pack(
            "{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s}}", "schema",
            "newstap.article/1", "id", "0123456789abcdef0123456789abcdef",
            "revision", "0123456789abcdef", "url", "https://example.org/b/1",
            "title", "Fresh bread at the corner", "summary", summary.data,
            "content", body.data, "published", "2026-01-05T09:00:00Z", "feed",
            "url", "https://example.org/rss", "title", "Example News");
        cr_assert_not_null(a);
        line = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        nt_buf_free(&body);
        nt_buf_free(&summary);
        return line;
}

/* Of many spans, the event keeps one per term first, the title's first
 * (it weighs most), in text order, and counts them all. */
Test(enriched, best_evidence_kept)
{
        nt_classifier_t *c = bakery_rules();
        struct nt_enriched_opts o;
        struct nt_enriched_event ev;
        char *line = bakery_article();
        const json_t *lab, *evd;
        json_t *v;
        static const char *const want[][2] = {
            {"title", "bread"}, {"body", "Flour"}, {"body", "rye"}};
        size_t i;

        nt_enriched_opts_init(&o);
        build(c, &o, line, &ev);
        cr_assert_eq(ev.reason, NT_ENRICHED_OK, "%s", ev.error);
        v = json_loadb(ev.value.data, ev.value.len, 0, NULL);
        cr_assert_not_null(v);
        lab = json_array_get(json_object_get(v, "labels"), 0);
        nt_test_assert_json_str(lab, "topic", "bakery");
        cr_assert_eq(json_integer_value(json_object_get(lab, "evidence_total")),
                     13, "1 + 10 breads, flour, rye: %s", ev.value.data);
        evd = json_object_get(lab, "evidence");
        cr_assert_eq(json_array_size(evd), 3, "%s", ev.value.data);
        for (i = 0; i < 3; i++) {
                const json_t *e = json_array_get(evd, i);

                cr_assert_str_eq(json_string_value(json_object_get(e, "field")),
                                 want[i][0], "span %zu: %s", i, ev.value.data);
                cr_assert_str_eq(json_string_value(json_object_get(e, "text")),
                                 want[i][1], "span %zu: %s", i, ev.value.data);
        }
        json_decref(v);
        free(line);
        nt_enriched_event_free(&ev);
        nt_classifier_destroy(c);
}

/* Each label's topic gets a lean record: the article's identity, title
 * and a cut lead, every label's score, its own label's evidence with the
 * text around each span, and no body. */
Test(enriched, label_records)
{
        static const char *const order[] = {
            "schema",      "topic",         "article",
            "labels",      "entities",      "language",
            "fingerprint", "rules_version", "classified_at"};
        nt_classifier_t *c = bakery_rules();
        struct nt_enriched_opts o;
        struct nt_enriched_event ev;
        char *line = bakery_article();
        json_t *in = json_loads(line, 0, NULL);
        const char *content = json_string_value(json_object_get(in, "content"));
        const char *summary = json_string_value(json_object_get(in, "summary"));
        size_t i, k;

        nt_enriched_opts_init(&o);
        build(c, &o, line, &ev);
        cr_assert_eq(ev.reason, NT_ENRICHED_OK, "%s", ev.error);
        cr_assert_eq(ev.n_labels, 2);
        for (i = 0; i < ev.n_labels; i++) {
                const char *value, *key, *lead;
                const json_t *art, *labels, *member, *own = NULL;
                size_t len, m = 0;
                json_t *rec;

                nt_enriched_label(&ev, i, &value, &len);
                cr_assert_null(memchr(value, '\n', len), "one line");
                rec = json_loadb(value, len, 0, NULL);
                cr_assert_not_null(rec, "record %zu: %.*s", i, (int)len, value);
                cr_assert_lt(len, ev.value.len,
                             "record %zu is not lean: %zu bytes, event %zu", i,
                             len, ev.value.len);
                json_object_foreach(rec, key, member)
                {
                        cr_assert_lt(m, 9, "extra member %s", key);
                        cr_assert_str_eq(key, order[m], "member %zu", m);
                        m++;
                }
                nt_test_assert_json_str(rec, "schema", "newstap.label/1");
                nt_test_assert_json_str(rec, "topic", ev.labels[i]);
                art = json_object_get(rec, "article");
                nt_test_assert_json_str(art, "id", ev.id);
                nt_test_assert_json_str(art, "title",
                                        "Fresh bread at the corner");
                nt_test_assert_json_str(art, "published",
                                        "2026-01-05T09:00:00Z");
                cr_assert_str_eq(json_string_value(json_object_get(
                                     json_object_get(art, "feed"), "title")),
                                 "Example News");
                cr_assert_null(json_object_get(art, "content"));
                lead = json_string_value(json_object_get(art, "lead"));
                cr_assert_not_null(lead);
                cr_assert_leq(strlen(lead), NT_ENRICHED_LEAD_MAX + 3);
                cr_assert_gt(strlen(lead), NT_ENRICHED_LEAD_MAX / 2);
                cr_assert_str_eq(lead + strlen(lead) - 3, "\xE2\x80\xA6",
                                 "a cut lead ends in an ellipsis: %s", lead);
                cr_assert(strncmp(lead, summary, strlen(lead) - 3) == 0 &&
                              summary[strlen(lead) - 3] == ' ' &&
                              lead[strlen(lead) - 4] != ' ',
                          "cut after a word: %s", lead);
                labels = json_object_get(rec, "labels");
                cr_assert_eq(json_array_size(labels), 2);
                for (k = 0; k < 2; k++) {
                        const json_t *l = json_array_get(labels, k);
                        bool mine = strcmp(json_string_value(
                                               json_object_get(l, "topic")),
                                           ev.labels[i]) == 0;

                        cr_assert(json_is_number(json_object_get(l, "score")));
                        cr_assert_eq(json_object_get(l, "evidence") != NULL,
                                     mine,
                                     "only the record's own label has "
                                     "evidence");
                        if (mine)
                                own = l;
                }
                cr_assert_not_null(own);
                for (k = 0;
                     k < json_array_size(json_object_get(own, "evidence"));
                     k++) {
                        const json_t *e =
                            json_array_get(json_object_get(own, "evidence"), k);
                        const char *before =
                            json_string_value(json_object_get(e, "before"));
                        const char *after =
                            json_string_value(json_object_get(e, "after"));
                        json_int_t s =
                            json_integer_value(json_object_get(e, "start"));
                        json_int_t z =
                            json_integer_value(json_object_get(e, "end"));

                        cr_assert_not_null(before);
                        cr_assert_not_null(after);
                        if (strcmp(
                                json_string_value(json_object_get(e, "field")),
                                "body") != 0)
                                continue;
                        /* The context is the content's text around the
                         * span, 60 characters (ASCII here) at most. */
                        cr_assert_eq(strlen(before), s < NT_ENRICHED_CONTEXT
                                                         ? (size_t)s
                                                         : NT_ENRICHED_CONTEXT);
                        cr_assert(memcmp(content + s - strlen(before), before,
                                         strlen(before)) == 0,
                                  "before: %s", before);
                        cr_assert(strncmp(content + z, after, strlen(after)) ==
                                      0,
                                  "after: %s", after);
                }
                json_decref(rec);
        }
        json_decref(in);
        free(line);
        nt_enriched_event_free(&ev);
        nt_classifier_destroy(c);
}

/* The enum-name tables (nt_name_of()) have no hole: every value from 0 to
 * the enum's last has a name of its own, and the value past the last gets
 * the fallback. A value inserted into an enum without a name in its table
 * reads the fallback, which this catches (-Wswitch did, for the switches
 * the tables replaced); one appended after the last is not caught here. */
typedef const char *(*name_fn)(long v);

static const char *extract_name(long v)
{
        return nt_extract_method_name((enum nt_extract_method)v);
}
static const char *feed_name(long v)
{
        return nt_feed_format_name((enum nt_feed_format)v);
}
static const char *lang_name(long v)
{
        return nt_lang_name((enum nt_lang)v);
}
static const char *map_name(long v)
{
        return nt_enriched_map_name((enum nt_enriched_map_field)v);
}
static const char *reason_name(long v)
{
        return nt_enriched_reason_name((enum nt_enriched_reason)v);
}
static const char *field_name(long v)
{
        return nt_field_name((enum nt_field)v);
}
static const char *entity_name(long v)
{
        return nt_entity_type_name((enum nt_entity_type)v);
}

Test(enriched, enum_names_have_no_hole)
{
        static const struct {
                const char *what;
                name_fn name;
                long last;
                const char *fallback;
                long named_fallback; /* the value whose name it is, or -1 */
        } enums[] = {
            {"extract method", extract_name, NT_EXTRACT_DENSITY, "none", 0},
            {"feed format", feed_name, NT_FEED_JSONFEED11, "unknown", 0},
            {"language", lang_name, NT_LANG_RU, "other", 0},
            {"map field", map_name, NT_MAP_COUNT - 1, "?", -1},
            {"reason", reason_name, NT_ENRICHED_OUTPUT_REJECTED, "unknown", -1},
            {"field", field_name, NT_FIELD_COUNT - 1, "?", -1},
            {"entity type", entity_name, NT_ENTITY_ORG, "?", -1},
        };
        size_t e;
        long v, w;

        for (e = 0; e < sizeof(enums) / sizeof(enums[0]); e++) {
                cr_assert_str_eq(enums[e].name(enums[e].last + 1),
                                 enums[e].fallback, "%s past the last",
                                 enums[e].what);
                cr_assert_str_eq(enums[e].name(-1), enums[e].fallback, "%s -1",
                                 enums[e].what);
                for (v = 0; v <= enums[e].last; v++) {
                        const char *n = enums[e].name(v);

                        if (v != enums[e].named_fallback)
                                cr_assert_str_neq(n, enums[e].fallback,
                                                  "%s %ld has no name",
                                                  enums[e].what, v);
                        for (w = 0; w < v; w++)
                                cr_assert_str_neq(n, enums[e].name(w),
                                                  "%s %ld and %ld: \"%s\"",
                                                  enums[e].what, w, v, n);
                }
        }
}
