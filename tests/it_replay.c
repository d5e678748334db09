/* `newstap replay` end to end on the dev broker (`newstap broker`, no
 * real Kafka needed): formats detected from content, articles published
 * as the producer publishes them, bad files and records reported with
 * their location and skipped, --strict, globs, the time window,
 * duplicates, --skip-seen, --rate, a broker that never confirms, and the
 * article pages of a crawl (--pages). */
#include "common/buf.h"
#include "common/date.h"
#include "support/archive.h"
#include "support/kafka_read.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_MSGS 64

/* What was read back from a topic. */
struct readback {
        int n;
        char keys[MAX_MSGS][40];
        int bad_headers;
        int bad_timestamps;
        char why[512];
        int want;       /* stop after this many */
        int64_t lo, hi; /* record times must fall in [lo, hi] */
};

static bool header_is(rd_kafka_headers_t *hdrs, const char *name,
                      const char *want)
{
        const void *v;
        size_t len;

        return want &&
               rd_kafka_header_get_last(hdrs, name, &v, &len) ==
                   RD_KAFKA_RESP_ERR_NO_ERROR &&
               len == strlen(want) && memcmp(v, want, len) == 0;
}

/* Checks each message against what the producer writes: key = id,
 * headers content-type, schema, revision, feed, published (when the
 * article has a date); timestamp = the time it was written. */
static bool on_msg(const rd_kafka_message_t *rkm, void *ctx)
{
        struct readback *rb = ctx;
        rd_kafka_headers_t *hdrs = NULL;
        rd_kafka_timestamp_type_t tstype;
        json_t *art = json_loadb(rkm->payload, rkm->len, 0, NULL);
        const char *id = json_string_value(json_object_get(art, "id"));
        const char *pub = json_string_value(json_object_get(art, "published"));
        json_t *feed = json_object_get(art, "feed");
        int64_t when;

        cr_assert_not_null(id, "a message that is not an article");
        cr_assert_lt(rb->n, MAX_MSGS);
        snprintf(rb->keys[rb->n], sizeof(rb->keys[0]), "%.*s",
                 (int)rkm->key_len, (const char *)rkm->key);
        if (strcmp(rb->keys[rb->n], id) != 0)
                rb->bad_headers++;
        if (rd_kafka_message_headers(rkm, &hdrs) ||
            !header_is(hdrs, "content-type", "application/json") ||
            !header_is(hdrs, "schema", "newstap.article/1") ||
            !header_is(hdrs, "revision",
                       json_string_value(json_object_get(art, "revision"))) ||
            !header_is(hdrs, "feed",
                       json_string_value(json_object_get(feed, "url")))) {
                rb->bad_headers++;
                snprintf(rb->why, sizeof(rb->why), "headers of %s", id);
        }
        if (pub && !header_is(hdrs, "published", pub)) {
                rb->bad_headers++;
                snprintf(rb->why, sizeof(rb->why), "published header of %s",
                         id);
        }
        when = rd_kafka_message_timestamp(rkm, &tstype);
        if (when < rb->lo || when > rb->hi) {
                rb->bad_timestamps++;
                snprintf(rb->why, sizeof(rb->why),
                         "timestamp of %s: %lld, not within the replay", id,
                         (long long)when);
        }
        rb->n++;
        json_decref(art);
        return rb->want > 0 && rb->n >= rb->want;
}

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int cmp_keys(const void *a, const void *b)
{
        return strcmp(a, b);
}

/* Runs `newstap replay` against the broker, topics.raw = topic. */
static int replay(const char *bootstrap, const char *topic,
                  const char *const *args, size_t n, char **out, char **err)
{
        char *argv[32], bs[300];
        size_t i, k = 0;

        cr_assert(n < 24);
        snprintf(bs, sizeof(bs), "bootstrap.servers=%s", bootstrap);
        argv[k++] = (char *)nt_test_bin();
        argv[k++] = "replay";
        argv[k++] = "-X";
        argv[k++] = bs;
        argv[k++] = "--topic";
        argv[k++] = (char *)topic;
        for (i = 0; i < n; i++)
                argv[k++] = (char *)args[i];
        argv[k] = NULL;
        return nt_run(argv, NULL, out, err, 120000);
}

