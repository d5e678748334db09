#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *nt_err_name(int err)
{
        switch (err) {
        case NT_OK:
                return "ok";
        case NT_ERR_INVALID:
                return "invalid";
        case NT_ERR_NOMEM:
                return "out of memory";
        case NT_ERR_IO:
                return "io";
        case NT_ERR_PARSE:
                return "parse";
        case NT_ERR_LIMIT:
                return "limit";
        case NT_ERR_NOTFOUND:
                return "not found";
        case NT_ERR_TIMEOUT:
                return "timeout";
        case NT_ERR_TRANSIENT:
                return "transient";
        case NT_ERR_KAFKA:
                return "kafka";
        case NT_ERR_CONFIG:
                return "config";
        case NT_ERR_USAGE:
                return "usage";
        case NT_ERR_STOPPED:
                return "stopped";
        }
        return "unknown";
}

bool nt_err_retriable(int err)
{
        return err == NT_ERR_TIMEOUT || err == NT_ERR_TRANSIENT ||
               err == NT_ERR_IO;
}

int nt_errf(char *errstr, size_t errstr_size, int err, const char *fmt, ...)
{
        va_list ap;

        if (errstr && errstr_size > 0) {
                va_start(ap, fmt);
                vsnprintf(errstr, errstr_size, fmt, ap);
                va_end(ap);
        }
        return err;
}

int nt_err_exit_code(int err)
{
        if (err == NT_OK)
                return 0;
        if (err == NT_ERR_USAGE || err == NT_ERR_CONFIG)
                return 2;
        return 1;
}
