/* Publishing with produce --group's transactions against the idempotent
 * path of the file mode, on the same polls, in one run on the real broker
 * ($NT_TEST_BOOTSTRAP; run under scripts/with-kafka). Both sides do the
 * work their loop does around the publisher:
 *
 * - idempotent (file mode): nt_publisher_new(); each confirmed article
 *   is marked seen in its feed's state, and once a second the changed
 *   states are saved as state files (nt_state_save_many(), one disk sync
 *   a batch, in a temporary state directory), as producer.c's
 *   flush_states() does; also "bare", without the state files (the
 *   publisher alone);
 * - transactional: nt_publisher_new_txn(); every TXN_MS (producer.txn_ms)
 *   the articles sent are marked seen in their feeds' states, each
 *   changed state's record (nt_state_topic_value()) is written to the
 *   state topic and the transaction commits, as producer_group.c's
 *   group_end() does; once more with the records of the old encoding
 *   (newstap.feed-state/1, the state file's JSON) to show what the
 *   compact one saves;
 * - one commit per poll (once, on a tenth of the polls): the worst case
 *   of a loop whose polls complete one at a time;
 * - with NT_BENCH_PAIR=1, two transactional producers taking turns
 *   (run_pair()), the design proposed to keep the pipeline full through
 *   a commit: measured, not built (docs/operations.md, "Scaling the
 *   producer"). Its commits are stepped in 0-1 ms slices, and two runs
 *   of five ended in round 4, where it runs first, with librdkafka
 *   2.0.2 refusing a resumed commit_transaction ("Operation not valid
 *   in state BeginCommit") or asserting on a state transition: so it
 *   is not in the default rounds. Both came from librdkafka's commit
 *   race (docs/operations.md, "librdkafka 2.0.2's commit race"); a
 *   commit's call now waits at least 50 ms whatever the slice asked.
 *
 * Each producer sends its first message (and commits its first
 * transaction) before the clock starts, as a daemon's long-lived
 * producer has long done: a new transactional producer's first
 * transaction waited 0.5-1 s for its first delivery, which the bench
 * used to pay in every round (NT_BENCH_COLD=1 measures that way
 * again). Before the rounds, one more transactional run prints the
 * timeline of its first two transactions: first send, full, commit
 * start, the articles not yet delivered every 50 ms, last delivery,
 * EndTxn. NT_BENCH_DEBUG=eos,msg sets librdkafka's debug contexts.
 *
 * Back-pressure as in the loop: at most producer.max_inflight (10,000)
 * articles are unconfirmed; a full idempotent publisher is served until
 * one is confirmed, a full transaction is committed.
 *
 * The neighbours on a shared machine come and go: the modes run in
 * PAIRS rounds, alternated (the order turning each round), and the ratios
 * are taken within a round; the median round's ratio is the figure, and
 * every round is printed. Beside articles/s: the CPU per article of this
 * process and of the broker (its pid from scripts/kafka-local's pid
 * file), which the neighbours do not change as much; the time in the
 * commits, split into their wait for the last deliveries and EndTxn;
 * the state records' bytes against the articles'.
 *
 * Realistic input: the articles are the dev set's (ARTICLES.jsonl, by
 * default ../shared/devset/articles.jsonl beside the source tree), read
 * at run time, each sent with a fresh id; a poll brings ITEMS of them,
 * from one of FEEDS feeds in turn. Each feed's seen-set holds SEEN_PER_FEED
 * entries as newstap writes them (32-hex XXH3-128 ids, 16-hex revisions,
 * times of the last 30 days), kept at that size as articles are marked.
 *
 * Run: scripts/with-kafka build/release/bench/group_bench [POLLS] [ITEMS]
 * [ARTICLES.jsonl] [PAIRS] [TXN_MS[,TXN_MS...]] */
#include "common/config.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/num.h"
#include "producer/publish.h"
#include "producer/state.h"
#include "producer/state_topic.h"
#include "support/bench.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define SEEN_PER_FEED    60
#define FEEDS            500
#define STATE_PARTITIONS 6
#define FLUSH_MS         1000 /* producer.c's flush_states() period */
#define MAX_TXN_MS       8
#define MAX_PAIRS        50

/* The dev set's lines as they are (nt_bench_devset_load() would parse
 * them): each is sent as an article's value, byte for byte. */
static char **lines;
static char (*line_rev)[17];
static size_t n_lines;

static void load_devset(const char *path)
{
        size_t i;

        lines = nt_bench_lines_load("group_bench", path, &n_lines);
        line_rev = calloc(n_lines, sizeof(*line_rev));
        if (!line_rev)
                exit(1);
        for (i = 0; i < n_lines; i++)
                snprintf(line_rev[i], sizeof(line_rev[0]), "%016llx",
                         (unsigned long long)XXH3_64bits(lines[i],
                                                         strlen(lines[i])));
}

