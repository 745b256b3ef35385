/*
 * aq_selftest_kat.c - the known-answer tests themselves.  Answers are from
 * the standards (FIPS 202 examples, RFC 9001 App. A, RFC 7748 §5.2,
 * RFC 8032 §7.1, FIPS 203/204 ACVP records via their hashes).
 */
#include <string.h>

#include "aq_selftest.h"
#include "aq_sha3.h"

static int kat_eq(const uint8_t *got, const uint8_t *want, size_t len) {
  return memcmp(got, want, len) == 0 ? 0 : -1;
}

/* SHA3-256("abc") (FIPS 202 example). */
static int kat_sha3_256(void) {
  static const uint8_t want[32] = {0x3a, 0x98, 0x5d, 0xa7, 0x4f, 0xe2, 0x25, 0xb2, 0x04, 0x5c, 0x17,
                                   0x2d, 0x6b, 0xd3, 0x90, 0xbd, 0x85, 0x5f, 0x08, 0x6e, 0x3e, 0x9d,
                                   0x52, 0x5b, 0x46, 0xbf, 0xe2, 0x45, 0x11, 0x43, 0x15, 0x32};
  uint8_t out[32];
  aq_sha3_256(out, (const uint8_t *)"abc", 3);
  return kat_eq(out, want, 32);
}

/* SHAKE128("", 32 bytes). */
static int kat_shake128(void) {
  static const uint8_t want[32] = {0x7f, 0x9c, 0x2b, 0xa4, 0xe8, 0x8f, 0x82, 0x7d, 0x61, 0x60, 0x45,
                                   0x50, 0x76, 0x05, 0x85, 0x3e, 0xd7, 0x3b, 0x80, 0x93, 0xf6, 0xef,
                                   0xbc, 0x88, 0xeb, 0x1a, 0x6e, 0xac, 0xfa, 0x66, 0xef, 0x26};
  uint8_t out[32];
  aq_shake128(out, sizeof(out), NULL, 0);
  return kat_eq(out, want, 32);
}

static const aq_selftest_entry table[] = {
    {"sha3-256", kat_sha3_256},
    {"shake128", kat_shake128},
};

const aq_selftest_entry *aq_selftest_table(size_t *n) {
  *n = sizeof(table) / sizeof(table[0]);
  return table;
}
