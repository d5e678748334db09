#include "support/nt_test.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *nt_test_bin(void)
{
        const char *bin = getenv("NT_NEWSTAP_BIN");

        cr_assert(bin && *bin, "NT_NEWSTAP_BIN is not set: run through ctest");
        return bin;
}

const char *nt_test_fixture(const char *name, char *buf, size_t size)
{
        const char *dir = getenv("NT_FIXTURES");

        cr_assert(dir && *dir, "NT_FIXTURES is not set: run through ctest");
        snprintf(buf, size, "%s/%s", dir, name);
        return buf;
}

const char *nt_test_source(const char *rel, char *buf, size_t size)
{
        const char *src = getenv("NT_SOURCE_DIR");

        cr_assert(src && *src, "NT_SOURCE_DIR is not set: run through ctest");
        snprintf(buf, size, "%s/%s", src, rel);
        return buf;
}

nt_classifier_t *nt_test_shipped_classifier(void)
{
        char dir[512], errstr[512] = "";
        const char *in[1] = {dir};
        nt_classifier_t *c;

        nt_test_source("config/rules", dir, sizeof(dir));
        c = nt_classifier_from_paths(in, 1, errstr, sizeof(errstr));
        cr_assert_not_null(c, "shipped rules do not load: %s", errstr);
        return c;
}

const char *nt_test_json_str(const json_t *obj, const char *section,
                             const char *key)
{
        return json_string_value(
            json_object_get(json_object_get(obj, section), key));
}

void nt_test_assert_json_str(const json_t *obj, const char *key,
                             const char *want)
{
        const char *got = json_string_value(json_object_get(obj, key));

        cr_assert_not_null(got, "\"%s\" is absent or not a string, want \"%s\"",
                           key, want);
        cr_assert_str_eq(got, want, "\"%s\" is \"%s\", want \"%s\"", key, got,
                         want);
}

const char *nt_test_kafka_bootstrap(void)
{
        const char *bs = getenv("NT_TEST_BOOTSTRAP");
        const char *ci = getenv("CI");
        const char *why = getenv("NT_KAFKA_SKIP_REASON");

        if (bs && *bs)
                return bs;
        if (ci && *ci)
                cr_assert_fail(
                    "CI is set but no Kafka broker is running "
                    "(NT_TEST_BOOTSTRAP unset; %s): run the tests with "
                    "scripts/with-kafka",
                    why ? why : "no reason given");
        cr_skip_test("SKIPPED: no Kafka broker (%s)",
                     why ? why
                         : "NT_TEST_BOOTSTRAP is not set; run "
                           "`make test` or scripts/with-kafka");
        return NULL;
}

void nt_test_unique_name(const char *prefix, char *buf, size_t size)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(buf, size, "%s-%ld-%lld%09ld", prefix, (long)getpid(),
                 (long long)ts.tv_sec, ts.tv_nsec);
}

/* Forks argv[0] with its stdin, stdout and stderr on child_fd[0..2]. The
 * child closes parent_fd[] (the parent's ends of the pipes; -1: none) so
 * that the parent sees end-of-file when it exits; the parent closes
 * child_fd[]. Returns the pid, or -1 when fork failed. */
static pid_t spawn(char *const argv[], const int child_fd[3],
                   const int parent_fd[3])
{
        pid_t pid = fork();
        int i;

        if (pid == 0) {
                for (i = 0; i < 3; i++)
                        dup2(child_fd[i], i);
                for (i = 0; i < 3; i++)
                        if (parent_fd[i] >= 0)
                                close(parent_fd[i]);
                execv(argv[0], argv);
                _exit(127);
        }
        for (i = 0; pid > 0 && i < 3; i++)
                close(child_fd[i]);
        return pid;
}

int nt_child_start(struct nt_child *c, char *const argv[])
{
        int out[2], err[2], devnull;
        pid_t pid;

        if (pipe(out) != 0)
                return -1;
        if (pipe(err) != 0) {
                close(out[0]);
                close(out[1]);
                return -1;
        }
        devnull = open("/dev/null", O_RDONLY);
        pid = spawn(argv, (const int[3]){devnull, out[1], err[1]},
                    (const int[3]){-1, out[0], err[0]});
        if (pid < 0)
                return -1;
        c->pid = pid;
        c->out_fd = out[0];
        c->err_fd = err[0];
        return 0;
}

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nt_child_read_line(struct nt_child *c, char *buf, size_t size,
                       int timeout_ms)
{
        long long deadline = now_ms() + timeout_ms;
        size_t n = 0;

        /* Byte by byte: the line is short and the rest of the stream must
         * stay in the pipe for later reads. */
        while (n + 1 < size) {
                struct pollfd pfd = {c->out_fd, POLLIN, 0};
                long long left = deadline - now_ms();
                char ch;
                ssize_t r;

                if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
                        return -1;
                r = read(c->out_fd, &ch, 1);
                if (r <= 0)
                        return -1;
                if (ch == '\n') {
                        buf[n] = '\0';
                        return (int)n;
                }
                buf[n++] = ch;
        }
        buf[n] = '\0';
        return (int)n;
}

