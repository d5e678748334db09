#include "common/config.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/num.h"
#include "common/secret.h"
#include "common/url.h"

#include <librdkafka/rdkafka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTIONS "kafka, topics, producer, consumer, log, metrics"
#define REDACTED "[redacted]"

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
    {"topics.feeds", NT_CONFIG_STRING, "news.feeds", 0, 0, 0, NULL,
     "compacted topic of the feed list, managed by newstap feeds"},
    {"topics.feeds_state", NT_CONFIG_STRING, "news.feeds.state", 0, 0, 0, NULL,
     "compacted topic of each feed's state, co-partitioned with "
     "topics.feeds"},
    {"producer.feeds", NT_CONFIG_ARRAY, "[]", 0, 0, 0, NULL,
     "feeds to poll: [{url, name, interval, tags, headers, content}]"},
    {"producer.feeds_partitions", NT_CONFIG_INT, "6", 1, 10000, 0, NULL,
     "partitions of topics.feeds when newstap feeds creates it"},
    {"producer.state_dir", NT_CONFIG_STRING, "state", 0, 0, 0, NULL,
     "directory of the per-feed state files"},
    {"producer.interval", NT_CONFIG_DURATION, "15m", 1000, 86400000LL * 7, 1000,
     NULL, "default poll interval of a feed"},
    {"producer.min_interval", NT_CONFIG_DURATION, "1m", 1000, 86400000, 1000,
     NULL, "shortest poll interval accepted (producer.interval, feeds)"},
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
    {"producer.content", NT_CONFIG_ENUM, "feed", 0, 0, 0, "feed|page|auto",
     "article text of feeds that set no content: the feed's, the page's, "
     "or the page's when the feed's is short"},
    {"producer.content_min_chars", NT_CONFIG_INT, "400", 0, 1000000, 0, NULL,
     "content auto: the page is fetched when the entry's text is shorter"},
    {"producer.page_timeout", NT_CONFIG_DURATION, "0", 0, 3600000, 1000, NULL,
     "time limit of one article page's transfer (0: producer.timeout)"},
    {"producer.robots_origins", NT_CONFIG_INT, "10000", 1, 1000000, 0, NULL,
     "origins whose robots.txt is kept in memory; the least recently "
     "used is forgotten first"},
    {"producer.page_cache_bytes", NT_CONFIG_SIZE, "32MiB", 0, 1LL << 40, 0,
     NULL,
     "memory for the validators and text of fetched pages, for conditional "
     "GET of a page fetched again; the least recently used is forgotten "
     "first (0: none kept)"},
    {"producer.compression", NT_CONFIG_ENUM, "zstd", 0, 0, 0,
     "none|gzip|snappy|lz4|zstd",
     "compression of raw articles (kafka compression.type wins)"},
    {"producer.coordination", NT_CONFIG_ENUM, "file", 0, 0, 0, "file|kafka",
     "file: this instance polls producer.feeds with state in state_dir; "
     "kafka: instances of producer.group share topics.feeds"},
    {"producer.group", NT_CONFIG_STRING, "", 0, 0, 0, NULL,
     "coordination kafka: the consumer group the instances share"},
    {"producer.instance", NT_CONFIG_STRING, "", 0, 0, 0, NULL,
     "coordination kafka: this instance's id; empty: the host name"},
    {"producer.txn_ms", NT_CONFIG_DURATION, "250ms", 1, 30000, 1, NULL,
     "coordination kafka: time a transaction of polls stays open at most"},
    {"consumer.rules", NT_CONFIG_STRING, "config/rules", 0, 0, 0, NULL,
     "rule files of classify: a directory (its *.rules) or one file"},
    {"consumer.group_id", NT_CONFIG_STRING, "newstap-classify", 0, 0, 0, NULL,
     "consumer group of the classifier instances"},
    {"consumer.delivery", NT_CONFIG_ENUM, "exactly_once", 0, 0, 0,
     "exactly_once|at_least_once",
     "Kafka transactions, or idempotent writes and late offset commits"},
    {"consumer.transactional_id", NT_CONFIG_STRING, "", 0, 0, 0, NULL,
     "transactional.id of this instance; empty: newstap-classify-<host>"},
    {"consumer.batch_max", NT_CONFIG_INT, "2000", 1, 100000, 0, NULL,
     "inputs per transaction (batch) at most"},
    {"consumer.batch_ms", NT_CONFIG_DURATION, "500ms", 1, 30000, 1, NULL,
     "time a transaction (batch) stays open at most"},
    {"consumer.max_message", NT_CONFIG_SIZE, "1MiB", 1024, 1LL << 30, 0, NULL,
     "largest input; larger ones go to the dead-letter topic"},
    {"consumer.label_partitions", NT_CONFIG_INT, "1", 1, 10000, 0, NULL,
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
    {"consumer.threads", NT_CONFIG_INT, "2", 0, 64, 0, NULL,
     "threads building events ahead of the loop (0: the loop builds them)"},
    {"consumer.ce_source", NT_CONFIG_STRING, "newstap/classify", 0, 0, 0, NULL,
     "CloudEvents source attribute (ce_source) of the events"},
    {"consumer.compression", NT_CONFIG_ENUM, "zstd", 0, 0, 0,
     "none|gzip|snappy|lz4|zstd",
     "compression of classify's outputs (kafka compression.type wins)"},
    {"consumer.shutdown_timeout", NT_CONFIG_DURATION, "10s", 0, 600000, 1000,
     NULL, "how long SIGTERM waits to commit or abort the open batch"},
    {"metrics.enabled", NT_CONFIG_ENUM, "auto", 0, 0, 0, "auto|on|off",
     "HTTP /metrics, /healthz, /readyz: auto = on for the daemons"},
    {"metrics.listen", NT_CONFIG_STRING, "", 0, 0, 0, NULL,
     "HOST:PORT of the endpoint; empty: 127.0.0.1:9464 (produce), "
     "127.0.0.1:9465 (classify)"},
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
        json_t *origins;        /* key -> where its value came from */
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

static int put_value(nt_config_t *cfg, const char *path, json_t *value,
                     const char *origin)
{
        const char *leaf;
        json_t *sec = section_of(cfg->root, path, &leaf);

        if (!sec || json_object_set_new(sec, leaf, value) != 0 ||
            json_object_set_new(cfg->origins, path, json_string(origin)) != 0)
                return NT_ERR_NOMEM;
        return NT_OK;
}

const char *nt_config_origin(const nt_config_t *cfg, const char *path)
{
        const char *o = json_string_value(json_object_get(cfg->origins, path));

        return o ? o : "default";
}

static json_t *get_value(const nt_config_t *cfg, const char *path)
{
        const char *leaf;
        json_t *sec = section_of(cfg->root, path, &leaf);

        return sec ? json_object_get(sec, leaf) : NULL;
}

/* Whether s can name a Kafka topic (what the broker accepts: 1 to 249
 * of [a-zA-Z0-9._-], not "." or ".."), or with prefix, begin one: empty
 * allowed, and room left for at least one character after it. */
static bool topic_name_ok(const char *s, bool prefix)
{
        size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

        if (s[n] != '\0')
                return false;
        if (prefix)
                return n <= 248;
        return n >= 1 && n <= 249 && strcmp(s, ".") != 0 &&
               strcmp(s, "..") != 0;
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
                if (strncmp(k->path, "topics.", 7) == 0 &&
                    !topic_name_ok(s,
                                   strcmp(k->path, "topics.label_prefix") == 0))
                        FAIL("%s: %s: \"%s\" cannot name a Kafka topic "
                             "(a-z A-Z 0-9 '.' '_' '-' only; 1 to 249 "
                             "characters, a prefix at most 248; not \".\" "
                             "or \"..\")",
                             origin, k->path, s);
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
        return put_value(cfg, path, v, origin);
}

nt_config_t *nt_config_new(void)
{
        nt_config_t *cfg = calloc(1, sizeof(*cfg));
        size_t i;

        if (!cfg)
                return NULL;
        cfg->root = json_object();
        cfg->kafka = json_object();
        cfg->origins = json_object();
        cfg->probe = rd_kafka_conf_new();
        if (!cfg->root || !cfg->kafka || !cfg->origins || !cfg->probe)
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
        json_decref(cfg->origins);
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

/* ---- Reports: every error of a run, one line each ------------------ */

#define REPORT_MAX ((size_t)64 << 10)

void nt_config_report_init(struct nt_config_report *r)
{
        nt_buf_init(&r->text, REPORT_MAX);
        r->n = 0;
}

void nt_config_report_free(struct nt_config_report *r)
{
        nt_buf_free(&r->text);
        r->n = 0;
}

void nt_config_report_add(struct nt_config_report *r, const char *fmt, ...)
{
        struct nt_buf line;
        va_list ap;

        /* Past REPORT_MAX the error is still counted, so the caller's
         * verdict and count stay right; only its text is dropped. */
        r->n++;
        nt_buf_init(&line, REPORT_MAX);
        va_start(ap, fmt);
        nt_buf_vprintf(&line, fmt, ap);
        va_end(ap);
        if (nt_buf_append_str(&r->text, nt_buf_str(&line)) == NT_OK)
                nt_buf_append_char(&r->text, '\n');
        nt_buf_free(&line);
}

int nt_config_report_errstr(const struct nt_config_report *r, const char *sep,
                            char *errstr, size_t errstr_size)
{
        const char *text = nt_buf_str(&r->text), *nl;
        struct nt_buf joined;

        if (r->n == 0)
                return NT_OK;
        nt_buf_init(&joined, REPORT_MAX);
        while ((nl = strchr(text, '\n')) != NULL) {
                if (joined.len > 0)
                        nt_buf_append_str(&joined, sep);
                nt_buf_append(&joined, text, (size_t)(nl - text));
                text = nl + 1;
        }
        nt_errf(errstr, errstr_size, NT_ERR_CONFIG, "%s", nt_buf_str(&joined));
        nt_buf_free(&joined);
        return NT_ERR_CONFIG;
}

/* ---- Loading --------------------------------------------------------- */

static void load_kafka_section(nt_config_t *cfg, json_t *obj, const char *file,
                               struct nt_config_report *r)
{
        const char *name;
        json_t *v;
        char text[4096], errstr[1024];

        json_object_foreach(obj, name, v)
        {
                if (kafka_value_text(v, text, sizeof(text)) != NT_OK) {
                        nt_config_report_add(r,
                                             "%s: kafka.%s: expected a "
                                             "string, number or boolean",
                                             file, name);
                        continue;
                }
                if (nt_config_set_kafka(cfg, name, text, file, errstr,
                                        sizeof(errstr)))
                        nt_config_report_add(r, "%s", errstr);
        }
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
 * top). Objects recurse while some key of the table lies below them.
 * Every bad key is reported and the walk goes on, so that one run shows
 * every mistake. */
static void load_object(nt_config_t *cfg, json_t *obj, const char *prefix,
                        const char *file, struct nt_config_report *r)
{
        const char *name;
        json_t *v;
        char path[256], errstr[1024];

        json_object_foreach(obj, name, v)
        {
                const struct nt_config_key *k;
                json_t *checked;

                snprintf(path, sizeof(path), "%s%s%s", prefix,
                         *prefix ? "." : "", name);
                if (!*prefix) {
                        if (!json_object_get(cfg->root, name))
                                nt_config_report_add(
                                    r,
                                    "%s: %s: unknown section (expected one "
                                    "of %s)",
                                    file, name, SECTIONS);
                        else if (!json_is_object(v))
                                nt_config_report_add(
                                    r, "%s: %s: expected an object", file,
                                    name);
                        else if (strcmp(name, "kafka") == 0)
                                load_kafka_section(cfg, v, file, r);
                        else
                                load_object(cfg, v, name, file, r);
                        continue;
                }
                k = key_find(path);
                if (!k && json_is_object(v) && group_exists(path)) {
                        /* A group of keys ("consumer.map": {...}). */
                        load_object(cfg, v, path, file, r);
                        continue;
                }
                if (!k) {
                        nt_config_report_add(r, "%s: %s: unknown key", file,
                                             path);
                        continue;
                }
                checked =
                    check_value(k, v, false, file, errstr, sizeof(errstr));
                if (!checked) {
                        nt_config_report_add(r, "%s", errstr);
                        continue;
                }
                if (put_value(cfg, path, checked, file) != NT_OK)
                        nt_config_report_add(r, "%s: %s: out of memory", file,
                                             path);
        }
}

int nt_config_load_file_all(nt_config_t *cfg, const char *path,
                            struct nt_config_report *r)
{
        size_t before = r->n;
        json_error_t jerr;
        json_t *root;

        root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
                /* jansson reports a missing file as a parse error at line
                 * -1; say which it is. */
                if (jerr.line < 0)
                        nt_config_report_add(r, "%s: %s", path, jerr.text);
                else
                        nt_config_report_add(r, "%s:%d:%d: %s", path, jerr.line,
                                             jerr.column, jerr.text);
                return NT_ERR_CONFIG;
        }
        if (!json_is_object(root))
                nt_config_report_add(r, "%s: expected a JSON object at the top",
                                     path);
        else
                load_object(cfg, root, "", path, r);
        json_decref(root);
        return r->n > before ? NT_ERR_CONFIG : NT_OK;
}

/* The one-message form of a loader that reports every error: its lines
 * in errstr, one a line; frees the report. */
static int report_lines(struct nt_config_report *r, char *errstr,
                        size_t errstr_size)
{
        int err = nt_config_report_errstr(r, "\n", errstr, errstr_size);

        nt_config_report_free(r);
        return err;
}

int nt_config_load_file(nt_config_t *cfg, const char *path, char *errstr,
                        size_t errstr_size)
{
        struct nt_config_report r;

        nt_config_report_init(&r);
        nt_config_load_file_all(cfg, path, &r);
        return report_lines(&r, errstr, errstr_size);
}

int nt_config_load_env_all(nt_config_t *cfg, char *const *envp,
                           struct nt_config_report *r)
{
        static const char kafka_prefix[] = "NEWSTAP_KAFKA_";
        char name[256], env[256], origin[300], errstr[1024];
        size_t i, k, nkeys, before = r->n;

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
                        if (nt_config_set_kafka(cfg, prop, eq + 1, origin,
                                                errstr, sizeof(errstr)))
                                nt_config_report_add(r, "%s", errstr);
                        continue;
                }
                for (k = 0; k < nkeys; k++) {
                        nt_config_env_name(config_keys[k].path, env,
                                           sizeof(env));
                        if (strcmp(env, name) == 0)
                                break;
                }
                if (k == nkeys) {
                        nt_config_report_add(r,
                                             "%s: no such configuration key "
                                             "(see docs/configuration.md)",
                                             origin);
                        continue;
                }
                if (nt_config_set(cfg, config_keys[k].path, eq + 1, origin,
                                  errstr, sizeof(errstr)))
                        nt_config_report_add(r, "%s", errstr);
        }
        return r->n > before ? NT_ERR_CONFIG : NT_OK;
}

