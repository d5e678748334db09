/* The element grammar of the XML reader: people and the fields of more
 * than one slot, the field table, elements read from their attributes,
 * entries and people, the root, the element table and the expat
 * handlers. Adding an element: its name in the name tables
 * (common/feed_xml_text.c), a row in grammar[][] and, for a new field, a
 * row in field_rules[]. */
#include "common/feed_xml_grammar.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/feed.h"
#include "common/feed_xml_text.h"
#include "common/num.h"
#include "common/url.h"

#include <expat.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- People, and fields of more than one slot ---------------------- */

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
        char *plain = nt_fx_value_plain(st), *name = NULL, *email = NULL;
        struct nt_feed_person *list =
            entry ? st->cur.authors : st->feed->authors;
        size_t n = entry ? st->cur.n_authors : st->feed->n_authors;

        if (!plain)
                return;
        if (!nt_fx_ok(st, nt_feed_split_person(plain, &name, &email)))
                goto out;
        if (has_person(list, n, name, &email)) {
                free(name);
                free(email);
                goto out;
        }
        nt_fx_ok(st, nt_feed_add_person(st->feed, entry ? &st->cur : NULL, name,
                                        email, NULL));
out:
        free(plain);
}

static void set_date_field(struct xstate *st, int64_t *when, char **raw)
{
        char *v = nt_fx_value_literal(st);

        if (v)
                nt_fx_ok(st, nt_feed_set_date(when, raw, v));
        free(v);
}

static void set_ttl(struct xstate *st)
{
        char *v = nt_fx_value_literal(st);
        int64_t minutes;

        if (v && nt_num_parse_i64(v, 0, 1000000, &minutes) == NT_OK)
                st->feed->ttl_minutes = (int)minutes;
        free(v);
}

static void set_skip_hour(struct xstate *st)
{
        char *v = nt_fx_value_literal(st);
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
        char *v = nt_fx_value_literal(st);
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
                v = nt_fx_collapse_copy(s, n, &o);
                if (o) {
                        nt_fx_oom(st);
                        return;
                }
                if (v &&
                    !nt_fx_ok(st, nt_feed_add_category(st->feed, &st->cur, v)))
                        return;
                s += n + (comma ? 1 : 0);
        }
}

/* The id: a literal, the last one wins; an Atom id under xml:base is
 * relative to it. */
static void set_id(struct xstate *st)
{
        char *v = nt_fx_value_literal(st), *abs;

        if (v && st->family == FAM_ATOM && st->stack[st->cap_depth].xml_base &&
            !nt_fx_has_scheme(v, strlen(v))) {
                if (nt_url_resolve(nt_fx_cap_base(st), v, &abs))
                        nt_fx_oom(st);
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
        char *v = nt_fx_value_literal(st);

        if (v)
                nt_fx_ok(st, nt_feed_add_category(st->feed, &st->cur, v));
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
                return nt_fx_value_plain(st);
        case CONV_HTML:
                return nt_fx_html_field(st);
        case CONV_URL:
                return nt_fx_resolve(st, nt_fx_cap_base(st),
                                     nt_buf_str(&st->text), st->text.len);
        case CONV_LITERAL:
        default:
                return nt_fx_value_literal(st);
        }
}

