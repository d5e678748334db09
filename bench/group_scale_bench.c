/* produce --group at scale, in one run on the real broker
 * ($NT_TEST_BOOTSTRAP; run under scripts/with-kafka), with the newstap
 * binary ($NT_NEWSTAP_BIN, by default build/release/newstap) as separate
 * processes and the tests' HTTP server (libmicrohttpd) as the publishers:
 *
 * 1. Rebalance: 3 instances share RB_FEEDS feeds (interval 5 s,
 *    session.timeout.ms 6 s, transaction.timeout.ms 5 s); one is killed
 *    with SIGKILL, three times, each time another (restarted in between).
 * Measured at the server: the time from the kill until every feed has been
 * polled again, that is until the last orphaned feed is, against the bound the
 * docs give (operations.md, "What moves on a join, a leave or a kill"):
 *    session.timeout.ms + transaction.timeout.ms + one interval.
 * 2. Memory: FEEDS feeds over 3 instances, each polled once (a 200, five
 *    articles each, published and committed): the peak RSS (VmHWM of
 *    /proc/PID/status) of each instance, against one file-mode producer
 *    (`produce` with the same feeds in its config, state files) doing the
 *    same work in the same run.
 *
 * The feed bodies are RSS built at run time from the dev set
 * (ARTICLES.jsonl, by default ../shared/devset/articles.jsonl beside the
 * source tree): 40 bodies of five items (title, link, date, description
 * and content:encoded from the dev set's articles), feed i serving body
 * i % 40 under a URL of its own (a query naming the feed).
 *
 * Run: scripts/with-kafka build/release/bench/group_scale_bench [FEEDS]
 * [RB_FEEDS] [ARTICLES.jsonl] */
#include "common/config.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/num.h"
#include "support/bench.h"
#include "support/httpd.h"

#include <curl/curl.h>
#include <jansson.h>

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BIN_DEFAULT    NT_SOURCE_DIR "/build/release/newstap"
#define BODIES         40
#define ITEMS          5
#define PARTITIONS     6
#define RB_INTERVAL_S  5
#define SESSION_MS     6000
#define TXN_TIMEOUT_MS 5000
#define KILLS          3

static const char *bin;
static const char *bootstrap;
static char dir[64];
static nt_httpd_t *srv;

/* The newstap processes running, for die() to stop. */
static pid_t live[8];

static void die(const char *what)
{
        size_t i;

        fprintf(stderr, "group_scale_bench: %s\n", what);
        for (i = 0; i < 8; i++)
                if (live[i] > 0)
                        kill(live[i], SIGKILL);
        exit(1);
}

static void track(pid_t pid, pid_t was)
{
        size_t i;

        for (i = 0; i < 8; i++) {
                if (live[i] == was) {
                        live[i] = pid;
                        return;
                }
        }
}

static long long mono_ms(void)
{
        return (long long)(nt_bench_wall_s() * 1000.0);
}

static void nap_ms(int ms)
{
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

        nanosleep(&ts, NULL);
}

/* ---- the feeds ---------------------------------------------------- */

static json_t **arts;
static size_t n_arts;

/* s escaped, cut at about `max` bytes (not inside a UTF-8 sequence). */
static void put_escaped(struct nt_bench_text *t, const char *s, size_t max)
{
        nt_bench_put_escaped(t, s, nt_bench_utf8_cut(s, max), false);
}

