/*
 * test_conn_scenarios.c - QUIC connections under impairment in the
 * simulator: several MB on several streams with small windows, thousands
 * of streams with low stream limits, ChaCha20-only, handshake under 30%
 * loss, transfers under loss / corruption / a 2 s black-out, the
 * anti-amplification limit with a large server flight, idle timeout and
 * application close.  Every test bounds simulated time and/or bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

#define MAXS 64

typedef struct xfer {
  aq_simq_pair *p;
  size_t n;
  aq_simq_stream *cs[MAXS];
} xfer;

static int xfer_done(void *arg) {
  xfer *x = arg;
  for (size_t i = 0; i < x->n; i++) {
    if (x->cs[i] == NULL || !x->cs[i]->fin_recvd) {
      return 0;
    }
  }
  return 1;
}

static void maybe_trace(aq_simq_pair *p) {
  if (getenv("AQ_CONN_TRACE") != NULL) {
    aq_sim_set_trace(p->sim, stderr);
  }
}

/**
 * Handshake, then n bidi streams of bytes each from the client, echoed by
 * the server.  Checks every byte both ways; returns the simulated duration
 * of the transfer phase (UINT64_MAX if it did not finish in max_time).
 */
static aq_duration run_xfer(aq_simq_pair *p, size_t n, uint64_t bytes, aq_duration max_time) {
  xfer x;
  memset(&x, 0, sizeof(x));
  x.p = p;
  x.n = n;
  if (n > MAXS) {
    return UINT64_MAX;
  }
  maybe_trace(p);
  aq_sim_result r = aq_sim_run(p->sim, 20 * AQ_SECONDS, 1000000, aq_simq_pair_hs_done, p);
  CHECK_INT(r, AQ_SIM_DONE);
  if (r != AQ_SIM_DONE) {
    return UINT64_MAX;
  }
  aq_tstamp t0 = aq_sim_now(p->sim);
  for (size_t i = 0; i < n; i++) {
    x.cs[i] = aq_simq_open(&p->c, 1, bytes, 1);
    CHECK(x.cs[i] != NULL);
    if (x.cs[i] == NULL) {
      return UINT64_MAX;
    }
  }
  r = aq_sim_run(p->sim, max_time, 20000000, xfer_done, &x);
  CHECK_INT(r, AQ_SIM_DONE);
  for (size_t i = 0; i < n; i++) {
    aq_simq_stream *cs = x.cs[i];
    aq_simq_stream *ss = aq_simq_stream_of(&p->s, cs->id);
    CHECK_INT(ss->recvd, bytes);
    CHECK(ss->fin_recvd);
    CHECK(!ss->bad);
    CHECK_INT(cs->recvd, bytes);
    CHECK(!cs->bad);
  }
  CHECK(!p->c.io_err && !p->s.io_err);
  CHECK(!p->c.closed && !p->s.closed);
  return r == AQ_SIM_DONE ? aq_sim_now(p->sim) - t0 : UINT64_MAX;
}

