/*
 * aq_mlkem768_ntt_avx2.c - the ML-KEM NTT, inverse NTT and NTT-domain
 * multiply-accumulate with AVX2, used
 * when the CPU has it (checked at run time); aq_mlkem768.c keeps the
 * portable versions and falls back to them otherwise.
 *
 * Same butterflies, same twiddles, same coefficient order as the portable
 * code (FIPS 203 Alg. 9/10), sixteen int16 lanes per register:
 *  - layers with len >= 16 pair whole registers;
 *  - layers with len 8, 4, 2 pair lanes inside a register: both halves of
 *    each butterfly are broadcast (permute2x128 / unpack 64-bit / shuffle
 *    32-bit), and a per-lane sign (+ for the lower half, - for the upper)
 *    merges a + t and a - t into one operation;
 *  - Montgomery multiplication uses the 16-bit high/low products:
 *    fqmul(a, z) = mulhi(a, z) - mulhi(mullo(a, z * q^-1), q), the same
 *    value as the portable montgomery_reduce(a * z).
 * In the inverse transform the lower lanes of the in-register layers are
 * multiplied by 2^16 mod q (Montgomery one), which reduces them for free.
 * No branch or index depends on coefficient values.
 */
#include "aq_mlkem768_ntt.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) &&                           \
    !defined(AQ_MLKEM768_NO_AVX2)
#  include <immintrin.h>

#  define NTT_Q 3329
#  define NTT_QINV (-3327) /* q^-1 mod 2^16 */
#  define NTT_MONT (-1044) /* 2^16 mod q, centred */
#  define NTT_F 1441       /* 2^32 / 128 mod q */

#  define AVX2 __attribute__((target("avx2")))

AVX2 static inline __m256i fqmul_v(__m256i a, __m256i z) {
  const __m256i q = _mm256_set1_epi16(NTT_Q);
  __m256i zq = _mm256_mullo_epi16(z, _mm256_set1_epi16(NTT_QINV));
  __m256i hi = _mm256_mulhi_epi16(a, z);
  __m256i t = _mm256_mulhi_epi16(_mm256_mullo_epi16(a, zq), q);
  return _mm256_sub_epi16(hi, t);
}

/* a - round(a / q) q, |result| <= q/2 + 1, for any int16 a. */
AVX2 static inline __m256i barrett_v(__m256i a) {
  __m256i t = _mm256_mulhi_epi16(a, _mm256_set1_epi16(20159)); /* ~ 2^26 / q */
  t = _mm256_srai_epi16(_mm256_add_epi16(t, _mm256_set1_epi16(512)), 10);
  return _mm256_sub_epi16(a, _mm256_mullo_epi16(t, _mm256_set1_epi16(NTT_Q)));
}

AVX2 static inline __m256i load_v(const int16_t *p) {
  return _mm256_loadu_si256((const __m256i *)(const void *)p);
}

AVX2 static inline void store_v(int16_t *p, __m256i v) {
  _mm256_storeu_si256((__m256i *)(void *)p, v);
}

/* Lanes: z0 for the first 8, z1 for the last 8 (two blocks of 8 per register). */
AVX2 static inline __m256i zeta2_v(int16_t z0, int16_t z1) {
  return _mm256_setr_epi16(z0, z0, z0, z0, z0, z0, z0, z0, z1, z1, z1, z1, z1, z1, z1, z1);
}

/* Four blocks of 4 lanes. */
AVX2 static inline __m256i zeta4_v(int16_t z0, int16_t z1, int16_t z2, int16_t z3) {
  return _mm256_setr_epi16(z0, z0, z0, z0, z1, z1, z1, z1, z2, z2, z2, z2, z3, z3, z3, z3);
}