/* replay() that must exit with `want`; its standard output and error
 * into *out and *err (caller frees both). */
static void replay_expect(const char *bootstrap, const char *topic,
                          const char *const *args, size_t n, int want,
                          char **out, char **err)
{
        int status = replay(bootstrap, topic, args, n, out, err);

        cr_assert_eq(status, want, "replay exited %d, want %d: %s%s", status,
                     want, *out, *err);
}

/* Fails unless `text` (what replay printed) holds `want`. */
static void assert_says(const char *text, const char *want)
{
        cr_assert(strstr(text, want), "\"%s\" is not in: %s", want, text);
}

/* Runs `newstap replay ... -` with `input` on its standard input. */
static int replay_stdin(const char *bootstrap, const char *topic,
                        const char *input, char **out, char **err)
{
        char bs[300];
        char *argv[] = {(char *)nt_test_bin(), "replay", "-X", bs, "--topic",
                        (char *)topic,         "-",      NULL};

        snprintf(bs, sizeof(bs), "bootstrap.servers=%s", bootstrap);
        return nt_run(argv, input, out, err, 120000);
}

/* replay_stdin() of `input` (named `what` in messages), which must exit
 * `want` and print `out_has` on stdout and `err_has` on stderr (NULL: not
 * checked). */
static void replay_stdin_expect(const char *bootstrap, const char *topic,
                                const char *what, const char *input, int want,
                                const char *out_has, const char *err_has)
{
        char *out, *err;
        int status = replay_stdin(bootstrap, topic, input, &out, &err);

        cr_assert_eq(status, want, "%s: exit %d, want %d: %s%s", what, status,
                     want, out, err);
        if (out_has)
                assert_says(out, out_has);
        if (err_has)
                assert_says(err, err_has);
        free(out);
        free(err);
}

/* The article ids `newstap parse --articles` gives a feed file. */
static int parse_ids(const char *path, const char *feed_url, char ids[][40],
                     int max)
{
        char *argv[10], *out, *err, *line, *save = NULL;
        int n = 0, k = 0;

        argv[k++] = (char *)nt_test_bin();
        argv[k++] = "parse";
        argv[k++] = "--articles";
        if (feed_url) {
                /* As a crawl would: the URL is the feed's and the base. */
                argv[k++] = "--feed-url";
                argv[k++] = (char *)feed_url;
                argv[k++] = "--base-url";
                argv[k++] = (char *)feed_url;
        }
        argv[k++] = (char *)path;
        argv[k] = NULL;
        cr_assert_eq(nt_run(argv, NULL, &out, &err, 30000), 0, "parse %s: %s",
                     path, err);
        for (line = strtok_r(out, "\n", &save); line && n < max;
             line = strtok_r(NULL, "\n", &save)) {
                json_t *art = json_loads(line, 0, NULL);
                snprintf(ids[n++], 40, "%s",
                         json_string_value(json_object_get(art, "id")));
                json_decref(art);
        }
        free(out);
        free(err);
        return n;
}

static void copy_fixture(const char *dir, const char *fixture, const char *name)
{
        char path[1024];
        size_t len;
        char *data =
            nt_test_slurp(nt_test_fixture(fixture, path, sizeof(path)), &len);

        nt_test_write(dir, name, data, len);
        free(data);
}

/* A small RSS feed whose items are published at the given hours of
 * 2026-01-05 (UTC), each with its own link under `site`. */
static char *rss_feed(const char *site, const int *hours, int n)
{
        struct nt_buf b;
        int i;

        nt_buf_init(&b, 1 << 20);
        nt_buf_printf(&b,
                      "<?xml version=\"1.0\"?><rss version=\"2.0\">"
                      "<channel><title>T</title><link>%s</link>",
                      site);
        for (i = 0; i < n; i++)
                nt_buf_printf(&b,
                              "<item><title>Item %d of %s</title>"
                              "<link>%s/item/%d</link>"
                              "<pubDate>Mon, 05 Jan 2026 %02d:00:00 "
                              "+0000</pubDate></item>",
                              i, site, site, i, hours[i]);
        nt_buf_append_str(&b, "</channel></rss>");
        return nt_buf_detach(&b);
}

