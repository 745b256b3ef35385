/*
 * test_conn_dgram.c - RFC 9221 DATAGRAM frames over simulated connections:
 * echo of many sizes (0 and the exact maximum included), the send API's
 * errors (not negotiated, too large, queue full), congestion control
 * limiting a burst, loss that is counted but never retransmitted, and the
 * receiver's PROTOCOL_VIOLATION checks (not advertised, above our limit).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

#define DG_MAX_IDS 512

/* Test state reached from the callbacks (user_data is the aq_simq). */
typedef struct dg_ctx {
  aq_simq_pair *p;
  int echo;          /* server echoes what it receives */
  uint64_t srv_recv; /* datagrams the server received */
  uint64_t cli_recv; /* echoes the client received */
  unsigned srv_seen[DG_MAX_IDS];
  unsigned cli_seen[DG_MAX_IDS];
  int bad; /* a payload did not match its pattern */
  int echo_err;
} dg_ctx;

static dg_ctx g_dg;

/** Datagram id's payload: 2-byte id then a pattern, len bytes in total (len >= 2). */
static void dg_fill(uint8_t *buf, size_t len, unsigned id) {
  buf[0] = (uint8_t)(id >> 8);
  buf[1] = (uint8_t)id;
  for (size_t i = 2; i < len; i++) {
    buf[i] = (uint8_t)(i * 13u + id * 7u);
  }
}

/** Check a payload made by dg_fill; returns its id or -1. */
static int dg_check(const uint8_t *data, size_t len) {
  if (len < 2) {
    return -1;
  }
  unsigned id = ((unsigned)data[0] << 8) | data[1];
  for (size_t i = 2; i < len; i++) {
    if (data[i] != (uint8_t)(i * 13u + id * 7u)) {
      return -1;
    }
  }
  return id < DG_MAX_IDS ? (int)id : -1;
}

static void srv_dgram(aq_conn *conn, const uint8_t *data, size_t len, void *ud) {
  (void)ud;
  g_dg.srv_recv++;
  int id = dg_check(data, len);
  if (id < 0) {
    g_dg.bad = 1;
    return;
  }
  g_dg.srv_seen[id]++;
  if (g_dg.echo && aq_conn_send_datagram(conn, data, len) != (aq_ssize)len) {
    g_dg.echo_err = 1;
  }
}

static void cli_dgram(aq_conn *conn, const uint8_t *data, size_t len, void *ud) {
  (void)conn;
  (void)ud;
  g_dg.cli_recv++;
  int id = dg_check(data, len);
  if (id < 0) {
    g_dg.bad = 1;
    return;
  }
  g_dg.cli_seen[id]++;
}

/** A pair with DATAGRAM support as asked (0 = not advertised), handshake done. */
static int dg_pair(aq_simq_pair *p, uint64_t seed, const aq_sim_link_params *lp, uint64_t cmax,
                   uint64_t smax) {
  memset(&g_dg, 0, sizeof(g_dg));
  g_dg.p = p;
  aq_simq_pair_init(p, seed, lp);
  p->c.set.max_datagram_frame_size = cmax;
  p->s.set.max_datagram_frame_size = smax;
  p->c.cb.datagram_recv = cli_dgram;
  p->s.cb.datagram_recv = srv_dgram;
  aq_simq_pair_start(p);
  if (aq_sim_run(p->sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, p) != AQ_SIM_DONE) {
    return -1;
  }
  /* Let HANDSHAKE_DONE and the last ACKs settle. */
  (void)aq_sim_run_for(p->sim, 200 * AQ_MILLISECONDS, 100000);
  return 0;
}

static int echo_done(void *arg) {
  uint64_t *want = arg;
  return g_dg.cli_recv >= *want;
}

