/*
 * test_conn_token.c - NEW_TOKEN address-validation tokens (RFC 9000
 * §8.1.3): the token codec (round trip, client IP binding, expiry, a
 * foreign key, every flipped bit and truncation), and in the simulator a
 * Retry server that issues a token after the first handshake and skips the
 * Retry for the client's next connection, while expired or foreign tokens
 * just get a Retry (and the handshake still completes: no Retry loop).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"
#include "aq_token.h"

AQ_TEST(token_new_codec) {
  uint8_t secret[32], key[AQ_TOKEN_KEY_LEN], key2[AQ_TOKEN_KEY_LEN];
  memset(secret, 0x42, sizeof(secret));
  REQUIRE(aq_token_derive_key(key, secret) == 0);
  secret[0] ^= 1;
  REQUIRE(aq_token_derive_key(key2, secret) == 0);
  CHECK(memcmp(key, key2, sizeof(key)) != 0);
  const uint8_t nonce[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  const uint8_t ip[4] = {198, 51, 100, 2};
  const uint8_t ip2[4] = {198, 51, 100, 3};
  aq_addr a = aq_addr_ipv4(ip, 50000);
  aq_tstamp expiry = 1000 * AQ_SECONDS;
  uint8_t tok[AQ_TOKEN_NEW_LEN + 4];
  CHECK_INT(aq_token_seal_new(tok, AQ_TOKEN_NEW_LEN - 1, key, nonce, &a, expiry),
            AQ_ERR_BUFFER_TOO_SMALL);
  REQUIRE(aq_token_seal_new(tok, sizeof(tok), key, nonce, &a, expiry) == AQ_TOKEN_NEW_LEN);
  CHECK_INT(tok[0], AQ_TOKEN_TYPE_NEW);
  CHECK_MEM(tok + 1, nonce, 12);
  CHECK(aq_token_is_new(tok, AQ_TOKEN_NEW_LEN));
  CHECK_INT(aq_token_open_new(key, tok, AQ_TOKEN_NEW_LEN, &a, expiry - 1), 0);
  /* Another port of the same IP (a NAT between connections) is fine. */
  aq_addr ap = aq_addr_ipv4(ip, 1234);
  CHECK_INT(aq_token_open_new(key, tok, AQ_TOKEN_NEW_LEN, &ap, 0), 0);
  /* Another IP, another key, expired. */
  aq_addr b = aq_addr_ipv4(ip2, 50000);
  CHECK_INT(aq_token_open_new(key, tok, AQ_TOKEN_NEW_LEN, &b, 0), AQ_ERR_DECRYPT);
  CHECK_INT(aq_token_open_new(key2, tok, AQ_TOKEN_NEW_LEN, &a, 0), AQ_ERR_DECRYPT);
  CHECK_INT(aq_token_open_new(key, tok, AQ_TOKEN_NEW_LEN, &a, expiry), AQ_ERR_TIMEOUT);
  /* Every flipped bit fails; every truncation and extension is not a token. */
  for (size_t i = 0; i < AQ_TOKEN_NEW_LEN; i++) {
    for (unsigned bit = 0; bit < 8; bit++) {
      tok[i] ^= (uint8_t)(1u << bit);
      CHECK(aq_token_open_new(key, tok, AQ_TOKEN_NEW_LEN, &a, 0) != 0);
      tok[i] ^= (uint8_t)(1u << bit);
    }
  }
  for (size_t n = 0; n < AQ_TOKEN_NEW_LEN; n++) {
    CHECK_INT(aq_token_open_new(key, tok, n, &a, 0), AQ_ERR_MALFORMED);
  }
  CHECK_INT(aq_token_open_new(key, tok, AQ_TOKEN_NEW_LEN + 1, &a, 0), AQ_ERR_MALFORMED);
  CHECK_INT(aq_token_open_new(key, tok, AQ_TOKEN_NEW_LEN, &a, 0), 0);
  /* A Retry token (first byte = a CID length <= 20) is never taken for one. */
  uint8_t rt[AQ_TOKEN_NEW_LEN];
  memcpy(rt, tok, sizeof(rt));
  rt[0] = 8;
  CHECK(!aq_token_is_new(rt, sizeof(rt)));
}

