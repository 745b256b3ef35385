/* cli.h - subcommand entry points of the ant-quic program. */
#ifndef AQ_CLI_H
#define AQ_CLI_H

int cmd_selftest(int argc, char **argv);
int cmd_identity(int argc, char **argv);
/** Run the node (argv[0] is the program or subcommand name); coordinator = 1 forces that role. */
int cmd_node(int argc, char **argv, int coordinator);

#endif
