/* RSS 0.90-0.94, RSS 1.0, RSS 2.0, Atom 0.3 and Atom 1.0 with expat, as
 * one streaming pass: a stack of open elements (their kind and xml:base),
 * the entry being built, and one text buffer for the field being read.
 * No tree of the document is ever built.
 *
 * Feeds are often ill-formed; what can be read is read. Before expat sees
 * the text, junk before the first tag is skipped and undeclared HTML
 * entities and stray ampersands are rewritten (nt_entities_fix_xml; a
 * cheap scan first tells whether it has anything to do). When expat
 * stops at an error that a change to the text can mend, the text is
 * changed and parsed again from the start: characters XML forbids (C0
 * controls, looked for only then, as they are rare) are removed, an
 * undeclared namespace prefix (RSS 2.0 feeds use dc: or content:
 * without declaring them) is declared on the root element, a missing end
 * tag is added and a stray one dropped. Each repair is recorded as an
 * error and marks the feed not well-formed; their number is bounded.
 * When expat stops for good, what was read so far is kept.
 *
 * Hostile input: no DTD is read, no external entity is resolved, and the
 * first entity declaration stops the parse (billion laughs and XXE need
 * one); expat's amplification limit is a second line. */
#define XML_DTD /* declares expat's billion-laughs settings */
#include "common/feed_xml.h"
#include "common/buf.h"
#include "common/entities.h"
#include "common/err.h"
#include "common/feed.h"
#include "common/html.h"
#include "common/num.h"
#include "common/url.h"

#include <expat.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

/* Separates a namespace URI from the local name in the names expat hands
 * out. U+0001 cannot occur in an XML 1.0 document, so it is never part
 * of a URI or a name. */
#define NS_SEP '\x01'

/* Repairs of one document (an undeclared prefix declared, a missing end
 * tag added) before the rest is given up; each costs a parse from the
 * start, so their bytes are bounded too. */
#define MAX_REPAIRS   16
#define REPAIR_BUDGET ((size_t)256 * 1024 * 1024)

/* expat is handed the text in pieces no larger than this (its length
 * argument is an int). One piece is best: expat parses a whole final
 * buffer where it lies, while a piece after the first is copied into its
 * own buffer. */
#define CHUNK ((size_t)1 << 30)

enum ns {
        NS_NONE = 0, /* no namespace */
        NS_RSS,      /* RSS 1.0, or a namespace some RSS 2.0 feeds use */
        NS_RSS090,   /* RSS 0.90 (Netscape's RDF) */
        NS_RDF,
        NS_ATOM10,
        NS_ATOM03,
        NS_DC,
        NS_DCTERMS,
        NS_CONTENT,
        NS_XHTML,
        NS_XML,
        NS_ITUNES,
        NS_OTHER,
};

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
};

/* Prefixes feeds use without declaring them, with the namespace they
 * mean; any other undeclared prefix gets a namespace of its own. */
static const struct {
        const char *prefix;
        const char *uri;
} known_prefixes[] = {
    {"dc", "http://purl.org/dc/elements/1.1/"},
    {"dcterms", "http://purl.org/dc/terms/"},
    {"content", "http://purl.org/rss/1.0/modules/content/"},
    {"atom", "http://www.w3.org/2005/Atom"},
    {"rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"},
    {"xhtml", "http://www.w3.org/1999/xhtml"},
    {"media", "http://search.yahoo.com/mrss/"},
    {"itunes", "http://www.itunes.com/dtds/podcast-1.0.dtd"},
};

/* What an element is, by namespace and local name. */
enum el {
        EL_OTHER = 0,
        R_RSS,
        R_RDF,
        R_CHANNEL,
        R_ITEM,
        R_TITLE,
        R_LINK,
        R_DESCRIPTION,
        R_LANGUAGE,
        R_PUBDATE,
        R_LASTBUILDDATE,
        R_GUID,
        R_AUTHOR,
        R_CATEGORY,
        R_ENCLOSURE,
        R_TTL,
        R_SKIPHOURS,
        R_HOUR,
        R_SKIPDAYS,
        R_DAY,
        R_MANAGINGEDITOR,
        A_FEED,
        A_ENTRY,
        A_TITLE,
        A_LINK,
        A_ID,
        A_SUBTITLE,
        A_SUMMARY,
        A_CONTENT,
        A_PUBLISHED,
        A_UPDATED,
        A_AUTHOR,
        A_NAME,
        A_EMAIL,
        A_URI,
        A_CATEGORY,
        DC_CREATOR,
        DC_DATE,
        DC_SUBJECT,
        DC_LANGUAGE,
        DCT_ISSUED,
        DCT_MODIFIED,
        DC_TITLE,
        DC_DESCRIPTION,
        C_ENCODED,
        IT_SUMMARY,
        IT_AUTHOR,
        IT_KEYWORDS,
        EL_COUNT,
};

/* Where a captured text goes when its element ends. */
enum field {
        F_NONE = 0,
        F_FEED_TITLE,
        F_FEED_LINK,
        F_FEED_SUBTITLE,
        F_FEED_LANGUAGE,
        F_FEED_UPDATED,
        F_FEED_AUTHOR,
        F_TTL,
        F_SKIP_HOUR,
        F_SKIP_DAY,
        F_ID,
        F_TITLE,
        F_LINK,
        F_SUMMARY,
        F_CONTENT,
        F_PUBLISHED,
        F_UPDATED,
        F_AUTHOR,
        F_CATEGORY,
        F_LANGUAGE,
        F_P_NAME,
        F_P_EMAIL,
        F_P_URI,
        F_FB_FEED_TITLE,    /* fallbacks: used when the feed or the */
        F_FB_FEED_SUBTITLE, /* entry has no value of its own */
        F_FB_TITLE,
        F_FB_SUMMARY,
        F_FB_AUTHOR,
        F_KEYWORDS, /* itunes:keywords: categories, comma-separated */
        F_COUNT,
};

/* How to read a captured text. */
enum kind {
        K_LITERAL = 0, /* a value: id, link, date, term (trimmed) */
        K_RSS_TEXT,    /* RSS title: text that may hold HTML */
        K_PERSON,      /* an RSS person: text as written, markup and all */
        K_RSS_HTML,    /* RSS description, content:encoded */
        K_TEXT,        /* Atom type="text" */
        K_HTML,        /* Atom type="html", mode="escaped" */
        K_XHTML,       /* Atom type="xhtml": child elements are the value */
        K_B64_TEXT,    /* Atom 0.3 mode="base64" of text */
        K_B64_HTML,    /* Atom 0.3 mode="base64" of HTML */
        K_SKIP,        /* a type that is not text (an image): dropped */
};

enum family {
        FAM_NONE = 0,
        FAM_RSS,
        FAM_ATOM,
};

struct frame {
        uint8_t el;       /* enum el */
        bool own_base;    /* base was resolved here and is freed here */
        bool xml_base;    /* an xml:base is in scope */
        const char *base; /* in-scope base URL, or NULL */
        XML_Index start;  /* offset of the start tag, for repairs */
};

struct xstate {
        XML_Parser p;
        const char *doc; /* the text being parsed */
        size_t doc_len;
        struct nt_feed *feed;
        const char *doc_base;
        enum family family;
        bool root_no_ns;  /* an Atom root without a namespace */
        bool entity_decl; /* stopped at a DTD entity declaration */
        bool saw_root;
        char root_name[64];
        char *root_lang; /* xml:lang of the root element */

        struct frame *stack;
        size_t depth, max_depth;

        /* The entry being read. */
        bool in_entry;
        size_t entry_depth; /* stack index of <item>/<entry> */
        struct nt_feed_entry cur;

        /* An Atom author being read. */
        bool in_person;
        bool person_of_entry;
        size_t person_depth;
        char *p_name, *p_email, *p_uri;

        /* The field being captured. */
        bool capturing;
        enum field cap_field;
        enum kind cap_kind;
        size_t cap_depth; /* stack index of the captured element */
        XML_Index cap_at; /* where it started, for errors (a byte
                             offset: expat counts lines slowly) */
        bool cap_markup;  /* child elements were serialised */
        bool cap_truncated;
        bool cap_open_tag; /* a serialised start tag awaits its '>' */
        bool cap_unwrap;   /* an XHTML wrapper <div> may come */
        size_t wrap_depth; /* stack index of that wrapper, or SIZE_MAX */
        struct nt_buf text;

        char *atom_alt_link; /* <atom:link rel=alternate> in an RSS channel */
        bool guid_seen;      /* the entry's id came from <guid> */

        /* Values of extension elements (dc:title, itunes:summary...)
         * that stand in for missing core ones. */
        char *fb_feed_title, *fb_feed_subtitle;
        char *fb_title, *fb_summary, *fb_author;

        /* Why the parse stopped, when we stopped it. */
        bool stopped;
        int stop_err; /* NT_ERR_NOMEM, NT_ERR_LIMIT, NT_ERR_PARSE */

        bool fatal; /* expat stopped at an error nothing repaired */

        /* A repair the last run asks for: doc[rep_at, rep_at+rep_remove)
         * is replaced by rep_insert and the parse starts over. */
        bool repair;
        bool rep_strip; /* the repair removes forbidden characters */
        size_t rep_at, rep_remove;
        struct nt_buf rep_insert;
        unsigned long rep_line, rep_col;
        char rep_what[192];
};

/* ---- Small text helpers --------------------------------------------- */

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
               c == '\v';
}

static bool is_alpha(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
        return is_alpha(c) || (c >= '0' && c <= '9');
}

/* Bounds of s without surrounding white space. */
static void trim(const char **s, size_t *n)
{
        while (*n && is_space(**s)) {
                (*s)++;
                (*n)--;
        }
        while (*n && is_space((*s)[*n - 1]))
                (*n)--;
}

static char *copy_n(const char *s, size_t n)
{
        char *d = malloc(n + 1);

        if (d) {
                memcpy(d, s, n);
                d[n] = '\0';
        }
        return d;
}

