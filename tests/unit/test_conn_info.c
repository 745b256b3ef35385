/*
 * test_conn_info.c - the public connection-info accessors (ALPN, cipher
 * suite, group, Retry, original DCID) on both sides of simulated
 * handshakes: values the two sides were configured to agree on, nothing
 * before the handshake, Retry seen by both, the same original DCID on both
 * sides (also after a Retry), and the buffer-size contract.
 */
#include <string.h>

#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

/* Run a pair's handshake over 10 ms links; 1 if both completed. */
static int info_handshake(aq_simq_pair *p) {
  aq_simq_pair_start(p);
  return aq_sim_run(p->sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, p) == AQ_SIM_DONE;
}

AQ_TEST(conn_info_negotiated_values) {
  static const char *const cli_alpn[] = {"h3", "hq-interop"};
  static const char *const srv_alpn[] = {"hq-interop", "h3"};
  static const uint16_t suite[] = {0x1302};  /* TLS_AES_256_GCM_SHA384 */
  static const uint16_t groups[] = {0x0017}; /* secp256r1 */
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 301, &lp);
  aq_simq *sides[2] = {&p.c, &p.s};
  for (int i = 0; i < 2; i++) {
    sides[i]->set.tls_suites = suite;
    sides[i]->set.ntls_suites = 1;
    sides[i]->set.tls_groups = groups;
    sides[i]->set.ntls_groups = 1;
  }
  p.c.set.alpn = cli_alpn;
  p.c.set.nalpn = 2;
  p.s.set.alpn = srv_alpn;
  p.s.set.nalpn = 2;
  aq_simq_pair_start(&p);
  /* Before any packet: nothing negotiated yet. */
  REQUIRE(p.c.conn != NULL);
  size_t len = 99;
  CHECK(aq_conn_get_alpn(p.c.conn, &len) == NULL);
  CHECK_INT(len, 0);
  CHECK_INT(aq_conn_get_cipher_suite(p.c.conn), 0);
  CHECK_INT(aq_conn_used_retry(p.c.conn), 0);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  REQUIRE(p.s.conn != NULL);
  for (int i = 0; i < 2; i++) {
    aq_conn *c = sides[i]->conn;
    len = 0;
    const char *a = aq_conn_get_alpn(c, &len);
    REQUIRE(a != NULL);
    /* The server's preference wins: its first protocol the client offered. */
    CHECK_INT(len, 10);
    CHECK(strcmp(a, "hq-interop") == 0);
    CHECK(aq_conn_get_alpn(c, NULL) == a);
    CHECK_INT(aq_conn_get_cipher_suite(c), 0x1302);
    CHECK_INT(aq_conn_get_group(c), 0x0017);
    CHECK_INT(aq_conn_used_retry(c), 0);
  }
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_info_no_alpn_default_suite_group) {
  aq_simq_pair p;
  aq_simq_pair_init(&p, 302, NULL);
  REQUIRE(info_handshake(&p));
  aq_conn *conns[2] = {p.c.conn, p.s.conn};
  for (int i = 0; i < 2; i++) {
    REQUIRE(conns[i] != NULL);
    size_t len = 99;
    CHECK(aq_conn_get_alpn(conns[i], &len) == NULL);
    CHECK_INT(len, 0);
    /* Engine default: AES-128-GCM first; the simulator offers only X25519. */
    CHECK_INT(aq_conn_get_cipher_suite(conns[i]), 0x1301);
    CHECK_INT(aq_conn_get_group(conns[i]), 0x001d);
  }
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_info_retry_and_odcid) {
  for (int retry = 0; retry < 2; retry++) {
    aq_simq_pair p;
    aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
    aq_simq_pair_init(&p, 303 + (uint64_t)retry, &lp);
    p.s.set.retry = retry;
    aq_simq_pair_start(&p);
    REQUIRE(p.c.conn != NULL);
    uint8_t first[20];
    aq_ssize n0 = aq_conn_get_odcid(p.c.conn, first, sizeof(first));
    /* RFC 9000 §7.2: a client's first DCID is at least 8 bytes. */
    CHECK(n0 >= 8 && n0 <= 20);
    REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
    REQUIRE(p.s.conn != NULL);
    CHECK_INT(aq_conn_used_retry(p.c.conn), retry);
    CHECK_INT(aq_conn_used_retry(p.s.conn), retry);
    uint8_t c_od[20], s_od[20];
    aq_ssize cn = aq_conn_get_odcid(p.c.conn, c_od, sizeof(c_od));
    aq_ssize sn = aq_conn_get_odcid(p.s.conn, s_od, sizeof(s_od));
    /* The same id on both sides, and still the client's first DCID after a Retry. */
    CHECK_INT(cn, n0);
    CHECK_INT(sn, n0);
    if (cn == n0 && sn == n0 && n0 > 0) {
      CHECK_MEM(c_od, first, (size_t)n0);
      CHECK_MEM(s_od, first, (size_t)n0);
    }
    /* Too small a buffer: an error and nothing written. */
    if (n0 > 0) {
      uint8_t small[20];
      memset(small, 0xa5, sizeof(small));
      CHECK_INT(aq_conn_get_odcid(p.s.conn, small, (size_t)n0 - 1), AQ_ERR_BUFFER_TOO_SMALL);
      for (size_t i = 0; i < sizeof(small); i++) {
        CHECK_INT(small[i], 0xa5);
      }
    }
    aq_simq_pair_free(&p);
  }
}
