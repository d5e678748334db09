#include "common/config.h"
#include "common/err.h"
#include "common/num.h"

#include <librdkafka/rdkafka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTIONS "kafka, topics, producer, consumer, log, metrics"

/* Every key newstap reads. The kafka section is not listed: it holds
 * librdkafka properties only, passed through as they are. A key is added here
 * together with the code that reads it and its row in docs/configuration.md (a
 * test checks the two agree). Defaults are written as they would be in the
 * environment. */
static const struct nt_config_key config_keys[] = {
    {"topics.raw", NT_CONFIG_STRING, "news.raw", 0, 0, 0, NULL,
     "topic of raw articles, written by produce and replay"},
    {"topics.enriched", NT_CONFIG_STRING, "news.enriched", 0, 0, 0, NULL,
     "topic of every classified article"},
    {"topics.label_prefix", NT_CONFIG_STRING, "news.topic.", 0, 0, 0, NULL,
     "prefix of the per-label topics (news.topic.<label>)"},
    {"topics.dlq", NT_CONFIG_STRING, "news.dlq", 0, 0, 0, NULL,
     "dead-letter topic for input that cannot be processed"},
    {"producer.feeds", NT_CONFIG_ARRAY, "[]", 0, 0, 0, NULL,
     "feeds to poll: [{url, name, interval, tags, headers}]"},
    {"producer.state_dir", NT_CONFIG_STRING, "state", 0, 0, 0, NULL,
     "directory of the per-feed state files"},
    {"producer.interval", NT_CONFIG_DURATION, "15m", 1000, 86400000LL * 7, 1000,
     NULL, "default poll interval of a feed"},
    {"producer.max_transfers", NT_CONFIG_INT, "32", 1, 1024, 0, NULL,
     "concurrent HTTP transfers in all"},
    {"producer.max_per_host", NT_CONFIG_INT, "2", 1, 64, 0, NULL,
     "concurrent HTTP transfers to one host"},
    {"producer.connect_timeout", NT_CONFIG_DURATION, "10s", 100, 600000, 1000,
     NULL, "TCP and TLS connect timeout"},
    {"producer.timeout", NT_CONFIG_DURATION, "60s", 100, 3600000, 1000, NULL,
     "time limit of one HTTP transfer"},
    {"producer.max_body", NT_CONFIG_SIZE, "32MiB", 1024, 1LL << 30, 0, NULL,
     "largest decoded feed body"},
    {"producer.max_redirects", NT_CONFIG_INT, "5", 0, 20, 0, NULL,
     "redirects followed per fetch"},
    {"producer.contact", NT_CONFIG_STRING, "", 0, 0, 0, NULL,
     "contact URL or address shown in the User-Agent"},
    {"producer.backoff_base", NT_CONFIG_DURATION, "1m", 1000, 86400000, 1000,
     NULL, "first delay after a failed poll"},
    {"producer.backoff_max", NT_CONFIG_DURATION, "6h", 1000, 86400000LL * 7,
     1000, NULL, "longest delay between polls of a failing feed"},
    {"producer.seen_max", NT_CONFIG_INT, "10000", 10, 10000000, 0, NULL,
     "article ids remembered per feed"},
    {"producer.seen_max_age", NT_CONFIG_DURATION, "30d", 60000,
     86400000LL * 3650, 1000, NULL, "how long an article id is remembered"},
    {"producer.max_inflight", NT_CONFIG_INT, "10000", 1, 1000000, 0, NULL,
     "unconfirmed articles before fetching pauses"},
    {"producer.shutdown_timeout", NT_CONFIG_DURATION, "30s", 0, 600000, 1000,
     NULL, "how long shutdown waits for transfers and deliveries"},
    {"producer.summary_interval", NT_CONFIG_DURATION, "60s", 0, 86400000, 1000,
     NULL, "period of the one-line summary in the log (0: never)"},
    {"producer.compression", NT_CONFIG_ENUM, "zstd", 0, 0, 0,
     "none|gzip|snappy|lz4|zstd",
     "compression of raw articles (kafka compression.type wins)"},
    {"consumer.rules", NT_CONFIG_STRING, "config/rules", 0, 0, 0, NULL,
     "rule files of classify: a directory (its *.rules) or one file"},
    {"consumer.group_id", NT_CONFIG_STRING, "newstap-classify", 0, 0, 0, NULL,
     "consumer group of the classifier instances"},
    {"consumer.delivery", NT_CONFIG_ENUM, "exactly_once", 0, 0, 0,
     "exactly_once|at_least_once",
     "Kafka transactions, or idempotent writes and late offset commits"},
    {"consumer.transactional_id", NT_CONFIG_STRING, "", 0, 0, 0, NULL,
     "transactional.id of this instance; empty: newstap-classify-<host>"},
    {"consumer.batch_max", NT_CONFIG_INT, "500", 1, 100000, 0, NULL,
     "inputs per transaction (batch) at most"},
    {"consumer.batch_ms", NT_CONFIG_DURATION, "500ms", 1, 30000, 1, NULL,
     "time a transaction (batch) stays open at most"},
    {"consumer.max_message", NT_CONFIG_SIZE, "1MiB", 1024, 1LL << 30, 0, NULL,
     "largest input; larger ones go to the dead-letter topic"},
    {"consumer.label_partitions", NT_CONFIG_INT, "3", 1, 10000, 0, NULL,
     "partitions of a label topic that classify creates"},
    {"consumer.input", NT_CONFIG_ENUM, "article", 0, 0, 0, "article|mapped",
     "newstap articles, or other JSON read through consumer.map.*"},
    {"consumer.map.title", NT_CONFIG_STRING, "title", 0, 0, 0, NULL,
     "mapped input: dot path of the title"},
    {"consumer.map.summary", NT_CONFIG_STRING, "summary", 0, 0, 0, NULL,
     "mapped input: dot path of the summary (lead)"},
    {"consumer.map.body", NT_CONFIG_STRING, "body", 0, 0, 0, NULL,
     "mapped input: dot path of the body text"},
    {"consumer.map.url", NT_CONFIG_STRING, "url", 0, 0, 0, NULL,
     "mapped input: dot path of the link (gives the id)"},
    {"consumer.map.published", NT_CONFIG_STRING, "published", 0, 0, 0, NULL,
     "mapped input: dot path of the publication date"},
    {"consumer.map.id", NT_CONFIG_STRING, "", 0, 0, 0, NULL,
     "mapped input: dot path of an id (empty: from the url)"},
    {"consumer.classify", NT_CONFIG_BOOL, "true", 0, 0, 0, NULL,
     "false: events without labels (measures the pipeline alone)"},
    {"consumer.ce_source", NT_CONFIG_STRING, "newstap/classify", 0, 0, 0, NULL,
     "CloudEvents source attribute (ce_source) of the events"},
    {"consumer.shutdown_timeout", NT_CONFIG_DURATION, "10s", 0, 600000, 1000,
     NULL, "how long SIGTERM waits to commit or abort the open batch"},
    {"metrics.enabled", NT_CONFIG_ENUM, "auto", 0, 0, 0, "auto|on|off",
     "HTTP /metrics, /healthz, /readyz: auto = on for the daemons"},
    {"metrics.listen", NT_CONFIG_STRING, "", 0, 0, 0, NULL,
     "HOST:PORT of the endpoint; empty: 127.0.0.1:9464 (produce), "
     ":9465 (classify)"},
    {"log.level", NT_CONFIG_ENUM, "info", 0, 0, 0, "error|warn|info|debug",
     "least severe level written"},
    {"log.format", NT_CONFIG_ENUM, "logfmt", 0, 0, 0, "logfmt|json",
     "log line format on stderr"},
};

