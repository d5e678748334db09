/* Replaying archives onto topics.raw: the inputs (files, directories,
 * patterns, standard input), the --from/--until window, de-duplication,
 * pacing (--rate, --speed) and publishing with the publisher's
 * confirmations. The formats are read in producer/replay_read.c. */
#include "producer/replay_internal.h"

void nt_replay_opts_init(struct nt_replay_opts *o)
{
        memset(o, 0, sizeof(*o));
        o->max_gap_ms = -1;
        o->from_ms = INT64_MIN;
        o->until_ms = INT64_MAX;
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
        nt_rp_seen_free(&r->seen);
        free(r);
}

void nt_replay_stats(const nt_replay_t *r, struct nt_replay_stats *st)
{
        *st = r->st;
}

/* One skipped file or record: counted, handed to the callback, and with
 * --strict the end of reading. */
void nt_rp_report(nt_replay_t *r, const char *path, const char *fmt, ...)
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

void nt_rp_progress(nt_replay_t *r, bool force)
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
                /* Two arrays in step: the shared capacity moves once
                 * both have grown. */
                size_t cap = r->cap_files, cap_sizes = r->cap_files;

                if (nt_array_grow(&r->files, &cap, r->n_files + 1,
                                  sizeof(*r->files)) ||
                    nt_array_grow(&r->sizes, &cap_sizes, r->n_files + 1,
                                  sizeof(*r->sizes)))
                        return NT_ERR_NOMEM;
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
                nt_rp_report(r, path,
                             "directories nested deeper than %d: not "
                             "followed",
                             MAX_DEPTH);
                return NT_OK;
        }
        d = opendir(path);
        if (!d) {
                nt_rp_report(r, path, "cannot open the directory: %s",
                             strerror(errno));
                return NT_OK;
        }
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                if (nt_array_grow(&names, &cap, n + 1, sizeof(*names))) {
                        err = NT_ERR_NOMEM;
                        goto out;
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
                        nt_rp_report(r, path, "a path below it is too long");
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
                nt_rp_report(r, path, "%s", strerror(errno));
                return NT_OK;
        }
        if (S_ISDIR(st.st_mode))
                return add_dir(r, path, depth);
        if (!S_ISREG(st.st_mode)) {
                nt_rp_report(r, path, "not a regular file or a directory");
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
                nt_rp_report(r, path, "no file matches the pattern");
        } else if (rc != 0) {
                nt_rp_report(r, path, "cannot expand the pattern");
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
                nt_rp_progress(r, false);
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
bool nt_rp_stopping(nt_replay_t *r)
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
 * published. Waits while the publisher is full. The value (its line,
 * from malloc) is handed to the publisher, not copied: it is taken in
 * every case, sent or freed. */
static int send_one(nt_replay_t *r, const char *id, const char *revision,
                    const char *feed_url, int64_t published, char *value,
                    size_t len)
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
        while ((err = nt_publisher_send_owned(r->pub, &meta, value, len)) ==
                   NT_ERR_LIMIT &&
               nt_sig_running()) {
                nt_publisher_poll(r->pub, 100);
                nt_rp_progress(r, false);
        }
        if (err != NT_OK)
                free(value); /* not taken */
        if (err == NT_ERR_LIMIT)
                return NT_ERR_STOPPED;
        if (err == NT_OK) {
                r->st.queued++;
                if (++r->since_poll >= POLL_EVERY) {
                        r->since_poll = 0;
                        nt_publisher_poll(r->pub, 0);
                }
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
                   const char *feed_url, char *value, size_t len)
{
        struct item *it;

        if (r->queued_bytes + len > MAX_QUEUED_BYTES) {
                free(value);
                set_fatal(r, NT_ERR_LIMIT,
                          "--speed orders the whole archive by time in "
                          "memory, and it holds more than 512 MiB of "
                          "articles: replay it in parts (or use --rate)");
                return NT_ERR_LIMIT;
        }
        if (nt_array_grow(&r->queue, &r->cap_queue, r->n_queue + 1,
                          sizeof(*r->queue))) {
                free(value);
                return NT_ERR_NOMEM;
        }
        it = &r->queue[r->n_queue];
        memset(it, 0, sizeof(*it));
        it->t = pacing_time(art);
        it->published = art->published;
        it->seq = r->n_queue;
        memcpy(it->id, art->id, sizeof(it->id));
        memcpy(it->revision, art->revision, sizeof(it->revision));
        it->value = value;
        it->value_len = len;
        it->feed_url = strdup(feed_url ? feed_url : "");
        if (!it->feed_url) {
                free(value);
                return NT_ERR_NOMEM;
        }
        r->queued_bytes += len;
        r->n_queue++;
        return NT_OK;
}

int nt_rp_emit(nt_replay_t *r, const struct nt_article *art,
               const char *feed_url)
{
        char *value;
        size_t len;
        bool was;
        int err;

        if (nt_rp_stopping(r))
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
        err = nt_rp_seen_add(&r->seen, art->id, art->revision, &was);
        if (err)
                return err;
        if (was) {
                r->st.duplicates++;
                return NT_OK;
        }
        value = nt_article_to_json_line_len(art, &len);
        if (!value)
                return NT_ERR_NOMEM;
        if (r->o.speed > 0)
                return enqueue(r, art, feed_url, value, len);
        pace(r, pacing_time(art));
        if (nt_rp_stopping(r)) {
                /* The signal came while the article waited for its turn:
                 * it is not sent. */
                free(value);
                return NT_OK;
        }
        return send_one(r, art->id, art->revision, feed_url, art->published,
                        value, len);
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
        for (i = 0; i < r->n_queue && !nt_rp_stopping(r); i++) {
                struct item *it = &r->queue[i];

                pace(r, it->t);
                if (nt_rp_stopping(r))
                        break;
                /* Paced by the updated time when there is no published
                 * one, but stamped as without --speed: the time of
                 * writing, or the published time with --timestamp
                 * published. */
                err = send_one(r, it->id, it->revision, it->feed_url,
                               it->published, it->value, it->value_len);
                it->value = NULL; /* taken by send_one() */
                if (err)
                        break;
                nt_rp_progress(r, false);
        }
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
                err = nt_rp_read_back(r, msg, sizeof(msg));
                if (err) {
                        set_fatal(r, err, msg);
                        goto flush;
                }
        }
        for (i = 0; i < r->n_files && !nt_rp_stopping(r); i++) {
                r->file_base = r->st.bytes_done;
                err = nt_rp_replay_file(r, r->files[i]);
                r->st.files_done++;
                r->st.bytes_done = r->file_base + r->sizes[i];
                nt_rp_progress(r, false);
                if (err && err != NT_ERR_STOPPED) {
                        set_fatal(r, err,
                                  err == NT_ERR_NOMEM ? "out of memory"
                                                      : "cannot go on");
                        break;
                }
        }
        if (r->o.speed > 0 && !r->fatal && !nt_rp_stopping(r)) {
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
        nt_rp_progress(r, true);
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
