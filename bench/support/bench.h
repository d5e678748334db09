/* What the benchmark programs share: the clocks they time with, a
 * growing text to build their inputs in, and the development set's
 * articles those inputs are made of. Bench code: it exits on running out
 * of memory or on an unreadable development set rather than report it. */
#ifndef NT_BENCH_H
#define NT_BENCH_H

#include <jansson.h>
#include <stdbool.h>
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

/* The pid of the Kafka broker the benchmark runs against, from the pid
 * file scripts/kafka-local writes ($NT_KAFKA_DIR/kafka.pid, else
 * build/kafka of the source tree), when that process is a JVM; 0 when
 * unknown (no file, or a stale one naming another process). */
long nt_bench_broker_pid(void);

/* CPU seconds (user and system, every thread) process pid has used so
 * far, from /proc/PID/stat; -1 when unknown. With nt_bench_broker_pid():
 * what the broker spent on a run. */
double nt_bench_proc_cpu_s(long pid);

/* The real broker the Kafka parts of a bench run on ($NT_TEST_BOOTSTRAP,
 * set by scripts/with-kafka), or NULL after printing "WHAT: skipped (no
 * NT_TEST_BOOTSTRAP; run under scripts/with-kafka)" when there is none.
 * Borrowed from the environment. */
const char *nt_bench_bootstrap(const char *what);

/* nt_array_grow() for a bench: room in the array *pp for `need` elements
 * of `elem` bytes, or exit 1 with "out of memory". */
void nt_bench_grow(void *pp, size_t *cap, size_t need, size_t elem);

/* A NUL-terminated text that grows as it is appended to. */
struct nt_bench_text {
        char *data;
        size_t len, cap;
};

void nt_bench_put(struct nt_bench_text *t, const char *s, size_t n);
void nt_bench_puts(struct nt_bench_text *t, const char *s);

/* Appends s[0..n) escaped as HTML and XML text: & < > as entities, and
 * '"' too when `quotes`. */
void nt_bench_put_escaped(struct nt_bench_text *t, const char *s, size_t n,
                          bool quotes);

/* How many bytes of s to keep to cut it at about `max`: strlen(s) when
 * shorter, else `max` moved on past the UTF-8 sequence it falls in. */
size_t nt_bench_utf8_cut(const char *s, size_t max);

/* The development set: article JSON, one object a line (read at run
 * time, never copied into the project). */
#define NT_BENCH_DEVSET NT_SOURCE_DIR "/../shared/devset/articles.jsonl"

/* The articles of the JSON lines file `path` in file order, lines that
 * are no JSON passed over (the lines of nt_bench_lines_load(), parsed);
 * *n is set to how many. Exits 2 with a message naming `prog` when the
 * file cannot be opened or holds no article. Caller frees with
 * nt_bench_devset_free(). */
json_t **nt_bench_devset_load(const char *prog, const char *path, size_t *n);

void nt_bench_devset_free(json_t **arts, size_t n);

/* The non-empty lines of a JSON-lines file as they are (no parse, the
 * newline cut), for benches that send them byte for byte; exits 2 with
 * "PROG: ..." when the file cannot be read or holds none. Each line and
 * the array may be freed with free(); benches whose input lives as long
 * as they never do. */
char **nt_bench_lines_load(const char *prog, const char *path, size_t *n);

/* An article's string field, "" when it has none. Borrowed from art. */
const char *nt_bench_field(const json_t *art, const char *name);

#endif
