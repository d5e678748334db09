/* Rendering and filtering of `newstap tail`: the pretty view with its
 * highlighted evidence, JSON lines, kcat-style format strings, and the
 * score, entity, language, text and --since filters, and kcat's starts
 * as -o and --offset read them. */
#include "common/buf.h"
#include "common/err.h"
#include "consumer/tail.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <string.h>

/* "security guarantees" is bytes 15..34 of the title; "Paris" bytes
 * 12..17 of the summary. */
static const char event[] =
    "{\"schema\":\"newstap.enriched/1\",\"article\":{\"schema\":"
    "\"newstap.article/1\",\"id\":\"0123456789abcdef0123456789abcdef\","
    "\"revision\":\"0123456789abcdef\",\"title\":\"Allies outline security "
    "guarantees for Ukraine\",\"summary\":\"Leaders met in Paris to agree "
    "on the next steps.\",\"url\":\"https://news.example/a\",\"published\":"
    "\"2026-01-05T10:00:00Z\",\"language\":\"en-GB\"},\"labels\":[{\"topic\":"
    "\"guarantees\",\"label\":\"Security guarantees for Ukraine\",\"score\":6,"
    "\"evidence\":[{\"field\":\"title\",\"start\":15,\"end\":34,\"text\":"
    "\"security guarantees\",\"rule\":\"guarantees\"}]},{\"topic\":"
    "\"territory\",\"label\":\"Territory\",\"score\":3.5,\"evidence\":[{"
    "\"field\":\"lead\",\"start\":12,\"end\":17,\"text\":\"Paris\",\"rule\":"
    "\"territory\"}]}],\"entities\":[{\"name\":\"Paris\",\"type\":\"place\","
    "\"count\":1}],\"facts\":[],\"language\":\"en\",\"fingerprint\":"
    "\"0123456789abcdef\",\"rules_version\":\"fedcba9876543210\","
    "\"classified_at\":\"2026-01-05T10:00:05Z\"}";

static const char *hdrs[] = {"ce_id", "news.raw/0/7", "content-type",
                             "application/json"};

static struct nt_tail_record record_of(const char *value)
{
        struct nt_tail_record rec;

        memset(&rec, 0, sizeof(rec));
        rec.topic = "news.topic.guarantees";
        rec.partition = 2;
        rec.offset = 41;
        rec.key = "0123456789abcdef0123456789abcdef";
        rec.key_len = 32;
        rec.timestamp_ms = 1767607200000LL;
        rec.value = value;
        rec.value_len = strlen(value);
        rec.headers = hdrs;
        rec.n_headers = 2;
        return rec;
}

/* Renders the event with the given options; returns the render code and
 * the text in *out (caller frees the buffer). */
static int render(const struct nt_tail_opts *o, const char *value,
                  struct nt_buf *out)
{
        struct nt_tail_record rec = record_of(value);

        nt_buf_init(out, 1 << 20);
        return nt_tail_render(o, &rec, out, NULL);
}

/* Renders the event pretty (in colour when `color`; following only the
 * topic of `label` unless it is NULL) into *out (caller frees the
 * buffer); the event must be shown. */
static void render_pretty(const char *value, bool color, const char *label,
                          struct nt_buf *out)
{
        struct nt_tail_opts o;

        nt_tail_opts_init(&o);
        o.output = NT_TAIL_PRETTY;
        o.color = color;
        o.labels = label ? &label : NULL;
        o.n_labels = label ? 1 : 0;
        cr_assert_eq(render(&o, value, out), 1, "the event is not shown");
}

/* Fails unless the rendered text holds `want`. */
static void assert_shows(const struct nt_buf *out, const char *want)
{
        cr_assert(strstr(out->data, want), "\"%s\" is not in:\n%s", want,
                  out->data);
}

Test(tail, pretty_without_colour_marks_the_match)
{
        struct nt_buf out;

        render_pretty(event, false, NULL, &out);
        assert_shows(&out, "2026-01-05 10:00Z");
        assert_shows(&out, "guarantees 6.0");
        assert_shows(&out, "territory 3.5");
        assert_shows(&out, "Allies outline »security guarantees« for "
                           "Ukraine");
        assert_shows(&out, "https://news.example/a\n");
        cr_assert_null(strchr(out.data, '\033'), "no colour: %s", out.data);
        nt_buf_free(&out);
}

Test(tail, pretty_with_colour)
{
        struct nt_buf out;

        render_pretty(event, true, NULL, &out);
        assert_shows(&out, "\033[0m");
        assert_shows(&out, "security guarantees");
        cr_assert_null(strstr(out.data, "»"), "%s", out.data);
        nt_buf_free(&out);
}

