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

#include <openssl/evp.h>

#include "aq_crypto.h"
#include "aq_crypto_int.h"
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

/*
 * HMAC (RFC 2104) is composed here from OpenSSL's SHA-2 digests rather than
 * through EVP_MAC: OpenSSL 3.0's EVP_MAC path fetches the MAC, allocates its
 * context, and fetches the digest again by name for every HMAC (about
 * 1.4 us), while one fetched EVP_MD and one EVP_MD_CTX serve both passes and
 * every HKDF-Expand block here (about 0.6 us).  The hash itself stays
 * OpenSSL's.
 */

/** Largest digest block size (SHA-384: 128 bytes). */
#define HMAC_MAX_BLOCK 128u

/** One HMAC key's state: the fetched digest, a digest context and both padded keys. */
typedef struct hmac_key {
  EVP_MD *md;
  int md_owned; /* fetched here (else lent by an aq_crypto_algs) */
  EVP_MD_CTX *ctx;
  size_t hlen;
  size_t block;
  uint8_t ipad[HMAC_MAX_BLOCK]; /* K ^ 0x36.. (secret) */
  uint8_t opad[HMAC_MAX_BLOCK]; /* K ^ 0x5c.. (secret) */
} hmac_key;

/** Release h and zero its padded keys. */
static void hmac_key_free(hmac_key *h) {
  aq_memzero(h->ipad, sizeof(h->ipad));
  aq_memzero(h->opad, sizeof(h->opad));
  EVP_MD_CTX_free(h->ctx); /* cleanses the digest state */
  if (h->md_owned) {
    EVP_MD_free(h->md);
  }
  h->ctx = NULL;
  h->md = NULL;
}

/**
 * Set h up for HMAC-alg under key.  RFC 2104 §2: a key longer than the block
 * is hashed first; a shorter one (an empty one included) is padded with
 * zeros to the block size.  On failure everything is released.
 */
static int hmac_key_init(hmac_key *h, const aq_crypto_algs *algs, aq_hash_alg alg,
                         const uint8_t *key, size_t keylen) {
  const char *name = hash_name(alg);
  uint8_t k[HMAC_MAX_BLOCK];
  int rv = AQ_ERR_CRYPTO;
  memset(h, 0, sizeof(*h));
  h->hlen = aq_hash_len(alg);
  if (name == NULL) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (algs != NULL) {
    h->md = algs->md[alg - 1];
  } else {
    h->md = EVP_MD_fetch(NULL, name, NULL);
    h->md_owned = 1;
  }
  h->ctx = EVP_MD_CTX_new();
  if (h->md == NULL || h->ctx == NULL) {
    goto out;
  }
  int bs = EVP_MD_get_block_size(h->md);
  if (bs <= 0 || (size_t)bs > HMAC_MAX_BLOCK || (size_t)bs < h->hlen) {
    goto out;
  }
  h->block = (size_t)bs;
  memset(k, 0, sizeof(k));
  if (keylen > h->block) {
    unsigned int outl = 0;
    if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1 || EVP_DigestUpdate(h->ctx, key, keylen) != 1 ||
        EVP_DigestFinal_ex(h->ctx, k, &outl) != 1 || outl != h->hlen) {
      goto out;
    }
  } else if (keylen > 0) {
    memcpy(k, key, keylen);
  }
  for (size_t i = 0; i < h->block; i++) {
    h->ipad[i] = (uint8_t)(k[i] ^ 0x36u);
    h->opad[i] = (uint8_t)(k[i] ^ 0x5cu);
  }
  rv = 0;
out:
  aq_memzero(k, sizeof(k));
  if (rv != 0) {
    hmac_key_free(h);
  }
  return rv;
}

/** Start one MAC under h (the inner hash over K ^ ipad). */
static int hmac_start(hmac_key *h) {
  return EVP_DigestInit_ex(h->ctx, h->md, NULL) == 1 &&
                 EVP_DigestUpdate(h->ctx, h->ipad, h->block) == 1
             ? 0
             : AQ_ERR_CRYPTO;
}