AQ_TEST(conn_transfer_multi_small_windows) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS, .rate_bps = 100000000};
  aq_simq_pair_init(&p, 11, &lp);
  /* 16 KiB per stream, 48 KiB per connection: far below the bandwidth-delay product. */
  p.c.set.initial_max_stream_data = p.s.set.initial_max_stream_data = 16384;
  p.c.set.initial_max_data = p.s.set.initial_max_data = 49152;
  p.c.set.stream_send_buffer = p.s.set.stream_send_buffer = 32768;
  aq_simq_pair_start(&p);
  /* 4 streams x 1 MiB echoed = 8 MiB of stream data. */
  aq_duration d = run_xfer(&p, 4, 1u << 20, 60 * AQ_SECONDS);
  /* Window-limited: 48 KiB per 20 ms RTT is ~2.4 MB/s each way: 4 MiB needs ~2 s. */
  CHECK(d < 6 * AQ_SECONDS);
  aq_conn_stats st;
  REQUIRE(p.c.conn != NULL && p.s.conn != NULL);
  aq_conn_get_stats(p.c.conn, &st);
  CHECK_INT(st.stream_bytes_sent, 4u << 20);
  /* Nothing much resent on a clean path. */
  CHECK(st.bytes_sent < (uint64_t)(4u << 20) * 12 / 10);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_transfer_chacha_only) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS, .rate_bps = 50000000};
  aq_simq_pair_init(&p, 12, &lp);
  static const uint16_t chacha[] = {AQ_TLS_CHACHA20_POLY1305_SHA256};
  p.c.set.tls_suites = chacha;
  p.c.set.ntls_suites = 1;
  p.s.set.tls_suites = chacha;
  p.s.set.ntls_suites = 1;
  aq_simq_pair_start(&p);
  aq_duration d = run_xfer(&p, 2, 200000, 10 * AQ_SECONDS);
  CHECK(d < 2 * AQ_SECONDS);
  CHECK_INT(p.c.conn->sp[AQ_PN_SPACE_APP].tx.aead.alg, AQ_AEAD_CHACHA20_POLY1305);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_handshake_loss_30pct) {
  /* Several seeds: the handshake must always complete, within a bounded time. */
  for (uint64_t seed = 100; seed < 120; seed++) {
    aq_simq_pair p;
    aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
    aq_simq_pair_init(&p, seed, &lp);
    /* 30% each way: on each host's up link (the down links stay clean). */
    aq_sim_link_params_of(aq_sim_host_uplink(p.ch))->loss_pct = 30;
    aq_sim_link_params_of(aq_sim_host_uplink(p.sh))->loss_pct = 30;
    p.c.set.handshake_timeout = p.s.set.handshake_timeout = 0; /* the idle timeout (30 s) rules */
    aq_simq_pair_start(&p);
    maybe_trace(&p);
    aq_sim_result r = aq_sim_run(p.sim, 30 * AQ_SECONDS, 1000000, aq_simq_pair_hs_done, &p);
    CHECK_INT(r, AQ_SIM_DONE);
    if (getenv("AQ_CONN_DEBUG") != NULL) {
      fprintf(stderr, "seed %llu: handshake %.3f s\n", (unsigned long long)seed,
              (double)(aq_sim_now(p.sim) - AQ_SIM_ORIGIN) / 1e9);
    }
    CHECK(aq_sim_now(p.sim) - AQ_SIM_ORIGIN < 20 * AQ_SECONDS);
    /* And data still flows afterwards. */
    if (r == AQ_SIM_DONE) {
      aq_duration d = run_xfer(&p, 1, 20000, 60 * AQ_SECONDS);
      CHECK(d < 60 * AQ_SECONDS);
    }
    aq_simq_pair_free(&p);
  }
}

AQ_TEST(conn_transfer_loss_2pct_multi) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS,
                           .rate_bps = 20000000,
                           .loss_pct = 2,
                           .reorder_pct = 2,
                           .reorder_delay = 3 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 13, &lp);
  aq_simq_pair_start(&p);
  aq_duration d = run_xfer(&p, 4, 256000, 60 * AQ_SECONDS);
  CHECK(d < 20 * AQ_SECONDS);
  aq_conn_stats st;
  REQUIRE(p.c.conn != NULL && p.s.conn != NULL);
  aq_conn_get_stats(p.c.conn, &st);
  CHECK(st.pkts_lost > 0);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_transfer_corrupt_2pct) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS, .rate_bps = 20000000, .corrupt_pct = 2};
  aq_simq_pair_init(&p, 14, &lp);
  aq_simq_pair_start(&p);
  aq_duration d = run_xfer(&p, 2, 300000, 60 * AQ_SECONDS);
  CHECK(d < 20 * AQ_SECONDS);
  aq_conn_stats st;
  REQUIRE(p.c.conn != NULL && p.s.conn != NULL);
  aq_conn_get_stats(p.s.conn, &st);
  CHECK(st.pkts_dropped > 0); /* corrupted packets failed authentication */
  aq_simq_pair_free(&p);
}

typedef struct blackout_ctx {
  xfer x;
  aq_simq_pair *p;
} blackout_ctx;

