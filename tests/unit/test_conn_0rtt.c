/*
 * test_conn_0rtt.c - session resumption and 0-RTT (RFC 9001 §4.6, RFC 9000
 * §7.4.1): the session blob codec (round trip, truncation at every offset,
 * flipped bytes, out-of-range values), resumption without a certificate
 * exchange, 0-RTT data delivered before the server's handshake completes,
 * rejected 0-RTT (server refuses, or does not know the ticket) resent in
 * 1-RTT, 0-RTT datagrams arriving before their Initial, a server lowering
 * remembered limits while accepting (PROTOCOL_VIOLATION), and corrupt or
 * foreign blobs.
 *
 * Each scenario runs a first connection (client A <-> server A) to get a
 * session, then a second one in the same simulation (same clock, so ticket
 * ages are right) from another client host to another server host that
 * shares the server's identity and ticket key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

/* ------------------------------------------------------------ codec */

AQ_TEST(zrtt_session_codec_roundtrip) {
  aq_tp tp;
  aq_tp_default(&tp);
  tp.max_idle_timeout_ms = 30000;
  tp.max_udp_payload_size = 1452;
  tp.initial_max_data = 1u << 22;
  tp.initial_max_stream_data_bidi_local = 1000;
  tp.initial_max_stream_data_bidi_remote = 2000;
  tp.initial_max_stream_data_uni = 3000;
  tp.initial_max_streams_bidi = 100;
  tp.initial_max_streams_uni = 7;
  tp.active_connection_id_limit = 4;
  tp.max_datagram_frame_size = 1200;
  tp.disable_active_migration = 1;
  const uint8_t tls[5] = {1, 2, 3, 4, 5};
  const uint8_t tok[3] = {9, 8, 7};
  uint8_t buf[256];
  aq_wbuf w;
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_zrtt_session_encode(&w, tls, sizeof(tls), tok, sizeof(tok), &tp);
  REQUIRE(aq_wbuf_error(&w) == 0);
  size_t n = aq_wbuf_len(&w);
  /* "AQS1" first, then varint 5 and the TLS bytes. */
  CHECK_MEM(buf, "AQS1\x05\x01\x02\x03\x04\x05\x03\x09\x08\x07", 14);
  aq_zrtt_session s;
  REQUIRE(aq_zrtt_session_decode(&s, buf, n) == 0);
  CHECK_INT(s.tls_len, 5);
  CHECK_MEM(s.tls, tls, 5);
  CHECK_INT(s.token_len, 3);
  CHECK_MEM(s.token, tok, 3);
  CHECK(s.has_tp);
  CHECK_INT(s.tp.max_idle_timeout_ms, 30000);
  CHECK_INT(s.tp.max_udp_payload_size, 1452);
  CHECK_INT(s.tp.initial_max_data, 1u << 22);
  CHECK_INT(s.tp.initial_max_stream_data_bidi_local, 1000);
  CHECK_INT(s.tp.initial_max_stream_data_bidi_remote, 2000);
  CHECK_INT(s.tp.initial_max_stream_data_uni, 3000);
  CHECK_INT(s.tp.initial_max_streams_bidi, 100);
  CHECK_INT(s.tp.initial_max_streams_uni, 7);
  CHECK_INT(s.tp.active_connection_id_limit, 4);
  CHECK_INT(s.tp.max_datagram_frame_size, 1200);
  CHECK_INT(s.tp.disable_active_migration, 1);
  /* Every truncation fails, and leaves *s unchanged. */
  for (size_t i = 0; i < n; i++) {
    aq_zrtt_session t;
    memset(&t, 0x5a, sizeof(t));
    CHECK(aq_zrtt_session_decode(&t, buf, i) < 0);
    CHECK_INT(((uint8_t *)&t)[0], 0x5a);
  }
  /* Trailing garbage. */
  buf[n] = 0;
  CHECK_INT(aq_zrtt_session_decode(&s, buf, n + 1), AQ_ERR_TRAILING_DATA);
  /* Wrong magic. */
  buf[3] ^= 1;
  CHECK_INT(aq_zrtt_session_decode(&s, buf, n), AQ_ERR_MALFORMED);
  buf[3] ^= 1;
  /* Token only, no parameters: fine (NEW_TOKEN without a ticket). */
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_zrtt_session_encode(&w, NULL, 0, tok, sizeof(tok), NULL);
  REQUIRE(aq_zrtt_session_decode(&s, buf, aq_wbuf_len(&w)) == 0);
  CHECK(!s.has_tp);
  CHECK_INT(s.tls_len, 0);
  /* Nothing at all: refused. */
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_zrtt_session_encode(&w, NULL, 0, NULL, 0, NULL);
  CHECK_INT(aq_zrtt_session_decode(&s, buf, aq_wbuf_len(&w)), AQ_ERR_MALFORMED);
}