/** Absorb len bytes of the message (len may be 0). */
static int hmac_update(hmac_key *h, const uint8_t *data, size_t len) {
  if (len == 0) {
    return 0;
  }
  return EVP_DigestUpdate(h->ctx, data, len) == 1 ? 0 : AQ_ERR_CRYPTO;
}

/** Finish the MAC: out (hlen bytes) = H(K ^ opad || H(K ^ ipad || message)). */
static int hmac_finish(hmac_key *h, uint8_t *out) {
  uint8_t inner[AQ_HASH_MAX_LEN];
  unsigned int outl = 0;
  int ok = EVP_DigestFinal_ex(h->ctx, inner, &outl) == 1 && outl == h->hlen &&
           EVP_DigestInit_ex(h->ctx, h->md, NULL) == 1 &&
           EVP_DigestUpdate(h->ctx, h->opad, h->block) == 1 &&
           EVP_DigestUpdate(h->ctx, inner, h->hlen) == 1 &&
           EVP_DigestFinal_ex(h->ctx, out, &outl) == 1 && outl == h->hlen;
  aq_memzero(inner, sizeof(inner));
  return ok ? 0 : AQ_ERR_CRYPTO;
}

int aq_hmac(aq_hash_alg alg, uint8_t *out, const uint8_t *key, size_t keylen, const uint8_t *data,
            size_t len) {
  return aq_hmac_a(NULL, alg, out, key, keylen, data, len);
}

