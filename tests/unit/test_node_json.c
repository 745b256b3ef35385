/* test_node_json.c - the --json event writer: structure, escaping (RFC 8259 §7), overflow. */
#include <string.h>

#include "aq_test.h"
#include "node_json.h"

/* Escape s (len bytes) and compare with the expected body. */
static void check_escape(const char *s, size_t len, const char *want) {
  char out[256];
  long n = node_json_escape(out, sizeof(out), s, len);
  CHECK_INT(n, (long)strlen(want));
  if (strcmp(out, want) != 0) {
    aq_test_fail(__FILE__, __LINE__, "escape: got '%s' want '%s'", out, want);
  }
}

/* Every byte of out is printable ASCII or part of well-formed UTF-8 (strict JSON). */
static int strict_json_bytes(const char *out) {
  for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
    if (*p < 0x20 || *p == 0x7f) {
      return 0;
    }
  }
  return 1;
}

AQ_TEST(node_json_escape_ascii_controls) {
  check_escape("plain", 5, "plain");
  check_escape("a\"b\\c", 5, "a\\\"b\\\\c");
  check_escape("\b\f\n\r\t", 5, "\\b\\f\\n\\r\\t");
  check_escape("\x01\x1f\x7f", 3, "\\u0001\\u001f\\u007f");
  check_escape("a\0b", 3, "a\\u0000b");
  check_escape("/", 1, "/"); /* solidus need not be escaped */
  check_escape("", 0, "");
}

