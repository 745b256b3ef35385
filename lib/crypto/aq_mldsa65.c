/*
 * aq_mldsa65.c - ML-DSA-65 (FIPS 204).
 *
 * Arithmetic: coefficients are int32 in Montgomery-friendly signed form.
 * The NTT uses 2^32-Montgomery multiplication with twiddles zeta^brv(k)*2^32
 * mod q (so its outputs are in the normal domain); a pointwise product then
 * carries a factor 2^-32 which the inverse NTT's final scaling by
 * 2^64/256 mod q cancels.  Bounds (|x| < q on inputs of the inverse NTT,
 * < 9q after a forward NTT, |accumulator| < 2^31 q before a Montgomery
 * reduction) are noted where they matter.
 *
 * Speed: A is expanded once per signature (and per verification), four
 * SHAKE streams at a time (aq_keccakx4.c), as are ExpandS and ExpandMask;
 * NTT(s1), NTT(s2), NTT(t0) are computed once per signature; the cheaper,
 * more often failing r0 check runs before the z check.
 *
 * Constant time: every function on secret data is branch-free and indexes
 * memory only by public counters.  The exceptions FIPS 204 permits are marked
 * CT_DECLASSIFY: the acceptance bit of each ExpandS nibble (the rejected
 * positions are independent of the accepted values), the challenge c~ of every
 * signing iteration (a random-oracle output, round-3 spec §5.5), the two
 * rejection decisions of the signing loop, and, once accepted, the signature
 * itself.  rho (part of the public key) is declassified where it is derived.
 * With -DAQ_CT_VALGRIND these become VALGRIND_MAKE_MEM_DEFINED so that
 * valgrind memcheck can check everything else (tests/sh/test_ct_mldsa.sh).
 *
 * @spec{FIPS 204, §7 (Alg. 6-8), Alg. 14-16, 28-37, 41-42}
 */
#include "aq_mldsa65.h"

#include <string.h>

#include "aq_ct.h"
#include "aq_keccakx4.h"
#include "aq_sha3.h"

#if defined(AQ_CT_VALGRIND)
#include <valgrind/memcheck.h>
#define CT_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define CT_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

/*
 * The NTT and pointwise loops are plain C written so that compilers can
 * vectorize them; on x86-64 with GCC an AVX2 clone is also built and picked
 * at load time (ifunc), about 1.5x faster.  Both are constant time.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define VEC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VEC_CLONES
#endif

/* ------------------------------------------------------------ parameters */

#define N 256
#define Q 8380417
#define QINV 58728449 /* q^-1 mod 2^32 */
#define D 13
#define TAU 49
#define GAMMA1 (1 << 19)
#define GAMMA2 ((Q - 1) / 32)
#define KK 6 /* rows of A */
#define LL 5 /* columns of A */
#define ETA 4
#define BETA (TAU * ETA)
#define OMEGA 55
#define CTILDE_LEN 48 /* lambda / 4 */

#define POLY_T1_LEN 320  /* 10 bits */
#define POLY_T0_LEN 416  /* 13 bits */
#define POLY_ETA_LEN 128 /* 4 bits */
#define POLY_Z_LEN 640   /* 20 bits */
#define POLY_W1_LEN 128  /* 4 bits */

#define SK_S1_OFF 128
#define SK_S2_OFF (SK_S1_OFF + LL * POLY_ETA_LEN)
#define SK_T0_OFF (SK_S2_OFF + KK * POLY_ETA_LEN)
#define SIG_Z_OFF CTILDE_LEN
#define SIG_H_OFF (SIG_Z_OFF + LL * POLY_Z_LEN)

_Static_assert(32 + KK * POLY_T1_LEN == AQ_MLDSA65_PK_LEN, "pk length");
_Static_assert(SK_T0_OFF + KK * POLY_T0_LEN == AQ_MLDSA65_SK_LEN, "sk length");
_Static_assert(SIG_H_OFF + OMEGA + KK == AQ_MLDSA65_SIG_LEN, "sig length");

const uint8_t AQ_MLDSA65_RND_DETERMINISTIC[AQ_MLDSA65_RND_LEN] = {0};

typedef struct poly {
  int32_t c[N];
} poly;

/* ------------------------------------------------------------ arithmetic */

/* a * 2^-32 mod q, |result| < q for |a| < 2^31 q. */
static inline int32_t mont_reduce(int64_t a) {
  int32_t t = (int32_t)(uint32_t)((uint64_t)a * (uint64_t)QINV);
  return (int32_t)((a - (int64_t)t * Q) >> 32);
}

/* A representative of a mod q in [-6283008, 6283008], for |a| < 2^31 - 2^22. */
static inline int32_t reduce32(int32_t a) {
  int32_t t = (a + (1 << 22)) >> 23;
  return a - t * Q;
}

/* a + q if a < 0: maps (-q, q) onto [0, q). */
static inline int32_t caddq(int32_t a) {
  return a + ((a >> 31) & Q);
}

/* a in [0, q) -> a mod+- q in [-(q-1)/2, (q-1)/2]. */
static inline int32_t center(int32_t a) {
  return a - ((((Q - 1) / 2) - a) >> 31 & Q);
}

/* 1 if |a| >= bound, else 0, for a centered (|a| < q/2); branch-free. */
static inline uint32_t ge_bound(int32_t a, int32_t bound) {
  int32_t m = a >> 31;
  int32_t abs = (a ^ m) - m;
  return (uint32_t)(bound - 1 - abs) >> 31;
}