/* 1-based line and column of byte `pos` of s. */
static void position(const char *s, size_t pos, unsigned long *line,
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
static char *collapse_copy(const char *s, size_t n, bool *oom)
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
                if (is_space(s[i])) {
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
                                if (!is_alnum(s[j]) && s[j] != '#')
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
                           : collapse_copy(nt_buf_str(&b), b.len, oom);
                nt_buf_free(&b);
                return line;
        }
        rc = nt_html_to_text(s, n, max, &text, NULL);
        if (rc) {
                /* Not HTML after all: keep the text as written. */
                if (rc == NT_ERR_NOMEM)
                        *oom = true;
                return rc == NT_ERR_NOMEM ? NULL : collapse_copy(s, n, oom);
        }
        line = collapse_copy(text, strlen(text), oom);
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
                if (is_space(s[i]))
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
static const char *split_name(const char *name, enum ns *ns)
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

static enum el classify(const struct xstate *st, enum ns ns, const char *local)
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
        case NS_RDF:
                return strcmp(local, "RDF") == 0 ? R_RDF : EL_OTHER;
        default:
                return EL_OTHER;
        }
}

/* The value of attribute `local` (no namespace) or NULL. */
static const char *attr(const XML_Char **atts, const char *local)
{
        for (; atts[0]; atts += 2) {
                if (strcmp(atts[0], local) == 0)
                        return atts[1];
        }
        return NULL;
}

/* The value of an xml: attribute (xml:base, xml:lang), or NULL. Asked of
 * every element, so it compares the expanded name directly. */
static const char *attr_xml(const XML_Char **atts, const char *local)
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
static const char *attr_ns(const XML_Char **atts, enum ns ns, const char *local)
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

static unsigned long cur_line(const struct xstate *st)
{
        return (unsigned long)XML_GetCurrentLineNumber(st->p);
}

static unsigned long cur_col(const struct xstate *st)
{
        return (unsigned long)XML_GetCurrentColumnNumber(st->p) + 1;
}

/* Stops the parse for a reason of ours (the error is recorded by the
 * caller, or is out of memory). */
static void stop(struct xstate *st, int err)
{
        if (st->stopped)
                return;
        st->stopped = true;
        st->stop_err = err;
        XML_StopParser(st->p, XML_FALSE);
}

static void oom(struct xstate *st)
{
        stop(st, NT_ERR_NOMEM);
}

/* Checks a result code: out of memory stops the parse. */
static bool ok(struct xstate *st, int rc)
{
        if (rc == NT_ERR_NOMEM)
                oom(st);
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
                oom(st);
                return;
        }
        room = st->text.max - st->text.len;
        cut = room < n ? room : n;
        /* s[cut] is the first byte left out; when it continues a
         * character, that character is left out whole. */
        while (cut > 0 && cut < n && ((unsigned char)s[cut] & 0xC0) == 0x80)
                cut--;
        if (cut && nt_buf_append(&st->text, s, cut) != NT_OK)
                oom(st);
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

static void begin_capture(struct xstate *st, enum field f, enum kind k)
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
static unsigned long cap_line(const struct xstate *st)
{
        unsigned long line = 0, col;

        if (st->cap_at >= 0 && (size_t)st->cap_at <= st->doc_len)
                position(st->doc, (size_t)st->cap_at, &line, &col);
        return line;
}

/* Closes a serialised start tag that turned out to have content. */
static void close_open_tag(struct xstate *st)
{
        if (st->cap_open_tag) {
                st->cap_open_tag = false;
                cap_append(st, ">", 1);
        }
}

/* Writes a child element of the captured one back as markup: the value
 * of Atom XHTML content, or HTML that a feed left unescaped. Names lose
 * their namespace (HTML has none) but xml:lang keeps its prefix. */
static void capture_start_tag(struct xstate *st, const char *local,
                              const XML_Char **atts)
{
        const char *sep, *an;
        enum ns ans;

        close_open_tag(st);
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

static void capture_end_tag(struct xstate *st, const char *name)
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

/* ---- Values of captured fields ------------------------------------ */

/* The base URL in scope for the captured element. */
static const char *cap_base(const struct xstate *st)
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
static char *resolve(struct xstate *st, const char *base, const char *s,
                     size_t n)
{
        char *text, *url;

        trim(&s, &n);
        if (!n)
                return NULL;
        if (plain_http_url(s, n)) {
                url = copy_n(s, n);
                if (!url)
                        oom(st);
                return url;
        }
        text = copy_n(s, n);
        if (!text) {
                oom(st);
                return NULL;
        }
        if (nt_url_resolve(base, text, &url))
                oom(st);
        free(text);
        return url;
}

/* The captured text as a trimmed literal, NULL when empty. */
static char *value_literal(struct xstate *st)
{
        const char *s = nt_buf_str(&st->text);
        size_t n = st->text.len;
        char *v;

        trim(&s, &n);
        if (!n)
                return NULL;
        v = copy_n(s, n);
        if (!v)
                oom(st);
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
static char *value_plain(struct xstate *st)
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
                v = collapse_copy(s, n, &o);
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
                        v = collapse_copy(s, n, &o);
                break;
        }
        if (o)
                oom(st);
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
                        return value_literal(st);
                v = text_to_html(nt_buf_str(&st->text), st->text.len, &o);
                if (o)
                        oom(st);
                return v;
        default:
                return value_literal(st);
        }
}

