/*
 * aq_mlkem768_ntt.h - optional accelerated NTTs for ML-KEM (internal).
 * Each returns 1 after transforming r in place exactly as the portable code
 * in aq_mlkem768.c specifies (same order, same bounds), or 0 without
 * touching r when the CPU lacks the instructions (the caller then runs the
 * portable code).  zetas: the 128 Montgomery-form twiddles of aq_mlkem768.c.
 */
#ifndef AQ_MLKEM768_NTT_H
#define AQ_MLKEM768_NTT_H

#include <stddef.h>
#include <stdint.h>

/** Forward NTT (FIPS 203 Alg. 9): input |x| < q, output Barrett-reduced. */
int aq_mlkem768_ntt_fast(int16_t r[256], const int16_t zetas[128]);

/** Inverse NTT times 2^16 (Alg. 10 and the Montgomery factor): input |x| < q, output |x| < q. */
int aq_mlkem768_invntt_fast(int16_t r[256], const int16_t zetas[128]);

/**
 * r = sum_{j<3} a_j o b_j in the NTT domain times 2^-16 (FIPS 203 Alg. 11
 * with k = 3 accumulations and one Montgomery reduction per coefficient);
 * bc_j is b_j's mulcache (even: b_j[2i], odd: b_j[2i+1] * gamma_i).
 * Bounds as the portable poly_basemul_acc: |a| < q, |b|, |bc| < q.
 */
int aq_mlkem768_basemul_acc_fast(int16_t r[256], const int16_t a0[256], const int16_t a1[256],
                                 const int16_t a2[256], const int16_t b0[256],
                                 const int16_t b1[256], const int16_t b2[256],
                                 const int16_t bc0[256], const int16_t bc1[256],
                                 const int16_t bc2[256]);

/**
 * The bulk of SampleNTT's accept loop on public bytes: writes accepted
 * coefficients to r while at least 16 of len slots are free and 24 of
 * buflen bytes are left; returns the count and sets *pos to the bytes
 * consumed (0 and 0 without AVX2).  The caller finishes the rest.
 */
unsigned aq_mlkem768_rej_uniform_fast(int16_t *r, unsigned len, const uint8_t *buf, size_t buflen,
                                      size_t *pos);

/** ByteEncode10(Compress10(p mod q)) for any int16 coefficients (Alg. 14 line 22); 0 without AVX2.
 */
int aq_mlkem768_compress10_fast(uint8_t out[320], const int16_t p[256]);

/** ByteDecode12 with reduction mod q (FIPS 203 Alg. 6, m = q), branch-free; 0 without AVX2. */
int aq_mlkem768_decode12_fast(int16_t r[256], const uint8_t in[384]);

#endif /* AQ_MLKEM768_NTT_H */
