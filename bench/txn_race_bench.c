/* Stress of produce --group's stepped commits against librdkafka's
 * commit race (docs/operations.md, "librdkafka 2.0.2's commit race"):
 * one transactional publisher commits TXNS small transactions of ITEMS
 * dev-set articles each, every commit stepped as the loop steps it
 * (nt_publisher_end_start(), then nt_publisher_end_step() until it
 * answers) with a slice of SLICE ms; a transaction that does not commit
 * (its polls redone) is sent again, as the loop redoes its polls. Per
 * slice it counts the commits librdkafka refused with __STATE (called
 * again in place: nt_publish_stats.commit_refusals), the producers
 * rebuilt and the transactions redone, and then reads the topic back
 * with read_committed: every article must be there exactly once.
 *
 * The slices alternate within a round (the order turning each round),
 * ROUNDS rounds; the machine is shared, so the refusals per 1,000
 * commits of one slice are set against the other's in the same round.
 * The product's slice is 50 ms (producer_group.c's STEP_MS); 1 ms and
 * 0 ms are what make librdkafka's requests time out before its thread
 * has taken them.
 *
 * Realistic input: the dev set's articles (ARTICLES.jsonl, by default
 * ../shared/devset/articles.jsonl beside the source tree), read at run
 * time, each sent with a fresh id.
 *
 * Run: scripts/with-kafka build/release/bench/txn_race_bench
 *      [TXNS] [ITEMS] [SLICE[,SLICE...]] [ROUNDS] [ARTICLES.jsonl] */
#include "common/config.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/num.h"
#include "producer/publish.h"
#include "support/bench.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SLICES 4
#define MAX_ROUNDS 10

static char **lines;
static size_t n_lines;

static void load_devset(const char *path)
{
        lines = nt_bench_lines_load("txn_race_bench", path, &n_lines);
}

struct result {
        int64_t commits, redone, refusals, rebuilds, in_topic;
        double wall_s;
};

/* The articles of the topic a read_committed consumer sees. */
static int64_t count_committed(const char *bootstrap, const char *topic)
{
        char errstr[512], group[96];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *tp;
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt;
        rd_kafka_t *rk;
        int64_t n = 0;
        int eofs = 0, parts, i;

        snprintf(group, sizeof(group), "txn-race-bench-%ld", (long)getpid());
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr,
                              sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "group.id", group, errstr,
                              sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "isolation.level", "read_committed", errstr,
                              sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr,
                              sizeof(errstr))) {
                fprintf(stderr, "txn_race_bench: %s\n", errstr);
                exit(1);
        }
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "txn_race_bench: %s\n", errstr);
                exit(1);
        }
        rkt = rd_kafka_topic_new(rk, topic, NULL);
        if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) || md->topic_cnt != 1 ||
            md->topics[0].partition_cnt < 1) {
                fprintf(stderr, "txn_race_bench: no metadata of %s\n", topic);
                exit(1);
        }
        parts = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        tp = rd_kafka_topic_partition_list_new(parts);
        for (i = 0; i < parts; i++)
                rd_kafka_topic_partition_list_add(tp, topic, i)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_assign(rk, tp);
        rd_kafka_topic_partition_list_destroy(tp);
        while (eofs < parts) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);

                if (!m)
                        continue;
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                        eofs++;
                else if (m->err) {
                        fprintf(stderr, "txn_race_bench: consume: %s\n",
                                rd_kafka_message_errstr(m));
                        exit(1);
                } else {
                        n++;
                }
                rd_kafka_message_destroy(m);
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return n;
}

