/* The feed list: producer.feeds validation and OPML import. */
#include "common/err.h"
#include "common/buf.h"
#include "producer/feeds.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdlib.h>
#include <string.h>

Test(feeds, from_json)
{
        struct nt_feed_list l;
        char err[512];
        json_error_t jerr;
        json_t *arr = json_loads(
            "[{\"url\": \"https://a.example/rss\", \"name\": \"A\","
            "  \"interval\": \"5m\", \"tags\": [\"uk\", \"wire\"],"
            "  \"headers\": {\"Authorization\": \"Bearer t\"}},"
            " {\"url\": \"http://u:pw@b.example/atom\", \"interval\": 90}]",
            0, &jerr);

        nt_feed_list_init(&l);
        cr_assert_eq(nt_feed_list_from_json(&l, arr, 900000, err, sizeof(err)),
                     NT_OK, "%s", err);
        cr_assert_eq(l.n, 2);
        cr_assert_str_eq(l.feeds[0].name, "A");
        cr_assert_eq(l.feeds[0].interval_ms, 300000);
        cr_assert_str_eq(l.feeds[0].tags[1], "wire");
        cr_assert_null(l.feeds[0].tags[2]);
        cr_assert_str_eq(l.feeds[0].headers[0], "Authorization: Bearer t");
        cr_assert_eq(l.feeds[1].interval_ms, 90000, "a bare number is seconds");
        cr_assert_str_eq(l.feeds[1].name, "http://b.example/atom",
                         "unnamed: the URL without its credentials");
        cr_assert_not_null(nt_feed_list_find(&l, "http://u:pw@b.example/atom"),
                           "the URL is kept as given, for fetching");
        json_decref(arr);
        nt_feed_list_free(&l);
}

struct bad_list {
        char json[128];
        char want[64];
};

