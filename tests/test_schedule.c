/* Poll scheduling: lower bounds from the publisher, skipHours/skipDays,
 * backoff growth with jitter and cap, spread start times. */
#include "producer/schedule.h"

#include <criterion/criterion.h>
#include <stdint.h>

#define MIN  ((int64_t)60 * 1000)
#define HOUR (60 * MIN)
/* Monday 2026-01-05 10:00:00 UTC. */
#define MONDAY_10 ((int64_t)1767607200 * 1000)

static struct nt_schedule_hints hints(int64_t interval)
{
        struct nt_schedule_hints h = {interval, -1, -1, -1, 0, 0};
        return h;
}

Test(schedule, interval_alone)
{
        struct nt_schedule_hints h = hints(15 * MIN);

        cr_assert_eq(nt_schedule_next(MONDAY_10, &h), MONDAY_10 + 15 * MIN);
}

Test(schedule, publisher_bounds_only_lengthen)
{
        struct nt_schedule_hints h = hints(15 * MIN);

        h.ttl_minutes = 60;
        cr_assert_eq(nt_schedule_next(MONDAY_10, &h), MONDAY_10 + HOUR,
                     "ttl 60 min is longer than 15 min");
        h.ttl_minutes = 5;
        cr_assert_eq(nt_schedule_next(MONDAY_10, &h), MONDAY_10 + 15 * MIN,
                     "ttl 5 min never polls faster than configured");
        h.max_age_s = 1800;
        cr_assert_eq(nt_schedule_next(MONDAY_10, &h), MONDAY_10 + 30 * MIN);
        h.retry_after_s = 7200;
        cr_assert_eq(nt_schedule_next(MONDAY_10, &h), MONDAY_10 + 2 * HOUR);
}

Test(schedule, skip_hours_and_days)
{
        struct nt_schedule_hints h = hints(15 * MIN);

        /* 10:15 falls in skipped hours 10 and 11: next is 12:00. */
        h.skip_hours = (1u << 10) | (1u << 11);
        cr_assert_eq(nt_schedule_next(MONDAY_10, &h), MONDAY_10 + 2 * HOUR);
        /* Skipping Monday (bit 0) moves to Tuesday 00:00. */
        h.skip_hours = 0;
        h.skip_days = 1u << 0;
        cr_assert_eq(nt_schedule_next(MONDAY_10, &h), MONDAY_10 + 14 * HOUR);
        /* Everything skipped: still polled, a week later at the latest. */
        h.skip_hours = 0xFFFFFF;
        h.skip_days = 0x7F;
        cr_assert_leq(nt_schedule_next(MONDAY_10, &h),
                      MONDAY_10 + 15 * MIN + 7 * 24 * HOUR);
}

Test(schedule, backoff_grows_to_the_cap_with_jitter)
{
        int64_t prev_max = 0;
        int f;

        for (f = 1; f <= 20; f++) {
                int64_t lo = nt_schedule_backoff(f, MIN, HOUR, -1, 0);
                int64_t hi = nt_schedule_backoff(f, MIN, HOUR, -1, UINT64_MAX);
                int64_t full = f >= 7 ? HOUR : MIN << (f - 1);

                cr_assert_eq(lo, full / 2, "failure %d: low end %lld", f,
                             (long long)lo);
                cr_assert(hi <= full && hi > full * 99 / 100,
                          "failure %d: high end %lld of %lld", f, (long long)hi,
                          (long long)full);
                cr_assert_geq(hi, prev_max, "failure %d: backoff shrank", f);
                prev_max = hi;
        }
        cr_assert_eq(nt_schedule_backoff(1, MIN, HOUR, 600, 0), 600 * 1000,
                     "Retry-After beats a shorter backoff");
}

Test(schedule, spread_is_stable_and_in_range)
{
        int64_t a = nt_schedule_spread("https://a.example/feed", 15 * MIN);
        int64_t b = nt_schedule_spread("https://b.example/feed", 15 * MIN);

        cr_assert_eq(a, nt_schedule_spread("https://a.example/feed", 15 * MIN));
        cr_assert(a >= 0 && a < 15 * MIN);
        cr_assert(b >= 0 && b < 15 * MIN);
        cr_assert_neq(a, b, "two feeds should not share an offset here");
        cr_assert_eq(nt_schedule_spread("x", 0), 0);
}
