/* Feed dates to UTC instants and back. The parser is a hand-written
 * scanner over the bytes of the string: no locale (month and weekday names
 * are matched as ASCII), no allocation, no libc time functions (the
 * calendar arithmetic below is exact for years 1 to 9999, where timegm()
 * depends on the platform's time_t), and no read past the terminating NUL,
 * because it runs on every entry of every fetched feed. */
#include "common/date.h"
#include "common/num.h"
#include "common/err.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MS_PER_DAY INT64_C(86400000)

/* The instants the parser hands out lie in the years RFC 3339 can write:
 * from 0001-01-01T00:00:00Z (day -719162 of the epoch) up to, but not
 * including, 10000-01-01T00:00:00Z (day 2932897). A zone offset can push
 * a valid local time outside them; such a date is refused rather than
 * written in a form nobody reads. */
#define FIRST_DAY INT64_C(-719162)
#define END_DAY   INT64_C(2932897)

/* A date as written, before its zone is applied. */
struct when {
        int year, month, day;
        int hour, min, sec, ms;
        int offset_min;     /* minutes east of UTC */
        bool generic;       /* a North American zone without S/D ("ET") */
        int std_offset_min; /* its standard-time offset when generic */
};

struct zone {
        char name[8];
        int offset_min;
};

/* Zone abbreviations with one meaning in feeds. Ambiguous ones are left
 * out on purpose and refused (IST is India, Ireland or Israel; AST is
 * Atlantic or Arabia); so are the military letters other than Z, whose
 * signs RFC 822 printed backwards and which RFC 5322 says carry no
 * information. BST is read as British Summer Time, the meaning UK
 * publishers give it. */
static const struct zone fixed_zones[] = {
    {"ut", 0},     {"utc", 0},    {"gmt", 0},     {"z", 0},       {"est", -300},
    {"edt", -240}, {"cst", -360}, {"cdt", -300},  {"mst", -420},  {"mdt", -360},
    {"pst", -480}, {"pdt", -420}, {"akst", -540}, {"akdt", -480}, {"hst", -600},
    {"nst", -210}, {"ndt", -150}, {"wet", 0},     {"west", 60},   {"bst", 60},
    {"cet", 60},   {"cest", 120}, {"met", 60},    {"mest", 120},  {"mez", 60},
    {"mesz", 120}, {"eet", 120},  {"eest", 180},  {"msk", 180},   {"jst", 540},
    {"kst", 540},  {"hkt", 480},  {"sgt", 480},   {"awst", 480},  {"acst", 570},
    {"acdt", 630}, {"aest", 600}, {"aedt", 660},  {"nzst", 720},  {"nzdt", 780},
};

/* North American zones named without saying standard or daylight time:
 * their offset depends on the date (see generic_offset()). */
static const struct zone generic_zones[] = {
    {"at", -240}, {"et", -300}, {"ct", -360}, {"mt", -420}, {"pt", -480},
};

static const char *const month_names[12] = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december",
};

static const char *const weekday_names[7] = {
    "monday", "tuesday",  "wednesday", "thursday",
    "friday", "saturday", "sunday",
};

