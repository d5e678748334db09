#include "producer/warc.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/num.h"

#include <zlib.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Read sizes: big enough for few system calls, small enough to keep a
 * reader cheap. */
#define IN_SIZE  ((size_t)64 * 1024)
#define OUT_SIZE ((size_t)64 * 1024)
/* Resynchronising looks only at the start of each line. */
#define SCAN_LINE_MAX ((size_t)64)
/* A version line is short; more is not a WARC record. */
#define VERSION_LINE_MAX ((size_t)64)

/* What a byte request met: data, the end of the current gzip member
 * while a record is confined to it, the end of the file, or a fatal
 * error of the stream. */
enum { GOT_DATA = 1, GOT_END = 0, GOT_FATAL = -1 };

struct nt_warc {
        FILE *f;
        struct nt_warc_limits lim;
        bool gz;
        bool seekable; /* plain regular file: fseeko works */
        bool dead;     /* a fatal error ended the stream */
        bool done;     /* the end of the file was reached */
        unsigned long number;
        char fatal[256];

        /* gzip input */
        z_stream zs;
        bool zs_ready;
        unsigned char *in;
        uint64_t in_base; /* file offset of in[0] */
        size_t in_len;
        bool in_eof;
        uint64_t member_start; /* file offset of the current member */
        bool member_done;      /* inflate reached the member's end */
        bool member_fresh;     /* nothing of the member consumed yet */
        bool confine;          /* the record must end within its member */

        /* Decompressed bytes, or for a plain file the file's bytes. */
        unsigned char *out;
        size_t out_pos, out_len;
        uint64_t out_base; /* plain: file offset of out[0] */

        /* The first line of the next record, found by resynchronising. */
        struct nt_buf pending;
        bool has_pending;
        uint64_t pending_off;
};

void nt_warc_limits_init(struct nt_warc_limits *lim)
{
        lim->max_header = NT_WARC_DEFAULT_MAX_HEADER;
        lim->max_block = NT_WARC_DEFAULT_MAX_BLOCK;
}

void nt_warc_record_init(struct nt_warc_record *rec)
{
        memset(rec, 0, sizeof(*rec));
}

void nt_warc_record_free(struct nt_warc_record *rec)
{
        size_t i;

        if (!rec)
                return;
        for (i = 0; i < rec->n_fields; i++) {
                free(rec->fields[i].name);
                free(rec->fields[i].value);
        }
        free(rec->fields);
        free(rec->block);
        nt_warc_record_init(rec);
}

const char *nt_warc_field(const struct nt_warc_record *rec, const char *name)
{
        size_t i;

        for (i = 0; i < rec->n_fields; i++) {
                if (strcasecmp(rec->fields[i].name, name) == 0)
                        return rec->fields[i].value;
        }
        return NULL;
}

nt_warc_t *nt_warc_open(FILE *f, const struct nt_warc_limits *lim, char *errstr,
                        size_t errstr_size)
{
        nt_warc_t *w = calloc(1, sizeof(*w));
        unsigned char magic[2];
        struct stat st;
        size_t n;

        if (!w)
                goto nomem;
        w->f = f;
        if (lim)
                w->lim = *lim;
        else
                nt_warc_limits_init(&w->lim);
        nt_buf_init(&w->pending, SCAN_LINE_MAX);
        w->out = malloc(OUT_SIZE);
        if (!w->out)
                goto nomem;
        n = fread(magic, 1, sizeof(magic), f);
        w->gz = n == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        if (w->gz) {
                w->in = malloc(IN_SIZE);
                if (!w->in)
                        goto nomem;
                /* The two bytes already read start the input. */
                memcpy(w->in, magic, 2);
                w->in_len = 2;
                w->zs.next_in = w->in;
                w->zs.avail_in = 2;
                /* 15 + 32: a gzip (or zlib) header, detected. */
                if (inflateInit2(&w->zs, 15 + 32) != Z_OK)
                        goto nomem;
                w->zs_ready = true;
                w->member_fresh = true;
        } else {
                memcpy(w->out, magic, n);
                w->out_len = n;
                w->seekable = fstat(fileno(f), &st) == 0 &&
                              S_ISREG(st.st_mode) && ftello(f) == (off_t)n;
        }
        return w;
nomem:
        nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
        nt_warc_close(w);
        return NULL;
}

