/*
 * test_frame.c - QUIC frame codec (RFC 9000 §19, RFC 9221, address discovery
 * and NAT traversal drafts), permission table (§12.4 Table 3) and classes.
 */
#include <stdlib.h>

#include "aq_frame.h"
#include "aq_test.h"

static const uint8_t k_data[] = "hello, quic stream data 0123456789";
static const uint8_t k_reason[] = "bye";

/*
 * Equal frames: same type and fields; byte strings compared by content.
 * Decoder-derived ACK fields (smallest, wire_ranges, truncated) are
 * compared only when both sides have them.
 */
static int frame_eq(const aq_frame *a, const aq_frame *b) {
  aq_frame x, y;
  const uint8_t *pa = NULL, *pb = NULL;
  size_t la = 0, lb = 0;
  memcpy(&x, a, sizeof(x));
  memcpy(&y, b, sizeof(y));
  if (x.type != y.type) {
    return 0;
  }
  switch (x.type) {
  case AQ_FT_CRYPTO:
    pa = x.u.crypto.data, la = x.u.crypto.datalen, pb = y.u.crypto.data, lb = y.u.crypto.datalen;
    x.u.crypto.data = y.u.crypto.data = NULL;
    break;
  case AQ_FT_NEW_TOKEN:
    pa = x.u.new_token.token, la = x.u.new_token.tokenlen;
    pb = y.u.new_token.token, lb = y.u.new_token.tokenlen;
    x.u.new_token.token = y.u.new_token.token = NULL;
    break;
  case AQ_FT_CONNECTION_CLOSE:
  case AQ_FT_CONNECTION_CLOSE_APP:
    pa = x.u.close.reason, la = x.u.close.reasonlen, pb = y.u.close.reason,
    lb = y.u.close.reasonlen;
    x.u.close.reason = y.u.close.reason = NULL;
    break;
  case AQ_FT_DATAGRAM:
  case AQ_FT_DATAGRAM_LEN:
    pa = x.u.datagram.data, la = x.u.datagram.datalen;
    pb = y.u.datagram.data, lb = y.u.datagram.datalen;
    x.u.datagram.data = y.u.datagram.data = NULL;
    break;
  case AQ_FT_ACK:
  case AQ_FT_ACK_ECN:
    x.u.ack.smallest = y.u.ack.smallest = 0;
    x.u.ack.wire_ranges = y.u.ack.wire_ranges = 0;
    x.u.ack.truncated = y.u.ack.truncated = 0;
    break;
  default:
    if (x.type >= 0x08 && x.type <= 0x0f) {
      pa = x.u.stream.data, la = x.u.stream.datalen, pb = y.u.stream.data, lb = y.u.stream.datalen;
      x.u.stream.data = y.u.stream.data = NULL;
    }
    break;
  }
  if (la != lb || (la > 0 && memcmp(pa, pb, la) != 0)) {
    return 0;
  }
  return memcmp(&x, &y, sizeof(x)) == 0;
}

static aq_frame *new_frame(uint64_t type) {
  aq_frame *f = calloc(1, sizeof(*f));
  if (f != NULL) {
    f->type = type;
  }
  return f;
}

