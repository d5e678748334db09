/* `newstap classify` on the real broker: exactly once through SIGKILLs
 * (10,000 articles, three kills at points where part of the output is
 * visible), dead letters for malformed input while the rest flows, a
 * rebalance between two instances of one group, at-least-once mode, a
 * broker restart. Every check reads the outputs read_committed to the end
 * of each partition after the classifier stopped.
 *
 * Suite "faults" runs the loop in this process against librdkafka's mock
 * cluster, whose injected errors drive the abortable, fatal and
 * refused-output paths; the mock keeps no transaction markers, so there it
 * checks that every input comes through and the loop goes on, not
 * exactly-once. */
// ctest-suites: real faults
#include "common/article.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/kafka.h"
#include "consumer/classify_loop.h"
#include "support/kafka_read.h"
#include "support/nt_test.h"
#include "support/scrape.h"

#include <criterion/criterion.h>
#include <jansson.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARTICLES 12000

static char workdir[64], raw[128], enriched[128], prefix[128], dlq[128],
    group[128];
static rd_kafka_t *feeder;      /* writes the raw topic */
static const char *kafka_extra; /* more of the config's kafka section */
static char rules_dir[128];     /* the rules the classifier reads */
static bool metrics_on;         /* the endpoint on a free port */

/* The three kinds of article: i % 3 picks one. */
static const struct {
        const char *title, *summary, *content, *label;
} kinds[3] = {
    {"Zaporizhzhia nuclear plant loses off-site power again",
     "The IAEA said the plant relied on diesel generators for hours.",
     "Rafael Grossi called the situation at the plant precarious. All six "
     "reactors are in cold shutdown.",
     "zaporizhzhia"},
    {"US offers Ukraine security guarantees for 15 years",
     "Washington has put a 15-year commitment on the table; Kyiv wants 50.",
     "President Volodymyr Zelenskyy said the American offer of security "
     "guarantees was welcome but too short.",
     "guarantees"},
    {"Local bakery wins regional bread award",
     "The judges praised the rye loaf.",
     "The owners plan to open a second shop in the spring.", NULL},
};

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- inputs ------------------------------------------------------ */

/* Where each dead letter candidate landed, from its delivery report. */
struct landed {
        char key[40];
        int32_t partition;
        int64_t offset;
};
static struct landed landed[16];
static size_t n_landed;

static void on_feed_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                             void *opaque)
{
        (void)rk;
        (void)opaque;
        cr_assert_eq(rkm->err, 0, "feeding the raw topic: %s",
                     rd_kafka_err2str(rkm->err));
        if (rkm->key_len > 4 && memcmp(rkm->key, "bad-", 4) == 0 &&
            n_landed < 16 && rkm->key_len < sizeof(landed[0].key)) {
                memcpy(landed[n_landed].key, rkm->key, rkm->key_len);
                landed[n_landed].key[rkm->key_len] = '\0';
                landed[n_landed].partition = rkm->partition;
                landed[n_landed].offset = rkm->offset;
                n_landed++;
        }
}

/* Article i as the producer would publish it. Caller frees. */
static char *article_json(unsigned i)
{
        struct nt_article a;
        char buf[256];
        char *line;

        nt_article_init(&a);
        snprintf(a.id, sizeof(a.id), "%032x", i);
        snprintf(a.revision, sizeof(a.revision), "%016x", i);
        snprintf(buf, sizeof(buf), "%s (%u)", kinds[i % 3].title, i);
        a.title = strdup(buf);
        a.summary = strdup(kinds[i % 3].summary);
        a.content = strdup(kinds[i % 3].content);
        snprintf(buf, sizeof(buf), "https://wire.example/story/%u", i);
        a.url = strdup(buf);
        a.published = 1767607200000LL + (long long)i * 1000;
        line = nt_article_to_json_line(&a);
        cr_assert_not_null(line);
        nt_article_free(&a);
        return line;
}

