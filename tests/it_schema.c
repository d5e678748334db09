/* The JSON the pipeline writes validates against docs/schema/: the
 * articles of `newstap parse --articles` (what produce and replay
 * publish) and the events of `newstap classify --offline` (the same
 * event-building code as the daemon), for every bundled sample feed; and
 * the articles `newstap produce` publishes for a feed whose text comes
 * from its pages (content_source, page_error, image), on the dev
 * broker. */
#include "common/buf.h"
#include "support/archive.h"
#include "support/httpd.h"
#include "support/kafka_read.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *run_ok(char *const argv[], const char *input)
{
        char *out, *err;
        int status = nt_run(argv, input, &out, &err, 120000);

        cr_assert_eq(status, 0, "%s %s exited %d:\n%s", argv[0], argv[1],
                     status, err);
        free(err);
        return out;
}

Test(schema, articles_and_events_validate, .timeout = 300)
{
        const char *src = getenv("NT_SOURCE_DIR");
        char dir[512], file[1024], validate[512], article_schema[512],
            event_schema[512], rules[512];
        char *articles = calloc(1, 1), *events, *out;
        size_t len = 0;
        struct dirent *e;
        DIR *d;
        int files = 0;

        cr_assert_not_null(src, "NT_SOURCE_DIR is not set: run through ctest");
        snprintf(dir, sizeof(dir), "%s/config/samples", src);
        snprintf(validate, sizeof(validate), "%s/scripts/validate-json", src);
        snprintf(article_schema, sizeof(article_schema),
                 "%s/docs/schema/article.schema.json", src);
        snprintf(event_schema, sizeof(event_schema),
                 "%s/docs/schema/enriched.schema.json", src);
        snprintf(rules, sizeof(rules), "%s/config/rules", src);
        d = opendir(dir);
        cr_assert_not_null(d, "cannot open %s", dir);
        while ((e = readdir(d)) != NULL) {
                char *argv[] = {(char *)nt_test_bin(), "parse", "--articles",
                                file, NULL};
                size_t n;

                if (e->d_name[0] == '.')
                        continue;
                snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
                out = run_ok(argv, NULL);
                n = strlen(out);
                articles = realloc(articles, len + n + 1);
                memcpy(articles + len, out, n + 1);
                len += n;
                free(out);
                files++;
        }
        closedir(d);
        cr_assert_geq(files, 3, "too few sample feeds in %s", dir);
        cr_assert_gt(len, 0, "the samples gave no articles");
        {
                char *argv[] = {validate, article_schema, NULL};
                free(run_ok(argv, articles));
        }
        {
                char *argv[] = {(char *)nt_test_bin(),
                                "classify",
                                "--offline",
                                "--rules",
                                rules,
                                NULL};
                events = run_ok(argv, articles);
        }
        cr_assert_not_null(strstr(events, "\"labels\":[{"),
                           "no event carries a label: the check would be "
                           "weak");
        {
                char *argv[] = {validate, event_schema, NULL};
                free(run_ok(argv, events));
        }
        free(events);
        free(articles);
}

/* Articles read back from the topic, one JSON line each. */
struct lines {
        struct nt_buf text;
        size_t n, want;
};

static bool collect_line(const rd_kafka_message_t *rkm, void *ctx)
{
        struct lines *l = ctx;

        nt_buf_append(&l->text, rkm->payload, rkm->len);
        nt_buf_append_str(&l->text, "\n");
        l->n++;
        return l->n >= l->want;
}

/* An RSS feed of three items for `newstap produce` with content "page":
 * a page with a main text (content_source "page"), a page that 404s
 * (content_source "feed", page_error "HTTP 404"), and a picture. */