AQ_TEST(conn_dgram_echo) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS, .rate_bps = 20000000};
  REQUIRE(dg_pair(&p, 901, &lp, 65535, 65535) == 0);
  g_dg.echo = 1;
  aq_conn *c = p.c.conn;
  /* Both sides advertised it: the peer's value arrived in its parameters. */
  CHECK_INT(c->peer_tp.max_datagram_frame_size, 65535);
  CHECK_INT(p.s.conn->peer_tp.max_datagram_frame_size, 65535);
  size_t max = aq_conn_max_datagram_size(c);
  /* 1200-byte packets: 1200 - (1 + 20 + 4 + 16) - (1 + 2) = 1156. */
  CHECK_INT(max, 1156);
  uint8_t buf[1500];
  dg_fill(buf, max + 1, 0);
  CHECK_INT(aq_conn_send_datagram(c, buf, max + 1), AQ_ERR_LIMIT);
  static const size_t sizes[] = {2, 3, 17, 63, 64, 100, 500, 1000, 1155, 1156};
  const size_t nsizes = sizeof(sizes) / sizeof(sizes[0]);
  uint64_t want = 0;
  for (unsigned round = 0; round < 3; round++) {
    for (size_t i = 0; i < nsizes; i++) {
      unsigned id = round * 16u + (unsigned)i;
      dg_fill(buf, sizes[i], id);
      CHECK_INT(aq_conn_send_datagram(c, buf, sizes[i]), (aq_ssize)sizes[i]);
      want++;
    }
    CHECK_INT(aq_sim_run(p.sim, 2 * AQ_SECONDS, 200000, echo_done, &want), AQ_SIM_DONE);
  }
  CHECK_INT(g_dg.srv_recv, want);
  CHECK_INT(g_dg.cli_recv, want);
  CHECK(!g_dg.bad);
  CHECK(!g_dg.echo_err);
  for (unsigned round = 0; round < 3; round++) {
    for (size_t i = 0; i < nsizes; i++) {
      CHECK_INT(g_dg.cli_seen[round * 16u + i], 1);
    }
  }
  /* A zero-length datagram is legal (RFC 9221 §4) and arrives as such. */
  uint64_t before = g_dg.srv_recv;
  CHECK_INT(aq_conn_send_datagram(c, NULL, 0), 0);
  (void)aq_sim_run_for(p.sim, 100 * AQ_MILLISECONDS, 100000);
  CHECK_INT(g_dg.srv_recv, before + 1);
  CHECK(g_dg.bad); /* dg_check refuses len 0: proves the callback saw len == 0 */
  aq_conn_stats st;
  aq_conn_get_stats(c, &st);
  CHECK_INT(st.datagrams_sent, want + 1);
  CHECK_INT(st.datagrams_recv, want);
  CHECK_INT(st.datagrams_lost, 0);
  CHECK(!p.c.closed && !p.s.closed);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_dgram_api_errors) {
  aq_simq_pair p;
  /* The server does not support DATAGRAM; the client does. */
  REQUIRE(dg_pair(&p, 902, NULL, 500, 0) == 0);
  uint8_t buf[64];
  dg_fill(buf, sizeof(buf), 1);
  CHECK_INT(aq_conn_max_datagram_size(p.c.conn), 0);
  CHECK_INT(aq_conn_send_datagram(p.c.conn, buf, sizeof(buf)), AQ_ERR_STATE);
  /* The server may send: the client advertised 500 (frame bytes). */
  aq_conn *s = p.s.conn;
  CHECK_INT(aq_conn_max_datagram_size(s), 500 - 3);
  CHECK_INT(aq_conn_send_datagram(s, buf, sizeof(buf)), (aq_ssize)sizeof(buf));
  /* The queue holds 32; the 33rd waits. */
  for (int i = 1; i < 32; i++) {
    CHECK_INT(aq_conn_send_datagram(s, buf, sizeof(buf)), (aq_ssize)sizeof(buf));
  }
  CHECK_INT(aq_conn_send_datagram(s, buf, sizeof(buf)), AQ_ERR_WOULD_BLOCK);
  (void)aq_sim_run_for(p.sim, 200 * AQ_MILLISECONDS, 100000);
  CHECK_INT(g_dg.cli_recv, 32);
  CHECK_INT(g_dg.cli_seen[1], 32);
  aq_conn_stats st;
  aq_conn_get_stats(s, &st);
  CHECK_INT(st.datagrams_sent, 32);
  CHECK_INT(st.datagrams_dropped, 1);
  /* After close: AQ_ERR_CLOSED. */
  aq_conn_close(s, 0, NULL, 0, aq_sim_now(p.sim));
  CHECK_INT(aq_conn_send_datagram(s, buf, sizeof(buf)), AQ_ERR_CLOSED);
  CHECK_INT(aq_conn_max_datagram_size(s), 0);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_dgram_before_handshake) {
  aq_simq_pair p;
  memset(&g_dg, 0, sizeof(g_dg));
  aq_simq_pair_init(&p, 903, NULL);
  p.c.set.max_datagram_frame_size = 1200;
  p.s.set.max_datagram_frame_size = 1200;
  aq_simq_pair_start(&p);
  uint8_t b[8] = {0};
  CHECK_INT(aq_conn_send_datagram(p.c.conn, b, sizeof(b)), AQ_ERR_STATE);
  CHECK_INT(aq_conn_max_datagram_size(p.c.conn), 0);
  aq_simq_pair_free(&p);
}

static int all_acked(void *arg) {
  aq_conn *c = arg;
  return aq_recov_bytes_in_flight(&c->recov) == 0;
}

