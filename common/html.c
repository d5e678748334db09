#include "common/html.h"
#include "common/buf.h"
#include "common/err.h"

#include <gumbo.h>

#include <stdlib.h>
#include <string.h>

/* Limits of the scan that runs before gumbo (see guard_scan): the depth
 * the tree may reach, the attributes one tag may have, and the elements
 * the reconstruction of formatting elements may add. */
#define GUARD_DEPTH_MAX 256
#define GUARD_ATTRS_MAX 256
#define GUARD_RECON_MAX 131072

/* Bytes of an unknown element's name the scan keeps for matching its
 * end tag; an element with a longer name can only be closed implicitly. */
#define GUARD_NAME_MAX 31

/* What an element is to the text walk and to the guard scan. */
enum {
        T_BLOCK = 1 << 0,   /* paragraph break before and after */
        T_DROP = 1 << 1,    /* content is not text */
        T_CELL = 1 << 2,    /* table cell: a space before and after */
        T_VOID = 1 << 3,    /* never has content or an end tag */
        T_SPECIAL = 1 << 4, /* HTML's "special" category */
        T_SCOPE = 1 << 5,   /* bounds "has an element in scope" */
        T_CLOSE_P = 1 << 6, /* its start tag closes an open p */
        T_FORMAT = 1 << 7,  /* a formatting element (reconstructed) */
        T_RAW = 1 << 8,     /* content is raw text up to its end tag */
};

#define BLOCK_P (T_BLOCK | T_SPECIAL | T_CLOSE_P)