AQ_TEST(conn_transfer_blackout_2s) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS, .rate_bps = 10000000};
  aq_simq_pair_init(&p, 15, &lp);
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  aq_tstamp now = aq_sim_now(p.sim);
  /* Every link goes dark for 2 s, 300 ms into the transfer. */
  aq_sim_window bw = {now + 300 * AQ_MILLISECONDS, now + 2300 * AQ_MILLISECONDS};
  aq_sim_link_params_of(aq_sim_host_uplink(p.ch))->blackout[0] = bw;
  aq_sim_link_params_of(aq_sim_host_downlink(p.ch))->blackout[0] = bw;
  aq_sim_link_params_of(aq_sim_host_uplink(p.sh))->blackout[0] = bw;
  aq_sim_link_params_of(aq_sim_host_downlink(p.sh))->blackout[0] = bw;
  aq_duration d = run_xfer(&p, 2, 1000000, 60 * AQ_SECONDS);
  /* 2 MB each way at 10 Mbit/s is ~1.7 s, plus the 2 s gap and PTO backoff. */
  CHECK(d < 15 * AQ_SECONDS);
  aq_simq_pair_free(&p);
}

static int streams_all_done(void *arg) {
  aq_simq_pair *p = arg;
  return p->s.fins_recv >= 3000 && p->c.fins_recv >= 3000;
}

AQ_TEST(conn_thousands_of_streams) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS, .rate_bps = 100000000};
  aq_simq_pair_init(&p, 16, &lp);
  p.s.set.initial_max_streams_bidi = 10; /* the client may have 10 open at once */
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  aq_tstamp t0 = aq_sim_now(p.sim);
  size_t opened = 0, blocked = 0;
  while (opened < 3000 && aq_sim_now(p.sim) - t0 < 60 * AQ_SECONDS) {
    aq_simq_stream *s = aq_simq_open(&p.c, 1, 100, 1);
    if (s != NULL) {
      opened++;
      continue;
    }
    blocked++;
    (void)aq_sim_run_for(p.sim, 5 * AQ_MILLISECONDS, 1000000);
  }
  CHECK_INT(opened, 3000);
  CHECK(blocked > 0); /* the limit really was hit, and raised */
  aq_sim_result r = aq_sim_run(p.sim, 10 * AQ_SECONDS, 10000000, streams_all_done, &p);
  CHECK_INT(r, AQ_SIM_DONE);
  CHECK(aq_sim_now(p.sim) - t0 < 30 * AQ_SECONDS);
  CHECK_INT(p.s.streams_opened_by_peer, 3000);
  CHECK(p.s.conn->nstreams <= 10);
  /* Let the last ACKs settle: the client forgets every finished stream. */
  (void)aq_sim_run_for(p.sim, AQ_SECONDS, 1000000);
  CHECK_INT(p.c.conn->nstreams, 0);
  CHECK_INT(p.c.streams_closed, 3000);
  for (size_t i = 0; i < 3000; i++) {
    aq_simq_stream *s = aq_simq_stream_of(&p.c, (uint64_t)i << 2);
    CHECK(s->recvd == 100 && !s->bad);
  }
  aq_simq_pair_free(&p);
}

/* A server extension with a 6000-byte transport parameter makes its first flight large. */
static uint8_t big_tp[6000];
static const aq_conn_ext_ops big_ext = {.name = "big", .tp_id = 0x7f3a};

static void add_big_ext(aq_simq *q, aq_conn *conn) {
  (void)q;
  if (aq_conn_ext_register(conn, &big_ext, NULL, big_tp, sizeof(big_tp)) != 0) {
    q->io_err = 1;
  }
}

typedef struct amp_ctx {
  aq_simq_pair *p;
  uint64_t max_ratio_violation;
} amp_ctx;