/* Build one example of every frame type (index i; NULL past the end). */
static aq_frame *sample(size_t i) {
  static const uint64_t types[] = {AQ_FT_PADDING,
                                   AQ_FT_PING,
                                   AQ_FT_ACK,
                                   AQ_FT_ACK_ECN,
                                   AQ_FT_RESET_STREAM,
                                   AQ_FT_STOP_SENDING,
                                   AQ_FT_CRYPTO,
                                   AQ_FT_NEW_TOKEN,
                                   0x08,
                                   0x09,
                                   0x0a,
                                   0x0b,
                                   0x0c,
                                   0x0d,
                                   0x0e,
                                   0x0f,
                                   AQ_FT_MAX_DATA,
                                   AQ_FT_MAX_STREAM_DATA,
                                   AQ_FT_MAX_STREAMS_BIDI,
                                   AQ_FT_MAX_STREAMS_UNI,
                                   AQ_FT_DATA_BLOCKED,
                                   AQ_FT_STREAM_DATA_BLOCKED,
                                   AQ_FT_STREAMS_BLOCKED_BIDI,
                                   AQ_FT_STREAMS_BLOCKED_UNI,
                                   AQ_FT_NEW_CONNECTION_ID,
                                   AQ_FT_RETIRE_CONNECTION_ID,
                                   AQ_FT_PATH_CHALLENGE,
                                   AQ_FT_PATH_RESPONSE,
                                   AQ_FT_CONNECTION_CLOSE,
                                   AQ_FT_CONNECTION_CLOSE_APP,
                                   AQ_FT_HANDSHAKE_DONE,
                                   AQ_FT_DATAGRAM,
                                   AQ_FT_DATAGRAM_LEN,
                                   AQ_FT_OBSERVED_ADDRESS_V4,
                                   AQ_FT_OBSERVED_ADDRESS_V6,
                                   AQ_FT_ADD_ADDRESS_V4,
                                   AQ_FT_ADD_ADDRESS_V6,
                                   AQ_FT_PUNCH_ME_NOW_V4,
                                   AQ_FT_PUNCH_ME_NOW_V6,
                                   AQ_FT_REMOVE_ADDRESS};
  static const uint8_t ip4[4] = {192, 0, 2, 33};
  static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34};
  if (i >= sizeof(types) / sizeof(types[0])) {
    return NULL;
  }
  aq_frame *f = new_frame(types[i]);
  if (f == NULL) {
    return NULL;
  }
  uint64_t t = f->type;
  switch (t) {
  case AQ_FT_PADDING: f->u.padding.len = 5; break;
  case AQ_FT_ACK:
  case AQ_FT_ACK_ECN:
    f->u.ack.largest = 100000;
    f->u.ack.ack_delay = 1234;
    f->u.ack.first_range = 10;
    f->u.ack.nranges = 3;
    f->u.ack.ranges[0].gap = 0;
    f->u.ack.ranges[0].len = 5;
    f->u.ack.ranges[1].gap = 300;
    f->u.ack.ranges[1].len = 0;
    f->u.ack.ranges[2].gap = 20000;
    f->u.ack.ranges[2].len = 70;
    if (t == AQ_FT_ACK_ECN) {
      f->u.ack.ect0 = 17;
      f->u.ack.ect1 = 1ULL << 40;
      f->u.ack.ce = 3;
    }
    break;
  case AQ_FT_RESET_STREAM:
    f->u.reset_stream.stream_id = 4;
    f->u.reset_stream.app_error = 0x1234567;
    f->u.reset_stream.final_size = 1ULL << 33;
    break;
  case AQ_FT_STOP_SENDING:
    f->u.stop_sending.stream_id = 3;
    f->u.stop_sending.app_error = 77;
    break;
  case AQ_FT_CRYPTO:
    f->u.crypto.offset = 1000;
    f->u.crypto.data = k_data;
    f->u.crypto.datalen = 20;
    break;
  case AQ_FT_NEW_TOKEN:
    f->u.new_token.token = k_data;
    f->u.new_token.tokenlen = 9;
    break;
  case AQ_FT_MAX_DATA:
  case AQ_FT_DATA_BLOCKED: f->u.max_data.max = 1ULL << 50; break;
  case AQ_FT_MAX_STREAM_DATA:
  case AQ_FT_STREAM_DATA_BLOCKED:
    f->u.max_stream_data.stream_id = 8;
    f->u.max_stream_data.max = 65536;
    break;
  case AQ_FT_MAX_STREAMS_BIDI:
  case AQ_FT_MAX_STREAMS_UNI:
  case AQ_FT_STREAMS_BLOCKED_BIDI:
  case AQ_FT_STREAMS_BLOCKED_UNI:
    f->u.max_streams.max = 1ULL << 60; /* the largest allowed */
    break;
  case AQ_FT_NEW_CONNECTION_ID:
    f->u.new_cid.seq = 7;
    f->u.new_cid.retire_prior_to = 7;
    f->u.new_cid.cid.len = 20;
    memset(f->u.new_cid.cid.data, 0xc1, 20);
    memset(f->u.new_cid.reset_token, 0x5a, 16);
    break;
  case AQ_FT_RETIRE_CONNECTION_ID: f->u.retire_cid.seq = 300; break;
  case AQ_FT_PATH_CHALLENGE:
  case AQ_FT_PATH_RESPONSE: memcpy(f->u.path.data, "\x01\x02\x03\x04\x05\x06\x07\x08", 8); break;
  case AQ_FT_CONNECTION_CLOSE:
  case AQ_FT_CONNECTION_CLOSE_APP:
    f->u.close.error_code = t == AQ_FT_CONNECTION_CLOSE ? AQ_QERR_PROTOCOL_VIOLATION : 0x99;
    f->u.close.frame_type = t == AQ_FT_CONNECTION_CLOSE ? AQ_FT_STREAM : 0;
    f->u.close.reason = k_reason;
    f->u.close.reasonlen = 3;
    break;
  case AQ_FT_DATAGRAM:
  case AQ_FT_DATAGRAM_LEN:
    f->u.datagram.data = k_data;
    f->u.datagram.datalen = 11;
    break;
  case AQ_FT_OBSERVED_ADDRESS_V4:
  case AQ_FT_ADD_ADDRESS_V4:
  case AQ_FT_PUNCH_ME_NOW_V4:
    f->u.addr.seq = 5;
    f->u.addr.round = t == AQ_FT_PUNCH_ME_NOW_V4 ? 2 : 0;
    f->u.addr.addr = aq_addr_ipv4(ip4, 4433);
    break;
  case AQ_FT_OBSERVED_ADDRESS_V6:
  case AQ_FT_ADD_ADDRESS_V6:
  case AQ_FT_PUNCH_ME_NOW_V6:
    f->u.addr.seq = 70000;
    f->u.addr.round = t == AQ_FT_PUNCH_ME_NOW_V6 ? 1ULL << 35 : 0;
    f->u.addr.addr = aq_addr_ipv6(ip6, 65535);
    break;
  case AQ_FT_REMOVE_ADDRESS: f->u.addr.seq = 12; break;
  default:
    if (t >= 0x08 && t <= 0x0f) {
      f->u.stream.stream_id = 0x3fff + t;
      f->u.stream.offset = (t & AQ_FT_STREAM_OFF) ? 1ULL << 31 : 0;
      f->u.stream.data = k_data;
      f->u.stream.datalen = 17;
      f->u.stream.fin = (uint8_t)(t & 1);
    }
    break;
  }
  return f;
}

