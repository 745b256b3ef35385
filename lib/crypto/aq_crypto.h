/*
 * aq_crypto.h - the classical primitives, as thin wrappers over OpenSSL
 * libcrypto 3.0 EVP.  Contexts are created once per key (aq_aead_init,
 * aq_hp_init); per-packet calls allocate nothing.
 *
 * Randomness never comes from here: functions that need it take the random
 * bytes as an argument (a seed or private key), so the core stays sans-IO.
 */
#ifndef AQ_CRYPTO_H
#define AQ_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"

/* ------------------------------------------------------- fetched algorithms */

/**
 * The hashes, AEADs and header-protection ciphers, fetched from OpenSSL
 * once (OpenSSL 3.0 otherwise looks an algorithm up, under locks, each time
 * a context is set up).  Immutable once made, so any number of connections
 * and threads may share one.  Every function taking one accepts NULL and
 * then looks the algorithm up itself, with the same results.
 */
typedef struct aq_crypto_algs aq_crypto_algs;

/** Fetch everything; NULL without memory or when OpenSSL lacks an algorithm. */
aq_crypto_algs *aq_crypto_algs_new(const aq_mem *mem);
void aq_crypto_algs_free(aq_crypto_algs *a);

/* ------------------------------------------------------------------ hashes */

typedef enum aq_hash_alg {
  AQ_HASH_SHA256 = 1,
  AQ_HASH_SHA384 = 2
} aq_hash_alg;

#define AQ_HASH_MAX_LEN 48
#define AQ_SHA256_LEN 32
#define AQ_SHA384_LEN 48

/** Digest length of alg in bytes (32 or 48), 0 for an unknown alg. */
size_t aq_hash_len(aq_hash_alg alg);

/** One-shot digest; out holds aq_hash_len(alg) bytes. */
AQ_MUST_CHECK int aq_hash(aq_hash_alg alg, uint8_t *out, const uint8_t *data, size_t len);

/** An incremental hash (TLS transcript). */
typedef struct aq_hash_ctx {
  void *md; /* EVP_MD_CTX */
  aq_hash_alg alg;
} aq_hash_ctx;

AQ_MUST_CHECK int aq_hash_init(aq_hash_ctx *h, aq_hash_alg alg);
AQ_MUST_CHECK int aq_hash_update(aq_hash_ctx *h, const uint8_t *data, size_t len);
/** Digest of everything so far, without ending the context. */
AQ_MUST_CHECK int aq_hash_peek(const aq_hash_ctx *h, uint8_t *out);
/** Copy the running state of src into dst (dst must not be initialised). */
AQ_MUST_CHECK int aq_hash_dup(aq_hash_ctx *dst, const aq_hash_ctx *src);
void aq_hash_free(aq_hash_ctx *h);

/** HMAC; out holds aq_hash_len(alg) bytes. */
AQ_MUST_CHECK int aq_hmac(aq_hash_alg alg, uint8_t *out, const uint8_t *key, size_t keylen,
                          const uint8_t *data, size_t len);
/** aq_hmac with the digest from algs (NULL: looked up). */
AQ_MUST_CHECK int aq_hmac_a(const aq_crypto_algs *algs, aq_hash_alg alg, uint8_t *out,
                            const uint8_t *key, size_t keylen, const uint8_t *data, size_t len);

/* -------------------------------------------------------------------- HKDF */

/** HKDF-Extract (RFC 5869 §2.2); prk holds aq_hash_len(alg) bytes. */
AQ_MUST_CHECK int aq_hkdf_extract(aq_hash_alg alg, uint8_t *prk, const uint8_t *salt,
                                  size_t saltlen, const uint8_t *ikm, size_t ikmlen);
/** aq_hkdf_extract with the digest from algs (NULL: looked up). */
AQ_MUST_CHECK int aq_hkdf_extract_a(const aq_crypto_algs *algs, aq_hash_alg alg, uint8_t *prk,
                                    const uint8_t *salt, size_t saltlen, const uint8_t *ikm,
                                    size_t ikmlen);

/** HKDF-Expand (RFC 5869 §2.3); outlen <= 255 * hash length, else AQ_ERR_VALUE_RANGE. */
AQ_MUST_CHECK int aq_hkdf_expand(aq_hash_alg alg, uint8_t *out, size_t outlen, const uint8_t *prk,
                                 size_t prklen, const uint8_t *info, size_t infolen);

