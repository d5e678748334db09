/* Command-line plumbing shared by the command entry points: the common
 * options (-c FILE, -X name=value), reading argv from a table of options,
 * loading the layered configuration and setting up logging from it.
 * Entry points only; modules never print. It lives on the ground floor
 * because the entry points of every floor use it (cli/cmd_*.c and the
 * sides' producer/cmd_*.c, consumer/cmd_*.c); the folder cli/ is the top
 * floor that holds the command table, not this module. */
#ifndef NT_CLI_H
#define NT_CLI_H

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

/* Most options of one command, for nt_cli_parse()'s table. */
#define NT_CLI_MAX_OPTIONS 32

/* What an option takes and where nt_cli_parse() puts it. */
enum nt_cli_kind {
        NT_CLI_FLAG,       /* no argument: *flag set to true */
        NT_CLI_VALUE,      /* an argument: *value (borrowed from argv; the
                              last one given counts) */
        NT_CLI_REPEAT,     /* an argument, repeatable: cli->values, in order */
        NT_CLI_CALL,       /* an argument, handed to spec->on_option() */
        NT_CLI_CALL_NOARG, /* no argument, handed to spec->on_option() */
};

/* One option of a command: its names, what it takes and where it goes.
 * A command lists them in an array ended by a row with neither name nor
 * letter; nt_cli_parse() builds getopt_long()'s tables from it. */
struct nt_cli_option {
        const char *name; /* --name; NULL: the letter alone */
        char letter;      /* -letter; 0: the long name alone. Not one of the
                             common options' (c, X, v, h) */
        enum nt_cli_kind kind;
        const char **value; /* NT_CLI_VALUE */
        bool *flag;         /* NT_CLI_FLAG */
        int id; /* NT_CLI_CALL*: what on_option() receives; 0: the letter */
};

/* How a command reads its argv, for nt_cli_parse(). */
struct nt_cli_spec {
        /* The command's own options; nt_cli_parse() adds -h, --help, and
         * with `common` -c, --config, -X and -v, --verbose. At most
         * NT_CLI_MAX_OPTIONS. */
        const struct nt_cli_option *options;
        const char *help;      /* --help prints this */
        const char *help_more; /* and then this, when not NULL: C11
                                  compilers need take only string literals
                                  of 4,095 bytes */
        bool common;           /* takes -c, -X, -v: their help follows `help` */
        /* The common options head getopt_long()'s table instead of
         * ending it: the order it lists the possibilities of an ambiguous
         * abbreviation in. */
        bool common_first;
        /* The options of kind NT_CLI_CALL and NT_CLI_CALL_NOARG (`arg`
         * NULL): returns 0 to go on, or the exit code to stop with (2
         * after saying what is wrong with nt_cli_fail()). */
        int (*on_option)(struct nt_cli *cli, void *ctx, int id,
                         const char *arg);
        void *ctx;
        /* nt_cli_start() calls it after the options, before it reads
         * the configuration: the checks that need all the options, and
         * what they decide together (argv[optind..argc) holds the
         * positional arguments). Returns 0 to go on, or the exit code to
         * stop with (2 after saying what is wrong with nt_cli_fail()).
         * NULL: none. */
        int (*check)(struct nt_cli *cli, void *ctx, int argc, char **argv);
        int max_args; /* positional arguments allowed (from optind) */
        /* After getopt_long()'s word on an unknown option or a missing
         * value, "Run `newstap CMD --help' for the options." too. */
        bool hint_help;
};

/* True when `word` is an option of spec (common ones included) that
 * takes its argument from the next word of argv: "-c", "--opml". For a
 * command that looks for a verb among its options before parsing them. */
bool nt_cli_takes_next(const struct nt_cli_spec *spec, const char *word);

/* nt_cli_parse() went through argv: the command goes on. */
#define NT_CLI_GO (-1)

/* Reads argv with getopt_long(), its tables built from spec->options:
 * the common options into cli, --help printed, each option where its row
 * says, and more than spec->max_args positional arguments refused.
 * Returns NT_CLI_GO with the positional arguments at argv[optind..argc),
 * or the exit code to return at once: 0 after --help, 2 on a usage error
 * (already said on stderr), 1 when a repeated value did not fit or the
 * table is wrong (too many rows, a common letter reused), or what
 * on_option() returned. */
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

/* The start of a command: nt_cli_init(), nt_cli_parse(), spec->check()
 * and, when cfg is not NULL, nt_cli_load_config() into *cfg (caller frees
 * with nt_config_destroy()). Returns NT_CLI_GO to go on, or the exit code
 * to return at once: 0 after --help, 1 out of memory, 2 a usage or
 * configuration error (already said), or what spec->check() returned.
 * Either way the caller frees cli with nt_cli_free(). */
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

/* An option that stands for a configuration key: sets `key` to `value`
 * (nothing when value is NULL, the option not given), `option` ("--topic")
 * named as the origin. Returns 0, or 2 after saying what is wrong with
 * nt_cli_fail(): the caller returns it as the exit code. */
int nt_cli_set_key(const struct nt_cli *cli, nt_config_t *cfg, const char *key,
                   const char *value, const char *option);

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
