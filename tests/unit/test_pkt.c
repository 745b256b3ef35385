/*
 * test_pkt.c - packet headers, packet numbers, Version Negotiation, Retry and
 * coalesced packets (RFC 9000 §17, App. A; RFC 9001 App. A; RFC 9369).
 */
#include <stdlib.h>

#include "aq_pkt.h"
#include "aq_qerr.h"
#include "aq_test.h"

/* Load a hex vector from vectors/quic/rfc9001_appendix_a.txt into a malloc'd buffer. */
static uint8_t *load_vec(const char *name, size_t *len) {
  char *path = aq_test_vector_path("quic/rfc9001_appendix_a.txt");
  aq_kv_file kv;
  uint8_t *out = NULL;
  if (path == NULL) {
    return NULL;
  }
  if (aq_kv_load(&kv, path) == 0) {
    const char *hex = aq_kv_find(&kv, name);
    if (hex != NULL) {
      out = aq_test_unhex(hex, len);
    }
    aq_kv_free(&kv);
  }
  free(path);
  return out;
}

/* ------------------------------------------------- RFC 9001 App. A */

AQ_TEST(pkt_rfc9001_client_initial_header) {
  size_t hlen = 0, plen = 0;
  uint8_t *hdr = load_vec("client_initial_unprotected_header", &hlen);
  uint8_t *prot = load_vec("client_initial_packet", &plen);
  static const uint8_t dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
  aq_pkt_hd hd;
  REQUIRE(hdr != NULL && prot != NULL);
  CHECK_INT(hlen, 22);
  CHECK_INT(plen, 1200);

  /* The unprotected header alone: Length (0x449e = 1182) runs past it. */
  CHECK_INT(aq_pkt_decode_hd(&hd, hdr, hlen, 8), AQ_ERR_TRUNCATED);

  /* Unprotected header followed by the packet's remaining bytes. */
  uint8_t *pkt = malloc(plen);
  REQUIRE(pkt != NULL);
  memcpy(pkt, prot, plen);
  memcpy(pkt, hdr, hlen);
  REQUIRE(aq_pkt_decode_hd(&hd, pkt, plen, 8) == 0);
  CHECK_INT(hd.type, AQ_PKT_INITIAL);
  CHECK_INT(hd.version, AQ_PROTO_VER_V1);
  CHECK_INT(hd.first, 0xc3);
  CHECK_INT(hd.first & AQ_PKT_PN_LEN_MASK, 3); /* 4-byte packet number */
  CHECK_INT(hd.dcidlen, 8);
  CHECK_MEM(hd.dcid, dcid, 8);
  CHECK_INT(hd.scidlen, 0);
  CHECK_INT(hd.tokenlen, 0);
  CHECK_INT(hd.length, 1182);
  CHECK_INT(hd.len_offset, 16);
  CHECK_INT(hd.len_width, 2);
  CHECK_INT(hd.pn_offset, 18);
  CHECK_INT(hd.pktlen, 1200);
  /* Packet number 2 in 4 bytes, as the vector says. */
  CHECK_INT(((uint32_t)pkt[18] << 24) | ((uint32_t)pkt[19] << 16) | (pkt[20] << 8) | pkt[21], 2);

  /* The protected packet has the same header span. */
  REQUIRE(aq_pkt_decode_hd(&hd, prot, plen, 8) == 0);
  CHECK_INT(hd.first, 0xc0);
  CHECK_INT(hd.pn_offset, 18);
  CHECK_INT(hd.pktlen, 1200);

  /* Encoding the same fields gives the vector's bytes. */
  uint8_t out[64];
  aq_wbuf w;
  aq_pkt_hd e;
  memset(&e, 0, sizeof(e));
  e.type = AQ_PKT_INITIAL;
  e.version = AQ_PROTO_VER_V1;
  e.dcid = dcid;
  e.dcidlen = 8;
  e.pkt_num = 2;
  e.pn_len = 4;
  aq_wbuf_init(&w, out, sizeof(out));
  REQUIRE(aq_pkt_encode_hd(&w, &e) == 0);
  CHECK_INT(e.pktlen, 22);
  CHECK_INT(e.pn_offset, 18);
  CHECK_INT(aq_pkt_set_length(out, &e, 1200), 0);
  CHECK_INT(aq_wbuf_len(&w), hlen);
  CHECK_MEM(out, hdr, hlen);
  free(pkt);
  free(hdr);
  free(prot);
}

