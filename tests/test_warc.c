/* The WARC reader: records in plain and gzip'd files, byte offsets in
 * errors, recovery after a wrong Content-Length or a bad header, a
 * truncated gzip member; and the HTTP response inside a record. */
#include "common/buf.h"
#include "common/err.h"
#include "producer/warc.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* One record as a WARC writer would put it, with a Content-Length that
 * is `len_delta` off the truth (0: right). */
static void add_record(struct nt_buf *out, const char *version,
                       const char *type, const char *uri, const char *block,
                       long len_delta)
{
        size_t len = strlen(block);

        cr_assert_eq(nt_buf_printf(out,
                                   "%s\r\n"
                                   "WARC-Type: %s\r\n"
                                   "WARC-Record-ID: <urn:uuid:%zu>\r\n"
                                   "WARC-Date: 2026-01-05T10:00:00Z\r\n"
                                   "WARC-Target-URI: %s\r\n"
                                   "Content-Type: application/http; "
                                   "msgtype=response\r\n"
                                   "Content-Length: %ld\r\n"
                                   "\r\n",
                                   version, type, out->len, uri,
                                   (long)len + len_delta),
                     NT_OK);
        cr_assert_eq(nt_buf_append(out, block, len), NT_OK);
        cr_assert_eq(nt_buf_append_str(out, "\r\n\r\n"), NT_OK);
}

