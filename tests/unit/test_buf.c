/* test_buf.c - the checked reader/writer and QUIC varints (RFC 9000 §16, App. A.1). */
#include "aq_buf.h"
#include "aq_test.h"

/* RFC 9000 Appendix A.1 / §16 examples. */
static const struct {
  const char *hex;
  uint64_t value;
  int minimal;
} varint_examples[] = {
    {"c2197c5eff14e88c", 151288809941952652ULL, 1},
    {"9d7f3e7d", 494878333ULL, 1},
    {"7bbd", 15293, 1},
    {"25", 37, 1},
    {"4025", 37, 0}, /* "the two-byte sequence 0x40 0x25 also decodes to 37" */
};

AQ_TEST(buf_varint_rfc9000_examples) {
  for (size_t i = 0; i < sizeof(varint_examples) / sizeof(varint_examples[0]); i++) {
    uint8_t in[8], out[8];
    size_t n = aq_test_unhex_into(in, sizeof(in), varint_examples[i].hex);
    aq_rbuf r;
    uint64_t v = 0;
    aq_rbuf_init(&r, in, n);
    CHECK_INT(aq_rbuf_varint(&r, &v), 0);
    CHECK(v == varint_examples[i].value);
    CHECK_INT(aq_rbuf_left(&r), 0);

    aq_rbuf_init(&r, in, n);
    int rv = aq_rbuf_varint_minimal(&r, &v);
    if (varint_examples[i].minimal) {
      CHECK_INT(rv, 0);
      /* Minimal encodings re-encode to the same bytes. */
      aq_wbuf w;
      aq_wbuf_init(&w, out, sizeof(out));
      aq_wbuf_varint(&w, varint_examples[i].value);
      CHECK_INT(aq_wbuf_error(&w), 0);
      CHECK_INT(aq_wbuf_len(&w), n);
      CHECK_MEM(out, in, n);
    } else {
      CHECK_INT(rv, AQ_ERR_NON_MINIMAL);
      CHECK(r.p == in); /* failed read did not move */
    }
  }
}

AQ_TEST(buf_varint_boundaries) {
  static const uint64_t values[] = {0, 63, 64, 16383, 16384, 1073741823, 1073741824, AQ_VARINT_MAX};
  static const size_t lens[] = {1, 1, 2, 2, 4, 4, 8, 8};
  for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
    uint8_t buf[8];
    aq_wbuf w;
    aq_rbuf r;
    uint64_t v;
    TESTCASE(values[i] == 63 || values[i] == 64);
    CHECK_INT(aq_varint_len(values[i]), lens[i]);
    aq_wbuf_init(&w, buf, sizeof(buf));
    aq_wbuf_varint(&w, values[i]);
    CHECK_INT(aq_wbuf_len(&w), lens[i]);
    aq_rbuf_init(&r, buf, aq_wbuf_len(&w));
    CHECK_INT(aq_rbuf_varint_minimal(&r, &v), 0);
    CHECK(v == values[i]);
    /* Every value also decodes from every longer encoding (non-minimal). */
    for (size_t len = lens[i]; len <= 8; len *= 2) {
      aq_wbuf_init(&w, buf, sizeof(buf));
      aq_wbuf_varint_fixed(&w, values[i], len);
      CHECK_INT(aq_wbuf_error(&w), 0);
      aq_rbuf_init(&r, buf, len);
      CHECK_INT(aq_rbuf_varint(&r, &v), 0);
      CHECK(v == values[i]);
      aq_rbuf_init(&r, buf, len);
      CHECK_INT(aq_rbuf_varint_minimal(&r, &v), len == lens[i] ? 0 : AQ_ERR_NON_MINIMAL);
    }
  }
  /* 2^62 cannot be encoded: the error is sticky and nothing is written. */
  uint8_t buf[16];
  aq_wbuf w;
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_wbuf_varint(&w, AQ_VARINT_MAX + 1);
  CHECK_INT(aq_wbuf_error(&w), AQ_ERR_VALUE_RANGE);
  aq_wbuf_u8(&w, 1);
  CHECK_INT(aq_wbuf_len(&w), 0);
  /* A fixed length too short for the value. */
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_wbuf_varint_fixed(&w, 64, 1);
  CHECK_INT(aq_wbuf_error(&w), AQ_ERR_VALUE_RANGE);
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_wbuf_varint_fixed(&w, 1, 3);
  CHECK_INT(aq_wbuf_error(&w), AQ_ERR_VALUE_RANGE);
}

