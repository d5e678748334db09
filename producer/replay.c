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
        uint64_t file_base; /* bytes_done before the current file */
        bool stop_reading;  /* --strict met an error, or a signal */
        int fatal;          /* an error that ended the run */
        char fatal_msg[512];
};

void nt_replay_opts_init(struct nt_replay_opts *o)
{
        memset(o, 0, sizeof(*o));
        o->max_gap_ms = -1;
        o->from_ms = INT64_MIN;
        o->until_ms = INT64_MAX;
}

/* ---- The seen-set -------------------------------------------------- */

static void seen_free(struct seen_set *s)
{
        free(s->slots);
        memset(s, 0, sizeof(*s));
}

static void seen_key(const char *id, const char *rev, uint64_t *lo,
                     uint64_t *hi)
{
        char buf[64];
        size_t a = strlen(id), b = strlen(rev);
        XXH128_hash_t h;

        if (a + b + 1 <= sizeof(buf)) {
                memcpy(buf, id, a);
                buf[a] = '\0';
                memcpy(buf + a + 1, rev, b);
                h = XXH3_128bits(buf, a + b + 1);
        } else {
                /* Ids and revisions are short hex digests; anything else
                 * is hashed in two steps, still stable. */
                XXH128_hash_t hid = XXH3_128bits(id, a);
                h = XXH3_128bits_withSeed(rev, b, hid.low64 ^ hid.high64);
        }
        *lo = h.low64;
        *hi = h.high64;
        if (*lo == 0 && *hi == 0)
                *lo = 1;
}

static uint64_t *seen_slot(const struct seen_set *s, uint64_t lo, uint64_t hi)
{
        size_t i = (size_t)(lo ^ (hi >> 7)) & (s->cap - 1);

        for (;;) {
                uint64_t *slot = s->slots + 2 * i;
                if ((slot[0] == 0 && slot[1] == 0) ||
                    (slot[0] == lo && slot[1] == hi))
                        return slot;
                i = (i + 1) & (s->cap - 1);
        }
}

static int seen_grow(struct seen_set *s)
{
        size_t ncap = s->cap ? s->cap * 2 : 1024, i;
        struct seen_set bigger = {0};

        bigger.slots = calloc(ncap, 2 * sizeof(uint64_t));
        if (!bigger.slots)
                return NT_ERR_NOMEM;
        bigger.cap = ncap;
        for (i = 0; i < s->cap; i++) {
                uint64_t *old = s->slots + 2 * i;
                if (old[0] || old[1]) {
                        uint64_t *slot = seen_slot(&bigger, old[0], old[1]);
                        slot[0] = old[0];
                        slot[1] = old[1];
                }
        }
        free(s->slots);
        s->slots = bigger.slots;
        s->cap = ncap;
        return NT_OK;
}

/* Adds the pair; *was says it was there already. */
static int seen_add(struct seen_set *s, const char *id, const char *rev,
                    bool *was)
{
        uint64_t lo, hi, *slot;

        *was = false;
        seen_key(id, rev, &lo, &hi);
        if (s->cap && (slot = seen_slot(s, lo, hi)) && (slot[0] || slot[1])) {
                *was = true;
                return NT_OK;
        }
        if (s->n >= MAX_SEEN) {
                if (!s->full_logged)
                        NT_WARN("replay",
                                "%zu distinct articles remembered: "
                                "duplicates among the rest are not "
                                "caught in this run",
                                s->n);
                s->full_logged = true;
                return NT_OK;
        }
        if ((s->n + 1) * 2 > s->cap && seen_grow(s) != NT_OK)
                return NT_ERR_NOMEM;
        slot = seen_slot(s, lo, hi);
        slot[0] = lo;
        slot[1] = hi;
        s->n++;
        return NT_OK;
}

/* ---- Setup ---------------------------------------------------------- */

nt_replay_t *nt_replay_new(const nt_config_t *cfg,
                           const struct nt_replay_opts *opts, char *errstr,
                           size_t errstr_size)
{
        nt_replay_t *r = calloc(1, sizeof(*r));
        size_t max_body = (size_t)nt_config_bytes(cfg, "producer.max_body");

        if (!r) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                return NULL;
        }
        r->cfg = cfg;
        r->o = *opts;
        nt_feed_limits_init(&r->flim);
        r->flim.max_document = max_body;
        /* An archive is read whole, not polled: every entry of a document
         * goes out, however many (produce keeps the first 10,000 of a
         * live feed). An entry takes more than a byte, so the document
         * limit still bounds what is held. */
        r->flim.max_entries = max_body;
        nt_warc_limits_init(&r->wlim);
        /* A response record holds the HTTP header besides the body. */
        r->wlim.max_block = max_body + 1024 * 1024;
        r->prev_t = INT64_MIN;
        return r;
}

static void free_queue(nt_replay_t *r)
{
        size_t i;

        for (i = 0; i < r->n_queue; i++) {
                free(r->queue[i].feed_url);
                free(r->queue[i].value);
        }
        free(r->queue);
        r->queue = NULL;
        r->n_queue = r->cap_queue = 0;
}

void nt_replay_destroy(nt_replay_t *r)
{
        size_t i;

        if (!r)
                return;
        if (r->pub)
                nt_publisher_destroy(r->pub, 0);
        for (i = 0; i < r->n_files; i++)
                free(r->files[i]);
        free(r->files);
        free(r->sizes);
        free_queue(r);
        seen_free(&r->seen);
        free(r);
}

void nt_replay_stats(const nt_replay_t *r, struct nt_replay_stats *st)
{
        *st = r->st;
}

