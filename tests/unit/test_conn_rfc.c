/*
 * test_conn_rfc.c - RFC 9000/9001 rules fixed with docs/rfc-compliance.md:
 * a client discards long-header packets whose Source Connection ID differs
 * from the one the server's first Initial fixed (RFC 9000 §7.2) and server
 * Initials with a token (§17.2.2); CRYPTO data past the end of an older
 * encryption level is a PROTOCOL_VIOLATION (RFC 9001 §4.1.3).
 *
 * One client connection and two server connections answering the same
 * ClientHello (as two servers behind one address might), driven by hand.
 */
#include <string.h>

#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_qerr.h"
#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

typedef struct rig {
  aq_sim *sim;
  aq_simq cq, s1q, s2q;
  aq_conn *c, *s1, *s2;
  aq_path cp, sp;
} rig;

static void rig_free(rig *r) {
  aq_conn_del(r->c);
  aq_conn_del(r->s1);
  aq_conn_del(r->s2);
  aq_sim_del(r->sim);
}

/* The client's first flight reaches both servers; each has answered nothing yet. */
static int rig_init(rig *r) {
  memset(r, 0, sizeof(*r));
  r->sim = aq_sim_new(9);
  aq_simq_init(&r->cq, r->sim, NULL, 0, 0x31);
  aq_simq_init(&r->s1q, r->sim, NULL, 1, 0x32);
  aq_simq_init(&r->s2q, r->sim, NULL, 1, 0x33);
  r->cp.local = aq_sim_ip4(198, 51, 100, 2, 50000);
  r->cp.remote = aq_sim_ip4(192, 0, 2, 1, 443);
  r->sp.local = r->cp.remote;
  r->sp.remote = r->cp.local;
  if (aq_conn_new(&r->c, 0, &r->cq.set, &r->cq.cb, &r->cq, NULL, &r->cp, NULL, 1) != 0) {
    return -1;
  }
  uint8_t dg[1500];
  aq_path op;
  aq_ssize n = aq_conn_write_pkt(r->c, &op, dg, sizeof(dg), 1);
  aq_pkt_hd hd;
  if (n < 1200 || aq_pkt_decode_hd(&hd, dg, (size_t)n, 8) != 0 ||
      aq_conn_new(&r->s1, 1, &r->s1q.set, &r->s1q.cb, &r->s1q, NULL, &r->sp, &hd, 2) != 0 ||
      aq_conn_new(&r->s2, 1, &r->s2q.set, &r->s2q.cb, &r->s2q, NULL, &r->sp, &hd, 2) != 0 ||
      aq_conn_read_pkt(r->s1, &r->sp, dg, (size_t)n, 2) != 0 ||
      aq_conn_read_pkt(r->s2, &r->sp, dg, (size_t)n, 2) != 0 ||
      aq_cid_eq(&r->s1->scid, &r->s2->scid)) {
    return -1;
  }
  return 0;
}

/** s's next datagram to the client (0 if none). */
static size_t server_dgram(aq_conn *s, uint8_t *buf, size_t cap, aq_tstamp ts) {
  aq_path op;
  aq_ssize n = aq_conn_write_pkt(s, &op, buf, cap, ts);
  return n > 0 ? (size_t)n : 0;
}

/** A 200-byte server Initial from s to c with payload (then PADDING), optional token, sealed. */
static size_t server_initial(aq_conn *s, aq_conn *c, uint64_t pn, const uint8_t *tok, size_t toklen,
                             const uint8_t *payload, size_t len, uint8_t *out) {
  const size_t total = 200;
  aq_pkt_hd hd;
  memset(&hd, 0, sizeof(hd));
  hd.type = AQ_PKT_INITIAL;
  hd.version = AQ_PROTO_VER_V1;
  hd.dcid = c->scid.data;
  hd.dcidlen = c->scid.len;
  hd.scid = s->scid.data;
  hd.scidlen = s->scid.len;
  hd.token = tok;
  hd.tokenlen = toklen;
  hd.pkt_num = pn;
  hd.pn_len = 4;
  hd.len_width = 2;
  aq_wbuf w;
  aq_wbuf_init(&w, out, total);
  if (aq_pkt_encode_hd(&w, &hd) != 0) {
    return 0;
  }
  aq_wbuf_bytes(&w, payload, len);
  aq_wbuf_zeros(&w, aq_wbuf_left(&w));
  if (aq_wbuf_error(&w) != 0 || aq_pkt_set_length(out, &hd, total) != 0 ||
      aq_pprot_seal(&s->sp[AQ_PN_SPACE_INITIAL].tx, out, total, hd.pktlen, hd.pn_offset, 4, pn) !=
          0) {
    return 0;
  }
  return total;
}

