#include "producer/schedule.h"
#include "common/err.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define HOUR_MS ((int64_t)3600 * 1000)
#define DAY_MS  (24 * HOUR_MS)

static int64_t max64(int64_t a, int64_t b)
{
        return a > b ? a : b;
}

/* Moves t forward out of skipped hours and days (UTC). At most a week of
 * hours is examined: a feed that skips every hour of every day is polled
 * anyway rather than never. */
static int64_t skip_forward(int64_t t, uint32_t skip_hours, uint8_t skip_days)
{
        int i;

        if (!skip_hours && !skip_days)
                return t;
        for (i = 0; i < 24 * 7; i++) {
                int64_t day = t >= 0 ? t / DAY_MS : (t - DAY_MS + 1) / DAY_MS;
                int hour = (int)((t - day * DAY_MS) / HOUR_MS);
                /* 1970-01-01 was a Thursday: day 3 with Monday as 0. */
                int wday = (int)(((day % 7) + 7 + 3) % 7);

                if (!(skip_hours & (1u << hour)) && !(skip_days & (1u << wday)))
                        return t;
                /* The start of the next hour. */
                t = day * DAY_MS + (int64_t)(hour + 1) * HOUR_MS;
        }
        return t;
}

int64_t nt_schedule_next(int64_t now_ms, const struct nt_schedule_hints *h)
{
        int64_t wait = h->interval_ms;

        if (h->ttl_minutes > 0)
                wait = max64(wait, (int64_t)h->ttl_minutes * 60 * 1000);
        if (h->max_age_s > 0)
                wait = max64(wait, (int64_t)h->max_age_s * 1000);
        if (h->retry_after_s > 0)
                wait = max64(wait, (int64_t)h->retry_after_s * 1000);
        return skip_forward(now_ms + wait, h->skip_hours, h->skip_days);
}

int64_t nt_schedule_backoff(int failures, int64_t base_ms, int64_t cap_ms,
                            long retry_after_s, uint64_t random)
{
        int64_t d = base_ms;
        int i;
        double jitter;

        for (i = 1; i < failures && d < cap_ms; i++)
                d = d > cap_ms / 2 ? cap_ms : d * 2;
        if (d > cap_ms)
                d = cap_ms;
        /* Full jitter would let a failing feed come back at once; half
         * jitter keeps the growth while breaking lockstep. */
        jitter = 0.5 + (double)(random >> 11) / (double)(1ULL << 53) * 0.5;
        d = (int64_t)((double)d * jitter);
        if (retry_after_s > 0)
                d = max64(d, (int64_t)retry_after_s * 1000);
        return d;
}

int64_t nt_schedule_spread(const char *feed_key, int64_t interval_ms)
{
        if (interval_ms <= 0)
                return 0;
        return (int64_t)(XXH3_64bits(feed_key, strlen(feed_key)) %
                         (uint64_t)interval_ms);
}

int64_t nt_schedule_resume(int64_t next_poll_ms, int64_t interval_ms,
                           int64_t now_ms)
{
        if (interval_ms <= 0 || next_poll_ms >= now_ms)
                return next_poll_ms;
        return next_poll_ms +
               ((now_ms - next_poll_ms) / interval_ms + 1) * interval_ms;
}

void nt_timer_heap_init(struct nt_timer_heap *h)
{
        memset(h, 0, sizeof(*h));
}

void nt_timer_heap_free(struct nt_timer_heap *h)
{
        size_t i;

        if (!h)
                return;
        for (i = 0; i < h->n; i++)
                h->v[i]->pos = 0;
        free(h->v);
        memset(h, 0, sizeof(*h));
}

int nt_timer_heap_reserve(struct nt_timer_heap *h, size_t n)
{
        struct nt_timer **v;

        if (n <= h->cap)
                return NT_OK;
        if (n > SIZE_MAX / sizeof(*v))
                return NT_ERR_NOMEM;
        v = realloc(h->v, n * sizeof(*v));
        if (!v)
                return NT_ERR_NOMEM;
        h->v = v;
        h->cap = n;
        return NT_OK;
}

static bool before(const struct nt_timer *a, const struct nt_timer *b)
{
        return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void put(struct nt_timer_heap *h, size_t i, struct nt_timer *t)
{
        h->v[i] = t;
        t->pos = i + 1;
}

/* Moves the timer at i up or down to its place. */
static void settle_at(struct nt_timer_heap *h, size_t i)
{
        struct nt_timer *t = h->v[i];

        while (i > 0 && before(t, h->v[(i - 1) / 2])) {
                put(h, i, h->v[(i - 1) / 2]);
                i = (i - 1) / 2;
        }
        for (;;) {
                size_t c = 2 * i + 1;

                if (c >= h->n)
                        break;
                if (c + 1 < h->n && before(h->v[c + 1], h->v[c]))
                        c++;
                if (!before(h->v[c], t))
                        break;
                put(h, i, h->v[c]);
                i = c;
        }
        put(h, i, t);
}

int nt_timer_heap_push(struct nt_timer_heap *h, struct nt_timer *t, int64_t at)
{
        t->at = at;
        t->seq = h->seq++;
        if (t->pos == 0) {
                if (h->n == h->cap)
                        return NT_ERR_LIMIT;
                put(h, h->n++, t);
        }
        settle_at(h, t->pos - 1);
        return NT_OK;
}

void nt_timer_heap_remove(struct nt_timer_heap *h, struct nt_timer *t)
{
        size_t i;

        if (t->pos == 0)
                return;
        i = t->pos - 1;
        t->pos = 0;
        h->n--;
        if (i == h->n)
                return;
        put(h, i, h->v[h->n]);
        settle_at(h, i);
}

struct nt_timer *nt_timer_heap_peek(const struct nt_timer_heap *h)
{
        return h->n > 0 ? h->v[0] : NULL;
}

bool nt_timer_queued(const struct nt_timer *t)
{
        return t->pos != 0;
}
