/* test_cc.c - NewReno (RFC 9002 App. B), CUBIC (RFC 9438) and the pacer. */
#include <math.h>

#include "aq_test.h"
#include "quic/aq_cc.h"

#define MS AQ_MILLISECONDS
#define US AQ_MICROSECONDS

AQ_TEST(cc_initial_window_table) {
  static const struct {
    uint64_t mdg, iw;
  } t[] = {{1200, 12000}, {1472, 14720}, {1500, 14720}, {2000, 14720}, {9000, 18000}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    CHECK_INT(aq_cc_initial_window(t[i].mdg), t[i].iw);
    aq_cc cc;
    aq_cc_init(&cc, &aq_cc_newreno, t[i].mdg);
    CHECK_INT(aq_cc_cwnd(&cc), t[i].iw);
    CHECK_INT(aq_cc_min_window(t[i].mdg), 2 * t[i].mdg);
  }
}

AQ_TEST(cc_newreno_slow_start_recovery_ca) {
  aq_cc cc;
  aq_rtt rtt;
  aq_rtt_init(&rtt, 0);
  aq_cc_init(&cc, &aq_cc_newreno, 1200);
  CHECK_INT(aq_cc_can_send(&cc, 0), 12000);
  CHECK_INT(aq_cc_can_send(&cc, 11000), 1000);
  CHECK_INT(aq_cc_can_send(&cc, 13000), 0);
  /* Slow start: +acked bytes. */
  aq_cc_on_ack(&cc, 1200, 1 * MS, &rtt, 100 * MS);
  aq_cc_on_ack(&cc, 800, 2 * MS, &rtt, 101 * MS);
  CHECK_INT(cc.cwnd, 14000);
  /* Loss: halve (kLossReductionFactor 0.5), enter recovery at 200 ms. */
  aq_cc_on_loss(&cc, 150 * MS, 200 * MS);
  CHECK_INT(cc.ssthresh, 7000);
  CHECK_INT(cc.cwnd, 7000);
  CHECK(aq_cc_in_recovery(&cc, 200 * MS));
  CHECK(!aq_cc_in_recovery(&cc, 200 * MS + 1));
  /* Packets sent before recovery began neither grow nor reduce again. */
  aq_cc_on_ack(&cc, 1200, 190 * MS, &rtt, 250 * MS);
  aq_cc_on_loss(&cc, 199 * MS, 260 * MS);
  CHECK_INT(cc.cwnd, 7000);
  /* Congestion avoidance: one max_datagram per cwnd of acknowledged bytes. */
  for (int i = 0; i < 5; i++) {
    aq_cc_on_ack(&cc, 1200, 300 * MS, &rtt, 400 * MS);
  }
  CHECK_INT(cc.cwnd, 7000); /* 6000 < 7000 acked so far */
  aq_cc_on_ack(&cc, 1200, 300 * MS, &rtt, 400 * MS);
  CHECK_INT(cc.cwnd, 8200); /* 7200 >= 7000: +1200, 200 carried */
  for (int i = 0; i < 6; i++) {
    aq_cc_on_ack(&cc, 1200, 300 * MS, &rtt, 400 * MS);
  }
  CHECK_INT(cc.cwnd, 8200); /* 200 + 7200 = 7400 < 8200 */
  aq_cc_on_ack(&cc, 1200, 300 * MS, &rtt, 400 * MS);
  CHECK_INT(cc.cwnd, 9400);
  /* A loss of a packet sent after the recovery start reduces again. */
  aq_cc_on_loss(&cc, 300 * MS, 500 * MS);
  CHECK_INT(cc.cwnd, 4700);
  aq_cc_on_loss(&cc, 501 * MS, 600 * MS);
  CHECK_INT(cc.cwnd, 2400); /* 2350 -> kMinimumWindow */
  /* Application-limited: no growth. */
  aq_cc_set_app_limited(&cc, 1);
  aq_cc_on_ack(&cc, 1200, 700 * MS, &rtt, 800 * MS);
  CHECK_INT(cc.cwnd, 2400);
  aq_cc_set_app_limited(&cc, 0);
  /* ECN-CE behaves as a congestion event. */
  aq_cc_on_ack(&cc, 2400, 700 * MS, &rtt, 800 * MS); /* CA: +1200 */
  CHECK_INT(cc.cwnd, 3600);
  aq_cc_on_ecn_ce(&cc, 700 * MS, 900 * MS);
  CHECK_INT(cc.cwnd, 2400);
  /* Persistent congestion collapses to the minimum and ends recovery. */
  aq_cc_init(&cc, &aq_cc_newreno, 1200);
  aq_cc_on_loss(&cc, 10, 20);
  aq_cc_on_persistent_congestion(&cc, 30);
  CHECK_INT(cc.cwnd, 2400);
  CHECK(!aq_cc_in_recovery(&cc, 0));
  aq_cc_on_ack(&cc, 1200, 5, &rtt, 40); /* slow start again below ssthresh 6000 */
  CHECK_INT(cc.cwnd, 3600);
}

