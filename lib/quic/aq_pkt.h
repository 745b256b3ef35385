/*
 * aq_pkt.h - QUIC packet headers (RFC 9000 §17, RFC 8999, RFC 9369 type bits),
 * packet-number length choice and decoding (RFC 9000 §17.1, App. A.2/A.3),
 * Version Negotiation and Retry packets, and coalesced-packet splitting
 * (RFC 9000 §12.2).
 *
 * Everything here is a pure codec: header protection is neither removed nor
 * applied (that is lib/quic/aq_pprot), so a decoded header carries the still
 * protected first byte and the offset where the protected packet number
 * starts.  Decoded connection IDs, tokens and version lists point into the
 * caller's datagram (zero-copy) and are valid only as long as it is.
 */
#ifndef AQ_PKT_H
#define AQ_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_buf.h"

/** Longest connection ID in QUIC v1/v2 (RFC 9000 §17.2). */
#define AQ_MAX_CIDLEN 20
/** Longest connection ID allowed by the invariants (RFC 8999 §5.1). */
#define AQ_MAX_CIDLEN_INVARIANT 255
/** Length of the Retry Integrity Tag (RFC 9001 §5.8). */
#define AQ_RETRY_TAG_LEN 16
/** Length of a Stateless Reset Token (RFC 9000 §10.3). */
#define AQ_STATELESS_RESET_TOKEN_LEN 16
/** Largest packet number (RFC 9000 §12.3). */
#define AQ_MAX_PKT_NUM ((uint64_t)0x3fffffffffffffffULL)

#define AQ_PROTO_VER_NEGOTIATION 0x00000000u /* Version Negotiation (RFC 8999) */
#define AQ_PROTO_VER_V1 0x00000001u          /* RFC 9000 */
#define AQ_PROTO_VER_V2 0x6b3343cfu          /* RFC 9369 */

/* First-byte bits (RFC 9000 §17.2, §17.3). */
#define AQ_PKT_HEADER_FORM_BIT 0x80u
#define AQ_PKT_FIXED_BIT 0x40u
#define AQ_PKT_SHORT_SPIN_BIT 0x20u
#define AQ_PKT_SHORT_KEY_PHASE_BIT 0x04u
#define AQ_PKT_PN_LEN_MASK 0x03u

/** Packet types, independent of the version's type-bit mapping. */
typedef enum aq_pkt_type {
  AQ_PKT_INITIAL = 0,
  AQ_PKT_0RTT = 1,
  AQ_PKT_HANDSHAKE = 2,
  AQ_PKT_RETRY = 3,
  AQ_PKT_VERSION_NEGOTIATION = 4,
  AQ_PKT_1RTT = 5,
  /* A long header of a version we do not know: only the invariant fields
   * (version, DCID, SCID; RFC 8999 §5.1) are decoded. */
  AQ_PKT_UNKNOWN_VERSION = 6
} aq_pkt_type;

/** A connection ID held by value (for storage; the codec uses pointers). */
typedef struct aq_cid {
  uint8_t len;
  uint8_t data[AQ_MAX_CIDLEN];
} aq_cid;

/** Set *cid from bytes; AQ_ERR_VALUE_RANGE if len > AQ_MAX_CIDLEN. */
AQ_MUST_CHECK int aq_cid_init(aq_cid *cid, const uint8_t *data, size_t len);
/** Non-zero if a and b are the same connection ID. */
int aq_cid_eq(const aq_cid *a, const aq_cid *b);

/**
 * A packet header.  For decoding, every field is an output; for encoding,
 * the fields marked (in) are inputs and those marked (out) are filled.
 */
typedef struct aq_pkt_hd {
  aq_pkt_type type;         /* (in/out) */
  uint8_t first;            /* (out) first byte as on the wire (still protected on decode) */
  uint32_t version;         /* (in/out) long header only; 0 for short headers */
  const uint8_t *dcid;      /* (in/out) zero-copy */
  size_t dcidlen;           /* (in/out) */
  const uint8_t *scid;      /* (in/out) long header only */
  size_t scidlen;           /* (in/out) */
  const uint8_t *token;     /* (in/out) Initial token, or Retry token */
  size_t tokenlen;          /* (in/out) */
  const uint8_t *retry_tag; /* (out) Retry: the 16-byte integrity tag */
  uint64_t length;          /* (out) Initial/0-RTT/Handshake Length field (PN + payload) */
  size_t len_offset;        /* (out) offset of the Length field (long header with Length) */
  size_t len_width;         /* (in/out) encoded width of the Length field: 1, 2, 4 or 8
                             * (in: 0 means 2 on encode) */
  size_t pn_offset;         /* (out) offset of the packet number from the packet start */
  size_t pktlen;            /* (out) decode: bytes of this packet in the datagram;
                             * encode: header bytes written, packet number included */
  /* Encode-only inputs. */
  uint64_t pkt_num;  /* (in) full packet number */
  size_t pn_len;     /* (in) 1..4 bytes of packet number to send */
  uint8_t key_phase; /* (in) short header key phase (0/1) */
  uint8_t spin;      /* (in) short header spin bit (0/1) */
} aq_pkt_hd;

