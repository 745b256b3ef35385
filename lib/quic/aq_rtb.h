/*
 * aq_rtb.h - sent-packet records and loss recovery (RFC 9002 §6, App. A).
 *
 * aq_rtb is the record of packets sent in one packet number space: packet
 * number, send time, size, flags and an opaque 64-bit token that the
 * connection uses to find the frames to retransmit.  aq_recov ties the three
 * spaces to one RTT estimator and one congestion controller and runs the
 * App. A algorithms: ACK processing, loss detection, PTO and persistent
 * congestion.  The connection is told about every record's fate through one
 * callback (acknowledged, lost, or discarded with its space).
 *
 * Timers (STYLE.md §F): one loss detection timer (App. A.8):
 *  - loss time: the earliest time an outstanding packet below the largest
 *    acknowledged becomes lost by the time threshold (9/8 * max(srtt,
 *    latest_rtt), at least kGranularity); when it fires, those packets are
 *    declared lost.
 *  - otherwise the PTO: time of the last ack-eliciting packet of a space +
 *    (srtt + max(4 rttvar, kGranularity) [+ max_ack_delay in the App space])
 *    * 2^pto_count; the App space only after handshake confirmation.  When
 *    nothing ack-eliciting is in flight and the peer has not validated our
 *    address (client anti-deadlock), armed from now.  Disarmed while the
 *    server is amplification-limited.  When it fires, pto_count doubles the
 *    next period and the caller must send probe packets.
 * aq_recov_get_expiry returns the timer; aq_recov_handle_expiry acts on it.
 *
 * Memory: each space's records live in a ring allocated at init (capacity
 * fixed then); aq_recov_on_sent returns AQ_ERR_LIMIT when it is full (the
 * caller treats it like a closed congestion window).  Nothing is allocated
 * per packet.
 */
#ifndef AQ_RTB_H
#define AQ_RTB_H

#include "antquic.h"
#include "quic/aq_cc.h"
#include "quic/aq_ranges.h"
#include "quic/aq_rtt.h"

#define AQ_PN_SPACE_INITIAL 0
#define AQ_PN_SPACE_HANDSHAKE 1
#define AQ_PN_SPACE_APP 2
#define AQ_PN_SPACE_COUNT 3

/** kPacketThreshold (RFC 9002 §6.1.1). */
#define AQ_PACKET_THRESHOLD 3
/** Largest packet threshold reordering may raise it to (§6.1.1 allows adaptive thresholds). */
#define AQ_PACKET_THRESHOLD_MAX 256
/** kTimeThreshold = 9/8, in eighths of an RTT, and the largest value reordering may raise it to. */
#define AQ_TIME_THRESHOLD_8THS 9
#define AQ_TIME_THRESHOLD_8THS_MAX 16
/** kPersistentCongestionThreshold (RFC 9002 §7.6.1). */
#define AQ_PERSISTENT_CONGESTION_THRESHOLD 3
/** Suggested record capacities per space for aq_recov_init (Initial,
 * Handshake: a handful of flights; App: enough for a large window of small
 * packets). */
#define AQ_RTB_CAP_HANDSHAKE 64
#define AQ_RTB_CAP_APP 4096
/** Deliberately skipped packet numbers remembered per space (newest kept). */
#define AQ_MAX_SKIPPED_PNS 8

/* Flags of a sent packet given by the caller. */
#define AQ_SENT_ACK_ELICITING 0x01u
#define AQ_SENT_IN_FLIGHT 0x02u
#define AQ_SENT_ECT0 0x04u /* sent with the ECT(0) codepoint */
/* Internal record states. */
#define AQ_SENT_ACKED 0x10u
#define AQ_SENT_LOST 0x20u
#define AQ_SENT_MARK 0x40u /* newly acked/lost during the current operation */

typedef struct aq_sent_pkt {
  uint64_t pn;
  aq_tstamp sent_ts;
  /* The connection's handle for the packet's frames; once the record is
   * declared lost (and its frames handed back), the largest acknowledged
   * packet number at that moment, to measure reordering on a late ACK. */
  uint64_t token;
  uint32_t size;  /* bytes counted in bytes_in_flight when AQ_SENT_IN_FLIGHT */
  uint8_t flags;
} aq_sent_pkt;

typedef enum aq_rtb_event {
  AQ_RTB_ACKED = 0,    /* newly acknowledged */
  AQ_RTB_LOST = 1,     /* declared lost: retransmit its frames as needed */
  AQ_RTB_DISCARDED = 2 /* its space was discarded: neither acked nor lost */
} aq_rtb_event;

