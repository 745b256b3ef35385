/*
 * aq_fc.c - flow control accounting (RFC 9000 §4).  No timers.
 */
#include "aq_fc.h"

void aq_fc_recv_init(aq_fc_recv *fc, uint64_t window, uint64_t max_window, aq_tstamp ts) {
  fc->limit = window;
  fc->next_limit = window;
  fc->highest = 0;
  fc->consumed = 0;
  fc->window = window;
  fc->max_window = max_window > window ? max_window : window;
  fc->epoch_ts = ts;
  fc->epoch_consumed = 0;
  fc->resend = 0;
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

void aq_fc_recv_on_consumed(aq_fc_recv *fc, uint64_t n, aq_duration srtt, aq_tstamp ts) {
  fc->consumed += n;
  if (fc->next_limit > fc->limit) {
    /* An update is already pending; only move its value along. */
    fc->next_limit = fc->consumed + fc->window;
    return;
  }
  /* Due once half the window was consumed since the current limit. */
  if (fc->consumed < fc->limit && fc->limit - fc->consumed > fc->window / 2) {
    return;
  }
  aq_duration elapsed = ts > fc->epoch_ts ? ts - fc->epoch_ts : 0;
  if (srtt > 0 && elapsed < 2 * srtt && fc->window < fc->max_window) {
    /* Half a window per < 2 RTTs: the window limits throughput. */
    fc->window = fc->window > fc->max_window / 2 ? fc->max_window : fc->window * 2;
  }
  fc->next_limit = fc->consumed + fc->window;
}

int aq_fc_recv_should_update(const aq_fc_recv *fc) {
  return fc->next_limit > fc->limit || fc->resend;
}

void aq_fc_recv_on_update_sent(aq_fc_recv *fc, uint64_t value, aq_tstamp ts) {
  if (value > fc->limit) {
    fc->limit = value;
    fc->epoch_ts = ts;
    fc->epoch_consumed = fc->consumed;
  }
  fc->resend = 0;
}

void aq_fc_recv_on_update_lost(aq_fc_recv *fc, uint64_t value) {
  /* RFC 9000 §13.3: MAX_DATA is resent with the current value; an older
   * lost value is superseded. */
  if (value == fc->limit && fc->next_limit <= fc->limit) {
    fc->resend = 1;
  }
}

void aq_fc_send_init(aq_fc_send *fc, uint64_t limit) {
  fc->limit = limit;
  fc->used = 0;
  fc->blocked_at = UINT64_MAX;
  fc->blocked_resend = 0;
}

int aq_fc_send_consume(aq_fc_send *fc, uint64_t n) {
  if (n > aq_fc_send_avail(fc)) {
    return AQ_ERR_LIMIT;
  }
  fc->used += n;
  return 0;
}

int aq_fc_send_on_max(aq_fc_send *fc, uint64_t limit) {
  /* §4.1: "A sender MUST ignore any MAX_STREAM_DATA or MAX_DATA frames that
   * do not increase flow control limits." */
  if (limit <= fc->limit) {
    return 0;
  }
  int was_blocked = fc->used == fc->limit;
  fc->limit = limit;
  fc->blocked_resend = 0;
  return was_blocked;
}

int aq_fc_send_blocked_needed(const aq_fc_send *fc, int has_pending) {
  if (!has_pending || aq_fc_send_avail(fc) > 0) {
    return 0;
  }
  return fc->blocked_at != fc->limit || fc->blocked_resend;
}

void aq_fc_send_on_blocked_sent(aq_fc_send *fc) {
  fc->blocked_at = fc->limit;
  fc->blocked_resend = 0;
}

void aq_fc_send_on_blocked_lost(aq_fc_send *fc, uint64_t value) {
  if (value == fc->limit && fc->used == fc->limit) {
    fc->blocked_resend = 1;
  }
}
