/*
 * fuzz_pprot_open.c - arbitrary bytes as a QUIC packet to unprotect and
 * open with fixed keys: no crash, no out-of-bounds access, and whatever
 * opens must seal back to the very same bytes.
 *
 * Input: one control byte, then the packet.
 *   ctrl & 3:        keys: 0 = v1 client Initial, 1 = v1 server Initial
 *                    (both for DCID 8394c8f03e515708, RFC 9001 A.1),
 *                    2 = the RFC 9001 A.5 ChaCha20 secret, 3 = v2 client Initial
 *   ((ctrl >> 2) & 31) % 21: DCID length assumed for a short header
 *   ctrl & 0x80:     decode the packet number against a largest received
 *                    of 654360563 (so the RFC 9001 A.5 packet opens), else 0
 * A long header is parsed up to its Length field (RFC 9000 §17.2), which
 * bounds the packet; a short header runs to the end of the input.
 * The corpus holds the RFC 9001 / RFC 9369 packets with their control byte.
 */
#include <stdlib.h>
#include <string.h>

#include "aq_buf.h"
#include "aq_crypto.h"
#include "aq_pprot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
static const uint8_t chacha_secret[32] = {
    0x9a, 0xc3, 0x12, 0xa7, 0xf8, 0x77, 0x46, 0x8e, 0xbe, 0x69, 0x42, 0x27, 0x48, 0xad, 0x00, 0xa1,
    0x54, 0x43, 0xf1, 0x82, 0x03, 0xa0, 0x7d, 0x60, 0x60, 0xf6, 0x88, 0xf3, 0x0f, 0x21, 0x63, 0x2b};

/* Key tx and rx for the chosen set; 0 or -1. */
static int keys(aq_pprot *tx, aq_pprot *rx, unsigned which) {
  uint8_t cs[32], ss[32];
  const uint8_t *secret = chacha_secret;
  aq_aead_alg alg = AQ_AEAD_AES_128_GCM;
  uint32_t version = which == 3 ? AQ_QUIC_V2 : AQ_QUIC_V1;
  if (aq_quic_initial_secrets(cs, ss, dcid, sizeof(dcid), version) != 0) {
    return -1;
  }
  if (which == 0 || which == 3) {
    secret = cs;
  } else if (which == 1) {
    secret = ss;
  } else {
    alg = AQ_AEAD_CHACHA20_POLY1305;
  }
  if (aq_pprot_init(tx, alg, AQ_HASH_SHA256, secret, 32, version) != 0) {
    return -1;
  }
  if (aq_pprot_init(rx, alg, AQ_HASH_SHA256, secret, 32, version) != 0) {
    aq_pprot_free(tx);
    return -1;
  }
  return 0;
}

/* Find pn_offset and the packet length of a long header; -1 if malformed. */
static int parse_long(const uint8_t *p, size_t len, size_t *pn_offset, size_t *pktlen) {
  aq_rbuf r;
  uint8_t first, cidlen;
  uint32_t version;
  uint64_t v;
  aq_rbuf_init(&r, p, len);
  if (aq_rbuf_u8(&r, &first) != 0 || aq_rbuf_u32(&r, &version) != 0 ||
      aq_rbuf_u8(&r, &cidlen) != 0 || aq_rbuf_skip(&r, cidlen) != 0 ||
      aq_rbuf_u8(&r, &cidlen) != 0 || aq_rbuf_skip(&r, cidlen) != 0) {
    return -1;
  }
  /* Initial (type 0 in v1, 1 in v2) carries a token before Length. */
  unsigned type = (first >> 4) & 3;
  if ((version == AQ_QUIC_V2 && type == 1) || (version != AQ_QUIC_V2 && type == 0)) {
    if (aq_rbuf_varint(&r, &v) != 0 || v > aq_rbuf_left(&r) || aq_rbuf_skip(&r, (size_t)v) != 0) {
      return -1;
    }
  }
  if (aq_rbuf_varint(&r, &v) != 0 || v > aq_rbuf_left(&r)) {
    return -1;
  }
  *pn_offset = len - aq_rbuf_left(&r);
  *pktlen = *pn_offset + (size_t)v;
  return 0;
}

/* RFC 9000 §A.3 packet number decoding (the harness's own copy). */
static uint64_t decode_pn(uint64_t largest, uint64_t truncated, size_t nbits) {
  uint64_t expected = largest + 1;
  uint64_t win = 1ULL << nbits;
  uint64_t hwin = win / 2;
  uint64_t candidate = (expected & ~(win - 1)) | truncated;
  if (candidate + hwin <= expected && candidate < (1ULL << 62) - win) {
    return candidate + win;
  }
  if (candidate > expected + hwin && candidate >= win) {
    return candidate - win;
  }
  return candidate;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  aq_pprot tx, rx;
  size_t pn_offset, pktlen, pn_len = 0;
  uint64_t tpn = 0;
  if (size < 2) {
    return 0;
  }
  unsigned ctrl = data[0];
  const uint8_t *in = data + 1;
  size_t len = size - 1;
  if (in[0] & 0x80) {
    if (parse_long(in, len, &pn_offset, &pktlen) != 0) {
      return 0;
    }
  } else {
    pn_offset = 1 + ((ctrl >> 2) & 31) % 21;
    pktlen = len;
  }
  if (keys(&tx, &rx, ctrl & 3) != 0) {
    abort();
  }
  uint8_t *pkt = malloc(pktlen + 1);
  if (pkt == NULL) {
    abort();
  }
  memcpy(pkt, in, pktlen);
  int rv = aq_pprot_unprotect_header(&rx, pkt, pktlen, pn_offset, &pn_len, &tpn);
  if (rv == 0) {
    if (pn_len < 1 || pn_len > 4 || tpn >= (1ULL << (8 * pn_len))) {
      abort();
    }
    size_t hdrlen = pn_offset + pn_len;
    uint64_t pn = decode_pn((ctrl & 0x80) ? 654360563u : 0, tpn, 8 * pn_len);
    aq_ssize n = aq_pprot_open(&rx, pkt, pktlen, hdrlen, pn);
    if (n >= 0) {
      if ((size_t)n != pktlen - hdrlen - AQ_AEAD_TAG_LEN) {
        abort();
      }
      /* Opened: sealing again must reproduce the input exactly. */
      if (aq_pprot_seal(&tx, pkt, pktlen, hdrlen, pn_offset, pn_len, pn) != 0 ||
          memcmp(pkt, in, pktlen) != 0) {
        abort();
      }
    } else if (n != AQ_ERR_DECRYPT && n != AQ_ERR_TRUNCATED) {
      abort();
    }
  } else if (rv != AQ_ERR_TRUNCATED) {
    abort();
  }
  free(pkt);
  aq_pprot_free(&tx);
  aq_pprot_free(&rx);
  return 0;
}
