/* Test support: the environment the harness hands to tests (the newstap
 * binary, the fixtures, the real broker's bootstrap address) and child
 * processes with their output read through pipes. */
#ifndef NT_TEST_H
#define NT_TEST_H

#include <stddef.h>
#include <sys/types.h>

#include "consumer/classify.h"

#include <jansson.h>

/* Path of the newstap binary under test ($NT_NEWSTAP_BIN). */
const char *nt_test_bin(void);

/* Path of a fixture file under tests/fixtures/ (static buffer per call
 * site is not safe: caller provides buf). */
const char *nt_test_fixture(const char *name, char *buf, size_t size);

/* Path of a file of the source tree ($NT_SOURCE_DIR/rel) in buf. */
const char *nt_test_source(const char *rel, char *buf, size_t size);

/* A classifier over the rules shipped in config/rules; the test fails
 * when they do not load. Caller frees with nt_classifier_destroy(). */
nt_classifier_t *nt_test_shipped_classifier(void);

/* The string at obj.section.key, or NULL: for dumps of the configuration
 * and other two-level objects. Borrowed from obj. */
const char *nt_test_json_str(const json_t *obj, const char *section,
                             const char *key);

/* Fails unless obj.key is the string `want`; the message names the key
 * and says so when it is absent or not a string. */
void nt_test_assert_json_str(const json_t *obj, const char *key,
                             const char *want);

/* The real Kafka broker's bootstrap address ($NT_TEST_BOOTSTRAP). When it
 * is not set: under CI the test fails; elsewhere it is skipped with the
 * reason scripts/with-kafka gave. Does not return in those cases. */
const char *nt_test_kafka_bootstrap(void);

/* A name no earlier run used: "<prefix>-<pid>-<nanoseconds>". */
void nt_test_unique_name(const char *prefix, char *buf, size_t size);

/* A child process with its stdout (and optionally stderr) on pipes. */
struct nt_child {
        pid_t pid;
        int out_fd; /* child's stdout, read end */
        int err_fd; /* child's stderr, read end */
};

/* Starts argv[0] (a path) with the given arguments; stdin is /dev/null. */
int nt_child_start(struct nt_child *c, char *const argv[]);

/* Reads one line of the child's stdout into buf (without the newline),
 * waiting at most timeout_ms. Returns the length, or -1 on EOF/timeout. */
int nt_child_read_line(struct nt_child *c, char *buf, size_t size,
                       int timeout_ms);

/* Sends sig and waits at most timeout_ms for the child to exit; returns
 * its exit status (128+signal when killed), -1 when it did not exit (it is
 * then killed with SIGKILL). */
int nt_child_stop(struct nt_child *c, int sig, int timeout_ms);

/* Runs argv to completion with stdin from `input` (may be NULL), capturing
 * stdout and stderr into malloc'd strings (caller frees). Returns the exit
 * status, or -1 when it could not run or exceeded timeout_ms. */
int nt_run(char *const argv[], const char *input, char **out, char **err,
           int timeout_ms);

/* Runs argv as nt_run() does (no input, 60 s at most) and checks its exit
 * status and that stdout and stderr hold `out_has` and `err_has` ("" or
 * NULL: not checked). `label` names the case in every message. */
void nt_test_expect_run(char *const argv[], const char *label, int status,
                        const char *out_has, const char *err_has);

/* Fails unless `text` holds every string of `want` (NULL-ended); the
 * message names `label` and the string missing. */
void nt_test_assert_has_all(const char *text, const char *const want[],
                            const char *label);

#endif
