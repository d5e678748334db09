/* `newstap feeds add|remove|list --topic|import|sync` against the real
 * broker: the feed list on a compacted topic, written and read back
 * through the binary, plain-text secrets refused before anything is
 * written, and garbage records on the topic logged with their partition
 * and offset and skipped. */
// ctest-suites: real
#include "common/err.h"
#include "common/kafka.h"
#include "support/archive.h"
#include "support/httpd.h"
#include "support/kafka_read.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64], config[128], topic[128];

/* A configuration naming a fresh feeds topic of `partitions`
 * partitions, with `feeds` (a JSON array text) as producer.feeds. */
static void write_config_parts(const char *feeds, int partitions)
{
        nt_test_printf_file(config,
                            "{\"kafka\": {\"bootstrap.servers\": \"%s\"},"
                            " \"topics\": {\"feeds\": \"%s\"},"
                            " \"producer\": {\"feeds_partitions\": %d,"
                            " \"feeds\": %s}}\n",
                            nt_test_kafka_bootstrap(), topic, partitions,
                            feeds);
}

/* Three partitions: reading the view walks each to its end. */
static void write_config(const char *feeds)
{
        write_config_parts(feeds, 3);
}

static void setup(void)
{
        nt_test_kafka_bootstrap();
        snprintf(dir, sizeof(dir), "/tmp/nt-feedstopic-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
        snprintf(config, sizeof(config), "%s/newstap.json", dir);
        nt_test_unique_name("feeds", topic, sizeof(topic));
        write_config("[]");
}

static void teardown(void)
{
        char cmd[160];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        (void)system(cmd);
        nt_test_kafka_restore();
}

TestSuite(real, .init = setup, .fini = teardown);

/* Runs `newstap feeds ARGS... -c config`; returns the exit status. */
static int feeds(char **out, char **err, const char *a1, const char *a2,
                 const char *a3, const char *a4, const char *a5)
{
        char *argv[12] = {(char *)nt_test_bin(), "feeds", "-c", config};
        const char *rest[] = {a1, a2, a3, a4, a5};
        int n = 4, i;

        for (i = 0; i < 5 && rest[i]; i++)
                argv[n++] = (char *)rest[i];
        argv[n] = NULL;
        return nt_run(argv, NULL, out, err, 120000);
}

/* The topic's view as `feeds list --topic -o jsonl` prints it: key ->
 * spec. */
static json_t *view(void)
{
        char *out = NULL, *err = NULL, *line, *save = NULL;
        json_t *v = json_object();
        int rc = feeds(&out, &err, "list", "--topic", "-o", "jsonl", NULL);

        cr_assert_eq(rc, 0, "feeds list --topic: %d: %s", rc, err);
        for (line = strtok_r(out, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                json_error_t jerr;
                json_t *o = json_loads(line, 0, &jerr);

                cr_assert_not_null(o, "not JSON: %s", line);
                json_object_set(v, json_string_value(json_object_get(o, "key")),
                                json_object_get(o, "spec"));
                json_decref(o);
        }
        free(out);
        free(err);
        return v;
}

/* Records read back from the topic: the last value per key, a
 * tombstone as JSON null. */
struct raw {
        json_t *last;
        size_t n;
};

static bool collect(const rd_kafka_message_t *rkm, void *ctx)
{
        struct raw *r = ctx;
        char key[512];

        snprintf(key, sizeof(key), "%.*s", (int)rkm->key_len,
                 (const char *)rkm->key);
        json_object_set_new(r->last, key,
                            rkm->payload ? json_stringn(rkm->payload, rkm->len)
                                         : json_null());
        r->n++;
        return false;
}

static bool found(const char *text, const char *needle)
{
        return text && strstr(text, needle) != NULL;
}

/* Runs `newstap feeds` as feeds() does and checks its exit status and
 * that stdout holds `out_has` and stderr `err_has` (NULL: not checked). */
static void feeds_expect(int status, const char *out_has, const char *err_has,
                         const char *a1, const char *a2, const char *a3,
                         const char *a4, const char *a5)
{
        char *out, *err;
        int got = feeds(&out, &err, a1, a2, a3, a4, a5);

        cr_assert_eq(got, status, "feeds %s: exit %d, not %d: %s", a1, got,
                     status, err);
        if (out_has)
                cr_assert(found(out, out_has), "feeds %s: %s", a1, out);
        if (err_has)
                cr_assert(found(err, err_has), "feeds %s: %s", a1, err);
        free(out);
        free(err);
}

Test(real, add_list_remove, .timeout = 300)
{
        char policy[64], errstr[512];
        struct raw raw = {json_object(), 0};
        json_t *v, *spec;
        rd_kafka_t *rk;

        feeds_expect(0, "+ https://wire.example/feed.xml\n", NULL, "add",
                     "https://Wire.Example/feed.xml?utm_source=x", "--interval",
                     "10m", NULL);
        feeds_expect(0, NULL, NULL, "add", "https://b.example/rss", "--header",
                     "Authorization: Bearer ${env:B_TOKEN}", NULL);

        /* The topic was created compacted. */
        rk = nt_test_producer(nt_test_kafka_bootstrap());
        cr_assert_eq(nt_kafka_topic_config(rk, topic, "cleanup.policy", policy,
                                           sizeof(policy), 15000, errstr,
                                           sizeof(errstr)),
                     NT_OK, "%s", errstr);
        cr_assert_str_eq(policy, "compact");
        rd_kafka_destroy(rk);

        v = view();
        cr_assert_eq(json_object_size(v), 2);
        spec = json_object_get(v, "https://wire.example/feed.xml");
        cr_assert_str_eq(json_string_value(json_object_get(spec, "url")),
                         "https://Wire.Example/feed.xml?utm_source=x",
                         "the URL is kept as given, the key is canonical");
        nt_test_assert_json_str(spec, "interval", "10m");
        spec = json_object_get(v, "https://b.example/rss");
        cr_assert_str_eq(
            json_string_value(json_object_get(json_object_get(spec, "headers"),
                                              "Authorization")),
            "Bearer ${env:B_TOKEN}", "the reference is stored, not a secret");
        json_decref(v);

        /* The same spec again writes nothing. */
        feeds_expect(0, "= https://wire.example/feed.xml\n", NULL, "add",
                     "https://Wire.Example/feed.xml?utm_source=x", "--interval",
                     "10m", NULL);

        feeds_expect(0, "- https://wire.example/feed.xml\n", NULL, "remove",
                     "https://wire.example/feed.xml", NULL, NULL, NULL);
        v = view();
        cr_assert_eq(json_object_size(v), 1);
        cr_assert_not_null(json_object_get(v, "https://b.example/rss"));
        json_decref(v);

        /* Removing it again is an error, and it was a tombstone. */
        feeds_expect(1, NULL, "is not on topic", "remove",
                     "https://wire.example/feed.xml", NULL, NULL, NULL);
        nt_test_read_topic(nt_test_kafka_bootstrap(), topic, collect, &raw,
                           5000);
        cr_assert_eq(raw.n, 3, "two adds and one tombstone, got %zu", raw.n);
        cr_assert(json_is_null(json_object_get(
                      raw.last, "https://wire.example/feed.xml")),
                  "the last record of the removed feed is a tombstone");
        json_decref(raw.last);
}

/* add --content sets where the feed's article text comes from; a value
 * that is not feed, page or auto is refused before anything is written,
 * and --content with another verb is a usage error. */
Test(real, add_with_content, .timeout = 300)
{
        json_t *v;

        feeds_expect(0, "+ https://p.example/rss\n", NULL, "add",
                     "https://p.example/rss", "--content", "page", NULL);
        /* The error names the field. */
        feeds_expect(2, NULL, "content", "add", "https://q.example/rss",
                     "--content", "sometimes", NULL);
        feeds_expect(2, NULL, "--content", "remove", "https://p.example/rss",
                     "--content", "page", NULL);
        v = view();
        cr_assert_eq(json_object_size(v), 1, "only the valid feed was added");
        cr_assert_str_eq(
            json_string_value(json_object_get(
                json_object_get(v, "https://p.example/rss"), "content")),
            "page");
        json_decref(v);
}

Test(real, plain_secrets_are_refused, .timeout = 300)
{
        char *out, *err;
        json_t *v;

        cr_assert_eq(feeds(&out, &err, "add", "https://c.example/rss",
                           "--header", "X-Api-Key: k-5f1e2d", NULL),
                     2);
        cr_assert(found(err, "header X-Api-Key carries a credential in plain "
                             "text"),
                  "%s", err);
        cr_assert(!found(err, "k-5f1e2d"), "the secret is repeated: %s", err);
        free(out);
        free(err);
        cr_assert_eq(feeds(&out, &err, "add",
                           "https://reader:hunter2@c.example/rss", NULL, NULL,
                           NULL),
                     2);
        cr_assert(found(err, "password is in plain text"), "%s", err);
        cr_assert(!found(err, "hunter2"), "%s", err);
        free(out);
        free(err);
        /* sync refuses the same, naming the file and the element. */
        write_config("[{\"url\": \"https://d.example/rss\"},"
                     " {\"url\": \"https://e.example/rss\", \"headers\":"
                     " {\"Cookie\": \"sid=abc\"}}]");
        feeds_expect(2, NULL,
                     "producer.feeds[1]: https://e.example/rss: header Cookie",
                     "sync", NULL, NULL, NULL, NULL);
        /* Nothing was written: the topic does not even exist. */
        v = view();
        cr_assert_eq(json_object_size(v), 0);
        json_decref(v);
}

Test(real, sync_dry_run_then_for_real, .timeout = 300)
{
        char *out, *err;
        json_t *v;

        feeds_expect(0, NULL, NULL, "add", "https://a.example/rss",
                     "--interval", "5m", NULL);
        feeds_expect(0, NULL, NULL, "add", "https://x.example/rss", NULL, NULL,
                     NULL);
        write_config(
            "[{\"url\": \"https://a.example/rss\", \"interval\": "
            "\"10m\"},"
            " {\"url\": \"https://b.example/rss\", \"name\": \"B\"},"
            " {\"url\": \"https://c.example/rss\", \"headers\":"
            " {\"Authorization\": \"Bearer ${file:/run/secrets/c}\"}}]");

        cr_assert_eq(feeds(&out, &err, "sync", "--dry-run", NULL, NULL, NULL),
                     0, "%s", err);
        cr_assert_str_eq(out, "+ https://b.example/rss\n"
                              "+ https://c.example/rss\n"
                              "~ https://a.example/rss\n"
                              "- https://x.example/rss\n");
        cr_assert(found(err, "2 added, 1 changed, 1 removed, 0 unchanged "
                             "(dry run: nothing written)"),
                  "%s", err);
        free(out);
        free(err);
        v = view();
        cr_assert_eq(json_object_size(v), 2, "the dry run wrote nothing");
        cr_assert_not_null(json_object_get(v, "https://x.example/rss"));
        json_decref(v);

        cr_assert_eq(feeds(&out, &err, "sync", NULL, NULL, NULL, NULL), 0, "%s",
                     err);
        cr_assert_str_eq(out, "+ https://b.example/rss\n"
                              "+ https://c.example/rss\n"
                              "~ https://a.example/rss\n"
                              "- https://x.example/rss\n");
        free(out);
        free(err);
        v = view();
        cr_assert_eq(json_object_size(v), 3);
        cr_assert_null(json_object_get(v, "https://x.example/rss"));
        cr_assert_str_eq(
            json_string_value(json_object_get(
                json_object_get(v, "https://a.example/rss"), "interval")),
            "10m");
        cr_assert_str_eq(
            json_string_value(json_object_get(
                json_object_get(v, "https://b.example/rss"), "name")),
            "B");
        json_decref(v);

        /* In step now: a second sync changes nothing. */
        cr_assert_eq(feeds(&out, &err, "sync", NULL, NULL, NULL, NULL), 0, "%s",
                     err);
        cr_assert_str_eq(out, "");
        cr_assert(found(err, "0 added, 0 changed, 0 removed, 3 unchanged"),
                  "%s", err);
        free(out);
        free(err);

        /* A file without feeds does not empty the topic by accident. */
        write_config("[]");
        feeds_expect(2, NULL, "--allow-empty", "sync", NULL, NULL, NULL, NULL);
}

Test(real, import_opml, .timeout = 300)
{
        char opml[128], *out, *err;
        json_t *v, *spec;

        snprintf(opml, sizeof(opml), "%s/subs.opml", dir);
        nt_test_printf_file(
            opml, "%s",
            "<?xml version=\"1.0\"?><opml version=\"2.0\"><head><title>My "
            "subs</title></head><body>"
            "<outline text=\"Energy\">"
            "<outline type=\"rss\" text=\"Grid watch\" "
            "xmlUrl=\"https://grid.example/rss.xml\"/>"
            "<outline type=\"rss\" text=\"Plant log\" "
            "xmlUrl=\"https://plant.example/atom\"/>"
            "</outline>"
            "<outline type=\"rss\" text=\"Ports\" "
            "xmlUrl=\"https://ports.example/feed\"/>"
            "</body></opml>\n");
        feeds_expect(0, NULL, NULL, "add", "https://ports.example/feed",
                     "--name", "Harbour", NULL);
        cr_assert_eq(
            feeds(&out, &err, "import", opml, "--interval", "20m", NULL), 0,
            "%s", err);
        cr_assert_str_eq(out, "+ https://grid.example/rss.xml\n"
                              "+ https://plant.example/atom\n");
        cr_assert(found(err, "2 added, 1 already on the topic"), "%s", err);
        free(out);
        free(err);
        v = view();
        cr_assert_eq(json_object_size(v), 3);
        spec = json_object_get(v, "https://grid.example/rss.xml");
        nt_test_assert_json_str(spec, "name", "Grid watch");
        cr_assert_str_eq(
            json_string_value(json_array_get(json_object_get(spec, "tags"), 0)),
            "Energy", "the folder is a tag");
        nt_test_assert_json_str(spec, "interval", "20m");
        cr_assert_str_eq(
            json_string_value(json_object_get(
                json_object_get(v, "https://ports.example/feed"), "name")),
            "Harbour", "a feed on the topic is left as it is");
        json_decref(v);
}

/* Writes one raw record to partition 0 of the topic. */
static void produce_raw(rd_kafka_t *rk, const char *key, const char *value)
{
        cr_assert_eq(rd_kafka_producev(
                         rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                         RD_KAFKA_V_KEY(key, key ? strlen(key) : 0),
                         RD_KAFKA_V_VALUE((void *)value, strlen(value)),
                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                         RD_KAFKA_V_END),
                     0);
}

Test(real, garbage_records_are_skipped_with_partition_and_offset,
     .timeout = 300)
{
        char *out, *err, errstr[512];
        rd_kafka_t *rk;
        json_t *v;

        /* One partition, so that the offsets below are known. */
        write_config_parts("[]", 1);
        /* Offset 0: a good feed, made by the binary (and the topic with
         * it). */
        feeds_expect(0, NULL, NULL, "add", "https://good.example/rss", NULL,
                     NULL, NULL);
        rk = nt_test_producer(nt_test_kafka_bootstrap());
        /* Offset 1: not JSON. Offset 2: a key that is not its URL's.
         * Offset 3: garbage over the good feed, which keeps its spec. */
        produce_raw(rk, "https://junk.example/rss", "{not json");
        produce_raw(rk, "https://other.example/",
                    "{\"url\": \"https://mismatch.example/rss\"}");
        produce_raw(rk, "https://good.example/rss", "[1, 2]");
        /* Offset 4: a feed under a key in another canonical form (an
         * older version's): read as a feed, and removable by its URL. */
        produce_raw(rk, "https://Old.Example/rss?utm_source=a",
                    "{\"url\": \"https://old.example/rss\"}");
        cr_assert_eq(nt_kafka_flush(rk, 15000, errstr, sizeof(errstr)), NT_OK,
                     "%s", errstr);
        rd_kafka_destroy(rk);

        cr_assert_eq(feeds(&out, &err, "list", "--topic", NULL, NULL, NULL), 0,
                     "%s", err);
        cr_assert(found(out, "https://good.example/rss"), "%s", out);
        cr_assert(!found(out, "junk.example"), "%s", out);
        cr_assert(!found(out, "mismatch.example"), "%s", out);
        cr_assert(found(err, "partition=0 offset=1"), "%s", err);
        cr_assert(found(err, "partition=0 offset=2"), "%s", err);
        cr_assert(found(err, "partition=0 offset=3"), "%s", err);
        cr_assert(found(err, "not a JSON object"), "%s", err);
        cr_assert(found(err, "not the value's url in canonical form"), "%s",
                  err);
        cr_assert(!found(err, "offset=4"), "%s", err);
        cr_assert(found(err, "2 feed(s) on topic"), "%s", err);
        free(out);
        free(err);
        cr_assert_eq(feeds(&out, &err, "remove", "https://old.example/rss",
                           NULL, NULL, NULL),
                     0, "%s", err);
        cr_assert_str_eq(out, "- https://Old.Example/rss?utm_source=a\n");
        free(out);
        free(err);
        v = view();
        cr_assert_eq(json_object_size(v), 1);
        cr_assert_not_null(json_object_get(v, "https://good.example/rss"));
        json_decref(v);
}

/* The single producer resolves references in its configuration file on
 * its own machine: the header the server sees holds the variable's
 * value. (If-None-Match, because the test server logs it.) */
Test(real, produce_resolves_references_before_fetching, .timeout = 300)
{
        char *argv[] = {
            (char *)nt_test_bin(), "produce", "--once", "-c", config, NULL};
        struct nt_httpd_request req[4];
        nt_httpd_t *srv = nt_httpd_start();
        char feeds_json[512], raw[160], *out, *err;
        size_t n;
        int rc;

        cr_assert_not_null(srv);
        nt_httpd_serve(srv, "/ref.xml", 200, NULL,
                       "<rss version=\"2.0\"><channel><title>R</title>"
                       "</channel></rss>",
                       "\"v7-from-env\"");
        snprintf(feeds_json, sizeof(feeds_json),
                 "[{\"url\": \"%s/ref.xml\", \"headers\":"
                 " {\"If-None-Match\": \"${env:NT_FT_ETAG}\"}}]",
                 nt_httpd_url(srv));
        /* The state directory and the raw topic are this test's own. */
        snprintf(raw, sizeof(raw), "%s.raw", topic);
        nt_test_printf_file(
            config,
            "{\"kafka\": {\"bootstrap.servers\": \"%s\"},"
            " \"topics\": {\"raw\": \"%s\"},"
            " \"producer\": {\"state_dir\": \"%s\", \"feeds\": %s}}\n",
            nt_test_kafka_bootstrap(), raw, dir, feeds_json);

        unsetenv("NT_FT_ETAG");
        rc = nt_run(argv, NULL, &out, &err, 120000);
        cr_assert_eq(rc, 2, "an unset variable is a configuration error: %s",
                     err);
        cr_assert(found(err, "${env:NT_FT_ETAG}: the variable is not set"),
                  "%s", err);
        free(out);
        free(err);
        cr_assert_eq(nt_httpd_requests(srv, "/ref.xml", NULL, 0), 0);

        setenv("NT_FT_ETAG", "\"v7-from-env\"", 1);
        rc = nt_run(argv, NULL, &out, &err, 120000);
        unsetenv("NT_FT_ETAG");
        cr_assert_eq(rc, 0, "produce --once: %d: %s", rc, err);
        free(out);
        free(err);
        n = nt_httpd_requests(srv, "/ref.xml", req, 4);
        cr_assert_eq(n, 1);
        cr_assert_str_eq(req[0].if_none_match, "\"v7-from-env\"");
        cr_assert_eq(req[0].status, 304);
        nt_httpd_stop(srv);
}
