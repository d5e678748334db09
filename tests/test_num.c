/* The checked number, duration and size parsers. */
#include "common/err.h"
#include "common/num.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>

/* Criterion may run each case in a fresh process of a position-
 * independent binary, so parameters hold their text, not pointers. */
struct i64_case {
        char in[32];
        int64_t min, max;
        int err;
        int64_t want;
};

ParameterizedTestParameters(num, i64)
{
        static struct i64_case cases[] = {
            {"0", 0, 10, NT_OK, 0},
            {"10", 0, 10, NT_OK, 10},
            {"-5", -10, 10, NT_OK, -5},
            {"11", 0, 10, NT_ERR_LIMIT, 0},
            {"-1", 0, 10, NT_ERR_LIMIT, 0},
            {"", 0, 10, NT_ERR_INVALID, 0},
            {" 1", 0, 10, NT_ERR_INVALID, 0},
            {"1 ", 0, 10, NT_ERR_INVALID, 0},
            {"12abc", 0, 100, NT_ERR_INVALID, 0},
            {"0x10", 0, 100, NT_ERR_INVALID, 0},
            {"abc", 0, 100, NT_ERR_INVALID, 0},
            {"9223372036854775807", INT64_MIN, INT64_MAX, NT_OK, INT64_MAX},
            {"9223372036854775808", INT64_MIN, INT64_MAX, NT_ERR_LIMIT, 0},
            {"-9223372036854775809", INT64_MIN, INT64_MAX, NT_ERR_LIMIT, 0},
        };
        return cr_make_param_array(struct i64_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct i64_case *c, num, i64)
{
        int64_t v = -42;
        int err = nt_num_parse_i64(c->in, c->min, c->max, &v);

        cr_assert_eq(err, c->err, "\"%s\": error %d, want %d", c->in, err,
                     c->err);
        if (c->err == NT_OK)
                cr_assert_eq(v, c->want, "\"%s\": got %lld", c->in,
                             (long long)v);
        else
                cr_assert_eq(v, -42, "\"%s\": output written on error", c->in);
}

struct dur_case {
        char in[32];
        int64_t unit;
        int err;
        int64_t want_ms;
};

ParameterizedTestParameters(num, duration)
{
        static struct dur_case cases[] = {
            {"30", 1000, NT_OK, 30000},
            {"30", 1, NT_OK, 30},
            {"500ms", 1000, NT_OK, 500},
            {"2s", 1, NT_OK, 2000},
            {"5m", 1, NT_OK, 300000},
            {"1h30m", 1, NT_OK, 5400000},
            {"2d", 1, NT_OK, 172800000},
            {"1H", 1, NT_OK, 3600000},
            {"", 1, NT_ERR_INVALID, 0},
            {"s", 1, NT_ERR_INVALID, 0},
            {"5x", 1, NT_ERR_INVALID, 0},
            {"5m3", 1, NT_ERR_INVALID, 0},
            {"-5s", 1, NT_ERR_INVALID, 0},
            {"1.5h", 1, NT_ERR_INVALID, 0},
            {"99999999999999999d", 1, NT_ERR_LIMIT, 0},
        };
        return cr_make_param_array(struct dur_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct dur_case *c, num, duration)
{
        int64_t v = 0;
        int err = nt_num_parse_duration_ms(c->in, c->unit, &v);

        cr_assert_eq(err, c->err, "\"%s\": error %d, want %d", c->in, err,
                     c->err);
        if (c->err == NT_OK)
                cr_assert_eq(v, c->want_ms, "\"%s\": got %lld ms", c->in,
                             (long long)v);
}

struct size_case {
        char in[32];
        int err;
        int64_t want;
};

ParameterizedTestParameters(num, size)
{
        static struct size_case cases[] = {
            {"0", NT_OK, 0},
            {"100", NT_OK, 100},
            {"100B", NT_OK, 100},
            {"4k", NT_OK, 4096},
            {"4KiB", NT_OK, 4096},
            {"32MiB", NT_OK, 32 * 1024 * 1024},
            {"32mb", NT_OK, 32 * 1024 * 1024},
            {"1GiB", NT_OK, 1024LL * 1024 * 1024},
            {"1TiB", NT_ERR_INVALID, 0},
            {"MiB", NT_ERR_INVALID, 0},
            {"1 MiB", NT_ERR_INVALID, 0},
            {"99999999999999GiB", NT_ERR_LIMIT, 0},
        };
        return cr_make_param_array(struct size_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct size_case *c, num, size)
{
        int64_t v = 0;
        int err = nt_num_parse_size(c->in, &v);

        cr_assert_eq(err, c->err, "\"%s\": error %d, want %d", c->in, err,
                     c->err);
        if (c->err == NT_OK)
                cr_assert_eq(v, c->want, "\"%s\": got %lld", c->in,
                             (long long)v);
}

Test(num, double_rejects_junk_and_nan)
{
        double d = 0;

        cr_assert_eq(nt_num_parse_double("0.25", 0, 1, &d), NT_OK);
        cr_assert_float_eq(d, 0.25, 1e-12);
        cr_assert_eq(nt_num_parse_double("0.25x", 0, 1, &d), NT_ERR_INVALID);
        cr_assert_eq(nt_num_parse_double("nan", 0, 1, &d), NT_ERR_INVALID);
        cr_assert_eq(nt_num_parse_double("2", 0, 1, &d), NT_ERR_LIMIT);
        cr_assert_eq(nt_num_parse_double("1e999", 0, 1e300, &d), NT_ERR_LIMIT);
}
