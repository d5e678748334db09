/* The produce loop's insides, shared by its three parts: the loop itself
 * (producer/producer.c: the feeds, their schedule and state, fetch
 * results, publishing, metrics), article pages and robots.txt for feeds
 * whose text comes from the linked page (producer/producer_pages.c), and
 * SIGHUP's reload of the feed list (producer/producer_reload.c).
 * Internal: the public face is producer/producer.h. */
#ifndef NT_PRODUCER_INTERNAL_H
#define NT_PRODUCER_INTERNAL_H

#include "producer/producer.h"
#include "common/date.h"
#include "common/article.h"
#include "common/charset.h"
#include "common/err.h"
#include "common/extract.h"
#include "common/feed.h"
#include "common/feed_parse.h"
#include "common/log.h"
#include "common/sig.h"
#include "common/url.h"
#include <librdkafka/rdkafka.h>
#include "producer/fetch.h"
#include "producer/publish.h"
#include "producer/robots.h"
#include "producer/schedule.h"
#include "producer/state.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

/* A poll that changes nothing but the feed's times (a 304 on a healthy
 * feed) rewrites its state file only when the saved last success is this
 * old. Writing a state file (a new file, a rename, the old inode freed)
 * costs about twice a 304 round trip in CPU, so saving every such poll
 * would double the cost of polling; the saved next poll is then up to an
 * hour behind, which nt_schedule_resume() makes up for at a restart. */
#define STATE_REFRESH_MS ((int64_t)3600 * 1000)

/* One feed as the loop sees it. Allocated one by one so that pointers
 * handed to the fetcher and the publisher stay valid while the list
 * grows; a feed dropped by a reload is freed only once idle.
 *
 * Nothing in the loop walks every feed: a feed waiting for its next poll
 * is in the `due` heap (and only then), a changed state is on the
 * `dirty` list, a removed feed on the `removed` list until it is freed.
 * Each of the three lists holds at most every feed, and has room for
 * every feed reserved when the feed is added, so that putting a feed on
 * one cannot fail. */
/* What a fetch result's opaque points to: a feed (struct pfeed) or an
 * article's page (struct page); both begin with their kind. */
enum job_kind { JOB_FEED = 0, JOB_PAGE, JOB_ROBOTS };

/* robots.txt: the product token its groups are matched with, how long
 * an answer is kept, and how soon one that could not be had (5xx,
 * timeout) is asked for again, everything disallowed meanwhile. */
#define ROBOTS_AGENT    "newstap"
#define ROBOTS_TTL_MS   ((int64_t)24 * 3600 * 1000)
#define ROBOTS_RETRY_MS ((int64_t)10 * 60 * 1000)

/* Buffer sizes of the instance id and the transactional.id (--group). */
#define NT_PR_INSTANCE_MAX 128
#define NT_PR_TXN_ID_MAX   320

struct pfeed {
        enum job_kind kind; /* JOB_FEED; first, see job_kind */
        struct nt_feed_spec spec;
        struct nt_feed_state st;
        const char *label;   /* name, else URL: for logs and metrics */
        int64_t due_ms;      /* next poll, wall clock */
        struct nt_timer due; /* in p->due while waiting for due_ms */
        size_t idx;          /* in p->feeds */
        bool fetching;
        bool removed;
        bool on_removed;          /* in p->removed */
        bool polled;              /* once mode: a result came back */
        bool first_poll;          /* never polled successfully before */
        json_t *pending;          /* id -> revision, sent, not confirmed */
        char *next_etag;          /* validators of the last 200, applied */
        char *next_last_modified; /* when `pending` empties */
        bool next_validators;
        bool dirty;               /* state to save: in p->dirty */
        int64_t saved_success_ms; /* st.last_success_ms in the file */
        struct nt_schedule_hints hints;

        /* produce --group (producer/producer_group.c): the feed's key and
         * partition on the feeds topic (its state's on the state topic),
         * the state as last committed (the record's value; NULL: none),
         * to fall back to when a transaction aborts, and whether the
         * feed's partition was revoked (nothing more is written for it). */
        char *key;
        int32_t partition;
        char *committed;
        char *txn_value; /* the value written in the open commit */
        bool revoked;
        unsigned rollbacks; /* times an abort rolled it back */
};

