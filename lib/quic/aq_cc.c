/*
 * aq_cc.c - NewReno (RFC 9002 App. B), CUBIC (RFC 9438) and the pacer.
 *
 * Timers: only the pacer's next-send time (aq_pacer_get_expiry).
 *
 * The shared rules (recovery period, app-limited, minimum window) live in
 * the aq_cc_* wrappers; the vtable holds only what differs per algorithm.
 */
#include "aq_cc.h"

#include <math.h>

/* RFC 9438 §4.6 / §5: multiplicative decrease factor and scaling constant. */
#define CUBIC_BETA 0.7
#define CUBIC_C 0.4

uint64_t aq_cc_initial_window(uint64_t max_datagram) {
  /* https://www.rfc-editor.org/rfc/rfc9002#section-7.2: "ten times the
   * maximum datagram size, while limiting the window to the larger of 14,720
   * bytes or twice the maximum datagram size". */
  uint64_t lim = 2 * max_datagram > 14720 ? 2 * max_datagram : 14720;
  uint64_t ten = 10 * max_datagram;
  return ten < lim ? ten : lim;
}

uint64_t aq_cc_min_window(uint64_t max_datagram) {
  return 2 * max_datagram;
}

void aq_cc_init(aq_cc *cc, const aq_cc_ops *ops, uint64_t max_datagram) {
  cc->ops = ops;
  cc->max_datagram = max_datagram;
  cc->cwnd = aq_cc_initial_window(max_datagram);
  cc->ssthresh = UINT64_MAX;
  cc->recovery_start = AQ_TSTAMP_NEVER;
  cc->app_limited = 0;
  cc->undo_valid = 0;
  cc->ops->reset(cc);
}

void aq_cc_on_packet_sent(aq_cc *cc, uint64_t bytes, aq_tstamp ts) {
  if (cc->ops->on_packet_sent != NULL) {
    cc->ops->on_packet_sent(cc, bytes, ts);
  }
}

int aq_cc_in_recovery(const aq_cc *cc, aq_tstamp sent_ts) {
  return cc->recovery_start != AQ_TSTAMP_NEVER && sent_ts <= cc->recovery_start;
}

void aq_cc_on_ack(aq_cc *cc, uint64_t bytes, aq_tstamp sent_ts, const aq_rtt *rtt, aq_tstamp ts) {
  /* RFC 9002 §7.3.2: no increase for packets sent during recovery; the
   * recovery period ends with the first packet sent after it started. */
  if (aq_cc_in_recovery(cc, sent_ts)) {
    return;
  }
  /* §7.8: "the congestion window SHOULD NOT be increased in either slow
   * start or congestion avoidance" when not fully utilized. */
  if (cc->app_limited) {
    return;
  }
  cc->ops->on_ack(cc, bytes, sent_ts, rtt, ts);
}

/* OnCongestionEvent (App. B.6) shared by loss and ECN-CE. */
static void congestion_event(aq_cc *cc, aq_tstamp sent_ts, aq_tstamp ts) {
  /* App. B.6: "No reaction if already in a recovery period." */
  if (aq_cc_in_recovery(cc, sent_ts)) {
    return;
  }
  cc->undo_valid = 1;
  cc->undo_cwnd = cc->cwnd;
  cc->undo_ssthresh = cc->ssthresh;
  cc->undo_bytes_acked = cc->bytes_acked;
  cc->undo_recovery_start = cc->recovery_start;
  cc->undo_t_epoch = cc->t_epoch;
  cc->undo_w_max = cc->w_max;
  cc->undo_k = cc->k;
  cc->undo_w_est = cc->w_est;
  cc->undo_cwnd_prior = cc->cwnd_prior;
  cc->undo_epoch_started = cc->epoch_started;
  cc->recovery_start = ts;
  cc->ops->on_congestion(cc, ts);
}

void aq_cc_undo(aq_cc *cc) {
  if (!cc->undo_valid) {
    return;
  }
  cc->undo_valid = 0;
  /* The window may have grown since (not below it after the event). */
  cc->cwnd = cc->undo_cwnd > cc->cwnd ? cc->undo_cwnd : cc->cwnd;
  cc->ssthresh = cc->undo_ssthresh;
  cc->bytes_acked = cc->undo_bytes_acked;
  cc->recovery_start = cc->undo_recovery_start;
  cc->t_epoch = cc->undo_t_epoch;
  cc->w_max = cc->undo_w_max;
  cc->k = cc->undo_k;
  cc->w_est = cc->undo_w_est;
  cc->cwnd_prior = cc->undo_cwnd_prior;
  cc->epoch_started = cc->undo_epoch_started;
  cc->frac = 0;
}

void aq_cc_on_loss(aq_cc *cc, aq_tstamp largest_lost_sent_ts, aq_tstamp ts) {
  congestion_event(cc, largest_lost_sent_ts, ts);
}

void aq_cc_on_ecn_ce(aq_cc *cc, aq_tstamp sent_ts, aq_tstamp ts) {
  congestion_event(cc, sent_ts, ts);
}