static void report(nt_replay_t *r, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One skipped file or record: counted, handed to the callback, and with
 * --strict the end of reading. */
static void report(nt_replay_t *r, const char *path, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        r->st.errors++;
        if (r->o.on_error)
                r->o.on_error(r->o.ctx, path, msg);
        else
                NT_ERROR("replay", "%s: %s", path, msg);
        if (r->o.strict)
                r->stop_reading = true;
}

static void progress(nt_replay_t *r, bool force)
{
        int64_t now = nt_date_mono_ms();

        if (!r->o.on_progress)
                return;
        if (!force && now - r->last_progress_ms < PROGRESS_EVERY_MS)
                return;
        r->last_progress_ms = now;
        r->o.on_progress(r->o.ctx, &r->st);
}

static void set_fatal(nt_replay_t *r, int err, const char *msg)
{
        if (r->fatal)
                return;
        r->fatal = err;
        snprintf(r->fatal_msg, sizeof(r->fatal_msg), "%s", msg);
        r->stop_reading = true;
}

/* ---- Inputs --------------------------------------------------------- */

static int add_file(nt_replay_t *r, const char *path, uint64_t size)
{
        if (r->n_files >= MAX_FILES)
                return NT_ERR_LIMIT;
        if (r->n_files == r->cap_files) {
                size_t cap = r->cap_files ? r->cap_files * 2 : 64;
                char **files = realloc(r->files, cap * sizeof(*files));
                uint64_t *sizes;

                if (!files)
                        return NT_ERR_NOMEM;
                r->files = files;
                sizes = realloc(r->sizes, cap * sizeof(*sizes));
                if (!sizes)
                        return NT_ERR_NOMEM;
                r->sizes = sizes;
                r->cap_files = cap;
        }
        r->files[r->n_files] = strdup(path);
        if (!r->files[r->n_files])
                return NT_ERR_NOMEM;
        r->sizes[r->n_files++] = size;
        r->st.files_total = r->n_files;
        r->st.bytes_total += size;
        return NT_OK;
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(nt_replay_t *r, const char *path, int depth);

/* Every file under a directory, names in byte order so that two runs over
 * the same tree replay in the same order; hidden entries are skipped. */
static int add_dir(nt_replay_t *r, const char *path, int depth)
{
        DIR *d;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0, cap = 0, i;
        int err = NT_OK;

        if (depth > MAX_DEPTH) {
                report(r, path,
                       "directories nested deeper than %d: not "
                       "followed",
                       MAX_DEPTH);
                return NT_OK;
        }
        d = opendir(path);
        if (!d) {
                report(r, path, "cannot open the directory: %s",
                       strerror(errno));
                return NT_OK;
        }
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        char **more = realloc(names, ncap * sizeof(*more));
                        if (!more) {
                                err = NT_ERR_NOMEM;
                                goto out;
                        }
                        names = more;
                        cap = ncap;
                }
                names[n] = strdup(de->d_name);
                if (!names[n]) {
                        err = NT_ERR_NOMEM;
                        goto out;
                }
                n++;
        }
        if (n > 0)
                qsort(names, n, sizeof(*names), cmp_names);
        for (i = 0; i < n && !err; i++) {
                struct nt_buf child;

                nt_buf_init(&child, 8192);
                if (nt_buf_printf(&child, "%s%s%s", path,
                                  path[strlen(path) - 1] == '/' ? "" : "/",
                                  names[i]) != NT_OK) {
                        report(r, path, "a path below it is too long");
                } else {
                        err = add_path(r, child.data, depth + 1);
                }
                nt_buf_free(&child);
        }
out:
        for (i = 0; i < n; i++)
                free(names[i]);
        free(names);
        closedir(d);
        return err;
}

static int add_path(nt_replay_t *r, const char *path, int depth)
{
        struct stat st;

        if (stat(path, &st) != 0) {
                report(r, path, "%s", strerror(errno));
                return NT_OK;
        }
        if (S_ISDIR(st.st_mode))
                return add_dir(r, path, depth);
        if (!S_ISREG(st.st_mode)) {
                report(r, path, "not a regular file or a directory");
                return NT_OK;
        }
        return add_file(r, path, (uint64_t)st.st_size);
}

static bool has_glob_chars(const char *s)
{
        return strpbrk(s, "*?[") != NULL;
}

/* A path the shell left alone: a pattern only when no such file exists
 * (a file may well be called "a[1].xml"). */
static int add_input(nt_replay_t *r, const char *path)
{
        struct stat st;
        glob_t g;
        size_t i;
        int rc, err = NT_OK;

        if (strcmp(path, "-") == 0)
                return add_file(r, path, 0); /* standard input */
        if (!has_glob_chars(path) || stat(path, &st) == 0)
                return add_path(r, path, 0);
        memset(&g, 0, sizeof(g));
        rc = glob(path, 0, NULL, &g);
        if (rc == GLOB_NOMATCH) {
                report(r, path, "no file matches the pattern");
        } else if (rc != 0) {
                report(r, path, "cannot expand the pattern");
        } else {
                qsort(g.gl_pathv, g.gl_pathc, sizeof(char *), cmp_names);
                for (i = 0; i < g.gl_pathc && !err; i++)
                        err = add_path(r, g.gl_pathv[i], 0);
        }
        globfree(&g);
        return err;
}

/* ---- Sending -------------------------------------------------------- */

static void on_confirm(void *ctx, const struct nt_publish_meta *meta)
{
        nt_replay_t *r = ctx;

        if (meta->refused)
                r->st.refused++; /* the publisher logged it */
        else
                r->st.published++;
}

/* Waits, serving delivery reports, until the monotonic time `due`. */
static void wait_until(nt_replay_t *r, int64_t due)
{
        int64_t now;

        while (nt_sig_running() && (now = nt_date_mono_ms()) < due) {
                int64_t left = due - now;
                nt_publisher_poll(r->pub, left < 100 ? (int)left : 100);
                progress(r, false);
        }
}

/* Holds an article back until its time: --rate spaces articles evenly;
 * --speed follows the gaps between published times, divided by the
 * speed and capped by --max-gap. With both, the later time wins. */
static void pace(nt_replay_t *r, int64_t t)
{
        int64_t due = 0;

        if (r->paced == 0) {
                r->pace_start_ms = nt_date_mono_ms();
                r->speed_due_ms = r->pace_start_ms;
        }
        if (r->o.speed > 0) {
                if (r->paced > 0 && t != INT64_MIN && r->prev_t != INT64_MIN &&
                    t > r->prev_t) {
                        double gap = (double)(t - r->prev_t) / r->o.speed;
                        if (r->o.max_gap_ms >= 0 &&
                            gap > (double)r->o.max_gap_ms)
                                gap = (double)r->o.max_gap_ms;
                        r->speed_due_ms += (int64_t)gap;
                }
                if (t != INT64_MIN)
                        r->prev_t = t;
                due = r->speed_due_ms;
        }
        if (r->o.rate > 0) {
                int64_t rate_due =
                    r->pace_start_ms +
                    (int64_t)((double)r->paced * 1000.0 / r->o.rate);
                if (rate_due > due)
                        due = rate_due;
        }
        r->paced++;
        if (due > 0)
                wait_until(r, due);
}