static const unsigned short tag_flags[GUMBO_TAG_LAST + 1] = {
    [GUMBO_TAG_ADDRESS] = BLOCK_P,
    [GUMBO_TAG_APPLET] = T_SPECIAL | T_SCOPE,
    [GUMBO_TAG_AREA] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_ARTICLE] = BLOCK_P,
    [GUMBO_TAG_ASIDE] = BLOCK_P,
    [GUMBO_TAG_A] = T_FORMAT,
    [GUMBO_TAG_ANNOTATION_XML] = T_SCOPE,
    [GUMBO_TAG_B] = T_FORMAT,
    [GUMBO_TAG_BASE] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_BASEFONT] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_BGSOUND] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_BIG] = T_FORMAT,
    [GUMBO_TAG_BLOCKQUOTE] = BLOCK_P,
    [GUMBO_TAG_BODY] = T_SPECIAL,
    [GUMBO_TAG_BR] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_BUTTON] = T_SPECIAL,
    [GUMBO_TAG_CAPTION] = T_BLOCK | T_SPECIAL | T_SCOPE,
    [GUMBO_TAG_CENTER] = BLOCK_P,
    [GUMBO_TAG_CODE] = T_FORMAT,
    [GUMBO_TAG_COL] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_COLGROUP] = T_SPECIAL,
    [GUMBO_TAG_DD] = BLOCK_P,
    [GUMBO_TAG_DESC] = T_SCOPE,
    [GUMBO_TAG_DETAILS] = BLOCK_P,
    [GUMBO_TAG_DIR] = BLOCK_P,
    [GUMBO_TAG_DIV] = BLOCK_P,
    [GUMBO_TAG_DL] = BLOCK_P,
    [GUMBO_TAG_DT] = BLOCK_P,
    [GUMBO_TAG_EM] = T_FORMAT,
    [GUMBO_TAG_EMBED] = T_SPECIAL | T_VOID | T_DROP,
    [GUMBO_TAG_FIELDSET] = BLOCK_P,
    [GUMBO_TAG_FIGCAPTION] = BLOCK_P,
    [GUMBO_TAG_FIGURE] = BLOCK_P,
    [GUMBO_TAG_FONT] = T_FORMAT,
    [GUMBO_TAG_FOOTER] = BLOCK_P,
    [GUMBO_TAG_FOREIGNOBJECT] = T_SCOPE,
    [GUMBO_TAG_FORM] = BLOCK_P,
    [GUMBO_TAG_FRAME] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_FRAMESET] = T_SPECIAL | T_DROP,
    [GUMBO_TAG_H1] = BLOCK_P,
    [GUMBO_TAG_H2] = BLOCK_P,
    [GUMBO_TAG_H3] = BLOCK_P,
    [GUMBO_TAG_H4] = BLOCK_P,
    [GUMBO_TAG_H5] = BLOCK_P,
    [GUMBO_TAG_H6] = BLOCK_P,
    [GUMBO_TAG_HEAD] = T_SPECIAL | T_DROP,
    [GUMBO_TAG_HEADER] = BLOCK_P,
    [GUMBO_TAG_HGROUP] = BLOCK_P,
    [GUMBO_TAG_HR] = BLOCK_P | T_VOID,
    [GUMBO_TAG_HTML] = T_SPECIAL | T_SCOPE,
    [GUMBO_TAG_I] = T_FORMAT,
    [GUMBO_TAG_IFRAME] = T_SPECIAL | T_DROP | T_RAW,
    [GUMBO_TAG_IMAGE] = T_VOID,
    [GUMBO_TAG_IMG] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_INPUT] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_ISINDEX] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_KEYGEN] = T_VOID,
    [GUMBO_TAG_LEGEND] = T_BLOCK,
    [GUMBO_TAG_LI] = BLOCK_P,
    [GUMBO_TAG_LINK] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_LISTING] = BLOCK_P,
    [GUMBO_TAG_MAIN] = BLOCK_P,
    [GUMBO_TAG_MARQUEE] = T_SPECIAL | T_SCOPE,
    [GUMBO_TAG_MENU] = BLOCK_P,
    [GUMBO_TAG_MENUITEM] = T_VOID,
    [GUMBO_TAG_META] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_MI] = T_SCOPE,
    [GUMBO_TAG_MN] = T_SCOPE,
    [GUMBO_TAG_MO] = T_SCOPE,
    [GUMBO_TAG_MS] = T_SCOPE,
    [GUMBO_TAG_MTEXT] = T_SCOPE,
    [GUMBO_TAG_NAV] = BLOCK_P,
    [GUMBO_TAG_NOBR] = T_FORMAT,
    [GUMBO_TAG_NOEMBED] = T_SPECIAL | T_DROP | T_RAW,
    [GUMBO_TAG_NOFRAMES] = T_SPECIAL | T_DROP | T_RAW,
    [GUMBO_TAG_NOSCRIPT] = T_SPECIAL | T_DROP,
    [GUMBO_TAG_OBJECT] = T_SPECIAL | T_SCOPE | T_DROP,
    [GUMBO_TAG_OL] = BLOCK_P,
    [GUMBO_TAG_OPTION] = T_BLOCK,
    [GUMBO_TAG_P] = BLOCK_P,
    [GUMBO_TAG_PARAM] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_PLAINTEXT] = T_SPECIAL | T_CLOSE_P | T_RAW,
    [GUMBO_TAG_PRE] = BLOCK_P,
    [GUMBO_TAG_S] = T_FORMAT,
    [GUMBO_TAG_SCRIPT] = T_SPECIAL | T_DROP | T_RAW,
    [GUMBO_TAG_SECTION] = BLOCK_P,
    [GUMBO_TAG_SELECT] = T_SPECIAL,
    [GUMBO_TAG_SMALL] = T_FORMAT,
    [GUMBO_TAG_SOURCE] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_STRIKE] = T_FORMAT,
    [GUMBO_TAG_STRONG] = T_FORMAT,
    [GUMBO_TAG_STYLE] = T_SPECIAL | T_DROP | T_RAW,
    [GUMBO_TAG_SUMMARY] = BLOCK_P,
    [GUMBO_TAG_SVG] = T_DROP,
    [GUMBO_TAG_TABLE] = T_BLOCK | T_SPECIAL | T_SCOPE,
    [GUMBO_TAG_TBODY] = T_SPECIAL,
    [GUMBO_TAG_TD] = T_CELL | T_SPECIAL | T_SCOPE,
    [GUMBO_TAG_TEMPLATE] = T_SPECIAL | T_SCOPE | T_DROP,
    [GUMBO_TAG_TEXTAREA] = T_SPECIAL | T_RAW,
    [GUMBO_TAG_TFOOT] = T_SPECIAL,
    [GUMBO_TAG_TH] = T_CELL | T_SPECIAL | T_SCOPE,
    [GUMBO_TAG_THEAD] = T_SPECIAL,
    [GUMBO_TAG_TITLE] = T_SPECIAL | T_DROP | T_RAW,
    [GUMBO_TAG_TR] = T_BLOCK | T_SPECIAL,
    [GUMBO_TAG_TRACK] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_TT] = T_FORMAT,
    [GUMBO_TAG_U] = T_FORMAT,
    [GUMBO_TAG_UL] = BLOCK_P,
    [GUMBO_TAG_WBR] = T_SPECIAL | T_VOID,
    [GUMBO_TAG_XMP] = T_SPECIAL | T_CLOSE_P | T_RAW,
};

static int has(GumboTag tag, unsigned flags)
{
        return (tag_flags[tag] & flags) != 0;
}

static int is_heading(GumboTag tag)
{
        return tag >= GUMBO_TAG_H1 && tag <= GUMBO_TAG_H6;
}

/* ------------------------------------------------------------------ */
/* The guard scan.
 *
 * gumbo 0.10.1 follows the HTML tree construction algorithm without the
 * limits browsers add, and hostile markup makes it slow or huge: every
 * start tag scans the stack of open elements, so 100,000 nested <div>s
 * take about a minute (quadratic); a tag's attributes are checked against
 * each other (quadratic again); and each paragraph reopens every
 * formatting element left open, so 80 KB of "<b id=N>...</p><p>x" makes
 * gumbo allocate over 100 MB. gumbo has no depth limit and no way to stop
 * it, so this scan reads the markup first with a rough model of the tree
 * builder and finds where the document would cross one of the limits;
 * gumbo then parses only what comes before, and the text is flagged as
 * truncated.
 *
 * The model errs one way only: where it cannot tell what gumbo does, it
 * assumes the deeper tree. It pushes what gumbo might ignore, marking it
 * a ghost, and never pops anything to reach a ghost; it pops only where
 * gumbo surely does; tags inside raw text and CDATA count as open for
 * good. So gumbo's tree stays within a small multiple of the limit, while
 * ordinary feed HTML, a few dozen levels deep, never comes near it.
 * (Randomised tag soup checked against gumbo's real depth stayed under
 * twice the limit.) */

