/* aq_tls_ks.c - the TLS 1.3 key schedule (RFC 8446 §7.1, §7.5, §4.4.4, §4.6.1). */
#include "aq_tls_ks.h"

#include <string.h>

#include "aq_ct.h"

static const uint8_t zeros[AQ_HASH_MAX_LEN];

/** Early Secret (see header). */
int aq_tls_ks_init(aq_tls_ks *ks, const aq_crypto_algs *algs, aq_hash_alg hash,
                   const uint8_t *psk, size_t psklen) {
  ks->algs = algs;
  ks->hash = hash;
  ks->hlen = aq_hash_len(hash);
  if (ks->hlen == 0) {
    return AQ_ERR_UNSUPPORTED;
  }
  if (psk == NULL) {
    psk = zeros;
    psklen = ks->hlen;
  }
  /* "0" as the salt: hlen zero bytes (HKDF treats a zero salt the same). */
  return aq_hkdf_extract_a(algs, hash, ks->secret, zeros, ks->hlen, psk, psklen);
}

/** Derive-Secret with a given transcript hash (see header). */
int aq_tls_ks_derive(const aq_tls_ks *ks, uint8_t *out, const char *label, const uint8_t *thash) {
  return aq_tls_ks_derive_n(ks, thash, &label, &out, 1);
}

/** Several Derive-Secret outputs over one transcript hash (see header). */
int aq_tls_ks_derive_n(const aq_tls_ks *ks, const uint8_t *thash, const char *const *labels,
                       uint8_t *const *outs, size_t n) {
  aq_hkdf_label l[4];
  if (n > 4) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < n; i++) {
    l[i] = (aq_hkdf_label){labels[i], thash, ks->hlen, outs[i], ks->hlen};
  }
  return aq_hkdf_expand_labels_a(ks->algs, ks->hash, ks->secret, ks->hlen, l, n);
}

/** Handshake traffic secrets (see header). */
int aq_tls_ks_derive_hs(const aq_tls_ks *ks, const uint8_t *thash, uint8_t *c_hs, uint8_t *s_hs) {
  static const char *const labels[2] = {"c hs traffic", "s hs traffic"};
  uint8_t *const outs[2] = {c_hs, s_hs};
  return aq_tls_ks_derive_n(ks, thash, labels, outs, 2);
}

/** Derive-Secret over an empty transcript (see header). */
int aq_tls_ks_derive_empty(const aq_tls_ks *ks, uint8_t *out, const char *label) {
  /* Hash("") for SHA-256 and SHA-384 (FIPS 180-4 test values; test_tls_ks checks them). */
  static const uint8_t sha256_empty[AQ_SHA256_LEN] = {
      0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8,
      0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c,
      0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
  static const uint8_t sha384_empty[AQ_SHA384_LEN] = {
      0x38, 0xb0, 0x60, 0xa7, 0x51, 0xac, 0x96, 0x38, 0x4c, 0xd9, 0x32, 0x7e,
      0xb1, 0xb1, 0xe3, 0x6a, 0x21, 0xfd, 0xb7, 0x11, 0x14, 0xbe, 0x07, 0x43,
      0x4c, 0x0c, 0xc7, 0xbf, 0x63, 0xf6, 0xe1, 0xda, 0x27, 0x4e, 0xde, 0xbf,
      0xe7, 0x6f, 0x65, 0xfb, 0xd5, 0x1a, 0xd2, 0xf1, 0x48, 0x98, 0xb9, 0x5b};
  switch (ks->hash) {
  case AQ_HASH_SHA256: return aq_tls_ks_derive(ks, out, label, sha256_empty);
  case AQ_HASH_SHA384: return aq_tls_ks_derive(ks, out, label, sha384_empty);
  default: return AQ_ERR_UNSUPPORTED;
  }
}

/** Next stage of the schedule (see header). */
int aq_tls_ks_advance(aq_tls_ks *ks, const uint8_t *ikm, size_t ikmlen) {
  uint8_t salt[AQ_HASH_MAX_LEN];
  int rv = aq_tls_ks_derive_empty(ks, salt, "derived");
  if (rv == 0) {
    if (ikm == NULL) {
      ikm = zeros;
      ikmlen = ks->hlen;
    }
    rv = aq_hkdf_extract_a(ks->algs, ks->hash, ks->secret, salt, ks->hlen, ikm, ikmlen);
  }
  aq_memzero(salt, sizeof(salt));
  return rv;
}

/** Finished verify_data (see header). */
int aq_tls_ks_finished(const aq_crypto_algs *algs, aq_hash_alg hash, uint8_t *verify_data,
                       const uint8_t *base, const uint8_t *thash) {
  uint8_t key[AQ_HASH_MAX_LEN];
  size_t hlen = aq_hash_len(hash);
  const aq_hkdf_label fk = {"finished", NULL, 0, key, hlen};
  int rv = aq_hkdf_expand_labels_a(algs, hash, base, hlen, &fk, 1);
  if (rv == 0) {
    rv = aq_hmac_a(algs, hash, verify_data, key, hlen, thash, hlen);
  }
  aq_memzero(key, sizeof(key));
  return rv;
}

/** Ticket PSK (see header). */
int aq_tls_ks_ticket_psk(const aq_crypto_algs *algs, aq_hash_alg hash, uint8_t *psk,
                         const uint8_t *rms, const uint8_t *nonce, size_t nonce_len) {
  size_t hlen = aq_hash_len(hash);
  const aq_hkdf_label l = {"resumption", nonce, nonce_len, psk, hlen};
  return aq_hkdf_expand_labels_a(algs, hash, rms, hlen, &l, 1);
}

/** TLS-Exporter (see header). */
int aq_tls_ks_export(aq_hash_alg hash, uint8_t *out, size_t outlen, const uint8_t *exporter_secret,
                     const char *label, const uint8_t *context, size_t context_len) {
  aq_tls_ks tmp;
  uint8_t inner[AQ_HASH_MAX_LEN], ch[AQ_HASH_MAX_LEN];
  int rv;
  tmp.algs = NULL;
  tmp.hash = hash;
  tmp.hlen = aq_hash_len(hash);
  if (tmp.hlen == 0) {
    return AQ_ERR_UNSUPPORTED;
  }
  memcpy(tmp.secret, exporter_secret, tmp.hlen);
  rv = aq_tls_ks_derive_empty(&tmp, inner, label);
  if (rv == 0) {
    rv = aq_hash(hash, ch, context, context_len);
  }
  if (rv == 0) {
    rv = aq_hkdf_expand_label(hash, out, outlen, inner, tmp.hlen, "exporter", ch, tmp.hlen);
  }
  aq_memzero(&tmp, sizeof(tmp));
  aq_memzero(inner, sizeof(inner));
  return rv;
}

/** Zero the running secret (see header). */
void aq_tls_ks_free(aq_tls_ks *ks) {
  aq_memzero(ks->secret, sizeof(ks->secret));
}