void aq_cc_on_persistent_congestion(aq_cc *cc, aq_tstamp ts) {
  /* App. B.8: congestion_window = kMinimumWindow; recovery start reset. */
  cc->ops->on_persistent_congestion(cc, ts);
  cc->undo_valid = 0;
  cc->cwnd = aq_cc_min_window(cc->max_datagram);
  cc->recovery_start = AQ_TSTAMP_NEVER;
}

void aq_cc_set_app_limited(aq_cc *cc, int app_limited) {
  cc->app_limited = app_limited != 0;
}

uint64_t aq_cc_can_send(const aq_cc *cc, uint64_t bytes_in_flight) {
  return bytes_in_flight >= cc->cwnd ? 0 : cc->cwnd - bytes_in_flight;
}

/* ---------------------------------------------------------------- NewReno */

static void reno_reset(aq_cc *cc) {
  cc->bytes_acked = 0;
}

/* NewReno OnPacketsAcked for one packet (App. B.5). */
static void reno_on_ack(aq_cc *cc, uint64_t bytes, aq_tstamp sent_ts, const aq_rtt *rtt,
                        aq_tstamp ts) {
  (void)sent_ts;
  (void)rtt;
  (void)ts;
  if (cc->cwnd < cc->ssthresh) {
    cc->cwnd += bytes; /* slow start */
    return;
  }
  /* Congestion avoidance: App. B.5 adds max_datagram * acked / cwnd per
   * ACK; accumulating bytes gives exactly one datagram per cwnd acked
   * without the rounding loss of the per-packet division. */
  cc->bytes_acked += bytes;
  if (cc->bytes_acked >= cc->cwnd) {
    cc->bytes_acked -= cc->cwnd;
    cc->cwnd += cc->max_datagram;
  }
}

/* NewReno window reduction (App. B.6). */
static void reno_on_congestion(aq_cc *cc, aq_tstamp ts) {
  (void)ts;
  /* kLossReductionFactor = 0.5 */
  cc->ssthresh = cc->cwnd / 2;
  uint64_t minw = aq_cc_min_window(cc->max_datagram);
  cc->cwnd = cc->ssthresh > minw ? cc->ssthresh : minw;
  cc->bytes_acked = 0;
}

/* NewReno persistent congestion: drop the CA accumulator. */
static void reno_on_persistent_congestion(aq_cc *cc, aq_tstamp ts) {
  (void)ts;
  cc->bytes_acked = 0;
}

const aq_cc_ops aq_cc_newreno = {"newreno",   reno_reset,         NULL,
                                 reno_on_ack, reno_on_congestion, reno_on_persistent_congestion};

/* ------------------------------------------------------------------ CUBIC */

static void cubic_reset(aq_cc *cc) {
  cc->w_max = 0;
  cc->k = 0;
  cc->w_est = 0;
  cc->cwnd_prior = 0;
  cc->frac = 0;
  cc->t_epoch = 0;
  cc->epoch_started = 0;
  cc->bytes_acked = 0;
}

/* Bytes as a (fractional) number of segments. */
static double seg(const aq_cc *cc, uint64_t bytes) {
  return (double)bytes / (double)cc->max_datagram;
}

/* W_cubic(t) = C * (t - K)^3 + W_max (RFC 9438 §4.2, eq. 1), segments. */
static double w_cubic(const aq_cc *cc, double t) {
  double d = t - cc->k;
  return CUBIC_C * d * d * d + cc->w_max;
}

/* Set cwnd from segments, carrying sub-byte growth, never below the minimum. */
static void cubic_set_cwnd_seg(aq_cc *cc, double w) {
  double bytes = w * (double)cc->max_datagram + cc->frac;
  uint64_t minw = aq_cc_min_window(cc->max_datagram);
  if (bytes < (double)minw) {
    cc->cwnd = minw;
    cc->frac = 0;
    return;
  }
  uint64_t b = (uint64_t)bytes;
  cc->frac = bytes - (double)b;
  cc->cwnd = b;
}