/* An article id as newstap makes them: 32 hex digits of XXH3-128. */
static void make_id(char id[33], const char *what, long a, long b, long c)
{
        char buf[128];
        int n = snprintf(buf, sizeof(buf), "%s\x1f%ld\x1f%ld\x1f%ld", what, a,
                         b, c);
        XXH128_hash_t h = XXH3_128bits(buf, (size_t)n);

        snprintf(id, 33, "%016llx%016llx", (unsigned long long)h.high64,
                 (unsigned long long)h.low64);
}

struct feed {
        char key[64];
        struct nt_feed_state st;
        int dirty;
};

static struct feed feeds[FEEDS];
static struct feed *dirty[FEEDS];
static size_t n_dirty;
static const int64_t now0 = 1796000000000LL;

/* Every feed as a run starts: validators, schedule, a full seen-set. */
static void feeds_reset(void)
{
        char id[33], rev[33];
        int f, i;

        for (f = 0; f < FEEDS; f++) {
                struct feed *fd = &feeds[f];

                nt_state_free(&fd->st);
                nt_state_init(&fd->st);
                snprintf(fd->key, sizeof(fd->key), "https://wire%d.example/rss",
                         f);
                fd->st.etag = strdup("\"5f2a-61b0c3d2e8f00\"");
                fd->st.last_modified = strdup("Mon, 07 Dec 2026 09:14:02 GMT");
                fd->st.last_success_ms = now0;
                fd->st.next_poll_ms = now0 + 300000;
                for (i = 0; i < SEEN_PER_FEED; i++) {
                        make_id(id, "seen", f, i, 0);
                        make_id(rev, "rev", f, i, 0);
                        rev[16] = '\0';
                        /* Spread over 30 days, a few minutes apart. */
                        nt_state_mark_seen(
                            &fd->st, id, rev,
                            now0 - 86400000LL * 30 + (int64_t)i * 43200000LL +
                                (f * 7919 + i * 104729) % 600000);
                }
                fd->dirty = 0;
        }
        n_dirty = 0;
}

static void mark_seen(const char *id, const char *rev, int feed)
{
        struct feed *fd = &feeds[feed];
        static int64_t tick;

        nt_state_mark_seen(&fd->st, id, rev, now0 + ++tick);
        /* As producer.c does: pruned back to the bound with 10 % slack. */
        if (json_object_size(fd->st.seen) > SEEN_PER_FEED + SEEN_PER_FEED / 10)
                nt_state_prune(&fd->st, SEEN_PER_FEED, 86400000LL * 30,
                               now0 + tick);
        fd->st.last_success_ms = now0 + tick;
        if (!fd->dirty) {
                fd->dirty = 1;
                dirty[n_dirty++] = fd;
        }
}

static void on_confirm(void *ctx, const struct nt_publish_meta *meta)
{
        (void)ctx;
        mark_seen(meta->key, meta->revision, (int)(intptr_t)meta->opaque);
}

enum mode { IDEM_FILES, IDEM_BARE, TXN, TXN_V1, TXN_PER_POLL };

struct result {
        double wall_s;    /* the whole run */
        double cpu_s;     /* this process's CPU (librdkafka's threads too) */
        double broker_s;  /* the broker's CPU, when its pid is known */
        double flush_s;   /* waiting for the transaction's deliveries; two
                           * producers: for the other one's commit */
        double commit_s;  /* in nt_publisher_commit() after them; two
                           * producers: beginning a commit */
        double warm_s;    /* warm_up(): the first message of a new
                           * producer, not in wall_s */
        double records_s; /* marking seen, encoding and writing the state
                           * records before each commit */
        double save_s;    /* in nt_state_save_many() */
        size_t commits;   /* transactions, or state file batches */
        size_t full;      /* commits because the publisher was full */
        size_t records;   /* state records written */
        size_t state_bytes, article_bytes;
};

/* The timeline of the first two transactions of a run (seconds since
 * each began): first send, full, the commit's start, librdkafka's
 * undelivered messages (rd_kafka_outq_len()) every 50 ms while the
 * loop polls, the last delivery, EndTxn done. `want`: the transaction
 * being followed (1, 2), 0: none. */
static struct {
        int want;
        double begin, first_send, full, commit_start, last_delivery, endtxn;
        int outq_full;
        double at[32];
        int outq[32], n;
} tl;

static void tl_sample(rd_kafka_t *rk)
{
        double now = nt_bench_wall_s() - tl.begin;

        if (tl.n < 32 && (tl.n == 0 || now >= tl.at[tl.n - 1] + 0.05)) {
                tl.at[tl.n] = now;
                tl.outq[tl.n++] = rd_kafka_outq_len(rk);
        }
}

struct run_ctx {
        nt_config_t *cfg;
        const char *state_topic;
        const char *state_dir;
        int64_t items;
        size_t max_inflight; /* producer.max_inflight */
        long broker;         /* the broker's pid, 0: unknown */
        long round;
        bool warm; /* warm_up() each producer first */
};

