/* test_addr.c - the address value type. */
#include "aq_test.h"

AQ_TEST(addr_parse_format_roundtrip) {
  static const char *good[] = {"127.0.0.1:9000", "[::1]:443", "192.0.2.7:0", "[2001:db8::1]:65535"};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
    aq_addr a;
    char s[AQ_ADDR_STRLEN];
    CHECK_INT(aq_addr_parse(&a, good[i], 0), 0);
    CHECK(strcmp(aq_addr_format(s, sizeof(s), &a), good[i]) == 0);
  }
  aq_addr a;
  CHECK_INT(aq_addr_parse(&a, "10.1.2.3", 1), 0);
  CHECK_INT(a.family, AQ_AF_INET);
  CHECK_INT(a.port, 0);
  CHECK_INT(aq_addr_parse(&a, "::1", 1), 0);
  CHECK_INT(a.family, AQ_AF_INET6);
}

AQ_TEST(addr_parse_rejects_bad_input) {
  static const char *bad[] = {"",          "1.2.3.4",       "1.2.3.4:",     "1.2.3.4:65536",
                              "1.2.3:80",  "[::1]",         "[::1]x",       "[::1:80",
                              "host:80",   "1.2.3.4:-1",    "1.2.3.4:80a",  "[1.2.3.4]:80",
                              ":80",       "1.2.3.4:123456"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    aq_addr a;
    memset(&a, 0xee, sizeof(a));
    CHECK_INT(aq_addr_parse(&a, bad[i], 0), AQ_ERR_MALFORMED);
    CHECK_INT(a.family, 0xee); /* untouched on error */
  }
  aq_addr a;
  CHECK_INT(aq_addr_parse(&a, NULL, 1), AQ_ERR_MALFORMED);
}

AQ_TEST(addr_compare) {
  static const uint8_t ip1[4] = {192, 0, 2, 1}, ip2[4] = {192, 0, 2, 2};
  aq_addr a = aq_addr_ipv4(ip1, 1), b = aq_addr_ipv4(ip1, 2), c = aq_addr_ipv4(ip2, 1);
  CHECK(aq_addr_eq_ip(&a, &b));
  CHECK(!aq_addr_eq(&a, &b));
  CHECK(!aq_addr_eq_ip(&a, &c));
  CHECK(aq_addr_eq(&a, &a));
}

AQ_TEST(err_strings) {
  CHECK(strcmp(aq_strerror(AQ_ERR_TRUNCATED), "input truncated") == 0);
  CHECK(strcmp(aq_strerror(-12345), "unknown error") == 0);
  CHECK(aq_err_is_fatal(AQ_ERR_NOMEM));
  CHECK(!aq_err_is_fatal(AQ_ERR_PROTO));
}
