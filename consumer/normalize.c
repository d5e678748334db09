/* Tokeniser and normaliser. Plain words (ASCII letters and digits, the
 * basic Cyrillic block, ended by a separator that joins nothing) are nearly
 * all of news text: scan_plain() folds them with tables, 16 bytes at a time
 * where SSE2 is there. Any other token goes through scan_token(), and one
 * with a character outside those ranges is normalised again as a whole
 * through utf8proc, so that combining sequences compose (и + U+0306
 * becomes й) exactly as NFKC says. */
#include "consumer/normalize.h"

#include "common/buf.h"
#include "common/err.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* SSE2 is part of every x86-64; elsewhere, or built with -DNT_NO_SIMD (to
 * test the scalar paths alone), plain words take the scalar loop. */
#if defined(__SSE2__) && !defined(NT_NO_SIMD)
#include <emmintrin.h>
#define NT_HAVE_SSE2 1
#endif

/* Character classes of the tokeniser. */
enum cls {
        C_SEP = 0, /* separates tokens */
        C_LETTER,  /* letters (and non-decimal numbers such as ², Ⅻ) */
        C_DIGIT,   /* decimal digits */
        C_MARK,    /* combining marks: part of the word they follow */
        C_APOS,    /* apostrophes: inside a word when between letters */
        C_NUMSEP,  /* . and , : inside a number when between digits */
        C_IGN,     /* default-ignorable (soft hyphen, ZWJ): dropped */
};

/* The normalisation every slow-path token and nt_normalize_text() use. */
#define NORM_OPTIONS                                              \
        (UTF8PROC_COMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | \
         UTF8PROC_STABLE | UTF8PROC_IGNORE)

const char *nt_field_name(enum nt_field f)
{
        static const char *const names[] = {
            [NT_FIELD_TITLE] = "title",
            [NT_FIELD_LEAD] = "lead",
            [NT_FIELD_BODY] = "body",
        };
        /* What -Wswitch checked in the switch this replaced, for a field
         * added last: the table must reach NT_FIELD_COUNT. */
        _Static_assert(NT_COUNT_OF(names) == NT_FIELD_COUNT,
                       "a field of enum nt_field without a name");

        return nt_name_of(names, NT_COUNT_OF(names), f, "?");
}

static bool is_apostrophe(int32_t cp)
{
        return cp == 0x27 || cp == 0x2019 || cp == 0x02BC || cp == 0x2018 ||
               cp == 0x60 || cp == 0x2032;
}