/* Drive CUBIC in congestion avoidance with an ACK clock: every ACK covers
 * one 1200-byte packet, ACKs arrive cwnd/1200 per RTT, until time end. */
static aq_tstamp cubic_run(aq_cc *cc, const aq_rtt *rtt, aq_tstamp t, aq_tstamp end) {
  while (t < end) {
    uint64_t pkts = cc->cwnd / 1200;
    t += rtt->smoothed / (pkts ? pkts : 1);
    aq_cc_on_ack(cc, 1200, t - rtt->smoothed, rtt, t);
  }
  return t;
}

static double w_cubic(double t, double k, double wmax) {
  return 0.4 * pow(t - k, 3) + wmax;
}

/* The Reno-friendly estimate after a loss at 100 segments (cwnd 70): +alpha
 * per RTT with alpha = 3(1-0.7)/(1+0.7) until 100, then +1 per RTT. */
static double w_est_model(double t, double rtt_s) {
  double n = t / rtt_s, a = 0.9 / 1.7;
  return n * a <= 30.0 ? 70.0 + n * a : 100.0 + (n - 30.0 / a);
}

AQ_TEST(cc_cubic_loss_and_growth_curve) {
  aq_cc cc;
  aq_rtt rtt;
  aq_rtt_init(&rtt, 0);
  aq_rtt_update(&rtt, 100 * MS, 0, 0, 0, 0);
  aq_cc_init(&cc, &aq_cc_cubic, 1200);
  cc.cwnd = 100 * 1200;
  cc.ssthresh = 50 * 1200; /* already in congestion avoidance */
  aq_tstamp t0 = 1000 * MS;
  aq_cc_on_loss(&cc, t0 - 1, t0);
  /* beta 0.7: 100 -> 70 segments; W_max = 100; K = cbrt(30 / 0.4). */
  CHECK_INT(cc.cwnd, 70 * 1200);
  CHECK_INT(cc.ssthresh, 70 * 1200);
  double k = cbrt(75.0);
  CHECK(fabs(cc.k - k) < 1e-9);
  CHECK(fabs(cc.w_max - 100.0) < 1e-9);
  /* The window follows max(W_cubic(t), W_est(t)): it aims at W_cubic(t +
   * RTT), so it may lead the curve by up to one RTT of growth, and from
   * about 6.5 s to 8 s the Reno-friendly estimate is the larger. */
  const double at[] = {0.5, 1.0, 2.0, 3.0, k, 5.0, 6.0, 7.0, 2 * k};
  aq_tstamp t = t0;
  uint64_t prev = cc.cwnd;
  for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
    t = cubic_run(&cc, &rtt, t, t0 + (aq_tstamp)(at[i] * 1e9));
    double ts = (double)(t - t0) / 1e9;
    double w = (double)cc.cwnd / 1200.0;
    double est = w_est_model(ts, 0.1);
    double lo = fmax(w_cubic(ts, k, 100), est) - 1.5;
    double hi = fmax(w_cubic(ts + 0.1, k, 100), est) + 1.5;
    if (w < lo || w > hi) {
      aq_test_fail(__FILE__, __LINE__, "t=%.3f cwnd=%.2f segs, want [%.2f, %.2f]", ts, w, lo, hi);
    }
    CHECK(cc.cwnd >= prev);
    prev = cc.cwnd;
  }
  /* At t = 2K the curve reaches W_max + C*K^3 = 130 segments. */
  CHECK(fabs((double)cc.cwnd / 1200.0 - 130.0) < 4.0);
}