void nt_warc_close(nt_warc_t *w)
{
        if (!w)
                return;
        if (w->zs_ready)
                inflateEnd(&w->zs);
        free(w->in);
        free(w->out);
        nt_buf_free(&w->pending);
        free(w);
}

bool nt_warc_is_gzip(const nt_warc_t *w)
{
        return w->gz;
}

/* File offset of the next compressed byte inflate will read. */
static uint64_t gz_consumed(const nt_warc_t *w)
{
        return w->in_base + (uint64_t)(w->zs.next_in - w->in);
}

uint64_t nt_warc_bytes_read(const nt_warc_t *w)
{
        if (w->gz)
                return gz_consumed(w);
        return w->out_base + w->out_pos;
}

static int fail_stream(nt_warc_t *w, const char *fmt, unsigned long long at,
                       const char *why)
{
        snprintf(w->fatal, sizeof(w->fatal), fmt, at, why);
        w->dead = true;
        return GOT_FATAL;
}

/* Refills the compressed input once inflate has taken all of it. */
static int gz_read_input(nt_warc_t *w)
{
        size_t n;

        if (w->zs.avail_in > 0 || w->in_eof)
                return GOT_DATA;
        w->in_base += w->in_len;
        n = fread(w->in, 1, IN_SIZE, w->f);
        if (n == 0 && ferror(w->f))
                return fail_stream(w, "read error at byte %llu%s",
                                   (unsigned long long)w->in_base, "");
        if (n == 0)
                w->in_eof = true;
        w->in_len = n;
        w->zs.next_in = w->in;
        w->zs.avail_in = (uInt)n;
        return GOT_DATA;
}

/* Moves on to the next gzip member, if there is one. */
static int gz_next_member(nt_warc_t *w)
{
        if (gz_read_input(w) == GOT_FATAL)
                return GOT_FATAL;
        if (w->zs.avail_in == 0) {
                w->done = true;
                return GOT_END;
        }
        w->member_start = gz_consumed(w);
        w->member_done = false;
        w->member_fresh = true;
        inflateReset(&w->zs);
        return GOT_DATA;
}

/* Inflates more of the current member into `out`. */
static int gz_fill(nt_warc_t *w)
{
        for (;;) {
                size_t produced;
                int rc;

                if (w->member_done) {
                        int got;

                        if (w->confine)
                                return GOT_END;
                        got = gz_next_member(w);
                        if (got != GOT_DATA)
                                return got;
                }
                if (gz_read_input(w) == GOT_FATAL)
                        return GOT_FATAL;
                w->zs.next_out = w->out;
                w->zs.avail_out = (uInt)OUT_SIZE;
                rc = inflate(&w->zs, Z_NO_FLUSH);
                produced = OUT_SIZE - w->zs.avail_out;
                if (rc == Z_STREAM_END) {
                        w->member_done = true;
                } else if (rc == Z_OK || rc == Z_BUF_ERROR) {
                        /* Only when inflate can make no more progress is
                         * an empty input the end of the file. */
                        if (produced == 0 && w->zs.avail_in == 0 && w->in_eof)
                                return fail_stream(
                                    w,
                                    "gzip member at byte %llu is "
                                    "truncated%s",
                                    (unsigned long long)w->member_start,
                                    " (the file ends inside it)");
                } else if (w->member_fresh && w->member_start > 0) {
                        return fail_stream(
                            w,
                            "no gzip member at byte %llu (%s after the last "
                            "member?)",
                            (unsigned long long)w->member_start, "junk");
                } else {
                        return fail_stream(
                            w, "gzip member at byte %llu is corrupt: %s",
                            (unsigned long long)w->member_start,
                            w->zs.msg ? w->zs.msg : zError(rc));
                }
                if (produced > 0) {
                        w->out_pos = 0;
                        w->out_len = produced;
                        w->member_fresh = false;
                        return GOT_DATA;
                }
        }
}

static int plain_fill(nt_warc_t *w)
{
        size_t n;

        w->out_base += w->out_len;
        w->out_pos = w->out_len = 0;
        n = fread(w->out, 1, OUT_SIZE, w->f);
        if (n == 0) {
                if (ferror(w->f))
                        return fail_stream(w, "read error at byte %llu%s",
                                           (unsigned long long)w->out_base, "");
                w->done = true;
                return GOT_END;
        }
        w->out_len = n;
        return GOT_DATA;
}

