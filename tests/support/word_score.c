#include "support/word_score.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* U+00A0 separates words as a space does. */
static bool nbsp_at(const char *s)
{
        return (unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0;
}

static bool word_at(const char *s)
{
        unsigned char c = (unsigned char)s[0];

        if (nbsp_at(s))
                return false;
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c >= 0x80;
}

static void *need(void *p)
{
        if (!p) {
                fputs("word_score: out of memory\n", stderr);
                abort();
        }
        return p;
}

/* The words of s, lower-cased and sorted, into an array of *n; caller
 * frees with free_words(). */
static char **words(const char *s, size_t *n)
{
        size_t cap = 64, i, start;
        char **w = need(malloc(cap * sizeof(*w))), *q;

        *n = 0;
        for (i = 0; s[i];) {
                if (!word_at(s + i)) {
                        /* Both bytes of U+00A0: its second alone would
                         * start a word. */
                        i += nbsp_at(s + i) ? 2 : 1;
                        continue;
                }
                start = i;
                while (s[i] && word_at(s + i))
                        i++;
                if (*n == cap) {
                        cap *= 2;
                        w = need(realloc(w, cap * sizeof(*w)));
                }
                w[*n] = need(strndup(s + start, i - start));
                for (q = w[*n]; *q; q++)
                        if (*q >= 'A' && *q <= 'Z')
                                *q = (char)(*q + 32);
                (*n)++;
        }
        qsort(w, *n, sizeof(*w), cmp_str);
        return w;
}

static void free_words(char **w, size_t n)
{
        size_t i;

        for (i = 0; i < n; i++)
                free(w[i]);
        free(w);
}

struct nt_test_prf nt_test_word_score(const char *got, const char *want)
{
        size_t ng, nw, i = 0, j = 0, common = 0;
        char **g = words(got, &ng), **w = words(want, &nw);
        struct nt_test_prf s = {0, 0, 0};
        int c;

        /* Both sorted: a merge counts the words they share, each as often
         * as the side with fewer of it has it. */
        while (i < ng && j < nw) {
                c = strcmp(g[i], w[j]);
                if (c == 0) {
                        common++;
                        i++;
                        j++;
                } else if (c < 0) {
                        i++;
                } else {
                        j++;
                }
        }
        s.p = ng ? (double)common / (double)ng : 0;
        s.r = nw ? (double)common / (double)nw : 0;
        s.f1 = s.p + s.r > 0 ? 2 * s.p * s.r / (s.p + s.r) : 0;
        free_words(g, ng);
        free_words(w, nw);
        return s;
}
