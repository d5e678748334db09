/* tail's reading side: the topics to follow (labels, --all, patterns),
 * where each partition starts (--from-beginning, --since, --offset) and
 * ends (--exit-at-end), a group or a plain assignment, and each record
 * handed to the rendering (consumer/tail_render.c) once even when an
 * article reaches several followed topics. */
#include "consumer/tail.h"
#include "common/buf.h"
#include "common/date.h"
#include "common/err.h"
#include "common/kafka.h"
#include "common/log.h"
#include "common/num.h"
#include "common/sig.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

/* One rendering may not grow past this. */
#define MAX_RENDER ((size_t)64 * 1024 * 1024)
/* Events remembered to print an article once when it reaches several
 * followed topics (direct-mapped: a collision only costs a repeat). */
#define RECENT_SLOTS 65536u
/* Records handled by one nt_tail_poll() at most. */
#define DRAIN_MAX 1000
/* Headers of one record that are looked at. */
#define MAX_HEADERS 64

/* One followed partition: where its end was at the start. */
struct tpart {
        char *topic;
        int32_t partition;
        int64_t end; /* -1: unknown */
        bool done;
};

struct nt_tail {
        const nt_config_t *cfg;
        struct nt_tail_opts o;
        rd_kafka_t *rk;
        char **topics;
        size_t n_topics, cap_topics;
        struct tpart *parts;
        size_t n_parts, cap_parts;
        uint64_t *recent;
        uint64_t n_read, n_emitted;
        struct nt_buf out;
        bool stop;    /* the emit callback asked to stop */
        bool started; /* assignment made (or, in a group, received) */
        int rebalance_err;
        char rebalance_msg[256];
};

void nt_tail_opts_init(struct nt_tail_opts *o)
{
        memset(o, 0, sizeof(*o));
        o->since_ms = INT64_MIN;
        o->start_offset = -1;
        o->min_score = -1;
}

bool nt_tail_start_given(const struct nt_tail_opts *o)
{
        return o->from_beginning || o->from_end || o->last_n > 0 ||
               o->start_offset >= 0 || o->since_ms != INT64_MIN;
}

int nt_tail_parse_start(const char *s, int64_t now_ms, struct nt_tail_opts *o)
{
        bool beginning = false, end = false;
        int64_t last_n = 0, offset = -1, since = INT64_MIN;

        if (strcmp(s, "beginning") == 0) {
                beginning = true;
        } else if (strcmp(s, "end") == 0) {
                end = true;
        } else if (s[0] == '-') {
                if (nt_num_parse_i64(s + 1, 1, INT64_MAX, &last_n))
                        return NT_ERR_INVALID;
        } else if (s[0] == '@' || strncmp(s, "s@", 2) == 0) {
                const char *when = s + (s[0] == '@' ? 1 : 2);

                /* kcat's s@ takes milliseconds since the epoch; a bare
                 * number is never an age. */
                if (nt_num_parse_i64(when, 0, INT64_MAX, &since) &&
                    nt_date_parse_since(when, now_ms, &since))
                        return NT_ERR_INVALID;
        } else if (nt_num_parse_i64(s, 0, INT64_MAX, &offset)) {
                return NT_ERR_INVALID;
        }
        o->from_beginning = beginning;
        o->from_end = end;
        o->last_n = last_n;
        o->start_offset = offset;
        o->since_ms = since;
        return NT_OK;
}

/* ---- Consuming ------------------------------------------------------ */

static int add_part(nt_tail_t *t, const char *topic, int32_t partition,
                    int64_t end, bool done)
{
        struct tpart *p;

        if (nt_array_grow(&t->parts, &t->cap_parts, t->n_parts + 1,
                          sizeof(*t->parts)))
                return NT_ERR_NOMEM;
        p = &t->parts[t->n_parts];
        p->topic = strdup(topic);
        if (!p->topic)
                return NT_ERR_NOMEM;
        p->partition = partition;
        p->end = end;
        p->done = done;
        t->n_parts++;
        return NT_OK;
}