int nt_config_load_env(nt_config_t *cfg, char *const *envp, char *errstr,
                       size_t errstr_size)
{
        struct nt_config_report r;

        nt_config_report_init(&r);
        nt_config_load_env_all(cfg, envp, &r);
        return report_lines(&r, errstr, errstr_size);
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

/* ---- Checks across keys: the one validator ---------------------------- */

int nt_config_parse_listen(const char *listen, char *host, size_t host_size,
                           unsigned *port, char *errstr, size_t errstr_size)
{
        const char *colon = listen ? strrchr(listen, ':') : NULL;
        struct in_addr addr;
        int64_t p;
        size_t n;

        /* A bare port is refused rather than guessed at: "19484" could
         * mean loopback or every interface, and the endpoint has no
         * authentication. */
        if (!colon || colon == listen)
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "\"%s\" is not HOST:PORT (e.g. "
                               "127.0.0.1:%s)",
                               listen ? listen : "",
                               colon ? colon + 1 : (listen ? listen : ""));
        n = (size_t)(colon - listen);
        if (n >= host_size)
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "\"%s\": host name too long", listen);
        if (nt_num_parse_i64(colon + 1, 0, 65535, &p) != NT_OK)
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "\"%s\": the port is not a number 0..65535",
                               listen);
        memcpy(host, listen, n);
        host[n] = '\0';
        if (strcmp(host, "localhost") != 0 &&
            inet_pton(AF_INET, host, &addr) != 1)
                return nt_errf(errstr, errstr_size, NT_ERR_CONFIG,
                               "\"%s\": \"%s\" is not an IPv4 address or "
                               "localhost",
                               listen, host);
        *port = (unsigned)p;
        return NT_OK;
}

