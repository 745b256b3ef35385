/*
 * aq_keccakx4.c - four Keccak-f[1600] permutations side by side.
 *
 * ML-KEM and ML-DSA spend most of their time in Keccak, and the calls come in
 * independent groups (the nine SHAKE128 streams of the matrix, the six or
 * seven SHAKE256 noise streams), so four run at once: with AVX2 each
 * 256-bit register holds one lane of all four states, and four
 * permutations cost about as much as one scalar permutation (measured on
 * the development machine, AMD EPYC).  The AVX2 code is chosen at run time
 * (__builtin_cpu_supports); elsewhere the portable path permutes the four
 * states one after the other with aq_keccak_f1600 (also forced by building
 * with -DAQ_NO_AVX2).
 *
 * State layout: s[4 * lane + instance], lane = x + 5y as in FIPS 202.
 */
#include "aq_keccakx4.h"

#include <string.h>

#include "aq_ct.h"
#include "aq_sha3.h"

/* The four states one after the other (any platform). */
void aq_keccakx4_f1600_portable(uint64_t s[100]) {
  uint64_t one[25];
  for (int k = 0; k < 4; k++) {
    for (int i = 0; i < 25; i++) {
      one[i] = s[4 * i + k];
    }
    aq_keccak_f1600(one);
    for (int i = 0; i < 25; i++) {
      s[4 * i + k] = one[i];
    }
  }
  aq_memzero(one, sizeof(one));
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) &&                            \
    !defined(AQ_NO_AVX2)
#include <immintrin.h>


#define LOAD(i) _mm256_loadu_si256((const __m256i *)(const void *)(s + 4 * (i)))
#define STORE(i, v) _mm256_storeu_si256((__m256i *)(void *)(s + 4 * (i)), (v))
#define ROL(x, n) _mm256_or_si256(_mm256_slli_epi64((x), (n)), _mm256_srli_epi64((x), 64 - (n)))
#define XOR5(a, b, c, d, e)                                                                        \
  _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d)), e)

/*
 * Two rounds per iteration (s -> e -> s), written out lane by lane: theta,
 * then for each output plane the five rho/pi-moved lanes (lane (x, y) moves
 * to (y, 2x + 3y)) go straight into chi, so few values are live at once;
 * iota on lane 0.
 */
