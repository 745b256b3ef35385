/*
 * aq_cc.h - congestion control behind a const vtable (RFC 9002 §7), with
 * NewReno (RFC 9002 App. B) and CUBIC (RFC 9438), plus a pacer (§7.7).
 *
 * Timers: none in the controllers.  The pacer has one deadline, the time of
 * the next allowed send, returned by aq_pacer_get_expiry (the connection
 * folds it into its own expiry only while it has data to send).
 *
 * The controller sees packets only as byte counts and send times; loss
 * recovery (aq_rtb) decides what is acknowledged or lost and calls in here:
 *  - aq_cc_on_packet_sent for every in-flight packet sent;
 *  - aq_cc_on_ack for every in-flight packet newly acknowledged, after loss
 *    processing of the same ACK (RFC 9002 App. A.7 order);
 *  - aq_cc_on_loss once per ACK/timeout that declared in-flight packets
 *    lost, with the send time of the newest lost packet;
 *  - aq_cc_on_ecn_ce when the peer's ECN-CE count rose, with the send time
 *    of the largest acknowledged packet;
 *  - aq_cc_on_persistent_congestion (RFC 9002 §7.6.2).
 * The application-limited state (RFC 9002 §7.8) is set by the connection
 * with aq_cc_set_app_limited: while set, the window does not grow.
 */
#ifndef AQ_CC_H
#define AQ_CC_H

#include "antquic.h"
#include "quic/aq_rtt.h"

typedef struct aq_cc aq_cc;

/** A congestion controller algorithm (const descriptor). */
typedef struct aq_cc_ops {
  const char *name;
  /** Reset algorithm state (cwnd/ssthresh are set by aq_cc_init). */
  void (*reset)(aq_cc *cc);
  /** An in-flight packet was sent (may be NULL: NewReno and CUBIC ignore it). */
  void (*on_packet_sent)(aq_cc *cc, uint64_t bytes, aq_tstamp ts);
  /** One in-flight packet of bytes was acknowledged (not sent in recovery). */
  void (*on_ack)(aq_cc *cc, uint64_t bytes, aq_tstamp sent_ts, const aq_rtt *rtt, aq_tstamp ts);
  /** A congestion event starting a new recovery period (loss or ECN-CE). */
  void (*on_congestion)(aq_cc *cc, aq_tstamp ts);
  /** Persistent congestion: collapse to the minimum window. */
  void (*on_persistent_congestion)(aq_cc *cc, aq_tstamp ts);
} aq_cc_ops;

/** NewReno (RFC 9002 App. B). */
extern const aq_cc_ops aq_cc_newreno;
/** CUBIC (RFC 9438: beta 0.7, C 0.4, fast convergence, Reno-friendly region). */
extern const aq_cc_ops aq_cc_cubic;

struct aq_cc {
  const aq_cc_ops *ops;
  uint64_t max_datagram;    /* max_datagram_size, bytes */
  uint64_t cwnd;            /* congestion_window, bytes */
  uint64_t ssthresh;        /* UINT64_MAX until the first congestion event */
  aq_tstamp recovery_start; /* congestion_recovery_start_time; AQ_TSTAMP_NEVER = none */
  int app_limited;
  uint64_t bytes_acked; /* NewReno congestion avoidance accumulator */
  /* CUBIC state, in segments and seconds (double: no hot-path concerns). */
  double w_max;      /* window before the last reduction */
  double k;          /* time to reach w_max from the epoch start */
  double w_est;      /* Reno-friendly estimate */
  double cwnd_prior; /* window at the last reduction (segments) */
  double frac;       /* fractional bytes carried between ACKs */
  aq_tstamp t_epoch; /* start of the current congestion avoidance epoch */
  int epoch_started;
  /* The state before the last congestion event, restored by aq_cc_undo when
   * loss recovery proves that event spurious (every loss was reordering). */
  int undo_valid;
  uint64_t undo_cwnd, undo_ssthresh, undo_bytes_acked;
  aq_tstamp undo_recovery_start, undo_t_epoch;
  double undo_w_max, undo_k, undo_w_est, undo_cwnd_prior;
  int undo_epoch_started;
};