static bool is_dash(int32_t cp)
{
        return (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212;
}

/* utf8proc callback: unify apostrophes and dashes before decomposition. */
static utf8proc_int32_t unify_cb(utf8proc_int32_t cp, void *data)
{
        (void)data;
        if (is_apostrophe(cp))
                return 0x27;
        if (is_dash(cp))
                return 0x2D;
        return cp;
}

/* Decodes one UTF-8 character at p (n > 0 bytes left). Returns its length;
 * *cp is -1 for an invalid sequence (then the length is 1). Overlongs and
 * surrogates are rejected, as utf8proc_iterate does. */
static size_t decode(const unsigned char *p, size_t n, int32_t *cp)
{
        unsigned char b = p[0];
        int32_t c;

        if (b < 0x80) {
                *cp = b;
                return 1;
        }
        if (b >= 0xC2 && b <= 0xDF && n >= 2 && (p[1] & 0xC0) == 0x80) {
                *cp = ((int32_t)(b & 0x1F) << 6) | (p[1] & 0x3F);
                return 2;
        }
        if (b >= 0xE0 && b <= 0xEF && n >= 3 && (p[1] & 0xC0) == 0x80 &&
            (p[2] & 0xC0) == 0x80) {
                c = ((int32_t)(b & 0x0F) << 12) |
                    ((int32_t)(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
                if (c >= 0x800 && (c < 0xD800 || c > 0xDFFF)) {
                        *cp = c;
                        return 3;
                }
        }
        if (b >= 0xF0 && b <= 0xF4 && n >= 4 && (p[1] & 0xC0) == 0x80 &&
            (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80) {
                c = ((int32_t)(b & 0x07) << 18) |
                    ((int32_t)(p[1] & 0x3F) << 12) |
                    ((int32_t)(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
                if (c >= 0x10000 && c <= 0x10FFFF) {
                        *cp = c;
                        return 4;
                }
        }
        *cp = -1;
        return 1;
}

/* Class of a character outside the fast ranges, from its Unicode
 * properties. */
static enum cls classify_slow(int32_t cp)
{
        const utf8proc_property_t *prop;

        if (cp < 0)
                return C_SEP;
        if (is_apostrophe(cp))
                return C_APOS;
        prop = utf8proc_get_property(cp);
        if (prop->ignorable)
                return C_IGN;
        switch (prop->category) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
                return C_LETTER;
        case UTF8PROC_CATEGORY_ND:
                return C_DIGIT;
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
        case UTF8PROC_CATEGORY_ME:
                return C_MARK;
        default:
                return C_SEP;
        }
}

/* Folds a character of the fast ranges (ASCII letters and digits, the
 * basic Cyrillic letters U+0400-U+045F and Ґ/ґ) to its NFKC case-folded
 * form, which for these is a single character. Returns -1 for any other
 * character, which sends the token down the utf8proc path. */
static inline int32_t fold_fast(int32_t cp)
{
        if (cp < 0x80) {
                if (cp >= 'A' && cp <= 'Z')
                        return cp + 32;
                if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9'))
                        return cp;
                return -1;
        }
        if (cp >= 0x410 && cp <= 0x42F)
                return cp + 0x20;
        if (cp >= 0x400 && cp <= 0x40F)
                return cp + 0x50;
        if (cp >= 0x430 && cp <= 0x45F)
                return cp;
        if (cp == 0x490 || cp == 0x491)
                return 0x491;
        return -1;
}

/* Token flags contributed by one normalised (folded) character. */
static inline uint8_t cp_flags(int32_t cp)
{
        if (cp < 0x80)
                return (cp >= '0' && cp <= '9') ? 0 : NT_TOK_LATIN;
        if (cp >= 0x400 && cp <= 0x52F) {
                if (cp == 0x456 || cp == 0x457 || cp == 0x454 || cp == 0x491)
                        return NT_TOK_CYRILLIC | NT_TOK_UK;
                if (cp == 0x44B || cp == 0x44D || cp == 0x44A || cp == 0x451)
                        return NT_TOK_CYRILLIC | NT_TOK_RU;
                return NT_TOK_CYRILLIC;
        }
        if (cp < 0x250)
                return NT_TOK_LATIN;
        return NT_TOK_OTHER;
}

/* The basic Cyrillic fold on the bytes, indexed by (lead byte & 1) << 6 |
 * (second byte & 0x3F) for lead bytes D0 and D1: the two bytes of the
 * lower-case form, and the token flags the letter gives (Ukrainian-only
 * є і ї, Russian-only ъ ы э ё). Flags 0 for D1 A0..BF, past the block.
 * A table, because the letters of a word alternate between the ranges at
 * random and branches on them mispredict. */
struct cyr_fold {
        unsigned char lower[2];
        uint8_t flags;
};

#define CY NT_TOK_CYRILLIC
#define UK (NT_TOK_CYRILLIC | NT_TOK_UK)
#define RU (NT_TOK_CYRILLIC | NT_TOK_RU)
static const struct cyr_fold cyr_fold[128] = {
    {{0xd1, 0x90}, CY}, {{0xd1, 0x91}, RU}, {{0xd1, 0x92}, CY},
    {{0xd1, 0x93}, CY}, {{0xd1, 0x94}, UK}, {{0xd1, 0x95}, CY},
    {{0xd1, 0x96}, UK}, {{0xd1, 0x97}, UK}, {{0xd1, 0x98}, CY},
    {{0xd1, 0x99}, CY}, {{0xd1, 0x9a}, CY}, {{0xd1, 0x9b}, CY},
    {{0xd1, 0x9c}, CY}, {{0xd1, 0x9d}, CY}, {{0xd1, 0x9e}, CY},
    {{0xd1, 0x9f}, CY}, {{0xd0, 0xb0}, CY}, {{0xd0, 0xb1}, CY},
    {{0xd0, 0xb2}, CY}, {{0xd0, 0xb3}, CY}, {{0xd0, 0xb4}, CY},
    {{0xd0, 0xb5}, CY}, {{0xd0, 0xb6}, CY}, {{0xd0, 0xb7}, CY},
    {{0xd0, 0xb8}, CY}, {{0xd0, 0xb9}, CY}, {{0xd0, 0xba}, CY},
    {{0xd0, 0xbb}, CY}, {{0xd0, 0xbc}, CY}, {{0xd0, 0xbd}, CY},
    {{0xd0, 0xbe}, CY}, {{0xd0, 0xbf}, CY}, {{0xd1, 0x80}, CY},
    {{0xd1, 0x81}, CY}, {{0xd1, 0x82}, CY}, {{0xd1, 0x83}, CY},
    {{0xd1, 0x84}, CY}, {{0xd1, 0x85}, CY}, {{0xd1, 0x86}, CY},
    {{0xd1, 0x87}, CY}, {{0xd1, 0x88}, CY}, {{0xd1, 0x89}, CY},
    {{0xd1, 0x8a}, RU}, {{0xd1, 0x8b}, RU}, {{0xd1, 0x8c}, CY},
    {{0xd1, 0x8d}, RU}, {{0xd1, 0x8e}, CY}, {{0xd1, 0x8f}, CY},
    {{0xd0, 0xb0}, CY}, {{0xd0, 0xb1}, CY}, {{0xd0, 0xb2}, CY},
    {{0xd0, 0xb3}, CY}, {{0xd0, 0xb4}, CY}, {{0xd0, 0xb5}, CY},
    {{0xd0, 0xb6}, CY}, {{0xd0, 0xb7}, CY}, {{0xd0, 0xb8}, CY},
    {{0xd0, 0xb9}, CY}, {{0xd0, 0xba}, CY}, {{0xd0, 0xbb}, CY},
    {{0xd0, 0xbc}, CY}, {{0xd0, 0xbd}, CY}, {{0xd0, 0xbe}, CY},
    {{0xd0, 0xbf}, CY}, {{0xd1, 0x80}, CY}, {{0xd1, 0x81}, CY},
    {{0xd1, 0x82}, CY}, {{0xd1, 0x83}, CY}, {{0xd1, 0x84}, CY},
    {{0xd1, 0x85}, CY}, {{0xd1, 0x86}, CY}, {{0xd1, 0x87}, CY},
    {{0xd1, 0x88}, CY}, {{0xd1, 0x89}, CY}, {{0xd1, 0x8a}, RU},
    {{0xd1, 0x8b}, RU}, {{0xd1, 0x8c}, CY}, {{0xd1, 0x8d}, RU},
    {{0xd1, 0x8e}, CY}, {{0xd1, 0x8f}, CY}, {{0xd1, 0x90}, CY},
    {{0xd1, 0x91}, RU}, {{0xd1, 0x92}, CY}, {{0xd1, 0x93}, CY},
    {{0xd1, 0x94}, UK}, {{0xd1, 0x95}, CY}, {{0xd1, 0x96}, UK},
    {{0xd1, 0x97}, UK}, {{0xd1, 0x98}, CY}, {{0xd1, 0x99}, CY},
    {{0xd1, 0x9a}, CY}, {{0xd1, 0x9b}, CY}, {{0xd1, 0x9c}, CY},
    {{0xd1, 0x9d}, CY}, {{0xd1, 0x9e}, CY}, {{0xd1, 0x9f}, CY},
};
#undef CY
#undef UK
#undef RU

/* ASCII characters that may join two parts of a token: apostrophes
 * between letters (1), and . and , between digits (2). */
static const unsigned char ascii_join[128] = {
    ['\''] = 1,
    ['`'] = 1,
    ['.'] = 2,
    [','] = 2,
};

/* ASCII letters and digits, letters folded to lower case; 0 for every
 * other byte, including all bytes of multi-byte characters. */
static const unsigned char ascii_word[256] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
    0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73,
    0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b,
    0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77,
    0x78, 0x79, 0x7a,
};

static enum cls classify(const unsigned char *p, size_t n, int32_t *cp,
                         size_t *cplen)
{
        /* The ASCII table: letters, digits, the apostrophes ' and `, and
         * the number separators . and , ; the rest separates. */
        unsigned char b = p[0];

        if (b < 0x80) {
                *cp = b;
                *cplen = 1;
                if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z'))
                        return C_LETTER;
                if (b >= '0' && b <= '9')
                        return C_DIGIT;
                if (b == '\'' || b == '`')
                        return C_APOS;
                if (b == '.' || b == ',')
                        return C_NUMSEP;
                return C_SEP;
        }
        *cplen = decode(p, n, cp);
        if (fold_fast(*cp) >= 0)
                return C_LETTER;
        return classify_slow(*cp);
}

void nt_tokens_init(struct nt_tokens *t, size_t max_tokens)
{
        memset(t, 0, sizeof(*t));
        t->max = max_tokens;
}

void nt_tokens_free(struct nt_tokens *t)
{
        if (!t)
                return;
        free(t->tok);
        free(t->text);
        free(t->ucs);
        nt_tokens_init(t, t->max);
}

void nt_tokens_reset(struct nt_tokens *t)
{
        t->n = 0;
        t->text_len = 0;
        memset(t->first, 0, sizeof(t->first));
}

/* Room for `more` bytes of text. The usual case, room enough, is
 * answered here: this runs for every token. */
static int text_reserve(struct nt_tokens *t, size_t more)
{
        if (more <= t->text_cap - t->text_len)
                return 0;
        if (more > SIZE_MAX - t->text_len)
                return NT_ERR_NOMEM;
        return nt_array_grow(&t->text, &t->text_cap, t->text_len + more, 1);
}

static int tok_reserve(struct nt_tokens *t)
{
        size_t cap;
        struct nt_token *p;

        if (t->n < t->cap)
                return 0;
        if (t->n >= t->max)
                return NT_ERR_LIMIT;
        cap = t->cap ? t->cap * 2 : 512;
        if (cap > t->max)
                cap = t->max;
        p = realloc(t->tok, cap * sizeof(*p));
        if (!p)
                return NT_ERR_NOMEM;
        t->tok = p;
        t->cap = cap;
        return 0;
}

/* Runs NFKC + case folding over in[0..len) with utf8proc into the
 * codepoint scratch; returns the number of codepoints or a negative
 * error. */
static int decompose(struct nt_tokens *t, const char *in, size_t len,
                     utf8proc_ssize_t *out_n)
{
        utf8proc_ssize_t n;
        int32_t *p;

        for (;;) {
                n = utf8proc_decompose_custom(
                    (const utf8proc_uint8_t *)in, (utf8proc_ssize_t)len,
                    (utf8proc_int32_t *)t->ucs, (utf8proc_ssize_t)t->ucs_cap,
                    NORM_OPTIONS, unify_cb, NULL);
                if (n < 0)
                        return n == UTF8PROC_ERROR_NOMEM ? NT_ERR_NOMEM
                                                         : NT_ERR_INVALID;
                if ((size_t)n <= t->ucs_cap)
                        break;
                p = realloc(t->ucs, ((size_t)n + 16) * sizeof(*p));
                if (!p)
                        return NT_ERR_NOMEM;
                t->ucs = p;
                t->ucs_cap = (size_t)n + 16;
        }
        n = utf8proc_normalize_utf32((utf8proc_int32_t *)t->ucs, n,
                                     NORM_OPTIONS);
        if (n < 0)
                return NT_ERR_INVALID;
        *out_n = n;
        return 0;
}

/* Normalises a token through utf8proc, replacing its fast-path form at the
 * end of the arena; recomputes the script flags. */
static int normalize_slow(struct nt_tokens *t, struct nt_token *tok,
                          const char *text)
{
        utf8proc_ssize_t n, i;
        uint8_t flags = tok->flags & NT_TOK_NUMBER;
        int err;

        err = decompose(t, text + tok->start, tok->end - tok->start, &n);
        if (err)
                return err;
        t->text_len = tok->norm;
        err = text_reserve(t, (size_t)n * 4 + 8);
        if (err)
                return err;
        for (i = 0; i < n; i++) {
                int32_t cp = t->ucs[i];

                if (utf8proc_category(cp) != UTF8PROC_CATEGORY_ND)
                        flags |= cp_flags(cp);
                t->text_len += (size_t)utf8proc_encode_char(
                    cp, (utf8proc_uint8_t *)t->text + t->text_len);
        }
        tok->flags = flags;
        tok->norm_len = (uint16_t)(t->text_len - tok->norm);
        return 0;
}

/* Appends the UTF-8 of a folded fast-range character. */
static inline void put_fast(struct nt_tokens *t, int32_t cp)
{
        if (cp < 0x80) {
                t->text[t->text_len++] = (char)cp;
        } else {
                t->text[t->text_len++] = (char)(0xC0 | (cp >> 6));
                t->text[t->text_len++] = (char)(0x80 | (cp & 0x3F));
        }
}

/* True when the character at text[i] (if any) is a letter or mark, or a
 * digit when want_digit. */
static bool next_is(const char *text, size_t i, size_t len, bool want_digit)
{
        int32_t cp;
        size_t n;
        enum cls c;

        if (i >= len)
                return false;
        c = classify((const unsigned char *)text + i, len - i, &cp, &n);
        if (want_digit)
                return c == C_DIGIT;
        return c == C_LETTER || c == C_MARK || c == C_DIGIT;
}

/* Scans one token starting at text[*pos] (a word character); appends it. */
static int scan_token(struct nt_tokens *t, enum nt_field field,
                      const char *text, size_t len, size_t *pos)
{
        const unsigned char *u = (const unsigned char *)text;
        struct nt_token *tok;
        size_t i = *pos, cplen, last_apos = SIZE_MAX, limit;
        enum cls c, prev = C_SEP;
        char *w;
        bool slow = false, number = true;
        uint8_t flags = 0;
        int32_t cp, f;
        int err;

        /* A token's fast form is never longer than its input, so
         * NT_TOKEN_MAX_BYTES bounds the arena space it needs. */
        if (t->n >= t->cap ||
            t->text_len + NT_TOKEN_MAX_BYTES + 8 > t->text_cap) {
                err = tok_reserve(t);
                if (!err)
                        err = text_reserve(t, NT_TOKEN_MAX_BYTES + 8);
                if (err)
                        return err;
        }
        tok = &t->tok[t->n];
        tok->start = (uint32_t)i;
        tok->norm = (uint32_t)t->text_len;
        tok->field = (uint8_t)field;
        /* The fast paths write through a local pointer: stores through a
         * char pointer could alias t->text_len and would force the
         * compiler to reload it for every byte. */
        w = t->text + t->text_len;
        limit = i + NT_TOKEN_MAX_BYTES;
        while (i < len) {
                unsigned char b = u[i];

                /* Fast paths for ASCII letters and digits and the basic
                 * Cyrillic block, which make up most of the text: fold
                 * inline. Everything else takes the general path. */
                if (b < 0x80) {
                        size_t run = i, end;

                        /* A run of ASCII letters: find its end, then copy
                         * it lower-cased, in two simple loops. */
                        while (run < len &&
                               (unsigned)((u[run] | 0x20) - 'a') < 26u)
                                run++;
                        if (run > i) {
                                end = run < limit ? run : limit;
                                if (!slow)
                                        for (; i < end; i++)
                                                *w++ = (char)(u[i] | 0x20);
                                i = run;
                                flags |= NT_TOK_LATIN;
                                number = false;
                                prev = C_LETTER;
                                continue;
                        }
                        if ((unsigned)(b - '0') < 10u) {
                                if (!slow && i < limit)
                                        *w++ = (char)b;
                                prev = C_DIGIT;
                                i++;
                                continue;
                        }
                        /* Other ASCII ends the word, except the joiners. */
                        if (b != '\'' && b != '`' && b != '.' && b != ',')
                                break;
                } else if ((b == 0xD0 || b == 0xD1) && i + 1 < len &&
                           (u[i + 1] & 0xC0) == 0x80 &&
                           (((b & 0x1F) << 6) | (u[i + 1] & 0x3F)) <= 0x45F) {
                        uint8_t cyr = 0;
                        /* Folded bytes are written while i + 2 <= wlim:
                         * up to the length limit, or not at all once the
                         * token goes the slow way. */
                        size_t wlim = slow ? 0 : limit;

                        /* A run of basic Cyrillic letters (U+0400..U+045F:
                         * lead byte D0, or D1 with 80..9F), folded on the
                         * bytes: upper case moves to its lower-case
                         * encoding. */
                        for (;;) {
                                const struct cyr_fold *e =
                                    &cyr_fold[((unsigned)(b & 1) << 6) |
                                              (u[i + 1] & 0x3Fu)];
                                unsigned char c2;

                                if (!e->flags)
                                        break;
                                cyr |= e->flags;
                                if (i + 2 <= wlim) {
                                        w[0] = (char)e->lower[0];
                                        w[1] = (char)e->lower[1];
                                        w += 2;
                                }
                                i += 2;
                                if (i + 1 >= len)
                                        break;
                                b = u[i];
                                c2 = u[i + 1];
                                if ((b & 0xFE) != 0xD0 || (c2 & 0xC0) != 0x80)
                                        break;
                        }
                        flags |= cyr;
                        number = false;
                        prev = C_LETTER;
                        continue;
                }
                t->text_len = (size_t)(w - t->text);
                c = classify(u + i, len - i, &cp, &cplen);
                if (c == C_LETTER || c == C_DIGIT || c == C_MARK) {
                        if (c != C_DIGIT)
                                number = false;
                } else if (c == C_APOS &&
                           (prev == C_LETTER || prev == C_MARK) &&
                           next_is(text, i + cplen, len, false)) {
                        number = false;
                        last_apos = i;
                        cp = '\'';
                } else if (c == C_NUMSEP && prev == C_DIGIT &&
                           next_is(text, i + cplen, len, true)) {
                        /* 1,000 and 3.5 stay one token. */
                } else if (c == C_IGN && prev != C_SEP &&
                           next_is(text, i + cplen, len, false)) {
                        /* Soft hyphens inside words vanish. */
                        slow = true;
                        i += cplen;
                        continue;
                } else {
                        break;
                }
                if (i + cplen - tok->start <= NT_TOKEN_MAX_BYTES && !slow) {
                        f = (c == C_APOS || c == C_NUMSEP) ? cp : fold_fast(cp);
                        if (f < 0) {
                                slow = true;
                        } else {
                                if (c == C_LETTER)
                                        flags |= cp_flags(f);
                                put_fast(t, f);
                        }
                }
                w = t->text + t->text_len;
                prev = c;
                i += cplen;
        }
        t->text_len = (size_t)(w - t->text);
        tok->end = (uint32_t)i;
        tok->flags = (uint8_t)(flags | (number ? NT_TOK_NUMBER : 0));
        *pos = i;
        if (i - tok->start > NT_TOKEN_MAX_BYTES) {
                tok->flags |= NT_TOK_LONG;
                tok->norm_len = 0;
                t->text_len = tok->norm;
        } else if (slow) {
                err = normalize_slow(t, tok, text);
                if (err)
                        return err;
        } else {
                tok->norm_len = (uint16_t)(t->text_len - tok->norm);
        }
        /* English possessives: "Russia's" is the word "russia", so that
         * rules need not list every possessive. Only for Latin words, and
         * the span shrinks with it; "п'ять" keeps its apostrophe. */
        if (last_apos != SIZE_MAX && tok->norm_len > 2 &&
            !(tok->flags & (NT_TOK_CYRILLIC | NT_TOK_OTHER)) &&
            t->text[tok->norm + tok->norm_len - 2] == '\'' &&
            t->text[tok->norm + tok->norm_len - 1] == 's') {
                tok->norm_len -= 2;
                t->text_len -= 2;
                tok->end = (uint32_t)last_apos;
        }
        t->n++;
        return 0;
}

#ifdef NT_HAVE_SSE2
/* The plain-word scan on 16 bytes at once (SSE2, part of every x86-64):
 * the length of the run of plain word bytes at p (0 to 16), with its
 * folded form stored at w (16 bytes are written, the run's length is
 * meaningful). *ascii and *cyr collect what fold_plain()'s scalar loop
 * collects. A basic Cyrillic lead byte in the last position never counts
 * (its second byte lies outside), so a run of 16 ends on a character
 * boundary. */
static inline unsigned plain_run16(const unsigned char *p, char *w,
                                   unsigned *ascii, uint8_t *cyr)
{
#define SET1(x) _mm_set1_epi8((char)(x))
        const __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        const __m128i lower = _mm_or_si128(v, SET1(0x20));
        /* Signed compares: bytes 80..FF are negative, below every bound. */
        const __m128i letter =
            _mm_and_si128(_mm_cmpgt_epi8(lower, SET1('a' - 1)),
                          _mm_cmpgt_epi8(SET1('z' + 1), lower));
        const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, SET1('0' - 1)),
                                            _mm_cmpgt_epi8(SET1('9' + 1), v));
        /* ASCII letters fold by setting 0x20, which every digit has. */
        const __m128i ascii_fold = _mm_and_si128(letter, SET1(0x20));
        unsigned m_letter = (unsigned)_mm_movemask_epi8(letter);
        unsigned m_alnum = m_letter | (unsigned)_mm_movemask_epi8(digit);
        unsigned m_lead = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_and_si128(v, SET1(0xFE)), SET1(0xD0)));
        unsigned m_cont, m_hi, m_d1, m_ok, m_run, m_after, run;
        __m128i out, d0, after_d0, after_d1, hit;

        if (!m_lead) {
                run = (unsigned)__builtin_ctz(~m_alnum);
                _mm_storeu_si128((__m128i *)(void *)w,
                                 _mm_or_si128(v, ascii_fold));
                if (m_letter & ((1u << run) - 1))
                        *ascii |= 0x40;
                return run;
        }
        m_cont = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_and_si128(v, SET1(0xC0)), SET1(0x80)));
        m_hi = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_and_si128(v, SET1(0xE0)), SET1(0xA0)));
        m_d1 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, SET1(0xD1)));
        /* A lead counts with a second byte 80..BF, and for D1 only 80..9F
         * (U+0440..U+045F). */
        m_ok = m_lead & (m_cont >> 1) & ~(m_d1 & (m_hi >> 1));
        m_run = m_alnum | m_ok | (m_ok << 1);
        run = (unsigned)__builtin_ctz(~m_run);
        m_run = (1u << run) - 1;
        m_after = (m_ok << 1) & m_run; /* second bytes in the run */
        out = _mm_or_si128(v, ascii_fold);
        d0 = _mm_cmpeq_epi8(v, SET1(0xD0));
        after_d0 = _mm_slli_si128(d0, 1);
        /* Upper case is a second byte 80..AF after D0; most blocks have
         * none, and skip the arithmetic. */
        if ((unsigned)_mm_movemask_epi8(
                _mm_and_si128(after_d0, _mm_cmpgt_epi8(SET1(0xB0), v))) &
            m_after) {
                const __m128i hi = _mm_and_si128(v, SET1(0xF0));
                const __m128i n8 = _mm_cmpeq_epi8(hi, SET1(0x80));
                const __m128i n9 = _mm_cmpeq_epi8(hi, SET1(0x90));
                const __m128i nA = _mm_cmpeq_epi8(hi, SET1(0xA0));
                /* 80..8F (Ѐ-Џ) +0x10 with lead D1, 90..9F (А-П) +0x20,
                 * A0..AF (Р-Я) -0x20 with lead D1. */
                const __m128i d_cont = _mm_and_si128(
                    after_d0,
                    _mm_or_si128(_mm_or_si128(_mm_and_si128(n8, SET1(0x10)),
                                              _mm_and_si128(n9, SET1(0x20))),
                                 _mm_and_si128(nA, SET1(0xE0))));
                const __m128i d_lead = _mm_and_si128(
                    _mm_and_si128(d0, _mm_srli_si128(_mm_or_si128(n8, nA), 1)),
                    SET1(1));

                out = _mm_add_epi8(out, _mm_add_epi8(d_cont, d_lead));
        }
        _mm_storeu_si128((__m128i *)(void *)w, out);
        if (m_letter & m_run)
                *ascii |= 0x40;
        if (!m_after)
                return run;
        *cyr |= NT_TOK_CYRILLIC;
        /* Second bytes after a folded D1: є 94, і 96, ї 97 only Ukrainian
         * uses; ъ 8A, ы 8B, э 8D, ё 91 only Russian. */
        after_d1 = _mm_slli_si128(_mm_cmpeq_epi8(out, SET1(0xD1)), 1);
        hit = _mm_or_si128(
            _mm_cmpeq_epi8(out, SET1(0x94)),
            _mm_cmpeq_epi8(_mm_and_si128(out, SET1(0xFE)), SET1(0x96)));
        if ((unsigned)_mm_movemask_epi8(_mm_and_si128(after_d1, hit)) & m_after)
                *cyr |= NT_TOK_UK;
        hit = _mm_or_si128(
            _mm_cmpeq_epi8(_mm_and_si128(out, SET1(0xFE)), SET1(0x8A)),
            _mm_or_si128(_mm_cmpeq_epi8(out, SET1(0x8D)),
                         _mm_cmpeq_epi8(out, SET1(0x91))));
        if ((unsigned)_mm_movemask_epi8(_mm_and_si128(after_d1, hit)) & m_after)
                *cyr |= NT_TOK_RU;
        return run;
