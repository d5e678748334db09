/* A faster reader for JSON documents that jansson will hold: the same
 * tree json_loadb(buf, len, 0, error) makes, built through jansson's own
 * API, from a scanner that reads long strings 16 bytes at a time instead
 * of jansson's byte-by-byte lexer (about half of `classify --offline`'s
 * time on real articles went there). It is the input side's counterpart
 * of common/json_out.h.
 *
 * The scanner takes the common case only: objects, arrays, strings,
 * true/false/null and integers of up to 18 digits, nested at most
 * NT_JSON_IN_DEPTH deep. A document with anything else (a real number, a
 * longer integer, an escape in a key, deeper nesting, "\u0000") or with
 * any error is read by json_loadb() itself, so results and error messages
 * are jansson's. */
#ifndef NT_JSON_IN_H
#define NT_JSON_IN_H

#include <jansson.h>
#include <stddef.h>

#define NT_JSON_IN_DEPTH 64

/* What json_loadb(buf, len, 0, error) returns: a new reference (caller
 * frees with json_decref()), or NULL with *error set (error may be NULL).
 * On success *error is left as it was. */
json_t *nt_json_in_load(const char *buf, size_t len, json_error_t *error);

/* What json_loadb(buf, len, JSON_REJECT_DUPLICATES, error) returns: the
 * same, except that an object with a repeated key is an error (jansson's,
 * with its message and position). For inputs read as records, where a
 * repeated key is a defect (replay's JSON lines). */
json_t *nt_json_in_load_unique(const char *buf, size_t len,
                               json_error_t *error);

/* The scanner alone: the tree json_loadb(buf, len, 0, NULL) makes, or
 * NULL when it declines the document (see above; out of memory too).
 * For tests and the fuzz target, which compare it with jansson. */
json_t *nt_json_in_scan(const char *buf, size_t len);

#endif