static void feed(const char *key, const void *value, size_t len)
{
        rd_kafka_resp_err_t err;

        for (;;) {
                err = rd_kafka_producev(
                    feeder, RD_KAFKA_V_TOPIC(raw),
                    RD_KAFKA_V_KEY(key, strlen(key)),
                    RD_KAFKA_V_VALUE((void *)value, len),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        break;
                rd_kafka_poll(feeder, 50);
        }
        cr_assert_eq(err, 0, "producev: %s", rd_kafka_err2str(err));
        rd_kafka_poll(feeder, 0);
}

static void feed_flush(void)
{
        char errstr[256];

        cr_assert_eq(nt_kafka_flush(feeder, 60000, errstr, sizeof(errstr)), 0,
                     "%s", errstr);
}

/* Articles first .. first+n-1 onto the raw topic. */
static void feed_articles(unsigned first, unsigned n)
{
        char key[40];
        unsigned i;

        for (i = first; i < first + n; i++) {
                char *line = article_json(i);

                snprintf(key, sizeof(key), "%032x", i);
                feed(key, line, strlen(line));
                free(line);
        }
        feed_flush();
}

/* ---- the classifier ---------------------------------------------- */

static void write_config(const char *path, const char *txn_id,
                         const char *source, const char *extra)
{
        FILE *f = fopen(path, "w");

        cr_assert_not_null(f);
        fprintf(f,
                "{\"kafka\": {\"bootstrap.servers\": \"%s\","
                " \"session.timeout.ms\": \"6000\"%s%s},"
                " \"topics\": {\"raw\": \"%s\", \"enriched\": \"%s\","
                " \"label_prefix\": \"%s\", \"dlq\": \"%s\"},"
                " \"consumer\": {\"rules\": \"%s\","
                " \"group_id\": \"%s\", \"transactional_id\": \"%s\","
                " \"ce_source\": \"%s\", \"batch_max\": 100,"
                " \"batch_ms\": \"200ms\"%s%s},"
                " \"metrics\": {\"enabled\": \"%s\","
                " \"listen\": \"127.0.0.1:0\"},"
                " \"log\": {\"level\": \"info\"}}\n",
                nt_test_kafka_bootstrap(), kafka_extra ? ", " : "",
                kafka_extra ? kafka_extra : "", raw, enriched, prefix, dlq,
                rules_dir, group, txn_id, source, extra ? ", " : "",
                extra ? extra : "", metrics_on ? "on" : "off");
        fclose(f);
}

/* Starts `newstap classify -c cfg`, its log appended to a file of the
 * work directory (a pipe nobody reads could fill up and stall it). */
static void start(struct nt_child *c, const char *cfg, const char *name)
{
        char cmd[1024];
        char *argv[] = {"/bin/sh", "-c", cmd, NULL};

        snprintf(cmd, sizeof(cmd), "exec '%s' classify -c '%s' 2>>'%s/%s.log'",
                 nt_test_bin(), cfg, workdir, name);
        cr_assert_eq(nt_child_start(c, argv), 0);
}

static void show_log(const char *name)
{
        char cmd[256];

        snprintf(cmd, sizeof(cmd), "tail -n 40 '%s/%s.log' >&2", workdir, name);
        if (system(cmd) != 0)
                fprintf(stderr, "(no log %s)\n", name);
}

/* Stops the classifier started as `name` with SIGTERM: it must exit 0
 * (its log is shown when it does not). */
static void stop_clean(struct nt_child *c, const char *name)
{
        int status = nt_child_stop(c, SIGTERM, 60000);

        if (status != 0)
                show_log(name);
        cr_assert_eq(status, 0, "%s: SIGTERM: exit %d", name, status);
}

/* Kills the classifier with SIGKILL, as a crash would. */
static void kill_hard(struct nt_child *c, const char *what)
{
        int status = nt_child_stop(c, SIGKILL, 10000);

        cr_assert_eq(status, 128 + SIGKILL, "%s: status %d", what, status);
}

/* The configuration file classify.json of the work directory (its path
 * into cfg), for one instance with transactional.id `txn_id`. */
static void classify_config(char *cfg, size_t size, const char *txn_id,
                            const char *extra)
{
        snprintf(cfg, size, "%s/classify.json", workdir);
        write_config(cfg, txn_id, "newstap/classify", extra);
}

/* The names of a suite's topics and group, fresh for each test run:
 * "<stem>-raw", "<stem>-enriched", ... */
static void fresh_names(const char *stem)
{
        char name[100];
        static const char *const what[] = {"raw", "enriched", "dlq", "group",
                                           "label"};
        char *const into[] = {raw, enriched, dlq, group, name};
        const size_t sizes[] = {sizeof(raw), sizeof(enriched), sizeof(dlq),
                                sizeof(group), sizeof(name)};
        char p[64];
        size_t i;

        for (i = 0; i < 5; i++) {
                snprintf(p, sizeof(p), "%s-%s", stem, what[i]);
                nt_test_unique_name(p, into[i], sizes[i]);
        }
        snprintf(prefix, sizeof(prefix), "%s.", name);
}

/* ---- reading the outputs ----------------------------------------- */

static rd_kafka_t *reader(const char *topic, bool eof, int *partitions)
{
        return nt_test_topic_reader(nt_test_kafka_bootstrap(), topic, eof,
                                    partitions);
}

static int key_index(const rd_kafka_message_t *rkm)
{
        char buf[40];
        unsigned long v;
        char *end;

        cr_assert(rkm->key_len == 32, "key of %zu bytes", rkm->key_len);
        memcpy(buf, rkm->key, 32);
        buf[32] = '\0';
        v = strtoul(buf, &end, 16);
        cr_assert(*end == '\0' && v < MAX_ARTICLES, "key %s", buf);
        return (int)v;
}

/* A topic followed while the classifier runs: the distinct articles
 * visible to a read_committed reader so far. */
struct tail {
        rd_kafka_t *rk;
        bool count_only; /* keys are not article ids (the DLQ) */
        unsigned char seen[MAX_ARTICLES];
        size_t distinct, messages;
};

static struct tail *tail_open(const char *topic)
{
        struct tail *t = calloc(1, sizeof(*t));
        int parts;

        cr_assert_not_null(t);
        t->rk = reader(topic, false, &parts);
        return t;
}

static void tail_poll(struct tail *t, int ms)
{
        long long end = now_ms() + ms;

        while (now_ms() < end) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(t->rk, 50);

                if (!rkm)
                        continue;
                if (!rkm->err && t->count_only) {
                        t->messages++;
                } else if (!rkm->err) {
                        int i = key_index(rkm);

                        t->messages++;
                        if (!t->seen[i]++)
                                t->distinct++;
                }
                rd_kafka_message_destroy(rkm);
        }
}

/* Polls until `want` distinct articles are visible; fails after
 * timeout_ms, showing the classifier's log. */
static void tail_wait(struct tail *t, size_t want, int timeout_ms,
                      const char *log)
{
        long long end = now_ms() + timeout_ms;

        while (t->distinct < want && now_ms() < end)
                tail_poll(t, 100);
        if (t->distinct < want)
                show_log(log);
        cr_assert_geq(t->distinct, want,
                      "only %zu of %zu articles visible after %d ms",
                      t->distinct, want, timeout_ms);
}

static void tail_close(struct tail *t)
{
        rd_kafka_destroy(t->rk);
        free(t);
}

/* Starts the classifier as `name` with the enriched topic followed, and
 * waits until `visible` articles are visible on it. */
static struct tail *start_and_wait(struct nt_child *c, const char *cfg,
                                   const char *name, size_t visible,
                                   int timeout_ms)
{
        struct tail *t = tail_open(enriched);

        start(c, cfg, name);
        tail_wait(t, visible, timeout_ms, name);
        return t;
}

/* The dead-letter topic followed until `want` letters are visible, at
 * most `polls` tenths of a second; the caller checks how many came. */
static struct tail *dead_letters_wait(size_t want, int polls)
{
        struct tail *td = tail_open(dlq);
        int k;

        td->count_only = true;
        for (k = 0; k < polls && td->messages < want; k++)
                tail_poll(td, 100);
        return td;
}

/* Everything read back from one output topic. */
#define MAX_PARTS 16
struct view {
        unsigned count[MAX_ARTICLES];
        size_t messages, distinct, duplicates;
        /* Events of one input partition in one output partition whose
         * input offset (from ce_id) is not above the one before. */
        size_t out_of_order;
        long long last_offset[MAX_PARTS][MAX_PARTS];
        size_t from_source_a, from_source_b;
        json_t *dead; /* DLQ: key -> {error, topic, partition, offset, ...} */
        char *lines;  /* the values read, one per line */
        size_t lines_len;
};

static bool header_is(rd_kafka_headers_t *h, const char *name, const char *want)
{
        const void *v;
        size_t len;

        return rd_kafka_header_get_last(h, name, &v, &len) == 0 &&
               len == strlen(want) && memcmp(v, want, len) == 0;
}

/* Checks one record of the enriched topic (label NULL) or of a label's
 * topic: its headers, its schema, its article id = its key. */
static void check_event(const rd_kafka_message_t *rkm, int idx,
                        const char *label)
{
        rd_kafka_headers_t *h = NULL;
        const void *v;
        size_t len;
        json_t *ev, *art;
        char want[64];

        cr_assert_eq(rd_kafka_message_headers(rkm, &h), 0, "no headers");
        cr_assert(header_is(h, "content-type", "application/json"));
        cr_assert(header_is(h, "ce_specversion", "1.0"));
        cr_assert(header_is(h, "ce_type", "org.newstap.article.classified"));
        snprintf(want, sizeof(want), "%032x", idx);
        cr_assert(header_is(h, "ce_subject", want), "ce_subject of %s", want);
        cr_assert_eq(rd_kafka_header_get_last(h, "ce_id", &v, &len), 0);
        cr_assert(len > strlen(raw) && memcmp(v, raw, strlen(raw)) == 0,
                  "ce_id names the input topic");
        ev = json_loadb(rkm->payload, rkm->len, 0, NULL);
        cr_assert_not_null(ev, "an event that is not JSON");
        art = json_object_get(ev, "article");
        nt_test_assert_json_str(art, "id", want);
        cr_assert_str_eq(json_string_value(json_object_get(ev, "schema")),
                         label ? "newstap.label/1" : "newstap.enriched/1");
        if (label) {
                /* The lean record: the label's own, no body. */
                nt_test_assert_json_str(ev, "topic", label);
                cr_assert_null(json_object_get(art, "content"));
        }
        json_decref(ev);
}