/* Makes at least one byte available in `out`. */
static int fill(nt_warc_t *w)
{
        if (w->out_pos < w->out_len)
                return GOT_DATA;
        if (w->dead)
                return GOT_FATAL;
        if (w->gz)
                return gz_fill(w);
        if (w->done)
                return GOT_END;
        return plain_fill(w);
}

/* Copies (dst non-NULL) or skips up to n bytes; *got says how many. */
static int read_bytes(nt_warc_t *w, char *dst, uint64_t n, uint64_t *got)
{
        *got = 0;
        while (*got < n) {
                size_t avail, take;
                int r = fill(w);

                if (r != GOT_DATA)
                        return r;
                avail = w->out_len - w->out_pos;
                take = n - *got < avail ? (size_t)(n - *got) : avail;
                if (dst)
                        memcpy(dst + *got, w->out + w->out_pos, take);
                w->out_pos += take;
                *got += take;
        }
        return GOT_DATA;
}

/* Reads one line through its '\n' (consumed), keeping at most `max` bytes
 * of it in `line` without the line ending; *too_long says bytes were
 * dropped. GOT_END when nothing was left to read; a last line without a
 * newline is returned as a line. */
static int read_line(nt_warc_t *w, struct nt_buf *line, size_t max,
                     bool *too_long)
{
        bool any = false;

        nt_buf_reset(line);
        *too_long = false;
        for (;;) {
                unsigned char *start, *nl;
                size_t avail, take, keep;
                int r = fill(w);

                if (r == GOT_FATAL)
                        return r;
                if (r == GOT_END)
                        break;
                any = true;
                start = w->out + w->out_pos;
                avail = w->out_len - w->out_pos;
                nl = memchr(start, '\n', avail);
                take = nl ? (size_t)(nl - start) : avail;
                keep = line->len < max ? max - line->len : 0;
                if (keep > take)
                        keep = take;
                if (keep < take)
                        *too_long = true;
                if (keep > 0 && nt_buf_append(line, start, keep) != NT_OK)
                        *too_long = true;
                w->out_pos += nl ? take + 1 : take;
                if (nl)
                        break;
        }
        if (!any)
                return GOT_END;
        if (line->len > 0 && line->data[line->len - 1] == '\r')
                line->data[--line->len] = '\0';
        return GOT_DATA;
}

/* Where the next byte lies, as errors report it: the file offset, or in a
 * .warc.gz the offset of its gzip member. Call after a successful fill. */
static uint64_t cur_offset(const nt_warc_t *w)
{
        return w->gz ? w->member_start : w->out_base + w->out_pos;
}

static bool is_version_line(const char *s, size_t len)
{
        return len >= 7 && memcmp(s, "WARC/1.", 7) == 0;
}

/* After a bad record: finds the next line that starts "WARC/1." and keeps
 * it for the next call. A plain file that can be seeked is first put back
 * to `back_to` (the start of the bad record's block), so that a
 * Content-Length that was too large does not swallow the records after
 * it. A record confined to its gzip member simply ends with the member. */
static void resync(nt_warc_t *w, int64_t back_to)
{
        struct nt_buf line;
        bool too_long;

        if (w->dead)
                return;
        if (w->gz && w->confine) {
                uint64_t got;

                read_bytes(w, NULL, UINT64_MAX, &got);
                w->confine = false;
                return;
        }
        if (!w->gz && w->seekable && back_to >= 0 &&
            (uint64_t)back_to < w->out_base + w->out_pos) {
                if (fseeko(w->f, (off_t)back_to, SEEK_SET) == 0) {
                        w->out_base = (uint64_t)back_to;
                        w->out_pos = w->out_len = 0;
                        w->done = false;
                }
        }
        nt_buf_init(&line, SCAN_LINE_MAX);
        for (;;) {
                uint64_t at;

                if (fill(w) != GOT_DATA)
                        break;
                at = cur_offset(w);
                if (read_line(w, &line, SCAN_LINE_MAX, &too_long) != GOT_DATA)
                        break;
                if (is_version_line(line.data ? line.data : "", line.len)) {
                        nt_buf_reset(&w->pending);
                        if (nt_buf_append(&w->pending, line.data, line.len) ==
                            NT_OK) {
                                w->has_pending = true;
                                w->pending_off = at;
                        }
                        break;
                }
        }
        nt_buf_free(&line);
}

