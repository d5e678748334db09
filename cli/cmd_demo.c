/* `newstap demo`: the whole pipeline in one process on the embedded dev
 * broker: replay of the bundled sample feeds into the raw topic, the
 * classifier (at least once: the dev broker has no real transactions) into
 * the enriched and per-label topics, and a tail of the label topics in the
 * pretty format; then a summary. Needs no network beyond loopback. */
#include "common/date.h"
#include "common/cli.h"
#include "cli/commands.h"
#include "common/config.h"
#include "common/devbroker.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/sig.h"
#include "consumer/classify.h"
#include "consumer/enriched.h"
#include "consumer/rules.h"
#include "consumer/tail.h"
#include "producer/replay.h"

#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SAMPLES "config/samples"
#define DEFAULT_RULES   "config/rules"
#ifndef NT_SOURCE_DIR
#define NT_SOURCE_DIR "."
#endif
/* One partition per topic: the demo's output follows the replay order. */
#define DEMO_PARTITIONS 1
/* Inputs classified per step, and how long a step's writes may take. */
#define STEP_BATCH    100
#define STEP_FLUSH_MS 10000
/* The demo gives up when the classifier has not caught up by then. */
#define CATCH_UP_MS 30000

static const char demo_help[] =
    "Usage: newstap demo [OPTIONS]\n"
    "\n"
    "Runs the whole pipeline in this process on the embedded dev broker\n"
    "(librdkafka's mock cluster on 127.0.0.1: memory only, no real\n"
    "transactions): replays the bundled sample feeds (RSS 2.0, Atom, JSON\n"
    "Feed and a windows-1251 RSS feed in config/samples/) into the raw\n"
    "topic, classifies them AT LEAST ONCE into the enriched and per-label\n"
    "topics, prints the labelled articles as `newstap tail` does, then\n"
    "stops the broker and prints a summary. Needs no network beyond\n"
    "loopback and no running services.\n"
    "\n"
    "Options:\n"
    "  --follow          keep running after the samples (until Ctrl-C):\n"
    "                    articles replayed into the printed bootstrap\n"
    "                    address are classified and shown as they come\n"
    "  --samples DIR     sample feeds (default " DEFAULT_SAMPLES ", else\n"
    "                    the one of the source tree)\n"
    "  --rules DIR|FILE  rule files (repeatable; default " DEFAULT_RULES ",\n"
    "                    else the one of the source tree)\n";

/* The classify step of the demo: consume the raw topic, build each event
 * with the shared enriched-event code, write it, and commit the inputs
 * only after every write of the batch is confirmed. */
struct demo_classify {
        const nt_config_t *cfg;
        nt_classifier_t *clf;
        struct nt_enriched_opts eo;
        struct nt_enriched_event ev;
        rd_kafka_t *consumer;
        rd_kafka_t *producer;
        const struct nt_rules *rules; /* borrowed from the classifier */
        uint64_t *per_label;          /* label events per rules topic */
        uint64_t consumed, events, dead_letters, redone;
        int failed; /* delivery reports that failed in this batch */
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *rkm,
                        void *opaque)
{
        struct demo_classify *dc = opaque;

        (void)rk;
        if (rkm->err) {
                dc->failed++;
                NT_WARN("demo", "write to %s failed: %s",
                        rd_kafka_topic_name(rkm->rkt),
                        rd_kafka_err2str(rkm->err));
        }
}

static int classify_open(struct demo_classify *dc, char *errstr,
                         size_t errstr_size)
{
        static const char *const cextra[] = {"enable.auto.commit",
                                             "false",
                                             "isolation.level",
                                             "read_committed",
                                             "auto.offset.reset",
                                             "earliest",
                                             NULL};
        static const char *const pextra[] = {
            "enable.idempotence", "true", "acks", "all",
            "linger.ms",          "5",    NULL};
        const char *raw = nt_config_str(dc->cfg, "topics.raw");
        rd_kafka_topic_partition_list_t *parts;
        rd_kafka_resp_err_t kerr;
        int i;

        dc->rules = nt_match_rules(nt_classifier_matcher(dc->clf));
        dc->per_label = calloc(dc->rules->n_topics + 1, sizeof(uint64_t));
        if (!dc->per_label)
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory");
        nt_enriched_opts_init(&dc->eo);
        nt_enriched_event_init(&dc->ev, 16u << 20);
        dc->producer = nt_kafka_producer_new(dc->cfg, pextra, on_delivery, dc,
                                             errstr, errstr_size);
        if (!dc->producer)
                return NT_ERR_KAFKA;
        /* Assigned by hand: no group join to wait for; the group id only
         * holds the committed offsets. */
        dc->consumer = nt_kafka_consumer_new(dc->cfg, "newstap-demo-classify",
                                             cextra, errstr, errstr_size);
        if (!dc->consumer)
                return NT_ERR_KAFKA;
        parts = rd_kafka_topic_partition_list_new(DEMO_PARTITIONS);
        for (i = 0; i < DEMO_PARTITIONS; i++)
                rd_kafka_topic_partition_list_add(parts, raw, i)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        kerr = rd_kafka_assign(dc->consumer, parts);
        rd_kafka_topic_partition_list_destroy(parts);
        if (kerr)
                return nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                               "assign %s: %s", raw, rd_kafka_err2str(kerr));
        return NT_OK;
}

