/*
 * aq_crypto_quic.c - QUIC key derivation: Initial secrets (RFC 9001 §5.2,
 * RFC 9369 §3.3.1), packet protection keys (RFC 9001 §5.1, RFC 9369
 * §3.3.2) and key update secrets (RFC 9001 §6.1).
 */
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

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
  return aq_quic_initial_secrets_a(NULL, client_secret, server_secret, dcid, dcidlen, version);
}

int aq_quic_initial_secrets_a(const aq_crypto_algs *algs, uint8_t client_secret[32],
                              uint8_t server_secret[32], const uint8_t *dcid, size_t dcidlen,
                              uint32_t version) {
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
  rv = aq_hkdf_extract_a(algs, AQ_HASH_SHA256, initial, salt, sizeof(salt_v1), dcid, dcidlen);
  if (rv == 0) {
    const aq_hkdf_label out[2] = {{"client in", NULL, 0, client_secret, 32},
                                  {"server in", NULL, 0, server_secret, 32}};
    rv = aq_hkdf_expand_labels_a(algs, AQ_HASH_SHA256, initial, sizeof(initial), out, 2);
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
  return aq_quic_derive_keys_a(NULL, key, iv, hp, hash, alg, secret, secretlen, version);
}

int aq_quic_derive_keys_a(const aq_crypto_algs *algs, uint8_t *key, uint8_t iv[AQ_AEAD_NONCE_LEN],
                          uint8_t *hp, aq_hash_alg hash, aq_aead_alg alg, const uint8_t *secret,
                          size_t secretlen, uint32_t version) {
  const quic_labels *l = labels_for(version);
  size_t keylen = aq_aead_key_len(alg);
  int rv;
  if (l == NULL) {
    return AQ_ERR_UNSUPPORTED;
  }
  if (keylen == 0 || aq_hash_len(hash) == 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  /* RFC 9001 §5.4: the header protection key has the AEAD key's length. */
  const aq_hkdf_label out[3] = {{l->key, NULL, 0, key, keylen},
                                {l->iv, NULL, 0, iv, AQ_AEAD_NONCE_LEN},
                                {l->hp, NULL, 0, hp, keylen}};
  rv = aq_hkdf_expand_labels_a(algs, hash, secret, secretlen, out, 3);
  return rv;
}

int aq_quic_next_secret(uint8_t *next, aq_hash_alg hash, const uint8_t *secret, size_t secretlen,
                        uint32_t version) {
  return aq_quic_next_secret_a(NULL, next, hash, secret, secretlen, version);
}

int aq_quic_next_secret_a(const aq_crypto_algs *algs, uint8_t *next, aq_hash_alg hash,
                          const uint8_t *secret, size_t secretlen, uint32_t version) {
  const quic_labels *l = labels_for(version);
  size_t hlen = aq_hash_len(hash);
  if (l == NULL) {
    return AQ_ERR_UNSUPPORTED;
  }
  if (hlen == 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  /* RFC 9001 §6.1: secret_<n+1> = HKDF-Expand-Label(secret_<n>, "quic ku", "", Hash.length) */
  const aq_hkdf_label out = {l->ku, NULL, 0, next, hlen};
  return aq_hkdf_expand_labels_a(algs, hash, secret, secretlen, &out, 1);
}

/* RFC 9001 §5.8 and RFC 9369 §3.3.3: the fixed Retry integrity keys and nonces. */
static const uint8_t retry_key_v1[16] = {0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a,
                                         0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e};
static const uint8_t retry_nonce_v1[12] = {0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63,
                                           0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb};
static const uint8_t retry_key_v2[16] = {0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2,
                                         0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92};
static const uint8_t retry_nonce_v2[12] = {0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c,
                                           0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a};

int aq_quic_retry_tag(uint8_t tag[AQ_AEAD_TAG_LEN], uint32_t version, const uint8_t *odcid,
                      size_t odcidlen, const uint8_t *retry, size_t retrylen) {
  const uint8_t *key, *nonce;
  uint8_t lenbyte = (uint8_t)odcidlen;
  uint8_t dummy[AQ_AEAD_TAG_LEN];
  int outl = 0;
  int rv = AQ_ERR_CRYPTO;
  switch (version) {
  case AQ_QUIC_V1:
    key = retry_key_v1;
    nonce = retry_nonce_v1;
    break;
  case AQ_QUIC_V2:
    key = retry_key_v2;
    nonce = retry_nonce_v2;
    break;
  default: return AQ_ERR_UNSUPPORTED;
  }
  if (odcidlen > 255 || (odcid == NULL && odcidlen > 0) || (retry == NULL && retrylen > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (retrylen > (size_t)INT_MAX) {
    return AQ_ERR_VALUE_RANGE;
  }
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL) {
    return AQ_ERR_NOMEM;
  }
  /* GCM takes the AAD in several updates, so the pseudo-packet is never copied. */
  if (EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, nonce) != 1 ||
      EVP_EncryptUpdate(ctx, NULL, &outl, &lenbyte, 1) != 1 ||
      (odcidlen > 0 && EVP_EncryptUpdate(ctx, NULL, &outl, odcid, (int)odcidlen) != 1) ||
      (retrylen > 0 && EVP_EncryptUpdate(ctx, NULL, &outl, retry, (int)retrylen) != 1) ||
      EVP_EncryptFinal_ex(ctx, dummy, &outl) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AQ_AEAD_TAG_LEN, tag) != 1) {
    goto out;
  }
  rv = 0;
out:
  EVP_CIPHER_CTX_free(ctx);
  return rv;
}
