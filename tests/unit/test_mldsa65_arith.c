/*
 * test_mldsa65_arith.c - the internal arithmetic of aq_mldsa65.c against
 * the FIPS 204 definitions written naively here: Decompose/HighBits
 * (Alg. 36-37), Power2Round (Alg. 35) and UseHint (Alg. 40) for every r in
 * [0, q); NTT round trip and NTT-based multiplication against schoolbook
 * multiplication in Z_q[X]/(X^256 + 1); the 4-way SHAKE against aq_sha3.
 *
 * The library file is compiled into this test a second time (its public
 * names renamed) so that its static functions can be called directly.
 */
#define aq_mldsa65_keygen arith_keygen
#define aq_mldsa65_sign_mu arith_sign_mu
#define aq_mldsa65_sign_internal arith_sign_internal
#define aq_mldsa65_sign arith_sign
#define aq_mldsa65_mu arith_mu
#define aq_mldsa65_verify_mu arith_verify_mu
#define aq_mldsa65_verify_internal arith_verify_internal
#define aq_mldsa65_verify arith_verify
#define aq_mldsa65_selftest arith_selftest
#define AQ_MLDSA65_RND_DETERMINISTIC arith_rnd_deterministic
#include "aq_mldsa65.c"

#include "aq_test.h"

/* r mod+- alpha: the representative in (-alpha/2, alpha/2] (FIPS 204 §2.3). */
static int64_t mod_pm(int64_t r, int64_t alpha) {
  int64_t m = ((r % alpha) + alpha) % alpha;
  return m > alpha / 2 ? m - alpha : m;
}

AQ_TEST(mldsa65_arith_rounding_exhaustive) {
  long bad_dec = 0, bad_p2r = 0, bad_hint = 0;
  for (int32_t r = 0; r < Q; r++) {
    /* Alg. 36 Decompose. */
    int64_t r0 = mod_pm(r, 2 * GAMMA2), r1;
    if (r - r0 == Q - 1) {
      r1 = 0;
      r0 = r0 - 1;
    } else {
      r1 = (r - r0) / (2 * GAMMA2);
    }
    int32_t g1, g0;
    decompose(r, &g1, &g0);
    bad_dec += (g1 != r1 || g0 != r0 || highbits(r) != r1);
    /* Alg. 35 Power2Round. */
    int64_t p0 = mod_pm(r, 1 << D), p1 = (r - p0) >> D;
    int32_t q1, q0;
    power2round(r, &q1, &q0);
    bad_p2r += (q1 != p1 || q0 != p0);
    /* Alg. 40 UseHint (m = 16). */
    int64_t u1 = r0 > 0 ? (r1 + 1) % 16 : (r1 - 1 + 16) % 16;
    bad_hint += (use_hint(r, 0) != r1 || use_hint(r, 1) != u1);
  }
  CHECK_INT(bad_dec, 0);
  CHECK_INT(bad_p2r, 0);
  CHECK_INT(bad_hint, 0);
}

/* Schoolbook a * b in Z_q[X]/(X^256 + 1), coefficients in [0, q). */
static void schoolbook(int64_t out[N], const int32_t *a, const int32_t *b) {
  memset(out, 0, N * sizeof(int64_t));
  for (unsigned i = 0; i < N; i++) {
    for (unsigned j = 0; j < N; j++) {
      int64_t p = (int64_t)a[i] * b[j] % Q;
      if (i + j < N) {
        out[i + j] = (out[i + j] + p) % Q;
      } else {
        out[i + j - N] = (out[i + j - N] - p + Q) % Q;
      }
    }
  }
}

static int32_t canon(int32_t v) {
  return caddq(reduce32(v));
}

