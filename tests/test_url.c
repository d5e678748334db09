/* Resolving links against a base URL, and the canonical form of article
 * links that gives one story one id. */
#include "common/err.h"
#include "common/url.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE "https://example.com/news/2025/story.html?x=1#top"

struct resolve_case {
        char name[40];
        char base[64]; /* "-" for NULL */
        char ref[48];
        char want[80];
};

ParameterizedTestParameters(url, resolve)
{
        static struct resolve_case cases[] = {
            {"sibling file", BASE, "other.html",
             "https://example.com/news/2025/other.html"},
            {"dot slash", BASE, "./other.html",
             "https://example.com/news/2025/other.html"},
            {"parent", BASE, "../index.html",
             "https://example.com/news/index.html"},
            {"above the root", BASE, "../../../../a", "https://example.com/a"},
            {"absolute path", BASE, "/root", "https://example.com/root"},
            {"network path", BASE, "//cdn.example.org/i.png",
             "https://cdn.example.org/i.png"},
            {"query only", BASE, "?page=2",
             "https://example.com/news/2025/story.html?page=2"},
            {"fragment only", BASE, "#comments",
             "https://example.com/news/2025/story.html?x=1#comments"},
            {"absolute untouched", BASE, "https://other.org/a?b=c#d",
             "https://other.org/a?b=c#d"},
            {"absolute http kept as given", BASE, "http://Example.ORG/a",
             "http://Example.ORG/a"},
            {"white space trimmed", BASE, "  spaced.html \n",
             "https://example.com/news/2025/spaced.html"},
            {"space in the path encoded", BASE, "a b.html",
             "https://example.com/news/2025/a%20b.html"},
            {"Cyrillic path encoded", BASE, "/київ",
             "https://example.com/%D0%BA%D0%B8%D1%97%D0%B2"},
            {"mailto left alone", BASE, "mailto:news@example.com",
             "mailto:news@example.com"},
            {"tag URI left alone", BASE, "tag:example.com,2025:1",
             "tag:example.com,2025:1"},
            {"urn left alone", BASE, "urn:uuid:1234", "urn:uuid:1234"},
            {"NULL base", "-", " relative/x ", "relative/x"},
            {"relative base", "news/", "x.html", "x.html"},
            {"non-http base", "tag:example.com,2025:feed", "x.html", "x.html"},
            {"NULL base, absolute ref", "-", "https://example.com",
             "https://example.com/"},
        };
        return cr_make_param_array(struct resolve_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct resolve_case *c, url, resolve)
{
        const char *base = strcmp(c->base, "-") == 0 ? NULL : c->base;
        char *got = NULL;

        cr_assert_eq(nt_url_resolve(base, c->ref, &got), NT_OK, "%s", c->name);
        cr_assert_not_null(got, "%s: NULL", c->name);
        cr_assert_str_eq(got, c->want, "%s: got \"%s\"", c->name, got);
        free(got);
}

Test(url, resolve_nothing_is_not_an_error)
{
        static const char *const blank[] = {NULL, "", " \t\n"};
        char *got = (char *)"unset";
        size_t i;

        for (i = 0; i < sizeof(blank) / sizeof(blank[0]); i++) {
                cr_assert_eq(nt_url_resolve(BASE, blank[i], &got), NT_OK);
                cr_assert_null(got, "ref %zu", i);
        }
        cr_assert_eq(nt_url_resolve(NULL, NULL, &got), NT_OK);
        cr_assert_null(got);
}

struct canon_case {
        char name[40];
        char in[128];
        char want[64]; /* "" for NULL */
};

ParameterizedTestParameters(url, canonical)
{
        static struct canon_case cases[] = {
            {"scheme and host lower-cased", "HTTPS://Example.COM/Path",
             "https://example.com/Path"},
            {"default http port", "http://example.com:80/a",
             "http://example.com/a"},
            {"default https port", "https://example.com:443/a",
             "https://example.com/a"},
            {"other port kept", "https://example.com:8443/a",
             "https://example.com:8443/a"},
            {"fragment dropped", "https://example.com/a#section",
             "https://example.com/a"},
            {"empty path", "https://example.com", "https://example.com/"},
            {"utm removed, order kept",
             "https://example.com/a?utm_source=rss&id=7&utm_medium=feed&b=2",
             "https://example.com/a?id=7&b=2"},
            {"fbclid only", "https://example.com/a?fbclid=IwAR0x",
             "https://example.com/a"},
            {"every tracking name",
             "https://example.com/a?gclid=1&dclid=2&msclkid=3&mc_cid=4&"
             "mc_eid=5&yclid=6&_ga=7&igshid=8&ref_src=9&UTM_Campaign=x",
             "https://example.com/a"},
            {"order of other parameters kept",
             "https://example.com/a?b=2&a=1&c",
             "https://example.com/a?b=2&a=1&c"},
            {"empty query dropped", "https://example.com/a?",
             "https://example.com/a"},
            {"empty parameters dropped", "https://example.com/a?&x=1&&",
             "https://example.com/a?x=1"},
            {"look-alike names kept",
             "https://example.com/utm_x?utm=1&gclid2=3",
             "https://example.com/utm_x?utm=1&gclid2=3"},
            {"dot segments removed", "https://example.com/a/./b/../c",
             "https://example.com/a/c"},
            {"escapes upper-cased", "https://example.com/%e2%80%99",
             "https://example.com/%E2%80%99"},
            {"white space trimmed", "  https://example.com/a \n",
             "https://example.com/a"},
            {"mailto", "mailto:news@example.com", ""},
            {"ftp", "ftp://example.com/file", ""},
            {"relative path", "/news/a", ""},
            {"no scheme", "example.com/a", ""},
            {"empty", "", ""},
        };
        return cr_make_param_array(struct canon_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct canon_case *c, url, canonical)
{
        char *got = nt_url_canonical(c->in);

        if (!c->want[0]) {
                cr_assert_null(got, "%s: got \"%s\", want NULL", c->name,
                               got ? got : "");
                return;
        }
        cr_assert_not_null(got, "%s: NULL", c->name);
        cr_assert_str_eq(got, c->want, "%s: got \"%s\"", c->name, got);
        free(got);
}

/* The point of the canonical form: links to one story that differ only
 * in tracking and spelling give one string. */
Test(url, canonical_same_story)
{
        char *a = nt_url_canonical(
            "HTTPS://News.Example.com:443/world/zaporizhzhia-npp?"
            "utm_source=twitter&utm_medium=social#comments");
        char *b = nt_url_canonical(
            "https://news.example.com/world/zaporizhzhia-npp?fbclid=abc");

        cr_assert_not_null(a);
        cr_assert_not_null(b);
        cr_assert_str_eq(a, b);
        free(a);
        free(b);
}

/* The common link ("http(s)://host/path") is written directly, not run
 * through curl's parser; each is checked against its twin with a
 * fragment, which only curl's route takes (and whose fragment it drops),
 * so the two routes must agree byte for byte. Uppercase hosts, dashes,
 * digits, sub-delims, ':' and '@' in paths, queries with and without
 * tracking parameters, and shapes the direct route leaves to curl (dot
 * segments, numeric hosts, ports, escapes, upper-case schemes, IPv6
 * literals, userinfo, UTF-8, spaces, backslashes). */
Test(url, canonical_direct_route_as_curl)
{
        static const char *const links[] = {
            "https://news.example.com/world/2026/12/08/story-123.html",
            "http://Example.COM/A/B_c~d-e.f",
            "https://a-b.example.org/x/y/",
            "https://example.com/",
            "https://example.com//double//slashes",
            "https://example.com/p;a=1,b+c!$&'()*:@x",
            "https://www.xn--80ak6aa92e.com/news",
            "https://example.com/.well-known/x",
            "https://example.com/a/./b/../c",
            "https://example.com/a/..",
            "https://127.0.0.1/a",
            "https://1.2.3/a",
            "https://0x7f.1/a",
            "https://example.com./a",
            "https://example..com/a",
            "https://example.com:443/a",
            "http://example.com:80/a",
            "https://user@example.com/a",
            "https://example.com/%e2%80%99",
            "https://example.com/a b",
            "https://exa_mple.com/a",
            "https://news.example/en/story-0?utm_source=rss&utm_medium=feed",
            "https://Example.com/a?b=2&a=1&c",
            "https://example.com/a?utm_source=rss&id=7&UTM_X=1&b=2",
            "https://example.com/a?fbclid=IwAR0x",
            "https://example.com/a?",
            "https://example.com/a?&x=1&&",
            "https://example.com/a?x=./y/../z&next=/b?c",
            "https://example.com/a/../b?x=1",
            "https://example.com/a?x=%2F",
            "HTTPS://Example.com/a",
            "Http://example.com/a?b",
            "https://[2001:db8::1]/a?x=1",
            "https://[2001:DB8::1]:443/a",
            "https://user:pw@Example.com:80/a?utm_source=x",
            "https://example.com:8080/a",
            "https://example.com/a%2fb%3F?q=%41%e2%80%99&r=%2B",
            "https://ex\xc3\xa4mple.com/a",
            "https://example.com/\xc3\xa4?q=\xc3\xa4",
            "https://example.com/a\\b",
            "https://example.com/a b?c d",
            "https://example.com/a?utm_source=x&utm_medium=y",
            "https://example.com/a?utm_source=x&b=1&fbclid=2&c=3&gclid",
            "https://example.com/a?a=1&a=1&a=2&utm_x=&a",
            "https://example.com/a?=&=x&x=",
            "https://example.com/a?x=1?y=2",
            "https://example.com/a/b/..",
            "https://example.com/a/.b/c.",
            "https://exa-.com/a",
            "https://a.b.c.d.e.f.g.h.example/a",
            "https://1.2.3.4.example/a",
            "https://example.com/a:80/@b?c=@:/",
        };
        char twin[256];
        size_t i;

        for (i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
                char *a, *b;

                snprintf(twin, sizeof(twin), "%s#frag", links[i]);
                a = nt_url_canonical(links[i]);
                b = nt_url_canonical(twin);
                if (!a || !b) {
                        cr_assert(!a && !b, "%s: one route gave NULL (%s, %s)",
                                  links[i], a ? a : "NULL", b ? b : "NULL");
                        continue;
                }
                cr_assert_str_eq(a, b, "%s: direct \"%s\", curl \"%s\"",
                                 links[i], a, b);
                free(a);
                free(b);
        }
}

/* Long links take the same way as short ones: one of 20,000 bytes is
 * the same by either route, and one longer than curl's parser takes
 * (8,000,000 bytes) has no canonical form by either, as before the
 * direct route. */
Test(url, canonical_direct_route_long_links)
{
        static const size_t lens[] = {20000, 8000001};
        size_t i;

        for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
                size_t k, len = lens[i];
                char *link = malloc(len + 3), *a, *b;

                cr_assert_not_null(link);
                k = (size_t)snprintf(link, len, "https://example.com/");
                for (; k < len; k++)
                        link[k] = (char)('a' + k % 26);
                link[len] = '\0';
                a = nt_url_canonical(link);
                if (len > 8000000) {
                        cr_expect_null(a, "a link of %zu bytes", len);
                } else {
                        memcpy(link + len, "#f", 3); /* the curl route */
                        b = nt_url_canonical(link);
                        cr_assert_not_null(a);
                        cr_assert_not_null(b);
                        link[len] = '\0';
                        cr_expect_str_eq(a, link);
                        cr_expect_str_eq(a, b);
                        free(b);
                }
                free(a);
                free(link);
        }
}

Test(url, canonical_null)
{
        cr_assert_null(nt_url_canonical(NULL));
}

struct scrub_case {
        char name[40];
        char in[96];
        char want[96];
};

ParameterizedTestParameters(url, scrub_userinfo)
{
        static struct scrub_case cases[] = {
            {"user and password", "https://u:p@h.example/f.xml",
             "https://h.example/f.xml"},
            {"user only", "http://u@h/", "http://h/"},
            {"port kept", "http://u:p@127.0.0.1:8080/x",
             "http://127.0.0.1:8080/x"},
            {"no userinfo", "https://h.example/a@b", "https://h.example/a@b"},
            {"@ in the query", "https://h/?to=a@b", "https://h/?to=a@b"},
            {"in a sentence", "feed f (http://u:p@h/x): HTTP 404",
             "feed f (http://h/x): HTTP 404"},
            {"two URLs", "http://a:b@h/ moved to https://c:d@i/",
             "http://h/ moved to https://i/"},
            {"quoted", "\"http://u:p@h\" and 'http://v:q@i'",
             "\"http://h\" and 'http://i'"},
            {"mailto untouched", "mailto:a@b.example", "mailto:a@b.example"},
            {"bare text", "a@b and c://", "a@b and c://"},
        };
        return cr_make_param_array(struct scrub_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct scrub_case *c, url, scrub_userinfo)
{
        char buf[96], *copy;
        size_t len;

        snprintf(buf, sizeof(buf), "%s", c->in);
        len = nt_url_scrub_userinfo(buf);
        cr_assert_str_eq(buf, c->want, "%s", c->name);
        cr_assert_eq(len, strlen(c->want), "%s: length", c->name);
        copy = nt_url_without_userinfo(c->in, NULL);
        cr_assert_str_eq(copy, c->want, "%s: copy", c->name);
        free(copy);
}

Test(url, mask_userinfo)
{
        char *m = nt_url_without_userinfo("https://u:p@h/x", "[redacted]");

        cr_assert_str_eq(m, "https://[redacted]@h/x");
        free(m);
        m = nt_url_without_userinfo("https://h/x", "[redacted]");
        cr_assert_str_eq(m, "https://h/x", "nothing to mask");
        free(m);
        cr_assert_null(nt_url_without_userinfo(NULL, NULL));
}

/* The schemes newstap fetches and follows: http and https, any case. */
Test(url, is_http)
{
        cr_assert(nt_url_is_http("http://a.example/feed"));
        cr_assert(nt_url_is_http("HTTPS://a.example/feed"));
        cr_assert_not(nt_url_is_http("ftp://a.example/feed"));
        cr_assert_not(nt_url_is_http("file:///etc/passwd"));
        cr_assert_not(nt_url_is_http("https:/a.example"));
        cr_assert_not(nt_url_is_http(""));
}
