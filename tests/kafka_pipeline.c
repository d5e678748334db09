/* The pipeline end to end on the real broker: a mixed archive (a feed
 * file, JSON lines, a WARC.gz and a plain WARC with a windows-1251 feed)
 * replayed, classified by `newstap classify`, and read back with `newstap
 * tail`; --since against offsets for times and the published time;
 * kcat's starts; --speed pacing; a second replay with --skip-seen;
 * corrupt archives; tail --group committing. */
// ctest-suites: real
#include "common/buf.h"
#include "common/date.h"
#include "common/err.h"
#include "common/kafka.h"
#include "support/archive.h"
#include "support/kafka_read.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The topics of one test, named for it alone, and the environment that
 * points every newstap command at them. */
struct names {
        char raw[160], enriched[160], prefix[160], dlq[160], group[160],
            txid[160];
};

static void use_names(struct names *n, const char *bootstrap)
{
        char u[128];

        nt_test_unique_name("pipe", u, sizeof(u));
        snprintf(n->raw, sizeof(n->raw), "%s.raw", u);
        snprintf(n->enriched, sizeof(n->enriched), "%s.enriched", u);
        snprintf(n->prefix, sizeof(n->prefix), "%s.topic.", u);
        snprintf(n->dlq, sizeof(n->dlq), "%s.dlq", u);
        snprintf(n->group, sizeof(n->group), "%s.classify", u);
        snprintf(n->txid, sizeof(n->txid), "%s.tx", u);
        setenv("NEWSTAP_KAFKA_BOOTSTRAP_SERVERS", bootstrap, 1);
        setenv("NEWSTAP_TOPICS_RAW", n->raw, 1);
        setenv("NEWSTAP_TOPICS_ENRICHED", n->enriched, 1);
        setenv("NEWSTAP_TOPICS_LABEL_PREFIX", n->prefix, 1);
        setenv("NEWSTAP_TOPICS_DLQ", n->dlq, 1);
        setenv("NEWSTAP_METRICS_ENABLED", "off", 1);
}

/* Creates `topic` with `partitions`, and retention.ms `retention_ms`
 * (NULL: none, see nt_test_make_topics()). */
static void one_topic(const char *bs, const char *topic, int partitions,
                      const char *retention_ms)
{
        const char *topics[] = {topic};

        if (retention_ms)
                nt_test_make_topics_retention(bs, topics, 1, partitions,
                                              retention_ms);
        else
                nt_test_make_topics(bs, topics, 1, partitions);
}

/* Runs newstap with up to 15 arguments. */
static int newstap(const char *const *args, size_t n, char **out, char **err)
{
        char *argv[16];
        size_t i;

        cr_assert(n < 15);
        argv[0] = (char *)nt_test_bin();
        for (i = 0; i < n; i++)
                argv[i + 1] = (char *)args[i];
        argv[n + 1] = NULL;
        return nt_run(argv, NULL, out, err, 180000);
}

/* newstap() with its arguments listed, up to a NULL. */
static int run(char **out, char **err, ...)
{
        const char *args[14];
        size_t n = 0;
        va_list ap;

        va_start(ap, err);
        for (;;) {
                const char *arg = va_arg(ap, const char *);

                if (!arg)
                        break;
                cr_assert(n < sizeof(args) / sizeof(args[0]), "too many");
                args[n++] = arg;
        }
        va_end(ap);
        return newstap(args, n, out, err);
}

static const char *source_path(const char *rel, char *buf, size_t size)
{
        const char *src = getenv("NT_SOURCE_DIR");

        cr_assert(src && *src, "NT_SOURCE_DIR is not set: run through ctest");
        snprintf(buf, size, "%s/%s", src, rel);
        return buf;
}

static int count_lines(const char *s)
{
        int n = 0;

        for (; *s; s++)
                n += *s == '\n';
        return n;
}

