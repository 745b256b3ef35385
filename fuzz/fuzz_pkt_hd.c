/*
 * fuzz_pkt_hd.c - packet headers on arbitrary datagrams.  Byte 0 picks the
 * local short-header DCID length; the rest is a datagram whose coalesced
 * packets are iterated.  Each decoded long header must stay inside the
 * datagram, and Initial/0-RTT/Handshake headers must re-encode and decode
 * to the same fields.  Packet-number decoding keeps the truncated bits.
 */
#include <stdlib.h>

#include "aq_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static void check_reencode(const aq_pkt_hd *hd, const uint8_t *pkt) {
  aq_pkt_hd e, d;
  size_t pn_len = (size_t)(hd->first & AQ_PKT_PN_LEN_MASK) + 1;
  size_t cap = hd->pktlen + 64;
  uint8_t *buf;
  aq_wbuf w;
  if (hd->length < pn_len) {
    return; /* too short to hold this packet number: nothing to rebuild */
  }
  memset(&e, 0, sizeof(e));
  e.type = hd->type;
  e.version = hd->version;
  e.dcid = hd->dcid;
  e.dcidlen = hd->dcidlen;
  e.scid = hd->scid;
  e.scidlen = hd->scidlen;
  e.token = hd->token;
  e.tokenlen = hd->tokenlen;
  e.len_width = hd->len_width;
  e.pn_len = pn_len;
  for (size_t i = 0; i < pn_len; i++) {
    e.pkt_num = (e.pkt_num << 8) | pkt[hd->pn_offset + i];
  }
  buf = malloc(cap);
  if (buf == NULL) {
    abort();
  }
  aq_wbuf_init(&w, buf, cap);
  if (aq_pkt_encode_hd(&w, &e) != 0) {
    abort();
  }
  aq_wbuf_zeros(&w, (size_t)hd->length - pn_len);
  if (aq_wbuf_error(&w) != 0 || aq_pkt_set_length(buf, &e, aq_wbuf_len(&w)) != 0) {
    abort();
  }
  if (aq_pkt_decode_hd(&d, buf, aq_wbuf_len(&w), 0) != 0 || d.type != hd->type ||
      d.version != hd->version || d.length != hd->length ||
      !same_bytes(d.dcid, d.dcidlen, hd->dcid, hd->dcidlen) ||
      !same_bytes(d.scid, d.scidlen, hd->scid, hd->scidlen) ||
      !same_bytes(d.token, d.tokenlen, hd->token, hd->tokenlen) || d.pktlen != aq_wbuf_len(&w) ||
      (d.first & 0x03) != (hd->first & 0x03)) {
    abort();
  }
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) {
    return 0;
  }
  size_t dcidlen = data[0] % (AQ_MAX_CIDLEN + 1);
  const uint8_t *dgram = data + 1;
  size_t len = size - 1;
  aq_pkt_iter it;
  aq_pkt_hd hd;
  const uint8_t *pkt;
  size_t pktlen, total = 0;
  int rv;

  aq_pkt_iter_init(&it, dgram, len, dcidlen);
  while ((rv = aq_pkt_iter_next(&it, &hd, &pkt, &pktlen)) == 1) {
    if (pkt != dgram + total || pktlen == 0 || pktlen > len - total) {
      abort();
    }
    total += pktlen;
    switch (hd.type) {
    case AQ_PKT_INITIAL:
    case AQ_PKT_0RTT:
    case AQ_PKT_HANDSHAKE:
      if (hd.pn_offset + hd.length != pktlen || hd.dcidlen > AQ_MAX_CIDLEN ||
          hd.len_offset + hd.len_width != hd.pn_offset) {
        abort();
      }
      check_reencode(&hd, pkt);
      break;
    case AQ_PKT_1RTT:
      if (hd.pn_offset != 1 + dcidlen || hd.pn_offset >= pktlen) {
        abort();
      }
      break;
    case AQ_PKT_RETRY:
      if (hd.retry_tag + AQ_RETRY_TAG_LEN != pkt + pktlen) {
        abort();
      }
      break;
    case AQ_PKT_VERSION_NEGOTIATION: {
      aq_pkt_vn vn;
      if (aq_pkt_decode_vn(&vn, pkt, pktlen) == 0) {
        for (size_t i = 0; i < vn.nversions; i++) {
          (void)aq_pkt_vn_version(&vn, i);
        }
      }
      break;
    }
    case AQ_PKT_UNKNOWN_VERSION:
    default:
      break;
    }
  }
  if (rv < 0 && rv > AQ_ERR_FATAL && aq_pkt_iter_next(&it, &hd, &pkt, &pktlen) != 0) {
    abort(); /* the iterator stops after an error */
  }
  if (rv == 0 && total != len) {
    abort();
  }
  /* Packet-number reconstruction keeps the truncated bits. */
  if (size >= 13) {
    uint64_t largest = 0;
    uint32_t trunc = 0;
    size_t pn_len = (size_t)(data[1] & 3u) + 1;
    for (size_t i = 0; i < 8; i++) {
      largest = (largest << 8) | data[2 + i];
    }
    for (size_t i = 0; i < 3; i++) {
      trunc = (trunc << 8) | data[10 + i];
    }
    largest &= AQ_MAX_PKT_NUM >> 1;
    uint64_t mask = (1ULL << (8 * pn_len)) - 1;
    uint64_t pn = aq_pkt_pn_decode(largest, trunc, pn_len);
    if ((pn & mask) != (trunc & mask) || aq_pkt_pn_len(largest + 1, largest) != 1) {
      abort();
    }
  }
  return 0;
}
