/* The XML feed reader's state and its text: the state of one streaming
 * pass (the stack of open elements, the entry, person and field being
 * read), element and namespace names, the buffer a field's text is
 * captured into, and how a captured text becomes a value (literal, plain
 * text, HTML, URL). Internal to the XML reader (common/feed_xml*.c), whose
 * files share these nt_fx_ names; other modules use nt_feed_parse() in
 * common/feed_parse.h. What elements mean is common/feed_xml_grammar.c;
 * the pass over the document, common/feed_xml.c. */
#ifndef NT_FEED_XML_TEXT_H
#define NT_FEED_XML_TEXT_H

#ifndef XML_DTD
#define XML_DTD /* declares expat's billion-laughs settings */
#endif
#include <expat.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/feed.h"

/* Separates a namespace URI from the local name in the names expat hands
 * out. U+0001 cannot occur in an XML 1.0 document, so it is never part
 * of a URI or a name. */
#define NS_SEP '\x01'

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
        NS_MEDIA, /* Media RSS (search.yahoo.com/mrss) */
        NS_OTHER,
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
        M_GROUP,
        M_CONTENT,
        M_TITLE,
        M_DESCRIPTION,
        M_CATEGORY,
        M_THUMBNAIL,
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

/* Small text helpers. */
bool nt_fx_is_space(char c);
bool nt_fx_is_alnum(char c);
/* The 1-based line and column of byte `pos` of `s`. */
void nt_fx_position(const char *s, size_t pos, unsigned long *line,
                    unsigned long *col);
/* A malloc'd copy of s[0, n) with runs of white space collapsed to one
 * space and none at either end; NULL when nothing is left (or out of
 * memory: *oom). Caller frees. */
char *nt_fx_collapse_copy(const char *s, size_t n, bool *oom);
/* True when a URL reference starts with a scheme ("http:", "mailto:"). */
bool nt_fx_has_scheme(const char *s, size_t n);

/* Names: the local part of an expat name (its namespace in *ns), what an
 * element is, and attributes by local name (no namespace, xml:, or `ns`).
 * Borrowed from expat; valid during the handler. */
const char *nt_fx_split_name(const char *name, enum ns *ns);
enum el nt_fx_classify(const struct xstate *st, enum ns ns, const char *local);
const char *nt_fx_attr(const XML_Char **atts, const char *local);
const char *nt_fx_attr_xml(const XML_Char **atts, const char *local);
const char *nt_fx_attr_ns(const XML_Char **atts, enum ns ns, const char *local);

/* Where expat is, and stopping the parse for a reason of ours (the error
 * is recorded by the caller, or is out of memory). nt_fx_ok() checks a
 * result code: out of memory stops the parse; true when rc is 0. */
unsigned long nt_fx_cur_line(const struct xstate *st);
unsigned long nt_fx_cur_col(const struct xstate *st);
void nt_fx_stop(struct xstate *st, int err);
void nt_fx_oom(struct xstate *st);
bool nt_fx_ok(struct xstate *st, int rc);

/* Capturing a field's text, markup of child elements serialised. */
void nt_fx_begin_capture(struct xstate *st, enum field f, enum kind k);
void nt_fx_capture_start_tag(struct xstate *st, const char *local,
                             const XML_Char **atts);
void nt_fx_capture_end_tag(struct xstate *st, const char *name);
void nt_fx_close_open_tag(struct xstate *st);
unsigned long nt_fx_cap_line(const struct xstate *st);
/* expat's character data handler (user data: the struct xstate): the
 * text of the field being captured, if any. */
void XMLCALL nt_fx_on_text(void *ud, const XML_Char *s, int len);
/* The base URL in scope of the captured element. Borrowed. */
const char *nt_fx_cap_base(const struct xstate *st);

/* The captured text as a value: a trimmed literal, one line of plain
 * text (titles, names), HTML with relative links made absolute; and a
 * URL reference s[0, n) resolved against `base`. Each malloc'd (caller
 * frees), or NULL when empty or out of memory (which stops the parse). */
char *nt_fx_value_literal(struct xstate *st);
char *nt_fx_value_plain(struct xstate *st);
char *nt_fx_html_field(struct xstate *st);
char *nt_fx_resolve(struct xstate *st, const char *base, const char *s,
                    size_t n);

#endif