/* True once a shutdown signal came: reading stops, and nothing more is
 * handed to the publisher; what it holds is still flushed. */
static bool stopping(nt_replay_t *r)
{
        if (!nt_sig_running())
                r->stop_reading = true;
        return r->stop_reading;
}

/* --timestamp published: counts (and says once) that a record is older
 * than the topic keeps records, so it will not stay. */
static void check_retention(nt_replay_t *r, int64_t published)
{
        int64_t now = nt_date_now_ms();
        char when[32];

        if (r->st.retention_ms <= 0 || published <= 0 ||
            published >= now - r->st.retention_ms)
                return;
        if (r->st.past_retention++ > 0)
                return;
        nt_date_format(published, when, sizeof(when));
        NT_WARN("replay",
                "an article published %s is older than the retention.ms of "
                "%s (%lld ms): with --timestamp published the broker deletes "
                "such records at its next retention check; replay with "
                "--timestamp now (the default) to keep them",
                when, nt_config_str(r->cfg, "topics.raw"),
                (long long)r->st.retention_ms);
}

/* Publishes one article as the producer does: key the id, headers
 * content-type, schema, revision, feed and published; the record time
 * the time of writing, or the published time with --timestamp
 * published. Waits while the publisher is full. */
static int send_one(nt_replay_t *r, const char *id, const char *revision,
                    const char *feed_url, int64_t published, const char *value)
{
        struct nt_publish_meta meta;
        int err;

        memset(&meta, 0, sizeof(meta));
        meta.key = id;
        meta.revision = revision;
        meta.feed_url = feed_url;
        meta.published_ms =
            published != NT_FEED_NO_DATE && published > 0 ? published : 0;
        if (r->o.stamp_published) {
                meta.timestamp_ms = meta.published_ms;
                check_retention(r, meta.published_ms);
        }
        while ((err = nt_publisher_send(r->pub, &meta, value, strlen(value))) ==
                   NT_ERR_LIMIT &&
               nt_sig_running()) {
                nt_publisher_poll(r->pub, 100);
                progress(r, false);
        }
        if (err == NT_ERR_LIMIT)
                return NT_ERR_STOPPED;
        if (err == NT_OK) {
                r->st.queued++;
                nt_publisher_poll(r->pub, 0);
        }
        return err;
}

static int64_t pacing_time(const struct nt_article *art)
{
        if (art->published != NT_FEED_NO_DATE)
                return art->published;
        if (art->updated != NT_FEED_NO_DATE)
                return art->updated;
        return INT64_MIN;
}

static int enqueue(nt_replay_t *r, const struct nt_article *art,
                   const char *feed_url, char *value)
{
        struct item *it;
        size_t len = strlen(value);

        if (r->queued_bytes + len > MAX_QUEUED_BYTES) {
                free(value);
                set_fatal(r, NT_ERR_LIMIT,
                          "--speed orders the whole archive by time in "
                          "memory, and it holds more than 512 MiB of "
                          "articles: replay it in parts (or use --rate)");
                return NT_ERR_LIMIT;
        }
        if (r->n_queue == r->cap_queue) {
                size_t cap = r->cap_queue ? r->cap_queue * 2 : 256;
                struct item *more = realloc(r->queue, cap * sizeof(*more));
                if (!more) {
                        free(value);
                        return NT_ERR_NOMEM;
                }
                r->queue = more;
                r->cap_queue = cap;
        }
        it = &r->queue[r->n_queue];
        memset(it, 0, sizeof(*it));
        it->t = pacing_time(art);
        it->published = art->published;
        it->seq = r->n_queue;
        memcpy(it->id, art->id, sizeof(it->id));
        memcpy(it->revision, art->revision, sizeof(it->revision));
        it->value = value;
        it->feed_url = strdup(feed_url ? feed_url : "");
        if (!it->feed_url) {
                free(value);
                return NT_ERR_NOMEM;
        }
        r->queued_bytes += len;
        r->n_queue++;
        return NT_OK;
}

static char *page_json_line(const struct nt_article *art);

/* One article found in an input: windowed, de-duplicated, then sent (or
 * queued under --speed). `page`: its text was extracted from an article
 * page (replay --pages). */
static int emit_article(nt_replay_t *r, const struct nt_article *art,
                        const char *feed_url, bool page)
{
        char *value;
        bool was;
        int err;

        if (stopping(r))
                return NT_OK;
        r->st.articles++;
        if (r->o.from_ms != INT64_MIN || r->o.until_ms != INT64_MAX) {
                if (art->published == NT_FEED_NO_DATE ||
                    art->published < r->o.from_ms ||
                    art->published > r->o.until_ms) {
                        r->st.outside++;
                        return NT_OK;
                }
        }
        err = seen_add(&r->seen, art->id, art->revision, &was);
        if (err)
                return err;
        if (was) {
                r->st.duplicates++;
                return NT_OK;
        }
        value = page ? page_json_line(art) : nt_article_to_json_line(art);
        if (!value)
                return NT_ERR_NOMEM;
        if (r->o.speed > 0)
                return enqueue(r, art, feed_url, value);
        pace(r, pacing_time(art));
        if (stopping(r)) {
                /* The signal came while the article waited for its turn:
                 * it is not sent. */
                free(value);
                return NT_OK;
        }
        err = send_one(r, art->id, art->revision, feed_url, art->published,
                       value);
        free(value);
        return err;
}

static int emit(nt_replay_t *r, const struct nt_article *art,
                const char *feed_url)
{
        return emit_article(r, art, feed_url, false);
}

