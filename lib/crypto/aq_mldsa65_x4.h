/*
 * aq_mldsa65_x4.h - four Keccak-p[1600,24] states side by side (one 64-bit
 * lane of each in a 256-bit vector), for ML-DSA's independent SHAKE streams
 * (ExpandA, ExpandS, ExpandMask).  GCC/Clang vector extensions; on x86-64
 * with GCC an AVX2 clone of the permutation is picked at load time.  Same
 * output as aq_sha3, four streams at once; constant time.
 *
 * @spec{FIPS 202, §3, §4 (sponge), §6.2 (SHAKE)}
 */
#ifndef AQ_MLDSA65_X4_H
#define AQ_MLDSA65_X4_H

#include <stddef.h>
#include <stdint.h>

typedef uint64_t aq_v4u64 __attribute__((vector_size(32)));

/** Four sponges of the same rate, in step. */
typedef struct aq_keccakx4 {
  aq_v4u64 s[25];
  size_t rate;
} aq_keccakx4;

/** Keccak-p[1600, 24] on all four states. */
void aq_keccakx4_f1600(aq_keccakx4 *k);

/**
 * Start four SHAKE sponges of the given rate (AQ_SHAKE128_RATE or
 * AQ_SHAKE256_RATE) and absorb in[l] (len < rate bytes each) with the SHAKE
 * padding.  No permutation yet: aq_keccakx4_squeezeblocks does it.
 */
void aq_shakex4_absorb_once(aq_keccakx4 *k, size_t rate, const uint8_t *const in[4], size_t len);

/**
 * Squeeze nblocks whole blocks from each stream: out[l] receives
 * nblocks * rate bytes.  Repeated calls continue the streams.
 */
void aq_shakex4_squeezeblocks(aq_keccakx4 *k, uint8_t *const out[4], size_t nblocks);

#endif /* AQ_MLDSA65_X4_H */