/* A frame with no Length field runs to the end: a cut can be a shorter frame. */
static int runs_to_end(uint64_t t) {
  return t == AQ_FT_PADDING || t == AQ_FT_DATAGRAM ||
         (t >= 0x08 && t <= 0x0f && !(t & AQ_FT_STREAM_LEN));
}

AQ_TEST(frame_roundtrip_every_type) {
  size_t count = 0;
  for (size_t i = 0;; i++) {
    aq_frame *f = sample(i);
    if (f == NULL) {
      break;
    }
    count++;
    uint8_t buf[512];
    aq_wbuf w;
    aq_rbuf r;
    aq_frame d;
    aq_wbuf_init(&w, buf, sizeof(buf));
    if (aq_frame_encode(&w, f) != 0) {
      aq_test_fail(__FILE__, __LINE__, "encode type 0x%llx", (unsigned long long)f->type);
      free(f);
      continue;
    }
    size_t n = aq_wbuf_len(&w);
    CHECK_INT(aq_frame_encoded_len(f), n);
    aq_rbuf_init(&r, buf, n);
    memset(&d, 0, sizeof(d)); /* frame_eq compares whole structs; the decoder skips unused ACK ranges */
    CHECK_INT(aq_frame_decode(&d, &r), 0);
    CHECK_INT(aq_rbuf_left(&r), 0);
    if (!frame_eq(f, &d) || !aq_frame_eq(f, &d)) {
      aq_test_fail(__FILE__, __LINE__, "round trip type 0x%llx", (unsigned long long)f->type);
    }
    /* A flipped last byte that still decodes is a different frame. */
    {
      aq_frame d2;
      uint8_t flipped[512];
      memcpy(flipped, buf, n);
      flipped[n - 1] ^= 0x01;
      aq_rbuf_init(&r, flipped, n);
      if (aq_frame_decode(&d2, &r) == 0 && aq_rbuf_left(&r) == 0) {
        CHECK(!aq_frame_eq(&d, &d2));
        CHECK(!frame_eq(&d, &d2));
      }
    }
    /* Decoded data fields point into the input (zero-copy). */
    if (f->type == AQ_FT_CRYPTO) {
      CHECK(d.u.crypto.data >= buf && d.u.crypto.data < buf + n);
    }
    /* Truncation at every offset: an error with the cursor unmoved, or
     * (frames that run to the end) a shorter frame using every byte. */
    for (size_t cut = 0; cut < n; cut++) {
      uint8_t *copy = malloc(cut ? cut : 1);
      REQUIRE(copy != NULL);
      memcpy(copy, buf, cut);
      aq_rbuf_init(&r, copy, cut);
      int rv = aq_frame_decode(&d, &r);
      if (rv == 0) {
        CHECK(runs_to_end(f->type));
        CHECK_INT(aq_rbuf_left(&r), 0);
      } else {
        CHECK(r.p == copy);
        CHECK_INT(d.type, 0);
      }
      free(copy);
    }
    /* A writer one byte too small fails with the sticky error. */
    if (n > 0) {
      uint8_t *small = malloc(n - 1 ? n - 1 : 1);
      REQUIRE(small != NULL);
      aq_wbuf_init(&w, small, n - 1);
      CHECK_INT(aq_frame_encode(&w, f), AQ_ERR_BUFFER_TOO_SMALL);
      free(small);
    }
    free(f);
  }
  CHECK_INT(count, 40);
}

AQ_TEST(frame_sequence_in_packet) {
  /* Several frames back to back decode in a loop until consumed. */
  uint8_t buf[2048];
  aq_wbuf w;
  aq_rbuf r;
  aq_frame d;
  size_t n = 0;
  aq_wbuf_init(&w, buf, sizeof(buf));
  for (size_t i = 0;; i++) {
    aq_frame *f = sample(i);
    if (f == NULL) {
      break;
    }
    if (!runs_to_end(f->type)) {
      REQUIRE(aq_frame_encode(&w, f) == 0);
      n++;
    }
    free(f);
  }
  aq_rbuf_init(&r, buf, aq_wbuf_len(&w));
  size_t got = 0;
  while (aq_rbuf_left(&r) > 0) {
    REQUIRE(aq_frame_decode(&d, &r) == 0);
    got++;
  }
  CHECK_INT(got, n);
}

/* Decode hex; expect rv. */
static int decode_hex(const char *hex, aq_frame *d) {
  uint8_t buf[256];
  size_t n = aq_test_unhex_into(buf, sizeof(buf), hex);
  aq_rbuf r;
  if (n == (size_t)-1) {
    return 12345;
  }
  aq_rbuf_init(&r, buf, n);
  int rv = aq_frame_decode(d, &r);
  if (rv != 0 && r.p != buf) {
    return 54321; /* a failed decode moved the cursor */
  }
  return rv;
}

