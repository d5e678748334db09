/* The feed parser: every format, encodings, entities, dates, relative
 * URLs, ill-formed and hostile documents, and the limits. Fixtures are
 * under tests/fixtures/feeds/, named for what they show. */
#include "common/err.h"
#include "common/feed.h"
#include "common/feed_parse.h"
#include "support/archive.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A feed fixture, whole; caller frees. */
static char *fixture(const char *name, size_t *len)
{
        char rel[128], path[512];

        snprintf(rel, sizeof(rel), "feeds/%s", name);
        return nt_test_slurp(nt_test_fixture(rel, path, sizeof(path)), len);
}

/* Parses a fixture into feed (initialised here); returns the result. */
static int parse_fixture(const char *name, const char *content_type,
                         const char *base, const struct nt_feed_limits *lim,
                         struct nt_feed *feed)
{
        char errstr[256] = "";
        size_t len;
        char *data = fixture(name, &len);
        int rc;

        nt_feed_init(feed);
        rc = nt_feed_parse(data, len, content_type, base, lim, feed, errstr,
                           sizeof(errstr));
        free(data);
        return rc;
}

static int parse_str(const char *doc, const struct nt_feed_limits *lim,
                     struct nt_feed *feed, char *errstr, size_t size)
{
        nt_feed_init(feed);
        return nt_feed_parse(doc, strlen(doc), NULL, NULL, lim, feed, errstr,
                             size);
}

/* parse_fixture() without a content type, under the default limits; the
 * parse must succeed. */
static void parse_fixture_ok(const char *name, const char *base,
                             struct nt_feed *feed)
{
        int rc = parse_fixture(name, NULL, base, NULL, feed);

        cr_assert_eq(rc, NT_OK, "%s: parse failed (%d)", name, rc);
}

/* parse_str() that must succeed. */
static void parse_str_ok(const char *doc, const struct nt_feed_limits *lim,
                         struct nt_feed *feed)
{
        char errstr[256] = "";

        cr_assert_eq(parse_str(doc, lim, feed, errstr, sizeof(errstr)), NT_OK,
                     "%.60s...: %s", doc, errstr);
}

static const char *str_or(const char *s)
{
        return s ? s : "(null)";
}

static void assert_str(const char *got, const char *want, const char *what)
{
        if (!want) {
                cr_assert_null(got, "%s: want null, got \"%s\"", what, got);
                return;
        }
        cr_assert_not_null(got, "%s: want \"%s\", got null", what, want);
        cr_assert_str_eq(got, want, "%s: want \"%s\", got \"%s\"", what, want,
                         got);
}

static void assert_date(int64_t got, const char *want, const char *what)
{
        json_t *j = nt_feed_json_date(got);

        if (!want || !*want)
                cr_assert(json_is_null(j), "%s: want no date, got %s", what,
                          json_string_value(j));
        else
                cr_assert_str_eq(str_or(json_string_value(j)), want,
                                 "%s: want %s, got %s", what, want,
                                 str_or(json_string_value(j)));
        json_decref(j);
}

static bool has_error(const struct nt_feed *feed, const char *needle)
{
        size_t i;

        for (i = 0; i < feed->n_errors; i++) {
                if (strstr(feed->errors[i].message, needle))
                        return true;
        }
        return false;
}

/* ---- Formats ---------------------------------------------------------- */

struct format_case {
        char fixture[64];
        char format[16];
        char title[64];
        size_t entries;
        char first_title[64];
};

