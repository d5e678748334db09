/* libFuzzer target: any bytes through nt_feed_parse (with and without an
 * HTTP charset and a base URL, chosen by the first byte), then the JSON of
 * the parse and every entry's article. Crashes, sanitizer reports and
 * leaks are the findings; results are not checked. */
#include "common/article.h"
#include "common/feed.h"
#include "common/feed_parse.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const types[] = {NULL, "text/xml; charset=utf-8",
                                            "text/xml; charset=koi8-r",
                                            "application/xml; charset=utf-16"};
        struct nt_feed_limits lim;
        struct nt_article art;
        struct nt_feed feed;
        const char *type = NULL, *base = NULL;
        char *line;
        json_t *j;
        size_t i;
        uint8_t mode = 0;

        if (size > 0) {
                mode = data[0];
                type = types[mode & 3];
                base = (mode & 4) ? "http://fuzz.example/a/b/feed.xml" : NULL;
        }
        nt_feed_limits_init(&lim);
        /* Small limits reach the truncation paths with small inputs. */
        if (mode & 8) {
                lim.max_entries = 4;
                lim.max_field = 64;
                lim.max_depth = 8;
                lim.max_list = 2;
                lim.max_errors = 3;
        }
        nt_feed_init(&feed);
        if (nt_feed_parse((const char *)data, size, type, base, &lim, &feed,
                          NULL, 0) == 0) {
                j = nt_feed_to_json(&feed);
                line = j ? json_dumps(j, JSON_COMPACT) : NULL;
                free(line);
                json_decref(j);
                for (i = 0; i < feed.n_entries; i++) {
                        nt_article_init(&art);
                        if (nt_article_from_entry(&feed, &feed.entries[i], base,
                                                  0, &art, NULL, 0) == 0) {
                                line = nt_article_to_json_line(&art);
                                free(line);
                        }
                        nt_article_free(&art);
                }
        }
        nt_feed_free(&feed);
        return 0;
}
