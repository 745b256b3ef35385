/*
 * aq_identity.h - node identities: a signing key (ML-DSA-65 by default,
 * Ed25519 optional) derived from a 32-byte seed, its PeerId, the key-file
 * codec (docs/identity.md) and the TLS signing hook.  Pure: the node layer
 * reads and writes the file and supplies randomness.
 */
#ifndef AQ_IDENTITY_H
#define AQ_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_crypto.h"
#include "aq_mldsa65.h"

typedef enum aq_identity_type {
  AQ_IDENTITY_MLDSA65 = 1,
  AQ_IDENTITY_ED25519 = 2
} aq_identity_type;

#define AQ_PEER_ID_LEN 32
#define AQ_PEER_ID_HEX_LEN 64
#define AQ_IDENTITY_SEED_LEN 32
/** The PeerId domain prefix for ML-DSA-65 keys (the Rust project's current nodes). */
#define AQ_PEER_ID_V2_PREFIX "AUTONOMI_PEER_ID_V2:"

typedef struct aq_identity {
  aq_identity_type type;
  uint8_t seed[AQ_IDENTITY_SEED_LEN]; /* secret */
  uint8_t pk[AQ_MLDSA65_PK_LEN];      /* public key (32 bytes used for Ed25519) */
  size_t pklen;
  uint8_t sk[AQ_MLDSA65_SK_LEN];      /* expanded ML-DSA-65 secret key (unused for Ed25519) */
  uint8_t peer_id[AQ_PEER_ID_LEN];
  aq_rand_fn rand;                    /* for hedged ML-DSA signing; NULL = deterministic */
  void *rand_ud;
} aq_identity;

/** Derive the key pair and PeerId from a seed. */
AQ_MUST_CHECK int aq_identity_from_seed(aq_identity *id, aq_identity_type type,
                                        const uint8_t seed[AQ_IDENTITY_SEED_LEN]);
/** Zero every secret in id. */
void aq_identity_wipe(aq_identity *id);

/**
 * PeerId of a public key: SHA-256("AUTONOMI_PEER_ID_V2:" || pk) for ML-DSA-65,
 * SHA-256(pk) for Ed25519 (32-byte key).
 */
AQ_MUST_CHECK int aq_peer_id_from_pk(uint8_t out[AQ_PEER_ID_LEN], aq_identity_type type,
                                     const uint8_t *pk, size_t pklen);

/** 64 lower-case hex characters + NUL. */
void aq_peer_id_to_hex(char out[AQ_PEER_ID_HEX_LEN + 1], const uint8_t id[AQ_PEER_ID_LEN]);
/** Parse exactly 64 hex characters; AQ_ERR_MALFORMED otherwise (out untouched). */
AQ_MUST_CHECK int aq_peer_id_from_hex(uint8_t out[AQ_PEER_ID_LEN], const char *hex);

/**
 * Encode the key file (text, see docs/identity.md) into out.  Returns the
 * length (no NUL counted, but one is written) or AQ_ERR_BUFFER_TOO_SMALL.
 */
AQ_MUST_CHECK aq_ssize aq_identity_encode_file(char *out, size_t cap, const aq_identity *id);

/**
 * Decode a key file and derive the keys.  Errors: AQ_ERR_MALFORMED (not a
 * key file, bad hex, missing line), AQ_ERR_UNSUPPORTED (unknown version or
 * key type), AQ_ERR_VERIFY (the stored peer-id does not match the key).
 * *err_line (may be NULL) gets a static description of what was wrong.
 */
AQ_MUST_CHECK int aq_identity_decode_file(aq_identity *id, const char *text, size_t len,
                                          const char **why);

/** The TLS SignatureScheme of this identity (0x0905 or 0x0807). */
uint16_t aq_identity_sig_scheme(const aq_identity *id);

/** Length of the SPKI DER of this identity's public key. */
AQ_MUST_CHECK aq_ssize aq_identity_spki(const aq_identity *id, uint8_t *out, size_t cap);

/**
 * aq_tls_credential.sign for an identity (sign_ctx = aq_identity*).  ML-DSA
 * signatures are hedged with 32 bytes from id->rand when set, deterministic
 * otherwise.  Returns the signature length or a negative error.
 */
aq_ssize aq_identity_sign(void *sign_ctx, uint16_t scheme, uint8_t *sig, size_t sigcap,
                          const uint8_t *msg, size_t msglen);

#endif /* AQ_IDENTITY_H */