AQ_TEST(zrtt_session_codec_ranges) {
  const uint8_t tls[1] = {1};
  uint8_t buf[128];
  aq_wbuf w;
  aq_zrtt_session s;
  aq_tp tp;
  for (int k = 0; k < 6; k++) {
    aq_tp_default(&tp);
    switch (k) {
    case 0: tp.max_udp_payload_size = 1199; break;
    case 1: tp.max_udp_payload_size = 65528; break;
    case 2: tp.initial_max_streams_bidi = (1ULL << 60) + 1; break;
    case 3: tp.initial_max_streams_uni = (1ULL << 60) + 1; break;
    case 4: tp.active_connection_id_limit = 1; break;
    default: break;
    }
    aq_wbuf_init(&w, buf, sizeof(buf));
    aq_zrtt_session_encode(&w, tls, 1, NULL, 0, &tp);
    REQUIRE(aq_wbuf_error(&w) == 0);
    size_t n = aq_wbuf_len(&w);
    if (k == 5) {
      CHECK_INT(aq_zrtt_session_decode(&s, buf, n), 0);
      buf[n - 1] = 2; /* disable_active_migration is 0 or 1 */
    }
    CHECK_INT(aq_zrtt_session_decode(&s, buf, n), AQ_ERR_MALFORMED);
  }
  /* A token longer than we keep. */
  uint8_t big[AQ_ZRTT_TOKEN_MAX + 1];
  memset(big, 1, sizeof(big));
  uint8_t out[AQ_ZRTT_TOKEN_MAX + 64];
  aq_wbuf_init(&w, out, sizeof(out));
  aq_zrtt_session_encode(&w, NULL, 0, big, sizeof(big), NULL);
  CHECK_INT(aq_zrtt_session_decode(&s, out, aq_wbuf_len(&w)), AQ_ERR_VALUE_RANGE);
}

/* ------------------------------------------------------- scenarios */

static struct {
  uint8_t blob[16384];
  size_t len;
  int n;
} g_sess;

static void cb_new_session(aq_conn *conn, const uint8_t *blob, size_t len, void *ud) {
  (void)conn;
  (void)ud;
  if (len <= sizeof(g_sess.blob)) {
    memcpy(g_sess.blob, blob, len);
    g_sess.len = len;
    g_sess.n++;
  }
}

static int got_session(void *arg) {
  (void)arg;
  return g_sess.n > 0;
}

static const uint8_t tkey_a[32] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                   0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f};
static const uint8_t tkey_b[32] = {0x20, 0x21, 0x22};

/* Server stream_data wrapper: was data delivered before the handshake completed? */
static void (*orig_stream_data)(aq_conn *, uint64_t, void *);
static uint64_t g_bytes_before_hs;
static int g_data_calls_before_hs;

static void wrap_stream_data(aq_conn *conn, uint64_t id, void *ud) {
  aq_simq *q = ud;
  orig_stream_data(conn, id, ud);
  if (!q->hs_done) {
    g_data_calls_before_hs++;
    g_bytes_before_hs = q->total_recv;
  }
}

/* Client handshake_completed wrapper: CRYPTO bytes the server sent in Handshake packets. */
static void (*orig_hs)(aq_conn *, void *);
static uint64_t g_hs_crypto;

static void wrap_hs(aq_conn *conn, void *ud) {
  g_hs_crypto = conn->sp[AQ_PN_SPACE_HANDSHAKE].crx.read_off;
  orig_hs(conn, ud);
}

typedef struct second {
  aq_sim_host *ch, *sh;
  aq_simq c, s;
  aq_addr caddr, saddr;
} second;

