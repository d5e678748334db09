/* The state topic's record values: a state encoded by
 * nt_state_topic_value() reads back equal through nt_state_from_json(),
 * and values that are not a state of the record's key are refused. (The
 * topic itself is tested on the real broker: kafka_state_topic.c.) */
#include "common/err.h"
#include "producer/state_topic.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *const key = "https://wire.example/rss";

/* A state with every member set, and a seen-set of three articles. */
static void full_state(struct nt_feed_state *st)
{
        cr_assert_eq(nt_state_init(st), NT_OK);
        st->url = strdup("https://wire.example/rss?moved=1");
        st->etag = strdup("W/\"5e1f-3a\"");
        st->last_modified = strdup("Mon, 07 Dec 2026 09:12:40 GMT");
        st->failures = 2;
        st->next_poll_ms = 1796633560000;
        st->last_success_ms = 1796632660000;
        st->disabled = true;
        st->last_error = strdup("HTTP 503 from wire.example (Grüße)");
        cr_assert_eq(
            nt_state_mark_seen(st, "a1f3c09e2b7d4410", "r4c1", 1796630000000),
            NT_OK);
        cr_assert_eq(
            nt_state_mark_seen(st, "09be44f1c3a2d5e7", "r77a", 1796631000000),
            NT_OK);
        cr_assert_eq(
            nt_state_mark_seen(st, "ffee00aa11bb22cc", "r001", 1796632000000),
            NT_OK);
}

/* full_state() into st, and its record value under `key` (caller frees;
 * *len is its length). */
static char *full_state_value(struct nt_feed_state *st, size_t *len)
{
        char *value;

        full_state(st);
        value = nt_state_topic_value(key, st, len);
        cr_assert_not_null(value);
        return value;
}

/* The value's bytes as a state of `k`, into a fresh state. */
static int decode(const char *value, size_t len, const char *k,
                  struct nt_feed_state *st)
{
        json_error_t jerr;
        json_t *root = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
        int err;

        cr_assert_eq(nt_state_init(st), NT_OK);
        if (!root)
                return NT_ERR_PARSE;
        err = nt_state_from_json(root, k, st);
        json_decref(root);
        return err;
}

static void assert_str_or_null(const char *got, const char *want,
                               const char *what)
{
        if (!want)
                cr_assert_null(got, "%s: expected NULL, got %s", what, got);
        else
                cr_assert_str_eq(got, want, "%s", what);
}

Test(state_topic, value_round_trips_every_member)
{
        struct nt_feed_state st, back;
        size_t len = 0;
        char *value;

        value = full_state_value(&st, &len);
        cr_assert_eq(len, strlen(value), "the length is the JSON's");
        cr_assert_null(strchr(value, '\n'), "compact JSON: %s", value);
        cr_assert_not_null(strstr(value, "\"schema\":\"newstap.feed-state/1\""),
                           "%s", value);
        cr_assert_eq(decode(value, len, key, &back), NT_OK, "%s", value);
        assert_str_or_null(back.url, st.url, "url");
        assert_str_or_null(back.etag, st.etag, "etag");
        assert_str_or_null(back.last_modified, st.last_modified,
                           "last_modified");
        assert_str_or_null(back.last_error, st.last_error, "last_error");
        cr_assert_eq(back.failures, 2);
        cr_assert_eq(back.next_poll_ms, st.next_poll_ms);
        cr_assert_eq(back.last_success_ms, st.last_success_ms);
        cr_assert(back.disabled);
        cr_assert(json_equal(back.seen, st.seen), "the seen-set");
        cr_assert(nt_state_seen(&back, "09be44f1c3a2d5e7", "r77a"));
        cr_assert(!nt_state_seen(&back, "09be44f1c3a2d5e7", "r77b"));
        free(value);
        nt_state_free(&back);
        nt_state_free(&st);
}

Test(state_topic, fresh_state_round_trips_with_nulls)
{
        struct nt_feed_state st, back;
        size_t len = 0;
        char *value;

        cr_assert_eq(nt_state_init(&st), NT_OK);
        value = nt_state_topic_value(key, &st, &len);
        cr_assert_not_null(value);
        cr_assert_eq(decode(value, len, key, &back), NT_OK, "%s", value);
        cr_assert_null(back.url);
        cr_assert_null(back.etag);
        cr_assert_null(back.last_error);
        cr_assert_eq(back.failures, 0);
        cr_assert(!back.disabled);
        cr_assert_eq(json_object_size(back.seen), 0);
        free(value);
        nt_state_free(&back);
        nt_state_free(&st);
}

/* Values a reader of the topic must refuse for `key`. */
static const struct {
        const char *name;
        const char *value;
} garbage[] = {
    {"a JSON array", "[1, 2, 3]"},
    {"another schema",
     "{\"schema\": \"newstap.feed/1\", \"key\": \"https://wire.example/rss\", "
     "\"seen\": {}}"},
    {"no schema", "{\"key\": \"https://wire.example/rss\", \"seen\": {}}"},
    {"another feed's key", "{\"schema\": \"newstap.feed-state/1\", \"key\": "
                           "\"https://other.example/rss\", \"seen\": {}}"},
    {"no key", "{\"schema\": \"newstap.feed-state/1\", \"seen\": {}}"},
    {"a seen-set that is not an object",
     "{\"schema\": \"newstap.feed-state/1\", \"key\": "
     "\"https://wire.example/rss\", \"seen\": [\"a\"]}"},
    {"a seen entry without its time",
     "{\"schema\": \"newstap.feed-state/1\", \"key\": "
     "\"https://wire.example/rss\", \"seen\": {\"a1\": [\"r1\"]}}"},
};

Test(state_topic, garbage_values_are_refused_and_leave_the_state)
{
        size_t i;

        for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++) {
                struct nt_feed_state st;
                json_error_t jerr;
                json_t *root =
                    json_loads(garbage[i].value, JSON_REJECT_DUPLICATES, &jerr);

                full_state(&st);
                cr_assert_not_null(root, "%s: %s", garbage[i].name, jerr.text);
                cr_assert_eq(nt_state_from_json(root, key, &st), NT_ERR_PARSE,
                             "%s: accepted", garbage[i].name);
                cr_assert_eq(st.failures, 2, "%s: the state changed",
                             garbage[i].name);
                cr_assert_eq(json_object_size(st.seen), 3,
                             "%s: the seen-set changed", garbage[i].name);
                json_decref(root);
                nt_state_free(&st);
        }
}

Test(state_topic, value_is_for_its_key_only)
{
        struct nt_feed_state st, back;
        size_t len = 0;
        char *value;

        value = full_state_value(&st, &len);
        cr_assert_eq(decode(value, len, "https://wire.example/rss2", &back),
                     NT_ERR_PARSE, "a state read under another key");
        nt_state_free(&back);
        free(value);
        nt_state_free(&st);
}
