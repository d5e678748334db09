/* The scanner behind nt_json_in_load(). Every construct it takes, it
 * takes exactly as jansson's load.c does (its strings through the same
 * escapes and the same UTF-8 rules, its objects through the same
 * json_object_setn_new_nocheck(), so a repeated key replaces the value in
 * place as it does there); wherever jansson would fail, or where matching
 * it byte for byte would need more code than the case is worth (reals),
 * the scanner declines and json_loadb() reads the document again. */
#include "common/json_in.h"

#include "common/utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Integers of up to this many digits fit an int64_t whatever they are. */
#define INT_DIGITS_MAX 18

struct scan {
        const unsigned char *s;
        size_t len, i;
        int depth;
        char *tmp; /* decoded strings with escapes; grows to the input */
        size_t tmp_cap;
        bool unique; /* a repeated key declines the document */
};

static json_t *scan_value(struct scan *sc);

static void skip_ws(struct scan *sc)
{
        while (sc->i < sc->len) {
                unsigned char c = sc->s[sc->i];

                if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
                        return;
                sc->i++;
        }
}

static bool is_hex(unsigned char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
               (c >= 'A' && c <= 'F');
}

static unsigned hex_val(unsigned char c)
{
        if (c <= '9')
                return (unsigned)(c - '0');
        if (c >= 'a')
                return (unsigned)(c - 'a' + 10);
        return (unsigned)(c - 'A' + 10);
}

static unsigned hex4(const unsigned char *p)
{
        return hex_val(p[0]) << 12 | hex_val(p[1]) << 8 | hex_val(p[2]) << 4 |
               hex_val(p[3]);
}

/* Finds the end of the string whose opening quote is at sc->i, checking
 * what jansson's lexer checks: no raw control characters, well-formed
 * UTF-8, escapes among \" \\ \/ \b \f \n \r \t \uXXXX. On success sc->i
 * is past the closing quote, [*start, *end) is the raw content and
 * *escaped says whether it holds a backslash. */
static bool string_end(struct scan *sc, size_t *start, size_t *end,
                       bool *escaped)
{
        const unsigned char *s = sc->s;
        size_t i = sc->i + 1, len = sc->len;

        *start = i;
        *escaped = false;
        for (;;) {
                unsigned char c;

#ifdef NT_HAVE_SSE2
                i = nt_utf8_plain_run(s, i, len, '"', '\\');
#endif
                if (i >= len)
                        return false;
                c = s[i];
                if (c == '"')
                        break;
                if (c == '\\') {
                        if (i + 1 >= len)
                                return false;
                        c = s[i + 1];
                        if (c == 'u') {
                                if (i + 6 > len || !is_hex(s[i + 2]) ||
                                    !is_hex(s[i + 3]) || !is_hex(s[i + 4]) ||
                                    !is_hex(s[i + 5]))
                                        return false;
                                i += 6;
                        } else if (c == '"' || c == '\\' || c == '/' ||
                                   c == 'b' || c == 'f' || c == 'n' ||
                                   c == 'r' || c == 't') {
                                i += 2;
                        } else {
                                return false;
                        }
                        *escaped = true;
                } else if (c < 0x20) {
                        return false;
                } else if (c < 0x80) {
                        i++;
                } else {
                        size_t k = nt_utf8_len(s + i, len - i);

                        if (!k)
                                return false;
                        i += k;
                }
        }
        *end = i;
        sc->i = i + 1;
        return true;
}

static size_t utf8_put(char *out, unsigned cp)
{
        if (cp < 0x80) {
                out[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char)(0xC0 | cp >> 6);
                out[1] = (char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char)(0xE0 | cp >> 12);
                out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
                out[2] = (char)(0x80 | (cp & 0x3F));
                return 3;
        }
        out[0] = (char)(0xF0 | cp >> 18);
        out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
}

/* Decodes the escapes of the checked content [start, end) into sc->tmp,
 * which is never longer than the content. False for what jansson refuses
 * there (a lone or unpaired surrogate, \u0000) and when out of memory. */
