/* robots.txt rules: group choice, longest match, wildcards, and the
 * origin/path split the producer's cache is keyed by. */
#include "common/err.h"
#include "producer/robots.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool allowed(const char *text, const char *path)
{
        return nt_robots_allowed(text, strlen(text), "newstap", path);
}

Test(robots, empty_or_unrelated_allows_everything)
{
        cr_assert(allowed("", "/a"));
        cr_assert(allowed("# nothing here\nSitemap: /s.xml\n", "/a"));
        cr_assert(allowed("User-agent: otherbot\nDisallow: /\n", "/a"));
        cr_assert(allowed("User-agent: *\nDisallow:\n", "/a"),
                  "an empty Disallow forbids nothing");
}

Test(robots, star_group_applies_when_none_names_us)
{
        const char *t = "User-agent: *\nDisallow: /private/\n";

        cr_assert_not(allowed(t, "/private/1"));
        cr_assert(allowed(t, "/private"));
        cr_assert(allowed(t, "/public/1"));
}

Test(robots, our_group_replaces_the_star_group)
{
        const char *t = "User-agent: *\nDisallow: /\n\n"
                        "User-Agent: NewsTap/2.0\nDisallow: /private/\n";

        cr_assert(allowed(t, "/open/1"), "our group has no rule for it");
        cr_assert_not(allowed(t, "/private/x"));
        cr_assert_not(nt_robots_allowed(t, strlen(t), "otherbot", "/open/1"));
}

Test(robots, agents_listed_together_share_the_group)
{
        const char *t = "User-agent: a\nUser-agent: newstap\n"
                        "Disallow: /x\n"
                        "User-agent: b\nAllow: /\n";

        cr_assert_not(allowed(t, "/x/1"));
        cr_assert(allowed(t, "/y"));
}

Test(robots, longest_match_wins_and_allow_wins_ties)
{
        const char *t = "user-agent: *  # everyone\n"
                        "disallow: /news\n"
                        "allow: /news/public\n"
                        "disallow: /news/public/draft\n";

        cr_assert_not(allowed(t, "/news/x"));
        cr_assert(allowed(t, "/news/public/1"));
        cr_assert_not(allowed(t, "/news/public/draft-2"));
        cr_assert(allowed("User-agent: *\nDisallow: /a\nAllow: /a\n", "/a"),
                  "a tie goes to Allow");
}

Test(robots, wildcards_and_end_anchor)
{
        const char *t = "User-agent: *\nDisallow: /*.pdf$\n"
                        "Disallow: /*/amp/\nDisallow: /search?q=*&page\n";

        cr_assert_not(allowed(t, "/docs/report.pdf"));
        cr_assert(allowed(t, "/docs/report.pdf?x=1"), "$ ends the path");
        cr_assert_not(allowed(t, "/2026/amp/story"));
        cr_assert(allowed(t, "/2026/story"));
        cr_assert_not(allowed(t, "/search?q=kyiv&page=2"));
        cr_assert(allowed(t, "/search?q=kyiv"));
}

Test(robots, many_stars_stay_fast)
{
        char rules[4096], path[4096];
        size_t n;

        /* "Disallow: / *a*a*a...*b" (no space): a backtracking matcher would
         * take exponential time on a path of a's. */
        n = (size_t)snprintf(rules, sizeof(rules),
                             "User-agent: *\nDisallow: /");

        while (n < 3000)
                n += (size_t)snprintf(rules + n, sizeof(rules) - n, "*a");
        snprintf(rules + n, sizeof(rules) - n, "b\n");
        memset(path, 'a', sizeof(path) - 1);
        path[0] = '/';
        path[sizeof(path) - 1] = '\0';
        cr_assert(allowed(rules, path));
}

Test(robots, split_gives_origin_and_path)
{
        char *o, *p;

        cr_assert_eq(
            nt_robots_split("HTTPS://u:pw@News.Example:8443/a/b?x=1#f", &o, &p),
            NT_OK);
        cr_assert_str_eq(o, "https://news.example:8443");
        cr_assert_str_eq(p, "/a/b?x=1");
        free(o);
        free(p);
        cr_assert_eq(nt_robots_split("http://a.example", &o, &p), NT_OK);
        cr_assert_str_eq(o, "http://a.example");
        cr_assert_str_eq(p, "/");
        free(o);
        free(p);
        cr_assert_eq(nt_robots_split("ftp://a.example/x", &o, &p),
                     NT_ERR_INVALID);
        cr_assert_null(o);
        cr_assert_eq(nt_robots_split("not a url", &o, &p), NT_ERR_INVALID);
}