/* Skips the CR and LF bytes between records, then says where the record
 * starts and whether it is confined to a gzip member of its own. GOT_END
 * at the end of the file. */
static int begin_record(nt_warc_t *w, uint64_t *offset)
{
        for (;;) {
                /* Nothing of the previous record shares this member. */
                bool starts_member = w->gz && w->out_pos == w->out_len &&
                                     (w->member_done || w->member_fresh);
                int r;

                w->confine = true;
                while (
                    (r = fill(w)) == GOT_DATA &&
                    (w->out[w->out_pos] == '\r' || w->out[w->out_pos] == '\n'))
                        w->out_pos++;
                w->confine = false;
                if (r == GOT_FATAL)
                        return r;
                if (r == GOT_DATA) {
                        /* A record that starts a member must end with it:
                         * one record per member is what ISO 28500 asks of
                         * a .warc.gz, and holding to it keeps a wrong
                         * Content-Length from eating the next record. */
                        w->confine = starts_member;
                        *offset = cur_offset(w);
                        return GOT_DATA;
                }
                if (!w->gz || w->done)
                        return GOT_END;
                /* The end of a member: the record starts in the next. */
                r = gz_next_member(w);
                if (r != GOT_DATA)
                        return r;
        }
}

static int add_field(struct nt_warc_record *rec, size_t *cap, const char *name,
                     size_t name_len, const char *value, size_t value_len)
{
        struct nt_warc_field *f;

        if (nt_array_grow(&rec->fields, cap, rec->n_fields + 1,
                          sizeof(*rec->fields)))
                return NT_ERR_NOMEM;
        f = &rec->fields[rec->n_fields];
        f->name = strndup(name, name_len);
        f->value = strndup(value, value_len);
        if (!f->name || !f->value) {
                free(f->name);
                free(f->value);
                return NT_ERR_NOMEM;
        }
        rec->n_fields++;
        return NT_OK;
}

/* Appends a continuation line to the last field's value. */
static int continue_field(struct nt_warc_record *rec, const char *more,
                          size_t len)
{
        struct nt_warc_field *f = &rec->fields[rec->n_fields - 1];
        size_t old = strlen(f->value);
        char *v = realloc(f->value, old + 1 + len + 1);

        if (!v)
                return NT_ERR_NOMEM;
        v[old] = ' ';
        memcpy(v + old + 1, more, len);
        v[old + 1 + len] = '\0';
        f->value = v;
        return NT_OK;
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t';
}

/* Reads the header fields after the version line, up to the blank line.
 * *used counts header bytes against max_header. Returns 0, NT_ERR_PARSE
 * (errstr says why), NT_ERR_IO (the stream died), NT_ERR_NOMEM. */
static int read_fields(nt_warc_t *w, struct nt_warc_record *rec, size_t *used,
                       char *errstr, size_t errstr_size)
{
        struct nt_buf line;
        size_t cap = 0;
        int err = NT_OK;

        nt_buf_init(&line, w->lim.max_header);
        for (;;) {
                const char *s, *colon;
                size_t len, nlen, vstart, vend;
                bool too_long;
                int r =
                    read_line(w, &line, w->lim.max_header - *used, &too_long);

                if (r == GOT_FATAL) {
                        err = NT_ERR_IO;
                        break;
                }
                if (r == GOT_END) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                                      "the %s ends inside the record header",
                                      w->gz && w->confine ? "gzip member"
                                                          : "file");
                        break;
                }
                if (too_long) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                                      "the record header is longer than %zu "
                                      "bytes",
                                      w->lim.max_header);
                        break;
                }
                s = line.data ? line.data : "";
                len = line.len;
                *used += len + 2;
                if (len == 0)
                        break;
                if (is_space(s[0])) {
                        if (rec->n_fields == 0) {
                                err = nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                                              "a continuation line before "
                                              "any field");
                                break;
                        }
                        vstart = 0;
                        while (vstart < len && is_space(s[vstart]))
                                vstart++;
                        err = continue_field(rec, s + vstart, len - vstart);
                        if (err)
                                break;
                        continue;
                }
                colon = memchr(s, ':', len);
                if (!colon || colon == s) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                                      "malformed header line \"%.60s\"", s);
                        break;
                }
                nlen = (size_t)(colon - s);
                while (nlen > 0 && is_space(s[nlen - 1]))
                        nlen--;
                vstart = (size_t)(colon - s) + 1;
                while (vstart < len && is_space(s[vstart]))
                        vstart++;
                vend = len;
                while (vend > vstart && is_space(s[vend - 1]))
                        vend--;
                err = add_field(rec, &cap, s, nlen, s + vstart, vend - vstart);
                if (err)
                        break;
        }
        nt_buf_free(&line);
        return err;
}

