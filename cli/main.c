/* newstap: the thin dispatcher from `newstap COMMAND ...` to the command's
 * entry point. Everything else lives in the modules. */
#include "cli/commands.h"

#include <curl/curl.h>
#include <expat.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include <stdio.h>
#include <string.h>

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
} commands[] = {
    {"produce", nt_cmd_produce,
     "poll feeds and publish new and edited articles"},
    {"feeds", nt_cmd_feeds,
     "list the feeds and their state; manage the feeds topic"},
    {"broker", nt_cmd_broker, "embedded dev broker (librdkafka mock cluster)"},
    {"demo", nt_cmd_demo, "run the whole pipeline on the dev broker"},
    {"config", nt_cmd_config, "validate or show the effective configuration"},
    {"parse", nt_cmd_parse,
     "parse one feed and print JSON (--articles for articles)"},
    {"rules", nt_cmd_rules,
     "check rules files; explain why a text gets its labels"},
    {"classify", nt_cmd_classify,
     "classify raw articles into enriched and per-label topics"},
    {"replay", nt_cmd_replay,
     "publish archived feeds (files, dirs, JSONL, WARC) to the raw topic"},
    {"tail", nt_cmd_tail,
     "follow the classified topics (pretty, JSON lines, format string)"},
};

static void usage(FILE *out)
{
        size_t i;

        fprintf(out,
                "Usage: newstap COMMAND [OPTIONS]\n"
                "\n"
                "newstap fetches news feeds into Kafka and classifies them by "
                "topic.\n"
                "\n"
                "Commands:\n");
        for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                fprintf(out, "  %-10s %s\n", commands[i].name,
                        commands[i].summary);
        fprintf(out, "\n"
                     "Run `newstap COMMAND --help` for a command's options.\n"
                     "  --version  print the version and the library versions\n"
                     "  --help     show this help\n"
                     "\n"
                     "Exit status: 0 success, 1 runtime failure, 2 usage or "
                     "configuration error.\n");
}

static void version(void)
{
        curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

        printf("newstap %s\n", NT_VERSION);
        printf("librdkafka %s, jansson %s, libcurl %s, %s\n",
               rd_kafka_version_str(), jansson_version_str(), cv->version,
               XML_ExpatVersion());
}

int main(int argc, char **argv)
{
        size_t i;

        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
            !strcmp(argv[1], "help")) {
                usage(stdout);
                return 0;
        }
        if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
                version();
                return 0;
        }
        for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
                if (!strcmp(argv[1], commands[i].name))
                        return commands[i].run(argc - 1, argv + 1);
        }
        fprintf(stderr, "newstap: unknown command \"%s\"\n\n", argv[1]);
        usage(stderr);
        return 2;
}
