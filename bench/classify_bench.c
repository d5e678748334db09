/* Classifier benchmark, each part beside its baseline in the same run:
 *
 * 2. The --offline path, on generated article JSON lines of about 3 KB
 *    and on copies of the development set's articles (real news:
 *    ARTICLES.jsonl, shuffled, a new id each), through
 *    nt_enriched_build() (what `classify --offline` and the daemon run per
 *    input: JSON load, article model, classification, event text), and
 *    through the `newstap classify --offline` binary when its path is
 *    given, against a bare jansson json_loads() + json_dumps() of the same
 *    lines: the floor of any jansson-based consumer. Target: at most 1.4x
 *    the floor's time on real news. CPU time (of this process, and of the
 *    binary's), the subjects in turns for P2_ROUNDS rounds; with
 *    NT_BENCH_BASE=path/to/another/newstap that build's binary takes its
 *    turn in the same rounds, to compare two builds on one machine.
 * 3. End to end on the real broker ($NT_TEST_BOOTSTRAP; skipped without):
 *    raw -> enriched + label topics with exactly-once transactions, the
 *    classify loop in this process, beside the same loop with
 *    consumer.classify=false, so the classifier's cost shows as a ratio.
 *    Twice: on the generated articles, and on real news: the development
 *    set's articles (ARTICLES.jsonl, by default ../shared/devset beside
 *    the source tree, read at run time), shuffled and repeated with a new
 *    id each time, whose label density is that of the news watched.
 *    Target: classification on at most 1.3x the time of classification off.
 *
 *    After a warm-up run (the broker's JIT), off and on alternate for
 *    $NT_E2E_ROUNDS pairs (default 5), which of the two goes first
 *    alternating too; each run prints its rate and the CPU per article
 *    of this process (and of the loop's thread in it) and of the
 *    broker's JVM (/proc/PID/stat, the pid from scripts/kafka-local's pid
 *    file), so that it shows where the time goes; the figure is the
 *    median of the pairs' ratios.
 *    NT_E2E_INPUT=devset (or generated) runs one input only;
 *    NT_E2E_THREADS=N sets consumer.threads (default: the config's), and
 *    NT_E2E_KAFKA="name=value,..." librdkafka properties of the loop,
 *    NT_E2E_SET="key=value,..." other configuration keys.
 *
 * Run: build/release/bench/classify_bench [LINES] [E2E_ARTICLES]
 *          [path/to/newstap] [ARTICLES.jsonl]
 *      (under scripts/with-kafka for part 3). Part 1, the matching stage
 *      alone, is bench/match_bench. */