AQ_TEST(conn_rfc_client_drops_other_server_scid) {
  rig r;
  REQUIRE(rig_init(&r) == 0);
  uint8_t d1[1500], d2[1500];
  size_t n1 = server_dgram(r.s1, d1, sizeof(d1), 3), n2 = server_dgram(r.s2, d2, sizeof(d2), 3);
  REQUIRE(n1 > 0 && n2 > 0);
  CHECK_INT(aq_conn_read_pkt(r.c, &r.cp, d1, n1, 4), 0);
  aq_conn_stats st;
  aq_conn_get_stats(r.c, &st);
  uint64_t recv = st.pkts_recv, dropped = st.pkts_dropped;
  CHECK(recv >= 1);
  CHECK(aq_cid_eq(&r.c->dcid, &r.s1->scid));
  /* The second server's flight decrypts with the same Initial keys but carries another SCID. */
  CHECK_INT(aq_conn_read_pkt(r.c, &r.cp, d2, n2, 5), 0);
  aq_conn_get_stats(r.c, &st);
  CHECK_INT(st.pkts_recv, recv);
  CHECK(st.pkts_dropped > dropped);
  /* Even an Initial of it with a fresh packet number (which nothing else would reject). */
  static const uint8_t ping[] = {AQ_FT_PING};
  uint8_t pkt[200];
  REQUIRE(server_initial(r.s2, r.c, 100, NULL, 0, ping, 1, pkt) == 200);
  dropped = st.pkts_dropped;
  CHECK_INT(aq_conn_read_pkt(r.c, &r.cp, pkt, 200, 6), 0);
  aq_conn_get_stats(r.c, &st);
  CHECK_INT(st.pkts_recv, recv);
  CHECK_INT(st.pkts_dropped, dropped + 1);
  /* The same from the first server is processed. */
  REQUIRE(server_initial(r.s1, r.c, 100, NULL, 0, ping, 1, pkt) == 200);
  CHECK_INT(aq_conn_read_pkt(r.c, &r.cp, pkt, 200, 7), 0);
  aq_conn_get_stats(r.c, &st);
  CHECK_INT(st.pkts_recv, recv + 1);
  CHECK(aq_cid_eq(&r.c->dcid, &r.s1->scid));
  CHECK(!aq_conn_is_closed(r.c));
  rig_free(&r);
}

AQ_TEST(conn_rfc_client_drops_initial_with_token) {
  rig r;
  REQUIRE(rig_init(&r) == 0);
  static const uint8_t ping[] = {AQ_FT_PING}, tok[] = {1, 2, 3, 4};
  uint8_t pkt[200];
  REQUIRE(server_initial(r.s1, r.c, 100, tok, sizeof(tok), ping, 1, pkt) == 200);
  CHECK_INT(aq_conn_read_pkt(r.c, &r.cp, pkt, 200, 3), 0);
  aq_conn_stats st;
  aq_conn_get_stats(r.c, &st);
  CHECK_INT(st.pkts_recv, 0);
  CHECK_INT(st.pkts_dropped, 1);
  CHECK(!r.c->got_peer_scid); /* nothing adopted from it */
  /* The same packet without a token is processed. */
  REQUIRE(server_initial(r.s1, r.c, 101, NULL, 0, ping, 1, pkt) == 200);
  CHECK_INT(aq_conn_read_pkt(r.c, &r.cp, pkt, 200, 4), 0);
  aq_conn_get_stats(r.c, &st);
  CHECK_INT(st.pkts_recv, 1);
  rig_free(&r);
}

