/* The JSON the pipeline writes validates against docs/schema/: the
 * articles of `newstap parse --articles` (what produce and replay
 * publish) and the events of `newstap classify --offline` (the same
 * event-building code as the daemon), for every bundled sample feed. */
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *run_ok(char *const argv[], const char *input)
{
        char *out, *err;
        int status = nt_run(argv, input, &out, &err, 120000);

        cr_assert_eq(status, 0, "%s %s exited %d:\n%s", argv[0], argv[1],
                     status, err);
        free(err);
        return out;
}

Test(schema, articles_and_events_validate, .timeout = 300)
{
        const char *src = getenv("NT_SOURCE_DIR");
        char dir[512], file[1024], validate[512], article_schema[512],
            event_schema[512], rules[512];
        char *articles = calloc(1, 1), *events, *out;
        size_t len = 0;
        struct dirent *e;
        DIR *d;
        int files = 0;

        cr_assert_not_null(src, "NT_SOURCE_DIR is not set: run through ctest");
        snprintf(dir, sizeof(dir), "%s/config/samples", src);
        snprintf(validate, sizeof(validate), "%s/scripts/validate-json", src);
        snprintf(article_schema, sizeof(article_schema),
                 "%s/docs/schema/article.schema.json", src);
        snprintf(event_schema, sizeof(event_schema),
                 "%s/docs/schema/enriched.schema.json", src);
        snprintf(rules, sizeof(rules), "%s/config/rules", src);
        d = opendir(dir);
        cr_assert_not_null(d, "cannot open %s", dir);
        while ((e = readdir(d)) != NULL) {
                char *argv[] = {(char *)nt_test_bin(), "parse", "--articles",
                                file, NULL};
                size_t n;

                if (e->d_name[0] == '.')
                        continue;
                snprintf(file, sizeof(file), "%s/%s", dir, e->d_name);
                out = run_ok(argv, NULL);
                n = strlen(out);
                articles = realloc(articles, len + n + 1);
                memcpy(articles + len, out, n + 1);
                len += n;
                free(out);
                files++;
        }
        closedir(d);
        cr_assert_geq(files, 3, "too few sample feeds in %s", dir);
        cr_assert_gt(len, 0, "the samples gave no articles");
        {
                char *argv[] = {validate, article_schema, NULL};
                free(run_ok(argv, articles));
        }
        {
                char *argv[] = {(char *)nt_test_bin(),
                                "classify",
                                "--offline",
                                "--rules",
                                rules,
                                NULL};
                events = run_ok(argv, articles);
        }
        cr_assert_not_null(strstr(events, "\"labels\":[{"),
                           "no event carries a label: the check would be "
                           "weak");
        {
                char *argv[] = {validate, event_schema, NULL};
                free(run_ok(argv, events));
        }
        free(events);
        free(articles);
}
