/*
 * aq_mlkem768_keccakx4.h - four Keccak-f[1600] states permuted together
 * (AVX2 when the CPU has it, chosen at run time; portable otherwise).
 * Internal to ML-KEM; the layout is s[4 * lane + instance].
 */
#ifndef AQ_MLKEM768_KECCAKX4_H
#define AQ_MLKEM768_KECCAKX4_H

#include <stddef.h>
#include <stdint.h>

/** Permute the four interleaved states (AVX2 if available, else portable). */
void aq_mlkem768_keccakx4_f1600(uint64_t s[100]);

/** The portable path, always: four aq_keccak_f1600 calls (exposed for tests). */
void aq_mlkem768_keccakx4_f1600_portable(uint64_t s[100]);

/*
 * A batch of independent sponge computations run four at a time: each job
 * absorbs its whole input (any length) at its own rate with its own domain
 * byte, then hands the first outlen bytes of every output block to its
 * callback, which returns 1 to get one more block or 0 when done.  A lane that finishes takes the
 * next job, so long and short jobs pack together (ML-KEM's H(ek) beside the matrix entries).  Only
 * lengths and callback results steer the scheduling.
 */
typedef struct aq_mlkem768_x4_job aq_mlkem768_x4_job;
struct aq_mlkem768_x4_job {
  const uint8_t *in;
  size_t inlen;
  size_t rate;   /* bytes: 168 SHAKE128, 136 SHAKE256 / SHA3-256, 72 SHA3-512 */
  uint8_t dsep;  /* 0x1f SHAKE, 0x06 SHA3 */
  size_t outlen; /* bytes of each output block handed to block() (<= rate) */
  int (*block)(aq_mlkem768_x4_job *job, const uint8_t *out, size_t len);
  void *ctx;
};

/** Run njobs jobs to completion; the four states are wiped at the end. */
void aq_mlkem768_keccakx4_run(aq_mlkem768_x4_job *jobs, size_t njobs);

#endif /* AQ_MLKEM768_KECCAKX4_H */
