/*
 * aq_mlkem768.c - ML-KEM-768 (FIPS 203): k = 3, eta1 = eta2 = 2, du = 10, dv = 4.
 *
 * Arithmetic: coefficients are int16_t; products are reduced with Montgomery
 * reduction (R = 2^16) and sums with Barrett reduction, so no '%' or '/' ever
 * touches a secret (compilers may emit a variable-time divide for them).
 * The NTT is the FIPS 203 Alg. 9/10 butterfly network with the twiddles
 * stored in Montgomery form; the forward transform runs without intermediate
 * reductions (|x| < 8q < 2^15 after seven layers) and is Barrett-reduced once.
 * Products in the NTT domain (Alg. 11) are accumulated in int32 across the
 * k = 3 polynomials and reduced once; the right-hand vector is prepared once
 * ("mulcache": its odd coefficients times gamma) for all matrix rows.
 *
 * Speed: all Keccak work of an operation (matrix XOFs, noise PRFs, H(ek),
 * J(z ‖ c)) runs as jobs on four Keccak states at once
 * (aq_keccakx4.c, AVX2 at run time).  The NTTs, the
 * multiply-accumulate, ByteDecode12, Compress10 and the matrix rejection
 * sampling have AVX2 versions (aq_mlkem768_ntt_avx2.c) that return 0 when
 * the CPU lacks AVX2; the portable code below is then used.
 * -DAQ_NO_AVX2 forces the portable code everywhere.
 *
 * Constant time: branches and memory indices depend only on public data (the
 * matrix seed rho, the ciphertext, key lengths).  Compression divides by q
 * through a multiply-shift (checked for every x < q and d in {1, 4, 10, 11}
 * against exact integer division when written), the
 * re-encryption comparison is aq_ct_memeq, and K / K-bar are selected with
 * aq_ct_cmov.  Every secret intermediate is wiped before return.
 */
#include "aq_mlkem768.h"

#include <string.h>

#include "aq_ct.h"
#include "aq_keccakx4.h"
#include "aq_mlkem768_ntt.h"
#include "aq_sha3.h"

/*
 * Constant-time testing (tests/sh/test_ct_mlkem.sh builds with
 * -DAQ_CT_TESTING under valgrind memcheck, secrets marked undefined):
 * CT_DECLASSIFY marks a value that is public by design although derived from
 * a secret (rho = G(d ‖ k)[0:32]), so that memcheck reports only real leaks.
 */
#if defined(AQ_CT_TESTING) && defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define CT_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#endif
#endif
#ifndef CT_DECLASSIFY
#define CT_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

#define MLKEM_N 256
#define MLKEM_Q 3329
#define MLKEM_K 3
#define POLY_BYTES 384                   /* ByteEncode12 of one polynomial */
#define PKE_BYTES (MLKEM_K * POLY_BYTES) /* 1152 */
#define C1_BYTES (MLKEM_K * 320)         /* du = 10: 320 bytes per polynomial */
#define C2_BYTES 128                     /* dv = 4 */
#define QINV (-3327)                     /* q^-1 mod 2^16, as a signed value */
#define MONT_R2 1353                     /* 2^32 mod q: fqmul(x, R2) = x * R */
#define INVNTT_F 1441                    /* 2^32 / 128 mod q: undoes the 1/128 and basemul's R^-1 */

typedef struct {
  int16_t c[MLKEM_N];
} poly;

typedef struct {
  poly v[MLKEM_K];
} polyvec;

/*
 * The right-hand factor of a product in the NTT domain, prepared once per
 * polynomial: c[2i] = b[2i] and c[2i+1] = b[2i+1] * gamma_i (the X^2 - gamma_i
 * modulus of pair i), so the even output is one dot product a . c.
 */
typedef struct {
  int16_t c[MLKEM_N];
} poly_mulcache;

/*
 * zeta^BitRev7(i) * 2^16 mod q, centred (FIPS 203 Appendix A table, Montgomery
 * form).  Generated with: [(pow(17, brv7(i), q) << 16) % q for i in range(128)].
 */
static const int16_t zetas[128] = {
    -1044, -758,  -359,  -1517, 1493,  1422,  287,   202,   -171,  622,   1577,  182,   962,
    -1202, -1474, 1468,  573,   -1325, 264,   383,   -829,  1458,  -1602, -130,  -681,  1017,
    732,   608,   -1542, 411,   -205,  -1571, 1223,  652,   -552,  1015,  -1293, 1491,  -282,
    -1544, 516,   -8,    -320,  -666,  -1618, -1162, 126,   1469,  -853,  -90,   -271,  830,
    107,   -1421, -247,  -951,  -398,  961,   -1508, -725,  448,   -1065, 677,   -1275, -1103,
    430,   555,   843,   -1251, 871,   1550,  105,   422,   587,   177,   -235,  -291,  -460,
    1574,  1653,  -246,  778,   1159,  -147,  -777,  1483,  -602,  1119,  -1590, 644,   -872,
    349,   418,   329,   -156,  -75,   817,   1097,  603,   610,   1322,  -1285, -1465, 384,
    -1215, -136,  1218,  -1335, -874,  220,   -1187, -1659, -1185, -1530, -1278, 794,   -1510,
    -854,  -870,  478,   -108,  -308,  996,   991,   958,   -1460, 1522,  1628};

/* gamma_i = zeta^(2 BitRev7(i) + 1) * 2^16 mod q, centred (Alg. 11). */
static const int16_t gammas[128] = {
    -1103, 1103,  430,   -430,  555,   -555,  843,  -843,  -1251, 1251,  871,  -871,  1550,
    -1550, 105,   -105,  422,   -422,  587,   -587, 177,   -177,  -235,  235,  -291,  291,
    -460,  460,   1574,  -1574, 1653,  -1653, -246, 246,   778,   -778,  1159, -1159, -147,
    147,   -777,  777,   1483,  -1483, -602,  602,  1119,  -1119, -1590, 1590, 644,   -644,
    -872,  872,   349,   -349,  418,   -418,  329,  -329,  -156,  156,   -75,  75,    817,
    -817,  1097,  -1097, 603,   -603,  610,   -610, 1322,  -1322, -1285, 1285, -1465, 1465,
    384,   -384,  -1215, 1215,  -136,  136,   1218, -1218, -1335, 1335,  -874, 874,   220,
    -220,  -1187, 1187,  -1659, 1659,  -1185, 1185, -1530, 1530,  -1278, 1278, 794,   -794,
    -1510, 1510,  -854,  854,   -870,  870,   478,  -478,  -108,  108,   -308, 308,   996,
    -996,  991,   -991,  958,   -958,  -1460, 1460, 1522,  -1522, 1628,  -1628};