/** First connection (p): full handshake; returns with g_sess holding its session. */
static void first_conn(aq_simq_pair *p, uint64_t seed, const aq_sim_link_params *lp) {
  memset(&g_sess, 0, sizeof(g_sess));
  aq_simq_pair_init(p, seed, lp);
  p->s.set.ticket_key = tkey_a;
  p->s.set.accept_early_data = 1;
  p->c.cb.new_session = cb_new_session;
  orig_hs = p->c.cb.handshake_completed;
  p->c.cb.handshake_completed = wrap_hs;
  aq_simq_pair_start(p);
  aq_sim_result r = aq_sim_run(p->sim, 5 * AQ_SECONDS, 100000, got_session, NULL);
  CHECK_INT(r, AQ_SIM_DONE);
  CHECK(p->c.hs_done && p->s.hs_done);
  CHECK(!aq_conn_is_resumed(p->c.conn));
  CHECK_INT(aq_conn_early_data_state(p->c.conn), AQ_EARLY_DATA_NONE);
  CHECK_INT(p->c.verify_calls, 1);
}

static void second_init(second *x, aq_simq_pair *p, const aq_sim_link_params *lp,
                        const uint8_t *tkey, int accept) {
  memset(x, 0, sizeof(*x));
  x->caddr = aq_sim_ip4(198, 51, 100, 3, 50001);
  x->saddr = aq_sim_ip4(192, 0, 2, 2, 443);
  x->ch = aq_sim_host_add(p->sim, "client2", NULL, &x->caddr, lp, lp);
  x->sh = aq_sim_host_add(p->sim, "server2", NULL, &x->saddr, lp, lp);
  aq_simq_init(&x->c, p->sim, x->ch, 0, 0x11);
  aq_simq_init(&x->s, p->sim, x->sh, 1, 0x22); /* same identity as server A */
  x->s.echo = 1;
  x->s.set.ticket_key = tkey;
  x->s.set.accept_early_data = accept;
  x->c.cb.new_session = cb_new_session;
  x->c.cb.handshake_completed = wrap_hs;
  orig_stream_data = x->s.cb.stream_data;
  x->s.cb.stream_data = wrap_stream_data;
  g_bytes_before_hs = 0;
  g_data_calls_before_hs = 0;
}

/** Start server 2 and client 2 with the saved session; returns set_session's result. */
static int second_start(second *x, const uint8_t *blob, size_t len) {
  if (getenv("AQ_CONN_TRACE") != NULL) {
    aq_sim_set_trace(x->c.sim, stderr);
  }
  aq_simq_start(&x->s);
  aq_simq_start(&x->c);
  aq_simq_connect(&x->c, &x->saddr);
  return aq_conn_set_session(x->c.conn, blob, len);
}

static void second_free(second *x) {
  aq_simq_free(&x->c);
  aq_simq_free(&x->s);
}

static int second_hs(void *arg) {
  second *x = arg;
  return x->c.hs_done && x->s.hs_done;
}

typedef struct echo_wait {
  second *x;
  aq_simq_stream *cs;
  uint64_t bytes;
} echo_wait;

static int echo_done(void *arg) {
  echo_wait *e = arg;
  return e->cs->fin_recvd && e->cs->recvd == e->bytes;
}

/** The client's stream was echoed completely and correctly. */
static void check_echo(second *x, aq_simq_stream *cs, uint64_t bytes) {
  echo_wait e = {x, cs, bytes};
  aq_sim_result r = aq_sim_run(x->c.sim, 10 * AQ_SECONDS, 1000000, echo_done, &e);
  CHECK_INT(r, AQ_SIM_DONE);
  aq_simq_stream *ss = aq_simq_stream_of(&x->s, cs->id);
  CHECK_INT(ss->recvd, bytes);
  CHECK(ss->fin_recvd);
  CHECK(!ss->bad);
  CHECK_INT(cs->recvd, bytes);
  CHECK(!cs->bad);
  CHECK(!x->c.io_err && !x->s.io_err);
}

