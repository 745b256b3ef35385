/*
 * test_tp.c - transport parameters (RFC 9000 §18; RFC 9221; RFC 9368;
 * address discovery and NAT traversal drafts).
 */
#include <stdlib.h>

#include "aq_test.h"
#include "aq_tp.h"

static const uint8_t k_scid[8] = {0xf0, 0x67, 0xa5, 0x50, 0x2a, 0x42, 0x62, 0xb5};
static const uint8_t k_odcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};

/* Server parameters with every field away from its default. */
static void full_server(aq_tp *tp) {
  aq_tp_default(tp);
  tp->has = AQ_TP_HAS_ORIGINAL_DCID | AQ_TP_HAS_STATELESS_RESET_TOKEN |
            AQ_TP_HAS_PREFERRED_ADDRESS | AQ_TP_HAS_INITIAL_SCID | AQ_TP_HAS_RETRY_SCID |
            AQ_TP_HAS_VERSION_INFO | AQ_TP_HAS_ADDRESS_DISCOVERY | AQ_TP_HAS_NAT_TRAVERSAL |
            AQ_TP_HAS_DRAFT_FRAME_LAYOUT;
  if (aq_cid_init(&tp->original_dcid, k_odcid, 8) != 0 ||
      aq_cid_init(&tp->initial_scid, k_scid, 8) != 0 ||
      aq_cid_init(&tp->retry_scid, k_scid, 4) != 0) {
    abort();
  }
  memset(tp->stateless_reset_token, 0xab, 16);
  tp->max_idle_timeout_ms = 30000;
  tp->max_udp_payload_size = 1472;
  tp->initial_max_data = 1ULL << 24;
  tp->initial_max_stream_data_bidi_local = 1 << 20;
  tp->initial_max_stream_data_bidi_remote = (1 << 20) + 1;
  tp->initial_max_stream_data_uni = (1 << 20) + 2;
  tp->initial_max_streams_bidi = 1ULL << 60;
  tp->initial_max_streams_uni = 3;
  tp->ack_delay_exponent = 20;
  tp->max_ack_delay_ms = 16383;
  tp->disable_active_migration = 1;
  static const uint8_t v4[4] = {203, 0, 113, 5};
  memcpy(tp->preferred_address.ipv4, v4, 4);
  tp->preferred_address.ipv4_port = 4433;
  tp->preferred_address.ipv6[0] = 0x20;
  tp->preferred_address.ipv6[15] = 0x01;
  tp->preferred_address.ipv6_port = 4434;
  if (aq_cid_init(&tp->preferred_address.cid, k_odcid, 8) != 0) {
    abort();
  }
  memset(tp->preferred_address.reset_token, 0xcd, 16);
  tp->active_connection_id_limit = 8;
  tp->max_datagram_frame_size = 65535;
  tp->chosen_version = AQ_PROTO_VER_V1;
  tp->navailable_versions = 2;
  tp->available_versions[0] = AQ_PROTO_VER_V1;
  tp->available_versions[1] = AQ_PROTO_VER_V2;
  tp->address_discovery = AQ_TP_AD_BOTH;
  tp->nat_traversal_limit = 5;
}

static size_t enc(uint8_t *buf, size_t cap, const aq_tp *tp, aq_tp_sender s) {
  aq_wbuf w;
  aq_wbuf_init(&w, buf, cap);
  if (aq_tp_encode(&w, tp, s, NULL, 0) != 0) {
    return 0;
  }
  return aq_wbuf_len(&w);
}

/* Compare two parameter sets, extension values by content. */
static int tp_eq(const aq_tp *a, const aq_tp *b) {
  aq_tp x, y;
  memcpy(&x, a, sizeof(x));
  memcpy(&y, b, sizeof(y));
  for (size_t i = 0; i < AQ_TP_MAX_EXT; i++) {
    if (x.ext[i].len != y.ext[i].len ||
        (x.ext[i].len > 0 && memcmp(x.ext[i].value, y.ext[i].value, x.ext[i].len) != 0)) {
      return 0;
    }
    x.ext[i].value = y.ext[i].value = NULL;
  }
  return memcmp(&x, &y, sizeof(x)) == 0;
}