/* Every varint truncated at every byte: TRUNCATED and the cursor unmoved. */
AQ_TEST(buf_varint_truncated_every_offset) {
  for (size_t i = 0; i < sizeof(varint_examples) / sizeof(varint_examples[0]); i++) {
    uint8_t in[8];
    size_t n = aq_test_unhex_into(in, sizeof(in), varint_examples[i].hex);
    for (size_t cut = 0; cut < n; cut++) {
      aq_rbuf r;
      uint64_t v = 12345;
      aq_rbuf_init(&r, in, cut);
      CHECK_INT(aq_rbuf_varint(&r, &v), AQ_ERR_TRUNCATED);
      CHECK(r.p == in);
      CHECK(v == 12345);
      CHECK_INT(aq_rbuf_varint_minimal(&r, &v), AQ_ERR_TRUNCATED);
      CHECK(r.p == in);
    }
  }
}

AQ_TEST(buf_fixed_ints_truncated_every_offset) {
  static const uint8_t in[8] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
  for (size_t len = 0; len <= 8; len++) {
    aq_rbuf r;
    uint8_t v8;
    uint16_t v16;
    uint32_t v32;
    uint64_t v64;
    aq_rbuf_init(&r, in, len);
    CHECK_INT(aq_rbuf_u64(&r, &v64), len >= 8 ? 0 : AQ_ERR_TRUNCATED);
    if (len >= 8) {
      CHECK(v64 == 0x0102030405060708ULL);
    }
    aq_rbuf_init(&r, in, len);
    CHECK_INT(aq_rbuf_u32(&r, &v32), len >= 4 ? 0 : AQ_ERR_TRUNCATED);
    if (len >= 4) {
      CHECK(v32 == 0x01020304u);
    } else {
      CHECK(r.p == in);
    }
    aq_rbuf_init(&r, in, len);
    CHECK_INT(aq_rbuf_u24(&r, &v32), len >= 3 ? 0 : AQ_ERR_TRUNCATED);
    if (len >= 3) {
      CHECK(v32 == 0x010203u);
    }
    aq_rbuf_init(&r, in, len);
    CHECK_INT(aq_rbuf_u16(&r, &v16), len >= 2 ? 0 : AQ_ERR_TRUNCATED);
    if (len >= 2) {
      CHECK(v16 == 0x0102);
    }
    aq_rbuf_init(&r, in, len);
    CHECK_INT(aq_rbuf_u8(&r, &v8), len >= 1 ? 0 : AQ_ERR_TRUNCATED);
    const uint8_t *p;
    aq_rbuf_init(&r, in, len);
    CHECK_INT(aq_rbuf_bytes(&r, 5, &p), len >= 5 ? 0 : AQ_ERR_TRUNCATED);
    CHECK(len >= 5 ? r.p == in + 5 : r.p == in);
    aq_rbuf_init(&r, in, len);
    CHECK_INT(aq_rbuf_skip(&r, 6), len >= 6 ? 0 : AQ_ERR_TRUNCATED);
  }
}

AQ_TEST(buf_sub_reader_exact_consumption) {
  static const aq_lenprefix kinds[] = {AQ_LEN_U8, AQ_LEN_U16, AQ_LEN_U24, AQ_LEN_VARINT,
                                       AQ_LEN_VARINT2};
  for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
    uint8_t buf[64];
    aq_wbuf w;
    aq_wbuf_mark m;
    aq_wbuf_init(&w, buf, sizeof(buf));
    aq_wbuf_len_begin(&w, kinds[k], &m);
    aq_wbuf_u16(&w, 0xabcd);
    aq_wbuf_u8(&w, 0xef);
    aq_wbuf_len_end(&w, &m);
    aq_wbuf_u8(&w, 0x99); /* after the block */
    REQUIRE(aq_wbuf_error(&w) == 0);
    size_t total = aq_wbuf_len(&w);

    aq_rbuf r, sub;
    uint16_t v16;
    uint8_t v8;
    aq_rbuf_init(&r, buf, total);
    CHECK_INT(aq_rbuf_sub(&r, kinds[k], &sub), 0);
    CHECK_INT(aq_rbuf_left(&sub), 3);
    CHECK_INT(aq_rbuf_u16(&sub, &v16), 0);
    CHECK(v16 == 0xabcd);
    /* One byte left: not done. */
    CHECK_INT(aq_rbuf_done(&sub), AQ_ERR_TRAILING_DATA);
    CHECK_INT(aq_rbuf_u8(&sub, &v8), 0);
    CHECK_INT(aq_rbuf_done(&sub), 0);
    /* The sub-reader cannot read past its block into the parent. */
    CHECK_INT(aq_rbuf_u8(&sub, &v8), AQ_ERR_TRUNCATED);
    CHECK_INT(aq_rbuf_u8(&r, &v8), 0);
    CHECK(v8 == 0x99);

    /* Truncated anywhere inside prefix or block: error, parent unmoved. */
    for (size_t cut = 0; cut < total - 1; cut++) {
      aq_rbuf_init(&r, buf, cut);
      CHECK_INT(aq_rbuf_sub(&r, kinds[k], &sub), AQ_ERR_TRUNCATED);
      CHECK(r.p == buf);
    }
  }
}

