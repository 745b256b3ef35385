/* aq_sha3.c - Keccak-p[1600,24] and the FIPS 202 sponge constructions. */
#include "aq_sha3.h"

#include <string.h>

#include "aq_ct.h"

/* FIPS 202 §3.2.5: round constants RC[ir]. */
static const uint64_t keccak_rc[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL};

#define ROL64(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

/*
 * Keccak-p[1600, 24], one round per loop iteration with the 25 lanes in
 * locals (lane index x + 5y): theta; rho and pi together (lane (x, y) moves
 * to (y, 2x + 3y) rotated by its rho offset, FIPS 202 §3.2.2-3.2.3); chi;
 * iota.  Unrolled within the round so the lanes stay in registers.
 */
void aq_keccak_f1600(uint64_t s[25]) {
  uint64_t a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12;
  uint64_t a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23, a24;
  uint64_t b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12;
  uint64_t b13, b14, b15, b16, b17, b18, b19, b20, b21, b22, b23, b24;
  uint64_t c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
  a0 = s[0];
  a1 = s[1];
  a2 = s[2];
  a3 = s[3];
  a4 = s[4];
  a5 = s[5];
  a6 = s[6];
  a7 = s[7];
  a8 = s[8];
  a9 = s[9];
  a10 = s[10];
  a11 = s[11];
  a12 = s[12];
  a13 = s[13];
  a14 = s[14];
  a15 = s[15];
  a16 = s[16];
  a17 = s[17];
  a18 = s[18];
  a19 = s[19];
  a20 = s[20];
  a21 = s[21];
  a22 = s[22];
  a23 = s[23];
  a24 = s[24];
  for (int round = 0; round < 24; round++) {
    /* theta */
    c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20;
    c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21;
    c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22;
    c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23;
    c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;
    d0 = c4 ^ ROL64(c1, 1);
    d1 = c0 ^ ROL64(c2, 1);
    d2 = c1 ^ ROL64(c3, 1);
    d3 = c2 ^ ROL64(c4, 1);
    d4 = c3 ^ ROL64(c0, 1);
    /* rho and pi: B[y, 2x + 3y] = ROT(A[x, y] ^ D[x], r[x, y]) */
    b0 = (a0 ^ d0);
    b10 = ROL64(a1 ^ d1, 1);
    b20 = ROL64(a2 ^ d2, 62);
    b5 = ROL64(a3 ^ d3, 28);
    b15 = ROL64(a4 ^ d4, 27);
    b16 = ROL64(a5 ^ d0, 36);
    b1 = ROL64(a6 ^ d1, 44);
    b11 = ROL64(a7 ^ d2, 6);
    b21 = ROL64(a8 ^ d3, 55);
    b6 = ROL64(a9 ^ d4, 20);
    b7 = ROL64(a10 ^ d0, 3);
    b17 = ROL64(a11 ^ d1, 10);
    b2 = ROL64(a12 ^ d2, 43);
    b12 = ROL64(a13 ^ d3, 25);
    b22 = ROL64(a14 ^ d4, 39);
    b23 = ROL64(a15 ^ d0, 41);
    b8 = ROL64(a16 ^ d1, 45);
    b18 = ROL64(a17 ^ d2, 15);
    b3 = ROL64(a18 ^ d3, 21);
    b13 = ROL64(a19 ^ d4, 8);
    b14 = ROL64(a20 ^ d0, 18);
    b24 = ROL64(a21 ^ d1, 2);
    b9 = ROL64(a22 ^ d2, 61);
    b19 = ROL64(a23 ^ d3, 56);
    b4 = ROL64(a24 ^ d4, 14);
    /* chi */
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
    /* iota */
    a0 ^= keccak_rc[round];
  }
  s[0] = a0;
  s[1] = a1;
  s[2] = a2;
  s[3] = a3;
  s[4] = a4;
  s[5] = a5;
  s[6] = a6;
  s[7] = a7;
  s[8] = a8;
  s[9] = a9;
  s[10] = a10;
  s[11] = a11;
  s[12] = a12;
  s[13] = a13;
  s[14] = a14;
  s[15] = a15;
  s[16] = a16;
  s[17] = a17;
  s[18] = a18;
  s[19] = a19;
  s[20] = a20;
  s[21] = a21;
  s[22] = a22;
  s[23] = a23;
  s[24] = a24;
}

