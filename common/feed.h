/* Feeds: one model of a feed and its entries in any supported format (RSS
 * 0.90-0.94, RSS 1.0, RSS 2.0, Atom 0.3 and 1.0, JSON Feed 1.0 and 1.1),
 * held within configurable limits, and its JSON (`newstap parse`). The
 * format readers (feed_xml.c, feed_json.c) fill the model through the
 * builder calls at the end of this header; nt_feed_parse() in
 * common/feed_parse.h reads a document into it. */
#ifndef NT_FEED_H
#define NT_FEED_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits on what one document may make the parser hold. Crossing one is
 * an error (the document limit) or a truncation recorded in the feed's
 * errors and in its `cuts` (the others), never a silent cut: the callers
 * log each cut with the feed and count it (docs/operations.md, "Limits"). */
struct nt_feed_limits {
        size_t max_document; /* bytes of input (default 32 MiB) */
        size_t max_entries;  /* entries kept (default 10,000) */
        size_t max_field;    /* bytes of one text field (default 1 MiB) */
        size_t max_depth;    /* XML element nesting (default 64) */
        size_t max_list;     /* authors, categories or enclosures of one
                                entry (default 1,000) */
        size_t max_errors;   /* errors recorded (default 100) */
};

#define NT_FEED_DEFAULT_MAX_DOCUMENT ((size_t)32 * 1024 * 1024)
#define NT_FEED_DEFAULT_MAX_ENTRIES  ((size_t)10000)
#define NT_FEED_DEFAULT_MAX_FIELD    ((size_t)1024 * 1024)
#define NT_FEED_DEFAULT_MAX_DEPTH    ((size_t)64)
#define NT_FEED_DEFAULT_MAX_LIST     ((size_t)1000)
#define NT_FEED_DEFAULT_MAX_ERRORS   ((size_t)100)

/* Fills in the defaults above. */
void nt_feed_limits_init(struct nt_feed_limits *lim);

/* Which limit cut something: bits of nt_feed.cuts and nt_feed_entry.cuts. */
enum nt_feed_cut {
        NT_FEED_CUT_DOCUMENT = 1 << 0, /* max_document: nothing parsed */
        NT_FEED_CUT_ENTRIES = 1 << 1,  /* max_entries: later entries lost */
        NT_FEED_CUT_FIELD = 1 << 2,    /* max_field: a text cut short */
        NT_FEED_CUT_DEPTH = 1 << 3,    /* max_depth: the rest of the
                                          document (and the field being
                                          read) lost */
        NT_FEED_CUT_LIST = 1 << 4,     /* max_list: authors, categories or
                                          enclosures lost */
};
#define NT_FEED_CUT_ALL 0x1F

/* "document", "entries", "field", "depth", "list" for one bit; "" for
 * anything else. Static. */
const char *nt_feed_cut_name(unsigned cut);

struct nt_feed;

/* One line on what limit `cut` (one bit of feed->cuts) did to the feed,
 * for the log: "cut by the depth limit 1 time(s), first at line 9:
 * elements nested deeper than 64: ...; 1 of the 2 entries kept were
 * cut", into buf. Returns buf. */
const char *nt_feed_cut_describe(const struct nt_feed *feed, unsigned cut,
                                 char *buf, size_t size);

enum nt_feed_format {
        NT_FEED_UNKNOWN = 0,
        NT_FEED_RSS090,
        NT_FEED_RSS091,
        NT_FEED_RSS092,
        NT_FEED_RSS093,
        NT_FEED_RSS094,
        NT_FEED_RSS20,
        NT_FEED_RSS10,
        NT_FEED_ATOM03,
        NT_FEED_ATOM10,
        NT_FEED_JSONFEED10,
        NT_FEED_JSONFEED11,
};

/* "rss20", "atom10", "jsonfeed11", ... or "unknown". Static. */
const char *nt_feed_format_name(enum nt_feed_format format);

/* A date that is absent or could not be read. */
#define NT_FEED_NO_DATE INT64_MIN

/* Every string below is owned by the struct that holds it (malloc'd,
 * freed by nt_feed_free) and is NULL when the document has no value. */
struct nt_feed_person {
        char *name;
        char *email;
        char *uri;
};

struct nt_feed_enclosure {
        char *url;    /* absolute when it could be resolved */
        char *length; /* bytes, as written */
        char *type;   /* MIME type */
};

/* The entry's picture: the best of what the entry names as one (see
 * nt_feed_offer_image()). */
struct nt_feed_image {
        char *url;      /* absolute when it could be resolved; NULL: none */
        char *type;     /* MIME type, when given */
        int64_t width;  /* pixels; 0 when not given */
        int64_t height; /* pixels; 0 when not given */
        uint8_t rank;   /* enum nt_feed_image_rank of where it came from */
};

