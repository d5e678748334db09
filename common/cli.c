#include "common/cli.h"
#include "common/err.h"
#include "common/log.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

const char nt_cli_common_help[] =
    "Common options:\n"
    "  -c, --config FILE    configuration file (default: $NEWSTAP_CONFIG,\n"
    "                       else ./config/newstap.json when present)\n"
    "  -X NAME=VALUE        librdkafka property, overrides the file and\n"
    "                       the environment (repeatable)\n"
    "  -v, --verbose        log at debug level\n"
    "  -h, --help           show this help\n";

static const char default_config[] = "config/newstap.json";

int nt_cli_init(struct nt_cli *cli, const char *cmd, int argc)
{
        cli->cmd = cmd;
        cli->config_path = NULL;
        cli->n_xprops = 0;
        cli->verbose = 0;
        cli->n_values = 0;
        cli->cap_xprops = argc > 0 ? (size_t)argc : 1;
        cli->cap_values = cli->cap_xprops + 1;
        cli->xprops = calloc(cli->cap_xprops, sizeof(*cli->xprops));
        cli->values = calloc(cli->cap_values, sizeof(*cli->values));
        return cli->xprops && cli->values ? NT_OK : NT_ERR_NOMEM;
}

void nt_cli_free(struct nt_cli *cli)
{
        free(cli->xprops);
        free(cli->values);
        cli->xprops = NULL;
        cli->values = NULL;
}

int nt_cli_add_xprop(struct nt_cli *cli, const char *kv)
{
        /* Each -X takes an argv slot, so argc bounds the count. */
        if (cli->n_xprops >= cli->cap_xprops)
                return NT_ERR_LIMIT;
        cli->xprops[cli->n_xprops++] = kv;
        return NT_OK;
}

int nt_cli_add_value(struct nt_cli *cli, const char *value)
{
        if (cli->n_values >= cli->cap_values)
                return NT_ERR_LIMIT;
        cli->values[cli->n_values++] = value;
        return NT_OK;
}

/* Takes -c, -X or -v into cli: returns 1 when `opt` was one of them. */
static int common_option(struct nt_cli *cli, int opt, const char *arg)
{
        switch (opt) {
        case 'c':
                cli->config_path = arg;
                return 1;
        case 'X':
                nt_cli_add_xprop(cli, arg);
                return 1;
        case 'v':
                cli->verbose = 1;
                return 1;
        }
        return 0;
}

/* The long names of the common options; --help is the last, as the one
 * every command has. getopt_long() returns their letters for them. */