#undef SET1
}
#endif

/* Folds the run of plain word characters at u[i] (ASCII letters and
 * digits, basic Cyrillic letters) to *w, advancing it; returns where the
 * run ends. *ascii collects the ASCII bytes (0x40 set by a letter), *cyr
 * the Cyrillic letters' flags. The caller has room at *w for len - i
 * bytes plus 8: the fold is never longer than its input. */
static inline size_t fold_plain(const unsigned char *u, size_t len, size_t i,
                                char **w, unsigned *ascii, uint8_t *cyr)
{
        char *o = *w;

#ifdef NT_HAVE_SSE2
        /* Whole blocks while 16 bytes remain (the 16 bytes stored fit, as
         * the output is no longer than the input and i + 16 <= len). A
         * block that stops the run ends it, unless it stopped at a D0/D1
         * byte, which may be a lead whose second byte the block cut off:
         * then the scalar loop below decides. */
        while (i + 16 <= len) {
                unsigned run = plain_run16(u + i, o, ascii, cyr);

                i += run;
                o += run;
                if (run < 16) {
                        if ((u[i] & 0xFE) != 0xD0) {
                                *w = o;
                                return i;
                        }
                        break;
                }
        }
#endif
        while (i < len) {
                unsigned char b = u[i], c = ascii_word[b];
                const struct cyr_fold *e;

                if (c) {
                        *o++ = (char)c;
                        *ascii |= c;
                        i++;
                        continue;
                }
                if ((b & 0xFE) != 0xD0 || i + 1 >= len ||
                    (u[i + 1] & 0xC0) != 0x80)
                        break;
                e = &cyr_fold[((unsigned)(b & 1) << 6) | (u[i + 1] & 0x3Fu)];
                if (!e->flags)
                        break;
                o[0] = (char)e->lower[0];
                o[1] = (char)e->lower[1];
                o += 2;
                *cyr |= e->flags;
                i += 2;
        }
        *w = o;
        return i;
}

