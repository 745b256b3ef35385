/*
 * aq_rtt.h - round-trip time estimation (RFC 9002 §5).
 *
 * No timers: the estimator is fed samples by loss recovery (aq_rtb) and
 * read by the PTO, loss and pacing computations.
 */
#ifndef AQ_RTT_H
#define AQ_RTT_H

#include "antquic.h"

/** kInitialRtt (RFC 9002 §6.2.2). */
#define AQ_INITIAL_RTT (333 * AQ_MILLISECONDS)
/** kGranularity (RFC 9002 §6.1.2). */
#define AQ_GRANULARITY (1 * AQ_MILLISECONDS)

typedef struct aq_rtt {
  aq_duration latest;        /* latest_rtt */
  aq_duration min;           /* min_rtt (0 until the first sample) */
  aq_duration smoothed;      /* smoothed_rtt */
  aq_duration var;           /* rttvar */
  aq_tstamp first_sample_ts; /* time of the first sample (AQ_TSTAMP_NEVER before) */
  int has_sample;
} aq_rtt;

/**
 * Initialise before any sample (RFC 9002 §5.3): smoothed_rtt = initial_rtt,
 * rttvar = initial_rtt / 2.  initial_rtt 0 means AQ_INITIAL_RTT.
 */
void aq_rtt_init(aq_rtt *rtt, aq_duration initial_rtt);

/**
 * Feed one RTT sample (RFC 9002 §5.1-5.3).  latest_rtt = ack time minus
 * send time of the largest newly acknowledged packet; ack_delay is the
 * peer-reported delay already decoded to ns (pass 0 in the Initial space).
 * After handshake confirmation, ack_delay is clamped to max_ack_delay.  The
 * ack delay is only subtracted if the result would not fall below min_rtt.
 */
void aq_rtt_update(aq_rtt *rtt, aq_duration latest_rtt, aq_duration ack_delay,
                   int handshake_confirmed, aq_duration max_ack_delay, aq_tstamp ts);

/**
 * The PTO period without max_ack_delay or backoff:
 * smoothed_rtt + max(4 * rttvar, kGranularity) (RFC 9002 §6.2.1).
 */
aq_duration aq_rtt_pto_base(const aq_rtt *rtt);

/**
 * The loss delay: 9/8 * max(smoothed_rtt, latest_rtt), at least
 * kGranularity (RFC 9002 §6.1.2).
 */
aq_duration aq_rtt_loss_delay(const aq_rtt *rtt);

/**
 * After persistent congestion, forget min_rtt so that the next sample sets
 * it (RFC 9002 §5.2 "SHOULD set the min_rtt to the newest RTT sample").
 */
void aq_rtt_on_persistent_congestion(aq_rtt *rtt);

#endif /* AQ_RTT_H */
