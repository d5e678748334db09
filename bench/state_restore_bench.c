/* Restore benchmark (issue 15): the time to restore FEEDS feeds' state
 * from the state topic with nt_state_topic_load() (read the partitions to
 * their committed end with read_committed, decode every record, keep the
 * last state per key, hand each state out), on the real broker
 * ($NT_TEST_BOOTSTRAP; skipped without one).
 *
 * Baseline in the same run: a bare read of the same partitions to their
 * end without decoding: nt_kafka_read_to_end_parts(), the reader the load
 * is built on (assign from the beginning, consume until each partition's
 * EOF, read_committed), with a callback that only counts the bytes. The
 * ratio is what decoding and keeping the states costs on top of fetching
 * them.
 *
 * The states are realistic in size and shape: a seen-set of 20 to 100
 * articles each (ids of 32 hex digits and revisions of 16, as newstap
 * makes them, seen times over the last 30 days), validators (an ETag on
 * 60 %, a Last-Modified on 70 %), a schedule, a few failing or moved
 * feeds. A quarter of the feeds have a second, newer record (the topic
 * before compaction), so the load decodes 1.25 records per feed. Six
 * partitions, as producer.feeds_partitions' default; each round loads
 * all six (a cold start) and two of six (one instance's share of three).
 * Rounds alternate subject and baseline; medians are printed.
 *
 * Run: scripts/with-kafka build/release/bench/state_restore_bench
 *      [FEEDS] [ROUNDS] */
#include "common/config.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/num.h"
#include "producer/state.h"
#include "producer/state_topic.h"
#include "support/bench.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PARTITIONS 6
#define MAX_ROUNDS 50
#define TIMEOUT_MS 300000

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* splitmix64: the same states on every run. */
static uint64_t rnd(void)
{
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
}

static void hex(char *out, int digits)
{
        static const char h[] = "0123456789abcdef";
        uint64_t v = 0;
        int i;

        for (i = 0; i < digits; i++) {
                if (i % 16 == 0)
                        v = rnd();
                out[i] = h[v & 15];
                v >>= 4;
        }
        out[digits] = '\0';
}

static const char *const sites[] = {
    "kyivindependent", "reuters",   "apnews",
    "euronews",        "dw",        "bbc",
    "aljazeera",       "ukrinform", "theguardian",
    "lemonde",         "spiegel",   "rferl",
    "politico",        "pravda",    "npr"};
static const char *const sections[] = {"world",    "europe", "politics",
                                       "business", "energy", "defence",
                                       "latest",   "ukraine"};

static void feed_url(int i, char *buf, size_t size)
{
        snprintf(buf, size, "https://www.%s.example/%s/rss-%d.xml",
                 sites[i % 15], sections[(i / 15) % 8], i);
}

