/* The XML reader's text: small helpers, element and namespace names,
 * stopping the parse, capturing a field's text (child markup serialised
 * for HTML fields), and reading a captured text as a value. */
#include "common/feed_xml_text.h"
#include "common/buf.h"
#include "common/entities.h"
#include "common/err.h"
#include "common/feed.h"
#include "common/html.h"
#include "common/url.h"

#include <expat.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* URIs with their lengths, so that matching a name costs no strlen. */
#define NS(uri, ns)                      \
        {                                \
                uri, sizeof(uri) - 1, ns \
        }

static const struct {
        const char *uri;
        size_t len;
        enum ns ns;
} namespaces[] = {
    NS("http://purl.org/rss/1.0/", NS_RSS),
    NS("http://my.netscape.com/rdf/simple/0.9/", NS_RSS090),
    NS("http://backend.userland.com/rss2", NS_RSS),
    NS("http://backend.userland.com/rss", NS_RSS),
    NS("http://blogs.law.harvard.edu/tech/rss", NS_RSS),
    NS("http://www.w3.org/1999/02/22-rdf-syntax-ns#", NS_RDF),
    NS("http://www.w3.org/2005/Atom", NS_ATOM10),
    NS("http://purl.org/atom/ns#", NS_ATOM03),
    NS("http://purl.org/dc/elements/1.1/", NS_DC),
    NS("http://purl.org/dc/elements/1.0/", NS_DC),
    NS("http://purl.org/dc/terms/", NS_DCTERMS),
    NS("http://purl.org/rss/1.0/modules/content/", NS_CONTENT),
    NS("http://www.w3.org/1999/xhtml", NS_XHTML),
    NS("http://www.w3.org/XML/1998/namespace", NS_XML),
    NS("http://www.itunes.com/dtds/podcast-1.0.dtd", NS_ITUNES),
    NS("http://search.yahoo.com/mrss/", NS_MEDIA),
    NS("http://search.yahoo.com/mrss", NS_MEDIA),
};

/* ---- Small text helpers --------------------------------------------- */

bool nt_fx_is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
               c == '\v';
}

static bool is_alpha(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool nt_fx_is_alnum(char c)
{
        return is_alpha(c) || (c >= '0' && c <= '9');
}

/* Bounds of s without surrounding white space. */
static void trim(const char **s, size_t *n)
{
        while (*n && nt_fx_is_space(**s)) {
                (*s)++;
                (*n)--;
        }
        while (*n && nt_fx_is_space((*s)[*n - 1]))
                (*n)--;
}

/* 1-based line and column of byte `pos` of s. */
void nt_fx_position(const char *s, size_t pos, unsigned long *line,
                    unsigned long *col)
{
        const char *p = s, *end = s + pos, *nl;
        unsigned long l = 1;

        while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
                l++;
                p = nl + 1;
        }
        *line = l;
        *col = (unsigned long)(end - p) + 1;
}

/* A malloc'd copy with runs of white space collapsed to one space and
 * none at either end; NULL when nothing is left (or out of memory:
 * *oom). */
char *nt_fx_collapse_copy(const char *s, size_t n, bool *oom)
{
        char *d, *o;
        bool space = false;
        size_t i;

        trim(&s, &n);
        if (!n)
                return NULL;
        d = malloc(n + 1);
        if (!d) {
                *oom = true;
                return NULL;
        }
        o = d;
        for (i = 0; i < n; i++) {
                if (nt_fx_is_space(s[i])) {
                        space = true;
                        continue;
                }
                if (space)
                        *o++ = ' ';
                space = false;
                *o++ = s[i];
        }
        *o = '\0';
        return d;
}

/* True when text written as a plain RSS title looks like HTML: a tag or
 * a character reference. "Q&A" and "x<y" do not. */
