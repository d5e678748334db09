#include "common/url.h"

#include "common/buf.h"
#include "common/err.h"

#include <curl/curl.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Query parameters dropped from canonical URLs: they say how a reader
 * arrived, not what they read, and would give one story several ids. */
static const char *const tracking_params[] = {
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid",
    "mc_eid", "yclid", "_ga",   "igshid",  "ref_src",
};

static int is_space(unsigned char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
               c == '\v';
}

static int is_alpha(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Length of the scheme of an absolute reference (RFC 3986: a letter, then
 * letters, digits, "+", "-" or "."; then ":"), or 0 for a relative one. */
static size_t scheme_len(const char *s, size_t len)
{
        size_t i;

        if (len == 0 || !is_alpha((unsigned char)s[0]))
                return 0;
        for (i = 1; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c == ':')
                        return i;
                if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '+' &&
                    c != '-' && c != '.')
                        return 0;
        }
        return 0;
}

static int scheme_is(const char *s, size_t len, const char *name)
{
        size_t n = scheme_len(s, len);

        return n == strlen(name) && strncasecmp(s, name, n) == 0;
}

/* Trims white space from both ends: *s and *len describe what is left. */
static void trim(const char **s, size_t *len)
{
        while (*len > 0 && is_space((unsigned char)**s)) {
                (*s)++;
                (*len)--;
        }
        while (*len > 0 && is_space((unsigned char)(*s)[*len - 1]))
                (*len)--;
}

/* The reference as curl's parser accepts it: tabs and line breaks, which
 * feeds leave in wrapped links, dropped (as browsers do); spaces, other
 * controls and non-ASCII bytes percent-encoded. The host of an authority
 * keeps its bytes: an internationalised name is not percent-encoded.
 * Caller frees. */
static char *encode_ref(const char *s, size_t len)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t i, n = 0, auth_end = 0, sl = scheme_len(s, len);
        char *p;

        if (len > (((size_t)-1) - 1) / 3)
                return NULL;
        /* An authority follows "//" at the start or after the scheme and
         * ends at the first '/', '?' or '#'. */
        i = sl ? sl + 1 : 0;
        if (len - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
                auth_end = i + 2;
                while (auth_end < len && s[auth_end] != '/' &&
                       s[auth_end] != '?' && s[auth_end] != '#')
                        auth_end++;
        }
        p = malloc(len * 3 + 1);
        if (!p)
                return NULL;
        for (i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c == '\t' || c == '\n' || c == '\r')
                        continue;
                if (c <= 0x20 || c == 0x7F || (c >= 0x80 && i >= auth_end)) {
                        p[n++] = '%';
                        p[n++] = hex[c >> 4];
                        p[n++] = hex[c & 0x0F];
                } else {
                        p[n++] = (char)c;
                }
        }
        p[n] = '\0';
        return p;
}

/* Copies a string curl allocated into one the caller frees with free(),
 * and releases curl's. */
static char *from_curl(char *s)
{
        char *p = s ? nt_strdup_n(s, strlen(s)) : NULL;

        curl_free(s);
        return p;
}

/* Resolves the encoded relative reference `ref` against the absolute
 * `base`. Returns the new URL or NULL when curl refuses either. */
static char *resolve_relative(const char *base, const char *ref)
{
        CURLU *h = curl_url();
        char *s = NULL, *joined = NULL;
        size_t n;

        if (!h)
                return NULL;
        if (curl_url_set(h, CURLUPART_URL, base, CURLU_NON_SUPPORT_SCHEME))
                goto out;
        if (ref[0] == '#') {
                /* curl 7.88 resolves a fragment-only reference against the
                 * base's directory; RFC 3986 keeps the whole base and
                 * replaces only its fragment. */
                if (curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) ||
                    curl_url_get(h, CURLUPART_URL, &s, 0))
                        goto out;
                n = strlen(s) + strlen(ref) + 1;
                joined = malloc(n);
                if (joined)
                        snprintf(joined, n, "%s%s", s, ref);
                goto out;
        }
        if (curl_url_set(h, CURLUPART_URL, ref, CURLU_NON_SUPPORT_SCHEME) ||
            curl_url_get(h, CURLUPART_URL, &s, 0))
                goto out;
        joined = from_curl(s);
        s = NULL;
out:
        curl_free(s);
        curl_url_cleanup(h);
        return joined;
}

/* Parses and re-serialises an absolute URL; NULL when curl refuses it. */
static char *normalise_absolute(const char *url)
{
        CURLU *h = curl_url();
        char *s = NULL, *res = NULL;

        if (!h)
                return NULL;
        if (curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) ==
                CURLUE_OK &&
            curl_url_get(h, CURLUPART_URL, &s, 0) == CURLUE_OK)
                res = from_curl(s);
        curl_url_cleanup(h);
        return res;
}