AQ_TEST(conn_amplification_limit) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 20 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 17, &lp);
  memset(big_tp, 0xab, sizeof(big_tp));
  p.s.new_conn_hook = add_big_ext;
  /* Drop every client datagram after the first (the first flight of the server
   * needs the client's ACKs to continue): the server must stop at 3x. */
  aq_sim_link_params_of(aq_sim_host_uplink(p.ch))->loss_mask = ~(uint64_t)1;
  aq_simq_pair_start(&p);
  (void)aq_sim_run_for(p.sim, 3 * AQ_SECONDS, 1000000);
  const aq_sim_link_stats *su = aq_sim_link_stats_of(aq_sim_host_uplink(p.sh));
  const aq_sim_link_stats *cu = aq_sim_link_stats_of(aq_sim_host_uplink(p.ch));
  CHECK_INT(cu->delivered, 1);
  CHECK(su->bytes_sent > 0);
  CHECK(su->bytes_sent <= 3 * 1200);
  CHECK(!p.s.hs_done);
  /* With the client's datagrams flowing again, the handshake completes. */
  aq_sim_link_params_of(aq_sim_host_uplink(p.ch))->loss_mask = 0;
  aq_sim_result r = aq_sim_run(p.sim, 10 * AQ_SECONDS, 1000000, aq_simq_pair_hs_done, &p);
  CHECK_INT(r, AQ_SIM_DONE);
  CHECK(!p.s.io_err && !p.c.io_err);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_amplification_large_flight) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 20 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 18, &lp);
  memset(big_tp, 0xcd, sizeof(big_tp));
  p.s.new_conn_hook = add_big_ext;
  aq_simq_pair_start(&p);
  aq_sim_result r = aq_sim_run(p.sim, 10 * AQ_SECONDS, 1000000, aq_simq_pair_hs_done, &p);
  CHECK_INT(r, AQ_SIM_DONE);
  /* The flight really is beyond 3x the client's first datagram... */
  CHECK(aq_sim_link_stats_of(aq_sim_host_uplink(p.sh))->bytes_sent > 3 * 1200 + 2000);
  /* ...and needs the client's ACKs to unlock it: 2 RTTs, not a PTO. */
  CHECK(p.c.hs_done_ts - AQ_SIM_ORIGIN <= 2 * 80 * AQ_MILLISECONDS + 5 * AQ_MILLISECONDS);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_idle_timeout) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 19, &lp);
  p.c.set.idle_timeout = 2 * AQ_SECONDS;
  p.s.set.idle_timeout = 5 * AQ_SECONDS;
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  aq_tstamp t0 = aq_sim_now(p.sim);
  (void)aq_sim_run_for(p.sim, 10 * AQ_SECONDS, 1000000);
  CHECK(p.c.closed && p.s.closed);
  CHECK(p.c.close.idle_timeout && p.s.close.idle_timeout);
  /* The minimum of both (2 s) applies to both sides (a little later for the PTO floor). */
  CHECK(p.c.closed_ts - t0 >= 2 * AQ_SECONDS - 50 * AQ_MILLISECONDS);
  CHECK(p.c.closed_ts - t0 <= 2 * AQ_SECONDS + 50 * AQ_MILLISECONDS);
  CHECK(p.s.closed_ts - t0 <= 2 * AQ_SECONDS + 50 * AQ_MILLISECONDS);
  CHECK_INT(aq_ep_conn_count(p.c.ep), 0);
  CHECK_INT(aq_ep_conn_count(p.s.ep), 0);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_keep_alive_prevents_idle) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 20, &lp);
  p.c.set.idle_timeout = 2 * AQ_SECONDS;
  p.c.set.keep_alive = 500 * AQ_MILLISECONDS;
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  (void)aq_sim_run_for(p.sim, 10 * AQ_SECONDS, 1000000);
  CHECK(!p.c.closed && !p.s.closed);
  /* ~20 PINGs + ACKs in 10 s, not a flood. */
  CHECK(aq_sim_host_stats_of(p.ch)->sent < 40);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_app_close_reason) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 21, &lp);
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  aq_tstamp t0 = aq_sim_now(p.sim);
  aq_conn_close(p.c.conn, 0x42, (const uint8_t *)"going away", 10, t0);
  CHECK(p.c.closed);
  (void)aq_sim_run_for(p.sim, 5 * AQ_SECONDS, 1000000);
  CHECK(p.s.closed);
  CHECK(p.s.close.by_peer);
  CHECK(p.s.close.is_app);
  CHECK_INT(p.s.close.code, 0x42);
  CHECK_INT(p.s.close.reasonlen, 10);
  CHECK_MEM(p.s.close_reason, "going away", 10);
  CHECK(p.s.closed_ts - t0 <= 20 * AQ_MILLISECONDS + AQ_MILLISECONDS);
  CHECK(!p.c.close.by_peer);
  /* Both sides forget the connection after the closing/draining period. */
  CHECK_INT(aq_ep_conn_count(p.c.ep), 0);
  CHECK_INT(aq_ep_conn_count(p.s.ep), 0);
  aq_simq_pair_free(&p);
}