/* zeta^brv8(k) * 2^32 mod q, centered (FIPS 204 Appendix B, in Montgomery form). */
static const int32_t zetas[N] = {
    -4186625, 25847,    -2608894, -518909,  237124,   -777960,  -876248,  466468,   1826347,
    2353451,  -359251,  -2091905, 3119733,  -2884855, 3111497,  2680103,  2725464,  1024112,
    -1079900, 3585928,  -549488,  -1119584, 2619752,  -2108549, -2118186, -3859737, -1399561,
    -3277672, 1757237,  -19422,   4010497,  280005,   2706023,  95776,    3077325,  3530437,
    -1661693, -3592148, -2537516, 3915439,  -3861115, -3043716, 3574422,  -2867647, 3539968,
    -300467,  2348700,  -539299,  -1699267, -1643818, 3505694,  -3821735, 3507263,  -2140649,
    -1600420, 3699596,  811944,   531354,   954230,   3881043,  3900724,  -2556880, 2071892,
    -2797779, -3930395, -1528703, -3677745, -3041255, -1452451, 3475950,  2176455,  -1585221,
    -1257611, 1939314,  -4083598, -1000202, -3190144, -3157330, -3632928, 126922,   3412210,
    -983419,  2147896,  2715295,  -2967645, -3693493, -411027,  -2477047, -671102,  -1228525,
    -22981,   -1308169, -381987,  1349076,  1852771,  -1430430, -3343383, 264944,   508951,
    3097992,  44288,    -1100098, 904516,   3958618,  -3724342, -8578,    1653064,  -3249728,
    2389356,  -210977,  759969,   -1316856, 189548,   -3553272, 3159746,  -1851402, -2409325,
    -177440,  1315589,  1341330,  1285669,  -1584928, -812732,  -1439742, -3019102, -3881060,
    -3628969, 3839961,  2091667,  3407706,  2316500,  3817976,  -3342478, 2244091,  -2446433,
    -3562462, 266997,   2434439,  -1235728, 3513181,  -3520352, -3759364, -1197226, -3193378,
    900702,   1859098,  909542,   819034,   495491,   -1613174, -43260,   -522500,  -655327,
    -3122442, 2031748,  3207046,  -3556995, -525098,  -768622,  -3595838, 342297,   286988,
    -2437823, 4108315,  3437287,  -3342277, 1735879,  203044,   2842341,  2691481,  -2590150,
    1265009,  4055324,  1247620,  2486353,  1595974,  -3767016, 1250494,  2635921,  -3548272,
    -2994039, 1869119,  1903435,  -1050970, -1333058, 1237275,  -3318210, -1430225, -451100,
    1312455,  3306115,  -1962642, -1279661, 1917081,  -2546312, -1374803, 1500165,  777191,
    2235880,  3406031,  -542412,  -2831860, -1671176, -1846953, -2584293, -3724270, 594136,
    -3776993, -2013608, 2432395,  2454455,  -164721,  1957272,  3369112,  185531,   -1207385,
    -3183426, 162844,   1616392,  3014001,  810149,   1652634,  -3694233, -1799107, -3038916,
    3523897,  3866901,  269760,   2213111,  -975884,  1717735,  472078,   -426683,  1723600,
    -1803090, 1910376,  -1667432, -1104333, -260646,  -3833893, -2939036, -2235985, -420899,
    -2286327, 183443,   -976891,  1612842,  -3545687, -554416,  3919660,  -48306,   -1362209,
    3937738,  1400424,  -846154,  1976782,
};

/* FIPS 204 Alg. 41 NTT.  Input |a| < B gives output |a| < B + 8q. */
VEC_CLONES static void ntt(poly *p) {
  int32_t *a = p->c;
  unsigned k = 0;
  for (unsigned len = 128; len > 0; len >>= 1) {
    for (unsigned start = 0; start < N; start += 2 * len) {
      int64_t zeta = zetas[++k];
      for (unsigned j = start; j < start + len; j++) {
        int32_t t = mont_reduce(zeta * a[j + len]);
        a[j + len] = a[j] - t;
        a[j] = a[j] + t;
      }
    }
  }
}

/*
 * FIPS 204 Alg. 42 NTT^-1, times 2^32 (which cancels the 2^-32 of one
 * pointwise Montgomery product).  Input |a| < q (sums grow to < 256q < 2^31);
 * output |a| < q.  The final scaling by 256^-1 is folded into the last layer:
 * a[j] * f and (t - a[j + 128]) * zeta_1 * f with the constants premultiplied.
 */
VEC_CLONES static void invntt_tomont(poly *p) {
  int32_t *a = p->c;
  unsigned k = N;
  const int64_t f = 41978;    /* 2^64 / 256 mod q */
  const int64_t zf = 3975713; /* -zetas[1] * f * 2^-32 mod q */
  for (unsigned len = 1; len < N / 2; len <<= 1) {
    for (unsigned start = 0; start < N; start += 2 * len) {
      int64_t zeta = -zetas[--k];
      for (unsigned j = start; j < start + len; j++) {
        int32_t t = a[j];
        a[j] = t + a[j + len];
        a[j + len] = mont_reduce(zeta * (t - a[j + len]));
      }
    }
  }
  for (unsigned j = 0; j < N / 2; j++) {
    int32_t t = a[j];
    int32_t u = a[j + N / 2];
    a[j] = mont_reduce(f * (t + u));          /* |t + u| < 256q: f 256q < 2^31 q */
    a[j + N / 2] = mont_reduce(zf * (t - u)); /* q/2 * 256q < 2^31 q */
  }
}

/* r = a o b * 2^-32 (|a|,|b| < 9q). */
VEC_CLONES static void poly_pointwise(poly *r, const poly *a, const poly *b) {
  for (unsigned j = 0; j < N; j++) {
    r->c[j] = mont_reduce((int64_t)a->c[j] * b->c[j]);
  }
}

/* acc += a o b without reduction; the caller keeps sum |a b| < 2^31 q. */
VEC_CLONES static void acc_pointwise(int64_t acc[N], const poly *a, const poly *b) {
  for (unsigned j = 0; j < N; j++) {
    acc[j] += (int64_t)a->c[j] * b->c[j];
  }
}

VEC_CLONES static void acc_reduce(poly *r, const int64_t acc[N]) {
  for (unsigned j = 0; j < N; j++) {
    r->c[j] = mont_reduce(acc[j]);
  }
}

/* --------------------------------------------------------------- rounding */

/* FIPS 204 Alg. 35 Power2Round on r in [0, q): r = r1 * 2^13 + r0, r0 in (-2^12, 2^12]. */
static inline void power2round(int32_t r, int32_t *r1, int32_t *r0) {
  int32_t hi = (r + (1 << (D - 1)) - 1) >> D;
  *r1 = hi;
  *r0 = r - (hi << D);
}

/*
 * FIPS 204 Alg. 37 HighBits for r in [0, q) and 2*gamma2 = 523776 = 1023 * 2^9:
 * r1 = ceil((r - gamma2) / (2 gamma2)) = floor((r + gamma2 - 1) / 523776), with
 * the division by 1023 done as (u * 1025 + 512) >> 20 (exact for all u <=
 * (q + gamma2) / 2^9; tests/unit/test_mldsa65_arith.c checks every r in
 * [0, q)).  The value 16 (r - r0 = q - 1) wraps to 0 as Alg. 36 says.
 */