AQ_TEST(zrtt_resumption_no_certificate) {
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  aq_simq_pair p;
  first_conn(&p, 301, &lp);
  REQUIRE(g_sess.n > 0);
  uint64_t full_crypto = g_hs_crypto;
  /* EE + Certificate + CertificateVerify + Finished: well over 200 bytes with an RPK. */
  CHECK(full_crypto > 200);
  second x;
  second_init(&x, &p, &lp, tkey_a, 0);
  uint8_t blob[16384];
  size_t blen = g_sess.len;
  memcpy(blob, g_sess.blob, blen);
  REQUIRE(second_start(&x, blob, blen) == 0);
  aq_tstamp t0 = aq_sim_now(p.sim);
  aq_sim_result r = aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, second_hs, &x);
  CHECK_INT(r, AQ_SIM_DONE);
  CHECK(aq_conn_is_resumed(x.c.conn));
  CHECK(aq_conn_is_resumed(x.s.conn));
  /* No certificate exchange: the client never saw (or verified) a key. */
  CHECK_INT(x.c.verify_calls, 0);
  /* The server's key from the session is still what the connection reports. */
  size_t kl = 0;
  const uint8_t *k = aq_conn_peer_spki(x.c.conn, &kl);
  CHECK(k != NULL && kl == x.s.id.spkilen && memcmp(k, x.s.id.spki, kl) == 0);
  /* One round trip (each way crosses two 10 ms links), as before... */
  CHECK_INT(x.c.hs_done_ts - t0, 40 * AQ_MILLISECONDS);
  /* ...and no Certificate / CertificateVerify: the Handshake flight shrank by their size. */
  printf("# handshake CRYPTO bytes: full %llu, resumed %llu\n", (unsigned long long)full_crypto,
         (unsigned long long)g_hs_crypto);
  CHECK(g_hs_crypto > 0);
  CHECK(g_hs_crypto + x.s.id.spkilen + 64 < full_crypto);
  /* The session allowed 0-RTT, so the client offered it; server 2 refused, and as nothing
   * had been written, nothing had to be resent. */
  CHECK_INT(aq_conn_early_data_state(x.c.conn), AQ_EARLY_DATA_REJECTED);
  aq_simq_stream *cs = aq_simq_open(&x.c, 1, 20000, 1);
  REQUIRE(cs != NULL);
  check_echo(&x, cs, 20000);
  second_free(&x);
  aq_simq_pair_free(&p);
}

AQ_TEST(zrtt_early_data_delivered_before_handshake) {
  aq_sim_link_params lp = {.delay = 15 * AQ_MILLISECONDS};
  aq_simq_pair p;
  first_conn(&p, 302, &lp);
  REQUIRE(g_sess.n > 0);
  second x;
  second_init(&x, &p, &lp, tkey_a, 1);
  REQUIRE(second_start(&x, g_sess.blob, g_sess.len) == 0);
  /* Open and write before the first packet leaves: this is 0-RTT data. */
  aq_simq_stream *cs = aq_simq_open(&x.c, 1, 3000, 1);
  REQUIRE(cs != NULL);
  aq_tstamp t0 = aq_sim_now(p.sim);
  check_echo(&x, cs, 3000);
  CHECK_INT(aq_conn_early_data_state(x.c.conn), AQ_EARLY_DATA_ACCEPTED);
  CHECK_INT(aq_conn_early_data_state(x.s.conn), AQ_EARLY_DATA_ACCEPTED);
  CHECK(aq_conn_is_resumed(x.s.conn));
  /* All 3000 bytes reached the server application before its handshake completed. */
  CHECK(g_data_calls_before_hs > 0);
  CHECK_INT(g_bytes_before_hs, 3000);
  /* ...and the first of it one one-way delay after the client started. */
  CHECK(x.c.st[0][0].fin_recvd);
  (void)t0;
  /* The server received 0-RTT packets (they count as application-space packets). */
  CHECK(x.s.conn->zrtt.pend_dropped == 0);
  second_free(&x);
  aq_simq_pair_free(&p);
}

