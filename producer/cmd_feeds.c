/* `newstap feeds`: the producer's feeds as an operator sees them, each with
 * what its state file says (last success, next poll, failures,
 * validators), read beside a running producer without disturbing it. */
#include "common/cli.h"
#include "producer/commands.h"
#include "common/date.h"
#include "common/err.h"
#include "common/url.h"
#include "common/num.h"
#include "common/secret.h"
#include "producer/cmd_feeds_internal.h"
#include "producer/feeds.h"
#include "producer/feeds_topic.h"
#include "producer/state.h"

#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char feeds_help[] =
    "Usage: newstap feeds [list] [OPTIONS]\n"
    "       newstap feeds list --topic [-o FMT]\n"
    "       newstap feeds add URL [--name N] [--interval D] [--tag T]...\n"
    "                             [--header 'NAME: VALUE']...\n"
    "                             [--content feed|page|auto] [--dry-run]\n"
    "       newstap feeds remove URL... [--dry-run]\n"
    "       newstap feeds import FILE.opml... [--interval D] [--dry-run]\n"
    "       newstap feeds sync -c FILE [--dry-run] [--allow-empty]\n"
    "       newstap feeds migrate STATE_DIR -c FILE [--dry-run] [--force]\n"
    "\n"
    "`newstap feeds` (or `feeds list`) lists the feeds `newstap produce`\n"
    "polls with this configuration (producer.feeds and --opml files) and\n"
    "what each one's state file in producer.state_dir says: when it last\n"
    "succeeded (200 or 304), when it is polled next, consecutive failures\n"
    "and the last error, the validators kept for conditional GET, and\n"
    "whether it was disabled by 410 Gone. Reading the state beside a\n"
    "running producer is safe: the files are replaced atomically and\n"
    "nothing is written. URLs are shown without credentials.\n"
    "\n"
    "The other verbs manage the feed list kept on the compacted topic\n"
    "topics.feeds (default news.feeds; created, compacted, with\n"
    "producer.feeds_partitions partitions, when missing): key = the feed's\n"
    "canonical URL, value = its spec as JSON (the members of a\n"
    "producer.feeds element), a tombstone removes it. `newstap produce\n"
    "--group NAME` polls the feeds of this topic, adds and removes them\n"
    "as records arrive; without --group it polls producer.feeds.\n"
    "\n"
    "  list --topic       the topic's current view (read to its end)\n"
    "  add URL            sets one feed (an existing one is replaced)\n"
    "  remove URL...      writes a tombstone for each feed\n"
    "  import FILE...     adds the feeds of OPML files; feeds already on\n"
    "                     the topic are left as they are\n"
    "  sync -c FILE       makes the topic hold exactly the file's\n"
    "                     producer.feeds, printing the difference:\n"
    "                     + added, ~ changed, - removed\n"
    "  migrate STATE_DIR -c FILE\n"
    "                     moves a single-machine installation onto the\n"
    "                     topics once: sync -c FILE, then the state file\n"
    "                     in STATE_DIR of each of the file's feeds as its\n"
    "                     record on topics.feeds_state (created with the\n"
    "                     feeds topic's partitions), on the partition of\n"
    "                     the feed's record; prints the states written,\n"
    "                     the feeds without state and the state files\n"
    "                     without a feed. Refused while a producer holds\n"
    "                     STATE_DIR, and when the state topic already\n"
    "                     holds a state of one of the feeds (--force\n"
    "                     overwrites it)\n"
    "\n"
    "Secrets never go on the topic: a sensitive header (Authorization,\n"
    "Proxy-Authorization, Cookie, any name holding token, key, secret,\n"
    "password, auth or session) must hold a reference, and so must URL\n"
    "credentials: \"Bearer ${env:NAME}\", \"${file:/run/secrets/NAME}\",\n"
    "https://user:${env:PASS}@host/feed. They are resolved where the feed\n"
    "is fetched. add, import and sync refuse plain-text secrets.\n"
    "\n";

/* Split in two: C11 compilers need only take strings of 4,095 bytes. */
static const char feeds_help_options[] =
    "Options:\n"
    "  --opml FILE        list: add the feeds of an OPML file (repeatable)\n"
    "  --state-dir DIR    list: overrides producer.state_dir\n"
    "  --topic            list: the feeds topic instead of the configuration\n"
    "  -o, --output FMT   list: table (default) or jsonl (one object per\n"
    "                     feed, times as RFC 3339 or null)\n"
    "  --name N           add: the feed's name\n"
    "  --interval D       add, import: poll interval (e.g. 10m, 300)\n"
    "  --tag T            add: a tag (repeatable)\n"
    "  --header 'N: V'    add: a request header (repeatable)\n"
    "  --content C        add: where the articles' text comes from: feed,\n"
    "                     page (the linked page's main text) or auto (the\n"
    "                     page when the entry's text is short); default:\n"
    "                     producer.content\n"
    "  --dry-run          add, remove, import, sync, migrate: print, write\n"
    "                     nothing\n"
    "  --allow-empty      sync, migrate: allow a file without feeds to\n"
    "                     remove every feed of the topic\n"
    "  --force            migrate: overwrite states already on the topic\n"
    "\n"
    "Exit status: 0, also when a feed is failing (see the FAIL column);\n"
    "1 when a state file is unreadable, Kafka fails, a URL to remove is\n"
    "not on the topic, or migrate is refused; 2 on a usage or\n"
    "configuration error, a refused secret included.\n";