/* ------------------------------------------------------------ reduction */

/* a * 2^-16 mod q for |a| < 2^15 q; result in (-q, q). */
static inline int16_t montgomery_reduce(int32_t a) {
  int16_t t = (int16_t)((int16_t)a * QINV);
  return (int16_t)((a - (int32_t)t * MLKEM_Q) >> 16);
}

/* a * b * 2^-16 mod q, in (-q, q), for |a b| < 2^15 q. */
static inline int16_t fqmul(int16_t a, int16_t b) {
  return montgomery_reduce((int32_t)a * b);
}

/*
 * fqmul(a, z) with bq = z * q^-1 mod 2^16 precomputed, written as 16-bit high
 * and low products (the same value: the low halves of a z and t q agree), a
 * shape compilers vectorise with pmulhw/pmullw in the portable NTT loops.
 */
static inline int16_t fqmul_pre(int16_t a, int16_t z, int16_t zq) {
  int16_t t = (int16_t)(a * zq);
  return (int16_t)((int16_t)(((int32_t)a * z) >> 16) - (int16_t)(((int32_t)t * MLKEM_Q) >> 16));
}

/* Centred representative of a mod q, in [-(q-1)/2, (q-1)/2], for any int16. */
static inline int16_t barrett_reduce(int16_t a) {
  const int32_t v = ((1 << 26) + MLKEM_Q / 2) / MLKEM_Q; /* 20159 */
  int16_t t = (int16_t)((v * a + (1 << 25)) >> 26);
  return (int16_t)(a - t * MLKEM_Q);
}

/* Map (-q, q) to [0, q) without a branch. */
static inline int16_t caddq(int16_t a) {
  return (int16_t)(a + ((a >> 15) & MLKEM_Q));
}

/* Conditional subtraction of q for a in [0, 2^12): [0, q) or a - q < 2^12 - q < q. */
static inline int16_t csubq(int16_t a) {
  a = (int16_t)(a - MLKEM_Q);
  return (int16_t)(a + ((a >> 15) & MLKEM_Q));
}

/* Barrett-reduce every coefficient (centred, |x| <= q/2). */
static void poly_reduce(poly *p) {
  for (int i = 0; i < MLKEM_N; i++) {
    p->c[i] = barrett_reduce(p->c[i]);
  }
}

/* Canonical [0, q) form of every coefficient (input: any int16). */
static void poly_canonical(poly *p) {
  for (int i = 0; i < MLKEM_N; i++) {
    p->c[i] = caddq(barrett_reduce(p->c[i]));
  }
}

/* r += a, coefficient-wise, no reduction (callers track the bounds). */
static void poly_add(poly *r, const poly *a) {
  for (int i = 0; i < MLKEM_N; i++) {
    r->c[i] = (int16_t)(r->c[i] + a->c[i]);
  }
}

/* ------------------------------------------------------------------ NTT */

/*
 * FIPS 203 Alg. 9.  Input |x| < q; output in bit-reversed order, Barrett
 * reduced.  Each layer adds at most q to the bound: |x| < 8q after seven.
 */
static void poly_ntt(poly *p) {
  if (aq_mlkem768_ntt_fast(p->c, zetas)) {
    return; /* AVX2 (aq_mlkem768_ntt_avx2.c) */
  }
  int16_t *r = p->c;
  unsigned k = 1;
  for (unsigned len = 128; len >= 2; len >>= 1) {
    for (unsigned start = 0; start < MLKEM_N; start += 2 * len) {
      const int16_t zeta = zetas[k++];
      const int16_t zq = (int16_t)(zeta * QINV);
      for (unsigned j = start; j < start + len; j++) {
        int16_t t = fqmul_pre(r[j + len], zeta, zq);
        r[j + len] = (int16_t)(r[j] - t);
        r[j] = (int16_t)(r[j] + t);
      }
    }
  }
  poly_reduce(p);
}

/*
 * FIPS 203 Alg. 10, times 2^16 (the factor INVNTT_F = 2^32/128 also folds in
 * the Montgomery factor that basemul leaves behind).  Input |x| < q; output
 * |x| < q.  Lazy reduction: a layer at most doubles the bound of the sums
 * (the differences go through fqmul, back below q), so from |x| < q the
 * bounds run 2q, 4q, 8q; the difference of two 4q values (8q) and every sum
 * still fit in int16, so the sums are Barrett-reduced only in layers 3 and 6
 * (len 8 and 64), and layer 7 ends below 2q before the final fqmul.
 */
static void poly_invntt_tomont(poly *p) {
  if (aq_mlkem768_invntt_fast(p->c, zetas)) {
    return; /* AVX2 (aq_mlkem768_ntt_avx2.c) */
  }
  int16_t *r = p->c;
  unsigned k = 127;
  for (unsigned len = 2; len <= 128; len <<= 1) {
    const int reduce = len == 8 || len == 64;
    for (unsigned start = 0; start < MLKEM_N; start += 2 * len) {
      const int16_t zeta = zetas[k--];
      const int16_t zq = (int16_t)(zeta * QINV);
      for (unsigned j = start; j < start + len; j++) {
        int16_t t = r[j];
        int16_t sum = (int16_t)(t + r[j + len]);
        r[j] = reduce ? barrett_reduce(sum) : sum;
        r[j + len] = fqmul_pre((int16_t)(r[j + len] - t), zeta, zq);
      }
    }
  }
  for (unsigned j = 0; j < MLKEM_N; j++) {
    r[j] = fqmul(r[j], INVNTT_F);
  }
}