/* An article of a feed whose content comes from its page, waiting for
 * the page's fetch. Its id is in the feed's `pending` meanwhile, so the
 * feed's validators and seen-marks wait for it as for a sent article,
 * and a repeated poll does not fetch the page again. */
struct page {
        enum job_kind kind; /* JOB_PAGE; first, see job_kind */
        struct pfeed *f;
        struct nt_article art;      /* built from the entry, feed text */
        char *path;                 /* of the link, for robots.txt */
        struct page *prev, *next;   /* in nt_producer.pages */
        struct page *wait_next;     /* in robots.waiting */
        struct page_cached *cached; /* asked conditionally with it; pinned */
};

/* A place in a list in order of use, oldest first, which is the order
 * in which the bounded caches below forget (struct lru in nt_producer).
 * Embedded in the entry; producer_pages.c finds the entry from it. */
struct lru_link {
        struct lru_link *older, *newer;
};

struct lru {
        struct lru_link *oldest, *newest;
};

/* A page's validators and the text extracted from it, kept for a
 * conditional GET when the page is wanted again (producer.page_cache_bytes,
 * the least recently used forgotten first); a 304 publishes the text. */
struct page_cached {
        char *url; /* as requested, the key */
        char *etag, *last_modified;
        char *text;
        size_t bytes;        /* counted against the bound */
        int pins;            /* pages asking with it */
        struct lru_link use; /* in nt_producer.pc_lru */
};

/* The robots.txt of one origin ("scheme://host:port"), fetched when a
 * page of it is first wanted and again when stale; pages wait for it. */
enum robots_rule { ROBOTS_ALLOW_ALL = 0, ROBOTS_RULES, ROBOTS_DISALLOW_ALL };

struct robots {
        enum job_kind kind; /* JOB_ROBOTS; first, see job_kind */
        char *origin;
        bool fetching;
        enum robots_rule rule;
        char *text; /* ROBOTS_RULES: the file, NUL-terminated */
        size_t len;
        int64_t expires_ms; /* 0: never fetched */
        struct page *waiting;
        struct lru_link use; /* in nt_producer.robots_lru */
};

struct nt_producer {
        const nt_config_t *cfg;
        struct pfeed **feeds;
        size_t n_feeds, cap_feeds;
        struct nt_timer_heap due; /* feeds waiting to be polled */
        struct pfeed **dirty;     /* cap_feeds slots */
        size_t n_dirty;
        struct pfeed **removed; /* cap_feeds slots */
        size_t n_removed;
        struct page *pages;    /* page fetches in flight */
        json_t *robots;        /* origin -> struct robots * (as an integer) */
        struct lru robots_lru; /* struct robots by last use */
        size_t n_robots, robots_max; /* producer.robots_origins */
        long page_timeout_ms;        /* producer.page_timeout; 0: timeout */
        json_t *page_cache;      /* URL -> struct page_cached * (an integer) */
        struct lru pc_lru;       /* struct page_cached by last use */
        size_t pc_bytes, pc_max; /* producer.page_cache_bytes */
        int content;             /* producer.content */
        int64_t content_min_chars;
        nt_fetcher_t *fetcher;
        nt_publisher_t *pub;
        nt_metrics_t *metrics;
        const char *state_dir;
        int lock_fd; /* flock() on the state directory; -1: none */
        char user_agent[512];
        bool once;
        uint64_t rng;
        nt_health_t *health;
        int64_t last_summary_ms;
        int64_t last_flush_ms;
        struct {
                uint64_t fetched, not_modified, failed, new_articles, updated,
                    duplicates, confirmed;
        } totals;

        /* produce --group (producer/producer_group.c). */
        bool group;
        char instance[NT_PR_INSTANCE_MAX];
        char txn_id[NT_PR_TXN_ID_MAX];
        rd_kafka_t *consumer; /* member of producer.group on topics.feeds */
        rd_kafka_t *probe;    /* read_uncommitted: open transactions */
        const char *feeds_topic, *state_topic;
        json_t *by_key;   /* key -> struct pfeed * (as an integer) */
        json_t *restored; /* key -> state JSON, restored, feed not seen */
        json_t *refusals; /* articles refused for good in the transaction */
        int64_t txn_ms, last_commit_ms;
        int owned;          /* partitions assigned */
        int abort_streak;   /* transactions aborted in a row */
        bool restored_once; /* a first assignment was restored */
        bool group_broken;
        bool unrestored; /* a restore was stopped: no more feeds taken on */
        struct restore_job *job; /* the restore running (its thread) */
        /* Assigned, paused, waiting for the next restore. */
        rd_kafka_topic_partition_list_t *restore_next;
        bool ending;        /* a commit or abort is under way */
        bool ending_commit; /* ... and it is a commit */
        struct {
                uint64_t rebalances, commits, aborts, skipped_records;
                double restore_s;
        } gstats;
};

