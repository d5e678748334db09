/* Command-line plumbing shared by the command entry points: the common
 * options (-c FILE, -X name=value), reading argv from a table of options,
 * loading the layered configuration and setting up logging from it.
 * Entry points only; modules never print. It lives on the ground floor
 * because the entry points of every floor use it (cli/cmd_*.c and the
 * sides' producer/cmd_*.c, consumer/cmd_*.c); the folder cli/ is the top
 * floor that holds the command table, not this module. */
#ifndef NT_CLI_H
#define NT_CLI_H

#include <getopt.h>
#include <stdbool.h>
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
        /* The values of the command's one repeatable option (--rules,
         * --opml, --topic) in the order given. */
        const char **values;
        size_t n_values;
        size_t cap_values;
};

/* Initialises for a command with `argc` arguments (bounds the -X list and
 * the repeatable option's). nt_cli_free() is safe after a failure. */
int nt_cli_init(struct nt_cli *cli, const char *cmd, int argc);
void nt_cli_free(struct nt_cli *cli);

/* Records one -X value. */
int nt_cli_add_xprop(struct nt_cli *cli, const char *kv);

/* Records one value of the command's repeatable option. Each takes an
 * argv slot, so argc bounds them; one more fits for a value taken from
 * the configuration when none was given. NT_ERR_LIMIT past that. */
int nt_cli_add_value(struct nt_cli *cli, const char *value);

/* The common options, for the getopt_long() tables of commands that read
 * argv themselves (nt_cli_parse() adds them to a spec's). */
#define NT_CLI_SHORTOPTS "c:X:vh"
/* clang-format off */
#define NT_CLI_LONGOPTS                                                        \
        {"config", required_argument, NULL, 'c'},                              \
        {"verbose", no_argument, NULL, 'v'},                                   \
        {"help", no_argument, NULL, 'h'}
/* clang-format on */

/* Takes -c, -X or -v into cli: returns 1 when `opt` was one of them. */
int nt_cli_common_option(struct nt_cli *cli, int opt, const char *arg);

/* Most options of one command, for nt_cli_parse()'s table. */
#define NT_CLI_MAX_OPTIONS 32

/* An option that only keeps its argument or says it was given:
 * nt_cli_parse() does that itself, without the command's on_option(). A
 * spec lists them in an array ended by an entry whose `opt` is 0. */
struct nt_cli_store {
        int opt;            /* the option's value in the getopt tables */
        const char **value; /* takes the argument (borrowed from argv) */
        bool *flag;         /* set to true */
        bool repeat; /* the argument goes to cli->values (nt_cli_add_value) */
};

/* How a command reads its argv, for nt_cli_parse(). */
struct nt_cli_spec {
        /* NULL: NT_CLI_SHORTOPTS with `common`, else "h"; a command with
         * short letters of its own gives them all ("c:X:vho:"). */
        const char *shortopts;
        /* The command's own options, ended by an all-zero entry;
         * nt_cli_parse() adds --help, and with `common` --config and
         * --verbose. At most NT_CLI_MAX_OPTIONS. */
        const struct option *longopts;
        const char *help; /* --help prints this */
        bool common;      /* takes -c, -X, -v: their help follows `help` */
        /* The options that only keep their argument or a flag; NULL when
         * none. */
        const struct nt_cli_store *stores;
        /* The command's other options: returns 0 to go on, or the exit
         * code to stop with (2 after saying what is wrong with
         * nt_cli_fail()). */
        int (*on_option)(struct nt_cli *cli, void *ctx, int opt,
                         const char *arg);
        void *ctx;
        int max_args; /* positional arguments allowed (from optind) */
        /* After getopt_long()'s word on an unknown option or a missing
         * value, "Run `newstap CMD --help' for the options." too. */
        bool hint_help;
};

/* nt_cli_parse() went through argv: the command goes on. */
#define NT_CLI_GO (-1)

/* Reads argv with getopt_long(): the common options into cli, --help
 * printed, spec->stores kept, every other option handed to
 * spec->on_option(), and more than spec->max_args positional arguments
 * refused. Returns NT_CLI_GO with the positional arguments at
 * argv[optind..argc), or the exit code to return at once: 0 after
 * --help, 2 on a usage error (already said on stderr), 1 when a repeated
 * value did not fit, or what on_option() returned. */
int nt_cli_parse(struct nt_cli *cli, const struct nt_cli_spec *spec, int argc,
                 char **argv);

/* Builds the effective configuration: defaults, then the file (-c, else
 * $NEWSTAP_CONFIG, else ./config/newstap.json when it exists), then the
 * environment, then -X. Sets up logging from it. On error prints
 * "newstap CMD: message" to stderr and returns NULL; the caller exits 2.
 * Caller frees the result with nt_config_destroy(). `used_path`, when not
 * NULL, receives the file that was read (borrowed from argv, the
 * environment or a literal; NULL when none). */
nt_config_t *nt_cli_load_config(const struct nt_cli *cli,
                                const char **used_path);

/* The start of a command: nt_cli_init(), nt_cli_parse() and, when cfg is
 * not NULL, nt_cli_load_config() into *cfg (caller frees with
 * nt_config_destroy()). Returns NT_CLI_GO to go on, or the exit code to
 * return at once: 0 after --help, 1 out of memory, 2 a usage or
 * configuration error (already said). Either way the caller frees cli
 * with nt_cli_free(). */
int nt_cli_start(struct nt_cli *cli, const char *cmd,
                 const struct nt_cli_spec *spec, int argc, char **argv,
                 nt_config_t **cfg);

/* The same without printing or touching logging: for a reload in a
 * running daemon, whose other threads log. NULL with errstr on error. */
nt_config_t *nt_cli_build_config(const struct nt_cli *cli,
                                 const char **used_path, char *errstr,
                                 size_t errstr_size);

/* Prints "newstap CMD: " and the formatted message to stderr; returns
 * `code` so that entry points can `return nt_cli_fail(...)`. */
int nt_cli_fail(const struct nt_cli *cli, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reads all of `path` ("-": standard input) into *out, NUL-terminated
 * (not counted in *len), failing with NT_ERR_LIMIT past `max` bytes
 * without reading much further; NT_ERR_IO with errstr naming the file.
 * Caller frees *out with free(). For commands that read one document. */
int nt_cli_read_input(const char *path, size_t max, char **out, size_t *len,
                      char *errstr, size_t errstr_size);

/* The start of a command that reads one document, FILE or "-" for
 * standard input, after its options (spec->max_args is not used):
 * nt_cli_init(), nt_cli_parse(), then the one FILE read whole into *data
 * (NUL-terminated, `max` bytes at most; caller frees with free()) and its
 * name into *path (borrowed from argv). Returns NT_CLI_GO to go on, or the
 * exit code to return at once: 0 after --help, 2 a usage error (no FILE or
 * more than one: said with the help on stderr), 1 the file unreadable or
 * out of memory (said). Either way the caller ends with
 * nt_cli_end_file(). */
int nt_cli_start_file(struct nt_cli *cli, const char *cmd,
                      const struct nt_cli_spec *spec, int argc, char **argv,
                      size_t max, const char **path, char **data, size_t *len);

/* The end of a command started with nt_cli_start_file(): standard output
 * flushed (a failure there turns a success into 1), cli and `data` freed.
 * Returns the exit status. */
int nt_cli_end_file(struct nt_cli *cli, int rc, char *data);

/* The help lines of the common options, for every command's --help. */
extern const char nt_cli_common_help[];

#endif
