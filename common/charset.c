#include "common/charset.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/utf8.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Longest encoding label taken seriously; registered names are far
 * shorter, so anything longer is junk rather than a name. */
#define LABEL_MAX 48

/* How far into a document the XML declaration may end. */
#define XML_DECL_MAX 512

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
static const char replacement[] = "\xEF\xBF\xBD";

/* The encoding chosen for a document: the name iconv is given (and the
 * caller is told), how many bytes the BOM takes, and the size of one code
 * unit, which is how far an undecodable sequence is skipped: a byte in
 * the byte-oriented encodings, a whole unit in UTF-16 and UTF-32, where
 * skipping one byte would misalign every character after it. */
struct choice {
        char name[LABEL_MAX];
        size_t bom;
        size_t unit;
        int unknown;
};

/* Labels that name the same decoder under another name, after the WHATWG
 * Encoding Standard's table: above all ISO-8859-1 and US-ASCII, which feeds
 * use for windows-1252 text, and spellings glibc's iconv does not know. */
static const struct {
        const char *label;
        const char *name;
} aliases[] = {
    {"ansi_x3.4-1968", "windows-1252"},
    {"ascii", "windows-1252"},
    {"cp1251", "windows-1251"},
    {"cp1252", "windows-1252"},
    {"cp819", "windows-1252"},
    {"csisolatin1", "windows-1252"},
    {"cskoi8r", "koi8-r"},
    {"gb2312", "gbk"},
    {"ibm819", "windows-1252"},
    {"iso-8859-1", "windows-1252"},
    {"iso-8859-8-i", "iso-8859-8"},
    {"iso-ir-100", "windows-1252"},
    {"iso8859-1", "windows-1252"},
    {"iso88591", "windows-1252"},
    {"iso_8859-1", "windows-1252"},
    {"iso_8859-1:1987", "windows-1252"},
    {"koi", "koi8-r"},
    {"koi8", "koi8-r"},
    {"koi8-ru", "koi8-u"},
    {"koi8_r", "koi8-r"},
    {"l1", "windows-1252"},
    {"latin1", "windows-1252"},
    {"latin-1", "windows-1252"},
    {"ms_kanji", "shift_jis"},
    {"sjis", "shift_jis"},
    {"ucs-2", "utf-16"},
    {"unicode-1-1-utf-8", "utf-8"},
    {"us-ascii", "windows-1252"},
    {"utf8", "utf-8"},
    {"win-1251", "windows-1251"},
    {"x-cp1251", "windows-1251"},
    {"x-cp1252", "windows-1252"},
    {"x-mac-cyrillic", "maccyrillic"},
    {"x-sjis", "shift_jis"},
    {"x-unicode20utf8", "utf-8"},
};