/* Appends `data` as one gzip member. */
static void add_member(struct nt_buf *out, const char *data, size_t len)
{
        z_stream zs;
        unsigned char *buf;
        size_t cap = len + 1024;

        memset(&zs, 0, sizeof(zs));
        cr_assert_eq(
            deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
        buf = malloc(cap);
        zs.next_in = (unsigned char *)data;
        zs.avail_in = (uInt)len;
        zs.next_out = buf;
        zs.avail_out = (uInt)cap;
        cr_assert_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
        cr_assert_eq(nt_buf_append(out, buf, cap - zs.avail_out), NT_OK);
        deflateEnd(&zs);
        free(buf);
}

static FILE *file_of(const struct nt_buf *b)
{
        FILE *f = tmpfile();

        cr_assert_not_null(f);
        cr_assert_eq(fwrite(b->data, 1, b->len, f), b->len);
        rewind(f);
        return f;
}

static const char response[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/rss+xml; charset=utf-8\r\n"
    "\r\n"
    "<rss version=\"2.0\"><channel><title>T</title></channel></rss>";

/* `n` response records for https://x.example/, each its own gzip member,
 * into b; record `bad` (-1: none) with a Content-Length 200 bytes too
 * long. starts[i] receives the offset where member i begins. */
static void gzip_records(struct nt_buf *b, int n, int bad, size_t *starts)
{
        struct nt_buf one;
        int i;

        nt_buf_init(&one, 1 << 20);
        for (i = 0; i < n; i++) {
                nt_buf_reset(&one);
                add_record(&one, "WARC/1.0", "response", "https://x.example/",
                           response, i == bad ? 200 : 0);
                starts[i] = b->len;
                add_member(b, one.data, one.len);
        }
        nt_buf_free(&one);
}

struct reading {
        int codes[16];
        unsigned long numbers[16];
        unsigned long long offsets[16];
        char uris[16][64];
        char errors[16][300];
        int n;
};

/* Reads every record of the file, noting what each call returned. */
static void read_all(FILE *f, const struct nt_warc_limits *lim,
                     struct reading *rd)
{
        char errstr[300];
        struct nt_warc_record rec;
        nt_warc_t *w = nt_warc_open(f, lim, errstr, sizeof(errstr));
        int err;

        cr_assert_not_null(w, "%s", errstr);
        memset(rd, 0, sizeof(*rd));
        nt_warc_record_init(&rec);
        while (rd->n < 16) {
                errstr[0] = '\0';
                err = nt_warc_next(w, &rec, errstr, sizeof(errstr));
                if (err == NT_ERR_NOTFOUND)
                        break;
                rd->codes[rd->n] = err;
                rd->numbers[rd->n] = rec.number;
                rd->offsets[rd->n] = rec.offset;
                snprintf(rd->uris[rd->n], sizeof(rd->uris[0]), "%s",
                         rec.target_uri ? rec.target_uri : "");
                snprintf(rd->errors[rd->n], sizeof(rd->errors[0]), "%s",
                         errstr);
                rd->n++;
        }
        cr_assert_eq(nt_warc_next(w, &rec, errstr, sizeof(errstr)),
                     NT_ERR_NOTFOUND, "the end stays the end");
        nt_warc_record_free(&rec);
        nt_warc_close(w);
        fclose(f);
}

Test(warc, plain_records_fields_and_offsets)
{
        struct nt_buf b;
        struct nt_warc_record rec;
        char errstr[300];
        size_t second;
        nt_warc_t *w;
        FILE *f;

        nt_buf_init(&b, 1 << 20);
        add_record(&b, "WARC/1.0", "warcinfo", "urn:x", "software: test", 0);
        second = b.len;
        add_record(&b, "WARC/1.1", "response", "https://news.example/rss",
                   response, 0);
        f = file_of(&b);
        w = nt_warc_open(f, NULL, errstr, sizeof(errstr));
        cr_assert_not_null(w);
        cr_assert_not(nt_warc_is_gzip(w));
        nt_warc_record_init(&rec);
        cr_assert_eq(nt_warc_next(w, &rec, errstr, sizeof(errstr)), NT_OK, "%s",
                     errstr);
        cr_assert_eq(rec.number, 1);
        cr_assert_eq(rec.offset, 0);
        cr_assert_str_eq(rec.version, "WARC/1.0");
        cr_assert_str_eq(rec.type, "warcinfo");
        cr_assert_str_eq(rec.block, "software: test");
        cr_assert_eq(nt_warc_next(w, &rec, errstr, sizeof(errstr)), NT_OK, "%s",
                     errstr);
        cr_assert_eq(rec.number, 2);
        cr_assert_eq(rec.offset, second);
        cr_assert_str_eq(rec.version, "WARC/1.1");
        cr_assert_str_eq(rec.type, "response");
        cr_assert_str_eq(rec.target_uri, "https://news.example/rss");
        cr_assert_str_eq(rec.date, "2026-01-05T10:00:00Z");
        snprintf(errstr, sizeof(errstr), "<urn:uuid:%zu>", second);
        cr_assert_str_eq(nt_warc_field(&rec, "warc-record-id"), errstr,
                         "names are case-insensitive");
        cr_assert_eq(rec.block_len, strlen(response));
        cr_assert_eq(memcmp(rec.block, response, rec.block_len), 0);
        cr_assert_eq(nt_warc_next(w, &rec, errstr, sizeof(errstr)),
                     NT_ERR_NOTFOUND);
        cr_assert_eq(nt_warc_bytes_read(w), b.len);
        nt_warc_record_free(&rec);
        nt_warc_close(w);
        fclose(f);
        nt_buf_free(&b);
}

Test(warc, continuation_lines_and_bare_newlines)
{
        static const char text[] = "WARC/1.0\n"
                                   "WARC-Type: resource\n"
                                   "X-Note: first part\n"
                                   "  and the second\n"
                                   "Content-Length: 3\n"
                                   "\n"
                                   "abc\r\n\r\n";
        struct nt_warc_record rec;
        char errstr[300];
        nt_warc_t *w;
        FILE *f = tmpfile();

        fputs(text, f);
        rewind(f);
        w = nt_warc_open(f, NULL, errstr, sizeof(errstr));
        nt_warc_record_init(&rec);
        cr_assert_eq(nt_warc_next(w, &rec, errstr, sizeof(errstr)), NT_OK, "%s",
                     errstr);
        cr_assert_str_eq(nt_warc_field(&rec, "X-Note"),
                         "first part and the second");
        cr_assert_str_eq(rec.block, "abc");
        nt_warc_record_free(&rec);
        nt_warc_close(w);
        fclose(f);
}

Test(warc, gzip_members_report_their_compressed_offsets)
{
        struct nt_buf b, one;
        struct reading rd;
        unsigned long long starts[3];
        int i;

        nt_buf_init(&b, 1 << 20);
        nt_buf_init(&one, 1 << 20);
        for (i = 0; i < 3; i++) {
                char uri[64];

                snprintf(uri, sizeof(uri), "https://news.example/%d", i);
                nt_buf_reset(&one);
                add_record(&one, "WARC/1.0", "response", uri, response, 0);
                starts[i] = b.len;
                add_member(&b, one.data, one.len);
        }
        read_all(file_of(&b), NULL, &rd);
        cr_assert_eq(rd.n, 3);
        for (i = 0; i < 3; i++) {
                cr_assert_eq(rd.codes[i], NT_OK, "record %d: %s", i,
                             rd.errors[i]);
                cr_assert_eq(rd.numbers[i], (unsigned long)i + 1);
                cr_assert_eq(rd.offsets[i], starts[i], "record %d offset", i);
        }
        cr_assert_str_eq(rd.uris[2], "https://news.example/2");
        nt_buf_free(&b);
        nt_buf_free(&one);
}

Test(warc, plain_content_length_too_short_is_reported_and_skipped)
{
        struct nt_buf b;
        struct reading rd;
        char want[64];
        size_t second;

        nt_buf_init(&b, 1 << 20);
        add_record(&b, "WARC/1.0", "response", "https://a.example/", response,
                   0);
        second = b.len;
        add_record(&b, "WARC/1.0", "response", "https://b.example/", response,
                   -7);
        add_record(&b, "WARC/1.0", "response", "https://c.example/", response,
                   0);
        read_all(file_of(&b), NULL, &rd);
        cr_assert_eq(rd.n, 3);
        cr_assert_eq(rd.codes[0], NT_OK);
        cr_assert_eq(rd.codes[1], NT_ERR_PARSE);
        snprintf(want, sizeof(want), "record 2 at byte %zu:", second);
        cr_assert(strstr(rd.errors[1], want), "error: %s", rd.errors[1]);
        cr_assert(strstr(rd.errors[1], "Content-Length"), "error: %s",
                  rd.errors[1]);
        cr_assert_eq(rd.codes[2], NT_OK, "%s", rd.errors[2]);
        cr_assert_eq(rd.numbers[2], 3);
        cr_assert_str_eq(rd.uris[2], "https://c.example/");
        nt_buf_free(&b);
}

Test(warc, plain_content_length_too_long_does_not_swallow_the_next)
{
        struct nt_buf b;
        struct reading rd;

        nt_buf_init(&b, 1 << 20);
        add_record(&b, "WARC/1.0", "response", "https://a.example/", response,
                   0);
        add_record(&b, "WARC/1.0", "response", "https://b.example/", response,
                   60);
        add_record(&b, "WARC/1.0", "response", "https://c.example/", response,
                   0);
        add_record(&b, "WARC/1.0", "response", "https://d.example/", response,
                   0);
        read_all(file_of(&b), NULL, &rd);
        cr_assert_eq(rd.n, 4);
        cr_assert_eq(rd.codes[1], NT_ERR_PARSE);
        cr_assert(strstr(rd.errors[1], "record 2 at byte"), "%s", rd.errors[1]);
        cr_assert_eq(rd.codes[2], NT_OK, "%s", rd.errors[2]);
        cr_assert_str_eq(rd.uris[2], "https://c.example/");
        cr_assert_str_eq(rd.uris[3], "https://d.example/");
        nt_buf_free(&b);
}

Test(warc, gzip_wrong_content_length_stays_in_its_member)
{
        struct nt_buf b;
        struct reading rd;
        char want[80];
        size_t starts[3];

        nt_buf_init(&b, 1 << 20);
        gzip_records(&b, 3, 1, starts);
        read_all(file_of(&b), NULL, &rd);
        cr_assert_eq(rd.n, 3);
        cr_assert_eq(rd.codes[1], NT_ERR_PARSE);
        snprintf(want, sizeof(want), "record 2 (gzip member at byte %zu)",
                 starts[1]);
        cr_assert(strstr(rd.errors[1], want), "error: %s", rd.errors[1]);
        cr_assert(strstr(rd.errors[1], "gzip member ends"), "error: %s",
                  rd.errors[1]);
        cr_assert_eq(rd.codes[2], NT_OK, "%s", rd.errors[2]);
        cr_assert_eq(rd.numbers[2], 3);
        nt_buf_free(&b);
}

Test(warc, truncated_gzip_member_ends_the_file_with_its_offset)
{
        struct nt_buf b;
        struct reading rd;
        char want[80];
        size_t starts[3], last;

        nt_buf_init(&b, 1 << 20);
        gzip_records(&b, 3, -1, starts);
        last = starts[2];
        b.len = last + (b.len - last) / 2; /* cut the last member */
        read_all(file_of(&b), NULL, &rd);
        cr_assert_eq(rd.n, 3);
        cr_assert_eq(rd.codes[0], NT_OK);
        cr_assert_eq(rd.codes[1], NT_OK);
        cr_assert_eq(rd.codes[2], NT_ERR_IO);
        snprintf(want, sizeof(want), "gzip member at byte %zu is truncated",
                 last);
        cr_assert(strstr(rd.errors[2], want), "error: %s", rd.errors[2]);
        cr_assert(strstr(rd.errors[2], "record 3"), "error: %s", rd.errors[2]);
        nt_buf_free(&b);
}

Test(warc, junk_after_the_last_member)
{
        struct nt_buf b, one;
        struct reading rd;
        size_t end;

        nt_buf_init(&b, 1 << 20);
        nt_buf_init(&one, 1 << 20);
        add_record(&one, "WARC/1.0", "response", "https://x.example/", response,
                   0);
        add_member(&b, one.data, one.len);
        end = b.len;
        nt_buf_append_str(&b, "this is not gzip");
        read_all(file_of(&b), NULL, &rd);
        cr_assert_eq(rd.n, 2);
        cr_assert_eq(rd.codes[0], NT_OK);
        cr_assert_eq(rd.codes[1], NT_ERR_IO);
        cr_assert(strstr(rd.errors[1], "byte"), "%s", rd.errors[1]);
        {
                char want[64];
                snprintf(want, sizeof(want), "at byte %zu", end);
                cr_assert(strstr(rd.errors[1], want), "%s", rd.errors[1]);
        }
        nt_buf_free(&b);
        nt_buf_free(&one);
}

Test(warc, bad_header_then_good_record)
{
        struct nt_buf b;
        struct reading rd;

        nt_buf_init(&b, 1 << 20);
        nt_buf_append_str(&b,
                          "WARC/9.9\r\nContent-Length: 2\r\n\r\nxx\r\n\r\n");
        add_record(&b, "WARC/1.0", "response", "https://ok.example/", response,
                   0);
        nt_buf_append_str(&b, "WARC/1.0\r\nWARC-Type: response\r\n\r\n"
                              "x\r\n\r\n");
        read_all(file_of(&b), NULL, &rd);
        cr_assert_eq(rd.n, 3);
        cr_assert_eq(rd.codes[0], NT_ERR_PARSE);
        cr_assert(strstr(rd.errors[0], "record 1 at byte 0: not a WARC "
                                       "record"),
                  "%s", rd.errors[0]);
        cr_assert_eq(rd.codes[1], NT_OK, "%s", rd.errors[1]);
        cr_assert_str_eq(rd.uris[1], "https://ok.example/");
        cr_assert_eq(rd.codes[2], NT_ERR_PARSE);
        cr_assert(strstr(rd.errors[2], "no Content-Length"), "%s",
                  rd.errors[2]);
        nt_buf_free(&b);
}

Test(warc, binary_file_is_not_warc)
{
        struct reading rd;
        FILE *f = tmpfile();
        int i;

        for (i = 0; i < 4096; i++)
                fputc((i * 131) & 0xff, f);
        rewind(f);
        read_all(f, NULL, &rd);
        cr_assert_geq(rd.n, 1);
        cr_assert_eq(rd.codes[0], NT_ERR_PARSE);
        cr_assert(strstr(rd.errors[0], "not a WARC record"), "%s",
                  rd.errors[0]);
}

Test(warc, block_over_the_limit_is_skipped)
{
        struct nt_warc_limits lim;
        struct nt_buf b;
        struct reading rd;

        nt_warc_limits_init(&lim);
        lim.max_block = 20;
        nt_buf_init(&b, 1 << 20);
        add_record(&b, "WARC/1.0", "response", "https://big.example/", response,
                   0);
        add_record(&b, "WARC/1.0", "metadata", "https://small.example/", "tiny",
                   0);
        read_all(file_of(&b), &lim, &rd);
        cr_assert_eq(rd.n, 2);
        cr_assert_eq(rd.codes[0], NT_ERR_PARSE);
        cr_assert(strstr(rd.errors[0], "larger than the limit"), "%s",
                  rd.errors[0]);
        cr_assert_eq(rd.codes[1], NT_OK);
        cr_assert_str_eq(rd.uris[1], "https://small.example/");
        nt_buf_free(&b);
}

/* ---- HTTP ----------------------------------------------------------- */

/* Parses an HTTP response block into h (bodies up to 1 MiB); the test
 * fails unless it parses. Caller frees h with nt_warc_http_free(). */
static void http_ok(const char *text, size_t len, struct nt_warc_http *h)
{
        char errstr[200];

        nt_warc_http_init(h);
        cr_assert_eq(
            nt_warc_http_parse(text, len, 1 << 20, h, errstr, sizeof(errstr)),
            NT_OK, "%s", errstr);
}

Test(warc_http, status_headers_body)
{
        struct nt_warc_http h;

        http_ok(response, strlen(response), &h);
        cr_assert_eq(h.status, 200);
        cr_assert_str_eq(h.content_type, "application/rss+xml; charset=utf-8");
        cr_assert_null(h.content_location);
        cr_assert_str_eq(h.body, "<rss version=\"2.0\"><channel><title>T"
                                 "</title></channel></rss>");
        nt_warc_http_free(&h);
}

/* Chunked bodies: dechunked, or kept as they are when the header lies. */
struct http_chunked_case {
        char name[40];
        char text[200];
        char body[16];
        char location[32]; /* "": none */
};

ParameterizedTestParameters(warc_http, chunked)
{
        static struct http_chunked_case cases[] = {
            {"dechunked",
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
             "Content-Location: https://x.example/a\r\n\r\n"
             "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n",
             "hello, world", "https://x.example/a"},
            {"the header over a plain body",
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n<rss/>",
             "<rss/>", ""},
        };
        return cr_make_param_array(struct http_chunked_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct http_chunked_case *c, warc_http, chunked)
{
        struct nt_warc_http h;

        http_ok(c->text, strlen(c->text), &h);
        cr_assert_str_eq(h.body, c->body, "%s: body \"%s\"", c->name, h.body);
        cr_assert_eq(h.body_len, strlen(c->body), "%s: body_len %zu", c->name,
                     h.body_len);
        if (c->location[0])
                cr_assert_str_eq(h.content_location, c->location, "%s",
                                 c->name);
        else
                cr_assert_null(h.content_location, "%s", c->name);
        nt_warc_http_free(&h);
}

/* HTTP response blocks that are refused, and why. */
struct http_refused_case {
        char name[40];
        char text[160];
        size_t max_body;
        int err;
        char errstr_has[16]; /* "": not checked */
};

ParameterizedTestParameters(warc_http, refused)
{
        static struct http_refused_case cases[] = {
            {"broken chunks",
             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\nff\r\nshort\r\n",
             1 << 20, NT_ERR_PARSE, "chunk"},
            {"body over the limit",
             "HTTP/1.1 200 OK\r\n"
             "Content-Type: application/rss+xml; charset=utf-8\r\n\r\n"
             "<rss version=\"2.0\"><channel><title>T</title></channel></rss>",
             10, NT_ERR_LIMIT, ""},
            {"a request line", "GET / HTTP/1.1\r\n\r\n", 100, NT_ERR_PARSE, ""},
            {"a status that is no number", "HTTP/1.1 2x0 OK\r\n\r\n", 100,
             NT_ERR_PARSE, ""},
        };
        return cr_make_param_array(struct http_refused_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct http_refused_case *c, warc_http, refused)
{
        struct nt_warc_http h;
        char errstr[200] = "";
        int err;

        nt_warc_http_init(&h);
        err = nt_warc_http_parse(c->text, strlen(c->text), c->max_body, &h,
                                 errstr, sizeof(errstr));
        cr_assert_eq(err, c->err, "%s: error %d, want %d (%s)", c->name, err,
                     c->err, errstr);
        if (c->errstr_has[0])
                cr_assert(strstr(errstr, c->errstr_has), "%s: %s", c->name,
                          errstr);
        nt_warc_http_free(&h);
}

Test(warc_http, gzip_content_encoding_is_decoded)
{
        static const char plain[] = "<feed xmlns=\"http://www.w3.org/2005/"
                                    "Atom\"></feed>";
        struct nt_buf b, gz;
        struct nt_warc_http h;

        nt_buf_init(&b, 1 << 20);
        nt_buf_init(&gz, 1 << 20);
        add_member(&gz, plain, strlen(plain));
        nt_buf_append_str(&b, "HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\n"
                              "\r\n");
        nt_buf_append(&b, gz.data, gz.len);
        http_ok(b.data, b.len, &h);
        cr_assert_str_eq(h.body, plain);
        nt_warc_http_free(&h);
        nt_buf_free(&b);
        nt_buf_free(&gz);
}
