/* The entry point that turns fetched bytes into a feed: the document
 * limit, the charset (HTTP header, BOM, XML declaration), then the format
 * sniffed from the first significant byte, and the text handed to the
 * JSON Feed or the XML reader. It stands on the model (common/feed.h) and
 * the two readers (common/feed_json.h, common/feed_xml.h), which stand on
 * the model alone. */
#include "common/feed_parse.h"
#include "common/charset.h"
#include "common/err.h"
#include "common/feed_json.h"
#include "common/feed_xml.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
               c == '\v';
}

/* The first byte that is not white space, or NUL. */
static char first_significant(const char *s, size_t len)
{
        size_t i;

        for (i = 0; i < len; i++) {
                if (!is_space(s[i]))
                        return s[i];
        }
        return '\0';
}

int nt_feed_parse(const char *data, size_t len, const char *content_type,
                  const char *base_url, const struct nt_feed_limits *limits,
                  struct nt_feed *feed, char *errstr, size_t errstr_size)
{
        char http_charset[64];
        const char *charset = NULL, *utf8 = NULL;
        size_t utf8_len = 0, max_out;
        int rc, recovered = 0, borrowed = 0;

        if (limits)
                feed->limits = *limits;
        if (len > feed->limits.max_document) {
                feed->truncated = true;
                feed->cuts |= NT_FEED_CUT_DOCUMENT;
                return nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                               "document of %zu bytes is larger than the "
                               "limit of %zu",
                               len, feed->limits.max_document);
        }
        /* Only an explicit charset parameter counts. A text/xml (or any
         * text/ type) without one leaves the choice to the BOM and the
         * XML declaration, as RFC 7303 says and as feed readers do:
         * RFC 3023's US-ASCII default would override the prolog of
         * every such feed for no gain (see docs/feeds.md). */
        if (content_type &&
            nt_charset_from_content_type(content_type, http_charset,
                                         sizeof(http_charset)) == NT_OK)
                charset = http_charset;
        /* A single-byte encoding can triple in UTF-8 (0x80 in
         * windows-1252 is U+20AC, three bytes); UTF-16 grows by half. */
        max_out = feed->limits.max_document;
        max_out = max_out > SIZE_MAX / 3 ? SIZE_MAX : max_out * 3;
        /* Valid UTF-8 (most feeds) is parsed in place, without a copy. */
        rc = nt_charset_to_utf8_view(data, len, charset, max_out, &utf8,
                                     &utf8_len, &borrowed, feed->encoding,
                                     sizeof(feed->encoding), &recovered);
        if (rc) {
                rc = nt_errf(errstr, errstr_size, rc,
                             "cannot decode the document to UTF-8: %s",
                             nt_err_name(rc));
                goto out;
        }
        if (recovered == NT_CHARSET_UTF8_SNIFFED)
                rc = nt_feed_add_error(feed, 0, 0, false,
                                       "labelled with a single-byte encoding "
                                       "but the bytes are UTF-8; decoded as "
                                       "utf-8");
        else if (recovered)
                rc = nt_feed_add_error(feed, 0, 0, false,
                                       "bytes not valid in the declared "
                                       "encoding; decoded as %s",
                                       feed->encoding);
        if (rc)
                goto out;
        if (first_significant(utf8, utf8_len) == '{')
                rc = nt_feed_json_parse(feed, utf8, utf8_len, base_url, errstr,
                                        errstr_size);
        else
                rc = nt_feed_xml_parse(feed, utf8, utf8_len, base_url, errstr,
                                       errstr_size);
out:
        if (!borrowed)
                free((char *)utf8);
        return rc;
}
