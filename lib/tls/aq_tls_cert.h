/*
 * aq_tls_cert.h - keys and certificates for the TLS engine: SubjectPublicKeyInfo
 * encode/parse, X.509 (self-signed generation, SPKI extraction), signature
 * verification by TLS SignatureScheme given an SPKI, and a signer for PEM
 * keys a user supplies (standard QUIC peers present P-256 or RSA certs).
 *
 * THIS FILE IS A CONTRACT shared by the TLS engine and the certificate
 * module; additions are fine, changes need everyone's agreement.
 *
 * OpenSSL libcrypto does the ASN.1/X.509 and ECDSA/RSA work.  ECDSA and
 * RSA-PSS signing draw their nonces/salts from OpenSSL's DRBG: that is the
 * one place the library uses randomness it was not handed (documented).
 */
#ifndef AQ_TLS_CERT_H
#define AQ_TLS_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_tls_ecdsa_pre.h"

/* TLS SignatureScheme values (RFC 8446 §4.2.3, draft-ietf-tls-mldsa). */
#define AQ_SIG_ECDSA_SECP256R1_SHA256 0x0403
#define AQ_SIG_ECDSA_SECP384R1_SHA384 0x0503
#define AQ_SIG_RSA_PSS_RSAE_SHA256 0x0804
#define AQ_SIG_RSA_PSS_RSAE_SHA384 0x0805
#define AQ_SIG_RSA_PSS_RSAE_SHA512 0x0806
#define AQ_SIG_ED25519 0x0807
#define AQ_SIG_MLDSA65 0x0905

typedef enum aq_key_type {
  AQ_KEY_NONE = 0,
  AQ_KEY_ED25519 = 1,
  AQ_KEY_MLDSA65 = 2,
  AQ_KEY_ECDSA_P256 = 3,
  AQ_KEY_ECDSA_P384 = 4,
  AQ_KEY_RSA = 5
} aq_key_type;

/**
 * Parse a SubjectPublicKeyInfo DER.  For Ed25519 (OID 1.3.101.112) and
 * ML-DSA-65 (OID 2.16.840.1.101.3.4.3.18) *key points at the raw public key
 * inside spki (32 / 1952 bytes); for ECDSA/RSA *key = spki.  The whole input
 * must be one SPKI.  AQ_ERR_MALFORMED / AQ_ERR_UNSUPPORTED otherwise.
 */
AQ_MUST_CHECK int aq_spki_parse(aq_key_type *type, const uint8_t **key, size_t *keylen,
                                const uint8_t *spki, size_t spkilen);

/**
 * The subjectPublicKey bits of an SPKI (whole octets): for ECDSA keys the
 * SEC1 point.  AQ_ERR_MALFORMED if spki is not one SPKI.
 */
AQ_MUST_CHECK int aq_spki_key_bits(const uint8_t **bits, size_t *bitslen, const uint8_t *spki,
                                   size_t spkilen);

/** Write the SPKI DER of a raw Ed25519 or ML-DSA-65 public key; returns its length. */
AQ_MUST_CHECK aq_ssize aq_spki_encode(uint8_t *out, size_t cap, aq_key_type type,
                                      const uint8_t *key, size_t keylen);

/**
 * Point *spki at the SubjectPublicKeyInfo inside an X.509 certificate DER.
 * *spki points INTO cert (no copy; valid as long as cert is).  Only the DER
 * framing of the certificate is checked (every TLV exact, trailing bytes
 * refused); names, validity and the signature are not interpreted.
 * AQ_ERR_MALFORMED otherwise.
 */
AQ_MUST_CHECK int aq_x509_get_spki(const uint8_t **spki, size_t *spkilen, const uint8_t *cert,
                                   size_t certlen);

/**
 * A self-signed X.509 v3 certificate (DER) for an Ed25519 key: subject =
 * issuer = CN=cn, subjectAltName DNS:cn, validity [not_before_unix,
 * not_before_unix + days), the given 16-byte serial.  Returns its length.
 * Deterministic (Ed25519 signatures are).  Errors: AQ_ERR_BUFFER_TOO_SMALL
 * (nothing written), AQ_ERR_INVALID_ARGUMENT (cn must be 1..64 printable
 * ASCII characters without spaces), AQ_ERR_VALUE_RANGE (validity past the
 * year 9999), AQ_ERR_CRYPTO.
 */
AQ_MUST_CHECK aq_ssize aq_x509_self_signed_ed25519(uint8_t *out, size_t cap,
                                                   const uint8_t seed[32], const char *cn,
                                                   uint64_t not_before_unix, uint32_t days,
                                                   const uint8_t serial[16]);