AQ_TEST(frame_type_minimal_and_unknown) {
  aq_frame d;
  /* §12.4: PING as a 2-byte varint is not minimal. */
  CHECK_INT(decode_hex("4001", &d), AQ_ERR_NON_MINIMAL);
  CHECK_INT(decode_hex("01", &d), 0);
  CHECK_INT(decode_hex("400c0401", &d), AQ_ERR_NON_MINIMAL);
  CHECK_INT(decode_hex("80000001", &d), AQ_ERR_NON_MINIMAL);
  /* OBSERVED_ADDRESS must be 4 bytes, not 8. */
  CHECK_INT(decode_hex("c0000000009f81a601c00002011234", &d), AQ_ERR_NON_MINIMAL);
  /* Unknown types. */
  CHECK_INT(decode_hex("1f", &d), AQ_ERR_UNSUPPORTED);
  CHECK_INT(decode_hex("21", &d), AQ_ERR_UNSUPPORTED);
  CHECK_INT(decode_hex("4040", &d), AQ_ERR_UNSUPPORTED);
  CHECK_INT(aq_qerr_from_err(AQ_ERR_UNSUPPORTED, AQ_QERR_FRAME_ENCODING_ERROR),
            AQ_QERR_FRAME_ENCODING_ERROR);
  /* A varint type cut mid-encoding. */
  CHECK_INT(decode_hex("809f81", &d), AQ_ERR_TRUNCATED);
  CHECK_INT(decode_hex("", &d), AQ_ERR_TRUNCATED);
}

AQ_TEST(frame_value_rules) {
  aq_frame d;
  /* STREAM offset + length > 2^62-1 (§19.8). */
  CHECK_INT(decode_hex("0e00ffffffffffffffff0161", &d), AQ_ERR_VALUE_RANGE);
  CHECK_INT(decode_hex("0e00fffffffffffffffe0161", &d), 0);
  CHECK_INT(decode_hex("0c00ffffffffffffffff", &d), 0); /* empty, at the limit */
  /* CRYPTO offset + length. */
  CHECK_INT(decode_hex("06ffffffffffffffff0161", &d), AQ_ERR_VALUE_RANGE);
  /* MAX_STREAMS / STREAMS_BLOCKED above 2^60 (§19.11, §19.14). */
  CHECK_INT(decode_hex("12d000000000000000", &d), 0);
  CHECK_INT(decode_hex("12d000000000000001", &d), AQ_ERR_VALUE_RANGE);
  CHECK_INT(decode_hex("13d000000000000001", &d), AQ_ERR_VALUE_RANGE);
  CHECK_INT(decode_hex("16d000000000000001", &d), AQ_ERR_VALUE_RANGE);
  CHECK_INT(decode_hex("17d000000000000001", &d), AQ_ERR_VALUE_RANGE);
  /* NEW_CONNECTION_ID: length 0 / 21 invalid, retire_prior_to > seq. */
  CHECK_INT(decode_hex("1805050101"
                       "00000000000000000000000000000000",
                       &d),
            0);
  CHECK_INT(decode_hex("1805050001"
                       "00000000000000000000000000000000",
                       &d),
            AQ_ERR_MALFORMED);
  CHECK_INT(decode_hex("1805051500000000000000000000000000000000000000000000000000000000000000"
                       "0000",
                       &d),
            AQ_ERR_MALFORMED);
  CHECK_INT(decode_hex("1805060101"
                       "00000000000000000000000000000000",
                       &d),
            AQ_ERR_MALFORMED);
  /* Reset token one byte short. */
  CHECK_INT(decode_hex("1805050101"
                       "000000000000000000000000000000",
                       &d),
            AQ_ERR_TRUNCATED);
  /* NEW_TOKEN empty (§19.7). */
  CHECK_INT(decode_hex("0700", &d), AQ_ERR_MALFORMED);
  CHECK_INT(decode_hex("070161", &d), 0);
  /* Reason phrase length past the packet; exactly the packet. */
  CHECK_INT(decode_hex("1c0a0004616263", &d), AQ_ERR_TRUNCATED);
  CHECK_INT(decode_hex("1c0a0003616263", &d), 0);
  CHECK_INT(d.u.close.reasonlen, 3);
  CHECK_INT(decode_hex("1d0a03616263", &d), 0);
  CHECK_INT(decode_hex("1d0a04616263", &d), AQ_ERR_TRUNCATED);
  /* Length off by one on STREAM/CRYPTO/DATAGRAM. */
  CHECK_INT(decode_hex("0a000361626364", &d), 0); /* leaves 1 byte for the next frame */
  CHECK_INT(decode_hex("0a0004616263", &d), AQ_ERR_TRUNCATED);
  CHECK_INT(decode_hex("06000461626364", &d), 0);
  CHECK_INT(decode_hex("060005616263", &d), AQ_ERR_TRUNCATED);
  CHECK_INT(decode_hex("3103616263", &d), 0);
  CHECK_INT(decode_hex("3104616263", &d), AQ_ERR_TRUNCATED);
  /* PATH_CHALLENGE needs 8 bytes. */
  CHECK_INT(decode_hex("1a01020304050607", &d), AQ_ERR_TRUNCATED);
  /* Map to the transport error. */
  CHECK_INT(aq_qerr_from_err(AQ_ERR_VALUE_RANGE, AQ_QERR_FRAME_ENCODING_ERROR),
            AQ_QERR_FRAME_ENCODING_ERROR);
}

