/* `newstap config check|dump`: validate and show the effective
 * configuration. */
#include "common/cli.h"
#include "cli/commands.h"
#include "common/buf.h"
#include "common/config.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char config_help[] =
    "Usage: newstap config check [OPTIONS]\n"
    "       newstap config dump [OPTIONS] [--show-secrets]\n"
    "       newstap config keys\n"
    "\n"
    "check  load the configuration (defaults < file < environment < -X)\n"
    "       and validate it as every command does before it starts: each\n"
    "       key and librdkafka property, each feed of producer.feeds\n"
    "       (members, http(s) URL, interval >= producer.min_interval, no\n"
    "       URL twice), metrics.listen as HOST:PORT. Exit 0 when valid;\n"
    "       else one `file: key: reason` line per error, all in one run,\n"
    "       and exit 2. produce, classify and replay refuse the same.\n"
    "dump   print the effective configuration as JSON; secrets are\n"
    "       redacted unless --show-secrets is given: librdkafka secrets\n"
    "       (sasl.password, ...), feed header values and the user:pass@\n"
    "       of feed URLs.\n"
    "keys   list every configuration key with its type, default and\n"
    "       environment variable.\n"
    "\n";

static const char *type_name(enum nt_config_type t)
{
        static const char *const names[] = {
            [NT_CONFIG_STRING] = "string", [NT_CONFIG_INT] = "integer",
            [NT_CONFIG_BOOL] = "boolean",  [NT_CONFIG_DURATION] = "duration",
            [NT_CONFIG_SIZE] = "size",     [NT_CONFIG_ENUM] = "enum",
            [NT_CONFIG_ARRAY] = "array",
        };

        return nt_name_of(names, NT_COUNT_OF(names), t, "?");
}

static void print_keys(void)
{
        const struct nt_config_key *keys;
        char env[128];
        size_t i, n;

        keys = nt_config_keys(&n);
        for (i = 0; i < n; i++) {
                nt_config_env_name(keys[i].path, env, sizeof(env));
                printf("%-24s %-8s default %-16s %s\n    %s\n", keys[i].path,
                       type_name(keys[i].type),
                       keys[i].def ? keys[i].def : "(none)", env, keys[i].help);
        }
        printf("kafka.<property>          librdkafka property, passed "
               "through; NEWSTAP_KAFKA_<PROPERTY>\n");
}

int nt_cmd_config(int argc, char **argv)
{
        bool show_secrets = false;
        const struct nt_cli_option options[] = {
            {.name = "show-secrets",
             .kind = NT_CLI_FLAG,
             .flag = &show_secrets},
            {0},
        };
        const struct nt_cli_spec spec = {
            .options = options,
            .help = config_help,
            .common = true,
            .max_args = 1,
        };
        struct nt_cli cli;
        nt_config_t *cfg = NULL;
        const char *sub, *used = NULL;
        json_t *dump;
        int rc;

        /* `config keys` needs no configuration; check says which file. */
        rc = nt_cli_start(&cli, "config", &spec, argc, argv, NULL);
        if (rc != NT_CLI_GO)
                goto out;
        rc = 0;
        if (optind != argc - 1) {
                fputs(config_help, stderr);
                rc = 2;
                goto out;
        }
        sub = argv[optind];
        if (strcmp(sub, "keys") == 0) {
                print_keys();
                goto out;
        }
        if (strcmp(sub, "check") != 0 && strcmp(sub, "dump") != 0) {
                rc = nt_cli_fail(&cli, 2, "unknown subcommand \"%s\"", sub);
                goto out;
        }
        cfg = nt_cli_load_config(&cli, &used);
        if (!cfg) {
                rc = 2;
                goto out;
        }
        if (strcmp(sub, "check") == 0) {
                printf("configuration OK (%s, environment, command line)\n",
                       used ? used : "built-in defaults");
                goto out;
        }
        dump = nt_config_dump(cfg, !show_secrets);
        if (!dump ||
            json_dumpf(dump, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
                rc = nt_cli_fail(&cli, 1, "cannot write the dump");
        } else {
                fputc('\n', stdout);
        }
        json_decref(dump);
out:
        nt_config_destroy(cfg);
        nt_cli_free(&cli);
        return rc;
}