static void point_fields(struct nt_warc_record *rec)
{
        rec->type = nt_warc_field(rec, "WARC-Type");
        rec->target_uri = nt_warc_field(rec, "WARC-Target-URI");
        rec->date = nt_warc_field(rec, "WARC-Date");
        rec->content_type = nt_warc_field(rec, "Content-Type");
}

/* Prefixes a record error with where the record is. */
static int located(const nt_warc_t *w, const struct nt_warc_record *rec,
                   int err, const char *why, char *errstr, size_t errstr_size)
{
        if (w->gz)
                return nt_errf(errstr, errstr_size, err,
                               "record %lu (gzip member at byte %llu): %s",
                               rec->number, (unsigned long long)rec->offset,
                               why);
        return nt_errf(errstr, errstr_size, err, "record %lu at byte %llu: %s",
                       rec->number, (unsigned long long)rec->offset, why);
}

/* Reads the block and the CRLF CRLF after it. Returns 0, NT_ERR_PARSE
 * (why says what was wrong; the caller resynchronises), NT_ERR_IO. */
static int read_block(nt_warc_t *w, struct nt_warc_record *rec, int64_t clen,
                      char *why, size_t why_size)
{
        char trailer[4];
        uint64_t got;
        bool skip = (uint64_t)clen > w->lim.max_block;
        int r;

        if (!skip) {
                rec->block = malloc((size_t)clen + 1);
                if (!rec->block)
                        return NT_ERR_NOMEM;
        }
        r = read_bytes(w, rec->block, (uint64_t)clen, &got);
        if (r == GOT_FATAL)
                return NT_ERR_IO;
        if (got < (uint64_t)clen)
                return nt_errf(why, why_size, NT_ERR_PARSE,
                               "Content-Length is %lld but the %s ends after "
                               "%llu bytes of block",
                               (long long)clen,
                               w->gz && w->confine ? "gzip member" : "file",
                               (unsigned long long)got);
        if (!skip) {
                rec->block[clen] = '\0';
                rec->block_len = (size_t)clen;
        }
        r = read_bytes(w, trailer, sizeof(trailer), &got);
        if (r == GOT_FATAL)
                return NT_ERR_IO;
        if (got != sizeof(trailer) || memcmp(trailer, "\r\n\r\n", 4) != 0)
                return nt_errf(why, why_size, NT_ERR_PARSE,
                               "the block is not followed by CRLF CRLF (is "
                               "Content-Length %lld right?)",
                               (long long)clen);
        if (skip)
                return nt_errf(why, why_size, NT_ERR_LIMIT,
                               "the block (%lld bytes) is larger than the "
                               "limit of %zu bytes; skipped",
                               (long long)clen, w->lim.max_block);
        return NT_OK;
}