/* ------------------------------------------------------------ scenarios */

static struct {
  uint8_t blob[16384];
  size_t len;
  int n;
} g_tsess;

static void cb_session(aq_conn *conn, const uint8_t *blob, size_t len, void *ud) {
  (void)conn;
  (void)ud;
  if (len <= sizeof(g_tsess.blob)) {
    memcpy(g_tsess.blob, blob, len);
    g_tsess.len = len;
    g_tsess.n++;
  }
}

/** The latest session holds a NEW_TOKEN token. */
static int have_token(void *arg) {
  (void)arg;
  aq_zrtt_session s;
  return g_tsess.n > 0 && aq_zrtt_session_decode(&s, g_tsess.blob, g_tsess.len) == 0 &&
         s.token_len == AQ_TOKEN_NEW_LEN && s.tls_len > 0;
}

static int client_hs(void *arg) {
  aq_simq *q = arg;
  return q->hs_done;
}

static const uint8_t skey[32] = {7, 7, 7, 7};
static const uint8_t skey_other[32] = {8, 8, 8, 8};

/**
 * A Retry server; the first connection gets Retry'd and a token; then the
 * client (same host, a fresh endpoint) reconnects with the blob after wait.
 * Returns the second handshake's duration.
 */
static aq_duration reconnect(uint64_t seed, aq_duration lifetime, aq_duration wait,
                             const uint8_t *second_key, int *retried, int *validated) {
  memset(&g_tsess, 0, sizeof(g_tsess));
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  aq_simq_pair p;
  aq_simq_pair_init(&p, seed, &lp);
  p.s.set.retry = 1;
  p.s.set.ticket_key = skey;
  p.s.set.token_lifetime = lifetime;
  p.c.cb.new_session = cb_session;
  aq_simq_pair_start(&p);
  aq_tstamp t0 = aq_sim_now(p.sim);
  aq_sim_result r = aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, have_token, NULL);
  CHECK_INT(r, AQ_SIM_DONE);
  /* The first connection paid the Retry round trip (2 RTT of 40 ms). */
  CHECK_INT(p.c.hs_done_ts - t0, 80 * AQ_MILLISECONDS);
  CHECK(p.c.conn != NULL && p.c.conn->got_retry);
  (void)aq_sim_run_for(p.sim, wait, 1000000);
  if (second_key != NULL) {
    /* Server restarted with another key: the old token is foreign now. */
    aq_simq_free(&p.s);
    aq_simq_init(&p.s, p.sim, p.sh, 1, 0x22);
    p.s.echo = 1;
    p.s.set.retry = 1;
    p.s.set.ticket_key = second_key;
    aq_simq_start(&p.s);
  }
  /* Same client host (same IP), a new endpoint. */
  aq_simq_free(&p.c);
  aq_simq_init(&p.c, p.sim, p.ch, 0, 0x11);
  p.c.cb.new_session = cb_session;
  aq_simq_start(&p.c);
  aq_simq_connect(&p.c, &p.saddr);
  CHECK(aq_conn_set_session(p.c.conn, g_tsess.blob, g_tsess.len) == 0);
  CHECK_INT(p.c.conn->retry_token_len, AQ_TOKEN_NEW_LEN);
  t0 = aq_sim_now(p.sim);
  r = aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, client_hs, &p.c);
  CHECK_INT(r, AQ_SIM_DONE);
  aq_duration d = p.c.hs_done_ts - t0;
  *retried = p.c.conn != NULL && p.c.conn->got_retry;
  *validated = 0;
  if (p.s.conn != NULL) {
    *validated = p.s.conn->addr_validated;
  }
  /* Data flows on the new connection either way. */
  aq_simq_stream *cs = aq_simq_open(&p.c, 1, 10000, 1);
  CHECK(cs != NULL);
  if (cs != NULL) {
    r = aq_sim_run(p.sim, 5 * AQ_SECONDS, 1000000, client_hs, &p.c);
    (void)aq_sim_run_for(p.sim, 500 * AQ_MILLISECONDS, 1000000);
    CHECK_INT(cs->recvd, 10000);
    CHECK(!cs->bad);
  }
  CHECK(!p.c.io_err && !p.s.io_err);
  aq_simq_pair_free(&p);
  return d;
}