static bool looks_like_html(const char *s, size_t n)
{
        size_t i, j;

        for (i = 0; i < n; i++) {
                if (s[i] == '<' && i + 1 < n &&
                    (is_alpha(s[i + 1]) || s[i + 1] == '/' ||
                     s[i + 1] == '!') &&
                    memchr(s + i, '>', n - i))
                        return true;
                if (s[i] == '&' && i + 1 < n &&
                    (s[i + 1] == '#' || is_alpha(s[i + 1]))) {
                        for (j = i + 1; j < n && j < i + 12; j++) {
                                if (s[j] == ';')
                                        return true;
                                if (!nt_fx_is_alnum(s[j]) && s[j] != '#')
                                        break;
                        }
                }
        }
        return false;
}

/* HTML of a plain text: escaped and trimmed; NULL when empty. */
static char *text_to_html(const char *s, size_t n, bool *oom)
{
        char *out;

        trim(&s, &n);
        if (!n)
                return NULL;
        out = nt_feed_escape_html(s, n);
        if (!out)
                *oom = true;
        return out;
}

/* Plain text of HTML, white space collapsed to single spaces (titles and
 * names are one line). NULL when empty. */
static char *html_to_line(const char *s, size_t n, size_t max, bool *oom)
{
        char *text = NULL, *line;
        int rc;

        trim(&s, &n);
        if (!n)
                return NULL;
        if (!memchr(s, '<', n)) {
                /* No tags: references are all there is to read, and an
                 * HTML parser builds a whole document for a title. */
                struct nt_buf b;

                nt_buf_init(&b, max);
                rc = nt_entities_decode(s, n, &b);
                if (rc == NT_ERR_NOMEM)
                        *oom = true;
                line = rc == NT_ERR_NOMEM
                           ? NULL
                           : nt_fx_collapse_copy(nt_buf_str(&b), b.len, oom);
                nt_buf_free(&b);
                return line;
        }
        rc = nt_html_to_text(s, n, max, &text, NULL);
        if (rc) {
                /* Not HTML after all: keep the text as written. */
                if (rc == NT_ERR_NOMEM)
                        *oom = true;
                return rc == NT_ERR_NOMEM ? NULL
                                          : nt_fx_collapse_copy(s, n, oom);
        }
        line = nt_fx_collapse_copy(text, strlen(text), oom);
        free(text);
        return line;
}

static int b64_value(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+' || c == '-')
                return 62;
        if (c == '/' || c == '_')
                return 63;
        return -1;
}

/* Decodes base64 in place (white space skipped, stops at '=' or a byte
 * that is not base64); returns the decoded length. */
static size_t b64_decode(char *s, size_t n)
{
        uint32_t acc = 0;
        size_t i, out = 0;
        int bits = 0, v;

        for (i = 0; i < n; i++) {
                if (nt_fx_is_space(s[i]))
                        continue;
                v = b64_value(s[i]);
                if (v < 0)
                        break;
                acc = (acc << 6) | (uint32_t)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        s[out++] = (char)((acc >> bits) & 0xFF);
                }
        }
        s[out] = '\0';
        return out;
}

/* ---- Names ---------------------------------------------------------- */

static enum ns ns_of(const char *uri, size_t n)
{
        size_t i, k;

        trim(&uri, &n);
        if (!n)
                return NS_NONE;
        for (i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++) {
                k = namespaces[i].len;
                /* Case differs in the wild ("DTDs/PodCast-1.0.dtd"). */
                if (k == n && strncasecmp(namespaces[i].uri, uri, n) == 0)
                        return namespaces[i].ns;
        }
        /* Drafts of Atom 1.0 and variants of the RSS 1.0 URI without the
         * trailing slash were published in feeds. */
        if (n >= 24 && memcmp(uri, "http://purl.org/atom/ns#", 24) == 0)
                return NS_ATOM10;
        if (n == 23 && memcmp(uri, "http://purl.org/rss/1.0", 23) == 0)
                return NS_RSS;
        return NS_OTHER;
}

/* Splits an expat name ("uri<SEP>local" or "local"). */
const char *nt_fx_split_name(const char *name, enum ns *ns)
{
        const char *sep = strrchr(name, NS_SEP);

        if (!sep) {
                *ns = NS_NONE;
                return name;
        }
        *ns = ns_of(name, (size_t)(sep - name));
        return sep + 1;
}

