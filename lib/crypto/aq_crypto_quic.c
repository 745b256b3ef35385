/*
 * aq_crypto_quic.c - QUIC key derivation: Initial secrets (RFC 9001 §5.2,
 * RFC 9369 §3.3.1), packet protection keys (RFC 9001 §5.1, RFC 9369
 * §3.3.2) and key update secrets (RFC 9001 §6.1).
 */
#include <string.h>

#include "aq_crypto.h"
#include "aq_ct.h"

/* RFC 9001 §5.2: initial_salt = 0x38762cf7f55934b34d179ae6a4c80cadccbb7f0a */
static const uint8_t salt_v1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
/* RFC 9369 §3.3.1: initial_salt = 0x0dede3def700a6db819381be6e269dcbf9bd2ed9 */
static const uint8_t salt_v2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};

/** The labels of one QUIC version; NULL for an unknown version. */
typedef struct quic_labels {
  const char *key, *iv, *hp, *ku;
} quic_labels;

static const quic_labels *labels_for(uint32_t version) {
  static const quic_labels v1 = {"quic key", "quic iv", "quic hp", "quic ku"};
  /* RFC 9369 §3.3.2: "quic key" -> "quicv2 key", etc. */
  static const quic_labels v2 = {"quicv2 key", "quicv2 iv", "quicv2 hp", "quicv2 ku"};
  switch (version) {
  case AQ_QUIC_V1: return &v1;
  case AQ_QUIC_V2: return &v2;
  default: return NULL;
  }
}

int aq_quic_initial_secrets(uint8_t client_secret[32], uint8_t server_secret[32],
                            const uint8_t *dcid, size_t dcidlen, uint32_t version) {
  const uint8_t *salt;
  uint8_t initial[AQ_SHA256_LEN];
  int rv;
  switch (version) {
  case AQ_QUIC_V1: salt = salt_v1; break;
  case AQ_QUIC_V2: salt = salt_v2; break;
  default: return AQ_ERR_UNSUPPORTED;
  }
  if (dcid == NULL && dcidlen > 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  /*
   * initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id)
   * client_initial_secret = HKDF-Expand-Label(initial_secret, "client in", "", 32)
   * server_initial_secret = HKDF-Expand-Label(initial_secret, "server in", "", 32)
   */
  rv = aq_hkdf_extract(AQ_HASH_SHA256, initial, salt, sizeof(salt_v1), dcid, dcidlen);
  if (rv == 0) {
    rv = aq_hkdf_expand_label(AQ_HASH_SHA256, client_secret, 32, initial, sizeof(initial),
                              "client in", NULL, 0);
  }
  if (rv == 0) {
    rv = aq_hkdf_expand_label(AQ_HASH_SHA256, server_secret, 32, initial, sizeof(initial),
                              "server in", NULL, 0);
  }
  aq_memzero(initial, sizeof(initial));
  if (rv != 0) {
    aq_memzero(client_secret, 32);
    aq_memzero(server_secret, 32);
  }
  return rv;
}

int aq_quic_derive_keys(uint8_t *key, uint8_t iv[AQ_AEAD_NONCE_LEN], uint8_t *hp, aq_hash_alg hash,
                        aq_aead_alg alg, const uint8_t *secret, size_t secretlen,
                        uint32_t version) {
  const quic_labels *l = labels_for(version);
  size_t keylen = aq_aead_key_len(alg);
  int rv;
  if (l == NULL) {
    return AQ_ERR_UNSUPPORTED;
  }
  if (keylen == 0 || aq_hash_len(hash) == 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  rv = aq_hkdf_expand_label(hash, key, keylen, secret, secretlen, l->key, NULL, 0);
  if (rv == 0) {
    rv = aq_hkdf_expand_label(hash, iv, AQ_AEAD_NONCE_LEN, secret, secretlen, l->iv, NULL, 0);
  }
  if (rv == 0) {
    /* RFC 9001 §5.4: the header protection key has the AEAD key's length. */
    rv = aq_hkdf_expand_label(hash, hp, keylen, secret, secretlen, l->hp, NULL, 0);
  }
  if (rv != 0) {
    aq_memzero(key, keylen);
    aq_memzero(iv, AQ_AEAD_NONCE_LEN);
    aq_memzero(hp, keylen);
  }
  return rv;
}

int aq_quic_next_secret(uint8_t *next, aq_hash_alg hash, const uint8_t *secret, size_t secretlen,
                        uint32_t version) {
  const quic_labels *l = labels_for(version);
  size_t hlen = aq_hash_len(hash);
  if (l == NULL) {
    return AQ_ERR_UNSUPPORTED;
  }
  if (hlen == 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  /* RFC 9001 §6.1: secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", "", Hash.length) */
  return aq_hkdf_expand_label(hash, next, hlen, secret, secretlen, l->ku, NULL, 0);
}
