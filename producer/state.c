/* syncfs() is a GNU extension of glibc: one sync for a whole batch of
 * state files (see nt_state_save_many). */
#define _GNU_SOURCE
#include "producer/state.h"
#include "common/err.h"
#include "common/num.h"

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

#define STATE_SCHEMA        "newstap.feed-state/1"
#define STATE_SCHEMA_PACKED "newstap.feed-state/2"

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

/* True when every member of `seen` is an [revision, time] pair. */
static int valid_seen(json_t *seen)
{
        const char *id;
        json_t *v;

        if (!json_is_object(seen))
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

/* The schema version of a state object for `key`: 1 or 2 (the seen-set
 * of /2 is checked when it is unpacked), 0 when it is not one. */
static int version_of(json_t *root, const char *key)
{
        const char *schema = json_string_value(json_object_get(root, "schema"));
        const char *k = json_string_value(json_object_get(root, "key"));
        json_t *other;

        if (!json_is_object(root) || !schema || !k || strcmp(k, key) != 0)
                return 0;
        if (strcmp(schema, STATE_SCHEMA) == 0)
                return valid_seen(json_object_get(root, "seen")) ? 1 : 0;
        if (strcmp(schema, STATE_SCHEMA_PACKED) != 0 ||
            !json_is_string(json_object_get(root, "seen")))
                return 0;
        other = json_object_get(root, "seen_other");
        return !other || valid_seen(other) ? 2 : 0;
}

/* ---- The packed seen-set of newstap.feed-state/2 ----
 *
 * The seen-set is most of a state (70 bytes an entry as /1's JSON, a
 * record sent with every transaction of produce --group), and its ids
 * and revisions are hashes written in hex: packed, an entry is the id's
 * 16 bytes, the revision's 8 and the time as the unsigned LEB128 of its
 * distance from the previous entry's (entries in the order of their
 * times; the first from 0), about 27 bytes, 36 as base64 text. Nothing
 * is lost: an entry whose id is not 32 lower-case hex digits, whose
 * revision is not 16, or whose time is negative stays in "seen_other"
 * as in /1. Base64 (RFC 4648, padded) keeps the record JSON. */

#define PACKED_ID    16
#define PACKED_REV   8
#define PACKED_ENTRY (PACKED_ID + PACKED_REV)
#define LEB128_MAX   10 /* bytes of a 64-bit value at most */

static const char b64_digits[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* n bytes as padded base64 into out (room for 4 * ((n + 2) / 3) + 1). */
static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
        size_t i, o = 0;

        for (i = 0; i + 2 < n; i += 3) {
                uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
                             in[i + 2];
                out[o++] = b64_digits[v >> 18];
                out[o++] = b64_digits[(v >> 12) & 63];
                out[o++] = b64_digits[(v >> 6) & 63];
                out[o++] = b64_digits[v & 63];
        }
        if (i < n) {
                uint32_t v = (uint32_t)in[i] << 16 |
                             (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
                out[o++] = b64_digits[v >> 18];
                out[o++] = b64_digits[(v >> 12) & 63];
                out[o++] = i + 1 < n ? b64_digits[(v >> 6) & 63] : '=';
                out[o++] = '=';
        }
        out[o] = '\0';
        return o;
}

static int b64_value(char c)
{
        const char *at = c ? strchr(b64_digits, c) : NULL;

        return at ? (int)(at - b64_digits) : -1;
}

/* Strict padded base64 (no white space, no bits after the last byte)
 * into out (room for len / 4 * 3); -1 when it is not. */
static ssize_t b64_decode(const char *in, size_t len, unsigned char *out)
{
        size_t i, o = 0;

        if (len % 4 != 0)
                return -1;
        for (i = 0; i < len; i += 4) {
                int a = b64_value(in[i]), b = b64_value(in[i + 1]);
                int pad = (in[i + 3] == '=') + (in[i + 2] == '=');
                int c = pad >= 2 ? 0 : b64_value(in[i + 2]);
                int d = pad >= 1 ? 0 : b64_value(in[i + 3]);
                uint32_t v;

                if (a < 0 || b < 0 || c < 0 || d < 0 || (pad && i + 4 != len) ||
                    (pad == 2 && in[i + 3] != '='))
                        return -1;
                v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 |
                    (uint32_t)d;
                if ((pad == 1 && (v & 0xff)) || (pad == 2 && (v & 0xffff)))
                        return -1; /* bits past the last byte */
                out[o++] = (unsigned char)(v >> 16);
                if (pad < 2)
                        out[o++] = (unsigned char)(v >> 8);
                if (pad < 1)
                        out[o++] = (unsigned char)v;
        }
        return (ssize_t)o;
}

/* Exactly 2 * n lower-case hex digits into n bytes; false otherwise
 * (upper case would not come back the same). */
static bool unhex(const char *s, unsigned char *out, size_t n)
{
        size_t i;

        if (strlen(s) != 2 * n || strspn(s, "0123456789abcdef") != 2 * n)
                return false;
        for (i = 0; i < n; i++)
                out[i] =
                    (unsigned char)(nt_num_hex_digit((unsigned char)s[2 * i])
                                        << 4 |
                                    nt_num_hex_digit(
                                        (unsigned char)s[2 * i + 1]));
        return true;
}

struct packed_entry {
        unsigned char bytes[PACKED_ENTRY];
        int64_t at;
};

static int by_time(const void *a, const void *b)
{
        const struct packed_entry *x = a, *y = b;

        return (x->at > y->at) - (x->at < y->at);
}

/* Packs `seen` into root's "seen" (base64 text) and, for the entries
 * that do not pack, "seen_other". NT_ERR_NOMEM. */
static int pack_seen(json_t *root, json_t *seen)
{
        size_t n = json_object_size(seen), k = 0, len = 0, i;
        struct packed_entry *e = calloc(n ? n : 1, sizeof(*e));
        unsigned char *buf = calloc(n ? n : 1, PACKED_ENTRY + LEB128_MAX);
        char *text = NULL;
        json_t *other = json_object(), *v;
        const char *id;
        int64_t prev = 0;
        int err = NT_ERR_NOMEM;

        if (!e || !buf || !other)
                goto out;
        json_object_foreach(seen, id, v)
        {
                const char *rev = json_string_value(json_array_get(v, 0));
                int64_t at = json_integer_value(json_array_get(v, 1));

                if (rev && at >= 0 && unhex(id, e[k].bytes, PACKED_ID) &&
                    unhex(rev, e[k].bytes + PACKED_ID, PACKED_REV)) {
                        e[k++].at = at;
                } else if (json_object_set(other, id, v) != 0) {
                        goto out;
                }
        }
        qsort(e, k, sizeof(*e), by_time);
        for (i = 0; i < k; i++) {
                uint64_t d = (uint64_t)(e[i].at - prev);

                memcpy(buf + len, e[i].bytes, PACKED_ENTRY);
                len += PACKED_ENTRY;
                do {
                        buf[len++] =
                            (unsigned char)((d & 127) | (d > 127 ? 128 : 0));
                        d >>= 7;
                } while (d);
                prev = e[i].at;
        }
        text = malloc(4 * ((len + 2) / 3) + 1);
        if (!text)
                goto out;
        len = b64_encode(buf, len, text);
        if (json_object_set_new(root, "seen", json_stringn(text, len)) != 0 ||
            (json_object_size(other) &&
             json_object_set(root, "seen_other", other) != 0))
                goto out;
        err = NT_OK;
out:
        free(text);
        free(buf);
        free(e);
        json_decref(other);
        return err;
}

/* The seen-set of a /2 state (packed text and seen_other) as a /1
 * object; NULL when the text is not a packed seen-set or an id comes
 * twice. */
static json_t *unpack_seen(json_t *root)
{
        const char *text = json_string_value(json_object_get(root, "seen"));
        size_t tlen = json_string_length(json_object_get(root, "seen"));
        json_t *other = json_object_get(root, "seen_other"), *seen, *v;
        unsigned char *buf = malloc(tlen / 4 * 3 + 1);
        ssize_t len = buf ? b64_decode(text, tlen, buf) : -1;
        size_t at = 0;
        int64_t t = 0;
        const char *id;

        seen = len >= 0 ? json_object() : NULL;
        while (seen && at < (size_t)len) {
                char hid[2 * PACKED_ID + 1], hrev[2 * PACKED_REV + 1];
                uint64_t d = 0;
                int shift = 0;

                if ((size_t)len - at < PACKED_ENTRY + 1)
                        goto bad;
                nt_num_hex(buf + at, PACKED_ID, hid);
                nt_num_hex(buf + at + PACKED_ID, PACKED_REV, hrev);
                at += PACKED_ENTRY;
                for (;;) {
                        unsigned char b;

                        if (at == (size_t)len || shift > 63)
                                goto bad;
                        b = buf[at++];
                        if (shift == 63 && b > 1)
                                goto bad; /* past 64 bits */
                        d |= (uint64_t)(b & 127) << shift;
                        shift += 7;
                        if (!(b & 128))
                                break;
                }
                if (d > (uint64_t)(INT64_MAX - t))
                        goto bad;
                t += (int64_t)d;
                if (json_object_get(seen, hid) ||
                    json_object_set_new(
                        seen, hid, json_pack("[s, I]", hrev, (json_int_t)t)) !=
                        0)
                        goto bad;
        }
        json_object_foreach(other, id, v)
        {
                if (!seen || json_object_get(seen, id) ||
                    json_object_set(seen, id, v) != 0)
                        goto bad;
        }
        free(buf);
        return seen;
bad:
        free(buf);
        json_decref(seen);
        return NULL;
}

int nt_state_from_json(const json_t *root, const char *key,
                       struct nt_feed_state *st)
{
        json_t *r = (json_t *)root; /* jansson's getters take no const */
        json_t *seen;
        int version = version_of(r, key);

        if (version == 0)
                return NT_ERR_PARSE;
        seen = version == 2 ? unpack_seen(r)
                            : json_incref(json_object_get(r, "seen"));
        if (!seen)
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
        st->seen = seen;
        return NT_OK;
}

static int load(const char *dir, const char *key, struct nt_feed_state *st,
                bool move_aside, char *errstr, size_t errstr_size)
{
        char path[4096], aside[4200];
        json_error_t jerr;
        json_t *root;
        bool ok;

        nt_state_path(dir, key, path, sizeof(path));
        if (access(path, F_OK) != 0 && errno == ENOENT)
                return NT_ERR_NOTFOUND;
        root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
        /* Read into st only when it is a state of this key (st is left
         * as it was otherwise). */
        ok = root && nt_state_from_json(root, key, st) == NT_OK;
        if (!ok && !move_aside) {
                json_decref(root);
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "state file %s is corrupt (%s)", path,
                               root ? "unexpected content" : jerr.text);
        }
        if (!ok) {
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

/* Sets `name` to the string s unless it is NULL. */
static int set_str(json_t *root, const char *name, const char *s)
{
        return s ? json_object_set_new(root, name, json_string(s)) : 0;
}

json_t *nt_state_to_json_packed(const char *key, const struct nt_feed_state *st)
{
        json_t *root =
            json_pack("{s:s, s:s}", "schema", STATE_SCHEMA_PACKED, "key", key);

        /* Members at their default (NULL, 0, false) are left out: a
         * reader takes a missing member for its default, as in /1. */
        if (!root || set_str(root, "url", st->url) ||
            set_str(root, "etag", st->etag) ||
            set_str(root, "last_modified", st->last_modified) ||
            (st->failures && json_object_set_new(root, "failures",
                                                 json_integer(st->failures))) ||
            (st->next_poll_ms &&
             json_object_set_new(root, "next_poll",
                                 json_integer(st->next_poll_ms))) ||
            (st->last_success_ms &&
             json_object_set_new(root, "last_success",
                                 json_integer(st->last_success_ms))) ||
            (st->disabled &&
             json_object_set_new(root, "disabled", json_true())) ||
            set_str(root, "last_error", st->last_error) ||
            pack_seen(root, st->seen) != NT_OK) {
                json_decref(root);
                return NULL;
        }
        return root;
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