AVX2 static void ntt_avx2(int16_t r[256], const int16_t zetas[128]) {
  unsigned k = 1;
  /* len 128 .. 16: whole-register butterflies. */
  for (unsigned len = 128; len >= 16; len >>= 1) {
    for (unsigned start = 0; start < 256; start += 2 * len) {
      const __m256i z = _mm256_set1_epi16(zetas[k++]);
      for (unsigned j = start; j < start + len; j += 16) {
        __m256i a = load_v(r + j);
        __m256i t = fqmul_v(load_v(r + j + len), z);
        store_v(r + j + len, _mm256_sub_epi16(a, t));
        store_v(r + j, _mm256_add_epi16(a, t));
      }
    }
  }
  const __m256i sign8 = _mm256_setr_epi16(1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i sign4 = _mm256_setr_epi16(1, 1, 1, 1, -1, -1, -1, -1, 1, 1, 1, 1, -1, -1, -1, -1);
  const __m256i sign2 = _mm256_setr_epi16(1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1);
  /* len 8: one block of 16 per register, k = 16..31. */
  for (unsigned i = 0; i < 16; i++) {
    __m256i v = load_v(r + 16 * i);
    __m256i a = _mm256_permute2x128_si256(v, v, 0x00);
    __m256i b = _mm256_permute2x128_si256(v, v, 0x11);
    __m256i t = fqmul_v(b, _mm256_set1_epi16(zetas[16 + i]));
    store_v(r + 16 * i, _mm256_add_epi16(a, _mm256_sign_epi16(t, sign8)));
  }
  /* len 4: two blocks of 8 per register, k = 32..63. */
  for (unsigned i = 0; i < 16; i++) {
    __m256i v = load_v(r + 16 * i);
    __m256i a = _mm256_unpacklo_epi64(v, v);
    __m256i b = _mm256_unpackhi_epi64(v, v);
    __m256i t = fqmul_v(b, zeta2_v(zetas[32 + 2 * i], zetas[33 + 2 * i]));
    store_v(r + 16 * i, _mm256_add_epi16(a, _mm256_sign_epi16(t, sign4)));
  }
  /* len 2: four blocks of 4 per register, k = 64..127. */
  for (unsigned i = 0; i < 16; i++) {
    __m256i v = load_v(r + 16 * i);
    __m256i a = _mm256_shuffle_epi32(v, 0xa0); /* dwords 0,0,2,2 */
    __m256i b = _mm256_shuffle_epi32(v, 0xf5); /* dwords 1,1,3,3 */
    const int16_t *z = zetas + 64 + 4 * i;
    __m256i t = fqmul_v(b, zeta4_v(z[0], z[1], z[2], z[3]));
    store_v(r + 16 * i, barrett_v(_mm256_add_epi16(a, _mm256_sign_epi16(t, sign2))));
  }
}

AVX2 static void invntt_avx2(int16_t r[256], const int16_t zetas[128]) {
  const __m256i one = _mm256_set1_epi16(NTT_MONT);
  const __m256i sign8 = _mm256_setr_epi16(1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i sign4 = _mm256_setr_epi16(1, 1, 1, 1, -1, -1, -1, -1, 1, 1, 1, 1, -1, -1, -1, -1);
  const __m256i sign2 = _mm256_setr_epi16(1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1);
  /*
   * In-register layers: lower lanes get b + a (times Montgomery one), upper
   * lanes zeta (b - a); all outputs below q.
   */
  /* len 2: k = 127..64, block 4i + m uses zetas[127 - 4i - m]. */
  for (unsigned i = 0; i < 16; i++) {
    __m256i v = load_v(r + 16 * i);
    __m256i a = _mm256_shuffle_epi32(v, 0xa0);
    __m256i b = _mm256_shuffle_epi32(v, 0xf5);
    const int16_t *z = zetas + 127 - 4 * i;
    __m256i zv = _mm256_blend_epi16(one, zeta4_v(z[0], z[-1], z[-2], z[-3]), 0xcc);
    store_v(r + 16 * i, fqmul_v(_mm256_add_epi16(b, _mm256_sign_epi16(a, sign2)), zv));
  }
  /* len 4: k = 63..32. */
  for (unsigned i = 0; i < 16; i++) {
    __m256i v = load_v(r + 16 * i);
    __m256i a = _mm256_unpacklo_epi64(v, v);
    __m256i b = _mm256_unpackhi_epi64(v, v);
    __m256i zv = _mm256_blend_epi16(one, zeta2_v(zetas[63 - 2 * i], zetas[62 - 2 * i]), 0xf0);
    store_v(r + 16 * i, fqmul_v(_mm256_add_epi16(b, _mm256_sign_epi16(a, sign4)), zv));
  }
  /* len 8: k = 31..16. */
  for (unsigned i = 0; i < 16; i++) {
    __m256i v = load_v(r + 16 * i);
    __m256i a = _mm256_permute2x128_si256(v, v, 0x00);
    __m256i b = _mm256_permute2x128_si256(v, v, 0x11);
    __m256i zv = _mm256_permute2x128_si256(one, _mm256_set1_epi16(zetas[31 - i]), 0x30);
    store_v(r + 16 * i, fqmul_v(_mm256_add_epi16(b, _mm256_sign_epi16(a, sign8)), zv));
  }
  /*
   * len 16 .. 128: whole registers.  Sums double per layer from < q: 2q, 4q,
   * 8q, so they are Barrett-reduced in the len 64 layer; len 128 ends < 2q.
   */
  unsigned k = 15;
  for (unsigned len = 16; len <= 128; len <<= 1) {
    for (unsigned start = 0; start < 256; start += 2 * len) {
      const __m256i z = _mm256_set1_epi16(zetas[k--]);
      for (unsigned j = start; j < start + len; j += 16) {
        __m256i a = load_v(r + j);
        __m256i b = load_v(r + j + len);
        __m256i sum = _mm256_add_epi16(a, b);
        store_v(r + j, len == 64 ? barrett_v(sum) : sum);
        store_v(r + j + len, fqmul_v(_mm256_sub_epi16(b, a), z));
      }
    }
  }
  const __m256i f = _mm256_set1_epi16(NTT_F);
  for (unsigned i = 0; i < 16; i++) {
    store_v(r + 16 * i, fqmul_v(load_v(r + 16 * i), f));
  }
}

/* Montgomery reduction of eight int32 lanes: (c - ((int16)(c q^-1)) q) >> 16. */
AVX2 static inline __m256i mont32_v(__m256i c) {
  __m256i t = _mm256_mullo_epi32(c, _mm256_set1_epi32(NTT_QINV));
  t = _mm256_srai_epi32(_mm256_slli_epi32(t, 16), 16);
  return _mm256_srai_epi32(_mm256_sub_epi32(c, _mm256_mullo_epi32(t, _mm256_set1_epi32(NTT_Q))),
                           16);
}

/*
 * Pairs (a0, a1) and (b0, b1) sit in adjacent int16 lanes, so madd gives
 * a0 c0 + a1 c1 (c = mulcache: b0, b1 gamma) and, against b with its pairs
 * swapped, a0 b1 + a1 b0, each as one int32 per pair.
 */
AVX2 static void basemul_acc_avx2(int16_t r[256], const int16_t *const a[3],
                                  const int16_t *const b[3], const int16_t *const bc[3]) {
  const __m256i swap = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, 2, 3,
                                        0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
  for (unsigned i = 0; i < 256; i += 16) {
    __m256i even = _mm256_setzero_si256();
    __m256i odd = _mm256_setzero_si256();
    for (unsigned j = 0; j < 3; j++) {
      __m256i av = load_v(a[j] + i);
      __m256i bsw = _mm256_shuffle_epi8(load_v(b[j] + i), swap);
      even = _mm256_add_epi32(even, _mm256_madd_epi16(av, load_v(bc[j] + i)));
      odd = _mm256_add_epi32(odd, _mm256_madd_epi16(av, bsw));
    }
    even = mont32_v(even);
    odd = mont32_v(odd);
    store_v(r + i, _mm256_blend_epi16(even, _mm256_slli_epi32(odd, 16), 0xaa));
  }
}

static int have_avx2(void) {
  return __builtin_cpu_supports("avx2") != 0;
}

int aq_mlkem768_basemul_acc_fast(int16_t r[256], const int16_t a0[256], const int16_t a1[256],
                                 const int16_t a2[256], const int16_t b0[256],
                                 const int16_t b1[256], const int16_t b2[256],
                                 const int16_t bc0[256], const int16_t bc1[256],
                                 const int16_t bc2[256]) {
  if (!have_avx2()) {
    return 0;
  }
  const int16_t *const a[3] = {a0, a1, a2};
  const int16_t *const b[3] = {b0, b1, b2};
  const int16_t *const bc[3] = {bc0, bc1, bc2};
  basemul_acc_avx2(r, a, b, bc);
  return 1;
}

int aq_mlkem768_ntt_fast(int16_t r[256], const int16_t zetas[128]) {
  if (!have_avx2()) {
    return 0;
  }
  ntt_avx2(r, zetas);
  return 1;
}

int aq_mlkem768_invntt_fast(int16_t r[256], const int16_t zetas[128]) {
  if (!have_avx2()) {
    return 0;
  }
  invntt_avx2(r, zetas);
  return 1;
}

#else

int aq_mlkem768_basemul_acc_fast(int16_t r[256], const int16_t a0[256], const int16_t a1[256],
                                 const int16_t a2[256], const int16_t b0[256],
                                 const int16_t b1[256], const int16_t b2[256],
                                 const int16_t bc0[256], const int16_t bc1[256],
                                 const int16_t bc2[256]) {
  (void)r, (void)a0, (void)a1, (void)a2, (void)b0, (void)b1, (void)b2;
  (void)bc0, (void)bc1, (void)bc2;
  return 0;
}

int aq_mlkem768_ntt_fast(int16_t r[256], const int16_t zetas[128]) {
  (void)r;
  (void)zetas;
  return 0;
}

int aq_mlkem768_invntt_fast(int16_t r[256], const int16_t zetas[128]) {
  (void)r;
  (void)zetas;
  return 0;
}

#endif
