/*
 * aq_selftest.c - built-in known-answer tests, run by `ant-quic selftest`
 * (and `make demo`).  Each entry computes a primitive on a fixed input and
 * compares it with a published answer.
 */
#include <string.h>

#include "antquic.h"
#include "aq_selftest.h"

const char *aq_version(void) { return AQ_VERSION_STR; }

int aq_selftest(void (*report)(const char *name, int ok, void *user_data), void *user_data) {
  size_t n;
  const aq_selftest_entry *t = aq_selftest_table(&n);
  int all_ok = 1;
  for (size_t i = 0; i < n; i++) {
    int ok = t[i].fn() == 0;
    if (report) {
      report(t[i].name, ok, user_data);
    }
    all_ok &= ok;
  }
  return all_ok ? 0 : AQ_ERR_CRYPTO;
}