/**
 * The fate of a sent packet.  Called during aq_recov_on_ack,
 * aq_recov_handle_expiry and aq_recov_discard_space; it must not call back
 * into the same aq_recov.  Return 0, or a negative value to abort (the
 * aq_recov call then returns AQ_ERR_CALLBACK_FAILURE and the object must be
 * deleted).
 */
typedef int (*aq_rtb_pkt_cb)(void *user_data, unsigned space, const aq_sent_pkt *pkt,
                             aq_rtb_event ev);

/** One space's records (part of aq_recov; not used on its own). */
typedef struct aq_rtb {
  aq_sent_pkt *ring;
  size_t cap, head, len; /* len records from head, packet numbers ascending */
  size_t max_cap;        /* the ring doubles from AQ_RTB_FIRST_CAP up to this */
  uint64_t next_pn;
  uint64_t largest_acked;
  int has_largest_acked;
  aq_tstamp loss_time;       /* AQ_TSTAMP_NEVER if none */
  aq_tstamp last_ae_sent_ts; /* time_of_last_ack_eliciting_packet */
  uint64_t bytes_in_flight;
  size_t ae_in_flight; /* ack-eliciting packets in flight */
  uint64_t skipped[AQ_MAX_SKIPPED_PNS];
  size_t nskipped;
  uint64_t peer_ect0, peer_ect1, peer_ce; /* ECN counts the peer last reported */
  int discarded;
} aq_rtb;

/* Records a ring starts with: a handshake needs a few; a transfer grows it. */
#define AQ_RTB_FIRST_CAP 32u

/** Non-zero when b holds as many records as it ever may (sending in its space must wait). */
static inline int aq_rtb_full(const aq_rtb *b) {
  return b->len >= b->max_cap;
}

/** An ACK frame as numbers (from the frame codec). */
typedef struct aq_ack_in {
  uint64_t largest;       /* Largest Acknowledged */
  aq_duration ack_delay;  /* decoded with the peer's ack_delay_exponent, ns */
  const aq_range *ranges; /* [start, end) each, disjoint, any order; must include largest */
  size_t nranges;
  int has_ecn;
  uint64_t ect0, ect1, ce;
} aq_ack_in;

/** What the loss detection timer asks the caller to do. */
typedef struct aq_recov_action {
  unsigned probes;      /* ack-eliciting probe packets to send now (0, 1 or 2) */
  unsigned probe_space; /* in this space */
} aq_recov_action;

typedef struct aq_recov {
  aq_rtb sp[AQ_PN_SPACE_COUNT];
  aq_rtt rtt;
  aq_cc *cc; /* borrowed: owned by the connection */
  const aq_mem *mem;
  aq_rtb_pkt_cb cb;
  void *user_data;
  unsigned pto_count;
  aq_duration max_ack_delay; /* the peer's, ns */
  aq_tstamp timer;           /* loss detection timer, AQ_TSTAMP_NEVER if disarmed */
  int is_server;
  int handshake_confirmed;
  int peer_validated_addr; /* PeerCompletedAddressValidation */
  int has_handshake_keys;
  int amplification_limited;
  int ecn_failed; /* ECN validation failed (RFC 9000 §13.4.2): stop marking */
  /* Spurious loss detection (RFC 9002 §6.1.1, §6.1.2 adaptive thresholds):
   * lost records stay in the ring for a while; an ACK that later covers one
   * proves reordering, not loss, and raises the thresholds so the same
   * reordering is not taken for loss again (each spurious loss costs a
   * window reduction and a retransmission). */
  unsigned pkt_thresh;      /* packet reordering threshold (starts at 3) */
  unsigned time_thresh_8th; /* time threshold in eighths of an RTT (starts at 9) */
  uint64_t spurious_losses; /* packets declared lost and acknowledged later */
  /* The current congestion event (loss episode): its recovery start, space,
   * the largest acknowledged when it began, in-flight packets declared lost
   * during it and how many of those were acknowledged later; when all were,
   * the window reduction is undone (aq_cc_undo). */
  aq_tstamp ev_recovery_start;
  unsigned ev_space;
  uint64_t ev_largest;
  uint64_t ev_lost, ev_spurious;
  uint64_t cc_undos; /* congestion events undone */
} aq_recov;

/**
 * Initialise with ring capacities per space (each >= 4), a borrowed
 * congestion controller and the packet callback.  Returns 0 or
 * AQ_ERR_NOMEM (nothing allocated then).
 */
