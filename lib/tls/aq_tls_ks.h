/*
 * aq_tls_ks.h - the TLS 1.3 key schedule (RFC 8446 §7.1) as pure functions
 * over caller-held secrets.  The engine keeps the running secret (early ->
 * handshake -> master) in an aq_tls_ks and the transcript hashes itself.
 *
 *           0 -> HKDF-Extract(salt 0, PSK or 0) = Early Secret
 *   Derive-Secret(., "derived", "") -> HKDF-Extract(., (EC)DHE) = Handshake Secret
 *   Derive-Secret(., "derived", "") -> HKDF-Extract(., 0) = Master Secret
 *
 * Key update for QUIC ("quic ku") lives in aq_crypto (aq_quic_next_secret).
 */
#ifndef AQ_TLS_KS_H
#define AQ_TLS_KS_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_crypto.h"

/** The running secret of a key schedule. */
typedef struct aq_tls_ks {
  const aq_crypto_algs *algs; /* fetched digests (lent; NULL: looked up each time) */
  aq_hash_alg hash;
  size_t hlen;
  uint8_t secret[AQ_HASH_MAX_LEN]; /* early, then handshake, then master secret */
} aq_tls_ks;

/** Early Secret = HKDF-Extract(0, psk); psk NULL = hlen zero bytes.  algs may be NULL. */
AQ_MUST_CHECK int aq_tls_ks_init(aq_tls_ks *ks, const aq_crypto_algs *algs, aq_hash_alg hash,
                                 const uint8_t *psk, size_t psklen);
/** Move to the next stage: secret = HKDF-Extract(Derive-Secret(secret, "derived", ""), ikm); ikm
 * NULL = zeros. */
AQ_MUST_CHECK int aq_tls_ks_advance(aq_tls_ks *ks, const uint8_t *ikm, size_t ikmlen);
/** Derive-Secret(secret, label, Messages) given thash = Transcript-Hash(Messages). */
AQ_MUST_CHECK int aq_tls_ks_derive(const aq_tls_ks *ks, uint8_t *out, const char *label,
                                   const uint8_t *thash);
/**
 * aq_tls_ks_derive for n (at most 4) labels over one thash, keying the HMAC
 * once: outs[i] = Derive-Secret(secret, labels[i], Messages).
 */
AQ_MUST_CHECK int aq_tls_ks_derive_n(const aq_tls_ks *ks, const uint8_t *thash,
                                     const char *const *labels, uint8_t *const *outs, size_t n);
/** The handshake traffic secrets ("c hs traffic", "s hs traffic") over thash. */
AQ_MUST_CHECK int aq_tls_ks_derive_hs(const aq_tls_ks *ks, const uint8_t *thash, uint8_t *c_hs,
                                      uint8_t *s_hs);
/** Derive-Secret(secret, label, "") (uses Hash("")). */
AQ_MUST_CHECK int aq_tls_ks_derive_empty(const aq_tls_ks *ks, uint8_t *out, const char *label);
/** verify_data = HMAC(HKDF-Expand-Label(base, "finished", "", hlen), thash) (§4.4.4). */
AQ_MUST_CHECK int aq_tls_ks_finished(const aq_crypto_algs *algs, aq_hash_alg hash,
                                     uint8_t *verify_data, const uint8_t *base,
                                     const uint8_t *thash);
/** Resumption PSK = HKDF-Expand-Label(rms, "resumption", nonce, hlen) (§4.6.1). */
AQ_MUST_CHECK int aq_tls_ks_ticket_psk(const aq_crypto_algs *algs, aq_hash_alg hash, uint8_t *psk,
                                       const uint8_t *rms, const uint8_t *nonce, size_t nonce_len);
/**
 * TLS-Exporter(label, context, outlen) from an exporter secret (§7.5):
 * HKDF-Expand-Label(Derive-Secret(secret, label, ""), "exporter", Hash(context), outlen).
 */
AQ_MUST_CHECK int aq_tls_ks_export(aq_hash_alg hash, uint8_t *out, size_t outlen,
                                   const uint8_t *exporter_secret, const char *label,
                                   const uint8_t *context, size_t context_len);
/** Zero the running secret. */
void aq_tls_ks_free(aq_tls_ks *ks);

#endif /* AQ_TLS_KS_H */
