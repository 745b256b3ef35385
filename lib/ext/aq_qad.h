/*
 * aq_qad.h - QUIC Address Discovery policy core
 * (draft-ietf-quic-address-discovery): mode negotiation from the
 * address_discovery transport parameter, a per-path token bucket for
 * outgoing OBSERVED_ADDRESS frames, the receiver's per-path sequence
 * filter, and configuration from environment-like lookups.
 *
 * Pure and sans-IO: no clock (times are aq_tstamp arguments), no getenv
 * (a lookup callback is passed in), no globals.  The frame codec lives in
 * aq_frame.h and the TP values in aq_tp.h (AQ_TP_AD_*).
 */
#ifndef AQ_QAD_H
#define AQ_QAD_H

#include <stdint.h>

#include "antquic.h"

/** Default and maximum observation rate (OBSERVED_ADDRESS frames per second per path). */
#define AQ_QAD_DEFAULT_RATE 10u
#define AQ_QAD_MAX_RATE 63u

/* ------------------------------------------------------------ negotiation */

/**
 * Check a received address_discovery TP value (draft §3): 0, 1 or 2.
 * Returns 0, or AQ_ERR_VALUE_RANGE, which the caller must turn into a
 * connection error of type TRANSPORT_PARAMETER_ERROR.
 */
AQ_MUST_CHECK int aq_qad_tp_valid(uint64_t v);

/**
 * 1 if we may send OBSERVED_ADDRESS frames: we are willing to provide
 * (local 0 or 2) and the peer is interested (peer 1 or 2).  Any invalid
 * value (including a sentinel for "absent") gives 0.
 */
int aq_qad_may_send(uint64_t local, uint64_t peer);

/**
 * 1 if we may receive OBSERVED_ADDRESS frames: we are interested (local 1
 * or 2) and the peer is willing to provide (peer 0 or 2).  Invalid values
 * give 0.  Frames received when this is 0 are a protocol violation.
 */
int aq_qad_may_receive(uint64_t local, uint64_t peer);

/* ------------------------------------------------------------ rate limit */

/**
 * Token bucket with rate = burst = `rate` tokens per second.  Tokens are
 * kept in fixed point with AQ_QAD_TOKEN_UNIT units per token, so a refill
 * of dt nanoseconds adds exactly dt * rate units (no rounding drift).
 */
#define AQ_QAD_TOKEN_UNIT 1000000000ull

typedef struct aq_qad_bucket {
  uint64_t units; /* current tokens * AQ_QAD_TOKEN_UNIT */
  aq_tstamp last; /* time of the last refill */
  uint32_t rate;  /* tokens per second, 1..AQ_QAD_MAX_RATE */
} aq_qad_bucket;

/**
 * Start a full bucket (rate tokens) at time ts.  rate must be
 * 1..AQ_QAD_MAX_RATE, else AQ_ERR_VALUE_RANGE and b is zeroed (takes fail).
 */
AQ_MUST_CHECK int aq_qad_bucket_init(aq_qad_bucket *b, uint32_t rate, aq_tstamp ts);

/**
 * Refill up to ts and take one token.  Returns 1 if a token was taken, 0 if
 * not.  A ts earlier than the last one adds nothing.
 */
int aq_qad_bucket_take(aq_qad_bucket *b, aq_tstamp ts);

/**
 * The earliest time >= ts at which a take would succeed (ts itself if a
 * token is available now).  Does not change the bucket.  Returns
 * AQ_TSTAMP_NEVER for an uninitialised (rate 0) bucket.
 */
aq_tstamp aq_qad_bucket_next(const aq_qad_bucket *b, aq_tstamp ts);

/* ------------------------------------------------------------ receive */

/** Per-path receiver state: the last accepted observation. */
typedef struct aq_qad_rx {
  int have;          /* 0 until the first accepted frame */
  uint64_t last_seq; /* sequence number of the last accepted frame */
  aq_addr addr;      /* address of the last accepted frame */
} aq_qad_rx;

/** Results of aq_qad_rx_accept. */
enum {
  AQ_QAD_RX_STALE = 0,   /* seq <= last seen on the path: ignore (draft §4.1) */
  AQ_QAD_RX_SAME = 1,    /* accepted, same address as before */
  AQ_QAD_RX_CHANGED = 2, /* accepted, address differs (or first observation) */
};

/** Reset per-path receiver state (a new path starts empty). */
void aq_qad_rx_init(aq_qad_rx *rx);

/**
 * Filter an incoming OBSERVED_ADDRESS (seq, addr) for this path.  Accepts
 * only seq greater than the last accepted seq; then records it.  The first
 * accepted frame counts as CHANGED.  Returns AQ_QAD_RX_*.
 */
int aq_qad_rx_accept(aq_qad_rx *rx, uint64_t seq, const aq_addr *addr);

/* ------------------------------------------------------------ config */

/*
 * aq_qad_config, aq_qad_config_default and aq_qad_config_from_env are
 * public (antquic.h, "QUIC address discovery"); implemented in aq_qad.c.
 */

#endif /* AQ_QAD_H */