__attribute__((target("avx2"))) static void keccakx4_avx2(uint64_t s[100]) {
  __m256i s0 = LOAD(0), s1 = LOAD(1), s2 = LOAD(2), s3 = LOAD(3), s4 = LOAD(4);
  __m256i s5 = LOAD(5), s6 = LOAD(6), s7 = LOAD(7), s8 = LOAD(8), s9 = LOAD(9);
  __m256i s10 = LOAD(10), s11 = LOAD(11), s12 = LOAD(12), s13 = LOAD(13), s14 = LOAD(14);
  __m256i s15 = LOAD(15), s16 = LOAD(16), s17 = LOAD(17), s18 = LOAD(18), s19 = LOAD(19);
  __m256i s20 = LOAD(20), s21 = LOAD(21), s22 = LOAD(22), s23 = LOAD(23), s24 = LOAD(24);
  __m256i e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13, e14, e15, e16, e17, e18, e19,
      e20, e21, e22, e23, e24;
  __m256i b0, b1, b2, b3, b4;
  __m256i c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
  for (int round = 0; round < 24; round += 2) {
    c0 = XOR5(s0, s5, s10, s15, s20);
    c1 = XOR5(s1, s6, s11, s16, s21);
    c2 = XOR5(s2, s7, s12, s17, s22);
    c3 = XOR5(s3, s8, s13, s18, s23);
    c4 = XOR5(s4, s9, s14, s19, s24);
    d0 = _mm256_xor_si256(c4, ROL(c1, 1));
    d1 = _mm256_xor_si256(c0, ROL(c2, 1));
    d2 = _mm256_xor_si256(c1, ROL(c3, 1));
    d3 = _mm256_xor_si256(c2, ROL(c4, 1));
    d4 = _mm256_xor_si256(c3, ROL(c0, 1));
    b0 = _mm256_xor_si256(s0, d0);
    b1 = ROL(_mm256_xor_si256(s6, d1), 44);
    b2 = ROL(_mm256_xor_si256(s12, d2), 43);
    b3 = ROL(_mm256_xor_si256(s18, d3), 21);
    b4 = ROL(_mm256_xor_si256(s24, d4), 14);
    e0 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    e1 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    e2 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    e3 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    e4 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    e0 = _mm256_xor_si256(e0, _mm256_set1_epi64x((long long)aq_keccak_rc[round]));
    b0 = ROL(_mm256_xor_si256(s3, d3), 28);
    b1 = ROL(_mm256_xor_si256(s9, d4), 20);
    b2 = ROL(_mm256_xor_si256(s10, d0), 3);
    b3 = ROL(_mm256_xor_si256(s16, d1), 45);
    b4 = ROL(_mm256_xor_si256(s22, d2), 61);
    e5 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    e6 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    e7 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    e8 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    e9 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    b0 = ROL(_mm256_xor_si256(s1, d1), 1);
    b1 = ROL(_mm256_xor_si256(s7, d2), 6);
    b2 = ROL(_mm256_xor_si256(s13, d3), 25);
    b3 = ROL(_mm256_xor_si256(s19, d4), 8);
    b4 = ROL(_mm256_xor_si256(s20, d0), 18);
    e10 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    e11 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    e12 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    e13 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    e14 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    b0 = ROL(_mm256_xor_si256(s4, d4), 27);
    b1 = ROL(_mm256_xor_si256(s5, d0), 36);
    b2 = ROL(_mm256_xor_si256(s11, d1), 10);
    b3 = ROL(_mm256_xor_si256(s17, d2), 15);
    b4 = ROL(_mm256_xor_si256(s23, d3), 56);
    e15 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    e16 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    e17 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    e18 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    e19 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    b0 = ROL(_mm256_xor_si256(s2, d2), 62);
    b1 = ROL(_mm256_xor_si256(s8, d3), 55);
    b2 = ROL(_mm256_xor_si256(s14, d4), 39);
    b3 = ROL(_mm256_xor_si256(s15, d0), 41);
    b4 = ROL(_mm256_xor_si256(s21, d1), 2);
    e20 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    e21 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    e22 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    e23 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    e24 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    c0 = XOR5(e0, e5, e10, e15, e20);
    c1 = XOR5(e1, e6, e11, e16, e21);
    c2 = XOR5(e2, e7, e12, e17, e22);
    c3 = XOR5(e3, e8, e13, e18, e23);
    c4 = XOR5(e4, e9, e14, e19, e24);
    d0 = _mm256_xor_si256(c4, ROL(c1, 1));
    d1 = _mm256_xor_si256(c0, ROL(c2, 1));
    d2 = _mm256_xor_si256(c1, ROL(c3, 1));
    d3 = _mm256_xor_si256(c2, ROL(c4, 1));
    d4 = _mm256_xor_si256(c3, ROL(c0, 1));
    b0 = _mm256_xor_si256(e0, d0);
    b1 = ROL(_mm256_xor_si256(e6, d1), 44);
    b2 = ROL(_mm256_xor_si256(e12, d2), 43);
    b3 = ROL(_mm256_xor_si256(e18, d3), 21);
    b4 = ROL(_mm256_xor_si256(e24, d4), 14);
    s0 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    s1 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    s2 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    s3 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    s4 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    s0 = _mm256_xor_si256(s0, _mm256_set1_epi64x((long long)aq_keccak_rc[round + 1]));
    b0 = ROL(_mm256_xor_si256(e3, d3), 28);
    b1 = ROL(_mm256_xor_si256(e9, d4), 20);
    b2 = ROL(_mm256_xor_si256(e10, d0), 3);
    b3 = ROL(_mm256_xor_si256(e16, d1), 45);
    b4 = ROL(_mm256_xor_si256(e22, d2), 61);
    s5 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    s6 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    s7 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    s8 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    s9 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    b0 = ROL(_mm256_xor_si256(e1, d1), 1);
    b1 = ROL(_mm256_xor_si256(e7, d2), 6);
    b2 = ROL(_mm256_xor_si256(e13, d3), 25);
    b3 = ROL(_mm256_xor_si256(e19, d4), 8);
    b4 = ROL(_mm256_xor_si256(e20, d0), 18);
    s10 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    s11 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    s12 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    s13 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    s14 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    b0 = ROL(_mm256_xor_si256(e4, d4), 27);
    b1 = ROL(_mm256_xor_si256(e5, d0), 36);
    b2 = ROL(_mm256_xor_si256(e11, d1), 10);
    b3 = ROL(_mm256_xor_si256(e17, d2), 15);
    b4 = ROL(_mm256_xor_si256(e23, d3), 56);
    s15 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    s16 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    s17 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    s18 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    s19 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    b0 = ROL(_mm256_xor_si256(e2, d2), 62);
    b1 = ROL(_mm256_xor_si256(e8, d3), 55);
    b2 = ROL(_mm256_xor_si256(e14, d4), 39);
    b3 = ROL(_mm256_xor_si256(e15, d0), 41);
    b4 = ROL(_mm256_xor_si256(e21, d1), 2);
    s20 = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    s21 = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    s22 = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    s23 = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    s24 = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
  }
  STORE(0, s0);
  STORE(1, s1);
  STORE(2, s2);
  STORE(3, s3);
  STORE(4, s4);
  STORE(5, s5);
  STORE(6, s6);
  STORE(7, s7);
  STORE(8, s8);
  STORE(9, s9);
  STORE(10, s10);
  STORE(11, s11);
  STORE(12, s12);
  STORE(13, s13);
  STORE(14, s14);
  STORE(15, s15);
  STORE(16, s16);
  STORE(17, s17);
  STORE(18, s18);
  STORE(19, s19);
  STORE(20, s20);
  STORE(21, s21);
  STORE(22, s22);
  STORE(23, s23);
  STORE(24, s24);
}