static const char *const config_sections[] = {
    "kafka", "topics", "producer", "consumer", "log", "metrics",
};

struct nt_config {
        json_t *root;           /* section -> key -> value, as given */
        json_t *kafka;          /* librdkafka property -> string */
        rd_kafka_conf_t *probe; /* validates properties as they are set */
};

const struct nt_config_key *nt_config_keys(size_t *count)
{
        *count = sizeof(config_keys) / sizeof(config_keys[0]);
        return config_keys;
}

static const struct nt_config_key *key_find(const char *path)
{
        size_t i;

        for (i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
                if (strcmp(config_keys[i].path, path) == 0)
                        return &config_keys[i];
        }
        return NULL;
}

/* The key of the table for a getter; asking for an undeclared key or the
 * wrong type is a bug in the caller, not a user error. */
static const struct nt_config_key *key_must(const char *path,
                                            enum nt_config_type type)
{
        const struct nt_config_key *k = key_find(path);

        if (!k || k->type != type) {
                fprintf(stderr,
                        "newstap: bug: config key %s read as the "
                        "wrong type\n",
                        path);
                abort();
        }
        return k;
}

void nt_config_env_name(const char *path, char *buf, size_t size)
{
        size_t i, n = 0;
        const char *prefix = "NEWSTAP_";

        if (size == 0)
                return;
        for (i = 0; prefix[i] && n + 1 < size; i++)
                buf[n++] = prefix[i];
        for (i = 0; path[i] && n + 1 < size; i++)
                buf[n++] = path[i] == '.'
                               ? '_'
                               : (char)toupper((unsigned char)path[i]);
        buf[n] = '\0';
}

