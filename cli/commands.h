/* Every command of newstap, for the command table (cli/main.c): those of
 * each side (producer/commands.h, consumer/commands.h) and those of both
 * sides or of none, which live here on the top floor (cli/cmd_*.c). Same
 * contract for all: parse their own arguments, print their own --help,
 * return 0 on success, 1 on a runtime failure, 2 on a usage or
 * configuration error. */
#ifndef NT_CLI_COMMANDS_H
#define NT_CLI_COMMANDS_H

#include "consumer/commands.h"
#include "producer/commands.h"

int nt_cmd_config(int argc, char **argv);
int nt_cmd_broker(int argc, char **argv);
int nt_cmd_demo(int argc, char **argv);
int nt_cmd_parse(int argc, char **argv);

#endif
