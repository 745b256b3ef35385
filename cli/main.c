/*
 * main.c - the ant-quic program: flag parsing and subcommand dispatch
 * (wireguard-tools wg.c style table).
 */
#include <stdio.h>
#include <string.h>

#include "antquic.h"
#include "cli.h"

static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *help;
} subcommands[] = {
    {"selftest", cmd_selftest, "Run the built-in cryptographic known-answer tests"},
    {"identity", cmd_identity, "Load or create the node identity and print its PeerId"},
};

static void usage(FILE *f) {
  fprintf(f, "Usage: ant-quic [OPTIONS] [SUBCOMMAND]\n\n"
             "Options:\n"
             "  -h, --help       Print help information\n"
             "  -V, --version    Print version information\n\n"
             "Subcommands:\n");
  for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
    fprintf(f, "  %-12s %s\n", subcommands[i].name, subcommands[i].help);
  }
}

int main(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
    printf("ant-quic %s\n", aq_version());
    return 0;
  }
  if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
                    strcmp(argv[1], "help") == 0)) {
    usage(stdout);
    return 0;
  }
  if (argc >= 2) {
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
      if (strcmp(argv[1], subcommands[i].name) == 0) {
        return subcommands[i].fn(argc - 1, argv + 1);
      }
    }
    fprintf(stderr, "ant-quic: unknown option or subcommand '%s' (try --help)\n", argv[1]);
    return 2;
  }
  usage(stderr);
  return 2;
}
