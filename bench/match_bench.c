/* Benchmark of the matching stage alone: the shipped rules over
 * already-decoded text (no JSON, no Kafka), on one core. Articles of about
 * 3 KB are generated in English, Ukrainian and Russian: words drawn from a
 * Zipf distribution over a vocabulary of common words and 20,000 made-up
 * ones per language (so that the matcher's word cache meets new words as
 * it would in real news), sentences starting with a capital,
 * commas and numbers, and one topic phrase in 25 words.
 *
 * The machine is shared, so the benchmark runs in rounds: each round times
 * a reference over the same bytes (see reference_pass()), the matcher over
 * all articles, and the whole text side of the classifier (plus facts,
 * language and SimHash). It prints the best and the median round, and the
 * median ratio of each stage's time to the reference's in the same round, which
 * is what stays put when the neighbours get busy. */
#include "common/buf.h"
#include "common/num.h"
#include "consumer/classify.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_ARTICLES   2000
#define ARTICLE_SIZE 3000 /* bytes of body, roughly */
#define MIN_SECONDS  5.0  /* of rounds in all */
#define MAX_ROUNDS   400
#define VOCAB_MADE   20000 /* made-up words per language */

static const char *const filler[3][24] = {
    {"the",    "of",    "and",    "officials",  "said",     "on",
     "Monday", "city",  "report", "government", "minister", "a",
     "in",     "talks", "week",   "new",        "people",   "region",
     "after",  "would", "its",    "with",       "plan",     "year"},
    {"уряд",    "міністр", "заявив",     "що",      "у",     "понеділок",
     "місто",   "звіт",    "переговори", "тиждень", "нові",  "люди",
     "область", "після",   "план",       "рік",     "також", "який",
     "було",    "вони",    "на",         "та",      "з",     "президент"},
    {"правительство", "министр", "заявил",     "что",    "в",     "понедельник",
     "город",         "отчет",   "переговоры", "неделя", "новые", "люди",
     "область",       "после",   "план",       "год",    "также", "который",
     "было",          "они",     "на",         "и",      "с",     "президент"},
};

static const char *const topical[3][8] = {
    {"security guarantees", "Zaporizhzhia nuclear power plant", "IAEA",
     "occupied territories", "Crimea annexation", "15 years", "six reactors",
     "Zelenskyy"},
    {"гарантії безпеки", "Запорізька АЕС", "МАГАТЕ", "окуповані території",
     "анексія Криму", "15 років", "шість енергоблоків", "Зеленський"},
    {"гарантии безопасности", "Запорожская АЭС", "МАГАТЭ",
     "оккупированные территории", "аннексия Крыма", "15 лет", "шесть реакторов",
     "Зеленский"},
};

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return rng_state;
}

/* Syllables for the made-up words, per language. */
static const char *const syllables[3][20] = {
    {"ba",  "con", "de", "for", "gen",  "ic", "la",  "men", "ner", "o",
     "pro", "ri",  "sa", "ter", "tion", "u",  "ver", "wa",  "al",  "st"},
    {"ва", "ко", "ні",  "ть", "про", "ри", "за", "ла", "ми",  "ст",
     "ен", "ів", "ого", "ти", "на",  "ре", "ся", "ки", "ють", "ді"},
    {"ва", "ко", "ни",  "ть", "про", "ри", "за", "ла", "ми", "ст",
     "ен", "ов", "ого", "ты", "на",  "ре", "ся", "ки", "ют", "ду"},
};

#define VOCAB (24 + VOCAB_MADE)

/* Per language: the words by rank (the common words first) and the Zipf
 * distribution's cumulative weights (exponent 1). */
static char *vocab[3][VOCAB];
static double zipf_cum[VOCAB];

static void make_vocabulary(void)
{
        double sum = 0;
        int lang, r, k, n;

        for (r = 0; r < VOCAB; r++) {
                sum += 1.0 / (r + 1);
                zipf_cum[r] = sum;
        }
        for (lang = 0; lang < 3; lang++) {
                for (r = 0; r < 24; r++)
                        vocab[lang][r] = strdup(filler[lang][r]);
                for (; r < VOCAB; r++) {
                        struct nt_buf b;

                        nt_buf_init(&b, 64);
                        n = 2 + (int)(rng() % 3);
                        for (k = 0; k < n; k++)
                                nt_buf_append_str(&b,
                                                  syllables[lang][rng() % 20]);
                        vocab[lang][r] = nt_buf_detach(&b);
                }
        }
}

static const char *zipf_word(int lang)
{
        double x =
            (double)(rng() >> 11) / 9007199254740992.0 * zipf_cum[VOCAB - 1];
        size_t lo = 0, hi = VOCAB - 1;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;

                if (zipf_cum[mid] < x)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return vocab[lang][lo];
}

/* Appends w with its first letter in upper case (ASCII, and the Cyrillic
 * lower-case letters а-я, і, ї, є). */