static bool unescape(struct scan *sc, size_t start, size_t end, size_t *n)
{
        const unsigned char *s = sc->s;
        size_t i = start, o = 0;

        if (end - start > sc->tmp_cap) {
                size_t cap = end - start < 4096 ? 4096 : end - start;
                char *p = realloc(sc->tmp, cap);

                if (!p)
                        return false;
                sc->tmp = p;
                sc->tmp_cap = cap;
        }
        while (i < end) {
                const unsigned char *bs = memchr(s + i, '\\', end - i);
                size_t run = bs ? (size_t)(bs - (s + i)) : end - i;
                unsigned cp;

                memcpy(sc->tmp + o, s + i, run);
                o += run;
                i += run;
                if (i >= end)
                        break;
                switch (s[i + 1]) {
                case 'b':
                        cp = '\b';
                        break;
                case 'f':
                        cp = '\f';
                        break;
                case 'n':
                        cp = '\n';
                        break;
                case 'r':
                        cp = '\r';
                        break;
                case 't':
                        cp = '\t';
                        break;
                case 'u':
                        cp = hex4(s + i + 2);
                        break;
                default:
                        cp = s[i + 1];
                        break;
                }
                i += s[i + 1] == 'u' ? 6 : 2;
                if (cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
                        return false;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                        unsigned lo;

                        /* string_end() checked any \u's four hex digits. */
                        if (i + 6 > end || s[i] != '\\' || s[i + 1] != 'u')
                                return false;
                        lo = hex4(s + i + 2);
                        if (lo < 0xDC00 || lo > 0xDFFF)
                                return false;
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        i += 6;
                }
                o += utf8_put(sc->tmp + o, cp);
        }
        *n = o;
        return true;
}

static json_t *scan_string(struct scan *sc)
{
        size_t start, end, n;
        bool escaped;

        if (!string_end(sc, &start, &end, &escaped))
                return NULL;
        if (!escaped)
                return json_stringn_nocheck((const char *)sc->s + start,
                                            end - start);
        if (!unescape(sc, start, end, &n))
                return NULL;
        return json_stringn_nocheck(sc->tmp, n);
}

static json_t *scan_integer(struct scan *sc)
{
        const unsigned char *s = sc->s;
        size_t i = sc->i, digits;
        bool neg = false;
        int64_t v = 0;

        if (s[i] == '-') {
                neg = true;
                i++;
        }
        if (i >= sc->len || s[i] < '0' || s[i] > '9')
                return NULL;
        if (s[i] == '0') {
                i++;
        } else {
                for (digits = 0; i < sc->len && s[i] >= '0' && s[i] <= '9';
                     digits++, i++) {
                        if (digits == INT_DIGITS_MAX)
                                return NULL;
                        v = v * 10 + (s[i] - '0');
                }
        }
        /* A fraction or an exponent makes a real; a digit after a leading
         * 0 is an error. Both are jansson's to handle. */
        if (i < sc->len && (s[i] == '.' || s[i] == 'e' || s[i] == 'E' ||
                            (s[i] >= '0' && s[i] <= '9')))
                return NULL;
        sc->i = i;
        return json_integer(neg ? -v : v);
}

static bool literal(struct scan *sc, const char *word, size_t n)
{
        if (sc->len - sc->i < n || memcmp(sc->s + sc->i, word, n) != 0)
                return false;
        sc->i += n;
        return true;
}

/* Past the opening bracket at sc->i and the white space after it: true
 * when the container closes at once (its closing bracket is skipped). */
static bool opens_empty(struct scan *sc, char close)
{
        sc->i++;
        skip_ws(sc);
        if (sc->i < sc->len && sc->s[sc->i] == (unsigned char)close) {
                sc->i++;
                return true;
        }
        return false;
}

/* After an item: 1 when the container closes (the bracket skipped), 0
 * when a comma says another item follows (skipped with the white space
 * after it), -1 for anything else. */
static int next_item(struct scan *sc, char close)
{
        skip_ws(sc);
        if (sc->i >= sc->len)
                return -1;
        if (sc->s[sc->i] == (unsigned char)close) {
                sc->i++;
                return 1;
        }
        if (sc->s[sc->i] != ',')
                return -1;
        sc->i++;
        skip_ws(sc);
        return 0;
}

