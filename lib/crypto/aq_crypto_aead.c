/*
 * aq_crypto_aead.c - AEAD (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305) and
 * QUIC header protection (RFC 9001 §5.4.3 AES, §5.4.4 ChaCha20).
 *
 * The EVP_CIPHER_CTX objects are created and keyed once in the _init
 * functions; seal/open/mask only set a new IV on them, so no call on the
 * packet path allocates.
 */
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "aq_crypto.h"
#include "aq_crypto_int.h"
#include "aq_ct.h"

size_t aq_aead_key_len(aq_aead_alg alg) {
  switch (alg) {
  case AQ_AEAD_AES_128_GCM: return 16;
  case AQ_AEAD_AES_256_GCM:
  case AQ_AEAD_CHACHA20_POLY1305: return 32;
  default: return 0;
  }
}

static const EVP_CIPHER *aead_cipher(aq_aead_alg alg) {
  switch (alg) {
  case AQ_AEAD_AES_128_GCM: return EVP_aes_128_gcm();
  case AQ_AEAD_AES_256_GCM: return EVP_aes_256_gcm();
  case AQ_AEAD_CHACHA20_POLY1305: return EVP_chacha20_poly1305();
  default: return NULL;
  }
}

/** A new context for cipher keyed with key, encrypting if enc; NULL on failure. */
static EVP_CIPHER_CTX *aead_ctx_new(const EVP_CIPHER *cipher, const uint8_t *key, int enc) {
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL) {
    return NULL;
  }
  /* Set the cipher, then the 96-bit nonce length, then the key (the IV comes per call). */
  if (EVP_CipherInit_ex(ctx, cipher, NULL, NULL, NULL, enc) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, AQ_AEAD_NONCE_LEN, NULL) != 1 ||
      EVP_CipherInit_ex(ctx, NULL, NULL, key, NULL, enc) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

int aq_aead_init(aq_aead *a, aq_aead_alg alg, const uint8_t *key) {
  return aq_aead_init_a(a, NULL, alg, key);
}

int aq_aead_init_a(aq_aead *a, const aq_crypto_algs *algs, aq_aead_alg alg, const uint8_t *key) {
  size_t keylen = aq_aead_key_len(alg);
  a->alg = alg;
  a->cipher = NULL;
  a->enc = NULL;
  a->dec = NULL;
  if (keylen == 0 || key == NULL) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (algs != NULL) {
    a->cipher = algs->aead[alg - 1];
  }
  memcpy(a->key, key, keylen);
  return 0;
}

/*
 * The sealing or opening context, keyed on first use: most keys only ever
 * go one way (each QUIC packet protection key protects one direction), and
 * an unused OpenSSL context costs a cipher fetch and a key schedule.
 */
static EVP_CIPHER_CTX *aead_ctx(aq_aead *a, int enc) {
  void **slot = enc ? &a->enc : &a->dec;
  if (*slot == NULL) {
    const EVP_CIPHER *cipher = a->cipher != NULL ? a->cipher : aead_cipher(a->alg);
    *slot = cipher != NULL ? aead_ctx_new(cipher, a->key, enc) : NULL;
  }
  return *slot;
}

void aq_aead_free(aq_aead *a) {
  /* EVP_CIPHER_CTX_free cleanses the key schedule. */
  if (a->enc != NULL) {
    EVP_CIPHER_CTX_free(a->enc);
    a->enc = NULL;
  }
  if (a->dec != NULL) {
    EVP_CIPHER_CTX_free(a->dec);
    a->dec = NULL;
  }
  aq_memzero(a->key, sizeof(a->key));
}

aq_ssize aq_aead_seal(aq_aead *a, uint8_t *out, size_t outcap,
                      const uint8_t nonce[AQ_AEAD_NONCE_LEN], const uint8_t *aad, size_t aadlen,
                      const uint8_t *pt, size_t ptlen) {
  int outl = 0;
  int finl = 0;
  if (out == NULL || nonce == NULL || (aad == NULL && aadlen > 0) ||
      (pt == NULL && ptlen > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (ptlen > (size_t)INT_MAX - AQ_AEAD_TAG_LEN || aadlen > (size_t)INT_MAX) {
    return AQ_ERR_VALUE_RANGE;
  }
  if (outcap < ptlen + AQ_AEAD_TAG_LEN) {
    return AQ_ERR_BUFFER_TOO_SMALL;
  }
  EVP_CIPHER_CTX *ctx = aead_ctx(a, 1);
  if (ctx == NULL) {
    return AQ_ERR_CRYPTO;
  }
  if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1) {
    return AQ_ERR_CRYPTO;
  }
  if (aadlen > 0 && EVP_EncryptUpdate(ctx, NULL, &outl, aad, (int)aadlen) != 1) {
    return AQ_ERR_CRYPTO;
  }
  outl = 0;
  if (ptlen > 0 && EVP_EncryptUpdate(ctx, out, &outl, pt, (int)ptlen) != 1) {
    return AQ_ERR_CRYPTO;
  }
  if (EVP_EncryptFinal_ex(ctx, out + outl, &finl) != 1 || (size_t)outl + (size_t)finl != ptlen) {
    return AQ_ERR_CRYPTO;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, AQ_AEAD_TAG_LEN, out + ptlen) != 1) {
    return AQ_ERR_CRYPTO;
  }
  return (aq_ssize)(ptlen + AQ_AEAD_TAG_LEN);
}

