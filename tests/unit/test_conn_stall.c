/*
 * test_conn_stall.c - bulk transfers must not stall: regression tests for
 * loss-recovery stalls found in the simulator (each names its root cause),
 * and a table-driven grid of transfers over many link settings and seeds,
 * each bounded by a multiple of the link's ideal transfer time, with every
 * byte checked and bytes in flight back at 0 when everything is acked.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"
#include "aq_mem.h"
#include "quic/aq_cc.h"
#include "quic/aq_rtb.h"

#define STALL_MAXS 8
#define MS AQ_MILLISECONDS

typedef struct stall_run {
  aq_simq_pair *p;
  size_t n;
  int echo;
  uint64_t bytes;
  aq_simq_stream *cs[STALL_MAXS];
} stall_run;

/** aq_sim_run predicate: every stream completed (echo: back at the client). */
static int stall_done(void *arg) {
  stall_run *x = arg;
  for (size_t i = 0; i < x->n; i++) {
    if (x->cs[i] == NULL) {
      return 0;
    }
    if (x->echo) {
      if (!x->cs[i]->fin_recvd) {
        return 0;
      }
    } else {
      aq_simq_stream *ss = aq_simq_stream_of(&x->p->s, x->cs[i]->id);
      if (!ss->fin_recvd) {
        return 0;
      }
    }
  }
  return 1;
}

/** aq_sim_run predicate: nothing in flight on either side. */
static int stall_idle(void *arg) {
  aq_simq_pair *p = arg;
  return aq_recov_bytes_in_flight(&p->c.conn->recov) == 0 &&
         aq_recov_bytes_in_flight(&p->s.conn->recov) == 0;
}

/**
 * Handshake, then n bidi streams of bytes each from the client (echoed by
 * the server if echo).  Checks every byte; returns the simulated duration
 * of the transfer (UINT64_MAX if it did not finish within max_time).
 */
static aq_duration stall_xfer(aq_simq_pair *p, size_t n, uint64_t bytes, int echo,
                              aq_duration max_time) {
  stall_run x;
  memset(&x, 0, sizeof(x));
  x.p = p;
  x.n = n;
  x.echo = echo;
  x.bytes = bytes;
  if (getenv("AQ_CONN_TRACE") != NULL) {
    aq_sim_set_trace(p->sim, stderr);
  }
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
  r = aq_sim_run(p->sim, max_time, 50000000, stall_done, &x);
  CHECK_INT(r, AQ_SIM_DONE);
  for (size_t i = 0; i < n; i++) {
    aq_simq_stream *cs = x.cs[i];
    aq_simq_stream *ss = aq_simq_stream_of(&p->s, cs->id);
    CHECK_INT(ss->recvd, bytes);
    CHECK(ss->fin_recvd);
    CHECK(!ss->bad);
    if (echo) {
      CHECK_INT(cs->recvd, bytes);
      CHECK(!cs->bad);
    }
  }
  CHECK(!p->c.io_err && !p->s.io_err);
  CHECK(!p->c.closed && !p->s.closed);
  return r == AQ_SIM_DONE ? aq_sim_now(p->sim) - t0 : UINT64_MAX;
}

static void stall_debug(const char *what, aq_simq_pair *p, aq_duration d) {
  if (getenv("AQ_CONN_DEBUG") == NULL) {
    return;
  }
  aq_conn_stats cst, sst;
  memset(&cst, 0, sizeof(cst));
  memset(&sst, 0, sizeof(sst));
  if (p->c.conn != NULL) {
    aq_conn_get_stats(p->c.conn, &cst);
  }
  if (p->s.conn != NULL) {
    aq_conn_get_stats(p->s.conn, &sst);
  }
  fprintf(stderr,
          "%s: %.3f s; client sent %llu pkts lost %llu cwnd %llu; server sent %llu lost %llu "
          "cwnd %llu; srtt %.1f ms\n",
          what, d == UINT64_MAX ? -1.0 : (double)d / 1e9, (unsigned long long)cst.pkts_sent,
          (unsigned long long)cst.pkts_lost, (unsigned long long)cst.cwnd,
          (unsigned long long)sst.pkts_sent, (unsigned long long)sst.pkts_lost,
          (unsigned long long)sst.cwnd, (double)cst.srtt / 1e6);
}