AQ_TEST(frame_ack_ranges) {
  aq_frame d;
  /* largest 100, first range 2 (98..100), gap 1, len 3: 95..92. */
  REQUIRE(decode_hex("024064000102"
                     "0103",
                     &d) == 0);
  CHECK_INT(d.u.ack.largest, 100);
  CHECK_INT(d.u.ack.nranges, 1);
  CHECK_INT(d.u.ack.smallest, 92);
  CHECK_INT(d.u.ack.truncated, 0);
  /* First ACK Range > Largest: negative PN (§19.3.1). */
  CHECK_INT(decode_hex("0205000006", &d), AQ_ERR_MALFORMED);
  CHECK_INT(decode_hex("0205000005", &d), 0);
  CHECK_INT(d.u.ack.smallest, 0);
  /* Gap underflow: smallest 2, gap 0 → largest 0 is fine; gap 1 → -1. */
  CHECK_INT(decode_hex("0205000103"
                       "0000",
                       &d),
            0);
  CHECK_INT(d.u.ack.smallest, 0);
  CHECK_INT(decode_hex("0205000103"
                       "0100",
                       &d),
            AQ_ERR_MALFORMED);
  /* Range length underflow: smallest 8, gap 0 → largest 6; len 7 → -1. */
  CHECK_INT(decode_hex("020a000102"
                       "0007",
                       &d),
            AQ_ERR_MALFORMED);
  CHECK_INT(decode_hex("020a000102"
                       "0006",
                       &d),
            0);
  CHECK_INT(d.u.ack.smallest, 0);
  /* Smallest 1: no room for any gap. */
  CHECK_INT(decode_hex("0205000104"
                       "0000",
                       &d),
            AQ_ERR_MALFORMED);
  /* ECN counts cut mid-way. */
  CHECK_INT(decode_hex("030a000001"
                       "0102",
                       &d),
            AQ_ERR_TRUNCATED);
  CHECK_INT(decode_hex("030a000001"
                       "010203",
                       &d),
            0);
  CHECK_INT(d.u.ack.ce, 3);
  /* Range count larger than the bytes left. */
  CHECK_INT(decode_hex("020a000501"
                       "0000",
                       &d),
            AQ_ERR_TRUNCATED);

  /* More ranges than AQ_MAX_ACK_RANGES: all validated, the newest kept. */
  uint8_t buf[1024];
  aq_wbuf w;
  aq_rbuf r;
  size_t nr = AQ_MAX_ACK_RANGES + 36;
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_wbuf_varint(&w, AQ_FT_ACK);
  aq_wbuf_varint(&w, 10000);
  aq_wbuf_varint(&w, 0);
  aq_wbuf_varint(&w, nr);
  aq_wbuf_varint(&w, 0); /* 10000 */
  for (size_t i = 0; i < nr; i++) {
    aq_wbuf_varint(&w, 0); /* gap: skip 1 */
    aq_wbuf_varint(&w, 0); /* one packet */
  }
  REQUIRE(aq_wbuf_error(&w) == 0);
  aq_rbuf_init(&r, buf, aq_wbuf_len(&w));
  REQUIRE(aq_frame_decode(&d, &r) == 0);
  CHECK_INT(aq_rbuf_left(&r), 0);
  CHECK_INT(d.u.ack.nranges, AQ_MAX_ACK_RANGES);
  CHECK_INT(d.u.ack.wire_ranges, nr);
  CHECK_INT(d.u.ack.truncated, 1);
  CHECK_INT(d.u.ack.smallest, 10000 - 2 * AQ_MAX_ACK_RANGES);
  /* Re-encoding keeps the kept ranges only. */
  uint8_t out[1024];
  aq_wbuf_init(&w, out, sizeof(out));
  REQUIRE(aq_frame_encode(&w, &d) == 0);
  aq_rbuf_init(&r, out, aq_wbuf_len(&w));
  aq_frame d2;
  REQUIRE(aq_frame_decode(&d2, &r) == 0);
  CHECK_INT(d2.u.ack.truncated, 0);
  CHECK(frame_eq(&d, &d2));
  /* The same list with the last range underflowing is refused whole. */
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_wbuf_varint(&w, AQ_FT_ACK);
  aq_wbuf_varint(&w, 2 * nr - 2); /* the last range would end at -2 */
  aq_wbuf_varint(&w, 0);
  aq_wbuf_varint(&w, nr);
  aq_wbuf_varint(&w, 0);
  for (size_t i = 0; i < nr; i++) {
    aq_wbuf_varint(&w, 0);
    aq_wbuf_varint(&w, 0);
  }
  aq_rbuf_init(&r, buf, aq_wbuf_len(&w));
  CHECK_INT(aq_frame_decode(&d, &r), AQ_ERR_MALFORMED);

  /* The encoder refuses ranges it would reject. */
  aq_frame *f = new_frame(AQ_FT_ACK);
  REQUIRE(f != NULL);
  f->u.ack.largest = 5;
  f->u.ack.first_range = 6;
  aq_wbuf_init(&w, out, sizeof(out));
  CHECK_INT(aq_frame_encode(&w, f), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_frame_encoded_len(f), 0);
  free(f);
}

