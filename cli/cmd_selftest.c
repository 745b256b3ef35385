/* cmd_selftest.c - `ant-quic selftest`: run every built-in known-answer test. */
#include <stdio.h>

#include "antquic.h"
#include "cli.h"

static void report(const char *name, int ok, void *user_data) {
  int *count = user_data;
  (*count)++;
  printf("  %-28s %s\n", name, ok ? "ok" : "FAILED");
}

int cmd_selftest(int argc, char **argv) {
  (void)argv;
  int count = 0;
  if (argc > 1) {
    fprintf(stderr, "ant-quic selftest: takes no arguments\n");
    return 2;
  }
  printf("ant-quic %s crypto self-test\n", aq_version());
  int rv = aq_selftest(report, &count);
  printf("%s: %d known-answer tests\n", rv == 0 ? "PASS" : "FAIL", count);
  return rv == 0 ? 0 : 1;
}
