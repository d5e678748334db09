/* The consumer side's commands: entry points called from the command
 * table (cli/main.c). Each parses its own arguments, prints its own --help
 * and returns the exit status: 0 success, 1 runtime failure, 2 usage or
 * configuration error. */
#ifndef NT_CONSUMER_COMMANDS_H
#define NT_CONSUMER_COMMANDS_H

int nt_cmd_classify(int argc, char **argv);
int nt_cmd_rules(int argc, char **argv);
int nt_cmd_tail(int argc, char **argv);

#endif
