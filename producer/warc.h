/* WARC files (ISO 28500, WARC/1.0 and WARC/1.1), plain or gzip'd as
 * concatenated members (one per record, as crawlers write them), read one
 * record at a time with bounded memory; and the HTTP response that a
 * `response` record carries, de-chunked and decoded. Errors name the
 * record number and the byte offset of the record (in a .warc.gz, of the
 * gzip member it starts in), so that a damaged archive can be located. */
#ifndef NT_WARC_H
#define NT_WARC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Bounds on what one record may make the reader hold. */
struct nt_warc_limits {
        size_t max_header; /* bytes of a record's header (default 64 KiB) */
        size_t max_block;  /* bytes of a record's block (default 64 MiB):
                              a larger block is skipped with an error */
};

#define NT_WARC_DEFAULT_MAX_HEADER ((size_t)64 * 1024)
#define NT_WARC_DEFAULT_MAX_BLOCK  ((size_t)64 * 1024 * 1024)

/* Fills in the defaults above. */
void nt_warc_limits_init(struct nt_warc_limits *lim);

/* One header field as written (name without the colon, value trimmed,
 * continuation lines joined with a space). */
struct nt_warc_field {
        char *name;
        char *value;
};

/* One record. Everything is owned by the record and freed by
 * nt_warc_record_free(); the convenience pointers (type, target_uri, ...)
 * point into `fields` and are NULL when the field is absent. */
struct nt_warc_record {
        unsigned long number; /* 1-based position in the file; bad records
                                 count too */
        uint64_t offset;      /* byte offset of the record; in a .warc.gz,
                                 of the gzip member it starts in */
        char version[16];     /* "WARC/1.0" or "WARC/1.1" */
        struct nt_warc_field *fields;
        size_t n_fields;
        const char *type;         /* WARC-Type */
        const char *target_uri;   /* WARC-Target-URI */
        const char *date;         /* WARC-Date */
        const char *content_type; /* Content-Type of the block */
        char *block;              /* NUL-terminated, not counted in len */
        size_t block_len;
};

void nt_warc_record_init(struct nt_warc_record *rec);

/* Frees what the record holds and leaves it empty. NULL-safe. */
void nt_warc_record_free(struct nt_warc_record *rec);

/* The value of a header field (names compare case-insensitively), or
 * NULL. Borrowed from the record. */
const char *nt_warc_field(const struct nt_warc_record *rec, const char *name);

typedef struct nt_warc nt_warc_t;

/* A reader of `f` (borrowed: the caller closes it after
 * nt_warc_close()), positioned at the start of the file. gzip is
 * recognised by its magic bytes. A plain file that can be seeked lets the
 * reader step back after a record with a wrong Content-Length and find the
 * next one. `lim` NULL for the defaults. Caller frees with
 * nt_warc_close(). NULL with errstr set when out of memory. */
nt_warc_t *nt_warc_open(FILE *f, const struct nt_warc_limits *lim, char *errstr,
                        size_t errstr_size);

/* NULL-safe. */
void nt_warc_close(nt_warc_t *w);

/* Reads the next record into `rec` (initialised; freed and refilled).
 * Returns:
 *   0               a record was read;
 *   NT_ERR_NOTFOUND the end of the file (and on every later call);
 *   NT_ERR_PARSE    a bad record (not a WARC header, no or a bad
 *                   Content-Length, a block not followed by CRLF CRLF, a
 *                   block past max_block): errstr says "record N at byte
 *                   X: why"; the reader skipped to the next record (the
 *                   next gzip member, or the next line starting "WARC/1.")
 *                   and the next call goes on from there;
 *   NT_ERR_IO       nothing further can be read (a truncated or corrupt
 *                   gzip member, junk after the last member, a read
 *                   error): errstr says where; later calls return
 *                   NT_ERR_NOTFOUND;
 *   NT_ERR_NOMEM. */
int nt_warc_next(nt_warc_t *w, struct nt_warc_record *rec, char *errstr,
                 size_t errstr_size);

/* Bytes of the file consumed so far (compressed bytes for .warc.gz): for
 * progress reports. */
uint64_t nt_warc_bytes_read(const nt_warc_t *w);

/* True when the file is gzip'd. */
bool nt_warc_is_gzip(const nt_warc_t *w);

/* ---- The HTTP response in a `response` record ------------------------ */

/* Strings are owned (freed by nt_warc_http_free) and NULL when the
 * response had no such header. */
struct nt_warc_http {
        int status; /* 200 */
        char *content_type;
        char *content_location;
        char *content_encoding;
        char *transfer_encoding;
        char *body; /* de-chunked and decoded (gzip, deflate);
                       NUL-terminated, not counted in body_len */
        size_t body_len;
};

void nt_warc_http_init(struct nt_warc_http *h);
void nt_warc_http_free(struct nt_warc_http *h);

/* Parses an HTTP/1.x response (status line, header fields, blank line,
 * body) from a record's block. A chunked body is de-chunked (a body that
 * is not chunked after all, as some archivers store it, is kept as is);
 * Content-Encoding gzip, x-gzip and deflate are decoded; at most
 * `max_body` bytes of body. Returns 0, NT_ERR_PARSE (errstr says why),
 * NT_ERR_LIMIT (body past max_body), NT_ERR_NOMEM. `h` must be
 * initialised; the caller frees it with nt_warc_http_free() whatever this
 * returns. */
int nt_warc_http_parse(const char *block, size_t len, size_t max_body,
                       struct nt_warc_http *h, char *errstr,
                       size_t errstr_size);

#endif
