/*
 * aq_acktr.c - ACK tracker (RFC 9000 §13.2).
 *
 * Timers: the ack deadline only (see aq_acktr.h).
 */
#include "aq_acktr.h"

void aq_acktr_init(aq_acktr *at, int immediate_space, aq_duration max_ack_delay) {
  aq_ranges_init(&at->rs, at->storage, AQ_ACKTR_MAX_RANGES, AQ_RANGES_DROP_LOWEST);
  at->floor = 0;
  at->largest = 0;
  at->largest_ts = 0;
  at->largest_ae = 0;
  at->has_largest = 0;
  at->has_ae = 0;
  at->ect0 = at->ect1 = at->ce = 0;
  at->unacked_ae = 0;
  at->ae_threshold = 2;
  at->deadline = AQ_TSTAMP_NEVER;
  at->ack_pending = 0;
  at->immediate_space = immediate_space;
  at->max_ack_delay = max_ack_delay;
}

int aq_acktr_is_dup(const aq_acktr *at, uint64_t pn) {
  return pn < at->floor || aq_ranges_contains(&at->rs, pn);
}

/* Move the ack deadline earlier (never later). */
static void set_deadline(aq_acktr *at, aq_tstamp when) {
  if (when < at->deadline) {
    at->deadline = when;
  }
}

int aq_acktr_on_pkt(aq_acktr *at, uint64_t pn, int ack_eliciting, unsigned ecn, aq_tstamp ts) {
  if (aq_acktr_is_dup(at, pn)) {
    return 1;
  }
  if (ack_eliciting) {
    int immediate = at->immediate_space;
    if (at->has_ae) {
      /* https://www.rfc-editor.org/rfc/rfc9000#section-13.2.1: "SHOULD
       * generate and send an ACK frame without delay when it receives an
       * ack-eliciting packet either: when the received packet has a packet
       * number less than another ack-eliciting packet that has been
       * received, or when the packet has a packet number larger than the
       * highest-numbered ack-eliciting packet that has been received and
       * there are missing packets between that packet and this packet." */
      if (pn < at->largest_ae) {
        immediate = 1;
      } else if (!aq_ranges_contains_all(&at->rs, at->largest_ae + 1, pn)) {
        immediate = 1;
      }
    }
    /* §13.2.1: packets marked CE SHOULD be acknowledged immediately. */
    if (ecn == AQ_ECN_CE) {
      immediate = 1;
    }
    at->unacked_ae++;
    if (at->unacked_ae >= at->ae_threshold) {
      immediate = 1;
    }
    set_deadline(at, immediate ? ts : ts + at->max_ack_delay);
    if (!at->has_ae || pn > at->largest_ae) {
      at->largest_ae = pn;
      at->has_ae = 1;
    }
  }
  /* DROP_LOWEST never fails; a full set forgets its oldest range. */
  if (aq_ranges_insert(&at->rs, pn, pn + 1) != 0) {
    return AQ_ERR_INTERNAL;
  }
  if (at->rs.n == at->rs.cap) {
    /* Bounded memory: packets older than the oldest range still tracked
     * are henceforth treated as duplicates. */
    uint64_t lo = aq_ranges_min(&at->rs);
    at->floor = lo > at->floor ? lo : at->floor;
  }
  if (!at->has_largest || pn > at->largest) {
    at->largest = pn;
    at->largest_ts = ts;
    at->has_largest = 1;
  }
  switch (ecn & 3) {
  case AQ_ECN_ECT0: at->ect0++; break;
  case AQ_ECN_ECT1: at->ect1++; break;
  case AQ_ECN_CE: at->ce++; break;
  default: break;
  }
  at->ack_pending = 1;
  return 0;
}

aq_tstamp aq_acktr_get_expiry(const aq_acktr *at) {
  return at->deadline;
}

int aq_acktr_handle_expiry(const aq_acktr *at, aq_tstamp ts) {
  return at->deadline != AQ_TSTAMP_NEVER && at->deadline <= ts;
}