/* Events of one input partition keep its order in each output
 * partition: ce_id is "<topic>/<partition>/<offset>". */
static void note_order(struct view *v, const rd_kafka_message_t *rkm)
{
        rd_kafka_headers_t *h = NULL;
        const void *val;
        size_t len;
        char id[256], *slash;
        long in_part, offset;

        if (rd_kafka_message_headers(rkm, &h) != 0 ||
            rd_kafka_header_get_last(h, "ce_id", &val, &len) != 0 ||
            len >= sizeof(id))
                return;
        memcpy(id, val, len);
        id[len] = '\0';
        slash = strrchr(id, '/');
        cr_assert_not_null(slash, "ce_id %s", id);
        offset = strtol(slash + 1, NULL, 10);
        *slash = '\0';
        slash = strrchr(id, '/');
        cr_assert_not_null(slash, "ce_id %s", val);
        in_part = strtol(slash + 1, NULL, 10);
        cr_assert(in_part >= 0 && in_part < MAX_PARTS &&
                  rkm->partition < MAX_PARTS);
        if (v->last_offset[rkm->partition][in_part] >= offset + 1)
                v->out_of_order++;
        v->last_offset[rkm->partition][in_part] = offset + 1;
}

/* Reads `topic` read_committed to the end of every partition. Events are
 * checked (headers, JSON, id = key; label records, kept in v->lines,
 * when `label` is set) unless it is the DLQ. */
static void read_label(const char *topic, struct view *v, bool is_dlq,
                       const char *label)
{
        int parts, eofs = 0;
        rd_kafka_t *rk = reader(topic, true, &parts);
        long long end = now_ms() + 120000;

        memset(v, 0, sizeof(*v));
        v->dead = json_object();
        while (eofs < parts && now_ms() < end) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
                rd_kafka_headers_t *h = NULL;

                if (!rkm)
                        continue;
                if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        eofs++;
                } else if (!rkm->err && is_dlq) {
                        char key[64];
                        const void *val;
                        size_t len;
                        json_t *d = json_object();
                        static const char *const names[] = {
                            "nt_error",
                            "nt_origin_topic",
                            "nt_origin_partition",
                            "nt_origin_offset",
                            "nt_origin_size",
                            "nt_truncated"};
                        size_t k;

                        snprintf(key, sizeof(key), "%.*s", (int)rkm->key_len,
                                 (const char *)rkm->key);
                        rd_kafka_message_headers(rkm, &h);
                        for (k = 0; h && k < 6; k++) {
                                if (rd_kafka_header_get_last(h, names[k], &val,
                                                             &len) == 0)
                                        json_object_set_new(
                                            d, names[k],
                                            json_stringn(val, len));
                        }
                        json_object_set_new(d, "size",
                                            json_integer((json_int_t)rkm->len));
                        json_object_set_new(
                            d, "value",
                            json_stringn(rkm->payload ? rkm->payload : "",
                                         rkm->len < 200 ? rkm->len : 200));
                        json_object_set_new(v->dead, key, d);
                        v->messages++;
                } else if (!rkm->err) {
                        int i = key_index(rkm);

                        check_event(rkm, i, label);
                        note_order(v, rkm);
                        if (label) {
                                v->lines = realloc(v->lines,
                                                   v->lines_len + rkm->len + 2);
                                cr_assert_not_null(v->lines);
                                memcpy(v->lines + v->lines_len, rkm->payload,
                                       rkm->len);
                                v->lines_len += rkm->len;
                                v->lines[v->lines_len++] = '\n';
                                v->lines[v->lines_len] = '\0';
                        }
                        rd_kafka_message_headers(rkm, &h);
                        if (header_is(h, "ce_source", "newstap/classify/a"))
                                v->from_source_a++;
                        if (header_is(h, "ce_source", "newstap/classify/b"))
                                v->from_source_b++;
                        v->messages++;
                        if (v->count[i]++ == 0)
                                v->distinct++;
                        else
                                v->duplicates++;
                }
                rd_kafka_message_destroy(rkm);
        }
        cr_assert_eq(eofs, parts, "%s: reached the end of %d of %d partitions",
                     topic, eofs, parts);
        rd_kafka_destroy(rk);
}

static void read_all(const char *topic, struct view *v, bool is_dlq)
{
        read_label(topic, v, is_dlq, NULL);
}

/* The records of a label topic validate against its schema. */
static void validate_label_records(const struct view *v)
{
        char validate[512], schema[512], *out = NULL, *err = NULL;
        char *argv[] = {validate, schema, NULL};
        int status;

        snprintf(validate, sizeof(validate), "%s/scripts/validate-json",
                 getenv("NT_SOURCE_DIR"));
        snprintf(schema, sizeof(schema), "%s/docs/schema/label.schema.json",
                 getenv("NT_SOURCE_DIR"));
        status = nt_run(argv, v->lines, &out, &err, 120000);
        cr_assert_eq(status, 0, "label records do not validate:\n%s%s", out,
                     err);
        free(out);
        free(err);
}

/* Each of articles [0, n) exactly once on the enriched topic, and on each
 * label topic exactly the articles of that label, once. */
static void check_exactly_once(unsigned n, struct view *v)
{
        static struct view lv;
        char topic[256];
        unsigned i, k;

        read_all(enriched, v, false);
        cr_assert_eq(v->duplicates, 0, "%zu duplicates on %s", v->duplicates,
                     enriched);
        cr_assert_eq(v->out_of_order, 0,
                     "%zu events out of their input partition's order on %s",
                     v->out_of_order, enriched);
        cr_assert_eq(v->distinct, n, "%zu of %u articles on %s", v->distinct, n,
                     enriched);
        cr_assert_eq(v->messages, n);
        for (k = 0; k < 2; k++) {
                size_t want = 0;

                snprintf(topic, sizeof(topic), "%s%s", prefix, kinds[k].label);
                read_label(topic, &lv, false, kinds[k].label);
                for (i = 0; i < n; i++) {
                        unsigned expect = i % 3 == k ? 1 : 0;

                        want += expect;
                        cr_assert_eq(lv.count[i], expect,
                                     "article %u appears %u times on %s", i,
                                     lv.count[i], topic);
                }
                cr_assert_eq(lv.messages, want);
                if (want)
                        validate_label_records(&lv);
                json_decref(lv.dead);
                free(lv.lines);
        }
}

/* The end of a run: all n articles visible within timeout_ms, a clean
 * stop, and the enriched topic read back into v holding each exactly
 * once. */
