/* `newstap feeds migrate STATE_DIR -c FILE`: moves a single-machine
 * installation onto the topics once. The feed list goes onto the feeds
 * topic by `feeds sync` itself (secrets stay references; a plain one is
 * refused before anything is written); then each feed's state file, read
 * as `newstap produce` reads it (keyed by the feed's URL with its
 * references resolved), becomes the feed's record on the state topic, on
 * the partition that holds the feed's record on the feeds topic (read
 * back after the sync). States are written with an idempotent producer,
 * acks=all, each delivery checked.
 *
 * What is refused, and why: a STATE_DIR that a producer holds (its files
 * change under us and it would go on publishing from them); a state topic
 * that already holds a state of one of the feeds, unless --force (a
 * second migrate would set instances that already run on the topics back
 * to an older state, and they would publish again what they published
 * since). */
#include "common/err.h"
#include "common/kafka.h"
#include "common/secret.h"
#include "common/url.h"
#include "producer/cmd_feeds_internal.h"
#include "producer/feeds_topic.h"
#include "producer/state.h"
#include "producer/state_topic.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Feeds named in a refusal before "and N more". */
#define SHOWN_CONFLICTS 5

/* One feed of the configuration file. */
struct mfeed {
        char *key;  /* on the topics */
        char *file; /* the state file's key: the URL produce fetches */
        bool has_state;
        struct nt_feed_state st;
};

struct migration {
        struct mfeed *feeds;
        size_t n;
};

static void migration_free(struct migration *m)
{
        size_t i;

        for (i = 0; i < m->n; i++) {
                free(m->feeds[i].key);
                free(m->feeds[i].file);
                nt_state_free(&m->feeds[i].st);
        }
        free(m->feeds);
}

/* The feeds of producer.feeds with their state files read from `dir`. */
static int read_feeds(struct nt_cli *cli, const nt_config_t *cfg,
                      const char *dir, struct migration *m)
{
        json_t *arr = nt_config_array(cfg, "producer.feeds"), *item;
        char errstr[1024];
        size_t i;

        m->feeds = calloc(json_array_size(arr) + 1, sizeof(*m->feeds));
        if (!m->feeds)
                return nt_cli_fail(cli, 1, "out of memory");
        json_array_foreach(arr, i, item)
        {
                const char *url =
                    json_string_value(json_object_get(item, "url"));
                struct mfeed *f = &m->feeds[m->n++];
                int err;

                if (nt_state_init(&f->st) != NT_OK)
                        return nt_cli_fail(cli, 1, "out of memory");
                f->key = nt_feeds_topic_key(url);
                if (!f->key)
                        return nt_cli_fail(cli, 2, "%s: not an http(s) URL",
                                           url);
                /* produce keys its state files by the URL it fetches,
                 * references resolved (producer/feeds.h). */
                if (nt_secret_has_ref(url)) {
                        err = nt_secret_resolve(url, NULL, &f->file, errstr,
                                                sizeof(errstr));
                        if (err)
                                return nt_cli_fail(
                                    cli, 2,
                                    "%s: %s (the state file is named after "
                                    "the resolved URL: resolve it as "
                                    "produce would)",
                                    f->key, errstr);
                } else {
                        f->file = strdup(url);
                }
                if (!f->file)
                        return nt_cli_fail(cli, 1, "out of memory");
                err =
                    nt_state_peek(dir, f->file, &f->st, errstr, sizeof(errstr));
                if (err == NT_OK)
                        f->has_state = true;
                else if (err != NT_ERR_NOTFOUND) {
                        nt_url_scrub_userinfo(errstr);
                        return nt_cli_fail(cli, 1,
                                           "%s; nothing written (move the "
                                           "file away to migrate the feed "
                                           "without its state)",
                                           errstr);
                }
        }
        return 0;
}

static int collect_key(const char *key, int32_t partition,
                       struct nt_feed_state *st, void *opaque)
{
        (void)partition;
        (void)st;
        return json_object_set_new(opaque, key, json_true()) ? NT_ERR_NOMEM
                                                             : NT_OK;
}

/* Refuses when the state topic holds a state of one of the feeds,
 * unless --force. */
