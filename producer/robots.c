#include "producer/robots.h"
#include "common/err.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Whether pattern p[0..pn) (with "*") matches s[0..sn) whole, or only a
 * prefix of it when `open` (an implicit "*" at the end). Greedy with one
 * backtrack point, O(pn * sn) at worst: a robots.txt full of stars
 * cannot make it explode. */
static bool glob(const char *p, size_t pn, const char *s, size_t sn, bool open)
{
        size_t pi = 0, si = 0, star = SIZE_MAX, mark = 0;

        while (si < sn) {
                if (open && pi == pn)
                        return true;
                if (pi < pn && p[pi] == '*') {
                        star = pi++;
                        mark = si;
                } else if (pi < pn && p[pi] == s[si]) {
                        pi++;
                        si++;
                } else if (star != SIZE_MAX) {
                        pi = star + 1;
                        si = ++mark;
                } else {
                        return false;
                }
        }
        while (pi < pn && p[pi] == '*')
                pi++;
        return pi == pn;
}

static bool rule_matches(const char *pat, size_t n, const char *path)
{
        if (n > 0 && pat[n - 1] == '$')
                return glob(pat, n - 1, path, strlen(path), false);
        return glob(pat, n, path, strlen(path), true);
}

/* The best rule of one kind of group (the agent's or "*"). */
struct verdict {
        bool group; /* a group of this kind exists */
        size_t len; /* length of the longest matching rule */
        bool matched;
        bool allow;
};

static void consider(struct verdict *v, bool allow, const char *pat, size_t n,
                     const char *path)
{
        if (n == 0 || !rule_matches(pat, n, path))
                return;
        if (!v->matched || n > v->len || (n == v->len && allow)) {
                v->matched = true;
                v->len = n;
                v->allow = allow;
        }
}

/* A User-agent value names `agent`: the token up to "/" or a space,
 * compared without case. */
static bool agent_is(const char *v, size_t n, const char *agent)
{
        size_t i = 0, alen = strlen(agent);

        while (i < n && v[i] != '/' && !isspace((unsigned char)v[i]))
                i++;
        return i == alen && strncasecmp(v, agent, alen) == 0;
}

bool nt_robots_allowed(const char *text, size_t len, const char *agent,
                       const char *path)
{
        struct verdict mine = {0}, any = {0};
        bool in_agents = false, for_me = false, for_any = false;
        const char *p = text, *end;

        if (len > NT_ROBOTS_MAX_BYTES)
                len = NT_ROBOTS_MAX_BYTES;
        end = text + len;
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                const char *line = p, *le, *colon, *v, *ve;
                size_t klen;

                if (!eol)
                        eol = end;
                p = eol + 1;
                le = memchr(line, '#', (size_t)(eol - line));
                if (!le)
                        le = eol;
                while (line < le && isspace((unsigned char)*line))
                        line++;
                colon = memchr(line, ':', (size_t)(le - line));
                if (!colon)
                        continue;
                klen = (size_t)(colon - line);
                while (klen > 0 && isspace((unsigned char)line[klen - 1]))
                        klen--;
                v = colon + 1;
                ve = le;
                while (v < ve && isspace((unsigned char)*v))
                        v++;
                while (ve > v && isspace((unsigned char)ve[-1]))
                        ve--;
                if (klen == 10 && strncasecmp(line, "user-agent", 10) == 0) {
                        if (!in_agents)
                                for_me = for_any = false;
                        in_agents = true;
                        if (ve - v == 1 && *v == '*') {
                                for_any = true;
                                any.group = true;
                        } else if (agent_is(v, (size_t)(ve - v), agent)) {
                                for_me = true;
                                mine.group = true;
                        }
                } else if ((klen == 5 && strncasecmp(line, "allow", 5) == 0) ||
                           (klen == 8 &&
                            strncasecmp(line, "disallow", 8) == 0)) {
                        bool allow = klen == 5;

                        in_agents = false;
                        if (for_me)
                                consider(&mine, allow, v, (size_t)(ve - v),
                                         path);
                        if (for_any)
                                consider(&any, allow, v, (size_t)(ve - v),
                                         path);
                }
                /* Other records (Sitemap, Crawl-delay ...) are ignored. */
        }
        if (mine.group)
                return !mine.matched || mine.allow;
        if (any.group)
                return !any.matched || any.allow;
        return true;
}

int nt_robots_split(const char *url, char **origin, char **path)
{
        CURLU *u = curl_url();
        char *scheme = NULL, *host = NULL, *port = NULL, *upath = NULL,
             *query = NULL;
        int err = NT_ERR_INVALID;
        size_t n;

        *origin = *path = NULL;
        if (!u)
                return NT_ERR_NOMEM;
        if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            (strcasecmp(scheme, "http") != 0 &&
             strcasecmp(scheme, "https") != 0) ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
                goto out;
        curl_url_get(u, CURLUPART_PORT, &port, 0);
        curl_url_get(u, CURLUPART_PATH, &upath, 0);
        curl_url_get(u, CURLUPART_QUERY, &query, 0);
        err = NT_ERR_NOMEM;
        n = strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) + 8;
        *origin = malloc(n);
        n = (upath ? strlen(upath) : 0) + (query ? strlen(query) : 0) + 4;
        *path = malloc(n);
        if (!*origin || !*path) {
                free(*origin);
                free(*path);
                *origin = *path = NULL;
                goto out;
        }
        {
                char *c;

                for (c = scheme; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
                for (c = host; *c; c++)
                        *c = (char)tolower((unsigned char)*c);
        }
        snprintf(*origin,
                 strlen(scheme) + strlen(host) + (port ? strlen(port) : 0) + 8,
                 "%s://%s%s%s", scheme, host, port ? ":" : "",
                 port ? port : "");
        snprintf(*path, n, "%s%s%s", upath && *upath ? upath : "/",
                 query ? "?" : "", query ? query : "");
        err = NT_OK;
out:
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        curl_free(upath);
        curl_free(query);
        curl_url_cleanup(u);
        return err;
}