/* The state record of the old encoding: the state file's JSON. */
static char *value_v1(const char *key, const struct nt_feed_state *st,
                      size_t *len)
{
        json_t *root = nt_state_to_json(key, st);
        char *value = root ? json_dumps(root, JSON_COMPACT) : NULL;

        json_decref(root);
        *len = value ? strlen(value) : 0;
        return value;
}

/* The first half of group_end(): mark the transaction's articles seen
 * and write each changed state. */
static void txn_records(nt_publisher_t *pub, struct run_ctx *c, enum mode mode,
                        struct result *r)
{
        double t = nt_bench_wall_s();
        size_t i;

        nt_publisher_each(pub, on_confirm, NULL);
        for (i = 0; i < n_dirty; i++) {
                struct feed *fd = dirty[i];
                size_t len;
                char *value =
                    mode == TXN_V1
                        ? value_v1(fd->key, &fd->st, &len)
                        : nt_state_topic_value(fd->key, &fd->st, &len);

                if (!value ||
                    nt_publisher_send_record(
                        pub, c->state_topic,
                        (int32_t)((fd - feeds) % STATE_PARTITIONS), fd->key,
                        value, len,
                        mode == TXN_V1 ? "newstap.feed-state/1"
                                       : NT_STATE_TOPIC_SCHEMA) != NT_OK) {
                        fprintf(stderr, "group_bench: a state record "
                                        "failed\n");
                        exit(1);
                }
                r->records++;
                r->state_bytes += len;
                free(value);
                fd->dirty = 0;
        }
        n_dirty = 0;
        r->records_s += nt_bench_wall_s() - t;
}

/* What group_end() does: the records, then the commit. */
static void txn_end(nt_publisher_t *pub, struct run_ctx *c, enum mode mode,
                    struct result *r)
{
        double t;

        txn_records(pub, c, mode, r);
        /* The commit's two parts timed apart: its flush (the last
         * deliveries, served by rd_kafka_flush()'s polls as the commit
         * would) and then EndTxn with the markers. */
        t = nt_bench_wall_s();
        if (tl.want) {
                rd_kafka_t *rk = nt_publisher_handle(pub);

                tl.commit_start = t - tl.begin;
                while (rd_kafka_outq_len(rk) > 0) {
                        tl_sample(rk);
                        rd_kafka_poll(rk, 5);
                }
                tl.last_delivery = nt_bench_wall_s() - tl.begin;
        } else {
                rd_kafka_flush(nt_publisher_handle(pub), 30000);
        }
        r->flush_s += nt_bench_wall_s() - t;
        t = nt_bench_wall_s();
        if (nt_publisher_commit(pub, NULL, NULL) != NT_OK) {
                fprintf(stderr, "group_bench: a commit failed\n");
                exit(1);
        }
        r->commit_s += nt_bench_wall_s() - t;
        r->commits++;
        if (tl.want) {
                int j;

                tl.endtxn = nt_bench_wall_s() - tl.begin;
                printf("timeline of transaction %d (s from its begin): first "
                       "send %.3f, full (%d undelivered) %.3f, commit start "
                       "%.3f, last delivery %.3f, EndTxn done %.3f; "
                       "undelivered:",
                       tl.want, tl.first_send, tl.outq_full, tl.full,
                       tl.commit_start, tl.last_delivery, tl.endtxn);
                for (j = 0; j < tl.n; j++)
                        printf(" %.2f:%d", tl.at[j], tl.outq[j]);
                printf("\n");
                tl.want = tl.want < 2 ? tl.want + 1 : 0;
                tl.begin = nt_bench_wall_s();
                tl.first_send = tl.full = 0;
                tl.outq_full = 0;
                tl.n = 0;
        }
}

/* What flush_states() does: the changed states' files, one sync. */
static void files_flush(struct run_ctx *c, struct result *r)
{
        const char *keys[FEEDS];
        const struct nt_feed_state *sts[FEEDS];
        char errstr[512];
        double t = nt_bench_wall_s();
        size_t i;

        if (n_dirty == 0)
                return;
        for (i = 0; i < n_dirty; i++) {
                keys[i] = dirty[i]->key;
                sts[i] = &dirty[i]->st;
        }
        if (nt_state_save_many(c->state_dir, keys, sts, n_dirty, errstr,
                               sizeof(errstr)) != NT_OK) {
                fprintf(stderr, "group_bench: %s\n", errstr);
                exit(1);
        }
        for (i = 0; i < n_dirty; i++)
                dirty[i]->dirty = 0;
        r->records += n_dirty;
        r->commits++;
        n_dirty = 0;
        r->save_s += nt_bench_wall_s() - t;
}

/* A daemon's producer lives for hours: its first message (and, when
 * transactional, its first transaction), which pay for the
 * connection, the metadata and the broker's first write of a new
 * producer id, go before the clock starts, in every mode alike. */
