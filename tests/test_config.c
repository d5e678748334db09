/* Configuration layering (defaults < file < environment < -X) and the
 * errors that name the file and the key. */
#include "common/config.h"
#include "common/err.h"
#include "support/nt_test.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Writes text to a fresh temporary file; the path goes into buf. */
static const char *write_tmp(const char *text, char *buf, size_t size)
{
        int fd;
        FILE *f;

        snprintf(buf, size, "/tmp/nt-config-XXXXXX");
        fd = mkstemp(buf);
        cr_assert_geq(fd, 0, "mkstemp");
        f = fdopen(fd, "w");
        fputs(text, f);
        fclose(f);
        return buf;
}

/* The call failed with `want` and its message names `needle`. */
static void assert_error(int got, int want, const char *err, const char *needle,
                         const char *what)
{
        cr_assert_eq(got, want, "%s: returned %d, want %d", what, got, want);
        cr_assert_not_null(strstr(err, needle), "%s: \"%s\" lacks \"%s\"", what,
                           err, needle);
}

/* A fresh configuration loaded from `json` (written to a temporary file
 * at `path`) with every error of the file in `r`. */
struct loaded {
        nt_config_t *cfg;
        struct nt_config_report r;
        char path[64];
        int rc; /* what nt_config_load_file_all() returned */
};

static void load_all(struct loaded *l, const char *json)
{
        l->cfg = nt_config_new();
        write_tmp(json, l->path, sizeof(l->path));
        nt_config_report_init(&l->r);
        l->rc = nt_config_load_file_all(l->cfg, l->path, &l->r);
}

static void loaded_free(struct loaded *l)
{
        nt_config_report_free(&l->r);
        unlink(l->path);
        nt_config_destroy(l->cfg);
}

Test(config, defaults)
{
        nt_config_t *cfg = nt_config_new();

        cr_assert_str_eq(nt_config_str(cfg, "topics.raw"), "news.raw");
        cr_assert_str_eq(nt_config_str(cfg, "topics.enriched"),
                         "news.enriched");
        cr_assert_str_eq(nt_config_str(cfg, "log.level"), "info");
        cr_assert_eq(json_object_size(nt_config_kafka(cfg)), 0);
        nt_config_destroy(cfg);
        nt_config_destroy(NULL);
}

Test(config, layering_file_env_cli)
{
        char path[64], err[512];
        nt_config_t *cfg = nt_config_new();
        char *env[] = {"HOME=/root", "NEWSTAP_TOPICS_RAW=env.raw",
                       "NEWSTAP_KAFKA_BOOTSTRAP_SERVERS=env:9092",
                       "NEWSTAP_CONFIG=/ignored/here", NULL};

        write_tmp("{\"topics\": {\"raw\": \"file.raw\", \"dlq\": \"file.dlq\"},"
                  " \"kafka\": {\"bootstrap.servers\": \"file:9092\","
                  " \"linger.ms\": 5, \"enable.idempotence\": true},"
                  " \"log\": {\"level\": \"debug\"}}",
                  path, sizeof(path));
        cr_assert_eq(nt_config_load_file(cfg, path, err, sizeof(err)), NT_OK,
                     "%s", err);
        cr_assert_str_eq(nt_config_str(cfg, "topics.raw"), "file.raw");
        cr_assert_str_eq(nt_config_str(cfg, "log.level"), "debug");
        cr_assert_str_eq(json_string_value(json_object_get(nt_config_kafka(cfg),
                                                           "linger.ms")),
                         "5", "numbers are handed to librdkafka as text");
        cr_assert_str_eq(json_string_value(json_object_get(
                             nt_config_kafka(cfg), "enable.idempotence")),
                         "true");

        cr_assert_eq(nt_config_load_env(cfg, env, err, sizeof(err)), NT_OK,
                     "%s", err);
        cr_assert_str_eq(nt_config_str(cfg, "topics.raw"), "env.raw",
                         "the environment overrides the file");
        cr_assert_str_eq(nt_config_str(cfg, "topics.dlq"), "file.dlq",
                         "keys the environment does not name stay");
        cr_assert_str_eq(json_string_value(json_object_get(
                             nt_config_kafka(cfg), "bootstrap.servers")),
                         "env:9092");

        cr_assert_eq(nt_config_set_kafka_kv(cfg, "bootstrap.servers=cli:1",
                                            "-X", err, sizeof(err)),
                     NT_OK, "%s", err);
        cr_assert_str_eq(json_string_value(json_object_get(
                             nt_config_kafka(cfg), "bootstrap.servers")),
                         "cli:1", "-X overrides the environment");
        unlink(path);
        nt_config_destroy(cfg);
}