static inline int32_t highbits(int32_t r) {
  int32_t u = (r + GAMMA2 - 1) >> 9;
  return ((u * 1025 + 512) >> 20) & 15;
}

/* FIPS 204 Alg. 36 Decompose on r in [0, q): r1 = HighBits, r0 in [-gamma2, gamma2]. */
static inline void decompose(int32_t r, int32_t *r1, int32_t *r0) {
  int32_t hi = highbits(r);
  int32_t lo = r - hi * 2 * GAMMA2;
  /* hi wrapped from 16 to 0: r0 = r - q (= r - (q - 1) - 1). */
  lo -= (((Q - 1) / 2) - lo) >> 31 & Q;
  *r1 = hi;
  *r0 = lo;
}

/* FIPS 204 Alg. 40 UseHint (m = 16), on public data. */
static inline int32_t use_hint(int32_t r, int32_t h) {
  int32_t r1, r0;
  decompose(r, &r1, &r0);
  if (h == 0) {
    return r1;
  }
  return r0 > 0 ? (r1 + 1) & 15 : (r1 - 1) & 15;
}

/* ---------------------------------------------------------------- packing */

/* out <- bits-bit little-endian packing of (off + mul * a[i]) for N values. */
static void pack_bits(uint8_t *out, const int32_t *a, unsigned bits, int32_t off, int32_t mul) {
  uint64_t acc = 0;
  unsigned nb = 0;
  size_t o = 0;
  for (unsigned i = 0; i < N; i++) {
    acc |= (uint64_t)(uint32_t)(off + mul * a[i]) << nb;
    nb += bits;
    while (nb >= 8) {
      out[o++] = (uint8_t)acc;
      acc >>= 8;
      nb -= 8;
    }
  }
}

/* a[i] <- off + mul * v[i] where v[i] are the bits-bit values in in. */
static void unpack_bits(int32_t *a, const uint8_t *in, unsigned bits, int32_t off, int32_t mul) {
  uint64_t acc = 0;
  unsigned nb = 0;
  size_t o = 0;
  const uint64_t mask = ((uint64_t)1 << bits) - 1;
  for (unsigned i = 0; i < N; i++) {
    while (nb < bits) {
      acc |= (uint64_t)in[o++] << nb;
      nb += 8;
    }
    a[i] = off + mul * (int32_t)(acc & mask);
    acc >>= bits;
    nb -= bits;
  }
}

/* ------------------------------------------------------------- sampling */

/* Absorb len bytes, tolerating (NULL, 0). */
static void absorb(aq_keccak *k, const uint8_t *p, size_t len) {
  if (len > 0) {
    aq_keccak_absorb(k, p, len);
  }
}

/*
 * RejNTTPoly's inner loop (FIPS 204 Alg. 30, 14 CoeffFromThreeBytes): take
 * 23-bit candidates from buf (len a multiple of 3) into a->c[ctr..] while
 * fewer than N are accepted.  A is public: branches are fine.
 */
static unsigned rej_uniform(poly *a, unsigned ctr, const uint8_t *buf, size_t len) {
  for (size_t pos = 0; pos + 3 <= len && ctr < N; pos += 3) {
    uint32_t t =
        (uint32_t)buf[pos] | (uint32_t)buf[pos + 1] << 8 | (uint32_t)(buf[pos + 2] & 0x7f) << 16;
    if (t < Q) {
      a->c[ctr++] = (int32_t)t;
    }
  }
  return ctr;
}

/*
 * FIPS 204 Alg. 32 ExpandA: A[r][s] = RejNTTPoly(rho || s || r), four
 * SHAKE128 streams at a time.  5 blocks give 280 candidates; 256 are needed
 * and each is accepted with probability q / 2^23 > 0.999, so more blocks are
 * rarely squeezed.
 */
static void expand_a(poly A[KK][LL], const uint8_t rho[32]) {
  poly spare;
  for (unsigned first = 0; first < KK * LL; first += 4) {
    uint8_t seeds[4][34];
    uint8_t buf[4][5 * AQ_SHAKE128_RATE];
    const uint8_t *in[4];
    uint8_t *out[4];
    poly *dst[4];
    unsigned ctr[4];
    for (unsigned l = 0; l < 4; l++) {
      unsigned idx = first + l < KK * LL ? first + l : KK * LL - 1;
      dst[l] = first + l < KK * LL ? &A[idx / LL][idx % LL] : &spare;
      memcpy(seeds[l], rho, 32);
      seeds[l][32] = (uint8_t)(idx % LL); /* column s */
      seeds[l][33] = (uint8_t)(idx / LL); /* row r */
      in[l] = seeds[l];
      out[l] = buf[l];
    }
    aq_shakex4 k;
    aq_shakex4_absorb_once(&k, AQ_SHAKE128_RATE, in, sizeof(seeds[0]));
    aq_shakex4_squeezeblocks(&k, out, 5);
    unsigned done = 1;
    for (unsigned l = 0; l < 4; l++) {
      ctr[l] = rej_uniform(dst[l], 0, buf[l], sizeof(buf[l]));
      done &= ctr[l] == N;
    }
    while (!done) {
      aq_shakex4_squeezeblocks(&k, out, 1);
      done = 1;
      for (unsigned l = 0; l < 4; l++) {
        ctr[l] = rej_uniform(dst[l], ctr[l], buf[l], AQ_SHAKE128_RATE);
        done &= ctr[l] == N;
      }
    }
  }
}

/*
 * RejBoundedPoly's inner loop (FIPS 204 Alg. 31, 15 CoeffFromHalfByte with
 * eta = 4): nibbles of buf, low first, accepted when < 9, as 4 - nibble.
 * The accept bit of each nibble is declassified: which nibbles were rejected
 * says nothing about the accepted values.  No branch per nibble: every
 * candidate is written at out[ctr] and ctr advances by the accept bit (out
 * has N + 2 slots for the writes after the 256th acceptance).
 */
static unsigned rej_eta(int32_t out[N + 2], unsigned ctr, const uint8_t *buf, size_t len) {
  for (size_t i = 0; i < len && ctr < N; i++) {
    uint32_t z0 = buf[i] & 15u, z1 = (uint32_t)buf[i] >> 4;
    uint32_t ok0 = (z0 - 9) >> 31, ok1 = (z1 - 9) >> 31; /* 1 iff z < 9 */
    CT_DECLASSIFY(&ok0, sizeof(ok0));
    CT_DECLASSIFY(&ok1, sizeof(ok1));
    out[ctr] = ETA - (int32_t)z0;
    ctr += ok0;
    out[ctr] = ETA - (int32_t)z1;
    ctr += ok1;
  }
  /* The 256th acceptance may come from the low nibble; the high one is then
   * dropped (ctr may read N + 1 here). */
  return ctr < N ? ctr : N;
}