AQ_TEST(pkt_rfc9001_server_initial_and_short) {
  size_t plen = 0, hlen = 0, clen = 0;
  uint8_t *prot = load_vec("server_initial_packet", &plen);
  uint8_t *hdr = load_vec("server_initial_unprotected_header", &hlen);
  uint8_t *chacha = load_vec("chacha_unprotected_header", &clen);
  static const uint8_t scid[8] = {0xf0, 0x67, 0xa5, 0x50, 0x2a, 0x42, 0x62, 0xb5};
  aq_pkt_hd hd;
  REQUIRE(prot != NULL && hdr != NULL && chacha != NULL);
  REQUIRE(aq_pkt_decode_hd(&hd, prot, plen, 0) == 0);
  CHECK_INT(hd.type, AQ_PKT_INITIAL);
  CHECK_INT(hd.dcidlen, 0);
  CHECK_INT(hd.scidlen, 8);
  CHECK_MEM(hd.scid, scid, 8);
  CHECK_INT(hd.length, 0x75);
  CHECK_INT(hd.pn_offset, 18);
  CHECK_INT(hd.pktlen, 18 + 0x75);
  CHECK_INT(hd.pktlen, plen);

  /* Encode the server header: 2-byte PN 1. */
  uint8_t out[64];
  aq_wbuf w;
  aq_pkt_hd e;
  memset(&e, 0, sizeof(e));
  e.type = AQ_PKT_INITIAL;
  e.version = AQ_PROTO_VER_V1;
  e.scid = scid;
  e.scidlen = 8;
  e.pkt_num = 1;
  e.pn_len = 2;
  aq_wbuf_init(&w, out, sizeof(out));
  REQUIRE(aq_pkt_encode_hd(&w, &e) == 0);
  CHECK_INT(aq_pkt_set_length(out, &e, plen), 0);
  CHECK_INT(aq_wbuf_len(&w), hlen);
  CHECK_MEM(out, hdr, hlen);

  /* ChaCha20 example: short header, empty DCID, PN 654360564 in 3 bytes. */
  memset(&e, 0, sizeof(e));
  e.type = AQ_PKT_1RTT;
  e.pkt_num = 654360564;
  e.pn_len = 3;
  aq_wbuf_init(&w, out, sizeof(out));
  REQUIRE(aq_pkt_encode_hd(&w, &e) == 0);
  CHECK_INT(aq_wbuf_len(&w), clen);
  CHECK_MEM(out, chacha, clen);
  CHECK_INT(e.pn_offset, 1);
  REQUIRE(aq_pkt_decode_hd(&hd, chacha, clen, 0) == 0);
  CHECK_INT(hd.type, AQ_PKT_1RTT);
  CHECK_INT(hd.pn_offset, 1);
  CHECK_INT(hd.pktlen, clen);
  CHECK_INT(aq_pkt_pn_decode(654360563, 0x00bff4, 3), 654360564);
  free(prot);
  free(hdr);
  free(chacha);
}

AQ_TEST(pkt_rfc9001_retry) {
  size_t len = 0, tlen = 0;
  uint8_t *retry = load_vec("retry_packet", &len);
  uint8_t *tag = load_vec("retry_integrity_tag", &tlen);
  static const uint8_t scid[8] = {0xf0, 0x67, 0xa5, 0x50, 0x2a, 0x42, 0x62, 0xb5};
  static const uint8_t odcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
  aq_pkt_hd hd;
  REQUIRE(retry != NULL && tag != NULL);
  REQUIRE(aq_pkt_decode_hd(&hd, retry, len, 0) == 0);
  CHECK_INT(hd.type, AQ_PKT_RETRY);
  CHECK_INT(hd.version, AQ_PROTO_VER_V1);
  CHECK_INT(hd.dcidlen, 0);
  CHECK_INT(hd.scidlen, 8);
  CHECK_MEM(hd.scid, scid, 8);
  CHECK_INT(hd.tokenlen, 5);
  CHECK_MEM(hd.token, "token", 5);
  CHECK_MEM(hd.retry_tag, tag, 16);
  CHECK_INT(hd.pktlen, len);

  uint8_t out[128];
  aq_wbuf w;
  aq_wbuf_init(&w, out, sizeof(out));
  REQUIRE(aq_pkt_encode_retry(&w, AQ_PROTO_VER_V1, 0x0f, NULL, 0, scid, 8, (const uint8_t *)"token",
                              5) == 0);
  CHECK_INT(aq_wbuf_len(&w), len - 16);
  CHECK_MEM(out, retry, len - 16);

  /* Pseudo-packet: ODCID length, ODCID, Retry without tag. */
  uint8_t pseudo[128];
  aq_wbuf_init(&w, pseudo, sizeof(pseudo));
  REQUIRE(aq_pkt_retry_pseudo(&w, odcid, 8, retry, len - 16) == 0);
  CHECK_INT(aq_wbuf_len(&w), 1 + 8 + len - 16);
  CHECK_INT(pseudo[0], 8);
  CHECK_MEM(pseudo + 1, odcid, 8);
  CHECK_MEM(pseudo + 9, retry, len - 16);

  /* Shorter than the tag: malformed; empty token cannot be encoded. */
  CHECK_INT(aq_pkt_decode_hd(&hd, retry, 1 + 4 + 1 + 1 + 8 + 15, 0), AQ_ERR_MALFORMED);
  aq_wbuf_init(&w, out, sizeof(out));
  CHECK_INT(aq_pkt_encode_retry(&w, AQ_PROTO_VER_V1, 0, NULL, 0, scid, 8, NULL, 0),
            AQ_ERR_INVALID_ARGUMENT);
  free(retry);
  free(tag);
}