static json_t *scan_object(struct scan *sc)
{
        json_t *obj = json_object();

        if (!obj)
                return NULL;
        if (opens_empty(sc, '}'))
                return obj;
        for (;;) {
                size_t start, end, size;
                bool escaped;
                json_t *v;
                int step;

                /* Keys are set straight from the input: one with an
                 * escape is left to jansson. */
                if (sc->i >= sc->len || sc->s[sc->i] != '"' ||
                    !string_end(sc, &start, &end, &escaped) || escaped)
                        goto fail;
                skip_ws(sc);
                if (sc->i >= sc->len || sc->s[sc->i] != ':')
                        goto fail;
                sc->i++;
                skip_ws(sc);
                v = scan_value(sc);
                size = json_object_size(obj);
                if (!v || json_object_setn_new_nocheck(
                              obj, (const char *)sc->s + start, end - start, v))
                        goto fail;
                /* A repeated key replaced a value instead of adding one:
                 * under JSON_REJECT_DUPLICATES jansson says so. */
                if (sc->unique && json_object_size(obj) == size)
                        goto fail;
                step = next_item(sc, '}');
                if (step < 0)
                        goto fail;
                if (step > 0)
                        return obj;
        }
fail:
        json_decref(obj);
        return NULL;
}

static json_t *scan_array(struct scan *sc)
{
        json_t *arr = json_array();

        if (!arr)
                return NULL;
        if (opens_empty(sc, ']'))
                return arr;
        for (;;) {
                int step;

                if (json_array_append_new(arr, scan_value(sc)))
                        goto fail;
                step = next_item(sc, ']');
                if (step < 0)
                        goto fail;
                if (step > 0)
                        return arr;
        }
fail:
        json_decref(arr);
        return NULL;
}

/* The value at sc->i (white space skipped before it), or NULL. */
static json_t *scan_value(struct scan *sc)
{
        json_t *v = NULL;

        if (sc->i >= sc->len || sc->depth >= NT_JSON_IN_DEPTH)
                return NULL;
        sc->depth++;
        switch (sc->s[sc->i]) {
        case '{':
                v = scan_object(sc);
                break;
        case '[':
                v = scan_array(sc);
                break;
        case '"':
                v = scan_string(sc);
                break;
        case 't':
                v = literal(sc, "true", 4) ? json_true() : NULL;
                break;
        case 'f':
                v = literal(sc, "false", 5) ? json_false() : NULL;
                break;
        case 'n':
                v = literal(sc, "null", 4) ? json_null() : NULL;
                break;
        default:
                v = scan_integer(sc);
                break;
        }
        sc->depth--;
        return v;
}

static json_t *scan_document(const char *buf, size_t len, bool unique)
{
        struct scan sc = {
            (const unsigned char *)buf, len, 0, 0, NULL, 0, unique};
        json_t *root = NULL;

        if (!buf)
                return NULL;
        skip_ws(&sc);
        /* jansson's loaders take an object or an array at the top. */
        if (sc.i < len && (buf[sc.i] == '{' || buf[sc.i] == '['))
                root = scan_value(&sc);
        skip_ws(&sc);
        if (root && sc.i != len) {
                json_decref(root);
                root = NULL;
        }
        free(sc.tmp);
        return root;
}

json_t *nt_json_in_scan(const char *buf, size_t len)
{
        return scan_document(buf, len, false);
}

json_t *nt_json_in_load(const char *buf, size_t len, json_error_t *error)
{
        json_t *root = nt_json_in_scan(buf, len);

        if (root)
                return root;
        return json_loadb(buf ? buf : "", buf ? len : 0, 0, error);
}

json_t *nt_json_in_load_unique(const char *buf, size_t len, json_error_t *error)
{
        json_t *root = scan_document(buf, len, true);

        if (root)
                return root;
        return json_loadb(buf ? buf : "", buf ? len : 0, JSON_REJECT_DUPLICATES,
                          error);
}