AQ_TEST(tp_roundtrip_server_all) {
  aq_tp tp, d;
  uint8_t buf[512];
  full_server(&tp);
  size_t n = enc(buf, sizeof(buf), &tp, AQ_TP_FROM_SERVER);
  REQUIRE(n > 0);
  aq_tp_default(&d);
  REQUIRE(aq_tp_decode(&d, buf, n, AQ_TP_FROM_SERVER) == 0);
  CHECK(tp_eq(&tp, &d));
  CHECK_INT(d.nat_traversal_limit, 5);
  CHECK_INT(d.address_discovery, 2);
  CHECK_INT(d.preferred_address.cid.len, 8);
  /* Re-encoding gives the same bytes. */
  uint8_t again[512];
  CHECK_INT(enc(again, sizeof(again), &d, AQ_TP_FROM_SERVER), n);
  CHECK_MEM(again, buf, n);
  /* As if sent by a client, the server-only parameters are refused. */
  CHECK_INT(aq_tp_decode(&d, buf, n, AQ_TP_FROM_CLIENT), AQ_ERR_MALFORMED);
  /* And a client cannot encode them. */
  aq_wbuf w;
  aq_wbuf_init(&w, again, sizeof(again));
  CHECK_INT(aq_tp_encode(&w, &tp, AQ_TP_FROM_CLIENT, NULL, 0), AQ_ERR_INVALID_ARGUMENT);
}

AQ_TEST(tp_roundtrip_client_defaults_omitted) {
  aq_tp tp, d;
  uint8_t buf[256];
  aq_tp_default(&tp);
  tp.has = AQ_TP_HAS_INITIAL_SCID | AQ_TP_HAS_NAT_TRAVERSAL | AQ_TP_HAS_ADDRESS_DISCOVERY;
  REQUIRE(aq_cid_init(&tp.initial_scid, NULL, 0) == 0); /* zero-length SCID is legal */
  tp.address_discovery = AQ_TP_AD_RECEIVE_ONLY;
  size_t n = enc(buf, sizeof(buf), &tp, AQ_TP_FROM_CLIENT);
  /* initial_scid (0f 00), address_discovery (8-byte varint id, 01 01),
   * nat_traversal empty (8-byte id, 00): defaults (udp payload, ack
   * exponent, ...) omitted. */
  CHECK(aq_test_memeq_hex(buf, n, "0f00" "c00000009f81a176" "0101" "fd7e9f0bca12fea6" "00"));
  aq_tp_default(&d);
  REQUIRE(aq_tp_decode(&d, buf, n, AQ_TP_FROM_CLIENT) == 0);
  CHECK(tp_eq(&tp, &d));
  /* The same bytes as if from a server: odcid missing and nat empty. */
  CHECK(aq_tp_decode(&d, buf, n, AQ_TP_FROM_SERVER) != 0);
  /* Empty list: initial_source_connection_id missing (§7.3). */
  CHECK_INT(aq_tp_decode(&d, buf, 0, AQ_TP_FROM_CLIENT), AQ_ERR_MALFORMED);
}

/* Offsets where a parameter ends, and the end of the mandatory ones. */
static size_t boundaries(const uint8_t *buf, size_t n, size_t *out, size_t cap, uint64_t need1,
                         uint64_t need2, size_t *need_end) {
  aq_rbuf r, v;
  size_t k = 0;
  int seen1 = 0, seen2 = 0;
  aq_rbuf_init(&r, buf, n);
  *need_end = n + 1;
  while (aq_rbuf_left(&r) > 0 && k < cap) {
    uint64_t id;
    if (aq_rbuf_varint(&r, &id) != 0 || aq_rbuf_sub(&r, AQ_LEN_VARINT, &v) != 0) {
      break;
    }
    seen1 |= id == need1;
    seen2 |= id == need2;
    out[k++] = (size_t)(r.p - buf);
    if (seen1 && seen2 && *need_end > n) {
      *need_end = (size_t)(r.p - buf);
    }
  }
  return k;
}

