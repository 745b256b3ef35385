/*
 * aq_test_cred.h - an Ed25519 raw-public-key credential for tests that run
 * real endpoints (the seed is 32 copies of one byte, so each side of a test
 * gets a different, reproducible key).
 */
#ifndef AQ_TEST_CRED_H
#define AQ_TEST_CRED_H

#include <stddef.h>
#include <stdint.h>

#include "aq_tls.h"

typedef struct aq_test_ed25519 {
  uint8_t seed[32];
  uint8_t spki[64];
  size_t spkilen;
  aq_tls_credential cred; /* signs with seed; cred.sign_ctx points at this struct */
} aq_test_ed25519;

/** Make the key from seedbyte (aborts on failure).  e must not move afterwards. */
void aq_test_ed25519_init(aq_test_ed25519 *e, uint8_t seedbyte);

#endif