AQ_TEST(node_json_escape_utf8) {
  /* Well-formed: 2-, 3- and 4-byte sequences at the RFC 3629 boundaries pass through. */
  check_escape("\xc2\x80", 2, "\xc2\x80");
  check_escape("\xdf\xbf", 2, "\xdf\xbf");
  check_escape("\xe0\xa0\x80", 3, "\xe0\xa0\x80");
  check_escape("\xed\x9f\xbf", 3, "\xed\x9f\xbf"); /* U+D7FF */
  check_escape("\xef\xbf\xbf", 3, "\xef\xbf\xbf");
  check_escape("\xf0\x90\x80\x80", 4, "\xf0\x90\x80\x80"); /* U+10000 */
  check_escape("\xf4\x8f\xbf\xbf", 4, "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
  check_escape("\xf0\x9f\x8c\x90", 4, "\xf0\x9f\x8c\x90"); /* the globe emoji */
  /* Ill-formed: each offending byte becomes U+FFFD. */
  check_escape("\xc0\xaf", 2, "\\ufffd\\ufffd"); /* overlong '/' */
  check_escape("\xc1\xbf", 2, "\\ufffd\\ufffd");
  check_escape("\xe0\x9f\xbf", 3, "\\ufffd\\ufffd\\ufffd");            /* overlong 3-byte */
  check_escape("\xed\xa0\x80", 3, "\\ufffd\\ufffd\\ufffd");            /* surrogate U+D800 */
  check_escape("\xf4\x90\x80\x80", 4, "\\ufffd\\ufffd\\ufffd\\ufffd"); /* > U+10FFFF */
  check_escape("\xf5\x80", 2, "\\ufffd\\ufffd");
  check_escape("\x80", 1, "\\ufffd");              /* lone continuation */
  check_escape("\xe2\x82", 2, "\\ufffd\\ufffd");   /* truncated at the end */
  check_escape("\xe2\x82x", 3, "\\ufffd\\ufffdx"); /* truncated mid-string */
  check_escape("\xff", 1, "\\ufffd");
}

AQ_TEST(node_json_escape_overflow) {
  char out[8];
  CHECK_INT(node_json_escape(out, sizeof(out), "1234567", 7), 7);
  CHECK_INT(node_json_escape(out, sizeof(out), "12345678", 8), -1);
  CHECK(out[0] == '\0');
  CHECK_INT(node_json_escape(out, sizeof(out), "\"\"\"\"", 4), -1); /* 8 escaped bytes + NUL */
  CHECK_INT(node_json_escape(out, 0, "", 0), -1);
}

AQ_TEST(node_json_object_exact) {
  char buf[512];
  node_json j;
  node_json_init(&j, buf, sizeof(buf));
  node_json_str(&j, "event", "external_address");
  node_json_str(&j, "addr", "[2001:db8::1]:9000");
  node_json_u64(&j, "n", 18446744073709551615ull);
  node_json_i64(&j, "neg", -42);
  node_json_bool(&j, "t", 1);
  node_json_bool(&j, "f", 0);
  node_json_null(&j, "z");
  node_json_str(&j, "nul", NULL);
  node_json_milli(&j, "rtt_ms", 12345);
  node_json_milli(&j, "small", 7);
  node_json_arr_begin(&j, "peers");
  node_json_obj_begin(&j, NULL);
  node_json_str(&j, "id", "ab");
  node_json_obj_end(&j);
  node_json_u64(&j, NULL, 3);
  node_json_arr_begin(&j, NULL);
  node_json_arr_end(&j);
  node_json_arr_end(&j);
  node_json_obj_begin(&j, "empty");
  node_json_obj_end(&j);
  long n = node_json_finish(&j);
  const char *want = "{\"event\":\"external_address\",\"addr\":\"[2001:db8::1]:9000\","
                     "\"n\":18446744073709551615,\"neg\":-42,\"t\":true,\"f\":false,\"z\":null,"
                     "\"nul\":null,\"rtt_ms\":12.345,\"small\":0.007,"
                     "\"peers\":[{\"id\":\"ab\"},3,[]],\"empty\":{}}";
  CHECK_INT(n, (long)strlen(want));
  CHECK(strcmp(buf, want) == 0);

  /* And it parses back with the values intact. */
  aq_json *root = aq_json_parse(buf, (size_t)n);
  REQUIRE(root != NULL);
  CHECK(strcmp(aq_json_get_str(root, "addr"), "[2001:db8::1]:9000") == 0);
  CHECK_INT(aq_json_get_int(root, "neg", 0), -42);
  const aq_json *peers = aq_json_get(root, "peers");
  REQUIRE(peers != NULL && peers->type == AQ_JSON_ARRAY);
  CHECK_INT(peers->n, 3);
  aq_json_free(root);
}

AQ_TEST(node_json_hostile_strings_roundtrip) {
  /* Peer-supplied bytes (a close reason) with controls, quotes and bad UTF-8. */
  static const char reason[] = "bye\"\\\n\x01\xff\xc3\xa9\x00tail";
  char buf[256];
  node_json j;
  node_json_init(&j, buf, sizeof(buf));
  node_json_strn(&j, "reason", reason, sizeof(reason) - 1);
  node_json_str(&j, "k\"ey", "v");
  long n = node_json_finish(&j);
  REQUIRE(n > 0);
  CHECK(strict_json_bytes(buf));
  aq_json *root = aq_json_parse(buf, (size_t)n);
  REQUIRE(root != NULL);
  const aq_json *r = aq_json_get(root, "reason");
  REQUIRE(r != NULL && r->type == AQ_JSON_STRING);
  /* Decoded: the 0xff byte became U+FFFD (ef bf bd), the rest is unchanged. */
  static const char want[] = "bye\"\\\n\x01\xef\xbf\xbd\xc3\xa9\x00tail";
  CHECK_INT(r->strlen, sizeof(want) - 1);
  CHECK_MEM(r->str, want, sizeof(want) - 1);
  CHECK(aq_json_get(root, "k\"ey") != NULL);
  aq_json_free(root);
}

AQ_TEST(node_json_overflow_every_cap) {
  /* Build the same object into every smaller buffer: -1 and "" until it fits exactly. */
  char full[128];
  node_json j;
  node_json_init(&j, full, sizeof(full));
  node_json_str(&j, "event", "x\ny");
  node_json_arr_begin(&j, "a");
  node_json_u64(&j, NULL, 1);
  node_json_arr_end(&j);
  long want = node_json_finish(&j);
  REQUIRE(want > 0);
  for (size_t cap = 0; cap <= (size_t)want + 1; cap++) {
    char buf[128];
    memset(buf, 'Z', sizeof(buf));
    node_json_init(&j, buf, cap);
    node_json_str(&j, "event", "x\ny");
    node_json_arr_begin(&j, "a");
    node_json_u64(&j, NULL, 1);
    node_json_arr_end(&j);
    long n = node_json_finish(&j);
    if (cap >= (size_t)want + 1) {
      CHECK_INT(n, want);
      CHECK(strcmp(buf, full) == 0);
    } else {
      CHECK_INT(n, -1);
      if (cap > 0) {
        CHECK(buf[0] == '\0');
      }
      CHECK(buf[cap] == 'Z'); /* nothing written past cap */
    }
  }
}

AQ_TEST(node_json_misuse) {
  char buf[128];
  node_json j;
  /* A key inside an array. */
  node_json_init(&j, buf, sizeof(buf));
  node_json_arr_begin(&j, "a");
  node_json_u64(&j, "k", 1);
  CHECK_INT(node_json_finish(&j), -1);
  /* No key inside an object. */
  node_json_init(&j, buf, sizeof(buf));
  node_json_u64(&j, NULL, 1);
  CHECK_INT(node_json_finish(&j), -1);
  /* Unbalanced: an array left open, or closed as an object. */
  node_json_init(&j, buf, sizeof(buf));
  node_json_arr_begin(&j, "a");
  CHECK_INT(node_json_finish(&j), -1);
  node_json_init(&j, buf, sizeof(buf));
  node_json_arr_begin(&j, "a");
  node_json_obj_end(&j);
  CHECK_INT(node_json_finish(&j), -1);
  /* Too deep. */
  node_json_init(&j, buf, sizeof(buf));
  for (int i = 0; i < NODE_JSON_MAX_DEPTH; i++) {
    node_json_obj_begin(&j, "d");
  }
  CHECK(j.err == 1);
  CHECK_INT(node_json_finish(&j), -1);
}

/* Non-zero if p[0..n-1] is well-formed UTF-8 (checked independently of node_json.c). */
static int utf8_valid(const unsigned char *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = p[i];
    size_t len;
    unsigned cp;
    if (c < 0x80) {
      i++;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return 0;
    }
    if (i + len > n) {
      return 0;
    }
    for (size_t k = 1; k < len; k++) {
      if ((p[i + k] & 0xc0) != 0x80) {
        return 0;
      }
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return 0;
    }
    i += len;
  }
  return 1;
}