static void finish_exactly_once(struct nt_child *c, struct tail *t, unsigned n,
                                int timeout_ms, const char *name,
                                struct view *v)
{
        tail_wait(t, n, timeout_ms, name);
        stop_clean(c, name);
        tail_close(t);
        /* The classifier's log tells how a duplicate came; the workdir
         * goes with the test. */
        if (getenv("NT_TEST_KEEP_LOGS")) {
                char cmd[512];

                snprintf(cmd, sizeof(cmd),
                         "cp '%s/%s.log' \"$NT_TEST_KEEP_LOGS/%s-%d.log\"",
                         workdir, name, name, (int)getpid());
                if (system(cmd) != 0)
                        fprintf(stderr, "(log %s not kept)\n", name);
        }
        check_exactly_once(n, v);
}

/* ---- the metrics endpoint ---------------------------------------- */

/* The port the classifier logged for its endpoint; 0 when not found. */
static unsigned metrics_port(const char *name)
{
        static const char needle[] = "metrics and health on port ";
        char path[256], line[4096];
        unsigned port = 0;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s.log", workdir, name);
        f = fopen(path, "r");
        while (f && !port && fgets(line, sizeof(line), f)) {
                char *p = strstr(line, needle);

                if (p)
                        port =
                            (unsigned)strtoul(p + sizeof(needle) - 1, NULL, 10);
        }
        if (f)
                fclose(f);
        return port;
}

/* ---- suite ------------------------------------------------------- */

static void setup(void)
{
        /* Inputs up to 2 MB: a dead letter of a whole 1 MB input. */
        const char *props[] = {"bootstrap.servers",
                               nt_test_kafka_bootstrap(),
                               "linger.ms",
                               "10",
                               "message.max.bytes",
                               "2000000",
                               NULL};
        const char *topics[2];
        char errstr[512];

        fresh_names("nt-cls");
        snprintf(workdir, sizeof(workdir), "/tmp/nt-cls-XXXXXX");
        cr_assert_not_null(mkdtemp(workdir));
        feeder = nt_kafka_producer_new(NULL, props, on_feed_delivery, NULL,
                                       errstr, sizeof(errstr));
        cr_assert_not_null(feeder, "%s", errstr);
        topics[0] = raw;
        topics[1] = enriched;
        cr_assert_eq(nt_kafka_create_topics(feeder, topics, 2, 3, 15000, errstr,
                                            sizeof(errstr)),
                     0, "%s", errstr);
        topics[0] = dlq;
        cr_assert_eq(nt_kafka_create_topics(feeder, topics, 1, 1, 15000, errstr,
                                            sizeof(errstr)),
                     0, "%s", errstr);
        n_landed = 0;
        kafka_extra = NULL;
        metrics_on = false;
        snprintf(rules_dir, sizeof(rules_dir), "%s/config/rules",
                 getenv("NT_SOURCE_DIR"));
}

static void teardown(void)
{
        char cmd[128];

        if (feeder)
                rd_kafka_destroy(feeder);
        feeder = NULL;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", workdir);
        cr_assert_eq(system(cmd), 0);
}

TestSuite(real, .init = setup, .fini = teardown, .timeout = 400);

Test(real, exactly_once_through_sigkill)
{
        static const size_t at[] = {1500, 4000, 6500};
        static struct view v;
        const unsigned n = 10000;
        char cfg[128];
        struct nt_child c;
        struct tail *t;
        size_t seen[3], k;
        long long t0 = now_ms();

        feed_articles(0, n);
        classify_config(cfg, sizeof(cfg), "nt-test-eo", NULL);
        t = tail_open(enriched);
        start(&c, cfg, "eo");
        for (k = 0; k < 3; k++) {
                tail_wait(t, at[k], 180000, "eo");
                seen[k] = t->distinct;
                cr_assert_lt(seen[k], n,
                             "kill %zu came after the end: the run was "
                             "too fast for this test",
                             k + 1);
                kill_hard(&c, "eo");
                start(&c, cfg, "eo");
        }
        finish_exactly_once(&c, t, n, 240000, "eo", &v);
        fprintf(stderr,
                "exactly-once: %u articles, 3 SIGKILLs at %zu/%zu/%zu "
                "visible; read back %zu events, %zu distinct, %zu "
                "duplicates; %.1f s\n",
                n, seen[0], seen[1], seen[2], v.messages, v.distinct,
                v.duplicates, (double)(now_ms() - t0) / 1000.0);
        json_decref(v.dead);
}

Test(real, dead_letters_and_the_rest_flows)
{
        static struct view v, d;
        const unsigned n = 300;
        struct nt_buf body;
        unsigned port;
        char cfg[128], *big, *line;
        struct nt_child c;
        struct tail *t, *td;
        size_t len;
        unsigned i;
        static const struct {
                const char *key, *value, *error;
        } bad[] = {
            {"bad-not-json", "<rss>not json</rss>", "not_json"},
            {"bad-empty", "", "not_json"},
            {"bad-other-json", "{\"event\":\"page_view\",\"user\":7}",
             "not_article"},
            {"bad-not-article",
             "{\"schema\":\"newstap.article/1\",\"id\":\"42\","
             "\"revision\":\"0123456789abcdef\",\"title\":\"x\"}",
             "not_article"},
        };

        /* An article of about 20 KB, above consumer.max_message. */
        line = article_json(1);
        len = strlen(line) + 20000;
        big = malloc(len + 1);
        cr_assert_not_null(big);
        snprintf(big, len + 1, "%.*s,\"padding\":\"%0*d\"}",
                 (int)strlen(line) - 1, line, 20000 - 14, 0);
        free(line);
        for (i = 0; i < n; i++) {
                char key[40];

                line = article_json(i);
                snprintf(key, sizeof(key), "%032x", i);
                feed(key, line, strlen(line));
                free(line);
                if (i % 60 == 30 && i / 60 < 4)
                        feed(bad[i / 60].key, bad[i / 60].value,
                             strlen(bad[i / 60].value));
        }
        feed("bad-too-large", big, strlen(big));
        feed_flush();
        cr_assert_eq(n_landed, 5);
        metrics_on = true;
        classify_config(cfg, sizeof(cfg), "nt-test-dlq",
                        "\"max_message\": \"16KiB\"");
        t = start_and_wait(&c, cfg, "dlq", n, 120000);
        td = dead_letters_wait(5, 600);
        cr_assert_eq(td->messages, 5, "%zu dead letters visible", td->messages);
        tail_close(td);
        /* The endpoint counts what happened, within a refresh or two. */
        port = metrics_port("dlq");
        cr_assert_gt(port, 0, "the endpoint's port is logged");
        nt_buf_init(&body, 1 << 20);
        for (i = 0; i < 50; i++) {
                cr_assert_eq(nt_test_http_get(port, "/metrics", &body), 200);
                if (strstr(nt_buf_str(&body),
                           "newstap_classify_dead_letters_total 5") &&
                    strstr(nt_buf_str(&body),
                           "newstap_classify_committed_total 305"))
                        break;
                usleep(200000);
        }
        cr_assert_lt(i, 50, "metrics: %s", nt_buf_str(&body));
        cr_assert_eq(nt_test_http_get(port, "/readyz", &body), 200, "%s",
                     nt_buf_str(&body));
        nt_buf_free(&body);
        stop_clean(&c, "dlq");
        tail_close(t);

        read_all(enriched, &v, false);
        cr_assert_eq(v.messages, n, "%zu events for %u good articles",
                     v.messages, n);
        cr_assert_eq(v.distinct, n);
        read_all(dlq, &d, true);
        cr_assert_eq(d.messages, 5, "%zu dead letters", d.messages);
        for (i = 0; i < n_landed; i++) {
                json_t *e = json_object_get(d.dead, landed[i].key);
                const char *want = "too_large";
                char num[32];
                size_t k;

                for (k = 0; k < 4; k++) {
                        if (!strcmp(bad[k].key, landed[i].key)) {
                                want = bad[k].error;
                                break;
                        }
                }
                cr_assert_not_null(e, "no dead letter for %s", landed[i].key);
                cr_assert_str_eq(
                    json_string_value(json_object_get(e, "nt_error")), want,
                    "reason of %s", landed[i].key);
                nt_test_assert_json_str(e, "nt_origin_topic", raw);
                snprintf(num, sizeof(num), "%d", (int)landed[i].partition);
                cr_assert_str_eq(json_string_value(
                                     json_object_get(e, "nt_origin_partition")),
                                 num, "partition of %s", landed[i].key);
                snprintf(num, sizeof(num), "%lld", (long long)landed[i].offset);
                cr_assert_str_eq(
                    json_string_value(json_object_get(e, "nt_origin_offset")),
                    num, "offset of %s", landed[i].key);
                if (strcmp(want, "too_large") == 0) {
                        snprintf(num, sizeof(num), "%zu", strlen(big));
                        nt_test_assert_json_str(e, "nt_origin_size", num);
                        nt_test_assert_json_str(e, "nt_truncated", "true");
                        cr_assert_eq(
                            json_integer_value(json_object_get(e, "size")),
                            16384);
                } else {
                        cr_assert_str_eq(
                            json_string_value(json_object_get(e, "value")),
                            bad[k].value, "the original value of %s",
                            landed[i].key);
                }
        }
        json_decref(v.dead);
        json_decref(d.dead);
        free(big);
}