static void warm_up(nt_publisher_t *pub, bool txn, struct result *r)
{
        struct nt_publish_meta meta;
        double t = nt_bench_wall_s();
        char id[33];

        memset(&meta, 0, sizeof(meta));
        make_id(id, "warm", (long)getpid(), (long)nt_bench_wall_s(), 0);
        meta.key = id;
        meta.revision = line_rev[0];
        meta.feed_url = feeds[0].key;
        if (nt_publisher_send(pub, &meta, lines[0], strlen(lines[0])) !=
                NT_OK ||
            (txn && nt_publisher_commit(pub, NULL, NULL) != NT_OK)) {
                fprintf(stderr, "group_bench: the warm-up failed\n");
                exit(1);
        }
        while (!txn && nt_publisher_inflight(pub) > 0)
                nt_publisher_poll(pub, 10);
        n_dirty = 0;
        feeds[0].dirty = 0;
        r->warm_s += nt_bench_wall_s() - t;
}

/* Article i of poll `poll`: its dev-set line (the index returned) and
 * its meta, with a fresh id written to `id`. */
static size_t poll_article(const struct run_ctx *c, int64_t poll, int64_t i,
                           char id[33], struct nt_publish_meta *meta)
{
        size_t at = (size_t)(poll * c->items + i) % n_lines;
        int feed = (int)(poll % FEEDS);

        memset(meta, 0, sizeof(*meta));
        make_id(id, "art", c->round, (long)poll, (long)i);
        meta->key = id;
        meta->revision = line_rev[at];
        meta->feed_url = feeds[feed].key;
        meta->opaque = (void *)(intptr_t)feed;
        return at;
}

/* Two transactional producers of one instance taking turns (the design
 * of docs/operations.md, "Scaling the producer"): one fills while the
 * other commits, each commit stepped as the loop steps it
 * (nt_publisher_end_start(), nt_publisher_end_step()). A turn comes
 * when the filling one is full or TXN_MS old: the other's commit must
 * be over by then (the loop waits for it here: r->flush_s), this one's
 * records are written and its commit begins. The commits end in the
 * order they began, so a feed's later state is never overwritten by an
 * earlier one. The polls here go round all the feeds, so a feed has
 * articles in both transactions, which the loop would have to prevent
 * (a feed whose poll is in the committing transaction waits): this
 * measures what the transactions cost, not that. */
static void pair_turn(nt_publisher_t **pub, int *cur, bool *ending,
                      struct run_ctx *c, struct result *r)
{
        int other = 1 - *cur, rc;
        double t = nt_bench_wall_s();

        if (ending[other]) {
                rc = nt_publisher_end_finish(pub[other]);
                ending[other] = false;
                if (rc != NT_OK) {
                        fprintf(stderr, "group_bench: a commit failed\n");
                        exit(1);
                }
                r->commits++;
        }
        r->flush_s += nt_bench_wall_s() - t;
        if (!nt_publisher_txn_open(pub[*cur])) {
                *cur = other;
                return;
        }
        txn_records(pub[*cur], c, TXN, r);
        t = nt_bench_wall_s();
        rc = nt_publisher_end_start(pub[*cur], true, NULL, NULL, 1);
        r->commit_s += nt_bench_wall_s() - t;
        if (rc == NT_ERR_TIMEOUT)
                ending[*cur] = true;
        else if (rc != NT_OK) {
                fprintf(stderr, "group_bench: a commit failed\n");
                exit(1);
        } else {
                r->commits++;
        }
        *cur = other;
}

static struct result run_pair(struct run_ctx *c, int64_t polls, int txn_ms)
{
        char errstr[512], topic[64], id[33];
        nt_publisher_t *pub[2];
        bool ending[2] = {false, false};
        struct result r;
        double t0, last;
        int64_t poll, i;
        int cur = 0, k;

