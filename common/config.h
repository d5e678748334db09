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
 * json_decref). With `redact`, secrets such as sasl.password are shown
 * as "[redacted]". */
json_t *nt_config_dump(const nt_config_t *cfg, bool redact);

/* True for librdkafka property names that hold secrets. */
bool nt_config_is_secret(const char *name);

#endif
