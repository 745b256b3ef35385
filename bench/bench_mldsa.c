/*
 * bench_mldsa.c - ML-DSA-65 throughput: prints one line per operation,
 *   OP mldsa65_keygen <ops_per_s>
 *   OP mldsa65_sign <ops_per_s>      (hedged, 64-byte message, empty context)
 *   OP mldsa65_verify <ops_per_s>
 * Optional arguments: seconds per operation (default 1.0), and one operation
 * name (keygen, sign or verify) to run only that one (for profiling).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aq_mldsa65.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint8_t pk[AQ_MLDSA65_PK_LEN], sk[AQ_MLDSA65_SK_LEN], sig[AQ_MLDSA65_SIG_LEN];
static uint8_t seed[32], rnd[32], msg[64];

/* Vary the inputs every iteration so that the sign loop's rejection count averages out. */
static void bump(uint8_t *p, size_t n, unsigned long i) {
  p[0] = (uint8_t)i;
  p[1] = (uint8_t)(i >> 8);
  p[n - 1] ^= 0x5a;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? strtod(argv[1], NULL) : 1.0;
  const char *only = argc > 2 ? argv[2] : NULL;
  unsigned long n;
  double t0, t;
  for (int i = 0; i < 32; i++) {
    seed[i] = (uint8_t)(i * 7 + 1);
    rnd[i] = (uint8_t)(i * 11 + 3);
  }
  memset(msg, 0x61, sizeof(msg));

  aq_mldsa65_keygen(pk, sk, seed);
  if (aq_mldsa65_sign(sig, sk, msg, sizeof(msg), NULL, 0, rnd) != 0) {
    fprintf(stderr, "sign failed\n");
    return 1;
  }
  if (only == NULL || strcmp(only, "keygen") == 0) {
    t0 = now_s();
    for (n = 0; (t = now_s() - t0) < secs; n++) {
      bump(seed, sizeof(seed), n);
      aq_mldsa65_keygen(pk, sk, seed);
    }
    printf("OP mldsa65_keygen %.1f\n", (double)n / t);
  }
  if (only == NULL || strcmp(only, "sign") == 0) {
    t0 = now_s();
    for (n = 0; (t = now_s() - t0) < secs; n++) {
      bump(rnd, sizeof(rnd), n);
      if (aq_mldsa65_sign(sig, sk, msg, sizeof(msg), NULL, 0, rnd) != 0) {
        fprintf(stderr, "sign failed\n");
        return 1;
      }
    }
    printf("OP mldsa65_sign %.1f\n", (double)n / t);
  }
  if (only == NULL || strcmp(only, "verify") == 0) {
    t0 = now_s();
    for (n = 0; (t = now_s() - t0) < secs; n++) {
      if (aq_mldsa65_verify(pk, msg, sizeof(msg), NULL, 0, sig, sizeof(sig)) != 0) {
        fprintf(stderr, "verify failed\n");
        return 1;
      }
    }
    printf("OP mldsa65_verify %.1f\n", (double)n / t);
  }
  return 0;
}
