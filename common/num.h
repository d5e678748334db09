/* Checked parsing of numbers, durations and sizes from text (command
 * lines, configuration, HTTP headers). Every parser rejects empty input,
 * leading or trailing junk and overflow, unlike atoi or a bare strtol. */
#ifndef NT_NUM_H
#define NT_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Parses a base-10 integer in [min, max] into *out. Returns 0, or
 * NT_ERR_INVALID (not a number, junk) or NT_ERR_LIMIT (out of range). */
int nt_num_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/* Parses a finite decimal number in [min, max] into *out. */
int nt_num_parse_double(const char *s, double min, double max, double *out);

/* Parses a duration into milliseconds: a bare integer is taken in `unit_ms`
 * units (1 for "milliseconds", 1000 for "seconds"); otherwise a sequence of
 * <integer><unit> with units ms s m h d ("1h30m", "500ms", "2d"). */
int nt_num_parse_duration_ms(const char *s, int64_t unit_ms, int64_t *out_ms);

/* Parses a byte size: an integer with an optional unit B, K/KB/KiB,
 * M/MB/MiB, G/GB/GiB (all powers of 1024; sizes here are limits, not
 * disk marketing). */
int nt_num_parse_size(const char *s, int64_t *out_bytes);

/* Writes n bytes as 2 * n lower-case hex digits and a NUL into out
 * (room for 2 * n + 1). */
void nt_num_hex(const unsigned char *bytes, size_t n, char *out);

/* The value of one hexadecimal digit (either case), or -1 when `c` is
 * none. Inline: character references and chunk sizes call it per byte. */
static inline int nt_num_hex_digit(unsigned char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        c |= 0x20; /* ASCII upper case to lower; 'a'..'f' only from letters */
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

#endif