/* -------------------------------------------------- packet numbers */

AQ_TEST(pkt_pn_decode_rfc9000_a3) {
  /* RFC 9000 App. A.3: "if the highest successfully authenticated packet
   * had a packet number of 0xa82f30ea, then a packet containing a 16-bit
   * value of 0x9b32 will be decoded as 0xa82f9b32". */
  CHECK(aq_pkt_pn_decode(0xa82f30ea, 0x9b32, 2) == 0xa82f9b32ULL);
  /* No packet yet: expected 0. */
  CHECK(aq_pkt_pn_decode(UINT64_MAX, 0, 1) == 0);
  CHECK(aq_pkt_pn_decode(UINT64_MAX, 5, 4) == 5);
  /* Wrap downward and upward around the window. */
  CHECK(aq_pkt_pn_decode(0x100, 0xff, 1) == 0xff);
  CHECK(aq_pkt_pn_decode(0xff, 0x01, 1) == 0x101);
  CHECK(aq_pkt_pn_decode(0x17f, 0x00, 1) == 0x200);
  /* Near 2^62: never return a value past the largest packet number. */
  CHECK(aq_pkt_pn_decode(AQ_MAX_PKT_NUM - 1, 0x00, 1) <= AQ_MAX_PKT_NUM);
}

AQ_TEST(pkt_pn_len_rfc9000_17_1) {
  /* §17.1: 0xac5c02 with 0xabe8b3 acked needs 16 bits; 0xace8fe needs 24. */
  CHECK_INT(aq_pkt_pn_len(0xac5c02, 0xabe8b3), 2);
  CHECK_INT(aq_pkt_pn_len(0xace8fe, 0xabe8b3), 3);
  CHECK_INT(aq_pkt_pn_len(0, UINT64_MAX), 1);
  CHECK_INT(aq_pkt_pn_len(127, UINT64_MAX), 1);
  TESTCASE(128 == 1u << 7); /* 2^(8n-1) unacked still fit n bytes */
  CHECK_INT(aq_pkt_pn_len(128, 0), 1);
  CHECK_INT(aq_pkt_pn_len(129, 0), 2);
  CHECK_INT(aq_pkt_pn_len(1u << 15, 0), 2);
  CHECK_INT(aq_pkt_pn_len((1u << 15) + 1, 0), 3);
  CHECK_INT(aq_pkt_pn_len((1u << 23) + 1, 0), 4);
  CHECK_INT(aq_pkt_pn_len(1ULL << 40, 0), 4);
}