static void classify_close(struct demo_classify *dc)
{
        if (dc->consumer)
                rd_kafka_destroy(dc->consumer);
        if (dc->producer) {
                nt_kafka_flush(dc->producer, 2000, NULL, 0);
                rd_kafka_destroy(dc->producer);
        }
        nt_enriched_event_free(&dc->ev);
        free(dc->per_label);
        nt_classifier_destroy(dc->clf);
}

static void write_one(struct demo_classify *dc, const char *topic,
                      const void *key, size_t key_len, const void *value,
                      size_t len, int64_t ts, rd_kafka_headers_t *hdrs)
{
        rd_kafka_resp_err_t kerr;

        if (!hdrs) {
                dc->failed++;
                return;
        }
        do {
                kerr = rd_kafka_producev(
                    dc->producer, RD_KAFKA_V_TOPIC(topic),
                    RD_KAFKA_V_KEY(key, key_len),
                    RD_KAFKA_V_VALUE((void *)value, len),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_HEADERS(hdrs),
                    RD_KAFKA_V_TIMESTAMP(ts > 0 ? ts : 0), RD_KAFKA_V_END);
                if (kerr == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        rd_kafka_poll(dc->producer, 100);
        } while (kerr == RD_KAFKA_RESP_ERR__QUEUE_FULL);
        if (kerr) {
                rd_kafka_headers_destroy(hdrs);
                dc->failed++;
        }
}

/* Index of a label in the rules' topics (for the summary). */
static size_t label_index(const struct nt_rules *r, const char *label)
{
        size_t i;

        for (i = 0; i < r->n_topics; i++)
                if (strcmp(r->topics[i].id, label) == 0)
                        return i;
        return r->n_topics;
}

/* Classifies one input and writes its event (and label events), or its
 * dead letter. */
static void classify_one(struct demo_classify *dc,
                         const rd_kafka_message_t *rkm)
{
        const char *prefix = nt_config_str(dc->cfg, "topics.label_prefix");
        struct nt_enriched_origin origin;
        rd_kafka_timestamp_type_t tstype;
        int64_t ts = rd_kafka_message_timestamp(rkm, &tstype);
        char topic[512];
        size_t i;

        origin.topic = rd_kafka_topic_name(rkm->rkt);
        origin.partition = rkm->partition;
        origin.offset = rkm->offset;
        if (nt_enriched_build(dc->clf, &dc->eo,
                              rkm->payload ? (const char *)rkm->payload : "",
                              rkm->len, nt_date_now_ms(), &dc->ev) != NT_OK) {
                dc->failed++;
                return;
        }
        if (dc->ev.reason != NT_ENRICHED_OK) {
                write_one(dc, nt_config_str(dc->cfg, "topics.dlq"), rkm->key,
                          rkm->key_len, rkm->payload, rkm->len, ts,
                          nt_enriched_dlq_headers(dc->ev.reason, dc->ev.error,
                                                  &origin, rkm->len, false));
                dc->dead_letters++;
                return;
        }
        write_one(dc, nt_config_str(dc->cfg, "topics.enriched"), dc->ev.id,
                  strlen(dc->ev.id), dc->ev.value.data, dc->ev.value.len, ts,
                  nt_enriched_headers(&dc->ev, NULL, &origin));
        dc->events++;
        for (i = 0; i < dc->ev.n_labels; i++) {
                const char *value;
                size_t len;

                snprintf(topic, sizeof(topic), "%s%s", prefix,
                         dc->ev.labels[i]);
                nt_enriched_label(&dc->ev, i, &value, &len);
                write_one(dc, topic, dc->ev.id, strlen(dc->ev.id), value, len,
                          ts, nt_enriched_headers(&dc->ev, NULL, &origin));
                dc->per_label[label_index(dc->rules, dc->ev.labels[i])]++;
        }
}

/* One batch: read what is there (waiting at most timeout_ms for the
 * first input), classify and write it, wait for every write to be
 * confirmed, then commit the inputs. A batch with a failed write is not
 * committed: its inputs are read and classified again (at least once). */
static int classify_step(struct demo_classify *dc, int timeout_ms, char *errstr,
                         size_t errstr_size)
{
        rd_kafka_topic_partition_list_t *next =
            rd_kafka_topic_partition_list_new(DEMO_PARTITIONS);
        rd_kafka_message_t *rkm;
        rd_kafka_resp_err_t kerr;
        struct demo_classify before = *dc;
        uint64_t *before_labels =
            calloc(dc->rules->n_topics + 1, sizeof(uint64_t));
        int n = 0, err = NT_OK;

        if (!next || !before_labels) {
                err =
                    nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                goto out;
        }
        memcpy(before_labels, dc->per_label,
               (dc->rules->n_topics + 1) * sizeof(uint64_t));
        dc->failed = 0;
        while (n < STEP_BATCH &&
               (rkm = rd_kafka_consumer_poll(dc->consumer,
                                             n ? 0 : timeout_ms)) != NULL) {
                if (rkm->err) {
                        if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                NT_WARN("demo", "reading: %s",
                                        rd_kafka_message_errstr(rkm));
                        rd_kafka_message_destroy(rkm);
                        continue;
                }
                classify_one(dc, rkm);
                /* The position after this input, to commit or to go back
                 * to: the first input of the batch when redoing it. */
                {
                        rd_kafka_topic_partition_t *p =
                            rd_kafka_topic_partition_list_find(
                                next, rd_kafka_topic_name(rkm->rkt),
                                rkm->partition);
                        if (!p)
                                rd_kafka_topic_partition_list_add(
                                    next, rd_kafka_topic_name(rkm->rkt),
                                    rkm->partition)
                                    ->offset = rkm->offset;
                }
                n++;
                rd_kafka_message_destroy(rkm);
        }
        if (n == 0)
                goto out;
        if (nt_kafka_flush(dc->producer, STEP_FLUSH_MS, errstr, errstr_size) !=
                NT_OK ||
            dc->failed > 0) {
                rd_kafka_error_t *kerror;

                /* Redo the batch from its first input; its counts go. */
                dc->redone += (uint64_t)n;
                dc->events = before.events;
                dc->dead_letters = before.dead_letters;
                memcpy(dc->per_label, before_labels,
                       (dc->rules->n_topics + 1) * sizeof(uint64_t));
                kerror = rd_kafka_seek_partitions(dc->consumer, next, 5000);
                if (kerror) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                                      "cannot go back to redo a batch: %s",
                                      rd_kafka_error_string(kerror));
                        rd_kafka_error_destroy(kerror);
                }
                goto out;
        }
        dc->consumed += (uint64_t)n;
        /* Commit the positions after the batch. */
        kerr = rd_kafka_position(dc->consumer, next);
        if (!kerr)
                kerr = rd_kafka_commit(dc->consumer, next, 0);
        if (kerr)
                NT_WARN("demo", "committing the classified inputs: %s",
                        rd_kafka_err2str(kerr));