AQ_TEST(tp_truncation_every_offset) {
  static const aq_tp_sender senders[2] = {AQ_TP_FROM_CLIENT, AQ_TP_FROM_SERVER};
  for (int s = 0; s < 2; s++) {
    aq_tp tp, d;
    uint8_t buf[512];
    full_server(&tp);
    if (senders[s] == AQ_TP_FROM_CLIENT) {
      tp.has &= ~(uint32_t)(AQ_TP_HAS_ORIGINAL_DCID | AQ_TP_HAS_STATELESS_RESET_TOKEN |
                            AQ_TP_HAS_PREFERRED_ADDRESS | AQ_TP_HAS_RETRY_SCID);
    }
    size_t n = enc(buf, sizeof(buf), &tp, senders[s]);
    REQUIRE(n > 0);
    size_t b[64], need_end;
    size_t nb = boundaries(buf, n, b, 64, AQ_TP_INITIAL_SCID,
                           senders[s] == AQ_TP_FROM_SERVER ? AQ_TP_ORIGINAL_DCID
                                                           : AQ_TP_INITIAL_SCID,
                           &need_end);
    REQUIRE(nb >= 10);
    CHECK_INT(b[nb - 1], n);
    for (size_t cut = 0; cut < n; cut++) {
      int at_boundary = 0;
      for (size_t i = 0; i < nb; i++) {
        at_boundary |= b[i] == cut;
      }
      uint8_t *copy = malloc(cut ? cut : 1);
      REQUIRE(copy != NULL);
      memcpy(copy, buf, cut);
      aq_tp_default(&d);
      d.max_idle_timeout_ms = 777; /* must survive a failed decode */
      int rv = aq_tp_decode(&d, copy, cut, senders[s]);
      if (at_boundary && cut >= need_end) {
        CHECK_INT(rv, 0);
      } else {
        if (rv == 0) {
          aq_test_fail(__FILE__, __LINE__, "cut %zu decoded", cut);
        }
        CHECK_INT(d.max_idle_timeout_ms, 777);
      }
      free(copy);
    }
  }
}

/* Build "initial_scid (empty) + one raw parameter" and decode it. */
static int decode_one(const char *param_hex, aq_tp_sender sender, aq_tp *d) {
  uint8_t buf[256];
  size_t n = 0;
  buf[n++] = 0x0f;
  buf[n++] = 0x00;
  if (sender == AQ_TP_FROM_SERVER) {
    buf[n++] = 0x00;
    buf[n++] = 0x00;
  }
  size_t m = aq_test_unhex_into(buf + n, sizeof(buf) - n, param_hex);
  if (m == (size_t)-1) {
    return 12345;
  }
  aq_tp_default(d);
  return aq_tp_decode(d, buf, n + m, sender);
}

