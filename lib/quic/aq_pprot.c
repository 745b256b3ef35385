/*
 * aq_pprot.c - QUIC packet protection on a whole packet buffer
 * (RFC 9001 §5.3-5.4, §5.8).  See aq_pprot.h for the packet layout.
 */
#include "aq_pprot.h"

#include <string.h>

#include "aq_ct.h"

/* aq_pprot_init_keys with the ciphers from algs (NULL: looked up). */
static int init_keys_a(aq_pprot *pp, const aq_crypto_algs *algs, aq_aead_alg alg,
                       const uint8_t *key, const uint8_t iv[AQ_AEAD_NONCE_LEN],
                       const uint8_t *hp) {
  int rv;
  memset(pp, 0, sizeof(*pp));
  if (aq_aead_key_len(alg) == 0 || key == NULL || iv == NULL || hp == NULL) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  pp->algs = algs;
  rv = aq_aead_init_a(&pp->aead, algs, alg, key);
  if (rv != 0) {
    return rv;
  }
  rv = aq_hp_init_a(&pp->hp, algs, alg, hp);
  if (rv != 0) {
    aq_aead_free(&pp->aead);
    return rv;
  }
  memcpy(pp->iv, iv, AQ_AEAD_NONCE_LEN);
  return 0;
}

int aq_pprot_init_keys(aq_pprot *pp, aq_aead_alg alg, const uint8_t *key,
                       const uint8_t iv[AQ_AEAD_NONCE_LEN], const uint8_t *hp) {
  return init_keys_a(pp, NULL, alg, key, iv, hp);
}

int aq_pprot_init(aq_pprot *pp, aq_aead_alg alg, aq_hash_alg hash, const uint8_t *secret,
                  size_t secretlen, uint32_t version) {
  return aq_pprot_init_a(pp, NULL, alg, hash, secret, secretlen, version);
}

int aq_pprot_init_a(aq_pprot *pp, const aq_crypto_algs *algs, aq_aead_alg alg, aq_hash_alg hash,
                    const uint8_t *secret, size_t secretlen, uint32_t version) {
  uint8_t key[AQ_AEAD_MAX_KEY_LEN], iv[AQ_AEAD_NONCE_LEN], hp[AQ_AEAD_MAX_KEY_LEN];
  int rv;
  memset(pp, 0, sizeof(*pp));
  rv = aq_quic_derive_keys_a(algs, key, iv, hp, hash, alg, secret, secretlen, version);
  if (rv == 0) {
    rv = init_keys_a(pp, algs, alg, key, iv, hp);
  }
  aq_memzero(key, sizeof(key));
  aq_memzero(iv, sizeof(iv));
  aq_memzero(hp, sizeof(hp));
  return rv;
}

int aq_pprot_rekey(aq_pprot *pp, aq_hash_alg hash, const uint8_t *next_secret, size_t secretlen,
                   uint32_t version) {
  uint8_t key[AQ_AEAD_MAX_KEY_LEN], iv[AQ_AEAD_NONCE_LEN], hp[AQ_AEAD_MAX_KEY_LEN];
  aq_aead next;
  aq_aead_alg alg = pp->aead.alg;
  int rv = aq_quic_derive_keys_a(pp->algs, key, iv, hp, hash, alg, next_secret, secretlen, version);
  if (rv == 0) {
    rv = aq_aead_init_a(&next, pp->algs, alg, key);
  }
  if (rv == 0) {
    /* Commit only after everything succeeded. */
    aq_aead_free(&pp->aead);
    pp->aead = next;
    memcpy(pp->iv, iv, AQ_AEAD_NONCE_LEN);
  }
  aq_memzero(key, sizeof(key));
  aq_memzero(iv, sizeof(iv));
  aq_memzero(hp, sizeof(hp));
  return rv;
}

int aq_pprot_init_initial(aq_pprot *tx, aq_pprot *rx, const uint8_t *dcid, size_t dcidlen,
                          uint32_t version, int is_server) {
  uint8_t cs[AQ_SHA256_LEN], ss[AQ_SHA256_LEN];
  int rv;
  memset(tx, 0, sizeof(*tx));
  memset(rx, 0, sizeof(*rx));
  rv = aq_quic_initial_secrets(cs, ss, dcid, dcidlen, version);
  if (rv == 0) {
    rv = aq_pprot_init(tx, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, is_server ? ss : cs, AQ_SHA256_LEN,
                       version);
  }
  if (rv == 0) {
    rv = aq_pprot_init(rx, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, is_server ? cs : ss, AQ_SHA256_LEN,
                       version);
    if (rv != 0) {
      aq_pprot_free(tx);
    }
  }
  aq_memzero(cs, sizeof(cs));
  aq_memzero(ss, sizeof(ss));
  return rv;
}

void aq_pprot_free(aq_pprot *pp) {
  aq_aead_free(&pp->aead);
  aq_hp_free(&pp->hp);
  aq_memzero(pp->iv, sizeof(pp->iv));
}

/*
 * RFC 9001 §5.3: "The 62 bits of the reconstructed QUIC packet number in
 * network byte order are left-padded with zeros to the size of the IV.
 * The exclusive OR of the padded packet number and the IV forms the AEAD
 * nonce."
 */
