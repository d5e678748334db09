/* The id/revision pairs replay has sent or found (an open-addressing
 * table of XXH3_128 hashes), and --skip-seen: reading topics.raw back
 * from the beginning so that what it holds is not sent again. */
#include "producer/replay_internal.h"

/* ---- The seen-set -------------------------------------------------- */

void nt_rp_seen_free(struct seen_set *s)
{
        free(s->slots);
        memset(s, 0, sizeof(*s));
}

static void seen_key(const char *id, const char *rev, uint64_t *lo,
                     uint64_t *hi)
{
        char buf[64];
        size_t a = strlen(id), b = strlen(rev);
        XXH128_hash_t h;

        if (a + b + 1 <= sizeof(buf)) {
                memcpy(buf, id, a);
                buf[a] = '\0';
                memcpy(buf + a + 1, rev, b);
                h = XXH3_128bits(buf, a + b + 1);
        } else {
                /* Ids and revisions are short hex digests; anything else
                 * is hashed in two steps, still stable. */
                XXH128_hash_t hid = XXH3_128bits(id, a);
                h = XXH3_128bits_withSeed(rev, b, hid.low64 ^ hid.high64);
        }
        *lo = h.low64;
        *hi = h.high64;
        if (*lo == 0 && *hi == 0)
                *lo = 1;
}

static uint64_t *seen_slot(const struct seen_set *s, uint64_t lo, uint64_t hi)
{
        size_t i = (size_t)(lo ^ (hi >> 7)) & (s->cap - 1);

        for (;;) {
                uint64_t *slot = s->slots + 2 * i;
                if ((slot[0] == 0 && slot[1] == 0) ||
                    (slot[0] == lo && slot[1] == hi))
                        return slot;
                i = (i + 1) & (s->cap - 1);
        }
}

static int seen_grow(struct seen_set *s)
{
        size_t ncap = s->cap ? s->cap * 2 : 1024, i;
        struct seen_set bigger = {0};

        bigger.slots = calloc(ncap, 2 * sizeof(uint64_t));
        if (!bigger.slots)
                return NT_ERR_NOMEM;
        bigger.cap = ncap;
        for (i = 0; i < s->cap; i++) {
                uint64_t *old = s->slots + 2 * i;
                if (old[0] || old[1]) {
                        uint64_t *slot = seen_slot(&bigger, old[0], old[1]);
                        slot[0] = old[0];
                        slot[1] = old[1];
                }
        }
        free(s->slots);
        s->slots = bigger.slots;
        s->cap = ncap;
        return NT_OK;
}

/* Adds the pair; *was says it was there already. */
int nt_rp_seen_add(struct seen_set *s, const char *id, const char *rev,
                   bool *was)
{
        uint64_t lo, hi, *slot;

        *was = false;
        seen_key(id, rev, &lo, &hi);
        if (s->cap && (slot = seen_slot(s, lo, hi)) && (slot[0] || slot[1])) {
                *was = true;
                return NT_OK;
        }
        if (s->n >= MAX_SEEN) {
                if (!s->full_logged)
                        NT_WARN("replay",
                                "%zu distinct articles remembered: "
                                "duplicates among the rest are not "
                                "caught in this run",
                                s->n);
                s->full_logged = true;
                return NT_OK;
        }
        if ((s->n + 1) * 2 > s->cap && seen_grow(s) != NT_OK)
                return NT_ERR_NOMEM;
        slot = seen_slot(s, lo, hi);
        slot[0] = lo;
        slot[1] = hi;
        s->n++;
        return NT_OK;
}

/* ---- --skip-seen: what the topic holds already ---------------------- */

/* The revision of a raw message: its header, else its JSON. */
static bool message_revision(const rd_kafka_message_t *rkm, char *rev,
                             size_t size)
{
        rd_kafka_headers_t *hdrs = NULL;
        const void *v;
        size_t len;
        json_t *obj;
        const char *s;

        if (rd_kafka_message_headers(rkm, &hdrs) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            rd_kafka_header_get_last(hdrs, "revision", &v, &len) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            v && len > 0 && len < size) {
                memcpy(rev, v, len);
                rev[len] = '\0';
                return true;
        }
        if (!rkm->payload)
                return false;
        obj = json_loadb(rkm->payload, rkm->len, 0, NULL);
        s = json_string_value(json_object_get(obj, "revision"));
        if (s && strlen(s) < size)
                snprintf(rev, size, "%s", s);
        json_decref(obj);
        return s != NULL;
}

/* Reads topics.raw from the beginning of every partition to its end
 * (read_committed, no group commits) and remembers every id/revision on
 * it. */
