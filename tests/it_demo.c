/* `newstap demo` (what `make demo` runs): the bundled samples go through
 * replay, the classifier and tail on the in-process dev broker; labelled
 * articles of all three topics are printed, the hard negatives are not,
 * and it ends on its own with exit status 0. */
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Drops the » « marks (UTF-8 C2 BB, C2 AB) in place. */
static void unmark(char *s)
{
        char *w = s;

        for (; *s; s++) {
                if ((unsigned char)s[0] == 0xC2 &&
                    ((unsigned char)s[1] == 0xBB ||
                     (unsigned char)s[1] == 0xAB)) {
                        s++;
                        continue;
                }
                *w++ = *s;
        }
        *w = '\0';
}

Test(demo, labels_the_samples_of_all_three_topics)
{
        /* Titles as shown, without the marks around the evidence (which
         * words are evidence is the rules' business). */
        static const char *const shown[] = {
            /* guarantees: en, uk, ru */
            "guarantees ",
            "Allies sketch a 15-year framework of security guarantees for "
            "Ukraine",
            "Партнери обговорюють гарантії безпеки для України перед самітом",
            "Европейские страны обсуждают гарантии безопасности для Украины",
            /* territory: en, uk, ru */
            "territory ",
            "Negotiators argue over a withdrawal of forces from the Donetsk "
            "region",
            "Київ відкидає вимогу віддати окуповані території в обмін на "
            "перемир'я",
            "Кремль требует признать новые территориальные реалии",
            /* zaporizhzhia: en, uk, ru */
            "zaporizhzhia ",
            "IAEA team rotates at the Zaporizhzhia nuclear power plant",
            "МАГАТЕ: на Запорізькій АЕС знову зникло зовнішнє живлення",
            "На Запорожской АЭС восстановили резервную линию электропередачи"};
        static const char *const not_shown[] = {
            "loan guarantee", "uncharted territory",
            "riverside park", "трамвайний",
            "ferries",        "баскетболу"};
        const char *src = getenv("NT_SOURCE_DIR");
        char samples[1024], rules[1024];
        char *argv[8], *out, *err;
        size_t i;
        int status;

        cr_assert(src && *src, "NT_SOURCE_DIR is not set: run through ctest");
        snprintf(samples, sizeof(samples), "%s/config/samples", src);
        snprintf(rules, sizeof(rules), "%s/config/rules", src);
        argv[0] = (char *)nt_test_bin();
        argv[1] = "demo";
        argv[2] = "--samples";
        argv[3] = samples;
        argv[4] = "--rules";
        argv[5] = rules;
        argv[6] = NULL;
        status = nt_run(argv, NULL, &out, &err, 120000);
        cr_assert_eq(status, 0, "demo exited %d: %s", status, err);
        cr_assert(strstr(out, "»"), "the evidence is marked:\n%s", out);
        unmark(out);
        for (i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
                cr_assert(strstr(out, shown[i]), "\"%s\" missing from:\n%s",
                          shown[i], out);
        for (i = 0; i < sizeof(not_shown) / sizeof(not_shown[0]); i++)
                cr_assert_null(strstr(out, not_shown[i]),
                               "hard negative \"%s\" shown:\n%s", not_shown[i],
                               out);
        cr_assert(strstr(out, "AT LEAST ONCE"), "%s", out);
        cr_assert(strstr(out, "replayed 18 article(s) from 4 sample feed(s)"),
                  "%s", out);
        cr_assert(strstr(out, "18 article(s) in, 18 enriched event(s)"), "%s",
                  out);
        cr_assert(strstr(out, "labels out: news.topic.guarantees 4, "
                              "news.topic.territory 3, "
                              "news.topic.zaporizhzhia 3"),
                  "%s", out);
        cr_assert(strstr(out, "dev broker stopped"), "%s", out);
        cr_assert_null(strchr(out, '\033'), "no colour into a pipe");
        free(out);
        free(err);
}

Test(demo, help)
{
        char *argv[] = {(char *)nt_test_bin(), "demo", "--help", NULL};
        char *out, *err;

        cr_assert_eq(nt_run(argv, NULL, &out, &err, 30000), 0);
        cr_assert(strstr(out, "--follow"), "%s", out);
        cr_assert(strstr(out, "AT LEAST ONCE"), "%s", out);
        free(out);
        free(err);
}