/* True when a URL reference starts with a scheme ("http:", "mailto:"). */
static bool has_scheme(const char *s, size_t n)
{
        size_t i;

        if (!n || !is_alpha(s[0]))
                return false;
        for (i = 1; i < n; i++) {
                if (s[i] == ':')
                        return true;
                if (!is_alnum(s[i]) && s[i] != '+' && s[i] != '-' &&
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

        if (!is_url || !n || has_scheme(v, n) || v[0] == '#')
                return nt_buf_append(out, v, n);
        raw = copy_n(v, n);
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
                     v < end && !is_space(*v) && *v != '>' && *v != '/'; v++)
                        ;
                rc = nt_buf_append(&out, p, (size_t)(v - p));
                p = v;
                while (rc == NT_OK && p < end && *p != '>') {
                        if (is_space(*p) || *p == '/') {
                                rc = nt_buf_append(&out, p++, 1);
                                continue;
                        }
                        name = p;
                        while (p < end && !is_space(*p) && *p != '=' &&
                               *p != '>' && *p != '/')
                                p++;
                        nn = (size_t)(p - name);
                        is_url =
                            (nn == 4 && strncasecmp(name, "href", 4) == 0) ||
                            (nn == 3 && strncasecmp(name, "src", 3) == 0);
                        while (p < end && is_space(*p))
                                p++;
                        if (p >= end || *p != '=') {
                                rc = nt_buf_append(&out, name, nn);
                                if (rc == NT_OK && nn == 0 && p < end &&
                                    *p != '>')
                                        rc = nt_buf_append(&out, p++, 1);
                                continue;
                        }
                        for (p++; p < end && is_space(*p); p++)
                                ;
                        quote = p < end && (*p == '"' || *p == '\'') ? *p : 0;
                        v = quote ? p + 1 : p;
                        for (p = v;
                             p < end &&
                             (quote ? *p != quote : !is_space(*p) && *p != '>');
                             p++)
                                ;
                        vn = (size_t)(p - v);
                        if (quote && p < end)
                                p++;
                        if (is_url && vn && !has_scheme(v, vn) && v[0] != '#')
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
                for (k = eq; k > html && is_space(k[-1]); k--)
                        ;
                if (!((k - html >= 3 && strncasecmp(k - 3, "src", 3) == 0) ||
                      (k - html >= 4 && strncasecmp(k - 4, "href", 4) == 0)))
                        continue;
                for (v = p; is_space(*v); v++)
                        ;
                if (*v == '"' || *v == '\'')
                        v++;
                n = strcspn(v, "\"' \t\n\r>");
                if (n && v[0] != '#' && !has_scheme(v, n))
                        return true;
        }
        return false;
}

/* The captured text as HTML, with relative links made absolute. */
static char *html_field(struct xstate *st)
{
        char *v = value_html(st);
        const char *base = cap_base(st);

        if (!v || !base || !may_have_relative(v))
                return v;
        v = absolutize(base, v, st->feed->limits.max_field);
        if (!v)
                oom(st);
        return v;
}

/* True when a list of people already holds this one: the same name (or
 * both without one) and no conflicting email. An item with <author> and
 * <dc:creator> often names one person twice; a missing email is filled
 * in from the second mention. */
static bool has_person(struct nt_feed_person *list, size_t n, const char *name,
                       char **email)
{
        size_t i;

        for (i = 0; i < n; i++) {
                if (name ? !list[i].name || strcmp(list[i].name, name) != 0
                         : list[i].name != NULL)
                        continue;
                if (*email && list[i].email &&
                    strcmp(list[i].email, *email) != 0)
                        continue;
                if (!list[i].email && *email) {
                        list[i].email = *email;
                        *email = NULL;
                }
                return name || list[i].email;
        }
        return false;
}

/* Adds an RSS person ("jo@x.org (Jo)") to the entry or the feed. */
static void add_rss_person(struct xstate *st, bool entry)
{
        char *plain = value_plain(st), *name = NULL, *email = NULL;
        struct nt_feed_person *list =
            entry ? st->cur.authors : st->feed->authors;
        size_t n = entry ? st->cur.n_authors : st->feed->n_authors;

        if (!plain)
                return;
        if (!ok(st, nt_feed_split_person(plain, &name, &email)))
                goto out;
        if (has_person(list, n, name, &email)) {
                free(name);
                free(email);
                goto out;
        }
        ok(st, nt_feed_add_person(st->feed, entry ? &st->cur : NULL, name,
                                  email, NULL));
out:
        free(plain);
}

static void set_date_field(struct xstate *st, int64_t *when, char **raw)
{
        char *v = value_literal(st);

        if (v)
                ok(st, nt_feed_set_date(when, raw, v));
        free(v);
}

static void set_ttl(struct xstate *st)
{
        char *v = value_literal(st);
        int64_t minutes;

        if (v && nt_num_parse_i64(v, 0, 1000000, &minutes) == NT_OK)
                st->feed->ttl_minutes = (int)minutes;
        free(v);
}

static void set_skip_hour(struct xstate *st)
{
        char *v = value_literal(st);
        int64_t h;

        /* Some feeds count 1-24; 24 is midnight. */
        if (v && nt_num_parse_i64(v, 0, 24, &h) == NT_OK)
                st->feed->skip_hours |= (uint32_t)1 << (h % 24);
        free(v);
}

static void set_skip_day(struct xstate *st)
{
        static const char *const days[] = {"Monday",   "Tuesday", "Wednesday",
                                           "Thursday", "Friday",  "Saturday",
                                           "Sunday"};
        char *v = value_literal(st);
        size_t i;

        for (i = 0; v && i < 7; i++) {
                if (strcasecmp(v, days[i]) == 0)
                        st->feed->skip_days |= (uint8_t)(1u << i);
        }
        free(v);
}

/* itunes:keywords "a, b,c" are three categories. */
static void add_keywords(struct xstate *st)
{
        const char *s = nt_buf_str(&st->text), *comma;
        size_t n;
        bool o = false;
        char *v;

        while (*s) {
                comma = strchr(s, ',');
                n = comma ? (size_t)(comma - s) : strlen(s);
                v = collapse_copy(s, n, &o);
                if (o) {
                        oom(st);
                        return;
                }
                if (v && !ok(st, nt_feed_add_category(st->feed, &st->cur, v)))
                        return;
                s += n + (comma ? 1 : 0);
        }
}

/* The id: a literal, the last one wins; an Atom id under xml:base is
 * relative to it. */
static void set_id(struct xstate *st)
{
        char *v = value_literal(st), *abs;

        if (v && st->family == FAM_ATOM && st->stack[st->cap_depth].xml_base &&
            !has_scheme(v, strlen(v))) {
                if (nt_url_resolve(cap_base(st), v, &abs))
                        oom(st);
                else if (abs)
                        nt_feed_set(&v, abs);
        }
        if (v)
                nt_feed_set(&st->cur.id, v);
}

static void add_feed_author(struct xstate *st)
{
        add_rss_person(st, false);
}

static void add_entry_author(struct xstate *st)
{
        add_rss_person(st, true);
}

static void add_category(struct xstate *st)
{
        char *v = value_literal(st);

        if (v)
                ok(st, nt_feed_add_category(st->feed, &st->cur, v));
}

/* How a captured text is read into a value. */
enum conv {
        CONV_LITERAL = 0, /* value_literal: trimmed as written */
        CONV_PLAIN,       /* value_plain: plain text of any kind */
        CONV_HTML,        /* html_field: HTML, links made absolute */
        CONV_URL,         /* resolve: a URL against the base in scope */
};

/* Where the value goes: a string slot that keeps the first value, one
 * that keeps the last, a date (and its raw text), or a function for
 * values that are more than one slot. */
enum put {
        PUT_FIRST = 0,
        PUT_LAST,
        PUT_DATE,
        PUT_FN,
};

/* Whose slot: the feed, the entry being read, or the reader's state
 * (an Atom person, the fallbacks). */
enum owner {
        IN_FEED = 0,
        IN_ENTRY,
        IN_STATE,
};

/* What to do with a captured text, by field: one row per field. `name`
 * is what an error about the field calls it. */
struct field_rule {
        const char *name;
        uint8_t put;   /* enum put */
        uint8_t conv;  /* enum conv */
        uint8_t owner; /* enum owner */
        size_t slot;   /* offset of the char * (PUT_DATE: the int64_t) */
        size_t raw;    /* PUT_DATE: offset of the raw text's char * */
        void (*fn)(struct xstate *st); /* PUT_FN */
};

#define STR(put, conv, owner, type, member)                                \
        {                                                                  \
                "field", put, conv, owner, offsetof(type, member), 0, NULL \
        }
#define NAMED(name, put, conv, owner, type, member)                     \
        {                                                               \
                name, put, conv, owner, offsetof(type, member), 0, NULL \
        }
#define DATE(owner, type, when, raw)                                          \
        {                                                                     \
                "field", PUT_DATE, CONV_LITERAL, owner, offsetof(type, when), \
                    offsetof(type, raw), NULL                                 \
        }
#define FN(fn)                                                   \
        {                                                        \
                "field", PUT_FN, CONV_LITERAL, IN_FEED, 0, 0, fn \
        }

static const struct field_rule field_rules[F_COUNT] = {
    [F_NONE] = FN(NULL),
    [F_FEED_TITLE] =
        NAMED("title", PUT_FIRST, CONV_PLAIN, IN_FEED, struct nt_feed, title),
    /* RSS: the last <link> wins, as in other readers. */
    [F_FEED_LINK] =
        NAMED("link", PUT_LAST, CONV_URL, IN_FEED, struct nt_feed, link),
    [F_FEED_SUBTITLE] = NAMED("subtitle", PUT_FIRST, CONV_HTML, IN_FEED,
                              struct nt_feed, subtitle),
    [F_FEED_LANGUAGE] =
        STR(PUT_FIRST, CONV_LITERAL, IN_FEED, struct nt_feed, language),
    [F_FEED_UPDATED] = DATE(IN_FEED, struct nt_feed, updated, updated_raw),
    [F_FEED_AUTHOR] = FN(add_feed_author),
    [F_TTL] = FN(set_ttl),
    [F_SKIP_HOUR] = FN(set_skip_hour),
    [F_SKIP_DAY] = FN(set_skip_day),
    [F_ID] = FN(set_id),
    [F_TITLE] = NAMED("title", PUT_FIRST, CONV_PLAIN, IN_ENTRY,
                      struct nt_feed_entry, title),
    [F_LINK] =
        NAMED("link", PUT_LAST, CONV_URL, IN_ENTRY, struct nt_feed_entry, link),
    [F_SUMMARY] = NAMED("summary", PUT_FIRST, CONV_HTML, IN_ENTRY,
                        struct nt_feed_entry, summary),
    [F_CONTENT] = NAMED("content", PUT_FIRST, CONV_HTML, IN_ENTRY,
                        struct nt_feed_entry, content),
    [F_PUBLISHED] =
        DATE(IN_ENTRY, struct nt_feed_entry, published, published_raw),
    [F_UPDATED] = DATE(IN_ENTRY, struct nt_feed_entry, updated, updated_raw),
    [F_AUTHOR] = FN(add_entry_author),
    [F_CATEGORY] = FN(add_category),
    [F_LANGUAGE] =
        STR(PUT_FIRST, CONV_LITERAL, IN_ENTRY, struct nt_feed_entry, language),
    [F_P_NAME] = STR(PUT_FIRST, CONV_PLAIN, IN_STATE, struct xstate, p_name),
    [F_P_EMAIL] =
        STR(PUT_FIRST, CONV_LITERAL, IN_STATE, struct xstate, p_email),
    [F_P_URI] = STR(PUT_FIRST, CONV_URL, IN_STATE, struct xstate, p_uri),
    [F_FB_FEED_TITLE] =
        STR(PUT_FIRST, CONV_PLAIN, IN_STATE, struct xstate, fb_feed_title),
    [F_FB_FEED_SUBTITLE] =
        STR(PUT_FIRST, CONV_HTML, IN_STATE, struct xstate, fb_feed_subtitle),
    [F_FB_TITLE] =
        STR(PUT_FIRST, CONV_PLAIN, IN_STATE, struct xstate, fb_title),
    [F_FB_SUMMARY] =
        STR(PUT_FIRST, CONV_HTML, IN_STATE, struct xstate, fb_summary),
    [F_FB_AUTHOR] =
        STR(PUT_FIRST, CONV_PLAIN, IN_STATE, struct xstate, fb_author),
    [F_KEYWORDS] = FN(add_keywords),
};

#undef STR
#undef NAMED
#undef DATE
#undef FN

/* The captured text read as `conv` says. */
static char *convert(struct xstate *st, enum conv conv)
{
        switch (conv) {
        case CONV_PLAIN:
                return value_plain(st);
        case CONV_HTML:
                return html_field(st);
        case CONV_URL:
                return resolve(st, cap_base(st), nt_buf_str(&st->text),
                               st->text.len);
        case CONV_LITERAL:
        default:
                return value_literal(st);
        }
}

/* The captured element ended: its text goes where its field's row says. */
static void finish_capture(struct xstate *st)
{
        const struct field_rule *r = &field_rules[st->cap_field];
        struct nt_feed *feed = st->feed;
        char *owner, **slot, *v;

        close_open_tag(st);
        st->capturing = false;
        if (st->cap_truncated) {
                nt_feed_add_error(feed, cap_line(st), 0, NT_FEED_CUT_FIELD,
                                  "%s longer than %zu bytes: truncated",
                                  r->name, feed->limits.max_field);
                if (st->in_entry)
                        st->cur.cuts |= NT_FEED_CUT_FIELD;
        }
        if (r->put == PUT_FN) {
                if (r->fn)
                        r->fn(st);
                return;
        }
        owner = r->owner == IN_FEED    ? (char *)feed
                : r->owner == IN_ENTRY ? (char *)&st->cur
                                       : (char *)st;
        if (r->put == PUT_DATE) {
                set_date_field(st, (int64_t *)(void *)(owner + r->slot),
                               (char **)(void *)(owner + r->raw));
                return;
        }
        slot = (char **)(void *)(owner + r->slot);
        if (r->put == PUT_FIRST) {
                if (!*slot)
                        *slot = convert(st, (enum conv)r->conv);
                return;
        }
        v = convert(st, (enum conv)r->conv);
        if (v)
                nt_feed_set(slot, v);
}

/* ---- Elements with attributes only ------------------------------- */

/* How an Atom text construct's type (and Atom 0.3 mode) says to read
 * its text. */
static enum kind text_kind(const XML_Char **atts)
{
        const char *type = attr(atts, "type"), *mode = attr(atts, "mode");
        enum kind k;

        if (!type || !*type || strcasecmp(type, "text") == 0 ||
            strcasecmp(type, "text/plain") == 0)
                k = K_TEXT;
        else if (strcasecmp(type, "html") == 0 ||
                 strcasecmp(type, "text/html") == 0)
                k = K_HTML;
        else if (strcasecmp(type, "xhtml") == 0 ||
                 strcasecmp(type, "application/xhtml+xml") == 0)
                k = K_XHTML;
        else if (strncasecmp(type, "text/", 5) == 0)
                k = K_TEXT;
        else if (strncasecmp(type, "application/octet-stream", 24) == 0 ||
                 strncasecmp(type, "image/", 6) == 0 ||
                 strncasecmp(type, "audio/", 6) == 0 ||
                 strncasecmp(type, "video/", 6) == 0)
                k = K_B64_HTML; /* RFC 4287 4.1.3.3: binary is base64 */
        else
                k = K_TEXT; /* another XML type, or text that is not
                               binary: inline markup is kept as markup,
                               escaped markup as text */
        if (mode && strcasecmp(mode, "escaped") == 0 && k == K_XHTML)
                k = K_HTML;
        if (mode && strcasecmp(mode, "base64") == 0)
                k = k == K_TEXT ? K_B64_TEXT
                                : (k == K_SKIP ? K_SKIP : K_B64_HTML);
        return k;
}

/* <link> of Atom (or atom:link in RSS): the alternate link or an
 * enclosure. */
static void atom_link(struct xstate *st, const XML_Char **atts, bool entry,
                      bool in_rss)
{
        const char *rel = attr(atts, "rel"), *href = attr(atts, "href");
        const char *base = st->stack[st->depth - 1].base;
        char *url, *length = NULL, *type = NULL, **slot;
        const char *v;

        if (!href)
                return;
        if (!rel || !*rel || strcmp(rel, "alternate") == 0 ||
            strcmp(rel, "http://www.iana.org/assignments/relation/"
                        "alternate") == 0) {
                if (in_rss)
                        slot = entry ? &st->cur.link : &st->atom_alt_link;
                else
                        slot = entry ? &st->cur.link : &st->feed->link;
                if (*slot)
                        return;
                *slot = resolve(st, base, href, strlen(href));
                return;
        }
        if (!entry || strcmp(rel, "enclosure") != 0)
                return;
        url = resolve(st, base, href, strlen(href));
        if (!url)
                return;
        v = attr(atts, "length");
        if (v && *v && !(length = strdup(v)))
                oom(st);
        v = attr(atts, "type");
        if (v && *v && !(type = strdup(v)))
                oom(st);
        ok(st, nt_feed_add_enclosure(st->feed, &st->cur, url, length, type));
}

/* An RSS <link href="..."/> (Atom-style, seen in the wild) sets the link
 * from its attribute; its text, if any, is read as usual after it. */
static void rss_link_href(struct xstate *st, const XML_Char **atts, char **slot)
{
        const char *href = attr(atts, "href");
        char *url;

        if (!href)
                return;
        url = resolve(st, st->stack[st->depth - 1].base, href, strlen(href));
        if (url)
                nt_feed_set(slot, url);
}

static void rss_enclosure(struct xstate *st, const XML_Char **atts)
{
        const char *u = attr(atts, "url"), *v;
        char *url, *length = NULL, *type = NULL;

        if (!u)
                return;
        url = resolve(st, st->stack[st->depth - 1].base, u, strlen(u));
        if (!url)
                return;
        v = attr(atts, "length");
        if (v && *v && !(length = strdup(v)))
                oom(st);
        v = attr(atts, "type");
        if (v && *v && !(type = strdup(v)))
                oom(st);
        ok(st, nt_feed_add_enclosure(st->feed, &st->cur, url, length, type));
}

static void atom_category(struct xstate *st, const XML_Char **atts)
{
        const char *term = attr(atts, "term");
        bool o = false;
        char *v;

        if (!term)
                return; /* Atom requires term; text is not the term */
        v = collapse_copy(term, strlen(term), &o);
        if (o)
                oom(st);
        if (v)
                ok(st, nt_feed_add_category(st->feed, &st->cur, v));
}

/* ---- Entries and people -------------------------------------------- */

static void begin_entry(struct xstate *st, const XML_Char **atts)
{
        const char *about, *lang;

        if (st->in_entry)
                return; /* an item inside an item: its fields are read as
                           the outer one's */
        if (nt_feed_entries_full(st->feed)) {
                nt_feed_add_error(st->feed, cur_line(st), cur_col(st),
                                  NT_FEED_CUT_ENTRIES,
                                  "more than %zu entries: the rest are "
                                  "ignored",
                                  st->feed->limits.max_entries);
                stop(st, NT_ERR_LIMIT);
                return;
        }
        st->in_entry = true;
        st->guid_seen = false;
        st->entry_depth = st->depth - 1;
        nt_feed_entry_init(&st->cur);
        about = attr_ns(atts, NS_RDF, "about");
        if (about && *about && !(st->cur.id = strdup(about)))
                oom(st);
        lang = attr_xml(atts, "lang");
        if (lang && *lang && !(st->cur.language = strdup(lang)))
                oom(st);
}

static bool is_http_url(const char *s)
{
        return strncasecmp(s, "http://", 7) == 0 ||
               strncasecmp(s, "https://", 8) == 0;
}

static void end_entry(struct xstate *st)
{
        struct nt_feed_entry *e = &st->cur;

        st->in_entry = false;
        if (!e->title) {
                e->title = st->fb_title;
                st->fb_title = NULL;
        }
        if (!e->summary) {
                e->summary = st->fb_summary;
                st->fb_summary = NULL;
        }
        if (!e->n_authors && st->fb_author) {
                ok(st,
                   nt_feed_add_person(st->feed, e, st->fb_author, NULL, NULL));
                st->fb_author = NULL;
        }
        free(st->fb_title);
        free(st->fb_summary);
        free(st->fb_author);
        st->fb_title = st->fb_summary = st->fb_author = NULL;
        /* A permalink guid is the item's link when it has none. */
        if (!e->link && e->id && e->id_is_permalink && st->guid_seen &&
            st->family == FAM_RSS && is_http_url(e->id))
                e->link = resolve(st, st->stack[st->entry_depth].base, e->id,
                                  strlen(e->id));
        if (nt_feed_commit_entry(st->feed, e) == NT_ERR_NOMEM)
                oom(st);
}

static void begin_person(struct xstate *st, bool of_entry)
{
        st->in_person = true;
        st->person_of_entry = of_entry;
        st->person_depth = st->depth - 1;
        st->p_name = st->p_email = st->p_uri = NULL;
}

static void end_person(struct xstate *st)
{
        struct nt_feed_person *list =
            st->person_of_entry ? st->cur.authors : st->feed->authors;
        size_t n =
            st->person_of_entry ? st->cur.n_authors : st->feed->n_authors;

        st->in_person = false;
        if (has_person(list, n, st->p_name, &st->p_email)) {
                free(st->p_name);
                free(st->p_email);
                free(st->p_uri);
        } else {
                ok(st, nt_feed_add_person(st->feed,
                                          st->person_of_entry ? &st->cur : NULL,
                                          st->p_name, st->p_email, st->p_uri));
        }
        st->p_name = st->p_email = st->p_uri = NULL;
}

/* ---- The root -------------------------------------------------------- */

static enum nt_feed_format rss_version(const char *v)
{
        if (!v)
                return NT_FEED_RSS20;
        while (is_space(*v))
                v++;
        if (strncmp(v, "0.90", 4) == 0 || strcmp(v, "0.9") == 0)
                return NT_FEED_RSS090;
        if (strncmp(v, "0.91", 4) == 0)
                return NT_FEED_RSS091;
        if (strncmp(v, "0.92", 4) == 0)
                return NT_FEED_RSS092;
        if (strncmp(v, "0.93", 4) == 0)
                return NT_FEED_RSS093;
        if (strncmp(v, "0.94", 4) == 0)
                return NT_FEED_RSS094;
        if (strncmp(v, "1.0", 3) == 0)
                return NT_FEED_RSS10;
        return NT_FEED_RSS20;
}

static void root_element(struct xstate *st, enum ns ns, const char *local,
                         const XML_Char **atts)
{
        struct nt_feed *feed = st->feed;
        const char *lang = attr_xml(atts, "lang"), *v;
        size_t n = strlen(local);

        st->saw_root = true;
        if (n >= sizeof(st->root_name))
                n = sizeof(st->root_name) - 1;
        memcpy(st->root_name, local, n);
        st->root_name[n] = '\0';
        if (lang && *lang && !(st->root_lang = strdup(lang)))
                oom(st);
        if (strcmp(local, "rss") == 0 &&
            (ns == NS_NONE || ns == NS_RSS || ns == NS_OTHER)) {
                st->family = FAM_RSS;
                feed->format = rss_version(attr(atts, "version"));
                st->stack[0].el = R_RSS;
        } else if (strcmp(local, "RDF") == 0 &&
                   (ns == NS_RDF || ns == NS_NONE)) {
                st->family = FAM_RSS;
                feed->format = NT_FEED_RSS10;
                st->stack[0].el = R_RDF;
        } else if ((strcmp(local, "feed") == 0 ||
                    strcmp(local, "entry") == 0) &&
                   (ns == NS_ATOM10 || ns == NS_ATOM03 || ns == NS_NONE)) {
                st->family = FAM_ATOM;
                st->root_no_ns = ns == NS_NONE;
                v = attr(atts, "version");
                feed->format = ns == NS_ATOM03 || (ns == NS_NONE && v &&
                                                   strncmp(v, "0.", 2) == 0)
                                   ? NT_FEED_ATOM03
                                   : NT_FEED_ATOM10;
                st->stack[0].el = local[0] == 'f' ? A_FEED : A_ENTRY;
                if (local[0] == 'e')
                        begin_entry(st, atts);
        } else {
                stop(st, NT_ERR_PARSE);
        }
}

/* ---- Dispatch: what an element means depends on its parent --------- */

/* Where an element stands: the parent that gives it its meaning. */
enum ctx {
        CTX_NONE = 0,
        CTX_RSS,       /* under <rss> or <rdf:RDF> */
        CTX_CHANNEL,   /* under an RSS <channel> */
        CTX_ITEM,      /* under an RSS <item> */
        CTX_FEED,      /* under an Atom <feed> */
        CTX_ENTRY,     /* under an Atom <entry> */
        CTX_PERSON,    /* under an Atom <author> */
        CTX_SKIPHOURS, /* under RSS <skipHours> */
        CTX_SKIPDAYS,  /* under RSS <skipDays> */
        CTX_COUNT,
};

/* What an element starts. */
enum act {
        ACT_NONE = 0,
        ACT_CAPTURE,        /* capture its text into `field` as `kind` */
        ACT_CAPTURE_TYPED,  /* the same, the kind from Atom type= / mode= */
        ACT_CAPTURE_INLINE, /* the same unless src= (content elsewhere has
                               no value here) */
        ACT_RSS_LINK,       /* an href= first, then the text as `field` */
        ACT_GUID,           /* isPermaLink=, then the text as the id */
        ACT_ENTRY,          /* an <item> or <entry> */
        ACT_PERSON,         /* an Atom person */
        ACT_ATOM_LINK,      /* <atom:link> with its rel= */
        ACT_ENCLOSURE,      /* RSS <enclosure> */
        ACT_ATOM_CATEGORY,  /* Atom <category term=> */
};

struct el_rule {
        uint8_t act;   /* enum act */
        uint8_t field; /* enum field */
        uint8_t kind;  /* enum kind */
};

#define CAP(f, k)                 \
        {                         \
                ACT_CAPTURE, f, k \
        }
#define TYPED(f)                                \
        {                                       \
                ACT_CAPTURE_TYPED, f, K_LITERAL \
        }
#define DO(a)                        \
        {                            \
                a, F_NONE, K_LITERAL \
        }

/* Element x context -> what it starts: adding an element is one row (and
 * its name in the name tables above). Extension elements (dc:, dcterms:,
 * itunes:) stand in for core ones; the F_FB_ fields only fill what a
 * feed or entry lacks. */
static const struct el_rule grammar[CTX_COUNT][EL_COUNT] =
    {
        [CTX_RSS] =
            {
                [R_ITEM] = DO(ACT_ENTRY),
            },
        [CTX_CHANNEL] =
            {
                [R_ITEM] = DO(ACT_ENTRY),
                [R_TITLE] = CAP(F_FEED_TITLE, K_RSS_TEXT),
                [R_LINK] = {ACT_RSS_LINK, F_FEED_LINK, K_LITERAL},
                [R_DESCRIPTION] = CAP(F_FEED_SUBTITLE, K_RSS_HTML),
                [R_LANGUAGE] = CAP(F_FEED_LANGUAGE, K_LITERAL),
                [DC_LANGUAGE] = CAP(F_FEED_LANGUAGE, K_LITERAL),
                [R_LASTBUILDDATE] = CAP(F_FEED_UPDATED, K_LITERAL),
                [DC_DATE] = CAP(F_FEED_UPDATED, K_LITERAL),
                [DCT_MODIFIED] = CAP(F_FEED_UPDATED, K_LITERAL),
                [A_UPDATED] = CAP(F_FEED_UPDATED, K_LITERAL),
                [R_TTL] = CAP(F_TTL, K_LITERAL),
                [R_MANAGINGEDITOR] = CAP(F_FEED_AUTHOR, K_PERSON),
                [DC_TITLE] = CAP(F_FB_FEED_TITLE, K_RSS_TEXT),
                [DC_DESCRIPTION] = CAP(F_FB_FEED_SUBTITLE, K_RSS_HTML),
                [IT_SUMMARY] = CAP(F_FB_FEED_SUBTITLE, K_RSS_HTML),
                [A_LINK] = DO(ACT_ATOM_LINK),
            },
        [CTX_ITEM] =
            {
                [R_TITLE] = CAP(F_TITLE, K_RSS_TEXT),
                [R_LINK] = {ACT_RSS_LINK, F_LINK, K_LITERAL},
                [R_DESCRIPTION] = CAP(F_SUMMARY, K_RSS_HTML),
                [C_ENCODED] = CAP(F_CONTENT, K_RSS_HTML),
                [R_GUID] = DO(ACT_GUID),
                [R_PUBDATE] = CAP(F_PUBLISHED, K_LITERAL),
                [DC_DATE] = CAP(F_PUBLISHED, K_LITERAL),
                [DCT_ISSUED] = CAP(F_PUBLISHED, K_LITERAL),
                [A_PUBLISHED] = CAP(F_PUBLISHED, K_LITERAL),
                [DCT_MODIFIED] = CAP(F_UPDATED, K_LITERAL),
                [A_UPDATED] = CAP(F_UPDATED, K_LITERAL),
                [R_AUTHOR] = CAP(F_AUTHOR, K_PERSON),
                [DC_CREATOR] = CAP(F_AUTHOR, K_PERSON),
                [R_CATEGORY] = CAP(F_CATEGORY, K_LITERAL),
                [DC_SUBJECT] = CAP(F_CATEGORY, K_LITERAL),
                [R_ENCLOSURE] = DO(ACT_ENCLOSURE),
                [DC_LANGUAGE] = CAP(F_LANGUAGE, K_LITERAL),
                [A_LINK] = DO(ACT_ATOM_LINK),
                [DC_TITLE] = CAP(F_FB_TITLE, K_RSS_TEXT),
                [DC_DESCRIPTION] = CAP(F_FB_SUMMARY, K_RSS_HTML),
                [IT_SUMMARY] = CAP(F_FB_SUMMARY, K_RSS_HTML),
                [IT_AUTHOR] = CAP(F_FB_AUTHOR, K_PERSON),
                [IT_KEYWORDS] = CAP(F_KEYWORDS, K_LITERAL),
                /* Atom elements inside an RSS item mean what they mean in
                 * Atom. */
                [A_AUTHOR] = DO(ACT_PERSON),
                [A_SUMMARY] = TYPED(F_SUMMARY),
                [A_CONTENT] = {ACT_CAPTURE_INLINE, F_CONTENT, K_LITERAL},
                [A_CATEGORY] = DO(ACT_ATOM_CATEGORY),
            },
        [CTX_FEED] =
            {
                [A_ENTRY] = DO(ACT_ENTRY),
                [A_TITLE] = TYPED(F_FEED_TITLE),
                [A_SUBTITLE] = TYPED(F_FEED_SUBTITLE),
                [A_LINK] = DO(ACT_ATOM_LINK),
                [A_UPDATED] = CAP(F_FEED_UPDATED, K_LITERAL),
                [DC_DATE] = CAP(F_FEED_UPDATED, K_LITERAL),
                [DCT_MODIFIED] = CAP(F_FEED_UPDATED, K_LITERAL),
                [A_AUTHOR] = DO(ACT_PERSON),
                [DC_LANGUAGE] = CAP(F_FEED_LANGUAGE, K_LITERAL),
                [DC_TITLE] = CAP(F_FB_FEED_TITLE, K_RSS_TEXT),
                [IT_SUMMARY] = CAP(F_FB_FEED_SUBTITLE, K_RSS_HTML),
                [DC_DESCRIPTION] = CAP(F_FB_FEED_SUBTITLE, K_RSS_HTML),
            },
        [CTX_ENTRY] =
            {
                [A_ID] = CAP(F_ID, K_LITERAL),
                [A_TITLE] = TYPED(F_TITLE),
                [A_LINK] = DO(ACT_ATOM_LINK),
                [A_SUMMARY] = TYPED(F_SUMMARY),
                [A_CONTENT] = {ACT_CAPTURE_INLINE, F_CONTENT, K_LITERAL},
                [A_PUBLISHED] = CAP(F_PUBLISHED, K_LITERAL),
                [DC_DATE] = CAP(F_PUBLISHED, K_LITERAL),
                [DCT_ISSUED] = CAP(F_PUBLISHED, K_LITERAL),
                [A_UPDATED] = CAP(F_UPDATED, K_LITERAL),
                [DCT_MODIFIED] = CAP(F_UPDATED, K_LITERAL),
                [A_AUTHOR] = DO(ACT_PERSON),
                [A_CATEGORY] = DO(ACT_ATOM_CATEGORY),
                [DC_CREATOR] = CAP(F_AUTHOR, K_PERSON),
                [DC_SUBJECT] = CAP(F_CATEGORY, K_LITERAL),
                [DC_LANGUAGE] = CAP(F_LANGUAGE, K_LITERAL),
                [DC_TITLE] = CAP(F_FB_TITLE, K_RSS_TEXT),
                [DC_DESCRIPTION] = CAP(F_FB_SUMMARY, K_RSS_HTML),
            },
        [CTX_PERSON] =
            {
                [A_NAME] = CAP(F_P_NAME, K_TEXT),
                [A_EMAIL] = CAP(F_P_EMAIL, K_LITERAL),
                [A_URI] = CAP(F_P_URI, K_LITERAL),
            },
        [CTX_SKIPHOURS] =
            {
                [R_HOUR] = CAP(F_SKIP_HOUR, K_LITERAL),
            },
        [CTX_SKIPDAYS] =
            {
                [R_DAY] = CAP(F_SKIP_DAY, K_LITERAL),
            },
};

#undef CAP
#undef TYPED
#undef DO

/* The context of an element whose parent frame is `parent`. */
static enum ctx context_of(const struct xstate *st, const struct frame *parent)
{
        if (st->in_person && st->depth - 2 == st->person_depth)
                return CTX_PERSON;
        if (st->in_entry && st->depth - 2 == st->entry_depth)
                return st->family == FAM_ATOM ? CTX_ENTRY : CTX_ITEM;
        switch (parent->el) {
        case R_RSS:
        case R_RDF:
                return CTX_RSS;
        case R_CHANNEL:
                return CTX_CHANNEL;
        case R_SKIPHOURS:
                return CTX_SKIPHOURS;
        case R_SKIPDAYS:
                return CTX_SKIPDAYS;
        case A_FEED:
                return CTX_FEED;
        default:
                return CTX_NONE;
        }
}

/* Starts what element `el` means in context `ctx`. */
static void start_element(struct xstate *st, enum ctx ctx, enum el el,
                          const XML_Char **atts)
{
        const struct el_rule *r = &grammar[ctx][el];
        bool of_entry = ctx == CTX_ITEM || ctx == CTX_ENTRY;
        bool in_rss = ctx == CTX_CHANNEL || ctx == CTX_ITEM;
        const char *v;

        switch ((enum act)r->act) {
        case ACT_NONE:
                break;
        case ACT_CAPTURE:
                begin_capture(st, (enum field)r->field, (enum kind)r->kind);
                break;
        case ACT_CAPTURE_INLINE:
                if (attr(atts, "src"))
                        break;
                /* fall through */
        case ACT_CAPTURE_TYPED:
                begin_capture(st, (enum field)r->field, text_kind(atts));
                break;
        case ACT_RSS_LINK:
                rss_link_href(st, atts,
                              of_entry ? &st->cur.link : &st->feed->link);
                begin_capture(st, (enum field)r->field, (enum kind)r->kind);
                break;
        case ACT_GUID:
                v = attr(atts, "isPermaLink");
                st->cur.id_is_permalink = !(v && strcasecmp(v, "false") == 0);
                st->guid_seen = true;
                begin_capture(st, F_ID, K_LITERAL);
                break;
        case ACT_ENTRY:
                begin_entry(st, atts);
                break;
        case ACT_PERSON:
                begin_person(st, of_entry);
                break;
        case ACT_ATOM_LINK:
                atom_link(st, atts, of_entry, in_rss);
                break;
        case ACT_ENCLOSURE:
                rss_enclosure(st, atts);
                break;
        case ACT_ATOM_CATEGORY:
                atom_category(st, atts);
                break;
        }
}

/* ---- expat handlers ------------------------------------------------- */

static void XMLCALL on_start(void *ud, const XML_Char *name,
                             const XML_Char **atts)
{
        struct xstate *st = ud;
        struct frame *fr, *parent;
        const char *local, *xbase;
        enum ns ns;
        enum el el;
        char *base;

        if (st->stopped)
                return;
        if (st->depth >= st->max_depth) {
                nt_feed_add_error(st->feed, cur_line(st), cur_col(st),
                                  NT_FEED_CUT_DEPTH,
                                  "elements nested deeper than %zu: the "
                                  "rest of the document is ignored",
                                  st->max_depth);
                /* The entry being read is kept with what it has so far
                 * (the field open here is lost): flagged, not silent. */
                if (st->in_entry)
                        st->cur.cuts |= NT_FEED_CUT_DEPTH;
                stop(st, NT_ERR_LIMIT);
                return;
        }
        parent = st->depth ? &st->stack[st->depth - 1] : NULL;
        fr = &st->stack[st->depth++];
        fr->el = EL_OTHER;
        fr->own_base = false;
        fr->xml_base = parent && parent->xml_base;
        fr->base = parent ? parent->base : st->doc_base;
        fr->start = XML_GetCurrentByteIndex(st->p);
        local = split_name(name, &ns);
        if (atts[0]) {
                xbase = attr_xml(atts, "base");
                if (xbase) {
                        /* xml:base may itself be relative to the base in
                         * scope. */
                        if (nt_url_resolve(fr->base, xbase, &base)) {
                                oom(st);
                                return;
                        }
                        /* A blank xml:base keeps the base in scope. */
                        if (base) {
                                fr->base = base;
                                fr->own_base = true;
                                fr->xml_base = true;
                        }
                }
        }
        if (st->capturing) {
                capture_start_tag(st, local, atts);
                return;
        }
        if (!parent) {
                root_element(st, ns, local, atts);
                return;
        }
        el = classify(st, ns, local);
        fr->el = (uint8_t)el;
        if (ns == NS_RSS090 && st->feed->format == NT_FEED_RSS10)
                st->feed->format = NT_FEED_RSS090;
        start_element(st, context_of(st, parent), el, atts);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
        struct xstate *st = ud;
        struct frame *fr;

        if (st->stopped || st->depth == 0)
                return;
        st->depth--;
        fr = &st->stack[st->depth];
        if (st->capturing) {
                if (st->depth == st->cap_depth)
                        finish_capture(st);
                else
                        capture_end_tag(st, name);
        } else if (st->in_person && st->depth == st->person_depth) {
                end_person(st);
        } else if (st->in_entry && st->depth == st->entry_depth) {
                end_entry(st);
        }
        if (fr->own_base)
                free((char *)fr->base);
        fr->own_base = false;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
        struct xstate *st = ud;

        if (!st->capturing || st->stopped)
                return;
        close_open_tag(st);
        if (st->cap_kind == K_XHTML || st->depth > st->cap_depth + 1)
                cap_append_escaped(st, s, (size_t)len, false);
        else
                cap_append(st, s, (size_t)len);
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *entity_name,
                                   int is_parameter_entity,
                                   const XML_Char *value, int value_length,
                                   const XML_Char *base,
                                   const XML_Char *system_id,
                                   const XML_Char *public_id,
                                   const XML_Char *notation_name)
{
        struct xstate *st = ud;

        (void)is_parameter_entity;
        (void)value;
        (void)value_length;
        (void)base;
        (void)system_id;
        (void)public_id;
        (void)notation_name;
        if (st->stopped)
                return;
        nt_feed_add_error(st->feed, cur_line(st), cur_col(st), false,
                          "entity declarations are not allowed (entity "
                          "\"%.40s\")",
                          entity_name);
        st->entity_decl = true;
        stop(st, NT_ERR_PARSE);
}

/* ---- Scans over the whole text ------------------------------------ */

/* Offset of the first 8-byte word of u that holds a byte below 0x20 or
 * 0xEF (or of the tail shorter than a word): everything before it is
 * clean. Word at a time, as this runs over every byte of every feed. */
static size_t skip_clean(const unsigned char *u, size_t len)
{
        const uint64_t ones = 0x0101010101010101ULL;
        const uint64_t highs = 0x8080808080808080ULL;
        uint64_t x, y;
        size_t i;

        for (i = 0; i + 8 <= len; i += 8) {
                memcpy(&x, u + i, 8);
                y = x ^ (ones * 0xEF);
                /* A byte below 0x20 (and below 0x80), or a zero byte of
                 * y, sets its high bit here. */
                if (((x - ones * 0x20) & ~x & highs) ||
                    ((y - ones) & ~y & highs))
                        break;
        }
        return i;
}

/* Offset of the next run of bytes to remove at or after i (*n bytes: a
 * C0 control other than tab, LF and CR, or U+FFFE / U+FFFF), or len. */
static size_t next_bad(const unsigned char *u, size_t len, size_t i, size_t *n)
{
        static const unsigned char suspect[256] = {
            1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1,          1,
            1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, [0xEF] = 1,
        };
        size_t end;

        while (i < len) {
                i += skip_clean(u + i, len - i);
                end = i + 8 < len ? i + 8 : len;
                for (; i < end; i++) {
                        if (!suspect[u[i]])
                                continue;
                        if (u[i] != 0xEF) {
                                *n = 1;
                                return i;
                        }
                        if (i + 2 < len && u[i + 1] == 0xBF &&
                            (u[i + 2] == 0xBE || u[i + 2] == 0xBF)) {
                                *n = 3;
                                return i;
                        }
                }
        }
        return len;
}

/* Removes, in place, the characters XML 1.0 forbids that feeds carry:
 * C0 controls other than tab, LF and CR, and U+FFFE/U+FFFF. Returns the
 * new length; *removed and *first (offset of the first) tell
 * what was done. */
static size_t strip_controls(char *s, size_t len, size_t *removed,
                             size_t *first)
{
        const unsigned char *u = (const unsigned char *)s;
        size_t i, j, o, n = 0;

        *removed = 0;
        o = i = next_bad(u, len, 0, &n);
        if (i < len)
                *first = i;
        while (i < len) {
                (*removed)++;
                i += n;
                j = next_bad(u, len, i, &n);
                memmove(s + o, s + i, j - i);
                o += j - i;
                i = j;
        }
        s[o] = '\0';
        return o;
}

static const char *find(const char *p, const char *end, const char *needle,
                        size_t n)
{
        while (p && end - p >= (ptrdiff_t)n) {
                p = memchr(p, needle[0], (size_t)(end - p) - n + 1);
                if (!p)
                        return NULL;
                if (memcmp(p, needle, n) == 0)
                        return p;
                p++;
        }
        return NULL;
}

/* True when nt_entities_fix_xml may change the text: an '&' outside
 * CDATA sections that does not start a reference XML knows. Checking
 * costs a scan for '&', much less than the rewrite's copy, and most
 * feeds need none. (A bare '&' in a comment also answers true: the
 * rewrite then runs and changes nothing.) */
static bool needs_entity_fix(const char *s, size_t len)
{
        const char *p = s, *end = s + len, *amp, *cd = s, *cd_end = s;

        while ((amp = memchr(p, '&', (size_t)(end - p)))) {
                p = amp + 1;
                if (nt_entities_xml_ref_kept(amp, (size_t)(end - amp)))
                        continue;
                /* The first CDATA section that does not end before it. */
                while (cd && cd_end <= amp) {
                        cd = find(cd_end, end, "<![CDATA[", 9);
                        if (!cd)
                                break;
                        cd_end = find(cd + 9, end, "]]>", 3);
                        if (!cd_end)
                                cd_end = end;
                }
                if (!cd || cd > amp)
                        return true;
        }
        return false;
}

/* True when s[i] (within len bytes) is '&'. */
static bool amp_at(const char *s, size_t len, size_t i)
{
        return i < len && s[i] == '&';
}

/* Offset of the first byte where a and b differ. */
static size_t first_difference(const char *a, size_t na, const char *b,
                               size_t nb)
{
        size_t i, n = na < nb ? na : nb;

        for (i = 0; i < n && a[i] == b[i]; i++)
                ;
        return i;
}

/* ---- Repairs ------------------------------------------------------ */

/* Offset just past the root element's name, or 0 when there is none. */
static size_t root_name_end(const char *doc, size_t len)
{
        size_t i = 0;
        const char *p;

        while (i < len) {
                p = memchr(doc + i, '<', len - i);
                if (!p)
                        return 0;
                i = (size_t)(p - doc);
                if (i + 1 >= len)
                        return 0;
                if (doc[i + 1] == '?') {
                        p = strstr(doc + i, "?>");
                        if (!p)
                                return 0;
                        i = (size_t)(p - doc) + 2;
                } else if (strncmp(doc + i, "<!--", 4) == 0) {
                        p = strstr(doc + i, "-->");
                        if (!p)
                                return 0;
                        i = (size_t)(p - doc) + 3;
                } else if (doc[i + 1] == '!') {
                        /* A DOCTYPE, maybe with an internal subset. */
                        size_t gt = i, br = i;
                        p = memchr(doc + i, '>', len - i);
                        gt = p ? (size_t)(p - doc) : len;
                        p = memchr(doc + i, '[', gt - i);
                        if (p) {
                                br = (size_t)(p - doc);
                                p = strstr(doc + br, "]>");
                                if (!p)
                                        return 0;
                                gt = (size_t)(p - doc) + 1;
                        }
                        i = gt + 1;
                } else {
                        i++;
                        while (i < len && !is_space(doc[i]) && doc[i] != '>' &&
                               doc[i] != '/')
                                i++;
                        return i;
                }
        }
        return 0;
}

/* Finds an undeclared prefix in the tag at (or before) `at`. */
static bool prefix_at(const char *doc, size_t len, size_t at, char *out,
                      size_t size)
{
        size_t i = at, j;
        bool in_value = false;
        char quote = 0;

        while (i > 0 && i < len && doc[i] != '<')
                i--;
        if (i >= len || doc[i] != '<')
                return false;
        i++;
        if (i < len && doc[i] == '/')
                i++;
        /* Each name in the tag (element, then attributes): the first with
         * a prefix other than xml and xmlns is taken. */
        while (i < len && doc[i] != '>') {
                if (in_value) {
                        if (doc[i] == quote)
                                in_value = false;
                        i++;
                        continue;
                }
                if (doc[i] == '"' || doc[i] == '\'') {
                        in_value = true;
                        quote = doc[i++];
                        continue;
                }
                if (is_space(doc[i]) || doc[i] == '=' || doc[i] == '/') {
                        i++;
                        continue;
                }
                for (j = i; j < len && !is_space(doc[j]) && doc[j] != '=' &&
                            doc[j] != '>' && doc[j] != '/' && doc[j] != ':';
                     j++)
                        ;
                if (j < len && doc[j] == ':' && j > i && j - i < size &&
                    !(j - i == 3 && strncmp(doc + i, "xml", 3) == 0) &&
                    !(j - i == 5 && strncmp(doc + i, "xmlns", 5) == 0)) {
                        memcpy(out, doc + i, j - i);
                        out[j - i] = '\0';
                        return true;
                }
                while (j < len && !is_space(doc[j]) && doc[j] != '=' &&
                       doc[j] != '>' && doc[j] != '/')
                        j++;
                i = j;
        }
        return false;
}

/* Appends ` xmlns:PREFIX="URI"` for an undeclared prefix. */
static int declare_prefix(struct nt_buf *decls, const char *prefix)
{
        size_t i;

        for (i = 0; i < sizeof(known_prefixes) / sizeof(known_prefixes[0]);
             i++) {
                if (strcmp(known_prefixes[i].prefix, prefix) == 0)
                        return nt_buf_printf(decls, " xmlns:%s=\"%s\"", prefix,
                                             known_prefixes[i].uri);
        }
        return nt_buf_printf(decls, " xmlns:%s=\"urn:x-newstap:undeclared:%s\"",
                             prefix, prefix);
}

/* ---- Running expat -------------------------------------------------- */

static void state_free(struct xstate *st)
{
        size_t i;

        for (i = 0; i < st->depth; i++) {
                if (st->stack[i].own_base)
                        free((char *)st->stack[i].base);
        }
        free(st->stack);
        nt_buf_free(&st->text);
        nt_feed_entry_free(&st->cur);
        free(st->p_name);
        free(st->p_email);
        free(st->p_uri);
        free(st->atom_alt_link);
        free(st->root_lang);
        free(st->fb_feed_title);
        free(st->fb_feed_subtitle);
        free(st->fb_title);
        free(st->fb_summary);
        free(st->fb_author);
        nt_buf_free(&st->rep_insert);
}

/* After expat stopped with an error: what was being read is kept when it
 * is worth it. */
static void salvage(struct xstate *st)
{
        bool was_stopped = st->stopped;

        /* The handlers below must run even though the parse stopped. */
        st->stopped = false;
        if (st->capturing) {
                if (st->cap_field >= F_ID && st->cap_field <= F_LANGUAGE &&
                    !st->in_entry)
                        st->capturing = false;
                else
                        finish_capture(st);
        }
        if (st->in_person) {
                free(st->p_name);
                free(st->p_email);
                free(st->p_uri);
                st->p_name = st->p_email = st->p_uri = NULL;
                st->in_person = false;
        }
        if (st->in_entry) {
                if (st->cur.title || st->cur.link)
                        end_entry(st);
                else
                        nt_feed_entry_free(&st->cur);
                st->in_entry = false;
        }
        st->stopped = st->stopped || was_stopped;
}

/* The raw name of the tag at doc[at] ("<atom:link ..." or "</x>"). */
static const char *tag_name(const char *doc, size_t len, size_t at, size_t *n)
{
        size_t i = at + 1, j;

        if (i < len && doc[i] == '/')
                i++;
        for (j = i;
             j < len && !is_space(doc[j]) && doc[j] != '>' && doc[j] != '/';
             j++)
                ;
        *n = j - i;
        return doc + i;
}

/* Plans the repair of a mismatched end tag at doc[at]: when it closes an
 * element further up, the elements left open in between are closed
 * before it (a missing end tag); when it closes nothing, it is dropped
 * (a typo); when it differs only in case, it is read as the end tag of
 * the element it names. */
static bool plan_mismatch(struct xstate *st, const char *doc, size_t len,
                          size_t at)
{
        const char *name, *q, *gt;
        size_t n, qn, i, j, found = SIZE_MAX;
        bool exact = false;
        int rc = NT_OK;

        /* expat points at the name after "</". */
        while (at > 0 && doc[at] != '<')
                at--;
        if (at + 2 >= len || doc[at] != '<' || doc[at + 1] != '/')
                return false;
        name = tag_name(doc, len, at, &n);
        gt = memchr(doc + at, '>', len - at);
        if (!gt || !n)
                return false;
        for (i = st->depth; i-- > 0 && found == SIZE_MAX;) {
                q = tag_name(doc, len, (size_t)st->stack[i].start, &qn);
                if (qn == n && memcmp(q, name, n) == 0) {
                        found = i;
                        exact = true;
                }
        }
        for (i = st->depth; i-- > 0 && found == SIZE_MAX;) {
                q = tag_name(doc, len, (size_t)st->stack[i].start, &qn);
                if (qn == n && strncasecmp(q, name, n) == 0)
                        found = i;
        }
        st->rep_at = at;
        st->rep_remove = 0;
        if (found == SIZE_MAX) {
                st->rep_remove = (size_t)(gt - doc) + 1 - at;
                snprintf(st->rep_what, sizeof(st->rep_what),
                         "end tag </%.*s> closes no open element: ignored",
                         (int)(n < 60 ? n : 60), name);
                return true;
        }
        for (j = st->depth; j-- > found + 1 && rc == NT_OK;) {
                q = tag_name(doc, len, (size_t)st->stack[j].start, &qn);
                rc = nt_buf_printf(&st->rep_insert, "</%.*s>", (int)qn, q);
        }
        if (!exact && rc == NT_OK) {
                q = tag_name(doc, len, (size_t)st->stack[found].start, &qn);
                rc = nt_buf_printf(&st->rep_insert, "</%.*s>", (int)qn, q);
                st->rep_remove = (size_t)(gt - doc) + 1 - at;
        }
        if (rc)
                return false;
        q = tag_name(doc, len, (size_t)st->stack[st->depth - 1].start, &qn);
        snprintf(st->rep_what, sizeof(st->rep_what),
                 "end tag </%.*s> does not match <%.*s>: %s",
                 (int)(n < 60 ? n : 60), name, (int)(qn < 60 ? qn : 60), q,
                 exact ? "closed the elements left open"
                       : "read as its end tag");
        return true;
}

/* Plans the removal of the characters XML forbids (C0 controls, U+FFFE,
 * U+FFFF), when the document holds any. They are rare, so they are
 * looked for only once expat has stopped at a bad token, rather than in
 * a pass over every document before it. */
static bool plan_strip(struct xstate *st, const char *doc, size_t len)
{
        const unsigned char *u = (const unsigned char *)doc;
        size_t first, n = 0, i, count = 0;

        first = next_bad(u, len, 0, &n);
        for (i = first; i < len; i = next_bad(u, len, i + n, &n))
                count++;
        if (!count)
                return false;
        st->rep_strip = true;
        position(doc, first, &st->rep_line, &st->rep_col);
        snprintf(st->rep_what, sizeof(st->rep_what),
                 "%zu characters not allowed in XML removed", count);
        return true;
}

/* Plans a repair for expat's error, if there is one: st->rep_* say how
 * to change the document. */
static bool plan_repair(struct xstate *st, const char *doc, size_t len,
                        enum XML_Error code)
{
        size_t at = (size_t)XML_GetCurrentByteIndex(st->p);
        char prefix[64];

        nt_buf_reset(&st->rep_insert);
        st->rep_line = cur_line(st);
        st->rep_col = cur_col(st);
        if (at >= len)
                return false;
        if (code == XML_ERROR_TAG_MISMATCH)
                return plan_mismatch(st, doc, len, at);
        if (code == XML_ERROR_INVALID_TOKEN)
                return plan_strip(st, doc, len);
        if (code != XML_ERROR_UNBOUND_PREFIX ||
            !prefix_at(doc, len, at, prefix, sizeof(prefix)))
                return false;
        st->rep_at = root_name_end(doc, len);
        st->rep_remove = 0;
        if (!st->rep_at || declare_prefix(&st->rep_insert, prefix))
                return false;
        snprintf(st->rep_what, sizeof(st->rep_what),
                 "undeclared namespace prefix \"%s\": declared on the root "
                 "element",
                 prefix);
        return true;
}

/* Parses doc into st->feed. On an error that a change to the document
 * can repair (and may_repair), plans it (st->repair) and returns: the
 * caller parses the repaired document from the start. On any other
 * error, records it (st->fatal) and keeps what was read before it.
 * Returns 0 or NT_ERR_NOMEM. */
static int run(struct xstate *st, const char *doc, size_t len, bool may_repair)
{
        enum XML_Status status = XML_STATUS_OK;
        enum XML_Error code;
        size_t off = 0, n;
        int rc = NT_OK;

        st->doc = doc;
        st->doc_len = len;
        st->p = XML_ParserCreateNS("UTF-8", NS_SEP);
        if (!st->p)
                return NT_ERR_NOMEM;
        XML_SetUserData(st->p, st);
        XML_SetElementHandler(st->p, on_start, on_end);
        XML_SetCharacterDataHandler(st->p, on_text);
        XML_SetEntityDeclHandler(st->p, on_entity_decl);
        XML_SetParamEntityParsing(st->p, XML_PARAM_ENTITY_PARSING_NEVER);
        XML_SetBillionLaughsAttackProtectionMaximumAmplification(st->p, 10.0f);
        do {
                n = len - off < CHUNK ? len - off : CHUNK;
                status = XML_Parse(st->p, doc + off, (int)n,
                                   off + n == len ? XML_TRUE : XML_FALSE);
                off += n;
        } while (status == XML_STATUS_OK && off < len);
        if (status == XML_STATUS_OK)
                goto out;
        code = XML_GetErrorCode(st->p);
        if (code == XML_ERROR_NO_MEMORY ||
            (st->stopped && st->stop_err == NT_ERR_NOMEM)) {
                rc = NT_ERR_NOMEM;
                goto out;
        }
        if (may_repair && !st->stopped && plan_repair(st, doc, len, code)) {
                st->repair = true;
                goto out;
        }
        /* When we stopped the parse, the reason is recorded already. */
        if (code != XML_ERROR_ABORTED || !st->stopped) {
                st->fatal = true;
                nt_feed_add_error(st->feed, cur_line(st), cur_col(st), false,
                                  "%s", XML_ErrorString(code));
        }
        salvage(st);
        if (st->stopped && st->stop_err == NT_ERR_NOMEM)
                rc = NT_ERR_NOMEM;
out:
        XML_ParserFree(st->p);
        st->p = NULL;
        return rc;
}

/* Moves what a run read from `src` into `dst` (whose encoding and
 * earlier errors are kept). */
static int adopt(struct nt_feed *dst, struct nt_feed *src)
{
        bool wellformed, truncated;
        size_t i;
        int rc = NT_OK;

        dst->format = src->format;
        dst->wellformed = dst->wellformed && src->wellformed;
        dst->truncated = dst->truncated || src->truncated;
        dst->cuts |= src->cuts;
        dst->title = src->title;
        dst->link = src->link;
        dst->subtitle = src->subtitle;
        dst->language = src->language;
        dst->updated = src->updated;
        dst->updated_raw = src->updated_raw;
        dst->ttl_minutes = src->ttl_minutes;
        dst->skip_hours = src->skip_hours;
        dst->skip_days = src->skip_days;
        dst->authors = src->authors;
        dst->n_authors = src->n_authors;
        dst->lists_full = src->lists_full;
        dst->entries = src->entries;
        dst->n_entries = src->n_entries;
        dst->cap_entries = src->cap_entries;
        wellformed = dst->wellformed;
        truncated = dst->truncated;
        for (i = 0; i < src->n_errors && rc == NT_OK; i++)
                rc = nt_feed_add_error(
                    dst, src->errors[i].line, src->errors[i].column,
                    src->errors[i].cut, "%s", src->errors[i].message);
        dst->wellformed = wellformed;
        dst->truncated = truncated;
        dst->errors_dropped += src->errors_dropped;
        /* Ownership moved: leave src holding only its errors. */
        src->title = src->link = src->subtitle = src->language = NULL;
        src->updated_raw = NULL;
        src->authors = NULL;
        src->n_authors = 0;
        src->entries = NULL;
        src->n_entries = src->cap_entries = 0;
        return rc;
}

static int cmp_errors(const void *a, const void *b)
{
        const struct nt_feed_error *x = a, *y = b;

        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        if (x->column != y->column)
                return x->column < y->column ? -1 : 1;
        return 0;
}

/* Starts the state of one run over a fresh scratch feed. */
static int state_init(struct xstate *st, struct nt_feed *scratch,
                      const struct nt_feed *feed, const char *base_url)
{
        memset(st, 0, sizeof(*st));
        nt_feed_init(scratch);
        scratch->limits = feed->limits;
        st->feed = scratch;
        st->doc_base = base_url;
        st->max_depth = feed->limits.max_depth ? feed->limits.max_depth : 1;
        nt_buf_init(&st->text, feed->limits.max_field);
        nt_buf_init(&st->rep_insert, 64 * 1024);
        nt_feed_entry_init(&st->cur);
        st->stack = calloc(st->max_depth, sizeof(*st->stack));
        return st->stack ? NT_OK : NT_ERR_NOMEM;
}

/* The document with the planned repair applied, into `out`. */
static int apply_repair(const struct xstate *st, const char *doc, size_t len,
                        struct nt_buf *out)
{
        int rc;

        nt_buf_init(out, len + st->rep_insert.len + 1);
        if (st->rep_strip) {
                size_t removed, first;

                rc = nt_buf_append(out, doc, len);
                if (!rc)
                        out->len = strip_controls(out->data, out->len, &removed,
                                                  &first);
                return rc;
        }
        rc = nt_buf_append(out, doc, st->rep_at);
        if (!rc)
                rc = nt_buf_append(out, nt_buf_str(&st->rep_insert),
                                   st->rep_insert.len);
        if (!rc)
                rc = nt_buf_append(out, doc + st->rep_at + st->rep_remove,
                                   len - st->rep_at - st->rep_remove);
        return rc;
}

/* Moves what the last run found beside the feed (fallbacks, the root's
 * language) into it. */
static void finish_feed(struct xstate *st, struct nt_feed *scratch)
{
        char **slots[] = {&scratch->language, &scratch->link, &scratch->title,
                          &scratch->subtitle};
        char **vals[] = {&st->root_lang, &st->atom_alt_link, &st->fb_feed_title,
                         &st->fb_feed_subtitle};
        size_t i;

        for (i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
                if (!*slots[i] && *vals[i]) {
                        *slots[i] = *vals[i];
                        *vals[i] = NULL;
                }
        }
}

int nt_feed_xml_parse(struct nt_feed *feed, const char *utf8, size_t len,
                      const char *base_url, char *errstr, size_t errstr_size)
{
        struct nt_buf fixed, patched, next;
        struct xstate st;
        struct nt_feed scratch;
        size_t fixes = 0, start, at;
        size_t repairs = 0, max_fixed;
        unsigned long line, col;
        const char *doc, *last;
        size_t doc_len;
        int rc;

        nt_buf_init(&patched, 0);

        /* Junk before the first tag (a PHP warning, a blank line before
         * the XML declaration) is skipped; only the junk is an error. */
        for (start = 0; start < len && is_space(utf8[start]); start++)
                ;
        if (start < len && utf8[start] != '<') {
                const char *lt = memchr(utf8 + start, '<', len - start);

                position(utf8, start, &line, &col);
                nt_feed_add_error(feed, line, col, false,
                                  "text before the first element skipped");
                start = lt ? (size_t)(lt - utf8) : len;
        }
        /* Rewriting & can only grow the text: "&" becomes "&amp;". */
        max_fixed = len - start;
        max_fixed =
            max_fixed > (SIZE_MAX - 64) / 5 ? SIZE_MAX : max_fixed * 5 + 64;
        nt_buf_init(&fixed, max_fixed);
        if (!needs_entity_fix(utf8 + start, len - start)) {
                /* Nothing to rewrite: spare the copy. */
                doc = utf8 + start;
                doc_len = len - start;
                goto parse;
        }
        rc = nt_entities_fix_xml(utf8 + start, len - start, &fixed, &fixes);
        if (rc) {
                nt_buf_free(&fixed);
                return nt_errf(errstr, errstr_size, rc,
                               "cannot prepare the document: %s",
                               nt_err_name(rc));
        }
        if (fixes) {
                at = first_difference(utf8 + start, len - start,
                                      nt_buf_str(&fixed), fixed.len);
                /* The rewrite starts at the reference's '&'. The
                 * difference may lie at the very end of the input, which
                 * is not NUL-terminated: bytes past it are never read. */
                if (at > len - start)
                        at = len - start;
                while (at > 0 && !amp_at(utf8, len, start + at) &&
                       (is_alnum(utf8[start + at - 1]) ||
                        utf8[start + at - 1] == '#'))
                        at--;
                if (at > 0 && !amp_at(utf8, len, start + at) &&
                    utf8[start + at - 1] == '&')
                        at--;
                position(utf8, start + at, &line, &col);
                nt_feed_add_error(feed, line, col, false,
                                  "%zu undefined entities or bare '&' "
                                  "read as text",
                                  fixes);
        }
        doc = nt_buf_str(&fixed);
        doc_len = fixed.len;
parse:
        for (;;) {
                rc = state_init(&st, &scratch, feed, base_url);
                if (rc)
                        break;
                /* Each repair costs a parse from the start: a bounded
                 * number, and fewer for large documents. */
                rc = run(&st, doc, doc_len,
                         repairs < MAX_REPAIRS &&
                             (repairs + 1) * doc_len <= REPAIR_BUDGET);
                if (rc || !st.repair)
                        break;
                nt_feed_add_error(feed, st.rep_line, st.rep_col, false, "%s",
                                  st.rep_what);
                rc = apply_repair(&st, doc, doc_len, &next);
                nt_buf_free(&patched);
                patched = next;
                if (rc)
                        break;
                doc = nt_buf_str(&patched);
                doc_len = patched.len;
                repairs++;
                state_free(&st);
                nt_feed_free(&scratch);
        }
        if (rc == NT_OK) {
                finish_feed(&st, &scratch);
                rc = adopt(feed, &scratch);
        }
        last = feed->n_errors ? feed->errors[feed->n_errors - 1].message
                              : "no root element";
        if (rc == NT_ERR_NOMEM)
                nt_errf(errstr, errstr_size, rc, "out of memory");
        else if (rc)
                nt_errf(errstr, errstr_size, rc, "%s", nt_err_name(rc));
        else if (feed->format == NT_FEED_UNKNOWN && st.entity_decl)
                rc = nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                             "entity declarations are not allowed");
        else if (feed->format == NT_FEED_UNKNOWN && st.saw_root)
                rc = nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                             "not a feed: the root element is <%s>",
                             st.root_name);
        else if (feed->format == NT_FEED_UNKNOWN)
                rc = nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                             "not a feed: %s", last);
        else if (st.fatal && !feed->n_entries && !feed->title && !feed->link)
                rc = nt_errf(errstr, errstr_size, NT_ERR_PARSE,
                             "nothing readable before the error: %s", last);
        if (feed->n_errors > 1)
                qsort(feed->errors, feed->n_errors, sizeof(*feed->errors),
                      cmp_errors);
        state_free(&st);
        nt_feed_free(&scratch);
        nt_buf_free(&fixed);
        nt_buf_free(&patched);
        return rc;
}