AQ_TEST(pkt_pn_roundtrip_property) {
  /* Whatever length aq_pkt_pn_len picks, a receiver whose largest received
   * PN is anywhere in [largest_acked, pn) decodes the truncation back. */
  uint64_t seed = 42;
  for (int i = 0; i < 20000; i++) {
    uint8_t rnd[16];
    (void)aq_test_rand(rnd, sizeof(rnd), &seed);
    uint64_t acked = 0, gap = 0;
    for (int k = 0; k < 5; k++) {
      acked = (acked << 8) | rnd[k];
    }
    int shift = rnd[8] % 31;
    for (int k = 9; k < 13; k++) {
      gap = (gap << 8) | rnd[k];
    }
    gap = (gap >> (32 - shift)) + 1; /* 1 .. 2^31 */
    if (gap > (1ULL << 31) - 1) {
      gap = (1ULL << 31) - 1;
    }
    uint64_t pn = acked + gap;
    size_t len = aq_pkt_pn_len(pn, acked);
    uint64_t trunc = pn & ((1ULL << (8 * len)) - 1);
    uint64_t largest_rx = acked + (gap > 1 ? (uint64_t)rnd[14] % gap : 0);
    if (largest_rx >= pn) {
      largest_rx = pn - 1;
    }
    if (aq_pkt_pn_decode(acked, trunc, len) != pn ||
        aq_pkt_pn_decode(largest_rx, trunc, len) != pn) {
      aq_test_fail(__FILE__, __LINE__, "pn %llu acked %llu len %zu", (unsigned long long)pn,
                   (unsigned long long)acked, len);
      return;
    }
  }
}

/* ------------------------------------------------------ long headers */

static size_t build(uint8_t *buf, size_t cap, aq_pkt_hd *e, size_t payload) {
  aq_wbuf w;
  aq_wbuf_init(&w, buf, cap);
  if (aq_pkt_encode_hd(&w, e) != 0) {
    return 0;
  }
  aq_wbuf_zeros(&w, payload);
  if (aq_wbuf_error(&w) != 0) {
    return 0;
  }
  if (e->type != AQ_PKT_1RTT && aq_pkt_set_length(buf, e, aq_wbuf_len(&w)) != 0) {
    return 0;
  }
  return aq_wbuf_len(&w);
}

AQ_TEST(pkt_long_roundtrip_v1_v2) {
  static const uint8_t dcid[20] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                   11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
  static const uint8_t scid[5] = {0xa, 0xb, 0xc, 0xd, 0xe};
  static const uint8_t token[3] = {0x77, 0x88, 0x99};
  static const aq_pkt_type types[] = {AQ_PKT_INITIAL, AQ_PKT_0RTT, AQ_PKT_HANDSHAKE};
  static const uint32_t versions[] = {AQ_PROTO_VER_V1, AQ_PROTO_VER_V2};
  /* RFC 9369 §3.2: v2 Initial 0b01, 0-RTT 0b10, Handshake 0b11. */
  static const uint8_t v2bits[] = {1, 2, 3};
  for (size_t v = 0; v < 2; v++) {
    for (size_t t = 0; t < 3; t++) {
      for (size_t pnl = 1; pnl <= 4; pnl++) {
        uint8_t buf[256];
        aq_pkt_hd e, d;
        memset(&e, 0, sizeof(e));
        e.type = types[t];
        e.version = versions[v];
        e.dcid = dcid;
        e.dcidlen = 20;
        e.scid = scid;
        e.scidlen = 5;
        e.token = token;
        e.tokenlen = types[t] == AQ_PKT_INITIAL ? 3 : 0;
        e.pkt_num = 0x12345678;
        e.pn_len = pnl;
        e.len_width = pnl == 3 ? 4 : 0;
        size_t n = build(buf, sizeof(buf), &e, 30);
        REQUIRE(n > 0);
        CHECK_INT((buf[0] >> 4) & 3, v == 0 ? (int)t : v2bits[t]);
        CHECK_INT(buf[0] & 3, pnl - 1);
        REQUIRE(aq_pkt_decode_hd(&d, buf, n, 0) == 0);
        CHECK_INT(d.type, types[t]);
        CHECK_INT(d.version, versions[v]);
        CHECK_INT(d.dcidlen, 20);
        CHECK_MEM(d.dcid, dcid, 20);
        CHECK_INT(d.scidlen, 5);
        CHECK_MEM(d.scid, scid, 5);
        CHECK_INT(d.tokenlen, e.tokenlen);
        if (e.tokenlen) {
          CHECK_MEM(d.token, token, 3);
        }
        CHECK_INT(d.pn_offset, e.pn_offset);
        CHECK_INT(d.len_offset, e.len_offset);
        CHECK_INT(d.len_width, e.len_width);
        CHECK_INT(d.length, pnl + 30);
        CHECK_INT(d.pktlen, n);
        /* Truncation at every offset: an error, never a crash. */
        for (size_t cut = 0; cut < n; cut++) {
          uint8_t *copy = malloc(cut ? cut : 1);
          REQUIRE(copy != NULL);
          memcpy(copy, buf, cut);
          CHECK(aq_pkt_decode_hd(&d, copy, cut, 0) != 0);
          free(copy);
        }
      }
    }
  }
}