ParameterizedTestParameters(feed, formats)
{
        static struct format_case cases[] = {
            {"rss20-full.xml", "rss20", "Harbour Gazette", 2,
             "Ferry timetable changes"},
            {"rss091.xml", "rss091", "Old School News", 1, "First post"},
            {"rss090.rdf", "rss090", "Netscape Era", 2, "Item one"},
            {"rss10-items-outside-channel.rdf", "rss10", "RDF Site Summary", 1,
             "Article A"},
            {"atom10-full.xml", "atom10", "Nachrichten <b>heute</b>", 2,
             "Gipfel in Wien"},
            {"atom10-xml-base.xml", "atom10", "Relative links", 2,
             "Nested base"},
            {"atom03.xml", "atom03", "Atom Zero Three", 1, "Escaped title"},
            {"jsonfeed10.json", "jsonfeed10", "JSON One", 1, "Single author"},
            {"jsonfeed11.json", "jsonfeed11", "JSON Journal", 2, "Hello JSON"},
        };
        return cr_make_param_array(struct format_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct format_case *c, feed, formats)
{
        struct nt_feed feed;
        int rc = parse_fixture(c->fixture, NULL, NULL, NULL, &feed);

        cr_assert_eq(rc, NT_OK, "%s: parse failed (%d)", c->fixture, rc);
        cr_assert_str_eq(nt_feed_format_name(feed.format), c->format,
                         "%s: format %s, want %s", c->fixture,
                         nt_feed_format_name(feed.format), c->format);
        cr_assert(feed.wellformed, "%s: not well-formed: %s", c->fixture,
                  feed.n_errors ? feed.errors[0].message : "");
        assert_str(feed.title, c->title, c->fixture);
        cr_assert_eq(feed.n_entries, c->entries, "%s: %zu entries, want %zu",
                     c->fixture, feed.n_entries, c->entries);
        assert_str(feed.entries[0].title, c->first_title, c->fixture);
        nt_feed_free(&feed);
}

/* Versions come from the content only: the version attribute, the RDF
 * and Atom namespaces, the JSON Feed version URL. */
struct version_case {
        char doc[200];
        char format[16];
};

ParameterizedTestParameters(feed, versions)
{
        static struct version_case cases[] = {
            {"<rss version=\"0.91\"><channel><title>t</title></channel></rss>",
             "rss091"},
            {"<rss version=\"0.92\"><channel><title>t</title></channel></rss>",
             "rss092"},
            {"<rss version=\"0.93\"><channel><title>t</title></channel></rss>",
             "rss093"},
            {"<rss version=\"0.94\"><channel><title>t</title></channel></rss>",
             "rss094"},
            {"<rss version=\"2.0\"><channel><title>t</title></channel></rss>",
             "rss20"},
            {"<rss><channel><title>t</title></channel></rss>", "rss20"},
            {"<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-"
             "ns#\" xmlns=\"http://purl.org/rss/1.0/\"><channel><title>t</"
             "title></channel></rdf:RDF>",
             "rss10"},
            {"<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>"
             "</feed>",
             "atom10"},
            {"<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><title>"
             "t</title></feed>",
             "atom03"},
            {"<entry xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>"
             "</entry>",
             "atom10"},
            {"{\"version\":\"https://jsonfeed.org/version/1\",\"title\":\"t\","
             "\"items\":[]}",
             "jsonfeed10"},
            {"{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":"
             "\"t\",\"items\":[]}",
             "jsonfeed11"},
            {"  \n<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>"
             "t</title></channel></rss>",
             "rss20"},
        };
        return cr_make_param_array(struct version_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct version_case *c, feed, versions)
{
        struct nt_feed feed;
        char errstr[256] = "";
        int rc = parse_str(c->doc, NULL, &feed, errstr, sizeof(errstr));

        cr_assert_eq(rc, NT_OK, "%s: %s", c->doc, errstr);
        cr_assert_str_eq(nt_feed_format_name(feed.format), c->format,
                         "%s: format %s, want %s", c->doc,
                         nt_feed_format_name(feed.format), c->format);
        /* An Atom entry document's title is its entry's. */
        assert_str(feed.title ? feed.title
                              : (feed.n_entries ? feed.entries[0].title : NULL),
                   "t", c->doc);
        nt_feed_free(&feed);
}

Test(feed, rss20_channel_and_items)
{
        struct nt_feed feed;
        const struct nt_feed_entry *e;

        parse_fixture_ok("rss20-full.xml", NULL, &feed);
        assert_str(feed.link, "https://gazette.example/", "channel link");
        assert_str(feed.subtitle, "Port news, <b>daily</b>", "description");
        assert_str(feed.language, "en-gb", "language");
        assert_date(feed.updated, "2026-01-06T07:30:00Z", "lastBuildDate");
        cr_assert_eq(feed.ttl_minutes, 45, "ttl %d", feed.ttl_minutes);
        cr_assert_eq(feed.skip_hours,
                     (uint32_t)1 << 0 | (uint32_t)1 << 1 | (uint32_t)1 << 23,
                     "skipHours %#x", feed.skip_hours);
        cr_assert_eq(feed.skip_days, (1 << 5) | (1 << 6), "skipDays %#x",
                     feed.skip_days);
        cr_assert_eq(feed.n_authors, 1, "managingEditor");
        assert_str(feed.authors[0].name, "News Desk", "managingEditor name");

        e = &feed.entries[0];
        assert_str(e->id, "gazette-2026-0007", "guid");
        cr_assert(!e->id_is_permalink, "isPermaLink=false");
        assert_str(e->link,
                   "https://gazette.example/news/ferry?utm_source=rss&id=7",
                   "item link");
        assert_date(e->published, "2026-01-05T10:00:00Z", "pubDate");
        assert_str(e->summary, "<p>Summer sailings start <em>early</em>.</p>",
                   "description");
        assert_str(e->content,
                   "<p>Summer sailings start <em>early</em> this year.</p>"
                   "<p>Second paragraph.</p>",
                   "content:encoded");
        /* <author> and <dc:creator> name one person. */
        cr_assert_eq(e->n_authors, 1, "%zu authors", e->n_authors);
        assert_str(e->authors[0].name, "Ana Lima", "author name");
        assert_str(e->authors[0].email, "ana@gazette.example", "author email");
        cr_assert_eq(e->n_categories, 3, "categories incl. dc:subject");
        assert_str(e->categories[2], "Harbour", "dc:subject");
        cr_assert_eq(e->n_enclosures, 1);
        assert_str(e->enclosures[0].url,
                   "https://gazette.example/audio/ferry.mp3", "enclosure url");
        assert_str(e->enclosures[0].length, "123456", "enclosure length");
        assert_str(e->enclosures[0].type, "audio/mpeg", "enclosure type");

        e = &feed.entries[1];
        assert_str(e->link, "https://gazette.example/news/lighthouse",
                   "permalink guid as link");
        assert_date(e->published, "2026-01-04T16:45:00Z", "dc:date");
        nt_feed_free(&feed);
}

Test(feed, rss10_items_beside_the_channel)
{
        struct nt_feed feed;
        const struct nt_feed_entry *e;

        parse_fixture_ok("rss10-items-outside-channel.rdf", NULL, &feed);
        assert_str(feed.title, "RDF Site Summary", "image title ignored");
        assert_str(feed.language, "fr", "dc:language");
        e = &feed.entries[0];
        assert_str(e->id, "http://rdf.example/a", "rdf:about");
        assert_date(e->published, "2025-12-31T23:00:00Z", "dc:date");
        assert_str(e->authors[0].name, "Jean Dupont", "dc:creator");
        assert_str(e->categories[0], "Politique", "dc:subject");
        nt_feed_free(&feed);
}

Test(feed, atom10_text_constructs_links_and_people)
{
        struct nt_feed feed;
        const struct nt_feed_entry *e;

        parse_fixture_ok("atom10-full.xml", NULL, &feed);
        assert_str(feed.link, "https://nachrichten.example/",
                   "link without rel is alternate");
        assert_str(feed.subtitle, "Alles &amp; mehr", "text subtitle as HTML");
        assert_str(feed.language, "de", "xml:lang of the feed");
        assert_date(feed.updated, "2026-01-05T11:00:00Z", "feed updated");
        e = &feed.entries[0];
        assert_str(e->link, "https://nachrichten.example/gipfel", "alternate");
        cr_assert_eq(e->n_enclosures, 1, "rel=enclosure");
        assert_str(e->enclosures[0].url,
                   "https://nachrichten.example/gipfel.mp4", "enclosure href");
        assert_str(e->enclosures[0].length, "9876543", "enclosure length");
        assert_str(e->summary, "Kurz: Gipfel &lt;heute&gt;",
                   "text summary escaped");
        assert_str(
            e->content,
            "<p>Der Gipfel &amp; die <a "
            "href=\"https://nachrichten.example/x\">Folgen</a>.</p><br/>",
            "xhtml content without its div");
        assert_date(e->published, "2026-01-05T09:00:00Z", "published");
        assert_date(e->updated, "2026-01-05T10:30:00.250Z", "updated");
        cr_assert_eq(e->n_authors, 1, "source author ignored");
        assert_str(e->authors[0].name, "Eva Berg", "author");
        assert_str(e->authors[0].uri, "https://nachrichten.example/eva", "uri");
        assert_str(e->categories[0], "politik", "category term");
        e = &feed.entries[1];
        assert_str(e->content, "<p>HTML &amp; Text</p>", "html content");
        assert_date(e->updated, "2026-01-04T00:00:00Z", "date-only");
        cr_assert_eq(feed.n_authors, 1, "feed author kept in the model");
        nt_feed_free(&feed);
}

Test(feed, atom03_modes)
{
        struct nt_feed feed;
        const struct nt_feed_entry *e;

        parse_fixture_ok("atom03.xml", NULL, &feed);
        assert_str(feed.subtitle, "An old draft", "tagline");
        assert_date(feed.updated, "2004-12-02T10:00:00Z", "modified");
        e = &feed.entries[0];
        assert_str(e->summary, "<b>Bold</b> summary", "mode=escaped");
        assert_str(e->content, "<p>Base64 content</p>", "mode=base64");
        assert_date(e->published, "2004-12-01T13:00:00Z", "issued");
        assert_date(e->updated, "2004-12-01T09:00:00Z", "modified");
        assert_str(e->authors[0].uri, "http://zero3.example/me", "url");
        nt_feed_free(&feed);
}

Test(feed, jsonfeed11_items)
{
        struct nt_feed feed;
        const struct nt_feed_entry *e;

        parse_fixture_ok("jsonfeed11.json", "https://journal.example/feed.json",
                         &feed);
        assert_str(feed.link, "https://journal.example/", "home_page_url");
        assert_str(feed.language, "en", "language");
        e = &feed.entries[0];
        assert_str(e->summary, "A greeting", "summary");
        assert_str(e->content, "<p>Hi <b>there</b></p>", "content_html");
        assert_date(e->updated, "2026-01-02T22:00:00Z", "date_modified");
        assert_str(e->authors[0].uri, "https://journal.example/kim", "url");
        cr_assert_eq(e->n_categories, 2, "tags");
        assert_str(e->enclosures[0].length, "4242", "size_in_bytes");
        assert_str(e->language, "en-US", "item language");
        e = &feed.entries[1];
        assert_str(e->id, "2", "numeric id");
        assert_str(e->link, "https://journal.example/relative/2",
                   "relative url resolved");
        assert_str(e->content, "Text &lt;not html&gt;", "content_text");
        assert_date(e->published, NULL, "unreadable date");
        assert_str(e->published_raw, "not a date", "raw date kept");
        nt_feed_free(&feed);
}

/* ---- Encodings ------------------------------------------------------- */

struct encoding_case {
        char fixture[64];
        char content_type[64];
        char encoding[24];
        char title[64];
        char first_title[96];
        char error_has[48]; /* "": read as labelled, well-formed */
};

ParameterizedTestParameters(feed, encodings)
{
        static struct encoding_case cases[] = {
            {"rss20-windows-1251.xml", "", "windows-1251", "Новости дня",
             "Запорожская АЭС: гарантии безопасности", ""},
            {"rss20-koi8r.xml", "", "koi8-r", "Новости дня",
             "Запорожская АЭС: гарантии безопасности", ""},
            {"rss20-koi8r-http-charset.xml", "text/xml; charset=koi8-r",
             "koi8-r", "Новости дня", "Запорожская АЭС: гарантии безопасности",
             ""},
            {"rss20-utf16le-bom.xml", "", "utf-16le", "Новости дня",
             "Запорожская АЭС: гарантии безопасности", ""},
            {"rss20-windows-1252-labelled-iso-8859-1.xml", "", "windows-1252",
             "Café “quotes” – dash", "Crème brûlée € 5", ""},
            {"rss20-windows-1251.xml",
             "application/rss+xml; charset=windows-1251", "windows-1251",
             "Новости дня", "Запорожская АЭС: гарантии безопасности", ""},
            /* WHATWG: US-ASCII is a label of windows-1252. */
            {"rss20-us-ascii-labelled-windows-1252.xml", "", "windows-1252",
             "Harbour “Notes”", "The ferry don’t run on Sundays", ""},
            /* A single-byte label over UTF-8 bytes: the bytes win, from
             * the prolog and from HTTP alike. */
            {"rss20-utf8-labelled-iso-8859-1.xml", "", "utf-8", "Café du Port",
             "Crème brûlée – “menu” d’été", "bytes are UTF-8"},
            {"rss20-utf8-labelled-iso-8859-1.xml",
             "text/xml; charset=windows-1252", "utf-8", "Café du Port",
             "Crème brûlée – “menu” d’été", "bytes are UTF-8"},
            /* text/xml or text/plain without a charset: the prolog
             * decides (RFC 7303), not RFC 3023's US-ASCII default. */
            {"rss20-windows-1251.xml", "text/xml", "windows-1251",
             "Новости дня", "Запорожская АЭС: гарантии безопасности", ""},
            {"rss20-koi8r.xml", "text/plain", "koi8-r", "Новости дня",
             "Запорожская АЭС: гарантии безопасности", ""},
        };
        return cr_make_param_array(struct encoding_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct encoding_case *c, feed, encodings)
{
        struct nt_feed feed;
        int rc = parse_fixture(c->fixture,
                               c->content_type[0] ? c->content_type : NULL,
                               NULL, NULL, &feed);

        cr_assert_eq(rc, NT_OK, "%s: parse failed", c->fixture);
        cr_assert_str_eq(feed.encoding, c->encoding,
                         "%s (%s): encoding %s, want %s", c->fixture,
                         c->content_type, feed.encoding, c->encoding);
        if (c->error_has[0])
                cr_assert(!feed.wellformed && has_error(&feed, c->error_has),
                          "%s (%s): want not well-formed with \"%s\"",
                          c->fixture, c->content_type, c->error_has);
        else
                cr_assert(feed.wellformed, "%s (%s): not well-formed: %s",
                          c->fixture, c->content_type,
                          feed.n_errors ? feed.errors[0].message : "");
        assert_str(feed.title, c->title, c->fixture);
        assert_str(feed.entries[0].title, c->first_title, c->fixture);
        nt_feed_free(&feed);
}

/* ---- Media RSS ---------------------------------------------------- */

static void assert_enclosure(const struct nt_feed_entry *e, size_t i,
                             const char *url, const char *length,
                             const char *type, const char *what)
{
        char label[128];

        cr_assert_gt(e->n_enclosures, i, "%s: %zu enclosures, want more", what,
                     e->n_enclosures);
        snprintf(label, sizeof(label), "%s: url", what);
        assert_str(e->enclosures[i].url, url, label);
        snprintf(label, sizeof(label), "%s: length", what);
        assert_str(e->enclosures[i].length, length, label);
        snprintf(label, sizeof(label), "%s: type", what);
        assert_str(e->enclosures[i].type, type, label);
}

Test(feed, media_rss_elements_in_rss_items)
{
        struct nt_feed feed;
        const struct nt_feed_entry *e;

        parse_fixture_ok("rss20-media-rss.xml", NULL, &feed);
        cr_assert(feed.wellformed, "not well-formed");
        cr_assert_eq(feed.n_entries, 4, "%zu entries", feed.n_entries);

        e = &feed.entries[0];
        assert_str(e->title, "Morning <tide> report",
                   "media:title type=plain stands in for the title");
        assert_str(e->summary, "<p>Wind and <b>tides</b> for the bay.</p>",
                   "media:description type=html stands in for the summary");
        cr_assert_eq(e->n_categories, 2, "media:category: %zu categories",
                     e->n_categories);
        assert_str(e->categories[0], "shows/morning", "media:category text");
        assert_str(e->categories[1], "weather", "second media:category");
        cr_assert_eq(e->n_enclosures, 1,
                     "media:content audio only (thumbnail and image "
                     "content are pictures): %zu enclosures",
                     e->n_enclosures);
        assert_enclosure(e, 0, "http://radio.example/audio/001.mp3", "4823040",
                         "audio/mpeg", "media:content fileSize and type");

        e = &feed.entries[1];
        assert_str(e->title, "Evening report", "own title beats media:title");
        assert_str(e->summary, "The item's own description.",
                   "own description beats media:description");
        cr_assert_eq(e->n_enclosures, 1,
                     "enclosure and media:content of one file are one "
                     "enclosure; image/png content is a picture: %zu",
                     e->n_enclosures);
        assert_enclosure(e, 0, "http://radio.example/audio/002.mp3", "5120000",
                         "audio/mpeg",
                         "media:content fills the type <enclosure> lacks");

        e = &feed.entries[2];
        assert_str(e->title, "Archive: the old lighthouse",
                   "media:title inside media:content inside media:group");
        assert_str(e->summary, "Recorded in 1987.",
                   "media:description in media:group, plain text");
        cr_assert_eq(e->n_categories, 1, "media:category in media:group");
        assert_str(e->categories[0], "archive", "media:category in group");
        cr_assert_eq(e->n_enclosures, 2, "two renditions in media:group: %zu",
                     e->n_enclosures);
        assert_enclosure(e, 0, "http://radio.example/archive/003-low.mp3",
                         "1000", "audio/mpeg", "relative url against xml:base");
        assert_enclosure(e, 1, "http://radio.example/archive/003-high.mp3",
                         "3000", "audio/mpeg", "second rendition");

        e = &feed.entries[3];
        cr_assert_eq(e->n_categories, 1,
                     "namespace without the trailing slash: categories");
        assert_enclosure(e, 0, "http://radio.example/video/004.mp4", NULL,
                         "video/mp4", "namespace without the trailing slash");
        nt_feed_free(&feed);
}

/* YouTube's channel feeds: Atom entries whose text is only in their
 * media:group. */
Test(feed, media_group_gives_atom_entries_their_text)
{
        struct nt_feed feed;
        const struct nt_feed_entry *e;

        parse_fixture_ok("atom10-media-group-youtube.xml", NULL, &feed);
        cr_assert(feed.wellformed, "not well-formed: %s",
                  feed.n_errors ? feed.errors[0].message : "");
        cr_assert_eq(feed.n_entries, 2, "%zu entries", feed.n_entries);
        e = &feed.entries[0];
        assert_str(e->title, "Night ferry crossing", "entry title");
        assert_str(e->summary,
                   "The last boat of the day &amp; its crew.\nFilmed from "
                   "the upper deck.",
                   "media:description as the summary, escaped as HTML");
        cr_assert_eq(e->n_enclosures, 1, "media:content only: %zu enclosures",
                     e->n_enclosures);
        assert_enclosure(e, 0, "http://video.example/v/h4rb0ur0001?version=3",
                         NULL, "application/x-shockwave-flash",
                         "media:content in media:group");
        e = &feed.entries[1];
        assert_str(e->title, "Tide tables explained",
                   "own title beats media:title");
        assert_str(e->summary, "The entry's own summary.",
                   "own summary beats media:description");
        cr_assert_eq(e->n_enclosures, 0, "no media:content: %zu enclosures",
                     e->n_enclosures);
        nt_feed_free(&feed);
}

/* The picture an entry names, as the parse keeps it. */
static void assert_image(const struct nt_feed_entry *e, const char *url,
                         const char *type, int64_t width, int64_t height,
                         const char *what)
{
        char label[160];

        snprintf(label, sizeof(label), "%s: image url", what);
        assert_str(e->image.url, url, label);
        snprintf(label, sizeof(label), "%s: image type", what);
        assert_str(e->image.type, type, label);
        cr_assert_eq(e->image.width, width, "%s: width %lld, want %lld", what,
                     (long long)e->image.width, (long long)width);
        cr_assert_eq(e->image.height, height, "%s: height %lld, want %lld",
                     what, (long long)e->image.height, (long long)height);
}

/* Pictures are the entry's image, never enclosures: the larger of two
 * of a kind, a media:content image over a thumbnail, a lone image
 * enclosure when nothing else names one. */
Test(feed, media_pictures_are_the_entry_image)
{
        struct nt_feed feed;
        const struct nt_feed_entry *e;

        parse_fixture_ok("rss20-media-pictures.xml", NULL, &feed);
        cr_assert(feed.wellformed, "not well-formed");
        cr_assert_eq(feed.n_entries, 6, "%zu entries", feed.n_entries);
        e = &feed.entries[0];
        assert_image(e, "http://gazette.example/2026/04/bridge-large.jpg", NULL,
                     640, 427, "largest thumbnail, against xml:base");
        cr_assert_eq(e->n_enclosures, 0, "thumbnails are no enclosures");
        assert_image(&feed.entries[1], "http://gazette.example/img/market.webp",
                     "image/webp", 900, 600,
                     "media:content image over a larger thumbnail");
        cr_assert_eq(feed.entries[1].n_enclosures, 0,
                     "an image content is no enclosure");
        e = &feed.entries[2];
        assert_image(e, "http://gazette.example/img/orchard.jpg", "image/jpeg",
                     0, 0, "lone image enclosure");
        cr_assert_eq(e->n_enclosures, 1, "the enclosure stays one");
        e = &feed.entries[3];
        assert_image(e, NULL, NULL, 0, 0, "image among two enclosures");
        cr_assert_eq(e->n_enclosures, 2, "both enclosures kept");
        e = &feed.entries[4];
        assert_image(e, "http://gazette.example/img/ferry.jpg", NULL, 0, 360,
                     "thumbnail inside a video's media:content, width "
                     "unreadable");
        assert_enclosure(e, 0, "http://gazette.example/video/ferry.mp4", NULL,
                         "video/mp4", "the video is the enclosure");
        assert_image(&feed.entries[5], NULL, NULL, 0, 0,
                     "thumbnail without url");
        nt_feed_free(&feed);
}

/* A picture's sizes as feeds write them: a whole number from 1 to
 * INT32_MAX is kept, anything else is no size. A second thumbnail
 * replaces a first 1x1 one only when its area (as read) is larger. */
Test(feed, image_sizes_as_written)
{
        static const struct {
                const char *width, *height;
                int64_t want_w, want_h;
        } cases[] = {
            {"640", "427", 640, 427},
            {"2147483647", "2147483647", 2147483647, 2147483647},
            {"2147483648", "1", 0, 1},
            {"99999999999999999999999", "1", 0, 1},
            {"-5", "0", 0, 0},
            {"640px", " 427", 0, 0},
            {"", "1e3", 0, 0},
        };
        char doc[1024];
        struct nt_feed feed;
        size_t i;

        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                snprintf(doc, sizeof(doc),
                         "<rss version=\"2.0\" xmlns:media=\"http://search."
                         "yahoo.com/mrss/\"><channel><title>S</title><item>"
                         "<title>t</title>"
                         "<media:thumbnail url=\"http://s.example/a.jpg\" "
                         "width=\"1\" height=\"1\"/>"
                         "<media:thumbnail url=\"http://s.example/b.jpg\" "
                         "width=\"%s\" height=\"%s\"/>"
                         "</item></channel></rss>",
                         cases[i].width, cases[i].height);
                parse_str_ok(doc, NULL, &feed);
                cr_assert_eq(feed.n_entries, 1);
                if (cases[i].want_w * cases[i].want_h > 1)
                        assert_image(&feed.entries[0], "http://s.example/b.jpg",
                                     NULL, cases[i].want_w, cases[i].want_h,
                                     cases[i].width);
                else
                        assert_image(&feed.entries[0], "http://s.example/a.jpg",
                                     NULL, 1, 1, cases[i].width);
                nt_feed_free(&feed);
        }
}

Test(feed, jsonfeed_item_image)
{
        static const char doc[] =
            "{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"J\","
            "\"items\":[{\"id\":\"1\",\"url\":\"https://j.example/1\","
            "\"image\":\"/img/1.png\",\"banner_image\":\"/img/b.png\"},"
            "{\"id\":\"2\",\"attachments\":[{\"url\":\"https://j.example/2."
            "jpg\",\"mime_type\":\"image/jpeg\"}]}]}";
        struct nt_feed feed;
        char errstr[256] = "";

        nt_feed_init(&feed);
        cr_assert_eq(nt_feed_parse(doc, strlen(doc), NULL,
                                   "https://j.example/feed.json", NULL, &feed,
                                   errstr, sizeof(errstr)),
                     NT_OK, "%s", errstr);
        cr_assert_eq(feed.n_entries, 2);
        assert_image(&feed.entries[0], "https://j.example/img/1.png", NULL, 0,
                     0, "item image, resolved; not the banner");
        assert_image(&feed.entries[1], "https://j.example/2.jpg", "image/jpeg",
                     0, 0, "a lone image attachment");
        nt_feed_free(&feed);
}

/* ---- Entities and titles --------------------------------------------- */

struct title_case {
        char title_xml[80]; /* the <title> as written */
        char want[64];      /* the plain-text title */
        bool wellformed;
};

ParameterizedTestParameters(feed, entities)
{
        static struct title_case cases[] = {
            {"A &amp; B", "A & B", true},
            {"&#233;&#xE9;", "éé", true},
            {"caf&eacute; &mdash; bar", "café — bar", false},
            {"x&nbsp;y", "x\u00a0y", false},
            {"Q&A", "Q&A", false},
            {"&bogus; x", "&bogus; x", false},
            /* References to characters XML forbids, or written &#X: the
             * pre-scan must send them to the rewrite, else expat stops. */
            {"x &#1; y", "x \uFFFD y", false},
            {"x &#xD800; y", "x \uFFFD y", false},
            {"&#X41;BC", "ABC", false},
            {"AT&amp;amp;T", "AT&T", true},
            {"x &lt; y", "x < y", true},
            {"&lt;b&gt;Bold&lt;/b&gt; news", "Bold news", true},
            {"<![CDATA[<i>Cdata</i> & co]]>", "Cdata & co", true},
            {"  spaced \n\t out  ", "spaced out", true},
        };
        return cr_make_param_array(struct title_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct title_case *c, feed, entities)
{
        char doc[512], errstr[256] = "";
        struct nt_feed feed;
        int rc;

        snprintf(doc, sizeof(doc),
                 "<rss version=\"2.0\"><channel><title>%s</title></channel>"
                 "</rss>",
                 c->title_xml);
        rc = parse_str(doc, NULL, &feed, errstr, sizeof(errstr));
        cr_assert_eq(rc, NT_OK, "%s: %s", c->title_xml, errstr);
        assert_str(feed.title, c->want, c->title_xml);
        cr_assert_eq(feed.wellformed, c->wellformed, "%s: wellformed %d",
                     c->title_xml, feed.wellformed);
        nt_feed_free(&feed);
}

/* ---- Dates ------------------------------------------------------------ */

struct date_case {
        char text[64];
        char want[32]; /* RFC 3339, or empty: no date */
};

ParameterizedTestParameters(feed, dates)
{
        static struct date_case cases[] = {
            {"Mon, 05 Jan 2026 10:00:00 GMT", "2026-01-05T10:00:00Z"},
            {"5 Jan 2026 10:00 +0200", "2026-01-05T08:00:00Z"},
            {"Mon, 05 Jan 26 10:00:00 EST", "2026-01-05T15:00:00Z"},
            {"2026-01-05T10:00:00.5+01:00", "2026-01-05T09:00:00.500Z"},
            {"2026-01-05", "2026-01-05T00:00:00Z"},
            {"garbage", ""},
            {"", ""},
        };
        return cr_make_param_array(struct date_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct date_case *c, feed, dates)
{
        char doc[512];
        struct nt_feed feed;

        snprintf(doc, sizeof(doc),
                 "<rss version=\"2.0\"><channel><title>d</title><item><title>"
                 "e</title><pubDate>%s</pubDate></item></channel></rss>",
                 c->text);
        parse_str_ok(doc, NULL, &feed);
        assert_date(feed.entries[0].published, c->want, c->text);
        if (!c->want[0] && c->text[0])
                assert_str(feed.entries[0].published_raw, c->text,
                           "raw date kept");
        nt_feed_free(&feed);
}

/* ---- Relative URLs ----------------------------------------------------- */

Test(feed, xml_base_stacks_and_resolves)
{
        struct nt_feed feed;

        parse_fixture_ok("atom10-xml-base.xml", "http://ignored.example/feed",
                         &feed);
        assert_str(feed.link, "http://base.example/news/index.html",
                   "feed link against xml:base");
        assert_str(feed.entries[0].link,
                   "http://base.example/news/2026/story.html",
                   "relative xml:base on the entry");
        assert_str(feed.entries[0].content,
                   "<img src=\"http://base.example/media/pic.jpg\"> <a "
                   "href=\"http://other.example/abs\">abs</a>",
                   "URLs inside HTML content");
        assert_str(feed.entries[1].link, "http://base.example/about",
                   "dot-dot against the feed's base");
        nt_feed_free(&feed);
}

Test(feed, document_base_url)
{
        struct nt_feed feed;
        const struct nt_feed_entry *e;

        parse_fixture_ok("rss20-relative-links.xml",
                         "https://site.example/feeds/rss.xml", &feed);
        assert_str(feed.link, "https://site.example/", "channel link");
        e = &feed.entries[0];
        assert_str(e->link, "https://site.example/feeds/stories/42?ref=rss",
                   "item link");
        assert_str(e->enclosures[0].url,
                   "https://site.example/feeds/media/42.mp3", "enclosure");
        assert_str(e->summary,
                   "<a href=\"https://site.example/about\">about</a> <img "
                   "src='https://site.example/feeds/img/x.png'>",
                   "summary hrefs");
        nt_feed_free(&feed);
}

/* The reason a document is refused does not depend on how many other
 * errors were recorded before it. */
Test(feed, entity_refusal_survives_the_error_limit)
{
        static const char doc[] =
            "junk before the root <!DOCTYPE r [<!ENTITY a \"aaaa\">]>"
            "<rss version=\"2.0\"><channel><title>&a;</title></channel></rss>";
        struct nt_feed_limits lim;
        struct nt_feed feed;
        char errstr[256] = "";

        nt_feed_limits_init(&lim);
        lim.max_errors = 1;
        nt_feed_init(&feed);
        cr_assert_eq(nt_feed_parse(doc, strlen(doc), NULL, NULL, &lim, &feed,
                                   errstr, sizeof(errstr)),
                     NT_ERR_PARSE);
        cr_assert_not_null(strstr(errstr, "entity declarations"), "%s", errstr);
        nt_feed_free(&feed);
}

/* Blank URLs are no URLs: they used to come back from the resolver like
 * an allocation failure, and lost the whole feed. */
Test(feed, blank_urls_are_kept_or_absent)
{
        static const char rss[] =
            "<rss version=\"2.0\"><channel><title>t</title><item>"
            "<title>a</title><link>https://x.example/a</link><description>"
            "&lt;a href=\" \"&gt;b&lt;/a&gt; &lt;a href=\"rel\"&gt;c&lt;/a&gt;"
            "</description></item></channel></rss>";
        static const char atom[] =
            "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
            "xml:base=\"http://base.example/news/\"><title>t</title>"
            "<entry xml:base=\"\"><title>e</title><id>x</id>"
            "<link href=\"story.html\"/></entry></feed>";
        static const char json[] =
            "{\"version\": \"https://jsonfeed.org/version/1.1\", "
            "\"title\": \"t\", \"items\": [{\"id\": \"1\", \"url\": \" \", "
            "\"title\": \"x\", \"content_text\": \"y\"}]}";
        const char *base = "https://site.example/feeds/rss.xml";
        char errstr[256] = "";
        struct nt_feed feed;

        nt_feed_init(&feed);
        cr_assert_eq(nt_feed_parse(rss, strlen(rss), NULL, base, NULL, &feed,
                                   errstr, sizeof(errstr)),
                     NT_OK, "rss: %s", errstr);
        cr_assert_eq(feed.n_entries, 1);
        assert_str(feed.entries[0].summary,
                   "<a href=\" \">b</a> <a "
                   "href=\"https://site.example/feeds/rel\">c</a>",
                   "blank href kept as written");
        nt_feed_free(&feed);

        nt_feed_init(&feed);
        cr_assert_eq(nt_feed_parse(atom, strlen(atom), NULL, base, NULL, &feed,
                                   errstr, sizeof(errstr)),
                     NT_OK, "atom: %s", errstr);
        cr_assert_eq(feed.n_entries, 1);
        assert_str(feed.entries[0].link, "http://base.example/news/story.html",
                   "blank xml:base keeps the base in scope");
        nt_feed_free(&feed);

        nt_feed_init(&feed);
        cr_assert_eq(nt_feed_parse(json, strlen(json), NULL, base, NULL, &feed,
                                   errstr, sizeof(errstr)),
                     NT_OK, "json: %s", errstr);
        cr_assert_eq(feed.n_entries, 1);
        assert_str(feed.entries[0].link, NULL, "blank url is no link");
        nt_feed_free(&feed);
}

/* ---- Ill-formed documents: recovered ----------------------------------- */

struct broken_case {
        char fixture[64];
        size_t entries;
        unsigned long first_error_line;
        char last_title[40];
};

ParameterizedTestParameters(feed, recovered)
{
        static struct broken_case cases[] = {
            {"rss20-html-entities.xml", 1, 4, "Café & crème … €5 ☺"},
            {"rss20-stray-ampersand.xml", 1, 4, "Q&A: bread & butter"},
            {"rss20-control-chars.xml", 1, 4, "Bell in title"},
            {"rss20-truncated.xml", 2, 13, "Item in progress"},
            {"rss20-missing-close-tag.xml", 2, 10, "Second"},
            {"rss20-junk-after-root.xml", 1, 8, "Only item"},
            {"rss20-undeclared-prefix.xml", 1, 8, "Creator without xmlns"},
        };
        return cr_make_param_array(struct broken_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct broken_case *c, feed, recovered)
{
        struct nt_feed feed;
        int rc = parse_fixture(c->fixture, NULL, NULL, NULL, &feed);

        cr_assert_eq(rc, NT_OK, "%s: not recovered (%d)", c->fixture, rc);
        cr_assert(!feed.wellformed, "%s: reported well-formed", c->fixture);
        cr_assert_geq(feed.n_errors, 1, "%s: no error listed", c->fixture);
        cr_assert_eq(feed.errors[0].line, c->first_error_line,
                     "%s: first error on line %lu (%s), want %lu", c->fixture,
                     feed.errors[0].line, feed.errors[0].message,
                     c->first_error_line);
        cr_assert_eq(feed.n_entries, c->entries, "%s: %zu entries, want %zu",
                     c->fixture, feed.n_entries, c->entries);
        assert_str(feed.entries[feed.n_entries - 1].title, c->last_title,
                   c->fixture);
        nt_feed_free(&feed);
}

Test(feed, recovered_fields_are_complete)
{
        struct nt_feed feed;

        parse_fixture_ok("rss20-undeclared-prefix.xml", NULL, &feed);
        assert_str(feed.entries[0].authors[0].name, "Dana Scully",
                   "dc:creator read once declared");
        assert_str(feed.entries[0].content, "<p>Body</p>", "content:encoded");
        nt_feed_free(&feed);
        parse_fixture_ok("rss20-missing-close-tag.xml", NULL, &feed);
        assert_str(feed.entries[0].summary, "No end tag here",
                   "description closed at </item>");
        nt_feed_free(&feed);
}

/* ---- Nothing recoverable ---------------------------------------------- */

struct reject_case {
        char name[40];
        char doc[120]; /* inline document, when fixture is empty */
        char fixture[40];
        char errstr_has[48];
};

ParameterizedTestParameters(feed, rejected)
{
        static struct reject_case cases[] = {
            {"html page", "", "not-a-feed.html", "root element is <html>"},
            {"billion laughs", "", "billion-laughs.xml",
             "entity declarations are not allowed"},
            {"external entity", "", "xxe.xml",
             "entity declarations are not allowed"},
            {"empty", "", "", "not a feed"},
            {"plain text", "just some words", "", "not a feed"},
            {"truncated start", "<rss version=\"2.0\"><chan", "",
             "nothing readable"},
            {"json not a feed", "{\"hello\": \"world\"}", "", "not a feed"},
            {"broken json", "{\"version\": \"https://jsonfeed.org/version/1",
             "", "not a JSON Feed"},
        };
        return cr_make_param_array(struct reject_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct reject_case *c, feed, rejected)
{
        struct nt_feed feed;
        char errstr[256] = "";
        size_t len = 0;
        char *data = c->fixture[0] ? fixture(c->fixture, &len) : NULL;
        int rc;

        nt_feed_init(&feed);
        rc = nt_feed_parse(data ? data : c->doc, data ? len : strlen(c->doc),
                           NULL, NULL, NULL, &feed, errstr, sizeof(errstr));
        cr_assert_eq(rc, NT_ERR_PARSE, "%s: rc %d (%s)", c->name, rc, errstr);
        cr_assert_not_null(strstr(errstr, c->errstr_has),
                           "%s: errstr \"%s\" lacks \"%s\"", c->name, errstr,
                           c->errstr_has);
        cr_assert_eq(feed.n_entries, 0, "%s: entries", c->name);
        free(data);
        nt_feed_free(&feed);
}

Test(feed, external_entity_is_never_read)
{
        struct nt_feed feed;
        char *text;

        parse_fixture("xxe.xml", NULL, NULL, NULL, &feed);
        text = nt_feed_to_json_text(&feed, 0);
        cr_assert_not_null(text);
        cr_assert_null(strstr(text, "root:"), "file content leaked: %s", text);
        free(text);
        nt_feed_free(&feed);
}

/* ---- Limits ------------------------------------------------------------ */

Test(feed, deep_nesting_stops_at_the_limit)
{
        struct nt_feed feed;

        parse_fixture_ok("deep-nesting.xml", NULL, &feed);
        cr_assert(feed.truncated, "truncation flagged");
        cr_assert(has_error(&feed, "nested deeper than 64"), "error listed");
        cr_assert_eq(feed.n_entries, 2,
                     "entries before the limit, and the "
                     "one in progress with a title");
        assert_str(feed.entries[0].title, "Before the depth", "first entry");
        nt_feed_free(&feed);
}

/* The size check comes before any parsing: a document over the limit
 * gives no entries, however well formed. (The limit is small here; the
 * default is checked by value: allocating 32 MiB would test malloc.) */
Test(feed, oversized_document_is_refused_unread)
{
        static const char head[] = "<rss version=\"2.0\"><channel><title>x"
                                   "</title>";
        static const char item[] = "<item><title>i</title></item>";
        static const char tail[] = "</channel></rss>";
        struct nt_feed_limits lim;
        struct nt_feed feed;
        char errstr[256] = "", doc[8192];
        size_t off = 0;
        int rc;

        nt_feed_limits_init(&lim);
        cr_assert_eq(lim.max_document, (size_t)32 * 1024 * 1024,
                     "default limit");
        lim.max_document = 4096;
        memcpy(doc, head, sizeof(head) - 1);
        off = sizeof(head) - 1;
        while (off + sizeof(item) + sizeof(tail) < sizeof(doc)) {
                memcpy(doc + off, item, sizeof(item) - 1);
                off += sizeof(item) - 1;
        }
        memcpy(doc + off, tail, sizeof(tail) - 1);
        off += sizeof(tail) - 1;
        cr_assert_gt(off, lim.max_document);
        nt_feed_init(&feed);
        rc = nt_feed_parse(doc, off, NULL, NULL, &lim, &feed, errstr,
                           sizeof(errstr));
        cr_assert_eq(rc, NT_ERR_LIMIT, "rc %d: %s", rc, errstr);
        cr_assert_not_null(strstr(errstr, "limit"), "errstr: %s", errstr);
        cr_assert_eq(feed.n_entries, 0, "nothing parsed");
        nt_feed_free(&feed);
        /* The same document under the limit parses. */
        lim.max_document = sizeof(doc);
        nt_feed_init(&feed);
        cr_assert_eq(nt_feed_parse(doc, off, NULL, NULL, &lim, &feed, errstr,
                                   sizeof(errstr)),
                     NT_OK, "%s", errstr);
        cr_assert_gt(feed.n_entries, 100);
        nt_feed_free(&feed);
}

/* A feed of n items, each with three categories. */
static char *items_doc(int n)
{
        return nt_test_rss("<rss version=\"2.0\"><channel><title>Many</title>",
                           n,
                           "<item><title>Item %1$d</title><link>"
                           "http://many.example/%1$d</link><category>a"
                           "</category><category>b</category>"
                           "<category>c</category></item>");
}

Test(feed, entries_limit_truncates_visibly)
{
        struct nt_feed_limits lim;
        struct nt_feed feed;
        char *doc = items_doc(5);

        nt_feed_limits_init(&lim);
        lim.max_entries = 3;
        parse_str_ok(doc, &lim, &feed);
        cr_assert_eq(feed.n_entries, 3, "%zu entries", feed.n_entries);
        cr_assert(feed.truncated, "truncation flagged");
        cr_assert(feed.wellformed, "a limit is not ill-formedness");
        cr_assert(has_error(&feed, "more than 3 entries"), "error listed");
        nt_feed_free(&feed);
        free(doc);
}

Test(feed, list_limit_per_entry)
{
        struct nt_feed_limits lim;
        struct nt_feed feed;
        char *doc = items_doc(2);

        nt_feed_limits_init(&lim);
        lim.max_list = 2;
        parse_str_ok(doc, &lim, &feed);
        cr_assert_eq(feed.entries[0].n_categories, 2, "categories cut");
        cr_assert_eq(feed.entries[1].n_categories, 2, "categories cut");
        cr_assert(feed.truncated, "truncation flagged");
        cr_assert_eq(feed.n_errors, 2,
                     "one error per cut list, not per "
                     "value");
        nt_feed_free(&feed);
        free(doc);
}

Test(feed, field_limit_cuts_at_a_character)
{
        struct nt_feed_limits lim;
        struct nt_feed feed;
        /* 'é' is two bytes: a cut at 10 bytes falls inside the fifth. */
        const char *doc = "<rss version=\"2.0\"><channel><title>"
                          "abcdéééééé</title><item><title>short</title>"
                          "</item></channel></rss>";

        nt_feed_limits_init(&lim);
        lim.max_field = 10;
        parse_str_ok(doc, &lim, &feed);
        assert_str(feed.title, "abcdééé", "cut before the split character");
        cr_assert(feed.truncated, "truncation flagged");
        cr_assert(has_error(&feed, "title longer than 10 bytes"), "error");
        assert_str(feed.entries[0].title, "short", "the next field is whole");
        nt_feed_free(&feed);
}

Test(feed, json_feed_limits)
{
        struct nt_feed_limits lim;
        struct nt_feed feed;

        nt_feed_limits_init(&lim);
        lim.max_entries = 1;
        lim.max_field = 8;
        cr_assert_eq(parse_fixture("jsonfeed11.json", NULL, NULL, &lim, &feed),
                     NT_OK);
        cr_assert_eq(feed.n_entries, 1, "entries cut");
        assert_str(feed.title, "JSON Jou", "title cut at the field limit");
        cr_assert(has_error(&feed, "more than 1 entries"), "error listed");
        nt_feed_free(&feed);
}

Test(feed, errors_are_bounded)
{
        struct nt_feed_limits lim;
        struct nt_feed feed;
        const char *doc = "<rss version=\"2.0\"><channel><title>\x01t</title>"
                          "<item><title>a & b</title></item><foo></bar>"
                          "</channel></rss>";

        nt_feed_limits_init(&lim);
        lim.max_errors = 1;
        parse_str_ok(doc, &lim, &feed);
        cr_assert_eq(feed.n_errors, 1, "errors kept");
        cr_assert_geq(feed.errors_dropped, 1, "the rest counted");
        nt_feed_free(&feed);
}

/* ---- People ----------------------------------------------------------- */

struct person_case {
        char text[64];
        char name[32];
        char email[32];
};

ParameterizedTestParameters(feed, rss_people)
{
        static struct person_case cases[] = {
            {"jo@example.com (Jo Bloggs)", "Jo Bloggs", "jo@example.com"},
            {"Jo Bloggs <jo@example.com>", "Jo Bloggs", "jo@example.com"},
            {"Jo Bloggs (jo@example.com)", "Jo Bloggs", "jo@example.com"},
            {"mailto:jo@example.com", "", "jo@example.com"},
            {"Jo Bloggs", "Jo Bloggs", ""},
            {"  Jo  ", "Jo", ""},
        };
        return cr_make_param_array(struct person_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct person_case *c, feed, rss_people)
{
        char *name, *email;

        cr_assert_eq(nt_feed_split_person(c->text, &name, &email), NT_OK);
        assert_str(name, c->name[0] ? c->name : NULL, c->text);
        assert_str(email, c->email[0] ? c->email : NULL, c->text);
        free(name);
        free(email);
}

/* ---- The JSON contract ------------------------------------------------ */

Test(feed, json_contract_keys)
{
        static const char *const top[] = {"format", "wellformed", "encoding",
                                          "errors", "feed",       "entries"};
        static const char *const feed_keys[] = {"title", "link", "subtitle",
                                                "updated", "language"};
        static const char *const entry_keys[] = {
            "id",      "title",   "link",    "published",  "updated",
            "summary", "content", "authors", "categories", "enclosures"};
        struct nt_feed feed;
        json_t *j, *e;
        char *text;
        size_t i;

        parse_fixture_ok("rss20-full.xml", NULL, &feed);
        text = nt_feed_to_json_text(&feed, 0);
        cr_assert_not_null(text);
        j = json_loads(text, 0, NULL);
        free(text);
        cr_assert_not_null(j);
        for (i = 0; i < sizeof(top) / sizeof(top[0]); i++)
                cr_assert_not_null(json_object_get(j, top[i]), "key %s",
                                   top[i]);
        for (i = 0; i < sizeof(feed_keys) / sizeof(feed_keys[0]); i++)
                cr_assert_not_null(
                    json_object_get(json_object_get(j, "feed"), feed_keys[i]),
                    "feed key %s", feed_keys[i]);
        e = json_array_get(json_object_get(j, "entries"), 0);
        for (i = 0; i < sizeof(entry_keys) / sizeof(entry_keys[0]); i++)
                cr_assert_not_null(json_object_get(e, entry_keys[i]),
                                   "entry key %s", entry_keys[i]);
        nt_test_assert_json_str(e, "published", "2026-01-05T10:00:00Z");
        cr_assert(json_is_null(json_object_get(e, "updated")), "null date");
        nt_test_assert_json_str(j, "format", "rss20");
        json_decref(j);
        nt_feed_free(&feed);
}

/* Valid UTF-8 is parsed in place, so the parser must never read past the
 * input: each document sits in a buffer of exactly its size, where ASan
 * catches a single byte read beyond it. (Found by the fuzzer.) */
Test(feed, input_without_terminating_nul)
{
        static const char *const docs[] = {
            "<!DOCTYPE r [<!ENTITY a \"aaaa\">]><rss><channel><title>&a;"
            "</title></channel></rss>",
            "<rss version=\"2.0\"><channel><title>A &",
            "<rss version=\"2.0\"><channel><title>A &amp; B</title>"
            "<item><title>x &nbsp</title></item></channel></rss>",
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title>"
            "<entry><title><![CDATA[a & b",
        };
        size_t i;

        for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
                size_t len = strlen(docs[i]);
                char *exact = malloc(len);
                struct nt_feed feed;
                char err[256] = "";
                int rc;

                cr_assert_not_null(exact);
                memcpy(exact, docs[i], len);
                nt_feed_init(&feed);
                rc = nt_feed_parse(exact, len, NULL, NULL, NULL, &feed, err,
                                   sizeof(err));
                /* Besides ASan's verdict: an answer, not a crash or an
                 * allocation failure. */
                cr_assert(rc == NT_OK || rc == NT_ERR_PARSE, "doc %zu: %s (%s)",
                          i, nt_err_name(rc), err);
                nt_feed_free(&feed);
                free(exact);
        }
}

Test(feed, a_cut_is_flagged_on_its_entry_and_named)
{
        struct nt_feed_limits lim;
        struct nt_feed feed;
        char what[512];
        const char *json = "{\"version\": \"https://jsonfeed.org/version/1.1\","
                           " \"title\": \"J\", \"items\": [{\"id\": \"1\","
                           " \"content_text\": \"a long text\"},"
                           " {\"id\": \"2\", \"content_text\": \"ok\"}]}";

        nt_feed_limits_init(&lim);
        lim.max_field = 4;
        parse_str_ok(json, &lim, &feed);
        cr_assert_eq(feed.n_entries, 2);
        cr_assert_eq(feed.cuts, NT_FEED_CUT_FIELD, "cuts %#x", feed.cuts);
        cr_assert_eq(feed.entries[0].cuts, NT_FEED_CUT_FIELD, "entry 0");
        cr_assert_eq(feed.entries[1].cuts, 0, "entry 1 is whole");
        nt_feed_cut_describe(&feed, NT_FEED_CUT_FIELD, what, sizeof(what));
        cr_assert_not_null(strstr(what, "cut by the field limit 1 time(s)"),
                           "%s", what);
        cr_assert_not_null(strstr(what, "1 of the 2 entries kept were cut"),
                           "%s", what);
        cr_assert_str_eq(nt_feed_cut_name(NT_FEED_CUT_DEPTH), "depth");
        cr_assert_str_eq(
            nt_feed_cut_name(NT_FEED_CUT_DEPTH | NT_FEED_CUT_FIELD), "",
            "one bit at a time");
        nt_feed_free(&feed);
}

/* The feed's JSON is written directly, not dumped from a jansson tree:
 * read back and dumped by jansson it gives the same bytes, compact and
 * indented, on feeds with errors, cuts, raw dates, control characters
 * and pictures (an entry's "image" object). */
Test(feed, json_text_is_janssons_layout)
{
        static const char *const names[] = {"rss20-full.xml",
                                            "atom10-full.xml",
                                            "rss20-missing-close-tag.xml",
                                            "rss20-truncated.xml",
                                            "rss20-control-chars.xml",
                                            "deep-nesting.xml",
                                            "jsonfeed11.json",
                                            "rss20-koi8r.xml",
                                            "rss20-media-pictures.xml"};
        struct nt_feed_limits lim;
        struct nt_feed feed;
        char *text, *again;
        json_t *j;
        size_t i;
        int indent;

        nt_feed_limits_init(&lim);
        lim.max_entries = 2; /* a cut on the feeds with more */
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                parse_fixture(names[i], NULL, NULL, &lim, &feed);
                for (indent = 0; indent <= 4; indent += 2) {
                        text = nt_feed_to_json_text(&feed, indent);
                        cr_assert_not_null(text, "%s", names[i]);
                        j = json_loads(text, 0, NULL);
                        cr_assert_not_null(j, "%s: not JSON", names[i]);
                        again = json_dumps(j, JSON_PRESERVE_ORDER |
                                                  (indent ? JSON_INDENT(indent)
                                                          : JSON_COMPACT));
                        cr_assert_str_eq(text, again, "%s, indent %d", names[i],
                                         indent);
                        free(again);
                        free(text);
                        json_decref(j);
                }
                nt_feed_free(&feed);
        }
}
