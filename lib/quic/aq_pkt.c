/*
 * aq_pkt.c - QUIC packet header codec (RFC 9000 §17, RFC 8999, RFC 9369).
 * Encoder and decoder side by side; header protection is not touched here.
 */
#include "aq_pkt.h"

#include <string.h>

int aq_cid_init(aq_cid *cid, const uint8_t *data, size_t len) {
  if (len > AQ_MAX_CIDLEN) {
    return AQ_ERR_VALUE_RANGE;
  }
  memset(cid, 0, sizeof(*cid));
  cid->len = (uint8_t)len;
  if (len > 0) {
    memcpy(cid->data, data, len);
  }
  return 0;
}

int aq_cid_eq(const aq_cid *a, const aq_cid *b) {
  return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* ------------------------------------------------------- type mapping */

int aq_pkt_version_supported(uint32_t version) {
  return version == AQ_PROTO_VER_V1 || version == AQ_PROTO_VER_V2;
}

/*
 * RFC 9000 §17.2: Initial 0b00, 0-RTT 0b01, Handshake 0b10, Retry 0b11.
 * RFC 9369 §3.2: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00.
 */
int aq_pkt_long_type_bits(uint32_t version, aq_pkt_type type, uint8_t *bits) {
  unsigned v;
  switch (type) {
  case AQ_PKT_INITIAL: v = 0; break;
  case AQ_PKT_0RTT: v = 1; break;
  case AQ_PKT_HANDSHAKE: v = 2; break;
  case AQ_PKT_RETRY: v = 3; break;
  case AQ_PKT_VERSION_NEGOTIATION:
  case AQ_PKT_1RTT:
  case AQ_PKT_UNKNOWN_VERSION:
  default: return AQ_ERR_INVALID_ARGUMENT;
  }
  if (version == AQ_PROTO_VER_V1) {
    *bits = (uint8_t)v;
    return 0;
  }
  if (version == AQ_PROTO_VER_V2) {
    *bits = (uint8_t)((v + 1) & 3u);
    return 0;
  }
  return AQ_ERR_INVALID_ARGUMENT;
}

int aq_pkt_long_type_from_bits(uint32_t version, uint8_t bits, aq_pkt_type *type) {
  static const aq_pkt_type order[4] = {AQ_PKT_INITIAL, AQ_PKT_0RTT, AQ_PKT_HANDSHAKE, AQ_PKT_RETRY};
  if (bits > 3) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (version == AQ_PROTO_VER_V1) {
    *type = order[bits];
    return 0;
  }
  if (version == AQ_PROTO_VER_V2) {
    *type = order[(bits + 3u) & 3u];
    return 0;
  }
  return AQ_ERR_INVALID_ARGUMENT;
}

/* ------------------------------------------------------------ decoding */

/* Read a u8-length-prefixed CID of at most max bytes (zero-copy). */
static int read_cid(aq_rbuf *r, size_t max, const uint8_t **cid, size_t *cidlen) {
  aq_rbuf save = *r;
  uint8_t len;
  int rv = aq_rbuf_u8(r, &len);
  if (rv != 0) {
    return rv;
  }
  if (len > max) {
    *r = save;
    return AQ_ERR_MALFORMED;
  }
  rv = aq_rbuf_bytes(r, len, cid);
  if (rv != 0) {
    *r = save;
    return rv;
  }
  *cidlen = len;
  return 0;
}

static int decode_long(aq_pkt_hd *hd, const uint8_t *pkt, size_t pktlen) {
  aq_rbuf r;
  uint32_t version;
  aq_pkt_type type;
  size_t maxcid;
  int rv;

  aq_rbuf_init(&r, pkt, pktlen);
  if (aq_rbuf_u8(&r, &hd->first) != 0 || aq_rbuf_u32(&r, &version) != 0) {
    return AQ_ERR_TRUNCATED;
  }
  hd->version = version;
  /* RFC 8999 §5.1 lets any version carry CIDs of up to 255 bytes; v1/v2
   * restrict them to 20 (RFC 9000 §17.2: "Endpoints that receive a version 1
   * long header with a value larger than 20 MUST drop the packet"). */
  maxcid = aq_pkt_version_supported(version) ? AQ_MAX_CIDLEN : AQ_MAX_CIDLEN_INVARIANT;
  rv = read_cid(&r, maxcid, &hd->dcid, &hd->dcidlen);
  if (rv != 0) {
    return rv;
  }
  rv = read_cid(&r, maxcid, &hd->scid, &hd->scidlen);
  if (rv != 0) {
    return rv;
  }
  if (version == AQ_PROTO_VER_NEGOTIATION) {
    hd->type = AQ_PKT_VERSION_NEGOTIATION;
    hd->pktlen = pktlen;
    return 0;
  }
  if (!aq_pkt_version_supported(version)) {
    hd->type = AQ_PKT_UNKNOWN_VERSION;
    hd->pktlen = pktlen;
    return 0;
  }
  /* RFC 9000 §17.2: "Packets containing a zero value for this bit are not
   * valid packets in this version and MUST be discarded." */
  if ((hd->first & AQ_PKT_FIXED_BIT) == 0) {
    return AQ_ERR_MALFORMED;
  }
  if (aq_pkt_long_type_from_bits(version, (uint8_t)((hd->first >> 4) & 3u), &type) != 0) {
    return AQ_ERR_INTERNAL;
  }
  hd->type = type;
  if (type == AQ_PKT_RETRY) {
    /* RFC 9000 §17.2.5: the token runs up to the 16-byte integrity tag. */
    size_t left = aq_rbuf_left(&r);
    if (left < AQ_RETRY_TAG_LEN) {
      return AQ_ERR_MALFORMED;
    }
    hd->token = r.p;
    hd->tokenlen = left - AQ_RETRY_TAG_LEN;
    hd->retry_tag = r.p + hd->tokenlen;
    hd->pktlen = pktlen;
    return 0;
  }
  if (type == AQ_PKT_INITIAL) {
    uint64_t tlen;
    rv = aq_rbuf_varint(&r, &tlen);
    if (rv != 0) {
      return rv;
    }
    if (tlen > aq_rbuf_left(&r)) {
      return AQ_ERR_TRUNCATED;
    }
    if (aq_rbuf_bytes(&r, (size_t)tlen, &hd->token) != 0) {
      return AQ_ERR_TRUNCATED;
    }
    hd->tokenlen = (size_t)tlen;
  }
  hd->len_offset = pktlen - aq_rbuf_left(&r);
  {
    const uint8_t *before = r.p;
    rv = aq_rbuf_varint(&r, &hd->length);
    if (rv != 0) {
      return rv;
    }
    hd->len_width = (size_t)(r.p - before);
  }
  hd->pn_offset = pktlen - aq_rbuf_left(&r);
  /* RFC 9000 §17.2: Length covers the packet number and the payload. */
  if (hd->length > aq_rbuf_left(&r)) {
    return AQ_ERR_TRUNCATED;
  }
  hd->pktlen = hd->pn_offset + (size_t)hd->length;
  return 0;
}

int aq_pkt_decode_hd(aq_pkt_hd *hd, const uint8_t *pkt, size_t pktlen, size_t short_dcidlen) {
  aq_pkt_hd out;
  int rv;

  if (short_dcidlen > AQ_MAX_CIDLEN) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  memset(&out, 0, sizeof(out));
  if (pktlen == 0) {
    return AQ_ERR_TRUNCATED;
  }
  if (pkt[0] & AQ_PKT_HEADER_FORM_BIT) {
    rv = decode_long(&out, pkt, pktlen);
    if (rv != 0) {
      return rv;
    }
    *hd = out;
    return 0;
  }
  /* Short header (RFC 9000 §17.3.1): first byte, DCID, then the packet
   * number (1..4 bytes, length still protected). */
  out.type = AQ_PKT_1RTT;
  out.first = pkt[0];
  if ((out.first & AQ_PKT_FIXED_BIT) == 0) {
    return AQ_ERR_MALFORMED;
  }
  if (pktlen < 1 + short_dcidlen + 1) {
    return AQ_ERR_TRUNCATED;
  }
  out.dcid = pkt + 1;
  out.dcidlen = short_dcidlen;
  out.pn_offset = 1 + short_dcidlen;
  out.pktlen = pktlen;
  *hd = out;
  return 0;
}

void aq_pkt_iter_init(aq_pkt_iter *it, const uint8_t *dgram, size_t dgramlen,
                      size_t short_dcidlen) {
  it->p = dgram;
  it->end = dgram + dgramlen;
  it->short_dcidlen = short_dcidlen;
}

int aq_pkt_iter_next(aq_pkt_iter *it, aq_pkt_hd *hd, const uint8_t **pkt, size_t *pktlen) {
  size_t left = (size_t)(it->end - it->p);
  int rv;
  if (left == 0) {
    return 0;
  }
  rv = aq_pkt_decode_hd(hd, it->p, left, it->short_dcidlen);
  if (rv != 0) {
    it->p = it->end;
    return rv;
  }
  *pkt = it->p;
  *pktlen = hd->pktlen;
  it->p += hd->pktlen;
  return 1;
}

/* ------------------------------------------------------------ encoding */

static int valid_varint_width(size_t w) {
  return w == 1 || w == 2 || w == 4 || w == 8;
}

int aq_pkt_encode_hd(aq_wbuf *w, aq_pkt_hd *hd) {
  size_t start = aq_wbuf_len(w);
  uint8_t first;
  size_t pn_len = hd->pn_len;

  if (pn_len < 1 || pn_len > 4 || hd->dcidlen > AQ_MAX_CIDLEN || hd->scidlen > AQ_MAX_CIDLEN) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (hd->pkt_num > AQ_MAX_PKT_NUM) {
    return AQ_ERR_VALUE_RANGE;
  }
  if (hd->type == AQ_PKT_1RTT) {
    first = (uint8_t)(AQ_PKT_FIXED_BIT | (hd->spin ? AQ_PKT_SHORT_SPIN_BIT : 0u) |
                      (hd->key_phase ? AQ_PKT_SHORT_KEY_PHASE_BIT : 0u) | (pn_len - 1));
    aq_wbuf_u8(w, first);
    aq_wbuf_bytes(w, hd->dcid, hd->dcidlen);
    hd->version = 0;
    hd->len_offset = 0;
  } else {
    uint8_t bits;
    size_t lw = hd->len_width == 0 ? 2 : hd->len_width;
    if (hd->type != AQ_PKT_INITIAL && hd->type != AQ_PKT_0RTT && hd->type != AQ_PKT_HANDSHAKE) {
      return AQ_ERR_INVALID_ARGUMENT;
    }
    if (aq_pkt_long_type_bits(hd->version, hd->type, &bits) != 0 || !valid_varint_width(lw)) {
      return AQ_ERR_INVALID_ARGUMENT;
    }
    first =
        (uint8_t)(AQ_PKT_HEADER_FORM_BIT | AQ_PKT_FIXED_BIT | ((unsigned)bits << 4) | (pn_len - 1));
    aq_wbuf_u8(w, first);
    aq_wbuf_u32(w, hd->version);
    aq_wbuf_u8(w, (uint8_t)hd->dcidlen);
    aq_wbuf_bytes(w, hd->dcid, hd->dcidlen);
    aq_wbuf_u8(w, (uint8_t)hd->scidlen);
    aq_wbuf_bytes(w, hd->scid, hd->scidlen);
    if (hd->type == AQ_PKT_INITIAL) {
      aq_wbuf_varint(w, hd->tokenlen);
      aq_wbuf_bytes(w, hd->token, hd->tokenlen);
    }
    hd->len_offset = aq_wbuf_len(w) - start;
    hd->len_width = lw;
    /* Placeholder: the smallest length that still counts the PN. */
    aq_wbuf_varint_fixed(w, pn_len, lw);
  }
  hd->first = first;
  hd->pn_offset = aq_wbuf_len(w) - start;
  {
    uint8_t *at = aq_wbuf_reserve(w, pn_len);
    if (at != NULL) {
      for (size_t i = 0; i < pn_len; i++) {
        at[i] = (uint8_t)(hd->pkt_num >> (8 * (pn_len - 1 - i)));
      }
    }
  }
  hd->pktlen = aq_wbuf_len(w) - start;
  return aq_wbuf_error(w);
}

int aq_pkt_set_length(uint8_t *pkt, const aq_pkt_hd *hd, size_t pktlen) {
  uint64_t len;
  if (hd->len_offset == 0 || !valid_varint_width(hd->len_width) || pktlen < hd->pn_offset ||
      hd->pn_offset != hd->len_offset + hd->len_width) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  len = (uint64_t)(pktlen - hd->pn_offset);
  if (aq_varint_len(len) == 0 || aq_varint_len(len) > hd->len_width) {
    return AQ_ERR_VALUE_RANGE;
  }
  aq_varint_put(pkt + hd->len_offset, len, hd->len_width);
  return 0;
}

/* ------------------------------------------------------ packet numbers */

size_t aq_pkt_pn_len(uint64_t pkt_num, uint64_t largest_acked) {
  /* RFC 9000 App. A.2: num_unacked = full_pn - largest_acked (or
   * full_pn + 1 without any ack); the encoding needs
   * log2(num_unacked) + 1 bits, rounded up to whole bytes: n bytes carry
   * up to 2^(8n-1) unacknowledged packets. */
  uint64_t num_unacked;
  if (largest_acked == UINT64_MAX) {
    num_unacked = pkt_num + 1;
  } else {
    num_unacked = pkt_num > largest_acked ? pkt_num - largest_acked : 1;
  }
  if (num_unacked <= (1ULL << 7)) {
    return 1;
  }
  if (num_unacked <= (1ULL << 15)) {
    return 2;
  }
  if (num_unacked <= (1ULL << 23)) {
    return 3;
  }
  return 4;
}

uint64_t aq_pkt_pn_decode(uint64_t largest_pn, uint64_t truncated_pn, size_t pn_len) {
  /* RFC 9000 App. A.3. */
  uint64_t expected = largest_pn + 1; /* UINT64_MAX + 1 wraps to 0: "none yet" */
  uint64_t win = 1ULL << (pn_len * 8);
  uint64_t hwin = win / 2;
  uint64_t mask = win - 1;
  uint64_t candidate = (expected & ~mask) | (truncated_pn & mask);

  if (expected >= hwin && candidate <= expected - hwin && candidate < (1ULL << 62) - win) {
    return candidate + win;
  }
  if (candidate > expected + hwin && candidate >= win) {
    return candidate - win;
  }
  return candidate;
}

size_t aq_pkt_pn_len_from_first(uint8_t first) {
  return (size_t)(first & AQ_PKT_PN_LEN_MASK) + 1;
}

int aq_pkt_check_reserved(uint8_t first) {
  uint8_t mask = (first & AQ_PKT_HEADER_FORM_BIT) ? 0x0cu : 0x18u;
  return (first & mask) == 0 ? 0 : AQ_ERR_PROTO;
}

uint64_t aq_pkt_read_pn(const uint8_t *p, size_t pn_len) {
  uint64_t v = 0;
  for (size_t i = 0; i < pn_len && i < 4; i++) {
    v = (v << 8) | p[i];
  }
  return v;
}

/* ----------------------------------------------- Version Negotiation */

int aq_pkt_decode_vn(aq_pkt_vn *vn, const uint8_t *pkt, size_t pktlen) {
  aq_rbuf r;
  aq_pkt_vn out;
  uint8_t first;
  uint32_t version;
  size_t left;
  int rv;

  memset(&out, 0, sizeof(out));
  aq_rbuf_init(&r, pkt, pktlen);
  if (aq_rbuf_u8(&r, &first) != 0 || aq_rbuf_u32(&r, &version) != 0) {
    return AQ_ERR_TRUNCATED;
  }
  if ((first & AQ_PKT_HEADER_FORM_BIT) == 0 || version != AQ_PROTO_VER_NEGOTIATION) {
    return AQ_ERR_MALFORMED;
  }
  rv = read_cid(&r, AQ_MAX_CIDLEN_INVARIANT, &out.dcid, &out.dcidlen);
  if (rv != 0) {
    return rv;
  }
  rv = read_cid(&r, AQ_MAX_CIDLEN_INVARIANT, &out.scid, &out.scidlen);
  if (rv != 0) {
    return rv;
  }
  left = aq_rbuf_left(&r);
  if (left == 0) {
    return AQ_ERR_TRUNCATED;
  }
  if (left % 4 != 0) {
    return AQ_ERR_MALFORMED;
  }
  out.versions = r.p;
  out.nversions = left / 4;
  *vn = out;
  return 0;
}

uint32_t aq_pkt_vn_version(const aq_pkt_vn *vn, size_t i) {
  const uint8_t *p = vn->versions + 4 * i;
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int aq_pkt_encode_vn(aq_wbuf *w, uint8_t first_rand, const uint8_t *dcid, size_t dcidlen,
                     const uint8_t *scid, size_t scidlen, const uint32_t *versions,
                     size_t nversions) {
  if (nversions == 0 || dcidlen > AQ_MAX_CIDLEN_INVARIANT || scidlen > AQ_MAX_CIDLEN_INVARIANT) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  aq_wbuf_u8(w, (uint8_t)(AQ_PKT_HEADER_FORM_BIT | (first_rand & 0x7fu)));
  aq_wbuf_u32(w, AQ_PROTO_VER_NEGOTIATION);
  aq_wbuf_u8(w, (uint8_t)dcidlen);
  aq_wbuf_bytes(w, dcid, dcidlen);
  aq_wbuf_u8(w, (uint8_t)scidlen);
  aq_wbuf_bytes(w, scid, scidlen);
  for (size_t i = 0; i < nversions; i++) {
    aq_wbuf_u32(w, versions[i]);
  }
  return aq_wbuf_error(w);
}

/* ------------------------------------------------------------- Retry */

int aq_pkt_encode_retry(aq_wbuf *w, uint32_t version, uint8_t unused4, const uint8_t *dcid,
                        size_t dcidlen, const uint8_t *scid, size_t scidlen, const uint8_t *token,
                        size_t tokenlen) {
  uint8_t bits;
  if (aq_pkt_long_type_bits(version, AQ_PKT_RETRY, &bits) != 0 || dcidlen > AQ_MAX_CIDLEN ||
      scidlen > AQ_MAX_CIDLEN || tokenlen == 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  aq_wbuf_u8(w, (uint8_t)(AQ_PKT_HEADER_FORM_BIT | AQ_PKT_FIXED_BIT | ((unsigned)bits << 4) |
                          (unused4 & 0x0fu)));
  aq_wbuf_u32(w, version);
  aq_wbuf_u8(w, (uint8_t)dcidlen);
  aq_wbuf_bytes(w, dcid, dcidlen);
  aq_wbuf_u8(w, (uint8_t)scidlen);
  aq_wbuf_bytes(w, scid, scidlen);
  aq_wbuf_bytes(w, token, tokenlen);
  return aq_wbuf_error(w);
}

int aq_pkt_retry_pseudo(aq_wbuf *w, const uint8_t *odcid, size_t odcidlen, const uint8_t *retry,
                        size_t retrylen) {
  if (odcidlen > AQ_MAX_CIDLEN) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  aq_wbuf_u8(w, (uint8_t)odcidlen);
  aq_wbuf_bytes(w, odcid, odcidlen);
  aq_wbuf_bytes(w, retry, retrylen);
  return aq_wbuf_error(w);
}
