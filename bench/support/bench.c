#include "support/bench.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/num.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double clock_s(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double nt_bench_wall_s(void)
{
        return clock_s(CLOCK_MONOTONIC);
}

double nt_bench_cpu_s(void)
{
        struct rusage ru;

        getrusage(RUSAGE_SELF, &ru);
        return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
               (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

double nt_bench_process_cpu_s(void)
{
        return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

double nt_bench_thread_cpu_s(void)
{
        return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

/* The first line of a small file, without its newline; false when it
 * cannot be read. */
static bool first_line(const char *path, char *line, size_t size)
{
        FILE *f = fopen(path, "r");
        bool ok;

        if (!f)
                return false;
        ok = fgets(line, (int)size, f) != NULL;
        fclose(f);
        if (ok)
                line[strcspn(line, "\n")] = '\0';
        return ok;
}

long nt_bench_broker_pid(void)
{
        const char *dir = getenv("NT_KAFKA_DIR");
        char path[4096], line[32], comm[64];
        int64_t pid = 0;

        snprintf(path, sizeof(path), "%s/kafka.pid",
                 dir && *dir ? dir : NT_SOURCE_DIR "/build/kafka");
        if (!first_line(path, line, sizeof(line)) ||
            nt_num_parse_i64(line, 1, INT32_MAX, &pid) != NT_OK)
                return 0;
        snprintf(path, sizeof(path), "/proc/%lld/comm", (long long)pid);
        if (!first_line(path, comm, sizeof(comm)))
                return 0;
        return strncmp(comm, "java", 4) == 0 ? (long)pid : 0;
}

double nt_bench_proc_cpu_s(long pid)
{
        char path[64], buf[2048], *p, *end;
        unsigned long long ut, st;
        size_t n;
        int field;
        FILE *f;

        if (pid <= 0)
                return -1;
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        f = fopen(path, "r");
        if (!f)
                return -1;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* Fields 14 and 15 (utime, stime), counted from the command's
         * closing parenthesis (field 2 may hold spaces). */
        p = strrchr(buf, ')');
        for (field = 3; p && field <= 14; field++)
                p = strchr(p + 1, ' ');
        if (!p)
                return -1;
        ut = strtoull(p + 1, &end, 10);
        if (*end != ' ')
                return -1;
        st = strtoull(end + 1, &end, 10);
        if (*end != ' ')
                return -1;
        return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

const char *nt_bench_bootstrap(const char *what)
{
        const char *bootstrap = getenv("NT_TEST_BOOTSTRAP");

        if (bootstrap && *bootstrap)
                return bootstrap;
        printf("%s: skipped (no NT_TEST_BOOTSTRAP; run under "
               "scripts/with-kafka)\n",
               what);
        return NULL;
}

void nt_bench_grow(void *pp, size_t *cap, size_t need, size_t elem)
{
        if (nt_array_grow(pp, cap, need, elem) != NT_OK) {
                fprintf(stderr, "out of memory\n");
                exit(1);
        }
}

void nt_bench_put(struct nt_bench_text *t, const char *s, size_t n)
{
        if (n > SIZE_MAX - 1 - t->len) {
                fprintf(stderr, "out of memory\n");
                exit(1);
        }
        nt_bench_grow(&t->data, &t->cap, t->len + n + 1, 1);
        memcpy(t->data + t->len, s, n);
        t->len += n;
        t->data[t->len] = '\0';
}

void nt_bench_puts(struct nt_bench_text *t, const char *s)
{
        nt_bench_put(t, s, strlen(s));
}

void nt_bench_put_escaped(struct nt_bench_text *t, const char *s, size_t n,
                          bool quotes)
{
        size_t i, run = 0;

        for (i = 0; i < n; i++) {
                const char *rep = s[i] == '&'             ? "&amp;"
                                  : s[i] == '<'           ? "&lt;"
                                  : s[i] == '>'           ? "&gt;"
                                  : s[i] == '"' && quotes ? "&quot;"
                                                          : NULL;

                if (!rep)
                        continue;
                nt_bench_put(t, s + run, i - run);
                nt_bench_puts(t, rep);
                run = i + 1;
        }
        nt_bench_put(t, s + run, n - run);
}

size_t nt_bench_utf8_cut(const char *s, size_t max)
{
        size_t i = 0;

        while (s[i] && (i < max || ((unsigned char)s[i] & 0xC0) == 0x80))
                i++;
        return i;
}

char **nt_bench_lines_load(const char *prog, const char *path, size_t *n)
{
        FILE *f = fopen(path, "r");
        char **lines = NULL;
        char *line = NULL;
        size_t line_cap = 0, cap = 0;
        ssize_t len;

        *n = 0;
        if (!f) {
                fprintf(stderr, "%s: cannot open %s\n", prog, path);
                exit(2);
        }
        while ((len = getline(&line, &line_cap, f)) > 0) {
                if (line[len - 1] == '\n')
                        line[--len] = '\0';
                if (len < 2)
                        continue;
                nt_bench_grow(&lines, &cap, *n + 1, sizeof(*lines));
                if (!(lines[*n] = strdup(line))) {
                        fprintf(stderr, "out of memory\n");
                        exit(1);
                }
                (*n)++;
        }
        free(line);
        fclose(f);
        if (*n == 0) {
                fprintf(stderr, "%s: no articles in %s\n", prog, path);
                exit(2);
        }
        return lines;
}

json_t **nt_bench_devset_load(const char *prog, const char *path, size_t *n)
{
        size_t n_lines, i;
        char **lines = nt_bench_lines_load(prog, path, &n_lines);
        json_t **arts = calloc(n_lines, sizeof(*arts));

        if (!arts) {
                fprintf(stderr, "out of memory\n");
                exit(1);
        }
        *n = 0;
        for (i = 0; i < n_lines; i++) {
                json_t *art = json_loads(lines[i], 0, NULL);

                if (art)
                        arts[(*n)++] = art;
                free(lines[i]);
        }
        free(lines);
        if (*n == 0) {
                fprintf(stderr, "%s: no articles in %s\n", prog, path);
                exit(2);
        }
        return arts;
}

void nt_bench_devset_free(json_t **arts, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                json_decref(arts[i]);
        free(arts);
}

const char *nt_bench_field(const json_t *art, const char *name)
{
        const char *s = json_string_value(json_object_get(art, name));

        return s ? s : "";
}