ParameterizedTestParameters(feeds, json_errors_name_the_element)
{
        static struct bad_list cases[] = {
            {"{}", "producer.feeds: expected an array"},
            {"[5]", "producer.feeds[0]: expected an object"},
            {"[{\"name\": \"x\"}]", "producer.feeds[0].url"},
            {"[{\"url\": \"ftp://x/\"}]", "producer.feeds[0].url"},
            {"[{\"url\": \"http://x/\", \"every\": 1}]",
             "producer.feeds[0].every: unknown key"},
            {"[{\"url\": \"http://x/\", \"interval\": \"soon\"}]",
             "producer.feeds[0].interval"},
            {"[{\"url\": \"http://x/\", \"interval\": \"500ms\"}]",
             "producer.feeds[0].interval"},
            {"[{\"url\": \"http://x/\", \"tags\": [1]}]",
             "producer.feeds[0].tags[0]"},
            {"[{\"url\": \"http://x/\", \"headers\": {\"A\": \"b\\nc\"}}]",
             "producer.feeds[0].headers.A"},
            {"[{\"url\": \"http://x/\"}, {\"url\": \"http://x/\"}]",
             "producer.feeds[1].url: http://x/ is listed twice"},
        };
        return cr_make_param_array(struct bad_list, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_list *c, feeds, json_errors_name_the_element)
{
        struct nt_feed_list l;
        char err[512];
        json_error_t jerr;
        json_t *arr = json_loads(c->json, 0, &jerr);

        cr_assert_not_null(arr, "bad test JSON %s", c->json);
        nt_feed_list_init(&l);
        cr_assert_eq(nt_feed_list_from_json(&l, arr, 1000, err, sizeof(err)),
                     NT_ERR_CONFIG, "%s accepted", c->json);
        cr_assert_not_null(strstr(err, c->want), "%s: \"%s\" lacks \"%s\"",
                           c->json, err, c->want);
        json_decref(arr);
        nt_feed_list_free(&l);
}

Test(feeds, from_opml)
{
        struct nt_feed_list l;
        char path[512], err[512];

        nt_feed_list_init(&l);
        cr_assert_eq(
            nt_feed_list_from_opml(
                &l,
                nt_test_fixture("opml/subscriptions.opml", path, sizeof(path)),
                600000, err, sizeof(err)),
            NT_OK, "%s", err);
        cr_assert_eq(l.n, 3, "three http(s) feeds, got %zu", l.n);
        cr_assert_str_eq(l.feeds[0].url, "https://kyiv.example/rss.xml");
        cr_assert_str_eq(l.feeds[0].name, "Kyiv wire");
        cr_assert_str_eq(l.feeds[0].tags[0], "Ukraine",
                         "the folder becomes a tag");
        cr_assert_str_eq(l.feeds[1].name, "Front news");
        cr_assert_str_eq(l.feeds[2].url, "https://world.example/feed.json");
        cr_assert_null(l.feeds[2].tags[0], "a top-level feed has no tag");
        cr_assert_eq(l.feeds[2].interval_ms, 600000);
        /* Importing again adds nothing: URLs already listed are skipped. */
        cr_assert_eq(nt_feed_list_from_opml(&l, path, 600000, err, sizeof(err)),
                     NT_OK);
        cr_assert_eq(l.n, 3);
        nt_feed_list_free(&l);
}

Test(feeds, opml_errors)
{
        struct nt_feed_list l;
        char path[512], err[512];

        nt_feed_list_init(&l);
        cr_assert_eq(nt_feed_list_from_opml(&l, "/nonexistent.opml", 1000, err,
                                            sizeof(err)),
                     NT_ERR_IO);
        cr_assert_not_null(strstr(err, "/nonexistent.opml"), "%s", err);
        cr_assert_eq(
            nt_feed_list_from_opml(
                &l,
                nt_test_fixture("opml/entity-bomb.opml", path, sizeof(path)),
                1000, err, sizeof(err)),
            NT_ERR_PARSE);
        cr_assert_not_null(strstr(err, "entity declarations are not allowed"),
                           "%s", err);
        cr_assert_eq(l.n, 0);
        nt_feed_list_free(&l);
}

/* References are resolved where the feeds are fetched; the name, made
 * from the URL as written, never holds the secret. */
Test(feeds, resolve_secrets)
{
        struct nt_feed_list l;
        char err[512];
        json_error_t jerr;
        json_t *arr = json_loads(
            "[{\"url\": \"https://${env:NT_T_USER}:${env:NT_T_PASS}@"
            "a.example/rss\","
            "  \"headers\": {\"Authorization\": \"Bearer ${env:NT_T_TOKEN}\","
            "               \"Accept\": \"application/rss+xml\"}}]",
            0, &jerr);

        cr_assert_not_null(arr, "%s", jerr.text);
        setenv("NT_T_USER", "reader", 1);
        setenv("NT_T_PASS", "pw-41", 1);
        setenv("NT_T_TOKEN", "tok-9", 1);
        nt_feed_list_init(&l);
        cr_assert_eq(nt_feed_list_from_json(&l, arr, 900000, err, sizeof(err)),
                     NT_OK, "%s", err);
        cr_assert_eq(nt_feed_list_resolve_secrets(&l, err, sizeof(err)), NT_OK,
                     "%s", err);
        cr_assert_str_eq(l.feeds[0].url, "https://reader:pw-41@a.example/rss");
        cr_assert_str_eq(l.feeds[0].name, "https://a.example/rss");
        cr_assert_str_eq(l.feeds[0].headers[0], "Authorization: Bearer tok-9");
        cr_assert_str_eq(l.feeds[0].headers[1], "Accept: application/rss+xml");
        /* Found by the URL it now has (the index by URL follows), not by
         * the one it had. */
        cr_assert_eq(
            nt_feed_list_find(&l, "https://reader:pw-41@a.example/rss"),
            &l.feeds[0]);
        cr_assert_null(nt_feed_list_find(
            &l, "https://${env:NT_T_USER}:${env:NT_T_PASS}@a.example/rss"));
        nt_feed_list_free(&l);

        unsetenv("NT_T_TOKEN");
        nt_feed_list_init(&l);
        cr_assert_eq(nt_feed_list_from_json(&l, arr, 900000, err, sizeof(err)),
                     NT_OK, "%s", err);
        cr_assert_eq(nt_feed_list_resolve_secrets(&l, err, sizeof(err)),
                     NT_ERR_NOTFOUND);
        cr_assert_not_null(strstr(err, "feed https://a.example/rss: "
                                       "${env:NT_T_TOKEN}: the variable is "
                                       "not set"),
                           "%s", err);
        nt_feed_list_free(&l);
        unsetenv("NT_T_USER");
        unsetenv("NT_T_PASS");
        json_decref(arr);
}

/* Duplicates are found through an index by URL that grows with the list
 * (rebuilt at each doubling, feeds added since indexed at each search):
 * 5,000 feeds, each found, the one listed twice near the end named, and
 * a list whose URLs were taken (NULL) by a reload finds nothing there. */
Test(feeds, many_feeds_indexed_by_url)
{
        struct nt_feed_list l;
        struct nt_buf b;
        char err[512], url[64];
        json_error_t jerr;
        json_t *arr;
        size_t i;

        nt_buf_init(&b, (size_t)1 << 20);
        nt_buf_append_str(&b, "[");
        for (i = 0; i < 5000; i++)
                nt_buf_printf(&b, "%s{\"url\": \"http://h%zu.example/f\"}",
                              i ? "," : "", i % 5000);
        nt_buf_append_str(&b, "]");
        arr = json_loads(nt_buf_str(&b), 0, &jerr);
        cr_assert_not_null(arr, "%s", jerr.text);
        nt_feed_list_init(&l);
        cr_assert_eq(nt_feed_list_from_json(&l, arr, 900000, err, sizeof(err)),
                     NT_OK, "%s", err);
        cr_assert_eq(l.n, 5000);
        for (i = 0; i < l.n; i++) {
                snprintf(url, sizeof(url), "http://h%zu.example/f", i);
                cr_assert_eq(nt_feed_list_find(&l, url), &l.feeds[i], "%s",
                             url);
        }
        cr_assert_null(nt_feed_list_find(&l, "http://h5000.example/f"));
        free(l.feeds[17].url);
        l.feeds[17].url = NULL; /* taken, as a reload does */
        cr_assert_null(nt_feed_list_find(&l, "http://h17.example/f"));
        cr_assert_eq(nt_feed_list_find(&l, "http://h18.example/f"),
                     &l.feeds[18]);
        nt_feed_list_free(&l);
        json_decref(arr);

        /* The same list with h4321 again as its last feed. */
        b.len -= 1;
        nt_buf_append_str(&b, ",{\"url\": \"http://h4321.example/f\"}]");
        arr = json_loads(nt_buf_str(&b), 0, &jerr);
        cr_assert_not_null(arr, "%s", jerr.text);
        nt_feed_list_init(&l);
        cr_assert_neq(nt_feed_list_from_json(&l, arr, 900000, err, sizeof(err)),
                      NT_OK);
        cr_assert_not_null(strstr(err,
                                  "producer.feeds[5000].url: "
                                  "http://h4321.example/f is listed twice"),
                           "%s", err);
        nt_feed_list_free(&l);
        json_decref(arr);
        nt_buf_free(&b);
}