static int is_space(unsigned char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static unsigned char lower(unsigned char c)
{
        return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Length of the longest prefix of s that is valid UTF-8 (no overlong
 * forms, no surrogates, nothing past U+10FFFF). Most feeds are UTF-8,
 * mostly ASCII or two-byte characters (Cyrillic), so blocks of those are
 * checked 16 bytes at a time, and ASCII eight at a time without SSE2. */
static size_t utf8_valid_prefix(const unsigned char *s, size_t len)
{
        size_t i = 0;
        uint64_t word;
        unsigned c, c1;

        while (i < len) {
#ifdef NT_HAVE_SSE2
                i = nt_utf8_valid_run(s, i, len);
#endif
                while (len - i >= 8) {
                        memcpy(&word, s + i, 8);
                        if (word & 0x8080808080808080ULL)
                                break;
                        i += 8;
                }
                if (i == len)
                        break;
                c = s[i];
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c < 0xC2 || c > 0xF4)
                        return i;
                if (c < 0xE0) {
                        if (len - i < 2 || (s[i + 1] & 0xC0) != 0x80)
                                return i;
                        i += 2;
                        continue;
                }
                if (len - i < (c < 0xF0 ? 3u : 4u))
                        return i;
                c1 = s[i + 1];
                if ((c1 & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80)
                        return i;
                if (c < 0xF0) {
                        /* E0 would be overlong below A0, ED a surrogate
                         * from A0 on. */
                        if ((c == 0xE0 && c1 < 0xA0) ||
                            (c == 0xED && c1 > 0x9F))
                                return i;
                        i += 3;
                        continue;
                }
                if ((s[i + 3] & 0xC0) != 0x80 || (c == 0xF0 && c1 < 0x90) ||
                    (c == 0xF4 && c1 > 0x8F))
                        return i;
                i += 4;
        }
        return len;
}

/* True when s[0, len) is valid UTF-8 holding at least one multi-byte
 * sequence: text that a single-byte label is very unlikely to describe
 * (every byte from 0xC2 up would have to be followed by exactly the
 * right number of bytes from 0x80 to 0xBF). */
static int utf8_multibyte(const unsigned char *s, size_t len)
{
        size_t i;

        for (i = 0; i < len && s[i] < 0x80; i++)
                ;
        return i < len && utf8_valid_prefix(s + i, len - i) == len - i;
}

/* True for the single-byte, ASCII-compatible encodings (names as
 * label_normalise leaves them): those whose label a UTF-8 document may
 * carry by mistake (a template's ISO-8859-1 prolog over UTF-8 text). */
static int is_single_byte(const char *name)
{
        static const char *const prefixes[] = {
            "windows-125", "windows-874", "iso-8859-", "iso8859-", "koi8-",
            "mac",         "ibm8",        "cp8",       "cp125",
        };
        size_t i;

        for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
                if (strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
                        return 1;
        }
        return 0;
}

/* Copies a label into name, lower-case and without surrounding white
 * space or quotes, after checking that it could be an encoding name:
 * iconv_open would otherwise take "" as the locale's charset and suffixes
 * such as "//TRANSLIT" as options. Returns 0 or NT_ERR_INVALID. */
static int label_normalise(const char *label, size_t len, char *name,
                           size_t size)
{
        const unsigned char *p = (const unsigned char *)label;
        size_t i, n = 0;

        while (len > 0 && (is_space(*p) || *p == '"' || *p == '\'')) {
                p++;
                len--;
        }
        while (len > 0 && (is_space(p[len - 1]) || p[len - 1] == '"' ||
                           p[len - 1] == '\''))
                len--;
        if (len == 0 || len >= size)
                return NT_ERR_INVALID;
        for (i = 0; i < len; i++) {
                unsigned char c = lower(p[i]);

                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == ':' || c == '+'))
                        return NT_ERR_INVALID;
                name[n++] = (char)c;
        }
        name[n] = '\0';
        for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
                if (strcmp(name, aliases[i].label) == 0) {
                        snprintf(name, size, "%s", aliases[i].name);
                        break;
                }
        }
        return NT_OK;
}

/* The XML 1.0 Appendix F guess for a document without a BOM that starts
 * with "<?" in a 16- or 32-bit encoding. Returns the encoding or NULL. */
static const char *guess_wide(const unsigned char *s, size_t len)
{
        if (len < 4)
                return NULL;
        if (s[0] == 0 && s[1] == 0 && s[2] == 0 && s[3] == '<')
                return "utf-32be";
        if (s[0] == '<' && s[1] == 0 && s[2] == 0 && s[3] == 0)
                return "utf-32le";
        if (s[0] == 0 && s[1] == '<' && s[2] == 0 && s[3] == '?')
                return "utf-16be";
        if (s[0] == '<' && s[1] == 0 && s[2] == '?' && s[3] == 0)
                return "utf-16le";
        return NULL;
}

/* Finds the encoding pseudo-attribute of an XML declaration at the start
 * of an ASCII-compatible document. Returns 0 with the label copied into
 * name, or NT_ERR_NOTFOUND. */