/*
 * FIPS 204 Alg. 33 ExpandS for four polynomials: dst[l] =
 * RejBoundedPoly(rho' || le16(nonce[l])), four SHAKE256 streams at a time.
 * Two blocks (544 nibbles) usually suffice for 256 acceptances (p = 9/16).
 */
static void sample_eta_x4(poly *const dst[4], const uint8_t rhop[64], const uint16_t nonce[4]) {
  struct {
    uint8_t seeds[4][66];
    uint8_t buf[4][2 * AQ_SHAKE256_RATE];
    int32_t out[4][N + 2];
    aq_shakex4 k;
  } w;
  const uint8_t *in[4];
  uint8_t *out[4];
  unsigned ctr[4];
  for (unsigned l = 0; l < 4; l++) {
    memcpy(w.seeds[l], rhop, 64);
    w.seeds[l][64] = (uint8_t)nonce[l];
    w.seeds[l][65] = (uint8_t)(nonce[l] >> 8);
    in[l] = w.seeds[l];
    out[l] = w.buf[l];
  }
  aq_shakex4_absorb_once(&w.k, AQ_SHAKE256_RATE, in, sizeof(w.seeds[0]));
  aq_shakex4_squeezeblocks(&w.k, out, 2);
  unsigned done = 1;
  for (unsigned l = 0; l < 4; l++) {
    ctr[l] = rej_eta(w.out[l], 0, w.buf[l], sizeof(w.buf[l]));
    done &= ctr[l] == N;
  }
  while (!done) { /* depends on declassified accept bits only */
    aq_shakex4_squeezeblocks(&w.k, out, 1);
    done = 1;
    for (unsigned l = 0; l < 4; l++) {
      ctr[l] = rej_eta(w.out[l], ctr[l], w.buf[l], AQ_SHAKE256_RATE);
      done &= ctr[l] == N;
    }
  }
  for (unsigned l = 0; l < 4; l++) {
    memcpy(dst[l]->c, w.out[l], sizeof(dst[l]->c));
  }
  aq_memzero(&w, sizeof(w));
}

/*
 * FIPS 204 Alg. 34 ExpandMask for four polynomials: dst[l] = gamma1 - the
 * 20-bit values of SHAKE256(rho'' || le16(nonce[l])) (640 bytes = 5 blocks).
 */
static void sample_mask_x4(poly *const dst[4], const uint8_t rhopp[64], const uint16_t nonce[4]) {
  struct {
    uint8_t seeds[4][66];
    uint8_t buf[4][5 * AQ_SHAKE256_RATE];
    aq_shakex4 k;
  } w;
  const uint8_t *in[4];
  uint8_t *out[4];
  for (unsigned l = 0; l < 4; l++) {
    memcpy(w.seeds[l], rhopp, 64);
    w.seeds[l][64] = (uint8_t)nonce[l];
    w.seeds[l][65] = (uint8_t)(nonce[l] >> 8);
    in[l] = w.seeds[l];
    out[l] = w.buf[l];
  }
  aq_shakex4_absorb_once(&w.k, AQ_SHAKE256_RATE, in, sizeof(w.seeds[0]));
  aq_shakex4_squeezeblocks(&w.k, out, 5);
  for (unsigned l = 0; l < 4; l++) {
    unpack_bits(dst[l]->c, w.buf[l], 20, GAMMA1, -1);
  }
  aq_memzero(&w, sizeof(w));
}

/* FIPS 204 Alg. 34 ExpandMask, one polynomial: y = gamma1 - 20-bit values. */
static void sample_mask(poly *y, const uint8_t rhopp[64], uint16_t nonce) {
  aq_keccak k;
  uint8_t seed[66];
  uint8_t buf[POLY_Z_LEN];
  memcpy(seed, rhopp, 64);
  seed[64] = (uint8_t)nonce;
  seed[65] = (uint8_t)(nonce >> 8);
  aq_shake256_init(&k);
  aq_keccak_absorb(&k, seed, sizeof(seed));
  aq_keccak_squeeze(&k, buf, sizeof(buf));
  unpack_bits(y->c, buf, 20, GAMMA1, -1);
  aq_memzero(buf, sizeof(buf));
  aq_memzero(seed, sizeof(seed));
  aq_keccak_wipe(&k);
}

/* FIPS 204 Alg. 29 SampleInBall on a public c~. */
static void sample_in_ball(poly *c, const uint8_t ctilde[CTILDE_LEN]) {
  aq_keccak k;
  uint8_t buf[AQ_SHAKE256_RATE];
  aq_shake256_init(&k);
  aq_keccak_absorb(&k, ctilde, CTILDE_LEN);
  aq_keccak_squeeze(&k, buf, sizeof(buf) - 1); /* one permutation, see sample_eta */
  uint64_t signs = 0;
  for (unsigned i = 0; i < 8; i++) {
    signs |= (uint64_t)buf[i] << (8 * i);
  }
  size_t pos = 8;
  memset(c->c, 0, sizeof(c->c));
  for (unsigned i = N - TAU; i < N; i++) {
    unsigned j;
    do {
      if (pos == sizeof(buf) - 1) {
        aq_keccak_squeeze(&k, buf, sizeof(buf) - 1);
        pos = 0;
      }
      j = buf[pos++];
    } while (j > i);
    c->c[i] = c->c[j];
    c->c[j] = 1 - 2 * (int32_t)(signs & 1);
    signs >>= 1;
  }
}

/* H(in, 64) for a short fixed input. */
static void shake256_64(uint8_t out[64], const uint8_t *in, size_t len) {
  aq_shake256(out, 64, in, len);
}

/* -------------------------------------------------------------- key gen */

