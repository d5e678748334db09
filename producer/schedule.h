/* When to poll a feed next: the configured interval, raised to the
 * publisher's own lower bounds (RSS ttl, Cache-Control max-age,
 * Retry-After), skipping RSS skipHours/skipDays; exponential backoff
 * with jitter after failures, capped but never giving up; start times
 * spread over the interval so that feeds don't fire in lockstep. Pure
 * functions of their inputs, so they are tested without a clock.
 *
 * And the timer heap that hands out what is due next in O(log n), so
 * that a loop over 50,000 feeds never walks them all: the producer's
 * feeds by their next poll, the fetcher's hosts by their oldest queued
 * request. */
#ifndef NT_SCHEDULE_H
#define NT_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
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

/* Where a feed resumes after a restart: its saved next poll, or when that
 * has passed, the first slot after now_ms in the same phase (next poll
 * plus whole intervals). The saved time may be an hour behind (a poll
 * that only got 304 is not always saved), and the feed was polled on
 * those slots meanwhile; polling every such feed at start would hit
 * every publisher at once. interval_ms <= 0 keeps the saved time. */
int64_t nt_schedule_resume(int64_t next_poll_ms, int64_t interval_ms,
                           int64_t now_ms);

/* A timer, embedded in what it times (the heap holds pointers to it; the
 * owner finds itself with offsetof). Zero-initialised: not queued. */
struct nt_timer {
        int64_t at;   /* the key: earliest first */
        uint64_t seq; /* ties: first pushed, first out */
        size_t pos;   /* 1 + index in the heap; 0: not queued */
};

/* A binary min-heap of timers. Capacity is reserved ahead, so that
 * pushing never fails: a feed or host that could not be queued would be
 * forgotten silently. Caller-owned: _init() / _free(). */
struct nt_timer_heap {
        struct nt_timer **v;
        size_t n, cap;
        uint64_t seq;
};

void nt_timer_heap_init(struct nt_timer_heap *h);

/* Frees the array (not the timers). NULL-safe. */
void nt_timer_heap_free(struct nt_timer_heap *h);

/* Makes room for `n` timers in all. NT_ERR_NOMEM when it cannot. */
int nt_timer_heap_reserve(struct nt_timer_heap *h, size_t n);

/* Queues t at `at`, or moves it there when already queued (it then goes
 * behind timers of the same `at`). Needs reserved room for a new one:
 * returns NT_ERR_LIMIT, leaving t out, when there is none. */
int nt_timer_heap_push(struct nt_timer_heap *h, struct nt_timer *t, int64_t at);

/* Takes t out; nothing when it is not queued. */
void nt_timer_heap_remove(struct nt_timer_heap *h, struct nt_timer *t);

/* The earliest timer (borrowed), or NULL when empty. */
struct nt_timer *nt_timer_heap_peek(const struct nt_timer_heap *h);

/* True while t is in a heap. */
bool nt_timer_queued(const struct nt_timer *t);

#endif
