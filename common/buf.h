/* A growable byte buffer with a maximum size fixed at creation, after
 * curl's dynbuf: appending past the maximum fails with NT_ERR_LIMIT and
 * leaves the contents as they were, so nothing grows without bound. The
 * contents are always NUL-terminated (the NUL is not counted in len). */
#ifndef NT_BUF_H
#define NT_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct nt_buf {
        char *data; /* NULL until the first append */
        size_t len; /* bytes in use, without the terminating NUL */
        size_t cap; /* bytes allocated */
        size_t max; /* largest len allowed */
};

/* Initialises an empty buffer that may hold at most `max` bytes. */
void nt_buf_init(struct nt_buf *b, size_t max);

/* Frees the contents and resets to empty; the maximum stays. NULL-safe. */
void nt_buf_free(struct nt_buf *b);

/* Empties the buffer but keeps its memory for reuse. */
void nt_buf_reset(struct nt_buf *b);

/* Makes room for `extra` more bytes (and the NUL) without appending:
 * for a writer that knows roughly how much is coming. NT_ERR_LIMIT past
 * the maximum, NT_ERR_NOMEM. */
int nt_buf_reserve(struct nt_buf *b, size_t extra);

/* Appends n bytes. NT_ERR_LIMIT past the maximum, NT_ERR_NOMEM. */
int nt_buf_append(struct nt_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string. */
int nt_buf_append_str(struct nt_buf *b, const char *s);

/* Appends one byte. */
int nt_buf_append_char(struct nt_buf *b, char c);

/* Appends formatted text. */
int nt_buf_printf(struct nt_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int nt_buf_vprintf(struct nt_buf *b, const char *fmt, va_list ap);

/* The contents as a C string: "" for an empty buffer. Borrowed; valid
 * until the next change to the buffer. */
const char *nt_buf_str(const struct nt_buf *b);

/* Hands the contents to the caller (caller frees with free()) and resets
 * the buffer. Returns a fresh empty string for an empty buffer, or NULL
 * when out of memory. */
char *nt_buf_detach(struct nt_buf *b);

/* A NUL-terminated copy of the n bytes at s (which need not end there).
 * Caller frees with free(); NULL when out of memory. */
char *nt_strdup_n(const char *s, size_t n);

/* Makes room in the array *pp, of *cap elements of `elem` bytes each, for
 * at least `need` elements: the capacity doubles from 16 until they fit.
 * NT_ERR_NOMEM when memory runs out or the size in bytes would overflow;
 * *pp and *cap are unchanged then. The one growth step for every array in
 * the project, so that each has its overflow check. */
int nt_array_grow(void *pp, size_t *cap, size_t need, size_t elem);

/* Names of an enum's values, as a table indexed by the values
 * (`static const char *const names[] = {[NT_X] = "x", ...}`): one table
 * serves both directions. nt_name_of() is names[value] when value is in
 * [0, n) and has a name there, else `fallback` (a value added to the enum
 * without a name gets it). nt_name_find() is the value named `name` (may
 * be NULL), or -1. The names are borrowed from the table. */
const char *nt_name_of(const char *const *names, size_t n, long value,
                       const char *fallback);
long nt_name_find(const char *const *names, size_t n, const char *name);

/* The number of entries of an array (not a pointer). */
#define NT_COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

#endif