static int cmp_items(const void *a, const void *b)
{
        const struct item *x = a, *y = b;

        if (x->t != y->t)
                return x->t < y->t ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* --speed: everything read, now in time order at the asked pace. */
static int send_queue(nt_replay_t *r)
{
        size_t i;
        int err = NT_OK;

        qsort(r->queue, r->n_queue, sizeof(*r->queue), cmp_items);
        r->st.publishing = true;
        for (i = 0; i < r->n_queue && !stopping(r); i++) {
                struct item *it = &r->queue[i];

                pace(r, it->t);
                if (stopping(r))
                        break;
                /* Paced by the updated time when there is no published
                 * one, but stamped as without --speed: the time of
                 * writing, or the published time with --timestamp
                 * published. */
                err = send_one(r, it->id, it->revision, it->feed_url,
                               it->published, it->value);
                if (err)
                        break;
                free(it->value);
                it->value = NULL;
                progress(r, false);
        }
        return err;
}

/* ---- Formats -------------------------------------------------------- */

static int64_t mtime_ms(const char *path)
{
        struct stat st;

        if (stat(path, &st) != 0)
                return NT_FEED_NO_DATE;
        return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

/* A limit cut the feed: one error per limit (so the run exits 1), with
 * the parser's words for the first cut, which say where. What was kept
 * is still published. */
static void report_cuts(nt_replay_t *r, const struct nt_feed *feed,
                        const char *path, const char *where)
{
        char what[1024];
        unsigned bit;

        for (bit = 1; bit & NT_FEED_CUT_ALL; bit <<= 1)
                if (feed->cuts & bit)
                        report(r, path, "%s%s%s", where, *where ? ": " : "",
                               nt_feed_cut_describe(feed, bit, what,
                                                    sizeof(what)));
}

/* The articles of a parsed feed, as the producer makes them. */
static int emit_feed(nt_replay_t *r, const struct nt_feed *feed,
                     const char *feed_url, int64_t fetched, const char *path,
                     const char *where)
{
        char errstr[512];
        size_t i;
        int err = NT_OK;

        if (!feed->wellformed && feed->n_errors > 0)
                NT_WARN("replay",
                        "%s%s%s: recovered an ill-formed feed (line "
                        "%lu: %s)",
                        path, *where ? ": " : "", where, feed->errors[0].line,
                        feed->errors[0].message);
        report_cuts(r, feed, path, where);
        for (i = 0; i < feed->n_entries && !err && !stopping(r); i++) {
                struct nt_article art;

                nt_article_init(&art);
                err = nt_article_from_entry(feed, &feed->entries[i], feed_url,
                                            fetched, &art, errstr,
                                            sizeof(errstr));
                if (err == NT_OK)
                        err = emit(r, &art, feed_url);
                nt_article_free(&art);
        }
        return err;
}

static bool contains_ci(const char *s, const char *word)
{
        size_t n = strlen(word);

        for (; *s; s++)
                if (strncasecmp(s, word, n) == 0)
                        return true;
        return false;
}

/* Content types that say "feed": *xml, rss, atom, *json. */
static bool feedish_type(const char *ct)
{
        return ct && (contains_ci(ct, "xml") || contains_ci(ct, "rss") ||
                      contains_ci(ct, "atom") || contains_ci(ct, "json"));
}

/* "record 3 at byte 1234" or "record 3 (gzip member at byte 1234)". */
static void record_where(const nt_warc_t *w, const struct nt_warc_record *rec,
                         char *buf, size_t size)
{
        if (nt_warc_is_gzip(w))
                snprintf(buf, size, "record %lu (gzip member at byte %llu)",
                         rec->number, (unsigned long long)rec->offset);
        else
                snprintf(buf, size, "record %lu at byte %llu", rec->number,
                         (unsigned long long)rec->offset);
}

/* ---- replay --pages: article pages in a WARC ------------------------ */

/* The article JSON with "content_source": "page" after its fields. Caller
 * frees with free(); NULL when out of memory. */
static char *page_json_line(const struct nt_article *art)
{
        json_t *o = nt_article_to_json(art);
        char *line = NULL;

        if (o &&
            json_object_set_new(o, "content_source", json_string("page")) == 0)
                line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        return line;
}

static bool htmlish_type(const char *ct)
{
        return ct && (strncasecmp(ct, "text/html", 9) == 0 ||
                      strncasecmp(ct, "application/xhtml+xml", 21) == 0);
}

/* Plain text as HTML the article model reads back to the same text: each
 * paragraph in <p>, &, < and > escaped. NULL for NULL. */
static char *text_as_html(const char *text, bool *oom)
{
        struct nt_buf b;
        const char *p;
        char *out = NULL;
        int err = NT_OK;

        if (!text || *oom)
                return NULL;
        /* At most 5 bytes ("&amp;") for each, and the tags. */
        nt_buf_init(&b, 5 * strlen(text) + 16);
        err = nt_buf_append_str(&b, "<p>");
        for (p = text; *p && !err; p++) {
                if (*p == '&')
                        err = nt_buf_append_str(&b, "&amp;");
                else if (*p == '<')
                        err = nt_buf_append_str(&b, "&lt;");
                else if (*p == '>')
                        err = nt_buf_append_str(&b, "&gt;");
                else if (p[0] == '\n' && p[1] == '\n')
                        err = nt_buf_append_str(&b, "</p><p>");
                else
                        err = nt_buf_append_char(&b, *p);
                if (p[0] == '\n' && p[1] == '\n')
                        p++;
        }
        if (!err)
                err = nt_buf_append_str(&b, "</p>");
        if (!err)
                out = nt_buf_detach(&b);
        if (!out)
                *oom = true;
        nt_buf_free(&b);
        return out;
}

/* An HTML response under --pages: its main text published as an article
 * of its own, built through the feed-entry path so that id and revision
 * follow the article model's rules (the id from the canonical form of
 * the WARC-Target-URI). Published: the page's date (JSON-LD, meta), else
 * the WARC-Date. */
static int warc_page(nt_replay_t *r, const struct nt_warc_record *rec,
                     const struct nt_warc_http *h, int64_t fetched)
{
        struct nt_extract_page pg;
        struct nt_feed feed;
        struct nt_feed_entry entry;
        struct nt_feed_person author;
        struct nt_article art;
        char charset[64], errstr[256];
        const char *cs = NULL;
        bool oom = false;
        int err;

        nt_extract_page_init(&pg);
        nt_feed_init(&feed);
        nt_article_init(&art);
        memset(&entry, 0, sizeof(entry));
        if (h->content_type &&
            nt_charset_from_content_type(h->content_type, charset,
                                         sizeof(charset)) == NT_OK)
                cs = charset;
        err = nt_extract(h->body, h->body_len, cs, rec->target_uri, NULL, &pg);
        if (err)
                goto out;
        if (pg.method == NT_EXTRACT_NONE) {
                r->st.pages_no_text++;
                goto out;
        }
        feed.limits = r->flim;
        feed.title = pg.site_name;
        entry.link = (char *)rec->target_uri;
        entry.title = pg.title;
        entry.summary = text_as_html(pg.description, &oom);
        entry.content = text_as_html(pg.text, &oom);
        entry.language = pg.language;
        entry.published = pg.published != INT64_MIN ? pg.published : fetched;
        entry.updated = pg.modified;
        if (pg.author) {
                memset(&author, 0, sizeof(author));
                author.name = pg.author;
                entry.authors = &author;
                entry.n_authors = 1;
        }
        if (oom) {
                err = NT_ERR_NOMEM;
                goto out;
        }
        err = nt_article_from_entry(&feed, &entry, NULL, fetched, &art, errstr,
                                    sizeof(errstr));
        if (err)
                goto out;
        r->st.pages++;
        err = emit_article(r, &art, NULL, true);
out:
        /* The feed and the entry only borrowed the page's strings. */
        feed.title = NULL;
        nt_feed_free(&feed);
        free(entry.summary);
        free(entry.content);
        nt_article_free(&art);
        nt_extract_page_free(&pg);
        return err;
}

static int warc_response(nt_replay_t *r, const char *path, nt_warc_t *w,
                         const struct nt_warc_record *rec, int64_t file_mtime)
{
        struct nt_warc_http h;
        struct nt_feed feed;
        char errstr[512], where[128];
        const char *base;
        int64_t fetched = file_mtime;
        int err;

        record_where(w, rec, where, sizeof(where));
        nt_warc_http_init(&h);
        nt_feed_init(&feed);
        err =
            nt_warc_http_parse(rec->block, rec->block_len, r->flim.max_document,
                               &h, errstr, sizeof(errstr));
        if (err == NT_ERR_NOMEM)
                goto out;
        if (err) {
                report(r, path, "%s: bad HTTP response: %s", where, errstr);
                err = NT_OK;
                goto out;
        }
        if (h.status < 200 || h.status > 299 || !rec->target_uri) {
                r->st.not_feeds++;
                goto out;
        }
        if (rec->date && nt_date_parse(rec->date, &fetched) != NT_OK)
                fetched = file_mtime;
        if (r->o.pages && htmlish_type(h.content_type)) {
                err = warc_page(r, rec, &h, fetched);
                goto out;
        }
        base = h.content_location ? h.content_location : rec->target_uri;
        err = nt_feed_parse(h.body, h.body_len, h.content_type, base, &r->flim,
                            &feed, errstr, sizeof(errstr));
        if (err == NT_ERR_NOMEM)
                goto out;
        if (err) {
                /* A crawl holds pages besides feeds: only what claims to
                 * be a feed and is not one is an error. */
                if (feedish_type(h.content_type))
                        report(r, path, "%s (%s): not a readable feed: %s",
                               where, rec->target_uri, errstr);
                else
                        r->st.not_feeds++;
                err = NT_OK;
                goto out;
        }
        err = emit_feed(r, &feed, rec->target_uri, fetched, path, where);
out:
        nt_feed_free(&feed);
        nt_warc_http_free(&h);
        return err;
}

static int replay_warc(nt_replay_t *r, const char *path, FILE *f)
{
        struct nt_warc_record rec;
        char errstr[512];
        int64_t file_mtime = mtime_ms(path);
        nt_warc_t *w;
        int err = NT_OK;

        w = nt_warc_open(f, &r->wlim, errstr, sizeof(errstr));
        if (!w)
                return NT_ERR_NOMEM;
        nt_warc_record_init(&rec);
        while (!stopping(r)) {
                int rc = nt_warc_next(w, &rec, errstr, sizeof(errstr));

                r->st.bytes_done = r->file_base + nt_warc_bytes_read(w);
                progress(r, false);
                if (rc == NT_ERR_NOTFOUND)
                        break;
                if (rc == NT_ERR_NOMEM) {
                        err = rc;
                        break;
                }
                r->st.records++;
                if (rc == NT_ERR_PARSE) {
                        report(r, path, "%s; skipped", errstr);
                        continue;
                }
                if (rc != NT_OK) {
                        report(r, path, "%s; the rest of the file is skipped",
                               errstr);
                        break;
                }
                if (!rec.type || strcasecmp(rec.type, "response") != 0 ||
                    !rec.content_type ||
                    strncasecmp(rec.content_type, "application/http", 16) != 0)
                        continue;
                err = warc_response(r, path, w, &rec, file_mtime);
                if (err)
                        break;
        }
        nt_warc_record_free(&rec);
        nt_warc_close(w);
        return err;
}

/* Lines of a file that may be gzip'd (zlib reads plain files as they
 * are). */
struct lines {
        gzFile gz;
        char *buf;
        size_t pos, len;
        bool eof, failed;
};

#define LINES_CHUNK ((size_t)64 * 1024)

static int lines_fill(struct lines *l)
{
        int n;

        if (l->pos < l->len)
                return 1;
        if (l->eof)
                return 0;
        n = gzread(l->gz, l->buf, (unsigned)LINES_CHUNK);
        if (n < 0) {
                l->failed = true;
                l->eof = true;
                return 0;
        }
        if (n == 0) {
                l->eof = true;
                return 0;
        }
        l->pos = 0;
        l->len = (size_t)n;
        return 1;
}

/* One line (without its newline) into `line`, at most line->max bytes;
 * *too_long when more was dropped. False at the end. */
static bool lines_next(struct lines *l, struct nt_buf *line, bool *too_long)
{
        bool any = false;

        nt_buf_reset(line);
        *too_long = false;
        while (lines_fill(l)) {
                char *start = l->buf + l->pos;
                size_t avail = l->len - l->pos;
                char *nl = memchr(start, '\n', avail);
                size_t take = nl ? (size_t)(nl - start) : avail;

                any = true;
                if (!*too_long && nt_buf_append(line, start, take) != NT_OK)
                        *too_long = true;
                l->pos += nl ? take + 1 : take;
                if (nl)
                        break;
        }
        return any;
}

/* One JSON line: an article, or an enriched event whose article counts. */
static int jsonl_line(nt_replay_t *r, const char *path, unsigned long lineno,
                      const char *s, size_t len)
{
        struct nt_article art;
        json_error_t jerr;
        json_t *obj, *src;
        const char *schema;
        char errstr[512];
        int err = NT_OK;

        obj = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!obj) {
                report(r, path,
                       "line %lu: invalid JSON (column %d: %s); "
                       "skipped",
                       lineno, jerr.column, jerr.text);
                return NT_OK;
        }
        schema = json_string_value(json_object_get(obj, "schema"));
        src = obj;
        if (schema && strncmp(schema, "newstap.enriched/", 17) == 0)
                src = json_object_get(obj, "article");
        nt_article_init(&art);
        if (!json_is_object(src) ||
            nt_article_from_json(src, &art, errstr, sizeof(errstr)) != NT_OK) {
                report(r, path,
                       "line %lu: not an article or an enriched event (%s); "
                       "skipped",
                       lineno, json_is_object(src) ? errstr : "no article");
        } else {
                err = emit(r, &art, art.feed_url);
        }
        nt_article_free(&art);
        json_decref(obj);
        return err;
}

static bool is_blank(const char *s, size_t len)
{
        size_t i;

        for (i = 0; i < len; i++)
                if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
                        return false;
        return true;
}

/* True when the line is one JSON object with a newstap schema tag: the
 * file is JSON lines, not a JSON Feed. */
static bool looks_like_jsonl(const char *s, size_t len)
{
        json_t *obj = json_loadb(s, len, 0, NULL);
        const char *schema = json_string_value(json_object_get(obj, "schema"));
        bool yes = schema && strncmp(schema, "newstap.", 8) == 0;

        json_decref(obj);
        return yes;
}

/* A feed document: the first line already read, the rest still in `l`. */
static int replay_document(nt_replay_t *r, const char *path, struct lines *l,
                           struct nt_buf *doc)
{
        struct nt_feed feed;
        char errstr[512];
        const char *feed_url = r->o.feed_url ? r->o.feed_url : path;
        const char *base = r->o.base_url ? r->o.base_url : feed_url;
        int err = NT_OK;

        while (lines_fill(l)) {
                if (nt_buf_append(doc, l->buf + l->pos, l->len - l->pos) !=
                    NT_OK) {
                        report(r, path,
                               "larger than producer.max_body (%zu bytes); "
                               "skipped",
                               r->flim.max_document);
                        return NT_OK;
                }
                l->pos = l->len;
        }
        if (l->failed) {
                report(r, path, "read error (a damaged gzip file?); skipped");
                return NT_OK;
        }
        nt_feed_init(&feed);
        err = nt_feed_parse(doc->data ? doc->data : "", doc->len, NULL, base,
                            &r->flim, &feed, errstr, sizeof(errstr));
        if (err == NT_ERR_NOMEM)
                goto out;
        if (err) {
                report(r, path,
                       "not a feed, JSON lines of articles or a WARC file "
                       "(%s); skipped",
                       errstr);
                err = NT_OK;
                goto out;
        }
        err = emit_feed(r, &feed, feed_url, mtime_ms(path), path, "");
out:
        nt_feed_free(&feed);
        return err;
}

/* Feed files and JSON lines, gzip'd or not. */
static int replay_stream(nt_replay_t *r, const char *path)
{
        struct lines l;
        struct nt_buf line;
        unsigned long lineno = 0;
        bool too_long, first = true;
        int err = NT_OK;

        memset(&l, 0, sizeof(l));
        nt_buf_init(&line, r->flim.max_document);
        l.buf = malloc(LINES_CHUNK);
        if (strcmp(path, "-") == 0) {
                int fd = dup(STDIN_FILENO);

                l.gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
                if (!l.gz && fd >= 0)
                        close(fd);
        } else {
                l.gz = gzopen(path, "rb");
        }
        if (!l.buf || !l.gz) {
                if (l.buf)
                        report(r, path, "cannot open: %s", strerror(errno));
                else
                        err = NT_ERR_NOMEM;
                goto out;
        }
        while (!stopping(r) && lines_next(&l, &line, &too_long)) {
                const char *s = line.data ? line.data : "";

                lineno++;
                if (first && !too_long && is_blank(s, line.len))
                        continue; /* blank lines before the first decide
                                     nothing */
                if (first) {
                        const char *p = s;
                        size_t n = line.len;

                        first = false;
                        /* A byte order mark and blank space may lead. */
                        if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
                                p += 3;
                                n -= 3;
                        }
                        while (n > 0 && (*p == ' ' || *p == '\t')) {
                                p++;
                                n--;
                        }
                        if (strcmp(path, "-") == 0 && n >= 5 &&
                            memcmp(p, "WARC/", 5) == 0) {
                                report(r, path,
                                       "a WARC file on standard input: "
                                       "give it as a file (its records "
                                       "are read by offset)");
                                goto out;
                        }
                        if (too_long || n == 0 || *p != '{' ||
                            !looks_like_jsonl(p, n)) {
                                /* Not JSON lines: the whole file is one
                                 * feed document. */
                                if (too_long) {
                                        report(r, path,
                                               "larger than "
                                               "producer.max_body (%zu "
                                               "bytes); skipped",
                                               r->flim.max_document);
                                        goto out;
                                }
                                if (nt_buf_append_char(&line, '\n') != NT_OK) {
                                        report(r, path,
                                               "larger than "
                                               "producer.max_body; skipped");
                                        goto out;
                                }
                                err = replay_document(r, path, &l, &line);
                                goto out;
                        }
                }
                r->st.bytes_done = r->file_base + (uint64_t)gzoffset(l.gz);
                progress(r, false);
                if (too_long) {
                        r->st.records++;
                        report(r, path,
                               "line %lu: longer than %zu bytes; skipped",
                               lineno, r->flim.max_document);
                        continue;
                }
                if (is_blank(s, line.len))
                        continue;
                r->st.records++;
                err = jsonl_line(r, path, lineno, s, line.len);
                if (err)
                        break;
        }
        if (l.failed && !err)
                report(r, path,
                       "read error after line %lu (a damaged gzip "
                       "file?); the rest is skipped",
                       lineno);
out:
        if (l.gz)
                gzclose(l.gz);
        free(l.buf);
        nt_buf_free(&line);
        return err;
}

