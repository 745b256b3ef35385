/*
 * ct_mlkem.c - constant-time check of ML-KEM-768 under valgrind memcheck
 * (the ctgrind technique): the secret inputs d, z, m and the secret parts of
 * dk (s and z) are marked undefined, so memcheck reports every branch and
 * every memory index that depends on them ("Conditional jump or move depends
 * on uninitialised value(s)", "Use of uninitialised value of size 8").
 * Outputs are marked defined again (declassified) before this program looks
 * at them.  It also runs the known-answer self-test (correctness of the
 * variant it was built as).  Run by tests/sh/test_ct_mlkem.sh; without
 * valgrind it just runs.
 *
 *   ct_mlkem [iterations]     (default 2)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_mlkem768.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_MEMCHECK 1
#endif
#endif
#ifndef HAVE_MEMCHECK
#define VALGRIND_MAKE_MEM_UNDEFINED(p, n) ((void)(p), (void)(n))
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#endif

#define SECRET(p, n) ((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (n)))
#define PUBLIC(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))

int main(int argc, char **argv) {
  int iters = argc > 1 ? atoi(argv[1]) : 2;
  uint8_t seed[64], m[32];
  uint8_t ek[AQ_MLKEM768_EK_LEN], dk[AQ_MLKEM768_DK_LEN], ct[AQ_MLKEM768_CT_LEN];
  uint8_t ss[32], ss2[32], ss3[32];
  int fails = 0;

  for (int it = 0; it < iters; it++) {
    for (size_t i = 0; i < sizeof(seed); i++) {
      seed[i] = (uint8_t)(i * 131 + (size_t)it * 17 + 5);
    }
    for (size_t i = 0; i < sizeof(m); i++) {
      m[i] = (uint8_t)(i * 29 + (size_t)it * 3 + 1);
    }

    /* KeyGen: d and z secret; ek is public output, dk secret output. */
    SECRET(seed, sizeof(seed));
    aq_mlkem768_keygen(ek, dk, seed);
    PUBLIC(ek, sizeof(ek));

    /* KeyGen_internal with separate d, z. */
    SECRET(seed, sizeof(seed));
    aq_mlkem768_keygen_internal(ek, dk, seed, seed + 32);
    PUBLIC(ek, sizeof(ek));

    /* Encaps: m secret; ct public, ss secret. */
    SECRET(m, sizeof(m));
    int rv = aq_mlkem768_encaps(ct, ss, ek, m);
    PUBLIC(ct, sizeof(ct));
    PUBLIC(&rv, sizeof(rv));
    fails += rv != 0;

    /* Decaps: s (dk[0:1152]) and z (dk[2368:2400]) secret; ek and H(ek) inside dk are public. */
    PUBLIC(dk, sizeof(dk));
    SECRET(dk, 1152);
    SECRET(dk + 2368, 32);
    rv = aq_mlkem768_decaps(ss2, ct, dk);
    PUBLIC(&rv, sizeof(rv));
    fails += rv != 0;

    /* Decaps of a bad ciphertext: implicit rejection must be constant time too. */
    ct[(size_t)it * 97 % sizeof(ct)] ^= 0x01;
    rv = aq_mlkem768_decaps(ss3, ct, dk);
    PUBLIC(&rv, sizeof(rv));
    fails += rv != 0;

    /* Declassify the results to check them. */
    PUBLIC(ss, sizeof(ss));
    PUBLIC(ss2, sizeof(ss2));
    PUBLIC(ss3, sizeof(ss3));
    PUBLIC(dk, sizeof(dk));
    PUBLIC(seed, sizeof(seed));
    PUBLIC(m, sizeof(m));
    fails += memcmp(ss, ss2, sizeof(ss)) != 0;
    fails += memcmp(ss, ss3, sizeof(ss)) == 0;
  }
  /* Known answers too, so the portable (-DAQ_NO_AVX2) build is checked for correctness. */
  fails += aq_mlkem768_selftest() != 0;
  printf("ct_mlkem: %d iterations, %d functional failures\n", iters, fails);
  return fails != 0;
}