struct name_el {
        const char *name;
        enum el el;
};

static const struct name_el rss_names[] = {
    {"title", R_TITLE},
    {"link", R_LINK},
    {"description", R_DESCRIPTION},
    {"item", R_ITEM},
    {"pubDate", R_PUBDATE},
    {"guid", R_GUID},
    {"category", R_CATEGORY},
    {"author", R_AUTHOR},
    {"enclosure", R_ENCLOSURE},
    {"channel", R_CHANNEL},
    {"language", R_LANGUAGE},
    {"lastBuildDate", R_LASTBUILDDATE},
    {"ttl", R_TTL},
    {"skipHours", R_SKIPHOURS},
    {"hour", R_HOUR},
    {"skipDays", R_SKIPDAYS},
    {"day", R_DAY},
    {"managingEditor", R_MANAGINGEDITOR},
    {"rss", R_RSS},
    {"pubdate", R_PUBDATE},
};

static const struct name_el atom_names[] = {
    {"title", A_TITLE},
    {"link", A_LINK},
    {"id", A_ID},
    {"updated", A_UPDATED},
    {"summary", A_SUMMARY},
    {"content", A_CONTENT},
    {"entry", A_ENTRY},
    {"published", A_PUBLISHED},
    {"author", A_AUTHOR},
    {"name", A_NAME},
    {"email", A_EMAIL},
    {"uri", A_URI},
    {"category", A_CATEGORY},
    {"subtitle", A_SUBTITLE},
    {"feed", A_FEED},
    {"issued", A_PUBLISHED},
    {"modified", A_UPDATED},
    {"tagline", A_SUBTITLE},
    {"url", A_URI},
    {"homepage", A_URI},
};

static const struct name_el dc_names[] = {
    {"creator", DC_CREATOR},         {"date", DC_DATE},
    {"subject", DC_SUBJECT},         {"language", DC_LANGUAGE},
    {"modified", DCT_MODIFIED},      {"issued", DCT_ISSUED},
    {"created", DCT_ISSUED},         {"title", DC_TITLE},
    {"description", DC_DESCRIPTION}, {"author", DC_CREATOR},
};

static const struct name_el media_names[] = {
    {"group", M_GROUP},       {"content", M_CONTENT},
    {"title", M_TITLE},       {"description", M_DESCRIPTION},
    {"category", M_CATEGORY}, {"thumbnail", M_THUMBNAIL},
};

static enum el lookup(const struct name_el *t, size_t n, const char *local)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (strcmp(t[i].name, local) == 0)
                        return t[i].el;
        }
        return EL_OTHER;
}

#define LOOKUP(t, local) lookup(t, sizeof(t) / sizeof(t[0]), local)

enum el nt_fx_classify(const struct xstate *st, enum ns ns, const char *local)
{
        enum el el;

        switch (ns) {
        case NS_NONE:
                if (st->family == FAM_ATOM && st->root_no_ns)
                        return LOOKUP(atom_names, local);
                return LOOKUP(rss_names, local);
        case NS_RSS:
        case NS_RSS090:
                return LOOKUP(rss_names, local);
        case NS_ATOM10:
        case NS_ATOM03:
                return LOOKUP(atom_names, local);
        case NS_DC:
        case NS_DCTERMS:
                el = LOOKUP(dc_names, local);
                /* dc:date and dcterms:modified/issued/created only. */
                if (ns == NS_DC && (el == DCT_MODIFIED || el == DCT_ISSUED))
                        return EL_OTHER;
                if (ns == NS_DCTERMS && el != DCT_MODIFIED && el != DCT_ISSUED)
                        return EL_OTHER;
                return el;
        case NS_ITUNES:
                if (strcmp(local, "summary") == 0 ||
                    strcmp(local, "subtitle") == 0)
                        return IT_SUMMARY;
                if (strcmp(local, "keywords") == 0)
                        return IT_KEYWORDS;
                return strcmp(local, "author") == 0 ? IT_AUTHOR : EL_OTHER;
        case NS_CONTENT:
                return strcmp(local, "encoded") == 0 ? C_ENCODED : EL_OTHER;
        case NS_MEDIA:
                return LOOKUP(media_names, local);
        case NS_RDF:
                return strcmp(local, "RDF") == 0 ? R_RDF : EL_OTHER;
        default:
                return EL_OTHER;
        }
}