/* A test's archive: a temporary folder holding one rss_feed() of `site`
 * as `file` (at `path`), and a broker with the one topic `topic_spec`
 * ("name:partitions"). */
struct feed_dir {
        char dir[512], path[600], *feed;
        struct nt_test_devbroker db;
};

static void feed_dir_start(struct feed_dir *fd, const char *topic_spec,
                           const char *site, const int *hours, int n,
                           const char *file)
{
        const char *topics[] = {topic_spec};

        nt_test_tmpdir(fd->dir, sizeof(fd->dir));
        fd->feed = rss_feed(site, hours, n);
        nt_test_write(fd->dir, file, fd->feed, strlen(fd->feed));
        snprintf(fd->path, sizeof(fd->path), "%s/%s", fd->dir, file);
        nt_test_devbroker_start(&fd->db, topics, 1);
}

static void feed_dir_stop(struct feed_dir *fd)
{
        nt_test_devbroker_stop(&fd->db);
        nt_test_rmtree(fd->dir);
        free(fd->feed);
}

static const char *const help_args[][4] = {
    {"--help"},
    {NULL},
    {"--rate", "fast", "x"},
    {"--max-gap", "5s", "x"},
    {"--from", "yesterday", "x"},
    {"--from", "2026-01-02T00:00:00Z", "--until", "2026-01-01T00:00:00Z"},
};

Test(replay, help_and_usage_errors)
{
        static const int want[] = {0, 2, 2, 2, 2, 2};
        static const char *const says[] = {"WARC",    "no input", "--rate",
                                           "--speed", "--from",   "later"};
        size_t i;

        for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                char *argv[8], *out, *err;
                size_t k = 0, j;
                int status;

                argv[k++] = (char *)nt_test_bin();
                argv[k++] = "replay";
                for (j = 0; j < 4 && help_args[i][j]; j++)
                        argv[k++] = (char *)help_args[i][j];
                if (i == 5)
                        argv[k++] = "x";
                argv[k] = NULL;
                status = nt_run(argv, NULL, &out, &err, 30000);
                cr_assert_eq(status, want[i], "case %zu: exit %d: %s", i,
                             status, err);
                cr_assert(strstr(i == 0 ? out : err, says[i]),
                          "case %zu: no \"%s\" in: %s%s", i, says[i], out, err);
                free(out);
                free(err);
        }
}

