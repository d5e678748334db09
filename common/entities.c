#include "common/entities.h"
#include "common/err.h"
#include "common/num.h"

#include <stdio.h>
#include <string.h>

/* Longest reference name looked at; the longest HTML 4 name has eight
 * letters, so a longer run of name characters is text, not a reference. */
#define NAME_MAX_LEN 32

/* Characters read after "&#" looking for the ';'; the value is clamped
 * past U+10FFFF, so a longer number is still one (bad) reference. */
#define DIGITS_MAX 32

/* Bytes kept for the names of entities a DOCTYPE declares. */
#define DECLARED_MAX 2048

/* One named reference: its code point, for the numeric reference that
 * replaces it in XML, and its UTF-8 text, for decoding. */
struct entity {
        char name[9];
        unsigned short cp;
        unsigned char utf8[4];
};

/* The UTF-8 bytes of a code point below U+10000 as constant
 * expressions, so that the table holds both forms without code to build
 * them at run time. Every branch is masked to a byte: compilers check the
 * branches a constant does not take too. */
#define U8_1(c)                                     \
        ((c) < 0x80    ? (c)&0x7F                   \
         : (c) < 0x800 ? 0xC0 | (((c) >> 6) & 0x1F) \
                       : 0xE0 | (((c) >> 12) & 0x0F))
#define U8_2(c)                            \
        ((c) < 0x80    ? 0                 \
         : (c) < 0x800 ? 0x80 | ((c)&0x3F) \
                       : 0x80 | (((c) >> 6) & 0x3F))
#define U8_3(c) ((c) < 0x800 ? 0 : 0x80 | ((c)&0x3F))
#define E(n, c)                                      \
        {                                            \
                n, c,                                \
                {                                    \
                        U8_1(c), U8_2(c), U8_3(c), 0 \
                }                                    \
        }

/* The 252 character entity references of HTML 4.01 (its Latin-1,
 * symbol and special sets) and XML's &apos;, sorted by name in byte
 * order for the binary search. */
