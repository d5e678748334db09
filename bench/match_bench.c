/* Benchmark of the matching stage alone: the shipped rules over
 * already-decoded text (no JSON, no Kafka), on one core. Articles of about
 * 3 KB are generated from a vocabulary that mixes topic words with filler
 * in English, Ukrainian and Russian. Prints articles/s and MB/s for the
 * matcher (tokenise + trie + evaluation), and for the whole text side of
 * the classifier (plus facts, language and SimHash). */
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
#define MIN_SECONDS  2.0

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

/* Appends words until the buffer holds about `bytes`; one word in 25 is
 * a topic phrase, and sentences end every dozen words. */
static void words(struct nt_buf *b, int lang, size_t bytes)
{
        size_t start = b->len, k = 0;

        while (b->len - start < bytes) {
                if (rng() % 25 == 0)
                        nt_buf_append_str(b, topical[lang][rng() % 8]);
                else
                        nt_buf_append_str(b, filler[lang][rng() % 24]);
                nt_buf_append_str(b, ++k % 12 ? " " : ". ");
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

/* A reference loop over the same bytes: FNV-1a, one multiply per byte in
 * a chain the compiler cannot vectorise. On a busy machine it slows down
 * with the benchmark, so its figure tells how busy the core was. */
static double reference_ns_per_byte(const struct article *arts, size_t n,
                                    size_t bytes, unsigned *check)
{
        double t0 = cpu_now(), t;
        uint64_t h = 0xcbf29ce484222325ull;
        size_t i, k;
        int f, r;

        for (r = 0; r < 5; r++)
                for (i = 0; i < n; i++)
                        for (f = 0; f < NT_FIELD_COUNT; f++)
                                for (k = 0; k < arts[i].len[f]; k++)
                                        h = (h ^ (unsigned char)arts[i]
                                                     .text[f][k]) *
                                            0x100000001b3ull;
        t = cpu_now() - t0;
        *check = (unsigned)(h & 0xff); /* printed: the loop must run */
        return t * 1e9 / (5.0 * (double)bytes);
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
        double t0, t, w0, wall, rate, ref;
        unsigned check;
        long runs;
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
                        bytes += arts[i].len[f];
                }
        }
        printf("match_bench: %d articles, %.0f bytes each on average "
               "(title + lead + body), rules %s (%zu files)\n",
               N_ARTICLES, (double)bytes / N_ARTICLES, dir, n_paths);
        ref = reference_ns_per_byte(arts, N_ARTICLES, bytes, &check);
        printf("reference loop (FNV-1a over the same bytes): %.2f ns/byte "
               "(check %02x); it slows down with the machine's load\n",
               ref, check);
        m = nt_classifier_matcher(c);
        s = nt_match_scratch_new(m);
        for (pass = 0; pass < 2; pass++) {
                runs = 0;
                labelled = 0;
                t0 = cpu_now();
                w0 = wall_now();
                do {
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
                        runs++;
                        t = cpu_now() - t0;
                } while (!once && t < MIN_SECONDS);
                wall = wall_now() - w0;
                rate = (double)runs * (double)n_arts / t;
                printf("%-41s %7.0f articles/s %6.1f MB/s per CPU second "
                       "(%ld x %d articles, %.2f s CPU, %.2f s wall: %.0f "
                       "articles/s by the clock; checksum %zu)\n",
                       pass == 0 ? "matching (tokenise, trie, evaluate):"
                                 : "text side (+facts, language, simhash):",
                       rate, rate * (double)bytes / N_ARTICLES / 1e6, runs,
                       (int)n_arts, t, wall,
                       (double)runs * (double)n_arts / wall, labelled);
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
        for (i = 0; i < n_paths; i++)
                free(paths[i]);
        free(paths);
        return 0;
}
