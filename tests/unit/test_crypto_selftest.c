/* test_crypto_selftest.c - every built-in known-answer test of `ant-quic selftest` passes. */
#include "aq_selftest.h"
#include "aq_test.h"

AQ_TEST(crypto_selftest_kats) {
  size_t n = 0;
  const aq_selftest_entry *t = aq_selftest_table(&n);
  static const char *const want[] = {"sha-256",
                                     "hkdf-sha256 (RFC 5869)",
                                     "quic initial keys v1/v2",
                                     "aes-128-gcm (RFC 9001)",
                                     "chacha20-poly1305 (9001)",
                                     "quic retry tag (RFC 9001)",
                                     "x25519 (RFC 7748)",
                                     "ed25519 (RFC 8032)"};
  for (size_t i = 0; i < n; i++) {
    if (t[i].fn() != 0) {
      aq_test_fail(__FILE__, __LINE__, "selftest %s failed", t[i].name);
    }
  }
  /* The classical entries are all registered. */
  for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
    int found = 0;
    for (size_t i = 0; i < n; i++) {
      found |= strcmp(t[i].name, want[w]) == 0;
    }
    if (!found) {
      aq_test_fail(__FILE__, __LINE__, "selftest %s missing", want[w]);
    }
  }
}
