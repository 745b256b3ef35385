/*
 * fuzz_mlkem_decaps.c - ML-KEM-768 decapsulation on arbitrary bytes.
 * The first input byte picks the mode:
 *   0: the rest is dk ‖ ct with whatever lengths it has (decaps_len must
 *      accept exactly 2400 + 1088 bytes and reject others with ss zeroed);
 *   1: like 0, but H(ek) inside dk is recomputed so the §7.3 hash check
 *      passes and arbitrary s, ek, z reach decryption and re-encryption;
 *   2: the rest is a ciphertext against a fixed valid key (shorter input is
 *      zero-padded): decapsulation succeeds, is deterministic, and gives the
 *      true shared secret only for the honest ciphertext - any other gives
 *      the implicit-rejection key J(z ‖ ct).
 * Never crashes; violations abort().
 */
#include <stdlib.h>
#include <string.h>

#include "aq_mlkem768.h"
#include "aq_sha3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int all_zero(const uint8_t *p, size_t len) {
  uint8_t acc = 0;
  for (size_t i = 0; i < len; i++) {
    acc |= p[i];
  }
  return acc == 0;
}

/* Mode 0 and 1: arbitrary dk and ct. */
static void fuzz_dk_ct(const uint8_t *data, size_t size, int fix_hash) {
  uint8_t ss[AQ_MLKEM768_SS_LEN];
  if (size != AQ_MLKEM768_DK_LEN + AQ_MLKEM768_CT_LEN) {
    size_t dklen = size < AQ_MLKEM768_DK_LEN ? size : AQ_MLKEM768_DK_LEN;
    memset(ss, 0xa5, sizeof(ss));
    if (aq_mlkem768_decaps_len(ss, data + dklen, size - dklen, data, dklen) != AQ_ERR_MALFORMED ||
        !all_zero(ss, sizeof(ss))) {
      abort();
    }
    return;
  }
  uint8_t dk[AQ_MLKEM768_DK_LEN];
  memcpy(dk, data, sizeof(dk));
  if (fix_hash) {
    aq_sha3_256(dk + 2336, dk + 1152, AQ_MLKEM768_EK_LEN);
  }
  int rv =
      aq_mlkem768_decaps_len(ss, data + AQ_MLKEM768_DK_LEN, AQ_MLKEM768_CT_LEN, dk, sizeof(dk));
  if (fix_hash && rv != 0) {
    abort();
  }
  if (rv != 0 && (rv != AQ_ERR_MALFORMED || !all_zero(ss, sizeof(ss)))) {
    abort();
  }
}

/* Mode 2: ciphertexts against a fixed key. */
static void fuzz_ct(const uint8_t *data, size_t size) {
  uint8_t seed[64], m[32];
  uint8_t ek[AQ_MLKEM768_EK_LEN], dk[AQ_MLKEM768_DK_LEN];
  uint8_t honest_ct[AQ_MLKEM768_CT_LEN], honest_ss[32];
  uint8_t ct[AQ_MLKEM768_CT_LEN], ss[32], ss2[32], kbar[32];
  uint8_t jin[32 + AQ_MLKEM768_CT_LEN];
  for (size_t i = 0; i < sizeof(seed); i++) {
    seed[i] = (uint8_t)i;
  }
  memset(m, 0x42, sizeof(m));
  aq_mlkem768_keygen(ek, dk, seed);
  if (aq_mlkem768_encaps(honest_ct, honest_ss, ek, m) != 0) {
    abort();
  }
  memset(ct, 0, sizeof(ct));
  memcpy(ct, data, size < sizeof(ct) ? size : sizeof(ct));
  if (aq_mlkem768_decaps(ss, ct, dk) != 0 || aq_mlkem768_decaps(ss2, ct, dk) != 0 ||
      memcmp(ss, ss2, sizeof(ss)) != 0) {
    abort();
  }
  if (memcmp(ct, honest_ct, sizeof(ct)) == 0) {
    if (memcmp(ss, honest_ss, sizeof(ss)) != 0) {
      abort();
    }
    return;
  }
  memcpy(jin, dk + AQ_MLKEM768_DK_LEN - 32, 32);
  memcpy(jin + 32, ct, sizeof(ct));
  aq_shake256(kbar, sizeof(kbar), jin, sizeof(jin));
  if (memcmp(ss, honest_ss, sizeof(ss)) == 0 || memcmp(ss, kbar, sizeof(ss)) != 0) {
    abort();
  }
  /* The raw length goes through the type check. */
  if (aq_mlkem768_decaps_len(ss, data, size, dk, sizeof(dk)) !=
      (size == AQ_MLKEM768_CT_LEN ? 0 : AQ_ERR_MALFORMED)) {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) {
    return 0;
  }
  switch (data[0] % 3) {
  case 0: fuzz_dk_ct(data + 1, size - 1, 0); break;
  case 1: fuzz_dk_ct(data + 1, size - 1, 1); break;
  default: fuzz_ct(data + 1, size - 1); break;
  }
  return 0;
}
