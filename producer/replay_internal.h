/* The replay's insides, shared by its three parts: the run (producer/
 * replay.c: inputs, windowing, pacing, sending), the readers of the
 * archive formats (producer/replay_read.c: feed documents, JSON lines,
 * WARC crawls and, with --pages, their article pages) and the seen-set
 * with --skip-seen's reading of the topic (producer/replay_seen.c).
 * Internal: the public face is producer/replay.h. */
#ifndef NT_REPLAY_INTERNAL_H
#define NT_REPLAY_INTERNAL_H

#include "producer/replay.h"
#include "common/article.h"
#include "common/buf.h"
#include "common/charset.h"
#include "common/date.h"
#include "common/err.h"
#include "common/extract.h"
#include "common/feed.h"
#include "common/feed_parse.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/num.h"
#include "common/sig.h"
#include "producer/publish.h"
#include "producer/warc.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>
#include <zlib.h>

/* Directories deeper than this are not followed (a symlink loop ends
 * here). */
#define MAX_DEPTH 32
/* Input files one run takes. */
#define MAX_FILES ((size_t)1000000)
/* How much of a file is looked at to tell its format. */
#define SNIFF_BYTES ((size_t)4096)
/* --speed orders the whole archive by time before sending, in memory. */
#define MAX_QUEUED_BYTES ((uint64_t)512 * 1024 * 1024)
/* Distinct id/revision pairs remembered; past it, duplicates in the rest
 * of the run are no longer caught (logged once). 16 bytes a pair, the
 * table at most half full: 128 MiB at the bound. */
#define MAX_SEEN ((size_t)4 * 1024 * 1024)
/* --skip-seen gives up reading the topic back after this long without a
 * message or an end of partition. */
#define READBACK_STALL_MS 30000
/* Progress reports, at most this often. */
#define PROGRESS_EVERY_MS 250
/* Delivery reports are served after every POLL_EVERY articles sent, not
 * after each: rd_kafka_poll() with nothing ready still costs a lock, a
 * queue look and the publisher's log flushes (perf: 2 % of a replay's
 * process, 3 % of its main thread). Nothing waits on them meanwhile:
 * the publisher still tracks every message (producer.max_inflight bounds
 * them, and a full publisher is polled until it has room), and the end
 * flushes all. */
#define POLL_EVERY 64

/* The id/revision pairs of the run: XXH3_128 of "id\0revision" in an
 * open-addressing table. (0, 0) marks an empty slot. */
struct seen_set {
        uint64_t *slots; /* 2 words per slot */
        size_t cap;      /* slots, a power of two */
        size_t n;
        bool full_logged;
};

/* An article waiting for its turn under --speed. */
struct item {
        int64_t t;         /* pacing time; INT64_MIN: unknown */
        int64_t published; /* the record's time, as send_one() takes it */
        uint64_t seq;
        char id[33];
        char revision[17];
        char *feed_url;
        char *value;
        size_t value_len;
};

struct nt_replay {
        const nt_config_t *cfg;
        struct nt_replay_opts o;
        nt_publisher_t *pub;
        struct nt_replay_stats st;
        struct seen_set seen;
        struct nt_feed_limits flim;
        struct nt_warc_limits wlim;
        char **files;
        uint64_t *sizes;
        size_t n_files, cap_files;
        struct item *queue;
        size_t n_queue, cap_queue;
        uint64_t queued_bytes;
        int64_t last_progress_ms;
        int64_t pace_start_ms;
        int64_t speed_due_ms;
        int64_t prev_t;
        uint64_t paced;
        unsigned since_poll; /* articles sent since the last poll */
        uint64_t file_base;  /* bytes_done before the current file */
        bool stop_reading;   /* --strict met an error, or a signal */
        int fatal;           /* an error that ended the run */
        char fatal_msg[512];
};

/* ---- producer/replay.c, for the readers ---- */

/* An article found in an input: windowed, de-duplicated, then sent (or
 * queued under --speed), with what it carries (content_source "page"
 * when extracted from an article page). */
int nt_rp_emit(nt_replay_t *r, const struct nt_article *art,
               const char *feed_url);

/* A problem with an input, reported (and counted) where it is. */
void nt_rp_report(nt_replay_t *r, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The progress line, at most every PROGRESS_EVERY_MS unless forced. */
void nt_rp_progress(nt_replay_t *r, bool force);

/* True once a shutdown signal came: reading stops. */
bool nt_rp_stopping(nt_replay_t *r);

/* ---- producer/replay_read.c ---- */

/* Replays one input file, whatever its format. */
int nt_rp_replay_file(nt_replay_t *r, const char *path);

/* ---- producer/replay_seen.c ---- */

/* Adds the id/revision pair; *was says it was there already. */
int nt_rp_seen_add(struct seen_set *s, const char *id, const char *rev,
                   bool *was);
void nt_rp_seen_free(struct seen_set *s);

/* Reads topics.raw from the beginning of every partition to its end and
 * remembers every id/revision on it (--skip-seen). */
int nt_rp_read_back(nt_replay_t *r, char *errstr, size_t errstr_size);

#endif
