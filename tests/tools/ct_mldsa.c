/*
 * ct_mldsa.c - constant-time check of ML-DSA-65 key generation and signing
 * under valgrind memcheck (tests/sh/test_ct_mldsa.sh builds it without
 * sanitizers, with -DAQ_CT_VALGRIND, and runs it with --error-exitcode=1).
 *
 * The seed xi, the secret key and rnd are marked undefined; memcheck then
 * reports every branch and every memory index that depends on them.  The
 * library declassifies only what FIPS 204 allows to leak (see the CT_DECLASSIFY
 * sites in aq_mldsa65.c: each ExpandS accept bit, each c~, each rejection
 * decision of the signing loop, key validity, rho, t1 and the final signature).
 * Without valgrind headers the program still runs (as a functional smoke test).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_mldsa65.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_MEMCHECK 1
#endif
#endif
#ifdef HAVE_MEMCHECK
#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define SECRET(p, n) ((void)(p), (void)(n))
#define PUBLIC(p, n) ((void)(p), (void)(n))
#endif

int main(int argc, char **argv) {
  static uint8_t pk[AQ_MLDSA65_PK_LEN], sk[AQ_MLDSA65_SK_LEN], sig[AQ_MLDSA65_SIG_LEN];
  uint8_t seed[32], rnd[32], msg[64];
  int iters = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 3;
  for (int it = 0; it < iters; it++) {
    for (int i = 0; i < 32; i++) {
      seed[i] = (uint8_t)(i * 29 + it * 7 + 1);
      rnd[i] = (uint8_t)(i * 13 + it * 3 + 5);
    }
    memset(msg, it, sizeof(msg));
    SECRET(seed, sizeof(seed));
    aq_mldsa65_keygen(pk, sk, seed);
    PUBLIC(pk, sizeof(pk)); /* the public key is public */
    SECRET(sk, sizeof(sk));
    SECRET(rnd, sizeof(rnd));
    if (aq_mldsa65_sign(sig, sk, msg, sizeof(msg), NULL, 0, rnd) != 0) {
      fprintf(stderr, "sign failed\n");
      return 1;
    }
    PUBLIC(sig, sizeof(sig)); /* the signature is public */
    if (aq_mldsa65_verify(pk, msg, sizeof(msg), NULL, 0, sig, sizeof(sig)) != 0) {
      fprintf(stderr, "verify failed\n");
      return 1;
    }
  }
  printf("ct_mldsa: %d keygen+sign+verify rounds done\n", iters);
  return 0;
}