Test(real, rebalance_between_two_instances)
{
        static struct view v;
        const unsigned n = 6000;
        char cfg_a[128], cfg_b[128];
        struct nt_child a, b;
        struct tail *t;
        unsigned next = 0;

        snprintf(cfg_a, sizeof(cfg_a), "%s/a.json", workdir);
        snprintf(cfg_b, sizeof(cfg_b), "%s/b.json", workdir);
        write_config(cfg_a, "nt-test-a", "newstap/classify/a", NULL);
        write_config(cfg_b, "nt-test-b", "newstap/classify/b", NULL);
        feed_articles(next, 2000);
        next += 2000;
        t = tail_open(enriched);
        start(&a, cfg_a, "a");
        tail_wait(t, 800, 120000, "a");
        /* B joins while A works: A's batch is committed on the revoke. */
        start(&b, cfg_b, "b");
        while (next < 4000) {
                feed_articles(next, 250);
                next += 250;
                tail_poll(t, 200);
        }
        tail_wait(t, 3000, 120000, "b");
        /* A leaves while articles keep coming: B takes its partitions. */
        stop_clean(&a, "a");
        while (next < n) {
                feed_articles(next, 250);
                next += 250;
                tail_poll(t, 200);
        }
        tail_wait(t, n, 180000, "b");
        stop_clean(&b, "b");
        tail_close(t);
        check_exactly_once(n, &v);
        cr_assert_gt(v.from_source_a, 0, "A wrote none of the events");
        cr_assert_gt(v.from_source_b, 0, "B wrote none of the events");
        fprintf(stderr,
                "rebalance: %u articles, %zu events by A, %zu by B, %zu "
                "duplicates\n",
                n, v.from_source_a, v.from_source_b, v.duplicates);
        json_decref(v.dead);
}

Test(real, at_least_once_mode)
{
        static struct view v;
        char cfg[128];
        struct nt_child c;
        struct tail *t;
        size_t i;

        classify_config(cfg, sizeof(cfg), "unused",
                        "\"delivery\": \"at_least_once\"");
        feed_articles(0, 1000);
        t = start_and_wait(&c, cfg, "alo", 1000, 120000);
        stop_clean(&c, "alo");
        /* Without a kill, at-least-once writes each article once. */
        read_all(enriched, &v, false);
        cr_assert_eq(v.distinct, 1000);
        cr_assert_eq(v.duplicates, 0, "%zu duplicates without a kill",
                     v.duplicates);
        json_decref(v.dead);

        feed_articles(1000, 2000);
        start(&c, cfg, "alo");
        tail_wait(t, 1600, 120000, "alo");
        kill_hard(&c, "alo");
        start(&c, cfg, "alo");
        tail_wait(t, 3000, 180000, "alo");
        stop_clean(&c, "alo");
        tail_close(t);
        read_all(enriched, &v, false);
        for (i = 0; i < 3000; i++)
                cr_assert_geq(v.count[i], 1, "article %zu lost", i);
        cr_assert_eq(v.distinct, 3000);
        fprintf(stderr,
                "at-least-once: 3000 articles, 1 SIGKILL; %zu events, %zu "
                "duplicates (allowed after the kill)\n",
                v.messages, v.duplicates);
        json_decref(v.dead);
}

/* Runs `scripts/kafka-local <action>` on the broker while the run
 * followed by t is under way (fewer than n articles visible); how many
 * were visible then. */
static size_t broker_mid_run(const struct tail *t, unsigned n,
                             const char *action)
{
        size_t seen = t->distinct;

        cr_assert_lt(seen, n, "the run ended before the broker's %s", action);
        cr_assert_eq(nt_test_kafka_local(action), 0,
                     "scripts/kafka-local %s failed", action);
        return seen;
}

/* The broker goes down and comes back (same ports, same data) while a
 * batch is open: the transaction ends in an abortable or fatal error, the
 * classifier aborts or rebuilds and reads the batch again, and the output
 * still holds each article once. */
Test(real, broker_restart_mid_run)
{
        static struct view v;
        const unsigned n = 5000;
        char cfg[128];
        struct nt_child c;
        struct tail *t;
        size_t seen;

        feed_articles(0, n);
        classify_config(cfg, sizeof(cfg), "nt-test-restart", NULL);
        t = start_and_wait(&c, cfg, "restart", 1000, 180000);
        seen = broker_mid_run(t, n, "restart");
        finish_exactly_once(&c, t, n, 240000, "restart", &v);
        fprintf(stderr,
                "broker restart: %u articles, restart at %zu visible; %zu "
                "events, %zu duplicates\n",
                n, seen, v.messages, v.duplicates);
        json_decref(v.dead);
}

/* SIGTERM while the broker is down: the classifier stops within
 * consumer.shutdown_timeout and exits 0, as the systemd unit's
 * TimeoutStopSec expects; what it had not committed is done by the next
 * run, exactly once. */
