#include "common/json_out.h"
#include "common/utf8.h"
#include "common/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first allocation of a writer's buffer, with its NUL. */
#define JSON_OUT_FIRST ((size_t)4096 - 1)

void nt_json_out_init(struct nt_json_out *o, size_t max, int indent)
{
        memset(o, 0, sizeof(*o));
        nt_buf_init(&o->buf, max);
        o->indent = indent;
}

/* Appends n bytes. Most appends are a few bytes into room the buffer
 * has: those are copied here, the rest go through nt_buf_append(). */
static inline void put(struct nt_json_out *o, const char *p, size_t n)
{
        struct nt_buf *b = &o->buf;
        int err;

        if (o->err || n == 0)
                return;
        if (b->cap - b->len > n && b->max - b->len >= n) {
                memcpy(b->data + b->len, p, n);
                b->len += n;
                b->data[b->len] = '\0';
                return;
        }
        /* A document is rarely under a few KB (an article line is about
         * 5): start there rather than grow from 64 bytes. */
        if (b->cap == 0)
                (void)nt_buf_reserve(
                    b, b->max < JSON_OUT_FIRST ? b->max : JSON_OUT_FIRST);
        err = nt_buf_append(b, p, n);
        if (err)
                o->err = err;
}

static void newline(struct nt_json_out *o, int depth)
{
        static const char spaces[] = "                                ";
        size_t n = (size_t)depth * (size_t)o->indent;

        put(o, "\n", 1);
        for (; n > sizeof(spaces) - 1; n -= sizeof(spaces) - 1)
                put(o, spaces, sizeof(spaces) - 1);
        put(o, spaces, n);
}

/* What goes before a value or key: nothing after a key, else a comma
 * after an earlier item, and the indentation. */
static void item(struct nt_json_out *o)
{
        uint32_t bit;

        if (o->after_key) {
                o->after_key = 0;
                return;
        }
        if (o->depth == 0)
                return;
        bit = (uint32_t)1 << (o->depth - 1);
        if (o->used & bit)
                put(o, ",", 1);
        o->used |= bit;
        if (o->indent)
                newline(o, o->depth);
}

static void open_container(struct nt_json_out *o, int object)
{
        uint32_t bit = (uint32_t)1 << o->depth;

        item(o);
        if (o->err)
                return;
        if (o->depth == NT_JSON_OUT_DEPTH) {
                o->err = NT_ERR_LIMIT;
                return;
        }
        put(o, object ? "{" : "[", 1);
        o->used &= ~bit;
        if (object)
                o->objects |= bit;
        else
                o->objects &= ~bit;
        o->depth++;
}

void nt_json_out_object(struct nt_json_out *o)
{
        open_container(o, 1);
}

void nt_json_out_array(struct nt_json_out *o)
{
        open_container(o, 0);
}

void nt_json_out_end(struct nt_json_out *o)
{
        uint32_t bit;

        if (o->err || o->depth == 0)
                return;
        o->depth--;
        bit = (uint32_t)1 << o->depth;
        if ((o->used & bit) && o->indent)
                newline(o, o->depth);
        put(o, o->objects & bit ? "}" : "]", 1);
}

/* The string's bytes between the quotes. The common case, a run of
 * printable ASCII, is copied in one append. */
static void str_body(struct nt_json_out *o, const unsigned char *s, size_t len)
{
        static const char hex[] = "0123456789ABCDEF";
        /* The escapes JSON has a letter for (jansson writes these). */
        static const char two_char[0x80] = {
            ['"'] = '"',  ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f',
            ['\n'] = 'n', ['\r'] = 'r',  ['\t'] = 't'};
        size_t i = 0, run = 0, k;
        char esc[6];
        unsigned char c;

        while (i < len) {
#ifdef NT_HAVE_SSE2
                i = nt_utf8_plain_run(s, i, len, '"', '\\');
                if (i >= len)
                        break;
#endif
                c = s[i];
                if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                        i++;
                        continue;
                }
                /* Two-byte characters (Latin, Cyrillic, Greek...) inline. */
                if (c >= 0xC2 && c <= 0xDF && i + 1 < len &&
                    (s[i + 1] & 0xC0) == 0x80) {
                        i += 2;
                        continue;
                }
                if (c >= 0x80) {
                        k = nt_utf8_len(s + i, len - i);
                        if (k) {
                                i += k;
                                continue;
                        }
                }
                put(o, (const char *)s + run, i - run);
                if (c < 0x80 && two_char[c]) {
                        esc[0] = '\\';
                        esc[1] = two_char[c];
                        put(o, esc, 2);
                } else if (c < 0x20) {
                        memcpy(esc, "\\u00", 4);
                        esc[4] = hex[c >> 4];
                        esc[5] = hex[c & 0x0F];
                        put(o, esc, 6);
                } else {
                        /* A byte that starts no character. */
                        put(o, "\xEF\xBF\xBD", 3);
                }
                run = ++i;
        }
        put(o, (const char *)s + run, len - run);
}

int nt_json_out_append_escaped(struct nt_buf *b, const char *s, size_t n)
{
        struct nt_json_out o;

        /* A writer over the caller's buffer for the call: str_body() and
         * its fast appends serve both. */
        memset(&o, 0, sizeof(o));
        o.buf = *b;
        str_body(&o, (const unsigned char *)s, n);
        *b = o.buf;
        return o.err;
}

void nt_json_out_key(struct nt_json_out *o, const char *key)
{
        item(o);
        put(o, "\"", 1);
        str_body(o, (const unsigned char *)key, strlen(key));
        put(o, "\"", 1);
        if (o->indent)
                put(o, ": ", 2);
        else
                put(o, ":", 1);
        o->after_key = 1;
}

void nt_json_out_str(struct nt_json_out *o, const char *s)
{
        if (!s) {
                nt_json_out_null(o);
                return;
        }
        item(o);
        put(o, "\"", 1);
        str_body(o, (const unsigned char *)s, strlen(s));
        put(o, "\"", 1);
}

void nt_json_out_int(struct nt_json_out *o, int64_t v)
{
        char num[24];
        int n = snprintf(num, sizeof(num), "%" PRId64, v);

        item(o);
        put(o, num, (size_t)n);
}

void nt_json_out_null(struct nt_json_out *o)
{
        item(o);
        put(o, "null", 4);
}

void nt_json_out_bool(struct nt_json_out *o, int v)
{
        item(o);
        if (v)
                put(o, "true", 4);
        else
                put(o, "false", 5);
}

char *nt_json_out_finish(struct nt_json_out *o, int *err)
{
        char *text = NULL;

        *err = o->err;
        if (!o->err) {
                text = nt_buf_detach(&o->buf);
                if (!text)
                        *err = NT_ERR_NOMEM;
        }
        nt_json_out_free(o);
        return text;
}

void nt_json_out_free(struct nt_json_out *o)
{
        int indent;

        if (!o)
                return;
        indent = o->indent;
        nt_buf_free(&o->buf);
        nt_json_out_init(o, o->buf.max, indent);
}