static int xml_decl_encoding(const unsigned char *s, size_t len, char *name,
                             size_t size)
{
        size_t i = 0, end, start;
        unsigned char quote;

        if (len > XML_DECL_MAX)
                len = XML_DECL_MAX;
        /* A declaration must come first, but feeds written by templates
         * often start with a blank line, which parsers forgive. */
        while (i < len && is_space(s[i]))
                i++;
        if (len - i < 6 || memcmp(s + i, "<?xml", 5) != 0 ||
            !is_space(s[i + 5]))
                return NT_ERR_NOTFOUND;
        for (end = i + 5; end + 1 < len; end++) {
                if (s[end] == '?' && s[end + 1] == '>')
                        break;
        }
        if (end + 1 >= len)
                return NT_ERR_NOTFOUND;
        for (i += 5; i + 8 <= end; i++) {
                if (memcmp(s + i, "encoding", 8) == 0 && is_space(s[i - 1]))
                        break;
        }
        if (i + 8 > end)
                return NT_ERR_NOTFOUND;
        i += 8;
        while (i < end && is_space(s[i]))
                i++;
        if (i >= end || s[i] != '=')
                return NT_ERR_NOTFOUND;
        i++;
        while (i < end && is_space(s[i]))
                i++;
        if (i >= end || (s[i] != '"' && s[i] != '\''))
                return NT_ERR_NOTFOUND;
        quote = s[i++];
        start = i;
        while (i < end && s[i] != quote)
                i++;
        if (i >= end)
                return NT_ERR_NOTFOUND;
        if (label_normalise((const char *)s + start, i - start, name, size))
                return NT_ERR_NOTFOUND;
        return NT_OK;
}

static int is_utf16(const char *name)
{
        return strncmp(name, "utf-16", 6) == 0;
}

static int is_utf32(const char *name)
{
        return strncmp(name, "utf-32", 6) == 0 || strcmp(name, "ucs-4") == 0;
}

/* Gives "utf-16" and "utf-32" without a BOM an explicit byte order, so
 * that the name reported is the decoder used: big-endian when the first
 * character's high byte is zero and its low byte is not (which includes
 * Appendix F's "<?" pattern), otherwise little-endian, as the WHATWG
 * standard reads the bare label and as Windows writes such files. */
static void settle_byte_order(struct choice *ch, const unsigned char *s,
                              size_t len)
{
        if (strcmp(ch->name, "utf-16") == 0)
                snprintf(ch->name, sizeof(ch->name), "%s",
                         len >= 2 && s[0] == 0 && s[1] != 0 ? "utf-16be"
                                                            : "utf-16le");
        else if (strcmp(ch->name, "utf-32") == 0 ||
                 strcmp(ch->name, "ucs-4") == 0)
                snprintf(ch->name, sizeof(ch->name), "%s",
                         len >= 4 && s[0] == 0 && s[3] != 0 ? "utf-32be"
                                                            : "utf-32le");
        if (is_utf16(ch->name))
                ch->unit = 2;
        else if (is_utf32(ch->name))
                ch->unit = 4;
}

/* Applies the precedence: BOM, HTTP charset, Appendix F pattern with the
 * XML declaration, UTF-8. */
static void choose(const unsigned char *s, size_t len, const char *http,
                   struct choice *ch)
{
        const char *wide;

        memset(ch, 0, sizeof(*ch));
        ch->unit = 1;
        /* UTF-32LE's BOM begins with UTF-16LE's, so it is tested first. */
        if (len >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF) {
                snprintf(ch->name, sizeof(ch->name), "utf-8");
                ch->bom = 3;
        } else if (len >= 4 && s[0] == 0xFF && s[1] == 0xFE && s[2] == 0 &&
                   s[3] == 0) {
                snprintf(ch->name, sizeof(ch->name), "utf-32le");
                ch->bom = 4;
        } else if (len >= 4 && s[0] == 0 && s[1] == 0 && s[2] == 0xFE &&
                   s[3] == 0xFF) {
                snprintf(ch->name, sizeof(ch->name), "utf-32be");
                ch->bom = 4;
        } else if (len >= 2 && s[0] == 0xFF && s[1] == 0xFE) {
                snprintf(ch->name, sizeof(ch->name), "utf-16le");
                ch->bom = 2;
        } else if (len >= 2 && s[0] == 0xFE && s[1] == 0xFF) {
                snprintf(ch->name, sizeof(ch->name), "utf-16be");
                ch->bom = 2;
        } else if (http && *http) {
                if (label_normalise(http, strlen(http), ch->name,
                                    sizeof(ch->name))) {
                        snprintf(ch->name, sizeof(ch->name), "utf-8");
                        ch->unknown = 1;
                }
        } else if ((wide = guess_wide(s, len)) != NULL) {
                /* The declaration can only be read once decoded, and
                 * it cannot change the family the pattern shows. */
                snprintf(ch->name, sizeof(ch->name), "%s", wide);
        } else if (xml_decl_encoding(s, len, ch->name, sizeof(ch->name)) ==
                   NT_OK) {
                /* A document whose declaration claims a 16- or 32-bit
                 * encoding while its bytes are ASCII-compatible (the
                 * pattern test above failed) is lying; read it as UTF-8. */
                if (is_utf16(ch->name) || is_utf32(ch->name))
                        snprintf(ch->name, sizeof(ch->name), "utf-8");
        } else {
                snprintf(ch->name, sizeof(ch->name), "utf-8");
        }
        settle_byte_order(ch, s + ch->bom, len - ch->bom);
}