static void do_rebind(aq_sim *sim, void *arg) {
  (void)sim;
  aq_sim_nat_rebind(arg);
}

AQ_TEST(conn_nat_rebinding_mid_transfer) {
  /* The client sits behind a port-restricted NAT that rebinds (new external port) mid-transfer:
   * the server follows the client to the new address after validating it (RFC 9000 §9.3). */
  aq_simq_pair p;
  memset(&p, 0, sizeof(p));
  p.sim = aq_sim_new(77);
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS, .rate_bps = 20000000};
  aq_addr ext = aq_sim_ip4(203, 0, 113, 1, 0);
  aq_sim_nat_config nc = aq_sim_nat_config_default(AQ_SIM_NAT_PORT_RESTRICTED);
  aq_sim_nat *nat = aq_sim_nat_add(p.sim, "nat", NULL, &ext, &nc, &lp, &lp);
  p.caddr = aq_sim_ip4(10, 0, 0, 2, 5000);
  p.saddr = aq_sim_ip4(192, 0, 2, 1, 443);
  p.ch = aq_sim_host_add(p.sim, "client", nat, &p.caddr, NULL, NULL);
  p.sh = aq_sim_host_add(p.sim, "server", NULL, &p.saddr, &lp, &lp);
  aq_simq_init(&p.c, p.sim, p.ch, 0, 0x11);
  aq_simq_init(&p.s, p.sim, p.sh, 1, 0x22);
  p.s.echo = 1;
  aq_simq_pair_start(&p);
  maybe_trace(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  (void)aq_sim_run_for(p.sim, 100 * AQ_MILLISECONDS, 100000); /* HANDSHAKE_DONE */
  aq_path before = *aq_conn_get_path(p.s.conn);
  aq_sim_at(p.sim, aq_sim_now(p.sim) + 200 * AQ_MILLISECONDS, do_rebind, nat);
  aq_duration d = run_xfer(&p, 2, 400000, 30 * AQ_SECONDS);
  CHECK(d < 5 * AQ_SECONDS);
  aq_conn_stats st;
  REQUIRE(p.s.conn != NULL);
  aq_conn_get_stats(p.s.conn, &st);
  CHECK_INT(st.migrations, 1);
  const aq_path *after = aq_conn_get_path(p.s.conn);
  CHECK(aq_addr_eq_ip(&after->remote, &before.remote));
  CHECK(after->remote.port != before.remote.port);
  CHECK(p.s.conn->paths[p.s.conn->active_path].validated);
  aq_simq_pair_free(&p);
}

static void do_new_external_ip(aq_sim *sim, void *arg) {
  (void)sim;
  aq_addr ext2 = aq_sim_ip4(203, 0, 113, 77, 0);
  aq_sim_nat_set_external(arg, &ext2);
}

