/* syncfs() is a GNU extension of glibc: one sync for a whole batch of
 * state files (see nt_state_save_many). */
#define _GNU_SOURCE
#include "producer/state.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define STATE_SCHEMA "newstap.feed-state/1"

int nt_state_init(struct nt_feed_state *st)
{
        memset(st, 0, sizeof(*st));
        st->seen = json_object();
        return st->seen ? NT_OK : NT_ERR_NOMEM;
}

void nt_state_free(struct nt_feed_state *st)
{
        if (!st)
                return;
        free(st->url);
        free(st->etag);
        free(st->last_modified);
        free(st->last_error);
        json_decref(st->seen);
        memset(st, 0, sizeof(*st));
}

int nt_state_mkdir(const char *dir, char *errstr, size_t errstr_size)
{
        if (mkdir(dir, 0700) != 0 && errno != EEXIST)
                return nt_errf(errstr, errstr_size, NT_ERR_IO,
                               "cannot create state directory %s: %s", dir,
                               strerror(errno));
        return NT_OK;
}

int nt_state_lock(const char *dir, char *errstr, size_t errstr_size)
{
        char path[4096], pid[32] = "";
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "%s/.lock", dir);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0) {
                nt_errf(errstr, errstr_size, NT_ERR_IO, "cannot open %s: %s",
                        path, strerror(errno));
                return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
                int e = errno;

                n = pread(fd, pid, sizeof(pid) - 1, 0);
                pid[n > 0 ? n : 0] = '\0';
                pid[strcspn(pid, "\n")] = '\0';
                if (e == EWOULDBLOCK)
                        nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                                "state directory %s is in use by another "
                                "newstap produce%s%s%s; give each producer "
                                "its own producer.state_dir",
                                dir, *pid ? " (pid " : "", pid,
                                *pid ? ")" : "");
                else
                        nt_errf(errstr, errstr_size, NT_ERR_IO,
                                "cannot lock %s: %s", path, strerror(e));
                close(fd);
                return -1;
        }
        n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
                /* The pid is only for the message; the lock holds. */
        }
        return fd;
}

void nt_state_unlock(int fd)
{
        if (fd >= 0)
                close(fd);
}

void nt_state_path(const char *dir, const char *key, char *buf, size_t size)
{
        snprintf(buf, size, "%s/feed-%016llx.json", dir,
                 (unsigned long long)XXH3_64bits(key, strlen(key)));
}

static char *dup_str(json_t *obj, const char *name)
{
        const char *s = json_string_value(json_object_get(obj, name));

        return s ? strdup(s) : NULL;
}

/* Checks the shape of a loaded state; the seen-set's entries must be
 * [revision, time] pairs. */
static int valid(json_t *root, const char *key)
{
        const char *id;
        json_t *v, *seen = json_object_get(root, "seen");

        if (!json_is_object(root) ||
            !json_is_string(json_object_get(root, "schema")) ||
            strcmp(json_string_value(json_object_get(root, "schema")),
                   STATE_SCHEMA) != 0 ||
            !json_is_string(json_object_get(root, "key")) ||
            strcmp(json_string_value(json_object_get(root, "key")), key) != 0 ||
            !json_is_object(seen))
                return 0;
        json_object_foreach(seen, id, v)
        {
                if (!json_is_array(v) || json_array_size(v) != 2 ||
                    !json_is_string(json_array_get(v, 0)) ||
                    !json_is_integer(json_array_get(v, 1)))
                        return 0;
        }
        return 1;
}

int nt_state_from_json(const json_t *root, const char *key,
                       struct nt_feed_state *st)
{
        json_t *r = (json_t *)root; /* jansson's getters take no const */

        if (!valid(r, key))
                return NT_ERR_PARSE;
        free(st->url);
        free(st->etag);
        free(st->last_modified);
        free(st->last_error);
        st->url = dup_str(r, "url");
        st->etag = dup_str(r, "etag");
        st->last_modified = dup_str(r, "last_modified");
        st->last_error = dup_str(r, "last_error");
        st->failures = (int)json_integer_value(json_object_get(r, "failures"));
        st->next_poll_ms = json_integer_value(json_object_get(r, "next_poll"));
        st->last_success_ms =
            json_integer_value(json_object_get(r, "last_success"));
        st->disabled = json_is_true(json_object_get(r, "disabled"));
        json_decref(st->seen);
        st->seen = json_incref(json_object_get(r, "seen"));
        return NT_OK;
}