Test(real, sigterm_with_the_broker_down_stops_in_time)
{
        static struct view v;
        const unsigned n = 5000;
        char cfg[128];
        struct nt_child c;
        struct tail *t;
        long long t0, took;
        size_t seen;
        int status;

        feed_articles(0, n);
        classify_config(cfg, sizeof(cfg), "nt-test-down",
                        "\"shutdown_timeout\": \"5s\"");
        t = start_and_wait(&c, cfg, "down", 500, 180000);
        seen = broker_mid_run(t, n, "down");
        t0 = now_ms();
        status = nt_child_stop(&c, SIGTERM, 120000);
        took = now_ms() - t0;
        cr_assert_eq(nt_test_kafka_local("up"), 0,
                     "scripts/kafka-local up failed");
        if (status != 0 || took > 6500)
                show_log("down");
        cr_assert_eq(status, 0, "SIGTERM with the broker down: exit %d",
                     status);
        /* 5 s of shutdown_timeout, and the time to reap the process. */
        cr_assert_leq(took, 6500, "SIGTERM with the broker down took %lld ms",
                      took);

        start(&c, cfg, "down");
        finish_exactly_once(&c, t, n, 240000, "down", &v);
        fprintf(stderr,
                "broker down at %zu visible: SIGTERM took %lld ms; %zu "
                "events, %zu duplicates\n",
                seen, took, v.messages, v.duplicates);
        json_decref(v.dead);
}

/* A topic whose max.message.bytes is smaller than one event: the broker
 * refuses the event, the input is tried alone, refused again, and goes to
 * the dead-letter topic; every other input comes out once. */
static bool log_has(const char *name, const char *needle, int timeout_ms);

/* A fresh topic (its name, from `stem`, into `name`) whose records may
 * take at most `max_bytes`. */
static void make_small_topic(char *name, size_t size, const char *stem,
                             int partitions, const char *max_bytes)
{
        rd_kafka_NewTopic_t *nt;
        rd_kafka_queue_t *q;
        rd_kafka_event_t *ev;
        const rd_kafka_topic_result_t **res;
        char errstr[256];
        size_t cnt;

        nt_test_unique_name(stem, name, size);
        nt =
            rd_kafka_NewTopic_new(name, partitions, -1, errstr, sizeof(errstr));
        cr_assert_not_null(nt, "%s", errstr);
        cr_assert_eq(
            rd_kafka_NewTopic_set_config(nt, "max.message.bytes", max_bytes),
            0);
        q = rd_kafka_queue_new(feeder);
        rd_kafka_CreateTopics(feeder, &nt, 1, NULL, q);
        ev = rd_kafka_queue_poll(q, 30000);
        cr_assert_not_null(ev, "CreateTopics: no answer");
        res = rd_kafka_CreateTopics_result_topics(
            rd_kafka_event_CreateTopics_result(ev), &cnt);
        cr_assert_eq(cnt, 1);
        cr_assert_eq(rd_kafka_topic_result_error(res[0]), 0, "%s",
                     rd_kafka_topic_result_error_string(res[0]));
        rd_kafka_event_destroy(ev);
        rd_kafka_queue_destroy(q);
        rd_kafka_NewTopic_destroy(nt);
}

/* Feeds n articles and one input that is not JSON, `bad_size` bytes,
 * runs the classifier until its dead letter is on the topic, stops it,
 * and returns the dead letters read back (caller decrefs). */
static json_t *run_one_dead_letter(const char *name, size_t bad_size,
                                   unsigned n)
{
        static struct view d;
        struct nt_child c;
        struct tail *t, *td;
        char cfg[128], *bad;

        bad = malloc(bad_size);
        cr_assert_not_null(bad);
        memset(bad, 'x', bad_size);
        feed_articles(0, n);
        feed("bad-big", bad, bad_size);
        feed_flush();
        free(bad);
        classify_config(cfg, sizeof(cfg), name, NULL);
        t = start_and_wait(&c, cfg, name, n, 120000);
        td = dead_letters_wait(1, 600);
        if (td->messages < 1)
                show_log(name);
        cr_assert_eq(td->messages, 1,
                     "%zu dead letters on the topic (the classifier's log "
                     "is above)",
                     td->messages);
        tail_close(td);
        stop_clean(&c, name);
        tail_close(t);
        memset(&d, 0, sizeof(d));
        read_all(dlq, &d, true);
        cr_assert_eq(d.messages, 1, "%zu dead letters", d.messages);
        return d.dead;
}

/* consumer.max_message (1 MiB) is above librdkafka's default
 * message.max.bytes (1,000,000): a dead letter of a 1,040,000-byte input
 * was cut to 64 KiB. It now carries the whole input. */
Test(real, a_large_dead_letter_keeps_the_whole_input)
{
        const size_t big = 1040000;
        json_t *dead = run_one_dead_letter("dlq-large", big, 20), *e;

        e = json_object_get(dead, "bad-big");
        cr_assert_not_null(e, "no dead letter for the large input");
        nt_test_assert_json_str(e, "nt_error", "not_json");
        cr_assert_eq(json_integer_value(json_object_get(e, "size")),
                     (json_int_t)big, "the dead letter was cut to %lld bytes",
                     (long long)json_integer_value(json_object_get(e, "size")));
        cr_assert_null(json_object_get(e, "nt_truncated"));
        json_decref(dead);
}

/* A dead-letter topic that takes records of 32 KiB at most: the dead
 * letter of a 40,000-byte input is cut to fit (flagged), not refused,
 * and the summary counts the one dead letter that was committed. Before,
 * the broker refused it twice, the input was skipped, and the summary
 * said "2 dead letter(s)" with none on the topic. */
Test(real, a_dead_letter_fits_its_topic_and_counts_once_committed)
{
        json_t *dead, *e;
        json_int_t size;

        make_small_topic(dlq, sizeof(dlq), "nt-cls-small-dlq", 1, "32768");
        dead = run_one_dead_letter("dlq-small", 40000, 20);
        e = json_object_get(dead, "bad-big");
        cr_assert_not_null(e, "no dead letter for the input");
        size = json_integer_value(json_object_get(e, "size"));
        cr_assert_leq(size, 32768, "%lld bytes", (long long)size);
        cr_assert_gt(size, 30000,
                     "cut to %lld bytes, far below the topic's "
                     "limit",
                     (long long)size);
        nt_test_assert_json_str(e, "nt_truncated", "true");
        nt_test_assert_json_str(e, "nt_origin_size", "40000");
        cr_assert(log_has("dlq-small", "20 event(s), ", 1000),
                  "the summary does not count 20 committed events");
        cr_assert(log_has("dlq-small", " 1 dead letter(s)", 1000),
                  "the summary does not count 1 committed dead letter");
        json_decref(dead);
}

/* One input whose event the broker refuses, amid 300 good ones (150
 * before it, 150 after): the batch is aborted and read again, its inputs
 * tried alone, the guilty one goes to the dead-letter topic, the rest
 * exactly once and in order.
 * `extra`: more of the consumer section. */