AQ_TEST(conn_dgram_congestion_controlled) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 50 * AQ_MILLISECONDS};
  REQUIRE(dg_pair(&p, 904, &lp, 1200, 1200) == 0);
  aq_conn *c = p.c.conn;
  /* Shrink the window to 4 packets: a 32-datagram burst must wait for ACKs. */
  c->cc.cwnd = 4 * 1200;
  uint8_t buf[1100];
  for (unsigned i = 0; i < 32; i++) {
    dg_fill(buf, sizeof(buf), i);
    REQUIRE(aq_conn_send_datagram(c, buf, sizeof(buf)) == (aq_ssize)sizeof(buf));
  }
  aq_tstamp now = aq_sim_now(p.sim);
  uint8_t out[1500];
  aq_path path;
  int sent = 0;
  for (int i = 0; i < 64; i++) {
    aq_ssize n = aq_conn_write_pkt(c, &path, out, sizeof(out), now);
    REQUIRE(n >= 0);
    if (n == 0) {
      break;
    }
    sent++; /* dropped on the floor: these count as lost later */
  }
  CHECK(sent >= 1);
  CHECK(sent <= 5);
  CHECK(aq_recov_bytes_in_flight(&c->recov) > 0);
  CHECK(aq_recov_bytes_in_flight(&c->recov) <= 5 * 1200);
  aq_conn_stats st;
  aq_conn_get_stats(c, &st);
  CHECK_INT(st.datagrams_sent, (uint64_t)sent);
  /* The rest leaves as the window opens; the dropped ones are declared lost, not resent. */
  CHECK_INT(aq_sim_run(p.sim, 10 * AQ_SECONDS, 1000000, all_acked, c), AQ_SIM_DONE);
  (void)aq_sim_run_for(p.sim, 1 * AQ_SECONDS, 1000000);
  aq_conn_get_stats(c, &st);
  CHECK_INT(st.datagrams_sent, 32);
  CHECK_INT(g_dg.srv_recv, 32 - (uint64_t)sent);
  CHECK_INT(st.datagrams_lost, (uint64_t)sent);
  for (unsigned i = 0; i < 32; i++) {
    CHECK_INT(g_dg.srv_seen[i], i < (unsigned)sent ? 0u : 1u);
  }
  CHECK(!g_dg.bad);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_dgram_loss_not_retransmitted) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  REQUIRE(dg_pair(&p, 905, &lp, 1200, 1200) == 0);
  aq_conn *c = p.c.conn;
  /* From now on the client's link loses 25%. */
  aq_sim_link_params_of(aq_sim_host_uplink(p.ch))->loss_pct = 25;
  uint8_t buf[200];
  unsigned next = 0;
  uint64_t wouldblock = 0;
  for (int burst = 0; burst < 10; burst++) {
    for (int i = 0; i < 20; i++, next++) {
      dg_fill(buf, sizeof(buf), next);
      aq_ssize rc = aq_conn_send_datagram(c, buf, sizeof(buf));
      /* Loss shrinks the window: a full queue drains as ACKs come back. */
      for (int wait = 0; rc == AQ_ERR_WOULD_BLOCK && wait < 1000; wait++) {
        (void)aq_sim_run_for(p.sim, 10 * AQ_MILLISECONDS, 100000);
        wouldblock++;
        rc = aq_conn_send_datagram(c, buf, sizeof(buf));
      }
      REQUIRE(rc == (aq_ssize)sizeof(buf));
      /* One datagram per packet: send each at its own instant. */
      (void)aq_sim_run_for(p.sim, 2 * AQ_MILLISECONDS, 100000);
    }
  }
  aq_sim_link_params_of(aq_sim_host_uplink(p.ch))->loss_pct = 0;
  /* Quiesce: everything acknowledged or declared lost. */
  CHECK_INT(aq_sim_run(p.sim, 20 * AQ_SECONDS, 1000000, all_acked, c), AQ_SIM_DONE);
  (void)aq_sim_run_for(p.sim, 1 * AQ_SECONDS, 1000000);
  aq_conn_stats st;
  aq_conn_get_stats(c, &st);
  CHECK_INT(st.datagrams_sent, 200);
  CHECK_INT(st.datagrams_dropped, wouldblock);
  CHECK(st.datagrams_lost > 10);
  CHECK(st.datagrams_lost < 100);
  /* Exactly the ones not lost arrived, each once: nothing was sent again. */
  CHECK_INT(g_dg.srv_recv + st.datagrams_lost, 200);
  uint64_t got = 0;
  for (unsigned i = 0; i < 200; i++) {
    CHECK(g_dg.srv_seen[i] <= 1);
    got += g_dg.srv_seen[i];
  }
  CHECK_INT(got, g_dg.srv_recv);
  CHECK(!g_dg.bad);
  CHECK(!p.c.closed && !p.s.closed);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_dgram_unadvertised_is_violation) {
  aq_simq_pair p;
  REQUIRE(dg_pair(&p, 906, NULL, 1200, 0) == 0);
  aq_conn *c = p.c.conn;
  /* Pretend the server advertised support: it did not, so it must close. */
  c->peer_tp.max_datagram_frame_size = 1200;
  uint8_t buf[10];
  dg_fill(buf, sizeof(buf), 3);
  CHECK_INT(aq_conn_send_datagram(c, buf, sizeof(buf)), (aq_ssize)sizeof(buf));
  (void)aq_sim_run_for(p.sim, 200 * AQ_MILLISECONDS, 100000);
  CHECK(p.s.closed);
  CHECK_INT(p.s.close.code, 0x0a); /* PROTOCOL_VIOLATION */
  CHECK(p.c.closed);
  CHECK(p.c.close.by_peer);
  CHECK_INT(p.c.close.code, 0x0a);
  CHECK_INT(g_dg.srv_recv, 0);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_dgram_too_large_is_violation) {
  aq_simq_pair p;
  /* The server accepts frames of up to 100 bytes (type + length + payload). */
  REQUIRE(dg_pair(&p, 907, NULL, 1200, 100) == 0);
  aq_conn *c = p.c.conn;
  /* 100 = 1 + 2 + 97: the largest allowed payload (98 needs a 2-byte length too). */
  CHECK_INT(aq_conn_max_datagram_size(c), 97);
  uint8_t buf[200];
  dg_fill(buf, 97, 5);
  CHECK_INT(aq_conn_send_datagram(c, buf, 97), 97);
  CHECK_INT(aq_conn_send_datagram(c, buf, 98), AQ_ERR_LIMIT);
  (void)aq_sim_run_for(p.sim, 100 * AQ_MILLISECONDS, 100000);
  CHECK_INT(g_dg.srv_recv, 1);
  CHECK(!p.s.closed);
  /* Now lie about the limit: 98 bytes of payload make a 101-byte frame. */
  c->peer_tp.max_datagram_frame_size = 1200;
  dg_fill(buf, 98, 6);
  CHECK_INT(aq_conn_send_datagram(c, buf, 98), 98);
  (void)aq_sim_run_for(p.sim, 200 * AQ_MILLISECONDS, 100000);
  CHECK(p.s.closed);
  CHECK_INT(p.s.close.code, 0x0a);
  CHECK_INT(g_dg.srv_recv, 1);
  aq_simq_pair_free(&p);
}