Test(replay, mixed_archive_is_published_as_the_producer_would)
{
        struct nt_test_devbroker db;
        const char *topics[] = {"raw-mixed:3"};
        struct readback rb = {0};
        char dir[512], path[1024], want[MAX_MSGS][40];
        struct nt_buf warc;
        char *jsonfeed, *jsonl_out, *jsonl_err, *out, *err;
        const char *args[1];
        char *argv[8];
        int n = 0, i, status;

        nt_test_tmpdir(dir, sizeof(dir));
        copy_fixture(dir, "feeds/rss20-full.xml", "a-feed.xml");
        /* JSON lines as `newstap parse --articles` writes them. */
        argv[0] = (char *)nt_test_bin();
        argv[1] = "parse";
        argv[2] = "--articles";
        argv[3] = "--feed-url";
        argv[4] = "https://atom.example/feed";
        argv[5] = (char *)nt_test_fixture("feeds/atom10-full.xml", path,
                                          sizeof(path));
        argv[6] = NULL;
        cr_assert_eq(nt_run(argv, NULL, &jsonl_out, &jsonl_err, 30000), 0);
        nt_test_write(dir, "b-articles.jsonl", jsonl_out, strlen(jsonl_out));
        /* A crawl: warcinfo, then the JSON Feed as a chunked response. */
        jsonfeed = nt_test_slurp(
            nt_test_fixture("feeds/jsonfeed11.json", path, sizeof(path)), NULL);
        nt_buf_init(&warc, 1 << 20);
        nt_test_warc_info(&warc, true);
        nt_test_warc_response(&warc, "https://json.example/feed.json",
                              "application/feed+json", jsonfeed, true, 0, true);
        nt_test_write(dir, "c-crawl.warc.gz", warc.data, warc.len);

        snprintf(path, sizeof(path), "%s/a-feed.xml", dir);
        n += parse_ids(path, NULL, want + n, MAX_MSGS - n);
        n += parse_ids(
            nt_test_fixture("feeds/atom10-full.xml", path, sizeof(path)),
            "https://atom.example/feed", want + n, MAX_MSGS - n);
        n += parse_ids(
            nt_test_fixture("feeds/jsonfeed11.json", path, sizeof(path)),
            "https://json.example/feed.json", want + n, MAX_MSGS - n);
        cr_assert_gt(n, 4);

        nt_test_devbroker_start(&db, topics, 1);
        args[0] = dir;
        rb.lo = wall_ms() - 1000;
        status = replay(db.bootstrap, "raw-mixed", args, 1, &out, &err);
        rb.hi = wall_ms() + 1000;
        cr_assert_eq(status, 0, "exit %d: %s%s", status, out, err);
        snprintf(path, sizeof(path), "%d published", n);
        cr_assert(strstr(out, path), "want \"%s\": %s", path, out);
        assert_says(out, "3 file(s)");

        rb.want = n;
        nt_test_read_topic(db.bootstrap, "raw-mixed", on_msg, &rb, 20000);
        cr_assert_eq(rb.n, n, "read back %d of %d", rb.n, n);
        cr_assert_eq(rb.bad_headers, 0, "%s", rb.why);
        cr_assert_eq(rb.bad_timestamps, 0, "%s", rb.why);
        qsort(want, (size_t)n, sizeof(want[0]), cmp_keys);
        qsort(rb.keys, (size_t)rb.n, sizeof(rb.keys[0]), cmp_keys);
        for (i = 0; i < n; i++)
                cr_assert_str_eq(rb.keys[i], want[i],
                                 "the ids differ from the producer's");
        nt_test_devbroker_stop(&db);
        nt_test_rmtree(dir);
        nt_buf_free(&warc);
        free(jsonfeed);
        free(jsonl_out);
        free(jsonl_err);
        free(out);
        free(err);
}

Test(replay, corrupt_inputs_are_reported_with_their_location_and_skipped)
{
        static const int h1[] = {8}, h2[] = {9}, h3[] = {10}, h4[] = {11},
                         h5[] = {12};
        struct nt_test_devbroker db;
        const char *topics[] = {"raw-corrupt:1"};
        char dir[512], want[256], *feeds[5], *out, *err;
        struct nt_buf gz, plain;
        unsigned char junk[2048];
        const char *args[1];
        size_t last, bad;
        int i;

        nt_test_tmpdir(dir, sizeof(dir));
        feeds[0] = rss_feed("https://one.example", h1, 1);
        feeds[1] = rss_feed("https://two.example", h2, 1);
        feeds[2] = rss_feed("https://three.example", h3, 1);
        feeds[3] = rss_feed("https://four.example", h4, 1);
        feeds[4] = rss_feed("https://five.example", h5, 1);
        /* Two good members, then a third cut short. */
        nt_buf_init(&gz, 1 << 20);
        nt_test_warc_response(&gz, "https://one.example/rss", "text/xml",
                              feeds[0], false, 0, true);
        nt_test_warc_response(&gz, "https://two.example/rss", "text/xml",
                              feeds[1], false, 0, true);
        last = nt_test_warc_response(&gz, "https://x.example/rss", "text/xml",
                                     feeds[4], false, 0, true);
        gz.len = last + (gz.len - last) / 2;
        nt_test_write(dir, "1-truncated.warc.gz", gz.data, gz.len);
        /* A plain WARC whose second record claims 40 bytes too many. */
        nt_buf_init(&plain, 1 << 20);
        nt_test_warc_response(&plain, "https://three.example/rss", "text/xml",
                              feeds[2], false, 0, false);
        bad = nt_test_warc_response(&plain, "https://y.example/rss", "text/xml",
                                    feeds[4], false, 40, false);
        nt_test_warc_response(&plain, "https://four.example/rss", "text/xml",
                              feeds[3], false, 0, false);
        nt_test_write(dir, "2-wrong-length.warc", plain.data, plain.len);
        for (i = 0; i < (int)sizeof(junk); i++)
                junk[i] = (unsigned char)((i * 167 + 13) & 0xff);
        nt_test_write(dir, "3-binary.bin", junk, sizeof(junk));
        nt_test_write(dir, "4-good.xml", feeds[4], strlen(feeds[4]));

        nt_test_devbroker_start(&db, topics, 1);
        args[0] = dir;
        replay_expect(db.bootstrap, "raw-corrupt", args, 1, 1, &out, &err);
        snprintf(want, sizeof(want),
                 "1-truncated.warc.gz: record 3 (gzip member at byte %zu): "
                 "gzip member at byte %zu is truncated",
                 last, last);
        cr_assert(strstr(err, want), "want \"%s\" in: %s", want, err);
        snprintf(want, sizeof(want),
                 "2-wrong-length.warc: record 2 at byte "
                 "%zu: ",
                 bad);
        cr_assert(strstr(err, want), "want \"%s\" in: %s", want, err);
        assert_says(err, "3-binary.bin: not a feed");
        /* one, two, three, four and the good file. */
        assert_says(out, "5 published");
        assert_says(out, "3 error(s)");
        nt_test_devbroker_stop(&db);
        nt_test_rmtree(dir);
        for (i = 0; i < 5; i++)
                free(feeds[i]);
        nt_buf_free(&gz);
        nt_buf_free(&plain);
        free(out);
        free(err);
}

