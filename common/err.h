/* Error codes shared by every module, and the errstr convention.
 * Fallible calls return 0 or a negative NT_ERR_* code and, where they take
 * one, fill a caller-provided `char *errstr, size_t errstr_size` (may be
 * NULL) with a sentence saying what happened and where. */
#ifndef NT_ERR_H
#define NT_ERR_H

#include <stdbool.h>
#include <stddef.h>

enum nt_err {
        NT_OK = 0,
        NT_ERR_INVALID = -1,   /* bad argument or value: permanent */
        NT_ERR_NOMEM = -2,     /* allocation failed */
        NT_ERR_IO = -3,        /* file or socket error */
        NT_ERR_PARSE = -4,     /* malformed input: permanent */
        NT_ERR_LIMIT = -5,     /* a configured limit was crossed */
        NT_ERR_NOTFOUND = -6,  /* no such file, key or item */
        NT_ERR_TIMEOUT = -7,   /* gave up waiting: retriable */
        NT_ERR_TRANSIENT = -8, /* broker down, HTTP 5xx: retriable */
        NT_ERR_KAFKA = -9,     /* librdkafka refused: see errstr */
        NT_ERR_CONFIG = -10,   /* configuration error: permanent */
        NT_ERR_USAGE = -11,    /* command-line usage error */
        NT_ERR_STOPPED = -12,  /* interrupted by a shutdown signal */
};

/* Short lower-case name of an error code ("parse", "timeout"). Static. */
const char *nt_err_name(int err);

/* True when trying the same operation again later may succeed. */
bool nt_err_retriable(int err);

/* Formats a message into errstr (when not NULL and errstr_size > 0) and
 * returns err, so that callers can write `return nt_errf(...)`. */
int nt_errf(char *errstr, size_t errstr_size, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Exit status of a command for an error code: 0 OK, 2 usage or
 * configuration errors, 1 anything else. */
int nt_err_exit_code(int err);

#endif