static void append_capitalised(struct nt_buf *b, const char *w)
{
        const unsigned char *u = (const unsigned char *)w;
        char c[2];

        if (u[0] >= 'a' && u[0] <= 'z') {
                c[0] = (char)(u[0] - 32);
                nt_buf_append(b, c, 1);
                nt_buf_append_str(b, w + 1);
        } else if (u[0] == 0xD0 && u[1] >= 0xB0) {
                c[0] = (char)0xD0;
                c[1] = (char)(u[1] - 0x20);
                nt_buf_append(b, c, 2);
                nt_buf_append_str(b, w + 2);
        } else if (u[0] == 0xD1 && u[1] <= 0x8F) {
                c[0] = (char)0xD0;
                c[1] = (char)(u[1] + 0x20);
                nt_buf_append(b, c, 2);
                nt_buf_append_str(b, w + 2);
        } else if (u[0] == 0xD1 && u[1] >= 0x94 && u[1] <= 0x97) {
                c[0] = (char)0xD0;
                c[1] = (char)(u[1] - 0x10);
                nt_buf_append(b, c, 2);
                nt_buf_append_str(b, w + 2);
        } else {
                nt_buf_append_str(b, w);
        }
}

/* Appends words until the buffer holds about `bytes`: sentences of about
 * a dozen words, a comma now and then, a number in 40 words and a topic
 * phrase in 25. */
static void words(struct nt_buf *b, int lang, size_t bytes)
{
        size_t start = b->len, k = 0;
        char num[16];
        uint64_t r;

        while (b->len - start < bytes) {
                r = rng() % 1000;
                if (r < 40) {
                        nt_buf_append_str(b, topical[lang][rng() % 8]);
                } else if (r < 65) {
                        snprintf(num, sizeof(num), "%u",
                                 (unsigned)(rng() % 3000));
                        nt_buf_append_str(b, num);
                } else if (k % 12 == 0) {
                        append_capitalised(b, zipf_word(lang));
                } else {
                        nt_buf_append_str(b, zipf_word(lang));
                }
                k++;
                if (k % 12 == 0)
                        nt_buf_append_str(b, ". ");
                else if (rng() % 10 == 0)
                        nt_buf_append_str(b, ", ");
                else
                        nt_buf_append_str(b, " ");
        }
}

struct article {
        char *text[NT_FIELD_COUNT];
        size_t len[NT_FIELD_COUNT];
};

/* The process's CPU time: on a machine shared with other work, wall time
 * says more about the neighbours than about the code. Both are printed. */
static double cpu_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The reference: the least any word matcher does, over the same bytes.
 * It splits the text at ASCII bytes other than letters and digits,
 * hashes each word (FNV-1a) and counts it in a 64 Ki-slot table; no
 * folding, no Unicode. Like the stages, it branches at every word's end
 * and touches a table per word, so it slows down with them when another
 * process shares the core, and the ratio of a stage's time to its time
 * says what the stage costs beyond reading the words. */
#define REF_SLOTS (1u << 16)

