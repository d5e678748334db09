/* The article model: stable ids, revisions that follow the text, and the
 * JSON the producer publishes (one line, schema-tagged, readable back). */
#include "common/article.h"
#include "common/err.h"
#include "common/feed.h"
#include "common/feed_parse.h"

#include <criterion/criterion.h>
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

static const char story[] =
    "<title>Dam inspection</title>"
    "<link>https://wire.example/dam</link>"
    "<guid>wire-1</guid>"
    "<pubDate>Mon, 05 Jan 2026 10:00:00 GMT</pubDate>"
    "<description>&lt;p&gt;Inspectors &lt;b&gt;arrive&lt;/b&gt;.&lt;/p&gt;"
    "</description>";

Test(article, same_item_twice_same_id_and_revision)
{
        struct nt_article a, b;
        char doc[2048];

        one_item(doc, sizeof(doc), story);
        article_of(doc, "https://wire.example/rss", &a);
        article_of(doc, "https://wire.example/rss", &b);
        cr_assert_str_eq(a.id, b.id, "id changed between polls");
        cr_assert_str_eq(a.revision, b.revision, "revision changed");
        cr_assert_eq(strlen(a.id), 32, "id is 32 hex digits: %s", a.id);
        cr_assert_eq(strlen(a.revision), 16, "revision is 16 hex digits");
        cr_assert_eq(strspn(a.id, "0123456789abcdef"), 32, "hex id %s", a.id);
        nt_article_free(&a);
        nt_article_free(&b);
}

Test(article, edited_summary_same_id_new_revision)
{
        struct nt_article a, b;
        char doc[2048];

        one_item(doc, sizeof(doc), story);
        article_of(doc, "https://wire.example/rss", &a);
        one_item(doc, sizeof(doc),
                 "<title>Dam inspection</title>"
                 "<link>https://wire.example/dam</link><guid>wire-1</guid>"
                 "<description>Inspectors arrived and left.</description>");
        article_of(doc, "https://wire.example/rss", &b);
        cr_assert_str_eq(a.id, b.id, "an edit must keep the id");
        cr_assert_str_neq(a.revision, b.revision,
                          "an edit must change the "
                          "revision");
        nt_article_free(&a);
        nt_article_free(&b);
}

Test(article, markup_only_change_keeps_revision)
{
        struct nt_article a, b;
        char doc[2048];

        one_item(doc, sizeof(doc), story);
        article_of(doc, "https://wire.example/rss", &a);
        one_item(doc, sizeof(doc),
                 "<title>Dam inspection</title>"
                 "<link>https://wire.example/dam</link>"
                 "<description>&lt;div&gt;Inspectors &lt;i&gt;arrive&lt;/i&gt;."
                 "&lt;/div&gt;</description>");
        article_of(doc, "https://wire.example/rss", &b);
        cr_assert_str_eq(a.revision, b.revision,
                         "the revision follows the text, not the markup");
        nt_article_free(&a);
        nt_article_free(&b);
}

Test(article, same_link_in_two_feeds_same_id)
{
        struct nt_article a, b;
        char doc[2048];

        one_item(doc, sizeof(doc), story);
        article_of(doc, "https://wire.example/rss", &a);
        one_item(
            doc, sizeof(doc),
            "<title>Dam inspection (regional)</title>"
            "<link>https://WIRE.example/dam#top</link><guid>other-9</guid>");
        article_of(doc, "https://regional.example/feed", &b);
        cr_assert_str_eq(a.id, b.id, "one story, one id");
        nt_article_free(&a);
        nt_article_free(&b);
}

Test(article, tracking_parameters_do_not_change_the_id)
{
        struct nt_article a, b;
        char doc[2048];

        one_item(doc, sizeof(doc),
                 "<title>T</title><link>https://wire.example/dam?id=4</link>");
        article_of(doc, "https://wire.example/rss", &a);
        one_item(doc, sizeof(doc),
                 "<title>T</title><link>https://wire.example/dam?utm_source="
                 "rss&amp;id=4&amp;utm_medium=feed&amp;fbclid=x</link>");
        article_of(doc, "https://wire.example/rss", &b);
        cr_assert_str_eq(a.id, b.id, "utm_* and fbclid must not count");
        nt_article_free(&a);
        nt_article_free(&b);
}