/* The first bytes of the file's content, decompressed when gzip'd. */
static size_t sniff(FILE *f, unsigned char *buf, size_t size, bool *gz)
{
        unsigned char raw[SNIFF_BYTES];
        size_t n = fread(raw, 1, sizeof(raw), f), got = 0;
        z_stream zs;

        *gz = n >= 2 && raw[0] == 0x1f && raw[1] == 0x8b;
        if (!*gz) {
                memcpy(buf, raw, n < size ? n : size);
                return n < size ? n : size;
        }
        memset(&zs, 0, sizeof(zs));
        if (inflateInit2(&zs, 15 + 32) != Z_OK)
                return 0;
        zs.next_in = raw;
        zs.avail_in = (uInt)n;
        zs.next_out = buf;
        zs.avail_out = (uInt)size;
        inflate(&zs, Z_SYNC_FLUSH);
        got = size - zs.avail_out;
        inflateEnd(&zs);
        return got;
}

static int replay_file(nt_replay_t *r, const char *path)
{
        unsigned char head[64];
        size_t n, i = 0;
        bool gz;
        FILE *f;
        int err = NT_OK;

        /* Standard input cannot be read twice: it is read as a stream of
         * JSON lines or one feed document, as it comes. */
        if (strcmp(path, "-") == 0)
                return replay_stream(r, path);
        f = fopen(path, "rb");
        if (!f) {
                report(r, path, "cannot open: %s", strerror(errno));
                return NT_OK;
        }
        n = sniff(f, head, sizeof(head), &gz);
        if (n >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0)
                i = 3;
        while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' ||
                         head[i] == '\n'))
                i++;
        if (n - i >= 5 && memcmp(head + i, "WARC/", 5) == 0) {
                rewind(f);
                err = replay_warc(r, path, f);
                fclose(f);
                return err;
        }
        fclose(f);
        return replay_stream(r, path);
}