out:
        if (next)
                rd_kafka_topic_partition_list_destroy(next);
        free(before_labels);
        return err;
}

/* A bundled directory: relative to the working directory (a checkout),
 * else in the source tree the binary was built from, so that the demo
 * runs from anywhere in a development tree. */
static const char *bundled(const char *rel, char *buf, size_t size)
{
        struct stat st;

        if (stat(rel, &st) == 0)
                return rel;
        snprintf(buf, size, "%s/%s", NT_SOURCE_DIR, rel);
        if (stat(buf, &st) == 0)
                return buf;
        return rel;
}

struct demo_opts {
        const char *samples;
        bool follow;
};

static void on_replay_error(void *ctx, const char *path, const char *what)
{
        (void)ctx;
        fprintf(stderr, "newstap demo: %s: %s\n", path, what);
}

static int emit_stdout(void *ctx, const char *text, size_t len)
{
        (void)ctx;
        return fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0;
}

static int create_topics(nt_devbroker_t *db, const nt_config_t *cfg,
                         const struct nt_rules *rules, char *errstr,
                         size_t errstr_size)
{
        static const char *const keys[] = {"topics.raw", "topics.enriched",
                                           "topics.dlq"};
        char topic[512];
        size_t i;
        int err = NT_OK;

        for (i = 0; i < sizeof(keys) / sizeof(keys[0]) && !err; i++)
                err = nt_devbroker_create_topic(db, nt_config_str(cfg, keys[i]),
                                                DEMO_PARTITIONS, errstr,
                                                errstr_size);
        for (i = 0; i < rules->n_topics && !err; i++) {
                snprintf(topic, sizeof(topic), "%s%s",
                         nt_config_str(cfg, "topics.label_prefix"),
                         rules->topics[i].id);
                err = nt_devbroker_create_topic(db, topic, DEMO_PARTITIONS,
                                                errstr, errstr_size);
        }
        return err;
}