static int check_conflicts(struct nt_cli *cli, const nt_config_t *cfg,
                           const struct migration *m, bool force)
{
        const char *topic = nt_config_str(cfg, "topics.feeds_state");
        json_t *on_topic = json_object();
        char errstr[1024], names[2048] = "";
        size_t i, n = 0, used = 0;
        int err, rc = 0;

        if (!on_topic)
                return nt_cli_fail(cli, 1, "out of memory");
        err = nt_state_topic_load(cfg, NULL, NULL, 0, collect_key, on_topic,
                                  NT_FEEDS_TOPIC_TIMEOUT_MS, errstr,
                                  sizeof(errstr));
        if (err && err != NT_ERR_NOTFOUND) {
                json_decref(on_topic);
                return nt_cli_fail(cli, 1, "%s", errstr);
        }
        for (i = 0; i < m->n; i++) {
                int w;

                if (!json_object_get(on_topic, m->feeds[i].key))
                        continue;
                if (++n > SHOWN_CONFLICTS)
                        continue;
                w = snprintf(names + used, sizeof(names) - used, "%s%s",
                             used ? ", " : "", m->feeds[i].key);
                if (w > 0 && (size_t)w < sizeof(names) - used)
                        used += (size_t)w;
        }
        json_decref(on_topic);
        if (n > 0 && !force)
                rc = nt_cli_fail(cli, 1,
                                 "the state topic %s already holds the state "
                                 "of %zu of these feeds (%s%s): migrate ran "
                                 "before, or producers on the topics wrote "
                                 "them; nothing written. --force overwrites "
                                 "them with the files' states",
                                 topic, n, names,
                                 n > SHOWN_CONFLICTS ? ", ..." : "");
        else if (n > 0)
                fprintf(stderr,
                        "newstap feeds migrate: --force: overwriting the "
                        "states of %zu feed(s) on %s\n",
                        n, topic);
        return rc;
}

/* State files of `dir` that no feed of the file owns: listed, never
 * written (their feed is gone from the configuration). Returns how many
 * there are. */