static void keccak_init(aq_keccak *k, size_t rate, uint8_t dsep) {
  memset(k->s, 0, sizeof(k->s));
  k->rate = rate;
  k->pos = 0;
  k->dsep = dsep;
  k->squeezing = 0;
}

void aq_shake128_init(aq_keccak *k) { keccak_init(k, AQ_SHAKE128_RATE, 0x1f); }
void aq_shake256_init(aq_keccak *k) { keccak_init(k, AQ_SHAKE256_RATE, 0x1f); }
void aq_sha3_256_init(aq_keccak *k) { keccak_init(k, AQ_SHA3_256_RATE, 0x06); }
void aq_sha3_512_init(aq_keccak *k) { keccak_init(k, AQ_SHA3_512_RATE, 0x06); }

/* Lanes are little-endian (FIPS 202 §B.1). */
static inline void state_xor_byte(uint64_t *s, size_t i, uint8_t b) {
  s[i / 8] ^= (uint64_t)b << (8 * (i % 8));
}

static inline uint8_t state_get_byte(const uint64_t *s, size_t i) {
  return (uint8_t)(s[i / 8] >> (8 * (i % 8)));
}

static inline uint64_t load64_le(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) {
    v = (v << 8) | p[i];
  }
  return v;
}

static inline void store64_le(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) {
    p[i] = (uint8_t)(v >> (8 * i));
  }
}

void aq_keccak_absorb(aq_keccak *k, const uint8_t *in, size_t len) {
  /* Finish a partial block byte by byte. */
  while (len > 0 && k->pos != 0) {
    state_xor_byte(k->s, k->pos, *in++);
    len--;
    if (++k->pos == k->rate) {
      aq_keccak_f1600(k->s);
      k->pos = 0;
    }
  }
  /* Whole blocks a lane at a time. */
  while (len >= k->rate) {
    for (size_t i = 0; i < k->rate / 8; i++) {
      k->s[i] ^= load64_le(in + 8 * i);
    }
    aq_keccak_f1600(k->s);
    in += k->rate;
    len -= k->rate;
  }
  for (size_t i = 0; i < len; i++) {
    state_xor_byte(k->s, k->pos++, in[i]);
  }
}

static void keccak_pad(aq_keccak *k) {
  /* pad10*1 with the domain bits in front (FIPS 202 §5.1, §6.1-6.2). */
  state_xor_byte(k->s, k->pos, k->dsep);
  state_xor_byte(k->s, k->rate - 1, 0x80);
  aq_keccak_f1600(k->s);
  k->pos = 0;
  k->squeezing = 1;
}

void aq_keccak_squeeze(aq_keccak *k, uint8_t *out, size_t len) {
  if (!k->squeezing) {
    keccak_pad(k);
  }
  while (len > 0 && k->pos != 0) {
    *out++ = state_get_byte(k->s, k->pos);
    len--;
    if (++k->pos == k->rate) {
      aq_keccak_f1600(k->s);
      k->pos = 0;
    }
  }
  while (len >= k->rate) {
    for (size_t i = 0; i < k->rate / 8; i++) {
      store64_le(out + 8 * i, k->s[i]);
    }
    aq_keccak_f1600(k->s);
    out += k->rate;
    len -= k->rate;
  }
  for (size_t i = 0; i < len; i++) {
    out[i] = state_get_byte(k->s, k->pos++);
  }
}

void aq_keccak_wipe(aq_keccak *k) { aq_memzero(k, sizeof(*k)); }

static void keccak_oneshot(aq_keccak *k, uint8_t *out, size_t outlen, const uint8_t *in,
                           size_t len) {
  aq_keccak_absorb(k, in, len);
  aq_keccak_squeeze(k, out, outlen);
  aq_keccak_wipe(k);
}

void aq_sha3_256(uint8_t out[32], const uint8_t *in, size_t len) {
  aq_keccak k;
  aq_sha3_256_init(&k);
  keccak_oneshot(&k, out, 32, in, len);
}

void aq_sha3_512(uint8_t out[64], const uint8_t *in, size_t len) {
  aq_keccak k;
  aq_sha3_512_init(&k);
  keccak_oneshot(&k, out, 64, in, len);
}

void aq_shake128(uint8_t *out, size_t outlen, const uint8_t *in, size_t len) {
  aq_keccak k;
  aq_shake128_init(&k);
  keccak_oneshot(&k, out, outlen, in, len);
}

void aq_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t len) {
  aq_keccak k;
  aq_shake256_init(&k);
  keccak_oneshot(&k, out, outlen, in, len);
}