AQ_TEST(pkt_header_rejects) {
  static const uint8_t cid[21] = {0};
  uint8_t buf[256];
  aq_pkt_hd e, d;
  size_t n;
  memset(&e, 0, sizeof(e));
  e.type = AQ_PKT_HANDSHAKE;
  e.version = AQ_PROTO_VER_V1;
  e.dcid = cid;
  e.dcidlen = 8;
  e.pkt_num = 7;
  e.pn_len = 1;
  n = build(buf, sizeof(buf), &e, 20);
  REQUIRE(n > 0);
  REQUIRE(aq_pkt_decode_hd(&d, buf, n, 0) == 0);
  /* Fixed bit 0 → discard (RFC 9000 §17.2). */
  buf[0] &= (uint8_t)~AQ_PKT_FIXED_BIT;
  CHECK_INT(aq_pkt_decode_hd(&d, buf, n, 0), AQ_ERR_MALFORMED);
  buf[0] |= AQ_PKT_FIXED_BIT;
  /* DCID length 21 in v1 → discard. */
  buf[5] = 21;
  CHECK_INT(aq_pkt_decode_hd(&d, buf, n, 0), AQ_ERR_MALFORMED);
  buf[5] = 8;
  /* Length one past the end: truncated; exactly the end: fine. */
  CHECK_INT(aq_pkt_decode_hd(&d, buf, n - 1, 0), AQ_ERR_TRUNCATED);
  CHECK_INT(aq_pkt_decode_hd(&d, buf, n, 0), 0);
  /* Trailing bytes belong to the next coalesced packet, not this one. */
  CHECK_INT(aq_pkt_decode_hd(&d, buf, n + 3, 0), 0);
  CHECK_INT(d.pktlen, n);
  /* Encoder refuses what the decoder would refuse. */
  aq_wbuf w;
  aq_wbuf_init(&w, buf, sizeof(buf));
  e.dcidlen = 21;
  CHECK_INT(aq_pkt_encode_hd(&w, &e), AQ_ERR_INVALID_ARGUMENT);
  e.dcidlen = 8;
  e.pn_len = 5;
  CHECK_INT(aq_pkt_encode_hd(&w, &e), AQ_ERR_INVALID_ARGUMENT);
  e.pn_len = 0;
  CHECK_INT(aq_pkt_encode_hd(&w, &e), AQ_ERR_INVALID_ARGUMENT);
  e.pn_len = 1;
  e.version = 0x1a2a3a4a;
  CHECK_INT(aq_pkt_encode_hd(&w, &e), AQ_ERR_INVALID_ARGUMENT);
  e.version = AQ_PROTO_VER_V1;
  e.type = AQ_PKT_RETRY;
  CHECK_INT(aq_pkt_encode_hd(&w, &e), AQ_ERR_INVALID_ARGUMENT);
  e.type = AQ_PKT_HANDSHAKE;
  e.pkt_num = AQ_MAX_PKT_NUM + 1;
  CHECK_INT(aq_pkt_encode_hd(&w, &e), AQ_ERR_VALUE_RANGE);
  /* A Length too big for its 1-byte field. */
  e.pkt_num = 1;
  e.len_width = 1;
  aq_wbuf_init(&w, buf, sizeof(buf));
  REQUIRE(aq_pkt_encode_hd(&w, &e) == 0);
  CHECK_INT(aq_pkt_set_length(buf, &e, e.pn_offset + 63), 0);
  CHECK_INT(aq_pkt_set_length(buf, &e, e.pn_offset + 64), AQ_ERR_VALUE_RANGE);
  CHECK_INT(aq_pkt_set_length(buf, &e, e.pn_offset - 1), AQ_ERR_INVALID_ARGUMENT);
  /* Too small a buffer: sticky writer error. */
  uint8_t small[10];
  aq_wbuf_init(&w, small, sizeof(small));
  e.len_width = 0;
  CHECK_INT(aq_pkt_encode_hd(&w, &e), AQ_ERR_BUFFER_TOO_SMALL);
  /* Short header: fixed bit, and too short for DCID + 1 byte of PN. */
  uint8_t s[4] = {0x40, 1, 2, 3};
  CHECK_INT(aq_pkt_decode_hd(&d, s, 4, 3), AQ_ERR_TRUNCATED);
  CHECK_INT(aq_pkt_decode_hd(&d, s, 4, 2), 0);
  CHECK_INT(d.pn_offset, 3);
  s[0] = 0x00;
  CHECK_INT(aq_pkt_decode_hd(&d, s, 4, 2), AQ_ERR_MALFORMED);
  CHECK_INT(aq_pkt_decode_hd(&d, s, 4, 21), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_pkt_decode_hd(&d, s, 0, 0), AQ_ERR_TRUNCATED);
}

