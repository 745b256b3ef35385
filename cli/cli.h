/* cli.h - subcommand entry points of the ant-quic program. */
#ifndef AQ_CLI_H
#define AQ_CLI_H

int cmd_selftest(int argc, char **argv);
int cmd_identity(int argc, char **argv);

#endif
