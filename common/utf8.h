/* UTF-8 as the text writers need it: the length of one well-formed
 * character (no overlong forms, no surrogates, nothing past U+10FFFF,
 * which is also what jansson accepts), whether a run of bytes is
 * well-formed, and 16-byte skips over plain text and over well-formed
 * text for the hot loops.
 * Inline: these sit in the innermost loops of the HTML converter and the
 * JSON writers. */
#ifndef NT_UTF8_H
#define NT_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* SSE2 is part of every x86-64; elsewhere, or built with -DNT_NO_SIMD (to
 * test the scalar paths alone), the callers take their scalar loops. */
#if defined(__SSE2__) && !defined(NT_NO_SIMD)
#include <emmintrin.h>
#define NT_HAVE_SSE2 1
#endif

/* Length of the well-formed UTF-8 character at p (`avail` bytes there),
 * or 0 when the byte at p starts none. */
static inline size_t nt_utf8_len(const unsigned char *p, size_t avail)
{
        unsigned char lo = 0x80, hi = 0xBF;
        size_t n, k;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xC2 && p[0] <= 0xDF)
                n = 2;
        else if (p[0] >= 0xE0 && p[0] <= 0xEF)
                n = 3;
        else if (p[0] >= 0xF0 && p[0] <= 0xF4)
                n = 4;
        else
                return 0;
        if (n > avail)
                return 0;
        if (p[0] == 0xE0)
                lo = 0xA0;
        else if (p[0] == 0xED)
                hi = 0x9F;
        else if (p[0] == 0xF0)
                lo = 0x90;
        else if (p[0] == 0xF4)
                hi = 0x8F;
        if (p[1] < lo || p[1] > hi)
                return 0;
        for (k = 2; k < n; k++)
                if ((p[k] & 0xC0) != 0x80)
                        return 0;
        return n;
}

/* True when s[0..n) is well-formed UTF-8. */
static inline bool nt_utf8_valid(const unsigned char *s, size_t n)
{
        size_t i = 0, k;

        while (i < n) {
                k = nt_utf8_len(s + i, n - i);
                if (!k)
                        return false;
                i += k;
        }
        return true;
}

#ifdef NT_HAVE_SSE2
/* How many bytes from the start of the 16-byte block v are whole
 * characters of one or two bytes (ASCII; Latin, Cyrillic, Greek...), given
 * `hi`, the mask of its bytes from 0x80: 16; 15 when only its last byte
 * is a two-byte character's first, whose second is the next block's first
 * (one block in two, in Cyrillic text); 0 when the block holds anything
 * else (a longer character, a byte that starts none, a character begun
 * before it). */
static inline unsigned nt_utf8_block_span(__m128i v, unsigned hi)
{
        /* 0xC2-0xDF lead two bytes; 0x80-0xBF continue. Signed compares:
         * the bytes from 0x80 are negative. */
        const __m128i lead =
            _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8((char)0xC1)),
                          _mm_cmplt_epi8(v, _mm_set1_epi8((char)0xE0)));
        const __m128i cont = _mm_cmplt_epi8(v, _mm_set1_epi8((char)0xC0));
        unsigned l = (unsigned)_mm_movemask_epi8(lead);
        unsigned k = (unsigned)_mm_movemask_epi8(cont) & hi;
        unsigned last = l & 0x8000;

        l &= 0x7FFF;
        if (hi != (l | k | last) || (l << 1) != k)
                return 0;
        return last ? 15 : 16;
}

/* The index of the first byte from i that may need a look, 16 bytes at a
 * time: blocks made only of ASCII other than the controls and the two
 * special bytes a and b (say '<' and '&' for HTML, '"' and '\\' for
 * JSON), and of well-formed two-byte characters, are skipped whole; in
 * another block, the ASCII before its first special or non-ASCII byte.
 * What it stops at, the caller's scalar loop reads. i must be at a
 * character boundary. */
static inline size_t nt_utf8_plain_run(const unsigned char *s, size_t i,
                                       size_t len, char a, char b)
{
        const __m128i va = _mm_set1_epi8(a), vb = _mm_set1_epi8(b);

        while (i + 16 <= len) {
                const __m128i v =
                    _mm_loadu_si128((const __m128i *)(const void *)(s + i));
                const __m128i high = _mm_cmplt_epi8(v, _mm_setzero_si128());
                const __m128i special = _mm_or_si128(
                    _mm_andnot_si128(high,
                                     _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))),
                    _mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)));
                unsigned sp = (unsigned)_mm_movemask_epi8(special);
                unsigned hi = (unsigned)_mm_movemask_epi8(high);
                unsigned n;

                if (!(sp | hi)) { /* plain ASCII, the common block */
                        i += 16;
                        continue;
                }
                n = sp ? 0 : nt_utf8_block_span(v, hi);
                if (n == 0)
                        return i + (size_t)__builtin_ctz(sp | hi);
                i += n;
        }
        return i;
}

/* The same for well-formedness alone: the index of the first byte from i
 * that is not in a block of whole one- and two-byte characters (controls
 * included). i must be at a character boundary. */
static inline size_t nt_utf8_valid_run(const unsigned char *s, size_t i,
                                       size_t len)
{
        while (i + 16 <= len) {
                const __m128i v =
                    _mm_loadu_si128((const __m128i *)(const void *)(s + i));
                unsigned hi = (unsigned)_mm_movemask_epi8(v);
                unsigned n;

                if (!hi) { /* ASCII, the common block */
                        i += 16;
                        continue;
                }
                n = nt_utf8_block_span(v, hi);
                if (n == 0)
                        return i + (size_t)__builtin_ctz(hi);
                i += n;
        }
        return i;
}
#endif

#endif