static int cmp_key(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* "3m ago", "in 12s", "never": an age or a wait, to the coarsest unit. */
static void relative(int64_t when_ms, int64_t now_ms, char *buf, size_t size)
{
        int64_t d = when_ms - now_ms;
        int64_t a = d < 0 ? -d : d;
        const char *unit = "s";
        int64_t n = a / 1000;

        if (when_ms <= 0) {
                snprintf(buf, size, "%s", "never");
                return;
        }
        if (n >= 86400) {
                n /= 86400;
                unit = "d";
        } else if (n >= 3600) {
                n /= 3600;
                unit = "h";
        } else if (n >= 60) {
                n /= 60;
                unit = "m";
        }
        if (d < 0)
                snprintf(buf, size, "%lld%s ago", (long long)n, unit);
        else
                snprintf(buf, size, "in %lld%s", (long long)n, unit);
}

static json_t *time_or_null(int64_t ms)
{
        char buf[32];

        if (ms <= 0)
                return json_null();
        nt_date_format(ms, buf, sizeof(buf));
        return json_string(buf);
}

/* One feed: its line of the table, or its JSON object. */
static void print_feed(const struct nt_feed_spec *spec,
                       const struct nt_feed_state *st, bool known, bool jsonl,
                       int64_t now)
{
        char *url = nt_url_without_userinfo(spec->url, NULL);
        char *moved = st->url ? nt_url_without_userinfo(st->url, NULL) : NULL;
        char last[32], next[32], validators[16];

        snprintf(validators, sizeof(validators), "%s%s%s",
                 st->etag ? "etag" : "",
                 st->etag && st->last_modified ? "," : "",
                 st->last_modified ? "lm" : "");
        if (jsonl) {
                /* "s?": null for a NULL string. */
                json_t *obj = json_pack(
                    "{s:s?, s:s?, s:s?, s:b, s:o, s:o, s:i, s:s?, s:s?, s:s?, "
                    "s:b}",
                    "url", url, "name", spec->name, "moved_to", moved, "polled",
                    known, "last_success", time_or_null(st->last_success_ms),
                    "next_poll", time_or_null(st->next_poll_ms), "failures",
                    st->failures, "last_error", st->last_error, "etag",
                    st->etag, "last_modified", st->last_modified, "disabled",
                    st->disabled);
                char *line = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

                if (line)
                        printf("%s\n", line);
                free(line);
                json_decref(obj);
        } else {
                relative(st->last_success_ms, now, last, sizeof(last));
                if (!known)
                        snprintf(next, sizeof(next), "%s", "at start");
                else if (st->disabled)
                        snprintf(next, sizeof(next), "%s", "disabled");
                else if (st->next_poll_ms <= now)
                        snprintf(next, sizeof(next), "%s", "due");
                else
                        relative(st->next_poll_ms, now, next, sizeof(next));
                /* A feed without a name of its own is named by its URL. */
                bool named = spec->name && url && strcmp(spec->name, url) != 0;

                printf("%-10s %-10s %4d  %-10s %s%s%s%s%s\n", last, next,
                       st->failures, *validators ? validators : "-",
                       named ? spec->name
                       : url ? url
                             : "?",
                       named ? " <" : "", named ? url : "", named ? ">" : "",
                       moved ? " (moved)" : "");
                if (st->last_error)
                        printf("%-10s %-10s %4s  %-10s   last error: %s\n", "",
                               "", "", "", st->last_error);
        }
        free(url);
        free(moved);
}

/* ---- The feeds topic --------------------------------------------------- */

#define TOPIC_TIMEOUT_MS NT_FEEDS_TOPIC_TIMEOUT_MS

/* The topic's current view, or an empty one when the topic does not
 * exist yet. */
static int load_view(struct nt_cli *cli, const nt_config_t *cfg,
                     const char *topic, json_t **view)
{
        char errstr[1024];
        int err = nt_feeds_topic_load(cfg, topic, TOPIC_TIMEOUT_MS, view, NULL,
                                      errstr, sizeof(errstr));

        if (err == NT_ERR_NOTFOUND) {
                *view = json_object();
                return *view ? 0 : nt_cli_fail(cli, 1, "out of memory");
        }
        if (err)
                return nt_cli_fail(cli, 1, "%s", errstr);
        return 0;
}

/* A spec as `list --topic` shows it: credentials that are not references
 * (written by some other tool) masked. Caller frees with json_decref(). */
static json_t *shown_spec(const json_t *spec)
{
        json_t *copy = json_deep_copy(spec), *headers, *hv;
        const char *url = json_string_value(json_object_get(spec, "url"));
        const char *name;

        if (!copy)
                return NULL;
        if (url && nt_secret_check_url(url, NULL, 0) != NT_OK) {
                char *masked = nt_url_without_userinfo(url, "[redacted]");

                json_object_set_new(copy, "url", json_string(masked));
                free(masked);
        }
        headers = json_object_get(copy, "headers");
        json_object_foreach(headers, name, hv)
        {
                if (nt_secret_check_header(name, json_string_value(hv), NULL,
                                           0) != NT_OK)
                        json_object_set_new(headers, name,
                                            json_string("[redacted]"));
        }
        return copy;
}

static int list_topic(struct nt_cli *cli, const nt_config_t *cfg, bool jsonl)
{
        const char *topic = nt_config_str(cfg, "topics.feeds");
        const char **keys = NULL;
        json_t *view = NULL, *spec;
        const char *key;
        size_t n = 0, i;
        int rc;

        rc = load_view(cli, cfg, topic, &view);
        if (rc)
                return rc;
        keys = calloc(json_object_size(view) + 1, sizeof(*keys));
        if (!keys) {
                json_decref(view);
                return nt_cli_fail(cli, 1, "out of memory");
        }
        json_object_foreach(view, key, spec) keys[n++] = key;
        qsort(keys, n, sizeof(*keys), cmp_key);
        if (!jsonl)
                printf("%-9s %-20s %s\n", "INTERVAL", "HEADERS", "FEED");
        for (i = 0; i < n; i++) {
                json_t *shown = shown_spec(json_object_get(view, keys[i]));
                json_t *iv = json_object_get(shown, "interval");
                const char *name =
                    json_string_value(json_object_get(shown, "name"));
                char interval[32], headers[256];
                const char *h;
                json_t *hv;
                size_t used = 0;

                if (!shown) {
                        rc = nt_cli_fail(cli, 1, "out of memory");
                        break;
                }
                if (jsonl) {
                        json_t *line = json_pack("{s:s, s:O}", "key", keys[i],
                                                 "spec", shown);
                        char *text = line ? json_dumps(line, JSON_COMPACT |
                                                                 JSON_SORT_KEYS)
                                          : NULL;

                        if (text)
                                printf("%s\n", text);
                        free(text);
                        json_decref(line);
                        json_decref(shown);
                        continue;
                }
                if (json_is_string(iv))
                        snprintf(interval, sizeof(interval), "%s",
                                 json_string_value(iv));
                else if (json_is_integer(iv))
                        snprintf(interval, sizeof(interval), "%llds",
                                 (long long)json_integer_value(iv));
                else
                        snprintf(interval, sizeof(interval), "%s", "default");
                headers[0] = '\0';
                json_object_foreach(json_object_get(shown, "headers"), h, hv)
                {
                        int w = snprintf(headers + used, sizeof(headers) - used,
                                         "%s%s", used ? "," : "", h);

                        if (w < 0 || (size_t)w >= sizeof(headers) - used)
                                break;
                        used += (size_t)w;
                }
                printf("%-9s %-20s %s%s%s%s\n", interval,
                       *headers ? headers : "-", keys[i], name ? " (" : "",
                       name ? name : "", name ? ")" : "");
                json_decref(shown);
        }
        if (rc == 0)
                fprintf(stderr, "newstap feeds: %zu feed(s) on topic %s\n", n,
                        topic);
        free(keys);
        json_decref(view);
        return rc;
}

/* Writes the records of a change after it was printed; nothing when
 * `dry_run`. */
static int write_records(struct nt_cli *cli, const nt_config_t *cfg,
                         const char *const *keys, const json_t *const *specs,
                         size_t n, bool dry_run)
{
        const char *topic = nt_config_str(cfg, "topics.feeds");
        char errstr[1024];
        rd_kafka_t *rk;
        int err;

        if (dry_run || n == 0)
                return 0;
        rk = nt_feeds_topic_producer(cfg, errstr, sizeof(errstr));
        if (!rk)
                return nt_cli_fail(cli, 1, "%s", errstr);
        err = nt_feeds_topic_ensure(rk, cfg, topic, TOPIC_TIMEOUT_MS, errstr,
                                    sizeof(errstr));
        if (!err)
                err = nt_feeds_topic_write(rk, topic, keys, specs, n,
                                           TOPIC_TIMEOUT_MS, errstr,
                                           sizeof(errstr));
        rd_kafka_destroy(rk);
        if (err)
                return nt_cli_fail(cli, err == NT_ERR_CONFIG ? 2 : 1, "%s",
                                   errstr);
        return 0;
}

/* Checks specs about to be written; prints every problem. */
static int check_specs(struct nt_cli *cli, const nt_config_t *cfg,
                       const json_t *const *specs, const char *const *whats,
                       size_t n)
{
        struct nt_config_report r;
        char errstr[8192];
        size_t i;

        nt_config_report_init(&r);
        for (i = 0; i < n; i++)
                nt_feeds_topic_check_spec(
                    specs[i], whats[i],
                    nt_config_ms(cfg, "producer.min_interval"), &r);
        if (nt_config_report_errstr(&r, "\n", errstr, sizeof(errstr))) {
                nt_config_report_free(&r);
                return nt_cli_fail(cli, 2, "%s", errstr);
        }
        nt_config_report_free(&r);
        return 0;
}

static int cmd_add(struct nt_cli *cli, const nt_config_t *cfg,
                   const struct nt_feeds_verb_opts *o, char **args, int n_args)
{
        const char *topic = nt_config_str(cfg, "topics.feeds");
        json_t *spec = NULL, *view = NULL, *old;
        /* The command names itself in front of every line already. */
        const char *what = NULL;
        char *key = NULL;
        int64_t ms;
        int rc;

        if (n_args != 1)
                return nt_cli_fail(cli, 2, "add takes one URL (see --help)");
        spec = json_pack("{s:s}", "url", args[0]);
        if (!spec)
                return nt_cli_fail(cli, 2, "the URL is not valid UTF-8");
        if (o->name)
                json_object_set_new(spec, "name", json_string(o->name));
        /* Seconds as a number, like a configuration file would say it. */
        if (o->interval &&
            nt_num_parse_i64(o->interval, 1, INT32_MAX, &ms) == NT_OK)
                json_object_set_new(spec, "interval", json_integer(ms));
        else if (o->interval)
                json_object_set_new(spec, "interval", json_string(o->interval));
        if (json_array_size(o->tags))
                json_object_set(spec, "tags", o->tags);
        if (json_object_size(o->headers))
                json_object_set(spec, "headers", o->headers);
        if (o->content)
                json_object_set_new(spec, "content", json_string(o->content));
        rc = check_specs(cli, cfg, (const json_t *const *)&spec, &what, 1);
        if (rc)
                goto out;
        key = nt_feeds_topic_key(args[0]);
        rc = key ? load_view(cli, cfg, topic, &view)
                 : nt_cli_fail(cli, 1, "out of memory");
        if (rc)
                goto out;
        old = json_object_get(view, key);
        if (old && json_equal(old, spec)) {
                printf("= %s\n", key);
                goto out;
        }
        printf("%c %s\n", old ? '~' : '+', key);
        rc = write_records(cli, cfg, (const char *const *)&key,
                           (const json_t *const *)&spec, 1, o->dry_run);
out:
        free(key);
        json_decref(view);
        json_decref(spec);
        return rc;
}

static int cmd_remove(struct nt_cli *cli, const nt_config_t *cfg,
                      const struct nt_feeds_verb_opts *o, char **args,
                      int n_args)
{
        const char *topic = nt_config_str(cfg, "topics.feeds");
        char **keys = calloc((size_t)n_args + 1, sizeof(*keys));
        const json_t **none = calloc((size_t)n_args + 1, sizeof(*none));
        json_t *view = NULL;
        size_t n = 0;
        int i, rc = 0, missing = 0;

        if (!keys || !none) {
                rc = nt_cli_fail(cli, 1, "out of memory");
                goto out;
        }
        if (n_args < 1) {
                rc = nt_cli_fail(cli, 2, "remove takes URLs (see --help)");
                goto out;
        }
        rc = load_view(cli, cfg, topic, &view);
        for (i = 0; i < n_args && rc == 0; i++) {
                char *key = nt_feeds_topic_key(args[i]);
                const char *found;

                if (!key) {
                        rc = nt_cli_fail(cli, 2,
                                         "\"%s\" is not an http or https URL",
                                         args[i]);
                } else if (!(found = nt_feeds_topic_find(view, key))) {
                        nt_cli_fail(cli, 1, "%s is not on topic %s", key,
                                    topic);
                        missing++;
                        free(key);
                } else {
                        /* The record's own key, which an older version
                         * may have written in another canonical form. */
                        free(key);
                        key = strdup(found);
                        if (!key) {
                                rc = nt_cli_fail(cli, 1, "out of memory");
                                break;
                        }
                        printf("- %s\n", key);
                        keys[n++] = key;
                }
        }
        if (rc == 0)
                rc = write_records(cli, cfg, (const char *const *)keys, none, n,
                                   o->dry_run);
        if (rc == 0 && missing)
                rc = 1;
out:
        for (i = 0; keys && i < n_args; i++)
                free(keys[i]);
        free(keys);
        free(none);
        json_decref(view);
        return rc;
}

/* A feed of an OPML file as a spec: its URL, its name when it has one of
 * its own, its folders as tags. */
static json_t *opml_spec(const struct nt_feed_spec *f, const char *interval)
{
        char *plain = nt_url_without_userinfo(f->url, NULL);
        json_t *spec = json_pack("{s:s}", "url", f->url), *tags = json_array();
        char **t;

        if (spec && f->name && plain && strcmp(f->name, plain) != 0)
                json_object_set_new(spec, "name", json_string(f->name));
        for (t = f->tags; tags && t && *t; t++)
                json_array_append_new(tags, json_string(*t));
        if (spec && json_array_size(tags))
                json_object_set(spec, "tags", tags);
        if (spec && interval)
                json_object_set_new(spec, "interval", json_string(interval));
        json_decref(tags);
        free(plain);
        return spec;
}

/* The wanted specs of import or sync, checked, against the topic's view:
 * prints the difference and writes it. `want` is key -> spec, `whats`
 * key -> where the spec came from (for error lines). With `prune`, keys
 * of the view missing from `want` are removed (sync); without, existing
 * keys are left as they are (import). */
static int apply(struct nt_cli *cli, const nt_config_t *cfg, json_t *want,
                 json_t *whats, bool prune, const struct nt_feeds_verb_opts *o)
{
        const char *topic = nt_config_str(cfg, "topics.feeds");
        json_t *view = NULL, *added = NULL, *changed = NULL, *removed = NULL;
        const json_t **specs = NULL, **check = NULL;
        const char **keys = NULL, **where = NULL;
        size_t n = 0, n_check = 0, i, cap;
        const char *key;
        json_t *spec;
        int rc;

        cap = json_object_size(want) + 1;
        check = calloc(cap, sizeof(*check));
        where = calloc(cap, sizeof(*where));
        if (!check || !where) {
                rc = nt_cli_fail(cli, 1, "out of memory");
                goto out;
        }
        json_object_foreach(want, key, spec)
        {
                check[n_check] = spec;
                where[n_check++] =
                    json_string_value(json_object_get(whats, key));
        }
        rc = check_specs(cli, cfg, check, where, n_check);
        if (!rc)
                rc = load_view(cli, cfg, topic, &view);
        if (rc)
                goto out;
        if (prune && json_object_size(want) == 0 && json_object_size(view) &&
            !o->allow_empty) {
                rc = nt_cli_fail(cli, 2,
                                 "the file lists no feeds: that would remove "
                                 "all %zu feeds of topic %s (give "
                                 "--allow-empty to mean it)",
                                 json_object_size(view), topic);
                goto out;
        }
        if (nt_feeds_topic_diff(view, want, &added, &changed, &removed)) {
                rc = nt_cli_fail(cli, 1, "out of memory");
                goto out;
        }
        cap = json_array_size(added) + json_array_size(changed) +
              json_array_size(removed) + 1;
        keys = calloc(cap, sizeof(*keys));
        specs = calloc(cap, sizeof(*specs));
        if (!keys || !specs) {
                rc = nt_cli_fail(cli, 1, "out of memory");
                goto out;
        }
        for (i = 0; i < json_array_size(added); i++) {
                keys[n] = json_string_value(json_array_get(added, i));
                specs[n] = json_object_get(want, keys[n]);
                printf("+ %s\n", keys[n++]);
        }
        for (i = 0; prune && i < json_array_size(changed); i++) {
                keys[n] = json_string_value(json_array_get(changed, i));
                specs[n] = json_object_get(want, keys[n]);
                printf("~ %s\n", keys[n++]);
        }
        for (i = 0; prune && i < json_array_size(removed); i++) {
                keys[n] = json_string_value(json_array_get(removed, i));
                specs[n] = NULL;
                printf("- %s\n", keys[n++]);
        }
        rc = write_records(cli, cfg, keys, specs, n, o->dry_run);
        if (rc == 0 && prune)
                fprintf(stderr,
                        "newstap feeds: sync: %zu added, %zu changed, %zu "
                        "removed, %zu unchanged%s\n",
                        json_array_size(added), json_array_size(changed),
                        json_array_size(removed),
                        json_object_size(want) - json_array_size(added) -
                            json_array_size(changed),
                        o->dry_run ? " (dry run: nothing written)" : "");
        else if (rc == 0)
                fprintf(stderr,
                        "newstap feeds: import: %zu added, %zu already on "
                        "the topic%s\n",
                        json_array_size(added),
                        json_object_size(want) - json_array_size(added),
                        o->dry_run ? " (dry run: nothing written)" : "");
out:
        free(keys);
        free(specs);
        free(check);
        free(where);
        json_decref(added);
        json_decref(changed);
        json_decref(removed);
        json_decref(view);
        return rc;
}

static int cmd_import(struct nt_cli *cli, const nt_config_t *cfg,
                      const struct nt_feeds_verb_opts *o, char **args,
                      int n_args)
{
        struct nt_feed_list l;
        json_t *want = json_object(), *whats = json_object();
        char errstr[1024];
        size_t i;
        int a, rc = 0;

        nt_feed_list_init(&l);
        if (!want || !whats) {
                rc = nt_cli_fail(cli, 1, "out of memory");
                goto out;
        }
        if (n_args < 1) {
                rc =
                    nt_cli_fail(cli, 2, "import takes OPML files (see --help)");
                goto out;
        }
        for (a = 0; a < n_args; a++) {
                size_t first = l.n;

                if (nt_feed_list_from_opml(&l, args[a], 0, errstr,
                                           sizeof(errstr)) != NT_OK) {
                        rc = nt_cli_fail(cli, 2, "%s", errstr);
                        goto out;
                }
                for (i = first; i < l.n; i++) {
                        char *key = nt_feeds_topic_key(l.feeds[i].url);
                        json_t *spec = opml_spec(&l.feeds[i], o->interval);
                        char where[1024];

                        snprintf(where, sizeof(where), "%s", args[a]);
                        /* The first file to list a feed names it. */
                        if (key && spec && !json_object_get(want, key)) {
                                json_object_set(want, key, spec);
                                json_object_set_new(whats, key,
                                                    json_string(where));
                        }
                        free(key);
                        json_decref(spec);
                }
        }
        rc = apply(cli, cfg, want, whats, false, o);
out:
        nt_feed_list_free(&l);
        json_decref(want);
        json_decref(whats);
        return rc;
}

int nt_feeds_cmd_sync(struct nt_cli *cli, const nt_config_t *cfg,
                      const struct nt_feeds_verb_opts *o, char **args,
                      int n_args)
{
        json_t *feeds = nt_config_array(cfg, "producer.feeds"), *item;
        json_t *want = json_object(), *whats = json_object();
        const char *origin = nt_config_origin(cfg, "producer.feeds");
        size_t i;
        int rc = 0;

        (void)args;
        if (!want || !whats) {
                rc = nt_cli_fail(cli, 1, "out of memory");
                goto out;
        }
        if (n_args > 0) {
                rc =
                    nt_cli_fail(cli, 2, "sync takes no arguments (see --help)");
                goto out;
        }
        /* The topic is made to match a file: never the one found by
         * default, which could be another installation's. */
        if (!cli->config_path) {
                rc = nt_cli_fail(cli, 2,
                                 "sync needs -c FILE: the configuration "
                                 "whose producer.feeds the topic is to "
                                 "match");
                goto out;
        }
        json_array_foreach(feeds, i, item)
        {
                const char *url =
                    json_string_value(json_object_get(item, "url"));
                char *key = nt_feeds_topic_key(url);
                char where[1024];

                if (!key) {
                        rc = nt_cli_fail(cli, 1, "out of memory");
                        goto out;
                }
                snprintf(where, sizeof(where), "%s: producer.feeds[%zu]",
                         origin, i);
                json_object_set(want, key, item);
                json_object_set_new(whats, key, json_string(where));
                free(key);
        }
        rc = apply(cli, cfg, want, whats, true, o);
out:
        json_decref(want);
        json_decref(whats);
        return rc;
}

/* What the options of `feeds` set: those of the verbs, and list's. */
struct feeds_cli {
        const char *verb; /* add, remove, import, sync, migrate, or NULL */
        struct nt_feeds_verb_opts verb_opts;
        const char *state_dir; /* list --state-dir */
        bool jsonl;            /* list -o jsonl */
        bool topic;            /* list --topic */
};

/* "NAME: VALUE" into headers, the blanks after the colon skipped. */
static int add_header(struct nt_cli *cli, json_t *headers, const char *arg)
{
        const char *colon = strchr(arg, ':'), *value;
        char *hname;

        if (!colon || colon == arg)
                return nt_cli_fail(cli, 2, "--header: expected 'NAME: VALUE'");
        hname = strndup(arg, (size_t)(colon - arg));
        value = colon + 1;
        while (*value == ' ' || *value == '\t')
                value++;
        if (hname)
                json_object_set_new(headers, hname, json_string(value));
        free(hname);
        return 0;
}

/* list's -o, the verbs' --tag and --header. */
static int feeds_option(struct nt_cli *cli, void *ctx, int id, const char *arg)
{
        struct feeds_cli *fc = ctx;

        switch (id) {
        case 'o':
                if (strcmp(arg, "jsonl") == 0)
                        fc->jsonl = true;
                else if (strcmp(arg, "table") != 0)
                        return nt_cli_fail(cli, 2,
                                           "-o: \"%s\" is neither table nor "
                                           "jsonl",
                                           arg);
                return 0;
        case 't':
                json_array_append_new(fc->verb_opts.tags, json_string(arg));
                return 0;
        case 'H':
                return add_header(cli, fc->verb_opts.headers, arg);
        }
        return 2;
}

/* The index of the verb add, remove, import, sync or migrate in argv (the
 * first argument that is neither an option nor an option's value, the
 * options being those of list and of the verbs), or 0. */
static int find_verb(int argc, char **argv, const struct nt_cli_spec *list,
                     const struct nt_cli_spec *verbs)
{
        static const char *const names[] = {"add", "remove", "import", "sync",
                                            "migrate"};
        int i;
        size_t k;

        for (i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0)
                        return 0;
                if (argv[i][0] != '-')
                        break;
                if (nt_cli_takes_next(list, argv[i]) ||
                    nt_cli_takes_next(verbs, argv[i]))
                        i++;
        }
        if (i >= argc)
                return 0;
        for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
                if (strcmp(argv[i], names[k]) == 0)
                        return i;
        return 0;
}

