/* `newstap broker`: host the embedded dev broker until SIGINT/SIGTERM. */
#include "common/cli.h"
#include "common/commands.h"
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

int nt_cmd_broker(int argc, char **argv)
{
        static const struct option longopts[] = {
            {"brokers", required_argument, NULL, 'b'},
            {"topic", required_argument, NULL, 't'},
            {"bootstrap-file", required_argument, NULL, 'f'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
        };
        struct nt_cli cli;
        nt_devbroker_t *db = NULL;
        const char *bootstrap_file = NULL;
        char errstr[512], name[256];
        int64_t brokers = 1;
        int opt, rc = 0, partitions;
        struct timespec tick = {0, 100 * 1000 * 1000};
        const char **topics;
        size_t n_topics = 0, t;

        /* Every --topic takes an argv slot, so argc bounds the list. */
        topics = calloc((size_t)argc, sizeof(*topics));
        if (!topics || nt_cli_init(&cli, "broker", argc)) {
                free(topics);
                return 1;
        }
        while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                switch (opt) {
                case 'b':
                        if (nt_num_parse_i64(optarg, 1, 16, &brokers)) {
                                rc = nt_cli_fail(&cli, 2,
                                                 "--brokers: \"%s\" is not a "
                                                 "number in 1..16",
                                                 optarg);
                                goto out;
                        }
                        break;
                case 't':
                        if (nt_devbroker_parse_topic_spec(
                                optarg, 3, name, sizeof(name), &partitions)) {
                                rc = nt_cli_fail(&cli, 2,
                                                 "--topic: \"%s\" is not "
                                                 "NAME or NAME:PARTITIONS",
                                                 optarg);
                                goto out;
                        }
                        topics[n_topics++] = optarg;
                        break;
                case 'f':
                        bootstrap_file = optarg;
                        break;
                case 'h':
                        fputs(broker_help, stdout);
                        goto out;
                default:
                        rc = 2;
                        goto out;
                }
        }
        if (optind != argc) {
                rc = nt_cli_fail(&cli, 2, "unexpected argument \"%s\"",
                                 argv[optind]);
                goto out;
        }
        nt_sig_install();
        db = nt_devbroker_new((int)brokers, errstr, sizeof(errstr));
        if (!db) {
                rc = nt_cli_fail(&cli, 1, "%s", errstr);
                goto out;
        }
        for (t = 0; t < n_topics; t++) {
                /* Checked while parsing the options. */
                nt_devbroker_parse_topic_spec(topics[t], 3, name, sizeof(name),
                                              &partitions);
                if (nt_devbroker_create_topic(db, name, partitions, errstr,
                                              sizeof(errstr))) {
                        rc = nt_cli_fail(&cli, 1, "%s", errstr);
                        goto out;
                }
        }
        printf("%s\n", nt_devbroker_bootstraps(db));
        fflush(stdout);
        if (bootstrap_file) {
                FILE *f = fopen(bootstrap_file, "w");
                if (!f || fprintf(f, "%s\n", nt_devbroker_bootstraps(db)) < 0 ||
                    fclose(f) != 0) {
                        rc = nt_cli_fail(&cli, 1, "cannot write %s",
                                         bootstrap_file);
                        goto out;
                }
        }
        fprintf(stderr,
                "newstap broker: dev broker (librdkafka mock cluster, %d "
                "broker(s)) on %s; memory only, about 5 MiB per partition, "
                "no real transactions. Ctrl-C stops it.\n",
                (int)brokers, nt_devbroker_bootstraps(db));
        while (nt_sig_running())
                nanosleep(&tick, NULL);
out:
        nt_devbroker_destroy(db);
        nt_cli_free(&cli);
        free(topics);
        return rc;
}
