/* What the benchmark programs share: the clocks they time with and a
 * growing text to build their inputs in. Bench code: it exits on running
 * out of memory rather than report it. */
#ifndef NT_BENCH_H
#define NT_BENCH_H

#include <stddef.h>

/* Wall time (monotonic), seconds. */
double nt_bench_wall_s(void);

/* CPU time of the whole process (user and system, every thread), from
 * getrusage(): what a pipeline with library threads costs. */
double nt_bench_cpu_s(void);

/* CPU time of the process (clock_gettime): the machine is shared, and
 * wall time would measure the neighbours as much as the code. */
double nt_bench_process_cpu_s(void);

/* CPU time of the calling thread alone. */
double nt_bench_thread_cpu_s(void);

/* A NUL-terminated text that grows as it is appended to. */
struct nt_bench_text {
        char *data;
        size_t len, cap;
};

void nt_bench_put(struct nt_bench_text *t, const char *s, size_t n);
void nt_bench_puts(struct nt_bench_text *t, const char *s);

#endif