/* Encode one CRYPTO frame. */
static size_t crypto_frame(uint64_t off, const uint8_t *data, size_t len, uint8_t *out,
                           size_t cap) {
  aq_frame f;
  memset(&f, 0, sizeof(f));
  f.type = AQ_FT_CRYPTO;
  f.u.crypto.offset = off;
  f.u.crypto.data = data;
  f.u.crypto.datalen = len;
  aq_wbuf w;
  aq_wbuf_init(&w, out, cap);
  if (aq_frame_encode(&w, &f) != 0 || aq_wbuf_error(&w) != 0) {
    return 0;
  }
  return aq_wbuf_len(&w);
}

AQ_TEST(conn_rfc_crypto_past_old_level) {
  rig r;
  REQUIRE(rig_init(&r) == 0);
  uint8_t d1[1500];
  size_t n1 = server_dgram(r.s1, d1, sizeof(d1), 3);
  REQUIRE(n1 > 0);
  CHECK_INT(aq_conn_read_pkt(r.c, &r.cp, d1, n1, 4), 0);
  /* The ServerHello was read: Handshake keys exist, the Initial CRYPTO stream is complete. */
  REQUIRE(r.c->sp[AQ_PN_SPACE_HANDSHAKE].has_rx);
  uint64_t end = r.c->sp[AQ_PN_SPACE_INITIAL].crx.recv_end;
  REQUIRE(end > 0);
  static const uint8_t junk[10] = {0};
  uint8_t fr[64], pkt[200];
  /* A repeat of old bytes is fine. */
  size_t fl = crypto_frame(0, junk, sizeof(junk), fr, sizeof(fr));
  REQUIRE(fl > 0);
  REQUIRE(server_initial(r.s1, r.c, 100, NULL, 0, fr, fl, pkt) == 200);
  CHECK_INT(aq_conn_read_pkt(r.c, &r.cp, pkt, 200, 5), 0);
  CHECK(!aq_conn_is_closed(r.c));
  /* Bytes past the end: PROTOCOL_VIOLATION. */
  fl = crypto_frame(end, junk, sizeof(junk), fr, sizeof(fr));
  REQUIRE(server_initial(r.s1, r.c, 101, NULL, 0, fr, fl, pkt) == 200);
  CHECK_INT(aq_conn_read_pkt(r.c, &r.cp, pkt, 200, 6), 0);
  CHECK(aq_conn_is_closed(r.c));
  CHECK_INT(r.c->close_code, AQ_QERR_PROTOCOL_VIOLATION);
  rig_free(&r);
}

/* Out-of-order CRYPTO data of a level that TLS leaves unconsumed when the next level's keys
 * arrive: PROTOCOL_VIOLATION (RFC 9001 §4.1.3). */
AQ_TEST(conn_rfc_crypto_unconsumed_at_key_change) {
  rig r;
  REQUIRE(rig_init(&r) == 0);
  uint8_t d1[1500];
  size_t n1 = server_dgram(r.s1, d1, sizeof(d1), 3);
  REQUIRE(n1 > 0);
  /* A stray fragment far beyond the ServerHello arrives first (level still current: kept). */
  static const uint8_t junk[10] = {0};
  uint8_t fr[64], pkt[200];
  size_t fl = crypto_frame(3000, junk, sizeof(junk), fr, sizeof(fr));
  REQUIRE(server_initial(r.s1, r.c, 100, NULL, 0, fr, fl, pkt) == 200);
  CHECK_INT(aq_conn_read_pkt(r.c, &r.cp, pkt, 200, 3), 0);
  CHECK(!aq_conn_is_closed(r.c));
  /* Then the real ServerHello: TLS moves to Handshake keys with bytes left over. */
  CHECK_INT(aq_conn_read_pkt(r.c, &r.cp, d1, n1, 4), 0);
  CHECK(aq_conn_is_closed(r.c));
  CHECK_INT(r.c->close_code, AQ_QERR_PROTOCOL_VIOLATION);
  rig_free(&r);
}

