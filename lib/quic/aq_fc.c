/*
 * aq_fc.c - receive flow control and window auto-tuning (RFC 9000 §4;
 * see aq_fc.h).  No timers.
 */
#include "aq_fc.h"

void aq_fc_recv_init(aq_fc_recv *fc, uint64_t window, uint64_t max_window, aq_tstamp ts) {
  fc->limit = window;
  fc->highest = 0;
  fc->consumed = 0;
  fc->window = window;
  fc->max_window = max_window > window ? max_window : window;
  fc->epoch_ts = ts;
}

int aq_fc_recv_on_data(aq_fc_recv *fc, uint64_t end) {
  /* https://www.rfc-editor.org/rfc/rfc9000#section-4.1: "A receiver MUST
   * close the connection with an error of type FLOW_CONTROL_ERROR if the
   * sender violates the advertised connection or stream data limits". */
  if (end > fc->limit) {
    return AQ_ERR_FLOW_CONTROL;
  }
  if (end > fc->highest) {
    fc->highest = end;
  }
  return 0;
}

int aq_fc_recv_add(aq_fc_recv *fc, uint64_t delta) {
  if (delta > fc->limit - fc->highest) {
    return AQ_ERR_FLOW_CONTROL;
  }
  fc->highest += delta;
  return 0;
}

void aq_fc_recv_on_consumed(aq_fc_recv *fc, uint64_t n) {
  fc->consumed += n;
}

int aq_fc_recv_update_due(const aq_fc_recv *fc) {
  /* A zero window (a peer allowed nothing) never updates. */
  return fc->window > 0 &&
         (fc->consumed >= fc->limit || fc->limit - fc->consumed <= fc->window / 2);
}

uint64_t aq_fc_recv_next_window(const aq_fc_recv *fc, aq_duration srtt, aq_tstamp ts) {
  if (!aq_fc_recv_update_due(fc) || srtt == 0 || fc->window >= fc->max_window) {
    return fc->window;
  }
  aq_duration elapsed = ts > fc->epoch_ts ? ts - fc->epoch_ts : 0;
  if (elapsed >= 2 * srtt) {
    return fc->window;
  }
  /* Half a window in under 2 RTTs: the window limits throughput. */
  return fc->window > fc->max_window / 2 ? fc->max_window : fc->window * 2;
}

uint64_t aq_fc_recv_next_limit(const aq_fc_recv *fc, aq_duration srtt, aq_tstamp ts) {
  if (!aq_fc_recv_update_due(fc)) {
    return fc->limit;
  }
  uint64_t v = fc->consumed + aq_fc_recv_next_window(fc, srtt, ts);
  return v > fc->limit ? v : fc->limit;
}

void aq_fc_recv_on_update_sent(aq_fc_recv *fc, uint64_t value, aq_tstamp ts) {
  if (value <= fc->limit) {
    return;
  }
  fc->limit = value;
  if (value - fc->consumed > fc->window) {
    fc->window = value - fc->consumed;
  }
  fc->epoch_ts = ts;
}