static int load(const char *dir, const char *key, struct nt_feed_state *st,
                bool move_aside, char *errstr, size_t errstr_size)
{
        char path[4096], aside[4200];
        json_error_t jerr;
        json_t *root;

        nt_state_path(dir, key, path, sizeof(path));
        if (access(path, F_OK) != 0 && errno == ENOENT)
                return NT_ERR_NOTFOUND;
        root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
        if ((!root || !valid(root, key)) && !move_aside) {
                json_decref(root);
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "state file %s is corrupt (%s)", path,
                               root ? "unexpected content" : jerr.text);
        }
        if (!root || !valid(root, key)) {
                snprintf(aside, sizeof(aside), "%s.corrupt-%lld", path,
                         (long long)time(NULL));
                if (rename(path, aside) != 0)
                        snprintf(aside, sizeof(aside), "(could not move: %s)",
                                 strerror(errno));
                json_decref(root);
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "state file %s is corrupt (%s); moved to %s, "
                               "the feed starts fresh",
                               path, root ? "unexpected content" : jerr.text,
                               aside);
        }
        nt_state_from_json(root, key, st);
        json_decref(root);
        return NT_OK;
}

int nt_state_load(const char *dir, const char *key, struct nt_feed_state *st,
                  char *errstr, size_t errstr_size)
{
        return load(dir, key, st, true, errstr, errstr_size);
}

int nt_state_peek(const char *dir, const char *key, struct nt_feed_state *st,
                  char *errstr, size_t errstr_size)
{
        return load(dir, key, st, false, errstr, errstr_size);
}

static json_t *str_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

json_t *nt_state_to_json(const char *key, const struct nt_feed_state *st)
{
        return json_pack(
            "{s:s, s:s, s:o, s:o, s:o, s:i, s:I, s:I, s:b, s:o, s:O}", "schema",
            STATE_SCHEMA, "key", key, "url", str_or_null(st->url), "etag",
            str_or_null(st->etag), "last_modified",
            str_or_null(st->last_modified), "failures", st->failures,
            "next_poll", (json_int_t)st->next_poll_ms, "last_success",
            (json_int_t)st->last_success_ms, "disabled", st->disabled,
            "last_error", str_or_null(st->last_error), "seen", st->seen);
}

/* Writes one state to its temporary file, without syncing. */
static int write_tmp(const char *dir, const char *key,
                     const struct nt_feed_state *st, char *tmp, size_t tmp_size,
                     char *errstr, size_t errstr_size)
{
        char path[4096];
        json_t *root;
        int fd, err = NT_OK;
        FILE *f;

        nt_state_path(dir, key, path, sizeof(path));
        snprintf(tmp, tmp_size, "%s.tmp-%ld", path, (long)getpid());
        root = nt_state_to_json(key, st);
        if (!root)
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory saving %s", path);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!f) {
                err = nt_errf(errstr, errstr_size, NT_ERR_IO,
                              "cannot write %s: %s", tmp, strerror(errno));
                if (fd >= 0)
                        close(fd);
                goto out;
        }
        if (json_dumpf(root, f, JSON_COMPACT) != 0 || fclose(f) != 0) {
                err = nt_errf(errstr, errstr_size, NT_ERR_IO,
                              "cannot write %s: %s", tmp, strerror(errno));
                unlink(tmp);
        }
out:
        json_decref(root);
        return err;
}

/* Makes the written temporary files durable: one syncfs() for all of
 * them where Linux has it, else one fsync() each. */
static int sync_files(const char *dir, char **tmps, size_t n)
{
#ifdef __linux__
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

        (void)tmps;
        (void)n;
        if (fd < 0)
                return -1;
        rc = syncfs(fd);
        close(fd);
        return rc;
#else
        size_t i;

        (void)dir;
        for (i = 0; i < n; i++) {
                int fd = tmps[i] ? open(tmps[i], O_RDONLY | O_CLOEXEC) : -1;
                if (fd < 0)
                        continue;
                if (fsync(fd) != 0) {
                        close(fd);
                        return -1;
                }
                close(fd);
        }
        return 0;
#endif
}

