/*
 * aq_fc.h - receive-side flow control of one stream or of the connection
 * (RFC 9000 §4), with receive-window auto-tuning.
 *
 * No timers: the window is re-evaluated when an update is written, with
 * the time and smoothed RTT given by the caller.
 *
 * The peer may send up to `limit` (the largest MAX_DATA / MAX_STREAM_DATA
 * value we sent, or the initial transport parameter).  Once the
 * application has consumed at least half the window (limit - consumed <=
 * window / 2), an update is due; its value is consumed + window, so updates
 * go out once per half window, not per packet.
 *
 * Auto-tuning: an epoch starts whenever a higher limit is sent.  If the
 * update that ends it is written less than 2 smoothed RTTs later, the
 * application drained half a window in under 2 RTTs: the window, not the
 * application, limits throughput, so it doubles (up to max_window).  In
 * steady state a window-limited sender moves one window per RTT and the
 * window doubles every epoch; once the window exceeds about four times the
 * bandwidth-delay product (or the application reads slowly) half a window
 * takes longer than 2 RTTs and growth stops.  (The same idea as ngtcp2's
 * and quinn's receive-window tuning; our code is our own.)
 *
 * The sending side needs no module: it is the peer's limit and a count.
 */
#ifndef AQ_FC_H
#define AQ_FC_H

#include "antquic.h"

typedef struct aq_fc_recv {
  uint64_t limit;      /* largest limit advertised */
  uint64_t highest;    /* highest offset received (the sum of them for the connection) */
  uint64_t consumed;   /* bytes delivered to the application (or discarded) */
  uint64_t window;     /* current window */
  uint64_t max_window; /* auto-tuning cap */
  aq_tstamp epoch_ts;  /* when limit was last raised */
} aq_fc_recv;

/**
 * Initialise with the initial window (our transport parameter, which is
 * the first limit) and the auto-tuning cap (a cap <= window disables
 * tuning) at time ts.
 */
void aq_fc_recv_init(aq_fc_recv *fc, uint64_t window, uint64_t max_window, aq_tstamp ts);

/**
 * Stream level: data was received up to offset end (STREAM frame offset +
 * len, or a final size).  Returns 0, or AQ_ERR_FLOW_CONTROL if end is
 * beyond the limit (RFC 9000 §4.1: FLOW_CONTROL_ERROR; nothing changed
 * then).  highest only grows.
 */
AQ_MUST_CHECK int aq_fc_recv_on_data(aq_fc_recv *fc, uint64_t end);

/**
 * Connection level: a stream's highest offset grew by delta bytes.  Returns
 * 0 or AQ_ERR_FLOW_CONTROL (nothing changed then).
 */
AQ_MUST_CHECK int aq_fc_recv_add(aq_fc_recv *fc, uint64_t delta);

/** The application consumed (or we discarded) n more bytes. */
void aq_fc_recv_on_consumed(aq_fc_recv *fc, uint64_t n);

/** Non-zero once half the window was consumed since the current limit (never for a zero window). */
int aq_fc_recv_update_due(const aq_fc_recv *fc);

/**
 * The window an update written at ts would use: doubled (capped at
 * max_window) if an update is due and the epoch lasted less than 2 * srtt,
 * else the current one.  Pure; srtt 0 disables growth.
 */
uint64_t aq_fc_recv_next_window(const aq_fc_recv *fc, aq_duration srtt, aq_tstamp ts);

/**
 * The value of a MAX_DATA / MAX_STREAM_DATA frame written at ts:
 * consumed + aq_fc_recv_next_window if an update is due, else the current
 * limit (a retransmission carries the current value, RFC 9000 §13.3).
 */
uint64_t aq_fc_recv_next_limit(const aq_fc_recv *fc, aq_duration srtt, aq_tstamp ts);

/**
 * A frame advertising value was sent at ts.  A higher value becomes the
 * limit and starts a new epoch; the window grows to value - consumed if
 * that is larger (so a caller may advertise less than
 * aq_fc_recv_next_limit, e.g. when a buffer could not grow).
 */
void aq_fc_recv_on_update_sent(aq_fc_recv *fc, uint64_t value, aq_tstamp ts);

#endif /* AQ_FC_H */
