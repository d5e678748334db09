/* The entry points of newstap's commands, one per subcommand. Each parses
 * its own arguments, prints its own --help and returns the exit status:
 * 0 success, 1 runtime failure, 2 usage or configuration error. The code
 * of each lives with its side (producer/cmd_*.c, consumer/cmd_*.c) or, for
 * a command of both sides or of none, on the top floor (cli/cmd_*.c); the
 * command table is cli/main.c. These prototypes stay on the ground floor
 * because every command file implements one and a side may not include
 * cli/; they include and call nothing, so they make no upward arrow. */
#ifndef NT_COMMANDS_H
#define NT_COMMANDS_H

int nt_cmd_config(int argc, char **argv);
int nt_cmd_broker(int argc, char **argv);
int nt_cmd_demo(int argc, char **argv);
int nt_cmd_produce(int argc, char **argv);
int nt_cmd_feeds(int argc, char **argv);
int nt_cmd_parse(int argc, char **argv);
int nt_cmd_rules(int argc, char **argv);
int nt_cmd_classify(int argc, char **argv);
int nt_cmd_replay(int argc, char **argv);
int nt_cmd_tail(int argc, char **argv);

#endif