void aq_mldsa65_keygen(uint8_t pk[static AQ_MLDSA65_PK_LEN], uint8_t sk[static AQ_MLDSA65_SK_LEN],
                       const uint8_t xi[static AQ_MLDSA65_SEED_LEN]) {
  struct {
    uint8_t seedbuf[34];
    uint8_t exp[128];    /* rho || rho' || K */
    poly s[LL + KK + 1]; /* s1, s2, one spare lane */
    poly s1hat[LL], t, t0;
    int64_t acc[N];
  } w;
  poly A[KK][LL]; /* public */

  /* Alg. 6 line 2: (rho, rho', K) <- H(xi || k || l, 128). */
  memcpy(w.seedbuf, xi, 32);
  w.seedbuf[32] = KK;
  w.seedbuf[33] = LL;
  aq_shake256(w.exp, sizeof(w.exp), w.seedbuf, sizeof(w.seedbuf));
  const uint8_t *rho = w.exp, *rhop = w.exp + 32, *key = w.exp + 96;
  /* rho is published in pk: public from here on. */
  CT_DECLASSIFY(w.exp, 32);

  memcpy(pk, rho, 32);
  memcpy(sk, rho, 32);
  memcpy(sk + 32, key, 32);

  /* Alg. 33 ExpandS: s1 = s[0..l), s2 = s[l..l+k) with nonces 0..l+k-1
   * (the 12th lane is a spare), and skEncode of s1, s2 (eta - s, 4 bits). */
  for (unsigned first = 0; first < LL + KK; first += 4) {
    poly *dst[4];
    uint16_t nonce[4];
    for (unsigned l = 0; l < 4; l++) {
      dst[l] = &w.s[first + l];
      nonce[l] = (uint16_t)(first + l);
    }
    sample_eta_x4(dst, rhop, nonce);
  }
  for (unsigned j = 0; j < LL + KK; j++) {
    pack_bits(sk + SK_S1_OFF + j * POLY_ETA_LEN, w.s[j].c, 4, ETA, -1);
  }
  for (unsigned j = 0; j < LL; j++) {
    w.s1hat[j] = w.s[j];
    ntt(&w.s1hat[j]);
  }
  /* Alg. 32 ExpandA; t = NTT^-1(A o NTT(s1)) + s2 row by row; Power2Round. */
  expand_a(A, rho);
  for (unsigned i = 0; i < KK; i++) {
    memset(w.acc, 0, sizeof(w.acc));
    for (unsigned j = 0; j < LL; j++) {
      acc_pointwise(w.acc, &A[i][j], &w.s1hat[j]); /* 5 * q * 9q < 2^31 q */
    }
    acc_reduce(&w.t, w.acc);
    invntt_tomont(&w.t);
    for (unsigned n = 0; n < N; n++) {
      int32_t v = caddq(reduce32(w.t.c[n] + w.s[LL + i].c[n]));
      int32_t r1, r0;
      power2round(v, &r1, &r0);
      w.t.c[n] = r1;
      w.t0.c[n] = r0;
    }
    /* t1 is public. */
    CT_DECLASSIFY(w.t.c, sizeof(w.t.c));
    pack_bits(pk + 32 + i * POLY_T1_LEN, w.t.c, 10, 0, 1);
    pack_bits(sk + SK_T0_OFF + i * POLY_T0_LEN, w.t0.c, 13, 1 << (D - 1), -1);
  }
  /* tr = H(pk, 64). */
  shake256_64(sk + 64, pk, AQ_MLDSA65_PK_LEN);
  aq_memzero(&w, sizeof(w));
}

/* ---------------------------------------------------------------- signing */

/*
 * Sign_internal from mu (Alg. 7 lines 7-33).  Returns 0 or
 * AQ_ERR_INVALID_ARGUMENT (s1/s2 coefficient outside [-eta, eta]).
 */