int aq_hmac_a(const aq_crypto_algs *algs, aq_hash_alg alg, uint8_t *out, const uint8_t *key,
              size_t keylen, const uint8_t *data, size_t len) {
  size_t hlen = aq_hash_len(alg);
  hmac_key h;
  if (hlen == 0 || out == NULL || (key == NULL && keylen > 0) || (data == NULL && len > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  int rv = hmac_key_init(&h, algs, alg, key, keylen);
  if (rv != 0) {
    return rv;
  }
  rv = hmac_start(&h);
  if (rv == 0) {
    rv = hmac_update(&h, data, len);
  }
  if (rv == 0) {
    rv = hmac_finish(&h, out);
  }
  if (rv != 0) {
    aq_memzero(out, hlen);
  }
  hmac_key_free(&h);
  return rv;
}

/* ------------------------------------------------------------------ HKDF */

int aq_hkdf_extract(aq_hash_alg alg, uint8_t *prk, const uint8_t *salt, size_t saltlen,
                    const uint8_t *ikm, size_t ikmlen) {
  return aq_hkdf_extract_a(NULL, alg, prk, salt, saltlen, ikm, ikmlen);
}

int aq_hkdf_extract_a(const aq_crypto_algs *algs, aq_hash_alg alg, uint8_t *prk,
                      const uint8_t *salt, size_t saltlen, const uint8_t *ikm, size_t ikmlen) {
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
  return aq_hmac_a(algs, alg, prk, salt, saltlen, ikm, ikmlen);
}

/*
 * HKDF-Expand under an HMAC key already set up: T(i) = HMAC-Hash(PRK,
 * T(i-1) | info | i), OKM = the first outlen bytes of T(1) | T(2) | ...
 * (one keyed state serves every block).  out is zeroed on failure.
 */
static int hkdf_expand_with(hmac_key *h, uint8_t *out, size_t outlen, const uint8_t *info,
                            size_t infolen) {
  uint8_t t[AQ_HASH_MAX_LEN];
  size_t tlen = 0, done = 0;
  int rv = 0;
  for (unsigned i = 1; done < outlen; i++) {
    uint8_t ctr = (uint8_t)i;
    rv = hmac_start(h);
    if (rv == 0) {
      rv = hmac_update(h, t, tlen);
    }
    if (rv == 0) {
      rv = hmac_update(h, info, infolen);
    }
    if (rv == 0) {
      rv = hmac_update(h, &ctr, 1);
    }
    if (rv == 0) {
      rv = hmac_finish(h, t);
    }
    if (rv != 0) {
      break;
    }
    tlen = h->hlen;
    size_t n = outlen - done < h->hlen ? outlen - done : h->hlen;
    memcpy(out + done, t, n);
    done += n;
  }
  aq_memzero(t, sizeof(t));
  if (rv != 0 && outlen > 0) {
    aq_memzero(out, outlen);
  }
  return rv;
}

int aq_hkdf_expand(aq_hash_alg alg, uint8_t *out, size_t outlen, const uint8_t *prk, size_t prklen,
                   const uint8_t *info, size_t infolen) {
  size_t hlen = aq_hash_len(alg);
  hmac_key h;
  if (hlen == 0 || (out == NULL && outlen > 0) || (prk == NULL && prklen > 0) ||
      (info == NULL && infolen > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  /* RFC 5869 §2.3: "L  length of output keying material in octets (<= 255*HashLen)". */
  if (outlen > 255 * hlen) {
    return AQ_ERR_VALUE_RANGE;
  }
  int rv = hmac_key_init(&h, NULL, alg, prk, prklen);
  if (rv != 0) {
    if (outlen > 0) {
      aq_memzero(out, outlen);
    }
    return rv;
  }
  rv = hkdf_expand_with(&h, out, outlen, info, infolen);
  hmac_key_free(&h);
  return rv;
}

/*
 * The HkdfLabel of RFC 8446 §7.1 into info (at least 514 bytes); its length,
 * or a negative error:
 *   struct {
 *       uint16 length = Length;
 *       opaque label<7..255> = "tls13 " + Label;
 *       opaque context<0..255> = Context;
 *   } HkdfLabel;
 */
static int hkdf_label(uint8_t *info, size_t outlen, const char *label, const uint8_t *context,
                      size_t contextlen) {
  static const char prefix[] = "tls13 ";
  const size_t prefixlen = sizeof(prefix) - 1;
  size_t n = 0;
  if (label == NULL || (context == NULL && contextlen > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  size_t labellen = strlen(label);
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
  return (int)n;
}

/* Longest HkdfLabel: length, label<7..255>, context<0..255>. */
#define HKDF_LABEL_MAX (2 + 1 + 255 + 1 + 255)

int aq_hkdf_expand_label(aq_hash_alg alg, uint8_t *out, size_t outlen, const uint8_t *secret,
                         size_t secretlen, const char *label, const uint8_t *context,
                         size_t contextlen) {
  uint8_t info[HKDF_LABEL_MAX];
  int n = hkdf_label(info, outlen, label, context, contextlen);
  if (n < 0) {
    return n;
  }
  return aq_hkdf_expand(alg, out, outlen, secret, secretlen, info, (size_t)n);
}

int aq_hkdf_expand_labels(aq_hash_alg alg, const uint8_t *secret, size_t secretlen,
                          const aq_hkdf_label *labels, size_t nlabels) {
  return aq_hkdf_expand_labels_a(NULL, alg, secret, secretlen, labels, nlabels);
}

int aq_hkdf_expand_labels_a(const aq_crypto_algs *algs, aq_hash_alg alg, const uint8_t *secret,
                            size_t secretlen, const aq_hkdf_label *labels, size_t nlabels) {
  size_t hlen = aq_hash_len(alg);
  uint8_t info[HKDF_LABEL_MAX];
  hmac_key h;
  if (hlen == 0 || (secret == NULL && secretlen > 0) || (labels == NULL && nlabels > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < nlabels; i++) {
    if (labels[i].out == NULL) {
      return AQ_ERR_INVALID_ARGUMENT;
    }
  }
  /* One keyed HMAC state for every label: the secret is the key of them all. */
  int rv = hmac_key_init(&h, algs, alg, secret, secretlen); /* h is set up or zeroed */
  for (size_t i = 0; i < nlabels && rv == 0; i++) {
    int n = hkdf_label(info, labels[i].outlen, labels[i].label, labels[i].context,
                       labels[i].contextlen);
    if (n < 0) {
      rv = n;
    } else if (labels[i].outlen > 255 * hlen) {
      rv = AQ_ERR_VALUE_RANGE; /* RFC 5869 §2.3: L <= 255 * HashLen */
    } else {
      rv = hkdf_expand_with(&h, labels[i].out, labels[i].outlen, info, (size_t)n);
    }
  }
  hmac_key_free(&h);
  for (size_t i = 0; rv != 0 && i < nlabels; i++) {
    aq_memzero(labels[i].out, labels[i].outlen);
  }
  return rv;
}
