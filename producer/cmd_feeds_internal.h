/* What the files of `newstap feeds` share: the verbs' options and the
 * verbs that another verb builds on (migrate runs sync). Internal to
 * producer/cmd_feeds*.c. */
#ifndef NT_CMD_FEEDS_INTERNAL_H
#define NT_CMD_FEEDS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "common/cli.h"
#include "common/config.h"

/* How long one Kafka step (create, read to the end, write) may take. */
#define NT_FEEDS_TOPIC_TIMEOUT_MS 30000

struct nt_feeds_verb_opts {
        const char *name, *interval, *content;
        json_t *tags, *headers;
        bool dry_run, allow_empty, force;
};

/* `feeds sync`: makes the feeds topic hold exactly the configuration
 * file's producer.feeds, printing the difference. Returns the exit
 * status. */
int nt_feeds_cmd_sync(struct nt_cli *cli, const nt_config_t *cfg,
                      const struct nt_feeds_verb_opts *o, char **args,
                      int n_args);

/* `feeds migrate STATE_DIR` (cmd_feeds_migrate.c). */
int nt_feeds_cmd_migrate(struct nt_cli *cli, const nt_config_t *cfg,
                         const struct nt_feeds_verb_opts *o, char **args,
                         int n_args);

#endif