/*
 * The reported stall: a 2 MB echo over 10 Mbit/s, 5 ms one-way, a 50 kB
 * bottleneck queue, seed 605, stopped at ~274 KB and ended on the idle
 * timeout.  It does not reproduce on this code base (1.8 s, before the
 * fixes below too), nor in the variants tried (NewReno, one way, 1452-byte
 * datagrams, small windows, 2-10 ms links, 15-100 kB queues): kept as a
 * guard for the reported setting.
 */
AQ_TEST(conn_stall_echo_tail_drop_seed605) {
  aq_simq_pair p;
  aq_sim_link_params lp = {
      .delay = 5 * AQ_MILLISECONDS, .rate_bps = 10000000, .queue_bytes = 50000};
  aq_simq_pair_init(&p, 605, &lp);
  aq_simq_pair_start(&p);
  aq_duration d = stall_xfer(&p, 1, 2000000, 1, 30 * AQ_SECONDS);
  stall_debug("seed605", &p, d);
  /* 2 MB each way at 10 Mbit/s is 1.6 s of payload. */
  CHECK(d < 5 * AQ_SECONDS);
  /* Everything acknowledged in the end: nothing left in flight. */
  REQUIRE(p.c.conn != NULL && p.s.conn != NULL);
  CHECK_INT(aq_sim_run(p.sim, 5 * AQ_SECONDS, 1000000, stall_idle, &p), AQ_SIM_DONE);
  aq_simq_pair_free(&p);
}

/*
 * Root cause 1: reordering taken for loss.  10% of datagrams get 5 ms extra
* delay on a 10 Mbit/s path of two 10 ms links: each is overtaken by ~5
 * others, so the fixed packet threshold (3) and the 9/8 RTT time threshold
 * declared it lost, and the ACK that arrived a few ms later was ignored.
 * Every RTT saw a "loss": cwnd stayed near the minimum and 4 x 500 KB took
 * more than 8.5 s (1.6 s of payload).  Now a late ACK of a lost packet
 * raises the thresholds (RFC 9002 §6.1.1/§6.1.2 adaptive thresholds).
 *
 * Root cause 2: the congestion events of those first spurious losses still
 * cut the window (CUBIC to 0.7, out of slow start) and were never undone:
 * 3.3 s.  Now an event whose every loss is acknowledged late is undone
 * (aq_cc_undo restores the window, ssthresh and CUBIC state): 1.77 s.
 */
AQ_TEST(conn_stall_reorder_spurious_loss) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS,
                           .rate_bps = 10000000,
                           .queue_bytes = 25000,
                           .reorder_pct = 10,
                           .reorder_delay = 5 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 8, &lp);
  p.s.echo = 0;
  aq_simq_pair_start(&p);
  aq_duration d = stall_xfer(&p, 4, 500000, 0, 30 * AQ_SECONDS);
  stall_debug("reorder", &p, d);
  /* Without reordering it takes 1.73 s; with the thresholds alone 3.3 s
   * (the early spurious losses still cut the window: see root cause 2). */
  CHECK(d < 2500 * AQ_MILLISECONDS);
  REQUIRE(p.c.conn != NULL);
  /* The late ACKs were noticed and the packet threshold rose above 3. */
  CHECK(p.c.conn->recov.spurious_losses > 0);
  CHECK(p.c.conn->recov.pkt_thresh > AQ_PACKET_THRESHOLD);
  CHECK(p.c.conn->recov.pkt_thresh <= AQ_PACKET_THRESHOLD_MAX);
  /* Root cause 2: window reductions caused only by reordering were kept. */
  CHECK(p.c.conn->recov.cc_undos > 0);
  aq_simq_pair_free(&p);
}

/*
 * Root cause 3: the window grew while flow control, not the window, limited
 * sending.  aq_cc_set_app_limited existed but the connection never called
 * it, so every ACK grew cwnd: a 2 MB upload through 64 KB stream windows
 * over 100 Mbit/s left cwnd at ~2 MB with ~64 KB ever in flight.  When
 * eight more streams then opened, each with fresh credit, the sender
 * dumped ~0.5 MB at once into a 50 KB bottleneck queue (pacing at
 * 1.25 cwnd / srtt does not help with an inflated cwnd): a burst of tail
 * drops.  Now the transmit path marks the sender application-limited when
 * the window and the pacer allowed a packet and none went out (RFC 9002
 * §7.8), and the window only grows while it is the limit.
 */