AQ_TEST(node_json_random_bytes_always_valid) {
  /* Random byte strings (biased towards UTF-8 lead/continuation bytes): the
   * escaped output is strict JSON text (no control bytes, valid UTF-8), and
   * valid UTF-8 inputs without controls survive unchanged. */
  uint64_t seed = 0x6a736f6e;
  for (int iter = 0; iter < 3000; iter++) {
    unsigned char in[24], pick[48];
    char out[24 * 6 + 1];
    REQUIRE(aq_test_rand(pick, sizeof(pick), &seed) == 0);
    size_t n = pick[0] % sizeof(in);
    for (size_t i = 0; i < n; i++) {
      static const unsigned char alphabet[] = {'a',  '"',  '\\', 0x01, 0x1f, 0x7f, 0x80, 0xbf,
                                               0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xff};
      in[i] = (pick[1 + i] & 1) ? alphabet[pick[1 + i] >> 4] : pick[1 + i];
    }
    long len = node_json_escape(out, sizeof(out), (const char *)in, n);
    REQUIRE(len >= 0);
    CHECK(strict_json_bytes(out));
    CHECK(utf8_valid((const unsigned char *)out, (size_t)len));
    int plain = utf8_valid(in, n);
    for (size_t i = 0; i < n && plain; i++) {
      if (in[i] < 0x20 || in[i] == 0x7f || in[i] == '"' || in[i] == '\\') {
        plain = 0;
      }
    }
    if (plain) {
      CHECK_INT(len, (long)n);
      CHECK_MEM(out, in, n);
    }
  }
}