AQ_TEST(conn_nat_address_change_mid_transfer) {
  /* rebind-addr: the client's NAT gets a new external IP (a new lease) mid-transfer; the
   * server sees another address, validates the path and continues there (RFC 9000 §9.3). */
  aq_simq_pair p;
  memset(&p, 0, sizeof(p));
  p.sim = aq_sim_new(78);
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS, .rate_bps = 20000000};
  aq_addr ext = aq_sim_ip4(203, 0, 113, 1, 0);
  aq_sim_nat_config nc = aq_sim_nat_config_default(AQ_SIM_NAT_PORT_RESTRICTED);
  aq_sim_nat *nat = aq_sim_nat_add(p.sim, "nat", NULL, &ext, &nc, &lp, &lp);
  p.caddr = aq_sim_ip4(10, 0, 0, 2, 5000);
  p.saddr = aq_sim_ip4(192, 0, 2, 1, 443);
  p.ch = aq_sim_host_add(p.sim, "client", nat, &p.caddr, NULL, NULL);
  p.sh = aq_sim_host_add(p.sim, "server", NULL, &p.saddr, &lp, &lp);
  aq_simq_init(&p.c, p.sim, p.ch, 0, 0x11);
  aq_simq_init(&p.s, p.sim, p.sh, 1, 0x22);
  p.s.echo = 1;
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  (void)aq_sim_run_for(p.sim, 100 * AQ_MILLISECONDS, 100000); /* HANDSHAKE_DONE */
  aq_path before = *aq_conn_get_path(p.s.conn);
  CHECK(aq_addr_eq_ip(&before.remote, &ext));
  aq_sim_at(p.sim, aq_sim_now(p.sim) + 200 * AQ_MILLISECONDS, do_new_external_ip, nat);
  aq_duration d = run_xfer(&p, 2, 400000, 30 * AQ_SECONDS);
  CHECK(d < 5 * AQ_SECONDS);
  aq_conn_stats st;
  REQUIRE(p.s.conn != NULL);
  aq_conn_get_stats(p.s.conn, &st);
  CHECK_INT(st.migrations, 1);
  const aq_path *after = aq_conn_get_path(p.s.conn);
  aq_addr ext2 = aq_sim_ip4(203, 0, 113, 77, 0);
  CHECK(aq_addr_eq_ip(&after->remote, &ext2));
  CHECK(p.s.conn->paths[p.s.conn->active_path].validated);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_peer_key_pinning) {
  for (int good = 1; good >= 0; good--) {
    aq_simq_pair p;
    aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS};
    aq_simq_pair_init(&p, 130 + (uint64_t)good, &lp);
    uint8_t wrong[64];
    memcpy(wrong, p.s.id.spki, p.s.id.spkilen);
    wrong[p.s.id.spkilen - 1] ^= 1;
    p.c.pin = good ? p.s.id.spki : wrong;
    p.c.pinlen = p.s.id.spkilen;
    p.s.pin = p.c.id.spki; /* the server checks the client's key too (mutual auth) */
    p.s.pinlen = p.c.id.spkilen;
    p.s.set.require_client_auth = 1;
    aq_simq_pair_start(&p);
    aq_sim_result r = aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p);
    CHECK_INT(p.c.verify_calls, 1);
    if (good) {
      CHECK_INT(r, AQ_SIM_DONE);
      CHECK_INT(p.s.verify_calls, 1);
      size_t n;
      const uint8_t *k = aq_conn_peer_spki(p.c.conn, &n);
      REQUIRE(k != NULL);
      CHECK_INT(n, p.s.id.spkilen);
      CHECK_MEM(k, p.s.id.spki, n);
      k = aq_conn_peer_spki(p.s.conn, &n);
      REQUIRE(k != NULL);
      CHECK_MEM(k, p.c.id.spki, p.c.id.spkilen);
    } else {
      CHECK(r != AQ_SIM_DONE);
      CHECK(!p.c.hs_done && !p.s.hs_done);
      CHECK(p.c.closed && !p.c.close.by_peer);
      CHECK_INT(p.c.close.code, 0x100 + 42); /* CRYPTO_ERROR(bad_certificate) */
      CHECK(p.s.closed && p.s.close.by_peer);
      CHECK_INT(p.s.close.code, 0x100 + 42);
      CHECK(p.c.closed_ts - AQ_SIM_ORIGIN < 100 * AQ_MILLISECONDS);
    }
    aq_simq_pair_free(&p);
  }
}

static int upload_done(void *arg) {
  aq_simq_pair *p = arg;
  return p->s.fins_recv >= 1;
}