static void clear_parts(nt_tail_t *t)
{
        size_t i;

        for (i = 0; i < t->n_parts; i++)
                free(t->parts[i].topic);
        t->n_parts = 0;
}

static struct tpart *find_part(nt_tail_t *t, const char *topic,
                               int32_t partition)
{
        size_t i;

        for (i = 0; i < t->n_parts; i++)
                if (t->parts[i].partition == partition &&
                    strcmp(t->parts[i].topic, topic) == 0)
                        return &t->parts[i];
        return NULL;
}

/* The offset a partition starts at when that depends on where it begins
 * and ends (-N, N); else the logical offset as it was. */
static int64_t start_in(const struct nt_tail_opts *o, int64_t given, int64_t lo,
                        int64_t hi)
{
        if (o->last_n > 0)
                return hi - lo > o->last_n ? hi - o->last_n : lo;
        if (o->start_offset >= 0) {
                /* Clamped, so that an offset already deleted starts at
                 * the oldest record kept rather than at the end (where
                 * auto.offset.reset would put it). */
                if (o->start_offset < lo)
                        return lo;
                return o->start_offset > hi ? hi : o->start_offset;
        }
        return given;
}

/* Sets each partition's start in `parts` (the beginning, a time, the
 * last N, an offset, or the end) and notes where each ends now.
 * Partitions whose start is their end are done at once under
 * exit_at_end. */
static int plan(nt_tail_t *t, rd_kafka_topic_partition_list_t *parts,
                bool set_offsets, char *errstr, size_t errstr_size)
{
        rd_kafka_resp_err_t kerr;
        bool marks =
            t->o.exit_at_end ||
            (set_offsets && (t->o.last_n > 0 || t->o.start_offset >= 0));
        int i, err;

        if (set_offsets && t->o.since_ms != INT64_MIN) {
                for (i = 0; i < parts->cnt; i++)
                        parts->elems[i].offset = t->o.since_ms;
                kerr = rd_kafka_offsets_for_times(t->rk, parts, 10000);
                if (kerr)
                        return nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                                       "offsets for --since: %s",
                                       rd_kafka_err2str(kerr));
                for (i = 0; i < parts->cnt; i++) {
                        /* No record at or after the time: start at the
                         * end. */
                        if (parts->elems[i].err || parts->elems[i].offset < 0)
                                parts->elems[i].offset = RD_KAFKA_OFFSET_END;
                }
        } else if (set_offsets) {
                for (i = 0; i < parts->cnt; i++)
                        parts->elems[i].offset = t->o.from_beginning
                                                     ? RD_KAFKA_OFFSET_BEGINNING
                                                     : RD_KAFKA_OFFSET_END;
        }
        for (i = 0; i < parts->cnt; i++) {
                rd_kafka_topic_partition_t *p = &parts->elems[i];
                int64_t lo = -1, hi = -1;
                bool done = false;

                if (marks) {
                        kerr = rd_kafka_query_watermark_offsets(
                            t->rk, p->topic, p->partition, &lo, &hi, 10000);
                        if (kerr)
                                return nt_errf(
                                    errstr, errstr_size, NT_ERR_KAFKA,
                                    "end of %s [%d]: %s", p->topic,
                                    (int)p->partition, rd_kafka_err2str(kerr));
                        if (set_offsets)
                                p->offset = start_in(&t->o, p->offset, lo, hi);
                }
                if (t->o.exit_at_end)
                        done = lo >= hi || p->offset == RD_KAFKA_OFFSET_END ||
                               (p->offset >= 0 && p->offset >= hi);
                err = add_part(t, p->topic, p->partition, hi, done);
                if (err)
                        return err;
        }
        return NT_OK;
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t kerr,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        nt_tail_t *t = opaque;
        char errstr[256];

        if (kerr == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                clear_parts(t);
                /* An explicit start (--from-beginning, --since, --offset) wins
                 * over the group's committed offsets. */
                if (plan(t, parts, nt_tail_start_given(&t->o), errstr,
                         sizeof(errstr)) != NT_OK &&
                    !t->rebalance_err) {
                        t->rebalance_err = NT_ERR_KAFKA;
                        snprintf(t->rebalance_msg, sizeof(t->rebalance_msg),
                                 "%s", errstr);
                }
                rd_kafka_assign(rk, parts);
                t->started = true;
        } else {
                clear_parts(t);
                rd_kafka_assign(rk, NULL);
        }
}