/* Decodes with iconv into out, replacing each undecodable unit with
 * U+FFFD. iconv writes into a fixed chunk that is appended to out, so the
 * output limit is nt_buf's. Returns 0, NT_ERR_LIMIT or NT_ERR_NOMEM. */
static int decode_iconv(iconv_t cd, const char *in, size_t len, size_t unit,
                        struct nt_buf *out)
{
        char chunk[8192];
        char *ip = (char *)in, *op;
        size_t ileft = len, oleft, r, skip;
        int err = NT_OK, saved;

        while (ileft > 0) {
                op = chunk;
                oleft = sizeof(chunk);
                r = iconv(cd, &ip, &ileft, &op, &oleft);
                saved = errno;
                err = nt_buf_append(out, chunk, sizeof(chunk) - oleft);
                if (err)
                        goto out;
                if (r != (size_t)-1 || saved == E2BIG)
                        continue;
                if (saved != EILSEQ && saved != EINVAL) {
                        err = NT_ERR_INVALID;
                        goto out;
                }
                /* EILSEQ: an invalid sequence; EINVAL: an incomplete
                 * one at the end. Either way one unit is replaced and
                 * decoding goes on from the next. */
                err = nt_buf_append(out, replacement, 3);
                if (err)
                        goto out;
                skip = ileft < unit ? ileft : unit;
                ip += skip;
                ileft -= skip;
        }
        /* A stateful encoding (ISO-2022-JP) may still hold output back. */
        op = chunk;
        oleft = sizeof(chunk);
        iconv(cd, NULL, NULL, &op, &oleft);
        err = nt_buf_append(out, chunk, sizeof(chunk) - oleft);
out:
        return err;
}

static int decode_with(const char *name, const char *in, size_t len,
                       size_t unit, struct nt_buf *out)
{
        iconv_t cd = iconv_open("UTF-8", name);
        int err;

        if (cd == (iconv_t)-1)
                return errno == EINVAL ? NT_ERR_NOTFOUND : NT_ERR_NOMEM;
        err = decode_iconv(cd, in, len, unit, out);
        iconv_close(cd);
        return err;
}

/* What *recovered reports: a fallback outranks the sniffed UTF-8 (both
 * cannot happen to one document, as sniffing needs valid UTF-8). */
static int recovery(int fell_back, int sniffed)
{
        if (fell_back)
                return NT_CHARSET_FALLBACK;
        return sniffed ? NT_CHARSET_UTF8_SNIFFED : NT_CHARSET_AS_DECLARED;
}