static void refused_run(const char *extra)
{
        static struct view v, d;
        const unsigned n = 300;
        struct nt_article a;
        struct nt_child c;
        struct tail *t, *td;
        char cfg[128], key[40], *line, *body;
        size_t k;
        json_t *e;

        /* An enriched topic that takes records of 32 KiB at most, and a
         * classifier whose producer batches stay below that, uncompressed
         * (zstd would shrink the repetitive large event below the
         * limit). */
        make_small_topic(enriched, sizeof(enriched), "nt-cls-small", 3,
                         "32768");
        kafka_extra = "\"batch.size\": \"16384\", \"compression.type\": "
                      "\"none\"";

        /* Half of the good articles before the large one and half after,
         * so that inputs are read ahead of the batch that fails. */
        feed_articles(0, n / 2);
        /* Article n: about 40 KB of text, under consumer.max_message. */
        nt_article_init(&a);
        snprintf(a.id, sizeof(a.id), "%032x", n);
        snprintf(a.revision, sizeof(a.revision), "%016x", n);
        a.title = strdup(kinds[0].title);
        body = malloc(40001);
        cr_assert_not_null(body);
        for (k = 0; k < 40000; k++)
                body[k] = "abcdefg "[k % 8];
        body[40000] = '\0';
        a.content = body;
        line = nt_article_to_json_line(&a);
        nt_article_free(&a);
        snprintf(key, sizeof(key), "%032x", n);
        feed(key, line, strlen(line));
        feed_flush();
        feed_articles(n / 2, n - n / 2);

        classify_config(cfg, sizeof(cfg), "nt-test-refused", extra);
        t = start_and_wait(&c, cfg, "refused", n, 180000);
        td = dead_letters_wait(1, 1200);
        cr_assert_eq(td->messages, 1, "%zu dead letters visible", td->messages);
        tail_close(td);
        stop_clean(&c, "refused");
        tail_close(t);
        check_exactly_once(n, &v);
        cr_assert_eq(v.count[n], 0, "the refused article has no event");
        read_all(dlq, &d, true);
        cr_assert_eq(d.messages, 1, "%zu dead letters", d.messages);
        e = json_object_get(d.dead, key);
        cr_assert_not_null(e, "no dead letter for the large article");
        nt_test_assert_json_str(e, "nt_error", "output_rejected");
        nt_test_assert_json_str(e, "nt_origin_topic", raw);
        cr_assert_eq(json_integer_value(json_object_get(e, "size")),
                     (json_int_t)strlen(line), "the whole input is carried");
        fprintf(stderr,
                "refused event (%s): %u articles through, 1 dead letter "
                "(output_rejected)\n",
                extra ? extra : "default threads", n);
        free(line);
        json_decref(v.dead);
        json_decref(d.dead);
}

Test(real, refused_event_goes_to_dead_letters)
{
        refused_run(NULL);
}

/* The same with events built by four threads ahead of the loop: the
 * inputs read ahead of the aborted batch are dropped and read again, not
 * sent twice or out of order. */
Test(real, refused_event_with_four_threads_reading_ahead)
{
        refused_run("\"threads\": 4");
}

/* And with every event built in the loop's own thread. */
Test(real, refused_event_with_events_built_in_the_loop)
{
        refused_run("\"threads\": 0");
}

/* Waits until the classifier's log holds `needle`; false after
 * timeout_ms. */
static bool log_has(const char *name, const char *needle, int timeout_ms)
{
        long long end = now_ms() + timeout_ms;
        char path[256], line[4096];

        snprintf(path, sizeof(path), "%s/%s.log", workdir, name);
        do {
                FILE *f = fopen(path, "r");
                bool found = false;

                while (f && !found && fgets(line, sizeof(line), f))
                        found = strstr(line, needle) != NULL;
                if (f)
                        fclose(f);
                if (found)
                        return true;
                usleep(100000);
        } while (now_ms() < end);
        return false;
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        cr_assert_not_null(f, "%s", path);
        fputs(text, f);
        fclose(f);
}

/* SIGHUP: a broken rules file is reported with its position and the old
 * rules stay; a good new file is taken, and its topic gets its topic. */
Test(real, sighup_reloads_rules)
{
        static struct view v, bakery;
        char cfg[128], cmd[512], path[256], topic[256];
        struct nt_child c;
        struct tail *t;
        unsigned i;

        snprintf(rules_dir, sizeof(rules_dir), "%s/rules", workdir);
        snprintf(cmd, sizeof(cmd),
                 "mkdir -p '%s' && cp '%s'/config/rules/*.rules '%s'/",
                 rules_dir, getenv("NT_SOURCE_DIR"), rules_dir);
        cr_assert_eq(system(cmd), 0);
        classify_config(cfg, sizeof(cfg), "nt-test-hup", NULL);
        feed_articles(0, 300);
        t = start_and_wait(&c, cfg, "hup", 300, 120000);

        snprintf(path, sizeof(path), "%s/zz_broken.rules", rules_dir);
        write_file(path, "topic broken {\n  match @NOPE;\n}\n");
        cr_assert_eq(kill(c.pid, SIGHUP), 0);
        cr_assert(log_has("hup", "zz_broken.rules:1:1:", 30000),
                  "the broken file's position is logged");
        cr_assert(log_has("hup", "reload: keeping rules_version", 30000));
        cr_assert_eq(unlink(path), 0);

        snprintf(path, sizeof(path), "%s/zz_bakery.rules", rules_dir);
        write_file(path, "topic bakery {\n  label \"Bakeries\";\n"
                         "  match bakery | bread;\n}\n");
        cr_assert_eq(kill(c.pid, SIGHUP), 0);
        cr_assert(log_has("hup", "in use", 30000), "the new rules are taken");
        feed_articles(300, 300);
        finish_exactly_once(&c, t, 600, 120000, "hup", &v);
        snprintf(topic, sizeof(topic), "%sbakery", prefix);
        read_label(topic, &bakery, false, "bakery");
        for (i = 0; i < 600; i++)
                cr_assert_eq(bakery.count[i], i >= 300 && i % 3 == 2 ? 1 : 0,
                             "article %u on %s: %u", i, topic, bakery.count[i]);
        cr_assert_eq(bakery.messages, 100);
        validate_label_records(&bakery);
        json_decref(v.dead);
        json_decref(bakery.dead);
        free(bakery.lines);
}

/* ---- faults: the loop in-process on the mock cluster ------------- */

/* Protocol API keys (Kafka's numbering) of the requests errors are
 * injected into. */
#define API_PRODUCE               0
#define API_ADD_PARTITIONS_TO_TXN 24
#define API_END_TXN               26

static rd_kafka_mock_cluster_t *mock;
static rd_kafka_t *mock_host;
static char mock_boot[256];