static struct result run(const nt_config_t *cfg, const char *bootstrap,
                         int64_t txns, int64_t items, int slice, int tag)
{
        char errstr[512], topic[96], txn_id[96], id[64];
        struct nt_publish_stats st;
        struct result r;
        nt_publisher_t *p;
        int64_t t, i;
        double t0;

        memset(&r, 0, sizeof(r));
        snprintf(topic, sizeof(topic), "bench-race-%ld-%d", (long)getpid(),
                 tag);
        snprintf(txn_id, sizeof(txn_id), "newstap-bench.race.%ld.%d",
                 (long)getpid(), tag);
        p = nt_publisher_new_txn(cfg, topic, (size_t)items + 1, txn_id, NULL,
                                 NULL, errstr, sizeof(errstr));
        if (!p) {
                fprintf(stderr, "txn_race_bench: %s\n", errstr);
                exit(1);
        }
        t0 = nt_bench_wall_s();
        for (t = 0; t < txns;) {
                int rc;

                for (i = 0; i < items; i++) {
                        struct nt_publish_meta meta;
                        size_t at = (size_t)(t * items + i) % n_lines;

                        memset(&meta, 0, sizeof(meta));
                        snprintf(id, sizeof(id), "race-%d-%lld-%lld", tag,
                                 (long long)t, (long long)i);
                        meta.key = id;
                        meta.revision = "0";
                        meta.feed_url = "https://bench.invalid/feed";
                        if (nt_publisher_send(p, &meta, lines[at],
                                              strlen(lines[at])) != NT_OK) {
                                fprintf(stderr, "txn_race_bench: a send "
                                                "failed\n");
                                exit(1);
                        }
                }
                rc = nt_publisher_end_start(p, true, NULL, NULL, slice);
                while (rc == NT_ERR_TIMEOUT)
                        rc = nt_publisher_end_step(p, slice);
                if (rc == NT_OK) {
                        r.commits++;
                        t++;
                } else if (rc == NT_ERR_TRANSIENT) {
                        r.redone++; /* the loop redoes the polls */
                } else {
                        fprintf(stderr, "txn_race_bench: a commit failed\n");
                        exit(1);
                }
        }
        r.wall_s = nt_bench_wall_s() - t0;
        nt_publisher_stats(p, &st);
        r.refusals = (int64_t)st.commit_refusals;
        r.rebuilds = (int64_t)st.rebuilds;
        nt_publisher_destroy(p, 10000);
        r.in_topic = count_committed(bootstrap, topic);
        return r;
}

static int parse_slices(const char *s, int *out, int *n)
{
        char buf[64], *tok, *save = NULL;
        int64_t v;

        snprintf(buf, sizeof(buf), "%s", s);
        *n = 0;
        for (tok = strtok_r(buf, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
                if (*n == MAX_SLICES || nt_num_parse_i64(tok, 0, 1000, &v))
                        return -1;
                out[(*n)++] = (int)v;
        }
        return *n ? 0 : -1;
}

int main(int argc, char **argv)
{
        const char *bootstrap = nt_bench_bootstrap("txn_race_bench");
        const char *devset = argc > 5 && *argv[5] ? argv[5] : NT_BENCH_DEVSET;
        static struct result res[MAX_SLICES][MAX_ROUNDS];
        int64_t txns = 2000, items = 5, rounds = 2;
        int slices[MAX_SLICES] = {50, 1}, n_slices = 2, rep, k;
        char errstr[512];
        nt_config_t *cfg;
        bool lost = false;

        if (!bootstrap)
                return 0;
        if ((argc > 1 && nt_num_parse_i64(argv[1], 10, 1000000, &txns)) ||
            (argc > 2 && nt_num_parse_i64(argv[2], 1, 1000, &items)) ||
            (argc > 3 && parse_slices(argv[3], slices, &n_slices)) ||
            (argc > 4 && nt_num_parse_i64(argv[4], 1, MAX_ROUNDS, &rounds))) {
                fprintf(stderr, "usage: txn_race_bench [TXNS] [ITEMS] "
                                "[SLICE[,SLICE...]] [ROUNDS] "
                                "[ARTICLES.jsonl]\n");
                return 2;
        }
        load_devset(devset);
        cfg = nt_config_new();
        if (nt_config_set_kafka(cfg, "bootstrap.servers", bootstrap, "bench",
                                errstr, sizeof(errstr)) != NT_OK) {
                fprintf(stderr, "txn_race_bench: %s\n", errstr);
                return 1;
        }
        printf("txn_race_bench: %lld transactions of %lld dev-set articles "
               "a run, %lld rounds; real broker\n",
               (long long)txns, (long long)items, (long long)rounds);
        for (rep = 0; rep < rounds; rep++) {
                for (k = 0; k < n_slices; k++) {
                        int which = (k + rep) % n_slices;
                        struct result *r = &res[which][rep];

                        *r = run(cfg, bootstrap, txns, items, slices[which],
                                 rep * MAX_SLICES + which);
                        printf(
                            "  round %d, slice %d ms: %lld commits in "
                            "%.1f s; refused (called again) %lld = %.2f "
                            "per 1,000; redone %lld; rebuilds %lld; "
                            "in the topic %lld of %lld\n",
                            rep + 1, slices[which], (long long)r->commits,
                            r->wall_s, (long long)r->refusals,
                            1000.0 * (double)r->refusals / (double)r->commits,
                            (long long)r->redone, (long long)r->rebuilds,
                            (long long)r->in_topic, (long long)(txns * items));
                        fflush(stdout);
                        if (r->in_topic != txns * items)
                                lost = true;
                }
        }
        nt_config_destroy(cfg);
        if (lost) {
                printf("txn_race_bench: an article is missing or twice in "
                       "the topic\n");
                return 1;
        }
        return 0;
}
