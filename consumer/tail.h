/* Following the classified topics: the per-label topics
 * (topics.label_prefix + label) or topics.enriched, from a chosen start
 * (the end, the beginning, a time, the last N or offset N of each
 * partition), read_committed, filtered by published time, score, entity,
 * language or text, and rendered as pretty text, JSON lines or a
 * kcat-style format string. Without a group it reads without committing
 * anything, so tailing never moves a consumer group's offsets. The module
 * renders into memory and hands each rendering to a callback; the command
 * does the printing. */
#ifndef NT_TAIL_H
#define NT_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/config.h"

enum nt_tail_output {
        NT_TAIL_PRETTY = 0, /* time, labels and scores, title, URL, the
                               evidence with its match highlighted */
        NT_TAIL_JSONL = 1,  /* the event value, one per line */
        NT_TAIL_FORMAT = 2, /* `format`, kcat's tokens and event fields */
};

/* Receives one rendered record (text ending in its newline, unless a
 * format string said otherwise). Returns 0, or non-zero to stop (the
 * output was closed). */
typedef int(nt_tail_emit_cb)(void *ctx, const char *text, size_t len);

struct nt_tail_opts {
        const char *const *labels; /* follow these labels' topics ... */
        size_t n_labels;           /* ... or, when none, every label topic */
        bool all;                  /* follow topics.enriched instead */
        int64_t since_ms;          /* start at this record time and show
                                      only events whose published time
                                      (else record time) is at or after
                                      it; INT64_MIN: not set */
        bool from_beginning;       /* start at the beginning */
        bool from_end;             /* start at the end, asked for (in a
                                      group: not the committed offsets) */
        int64_t last_n;            /* start this many records before each
                                      partition's end; 0: not set */
        int64_t start_offset;      /* start at this offset in each
                                      partition; -1: not set */
        uint64_t count;            /* stop after this many; 0: no limit */
        bool exit_at_end;          /* stop when every partition reached
                                      the end it had at the start */
        double min_score;          /* some (followed) label scores at
                                      least this; < 0: no filter */
        const char *entity;        /* an entity of this name (any case) */
        const char *lang;          /* the event's language ("uk") */
        const char *grep;          /* text in the title or summary, any
                                      case */
        enum nt_tail_output output;
        const char *format; /* NT_TAIL_FORMAT: tokens %t topic, %p
                               partition, %o offset, %k key, %T timestamp
                               (ms), %s value, %S value size, %h headers
                               (k=v,...), %% a percent sign; %{title}
                               %{url} %{id} %{labels} %{published}
                               %{score:LABEL}; escapes \n \t \\ */
        bool color;         /* ANSI colour in the pretty output */
        const char *group;  /* consume in this group and commit what was
                               read; NULL: no group, no commits */
        nt_tail_emit_cb *emit;
        void *ctx;
};

void nt_tail_opts_init(struct nt_tail_opts *o);

/* One record as the renderer sees it. */
struct nt_tail_record {
        const char *topic;
        int32_t partition;
        int64_t offset;
        const char *key; /* may be NULL */
        size_t key_len;
        int64_t timestamp_ms; /* -1: none */
        const char *value;    /* may be NULL */
        size_t value_len;
        const char *const *headers; /* name, value, name, value, ... */
        size_t n_headers;           /* pairs */
};

/* Reads a start as `--offset` and `-o` take it, kcat's spellings:
 * "beginning", "end", "-N" (the last N records of each partition), "N"
 * (offset N of each partition) or "@TIME" / "s@TIME" (as --since TIME: RFC
 * 3339, an age such as "2h", or milliseconds since the epoch). Sets the
 * start fields of `o` and clears the others. NT_ERR_INVALID when `s` is
 * none of these. */
int nt_tail_parse_start(const char *s, int64_t now_ms, struct nt_tail_opts *o);

/* True when `o` names a start (else: the end, or a group's committed
 * offsets). */
bool nt_tail_start_given(const struct nt_tail_opts *o);

/* Checks a format string. NT_ERR_USAGE with errstr naming the bad token. */
int nt_tail_check_format(const char *format, char *errstr, size_t errstr_size);

/* Applies the filters of `o` to a record and, when it passes, appends
 * its rendering to `out`. Returns 1 rendered, 0 filtered out (or not an
 * enriched event where one is needed: then *why, if not NULL, is set to
 * a static reason), NT_ERR_LIMIT / NT_ERR_NOMEM. */
int nt_tail_render(const struct nt_tail_opts *o,
                   const struct nt_tail_record *rec, struct nt_buf *out,
                   const char **why);

typedef struct nt_tail nt_tail_t;

/* A tail over the config's topics and kafka properties. `cfg` and the
 * strings of `opts` are borrowed and must outlive the tail. Caller frees
 * with nt_tail_destroy(). NULL with errstr set on failure. */
nt_tail_t *nt_tail_new(const nt_config_t *cfg, const struct nt_tail_opts *opts,
                       char *errstr, size_t errstr_size);

/* Connects, finds the topics and their partitions, and sets where each
 * starts. NT_ERR_NOTFOUND when the topics do not exist, NT_ERR_KAFKA. */
int nt_tail_start(nt_tail_t *t, char *errstr, size_t errstr_size);

/* Reads and emits for at most timeout_ms. Returns 0 while there is more
 * to do, 1 when done (--count reached, every partition at its end with
 * exit_at_end, or the emit callback asked to stop), NT_ERR_KAFKA on a
 * fatal consumer error. */
int nt_tail_poll(nt_tail_t *t, int timeout_ms, char *errstr,
                 size_t errstr_size);

/* nt_tail_start(), then nt_tail_poll() until done or a shutdown signal.
 * 0, or an error as above. */
int nt_tail_run(nt_tail_t *t, char *errstr, size_t errstr_size);

/* The topics followed, once nt_tail_start() found them. Borrowed; valid
 * until nt_tail_destroy(). */
const char *const *nt_tail_topics(const nt_tail_t *t, size_t *n);

/* Counters: records read, records emitted. */
void nt_tail_counts(const nt_tail_t *t, uint64_t *read, uint64_t *emitted);

/* Closes the consumer (committing, in a group) and frees. NULL-safe. */
void nt_tail_destroy(nt_tail_t *t);

#endif
