/* How close an extracted text is to the text it should be: the words of
 * both as multisets, precision, recall and F1. One scorer for the tests'
 * bars (tests/test_extract.c) and the benchmark's figures
 * (bench/extract_bench.c), so that both mean the same. Test and bench
 * code: it aborts on running out of memory rather than report it. */
#ifndef NT_TEST_WORD_SCORE_H
#define NT_TEST_WORD_SCORE_H

struct nt_test_prf {
        double p;  /* the share of the words of `got` that `want` has */
        double r;  /* the share of the words of `want` that `got` has */
        double f1; /* their harmonic mean; 0 when both are 0 */
};

/* Words are runs of ASCII letters, digits and any non-ASCII byte but
 * those of U+00A0 (which separates words as a space does), compared
 * lower-cased. An empty side scores 0 there. */
struct nt_test_prf nt_test_word_score(const char *got, const char *want);

#endif