        memset(&r, 0, sizeof(r));
        feeds_reset();
        snprintf(topic, sizeof(topic), "bench-grp-raw-%ld", (long)getpid());
        for (k = 0; k < 2; k++) {
                char txn_id[64];

                snprintf(txn_id, sizeof(txn_id), "newstap-bench.pair.%d", k);
                pub[k] =
                    nt_publisher_new_txn(c->cfg, topic, c->max_inflight, txn_id,
                                         NULL, NULL, errstr, sizeof(errstr));
                if (!pub[k]) {
                        fprintf(stderr, "group_bench: %s\n", errstr);
                        exit(1);
                }
                if (c->warm)
                        warm_up(pub[k], true, &r);
        }
        r.cpu_s = nt_bench_cpu_s();
        r.broker_s = nt_bench_proc_cpu_s(c->broker);
        t0 = last = nt_bench_wall_s();
        for (poll = 0; poll < polls; poll++) {
                for (i = 0; i < c->items; i++) {
                        struct nt_publish_meta meta;
                        size_t at = poll_article(c, poll, i, id, &meta);

                        while (nt_publisher_send(pub[cur], &meta, lines[at],
                                                 strlen(lines[at])) ==
                               NT_ERR_LIMIT) {
                                r.full++;
                                pair_turn(pub, &cur, ending, c, &r);
                                last = nt_bench_wall_s();
                        }
                        r.article_bytes += strlen(lines[at]);
                        nt_publisher_poll(pub[cur], 0);
                        /* The loop steps the other's commit between
                         * its rounds. */
                        if (ending[1 - cur]) {
                                int rc = nt_publisher_end_step(pub[1 - cur], 0);

                                if (rc != NT_ERR_TIMEOUT && rc != NT_OK) {
                                        fprintf(stderr, "group_bench: a "
                                                        "commit failed\n");
                                        exit(1);
                                }
                                if (rc == NT_OK) {
                                        ending[1 - cur] = false;
                                        r.commits++;
                                }
                        }
                }
                if ((nt_bench_wall_s() - last) * 1000 >= txn_ms) {
                        pair_turn(pub, &cur, ending, c, &r);
                        last = nt_bench_wall_s();
                }
        }
        pair_turn(pub, &cur, ending, c, &r);
        pair_turn(pub, &cur, ending, c, &r);
        r.wall_s = nt_bench_wall_s() - t0;
        r.cpu_s = nt_bench_cpu_s() - r.cpu_s;
        r.broker_s = nt_bench_proc_cpu_s(c->broker) - r.broker_s;
        for (k = 0; k < 2; k++)
                nt_publisher_destroy(pub[k], 10000);
        c->round++;
        return r;
}

/* Sends `polls` polls of c->items articles in `mode`. */
static struct result run(struct run_ctx *c, enum mode mode, int64_t polls,
                         int txn_ms)
{
        char errstr[512], topic[64], id[33];
        struct result r;
        nt_publisher_t *pub;
        double t0, last;
        int64_t poll, i;

        memset(&r, 0, sizeof(r));
        feeds_reset();
        snprintf(topic, sizeof(topic), "bench-grp-raw-%ld", (long)getpid());
        if (mode == IDEM_FILES || mode == IDEM_BARE)
                pub =
                    nt_publisher_new(c->cfg, topic, c->max_inflight, on_confirm,
                                     NULL, errstr, sizeof(errstr));
        else
                pub = nt_publisher_new_txn(c->cfg, topic, c->max_inflight,
                                           "newstap-bench.group", NULL, NULL,
                                           errstr, sizeof(errstr));
        if (!pub) {
                fprintf(stderr, "group_bench: %s\n", errstr);
                exit(1);
        }
        if (c->warm)
                warm_up(pub, mode != IDEM_FILES && mode != IDEM_BARE, &r);
        r.cpu_s = nt_bench_cpu_s();
        r.broker_s = nt_bench_proc_cpu_s(c->broker);
        t0 = last = nt_bench_wall_s();
        if (tl.want)
                tl.begin = t0;
        for (poll = 0; poll < polls; poll++) {
                for (i = 0; i < c->items; i++) {
                        struct nt_publish_meta meta;
                        size_t at = poll_article(c, poll, i, id, &meta);

                        /* Back-pressure as in producer.c's loop: a
                         * full publisher is served (idempotent) or its
                         * transaction committed to make room. */
                        if (tl.want && tl.first_send == 0 && mode == TXN)
                                tl.first_send = nt_bench_wall_s() - tl.begin;
                        while (nt_publisher_send(pub, &meta, lines[at],
                                                 strlen(lines[at])) ==
                               NT_ERR_LIMIT) {
                                if (mode == IDEM_FILES || mode == IDEM_BARE) {
                                        nt_publisher_poll(pub, 100);
                                        /* The loop's every_second() saves
                                         * states while it waits too. */
                                        if (mode == IDEM_FILES &&
                                            (nt_bench_wall_s() - last) * 1000 >=
                                                FLUSH_MS) {
                                                files_flush(c, &r);
                                                last = nt_bench_wall_s();
                                        }
                                        continue;
                                }
                                r.full++;
                                if (tl.want && mode == TXN) {
                                        tl.full = nt_bench_wall_s() - tl.begin;
                                        tl.outq_full = rd_kafka_outq_len(
                                            nt_publisher_handle(pub));
                                }
                                txn_end(pub, c, mode, &r);
                                last = nt_bench_wall_s();
                        }
                        r.article_bytes += strlen(lines[at]);
                        nt_publisher_poll(pub, 0);
                        if (tl.want && mode == TXN && tl.first_send > 0)
                                tl_sample(nt_publisher_handle(pub));
                }
                if (mode == IDEM_BARE)
                        continue;
                if (mode == IDEM_FILES) {
                        if ((nt_bench_wall_s() - last) * 1000 >= FLUSH_MS) {
                                files_flush(c, &r);
                                last = nt_bench_wall_s();
                        }
                        continue;
                }
                if (mode == TXN_PER_POLL ||
                    (nt_bench_wall_s() - last) * 1000 >= txn_ms) {
                        txn_end(pub, c, mode, &r);
                        last = nt_bench_wall_s();
                }
        }
        if (mode == IDEM_FILES || mode == IDEM_BARE) {
                while (nt_publisher_inflight(pub) > 0) {
                        nt_publisher_poll(pub, 10);
                        if (mode == IDEM_FILES &&
                            (nt_bench_wall_s() - last) * 1000 >= FLUSH_MS) {
                                files_flush(c, &r);
                                last = nt_bench_wall_s();
                        }
                }
                if (mode == IDEM_FILES)
                        files_flush(c, &r);
        } else {
                txn_end(pub, c, mode, &r);
        }
        r.wall_s = nt_bench_wall_s() - t0;
        r.cpu_s = nt_bench_cpu_s() - r.cpu_s;
        r.broker_s = nt_bench_proc_cpu_s(c->broker) - r.broker_s;
        nt_publisher_destroy(pub, 10000);
        c->round++;
        return r;
}

