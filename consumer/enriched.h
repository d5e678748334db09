/* The enriched event: what `newstap classify` makes of one input, in the
 * daemon and in --offline mode alike. Builds the event's JSON value with
 * the input article's bytes carried in as they came (validated once, never
 * re-serialised), the lean record each of its labels' topics gets, its
 * CloudEvents 1.0 binary-mode headers, and the headers of a dead letter
 * for an input that cannot become an event. docs/schema/ holds both
 * values' JSON Schemas. */
#ifndef NT_ENRICHED_H
#define NT_ENRICHED_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/config.h"
#include "consumer/classify.h"

#define NT_ENRICHED_SCHEMA       "newstap.enriched/1"
#define NT_ENRICHED_LABEL_SCHEMA "newstap.label/1"
#define NT_ENRICHED_CE_TYPE      "org.newstap.article.classified"
#define NT_ENRICHED_CE_SOURCE    "newstap/classify"
#define NT_ENRICHED_CONTENT_TYPE "application/json"

/* Evidence spans a label carries, in the event and in its label record:
 * the best of them (see nt_enriched_build()); "evidence_total" counts
 * them all, and the score counts them all. */
#define NT_ENRICHED_MAX_EVIDENCE 3
/* Characters of the field's text on each side of a span ("before",
 * "after") in a label record, which carries no body to cut them from. */
#define NT_ENRICHED_CONTEXT 60
/* Bytes of the lead a label record carries at most: longer leads are cut
 * at a word and end in "…". */
#define NT_ENRICHED_LEAD_MAX 300

/* What the input topic carries: newstap articles, or someone else's JSON
 * whose fields are found through the configured paths. */
enum nt_enriched_input {
        NT_ENRICHED_INPUT_ARTICLE = 0,
        NT_ENRICHED_INPUT_MAPPED = 1,
};

/* The fields a mapping names (consumer.map.<name>). */
enum nt_enriched_map_field {
        NT_MAP_TITLE = 0,
        NT_MAP_SUMMARY = 1,
        NT_MAP_BODY = 2,
        NT_MAP_URL = 3,
        NT_MAP_PUBLISHED = 4,
        NT_MAP_ID = 5,
        NT_MAP_COUNT = 6,
};

/* "title", "summary", "body", "url", "published", "id". Static. */
const char *nt_enriched_map_name(enum nt_enriched_map_field f);

/* How inputs are read; the same for every input of a run. */
struct nt_enriched_opts {
        enum nt_enriched_input input;
        /* Dot paths ("data.headline", "items.0.url") of the mapped fields;
         * "" when not mapped. Used with NT_ENRICHED_INPUT_MAPPED only. */
        char map[NT_MAP_COUNT][128];
        size_t max_message; /* larger inputs are refused as too_large */
        bool classify;      /* false: events without labels (benchmarks) */
        bool label_records; /* false: the event only (--offline) */
};

/* Article input, 1 MiB, classification and label records on. */
void nt_enriched_opts_init(struct nt_enriched_opts *o);

/* Reads consumer.input, consumer.map.*, consumer.max_message and
 * consumer.classify. NT_ERR_CONFIG when a mapped input maps no text field
 * or a path is too long. */
int nt_enriched_opts_from_config(struct nt_enriched_opts *o,
                                 const nt_config_t *cfg, char *errstr,
                                 size_t errstr_size);

/* Why an input did not become an event: the value of the dead letter's
 * nt_error header. */
enum nt_enriched_reason {
        NT_ENRICHED_OK = 0,
        NT_ENRICHED_TOO_LARGE = 1,       /* "too_large": past max_message */
        NT_ENRICHED_NOT_JSON = 2,        /* "not_json" */
        NT_ENRICHED_NOT_ARTICLE = 3,     /* "not_article": no article in it */
        NT_ENRICHED_UNCLASSIFIABLE = 4,  /* "unclassifiable": e.g. too long */
        NT_ENRICHED_OUTPUT_REJECTED = 5, /* "output_rejected": the event
                                            could not be written */
};

/* The reason's header value, as above. Static. */
const char *nt_enriched_reason_name(enum nt_enriched_reason r);