static void run_rejected(const uint8_t *tkey, int accept, uint64_t seed, int expect_resumed) {
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  aq_simq_pair p;
  first_conn(&p, seed, &lp);
  REQUIRE(g_sess.n > 0);
  second x;
  second_init(&x, &p, &lp, tkey, accept);
  REQUIRE(second_start(&x, g_sess.blob, g_sess.len) == 0);
  aq_simq_stream *cs = aq_simq_open(&x.c, 1, 5000, 1);
  REQUIRE(cs != NULL);
  aq_simq_pump(&x.c);
  aq_tstamp t0 = aq_sim_now(p.sim);
  check_echo(&x, cs, 5000);
  aq_duration took = aq_sim_now(p.sim) - t0;
  CHECK_INT(aq_conn_early_data_state(x.c.conn), AQ_EARLY_DATA_REJECTED);
  CHECK_INT(aq_conn_early_data_state(x.s.conn), AQ_EARLY_DATA_NONE);
  CHECK_INT(aq_conn_is_resumed(x.c.conn) != 0, expect_resumed);
  /* Nothing reached the server application before the handshake: all of it came in 1-RTT. */
  CHECK_INT(g_data_calls_before_hs, 0);
  CHECK(x.s.conn->zrtt.pend_dropped > 0 || x.s.conn->stats.pkts_dropped > 0);
  /* The resend did not wait for loss detection: handshake (1 RTT = 40 ms), then the
   * data and its echo (1 RTT), plus slack. */
  CHECK(x.c.hs_done);
  CHECK(took <= 100 * AQ_MILLISECONDS);
  second_free(&x);
  aq_simq_pair_free(&p);
}

AQ_TEST(zrtt_rejected_by_server_resent_in_1rtt) {
  run_rejected(tkey_a, 0, 303, 1);
}

AQ_TEST(zrtt_unknown_ticket_resent_in_1rtt) {
  run_rejected(tkey_b, 1, 304, 0);
}

AQ_TEST(zrtt_lower_limits_is_protocol_violation) {
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  aq_simq_pair p;
  first_conn(&p, 305, &lp);
  REQUIRE(g_sess.n > 0);
  second x;
  second_init(&x, &p, &lp, tkey_a, 1);
  x.s.set.initial_max_data = 100000; /* below the remembered 4 MiB */
  REQUIRE(second_start(&x, g_sess.blob, g_sess.len) == 0);
  REQUIRE(aq_simq_open(&x.c, 1, 1000, 1) != NULL);
  (void)aq_sim_run_for(p.sim, 2 * AQ_SECONDS, 100000);
  CHECK(x.c.closed);
  CHECK(!x.c.close.by_peer);
  CHECK_INT(x.c.close.code, 0x0a); /* PROTOCOL_VIOLATION */
  second_free(&x);
  aq_simq_pair_free(&p);
}

AQ_TEST(zrtt_corrupt_or_foreign_blob) {
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  aq_simq_pair p;
  first_conn(&p, 306, &lp);
  REQUIRE(g_sess.n > 0);
  uint8_t blob[16384];
  size_t n = g_sess.len;
  memcpy(blob, g_sess.blob, n);
  /* Truncations at every offset and random bytes: errors, no crash, nothing changed. */
  aq_conn *c = NULL;
  aq_path path = {p.caddr, p.saddr};
  REQUIRE(aq_ep_connect(p.c.ep, &path, aq_sim_now(p.sim), &c) == 0);
  for (size_t i = 0; i < n; i += 7) {
    CHECK(aq_conn_set_session(c, blob, i) < 0);
  }
  uint8_t junk[300];
  for (size_t i = 0; i < sizeof(junk); i++) {
    junk[i] = (uint8_t)(i * 37 + 11);
  }
  CHECK(aq_conn_set_session(c, junk, sizeof(junk)) < 0);
  CHECK_INT(c->zrtt.bloblen, 0);
  CHECK_INT(c->retry_token_len, 0);
  CHECK_INT(aq_conn_set_session(c, NULL, 0), AQ_ERR_INVALID_ARGUMENT);
  /* A server connection refuses. */
  CHECK_INT(aq_conn_set_session(p.s.conn, blob, n), AQ_ERR_STATE);

  /* A blob whose TLS session is damaged inside (our framing intact): accepted by
   * set_session, ignored by TLS (or refused by the server), full handshake. */
  aq_zrtt_session s;
  REQUIRE(aq_zrtt_session_decode(&s, blob, n) == 0);
  size_t off = (size_t)(s.tls - blob);
  for (size_t i = 0; i < s.tls_len; i += 3) {
    blob[off + i] ^= 0xa5;
  }
  second x;
  second_init(&x, &p, &lp, tkey_a, 1);
  CHECK(second_start(&x, blob, n) == 0);
  aq_simq_stream *cs = aq_simq_open(&x.c, 1, 2000, 1);
  REQUIRE(cs != NULL);
  check_echo(&x, cs, 2000);
  CHECK(!aq_conn_is_resumed(x.c.conn));
  CHECK(x.c.verify_calls == 1);
  /* Too late once the handshake has started. */
  CHECK_INT(aq_conn_set_session(x.c.conn, g_sess.blob, g_sess.len), AQ_ERR_STATE);
  second_free(&x);
  aq_simq_pair_free(&p);
}