AQ_TEST(conn_stall_flow_limited_cwnd_inflation) {
  aq_simq_pair p;
  aq_sim_link_params lp = {
      .delay = 5 * AQ_MILLISECONDS, .rate_bps = 100000000, .queue_bytes = 50000};
  aq_simq_pair_init(&p, 31, &lp);
  p.s.echo = 0;
  p.s.set.initial_max_stream_data = 65536;
  p.s.set.max_stream_window = 65536; /* no auto-tuning past 64 KB per stream */
  aq_simq_pair_start(&p);
  aq_duration d = stall_xfer(&p, 1, 2000000, 0, 30 * AQ_SECONDS);
  REQUIRE(p.c.conn != NULL);
  aq_conn_stats st0;
  aq_conn_get_stats(p.c.conn, &st0);
  stall_debug("flow-limited phase", &p, d);
  /* ~64 KB in flight at most: the window stays within a few times that. */
  CHECK(aq_cc_cwnd(&p.c.conn->cc) < 256u * 1024);
  stall_run x;
  memset(&x, 0, sizeof(x));
  x.p = &p;
  x.n = 8;
  for (size_t i = 0; i < x.n; i++) {
    x.cs[i] = aq_simq_open(&p.c, 1, 256000, 1);
    REQUIRE(x.cs[i] != NULL);
  }
  aq_tstamp t1 = aq_sim_now(p.sim);
  CHECK_INT(aq_sim_run(p.sim, 30 * AQ_SECONDS, 50000000, stall_done, &x), AQ_SIM_DONE);
  aq_conn_stats st1;
  aq_conn_get_stats(p.c.conn, &st1);
  stall_debug("burst phase", &p, aq_sim_now(p.sim) - t1);
  for (size_t i = 0; i < x.n; i++) {
    aq_simq_stream *ss = aq_simq_stream_of(&p.s, x.cs[i]->id);
    CHECK_INT(ss->recvd, 256000);
    CHECK(!ss->bad);
  }
  /* Slow start overshoot only (166 lost here), not a dump of all the credit
   * at once (1072 lost with the inflated window). */
  CHECK(st1.pkts_lost - st0.pkts_lost < 400);
  aq_simq_pair_free(&p);
}

/* ------------------------------------------------ unit level: aq_recov */

static int stall_nop_cb(void *ud, unsigned space, const aq_sent_pkt *p, aq_rtb_event ev) {
  unsigned *nlost = ud;
  (void)space;
  (void)p;
  *nlost += ev == AQ_RTB_LOST;
  return 0;
}

static int stall_ack(aq_recov *r, uint64_t start, uint64_t end, aq_tstamp ts) {
  aq_range g = {start, end};
  aq_ack_in a;
  memset(&a, 0, sizeof(a));
  a.largest = end - 1;
  a.ranges = &g;
  a.nranges = 1;
  return aq_recov_on_ack(r, AQ_PN_SPACE_APP, &a, ts);
}

/*
 * Packets 0..9 sent; 4..9 acknowledged first (0..3 lost by the packet
 * threshold: a CUBIC reduction), then 0..3 late: the losses were spurious,
 * the reduction is undone, the packet threshold becomes 10 (pn 0 was
 * declared lost with 9 acknowledged) and bytes in flight end at 0.  A
 * second round where only some late packets arrive keeps the reduction.
 */