/**
 * HKDF-Expand-Label (RFC 8446 §7.1): label is given without the "tls13 "
 * prefix, e.g. "quic key".  label up to 249 bytes, context up to 255.
 */
AQ_MUST_CHECK int aq_hkdf_expand_label(aq_hash_alg alg, uint8_t *out, size_t outlen,
                                       const uint8_t *secret, size_t secretlen, const char *label,
                                       const uint8_t *context, size_t contextlen);

/** One output of aq_hkdf_expand_labels. */
typedef struct aq_hkdf_label {
  const char *label; /* without "tls13 " */
  const uint8_t *context;
  size_t contextlen;
  uint8_t *out;
  size_t outlen;
} aq_hkdf_label;

/**
 * Several HKDF-Expand-Label outputs from one secret, keying the HMAC once
 * (a QUIC key, IV and header-protection key; a pair of traffic secrets).
 * Same results and errors as calling aq_hkdf_expand_label for each; on
 * error every out is zeroed (the ones already derived too).
 */
AQ_MUST_CHECK int aq_hkdf_expand_labels(aq_hash_alg alg, const uint8_t *secret, size_t secretlen,
                                        const aq_hkdf_label *labels, size_t nlabels);
/** aq_hkdf_expand_labels with the digest from algs (NULL: looked up). */
AQ_MUST_CHECK int aq_hkdf_expand_labels_a(const aq_crypto_algs *algs, aq_hash_alg alg,
                                          const uint8_t *secret, size_t secretlen,
                                          const aq_hkdf_label *labels, size_t nlabels);

/* -------------------------------------------------------------------- AEAD */

typedef enum aq_aead_alg {
  AQ_AEAD_AES_128_GCM = 1,
  AQ_AEAD_AES_256_GCM = 2,
  AQ_AEAD_CHACHA20_POLY1305 = 3
} aq_aead_alg;

#define AQ_AEAD_MAX_KEY_LEN 32
#define AQ_AEAD_NONCE_LEN 12
#define AQ_AEAD_TAG_LEN 16
#define AQ_HP_SAMPLE_LEN 16
#define AQ_HP_MASK_LEN 5

/** Key length of alg (16 or 32), 0 for an unknown alg. */
size_t aq_aead_key_len(aq_aead_alg alg);

/**
 * An AEAD keyed once; seal/open may then be called any number of times.
 * Each direction's OpenSSL context is made on its first seal or open (most
 * keys are used one way only); after that no call allocates.
 */
typedef struct aq_aead {
  aq_aead_alg alg;
  const void *cipher; /* EVP_CIPHER lent by an aq_crypto_algs, or NULL (looked up) */
  void *enc; /* EVP_CIPHER_CTX, NULL until the first seal */
  void *dec; /* EVP_CIPHER_CTX, NULL until the first open */
  uint8_t key[AQ_AEAD_MAX_KEY_LEN]; /* for the contexts not yet made; zeroed by aq_aead_free */
} aq_aead;

/**
 * Key an AEAD.  key holds aq_aead_key_len(alg) bytes.  Errors:
 * AQ_ERR_INVALID_ARGUMENT only (OpenSSL failures surface at the first
 * seal/open as AQ_ERR_CRYPTO).
 */
AQ_MUST_CHECK int aq_aead_init(aq_aead *a, aq_aead_alg alg, const uint8_t *key);
/** aq_aead_init with the cipher from algs (NULL: looked up); algs must outlive a. */
AQ_MUST_CHECK int aq_aead_init_a(aq_aead *a, const aq_crypto_algs *algs, aq_aead_alg alg,
                                 const uint8_t *key);
void aq_aead_free(aq_aead *a);

/**
 * Encrypt ptlen bytes at pt and append the 16-byte tag: writes ptlen + 16
 * bytes to out (out == pt is allowed).  Returns the length written or
 * AQ_ERR_BUFFER_TOO_SMALL.
 */
AQ_MUST_CHECK aq_ssize aq_aead_seal(aq_aead *a, uint8_t *out, size_t outcap,
                                    const uint8_t nonce[AQ_AEAD_NONCE_LEN], const uint8_t *aad,
                                    size_t aadlen, const uint8_t *pt, size_t ptlen);

/**
 * Decrypt and authenticate ctlen bytes (ciphertext || tag): writes ctlen - 16
 * bytes to out (out == ct is allowed).  Returns the plaintext length, or
 * AQ_ERR_DECRYPT (the ctlen - 16 bytes at out are then zeroed: with out ==
 * ct the ciphertext is gone; the caller discards the packet).
 */