/** kInitialWindow for max_datagram (RFC 9002 §7.2). */
uint64_t aq_cc_initial_window(uint64_t max_datagram);
/** kMinimumWindow = 2 * max_datagram (RFC 9002 §7.2). */
uint64_t aq_cc_min_window(uint64_t max_datagram);

/** Initialise with an algorithm (e.g. &aq_cc_newreno) and max_datagram (>= 1200). */
void aq_cc_init(aq_cc *cc, const aq_cc_ops *ops, uint64_t max_datagram);

/** An in-flight packet of bytes was sent at ts. */
void aq_cc_on_packet_sent(aq_cc *cc, uint64_t bytes, aq_tstamp ts);

/** Non-zero if a packet sent at sent_ts belongs to the current recovery period. */
int aq_cc_in_recovery(const aq_cc *cc, aq_tstamp sent_ts);

/**
 * An in-flight packet of bytes sent at sent_ts was newly acknowledged.
 * Ignored if it was sent during recovery or while application-limited.
 */
void aq_cc_on_ack(aq_cc *cc, uint64_t bytes, aq_tstamp sent_ts, const aq_rtt *rtt, aq_tstamp ts);

/**
 * Packets were declared lost; largest_lost_sent_ts is the send time of the
 * newest of them.  Starts a recovery period unless already in one.
 */
void aq_cc_on_loss(aq_cc *cc, aq_tstamp largest_lost_sent_ts, aq_tstamp ts);

/** The ECN-CE count increased; sent_ts of the largest acknowledged packet. */
void aq_cc_on_ecn_ce(aq_cc *cc, aq_tstamp sent_ts, aq_tstamp ts);

/** Persistent congestion: cwnd = kMinimumWindow, recovery ended. */
void aq_cc_on_persistent_congestion(aq_cc *cc, aq_tstamp ts);

/**
 * The last congestion event was spurious (every packet whose loss caused it
 * was acknowledged later): restore the window, slow start threshold and
 * algorithm state from before it, and end its recovery period.  No-op if
 * there is nothing to undo (already undone, or persistent congestion since).
 */
void aq_cc_undo(aq_cc *cc);

/** Set or clear the application-limited state. */
void aq_cc_set_app_limited(aq_cc *cc, int app_limited);

/** The congestion window in bytes. */
static inline uint64_t aq_cc_cwnd(const aq_cc *cc) {
  return cc->cwnd;
}

/** Bytes that may still be sent with bytes_in_flight outstanding (0 if none). */
uint64_t aq_cc_can_send(const aq_cc *cc, uint64_t bytes_in_flight);

/* ------------------------------------------------------------------ pacer */

/** Packets allowed in one burst (RFC 9002 §7.7 suggests the initial window). */
#define AQ_PACER_BURST_PKTS 10

/**
 * A token-bucket pacer: tokens refill at 1.25 * cwnd / smoothed_rtt bytes
 * per second (RFC 9002 §7.7, N = 1.25) up to a burst of AQ_PACER_BURST_PKTS
 * datagrams.  The bucket starts full.
 */
typedef struct aq_pacer {
  double tokens;  /* bytes available at last_ts */
  uint64_t burst; /* bucket size, bytes */
  aq_tstamp last_ts;
  int started;
} aq_pacer;

/** Initialise for datagrams of max_datagram bytes. */
void aq_pacer_init(aq_pacer *p, uint64_t max_datagram);

/**
 * The earliest time >= ts at which a packet of bytes may be sent, given the
 * current cwnd and smoothed_rtt (> 0).
 */
aq_tstamp aq_pacer_get_expiry(const aq_pacer *p, uint64_t bytes, uint64_t cwnd, aq_duration srtt,
                              aq_tstamp ts);

/** A packet of bytes was sent at ts: spend tokens (the bucket may go negative). */
void aq_pacer_on_sent(aq_pacer *p, uint64_t bytes, uint64_t cwnd, aq_duration srtt, aq_tstamp ts);

#endif /* AQ_CC_H */