AQ_TEST(tp_value_rules) {
  aq_tp d;
  const aq_tp_sender C = AQ_TP_FROM_CLIENT, S = AQ_TP_FROM_SERVER;
  /* max_udp_payload_size: below 1200 invalid. */
  CHECK_INT(decode_one("0302444f", C, &d), AQ_ERR_VALUE_RANGE); /* 1103 */
  CHECK_INT(decode_one("030244af", C, &d), AQ_ERR_VALUE_RANGE); /* 1199 */
  CHECK_INT(decode_one("030244b0", C, &d), 0);                   /* 1200 */
  CHECK_INT(d.max_udp_payload_size, 1200);
  /* ack_delay_exponent: above 20 invalid. */
  CHECK_INT(decode_one("0a0114", C, &d), 0);
  CHECK_INT(decode_one("0a0115", C, &d), AQ_ERR_VALUE_RANGE);
  /* max_ack_delay: 2^14 or more invalid. */
  CHECK_INT(decode_one("0b027fff", C, &d), 0);
  CHECK_INT(decode_one("0b0480004000", C, &d), AQ_ERR_VALUE_RANGE);
  /* active_connection_id_limit: at least 2. */
  CHECK_INT(decode_one("0e0101", C, &d), AQ_ERR_VALUE_RANGE);
  CHECK_INT(decode_one("0e0102", C, &d), 0);
  /* initial_max_streams_*: at most 2^60. */
  CHECK_INT(decode_one("0808d000000000000000", C, &d), 0);
  CHECK_INT(decode_one("0808d000000000000001", C, &d), AQ_ERR_VALUE_RANGE);
  CHECK_INT(decode_one("0908d000000000000001", C, &d), AQ_ERR_VALUE_RANGE);
  /* address_discovery: 0, 1, 2 only. */
  CHECK_INT(decode_one("c00000009f81a1760100", C, &d), 0);
  CHECK_INT(decode_one("c00000009f81a1760102", S, &d), 0);
  CHECK_INT(decode_one("c00000009f81a1760103", C, &d), AQ_ERR_VALUE_RANGE);
  CHECK_INT(decode_one("c00000009f81a17600", C, &d), AQ_ERR_TRUNCATED);
  /* nat_traversal: empty from a client, a varint > 0 from a server. */
  CHECK_INT(decode_one("fd7e9f0bca12fea600", C, &d), 0);
  CHECK(d.has & AQ_TP_HAS_NAT_TRAVERSAL);
  CHECK_INT(decode_one("fd7e9f0bca12fea60101", C, &d), AQ_ERR_TRAILING_DATA);
  CHECK_INT(decode_one("fd7e9f0bca12fea60107", S, &d), 0);
  CHECK_INT(d.nat_traversal_limit, 7);
  CHECK_INT(decode_one("fd7e9f0bca12fea60100", S, &d), AQ_ERR_VALUE_RANGE);
  CHECK_INT(decode_one("fd7e9f0bca12fea600", S, &d), AQ_ERR_TRUNCATED);
  /* The draft-frame-layout flag is empty. */
  CHECK_INT(decode_one("fd7e9f0bca12fea800", C, &d), 0);
  CHECK(d.has & AQ_TP_HAS_DRAFT_FRAME_LAYOUT);
  CHECK_INT(decode_one("fd7e9f0bca12fea80100", C, &d), AQ_ERR_TRAILING_DATA);
  /* disable_active_migration is zero-length. */
  CHECK_INT(decode_one("0c00", C, &d), 0);
  CHECK_INT(d.disable_active_migration, 1);
  CHECK_INT(decode_one("0c0100", C, &d), AQ_ERR_TRAILING_DATA);
  /* stateless_reset_token: exactly 16 bytes, server only. */
  CHECK_INT(decode_one("0210" "000102030405060708090a0b0c0d0e0f", S, &d), 0);
  CHECK_INT(decode_one("020f" "000102030405060708090a0b0c0d0e", S, &d), AQ_ERR_MALFORMED);
  CHECK_INT(decode_one("0210" "000102030405060708090a0b0c0d0e0f", C, &d), AQ_ERR_MALFORMED);
  /* CIDs over 20 bytes. */
  CHECK_INT(decode_one("1014" "0000000000000000000000000000000000000000", S, &d), 0);
  CHECK_INT(decode_one("1015" "000000000000000000000000000000000000000000", S, &d),
            AQ_ERR_MALFORMED);
  CHECK_INT(decode_one("1004" "00000000", C, &d), AQ_ERR_MALFORMED); /* retry_scid from client */
  /* preferred_address: zero-length CID invalid; client may not send it. */
  CHECK_INT(decode_one("0d31" "cb007105115c" "20010db8000000000000000000000001115d" "08"
                       "0102030405060708" "000102030405060708090a0b0c0d0e0f",
                       S, &d),
            0);
  CHECK_INT(d.preferred_address.ipv4_port, 4444);
  CHECK_INT(d.preferred_address.ipv6_port, 4445);
  CHECK_INT(decode_one("0d29" "cb007105115c" "20010db8000000000000000000000001115d" "00"
                       "000102030405060708090a0b0c0d0e0f",
                       S, &d),
            AQ_ERR_MALFORMED);
  CHECK_INT(decode_one("0d32" "cb007105115c" "20010db8000000000000000000000001115d" "08"
                       "0102030405060708" "000102030405060708090a0b0c0d0e0f00",
                       S, &d),
            AQ_ERR_TRAILING_DATA);
  CHECK_INT(decode_one("0d31" "cb007105115c" "20010db8000000000000000000000001115d" "08"
                       "0102030405060708" "000102030405060708090a0b0c0d0e0f",
                       C, &d),
            AQ_ERR_MALFORMED);
  /* version_information (RFC 9368): multiple of 4, no zero versions. */
  CHECK_INT(decode_one("1108" "00000001" "6b3343cf", C, &d), 0);
  CHECK_INT(d.chosen_version, 1);
  CHECK_INT(d.navailable_versions, 1);
  CHECK(d.available_versions[0] == AQ_PROTO_VER_V2);
  CHECK_INT(decode_one("1106" "00000001" "6b33", C, &d), AQ_ERR_MALFORMED);
  CHECK_INT(decode_one("1100", C, &d), AQ_ERR_MALFORMED);
  CHECK_INT(decode_one("1104" "00000000", C, &d), AQ_ERR_MALFORMED);
  CHECK_INT(decode_one("1108" "00000001" "00000000", C, &d), AQ_ERR_MALFORMED);
  /* Varint values: trailing byte, cut mid-varint, length past the end. */
  CHECK_INT(decode_one("01024000", C, &d), 0); /* non-minimal value is fine */
  CHECK_INT(decode_one("0102050", C, &d), 12345);
  CHECK_INT(decode_one("01020500", C, &d), AQ_ERR_TRAILING_DATA);
  CHECK_INT(decode_one("010140", C, &d), AQ_ERR_TRUNCATED);
  CHECK_INT(decode_one("010300", C, &d), AQ_ERR_TRUNCATED);
  CHECK_INT(decode_one("0100", C, &d), AQ_ERR_TRUNCATED);
  CHECK_INT(decode_one("40", C, &d), AQ_ERR_TRUNCATED);
  /* Duplicates (§7.4). */
  CHECK_INT(decode_one("04014004010a", C, &d), AQ_ERR_TRUNCATED); /* value 0x40: varint cut */
  CHECK_INT(decode_one("0401050401", C, &d), AQ_ERR_TRUNCATED);
  CHECK_INT(decode_one("04010504010a", C, &d), AQ_ERR_MALFORMED);
  CHECK_INT(decode_one("0f00", C, &d), AQ_ERR_MALFORMED); /* second initial_scid */
  CHECK_INT(decode_one("0c000c00", C, &d), AQ_ERR_MALFORMED);
  /* Unknown ids are ignored, even repeated. */
  CHECK_INT(decode_one("1b03616263" "1b00" "7fff0101", C, &d), 0);
  /* Map to the transport error. */
  CHECK_INT(aq_qerr_from_err(AQ_ERR_MALFORMED, AQ_QERR_TRANSPORT_PARAMETER_ERROR),
            AQ_QERR_TRANSPORT_PARAMETER_ERROR);
}