AQ_TEST(frame_padding_and_stream_flags) {
  aq_frame d;
  uint8_t buf[16] = {0, 0, 0, 0, 1, 0};
  aq_rbuf r;
  aq_rbuf_init(&r, buf, 6);
  REQUIRE(aq_frame_decode(&d, &r) == 0);
  CHECK_INT(d.type, AQ_FT_PADDING);
  CHECK_INT(d.u.padding.len, 4);
  REQUIRE(aq_frame_decode(&d, &r) == 0);
  CHECK_INT(d.type, AQ_FT_PING);
  REQUIRE(aq_frame_decode(&d, &r) == 0);
  CHECK_INT(d.u.padding.len, 1);
  CHECK_INT(aq_rbuf_left(&r), 0);

  /* STREAM 0x08 with no OFF/LEN: offset 0, data to the end. */
  REQUIRE(decode_hex("0804616263", &d) == 0);
  CHECK_INT(d.u.stream.stream_id, 4);
  CHECK_INT(d.u.stream.offset, 0);
  CHECK_INT(d.u.stream.datalen, 3);
  CHECK_INT(d.u.stream.fin, 0);
  REQUIRE(decode_hex("0f0405020000", &d) == 0);
  CHECK_INT(d.u.stream.offset, 5);
  CHECK_INT(d.u.stream.datalen, 2);
  CHECK_INT(d.u.stream.fin, 1);

  /* The encoder sets OFF for a non-zero offset even if the type lacks it. */
  aq_frame *f = new_frame(0x0a);
  REQUIRE(f != NULL);
  f->u.stream.stream_id = 1;
  f->u.stream.offset = 9;
  f->u.stream.fin = 1;
  aq_wbuf w;
  aq_wbuf_init(&w, buf, sizeof(buf));
  REQUIRE(aq_frame_encode(&w, f) == 0);
  CHECK_INT(buf[0], 0x0f);
  CHECK_INT(aq_wbuf_len(&w), 4);
  /* Values the decoder would refuse are not encoded. */
  f->u.stream.offset = AQ_VARINT_MAX;
  f->u.stream.datalen = 1;
  f->u.stream.data = buf;
  aq_wbuf_init(&w, buf, sizeof(buf));
  CHECK_INT(aq_frame_encode(&w, f), AQ_ERR_INVALID_ARGUMENT);
  f->type = AQ_FT_NEW_TOKEN;
  memset(&f->u, 0, sizeof(f->u));
  CHECK_INT(aq_frame_encode(&w, f), AQ_ERR_INVALID_ARGUMENT);
  f->type = AQ_FT_MAX_STREAMS_UNI;
  f->u.max_streams.max = (1ULL << 60) + 1;
  CHECK_INT(aq_frame_encode(&w, f), AQ_ERR_INVALID_ARGUMENT);
  f->type = 0x21;
  CHECK_INT(aq_frame_encode(&w, f), AQ_ERR_INVALID_ARGUMENT);
  f->type = AQ_FT_OBSERVED_ADDRESS_V4;
  memset(&f->u, 0, sizeof(f->u));
  CHECK_INT(aq_frame_encode(&w, f), AQ_ERR_INVALID_ARGUMENT); /* no family */
  f->type = AQ_FT_PADDING;
  CHECK_INT(aq_frame_encode(&w, f), AQ_ERR_INVALID_ARGUMENT); /* zero bytes */
  f->type = AQ_FT_MAX_DATA;
  f->u.max_data.max = AQ_VARINT_MAX + 1;
  aq_wbuf_init(&w, buf, sizeof(buf));
  CHECK_INT(aq_frame_encode(&w, f), AQ_ERR_VALUE_RANGE);
  CHECK_INT(aq_frame_encoded_len(f), 0);
  free(f);
}