AQ_TEST(conn_stall_recov_spurious_undo) {
  for (int all_late = 1; all_late >= 0; all_late--) {
    aq_cc cc;
    aq_recov r;
    unsigned nlost = 0;
    aq_cc_init(&cc, &aq_cc_cubic, 1200);
    size_t caps[3] = {16, 16, 64};
    REQUIRE(aq_recov_init(&r, aq_mem_default(), caps, 0, &cc, stall_nop_cb, &nlost) == 0);
    aq_recov_set_handshake_confirmed(&r, AQ_SIM_ORIGIN);
    aq_tstamp t = AQ_SIM_ORIGIN;
    for (uint64_t pn = 0; pn < 10; pn++) {
      REQUIRE(aq_recov_on_sent(&r, AQ_PN_SPACE_APP, pn, 1200,
                               AQ_SENT_ACK_ELICITING | AQ_SENT_IN_FLIGHT, pn, t + pn * MS) == 0);
    }
    CHECK_INT(aq_recov_bytes_in_flight(&r), 12000);
    uint64_t cwnd0 = aq_cc_cwnd(&cc);
    REQUIRE(stall_ack(&r, 4, 10, t + 40 * MS) == 0);
    CHECK_INT(nlost, 4);
    CHECK(aq_cc_cwnd(&cc) < cwnd0); /* reduced */
    CHECK(cc.ssthresh != UINT64_MAX);
    CHECK_INT(aq_recov_bytes_in_flight(&r), 0);
    CHECK_INT(r.spurious_losses, 0);
    if (all_late) {
      REQUIRE(stall_ack(&r, 0, 4, t + 45 * MS) == 0);
      CHECK_INT(r.spurious_losses, 4);
      CHECK_INT(r.cc_undos, 1);
      CHECK_INT(aq_cc_cwnd(&cc), cwnd0);
      CHECK(cc.ssthresh == UINT64_MAX); /* back in slow start */
      CHECK_INT(r.pkt_thresh, 10);
      CHECK(r.time_thresh_8th >= AQ_TIME_THRESHOLD_8THS);
      CHECK(r.time_thresh_8th <= AQ_TIME_THRESHOLD_8THS_MAX);
      /* A repeated late ACK counts nothing twice. */
      REQUIRE(stall_ack(&r, 0, 4, t + 46 * MS) == 0);
      CHECK_INT(r.spurious_losses, 4);
      CHECK_INT(r.cc_undos, 1);
    } else {
      REQUIRE(stall_ack(&r, 1, 4, t + 45 * MS) == 0); /* pn 0 really lost */
      CHECK_INT(r.spurious_losses, 3);
      CHECK_INT(r.cc_undos, 0);
      CHECK(aq_cc_cwnd(&cc) < cwnd0);
    }
    CHECK_INT(aq_recov_bytes_in_flight(&r), 0);
    /* With the raised threshold, a packet 5 behind the largest acked is not lost yet. */
    if (all_late) {
      unsigned before = nlost;
      for (uint64_t pn = 10; pn < 20; pn++) {
        REQUIRE(aq_recov_on_sent(&r, AQ_PN_SPACE_APP, pn, 1200,
                                 AQ_SENT_ACK_ELICITING | AQ_SENT_IN_FLIGHT, pn, t + 50 * MS) == 0);
      }
      REQUIRE(stall_ack(&r, 11, 16, t + 60 * MS) == 0);
      CHECK_INT(nlost, before);
      CHECK_INT(aq_recov_bytes_in_flight(&r), 5 * 1200);
    }
    aq_recov_free(&r);
  }
}

/*
 * Lost records kept for spurious-loss detection must not fill the ring:
 * the connection stops sending in a space whose ring is full, and with
 * nothing left in flight no ACK or timer would come to reap them.  A ring
 * of 16 with packet 0 lost and 1..15 acknowledged is emptied (at least
 * half full: the lost record is not kept).
 */
AQ_TEST(conn_stall_recov_lost_records_never_fill_ring) {
  aq_cc cc;
  aq_recov r;
  unsigned nlost = 0;
  aq_cc_init(&cc, &aq_cc_cubic, 1200);
  size_t caps[3] = {16, 16, 16};
  REQUIRE(aq_recov_init(&r, aq_mem_default(), caps, 0, &cc, stall_nop_cb, &nlost) == 0);
  aq_recov_set_handshake_confirmed(&r, AQ_SIM_ORIGIN);
  aq_tstamp t = AQ_SIM_ORIGIN;
  for (uint64_t pn = 0; pn < 16; pn++) {
    REQUIRE(aq_recov_on_sent(&r, AQ_PN_SPACE_APP, pn, 1200,
                             AQ_SENT_ACK_ELICITING | AQ_SENT_IN_FLIGHT, pn, t + pn * MS) == 0);
  }
  CHECK_INT(r.sp[AQ_PN_SPACE_APP].len, 16);
  REQUIRE(stall_ack(&r, 1, 16, t + 40 * MS) == 0);
  CHECK_INT(nlost, 1);
  CHECK(!aq_rtb_full(&r.sp[AQ_PN_SPACE_APP]));
  CHECK_INT(aq_recov_bytes_in_flight(&r), 0);
  /* A small ring use keeps the lost record (pn 16 lost, 17..19 acked). */
  for (uint64_t pn = 16; pn < 20; pn++) {
    REQUIRE(aq_recov_on_sent(&r, AQ_PN_SPACE_APP, pn, 1200,
                             AQ_SENT_ACK_ELICITING | AQ_SENT_IN_FLIGHT, pn, t + 50 * MS) == 0);
  }
  REQUIRE(stall_ack(&r, 17, 20, t + 90 * MS) == 0);
  CHECK_INT(nlost, 2);
  CHECK_INT(r.sp[AQ_PN_SPACE_APP].len, 4);
  REQUIRE(stall_ack(&r, 16, 17, t + 91 * MS) == 0);
  CHECK_INT(r.spurious_losses, 1);
  CHECK_INT(r.sp[AQ_PN_SPACE_APP].len, 0);
  aq_recov_free(&r);
}

