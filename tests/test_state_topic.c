/* The state topic's record values: a state encoded by
 * nt_state_topic_value() (newstap.feed-state/2, the seen-set packed)
 * reads back equal through nt_state_from_json(), so do records of /1
 * (the state file's JSON, written by earlier versions), and values that
 * are not a state of the record's key are refused. (The topic itself is
 * tested on the real broker: kafka_state_topic.c.) */
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
        cr_assert_not_null(strstr(value, "\"schema\":\"newstap.feed-state/2\""),
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

/* A seen-set as newstap fills it: n entries with 32-hex ids, 16-hex
 * revisions and times minutes apart (some equal). */
static void newstap_seen(struct nt_feed_state *st, int n)
{
        char id[33], rev[17];
        int i;

        for (i = 0; i < n; i++) {
                snprintf(id, sizeof(id), "%08x%08x%08x%08x", 0x9e3779b9u * i,
                         0x85ebca6bu ^ i, 0xc2b2ae35u * (i + 7), i);
                snprintf(rev, sizeof(rev), "%08x%08x", 0x27d4eb2fu * i,
                         0x165667b1u + i);
                cr_assert_eq(nt_state_mark_seen(
                                 st, id, rev, 1796630000000 + (i / 3) * 240000),
                             NT_OK);
        }
}

Test(state_topic, newstap_ids_pack_to_half_and_round_trip)
{
        struct nt_feed_state st, back;
        size_t len = 0, len1;
        json_t *v1;
        char *value, *value1;

        cr_assert_eq(nt_state_init(&st), NT_OK);
        st.etag = strdup("\"5f2a-61b0c3d2e8f00\"");
        st.last_success_ms = 1796632660000;
        newstap_seen(&st, 60);
        value = nt_state_topic_value(key, &st, &len);
        v1 = nt_state_to_json(key, &st);
        value1 = json_dumps(v1, JSON_COMPACT);
        len1 = strlen(value1);
        cr_assert_null(strstr(value, "seen_other"),
                       "newstap's ids all pack: %s", value);
        cr_assert_lt(len * 2, len1 + len1 / 10,
                     "packed %zu bytes against /1's %zu: not about half", len,
                     len1);
        cr_assert_eq(decode(value, len, key, &back), NT_OK, "%s", value);
        cr_assert(json_equal(back.seen, st.seen), "the seen-set");
        cr_assert_str_eq(back.etag, st.etag);
        cr_assert_eq(back.last_success_ms, st.last_success_ms);
        cr_assert_null(back.url, "a member left out reads as its default");
        free(value);
        free(value1);
        json_decref(v1);
        nt_state_free(&back);
        nt_state_free(&st);
}

Test(state_topic, packed_seen_set_has_its_documented_layout)
{
        /* Two entries, written by hand as docs/operations.md describes
         * them: id, revision, LEB128 of the time (from 0), then the next
         * entry with the distance from the first's time. */
        const char *value =
            "{\"schema\": \"newstap.feed-state/2\", \"key\": "
            "\"https://wire.example/rss\", \"seen\": "
            "\"ABEiM0RVZneImaq7zN3u/wEjRWeJq83vgOP4+6Q0/+7dzLuqmYh3ZlVEMyIRAP7"
            "cuph2VDIQ3As=\"}";
        struct nt_feed_state back;

        cr_assert_eq(decode(value, strlen(value), key, &back), NT_OK);
        cr_assert_eq(json_object_size(back.seen), 2);
        cr_assert(nt_state_seen(&back, "00112233445566778899aabbccddeeff",
                                "0123456789abcdef"));
        cr_assert(nt_state_seen(&back, "ffeeddccbbaa99887766554433221100",
                                "fedcba9876543210"));
        cr_assert_eq(
            json_integer_value(json_array_get(
                json_object_get(back.seen, "ffeeddccbbaa99887766554433221100"),
                1)),
            1796630001500);
        nt_state_free(&back);
}

Test(state_topic, entries_that_do_not_pack_are_kept_beside)
{
        struct nt_feed_state st, back;
        size_t len = 0;
        char *value;

        full_state(&st); /* ids of 16 digits, revisions of 4 */
        newstap_seen(&st, 5);
        cr_assert_eq(nt_state_mark_seen(&st, "0011223344556677889900AABBCCDDEE",
                                        "0123456789abcdef", 1796630000000),
                     NT_OK); /* upper-case: would not come back the same */
        cr_assert_eq(nt_state_mark_seen(&st, "00112233445566778899aabbccddeeff",
                                        "0123456789abcdef", -5),
                     NT_OK); /* a negative time */
        value = nt_state_topic_value(key, &st, &len);
        cr_assert_not_null(strstr(value, "\"seen_other\""), "%s", value);
        cr_assert_eq(decode(value, len, key, &back), NT_OK, "%s", value);
        cr_assert(json_equal(back.seen, st.seen), "the seen-set: %s", value);
        free(value);
        nt_state_free(&back);
        nt_state_free(&st);
}

Test(state_topic, records_of_schema_1_are_still_read)
{
        struct nt_feed_state st, back;
        json_t *v1;
        char *value;

        full_state(&st);
        newstap_seen(&st, 4);
        v1 = nt_state_to_json(key, &st);
        value = json_dumps(v1, JSON_COMPACT);
        cr_assert_not_null(
            strstr(value, "\"schema\":\"newstap.feed-state/1\""));
        cr_assert_eq(decode(value, strlen(value), key, &back), NT_OK, "%s",
                     value);
        cr_assert(json_equal(back.seen, st.seen), "the seen-set");
        assert_str_or_null(back.last_error, st.last_error, "last_error");
        cr_assert_eq(back.next_poll_ms, st.next_poll_ms);
        free(value);
        json_decref(v1);
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
#define V2                                                 \
        "{\"schema\": \"newstap.feed-state/2\", \"key\": " \
        "\"https://wire.example/rss\", "
    {"/2: a seen-set that is an object", V2 "\"seen\": {}}"},
    {"/2: no seen-set", V2 "\"etag\": \"x\"}"},
    {"/2: a seen-set that is not base64", V2 "\"seen\": \"!!!!\"}"},
    {"/2: base64 without its padding", V2 "\"seen\": \"ABEiM0RVZneImaq7zN3u/"
                                          "wEjRWeJq83vBQ\"}"},
    {"/2: bits after the last byte", V2 "\"seen\": \"AB==\"}"},
    {"/2: an entry cut short", V2 "\"seen\": \"ABEiM0RVZneImaq7zN3u/"
                                  "wEjRWc=\"}"},
    {"/2: a time that does not end",
     V2 "\"seen\": \"ABEiM0RVZneImaq7zN3u/wEjRWeJq83vgA==\"}"},
    {"/2: an id both packed and beside",
     V2 "\"seen\": \"ABEiM0RVZneImaq7zN3u/wEjRWeJq83vBQ==\", \"seen_other\": "
        "{\"00112233445566778899aabbccddeeff\": [\"r\", 1]}}"},
    {"/2: seen_other that is not an object",
     V2 "\"seen\": \"\", \"seen_other\": [1]}"},
#undef V2
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