/* Scans a plain token at text[*pos]: plain word characters (see
 * fold_plain()) ended by a separator that joins nothing. Nearly every word
 * of news text is one, and none of scan_token()'s rules apply to it. Sets
 * *taken and appends the token, or leaves *taken false and appends
 * nothing when the token needs scan_token(). 0 or an error. */
static int scan_plain(struct nt_tokens *t, enum nt_field field,
                      const unsigned char *u, size_t len, size_t *pos,
                      bool *taken)
{
        size_t i = *pos, start = i, n, text_len, n_tok;
        unsigned ascii = 0;
        uint8_t cyr = 0, flags;
        char *w, *w0;
        int err;

        *taken = false;
        if (t->text_len + (len - i) + 8 > t->text_cap) {
                err = text_reserve(t, (len - i) + 8);
                if (err)
                        return err;
        }
        /* Read before the stores below, which could alias them. */
        text_len = t->text_len;
        n_tok = t->n;
        w = w0 = t->text + text_len;
        i = fold_plain(u, len, i, &w, &ascii, &cyr);
        if (i == start)
                return 0;
        /* What ends the word must not join: an apostrophe may continue it,
         * and . or , after a digit may continue a number; a non-ASCII
         * character must be a separator. */
        if (i < len) {
                unsigned char b = u[i];
                int32_t cp;

                if (b < 0x80) {
                        /* 1 always joins, 2 only after a digit; a table
                         * and a mask, as the separators vary at random. */
                        unsigned after_digit = (unsigned)(w[-1] - '0') < 10u;

                        if (ascii_join[b] & (1u | (after_digit << 1)))
                                return 0;
                } else if (classify(u + i, len - i, &cp, &n) != C_SEP) {
                        return 0;
                }
        }
        if (n_tok >= t->cap) {
                err = tok_reserve(t);
                if (err)
                        return err;
        }
        flags = (uint8_t)(cyr | ((ascii & 0x40) ? NT_TOK_LATIN : 0));
        if (!flags)
                flags = NT_TOK_NUMBER;
        if (i - start > NT_TOKEN_MAX_BYTES) {
                flags |= NT_TOK_LONG;
                w = w0;
        }
        t->tok[n_tok] = (struct nt_token){
            .start = (uint32_t)start,
            .end = (uint32_t)i,
            .norm = (uint32_t)text_len,
            .norm_len = (uint16_t)(w - w0),
            .flags = flags,
            .field = (uint8_t)field,
        };
        t->n = n_tok + 1;
        t->text_len = text_len + (size_t)(w - w0);
        *pos = i;
        *taken = true;
        return 0;
}