int nt_config_feed_interval(const json_t *v, int64_t *ms)
{
        if (json_is_integer(v) && json_integer_value(v) > 0 &&
            json_integer_value(v) < 86400 * 365) {
                *ms = json_integer_value(v) * 1000;
                return NT_OK;
        }
        if (json_is_string(v) &&
            nt_num_parse_duration_ms(json_string_value(v), 1000, ms) == NT_OK &&
            *ms > 0)
                return NT_OK;
        return NT_ERR_CONFIG;
}

int nt_config_feed_content(const json_t *v)
{
        /* NT_CONTENT_DEFAULT has no name: it is a feed without one. */
        static const char *const names[] = {
            [NT_CONTENT_FEED] = "feed",
            [NT_CONTENT_PAGE] = "page",
            [NT_CONTENT_AUTO] = "auto",
        };

        return (int)nt_name_find(names, NT_COUNT_OF(names),
                                 json_string_value(v));
}

static const char *const feed_members[] = {"url",  "name",    "interval",
                                           "tags", "headers", "content"};

const char *const *nt_config_feed_members(size_t *count)
{
        *count = sizeof(feed_members) / sizeof(feed_members[0]);
        return feed_members;
}

/* One header: a token as its name, a one-line value. */
static bool header_ok(const char *name, const json_t *v)
{
        const char *p;

        if (!*name || !json_is_string(v) ||
            strpbrk(json_string_value(v), "\r\n"))
                return false;
        for (p = name; *p; p++)
                if (*p <= ' ' || *p == ':' || *p == 0x7f)
                        return false;
        return true;
}