/* ---- --skip-seen: what the topic holds already ---------------------- */

/* The revision of a raw message: its header, else its JSON. */
static bool message_revision(const rd_kafka_message_t *rkm, char *rev,
                             size_t size)
{
        rd_kafka_headers_t *hdrs = NULL;
        const void *v;
        size_t len;
        json_t *obj;
        const char *s;

        if (rd_kafka_message_headers(rkm, &hdrs) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            rd_kafka_header_get_last(hdrs, "revision", &v, &len) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            v && len > 0 && len < size) {
                memcpy(rev, v, len);
                rev[len] = '\0';
                return true;
        }
        if (!rkm->payload)
                return false;
        obj = json_loadb(rkm->payload, rkm->len, 0, NULL);
        s = json_string_value(json_object_get(obj, "revision"));
        if (s && strlen(s) < size)
                snprintf(rev, size, "%s", s);
        json_decref(obj);
        return s != NULL;
}

/* Reads topics.raw from the beginning of every partition to its end
 * (read_committed, no group commits) and remembers every id/revision on
 * it. */
static int read_back(nt_replay_t *r, char *errstr, size_t errstr_size)
{
        static const char *const extra[] = {"enable.auto.commit",
                                            "false",
                                            "isolation.level",
                                            "read_committed",
                                            "enable.partition.eof",
                                            "true",
                                            "auto.offset.reset",
                                            "earliest",
                                            NULL};
        const char *topic = nt_config_str(r->cfg, "topics.raw");
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_topic_t *rkt = NULL;
        rd_kafka_resp_err_t kerr;
        char group[96];
        int64_t last_progress;
        int i, left = 0, err = NT_OK;
        char *at_end = NULL;
        rd_kafka_t *rk;

        /* librdkafka 2.0.2 wants a group.id even for assign(); this one
         * never commits, so it leaves nothing behind. */
        snprintf(group, sizeof(group), "newstap-replay-readback-%ld-%lld",
                 (long)getpid(), (long long)nt_date_mono_ms());
        rk = nt_kafka_consumer_new(r->cfg, group, extra, errstr, errstr_size);
        if (!rk)
                return NT_ERR_KAFKA;
        rkt = rd_kafka_topic_new(rk, topic, NULL);
        kerr = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        if (kerr) {
                err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                              "--skip-seen: metadata of %s: %s", topic,
                              rd_kafka_err2str(kerr));
                goto out;
        }
        if (md->topic_cnt != 1 || md->topics[0].err ||
            md->topics[0].partition_cnt == 0) {
                /* No such topic yet: nothing on it. */
                goto out;
        }
        left = md->topics[0].partition_cnt;
        at_end = calloc((size_t)left, 1);
        parts = rd_kafka_topic_partition_list_new(left);
        if (!at_end || !parts) {
                err = NT_ERR_NOMEM;
                goto out;
        }
        for (i = 0; i < md->topics[0].partition_cnt; i++) {
                int32_t id = md->topics[0].partitions[i].id;
                int64_t lo = 0, hi = 0;

                if (id < 0 || id >= md->topics[0].partition_cnt) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                                      "--skip-seen: odd partition ids on %s",
                                      topic);
                        goto out;
                }
                /* An empty partition may never report its end. */
                if (rd_kafka_query_watermark_offsets(rk, topic, id, &lo, &hi,
                                                     10000) ==
                        RD_KAFKA_RESP_ERR_NO_ERROR &&
                    lo >= hi) {
                        at_end[id] = 1;
                        left--;
                        continue;
                }
                rd_kafka_topic_partition_list_add(parts, topic, id)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        }
        if (left == 0)
                goto out;
        kerr = rd_kafka_assign(rk, parts);
        if (kerr) {
                err =
                    nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                            "--skip-seen: assign: %s", rd_kafka_err2str(kerr));
                goto out;
        }
        last_progress = nt_date_mono_ms();
        while (left > 0 && nt_sig_running()) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);

                if (!rkm) {
                        if (nt_date_mono_ms() - last_progress >
                            READBACK_STALL_MS) {
                                err = nt_errf(
                                    errstr, errstr_size, NT_ERR_TIMEOUT,
                                    "--skip-seen: reading %s back made no "
                                    "progress for %d s",
                                    topic, READBACK_STALL_MS / 1000);
                                goto out;
                        }
                        continue;
                }
                last_progress = nt_date_mono_ms();
                if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        if (rkm->partition >= 0 &&
                            rkm->partition < md->topics[0].partition_cnt &&
                            !at_end[rkm->partition]) {
                                at_end[rkm->partition] = 1;
                                left--;
                        }
                } else if (rkm->err) {
                        NT_WARN("replay", "--skip-seen: reading %s: %s", topic,
                                rd_kafka_message_errstr(rkm));
                } else if (rkm->key && rkm->key_len > 0 && rkm->key_len < 64) {
                        char id[64], rev[64];
                        bool was;

                        memcpy(id, rkm->key, rkm->key_len);
                        id[rkm->key_len] = '\0';
                        if (message_revision(rkm, rev, sizeof(rev)) &&
                            seen_add(&r->seen, id, rev, &was) == NT_OK && !was)
                                r->st.on_topic++;
                }
                rd_kafka_message_destroy(rkm);
                progress(r, false);
        }
        if (left > 0)
                err = NT_ERR_STOPPED;