Test(article, without_link_feed_url_and_guid)
{
        struct nt_article a, b, c;
        char doc[2048];

        one_item(doc, sizeof(doc), "<title>T</title><guid>g-1</guid>");
        article_of(doc, "https://one.example/rss", &a);
        article_of(doc, "https://one.example/rss", &b);
        article_of(doc, "https://two.example/rss", &c);
        cr_assert_str_eq(a.id, b.id, "same feed, same guid");
        cr_assert_str_neq(a.id, c.id, "a guid is only unique in its feed");
        nt_article_free(&a);
        nt_article_free(&b);
        nt_article_free(&c);
}

/* Credentials of the feed URL stay out of the article, yet the id is
 * computed as it always was (this id is what newstap gave this item
 * before credentials were taken out), so no article changes its key. */
Test(article, feed_credentials_left_out_id_unchanged)
{
        struct nt_article a;
        char doc[2048];
        char *line;

        one_item(doc, sizeof(doc),
                 "<title>T</title><guid>g-1</guid><enclosure "
                 "url=\"https://u:p@one.example/a.mp3\" type=\"audio/mpeg\" "
                 "length=\"1\"/>");
        article_of(doc, "https://u:p@one.example/rss", &a);
        cr_assert_str_eq(a.id, "3655316f431004684e6c2a70bd5f0b28",
                         "the id changed");
        cr_assert_str_eq(a.feed_url, "https://one.example/rss");
        line = nt_article_to_json_line(&a);
        cr_assert_null(strstr(line, "u:p@"), "credentials in %s", line);
        free(line);
        nt_article_free(&a);
}

Test(article, without_link_or_guid_title_and_published)
{
        struct nt_article a, b, c;
        char doc[2048];

        one_item(doc, sizeof(doc),
                 "<title>Notice</title><pubDate>Mon, 05 Jan 2026 10:00:00 "
                 "GMT</pubDate>");
        article_of(doc, "https://one.example/rss", &a);
        article_of(doc, "https://one.example/rss", &b);
        one_item(doc, sizeof(doc),
                 "<title>Notice</title><pubDate>Tue, 06 Jan 2026 10:00:00 "
                 "GMT</pubDate>");
        article_of(doc, "https://one.example/rss", &c);
        cr_assert_str_eq(a.id, b.id, "stable");
        cr_assert_str_neq(a.id, c.id, "another day, another notice");
        nt_article_free(&a);
        nt_article_free(&b);
        nt_article_free(&c);
}

Test(article, plain_text_and_fields)
{
        struct nt_article a;
        char doc[2048];

        one_item(doc, sizeof(doc), story);
        article_of(doc, "https://wire.example/rss", &a);
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

Test(article, json_line_round_trip)
{
        struct nt_article a, b;
        char doc[2048], errstr[256] = "", *line, *again;
        json_error_t jerr;
        json_t *j;

        one_item(doc, sizeof(doc),
                 "<title>Ünïcode “quotes”</title>"
                 "<link>https://wire.example/u</link>"
                 "<author>ed@wire.example (Ed)</author><category>a</category>"
                 "<enclosure url=\"https://wire.example/u.mp3\" length=\"12\" "
                 "type=\"audio/mpeg\"/>");
        article_of(doc, "https://wire.example/rss", &a);
        line = nt_article_to_json_line(&a);
        cr_assert_not_null(line);
        cr_assert_null(strchr(line, '\n'), "one line: %s", line);
        j = json_loads(line, 0, &jerr);
        cr_assert_not_null(j, "not JSON: %s", jerr.text);
        cr_assert_str_eq(json_string_value(json_object_get(j, "schema")),
                         NT_ARTICLE_SCHEMA);
        cr_assert_str_eq(json_string_value(json_object_get(j, "fetched")),
                         "2026-01-01T00:00:00Z");
        cr_assert(
            json_is_integer(json_object_get(
                json_array_get(json_object_get(j, "enclosures"), 0), "length")),
            "enclosure length is a number");
        nt_article_init(&b);
        cr_assert_eq(nt_article_from_json(j, &b, errstr, sizeof(errstr)), NT_OK,
                     "%s", errstr);
        again = nt_article_to_json_line(&b);
        cr_assert_str_eq(again, line, "round trip changed the article");
        free(again);
        free(line);
        json_decref(j);
        nt_article_free(&a);
        nt_article_free(&b);
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