static void print_topics(const nt_config_t *cfg, const struct nt_rules *rules)
{
        size_t i;

        printf("newstap demo: created topic %s, %s, %s",
               nt_config_str(cfg, "topics.raw"),
               nt_config_str(cfg, "topics.enriched"),
               nt_config_str(cfg, "topics.dlq"));
        for (i = 0; i < rules->n_topics; i++)
                printf(", %s%s", nt_config_str(cfg, "topics.label_prefix"),
                       rules->topics[i].id);
        printf(" (%d partition each)\n", DEMO_PARTITIONS);
}

static int run_demo(struct nt_cli *cli, nt_config_t *cfg,
                    const struct demo_opts *d)
{
        char rules_dir[4096];
        const char *def_rules[1];
        struct demo_classify dc;
        struct nt_replay_opts ro;
        struct nt_replay_stats rs;
        struct nt_tail_opts to;
        nt_devbroker_t *db = NULL;
        nt_replay_t *rp = NULL;
        nt_tail_t *tail = NULL;
        const char *no_color = getenv("NO_COLOR");
        const char *samples[1];
        char errstr[1024];
        uint64_t shown = 0, read = 0;
        int64_t t0 = nt_date_mono_ms(), deadline;
        size_t i;
        int rc = 0, err;

        memset(&dc, 0, sizeof(dc));
        dc.cfg = cfg;
        def_rules[0] = bundled(DEFAULT_RULES, rules_dir, sizeof(rules_dir));
        dc.clf = nt_classifier_from_paths(
            cli->n_values ? cli->values : def_rules,
            cli->n_values ? cli->n_values : 1, errstr, sizeof(errstr));
        if (!dc.clf) {
                rc = nt_cli_fail(cli, 2, "rules: %s", errstr);
                goto out;
        }
        db = nt_devbroker_new(1, errstr, sizeof(errstr));
        if (!db) {
                rc = nt_cli_fail(cli, 1, "%s", errstr);
                goto out;
        }
        if (nt_config_set_kafka(cfg, "bootstrap.servers",
                                nt_devbroker_bootstraps(db), "the dev broker",
                                errstr, sizeof(errstr)) != NT_OK ||
            create_topics(db, cfg,
                          nt_match_rules(nt_classifier_matcher(dc.clf)), errstr,
                          sizeof(errstr)) != NT_OK) {
                rc = nt_cli_fail(cli, 1, "%s", errstr);
                goto out;
        }
        printf("newstap demo: dev broker running on %s (in this process, "
               "memory only)\n",
               nt_devbroker_bootstraps(db));
        print_topics(cfg, nt_match_rules(nt_classifier_matcher(dc.clf)));
        printf("newstap demo: the classifier runs AT LEAST ONCE here: the "
               "dev broker has no real\n"
               "              transactions, so exactly-once needs a real "
               "Kafka broker.\n");

        /* 1. The samples into the raw topic, as `newstap replay` does. */
        nt_replay_opts_init(&ro);
        ro.on_error = on_replay_error;
        rp = nt_replay_new(cfg, &ro, errstr, sizeof(errstr));
        samples[0] = d->samples;
        err = rp ? nt_replay_run(rp, samples, 1, errstr, sizeof(errstr))
                 : NT_ERR_NOMEM;
        if (rp)
                nt_replay_stats(rp, &rs);
        if (err && err != NT_ERR_PARSE) {
                rc =
                    nt_cli_fail(cli, 1, "replaying %s: %s", d->samples, errstr);
                goto out;
        }
        if (!rp || rs.published == 0) {
                rc = nt_cli_fail(cli, 1, "no articles found in %s", d->samples);
                goto out;
        }
        printf("newstap demo: replayed %llu article(s) from %zu sample "
               "feed(s) in %s into %s\n\n",
               (unsigned long long)rs.published, rs.files_total, d->samples,
               nt_config_str(cfg, "topics.raw"));
        fflush(stdout);

        /* 2. Classify until every replayed article is in. */
        err = classify_open(&dc, errstr, sizeof(errstr));
        deadline = nt_date_mono_ms() + CATCH_UP_MS;
        while (!err && dc.consumed < rs.published && nt_sig_running() &&
               nt_date_mono_ms() < deadline)
                err = classify_step(&dc, 200, errstr, sizeof(errstr));
        if (!err && dc.consumed < rs.published && nt_sig_running())
                err = nt_errf(errstr, sizeof(errstr), NT_ERR_TIMEOUT,
                              "the classifier read %llu of %llu articles in "
                              "%d s",
                              (unsigned long long)dc.consumed,
                              (unsigned long long)rs.published,
                              CATCH_UP_MS / 1000);
        if (err) {
                rc = nt_cli_fail(cli, 1, "classify: %s", errstr);
                goto out;
        }

        /* 3. The label topics, as `newstap tail -o pretty` shows them. */
        nt_tail_opts_init(&to);
        to.from_beginning = true;
        to.exit_at_end = !d->follow;
        to.output = NT_TAIL_PRETTY;
        to.color = isatty(STDOUT_FILENO) == 1 && !(no_color && *no_color);
        to.emit = emit_stdout;
        tail = nt_tail_new(cfg, &to, errstr, sizeof(errstr));
        err = tail ? nt_tail_start(tail, errstr, sizeof(errstr)) : NT_ERR_NOMEM;
        if (!err && d->follow) {
                printf("newstap demo: following; replay more into the dev "
                       "broker with\n"
                       "  newstap replay -X bootstrap.servers=%s FILE...\n"
                       "Ctrl-C stops.\n\n",
                       nt_devbroker_bootstraps(db));
                fflush(stdout);
        }
        while (!err && nt_sig_running()) {
                int done = nt_tail_poll(tail, 100, errstr, sizeof(errstr));

                if (done < 0)
                        err = done;
                else if (done == 1)
                        break;
                if (!err && d->follow)
                        err = classify_step(&dc, 100, errstr, sizeof(errstr));
        }
        if (err) {
                rc = nt_cli_fail(cli, 1, "tail: %s", errstr);
                goto out;
        }
        nt_tail_counts(tail, &read, &shown);

        /* 4. The summary. */
        printf("newstap demo: summary: %llu article(s) in, %llu enriched "
               "event(s), %llu dead letter(s), %llu labelled article(s) "
               "shown\n",
               (unsigned long long)dc.consumed, (unsigned long long)dc.events,
               (unsigned long long)dc.dead_letters, (unsigned long long)shown);
        printf("newstap demo: labels out:");
        for (i = 0; i < dc.rules->n_topics; i++)
                printf("%s %s%s %llu", i ? "," : "",
                       nt_config_str(cfg, "topics.label_prefix"),
                       dc.rules->topics[i].id,
                       (unsigned long long)dc.per_label[i]);
        printf("\nnewstap demo: delivery was at least once (%llu input(s) "
               "classified again); done in %.1f s\n",
               (unsigned long long)dc.redone,
               (double)(nt_date_mono_ms() - t0) / 1000.0);
out:
        nt_tail_destroy(tail);
        nt_replay_destroy(rp);
        classify_close(&dc);
        nt_devbroker_destroy(db);
        if (rc == 0)
                printf("newstap demo: dev broker stopped\n");
        return rc;
}

int nt_cmd_demo(int argc, char **argv)
{
        struct demo_opts d;
        const struct nt_cli_option options[] = {
            {.name = "follow", .kind = NT_CLI_FLAG, .flag = &d.follow},
            {.name = "samples", .kind = NT_CLI_VALUE, .value = &d.samples},
            {.name = "rules", .kind = NT_CLI_REPEAT},
            {0},
        };
        const struct nt_cli_spec spec = {
            .options = options,
            .help = demo_help,
            .common = true,
        };
        char samples_dir[4096];
        struct nt_cli cli;
        nt_config_t *cfg = NULL;
        int rc = 0;

        memset(&d, 0, sizeof(d));
        d.samples = bundled(DEFAULT_SAMPLES, samples_dir, sizeof(samples_dir));
        rc = nt_cli_start(&cli, "demo", &spec, argc, argv, &cfg);
        if (rc != NT_CLI_GO)
                goto out;
        nt_sig_install();
        rc = run_demo(&cli, cfg, &d);
out:
        nt_config_destroy(cfg);
        nt_cli_free(&cli);
        return rc;
}