bool nt_config_is_secret(const char *name)
{
        static const char *const needles[] = {"password", "secret",
                                              "sasl.oauthbearer.config",
                                              "ssl.key.pem", "ssl_key"};
        size_t i;

        for (i = 0; i < sizeof(needles) / sizeof(needles[0]); i++) {
                if (strstr(name, needles[i]))
                        return true;
        }
        return false;
}

/* Where the value of a key lives: root[section][rest]. */
static json_t *section_of(json_t *root, const char *path, const char **leaf)
{
        const char *dot = strchr(path, '.');
        char section[32];
        size_t n;

        n = (size_t)(dot - path);
        if (!dot || n >= sizeof(section))
                return NULL;
        memcpy(section, path, n);
        section[n] = '\0';
        *leaf = dot + 1;
        return json_object_get(root, section);
}

static int put_value(nt_config_t *cfg, const char *path, json_t *value)
{
        const char *leaf;
        json_t *sec = section_of(cfg->root, path, &leaf);

        if (!sec || json_object_set_new(sec, leaf, value) != 0)
                return NT_ERR_NOMEM;
        return NT_OK;
}

static json_t *get_value(const nt_config_t *cfg, const char *path)
{
        const char *leaf;
        json_t *sec = section_of(cfg->root, path, &leaf);

        return sec ? json_object_get(sec, leaf) : NULL;
}

/* Checks a JSON value against a key and returns the value to store (a new
 * reference), or NULL with errstr set. Text values (from the environment
 * or the command line) arrive as JSON strings with `from_text`. */