/* Criterion may run each case in a fresh process of a position-
 * independent binary, so parameters hold their text, not pointers. */
struct bad_file {
        char json[96];
        char want[80]; /* substring of the error, after "<path>: " */
};

ParameterizedTestParameters(config, file_errors_name_file_and_key)
{
        static struct bad_file cases[] = {
            {"{\"topics\": {\"rww\": \"x\"}}", "topics.rww: unknown key"},
            {"{\"topic\": {}}", "topic: unknown section"},
            {"{\"topics\": []}", "topics: expected an object"},
            {"{\"topics\": {\"raw\": 5}}", "topics.raw: expected a string"},
            {"{\"topics\": {\"raw\": \"\"}}",
             "topics.raw: \"\" cannot name a Kafka topic"},
            {"{\"topics\": {\"dlq\": \"news dlq\"}}",
             "topics.dlq: \"news dlq\" cannot name a Kafka topic"},
            {"{\"topics\": {\"feeds\": \"..\"}}",
             "topics.feeds: \"..\" cannot name a Kafka topic"},
            {"{\"topics\": {\"label_prefix\": \"news/topic/\"}}",
             "topics.label_prefix: \"news/topic/\" cannot name"},
            {"{\"log\": {\"level\": \"loud\"}}",
             "log.level: \"loud\" is not one of error|warn|info|debug"},
            {"{\"kafka\": {\"no.such.property\": \"1\"}}",
             "kafka.no.such.property: No such configuration property"},
            {"{\"kafka\": {\"linger.ms\": \"soon\"}}",
             "kafka.linger.ms: Invalid value"},
            {"{\"kafka\": {\"acks\": [1]}}",
             "kafka.acks: expected a string, number or boolean"},
            {"[1, 2]", "expected a JSON object at the top"},
            {"{\"topics\": {\"raw\": \"a\", \"raw\": \"b\"}}",
             "duplicate object key"},
            {"{\"topics\": ", ":1:"},
        };
        return cr_make_param_array(struct bad_file, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_file *c, config, file_errors_name_file_and_key)
{
        char path[64], err[512];
        nt_config_t *cfg = nt_config_new();
        int rc;

        write_tmp(c->json, path, sizeof(path));
        rc = nt_config_load_file(cfg, path, err, sizeof(err));
        cr_assert_eq(rc, NT_ERR_CONFIG, "%s: accepted", c->json);
        cr_assert(strncmp(err, path, strlen(path)) == 0,
                  "%s: error does not start with the file: %s", c->json, err);
        cr_assert_not_null(strstr(err, c->want),
                           "%s: error \"%s\" lacks \"%s\"", c->json, err,
                           c->want);
        unlink(path);
        nt_config_destroy(cfg);
}

Test(config, missing_file_is_reported)
{
        char err[512];
        nt_config_t *cfg = nt_config_new();

        assert_error(
            nt_config_load_file(cfg, "/nonexistent/nt.json", err, sizeof(err)),
            NT_ERR_CONFIG, err, "/nonexistent/nt.json", "missing file");
        nt_config_destroy(cfg);
}

Test(config, env_errors)
{
        char err[512];
        nt_config_t *cfg = nt_config_new();
        char *typo[] = {"NEWSTAP_TOPCS_RAW=x", NULL};
        char *bad_level[] = {"NEWSTAP_LOG_LEVEL=loud", NULL};
        char *bad_kafka[] = {"NEWSTAP_KAFKA_NO_SUCH=1", NULL};

        assert_error(nt_config_load_env(cfg, typo, err, sizeof(err)),
                     NT_ERR_CONFIG, err, "NEWSTAP_TOPCS_RAW",
                     "a typo in a variable name");
        assert_error(nt_config_load_env(cfg, bad_level, err, sizeof(err)),
                     NT_ERR_CONFIG, err,
                     "environment NEWSTAP_LOG_LEVEL: log.level", "bad level");
        assert_error(nt_config_load_env(cfg, bad_kafka, err, sizeof(err)),
                     NT_ERR_CONFIG, err, "kafka.no.such",
                     "unknown kafka property");
        nt_config_destroy(cfg);
}

/* Topic names as the broker takes them: its characters, 1 to 249 of
 * them; a label prefix may be empty and leaves room for a label. */
Test(config, topic_names_at_their_limits)
{
        char name[260], err[512];
        nt_config_t *cfg = nt_config_new();

        cr_assert_eq(nt_config_set(cfg, "topics.raw", "News_raw.v2-eu",
                                   "--topic", err, sizeof(err)),
                     NT_OK, "%s", err);
        cr_assert_eq(nt_config_set(cfg, "topics.label_prefix", "", "--topic",
                                   err, sizeof(err)),
                     NT_OK, "%s", err);
        memset(name, 'a', 249);
        name[249] = '\0';
        cr_assert_eq(nt_config_set(cfg, "topics.enriched", name, "--topic", err,
                                   sizeof(err)),
                     NT_OK, "%s", err);
        name[248] = '\0';
        cr_assert_eq(nt_config_set(cfg, "topics.label_prefix", name, "--topic",
                                   err, sizeof(err)),
                     NT_OK, "%s", err);
        name[248] = 'a';
        assert_error(nt_config_set(cfg, "topics.label_prefix", name, "--topic",
                                   err, sizeof(err)),
                     NT_ERR_CONFIG, err, "cannot name a Kafka topic",
                     "a prefix of 249");
        name[249] = 'a';
        name[250] = '\0';
        assert_error(nt_config_set(cfg, "topics.enriched", name, "--topic", err,
                                   sizeof(err)),
                     NT_ERR_CONFIG, err, "cannot name a Kafka topic",
                     "a name of 250");
        assert_error(
            nt_config_set(cfg, "topics.raw", ".", "--topic", err, sizeof(err)),
            NT_ERR_CONFIG, err, "--topic: topics.raw: \".\" cannot", "\".\"");
        cr_assert_str_eq(nt_config_str(cfg, "topics.raw"), "News_raw.v2-eu");
        nt_config_destroy(cfg);
}

Test(config, cli_kafka_errors_use_librdkafka_message)
{
        char err[512];
        nt_config_t *cfg = nt_config_new();

        cr_assert_eq(
            nt_config_set_kafka_kv(cfg, "acks", "-X", err, sizeof(err)),
            NT_ERR_USAGE);
        assert_error(nt_config_set_kafka_kv(cfg, "acks=sometimes", "-X", err,
                                            sizeof(err)),
                     NT_ERR_CONFIG, err, "-X: kafka.acks: Invalid value",
                     "bad acks");
        nt_config_destroy(cfg);
}

Test(config, dump_redacts_secrets)
{
        char err[512];
        nt_config_t *cfg = nt_config_new();
        json_t *dump;

        cr_assert_eq(nt_config_set_kafka(cfg, "sasl.password", "hunter2", "-X",
                                         err, sizeof(err)),
                     NT_OK, "%s", err);
        cr_assert_eq(
            nt_config_set_kafka(cfg, "client.id", "me", "-X", err, sizeof(err)),
            NT_OK, "%s", err);
        dump = nt_config_dump(cfg, true);
        cr_assert_str_eq(nt_test_json_str(dump, "kafka", "sasl.password"),
                         "[redacted]");
        cr_assert_str_eq(nt_test_json_str(dump, "kafka", "client.id"), "me");
        cr_assert_str_eq(nt_test_json_str(dump, "topics", "raw"), "news.raw",
                         "defaults are part of the dump");
        json_decref(dump);
        dump = nt_config_dump(cfg, false);
        cr_assert_str_eq(nt_test_json_str(dump, "kafka", "sasl.password"),
                         "hunter2");
        json_decref(dump);
        nt_config_destroy(cfg);
}

Test(config, env_names)
{
        char env[64];

        nt_config_env_name("topics.label_prefix", env, sizeof(env));
        cr_assert_str_eq(env, "NEWSTAP_TOPICS_LABEL_PREFIX");
}

/* docs/configuration.md, open for reading; its path goes into buf. */
static FILE *open_reference(char *buf, size_t size)
{
        FILE *f;

        nt_test_source("docs/configuration.md", buf, size);
        f = fopen(buf, "r");
        cr_assert_not_null(f, "cannot open %s", buf);
        return f;
}

/* The name of a table row "| `name` | ...", cut out of line; NULL when
 * the line is no such row. */
static const char *row_name(char *line)
{
        char *end;

        if (strncmp(line, "| `", 3) != 0)
                return NULL;
        end = strchr(line + 3, '`');
        cr_assert_not_null(end, "unterminated name in: %s", line);
        *end = '\0';
        return line + 3;
}

/* docs/configuration.md documents every key in a table row that starts
 * with "| `section.key` |"; the table of the code and the docs must
 * agree. (Rows without a dot describe members of array elements.) */
Test(config, reference_matches_the_code)
{
        const struct nt_config_key *keys;
        char path[512], line[1024];
        size_t n, i, documented = 0;
        FILE *f;

        f = open_reference(path, sizeof(path));
        keys = nt_config_keys(&n);
        while (fgets(line, sizeof(line), f)) {
                const char *key = row_name(line);

                if (!key)
                        continue;
                if (strncmp(key, "kafka.", 6) == 0)
                        continue; /* librdkafka's properties, passed through */
                if (!strchr(key, '.'))
                        continue; /* a member of an array element */
                for (i = 0; i < n; i++)
                        if (strcmp(keys[i].path, key) == 0)
                                break;
                cr_assert_lt(i, n,
                             "docs/configuration.md documents \"%s\", "
                             "which the code does not accept",
                             key);
                documented++;
        }
        for (i = 0; i < n; i++) {
                char needle[300];
                int found = 0;

                snprintf(needle, sizeof(needle), "| `%s` |", keys[i].path);
                rewind(f);
                while (!found && fgets(line, sizeof(line), f))
                        found = strncmp(line, needle, strlen(needle)) == 0;
                cr_assert(found,
                          "key %s is missing from "
                          "docs/configuration.md",
                          keys[i].path);
        }
        fclose(f);
        cr_assert_eq(documented, n, "each key is documented exactly once");
}

Test(config, groups_of_keys_nest_in_the_file)
{
        char path[64], err[512];
        nt_config_t *cfg = nt_config_new();

        write_tmp("{\"consumer\": {\"map\": {\"title\": \"data.headline\"},"
                  " \"map.url\": \"data.link\"}}",
                  path, sizeof(path));
        cr_assert_eq(nt_config_load_file(cfg, path, err, sizeof(err)), NT_OK,
                     "%s", err);
        cr_assert_str_eq(nt_config_str(cfg, "consumer.map.title"),
                         "data.headline");
        cr_assert_str_eq(nt_config_str(cfg, "consumer.map.url"), "data.link",
                         "the dotted form works too");
        write_tmp("{\"consumer\": {\"map\": {\"titel\": \"x\"}}}", path,
                  sizeof(path));
        cr_assert_eq(nt_config_load_file(cfg, path, err, sizeof(err)),
                     NT_ERR_CONFIG);
        cr_assert_not_null(strstr(err, "consumer.map.titel: unknown key"), "%s",
                           err);
        unlink(path);
        nt_config_destroy(cfg);
}

/* What the validator refuses after every layer is in: each case is one
 * file, with the one line it must produce. */
struct bad_value {
        char json[160];
        char want[96]; /* substring of the only line, after "<path>: " */
};

ParameterizedTestParameters(config, validate_refuses)
{
        static struct bad_value cases[] = {
            {"{\"metrics\": {\"listen\": \"19484\"}}",
             "metrics.listen: \"19484\" is not HOST:PORT"},
            {"{\"metrics\": {\"listen\": \"0.0.0.0:99999\"}}",
             "metrics.listen: \"0.0.0.0:99999\": the port"},
            {"{\"metrics\": {\"listen\": \"example.org:80\"}}",
             "metrics.listen: \"example.org:80\": \"example.org\" is not"},
            {"{\"producer\": {\"interval\": \"30s\"}}",
             "producer.interval: 30 s is below producer.min_interval (60 s)"},
            {"{\"producer\": {\"feeds\": [{\"url\": \"http://a/\", "
             "\"interval\": 5}]}}",
             "producer.feeds[0].interval: 5 s is below"},
            {"{\"producer\": {\"feeds\": [{\"url\": \"http://a/\", "
             "\"Interval\": \"5m\"}]}}",
             "producer.feeds[0].Interval: unknown key"},
            {"{\"producer\": {\"feeds\": [{\"url\": \"ftp://u:pw@a/\"}]}}",
             "producer.feeds[0].url: \"ftp://a/\" is not an http or https URL"},
            {"{\"producer\": {\"feeds\": [{\"url\": \"http://A/x\"}, "
             "{\"url\": \"http://u:pw@a/x\"}]}}",
             "producer.feeds[1].url: http://a/x is listed twice"},
            {"{\"producer\": {\"feeds\": [{\"url\": \"http://a/\", "
             "\"headers\": {\"Bad Name\": \"v\"}}]}}",
             "producer.feeds[0].headers.Bad Name: expected a header name"},
            {"{\"producer\": {\"feeds\": [{\"url\": \"http://a/\", "
             "\"content\": \"full\"}]}}",
             "producer.feeds[0].content: expected \"feed\", \"page\" or"},
            {"{\"producer\": {\"feeds\": [{\"url\": \"http://a/\", "
             "\"content\": true}]}}",
             "producer.feeds[0].content: expected \"feed\", \"page\" or"},
            {"{\"topics\": {\"feeds_state\": \"news.feeds\"}}",
             "topics.feeds_state: news.feeds is also topics.feeds"},
        };
        return cr_make_param_array(struct bad_value, cases,
                                   sizeof(cases) / sizeof(cases[0]));
}

ParameterizedTest(struct bad_value *c, config, validate_refuses)
{
        struct loaded l;
        const char *text;
        char want[256];

        load_all(&l, c->json);
        cr_assert_eq(l.rc, NT_OK, "%s: the file itself is fine: %s", c->json,
                     nt_buf_str(&l.r.text));
        cr_assert_eq(nt_config_validate(l.cfg, &l.r), NT_ERR_CONFIG,
                     "%s: accepted", c->json);
        text = nt_buf_str(&l.r.text);
        cr_assert_eq(l.r.n, 1, "%s: one error, got %zu:\n%s", c->json, l.r.n,
                     text);
        snprintf(want, sizeof(want), "%s: %s", l.path, c->want);
        cr_assert_not_null(strstr(text, want), "%s: \"%s\" lacks \"%s\"",
                           c->json, text, want);
        cr_assert_null(strstr(text, "pw"), "%s: a credential in the message",
                       c->json);
        loaded_free(&l);
}

Test(config, validate_accepts_what_it_should)
{
        struct loaded l;

        load_all(&l,
                 "{\"producer\": {\"min_interval\": \"1s\", \"interval\": 1,"
                 " \"feeds\": [{\"url\": \"https://u:p@a.example/f\","
                 " \"interval\": \"1s\", \"name\": \"a\", \"tags\": [\"x\"],"
                 " \"headers\": {\"Authorization\": \"Bearer t\"},"
                 " \"content\": \"auto\"},"
                 " {\"url\": \"https://b.example/f\", \"content\": \"page\"},"
                 " {\"url\": \"https://c.example/f\", \"content\": \"feed\"}],"
                 " \"content\": \"auto\", \"content_min_chars\": 200},"
                 " \"metrics\": {\"listen\": \"localhost:0\"}}");
        nt_config_validate(l.cfg, &l.r);
        cr_assert_eq(l.r.n, 0, "refused: %s", nt_buf_str(&l.r.text));
        loaded_free(&l);
}

/* A feed's "content" as its mode: the three names, nothing else. */
Test(config, feed_content_names_their_modes)
{
        static const struct {
                const char *name;
                int mode;
        } cases[] = {
            {"feed", NT_CONTENT_FEED},
            {"page", NT_CONTENT_PAGE},
            {"auto", NT_CONTENT_AUTO},
            {"full", -1},
            {"Page", -1},
            {"", -1},
        };
        json_t *v;
        size_t i;

        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                v = json_string(cases[i].name);
                cr_assert_eq(nt_config_feed_content(v), cases[i].mode,
                             "\"%s\": mode %d, want %d", cases[i].name,
                             nt_config_feed_content(v), cases[i].mode);
                json_decref(v);
        }
        v = json_integer(1);
        cr_assert_eq(nt_config_feed_content(v), -1, "a number is no mode");
        json_decref(v);
        cr_assert_eq(nt_config_feed_content(NULL), -1, "absent is no mode");
}

