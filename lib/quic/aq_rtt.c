/*
 * aq_rtt.c - RTT estimator (RFC 9002 §5).  No timers.
 */
#include "aq_rtt.h"

void aq_rtt_init(aq_rtt *rtt, aq_duration initial_rtt) {
  if (initial_rtt == 0) {
    initial_rtt = AQ_INITIAL_RTT;
  }
  rtt->latest = 0;
  rtt->min = 0;
  rtt->smoothed = initial_rtt;
  rtt->var = initial_rtt / 2;
  rtt->first_sample_ts = AQ_TSTAMP_NEVER;
  rtt->has_sample = 0;
}

void aq_rtt_update(aq_rtt *rtt, aq_duration latest_rtt, aq_duration ack_delay,
                   int handshake_confirmed, aq_duration max_ack_delay, aq_tstamp ts) {
  rtt->latest = latest_rtt;
  if (!rtt->has_sample) {
    /* https://www.rfc-editor.org/rfc/rfc9002#section-5.3: on the first
     * sample, smoothed_rtt = latest_rtt, rttvar = latest_rtt / 2. */
    rtt->has_sample = 1;
    rtt->first_sample_ts = ts;
    rtt->min = latest_rtt;
    rtt->smoothed = latest_rtt;
    rtt->var = latest_rtt / 2;
    return;
  }
  /* §5.2: min_rtt ignores ack delay. A zero min (after persistent
   * congestion) is re-seeded by this sample. */
  if (rtt->min == 0 || latest_rtt < rtt->min) {
    rtt->min = latest_rtt;
  }
  /* §5.3: "MUST use the lesser of the acknowledgment delay and the peer's
   * max_ack_delay after the handshake is confirmed". */
  if (handshake_confirmed && ack_delay > max_ack_delay) {
    ack_delay = max_ack_delay;
  }
  aq_duration adjusted = latest_rtt;
  if (latest_rtt >= rtt->min + ack_delay) {
    adjusted = latest_rtt - ack_delay;
  }
  aq_duration diff = rtt->smoothed > adjusted ? rtt->smoothed - adjusted : adjusted - rtt->smoothed;
  rtt->var = (3 * rtt->var + diff) / 4;
  rtt->smoothed = (7 * rtt->smoothed + adjusted) / 8;
}

aq_duration aq_rtt_pto_base(const aq_rtt *rtt) {
  aq_duration v = 4 * rtt->var;
  return rtt->smoothed + (v > AQ_GRANULARITY ? v : AQ_GRANULARITY);
}

aq_duration aq_rtt_loss_delay(const aq_rtt *rtt) {
  aq_duration m = rtt->smoothed > rtt->latest ? rtt->smoothed : rtt->latest;
  m = m * 9 / 8;
  return m > AQ_GRANULARITY ? m : AQ_GRANULARITY;
}

void aq_rtt_on_persistent_congestion(aq_rtt *rtt) {
  rtt->min = 0;
}
