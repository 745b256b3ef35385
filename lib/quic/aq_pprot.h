/*
 * aq_pprot.h - QUIC packet protection on a whole packet buffer
 * (RFC 9001 §5.3 AEAD, §5.4 header protection, §5.8 Retry integrity).
 *
 * One aq_pprot holds the keys of one direction at one encryption level:
 * the keyed AEAD, the static IV and the keyed header-protection cipher.
 * The contexts are created once in aq_pprot_init; sealing and opening a
 * packet allocates nothing.
 *
 * Packet layout handled here (the caller has encoded / parsed the header):
 *
 *   pkt[0 .. pn_offset)                    header up to the packet number
 *   pkt[pn_offset .. pn_offset + pn_len)   packet number (1-4 bytes)
 *   pkt[hdrlen .. pktlen - 16)             payload (hdrlen = pn_offset + pn_len)
 *   pkt[pktlen - 16 .. pktlen)             AEAD tag
 *
 * For a long header, pktlen is where the Length field says the packet ends
 * (a datagram may hold several packets); for a short header it is the end
 * of the datagram.
 */
#ifndef AQ_PPROT_H
#define AQ_PPROT_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_crypto.h"

/* RFC 9001 §5.4.2: the sample starts 4 bytes after the start of the packet number. */
#define AQ_PPROT_SAMPLE_OFFSET 4
#define AQ_PPROT_MAX_PN_LEN 4
#define AQ_PPROT_RETRY_TAG_LEN 16
/* RFC 9000 §17.2: a connection ID is at most 20 bytes in QUIC v1 (and v2). */
#define AQ_PPROT_MAX_CID_LEN 20

/** The keys of one direction at one encryption level. */
typedef struct aq_pprot {
  aq_aead aead;
  uint8_t iv[AQ_AEAD_NONCE_LEN];
  aq_hp hp;
  const aq_crypto_algs *algs; /* lent (aq_pprot_init_a), also used by aq_pprot_rekey; may be NULL */
} aq_pprot;

/**
 * Derive key, IV and header-protection key from a traffic secret
 * (RFC 9001 §5.1; the "quicv2 " labels for version AQ_QUIC_V2) and key the
 * contexts.  secret is not kept.  Errors: AQ_ERR_UNSUPPORTED (unknown
 * version), AQ_ERR_INVALID_ARGUMENT (unknown alg or hash), AQ_ERR_CRYPTO or
 * AQ_ERR_NOMEM (OpenSSL failed).  On error pp needs no aq_pprot_free.
 */
AQ_MUST_CHECK int aq_pprot_init(aq_pprot *pp, aq_aead_alg alg, aq_hash_alg hash,
                                const uint8_t *secret, size_t secretlen, uint32_t version);
/** aq_pprot_init with the algorithms fetched in algs (NULL: looked up); algs must outlive pp. */
AQ_MUST_CHECK int aq_pprot_init_a(aq_pprot *pp, const aq_crypto_algs *algs, aq_aead_alg alg,
                                  aq_hash_alg hash, const uint8_t *secret, size_t secretlen,
                                  uint32_t version);

/**
 * Key pp from raw keys: key and hp hold aq_aead_key_len(alg) bytes.  Same
 * errors as aq_pprot_init.
 */
AQ_MUST_CHECK int aq_pprot_init_keys(aq_pprot *pp, aq_aead_alg alg, const uint8_t *key,
                                     const uint8_t iv[AQ_AEAD_NONCE_LEN], const uint8_t *hp);

/**
 * Key update (RFC 9001 §6): replace the AEAD key and IV of pp with those
 * derived from next_secret, keeping the header-protection key ("The header
 * protection key is not updated").  On error pp is unchanged.
 */
AQ_MUST_CHECK int aq_pprot_rekey(aq_pprot *pp, aq_hash_alg hash, const uint8_t *next_secret,
                                 size_t secretlen, uint32_t version);

/**
 * Both directions of the Initial keys (RFC 9001 §5.2; RFC 9369 for v2) for
 * the client's first Destination Connection ID: tx protects what this
 * endpoint sends, rx opens what it receives (AES-128-GCM, SHA-256).  On
 * error neither needs aq_pprot_free.  Errors as aq_pprot_init.
 */