AQ_TEST(frame_extension_wire_bytes) {
  /* Byte-exact layouts from the drafts: Type (i), fields, Port (16). */
  static const uint8_t ip4[4] = {192, 0, 2, 1};
  uint8_t buf[64];
  aq_wbuf w;
  aq_frame d;
  aq_frame *f = new_frame(AQ_FT_OBSERVED_ADDRESS_V6); /* family decides: V4 */
  REQUIRE(f != NULL);
  f->u.addr.seq = 1;
  f->u.addr.addr = aq_addr_ipv4(ip4, 0x1234);
  aq_wbuf_init(&w, buf, sizeof(buf));
  REQUIRE(aq_frame_encode(&w, f) == 0);
  CHECK(aq_test_memeq_hex(buf, aq_wbuf_len(&w), "809f81a601c00002011234"));
  REQUIRE(decode_hex("809f81a601c00002011234", &d) == 0);
  CHECK_INT(d.type, AQ_FT_OBSERVED_ADDRESS_V4);
  CHECK_INT(d.u.addr.seq, 1);
  CHECK_INT(d.u.addr.addr.family, AQ_AF_INET);
  CHECK_INT(d.u.addr.addr.port, 0x1234);
  CHECK_MEM(d.u.addr.addr.ip, ip4, 4);

  /* PUNCH_ME_NOW v6: round, paired-with sequence, IPv6, port. */
  REQUIRE(decode_hex("803d7e93"
                     "02"
                     "07"
                     "20010db8000000000000000000000001"
                     "01bb",
                     &d) == 0);
  CHECK_INT(d.type, AQ_FT_PUNCH_ME_NOW_V6);
  CHECK_INT(d.u.addr.round, 2);
  CHECK_INT(d.u.addr.seq, 7);
  CHECK_INT(d.u.addr.addr.family, AQ_AF_INET6);
  CHECK_INT(d.u.addr.addr.ip[15], 1);
  CHECK_INT(d.u.addr.addr.port, 443);
  CHECK_INT(decode_hex("803d7e93"
                       "02"
                       "07"
                       "20010db8000000000000000000000001"
                       "01",
                       &d),
            AQ_ERR_TRUNCATED);
  /* ADD_ADDRESS v4, REMOVE_ADDRESS. */
  REQUIRE(decode_hex("803d7e90"
                     "4005"
                     "0a000001"
                     "c350",
                     &d) == 0);
  CHECK_INT(d.u.addr.seq, 5);
  CHECK_INT(d.u.addr.addr.port, 50000);
  REQUIRE(decode_hex("803d7e94"
                     "09",
                     &d) == 0);
  CHECK_INT(d.type, AQ_FT_REMOVE_ADDRESS);
  CHECK_INT(d.u.addr.seq, 9);
  CHECK_INT(decode_hex("803d7e95"
                       "09",
                       &d),
            AQ_ERR_UNSUPPORTED);
  free(f);
}

AQ_TEST(frame_permission_table) {
  /* RFC 9000 §12.4 Table 3. */
  static const uint64_t ih_ok[] = {AQ_FT_PADDING, AQ_FT_PING,   AQ_FT_ACK,
                                   AQ_FT_ACK_ECN, AQ_FT_CRYPTO, AQ_FT_CONNECTION_CLOSE};
  for (size_t i = 0; i < sizeof(ih_ok) / sizeof(ih_ok[0]); i++) {
    CHECK(aq_frame_allowed(ih_ok[i], AQ_PKT_INITIAL));
    CHECK(aq_frame_allowed(ih_ok[i], AQ_PKT_HANDSHAKE));
    CHECK(aq_frame_allowed(ih_ok[i], AQ_PKT_1RTT));
  }
  CHECK(!aq_frame_allowed(AQ_FT_CONNECTION_CLOSE_APP, AQ_PKT_INITIAL));
  CHECK(!aq_frame_allowed(AQ_FT_CONNECTION_CLOSE_APP, AQ_PKT_HANDSHAKE));
  CHECK(aq_frame_allowed(AQ_FT_CONNECTION_CLOSE_APP, AQ_PKT_0RTT));
  for (uint64_t t = 0x08; t <= 0x0f; t++) {
    CHECK(!aq_frame_allowed(t, AQ_PKT_INITIAL)); /* STREAM in Initial refused */
    CHECK(!aq_frame_allowed(t, AQ_PKT_HANDSHAKE));
    CHECK(aq_frame_allowed(t, AQ_PKT_0RTT));
    CHECK(aq_frame_allowed(t, AQ_PKT_1RTT));
  }
  /* §12.5: 0-RTT forbids ACK, CRYPTO, HANDSHAKE_DONE, NEW_TOKEN,
   * PATH_RESPONSE, RETIRE_CONNECTION_ID. */
  static const uint64_t no0rtt[] = {AQ_FT_ACK,
                                    AQ_FT_ACK_ECN,
                                    AQ_FT_CRYPTO,
                                    AQ_FT_HANDSHAKE_DONE,
                                    AQ_FT_NEW_TOKEN,
                                    AQ_FT_PATH_RESPONSE,
                                    AQ_FT_RETIRE_CONNECTION_ID};
  for (size_t i = 0; i < sizeof(no0rtt) / sizeof(no0rtt[0]); i++) {
    CHECK(!aq_frame_allowed(no0rtt[i], AQ_PKT_0RTT));
    CHECK(aq_frame_allowed(no0rtt[i], AQ_PKT_1RTT));
  }
  CHECK(aq_frame_allowed(AQ_FT_PATH_CHALLENGE, AQ_PKT_0RTT));
  CHECK(aq_frame_allowed(AQ_FT_NEW_CONNECTION_ID, AQ_PKT_0RTT));
  CHECK(!aq_frame_allowed(AQ_FT_HANDSHAKE_DONE, AQ_PKT_HANDSHAKE));
  /* DATAGRAM and the extension frames: application space only. */
  static const uint64_t app[] = {AQ_FT_DATAGRAM,
                                 AQ_FT_DATAGRAM_LEN,
                                 AQ_FT_OBSERVED_ADDRESS_V4,
                                 AQ_FT_OBSERVED_ADDRESS_V6,
                                 AQ_FT_ADD_ADDRESS_V4,
                                 AQ_FT_ADD_ADDRESS_V6,
                                 AQ_FT_PUNCH_ME_NOW_V4,
                                 AQ_FT_PUNCH_ME_NOW_V6,
                                 AQ_FT_REMOVE_ADDRESS};
  for (size_t i = 0; i < sizeof(app) / sizeof(app[0]); i++) {
    CHECK(!aq_frame_allowed(app[i], AQ_PKT_INITIAL));
    CHECK(!aq_frame_allowed(app[i], AQ_PKT_HANDSHAKE));
    CHECK(aq_frame_allowed(app[i], AQ_PKT_0RTT));
    CHECK(aq_frame_allowed(app[i], AQ_PKT_1RTT));
  }
  /* Nothing in Retry/VN; unknown types nowhere. */
  CHECK(!aq_frame_allowed(AQ_FT_PING, AQ_PKT_RETRY));
  CHECK(!aq_frame_allowed(AQ_FT_PADDING, AQ_PKT_VERSION_NEGOTIATION));
  CHECK(!aq_frame_allowed(0x21, AQ_PKT_1RTT));
}