nt_tail_t *nt_tail_new(const nt_config_t *cfg, const struct nt_tail_opts *opts,
                       char *errstr, size_t errstr_size)
{
        nt_tail_t *t;

        if (opts->output == NT_TAIL_FORMAT &&
            (!opts->format ||
             nt_tail_check_format(opts->format, errstr, errstr_size)))
                return NULL;
        t = calloc(1, sizeof(*t));
        if (!t) {
                nt_errf(errstr, errstr_size, NT_ERR_NOMEM, "out of memory");
                return NULL;
        }
        t->cfg = cfg;
        t->o = *opts;
        nt_buf_init(&t->out, MAX_RENDER);
        return t;
}

static int add_topic(nt_tail_t *t, const char *name)
{
        if (nt_array_grow(&t->topics, &t->cap_topics, t->n_topics + 1,
                          sizeof(*t->topics)))
                return NT_ERR_NOMEM;
        t->topics[t->n_topics] = strdup(name);
        if (!t->topics[t->n_topics])
                return NT_ERR_NOMEM;
        t->n_topics++;
        return NT_OK;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The topics to follow, checked against the cluster's metadata. */
static int resolve_topics(nt_tail_t *t, const struct rd_kafka_metadata *md,
                          char *errstr, size_t errstr_size)
{
        const char *prefix = nt_config_str(t->cfg, "topics.label_prefix");
        size_t plen = strlen(prefix), i;
        int k, err = NT_OK;

        if (t->o.all) {
                err = add_topic(t, nt_config_str(t->cfg, "topics.enriched"));
        } else if (t->o.n_labels > 0) {
                for (i = 0; i < t->o.n_labels && !err; i++) {
                        struct nt_buf name;

                        nt_buf_init(&name, 1024);
                        err = nt_buf_printf(&name, "%s%s", prefix,
                                            t->o.labels[i]);
                        if (err == NT_ERR_LIMIT)
                                err = nt_errf(errstr, errstr_size, NT_ERR_USAGE,
                                              "label \"%.40s...\" is too "
                                              "long",
                                              t->o.labels[i]);
                        else if (!err)
                                err = add_topic(t, name.data);
                        nt_buf_free(&name);
                }
        } else {
                for (k = 0; k < md->topic_cnt && !err; k++) {
                        const char *name = md->topics[k].topic;
                        if (strncmp(name, prefix, plen) == 0 &&
                            name[plen] != '\0' && !md->topics[k].err)
                                err = add_topic(t, name);
                }
                if (!err && t->n_topics == 0)
                        return nt_errf(
                            errstr, errstr_size, NT_ERR_NOTFOUND,
                            "no label topics (%s*) exist yet; "
                            "name the labels, or use --all for "
                            "%s",
                            prefix, nt_config_str(t->cfg, "topics.enriched"));
                if (!err)
                        qsort(t->topics, t->n_topics, sizeof(*t->topics),
                              cmp_str);
        }
        if (err)
                return err;
        /* Every named topic must exist: a typo should not wait forever. */
        for (i = 0; i < t->n_topics; i++) {
                bool found = false;

                for (k = 0; k < md->topic_cnt; k++) {
                        if (strcmp(md->topics[k].topic, t->topics[i]) == 0 &&
                            !md->topics[k].err &&
                            md->topics[k].partition_cnt > 0)
                                found = true;
                }
                if (!found)
                        return nt_errf(errstr, errstr_size, NT_ERR_NOTFOUND,
                                       "topic %s does not exist", t->topics[i]);
        }
        return NT_OK;
}

int nt_tail_start(nt_tail_t *t, char *errstr, size_t errstr_size)
{
        char group[128];
        const char *extra[16];
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_conf_t *conf;
        rd_kafka_resp_err_t kerr;
        size_t n = 0, i;
        int k, j, err = NT_OK;

        if (t->o.group) {
                snprintf(group, sizeof(group), "%s", t->o.group);
        } else {
                struct timespec ts;

                /* librdkafka 2.0.2 needs a group.id even to assign
                 * partitions by hand; this one never commits. */
                clock_gettime(CLOCK_REALTIME, &ts);
                snprintf(group, sizeof(group), "newstap-tail-%ld-%lld",
                         (long)getpid(),
                         (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
        }
        extra[n++] = "group.id";
        extra[n++] = group;
        extra[n++] = "isolation.level";
        extra[n++] = "read_committed";
        extra[n++] = "enable.partition.eof";
        extra[n++] = "true";
        extra[n++] = "enable.auto.commit";
        extra[n++] = t->o.group ? "true" : "false";
        /* In a group, only what was read is committed. */
        extra[n++] = "enable.auto.offset.store";
        extra[n++] = "false";
        extra[n++] = "auto.offset.reset";
        extra[n++] = t->o.from_beginning ? "earliest" : "latest";
        extra[n] = NULL;
        conf = nt_kafka_conf_new(t->cfg, extra, errstr, errstr_size);
        if (!conf)
                return NT_ERR_CONFIG;
        if (t->o.group) {
                rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
                rd_kafka_conf_set_opaque(conf, t);
        }
        t->rk = nt_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
        if (!t->rk)
                return NT_ERR_KAFKA;
        rd_kafka_poll_set_consumer(t->rk);
        t->recent = calloc(RECENT_SLOTS, sizeof(*t->recent));
        if (!t->recent)
                return nt_errf(errstr, errstr_size, NT_ERR_NOMEM,
                               "out of memory");
        kerr = rd_kafka_metadata(t->rk, 1, NULL, &md, 10000);
        if (kerr)
                return nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                               "cannot read the cluster's topics: %s",
                               rd_kafka_err2str(kerr));
        err = resolve_topics(t, md, errstr, errstr_size);
        if (err)
                goto out;
        if (t->o.group) {
                rd_kafka_topic_partition_list_t *subs =
                    rd_kafka_topic_partition_list_new((int)t->n_topics);

                for (i = 0; i < t->n_topics; i++)
                        rd_kafka_topic_partition_list_add(
                            subs, t->topics[i], RD_KAFKA_PARTITION_UA);
                kerr = rd_kafka_subscribe(t->rk, subs);
                rd_kafka_topic_partition_list_destroy(subs);
                if (kerr)
                        err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                                      "subscribe: %s", rd_kafka_err2str(kerr));
                goto out;
        }
        parts = rd_kafka_topic_partition_list_new(16);
        for (i = 0; i < t->n_topics; i++)
                for (k = 0; k < md->topic_cnt; k++) {
                        if (strcmp(md->topics[k].topic, t->topics[i]) != 0)
                                continue;
                        for (j = 0; j < md->topics[k].partition_cnt; j++)
                                rd_kafka_topic_partition_list_add(
                                    parts, t->topics[i],
                                    md->topics[k].partitions[j].id);
                }
        rd_kafka_topic_partition_list_sort(parts, NULL, NULL);
        err = plan(t, parts, true, errstr, errstr_size);
        if (err)
                goto out;
        kerr = rd_kafka_assign(t->rk, parts);
        if (kerr) {
                err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA, "assign: %s",
                              rd_kafka_err2str(kerr));
                goto out;
        }
        t->started = true;
out:
        if (parts)
                rd_kafka_topic_partition_list_destroy(parts);
        if (md)
                rd_kafka_metadata_destroy(md);
        return err;
}