/* One built event, reused from input to input. */
struct nt_enriched_event {
        enum nt_enriched_reason reason; /* NT_ENRICHED_OK: value is set */
        char error[256];                /* otherwise: what was wrong */
        char id[33];                    /* the article id: the Kafka key */
        char classified_at[32];         /* RFC 3339 UTC: also ce_time */
        struct nt_buf value;            /* the event's JSON (one line) */
        /* The topic ids of the labels, in the order of "labels". Borrowed
         * from the classifier's rules: valid while it lives. */
        const char **labels;
        size_t n_labels;
        size_t cap_labels;
        /* The label records, one per label (see nt_enriched_label()). */
        struct nt_buf label_value;
        size_t *label_off, *label_len;
};

/* An empty event whose value may grow to max_value bytes. */
void nt_enriched_event_init(struct nt_enriched_event *ev, size_t max_value);

/* Frees what the event holds. NULL-safe. */
void nt_enriched_event_free(struct nt_enriched_event *ev);

/* Judges one input and, when it is good, builds its event:
 *   {"schema":"newstap.enriched/1","article":<the input article>,
 *    "labels":[..],"entities":[..],"facts":[..],"language":"en",
 *    "fingerprint":"<16 hex>","rules_version":"<16 hex>",
 *    "classified_at":"<RFC 3339>"}
 * and one label record per label:
 *   {"schema":"newstap.label/1","topic":"<its label>","article":{id,
 *    revision, url, title, published, language, feed {url, title}, lead},
 *    "labels":[..],"entities":[..],"language":..,"fingerprint":..,
 *    "rules_version":..,"classified_at":..}
 * where the record's own label carries its evidence, each span with
 * NT_ENRICHED_CONTEXT characters "before" and "after" it, and the
 * article's other labels only topic, label and score.
 * With article input, "article" holds the input's bytes (surrounding white
 * space trimmed) exactly; with mapped input, the article built from the
 * mapped fields. The classifier reads title, lead and body: the lead is
 * the summary or, when there is none, the first paragraph of the content
 * (which then leaves the body); evidence offsets are bytes into the
 * article's title, summary or content. Each label keeps its best
 * NT_ENRICHED_MAX_EVIDENCE spans, in text order: spans of terms not yet
 * kept (at places not yet kept) before repeats of one, then those in the
 * field the topic weighs most, then the earliest. `now_ms` becomes
 * classified_at. Returns 0 when the input was judged (ev->reason says how),
 * NT_ERR_NOMEM when memory ran out (the input may be tried again). */
int nt_enriched_build(nt_classifier_t *c, const struct nt_enriched_opts *o,
                      const char *value, size_t len, int64_t now_ms,
                      struct nt_enriched_event *ev);

/* Label record i (i < ev->n_labels), for the topic of ev->labels[i];
 * empty when the options said no label records. Borrowed from the
 * event: valid until its next build. */
void nt_enriched_label(const struct nt_enriched_event *ev, size_t i,
                       const char **value, size_t *len);

/* Where an input came from. */
struct nt_enriched_origin {
        const char *topic;
        int32_t partition;
        int64_t offset;
};

/* The CloudEvents attribute "ce_id" of an input:
 * "<topic>/<partition>/<offset>", the same on every attempt. */
void nt_enriched_ce_id(const struct nt_enriched_origin *origin, char *buf,
                       size_t size);

/* The headers of an event: content-type, ce_specversion "1.0", ce_id,
 * ce_source (`source`), ce_type, ce_time (= classified_at), ce_subject
 * (the article id). Caller owns the result (rd_kafka_producev() takes
 * it on success); NULL when out of memory. */
rd_kafka_headers_t *
nt_enriched_headers(const struct nt_enriched_event *ev, const char *source,
                    const struct nt_enriched_origin *origin);

/* The headers of a dead letter: nt_error (the reason's name),
 * nt_error_message, nt_origin_topic, nt_origin_partition,
 * nt_origin_offset, and nt_origin_size plus nt_truncated "true" when the
 * value carried is only the first part of the input. Caller owns the
 * result; NULL when out of memory. */
rd_kafka_headers_t *
nt_enriched_dlq_headers(enum nt_enriched_reason reason, const char *message,
                        const struct nt_enriched_origin *origin, size_t size,
                        bool truncated);

#endif
