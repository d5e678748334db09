/* Replay of archives into the raw topic: feed files, directories, globs,
 * JSON lines of articles and WARC / WARC.gz crawls, each detected from its
 * content, turned into articles exactly as the producer does (same ids,
 * keys, headers, record timestamps) and published through the same
 * loss-free publisher, with optional pacing (a rate, or the original pace
 * sped up) and a time window. Bad files and records are reported through a
 * callback and skipped; everything accepted is confirmed by the broker, or
 * counted as unconfirmed, before nt_replay_run() returns. */
#ifndef NT_REPLAY_H
#define NT_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"

typedef struct nt_replay nt_replay_t;

/* What a run counts; progress reports hand out a snapshot. */
struct nt_replay_stats {
        size_t files_total;      /* input files found */
        size_t files_done;       /* files read to their end (or given up) */
        uint64_t bytes_total;    /* their sizes on disk */
        uint64_t bytes_done;     /* bytes of them read so far */
        uint64_t records;        /* WARC records and JSON lines read */
        uint64_t articles;       /* articles found in the inputs */
        uint64_t queued;         /* articles handed to the publisher */
        uint64_t published;      /* confirmed by the broker */
        uint64_t refused;        /* refused by it for good (too large, ...) */
        uint64_t duplicates;     /* skipped: same id and revision already
                                    sent in this run, or on the topic */
        uint64_t outside;        /* skipped: published outside --from/--until */
        uint64_t not_feeds;      /* WARC responses that are not feeds (HTML
                                    pages, redirects, errors): not errors */
        uint64_t pages;          /* pages: HTML responses published as
                                    articles */
        uint64_t pages_no_text;  /* pages: HTML responses without a main
                                    text (index pages, empty shells) */
        uint64_t errors;         /* files or records skipped as bad */
        uint64_t unconfirmed;    /* not confirmed when the run ended */
        uint64_t on_topic;       /* id/revision pairs read back (skip_seen) */
        uint64_t past_retention; /* stamp_published: records older than
                                    the topic's retention.ms, which the
                                    broker deletes at its next check */
        int64_t retention_ms;    /* stamp_published: the topic's retention.ms
                                    (-1: none or unknown) */
        bool publishing;         /* --speed: reading is done, sending now */
        int64_t started_ms;      /* monotonic clock, ms */
};

/* Reported once per skipped file or record: `path` the input file,
 * `what` "record 3 at byte 1234: why" or just why. */
typedef void(nt_replay_error_cb)(void *ctx, const char *path, const char *what);

/* Called about four times a second while the run goes on, and once at
 * its end. */
typedef void(nt_replay_progress_cb)(void *ctx,
                                    const struct nt_replay_stats *st);

struct nt_replay_opts {
        double rate;          /* articles per second; 0: as fast as possible */
        double speed;         /* replay at X times the original pace by
                                 published time; 0: off */
        int64_t max_gap_ms;   /* longest single wait under speed; <0: none */
        int64_t from_ms;      /* window on the published time, inclusive; */
        int64_t until_ms;     /* INT64_MIN / INT64_MAX when open */
        bool skip_seen;       /* read the raw topic back first and skip the
                                 id/revision pairs already on it */
        bool strict;          /* stop at the first bad file or record */
        bool stamp_published; /* record time = the published time
                                 (--timestamp published); else the time
                                 of writing, which retention counts from */
        const char *feed_url; /* feed URL for plain feed files (NULL: the
                                 path as given, as `parse --articles`) */
        const char *base_url; /* base for relative links in feed files
                                 (NULL: the feed URL) */
        bool pages;           /* WARC responses that are HTML are article
                                 pages: their main text is extracted and
                                 published with content_source "page" */
        nt_replay_error_cb *on_error;
        nt_replay_progress_cb *on_progress;
        void *ctx; /* handed to both callbacks */
};

void nt_replay_opts_init(struct nt_replay_opts *o);

/* A replay publishing to the config's topics.raw. `cfg` and the strings
 * of `opts` are borrowed and must outlive the replay. Caller frees with
 * nt_replay_destroy(). NULL with errstr set on failure. */
nt_replay_t *nt_replay_new(const nt_config_t *cfg,
                           const struct nt_replay_opts *opts, char *errstr,
                           size_t errstr_size);

/* Replays the inputs: each path a file, a directory (every file below it,
 * recursively, in byte order of the names, hidden ones skipped) or a glob
 * pattern the shell did not expand. Returns
 *   0               everything read was published and confirmed;
 *   NT_ERR_PARSE    something was skipped (bad file or record, a missing
 *                   path): see the error callback; the rest went out;
 *   NT_ERR_TIMEOUT  some articles were not confirmed in time (stats say
 *                   how many);
 *   NT_ERR_STOPPED  a shutdown signal ended the run early;
 *   NT_ERR_KAFKA / NT_ERR_LIMIT / NT_ERR_NOMEM  the run could not go on
 *                   (errstr says why).
 * Errors of several kinds: the first of TIMEOUT, STOPPED, PARSE wins in
 * that order after a fatal one. */
int nt_replay_run(nt_replay_t *r, const char *const *paths, size_t n_paths,
                  char *errstr, size_t errstr_size);

void nt_replay_stats(const nt_replay_t *r, struct nt_replay_stats *st);

/* NULL-safe. */
void nt_replay_destroy(nt_replay_t *r);

#endif