int nt_rp_read_back(nt_replay_t *r, char *errstr, size_t errstr_size)
{
        static const char *const extra[] = {"enable.auto.commit",
                                            "false",
                                            "isolation.level",
                                            "read_committed",
                                            "enable.partition.eof",
                                            "true",
                                            "auto.offset.reset",
                                            "earliest",
                                            NULL};
        const char *topic = nt_config_str(r->cfg, "topics.raw");
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_topic_t *rkt = NULL;
        rd_kafka_resp_err_t kerr;
        char group[96];
        int64_t last_progress;
        int i, left = 0, err = NT_OK;
        char *at_end = NULL;
        rd_kafka_t *rk;

        /* librdkafka 2.0.2 wants a group.id even for assign(); this one
         * never commits, so it leaves nothing behind. */
        snprintf(group, sizeof(group), "newstap-replay-readback-%ld-%lld",
                 (long)getpid(), (long long)nt_date_mono_ms());
        rk = nt_kafka_consumer_new(r->cfg, group, extra, errstr, errstr_size);
        if (!rk)
                return NT_ERR_KAFKA;
        rkt = rd_kafka_topic_new(rk, topic, NULL);
        kerr = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        if (kerr) {
                err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                              "--skip-seen: metadata of %s: %s", topic,
                              rd_kafka_err2str(kerr));
                goto out;
        }
        if (md->topic_cnt != 1 || md->topics[0].err ||
            md->topics[0].partition_cnt == 0) {
                /* No such topic yet: nothing on it. */
                goto out;
        }
        left = md->topics[0].partition_cnt;
        at_end = calloc((size_t)left, 1);
        parts = rd_kafka_topic_partition_list_new(left);
        if (!at_end || !parts) {
                err = NT_ERR_NOMEM;
                goto out;
        }
        for (i = 0; i < md->topics[0].partition_cnt; i++) {
                int32_t id = md->topics[0].partitions[i].id;
                int64_t lo = 0, hi = 0;

                if (id < 0 || id >= md->topics[0].partition_cnt) {
                        err = nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                                      "--skip-seen: odd partition ids on %s",
                                      topic);
                        goto out;
                }
                /* An empty partition may never report its end. */
                if (rd_kafka_query_watermark_offsets(rk, topic, id, &lo, &hi,
                                                     10000) ==
                        RD_KAFKA_RESP_ERR_NO_ERROR &&
                    lo >= hi) {
                        at_end[id] = 1;
                        left--;
                        continue;
                }
                rd_kafka_topic_partition_list_add(parts, topic, id)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        }
        if (left == 0)
                goto out;
        kerr = rd_kafka_assign(rk, parts);
        if (kerr) {
                err =
                    nt_errf(errstr, errstr_size, NT_ERR_KAFKA,
                            "--skip-seen: assign: %s", rd_kafka_err2str(kerr));
                goto out;
        }
        last_progress = nt_date_mono_ms();
        while (left > 0 && nt_sig_running()) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);

                if (!rkm) {
                        if (nt_date_mono_ms() - last_progress >
                            READBACK_STALL_MS) {
                                err = nt_errf(
                                    errstr, errstr_size, NT_ERR_TIMEOUT,
                                    "--skip-seen: reading %s back made no "
                                    "progress for %d s",
                                    topic, READBACK_STALL_MS / 1000);
                                goto out;
                        }
                        continue;
                }
                last_progress = nt_date_mono_ms();
                if (rkm->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        if (rkm->partition >= 0 &&
                            rkm->partition < md->topics[0].partition_cnt &&
                            !at_end[rkm->partition]) {
                                at_end[rkm->partition] = 1;
                                left--;
                        }
                } else if (rkm->err) {
                        NT_WARN("replay", "--skip-seen: reading %s: %s", topic,
                                rd_kafka_message_errstr(rkm));
                } else if (rkm->key && rkm->key_len > 0 && rkm->key_len < 64) {
                        char id[64], rev[64];
                        bool was;

                        memcpy(id, rkm->key, rkm->key_len);
                        id[rkm->key_len] = '\0';
                        if (message_revision(rkm, rev, sizeof(rev)) &&
                            nt_rp_seen_add(&r->seen, id, rev, &was) == NT_OK &&
                            !was)
                                r->st.on_topic++;
                }
                rd_kafka_message_destroy(rkm);
                nt_rp_progress(r, false);
        }
        if (left > 0)
                err = NT_ERR_STOPPED;
out:
        free(at_end);
        if (parts)
                rd_kafka_topic_partition_list_destroy(parts);
        if (md)
                rd_kafka_metadata_destroy(md);
        if (rkt)
                rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return err;
}
