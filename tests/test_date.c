/* The feed date parser and the RFC 3339 formatter. Expected instants are
 * written as RFC 3339 text and turned into milliseconds by glibc's
 * timegm(), so that the parser's own calendar arithmetic is checked
 * against an independent one. Also the monotonic deadlines of timed
 * waits. */
#include "common/date.h"
#include "common/err.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Criterion may run each case in a fresh process of a position-
 * independent binary, so parameters hold their text, not pointers. */
struct ok_case {
        char in[96];
        char want[32]; /* RFC 3339 UTC, as nt_date_format() writes it */
};

struct fail_case {
        char in[64];
};

/* Parses a copy of `s` in a buffer of exactly its size, so that
 * AddressSanitizer reports any read past the terminating NUL. */
static int parse_exact(const char *s, size_t len, int64_t *ms)
{
        char *copy = malloc(len + 1);
        int err;

        cr_assert_not_null(copy);
        memcpy(copy, s, len);
        copy[len] = '\0';
        err = nt_date_parse(copy, ms);
        free(copy);
        return err;
}

/* Value of the n digits at s, for the fixed-position oracle below. */
static int field(const char *s, int n)
{
        int v = 0;

        for (int i = 0; i < n; i++) {
                cr_assert(s[i] >= '0' && s[i] <= '9', "bad expectation");
                v = v * 10 + (s[i] - '0');
        }
        return v;
}

/* Milliseconds of "YYYY-MM-DDTHH:MM:SS[.mmm]Z" by glibc's timegm(). */
static int64_t oracle_ms(const char *rfc3339)
{
        struct tm tm;
        size_t len = strlen(rfc3339);
        int64_t ms = 0;

        cr_assert(len == 20 || len == 24, "bad expectation \"%s\"", rfc3339);
        memset(&tm, 0, sizeof(tm));
        tm.tm_year = field(rfc3339, 4) - 1900;
        tm.tm_mon = field(rfc3339 + 5, 2) - 1;
        tm.tm_mday = field(rfc3339 + 8, 2);
        tm.tm_hour = field(rfc3339 + 11, 2);
        tm.tm_min = field(rfc3339 + 14, 2);
        tm.tm_sec = field(rfc3339 + 17, 2);
        if (len == 24)
                ms = field(rfc3339 + 20, 3);
        return (int64_t)timegm(&tm) * 1000 + ms;
}

static void check_ok(const struct ok_case *c)
{
        int64_t ms = -42;
        char out[32];
        int err = parse_exact(c->in, strlen(c->in), &ms);

        cr_assert_eq(err, NT_OK, "\"%s\": error %d, want %s", c->in, err,
                     c->want);
        nt_date_format(ms, out, sizeof(out));
        cr_assert_str_eq(out, c->want, "\"%s\": got %s, want %s", c->in, out,
                         c->want);
        cr_assert_eq(ms, oracle_ms(c->want), "\"%s\": %lld ms is not %s", c->in,
                     (long long)ms, c->want);
}

#define CASES(a) \
        cr_make_param_array(struct ok_case, a, sizeof(a) / sizeof(a[0]))

