/* The XML half of the feed parser (RSS 0.90-0.94, RSS 1.0, RSS 2.0, Atom
 * 0.3 and 1.0) on expat, streaming. Internal to the feed module: callers
 * use nt_feed_parse() in common/feed_parse.h. */
#ifndef NT_FEED_XML_H
#define NT_FEED_XML_H

#include <stddef.h>

#include "common/feed.h"

/* Reads the UTF-8 text `utf8` (NUL-terminated, `len` bytes) into `feed`.
 * Relative links resolve against xml:base, then `base_url` (may be
 * NULL). Returns 0 when a feed was read (maybe recovered:
 * feed->wellformed says), NT_ERR_PARSE when nothing was recoverable,
 * NT_ERR_NOMEM. */
int nt_feed_xml_parse(struct nt_feed *feed, const char *utf8, size_t len,
                      const char *base_url, char *errstr, size_t errstr_size);

#endif