AQ_MUST_CHECK int aq_recov_init(aq_recov *r, const aq_mem *mem, const size_t cap[AQ_PN_SPACE_COUNT],
                                int is_server, aq_cc *cc, aq_rtb_pkt_cb cb, void *user_data);

/** Free the rings (no callbacks). */
void aq_recov_free(aq_recov *r);

/** The packet number the next packet of space must use. */
uint64_t aq_recov_next_pn(const aq_recov *r, unsigned space);

/**
 * Deliberately skip the next packet number of space (an optimistic-ACK
 * defence, RFC 9000 §21.4): an ACK covering it is a protocol violation.
 * Returns the skipped number.
 */
uint64_t aq_recov_skip_pn(aq_recov *r, unsigned space);

/**
 * Record a packet sent with number pn (must equal aq_recov_next_pn) of size
 * bytes, flags AQ_SENT_ACK_ELICITING / AQ_SENT_IN_FLIGHT, and the caller's
 * token.  Returns 0, AQ_ERR_INVALID_ARGUMENT (wrong pn, discarded space),
 * or AQ_ERR_LIMIT (ring full: stop sending in this space for now).
 */
AQ_MUST_CHECK int aq_recov_on_sent(aq_recov *r, unsigned space, uint64_t pn, uint32_t size,
                                   unsigned flags, uint64_t token, aq_tstamp ts);

/**
 * Process an ACK frame received in space at ts (App. A.7): newly acked
 * packets are reported (AQ_RTB_ACKED), the RTT is sampled, ECN-CE reacted
 * to, losses detected (AQ_RTB_LOST) and the congestion controller fed.
 * Returns 0; AQ_ERR_PROTO if the ACK covers a packet number never sent or
 * deliberately skipped, or is malformed (nothing changed then; close with
 * PROTOCOL_VIOLATION); AQ_ERR_CALLBACK_FAILURE.
 */
AQ_MUST_CHECK int aq_recov_on_ack(aq_recov *r, unsigned space, const aq_ack_in *ack, aq_tstamp ts);

/** The loss detection timer (AQ_TSTAMP_NEVER if disarmed). */
aq_tstamp aq_recov_get_expiry(const aq_recov *r);

/**
 * Run the loss detection timer if due at ts (App. A.9).  *act tells the
 * caller how many probes to send in which space (0 probes: only losses were
 * declared, or the timer was not due).  Returns 0 or AQ_ERR_CALLBACK_FAILURE.
 */
AQ_MUST_CHECK int aq_recov_handle_expiry(aq_recov *r, aq_tstamp ts, aq_recov_action *act);

/**
 * Discard space (RFC 9002 §6.4, App. A.10): every record is reported
 * AQ_RTB_DISCARDED and removed from bytes in flight without informing the
 * congestion controller; the space then refuses new packets.  Returns 0 or
 * AQ_ERR_CALLBACK_FAILURE.
 */
AQ_MUST_CHECK int aq_recov_discard_space(aq_recov *r, unsigned space, aq_tstamp ts);

/** Set connection state that the timer depends on; each re-arms the timer at ts. */
void aq_recov_set_handshake_confirmed(aq_recov *r, aq_tstamp ts);
void aq_recov_set_peer_validated_addr(aq_recov *r, aq_tstamp ts);
void aq_recov_set_has_handshake_keys(aq_recov *r, aq_tstamp ts);
void aq_recov_set_amplification_limited(aq_recov *r, int limited, aq_tstamp ts);
/** The peer's max_ack_delay transport parameter (ns). */
void aq_recov_set_max_ack_delay(aq_recov *r, aq_duration max_ack_delay);

/**
 * Non-zero while ECN may be used: the caller marks packets ECT(0) (and
 * passes AQ_SENT_ECT0) only while this holds.  It becomes 0 for good when an
 * ACK fails validation (RFC 9000 §13.4.2.1): counts missing or decreasing,
 * or rising by less than the ECT(0) packets newly acknowledged, or ECT(1)
 * reported although we only send ECT(0).
 */
static inline int aq_recov_ecn_ok(const aq_recov *r) {
  return !r->ecn_failed;
}

/** Bytes in flight over all spaces. */
uint64_t aq_recov_bytes_in_flight(const aq_recov *r);

/** The current PTO period for space, including backoff (App. A.8). */
aq_duration aq_recov_pto_duration(const aq_recov *r, unsigned space);

/** The persistent congestion duration (RFC 9002 §7.6.1). */
aq_duration aq_recov_pc_duration(const aq_recov *r);

#endif /* AQ_RTB_H */
