/* Per-feed fetch state kept across restarts: the feed's current URL
 * (after permanent redirects), its validators, failures and next poll,
 * and the seen-set of published article ids and revisions. One JSON file
 * per feed in the state directory, written atomically (temporary file,
 * fsync, rename); a corrupt file is moved aside and the feed starts
 * fresh. */
#ifndef NT_STATE_H
#define NT_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nt_feed_state {
        char *url;  /* fetched from here; NULL: the configured URL */
        char *etag; /* validators of the last 200, or NULL */
        char *last_modified;
        int failures;            /* consecutive failed polls */
        int64_t next_poll_ms;    /* wall clock; 0: as soon as scheduled */
        int64_t last_success_ms; /* wall clock of the last 200 or 304;
                                    0: never (or not recorded yet) */
        bool disabled;           /* 410 Gone: not polled again */
        char *last_error;        /* or NULL */
        json_t *seen;            /* id -> [revision, seen_ms]; owned */
};

/* An empty state (nothing seen). */
int nt_state_init(struct nt_feed_state *st);

/* Frees what the state holds. NULL-safe. */
void nt_state_free(struct nt_feed_state *st);

/* Creates the state directory when missing. */
int nt_state_mkdir(const char *dir, char *errstr, size_t errstr_size);

/* Takes the state directory for this process alone: an exclusive flock()
 * on DIR/.lock, which holds the owner's pid for the message. Two
 * producers sharing a directory would overwrite each other's states and
 * publish every article twice. Returns the lock's descriptor (>= 0, the
 * caller closes it with nt_state_unlock()), or -1 with errstr naming the
 * directory and the pid that holds it. */
int nt_state_lock(const char *dir, char *errstr, size_t errstr_size);

/* Releases the lock taken by nt_state_lock(); -1 does nothing. */
void nt_state_unlock(int fd);

/* Loads the state of the feed identified by `key` (its configured URL)
 * into an initialised `st`. Returns 0 when loaded; NT_ERR_NOTFOUND when
 * there is no file (st stays fresh); NT_ERR_PARSE when the file was
 * unreadable or corrupt: it was moved aside (errstr names both paths)
 * and st stays fresh. */
int nt_state_load(const char *dir, const char *key, struct nt_feed_state *st,
                  char *errstr, size_t errstr_size);

/* The same for a reader beside a running producer (`newstap feeds`): a
 * corrupt file is reported (NT_ERR_PARSE) but left where it is. */
int nt_state_peek(const char *dir, const char *key, struct nt_feed_state *st,
                  char *errstr, size_t errstr_size);

/* Writes the state atomically. NT_ERR_IO with the path in errstr. */
int nt_state_save(const char *dir, const char *key,
                  const struct nt_feed_state *st, char *errstr,
                  size_t errstr_size);

/* Writes the states of n feeds (keys[i] with states[i]) atomically with
 * one filesystem sync for all of them. A feed whose file cannot be
 * written is reported in errstr; the others are still saved. */
int nt_state_save_many(const char *dir, const char *const *keys,
                       const struct nt_feed_state *const *states, size_t n,
                       char *errstr, size_t errstr_size);

/* The state as the JSON object its file holds (schema
 * newstap.feed-state/1, "key" = key, the seen-set shared, not copied):
 * the encoding of the state files, readable with any JSON tool. NULL
 * when out of memory. Caller frees with json_decref(). */
json_t *nt_state_to_json(const char *key, const struct nt_feed_state *st);

/* The same state in its compact form (schema newstap.feed-state/2), for
 * the state topic's records, which produce --group writes with every
 * transaction: members at their default left out, and the seen-set
 * packed as base64 text ("seen": per entry the id's 16 bytes, the
 * revision's 8 and the LEB128 of its time's distance from the previous
 * entry's, in the order of the times), entries that do not pack (an id
 * or revision that is not lower-case hex of newstap's lengths, a
 * negative time) in "seen_other" as in /1. Half the bytes of /1 for a
 * seen-set of newstap's ids; nothing lost. NULL when out of memory.
 * Caller frees with json_decref(). */
json_t *nt_state_to_json_packed(const char *key,
                                const struct nt_feed_state *st);

/* Reads a state encoded by nt_state_to_json() (/1) or
 * nt_state_to_json_packed() (/2) for the feed `key` into an initialised
 * `st` (replacing what it held). NT_ERR_PARSE, st left as it was, when
 * the object is not such a state or is for another key. */
int nt_state_from_json(const json_t *root, const char *key,
                       struct nt_feed_state *st);

/* The file of a feed's state: DIR/feed-<16 hex digits>.json. */
void nt_state_path(const char *dir, const char *key, char *buf, size_t size);

/* True when this id was published with this revision. */
bool nt_state_seen(const struct nt_feed_state *st, const char *id,
                   const char *revision);

/* Records a confirmed publication (after its delivery report). */
int nt_state_mark_seen(struct nt_feed_state *st, const char *id,
                       const char *revision, int64_t now_ms);

/* Forgets ids seen more than max_age_ms ago, then the oldest ones beyond
 * max_count. Returns how many were forgotten. */
size_t nt_state_prune(struct nt_feed_state *st, size_t max_count,
                      int64_t max_age_ms, int64_t now_ms);

#endif
