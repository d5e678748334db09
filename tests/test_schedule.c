/* Poll scheduling: lower bounds from the publisher, skipHours/skipDays,
 * backoff growth with jitter and cap, spread start times, resuming after
 * a restart; the timer heap. */
#include "producer/schedule.h"
#include "common/err.h"

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

Test(schedule, resume_keeps_the_phase_of_a_passed_next_poll)
{
        struct {
                int64_t next, now, want;
                const char *why;
        } cases[] = {
            {MONDAY_10 + 5 * MIN, MONDAY_10, MONDAY_10 + 5 * MIN,
             "a next poll still ahead is kept"},
            {MONDAY_10, MONDAY_10, MONDAY_10, "due now is kept"},
            {MONDAY_10, MONDAY_10 + 1, MONDAY_10 + 15 * MIN,
             "just passed: the next slot"},
            {MONDAY_10, MONDAY_10 + 40 * MIN, MONDAY_10 + 45 * MIN,
             "two slots passed (polls saved as 304s): the third"},
            {MONDAY_10, MONDAY_10 + 45 * MIN, MONDAY_10 + 60 * MIN,
             "on a slot exactly: the one after"},
        };
        size_t i;

        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
                cr_assert_eq(
                    nt_schedule_resume(cases[i].next, 15 * MIN, cases[i].now),
                    cases[i].want, "%s: got %lld", cases[i].why,
                    (long long)nt_schedule_resume(cases[i].next, 15 * MIN,
                                                  cases[i].now));
        cr_assert_eq(nt_schedule_resume(MONDAY_10, 0, MONDAY_10 + HOUR),
                     MONDAY_10, "no interval: the saved time");
}

/* The heap against a plain scan: after any mix of pushes, re-keys and
 * removals, the earliest is the one a walk of every timer would pick,
 * ties going to the one pushed first. */
Test(timer_heap, agrees_with_a_scan_under_pushes_rekeys_and_removals)
{
        enum { N = 300 };
        static struct nt_timer t[N];
        struct nt_timer_heap h;
        uint64_t rng = 0x9E3779B97F4A7C15ULL;
        int step, i, queued = 0;

        nt_timer_heap_init(&h);
        cr_assert_eq(nt_timer_heap_reserve(&h, N), 0);
        for (step = 0; step < 20000; step++) {
                struct nt_timer *top, *want = NULL;

                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                i = (int)(rng % N);
                if ((rng >> 20) % 3 == 0) {
                        queued -= nt_timer_queued(&t[i]);
                        nt_timer_heap_remove(&h, &t[i]);
                } else {
                        queued += !nt_timer_queued(&t[i]);
                        /* Few distinct keys, so that ties are common. */
                        cr_assert_eq(nt_timer_heap_push(
                                         &h, &t[i], (int64_t)(rng >> 40) % 50),
                                     0);
                }
                cr_assert_eq(h.n, (size_t)queued, "step %d: size", step);
                for (i = 0; i < N; i++) {
                        if (!nt_timer_queued(&t[i]))
                                continue;
                        if (!want || t[i].at < want->at ||
                            (t[i].at == want->at && t[i].seq < want->seq))
                                want = &t[i];
                }
                top = nt_timer_heap_peek(&h);
                cr_assert_eq(top, want, "step %d: heap top %p, scan %p", step,
                             (void *)top, (void *)want);
        }
        /* Draining gives the timers in order. */
        {
                int64_t last = INT64_MIN;
                struct nt_timer *top;

                while ((top = nt_timer_heap_peek(&h)) != NULL) {
                        cr_assert_geq(top->at, last, "drained out of order");
                        last = top->at;
                        nt_timer_heap_remove(&h, top);
                }
        }
        nt_timer_heap_free(&h);
}

Test(timer_heap, equal_times_come_out_first_pushed_first)
{
        struct nt_timer t[5] = {{0}};
        struct nt_timer_heap h;
        int order[] = {3, 0, 4, 1, 2}, i;

        nt_timer_heap_init(&h);
        cr_assert_eq(nt_timer_heap_reserve(&h, 5), 0);
        for (i = 0; i < 5; i++)
                nt_timer_heap_push(&h, &t[order[i]], 0);
        for (i = 0; i < 5; i++) {
                struct nt_timer *top = nt_timer_heap_peek(&h);

                cr_assert_eq(top, &t[order[i]], "position %d", i);
                nt_timer_heap_remove(&h, top);
                cr_assert(!nt_timer_queued(top));
        }
        nt_timer_heap_free(&h);
}

Test(timer_heap, a_push_without_reserved_room_is_refused_and_harmless)
{
        struct nt_timer a = {0}, b = {0};
        struct nt_timer_heap h;

        nt_timer_heap_init(&h);
        cr_assert_eq(nt_timer_heap_reserve(&h, 1), 0);
        cr_assert_eq(nt_timer_heap_push(&h, &a, 10), 0);
        cr_assert_eq(nt_timer_heap_push(&h, &b, 5), NT_ERR_LIMIT,
                     "no room was reserved for a second timer");
        cr_assert(!nt_timer_queued(&b));
        cr_assert_eq(nt_timer_heap_peek(&h), &a);
        cr_assert_eq(nt_timer_heap_push(&h, &a, 1), 0,
                     "moving a queued timer needs no room");
        cr_assert_eq(nt_timer_heap_peek(&h)->at, 1);
        nt_timer_heap_remove(&h, &b); /* not queued: nothing */
        cr_assert_eq(h.n, 1);
        nt_timer_heap_free(&h);
        cr_assert(!nt_timer_queued(&a), "freeing the heap unqueues");
}