AQ_TEST(token_new_token_skips_retry) {
  int retried = -1, validated = -1;
  aq_duration d = reconnect(401, 3600 * AQ_SECONDS, AQ_SECONDS, NULL, &retried, &validated);
  CHECK_INT(retried, 0);
  CHECK_INT(validated, 1);
  CHECK_INT(d, 40 * AQ_MILLISECONDS); /* one round trip: no Retry */
}

AQ_TEST(token_expired_gets_retry) {
  int retried = -1, validated = -1;
  aq_duration d = reconnect(402, 2 * AQ_SECONDS, 3 * AQ_SECONDS, NULL, &retried, &validated);
  CHECK_INT(retried, 1);
  CHECK_INT(validated, 1); /* by the Retry token */
  CHECK_INT(d, 80 * AQ_MILLISECONDS);
}

AQ_TEST(token_foreign_gets_retry) {
  int retried = -1, validated = -1;
  aq_duration d = reconnect(403, 3600 * AQ_SECONDS, AQ_SECONDS, skey_other, &retried, &validated);
  CHECK_INT(retried, 1);
  CHECK_INT(validated, 1);
  CHECK_INT(d, 80 * AQ_MILLISECONDS);
}

AQ_TEST(token_lifts_amplification_limit_without_retry) {
  /* No Retry configured: a valid token still marks the address validated at once. */
  memset(&g_tsess, 0, sizeof(g_tsess));
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  aq_simq_pair p;
  aq_simq_pair_init(&p, 404, &lp);
  p.s.set.ticket_key = skey;
  p.c.cb.new_session = cb_session;
  aq_simq_pair_start(&p);
  aq_sim_result r = aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, have_token, NULL);
  CHECK_INT(r, AQ_SIM_DONE);
  aq_conn *first = p.s.conn;
  aq_simq_free(&p.c);
  aq_simq_init(&p.c, p.sim, p.ch, 0, 0x11);
  aq_simq_start(&p.c);
  aq_simq_connect(&p.c, &p.saddr);
  REQUIRE(aq_conn_set_session(p.c.conn, g_tsess.blob, g_tsess.len) == 0);
  /* Run until the server has created the new connection (one one-way trip). */
  (void)aq_sim_run_for(p.sim, 25 * AQ_MILLISECONDS, 100000);
  REQUIRE(p.s.conn != NULL && p.s.conn != first);
  CHECK(p.s.conn->addr_validated);
  CHECK(!p.s.conn->got_retry);
  /* Without a token (a session whose token part is cut off) the address is not validated. */
  aq_zrtt_session s;
  REQUIRE(aq_zrtt_session_decode(&s, g_tsess.blob, g_tsess.len) == 0);
  uint8_t blob[16384];
  aq_wbuf w;
  aq_wbuf_init(&w, blob, sizeof(blob));
  aq_zrtt_session_encode(&w, s.tls, s.tls_len, NULL, 0, s.has_tp ? &s.tp : NULL);
  REQUIRE(aq_wbuf_error(&w) == 0);
  aq_conn *second = p.s.conn;
  aq_simq_free(&p.c);
  aq_simq_init(&p.c, p.sim, p.ch, 0, 0x11);
  aq_simq_start(&p.c);
  aq_simq_connect(&p.c, &p.saddr);
  REQUIRE(aq_conn_set_session(p.c.conn, blob, aq_wbuf_len(&w)) == 0);
  CHECK_INT(p.c.conn->retry_token_len, 0);
  (void)aq_sim_run_for(p.sim, 25 * AQ_MILLISECONDS, 100000);
  REQUIRE(p.s.conn != NULL && p.s.conn != second);
  CHECK(!p.s.conn->addr_validated);
  aq_simq_pair_free(&p);
}