static const struct entity entities[] = {
    E("AElig", 198),   E("Aacute", 193),   E("Acirc", 194),
    E("Agrave", 192),  E("Alpha", 913),    E("Aring", 197),
    E("Atilde", 195),  E("Auml", 196),     E("Beta", 914),
    E("Ccedil", 199),  E("Chi", 935),      E("Dagger", 8225),
    E("Delta", 916),   E("ETH", 208),      E("Eacute", 201),
    E("Ecirc", 202),   E("Egrave", 200),   E("Epsilon", 917),
    E("Eta", 919),     E("Euml", 203),     E("Gamma", 915),
    E("Iacute", 205),  E("Icirc", 206),    E("Igrave", 204),
    E("Iota", 921),    E("Iuml", 207),     E("Kappa", 922),
    E("Lambda", 923),  E("Mu", 924),       E("Ntilde", 209),
    E("Nu", 925),      E("OElig", 338),    E("Oacute", 211),
    E("Ocirc", 212),   E("Ograve", 210),   E("Omega", 937),
    E("Omicron", 927), E("Oslash", 216),   E("Otilde", 213),
    E("Ouml", 214),    E("Phi", 934),      E("Pi", 928),
    E("Prime", 8243),  E("Psi", 936),      E("Rho", 929),
    E("Scaron", 352),  E("Sigma", 931),    E("THORN", 222),
    E("Tau", 932),     E("Theta", 920),    E("Uacute", 218),
    E("Ucirc", 219),   E("Ugrave", 217),   E("Upsilon", 933),
    E("Uuml", 220),    E("Xi", 926),       E("Yacute", 221),
    E("Yuml", 376),    E("Zeta", 918),     E("aacute", 225),
    E("acirc", 226),   E("acute", 180),    E("aelig", 230),
    E("agrave", 224),  E("alefsym", 8501), E("alpha", 945),
    E("amp", 38),      E("and", 8743),     E("ang", 8736),
    E("apos", 39),     E("aring", 229),    E("asymp", 8776),
    E("atilde", 227),  E("auml", 228),     E("bdquo", 8222),
    E("beta", 946),    E("brvbar", 166),   E("bull", 8226),
    E("cap", 8745),    E("ccedil", 231),   E("cedil", 184),
    E("cent", 162),    E("chi", 967),      E("circ", 710),
    E("clubs", 9827),  E("cong", 8773),    E("copy", 169),
    E("crarr", 8629),  E("cup", 8746),     E("curren", 164),
    E("dArr", 8659),   E("dagger", 8224),  E("darr", 8595),
    E("deg", 176),     E("delta", 948),    E("diams", 9830),
    E("divide", 247),  E("eacute", 233),   E("ecirc", 234),
    E("egrave", 232),  E("empty", 8709),   E("emsp", 8195),
    E("ensp", 8194),   E("epsilon", 949),  E("equiv", 8801),
    E("eta", 951),     E("eth", 240),      E("euml", 235),
    E("euro", 8364),   E("exist", 8707),   E("fnof", 402),
    E("forall", 8704), E("frac12", 189),   E("frac14", 188),
    E("frac34", 190),  E("frasl", 8260),   E("gamma", 947),
    E("ge", 8805),     E("gt", 62),        E("hArr", 8660),
    E("harr", 8596),   E("hearts", 9829),  E("hellip", 8230),
    E("iacute", 237),  E("icirc", 238),    E("iexcl", 161),
    E("igrave", 236),  E("image", 8465),   E("infin", 8734),
    E("int", 8747),    E("iota", 953),     E("iquest", 191),
    E("isin", 8712),   E("iuml", 239),     E("kappa", 954),
    E("lArr", 8656),   E("lambda", 955),   E("lang", 9001),
    E("laquo", 171),   E("larr", 8592),    E("lceil", 8968),
    E("ldquo", 8220),  E("le", 8804),      E("lfloor", 8970),
    E("lowast", 8727), E("loz", 9674),     E("lrm", 8206),
    E("lsaquo", 8249), E("lsquo", 8216),   E("lt", 60),
    E("macr", 175),    E("mdash", 8212),   E("micro", 181),
    E("middot", 183),  E("minus", 8722),   E("mu", 956),
    E("nabla", 8711),  E("nbsp", 160),     E("ndash", 8211),
    E("ne", 8800),     E("ni", 8715),      E("not", 172),
    E("notin", 8713),  E("nsub", 8836),    E("ntilde", 241),
    E("nu", 957),      E("oacute", 243),   E("ocirc", 244),
    E("oelig", 339),   E("ograve", 242),   E("oline", 8254),
    E("omega", 969),   E("omicron", 959),  E("oplus", 8853),
    E("or", 8744),     E("ordf", 170),     E("ordm", 186),
    E("oslash", 248),  E("otilde", 245),   E("otimes", 8855),
    E("ouml", 246),    E("para", 182),     E("part", 8706),
    E("permil", 8240), E("perp", 8869),    E("phi", 966),
    E("pi", 960),      E("piv", 982),      E("plusmn", 177),
    E("pound", 163),   E("prime", 8242),   E("prod", 8719),
    E("prop", 8733),   E("psi", 968),      E("quot", 34),
    E("rArr", 8658),   E("radic", 8730),   E("rang", 9002),
    E("raquo", 187),   E("rarr", 8594),    E("rceil", 8969),
    E("rdquo", 8221),  E("real", 8476),    E("reg", 174),
    E("rfloor", 8971), E("rho", 961),      E("rlm", 8207),
    E("rsaquo", 8250), E("rsquo", 8217),   E("sbquo", 8218),
    E("scaron", 353),  E("sdot", 8901),    E("sect", 167),
    E("shy", 173),     E("sigma", 963),    E("sigmaf", 962),
    E("sim", 8764),    E("spades", 9824),  E("sub", 8834),
    E("sube", 8838),   E("sum", 8721),     E("sup", 8835),
    E("sup1", 185),    E("sup2", 178),     E("sup3", 179),
    E("supe", 8839),   E("szlig", 223),    E("tau", 964),
    E("there4", 8756), E("theta", 952),    E("thetasym", 977),
    E("thinsp", 8201), E("thorn", 254),    E("tilde", 732),
    E("times", 215),   E("trade", 8482),   E("uArr", 8657),
    E("uacute", 250),  E("uarr", 8593),    E("ucirc", 251),
    E("ugrave", 249),  E("uml", 168),      E("upsih", 978),
    E("upsilon", 965), E("uuml", 252),     E("weierp", 8472),
    E("xi", 958),      E("yacute", 253),   E("yen", 165),
    E("yuml", 255),    E("zeta", 950),     E("zwj", 8205),
    E("zwnj", 8204),
};