/* Where a picture came from, better last: a Media RSS <media:content>
 * that is an image is the picture itself, a <media:thumbnail> a small
 * copy of it, a lone image enclosure a file that may be one. */
enum nt_feed_image_rank {
        NT_FEED_IMAGE_NONE = 0,
        NT_FEED_IMAGE_ENCLOSURE, /* the entry's only enclosure, image/ */
        NT_FEED_IMAGE_THUMBNAIL, /* <media:thumbnail> */
        NT_FEED_IMAGE_CONTENT,   /* <media:content> medium="image" or an
                                    image/ type; JSON Feed's "image" */
};

struct nt_feed_error {
        unsigned long line;   /* 1-based; 0 when not tied to a place */
        unsigned long column; /* 1-based; 0 when not tied to a place */
        unsigned cut;         /* the NT_FEED_CUT_* bit, 0: not a limit */
        char *message;
};

struct nt_feed_entry {
        char *id;             /* RSS guid, Atom id, JSON Feed id, RSS 1.0
                                 rdf:about */
        bool id_is_permalink; /* RSS guid isPermaLink (default true) */
        char *title;          /* plain text */
        char *link;           /* the alternate link, absolute if possible */
        char *summary;        /* HTML */
        char *content;        /* HTML */
        int64_t published;    /* ms since the epoch, UTC; NT_FEED_NO_DATE */
        int64_t updated;      /* ditto */
        char *published_raw;  /* the text when it was not a readable date */
        char *updated_raw;    /* ditto */
        char *language;       /* dc:language, JSON Feed language */
        struct nt_feed_person *authors;
        size_t n_authors;
        char **categories;
        size_t n_categories;
        struct nt_feed_enclosure *enclosures;
        size_t n_enclosures;
        /* The entry's picture; url NULL: none. */
        struct nt_feed_image image;
        uint8_t lists_full; /* which lists hit limits.max_list */
        unsigned cuts;      /* NT_FEED_CUT_* that cut this entry (a
                               field, its lists, or the depth limit while
                               it was being read) */
};

struct nt_feed {
        enum nt_feed_format format;
        bool wellformed;   /* false when anything had to be recovered */
        bool truncated;    /* a limit cut something off: see errors */
        unsigned cuts;     /* which: NT_FEED_CUT_* bits */
        char encoding[32]; /* what the bytes were decoded from: "utf-8" */
        char *title;       /* plain text */
        char *link;        /* the site, absolute if possible */
        char *subtitle;    /* HTML */
        char *language;
        int64_t updated;     /* NT_FEED_NO_DATE when absent or unreadable */
        char *updated_raw;   /* the text when it was not a readable date */
        int ttl_minutes;     /* RSS <ttl>; -1 when absent */
        uint32_t skip_hours; /* RSS <skipHours>: bit h for hour h (0-23) */
        uint8_t skip_days;   /* RSS <skipDays>: bit 0 Monday .. 6 Sunday */
        struct nt_feed_person *authors; /* feed-level: Atom feed author,
                                           RSS managingEditor */
        size_t n_authors;
        uint8_t lists_full; /* the authors hit limits.max_list */
        struct nt_feed_entry *entries;
        size_t n_entries;
        size_t cap_entries;
        struct nt_feed_error *errors;
        size_t n_errors;
        size_t cap_errors;
        size_t errors_dropped;        /* errors past limits.max_errors */
        struct nt_feed_limits limits; /* those of the parse */
};

/* Initialises an empty feed with the default limits. */
void nt_feed_init(struct nt_feed *feed);

/* Frees everything the feed holds and leaves it empty (limits kept).
 * NULL-safe. */
void nt_feed_free(struct nt_feed *feed);

/* The JSON of `newstap parse` (the contract conformance suites check):
 * {"format","wellformed","encoding","errors":[{"line","column",
 * "message"}],"feed":{"title","link","subtitle","updated","language"},
 * "entries":[{"id","title","link","published","updated","summary",
 * "content","authors":[{"name","email","uri"}],"categories":[..],
 * "enclosures":[{"url","length","type"}]}]}, dates as RFC 3339 UTC or
 * null. An entry with a picture also has "image":{"url","type","width",
 * "height"} (sizes integers or null); one whose date could not be read
 * "published_raw" or "updated_raw". Written as it goes
 * (common/json_out.h), in the bytes jansson's json_dumps() gives with
 * JSON_PRESERVE_ORDER and JSON_COMPACT (`indent` 0) or
 * JSON_INDENT(indent). Caller frees with free(); NULL when out of
 * memory. */
char *nt_feed_to_json_text(const struct nt_feed *feed, int indent);

