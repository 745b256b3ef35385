/*
 * test_conn_ecn.c - ECN (RFC 9000 §13.4) over simulated links that carry
 * the IP codepoint: a clean path validates and every datagram is marked
 * ECT(0), ACK_ECN frames report the counts; a path that bleaches marks and
 * a peer that does not echo counts both fail validation and stop marking
 * after the test datagrams; CE marks become congestion events without any
 * loss; all test datagrams lost disables marking; the plain read/write
 * calls never mark.
 */
#include <string.h>

#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

/* ------------------------------------------ ECN-aware simulator adapter */

static void ecn_recv(void *ep, aq_tstamp now, const aq_addr *from, const aq_addr *to,
                     const uint8_t *data, size_t len) {
  aq_simq *q = ep;
  aq_path p = {*to, *from};
  if (aq_ep_read_ecn(q->ep, &p, data, len, aq_sim_rx_ecn(q->sim), now) != 0) {
    q->io_err = 1;
  }
}

static size_t ecn_send(void *ep, aq_tstamp now, aq_addr *from, aq_addr *to, uint8_t *buf,
                       size_t cap) {
  aq_simq *q = ep;
  aq_simq_pump(q);
  aq_path p;
  unsigned ecn = 99;
  aq_ssize n = aq_ep_write_ecn(q->ep, &p, buf, cap, &ecn, now);
  if (n < 0 || ecn > 3) {
    q->io_err = 1;
    return 0;
  }
  if (n == 0) {
    return 0;
  }
  aq_sim_set_tx_ecn(q->sim, ecn);
  *from = p.local;
  *to = p.remote;
  return (size_t)n;
}

static aq_tstamp ecn_expiry(void *ep) {
  aq_simq *q = ep;
  return aq_ep_get_expiry(q->ep);
}

static void ecn_handle(void *ep, aq_tstamp now) {
  aq_simq *q = ep;
  if (aq_ep_handle_expiry(q->ep, now) != 0) {
    q->io_err = 1;
  }
  if (q->conn != NULL && aq_ep_conn_count(q->ep) == 0) {
    q->conn = NULL; /* reaped */
  }
}

static const aq_sim_ep_ops ecn_ops = {ecn_recv, ecn_send, ecn_expiry, ecn_handle};

/**
 * A pair over lp (both directions); cli_ecn / srv_ecn: that side's I/O
 * passes ECN codepoints (else the plain aq_ep_read / aq_ep_write are used).
 */
static int ecn_pair(aq_simq_pair *p, uint64_t seed, const aq_sim_link_params *lp, int cli_ecn,
                    int srv_ecn) {
  aq_simq_pair_init(p, seed, lp);
  aq_simq_pair_start(p);
  if (cli_ecn) {
    aq_sim_host_attach(p->ch, &ecn_ops, &p->c);
  }
  if (srv_ecn) {
    aq_sim_host_attach(p->sh, &ecn_ops, &p->s);
  }
  if (aq_sim_run(p->sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, p) != AQ_SIM_DONE) {
    return -1;
  }
  return 0;
}

static int stream_done(void *arg) {
  aq_simq_stream *s = arg;
  return s->fin_recvd;
}

/** Echo bytes from the client and check them. */
static void ecn_transfer(aq_simq_pair *p, uint64_t bytes) {
  aq_simq_stream *cs = aq_simq_open(&p->c, 1, bytes, 1);
  REQUIRE(cs != NULL);
  CHECK_INT(aq_sim_run(p->sim, 30 * AQ_SECONDS, 10000000, stream_done, cs), AQ_SIM_DONE);
  CHECK_INT(cs->recvd, bytes);
  CHECK(!cs->bad);
  CHECK(!p->c.io_err && !p->s.io_err);
  CHECK(!p->c.closed && !p->s.closed);
}

static const aq_sim_link_params ecn_link = {.delay = 10 * AQ_MILLISECONDS, .rate_bps = 50000000};