static int wait_status(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return -1;
}

int nt_child_stop(struct nt_child *c, int sig, int timeout_ms)
{
        long long deadline = now_ms() + timeout_ms;
        int status;

        kill(c->pid, sig);
        for (;;) {
                pid_t r = waitpid(c->pid, &status, WNOHANG);
                if (r == c->pid)
                        break;
                if (now_ms() > deadline) {
                        kill(c->pid, SIGKILL);
                        waitpid(c->pid, &status, 0);
                        status = -1;
                        break;
                }
                /* Polling waitpid; the child's exit is what we wait for. */
                poll(NULL, 0, 20);
        }
        close(c->out_fd);
        close(c->err_fd);
        return status == -1 ? -1 : wait_status(status);
}

/* Appends what is readable on fd to *buf; returns 0 at EOF. */
static int drain(int fd, char **buf, size_t *len)
{
        char chunk[4096];
        ssize_t r = read(fd, chunk, sizeof(chunk));
        char *p;

        if (r <= 0)
                return 0;
        p = realloc(*buf, *len + (size_t)r + 1);
        cr_assert(p, "out of memory");
        memcpy(p + *len, chunk, (size_t)r);
        *len += (size_t)r;
        p[*len] = '\0';
        *buf = p;
        return 1;
}

int nt_run(char *const argv[], const char *input, char **out, char **err,
           int timeout_ms)
{
        int in[2], o[2], e[2], status;
        size_t olen = 0, elen = 0, ilen = input ? strlen(input) : 0, ioff = 0;
        long long deadline = now_ms() + timeout_ms;
        int open_out = 1, open_err = 1;
        pid_t pid;

        /* A child that exits before reading all its input must not take
         * the test down with SIGPIPE. */
        signal(SIGPIPE, SIG_IGN);
        *out = calloc(1, 1);
        *err = calloc(1, 1);
        if (pipe(in) || pipe(o) || pipe(e))
                return -1;
        pid = spawn(argv, (const int[3]){in[0], o[1], e[1]},
                    (const int[3]){in[1], o[0], e[0]});
        if (pid < 0)
                return -1;
        if (ilen == 0) {
                close(in[1]);
                in[1] = -1;
        }
        while (open_out || open_err || in[1] >= 0) {
                struct pollfd pfd[3] = {{open_out ? o[0] : -1, POLLIN, 0},
                                        {open_err ? e[0] : -1, POLLIN, 0},
                                        {in[1], POLLOUT, 0}};
                long long left = deadline - now_ms();

                if (left <= 0 || poll(pfd, 3, (int)left) <= 0) {
                        kill(pid, SIGKILL);
                        waitpid(pid, &status, 0);
                        close(o[0]);
                        close(e[0]);
                        if (in[1] >= 0)
                                close(in[1]);
                        return -1;
                }
                if (pfd[0].revents && !drain(o[0], out, &olen))
                        open_out = 0;
                if (pfd[1].revents && !drain(e[0], err, &elen))
                        open_err = 0;
                if (in[1] >= 0 && pfd[2].revents) {
                        ssize_t w = write(in[1], input + ioff, ilen - ioff);
                        if (w > 0)
                                ioff += (size_t)w;
                        if (w <= 0 || ioff == ilen) {
                                close(in[1]);
                                in[1] = -1;
                        }
                }
        }
        close(o[0]);
        close(e[0]);
        waitpid(pid, &status, 0);
        return wait_status(status);
}

void nt_test_expect_run(char *const argv[], const char *label, int status,
                        const char *out_has, const char *err_has)
{
        char *out, *err;
        int got = nt_run(argv, NULL, &out, &err, 60000);

        cr_assert_eq(got, status, "`%s` exited %d, want %d; stderr: %s", label,
                     got, status, err);
        if (out_has && *out_has)
                cr_assert_not_null(strstr(out, out_has),
                                   "`%s`: stdout lacks \"%s\": %s", label,
                                   out_has, out);
        if (err_has && *err_has)
                cr_assert_not_null(strstr(err, err_has),
                                   "`%s`: stderr lacks \"%s\": %s", label,
                                   err_has, err);
        free(out);
        free(err);
}

void nt_test_assert_has_all(const char *text, const char *const want[],
                            const char *label)
{
        size_t i;

        for (i = 0; want[i]; i++)
                cr_assert_not_null(strstr(text, want[i]),
                                   "%s: lacks \"%s\" in:\n%s", label, want[i],
                                   text);
}