/* A state of a feed polled for weeks, its seen-set of 20 to 100. */
static void make_state(struct nt_feed_state *st, int64_t now_ms, int extra)
{
        static const char *const days[] = {"Mon", "Tue", "Wed", "Thu",
                                           "Fri", "Sat", "Sun"};
        int n = 20 + (int)(rnd() % 81) + extra, i;
        char id[33], rev[17], buf[128];

        if (nt_state_init(st) != NT_OK)
                exit(1);
        if (rnd() % 10 < 6) {
                char a[9], b[9];

                hex(a, 8);
                hex(b, 8);
                snprintf(buf, sizeof(buf), "W/\"%s-%s\"", a, b);
                st->etag = strdup(buf);
        }
        if (rnd() % 10 < 7) {
                snprintf(
                    buf, sizeof(buf), "%s, %02d Dec 2026 %02d:%02d:%02d GMT",
                    days[rnd() % 7], 1 + (int)(rnd() % 7), (int)(rnd() % 24),
                    (int)(rnd() % 60), (int)(rnd() % 60));
                st->last_modified = strdup(buf);
        }
        if (rnd() % 20 == 0)
                st->url = strdup("https://feeds.example/moved/rss.xml");
        if (rnd() % 25 == 0) {
                st->failures = 1 + (int)(rnd() % 4);
                st->last_error = strdup("HTTP 503 Service Unavailable");
        }
        st->last_success_ms = now_ms - (int64_t)(rnd() % 900000);
        st->next_poll_ms = now_ms + (int64_t)(rnd() % 900000);
        for (i = 0; i < n; i++) {
                hex(id, 32);
                hex(rev, 16);
                if (nt_state_mark_seen(
                        st, id, rev,
                        now_ms - (int64_t)(rnd() % (30LL * 86400000))) != NT_OK)
                        exit(1);
        }
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct counted {
        size_t records, bytes, states, seen;
};

static int count_record(const rd_kafka_message_t *rkm, void *opaque)
{
        struct counted *c = opaque;

        c->records++;
        c->bytes += rkm->len + rkm->key_len;
        return 0;
}

static int count_state(const char *key, int32_t partition,
                       struct nt_feed_state *st, void *opaque)
{
        struct counted *c = opaque;

        (void)key;
        (void)partition;
        c->states++;
        c->seen += json_object_size(st->seen);
        return 0;
}

/* Writes the states: every feed once, then a newer record for a quarter
 * of them. */
static void write_states(rd_kafka_t *rk, nt_config_t *cfg, int feeds,
                         size_t *bytes)
{
        int64_t now_ms = (int64_t)time(NULL) * 1000;
        int pass, i;

        *bytes = 0;
        for (pass = 0; pass < 2; pass++) {
                for (i = 0; i < feeds; i += 1000) {
                        const struct nt_feed_state *sp[1000];
                        struct nt_feed_state st[1000];
                        const char *keys[1000];
                        char *owned[1000];
                        int32_t parts[1000];
                        char errstr[512], url[256];
                        int n = 0, j;

                        for (j = i; j < feeds && j < i + 1000; j++) {
                                if (pass == 1 && j % 4 != 0)
                                        continue;
                                feed_url(j, url, sizeof(url));
                                owned[n] = strdup(url);
                                keys[n] = owned[n];
                                parts[n] = j % PARTITIONS;
                                make_state(&st[n], now_ms, pass);
                                sp[n] = &st[n];
                                n++;
                        }
                        for (j = 0; j < n; j++) {
                                size_t len = 0;
                                char *v =
                                    nt_state_topic_value(keys[j], sp[j], &len);

                                *bytes += len;
                                free(v);
                        }
                        if (nt_state_topic_write(rk, cfg, keys, parts, sp,
                                                 (size_t)n, TIMEOUT_MS, errstr,
                                                 sizeof(errstr)) != NT_OK) {
                                fprintf(stderr, "writing states: %s\n", errstr);
                                exit(1);
                        }
                        for (j = 0; j < n; j++) {
                                nt_state_free(&st[j]);
                                free(owned[j]);
                        }
                }
        }
}

int main(int argc, char **argv)
{
        const char *bootstrap = nt_bench_bootstrap("state_restore_bench");
        int64_t feeds = 10000, rounds = 5;
        const int32_t share[] = {0, 3};
        double base_wall[2][MAX_ROUNDS], base_cpu[2][MAX_ROUNDS];
        double load_wall[2][MAX_ROUNDS], load_cpu[2][MAX_ROUNDS];
        char feeds_topic[96], state_topic[96], errstr[512], load[128] = "?";
        struct counted first[2];
        size_t value_bytes;
        nt_config_t *cfg;
        rd_kafka_t *rk;
        FILE *f;
        int r, s;

        if (!bootstrap)
                return 0;
        if ((argc > 1 && nt_num_parse_i64(argv[1], 1, 1000000, &feeds)) ||
            (argc > 2 && nt_num_parse_i64(argv[2], 1, MAX_ROUNDS, &rounds))) {
                fprintf(stderr, "usage: state_restore_bench [FEEDS] "
                                "[ROUNDS 1..50]\n");
                return 2;
        }
        nt_log_setup(NT_LOG_WARN, NT_LOG_LOGFMT, NULL);
        snprintf(feeds_topic, sizeof(feeds_topic), "bench-feeds-%ld",
                 (long)getpid());
        snprintf(state_topic, sizeof(state_topic), "bench-state-%ld",
                 (long)getpid());
        cfg = nt_config_new();
        if (!cfg ||
            nt_config_set(cfg, "topics.feeds", feeds_topic, "bench", errstr,
                          sizeof(errstr)) ||
            nt_config_set(cfg, "topics.feeds_state", state_topic, "bench",
                          errstr, sizeof(errstr)) ||
            nt_config_set_kafka(cfg, "bootstrap.servers", bootstrap, "bench",
                                errstr, sizeof(errstr))) {
                fprintf(stderr, "config: %s\n", errstr);
                return 1;
        }
        rk = nt_kafka_confirmed_producer_new(cfg, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "%s\n", errstr);
                return 1;
        }
        {
                static const char *const compact[] = {"cleanup.policy",
                                                      "compact", NULL};
                const char *topics[] = {feeds_topic};

                if (nt_kafka_create_topics_config(rk, topics, 1, PARTITIONS,
                                                  compact, 30000, errstr,
                                                  sizeof(errstr)) ||
                    nt_state_topic_ensure(rk, cfg, 30000, errstr,
                                          sizeof(errstr))) {
                        fprintf(stderr, "topics: %s\n", errstr);
                        return 1;
                }
        }
        write_states(rk, cfg, (int)feeds, &value_bytes);
        rd_kafka_destroy(rk);

        for (r = 0; r < rounds; r++) {
                for (s = 0; s < 2; s++) {
                        const int32_t *parts = s ? share : NULL;
                        size_t nparts = s ? 2 : 0;
                        struct counted c = {0, 0, 0, 0}, d = {0, 0, 0, 0};
                        double w0, c0;

                        w0 = nt_bench_wall_s();
                        c0 = nt_bench_process_cpu_s();
                        if (nt_kafka_read_to_end_parts(
                                cfg, NULL, state_topic, parts, nparts,
                                count_record, &c, TIMEOUT_MS, errstr,
                                sizeof(errstr)) != NT_OK) {
                                fprintf(stderr, "bare read: %s\n", errstr);
                                return 1;
                        }
                        base_wall[s][r] = nt_bench_wall_s() - w0;
                        base_cpu[s][r] = nt_bench_process_cpu_s() - c0;

                        w0 = nt_bench_wall_s();
                        c0 = nt_bench_process_cpu_s();
                        if (nt_state_topic_load(
                                cfg, NULL, parts, nparts, count_state, &d,
                                TIMEOUT_MS, errstr, sizeof(errstr)) != NT_OK) {
                                fprintf(stderr, "load: %s\n", errstr);
                                return 1;
                        }
                        load_wall[s][r] = nt_bench_wall_s() - w0;
                        load_cpu[s][r] = nt_bench_process_cpu_s() - c0;
                        d.records = c.records;
                        d.bytes = c.bytes;
                        if (r == 0)
                                first[s] = d;
                }
        }
        f = fopen("/proc/loadavg", "r");
        if (f) {
                if (!fgets(load, sizeof(load), f))
                        snprintf(load, sizeof(load), "?");
                load[strcspn(load, "\n")] = '\0';
                fclose(f);
        }
        printf("state_restore_bench: %d feeds, %d partitions, %zu records "
               "(%.1f MB of values, %.0f bytes a state on average), "
               "%d rounds, load average %s\n",
               (int)feeds, PARTITIONS, first[0].records, value_bytes / 1e6,
               (double)value_bytes / (double)first[0].records, (int)rounds,
               load);
        for (s = 0; s < 2; s++) {
                double bw = median(base_wall[s], (int)rounds);
                double bc = median(base_cpu[s], (int)rounds);
                double lw = median(load_wall[s], (int)rounds);
                double lc = median(load_cpu[s], (int)rounds);

                printf("  %s: %zu states (%zu records, %zu seen entries)\n"
                       "    bare read to the end:   %8.1f ms wall, %8.1f ms "
                       "CPU\n"
                       "    nt_state_topic_load:    %8.1f ms wall, %8.1f ms "
                       "CPU\n"
                       "    ratio load / bare read: %8.2fx wall, %8.2fx "
                       "CPU\n",
                       s ? "partitions 0 and 3 of 6 (one instance of three)"
                         : "all 6 partitions (cold start)",
                       first[s].states, first[s].records, first[s].seen,
                       bw * 1e3, bc * 1e3, lw * 1e3, lc * 1e3, lw / bw,
                       lc / bc);
        }
        printf("command: scripts/with-kafka "
               "build/release/bench/state_restore_bench %d %d\n",
               (int)feeds, (int)rounds);
        nt_config_destroy(cfg);
        return 0;
}
