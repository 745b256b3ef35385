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
 * Keccak-p[1600, 24], one round per loop iteration written out lane by lane
 * (theta, then rho and pi folded together, then chi, then iota) so that the
 * 25 lanes live in locals: about 4x faster than a table-driven round, and
 * ML-KEM/ML-DSA spend most of their time here.  Lane index is x + 5y.
 */
void aq_keccak_f1600(uint64_t s_[25]) {
  uint64_t s0 = s_[0], s1 = s_[1], s2 = s_[2], s3 = s_[3], s4 = s_[4];
  uint64_t s5 = s_[5], s6 = s_[6], s7 = s_[7], s8 = s_[8], s9 = s_[9];
  uint64_t s10 = s_[10], s11 = s_[11], s12 = s_[12], s13 = s_[13], s14 = s_[14];
  uint64_t s15 = s_[15], s16 = s_[16], s17 = s_[17], s18 = s_[18], s19 = s_[19];
  uint64_t s20 = s_[20], s21 = s_[21], s22 = s_[22], s23 = s_[23], s24 = s_[24];
  uint64_t b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17, b18, b19,
      b20, b21, b22, b23, b24;
  uint64_t c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;
  for (int round = 0; round < 24; round++) {
    /* theta */
    c0 = s0 ^ s5 ^ s10 ^ s15 ^ s20;
    c1 = s1 ^ s6 ^ s11 ^ s16 ^ s21;
    c2 = s2 ^ s7 ^ s12 ^ s17 ^ s22;
    c3 = s3 ^ s8 ^ s13 ^ s18 ^ s23;
    c4 = s4 ^ s9 ^ s14 ^ s19 ^ s24;
    d0 = c4 ^ ROL64(c1, 1);
    d1 = c0 ^ ROL64(c2, 1);
    d2 = c1 ^ ROL64(c3, 1);
    d3 = c2 ^ ROL64(c4, 1);
    d4 = c3 ^ ROL64(c0, 1);
    /* rho and pi: lane (x, y) moves to (y, 2x + 3y) */
    b0 = s0 ^ d0;
    b10 = ROL64(s1 ^ d1, 1);
    b20 = ROL64(s2 ^ d2, 62);
    b5 = ROL64(s3 ^ d3, 28);
    b15 = ROL64(s4 ^ d4, 27);
    b16 = ROL64(s5 ^ d0, 36);
    b1 = ROL64(s6 ^ d1, 44);
    b11 = ROL64(s7 ^ d2, 6);
    b21 = ROL64(s8 ^ d3, 55);
    b6 = ROL64(s9 ^ d4, 20);
    b7 = ROL64(s10 ^ d0, 3);
    b17 = ROL64(s11 ^ d1, 10);
    b2 = ROL64(s12 ^ d2, 43);
    b12 = ROL64(s13 ^ d3, 25);
    b22 = ROL64(s14 ^ d4, 39);
    b23 = ROL64(s15 ^ d0, 41);
    b8 = ROL64(s16 ^ d1, 45);
    b18 = ROL64(s17 ^ d2, 15);
    b3 = ROL64(s18 ^ d3, 21);
    b13 = ROL64(s19 ^ d4, 8);
    b14 = ROL64(s20 ^ d0, 18);
    b24 = ROL64(s21 ^ d1, 2);
    b9 = ROL64(s22 ^ d2, 61);
    b19 = ROL64(s23 ^ d3, 56);
    b4 = ROL64(s24 ^ d4, 14);
    /* chi */
    s0 = b0 ^ (~b1 & b2);
    s1 = b1 ^ (~b2 & b3);
    s2 = b2 ^ (~b3 & b4);
    s3 = b3 ^ (~b4 & b0);
    s4 = b4 ^ (~b0 & b1);
    s5 = b5 ^ (~b6 & b7);
    s6 = b6 ^ (~b7 & b8);
    s7 = b7 ^ (~b8 & b9);
    s8 = b8 ^ (~b9 & b5);
    s9 = b9 ^ (~b5 & b6);
    s10 = b10 ^ (~b11 & b12);
    s11 = b11 ^ (~b12 & b13);
    s12 = b12 ^ (~b13 & b14);
    s13 = b13 ^ (~b14 & b10);
    s14 = b14 ^ (~b10 & b11);
    s15 = b15 ^ (~b16 & b17);
    s16 = b16 ^ (~b17 & b18);
    s17 = b17 ^ (~b18 & b19);
    s18 = b18 ^ (~b19 & b15);
    s19 = b19 ^ (~b15 & b16);
    s20 = b20 ^ (~b21 & b22);
    s21 = b21 ^ (~b22 & b23);
    s22 = b22 ^ (~b23 & b24);
    s23 = b23 ^ (~b24 & b20);
    s24 = b24 ^ (~b20 & b21);
    /* iota */
    s0 ^= keccak_rc[round];
  }
  s_[0] = s0, s_[1] = s1, s_[2] = s2, s_[3] = s3, s_[4] = s4;
  s_[5] = s5, s_[6] = s6, s_[7] = s7, s_[8] = s8, s_[9] = s9;
  s_[10] = s10, s_[11] = s11, s_[12] = s12, s_[13] = s13, s_[14] = s14;
  s_[15] = s15, s_[16] = s16, s_[17] = s17, s_[18] = s18, s_[19] = s19;
  s_[20] = s20, s_[21] = s21, s_[22] = s22, s_[23] = s23, s_[24] = s24;
}

static void keccak_init(aq_keccak *k, size_t rate, uint8_t dsep) {
  memset(k->s, 0, sizeof(k->s));
  k->rate = rate;
  k->pos = 0;
  k->dsep = dsep;
  k->squeezing = 0;
}

void aq_shake128_init(aq_keccak *k) {
  keccak_init(k, AQ_SHAKE128_RATE, 0x1f);
}
void aq_shake256_init(aq_keccak *k) {
  keccak_init(k, AQ_SHAKE256_RATE, 0x1f);
}
void aq_sha3_256_init(aq_keccak *k) {
  keccak_init(k, AQ_SHA3_256_RATE, 0x06);
}
void aq_sha3_512_init(aq_keccak *k) {
  keccak_init(k, AQ_SHA3_512_RATE, 0x06);
}

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

void aq_keccak_wipe(aq_keccak *k) {
  aq_memzero(k, sizeof(*k));
}

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