/** Frame-level checks on the receive path, without a network. */
AQ_TEST(conn_dgram_on_frame_limits) {
  aq_simq_pair p;
  REQUIRE(dg_pair(&p, 908, NULL, 0, 50) == 0);
  aq_conn *s = p.s.conn;
  uint8_t data[60];
  memset(data, 0, sizeof(data));
  aq_frame f;
  memset(&f, 0, sizeof(f));
  /* Type 0x30 (no length): frame = 1 + payload; 49 bytes fit exactly. */
  f.type = AQ_FT_DATAGRAM;
  f.u.datagram.data = data;
  f.u.datagram.datalen = 49;
  CHECK_INT(aq_dgram_on_frame(s, &f, aq_sim_now(p.sim)), 0);
  /* Type 0x31: 1 + 1 + 48 = 50 fits. */
  f.type = AQ_FT_DATAGRAM_LEN;
  f.u.datagram.datalen = 48;
  CHECK_INT(aq_dgram_on_frame(s, &f, aq_sim_now(p.sim)), 0);
  CHECK_INT(g_dg.srv_recv, 2);
  CHECK(!aq_conn_is_closed(s));
  f.u.datagram.datalen = 49; /* 51 bytes */
  CHECK_INT(aq_dgram_on_frame(s, &f, aq_sim_now(p.sim)), AQ_ERR_PROTO);
  CHECK(aq_conn_is_closed(s));
  CHECK_INT(s->close_code, 0x0a);
  /* The client advertised nothing: any DATAGRAM is a violation there. */
  aq_conn *c = p.c.conn;
  f.type = AQ_FT_DATAGRAM;
  f.u.datagram.datalen = 0;
  CHECK_INT(aq_dgram_on_frame(c, &f, aq_sim_now(p.sim)), AQ_ERR_PROTO);
  CHECK_INT(c->close_code, 0x0a);
  aq_simq_pair_free(&p);
}