static int by_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

static double median(double *v, int n)
{
        double s[MAX_PAIRS];

        memcpy(s, v, (size_t)n * sizeof(*v));
        qsort(s, (size_t)n, sizeof(*s), by_double);
        return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static int parse_txn_ms(const char *arg, int *ms, int *n)
{
        char buf[128], *p, *comma;
        int64_t v;

        snprintf(buf, sizeof(buf), "%s", arg);
        *n = 0;
        for (p = buf; p && *p && *n < MAX_TXN_MS;
             p = comma ? comma + 1 : NULL) {
                comma = strchr(p, ',');
                if (comma)
                        *comma = '\0';
                if (nt_num_parse_i64(p, 1, 30000, &v) != NT_OK)
                        return -1;
                ms[(*n)++] = (int)v;
        }
        return *n > 0 ? 0 : -1;
}

static void print_mode(const char *name, const struct result *r, int n,
                       int64_t articles, bool two)
{
        double wall = 0, commit = 0, save = 0, flush = 0, cpu = 0, broker = 0,
               recs = 0, warm = 0;
        size_t commits = 0, records = 0, sbytes = 0, abytes = 0, full = 0;
        int i;

        for (i = 0; i < n; i++) {
                wall += r[i].wall_s;
                commit += r[i].commit_s;
                flush += r[i].flush_s;
                recs += r[i].records_s;
                warm += r[i].warm_s;
                cpu += r[i].cpu_s;
                broker += r[i].broker_s;
                full += r[i].full;
                save += r[i].save_s;
                commits += r[i].commits;
                records += r[i].records;
                sbytes += r[i].state_bytes;
                abytes += r[i].article_bytes;
        }
        printf("  %-30s %8.0f articles/s; CPU per 1,000 articles: this "
               "process %.0f ms, the broker %.0f ms",
               name, (double)articles * n / wall,
               cpu * 1e6 / ((double)articles * n),
               broker * 1e6 / ((double)articles * n));
        if (commit > 0 && two)
                printf("; %zu commits a round (%zu turns when full), each "
                       "%.1f ms of state records, %.1f ms beginning the "
                       "commit, %.1f ms waiting for the other producer's: "
                       "%.0f %% + %.0f %% + %.0f %% of the time",
                       commits / (size_t)n, full / (size_t)n,
                       recs * 1000 / (double)commits,
                       commit * 1000 / (double)commits,
                       flush * 1000 / (double)commits, recs * 100 / wall,
                       commit * 100 / wall, flush * 100 / wall);
        else if (commit > 0)
                printf("; %zu commits a round (%zu when full), each %.1f ms "
                       "of state records, %.1f ms of last deliveries + %.1f "
                       "ms EndTxn: %.0f %% + %.0f %% + %.0f %% of the time",
                       commits / (size_t)n, full / (size_t)n,
                       recs * 1000 / (double)commits,
                       flush * 1000 / (double)commits,
                       commit * 1000 / (double)commits, recs * 100 / wall,
                       flush * 100 / wall, commit * 100 / wall);
        if (save > 0)
                printf("; %zu state file batches, %.1f ms each, %.0f %% of "
                       "the time in them",
                       commits / (size_t)n, save * 1000 / (double)commits,
                       save * 100 / wall);
        if (warm > 0)
                printf("; the first message of a new producer (not "
                       "counted) %.0f ms",
                       warm * 1000 / n / (two ? 2 : 1));
        if (sbytes > 0)
                printf("; %zu state records of %.0f bytes (+%.1f %% bytes)",
                       records / (size_t)n, (double)sbytes / (double)records,
                       100.0 * (double)sbytes / (double)abytes);
        printf("\n");
}

int main(int argc, char **argv)
{
        const char *bootstrap = nt_bench_bootstrap("group_bench");
        int64_t polls = 4000, items = 5, pairs = 5;
        const char *devset = argc > 3 && *argv[3] ? argv[3] : NT_BENCH_DEVSET;
        char errstr[512], state_topic[64], state_dir[] = "/tmp/nt-grp-XXXXXX";
        struct result idem[MAX_PAIRS], bare[MAX_PAIRS], v1[MAX_PAIRS],
            two[MAX_PAIRS], txn[MAX_TXN_MS][MAX_PAIRS], each;
        double ratio[MAX_TXN_MS][MAX_PAIRS], ratio_bare[MAX_PAIRS],
            ratio_v1[MAX_PAIRS], ratio_two[MAX_PAIRS],
            ratio_two_bare[MAX_PAIRS];
        int txn_ms[MAX_TXN_MS] = {250}, n_txn = 1, n_fixed;
        bool with_pair;
        size_t bytes = 0;
        double idem_wall = 0;
        struct run_ctx c;
        rd_kafka_t *admin;
        int i, k, rep;

        if (!bootstrap)
                return 0;
        if ((argc > 1 && nt_num_parse_i64(argv[1], 20, 10000000, &polls)) ||
            (argc > 2 && nt_num_parse_i64(argv[2], 1, 1000, &items)) ||
            (argc > 4 && nt_num_parse_i64(argv[4], 1, MAX_PAIRS, &pairs)) ||
            (argc > 5 && parse_txn_ms(argv[5], txn_ms, &n_txn))) {
                fprintf(stderr, "usage: group_bench [POLLS] [ITEMS] "
                                "[ARTICLES.jsonl] [PAIRS] "
                                "[TXN_MS[,TXN_MS...]]\n");
                return 2;
        }
        load_devset(devset);
        for (i = 0; i < (int)n_lines; i++)
                bytes += strlen(lines[i]);
        if (!mkdtemp(state_dir)) {
                perror("group_bench: mkdtemp");
                return 1;
        }
        memset(&c, 0, sizeof(c));
        c.cfg = nt_config_new();
        c.items = items;
        c.max_inflight = (size_t)nt_config_int(c.cfg, "producer.max_inflight");
        c.broker = nt_bench_broker_pid();
        c.state_topic = state_topic;
        c.state_dir = state_dir;
        c.warm = getenv("NT_BENCH_COLD") == NULL;
        with_pair = getenv("NT_BENCH_PAIR") != NULL;
        n_fixed = with_pair ? 4 : 3;
        nt_config_set_kafka(c.cfg, "bootstrap.servers", bootstrap, "bench",
                            errstr, sizeof(errstr));
        if (getenv("NT_BENCH_DEBUG"))
                nt_log_setup(NT_LOG_DEBUG, 0, NULL);
        if (getenv("NT_BENCH_DEBUG"))
                nt_config_set_kafka(c.cfg, "debug", getenv("NT_BENCH_DEBUG"),
                                    "bench", errstr, sizeof(errstr));
        snprintf(state_topic, sizeof(state_topic), "bench-grp-state-%ld",
                 (long)getpid());
        admin = nt_kafka_producer_new(c.cfg, NULL, NULL, NULL, errstr,
                                      sizeof(errstr));
        {
                const char *topics[] = {state_topic};
                const char *compact[] = {"cleanup.policy", "compact", NULL};

                if (!admin || nt_kafka_create_topics_config(
                                  admin, topics, 1, STATE_PARTITIONS, compact,
                                  30000, errstr, sizeof(errstr)) != NT_OK) {
                        fprintf(stderr, "group_bench: %s\n", errstr);
                        return 1;
                }
        }
        rd_kafka_destroy(admin);
        /* A warm-up of each side. */
        run(&c, IDEM_FILES, polls / 10 + 1, 0);
        run(&c, TXN, polls / 10 + 1, txn_ms[0]);
        printf("group_bench: %d polls of %d dev-set articles (%zu articles, "
               "%.0f bytes on average) a round from %d feeds, %d rounds; "
               "seen-sets of %d entries; real broker, acks=all, zstd\n",
               (int)polls, (int)items, n_lines, (double)bytes / (double)n_lines,
               FEEDS, (int)pairs, SEEN_PER_FEED);
        tl.want = 1;
        run(&c, TXN, polls, txn_ms[0]);
        tl.want = 0;
        for (rep = 0; rep < pairs; rep++) {
                /* The order turns each round: no mode always runs first
                 * (the broker's segments and page cache fresh) or last. */
                int n_modes = n_fixed + n_txn, m;

                for (m = 0; m < n_modes; m++) {
                        int which = (m + rep) % n_modes;

                        if (which == 0)
                                idem[rep] = run(&c, IDEM_FILES, polls, 0);
                        else if (which == 1)
                                bare[rep] = run(&c, IDEM_BARE, polls, 0);
                        else if (which == 2)
                                v1[rep] = run(&c, TXN_V1, polls, txn_ms[0]);
                        else if (which == 3 && with_pair)
                                two[rep] = run_pair(&c, polls, txn_ms[0]);
                        else
                                txn[which - n_fixed][rep] = run(
                                    &c, TXN, polls, txn_ms[which - n_fixed]);
                }
                printf("  round %d: idempotent %.0f articles/s (bare %.0f)",
                       rep + 1, (double)polls * items / idem[rep].wall_s,
                       (double)polls * items / bare[rep].wall_s);
                ratio_bare[rep] = bare[rep].wall_s / txn[0][rep].wall_s;
                for (k = 0; k < n_txn; k++) {
                        ratio[k][rep] = idem[rep].wall_s / txn[k][rep].wall_s;
                        printf("; txn %d ms %.0f = %.2fx", txn_ms[k],
                               (double)polls * items / txn[k][rep].wall_s,
                               ratio[k][rep]);
                        if (k == 0)
                                printf(" (%.2fx of bare)", ratio_bare[rep]);
                }
                ratio_v1[rep] = idem[rep].wall_s / v1[rep].wall_s;
                printf("; txn %d ms, old records %.0f = %.2fx", txn_ms[0],
                       (double)polls * items / v1[rep].wall_s, ratio_v1[rep]);
                if (!with_pair) {
                        printf("\n");
                        fflush(stdout);
                        continue;
                }
                ratio_two[rep] = idem[rep].wall_s / two[rep].wall_s;
                ratio_two_bare[rep] = bare[rep].wall_s / two[rep].wall_s;
                printf("; two producers taking turns, %d ms: %.0f = %.2fx "
                       "(%.2fx of bare)\n",
                       txn_ms[0], (double)polls * items / two[rep].wall_s,
                       ratio_two[rep], ratio_two_bare[rep]);
                fflush(stdout);
        }
        each = run(&c, TXN_PER_POLL, polls / 10, 0);
        printf("sums of the %d rounds:\n", (int)pairs);
        print_mode("idempotent, state files", idem, (int)pairs, polls * items,
                   false);
        print_mode("idempotent, bare", bare, (int)pairs, polls * items, false);
        for (k = 0; k < n_txn; k++) {
                char name[64];

                snprintf(name, sizeof(name), "transactions every %d ms",
                         txn_ms[k]);
                print_mode(name, txn[k], (int)pairs, polls * items, false);
        }
        print_mode("the same, old state records", v1, (int)pairs, polls * items,
                   false);
        if (with_pair)
                print_mode("two producers taking turns", two, (int)pairs,
                           polls * items, true);
        print_mode("one transaction per poll", &each, 1, polls / 10 * items,
                   false);
        printf("median ratio of a round (transactional / idempotent with "
               "state files; 1 = as fast):\n");
        for (k = 0; k < n_txn; k++) {
                printf("  transactions every %d ms: %.2fx", txn_ms[k],
                       median(ratio[k], (int)pairs));
                if (k == 0)
                        printf(" (against bare publishing, no state files: "
                               "%.2fx)",
                               median(ratio_bare, (int)pairs));
                printf("\n");
        }
        printf("  transactions every %d ms, old state records: %.2fx\n",
               txn_ms[0], median(ratio_v1, (int)pairs));
        if (with_pair)
                printf("  two producers taking turns, every %d ms: %.2fx "
                       "(against bare publishing: %.2fx)\n",
                       txn_ms[0], median(ratio_two, (int)pairs),
                       median(ratio_two_bare, (int)pairs));
        for (rep = 0; rep < pairs; rep++)
                idem_wall += idem[rep].wall_s;
        printf("  one transaction per poll: %.2fx (against the rounds' "
               "idempotent articles/s)\n",
               ((double)(polls / 10) * (double)items / each.wall_s) /
                   ((double)polls * (double)items * (double)pairs / idem_wall));
        printf("  command: scripts/with-kafka build/release/bench/group_bench "
               "%d %d \"%s\" %d",
               (int)polls, (int)items, argc > 3 ? argv[3] : "", (int)pairs);
        for (k = 0; k < n_txn; k++)
                printf("%s%d", k ? "," : " ", txn_ms[k]);
        printf("\n");
        for (i = 0; i < FEEDS; i++)
                nt_state_free(&feeds[i].st);
        for (i = 0; i < (int)n_lines; i++)
                free(lines[i]);
        free(lines);
        free(line_rev);
        nt_config_destroy(c.cfg);
        for (i = 0; i < FEEDS; i++) {
                char path[256];

                nt_state_path(state_dir, feeds[i].key, path, sizeof(path));
                unlink(path);
        }
        if (rmdir(state_dir) != 0)
                fprintf(stderr, "group_bench: could not remove %s\n",
                        state_dir);
        return 0;
}