int nt_state_save_many(const char *dir, const char *const *keys,
                       const struct nt_feed_state *const *states, size_t n,
                       char *errstr, size_t errstr_size)
{
        char **tmps = calloc(n ? n : 1, sizeof(*tmps));
        char tmp[4200], path[4096];
        size_t i;
        int fd, err = NT_OK;

        if (!tmps)
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory");
        for (i = 0; i < n; i++) {
                int e = write_tmp(dir, keys[i], states[i], tmp, sizeof(tmp),
                                  errstr, errstr_size);
                if (e) {
                        err = e; /* the others are still saved */
                        continue;
                }
                tmps[i] = strdup(tmp);
        }
        /* Every file must be complete on disk before any replaces its old
         * version: a crash leaves each state either old or new, never
         * half-written. One sync for the batch: a sync costs about as
         * much as ten milliseconds, so one per feed would cap a producer
         * at a hundred feeds a second. */
        if (sync_files(dir, tmps, n) != 0) {
                err = nt_errf(errstr, errstr_size, NT_ERR_IO,
                              "cannot sync %s: %s", dir, strerror(errno));
                for (i = 0; i < n; i++)
                        if (tmps[i])
                                unlink(tmps[i]);
                goto out;
        }
        for (i = 0; i < n; i++) {
                if (!tmps[i])
                        continue;
                nt_state_path(dir, keys[i], path, sizeof(path));
                if (rename(tmps[i], path) != 0) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_IO,
                                      "cannot replace %s: %s", path,
                                      strerror(errno));
                        unlink(tmps[i]);
                }
        }
        /* The renames are durable once the directory is synced. */
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
                fsync(fd);
                close(fd);
        }
out:
        for (i = 0; i < n; i++)
                free(tmps[i]);
        free(tmps);
        return err;
}

int nt_state_save(const char *dir, const char *key,
                  const struct nt_feed_state *st, char *errstr,
                  size_t errstr_size)
{
        return nt_state_save_many(dir, &key, &st, 1, errstr, errstr_size);
}

bool nt_state_seen(const struct nt_feed_state *st, const char *id,
                   const char *revision)
{
        json_t *v = json_object_get(st->seen, id);
        const char *rev = json_string_value(json_array_get(v, 0));

        return rev && strcmp(rev, revision) == 0;
}

int nt_state_mark_seen(struct nt_feed_state *st, const char *id,
                       const char *revision, int64_t now_ms)
{
        json_t *v = json_pack("[s, I]", revision, (json_int_t)now_ms);

        if (!v || json_object_set_new(st->seen, id, v) != 0)
                return NT_ERR_NOMEM;
        return NT_OK;
}

struct seen_age {
        const char *id;
        int64_t at;
};

static int by_age(const void *a, const void *b)
{
        const struct seen_age *x = a, *y = b;

        return (x->at > y->at) - (x->at < y->at);
}

size_t nt_state_prune(struct nt_feed_state *st, size_t max_count,
                      int64_t max_age_ms, int64_t now_ms)
{
        size_t n = json_object_size(st->seen), i = 0, drop, dropped = 0;
        struct seen_age *ages;
        const char *id;
        json_t *v;

        if (n == 0)
                return 0;
        ages = calloc(n, sizeof(*ages));
        if (!ages)
                return 0; /* pruning can wait for memory */
        json_object_foreach(st->seen, id, v)
        {
                ages[i].id = id;
                ages[i].at = json_integer_value(json_array_get(v, 1));
                i++;
        }
        qsort(ages, n, sizeof(*ages), by_age);
        drop = n > max_count ? n - max_count : 0;
        for (i = 0; i < n; i++) {
                if (i >= drop && now_ms - ages[i].at <= max_age_ms)
                        break;
        }
        drop = i;
        /* Keys are borrowed from the object: delete after collecting. */
        for (i = 0; i < drop; i++) {
                char *key = strdup(ages[i].id);
                if (key && json_object_del(st->seen, key) == 0)
                        dropped++;
                free(key);
        }
        free(ages);
        return dropped;
}