/* ------------------------------------------------------------ decoding */

/**
 * Decode the header of the first packet in pkt[0..pktlen).  Header
 * protection is NOT removed: hd->first is the protected first byte and
 * hd->pn_offset is where the protected packet number starts.  For a short
 * header the caller gives the length of its own connection IDs
 * (short_dcidlen), since short headers do not carry it.
 *
 * Results:
 *  - Initial/0-RTT/Handshake: hd->length and hd->pktlen = the bytes of this
 *    packet (header + Length), so the next coalesced packet starts after it.
 *  - Short header (1-RTT): hd->pktlen = pktlen (it extends to the end).
 *  - Retry: token and the 16-byte tag; pktlen = all bytes.
 *  - Version Negotiation: DCID/SCID of up to 255 bytes each (RFC 8999);
 *    use aq_pkt_decode_vn() for the version list.
 *  - A long header with an unknown version: AQ_PKT_UNKNOWN_VERSION with the
 *    invariant fields only (the caller may answer with Version Negotiation).
 *
 * Errors (hd is then undefined; the caller drops the datagram's remainder):
 * AQ_ERR_TRUNCATED (input ends inside the header or the Length runs past
 * the end), AQ_ERR_MALFORMED (fixed bit 0 in a v1/v2 packet, a CID over
 * 20 bytes in a v1/v2 long header, Retry shorter than its tag, short header
 * shorter than short_dcidlen + 1), AQ_ERR_INVALID_ARGUMENT (short_dcidlen > 20).
 */
AQ_MUST_CHECK int aq_pkt_decode_hd(aq_pkt_hd *hd, const uint8_t *pkt, size_t pktlen,
                                   size_t short_dcidlen);

/** Iterator over the coalesced packets of one datagram (RFC 9000 §12.2). */
typedef struct aq_pkt_iter {
  const uint8_t *p;
  const uint8_t *end;
  size_t short_dcidlen;
} aq_pkt_iter;

/** Start iterating over dgram; short_dcidlen as for aq_pkt_decode_hd(). */
void aq_pkt_iter_init(aq_pkt_iter *it, const uint8_t *dgram, size_t dgramlen, size_t short_dcidlen);

/**
 * The next packet: fills *hd, sets *pkt / *pktlen to its bytes and returns
 * 1; returns 0 when the datagram is used up, or a negative error from
 * aq_pkt_decode_hd() (the iterator then stops: later calls return 0, and
 * packets already returned stay valid, RFC 9000 §12.2).
 */
AQ_MUST_CHECK int aq_pkt_iter_next(aq_pkt_iter *it, aq_pkt_hd *hd, const uint8_t **pkt,
                                   size_t *pktlen);

/* ------------------------------------------------------------ encoding */

/**
 * Encode the header described by hd (type, version, dcid, scid, token for
 * Initial, pkt_num, pn_len, key_phase/spin for 1-RTT) followed by the
 * truncated packet number, unprotected.  Reserved bits are 0.  For long
 * headers with a Length field a placeholder of hd->len_width bytes
 * (default 2) is written at hd->len_offset; fill it with
 * aq_pkt_set_length() once the payload is known.  hd->pn_offset and
 * hd->pktlen (header length) are set.
 *
 * Errors: AQ_ERR_INVALID_ARGUMENT (Retry/VN/unknown type: use their own
 * encoders; pn_len not 1..4; CID over 20 bytes; bad len_width; version not
 * v1/v2 for a long header), AQ_ERR_VALUE_RANGE (pkt_num > 2^62-1), and the
 * writer's sticky AQ_ERR_BUFFER_TOO_SMALL.
 */
AQ_MUST_CHECK int aq_pkt_encode_hd(aq_wbuf *w, aq_pkt_hd *hd);

/**
 * Back-patch the Length field of a long-header packet whose first byte is
 * pkt, given the final packet length in bytes (header + PN + payload +
 * AEAD tag).  Returns AQ_ERR_VALUE_RANGE if the length does not fit the
 * reserved width, AQ_ERR_INVALID_ARGUMENT if hd has no Length field or
 * pktlen ends before the packet number.
 */
AQ_MUST_CHECK int aq_pkt_set_length(uint8_t *pkt, const aq_pkt_hd *hd, size_t pktlen);

/* -------------------------------------------------- packet numbers */

/**
 * Bytes (1..4) needed to send pkt_num when the peer has acknowledged up to
 * largest_acked (RFC 9000 §17.1, App. A.2): twice the unacknowledged range
 * must be representable.  largest_acked = UINT64_MAX means nothing has been
 * acknowledged yet.  Ranges too large for 4 bytes return 4 (the caller must
 * not let 2^31 packets go unacknowledged).
 */