AQ_TEST(tp_encoder_refuses_invalid) {
  aq_tp tp;
  uint8_t buf[512];
  aq_wbuf w;
  full_server(&tp);
  tp.max_udp_payload_size = 1199;
  aq_wbuf_init(&w, buf, sizeof(buf));
  CHECK_INT(aq_tp_encode(&w, &tp, AQ_TP_FROM_SERVER, NULL, 0), AQ_ERR_INVALID_ARGUMENT);
  full_server(&tp);
  tp.address_discovery = 3;
  CHECK_INT(aq_tp_encode(&w, &tp, AQ_TP_FROM_SERVER, NULL, 0), AQ_ERR_INVALID_ARGUMENT);
  full_server(&tp);
  tp.nat_traversal_limit = 0;
  CHECK_INT(aq_tp_encode(&w, &tp, AQ_TP_FROM_SERVER, NULL, 0), AQ_ERR_INVALID_ARGUMENT);
  full_server(&tp);
  tp.preferred_address.cid.len = 0;
  CHECK_INT(aq_tp_encode(&w, &tp, AQ_TP_FROM_SERVER, NULL, 0), AQ_ERR_INVALID_ARGUMENT);
  full_server(&tp);
  tp.active_connection_id_limit = 1;
  CHECK_INT(aq_tp_encode(&w, &tp, AQ_TP_FROM_SERVER, NULL, 0), AQ_ERR_INVALID_ARGUMENT);
  full_server(&tp);
  tp.max_ack_delay_ms = 1 << 14;
  CHECK_INT(aq_tp_encode(&w, &tp, AQ_TP_FROM_SERVER, NULL, 0), AQ_ERR_INVALID_ARGUMENT);
  full_server(&tp);
  uint8_t small[20];
  aq_wbuf_init(&w, small, sizeof(small));
  CHECK_INT(aq_tp_encode(&w, &tp, AQ_TP_FROM_SERVER, NULL, 0), AQ_ERR_BUFFER_TOO_SMALL);
}

