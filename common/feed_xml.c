/* RSS 0.90-0.94, RSS 1.0, RSS 2.0, Atom 0.3 and Atom 1.0 with expat, as
 * one streaming pass: a stack of open elements (their kind and xml:base),
 * the entry being built, and one text buffer for the field being read.
 * No tree of the document is ever built. This file is the pass over the
 * document: the scans, the repairs and running expat; what elements
 * mean is common/feed_xml_grammar.c, the reader's state and text
 * common/feed_xml_text.c.
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
#include "common/feed_xml_grammar.h"
#include "common/feed_xml_text.h"

#include <expat.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
                        while (i < len && !nt_fx_is_space(doc[i]) &&
                               doc[i] != '>' && doc[i] != '/')
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
                if (nt_fx_is_space(doc[i]) || doc[i] == '=' || doc[i] == '/') {
                        i++;
                        continue;
                }
                for (j = i;
                     j < len && !nt_fx_is_space(doc[j]) && doc[j] != '=' &&
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
                while (j < len && !nt_fx_is_space(doc[j]) && doc[j] != '=' &&
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
                        nt_fx_finish_capture(st);
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
                        nt_fx_end_entry(st);
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
        for (j = i; j < len && !nt_fx_is_space(doc[j]) && doc[j] != '>' &&
                    doc[j] != '/';
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
        nt_fx_position(doc, first, &st->rep_line, &st->rep_col);
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
        st->rep_line = nt_fx_cur_line(st);
        st->rep_col = nt_fx_cur_col(st);
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
        nt_fx_set_handlers(st->p);
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
                nt_feed_add_error(st->feed, nt_fx_cur_line(st),
                                  nt_fx_cur_col(st), false, "%s",
                                  XML_ErrorString(code));
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
        for (start = 0; start < len && nt_fx_is_space(utf8[start]); start++)
                ;
        if (start < len && utf8[start] != '<') {
                const char *lt = memchr(utf8 + start, '<', len - start);

                nt_fx_position(utf8, start, &line, &col);
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
                       (nt_fx_is_alnum(utf8[start + at - 1]) ||
                        utf8[start + at - 1] == '#'))
                        at--;
                if (at > 0 && !amp_at(utf8, len, start + at) &&
                    utf8[start + at - 1] == '&')
                        at--;
                nt_fx_position(utf8, start + at, &line, &col);
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