static const struct option common_long[] = {
    {"config", required_argument, NULL, 'c'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
};
#define N_COMMON_LONG (sizeof(common_long) / sizeof(common_long[0]))

/* What getopt_long() returns for the long name of row i of a command's
 * table: past every char, so that it never meets a letter. */
#define ROW_VAL(i) (256 + (int)(i))

static bool row_end(const struct nt_cli_option *o)
{
        return !o->name && !o->letter;
}

static bool takes_arg(const struct nt_cli_option *o)
{
        return o->kind == NT_CLI_VALUE || o->kind == NT_CLI_REPEAT ||
               o->kind == NT_CLI_CALL;
}

/* getopt_long()'s tables for spec: in `shortopts` (2 *
 * NT_CLI_MAX_OPTIONS + 8 bytes) the common letters and the command's,
 * in `all` (NT_CLI_MAX_OPTIONS + N_COMMON_LONG + 1 entries) the command's
 * long names and the common ones, ended by an all-zero entry. 1 when the
 * table is wrong (said as a bug). */
static int build_tables(struct nt_cli *cli, const struct nt_cli_spec *spec,
                        char *shortopts, struct option *all)
{
        const char *common_short = spec->common ? "c:X:vh" : "h";
        size_t n_common = spec->common ? N_COMMON_LONG : 1;
        const struct option *common = common_long + N_COMMON_LONG - n_common;
        size_t n = 0, ns = strlen(common_short), i;

        memcpy(shortopts, common_short, ns);
        if (spec->common_first) {
                memcpy(all, common, n_common * sizeof(*all));
                n = n_common;
        }
        for (i = 0; spec->options && !row_end(&spec->options[i]); i++) {
                const struct nt_cli_option *o = &spec->options[i];

                if (i >= NT_CLI_MAX_OPTIONS)
                        return nt_cli_fail(cli, 1, "bug: more than %d options",
                                           NT_CLI_MAX_OPTIONS);
                /* common_option() would take it first. */
                if (o->letter && strchr("cXvh", o->letter))
                        return nt_cli_fail(
                            cli, 1, "bug: -%c is a common option", o->letter);
                if (o->letter) {
                        shortopts[ns++] = o->letter;
                        if (takes_arg(o))
                                shortopts[ns++] = ':';
                }
                if (o->name) {
                        all[n].name = o->name;
                        all[n].has_arg =
                            takes_arg(o) ? required_argument : no_argument;
                        all[n].flag = NULL;
                        all[n].val = ROW_VAL(i);
                        n++;
                }
        }
        shortopts[ns] = '\0';
        if (!spec->common_first) {
                memcpy(all + n, common, n_common * sizeof(*all));
                n += n_common;
        }
        memset(&all[n], 0, sizeof(all[n]));
        return 0;
}

/* The row of spec->options that getopt_long() returned `opt` for: by its
 * long name or by its letter. NULL for none. */
static const struct nt_cli_option *find_row(const struct nt_cli_spec *spec,
                                            int opt)
{
        const struct nt_cli_option *o;

        if (opt >= ROW_VAL(0))
                return &spec->options[opt - ROW_VAL(0)];
        for (o = spec->options; o && !row_end(o); o++) {
                if (o->letter == opt)
                        return o;
        }
        return NULL;
}

/* Puts one option where its row says. Returns 0 to go on, else the exit
 * code (1 when a repeated value did not fit, or on_option()'s). */
static int apply_row(struct nt_cli *cli, const struct nt_cli_spec *spec,
                     const struct nt_cli_option *o, const char *arg)
{
        switch (o->kind) {
        case NT_CLI_FLAG:
                *o->flag = true;
                return 0;
        case NT_CLI_VALUE:
                *o->value = arg;
                return 0;
        case NT_CLI_REPEAT:
                return nt_cli_add_value(cli, arg) ? 1 : 0;
        case NT_CLI_CALL:
        case NT_CLI_CALL_NOARG:
                break;
        }
        if (!spec->on_option)
                return 2;
        return spec->on_option(cli, spec->ctx, o->id ? o->id : o->letter, arg);
}

bool nt_cli_takes_next(const struct nt_cli_spec *spec, const char *word)
{
        const struct nt_cli_option *o;

        if (spec->common &&
            (strcmp(word, "-c") == 0 || strcmp(word, "--config") == 0 ||
             strcmp(word, "-X") == 0))
                return true;
        if (word[0] != '-')
                return false;
        for (o = spec->options; o && !row_end(o); o++) {
                if (!takes_arg(o))
                        continue;
                if (o->letter && word[1] == o->letter && word[2] == '\0')
                        return true;
                if (o->name && word[1] == '-' && strcmp(word + 2, o->name) == 0)
                        return true;
        }
        return false;
}

int nt_cli_parse(struct nt_cli *cli, const struct nt_cli_spec *spec, int argc,
                 char **argv)
{
        struct option all[NT_CLI_MAX_OPTIONS + N_COMMON_LONG + 1];
        char shortopts[2 * NT_CLI_MAX_OPTIONS + 8];
        const struct nt_cli_option *row;
        int opt, rc;

        if (build_tables(cli, spec, shortopts, all))
                return 1;
        while ((opt = getopt_long(argc, argv, shortopts, all, NULL)) != -1) {
                if (spec->common && common_option(cli, opt, optarg))
                        continue;
                if (opt == 'h') {
                        fputs(spec->help, stdout);
                        if (spec->help_more)
                                fputs(spec->help_more, stdout);
                        if (spec->common)
                                fputs(nt_cli_common_help, stdout);
                        return 0;
                }
                /* getopt_long() has said what was wrong with it. */
                if (opt == '?' || opt == ':') {
                        if (spec->hint_help)
                                fprintf(stderr,
                                        "Run `newstap %s --help' for the "
                                        "options.\n",
                                        cli->cmd);
                        return 2;
                }
                row = find_row(spec, opt);
                rc = row ? apply_row(cli, spec, row, optarg) : 2;
                if (rc != 0)
                        return rc;
        }
        if (argc - optind > spec->max_args)
                return nt_cli_fail(cli, 2, "unexpected argument \"%s\"",
                                   argv[optind + spec->max_args]);
        return NT_CLI_GO;
}

int nt_cli_start(struct nt_cli *cli, const char *cmd,
                 const struct nt_cli_spec *spec, int argc, char **argv,
                 nt_config_t **cfg)
{
        int rc;

        if (cfg)
                *cfg = NULL;
        if (nt_cli_init(cli, cmd, argc))
                return 1;
        rc = nt_cli_parse(cli, spec, argc, argv);
        if (rc != NT_CLI_GO)
                return rc;
        if (spec->check) {
                rc = spec->check(cli, spec->ctx, argc, argv);
                if (rc != 0)
                        return rc;
        }
        if (!cfg)
                return NT_CLI_GO;
        *cfg = nt_cli_load_config(cli, NULL);
        return *cfg ? NT_CLI_GO : 2;
}

int nt_cli_start_file(struct nt_cli *cli, const char *cmd,
                      const struct nt_cli_spec *spec, int argc, char **argv,
                      size_t max, const char **path, char **data, size_t *len)
{
        struct nt_cli_spec many = *spec;
        char errstr[512];
        int rc;

        /* No FILE and two are one mistake, said the same way. */
        many.max_args = INT_MAX;
        rc = nt_cli_start(cli, cmd, &many, argc, argv, NULL);
        if (rc != NT_CLI_GO)
                return rc;
        if (optind != argc - 1) {
                nt_cli_fail(cli, 2, "expected one FILE (or - for stdin)\n");
                fputs(spec->help, stderr);
                return 2;
        }
        *path = argv[optind];
        rc = nt_cli_read_input(*path, max, data, len, errstr, sizeof(errstr));
        if (rc)
                return nt_cli_fail(cli, 1, "%s",
                                   rc == NT_ERR_NOMEM ? "out of memory"
                                                      : errstr);
        return NT_CLI_GO;
}

int nt_cli_end_file(struct nt_cli *cli, int rc, char *data)
{
        if (fflush(stdout) != 0 && rc == 0)
                rc = 1;
        nt_cli_free(cli);
        free(data);
        return rc;
}

int nt_cli_fail(const struct nt_cli *cli, int code, const char *fmt, ...)
{
        va_list ap;

        fprintf(stderr, "newstap %s: ", cli->cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return code;
}

int nt_cli_set_key(const struct nt_cli *cli, nt_config_t *cfg, const char *key,
                   const char *value, const char *option)
{
        char errstr[1024];

        if (!value || nt_config_set(cfg, key, value, option, errstr,
                                    sizeof(errstr)) == NT_OK)
                return 0;
        return nt_cli_fail(cli, 2, "%s", errstr);
}

/* Builds the configuration layer by layer, reporting every error of
 * every layer and then the checks across keys, so that one run shows
 * all mistakes. NULL when there was any; the report says which. */
static nt_config_t *build(const struct nt_cli *cli, const char **used_path,
                          struct nt_config_report *r)
{
        const char *path = cli->config_path;
        char errstr[1024];
        nt_config_t *cfg;
        size_t i;

        if (used_path)
                *used_path = NULL;
        cfg = nt_config_new();
        if (!cfg) {
                nt_config_report_add(r, "out of memory");
                return NULL;
        }
        if (!path)
                path = getenv("NEWSTAP_CONFIG");
        if (!path && access(default_config, R_OK) == 0)
                path = default_config;
        if (path)
                nt_config_load_file_all(cfg, path, r);
        nt_config_load_env_all(cfg, environ, r);
        for (i = 0; i < cli->n_xprops; i++) {
                if (nt_config_set_kafka_kv(cfg, cli->xprops[i], "-X", errstr,
                                           sizeof(errstr)))
                        nt_config_report_add(r, "%s", errstr);
        }
        nt_config_validate(cfg, r);
        if (r->n > 0) {
                nt_config_destroy(cfg);
                return NULL;
        }
        if (used_path)
                *used_path = path;
        return cfg;
}

nt_config_t *nt_cli_build_config(const struct nt_cli *cli,
                                 const char **used_path, char *errstr,
                                 size_t errstr_size)
{
        struct nt_config_report r;
        nt_config_t *cfg;

        nt_config_report_init(&r);
        cfg = build(cli, used_path, &r);
        if (!cfg)
                nt_config_report_errstr(&r, "; ", errstr, errstr_size);
        nt_config_report_free(&r);
        return cfg;
}

nt_config_t *nt_cli_load_config(const struct nt_cli *cli,
                                const char **used_path)
{
        enum nt_log_level level;
        enum nt_log_format format;
        struct nt_config_report r;
        nt_config_t *cfg;

        nt_config_report_init(&r);
        cfg = build(cli, used_path, &r);
        if (!cfg) {
                /* The lines as they are, so that `config check` and every
                 * daemon print the same ones; then what it means. */
                fputs(nt_buf_str(&r.text), stderr);
                nt_cli_fail(cli, 2, "%zu configuration error%s%s", r.n,
                            r.n == 1 ? "" : "s",
                            strcmp(cli->cmd, "config") == 0
                                ? ""
                                : "; nothing was started (`newstap config "
                                  "check` lists the same)");
                nt_config_report_free(&r);
                return NULL;
        }
        nt_config_report_free(&r);
        /* Both values were checked against their choices when set. */
        nt_log_level_parse(nt_config_str(cfg, "log.level"), &level);
        nt_log_format_parse(nt_config_str(cfg, "log.format"), &format);
        nt_log_setup(cli->verbose ? NT_LOG_DEBUG : level, format, stderr);
        return cfg;
}

int nt_cli_read_input(const char *path, size_t max, char **out, size_t *len,
                      char *errstr, size_t errstr_size)
{
        FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
        size_t cap = 0, n = 0, got;
        char *buf = NULL, *p;
        struct stat sb;
        int rc = NT_OK;

        if (!f)
                return nt_errf(errstr, errstr_size, NT_ERR_IO, "%s: %s", path,
                               strerror(errno));
        /* A regular file says its size: a huge one fails at once. */
        if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode) &&
            (unsigned long long)sb.st_size > (unsigned long long)max) {
                rc = nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                             "%s: %lld bytes is more than the document limit "
                             "of %zu",
                             path, (long long)sb.st_size, max);
                goto out;
        }
        for (;;) {
                if (n == cap) {
                        if (cap > max) {
                                rc = nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                                             "%s: more than the document "
                                             "limit of %zu bytes",
                                             path, max);
                                goto out;
                        }
                        cap = cap ? cap * 2 : 65536;
                        if (cap > max + 1)
                                cap = max + 1;
                        p = realloc(buf, cap + 1);
                        if (!p) {
                                rc = NT_ERR_NOMEM;
                                goto out;
                        }
                        buf = p;
                }
                got = fread(buf + n, 1, cap - n, f);
                n += got;
                if (got == 0)
                        break;
        }
        if (ferror(f)) {
                rc = nt_errf(errstr, errstr_size, NT_ERR_IO, "%s: read error",
                             path);
                goto out;
        }
        if (n > max) {
                rc = nt_errf(errstr, errstr_size, NT_ERR_LIMIT,
                             "%s: more than the document limit of %zu bytes",
                             path, max);
                goto out;
        }
        if (!buf && !(buf = malloc(1))) {
                rc = NT_ERR_NOMEM;
                goto out;
        }
        buf[n] = '\0';
        *out = buf;
        *len = n;
        buf = NULL;
out:
        free(buf);
        if (f != stdin)
                fclose(f);
        return rc;
}