/* ================================================================ grid */

/** One transfer setting of the grid (both directions get the same link). */
typedef struct stall_case {
  uint64_t rate_bps;
  aq_duration delay;     /* one way, client to server (two links of delay / 2 each) */
  uint32_t queue_pct;    /* bottleneck queue in % of the bandwidth-delay product (0 = none) */
  double loss_pct;       /* random loss, each direction */
  double reorder_pct;    /* chance of reorder_delay = delay / 2 extra */
  aq_duration blackout;  /* both directions dead this long, 0.3 s into the transfer */
  int echo;              /* server echoes (else one way, client to server) */
  unsigned nstreams;
  uint64_t bytes;        /* per stream */
  uint64_t win;          /* receive windows (stream; connection 3x), no auto-tuning; 0 = default */
} stall_case;

typedef struct stall_probe {
  aq_simq_pair *p;
  int stop;
  int bad_bif; /* bytes in flight underflowed or exceeded the ring's capacity */
} stall_probe;

/* Bytes in flight can never exceed this (the App ring holds 4096 packets). */
#define STALL_BIF_MAX ((uint64_t)AQ_RTB_CAP_APP * 65536u)

/** Periodic check that neither side's bytes in flight wrapped around. */
static void stall_probe_tick(aq_sim *sim, void *arg) {
  stall_probe *pr = arg;
  if (pr->stop) {
    return;
  }
  aq_conn *cs[2] = {pr->p->c.conn, pr->p->s.conn};
  for (int i = 0; i < 2; i++) {
    if (cs[i] != NULL && aq_recov_bytes_in_flight(&cs[i]->recov) > STALL_BIF_MAX) {
      pr->bad_bif = 1;
    }
  }
  if (getenv("AQ_STALL_TRACE") != NULL && cs[0] != NULL && cs[1] != NULL) {
    for (int i = 0; i < 2; i++) {
      aq_conn *k = cs[i];
      fprintf(stderr, "%s t=%.3f cwnd %llu ssth %llu bif %llu pto %u srtt %.1f thr %u/%u lost %llu sent %llu\n",
              i ? "S" : "C", (double)(aq_sim_now(sim) - AQ_SIM_ORIGIN) / 1e9,
              (unsigned long long)k->cc.cwnd, (unsigned long long)(k->cc.ssthresh == UINT64_MAX ? 0 : k->cc.ssthresh),
              (unsigned long long)aq_recov_bytes_in_flight(&k->recov), k->recov.pto_count,
              (double)k->recov.rtt.smoothed / 1e6, k->recov.pkt_thresh, k->recov.time_thresh_8th,
              (unsigned long long)k->stats.pkts_lost, (unsigned long long)k->stats.pkts_sent);
    }
  }
  aq_sim_at(sim, aq_sim_now(sim) + 5 * AQ_MILLISECONDS, stall_probe_tick, pr);
}

/**
 * The time a transfer of c needs at best, ns: the payload at line rate or,
 * with random loss, at the loss-limited rate of a Reno-like flow (Mathis:
 * 1.22 MSS / (RTT sqrt(p)), p the path's loss rate), or at the receive
 * windows' rate (win per stream, 3 win per connection, per RTT), whichever
 * is slowest; plus one RTT, plus the
 * slow start rounds to reach the bandwidth-delay product (or to send
 * everything) from the 12,000-byte initial window, plus any blackout.
 */
static double stall_ideal_ns(const stall_case *c) {
  double bytes = (double)c->bytes * c->nstreams;
  double rtt = 2.0 * (double)c->delay / 1e9;
  double t = bytes * 8.0 / (double)c->rate_bps;
  if (c->loss_pct > 0) {
    /* The path crosses two links with loss_pct each. */
    double q = 1.0 - c->loss_pct / 100.0;
    double mathis = 1200.0 / rtt * 1.22 / sqrt(1.0 - q * q); /* bytes/s */
    double tl = bytes / mathis;
    t = tl > t ? tl : t;
  }
  if (c->win != 0) {
    /* At most the open windows per RTT. */
    double w = (double)c->win * (c->nstreams < 3 ? c->nstreams : 3);
    double tw = bytes / (w / rtt);
    t = tw > t ? tw : t;
  }
  double bdp = (double)c->rate_bps / 8.0 * rtt;
  double ss = bytes < bdp ? bytes : bdp;
  double rounds = ceil(log2(ss / 12000.0 + 1.0));
  return (t + rtt * (1.0 + rounds)) * 1e9 + (double)c->blackout;
}