static size_t orphans(const char *dir, const struct migration *m)
{
        DIR *d = opendir(dir);
        struct dirent *e;
        size_t n = 0, i;

        while (d && (e = readdir(d)) != NULL) {
                size_t len = strlen(e->d_name);
                char path[4096], owned[4096];
                const char *key;
                char *shown;
                json_t *root;
                bool mine = false;

                if (strncmp(e->d_name, "feed-", 5) != 0 || len < 10 ||
                    strcmp(e->d_name + len - 5, ".json") != 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                for (i = 0; i < m->n && !mine; i++) {
                        nt_state_path(dir, m->feeds[i].file, owned,
                                      sizeof(owned));
                        mine = strcmp(owned, path) == 0;
                }
                if (mine)
                        continue;
                root = json_load_file(path, 0, NULL);
                key = json_string_value(json_object_get(root, "key"));
                shown = key ? nt_url_without_userinfo(key, NULL) : NULL;
                printf("? %s: state file %s without a feed in the file\n",
                       shown ? shown : "(unreadable)", path);
                free(shown);
                json_decref(root);
                n++;
        }
        if (d)
                closedir(d);
        return n;
}

int nt_feeds_cmd_migrate(struct nt_cli *cli, const nt_config_t *cfg,
                         const struct nt_feeds_verb_opts *o, char **args,
                         int n_args)
{
        const char *feeds_topic = nt_config_str(cfg, "topics.feeds");
        const char *state_topic = nt_config_str(cfg, "topics.feeds_state");
        struct migration m = {NULL, 0};
        const struct nt_feed_state **states = NULL;
        const char **keys = NULL;
        int32_t *parts = NULL;
        json_t *view = NULL, *where = NULL;
        rd_kafka_t *rk = NULL;
        size_t i, n_states = 0, n_without = 0, n_orphans;
        char errstr[1024];
        struct stat sb;
        int lock = -1, err, rc;

        if (n_args != 1)
                return nt_cli_fail(cli, 2,
                                   "migrate takes one STATE_DIR (see --help)");
        if (!cli->config_path)
                return nt_cli_fail(cli, 2,
                                   "migrate needs -c FILE: the configuration "
                                   "whose feeds and states move");
        if (stat(args[0], &sb) != 0 || !S_ISDIR(sb.st_mode))
                return nt_cli_fail(cli, 2, "%s is not a state directory",
                                   args[0]);
        /* Held to the end, so that no producer starts on the directory
         * while its states are being copied. */
        lock = nt_state_lock(args[0], errstr, sizeof(errstr));
        if (lock < 0)
                return nt_cli_fail(cli, 1,
                                   "%s; stop it before migrating (nothing "
                                   "written)",
                                   errstr);
        rc = read_feeds(cli, cfg, args[0], &m);
        if (!rc)
                rc = check_conflicts(cli, cfg, &m, o->force);
        if (!rc)
                rc = nt_feeds_cmd_sync(cli, cfg, o, NULL, 0);
        if (rc)
                goto out;
        /* Where each feed's record sits, read back after the sync (in a
         * dry run, a feed not written yet has no partition). */
        err = nt_feeds_topic_load_partitions(cfg, feeds_topic,
                                             NT_FEEDS_TOPIC_TIMEOUT_MS, &view,
                                             &where, errstr, sizeof(errstr));
        if (err == NT_ERR_NOTFOUND && o->dry_run)
                where = json_object();
        else if (err) {
                rc = nt_cli_fail(cli, 1, "%s", errstr);
                goto out;
        }
        keys = calloc(m.n + 1, sizeof(*keys));
        parts = calloc(m.n + 1, sizeof(*parts));
        states = calloc(m.n + 1, sizeof(*states));
        if (!where || !keys || !parts || !states) {
                rc = nt_cli_fail(cli, 1, "out of memory");
                goto out;
        }
        for (i = 0; i < m.n; i++) {
                json_t *p = json_object_get(where, m.feeds[i].key);

                if (!m.feeds[i].has_state) {
                        printf("  %s: no state file\n", m.feeds[i].key);
                        n_without++;
                        continue;
                }
                if (!p && !o->dry_run) {
                        rc = nt_cli_fail(cli, 1,
                                         "%s is not on the feeds topic %s "
                                         "after the sync; no state written",
                                         m.feeds[i].key, feeds_topic);
                        goto out;
                }
                if (p)
                        printf("> %s: state -> %s [%d], %zu seen\n",
                               m.feeds[i].key, state_topic,
                               (int)json_integer_value(p),
                               json_object_size(m.feeds[i].st.seen));
                else
                        printf("> %s: state -> %s [the feed's partition], "
                               "%zu seen\n",
                               m.feeds[i].key, state_topic,
                               json_object_size(m.feeds[i].st.seen));
                keys[n_states] = m.feeds[i].key;
                parts[n_states] = (int32_t)json_integer_value(p);
                states[n_states++] = &m.feeds[i].st;
        }
        n_orphans = orphans(args[0], &m);
        if (!o->dry_run && n_states > 0) {
                rk = nt_kafka_confirmed_producer_new(cfg, errstr,
                                                     sizeof(errstr));
                err = rk ? nt_state_topic_ensure(rk, cfg,
                                                 NT_FEEDS_TOPIC_TIMEOUT_MS,
                                                 errstr, sizeof(errstr))
                         : NT_ERR_KAFKA;
                if (!err)
                        err = nt_state_topic_write(
                            rk, cfg, keys, parts, states, n_states,
                            NT_FEEDS_TOPIC_TIMEOUT_MS, errstr, sizeof(errstr));
                if (err) {
                        rc = nt_cli_fail(cli, err == NT_ERR_CONFIG ? 2 : 1,
                                         "%s", errstr);
                        goto out;
                }
        }
        fprintf(stderr,
                "newstap feeds migrate: %zu feed(s) on %s, %zu state(s) "
                "%s %s, %zu feed(s) without a state file, %zu state "
                "file(s) without a feed%s\n",
                m.n, feeds_topic, n_states,
                o->dry_run ? "to write to" : "written to", state_topic,
                n_without, n_orphans,
                o->dry_run ? " (dry run: nothing written)" : "");
out:
        if (rk)
                rd_kafka_destroy(rk);
        free(keys);
        free(parts);
        free(states);
        json_decref(view);
        json_decref(where);
        migration_free(&m);
        nt_state_unlock(lock);
        return rc;
}
