/* The feeds topic's pure parts: the key of a feed, the checks a spec
 * passes before it is written, and the difference between two views. */
#include "common/config.h"
#include "common/err.h"
#include "producer/feeds_topic.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(feeds_topic, key_is_canonical_without_credentials)
{
        char *k = nt_feeds_topic_key(
            "HTTPS://${env:U}:${env:P}@Wire.Example:443/feed?utm_source=x#top");

        cr_assert_not_null(k);
        cr_assert_str_eq(k, "https://wire.example/feed");
        free(k);
        cr_assert_null(nt_feeds_topic_key("ftp://wire.example/feed"));
}

static size_t check(const char *json, struct nt_config_report *r)
{
        json_error_t jerr;
        json_t *spec = json_loads(json, 0, &jerr);
        size_t n;

        cr_assert_not_null(spec, "%s: %s", json, jerr.text);
        nt_config_report_init(r);
        n = nt_feeds_topic_check_spec(spec, "feeds add", 60000, r);
        json_decref(spec);
        return n;
}

Test(feeds_topic, check_spec)
{
        struct nt_config_report r;

        cr_assert_eq(check("{\"url\": \"https://a.example/rss\", \"headers\": "
                           "{\"Authorization\": \"Bearer ${env:T}\"}}",
                           &r),
                     0, "%s", nt_buf_str(&r.text));
        nt_config_report_free(&r);
        cr_assert_eq(check("{\"url\": \"https://a.example/rss\", \"headers\": "
                           "{\"Authorization\": \"Bearer abc123\"}}",
                           &r),
                     1);
        cr_assert_not_null(strstr(nt_buf_str(&r.text), "feeds add: "
                                                       "https://a.example/rss:"
                                                       " header Authorization"),
                           "%s", nt_buf_str(&r.text));
        cr_assert_null(strstr(nt_buf_str(&r.text), "abc123"));
        nt_config_report_free(&r);
        cr_assert_eq(check("{\"url\": \"https://u:pw@a.example/rss\"}", &r), 1);
        cr_assert_null(strstr(nt_buf_str(&r.text), "pw@"), "%s",
                       nt_buf_str(&r.text));
        nt_config_report_free(&r);
        cr_assert_eq(check("{\"url\": \"https://a.example/rss\", \"interval\": "
                           "\"5s\"}",
                           &r),
                     1, "below producer.min_interval");
        nt_config_report_free(&r);
        cr_assert_eq(check("{\"url\": \"https://a.example/rss\", \"colour\": "
                           "\"red\"}",
                           &r),
                     1, "an unknown member");
        nt_config_report_free(&r);
}

Test(feeds_topic, diff)
{
        json_t *view =
            json_pack("{s:{s:s}, s:{s:s}, s:{s:s}}", "https://a/", "url",
                      "https://a/", "https://b/", "url", "https://b/",
                      "https://c/", "url", "https://c/");
        json_t *want =
            json_pack("{s:{s:s}, s:{s:s, s:s}, s:{s:s}}", "https://a/", "url",
                      "https://a/", "https://b/", "url", "https://b/", "name",
                      "B", "https://d/", "url", "https://d/");
        json_t *added, *changed, *removed;

        cr_assert_eq(
            nt_feeds_topic_diff(view, want, &added, &changed, &removed), NT_OK);
        cr_assert_eq(json_array_size(added), 1);
        cr_assert_str_eq(json_string_value(json_array_get(added, 0)),
                         "https://d/");
        cr_assert_eq(json_array_size(changed), 1);
        cr_assert_str_eq(json_string_value(json_array_get(changed, 0)),
                         "https://b/");
        cr_assert_eq(json_array_size(removed), 1);
        cr_assert_str_eq(json_string_value(json_array_get(removed, 0)),
                         "https://c/");
        json_decref(added);
        json_decref(changed);
        json_decref(removed);
        json_decref(view);
        json_decref(want);
}