/* Prepare b (|b| < q, NTT domain) as the right-hand factor of poly_basemul_acc. */
static void poly_mulcache_compute(poly_mulcache *mc, const poly *b) {
  for (int i = 0; i < MLKEM_N / 2; i++) {
    mc->c[2 * i] = b->c[2 * i];
    mc->c[2 * i + 1] = fqmul(b->c[2 * i + 1], gammas[i]);
  }
}

/*
 * r = sum_j a[j] o b[j] in the NTT domain (Alg. 11/12), times 2^-16.
 * Bounds: |a| < q, |b| <= q/2, |b_odd * gamma| < q, so each int32 sum stays
 * below 3 * 1.5 q^2 < 2^15 q as Montgomery reduction requires.
 */
static void poly_basemul_acc(poly *r, const poly a[MLKEM_K], const polyvec *b,
                             const poly_mulcache bc[MLKEM_K]) {
  if (aq_mlkem768_basemul_acc_fast(r->c, a[0].c, a[1].c, a[2].c, b->v[0].c, b->v[1].c, b->v[2].c,
                                   bc[0].c, bc[1].c, bc[2].c)) {
    return; /* AVX2 (aq_mlkem768_ntt_avx2.c) */
  }
  for (int i = 0; i < MLKEM_N / 2; i++) {
    int32_t c0 = 0;
    int32_t c1 = 0;
    for (int j = 0; j < MLKEM_K; j++) {
      int32_t a0 = a[j].c[2 * i];
      int32_t a1 = a[j].c[2 * i + 1];
      c0 += a0 * bc[j].c[2 * i] + a1 * bc[j].c[2 * i + 1];
      c1 += a0 * b->v[j].c[2 * i + 1] + a1 * b->v[j].c[2 * i];
    }
    r->c[2 * i] = montgomery_reduce(c0);
    r->c[2 * i + 1] = montgomery_reduce(c1);
  }
}

/* ------------------------------------------------------------- encoding */

/* ByteEncode12 (Alg. 5) of a canonical polynomial. */
static void poly_encode12(uint8_t out[POLY_BYTES], const poly *p) {
  for (int i = 0; i < MLKEM_N / 2; i++) {
    uint16_t a = (uint16_t)p->c[2 * i];
    uint16_t b = (uint16_t)p->c[2 * i + 1];
    out[3 * i] = (uint8_t)a;
    out[3 * i + 1] = (uint8_t)((a >> 8) | (b << 4));
    out[3 * i + 2] = (uint8_t)(b >> 4);
  }
}

/* ByteDecode12 (Alg. 6, m = q): 12-bit values reduced mod q, branch-free. */
static void poly_decode12(poly *p, const uint8_t in[POLY_BYTES]) {
  if (aq_mlkem768_decode12_fast(p->c, in)) {
    return; /* AVX2 (aq_mlkem768_ntt_avx2.c) */
  }
  for (int i = 0; i < MLKEM_N / 2; i++) {
    uint16_t b0 = in[3 * i], b1 = in[3 * i + 1], b2 = in[3 * i + 2];
    p->c[2 * i] = csubq((int16_t)(b0 | ((b1 & 0x0f) << 8)));
    p->c[2 * i + 1] = csubq((int16_t)((b1 >> 4) | (b2 << 4)));
  }
}

/*
 * round(2^d x / q) mod 2^d for x in [0, q) (Compress_d, §4.2.1):
 * floor((2^d x + 1664) / q) through the multiply-shift 10321340 / 2^35,
 * exact for every numerator below 2^35 / q.
 */
static inline uint32_t compress(int16_t x, unsigned d) {
  uint64_t n = ((uint64_t)(uint16_t)x << d) + MLKEM_Q / 2;
  return (uint32_t)((n * 10321340u) >> 35) & ((1u << d) - 1);
}

/* Decompress_d: round(q y / 2^d). */
static inline int16_t decompress(uint32_t y, unsigned d) {
  return (int16_t)((y * MLKEM_Q + (1u << (d - 1))) >> d);
}

/* ByteEncode10(Compress10(p)) for canonical p. */
static void poly_compress10(uint8_t out[320], const poly *p) {
  for (int i = 0; i < MLKEM_N / 4; i++) {
    uint32_t t[4];
    for (int j = 0; j < 4; j++) {
      t[j] = compress(p->c[4 * i + j], 10);
    }
    out[5 * i] = (uint8_t)t[0];
    out[5 * i + 1] = (uint8_t)((t[0] >> 8) | (t[1] << 2));
    out[5 * i + 2] = (uint8_t)((t[1] >> 6) | (t[2] << 4));
    out[5 * i + 3] = (uint8_t)((t[2] >> 4) | (t[3] << 6));
    out[5 * i + 4] = (uint8_t)(t[3] >> 2);
  }
}

/* Decompress10(ByteDecode10(in)) (Alg. 15 line 3); output in [0, q]. */
static void poly_decompress10(poly *p, const uint8_t in[320]) {
  for (int i = 0; i < MLKEM_N / 4; i++) {
    const uint8_t *b = in + 5 * i;
    uint32_t t0 = (uint32_t)b[0] | ((uint32_t)(b[1] & 0x03) << 8);
    uint32_t t1 = ((uint32_t)b[1] >> 2) | ((uint32_t)(b[2] & 0x0f) << 6);
    uint32_t t2 = ((uint32_t)b[2] >> 4) | ((uint32_t)(b[3] & 0x3f) << 4);
    uint32_t t3 = ((uint32_t)b[3] >> 6) | ((uint32_t)b[4] << 2);
    p->c[4 * i] = decompress(t0, 10);
    p->c[4 * i + 1] = decompress(t1, 10);
    p->c[4 * i + 2] = decompress(t2, 10);
    p->c[4 * i + 3] = decompress(t3, 10);
  }
}

