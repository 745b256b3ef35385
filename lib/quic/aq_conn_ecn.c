/*
 * aq_conn_ecn.c - Explicit Congestion Notification for a connection
 * (RFC 9000 §13.4, RFC 9002 §7.1).
 *
 * Receive: the I/O layer passes each datagram's IP ECN codepoint
 * (aq_conn_read_pkt_ecn); aq_acktr counts ECT(0)/ECT(1)/CE per packet
 * number space (§13.4.1) and ACK_ECN frames report the counts.
 *
 * Send: when the caller can set the codepoint (aq_conn_write_pkt_ecn with
 * an out-parameter) and settings.enable_ecn is on, datagrams are marked
 * ECT(0) following §13.4.2's validation:
 *   TESTING  the first AQ_ECN_TEST_PKTS datagrams are marked;
 *   UNKNOWN  marking stops until an ACK validates the counts;
 *   CAPABLE  the peer reported ECT(0)/CE counts that passed §13.4.2.1:
 *            every datagram is marked;
 *   FAILED   validation failed (aq_recov: counts missing while ECT(0)
 *            packets are acknowledged, i.e. the path bleaches marks or the
 *            peer does not echo them; counts decreasing; ECT(1) appearing)
 *            or every test packet was lost: never mark again.
 * A CE count increase is a congestion event (aq_recov -> aq_cc_on_ecn_ce).
 *
 * Timers: none.
 */
#include <string.h>

#include "aq_conn_int.h"

/** Datagrams marked ECT(0) while testing a path (§13.4.2: "the first ten"). */
#define AQ_ECN_TEST_PKTS 10u

int aq_conn_read_pkt_ecn(aq_conn *conn, const aq_path *path, const uint8_t *data, size_t len,
                         unsigned ecn, aq_tstamp ts) {
  conn->ecn.rx = ecn & 3u;
  int rc = aq_conn_read_pkt(conn, path, data, len, ts);
  conn->ecn.rx = AQ_ECN_NOT_ECT;
  return rc;
}

aq_ssize aq_conn_write_pkt_ecn(aq_conn *conn, aq_path *path, uint8_t *buf, size_t cap,
                               unsigned *ecn, aq_tstamp ts) {
  conn->ecn.can_mark = ecn != NULL;
  conn->ecn.tx = AQ_ECN_NOT_ECT;
  aq_ssize n = aq_conn_write_pkt(conn, path, buf, cap, ts);
  if (ecn != NULL) {
    *ecn = n > 0 ? conn->ecn.tx : AQ_ECN_NOT_ECT;
  }
  conn->ecn.can_mark = 0;
  conn->ecn.tx = AQ_ECN_NOT_ECT;
  return n;
}

/** ECT(0) + CE marks the peer reported over all spaces. */
static uint64_t peer_marks(const aq_conn *conn) {
  uint64_t n = 0;
  for (unsigned sp = 0; sp < AQ_PN_SPACE_COUNT; sp++) {
    n += conn->recov.sp[sp].peer_ect0 + conn->recov.sp[sp].peer_ce;
  }
  return n;
}

/** The state after folding in aq_recov's validation results. */
static int ecn_state_now(const aq_conn *conn) {
  int st = conn->ecn.state;
  if (st == AQ_ECN_STATE_FAILED) {
    return st;
  }
  if (conn->recov.ecn_failed) {
    return AQ_ECN_STATE_FAILED;
  }
  if (st == AQ_ECN_STATE_CAPABLE) {
    return st;
  }
  /* aq_recov stores the peer's counts only after they validated (§13.4.2.1);
   * counts from before the current path do not validate it. */
  return peer_marks(conn) > conn->ecn.path_base ? AQ_ECN_STATE_CAPABLE : st;
}

void aq_ecn_on_new_path(aq_conn *conn) {
  /* §13.4.2: "Network routing and path elements can change mid-connection;
   * an endpoint MUST disable ECN if validation later fails" - and each new
   * path is validated afresh. */
  aq_conn_ecn *e = &conn->ecn;
  e->state = AQ_ECN_STATE_TESTING;
  e->test_sent = 0;
  e->test_lost = 0;
  e->path_base = peer_marks(conn);
  conn->recov.ecn_failed = 0;
}

unsigned aq_ecn_tx_begin(aq_conn *conn) {
  aq_conn_ecn *e = &conn->ecn;
  e->tx = AQ_ECN_NOT_ECT;
  if (!e->can_mark || !conn->set.enable_ecn) {
    return e->tx;
  }
  e->state = ecn_state_now(conn);
  switch (e->state) {
  case AQ_ECN_STATE_TESTING:
    if (e->test_sent >= AQ_ECN_TEST_PKTS) {
      e->state = AQ_ECN_STATE_UNKNOWN;
      break;
    }
    e->test_sent++;
    e->tx = AQ_ECN_ECT0;
    break;
  case AQ_ECN_STATE_CAPABLE: e->tx = AQ_ECN_ECT0; break;
  case AQ_ECN_STATE_UNKNOWN:
  case AQ_ECN_STATE_FAILED:
  default: break;
  }
  if (e->tx == AQ_ECN_ECT0) {
    conn->stats.ecn_ect0_sent++;
  }
  return e->tx;
}

void aq_ecn_on_lost(aq_conn *conn, const aq_sent_pkt *pkt) {
  aq_conn_ecn *e = &conn->ecn;
  if (!(pkt->flags & AQ_SENT_ECT0) ||
      (e->state != AQ_ECN_STATE_TESTING && e->state != AQ_ECN_STATE_UNKNOWN)) {
    return;
  }
  /* §13.4.2: "If all packets marked with non-zero ECN codepoints are
   * subsequently lost, it can disable marking on the assumption that the
   * marking caused the loss of the ten test packets." */
  e->test_lost++;
  if (e->test_sent >= AQ_ECN_TEST_PKTS && e->test_lost >= e->test_sent) {
    e->state = ecn_state_now(conn);
    if (e->state != AQ_ECN_STATE_CAPABLE) {
      e->state = AQ_ECN_STATE_FAILED;
    }
  }
}

void aq_ecn_fill_stats(const aq_conn *conn, aq_conn_stats *st) {
  st->ecn_state = ecn_state_now(conn);
  st->ecn_ce_reported = 0;
  for (unsigned sp = 0; sp < AQ_PN_SPACE_COUNT; sp++) {
    st->ecn_ce_reported += conn->recov.sp[sp].peer_ce;
  }
}
