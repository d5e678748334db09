/* URLs with libcurl's URL API: resolving relative links against a base,
 * and the canonical form that gives one story one id. */
#ifndef NT_URL_H
#define NT_URL_H

#include <stdbool.h>
#include <stddef.h>

/* Resolves `ref` against `base` (either may be NULL or relative): *out is
 * a new absolute URL when one can be made, otherwise a copy of `ref` as
 * written (white space trimmed), and NULL when ref is NULL or blank (there
 * is nothing to resolve). NT_OK, or NT_ERR_NOMEM. Caller frees *out with
 * free(). */
int nt_url_resolve(const char *base, const char *ref, char **out);

/* The canonical form of an absolute http(s) URL: scheme and host
 * lower-case, default port dropped, fragment dropped, tracking parameters
 * removed (utm_*, fbclid, gclid, dclid, msclkid, mc_cid, mc_eid, yclid,
 * _ga, igshid, ref_src), the order of the other parameters kept, an
 * empty path as "/". Returns NULL when `url` is not an absolute http(s)
 * URL. Caller frees with free(). */
char *nt_url_canonical(const char *url);

/* True when the URL's scheme is http or https (any case): the only ones
 * newstap fetches, follows or takes as a feed. */
bool nt_url_is_http(const char *url);

/* Credentials in URLs ("https://user:pass@host/feed.xml") are for the
 * feed's server alone: these take the userinfo out of text that leaves
 * the process (articles, log lines, metric labels, dumps). The article
 * id is still computed from the URL as configured, so ids do not change.
 *
 * Removes the userinfo and its "@" from every "scheme://userinfo@host"
 * in `text`, in place; the authority ends at "/", "?", "#", white space,
 * a quote or angle bracket. Returns the new length. */
size_t nt_url_scrub_userinfo(char *text);

/* A copy of `url` with its userinfo removed (`mask` NULL) or replaced by
 * `mask` ("https://[redacted]@host/"); text without a userinfo is copied
 * as it is. NULL for NULL or when out of memory. Caller frees with
 * free(). */
char *nt_url_without_userinfo(const char *url, const char *mask);

#endif