struct guard_entry {
        unsigned short tag;
        unsigned char ghost;    /* gumbo may have ignored its start tag */
        unsigned char name_len; /* unknown elements; 0 when too long */
        char name[GUARD_NAME_MAX];
};

struct guard {
        const unsigned char *s;
        size_t len;
        struct guard_entry stack[GUARD_DEPTH_MAX + 1];
        size_t sp;
        size_t foreign; /* svg and math entries */
        size_t tables;  /* table entries that are not ghosts */
        size_t selects; /* select entries that are not ghosts */
        size_t phantom; /* tags inside raw text, open for good */
        size_t active;  /* formatting elements that may reopen */
        size_t active_by[GUMBO_TAG_LAST + 1];
        size_t recon; /* elements reconstruction may have added */
        int pending;  /* something may have closed since the last charge */
};

static int is_space(unsigned char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int is_alpha(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned char lower(unsigned char c)
{
        return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static int is_foreign(GumboTag tag)
{
        return tag == GUMBO_TAG_SVG || tag == GUMBO_TAG_MATH;
}

static int is_table_part(GumboTag tag)
{
        switch (tag) {
        case GUMBO_TAG_CAPTION:
        case GUMBO_TAG_COLGROUP:
        case GUMBO_TAG_TBODY:
        case GUMBO_TAG_THEAD:
        case GUMBO_TAG_TFOOT:
        case GUMBO_TAG_TR:
        case GUMBO_TAG_TD:
        case GUMBO_TAG_TH:
                return 1;
        default:
                return 0;
        }
}

/* The start tags a select acts on; it ignores the others, except the
 * table parts when it sits in a table (they close it). */
static int select_takes(GumboTag tag)
{
        switch (tag) {
        case GUMBO_TAG_OPTION:
        case GUMBO_TAG_OPTGROUP:
        case GUMBO_TAG_SELECT:
        case GUMBO_TAG_INPUT:
        case GUMBO_TAG_KEYGEN:
        case GUMBO_TAG_TEXTAREA:
        case GUMBO_TAG_SCRIPT:
        case GUMBO_TAG_TEMPLATE:
                return 1;
        default:
                return 0;
        }
}

/* Whether gumbo may ignore this start tag where the model stands. */
static int guard_ghost(const struct guard *g, GumboTag tag)
{
        if (tag == GUMBO_TAG_HTML || tag == GUMBO_TAG_HEAD ||
            tag == GUMBO_TAG_BODY || tag == GUMBO_TAG_FRAMESET)
                return 1;
        if ((is_table_part(tag) || tag == GUMBO_TAG_TABLE) && g->tables == 0)
                return g->selects > 0 || tag != GUMBO_TAG_TABLE;
        return g->selects > 0 && !select_takes(tag) &&
               !(g->tables > 0 &&
                 (is_table_part(tag) || tag == GUMBO_TAG_TABLE));
}

static size_t depth_estimate(const struct guard *g)
{
        return g->sp + g->phantom + g->active;
}

static void guard_push(struct guard *g, GumboTag tag, const unsigned char *name,
                       size_t len)
{
        struct guard_entry *e = &g->stack[g->sp++];
        size_t k;

        e->tag = (unsigned short)tag;
        e->ghost = (unsigned char)guard_ghost(g, tag);
        e->name_len = 0;
        if (tag == GUMBO_TAG_UNKNOWN && len <= GUARD_NAME_MAX) {
                for (k = 0; k < len; k++)
                        e->name[k] = (char)lower(name[k]);
                e->name_len = (unsigned char)len;
        }
        g->foreign += is_foreign(tag);
        g->tables += tag == GUMBO_TAG_TABLE && !e->ghost;
        g->selects += tag == GUMBO_TAG_SELECT && !e->ghost;
}

/* Pops entries down to and including index + 1 `at`; nothing when at is
 * 0, or names a ghost below the top: gumbo may not hold the ghost and
 * then keeps what sits above it. */
static void guard_pop_to(struct guard *g, size_t at)
{
        struct guard_entry *e;

        if (at == 0 || (g->stack[at - 1].ghost && at != g->sp))
                return;
        while (g->sp >= at) {
                e = &g->stack[--g->sp];
                g->foreign -= is_foreign((GumboTag)e->tag);
                g->tables -= e->tag == GUMBO_TAG_TABLE && !e->ghost;
                g->selects -= e->tag == GUMBO_TAG_SELECT && !e->ghost;
        }
}

static int entry_is(const struct guard_entry *e, GumboTag tag,
                    const unsigned char *name, size_t len)
{
        size_t k;

        if (e->tag != tag)
                return 0;
        if (tag != GUMBO_TAG_UNKNOWN)
                return 1;
        if (e->name_len == 0 || e->name_len != len)
                return 0;
        for (k = 0; k < len; k++) {
                if ((unsigned char)e->name[k] != lower(name[k]))
                        return 0;
        }
        return 1;
}

/* Index + 1 of the topmost entry `tag` (any heading when `any_heading`),
 * walking down until an entry with one of the `stop` flags or one of the
 * `stop_tags`; 0 when not found. */
static size_t guard_find(const struct guard *g, GumboTag tag,
                         const unsigned char *name, size_t len, unsigned stop,
                         const GumboTag *stop_tags, int any_heading)
{
        size_t i, k;
        GumboTag t;

        for (i = g->sp; i > 0; i--) {
                t = (GumboTag)g->stack[i - 1].tag;
                if (entry_is(&g->stack[i - 1], tag, name, len) ||
                    (any_heading && is_heading(t)))
                        return i;
                if (has(t, stop))
                        return 0;
                for (k = 0; stop_tags && stop_tags[k] != GUMBO_TAG_LAST; k++) {
                        if (t == stop_tags[k])
                                return 0;
                }
        }
        return 0;
}

static const GumboTag button_scope[] = {GUMBO_TAG_BUTTON, GUMBO_TAG_LAST};
static const GumboTag list_scope[] = {GUMBO_TAG_OL, GUMBO_TAG_UL,
                                      GUMBO_TAG_LAST};
static const GumboTag row_stops[] = {
    GUMBO_TAG_TABLE, GUMBO_TAG_TBODY,    GUMBO_TAG_THEAD, GUMBO_TAG_TFOOT,
    GUMBO_TAG_HTML,  GUMBO_TAG_TEMPLATE, GUMBO_TAG_LAST};
static const GumboTag cell_stops[] = {
    GUMBO_TAG_TR,    GUMBO_TAG_TABLE, GUMBO_TAG_TBODY,    GUMBO_TAG_THEAD,
    GUMBO_TAG_TFOOT, GUMBO_TAG_HTML,  GUMBO_TAG_TEMPLATE, GUMBO_TAG_LAST};
static const GumboTag table_stops[] = {GUMBO_TAG_TABLE, GUMBO_TAG_HTML,
                                       GUMBO_TAG_TEMPLATE, GUMBO_TAG_LAST};

/* Pops the topmost li (or dd/dt) the way a new one closes it: through
 * anything but special elements other than address, div and p. */
static void guard_close_item(struct guard *g, GumboTag a, GumboTag b)
{
        size_t i;
        GumboTag t;

        for (i = g->sp; i > 0; i--) {
                t = (GumboTag)g->stack[i - 1].tag;
                if (t == a || t == b) {
                        guard_pop_to(g, i);
                        return;
                }
                if (has(t, T_SPECIAL) && t != GUMBO_TAG_ADDRESS &&
                    t != GUMBO_TAG_DIV && t != GUMBO_TAG_P)
                        return;
        }
}

static void guard_end(struct guard *g, GumboTag tag, const unsigned char *name,
                      size_t len)
{
        switch (tag) {
        case GUMBO_TAG_BODY:
        case GUMBO_TAG_HTML:
        case GUMBO_TAG_HEAD:
        case GUMBO_TAG_BR:
        case GUMBO_TAG_FORM:
                /* </body> and </html> change the insertion mode, not the
                 * stack; </br> is read as <br>; </form> takes the form
                 * element out of the stack but leaves what it holds. */
                return;
        case GUMBO_TAG_P:
                guard_pop_to(
                    g, guard_find(g, tag, NULL, 0, T_SCOPE, button_scope, 0));
                return;
        case GUMBO_TAG_LI:
                guard_pop_to(
                    g, guard_find(g, tag, NULL, 0, T_SCOPE, list_scope, 0));
                return;
        default:
                break;
        }
        if (is_heading(tag)) {
                guard_pop_to(g, guard_find(g, tag, NULL, 0, T_SCOPE, NULL, 1));
        } else if (has(tag, T_FORMAT)) {
                if (g->active_by[tag] > 0) {
                        g->active_by[tag]--;
                        g->active--;
                }
                /* The adoption agency pops to the element only when no
                 * special element is open above it. */
                guard_pop_to(g,
                             guard_find(g, tag, NULL, 0, T_SPECIAL, NULL, 0));
        } else if (has(tag, T_SPECIAL)) {
                guard_pop_to(g, guard_find(g, tag, NULL, 0, T_SCOPE, NULL, 0));
        } else if (!has(tag, T_VOID)) {
                guard_pop_to(g,
                             guard_find(g, tag, name, len, T_SPECIAL, NULL, 0));
        }
}

/* Pops what the start tag `tag` closes implicitly. */
static void guard_implied_ends(struct guard *g, GumboTag tag)
{
        const struct guard_entry *top;

        if (has(tag, T_CLOSE_P))
                guard_pop_to(g, guard_find(g, GUMBO_TAG_P, NULL, 0, T_SCOPE,
                                           button_scope, 0));
        /* A new <a> or <nobr> first closes an open one, as its end tag
         * would; a new <select> closes an open select. */
        if (tag == GUMBO_TAG_A || tag == GUMBO_TAG_NOBR)
                guard_end(g, tag, NULL, 0);
        if (tag == GUMBO_TAG_SELECT)
                guard_pop_to(g, guard_find(g, tag, NULL, 0, T_SCOPE, NULL, 0));
        top = g->sp ? &g->stack[g->sp - 1] : NULL;
        switch (tag) {
        case GUMBO_TAG_LI:
                guard_close_item(g, GUMBO_TAG_LI, GUMBO_TAG_LI);
                break;
        case GUMBO_TAG_DD:
        case GUMBO_TAG_DT:
                guard_close_item(g, GUMBO_TAG_DD, GUMBO_TAG_DT);
                break;
        case GUMBO_TAG_OPTION:
        case GUMBO_TAG_OPTGROUP:
                if (top && top->tag == GUMBO_TAG_OPTION)
                        guard_pop_to(g, g->sp);
                top = g->sp ? &g->stack[g->sp - 1] : NULL;
                if (tag == GUMBO_TAG_OPTGROUP && top &&
                    top->tag == GUMBO_TAG_OPTGROUP)
                        guard_pop_to(g, g->sp);
                break;
        case GUMBO_TAG_TD:
        case GUMBO_TAG_TH:
                guard_pop_to(
                    g, guard_find(g, GUMBO_TAG_TD, NULL, 0, 0, cell_stops, 0));
                guard_pop_to(
                    g, guard_find(g, GUMBO_TAG_TH, NULL, 0, 0, cell_stops, 0));
                break;
        case GUMBO_TAG_TR:
                guard_pop_to(
                    g, guard_find(g, GUMBO_TAG_TR, NULL, 0, 0, row_stops, 0));
                break;
        case GUMBO_TAG_TBODY:
        case GUMBO_TAG_THEAD:
        case GUMBO_TAG_TFOOT:
                guard_pop_to(g, guard_find(g, GUMBO_TAG_TBODY, NULL, 0, 0,
                                           table_stops, 0));
                guard_pop_to(g, guard_find(g, GUMBO_TAG_THEAD, NULL, 0, 0,
                                           table_stops, 0));
                guard_pop_to(g, guard_find(g, GUMBO_TAG_TFOOT, NULL, 0, 0,
                                           table_stops, 0));
                break;
        default:
                if (is_heading(tag) && top && is_heading((GumboTag)top->tag))
                        guard_pop_to(g, g->sp);
                break;
        }
}

static void guard_start(struct guard *g, GumboTag tag)
{
        /* In SVG and MathML most start tags close nothing; those that do
         * break out (<div>, <p>, ...) pop more than the model would. */
        if (g->foreign == 0)
                guard_implied_ends(g, tag);
        if (has(tag, T_FORMAT)) {
                g->active_by[tag]++;
                g->active++;
        }
}

/* Reads a tag name at s[i]; returns the index after it. */
static size_t scan_name(const struct guard *g, size_t i)
{
        while (i < g->len && !is_space(g->s[i]) && g->s[i] != '/' &&
               g->s[i] != '>')
                i++;
        return i;
}

/* Skips the attributes of a tag from s[i] as HTML's tokenizer reads them
 * (a quote opens a value only after '='). Returns the index after '>'
 * (len when the tag never closes) and counts the attributes. */
static size_t scan_attrs(const struct guard *g, size_t i, size_t *count)
{
        const unsigned char *s = g->s;
        size_t len = g->len;
        unsigned char q;

        *count = 0;
        for (;;) {
                while (i < len && (is_space(s[i]) || s[i] == '/'))
                        i++;
                if (i >= len)
                        return len;
                if (s[i] == '>')
                        return i + 1;
                /* A name: its first character may be '=' or a quote. */
                (*count)++;
                i++;
                while (i < len && !is_space(s[i]) && s[i] != '/' &&
                       s[i] != '>' && s[i] != '=')
                        i++;
                while (i < len && is_space(s[i]))
                        i++;
                if (i >= len || s[i] != '=')
                        continue;
                i++;
                while (i < len && is_space(s[i]))
                        i++;
                if (i < len && (s[i] == '"' || s[i] == '\'')) {
                        q = s[i++];
                        while (i < len && s[i] != q)
                                i++;
                        if (i < len)
                                i++;
                } else {
                        while (i < len && !is_space(s[i]) && s[i] != '>')
                                i++;
                }
        }
}

static int match_ci(const struct guard *g, size_t i, const char *lit)
{
        size_t k, n = strlen(lit);

        if (i > g->len || g->len - i < n)
                return 0;
        for (k = 0; k < n; k++) {
                if (lower(g->s[i + k]) != (unsigned char)lit[k])
                        return 0;
        }
        return 1;
}

/* True when s[i] starts "</name" (`slash`) or "<name" followed by a
 * character that ends a tag name: the "appropriate end tag" test. */
static int at_tag(const struct guard *g, size_t i, const char *name, int slash)
{
        size_t n = strlen(name), at = i + 1 + (slash ? 1 : 0);
        unsigned char c;

        if (g->len - i < n + 2 + (slash ? 1 : 0) || g->s[i] != '<' ||
            (slash && g->s[i + 1] != '/') || !match_ci(g, at, name))
                return 0;
        c = g->s[at + n];
        return is_space(c) || c == '/' || c == '>';
}

/* A tag inside what the model reads as raw text or CDATA. gumbo reads it
 * as a tag where the model is wrong about the context (a <style> in SVG
 * holds elements; a select ignores <iframe>), so it counts as open for
 * good. */
static void guard_phantom(struct guard *g, size_t i)
{
        GumboTag tag;
        size_t end;

        if (i + 1 >= g->len || !is_alpha(g->s[i + 1]))
                return;
        g->phantom++;
        end = scan_name(g, i + 1);
        tag = gumbo_tagn_enum((const char *)g->s + i + 1,
                              (unsigned)(end - i - 1));
        if (has(tag, T_FORMAT)) {
                g->active_by[tag]++;
                g->active++;
        }
}

/* Index after the raw text of `tag` that starts at i, its tags counted
 * as phantoms. Script data has escapes: after "<!--", a "<script" makes
 * the next "</script" end only the escape. */
static size_t skip_raw(struct guard *g, size_t i, GumboTag tag)
{
        const char *name = gumbo_normalized_tagname(tag);
        int escaped = 0, doubled = 0;

        while (i < g->len) {
                if (g->s[i] != '<' && g->s[i] != '-') {
                        i++;
                        continue;
                }
                if (tag == GUMBO_TAG_SCRIPT) {
                        if (!escaped && match_ci(g, i, "<!--")) {
                                escaped = 1;
                                /* "<!-->" ends the escape at once. */
                                i += 2;
                                continue;
                        }
                        if (escaped && match_ci(g, i, "-->")) {
                                escaped = doubled = 0;
                                i += 3;
                                continue;
                        }
                        if (escaped && !doubled && at_tag(g, i, name, 0)) {
                                doubled = 1;
                                i += 7;
                                continue;
                        }
                        if (doubled && at_tag(g, i, name, 1)) {
                                doubled = 0;
                                i += 8;
                                continue;
                        }
                }
                /* <plaintext> never ends. */
                if (tag != GUMBO_TAG_PLAINTEXT && at_tag(g, i, name, 1))
                        return i;
                if (g->s[i] == '<') {
                        guard_phantom(g, i);
                        if (depth_estimate(g) > GUARD_DEPTH_MAX)
                                return i;
                }
                i++;
        }
        return g->len;
}

/* Index after the comment at s[i] == '<' (s[i + 1] is '!' or '?', or
 * "</" without a name). */
static size_t skip_comment(struct guard *g, size_t i)
{
        size_t k;

        if (match_ci(g, i, "<!--")) {
                /* "<!-->" and "<!--->" are whole comments; otherwise
                 * "-->" or "--!>" ends one. */
                if (match_ci(g, i + 4, ">"))
                        return i + 5;
                if (match_ci(g, i + 4, "->"))
                        return i + 6;
                for (k = i + 4; k < g->len; k++) {
                        if (match_ci(g, k, "-->"))
                                return k + 3;
                        if (match_ci(g, k, "--!>"))
                                return k + 4;
                }
                return g->len;
        }
        if (match_ci(g, i, "<![cdata[")) {
                /* CDATA runs to "]]>" in SVG and MathML; elsewhere it is
                 * a bogus comment up to the first '>', and gumbo reads
                 * the tags after it, which therefore count. */
                for (k = i + 9; k < g->len; k++) {
                        if (match_ci(g, k, "]]>"))
                                return k + 3;
                        if (g->s[k] == '<')
                                guard_phantom(g, k);
                }
                return g->len;
        }
        /* Anything else ("<!DOCTYPE", "<?php", "</3") is a bogus comment
         * up to the first '>'. */
        for (k = i + 1; k < g->len; k++) {
                if (g->s[k] == '>')
                        return k + 1;
        }
        return g->len;
}

/* Charges the elements reconstruction may add when text or a start tag
 * follows something that closed elements: at most `active` of them. */
static void guard_charge(struct guard *g)
{
        if (g->pending) {
                g->recon += g->active;
                g->pending = 0;
        }
}

static int guard_over(const struct guard *g)
{
        return g->recon > GUARD_RECON_MAX ||
               depth_estimate(g) > GUARD_DEPTH_MAX;
}

/* gumbo 0.10.1 aborts on an assertion (parser.c, node_qualified_tag_is)
 * when a select opens inside an SVG or MathML integration point that is
 * inside another select in a table, as in
 * "<table><svg><select><foreignObject><select><tbody>". Markup never
 * means that, so the document is cut before such a select. */
static int guard_crashes(const struct guard *g)
{
        size_t i;

        if (g->foreign == 0)
                return 0;
        for (i = 0; i < g->sp; i++) {
                if (g->stack[i].tag == GUMBO_TAG_SELECT)
                        return 1;
        }
        return 0;
}

/* Returns the offset before which the document stays within the limits:
 * len when it does throughout. */
static size_t guard_scan(struct guard *g)
{
        const unsigned char *s = g->s;
        size_t i = 0, last = 0, name_end, attrs, end;
        GumboTag tag;
        int closing;

        while (i < g->len) {
                if (s[i] != '<') {
                        i++;
                        continue;
                }
                if (i > last)
                        guard_charge(g);
                if (guard_over(g))
                        return last;
                if (i + 1 >= g->len)
                        break;
                closing = s[i + 1] == '/';
                if (closing && i + 2 >= g->len)
                        break;
                if (s[i + 1] == '!' || s[i + 1] == '?' ||
                    (closing && i + 2 < g->len && !is_alpha(s[i + 2]))) {
                        i = last = skip_comment(g, i);
                        continue;
                }
                if (!is_alpha(s[i + 1 + closing])) {
                        i++;
                        continue;
                }
                name_end = scan_name(g, i + 1 + closing);
                tag = gumbo_tagn_enum((const char *)s + i + 1 + closing,
                                      (unsigned)(name_end - i - 1 - closing));
                end = scan_attrs(g, name_end, &attrs);
                if (attrs > GUARD_ATTRS_MAX)
                        return i;
                if (closing) {
                        g->pending = 1;
                        guard_end(g, tag, s + i + 2, name_end - i - 2);
                        i = last = end;
                        continue;
                }
                if (tag == GUMBO_TAG_SELECT && guard_crashes(g))
                        return i;
                guard_charge(g);
                guard_start(g, tag);
                if (has(tag, T_SPECIAL))
                        g->pending = 1;
                if (!has(tag, T_VOID | T_RAW)) {
                        if (g->sp + 1 + g->phantom + g->active >
                                GUARD_DEPTH_MAX ||
                            g->recon > GUARD_RECON_MAX)
                                return i;
                        guard_push(g, tag, s + i + 1, name_end - i - 1);
                }
                i = last = end;
                if (has(tag, T_RAW) && i < g->len)
                        i = last = skip_raw(g, i, tag);
        }
        return guard_over(g) ? last : g->len;
}

/* ------------------------------------------------------------------ */
/* The text walk. */

/* What separates the next text from the text before it. */
enum gap { GAP_NONE, GAP_SPACE, GAP_LINE, GAP_PARA };

struct text {
        struct nt_buf buf; /* its max is the caller's max_out */
        enum gap gap;
        int full; /* max reached: the rest is dropped */
        int err;  /* first allocation failure */
};

static void gap_at_least(struct text *t, enum gap g)
{
        if (t->gap < g)
                t->gap = g;
}

/* Appends n bytes, or as many as fit when cut at a character boundary. */
static void text_put(struct text *t, const char *p, size_t n)
{
        size_t room = t->buf.max - t->buf.len;
        int err;

        if (n > room) {
                n = room;
                /* Back up over continuation bytes to the first byte of
                 * the character that does not fit. */
                while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
                        n--;
                t->full = 1;
        }
        err = nt_buf_append(&t->buf, p, n);
        if (err) {
                t->err = err;
                t->full = 1;
        }
}

static void text_word(struct text *t, const char *p, size_t n)
{
        static const char *const seps[] = {"", " ", "\n", "\n\n"};
        const char *sep = seps[t->gap];
        size_t sep_len = strlen(sep);

        if (t->buf.len > 0 && sep_len > 0) {
                if (sep_len > t->buf.max - t->buf.len) {
                        t->full = 1;
                        return;
                }
                text_put(t, sep, sep_len);
        }
        t->gap = GAP_NONE;
        text_put(t, p, n);
}

/* Adds a text node: runs of white space (and U+00A0, which feeds use to
 * space words as often as to glue them) become one gap. */
static void text_node(struct text *t, const char *s)
{
        const unsigned char *p = (const unsigned char *)s, *word;

        while (*p && !t->full) {
                if (is_space(*p) || *p == '\v') {
                        gap_at_least(t, GAP_SPACE);
                        p++;
                        continue;
                }
                if (p[0] == 0xC2 && p[1] == 0xA0) {
                        gap_at_least(t, GAP_SPACE);
                        p += 2;
                        continue;
                }
                word = p;
                while (*p && !is_space(*p) && *p != '\v' &&
                       !(p[0] == 0xC2 && p[1] == 0xA0))
                        p++;
                text_word(t, (const char *)word, (size_t)(p - word));
        }
}

/* The effect of entering (`leaving` 0) or leaving an element. */
static void text_element(struct text *t, GumboTag tag, int leaving)
{
        if (tag == GUMBO_TAG_BR && !leaving) {
                /* Two line breaks in a row are how much HTML marks a
                 * paragraph. */
                t->gap = t->gap >= GAP_LINE ? GAP_PARA : GAP_LINE;
        } else if (has(tag, T_BLOCK)) {
                gap_at_least(t, GAP_PARA);
        } else if (has(tag, T_CELL)) {
                gap_at_least(t, GAP_SPACE);
        }
}

struct frame {
        GumboNode *node;
        unsigned int next; /* index of the next child to visit */
};

static const GumboVector *children(const GumboNode *node)
{
        if (node->type == GUMBO_NODE_DOCUMENT)
                return &node->v.document.children;
        if (node->type == GUMBO_NODE_ELEMENT)
                return &node->v.element.children;
        return NULL;
}

/* Walks the tree depth first with a stack on the heap: gumbo's trees can
 * be as deep as the guard allows, which recursion need not survive. */
static int text_walk(GumboNode *root, struct text *t)
{
        struct frame *stack = NULL, *grown, *f;
        size_t sp = 0, cap = 0;
        const GumboVector *kids;
        GumboNode *child;
        int err = NT_OK;

        cap = 64;
        stack = malloc(cap * sizeof(*stack));
        if (!stack)
                return NT_ERR_NOMEM;
        stack[sp].node = root;
        stack[sp].next = 0;
        sp++;
        while (sp > 0 && !t->full) {
                f = &stack[sp - 1];
                kids = children(f->node);
                if (!kids || f->next >= kids->length) {
                        if (f->node->type == GUMBO_NODE_ELEMENT)
                                text_element(t, f->node->v.element.tag, 1);
                        sp--;
                        continue;
                }
                child = kids->data[f->next++];
                switch (child->type) {
                case GUMBO_NODE_TEXT:
                case GUMBO_NODE_CDATA:
                        text_node(t, child->v.text.text);
                        continue;
                case GUMBO_NODE_WHITESPACE:
                        gap_at_least(t, GAP_SPACE);
                        continue;
                case GUMBO_NODE_ELEMENT:
                        break;
                default:
                        /* Comments, templates, documents: no text. */
                        continue;
                }
                if (has(child->v.element.tag, T_DROP))
                        continue;
                text_element(t, child->v.element.tag, 0);
                if (sp == cap) {
                        grown = realloc(stack, 2 * cap * sizeof(*stack));
                        if (!grown) {
                                err = NT_ERR_NOMEM;
                                goto out;
                        }
                        stack = grown;
                        cap *= 2;
                }
                stack[sp].node = child;
                stack[sp].next = 0;
                sp++;
        }
out:
        free(stack);
        return err;
}

/* Put before the fragment so that the document is in its body from the
 * first byte: without it, content before any body element (a leading
 * <noscript>, <style> or <title>) is read as part of an implied head. */
static const char body_start[] = "<body>";

int nt_html_to_text(const char *html, size_t len, size_t max_out, char **out,
                    int *truncated)
{
        GumboOptions opts = kGumboDefaultOptions;
        GumboOutput *doc = NULL;
        struct guard *g = NULL;
        struct text t;
        char *src = NULL;
        size_t cut, pre = sizeof(body_start) - 1;
        int err;

        *out = NULL;
        if (truncated)
                *truncated = 0;
        memset(&t, 0, sizeof(t));
        nt_buf_init(&t.buf, max_out);
        g = calloc(1, sizeof(*g));
        if (!g) {
                err = NT_ERR_NOMEM;
                goto out;
        }
        g->s = (const unsigned char *)html;
        g->len = len;
        cut = guard_scan(g);
        src = malloc(pre + cut + 1);
        if (!src) {
                err = NT_ERR_NOMEM;
                goto out;
        }
        memcpy(src, body_start, pre);
        if (cut > 0)
                memcpy(src + pre, html, cut);
        /* Parsed as a whole document rather than with gumbo's fragment
         * mode (fragment_context), which fails its own assertions on tag
         * soup that a random search finds within seconds. Errors are not
         * kept: nothing reads them, and each one copies the stack of open
         * elements. */
        opts.max_errors = 0;
        doc = gumbo_parse_with_options(&opts, src, pre + cut);
        if (!doc) {
                err = NT_ERR_PARSE;
                goto out;
        }
        err = text_walk(doc->document, &t);
        if (!err)
                err = t.err;
        if (err)
                goto out;
        /* Gaps are written only before text, but a word cut to nothing
         * by the limit can leave one behind. */
        while (t.buf.len > 0 && (t.buf.data[t.buf.len - 1] == ' ' ||
                                 t.buf.data[t.buf.len - 1] == '\n'))
                t.buf.data[--t.buf.len] = '\0';
        if (truncated)
                *truncated = t.full || cut < len;
        *out = nt_buf_detach(&t.buf);
        if (!*out)
                err = NT_ERR_NOMEM;
out:
        if (doc)
                gumbo_destroy_output(&opts, doc);
        nt_buf_free(&t.buf);
        free(src);
        free(g);
        return err;
}