AQ_MUST_CHECK int aq_pprot_init_initial(aq_pprot *tx, aq_pprot *rx, const uint8_t *dcid,
                                        size_t dcidlen, uint32_t version, int is_server);

/** Free the contexts and zero the IV.  Safe on a zeroed or already freed pp. */
void aq_pprot_free(aq_pprot *pp);

/**
 * Protect a packet in place: encrypt pkt[hdrlen .. pktlen - 16) with
 * nonce = IV XOR pn and AAD = pkt[0 .. hdrlen), write the tag into the last
 * 16 bytes, then apply header protection to pkt[0] and the pn_len packet
 * number bytes at pn_offset (sample at pn_offset + 4).
 *
 * hdrlen must equal pn_offset + pn_len, pn_len be 1..4, and the header's
 * packet number bytes must already hold the truncated pn.  Errors:
 * AQ_ERR_INVALID_ARGUMENT for a broken layout; AQ_ERR_BUFFER_TOO_SMALL if
 * pktlen < hdrlen + 16 or the packet is too short to sample
 * (pn_offset + 4 + 16 > pktlen; RFC 9001 §5.4.2: the sender pads); pkt is
 * unchanged then.
 */
AQ_MUST_CHECK int aq_pprot_seal(aq_pprot *pp, uint8_t *pkt, size_t pktlen, size_t hdrlen,
                                size_t pn_offset, size_t pn_len, uint64_t pn);

/**
 * Remove header protection in place (RFC 9001 §5.4.1): unmask the low bits
 * of pkt[0] (4 for a long header, 5 for a short one) and the packet number
 * bytes, and return the packet number length (1..4) in *pn_len and the
 * truncated packet number in *truncated_pn.  The caller then checks the
 * reserved bits and decodes the full packet number (RFC 9000 §A.3).
 *
 * Errors: AQ_ERR_TRUNCATED if the packet is too short for the sample
 * (pn_offset + 4 + 16 > pktlen); pkt is unchanged then.
 */
AQ_MUST_CHECK int aq_pprot_unprotect_header(aq_pprot *pp, uint8_t *pkt, size_t pktlen,
                                            size_t pn_offset, size_t *pn_len,
                                            uint64_t *truncated_pn);

/**
 * Decrypt the payload in place after aq_pprot_unprotect_header: the header
 * pkt[0 .. hdrlen) is the AAD, pn the full (decoded) packet number.
 * Returns the payload length, which starts at pkt + hdrlen, or
 * AQ_ERR_DECRYPT (the payload bytes are then destroyed: discard the
 * packet), AQ_ERR_TRUNCATED if pktlen < hdrlen + 16.
 */
AQ_MUST_CHECK aq_ssize aq_pprot_open(aq_pprot *pp, uint8_t *pkt, size_t pktlen, size_t hdrlen,
                                     uint64_t pn);

/**
 * Retry Integrity Tag (RFC 9001 §5.8; RFC 9369 §3.3.3 keys for v2): the
 * AES-128-GCM tag over the Retry pseudo-packet
 * (uint8 odcid_len || odcid || retry[0 .. retrylen)), where retry is the
 * Retry packet without its tag.  Errors: AQ_ERR_UNSUPPORTED (version),
 * AQ_ERR_VALUE_RANGE (odcid longer than 20 bytes), AQ_ERR_CRYPTO.
 * Allocates one OpenSSL context per call (Retry is not on the data path).
 */
AQ_MUST_CHECK int aq_pprot_retry_tag(uint8_t tag[AQ_PPROT_RETRY_TAG_LEN], uint32_t version,
                                     const uint8_t *odcid, size_t odcidlen, const uint8_t *retry,
                                     size_t retrylen);

/**
 * Verify a whole received Retry packet (its last 16 bytes are the tag)
 * against the client's original DCID.  0 if valid, AQ_ERR_VERIFY if not
 * (the client discards the packet, RFC 9000 §17.2.5.2), AQ_ERR_TRUNCATED
 * if retrylen < 16, or an error of aq_pprot_retry_tag.
 */
AQ_MUST_CHECK int aq_pprot_retry_verify(uint32_t version, const uint8_t *odcid, size_t odcidlen,
                                        const uint8_t *retry, size_t retrylen);

#endif /* AQ_PPROT_H */