AQ_TEST(cc_cubic_fast_convergence) {
  aq_cc cc;
  aq_cc_init(&cc, &aq_cc_cubic, 1200);
  cc.cwnd = 100 * 1200;
  cc.ssthresh = 50 * 1200;
  aq_cc_on_loss(&cc, 0, 10);
  CHECK_INT(cc.cwnd, 84000);
  /* A second loss below W_max: W_max = 70 * (1 + 0.7) / 2 = 59.5. */
  aq_cc_on_loss(&cc, 11, 20);
  CHECK(fabs(cc.w_max - 59.5) < 1e-9);
  CHECK_INT(cc.cwnd, 58800); /* 84000 * 0.7 */
  CHECK(fabs(cc.k - cbrt((59.5 - 49.0) / 0.4)) < 1e-9);
  /* Persistent congestion: minimum window, curve forgotten. */
  aq_cc_on_persistent_congestion(&cc, 30);
  CHECK_INT(cc.cwnd, 2400);
  CHECK(!cc.epoch_started);
}

AQ_TEST(cc_cubic_reno_friendly_region) {
  /* With a 1 ms RTT the Reno estimate outgrows the cubic curve: after a loss
   * at 100 segments, W_est climbs by 3(1-b)/(1+b) = 0.529 per RTT up to
   * W_max = 100 (about 57 RTTs), then by 1 per RTT.  After 100 RTTs:
   * about 100 + 43 = 143 segments, while W_cubic(0.1 s) is about 72. */
  aq_cc cc;
  aq_rtt rtt;
  aq_rtt_init(&rtt, 0);
  aq_rtt_update(&rtt, 1 * MS, 0, 0, 0, 0);
  aq_cc_init(&cc, &aq_cc_cubic, 1200);
  cc.cwnd = 100 * 1200;
  cc.ssthresh = 50 * 1200;
  aq_cc_on_loss(&cc, 0, 1 * MS);
  (void)cubic_run(&cc, &rtt, 1 * MS, 101 * MS);
  double w = (double)cc.cwnd / 1200.0;
  if (w < 139.0 || w > 147.0) {
    aq_test_fail(__FILE__, __LINE__, "cwnd %.2f segments, want about 143", w);
  }
  CHECK(w > w_cubic(0.1, cbrt(75.0), 100) + 50);
}

AQ_TEST(cc_cubic_slow_start_then_epoch) {
  aq_cc cc;
  aq_rtt rtt;
  aq_rtt_init(&rtt, 0);
  aq_rtt_update(&rtt, 100 * MS, 0, 0, 0, 0);
  aq_cc_init(&cc, &aq_cc_cubic, 1200);
  aq_cc_on_ack(&cc, 1200, 0, &rtt, 1);
  CHECK_INT(cc.cwnd, 13200); /* slow start */
  cc.ssthresh = 13200;
  aq_cc_on_ack(&cc, 1200, 0, &rtt, 2);
  CHECK(cc.epoch_started);
  CHECK(fabs(cc.w_max - 11.0) < 1e-9);
  CHECK(cc.cwnd >= 13200 && cc.cwnd < 13200 + 1200);
}

AQ_TEST(cc_pacer_spacing) {
  aq_pacer p;
  aq_pacer_init(&p, 1200);
  uint64_t cwnd = 120000;
  aq_duration srtt = 100 * MS;
  /* Rate = 1.25 * 120000 B / 100 ms = 1.5 B/us: one 1200-byte packet per 800 us
   * after a burst of 10. */
  aq_tstamp t = 0;
  for (int i = 0; i < 10; i++) {
    CHECK_INT(aq_pacer_get_expiry(&p, 1200, cwnd, srtt, t), t);
    aq_pacer_on_sent(&p, 1200, cwnd, srtt, t);
  }
  for (int i = 1; i <= 20; i++) {
    aq_tstamp next = aq_pacer_get_expiry(&p, 1200, cwnd, srtt, t);
    long long want = (long long)i * 800 * (long long)US;
    if ((long long)next < want || (long long)next > want + 20) {
      aq_test_fail(__FILE__, __LINE__, "send %d at %llu, want %lld", i, (unsigned long long)next,
                   want);
    }
    t = next;
    aq_pacer_on_sent(&p, 1200, cwnd, srtt, t);
  }
  /* After idling, the bucket holds at most one burst. */
  t += 1 * AQ_SECONDS;
  for (int i = 0; i < 10; i++) {
    CHECK_INT(aq_pacer_get_expiry(&p, 1200, cwnd, srtt, t), t);
    aq_pacer_on_sent(&p, 1200, cwnd, srtt, t);
  }
  CHECK(aq_pacer_get_expiry(&p, 1200, cwnd, srtt, t) >= t + 800 * US);
  /* A doubled window halves the spacing. */
  aq_tstamp n2 = aq_pacer_get_expiry(&p, 1200, 2 * cwnd, srtt, t);
  CHECK(n2 >= t + 400 * US && n2 <= t + 400 * US + 20);
}