/* Body b: ITEMS of the dev set's articles as an RSS feed. */
static void serve_body(int b)
{
        struct nt_bench_text t;
        char buf[256], path[32], etag[32];
        int k;

        memset(&t, 0, sizeof(t));
        snprintf(buf, sizeof(buf),
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<rss version=\"2.0\" xmlns:content="
                 "\"http://purl.org/rss/1.0/modules/content/\"><channel>"
                 "<title>Wire %d</title><link>https://wire%d.example/</link>"
                 "<description>News</description>\n",
                 b, b);
        nt_bench_puts(&t, buf);
        for (k = 0; k < ITEMS; k++) {
                const json_t *a = arts[(size_t)(b * ITEMS + k) % n_arts];
                const char *title = nt_bench_field(a, "title");

                nt_bench_puts(&t, "<item><title>");
                /* Some dev-set articles have no title: their summary's
                 * start stands in, as a feed's would. */
                put_escaped(&t, *title ? title : nt_bench_field(a, "summary"),
                            *title ? 300 : 90);
                snprintf(buf, sizeof(buf),
                         "</title><link>https://wire%d.example/story/%d</link>"
                         "<guid>https://wire%d.example/story/%d</guid>"
                         "<pubDate>Mon, 07 Dec 2026 %02d:%02d:00 GMT</pubDate>"
                         "<description>",
                         b, k, b, k, 8 + k, b % 60);
                nt_bench_puts(&t, buf);
                put_escaped(&t, nt_bench_field(a, "summary"), 2000);
                nt_bench_puts(&t, "</description><content:encoded>");
                put_escaped(&t, nt_bench_field(a, "content"), 6000);
                nt_bench_puts(&t, "</content:encoded></item>\n");
        }
        nt_bench_puts(&t, "</channel></rss>\n");
        snprintf(etag, sizeof(etag), "\"b%d\"", b);
        /* The rebalance part's feeds need paths of their own (the
         * server logs paths without queries): /r/B serves the same. */
        for (k = 0; k < 2; k++) {
                snprintf(path, sizeof(path), "/%c/%d", k ? 'r' : 'b', b);
                nt_httpd_serve(srv, path, 200,
                               "Content-Type: application/rss+xml; "
                               "charset=utf-8",
                               t.data, etag);
        }
        free(t.data);
}

/* ---- processes ---------------------------------------------------- */

static unsigned free_port(void)
{
        unsigned port = nt_httpd_free_port();

        if (!port)
                die("no free port");
        return port;
}

struct proc {
        pid_t pid;
        unsigned port;
};

/* newstap produce -c cfg [--group G --instance ID], its log in dir. */
static void spawn(struct proc *p, const char *cfg, const char *group,
                  const char *id)
{
        char log[128], listen[64];

        p->port = free_port();
        snprintf(log, sizeof(log), "%s/%s.log", dir, id);
        snprintf(listen, sizeof(listen), "127.0.0.1:%u", p->port);
        p->pid = fork();
        if (p->pid < 0)
                die("fork");
        if (p->pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
                int null = open("/dev/null", O_RDWR);

                if (fd < 0 || null < 0)
                        _exit(127);
                dup2(null, 0);
                dup2(null, 1);
                dup2(fd, 2);
                setenv("NEWSTAP_METRICS_LISTEN", listen, 1);
                if (group)
                        execl(bin, bin, "produce", "-c", cfg, "--group", group,
                              "--instance", id, (char *)NULL);
                else
                        execl(bin, bin, "produce", "-c", cfg, (char *)NULL);
                _exit(127);
        }
        track(p->pid, 0);
}

static int reap(struct proc *p, int sig)
{
        int status = 0;

        if (p->pid <= 0)
                return -1;
        kill(p->pid, sig);
        waitpid(p->pid, &status, 0);
        track(0, p->pid);
        p->pid = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* VmHWM of /proc/PID/status, kB; -1 when unreadable. */
static long vm_hwm_kb(pid_t pid)
{
        char path[64], line[256];
        long kb = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
        f = fopen(path, "r");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f)) {
                char digits[32];
                size_t i = 6, n = 0;
                int64_t v;

                if (strncmp(line, "VmHWM:", 6) != 0)
                        continue;
                while (line[i] == ' ' || line[i] == '\t')
                        i++;
                while (line[i] >= '0' && line[i] <= '9' && n < 31)
                        digits[n++] = line[i++];
                digits[n] = '\0';
                if (nt_num_parse_i64(digits, 0, INT64_MAX, &v) == 0)
                        kb = (long)v;
                break;
        }
        fclose(f);
        return kb;
}

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
        struct nt_bench_text *t = ud;

        nt_bench_put(t, p, size * n);
        return size * n;
}

/* The sum of a metric's series on the endpoint at `port`; -1 when the
 * endpoint did not answer. */