out:
        free(at_end);
        if (parts)
                rd_kafka_topic_partition_list_destroy(parts);
        if (md)
                rd_kafka_metadata_destroy(md);
        if (rkt)
                rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return err;
}

/* ---- The run -------------------------------------------------------- */

/* --timestamp published: the raw topic's retention.ms, so that records
 * the broker would delete at once can be counted and named. Not knowing
 * it (an ACL, an old broker) is said and is no reason to stop. */
static void topic_retention(nt_replay_t *r)
{
        const char *topic = nt_config_str(r->cfg, "topics.raw");
        char value[64], errstr[512];
        int64_t ms;

        if (nt_kafka_topic_config(nt_publisher_handle(r->pub), topic,
                                  "retention.ms", value, sizeof(value), 10000,
                                  errstr, sizeof(errstr)) != NT_OK) {
                NT_WARN("replay",
                        "cannot read the retention.ms of %s (%s): records "
                        "stamped with old published times may be deleted "
                        "at the broker's next retention check",
                        topic, errstr);
                return;
        }
        if (nt_num_parse_i64(value, -1, INT64_MAX, &ms) == NT_OK && ms > 0)
                r->st.retention_ms = ms;
}

int nt_replay_run(nt_replay_t *r, const char *const *paths, size_t n_paths,
                  char *errstr, size_t errstr_size)
{
        char msg[512];
        size_t i;
        int err = NT_OK;
        int64_t flush_ms;

        r->st.started_ms = nt_date_mono_ms();
        for (i = 0; i < n_paths && !err; i++)
                err = add_input(r, paths[i]);
        if (err == NT_ERR_LIMIT)
                return nt_errf(errstr, errstr_size, err,
                               "more than %zu input files", MAX_FILES);
        if (err)
                return nt_errf(errstr, errstr_size, err, "out of memory");
        if (r->stop_reading && r->o.strict)
                return NT_ERR_PARSE;
        r->pub = nt_publisher_new(
            r->cfg, nt_config_str(r->cfg, "topics.raw"),
            (size_t)nt_config_int(r->cfg, "producer.max_inflight"), on_confirm,
            r, errstr, errstr_size);
        if (!r->pub)
                return NT_ERR_KAFKA;
        r->st.retention_ms = -1;
        if (r->o.stamp_published)
                topic_retention(r);
        if (r->o.skip_seen) {
                err = read_back(r, msg, sizeof(msg));
                if (err) {
                        set_fatal(r, err, msg);
                        goto flush;
                }
        }
        for (i = 0; i < r->n_files && !stopping(r); i++) {
                r->file_base = r->st.bytes_done;
                err = replay_file(r, r->files[i]);
                r->st.files_done++;
                r->st.bytes_done = r->file_base + r->sizes[i];
                progress(r, false);
                if (err && err != NT_ERR_STOPPED) {
                        set_fatal(r, err,
                                  err == NT_ERR_NOMEM ? "out of memory"
                                                      : "cannot go on");
                        break;
                }
        }
        if (r->o.speed > 0 && !r->fatal && !stopping(r)) {
                err = send_queue(r);
                if (err && err != NT_ERR_STOPPED)
                        set_fatal(r, err, "out of memory");
        }
flush:
        /* Everything accepted must be confirmed before the end, within
         * the producer's shutdown bound. */
        flush_ms = nt_config_ms(r->cfg, "producer.shutdown_timeout");
        r->st.unconfirmed = nt_publisher_destroy(r->pub, (int)flush_ms);
        r->pub = NULL;
        progress(r, true);
        if (r->fatal)
                return nt_errf(errstr, errstr_size, r->fatal, "%s",
                               r->fatal_msg);
        if (r->st.unconfirmed > 0)
                return nt_errf(errstr, errstr_size, NT_ERR_TIMEOUT,
                               "%llu article(s) were not confirmed by the "
                               "broker within %lld ms",
                               (unsigned long long)r->st.unconfirmed,
                               (long long)flush_ms);
        if (!nt_sig_running())
                return nt_errf(errstr, errstr_size, NT_ERR_STOPPED,
                               "interrupted");
        if (r->st.errors > 0)
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "%llu file(s) or record(s) skipped",
                               (unsigned long long)r->st.errors);
        if (r->st.refused > 0)
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "%llu article(s) refused by the broker",
                               (unsigned long long)r->st.refused);
        return NT_OK;
}