/* ---- producer/producer.c ---- */

int nt_pr_add_feed(nt_producer_t *p, struct nt_feed_spec *spec);
void nt_pr_pfeed_free(struct pfeed *f);
void nt_pr_requeue(nt_producer_t *p, struct pfeed *f);
int nt_pr_send_article(nt_producer_t *p, struct pfeed *f,
                       const struct nt_article *art);
void nt_pr_settle(nt_producer_t *p, struct pfeed *f);

/* ---- producer/producer_pages.c ---- */

void nt_pr_handle_page(nt_producer_t *p, struct page *pg,
                       const struct nt_fetch_result *res);
void nt_pr_handle_robots(nt_producer_t *p, struct robots *rb,
                         const struct nt_fetch_result *res);
void nt_pr_page_free(nt_producer_t *p, struct page *pg);
void nt_pr_page_cache_free(nt_producer_t *p);
int nt_pr_start_page(nt_producer_t *p, struct pfeed *f, struct nt_article *art);
bool nt_pr_wants_page(const nt_producer_t *p, const struct pfeed *f,
                      const struct nt_article *art);
void nt_pr_pages_describe(nt_metrics_t *m);

/* ---- producer/producer.c, used by producer_group.c ---- */

void nt_pr_mark_dirty(nt_producer_t *p, struct pfeed *f);
/* A feed of the group's: spec taken, state from `state` (the record's
 * JSON; NULL: fresh). */
int nt_pr_add_group_feed(nt_producer_t *p, struct nt_feed_spec *spec,
                         const char *key, int32_t partition,
                         const json_t *state);
void nt_pr_drop_feed(nt_producer_t *p, struct pfeed *f);

/* ---- producer/producer_group.c ---- */

/* Joins producer.group (the consumer, its rebalance callback, the state
 * topic checked) once the publisher exists. */
int nt_pr_group_start(nt_producer_t *p, char *errstr, size_t errstr_size);
/* Serves the group consumer: rebalances and feed records. */
void nt_pr_group_poll(nt_producer_t *p);
/* Commits the open transaction (articles, states, offsets) when it is
 * txn_ms old, or now with `force`. NT_ERR_KAFKA when the loop must stop. */
int nt_pr_group_commit(nt_producer_t *p, bool force);
/* The commit that makes room in a full publisher: begun now whatever
 * the transaction's age, or the one under way stepped on; the caller
 * calls again (serving the loop's housekeeping) until the publisher
 * takes its message. NT_ERR_KAFKA when the loop must stop. */
int nt_pr_group_make_room(nt_producer_t *p);
/* True while a commit or abort is under way (stepped on by
 * nt_pr_group_commit()): no fetch result is handled and no fetch started
 * meanwhile, since they would change the feeds it writes. */
bool nt_pr_group_ending(const nt_producer_t *p);
/* A feed rolled back while its poll was handled (a commit made room in
 * the middle of its document, and aborted): due again as after an
 * abort, not at its interval. */
void nt_pr_group_repoll(nt_producer_t *p, struct pfeed *f);
/* An article the broker refused for good (in an aborting transaction). */
void nt_pr_group_refused(nt_producer_t *p, struct pfeed *f,
                         const struct nt_publish_meta *meta);
/* Leaves the group and frees its clients. */
void nt_pr_group_stop(nt_producer_t *p);
/* The instance id and transactional.id from the configuration, and the
 * group's topics; NT_ERR_CONFIG when an id is too long. */
int nt_pr_group_ids(nt_producer_t *p, char *errstr, size_t errstr_size);

/* ---- producer/producer_reload.c ---- */

void nt_pr_reap_removed(nt_producer_t *p);
void nt_pr_reload_feeds(nt_producer_t *p, nt_producer_reload_cb *reload,
                        void *ctx);

#endif
