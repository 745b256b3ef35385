/*
 * aq_fc.h - flow control accounting for one stream or the connection
 * (RFC 9000 §4).
 *
 * No timers: the receive window is re-evaluated when the application
 * consumes data, with the time and smoothed RTT given by the caller.
 *
 * Receiver (aq_fc_recv): the peer may send up to `limit` (the largest
 * MAX_DATA / MAX_STREAM_DATA value we sent, or the initial transport
 * parameter).  Once the application has consumed at least half the window
 * since the last limit, a new limit = consumed + window is due (so updates
 * are sent once per half window, not per packet).  Auto-tuning: if that
 * half window was consumed in less than 2 smoothed RTTs, the window is too
 * small for the path's bandwidth-delay product and doubles, up to
 * max_window (the idea of ngtcp2 and quinn's receive-window tuning).
 *
 * Sender (aq_fc_send): credit = peer limit - bytes used; a DATA_BLOCKED /
 * STREAM_DATA_BLOCKED frame is due once per limit value when the credit
 * is exhausted and data is waiting (RFC 9000 §4.1 "SHOULD send").
 */
#ifndef AQ_FC_H
#define AQ_FC_H

#include "antquic.h"

typedef struct aq_fc_recv {
  uint64_t limit;          /* largest limit advertised */
  uint64_t next_limit;     /* limit to advertise next (> limit: update due) */
  uint64_t highest;        /* highest offset received (sum of them for the connection) */
  uint64_t consumed;       /* bytes delivered to the application */
  uint64_t window;         /* current window */
  uint64_t max_window;     /* auto-tuning cap */
  aq_tstamp epoch_ts;      /* when the current limit was set */
  uint64_t epoch_consumed; /* consumed at that time */
  int resend;              /* the latest update was lost: send it again */
} aq_fc_recv;

/**
 * Initialise with the initial window (our transport parameter, which is
 * the first limit) and the auto-tuning cap (>= window) at time ts.
 */
void aq_fc_recv_init(aq_fc_recv *fc, uint64_t window, uint64_t max_window, aq_tstamp ts);

/**
 * Stream data was received up to offset end (STREAM frame offset + len, or
 * a final size).  Returns 0, or AQ_ERR_FLOW_CONTROL if end is beyond the
 * limit (RFC 9000 §4.1: FLOW_CONTROL_ERROR).  highest only grows.
 */
AQ_MUST_CHECK int aq_fc_recv_on_data(aq_fc_recv *fc, uint64_t end);

/**
 * Connection level: a stream's highest offset grew by delta bytes.  Returns
 * 0 or AQ_ERR_FLOW_CONTROL (nothing changed then).
 */
AQ_MUST_CHECK int aq_fc_recv_add(aq_fc_recv *fc, uint64_t delta);

/**
 * The application consumed n bytes at ts; srtt is the smoothed RTT.
 * Updates next_limit (and the window) when an update becomes due.
 */
void aq_fc_recv_on_consumed(aq_fc_recv *fc, uint64_t n, aq_duration srtt, aq_tstamp ts);

/** Non-zero if a MAX_DATA / MAX_STREAM_DATA frame should be sent. */
int aq_fc_recv_should_update(const aq_fc_recv *fc);

/** The value for that frame. */
static inline uint64_t aq_fc_recv_next_limit(const aq_fc_recv *fc) {
  return fc->next_limit > fc->limit ? fc->next_limit : fc->limit;
}

/** A frame advertising value was sent at ts. */
void aq_fc_recv_on_update_sent(aq_fc_recv *fc, uint64_t value, aq_tstamp ts);

/** A frame advertising value was lost: resend if it is still the latest. */
void aq_fc_recv_on_update_lost(aq_fc_recv *fc, uint64_t value);

typedef struct aq_fc_send {
  uint64_t limit;      /* the peer's limit */
  uint64_t used;       /* bytes sent (new data only) */
  uint64_t blocked_at; /* limit for which DATA_BLOCKED was sent, UINT64_MAX = none */
  int blocked_resend;
} aq_fc_send;

/** Initialise with the peer's initial limit (its transport parameter). */
void aq_fc_send_init(aq_fc_send *fc, uint64_t limit);

/** Credit left. */
static inline uint64_t aq_fc_send_avail(const aq_fc_send *fc) {
  return fc->limit - fc->used;
}

/** n new bytes were sent.  Returns 0, or AQ_ERR_LIMIT if n exceeds the credit. */
AQ_MUST_CHECK int aq_fc_send_consume(aq_fc_send *fc, uint64_t n);

/**
 * The peer sent MAX_DATA / MAX_STREAM_DATA with limit.  Smaller values are
 * ignored (RFC 9000 §4.1).  Returns 1 if this unblocked the sender, else 0.
 */
int aq_fc_send_on_max(aq_fc_send *fc, uint64_t limit);

/**
 * Non-zero if a DATA_BLOCKED / STREAM_DATA_BLOCKED frame (with value
 * fc->limit) should be sent; has_pending says whether data is waiting.
 */
int aq_fc_send_blocked_needed(const aq_fc_send *fc, int has_pending);

/** The BLOCKED frame was sent. */
void aq_fc_send_on_blocked_sent(aq_fc_send *fc);

/** A BLOCKED frame with value was lost: resend if still blocked at it. */
void aq_fc_send_on_blocked_lost(aq_fc_send *fc, uint64_t value);

#endif /* AQ_FC_H */