/* The value of attribute `local` (no namespace) or NULL. */
const char *nt_fx_attr(const XML_Char **atts, const char *local)
{
        for (; atts[0]; atts += 2) {
                if (strcmp(atts[0], local) == 0)
                        return atts[1];
        }
        return NULL;
}

/* The value of an xml: attribute (xml:base, xml:lang), or NULL. Asked of
 * every element, so it compares the expanded name directly. */
const char *nt_fx_attr_xml(const XML_Char **atts, const char *local)
{
        static const char xml_ns[] = "http://www.w3.org/XML/1998/namespace";
        const size_t k = sizeof(xml_ns) - 1;

        for (; atts[0]; atts += 2) {
                if (atts[0][0] == 'h' && strncmp(atts[0], xml_ns, k) == 0 &&
                    atts[0][k] == NS_SEP && strcmp(atts[0] + k + 1, local) == 0)
                        return atts[1];
        }
        return NULL;
}

/* The value of an attribute in namespace `ns` with local name `local`. */
const char *nt_fx_attr_ns(const XML_Char **atts, enum ns ns, const char *local)
{
        const char *sep;

        for (; atts[0]; atts += 2) {
                sep = strrchr(atts[0], NS_SEP);
                if (sep && strcmp(sep + 1, local) == 0 &&
                    ns_of(atts[0], (size_t)(sep - atts[0])) == ns)
                        return atts[1];
        }
        return NULL;
}

/* ---- Stopping ------------------------------------------------------- */

unsigned long nt_fx_cur_line(const struct xstate *st)
{
        return (unsigned long)XML_GetCurrentLineNumber(st->p);
}

unsigned long nt_fx_cur_col(const struct xstate *st)
{
        return (unsigned long)XML_GetCurrentColumnNumber(st->p) + 1;
}

/* Stops the parse for a reason of ours (the error is recorded by the
 * caller, or is out of memory). */
void nt_fx_stop(struct xstate *st, int err)
{
        if (st->stopped)
                return;
        st->stopped = true;
        st->stop_err = err;
        XML_StopParser(st->p, XML_FALSE);
}

void nt_fx_oom(struct xstate *st)
{
        nt_fx_stop(st, NT_ERR_NOMEM);
}

/* Checks a result code: out of memory stops the parse. */
bool nt_fx_ok(struct xstate *st, int rc)
{
        if (rc == NT_ERR_NOMEM)
                nt_fx_oom(st);
        return rc == NT_OK;
}

/* ---- Capturing text ------------------------------------------------- */

/* Appends to the field, cutting at a character boundary at the limit. */
static void cap_append(struct xstate *st, const char *s, size_t n)
{
        size_t room, cut;
        int rc;

        if (st->cap_truncated || !n)
                return;
        rc = nt_buf_append(&st->text, s, n);
        if (rc == NT_OK)
                return;
        if (rc != NT_ERR_LIMIT) {
                nt_fx_oom(st);
                return;
        }
        room = st->text.max - st->text.len;
        cut = room < n ? room : n;
        /* s[cut] is the first byte left out; when it continues a
         * character, that character is left out whole. */
        while (cut > 0 && cut < n && ((unsigned char)s[cut] & 0xC0) == 0x80)
                cut--;
        if (cut && nt_buf_append(&st->text, s, cut) != NT_OK)
                nt_fx_oom(st);
        st->cap_truncated = true;
}

/* Length of the leading 8-byte words of u free of '&', '<' and '>':
 * content text is long, and this is the loop it goes through. */
static size_t plain_run(const unsigned char *u, size_t n)
{
        const uint64_t ones = 0x0101010101010101ULL;
        const uint64_t highs = 0x8080808080808080ULL;
        uint64_t x, a, l, g;
        size_t i;

        for (i = 0; i + 8 <= n; i += 8) {
                memcpy(&x, u + i, 8);
                a = x ^ (ones * '&');
                l = x ^ (ones * '<');
                g = x ^ (ones * '>');
                if (((a - ones) & ~a & highs) | ((l - ones) & ~l & highs) |
                    ((g - ones) & ~g & highs))
                        break;
        }
        return i;
}