/* A JSON string of UTF-8 text (invalid bytes become U+FFFD), or JSON
 * null for NULL. A fresh reference: caller owns it. */
json_t *nt_feed_json_str(const char *s);

/* The date as an RFC 3339 JSON string, or null for NT_FEED_NO_DATE. */
json_t *nt_feed_json_date(int64_t epoch_ms);

struct nt_json_out;

/* The same date written to a streaming writer (common/json_out.h). */
void nt_feed_json_out_date(struct nt_json_out *o, int64_t epoch_ms);

/* A picture as {"url","type","width","height"} (sizes null when not
 * known), as jansson (a fresh reference, caller owns it; NULL when out of
 * memory) and to a streaming writer, in the same bytes. */
json_t *nt_feed_json_image(const struct nt_feed_image *img);
void nt_feed_json_out_image(struct nt_json_out *o,
                            const struct nt_feed_image *img);

/* ---- Building a feed: used by the format parsers ---------------------- */

/* Records an error at a place (line/column 0 when none) and marks the
 * feed not well-formed unless `cut` is an NT_FEED_CUT_* bit (a limit was
 * crossed: the feed is marked truncated and the bit set in feed->cuts
 * instead); 0 for an error that is not a limit. Past limits.max_errors,
 * errors are counted in errors_dropped. Returns 0 or NT_ERR_NOMEM. */
int nt_feed_add_error(struct nt_feed *feed, unsigned long line,
                      unsigned long column, unsigned cut, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Free what an entry's lists and picture hold, and an article's copies
 * of them (common/article.h): each array and every string in it; for
 * the picture its strings (the struct is the caller's). NULL-safe. */
void nt_feed_persons_free(struct nt_feed_person *list, size_t n);
void nt_feed_strings_free(char **list, size_t n);
void nt_feed_enclosures_free(struct nt_feed_enclosure *list, size_t n);
void nt_feed_image_free(struct nt_feed_image *image);

/* Initialises an empty entry (dates NT_FEED_NO_DATE, id a permalink). */
void nt_feed_entry_init(struct nt_feed_entry *e);

/* Frees what an entry holds and leaves it empty. NULL-safe. */
void nt_feed_entry_free(struct nt_feed_entry *e);

/* True when the feed already holds limits.max_entries entries. */
bool nt_feed_entries_full(const struct nt_feed *feed);

/* Moves *e into the feed (e is left empty). NT_ERR_LIMIT when the feed is
 * full (e is freed and the truncation recorded), NT_ERR_NOMEM. */
int nt_feed_commit_entry(struct nt_feed *feed, struct nt_feed_entry *e);

/* Add one person (to entry e, or to the feed when e is NULL; nothing
 * when all three are NULL), category or enclosure, taking ownership of
 * the strings (freed on error too). Past limits.max_list the value is
 * dropped and the truncation recorded once per list; that returns 0, as
 * the parse goes on. NT_ERR_NOMEM. */
int nt_feed_add_person(struct nt_feed *feed, struct nt_feed_entry *e,
                       char *name, char *email, char *uri);
int nt_feed_add_category(struct nt_feed *feed, struct nt_feed_entry *e,
                         char *term);
int nt_feed_add_enclosure(struct nt_feed *feed, struct nt_feed_entry *e,
                          char *url, char *length, char *type);

/* Offers a picture for entry e, taking ownership of url and type (freed
 * when not kept, NULL-safe): it replaces the entry's picture when its
 * rank is higher, or the same and its area (width x height, as written;
 * unreadable sizes are 0) larger; the first mention wins a tie. */
void nt_feed_offer_image(struct nt_feed_entry *e, enum nt_feed_image_rank rank,
                         char *url, char *type, const char *width,
                         const char *height);

/* Replaces *slot with value (taking ownership; the old value is freed). */
void nt_feed_set(char **slot, char *value);

/* Reads `text` as a date into *when; when it is not a readable date,
 * *when stays NT_FEED_NO_DATE and a copy of the text goes to *raw. Only
 * fills an empty slot (the first date wins). Returns 0 or NT_ERR_NOMEM. */
int nt_feed_set_date(int64_t *when, char **raw, const char *text);

/* The HTML of a plain text: & < > escaped. NULL when out of memory;
 * caller frees with free(). */
char *nt_feed_escape_html(const char *s, size_t n);

/* Splits an RSS person ("jo@example.com (Jo Bloggs)", "Jo <jo@x.org>",
 * "jo@example.com", "Jo Bloggs") into a name and an email, each malloc'd
 * or NULL. Returns 0 or NT_ERR_NOMEM. */
int nt_feed_split_person(const char *text, char **name, char **email);

#endif