/* RFC 9000 §3.3: "A sender MUST NOT send a STREAM or STREAM_DATA_BLOCKED frame for a stream in
 * the 'Reset Sent' state": a STREAM_DATA_BLOCKED still owed when the application resets the
 * stream is not sent; the RESET_STREAM is. */
AQ_TEST(conn_rfc_no_blocked_after_reset) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 520, &lp);
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  aq_conn *c = p.c.conn;
  uint64_t id;
  REQUIRE(aq_conn_open_stream(c, 1, &id) == 0);
  aq_strm *s = aq_strm_find(c, id);
  REQUIRE(s != NULL);
  for (int reset = 0; reset < 2; reset++) {
    static const uint8_t data[10] = {0};
    REQUIRE(aq_conn_stream_write(c, id, data, sizeof(data), 0) == 10); /* queues the stream */
    s->blocked_pending = 1; /* as if flow control had just blocked it */
    if (reset) {
      REQUIRE(aq_conn_stream_reset(c, id, 7) == 0);
    }
    uint8_t buf[1200];
    aq_wbuf w;
    aq_wbuf_init(&w, buf, sizeof(buf));
    aq_sent_meta m;
    memset(&m, 0, sizeof(m));
    REQUIRE(aq_strm_write_frames(c, &w, &m, aq_sim_now(p.sim)) == 0);
    int blocked = 0, rst = 0;
    aq_rbuf r;
    aq_rbuf_init(&r, buf, aq_wbuf_len(&w));
    while (aq_rbuf_left(&r) > 0) {
      aq_frame f;
      REQUIRE(aq_frame_decode(&f, &r) == 0);
      blocked += f.type == AQ_FT_STREAM_DATA_BLOCKED;
      rst += f.type == AQ_FT_RESET_STREAM;
    }
    CHECK_INT(blocked, reset ? 0 : 1);
    CHECK_INT(rst, reset ? 1 : 0);
  }
  aq_simq_pair_free(&p);
}

/* RFC 9002 §7: "An endpoint MUST NOT send a packet if it would cause bytes_in_flight ... to be
 * larger than the congestion window, unless the packet is sent on a PTO timer expiration ... or
 * when entering recovery".  Checked after every simulator step of a clean upload that fills
 * the window (no loss, so no PTO probes and no recovery). */
typedef struct cw_watch {
  aq_simq_pair *p;
  uint64_t worst_excess; /* largest bytes_in_flight - cwnd seen */
  uint64_t steps;
} cw_watch;

static int cw_check(void *arg) {
  cw_watch *w = arg;
  aq_conn *c = w->p->c.conn;
  if (c != NULL) {
    uint64_t in = aq_recov_bytes_in_flight(&c->recov), cw = aq_cc_cwnd(&c->cc);
    if (in > cw && in - cw > w->worst_excess) {
      w->worst_excess = in - cw;
    }
    w->steps++;
  }
  return w->p->s.fins_recv >= 1;
}

AQ_TEST(conn_rfc_inflight_within_cwnd) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS, .rate_bps = 20000000};
  aq_simq_pair_init(&p, 530, &lp);
  p.s.echo = 0;
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  REQUIRE(aq_simq_open(&p.c, 1, 2u << 20, 1) != NULL);
  cw_watch w = {.p = &p};
  CHECK_INT(aq_sim_run(p.sim, 30 * AQ_SECONDS, 5000000, cw_check, &w), AQ_SIM_DONE);
  CHECK(w.steps > 1000);
  CHECK_INT(w.worst_excess, 0);
  aq_conn_stats st;
  aq_conn_get_stats(p.c.conn, &st);
  CHECK_INT(st.pkts_lost, 0);
  aq_simq_pair_free(&p);
}