#undef E
#undef U8_1
#undef U8_2
#undef U8_3

/* What windows-1252 puts at 0x80-0x9F: HTML reads numeric references to
 * those C1 controls as the punctuation authors meant (&#146; is a right
 * single quote). Zero where windows-1252 has no character either. */
static const unsigned short c1_remap[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017D, 0,
    0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

static const struct entity *entity_find(const char *name, size_t len)
{
        size_t lo = 0, hi = sizeof(entities) / sizeof(entities[0]), mid, n;
        int cmp;

        if (len == 0 || len >= sizeof(entities[0].name))
                return NULL;
        while (lo < hi) {
                mid = lo + (hi - lo) / 2;
                n = strlen(entities[mid].name);
                cmp = memcmp(name, entities[mid].name, len < n ? len : n);
                if (cmp == 0)
                        cmp = len < n ? -1 : len > n ? 1 : 0;
                if (cmp == 0)
                        return &entities[mid];
                if (cmp < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return NULL;
}

const char *nt_entity_lookup(const char *name, size_t len)
{
        const struct entity *e = entity_find(name, len);

        return e ? (const char *)e->utf8 : NULL;
}

/* Encodes a code point (at most U+10FFFF) as UTF-8 into b; returns the
 * length. */
static size_t utf8_put(unsigned long cp, char *b)
{
        if (cp < 0x80) {
                b[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                b[0] = (char)(0xC0 | (cp >> 6));
                b[1] = (char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                b[0] = (char)(0xE0 | (cp >> 12));
                b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                b[2] = (char)(0x80 | (cp & 0x3F));
                return 3;
        }
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
}

static int is_alpha(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(unsigned char c)
{
        return c >= '0' && c <= '9';
}

/* A character XML 1.0 allows in a document. */
static int xml_char(unsigned long cp)
{
        return cp == 0x9 || cp == 0xA || cp == 0xD ||
               (cp >= 0x20 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
               (cp >= 0x10000 && cp <= 0x10FFFF);
}

static int name_start(unsigned char c)
{
        return is_alpha(c) || c == '_' || c == ':' || c >= 0x80;
}

static int name_char(unsigned char c)
{
        return name_start(c) || is_digit(c) || c == '-' || c == '.';
}

/* A numeric reference "&#...;" at s[0] (s[0] == '&', s[1] == '#'). */
struct numref {
        size_t len;       /* bytes up to and with ';', 0 when not closed */
        int valid;        /* digits present and all of the right base */
        int upper_x;      /* written "&#X", which XML does not allow */
        unsigned long cp; /* the value, clamped past U+10FFFF */
};

static void numref_scan(const unsigned char *s, size_t len, struct numref *r)
{
        size_t i = 2, start;
        int hex = 0, d;

        memset(r, 0, sizeof(*r));
        if (i < len && (s[i] == 'x' || s[i] == 'X')) {
                hex = 1;
                r->upper_x = s[i] == 'X';
                i++;
        }
        start = i;
        r->valid = 1;
        while (i < len && i - start <= DIGITS_MAX &&
               (is_alpha(s[i]) || is_digit(s[i]))) {
                d = hex              ? nt_num_hex_digit(s[i])
                    : is_digit(s[i]) ? s[i] - '0'
                                     : -1;
                if (d < 0)
                        r->valid = 0;
                else if (r->cp <= 0x10FFFF)
                        r->cp = r->cp * (hex ? 16 : 10) + (unsigned long)d;
                i++;
        }
        if (i == start)
                r->valid = 0;
        if (i < len && s[i] == ';')
                r->len = i + 1;
}

/* Length of the name of a named reference at s[0] == '&' when it is
 * closed by ';' (the ';' not counted), else 0. */
static size_t name_scan(const unsigned char *s, size_t len)
{
        size_t i = 1;

        if (i >= len || !name_start(s[i]))
                return 0;
        while (i < len && i <= NAME_MAX_LEN && name_char(s[i]))
                i++;
        if (i >= len || s[i] != ';')
                return 0;
        return i - 1;
}

/* Names of the general entities a DOCTYPE's internal subset declares: a
 * document may define its own, and references to them are its business. */
struct declared {
        char pool[DECLARED_MAX]; /* names, each NUL-terminated */
        size_t used;
};

static void declared_add(struct declared *d, const unsigned char *name,
                         size_t len)
{
        /* Past the pool's size further names are forgotten: their
         * references then read as unknown, which costs text, not safety. */
        if (len == 0 || len + 1 > sizeof(d->pool) - d->used)
                return;
        memcpy(d->pool + d->used, name, len);
        d->pool[d->used + len] = '\0';
        d->used += len + 1;
}

static int declared_has(const struct declared *d, const unsigned char *name,
                        size_t len)
{
        size_t pos = 0, n;

        while (pos < d->used) {
                n = strlen(d->pool + pos);
                if (n == len && memcmp(d->pool + pos, name, len) == 0)
                        return 1;
                pos += n + 1;
        }
        return 0;
}

static int starts(const unsigned char *s, size_t len, size_t i, const char *lit)
{
        size_t n = strlen(lit);

        return len - i >= n && memcmp(s + i, lit, n) == 0;
}

/* Index just past the first `lit` at or after i, or len when there is
 * none (an unterminated section runs to the end). */
static size_t skip_past(const unsigned char *s, size_t len, size_t i,
                        const char *lit)
{
        size_t n = strlen(lit);

        for (; len - i >= n; i++) {
                if (s[i] == (unsigned char)lit[0] && memcmp(s + i, lit, n) == 0)
                        return i + n;
        }
        return len;
}

/* Index just past a DOCTYPE starting at i, noting the entities its
 * internal subset declares. Quoted literals and comments may hold '>'
 * and ']', so they are skipped whole. */
static size_t doctype_end(const unsigned char *s, size_t len, size_t i,
                          struct declared *d)
{
        size_t depth = 0, start;
        unsigned char quote;

        i += 9;
        while (i < len) {
                if (s[i] == '"' || s[i] == '\'') {
                        quote = s[i++];
                        while (i < len && s[i] != quote)
                                i++;
                        i++;
                } else if (depth > 0 && starts(s, len, i, "<!--")) {
                        i = skip_past(s, len, i + 4, "-->");
                } else if (depth > 0 && starts(s, len, i, "<!ENTITY")) {
                        i += 8;
                        while (i < len && (s[i] == ' ' || s[i] == '\t' ||
                                           s[i] == '\n' || s[i] == '\r'))
                                i++;
                        /* "%" declares a parameter entity, which text
                         * cannot refer to. */
                        if (i < len && s[i] == '%')
                                continue;
                        start = i;
                        while (i < len && name_char(s[i]))
                                i++;
                        declared_add(d, s + start, i - start);
                } else if (s[i] == '[') {
                        depth++;
                        i++;
                } else if (s[i] == ']') {
                        depth -= depth > 0;
                        i++;
                } else if (s[i] == '>' && depth == 0) {
                        return i + 1;
                } else {
                        i++;
                }
        }
        return len;
}

/* When s[i] starts a section whose content is not rewritten (comment,
 * CDATA, processing instruction, DOCTYPE), the index just past it; else
 * 0. */
static size_t verbatim_end(const unsigned char *s, size_t len, size_t i,
                           struct declared *d)
{
        if (starts(s, len, i, "<!--"))
                return skip_past(s, len, i + 4, "-->");
        if (starts(s, len, i, "<![CDATA["))
                return skip_past(s, len, i + 9, "]]>");
        if (starts(s, len, i, "<?"))
                return skip_past(s, len, i + 2, "?>");
        if (starts(s, len, i, "<!DOCTYPE"))
                return doctype_end(s, len, i, d);
        return 0;
}

static int is_xml_entity(const unsigned char *name, size_t len)
{
        /* By length: this is asked of every reference of every feed
         * (escaped HTML holds one every few words). */
        switch (len) {
        case 2:
                return (name[0] == 'l' || name[0] == 'g') && name[1] == 't';
        case 3:
                return memcmp(name, "amp", 3) == 0;
        case 4:
                return memcmp(name, "quot", 4) == 0 ||
                       memcmp(name, "apos", 4) == 0;
        default:
                return 0;
        }
}

bool nt_entities_xml_ref_kept(const char *in, size_t len)
{
        const unsigned char *s = (const unsigned char *)in;
        struct numref num;
        size_t n;

        if (len > 1 && s[1] == '#') {
                numref_scan(s, len, &num);
                return num.len && num.valid && xml_char(num.cp) && !num.upper_x;
        }
        n = name_scan(s, len);
        return n > 0 && is_xml_entity(s + 1, n);
}

int nt_entities_fix_xml(const char *in, size_t len, struct nt_buf *out,
                        size_t *fixes)
{
        const unsigned char *s = (const unsigned char *)in;
        struct declared decl;
        const struct entity *e;
        struct numref num;
        size_t i = 0, run = 0, end, n, count = 0;
        int err = NT_OK;

        decl.used = 0;
        while (i < len) {
                if (s[i] == '<') {
                        end = verbatim_end(s, len, i, &decl);
                        i = end ? end : i + 1;
                        continue;
                }
                if (s[i] != '&') {
                        i++;
                        continue;
                }
                /* Everything before the '&' goes out unchanged. */
                err = nt_buf_append(out, in + run, i - run);
                if (err)
                        goto out;
                if (i + 1 < len && s[i + 1] == '#') {
                        numref_scan(s + i, len - i, &num);
                        if (num.len == 0) {
                                err = nt_buf_append_str(out, "&amp;");
                                run = i + 1;
                        } else if (num.valid && xml_char(num.cp) &&
                                   !num.upper_x) {
                                run = i;
                        } else {
                                /* A reference to nothing XML allows is
                                 * still meant as one character; U+FFFD
                                 * keeps its place. */
                                err = nt_buf_printf(
                                    out, "&#%lu;",
                                    num.valid && xml_char(num.cp) ? num.cp
                                                                  : 0xFFFDUL);
                                run = i + num.len;
                        }
                        if (run != i)
                                count++;
                        i += num.len ? num.len : 1;
                } else if ((n = name_scan(s + i, len - i)) > 0) {
                        if (is_xml_entity(s + i + 1, n) ||
                            declared_has(&decl, s + i + 1, n)) {
                                run = i;
                        } else if ((e = entity_find(in + i + 1, n)) != NULL) {
                                err = nt_buf_printf(out, "&#%u;", e->cp);
                                run = i + n + 2;
                                count++;
                        } else {
                                err = nt_buf_append_str(out, "&amp;");
                                run = i + 1;
                                count++;
                        }
                        i += n + 2;
                } else {
                        err = nt_buf_append_str(out, "&amp;");
                        run = i + 1;
                        count++;
                        i++;
                }
                if (err)
                        goto out;
        }
        err = nt_buf_append(out, in + run, len - run);
out:
        if (fixes)
                *fixes = count;
        return err;
}

/* Decodes the reference at s[0] == '&' into b (at least 4 bytes).
 * Returns the bytes it takes in s, or 0 when it is not a reference this
 * decodes. */
static size_t decode_one(const unsigned char *s, size_t len, char *b,
                         size_t *blen)
{
        const struct entity *e;
        struct numref num;
        unsigned long cp;
        size_t n;

        if (len > 1 && s[1] == '#') {
                numref_scan(s, len, &num);
                if (num.len == 0 || !num.valid)
                        return 0;
                cp = num.cp;
                /* HTML's rules for numeric references: NUL, surrogates
                 * and values past Unicode become U+FFFD; C1 controls
                 * are read as windows-1252. */
                if (cp >= 0x80 && cp <= 0x9F && c1_remap[cp - 0x80])
                        cp = c1_remap[cp - 0x80];
                else if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) ||
                         cp > 0x10FFFF)
                        cp = 0xFFFD;
                *blen = utf8_put(cp, b);
                return num.len;
        }
        n = name_scan(s, len);
        if (n == 0)
                return 0;
        e = entity_find((const char *)s + 1, n);
        if (!e)
                return 0;
        *blen = strlen((const char *)e->utf8);
        memcpy(b, e->utf8, *blen);
        return n + 2;
}

int nt_entities_decode(const char *in, size_t len, struct nt_buf *out)
{
        const unsigned char *s = (const unsigned char *)in;
        size_t i = 0, run = 0, taken, blen = 0;
        char b[4];
        int err = NT_OK;

        while (i < len) {
                if (s[i] != '&') {
                        i++;
                        continue;
                }
                taken = decode_one(s + i, len - i, b, &blen);
                if (taken == 0) {
                        i++;
                        continue;
                }
                err = nt_buf_append(out, in + run, i - run);
                if (!err)
                        err = nt_buf_append(out, b, blen);
                if (err)
                        goto out;
                i += taken;
                run = i;
        }
        err = nt_buf_append(out, in + run, len - run);
out:
        return err;
}
