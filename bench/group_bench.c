/* Publishing with produce --group's transactions against the idempotent
 * path of the file mode, on the same polls, in one run on the real broker
 * ($NT_TEST_BOOTSTRAP; run under scripts/with-kafka):
 *
 * - idempotent: nt_publisher_new(), each poll's articles sent and polled
 *   until every one is confirmed (the file mode also writes state files,
 *   not counted here: the baseline is the cheaper for it);
 * - transactional: nt_publisher_new_txn(), each poll's articles plus its
 *   feed's state record (nt_state_topic_value() of a state with a
 *   realistic seen-set) on the state topic, committed every TXN_MS as
 *   the loop does (polls that complete within it share a transaction);
 * - one commit per poll: the same with a commit after every poll, the
 *   worst case of a loop whose polls complete one at a time.
 *
 * The articles are the dev set's (ARTICLES.jsonl, by default
 * ../shared/devset/articles.jsonl beside the source tree), read at run
 * time, each sent with a fresh id; a poll brings ITEMS of them. Prints
 * articles/s for each and the ratios to the idempotent path (the issue's
 * target: at least 0.8x).
 *
 * Run: scripts/with-kafka build/release/bench/group_bench [POLLS] [ITEMS]
 * [ARTICLES.jsonl] */
#include "common/config.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/num.h"
#include "producer/publish.h"
#include "producer/state.h"
#include "producer/state_topic.h"
#include "support/bench.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEVSET_DEFAULT NT_SOURCE_DIR "/../shared/devset/articles.jsonl"
#define TXN_MS         250
#define SEEN_PER_FEED  60
#define FEEDS          500

static char **lines;
static size_t n_lines;

static void load_devset(const char *path)
{
        FILE *f = fopen(path, "r");
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;

        if (!f) {
                fprintf(stderr, "group_bench: cannot open %s\n", path);
                exit(2);
        }
        while ((len = getline(&line, &cap, f)) > 0) {
                if (line[len - 1] == '\n')
                        line[--len] = '\0';
                if (len < 2)
                        continue;
                lines = realloc(lines, (n_lines + 1) * sizeof(*lines));
                if (!lines)
                        exit(1);
                lines[n_lines++] = strdup(line);
        }
        free(line);
        fclose(f);
        if (n_lines == 0) {
                fprintf(stderr, "group_bench: no articles in %s\n", path);
                exit(2);
        }
}

/* The state record of feed `feed`: a seen-set of SEEN_PER_FEED ids. */
static char *state_value(int feed, size_t *len)
{
        struct nt_feed_state st;
        char key[64], id[40];
        char *value;
        int i;

        nt_state_init(&st);
        st.etag = strdup("\"5f2a-61b0c3d2e8f00\"");
        st.last_success_ms = 1796000000000LL;
        st.next_poll_ms = 1796000900000LL;
        for (i = 0; i < SEEN_PER_FEED; i++) {
                snprintf(id, sizeof(id), "%08x%08x%016x", feed, i, feed * i);
                nt_state_mark_seen(&st, id, "0123456789abcdef",
                                   1796000000000LL + i);
        }
        snprintf(key, sizeof(key), "https://wire%d.example/rss", feed);
        value = nt_state_topic_value(key, &st, len);
        nt_state_free(&st);
        return value;
}

enum mode { IDEMPOTENT, TXN_SHARED, TXN_PER_POLL };

/* Sends `polls` polls of `items` articles; returns the wall seconds. */
static double run(nt_config_t *cfg, enum mode mode, int64_t polls,
                  int64_t items, const char *state_topic, char **states,
                  size_t *state_lens, long *round)
{
        char errstr[512], topic[64], key[64];
        nt_publisher_t *pub;
        double t0, last_commit;
        int64_t poll, i;

        snprintf(topic, sizeof(topic), "bench-grp-raw-%ld", (long)getpid());
        if (mode == IDEMPOTENT)
                pub = nt_publisher_new(cfg, topic, 100000, NULL, NULL, errstr,
                                       sizeof(errstr));
        else
                pub = nt_publisher_new_txn(cfg, topic, 100000,
                                           "newstap-bench.group", NULL, NULL,
                                           errstr, sizeof(errstr));
        if (!pub) {
                fprintf(stderr, "group_bench: %s\n", errstr);
                exit(1);
        }
        t0 = last_commit = nt_bench_wall_s();
        for (poll = 0; poll < polls; poll++) {
                int feed = (int)(poll % FEEDS);

                for (i = 0; i < items; i++) {
                        struct nt_publish_meta meta;
                        const char *line =
                            lines[(size_t)(poll * items + i) % n_lines];

                        memset(&meta, 0, sizeof(meta));
                        snprintf(key, sizeof(key), "%ld-%lld-%lld", *round,
                                 (long long)poll, (long long)i);
                        meta.key = key;
                        meta.revision = "0123456789abcdef";
                        meta.feed_url = "https://wire.example/rss";
                        while (nt_publisher_send(pub, &meta, line,
                                                 strlen(line)) == NT_ERR_LIMIT)
                                nt_publisher_poll(pub, 10);
                        nt_publisher_poll(pub, 0);
                }
                if (mode == IDEMPOTENT)
                        continue;
                snprintf(key, sizeof(key), "https://wire%d.example/rss", feed);
                nt_publisher_send_record(pub, state_topic, feed % 6, key,
                                         states[feed], state_lens[feed],
                                         "newstap.feed-state/1");
                if (mode == TXN_PER_POLL ||
                    (nt_bench_wall_s() - last_commit) * 1000 >= TXN_MS) {
                        if (nt_publisher_commit(pub, NULL, NULL) != NT_OK) {
                                fprintf(stderr, "group_bench: a commit "
                                                "failed\n");
                                exit(1);
                        }
                        last_commit = nt_bench_wall_s();
                }
        }
        if (mode == IDEMPOTENT) {
                while (nt_publisher_inflight(pub) > 0)
                        nt_publisher_poll(pub, 10);
        } else if (nt_publisher_commit(pub, NULL, NULL) != NT_OK) {
                fprintf(stderr, "group_bench: the last commit failed\n");
                exit(1);
        }
        t0 = nt_bench_wall_s() - t0;
        nt_publisher_destroy(pub, 10000);
        (*round)++;
        return t0;
}

