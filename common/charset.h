/* Character encodings of fetched documents: finds the encoding (byte
 * order mark, then the HTTP charset, then the XML declaration or JSON's
 * rules, then UTF-8) and converts the bytes to UTF-8 with iconv. Bytes
 * that do not decode are replaced with U+FFFD, never fatal. */
#ifndef NT_CHARSET_H
#define NT_CHARSET_H

#include <stddef.h>

/* Copies the charset parameter of a Content-Type value ("text/xml;
 * charset=windows-1251" -> "windows-1251", quotes removed) into buf.
 * Returns 0, or NT_ERR_NOTFOUND when there is none. */
int nt_charset_from_content_type(const char *content_type, char *buf,
                                 size_t size);

/* What a decode's `*recovered` says. */
enum nt_charset_recovery {
        NT_CHARSET_AS_DECLARED = 0,  /* read in the encoding chosen */
        NT_CHARSET_FALLBACK = 1,     /* the bytes did not fit the label, or
                                        the label is unknown */
        NT_CHARSET_UTF8_SNIFFED = 2, /* a single-byte label over UTF-8 */
};

/* Decodes a document to UTF-8.
 * `http_charset` is the HTTP charset (may be NULL). The precedence is: a
 * byte order mark (UTF-8, UTF-16LE/BE, UTF-32LE/BE), then http_charset,
 * then the encoding of an XML declaration at the start, then UTF-8.
 * Labels are normalised: ISO-8859-1, latin1 and US-ASCII are read as
 * windows-1252 (its superset, as the WHATWG Encoding Standard and
 * browsers do: feeds labelled ISO-8859-1 routinely hold 0x80-0x9F
 * punctuation). When the chosen encoding is single-byte (windows-125x,
 * ISO-8859-x, KOI8, Mac) but the bytes are valid UTF-8 holding
 * multi-byte sequences, the label is taken for a mistake and the bytes
 * are read as UTF-8; `*recovered` is NT_CHARSET_UTF8_SNIFFED. When the
 * chosen encoding is UTF-8 and the bytes are not valid UTF-8,
 * windows-1252 is used instead (the recovery path), and `*recovered` is
 * NT_CHARSET_FALLBACK.
 * The output is NUL-terminated UTF-8 without a BOM; its length excludes
 * the NUL. At most `max_out` bytes are produced: more is NT_ERR_LIMIT.
 * `encoding` receives the name of the encoding used, lower-case
 * ("utf-8", "windows-1251", "utf-16le"). An unknown label falls back to
 * UTF-8 with the recovery path and `*recovered` NT_CHARSET_FALLBACK.
 * A Content-Type without a charset passes NULL: then the BOM or the XML
 * declaration decides (RFC 7303 for text/xml as for application/xml;
 * RFC 3023's US-ASCII default for text/xml is not applied).
 * Caller frees *out with free(). Returns 0, NT_ERR_LIMIT or NT_ERR_NOMEM. */
int nt_charset_to_utf8(const char *data, size_t len, const char *http_charset,
                       size_t max_out, char **out, size_t *out_len,
                       char *encoding, size_t encoding_size, int *recovered);

/* The same, but when the document is already valid UTF-8 to be read as
 * UTF-8 (the common case), *out points into `data` (past a BOM) instead of
 * a copy, and *borrowed is set: *out is then not NUL-terminated, lives as
 * long as `data`, and is not freed. Otherwise as nt_charset_to_utf8()
 * (*borrowed 0, caller frees *out with free()). Copying a 30 MB feed costs
 * about an eighth of parsing it. */
int nt_charset_to_utf8_view(const char *data, size_t len,
                            const char *http_charset, size_t max_out,
                            const char **out, size_t *out_len, int *borrowed,
                            char *encoding, size_t encoding_size,
                            int *recovered);

#endif