int nt_warc_next(nt_warc_t *w, struct nt_warc_record *rec, char *errstr,
                 size_t errstr_size)
{
        struct nt_buf line;
        char why[300];
        const char *clen_text;
        int64_t clen = 0, block_start = -1;
        size_t used = 0;
        bool too_long;
        int r, err = NT_OK;

        nt_warc_record_free(rec);
        nt_buf_init(&line, VERSION_LINE_MAX);
        if (w->dead ||
            (w->done && !w->has_pending && w->out_pos == w->out_len)) {
                err = NT_ERR_NOTFOUND;
                goto out;
        }
        r = begin_record(w, &rec->offset);
        if (r == GOT_FATAL)
                goto fatal;
        if (r == GOT_END) {
                err = NT_ERR_NOTFOUND;
                goto out;
        }
        rec->number = ++w->number;

        /* The version line. */
        if (w->has_pending) {
                err = nt_buf_append(&line, w->pending.data, w->pending.len);
                w->has_pending = false;
                if (err)
                        goto out;
        } else {
                r = read_line(w, &line, VERSION_LINE_MAX, &too_long);
                if (r == GOT_FATAL)
                        goto fatal;
        }
        while (line.len > 0 && is_space(line.data[line.len - 1]))
                line.data[--line.len] = '\0';
        if (line.len != 8 || !is_version_line(line.data, line.len) ||
            (line.data[7] != '0' && line.data[7] != '1')) {
                char shown[48];
                size_t i, n = 0;

                /* Show what was there, without control bytes. */
                for (i = 0; i < line.len && n + 1 < sizeof(shown); i++)
                        shown[n++] = (unsigned char)line.data[i] < 0x20 ||
                                             (unsigned char)line.data[i] >= 0x7f
                                         ? '?'
                                         : line.data[i];
                shown[n] = '\0';
                snprintf(why, sizeof(why),
                         "not a WARC record: expected \"WARC/1.0\" or "
                         "\"WARC/1.1\", found \"%s\"",
                         shown);
                err = located(w, rec, NT_ERR_PARSE, why, errstr, errstr_size);
                resync(w, -1);
                goto out;
        }
        memcpy(rec->version, line.data, 8);
        used = line.len + 2;

        err = read_fields(w, rec, &used, why, sizeof(why));
        if (err == NT_ERR_IO)
                goto fatal;
        if (err) {
                if (err == NT_ERR_PARSE) {
                        err = located(w, rec, err, why, errstr, errstr_size);
                        resync(w, -1);
                }
                goto out;
        }
        point_fields(rec);
        clen_text = nt_warc_field(rec, "Content-Length");
        if (!clen_text) {
                err = located(w, rec, NT_ERR_PARSE,
                              "the header has no Content-Length", errstr,
                              errstr_size);
                resync(w, -1);
                goto out;
        }
        if (nt_num_parse_i64(clen_text, 0, INT64_MAX, &clen) != NT_OK) {
                snprintf(why, sizeof(why), "bad Content-Length \"%.40s\"",
                         clen_text);
                err = located(w, rec, NT_ERR_PARSE, why, errstr, errstr_size);
                resync(w, -1);
                goto out;
        }
        if (!w->gz)
                block_start = (int64_t)(w->out_base + w->out_pos);
        err = read_block(w, rec, clen, why, sizeof(why));
        if (err == NT_ERR_IO)
                goto fatal;
        if (err == NT_ERR_LIMIT) {
                /* The block was skipped whole: the stream is in step. */
                err = located(w, rec, NT_ERR_PARSE, why, errstr, errstr_size);
                w->confine = false;
                goto out;
        }
        if (err == NT_ERR_PARSE) {
                err = located(w, rec, err, why, errstr, errstr_size);
                resync(w, block_start);
                goto out;
        }
        if (err)
                goto out;
        w->confine = false;
        nt_buf_free(&line);
        return NT_OK;
fatal:
        err = located(w, rec, NT_ERR_IO, w->fatal, errstr, errstr_size);
        if (rec->number == 0)
                err = nt_errf(errstr, errstr_size, NT_ERR_IO, "%s", w->fatal);
out:
        nt_buf_free(&line);
        if (err == NT_ERR_IO || err == NT_ERR_PARSE || err == NT_ERR_LIMIT) {
                unsigned long number = rec->number;
                uint64_t offset = rec->offset;

                nt_warc_record_free(rec);
                rec->number = number;
                rec->offset = offset;
        } else {
                nt_warc_record_free(rec);
        }
        return err;
}

/* ---- HTTP ----------------------------------------------------------- */

void nt_warc_http_init(struct nt_warc_http *h)
{
        memset(h, 0, sizeof(*h));
}

void nt_warc_http_free(struct nt_warc_http *h)
{
        if (!h)
                return;
        free(h->content_type);
        free(h->content_location);
        free(h->content_encoding);
        free(h->transfer_encoding);
        free(h->body);
        nt_warc_http_init(h);
}

/* The next line of [*p, end): its text without the line ending, and *p
 * moved past it. False at the end. */
static bool next_line(const char **p, const char *end, const char **s,
                      size_t *len)
{
        const char *nl;

        if (*p >= end)
                return false;
        nl = memchr(*p, '\n', (size_t)(end - *p));
        *s = *p;
        *len = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
        *p = nl ? nl + 1 : end;
        if (*len > 0 && (*s)[*len - 1] == '\r')
                (*len)--;
        return true;
}

