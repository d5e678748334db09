/* The article model: stable ids, revisions that follow the text, and the
 * JSON the producer publishes (one line, schema-tagged, readable back). */
#include "common/article.h"
#include "common/err.h"
#include "common/feed.h"
#include "common/feed_parse.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One RSS item in a feed; `extra` goes inside the item. */
static void one_item(char *buf, size_t size, const char *extra)
{
        snprintf(buf, size,
                 "<rss version=\"2.0\"><channel><title>Wire</title><link>"
                 "https://wire.example/</link><item>%s</item></channel></rss>",
                 extra);
}

/* The article of the first entry of doc, from feed_url. */
static void article_of(const char *doc, const char *feed_url,
                       struct nt_article *art)
{
        struct nt_feed feed;
        char errstr[256] = "";
        int rc;

        nt_feed_init(&feed);
        rc = nt_feed_parse(doc, strlen(doc), NULL, NULL, NULL, &feed, errstr,
                           sizeof(errstr));
        cr_assert_eq(rc, NT_OK, "parse: %s", errstr);
        cr_assert_geq(feed.n_entries, 1, "no entry in %s", doc);
        nt_article_init(art);
        rc =
            nt_article_from_entry(&feed, &feed.entries[0], feed_url,
                                  1767225600000LL, art, errstr, sizeof(errstr));
        cr_assert_eq(rc, NT_OK, "article: %s", errstr);
        nt_feed_free(&feed);
}

/* The article of a feed holding one item (`item` inside <item>). */
static void item_article(const char *item, const char *feed_url,
                         struct nt_article *art)
{
        char doc[2048];

        one_item(doc, sizeof(doc), item);
        article_of(doc, feed_url, art);
}

#define STORY                                              \
        "<title>Dam inspection</title>"                    \
        "<link>https://wire.example/dam</link>"            \
        "<guid>wire-1</guid>"                              \
        "<pubDate>Mon, 05 Jan 2026 10:00:00 GMT</pubDate>" \
        "<description>&lt;p&gt;Inspectors "                \
        "&lt;b&gt;arrive&lt;/b&gt;.&lt;/p&gt;"             \
        "</description>"

static const char story[] = STORY;

Test(article, same_item_twice_same_id_and_revision)
{
        struct nt_article a, b;

        item_article(story, "https://wire.example/rss", &a);
        item_article(story, "https://wire.example/rss", &b);
        cr_assert_str_eq(a.id, b.id, "id changed between polls");
        cr_assert_str_eq(a.revision, b.revision, "revision changed");
        cr_assert_eq(strlen(a.id), 32, "id is 32 hex digits: %s", a.id);
        cr_assert_eq(strlen(a.revision), 16, "revision is 16 hex digits");
        cr_assert_eq(strspn(a.id, "0123456789abcdef"), 32, "hex id %s", a.id);
        nt_article_free(&a);
        nt_article_free(&b);
}

/* Two articles and what their ids and revisions must do. */
enum want { ANY, SAME, DIFFERENT };

/* Arrays, not pointers: Criterion hands the parameters to each test's
 * own process, where a pointer into this one's data means nothing. */
struct pair_case {
        char name[64];
        char item_a[256], feed_a[64]; /* inside <item>, and the feed URL */
        char item_b[256], feed_b[64];
        enum want id, revision;
};

#define WIRE "https://wire.example/rss"
#define ONE  "https://one.example/rss"
#define NOTICE_MON                                                 \
        "<title>Notice</title><pubDate>Mon, 05 Jan 2026 10:00:00 " \
        "GMT</pubDate>"