AQ_TEST(frame_classification) {
  /* RFC 9002 §2: ACK, PADDING, CONNECTION_CLOSE are not ack-eliciting. */
  CHECK(!(aq_frame_flags(AQ_FT_ACK) & AQ_FRAME_F_ACK_ELICITING));
  CHECK(!(aq_frame_flags(AQ_FT_ACK_ECN) & AQ_FRAME_F_ACK_ELICITING));
  CHECK(!(aq_frame_flags(AQ_FT_PADDING) & AQ_FRAME_F_ACK_ELICITING));
  CHECK(!(aq_frame_flags(AQ_FT_CONNECTION_CLOSE) & AQ_FRAME_F_ACK_ELICITING));
  CHECK(!(aq_frame_flags(AQ_FT_CONNECTION_CLOSE_APP) & AQ_FRAME_F_ACK_ELICITING));
  CHECK(aq_frame_flags(AQ_FT_PING) & AQ_FRAME_F_ACK_ELICITING);
  CHECK(aq_frame_flags(0x0b) & AQ_FRAME_F_ACK_ELICITING);
  CHECK(aq_frame_flags(AQ_FT_DATAGRAM) & AQ_FRAME_F_ACK_ELICITING);
  CHECK(aq_frame_flags(AQ_FT_PUNCH_ME_NOW_V4) & AQ_FRAME_F_ACK_ELICITING);
  /* In flight: ack-eliciting or PADDING. */
  CHECK(aq_frame_flags(AQ_FT_PADDING) & AQ_FRAME_F_IN_FLIGHT);
  CHECK(!(aq_frame_flags(AQ_FT_ACK) & AQ_FRAME_F_IN_FLIGHT));
  /* RFC 9000 §9.1 probing frames (+ OBSERVED_ADDRESS). */
  static const uint64_t probing[] = {AQ_FT_PATH_CHALLENGE,      AQ_FT_PATH_RESPONSE,
                                     AQ_FT_NEW_CONNECTION_ID,   AQ_FT_PADDING,
                                     AQ_FT_OBSERVED_ADDRESS_V4, AQ_FT_OBSERVED_ADDRESS_V6};
  for (size_t i = 0; i < sizeof(probing) / sizeof(probing[0]); i++) {
    CHECK(aq_frame_flags(probing[i]) & AQ_FRAME_F_PROBING);
  }
  CHECK(!(aq_frame_flags(AQ_FT_PING) & AQ_FRAME_F_PROBING));
  CHECK(!(aq_frame_flags(0x08) & AQ_FRAME_F_PROBING));
  CHECK(!(aq_frame_flags(AQ_FT_PUNCH_ME_NOW_V4) & AQ_FRAME_F_PROBING));
  CHECK_INT(aq_frame_flags(0x1f), 0);
  /* Every sample type is known. */
  for (size_t i = 0;; i++) {
    aq_frame *f = sample(i);
    if (f == NULL) {
      break;
    }
    CHECK(aq_frame_flags(f->type) & AQ_FRAME_F_KNOWN);
    free(f);
  }
}

AQ_TEST(frame_qerr_names) {
  CHECK(strcmp(aq_qerr_name(AQ_QERR_NO_ERROR), "NO_ERROR") == 0);
  CHECK(strcmp(aq_qerr_name(AQ_QERR_FRAME_ENCODING_ERROR), "FRAME_ENCODING_ERROR") == 0);
  CHECK(strcmp(aq_qerr_name(AQ_QERR_NO_VIABLE_PATH), "NO_VIABLE_PATH") == 0);
  CHECK(strcmp(aq_qerr_name(AQ_QERR_CRYPTO(0x28)), "CRYPTO_ERROR") == 0);
  CHECK(strcmp(aq_qerr_name(0x200), "unknown") == 0);
  CHECK_INT(AQ_QERR_CRYPTO(0x28), 0x128);
  CHECK_INT(aq_qerr_from_err(0, 7), AQ_QERR_NO_ERROR);
  CHECK_INT(aq_qerr_from_err(AQ_ERR_PROTO, 7), AQ_QERR_PROTOCOL_VIOLATION);
  CHECK_INT(aq_qerr_from_err(AQ_ERR_NOMEM, 7), AQ_QERR_INTERNAL_ERROR);
  CHECK_INT(aq_qerr_from_err(AQ_ERR_TRUNCATED, AQ_QERR_TRANSPORT_PARAMETER_ERROR),
            AQ_QERR_TRANSPORT_PARAMETER_ERROR);
}