AQ_TEST(conn_throughput_100mbit) {
  /* 8 MiB one way over 100 Mbit/s, 40 ms RTT, 1 MiB windows: close to line rate after slow start.
   */
  aq_simq_pair p;
  aq_sim_link_params lp = {
      .delay = 10 * AQ_MILLISECONDS, .rate_bps = 100000000, .queue_bytes = 400000};
  aq_simq_pair_init(&p, 140, &lp);
  p.s.echo = 0;
  p.s.set.initial_max_stream_data = 1u << 20;
  p.s.set.initial_max_data = 2u << 20;
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  aq_tstamp t0 = aq_sim_now(p.sim);
  REQUIRE(aq_simq_open(&p.c, 1, 8u << 20, 1) != NULL);
  aq_sim_result r = aq_sim_run(p.sim, 30 * AQ_SECONDS, 10000000, upload_done, &p);
  CHECK_INT(r, AQ_SIM_DONE);
  aq_duration d = aq_sim_now(p.sim) - t0;
  if (getenv("AQ_CONN_DEBUG") != NULL) {
    aq_conn_stats st;
    aq_conn_get_stats(p.c.conn, &st);
    fprintf(stderr, "8 MiB in %.3f s (%.1f Mbit/s), lost %llu, cwnd %llu, srtt %.1f ms\n",
            (double)d / 1e9, 8.0 * 8 * 1048576 / ((double)d / 1e9) / 1e6,
            (unsigned long long)st.pkts_lost, (unsigned long long)st.cwnd, (double)st.srtt / 1e6);
  }
  /* Line rate is 0.67 s of payload; allow slow start and header overhead. */
  CHECK(d < 2 * AQ_SECONDS);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_server_retry_handshake) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 150, &lp);
  p.s.set.retry = 1;
  aq_simq_pair_start(&p);
  maybe_trace(&p);
  aq_sim_result r = aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p);
  CHECK_INT(r, AQ_SIM_DONE);
  /* One extra round trip (40 ms) for the Retry. */
  CHECK_INT(p.c.hs_done_ts - AQ_SIM_ORIGIN, 80 * AQ_MILLISECONDS);
  CHECK_INT(p.s.hs_done_ts - AQ_SIM_ORIGIN, 100 * AQ_MILLISECONDS);
  REQUIRE(p.c.conn != NULL && p.s.conn != NULL);
  CHECK(p.c.conn->got_retry);
  CHECK(p.s.conn->got_retry);
  CHECK(p.s.conn->addr_validated);
  /* Both Retry-related transport parameters were checked by the client. */
  CHECK(aq_cid_eq(&p.c.conn->peer_tp.retry_scid, &p.c.conn->retry_scid));
  CHECK(aq_cid_eq(&p.c.conn->peer_tp.original_dcid, &p.c.conn->odcid));
  aq_duration d = run_xfer(&p, 1, 100000, 10 * AQ_SECONDS);
  CHECK(d < 2 * AQ_SECONDS);
  aq_simq_pair_free(&p);
}

/* An extension like address discovery: a transport parameter and a frame type. */
typedef struct ext_state {
  int sent;
  int got_frames;
  aq_addr got_addr;
  int peer_tp_seen;
  uint8_t peer_tp_val;
} ext_state;

static const uint64_t obs_types[] = {AQ_FT_OBSERVED_ADDRESS_V4, AQ_FT_OBSERVED_ADDRESS_V6};
static const uint8_t ad_value[1] = {AQ_TP_AD_BOTH};

static int ext_on_frame(void *ctx, aq_conn *conn, const aq_frame *f, unsigned path_idx,
                        aq_tstamp ts) {
  (void)conn;
  (void)ts;
  ext_state *e = ctx;
  if (path_idx != 0) {
    return AQ_ERR_PROTO;
  }
  e->got_frames++;
  e->got_addr = f->u.addr.addr;
  return 0;
}

static int ext_on_tp(void *ctx, aq_conn *conn, const uint8_t *v, size_t len) {
  (void)conn;
  ext_state *e = ctx;
  e->peer_tp_seen = v != NULL && len == 1;
  e->peer_tp_val = e->peer_tp_seen ? v[0] : 0xff;
  return 0;
}

static int ext_write(void *ctx, aq_conn *conn, unsigned path_idx, aq_wbuf *w, aq_tstamp ts) {
  (void)ts;
  ext_state *e = ctx;
  if (e->sent) {
    return 0;
  }
  aq_frame f;
  memset(&f, 0, sizeof(f));
  f.type = AQ_FT_OBSERVED_ADDRESS_V4;
  f.u.addr.seq = 1;
  f.u.addr.addr = conn->paths[path_idx].addr.remote; /* what we observe of the peer */
  size_t n = aq_frame_encoded_len(&f);
  if (n == 0 || n > aq_wbuf_left(w) || aq_frame_encode(w, &f) != 0) {
    return 0;
  }
  e->sent = 1;
  return 0;
}

