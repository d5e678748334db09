#include "support/archive.h"
#include "common/err.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

void nt_test_tmpdir(char *buf, size_t size)
{
        const char *tmp = getenv("TMPDIR");

        snprintf(buf, size, "%s/nt-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        cr_assert_not_null(mkdtemp(buf), "mkdtemp %s", buf);
}

void nt_test_rmtree(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        char path[4096];
        struct stat st;

        if (!d)
                return;
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 ||
                    strcmp(de->d_name, "..") == 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                        nt_test_rmtree(path);
                else
                        unlink(path);
        }
        closedir(d);
        rmdir(dir);
}

void nt_test_write(const char *dir, const char *name, const void *data,
                   size_t len)
{
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "wb");
        cr_assert_not_null(f, "cannot create %s", path);
        cr_assert_eq(fwrite(data, 1, len, f), len, "writing %s", path);
        cr_assert_eq(fclose(f), 0, "closing %s", path);
}

char *nt_test_slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        char *buf;
        long n;

        cr_assert_not_null(f, "cannot open %s", path);
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        rewind(f);
        buf = malloc((size_t)n + 1);
        cr_assert_not_null(buf);
        cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
        buf[n] = '\0';
        fclose(f);
        if (len)
                *len = (size_t)n;
        return buf;
}

/* Appends `data` to `out`, as one gzip member when asked. */
static void append_maybe_gzip(struct nt_buf *out, const char *data, size_t len,
                              bool gzip)
{
        z_stream zs;
        unsigned char *buf;
        size_t cap = len + 1024;

        if (!gzip) {
                cr_assert_eq(nt_buf_append(out, data, len), 0);
                return;
        }
        memset(&zs, 0, sizeof(zs));
        cr_assert_eq(
            deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
        buf = malloc(cap);
        cr_assert_not_null(buf);
        zs.next_in = (unsigned char *)(uintptr_t)data;
        zs.avail_in = (uInt)len;
        zs.next_out = buf;
        zs.avail_out = (uInt)cap;
        cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
        cr_assert_eq(nt_buf_append(out, buf, cap - zs.avail_out), 0);
        deflateEnd(&zs);
        free(buf);
}

static size_t add_record(struct nt_buf *out, const char *type, const char *uri,
                         const char *block_type, const char *block,
                         size_t block_len, long len_delta, bool gzip)
{
        struct nt_buf rec;
        size_t at = out->len;

        nt_buf_init(&rec, 64u << 20);
        cr_assert_eq(nt_buf_printf(&rec,
                                   "WARC/1.0\r\n"
                                   "WARC-Type: %s\r\n"
                                   "WARC-Record-ID: <urn:uuid:test-%zu>\r\n"
                                   "WARC-Date: 2026-01-05T12:00:00Z\r\n"
                                   "WARC-Target-URI: %s\r\n"
                                   "Content-Type: %s\r\n"
                                   "Content-Length: %ld\r\n"
                                   "\r\n",
                                   type, at, uri, block_type,
                                   (long)block_len + len_delta),
                     0);
        cr_assert_eq(nt_buf_append(&rec, block, block_len), 0);
        cr_assert_eq(nt_buf_append_str(&rec, "\r\n\r\n"), 0);
        append_maybe_gzip(out, rec.data, rec.len, gzip);
        nt_buf_free(&rec);
        return at;
}

size_t nt_test_warc_response(struct nt_buf *out, const char *uri,
                             const char *content_type, const char *body,
                             bool chunked, long len_delta, bool gzip)
{
        struct nt_buf http;
        size_t at, len = strlen(body), half = len / 2;

        nt_buf_init(&http, 64u << 20);
        cr_assert_eq(
            nt_buf_printf(&http,
                          "HTTP/1.1 200 OK\r\n"
                          "Content-Type: %s\r\n%s\r\n",
                          content_type,
                          chunked ? "Transfer-Encoding: chunked\r\n" : ""),
            0);
        if (chunked)
                cr_assert_eq(nt_buf_printf(&http,
                                           "%zx\r\n%.*s\r\n%zx\r\n%s\r\n"
                                           "0\r\n\r\n",
                                           half, (int)half, body, len - half,
                                           body + half),
                             0);
        else
                cr_assert_eq(nt_buf_append_str(&http, body), 0);
        at = add_record(out, "response", uri,
                        "application/http; msgtype=response", http.data,
                        http.len, len_delta, gzip);
        nt_buf_free(&http);
        return at;
}

void nt_test_printf_file(const char *path, const char *fmt, ...)
{
        FILE *f = fopen(path, "w");
        va_list ap;
        int n;

        cr_assert_not_null(f, "cannot write %s", path);
        va_start(ap, fmt);
        n = vfprintf(f, fmt, ap);
        va_end(ap);
        cr_assert_geq(n, 0, "cannot write %s", path);
        cr_assert_eq(fclose(f), 0, "cannot write %s", path);
}

char *nt_test_rss(const char *head, int n, const char *item_fmt)
{
        struct nt_buf b;
        char *doc;
        int i;

        nt_buf_init(&b, (size_t)64 << 20);
        cr_assert_eq(nt_buf_append_str(&b, head), NT_OK);
        for (i = 0; i < n; i++)
                cr_assert_eq(nt_buf_printf(&b, item_fmt, i), NT_OK);
        cr_assert_eq(nt_buf_append_str(&b, "</channel></rss>\n"), NT_OK);
        doc = nt_buf_detach(&b);
        cr_assert_not_null(doc);
        return doc;
}

size_t nt_test_warc_info(struct nt_buf *out, bool gzip)
{
        static const char info[] = "software: newstap tests\r\n"
                                   "format: WARC File Format 1.0\r\n";

        return add_record(out, "warcinfo", "urn:newstap:test",
                          "application/warc-fields", info, strlen(info), 0,
                          gzip);
}

void nt_test_devbroker_start(struct nt_test_devbroker *db,
                             const char *const *topics, size_t n_topics)
{
        char *argv[64];
        size_t i, n = 0;

        cr_assert(n_topics < 28);
        argv[n++] = (char *)nt_test_bin();
        argv[n++] = "broker";
        for (i = 0; i < n_topics; i++) {
                argv[n++] = "--topic";
                argv[n++] = (char *)topics[i];
        }
        argv[n] = NULL;
        cr_assert_eq(nt_child_start(&db->child, argv), 0);
        cr_assert_gt(nt_child_read_line(&db->child, db->bootstrap,
                                        sizeof(db->bootstrap), 15000),
                     0, "the dev broker printed no address");
}

void nt_test_devbroker_stop(struct nt_test_devbroker *db)
{
        cr_assert_eq(nt_child_stop(&db->child, SIGTERM, 10000), 0,
                     "the dev broker did not stop cleanly");
}