static bool all_done(const nt_tail_t *t)
{
        size_t i;

        if (t->stop || (t->o.count > 0 && t->n_emitted >= t->o.count))
                return true;
        if (!t->o.exit_at_end || !t->started)
                return false;
        for (i = 0; i < t->n_parts; i++)
                if (!t->parts[i].done)
                        return false;
        return true;
}

/* True when this event was shown already (it reached another followed
 * topic too). */
static bool seen_recently(nt_tail_t *t, const rd_kafka_message_t *rkm,
                          rd_kafka_headers_t *hdrs)
{
        const void *v = NULL;
        size_t len = 0;
        uint64_t h, *slot;

        if (t->n_topics < 2 || t->o.output == NT_TAIL_FORMAT)
                return false;
        if (hdrs &&
            rd_kafka_header_get_last(hdrs, "ce_id", &v, &len) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            v)
                h = XXH3_64bits(v, len);
        else
                h = XXH3_64bits_withSeed(rkm->payload, rkm->len,
                                         XXH3_64bits(rkm->key, rkm->key_len));
        if (h == 0)
                h = 1;
        slot = &t->recent[h % RECENT_SLOTS];
        if (*slot == h)
                return true;
        *slot = h;
        return false;
}

static void handle(nt_tail_t *t, rd_kafka_message_t *rkm)
{
        struct nt_tail_record rec;
        const char *hv[2 * MAX_HEADERS];
        struct nt_buf hstore;
        rd_kafka_headers_t *hdrs = NULL;
        rd_kafka_timestamp_type_t tstype;
        const char *why;
        const char *topic = rd_kafka_topic_name(rkm->rkt);
        struct tpart *tp = find_part(t, topic, rkm->partition);
        size_t i, n = 0;
        int rc;

        if (tp && tp->end >= 0 && rkm->offset >= tp->end && t->o.exit_at_end) {
                /* Past the end this run set out to reach. */
                tp->done = true;
                return;
        }
        t->n_read++;
        if (rd_kafka_message_headers(rkm, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
                hdrs = NULL;
        if (seen_recently(t, rkm, hdrs))
                goto store;
        nt_buf_init(&hstore, 1 << 20);
        memset(&rec, 0, sizeof(rec));
        rec.topic = topic;
        rec.partition = rkm->partition;
        rec.offset = rkm->offset;
        rec.key = rkm->key;
        rec.key_len = rkm->key_len;
        rec.timestamp_ms = rd_kafka_message_timestamp(rkm, &tstype);
        rec.value = rkm->payload;
        rec.value_len = rkm->len;
        if (hdrs && t->o.output == NT_TAIL_FORMAT) {
                const char *name;
                const void *val;
                size_t vlen;
                size_t offs[2 * MAX_HEADERS];

                /* Copies first, pointers after: the store may move. */
                for (i = 0;
                     n < MAX_HEADERS &&
                     rd_kafka_header_get_all(hdrs, i, &name, &val, &vlen) ==
                         RD_KAFKA_RESP_ERR_NO_ERROR;
                     i++, n++) {
                        offs[2 * n] = hstore.len;
                        nt_buf_append(&hstore, name, strlen(name) + 1);
                        offs[2 * n + 1] = hstore.len;
                        if (val)
                                nt_buf_append(&hstore, val, vlen);
                        nt_buf_append_char(&hstore, '\0');
                }
                for (i = 0; i < 2 * n; i++)
                        hv[i] = hstore.data ? hstore.data + offs[i] : "";
                rec.headers = hv;
                rec.n_headers = n;
        }
        nt_buf_reset(&t->out);
        rc = nt_tail_render(&t->o, &rec, &t->out, &why);
        if (rc == 1) {
                t->n_emitted++;
                if (t->o.emit && t->o.emit(t->o.ctx, t->out.data, t->out.len))
                        t->stop = true;
        } else if (rc == 0 && why) {
                NT_WARN("tail", "%s [%d] at offset %lld: %s", topic,
                        (int)rkm->partition, (long long)rkm->offset, why);
        } else if (rc < 0) {
                NT_WARN("tail", "%s [%d] at offset %lld: cannot render: %s",
                        topic, (int)rkm->partition, (long long)rkm->offset,
                        nt_err_name(rc));
        }
        nt_buf_free(&hstore);
store:
        if (t->o.group)
                rd_kafka_offset_store(rkm->rkt, rkm->partition, rkm->offset);
        if (tp && t->o.exit_at_end && tp->end >= 0 &&
            rkm->offset + 1 >= tp->end)
                tp->done = true;
}

int nt_tail_poll(nt_tail_t *t, int timeout_ms, char *errstr, size_t errstr_size)
{
        rd_kafka_message_t *rkm;
        int waited = 0;

        if (t->rebalance_err)
                return nt_errf(errstr, errstr_size, t->rebalance_err, "%s",
                               t->rebalance_msg);
        if (all_done(t))
                return 1;
        /* Drain what is there (a bounded batch, so that the caller gets
         * to check for signals on a busy stream), waiting only for the
         * first record. */
        while (waited < DRAIN_MAX &&
               (rkm = rd_kafka_consumer_poll(t->rk, waited ? 0 : timeout_ms)) !=
                   NULL) {
                waited++;
                if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        struct tpart *tp =
                            rkm->rkt
                                ? find_part(t, rd_kafka_topic_name(rkm->rkt),
                                            rkm->partition)
                                : NULL;
                        if (tp)
                                tp->done = true;
                } else if (rkm->err) {
                        rd_kafka_resp_err_t kerr = rkm->err;
                        char msg[256];

                        snprintf(msg, sizeof(msg), "%s",
                                 rd_kafka_message_errstr(rkm));
                        rd_kafka_message_destroy(rkm);
                        if (kerr == RD_KAFKA_RESP_ERR__FATAL ||
                            kerr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                            kerr == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
                                return nt_errf(errstr, errstr_size,
                                               NT_ERR_KAFKA, "%s", msg);
                        NT_WARN("tail", "%s", msg);
                        continue;
                } else {
                        handle(t, rkm);
                }
                rd_kafka_message_destroy(rkm);
                if (all_done(t))
                        return 1;
        }
        return all_done(t) ? 1 : 0;
}

int nt_tail_run(nt_tail_t *t, char *errstr, size_t errstr_size)
{
        int rc = nt_tail_start(t, errstr, errstr_size);

        while (rc == NT_OK && nt_sig_running())
                rc = nt_tail_poll(t, 200, errstr, errstr_size);
        return rc < 0 ? rc : NT_OK;
}

const char *const *nt_tail_topics(const nt_tail_t *t, size_t *n)
{
        *n = t->n_topics;
        return (const char *const *)t->topics;
}

void nt_tail_counts(const nt_tail_t *t, uint64_t *read, uint64_t *emitted)
{
        *read = t->n_read;
        *emitted = t->n_emitted;
}

void nt_tail_destroy(nt_tail_t *t)
{
        size_t i;

        if (!t)
                return;
        if (t->rk) {
                /* In a group this commits what was read and leaves. */
                if (t->o.group)
                        rd_kafka_consumer_close(t->rk);
                rd_kafka_destroy(t->rk);
        }
        for (i = 0; i < t->n_topics; i++)
                free(t->topics[i]);
        free(t->topics);
        clear_parts(t);
        free(t->parts);
        free(t->recent);
        nt_buf_free(&t->out);
        free(t);
}
