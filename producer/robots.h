/* robots.txt (RFC 9309) for the pages the producer fetches: a parser
 * that answers whether one path may be fetched, and the split of a URL
 * into the origin whose robots.txt rules it and the path those rules
 * match. The cache per origin lives with its user, the producer. */
#ifndef NT_ROBOTS_H
#define NT_ROBOTS_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of a robots.txt read at most (RFC 9309 asks for at least
 * 500 KiB); the rest is ignored. */
#define NT_ROBOTS_MAX_BYTES ((size_t)512 * 1024)

/* Whether `agent` (a product token such as "newstap") may fetch `path`
 * (the URL's path and query, starting with "/") under the robots.txt
 * `text` of `len` bytes. The groups whose User-agent is the token (case
 * aside; "newstap/1.0" counts) rule when there are any, else the "*"
 * groups, else everything is allowed. Of their Allow and Disallow rules
 * the longest matching one wins, Allow on a tie; "*" matches any run of
 * characters and a final "$" the end of the path. */
bool nt_robots_allowed(const char *text, size_t len, const char *agent,
                       const char *path);

/* Splits an http(s) URL into its origin ("scheme://host[:port]", scheme
 * and host lower-case, no userinfo) and its path and query ("/" at
 * least). NT_OK, NT_ERR_INVALID (not an absolute http(s) URL) or
 * NT_ERR_NOMEM. Caller frees both with free(). */
int nt_robots_split(const char *url, char **origin, char **path);

#endif