/** The allowed transfer time: 4x the ideal + 2 s. */
static aq_duration stall_bound(const stall_case *c) {
  return (aq_duration)(4.0 * stall_ideal_ns(c)) + 2 * AQ_SECONDS;
}

/**
 * Run c with seed: transfer, check every byte, completion within the bound,
 * bytes in flight sane throughout and 0 on both sides once everything is
 * acknowledged.  Returns the ratio of the time taken to the ideal time
 * (a large value on failure).
 */
static double stall_case_run(const stall_case *c, uint64_t seed, int verbose) {
  aq_simq_pair p;
  aq_sim_link_params lp;
  memset(&lp, 0, sizeof(lp));
  /* A pair's path is the client's uplink then the server's downlink. */
  lp.delay = c->delay / 2;
  lp.rate_bps = c->rate_bps;
  double bdp = (double)c->rate_bps / 8.0 * 2.0 * (double)c->delay / 1e9;
  if (c->queue_pct != 0) {
    double q = bdp * c->queue_pct / 100.0;
    lp.queue_bytes = q < 6000 ? 6000 : (size_t)q;
  }
  lp.loss_pct = c->loss_pct;
  lp.reorder_pct = c->reorder_pct;
  lp.reorder_delay = c->delay / 2;
  aq_simq_pair_init(&p, seed, &lp);
  p.s.echo = c->echo;
  if (c->win != 0) {
    aq_simq *qs[2] = {&p.c, &p.s};
    for (int i = 0; i < 2; i++) {
      qs[i]->set.initial_max_stream_data = qs[i]->set.max_stream_window = c->win;
      qs[i]->set.initial_max_data = qs[i]->set.max_conn_window = 3 * c->win;
    }
  }
  aq_simq_pair_start(&p);
  if (aq_sim_run(p.sim, 30 * AQ_SECONDS, 1000000, aq_simq_pair_hs_done, &p) != AQ_SIM_DONE) {
    CHECK(!"handshake did not complete");
    aq_simq_pair_free(&p);
    return 1e9;
  }
  aq_tstamp t0 = aq_sim_now(p.sim);
  if (c->blackout != 0) {
    aq_sim_link *links[4] = {aq_sim_host_uplink(p.ch), aq_sim_host_downlink(p.ch),
                             aq_sim_host_uplink(p.sh), aq_sim_host_downlink(p.sh)};
    for (int i = 0; i < 4; i++) {
      aq_sim_link_params *l = aq_sim_link_params_of(links[i]);
      l->blackout[0].start = t0 + 300 * AQ_MILLISECONDS;
      l->blackout[0].end = t0 + 300 * AQ_MILLISECONDS + c->blackout;
    }
  }
  stall_probe pr = {&p, 0, 0};
  aq_sim_at(p.sim, t0, stall_probe_tick, &pr);
  stall_run x;
  memset(&x, 0, sizeof(x));
  x.p = &p;
  x.n = c->nstreams;
  x.echo = c->echo;
  x.bytes = c->bytes;
  for (size_t i = 0; i < x.n; i++) {
    x.cs[i] = aq_simq_open(&p.c, 1, c->bytes, 1);
    CHECK(x.cs[i] != NULL);
  }
  aq_duration bound = stall_bound(c);
  aq_sim_result r = aq_sim_run(p.sim, bound, 100000000, stall_done, &x);
  aq_duration d = aq_sim_now(p.sim) - t0;
  double ratio = r == AQ_SIM_DONE ? (double)d / stall_ideal_ns(c) : 1e9;
  int ok = r == AQ_SIM_DONE;
  for (size_t i = 0; i < x.n; i++) {
    aq_simq_stream *ss = aq_simq_stream_of(&p.s, x.cs[i]->id);
    ok &= ss->recvd == c->bytes && ss->fin_recvd && !ss->bad;
    if (c->echo) {
      ok &= x.cs[i]->recvd == c->bytes && x.cs[i]->fin_recvd && !x.cs[i]->bad;
    }
  }
  ok &= !p.c.io_err && !p.s.io_err && !p.c.closed && !p.s.closed;
  /* Let the last ACKs arrive (after any blackout, retransmitted by PTO):
   * then nothing may be left in flight on either side. */
  int bif_ok = !pr.bad_bif;
  if (ok && p.c.conn != NULL && p.s.conn != NULL) {
    bif_ok &= aq_sim_run(p.sim, 10 * AQ_SECONDS + c->blackout, 10000000, stall_idle, &p) ==
              AQ_SIM_DONE;
    bif_ok &= !pr.bad_bif;
  }
  pr.stop = 1;
  if (!ok || !bif_ok || verbose) {
    fprintf(stderr,
            "%s seed %llu: %.0f Mbit/s %.0f ms queue %u%% loss %.1f%% reorder %.0f%% blackout "
            "%.1f s %s %u x %llu B win %llu: %s in %.3f s, ideal %.3f s, ratio %.2f%s\n",
            ok && bif_ok ? "   " : "BAD", (unsigned long long)seed, (double)c->rate_bps / 1e6,
            (double)c->delay / 1e6, c->queue_pct, c->loss_pct, c->reorder_pct,
            (double)c->blackout / 1e9, c->echo ? "echo" : "oneway", c->nstreams,
            (unsigned long long)c->bytes, (unsigned long long)c->win, ok ? "done" : "NOT DONE", (double)d / 1e9,
            stall_ideal_ns(c) / 1e9, ratio, bif_ok ? "" : " (bytes in flight wrong)");
    if (!ok || verbose) {
      stall_debug("   ", &p, d);
    }
  }
  CHECK(ok);
  CHECK(bif_ok);
  aq_simq_pair_free(&p);
  return ok && bif_ok ? ratio : 1e9;
}