aq_ssize aq_aead_open(aq_aead *a, uint8_t *out, size_t outcap,
                      const uint8_t nonce[AQ_AEAD_NONCE_LEN], const uint8_t *aad, size_t aadlen,
                      const uint8_t *ct, size_t ctlen) {
  uint8_t tag[AQ_AEAD_TAG_LEN];
  int outl = 0;
  int finl = 0;
  size_t ptlen;
  if (nonce == NULL || (aad == NULL && aadlen > 0) || (ct == NULL && ctlen > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  /* Too short to hold a tag: nothing can authenticate. */
  if (ctlen < AQ_AEAD_TAG_LEN) {
    return AQ_ERR_DECRYPT;
  }
  ptlen = ctlen - AQ_AEAD_TAG_LEN;
  if (ptlen > (size_t)INT_MAX || aadlen > (size_t)INT_MAX) {
    return AQ_ERR_VALUE_RANGE;
  }
  if (outcap < ptlen || (out == NULL && ptlen > 0)) {
    return AQ_ERR_BUFFER_TOO_SMALL;
  }
  /* Copy the tag first: with out == ct, nothing overwrites it, but a copy
   * also lets the const input go to the non-const ctrl argument. */
  memcpy(tag, ct + ptlen, AQ_AEAD_TAG_LEN);
  EVP_CIPHER_CTX *ctx = aead_ctx(a, 0);
  if (ctx == NULL) {
    return AQ_ERR_CRYPTO;
  }
  if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, AQ_AEAD_TAG_LEN, tag) != 1) {
    return AQ_ERR_CRYPTO;
  }
  if (aadlen > 0 && EVP_DecryptUpdate(ctx, NULL, &outl, aad, (int)aadlen) != 1) {
    return AQ_ERR_CRYPTO;
  }
  outl = 0;
  if (ptlen > 0 && EVP_DecryptUpdate(ctx, out, &outl, ct, (int)ptlen) != 1) {
    return AQ_ERR_DECRYPT;
  }
  /* DecryptFinal checks the tag (in constant time inside OpenSSL). */
  if (EVP_DecryptFinal_ex(ctx, out != NULL ? out + outl : tag, &finl) != 1) {
    if (ptlen > 0) {
      aq_memzero(out, ptlen); /* never hand out unauthenticated plaintext */
    }
    return AQ_ERR_DECRYPT;
  }
  if ((size_t)outl + (size_t)finl != ptlen) {
    return AQ_ERR_CRYPTO;
  }
  return (aq_ssize)ptlen;
}

/* ----------------------------------------------------- header protection */

int aq_hp_init(aq_hp *hp, aq_aead_alg alg, const uint8_t *key) {
  return aq_hp_init_a(hp, NULL, alg, key);
}

int aq_hp_init_a(aq_hp *hp, const aq_crypto_algs *algs, aq_aead_alg alg, const uint8_t *key) {
  const EVP_CIPHER *cipher;
  hp->alg = alg;
  hp->ctx = NULL;
  switch (alg) {
  case AQ_AEAD_AES_128_GCM:
    cipher = EVP_aes_128_ecb(); /* RFC 9001 §5.4.3: AEAD_AES_128_GCM uses AES-128 in ECB */
    break;
  case AQ_AEAD_AES_256_GCM: cipher = EVP_aes_256_ecb(); break;
  case AQ_AEAD_CHACHA20_POLY1305:
    cipher = EVP_chacha20(); /* RFC 9001 §5.4.4 */
    break;
  default: return AQ_ERR_INVALID_ARGUMENT;
  }
  if (key == NULL) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (algs != NULL) {
    cipher = algs->hp[alg - 1];
  }
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL) {
    return AQ_ERR_NOMEM;
  }
  if (EVP_EncryptInit_ex(ctx, cipher, NULL, key, NULL) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return AQ_ERR_CRYPTO;
  }
  hp->ctx = ctx;
  return 0;
}

void aq_hp_free(aq_hp *hp) {
  if (hp->ctx != NULL) {
    EVP_CIPHER_CTX_free(hp->ctx);
    hp->ctx = NULL;
  }
}

int aq_hp_mask(aq_hp *hp, uint8_t mask[AQ_HP_MASK_LEN], const uint8_t sample[AQ_HP_SAMPLE_LEN]) {
  static const uint8_t zeros[AQ_HP_MASK_LEN] = {0};
  uint8_t block[AQ_HP_SAMPLE_LEN];
  int outl = 0;
  if (hp->ctx == NULL) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  switch (hp->alg) {
  case AQ_AEAD_AES_128_GCM:
  case AQ_AEAD_AES_256_GCM:
    /* mask = AES-ECB(hp_key, sample) */
    if (EVP_EncryptUpdate(hp->ctx, block, &outl, sample, AQ_HP_SAMPLE_LEN) != 1 ||
        outl != AQ_HP_SAMPLE_LEN) {
      return AQ_ERR_CRYPTO;
    }
    memcpy(mask, block, AQ_HP_MASK_LEN);
    aq_memzero(block, sizeof(block));
    return 0;
  case AQ_AEAD_CHACHA20_POLY1305:
    /*
     * counter = sample[0..3] (little endian), nonce = sample[4..15];
     * mask = ChaCha20(hp_key, counter, nonce, {0,0,0,0,0}).  OpenSSL's
     * 16-byte ChaCha20 IV is exactly counter(LE32) || nonce, i.e. the sample.
     */
    if (EVP_EncryptInit_ex(hp->ctx, NULL, NULL, NULL, sample) != 1 ||
        EVP_EncryptUpdate(hp->ctx, mask, &outl, zeros, AQ_HP_MASK_LEN) != 1 ||
        outl != AQ_HP_MASK_LEN) {
      return AQ_ERR_CRYPTO;
    }
    return 0;
  default: return AQ_ERR_INVALID_ARGUMENT;
  }
}
