/*
 * aq_sha3.h - SHA3-256, SHA3-512, SHAKE128 and SHAKE256 (FIPS 202), our own
 * Keccak so that the XOFs can squeeze incrementally (OpenSSL 3.0 cannot
 * squeeze twice).  ML-KEM and ML-DSA are built on these.
 *
 * @spec{FIPS 202, §3 (Keccak-p[1600,24]), §4 (sponge), §6 (SHA-3/SHAKE)}
 */
#ifndef AQ_SHA3_H
#define AQ_SHA3_H

#include <stddef.h>
#include <stdint.h>

#define AQ_SHAKE128_RATE 168
#define AQ_SHAKE256_RATE 136
#define AQ_SHA3_256_RATE 136
#define AQ_SHA3_512_RATE 72

/** A Keccak sponge: absorb any number of times, then squeeze any number of times. */
typedef struct aq_keccak {
  uint64_t s[25];
  size_t rate;      /* bytes */
  size_t pos;       /* byte position inside the current block */
  uint8_t dsep;     /* domain separation + first pad bit: 0x06 SHA3, 0x1f SHAKE */
  uint8_t squeezing;
} aq_keccak;

/** The Keccak-p[1600, 24] permutation on 25 lanes. */
void aq_keccak_f1600(uint64_t s[25]);

/** The 24 round constants RC[ir] of Keccak-p[1600, 24] (FIPS 202 §3.2.5). */
extern const uint64_t aq_keccak_rc[24];

void aq_shake128_init(aq_keccak *k);
void aq_shake256_init(aq_keccak *k);
void aq_sha3_256_init(aq_keccak *k);
void aq_sha3_512_init(aq_keccak *k);

/** Absorb len bytes; only before the first squeeze. */
void aq_keccak_absorb(aq_keccak *k, const uint8_t *in, size_t len);
/** Squeeze len bytes; the first call pads.  May be called repeatedly. */
void aq_keccak_squeeze(aq_keccak *k, uint8_t *out, size_t len);
/** Zero the state. */
void aq_keccak_wipe(aq_keccak *k);

void aq_sha3_256(uint8_t out[32], const uint8_t *in, size_t len);
void aq_sha3_512(uint8_t out[64], const uint8_t *in, size_t len);
void aq_shake128(uint8_t *out, size_t outlen, const uint8_t *in, size_t len);
void aq_shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t len);

#endif /* AQ_SHA3_H */