/* Sets *slot to the trimmed value of a header (the first one wins). */
static int keep_header(char **slot, const char *v, size_t len)
{
        if (*slot)
                return NT_OK;
        while (len > 0 && is_space(*v)) {
                v++;
                len--;
        }
        while (len > 0 && is_space(v[len - 1]))
                len--;
        *slot = strndup(v, len);
        return *slot ? NT_OK : NT_ERR_NOMEM;
}

/* De-chunks [p, end) into out. NT_ERR_PARSE with *first set when the
 * very first size line is not one (the body is not chunked at all). */
static int dechunk(const char *p, const char *end, struct nt_buf *out,
                   bool *first, char *errstr, size_t errstr_size)
{
        const char *start = p;

        *first = true;
        for (;;) {
                const char *s;
                size_t len, i;
                uint64_t size = 0;
                bool digits = false;

                if (!next_line(&p, end, &s, &len))
                        return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                                       "chunked body ends without its last "
                                       "chunk");
                for (i = 0;
                     i < len && nt_num_hex_digit((unsigned char)s[i]) >= 0;
                     i++) {
                        if (size > (UINT64_MAX >> 4))
                                return nt_errf(errstr, errstr_size,
                                               NT_ERR_PARSE,
                                               "chunk size too large at body "
                                               "byte %zu",
                                               (size_t)(s - start));
                        size = size * 16 +
                               (uint64_t)nt_num_hex_digit((unsigned char)s[i]);
                        digits = true;
                }
                while (i < len && is_space(s[i]))
                        i++;
                if (!digits || (i < len && s[i] != ';'))
                        return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                                       "bad chunk size line at body byte %zu",
                                       (size_t)(s - start));
                *first = false;
                if (size == 0)
                        return NT_OK; /* trailers, if any, are ignored */
                if (size > (uint64_t)(end - p))
                        return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                                       "chunk of %llu bytes runs past the end "
                                       "of the body at byte %zu",
                                       (unsigned long long)size,
                                       (size_t)(p - start));
                if (nt_buf_append(out, p, (size_t)size) != NT_OK)
                        return nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                                       "the body is larger than %zu bytes",
                                       out->max);
                p += size;
                if (p < end && *p == '\r')
                        p++;
                if (p < end && *p == '\n')
                        p++;
        }
}

/* Inflates gzip, zlib or (when raw) raw deflate data into out. */
static int decode(const char *data, size_t len, bool raw, struct nt_buf *out,
                  char *errstr, size_t errstr_size)
{
        z_stream zs;
        unsigned char chunk[16384];
        int rc, err = NT_OK;

        memset(&zs, 0, sizeof(zs));
        if (inflateInit2(&zs, raw ? -15 : 15 + 32) != Z_OK)
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory");
        zs.next_in = (unsigned char *)(uintptr_t)data;
        zs.avail_in = (uInt)len;
        do {
                zs.next_out = chunk;
                zs.avail_out = sizeof(chunk);
                rc = inflate(&zs, Z_NO_FLUSH);
                if (rc != Z_OK && rc != Z_STREAM_END) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                                      "cannot decode the body: %s",
                                      zs.msg ? zs.msg : zError(rc));
                        break;
                }
                if (nt_buf_append(out, chunk, sizeof(chunk) - zs.avail_out) !=
                    NT_OK) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                                      "the decoded body is larger than %zu "
                                      "bytes",
                                      out->max);
                        break;
                }
                if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                                      "cannot decode the body: it is "
                                      "truncated");
                        break;
                }
        } while (rc != Z_STREAM_END);
        inflateEnd(&zs);
        return err;
}

static bool has_token(const char *list, const char *token)
{
        size_t n = strlen(token);
        const char *p = list;

        while (p && *p) {
                while (*p == ' ' || *p == '\t' || *p == ',')
                        p++;
                if (strncasecmp(p, token, n) == 0 &&
                    (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == ';'))
                        return true;
                p = strchr(p, ',');
        }
        return false;
}

int nt_warc_http_parse(const char *block, size_t len, size_t max_body,
                       struct nt_warc_http *h, char *errstr, size_t errstr_size)
{
        const char *p = block, *end = block + len, *s;
        struct nt_buf body, decoded;
        size_t n, i;
        int64_t status;
        char code[4];
        int err = NT_OK;

