/* Per-feed state files: round trip, atomic replacement, corrupt files
 * moved aside, the seen-set and its bounds. */
#include "common/err.h"
#include "producer/state.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void make_dir(void)
{
        snprintf(dir, sizeof(dir), "/tmp/nt-state-XXXXXX");
        cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        char path[512];

        while (d && (e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                unlink(path);
        }
        if (d)
                closedir(d);
        rmdir(dir);
}

/* Files in the directory whose name contains `part`. */
static int count_files(const char *part)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        int n = 0;

        while (d && (e = readdir(d)) != NULL)
                n += strstr(e->d_name, part) != NULL;
        if (d)
                closedir(d);
        return n;
}

TestSuite(state, .init = make_dir, .fini = remove_dir);

Test(state, round_trip)
{
        struct nt_feed_state st, back;
        char err[512];

        cr_assert_eq(nt_state_init(&st), NT_OK);
        st.url = strdup("https://new.example/feed");
        st.etag = strdup("\"abc\"");
        st.last_modified = strdup("Mon, 05 Jan 2026 10:00:00 GMT");
        st.failures = 3;
        st.next_poll_ms = 1767607200000LL;
        st.disabled = true;
        nt_state_mark_seen(&st, "id-1", "rev-a", 1000);
        cr_assert_eq(nt_state_save(dir, "https://old.example/feed", &st, err,
                                   sizeof(err)),
                     NT_OK, "%s", err);
        cr_assert_eq(count_files(".tmp"), 0, "no temporary file is left");

        nt_state_init(&back);
        cr_assert_eq(nt_state_load(dir, "https://old.example/feed", &back, err,
                                   sizeof(err)),
                     NT_OK, "%s", err);
        cr_assert_str_eq(back.url, "https://new.example/feed");
        cr_assert_str_eq(back.etag, "\"abc\"");
        cr_assert_str_eq(back.last_modified, "Mon, 05 Jan 2026 10:00:00 GMT");
        cr_assert_eq(back.failures, 3);
        cr_assert_eq(back.next_poll_ms, 1767607200000LL);
        cr_assert(back.disabled);
        cr_assert_null(back.last_error);
        cr_assert(nt_state_seen(&back, "id-1", "rev-a"));
        cr_assert_not(nt_state_seen(&back, "id-1", "rev-b"),
                      "a new revision is not seen");
        cr_assert_not(nt_state_seen(&back, "id-2", "rev-a"));
        nt_state_free(&st);
        nt_state_free(&back);
}

Test(state, missing_file_is_a_fresh_start)
{
        struct nt_feed_state st;
        char err[512];

        nt_state_init(&st);
        cr_assert_eq(
            nt_state_load(dir, "https://never.example/", &st, err, sizeof(err)),
            NT_ERR_NOTFOUND);
        cr_assert_eq(json_object_size(st.seen), 0);
        nt_state_free(&st);
}

Test(state, corrupt_files_are_moved_aside)
{
        static const char *const bad[] = {
            "{\"schema\": \"newstap.feed-state/1\", \"key\": \"k\", \"se",
            "not json at all",
            "{\"schema\": \"other/1\", \"key\": \"k\", \"seen\": {}}",
            "{\"schema\": \"newstap.feed-state/1\", \"key\": \"other\", "
            "\"seen\": {}}",
            "{\"schema\": \"newstap.feed-state/1\", \"key\": \"k\", "
            "\"seen\": {\"id\": \"no-pair\"}}",
            /* The state topic's packed form, its seen-set cut short. */
            "{\"schema\": \"newstap.feed-state/2\", \"key\": \"k\", "
            "\"seen\": \"ABEiM0RVZneImaq7zN3u/wEjRWc=\"}",
        };
        struct nt_feed_state st;
        char path[512], err[1024];
        size_t i;
        FILE *f;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                nt_state_path(dir, "k", path, sizeof(path));
                f = fopen(path, "w");
                fputs(bad[i], f);
                fclose(f);
                nt_state_init(&st);
                cr_assert_eq(nt_state_load(dir, "k", &st, err, sizeof(err)),
                             NT_ERR_PARSE, "case %zu loaded", i);
                cr_assert_not_null(strstr(err, path),
                                   "case %zu: the error names the file: %s", i,
                                   err);
                cr_assert_not_null(strstr(err, "moved to"), "%s", err);
                cr_assert_neq(access(path, F_OK), 0,
                              "case %zu: the corrupt file is moved away", i);
                cr_assert_eq(json_object_size(st.seen), 0);
                nt_state_free(&st);
        }
        cr_assert_geq(count_files(".corrupt-"), 1);
}

Test(state, prune_by_age_then_count)
{
        struct nt_feed_state st;
        char id[32];
        int i;

        nt_state_init(&st);
        for (i = 0; i < 10; i++) {
                snprintf(id, sizeof(id), "id-%d", i);
                nt_state_mark_seen(&st, id, "r", 1000 * i);
        }
        /* At 10000 with max age 5500: ids 0..4 (seen at 0..4000) go. */
        cr_assert_eq(nt_state_prune(&st, 100, 5500, 10000), 5);
        cr_assert_not(nt_state_seen(&st, "id-4", "r"));
        cr_assert(nt_state_seen(&st, "id-5", "r"));
        /* Count bound: the oldest beyond 3 go. */
        cr_assert_eq(nt_state_prune(&st, 3, 1000000, 10000), 2);
        cr_assert_not(nt_state_seen(&st, "id-6", "r"));
        cr_assert(nt_state_seen(&st, "id-7", "r"));
        cr_assert(nt_state_seen(&st, "id-9", "r"));
        nt_state_free(&st);
}

Test(state, save_into_missing_directory_fails_with_path)
{
        struct nt_feed_state st;
        char err[512];

        nt_state_init(&st);
        cr_assert_eq(
            nt_state_save("/nonexistent/dir", "k", &st, err, sizeof(err)),
            NT_ERR_IO);
        cr_assert_not_null(strstr(err, "/nonexistent/dir"), "%s", err);
        nt_state_free(&st);
}
