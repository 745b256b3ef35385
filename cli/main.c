/*
 * main.c - the ant-quic program: subcommand dispatch (wireguard-tools wg.c
 * style table).  Without a subcommand (no arguments, or options only) the
 * program runs the P2P node (cmd_node.c).
 */
#include <stdio.h>
#include <string.h>

#include "antquic.h"
#include "cli.h"
#include "node_cfg.h"

static int cmd_coordinator(int argc, char **argv) {
  return cmd_node(argc, argv, 1);
}

static int cmd_help(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fputs(node_cfg_usage_text(), stdout);
  return 0;
}

static int cmd_later(int argc, char **argv) {
  (void)argc;
  fprintf(stderr, "ant-quic: '%s' is not yet available (it comes with NAT traversal%s)\n", argv[0],
          strcmp(argv[0], "chat") == 0 ? " and chat" : "");
  return 2;
}

static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
} subcommands[] = {
    {"selftest", cmd_selftest}, {"identity", cmd_identity}, {"coordinator", cmd_coordinator},
    {"connect", cmd_later},     {"chat", cmd_later},        {"help", cmd_help},
};

int main(int argc, char **argv) {
  if (argc >= 2 && argv[1][0] != '-') {
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
      if (strcmp(argv[1], subcommands[i].name) == 0) {
        return subcommands[i].fn(argc - 1, argv + 1);
      }
    }
    fprintf(stderr, "ant-quic: unknown subcommand '%s' (try --help)\n", argv[1]);
    return 2;
  }
  return cmd_node(argc, argv, 0);
}