/* ByteEncode4(Compress4(p)) for canonical p (Alg. 14 line 23). */
static void poly_compress4(uint8_t out[C2_BYTES], const poly *p) {
  for (int i = 0; i < MLKEM_N / 2; i++) {
    out[i] = (uint8_t)(compress(p->c[2 * i], 4) | (compress(p->c[2 * i + 1], 4) << 4));
  }
}

/* Decompress4(ByteDecode4(in)) (Alg. 15 line 4). */
static void poly_decompress4(poly *p, const uint8_t in[C2_BYTES]) {
  for (int i = 0; i < MLKEM_N / 2; i++) {
    p->c[2 * i] = decompress(in[i] & 0x0fu, 4);
    p->c[2 * i + 1] = decompress((uint32_t)in[i] >> 4, 4);
  }
}

/* Decompress1(ByteDecode1(m)): bit b -> b * 1665, through a mask. */
static void poly_frommsg(poly *p, const uint8_t m[32]) {
  for (int i = 0; i < 32; i++) {
    for (int j = 0; j < 8; j++) {
      int16_t mask = (int16_t) - (int16_t)((m[i] >> j) & 1);
      p->c[8 * i + j] = (int16_t)(mask & ((MLKEM_Q + 1) / 2));
    }
  }
}

/* ByteEncode1(Compress1(p)) for canonical p. */
static void poly_tomsg(uint8_t m[32], const poly *p) {
  for (int i = 0; i < 32; i++) {
    uint32_t byte = 0;
    for (int j = 0; j < 8; j++) {
      byte |= compress(p->c[8 * i + j], 1) << j;
    }
    m[i] = (uint8_t)byte;
  }
}

/* ------------------------------------------------------------- sampling */

/*
 * All Keccak work of an operation is handed to aq_keccakx4_run as
 * jobs, four lanes at a time: matrix entries (SHAKE128 streams), noise
 * (SHAKE256 PRF), H(ek) (SHA3-256) and J(z ‖ c) (SHAKE256).
 */

/*
 * SampleNTT (Alg. 7) on public bytes: 12-bit candidates below q are kept.
 * Returns the number of coefficients written (at most len).  While two
 * slots are free every candidate is stored and the count advances by the
 * comparison result, so the ~19% rejections cost no mispredicted branch;
 * the last slots are filled with the plain loop.
 */
static unsigned rej_uniform(int16_t *r, unsigned len, const uint8_t *buf, size_t buflen) {
  size_t pos;
  unsigned ctr = aq_mlkem768_rej_uniform_fast(r, len, buf, buflen, &pos); /* AVX2 bulk, or 0 */
  for (; ctr + 2 <= len && pos + 3 <= buflen; pos += 3) {
    uint16_t d1 = (uint16_t)(buf[pos] | ((buf[pos + 1] & 0x0f) << 8));
    uint16_t d2 = (uint16_t)((buf[pos + 1] >> 4) | (buf[pos + 2] << 4));
    r[ctr] = (int16_t)d1;
    ctr += d1 < MLKEM_Q;
    r[ctr] = (int16_t)d2;
    ctr += d2 < MLKEM_Q;
  }
  for (; ctr < len && pos + 3 <= buflen; pos += 3) {
    uint16_t d1 = (uint16_t)(buf[pos] | ((buf[pos + 1] & 0x0f) << 8));
    uint16_t d2 = (uint16_t)((buf[pos + 1] >> 4) | (buf[pos + 2] << 4));
    if (d1 < MLKEM_Q) {
      r[ctr++] = (int16_t)d1;
    }
    if (d2 < MLKEM_Q && ctr < len) {
      r[ctr++] = (int16_t)d2;
    }
  }
  return ctr;
}

/* One matrix entry: SampleNTT(rho ‖ b0 ‖ b1), squeezed a block at a time. */
typedef struct {
  poly *a;
  unsigned ctr;
  uint8_t in[34];
} xof_ctx;

/* Job callback: parse one XOF block; 1 while the entry still needs coefficients. */
static int xof_block(aq_keccakx4_job *job, const uint8_t *out, size_t len) {
  xof_ctx *c = job->ctx;
  c->ctr += rej_uniform(c->a->c + c->ctr, MLKEM_N - c->ctr, out, len);
  return c->ctr < MLKEM_N;
}

/*
 * Jobs for the whole matrix A-hat (transposed = 0: entry [i][j] from
 * rho ‖ j ‖ i, Alg. 13 line 6) or its transpose (entry [i][j] from
 * rho ‖ i ‖ j, the A-hat^T of Alg. 14), row-major in a[3 i + j].  rho is
 * public, so the rejection loop may branch on the XOF output.
 */
static size_t matrix_jobs(aq_keccakx4_job *jobs, xof_ctx ctx[MLKEM_K * MLKEM_K],
                          poly a[MLKEM_K * MLKEM_K], const uint8_t rho[32], int transposed) {
  for (int i = 0; i < MLKEM_K; i++) {
    for (int j = 0; j < MLKEM_K; j++) {
      xof_ctx *c = &ctx[3 * i + j];
      c->a = &a[3 * i + j];
      c->ctr = 0;
      memcpy(c->in, rho, 32);
      c->in[32] = (uint8_t)(transposed ? i : j);
      c->in[33] = (uint8_t)(transposed ? j : i);
      jobs[3 * i + j] = (aq_keccakx4_job){
          c->in, sizeof(c->in), AQ_SHAKE128_RATE, 0x1f, AQ_SHAKE128_RATE, xof_block, c};
    }
  }
  return MLKEM_K * MLKEM_K;
}

/* SamplePolyCBD_2 (Alg. 8): each coefficient is popcount of two bits minus popcount of the next
 * two. */
static void poly_cbd2(poly *p, const uint8_t buf[128]) {
  for (int i = 0; i < MLKEM_N / 8; i++) {
    uint32_t t = (uint32_t)buf[4 * i] | ((uint32_t)buf[4 * i + 1] << 8) |
                 ((uint32_t)buf[4 * i + 2] << 16) | ((uint32_t)buf[4 * i + 3] << 24);
    uint32_t d = (t & 0x55555555u) + ((t >> 1) & 0x55555555u);
    for (int j = 0; j < 8; j++) {
      int16_t a = (int16_t)((d >> (4 * j)) & 3);
      int16_t b = (int16_t)((d >> (4 * j + 2)) & 3);
      p->c[8 * i + j] = (int16_t)(a - b);
    }
  }
}