ParameterizedTestParameters(article, id_and_revision)
{
        static struct pair_case cases[] = {
            {"an edit keeps the id and changes the revision", STORY, WIRE,
             "<title>Dam inspection</title>"
             "<link>https://wire.example/dam</link><guid>wire-1</guid>"
             "<description>Inspectors arrived and left.</description>",
             WIRE, SAME, DIFFERENT},
            {"the revision follows the text, not the markup", STORY, WIRE,
             "<title>Dam inspection</title>"
             "<link>https://wire.example/dam</link>"
             "<description>&lt;div&gt;Inspectors "
             "&lt;i&gt;arrive&lt;/i&gt;.&lt;/div&gt;</description>",
             WIRE, ANY, SAME},
            {"one story in two feeds, one id", STORY, WIRE,
             "<title>Dam inspection (regional)</title>"
             "<link>https://WIRE.example/dam#top</link><guid>other-9</guid>",
             "https://regional.example/feed", SAME, ANY},
            {"utm_* and fbclid do not count",
             "<title>T</title><link>https://wire.example/dam?id=4</link>", WIRE,
             "<title>T</title><link>https://wire.example/dam?utm_source="
             "rss&amp;id=4&amp;utm_medium=feed&amp;fbclid=x</link>",
             WIRE, SAME, ANY},
            {"no link: same feed, same guid",
             "<title>T</title><guid>g-1</guid>", ONE,
             "<title>T</title><guid>g-1</guid>", ONE, SAME, ANY},
            {"no link: a guid is only unique in its feed",
             "<title>T</title><guid>g-1</guid>", ONE,
             "<title>T</title><guid>g-1</guid>", "https://two.example/rss",
             DIFFERENT, ANY},
            {"no link or guid: title and date are stable", NOTICE_MON, ONE,
             NOTICE_MON, ONE, SAME, ANY},
            {"no link or guid: another day, another notice", NOTICE_MON, ONE,
             "<title>Notice</title><pubDate>Tue, 06 Jan 2026 10:00:00 "
             "GMT</pubDate>",
             ONE, DIFFERENT, ANY},
        };

        return cr_make_param_array(struct pair_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

static void expect(enum want want, const char *a, const char *b,
                   const char *what, const char *name)
{
        if (want == SAME)
                cr_assert_str_eq(a, b, "%s: %s %s vs %s", name, what, a, b);
        if (want == DIFFERENT)
                cr_assert_str_neq(a, b, "%s: the same %s %s", name, what, a);
}

ParameterizedTest(struct pair_case *c, article, id_and_revision)
{
        struct nt_article a, b;

        item_article(c->item_a, c->feed_a, &a);
        item_article(c->item_b, c->feed_b, &b);
        expect(c->id, a.id, b.id, "id", c->name);
        expect(c->revision, a.revision, b.revision, "revision", c->name);
        nt_article_free(&a);
        nt_article_free(&b);
}

/* Credentials of the feed URL stay out of the article, yet the id is
 * computed as it always was (this id is what newstap gave this item
 * before credentials were taken out), so no article changes its key. */
Test(article, feed_credentials_left_out_id_unchanged)
{
        struct nt_article a;
        char *line;

        item_article(
            "<title>T</title><guid>g-1</guid><enclosure "
            "url=\"https://u:p@one.example/a.mp3\" type=\"audio/mpeg\" "
            "length=\"1\"/>",
            "https://u:p@one.example/rss", &a);
        cr_assert_str_eq(a.id, "3655316f431004684e6c2a70bd5f0b28",
                         "the id changed");
        cr_assert_str_eq(a.feed_url, "https://one.example/rss");
        line = nt_article_to_json_line(&a);
        cr_assert_null(strstr(line, "u:p@"), "credentials in %s", line);
        free(line);
        nt_article_free(&a);
}

/* The line with its length (what replay hands to the publisher without
 * a strlen): the same bytes as nt_article_to_json_line(), the length
 * theirs, for an article with every kind of member. */
Test(article, json_line_len_is_the_line_and_its_length)
{
        struct nt_article a;
        size_t len = 0;
        char *line, *again;

        item_article("<title>Dam &amp; \"river\"</title><guid>g-2</guid>"
                     "<category>Weather</category><enclosure "
                     "url=\"https://one.example/a.mp3\" type=\"audio/mpeg\" "
                     "length=\"12\"/><description>&lt;p&gt;Water is "
                     "high.&lt;/p&gt;</description>",
                     "https://one.example/rss", &a);
        line = nt_article_to_json_line(&a);
        again = nt_article_to_json_line_len(&a, &len);
        cr_assert_not_null(line);
        cr_assert_not_null(again);
        cr_assert_str_eq(again, line);
        cr_assert_eq(len, strlen(line), "length %zu, line of %zu", len,
                     strlen(line));
        free(line);
        free(again);
        nt_article_free(&a);
}

Test(article, plain_text_and_fields)
{
        struct nt_article a;

        item_article(story, "https://wire.example/rss", &a);
        cr_assert_str_eq(a.summary, "Inspectors arrive.", "summary: %s",
                         a.summary);
        cr_assert_str_eq(a.title, "Dam inspection");
        cr_assert_str_eq(a.url, "https://wire.example/dam");
        cr_assert_str_eq(a.guid, "wire-1");
        cr_assert_str_eq(a.feed_url, "https://wire.example/rss");
        cr_assert_str_eq(a.feed_title, "Wire");
        cr_assert_eq(a.fetched, 1767225600000LL);
        nt_article_free(&a);
}

/* Reads `j`, the JSON of `line`, back into `b` (initialised here; the
 * caller frees it), which must succeed and give `line` again. */
static void read_back(json_t *j, const char *line, struct nt_article *b)
{
        char errstr[256] = "", *again;

        nt_article_init(b);
        cr_assert_eq(nt_article_from_json(j, b, errstr, sizeof(errstr)), NT_OK,
                     "%s", errstr);
        again = nt_article_to_json_line(b);
        cr_assert_str_eq(again, line, "round trip changed the article");
        free(again);
}

Test(article, json_line_round_trip)
{
        struct nt_article a, b;
        char *line;
        json_error_t jerr;
        json_t *j;

        item_article(
            "<title>Ünïcode “quotes”</title>"
            "<link>https://wire.example/u</link>"
            "<author>ed@wire.example (Ed)</author><category>a</category>"
            "<enclosure url=\"https://wire.example/u.mp3\" length=\"12\" "
            "type=\"audio/mpeg\"/>",
            "https://wire.example/rss", &a);
        line = nt_article_to_json_line(&a);
        cr_assert_not_null(line);
        cr_assert_null(strchr(line, '\n'), "one line: %s", line);
        j = json_loads(line, 0, &jerr);
        cr_assert_not_null(j, "not JSON: %s", jerr.text);
        nt_test_assert_json_str(j, "schema", NT_ARTICLE_SCHEMA);
        nt_test_assert_json_str(j, "fetched", "2026-01-01T00:00:00Z");
        cr_assert(
            json_is_integer(json_object_get(
                json_array_get(json_object_get(j, "enclosures"), 0), "length")),
            "enclosure length is a number");
        read_back(j, line, &b);
        free(line);
        json_decref(j);
        nt_article_free(&a);
        nt_article_free(&b);
}

/* What a page or picture adds to an article (its picture, where its
 * text came from, why not from the page) is part of the article: a line
 * read back and written again keeps it, as replay of JSON lines does. */
Test(article, picture_and_source_survive_a_round_trip)
{
        static const char *const sources[] = {NULL, "feed", "page"};
        struct nt_article a, b;
        char doc[2048], *line;
        json_t *j;
        size_t i;

        one_item(doc, sizeof(doc),
                 "<title>Orchard</title><link>https://wire.example/o</link>"
                 "<media:thumbnail xmlns:media=\"http://search.yahoo.com/mrss/"
                 "\" url=\"https://wire.example/o.jpg\" width=\"300\" "
                 "height=\"200\"/>");
        for (i = 0; i < 3; i++) {
                article_of(doc, "https://wire.example/rss", &a);
                cr_assert_str_eq(a.image.url, "https://wire.example/o.jpg");
                cr_assert_eq(nt_article_set_source(&a,
                                                   (enum nt_article_source)i,
                                                   i == 1 ? "HTTP 404" : NULL),
                             NT_OK);
                line = nt_article_to_json_line(&a);
                j = json_loads(line, 0, NULL);
                cr_assert_not_null(j, "not JSON: %s", line);
                cr_assert_eq(json_integer_value(json_object_get(
                                 json_object_get(j, "image"), "width")),
                             300, "image width in %s", line);
                if (sources[i])
                        cr_assert_str_eq(json_string_value(json_object_get(
                                             j, "content_source")),
                                         sources[i], "%s", line);
                else
                        cr_assert_null(json_object_get(j, "content_source"),
                                       "no source said: %s", line);
                read_back(j, line, &b);
                cr_assert_eq(b.content_source, (enum nt_article_source)i);
                free(line);
                json_decref(j);
                nt_article_free(&a);
                nt_article_free(&b);
        }
}

/* A content_source that is neither "feed" nor "page" is refused, naming
 * the field. */
Test(article, from_json_rejects_unknown_content_source)
{
        struct nt_article a;
        char errstr[256] = "";
        json_t *j =
            json_pack("{s:s, s:s, s:s, s:s}", "schema", NT_ARTICLE_SCHEMA, "id",
                      "00000000000000000000000000000000", "revision",
                      "0000000000000000", "content_source", "cache");

        nt_article_init(&a);
        cr_assert_eq(nt_article_from_json(j, &a, errstr, sizeof(errstr)),
                     NT_ERR_PARSE);
        cr_assert_not_null(strstr(errstr, "content_source"), "%s", errstr);
        json_decref(j);
}

/* A member of "image" of the wrong type is refused, and the error says
 * it is the image's member, not the article's own "url" or "type". */
Test(article, from_json_names_the_image_member)
{
        static const char *const docs[] = {
            "{\"url\": 5}",
            "{\"url\": \"https://wire.example/p.jpg\", \"type\": []}",
        };
        static const char *const want[] = {"\"image\".\"url\"",
                                           "\"image\".\"type\""};
        struct nt_article a;
        char errstr[256];
        size_t i;

        for (i = 0; i < 2; i++) {
                json_t *j = json_pack(
                    "{s:s, s:s, s:s, s:s, s:o}", "schema", NT_ARTICLE_SCHEMA,
                    "id", "00000000000000000000000000000000", "revision",
                    "0000000000000000", "url", "https://wire.example/p",
                    "image", json_loads(docs[i], 0, NULL));

                cr_assert_not_null(j);
                errstr[0] = '\0';
                nt_article_init(&a);
                cr_assert_eq(
                    nt_article_from_json(j, &a, errstr, sizeof(errstr)),
                    NT_ERR_PARSE, "%s", docs[i]);
                cr_assert_not_null(strstr(errstr, want[i]),
                                   "%s: error \"%s\" does not name %s", docs[i],
                                   errstr, want[i]);
                json_decref(j);
        }
}

Test(article, from_json_rejects_other_schemas)
{
        struct nt_article a;
        char errstr[256] = "";
        json_t *j = json_pack("{s:s, s:s, s:s}", "schema", "other/1", "id",
                              "00000000000000000000000000000000", "revision",
                              "0000000000000000");

        nt_article_init(&a);
        cr_assert_eq(nt_article_from_json(j, &a, errstr, sizeof(errstr)),
                     NT_ERR_PARSE);
        json_object_set_new(j, "schema", json_string(NT_ARTICLE_SCHEMA));
        json_object_set_new(j, "id", json_string("xyz"));
        cr_assert_eq(nt_article_from_json(j, &a, errstr, sizeof(errstr)),
                     NT_ERR_PARSE);
        cr_assert_not_null(strstr(errstr, "\"id\""), "names the field: %s",
                           errstr);
        json_decref(j);
}

Test(article, atom_entry_inherits_feed_authors)
{
        static const char doc[] =
            "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>F</title>"
            "<author><name>Feed Author</name></author><entry><id>urn:e1</id>"
            "<title>E</title></entry></feed>";
        struct nt_article a;

        article_of(doc, "https://atom.example/feed", &a);
        cr_assert_eq(a.n_authors, 1);
        cr_assert_str_eq(a.authors[0].name, "Feed Author");
        nt_article_free(&a);
}

/* The line is written directly, not dumped from a jansson tree: its bytes
 * are jansson's for the same article, with every string that needs an
 * escape or a repair (quotes, backslashes, every C0 control, DEL, '/',
 * non-ASCII, bytes that are not UTF-8, truncated sequences, overlong
 * forms and surrogates), empty and full lists, and absent values. */
Test(article, json_line_is_janssons_dump)
{
        static const char *const strings[] = {
            "plain",
            "quote \" backslash \\ slash / del \x7F",
            "\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0B\x0C\r\x0E\x0F\x10\x1F",
            "Запорізька АЕС — “quoted” €, 𝄞 and 😀",
            "bad \xFF byte, cut \xE2\x82, lone \x80",
            "overlong \xC0\xAF and \xE0\x80\xAF, surrogate \xED\xA0\x80",
            "past Unicode \xF4\x90\x80\x80, last \xF4\x8F\xBF\xBF",
            "",
        };
        const size_t n = sizeof(strings) / sizeof(strings[0]);
        struct nt_feed_person authors[2];
        struct nt_feed_enclosure enc[3];
        char *cats[sizeof(strings) / sizeof(strings[0])];
        struct nt_article a;
        size_t i, round;
        json_t *tree;
        char *want, *got;

        for (round = 0; round < n + 1; round++) {
                const char *s = round < n ? strings[round] : NULL;

                nt_article_init(&a);
                memcpy(a.id, "0123456789abcdef0123456789abcdef", 33);
                memcpy(a.revision, "0123456789abcdef", 17);
                /* Fields borrowed from the table: the article is not
                 * freed with nt_article_free(). */
                a.feed_url = (char *)s;
                a.feed_title = (char *)strings[(round + 1) % n];
                a.title = (char *)s;
                a.summary = (char *)strings[(round + 2) % n];
                a.content = (char *)s;
                a.language = round % 2 ? NULL : (char *)"uk";
                a.published = round % 3 ? 1767225600123LL : NT_FEED_NO_DATE;
                a.fetched = -86400000LL * (int64_t)round;
                if (round % 2 == 0) {
                        authors[0] = (struct nt_feed_person){
                            (char *)s, NULL, (char *)strings[round % n]};
                        authors[1] = (struct nt_feed_person){
                            (char *)strings[(round + 3) % n], (char *)s, NULL};
                        a.authors = authors;
                        a.n_authors = 2;
                        for (i = 0; i < n; i++)
                                cats[i] = (char *)strings[(round + i) % n];
                        a.categories = cats;
                        a.n_categories = n;
                        enc[0] = (struct nt_feed_enclosure){
                            (char *)"https://x.example/a b", (char *)"12345",
                            (char *)s};
                        enc[1] = (struct nt_feed_enclosure){
                            NULL, (char *)"12 kB", NULL};
                        enc[2] = (struct nt_feed_enclosure){
                            (char *)s, (char *)"9223372036854775807", NULL};
                        a.enclosures = enc;
                        a.n_enclosures = 3;
                }
                /* The members written only when set: a picture (with
                 * and without sizes), where the text came from, and why
                 * not from the page. */
                if (round % 3 != 1) {
                        a.image.url = (char *)strings[(round + 4) % n];
                        a.image.type = round % 2 ? NULL : (char *)s;
                        a.image.width = round % 3 ? 640 : 0;
                        a.image.height = round % 3 ? 0 : 480;
                }
                a.content_source = (enum nt_article_source)(round % 3);
                a.page_error = round % 3 == 1 ? (char *)s : NULL;
                tree = nt_article_to_json(&a);
                cr_assert_not_null(tree);
                want = json_dumps(tree, JSON_COMPACT | JSON_PRESERVE_ORDER);
                got = nt_article_to_json_line(&a);
                cr_assert_not_null(want);
                cr_assert_not_null(got);
                cr_assert_str_eq(got, want, "round %zu", round);
                free(want);
                free(got);
                json_decref(tree);
        }
}

/* The writer skips plain text 16 bytes at a time (ASCII and two-byte
 * characters; a block ending inside a character 15): a character that
 * needs an escape or a repair, or a longer character, is written as
 * jansson writes it at any offset after any alignment. */
Test(article, json_line_escapes_at_every_offset)
{
        static const char *const odd[] = {"\"",   "\\",           "\n",  "\x01",
                                          "\xFF", "\xE2\x80\x94", "\xD0"};
        char text[96];
        struct nt_article a;
        size_t pre, at, k, len;
        json_t *tree;
        char *want, *got;

        for (pre = 0; pre < 16; pre++) {
                for (at = 0; at < 24; at++) {
                        for (k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
                                /* pre ASCII bytes, Cyrillic letters with
                                 * odd[k] after the at-th. */
                                memset(text, 'a', pre);
                                len = pre;
                                for (size_t l = 0; l < 24; l++) {
                                        memcpy(text + len, "\xD0\xB6", 2);
                                        len += 2;
                                        if (l == at) {
                                                memcpy(text + len, odd[k],
                                                       strlen(odd[k]));
                                                len += strlen(odd[k]);
                                        }
                                }
                                text[len] = '\0';
                                nt_article_init(&a);
                                memcpy(a.id, "0123456789abcdef0123456789abcdef",
                                       33);
                                memcpy(a.revision, "0123456789abcdef", 17);
                                a.content = text; /* borrowed, not freed */
                                tree = nt_article_to_json(&a);
                                cr_assert_not_null(tree);
                                want = json_dumps(
                                    tree, JSON_COMPACT | JSON_PRESERVE_ORDER);
                                got = nt_article_to_json_line(&a);
                                cr_assert_not_null(want);
                                cr_assert_not_null(got);
                                cr_assert_str_eq(got, want,
                                                 "%zu ASCII bytes, odd %zu "
                                                 "after letter %zu",
                                                 pre, k, at);
                                free(want);
                                free(got);
                                json_decref(tree);
                        }
                }
        }
}
