/* `newstap tail` on the dev broker (`newstap broker`): which topics it
 * follows, where it starts (kcat's -o starts too), when it stops, its
 * outputs and filters from the command line, one line per article across
 * topics, -b, and what it says on stderr when it starts at the end. The
 * events are written here in the enriched-event shape. --since, -o @TIME
 * and --group need what the dev broker lacks (offsets by time; a group
 * that a second consumer can join without waiting out a session
 * timeout): they are tested on the real broker in kafka_pipeline.c. */
/* posix_openpt() and ptsname(), for the terminal test. */
#define _XOPEN_SOURCE 700
#include "common/kafka.h"
#include "support/archive.h"
#include "support/kafka_read.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PREFIX   "t.topic."
#define ENRICHED "t.enriched"

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An enriched event for article `n` labelled with `labels` (comma
 * separated topic ids, score 5 each). Caller frees. */
static char *event_json(int n, const char *title, const char *labels,
                        const char *lang)
{
        json_t *ev = json_object(), *art = json_object(), *ls = json_array();
        char id[40], *copy = strdup(labels), *tok, *save = NULL, *s;

        snprintf(id, sizeof(id), "%032d", n);
        json_object_set_new(art, "schema", json_string("newstap.article/1"));
        json_object_set_new(art, "id", json_string(id));
        json_object_set_new(art, "revision", json_string("0000000000000001"));
        json_object_set_new(art, "title", json_string(title));
        json_object_set_new(art, "url",
                            json_sprintf("https://t.example/%d", n));
        for (tok = strtok_r(copy, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
                json_t *l = json_object();
                json_object_set_new(l, "topic", json_string(tok));
                json_object_set_new(l, "label", json_string(tok));
                json_object_set_new(l, "score", json_real(5));
                json_object_set_new(l, "evidence", json_array());
                json_array_append_new(ls, l);
        }
        json_object_set_new(ev, "schema", json_string("newstap.enriched/1"));
        json_object_set_new(ev, "article", art);
        json_object_set_new(ev, "labels", ls);
        json_object_set_new(ev, "entities", json_array());
        json_object_set_new(ev, "language", json_string(lang));
        s = json_dumps(ev, JSON_COMPACT);
        json_decref(ev);
        free(copy);
        return s;
}

/* Writes the event of article n, with timestamp ts, to the enriched topic
 * and to each of its labels' topics, all with the same ce_id. */
static void put_event(rd_kafka_t *rk, int n, const char *title,
                      const char *labels, const char *lang, int64_t ts)
{
        char *value = event_json(n, title, labels, lang);
        char key[40], ce_id[64], topic[128], *copy = strdup(labels);
        char *tok, *save = NULL;
        const char *topics[8];
        int k = 0, i;

        snprintf(key, sizeof(key), "%032d", n);
        snprintf(ce_id, sizeof(ce_id), "t.raw/0/%d", n);
        topics[k++] = ENRICHED;
        for (tok = strtok_r(copy, ",", &save); tok && k < 8;
             tok = strtok_r(NULL, ",", &save))
                topics[k++] = tok;
        for (i = 0; i < k; i++) {
                rd_kafka_headers_t *h = rd_kafka_headers_new(2);

                rd_kafka_header_add(h, "ce_id", -1, ce_id, -1);
                rd_kafka_header_add(h, "ce_subject", -1, key, -1);
                snprintf(topic, sizeof(topic), "%s%s", i ? PREFIX : "",
                         topics[i]);
                cr_assert_eq(
                    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                      RD_KAFKA_V_KEY(key, strlen(key)),
                                      RD_KAFKA_V_VALUE(value, strlen(value)),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_HEADERS(h),
                                      RD_KAFKA_V_TIMESTAMP(ts), RD_KAFKA_V_END),
                    0);
        }
        free(copy);
        free(value);
}

struct fixture {
        struct nt_test_devbroker db;
        int64_t t0; /* timestamps: t0 - 3h, t0 - 1h, t0 - 10 min */
};