Test(config, every_error_of_a_file_in_one_report)
{
        struct loaded l;

        load_all(&l, "{\"topics\": {\"rww\": 1, \"raw\": 5}, \"log\": "
                     "{\"level\": \"loud\"}, \"nope\": {}, \"topics.x\": 1}");
        cr_assert_eq(l.rc, NT_ERR_CONFIG);
        cr_assert_eq(l.r.n, 5, "want 5 errors:\n%s", nt_buf_str(&l.r.text));
        loaded_free(&l);
}

Test(config, dump_redacts_feed_credentials)
{
        char path[64], err[512];
        nt_config_t *cfg = nt_config_new();
        json_t *dump, *feed;
        char *text;

        write_tmp("{\"producer\": {\"feeds\": [{\"url\": "
                  "\"https://me:pw@a.example/f\", \"headers\": "
                  "{\"Authorization\": \"Bearer t0k\"}}]}}",
                  path, sizeof(path));
        cr_assert_eq(nt_config_load_file(cfg, path, err, sizeof(err)), NT_OK,
                     "%s", err);
        dump = nt_config_dump(cfg, true);
        feed = json_array_get(
            json_object_get(json_object_get(dump, "producer"), "feeds"), 0);
        nt_test_assert_json_str(feed, "url", "https://[redacted]@a.example/f");
        cr_assert_str_eq(
            json_string_value(json_object_get(json_object_get(feed, "headers"),
                                              "Authorization")),
            "[redacted]");
        json_decref(dump);
        dump = nt_config_dump(cfg, false);
        text = json_dumps(dump, 0);
        cr_assert_not_null(strstr(text, "me:pw@"), "%s", text);
        cr_assert_not_null(strstr(text, "Bearer t0k"), "%s", text);
        free(text);
        json_decref(dump);
        /* The configuration itself is untouched by a redacted dump. */
        cr_assert_str_eq(
            json_string_value(json_object_get(
                json_array_get(nt_config_array(cfg, "producer.feeds"), 0),
                "url")),
            "https://me:pw@a.example/f");
        unlink(path);
        nt_config_destroy(cfg);
}

/* The table of feed members in docs/configuration.md ("| member |")
 * lists exactly the members the validator accepts. */
Test(config, feed_members_match_the_reference)
{
        const char *const *members;
        char path[512], line[1024];
        size_t n, i, documented = 0;
        bool in_table = false;
        FILE *f;

        f = open_reference(path, sizeof(path));
        members = nt_config_feed_members(&n);
        while (fgets(line, sizeof(line), f)) {
                const char *member;

                if (strncmp(line, "| member |", 10) == 0) {
                        in_table = true;
                        continue;
                }
                if (!in_table || strncmp(line, "|---", 4) == 0)
                        continue;
                member = row_name(line);
                if (!member)
                        break;
                for (i = 0; i < n; i++)
                        if (strcmp(members[i], member) == 0)
                                break;
                cr_assert_lt(i, n,
                             "docs/configuration.md documents feed member "
                             "\"%s\", which the validator refuses",
                             member);
                documented++;
        }
        fclose(f);
        cr_assert(in_table, "no feed member table in %s", path);
        cr_assert_eq(documented, n,
                     "%zu feed members documented, the validator accepts %zu",
                     documented, n);
}