static double reference_pass(const struct article *arts, size_t n,
                             uint32_t *counts, uint64_t *check)
{
        double t0 = cpu_now();
        uint64_t sum = 0;
        size_t i, k;
        int f;

        for (i = 0; i < n; i++) {
                for (f = 0; f < NT_FIELD_COUNT; f++) {
                        const unsigned char *u =
                            (const unsigned char *)arts[i].text[f];
                        size_t len = arts[i].len[f];
                        uint64_t h = 0xcbf29ce484222325ull;
                        bool in_word = false;

                        for (k = 0; k <= len; k++) {
                                unsigned c = k < len ? u[k] : ' ';

                                if (c >= 0x80 || (c | 0x20) - 'a' < 26u ||
                                    c - '0' < 10u) {
                                        h = (h ^ c) * 0x100000001b3ull;
                                        in_word = true;
                                } else if (in_word) {
                                        sum += ++counts[h >> 48];
                                        h = 0xcbf29ce484222325ull;
                                        in_word = false;
                                }
                        }
                }
        }
        *check += sum; /* printed: the loop must run */
        return cpu_now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* Sorts v[0..n) and returns its median. */
static double median(double *v, size_t n)
{
        qsort(v, n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void fields_of(const struct article *a, struct nt_text_fields *in)
{
        int f;

        for (f = 0; f < NT_FIELD_COUNT; f++) {
                in->text[f] = a->text[f];
                in->len[f] = a->len[f];
        }
}

int main(int argc, char **argv)
{
        static struct article arts[N_ARTICLES];
        const char *dir =
            argc > 1 && argv[1][0] ? argv[1] : NT_SOURCE_DIR "/config/rules";
        /* A second argument runs each pass once over that many articles
         * (at most N_ARTICLES): a fixed amount of work, for instruction
         * counts under callgrind, where timing means nothing. */
        size_t n_arts = N_ARTICLES;
        bool once = false;
        char errstr[512], **paths = NULL;
        size_t n_paths = 0, i, bytes = 0, labelled = 0;
        nt_classifier_t *c;
        const nt_match_t *m;
        nt_match_scratch_t *s;
        static double t_ref[MAX_ROUNDS], t_stage[2][MAX_ROUNDS],
            ratio[2][MAX_ROUNDS];
        double t0, t, w0, wall, rate, ref;
        static uint32_t ref_counts[REF_SLOTS];
        uint64_t h = 0;
        size_t rounds = 0, r;
        int f, pass;
        int64_t v;

        if (argc > 2) {
                if (nt_num_parse_i64(argv[2], 1, N_ARTICLES, &v)) {
                        fprintf(stderr,
                                "match_bench: article count must be 1..%d\n",
                                N_ARTICLES);
                        return 2;
                }
                n_arts = (size_t)v;
                once = true;
        }

        if (nt_rules_expand_paths(&dir, 1, &paths, &n_paths, errstr,
                                  sizeof(errstr)) ||
            !(c = nt_classifier_new((const char *const *)paths, n_paths, errstr,
                                    sizeof(errstr)))) {
                fprintf(stderr, "match_bench: %s\n", errstr);
                return 1;
        }
        make_vocabulary();
        for (i = 0; i < N_ARTICLES; i++) {
                static const size_t sizes[NT_FIELD_COUNT] = {60, 200,
                                                             ARTICLE_SIZE};
                int lang = (int)(i % 3);

                for (f = 0; f < NT_FIELD_COUNT; f++) {
                        struct nt_buf b;

                        nt_buf_init(&b, 1 << 20);
                        words(&b, lang, sizes[f]);
                        arts[i].len[f] = b.len;
                        arts[i].text[f] = nt_buf_detach(&b);
                        if (i < n_arts)
                                bytes += arts[i].len[f];
                }
        }
        printf("match_bench: %d articles, %.0f bytes each on average "
               "(title + lead + body), rules %s (%zu files)\n",
               (int)n_arts, (double)bytes / (double)n_arts, dir, n_paths);
        m = nt_classifier_matcher(c);
        s = nt_match_scratch_new(m);
        /* Rounds: the reference, then each stage over all articles. */
        w0 = wall_now();
        t = 0;
        do {
                t += t_ref[rounds] =
                    reference_pass(arts, n_arts, ref_counts, &h);
                for (pass = 0; pass < 2; pass++) {
                        t0 = cpu_now();
                        for (i = 0; i < n_arts; i++) {
                                struct nt_text_fields in;
                                struct nt_match_result mr;
                                struct nt_classifier_result cr;

                                fields_of(&arts[i], &in);
                                if (pass == 0) {
                                        if (nt_match_run(m, s, &in, &mr))
                                                return 1;
                                        labelled += mr.n_topics > 0 &&
                                                    mr.topics[0].labelled;
                                } else {
                                        if (nt_classifier_match(c, &in, &cr,
                                                                NULL, 0))
                                                return 1;
                                        labelled += cr.n_facts;
                                }
                        }
                        t_stage[pass][rounds] = cpu_now() - t0;
                        t += t_stage[pass][rounds];
                }
                rounds++;
        } while (!once && rounds < MAX_ROUNDS && t < MIN_SECONDS);
        wall = wall_now() - w0;
        for (r = 0; r < rounds; r++)
                for (pass = 0; pass < 2; pass++)
                        ratio[pass][r] = t_stage[pass][r] / t_ref[r];
        printf("%zu rounds, %.2f s CPU, %.2f s wall (checksums %02x %zu)\n",
               rounds, t, wall, (unsigned)(h & 0xff), labelled);
        ref = median(t_ref, rounds);
        printf("%-40s %8.2f ns/byte (median round; best %.2f)\n",
               "reference (split, hash, count words):",
               ref * 1e9 / (double)bytes, t_ref[0] * 1e9 / (double)bytes);
        for (pass = 0; pass < 2; pass++) {
                double best, med;

                med = median(t_stage[pass], rounds);
                best = t_stage[pass][0];
                rate = (double)n_arts / med;
                printf("%-40s %8.0f articles/s %6.1f MB/s per CPU second "
                       "(median round; best %.0f articles/s); %.2f x the "
                       "reference's time\n",
                       pass == 0 ? "matching (tokenise, trie, evaluate):"
                                 : "text side (+facts, language, simhash):",
                       rate, (double)bytes / med / 1e6, (double)n_arts / best,
                       median(ratio[pass], rounds));
        }
        /* The program as it was run, from a release build (make bench). */
        printf("command: %s", argv[0]);
        for (i = 1; i < (size_t)argc; i++)
                printf(" %s", argv[i]);
        printf("\n");
        nt_match_scratch_destroy(s);
        nt_classifier_destroy(c);
        for (i = 0; i < N_ARTICLES; i++)
                for (f = 0; f < NT_FIELD_COUNT; f++)
                        free(arts[i].text[f]);
        for (f = 0; f < 3; f++)
                for (i = 0; i < VOCAB; i++)
                        free(vocab[f][i]);
        for (i = 0; i < n_paths; i++)
                free(paths[i]);
        free(paths);
        return 0;
}