        nt_buf_init(&body, max_body);
        nt_buf_init(&decoded, max_body);
        if (!next_line(&p, end, &s, &n) || n < 12 || memcmp(s, "HTTP/", 5) != 0)
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "not an HTTP response (no status line)");
        for (i = 5; i < n && s[i] != ' '; i++)
                ;
        if (i + 4 > n || (i + 4 < n && s[i + 4] != ' '))
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "bad HTTP status line \"%.40s\"", s);
        memcpy(code, s + i + 1, 3);
        code[3] = '\0';
        if (nt_num_parse_i64(code, 100, 999, &status) != NT_OK)
                return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                               "bad HTTP status line \"%.40s\"", s);
        h->status = (int)status;
        char **last = NULL;
        for (;;) {
                const char *colon;
                size_t nlen;

                if (!next_line(&p, end, &s, &n)) {
                        p = end; /* headers without a body */
                        break;
                }
                if (n == 0)
                        break;
                if (is_space(s[0])) {
                        /* An obsolete folded line: it belongs to the field
                         * before, which matters only for those we keep. */
                        if (last && *last) {
                                size_t old = strlen(*last);
                                char *v = realloc(*last, old + n + 1);
                                if (!v)
                                        return NT_ERR_NOMEM;
                                memcpy(v + old, s, n);
                                v[old + n] = '\0';
                                *last = v;
                        }
                        continue;
                }
                colon = memchr(s, ':', n);
                if (!colon)
                        return nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                                       "malformed HTTP header line \"%.40s\"",
                                       s);
                nlen = (size_t)(colon - s);
                last = NULL;
                if (nlen == 12 && strncasecmp(s, "Content-Type", 12) == 0)
                        last = &h->content_type;
                else if (nlen == 16 &&
                         strncasecmp(s, "Content-Location", 16) == 0)
                        last = &h->content_location;
                else if (nlen == 16 &&
                         strncasecmp(s, "Content-Encoding", 16) == 0)
                        last = &h->content_encoding;
                else if (nlen == 17 &&
                         strncasecmp(s, "Transfer-Encoding", 17) == 0)
                        last = &h->transfer_encoding;
                if (last && keep_header(last, colon + 1, n - nlen - 1) != NT_OK)
                        return NT_ERR_NOMEM;
        }
        if (h->transfer_encoding &&
            has_token(h->transfer_encoding, "chunked")) {
                bool first;

                err = dechunk(p, end, &body, &first, errstr, errstr_size);
                if (err == NT_ERR_PARSE && first) {
                        /* Stored already de-chunked, header left as it
                         * was: take the bytes as they are. */
                        nt_buf_reset(&body);
                        err = nt_buf_append(&body, p, (size_t)(end - p));
                }
        } else {
                err = nt_buf_append(&body, p, (size_t)(end - p));
        }
        if (err == NT_ERR_LIMIT)
                err = nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                              "the body is larger than %zu bytes", max_body);
        if (err)
                goto out;
        if (h->content_encoding &&
            (has_token(h->content_encoding, "gzip") ||
             has_token(h->content_encoding, "x-gzip") ||
             has_token(h->content_encoding, "deflate"))) {
                err = decode(body.data ? body.data : "", body.len, false,
                             &decoded, errstr, errstr_size);
                if (err == NT_ERR_PARSE &&
                    has_token(h->content_encoding, "deflate")) {
                        /* "deflate" is sometimes sent without its zlib
                         * wrapper. */
                        nt_buf_reset(&decoded);
                        err = decode(body.data ? body.data : "", body.len, true,
                                     &decoded, errstr, errstr_size);
                }
                if (err)
                        goto out;
                nt_buf_free(&body);
                body = decoded;
                nt_buf_init(&decoded, max_body);
        } else if (h->content_encoding &&
                   !has_token(h->content_encoding, "identity")) {
                err = nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                              "Content-Encoding \"%.40s\" is not supported",
                              h->content_encoding);
                goto out;
        }
        h->body_len = body.len;
        h->body = nt_buf_detach(&body);
        if (!h->body)
                err = NT_ERR_NOMEM;
out:
        nt_buf_free(&body);
        nt_buf_free(&decoded);
        return err;
}