/* Three articles: 1 guarantees (en), 2 territory (uk), 3 both (en). */
static void setup(struct fixture *fx)
{
        const char *topics[] = {ENRICHED ":1", PREFIX "guarantees:1",
                                PREFIX "territory:1", "t.raw:1"};
        char errstr[512];
        rd_kafka_t *rk;

        nt_test_devbroker_start(&fx->db, topics, 4);
        rk = nt_test_producer(fx->db.bootstrap);
        fx->t0 = now_ms();
        put_event(rk, 1, "Allies outline security guarantees", "guarantees",
                  "en", fx->t0 - 3 * 3600 * 1000);
        put_event(rk, 2, "Київ відкидає вимогу віддати території", "territory",
                  "uk", fx->t0 - 3600 * 1000);
        put_event(rk, 3, "Ceasefire lines and guarantees",
                  "guarantees,territory", "en", fx->t0 - 600 * 1000);
        cr_assert_eq(nt_kafka_flush(rk, 10000, errstr, sizeof(errstr)), 0, "%s",
                     errstr);
        rd_kafka_destroy(rk);
        setenv("NEWSTAP_TOPICS_LABEL_PREFIX", PREFIX, 1);
        setenv("NEWSTAP_TOPICS_ENRICHED", ENRICHED, 1);
}

static void teardown(struct fixture *fx)
{
        nt_test_devbroker_stop(&fx->db);
}

/* Runs `newstap tail` with the arguments against the broker. */
static int tail(const struct fixture *fx, const char *const *args, size_t n,
                char **out, char **err)
{
        char *argv[32], bs[300];
        size_t i, k = 0;

        snprintf(bs, sizeof(bs), "bootstrap.servers=%s", fx->db.bootstrap);
        argv[k++] = (char *)nt_test_bin();
        argv[k++] = "tail";
        argv[k++] = "-X";
        argv[k++] = bs;
        for (i = 0; i < n && k < 31; i++)
                argv[k++] = (char *)args[i];
        argv[k] = NULL;
        return nt_run(argv, NULL, out, err, 60000);
}

static int count_lines(const char *s)
{
        int n = 0;

        for (; *s; s++)
                n += *s == '\n';
        return n;
}

Test(tail_cli, help_and_usage_errors)
{
        static const char *const cases[][4] = {
            {"--help", NULL, NULL, NULL},
            {"-o", "bogus", NULL, NULL},
            {"-f", "%x", NULL, NULL},
            {"--all", "guarantees", NULL, NULL},
            {"--count", "0", NULL, NULL},
            {"--since", "soon", NULL, NULL},
            {"--offset", "-0", NULL, NULL},
            {"--offset", "pretty", NULL, NULL},
            {"-o", "@soon", NULL, NULL},
            {"-o", "beginning", "--since", "2h"},
            {"--from-beginning", "-o", "-5", NULL},
            {"-o", "jsonl", "-f", "%k"},
        };
        static const int want[] = {0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};
        size_t i;

        for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                char *argv[8] = {(char *)nt_test_bin(), "tail", NULL};
                char *out, *err;
                int status, k = 2, j;

                for (j = 0; j < 4 && cases[i][j]; j++)
                        argv[k++] = (char *)cases[i][j];
                argv[k] = NULL;
                status = nt_run(argv, NULL, &out, &err, 30000);
                cr_assert_eq(status, want[i], "case %zu (%s): exit %d: %s", i,
                             cases[i][0], status, err);
                if (i == 0) {
                        cr_assert(strstr(out, "%{score:LABEL}"), "%s", out);
                        cr_assert(strstr(out, "--offset START, -o START"), "%s",
                                  out);
                        cr_assert(strstr(out, "-b BROKERS"), "%s", out);
                }
                free(out);
                free(err);
        }
}

