/*
 * aq_crypto_ecc.c - X25519 (RFC 7748) and Ed25519 (RFC 8032) over OpenSSL
 * 3.0 EVP_PKEY raw keys.  Keys are always given as raw bytes; EVP_PKEY
 * objects live only for the duration of one call.
 */
#include <string.h>

#include <openssl/evp.h>

#include "aq_crypto.h"
#include "aq_ct.h"

/* ---------------------------------------------------------------- X25519 */

int aq_x25519_public(uint8_t pub[AQ_X25519_LEN], const uint8_t priv[AQ_X25519_LEN]) {
  size_t publen = AQ_X25519_LEN;
  int rv = 0;
  EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, AQ_X25519_LEN);
  if (pk == NULL) {
    return AQ_ERR_CRYPTO;
  }
  if (EVP_PKEY_get_raw_public_key(pk, pub, &publen) != 1 || publen != AQ_X25519_LEN) {
    aq_memzero(pub, AQ_X25519_LEN);
    rv = AQ_ERR_CRYPTO;
  }
  EVP_PKEY_free(pk);
  return rv;
}

int aq_x25519(uint8_t shared[AQ_X25519_LEN], const uint8_t priv[AQ_X25519_LEN],
              const uint8_t peer[AQ_X25519_LEN]) {
  static const uint8_t zeros[AQ_X25519_LEN] = {0};
  EVP_PKEY *me = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, AQ_X25519_LEN);
  EVP_PKEY *them = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, AQ_X25519_LEN);
  EVP_PKEY_CTX *ctx = NULL;
  size_t len = AQ_X25519_LEN;
  int rv = AQ_ERR_CRYPTO;
  if (me == NULL || them == NULL) {
    goto out;
  }
  ctx = EVP_PKEY_CTX_new(me, NULL);
  if (ctx == NULL) {
    goto out;
  }
  /*
   * OpenSSL itself refuses an all-zero output; the explicit check below
   * keeps the RFC 8446 §7.4.2 rule visible and independent of that:
   * "For X25519 and X448, implementations ... MUST check whether the
   * computed Diffie-Hellman shared secret is the all-zero value and abort
   * if so".
   */
  if (EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer(ctx, them) != 1 ||
      EVP_PKEY_derive(ctx, shared, &len) != 1 || len != AQ_X25519_LEN) {
    goto out;
  }
  if (aq_ct_memeq(shared, zeros, AQ_X25519_LEN)) {
    goto out;
  }
  rv = 0;
out:
  if (rv != 0) {
    aq_memzero(shared, AQ_X25519_LEN);
  }
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(them);
  EVP_PKEY_free(me);
  return rv;
}

/* --------------------------------------------------------------- Ed25519 */

int aq_ed25519_public(uint8_t pub[AQ_ED25519_PK_LEN], const uint8_t seed[AQ_ED25519_SEED_LEN]) {
  size_t publen = AQ_ED25519_PK_LEN;
  int rv = 0;
  EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, AQ_ED25519_SEED_LEN);
  if (pk == NULL) {
    return AQ_ERR_CRYPTO;
  }
  if (EVP_PKEY_get_raw_public_key(pk, pub, &publen) != 1 || publen != AQ_ED25519_PK_LEN) {
    aq_memzero(pub, AQ_ED25519_PK_LEN);
    rv = AQ_ERR_CRYPTO;
  }
  EVP_PKEY_free(pk);
  return rv;
}

int aq_ed25519_sign(uint8_t sig[AQ_ED25519_SIG_LEN], const uint8_t seed[AQ_ED25519_SEED_LEN],
                    const uint8_t *msg, size_t msglen) {
  static const uint8_t empty[1] = {0};
  size_t siglen = AQ_ED25519_SIG_LEN;
  int rv = AQ_ERR_CRYPTO;
  EVP_MD_CTX *md = NULL;
  if (msg == NULL && msglen > 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, AQ_ED25519_SEED_LEN);
  if (pk == NULL) {
    goto out;
  }
  md = EVP_MD_CTX_new();
  if (md == NULL) {
    goto out;
  }
  /* Pure Ed25519: no pre-hash, so the digest argument is NULL and the message goes in one shot. */
  if (EVP_DigestSignInit(md, NULL, NULL, NULL, pk) != 1 ||
      EVP_DigestSign(md, sig, &siglen, msglen > 0 ? msg : empty, msglen) != 1 ||
      siglen != AQ_ED25519_SIG_LEN) {
    aq_memzero(sig, AQ_ED25519_SIG_LEN);
    goto out;
  }
  rv = 0;
out:
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pk);
  return rv;
}

int aq_ed25519_verify(const uint8_t *sig, size_t siglen, const uint8_t pub[AQ_ED25519_PK_LEN],
                      const uint8_t *msg, size_t msglen) {
  static const uint8_t empty[1] = {0};
  int rv = AQ_ERR_VERIFY;
  EVP_MD_CTX *md = NULL;
  if (sig == NULL || (msg == NULL && msglen > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (siglen != AQ_ED25519_SIG_LEN) {
    return AQ_ERR_VERIFY;
  }
  EVP_PKEY *pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, AQ_ED25519_PK_LEN);
  if (pk == NULL) {
    return AQ_ERR_VERIFY;
  }
  md = EVP_MD_CTX_new();
  if (md == NULL) {
    rv = AQ_ERR_NOMEM;
    goto out;
  }
  /* OpenSSL rejects S >= L and undecodable points (RFC 8032 §5.1.7). */
  if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, pk) == 1 &&
      EVP_DigestVerify(md, sig, siglen, msglen > 0 ? msg : empty, msglen) == 1) {
    rv = 0;
  }
out:
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(pk);
  return rv;
}