static int sign_mu(uint8_t sig[AQ_MLDSA65_SIG_LEN], const uint8_t sk[AQ_MLDSA65_SK_LEN],
                   const uint8_t mu[64], const uint8_t rnd[32]) {
  struct {
    poly s1hat[LL], s2hat[KK], t0hat[KK];
    poly y[LL], z[LL], w[KK], r[KK];
    poly c, tmp;
    int32_t w1[KK][N];
    uint8_t w1buf[KK * POLY_W1_LEN];
    uint8_t rhopp[64];
    uint8_t kbuf[32 + 32 + 64];
    int64_t acc[N];
  } s;
  poly A[KK][LL]; /* public */
  uint8_t rho[32];

  /* skDecode (Alg. 25), with the range check of s1 and s2 (a nibble > 8 is
   * not the encoding of any value in [-eta, eta]). */
  memcpy(rho, sk, 32);
  CT_DECLASSIFY(rho, sizeof(rho)); /* rho is in the public key */
  uint32_t bad = 0;
  for (unsigned i = 0; i < (LL + KK) * POLY_ETA_LEN; i++) {
    uint32_t b = sk[SK_S1_OFF + i];
    bad |= ((8u - (b & 15)) | (8u - (b >> 4))) >> 31;
  }
  CT_DECLASSIFY(&bad, sizeof(bad)); /* validity of the key only */
  if (bad) {
    memset(sig, 0, AQ_MLDSA65_SIG_LEN);
    return AQ_ERR_INVALID_ARGUMENT;
  }
  for (unsigned j = 0; j < LL; j++) {
    unpack_bits(s.s1hat[j].c, sk + SK_S1_OFF + j * POLY_ETA_LEN, 4, ETA, -1);
    ntt(&s.s1hat[j]);
  }
  for (unsigned i = 0; i < KK; i++) {
    unpack_bits(s.s2hat[i].c, sk + SK_S2_OFF + i * POLY_ETA_LEN, 4, ETA, -1);
    ntt(&s.s2hat[i]);
    unpack_bits(s.t0hat[i].c, sk + SK_T0_OFF + i * POLY_T0_LEN, 13, 1 << (D - 1), -1);
    ntt(&s.t0hat[i]);
  }
  /* Alg. 32 ExpandA, once per signature. */
  expand_a(A, rho);
  /* Line 7: rho'' = H(K || rnd || mu, 64). */
  memcpy(s.kbuf, sk + 32, 32);
  memcpy(s.kbuf + 32, rnd, 32);
  memcpy(s.kbuf + 64, mu, 64);
  shake256_64(s.rhopp, s.kbuf, sizeof(s.kbuf));

  for (uint32_t kappa = 0;; kappa += LL) {
    /* Line 11: y = ExpandMask(rho'', kappa); w = NTT^-1(A o NTT(y)). */
    poly *ydst[4] = {&s.y[0], &s.y[1], &s.y[2], &s.y[3]};
    uint16_t nonce[4] = {(uint16_t)kappa, (uint16_t)(kappa + 1), (uint16_t)(kappa + 2),
                         (uint16_t)(kappa + 3)};
    sample_mask_x4(ydst, s.rhopp, nonce);
    sample_mask(&s.y[4], s.rhopp, (uint16_t)(kappa + 4));
    for (unsigned j = 0; j < LL; j++) {
      s.z[j] = s.y[j];
      ntt(&s.z[j]); /* z holds NTT(y) for now */
    }
    for (unsigned i = 0; i < KK; i++) {
      memset(s.acc, 0, sizeof(s.acc));
      for (unsigned j = 0; j < LL; j++) {
        acc_pointwise(s.acc, &A[i][j], &s.z[j]);
      }
      acc_reduce(&s.w[i], s.acc);
      invntt_tomont(&s.w[i]);
      for (unsigned n = 0; n < N; n++) {
        s.w[i].c[n] = caddq(s.w[i].c[n]); /* [0, q) */
        s.w1[i][n] = highbits(s.w[i].c[n]);
      }
      /* Line 15: w1Encode. */
      pack_bits(s.w1buf + i * POLY_W1_LEN, s.w1[i], 4, 0, 1);
    }
    /* Line 15: c~ = H(mu || w1Encode(w1), 48). */
    uint8_t ctilde[CTILDE_LEN];
    aq_keccak h;
    aq_shake256_init(&h);
    aq_keccak_absorb(&h, mu, 64);
    aq_keccak_absorb(&h, s.w1buf, sizeof(s.w1buf));
    aq_keccak_squeeze(&h, ctilde, sizeof(ctilde));
    aq_keccak_wipe(&h);
    /* c~ is a random-oracle output; revealing it, also for rejected
     * iterations, reveals nothing about the key (round-3 spec §5.5). */
    CT_DECLASSIFY(ctilde, sizeof(ctilde));
    sample_in_ball(&s.c, ctilde);
    ntt(&s.c);

    /* Lines 19, 21, 23 (the r0 half first: it rejects more often and costs
     * about as much, so trying it first saves work; both must pass):
     * r = w - NTT^-1(c^ o s2^); r0 = LowBits(r); reject if ||r0|| >=
     * gamma2 - beta.  r1 = HighBits(r) is kept for the hint. */
    uint32_t reject = 0;
    for (unsigned i = 0; i < KK; i++) {
      poly_pointwise(&s.tmp, &s.c, &s.s2hat[i]);
      invntt_tomont(&s.tmp);
      for (unsigned n = 0; n < N; n++) {
        int32_t v = caddq(reduce32(s.w[i].c[n] - s.tmp.c[n]));
        int32_t r1, r0;
        decompose(v, &r1, &r0);
        s.r[i].c[n] = v;
        s.w1[i][n] = r1;
        reject |= ge_bound(r0, GAMMA2 - BETA);
      }
    }
    CT_DECLASSIFY(&reject, sizeof(reject)); /* the rejection decision */
    if (reject) {
      continue;
    }
    /* Lines 18, 20, 23: z = y + NTT^-1(c^ o s1^); reject if ||z|| >= gamma1 - beta. */
    for (unsigned j = 0; j < LL; j++) {
      poly_pointwise(&s.z[j], &s.c, &s.s1hat[j]);
      invntt_tomont(&s.z[j]);
      for (unsigned n = 0; n < N; n++) {
        int32_t v = center(caddq(reduce32(s.z[j].c[n] + s.y[j].c[n])));
        s.z[j].c[n] = v;
        reject |= ge_bound(v, GAMMA1 - BETA);
      }
    }
    CT_DECLASSIFY(&reject, sizeof(reject)); /* the rejection decision */
    if (reject) {
      continue;
    }
    /* Lines 25-28: ct0 = NTT^-1(c^ o t0^); h = MakeHint(-ct0, r + ct0),
     * i.e. h = [HighBits(r) != HighBits(r + ct0)]; reject if ||ct0|| >=
     * gamma2 or more than omega hints.  h overwrites w1. */
    uint32_t nhint = 0;
    for (unsigned i = 0; i < KK; i++) {
      poly_pointwise(&s.tmp, &s.c, &s.t0hat[i]);
      invntt_tomont(&s.tmp);
      for (unsigned n = 0; n < N; n++) {
        int32_t ct0 = center(caddq(s.tmp.c[n]));
        reject |= ge_bound(ct0, GAMMA2);
        int32_t v1 = highbits(caddq(reduce32(s.r[i].c[n] + ct0)));
        uint32_t hint = aq_ct_mask_nonzero_u32((uint32_t)(v1 ^ s.w1[i][n])) & 1;
        s.w1[i][n] = (int32_t)hint;
        nhint += hint;
      }
    }
    reject |= (uint32_t)(OMEGA - (int32_t)nhint) >> 31;
    CT_DECLASSIFY(&reject, sizeof(reject)); /* the rejection decision */
    if (reject) {
      continue;
    }
    /* Accepted: (c~, z, h) is the public signature.  sigEncode (Alg. 26). */
    memcpy(sig, ctilde, CTILDE_LEN);
    for (unsigned j = 0; j < LL; j++) {
      pack_bits(sig + SIG_Z_OFF + j * POLY_Z_LEN, s.z[j].c, 20, GAMMA1, -1);
    }
    CT_DECLASSIFY(s.w1, sizeof(s.w1));
    uint8_t *hp = sig + SIG_H_OFF;
    memset(hp, 0, OMEGA + KK);
    unsigned idx = 0;
    for (unsigned i = 0; i < KK; i++) {
      for (unsigned n = 0; n < N; n++) {
        if (s.w1[i][n] != 0) {
          hp[idx++] = (uint8_t)n;
        }
      }
      hp[OMEGA + i] = (uint8_t)idx;
    }
    break;
  }
  aq_memzero(&s, sizeof(s));
  return 0;
}

int aq_mldsa65_sign_mu(uint8_t sig[static AQ_MLDSA65_SIG_LEN],
                       const uint8_t sk[static AQ_MLDSA65_SK_LEN],
                       const uint8_t mu[static AQ_MLDSA65_MU_LEN],
                       const uint8_t rnd[static AQ_MLDSA65_RND_LEN]) {
  return sign_mu(sig, sk, mu, rnd);
}