static double metric_sum(unsigned port, const char *name)
{
        struct nt_bench_text t;
        char url[64];
        CURL *c = curl_easy_init();
        double sum = -1;
        size_t nlen = strlen(name);
        char *line;

        memset(&t, 0, sizeof(t));
        snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", port);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
        if (curl_easy_perform(c) == CURLE_OK && t.data) {
                sum = 0;
                for (line = t.data; line && *line;) {
                        char *nl = strchr(line, '\n');

                        if (strncmp(line, name, nlen) == 0 &&
                            (line[nlen] == '{' || line[nlen] == ' ')) {
                                char *sp = nl ? nl : line + strlen(line);

                                while (sp > line && sp[-1] != ' ')
                                        sp--;
                                sum += strtod(sp, NULL);
                        }
                        line = nl ? nl + 1 : NULL;
                }
        }
        curl_easy_cleanup(c);
        free(t.data);
        return sum;
}

/* ---- configuration ------------------------------------------------ */

static void write_config(const char *path, const char *raw, const char *tag,
                         int feeds, const char *prefix, int interval_s)
{
        FILE *f = fopen(path, "w");
        int i;

        if (!f)
                die("cannot write the configuration");
        fprintf(f,
                "{\"kafka\": {\"bootstrap.servers\": \"%s\","
                " \"session.timeout.ms\": \"%d\","
                " \"heartbeat.interval.ms\": \"1000\","
                " \"transaction.timeout.ms\": \"%d\"},"
                " \"log\": {\"level\": \"warn\"},"
                " \"topics\": {\"raw\": \"%s\", \"feeds\": \"%s.feeds\","
                " \"feeds_state\": \"%s.state\"},"
                " \"producer\": {\"feeds_partitions\": %d,"
                " \"state_dir\": \"%s/state-%s\","
                " \"min_interval\": \"1s\", \"interval\": \"%ds\","
                " \"txn_ms\": \"100ms\", \"max_per_host\": 32,"
                " \"shutdown_timeout\": \"10s\", \"feeds\": [",
                bootstrap, SESSION_MS, TXN_TIMEOUT_MS, raw, tag, tag,
                PARTITIONS, dir, tag, interval_s);
        for (i = 0; i < feeds; i++) {
                if (prefix[1] == 'r')
                        fprintf(f, "%s{\"url\": \"%s/r/%d\"}", i ? ", " : "",
                                nt_httpd_url(srv), i);
                else
                        fprintf(f, "%s{\"url\": \"%s/b/%d?feed=%d\"}",
                                i ? ", " : "", nt_httpd_url(srv), i % BODIES,
                                i);
        }
        fprintf(f, "]}}\n");
        fclose(f);
}

static void feeds_sync(const char *cfg)
{
        pid_t pid = fork();
        int status;

        if (pid < 0)
                die("fork");
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);

                dup2(null, 1);
                execl(bin, bin, "feeds", "sync", "-c", cfg, (char *)NULL);
                _exit(127);
        }
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                die("newstap feeds sync failed");
}

/* ---- 1. rebalance ------------------------------------------------- */

static struct nt_httpd_request *reqlog;

/* The time of the first request for /r/i after `since`; -1: none. */
static long long first_after(int i, long long since)
{
        char path[32];
        size_t n, k;

        snprintf(path, sizeof(path), "/r/%d", i);
        n = nt_httpd_requests(srv, path, reqlog, 8192);
        for (k = 0; k < n && k < 8192; k++)
                if (reqlog[k].at_ms > since)
                        return reqlog[k].at_ms;
        return -1;
}

/* Waits until every feed was polled after `since`; returns the time of
 * the last of those first polls, or -1 after `timeout_s`. */
static long long all_polled_after(int feeds, long long since, int timeout_s)
{
        long long end = mono_ms() + (long long)timeout_s * 1000;

        if (nt_httpd_requests(srv, NULL, NULL, 0) >= 8192)
                die("the server's request log is full: fewer RB_FEEDS");
        while (mono_ms() < end) {
                long long last = 0;
                int i;

                for (i = 0; i < feeds; i++) {
                        long long at = first_after(i, since);

                        if (at < 0)
                                break;
                        if (at > last)
                                last = at;
                }
                if (i == feeds)
                        return last;
                nap_ms(100);
        }
        return -1;
}