static json_t *check_value(const struct nt_config_key *k, json_t *v,
                           bool from_text, const char *origin, char *errstr,
                           size_t errstr_size)
{
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        int64_t n = 0;
        int err = NT_OK;

#define FAIL(...)                                                         \
        do {                                                              \
                nt_errf(errstr, errstr_size, NT_ERR_CONFIG, __VA_ARGS__); \
                return NULL;                                              \
        } while (0)
        switch (k->type) {
        case NT_CONFIG_STRING:
                if (!s)
                        FAIL("%s: %s: expected a string", origin, k->path);
                return json_incref(v);
        case NT_CONFIG_ENUM: {
                const char *c = k->choices;
                size_t len;

                if (!s)
                        FAIL("%s: %s: expected one of %s", origin, k->path,
                             k->choices);
                len = strlen(s);
                while (c && *c) {
                        const char *bar = strchr(c, '|');
                        size_t clen = bar ? (size_t)(bar - c) : strlen(c);
                        if (clen == len && strncmp(c, s, len) == 0)
                                return json_incref(v);
                        c = bar ? bar + 1 : NULL;
                }
                FAIL("%s: %s: \"%s\" is not one of %s", origin, k->path, s,
                     k->choices);
        }
        case NT_CONFIG_BOOL:
                if (json_is_boolean(v))
                        return json_incref(v);
                if (s && from_text) {
                        if (!strcmp(s, "true") || !strcmp(s, "1") ||
                            !strcmp(s, "yes") || !strcmp(s, "on"))
                                return json_true();
                        if (!strcmp(s, "false") || !strcmp(s, "0") ||
                            !strcmp(s, "no") || !strcmp(s, "off"))
                                return json_false();
                }
                FAIL("%s: %s: expected true or false", origin, k->path);
        case NT_CONFIG_INT:
                if (json_is_integer(v))
                        n = json_integer_value(v);
                else if (s && from_text)
                        err = nt_num_parse_i64(s, INT64_MIN, INT64_MAX, &n);
                else
                        FAIL("%s: %s: expected an integer", origin, k->path);
                if (err)
                        FAIL("%s: %s: \"%s\" is not an integer", origin,
                             k->path, s);
                if (n < k->min || n > k->max)
                        FAIL("%s: %s: %lld is outside %lld..%lld", origin,
                             k->path, (long long)n, (long long)k->min,
                             (long long)k->max);
                return json_integer(n);
        case NT_CONFIG_DURATION:
        case NT_CONFIG_SIZE:
                if (json_is_integer(v)) {
                        n = json_integer_value(v);
                        if (n < 0)
                                FAIL("%s: %s: must not be negative", origin,
                                     k->path);
                        if (k->type == NT_CONFIG_DURATION &&
                            n > INT64_MAX / k->unit_ms)
                                FAIL("%s: %s: too large", origin, k->path);
                        if (k->type == NT_CONFIG_DURATION)
                                n *= k->unit_ms;
                } else if (s) {
                        err = k->type == NT_CONFIG_DURATION
                                  ? nt_num_parse_duration_ms(s, k->unit_ms, &n)
                                  : nt_num_parse_size(s, &n);
                        if (err)
                                FAIL("%s: %s: \"%s\" is not a %s", origin,
                                     k->path, s,
                                     k->type == NT_CONFIG_DURATION
                                         ? "duration (e.g. 30s, 5m, 1h)"
                                         : "size (e.g. 512KiB, 32MiB)");
                } else {
                        FAIL("%s: %s: expected a number or a string with a "
                             "unit",
                             origin, k->path);
                }
                if (n < k->min || n > k->max)
                        FAIL("%s: %s: value is outside the allowed range",
                             origin, k->path);
                /* Kept as given, so that `config dump` shows "30s" rather
                 * than 30000; the getters parse it again. */
                return json_incref(v);
        case NT_CONFIG_ARRAY:
                if (json_is_array(v))
                        return json_incref(v);
                if (s && from_text) {
                        json_error_t jerr;
                        json_t *arr = json_loads(s, 0, &jerr);
                        if (json_is_array(arr))
                                return arr;
                        json_decref(arr);
                }
                FAIL("%s: %s: expected a JSON array", origin, k->path);
        }
#undef FAIL
        return NULL;
}

int nt_config_set_kafka(nt_config_t *cfg, const char *name, const char *value,
                        const char *origin, char *errstr, size_t errstr_size)
{
        char rkerr[512];

        if (rd_kafka_conf_set(cfg->probe, name, value, rkerr, sizeof(rkerr)) !=
            RD_KAFKA_CONF_OK)
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "%s: kafka.%s: %s", origin, name, rkerr);
        if (json_object_set_new(cfg->kafka, name, json_string(value)) != 0)
                return NT_ERR_NOMEM;
        return NT_OK;
}