AQ_MUST_CHECK aq_ssize aq_aead_open(aq_aead *a, uint8_t *out, size_t outcap,
                                    const uint8_t nonce[AQ_AEAD_NONCE_LEN], const uint8_t *aad,
                                    size_t aadlen, const uint8_t *ct, size_t ctlen);

/* ------------------------------------------- QUIC header protection (§5.4) */

typedef struct aq_hp {
  aq_aead_alg alg;
  void *ctx; /* EVP_CIPHER_CTX: AES-ECB or ChaCha20 */
} aq_hp;

/** Key header protection for the AEAD alg (AES-ECB or ChaCha20 per RFC 9001 §5.4.3-4). */
AQ_MUST_CHECK int aq_hp_init(aq_hp *hp, aq_aead_alg alg, const uint8_t *key);
/** aq_hp_init with the cipher from algs (NULL: looked up). */
AQ_MUST_CHECK int aq_hp_init_a(aq_hp *hp, const aq_crypto_algs *algs, aq_aead_alg alg,
                               const uint8_t *key);
void aq_hp_free(aq_hp *hp);
/** The 5-byte mask for a 16-byte sample (RFC 9001 §5.4.1). */
AQ_MUST_CHECK int aq_hp_mask(aq_hp *hp, uint8_t mask[AQ_HP_MASK_LEN],
                             const uint8_t sample[AQ_HP_SAMPLE_LEN]);

/* --------------------------------------------- QUIC key derivation (RFC 9001) */

#define AQ_QUIC_V1 0x00000001u
#define AQ_QUIC_V2 0x6b3343cfu

/**
 * Initial secrets from the client's first Destination Connection ID
 * (RFC 9001 §5.2; RFC 9369 §3.3.1 salt for v2).  Returns AQ_ERR_UNSUPPORTED
 * for an unknown version.
 */
AQ_MUST_CHECK int aq_quic_initial_secrets(uint8_t client_secret[32], uint8_t server_secret[32],
                                          const uint8_t *dcid, size_t dcidlen, uint32_t version);
AQ_MUST_CHECK int aq_quic_initial_secrets_a(const aq_crypto_algs *algs,
                                            uint8_t client_secret[32], uint8_t server_secret[32],
                                            const uint8_t *dcid, size_t dcidlen, uint32_t version);

/**
 * Packet protection key, IV and header-protection key from a traffic secret
 * (RFC 9001 §5.1: labels "quic key", "quic iv", "quic hp"; v2 uses
 * "quicv2 key" etc.).  key and hp hold aq_aead_key_len(alg) bytes.
 */
AQ_MUST_CHECK int aq_quic_derive_keys(uint8_t *key, uint8_t iv[AQ_AEAD_NONCE_LEN], uint8_t *hp,
                                      aq_hash_alg hash, aq_aead_alg alg, const uint8_t *secret,
                                      size_t secretlen, uint32_t version);
AQ_MUST_CHECK int aq_quic_derive_keys_a(const aq_crypto_algs *algs, uint8_t *key,
                                        uint8_t iv[AQ_AEAD_NONCE_LEN], uint8_t *hp,
                                        aq_hash_alg hash, aq_aead_alg alg, const uint8_t *secret,
                                        size_t secretlen, uint32_t version);

/** Next-generation secret for a key update (RFC 9001 §6.1, label "quic ku"). */
AQ_MUST_CHECK int aq_quic_next_secret(uint8_t *next, aq_hash_alg hash, const uint8_t *secret,
                                      size_t secretlen, uint32_t version);
/* The _a forms take the digest from algs (NULL: looked up). */
AQ_MUST_CHECK int aq_quic_next_secret_a(const aq_crypto_algs *algs, uint8_t *next,
                                        aq_hash_alg hash, const uint8_t *secret, size_t secretlen,
                                        uint32_t version);

/**
 * Retry Integrity Tag (RFC 9001 §5.8, RFC 9369 §3.3.3 for v2): AES-128-GCM
 * with the version's fixed key and nonce, empty plaintext, and as AAD the
 * Retry pseudo-packet: uint8 odcidlen || odcid || retry[0 .. retrylen)
 * (retry = the Retry packet without its tag).  odcidlen <= 255.  Returns
 * AQ_ERR_UNSUPPORTED for an unknown version.  Allocates one cipher context
 * per call (Retry is not on the data path).
 */
AQ_MUST_CHECK int aq_quic_retry_tag(uint8_t tag[AQ_AEAD_TAG_LEN], uint32_t version,
                                    const uint8_t *odcid, size_t odcidlen, const uint8_t *retry,
                                    size_t retrylen);