AQ_TEST(pkt_short_header_bits) {
  static const uint8_t dcid[8] = {9, 8, 7, 6, 5, 4, 3, 2};
  uint8_t buf[64];
  aq_pkt_hd e, d;
  aq_wbuf w;
  memset(&e, 0, sizeof(e));
  e.type = AQ_PKT_1RTT;
  e.dcid = dcid;
  e.dcidlen = 8;
  e.pkt_num = 0xabcdef;
  e.pn_len = 2;
  e.key_phase = 1;
  e.spin = 1;
  aq_wbuf_init(&w, buf, sizeof(buf));
  REQUIRE(aq_pkt_encode_hd(&w, &e) == 0);
  CHECK_INT(aq_wbuf_len(&w), 1 + 8 + 2);
  CHECK_INT(buf[0], 0x40 | 0x20 | 0x04 | 0x01);
  CHECK_INT(buf[9], 0xcd);
  CHECK_INT(buf[10], 0xef);
  REQUIRE(aq_pkt_decode_hd(&d, buf, aq_wbuf_len(&w), 8) == 0);
  CHECK_INT(d.type, AQ_PKT_1RTT);
  CHECK_MEM(d.dcid, dcid, 8);
  CHECK_INT(d.pn_offset, 9);
  CHECK_INT(d.pktlen, 11);
  /* A 1-RTT header has no Length to patch. */
  CHECK_INT(aq_pkt_set_length(buf, &e, 40), AQ_ERR_INVALID_ARGUMENT);
}

/* -------------------------------------------------------------- VN */

AQ_TEST(pkt_version_negotiation) {
  uint8_t dcid[255], scid[255];
  static const uint32_t vers[] = {AQ_PROTO_VER_V1, AQ_PROTO_VER_V2, 0x0a0a0a0a};
  for (size_t i = 0; i < 255; i++) {
    dcid[i] = (uint8_t)i;
    scid[i] = (uint8_t)(255 - i);
  }
  uint8_t buf[1024];
  aq_wbuf w;
  aq_pkt_vn vn;
  aq_pkt_hd hd;
  aq_wbuf_init(&w, buf, sizeof(buf));
  /* RFC 8999: CIDs of up to 255 bytes must be echoed and parsed. */
  REQUIRE(aq_pkt_encode_vn(&w, 0xff, dcid, 255, scid, 200, vers, 3) == 0);
  size_t n = aq_wbuf_len(&w);
  CHECK_INT(n, 1 + 4 + 1 + 255 + 1 + 200 + 12);
  CHECK_INT(buf[0] & 0x80, 0x80);
  CHECK_INT(buf[0], 0xff);
  REQUIRE(aq_pkt_decode_vn(&vn, buf, n) == 0);
  CHECK_INT(vn.dcidlen, 255);
  CHECK_MEM(vn.dcid, dcid, 255);
  CHECK_INT(vn.scidlen, 200);
  CHECK_MEM(vn.scid, scid, 200);
  REQUIRE(vn.nversions == 3);
  for (size_t i = 0; i < 3; i++) {
    CHECK(aq_pkt_vn_version(&vn, i) == vers[i]);
  }
  REQUIRE(aq_pkt_decode_hd(&hd, buf, n, 0) == 0);
  CHECK_INT(hd.type, AQ_PKT_VERSION_NEGOTIATION);
  CHECK_INT(hd.dcidlen, 255);
  CHECK_INT(hd.pktlen, n);
  /* Every truncation before the version list fails; inside it, only cuts
   * at whole versions decode (VN has no length: fewer versions). */
  for (size_t cut = 0; cut < n; cut++) {
    int rv = aq_pkt_decode_vn(&vn, buf, cut);
    if (cut > n - 12 && (n - cut) % 4 == 0) {
      CHECK_INT(rv, 0);
      CHECK_INT(vn.nversions, 3 - (n - cut) / 4);
    } else {
      CHECK(rv == AQ_ERR_TRUNCATED || rv == AQ_ERR_MALFORMED);
    }
  }
  CHECK_INT(aq_pkt_decode_vn(&vn, buf, n - 1), AQ_ERR_MALFORMED);
  CHECK_INT(aq_pkt_decode_vn(&vn, buf, n - 12), AQ_ERR_TRUNCATED);
  buf[4] = 1;
  CHECK_INT(aq_pkt_decode_vn(&vn, buf, n), AQ_ERR_MALFORMED);
  aq_wbuf_init(&w, buf, sizeof(buf));
  CHECK_INT(aq_pkt_encode_vn(&w, 0, dcid, 1, scid, 1, vers, 0), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_pkt_encode_vn(&w, 0, dcid, 256, scid, 1, vers, 1), AQ_ERR_INVALID_ARGUMENT);
}