int nt_config_set_kafka_kv(nt_config_t *cfg, const char *kv, const char *origin,
                           char *errstr, size_t errstr_size)
{
        const char *eq = strchr(kv, '=');
        char name[256];
        size_t n;

        if (!eq || eq == kv)
                return nt_errf(errstr, errstr_size, NT_ERR_USAGE,
                               "%s: \"%s\": expected key=value", origin, kv);
        n = (size_t)(eq - kv);
        if (n >= sizeof(name))
                return nt_errf(errstr, errstr_size, NT_ERR_USAGE,
                               "%s: property name too long", origin);
        memcpy(name, kv, n);
        name[n] = '\0';
        return nt_config_set_kafka(cfg, name, eq + 1, origin, errstr,
                                   errstr_size);
}

int nt_config_set(nt_config_t *cfg, const char *path, const char *value,
                  const char *origin, char *errstr, size_t errstr_size)
{
        const struct nt_config_key *k = key_find(path);
        json_t *text, *v;

        if (!k)
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "%s: %s: unknown key", origin, path);
        text = json_string(value);
        if (!text)
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "%s: %s: value is not valid UTF-8", origin,
                               path);
        v = check_value(k, text, true, origin, errstr, errstr_size);
        json_decref(text);
        if (!v)
                return NT_ERR_CONFIG;
        return put_value(cfg, path, v);
}

nt_config_t *nt_config_new(void)
{
        nt_config_t *cfg = calloc(1, sizeof(*cfg));
        size_t i;

        if (!cfg)
                return NULL;
        cfg->root = json_object();
        cfg->kafka = json_object();
        cfg->probe = rd_kafka_conf_new();
        if (!cfg->root || !cfg->kafka || !cfg->probe)
                goto fail;
        for (i = 0; i < sizeof(config_sections) / sizeof(config_sections[0]);
             i++) {
                if (json_object_set_new(cfg->root, config_sections[i],
                                        json_object()) != 0)
                        goto fail;
        }
        for (i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
                char errstr[256];
                if (!config_keys[i].def)
                        continue;
                /* A default that fails its own check is a bug in the table,
                 * caught by the first test that makes a config. */
                if (nt_config_set(cfg, config_keys[i].path, config_keys[i].def,
                                  "default", errstr, sizeof(errstr)) != NT_OK) {
                        fprintf(stderr, "newstap: bug: %s\n", errstr);
                        abort();
                }
        }
        return cfg;
fail:
        nt_config_destroy(cfg);
        return NULL;
}

void nt_config_destroy(nt_config_t *cfg)
{
        if (!cfg)
                return;
        json_decref(cfg->root);
        json_decref(cfg->kafka);
        if (cfg->probe)
                rd_kafka_conf_destroy(cfg->probe);
        free(cfg);
}

/* librdkafka takes every property as a string; JSON numbers and booleans
 * in the file are accepted for convenience and written the way it expects. */
static int kafka_value_text(json_t *v, char *buf, size_t size)
{
        if (json_is_string(v))
                snprintf(buf, size, "%s", json_string_value(v));
        else if (json_is_integer(v))
                snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        else if (json_is_real(v))
                snprintf(buf, size, "%g", json_real_value(v));
        else if (json_is_boolean(v))
                snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
        else
                return NT_ERR_CONFIG;
        return NT_OK;
}

static int load_kafka_section(nt_config_t *cfg, json_t *obj, const char *file,
                              char *errstr, size_t errstr_size)
{
        const char *name;
        json_t *v;
        char text[4096];
        int err;

        json_object_foreach(obj, name, v)
        {
                if (kafka_value_text(v, text, sizeof(text)) != NT_OK)
                        return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                                       "%s: kafka.%s: expected a string, "
                                       "number or boolean",
                                       file, name);
                err = nt_config_set_kafka(cfg, name, text, file, errstr,
                                          errstr_size);
                if (err)
                        return err;
        }
        return NT_OK;
}

