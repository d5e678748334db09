/* Dates as feeds write them: RFC 822/1123 and its common variants, RFC
 * 3339 / W3CDTF, other ISO 8601 forms and asctime, to a UTC instant; and
 * that instant back to RFC 3339. A date that cannot be read is an error,
 * never a guess. */
#ifndef NT_DATE_H
#define NT_DATE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Parses `s` (leading and trailing white space ignored) into milliseconds
 * since the Unix epoch, UTC. Returns 0, or NT_ERR_PARSE when the text is
 * not a date in any supported form or names an impossible one
 * (2025-02-30, hour 25). Forms without a zone are taken as UTC; date-only
 * and year-month forms mean the first instant of that day or month. */
int nt_date_parse(const char *s, int64_t *epoch_ms);

/* The time now in milliseconds: since the epoch (the wall clock, for
 * timestamps), and on the monotonic clock (for deadlines and intervals,
 * which the wall clock's jumps must not move). */
int64_t nt_date_now_ms(void);
int64_t nt_date_mono_ms(void);

/* Timed waits on the monotonic clock too: a condition variable whose
 * pthread_cond_timedwait() reads it (a default one reads the wall clock);
 * 0 or an errno value. And the deadline ms milliseconds from now, in the
 * terms of such a wait. */
int nt_date_cond_init(pthread_cond_t *cond);
struct timespec nt_date_mono_deadline(int64_t ms);

/* A point in time as the command line gives it: a date nt_date_parse()
 * reads, or an age such as "2h" or "30m" meaning that long before now_ms
 * (a bare number is not an age). Returns 0 or NT_ERR_INVALID. */
int nt_date_parse_since(const char *s, int64_t now_ms, int64_t *epoch_ms);

/* Writes the instant as RFC 3339 in UTC: "2026-01-05T10:00:00Z", with
 * ".123" milliseconds only when they are not zero. `size` of 32 always
 * suffices. */
void nt_date_format(int64_t epoch_ms, char *buf, size_t size);

#endif