/* Refuses an option that does not apply to the verb: it would be ignored
 * silently. */
static int verb_check(struct nt_cli *cli, void *ctx, int argc, char **argv)
{
        const struct feeds_cli *fc = ctx;
        const struct nt_feeds_verb_opts *o = &fc->verb_opts;
        const char *verb = fc->verb;

        (void)argc;
        (void)argv;
        if (strcmp(verb, "add") != 0 &&
            (o->name || o->content || json_array_size(o->tags) ||
             json_object_size(o->headers)))
                return nt_cli_fail(cli, 2,
                                   "--name, --tag, --header and --content "
                                   "are for add");
        if (o->interval && strcmp(verb, "add") != 0 &&
            strcmp(verb, "import") != 0)
                return nt_cli_fail(cli, 2, "--interval is for add and import");
        if (o->allow_empty && strcmp(verb, "sync") != 0 &&
            strcmp(verb, "migrate") != 0)
                return nt_cli_fail(cli, 2,
                                   "--allow-empty is for sync and migrate");
        if (o->force && strcmp(verb, "migrate") != 0)
                return nt_cli_fail(cli, 2, "--force is for migrate");
        return 0;
}

/* `feeds [list]`: "list" and nothing else among the arguments. */
static int list_check(struct nt_cli *cli, void *ctx, int argc, char **argv)
{
        (void)ctx;
        if (optind < argc && strcmp(argv[optind], "list") == 0)
                optind++;
        if (optind < argc)
                return nt_cli_fail(cli, 2,
                                   "unknown argument \"%s\" (see --help)",
                                   argv[optind]);
        return 0;
}