static void faults_setup(void)
{
        const char *props[] = {"linger.ms", "10", NULL};
        rd_kafka_conf_t *conf;
        char errstr[512];

        conf = rd_kafka_conf_new();
        mock_host =
            rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        cr_assert_not_null(mock_host, "%s", errstr);
        mock = rd_kafka_mock_cluster_new(mock_host, 1);
        cr_assert_not_null(mock);
        snprintf(mock_boot, sizeof(mock_boot), "%s",
                 rd_kafka_mock_cluster_bootstraps(mock));
        fresh_names("nt-flt");
        cr_assert_eq(rd_kafka_mock_topic_create(mock, raw, 3, 1), 0);
        cr_assert_eq(rd_kafka_mock_topic_create(mock, enriched, 3, 1), 0);
        cr_assert_eq(rd_kafka_mock_topic_create(mock, dlq, 1, 1), 0);
        {
                /* The mock has no controller for CreateTopics: the label
                 * topics of the shipped rules exist beforehand. */
                static const char *const ids[] = {"guarantees", "territory",
                                                  "zaporizhzhia"};
                char topic[256];
                size_t i;

                for (i = 0; i < 3; i++) {
                        snprintf(topic, sizeof(topic), "%s%s", prefix, ids[i]);
                        cr_assert_eq(
                            rd_kafka_mock_topic_create(mock, topic, 3, 1), 0);
                }
        }
        {
                const char *fprops[] = {"bootstrap.servers", mock_boot,
                                        props[0], props[1], NULL};

                feeder = nt_kafka_producer_new(NULL, fprops, on_feed_delivery,
                                               NULL, errstr, sizeof(errstr));
                cr_assert_not_null(feeder, "%s", errstr);
        }
        n_landed = 0;
}

static void faults_teardown(void)
{
        if (feeder)
                rd_kafka_destroy(feeder);
        feeder = NULL;
        rd_kafka_mock_cluster_destroy(mock);
        rd_kafka_destroy(mock_host);
}

TestSuite(faults, .init = faults_setup, .fini = faults_teardown,
          .timeout = 120);

static void set(nt_config_t *cfg, const char *key, const char *value)
{
        char errstr[256];

        cr_assert_eq(
            nt_config_set(cfg, key, value, "test", errstr, sizeof(errstr)), 0,
            "%s", errstr);
}

/* Runs the loop over n articles with an error injected into the first
 * `count` requests of API `api` once the producer is ready; returns the
 * loop's counters and what the enriched topic holds. */
static void run_with_fault(unsigned n, int api, rd_kafka_resp_err_t err,
                           int count, struct nt_classify_stats *st,
                           struct view *v)
{
        nt_config_t *cfg = nt_config_new();
        nt_classify_loop_t *loop;
        char errstr[512];
        rd_kafka_t *rk;
        long long end;
        int i;

        cr_assert_not_null(cfg);
        cr_assert_eq(nt_config_set_kafka(cfg, "bootstrap.servers", mock_boot,
                                         "test", errstr, sizeof(errstr)),
                     0, "%s", errstr);
        set(cfg, "topics.raw", raw);
        set(cfg, "topics.enriched", enriched);
        set(cfg, "topics.label_prefix", prefix);
        set(cfg, "topics.dlq", dlq);
        set(cfg, "consumer.group_id", group);
        set(cfg, "consumer.transactional_id", "nt-fault");
        set(cfg, "consumer.batch_max", "50");
        set(cfg, "consumer.batch_ms", "100ms");
        feed_articles(0, n);
        loop = nt_classify_loop_new(cfg, nt_test_shipped_classifier(), errstr,
                                    sizeof(errstr));
        cr_assert_not_null(loop, "%s", errstr);
        for (i = 0; i < count; i++)
                rd_kafka_mock_push_request_errors(mock, api, 1, err);
        cr_assert_eq(
            nt_classify_loop_run(loop, n, NULL, NULL, errstr, sizeof(errstr)),
            0, "%s", errstr);
        nt_classify_loop_stats(loop, st);
        nt_classify_loop_destroy(loop);
        nt_config_destroy(cfg);

        /* The mock writes no transaction markers: read everything. */
        {
                const char *props[] = {"bootstrap.servers",
                                       mock_boot,
                                       "enable.partition.eof",
                                       "true",
                                       "enable.auto.commit",
                                       "false",
                                       NULL};
                rd_kafka_topic_partition_list_t *parts =
                    rd_kafka_topic_partition_list_new(3);
                char name[128];
                int eofs = 0;

                nt_test_unique_name("nt-flt-read", name, sizeof(name));
                rk = nt_kafka_consumer_new(NULL, name, props, errstr,
                                           sizeof(errstr));
                cr_assert_not_null(rk, "%s", errstr);
                for (i = 0; i < 3; i++)
                        rd_kafka_topic_partition_list_add(parts, enriched, i)
                            ->offset = RD_KAFKA_OFFSET_BEGINNING;
                rd_kafka_assign(rk, parts);
                rd_kafka_topic_partition_list_destroy(parts);
                memset(v, 0, sizeof(*v));
                end = now_ms() + 30000;
                while (eofs < 3 && now_ms() < end) {
                        rd_kafka_message_t *rkm =
                            rd_kafka_consumer_poll(rk, 100);

                        if (!rkm)
                                continue;
                        if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                                eofs++;
                        } else if (!rkm->err) {
                                int k = key_index(rkm);

                                v->messages++;
                                if (v->count[k]++ == 0)
                                        v->distinct++;
                        }
                        rd_kafka_message_destroy(rkm);
                }
                rd_kafka_destroy(rk);
        }
        fprintf(stderr,
                "fault %d/%s x%d: %llu committed, %llu batches, %llu "
                "aborts, %llu rebuilds, %llu dead letters; %zu distinct "
                "on enriched\n",
                api, rd_kafka_err2name(err), count,
                (unsigned long long)st->committed,
                (unsigned long long)st->batches, (unsigned long long)st->aborts,
                (unsigned long long)st->rebuilds,
                (unsigned long long)st->dead_letters, v->distinct);
}

/* An abortable error (as librdkafka classes it): the batch is aborted and
 * read again. */
Test(faults, abortable_error_aborts_and_redoes)
{
        static struct view v;
        struct nt_classify_stats st;

        run_with_fault(300, API_ADD_PARTITIONS_TO_TXN,
                       RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, 1, &st,
                       &v);
        cr_assert_geq(st.aborts, 1, "no abort");
        cr_assert_eq(st.rebuilds, 0);
        cr_assert_eq(st.committed, 300);
        cr_assert_eq(v.distinct, 300);
}

/* A fenced producer is fatal: it is recreated and the batch redone. */
Test(faults, fatal_error_recreates_the_producer)
{
        static struct view v;
        struct nt_classify_stats st;

        run_with_fault(300, API_END_TXN, RD_KAFKA_RESP_ERR_PRODUCER_FENCED, 1,
                       &st, &v);
        cr_assert_geq(st.rebuilds, 1, "no rebuild");
        cr_assert_eq(st.committed, 300);
        cr_assert_eq(v.distinct, 300);
}

/* The broker refuses one record batch: its inputs are suspects, each is
 * tried alone, and all turn out innocent. */
Test(faults, refused_batch_suspects_tried_alone)
{
        static struct view v;
        struct nt_classify_stats st;

        run_with_fault(300, API_PRODUCE, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                       1, &st, &v);
        cr_assert_geq(st.aborts, 1, "no abort");
        cr_assert_eq(st.dead_letters, 0, "an innocent input was sent away");
        cr_assert_eq(st.committed, 300);
        cr_assert_eq(v.distinct, 300);
}