AQ_TEST(buf_writer_overflow_is_sticky) {
  for (size_t cap = 0; cap < 16; cap++) {
    uint8_t buf[16];
    aq_wbuf w;
    aq_wbuf_init(&w, buf, cap);
    aq_wbuf_u32(&w, 0x01020304);
    aq_wbuf_u64(&w, 0x0102030405060708ULL);
    aq_wbuf_u8(&w, 9);
    aq_wbuf_u16(&w, 0x0a0b);
    if (cap < 15) {
      CHECK_INT(aq_wbuf_error(&w), AQ_ERR_BUFFER_TOO_SMALL);
      /* Nothing is written after the first failure, even if it would fit. */
      size_t before = aq_wbuf_len(&w);
      aq_wbuf_u8(&w, 1);
      CHECK_INT(aq_wbuf_len(&w), before);
      CHECK(aq_wbuf_len(&w) <= cap);
    } else {
      CHECK_INT(aq_wbuf_error(&w), 0);
      CHECK_INT(aq_wbuf_len(&w), 15);
      CHECK(aq_test_memeq_hex(buf, 15, "010203040102030405060708090a0b"));
    }
  }
}

AQ_TEST(buf_backpatch_length_limits) {
  uint8_t buf[400];
  aq_wbuf w;
  aq_wbuf_mark m;
  /* 256 bytes do not fit a 1-byte prefix. */
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_wbuf_len_begin(&w, AQ_LEN_U8, &m);
  aq_wbuf_zeros(&w, 256);
  aq_wbuf_len_end(&w, &m);
  CHECK_INT(aq_wbuf_error(&w), AQ_ERR_VALUE_RANGE);
  /* 255 do. */
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_wbuf_len_begin(&w, AQ_LEN_U8, &m);
  aq_wbuf_zeros(&w, 255);
  aq_wbuf_len_end(&w, &m);
  CHECK_INT(aq_wbuf_error(&w), 0);
  CHECK_INT(buf[0], 255);
  /* Nested blocks (TLS extensions inside an extension list). */
  aq_wbuf_mark outer, inner;
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_wbuf_len_begin(&w, AQ_LEN_U16, &outer);
  aq_wbuf_u16(&w, 0x002b);
  aq_wbuf_len_begin(&w, AQ_LEN_U16, &inner);
  aq_wbuf_u8(&w, 2);
  aq_wbuf_u16(&w, 0x0304);
  aq_wbuf_len_end(&w, &inner);
  aq_wbuf_len_end(&w, &outer);
  CHECK_INT(aq_wbuf_error(&w), 0);
  CHECK(aq_test_memeq_hex(buf, aq_wbuf_len(&w), "0007002b0003020304"));
  /* A varint prefix reserves 4 bytes and writes a 4-byte varint. */
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_wbuf_len_begin(&w, AQ_LEN_VARINT, &m);
  aq_wbuf_u8(&w, 7);
  aq_wbuf_len_end(&w, &m);
  CHECK(aq_test_memeq_hex(buf, aq_wbuf_len(&w), "8000000107"));
  /* Overflow inside a block leaves the sticky error. */
  aq_wbuf_init(&w, buf, 3);
  aq_wbuf_len_begin(&w, AQ_LEN_U16, &m);
  aq_wbuf_u16(&w, 1);
  aq_wbuf_len_end(&w, &m);
  CHECK_INT(aq_wbuf_error(&w), AQ_ERR_BUFFER_TOO_SMALL);
}