static bool is_space(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
               c == '\v';
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_upper(char c)
{
        return c >= 'A' && c <= 'Z';
}

static char to_lower(char c)
{
        return is_upper(c) ? (char)(c - 'A' + 'a') : c;
}

static const char *skip_space(const char *p)
{
        while (is_space(*p))
                p++;
        return p;
}

/* Moves *p past the white space between two parts of a date, with a
 * comma in it when `comma`; false when there is none to skip. */
static bool skip_gap(const char **p, bool comma)
{
        const char *q = skip_space(*p);

        if (comma && *q == ',')
                q = skip_space(q + 1);
        if (q == *p)
                return false;
        *p = q;
        return true;
}

static size_t digit_run(const char *p)
{
        size_t n = 0;

        while (is_digit(p[n]))
                n++;
        return n;
}

static size_t alpha_run(const char *p)
{
        size_t n = 0;

        while (is_alpha(p[n]))
                n++;
        return n;
}

/* Value of the n (at most 9) digits at p, which the caller has checked. */
static int digits_value(const char *p, size_t n)
{
        int v = 0;

        for (size_t i = 0; i < n; i++)
                v = v * 10 + (p[i] - '0');
        return v;
}

/* True when the n letters at p are `word` (lower case), ignoring case. */
static bool same_word(const char *p, size_t n, const char *word)
{
        if (n != strlen(word))
                return false;
        for (size_t i = 0; i < n; i++)
                if (to_lower(p[i]) != word[i])
                        return false;
        return true;
}

/* True when the n letters at p are `full` or an abbreviation of it of at
 * least three letters: feeds write "Sep", "Sept" and "September", "Thu"
 * and "Thurs". Three letters already tell every month and day apart. */
static bool abbreviates(const char *p, size_t n, const char *full)
{
        if (n < 3 || n > strlen(full))
                return false;
        for (size_t i = 0; i < n; i++)
                if (to_lower(p[i]) != full[i])
                        return false;
        return true;
}

static int month_of(const char *p, size_t n)
{
        for (int i = 0; i < 12; i++)
                if (abbreviates(p, n, month_names[i]))
                        return i + 1;
        return 0;
}

/* Reads a month name (or its abbreviation) at *p into w->month and moves
 * past it; false when there is none. */
static bool read_month(const char **p, struct when *w)
{
        size_t n = alpha_run(*p);

        w->month = month_of(*p, n);
        *p += n;
        return w->month != 0;
}

static bool is_weekday(const char *p, size_t n)
{
        for (int i = 0; i < 7; i++)
                if (abbreviates(p, n, weekday_names[i]))
                        return true;
        return false;
}

static const struct zone *find_zone(const struct zone *zones, size_t count,
                                    const char *p, size_t n)
{
        for (size_t i = 0; i < count; i++)
                if (same_word(p, n, zones[i].name))
                        return &zones[i];
        return NULL;
}

static bool is_leap_year(int y)
{
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
        static const int days[12] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};

        return m == 2 && is_leap_year(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. The
 * year is counted from March, so that the leap day ends it, and split into
 * 400-year eras of 146097 days each (the era/day-of-era method that Howard
 * Hinnant describes in "chrono-Compatible Low-Level Date Algorithms"). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
        int64_t era, yoe, doy, doe;

        if (m <= 2)
                y -= 1;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil(), for any day an int64_t of
 * milliseconds can name. */
static void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
        int64_t z = days + 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;

        *d = (int)(doy - (153 * mp + 2) / 5 + 1);
        *m = (int)(mp < 10 ? mp + 3 : mp - 9);
        *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

/* 0 for Sunday up to 6 for Saturday; 1970-01-01 was a Thursday. */
static int weekday_of(int64_t days)
{
        int64_t w = (days + 4) % 7;

        return (int)(w < 0 ? w + 7 : w);
}

static int nth_sunday(int y, int m, int nth)
{
        int first = weekday_of(days_from_civil(y, m, 1));

        return 1 + (7 - first) % 7 + 7 * (nth - 1);
}

static int last_sunday(int y, int m)
{
        int last = days_in_month(y, m);

        return last - weekday_of(days_from_civil(y, m, last));
}

/* Sets the offset of a generic North American zone ("ET") from the US and
 * Canadian daylight-saving rules: since 2007 from the second Sunday of
 * March to the first Sunday of November, from 1987 to 2006 from the first
 * Sunday of April to the last Sunday of October, changing at 02:00 local
 * time. Earlier years had rules too varied to apply blindly, and a local
 * time that does not exist (the hour skipped in spring) or exists twice
 * (the hour repeated in autumn) names no single instant: all are refused.
 * Places that keep standard time all year (most of Arizona) cannot be told
 * from the name and get daylight time in summer. */
static bool generic_offset(struct when *w)
{
        int start_mon, start_day, end_mon, end_day;
        long key, start, end;

        if (w->year < 1987)
                return false;
        if (w->year >= 2007) {
                start_mon = 3;
                start_day = nth_sunday(w->year, 3, 2);
                end_mon = 11;
                end_day = nth_sunday(w->year, 11, 1);
        } else {
                start_mon = 4;
                start_day = nth_sunday(w->year, 4, 1);
                end_mon = 10;
                end_day = last_sunday(w->year, 10);
        }
        /* Local wall-clock minutes, ordered within the year. Daylight time
         * starts at 02:00 standard and ends at 02:00 daylight, which is
         * 01:00 on the standard clock that this key measures in. */
        key = ((long)w->month * 32 + w->day) * 1440 + w->hour * 60 + w->min;
        start = ((long)start_mon * 32 + start_day) * 1440 + 120;
        end = ((long)end_mon * 32 + end_day) * 1440 + 60;
        if (key >= start && key < start + 60)
                return false;
        if (key >= end && key < end + 60)
                return false;
        w->offset_min = w->std_offset_min;
        if (key >= start + 60 && key < end)
                w->offset_min += 60;
        return true;
}

/* Reads a numeric offset at its sign: +HH, +HHMM or +HH:MM, and also +H
 * and +H:MM when `short_hour` (after "GMT", as in "GMT+2"). */
static bool parse_offset(const char **pp, bool short_hour, int *offset_min)
{
        const char *p = *pp;
        int sign = *p == '-' ? -1 : 1;
        int h, m = 0;
        size_t n;

        p++;
        n = digit_run(p);
        if (n == 4) {
                h = digits_value(p, 2);
                m = digits_value(p + 2, 2);
                p += 4;
        } else if (n == 2 || (n == 1 && short_hour)) {
                h = digits_value(p, n);
                p += n;
                if (*p == ':') {
                        if (digit_run(p + 1) != 2)
                                return false;
                        m = digits_value(p + 1, 2);
                        p += 3;
                }
        } else {
                return false;
        }
        if (h > 23 || m > 59)
                return false;
        *offset_min = sign * (h * 60 + m);
        *pp = p;
        return true;
}

static bool is_utc_name(const char *p, size_t n)
{
        return same_word(p, n, "gmt") || same_word(p, n, "utc") ||
               same_word(p, n, "ut");
}

/* Reads a zone: a numeric offset, a name from the tables above, "Etc/GMT"
 * or "Etc/UTC", or GMT/UTC followed by an offset ("GMT-01:01", the way
 * JavaScript and some feeds write it). `numeric` tells the caller that a
 * zone name may follow as a comment ("+0000 GMT"). */
static bool parse_zone(const char **pp, struct when *w, bool *numeric)
{
        const char *p = *pp;
        const struct zone *z;
        size_t n;

        *numeric = false;
        if (*p == '+' || *p == '-') {
                if (!parse_offset(&p, false, &w->offset_min))
                        return false;
                *numeric = true;
                *pp = p;
                return true;
        }
        n = alpha_run(p);
        if (n == 0)
                return false;
        if (same_word(p, n, "etc") && p[n] == '/') {
                /* POSIX gives Etc/GMT+1 the opposite sign of GMT+1, so
                 * only the zero-offset names are taken. */
                p += n + 1;
                n = alpha_run(p);
                if (!is_utc_name(p, n) || p[n] == '+' || p[n] == '-')
                        return false;
        }
        if (is_utc_name(p, n) && (p[n] == '+' || p[n] == '-')) {
                p += n;
                if (!parse_offset(&p, true, &w->offset_min))
                        return false;
                *pp = p;
                return true;
        }
        z = find_zone(fixed_zones, sizeof(fixed_zones) / sizeof(fixed_zones[0]),
                      p, n);
        if (z != NULL) {
                w->offset_min = z->offset_min;
        } else {
                z = find_zone(generic_zones,
                              sizeof(generic_zones) / sizeof(generic_zones[0]),
                              p, n);
                if (z == NULL)
                        return false;
                w->generic = true;
                w->std_offset_min = z->offset_min;
        }
        *pp = p + n;
        return true;
}

/* True for a word that can only be a zone label repeating a numeric
 * offset: a known name, an upper-case abbreviation of two to five letters
 * ("+0530 IST"), or a tz database name ("Europe/Kyiv"). Returns its end. */
static const char *zone_label(const char *p)
{
        size_t n = alpha_run(p);
        bool upper = n >= 2 && n <= 5;

        if (n == 0)
                return NULL;
        for (size_t i = 0; i < n && upper; i++)
                upper = is_upper(p[i]);
        if (p[n] == '/') {
                const char *q = p + n;

                while (*q == '/' && (is_alpha(q[1]) || q[1] == '_')) {
                        q++;
                        while (is_alpha(*q) || *q == '_')
                                q++;
                }
                return is_alpha(*q) || *q == '/' ? NULL : q;
        }
        if (upper ||
            find_zone(fixed_zones, sizeof(fixed_zones) / sizeof(fixed_zones[0]),
                      p, n) != NULL ||
            find_zone(generic_zones,
                      sizeof(generic_zones) / sizeof(generic_zones[0]), p,
                      n) != NULL)
                return p + n;
        return NULL;
}

/* Skips an RFC 822 comment, "(...)", with nested parentheses and quoted
 * pairs. Returns its end, or NULL when it is not closed. */
static const char *skip_comment(const char *p)
{
        size_t depth = 0;

        do {
                if (*p == '\0')
                        return NULL;
                if (*p == '(') {
                        depth++;
                } else if (*p == ')') {
                        depth--;
                } else if (*p == '\\' && p[1] != '\0') {
                        p++;
                }
                p++;
        } while (depth > 0);
        return p;
}

/* What may follow the zone: a zone label after a numeric offset
 * ("+0000 GMT"), a comment ("+0000 (UTC)"), white space, then the end. */
static bool parse_trailer(const char *p, bool after_numeric)
{
        const char *q = skip_space(p);

        if (after_numeric && q != p && is_alpha(*q)) {
                q = zone_label(q);
                if (q == NULL)
                        return false;
                q = skip_space(q);
        }
        if (*q == '(') {
                q = skip_comment(q);
                if (q == NULL)
                        return false;
                q = skip_space(q);
        }
        return *q == '\0';
}

/* An optional zone (none means UTC), then the trailer. */
static bool parse_zone_and_trailer(const char *p, struct when *w)
{
        const char *q = skip_space(p);
        bool numeric;

        if (*q == '\0' || *q == '(')
                return parse_trailer(q, false);
        if (!parse_zone(&q, w, &numeric))
                return false;
        return parse_trailer(q, numeric);
}

/* Reads a fraction of a second of any length after '.' (or ',' in ISO
 * 8601), keeping milliseconds: the digits past the third are dropped, so
 * the instant stays within its second. */
static const char *parse_fraction(const char *p, bool iso, struct when *w)
{
        int ms = 0, kept = 0;

        if (!((*p == '.' || (iso && *p == ',')) && is_digit(p[1])))
                return p;
        for (p++; is_digit(*p); p++) {
                if (kept < 3) {
                        ms = ms * 10 + (*p - '0');
                        kept++;
                }
        }
        for (; kept < 3; kept++)
                ms *= 10;
        w->ms = ms;
        return p;
}

/* Reads a time of day. ISO 8601: HH:MM[:SS] or HHMM[SS]; RFC 822 and
 * the others: H:MM[:SS] or HH:MM[:SS]. Seconds take a fraction. Ranges are
 * checked later, with the date. */
static bool parse_clock(const char **pp, bool iso, struct when *w)
{
        const char *p = *pp;
        size_t n = digit_run(p);
        bool seconds = false;

        if (iso && (n == 4 || n == 6)) {
                w->hour = digits_value(p, 2);
                w->min = digits_value(p + 2, 2);
                if (n == 6)
                        w->sec = digits_value(p + 4, 2);
                seconds = n == 6;
                p += n;
        } else {
                if (n < 1 || n > 2 || (iso && n != 2) || p[n] != ':')
                        return false;
                w->hour = digits_value(p, n);
                p += n + 1;
                if (digit_run(p) != 2)
                        return false;
                w->min = digits_value(p, 2);
                p += 2;
                if (*p == ':') {
                        if (digit_run(p + 1) != 2)
                                return false;
                        w->sec = digits_value(p + 1, 2);
                        seconds = true;
                        p += 3;
                }
        }
        if (seconds)
                p = parse_fraction(p, iso, w);
        *pp = p;
        return true;
}

/* An optional AM or PM after a 12-hour clock. */
static bool parse_meridiem(const char **pp, struct when *w)
{
        const char *q = skip_space(*pp);
        size_t n = alpha_run(q);
        bool pm;

        if (same_word(q, n, "am"))
                pm = false;
        else if (same_word(q, n, "pm"))
                pm = true;
        else
                return true;
        if (w->hour < 1 || w->hour > 12)
                return false;
        w->hour = w->hour % 12 + (pm ? 12 : 0);
        *pp = q + n;
        return true;
}

/* A year as RFC 5322 reads it: four digits as written, two digits as
 * 2000-2049 below 50 and 1950-1999 from 50, three digits plus 1900 (what
 * programs printing tm_year wrote after 1999). */
static bool parse_text_year(const char **pp, struct when *w)
{
        const char *p = *pp;
        size_t n = digit_run(p);
        int v;

        if (n < 2 || n > 4)
                return false;
        v = digits_value(p, n);
        if (n == 2)
                w->year = v < 50 ? 2000 + v : 1900 + v;
        else if (n == 3)
                w->year = 1900 + v;
        else
                w->year = v;
        *pp = p + n;
        return true;
}

/* After the date of an RFC 822-like form: nothing (midnight UTC), or a
 * clock with an optional AM/PM and zone. */
static bool parse_text_time(const char *p, struct when *w)
{
        const char *q = skip_space(p);

        if (*q == '\0')
                return true;
        if (*q == ',')
                q = skip_space(q + 1);
        if (q == p)
                return false;
        if (!parse_clock(&q, false, w) || !parse_meridiem(&q, w))
                return false;
        return parse_zone_and_trailer(q, w);
}

/* "28 Dec 2025 ...", "28 December 2025", "13 Feb, 2012", and RFC 850's
 * "28-Dec-25". */
static bool parse_day_first(const char *p, struct when *w)
{
        size_t n = digit_run(p);

        if (n < 1 || n > 2)
                return false;
        w->day = digits_value(p, n);
        p += n;
        if (*p == '-') {
                p++;
                if (!read_month(&p, w) || *p != '-')
                        return false;
                p++;
        } else {
                if (!skip_gap(&p, false) || !read_month(&p, w))
                        return false;
                if (!skip_gap(&p, true))
                        return false;
        }
        if (!parse_text_year(&p, w))
                return false;
        return parse_text_time(p, w);
}

/* "Dec 28 2025 10:15:00 +0200" (JavaScript's Date), "December 28, 2025",
 * and asctime's "Dec 28 10:15:00 2025", which may carry a zone before the
 * year as date(1) and Twitter write it ("10:15:00 +0000 2025"). */
static bool parse_month_first(const char *p, struct when *w)
{
        const char *q;
        size_t n;
        bool numeric;

        if (!read_month(&p, w) || !skip_gap(&p, false))
                return false;
        n = digit_run(p);
        if (n < 1 || n > 2)
                return false;
        w->day = digits_value(p, n);
        p += n;
        if (!skip_gap(&p, true))
                return false;
        if (digit_run(p) == 4) {
                w->year = digits_value(p, 4);
                return parse_text_time(p + 4, w);
        }
        if (!parse_clock(&p, false, w))
                return false;
        q = skip_space(p);
        if (*q == '+' || *q == '-' || is_alpha(*q)) {
                if (!parse_zone(&q, w, &numeric))
                        return false;
                p = q;
                q = skip_space(p);
        }
        if (q == p || digit_run(q) != 4)
                return false;
        w->year = digits_value(q, 4);
        return parse_trailer(q + 4, false);
}

static bool at_end(const char *p)
{
        return *skip_space(p) == '\0';
}

/* RFC 3339, W3CDTF and ISO 8601: "2025", "2025-12", "2025-12-28",
 * "20251228", then 'T' (or white space) and a clock and zone; also
 * "2006/09/15 08:19:53". After a weekday only a full date is taken. */
static bool parse_iso(const char *p, bool weekday, struct when *w)
{
        const char *q;
        size_t n = digit_run(p);
        char sep;

        if (n == 8) {
                w->year = digits_value(p, 4);
                w->month = digits_value(p + 4, 2);
                w->day = digits_value(p + 6, 2);
                p += 8;
        } else if (n == 4) {
                w->year = digits_value(p, 4);
                p += 4;
                sep = *p;
                if (sep != '-' && sep != '/')
                        return !weekday && at_end(p);
                p++;
                if (digit_run(p) != 2)
                        return false;
                w->month = digits_value(p, 2);
                p += 2;
                if (*p != sep)
                        return !weekday && sep == '-' && at_end(p);
                p++;
                if (digit_run(p) != 2)
                        return false;
                w->day = digits_value(p, 2);
                p += 2;
        } else {
                return false;
        }
        q = skip_space(p);
        if (*q == '\0')
                return true;
        if (*p == 'T' || *p == 't')
                q = p + 1;
        else if (q == p)
                return false;
        if (!parse_clock(&q, true, w))
                return false;
        return parse_zone_and_trailer(q, w);
}

/* Checks the fields, applies the zone and writes the instant. */
static int finish(struct when *w, int64_t *epoch_ms)
{
        bool leap_second = false;
        int64_t secs, ms;

        if (w->year < 1 || w->year > 9999 || w->month < 1 || w->month > 12 ||
            w->day < 1 || w->day > days_in_month(w->year, w->month) ||
            w->hour > 23 || w->min > 59 || w->sec > 60)
                return NT_ERR_PARSE;
        /* POSIX time has no leap seconds: 23:59:60 is read as 23:59:59
         * (with its fraction), and only where a leap second can fall, at
         * the end of a UTC day; ":60" anywhere else is an error. */
        if (w->sec == 60) {
                leap_second = true;
                w->sec = 59;
        }
        if (w->generic && !generic_offset(w))
                return NT_ERR_PARSE;
        secs = days_from_civil(w->year, w->month, w->day) * 86400 +
               w->hour * 3600 + w->min * 60 + w->sec -
               (int64_t)w->offset_min * 60;
        if (leap_second && ((secs % 86400) + 86400) % 86400 != 86399)
                return NT_ERR_PARSE;
        ms = secs * 1000 + w->ms;
        if (ms < FIRST_DAY * MS_PER_DAY || ms >= END_DAY * MS_PER_DAY)
                return NT_ERR_PARSE;
        if (epoch_ms != NULL)
                *epoch_ms = ms;
        return NT_OK;
}

int nt_date_parse(const char *s, int64_t *epoch_ms)
{
        struct when w = {.month = 1, .day = 1};
        const char *p;
        bool weekday = false, ok;
        size_t n;

        if (s == NULL)
                return NT_ERR_PARSE;
        p = skip_space(s);
        n = alpha_run(p);
        /* The weekday is redundant and often wrong in generated feeds, so
         * it is checked to be a weekday name and otherwise ignored. */
        if (n > 0 && is_weekday(p, n)) {
                weekday = true;
                p = skip_space(p + n);
                if (*p == ',')
                        p = skip_space(p + 1);
                n = alpha_run(p);
        } else if (n > 0 && n <= 12 && *skip_space(p + n) == ',' &&
                   digit_run(skip_space(skip_space(p + n) + 1)) > 0) {
                /* A weekday in another language before a day-first date
                 * ("mer, 16 nov 2022"): ignored like an English one. The
                 * day, month and year must still read as a date. */
                weekday = true;
                p = skip_space(skip_space(p + n) + 1);
                n = 0;
        }
        if (n > 0)
                ok = parse_month_first(p, &w);
        else if (digit_run(p) >= 4)
                ok = parse_iso(p, weekday, &w);
        else
                ok = parse_day_first(p, &w);
        if (!ok)
                return NT_ERR_PARSE;
        return finish(&w, epoch_ms);
}

/* The n decimal digits of v (0 <= v < 10^n), zero-padded. */
static void put_digits(char *p, int v, int n)
{
        while (n-- > 0) {
                p[n] = (char)('0' + v % 10);
                v /= 10;
        }
}

void nt_date_format(int64_t epoch_ms, char *buf, size_t size)
{
        int64_t days, rem, year;
        int month, day, ms, secs;

        if (buf == NULL || size == 0)
                return;
        days = epoch_ms / MS_PER_DAY;
        rem = epoch_ms % MS_PER_DAY;
        if (rem < 0) {
                rem += MS_PER_DAY;
                days--;
        }
        civil_from_days(days, &year, &month, &day);
        ms = (int)(rem % 1000);
        secs = (int)(rem / 1000);
        /* Written by hand in the common case (every article has three
         * dates): the same bytes as the format below, a tenth of the
         * time. */
        if (year >= 0 && year <= 9999 && size >= 25) {
                put_digits(buf, (int)year, 4);
                buf[4] = '-';
                put_digits(buf + 5, month, 2);
                buf[7] = '-';
                put_digits(buf + 8, day, 2);
                buf[10] = 'T';
                put_digits(buf + 11, secs / 3600, 2);
                buf[13] = ':';
                put_digits(buf + 14, secs / 60 % 60, 2);
                buf[16] = ':';
                put_digits(buf + 17, secs % 60, 2);
                if (ms != 0) {
                        buf[19] = '.';
                        put_digits(buf + 20, ms, 3);
                        memcpy(buf + 23, "Z", 2);
                } else {
                        memcpy(buf + 19, "Z", 2);
                }
                return;
        }
        if (ms != 0)
                snprintf(buf, size,
                         "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%03dZ", year,
                         month, day, secs / 3600, secs / 60 % 60, secs % 60,
                         ms);
        else
                snprintf(buf, size, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ",
                         year, month, day, secs / 3600, secs / 60 % 60,
                         secs % 60);
}

int nt_date_parse_since(const char *s, int64_t now_ms, int64_t *epoch_ms)
{
        int64_t age;

        if (nt_date_parse(s, epoch_ms) == NT_OK)
                return NT_OK;
        /* Unit 0: a bare number has no unit, so it is refused. */
        if (nt_num_parse_duration_ms(s, 0, &age) != NT_OK || age <= 0)
                return NT_ERR_INVALID;
        *epoch_ms = now_ms - age;
        return NT_OK;
}

static int64_t clock_ms(clockid_t id)
{
        struct timespec ts;

        clock_gettime(id, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t nt_date_now_ms(void)
{
        return clock_ms(CLOCK_REALTIME);
}

int64_t nt_date_mono_ms(void)
{
        return clock_ms(CLOCK_MONOTONIC);
}

int nt_date_cond_init(pthread_cond_t *cond)
{
        pthread_condattr_t attr;
        int err;

        err = pthread_condattr_init(&attr);
        if (err)
                return err;
        err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        if (!err)
                err = pthread_cond_init(cond, &attr);
        pthread_condattr_destroy(&attr);
        return err;
}

struct timespec nt_date_mono_deadline(int64_t ms)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (ms < 0)
                ms = 0;
        ts.tv_sec += (time_t)(ms / 1000);
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
        }
        return ts;
}
