/*
 * aq_acktr.h - per packet-number-space ACK tracker (RFC 9000 §13.2).
 *
 * Records received packet numbers, detects duplicates, decides when an ACK
 * frame is due and produces its ranges.  One tracker per packet number
 * space; the connection owns three.  Works on numbers only: the ACK frame
 * codec turns aq_ack_info into wire gaps.
 *
 * Timers (STYLE.md §F):
 *  - ack deadline: set when an ack-eliciting packet arrives and no ACK is
 *    pending; = receive time + max_ack_delay (App space) or the receive time
 *    itself when an immediate ACK is called for (Initial/Handshake spaces,
 *    every ack_eliciting_threshold-th ack-eliciting packet, reordering or a
 *    new gap, ECN-CE).  Cleared when the connection reports an ACK sent.
 *    aq_acktr_get_expiry returns it; aq_acktr_handle_expiry reports that an
 *    ACK must be sent now.
 */
#ifndef AQ_ACKTR_H
#define AQ_ACKTR_H

#include "antquic.h"
#include "quic/aq_ranges.h"

/** Ranges of received packet numbers remembered (and reported) per space. */
#define AQ_ACKTR_MAX_RANGES 32

/** ECN codepoints as in the IP header's two ECN bits. */
#ifndef AQ_ECN_NOT_ECT
#define AQ_ECN_NOT_ECT 0
#define AQ_ECN_ECT1 1
#define AQ_ECN_ECT0 2
#define AQ_ECN_CE 3
#endif

/** The content of an ACK frame to send, as numbers. */
typedef struct aq_ack_info {
  uint64_t largest;                   /* Largest Acknowledged */
  aq_duration ack_delay;              /* time since the largest was received, ns */
  uint64_t ack_delay_enc;             /* ACK Delay field: microseconds >> ack_delay_exponent */
  aq_range ranges[AQ_ACKTR_MAX_RANGES]; /* [start, end), largest first, disjoint */
  size_t nranges;
  uint64_t ect0, ect1, ce; /* ECN counts (RFC 9000 §13.4.1) */
  int has_ecn;             /* non-zero if any ECN count is non-zero (send ACK_ECN) */
} aq_ack_info;

typedef struct aq_acktr {
  aq_range storage[AQ_ACKTR_MAX_RANGES];
  aq_ranges rs;
  uint64_t floor;       /* packet numbers below this are treated as duplicates */
  uint64_t largest;     /* largest received (valid if has_largest) */
  aq_tstamp largest_ts; /* when it was received */
  uint64_t largest_ae;  /* largest ack-eliciting received (valid if has_ae) */
  int has_largest;
  int has_ae;
  uint64_t ect0, ect1, ce;
  unsigned unacked_ae;   /* ack-eliciting packets received since the last ACK sent */
  unsigned ae_threshold; /* ACK immediately once this many are unacked (default 2) */
  aq_tstamp deadline;    /* ack deadline, AQ_TSTAMP_NEVER if none */
  int ack_pending;       /* something was received since the last ACK (piggyback) */
  int immediate_space;   /* Initial/Handshake: every ack-eliciting packet ACKed at once */
  aq_duration max_ack_delay;
} aq_acktr;

/**
 * Initialise.  immediate_space != 0 for the Initial and Handshake spaces
 * (RFC 9000 §13.2.1: ACK them without delay); max_ack_delay is our own
 * transport parameter (App space).
 */
void aq_acktr_init(aq_acktr *at, int immediate_space, aq_duration max_ack_delay);

/**
 * Non-zero if pn was already received (or is older than what the tracker
 * still remembers: such packets are dropped as duplicates, which the peer's
 * loss recovery handles).  Call before processing a packet's frames.
 */
int aq_acktr_is_dup(const aq_acktr *at, uint64_t pn);

/**
 * Record a received, authenticated packet.  ecn is the IP ECN codepoint
 * (AQ_ECN_*).  Returns 0, or 1 if pn was a duplicate (nothing recorded);
 * AQ_ERR_INTERNAL cannot happen (the range set forgets, never refuses).
 */
AQ_MUST_CHECK int aq_acktr_on_pkt(aq_acktr *at, uint64_t pn, int ack_eliciting, unsigned ecn,
                                  aq_tstamp ts);

/** The ack deadline (AQ_TSTAMP_NEVER if no ACK is owed). */
aq_tstamp aq_acktr_get_expiry(const aq_acktr *at);

/** Non-zero if an ACK must be sent at ts (the deadline passed). */
int aq_acktr_handle_expiry(const aq_acktr *at, aq_tstamp ts);

/**
 * Fill *out with the ACK frame to send at ts: at most max_ranges ranges
 * (<= AQ_ACKTR_MAX_RANGES), largest first; ack_delay_exponent is our
 * transport parameter (<= 20).  Returns 0, or AQ_ERR_NOT_FOUND if there
 * is nothing to acknowledge.
 */
AQ_MUST_CHECK int aq_acktr_build(const aq_acktr *at, aq_ack_info *out, size_t max_ranges,
                                 unsigned ack_delay_exponent, aq_tstamp ts);

/** The connection sent an ACK frame: clear the deadline and counters. */
void aq_acktr_on_ack_sent(aq_acktr *at);

/**
 * A packet carrying one of our ACK frames was acknowledged; largest is that
 * frame's Largest Acknowledged.  RFC 9000 §13.2.4: we stop acknowledging
 * packet numbers <= largest (they are forgotten and later copies treated
 * as duplicates).
 */
void aq_acktr_on_ack_acked(aq_acktr *at, uint64_t largest);

/** Set how many ack-eliciting packets trigger an immediate ACK (>= 1). */
void aq_acktr_set_threshold(aq_acktr *at, unsigned ae_threshold);

/* ----------------------------------------------- ACK range wire numbers */

/**
 * Convert ranges (largest first, disjoint, descending, as in aq_ack_info)
 * to the numbers of an ACK frame (RFC 9000 §19.3.1): *largest, *first_range
 * and, for each further range k >= 1, gaps[k-1] and lens[k-1] (arrays of
 * n - 1 entries).  Returns 0, or AQ_ERR_INVALID_ARGUMENT if the ranges are
 * empty, not descending or separated by less than one missing number.
 */
AQ_MUST_CHECK int aq_ack_ranges_to_wire(const aq_range *ranges, size_t n, uint64_t *largest,
                                        uint64_t *first_range, uint64_t *gaps, uint64_t *lens);

/**
 * Convert the numbers of a received ACK frame to ranges [start, end),
 * largest first (at most cap; n_gaps gap/len pairs follow the first range).
 * Returns the number of ranges, AQ_ERR_MALFORMED if a computed packet number
 * would be negative (RFC 9000 §19.3.1: FRAME_ENCODING_ERROR), or
 * AQ_ERR_LIMIT if more than cap ranges are given.
 */
AQ_MUST_CHECK aq_ssize aq_ack_ranges_from_wire(aq_range *out, size_t cap, uint64_t largest,
                                               uint64_t first_range, const uint64_t *gaps,
                                               const uint64_t *lens, size_t n_gaps);

#endif /* AQ_ACKTR_H */