AQ_TEST(pkt_unknown_version_invariants) {
  /* A long header of an unknown version with 40-byte CIDs (RFC 8999). */
  uint8_t buf[128];
  size_t n = 0;
  buf[n++] = 0x80; /* no fixed bit: invariants do not require it */
  buf[n++] = 0xfa;
  buf[n++] = 0xce;
  buf[n++] = 0xb0;
  buf[n++] = 0x0c;
  buf[n++] = 40;
  for (int i = 0; i < 40; i++) {
    buf[n++] = (uint8_t)i;
  }
  buf[n++] = 3;
  buf[n++] = 7;
  buf[n++] = 8;
  buf[n++] = 9;
  buf[n++] = 0x55;
  aq_pkt_hd hd;
  REQUIRE(aq_pkt_decode_hd(&hd, buf, n, 0) == 0);
  CHECK_INT(hd.type, AQ_PKT_UNKNOWN_VERSION);
  CHECK(hd.version == 0xfaceb00c);
  CHECK_INT(hd.dcidlen, 40);
  CHECK_INT(hd.scidlen, 3);
  CHECK_INT(hd.pktlen, n);
  for (size_t cut = 0; cut < 5 + 1 + 40 + 1 + 3; cut++) {
    CHECK_INT(aq_pkt_decode_hd(&hd, buf, cut, 0), AQ_ERR_TRUNCATED);
  }
}

/* --------------------------------------------------------- coalesced */

AQ_TEST(pkt_coalesced_iteration) {
  static const uint8_t dcid[4] = {1, 2, 3, 4};
  uint8_t dgram[512];
  size_t off = 0, lens[3];
  aq_pkt_hd e;
  static const aq_pkt_type types[3] = {AQ_PKT_INITIAL, AQ_PKT_HANDSHAKE, AQ_PKT_1RTT};
  for (int i = 0; i < 3; i++) {
    memset(&e, 0, sizeof(e));
    e.type = types[i];
    e.version = AQ_PROTO_VER_V1;
    e.dcid = dcid;
    e.dcidlen = 4;
    e.pkt_num = (uint64_t)i;
    e.pn_len = 1;
    lens[i] = build(dgram + off, sizeof(dgram) - off, &e, (size_t)(40 + 10 * i));
    REQUIRE(lens[i] > 0);
    off += lens[i];
  }
  aq_pkt_iter it;
  aq_pkt_hd hd;
  const uint8_t *p;
  size_t plen;
  aq_pkt_iter_init(&it, dgram, off, 4);
  for (int i = 0; i < 3; i++) {
    REQUIRE(aq_pkt_iter_next(&it, &hd, &p, &plen) == 1);
    CHECK_INT(hd.type, types[i]);
    CHECK_INT(plen, lens[i]);
  }
  CHECK_INT(aq_pkt_iter_next(&it, &hd, &p, &plen), 0);

  /* Second packet's Length pushed past the datagram: the first stays valid,
   * then the iterator reports the error and stops. */
  aq_pkt_hd h2;
  REQUIRE(aq_pkt_decode_hd(&h2, dgram + lens[0], off - lens[0], 4) == 0);
  aq_varint_put(dgram + lens[0] + h2.len_offset, 1000, 2);
  aq_pkt_iter_init(&it, dgram, off, 4);
  CHECK_INT(aq_pkt_iter_next(&it, &hd, &p, &plen), 1);
  CHECK_INT(aq_pkt_iter_next(&it, &hd, &p, &plen), AQ_ERR_TRUNCATED);
  CHECK_INT(aq_pkt_iter_next(&it, &hd, &p, &plen), 0);
  aq_pkt_iter_init(&it, dgram, 0, 4);
  CHECK_INT(aq_pkt_iter_next(&it, &hd, &p, &plen), 0);
}