int main(int argc, char **argv)
{
        const char *bootstrap = getenv("NT_TEST_BOOTSTRAP");
        int64_t polls = 4000, items = 5;
        const char *devset = argc > 3 ? argv[3] : DEVSET_DEFAULT;
        char errstr[512], state_topic[64];
        char *states[FEEDS];
        size_t state_lens[FEEDS], bytes = 0;
        double t_idem = 0, t_txn = 0, t_each = 0;
        long round = 0;
        nt_config_t *cfg;
        rd_kafka_t *admin;
        int i, rep;

        if (!bootstrap || !*bootstrap) {
                printf("group_bench: skipped (no NT_TEST_BOOTSTRAP; run "
                       "under scripts/with-kafka)\n");
                return 0;
        }
        if ((argc > 1 && nt_num_parse_i64(argv[1], 10, 10000000, &polls)) ||
            (argc > 2 && nt_num_parse_i64(argv[2], 1, 1000, &items))) {
                fprintf(stderr, "usage: group_bench [POLLS] [ITEMS] "
                                "[ARTICLES.jsonl]\n");
                return 2;
        }
        load_devset(devset);
        for (i = 0; i < (int)n_lines; i++)
                bytes += strlen(lines[i]);
        for (i = 0; i < FEEDS; i++)
                states[i] = state_value(i, &state_lens[i]);
        cfg = nt_config_new();
        nt_config_set_kafka(cfg, "bootstrap.servers", bootstrap, "bench",
                            errstr, sizeof(errstr));
        snprintf(state_topic, sizeof(state_topic), "bench-grp-state-%ld",
                 (long)getpid());
        admin = nt_kafka_producer_new(cfg, NULL, NULL, NULL, errstr,
                                      sizeof(errstr));
        {
                const char *topics[] = {state_topic};
                const char *compact[] = {"cleanup.policy", "compact", NULL};

                if (!admin || nt_kafka_create_topics_config(
                                  admin, topics, 1, 6, compact, 30000, errstr,
                                  sizeof(errstr)) != NT_OK) {
                        fprintf(stderr, "group_bench: %s\n", errstr);
                        return 1;
                }
        }
        rd_kafka_destroy(admin);
        /* A warm-up of each, then three rounds alternating, so that the
         * broker's state (segments, page cache) favours neither. */
        run(cfg, IDEMPOTENT, polls / 10 + 1, items, state_topic, states,
            state_lens, &round);
        run(cfg, TXN_SHARED, polls / 10 + 1, items, state_topic, states,
            state_lens, &round);
        for (rep = 0; rep < 3; rep++) {
                t_idem += run(cfg, IDEMPOTENT, polls, items, state_topic,
                              states, state_lens, &round);
                t_txn += run(cfg, TXN_SHARED, polls, items, state_topic, states,
                             state_lens, &round);
                t_each += run(cfg, TXN_PER_POLL, polls / 10, items, state_topic,
                              states, state_lens, &round) *
                          10;
        }
        printf("group_bench: %d polls of %d dev-set articles (%zu articles, "
               "%.0f bytes on average) a round, 3 rounds; state records of "
               "%zu bytes; real broker, acks=all, zstd\n",
               (int)polls, (int)items, n_lines, (double)bytes / (double)n_lines,
               state_lens[0]);
        printf("  idempotent (file mode)          : %8.0f articles/s\n",
               3.0 * polls * items / t_idem);
        printf("  transactions every %d ms       : %8.0f articles/s  "
               "%.2fx\n",
               TXN_MS, 3.0 * polls * items / t_txn, t_idem / t_txn);
        printf("  one transaction per poll        : %8.0f articles/s  "
               "%.2fx\n",
               3.0 * polls * items / t_each, t_idem / t_each);
        printf("  command: scripts/with-kafka build/release/bench/group_bench "
               "%d %d\n",
               (int)polls, (int)items);
        for (i = 0; i < FEEDS; i++)
                free(states[i]);
        for (i = 0; i < (int)n_lines; i++)
                free(lines[i]);
        free(lines);
        nt_config_destroy(cfg);
        return 0;
}