int nt_url_resolve(const char *base, const char *ref, char **out)
{
        const char *r = ref, *b = base;
        size_t rlen, blen;
        char *renc = NULL, *benc = NULL, *res = NULL;

        *out = NULL;
        if (!ref)
                return NT_OK;
        rlen = strlen(r);
        trim(&r, &rlen);
        if (rlen == 0)
                return NT_OK;
        renc = encode_ref(r, rlen);
        if (!renc)
                goto out;
        if (scheme_len(r, rlen) > 0) {
                /* Schemes curl cannot parse (mailto:, tag:, urn:) are
                 * left as written below. */
                res = normalise_absolute(renc);
                goto out;
        }
        if (!b)
                goto out;
        blen = strlen(b);
        trim(&b, &blen);
        if (scheme_len(b, blen) == 0)
                goto out;
        benc = encode_ref(b, blen);
        if (benc)
                res = resolve_relative(benc, renc);
out:
        if (!res)
                res = nt_strdup_n(r, rlen);
        free(benc);
        free(renc);
        *out = res;
        return res ? NT_OK : NT_ERR_NOMEM;
}

static int is_tracking(const char *name, size_t len)
{
        size_t i;

        if (len >= 4 && strncasecmp(name, "utm_", 4) == 0)
                return 1;
        for (i = 0; i < sizeof(tracking_params) / sizeof(tracking_params[0]);
             i++) {
                if (strlen(tracking_params[i]) == len &&
                    strncasecmp(name, tracking_params[i], len) == 0)
                        return 1;
        }
        return 0;
}

/* Removes tracking parameters and empty ones from a query (without its
 * '?') in place, keeping the order of the rest. */
static void query_filter(char *q)
{
        char *in = q, *out = q, *amp, *eq;
        size_t len, name_len;

        while (*in) {
                amp = strchr(in, '&');
                len = amp ? (size_t)(amp - in) : strlen(in);
                eq = memchr(in, '=', len);
                name_len = eq ? (size_t)(eq - in) : len;
                if (len > 0 && !is_tracking(in, name_len)) {
                        if (out != q)
                                *out++ = '&';
                        memmove(out, in, len);
                        out += len;
                }
                in += len;
                if (*in == '&')
                        in++;
        }
        *out = '\0';
}

static void ascii_lower(char *s)
{
        for (; *s; s++) {
                if (*s >= 'A' && *s <= 'Z')
                        *s = (char)(*s + 32);
        }
}

/* Percent-escapes mean the same in either case (RFC 3986, 6.2.2.1);
 * upper case makes "%c3%a9" and "%C3%A9" one URL. */
static void escapes_upper(char *s)
{
        for (; *s; s++) {
                if (*s != '%')
                        continue;
                if (s[1] >= 'a' && s[1] <= 'f')
                        s[1] = (char)(s[1] - 32);
                if (s[1] && s[2] >= 'a' && s[2] <= 'f')
                        s[2] = (char)(s[2] - 32);
        }
}

/* A path character curl's parser keeps as it is written: RFC 3986's
 * unreserved and sub-delims, ':', '@' and '/'. No '%' (its escapes are
 * upper-cased), no '?' or '#' (the query is filtered, the fragment
 * dropped). */
static int is_plain_path_char(unsigned char c)
{
        return is_alpha(c) || (c >= '0' && c <= '9') ||
               (c != 0 && strchr("-._~!$&'()*+,;=:@/", c) != NULL);
}

/* The canonical form of the most common link, "http(s)://host/path" or
 * "http(s)://host/path?query" with a lower-case scheme and plain
 * characters, written directly: the URL itself with its host
 * lower-cased and its query filtered, which is what the curl round trip
 * below gives it (a parse and three re-serialisations per article, about
 * 6 % of a replay's main thread). NULL when the URL is not of that
 * shape, and the full route decides. The shape, kept narrow so that
 * curl has nothing to change: host labels of [A-Za-z0-9-], the last
 * starting with a letter (so that curl never reads the host as an IPv4
 * number), no userinfo or port; a path that starts with '/' and has no
 * dot segment ("/." anywhere sends it the full way); path and query of
 * the characters above only, so no escape and no fragment. At most
 * PLAIN_MAX bytes: curl's parser refuses a URL longer than 8,000,000
 * bytes (CURL_MAX_INPUT_LENGTH, not in its headers), and such a link
 * has no canonical form; links that long go its way and keep that. */
