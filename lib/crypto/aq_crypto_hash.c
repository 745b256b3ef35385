/*
 * aq_crypto_hash.c - SHA-256/384, HMAC, HKDF (RFC 5869) and
 * HKDF-Expand-Label (RFC 8446 §7.1) over OpenSSL 3.0 EVP.
 *
 * HKDF is written here on top of HMAC rather than through EVP_KDF so that
 * the length limits, the empty-salt rule and the label encoding are visible
 * at the check and identical on every OpenSSL build.
 */
#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "aq_crypto.h"
#include "aq_ct.h"

/** The EVP_MD for alg, or NULL. */
static const EVP_MD *hash_md(aq_hash_alg alg) {
  switch (alg) {
  case AQ_HASH_SHA256: return EVP_sha256();
  case AQ_HASH_SHA384: return EVP_sha384();
  default: return NULL;
  }
}

/** The OpenSSL digest name for alg, or NULL. */
static const char *hash_name(aq_hash_alg alg) {
  switch (alg) {
  case AQ_HASH_SHA256: return "SHA256";
  case AQ_HASH_SHA384: return "SHA384";
  default: return NULL;
  }
}

size_t aq_hash_len(aq_hash_alg alg) {
  switch (alg) {
  case AQ_HASH_SHA256: return AQ_SHA256_LEN;
  case AQ_HASH_SHA384: return AQ_SHA384_LEN;
  default: return 0;
  }
}

int aq_hash(aq_hash_alg alg, uint8_t *out, const uint8_t *data, size_t len) {
  const EVP_MD *md = hash_md(alg);
  unsigned int outl = 0;
  static const uint8_t empty[1] = {0};
  if (md == NULL || out == NULL || (data == NULL && len > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (EVP_Digest(len > 0 ? data : empty, len, out, &outl, md, NULL) != 1 ||
      outl != aq_hash_len(alg)) {
    aq_memzero(out, aq_hash_len(alg));
    return AQ_ERR_CRYPTO;
  }
  return 0;
}

int aq_hash_init(aq_hash_ctx *h, aq_hash_alg alg) {
  const EVP_MD *md = hash_md(alg);
  h->md = NULL;
  h->alg = alg;
  if (md == NULL) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx == NULL) {
    return AQ_ERR_NOMEM;
  }
  if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
    EVP_MD_CTX_free(ctx);
    return AQ_ERR_CRYPTO;
  }
  h->md = ctx;
  return 0;
}