/* True when some key lies below `prefix` ("consumer.map" for
 * "consumer.map.title"). */
static bool group_exists(const char *prefix)
{
        size_t i, n = strlen(prefix);

        for (i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
                if (strncmp(config_keys[i].path, prefix, n) == 0 &&
                    config_keys[i].path[n] == '.')
                        return true;
        }
        return false;
}

/* Walks one object of the file; `prefix` is the path so far ("" at the
 * top). Objects recurse while some key of the table lies below them. */
static int load_object(nt_config_t *cfg, json_t *obj, const char *prefix,
                       const char *file, char *errstr, size_t errstr_size)
{
        const char *name;
        json_t *v;
        char path[256];
        int err;

        json_object_foreach(obj, name, v)
        {
                const struct nt_config_key *k;
                json_t *checked;

                snprintf(path, sizeof(path), "%s%s%s", prefix,
                         *prefix ? "." : "", name);
                if (!*prefix) {
                        if (!json_object_get(cfg->root, name))
                                return nt_errf(errstr, errstr_size,
                                               NT_ERR_CONFIG,
                                               "%s: %s: unknown section "
                                               "(expected one of %s)",
                                               file, name, SECTIONS);
                        if (!json_is_object(v))
                                return nt_errf(
                                    errstr, errstr_size, NT_ERR_CONFIG,
                                    "%s: %s: expected an object", file, name);
                        err = strcmp(name, "kafka") == 0
                                  ? load_kafka_section(cfg, v, file, errstr,
                                                       errstr_size)
                                  : load_object(cfg, v, name, file, errstr,
                                                errstr_size);
                        if (err)
                                return err;
                        continue;
                }
                k = key_find(path);
                if (!k && json_is_object(v) && group_exists(path)) {
                        /* A group of keys ("consumer.map": {...}). */
                        err = load_object(cfg, v, path, file, errstr,
                                          errstr_size);
                        if (err)
                                return err;
                        continue;
                }
                if (!k)
                        return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                                       "%s: %s: unknown key", file, path);
                checked = check_value(k, v, false, file, errstr, errstr_size);
                if (!checked)
                        return NT_ERR_CONFIG;
                err = put_value(cfg, path, checked);
                if (err)
                        return err;
        }
        return NT_OK;
}

int nt_config_load_file(nt_config_t *cfg, const char *path, char *errstr,
                        size_t errstr_size)
{
        json_error_t jerr;
        json_t *root;
        int err;

        root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
                /* jansson reports a missing file as a parse error at line
                 * -1; say which it is. */
                if (jerr.line < 0)
                        return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                                       "%s: %s", path, jerr.text);
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "%s:%d:%d: %s", path, jerr.line, jerr.column,
                               jerr.text);
        }
        if (!json_is_object(root)) {
                json_decref(root);
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "%s: expected a JSON object at the top", path);
        }
        err = load_object(cfg, root, "", path, errstr, errstr_size);
        json_decref(root);
        return err;
}