Test(tail, pretty_snippet_of_the_followed_label_in_the_lead)
{
        struct nt_buf out;

        render_pretty(event, false, "territory", &out);
        assert_shows(&out, "  Leaders met in »Paris« to agree on the "
                           "next steps.\n");
        nt_buf_free(&out);
}

Test(tail, pretty_finds_evidence_whose_offsets_are_off)
{
        struct nt_buf out;
        char *moved = strdup(event);
        char *at = strstr(moved, "\"start\":15,\"end\":34");

        cr_assert_not_null(at);
        memcpy(at, "\"start\":10,\"end\":29", 19);
        render_pretty(moved, false, NULL, &out);
        assert_shows(&out, "»security guarantees«");
        nt_buf_free(&out);
        free(moved);
}

/* A label record (newstap.label/1) on the territory topic: no body, a
 * cut lead, the territory label's body evidence with its context. */
static const char label_record[] =
    "{\"schema\":\"newstap.label/1\",\"topic\":\"territory\",\"article\":{"
    "\"id\":\"0123456789abcdef0123456789abcdef\",\"revision\":"
    "\"0123456789abcdef\",\"url\":\"https://news.example/a\",\"title\":"
    "\"Allies outline security guarantees for Ukraine\",\"published\":"
    "\"2026-01-05T10:00:00Z\",\"language\":\"en-GB\",\"feed\":{\"url\":"
    "\"https://news.example/rss\",\"title\":\"Example\"},\"lead\":\"Leaders "
    "met in Paris to agree on the next\xE2\x80\xA6\"},\"labels\":[{\"topic\":"
    "\"guarantees\",\"label\":\"Security guarantees for Ukraine\",\"score\":"
    "6},{\"topic\":\"territory\",\"label\":\"Territory\",\"score\":3.5,"
    "\"evidence_total\":4,\"evidence\":[{\"field\":\"body\",\"start\":400,"
    "\"end\":414,\"text\":\"occupied areas\",\"rule\":\"occupied\","
    "\"before\":\"the talks turned to the \",\"after\":\" in the south.\"}]}],"
    "\"entities\":[{\"name\":\"Paris\",\"type\":\"place\",\"count\":1}],"
    "\"language\":\"en\",\"fingerprint\":\"0123456789abcdef\","
    "\"rules_version\":\"fedcba9876543210\",\"classified_at\":"
    "\"2026-01-05T10:00:05Z\"}";

/* The snippet of a label record's body evidence comes from the context
 * it carries; the labels line and the title are the event's. */
Test(tail, pretty_label_record_shows_its_evidence_in_context)
{
        struct nt_buf out;

        render_pretty(label_record, false, NULL, &out);
        assert_shows(&out, "2026-01-05 10:00Z  guarantees 6.0  "
                           "territory 3.5\n");
        assert_shows(&out, "\n  Allies outline security guarantees "
                           "for Ukraine\n");
        assert_shows(&out, "https://news.example/a\n");
        assert_shows(&out, "  …the talks turned to the »occupied "
                           "areas« in the south.\n");
        nt_buf_free(&out);
}

/* Body evidence of a label record is shown where it is, from its
 * context, even when its words also occur in the title. */
Test(tail, pretty_label_record_evidence_stays_in_the_body)
{
        static const char from[] = "\"end\":414,\"text\":\"occupied areas\"";
        static const char to[] = "\"end\":419,\"text\":\"security guarantees\"";
        struct nt_buf out, moved;
        const char *at = strstr(label_record, from);

        cr_assert_not_null(at);
        nt_buf_init(&moved, 1 << 16);
        nt_buf_append(&moved, label_record, (size_t)(at - label_record));
        nt_buf_append_str(&moved, to);
        nt_buf_append_str(&moved, at + strlen(from));
        render_pretty(moved.data, false, NULL, &out);
        cr_assert(strstr(out.data, "\n  Allies outline security guarantees "
                                   "for Ukraine\n"),
                  "the title is not highlighted: %s", out.data);
        assert_shows(&out, "  …the talks turned to the »security "
                           "guarantees« in the south.\n");
        nt_buf_free(&out);
        nt_buf_free(&moved);
}

struct record_filter_case {
        char name[40];
        double min_score;
        char entity[16];
        char lang[8];
        char grep[32];
        char format[40];
        char want[64];
};