/* One noise polynomial: SamplePolyCBD_2(PRF_2(seed, nonce)), PRF = SHAKE256 to 128 bytes. */
typedef struct {
  poly *p;
  uint8_t in[33];
} prf_ctx;

/* Job callback: the 128 PRF bytes become one CBD_2 polynomial. */
static int prf_block(aq_keccakx4_job *job, const uint8_t *out, size_t len) {
  prf_ctx *c = job->ctx;
  (void)len; /* 128 */
  poly_cbd2(c->p, out);
  return 0;
}

/* Jobs for the n noise polynomials *p[i] = CBD(PRF(seed, nonce0 + i)).  seed is secret. */
static size_t noise_jobs(aq_keccakx4_job *jobs, prf_ctx *ctx, poly *const *p, size_t n,
                         const uint8_t seed[32], uint8_t nonce0) {
  for (size_t i = 0; i < n; i++) {
    ctx[i].p = p[i];
    memcpy(ctx[i].in, seed, 32);
    ctx[i].in[32] = (uint8_t)(nonce0 + i);
    jobs[i] = (aq_keccakx4_job){ctx[i].in, sizeof(ctx[i].in), AQ_SHAKE256_RATE, 0x1f,
                                   128,       prf_block,         &ctx[i]};
  }
  return n;
}

/* A fixed-length hash or XOF output (at most one block). */
typedef struct {
  uint8_t *out;
  size_t outlen;
} hash_ctx;

/* Job callback: copy the digest / XOF output (one block). */
static int hash_block(aq_keccakx4_job *job, const uint8_t *out, size_t len) {
  hash_ctx *c = job->ctx;
  memcpy(c->out, out, len); /* len = outlen <= rate */
  return 0;
}

/* A job hashing in[0:inlen] at the given rate and domain byte into out[0:outlen]. */
static aq_keccakx4_job hash_job(hash_ctx *c, const uint8_t *in, size_t inlen, size_t rate,
                                   uint8_t dsep, uint8_t *out, size_t outlen) {
  c->out = out;
  c->outlen = outlen;
  return (aq_keccakx4_job){in, inlen, rate, dsep, outlen, hash_block, c};
}

/* ------------------------------------------------------------------ PKE */

/*
 * The public part of K-PKE shared by encryption and decapsulation's
 * re-encryption: t-hat decoded from ek, and rho.
 */
typedef struct {
  polyvec t;
  uint8_t rho[32];
} pke_pub;

/* t-hat = ByteDecode12(ek[0:1152]) (reduced mod q), rho = ek[1152:1184] (Alg. 14 lines 2-3). */
static void pke_pub_decode(pke_pub *pk, const uint8_t ek[AQ_MLKEM768_EK_LEN]) {
  for (int i = 0; i < MLKEM_K; i++) {
    poly_decode12(&pk->t.v[i], ek + i * POLY_BYTES);
  }
  memcpy(pk->rho, ek + PKE_BYTES, 32);
}

/* The randomness of K-PKE.Encrypt: y (nonces 0..2), e1 (3..5), e2 (6) (Alg. 14 lines 8-17). */
typedef struct {
  polyvec y;
  polyvec e1;
  poly e2;
} enc_noise;

/* Jobs for the seven K-PKE.Encrypt noise polynomials from r (secret). */
static size_t enc_noise_jobs(aq_keccakx4_job *jobs, prf_ctx ctx[7], enc_noise *nz,
                             const uint8_t r[32]) {
  poly *const p[7] = {&nz->y.v[0],  &nz->y.v[1],  &nz->y.v[2], &nz->e1.v[0],
                      &nz->e1.v[1], &nz->e1.v[2], &nz->e2};
  return noise_jobs(jobs, ctx, p, 7, r, 0);
}

/*
 * K-PKE.Encrypt (Alg. 14) into ct, from the sampled transpose at (a[3 i + j]
 * = A-hat^T[i][j]) and noise nz (consumed: y is transformed in place).
 */
static void pke_encrypt(uint8_t ct[AQ_MLKEM768_CT_LEN], const poly at[MLKEM_K * MLKEM_K],
                        const polyvec *t, enc_noise *nz, const uint8_t m[32]) {
  poly_mulcache yc[MLKEM_K];
  poly u;
  poly mu;

  for (int i = 0; i < MLKEM_K; i++) {
    poly_ntt(&nz->y.v[i]);
    poly_mulcache_compute(&yc[i], &nz->y.v[i]);
  }
  /* u = NTT^-1(A^T o y) + e1. */
  for (int i = 0; i < MLKEM_K; i++) {
    poly_basemul_acc(&u, &at[MLKEM_K * i], &nz->y, yc);
    poly_invntt_tomont(&u);
    poly_add(&u, &nz->e1.v[i]);
    if (!aq_mlkem768_compress10_fast(ct + 320 * i, u.c)) { /* AVX2 */
      poly_canonical(&u);
      poly_compress10(ct + 320 * i, &u);
    }
  }
  /* v = NTT^-1(t^T o y) + e2 + Decompress1(m). */
  poly_basemul_acc(&u, t->v, &nz->y, yc);
  poly_invntt_tomont(&u);
  poly_add(&u, &nz->e2);
  poly_frommsg(&mu, m);
  poly_add(&u, &mu);
  poly_canonical(&u);
  poly_compress4(ct + C1_BYTES, &u);

  aq_memzero(yc, sizeof(yc));
  aq_memzero(&u, sizeof(u));
  aq_memzero(&mu, sizeof(mu));
}

