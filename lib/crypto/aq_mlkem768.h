/*
 * aq_mlkem768.h - ML-KEM-768 (FIPS 203), our own constant-time implementation.
 *
 * Sans-IO: every random input (the key-generation seed d‖z and the
 * encapsulation randomness m) is an argument; the caller draws it from its
 * RNG.  Keys and ciphertexts are fixed-size byte strings in the FIPS 203
 * encodings.  Secrets never drive a branch or a memory index, and every
 * secret intermediate is wiped with aq_memzero before return.
 *
 * Conventions (mlkem-native API-CONVENTIONS): outputs are fully written on
 * success and zeroed on every error; decapsulation never fails on a bad
 * ciphertext (implicit rejection), only on a malformed decapsulation key.
 *
 * @spec{FIPS 203, §7 (ML-KEM), Alg. 16-18 (internal), §7.2-7.3 (input checks)}
 */
#ifndef AQ_MLKEM768_H
#define AQ_MLKEM768_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"

#define AQ_MLKEM768_EK_LEN 1184 /* encapsulation key: ByteEncode12(t) ‖ rho */
#define AQ_MLKEM768_DK_LEN 2400 /* decapsulation key: dk_PKE ‖ ek ‖ H(ek) ‖ z */
#define AQ_MLKEM768_CT_LEN 1088 /* ciphertext: c1 (du = 10) ‖ c2 (dv = 4) */
#define AQ_MLKEM768_SS_LEN 32   /* shared secret K */
#define AQ_MLKEM768_SEED_LEN 64 /* key-generation seed d ‖ z */
#define AQ_MLKEM768_M_LEN 32    /* encapsulation randomness m */
/* Aliases in the style of the house naming (PK = ek, SK = dk). */
#define AQ_MLKEM768_PK_LEN AQ_MLKEM768_EK_LEN
#define AQ_MLKEM768_SK_LEN AQ_MLKEM768_DK_LEN

/**
 * ML-KEM.KeyGen_internal(d, z) (FIPS 203 Alg. 16): derive the key pair from
 * the 32-byte seeds d and z.  Writes ek (1184 bytes) and dk (2400 bytes).
 * Never fails.  d and z are secret; dk is secret.
 */
void aq_mlkem768_keygen_internal(uint8_t ek[static AQ_MLKEM768_EK_LEN],
                                 uint8_t dk[static AQ_MLKEM768_DK_LEN], const uint8_t d[static 32],
                                 const uint8_t z[static 32]);

/**
 * ML-KEM.KeyGen (FIPS 203 Alg. 19) with the randomness passed in as
 * seed = d ‖ z (64 bytes, the form Wycheproof and OpenSSL call the "seed").
 * Never fails.
 */
void aq_mlkem768_keygen(uint8_t ek[static AQ_MLKEM768_EK_LEN],
                        uint8_t dk[static AQ_MLKEM768_DK_LEN],
                        const uint8_t seed[static AQ_MLKEM768_SEED_LEN]);

/**
 * ML-KEM.Encaps_internal(ek, m) (FIPS 203 Alg. 17) with no input check: ek is
 * trusted (for example just generated).  Writes the ciphertext ct and the
 * shared secret ss.  A non-reduced ek coefficient is reduced mod q as
 * ByteDecode12 specifies.
 */
void aq_mlkem768_encaps_internal(uint8_t ct[static AQ_MLKEM768_CT_LEN],
                                 uint8_t ss[static AQ_MLKEM768_SS_LEN],
                                 const uint8_t ek[static AQ_MLKEM768_EK_LEN],
                                 const uint8_t m[static AQ_MLKEM768_M_LEN]);

/**
 * ML-KEM.Encaps (FIPS 203 Alg. 20) with m supplied by the caller, after the
 * §7.2 encapsulation-key modulus check (every 12-bit coefficient < q).
 * Returns 0, or AQ_ERR_MALFORMED for a bad ek with ct and ss zeroed; the
 * caller then rejects the peer's key share.
 */
AQ_MUST_CHECK int aq_mlkem768_encaps(uint8_t ct[static AQ_MLKEM768_CT_LEN],
                                     uint8_t ss[static AQ_MLKEM768_SS_LEN],
                                     const uint8_t ek[static AQ_MLKEM768_EK_LEN],
                                     const uint8_t m[static AQ_MLKEM768_M_LEN]);

/**
 * ML-KEM.Decaps (FIPS 203 Alg. 21 / Alg. 18) after the §7.3 hash check
 * H(dk[1152:2336]) == dk[2336:2368].  A ciphertext that does not re-encrypt
 * yields the implicit-rejection key J(z ‖ ct), chosen in constant time; this
 * function never fails on a bad ciphertext.  Returns 0, or AQ_ERR_MALFORMED
 * for a corrupted dk with ss zeroed.
 */
AQ_MUST_CHECK int aq_mlkem768_decaps(uint8_t ss[static AQ_MLKEM768_SS_LEN],
                                     const uint8_t ct[static AQ_MLKEM768_CT_LEN],
                                     const uint8_t dk[static AQ_MLKEM768_DK_LEN]);

/**
 * aq_mlkem768_encaps on an ek of eklen bytes taken from the wire: the §7.2
 * type check (eklen must be 1184) then the modulus check.  Returns 0, or
 * AQ_ERR_MALFORMED (ct and ss zeroed).
 */
AQ_MUST_CHECK int aq_mlkem768_encaps_len(uint8_t ct[static AQ_MLKEM768_CT_LEN],
                                         uint8_t ss[static AQ_MLKEM768_SS_LEN], const uint8_t *ek,
                                         size_t eklen, const uint8_t m[static AQ_MLKEM768_M_LEN]);

/**
 * aq_mlkem768_decaps on lengths taken from the wire: the §7.3 ciphertext and
 * decapsulation-key type checks (ctlen 1088, dklen 2400), then the hash check.
 * Returns 0, or AQ_ERR_MALFORMED (ss zeroed).
 */
AQ_MUST_CHECK int aq_mlkem768_decaps_len(uint8_t ss[static AQ_MLKEM768_SS_LEN], const uint8_t *ct,
                                         size_t ctlen, const uint8_t *dk, size_t dklen);

/**
 * Known-answer self-test: keygen, encaps and decaps of one ACVP record,
 * compared through SHA3-256 hashes of the outputs.  Returns 0 or AQ_ERR_CRYPTO.
 */
int aq_mlkem768_selftest(void);

#endif /* AQ_MLKEM768_H */
