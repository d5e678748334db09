#include "support/bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

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

void nt_bench_put(struct nt_bench_text *t, const char *s, size_t n)
{
        char *p;

        if (t->len + n + 1 > t->cap) {
                size_t cap = t->cap ? t->cap : 4096;

                while (cap < t->len + n + 1)
                        cap *= 2;
                p = realloc(t->data, cap);
                if (!p) {
                        fprintf(stderr, "out of memory\n");
                        exit(1);
                }
                t->data = p;
                t->cap = cap;
        }
        memcpy(t->data + t->len, s, n);
        t->len += n;
        t->data[t->len] = '\0';
}

void nt_bench_puts(struct nt_bench_text *t, const char *s)
{
        nt_bench_put(t, s, strlen(s));
}
