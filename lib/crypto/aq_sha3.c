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

static inline uint64_t rotl64(uint64_t x, unsigned n) {
  return n == 0 ? x : (x << n) | (x >> (64 - n));
}

/*
 * One round as theta, then rho and pi folded together (lane (x,y) moves to
 * (y, 2x+3y) rotated by its rho offset), then chi and iota.  Lane index is
 * x + 5y.
 */
void aq_keccak_f1600(uint64_t s[25]) {
  /* rho offsets and pi destinations, walked along the pi cycle from lane 1. */
  static const unsigned rho[24] = {1,  3,  6,  10, 15, 21, 28, 36, 45, 55, 2,  14,
                                   27, 41, 56, 8,  25, 43, 62, 18, 39, 61, 20, 44};
  static const unsigned pi[24] = {10, 7,  11, 17, 18, 3, 5,  16, 8,  21, 24, 4,
                                  15, 23, 19, 13, 12, 2, 20, 14, 22, 9,  6,  1};
  uint64_t c[5];
  uint64_t d;
  for (int round = 0; round < 24; round++) {
    /* theta */
    for (int x = 0; x < 5; x++) {
      c[x] = s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20];
    }
    for (int x = 0; x < 5; x++) {
      d = c[(x + 4) % 5] ^ rotl64(c[(x + 1) % 5], 1);
      for (int y = 0; y < 25; y += 5) {
        s[y + x] ^= d;
      }
    }
    /* rho + pi */
    uint64_t cur = s[1];
    for (int i = 0; i < 24; i++) {
      unsigned j = pi[i];
      uint64_t tmp = s[j];
      s[j] = rotl64(cur, rho[i]);
      cur = tmp;
    }
    /* chi */
    for (int y = 0; y < 25; y += 5) {
      for (int x = 0; x < 5; x++) {
        c[x] = s[y + x];
      }
      for (int x = 0; x < 5; x++) {
        s[y + x] = c[x] ^ ((~c[(x + 1) % 5]) & c[(x + 2) % 5]);
      }
    }
    /* iota */
    s[0] ^= keccak_rc[round];
  }
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
