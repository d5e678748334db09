/* Command-line plumbing shared by the command entry points: the common
 * options (-c FILE, -X name=value), loading the layered configuration and
 * setting up logging from it. Entry points only; modules never print. */
#ifndef NT_CLI_H
#define NT_CLI_H

#include <stddef.h>

#include "common/config.h"

/* The common options of a command, collected while it parses argv. */
struct nt_cli {
        const char *cmd;         /* "produce": prefixes error messages */
        const char *config_path; /* -c FILE, or NULL */
        const char **xprops;     /* -X values in the order given */
        size_t n_xprops;
        size_t cap_xprops;
        int verbose; /* -v given: log at debug */
};

/* Initialises for a command with `argc` arguments (bounds the -X list). */
int nt_cli_init(struct nt_cli *cli, const char *cmd, int argc);
void nt_cli_free(struct nt_cli *cli);

/* Records one -X value. */
int nt_cli_add_xprop(struct nt_cli *cli, const char *kv);

/* The common options, for a command's getopt_long() tables. */
#define NT_CLI_SHORTOPTS "c:X:vh"
/* clang-format off */
#define NT_CLI_LONGOPTS                                                        \
        {"config", required_argument, NULL, 'c'},                              \
        {"verbose", no_argument, NULL, 'v'},                                   \
        {"help", no_argument, NULL, 'h'}
/* clang-format on */

/* Takes -c, -X or -v into cli: returns 1 when `opt` was one of them. */
int nt_cli_common_option(struct nt_cli *cli, int opt, const char *arg);

/* Builds the effective configuration: defaults, then the file (-c, else
 * $NEWSTAP_CONFIG, else ./config/newstap.json when it exists), then the
 * environment, then -X. Sets up logging from it. On error prints
 * "newstap CMD: message" to stderr and returns NULL; the caller exits 2.
 * Caller frees the result with nt_config_destroy(). `used_path`, when not
 * NULL, receives the file that was read (borrowed from argv, the
 * environment or a literal; NULL when none). */
nt_config_t *nt_cli_load_config(const struct nt_cli *cli,
                                const char **used_path);

/* The same without printing or touching logging: for a reload in a
 * running daemon, whose other threads log. NULL with errstr on error. */
nt_config_t *nt_cli_build_config(const struct nt_cli *cli,
                                 const char **used_path, char *errstr,
                                 size_t errstr_size);

/* Prints "newstap CMD: " and the formatted message to stderr; returns
 * `code` so that entry points can `return nt_cli_fail(...)`. */
int nt_cli_fail(const struct nt_cli *cli, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The help lines of the common options, for every command's --help. */
extern const char nt_cli_common_help[];

#endif