#define MB 1000000u

/* The CI grid: rate, one-way delay, queue % of BDP, loss %, reorder %, blackout, echo, streams,
 * bytes per stream.  Settings with random loss or reordering run with 3 seeds. */
static const stall_case stall_grid[] = {
    {10000000, 5 * MS, 0, 0, 0, 0, 1, 1, 1 * MB, 0},
    {10000000, 5 * MS, 25, 0, 0, 0, 1, 1, 2 * MB, 0},
    {10000000, 5 * MS, 400, 0, 0, 0, 1, 2, 1 * MB, 0},
    {1000000, 20 * MS, 50, 0, 0, 0, 0, 1, 1 * MB / 4, 0},
    {1000000, 50 * MS, 300, 1, 0, 0, 1, 1, 1 * MB / 8, 0},
    {10000000, 50 * MS, 30, 0, 0, 0, 0, 2, 1 * MB, 0},
    {10000000, 20 * MS, 100, 2, 0, 0, 1, 1, 1 * MB, 0},
    {10000000, 10 * MS, 100, 0, 10, 0, 1, 4, 1 * MB / 4, 0},
    {10000000, 10 * MS, 100, 0, 0, 1 * AQ_SECONDS, 1, 1, 1 * MB, 0},
    {20000000, 1 * MS, 50, 5, 0, 0, 0, 1, 1 * MB, 0},
    {50000000, 20 * MS, 20, 0, 0, 0, 0, 1, 2 * MB, 0},
    {50000000, 5 * MS, 200, 1, 5, 0, 1, 2, 1 * MB / 2, 0},
    {100000000, 10 * MS, 100, 0, 0, 0, 0, 1, 3 * MB, 0},
    {100000000, 50 * MS, 50, 0.5, 0, 0, 0, 1, 1 * MB, 0},
    {100000000, 1 * MS, 0, 0, 5, 500 * MS, 1, 4, 1 * MB / 2, 0},
    {5000000, 100 * MS, 100, 0, 0, 0, 1, 1, 1 * MB / 2, 0},
    {30000000, 100 * MS, 100, 1, 0, 0, 1, 2, 1 * MB / 4, 0},
    {2000000, 30 * MS, 50, 3, 20, 0, 0, 3, 1 * MB / 8, 0},
    {10000000, 20 * MS, 100, 3, 0, 0, 0, 4, 1 * MB / 8, 16384},
    {50000000, 10 * MS, 200, 1, 10, 0, 1, 3, 1 * MB / 4, 65536},
};