/**
 * Verify a signature made with TLS SignatureScheme scheme over msg by the key
 * in spki.  Handles 0x0807, 0x0403, 0x0503, 0x0804-0x0806 (0x0905 is
 * dispatched to the ML-DSA verifier once it exists).  0, AQ_ERR_VERIFY, or
 * AQ_ERR_UNSUPPORTED (scheme/key mismatch counts as AQ_ERR_VERIFY).
 *
 * Implementation notes (aq_tls_cert_ossl.c): a malformed SPKI, an SPKI of an
 * unknown algorithm and an RSA key under 2048 bits also give AQ_ERR_VERIFY;
 * AQ_ERR_UNSUPPORTED means the scheme itself is not implemented.  0x0905
 * is pure ML-DSA-65 with an empty context (draft-ietf-tls-mldsa), verified
 * by lib/crypto/aq_mldsa65.h, called directly (lib/ has no globals, so
 * there is no registration hook).  ECDSA
 * signatures must be exact DER; RSA-PSS uses MGF1 with the same hash and
 * salt length = hash length (RFC 8446 §4.2.3).
 */
AQ_MUST_CHECK int aq_sig_verify_spki(uint16_t scheme, const uint8_t *spki, size_t spkilen,
                                     const uint8_t *msg, size_t msglen, const uint8_t *sig,
                                     size_t siglen);

/**
 * Peers' public keys, decoded for OpenSSL once and kept (the last 4 SPKIs
 * seen): decoding costs about as much as a third of an ECDSA P-256
 * verification (and an RSA key far more), and a client mostly reconnects to
 * the servers it knows.  One per endpoint; not for concurrent use.
 */
typedef struct aq_key_cache aq_key_cache; /* also named in aq_tls_config */

/** A new empty cache (mem NULL = the default allocator), or NULL without memory. */
aq_key_cache *aq_key_cache_new(const aq_mem *mem);
/** Free the cache and its keys; NULL is fine. */
void aq_key_cache_del(aq_key_cache *kc);

/** aq_sig_verify_spki with the key taken from / added to kc (NULL: not cached). */
AQ_MUST_CHECK int aq_sig_verify_spki_cached(aq_key_cache *kc, uint16_t scheme,
                                            const uint8_t *spki, size_t spkilen,
                                            const uint8_t *msg, size_t msglen,
                                            const uint8_t *sig, size_t siglen);

/** A private key loaded from PEM (PKCS#8 / SEC1 / PKCS#1): Ed25519, P-256, P-384 or RSA. */
typedef struct aq_pem_signer {
  aq_key_type type;
  void *pkey;            /* EVP_PKEY */
  uint16_t sig_scheme;   /* the scheme we sign with: 0x0807, 0x0403, 0x0503 or 0x0804 */
  aq_ecdsa_pre pre;      /* ECDSA keys: a nonce prepared ahead (aq_pem_signer_prepare) */
} aq_pem_signer;

/**
 * Load the first private key of pem (no passphrase is ever asked for:
 * encrypted keys fail).  RSA keys sign with 0x0804 by default and accept
 * 0x0805/0x0806 too.  AQ_ERR_MALFORMED (no key / bad PEM / encrypted),
 * AQ_ERR_UNSUPPORTED (another algorithm or curve, RSA < 2048 bits),
 * AQ_ERR_INVALID_ARGUMENT.  On success release s with aq_pem_signer_free().
 */
AQ_MUST_CHECK int aq_pem_signer_load(aq_pem_signer *s, const char *pem, size_t pemlen);
/** Free the key (OpenSSL cleanses it) and zero s; NULL and zeroed s are fine. */
void aq_pem_signer_free(aq_pem_signer *s);
/**
 * Matches aq_tls_credential.sign (sign_ctx = aq_pem_signer*).  scheme must
 * suit the key, else AQ_ERR_UNSUPPORTED; sigcap must hold the longest
 * signature of the key (64 / 72 / 104 / RSA modulus bytes), else
 * AQ_ERR_BUFFER_TOO_SMALL.
 */
aq_ssize aq_pem_signer_sign(void *sign_ctx, uint16_t scheme, uint8_t *sig, size_t sigcap,
                            const uint8_t *msg, size_t msglen);
/**
 * Matches aq_tls_credential.prepare: for an ECDSA key, do the nonce's
 * scalar multiplication and inversion now (aq_tls_ecdsa_pre.c), so that
 * the next aq_pem_signer_sign only finishes the signature.  Other keys:
 * nothing.  A signer is then not for concurrent use.
 */
void aq_pem_signer_prepare(void *sign_ctx);

/**
 * Decode the first PEM block with the given label ("CERTIFICATE", ...) into
 * DER.  Returns the DER length, AQ_ERR_NOT_FOUND, AQ_ERR_MALFORMED or
 * AQ_ERR_BUFFER_TOO_SMALL.
 */
AQ_MUST_CHECK aq_ssize aq_pem_decode(uint8_t *out, size_t cap, const char *label,
                                     const char *pem, size_t pemlen);

#endif /* AQ_TLS_CERT_H */