static void part_rebalance(int feeds, const char *raw, double *took_s)
{
        struct proc p[3];
        char cfg[128], group[64], id[16];
        int k, kill_no;

        snprintf(cfg, sizeof(cfg), "%s/rebalance.json", dir);
        snprintf(group, sizeof(group), "bench-rb-%ld", (long)getpid());
        write_config(cfg, raw, group, feeds, "/r", RB_INTERVAL_S);
        feeds_sync(cfg);
        reqlog = calloc(8192, sizeof(*reqlog));
        for (k = 0; k < 3; k++) {
                snprintf(id, sizeof(id), "rb%d", k);
                spawn(&p[k], cfg, group, id);
        }
        /* Every feed polled, then once more: the group has settled. */
        if (all_polled_after(feeds, 0, 120) < 0 ||
            all_polled_after(feeds, mono_ms(), 60) < 0)
                die("the rebalance part's feeds were not all polled");
        for (kill_no = 0; kill_no < KILLS; kill_no++) {
                long long t_kill = mono_ms(), last;

                reap(&p[kill_no % 3], SIGKILL);
                last = all_polled_after(feeds, t_kill, 120);
                if (last < 0)
                        die("orphaned feeds not polled within 120 s");
                took_s[kill_no] = (double)(last - t_kill) / 1000.0;
                snprintf(id, sizeof(id), "rb%d", kill_no % 3);
                spawn(&p[kill_no % 3], cfg, group, id);
                /* Back to three, settled, before the next kill. */
                if (all_polled_after(feeds, mono_ms(), 120) < 0 ||
                    all_polled_after(feeds, mono_ms(), 60) < 0)
                        die("the group did not settle after a restart");
        }
        for (k = 0; k < 3; k++)
                reap(&p[k], SIGTERM);
        free(reqlog);
}

/* ---- 2. memory ---------------------------------------------------- */

/* Waits until the processes fetched `want` feeds between them and hold
 * no article in flight; the seconds it took, -1 after `timeout_s`. (Not
 * the articles published: a transaction aborted by a rebalance at the
 * start puts its feeds back, polled again only after their interval.) */
static double wait_published(struct proc *p, int n, double want, int timeout_s)
{
        double t0 = nt_bench_wall_s();

        while (nt_bench_wall_s() - t0 < timeout_s) {
                double done = 0, inflight = 0;
                int k;

                for (k = 0; k < n; k++) {
                        double d =
                            metric_sum(p[k].port, "newstap_fetches_total");
                        double f =
                            metric_sum(p[k].port, "newstap_publish_inflight");

                        done += d > 0 ? d : 0;
                        inflight += f > 0 ? f : 0;
                }
                if (done >= want && inflight == 0)
                        return nt_bench_wall_s() - t0;
                nap_ms(500);
        }
        return -1;
}

static void part_memory(int feeds, const char *raw, long *group_kb,
                        long *file_kb, double *group_s, double *file_s)
{
        struct proc p[3], one;
        char cfg[128], group[64], id[16];
        int k;

        snprintf(cfg, sizeof(cfg), "%s/memory.json", dir);
        snprintf(group, sizeof(group), "bench-mem-%ld", (long)getpid());
        /* A long interval: each feed is polled once in the measurement. */
        write_config(cfg, raw, group, feeds, "/b", 3600);
        feeds_sync(cfg);
        for (k = 0; k < 3; k++) {
                snprintf(id, sizeof(id), "mem%d", k);
                spawn(&p[k], cfg, group, id);
        }
        *group_s = wait_published(p, 3, (double)feeds, 900);
        if (*group_s < 0)
                die("the group did not publish every feed's articles");
        for (k = 0; k < 3; k++) {
                group_kb[k] = vm_hwm_kb(p[k].pid);
                reap(&p[k], SIGTERM);
        }
        spawn(&one, cfg, NULL, "file");
        *file_s = wait_published(&one, 1, (double)feeds, 900);
        if (*file_s < 0)
                die("the file-mode producer did not publish every article");
        *file_kb = vm_hwm_kb(one.pid);
        reap(&one, SIGTERM);
}