int nt_tokens_add(struct nt_tokens *t, enum nt_field field, const char *text,
                  size_t len)
{
        const unsigned char *u = (const unsigned char *)text;
        size_t i = 0, cplen;
        int32_t cp;
        enum cls c;
        int err = 0, f;

        if ((unsigned)field >= NT_FIELD_COUNT)
                return NT_ERR_INVALID;
        if (len >= UINT32_MAX)
                return NT_ERR_LIMIT;
        /* Fields come in order; empty fields in between get empty ranges. */
        for (f = (int)field; f <= NT_FIELD_COUNT; f++)
                t->first[f] = t->n;
        while (i < len) {
                unsigned char b = u[i];

                /* ASCII separators are skipped without decoding; words
                 * starting with an ASCII letter or digit or a basic
                 * Cyrillic letter try the plain scan first. */
                if (b < 0x80 ? ascii_word[b] != 0 : (b & 0xFE) == 0xD0) {
                        bool taken;

                        err = scan_plain(t, field, u, len, &i, &taken);
                        if (err)
                                break;
                        if (taken)
                                continue;
                } else if (b < 0x80) {
                        i++;
                        continue;
                }
                c = classify(u + i, len - i, &cp, &cplen);
                if (c == C_LETTER || c == C_DIGIT || c == C_MARK) {
                        err = scan_token(t, field, text, len, &i);
                        if (err)
                                break;
                } else {
                        i += cplen;
                }
        }
        for (f = (int)field + 1; f <= NT_FIELD_COUNT; f++)
                t->first[f] = t->n;
        return err;
}