Test(schema, page_articles_validate, .timeout = 300)
{
        static const char page[] =
            "<!doctype html><html lang=\"en\"><head><title>Quay</title>"
            "</head><body><nav><a href=\"/\">Home</a></nav><article>"
            "<h1>Quay wall repaired</h1><p>Masons finished the north quay "
            "wall on Friday after six weeks of work at low tide, the harbour "
            "office said.</p><p>The stones that fell in the January storm "
            "were lifted from the mud and set back in lime mortar.</p>"
            "</article></body></html>";
        const char *topics[] = {"raw-schema:1"};
        struct nt_test_devbroker db;
        struct lines got = {0};
        char dir[512], config[1024], validate[512], schema[512], *feed;
        char *produce[] = {
            (char *)nt_test_bin(), "produce", "--once", "-c", config, NULL};
        const char *src = getenv("NT_SOURCE_DIR");
        nt_httpd_t *srv = nt_httpd_start();
        struct nt_buf b;

        cr_assert_not_null(src, "NT_SOURCE_DIR is not set: run through ctest");
        cr_assert_not_null(srv);
        nt_buf_init(&b, 1 << 16);
        nt_buf_printf(&b,
                      "<?xml version=\"1.0\"?><rss version=\"2.0\" "
                      "xmlns:media=\"http://search.yahoo.com/mrss/\"><channel>"
                      "<title>Harbour</title><link>%s/</link>"
                      "<item><title>Quay</title><link>%s/quay</link>"
                      "<description>Wall repaired.</description>"
                      "<media:thumbnail url=\"%s/quay.jpg\" width=\"320\" "
                      "height=\"200\"/></item>"
                      "<item><title>Gone</title><link>%s/gone</link>"
                      "<description>A teaser.</description></item>"
                      "</channel></rss>",
                      nt_httpd_url(srv), nt_httpd_url(srv), nt_httpd_url(srv),
                      nt_httpd_url(srv));
        feed = nt_buf_detach(&b);
        nt_httpd_serve(srv, "/feed.xml", 200,
                       "Content-Type: application/rss+xml", feed, NULL);
        nt_httpd_serve(srv, "/quay", 200, "Content-Type: text/html", page,
                       NULL);
        nt_httpd_serve(srv, "/gone", 404, "Content-Type: text/html", page,
                       NULL);

        nt_test_devbroker_start(&db, topics, 1);
        nt_test_tmpdir(dir, sizeof(dir));
        snprintf(config, sizeof(config), "%s/newstap.json", dir);
        nt_test_printf_file(config,
                            "{\"kafka\": {\"bootstrap.servers\": \"%s\"},"
                            " \"topics\": {\"raw\": \"raw-schema\"},"
                            " \"metrics\": {\"listen\": \"127.0.0.1:0\"},"
                            " \"producer\": {\"state_dir\": \"%s/state\","
                            " \"feeds\": [{\"url\": \"%s/feed.xml\", "
                            "\"content\": \"page\"}]}}\n",
                            db.bootstrap, dir, nt_httpd_url(srv));
        free(run_ok(produce, NULL));
        nt_buf_init(&got.text, 1 << 20);
        got.want = 2;
        nt_test_read_topic(db.bootstrap, "raw-schema", collect_line, &got,
                           20000);
        cr_assert_eq(got.n, 2, "read %zu articles", got.n);
        /* The members the check is about are there. */
        cr_assert_not_null(
            strstr(nt_buf_str(&got.text), "\"content_source\":\"page\""), "%s",
            nt_buf_str(&got.text));
        cr_assert_not_null(
            strstr(nt_buf_str(&got.text), "\"page_error\":\"HTTP 404\""), "%s",
            nt_buf_str(&got.text));
        cr_assert_not_null(strstr(nt_buf_str(&got.text), "\"image\":{"), "%s",
                           nt_buf_str(&got.text));
        snprintf(validate, sizeof(validate), "%s/scripts/validate-json", src);
        snprintf(schema, sizeof(schema), "%s/docs/schema/article.schema.json",
                 src);
        {
                char *argv[] = {validate, schema, NULL};

                free(run_ok(argv, nt_buf_str(&got.text)));
        }
        nt_buf_free(&got.text);
        nt_test_devbroker_stop(&db);
        nt_httpd_stop(srv);
        nt_test_rmtree(dir);
        free(feed);
}