static double now_s(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- The mixed archive, replayed and classified -------------------- */

/* The samples as four kinds of input in one directory. */
static void mixed_archive(const char *dir)
{
        char path[1024], *data, *out, *err;
        struct nt_buf gz, plain;
        size_t len;

        data =
            nt_test_slurp(source_path("config/samples/harbour-courier.rss.xml",
                                      path, sizeof(path)),
                          &len);
        nt_test_write(dir, "1-courier.xml", data, len);
        free(data);

        cr_assert_eq(run(&out, &err, "parse", "--articles",
                         source_path("config/samples/kyiv-visnyk.atom.xml",
                                     path, sizeof(path)),
                         NULL),
                     0, "%s", err);
        nt_test_write(dir, "2-visnyk.jsonl", out, strlen(out));
        free(out);
        free(err);

        nt_buf_init(&gz, 1 << 20);
        data = nt_test_slurp(source_path("config/samples/grid-and-atom.json",
                                         path, sizeof(path)),
                             NULL);
        nt_test_warc_info(&gz, true);
        nt_test_warc_response(&gz, "https://gridatom.example/feed.json",
                              "application/feed+json", data, true, 0, true);
        nt_test_write(dir, "3-grid.warc.gz", gz.data, gz.len);
        free(data);
        nt_buf_free(&gz);

        /* windows-1251 bytes, the charset only in the XML declaration. */
        nt_buf_init(&plain, 1 << 20);
        data = nt_test_slurp(source_path("config/samples/"
                                         "obozrevatel-cp1251.rss.xml",
                                         path, sizeof(path)),
                             NULL);
        nt_test_warc_response(&plain, "https://obozrevatel.example/rss",
                              "application/rss+xml", data, false, 0, false);
        nt_test_write(dir, "4-obozrevatel.warc", plain.data, plain.len);
        free(data);
        nt_buf_free(&plain);
}

/* What the shipped rules make of the samples: title -> labels. */
static const char *const expected[][2] = {
    {"Allies sketch a 15-year framework of security guarantees for Ukraine",
     "guarantees"},
    {"Coalition of the willing plans a reassurance force to back a ceasefire "
     "in Ukraine",
     "guarantees"},
    {"Партнери обговорюють гарантії безпеки для України перед самітом",
     "guarantees"},
    {"Европейские страны обсуждают гарантии безопасности для Украины",
     "guarantees"},
    {"Negotiators argue over a withdrawal of forces from the Donetsk region",
     "territory"},
    {"Київ відкидає вимогу віддати окуповані території в обмін на перемир'я",
     "territory"},
    {"Кремль требует признать новые территориальные реалии", "territory"},
    {"IAEA team rotates at the Zaporizhzhia nuclear power plant",
     "zaporizhzhia"},
    {"МАГАТЕ: на Запорізькій АЕС знову зникло зовнішнє живлення",
     "zaporizhzhia"},
    {"На Запорожской АЭС восстановили резервную линию электропередачи",
     "zaporizhzhia"},
};
#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

static const char *expected_labels(const char *title)
{
        size_t i;

        for (i = 0; i < N_EXPECTED; i++)
                if (strcmp(expected[i][0], title) == 0)
                        return expected[i][1];
        return "";
}

static bool classify_built(void)
{
        char *out, *err;
        bool yes;

        cr_assert_eq(run(&out, &err, "--help", NULL), 0);
        yes = strstr(out, "\n  classify ") != NULL;
        free(out);
        free(err);
        return yes;
}

struct distinct {
        char keys[64][40];
        int n, want;
};

static bool count_distinct(const rd_kafka_message_t *rkm, void *ctx)
{
        struct distinct *d = ctx;
        char key[40];
        int i;

        snprintf(key, sizeof(key), "%.*s", (int)rkm->key_len,
                 (const char *)rkm->key);
        for (i = 0; i < d->n; i++)
                if (strcmp(d->keys[i], key) == 0)
                        return false;
        if (d->n < 64)
                snprintf(d->keys[d->n++], sizeof(d->keys[0]), "%s", key);
        return d->n >= d->want;
}

Test(real, mixed_archive_replayed_classified_and_tailed)
{
        const char *bs = nt_test_kafka_bootstrap();
        struct names nm;
        struct nt_child classify;
        struct distinct seen = {.want = 18};
        char dir[512], rules[1024], *out, *err, *line, *save = NULL;
        int status, lines = 0, labelled = 0;

        use_names(&nm, bs);
        {
                char labels[3][200];
                const char *topics[] = {nm.raw,    nm.enriched, nm.dlq,
                                        labels[0], labels[1],   labels[2]};
                snprintf(labels[0], sizeof(labels[0]), "%sguarantees",
                         nm.prefix);
                snprintf(labels[1], sizeof(labels[1]), "%sterritory",
                         nm.prefix);
                snprintf(labels[2], sizeof(labels[2]), "%szaporizhzhia",
                         nm.prefix);
                nt_test_make_topics(bs, topics, 6, 3);
        }
        nt_test_tmpdir(dir, sizeof(dir));
        mixed_archive(dir);
        status = run(&out, &err, "replay", dir, NULL);
        cr_assert_eq(status, 0, "replay exited %d: %s%s", status, out, err);
        cr_assert(strstr(out, "4 file(s)"), "%s", out);
        cr_assert(strstr(out, "18 published"), "%s", out);
        free(out);
        free(err);

        if (!classify_built()) {
                nt_test_rmtree(dir);
                cr_skip_test("SKIPPED: `newstap classify` is not built; "
                             "the classify and tail part is left out");
        }
        setenv("NEWSTAP_CONSUMER_GROUP_ID", nm.group, 1);
        setenv("NEWSTAP_CONSUMER_TRANSACTIONAL_ID", nm.txid, 1);
        {
                char *argv[] = {
                    (char *)nt_test_bin(), "classify", "--rules",
                    (char *)source_path("config/rules", rules, sizeof(rules)),
                    NULL};
                cr_assert_eq(nt_child_start(&classify, argv), 0);
        }
        nt_test_read_topic(bs, nm.enriched, count_distinct, &seen, 120000);
        status = nt_child_stop(&classify, SIGTERM, 30000);
        cr_assert_eq(seen.n, 18, "classify wrote events for %d of 18 articles",
                     seen.n);
        cr_assert_eq(status, 0, "classify exited %d", status);

        /* Every article once, with the labels the rules give it. */
        status = run(&out, &err, "tail", "--all", "--from-beginning",
                     "--exit-at-end", "-o", "jsonl", NULL);
        cr_assert_eq(status, 0, "tail exited %d: %s", status, err);
        for (line = strtok_r(out, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                json_t *ev = json_loads(line, 0, NULL), *labels;
                const char *title = json_string_value(
                    json_object_get(json_object_get(ev, "article"), "title"));
                struct nt_buf got;
                size_t i;

                cr_assert_not_null(title, "not an event: %s", line);
                labels = json_object_get(ev, "labels");
                nt_buf_init(&got, 1024);
                for (i = 0; i < json_array_size(labels); i++)
                        nt_buf_printf(&got, "%s%s", i ? "," : "",
                                      json_string_value(json_object_get(
                                          json_array_get(labels, i), "topic")));
                cr_assert_str_eq(nt_buf_str(&got), expected_labels(title),
                                 "labels of \"%s\"", title);
                labelled += got.len > 0;
                lines++;
                nt_buf_free(&got);
                json_decref(ev);
        }
        cr_assert_eq(lines, 18);
        cr_assert_eq(labelled, (int)N_EXPECTED);
        free(out);
        free(err);

        /* One label's topic holds exactly its articles. */
        status = run(&out, &err, "tail", "zaporizhzhia", "--from-beginning",
                     "--exit-at-end", "-f", "%{labels}\\n", NULL);
        cr_assert_eq(status, 0, "tail exited %d: %s", status, err);
        cr_assert_str_eq(out, "zaporizhzhia\nzaporizhzhia\nzaporizhzhia\n");
        free(out);
        free(err);

        /* Its lean label records still show well: each article with its
         * title and a highlighted piece of evidence (in the title or in a
         * snippet), and the score filter reads them. */
        status = run(&out, &err, "tail", "zaporizhzhia", "--from-beginning",
                     "--exit-at-end", "-o", "pretty", "--min-score", "1", NULL);
        cr_assert_eq(status, 0, "tail exited %d: %s", status, err);
        {
                const char *p = out;
                int marks = 0, labels = 0;

                while ((p = strstr(p, "»")) != NULL) {
                        marks++;
                        p++;
                }
                for (p = out; (p = strstr(p, "zaporizhzhia ")) != NULL; p++)
                        labels++;
                cr_assert_eq(marks, 3, "a highlighted match per article:\n%s",
                             out);
                cr_assert_eq(labels, 3, "a labels line per article:\n%s", out);
        }
        free(out);
        free(err);
        status =
            run(&out, &err, "tail", "zaporizhzhia", "--from-beginning",
                "--exit-at-end", "-o", "pretty", "--min-score", "1000", NULL);
        cr_assert_eq(status, 0, "tail exited %d: %s", status, err);
        cr_assert_str_eq(out, "", "no score reaches 1000");
        free(out);
        free(err);
        nt_test_rmtree(dir);
}

/* ---- tail --since -------------------------------------------------- */

/* Events with these titles, published times (-1: none) and record times,
 * event i on partition i % 3. */
static void put_dated_events(const char *bs, const char *topic, int n,
                             const char *const *titles,
                             const int64_t *published, const int64_t *ts)
{
        char errstr[512], key[40], when[32];
        rd_kafka_t *rk = nt_test_producer(bs);
        int i;

        for (i = 0; i < n; i++) {
                json_t *ev = json_object(), *art = json_object();
                char *value;

                snprintf(key, sizeof(key), "%032d", i);
                json_object_set_new(art, "id", json_string(key));
                json_object_set_new(art, "title", json_string(titles[i]));
                if (published[i] >= 0) {
                        nt_date_format(published[i], when, sizeof(when));
                        json_object_set_new(art, "published",
                                            json_string(when));
                }
                json_object_set_new(ev, "schema",
                                    json_string("newstap.enriched/1"));
                json_object_set_new(ev, "article", art);
                json_object_set_new(ev, "labels", json_array());
                value = json_dumps(ev, JSON_COMPACT);
                json_decref(ev);
                cr_assert_eq(rd_kafka_producev(
                                 rk, RD_KAFKA_V_TOPIC(topic),
                                 RD_KAFKA_V_PARTITION(i % 3),
                                 RD_KAFKA_V_KEY(key, strlen(key)),
                                 RD_KAFKA_V_VALUE(value, strlen(value)),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_TIMESTAMP(ts[i]), RD_KAFKA_V_END),
                             0);
                free(value);
        }
        cr_assert_eq(nt_kafka_flush(rk, 30000, errstr, sizeof(errstr)), 0, "%s",
                     errstr);
        rd_kafka_destroy(rk);
}

/* Events titled "Event i", without a published time. */
static void put_events(const char *bs, const char *topic, int n,
                       const int64_t *ts)
{
        char titles[16][32];
        const char *tp[16];
        int64_t published[16];
        int i;

        cr_assert(n <= 16);
        for (i = 0; i < n; i++) {
                snprintf(titles[i], sizeof(titles[i]), "Event %d", i);
                tp[i] = titles[i];
                published[i] = -1;
        }
        put_dated_events(bs, topic, n, tp, published, ts);
}

static int cmp_lines(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Checks that tail, from a start (an option and its value), prints these
 * titles (sorted, comma-separated); on a mismatch it says what tail printed,
 * in its order with partitions and offsets, and what it said on stderr. */
static void expect_titles(const char *opt, const char *start, const char *want,
                          const char *why)
{
        char *out, *err, *raw, *lines[16], *line, *save = NULL;
        char got[512];
        int status, n = 0, i;
        size_t used = 0;

        status = run(&out, &err, "tail", "--all", opt, start, "-f",
                     "%{title}\\tpartition %p offset %o\\n", NULL);
        cr_assert_eq(status, 0, "tail %s %s exited %d: %s", opt, start, status,
                     err);
        raw = strdup(out);
        cr_assert(raw);
        for (line = strtok_r(out, "\n", &save); line && n < 16;
             line = strtok_r(NULL, "\n", &save)) {
                line[strcspn(line, "\t")] = '\0';
                lines[n++] = line;
        }
        qsort(lines, (size_t)n, sizeof(lines[0]), cmp_lines);
        got[0] = '\0';
        for (i = 0; i < n && used < sizeof(got); i++)
                used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s",
                                         i ? "," : "", lines[i]);
        cr_assert_str_eq(got, want,
                         "tail --all %s %s (%s): got \"%s\", want \"%s\"; "
                         "it printed:\n%s\nand on stderr:\n%s",
                         opt, start, why, got, want, raw, err);
        free(raw);
        free(out);
        free(err);
}

Test(real, since_picks_the_first_record_at_or_after_the_time)
{
        const char *bs = nt_test_kafka_bootstrap();
        struct names nm;
        struct timespec now;
        int64_t t0, ts[6];
        char since[64];
        time_t secs;
        struct tm tm;
        int i;

        use_names(&nm, bs);
        one_topic(bs, nm.enriched, 3, NULL);
        /* Six events an hour apart, the last an hour ago, over three
         * partitions. */
        clock_gettime(CLOCK_REALTIME, &now);
        t0 = (int64_t)now.tv_sec * 1000 - 6 * 3600 * 1000LL;
        for (i = 0; i < 6; i++)
                ts[i] = t0 + i * 3600 * 1000LL;
        put_events(bs, nm.enriched, 6, ts);

        secs = (time_t)((ts[3] - 1800 * 1000) / 1000);
        gmtime_r(&secs, &tm);
        strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
        expect_titles("--since", since, "Event 3,Event 4,Event 5",
                      "half an hour before the fourth");

        secs = (time_t)(ts[2] / 1000);
        gmtime_r(&secs, &tm);
        strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
        expect_titles("--since", since, "Event 2,Event 3,Event 4,Event 5",
                      "exactly the third");

        expect_titles("--since", "90m", "Event 5", "the last");
        expect_titles("--since", "30m", "", "nothing that recent");
        expect_titles("--since", "7h",
                      "Event 0,Event 1,Event 2,Event 3,Event 4,Event 5", "all");
}

/* ---- tail --since on the published time, kcat's starts ------------ */

/* Records carry the time they were written; an archive replayed now is
 * new on the topic but old news. --since (and -o @TIME) start by record
 * time and show what was published since then, so that what tail shows
 * matches what it was asked. */
Test(real, since_shows_what_was_published_since_then)
{
        const char *bs = nt_test_kafka_bootstrap();
        static const char *const titles[] = {"Written before", "Old archive",
                                             "Fresh", "Undated"};
        struct names nm;
        struct timespec now;
        int64_t t, published[4], ts[4];
        char ms[32];

        use_names(&nm, bs);
        one_topic(bs, nm.enriched, 3, NULL);
        clock_gettime(CLOCK_REALTIME, &now);
        t = (int64_t)now.tv_sec * 1000;
        /* Written and published 5 h ago. */
        published[0] = ts[0] = t - 5 * 3600 * 1000LL;
        /* Replayed 10 min ago, published in January 2025. */
        published[1] = 1736071200000LL;
        ts[1] = t - 600 * 1000;
        /* Published an hour ago, written 10 min ago. */
        published[2] = t - 3600 * 1000;
        ts[2] = t - 600 * 1000;
        /* No published time, written 10 min ago. */
        published[3] = -1;
        ts[3] = t - 600 * 1000;
        put_dated_events(bs, nm.enriched, 4, titles, published, ts);

        expect_titles("--since", "2h", "Fresh,Undated",
                      "not the archive of 2025");
        expect_titles("-o", "@2h", "Fresh,Undated", "as --since");
        snprintf(ms, sizeof(ms), "s@%lld", (long long)(t - 2 * 3600 * 1000LL));
        expect_titles("--offset", ms, "Fresh,Undated", "as --since");
        expect_titles("--since", "30m", "Undated",
                      "undated, by its record time");
        expect_titles("--since", "6h", "Fresh,Undated,Written before",
                      "all but the archive");

        /* -N is the last N of each partition, as in kcat. */
        expect_titles("-o", "-1", "Fresh,Old archive,Undated",
                      "the last of each partition");
        expect_titles("-o", "beginning",
                      "Fresh,Old archive,Undated,Written before", "all");
}

/* ---- replay --speed, --skip-seen, corrupt archives ------------------ */

/* Three items `gap` apart in published time ("00:00:01" or "01:00:00"
 * after 10:00:00). */
static char *paced_feed(const char *second, const char *third)
{
        struct nt_buf b;

        nt_buf_init(&b, 1 << 16);
        nt_buf_printf(&b,
                      "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel>"
                      "<title>Paced</title><link>https://paced.example/</link>"
                      "<item><title>A</title><link>https://paced.example/a"
                      "</link><pubDate>Mon, 05 Jan 2026 10:00:00 +0000"
                      "</pubDate></item>"
                      "<item><title>B</title><link>https://paced.example/b"
                      "</link><pubDate>Mon, 05 Jan 2026 %s +0000"
                      "</pubDate></item>"
                      "<item><title>C</title><link>https://paced.example/c"
                      "</link><pubDate>Mon, 05 Jan 2026 %s +0000"
                      "</pubDate></item></channel></rss>",
                      second, third);
        return nt_buf_detach(&b);
}

/* Replays one file with the options; returns the seconds it took. */
static double timed_replay(const char *path, const char *const *opts, size_t n)
{
        const char *args[8];
        char *out, *err;
        double t;
        size_t i;
        int status;

        args[0] = "replay";
        for (i = 0; i < n; i++)
                args[i + 1] = opts[i];
        args[n + 1] = path;
        t = now_s();
        status = newstap(args, n + 2, &out, &err);
        t = now_s() - t;
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_assert(strstr(out, "3 published"), "%s", out);
        free(out);
        free(err);
        return t;
}

Test(real, speed_follows_the_published_times)
{
        static const char *const speed2[] = {"--speed", "2"};
        static const char *const capped[] = {"--speed", "1", "--max-gap",
                                             "200ms"};
        const char *bs = nt_test_kafka_bootstrap();
        struct names nm;
        char dir[512], near[600], far[600];
        char *a = paced_feed("10:00:01", "10:00:02");
        char *b = paced_feed("11:00:00", "12:00:00");
        double took;

        use_names(&nm, bs);
        one_topic(bs, nm.raw, 1, NULL);
        nt_test_tmpdir(dir, sizeof(dir));
        nt_test_write(dir, "near.xml", a, strlen(a));
        nt_test_write(dir, "far.xml", b, strlen(b));
        snprintf(near, sizeof(near), "%s/near.xml", dir);
        snprintf(far, sizeof(far), "%s/far.xml", dir);

        /* Two gaps of a second at twice the pace: a second at least. */
        took = timed_replay(near, speed2, 2);
        cr_assert_geq(took, 0.9, "--speed 2 took %.3f s", took);
        cr_assert_lt(took, 30, "--speed 2 took %.3f s", took);
        /* Two gaps of an hour, each cut to 200 ms. */
        took = timed_replay(far, capped, 4);
        cr_assert_geq(took, 0.35, "--max-gap 200ms took %.3f s", took);
        cr_assert_lt(took, 30, "--max-gap 200ms took %.3f s", took);
        nt_test_rmtree(dir);
        free(a);
        free(b);
}

static int64_t topic_size(const char *bs, const char *topic, int partitions)
{
        const char *props[] = {"bootstrap.servers", bs, NULL};
        char errstr[512], group[128];
        rd_kafka_t *rk;
        int64_t lo, hi, total = 0;
        int p;

        nt_test_unique_name("size", group, sizeof(group));
        rk = nt_kafka_consumer_new(NULL, group, props, errstr, sizeof(errstr));
        cr_assert_not_null(rk, "%s", errstr);
        for (p = 0; p < partitions; p++) {
                cr_assert_eq(rd_kafka_query_watermark_offsets(rk, topic, p, &lo,
                                                              &hi, 10000),
                             0);
                total += hi - lo;
        }
        rd_kafka_destroy(rk);
        return total;
}

Test(real, skip_seen_adds_no_new_ids)
{
        const char *bs = nt_test_kafka_bootstrap();
        struct names nm;
        char dir[512], samples[1024], *out, *err;
        int status;

        use_names(&nm, bs);
        one_topic(bs, nm.raw, 3, NULL);
        nt_test_tmpdir(dir, sizeof(dir));
        mixed_archive(dir);
        status = run(&out, &err, "replay", dir, NULL);
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_assert(strstr(out, "18 published"), "%s", out);
        free(out);
        free(err);
        cr_assert_eq(topic_size(bs, nm.raw, 3), 18);

        /* The same articles once more, from the sample files this time. */
        status =
            run(&out, &err, "replay", "--skip-seen",
                source_path("config/samples", samples, sizeof(samples)), NULL);
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_assert(strstr(out, "0 published, 18 duplicate(s) skipped"), "%s",
                  out);
        cr_assert(strstr(out, "18 already on the topic"), "%s", out);
        free(out);
        free(err);
        cr_assert_eq(topic_size(bs, nm.raw, 3), 18, "no new records");
        nt_test_rmtree(dir);
}

/* ---- No silent cuts ------------------------------------------------ */

/* A feed file of more entries than produce keeps of a live feed (10,000):
 * replay publishes every one of them, and says nothing was lost. Before,
 * it stopped at 10,000 and exited 0 with "0 error(s)". */
Test(real, replay_streams_a_feed_file_past_the_entry_limit)
{
        const int n = 10050;
        const char *bs = nt_test_kafka_bootstrap();
        struct names nm;
        char *doc;
        char dir[512], want[64], *out, *err;
        int status;

        use_names(&nm, bs);
        one_topic(bs, nm.raw, 3, NULL);
        nt_test_tmpdir(dir, sizeof(dir));
        doc = nt_test_rss("<?xml version=\"1.0\"?><rss version=\"2.0\">"
                          "<channel><title>Big archive</title>",
                          n,
                          "<item><title>Item %1$d</title><link>"
                          "http://big.example/%1$d</link></item>\n");
        nt_test_write(dir, "big.xml", doc, strlen(doc));
        free(doc);
        status = run(&out, &err, "replay", dir, NULL);
        snprintf(want, sizeof(want), "%d published", n);
        cr_assert(strstr(out, want), "not every entry was published: %s%s", out,
                  err);
        cr_assert_eq(status, 0, "replay exited %d: %s%s", status, out, err);
        cr_assert(strstr(out, " 0 error(s)"), "%s", out);
        free(out);
        free(err);
        cr_assert_eq(topic_size(bs, nm.raw, 3), n);
        nt_test_rmtree(dir);
}

/* A cut that replay cannot avoid (a description nested deeper than the
 * XML depth limit) is reported with the file and the run exits 1; what
 * was kept is still published. */
Test(real, replay_reports_a_cut_and_exits_1)
{
        const char *bs = nt_test_kafka_bootstrap();
        struct names nm;
        char dir[512], fixture[512], *out, *err, *data;
        size_t len;
        int status;

        use_names(&nm, bs);
        one_topic(bs, nm.raw, 3, NULL);
        nt_test_tmpdir(dir, sizeof(dir));
        data = nt_test_slurp(source_path("tests/fixtures/feeds/"
                                         "rss20-deep-description.xml",
                                         fixture, sizeof(fixture)),
                             &len);
        cr_assert_not_null(data);
        nt_test_write(dir, "deep.xml", data, len);
        free(data);
        status = run(&out, &err, "replay", dir, NULL);
        cr_assert_eq(status, 1, "a cut feed replayed with exit %d: %s%s",
                     status, out, err);
        cr_assert(strstr(err, "deep.xml"), "the file is not named: %s", err);
        cr_assert(strstr(err, "cut by the depth limit"), "%s", err);
        cr_assert(strstr(out, "1 published"), "%s", out);
        cr_assert(strstr(out, "1 error(s)"), "%s", out);
        free(out);
        free(err);
        nt_test_rmtree(dir);
}

/* ---- Record time --------------------------------------------------- */

struct stamps {
        int64_t lo, hi;   /* the window record times must fall in */
        size_t n, inside; /* records read; with a time in the window */
        size_t with_header, header_matches; /* `published` header: there;
                                               equal to the article's */
};

static bool check_stamp(const rd_kafka_message_t *rkm, void *ctx)
{
        struct stamps *s = ctx;
        rd_kafka_timestamp_type_t type;
        int64_t ts = rd_kafka_message_timestamp(rkm, &type);
        rd_kafka_headers_t *hdrs = NULL;
        const void *val;
        size_t len;

        s->n++;
        s->inside += ts >= s->lo && ts <= s->hi;
        if (rd_kafka_message_headers(rkm, &hdrs) == 0 &&
            rd_kafka_header_get_last(hdrs, "published", &val, &len) == 0) {
                json_t *art = json_loadb(rkm->payload, rkm->len, 0, NULL);
                const char *pub =
                    json_string_value(json_object_get(art, "published"));

                s->with_header++;
                s->header_matches +=
                    pub && strlen(pub) == len && memcmp(pub, val, len) == 0;
                json_decref(art);
        }
        return false;
}

static void read_stamps(const char *bs, const char *topic, int64_t lo,
                        int64_t hi, struct stamps *s)
{
        memset(s, 0, sizeof(*s));
        s->lo = lo;
        s->hi = hi;
        nt_test_read_topic(bs, topic, check_stamp, s, 15000);
}

static int64_t wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The samples are dated January 2026: stamped with that time, a topic
 * with a day's retention (Kafka's default is seven) would drop them at
 * its next check. Replay stamps the time of writing unless asked; with
 * --timestamp published it names the records the topic will not keep. */
Test(real, replayed_records_carry_the_time_they_were_written)
{
        const char *bs = nt_test_kafka_bootstrap();
        struct names nm;
        struct stamps st;
        char samples[1024], *out, *err;
        int64_t t0, t1;
        int status;

        use_names(&nm, bs);
        one_topic(bs, nm.raw, 3, "86400000");
        source_path("config/samples", samples, sizeof(samples));
        t0 = wall_ms();
        status = run(&out, &err, "replay", samples, NULL);
        t1 = wall_ms();
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_assert(strstr(out, "18 published"), "%s", out);
        cr_assert_null(strstr(out, "retention"), "%s", out);
        free(out);
        free(err);
        read_stamps(bs, nm.raw, t0 - 1000, t1 + 1000, &st);
        cr_assert_eq(st.n, 18);
        cr_assert_eq(st.inside, 18,
                     "%zu of 18 records stamped outside the replay's time",
                     st.n - st.inside);
        cr_assert_eq(st.with_header, 18, "published headers: %zu",
                     st.with_header);
        cr_assert_eq(st.header_matches, st.with_header,
                     "the published header differs from the article's");

        /* The published time, on request: warned about and counted. */
        use_names(&nm, bs);
        one_topic(bs, nm.raw, 3, "86400000");
        status = run(&out, &err, "replay", "--timestamp", "published", samples,
                     NULL);
        cr_assert_eq(status, 0, "%s%s", out, err);
        cr_assert(strstr(err, "retention.ms"), "no warning: %s", err);
        cr_assert(strstr(out, "older than the topic's retention.ms"), "%s",
                  out);
        free(out);
        free(err);
        read_stamps(bs, nm.raw, 0, wall_ms() - 86400000LL, &st);
        cr_assert_eq(st.n, st.inside,
                     "--timestamp published: %zu of %zu records are recent",
                     st.n - st.inside, st.n);

        status = run(&out, &err, "replay", "--timestamp", "yesterday", samples,
                     NULL);
        cr_assert_eq(status, 2, "a bad --timestamp is a usage error: %s", err);
        free(out);
        free(err);
}

/* Ctrl-C stops a paced replay of JSON lines: what was sent is confirmed,
 * the rest of the file is not published, and the exit status is 1. */
Test(real, interrupt_stops_a_paced_jsonl_replay)
{
        const char *bs = nt_test_kafka_bootstrap();
        struct names nm;
        char *feed;
        struct nt_child child;
        struct timespec tick = {0, 20 * 1000 * 1000};
        char dir[512], feed_path[600], jsonl_path[600];
        char *argv[] = {
            (char *)nt_test_bin(), "replay", "--rate", "100", jsonl_path, NULL};
        char *out, *err;
        int64_t at_signal, after;
        time_t deadline;
        int status;

        use_names(&nm, bs);
        one_topic(bs, nm.raw, 1, NULL);
        nt_test_tmpdir(dir, sizeof(dir));
        feed = nt_test_rss("<?xml version=\"1.0\"?><rss version=\"2.0\">"
                           "<channel><title>Wire</title>"
                           "<link>https://wire.example/</link>",
                           3000,
                           "<item><title>Dispatch %1$d</title>"
                           "<link>https://wire.example/d/%1$d</link>"
                           "<description>Port cranes idle on day %1$d of "
                           "the strike.</description></item>");
        nt_test_write(dir, "wire.xml", feed, strlen(feed));
        free(feed);
        snprintf(feed_path, sizeof(feed_path), "%s/wire.xml", dir);
        snprintf(jsonl_path, sizeof(jsonl_path), "%s/wire.jsonl", dir);
        status = run(&out, &err, "parse", "--articles", feed_path, NULL);
        cr_assert_eq(status, 0, "%s", err);
        cr_assert_eq(count_lines(out), 3000);
        nt_test_write(dir, "wire.jsonl", out, strlen(out));
        free(out);
        free(err);

        cr_assert_eq(nt_child_start(&child, argv), 0);
        deadline = time(NULL) + 60;
        while (topic_size(bs, nm.raw, 1) < 20 && time(NULL) < deadline)
                nanosleep(&tick, NULL);
        at_signal = topic_size(bs, nm.raw, 1);
        cr_assert_geq(at_signal, 20, "the replay never got going");
        status = nt_child_stop(&child, SIGINT, 30000);
        after = topic_size(bs, nm.raw, 1);
        cr_assert_eq(status, 1, "interrupted replay exited %d", status);
        /* At 100 a second, a second's worth of slack covers what was in
         * flight and the time to stop; the file holds 3,000. */
        cr_assert_leq(after, at_signal + 100,
                      "%lld records at the signal, %lld after it",
                      (long long)at_signal, (long long)after);
        nt_test_rmtree(dir);
}

Test(real, corrupt_archives_are_reported_and_skipped)
{
        const char *bs = nt_test_kafka_bootstrap();
        struct names nm;
        char dir[512], want[256], *out, *err;
        char *feed = paced_feed("10:00:01", "10:00:02");
        struct nt_buf gz, plain;
        unsigned char junk[1024];
        size_t cut, bad;
        int i, status;

        use_names(&nm, bs);
        one_topic(bs, nm.raw, 1, NULL);
        nt_test_tmpdir(dir, sizeof(dir));
        nt_buf_init(&gz, 1 << 20);
        cut = nt_test_warc_response(&gz, "https://paced.example/rss",
                                    "text/xml", feed, false, 0, true);
        gz.len = cut + (gz.len - cut) * 2 / 3;
        nt_test_write(dir, "a.warc.gz", gz.data, gz.len);
        nt_buf_init(&plain, 1 << 20);
        bad = nt_test_warc_response(&plain, "https://paced.example/rss",
                                    "text/xml", feed, false, -12, false);
        nt_test_write(dir, "b.warc", plain.data, plain.len);
        for (i = 0; i < (int)sizeof(junk); i++)
                junk[i] = (unsigned char)(i * 61 + 7);
        nt_test_write(dir, "c.bin", junk, sizeof(junk));
        status = run(&out, &err, "replay", dir, NULL);
        cr_assert_eq(status, 1, "exit %d: %s%s", status, out, err);
        snprintf(want, sizeof(want),
                 "a.warc.gz: record 1 (gzip member at byte %zu): gzip member "
                 "at byte %zu is truncated",
                 cut, cut);
        cr_assert(strstr(err, want), "want \"%s\" in: %s", want, err);
        snprintf(want, sizeof(want), "b.warc: record 1 at byte %zu: ", bad);
        cr_assert(strstr(err, want), "want \"%s\" in: %s", want, err);
        cr_assert(strstr(err, "c.bin: not a feed"), "%s", err);
        cr_assert(strstr(out, "0 published"), "%s", out);
        cr_assert(strstr(out, "3 error(s)"), "%s", out);
        free(out);
        free(err);
        nt_buf_free(&gz);
        nt_buf_free(&plain);
        nt_test_rmtree(dir);
        free(feed);
}

/* ---- tail --group --------------------------------------------------- */

Test(real, tail_group_commits_what_it_read)
{
        const char *bs = nt_test_kafka_bootstrap();
        struct names nm;
        char group[160], *out, *err;
        int64_t ts[4];
        const char *first[] = {
            "tail",          "--all", "--group",    group, "--from-beginning",
            "--exit-at-end", "-f",    "%{title}\\n"};
        const char *again[] = {"tail",          "--all", "--group",    group,
                               "--exit-at-end", "-f",    "%{title}\\n"};
        int i, status;

        use_names(&nm, bs);
        nt_test_unique_name("tail-group", group, sizeof(group));
        one_topic(bs, nm.enriched, 3, NULL);
        for (i = 0; i < 4; i++)
                ts[i] = 1767607200000LL + i * 1000;
        put_events(bs, nm.enriched, 3, ts);
        status = newstap(first, 8, &out, &err);
        cr_assert_eq(status, 0, "exit %d: %s", status, err);
        cr_assert_eq(count_lines(out), 3, "%s", out);
        free(out);
        free(err);
        status = newstap(again, 7, &out, &err);
        cr_assert_eq(status, 0, "exit %d: %s", status, err);
        cr_assert_str_eq(out, "", "the group resumes after what it read");
        free(out);
        free(err);
}