static void pprot_nonce(uint8_t nonce[AQ_AEAD_NONCE_LEN], const aq_pprot *pp, uint64_t pn) {
  memcpy(nonce, pp->iv, AQ_AEAD_NONCE_LEN);
  for (size_t i = 0; i < 8; i++) {
    nonce[AQ_AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(pn >> (8 * i));
  }
}

/* RFC 9001 §5.4.1: 4 bits are protected in a long header, 5 in a short header. */
static uint8_t first_byte_mask(uint8_t first) {
  return (first & 0x80) ? 0x0f : 0x1f;
}

int aq_pprot_seal(aq_pprot *pp, uint8_t *pkt, size_t pktlen, size_t hdrlen, size_t pn_offset,
                  size_t pn_len, uint64_t pn) {
  uint8_t nonce[AQ_AEAD_NONCE_LEN];
  uint8_t mask[AQ_HP_MASK_LEN];
  aq_ssize n;
  int rv;
  if (pkt == NULL || pn_len < 1 || pn_len > AQ_PPROT_MAX_PN_LEN || pn_offset < 1 ||
      hdrlen != pn_offset + pn_len) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (pktlen < hdrlen + AQ_AEAD_TAG_LEN ||
      pktlen < pn_offset + AQ_PPROT_SAMPLE_OFFSET + AQ_HP_SAMPLE_LEN) {
    return AQ_ERR_BUFFER_TOO_SMALL;
  }
  pprot_nonce(nonce, pp, pn);
  /* Payload in place; the tag goes in the room the caller left at the end. */
  n = aq_aead_seal(&pp->aead, pkt + hdrlen, pktlen - hdrlen, nonce, pkt, hdrlen, pkt + hdrlen,
                   pktlen - hdrlen - AQ_AEAD_TAG_LEN);
  if (n < 0) {
    return (int)n;
  }
  /* RFC 9001 §5.4.2: sample_offset = pn_offset + 4. */
  rv = aq_hp_mask(&pp->hp, mask, pkt + pn_offset + AQ_PPROT_SAMPLE_OFFSET);
  if (rv != 0) {
    return rv;
  }
  pkt[0] ^= (uint8_t)(mask[0] & first_byte_mask(pkt[0]));
  for (size_t i = 0; i < pn_len; i++) {
    pkt[pn_offset + i] ^= mask[1 + i];
  }
  return 0;
}

int aq_pprot_unprotect_header(aq_pprot *pp, uint8_t *pkt, size_t pktlen, size_t pn_offset,
                              size_t *pn_len, uint64_t *truncated_pn) {
  uint8_t mask[AQ_HP_MASK_LEN];
  uint8_t first;
  size_t len;
  uint64_t v = 0;
  int rv;
  if (pkt == NULL || pn_len == NULL || truncated_pn == NULL || pn_offset < 1) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  /* The sample must lie inside the packet (RFC 9001 §5.4.2). */
  if (pktlen < pn_offset + AQ_PPROT_SAMPLE_OFFSET + AQ_HP_SAMPLE_LEN) {
    return AQ_ERR_TRUNCATED;
  }
  rv = aq_hp_mask(&pp->hp, mask, pkt + pn_offset + AQ_PPROT_SAMPLE_OFFSET);
  if (rv != 0) {
    return rv;
  }
  first = (uint8_t)(pkt[0] ^ (mask[0] & first_byte_mask(pkt[0])));
  len = (size_t)(first & 0x03) + 1; /* pn_length = (packet[0] & 0x03) + 1 */
  pkt[0] = first;
  for (size_t i = 0; i < len; i++) {
    pkt[pn_offset + i] ^= mask[1 + i];
    v = (v << 8) | pkt[pn_offset + i];
  }
  *pn_len = len;
  *truncated_pn = v;
  return 0;
}

aq_ssize aq_pprot_open(aq_pprot *pp, uint8_t *pkt, size_t pktlen, size_t hdrlen, uint64_t pn) {
  uint8_t nonce[AQ_AEAD_NONCE_LEN];
  if (pkt == NULL || hdrlen < 1) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (pktlen < hdrlen + AQ_AEAD_TAG_LEN) {
    return AQ_ERR_TRUNCATED;
  }
  pprot_nonce(nonce, pp, pn);
  return aq_aead_open(&pp->aead, pkt + hdrlen, pktlen - hdrlen, nonce, pkt, hdrlen, pkt + hdrlen,
                      pktlen - hdrlen);
}

int aq_pprot_retry_tag(uint8_t tag[AQ_PPROT_RETRY_TAG_LEN], uint32_t version, const uint8_t *odcid,
                       size_t odcidlen, const uint8_t *retry, size_t retrylen) {
  if (odcidlen > AQ_PPROT_MAX_CID_LEN) {
    return AQ_ERR_VALUE_RANGE;
  }
  return aq_quic_retry_tag(tag, version, odcid, odcidlen, retry, retrylen);
}

int aq_pprot_retry_verify(uint32_t version, const uint8_t *odcid, size_t odcidlen,
                          const uint8_t *retry, size_t retrylen) {
  uint8_t tag[AQ_PPROT_RETRY_TAG_LEN];
  int rv;
  if (retry == NULL || retrylen < AQ_PPROT_RETRY_TAG_LEN) {
    return AQ_ERR_TRUNCATED;
  }
  rv = aq_pprot_retry_tag(tag, version, odcid, odcidlen, retry, retrylen - AQ_PPROT_RETRY_TAG_LEN);
  if (rv != 0) {
    return rv;
  }
  if (!aq_ct_memeq(tag, retry + retrylen - AQ_PPROT_RETRY_TAG_LEN, AQ_PPROT_RETRY_TAG_LEN)) {
    return AQ_ERR_VERIFY;
  }
  return 0;
}