int nt_config_load_env(nt_config_t *cfg, char *const *envp, char *errstr,
                       size_t errstr_size)
{
        static const char kafka_prefix[] = "NEWSTAP_KAFKA_";
        char name[256], env[256], origin[300];
        size_t i, k, nkeys;
        int err;

        nt_config_keys(&nkeys);
        for (i = 0; envp && envp[i]; i++) {
                const char *var = envp[i], *eq = strchr(var, '=');
                size_t n;

                if (!eq || strncmp(var, "NEWSTAP_", 8) != 0)
                        continue;
                n = (size_t)(eq - var);
                if (n >= sizeof(name))
                        continue;
                memcpy(name, var, n);
                name[n] = '\0';
                snprintf(origin, sizeof(origin), "environment %s", name);
                if (strcmp(name, "NEWSTAP_CONFIG") == 0)
                        continue;
                if (strncmp(name, kafka_prefix, sizeof(kafka_prefix) - 1) ==
                    0) {
                        char prop[256];
                        const char *p = name + sizeof(kafka_prefix) - 1;
                        size_t j;

                        for (j = 0; p[j] && j + 1 < sizeof(prop); j++)
                                prop[j] =
                                    p[j] == '_'
                                        ? '.'
                                        : (char)tolower((unsigned char)p[j]);
                        prop[j] = '\0';
                        err = nt_config_set_kafka(cfg, prop, eq + 1, origin,
                                                  errstr, errstr_size);
                        if (err)
                                return err;
                        continue;
                }
                for (k = 0; k < nkeys; k++) {
                        nt_config_env_name(config_keys[k].path, env,
                                           sizeof(env));
                        if (strcmp(env, name) == 0)
                                break;
                }
                if (k == nkeys)
                        return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                                       "%s: no such configuration key "
                                       "(see docs/configuration.md)",
                                       origin);
                err = nt_config_set(cfg, config_keys[k].path, eq + 1, origin,
                                    errstr, errstr_size);
                if (err)
                        return err;
        }
        return NT_OK;
}

const char *nt_config_str(const nt_config_t *cfg, const char *path)
{
        const struct nt_config_key *k = key_find(path);
        json_t *v;

        if (!k || (k->type != NT_CONFIG_STRING && k->type != NT_CONFIG_ENUM))
                key_must(path, NT_CONFIG_STRING);
        v = get_value(cfg, path);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

int64_t nt_config_int(const nt_config_t *cfg, const char *path)
{
        key_must(path, NT_CONFIG_INT);
        return json_integer_value(get_value(cfg, path));
}

bool nt_config_bool(const nt_config_t *cfg, const char *path)
{
        key_must(path, NT_CONFIG_BOOL);
        return json_is_true(get_value(cfg, path));
}

/* DURATION and SIZE values are stored as given and were checked when set,
 * so parsing them again cannot fail. */
static int64_t stored_amount(const struct nt_config_key *k, json_t *v)
{
        int64_t n = 0;

        if (json_is_integer(v))
                return json_integer_value(v) *
                       (k->type == NT_CONFIG_DURATION ? k->unit_ms : 1);
        if (!json_is_string(v))
                return 0;
        if (k->type == NT_CONFIG_DURATION)
                nt_num_parse_duration_ms(json_string_value(v), k->unit_ms, &n);
        else
                nt_num_parse_size(json_string_value(v), &n);
        return n;
}

int64_t nt_config_ms(const nt_config_t *cfg, const char *path)
{
        return stored_amount(key_must(path, NT_CONFIG_DURATION),
                             get_value(cfg, path));
}

int64_t nt_config_bytes(const nt_config_t *cfg, const char *path)
{
        return stored_amount(key_must(path, NT_CONFIG_SIZE),
                             get_value(cfg, path));
}

json_t *nt_config_array(const nt_config_t *cfg, const char *path)
{
        key_must(path, NT_CONFIG_ARRAY);
        return get_value(cfg, path);
}

json_t *nt_config_kafka(const nt_config_t *cfg)
{
        return cfg->kafka;
}

json_t *nt_config_dump(const nt_config_t *cfg, bool redact)
{
        json_t *out = json_deep_copy(cfg->root);
        json_t *kafka = json_deep_copy(cfg->kafka);
        const char *name;
        json_t *v;

        if (!out || !kafka) {
                json_decref(out);
                json_decref(kafka);
                return NULL;
        }
        if (redact) {
                json_object_foreach(kafka, name, v)
                {
                        if (nt_config_is_secret(name))
                                json_object_set_new(kafka, name,
                                                    json_string("[redacted]"));
                }
        }
        json_object_set_new(out, "kafka", kafka);
        return out;
}