/* Prefix of a line: "FILE: " or nothing. */
#define AT(origin) (origin) ? (origin) : "", (origin) ? ": " : ""

static void check_feed(const json_t *item, size_t i, const char *origin,
                       int64_t min_interval_ms, json_t *seen,
                       struct nt_config_report *r)
{
        const char *key, *url;
        const json_t *v;
        char errstr[512];
        int64_t ms;
        size_t j;

        if (!json_is_object(item)) {
                nt_config_report_add(r,
                                     "%s%sproducer.feeds[%zu]: expected "
                                     "an object",
                                     AT(origin), i);
                return;
        }
        json_object_foreach((json_t *)item, key, v)
        {
                for (j = 0; j < sizeof(feed_members) / sizeof(feed_members[0]);
                     j++)
                        if (strcmp(key, feed_members[j]) == 0)
                                break;
                if (j == sizeof(feed_members) / sizeof(feed_members[0]))
                        nt_config_report_add(
                            r,
                            "%s%sproducer.feeds[%zu].%s: unknown key "
                            "(expected url, name, interval, tags, headers, "
                            "content)",
                            AT(origin), i, key);
        }
        url = json_string_value(json_object_get(item, "url"));
        if (!url) {
                nt_config_report_add(r,
                                     "%s%sproducer.feeds[%zu].url: expected "
                                     "an http or https URL",
                                     AT(origin), i);
        } else if (nt_secret_check(url, errstr, sizeof(errstr)) != NT_OK) {
                nt_config_report_add(r, "%s%sproducer.feeds[%zu].url: %s",
                                     AT(origin), i, errstr);
        } else {
                char *plain = nt_url_without_userinfo(url, NULL);
                char *canon = plain && nt_url_is_http(plain)
                                  ? nt_url_canonical(plain)
                                  : NULL;
                const json_t *first;

                if (!canon)
                        nt_config_report_add(
                            r,
                            "%s%sproducer.feeds[%zu].url: \"%s\" is not an "
                            "http or https URL",
                            AT(origin), i, plain ? plain : "");
                else if ((first = json_object_get(seen, canon)) != NULL)
                        nt_config_report_add(
                            r,
                            "%s%sproducer.feeds[%zu].url: %s is listed twice "
                            "(also producer.feeds[%lld])",
                            AT(origin), i, plain ? plain : "",
                            (long long)json_integer_value(first));
                else
                        json_object_set_new(seen, canon,
                                            json_integer((json_int_t)i));
                free(canon);
                free(plain);
        }
        v = json_object_get(item, "name");
        if (v && !json_is_string(v))
                nt_config_report_add(r,
                                     "%s%sproducer.feeds[%zu].name: expected "
                                     "a string",
                                     AT(origin), i);
        v = json_object_get(item, "interval");
        if (v && nt_config_feed_interval(v, &ms) != NT_OK)
                nt_config_report_add(r,
                                     "%s%sproducer.feeds[%zu].interval: "
                                     "expected a duration (e.g. 300, \"15m\")",
                                     AT(origin), i);
        else if (v && ms < min_interval_ms)
                nt_config_report_add(
                    r,
                    "%s%sproducer.feeds[%zu].interval: %lld s is below "
                    "producer.min_interval (%lld s); lower that to poll this "
                    "often",
                    AT(origin), i, (long long)(ms / 1000),
                    (long long)(min_interval_ms / 1000));
        v = json_object_get(item, "content");
        if (v && nt_config_feed_content(v) < 0)
                nt_config_report_add(r,
                                     "%s%sproducer.feeds[%zu].content: "
                                     "expected \"feed\", \"page\" or "
                                     "\"auto\"",
                                     AT(origin), i);
        v = json_object_get(item, "tags");
        if (v && !json_is_array(v))
                nt_config_report_add(r,
                                     "%s%sproducer.feeds[%zu].tags: expected "
                                     "an array of strings",
                                     AT(origin), i);
        for (j = 0; json_is_array(v) && j < json_array_size(v); j++)
                if (!json_is_string(json_array_get(v, j)))
                        nt_config_report_add(
                            r,
                            "%s%sproducer.feeds[%zu].tags[%zu]: expected a "
                            "string",
                            AT(origin), i, j);
        v = json_object_get(item, "headers");
        if (v && !json_is_object(v)) {
                nt_config_report_add(r,
                                     "%s%sproducer.feeds[%zu].headers: "
                                     "expected an object of strings",
                                     AT(origin), i);
        } else if (v) {
                const json_t *hv;

                json_object_foreach((json_t *)v, key, hv)
                {
                        if (!header_ok(key, hv))
                                nt_config_report_add(
                                    r,
                                    "%s%sproducer.feeds[%zu].headers.%s: "
                                    "expected a header name and a one-line "
                                    "string",
                                    AT(origin), i, key);
                        else if (nt_secret_check(json_string_value(hv), errstr,
                                                 sizeof(errstr)) != NT_OK)
                                nt_config_report_add(
                                    r, "%s%sproducer.feeds[%zu].headers.%s: %s",
                                    AT(origin), i, key, errstr);
                }
        }
}