/* CUBIC window growth for one acknowledged packet (RFC 9438 §4.2-4.5). */
static void cubic_on_ack(aq_cc *cc, uint64_t bytes, aq_tstamp sent_ts, const aq_rtt *rtt,
                         aq_tstamp ts) {
  (void)sent_ts;
  if (cc->cwnd < cc->ssthresh) {
    cc->cwnd += bytes; /* slow start (RFC 9438 §4.10 keeps the standard rule) */
    return;
  }
  double cwnd = seg(cc, cc->cwnd);
  if (!cc->epoch_started) {
    /* Entering congestion avoidance without a congestion event: the
     * curve starts at its plateau (W_max = cwnd, K = 0). */
    cc->epoch_started = 1;
    cc->t_epoch = ts;
    cc->w_max = cwnd;
    cc->k = 0;
    cc->w_est = cwnd;
    cc->cwnd_prior = cwnd;
  }
  double t = (double)(ts - cc->t_epoch) / 1e9;
  double acked = seg(cc, bytes);
  /* §4.3: W_est grows by alpha_cubic per window; alpha = 1 once W_est
   * reaches the window before the last reduction. */
  double alpha = cc->w_est >= cc->cwnd_prior ? 1.0 : 3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA);
  cc->w_est += alpha * acked / cwnd;
  double wc = w_cubic(cc, t);
  if (wc < cc->w_est) {
    /* Reno-friendly region: "cwnd SHOULD be set to W_est". */
    if (cc->w_est > cwnd) {
      cubic_set_cwnd_seg(cc, cc->w_est);
    }
    return;
  }
  /* §4.4/4.5: target = W_cubic(t + RTT), clamped to [cwnd, 1.5 cwnd];
   * cwnd += (target - cwnd) / cwnd per acknowledged segment. */
  double rtt_s = (double)rtt->smoothed / 1e9;
  double target = w_cubic(cc, t + rtt_s);
  if (target < cwnd) {
    target = cwnd;
  } else if (target > 1.5 * cwnd) {
    target = 1.5 * cwnd;
  }
  cubic_set_cwnd_seg(cc, cwnd + (target - cwnd) / cwnd * acked);
}

/* CUBIC multiplicative decrease and new epoch (RFC 9438 §4.6-4.7). */
static void cubic_on_congestion(aq_cc *cc, aq_tstamp ts) {
  double cwnd = seg(cc, cc->cwnd);
  /* §4.7 fast convergence: release bandwidth when the plateau shrinks. */
  if (cc->epoch_started && cwnd < cc->w_max) {
    cc->w_max = cwnd * (1.0 + CUBIC_BETA) / 2.0;
  } else {
    cc->w_max = cwnd;
  }
  cc->cwnd_prior = cwnd;
  /* §4.6: ssthresh = cwnd * beta_cubic, at least the minimum window. */
  uint64_t minw = aq_cc_min_window(cc->max_datagram);
  uint64_t ss = cc->cwnd / 10 * 7 + cc->cwnd % 10 * 7 / 10; /* cwnd * 0.7, exact */
  cc->ssthresh = ss > minw ? ss : minw;
  cc->cwnd = cc->ssthresh;
  cc->frac = 0;
  double epoch = seg(cc, cc->cwnd);
  /* §4.2 eq. 2: K = cbrt((W_max - cwnd_epoch) / C). */
  cc->k = cc->w_max > epoch ? cbrt((cc->w_max - epoch) / CUBIC_C) : 0.0;
  cc->t_epoch = ts;
  cc->w_est = epoch;
  cc->epoch_started = 1;
}

/* CUBIC after persistent congestion: forget the curve. */
static void cubic_on_persistent_congestion(aq_cc *cc, aq_tstamp ts) {
  (void)ts;
  cubic_reset(cc);
}

const aq_cc_ops aq_cc_cubic = {"cubic",      cubic_reset,         NULL,
                               cubic_on_ack, cubic_on_congestion, cubic_on_persistent_congestion};

/* ------------------------------------------------------------------ pacer */

void aq_pacer_init(aq_pacer *p, uint64_t max_datagram) {
  p->burst = AQ_PACER_BURST_PKTS * max_datagram;
  p->tokens = (double)p->burst;
  p->last_ts = 0;
  p->started = 0;
}

/* Bytes per nanosecond: N * cwnd / smoothed_rtt with N = 1.25. */
static double pacer_rate(uint64_t cwnd, aq_duration srtt) {
  return 1.25 * (double)cwnd / (double)srtt;
}

/* Tokens in the bucket at ts (refilled at rate, capped at the burst). */
static double pacer_tokens(const aq_pacer *p, double rate, aq_tstamp ts) {
  if (!p->started) {
    return (double)p->burst;
  }
  double t = p->tokens;
  if (ts > p->last_ts) {
    t += (double)(ts - p->last_ts) * rate;
  }
  return t > (double)p->burst ? (double)p->burst : t;
}

aq_tstamp aq_pacer_get_expiry(const aq_pacer *p, uint64_t bytes, uint64_t cwnd, aq_duration srtt,
                              aq_tstamp ts) {
  if (srtt == 0 || cwnd == 0) {
    return ts;
  }
  double rate = pacer_rate(cwnd, srtt);
  double tok = pacer_tokens(p, rate, ts);
  if (tok >= (double)bytes) {
    return ts;
  }
  return ts + (aq_duration)ceil(((double)bytes - tok) / rate);
}

void aq_pacer_on_sent(aq_pacer *p, uint64_t bytes, uint64_t cwnd, aq_duration srtt, aq_tstamp ts) {
  double rate = srtt == 0 || cwnd == 0 ? 0.0 : pacer_rate(cwnd, srtt);
  p->tokens =
      (srtt == 0 || cwnd == 0 ? (double)p->burst : pacer_tokens(p, rate, ts)) - (double)bytes;
  p->last_ts = ts > p->last_ts || !p->started ? ts : p->last_ts;
  p->started = 1;
}
