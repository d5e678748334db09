/* Reading a feed document: bytes as fetched in, the model of
 * common/feed.h out, whatever the format (detected from the content) and
 * the charset. The one entry point of the feed parser. */
#ifndef NT_FEED_PARSE_H
#define NT_FEED_PARSE_H

#include <stddef.h>

#include "common/feed.h"

/* Parses one document: `data`/`len` are the bytes as fetched,
 * `content_type` the HTTP Content-Type (its charset is used; may be
 * NULL), `base_url` what relative links resolve against (Content-Location
 * or the request URL; may be NULL), `limits` NULL for the defaults. The
 * format is detected from the content. `feed` must have been initialised
 * with nt_feed_init(); the caller frees it with nt_feed_free() whatever
 * this returns.
 * Returns 0 when a feed was read, possibly recovered from an ill-formed
 * document (then feed->wellformed is false and feed->errors say where);
 * NT_ERR_LIMIT when the document is larger than limits->max_document
 * (nothing is parsed); NT_ERR_PARSE when nothing could be recovered (not
 * a feed, or ill-formed before anything readable); NT_ERR_NOMEM. */
int nt_feed_parse(const char *data, size_t len, const char *content_type,
                  const char *base_url, const struct nt_feed_limits *limits,
                  struct nt_feed *feed, char *errstr, size_t errstr_size);

#endif