/* The captured element ended: its text goes where its field's row says. */
void nt_fx_finish_capture(struct xstate *st)
{
        const struct field_rule *r = &field_rules[st->cap_field];
        struct nt_feed *feed = st->feed;
        char *owner, **slot, *v;

        nt_fx_close_open_tag(st);
        st->capturing = false;
        if (st->cap_truncated) {
                nt_feed_add_error(feed, nt_fx_cap_line(st), 0,
                                  NT_FEED_CUT_FIELD,
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
        const char *type = nt_fx_attr(atts, "type"),
                   *mode = nt_fx_attr(atts, "mode");
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

/* A copy of attribute `name` when it has a value; NULL otherwise (or
 * out of memory, which stops the parse). */
static char *attr_dup(struct xstate *st, const XML_Char **atts,
                      const char *name)
{
        const char *v = nt_fx_attr(atts, name);
        char *copy;

        if (!v || !*v)
                return NULL;
        copy = strdup(v);
        if (!copy)
                nt_fx_oom(st);
        return copy;
}

/* An enclosure of the entry from an element's attributes: RSS
 * <enclosure url= length= type=>, Atom <link rel="enclosure" href=>,
 * <media:content url= fileSize= type=>. One file is one enclosure: an
 * item often names it in <enclosure> and again in <media:content>, and
 * the second mention only fills in what the first left out. (The search
 * is bounded by limits.max_list; past it the value is dropped anyway.) */
static void add_enclosure(struct xstate *st, const XML_Char **atts,
                          const char *url_name, const char *length_name)
{
        const char *u = nt_fx_attr(atts, url_name);
        struct nt_feed_enclosure *x;
        char *url;
        size_t i;

        if (!u)
                return;
        url = nt_fx_resolve(st, st->stack[st->depth - 1].base, u, strlen(u));
        if (!url)
                return;
        for (i = 0; i < st->cur.n_enclosures &&
                    st->cur.n_enclosures < st->feed->limits.max_list;
             i++) {
                x = &st->cur.enclosures[i];
                if (!x->url || strcmp(x->url, url) != 0)
                        continue;
                if (!x->length)
                        x->length = attr_dup(st, atts, length_name);
                if (!x->type)
                        x->type = attr_dup(st, atts, "type");
                free(url);
                return;
        }
        nt_fx_ok(st, nt_feed_add_enclosure(st->feed, &st->cur, url,
                                           attr_dup(st, atts, length_name),
                                           attr_dup(st, atts, "type")));
}

/* A picture of the entry (<media:content> that is an image, or
 * <media:thumbnail url= width= height=>), offered as its image: other
 * readers keep pictures apart from the files an entry carries (gofeed's
 * item image, feed-rs's media thumbnails), so they are not enclosures. */
static void media_image(struct xstate *st, const XML_Char **atts,
                        enum nt_feed_image_rank rank)
{
        const char *u = nt_fx_attr(atts, "url");
        char *url;

        if (!u || !*u)
                return;
        url = nt_fx_resolve(st, st->stack[st->depth - 1].base, u, strlen(u));
        if (!url)
                return;
        nt_feed_offer_image(&st->cur, rank, url, attr_dup(st, atts, "type"),
                            nt_fx_attr(atts, "width"),
                            nt_fx_attr(atts, "height"));
}

/* <media:content url= fileSize= type= medium=>: an enclosure, unless it
 * is a picture of the entry (medium="image", or an image/ type), which is
 * the entry's image. */
static void media_file(struct xstate *st, const XML_Char **atts)
{
        const char *medium = nt_fx_attr(atts, "medium"),
                   *type = nt_fx_attr(atts, "type");

        if ((medium && strcasecmp(medium, "image") == 0) ||
            (type && strncasecmp(type, "image/", 6) == 0)) {
                media_image(st, atts, NT_FEED_IMAGE_CONTENT);
                return;
        }
        add_enclosure(st, atts, "url", "fileSize");
}

/* <link> of Atom (or atom:link in RSS): the alternate link or an
 * enclosure. */
static void atom_link(struct xstate *st, const XML_Char **atts, bool entry,
                      bool in_rss)
{
        const char *rel = nt_fx_attr(atts, "rel"),
                   *href = nt_fx_attr(atts, "href");
        const char *base = st->stack[st->depth - 1].base;
        char **slot;

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
                *slot = nt_fx_resolve(st, base, href, strlen(href));
                return;
        }
        if (entry && strcmp(rel, "enclosure") == 0)
                add_enclosure(st, atts, "href", "length");
}

/* An RSS <link href="..."/> (Atom-style, seen in the wild) sets the link
 * from its attribute; its text, if any, is read as usual after it. */
static void rss_link_href(struct xstate *st, const XML_Char **atts, char **slot)
{
        const char *href = nt_fx_attr(atts, "href");
        char *url;

        if (!href)
                return;
        url = nt_fx_resolve(st, st->stack[st->depth - 1].base, href,
                            strlen(href));
        if (url)
                nt_feed_set(slot, url);
}

static void atom_category(struct xstate *st, const XML_Char **atts)
{
        const char *term = nt_fx_attr(atts, "term");
        bool o = false;
        char *v;

        if (!term)
                return; /* Atom requires term; text is not the term */
        v = nt_fx_collapse_copy(term, strlen(term), &o);
        if (o)
                nt_fx_oom(st);
        if (v)
                nt_fx_ok(st, nt_feed_add_category(st->feed, &st->cur, v));
}

/* ---- Entries and people -------------------------------------------- */

static void begin_entry(struct xstate *st, const XML_Char **atts)
{
        const char *about, *lang;

        if (st->in_entry)
                return; /* an item inside an item: its fields are read as
                           the outer one's */
        if (nt_feed_entries_full(st->feed)) {
                nt_feed_add_error(st->feed, nt_fx_cur_line(st),
                                  nt_fx_cur_col(st), NT_FEED_CUT_ENTRIES,
                                  "more than %zu entries: the rest are "
                                  "ignored",
                                  st->feed->limits.max_entries);
                nt_fx_stop(st, NT_ERR_LIMIT);
                return;
        }
        st->in_entry = true;
        st->guid_seen = false;
        st->entry_depth = st->depth - 1;
        nt_feed_entry_init(&st->cur);
        about = nt_fx_attr_ns(atts, NS_RDF, "about");
        if (about && *about && !(st->cur.id = strdup(about)))
                nt_fx_oom(st);
        lang = nt_fx_attr_xml(atts, "lang");
        if (lang && *lang && !(st->cur.language = strdup(lang)))
                nt_fx_oom(st);
}

void nt_fx_end_entry(struct xstate *st)
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
                nt_fx_ok(st, nt_feed_add_person(st->feed, e, st->fb_author,
                                                NULL, NULL));
                st->fb_author = NULL;
        }
        free(st->fb_title);
        free(st->fb_summary);
        free(st->fb_author);
        st->fb_title = st->fb_summary = st->fb_author = NULL;
        /* A permalink guid is the item's link when it has none. */
        if (!e->link && e->id && e->id_is_permalink && st->guid_seen &&
            st->family == FAM_RSS && nt_url_is_http(e->id))
                e->link = nt_fx_resolve(st, st->stack[st->entry_depth].base,
                                        e->id, strlen(e->id));
        if (nt_feed_commit_entry(st->feed, e) == NT_ERR_NOMEM)
                nt_fx_oom(st);
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
                nt_fx_ok(st,
                         nt_feed_add_person(
                             st->feed, st->person_of_entry ? &st->cur : NULL,
                             st->p_name, st->p_email, st->p_uri));
        }
        st->p_name = st->p_email = st->p_uri = NULL;
}