int aq_hash_update(aq_hash_ctx *h, const uint8_t *data, size_t len) {
  if (h->md == NULL || (data == NULL && len > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (len == 0) {
    return 0;
  }
  return EVP_DigestUpdate(h->md, data, len) == 1 ? 0 : AQ_ERR_CRYPTO;
}

int aq_hash_peek(const aq_hash_ctx *h, uint8_t *out) {
  if (h->md == NULL) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  /* Finalise a copy so that the running state continues. */
  EVP_MD_CTX *tmp = EVP_MD_CTX_new();
  unsigned int outl = 0;
  int rv = 0;
  if (tmp == NULL) {
    return AQ_ERR_NOMEM;
  }
  if (EVP_MD_CTX_copy_ex(tmp, h->md) != 1 || EVP_DigestFinal_ex(tmp, out, &outl) != 1 ||
      outl != aq_hash_len(h->alg)) {
    rv = AQ_ERR_CRYPTO;
  }
  EVP_MD_CTX_free(tmp);
  return rv;
}

int aq_hash_dup(aq_hash_ctx *dst, const aq_hash_ctx *src) {
  dst->md = NULL;
  dst->alg = src->alg;
  if (src->md == NULL) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  if (ctx == NULL) {
    return AQ_ERR_NOMEM;
  }
  if (EVP_MD_CTX_copy_ex(ctx, src->md) != 1) {
    EVP_MD_CTX_free(ctx);
    return AQ_ERR_CRYPTO;
  }
  dst->md = ctx;
  return 0;
}

void aq_hash_free(aq_hash_ctx *h) {
  if (h->md != NULL) {
    EVP_MD_CTX_free(h->md); /* EVP_MD_CTX_free cleanses the state */
    h->md = NULL;
  }
}

/* ------------------------------------------------------------------ HMAC */

/** A fresh HMAC EVP_MAC_CTX keyed with key for alg; NULL on failure. */
static EVP_MAC_CTX *hmac_new(aq_hash_alg alg, const uint8_t *key, size_t keylen) {
  const char *name = hash_name(alg);
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = NULL;
  OSSL_PARAM params[2];
  /* A zero-length HMAC key equals an all-zero block key (RFC 2104 pads with zeros). */
  static const uint8_t zero_key[1] = {0};
  if (mac == NULL) {
    return NULL;
  }
  ctx = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac); /* the context keeps its own reference */
  if (ctx == NULL) {
    return NULL;
  }
  params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)(uintptr_t)name, 0);
  params[1] = OSSL_PARAM_construct_end();
  if (keylen == 0) {
    key = zero_key;
    keylen = 1;
  }
  if (EVP_MAC_init(ctx, key, keylen, params) != 1) {
    EVP_MAC_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

int aq_hmac(aq_hash_alg alg, uint8_t *out, const uint8_t *key, size_t keylen, const uint8_t *data,
            size_t len) {
  size_t hlen = aq_hash_len(alg);
  size_t outl = 0;
  int rv = 0;
  if (hlen == 0 || out == NULL || (key == NULL && keylen > 0) || (data == NULL && len > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  EVP_MAC_CTX *ctx = hmac_new(alg, key, keylen);
  if (ctx == NULL) {
    return AQ_ERR_CRYPTO;
  }
  if ((len > 0 && EVP_MAC_update(ctx, data, len) != 1) ||
      EVP_MAC_final(ctx, out, &outl, hlen) != 1 || outl != hlen) {
    aq_memzero(out, hlen);
    rv = AQ_ERR_CRYPTO;
  }
  EVP_MAC_CTX_free(ctx);
  return rv;
}

/* ------------------------------------------------------------------ HKDF */

int aq_hkdf_extract(aq_hash_alg alg, uint8_t *prk, const uint8_t *salt, size_t saltlen,
                    const uint8_t *ikm, size_t ikmlen) {
  static const uint8_t zeros[AQ_HASH_MAX_LEN] = {0};
  size_t hlen = aq_hash_len(alg);
  if (hlen == 0 || (salt == NULL && saltlen > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  /* RFC 5869 §2.2: "if not provided, [salt] is set to a string of HashLen zeros". */
  if (saltlen == 0) {
    salt = zeros;
    saltlen = hlen;
  }
  return aq_hmac(alg, prk, salt, saltlen, ikm, ikmlen);
}

int aq_hkdf_expand(aq_hash_alg alg, uint8_t *out, size_t outlen, const uint8_t *prk, size_t prklen,
                   const uint8_t *info, size_t infolen) {
  size_t hlen = aq_hash_len(alg);
  uint8_t t[AQ_HASH_MAX_LEN];
  size_t tlen = 0;
  size_t done = 0;
  int rv = 0;
  if (hlen == 0 || (out == NULL && outlen > 0) || (prk == NULL && prklen > 0) ||
      (info == NULL && infolen > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  /* RFC 5869 §2.3: "L  length of output keying material in octets (<= 255*HashLen)". */
  if (outlen > 255 * hlen) {
    return AQ_ERR_VALUE_RANGE;
  }
  /* T(i) = HMAC-Hash(PRK, T(i-1) | info | i), OKM = first L octets of T(1) | T(2) | ... */
  for (unsigned i = 1; done < outlen; i++) {
    uint8_t ctr = (uint8_t)i;
    size_t outl = 0;
    EVP_MAC_CTX *ctx = hmac_new(alg, prk, prklen);
    if (ctx == NULL) {
      rv = AQ_ERR_CRYPTO;
      goto out;
    }
    if ((tlen > 0 && EVP_MAC_update(ctx, t, tlen) != 1) ||
        (infolen > 0 && EVP_MAC_update(ctx, info, infolen) != 1) ||
        EVP_MAC_update(ctx, &ctr, 1) != 1 || EVP_MAC_final(ctx, t, &outl, sizeof(t)) != 1 ||
        outl != hlen) {
      EVP_MAC_CTX_free(ctx);
      rv = AQ_ERR_CRYPTO;
      goto out;
    }
    EVP_MAC_CTX_free(ctx);
    tlen = hlen;
    size_t n = outlen - done < hlen ? outlen - done : hlen;
    memcpy(out + done, t, n);
    done += n;
  }
out:
  aq_memzero(t, sizeof(t));
  if (rv != 0 && outlen > 0) {
    aq_memzero(out, outlen);
  }
  return rv;
}

int aq_hkdf_expand_label(aq_hash_alg alg, uint8_t *out, size_t outlen, const uint8_t *secret,
                         size_t secretlen, const char *label, const uint8_t *context,
                         size_t contextlen) {
  /*
   * RFC 8446 §7.1:
   *   struct {
   *       uint16 length = Length;
   *       opaque label<7..255> = "tls13 " + Label;
   *       opaque context<0..255> = Context;
   *   } HkdfLabel;
   */
  static const char prefix[] = "tls13 ";
  const size_t prefixlen = sizeof(prefix) - 1;
  uint8_t info[2 + 1 + 255 + 1 + 255];
  size_t labellen;
  size_t n = 0;
  if (label == NULL || (context == NULL && contextlen > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  labellen = strlen(label);
  if (labellen > 255 - prefixlen || contextlen > 255 || outlen > UINT16_MAX) {
    return AQ_ERR_VALUE_RANGE;
  }
  info[n++] = (uint8_t)(outlen >> 8);
  info[n++] = (uint8_t)outlen;
  info[n++] = (uint8_t)(prefixlen + labellen);
  memcpy(info + n, prefix, prefixlen);
  n += prefixlen;
  memcpy(info + n, label, labellen);
  n += labellen;
  info[n++] = (uint8_t)contextlen;
  if (contextlen > 0) {
    memcpy(info + n, context, contextlen);
    n += contextlen;
  }
  return aq_hkdf_expand(alg, out, outlen, secret, secretlen, info, n);
}