size_t aq_pkt_pn_len(uint64_t pkt_num, uint64_t largest_acked);

/**
 * Reconstruct a full packet number from its truncated pn_len-byte form
 * (RFC 9000 App. A.3).  largest_pn is the largest packet number received
 * successfully in the space, or UINT64_MAX if none.
 */
uint64_t aq_pkt_pn_decode(uint64_t largest_pn, uint64_t truncated_pn, size_t pn_len);

/** Packet-number length (1..4) from a first byte whose protection was removed. */
size_t aq_pkt_pn_len_from_first(uint8_t first);

/**
 * Check the reserved bits of a first byte whose protection was removed
 * (long header 0x0c, short header 0x18; Initial/0-RTT/Handshake/1-RTT).
 * RFC 9000 §17.2: "An endpoint MUST treat receipt of a packet that has a
 * non-zero value for these bits after removing both packet and header
 * protection as a connection error of type PROTOCOL_VIOLATION."  Call it
 * after AEAD decryption succeeded.  Returns 0 or AQ_ERR_PROTO.
 */
AQ_MUST_CHECK int aq_pkt_check_reserved(uint8_t first);

/** Read a truncated packet number of pn_len (1..4) bytes from p. */
uint64_t aq_pkt_read_pn(const uint8_t *p, size_t pn_len);

/** Type bits (0..3) of a long-header packet type in the given version. */
AQ_MUST_CHECK int aq_pkt_long_type_bits(uint32_t version, aq_pkt_type type, uint8_t *bits);
/** Packet type of long-header type bits in the given version. */
AQ_MUST_CHECK int aq_pkt_long_type_from_bits(uint32_t version, uint8_t bits, aq_pkt_type *type);
/** Non-zero for the versions whose packets this module understands (v1, v2). */
int aq_pkt_version_supported(uint32_t version);

/* ------------------------------------------- Version Negotiation */

/** A decoded Version Negotiation packet (RFC 9000 §17.2.1). */
typedef struct aq_pkt_vn {
  const uint8_t *dcid;
  size_t dcidlen;
  const uint8_t *scid;
  size_t scidlen;
  const uint8_t *versions; /* nversions big-endian u32 values */
  size_t nversions;
} aq_pkt_vn;

/**
 * Decode a Version Negotiation packet (the whole datagram).  CIDs of up to
 * 255 bytes are accepted (RFC 8999).  Errors: AQ_ERR_TRUNCATED,
 * AQ_ERR_MALFORMED (not a long header, version not 0, the version list
 * empty or not a multiple of 4 bytes).
 */
AQ_MUST_CHECK int aq_pkt_decode_vn(aq_pkt_vn *vn, const uint8_t *pkt, size_t pktlen);

/** The i-th version of a decoded Version Negotiation packet (i < nversions). */
uint32_t aq_pkt_vn_version(const aq_pkt_vn *vn, size_t i);

/**
 * Encode a Version Negotiation packet.  first_rand supplies the 7 unused
 * bits of the first byte (RFC 9000 §17.2.1: "set to an arbitrary value");
 * dcid/scid are echoed from the client packet (up to 255 bytes).
 * Errors: AQ_ERR_INVALID_ARGUMENT (no versions, CID > 255), writer errors.
 */
AQ_MUST_CHECK int aq_pkt_encode_vn(aq_wbuf *w, uint8_t first_rand, const uint8_t *dcid,
                                   size_t dcidlen, const uint8_t *scid, size_t scidlen,
                                   const uint32_t *versions, size_t nversions);

/* ------------------------------------------------------------- Retry */

/**
 * Encode a Retry packet without its integrity tag (RFC 9000 §17.2.5).
 * The caller computes the tag over the pseudo-packet (aq_pkt_retry_pseudo)
 * with lib/quic/aq_pprot and appends its 16 bytes.  unused4 supplies the
 * four unused bits.  Errors: AQ_ERR_INVALID_ARGUMENT (version not v1/v2,
 * CID > 20, empty token), writer errors.
 */
AQ_MUST_CHECK int aq_pkt_encode_retry(aq_wbuf *w, uint32_t version, uint8_t unused4,
                                      const uint8_t *dcid, size_t dcidlen, const uint8_t *scid,
                                      size_t scidlen, const uint8_t *token, size_t tokenlen);

/**
 * Write the Retry pseudo-packet (RFC 9001 §5.8): ODCID Length, ODCID, then
 * the Retry packet without its tag (retry/retrylen).  Errors:
 * AQ_ERR_INVALID_ARGUMENT (odcid > 20), writer errors.
 */
AQ_MUST_CHECK int aq_pkt_retry_pseudo(aq_wbuf *w, const uint8_t *odcid, size_t odcidlen,
                                      const uint8_t *retry, size_t retrylen);

#endif /* AQ_PKT_H */