int nt_tokens_add_fields(struct nt_tokens *t, const struct nt_text_fields *in)
{
        int f, err;

        nt_tokens_reset(t);
        for (f = 0; f < NT_FIELD_COUNT; f++) {
                err = nt_tokens_add(t, (enum nt_field)f,
                                    in->text[f] ? in->text[f] : "",
                                    in->text[f] ? in->len[f] : 0);
                if (err)
                        return err;
        }
        return 0;
}

/* ---- sentences ---- */

/* Short forms that a "." follows without ending the sentence, as
 * normalised (case-folded) words, grouped by their length in bytes (a
 * Cyrillic letter is two) so that a word is compared with a few of them
 * only. Single letters are caught by length. */
static const char *const abbrev2[] = {"mr", "ms", "dr", "st", "jr",
                                      "sr", "vs", "lt", "co", "no"};
static const char *const abbrev3[] = {
    "mrs", "gen", "col", "sgt", "cpt", "maj", "adm", "gov", "sen",
    "rep", "rev", "inc", "ltd", "nos", "fig", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
static const char *const abbrev4[] = {
    "capt", "prof", "corp", "sept", "ст", "гг", "рр", "ул",
    "пл",   "им",   "ім",   "см",   "тт", "др", "ін", "пп"};
static const char *const abbrev6[] = {"approx", "тис", "тыс", "млн", "грн",
                                      "руб",    "коп", "дол", "обл", "вул",
                                      "див",    "ген", "пол"};
static const char *const abbrev8[] = {"млрд", "долл", "напр", "проф", "акад"};
static const char *const abbrev10[] = {"просп"};

/* The lists indexed by the length of their words. */
static const struct {
        const char *const *words;
        size_t count;
} abbrevs[] = {
    [2] = {abbrev2, NT_COUNT_OF(abbrev2)},
    [3] = {abbrev3, NT_COUNT_OF(abbrev3)},
    [4] = {abbrev4, NT_COUNT_OF(abbrev4)},
    [6] = {abbrev6, NT_COUNT_OF(abbrev6)},
    [8] = {abbrev8, NT_COUNT_OF(abbrev8)},
    [10] = {abbrev10, NT_COUNT_OF(abbrev10)},
};

static bool is_abbrev(const struct nt_tokens *t, size_t i)
{
        const struct nt_token *tok = &t->tok[i];
        const char *w = nt_tokens_norm(t, i);
        size_t n = tok->norm_len, k;

        if (n == 0 || (tok->flags & NT_TOK_NUMBER))
                return false;
        /* One letter: an initial or a one-letter short form. */
        if (n == 1 || (n == 2 && (unsigned char)w[0] >= 0xC0))
                return true;
        if (n >= NT_COUNT_OF(abbrevs))
                return false;
        for (k = 0; k < abbrevs[n].count; k++)
                if (abbrevs[n].words[k][0] == w[0] &&
                    memcmp(abbrevs[n].words[k], w, n) == 0)
                        return true;
        return false;
}

/* True when the word at p starts with a lower-case letter: ASCII a-z, or
 * Cyrillic а-я, ѐ-џ (і ї є ё), ґ. */
static bool starts_lower(const unsigned char *p, size_t n)
{
        if (n == 0)
                return false;
        if (p[0] >= 'a' && p[0] <= 'z')
                return true;
        if (n < 2)
                return false;
        if (p[0] == 0xD0)
                return p[1] >= 0xB0 && p[1] <= 0xBF;
        if (p[0] == 0xD1)
                return p[1] >= 0x80 && p[1] <= 0x9F;
        return p[0] == 0xD2 && p[1] == 0x91;
}

/* Whether the gap g[0..n) between two words of one field ends a sentence.
 * prev is the word before the gap, next_p the text of the word after. */
static bool gap_ends_sentence(const struct nt_tokens *t, size_t prev,
                              const unsigned char *g, size_t n,
                              const unsigned char *next_p, size_t next_n)
{
        bool dot = false, newline = false;
        size_t i;

        for (i = 0; i < n; i++) {
                switch (g[i]) {
                case '?':
                case '!':
                        return true;
                case '.':
                        dot = true;
                        break;
                case '\n':
                        if (newline)
                                return true; /* a blank line */
                        newline = true;
                        break;
                case 0xE2: /* … U+2026 */
                        if (i + 2 < n && g[i + 1] == 0x80 && g[i + 2] == 0xA6)
                                return true;
                        break;
                default:
                        break;
                }
        }
        if (!dot && !newline)
                return false;
        if (starts_lower(next_p, next_n))
                return false;
        if (dot && !newline && is_abbrev(t, prev))
                return false;
        return true;
}

/* The bytes without which a gap cannot end a sentence (see
 * gap_ends_sentence()): ? ! . a line break, and E2, the lead byte of "…". */
static const unsigned char sent_mark[256] = {
    ['?'] = 1, ['!'] = 1, ['.'] = 1, ['\n'] = 1, [0xE2] = 1,
};

size_t nt_tokens_sentences(const struct nt_tokens *t,
                           const struct nt_text_fields *in, uint32_t *sent,
                           uint32_t *first)
{
        const struct nt_token *tok = t->tok;
        uint32_t cur = 0;
        size_t i, f;

        if (t->n == 0) {
                if (first)
                        first[0] = 0;
                return 0;
        }
        for (f = 0; f < NT_FIELD_COUNT; f++) {
                const unsigned char *text = (const unsigned char *)in->text[f];
                size_t from = t->first[f], end = t->first[f + 1];

                if (from == end)
                        continue;
                if (from > 0)
                        cur++; /* a field starts a sentence */
                sent[from] = cur;
                if (first)
                        first[cur] = (uint32_t)from;
                for (i = from + 1; i < end; i++) {
                        uint32_t a = tok[i - 1].end, b = tok[i].start;

                        /* Most gaps are one or two bytes without a mark:
                         * one test, with no branch on which bytes they
                         * are (text[a + 1] is at most the next token's
                         * first byte). A comma and one more byte never
                         * end a sentence, even a comma and a line break. */
                        if (((b - a > 2) | sent_mark[text[a]] |
                             sent_mark[text[a + 1]]) &&
                            !(b - a == 2 && text[a] == ',') &&
                            gap_ends_sentence(t, i - 1, text + a, b - a,
                                              text + b, tok[i].end - b)) {
                                sent[i] = ++cur;
                                if (first)
                                        first[cur] = (uint32_t)i;
                                continue;
                        }
                        sent[i] = cur;
                }
        }
        if (first)
                first[cur + 1] = (uint32_t)t->n;
        return (size_t)cur + 1;
}

int nt_normalize_text(const char *in, size_t len, char **out, size_t *out_len)
{
        struct nt_tokens t;
        utf8proc_ssize_t n, i;
        size_t used = 0;
        char *s = NULL;
        int err;

        nt_tokens_init(&t, 0);
        err = decompose(&t, in, len, &n);
        if (err)
                goto out;
        s = malloc((size_t)n * 4 + 1);
        if (!s) {
                err = NT_ERR_NOMEM;
                goto out;
        }
        for (i = 0; i < n; i++)
                used += (size_t)utf8proc_encode_char(
                    t.ucs[i], (utf8proc_uint8_t *)s + used);
        s[used] = '\0';
        *out = s;
        *out_len = used;
        s = NULL;
out:
        free(s);
        nt_tokens_free(&t);
        return err;
}