AQ_TEST(conn_ecn_validated_path) {
  aq_simq_pair p;
  REQUIRE(ecn_pair(&p, 701, &ecn_link, 1, 1) == 0);
  ecn_transfer(&p, 300000);
  aq_conn *c = p.c.conn, *s = p.s.conn;
  aq_conn_stats cst, sst;
  aq_conn_get_stats(c, &cst);
  aq_conn_get_stats(s, &sst);
  CHECK_INT(cst.ecn_state, AQ_ECN_STATE_CAPABLE);
  CHECK_INT(sst.ecn_state, AQ_ECN_STATE_CAPABLE);
  /* Once validated every datagram is marked: nearly all of them. */
  CHECK(cst.ecn_ect0_sent > 100);
  CHECK(cst.ecn_ect0_sent + 12 >= cst.pkts_sent / 2);
  /* The server counted ECT(0) 1-RTT packets and reported them in ACK_ECN. */
  const aq_acktr *sat = &s->sp[AQ_PN_SPACE_APP].acktr;
  CHECK(sat->ect0 > 100);
  CHECK_INT(sat->ce, 0);
  CHECK_INT(sat->ect1, 0);
  CHECK(c->recov.sp[AQ_PN_SPACE_APP].peer_ect0 > 100);
  CHECK(c->recov.sp[AQ_PN_SPACE_APP].peer_ect0 <= sat->ect0);
  CHECK_INT(cst.ecn_ce_reported, 0);
  /* No loss and no CE: never a congestion event. */
  CHECK_INT(cst.pkts_lost, 0);
  CHECK(c->cc.ssthresh == UINT64_MAX);
  const aq_sim_link_stats *ls = aq_sim_link_stats_of(aq_sim_host_uplink(p.ch));
  CHECK_INT(ls->ecn_bleached, 0);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_ecn_bleaching_path_disables) {
  aq_simq_pair p;
  aq_sim_link_params lp = ecn_link;
  lp.ecn_bleach = 1;
  REQUIRE(ecn_pair(&p, 702, &lp, 1, 1) == 0);
  ecn_transfer(&p, 300000);
  aq_conn *c = p.c.conn, *s = p.s.conn;
  aq_conn_stats cst, sst;
  aq_conn_get_stats(c, &cst);
  aq_conn_get_stats(s, &sst);
  CHECK_INT(cst.ecn_state, AQ_ECN_STATE_FAILED);
  CHECK_INT(sst.ecn_state, AQ_ECN_STATE_FAILED);
  /* Only test datagrams were marked, then marking stopped. */
  CHECK(cst.ecn_ect0_sent >= 1);
  CHECK(cst.ecn_ect0_sent <= 10);
  CHECK(sst.ecn_ect0_sent >= 1);
  CHECK(sst.ecn_ect0_sent <= 10);
  CHECK(c->recov.ecn_failed);
  CHECK_INT(s->sp[AQ_PN_SPACE_APP].acktr.ect0, 0);
  const aq_sim_link_stats *ls = aq_sim_link_stats_of(aq_sim_host_uplink(p.ch));
  CHECK_INT(ls->ecn_bleached, cst.ecn_ect0_sent);
  /* Marking stays off. */
  uint64_t before = cst.ecn_ect0_sent;
  ecn_transfer(&p, 100000);
  aq_conn_get_stats(c, &cst);
  CHECK_INT(cst.ecn_ect0_sent, before);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_ecn_peer_not_echoing_disables) {
  aq_simq_pair p;
  /* The server's I/O does not report codepoints: it never sends ACK_ECN. */
  REQUIRE(ecn_pair(&p, 703, &ecn_link, 1, 0) == 0);
  ecn_transfer(&p, 200000);
  aq_conn_stats cst;
  aq_conn_get_stats(p.c.conn, &cst);
  CHECK_INT(cst.ecn_state, AQ_ECN_STATE_FAILED);
  CHECK(cst.ecn_ect0_sent >= 1 && cst.ecn_ect0_sent <= 10);
  /* The marks did cross the link unharmed; only the echo was missing. */
  const aq_sim_link_stats *ls = aq_sim_link_stats_of(aq_sim_host_uplink(p.ch));
  CHECK_INT(ls->ecn_bleached, 0);
  /* The server (plain write) never marked anything. */
  aq_conn_stats sst;
  aq_conn_get_stats(p.s.conn, &sst);
  CHECK_INT(sst.ecn_ect0_sent, 0);
  CHECK_INT(sst.ecn_state, AQ_ECN_STATE_TESTING);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_ecn_ce_is_congestion_event) {
  aq_simq_pair p;
  aq_sim_link_params lp = ecn_link;
  lp.ecn_ce_pct = 3;
  REQUIRE(ecn_pair(&p, 704, &lp, 1, 1) == 0);
  ecn_transfer(&p, 500000);
  aq_conn *c = p.c.conn;
  aq_conn_stats cst;
  aq_conn_get_stats(c, &cst);
  /* CE does not fail validation; it is reported and reacted to. */
  CHECK_INT(cst.ecn_state, AQ_ECN_STATE_CAPABLE);
  CHECK(cst.ecn_ce_reported > 0);
  CHECK(p.s.conn->sp[AQ_PN_SPACE_APP].acktr.ce > 0);
  CHECK_INT(cst.pkts_lost, 0);
  /* A congestion event happened without any loss: ssthresh was set. */
  CHECK(c->cc.ssthresh != UINT64_MAX);
  /* Client -> server crosses the client's up link and the server's down link. */
  uint64_t marked = aq_sim_link_stats_of(aq_sim_host_uplink(p.ch))->ecn_ce_marked +
                    aq_sim_link_stats_of(aq_sim_host_downlink(p.sh))->ecn_ce_marked;
  CHECK(marked > 0);
  CHECK(cst.ecn_ce_reported <= marked);
  CHECK(p.s.conn->sp[AQ_PN_SPACE_APP].acktr.ce >=
        cst.ecn_ce_reported); /* last ACK may be in flight */
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_ecn_plain_io_never_marks) {
  aq_simq_pair p;
  REQUIRE(ecn_pair(&p, 705, &ecn_link, 0, 0) == 0);
  ecn_transfer(&p, 100000);
  aq_conn_stats cst;
  aq_conn_get_stats(p.c.conn, &cst);
  CHECK_INT(cst.ecn_ect0_sent, 0);
  CHECK_INT(cst.ecn_state, AQ_ECN_STATE_TESTING);
  CHECK_INT(p.s.conn->sp[AQ_PN_SPACE_APP].acktr.ect0, 0);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_ecn_disabled_by_setting) {
  aq_simq_pair p;
  aq_simq_pair_init(&p, 706, &ecn_link);
  p.c.set.enable_ecn = 0;
  aq_simq_pair_start(&p);
  aq_sim_host_attach(p.ch, &ecn_ops, &p.c);
  aq_sim_host_attach(p.sh, &ecn_ops, &p.s);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  ecn_transfer(&p, 100000);
  aq_conn_stats cst, sst;
  aq_conn_get_stats(p.c.conn, &cst);
  aq_conn_get_stats(p.s.conn, &sst);
  CHECK_INT(cst.ecn_ect0_sent, 0);
  CHECK(sst.ecn_ect0_sent > 10); /* the server still marks, the client echoes */
  CHECK_INT(sst.ecn_state, AQ_ECN_STATE_CAPABLE);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_ecn_all_test_packets_lost) {
  aq_simq_pair p;
  REQUIRE(ecn_pair(&p, 707, &ecn_link, 1, 1) == 0);
  aq_conn *c = p.c.conn;
  /* Pretend a fresh path: ten ECT(0) test datagrams out, nothing validated yet. */
  c->ecn.state = AQ_ECN_STATE_UNKNOWN;
  c->ecn.test_sent = 10;
  c->ecn.test_lost = 0;
  c->recov.ecn_failed = 0;
  for (unsigned sp = 0; sp < AQ_PN_SPACE_COUNT; sp++) {
    c->recov.sp[sp].peer_ect0 = c->recov.sp[sp].peer_ce = 0;
  }
  aq_sent_pkt pk;
  memset(&pk, 0, sizeof(pk));
  pk.flags = AQ_SENT_IN_FLIGHT; /* not ECT: does not count */
  aq_ecn_on_lost(c, &pk);
  CHECK_INT(c->ecn.test_lost, 0);
  pk.flags = AQ_SENT_IN_FLIGHT | AQ_SENT_ECT0;
  for (int i = 0; i < 9; i++) {
    aq_ecn_on_lost(c, &pk);
  }
  CHECK_INT(c->ecn.state, AQ_ECN_STATE_UNKNOWN);
  aq_ecn_on_lost(c, &pk);
  CHECK_INT(c->ecn.state, AQ_ECN_STATE_FAILED);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_ecn_new_path_revalidates) {
  aq_simq_pair p;
  REQUIRE(ecn_pair(&p, 708, &ecn_link, 1, 1) == 0);
  ecn_transfer(&p, 100000);
  aq_conn *c = p.c.conn;
  aq_conn_stats st;
  aq_conn_get_stats(c, &st);
  REQUIRE(st.ecn_state == AQ_ECN_STATE_CAPABLE);
  /* The connection moves to a path that bleaches (what migrate_to does on a new IP). */
  aq_sim_link_params_of(aq_sim_host_uplink(p.ch))->ecn_bleach = 1;
  aq_ecn_on_new_path(c);
  aq_conn_get_stats(c, &st);
  CHECK_INT(st.ecn_state, AQ_ECN_STATE_TESTING); /* old counts do not validate it */
  uint64_t before = st.ecn_ect0_sent;
  ecn_transfer(&p, 100000);
  aq_conn_get_stats(c, &st);
  CHECK_INT(st.ecn_state, AQ_ECN_STATE_FAILED);
  CHECK(st.ecn_ect0_sent > before);
  CHECK(st.ecn_ect0_sent <= before + 10);
  /* And a clean new path validates again. */
  aq_sim_link_params_of(aq_sim_host_uplink(p.ch))->ecn_bleach = 0;
  aq_ecn_on_new_path(c);
  ecn_transfer(&p, 100000);
  aq_conn_get_stats(c, &st);
  CHECK_INT(st.ecn_state, AQ_ECN_STATE_CAPABLE);
  CHECK(st.ecn_ect0_sent > before + 50);
  aq_simq_pair_free(&p);
}