Test(replay, strict_stops_at_the_first_error)
{
        static const int hours[] = {8, 9};
        struct feed_dir fd;
        char *out, *err;
        const char *args[2];

        feed_dir_start(&fd, "raw-strict:1", "https://strict.example", hours, 2,
                       "2-good.xml");
        nt_test_write(fd.dir, "1-bad.xml", "<html><body>no</body></html>", 29);
        args[0] = "--strict";
        args[1] = fd.dir;
        replay_expect(fd.db.bootstrap, "raw-strict", args, 2, 1, &out, &err);
        assert_says(err, "1-bad.xml");
        assert_says(out, "0 published");
        feed_dir_stop(&fd);
        free(out);
        free(err);
}

Test(replay, globs_the_shell_left_alone_and_the_time_window)
{
        static const int hours[] = {9, 10, 11, 12};
        struct feed_dir fd;
        char pattern[600], none[600], *out, *err;
        const char *args[5];

        feed_dir_start(&fd, "raw-glob:1", "https://glob.example", hours, 4,
                       "x1.xml");
        nt_test_write(fd.dir, "skip.json", "{\"not\": \"a feed\"}", 17);

        /* The pattern, as a program (not a shell) passes it. */
        snprintf(pattern, sizeof(pattern), "%s/x*.xml", fd.dir);
        args[0] = "--from";
        args[1] = "2026-01-05T09:30:00Z";
        args[2] = "--until";
        args[3] = "2026-01-05T11:00:00Z";
        args[4] = pattern;
        replay_expect(fd.db.bootstrap, "raw-glob", args, 5, 0, &out, &err);
        assert_says(out, "1 file(s)");
        assert_says(out, "2 published");
        assert_says(out, "2 outside the window");
        free(out);
        free(err);

        snprintf(none, sizeof(none), "%s/none*.xml", fd.dir);
        args[0] = none;
        replay_expect(fd.db.bootstrap, "raw-glob", args, 1, 1, &out, &err);
        assert_says(err, "no file matches");
        feed_dir_stop(&fd);
        free(out);
        free(err);
}

/* `replay -` reads standard input: JSON lines or one feed document;
 * a WARC there is refused with the reason. */