/* ------------------------------------------------ reordered first flight */

typedef struct dgram {
  uint8_t b[1500];
  size_t n;
  aq_path path;
} dgram;

AQ_TEST(zrtt_before_initial_is_kept) {
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  aq_simq_pair p;
  first_conn(&p, 307, &lp);
  REQUIRE(g_sess.n > 0);
  second x;
  second_init(&x, &p, &lp, tkey_a, 1);
  REQUIRE(second_start(&x, g_sess.blob, g_sess.len) == 0);
  aq_simq_stream *cs = aq_simq_open(&x.c, 1, 3000, 1);
  REQUIRE(cs != NULL);
  aq_simq_pump(&x.c);
  /* Drive the client by hand: its first flight is Initial(+0-RTT), then 0-RTT only. */
  aq_tstamp now = aq_sim_now(p.sim);
  dgram d[8];
  size_t nd = 0;
  while (nd < 8) {
    aq_ssize w = aq_ep_write(x.c.ep, &d[nd].path, d[nd].b, sizeof(d[nd].b), now);
    REQUIRE(w >= 0);
    if (w == 0) {
      break;
    }
    d[nd++].n = (size_t)w;
  }
  REQUIRE(nd >= 3);
  CHECK((d[0].b[0] & 0x30u) == 0x00u);      /* Initial first */
  CHECK((d[nd - 1].b[0] & 0x30u) == 0x10u); /* ...0-RTT last */
  /* Deliver the 0-RTT datagrams first, then the Initial, to the server endpoint. */
  for (size_t i = nd; i-- > 1;) {
    CHECK(aq_ep_read(x.s.ep, &d[i].path, d[i].b, d[i].n, now + AQ_MILLISECONDS) == 0);
  }
  CHECK_INT(aq_ep_conn_count(x.s.ep), 0);
  CHECK(aq_ep_read(x.s.ep, &d[0].path, d[0].b, d[0].n, now + 2 * AQ_MILLISECONDS) == 0);
  CHECK_INT(aq_ep_conn_count(x.s.ep), 1);
  REQUIRE(x.s.conn != NULL);
  /* Everything was delivered at once, before the server's handshake completed. */
  CHECK(!x.s.hs_done);
  CHECK_INT(g_bytes_before_hs, 3000);
  CHECK_INT(aq_simq_stream_of(&x.s, cs->id)->recvd, 3000);
  CHECK(aq_simq_stream_of(&x.s, cs->id)->fin_recvd);
  second_free(&x);
  aq_simq_pair_free(&p);
}

AQ_TEST(zrtt_after_retry) {
  /* Server 2 validates addresses with Retry (and the session carries no token):
   * the 0-RTT data still arrives, and nothing is delivered twice. */
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  aq_simq_pair p;
  first_conn(&p, 308, &lp);
  REQUIRE(g_sess.n > 0);
  second x;
  second_init(&x, &p, &lp, tkey_a, 1);
  x.s.set.retry = 1;
  aq_zrtt_session s;
  REQUIRE(aq_zrtt_session_decode(&s, g_sess.blob, g_sess.len) == 0);
  uint8_t blob[16384];
  aq_wbuf w;
  aq_wbuf_init(&w, blob, sizeof(blob));
  aq_zrtt_session_encode(&w, s.tls, s.tls_len, NULL, 0, s.has_tp ? &s.tp : NULL);
  REQUIRE(aq_wbuf_error(&w) == 0);
  REQUIRE(second_start(&x, blob, aq_wbuf_len(&w)) == 0);
  aq_simq_stream *cs = aq_simq_open(&x.c, 1, 4000, 1);
  REQUIRE(cs != NULL);
  check_echo(&x, cs, 4000);
  CHECK(x.c.conn->got_retry);
  CHECK(aq_conn_is_resumed(x.c.conn));
  CHECK_INT(aq_conn_early_data_state(x.c.conn), AQ_EARLY_DATA_ACCEPTED);
  CHECK_INT(aq_simq_stream_of(&x.s, cs->id)->recvd, 4000);
  second_free(&x);
  aq_simq_pair_free(&p);
}
