/* Test archives for replay and tail: temporary directories and files,
 * RSS documents of many items, WARC response records (plain, or each
 * record its own gzip member, as crawlers write them), and the dev
 * broker (`newstap broker`) as a child process for tests that need a
 * broker but not a real Kafka. */
#ifndef NT_TEST_ARCHIVE_H
#define NT_TEST_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "support/nt_test.h"

/* A fresh directory under $TMPDIR (or /tmp) into buf. */
void nt_test_tmpdir(char *buf, size_t size);

/* Removes a directory and everything below it. */
void nt_test_rmtree(const char *dir);

/* Writes a file (asserting that it worked); `path` is dir/name. */
void nt_test_write(const char *dir, const char *name, const void *data,
                   size_t len);

/* Writes the file `path` from a printf format (asserting that it
 * worked): configuration files and the like. */
void nt_test_printf_file(const char *path, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The contents of a file (asserting); caller frees; *len may be NULL. */
char *nt_test_slurp(const char *path, size_t *len);

/* An RSS 2.0 document (caller frees): `head`, the document up to and
 * with the channel's own elements, then n items, item i (from 0) printed
 * from `item_fmt` with i as its one argument (write it %1$d to use it
 * more than once), then the end of the channel and the document. */
char *nt_test_rss(const char *head, int n, const char *item_fmt);

/* One WARC/1.0 `response` record for `uri` whose block is an HTTP 200
 * response with `content_type` and `body` (chunked when asked), appended
 * to `out` (as its own gzip member when `gzip`). The Content-Length is
 * `len_delta` off the truth (0: right). Returns the offset in `out`
 * where the record (or its member) starts. */
size_t nt_test_warc_response(struct nt_buf *out, const char *uri,
                             const char *content_type, const char *body,
                             bool chunked, long len_delta, bool gzip);

/* A `warcinfo` record (not a response), likewise. */
size_t nt_test_warc_info(struct nt_buf *out, bool gzip);

/* The dev broker as a child process. */
struct nt_test_devbroker {
        struct nt_child child;
        char bootstrap[256];
};

/* Starts `newstap broker` with the topics ("name:partitions") and waits
 * for its bootstrap address. */
void nt_test_devbroker_start(struct nt_test_devbroker *db,
                             const char *const *topics, size_t n_topics);

/* Stops it (SIGTERM) and asserts that it exited cleanly. */
void nt_test_devbroker_stop(struct nt_test_devbroker *db);

#endif
