/* libFuzzer target: any bytes through nt_feed_parse (with and without an
 * HTTP charset and a base URL, chosen by the first byte), then the JSON of
 * the parse and every entry's article. Crashes, sanitizer reports and
 * leaks are the findings, and two checks on the streaming JSON writer:
 * the parse's JSON must read back, and every article line must be
 * jansson's dump of the same article. */
#include "common/article.h"
#include "common/feed.h"
#include "common/feed_parse.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
        char *line, *dump;
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
                /* The streaming writers' output must be JSON, and the
                 * article line jansson's dump of the same article. */
                line = nt_feed_to_json_text(&feed, mode & 16 ? 2 : 0);
                j = line ? json_loads(line, 0, NULL) : NULL;
                if (line && !j)
                        abort();
                free(line);
                json_decref(j);
                for (i = 0; i < feed.n_entries; i++) {
                        nt_article_init(&art);
                        if (nt_article_from_entry(&feed, &feed.entries[i], base,
                                                  0, &art, NULL, 0) == 0) {
                                line = nt_article_to_json_line(&art);
                                j = nt_article_to_json(&art);
                                dump =
                                    j ? json_dumps(j, JSON_COMPACT |
                                                          JSON_PRESERVE_ORDER)
                                      : NULL;
                                if (line && dump && strcmp(line, dump) != 0)
                                        abort();
                                free(dump);
                                json_decref(j);
                                free(line);
                        }
                        nt_article_free(&art);
                }
        }
        nt_feed_free(&feed);
        return 0;
}