/* `feeds ... VERB ...`, VERB at argv[at]: the verb is taken out of argv
 * and put first, and the rest parsed with the verbs' options. */
static int run_verb(int argc, char **argv, int at,
                    const struct nt_cli_spec *spec, struct feeds_cli *fc)
{
        struct nt_feeds_verb_opts *o = &fc->verb_opts;
        char **args = calloc((size_t)argc + 1, sizeof(*args));
        const char *verb = argv[at];
        struct nt_cli cli;
        nt_config_t *cfg = NULL;
        char label[32];
        int i, n = 0, rc;

        o->tags = json_array();
        o->headers = json_object();
        if (!args || !o->tags || !o->headers) {
                free(args);
                json_decref(o->tags);
                json_decref(o->headers);
                return 1;
        }
        args[n++] = argv[at];
        for (i = 1; i < argc; i++)
                if (i != at)
                        args[n++] = argv[i];
        snprintf(label, sizeof(label), "feeds %s", verb);
        fc->verb = verb;
        rc = nt_cli_start(&cli, label, spec, n, args, &cfg);
        if (rc != NT_CLI_GO)
                goto out;
        rc = 0;
        if (strcmp(verb, "add") == 0)
                rc = cmd_add(&cli, cfg, o, args + optind, n - optind);
        else if (strcmp(verb, "remove") == 0)
                rc = cmd_remove(&cli, cfg, o, args + optind, n - optind);
        else if (strcmp(verb, "import") == 0)
                rc = cmd_import(&cli, cfg, o, args + optind, n - optind);
        else if (strcmp(verb, "migrate") == 0)
                rc = nt_feeds_cmd_migrate(&cli, cfg, o, args + optind,
                                          n - optind);
        else
                rc = nt_feeds_cmd_sync(&cli, cfg, o, args + optind, n - optind);
out:
        nt_config_destroy(cfg);
        nt_cli_free(&cli);
        json_decref(o->tags);
        json_decref(o->headers);
        free(args);
        return rc;
}