static void cap_append_escaped(struct xstate *st, const char *s, size_t n,
                               bool in_attr)
{
        /* 1: escaped in text and attributes; 2: in attributes only. */
        static const unsigned char special[256] = {
            ['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 2};
        const unsigned char *u = (const unsigned char *)s;
        unsigned char mask = in_attr ? 3 : 1;
        size_t i = 0, start = 0;

        for (;;) {
                if (!in_attr)
                        i += plain_run(u + i, n - i);
                while (i < n && !(special[u[i]] & mask))
                        i++;
                cap_append(st, s + start, i - start);
                if (i >= n)
                        return;
                switch (s[i]) {
                case '&':
                        cap_append(st, "&amp;", 5);
                        break;
                case '<':
                        cap_append(st, "&lt;", 4);
                        break;
                case '>':
                        cap_append(st, "&gt;", 4);
                        break;
                default:
                        cap_append(st, "&quot;", 6);
                }
                start = ++i;
        }
}

static void cap_str(struct xstate *st, const char *s)
{
        cap_append(st, s, strlen(s));
}

void nt_fx_begin_capture(struct xstate *st, enum field f, enum kind k)
{
        st->capturing = true;
        st->cap_field = f;
        st->cap_kind = k;
        st->cap_depth = st->depth - 1;
        st->cap_at = XML_GetCurrentByteIndex(st->p);
        st->cap_markup = false;
        st->cap_truncated = false;
        st->cap_open_tag = false;
        st->cap_unwrap = k == K_XHTML;
        st->wrap_depth = SIZE_MAX;
        nt_buf_reset(&st->text);
}

/* The line the captured element started on. */
unsigned long nt_fx_cap_line(const struct xstate *st)
{
        unsigned long line = 0, col;

        if (st->cap_at >= 0 && (size_t)st->cap_at <= st->doc_len)
                nt_fx_position(st->doc, (size_t)st->cap_at, &line, &col);
        return line;
}

/* Closes a serialised start tag that turned out to have content. */
void nt_fx_close_open_tag(struct xstate *st)
{
        if (st->cap_open_tag) {
                st->cap_open_tag = false;
                cap_append(st, ">", 1);
        }
}

/* Writes a child element of the captured one back as markup: the value
 * of Atom XHTML content, or HTML that a feed left unescaped. Names lose
 * their namespace (HTML has none) but xml:lang keeps its prefix. */
void nt_fx_capture_start_tag(struct xstate *st, const char *local,
                             const XML_Char **atts)
{
        const char *sep, *an;
        enum ns ans;

        nt_fx_close_open_tag(st);
        if (st->cap_unwrap) {
                st->cap_unwrap = false;
                if (st->depth - 1 == st->cap_depth + 1 &&
                    strcmp(local, "div") == 0) {
                        st->wrap_depth = st->depth - 1;
                        return;
                }
        }
        st->cap_markup = true;
        cap_append(st, "<", 1);
        cap_str(st, local);
        for (; atts[0]; atts += 2) {
                an = atts[0];
                sep = strrchr(an, NS_SEP);
                cap_append(st, " ", 1);
                if (sep) {
                        ans = ns_of(an, (size_t)(sep - an));
                        if (ans == NS_XML)
                                cap_str(st, "xml:");
                        an = sep + 1;
                }
                cap_str(st, an);
                cap_append(st, "=\"", 2);
                cap_append_escaped(st, atts[1], strlen(atts[1]), true);
                cap_append(st, "\"", 1);
        }
        st->cap_open_tag = true;
}

void nt_fx_capture_end_tag(struct xstate *st, const char *name)
{
        const char *local = strrchr(name, NS_SEP);

        if (st->depth == st->wrap_depth) {
                st->wrap_depth = SIZE_MAX;
                return;
        }
        if (st->cap_open_tag) {
                st->cap_open_tag = false;
                /* expat reports an empty-element tag (<x/>) with a
                 * zero-length end event: keep its form. */
                if (XML_GetCurrentByteCount(st->p) == 0) {
                        cap_append(st, "/>", 2);
                        return;
                }
                cap_append(st, ">", 1);
        }
        cap_append(st, "</", 2);
        cap_str(st, local ? local + 1 : name);
        cap_append(st, ">", 1);
}

/* expat's text handler: the text of the field being captured, escaped
 * where it is markup (XHTML, or inside a serialised child element). */
void XMLCALL nt_fx_on_text(void *ud, const XML_Char *s, int len)
{
        struct xstate *st = ud;

        if (!st->capturing || st->stopped)
                return;
        nt_fx_close_open_tag(st);
        if (st->cap_kind == K_XHTML || st->depth > st->cap_depth + 1)
                cap_append_escaped(st, s, (size_t)len, false);
        else
                cap_append(st, s, (size_t)len);
}

/* ---- Values of captured fields ------------------------------------ */

/* The base URL in scope for the captured element. */
const char *nt_fx_cap_base(const struct xstate *st)
{
        return st->stack[st->cap_depth].base;
}

/* True when s is an absolute http(s) URL with nothing to encode: curl
 * would only re-serialise it, at a cost paid on every link of every
 * feed. */
static bool plain_http_url(const char *s, size_t n)
{
        size_t i, k;

        if (n > 7 && strncasecmp(s, "http://", 7) == 0)
                k = 7;
        else if (n > 8 && strncasecmp(s, "https://", 8) == 0)
                k = 8;
        else
                return false;
        for (i = k; i < n; i++) {
                if ((unsigned char)s[i] <= 0x20 ||
                    (unsigned char)s[i] >= 0x7F || s[i] == '\\')
                        return false;
        }
        /* A host, then a path: "http://x.org" gains its "/" from curl. */
        return memchr(s + k, '/', n - k) != NULL;
}

/* A URL resolved against base; NULL for empty text. */
char *nt_fx_resolve(struct xstate *st, const char *base, const char *s,
                    size_t n)
{
        char *text, *url;

        trim(&s, &n);
        if (!n)
                return NULL;
        if (plain_http_url(s, n)) {
                url = nt_strdup_n(s, n);
                if (!url)
                        nt_fx_oom(st);
                return url;
        }
        text = nt_strdup_n(s, n);
        if (!text) {
                nt_fx_oom(st);
                return NULL;
        }
        if (nt_url_resolve(base, text, &url))
                nt_fx_oom(st);
        free(text);
        return url;
}

/* The captured text as a trimmed literal, NULL when empty. */
char *nt_fx_value_literal(struct xstate *st)
{
        const char *s = nt_buf_str(&st->text);
        size_t n = st->text.len;
        char *v;

        trim(&s, &n);
        if (!n)
                return NULL;
        v = nt_strdup_n(s, n);
        if (!v)
                nt_fx_oom(st);
        return v;
}

/* Base64 fields decode in place once; returns the new kind. */
static enum kind decode_b64(struct xstate *st)
{
        if (st->cap_kind != K_B64_TEXT && st->cap_kind != K_B64_HTML)
                return st->cap_kind;
        if (st->text.data)
                st->text.len = b64_decode(st->text.data, st->text.len);
        st->cap_kind = st->cap_kind == K_B64_TEXT ? K_TEXT : K_HTML;
        return st->cap_kind;
}

/* The captured text as one line of plain text (titles, names). */
char *nt_fx_value_plain(struct xstate *st)
{
        enum kind kind = decode_b64(st);
        const char *s = nt_buf_str(&st->text);
        size_t n = st->text.len, max = st->feed->limits.max_field;
        bool o = false;
        char *v = NULL;

        switch (kind) {
        case K_SKIP:
                return NULL;
        case K_PERSON:
                /* "jo@x.org (Jo)" is not HTML, and other readers keep
                 * markup in names as written: no interpretation. */
                v = nt_fx_collapse_copy(s, n, &o);
                break;
        case K_HTML:
        case K_XHTML:
                v = html_to_line(s, n, max, &o);
                break;
        case K_RSS_TEXT:
        case K_TEXT:
        case K_LITERAL:
        default:
                if (st->cap_markup ||
                    (st->cap_kind == K_RSS_TEXT && looks_like_html(s, n)))
                        v = html_to_line(s, n, max, &o);
                else
                        v = nt_fx_collapse_copy(s, n, &o);
                break;
        }
        if (o)
                nt_fx_oom(st);
        return v;
}

/* The captured text as HTML (summaries, content, subtitles). */
static char *value_html(struct xstate *st)
{
        bool o = false;
        char *v;

        switch (decode_b64(st)) {
        case K_SKIP:
                return NULL;
        case K_TEXT:
        case K_LITERAL:
                /* Markup inside a text construct is invalid; what a feed
                 * that does it means is the markup. */
                if (st->cap_markup)
                        return nt_fx_value_literal(st);
                v = text_to_html(nt_buf_str(&st->text), st->text.len, &o);
                if (o)
                        nt_fx_oom(st);
                return v;
        default:
                return nt_fx_value_literal(st);
        }
}

/* True when a URL reference starts with a scheme ("http:", "mailto:"). */
bool nt_fx_has_scheme(const char *s, size_t n)
{
        size_t i;

        if (!n || !is_alpha(s[0]))
                return false;
        for (i = 1; i < n; i++) {
                if (s[i] == ':')
                        return true;
                if (!nt_fx_is_alnum(s[i]) && s[i] != '+' && s[i] != '-' &&
                    s[i] != '.')
                        return false;
        }
        return false;
}

/* Appends one attribute value, resolved against base when it is a
 * relative href or src; the value stays as HTML wrote it (references
 * undecoded), which a URL parser leaves alone. */
static int put_value(struct nt_buf *out, const char *base, bool is_url,
                     const char *v, size_t n, char quote)
{
        char *raw, *url;
        int rc;

        if (!is_url || !n || nt_fx_has_scheme(v, n) || v[0] == '#')
                return nt_buf_append(out, v, n);
        raw = nt_strdup_n(v, n);
        if (!raw)
                return NT_ERR_NOMEM;
        rc = nt_url_resolve(base, raw, &url);
        free(raw);
        if (rc)
                return rc;
        if (!url) /* blank: kept as written */
                return nt_buf_append(out, v, n);
        /* An unquoted value gains quotes; a quote in the URL is escaped. */
        rc = NT_OK;
        for (raw = url; *raw && rc == NT_OK; raw++) {
                if (*raw == (quote ? quote : '"'))
                        rc = nt_buf_append_str(out, *raw == '"' ? "&quot;"
                                                                : "&#39;");
                else
                        rc = nt_buf_append(out, raw, 1);
        }
        free(url);
        return rc;
}

/* HTML with its relative href and src attribute values resolved against
 * base, as xml:base and the document's URL say they must be (feeds are
 * read far from where they were written). The scan knows tags,
 * attributes and comments only; the text between is copied as is.
 * Returns a new string, or html itself when there was nothing to do.
 * NULL when out of memory (html is then freed). */
static char *absolutize(const char *base, char *html, size_t max)
{
        const char *p = html, *end = html + strlen(html), *lt, *name, *v;
        struct nt_buf out;
        size_t nn, vn;
        bool changed = false, is_url;
        char quote;
        int rc = NT_OK;

        if (!base || !html)
                return html;
        nt_buf_init(&out, max);
        while (rc == NT_OK && (lt = memchr(p, '<', (size_t)(end - p)))) {
                if (lt + 4 <= end && memcmp(lt, "<!--", 4) == 0) {
                        v = strstr(lt + 4, "-->");
                        v = v ? v + 3 : end;
                        rc = nt_buf_append(&out, p, (size_t)(v - p));
                        p = v;
                        continue;
                }
                if (lt + 1 >= end || !is_alpha(lt[1])) {
                        rc = nt_buf_append(&out, p, (size_t)(lt + 1 - p));
                        p = lt + 1;
                        continue;
                }
                /* The tag name, then attributes up to '>'. */
                for (v = lt + 1;
                     v < end && !nt_fx_is_space(*v) && *v != '>' && *v != '/';
                     v++)
                        ;
                rc = nt_buf_append(&out, p, (size_t)(v - p));
                p = v;
                while (rc == NT_OK && p < end && *p != '>') {
                        if (nt_fx_is_space(*p) || *p == '/') {
                                rc = nt_buf_append(&out, p++, 1);
                                continue;
                        }
                        name = p;
                        while (p < end && !nt_fx_is_space(*p) && *p != '=' &&
                               *p != '>' && *p != '/')
                                p++;
                        nn = (size_t)(p - name);
                        is_url =
                            (nn == 4 && strncasecmp(name, "href", 4) == 0) ||
                            (nn == 3 && strncasecmp(name, "src", 3) == 0);
                        while (p < end && nt_fx_is_space(*p))
                                p++;
                        if (p >= end || *p != '=') {
                                rc = nt_buf_append(&out, name, nn);
                                if (rc == NT_OK && nn == 0 && p < end &&
                                    *p != '>')
                                        rc = nt_buf_append(&out, p++, 1);
                                continue;
                        }
                        for (p++; p < end && nt_fx_is_space(*p); p++)
                                ;
                        quote = p < end && (*p == '"' || *p == '\'') ? *p : 0;
                        v = quote ? p + 1 : p;
                        for (p = v; p < end &&
                                    (quote ? *p != quote
                                           : !nt_fx_is_space(*p) && *p != '>');
                             p++)
                                ;
                        vn = (size_t)(p - v);
                        if (quote && p < end)
                                p++;
                        if (is_url && vn && !nt_fx_has_scheme(v, vn) &&
                            v[0] != '#')
                                changed = true;
                        rc = nt_buf_append(&out, name, nn);
                        if (!rc)
                                rc = nt_buf_append(&out, "=\"", 2);
                        if (!rc && quote == '\'')
                                out.data[out.len - 1] = '\'';
                        if (!rc)
                                rc =
                                    put_value(&out, base, is_url, v, vn, quote);
                        if (!rc)
                                rc = nt_buf_append(
                                    &out, quote == '\'' ? "'" : "\"", 1);
                }
        }
        if (rc == NT_OK)
                rc = nt_buf_append(&out, p, (size_t)(end - p));
        if (rc == NT_ERR_LIMIT || (rc == NT_OK && !changed)) {
                /* Too long to rewrite within the field limit: as it is. */
                nt_buf_free(&out);
                return html;
        }
        free(html);
        if (rc) {
                nt_buf_free(&out);
                return NULL;
        }
        return nt_buf_detach(&out);
}

/* True when html may hold a relative href or src value: a quick scan
 * for "src=" and "href=" that spares the rewrite most content. */
static bool may_have_relative(const char *html)
{
        const char *p = html, *eq, *k, *v;
        size_t n;

        while ((eq = strchr(p, '='))) {
                p = eq + 1;
                for (k = eq; k > html && nt_fx_is_space(k[-1]); k--)
                        ;
                if (!((k - html >= 3 && strncasecmp(k - 3, "src", 3) == 0) ||
                      (k - html >= 4 && strncasecmp(k - 4, "href", 4) == 0)))
                        continue;
                for (v = p; nt_fx_is_space(*v); v++)
                        ;
                if (*v == '"' || *v == '\'')
                        v++;
                n = strcspn(v, "\"' \t\n\r>");
                if (n && v[0] != '#' && !nt_fx_has_scheme(v, n))
                        return true;
        }
        return false;
}

/* The captured text as HTML, with relative links made absolute. */
char *nt_fx_html_field(struct xstate *st)
{
        char *v = value_html(st);
        const char *base = nt_fx_cap_base(st);

        if (!v || !base || !may_have_relative(v))
                return v;
        v = absolutize(base, v, st->feed->limits.max_field);
        if (!v)
                nt_fx_oom(st);
        return v;
}