/* AVX2 present?  (libgcc/compiler-rt CPUID cache; cheap enough per call.) */
static int have_avx2(void) {
  return __builtin_cpu_supports("avx2") != 0;
}

#else

static void keccakx4_avx2(uint64_t s[100]) {
  aq_keccakx4_f1600_portable(s);
}

static int have_avx2(void) {
  return 0;
}

#endif

void aq_keccakx4_f1600(uint64_t s[100]) {
  if (have_avx2()) {
    keccakx4_avx2(s);
  } else {
    aq_keccakx4_f1600_portable(s);
  }
}

/* Per-lane progress of aq_keccakx4_run. */
typedef struct {
  aq_keccakx4_job *job; /* NULL = idle */
  size_t absorbed;         /* input bytes absorbed so far */
  int squeezing;           /* padded: every permutation now yields a block */
} x4_lane;

/* Keccak lanes are little-endian (FIPS 202 §B.1): a plain copy on such hosts. */
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) &&                                 \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static inline uint64_t load64_le(const uint8_t *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}

static inline void store64_le(uint8_t *p, uint64_t v) {
  memcpy(p, &v, 8);
}
#else
static inline uint64_t load64_le(const uint8_t *p) {
  return (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16) | ((uint64_t)p[3] << 24) |
         ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40) | ((uint64_t)p[6] << 48) |
         ((uint64_t)p[7] << 56);
}

static inline void store64_le(uint8_t *p, uint64_t v) {
  for (int b = 0; b < 8; b++) {
    p[b] = (uint8_t)(v >> (8 * b));
  }
}
#endif

