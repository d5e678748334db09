/* The classifier's single entry point for the Kafka side: plain-text
 * fields in, labels, entities, facts, language, fingerprint and the rules
 * version out. A classifier is a compiled rule set (immutable, shared)
 * plus per-thread scratch; see "Threads and reload" below. */
#ifndef NT_CLASSIFY_H
#define NT_CLASSIFY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer/enrich.h"
#include "consumer/match.h"
#include "consumer/normalize.h"
#include "consumer/rules.h"

/* Threads and reload. A handle is NOT safe to use from two threads at
 * once: each run reuses the handle's scratch memory. For more threads,
 * give each its own handle with nt_classifier_fork(), which shares the
 * compiled rules (reference-counted) and adds fresh scratch.
 *
 * Reload (SIGHUP) is atomic by construction: build a new handle from the
 * files with nt_classifier_new(); when that fails, keep using the old one
 * (a broken file never replaces a working set); when it succeeds, swap
 * the pointer between two articles and destroy the old handle. */
typedef struct nt_classifier nt_classifier_t;

/* Most evidence entries written per label in the JSON result; the score
 * counts them all. */
#define NT_CLASSIFY_MAX_EVIDENCE 20
/* Most facts reported per article. */
#define NT_CLASSIFY_MAX_FACTS 16

/* Loads, checks and compiles the rule files as one set. NULL on failure,
 * with the first error (`file:line:col: message`) in errstr. Caller frees
 * with nt_classifier_destroy(). */
nt_classifier_t *nt_classifier_new(const char *const *rule_files, size_t n,
                                   char *errstr, size_t errstr_size);

/* The same from files and directories (a directory stands for its *.rules
 * files, see nt_rules_expand_paths()). Paths that hold no rules file are
 * an error too. Caller frees with nt_classifier_destroy(). */
nt_classifier_t *nt_classifier_from_paths(const char *const *paths, size_t n,
                                          char *errstr, size_t errstr_size);

/* The same from a parsed set: takes ownership of `rules` on success (on
 * failure the caller still owns it). */
nt_classifier_t *nt_classifier_new_from_rules(struct nt_rules *rules,
                                              char *errstr, size_t errstr_size);

/* A new handle on the same compiled rules with its own scratch, for
 * another thread. NULL when out of memory. Either handle may be destroyed
 * first. */
nt_classifier_t *nt_classifier_fork(const nt_classifier_t *c);

/* NULL-safe. */
void nt_classifier_destroy(nt_classifier_t *c);

/* XXH3_64 of the rule sources, 16 hex digits. Borrowed; valid while the
 * handle lives. */
const char *nt_classifier_rules_version(const nt_classifier_t *c);

/* The compiled rules. Borrowed; valid while the handle lives. */
const nt_match_t *nt_classifier_matcher(const nt_classifier_t *c);

/* Occurrences of a term (index into the rules' terms) in the last run,
 * whether or not they became evidence: for explaining. */
size_t nt_classifier_term_hits(const nt_classifier_t *c, uint32_t term);

/* The occurrences of a term in the last run (token indices, text order;
 * *n of them). Borrowed: valid until the next run. */
const struct nt_match_occ *nt_classifier_term_occ(const nt_classifier_t *c,
                                                  uint32_t term, size_t *n);

/* Everything one run found, as C values. Borrowed from the handle: valid
 * until its next run. */
struct nt_classifier_result {
        struct nt_match_result match;
        enum nt_lang language;
        uint64_t fingerprint;
        const struct nt_fact *facts;
        size_t n_facts;
};

/* Classifies one article's fields into C values. NT_ERR_LIMIT for a text
 * with more than NT_MATCH_MAX_TOKENS tokens, NT_ERR_NOMEM. */
int nt_classifier_match(nt_classifier_t *c, const struct nt_text_fields *in,
                        struct nt_classifier_result *out, char *errstr,
                        size_t errstr_size);

/* Classifies one article's fields into a new JSON object (caller owns the
 * reference):
 *   {"labels": [{"topic", "label", "score",
 *                "evidence": [{"field", "start", "end", "text", "rule"}]}],
 *    "entities": [{"name", "type", "count"}],
 *    "facts": [{"type", "value", "unit", "text", "field"}],
 *    "language": "en", "fingerprint": "<16 hex>", "rules_version": "<16 hex>"}
 * Evidence offsets are bytes into the field text as given. Errors as for
 * nt_classifier_match(). */
int nt_classifier_run(nt_classifier_t *c, const struct nt_text_fields *in,
                      json_t **result, char *errstr, size_t errstr_size);

#endif