ParameterizedTestParameters(date, rfc822)
{
        static struct ok_case cases[] = {
            {"Sun, 28 Dec 2025 10:15:00 GMT", "2025-12-28T10:15:00Z"},
            {"mer, 16 nov 2022 00:38:15 +0100", "2022-11-15T23:38:15Z"},
            {"Mo, 05 Jan 2026 10:00:00 GMT", "2026-01-05T10:00:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 +0000", "2025-12-28T10:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 -0000", "2025-12-28T10:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 +0200", "2025-12-28T08:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 -05:00", "2025-12-28T15:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 +0545", "2025-12-28T04:30:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 -0930", "2025-12-28T19:45:00Z"},
            /* The brief's hard ones: zone name or comment after offset. */
            {"Sun, 28 Dec 2025 10:15:00 +0000 GMT", "2025-12-28T10:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 +0000 (UTC)", "2025-12-28T10:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 +0100 (CET)", "2025-12-28T09:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 +0530 IST", "2025-12-28T04:45:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 +0100 Europe/Vienna",
             "2025-12-28T09:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 GMT (a (nested) comment)",
             "2025-12-28T10:15:00Z"},
            /* Missing parts and variants. */
            {"Sun, 28 Dec 2025 10:15 GMT", "2025-12-28T10:15:00Z"},
            {"28 Dec 2025 10:15:00 +0000", "2025-12-28T10:15:00Z"},
            {"28 December 2025 10:15 GMT", "2025-12-28T10:15:00Z"},
            {"Sun 28 Dec 2025 10:15:00 GMT", "2025-12-28T10:15:00Z"},
            {"Sunday, 28 December 2025 10:15:00 GMT", "2025-12-28T10:15:00Z"},
            {"Wed, 3 Sep 2025 07:05:09 GMT", "2025-09-03T07:05:09Z"},
            {"Wed, 03 Sept 2025 07:05:09 GMT", "2025-09-03T07:05:09Z"},
            {"Thurs, 4 Sep 2025 7:05:09 GMT", "2025-09-04T07:05:09Z"},
            {"Sun,28 Dec 2025 10:15:00 GMT", "2025-12-28T10:15:00Z"},
            {"  Sun,   8  Dec\t2025  10:15:00   GMT \r\n",
             "2025-12-08T10:15:00Z"},
            {"sun, 28 dec 2025 10:15:00 gmt", "2025-12-28T10:15:00Z"},
            {"SUN, 28 DEC 2025 10:15:00 UT", "2025-12-28T10:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 Z", "2025-12-28T10:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00", "2025-12-28T10:15:00Z"},
            {"Sun, 28 Dec 2025", "2025-12-28T00:00:00Z"},
            {"Sun, 28 Dec, 2025 10:15:00 UTC", "2025-12-28T10:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00.250 GMT", "2025-12-28T10:15:00.250Z"},
            {"Sun, 28 Dec 2025 10:15:00+0100", "2025-12-28T09:15:00Z"},
            /* A wrong weekday is ignored: 2025-12-29 is a Monday. */
            {"Fri, 29 Dec 2025 10:15:00 GMT", "2025-12-29T10:15:00Z"},
            /* Two- and three-digit years (RFC 5322 section 4.3). */
            {"Sun, 28 Dec 25 10:15:00 GMT", "2025-12-28T10:15:00Z"},
            {"Mon, 01 Jan 00 00:00:00 GMT", "2000-01-01T00:00:00Z"},
            {"Thu, 31 Dec 49 23:59:59 GMT", "2049-12-31T23:59:59Z"},
            {"Sat, 01 Jan 50 00:00:00 GMT", "1950-01-01T00:00:00Z"},
            {"Fri, 31 Dec 99 12:00:00 GMT", "1999-12-31T12:00:00Z"},
            {"Sun, 28 Dec 125 10:15:00 GMT", "2025-12-28T10:15:00Z"},
            {"Sat, 01 Jan 0200 00:30:00 +0100", "0199-12-31T23:30:00Z"},
            /* RFC 850, still allowed in HTTP dates. */
            {"Sunday, 28-Dec-25 10:15:00 GMT", "2025-12-28T10:15:00Z"},
            /* Leap years. */
            {"Thu, 29 Feb 2024 12:00:00 GMT", "2024-02-29T12:00:00Z"},
            {"Tue, 29 Feb 2000 12:00:00 GMT", "2000-02-29T12:00:00Z"},
        };
        return CASES(cases);
}

ParameterizedTest(struct ok_case *c, date, rfc822)
{
        check_ok(c);
}