AQ_TEST(pkt_type_mapping) {
  uint8_t bits;
  aq_pkt_type t;
  for (uint8_t b = 0; b < 4; b++) {
    REQUIRE(aq_pkt_long_type_from_bits(AQ_PROTO_VER_V1, b, &t) == 0);
    REQUIRE(aq_pkt_long_type_bits(AQ_PROTO_VER_V1, t, &bits) == 0);
    CHECK_INT(bits, b);
    REQUIRE(aq_pkt_long_type_from_bits(AQ_PROTO_VER_V2, b, &t) == 0);
    REQUIRE(aq_pkt_long_type_bits(AQ_PROTO_VER_V2, t, &bits) == 0);
    CHECK_INT(bits, b);
  }
  REQUIRE(aq_pkt_long_type_from_bits(AQ_PROTO_VER_V2, 0, &t) == 0);
  CHECK_INT(t, AQ_PKT_RETRY);
  REQUIRE(aq_pkt_long_type_from_bits(AQ_PROTO_VER_V1, 3, &t) == 0);
  CHECK_INT(t, AQ_PKT_RETRY);
  CHECK_INT(aq_pkt_long_type_bits(AQ_PROTO_VER_V1, AQ_PKT_1RTT, &bits), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_pkt_long_type_bits(7, AQ_PKT_INITIAL, &bits), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_pkt_long_type_from_bits(AQ_PROTO_VER_V1, 4, &t), AQ_ERR_INVALID_ARGUMENT);

  aq_cid a, b;
  static const uint8_t x[21] = {1};
  CHECK_INT(aq_cid_init(&a, x, 21), AQ_ERR_VALUE_RANGE);
  REQUIRE(aq_cid_init(&a, x, 20) == 0);
  REQUIRE(aq_cid_init(&b, x, 20) == 0);
  CHECK(aq_cid_eq(&a, &b));
  REQUIRE(aq_cid_init(&b, x, 19) == 0);
  CHECK(!aq_cid_eq(&a, &b));
}

AQ_TEST(pkt_reserved_bits_and_pn_read) {
  /* RFC 9001 App. A: unprotected first bytes 0xc3 (client) / 0xc1 (server) / 0x42 (short). */
  CHECK_INT(aq_pkt_check_reserved(0xc3), 0);
  CHECK_INT(aq_pkt_check_reserved(0xc1), 0);
  CHECK_INT(aq_pkt_check_reserved(0x42), 0);
  CHECK_INT(aq_pkt_check_reserved(0xc7), AQ_ERR_PROTO); /* long reserved 0x04 */
  CHECK_INT(aq_pkt_check_reserved(0xcb), AQ_ERR_PROTO); /* long reserved 0x08 */
  CHECK_INT(aq_pkt_check_reserved(0x44 | 0x20), 0);     /* key phase + spin are not reserved */
  CHECK_INT(aq_pkt_check_reserved(0x48), AQ_ERR_PROTO); /* short reserved 0x08 */
  CHECK_INT(aq_pkt_check_reserved(0x50), AQ_ERR_PROTO); /* short reserved 0x10 */
  CHECK_INT(aq_qerr_from_err(AQ_ERR_PROTO, AQ_QERR_FRAME_ENCODING_ERROR),
            AQ_QERR_PROTOCOL_VIOLATION);
  CHECK_INT(aq_pkt_pn_len_from_first(0xc3), 4);
  CHECK_INT(aq_pkt_pn_len_from_first(0xc1), 2);
  CHECK_INT(aq_pkt_pn_len_from_first(0x42), 3);
  CHECK_INT(aq_pkt_pn_len_from_first(0x40), 1);
  static const uint8_t pn[4] = {0x00, 0xbf, 0xf4, 0x99};
  CHECK_INT(aq_pkt_read_pn(pn, 3), 0x00bff4);
  CHECK_INT(aq_pkt_read_pn(pn + 1, 1), 0xbf);
  CHECK(aq_pkt_read_pn(pn, 4) == 0x00bff499u);
}