static const aq_conn_ext_ops obs_ext = {.name = "address discovery",
                                        .frame_types = obs_types,
                                        .nframe_types = 2,
                                        .tp_id = AQ_TP_ADDRESS_DISCOVERY,
                                        .on_frame = ext_on_frame,
                                        .on_peer_tp = ext_on_tp,
                                        .write_frames = ext_write};
static ext_state ext_s, ext_c;

static void add_obs_ext(aq_simq *q, aq_conn *conn) {
  if (aq_conn_ext_register(conn, &obs_ext, &ext_s, ad_value, 1) != 0) {
    q->io_err = 1;
  }
}

AQ_TEST(conn_extension_hook) {
  memset(&ext_s, 0, sizeof(ext_s));
  memset(&ext_c, 0, sizeof(ext_c));
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 160, &lp);
  p.s.new_conn_hook = add_obs_ext;
  aq_simq_pair_start(&p);
  /* Client: register before its first write. */
  REQUIRE(aq_conn_ext_register(p.c.conn, &obs_ext, &ext_c, ad_value, 1) == 0);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  (void)aq_sim_run_for(p.sim, 200 * AQ_MILLISECONDS, 100000);
  /* Registering after the handshake started is refused. */
  CHECK_INT(aq_conn_ext_register(p.c.conn, &obs_ext, &ext_c, ad_value, 1), AQ_ERR_STATE);
  CHECK(ext_s.peer_tp_seen && ext_c.peer_tp_seen);
  CHECK_INT(ext_s.peer_tp_val, AQ_TP_AD_BOTH);
  CHECK(ext_s.sent && ext_c.sent);
  CHECK_INT(ext_s.got_frames, 1);
  CHECK_INT(ext_c.got_frames, 1);
  /* The server saw the client's address, and told the client; the client told the server. */
  CHECK(aq_addr_eq(&ext_c.got_addr, &p.caddr));
  CHECK(aq_addr_eq(&ext_s.got_addr, &p.saddr));
  CHECK(!p.c.closed && !p.s.closed);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_extension_frame_unclaimed) {
  /* Without the extension, the peer's OBSERVED_ADDRESS is an unknown frame: FRAME_ENCODING_ERROR.
   */
  memset(&ext_c, 0, sizeof(ext_c));
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 161, &lp);
  aq_simq_pair_start(&p);
  REQUIRE(aq_conn_ext_register(p.c.conn, &obs_ext, &ext_c, ad_value, 1) == 0);
  (void)aq_sim_run_for(p.sim, 500 * AQ_MILLISECONDS, 100000);
  CHECK(ext_c.sent);
  CHECK(p.s.closed && !p.s.close.by_peer);
  CHECK_INT(p.s.close.code, AQ_QERR_FRAME_ENCODING_ERROR);
  CHECK(p.c.closed && p.c.close.by_peer);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_server_restart_stateless_reset) {
  static const uint8_t key[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 170, &lp);
  p.s.set.static_key = key;
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  (void)aq_sim_run_for(p.sim, 100 * AQ_MILLISECONDS, 100000);
  /* The server "restarts": all connection state is gone, the key is the same. */
  aq_simq_free(&p.s);
  aq_simq_init(&p.s, p.sim, p.sh, 1, 0x22);
  p.s.set.static_key = key;
  aq_simq_start(&p.s);
  maybe_trace(&p);
  aq_tstamp t0 = aq_sim_now(p.sim);
  REQUIRE(aq_simq_open(&p.c, 1, 1000, 1) != NULL);
  aq_sim_result rr = aq_sim_run_for(p.sim, AQ_SECONDS, 100000);
  if (getenv("AQ_CONN_DEBUG") != NULL) {
    fprintf(stderr, "rr=%d conn=%p closed=%d sent=%llu\n", (int)rr, (void *)p.c.conn, p.c.closed,
            (unsigned long long)aq_sim_host_stats_of(p.ch)->sent);
  }
  /* The client learns at once (one RTT), not after its idle timeout. */
  CHECK(p.c.closed);
  CHECK(p.c.close.by_peer);
  CHECK_INT(p.c.close.err, AQ_ERR_CLOSED);
  CHECK(p.c.closed_ts - t0 <= 25 * AQ_MILLISECONDS);
  CHECK_INT(aq_ep_conn_count(p.s.ep), 0);
  aq_simq_pair_free(&p);
}
