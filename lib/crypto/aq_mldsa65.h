/*
 * aq_mldsa65.h - ML-DSA-65 (FIPS 204), our own implementation on top of
 * aq_sha3 (SHAKE128/SHAKE256 with incremental squeeze).
 *
 * Keys are fixed-size byte strings in the FIPS 204 encodings (pkEncode,
 * skEncode, sigEncode).  Randomness never comes from here: key generation
 * takes the 32-byte seed xi, signing takes the 32-byte rnd (hedged signing:
 * 32 fresh random bytes; deterministic signing: AQ_MLDSA65_RND_DETERMINISTIC,
 * i.e. 32 zero bytes).
 *
 * Constant time: nothing branches on or indexes memory by secret data, except
 * (as FIPS 204 §3.6.3 / the round-3 spec §5.5 allow) the rejection-sampling
 * decisions of ExpandS and of the signing loop, and the challenge c~ of each
 * iteration (a random-oracle output).  Secret intermediates are wiped.
 *
 * @spec{FIPS 204, Alg. 1-8 (ML-DSA external and internal functions)}
 */
#ifndef AQ_MLDSA65_H
#define AQ_MLDSA65_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"

#define AQ_MLDSA65_PK_LEN 1952
#define AQ_MLDSA65_SK_LEN 4032
#define AQ_MLDSA65_SIG_LEN 3309
#define AQ_MLDSA65_SEED_LEN 32
#define AQ_MLDSA65_RND_LEN 32
#define AQ_MLDSA65_MU_LEN 64
#define AQ_MLDSA65_CTX_MAX 255

/** 32 zero bytes: pass as rnd for the deterministic variant (FIPS 204 §3.4). */
extern const uint8_t AQ_MLDSA65_RND_DETERMINISTIC[AQ_MLDSA65_RND_LEN];

/**
 * ML-DSA.KeyGen_internal (FIPS 204 Alg. 6): derive the key pair from the
 * 32-byte seed xi.  pk receives 1952 bytes, sk 4032 bytes.  Cannot fail.
 */
void aq_mldsa65_keygen(uint8_t pk[static AQ_MLDSA65_PK_LEN], uint8_t sk[static AQ_MLDSA65_SK_LEN],
                       const uint8_t xi[static AQ_MLDSA65_SEED_LEN]);

/**
 * ML-DSA.Sign_internal (FIPS 204 Alg. 7) on the already formatted message
 * mprime (M').  Returns 0, or AQ_ERR_INVALID_ARGUMENT if sk holds an s1/s2
 * coefficient out of range (a malformed expanded key); sig is then zeroed.
 */
AQ_MUST_CHECK int aq_mldsa65_sign_internal(uint8_t sig[static AQ_MLDSA65_SIG_LEN],
                                           const uint8_t sk[static AQ_MLDSA65_SK_LEN],
                                           const uint8_t *mprime, size_t len,
                                           const uint8_t rnd[static AQ_MLDSA65_RND_LEN]);

/**
 * ML-DSA.Verify_internal (FIPS 204 Alg. 8) on M'.  Returns 0 if sig (siglen
 * bytes) is a valid signature, else AQ_ERR_VERIFY (also for a wrong length).
 */
AQ_MUST_CHECK int aq_mldsa65_verify_internal(const uint8_t pk[static AQ_MLDSA65_PK_LEN],
                                             const uint8_t *mprime, size_t len, const uint8_t *sig,
                                             size_t siglen);

/**
 * ML-DSA.Sign (FIPS 204 Alg. 2, pure): M' = 0x00 || len(ctx) || ctx || msg is
 * absorbed piecewise (never copied).  ctxlen <= 255, else
 * AQ_ERR_INVALID_ARGUMENT (sig zeroed).  rnd: 32 random bytes (hedged) or
 * AQ_MLDSA65_RND_DETERMINISTIC.  TLS (draft-ietf-tls-mldsa) uses ctxlen 0.
 */
AQ_MUST_CHECK int aq_mldsa65_sign(uint8_t sig[static AQ_MLDSA65_SIG_LEN],
                                  const uint8_t sk[static AQ_MLDSA65_SK_LEN], const uint8_t *msg,
                                  size_t msglen, const uint8_t *ctx, size_t ctxlen,
                                  const uint8_t rnd[static AQ_MLDSA65_RND_LEN]);

/**
 * ML-DSA.Verify (FIPS 204 Alg. 3, pure).  Returns 0, AQ_ERR_VERIFY, or
 * AQ_ERR_INVALID_ARGUMENT when ctxlen > 255.
 */
AQ_MUST_CHECK int aq_mldsa65_verify(const uint8_t pk[static AQ_MLDSA65_PK_LEN], const uint8_t *msg,
                                    size_t msglen, const uint8_t *ctx, size_t ctxlen,
                                    const uint8_t *sig, size_t siglen);

/**
 * External mu: mu = H(H(pk, 64) || 0x00 || len(ctx) || ctx || msg, 64) (the
 * message representative of FIPS 204 Alg. 7 line 6 for the pure API).
 * Returns 0 or AQ_ERR_INVALID_ARGUMENT (ctxlen > 255; mu zeroed).
 */
AQ_MUST_CHECK int aq_mldsa65_mu(uint8_t mu[static AQ_MLDSA65_MU_LEN],
                                const uint8_t pk[static AQ_MLDSA65_PK_LEN], const uint8_t *msg,
                                size_t msglen, const uint8_t *ctx, size_t ctxlen);

/** Sign_internal given mu directly ("external mu").  Errors as aq_mldsa65_sign_internal. */
AQ_MUST_CHECK int aq_mldsa65_sign_mu(uint8_t sig[static AQ_MLDSA65_SIG_LEN],
                                     const uint8_t sk[static AQ_MLDSA65_SK_LEN],
                                     const uint8_t mu[static AQ_MLDSA65_MU_LEN],
                                     const uint8_t rnd[static AQ_MLDSA65_RND_LEN]);

/** Verify_internal given mu directly.  Returns 0 or AQ_ERR_VERIFY. */
AQ_MUST_CHECK int aq_mldsa65_verify_mu(const uint8_t pk[static AQ_MLDSA65_PK_LEN],
                                       const uint8_t mu[static AQ_MLDSA65_MU_LEN],
                                       const uint8_t *sig, size_t siglen);

/**
 * Known-answer self test: one ACVP keyGen record and one sigGen record
 * (deterministic), compared through SHA3-256 digests, plus verification of
 * the produced signature and rejection of a corrupted one.  0 or AQ_ERR_CRYPTO.
 */
AQ_MUST_CHECK int aq_mldsa65_selftest(void);

#endif /* AQ_MLDSA65_H */