static int convert(const char *data, size_t len, const char *http_charset,
                   size_t max_out, char **out, size_t *out_len, char *encoding,
                   size_t encoding_size, int *recovered, int *borrowed)
{
        const unsigned char *s = (const unsigned char *)data;
        struct choice ch;
        struct nt_buf buf;
        const char *body;
        size_t body_len;
        int err, fell_back = 0, sniffed = 0;

        *out = NULL;
        *out_len = 0;
        nt_buf_init(&buf, max_out);
        choose(s, len, http_charset, &ch);
        body = data + ch.bom;
        body_len = len - ch.bom;
        /* A single-byte label over bytes that are valid UTF-8 with
         * multi-byte sequences: the label is wrong (read as labelled,
         * "Café" would come out as "CafÃ©"), so UTF-8 it is. Text that
         * is pure ASCII reads the same either way and keeps its label. */
        if (!ch.unknown && is_single_byte(ch.name) &&
            utf8_multibyte((const unsigned char *)body, body_len)) {
                snprintf(ch.name, sizeof(ch.name), "utf-8");
                sniffed = 1;
        }
        if (!ch.unknown && strcmp(ch.name, "utf-8") != 0) {
                err = decode_with(ch.name, body, body_len, ch.unit, &buf);
                if (err != NT_ERR_NOTFOUND)
                        goto out;
                /* A label iconv does not know: UTF-8 with the recovery
                 * path, as for a label that is not a name at all. */
                nt_buf_reset(&buf);
                ch.unknown = 1;
                snprintf(ch.name, sizeof(ch.name), "utf-8");
        }
        if (utf8_valid_prefix((const unsigned char *)body, body_len) ==
            body_len) {
                if (borrowed && body_len <= max_out) {
                        /* The common case: hand back the input itself. */
                        *borrowed = 1;
                        *out = (char *)body;
                        *out_len = body_len;
                        if (encoding && encoding_size > 0)
                                snprintf(encoding, encoding_size, "%s",
                                         ch.name);
                        if (recovered)
                                *recovered = recovery(ch.unknown, sniffed);
                        return NT_OK;
                }
                err = nt_buf_append(&buf, body, body_len);
                goto out;
        }
        fell_back = 1;
        snprintf(ch.name, sizeof(ch.name), "windows-1252");
        err = decode_with(ch.name, body, body_len, 1, &buf);
out:
        if (err == NT_OK) {
                *out_len = buf.len;
                *out = nt_buf_detach(&buf);
                if (!*out)
                        err = NT_ERR_NOMEM;
        }
        if (err == NT_OK) {
                if (encoding && encoding_size > 0)
                        snprintf(encoding, encoding_size, "%s", ch.name);
                if (recovered)
                        *recovered = recovery(fell_back || ch.unknown, sniffed);
        } else {
                *out_len = 0;
        }
        nt_buf_free(&buf);
        return err;
}

int nt_charset_to_utf8(const char *data, size_t len, const char *http_charset,
                       size_t max_out, char **out, size_t *out_len,
                       char *encoding, size_t encoding_size, int *recovered)
{
        return convert(data, len, http_charset, max_out, out, out_len, encoding,
                       encoding_size, recovered, NULL);
}

int nt_charset_to_utf8_view(const char *data, size_t len,
                            const char *http_charset, size_t max_out,
                            const char **out, size_t *out_len, int *borrowed,
                            char *encoding, size_t encoding_size,
                            int *recovered)
{
        char *p = NULL;
        int err;

        *borrowed = 0;
        err = convert(data, len, http_charset, max_out, &p, out_len, encoding,
                      encoding_size, recovered, borrowed);
        *out = p;
        return err;
}

int nt_charset_from_content_type(const char *content_type, char *buf,
                                 size_t size)
{
        const char *p = content_type, *name, *value;
        size_t name_len, value_len;

        if (!p)
                return NT_ERR_NOTFOUND;
        /* The media type comes first; parameters follow, each after ';'. */
        while ((p = strchr(p, ';')) != NULL) {
                p++;
                while (is_space((unsigned char)*p))
                        p++;
                name = p;
                while (*p && *p != '=' && *p != ';' &&
                       !is_space((unsigned char)*p))
                        p++;
                name_len = (size_t)(p - name);
                while (is_space((unsigned char)*p))
                        p++;
                if (*p != '=')
                        continue;
                p++;
                while (is_space((unsigned char)*p))
                        p++;
                if (*p == '"' || *p == '\'') {
                        char quote = *p++;

                        value = p;
                        while (*p && *p != quote)
                                p++;
                        value_len = (size_t)(p - value);
                } else {
                        value = p;
                        while (*p && *p != ';' && !is_space((unsigned char)*p))
                                p++;
                        value_len = (size_t)(p - value);
                }
                if (name_len != 7 || strncasecmp(name, "charset", 7) != 0 ||
                    value_len == 0)
                        continue;
                if (value_len >= size)
                        return NT_ERR_LIMIT;
                memcpy(buf, value, value_len);
                buf[value_len] = '\0';
                return NT_OK;
        }
        return NT_ERR_NOTFOUND;
}
