/* `newstap broker`: host the embedded dev broker until SIGINT/SIGTERM. */
#include "common/cli.h"
#include "cli/commands.h"
#include "common/devbroker.h"
#include "common/err.h"
#include "common/num.h"
#include "common/sig.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char broker_help[] =
    "Usage: newstap broker [--brokers N] [--topic NAME[:PARTITIONS]]...\n"
    "                      [--bootstrap-file FILE]\n"
    "\n"
    "Runs librdkafka's mock cluster on 127.0.0.1 for demos and client\n"
    "fault-injection tests, prints its bootstrap list as the first line\n"
    "of stdout, and runs until SIGINT or SIGTERM (then exits 0).\n"
    "\n"
    "Its limits, plainly:\n"
    "  - memory only: everything is gone when it stops;\n"
    "  - roughly 5 MiB kept per partition: librdkafka silently drops\n"
    "    older messages past that;\n"
    "  - transactions are only a state machine: no commit markers are\n"
    "    written and transactional offsets are not stored.\n"
    "It never proves a delivery guarantee; use a real Kafka broker\n"
    "(scripts/kafka-local) for that.\n"
    "\n"
    "Options:\n"
    "  --brokers N             brokers in the cluster (1..16, default 1)\n"
    "  --topic NAME[:P]        create a topic with P partitions (default\n"
    "                          3); repeatable. Other topics are created\n"
    "                          on first use.\n"
    "  --bootstrap-file FILE   also write the bootstrap list to FILE\n"
    "  -h, --help              show this help\n";

struct broker_opts {
        int64_t brokers;            /* --brokers */
        const char *bootstrap_file; /* --bootstrap-file */
};

static int broker_option(struct nt_cli *cli, void *opaque, int opt,
                         const char *arg)
{
        struct broker_opts *b = opaque;
        char name[256];
        int partitions;

        switch (opt) {
        case 'b':
                if (nt_num_parse_i64(arg, 1, 16, &b->brokers))
                        return nt_cli_fail(cli, 2,
                                           "--brokers: \"%s\" is not a "
                                           "number in 1..16",
                                           arg);
                return 0;
        case 't':
                if (nt_devbroker_parse_topic_spec(arg, 3, name, sizeof(name),
                                                  &partitions))
                        return nt_cli_fail(cli, 2,
                                           "--topic: \"%s\" is not "
                                           "NAME or NAME:PARTITIONS",
                                           arg);
                return nt_cli_add_value(cli, arg) ? 1 : 0;
        }
        return 2;
}

int nt_cmd_broker(int argc, char **argv)
{
        struct broker_opts b = {.brokers = 1};
        const struct nt_cli_option options[] = {
            {.name = "brokers", .kind = NT_CLI_CALL, .id = 'b'},
            {.name = "topic", .kind = NT_CLI_CALL, .id = 't'},
            {.name = "bootstrap-file",
             .kind = NT_CLI_VALUE,
             .value = &b.bootstrap_file},
            {0},
        };
        const struct nt_cli_spec spec = {
            .options = options,
            .help = broker_help,
            .on_option = broker_option,
            .ctx = &b,
        };
        struct nt_cli cli;
        nt_devbroker_t *db = NULL;
        char errstr[512], name[256];
        int rc = 0, partitions;
        struct timespec tick = {0, 100 * 1000 * 1000};
        size_t t;

        rc = nt_cli_start(&cli, "broker", &spec, argc, argv, NULL);
        if (rc != NT_CLI_GO)
                goto out;
        rc = 0;
        nt_sig_install();
        db = nt_devbroker_new((int)b.brokers, errstr, sizeof(errstr));
        if (!db) {
                rc = nt_cli_fail(&cli, 1, "%s", errstr);
                goto out;
        }
        for (t = 0; t < cli.n_values; t++) {
                /* Checked while parsing the options. */
                nt_devbroker_parse_topic_spec(cli.values[t], 3, name,
                                              sizeof(name), &partitions);
                if (nt_devbroker_create_topic(db, name, partitions, errstr,
                                              sizeof(errstr))) {
                        rc = nt_cli_fail(&cli, 1, "%s", errstr);
                        goto out;
                }
        }
        printf("%s\n", nt_devbroker_bootstraps(db));
        fflush(stdout);
        if (b.bootstrap_file) {
                FILE *f = fopen(b.bootstrap_file, "w");
                if (!f || fprintf(f, "%s\n", nt_devbroker_bootstraps(db)) < 0 ||
                    fclose(f) != 0) {
                        rc = nt_cli_fail(&cli, 1, "cannot write %s",
                                         b.bootstrap_file);
                        goto out;
                }
        }
        fprintf(stderr,
                "newstap broker: dev broker (librdkafka mock cluster, %d "
                "broker(s)) on %s; memory only, about 5 MiB per partition, "
                "no real transactions. Ctrl-C stops it.\n",
                (int)b.brokers, nt_devbroker_bootstraps(db));
        while (nt_sig_running())
                nanosleep(&tick, NULL);
out:
        nt_devbroker_destroy(db);
        nt_cli_free(&cli);
        return rc;
}