/* XOR len bytes into lane state k starting at byte 0: whole lanes, then the tail. */
static void lane_absorb(uint64_t s[100], size_t k, const uint8_t *in, size_t len) {
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    s[4 * (i / 8) + k] ^= load64_le(in + i);
  }
  for (; i < len; i++) {
    s[4 * (i / 8) + k] ^= (uint64_t)in[i] << (8 * (i % 8));
  }
}

/* XOR one byte into lane state k at byte offset off (padding). */
static void lane_xor_byte(uint64_t s[100], size_t k, size_t off, uint8_t b) {
  s[4 * (off / 8) + k] ^= (uint64_t)b << (8 * (off % 8));
}

/* The first len bytes of lane state k. */
static void lane_extract(uint8_t *out, const uint64_t s[100], size_t k, size_t len) {
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    store64_le(out + i, s[4 * (i / 8) + k]);
  }
  for (; i < len; i++) {
    out[i] = (uint8_t)(s[4 * (i / 8) + k] >> (8 * (i % 8)));
  }
}

/*
 * Each round: every busy lane that is still absorbing XORs in its next block
 * (or the last partial block plus the pad10*1 padding), then all four states
 * are permuted, then each squeezing lane hands its block to the callback.
 */
void aq_keccakx4_run(aq_keccakx4_job *jobs, size_t njobs) {
  uint64_t s[100];
  uint8_t blk[4][200];
  x4_lane lane[4] = {{NULL, 0, 0}, {NULL, 0, 0}, {NULL, 0, 0}, {NULL, 0, 0}};
  size_t next = 0;
  for (;;) {
    int busy = 0;
    for (size_t k = 0; k < 4; k++) {
      if (lane[k].job == NULL && next < njobs) {
        lane[k].job = &jobs[next++];
        lane[k].absorbed = 0;
        lane[k].squeezing = 0;
        for (size_t i = 0; i < 25; i++) {
          s[4 * i + k] = 0;
        }
      }
      aq_keccakx4_job *j = lane[k].job;
      if (j == NULL) {
        continue;
      }
      busy = 1;
      if (lane[k].squeezing) {
        continue;
      }
      size_t left = j->inlen - lane[k].absorbed;
      if (left >= j->rate) {
        lane_absorb(s, k, j->in + lane[k].absorbed, j->rate);
        lane[k].absorbed += j->rate;
      } else {
        lane_absorb(s, k, j->in + lane[k].absorbed, left);
        lane_xor_byte(s, k, left, j->dsep);
        lane_xor_byte(s, k, j->rate - 1, 0x80);
        lane[k].absorbed = j->inlen;
        lane[k].squeezing = 1;
      }
    }
    if (!busy) {
      break;
    }
    aq_keccakx4_f1600(s);
    for (size_t k = 0; k < 4; k++) {
      aq_keccakx4_job *j = lane[k].job;
      if (j == NULL || !lane[k].squeezing) {
        continue;
      }
      lane_extract(blk[k], s, k, j->outlen);
      if (!j->block(j, blk[k], j->outlen)) {
        lane[k].job = NULL;
      }
    }
  }
  aq_memzero(s, sizeof(s));
  aq_memzero(blk, sizeof(blk));
}

void aq_shakex4_absorb_once(aq_shakex4 *k, size_t rate, const uint8_t *const in[4], size_t len) {
  memset(k->s, 0, sizeof(k->s));
  k->rate = rate;
  for (size_t l = 0; l < 4; l++) {
    lane_absorb(k->s, l, in[l], len);
    lane_xor_byte(k->s, l, len, 0x1f);      /* SHAKE domain bits 1111, first pad bit */
    lane_xor_byte(k->s, l, rate - 1, 0x80); /* last pad bit (pad10*1) */
  }
}

void aq_shakex4_squeezeblocks(aq_shakex4 *k, uint8_t *const out[4], size_t nblocks) {
  for (size_t n = 0; n < nblocks; n++) {
    aq_keccakx4_f1600(k->s);
    for (size_t l = 0; l < 4; l++) {
      lane_extract(out[l] + n * k->rate, k->s, l, k->rate);
    }
  }
}
