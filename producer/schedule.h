/* When to poll a feed next: the configured interval, raised to the
 * publisher's own lower bounds (RSS ttl, Cache-Control max-age,
 * Retry-After), skipping RSS skipHours/skipDays; exponential backoff
 * with jitter after failures, capped but never giving up; start times
 * spread over the interval so that feeds don't fire in lockstep. Pure
 * functions of their inputs, so they are tested without a clock. */
#ifndef NT_SCHEDULE_H
#define NT_SCHEDULE_H

#include <stdint.h>

struct nt_schedule_hints {
        int64_t interval_ms; /* configured poll interval */
        long ttl_minutes;    /* RSS <ttl>, -1 when absent */
        long max_age_s;      /* Cache-Control max-age, -1 when absent */
        long retry_after_s;  /* Retry-After, -1 when absent */
        uint32_t skip_hours; /* bit h: don't poll during UTC hour h */
        uint8_t skip_days;   /* bit d: don't poll on day d (0 = Monday) */
};

/* The next poll after a successful fetch at `now_ms` (wall clock, ms). */
int64_t nt_schedule_next(int64_t now_ms, const struct nt_schedule_hints *h);

/* The delay after the `failures`-th consecutive failure (1 = first):
 * base * 2^(failures-1), capped at cap_ms, then multiplied by a jitter
 * factor in [0.5, 1.0] taken from `random` (any 64-bit value). A
 * Retry-After longer than that wins. */
int64_t nt_schedule_backoff(int failures, int64_t base_ms, int64_t cap_ms,
                            long retry_after_s, uint64_t random);

/* A stable offset in [0, interval_ms) for a feed key, so that restarts
 * spread first polls the same way each time. */
int64_t nt_schedule_spread(const char *feed_key, int64_t interval_ms);

#endif