/* ---- The root -------------------------------------------------------- */

static enum nt_feed_format rss_version(const char *v)
{
        if (!v)
                return NT_FEED_RSS20;
        while (nt_fx_is_space(*v))
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
        const char *lang = nt_fx_attr_xml(atts, "lang"), *v;
        size_t n = strlen(local);

        st->saw_root = true;
        if (n >= sizeof(st->root_name))
                n = sizeof(st->root_name) - 1;
        memcpy(st->root_name, local, n);
        st->root_name[n] = '\0';
        if (lang && *lang && !(st->root_lang = strdup(lang)))
                nt_fx_oom(st);
        if (strcmp(local, "rss") == 0 &&
            (ns == NS_NONE || ns == NS_RSS || ns == NS_OTHER)) {
                st->family = FAM_RSS;
                feed->format = rss_version(nt_fx_attr(atts, "version"));
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
                v = nt_fx_attr(atts, "version");
                feed->format = ns == NS_ATOM03 || (ns == NS_NONE && v &&
                                                   strncmp(v, "0.", 2) == 0)
                                   ? NT_FEED_ATOM03
                                   : NT_FEED_ATOM10;
                st->stack[0].el = local[0] == 'f' ? A_FEED : A_ENTRY;
                if (local[0] == 'e')
                        begin_entry(st, atts);
        } else {
                nt_fx_stop(st, NT_ERR_PARSE);
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
        CTX_MEDIA,     /* under an entry's <media:group> or
                          <media:content> */
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
        ACT_MEDIA_FILE,     /* <media:content> */
        ACT_MEDIA_THUMB,    /* <media:thumbnail> */
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

/* Media RSS in an entry, in its <media:group> and in its
 * <media:content>: the files are enclosures, the pictures the entry's
 * image (media_file()), the categories categories, and the title and
 * description (type="plain" by default, or "html") stand in for the
 * entry's own when it has none, as in YouTube's feeds, whose entries
 * carry their text only there. */
#define MEDIA_IN_ENTRY                                                         \
        [M_CONTENT] = DO(ACT_MEDIA_FILE), [M_THUMBNAIL] = DO(ACT_MEDIA_THUMB), \
        [M_CATEGORY] = CAP(F_CATEGORY, K_LITERAL),                             \
        [M_TITLE] = TYPED(F_FB_TITLE), [M_DESCRIPTION] = TYPED(F_FB_SUMMARY)

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
                MEDIA_IN_ENTRY,
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
                MEDIA_IN_ENTRY,
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
        [CTX_MEDIA] =
            {
                MEDIA_IN_ENTRY,
            },
};

#undef MEDIA_IN_ENTRY
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
        case M_GROUP:
        case M_CONTENT:
                return st->in_entry ? CTX_MEDIA : CTX_NONE;
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
                nt_fx_begin_capture(st, (enum field)r->field,
                                    (enum kind)r->kind);
                break;
        case ACT_CAPTURE_INLINE:
                if (nt_fx_attr(atts, "src"))
                        break;
                /* fall through */
        case ACT_CAPTURE_TYPED:
                nt_fx_begin_capture(st, (enum field)r->field, text_kind(atts));
                break;
        case ACT_RSS_LINK:
                rss_link_href(st, atts,
                              of_entry ? &st->cur.link : &st->feed->link);
                nt_fx_begin_capture(st, (enum field)r->field,
                                    (enum kind)r->kind);
                break;
        case ACT_GUID:
                v = nt_fx_attr(atts, "isPermaLink");
                st->cur.id_is_permalink = !(v && strcasecmp(v, "false") == 0);
                st->guid_seen = true;
                nt_fx_begin_capture(st, F_ID, K_LITERAL);
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
                add_enclosure(st, atts, "url", "length");
                break;
        case ACT_MEDIA_FILE:
                media_file(st, atts);
                break;
        case ACT_MEDIA_THUMB:
                media_image(st, atts, NT_FEED_IMAGE_THUMBNAIL);
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
                nt_feed_add_error(st->feed, nt_fx_cur_line(st),
                                  nt_fx_cur_col(st), NT_FEED_CUT_DEPTH,
                                  "elements nested deeper than %zu: the "
                                  "rest of the document is ignored",
                                  st->max_depth);
                /* The entry being read is kept with what it has so far
                 * (the field open here is lost): flagged, not silent. */
                if (st->in_entry)
                        st->cur.cuts |= NT_FEED_CUT_DEPTH;
                nt_fx_stop(st, NT_ERR_LIMIT);
                return;
        }
        parent = st->depth ? &st->stack[st->depth - 1] : NULL;
        fr = &st->stack[st->depth++];
        fr->el = EL_OTHER;
        fr->own_base = false;
        fr->xml_base = parent && parent->xml_base;
        fr->base = parent ? parent->base : st->doc_base;
        fr->start = XML_GetCurrentByteIndex(st->p);
        local = nt_fx_split_name(name, &ns);
        if (atts[0]) {
                xbase = nt_fx_attr_xml(atts, "base");
                if (xbase) {
                        /* xml:base may itself be relative to the base in
                         * scope. */
                        if (nt_url_resolve(fr->base, xbase, &base)) {
                                nt_fx_oom(st);
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
                nt_fx_capture_start_tag(st, local, atts);
                return;
        }
        if (!parent) {
                root_element(st, ns, local, atts);
                return;
        }
        el = nt_fx_classify(st, ns, local);
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
                        nt_fx_finish_capture(st);
                else
                        nt_fx_capture_end_tag(st, name);
        } else if (st->in_person && st->depth == st->person_depth) {
                end_person(st);
        } else if (st->in_entry && st->depth == st->entry_depth) {
                nt_fx_end_entry(st);
        }
        if (fr->own_base)
                free((char *)fr->base);
        fr->own_base = false;
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
        nt_feed_add_error(st->feed, nt_fx_cur_line(st), nt_fx_cur_col(st),
                          false,
                          "entity declarations are not allowed (entity "
                          "\"%.40s\")",
                          entity_name);
        st->entity_decl = true;
        nt_fx_stop(st, NT_ERR_PARSE);
}

void nt_fx_set_handlers(XML_Parser p)
{
        XML_SetElementHandler(p, on_start, on_end);
        XML_SetCharacterDataHandler(p, nt_fx_on_text);
        XML_SetEntityDeclHandler(p, on_entity_decl);
}
