/*
 * fuzz_mldsa_verify.c - ML-DSA-65 verification on arbitrary bytes: no crash,
 * no out-of-bounds access, and never an acceptance of anything but the one
 * genuine signature (a forgery would abort).
 *
 * Input: byte 0 selects the mode (mod 3), the rest is split as
 *   0: sig (3309 bytes, or all of it if shorter) || msg, pure verify, fixed pk
 *   1: pk (1952) || sig (3309) || msg, pure verify with the fuzzer's pk
 *   2: sig || M', Verify_internal with the fixed pk
 * The fixed key pair comes from seed 0x42 * 32; the genuine signature is the
 * deterministic signature of "fuzz me" (empty context) under it, and is in
 * the corpus (valid_pure, valid_pk, valid_internal).
 */
#include <stdlib.h>
#include <string.h>

#include "aq_mldsa65.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t known_msg[7] = {'f', 'u', 'z', 'z', ' ', 'm', 'e'};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t pk[AQ_MLDSA65_PK_LEN], sk[AQ_MLDSA65_SK_LEN], known_sig[AQ_MLDSA65_SIG_LEN];
  static int ready;
  if (!ready) {
    uint8_t seed[32];
    memset(seed, 0x42, sizeof(seed));
    aq_mldsa65_keygen(pk, sk, seed);
    if (aq_mldsa65_sign(known_sig, sk, known_msg, sizeof(known_msg), NULL, 0,
                        AQ_MLDSA65_RND_DETERMINISTIC) != 0) {
      abort();
    }
    ready = 1;
  }
  if (size < 1) {
    return 0;
  }
  unsigned mode = data[0] % 3;
  data++;
  size--;
  const uint8_t *vpk = pk;
  if (mode == 1) {
    if (size < AQ_MLDSA65_PK_LEN) {
      return 0;
    }
    vpk = data;
    data += AQ_MLDSA65_PK_LEN;
    size -= AQ_MLDSA65_PK_LEN;
  }
  size_t siglen = size < AQ_MLDSA65_SIG_LEN ? size : AQ_MLDSA65_SIG_LEN;
  const uint8_t *sig = data;
  const uint8_t *msg = data + siglen;
  size_t msglen = size - siglen;
  int rv;
  if (mode == 2) {
    rv = aq_mldsa65_verify_internal(vpk, msg, msglen, sig, siglen);
  } else {
    rv = aq_mldsa65_verify(vpk, msg, msglen, NULL, 0, sig, siglen);
  }
  if (rv != 0 && rv != AQ_ERR_VERIFY) {
    abort();
  }
  if (rv == 0) {
    /* Only the genuine (pk, sig, M') may pass. */
    int genuine = memcmp(vpk, pk, sizeof(pk)) == 0 && siglen == AQ_MLDSA65_SIG_LEN &&
                  memcmp(sig, known_sig, siglen) == 0;
    if (mode == 2) {
      genuine = genuine && msglen == 2 + sizeof(known_msg) && msg[0] == 0 && msg[1] == 0 &&
                memcmp(msg + 2, known_msg, sizeof(known_msg)) == 0;
    } else {
      genuine =
          genuine && msglen == sizeof(known_msg) && memcmp(msg, known_msg, sizeof(known_msg)) == 0;
    }
    if (!genuine) {
      abort();
    }
  }
  return 0;
}