size_t nt_config_check_feeds(const json_t *feeds, const char *origin,
                             int64_t min_interval_ms,
                             struct nt_config_report *r)
{
        size_t before = r->n, i;
        const json_t *item;
        json_t *seen;

        if (!feeds)
                return 0;
        if (!json_is_array(feeds)) {
                nt_config_report_add(r, "%s%sproducer.feeds: expected an array",
                                     AT(origin));
                return r->n - before;
        }
        seen = json_object();
        json_array_foreach((json_t *)feeds, i, item)
            check_feed(item, i, origin, min_interval_ms, seen, r);
        json_decref(seen);
        return r->n - before;
}

int nt_config_validate(const nt_config_t *cfg, struct nt_config_report *r)
{
        int64_t floor_ms = nt_config_ms(cfg, "producer.min_interval");
        int64_t interval = nt_config_ms(cfg, "producer.interval");
        const char *listen = nt_config_str(cfg, "metrics.listen");
        size_t before = r->n;
        char host[128], errstr[512];
        unsigned port;

        if (interval < floor_ms)
                nt_config_report_add(
                    r,
                    "%s: producer.interval: %lld s is below "
                    "producer.min_interval (%lld s); lower that to poll this "
                    "often",
                    nt_config_origin(cfg, "producer.interval"),
                    (long long)(interval / 1000), (long long)(floor_ms / 1000));
        nt_config_check_feeds(nt_config_array(cfg, "producer.feeds"),
                              nt_config_origin(cfg, "producer.feeds"), floor_ms,
                              r);
        if (strcmp(nt_config_str(cfg, "topics.feeds_state"),
                   nt_config_str(cfg, "topics.feeds")) == 0)
                nt_config_report_add(
                    r,
                    "%s: topics.feeds_state: %s is also topics.feeds; the "
                    "feeds' states need a topic of their own",
                    nt_config_origin(cfg, "topics.feeds_state"),
                    nt_config_str(cfg, "topics.feeds_state"));
        if (listen && *listen &&
            nt_config_parse_listen(listen, host, sizeof(host), &port, errstr,
                                   sizeof(errstr)) != NT_OK)
                nt_config_report_add(r, "%s: metrics.listen: %s",
                                     nt_config_origin(cfg, "metrics.listen"),
                                     errstr);
        return r->n > before ? NT_ERR_CONFIG : NT_OK;
}

/* The feeds as `config dump` shows them: userinfo and header values
 * masked. */
static void redact_feeds(json_t *feeds)
{
        size_t i;
        json_t *feed, *headers, *hv;
        const char *name;

        json_array_foreach(feeds, i, feed)
        {
                const char *url =
                    json_string_value(json_object_get(feed, "url"));

                if (url) {
                        char *masked = nt_url_without_userinfo(url, REDACTED);
                        if (masked)
                                json_object_set_new(feed, "url",
                                                    json_string(masked));
                        free(masked);
                }
                headers = json_object_get(feed, "headers");
                if (!json_is_object(headers))
                        continue;
                json_object_foreach(headers, name, hv)
                    json_object_set_new(headers, name, json_string(REDACTED));
        }
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
                                                    json_string(REDACTED));
                }
                redact_feeds(
                    json_object_get(json_object_get(out, "producer"), "feeds"));
        }
        json_object_set_new(out, "kafka", kafka);
        return out;
}