AQ_TEST(mldsa65_arith_ntt) {
  uint64_t st = 204;
  for (int iter = 0; iter < 4; iter++) {
    poly a, b, fa, fb, prod;
    uint8_t rnd[8 * N];
    REQUIRE(aq_test_rand(rnd, sizeof(rnd), &st) == 0);
    for (unsigned i = 0; i < N; i++) {
      uint32_t x = (uint32_t)rnd[4 * i] | (uint32_t)rnd[4 * i + 1] << 8 |
                   (uint32_t)rnd[4 * i + 2] << 16 | (uint32_t)rnd[4 * i + 3] << 24;
      uint32_t y = (uint32_t)rnd[4 * N + 4 * i] | (uint32_t)rnd[4 * N + 4 * i + 1] << 8 |
                   (uint32_t)rnd[4 * N + 4 * i + 2] << 16;
      a.c[i] = (int32_t)(x % Q) - (Q - 1) / 2; /* |a| < q/2 */
      /* b: small (like s1/c) on even iterations, full range on odd ones. */
      b.c[i] = iter % 2 == 0 ? (int32_t)(y % 9) - 4 : (int32_t)(y % Q);
    }
    /* Round trip: NTT^-1(NTT(a)) = a * 2^32 (the "tomont" factor). */
    fa = a;
    ntt(&fa);
    poly rt = fa;
    for (unsigned i = 0; i < N; i++) {
      rt.c[i] = reduce32(rt.c[i]); /* |.| < q as NTT^-1 requires */
    }
    invntt_tomont(&rt);
    int bad = 0;
    for (unsigned i = 0; i < N; i++) {
      int64_t want = ((int64_t)a.c[i] % Q + Q) % Q * (((int64_t)1 << 32) % Q) % Q;
      bad += canon(rt.c[i]) != want;
    }
    CHECK_INT(bad, 0);
    /* Multiplication: NTT^-1(NTT(a) o NTT(b)) = a * b. */
    fb = b;
    ntt(&fb);
    poly_pointwise(&prod, &fa, &fb);
    invntt_tomont(&prod);
    int32_t ac[N], bc[N];
    for (unsigned i = 0; i < N; i++) {
      ac[i] = canon(a.c[i]);
      bc[i] = canon(b.c[i]);
    }
    int64_t want[N];
    schoolbook(want, ac, bc);
    bad = 0;
    for (unsigned i = 0; i < N; i++) {
      bad += canon(prod.c[i]) != want[i];
    }
    CHECK_INT(bad, 0);
  }
}

AQ_TEST(mldsa65_arith_shake_x4) {
  uint8_t in[4][66], ref[5 * AQ_SHAKE128_RATE];
  uint8_t out[4][5 * AQ_SHAKE128_RATE];
  const uint8_t *ins[4];
  uint8_t *outs[4];
  for (unsigned l = 0; l < 4; l++) {
    for (unsigned i = 0; i < sizeof(in[l]); i++) {
      in[l][i] = (uint8_t)(i * 7 + l * 31);
    }
    ins[l] = in[l];
    outs[l] = out[l];
  }
  const size_t rates[2] = {AQ_SHAKE128_RATE, AQ_SHAKE256_RATE};
  for (unsigned t = 0; t < 2; t++) {
    for (size_t len = 0; len <= 66; len += 33) {
      aq_shakex4 k;
      aq_shakex4_absorb_once(&k, rates[t], ins, len);
      aq_shakex4_squeezeblocks(&k, outs, 2); /* then 3 more, continuing */
      uint8_t *more[4] = {out[0] + 2 * rates[t], out[1] + 2 * rates[t], out[2] + 2 * rates[t],
                          out[3] + 2 * rates[t]};
      aq_shakex4_squeezeblocks(&k, more, 3);
      for (unsigned l = 0; l < 4; l++) {
        if (t == 0) {
          aq_shake128(ref, 5 * rates[t], in[l], len);
        } else {
          aq_shake256(ref, 5 * rates[t], in[l], len);
        }
        CHECK_MEM(out[l], ref, 5 * rates[t]);
      }
    }
  }
}