Test(tail_cli, every_label_topic_from_the_beginning_once_per_article)
{
        static const char *const args[] = {"--from-beginning", "--exit-at-end",
                                           "-o", "jsonl"};
        struct fixture fx;
        char *out, *err, *line, *save = NULL;
        int status, ids[4] = {0};

        setup(&fx);
        status = tail(&fx, args, 4, &out, &err);
        cr_assert_eq(status, 0, "exit %d: %s", status, err);
        cr_assert_eq(count_lines(out), 3,
                     "article 3 is on two topics but shown once: %s", out);
        for (line = strtok_r(out, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                json_t *ev = json_loads(line, 0, NULL);
                const char *id = json_string_value(
                    json_object_get(json_object_get(ev, "article"), "id"));
                cr_assert_not_null(id, "not an event: %s", line);
                ids[strtol(id, NULL, 10) % 4]++;
                json_decref(ev);
        }
        cr_assert(ids[1] == 1 && ids[2] == 1 && ids[3] == 1,
                  "each article once");
        free(out);
        free(err);
        teardown(&fx);
}

Test(tail_cli, format_string_shows_every_record)
{
        static const char *const args[] = {
            "--from-beginning", "--exit-at-end", "-f",
            "%t|%o|%{labels}|%{score:territory}\\n", "territory"};
        struct fixture fx;
        char *out, *err;
        int status;

        setup(&fx);
        status = tail(&fx, args, 5, &out, &err);
        cr_assert_eq(status, 0, "exit %d: %s", status, err);
        cr_assert_str_eq(out, PREFIX "territory|0|territory|5\n" PREFIX
                                     "territory|1|guarantees,territory|5\n");
        free(out);
        free(err);
        teardown(&fx);
}

Test(tail_cli, default_start_is_the_end)
{
        static const char *const args[] = {"--all", "--exit-at-end"};
        struct fixture fx;
        char *out, *err;
        int status;

        setup(&fx);
        status = tail(&fx, args, 2, &out, &err);
        cr_assert_eq(status, 0, "exit %d: %s", status, err);
        cr_assert_str_eq(out, "", "nothing arrived after the start");
        free(out);
        free(err);
        teardown(&fx);
}

Test(tail_cli, filters_count_and_pretty)
{
        struct fixture fx;
        char *out, *err;
        int status;

        setup(&fx);
        {
                const char *args[] = {"--all",         "--from-beginning",
                                      "--exit-at-end", "--grep",
                                      "КИЇВ",          "-o",
                                      "pretty"};
                status = tail(&fx, args, 7, &out, &err);
                cr_assert_eq(status, 0, "exit %d: %s", status, err);
                cr_assert(strstr(out, "territory 5.0"), "%s", out);
                cr_assert(strstr(out, "Київ відкидає"), "%s", out);
                cr_assert_null(strstr(out, "Allies"), "%s", out);
                cr_assert_null(strchr(out, '\033'), "no colour in a pipe");
                free(out);
                free(err);
        }
        {
                const char *args[] = {
                    "--all", "--from-beginning", "--lang",  "en",
                    "-f",    "%{id}\\n",         "--count", "1"};
                status = tail(&fx, args, 8, &out, &err);
                cr_assert_eq(status, 0, "exit %d: %s", status, err);
                cr_assert_str_eq(out, "00000000000000000000000000000001\n");
                free(out);
                free(err);
        }
        teardown(&fx);
}

Test(tail_cli, unknown_label_is_an_error)
{
        static const char *const args[] = {"nosuchlabel", "--exit-at-end"};
        struct fixture fx;
        char *out, *err;
        int status;

        setup(&fx);
        status = tail(&fx, args, 2, &out, &err);
        cr_assert_eq(status, 1, "exit %d: %s", status, err);
        cr_assert(strstr(err, PREFIX "nosuchlabel does not exist"), "%s", err);
        free(out);
        free(err);
        teardown(&fx);
}

/* kcat's starts, as -o or --offset: each with the offsets it shows of the
 * enriched topic (one partition, offsets 0, 1 and 2). */
Test(tail_cli, kcat_starts)
{
        static const struct {
                const char *opt, *start, *want;
        } cases[] = {
            {"-o", "beginning", "0\n1\n2\n"},
            {"--offset", "beginning", "0\n1\n2\n"},
            {"-o", "end", ""},
            {"-o", "-1", "2\n"},
            {"-o", "-2", "1\n2\n"},
            {"--offset", "-10", "0\n1\n2\n"},
            {"-o", "1", "1\n2\n"},
            {"--offset", "0", "0\n1\n2\n"},
            {"-o", "99", ""},
        };
        struct fixture fx;
        size_t i;

        setup(&fx);
        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *args[] = {"--all",      "--exit-at-end",
                                      cases[i].opt, cases[i].start,
                                      "-f",         "%o\\n"};
                char *out, *err;
                int status = tail(&fx, args, 6, &out, &err);

                cr_assert_eq(status, 0, "%s %s: exit %d: %s", cases[i].opt,
                             cases[i].start, status, err);
                cr_assert_str_eq(out, cases[i].want, "%s %s", cases[i].opt,
                                 cases[i].start);
                free(out);
                free(err);
        }
        {
                /* -o twice: a start and an output. */
                const char *args[] = {"territory", "-o", "-1", "-o", "jsonl"};
                char *out, *err;
                int status = tail(&fx, args, 5, &out, &err);

                cr_assert_eq(status, 0, "exit %d: %s", status, err);
                cr_assert_eq(count_lines(out), 1, "%s", out);
                cr_assert(strstr(out, "\"Ceasefire lines and guarantees\""),
                          "the last of territory: %s", out);
                free(out);
                free(err);
        }
        teardown(&fx);
}

