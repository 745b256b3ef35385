/* aq_tls_ks.c - the TLS 1.3 key schedule (RFC 8446 §7.1, §7.5, §4.4.4, §4.6.1). */
#include "aq_tls_ks.h"

#include <string.h>

#include "aq_ct.h"

static const uint8_t zeros[AQ_HASH_MAX_LEN];

/** Early Secret (see header). */
int aq_tls_ks_init(aq_tls_ks *ks, aq_hash_alg hash, const uint8_t *psk, size_t psklen) {
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
  return aq_hkdf_extract(hash, ks->secret, zeros, ks->hlen, psk, psklen);
}

/** Derive-Secret with a given transcript hash (see header). */
int aq_tls_ks_derive(const aq_tls_ks *ks, uint8_t *out, const char *label, const uint8_t *thash) {
  return aq_hkdf_expand_label(ks->hash, out, ks->hlen, ks->secret, ks->hlen, label, thash,
                              ks->hlen);
}

/** Derive-Secret over an empty transcript (see header). */
int aq_tls_ks_derive_empty(const aq_tls_ks *ks, uint8_t *out, const char *label) {
  uint8_t h[AQ_HASH_MAX_LEN];
  int rv = aq_hash(ks->hash, h, NULL, 0);
  if (rv != 0) {
    return rv;
  }
  return aq_tls_ks_derive(ks, out, label, h);
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
    rv = aq_hkdf_extract(ks->hash, ks->secret, salt, ks->hlen, ikm, ikmlen);
  }
  aq_memzero(salt, sizeof(salt));
  return rv;
}

/** Finished verify_data (see header). */
int aq_tls_ks_finished(aq_hash_alg hash, uint8_t *verify_data, const uint8_t *base,
                       const uint8_t *thash) {
  uint8_t key[AQ_HASH_MAX_LEN];
  size_t hlen = aq_hash_len(hash);
  int rv = aq_hkdf_expand_label(hash, key, hlen, base, hlen, "finished", NULL, 0);
  if (rv == 0) {
    rv = aq_hmac(hash, verify_data, key, hlen, thash, hlen);
  }
  aq_memzero(key, sizeof(key));
  return rv;
}

/** Ticket PSK (see header). */
int aq_tls_ks_ticket_psk(aq_hash_alg hash, uint8_t *psk, const uint8_t *rms, const uint8_t *nonce,
                         size_t nonce_len) {
  size_t hlen = aq_hash_len(hash);
  return aq_hkdf_expand_label(hash, psk, hlen, rms, hlen, "resumption", nonce, nonce_len);
}

/** TLS-Exporter (see header). */
int aq_tls_ks_export(aq_hash_alg hash, uint8_t *out, size_t outlen, const uint8_t *exporter_secret,
                     const char *label, const uint8_t *context, size_t context_len) {
  aq_tls_ks tmp;
  uint8_t inner[AQ_HASH_MAX_LEN], ch[AQ_HASH_MAX_LEN];
  int rv;
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