AQ_TEST(tp_grease_and_extensions) {
  aq_tp tp, d;
  uint8_t buf[512];
  aq_wbuf w;
  static const uint8_t grease[] = {0x01, 0x02, 0x23, 0xaa, 0xbb, 0xcc, 0xdd};
  static const uint8_t val[] = {1, 2, 3};
  aq_tp_default(&tp);
  tp.has = AQ_TP_HAS_INITIAL_SCID;
  REQUIRE(aq_tp_ext_set(&tp, 0x2142, val, 3) == 0);
  REQUIRE(aq_tp_ext_set(&tp, 0x7777, NULL, 0) == 0);
  aq_wbuf_init(&w, buf, sizeof(buf));
  REQUIRE(aq_tp_encode(&w, &tp, AQ_TP_FROM_CLIENT, grease, sizeof(grease)) == 0);
  size_t n = aq_wbuf_len(&w);
  /* Grease: id 31 * 0x0102 + 27 = 8025 (varint 5f59), length 0x23 % 16 = 3. */
  CHECK(aq_test_memeq_hex(buf, n, "0f00" "614203010203" "8000777700" "5f5903aabbcc"));

  /* Without registration both are ignored; with it they are captured zero-copy. */
  aq_tp_default(&d);
  REQUIRE(aq_tp_decode(&d, buf, n, AQ_TP_FROM_CLIENT) == 0);
  CHECK(aq_tp_ext_get(&d, 0x2142) == NULL);
  aq_tp_default(&d);
  REQUIRE(aq_tp_ext_register(&d, 0x2142) == 0);
  REQUIRE(aq_tp_ext_register(&d, 0x2142) == 0); /* twice: no-op */
  REQUIRE(aq_tp_ext_register(&d, 0x7777) == 0);
  REQUIRE(aq_tp_ext_register(&d, 0x9999) == 0);
  REQUIRE(aq_tp_decode(&d, buf, n, AQ_TP_FROM_CLIENT) == 0);
  const aq_tp_ext *e = aq_tp_ext_get(&d, 0x2142);
  REQUIRE(e != NULL);
  CHECK_INT(e->len, 3);
  CHECK(e->value >= buf && e->value < buf + n);
  CHECK_MEM(e->value, val, 3);
  e = aq_tp_ext_get(&d, 0x7777);
  REQUIRE(e != NULL);
  CHECK_INT(e->len, 0);
  CHECK(aq_tp_ext_get(&d, 0x9999) == NULL);
  CHECK_INT(d.next, 3);
  /* A registered id twice is a duplicate. */
  uint8_t dup[] = {0x0f, 0x00, 0x61, 0x42, 0x00, 0x61, 0x42, 0x01, 0x00};
  CHECK_INT(aq_tp_decode(&d, dup, sizeof(dup), AQ_TP_FROM_CLIENT), AQ_ERR_MALFORMED);
  CHECK(aq_tp_ext_get(&d, 0x2142) != NULL); /* unchanged on error */

  /* Registration limits. */
  aq_tp_default(&tp);
  CHECK_INT(aq_tp_ext_register(&tp, AQ_TP_MAX_IDLE_TIMEOUT), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_tp_ext_register(&tp, AQ_TP_NAT_TRAVERSAL), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_tp_ext_register(&tp, AQ_VARINT_MAX + 1), AQ_ERR_INVALID_ARGUMENT);
  for (uint64_t i = 0; i < AQ_TP_MAX_EXT; i++) {
    CHECK_INT(aq_tp_ext_register(&tp, 0x1000 + i), 0);
  }
  CHECK_INT(aq_tp_ext_register(&tp, 0x2000), AQ_ERR_LIMIT);
  /* Grease bytes shorter than 3: none added. */
  aq_tp_default(&tp);
  tp.has = AQ_TP_HAS_INITIAL_SCID;
  aq_wbuf_init(&w, buf, sizeof(buf));
  REQUIRE(aq_tp_encode(&w, &tp, AQ_TP_FROM_CLIENT, grease, 2) == 0);
  CHECK_INT(aq_wbuf_len(&w), 2);
}