/* `feeds [list]`: the feeds of the configuration with their state, or
 * with --topic those of the feeds topic. */
static int run_list(int argc, char **argv, const struct nt_cli_spec *spec,
                    struct feeds_cli *fc)
{
        struct nt_feed_list feeds;
        struct nt_cli cli;
        nt_config_t *cfg = NULL;
        const char *state_dir;
        char errstr[1024];
        int64_t now;
        size_t i;
        int rc, err = NT_OK;

        nt_feed_list_init(&feeds);
        rc = nt_cli_start(&cli, "feeds", spec, argc, argv, &cfg);
        if (rc != NT_CLI_GO)
                goto out;
        rc = 0;
        state_dir = fc->state_dir;
        if (fc->topic) {
                if (state_dir || cli.n_values)
                        rc = nt_cli_fail(&cli, 2,
                                         "--topic lists the topic: "
                                         "--state-dir and --opml do not "
                                         "apply");
                else
                        rc = list_topic(&cli, cfg, fc->jsonl);
                goto out;
        }
        rc = nt_cli_set_key(&cli, cfg, "producer.state_dir", state_dir,
                            "--state-dir");
        if (rc)
                goto out;
        err = nt_feed_list_from_config(&feeds, cfg, cli.values, cli.n_values,
                                       errstr, sizeof(errstr));
        if (err) {
                rc = nt_cli_fail(&cli, 2, "%s", errstr);
                goto out;
        }
        state_dir = nt_config_str(cfg, "producer.state_dir");
        now = nt_date_now_ms();
        if (!fc->jsonl)
                printf("%-10s %-10s %4s  %-10s %s\n", "SUCCEEDED", "NEXT",
                       "FAIL", "VALIDATORS", "FEED");
        for (i = 0; i < feeds.n; i++) {
                struct nt_feed_state st;
                int lerr;

                if (nt_state_init(&st) != NT_OK) {
                        rc = nt_cli_fail(&cli, 1, "out of memory");
                        goto out;
                }
                lerr = nt_state_peek(state_dir, feeds.feeds[i].url, &st, errstr,
                                     sizeof(errstr));
                /* A state file written before credentials were scrubbed
                 * may still hold them in its last error. */
                if (st.last_error)
                        nt_url_scrub_userinfo(st.last_error);
                if (lerr == NT_OK || lerr == NT_ERR_NOTFOUND) {
                        print_feed(&feeds.feeds[i], &st, lerr == NT_OK,
                                   fc->jsonl, now);
                } else {
                        nt_url_scrub_userinfo(errstr);
                        nt_cli_fail(&cli, 1, "%s", errstr);
                        rc = 1;
                }
                nt_state_free(&st);
        }
out:
        nt_feed_list_free(&feeds);
        nt_config_destroy(cfg);
        nt_cli_free(&cli);
        return rc;
}