int aq_mldsa65_sign_internal(uint8_t sig[static AQ_MLDSA65_SIG_LEN],
                             const uint8_t sk[static AQ_MLDSA65_SK_LEN], const uint8_t *mprime,
                             size_t len, const uint8_t rnd[static AQ_MLDSA65_RND_LEN]) {
  /* Line 6: mu = H(tr || M', 64). */
  uint8_t mu[64];
  aq_keccak h;
  aq_shake256_init(&h);
  aq_keccak_absorb(&h, sk + 64, 64);
  absorb(&h, mprime, len);
  aq_keccak_squeeze(&h, mu, sizeof(mu));
  aq_keccak_wipe(&h);
  int rv = sign_mu(sig, sk, mu, rnd);
  aq_memzero(mu, sizeof(mu));
  return rv;
}

/* mu = H(tr || 0x00 || len(ctx) || ctx || msg, 64) (Alg. 2 line 10 + Alg. 7 line 6). */
static void external_mu(uint8_t mu[64], const uint8_t tr[64], const uint8_t *msg, size_t msglen,
                        const uint8_t *ctx, size_t ctxlen) {
  uint8_t hdr[2] = {0, (uint8_t)ctxlen};
  aq_keccak h;
  aq_shake256_init(&h);
  aq_keccak_absorb(&h, tr, 64);
  aq_keccak_absorb(&h, hdr, sizeof(hdr));
  absorb(&h, ctx, ctxlen);
  absorb(&h, msg, msglen);
  aq_keccak_squeeze(&h, mu, 64);
  aq_keccak_wipe(&h);
}

int aq_mldsa65_sign(uint8_t sig[static AQ_MLDSA65_SIG_LEN],
                    const uint8_t sk[static AQ_MLDSA65_SK_LEN], const uint8_t *msg, size_t msglen,
                    const uint8_t *ctx, size_t ctxlen,
                    const uint8_t rnd[static AQ_MLDSA65_RND_LEN]) {
  /* Alg. 2 line 1: "if |ctx| > 255 then return error". */
  if (ctxlen > AQ_MLDSA65_CTX_MAX) {
    memset(sig, 0, AQ_MLDSA65_SIG_LEN);
    return AQ_ERR_INVALID_ARGUMENT;
  }
  uint8_t mu[64];
  external_mu(mu, sk + 64, msg, msglen, ctx, ctxlen);
  int rv = sign_mu(sig, sk, mu, rnd);
  aq_memzero(mu, sizeof(mu));
  return rv;
}

int aq_mldsa65_mu(uint8_t mu[static AQ_MLDSA65_MU_LEN], const uint8_t pk[static AQ_MLDSA65_PK_LEN],
                  const uint8_t *msg, size_t msglen, const uint8_t *ctx, size_t ctxlen) {
  if (ctxlen > AQ_MLDSA65_CTX_MAX) {
    memset(mu, 0, AQ_MLDSA65_MU_LEN);
    return AQ_ERR_INVALID_ARGUMENT;
  }
  uint8_t tr[64];
  shake256_64(tr, pk, AQ_MLDSA65_PK_LEN);
  external_mu(mu, tr, msg, msglen, ctx, ctxlen);
  return 0;
}

/* ------------------------------------------------------------ verifying */

/*
 * sigDecode's HintBitUnpack (Alg. 21): h from y[0..omega+k).  Returns 0 or
 * -1 on a malformed encoding (indices not strictly increasing within a row,
 * counts decreasing or above omega, non-zero padding).
 */
static int hint_unpack(uint8_t h[KK][N], const uint8_t *y) {
  memset(h, 0, (size_t)KK * N);
  unsigned idx = 0;
  for (unsigned i = 0; i < KK; i++) {
    unsigned end = y[OMEGA + i];
    if (end < idx || end > OMEGA) {
      return -1;
    }
    unsigned first = idx;
    while (idx < end) {
      if (idx > first && y[idx - 1] >= y[idx]) {
        return -1;
      }
      h[i][y[idx]] = 1;
      idx++;
    }
  }
  for (; idx < OMEGA; idx++) {
    if (y[idx] != 0) {
      return -1;
    }
  }
  return 0;
}

/* Verify_internal from mu (Alg. 8 lines 1-4, 6-13); public data only. */
static int verify_mu(const uint8_t pk[AQ_MLDSA65_PK_LEN], const uint8_t mu[64], const uint8_t *sig,
                     size_t siglen) {
  if (sig == NULL || siglen != AQ_MLDSA65_SIG_LEN) {
    return AQ_ERR_VERIFY;
  }
  struct {
    uint8_t h[KK][N];
    poly A[KK][LL];
    poly zhat[LL], c, t1, w;
    int64_t acc[N];
    uint8_t w1buf[KK * POLY_W1_LEN];
  } v;
  /* Line 2: sigDecode; line 3: reject a malformed hint. */
  if (hint_unpack(v.h, sig + SIG_H_OFF) != 0) {
    return AQ_ERR_VERIFY;
  }
  /* Line 13: ||z|| < gamma1 - beta. */
  for (unsigned j = 0; j < LL; j++) {
    unpack_bits(v.zhat[j].c, sig + SIG_Z_OFF + j * POLY_Z_LEN, 20, GAMMA1, -1);
    for (unsigned n = 0; n < N; n++) {
      if (ge_bound(v.zhat[j].c[n], GAMMA1 - BETA)) {
        return AQ_ERR_VERIFY;
      }
    }
    ntt(&v.zhat[j]);
  }
  /* Line 8: c = SampleInBall(c~). */
  sample_in_ball(&v.c, sig);
  ntt(&v.c);
  /* Line 5: A = ExpandA(rho). */
  expand_a(v.A, pk);
  /* Line 9-10: w'Approx = NTT^-1(A o NTT(z) - NTT(c) o NTT(t1 * 2^d)); w1' = UseHint(h, w'Approx).
   */
  for (unsigned i = 0; i < KK; i++) {
    unpack_bits(v.t1.c, pk + 32 + i * POLY_T1_LEN, 10, 0, 1 << D);
    ntt(&v.t1);
    memset(v.acc, 0, sizeof(v.acc));
    for (unsigned j = 0; j < LL; j++) {
      acc_pointwise(v.acc, &v.A[i][j], &v.zhat[j]);
    }
    /* 5 * 9q^2 + 81 q^2 < 2^31 q */
    for (unsigned n = 0; n < N; n++) {
      v.acc[n] -= (int64_t)v.c.c[n] * v.t1.c[n];
    }
    acc_reduce(&v.w, v.acc);
    invntt_tomont(&v.w);
    for (unsigned n = 0; n < N; n++) {
      v.w.c[n] = use_hint(caddq(v.w.c[n]), v.h[i][n]);
    }
    pack_bits(v.w1buf + i * POLY_W1_LEN, v.w.c, 4, 0, 1);
  }
  /* Line 12: c~' = H(mu || w1Encode(w1'), 48); compare. */
  uint8_t ct2[CTILDE_LEN];
  aq_keccak h;
  aq_shake256_init(&h);
  aq_keccak_absorb(&h, mu, 64);
  aq_keccak_absorb(&h, v.w1buf, sizeof(v.w1buf));
  aq_keccak_squeeze(&h, ct2, sizeof(ct2));
  return aq_ct_memeq(ct2, sig, CTILDE_LEN) ? 0 : AQ_ERR_VERIFY;
}

