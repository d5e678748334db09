/* The JSON Feed 1.0 and 1.1 half of the feed parser, on jansson.
 * Internal to the feed module: callers use nt_feed_parse() in
 * common/feed_parse.h. */
#ifndef NT_FEED_JSON_H
#define NT_FEED_JSON_H

#include <stddef.h>

#include "common/feed.h"

/* Reads the UTF-8 text `utf8` (`len` bytes) as a JSON Feed into `feed`.
 * Relative URLs resolve against `base_url` (may be NULL). Returns 0,
 * NT_ERR_PARSE when the text is not JSON or not a JSON Feed (nothing is
 * recoverable from broken JSON), NT_ERR_NOMEM. */
int nt_feed_json_parse(struct nt_feed *feed, const char *utf8, size_t len,
                       const char *base_url, char *errstr, size_t errstr_size);

#endif
