/* The rules language: parsing and checking rule sets. A rule set (one or
 * more files) is parsed and checked as a whole into a read-only syntax
 * tree (consumer/rules_model.h) that consumer/match.h compiles; a set with
 * any error is rejected with every error as `file:line:col: message`. The
 * language is described in docs/rules.md. */
#ifndef NT_RULES_H
#define NT_RULES_H

#include <stddef.h>

#include "common/buf.h"
#include "consumer/rules_model.h"

/* Parses and checks sources as one rule set. On success *out is the set
 * (caller frees with nt_rules_destroy()). On failure *out is NULL, the
 * first error is in errstr, and every error, one `file:line:col: message`
 * per line, is appended to `diag` when it is not NULL. NT_ERR_PARSE for
 * errors in the rules, NT_ERR_LIMIT, NT_ERR_NOMEM. */
int nt_rules_parse(const struct nt_rules_source *src, size_t n,
                   struct nt_rules **out, struct nt_buf *diag, char *errstr,
                   size_t errstr_size);

/* Reads the files (each at most NT_RULES_MAX_FILE_BYTES) and parses them as
 * nt_rules_parse() does. NT_ERR_IO / NT_ERR_NOTFOUND when a file cannot be
 * read (the message names it). */
int nt_rules_load_files(const char *const *paths, size_t n,
                        struct nt_rules **out, struct nt_buf *diag,
                        char *errstr, size_t errstr_size);

/* Expands rule paths: a directory stands for its *.rules files in name
 * order, a file for itself. Appends malloc'd paths to *paths (caller frees
 * each and the array). */
int nt_rules_expand_paths(const char *const *in, size_t n, char ***paths,
                          size_t *n_paths, char *errstr, size_t errstr_size);

/* Frees what nt_rules_expand_paths() handed out. NULL-safe. */
void nt_rules_free_paths(char **paths, size_t n);

#endif