#define PLAIN_MAX 65536
static char *canonical_plain(const char *u, size_t len)
{
        size_t i, start, label, host_end, path_end;
        char *res;

        if (len > PLAIN_MAX)
                return NULL;
        if (len > 7 && memcmp(u, "http://", 7) == 0)
                start = 7;
        else if (len > 8 && memcmp(u, "https://", 8) == 0)
                start = 8;
        else
                return NULL;
        label = start; /* where the host's current label begins */
        for (i = start; i < len && u[i] != '/'; i++) {
                unsigned char c = (unsigned char)u[i];

                if (c == '.') {
                        if (i == label)
                                return NULL; /* an empty label */
                        label = i + 1;
                } else if (!is_alpha(c) && !(c >= '0' && c <= '9') &&
                           c != '-') {
                        return NULL;
                }
        }
        host_end = i;
        if (host_end == len || host_end - start > 253 || label == host_end ||
            !is_alpha((unsigned char)u[label]))
                return NULL;
        for (; i < len && u[i] != '?'; i++) {
                if (!is_plain_path_char((unsigned char)u[i]))
                        return NULL;
                if (u[i] == '.' && u[i - 1] == '/')
                        return NULL;
        }
        path_end = i;
        for (i = path_end + 1; i < len; i++)
                if (!is_plain_path_char((unsigned char)u[i]))
                        return NULL;
        res = nt_strdup_n(u, len);
        if (!res)
                return NULL;
        for (i = start; i < host_end; i++)
                if (res[i] >= 'A' && res[i] <= 'Z')
                        res[i] = (char)(res[i] + 32);
        if (path_end < len) {
                /* The query as curl hands it over and takes it back: the
                 * same filter; '?' goes with an emptied one. */
                query_filter(res + path_end + 1);
                if (res[path_end + 1] == '\0')
                        res[path_end] = '\0';
        }
        return res;
}

char *nt_url_canonical(const char *url)
{
        const char *u = url;
        size_t ulen;
        CURLU *h = NULL;
        char *enc = NULL, *host = NULL, *query = NULL, *s = NULL, *res = NULL;

        if (!url)
                return NULL;
        ulen = strlen(u);
        trim(&u, &ulen);
        if (!scheme_is(u, ulen, "http") && !scheme_is(u, ulen, "https"))
                return NULL;
        res = canonical_plain(u, ulen);
        if (res)
                return res;
        enc = encode_ref(u, ulen);
        h = curl_url();
        if (!enc || !h)
                goto out;
        if (curl_url_set(h, CURLUPART_URL, enc, 0) ||
            curl_url_get(h, CURLUPART_HOST, &host, 0))
                goto out;
        ascii_lower(host);
        if (curl_url_set(h, CURLUPART_HOST, host, 0) ||
            curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0))
                goto out;
        if (curl_url_get(h, CURLUPART_QUERY, &query, 0) == CURLUE_OK) {
                query_filter(query);
                if (curl_url_set(h, CURLUPART_QUERY, query[0] ? query : NULL,
                                 0))
                        goto out;
        }
        if (curl_url_get(h, CURLUPART_URL, &s, CURLU_NO_DEFAULT_PORT))
                goto out;
        res = from_curl(s);
        s = NULL;
        if (res)
                escapes_upper(res);
out:
        curl_free(s);
        curl_free(query);
        curl_free(host);
        curl_url_cleanup(h);
        free(enc);
        return res;
}

/* The userinfo of the first "://...@" at or after `s`: [*from, *to) is
 * the userinfo with its "@"; false when there is none. */
static bool userinfo_span(const char *s, const char **from, const char **to)
{
        const char *p = s, *auth, *at;

        while ((p = strstr(p, "://")) != NULL) {
                auth = p + 3;
                at = NULL;
                for (p = auth; *p && !strchr("/?#\\\"'<> \t\r\n", *p); p++) {
                        if (*p == '@')
                                at = p;
                }
                if (at) {
                        *from = auth;
                        *to = at + 1;
                        return true;
                }
        }
        return false;
}

size_t nt_url_scrub_userinfo(char *text)
{
        const char *from, *to;
        char *p = text;
        size_t len = strlen(text);

        while (userinfo_span(p, &from, &to)) {
                size_t cut = (size_t)(to - from);
                char *f = text + (from - text);

                memmove(f, to, len - (size_t)(to - text) + 1);
                len -= cut;
                p = f;
        }
        return len;
}

char *nt_url_without_userinfo(const char *url, const char *mask)
{
        const char *from, *to;
        struct nt_buf b;
        char *s;

        if (!url)
                return NULL;
        if (!mask) {
                s = strdup(url);
                if (s)
                        nt_url_scrub_userinfo(s);
                return s;
        }
        if (!userinfo_span(url, &from, &to))
                return strdup(url);
        nt_buf_init(&b, strlen(url) + strlen(mask) + 1);
        if (nt_buf_append(&b, url, (size_t)(from - url)) ||
            nt_buf_append_str(&b, mask) || nt_buf_append_char(&b, '@') ||
            nt_buf_append_str(&b, to)) {
                nt_buf_free(&b);
                return NULL;
        }
        return nt_buf_detach(&b);
}

bool nt_url_is_http(const char *url)
{
        return strncasecmp(url, "http://", 7) == 0 ||
               strncasecmp(url, "https://", 8) == 0;
}
