/* The bounded growable buffer. */
#include "common/buf.h"
#include "common/err.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

Test(buf, appends_and_terminates)
{
        struct nt_buf b;

        nt_buf_init(&b, 1024);
        cr_assert_str_eq(nt_buf_str(&b), "", "an empty buffer reads as \"\"");
        cr_assert_eq(nt_buf_append_str(&b, "hello"), NT_OK);
        cr_assert_eq(nt_buf_append_char(&b, ' '), NT_OK);
        cr_assert_eq(nt_buf_printf(&b, "%s %d", "world", 42), NT_OK);
        cr_assert_str_eq(nt_buf_str(&b), "hello world 42");
        cr_assert_eq(b.len, strlen("hello world 42"));
        nt_buf_free(&b);
}

Test(buf, limit_is_an_error_and_keeps_contents)
{
        struct nt_buf b;
        char big[200];

        memset(big, 'x', sizeof(big));
        nt_buf_init(&b, 100);
        cr_assert_eq(nt_buf_append(&b, big, 100), NT_OK,
                     "exactly the maximum fits");
        cr_assert_eq(nt_buf_append_char(&b, 'y'), NT_ERR_LIMIT,
                     "one byte past the maximum fails");
        cr_assert_eq(b.len, 100, "a failed append leaves the length");
        cr_assert_eq(nt_buf_printf(&b, "%s", "z"), NT_ERR_LIMIT);
        cr_assert_eq(b.data[100], '\0');
        nt_buf_reset(&b);
        cr_assert_eq(nt_buf_append(&b, big, 101), NT_ERR_LIMIT);
        cr_assert_eq(nt_buf_append(&b, big, (size_t)-1), NT_ERR_LIMIT,
                     "a huge length must not overflow the check");
        nt_buf_free(&b);
}

/* Room made ahead is used by the appends that follow (no move), never
 * past the maximum, and the contents stay as they are. */
Test(buf, reserve_makes_room_within_the_maximum)
{
        struct nt_buf b;
        const char *at;
        int i;

        nt_buf_init(&b, 100);
        cr_assert_eq(nt_buf_append_str(&b, "ab"), NT_OK);
        cr_assert_eq(nt_buf_reserve(&b, 90), NT_OK);
        cr_assert_geq(b.cap, 93);
        cr_assert_leq(b.cap, 101, "no more than the maximum and its NUL");
        cr_assert_str_eq(nt_buf_str(&b), "ab");
        at = b.data;
        for (i = 0; i < 90; i++)
                cr_assert_eq(nt_buf_append_char(&b, 'x'), NT_OK);
        cr_assert_eq(b.data, at, "the appends moved the contents");
        cr_assert_eq(b.len, 92);
        cr_assert_eq(nt_buf_reserve(&b, 9), NT_ERR_LIMIT);
        cr_assert_eq(nt_buf_reserve(&b, 8), NT_OK);
        cr_assert_eq(b.len, 92);
        nt_buf_free(&b);
}

Test(buf, detach_hands_over_memory)
{
        struct nt_buf b;
        char *s;

        nt_buf_init(&b, 64);
        s = nt_buf_detach(&b);
        cr_assert_str_eq(s, "", "detaching an empty buffer gives \"\"");
        free(s);
        nt_buf_append_str(&b, "abc");
        s = nt_buf_detach(&b);
        cr_assert_str_eq(s, "abc");
        cr_assert_eq(b.len, 0);
        cr_assert_null(b.data);
        free(s);
        nt_buf_free(NULL);
}

Test(buf, array_grow_doubles_and_refuses_overflow)
{
        int *a = NULL;
        size_t cap = 0, i;

        cr_assert_eq(nt_array_grow(&a, &cap, 1, sizeof(*a)), NT_OK);
        cr_assert_eq(cap, 16, "the first step holds 16 elements");
        cr_assert_eq(nt_array_grow(&a, &cap, 16, sizeof(*a)), NT_OK);
        cr_assert_eq(cap, 16, "room enough: no change");
        cr_assert_eq(nt_array_grow(&a, &cap, 100, sizeof(*a)), NT_OK);
        cr_assert_eq(cap, 128, "doubles until the need fits");
        for (i = 0; i < 100; i++)
                a[i] = (int)i;
        cr_assert_eq(nt_array_grow(&a, &cap, (size_t)-1 / 2, sizeof(*a)),
                     NT_ERR_NOMEM, "bytes past SIZE_MAX are refused");
        cr_assert_eq(nt_array_grow(&a, &cap, (size_t)-1, 1), NT_ERR_NOMEM,
                     "a count past SIZE_MAX / 2 cannot double");
        cr_assert_eq(cap, 128, "a refused step leaves the capacity");
        cr_assert_eq(a[99], 99, "and the contents");
        free(a);
}

/* A table with a hole, as an enum's names with a value added and not
 * named yet. */
Test(buf, names_serve_both_directions)
{
        static const char *const names[] = {[0] = "zero", [2] = "two"};
        const size_t n = NT_COUNT_OF(names);

        cr_assert_eq(n, 3);
        cr_assert_str_eq(nt_name_of(names, n, 0, "?"), "zero");
        cr_assert_str_eq(nt_name_of(names, n, 2, "?"), "two");
        cr_assert_str_eq(nt_name_of(names, n, 1, "?"), "?", "a hole: fallback");
        cr_assert_str_eq(nt_name_of(names, n, 3, "?"), "?", "past the end");
        cr_assert_str_eq(nt_name_of(names, n, -1, "?"), "?", "negative");
        cr_assert_eq(nt_name_find(names, n, "two"), 2);
        cr_assert_eq(nt_name_find(names, n, "zero"), 0);
        cr_assert_eq(nt_name_find(names, n, "Two"), -1, "case counts");
        cr_assert_eq(nt_name_find(names, n, "one"), -1, "no such name");
        cr_assert_eq(nt_name_find(names, n, NULL), -1, "no name at all");
}

Test(buf, strdup_n_copies_exactly_n_bytes)
{
        char *d = nt_strdup_n("abcdef", 3);

        cr_assert_not_null(d);
        cr_assert_str_eq(d, "abc", "n bytes and a NUL, not the whole string");
        free(d);
        d = nt_strdup_n("", 0);
        cr_assert_not_null(d);
        cr_assert_str_eq(d, "", "zero bytes give an empty string");
        free(d);
}