/* ------------------------------------------------------------------ X25519 */

#define AQ_X25519_LEN 32

/** Public key for a 32-byte private key (RFC 7748). */
AQ_MUST_CHECK int aq_x25519_public(uint8_t pub[AQ_X25519_LEN], const uint8_t priv[AQ_X25519_LEN]);

/**
 * Shared secret.  An all-zero result (low-order peer point) is refused with
 * AQ_ERR_CRYPTO, as RFC 8446 §7.4.2 requires; shared is zeroed then.
 */
AQ_MUST_CHECK int aq_x25519(uint8_t shared[AQ_X25519_LEN], const uint8_t priv[AQ_X25519_LEN],
                            const uint8_t peer[AQ_X25519_LEN]);

/**
 * aq_x25519 when the caller kept the public key pub = aq_x25519_public(priv)
 * (it MUST be that value): about twice as fast, one scalar multiplication.
 */
AQ_MUST_CHECK int aq_x25519_pair(uint8_t shared[AQ_X25519_LEN], const uint8_t priv[AQ_X25519_LEN],
                                 const uint8_t pub[AQ_X25519_LEN],
                                 const uint8_t peer[AQ_X25519_LEN]);

/**
 * An X25519 key pair kept as an OpenSSL key object for a later
 * aq_x25519_with: *key receives it (free with aq_x25519_key_free), pub the
 * public value.  Building the object is what aq_x25519_pair would pay again
 * at exchange time.  Errors: AQ_ERR_CRYPTO (*key NULL).
 */
AQ_MUST_CHECK int aq_x25519_key_new(void **key, uint8_t pub[AQ_X25519_LEN],
                                    const uint8_t priv[AQ_X25519_LEN]);
/** shared = X25519(key, peer), as aq_x25519 (all-zero results refused). */
AQ_MUST_CHECK int aq_x25519_with(uint8_t shared[AQ_X25519_LEN], void *key,
                                 const uint8_t peer[AQ_X25519_LEN]);
void aq_x25519_key_free(void *key);

/**
 * A responder's whole X25519 step: pub = aq_x25519_public(priv) and shared =
 * aq_x25519(priv, peer), sharing one key object (two scalar multiplications
 * instead of three).  On error both outputs are zeroed.
 */
AQ_MUST_CHECK int aq_x25519_exchange(uint8_t pub[AQ_X25519_LEN], uint8_t shared[AQ_X25519_LEN],
                                     const uint8_t priv[AQ_X25519_LEN],
                                     const uint8_t peer[AQ_X25519_LEN]);

/* ----------------------------------------------------------------- Ed25519 */

#define AQ_ED25519_SEED_LEN 32
#define AQ_ED25519_PK_LEN 32
#define AQ_ED25519_SIG_LEN 64

AQ_MUST_CHECK int aq_ed25519_public(uint8_t pub[AQ_ED25519_PK_LEN],
                                    const uint8_t seed[AQ_ED25519_SEED_LEN]);
AQ_MUST_CHECK int aq_ed25519_sign(uint8_t sig[AQ_ED25519_SIG_LEN],
                                  const uint8_t seed[AQ_ED25519_SEED_LEN], const uint8_t *msg,
                                  size_t msglen);
/**
 * aq_ed25519_sign when the caller kept pub = aq_ed25519_public(seed) (it
 * MUST be that value): about twice as fast.
 */
AQ_MUST_CHECK int aq_ed25519_sign_pair(uint8_t sig[AQ_ED25519_SIG_LEN],
                                       const uint8_t seed[AQ_ED25519_SEED_LEN],
                                       const uint8_t pub[AQ_ED25519_PK_LEN], const uint8_t *msg,
                                       size_t msglen);
/** 0 if sig is a valid signature of msg under pub, else AQ_ERR_VERIFY. */
AQ_MUST_CHECK int aq_ed25519_verify(const uint8_t *sig, size_t siglen,
                                    const uint8_t pub[AQ_ED25519_PK_LEN], const uint8_t *msg,
                                    size_t msglen);

/* -------------------------------------------------------------- randomness */

/**
 * The randomness source the library is given (a callback from the node
 * layer or a deterministic one in tests).  Fills buf; returns 0 or a
 * negative error.
 */
typedef int (*aq_rand_fn)(uint8_t *buf, size_t len, void *user_data);

#endif /* AQ_CRYPTO_H */