int aq_mldsa65_verify_mu(const uint8_t pk[static AQ_MLDSA65_PK_LEN],
                         const uint8_t mu[static AQ_MLDSA65_MU_LEN], const uint8_t *sig,
                         size_t siglen) {
  return verify_mu(pk, mu, sig, siglen);
}

int aq_mldsa65_verify_internal(const uint8_t pk[static AQ_MLDSA65_PK_LEN], const uint8_t *mprime,
                               size_t len, const uint8_t *sig, size_t siglen) {
  uint8_t tr[64], mu[64];
  shake256_64(tr, pk, AQ_MLDSA65_PK_LEN);
  aq_keccak h;
  aq_shake256_init(&h);
  aq_keccak_absorb(&h, tr, 64);
  absorb(&h, mprime, len);
  aq_keccak_squeeze(&h, mu, sizeof(mu));
  return verify_mu(pk, mu, sig, siglen);
}

int aq_mldsa65_verify(const uint8_t pk[static AQ_MLDSA65_PK_LEN], const uint8_t *msg, size_t msglen,
                      const uint8_t *ctx, size_t ctxlen, const uint8_t *sig, size_t siglen) {
  uint8_t mu[64];
  int rv = aq_mldsa65_mu(mu, pk, msg, msglen, ctx, ctxlen);
  if (rv != 0) {
    return rv;
  }
  return verify_mu(pk, mu, sig, siglen);
}

/* -------------------------------------------------------------- selftest */

static int hash_eq(const uint8_t *p, size_t len, const uint8_t want[32]) {
  uint8_t d[32];
  aq_sha3_256(d, p, len);
  return aq_ct_memeq(d, want, 32);
}

int aq_mldsa65_selftest(void) {
  /* NIST ACVP ML-DSA-keyGen-FIPS204 (v1.1.0.35), ML-DSA-65 tcId 26: seed and
   * SHA3-256 of the expected pk and sk. */
  static const uint8_t kg_seed[32] = {0x70, 0xce, 0xfb, 0x9a, 0xed, 0x5b, 0x68, 0xe0,
                                      0x18, 0xb0, 0x79, 0xda, 0x82, 0x84, 0xb9, 0xd5,
                                      0xca, 0xd5, 0x49, 0x9e, 0xd9, 0xc2, 0x65, 0xff,
                                      0x73, 0x58, 0x80, 0x05, 0xd8, 0x5c, 0x22, 0x5c};
  static const uint8_t kg_pk_hash[32] = {0x3b, 0xab, 0x48, 0xeb, 0x1a, 0x51, 0x11, 0x1d,
                                         0x56, 0x43, 0x32, 0x19, 0xd7, 0xab, 0xe1, 0x2d,
                                         0x15, 0xa8, 0xa3, 0xa1, 0xe0, 0xa1, 0x90, 0xa9,
                                         0xd1, 0x44, 0xcf, 0x93, 0xfa, 0x34, 0x18, 0x5c};
  static const uint8_t kg_sk_hash[32] = {0xdd, 0x8a, 0x5f, 0x0f, 0x0f, 0xf2, 0xf9, 0xd8,
                                         0x83, 0xd7, 0x3a, 0x10, 0xef, 0x50, 0xc1, 0xb0,
                                         0x20, 0x65, 0x83, 0x79, 0xbb, 0xc9, 0x2e, 0xe7,
                                         0x6e, 0xd4, 0x14, 0x22, 0x6e, 0x5e, 0xe7, 0x09};
  /* Wycheproof mldsa_65_sign_seed_test.json tcId 1: seed 0x2a * 32, deterministic
   * pure signature of "Hello world" with an empty context; SHA3-256 of sig. */
  static const uint8_t sg_msg[11] = {'H', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
  static const uint8_t sg_sig_hash[32] = {0x77, 0xc9, 0x44, 0xaa, 0xa5, 0x9e, 0xad, 0x13,
                                          0x18, 0xb9, 0xee, 0xee, 0x22, 0x9d, 0xb1, 0x08,
                                          0x76, 0x5f, 0x12, 0x00, 0x0b, 0x49, 0x53, 0x57,
                                          0x56, 0xe2, 0x51, 0x3d, 0x0e, 0x94, 0xde, 0x03};
  uint8_t pk[AQ_MLDSA65_PK_LEN], sk[AQ_MLDSA65_SK_LEN], sig[AQ_MLDSA65_SIG_LEN], seed[32];
  int ok = 1;

  aq_mldsa65_keygen(pk, sk, kg_seed);
  ok &= hash_eq(pk, sizeof(pk), kg_pk_hash);
  ok &= hash_eq(sk, sizeof(sk), kg_sk_hash);

  memset(seed, 0x2a, sizeof(seed));
  aq_mldsa65_keygen(pk, sk, seed);
  if (aq_mldsa65_sign(sig, sk, sg_msg, sizeof(sg_msg), NULL, 0, AQ_MLDSA65_RND_DETERMINISTIC) !=
      0) {
    ok = 0;
  }
  ok &= hash_eq(sig, sizeof(sig), sg_sig_hash);
  ok &= aq_mldsa65_verify(pk, sg_msg, sizeof(sg_msg), NULL, 0, sig, sizeof(sig)) == 0;
  sig[100] ^= 1;
  ok &= aq_mldsa65_verify(pk, sg_msg, sizeof(sg_msg), NULL, 0, sig, sizeof(sig)) == AQ_ERR_VERIFY;
  aq_memzero(sk, sizeof(sk));
  return ok ? 0 : AQ_ERR_CRYPTO;
}
