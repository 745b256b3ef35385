/*
 * bench_classical.c - the classical baselines through our OpenSSL 3.0 wrappers, printed in the
 * same format as bench_mlkem/bench_mldsa so bench/pqc.sh shows them in the same run:
 *   OP openssl3_x25519_derive <ops/s>, OP openssl3_ed25519_sign, OP openssl3_ed25519_verify.
 * Usage: bench_classical [seconds_per_op]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "aq_crypto.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 1.0;
  uint8_t a[32] = {1}, b[32] = {2}, pb[32], ss[32], sig[64], pk[32];
  static const uint8_t msg[64] = {3};
  const char *names[3] = {"openssl3_x25519_derive", "openssl3_ed25519_sign",
                          "openssl3_ed25519_verify"};
  if (aq_x25519_public(pb, b) != 0 || aq_ed25519_public(pk, a) != 0 ||
      aq_ed25519_sign(sig, a, msg, sizeof(msg)) != 0) {
    return 1;
  }
  for (int op = 0; op < 3; op++) {
    long n = 0;
    double t0 = now_s(), t;
    do {
      for (int i = 0; i < 50; i++) {
        int rv = op == 0   ? aq_x25519(ss, a, pb)
                 : op == 1 ? aq_ed25519_sign(sig, a, msg, sizeof(msg))
                           : aq_ed25519_verify(sig, 64, pk, msg, sizeof(msg));
        if (rv != 0) {
          return 1;
        }
      }
      n += 50;
      t = now_s() - t0;
    } while (t < secs);
    printf("OP %s %.0f\n", names[op], (double)n / t);
  }
  return 0;
}