Test(tail_cli, b_names_the_brokers)
{
        struct fixture fx;
        char *argv[] = {(char *)nt_test_bin(), "tail", "-b",    NULL, "--all",
                        "--from-beginning",    "-f",   "%o\\n", NULL};
        char *out, *err;
        int status;

        setup(&fx);
        argv[3] = fx.db.bootstrap;
        /* Nothing else names the broker: the default would be
         * localhost:9092. */
        unsetenv("NEWSTAP_KAFKA_BOOTSTRAP_SERVERS");
        status = nt_run(argv, NULL, &out, &err, 60000);
        cr_assert_eq(status, 0, "exit %d: %s", status, err);
        cr_assert_str_eq(out, "0\n1\n2\n", "%s", err);
        free(out);
        free(err);
        teardown(&fx);
}

/* In a pipe, with no start given, tail starts at the end and stops there:
 * `newstap tail | wc -l` is 0, and stderr says why. */
Test(tail_cli, pipe_without_a_start_says_why_nothing_came)
{
        struct fixture fx;
        char *out, *err;
        int status;

        setup(&fx);
        {
                const char *args[] = {"--all"};

                status = tail(&fx, args, 1, &out, &err);
                cr_assert_eq(status, 0, "exit %d: %s", status, err);
                cr_assert_str_eq(out, "");
                cr_assert(strstr(err, "0 records: started at the end of "
                                      "t.enriched and stopped there, as "
                                      "stdout is not a terminal"),
                          "%s", err);
                cr_assert(strstr(err, "--from-beginning"), "%s", err);
                free(out);
                free(err);
        }
        {
                const char *args[] = {"--exit-at-end"};

                status = tail(&fx, args, 1, &out, &err);
                cr_assert_eq(status, 0, "exit %d: %s", status, err);
                cr_assert(strstr(err, "end of t.topic.guarantees and "
                                      "t.topic.territory and stopped there, "
                                      "as --exit-at-end says"),
                          "%s", err);
                free(out);
                free(err);
        }
        {
                /* A start given: no note. */
                const char *args[] = {"--all", "-o", "end"};

                status = tail(&fx, args, 3, &out, &err);
                cr_assert_eq(status, 0, "exit %d: %s", status, err);
                cr_assert_null(strstr(err, "started at"), "%s", err);
                free(out);
                free(err);
        }
        teardown(&fx);
}

/* Starts argv with its stdout on a new pseudo-terminal and its stderr on
 * a pipe: c->out_fd reads the child's stderr, c->err_fd is the terminal's
 * master side. */
static void start_on_terminal(struct nt_child *c, char *const argv[])
{
        int master = posix_openpt(O_RDWR | O_NOCTTY), errp[2];
        const char *slave;
        pid_t pid;

        cr_assert(master >= 0, "posix_openpt");
        cr_assert_eq(grantpt(master), 0);
        cr_assert_eq(unlockpt(master), 0);
        slave = ptsname(master);
        cr_assert_not_null(slave);
        cr_assert_eq(pipe(errp), 0);
        pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
                int tty = open(slave, O_RDWR | O_NOCTTY);
                int devnull = open("/dev/null", O_RDONLY);

                dup2(devnull, 0);
                dup2(tty, 1);
                dup2(errp[1], 2);
                close(master);
                close(errp[0]);
                execv(argv[0], argv);
                _exit(127);
        }
        close(errp[1]);
        c->pid = pid;
        c->out_fd = errp[0];
        c->err_fd = master;
}

/* On a terminal tail follows from the end: one line on stderr says that
 * it is waiting, instead of a blank screen. */
Test(tail_cli, terminal_says_it_is_waiting_from_the_end)
{
        struct fixture fx;
        struct nt_child c;
        char bs[300], line[1024];
        char *argv[] = {(char *)nt_test_bin(), "tail", "-X", bs, "--all", NULL};
        int n, status;

        setup(&fx);
        snprintf(bs, sizeof(bs), "bootstrap.servers=%s", fx.db.bootstrap);
        start_on_terminal(&c, argv);
        n = nt_child_read_line(&c, line, sizeof(line), 30000);
        if (n < 0)
                nt_child_stop(&c, SIGKILL, 5000);
        cr_assert_geq(n, 0, "no line on stderr within 30 s");
        cr_assert(strstr(line, "newstap tail: waiting for new records on "
                               "t.enriched (from the end"),
                  "%s", line);
        status = nt_child_stop(&c, SIGINT, 30000);
        cr_assert_eq(status, 0, "exit %d after SIGINT", status);
        teardown(&fx);
}
