/* aq_mldsa65_x4.c - four Keccak-p[1600,24] states in 256-bit vectors (FIPS 202). */
#include "aq_mldsa65_x4.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define VEC_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VEC_CLONES
#endif

typedef aq_v4u64 v4u64;

/* FIPS 202 §3.2.5: round constants RC[ir]. */
static const uint64_t rc[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

#define ROLV(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

/*
 * The round as in aq_sha3.c (theta; rho and pi together: lane (x, y) moves to
 * (y, 2x + 3y) rotated by its rho offset; chi; iota), on vectors of lanes.
 */
VEC_CLONES void aq_keccakx4_f1600(aq_keccakx4 *k) {
  v4u64 a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12;
  v4u64 a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24;
  v4u64 b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12;
  v4u64 b13, b14, b15, b16, b17, b18, b19, b20, b21, b22, b23, b24;
  v4u64 c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
  a0 = k->s[0];
  a1 = k->s[1];
  a2 = k->s[2];
  a3 = k->s[3];
  a4 = k->s[4];
  a5 = k->s[5];
  a6 = k->s[6];
  a7 = k->s[7];
  a8 = k->s[8];
  a9 = k->s[9];
  a10 = k->s[10];
  a11 = k->s[11];
  a12 = k->s[12];
  a13 = k->s[13];
  a14 = k->s[14];
  a15 = k->s[15];
  a16 = k->s[16];
  a17 = k->s[17];
  a18 = k->s[18];
  a19 = k->s[19];
  a20 = k->s[20];
  a21 = k->s[21];
  a22 = k->s[22];
  a23 = k->s[23];
  a24 = k->s[24];
  for (int round = 0; round < 24; round++) {
    c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20;
    c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21;
    c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22;
    c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23;
    c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;
    d0 = c4 ^ ROLV(c1, 1);
    d1 = c0 ^ ROLV(c2, 1);
    d2 = c1 ^ ROLV(c3, 1);
    d3 = c2 ^ ROLV(c4, 1);
    d4 = c3 ^ ROLV(c0, 1);
    b0 = a0 ^ d0;
    b10 = ROLV(a1 ^ d1, 1);
    b20 = ROLV(a2 ^ d2, 62);
    b5 = ROLV(a3 ^ d3, 28);
    b15 = ROLV(a4 ^ d4, 27);
    b16 = ROLV(a5 ^ d0, 36);
    b1 = ROLV(a6 ^ d1, 44);
    b11 = ROLV(a7 ^ d2, 6);
    b21 = ROLV(a8 ^ d3, 55);
    b6 = ROLV(a9 ^ d4, 20);
    b7 = ROLV(a10 ^ d0, 3);
    b17 = ROLV(a11 ^ d1, 10);
    b2 = ROLV(a12 ^ d2, 43);
    b12 = ROLV(a13 ^ d3, 25);
    b22 = ROLV(a14 ^ d4, 39);
    b23 = ROLV(a15 ^ d0, 41);
    b8 = ROLV(a16 ^ d1, 45);
    b18 = ROLV(a17 ^ d2, 15);
    b3 = ROLV(a18 ^ d3, 21);
    b13 = ROLV(a19 ^ d4, 8);
    b14 = ROLV(a20 ^ d0, 18);
    b24 = ROLV(a21 ^ d1, 2);
    b9 = ROLV(a22 ^ d2, 61);
    b19 = ROLV(a23 ^ d3, 56);
    b4 = ROLV(a24 ^ d4, 14);
    a0 = b0 ^ (~b1 & b2);
    a1 = b1 ^ (~b2 & b3);
    a2 = b2 ^ (~b3 & b4);
    a3 = b3 ^ (~b4 & b0);
    a4 = b4 ^ (~b0 & b1);
    a5 = b5 ^ (~b6 & b7);
    a6 = b6 ^ (~b7 & b8);
    a7 = b7 ^ (~b8 & b9);
    a8 = b8 ^ (~b9 & b5);
    a9 = b9 ^ (~b5 & b6);
    a10 = b10 ^ (~b11 & b12);
    a11 = b11 ^ (~b12 & b13);
    a12 = b12 ^ (~b13 & b14);
    a13 = b13 ^ (~b14 & b10);
    a14 = b14 ^ (~b10 & b11);
    a15 = b15 ^ (~b16 & b17);
    a16 = b16 ^ (~b17 & b18);
    a17 = b17 ^ (~b18 & b19);
    a18 = b18 ^ (~b19 & b15);
    a19 = b19 ^ (~b15 & b16);
    a20 = b20 ^ (~b21 & b22);
    a21 = b21 ^ (~b22 & b23);
    a22 = b22 ^ (~b23 & b24);
    a23 = b23 ^ (~b24 & b20);
    a24 = b24 ^ (~b20 & b21);
    a0 ^= rc[round];
  }
  k->s[0] = a0;
  k->s[1] = a1;
  k->s[2] = a2;
  k->s[3] = a3;
  k->s[4] = a4;
  k->s[5] = a5;
  k->s[6] = a6;
  k->s[7] = a7;
  k->s[8] = a8;
  k->s[9] = a9;
  k->s[10] = a10;
  k->s[11] = a11;
  k->s[12] = a12;
  k->s[13] = a13;
  k->s[14] = a14;
  k->s[15] = a15;
  k->s[16] = a16;
  k->s[17] = a17;
  k->s[18] = a18;
  k->s[19] = a19;
  k->s[20] = a20;
  k->s[21] = a21;
  k->s[22] = a22;
  k->s[23] = a23;
  k->s[24] = a24;
}

void aq_shakex4_absorb_once(aq_keccakx4 *k, size_t rate, const uint8_t *const in[4], size_t len) {
  memset(k->s, 0, sizeof(k->s));
  k->rate = rate;
  for (unsigned l = 0; l < 4; l++) {
    uint8_t block[200] = {0};
    memcpy(block, in[l], len);
    block[len] ^= 0x1f;      /* SHAKE domain bits 1111 and the first pad bit */
    block[rate - 1] ^= 0x80; /* last pad bit (pad10*1) */
    for (size_t i = 0; i < rate / 8; i++) {
      uint64_t v = 0;
      for (int b = 7; b >= 0; b--) {
        v = (v << 8) | block[8 * i + (size_t)b];
      }
      k->s[i][l] = v;
    }
    memset(block, 0, sizeof(block));
  }
}

void aq_shakex4_squeezeblocks(aq_keccakx4 *k, uint8_t *const out[4], size_t nblocks) {
  for (size_t n = 0; n < nblocks; n++) {
    aq_keccakx4_f1600(k);
    for (unsigned l = 0; l < 4; l++) {
      uint8_t *o = out[l] + n * k->rate;
      for (size_t i = 0; i < k->rate / 8; i++) {
        uint64_t v = k->s[i][l];
        for (unsigned b = 0; b < 8; b++) {
          o[8 * i + b] = (uint8_t)(v >> (8 * b));
        }
      }
    }
  }
}