ParameterizedTestParameters(tail, label_record_filters_and_fields)
{
        static struct record_filter_case cases[] = {
            {"min score of another label", 6, "", "", "", "", "1"},
            {"min score missed", 7, "", "", "", "", ""},
            {"entity", -1, "PARIS", "", "", "", "1"},
            {"language", -1, "", "en", "", "", "1"},
            {"feed language tag", -1, "", "uk", "", "", ""},
            {"grep in the lead", -1, "", "", "agree on", "", "1"},
            {"grep absent", -1, "", "", "south", "", ""},
            {"format fields", -1, "", "", "", "%{score:territory} %{labels}",
             "3.5 guarantees,territory"},
            {"format published and id", -1, "", "", "", "%{published} %{id}",
             "2026-01-05T10:00:00Z 0123456789abcdef0123456789abcdef"},
        };
        return cr_make_param_array(struct record_filter_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

/* Filters and format fields read a label record as they read an event.
 * want: "1" shown (JSON lines), "" filtered out, else the format's text. */
ParameterizedTest(struct record_filter_case *c, tail,
                  label_record_filters_and_fields)
{
        struct nt_tail_opts o;
        struct nt_buf out;
        int rc;

        nt_tail_opts_init(&o);
        o.output = c->format[0] ? NT_TAIL_FORMAT : NT_TAIL_JSONL;
        o.format = c->format;
        o.min_score = c->min_score;
        o.entity = c->entity[0] ? c->entity : NULL;
        o.lang = c->lang[0] ? c->lang : NULL;
        o.grep = c->grep[0] ? c->grep : NULL;
        rc = render(&o, label_record, &out);
        if (c->format[0]) {
                cr_assert_eq(rc, 1, "case: %s", c->name);
                cr_assert_str_eq(out.data, c->want, "case: %s", c->name);
        } else {
                cr_assert_eq(rc, c->want[0] ? 1 : 0, "case: %s", c->name);
        }
        nt_buf_free(&out);
}

Test(tail, jsonl_is_the_value_on_one_line)
{
        struct nt_tail_opts o;
        struct nt_buf out;
        const char *multi = "{\n  \"schema\": \"newstap.enriched/1\",\n"
                            "  \"article\": {\"title\": \"T\"}\n}";

        nt_tail_opts_init(&o);
        o.output = NT_TAIL_JSONL;
        cr_assert_eq(render(&o, event, &out), 1);
        cr_assert_eq(out.len, strlen(event) + 1);
        cr_assert_eq(memcmp(out.data, event, strlen(event)), 0);
        cr_assert_eq(out.data[out.len - 1], '\n');
        nt_buf_free(&out);
        cr_assert_eq(render(&o, multi, &out), 1);
        cr_assert_str_eq(out.data, "{\"schema\":\"newstap.enriched/1\","
                                   "\"article\":{\"title\":\"T\"}}\n");
        nt_buf_free(&out);
}

struct fmt_case {
        char format[128];
        char want[256];
};

ParameterizedTestParameters(tail, format_tokens)
{
        static struct fmt_case cases[] = {
            {"%t %p %o\\n", "news.topic.guarantees 2 41\n"},
            {"%k|%T", "0123456789abcdef0123456789abcdef|1767607200000"},
            {"%h", "ce_id=news.raw/0/7,content-type=application/json"},
            {"%{title}\\t%{url}",
             "Allies outline security guarantees for Ukraine\t"
             "https://news.example/a"},
            {"%{labels}", "guarantees,territory"},
            {"%{score:guarantees} %{score:territory} %{score:other}",
             "6 3.5 0"},
            {"%{id} %{published}",
             "0123456789abcdef0123456789abcdef 2026-01-05T10:00:00Z"},
            {"100%% of %p", "100% of 2"},
            {"plain\\\\text", "plain\\text"},
        };
        return cr_make_param_array(struct fmt_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct fmt_case *c, tail, format_tokens)
{
        struct nt_tail_opts o;
        struct nt_buf out;
        char errstr[256];

        cr_assert_eq(nt_tail_check_format(c->format, errstr, sizeof(errstr)),
                     NT_OK, "format \"%s\": %s", c->format, errstr);
        nt_tail_opts_init(&o);
        o.output = NT_TAIL_FORMAT;
        o.format = c->format;
        cr_assert_eq(render(&o, event, &out), 1, "format \"%s\"", c->format);
        cr_assert_str_eq(out.data, c->want, "format \"%s\"", c->format);
        nt_buf_free(&out);
}

Test(tail, format_size_token)
{
        struct nt_tail_opts o;
        struct nt_buf out;
        char want[32];

        nt_tail_opts_init(&o);
        o.output = NT_TAIL_FORMAT;
        o.format = "%S";
        cr_assert_eq(render(&o, event, &out), 1);
        snprintf(want, sizeof(want), "%zu", strlen(event));
        cr_assert_str_eq(out.data, want);
        nt_buf_free(&out);
}

struct bad_case {
        char format[64];
        char names[32];
};

ParameterizedTestParameters(tail, bad_formats)
{
        static struct bad_case cases[] = {
            {"%x", "%x"},
            {"%{nope}", "%{nope}"},
            {"%{score:}", "%{score:}"},
            {"%{title", "%{"},
        };
        return cr_make_param_array(struct bad_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_case *c, tail, bad_formats)
{
        char errstr[256];

        cr_assert_eq(nt_tail_check_format(c->format, errstr, sizeof(errstr)),
                     NT_ERR_USAGE, "format \"%s\" accepted", c->format);
        cr_assert(strstr(errstr, c->names), "format \"%s\": %s", c->format,
                  errstr);
}

struct filter_case {
        char name[32];
        double min_score;
        char entity[32];
        char lang[8];
        char grep[48];
        char label[16];
        int want;
        char event[96]; /* "": the shared event above */
};

#define KYIV_EVENT \
        "{\"article\":{\"title\":\"КИЇВ ВІДКИДАЄ ВИМОГУ\"},\"labels\":[]}"
#define UK_UA_EVENT \
        "{\"article\":{\"title\":\"T\",\"language\":\"uk-UA\"},\"labels\":[]}"

ParameterizedTestParameters(tail, filters)
{
        static struct filter_case cases[] = {
            {"no filter", -1, "", "", "", "", 1, ""},
            {"min score met", 6, "", "", "", "", 1, ""},
            {"min score missed", 6.5, "", "", "", "", 0, ""},
            {"min score of the followed label", 4, "", "", "", "territory", 0,
             ""},
            {"entity any case", -1, "paris", "", "", "", 1, ""},
            {"entity absent", -1, "London", "", "", "", 0, ""},
            {"language of the event", -1, "", "EN", "", "", 1, ""},
            {"language mismatch", -1, "", "uk", "", "", 0, ""},
            {"grep in title, any case", -1, "", "", "SECURITY Guarantees", "",
             1, ""},
            {"grep in summary", -1, "", "", "next steps", "", 1, ""},
            {"grep absent", -1, "", "", "withdrawal", "", 0, ""},
            {"all together", 5, "PARIS", "en", "allies", "", 1, ""},
            {"grep folds Cyrillic case", -1, "", "", "київ", "", 1, KYIV_EVENT},
            {"grep absent in Cyrillic", -1, "", "", "москва", "", 0,
             KYIV_EVENT},
            {"the feed's language tag counts", -1, "", "uk", "", "", 1,
             UK_UA_EVENT},
            {"a prefix is not a language", -1, "", "u", "", "", 0, UK_UA_EVENT},
        };
        return cr_make_param_array(struct filter_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct filter_case *c, tail, filters)
{
        struct nt_tail_opts o;
        struct nt_buf out;
        const char *labels[1];

        nt_tail_opts_init(&o);
        o.output = NT_TAIL_JSONL;
        o.min_score = c->min_score;
        o.entity = c->entity[0] ? c->entity : NULL;
        o.lang = c->lang[0] ? c->lang : NULL;
        o.grep = c->grep[0] ? c->grep : NULL;
        if (c->label[0]) {
                labels[0] = c->label;
                o.labels = labels;
                o.n_labels = 1;
        }
        cr_assert_eq(render(&o, c->event[0] ? c->event : event, &out), c->want,
                     "case: %s", c->name);
        nt_buf_free(&out);
}

Test(tail, records_that_are_not_events)
{
        struct nt_tail_opts o;
        struct nt_tail_record rec = record_of("not json at all");
        struct nt_buf out;
        const char *why = NULL;

        nt_buf_init(&out, 1 << 20);
        nt_tail_opts_init(&o);
        o.output = NT_TAIL_PRETTY;
        cr_assert_eq(nt_tail_render(&o, &rec, &out, &why), 0);
        cr_assert_not_null(why);
        cr_assert_eq(out.len, 0);
        o.output = NT_TAIL_FORMAT;
        o.format = "%o:%s:%{title}";
        cr_assert_eq(nt_tail_render(&o, &rec, &out, &why), 1,
                     "a format string shows any record");
        cr_assert_str_eq(out.data, "41:not json at all:");
        nt_buf_free(&out);
}

/* --since shows what was published at or after the time (the record time
 * only found where to start), else what was written then. */
struct since_case {
        char name[64];
        char value[160]; /* an event */
        int64_t ts;      /* record time, -1: none */
        int64_t since;
        int want;
};

/* 2026-01-05T10:00:00Z */
#define T10 1767607200000LL

ParameterizedTestParameters(tail, since_filters_on_the_published_time)
{
        static struct since_case cases[] = {
            {"published after",
             "{\"article\":{\"published\":"
             "\"2026-01-05T10:00:00Z\"}}",
             T10, T10 - 3600000, 1},
            {"published exactly then",
             "{\"article\":{\"published\":"
             "\"2026-01-05T10:00:00Z\"}}",
             T10, T10, 1},
            {"published before",
             "{\"article\":{\"published\":"
             "\"2026-01-05T10:00:00Z\"}}",
             T10, T10 + 1000, 0},
            {"an old article written now",
             "{\"article\":{\"published\":"
             "\"2025-01-05T10:00:00Z\"}}",
             T10, T10 - 7200000, 0},
            {"no published time: the record's", "{\"article\":{}}", T10,
             T10 - 1000, 1},
            {"no published time, written before", "{\"article\":{}}", T10,
             T10 + 1000, 0},
            {"an unreadable published time",
             "{\"article\":{\"published\":"
             "\"yesterday\"}}",
             T10, T10 - 1000, 1},
            {"no time at all", "{\"article\":{}}", -1, T10, 1},
        };
        return cr_make_param_array(struct since_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct since_case *c, tail,
                  since_filters_on_the_published_time)
{
        struct nt_tail_opts o;
        struct nt_tail_record rec = record_of(c->value);
        struct nt_buf out;

        nt_tail_opts_init(&o);
        o.output = NT_TAIL_JSONL;
        o.since_ms = c->since;
        rec.timestamp_ms = c->ts;
        nt_buf_init(&out, 1 << 20);
        cr_assert_eq(nt_tail_render(&o, &rec, &out, NULL), c->want, "case: %s",
                     c->name);
        nt_buf_free(&out);
}

struct start_case {
        char text[32];
        int ok;
        bool beginning, end;
        int64_t last_n, offset, since;
};

ParameterizedTestParameters(tail, starts)
{
        static struct start_case cases[] = {
            {"beginning", 1, true, false, 0, -1, INT64_MIN},
            {"end", 1, false, true, 0, -1, INT64_MIN},
            {"-10", 1, false, false, 10, -1, INT64_MIN},
            {"42", 1, false, false, 0, 42, INT64_MIN},
            {"0", 1, false, false, 0, 0, INT64_MIN},
            {"@2h", 1, false, false, 0, -1, T10 - 7200000},
            {"s@1767607200000", 1, false, false, 0, -1, T10},
            {"@2026-01-05T09:00:00Z", 1, false, false, 0, -1, T10 - 3600000},
            {"-0", 0, false, false, 0, -1, INT64_MIN},
            {"-", 0, false, false, 0, -1, INT64_MIN},
            {"--5", 0, false, false, 0, -1, INT64_MIN},
            {"", 0, false, false, 0, -1, INT64_MIN},
            {"@", 0, false, false, 0, -1, INT64_MIN},
            {"s@", 0, false, false, 0, -1, INT64_MIN},
            {"@soon", 0, false, false, 0, -1, INT64_MIN},
            {"10x", 0, false, false, 0, -1, INT64_MIN},
            {"Beginning", 0, false, false, 0, -1, INT64_MIN},
            {"stored", 0, false, false, 0, -1, INT64_MIN},
        };
        return cr_make_param_array(struct start_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct start_case *c, tail, starts)
{
        struct nt_tail_opts o;
        int rc;

        nt_tail_opts_init(&o);
        o.from_beginning = true; /* an earlier start is replaced */
        rc = nt_tail_parse_start(c->text, T10, &o);
        if (!c->ok) {
                cr_assert_neq(rc, 0, "\"%s\" is not a start", c->text);
                return;
        }
        cr_assert_eq(rc, 0, "\"%s\"", c->text);
        cr_assert_eq(o.from_beginning, c->beginning, "\"%s\"", c->text);
        cr_assert_eq(o.from_end, c->end, "\"%s\"", c->text);
        cr_assert_eq(o.last_n, c->last_n, "\"%s\"", c->text);
        cr_assert_eq(o.start_offset, c->offset, "\"%s\"", c->text);
        cr_assert_eq(o.since_ms, c->since, "\"%s\"", c->text);
        cr_assert(nt_tail_start_given(&o), "\"%s\"", c->text);
}
