/*
 * aq_crypto_ecc.c - X25519 (RFC 7748) and Ed25519 (RFC 8032) over OpenSSL
 * 3.0 EVP_PKEY raw keys.  Keys are always given as raw bytes; EVP_PKEY
 * objects live only for the duration of one call.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

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

/*
 * shared = X25519(me, peer).  OpenSSL itself refuses an all-zero output; the
 * explicit check keeps the RFC 8446 §7.4.2 rule visible and independent of
 * that: "For X25519 and X448, implementations ... MUST check whether the
 * computed Diffie-Hellman shared secret is the all-zero value and abort if
 * so".  shared is zeroed on failure.
 */
static int x25519_derive(uint8_t shared[AQ_X25519_LEN], EVP_PKEY *me,
                         const uint8_t peer[AQ_X25519_LEN]) {
  static const uint8_t zeros[AQ_X25519_LEN] = {0};
  EVP_PKEY *them = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer, AQ_X25519_LEN);
  EVP_PKEY_CTX *ctx = me != NULL ? EVP_PKEY_CTX_new(me, NULL) : NULL;
  size_t len = AQ_X25519_LEN;
  int rv = AQ_ERR_CRYPTO;
  if (them != NULL && ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 &&
      EVP_PKEY_derive_set_peer(ctx, them) == 1 && EVP_PKEY_derive(ctx, shared, &len) == 1 &&
      len == AQ_X25519_LEN && !aq_ct_memeq(shared, zeros, AQ_X25519_LEN)) {
    rv = 0;
  }
  if (rv != 0) {
    aq_memzero(shared, AQ_X25519_LEN);
  }
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(them);
  return rv;
}

int aq_x25519(uint8_t shared[AQ_X25519_LEN], const uint8_t priv[AQ_X25519_LEN],
              const uint8_t peer[AQ_X25519_LEN]) {
  EVP_PKEY *me = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, AQ_X25519_LEN);
  int rv = x25519_derive(shared, me, peer);
  EVP_PKEY_free(me);
  return rv;
}

/*
 * With both halves given, OpenSSL 3.0 builds an X25519/Ed25519 key object
 * without recomputing the public value (a scalar multiplication that
 * EVP_PKEY_new_raw_private_key always does): a derive or a signature then
 * costs half as much.  pub MUST belong to priv.  NULL on failure.
 */
static EVP_PKEY *keypair_from_parts(int type, const uint8_t priv[32], const uint8_t pub[32]) {
  uint8_t privc[32], pubc[32];
  EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_id(type, NULL);
  EVP_PKEY *pk = NULL;
  memcpy(privc, priv, sizeof(privc));
  memcpy(pubc, pub, sizeof(pubc));
  OSSL_PARAM params[3] = {
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PRIV_KEY, privc, sizeof(privc)),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pubc, sizeof(pubc)),
      OSSL_PARAM_construct_end()};
  if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
      EVP_PKEY_fromdata(pctx, &pk, EVP_PKEY_KEYPAIR, params) != 1) {
    pk = NULL;
  }
  EVP_PKEY_CTX_free(pctx);
  aq_memzero(privc, sizeof(privc));
  return pk;
}

int aq_x25519_pair(uint8_t shared[AQ_X25519_LEN], const uint8_t priv[AQ_X25519_LEN],
                   const uint8_t pub[AQ_X25519_LEN], const uint8_t peer[AQ_X25519_LEN]) {
  EVP_PKEY *me = keypair_from_parts(EVP_PKEY_X25519, priv, pub);
  int rv = x25519_derive(shared, me, peer);
  EVP_PKEY_free(me);
  return rv;
}

int aq_x25519_key_new(void **key, uint8_t pub[AQ_X25519_LEN], const uint8_t priv[AQ_X25519_LEN]) {
  size_t publen = AQ_X25519_LEN;
  EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, AQ_X25519_LEN);
  *key = NULL;
  if (pk == NULL || EVP_PKEY_get_raw_public_key(pk, pub, &publen) != 1 ||
      publen != AQ_X25519_LEN) {
    EVP_PKEY_free(pk);
    aq_memzero(pub, AQ_X25519_LEN);
    return AQ_ERR_CRYPTO;
  }
  *key = pk;
  return 0;
}

int aq_x25519_with(uint8_t shared[AQ_X25519_LEN], void *key, const uint8_t peer[AQ_X25519_LEN]) {
  return x25519_derive(shared, key, peer);
}

void aq_x25519_key_free(void *key) {
  EVP_PKEY_free(key); /* OpenSSL cleanses the private key */
}

int aq_x25519_exchange(uint8_t pub[AQ_X25519_LEN], uint8_t shared[AQ_X25519_LEN],
                       const uint8_t priv[AQ_X25519_LEN], const uint8_t peer[AQ_X25519_LEN]) {
  size_t publen = AQ_X25519_LEN;
  EVP_PKEY *me = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, AQ_X25519_LEN);
  int rv = AQ_ERR_CRYPTO;
  if (me != NULL && EVP_PKEY_get_raw_public_key(me, pub, &publen) == 1 &&
      publen == AQ_X25519_LEN) {
    rv = x25519_derive(shared, me, peer);
  } else {
    aq_memzero(shared, AQ_X25519_LEN);
  }
  if (rv != 0) {
    aq_memzero(pub, AQ_X25519_LEN);
  }
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

/* Pure Ed25519 signature with pk (NULL: fails); sig zeroed on failure. */
static int ed25519_sign_with(uint8_t sig[AQ_ED25519_SIG_LEN], EVP_PKEY *pk, const uint8_t *msg,
                             size_t msglen) {
  static const uint8_t empty[1] = {0};
  size_t siglen = AQ_ED25519_SIG_LEN;
  EVP_MD_CTX *md = pk != NULL ? EVP_MD_CTX_new() : NULL;
  int rv = AQ_ERR_CRYPTO;
  /* Pure Ed25519: no pre-hash, so the digest argument is NULL and the message goes in one shot. */
  if (md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, pk) == 1 &&
      EVP_DigestSign(md, sig, &siglen, msglen > 0 ? msg : empty, msglen) == 1 &&
      siglen == AQ_ED25519_SIG_LEN) {
    rv = 0;
  } else {
    aq_memzero(sig, AQ_ED25519_SIG_LEN);
  }
  EVP_MD_CTX_free(md);
  return rv;
}

int aq_ed25519_sign(uint8_t sig[AQ_ED25519_SIG_LEN], const uint8_t seed[AQ_ED25519_SEED_LEN],
                    const uint8_t *msg, size_t msglen) {
  if (msg == NULL && msglen > 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, AQ_ED25519_SEED_LEN);
  int rv = ed25519_sign_with(sig, pk, msg, msglen);
  EVP_PKEY_free(pk);
  return rv;
}

int aq_ed25519_sign_pair(uint8_t sig[AQ_ED25519_SIG_LEN], const uint8_t seed[AQ_ED25519_SEED_LEN],
                         const uint8_t pub[AQ_ED25519_PK_LEN], const uint8_t *msg, size_t msglen) {
  if (msg == NULL && msglen > 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  EVP_PKEY *pk = keypair_from_parts(EVP_PKEY_ED25519, seed, pub);
  int rv = ed25519_sign_with(sig, pk, msg, msglen);
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