int nt_cmd_feeds(int argc, char **argv)
{
        struct feeds_cli fc;
        const struct nt_cli_option list_options[] = {
            {.name = "opml", .kind = NT_CLI_REPEAT},
            {.name = "state-dir", .kind = NT_CLI_VALUE, .value = &fc.state_dir},
            {.name = "output", .letter = 'o', .kind = NT_CLI_CALL},
            {.name = "topic", .kind = NT_CLI_FLAG, .flag = &fc.topic},
            {0},
        };
        const struct nt_cli_option verb_options[] = {
            {.name = "name", .kind = NT_CLI_VALUE, .value = &fc.verb_opts.name},
            {.name = "interval",
             .kind = NT_CLI_VALUE,
             .value = &fc.verb_opts.interval},
            {.name = "tag", .kind = NT_CLI_CALL, .id = 't'},
            {.name = "header", .kind = NT_CLI_CALL, .id = 'H'},
            {.name = "content",
             .kind = NT_CLI_VALUE,
             .value = &fc.verb_opts.content},
            {.name = "dry-run",
             .kind = NT_CLI_FLAG,
             .flag = &fc.verb_opts.dry_run},
            {.name = "allow-empty",
             .kind = NT_CLI_FLAG,
             .flag = &fc.verb_opts.allow_empty},
            {.name = "force", .kind = NT_CLI_FLAG, .flag = &fc.verb_opts.force},
            {0},
        };
        const struct nt_cli_spec list = {
            .options = list_options,
            .help = feeds_help,
            .help_more = feeds_help_options,
            .common = true,
            .common_first = true,
            .on_option = feeds_option,
            .ctx = &fc,
            .check = list_check,
            .max_args = INT_MAX, /* "list" and nothing else: list_check() */
        };
        struct nt_cli_spec verbs = list;
        int at;

        verbs.options = verb_options;
        verbs.check = verb_check;
        memset(&fc, 0, sizeof(fc));
        at = find_verb(argc, argv, &list, &verbs);
        if (at > 0)
                return run_verb(argc, argv, at, &verbs, &fc);
        return run_list(argc, argv, &list, &fc);
}