/* K-PKE.Decrypt(dk_PKE, c) (Alg. 15) into m. */
static void pke_decrypt(uint8_t m[32], const uint8_t dk_pke[PKE_BYTES],
                        const uint8_t ct[AQ_MLKEM768_CT_LEN]) {
  polyvec u;
  poly_mulcache uc[MLKEM_K];
  poly s[MLKEM_K];
  poly w;
  poly v;

  for (int i = 0; i < MLKEM_K; i++) {
    poly_decompress10(&u.v[i], ct + 320 * i);
    poly_ntt(&u.v[i]);
    poly_mulcache_compute(&uc[i], &u.v[i]);
    poly_decode12(&s[i], dk_pke + i * POLY_BYTES);
  }
  poly_basemul_acc(&w, s, &u, uc);
  poly_invntt_tomont(&w);
  poly_decompress4(&v, ct + C1_BYTES);
  for (int i = 0; i < MLKEM_N; i++) {
    v.c[i] = (int16_t)(v.c[i] - w.c[i]);
  }
  poly_canonical(&v);
  poly_tomsg(m, &v);

  aq_memzero(&u, sizeof(u));
  aq_memzero(uc, sizeof(uc));
  aq_memzero(s, sizeof(s));
  aq_memzero(&w, sizeof(w));
  aq_memzero(&v, sizeof(v));
}

/* ---------------------------------------------------------------- ML-KEM */

void aq_mlkem768_keygen_internal(uint8_t ek[static AQ_MLKEM768_EK_LEN],
                                 uint8_t dk[static AQ_MLKEM768_DK_LEN], const uint8_t d[static 32],
                                 const uint8_t z[static 32]) {
  uint8_t in[33];
  uint8_t rhosigma[64]; /* (rho, sigma) = G(d ‖ k) (Alg. 13 line 1) */
  polyvec s;
  polyvec e;
  poly_mulcache sc[MLKEM_K];
  poly a[MLKEM_K * MLKEM_K];
  poly t;
  aq_keccakx4_job jobs[MLKEM_K * MLKEM_K + 2 * MLKEM_K];
  xof_ctx xc[MLKEM_K * MLKEM_K];
  prf_ctx pc[2 * MLKEM_K];

  memcpy(in, d, 32);
  in[32] = MLKEM_K;
  aq_sha3_512(rhosigma, in, sizeof(in));
  const uint8_t *rho = rhosigma;
  const uint8_t *sigma = rhosigma + 32;
  CT_DECLASSIFY(rho, 32); /* rho is published in ek */

  /* A-hat, then s (nonces 0..2) and e (3..5) (Alg. 13 lines 3-15). */
  poly *const noise[2 * MLKEM_K] = {&s.v[0], &s.v[1], &s.v[2], &e.v[0], &e.v[1], &e.v[2]};
  size_t n = matrix_jobs(jobs, xc, a, rho, 0);
  n += noise_jobs(jobs + n, pc, noise, 2 * MLKEM_K, sigma, 0);
  aq_keccakx4_run(jobs, n);

  for (int i = 0; i < MLKEM_K; i++) {
    poly_ntt(&s.v[i]);
    poly_mulcache_compute(&sc[i], &s.v[i]);
    poly_ntt(&e.v[i]);
  }
  /* t-hat = A-hat o s-hat + e-hat. */
  for (int i = 0; i < MLKEM_K; i++) {
    poly_basemul_acc(&t, &a[MLKEM_K * i], &s, sc);
    for (int c = 0; c < MLKEM_N; c++) {
      t.c[c] = fqmul(t.c[c], MONT_R2); /* undo basemul's 2^-16 */
    }
    poly_add(&t, &e.v[i]);
    poly_canonical(&t);
    poly_encode12(ek + i * POLY_BYTES, &t);
  }
  memcpy(ek + PKE_BYTES, rho, 32);

  /* dk = ByteEncode12(s-hat) ‖ ek ‖ H(ek) ‖ z (Alg. 16). */
  for (int i = 0; i < MLKEM_K; i++) {
    poly_canonical(&s.v[i]);
    poly_encode12(dk + i * POLY_BYTES, &s.v[i]);
  }
  memcpy(dk + PKE_BYTES, ek, AQ_MLKEM768_EK_LEN);
  aq_sha3_256(dk + PKE_BYTES + AQ_MLKEM768_EK_LEN, ek, AQ_MLKEM768_EK_LEN);
  memcpy(dk + PKE_BYTES + AQ_MLKEM768_EK_LEN + 32, z, 32);

  aq_memzero(in, sizeof(in));
  aq_memzero(rhosigma, sizeof(rhosigma));
  aq_memzero(&s, sizeof(s));
  aq_memzero(&e, sizeof(e));
  aq_memzero(sc, sizeof(sc));
  aq_memzero(&t, sizeof(t));
  aq_memzero(pc, sizeof(pc));
}

void aq_mlkem768_keygen(uint8_t ek[static AQ_MLKEM768_EK_LEN],
                        uint8_t dk[static AQ_MLKEM768_DK_LEN],
                        const uint8_t seed[static AQ_MLKEM768_SEED_LEN]) {
  aq_mlkem768_keygen_internal(ek, dk, seed, seed + 32);
}

/* (K, r) = G(m ‖ h) (Alg. 17 line 1, Alg. 18 line 8). */
static void hash_g(uint8_t kr[64], const uint8_t m[32], const uint8_t h[32]) {
  uint8_t in[64];
  memcpy(in, m, 32);
  memcpy(in + 32, h, 32);
  aq_sha3_512(kr, in, sizeof(in));
  aq_memzero(in, sizeof(in));
}