Test(replay, standard_input)
{
        static const int hours[] = {9, 10, 11};
        struct feed_dir fd;
        char *argv[] = {(char *)nt_test_bin(), "parse", "--articles", NULL,
                        NULL};
        char *lines, *err;

        feed_dir_start(&fd, "raw-stdin:1", "https://stdin.example", hours, 3,
                       "s.xml");
        argv[3] = fd.path;
        cr_assert_eq(nt_run(argv, NULL, &lines, &err, 60000), 0, "%s", err);
        free(err);

        replay_stdin_expect(fd.db.bootstrap, "raw-stdin", "JSON lines", lines,
                            0, "3 published", NULL);
        replay_stdin_expect(fd.db.bootstrap, "raw-stdin", "a feed", fd.feed, 0,
                            "3 article(s) found", NULL);
        replay_stdin_expect(fd.db.bootstrap, "raw-stdin", "a WARC",
                            "WARC/1.1\r\nWARC-Type: warcinfo\r\n\r\n", 1, NULL,
                            "a WARC file on standard input");
        feed_dir_stop(&fd);
        free(lines);
}

Test(replay, duplicates_and_skip_seen)
{
        static const int hours[] = {6, 7, 8};
        struct feed_dir fd;
        char *out, *err;
        const char *args[4];

        feed_dir_start(&fd, "raw-seen:2", "https://seen.example", hours, 3,
                       "monday.xml");
        /* The same feed captured twice. */
        nt_test_write(fd.dir, "tuesday.xml", fd.feed, strlen(fd.feed));
        args[0] = fd.dir;
        replay_expect(fd.db.bootstrap, "raw-seen", args, 1, 0, &out, &err);
        assert_says(out, "3 published, 3 duplicate(s) skipped");
        free(out);
        free(err);

        args[0] = "--skip-seen";
        args[1] = fd.dir;
        replay_expect(fd.db.bootstrap, "raw-seen", args, 2, 0, &out, &err);
        assert_says(out, "0 published, 6 duplicate(s) skipped");
        assert_says(out, "3 already on the topic");
        feed_dir_stop(&fd);
        free(out);
        free(err);
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(replay, rate_spaces_the_articles)
{
        static const int hours[] = {1, 2, 3, 4, 5, 6};
        struct feed_dir fd;
        char *out, *err;
        const char *args[3];
        double t0, took;
        int status;

        feed_dir_start(&fd, "raw-rate:1", "https://rate.example", hours, 6,
                       "f.xml");
        args[0] = "--rate";
        args[1] = "10";
        args[2] = fd.path;
        t0 = now_s();
        status = replay(fd.db.bootstrap, "raw-rate", args, 3, &out, &err);
        took = now_s() - t0;
        cr_assert_eq(status, 0, "exit %d: %s%s", status, out, err);
        assert_says(out, "6 published");
        /* Six articles at ten a second: five gaps of 100 ms. */
        cr_assert_geq(took, 0.45, "took %.3f s", took);
        cr_assert_lt(took, 30, "took %.3f s", took);
        feed_dir_stop(&fd);
        free(out);
        free(err);
}

Test(replay, unconfirmed_articles_fail_the_run)
{
        static const int hours[] = {1, 2};
        char dir[512], path[600], *feed, *out, *err;
        const char *args[1];
        int status;

        nt_test_tmpdir(dir, sizeof(dir));
        feed = rss_feed("https://lost.example", hours, 2);
        nt_test_write(dir, "f.xml", feed, strlen(feed));
        snprintf(path, sizeof(path), "%s/f.xml", dir);
        /* Nothing listens there: no article can be confirmed. */
        setenv("NEWSTAP_PRODUCER_SHUTDOWN_TIMEOUT", "1s", 1);
        args[0] = path;
        status = replay("127.0.0.1:9", "raw-lost", args, 1, &out, &err);
        unsetenv("NEWSTAP_PRODUCER_SHUTDOWN_TIMEOUT");
        cr_assert_eq(status, 1, "exit %d: %s%s", status, out, err);
        assert_says(err, "2 article(s) were not confirmed");
        assert_says(out, "0 published");
        nt_test_rmtree(dir);
        free(feed);
        free(out);
        free(err);
}

/* What replay --pages published, by URL. */
struct pages_back {
        int n;
        json_t *arts[MAX_MSGS];
        int want;
};

static bool on_page_msg(const rd_kafka_message_t *rkm, void *ctx)
{
        struct pages_back *pb = ctx;

        cr_assert_lt(pb->n, MAX_MSGS);
        pb->arts[pb->n] = json_loadb(rkm->payload, rkm->len, 0, NULL);
        cr_assert_not_null(pb->arts[pb->n]);
        pb->n++;
        return pb->n >= pb->want;
}

static json_t *page_by_url(const struct pages_back *pb, const char *url)
{
        for (int i = 0; i < pb->n; i++) {
                const char *u =
                    json_string_value(json_object_get(pb->arts[i], "url"));
                if (u && strcmp(u, url) == 0)
                        return pb->arts[i];
        }
        return NULL;
}

/* A crawl of a news site: two article pages, a navigation-only page and
 * a feed. Without --pages the HTML is skipped as before; with it each
 * article page is one article (content_source "page", the url the
 * WARC-Target-URI, published from the page or else the WARC-Date), the
 * page without a main text is counted, and the feed is still a feed. */
Test(replay, pages_publishes_article_pages_of_a_crawl)
{
        struct nt_test_devbroker db;
        const char *topics[] = {"raw-pages:1", "raw-nopages:1"};
        struct pages_back pb = {0};
        char dir[512], path[1024], *news, *lib, *jsonfeed, *out, *err;
        const char *args[2];
        struct nt_buf warc;
        json_t *a;

        news = nt_test_slurp(
            nt_test_fixture("pages/news_nav.html", path, sizeof(path)), NULL);
        lib = nt_test_slurp(
            nt_test_fixture("pages/article_tag.html", path, sizeof(path)),
            NULL);
        jsonfeed = nt_test_slurp(
            nt_test_fixture("feeds/jsonfeed11.json", path, sizeof(path)), NULL);
        nt_buf_init(&warc, 1 << 20);
        nt_test_warc_info(&warc, true);
        nt_test_warc_response(&warc, "https://ledger.example/ferry",
                              "text/html; charset=utf-8", news, true, 0, true);
        nt_test_warc_response(&warc, "https://gazette.example/library",
                              "text/html", lib, false, 0, true);
        nt_test_warc_response(&warc, "https://gazette.example/", "text/html",
                              "<nav><a href=/a>News</a> <a href=/b>Sport</a>"
                              "</nav><footer>Contact</footer>",
                              false, 0, true);
        nt_test_warc_response(&warc, "https://json.example/feed.json",
                              "application/feed+json", jsonfeed, false, 0,
                              true);
        nt_test_tmpdir(dir, sizeof(dir));
        nt_test_write(dir, "crawl.warc.gz", warc.data, warc.len);
        snprintf(path, sizeof(path), "%s/crawl.warc.gz", dir);

        nt_test_devbroker_start(&db, topics, 2);
        args[0] = path;
        replay_expect(db.bootstrap, "raw-nopages", args, 1, 0, &out, &err);
        assert_says(out, "3 not feeds");
        cr_assert(!strstr(out, "page(s) extracted"), "%s", out);
        free(out);
        free(err);

        args[0] = "--pages";
        args[1] = path;
        replay_expect(db.bootstrap, "raw-pages", args, 2, 0, &out, &err);
        assert_says(out, "0 not feeds");
        assert_says(out, "2 page(s) extracted, 1 without a main text");
        /* Two pages and the feed's two entries. */
        assert_says(out, "4 published");
        pb.want = 4;
        nt_test_read_topic(db.bootstrap, "raw-pages", on_page_msg, &pb, 20000);
        cr_assert_eq(pb.n, 4);

        a = page_by_url(&pb, "https://ledger.example/ferry");
        cr_assert_not_null(a, "the news page was not published");
        cr_expect_str_eq(
            json_string_value(json_object_get(a, "content_source")), "page");
        cr_expect_str_eq(json_string_value(json_object_get(a, "title")),
                         "Harbour city approves night ferry trial");
        cr_expect_str_eq(json_string_value(json_object_get(a, "published")),
                         "2026-03-14T08:30:00Z");
        cr_expect_str_eq(json_string_value(json_object_get(a, "summary")),
                         "Councillors back a six-month trial of late ferries "
                         "across the estuary.");
        cr_expect(strncmp(json_string_value(json_object_get(a, "content")),
                          "Late-night ferries will cross the estuary", 41) == 0,
                  "%s", json_string_value(json_object_get(a, "content")));
        cr_expect(strstr(json_string_value(json_object_get(a, "content")),
                         "for adults.\n\n“People who clean"),
                  "paragraphs are kept");
        cr_expect(!strstr(json_string_value(json_object_get(a, "content")),
                          "Most read"));

        a = page_by_url(&pb, "https://gazette.example/library");
        cr_assert_not_null(a, "the library page was not published");
        cr_expect_str_eq(
            json_string_value(json_object_get(a, "content_source")), "page");
        /* No date on the page: the WARC-Date. */
        cr_expect_str_eq(json_string_value(json_object_get(a, "published")),
                         "2026-01-05T12:00:00Z");

        /* The feed's articles are articles of a feed, as before. */
        for (int i = 0; i < pb.n; i++) {
                const char *u =
                    json_string_value(json_object_get(pb.arts[i], "url"));
                if (u && strstr(u, "example/ferry") == NULL &&
                    strstr(u, "example/library") == NULL)
                        cr_expect_null(
                            json_object_get(pb.arts[i], "content_source"), "%s",
                            u);
                json_decref(pb.arts[i]);
        }
        nt_test_devbroker_stop(&db);
        nt_test_rmtree(dir);
        nt_buf_free(&warc);
        free(news);
        free(lib);
        free(jsonfeed);
        free(out);
        free(err);
}

/* What a page or a picture added to an article is part of it: a JSON
 * line of an article with an image and content_source "page", or with
 * content_source "feed" and page_error (as produce publishes them),
 * replayed from JSON lines comes out byte for byte as it went in. */
Test(replay, json_lines_keep_image_and_content_source)
{
        struct nt_test_devbroker db;
        const char *topics[] = {"raw-again:1"};
        struct pages_back pb = {0};
        char path[1024], *argv[6], *parsed, *perr, *save = NULL;
        char *lines[2], *input;
        json_t *a;
        size_t len;
        int i;

        argv[0] = (char *)nt_test_bin();
        argv[1] = "parse";
        argv[2] = "--articles";
        argv[3] = (char *)nt_test_fixture("feeds/rss20-media-pictures.xml",
                                          path, sizeof(path));
        argv[4] = NULL;
        cr_assert_eq(nt_run(argv, NULL, &parsed, &perr, 30000), 0, "%s", perr);
        for (i = 0; i < 2; i++) {
                char *line = strtok_r(i ? NULL : parsed, "\n", &save);

                cr_assert_not_null(line);
                a = json_loads(line, 0, NULL);
                cr_assert_not_null(a, "%s", line);
                cr_assert(json_is_object(json_object_get(a, "image")),
                          "the fixture's entries have pictures: %s", line);
                json_object_set_new(a, "content_source",
                                    json_string(i ? "feed" : "page"));
                if (i)
                        json_object_set_new(a, "page_error",
                                            json_string("HTTP 404"));
                lines[i] = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
                json_decref(a);
        }
        len = strlen(lines[0]) + strlen(lines[1]) + 3;
        input = malloc(len);
        snprintf(input, len, "%s\n%s\n", lines[0], lines[1]);

        nt_test_devbroker_start(&db, topics, 1);
        replay_stdin_expect(db.bootstrap, "raw-again", "JSON lines", input, 0,
                            "2 published", NULL);
        pb.want = 2;
        nt_test_read_topic(db.bootstrap, "raw-again", on_page_msg, &pb, 20000);
        cr_assert_eq(pb.n, 2);
        for (i = 0; i < 2; i++) {
                char *got =
                    json_dumps(pb.arts[i], JSON_COMPACT | JSON_PRESERVE_ORDER);

                cr_expect_str_eq(got, lines[i], "replayed line %d changed", i);
                free(got);
                json_decref(pb.arts[i]);
                free(lines[i]);
        }
        nt_test_devbroker_stop(&db);
        free(input);
        free(parsed);
        free(perr);
}