int aq_acktr_build(const aq_acktr *at, aq_ack_info *out, size_t max_ranges,
                   unsigned ack_delay_exponent, aq_tstamp ts) {
  if (at->rs.n == 0 || !at->has_largest || max_ranges == 0 || ack_delay_exponent > 20) {
    return AQ_ERR_NOT_FOUND;
  }
  if (max_ranges > AQ_ACKTR_MAX_RANGES) {
    max_ranges = AQ_ACKTR_MAX_RANGES;
  }
  size_t n = at->rs.n < max_ranges ? at->rs.n : max_ranges;
  for (size_t k = 0; k < n; k++) {
    out->ranges[k] = at->rs.r[at->rs.n - 1 - k];
  }
  out->nranges = n;
  /* The largest tracked range always ends at largest+1 unless ACK-of-ACK
   * pruning removed it; report what is tracked. */
  out->largest = out->ranges[0].end - 1;
  aq_tstamp rts = out->largest == at->largest ? at->largest_ts : ts;
  out->ack_delay = ts > rts ? ts - rts : 0;
  out->ack_delay_enc = (out->ack_delay / AQ_MICROSECONDS) >> ack_delay_exponent;
  out->ect0 = at->ect0;
  out->ect1 = at->ect1;
  out->ce = at->ce;
  out->has_ecn = (at->ect0 | at->ect1 | at->ce) != 0;
  return 0;
}

void aq_acktr_on_ack_sent(aq_acktr *at) {
  at->unacked_ae = 0;
  at->deadline = AQ_TSTAMP_NEVER;
  at->ack_pending = 0;
}

void aq_acktr_on_ack_acked(aq_acktr *at, uint64_t largest) {
  if (largest == UINT64_MAX) {
    return;
  }
  aq_ranges_remove_below(&at->rs, largest + 1);
  if (largest + 1 > at->floor) {
    at->floor = largest + 1;
  }
}

void aq_acktr_set_threshold(aq_acktr *at, unsigned ae_threshold) {
  at->ae_threshold = ae_threshold ? ae_threshold : 1;
}

int aq_ack_ranges_to_wire(const aq_range *ranges, size_t n, uint64_t *largest,
                          uint64_t *first_range, uint64_t *gaps, uint64_t *lens) {
  if (n == 0 || ranges[0].start >= ranges[0].end) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  *largest = ranges[0].end - 1;
  *first_range = ranges[0].end - 1 - ranges[0].start;
  for (size_t k = 1; k < n; k++) {
    const aq_range *hi = &ranges[k - 1], *lo = &ranges[k];
    /* §19.3.1: Gap = previous smallest - this largest - 2, so ranges must
     * be separated by at least one unacknowledged number. */
    if (lo->start >= lo->end || lo->end >= hi->start) {
      return AQ_ERR_INVALID_ARGUMENT;
    }
    gaps[k - 1] = hi->start - lo->end - 1;
    lens[k - 1] = lo->end - 1 - lo->start;
  }
  return 0;
}

aq_ssize aq_ack_ranges_from_wire(aq_range *out, size_t cap, uint64_t largest, uint64_t first_range,
                                 const uint64_t *gaps, const uint64_t *lens, size_t n_gaps) {
  if (n_gaps + 1 > cap) {
    return AQ_ERR_LIMIT;
  }
  /* https://www.rfc-editor.org/rfc/rfc9000#section-19.3.1: "If any computed
   * packet number is negative, an endpoint MUST generate a connection error
   * of type FRAME_ENCODING_ERROR." */
  if (first_range > largest || largest == UINT64_MAX) {
    return AQ_ERR_MALFORMED;
  }
  uint64_t smallest = largest - first_range;
  out[0].start = smallest;
  out[0].end = largest + 1;
  for (size_t k = 0; k < n_gaps; k++) {
    /* largest_k = smallest_{k-1} - gap - 2; smallest_k = largest_k - len */
    if (gaps[k] > UINT64_MAX - 2 || smallest < gaps[k] + 2) {
      return AQ_ERR_MALFORMED;
    }
    uint64_t hi = smallest - gaps[k] - 2;
    if (lens[k] > hi) {
      return AQ_ERR_MALFORMED;
    }
    smallest = hi - lens[k];
    out[k + 1].start = smallest;
    out[k + 1].end = hi + 1;
  }
  return (aq_ssize)(n_gaps + 1);
}
