/*
 * aq_keccakx4.h - four Keccak-f[1600] states permuted together (AVX2 when
 * the CPU has it, chosen at run time; portable otherwise), for the
 * independent SHAKE/SHA-3 streams of ML-KEM and ML-DSA.  The one 4-way
 * Keccak of the library; same output as aq_sha3; constant time.
 * State layout: s[4 * lane + instance], lane = x + 5y as in FIPS 202.
 *
 * @spec{FIPS 202, §3, §4 (sponge), §6.2 (SHAKE)}
 */
#ifndef AQ_KECCAKX4_H
#define AQ_KECCAKX4_H

#include <stddef.h>
#include <stdint.h>

/** Permute the four interleaved states (AVX2 if available, else portable). */
void aq_keccakx4_f1600(uint64_t s[100]);

/** The portable path, always: four aq_keccak_f1600 calls (exposed for tests). */
void aq_keccakx4_f1600_portable(uint64_t s[100]);

/*
 * A batch of independent sponge computations run four at a time: each job
 * absorbs its whole input (any length) at its own rate with its own domain
 * byte, then hands the first outlen bytes of every output block to its
 * callback, which returns 1 to get one more block or 0 when done.  A lane that finishes takes the
 * next job, so long and short jobs pack together (ML-KEM's H(ek) beside the matrix entries).  Only
 * lengths and callback results steer the scheduling.
 */
typedef struct aq_keccakx4_job aq_keccakx4_job;
struct aq_keccakx4_job {
  const uint8_t *in;
  size_t inlen;
  size_t rate;   /* bytes: 168 SHAKE128, 136 SHAKE256 / SHA3-256, 72 SHA3-512 */
  uint8_t dsep;  /* 0x1f SHAKE, 0x06 SHA3 */
  size_t outlen; /* bytes of each output block handed to block() (<= rate) */
  int (*block)(aq_keccakx4_job *job, const uint8_t *out, size_t len);
  void *ctx;
};

/** Run njobs jobs to completion; the four states are wiped at the end. */
void aq_keccakx4_run(aq_keccakx4_job *jobs, size_t njobs);

/** Four SHAKE sponges of the same rate that absorb and squeeze in step. */
typedef struct aq_shakex4 {
  uint64_t s[100];
  size_t rate;
} aq_shakex4;

/**
 * Start four SHAKE sponges of the given rate (AQ_SHAKE128_RATE or
 * AQ_SHAKE256_RATE) and absorb in[l] (len < rate bytes each) with the SHAKE
 * padding.  No permutation yet: aq_shakex4_squeezeblocks does it.
 */
void aq_shakex4_absorb_once(aq_shakex4 *k, size_t rate, const uint8_t *const in[4], size_t len);

/**
 * Squeeze nblocks whole blocks from each stream: out[l] receives
 * nblocks * rate bytes.  Repeated calls continue the streams.
 */
void aq_shakex4_squeezeblocks(aq_shakex4 *k, uint8_t *const out[4], size_t nblocks);

#endif /* AQ_KECCAKX4_H */
