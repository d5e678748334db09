/* Configuration: one JSON file with the sections kafka, topics, producer,
 * consumer, log and metrics, layered as built-in defaults < file <
 * environment (NEWSTAP_...) < command line (-X for librdkafka). Every key
 * is declared once in a table (config.c) with its type, default and help;
 * the table drives validation, `config dump` and the docs drift test. */
#ifndef NT_CONFIG_H
#define NT_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef struct nt_config nt_config_t;

enum nt_config_type {
        NT_CONFIG_STRING,
        NT_CONFIG_INT,
        NT_CONFIG_BOOL,
        NT_CONFIG_DURATION, /* number in `unit_ms` units, or "30s", "1h" */
        NT_CONFIG_SIZE,     /* number of bytes, or "32MiB" */
        NT_CONFIG_ENUM,     /* one of `choices` ("a|b|c") */
        NT_CONFIG_ARRAY,    /* a JSON array, validated by the module using it */
};

struct nt_config_key {
        const char *path; /* "topics.raw" */
        enum nt_config_type type;
        const char *def;     /* default, written as an environment value */
        int64_t min, max;    /* INT, DURATION (ms), SIZE (bytes) */
        int64_t unit_ms;     /* DURATION: unit of a bare number */
        const char *choices; /* ENUM */
        const char *help;    /* one line, for `config dump --keys` */
};

/* The table of every key. Static. */
const struct nt_config_key *nt_config_keys(size_t *count);

/* The environment variable for a key: NEWSTAP_ + path upper-cased with
 * dots as underscores (topics.raw -> NEWSTAP_TOPICS_RAW). */
void nt_config_env_name(const char *path, char *buf, size_t size);

/* A configuration holding the built-in defaults. Caller frees with
 * nt_config_destroy(). NULL when out of memory. */
nt_config_t *nt_config_new(void);
void nt_config_destroy(nt_config_t *cfg);

/* The errors of one run, so that a file with four mistakes is fixed in
 * one go: one "ORIGIN: key: reason" line each (ORIGIN is the file,
 * "environment NEWSTAP_X" or "-X"), in the order found. Caller-owned:
 * nt_config_report_init() / nt_config_report_free(). */
struct nt_config_report {
        struct nt_buf text; /* the lines, each ending in '\n' */
        size_t n;           /* errors found (also those past the text cap) */
};

