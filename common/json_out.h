/* A streaming JSON writer: values appended to a buffer as they come, for
 * outputs that are written once and never read back as a tree (the
 * article on Kafka, `newstap parse`). Its bytes are those jansson's
 * json_dumps() writes for the same values (JSON_PRESERVE_ORDER, with
 * JSON_COMPACT or JSON_INDENT(n)): the same escapes ('"', '\\', and the
 * C0 controls, as \b \f \n \r \t or \u00XX in upper-case hex; '/' and
 * non-ASCII as they are), so a change of writer changes no output.
 * Strings that are not valid UTF-8 are written with U+FFFD for each byte
 * that starts no well-formed character, as nt_feed_json_str() does.
 *
 * Errors are sticky: after the first failure (out of memory, the buffer's
 * maximum, nesting past NT_JSON_OUT_DEPTH) every call does nothing, and
 * nt_json_out_finish() reports it. */
#ifndef NT_JSON_OUT_H
#define NT_JSON_OUT_H

#include <stdint.h>

#include "common/buf.h"

#define NT_JSON_OUT_DEPTH 32

struct nt_json_out {
        struct nt_buf buf;
        int err;
        int indent;       /* spaces per level; 0 for compact */
        int depth;        /* open objects and arrays */
        int after_key;    /* a key was written: its value comes next */
        uint32_t used;    /* bit d: the container at depth d has an item */
        uint32_t objects; /* bit d: the container at depth d is an object */
};

/* An empty writer whose output may reach `max` bytes; `indent` 0 writes
 * compact JSON (JSON_COMPACT), n > 0 JSON_INDENT(n)'s layout. */
void nt_json_out_init(struct nt_json_out *o, size_t max, int indent);

void nt_json_out_object(struct nt_json_out *o);
void nt_json_out_array(struct nt_json_out *o);
/* Closes the innermost object or array. */
void nt_json_out_end(struct nt_json_out *o);

/* A member's key, inside an object; its value is the next call. */
void nt_json_out_key(struct nt_json_out *o, const char *key);

/* A string, or null when s is NULL. */
void nt_json_out_str(struct nt_json_out *o, const char *s);
void nt_json_out_int(struct nt_json_out *o, int64_t v);
void nt_json_out_null(struct nt_json_out *o);
void nt_json_out_bool(struct nt_json_out *o, int v);

/* Appends the bytes of s[0..n) that go between a JSON string's quotes,
 * escaped as above, to a buffer of the caller's (for a writer that
 * builds its JSON by hand, consumer/enriched.c). NT_ERR_NOMEM or
 * NT_ERR_LIMIT from the buffer. */
int nt_json_out_append_escaped(struct nt_buf *b, const char *s, size_t n);

/* The text (caller frees with free()) and 0, or NULL and the first
 * error (NT_ERR_NOMEM, NT_ERR_LIMIT). The writer is left empty. */
char *nt_json_out_finish(struct nt_json_out *o, int *err);

/* Drops what was written. NULL-safe. */
void nt_json_out_free(struct nt_json_out *o);

#endif