int main(int argc, char **argv)
{
        int64_t feeds = 20000, rb_feeds = 150;
        const char *devset = argc > 3 ? argv[3] : NT_BENCH_DEVSET;
        char raw[64], errstr[512], cmd[128];
        double took[KILLS], group_s, file_s;
        long group_kb[3], file_kb;
        nt_config_t *cfg;
        rd_kafka_t *admin;
        int b, k;

        bootstrap = nt_bench_bootstrap("group_scale_bench");
        if (!bootstrap)
                return 0;
        if ((argc > 1 && nt_num_parse_i64(argv[1], 3, 100000, &feeds)) ||
            (argc > 2 && nt_num_parse_i64(argv[2], 3, 1000, &rb_feeds))) {
                fprintf(stderr, "usage: group_scale_bench [FEEDS] [RB_FEEDS] "
                                "[ARTICLES.jsonl]\n");
                return 2;
        }
        bin = getenv("NT_NEWSTAP_BIN") ? getenv("NT_NEWSTAP_BIN") : BIN_DEFAULT;
        if (access(bin, X_OK) != 0) {
                fprintf(stderr, "group_scale_bench: no newstap at %s\n", bin);
                return 2;
        }
        arts = nt_bench_devset_load("group_scale_bench", devset, &n_arts);
        snprintf(dir, sizeof(dir), "/tmp/nt-gscale-XXXXXX");
        if (!mkdtemp(dir))
                die("mkdtemp");
        curl_global_init(CURL_GLOBAL_DEFAULT);
        srv = nt_httpd_start();
        if (!srv)
                die("the HTTP server did not start");
        for (b = 0; b < BODIES || b < rb_feeds; b++)
                serve_body(b);

        cfg = nt_config_new();
        nt_config_set_kafka(cfg, "bootstrap.servers", bootstrap, "bench",
                            errstr, sizeof(errstr));
        snprintf(raw, sizeof(raw), "bench-gscale-raw-%ld", (long)getpid());
        admin = nt_kafka_producer_new(cfg, NULL, NULL, NULL, errstr,
                                      sizeof(errstr));
        {
                const char *topics[] = {raw};

                if (!admin ||
                    nt_kafka_create_topics(admin, topics, 1, 6, 30000, errstr,
                                           sizeof(errstr)) != NT_OK)
                        die(errstr);
        }
        rd_kafka_destroy(admin);
        nt_config_destroy(cfg);

        part_rebalance((int)rb_feeds, raw, took);
        part_memory((int)feeds, raw, group_kb, &file_kb, &group_s, &file_s);

        printf("group_scale_bench: real broker, newstap %s, feed bodies of "
               "%d dev-set articles (%zu read)\n",
               bin, ITEMS, n_arts);
        printf("1. rebalance: 3 instances, %d feeds, interval %d s, "
               "session.timeout.ms %d, transaction.timeout.ms %d; the docs' "
               "bound %.1f s\n",
               (int)rb_feeds, RB_INTERVAL_S, SESSION_MS, TXN_TIMEOUT_MS,
               (SESSION_MS + TXN_TIMEOUT_MS + RB_INTERVAL_S * 1000) / 1000.0);
        for (k = 0; k < KILLS; k++)
                printf("   SIGKILL %d: every feed polled again %.1f s after "
                       "the kill  (%.2f of the bound; %.2f of "
                       "session.timeout.ms + one interval)\n",
                       k + 1, took[k],
                       took[k] * 1000.0 /
                           (SESSION_MS + TXN_TIMEOUT_MS + RB_INTERVAL_S * 1000),
                       took[k] * 1000.0 / (SESSION_MS + RB_INTERVAL_S * 1000));
        printf("2. memory: %d feeds, each fetched once (%d articles "
               "each way)\n",
               (int)feeds, (int)feeds * ITEMS);
        for (k = 0; k < 3; k++)
                printf("   --group instance %d of 3: VmHWM %7.1f MiB  "
                       "(%.2fx the file mode)\n",
                       k, group_kb[k] / 1024.0, (double)group_kb[k] / file_kb);
        printf("   the 3 instances together    : VmHWM %7.1f MiB  "
               "(%.2fx the file mode)\n",
               (group_kb[0] + group_kb[1] + group_kb[2]) / 1024.0,
               (double)(group_kb[0] + group_kb[1] + group_kb[2]) / file_kb);
        printf("   file mode, one producer     : VmHWM %7.1f MiB\n",
               file_kb / 1024.0);
        printf("   until every feed was fetched, none in flight: group %.1f s, "
               "file mode "
               "%.1f s\n",
               group_s, file_s);
        printf("  command: scripts/with-kafka "
               "build/release/bench/group_scale_bench %d %d\n",
               (int)feeds, (int)rb_feeds);
        nt_httpd_stop(srv);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "group_scale_bench: could not remove %s\n",
                        dir);
        nt_bench_devset_free(arts, n_arts);
        return 0;
}
