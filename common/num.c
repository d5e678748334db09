#include "common/num.h"
#include "common/err.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int nt_num_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
        char *end = NULL;
        long long v;

        /* strtoll skips leading spaces and accepts them silently; a
         * configuration value " 12" is almost always a mistake. */
        if (!s || !*s || isspace((unsigned char)*s))
                return NT_ERR_INVALID;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (end == s || *end != '\0')
                return NT_ERR_INVALID;
        if (errno == ERANGE || v < min || v > max)
                return NT_ERR_LIMIT;
        *out = (int64_t)v;
        return NT_OK;
}

int nt_num_parse_double(const char *s, double min, double max, double *out)
{
        char *end = NULL;
        double v;

        if (!s || !*s || isspace((unsigned char)*s))
                return NT_ERR_INVALID;
        errno = 0;
        v = strtod(s, &end);
        if (end == s || *end != '\0' || isnan(v))
                return NT_ERR_INVALID;
        if (errno == ERANGE || isinf(v) || v < min || v > max)
                return NT_ERR_LIMIT;
        *out = v;
        return NT_OK;
}

/* Reads the leading unsigned decimal digits of *sp into *out, advancing
 * *sp. Fails on no digits (a NULL or empty string too) or on overflow of
 * int64_t. */
static int read_digits(const char **sp, int64_t *out)
{
        const char *s = *sp;
        int64_t v = 0;

        if (!s || !isdigit((unsigned char)*s))
                return NT_ERR_INVALID;
        while (isdigit((unsigned char)*s)) {
                int d = *s - '0';
                if (v > (INT64_MAX - d) / 10)
                        return NT_ERR_LIMIT;
                v = v * 10 + d;
                s++;
        }
        *sp = s;
        *out = v;
        return NT_OK;
}

static int mul_add(int64_t *acc, int64_t v, int64_t mul)
{
        if (v > 0 && mul > INT64_MAX / v)
                return NT_ERR_LIMIT;
        if (*acc > INT64_MAX - v * mul)
                return NT_ERR_LIMIT;
        *acc += v * mul;
        return NT_OK;
}

int nt_num_parse_duration_ms(const char *s, int64_t unit_ms, int64_t *out_ms)
{
        static const struct {
                const char *name;
                int64_t ms;
        } units[] = {
            {"ms", 1},      {"s", 1000},     {"m", 60000},
            {"h", 3600000}, {"d", 86400000},
        };
        int64_t total = 0, v;
        int err;

        err = read_digits(&s, &v);
        if (err)
                return err;
        if (*s == '\0') {
                err = mul_add(&total, v, unit_ms);
                if (err)
                        return err;
                *out_ms = total;
                return NT_OK;
        }
        for (;;) {
                size_t i, len = 0;

                while (isalpha((unsigned char)s[len]))
                        len++;
                for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                        if (strlen(units[i].name) == len &&
                            strncasecmp(s, units[i].name, len) == 0)
                                break;
                }
                if (len == 0 || i == sizeof(units) / sizeof(units[0]))
                        return NT_ERR_INVALID;
                err = mul_add(&total, v, units[i].ms);
                if (err)
                        return err;
                s += len;
                if (*s == '\0')
                        break;
                err = read_digits(&s, &v);
                if (err)
                        return err;
        }
        *out_ms = total;
        return NT_OK;
}

int nt_num_parse_size(const char *s, int64_t *out_bytes)
{
        static const struct {
                const char *name;
                int64_t mul;
        } units[] = {
            {"", 1},
            {"b", 1},
            {"k", 1024},
            {"kb", 1024},
            {"kib", 1024},
            {"m", 1024 * 1024},
            {"mb", 1024 * 1024},
            {"mib", 1024 * 1024},
            {"g", 1024LL * 1024 * 1024},
            {"gb", 1024LL * 1024 * 1024},
            {"gib", 1024LL * 1024 * 1024},
        };
        int64_t v, total = 0;
        size_t i;
        int err;

        err = read_digits(&s, &v);
        if (err)
                return err;
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (strcasecmp(s, units[i].name) == 0)
                        break;
        }
        if (i == sizeof(units) / sizeof(units[0]))
                return NT_ERR_INVALID;
        err = mul_add(&total, v, units[i].mul);
        if (err)
                return err;
        *out_bytes = total;
        return NT_OK;
}

void nt_num_hex(const unsigned char *bytes, size_t n, char *out)
{
        static const char digits[] = "0123456789abcdef";
        size_t i;

        for (i = 0; i < n; i++) {
                out[2 * i] = digits[bytes[i] >> 4];
                out[2 * i + 1] = digits[bytes[i] & 0x0F];
        }
        out[2 * n] = '\0';
}