void aq_mlkem768_encaps_internal(uint8_t ct[static AQ_MLKEM768_CT_LEN],
                                 uint8_t ss[static AQ_MLKEM768_SS_LEN],
                                 const uint8_t ek[static AQ_MLKEM768_EK_LEN],
                                 const uint8_t m[static AQ_MLKEM768_M_LEN]) {
  pke_pub pk;
  poly at[MLKEM_K * MLKEM_K];
  enc_noise nz;
  uint8_t h[32];
  uint8_t kr[64];
  aq_keccakx4_job jobs[1 + MLKEM_K * MLKEM_K];
  xof_ctx xc[MLKEM_K * MLKEM_K];
  prf_ctx pc[7];
  hash_ctx hc;

  pke_pub_decode(&pk, ek);
  /* H(ek) beside the nine matrix entries (the long job first, for packing). */
  jobs[0] = hash_job(&hc, ek, AQ_MLKEM768_EK_LEN, AQ_SHA3_256_RATE, 0x06, h, 32);
  size_t n = 1 + matrix_jobs(jobs + 1, xc, at, pk.rho, 1);
  aq_keccakx4_run(jobs, n);

  hash_g(kr, m, h);
  n = enc_noise_jobs(jobs, pc, &nz, kr + 32);
  aq_keccakx4_run(jobs, n);
  pke_encrypt(ct, at, &pk.t, &nz, m);
  memcpy(ss, kr, AQ_MLKEM768_SS_LEN);

  aq_memzero(kr, sizeof(kr));
  aq_memzero(&nz, sizeof(nz));
  aq_memzero(pc, sizeof(pc));
}

/*
 * FIPS 203 §7.2: "(Modulus check.) Perform the computation
 * test <- ByteEncode12(ByteDecode12(ek[0:384k])). If test != ek[0:384k], then
 * input checking has failed."  Equivalently: every 12-bit field is < q.
 * ek is public, but the check is branch-free anyway.  1 = ok.
 */
static int ek_modulus_ok(const uint8_t ek[AQ_MLKEM768_EK_LEN]) {
  uint32_t bad = 0;
  for (int i = 0; i < PKE_BYTES / 3; i++) {
    uint32_t b0 = ek[3 * i], b1 = ek[3 * i + 1], b2 = ek[3 * i + 2];
    uint32_t d1 = b0 | ((b1 & 0x0f) << 8);
    uint32_t d2 = (b1 >> 4) | (b2 << 4);
    bad |= ((MLKEM_Q - 1 - d1) | (MLKEM_Q - 1 - d2)) >> 31;
  }
  return bad == 0;
}

int aq_mlkem768_encaps(uint8_t ct[static AQ_MLKEM768_CT_LEN], uint8_t ss[static AQ_MLKEM768_SS_LEN],
                       const uint8_t ek[static AQ_MLKEM768_EK_LEN],
                       const uint8_t m[static AQ_MLKEM768_M_LEN]) {
  if (!ek_modulus_ok(ek)) {
    memset(ct, 0, AQ_MLKEM768_CT_LEN);
    memset(ss, 0, AQ_MLKEM768_SS_LEN);
    return AQ_ERR_MALFORMED;
  }
  aq_mlkem768_encaps_internal(ct, ss, ek, m);
  return 0;
}

int aq_mlkem768_encaps_len(uint8_t ct[static AQ_MLKEM768_CT_LEN],
                           uint8_t ss[static AQ_MLKEM768_SS_LEN], const uint8_t *ek, size_t eklen,
                           const uint8_t m[static AQ_MLKEM768_M_LEN]) {
  /* §7.2 "(Type check.) If ek is not an array of bytes of length 384k + 32 ..." */
  if (ek == NULL || eklen != AQ_MLKEM768_EK_LEN) {
    memset(ct, 0, AQ_MLKEM768_CT_LEN);
    memset(ss, 0, AQ_MLKEM768_SS_LEN);
    return AQ_ERR_MALFORMED;
  }
  return aq_mlkem768_encaps(ct, ss, ek, m);
}

int aq_mlkem768_decaps(uint8_t ss[static AQ_MLKEM768_SS_LEN],
                       const uint8_t ct[static AQ_MLKEM768_CT_LEN],
                       const uint8_t dk[static AQ_MLKEM768_DK_LEN]) {
  const uint8_t *dk_pke = dk;
  const uint8_t *ek = dk + PKE_BYTES;
  const uint8_t *h = ek + AQ_MLKEM768_EK_LEN;
  const uint8_t *z = h + 32;
  pke_pub pk;
  poly at[MLKEM_K * MLKEM_K];
  enc_noise nz;
  uint8_t hek[32];
  uint8_t mp[32];
  uint8_t kr[64];
  uint8_t kbar[32];
  uint8_t zc[32 + AQ_MLKEM768_CT_LEN];
  uint8_t ct2[AQ_MLKEM768_CT_LEN];
  aq_keccakx4_job jobs[2 + MLKEM_K * MLKEM_K + 7];
  xof_ctx xc[MLKEM_K * MLKEM_K];
  prf_ctx pc[7];
  hash_ctx hc[2];
  int rv = 0;

  pke_decrypt(mp, dk_pke, ct); /* Alg. 18 line 7 */
  hash_g(kr, mp, h);           /* line 8: (K', r') = G(m' ‖ h) */
  pke_pub_decode(&pk, ek);
  memcpy(zc, z, 32);
  memcpy(zc + 32, ct, AQ_MLKEM768_CT_LEN);
  /*
   * One batch: the §7.3 hash check H(ek), K-bar = J(z ‖ c) (line 9), the
   * matrix and the re-encryption noise (line 10).
   */
  jobs[0] = hash_job(&hc[0], ek, AQ_MLKEM768_EK_LEN, AQ_SHA3_256_RATE, 0x06, hek, 32);
  jobs[1] = hash_job(&hc[1], zc, sizeof(zc), AQ_SHAKE256_RATE, 0x1f, kbar, 32);
  size_t n = 2 + matrix_jobs(jobs + 2, xc, at, pk.rho, 1);
  n += enc_noise_jobs(jobs + n, pc, &nz, kr + 32);
  aq_keccakx4_run(jobs, n);

  /* §7.3 "(Hash check.) Perform the computation test <- H(dk[384k : 768k + 32]).
   * If test != dk[768k + 32 : 768k + 64], then input checking has failed." */
  if (!aq_ct_memeq(hek, h, 32)) {
    memset(ss, 0, AQ_MLKEM768_SS_LEN);
    rv = AQ_ERR_MALFORMED;
    goto out;
  }

  pke_encrypt(ct2, at, &pk.t, &nz, mp); /* line 10: c' */
  /* Lines 11-13, in constant time: K' unless c != c', then K-bar. */
  uint8_t differ =
      (uint8_t)(aq_ct_barrier_u32((uint32_t)aq_ct_memeq(ct, ct2, AQ_MLKEM768_CT_LEN)) - 1u);
  memcpy(ss, kr, AQ_MLKEM768_SS_LEN);
  aq_ct_cmov(ss, kbar, AQ_MLKEM768_SS_LEN, differ);

out:
  aq_memzero(mp, sizeof(mp));
  aq_memzero(kr, sizeof(kr));
  aq_memzero(kbar, sizeof(kbar));
  aq_memzero(zc, 32);
  aq_memzero(ct2, sizeof(ct2));
  aq_memzero(&nz, sizeof(nz));
  aq_memzero(pc, sizeof(pc));
  return rv;
}

