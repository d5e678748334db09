/* The JSON writer's string escaping, through
 * nt_json_out_append_escaped(), which consumer/enriched.c's hand-built
 * events share with the writer: the exact bytes, since the events and
 * the articles are compared byte for byte across versions. */
#include "common/buf.h"
#include "common/err.h"
#include "common/json_out.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

struct escape_case {
        char name[40];
        char in[80];
        size_t in_len; /* 0: strlen(in) */
        char want[160];
};

ParameterizedTestParameters(json_out, escapes)
{
        static struct escape_case cases[] = {
            {"plain ASCII", "Port cranes idle", 0, "Port cranes idle"},
            {"quote and backslash", "a\"b\\c", 0, "a\\\"b\\\\c"},
            {"the letter escapes", "\b\f\n\r\t", 0, "\\b\\f\\n\\r\\t"},
            {"other controls as \\u00XX", "\x01-\x1f", 0, "\\u0001-\\u001F"},
            {"NUL inside the text", "a\0b", 3, "a\\u0000b"},
            {"DEL stays", "a\x7fz", 0, "a\x7fz"},
            {"two-, three-, four-byte characters",
             "\xc3\xa9 \xd0\x96 \xe2\x82\xac \xf0\x9f\x98\x80", 0,
             "\xc3\xa9 \xd0\x96 \xe2\x82\xac \xf0\x9f\x98\x80"},
            {"U+2028 and U+2029 stay", "a\xe2\x80\xa8z\xe2\x80\xa9", 0,
             "a\xe2\x80\xa8z\xe2\x80\xa9"},
            {"a stray byte", "a\xffz", 0, "a\xef\xbf\xbdz"},
            {"a character cut at the end", "ab\xc3", 0, "ab\xef\xbf\xbd"},
            {"an overlong form", "\xc0\xaf", 0, "\xef\xbf\xbd\xef\xbf\xbd"},
            {"a surrogate", "\xed\xa0\x80", 0,
             "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
            /* Past 16 bytes, where the SSE2 scan hands over. */
            {"escapes after whole blocks",
             "0123456789abcdef\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0"
             "\x96\xd0\x96\xd0\x96\"\x01",
             0,
             "0123456789abcdef\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0\x96\xd0"
             "\x96\xd0\x96\xd0\x96\\\"\\u0001"},
        };
        return cr_make_param_array(struct escape_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct escape_case *c, json_out, escapes)
{
        size_t n = c->in_len ? c->in_len : strlen(c->in);
        struct nt_buf b;

        nt_buf_init(&b, 1 << 16);
        cr_assert_eq(nt_buf_append_str(&b, "["), NT_OK);
        cr_assert_eq(nt_json_out_append_escaped(&b, c->in, n), NT_OK, "%s",
                     c->name);
        cr_assert_eq(nt_buf_append_str(&b, "]"), NT_OK);
        cr_assert_eq(b.len, strlen(c->want) + 2, "%s: [%s]", c->name,
                     nt_buf_str(&b));
        cr_assert_eq(memcmp(b.data + 1, c->want, strlen(c->want)), 0,
                     "%s: [%s]", c->name, nt_buf_str(&b));
        cr_assert_str_eq(nt_buf_str(&b) + b.len - 1, "]",
                         "%s: what the caller had and adds stays", c->name);
        nt_buf_free(&b);
}

/* The buffer's maximum counts the escapes, not the input. */
Test(json_out, append_escaped_stops_at_the_buffer_maximum)
{
        struct nt_buf b;

        nt_buf_init(&b, 8);
        cr_assert_eq(nt_json_out_append_escaped(&b, "abcd", 4), NT_OK);
        cr_assert_eq(nt_json_out_append_escaped(&b, "\x01", 1), NT_ERR_LIMIT,
                     "6 bytes of escape do not fit in the 4 left");
        cr_assert_eq(b.len, 4, "the failed append left %zu bytes", b.len);
        cr_assert_str_eq(nt_buf_str(&b), "abcd");
        cr_assert_eq(nt_json_out_append_escaped(&b, "\t\t", 2), NT_OK,
                     "two 2-byte escapes fill it exactly");
        cr_assert_str_eq(nt_buf_str(&b), "abcd\\t\\t");
        nt_buf_free(&b);
}