ParameterizedTestParameters(date, iso8601)
{
        static struct ok_case cases[] = {
            {"2025-12-28T10:15:00Z", "2025-12-28T10:15:00Z"},
            {"2025-12-28T10:15:00+02:00", "2025-12-28T08:15:00Z"},
            {"2025-12-28T10:15:00-05:00", "2025-12-28T15:15:00Z"},
            {"2025-12-28T10:15:00+05:45", "2025-12-28T04:30:00Z"},
            {"2025-12-28T10:15:00+02", "2025-12-28T08:15:00Z"},
            {"2025-12-28T10:15:00+0200", "2025-12-28T08:15:00Z"},
            {"2025-12-28T10:15:00-00:00", "2025-12-28T10:15:00Z"},
            /* Fractions of any length; milliseconds kept, the rest cut. */
            {"2025-12-28T10:15:00.1Z", "2025-12-28T10:15:00.100Z"},
            {"2025-12-28T10:15:00.12Z", "2025-12-28T10:15:00.120Z"},
            {"2025-12-28T10:15:00.123Z", "2025-12-28T10:15:00.123Z"},
            {"2025-12-28T10:15:00.123456789Z", "2025-12-28T10:15:00.123Z"},
            {"2025-12-28T10:15:00.9999Z", "2025-12-28T10:15:00.999Z"},
            {"2025-12-28T10:15:00.000Z", "2025-12-28T10:15:00Z"},
            {"2025-12-28T10:15:00,5Z", "2025-12-28T10:15:00.500Z"},
            {"2025-12-28T10:15:00.5+01:00", "2025-12-28T09:15:00.500Z"},
            {"2025-12-28T10:15:00."
             "00000000000000000000000000000000000000000000000000001Z",
             "2025-12-28T10:15:00Z"},
            /* Separators, case, missing seconds, missing zone. */
            {"2025-12-28t10:15:00z", "2025-12-28T10:15:00Z"},
            {"2025-12-28 10:15:00", "2025-12-28T10:15:00Z"},
            {"2025-12-28 10:15:00Z", "2025-12-28T10:15:00Z"},
            {"2025-12-28T10:15:00", "2025-12-28T10:15:00Z"},
            {"2025-12-28T10:15Z", "2025-12-28T10:15:00Z"},
            {"2025-12-28T10:15+01:00", "2025-12-28T09:15:00Z"},
            {"2025-12-28 10:15:00 -00:20", "2025-12-28T10:35:00Z"},
            {"2025-12-28 10:15:00 UTC", "2025-12-28T10:15:00Z"},
            {"2025-12-28 10:15:00 +0000 (UTC)", "2025-12-28T10:15:00Z"},
            {"  2025-12-28T10:15:00Z \n", "2025-12-28T10:15:00Z"},
            /* W3CDTF's reduced precision: the first instant of it. */
            {"2025-12-28", "2025-12-28T00:00:00Z"},
            {"2025-12", "2025-12-01T00:00:00Z"},
            {"2025", "2025-01-01T00:00:00Z"},
            /* ISO 8601 basic format. */
            {"20251228T101500Z", "2025-12-28T10:15:00Z"},
            {"20251228T101500.25Z", "2025-12-28T10:15:00.250Z"},
            {"20251228T1015+0100", "2025-12-28T09:15:00Z"},
            {"20251228", "2025-12-28T00:00:00Z"},
            /* Offsets crossing days, months, years and leap days. */
            {"2024-02-28T18:00:00-08:00", "2024-02-29T02:00:00Z"},
            {"2025-02-28T18:00:00-08:00", "2025-03-01T02:00:00Z"},
            {"2100-02-28T18:00:00-08:00", "2100-03-01T02:00:00Z"},
            {"2026-01-01T00:30:00+01:00", "2025-12-31T23:30:00Z"},
            {"1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"},
            {"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
            /* The edges of the supported years. */
            {"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"},
            {"9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z"},
            {"1600-02-29", "1600-02-29T00:00:00Z"},
            /* Leap seconds are read as :59, at the end of a UTC day only. */
            {"2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z"},
            {"2016-12-31T23:59:60.5Z", "2016-12-31T23:59:59.500Z"},
            {"2017-01-01T08:59:60+09:00", "2016-12-31T23:59:59Z"},
            /* A date after a weekday, with slashes (Perforce writes it). */
            {"Fri, 2025/09/12 08:19:53 EDT", "2025-09-12T12:19:53Z"},
            {"2025/09/12", "2025-09-12T00:00:00Z"},
        };
        return CASES(cases);
}

ParameterizedTest(struct ok_case *c, date, iso8601)
{
        check_ok(c);
}

ParameterizedTestParameters(date, other_forms)
{
        static struct ok_case cases[] = {
            /* asctime, date(1) and Twitter. */
            {"Sun Dec 28 10:15:00 2025", "2025-12-28T10:15:00Z"},
            {"Thu Jan  1 09:05:03 2026", "2026-01-01T09:05:03Z"},
            {"Sun Dec 28 10:15:00 UTC 2025", "2025-12-28T10:15:00Z"},
            {"Sun Dec 28 10:15:00 EST 2025", "2025-12-28T15:15:00Z"},
            {"Sun Dec 28 10:15:00 +0100 2025", "2025-12-28T09:15:00Z"},
            /* JavaScript's Date.prototype.toString and similar. */
            {"Sun Dec 28 2025 10:15:00 GMT+0100 (Central European "
             "Standard Time)",
             "2025-12-28T09:15:00Z"},
            {"Sun Dec 28 2025 10:15:00 +0100", "2025-12-28T09:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 GMT-01:30", "2025-12-28T11:45:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 UTC+2", "2025-12-28T08:15:00Z"},
            /* Month first, US style, with or without a clock. */
            {"December 28, 2025", "2025-12-28T00:00:00Z"},
            {"Dec 28 2025", "2025-12-28T00:00:00Z"},
            {"Dec 28, 2025 10:15 PM EST", "2025-12-29T03:15:00Z"},
            {"Dec 28, 2025 12:05 AM", "2025-12-28T00:05:00Z"},
            {"Dec 28, 2025 12:05 PM", "2025-12-28T12:05:00Z"},
            {"28 Dec 2025 9:05 am", "2025-12-28T09:05:00Z"},
        };
        return CASES(cases);
}

ParameterizedTest(struct ok_case *c, date, other_forms)
{
        check_ok(c);
}

ParameterizedTestParameters(date, zones)
{
        static struct ok_case cases[] = {
            {"Sun, 28 Dec 2025 10:15:00 UTC", "2025-12-28T10:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 Etc/GMT", "2025-12-28T10:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 EST", "2025-12-28T15:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 EDT", "2025-12-28T14:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 CST", "2025-12-28T16:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 CDT", "2025-12-28T15:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 MST", "2025-12-28T17:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 MDT", "2025-12-28T16:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 PST", "2025-12-28T18:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 PDT", "2025-12-28T17:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 CET", "2025-12-28T09:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 CEST", "2025-12-28T08:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 MEST", "2025-12-28T08:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 BST", "2025-12-28T09:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 JST", "2025-12-28T01:15:00Z"},
            {"Sun, 28 Dec 2025 10:15:00 ACST", "2025-12-28T00:45:00Z"},
            /* Generic North American zones follow daylight saving time. */
            {"Sun, 28 Dec 2025 10:15:00 ET", "2025-12-28T15:15:00Z"},
            {"Mon, 14 Jul 2025 10:15:00 ET", "2025-07-14T14:15:00Z"},
            {"Mon, 14 Jul 2025 10:15:00 PT", "2025-07-14T17:15:00Z"},
            {"Mon, 26 Jan 2004 16:31:00 CT", "2004-01-26T22:31:00Z"},
            {"Mon, 26 Jan 2004 16:31:00 AT", "2004-01-26T20:31:00Z"},
            {"Sun, 09 Mar 2025 01:59:00 ET", "2025-03-09T06:59:00Z"},
            {"Sun, 09 Mar 2025 03:00:00 ET", "2025-03-09T07:00:00Z"},
            {"Sun, 02 Nov 2025 00:59:00 ET", "2025-11-02T04:59:00Z"},
            {"Sun, 02 Nov 2025 02:00:00 ET", "2025-11-02T07:00:00Z"},
            /* Before 2007: first Sunday of April, last of October. */
            {"Sun, 02 Apr 2006 03:00:00 ET", "2006-04-02T07:00:00Z"},
            {"Sun, 11 Mar 2006 12:00:00 ET", "2006-03-11T17:00:00Z"},
            {"Sun, 29 Oct 2006 00:30:00 ET", "2006-10-29T04:30:00Z"},
            {"Sun, 05 Nov 2006 12:00:00 ET", "2006-11-05T17:00:00Z"},
        };
        return CASES(cases);
}

ParameterizedTest(struct ok_case *c, date, zones)
{
        check_ok(c);
}

ParameterizedTestParameters(date, must_fail)
{
        static struct fail_case cases[] = {
            {""},
            {"   "},
            {"yesterday"},
            {"now"},
            {"12:00"},
            {"Sun"},
            {"Sun,"},
            {"Dec"},
            {"Dec 2025"},
            /* Impossible dates and times. */
            {"2025-13-01"},
            {"2025-00-10"},
            {"2025-02-29"},
            {"1900-02-29"},
            {"2025-04-31"},
            {"2025-12-00"},
            {"0000-01-01"},
            {"Mon, 32 Dec 2025"},
            {"Mon, 32 Dec 2025 10:00:00 GMT"},
            {"Mon, 00 Dec 2025 10:00:00 GMT"},
            {"2025-12-28T25:00:00Z"},
            {"2025-12-28T24:00:00Z"},
            {"2025-12-28T10:60:00Z"},
            {"2025-12-28T10:15:61Z"},
            {"2025-12-28T10:15:60Z"},
            {"2016-12-31T23:59:60+01:00"},
            {"Sun, 28 Dec 2025 25:15:00 GMT"},
            {"Sun, 28 Dec 2025 13:15 PM"},
            {"Sun, 28 Dec 2025 00:15 AM"},
            /* Outside years 1 to 9999 once the zone is applied. */
            {"0001-01-01T00:30:00+01:00"},
            {"9999-12-31T23:30:00-01:00"},
            {"10000-01-01"},
            /* Malformed fields. */
            {"2025-1-28"},
            {"2025-12-8"},
            {"2025-012-28"},
            {"22025"},
            {"025"},
            {"2025-12-28-01"},
            {"2025-12-28T10:15:00-05:00Textra"},
            {"2025-xx-28"},
            {"2025-12-28T10:xx:00Z"},
            {"2025-12-28T10:15:00+00:xx"},
            {"2025-12-28T10:15:00+24:00"},
            {"2025-12-28T10:15:00+01:60"},
            {"2025-12-28T10:15:00-9999"},
            {"2025-12-28T10:15:00+1"},
            {"2025-12-28T10"},
            {"2025-12-28T9:15Z"},
            {"2025-12-28T10:15:00Z trailing"},
            {"2025/12"},
            {"2025-12/28"},
            {"Fri, 2025"},
            {"Sun, 28 Dec 2025 1:2:3:4 GMT"},
            {"Sun, 28 Zzz 2025 10:15:00 GMT"},
            {"Sun, Dec x 2025 10:15:00 GMT"},
            {"Sun, 28 Dec zz 10:15:00 GMT"},
            {"Sun, 28 Dec 2025 10:15:00 +zz:00"},
            {"Sun, 28 Dec 2025 10:15:00 +0000 garbage"},
            {"Sun, 28 Dec 2025 10:15:00 +0000 (unclosed"},
            {"Sun, 28 Dec 2025 10:15:00 GMT extra"},
            {"Dec 28 25"},
            {"Sun Dec 28 10:15:00"},
            /* Zones that would need a guess. */
            {"Sun, 28 Dec 2025 10:15:00 IST"},
            {"Sun, 28 Dec 2025 10:15:00 A"},
            {"Sun, 28 Dec 2025 10:15:00 Y"},
            {"Sun, 28 Dec 2025 10:15:00 Europe/Paris"},
            {"Sun, 28 Dec 2025 10:15:00 Etc/GMT+1"},
            {"Sun, 09 Mar 2025 02:30:00 ET"},
            {"Sun, 02 Nov 2025 01:30:00 ET"},
            {"Mon, 14 Jul 1980 10:15:00 ET"},
            /* Names this parser does not read (localised, ordinal). */
            {"2025-\xc3\xa1pr-13"},
            {"Dim, 28 d\xc3\xa9"
             "c 2025 10:15:00 GMT"},
            {"2025-362"},
            {"251228"},
            {"\xff\xfe\x00"},
            {"2025-12-28\x01"},
        };
        return cr_make_param_array(struct fail_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct fail_case *c, date, must_fail)
{
        int64_t ms = -42;
        int err = parse_exact(c->in, strlen(c->in), &ms);

        cr_assert_eq(err, NT_ERR_PARSE, "\"%s\": error %d, want parse error",
                     c->in, err);
        cr_assert_eq(ms, -42, "\"%s\": output written on error", c->in);
}

struct format_case {
        int64_t ms;
        char want[40];
};

ParameterizedTestParameters(date, format)
{
        static struct format_case cases[] = {
            {0, "1970-01-01T00:00:00Z"},
            {1, "1970-01-01T00:00:00.001Z"},
            {-1, "1969-12-31T23:59:59.999Z"},
            {-86400000, "1969-12-31T00:00:00Z"},
            {1766916900000, "2025-12-28T10:15:00Z"},
            {1766916900120, "2025-12-28T10:15:00.120Z"},
            {951782400000, "2000-02-29T00:00:00Z"},
            {-62135596800000, "0001-01-01T00:00:00Z"},
            {253402300799999, "9999-12-31T23:59:59.999Z"},
        };
        return cr_make_param_array(struct format_case, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct format_case *c, date, format)
{
        char out[32];

        nt_date_format(c->ms, out, sizeof(out));
        cr_assert_str_eq(out, c->want, "%lld: got %s", (long long)c->ms, out);
}

/* Outside the years the parser returns the text is not RFC 3339, but it
 * still fits in 32 bytes and never overflows a short buffer. */
Test(date, format_extremes)
{
        const int64_t extremes[] = {INT64_MIN, INT64_MIN + 1, INT64_MAX,
                                    INT64_MAX - 999};
        char out[32], tiny[8];

        for (size_t i = 0; i < sizeof(extremes) / sizeof(extremes[0]); i++) {
                memset(out, 'x', sizeof(out));
                nt_date_format(extremes[i], out, sizeof(out));
                cr_assert_lt(strlen(out), sizeof(out), "%lld: \"%s\"",
                             (long long)extremes[i], out);
                cr_assert_eq(out[strlen(out) - 1], 'Z', "%lld: \"%s\"",
                             (long long)extremes[i], out);
        }
        nt_date_format(1766916900000, tiny, sizeof(tiny));
        cr_assert_str_eq(tiny, "2025-12");
        nt_date_format(0, NULL, 0);
        cr_assert_eq(nt_date_parse(NULL, NULL), NT_ERR_PARSE);
}

/* format then parse gives back the same instant, across all the years. */
Test(date, roundtrip)
{
        const int64_t first = -62135596800000; /* 0001-01-01 */
        const int64_t end = 253402300800000;   /* 10000-01-01 */
        /* A step of about 11.6 days that shares no factor with 1000, 60
         * or 24 touches every millisecond, second, minute and hour value
         * many times over in its 315,000 stops. */
        const int64_t step = 999999937;
        char out[32];

        for (int64_t ms = first; ms < end; ms += step) {
                int64_t back = -42;

                nt_date_format(ms, out, sizeof(out));
                cr_assert_eq(nt_date_parse(out, &back), NT_OK, "%s", out);
                cr_assert_eq(back, ms, "%s: got %lld, want %lld", out,
                             (long long)back, (long long)ms);
        }
        nt_date_format(end - 1, out, sizeof(out));
        cr_assert_str_eq(out, "9999-12-31T23:59:59.999Z");
}

/* Every 13th day of years 1 to 9999 against glibc's gmtime_r(), through
 * three of the accepted spellings of the same day. */
Test(date, calendar_matches_gmtime)
{
        static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
                                             "May", "Jun", "Jul", "Aug",
                                             "Sep", "Oct", "Nov", "Dec"};
        struct tm tm;
        char iso[80], rfc[80], basic[40];

        for (int64_t t = -62135596800; t < 253402300800; t += 13 * 86400) {
                time_t tt = (time_t)t;
                int64_t a = -1, b = -1, c = -1;

                cr_assert_not_null(gmtime_r(&tt, &tm));
                snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02dZ",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec);
                snprintf(rfc, sizeof(rfc), "%d %s %04d 00:00:00 GMT",
                         tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900);
                snprintf(basic, sizeof(basic), "%04d%02d%02d",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
                cr_assert_eq(nt_date_parse(iso, &a), NT_OK, "%s", iso);
                cr_assert_eq(nt_date_parse(rfc, &b), NT_OK, "%s", rfc);
                cr_assert_eq(nt_date_parse(basic, &c), NT_OK, "%s", basic);
                cr_assert_eq(a, t * 1000, "%s: got %lld", iso, (long long)a);
                cr_assert_eq(b, t * 1000, "%s: got %lld", rfc, (long long)b);
                cr_assert_eq(c, t * 1000, "%s: got %lld", basic, (long long)c);
        }
}

/* Every prefix of every valid form either parses or fails cleanly, with
 * the input in an exactly sized buffer so that AddressSanitizer sees any
 * read past its end. A cut date must not come out as a wrong instant
 * from a longer form: a prefix that parses gives an instant in range. */
Test(date, prefixes)
{
        static const char *const inputs[] = {
            "Sun, 28 Dec 2025 10:15:00 +0000 (UTC)",
            "Sunday, 28-Dec-25 10:15:00 GMT",
            "Sun Dec 28 2025 10:15:00 GMT+0100 (CET)",
            "Sun Dec 28 10:15:00 +0100 2025",
            "2025-12-28T10:15:00.123456+05:45",
            "20251228T101500,5Z",
            "Dec 28, 2025 10:15 PM EST",
            "Sun, 28 Dec 2025 10:15:00 +0100 Europe/Vienna",
            "Sun, 28 Dec 2025 10:15:00 Etc/GMT",
            "2025-12-28 10:15:00 (a \\) b)",
        };

        for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
                size_t len = strlen(inputs[i]);

                for (size_t n = 0; n <= len; n++) {
                        int64_t ms = INT64_MIN;
                        int err = parse_exact(inputs[i], n, &ms);

                        cr_assert(err == NT_OK || err == NT_ERR_PARSE,
                                  "\"%.*s\": error %d", (int)n, inputs[i], err);
                        if (err == NT_ERR_PARSE)
                                cr_assert_eq(ms, INT64_MIN, "\"%.*s\"", (int)n,
                                             inputs[i]);
                        else
                                cr_assert(ms >= -62135596800000 &&
                                              ms < 253402300800000,
                                          "\"%.*s\": %lld", (int)n, inputs[i],
                                          (long long)ms);
                }
        }
}

/* Random bytes, biased towards the characters dates are made of, never
 * crash, never read past the end and never give an instant out of
 * range. A fixed seed keeps failures reproducible. */
Test(date, random_bytes)
{
        static const char alphabet[] = "0123456789-:+.,()/ TtZzGMTUECSPDec"
                                       "JanFebSunMon\t\xff\x80\xc3";
        uint64_t state = 0x9e3779b97f4a7c15u;
        char s[48];

        for (int i = 0; i < 200000; i++) {
                size_t len;
                int64_t ms = INT64_MIN;
                int err;

                state = state * 6364136223846793005u + 1442695040888963407u;
                len = (size_t)(state >> 59) + 1;
                for (size_t k = 0; k < len; k++) {
                        state =
                            state * 6364136223846793005u + 1442695040888963407u;
                        if ((state >> 63) != 0)
                                s[k] = (char)(state >> 40);
                        else
                                s[k] = alphabet[(state >> 40) %
                                                (sizeof(alphabet) - 1)];
                        if (s[k] == '\0')
                                s[k] = ' ';
                }
                err = parse_exact(s, len, &ms);
                cr_assert(err == NT_OK || err == NT_ERR_PARSE);
                if (err == NT_OK)
                        cr_assert(ms >= -62135596800000 && ms < 253402300800000,
                                  "case %d: %lld", i, (long long)ms);
                else
                        cr_assert_eq(ms, INT64_MIN, "case %d", i);
        }
}

/* Very long runs stay linear and are refused or read without overflow. */
Test(date, long_inputs)
{
        const size_t len = 1 << 20;
        char *s = malloc(len + 1);
        int64_t ms = -42;

        cr_assert_not_null(s);
        memset(s, '9', len);
        s[len] = '\0';
        cr_assert_eq(nt_date_parse(s, &ms), NT_ERR_PARSE, "digits");
        memcpy(s, "2025-12-28T10:15:00.", 20);
        s[len - 1] = 'Z';
        cr_assert_eq(nt_date_parse(s, &ms), NT_OK, "long fraction");
        cr_assert_eq(ms, 1766916900999);
        memcpy(s, "Sun, 28 Dec 2025 10:15:00 GMT ", 30);
        memset(s + 30, '(', len - 30);
        cr_assert_eq(nt_date_parse(s, &ms), NT_ERR_PARSE, "open comments");
        memset(s + 30, ' ', len - 30);
        cr_assert_eq(nt_date_parse(s, &ms), NT_OK, "trailing space");
        cr_assert_eq(ms, 1766916900000);
        free(s);
}

Test(date, since_takes_a_date_or_an_age)
{
        const int64_t now = 1767607200000LL; /* 2026-01-05T10:00:00Z */
        int64_t t = -1;

        cr_assert_eq(nt_date_parse_since("2h", now, &t), NT_OK);
        cr_assert_eq(t, now - 2 * 3600 * 1000);
        cr_assert_eq(nt_date_parse_since("1h30m", now, &t), NT_OK);
        cr_assert_eq(t, now - 90 * 60 * 1000);
        cr_assert_eq(nt_date_parse_since("2026-01-05T09:00:00Z", now, &t),
                     NT_OK);
        cr_assert_eq(t, now - 3600 * 1000, "a date is taken as it is");
        t = -1;
        cr_assert_eq(nt_date_parse_since("90", now, &t), NT_ERR_INVALID,
                     "a bare number is neither a date nor an age");
        cr_assert_eq(nt_date_parse_since("0s", now, &t), NT_ERR_INVALID);
        cr_assert_eq(nt_date_parse_since("soon", now, &t), NT_ERR_INVALID);
        cr_assert_eq(t, -1, "nothing is written on error");
}

Test(date, mono_deadline_is_normalised_and_ahead)
{
        int64_t before = nt_date_mono_ms();
        struct timespec ts = nt_date_mono_deadline(1999);
        int64_t after = nt_date_mono_ms();
        int64_t at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

        cr_assert(ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L,
                  "tv_nsec %ld out of range", ts.tv_nsec);
        cr_assert(at >= before + 1999 && at <= after + 1999,
                  "deadline %lld not 1999 ms after [%lld, %lld]", (long long)at,
                  (long long)before, (long long)after);
        ts = nt_date_mono_deadline(-5);
        at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        cr_assert(at <= nt_date_mono_ms(), "a negative wait is no wait");
}

/* The wait reads the monotonic clock: with a default condition variable
 * (the wall clock) a monotonic deadline lies decades in the past and the
 * wait would end at once, before it. */
Test(date, cond_waits_until_the_mono_deadline)
{
        pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
        pthread_cond_t cond;
        struct timespec until;
        int64_t deadline;
        int rc;

        cr_assert_eq(nt_date_cond_init(&cond), 0);
        until = nt_date_mono_deadline(30);
        deadline = (int64_t)until.tv_sec * 1000 + until.tv_nsec / 1000000;
        pthread_mutex_lock(&mu);
        do
                rc = pthread_cond_timedwait(&cond, &mu, &until);
        while (rc == 0);
        pthread_mutex_unlock(&mu);
        cr_assert_eq(rc, ETIMEDOUT, "the wait ends by timing out");
        cr_assert_geq(nt_date_mono_ms(), deadline,
                      "the wait ended before its deadline");
        pthread_cond_destroy(&cond);
}