AQ_TEST(conn_stall_grid) {
  const uint64_t seeds[] = {1, 605, 9001};
  double worst = 0;
  size_t runs = 0;
  int verbose = getenv("AQ_CONN_DEBUG") != NULL;
  for (size_t i = 0; i < sizeof(stall_grid) / sizeof(stall_grid[0]); i++) {
    /* Without random loss or reordering the seed changes nothing: one run. */
    const stall_case *c = &stall_grid[i];
    size_t nseeds = c->loss_pct > 0 || c->reorder_pct > 0 ? sizeof(seeds) / sizeof(seeds[0]) : 1;
    for (size_t k = 0; k < nseeds; k++) {
      clock_t c0 = clock();
      double ratio = stall_case_run(&stall_grid[i], seeds[k] + i, verbose);
      if (verbose) {
        fprintf(stderr, "  case %zu cpu %.2f s\n", i, (double)(clock() - c0) / CLOCKS_PER_SEC);
      }
      worst = ratio > worst ? ratio : worst;
      runs++;
    }
  }
  if (verbose) {
    fprintf(stderr, "grid: %zu runs, worst ratio to the ideal time %.2f\n", runs, worst);
  }
}

/** A 64-bit LCG step; returns the high bits. */
static uint64_t stall_rng(uint64_t *st) {
  *st = *st * 6364136223846793005u + 1442695040888963407u;
  return *st >> 33;
}

/* Exploration (not in CI unless AQ_STALL_EXPLORE=n): n random settings. */
AQ_TEST(conn_stall_explore) {
  const char *e = getenv("AQ_STALL_EXPLORE");
  const char *one = getenv("AQ_STALL_CASE");
  if (one != NULL) {
    /* "rate_bps,delay_ms,queue_pct,loss_pct,reorder_pct,blackout_ms,echo,streams,bytes,seed[,win]" */
    double v[11] = {0};
    int nv = sscanf(one, "%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3],
                    &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10]);
    if (nv < 10 ||
        v[7] < 1 || v[7] > STALL_MAXS) {
      CHECK(!"bad AQ_STALL_CASE");
      return;
    }
    stall_case c = {(uint64_t)v[0], (aq_duration)(v[1] * 1e6), (uint32_t)v[2], v[3], v[4],
                    (aq_duration)(v[5] * 1e6), (int)v[6], (unsigned)v[7], (uint64_t)v[8],
                    (uint64_t)v[10]};
    (void)stall_case_run(&c, (uint64_t)v[9], 1);
    return;
  }
  /* Default (CI): a few random settings from the fixed seed; AQ_STALL_EXPLORE=n for more. */
  unsigned long n = e != NULL ? strtoul(e, NULL, 0) : 8;
  uint64_t st = getenv("AQ_STALL_EXPLORE_SEED") ? strtoull(getenv("AQ_STALL_EXPLORE_SEED"), NULL, 0)
                                                : 12345;
  static const uint64_t rates[] = {1000000, 5000000, 10000000, 30000000, 100000000};
  static const aq_duration delays[] = {1 * MS, 5 * MS, 20 * MS, 50 * MS, 100 * MS};
  static const uint32_t queues[] = {0, 10, 25, 50, 100, 400};
  static const double losses[] = {0, 0, 0.5, 1, 2, 5};
  static const double reorders[] = {0, 0, 0, 5, 20};
  static const aq_duration blackouts[] = {0, 0, 0, 0, 500 * MS, 2 * AQ_SECONDS};
  static const uint64_t sizes[] = {1 * MB / 4, 1 * MB, 2 * MB, 4 * MB};
  static const uint64_t wins[] = {0, 0, 0, 16384, 65536};
  double worst = 0;
#define PICK(a) (a[stall_rng(&st) % (sizeof(a) / sizeof(a[0]))])
  for (unsigned long i = 0; i < n; i++) {
    stall_case c;
    c.rate_bps = PICK(rates);
    c.delay = PICK(delays);
    c.queue_pct = PICK(queues);
    c.loss_pct = PICK(losses);
    c.reorder_pct = PICK(reorders);
    c.blackout = PICK(blackouts);
    c.echo = (int)(stall_rng(&st) & 1);
    c.nstreams = 1 + (unsigned)(stall_rng(&st) % 4);
    c.bytes = PICK(sizes) / c.nstreams;
    c.win = PICK(wins);
    /* Keep slow links small. */
    double secs = (double)c.bytes * c.nstreams * 8 / (double)c.rate_bps;
    if (secs > 4) {
      c.bytes = (uint64_t)((double)c.bytes * 4 / secs);
    }
    double ratio = stall_case_run(&c, i + 1, 1);
    worst = ratio > worst ? ratio : worst;
  }
#undef PICK
  fprintf(stderr, "explore: %lu runs, worst ratio %.2f\n", n, worst);
}