int aq_mlkem768_decaps_len(uint8_t ss[static AQ_MLKEM768_SS_LEN], const uint8_t *ct, size_t ctlen,
                           const uint8_t *dk, size_t dklen) {
  /* §7.3 "(Ciphertext type check.)" and "(Decapsulation key type check.)" */
  if (ct == NULL || dk == NULL || ctlen != AQ_MLKEM768_CT_LEN || dklen != AQ_MLKEM768_DK_LEN) {
    memset(ss, 0, AQ_MLKEM768_SS_LEN);
    return AQ_ERR_MALFORMED;
  }
  return aq_mlkem768_decaps(ss, ct, dk);
}

/* --------------------------------------------------------------- selftest */

/* Selftest hex helpers (constant strings only). */
static int hex_nibble(char c) {
  return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

static void selftest_unhex(uint8_t *out, const char *hex, size_t len) {
  for (size_t i = 0; i < len; i++) {
    out[i] = (uint8_t)((hex_nibble(hex[2 * i]) << 4) | hex_nibble(hex[2 * i + 1]));
  }
}

static int selftest_hash_eq(const uint8_t *data, size_t len, const char *want_hex) {
  uint8_t got[32];
  uint8_t want[32];
  aq_sha3_256(got, data, len);
  selftest_unhex(want, want_hex, 32);
  return memcmp(got, want, 32) == 0;
}

/*
 * 1. ACVP ML-KEM-keyGen-FIPS203 tgId 2 tcId 26: KeyGen_internal(d, z) must give
 *    ek and dk with the recorded SHA3-256 hashes.
 * 2. Wycheproof mlkem_768_test.json tcId 2 / mlkem_768_encaps_test.json tcId 14
 *    (source "FIPS 203"): KeyGen(seed), Encaps_internal(ek, m) -> (K, c) by
 *    hash, Decaps(dk, c) = K, and Decaps of c with bit 0 flipped = J(z ‖ c')
 *    (computed independently with Python hashlib).
 */
int aq_mlkem768_selftest(void) {
  static const char acvp_d[] = "e34a701c4c87582f42264ee422d3c684d97611f2523efe0c998af05056d693dc";
  static const char acvp_z[] = "a85768f3486bd32a01bf9a8f21ea938e648eae4e5448c34c3eb88820b159eedd";
  static const char acvp_hek[] = "e29020839d052fa372585627f8b59ee312ae414c979d825f06a6929a79625718";
  static const char acvp_hdk[] = "a4e8ba80bb7a745e936d47784c07ffa6a314caf5a8deb4648c5c2d6ae930ebcd";
  static const char wp_seed[] = "7c9935a0b07694aa0c6d10e4db6b1add2fd81a25ccb148032dcd739936737f2d"
                                "8626ed79d451140800e03b59b956f8210e556067407d13dc90fa9e8b872bfb8f";
  static const char wp_hek[] = "f57262661358cde8d3ebf990e5fd1d5b896c992ccfaadb5256b68bbf5943b132";
  static const char wp_m[] = "147c03f7a5bebba406c8fae1874d7f13c80efe79a3a9a874cc09fe76f6997615";
  static const char wp_hc[] = "6e777e2cf8054659136a971d9e70252f301226930c19c470ee0688163a63c15b";
  static const char wp_k[] = "e7184a0975ee3470878d2d159ec83129c8aec253d4ee17b4810311d198cd0368";
  static const char wp_kbar[] = "d8f24fa38430a171f93f27d46c52e0bc636d0a1fd5b9571951afbf1ad0b895a5";
  uint8_t seed[64], m[32], want[32], ss[32];
  uint8_t ek[AQ_MLKEM768_EK_LEN], dk[AQ_MLKEM768_DK_LEN], ct[AQ_MLKEM768_CT_LEN];
  int ok = 1;

  selftest_unhex(seed, acvp_d, 32);
  selftest_unhex(seed + 32, acvp_z, 32);
  aq_mlkem768_keygen_internal(ek, dk, seed, seed + 32);
  ok &= selftest_hash_eq(ek, sizeof(ek), acvp_hek);
  ok &= selftest_hash_eq(dk, sizeof(dk), acvp_hdk);

  selftest_unhex(seed, wp_seed, 64);
  selftest_unhex(m, wp_m, 32);
  aq_mlkem768_keygen(ek, dk, seed);
  ok &= selftest_hash_eq(ek, sizeof(ek), wp_hek);
  ok &= aq_mlkem768_encaps(ct, ss, ek, m) == 0;
  ok &= selftest_hash_eq(ct, sizeof(ct), wp_hc);
  selftest_unhex(want, wp_k, 32);
  ok &= memcmp(ss, want, 32) == 0;
  memset(ss, 0, sizeof(ss));
  ok &= aq_mlkem768_decaps(ss, ct, dk) == 0;
  ok &= memcmp(ss, want, 32) == 0;
  ct[0] ^= 1;
  ok &= aq_mlkem768_decaps(ss, ct, dk) == 0;
  selftest_unhex(want, wp_kbar, 32);
  ok &= memcmp(ss, want, 32) == 0;

  aq_memzero(seed, sizeof(seed));
  aq_memzero(dk, sizeof(dk));
  aq_memzero(ss, sizeof(ss));
  return ok ? 0 : AQ_ERR_CRYPTO;
}