void nt_config_report_init(struct nt_config_report *r);
void nt_config_report_free(struct nt_config_report *r);
void nt_config_report_add(struct nt_config_report *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The report's lines joined by `sep` into errstr. NT_OK when it holds no
 * error, else NT_ERR_CONFIG. */
int nt_config_report_errstr(const struct nt_config_report *r, const char *sep,
                            char *errstr, size_t errstr_size);

/* Layers a JSON file over what is set, reporting every bad key and
 * value in `r` and keeping the good ones. NT_ERR_CONFIG when it added
 * an error. */
int nt_config_load_file_all(nt_config_t *cfg, const char *path,
                            struct nt_config_report *r);

/* The same for the NEWSTAP_* variables (see nt_config_load_env()). */
int nt_config_load_env_all(nt_config_t *cfg, char *const *envp,
                           struct nt_config_report *r);

/* The checks that look inside values and across keys, after every layer
 * is in: each element of producer.feeds (members, http(s) URL, interval
 * not below producer.min_interval, no URL twice), producer.interval not
 * below producer.min_interval, metrics.listen as HOST:PORT. Every command
 * runs it through nt_cli_load_config(), `config check` included, so that
 * check and the daemons refuse the same files with the same lines.
 * NT_ERR_CONFIG when it added an error. */
int nt_config_validate(const nt_config_t *cfg, struct nt_config_report *r);

/* The checks of a producer.feeds array alone; lines start with
 * "ORIGIN: " unless `origin` is NULL. Returns the number of errors
 * added. */
size_t nt_config_check_feeds(const json_t *feeds, const char *origin,
                             int64_t min_interval_ms,
                             struct nt_config_report *r);

/* The members an element of producer.feeds may have ("url", "name",
 * ...), for the docs drift test. Static. */
const char *const *nt_config_feed_members(size_t *count);

/* A feed's interval: seconds as a JSON integer, or a duration string.
 * NT_OK with *ms, or NT_ERR_CONFIG. */
int nt_config_feed_interval(const json_t *v, int64_t *ms);

/* Where an article's text comes from (a feed's "content",
 * producer.content): the feed entry, the linked page, or the page when
 * the entry's text is shorter than producer.content_min_chars. */
enum nt_content_mode {
        NT_CONTENT_DEFAULT = 0, /* a feed without "content" */
        NT_CONTENT_FEED,
        NT_CONTENT_PAGE,
        NT_CONTENT_AUTO,
};

/* A "content" value ("feed", "page", "auto") as its mode, or -1. */
int nt_config_feed_content(const json_t *v);

/* Parses metrics.listen: "HOST:PORT" with an IPv4 address or
 * "localhost" and a port 0..65535 (a bare port is refused). NT_OK, or
 * NT_ERR_CONFIG with the reason (without the key) in errstr. */
int nt_config_parse_listen(const char *listen, char *host, size_t host_size,
                           unsigned *port, char *errstr, size_t errstr_size);

/* Where a key's value came from: a file path, "environment NEWSTAP_X",
 * "default". Borrowed; valid while cfg lives. */
const char *nt_config_origin(const nt_config_t *cfg, const char *path);

/* Layers a JSON file over what is set. Errors name the file and the key:
 * "newstap.json: topics.rww: unknown key". NT_ERR_CONFIG or NT_ERR_IO. */
int nt_config_load_file(nt_config_t *cfg, const char *path, char *errstr,
                        size_t errstr_size);

/* Layers the NEWSTAP_* variables of envp (NULL-terminated "K=V" strings)
 * over what is set. NEWSTAP_KAFKA_<NAME> sets the librdkafka property
 * <name> with underscores as dots (NEWSTAP_KAFKA_BOOTSTRAP_SERVERS).
 * NEWSTAP_CONFIG names the file and is skipped here. Any other NEWSTAP_
 * variable that names no key is an error, so typos do not pass silently. */
int nt_config_load_env(nt_config_t *cfg, char *const *envp, char *errstr,
                       size_t errstr_size);

/* Sets one key from its text form (as in the environment); `origin` names
 * where the value came from, for the error message. */
int nt_config_set(nt_config_t *cfg, const char *path, const char *value,
                  const char *origin, char *errstr, size_t errstr_size);

/* Sets one librdkafka property; librdkafka validates it at once and its
 * own message is reported on rejection. */
int nt_config_set_kafka(nt_config_t *cfg, const char *name, const char *value,
                        const char *origin, char *errstr, size_t errstr_size);

/* Applies "key=value" as given to -X. */
int nt_config_set_kafka_kv(nt_config_t *cfg, const char *kv, const char *origin,
                           char *errstr, size_t errstr_size);

/* Typed getters. The path must be a key of the table with that type (a
 * programming error aborts). Strings are borrowed, valid until the key is
 * set again or the config destroyed; NULL when the key has no value. */
const char *nt_config_str(const nt_config_t *cfg, const char *path);
int64_t nt_config_int(const nt_config_t *cfg, const char *path);
bool nt_config_bool(const nt_config_t *cfg, const char *path);
/* DURATION in milliseconds; SIZE in bytes. */
int64_t nt_config_ms(const nt_config_t *cfg, const char *path);
int64_t nt_config_bytes(const nt_config_t *cfg, const char *path);
/* ARRAY: borrowed. */
json_t *nt_config_array(const nt_config_t *cfg, const char *path);

/* The librdkafka properties, an object of strings. Borrowed. */
json_t *nt_config_kafka(const nt_config_t *cfg);

/* The effective configuration as one JSON object (caller frees with
 * json_decref). With `redact`, secrets are shown as "[redacted]":
 * librdkafka properties such as sasl.password, the value of every feed
 * header, and the userinfo of feed URLs (https://[redacted]@host/). */
json_t *nt_config_dump(const nt_config_t *cfg, bool redact);

/* True for librdkafka property names that hold secrets. */
bool nt_config_is_secret(const char *name);

#endif