#include "common/article.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/num.h"
#include "consumer/classify.h"
#include "consumer/classify_loop.h"
#include "consumer/enriched.h"
#include "support/bench.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_LINES  20000
#define DEFAULT_E2E    20000
#define BODY_BYTES     2700 /* plus title, summary and the JSON around */
#define DEVSET_DEFAULT NT_SOURCE_DIR "/../shared/devset/articles.jsonl"
#define DEVSET_MAX     100000 /* lines read from the development set */
#define E2E_ROUNDS     5      /* off/on pairs of part 3 ($NT_E2E_ROUNDS) */
#define E2E_MAX_ROUNDS 50
#define P2_ROUNDS      5 /* rounds of part 2 */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rng(void)
{
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Sentences a wire story is made of: most are background, some carry a
 * topic; English, Ukrainian and Russian. */
static const char *const background[] = {
    "Officials met on Tuesday to review the budget for the coming year.",
    "The regional council said repairs to the bridge would take months.",
    "Analysts expect prices to ease once the harvest is in.",
    "Рада ухвалила зміни до бюджету після тривалого обговорення.",
    "Мешканці міста скаржилися на перебої з водою протягом тижня.",
    "Власти города пообещали отремонтировать дороги до зимы.",
    "The company reported higher profits and plans to hire more staff.",
    "Teachers in several districts asked for smaller classes.",
};
static const char *const topical[] = {
    "The IAEA said the Zaporizhzhia nuclear power plant lost off-site "
    "power again and ran on diesel generators.",
    "Allies discussed security guarantees for Ukraine that would last 15 "
    "years.",
    "Moscow demands that Kyiv recognise the occupied territories, which "
    "Ukraine rejects.",
    "МАГАТЕ повідомило, що Запорізька АЕС знову залишилася без живлення.",
    "Партнери обговорили гарантії безпеки для України на 15 років.",
    "Россия требует признать оккупированные территории.",
};

/* Article i, about 3 KB of JSON. One article in three is about a topic
 * (a sentence in five on it), the rest is other news, as in a wire feed
 * watched for a few subjects. Caller frees. */
static char *make_article(unsigned i)
{
        struct nt_article a;
        struct nt_buf body;
        char buf[160];
        char *line;

        nt_article_init(&a);
        nt_buf_init(&body, 1 << 20);
        while (body.len < BODY_BYTES) {
                const char *s =
                    i % 3 == 0 && rng() % 5 == 0
                        ? topical[rng() % (sizeof(topical) / sizeof(*topical))]
                        : background[rng() % (sizeof(background) /
                                              sizeof(*background))];
                nt_buf_append_str(&body, s);
                nt_buf_append_str(&body, rng() % 4 == 0 ? "\n\n" : " ");
        }
        snprintf(a.id, sizeof(a.id), "%032x", i);
        snprintf(a.revision, sizeof(a.revision), "%016x", i);
        snprintf(buf, sizeof(buf), "Wire report %u: %s", i,
                 i % 3 == 0 ? "Zaporizhzhia nuclear plant update"
                            : "regional news in brief");
        a.title = strdup(buf);
        a.summary = strdup(background[i % 3]);
        a.content = nt_buf_detach(&body);
        snprintf(buf, sizeof(buf), "https://wire.example/story/%u", i);
        a.url = strdup(buf);
        a.feed_url = strdup("https://wire.example/rss.xml");
        a.feed_title = strdup("Wire");
        a.language = strdup("en");
        a.published = 1767607200000LL + (long long)i * 60000;
        a.fetched = a.published + 120000;
        line = nt_article_to_json_line(&a);
        nt_article_free(&a);
        return line;
}

static nt_classifier_t *shipped_rules(void)
{
        const char *in[1] = {NT_SOURCE_DIR "/config/rules"};
        char errstr[512];
        nt_classifier_t *c =
            nt_classifier_from_paths(in, 1, errstr, sizeof(errstr));

        if (!c)
                fprintf(stderr, "classify_bench: rules: %s\n", errstr);
        return c;
}

/* ---- part 2 ------------------------------------------------------ */

static char **devset_load(const char *path, size_t *n);
static char *devset_article(char **lines, size_t n, size_t *order, size_t i);

/* The floor: load and dump every line with jansson. Returns seconds of
 * CPU: the machine is shared, and wall time would measure the
 * neighbours. */
static double floor_pass(char **lines, size_t n, size_t *out_bytes)
{
        double t0 = nt_bench_process_cpu_s();
        size_t i;

        *out_bytes = 0;
        for (i = 0; i < n; i++) {
                json_t *v = json_loads(lines[i], 0, NULL);
                char *s = json_dumps(v, JSON_COMPACT);

                *out_bytes += s ? strlen(s) : 0;
                free(s);
                json_decref(v);
        }
        return nt_bench_process_cpu_s() - t0;
}

/* The offline path: one event per line, as classify --offline builds it
 * (the writing to stdout aside). Returns seconds of CPU. */
static double offline_pass(nt_classifier_t *c, char **lines, size_t n,
                           size_t *out_bytes, size_t *labelled)
{
        struct nt_enriched_opts o;
        struct nt_enriched_event ev;
        double t0 = nt_bench_process_cpu_s();
        size_t i;

        nt_enriched_opts_init(&o);
        nt_enriched_event_init(&ev, (size_t)8 << 20);
        *out_bytes = 0;
        *labelled = 0;
        for (i = 0; i < n; i++) {
                if (nt_enriched_build(c, &o, lines[i], strlen(lines[i]),
                                      1767607200000LL, &ev) != 0 ||
                    ev.reason != NT_ENRICHED_OK) {
                        fprintf(stderr, "classify_bench: line %zu: %s\n", i,
                                ev.error);
                        exit(1);
                }
                *out_bytes += ev.value.len + 1;
                *labelled += ev.n_labels > 0;
        }
        nt_enriched_event_free(&ev);
        return nt_bench_process_cpu_s() - t0;
}

/* CPU time of the waited-for children (user and system). */
static double children_cpu_s(void)
{
        struct rusage ru;

        getrusage(RUSAGE_CHILDREN, &ru);
        return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* The binary on a file of the lines, output to /dev/null. Seconds of CPU
 * of the process (and of the shell that starts it), or -1. */
static double binary_pass(const char *bin, const char *file)
{
        char cmd[2048];
        double t0 = children_cpu_s();
        int status;

        snprintf(cmd, sizeof(cmd),
                 "'%s' classify --offline --rules '%s/config/rules' < '%s' "
                 "> /dev/null",
                 bin, NT_SOURCE_DIR, file);
        status = system(cmd);
        if (status != 0) {
                fprintf(stderr, "classify_bench: %s exited %d\n", bin, status);
                return -1;
        }
        return children_cpu_s() - t0;
}

/* The median of n values (sorts them). */
static double median(double *v, int n)
{
        double t;
        int i, j;

        for (i = 1; i < n; i++)
                for (j = i; j > 0 && v[j - 1] > v[j]; j--) {
                        t = v[j];
                        v[j] = v[j - 1];
                        v[j - 1] = t;
                }
        return n ? v[n / 2] : 0;
}

/* One line of part 2: a subject's best round and its ratios to the
 * floor (of the best rounds, and the median of the rounds' ratios). */
static void part2_row(const char *name, const double *t, const double *floor,
                      size_t n, size_t in_bytes, const char *note)
{
        double best = 1e9, best_floor = 1e9, ratio[P2_ROUNDS];
        int r, good = 0;

        for (r = 0; r < P2_ROUNDS; r++) {
                if (t[r] <= 0)
                        continue;
                best = t[r] < best ? t[r] : best;
                best_floor = floor[r] < best_floor ? floor[r] : best_floor;
                ratio[good++] = t[r] / floor[r];
        }
        if (good == 0)
                return;
        printf("   %-27s %6.1f MB/s %7.0f lines/s   %.2fx the floor's time "
               "(best rounds), median round %.2fx%s\n",
               name, (double)in_bytes / 1e6 / best, (double)n / best,
               best / best_floor, median(ratio, good), note);
}

/* Part 2 over n lines (taken: freed here), `what` naming the input: the
 * floor, the library path and the binaries (`base`, when given, is
 * another build's newstap) in turns for P2_ROUNDS rounds, so that all
 * see the same machine. */
static void part2(nt_classifier_t *c, char **lines, size_t n, const char *what,
                  const char *bin, const char *base)
{
        double floor[P2_ROUNDS], off[P2_ROUNDS], tb[P2_ROUNDS],
            tbase[P2_ROUNDS];
        double best_floor = 1e9;
        size_t i, in_bytes = 0, fout, oout, labelled = 0;
        char file[] = "/tmp/classify-bench-XXXXXX";
        int round, fd = -1;
        FILE *f = NULL;

        for (i = 0; i < n; i++)
                in_bytes += strlen(lines[i]) + 1;
        if (bin || base) {
                fd = mkstemp(file);
                f = fd >= 0 ? fdopen(fd, "w") : NULL;
                for (i = 0; f && i < n; i++)
                        fprintf(f, "%s\n", lines[i]);
                if (!f || fclose(f) != 0) {
                        fprintf(stderr, "classify_bench: %s: cannot write\n",
                                file);
                        if (!f && fd >= 0)
                                close(fd);
                        bin = base = NULL;
                }
        }
        for (round = 0; round < P2_ROUNDS; round++) {
                floor[round] = floor_pass(lines, n, &fout);
                best_floor =
                    floor[round] < best_floor ? floor[round] : best_floor;
                off[round] = offline_pass(c, lines, n, &oout, &labelled);
                tb[round] = bin ? binary_pass(bin, file) : -1;
                tbase[round] = base ? binary_pass(base, file) : -1;
        }
        printf("2. classify --offline path, %s: %zu lines, %.1f MB (mean "
               "%zu bytes), %zu labelled; CPU time, %d rounds\n",
               what, n, (double)in_bytes / 1e6, in_bytes / n, labelled,
               P2_ROUNDS);
        printf("   %-27s %6.1f MB/s %7.0f lines/s\n",
               "jansson load+dump (floor)", (double)in_bytes / 1e6 / best_floor,
               (double)n / best_floor);
        part2_row("nt_enriched_build", off, floor, n, in_bytes, "");
        part2_row("newstap classify --offline", tb, floor, n, in_bytes,
                  " (whole process: start, rules, stdin, stdout)");
        part2_row("base build's newstap", tbase, floor, n, in_bytes, "");
        if (fd >= 0)
                unlink(file);
        for (i = 0; i < n; i++)
                free(lines[i]);
        free(lines);
}

/* Part 2 on the generated articles, then on n copies of the development
 * set's (realistic size, vocabulary and label density), when it is
 * there. */
static void part2_inputs(nt_classifier_t *c, size_t n, const char *devset,
                         const char *bin, const char *base)
{
        char **lines = calloc(n, sizeof(*lines)), **dev;
        size_t i, n_dev, *order;

        if (!lines)
                return;
        for (i = 0; i < n; i++)
                lines[i] = make_article((unsigned)i);
        part2(c, lines, n, "generated", bin, base);
        dev = devset_load(devset, &n_dev);
        if (!dev || n_dev == 0)
                return;
        order = calloc(n_dev, sizeof(*order));
        lines = calloc(n, sizeof(*lines));
        if (!order || !lines) {
                fprintf(stderr, "classify_bench: out of memory\n");
                exit(1);
        }
        for (i = 0; i < n_dev; i++)
                order[i] = i;
        for (i = 0; i < n; i++) {
                lines[i] = devset_article(dev, n_dev, order, i);
                if (!lines[i]) {
                        fprintf(stderr,
                                "classify_bench: %s: a line is not "
                                "an article\n",
                                devset);
                        exit(1);
                }
        }
        part2(c, lines, n, "the development set's articles", bin, base);
        for (i = 0; i < n_dev; i++)
                free(dev[i]);
        free(dev);
        free(order);
}

/* ---- part 3 ------------------------------------------------------ */

static int set(nt_config_t *cfg, const char *key, const char *value)
{
        char errstr[256];

        if (nt_config_set(cfg, key, value, "bench", errstr, sizeof(errstr))) {
                fprintf(stderr, "classify_bench: %s\n", errstr);
                return -1;
        }
        return 0;
}

/* What one run of part 3 measured. */
struct e2e_result {
        double rate;      /* articles/s, first input to last commit */
        double cpu_us;    /* this process's CPU (every thread) per article */
        double loop_us;   /* of which the loop's own thread */
        double broker_us; /* the broker's CPU per article; < 0: unknown */
        unsigned long long label_events;
};

/* librdkafka properties for the loop's clients (the -X of newstap
 * classify), or with `keys` newstap's configuration keys: "name=value,...".
 * Returns 0, or -1 with a message. */
static int kafka_props(nt_config_t *cfg, const char *list, bool keys)
{
        char buf[1024], errstr[256], *p, *next, *eq;

        if (!list || !*list)
                return 0;
        snprintf(buf, sizeof(buf), "%s", list);
        for (p = buf; p && *p; p = next) {
                next = strchr(p, ',');
                if (next)
                        *next++ = '\0';
                eq = strchr(p, '=');
                if (!eq) {
                        fprintf(stderr,
                                "classify_bench: NT_E2E_KAFKA/SET: %s: "
                                "not name=value\n",
                                p);
                        return -1;
                }
                *eq = '\0';
                if (keys && set(cfg, p, eq + 1) != 0)
                        return -1;
                if (!keys && nt_config_set_kafka(cfg, p, eq + 1, "bench",
                                                 errstr, sizeof(errstr)) != 0) {
                        fprintf(stderr, "classify_bench: %s\n", errstr);
                        return -1;
                }
        }
        return 0;
}

/* One run of the loop over the raw topic in a fresh group: the rate
 * from the first input to the last commit, and the CPU it took. The rate
 * is -1 when the run failed. */
static struct e2e_result e2e_run(const char *bootstrap, const char *raw,
                                 size_t n, bool classify, const char *tag)
{
        struct e2e_result res = {-1, 0, 0, -1, 0};
        struct nt_classify_stats st;
        nt_classify_loop_t *loop;
        nt_classifier_t *c = shipped_rules();
        nt_config_t *cfg = nt_config_new();
        char errstr[512], name[160];
        double cpu, loop_cpu, broker;
        long bpid = nt_bench_broker_pid();
        const char *threads = getenv("NT_E2E_THREADS");

        if (!c || !cfg)
                goto out;
        nt_config_set_kafka(cfg, "bootstrap.servers", bootstrap, "bench",
                            errstr, sizeof(errstr));
        snprintf(name, sizeof(name), "%s-%s-enriched", raw, tag);
        if (set(cfg, "topics.raw", raw) || set(cfg, "topics.enriched", name))
                goto out;
        snprintf(name, sizeof(name), "%s-%s-label.", raw, tag);
        if (set(cfg, "topics.label_prefix", name))
                goto out;
        snprintf(name, sizeof(name), "%s-%s-dlq", raw, tag);
        if (set(cfg, "topics.dlq", name))
                goto out;
        snprintf(name, sizeof(name), "%s-%s-group", raw, tag);
        if (set(cfg, "consumer.group_id", name))
                goto out;
        snprintf(name, sizeof(name), "%s-%s-txn", raw, tag);
        if (set(cfg, "consumer.transactional_id", name) ||
            set(cfg, "consumer.classify", classify ? "true" : "false"))
                goto out;
        if (threads && *threads && set(cfg, "consumer.threads", threads))
                goto out;
        if (kafka_props(cfg, getenv("NT_E2E_KAFKA"), false) != 0 ||
            kafka_props(cfg, getenv("NT_E2E_SET"), true) != 0)
                goto out;
        loop = nt_classify_loop_new(cfg, c, errstr, sizeof(errstr));
        if (!loop) {
                fprintf(stderr, "classify_bench: %s\n", errstr);
                goto out;
        }
        c = NULL;
        cpu = nt_bench_cpu_s();
        loop_cpu = nt_bench_thread_cpu_s();
        broker = nt_bench_proc_cpu_s(bpid);
        if (nt_classify_loop_run(loop, n, NULL, NULL, errstr, sizeof(errstr)) ==
            0) {
                double per;

                nt_classify_loop_stats(loop, &st);
                per = 1e6 / (double)(st.committed ? st.committed : 1);
                res.cpu_us = (nt_bench_cpu_s() - cpu) * per;
                res.loop_us = (nt_bench_thread_cpu_s() - loop_cpu) * per;
                if (broker >= 0 && nt_bench_proc_cpu_s(bpid) >= 0)
                        res.broker_us =
                            (nt_bench_proc_cpu_s(bpid) - broker) * per;
                res.rate =
                    (double)st.committed /
                    ((double)(st.last_commit_ms - st.first_input_ms) / 1000.0);
                res.label_events = (unsigned long long)st.label_events;
                printf("     %-3s %6.0f articles/s, CPU per article: client "
                       "%4.0f us (loop thread %4.0f), broker %4.0f us (%llu "
                       "in %llu transactions, %llu label events)\n",
                       classify ? "on" : "off", res.rate, res.cpu_us,
                       res.loop_us, res.broker_us,
                       (unsigned long long)st.committed,
                       (unsigned long long)st.batches, res.label_events);
        } else {
                fprintf(stderr, "classify_bench: %s\n", errstr);
        }
        nt_classify_loop_destroy(loop);
out:
        nt_classifier_destroy(c);
        nt_config_destroy(cfg);
        return res;
}

/* The development set's article lines, or NULL (with a message) when
 * the file cannot be read. *n is set to how many; caller frees each line
 * and the array. */
static char **devset_load(const char *path, size_t *n)
{
        FILE *f = fopen(path, "r");
        char **lines = NULL, *line = NULL;
        size_t cap = 0, len = 0;
        ssize_t got;

        *n = 0;
        if (!f) {
                printf("   (no development set at %s: skipped)\n", path);
                return NULL;
        }
        while (*n < DEVSET_MAX && (got = getline(&line, &len, f)) > 0) {
                if (got < 2)
                        continue;
                nt_bench_grow(&lines, &cap, *n + 1, sizeof(*lines));
                lines[(*n)++] = strdup(line);
        }
        free(line);
        fclose(f);
        return lines;
}

/* Copy i of the development set: its articles in a shuffled order
 * (a new shuffle on each pass through them), each copy with an id and a
 * revision of its own, so that no two inputs are one article. Caller
 * frees. */
static char *devset_article(char **lines, size_t n, size_t *order, size_t i)
{
        size_t k = i % n, j;
        json_t *obj;
        char id[40], *out;

        if (k == 0) {
                for (j = n - 1; j > 0; j--) {
                        size_t r = (size_t)(rng() % (j + 1)), t = order[j];

                        order[j] = order[r];
                        order[r] = t;
                }
        }
        obj = json_loads(lines[order[k]], 0, NULL);
        if (!obj)
                return NULL;
        snprintf(id, sizeof(id), "%032zx", i);
        json_object_set_new(obj, "id", json_string(id));
        snprintf(id, sizeof(id), "%016zx", i);
        json_object_set_new(obj, "revision", json_string(id));
        out = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(obj);
        return out;
}

/* Writes n inputs to a fresh raw topic: generated articles, or copies of
 * the development set's when `lines` is given. Returns 0 and the topic's
 * name in raw, with the mean input size in *mean. */
static int fill_raw(const char *bootstrap, char **lines, size_t n_lines,
                    size_t n, char *raw, size_t raw_size, size_t *mean)
{
        const char *props[] = {"bootstrap.servers", bootstrap, "linger.ms",
                               "20", NULL};
        const char *topics[1];
        size_t *order = NULL, i, bytes = 0;
        char errstr[512];
        rd_kafka_t *rk;
        int rc = -1;

        snprintf(raw, raw_size, "bench-raw-%s-%ld-%ld",
                 lines ? "devset" : "gen", (long)getpid(), (long)time(NULL));
        rk = nt_kafka_producer_new(NULL, props, NULL, NULL, errstr,
                                   sizeof(errstr));
        topics[0] = raw;
        if (!rk || nt_kafka_create_topics(rk, topics, 1, 3, 15000, errstr,
                                          sizeof(errstr)) != 0) {
                fprintf(stderr, "classify_bench: %s\n", errstr);
                goto out;
        }
        if (lines) {
                order = calloc(n_lines, sizeof(*order));
                if (!order)
                        goto out;
                for (i = 0; i < n_lines; i++)
                        order[i] = i;
        }
        for (i = 0; i < n; i++) {
                char *line = lines ? devset_article(lines, n_lines, order, i)
                                   : make_article((unsigned)i);
                char key[40];

                if (!line) {
                        fprintf(stderr,
                                "classify_bench: input %zu: not "
                                "JSON\n",
                                i);
                        goto out;
                }
                bytes += strlen(line);
                snprintf(key, sizeof(key), "%032zx", i);
                while (rd_kafka_producev(
                           rk, RD_KAFKA_V_TOPIC(raw),
                           RD_KAFKA_V_KEY(key, strlen(key)),
                           RD_KAFKA_V_VALUE(line, strlen(line)),
                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                           RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        rd_kafka_poll(rk, 50);
                free(line);
        }
        if (nt_kafka_flush(rk, 120000, errstr, sizeof(errstr)) != 0) {
                fprintf(stderr, "classify_bench: %s\n", errstr);
                goto out;
        }
        *mean = n ? bytes / n : 0;
        rc = 0;
out:
        free(order);
        if (rk)
                rd_kafka_destroy(rk);
        return rc;
}

/* Classification off, then on, over the same raw topic, `rounds` times
 * alternating (each run in a fresh group), so that neither side gets a
 * quieter machine: each pair's ratio, then the median of the pairs'
 * ratios (the figure), the ratio of the best runs, and the median CPU
 * per article of each side, the client's and the broker's. */
static void e2e_pair(const char *bootstrap, const char *raw, size_t n,
                     int rounds)
{
        double ratio[E2E_MAX_ROUNDS], on_rate[E2E_MAX_ROUNDS],
            off_rate[E2E_MAX_ROUNDS];
        double cpu[2][E2E_MAX_ROUNDS], loop[2][E2E_MAX_ROUNDS],
            broker[2][E2E_MAX_ROUNDS];
        double best_on = 0, best_off = 0;
        char tag[16];
        int r, good = 0, with_broker = 0;

        /* The broker's JVM compiles its hot paths during the first
         * runs: the warm-up's figures are not counted. */
        printf("   warm-up (not counted)\n");
        e2e_run(bootstrap, raw, n, true, "warm");
        for (r = 0; r < rounds; r++) {
                struct e2e_result off = {-1, 0, 0, -1, 0}, on;

                /* Off first in odd rounds, on first in even ones, so that
                 * neither always runs second. */
                printf("   round %d\n", r + 1);
                snprintf(tag, sizeof(tag), "off%d", r);
                if (r % 2 == 0)
                        off = e2e_run(bootstrap, raw, n, false, tag);
                snprintf(tag, sizeof(tag), "on%d", r);
                on = e2e_run(bootstrap, raw, n, true, tag);
                snprintf(tag, sizeof(tag), "off%d", r);
                if (r % 2 == 1)
                        off = e2e_run(bootstrap, raw, n, false, tag);
                if (on.rate <= 0 || off.rate <= 0)
                        continue;
                best_on = on.rate > best_on ? on.rate : best_on;
                best_off = off.rate > best_off ? off.rate : best_off;
                on_rate[good] = on.rate;
                off_rate[good] = off.rate;
                cpu[0][good] = off.cpu_us;
                cpu[1][good] = on.cpu_us;
                loop[0][good] = off.loop_us;
                loop[1][good] = on.loop_us;
                broker[0][good] = off.broker_us;
                broker[1][good] = on.broker_us;
                with_broker += off.broker_us >= 0 && on.broker_us >= 0;
                ratio[good] = off.rate / on.rate;
                printf("     pair %d: on takes %.2fx the time of off\n", r + 1,
                       ratio[good]);
                good++;
        }
        if (good == 0)
                return;
        printf("   classification on takes %.2fx the time of classification "
               "off, median of %d pairs (best runs %.2fx: %.0f vs %.0f "
               "articles/s; median runs %.0f vs %.0f); target 1.3x\n",
               median(ratio, good), good, best_off / best_on, best_on, best_off,
               median(on_rate, good), median(off_rate, good));
        printf("   CPU per article, medians, off / on: client %.0f / %.0f us "
               "(loop thread %.0f / %.0f)",
               median(cpu[0], good), median(cpu[1], good),
               median(loop[0], good), median(loop[1], good));
        if (with_broker == good)
                printf(", broker %.0f / %.0f us\n", median(broker[0], good),
                       median(broker[1], good));
        else
                printf(", broker not measured (no JVM at the pid file of "
                       "$NT_KAFKA_DIR or build/kafka)\n");
}

static void part3(size_t n, const char *devset)
{
        const char *bootstrap = nt_bench_bootstrap("3. end to end");
        const char *env = getenv("NT_E2E_ROUNDS");
        const char *only = getenv("NT_E2E_INPUT");
        char raw[128], **lines = NULL;
        size_t n_lines = 0, i, mean;
        int rounds = E2E_ROUNDS;
        int64_t v;

        if (!bootstrap)
                return;
        if (env && nt_num_parse_i64(env, 1, E2E_MAX_ROUNDS, &v) == 0)
                rounds = (int)v;
        if (!(only && strcmp(only, "devset") == 0) &&
            fill_raw(bootstrap, NULL, 0, n, raw, sizeof(raw), &mean) == 0) {
                printf("3a. end to end on %s, exactly-once, %zu generated "
                       "articles (mean %zu bytes), the loop's defaults, "
                       "%d rounds\n",
                       bootstrap, n, mean, rounds);
                e2e_pair(bootstrap, raw, n, rounds);
        }
        if (!(only && strcmp(only, "generated") == 0))
                lines = devset_load(devset, &n_lines);
        if (lines && n_lines &&
            fill_raw(bootstrap, lines, n_lines, n, raw, sizeof(raw), &mean) ==
                0) {
                printf("3b. the same on real news: %zu copies of the %zu "
                       "articles of %s, shuffled, new ids (mean %zu bytes), "
                       "%d rounds\n",
                       n, n_lines, devset, mean, rounds);
                e2e_pair(bootstrap, raw, n, rounds);
        }
        for (i = 0; i < n_lines; i++)
                free(lines[i]);
        free(lines);
}

int main(int argc, char **argv)
{
        size_t lines = DEFAULT_LINES, e2e = DEFAULT_E2E;
        const char *bin = argc > 3 && *argv[3] ? argv[3] : NULL;
        const char *devset = argc > 4 ? argv[4] : DEVSET_DEFAULT;
        nt_classifier_t *c;
        int64_t v;

        if (argc > 1 && nt_num_parse_i64(argv[1], 1, 10000000, &v) == 0)
                lines = (size_t)v;
        if (argc > 2 && nt_num_parse_i64(argv[2], 0, 10000000, &v) == 0)
                e2e = (size_t)v;
        nt_log_setup(NT_LOG_WARN, NT_LOG_LOGFMT, NULL);
        c = shipped_rules();
        if (!c)
                return 1;
        printf("classify_bench: %s", argv[0]);
        for (int i = 1; i < argc; i++)
                printf(" %s", argv[i]);
        printf("\n");
        part2_inputs(c, lines, devset, bin, getenv("NT_BENCH_BASE"));
        nt_classifier_destroy(c);
        if (e2e)
                part3(e2e, devset);
        return 0;
}
