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

/**
 * Start four sponges of the given rate (bytes) and domain byte (0x1f for
 * SHAKE) on four inputs of inlen < rate bytes each: zero, absorb, pad and
 * permute, so the first output block is ready to extract.
 */
void aq_mlkem768_keccakx4_absorb_once(uint64_t s[100], size_t rate, uint8_t dsep,
                                      const uint8_t *const in[4], size_t inlen);

/** Copy the first len (<= rate) output bytes of each state to out[k]. */
void aq_mlkem768_keccakx4_extract(uint8_t *const out[4], const uint64_t s[100], size_t len);

#endif /* AQ_MLKEM768_KECCAKX4_H */
