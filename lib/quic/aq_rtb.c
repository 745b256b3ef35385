/*
 * aq_rtb.c - sent-packet records and loss recovery (RFC 9002 App. A).
 *
 * Timers: the loss detection timer only; its rules are listed at the top
 * of aq_rtb.h and implemented in set_timer() below (App. A.8).
 *
 * Each space keeps its records in a ring ordered by packet number.  An
 * acknowledged or lost record stays in the ring as a tombstone until every
 * older record is gone too; tombstones let the persistent congestion check
 * see whether a packet between two lost ones was acknowledged (RFC 9002
 * §7.6.2 "none of the packets sent between the send times of these two
 * packets are acknowledged").  When the ring is full, tombstones are
 * compacted away.
 */
#include "aq_rtb.h"

#include <string.h>

#include "aq_mem.h"

static const unsigned TOMB = AQ_SENT_ACKED | AQ_SENT_LOST;

/* The i-th record from the ring head. */
static aq_sent_pkt *rtb_at(const aq_rtb *b, size_t i) {
  return &b->ring[(b->head + i) % b->cap];
}

/* First index whose packet number is >= pn. */
static size_t rtb_find(const aq_rtb *b, uint64_t pn) {
  size_t lo = 0, hi = b->len;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (rtb_at(b, mid)->pn >= pn) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

/* Drop tombstones (acked/lost records) at the ring head.  A record lost
 * but not acknowledged stays while it was sent after keep_after: a late ACK
 * of it reveals a spurious loss (reordering).  It never holds more than half
 * the ring, though: the records behind it stay too, and the connection
 * stops sending in a space whose ring is full (with nothing in flight, no
 * ACK or timer would ever come to free it). */
static void rtb_reap(aq_rtb *b, aq_tstamp keep_after) {
  while (b->len > 0) {
    const aq_sent_pkt *p = rtb_at(b, 0);
    if ((p->flags & TOMB) == 0 || ((p->flags & TOMB) == AQ_SENT_LOST &&
                                   p->sent_ts > keep_after && b->len < b->max_cap / 2)) {
      break;
    }
    b->head = (b->head + 1) % b->cap;
    b->len--;
  }
}

/* Remove every tombstone, keeping live records in order (ring full). */
static void rtb_compact(aq_rtb *b) {
  size_t w = 0;
  for (size_t i = 0; i < b->len; i++) {
    aq_sent_pkt *p = rtb_at(b, i);
    if ((p->flags & TOMB) == 0) {
      *rtb_at(b, w++) = *p;
    }
  }
  b->len = w;
}

/* Double the ring (up to max_cap), keeping the records in order from index 0. */
static int rtb_grow(aq_rtb *b, const aq_mem *mem) {
  size_t ncap = b->cap * 2 < b->max_cap ? b->cap * 2 : b->max_cap;
  aq_sent_pkt *ring = aq_mem_malloc(mem, ncap * sizeof(aq_sent_pkt));
  if (ring == NULL) {
    return AQ_ERR_NOMEM;
  }
  for (size_t i = 0; i < b->len; i++) {
    ring[i] = *rtb_at(b, i);
  }
  aq_mem_free(mem, b->ring);
  b->ring = ring;
  b->cap = ncap;
  b->head = 0;
  return 0;
}

/* v << n, saturating at UINT64_MAX. */
static aq_duration shl_sat(aq_duration v, unsigned n) {
  if (n >= 63 || v > (UINT64_MAX >> n)) {
    return UINT64_MAX;
  }
  return v << n;
}

/* a + d, saturating at AQ_TSTAMP_NEVER. */
static aq_tstamp add_sat(aq_tstamp a, aq_duration d) {
  return a > UINT64_MAX - d ? UINT64_MAX : a + d;
}

int aq_recov_init(aq_recov *r, const aq_mem *mem, const size_t cap[AQ_PN_SPACE_COUNT],
                  int is_server, aq_cc *cc, aq_rtb_pkt_cb cb, void *user_data) {
  memset(r, 0, sizeof(*r));
  for (unsigned s = 0; s < AQ_PN_SPACE_COUNT; s++) {
    aq_rtb *b = &r->sp[s];
    if (cap[s] < 4) {
      goto fail;
    }
    /* Most connections are short: the ring starts small and grows (rtb_grow). */
    b->cap = cap[s] < AQ_RTB_FIRST_CAP ? cap[s] : AQ_RTB_FIRST_CAP;
    b->max_cap = cap[s];
    b->ring = aq_mem_calloc(mem, b->cap, sizeof(aq_sent_pkt));
    if (b->ring == NULL) {
      goto fail;
    }
    b->loss_time = AQ_TSTAMP_NEVER;
  }
  r->mem = mem;
  r->cc = cc;
  r->cb = cb;
  r->user_data = user_data;
  r->is_server = is_server;
  /* App. A.6: a server assumes the client validated its address. */
  r->peer_validated_addr = is_server;
  r->max_ack_delay = 25 * AQ_MILLISECONDS;
  r->timer = AQ_TSTAMP_NEVER;
  r->pkt_thresh = AQ_PACKET_THRESHOLD;
  r->time_thresh_8th = AQ_TIME_THRESHOLD_8THS;
  r->ev_recovery_start = AQ_TSTAMP_NEVER;
  aq_rtt_init(&r->rtt, 0);
  return 0;
fail:
  for (unsigned s = 0; s < AQ_PN_SPACE_COUNT; s++) {
    aq_mem_free(mem, r->sp[s].ring);
    r->sp[s].ring = NULL;
  }
  return cap[0] < 4 || cap[1] < 4 || cap[2] < 4 ? AQ_ERR_INVALID_ARGUMENT : AQ_ERR_NOMEM;
}

void aq_recov_free(aq_recov *r) {
  for (unsigned s = 0; s < AQ_PN_SPACE_COUNT; s++) {
    aq_mem_free(r->mem, r->sp[s].ring);
    r->sp[s].ring = NULL;
  }
}

uint64_t aq_recov_next_pn(const aq_recov *r, unsigned space) {
  return r->sp[space].next_pn;
}

uint64_t aq_recov_skip_pn(aq_recov *r, unsigned space) {
  aq_rtb *b = &r->sp[space];
  uint64_t pn = b->next_pn++;
  if (b->nskipped == AQ_MAX_SKIPPED_PNS) {
    memmove(&b->skipped[0], &b->skipped[1], (AQ_MAX_SKIPPED_PNS - 1) * sizeof(uint64_t));
    b->nskipped--;
  }
  b->skipped[b->nskipped++] = pn;
  return pn;
}

/* Ack-eliciting packets in flight over all spaces. */
static size_t ae_in_flight_all(const aq_recov *r) {
  size_t n = 0;
  for (unsigned s = 0; s < AQ_PN_SPACE_COUNT; s++) {
    n += r->sp[s].ae_in_flight;
  }
  return n;
}

aq_duration aq_recov_pto_duration(const aq_recov *r, unsigned space) {
  aq_duration d = shl_sat(aq_rtt_pto_base(&r->rtt), r->pto_count);
  if (space == AQ_PN_SPACE_APP) {
    d = add_sat(d, shl_sat(r->max_ack_delay, r->pto_count));
  }
  return d;
}

aq_duration aq_recov_pc_duration(const aq_recov *r) {
  /* §7.6.1: (smoothed_rtt + max(4*rttvar, kGranularity) + max_ack_delay)
   * * kPersistentCongestionThreshold. */
  return (aq_rtt_pto_base(&r->rtt) + r->max_ack_delay) * AQ_PERSISTENT_CONGESTION_THRESHOLD;
}

/* App. A.8 GetPtoTimeAndSpace. */
static aq_tstamp pto_time(const aq_recov *r, aq_tstamp ts, unsigned *space) {
  if (ae_in_flight_all(r) == 0) {
    /* Anti-deadlock (client): arm from now in the best available space. */
    *space = r->has_handshake_keys ? AQ_PN_SPACE_HANDSHAKE : AQ_PN_SPACE_INITIAL;
    return add_sat(ts, aq_recov_pto_duration(r, AQ_PN_SPACE_INITIAL));
  }
  aq_tstamp best = AQ_TSTAMP_NEVER;
  *space = AQ_PN_SPACE_INITIAL;
  for (unsigned s = 0; s < AQ_PN_SPACE_COUNT; s++) {
    const aq_rtb *b = &r->sp[s];
    if (b->discarded || b->ae_in_flight == 0) {
      continue;
    }
    if (s == AQ_PN_SPACE_APP && !r->handshake_confirmed) {
      /* "Skip Application Data until handshake confirmed." */
      break;
    }
    aq_tstamp t = add_sat(b->last_ae_sent_ts, aq_recov_pto_duration(r, s));
    if (t < best) {
      best = t;
      *space = s;
    }
  }
  return best;
}

/* App. A.8 GetLossTimeAndSpace: the earliest loss_time and its space. */
static aq_tstamp earliest_loss_time(const aq_recov *r, unsigned *space) {
  aq_tstamp t = AQ_TSTAMP_NEVER;
  for (unsigned s = 0; s < AQ_PN_SPACE_COUNT; s++) {
    if (!r->sp[s].discarded && r->sp[s].loss_time < t) {
      t = r->sp[s].loss_time;
      *space = s;
    }
  }
  return t;
}

/* App. A.8 SetLossDetectionTimer. */
static void set_timer(aq_recov *r, aq_tstamp ts) {
  unsigned space;
  aq_tstamp lt = earliest_loss_time(r, &space);
  if (lt != AQ_TSTAMP_NEVER) {
    r->timer = lt;
    return;
  }
  if (r->is_server && r->amplification_limited) {
    /* "The server's timer is not set if nothing can be sent." */
    r->timer = AQ_TSTAMP_NEVER;
    return;
  }
  if (ae_in_flight_all(r) == 0 && r->peer_validated_addr) {
    r->timer = AQ_TSTAMP_NEVER;
    return;
  }
  r->timer = pto_time(r, ts, &space);
}

int aq_recov_on_sent(aq_recov *r, unsigned space, uint64_t pn, uint32_t size, unsigned flags,
                     uint64_t token, aq_tstamp ts) {
  if (space >= AQ_PN_SPACE_COUNT) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  aq_rtb *b = &r->sp[space];
  if (b->discarded || pn != b->next_pn) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (b->len == b->cap && b->cap < b->max_cap) {
    int rc = rtb_grow(b, r->mem);
    if (rc != 0) {
      return rc;
    }
  } else if (b->len == b->cap) {
    rtb_compact(b);
    if (b->len == b->cap) {
      return AQ_ERR_LIMIT;
    }
  }
  aq_sent_pkt *p = rtb_at(b, b->len++);
  p->pn = pn;
  p->sent_ts = ts;
  p->token = token;
  p->size = size;
  p->flags = (uint8_t)(flags & (AQ_SENT_ACK_ELICITING | AQ_SENT_IN_FLIGHT | AQ_SENT_ECT0));
  b->next_pn++;
  if (p->flags & AQ_SENT_IN_FLIGHT) {
    b->bytes_in_flight += size;
    if (p->flags & AQ_SENT_ACK_ELICITING) {
      b->ae_in_flight++;
    }
    aq_cc_on_packet_sent(r->cc, size, ts);
  }
  if (p->flags & AQ_SENT_ACK_ELICITING) {
    b->last_ae_sent_ts = ts;
  }
  set_timer(r, ts);
  return 0;
}

/* Lost records sent before this time are forgotten: an ACK of one that old
 * is no evidence about the thresholds (3 PTO periods, the persistent
 * congestion duration, after its send time). */
static aq_tstamp lost_keep_after(const aq_recov *r, aq_tstamp ts) {
  aq_duration keep = aq_recov_pc_duration(r);
  return ts > keep ? ts - keep : 0;
}

/* The time threshold (§6.1.2): time_thresh_8th / 8 * max(smoothed_rtt,
 * latest_rtt), at least kGranularity. */
static aq_duration loss_delay(const aq_recov *r) {
  aq_duration m = r->rtt.smoothed > r->rtt.latest ? r->rtt.smoothed : r->rtt.latest;
  m = m / 8 * r->time_thresh_8th + m % 8 * r->time_thresh_8th / 8;
  return m > AQ_GRANULARITY ? m : AQ_GRANULARITY;
}

/* A record declared lost was acknowledged at ts after all: raise the packet
 * threshold above the reordering distance it saw (the largest acknowledged
 * now, when its ACK arrives right after it), and the time threshold above
 * the delay it had, within the caps. */
static void on_spurious_loss(aq_recov *r, unsigned space, const aq_sent_pkt *p, aq_tstamp ts) {
  r->spurious_losses++;
  /* Part of the current loss episode (declared lost since it began)? */
  if ((p->flags & AQ_SENT_IN_FLIGHT) && r->ev_lost > 0 && space == r->ev_space &&
      p->token >= r->ev_largest && r->cc->recovery_start == r->ev_recovery_start) {
    if (++r->ev_spurious >= r->ev_lost) {
      aq_cc_undo(r->cc);
      r->cc_undos++;
      r->ev_lost = 0;
      r->ev_spurious = 0;
    }
  }
  /* How far it was overtaken: at least what was acknowledged when it was
   * declared lost, at most what is acknowledged now that it arrived. */
  uint64_t far = p->token > r->sp[space].largest_acked ? p->token : r->sp[space].largest_acked;
  if (far > p->pn && far - p->pn >= r->pkt_thresh) {
    uint64_t t = far - p->pn + 1;
    r->pkt_thresh = t > AQ_PACKET_THRESHOLD_MAX ? AQ_PACKET_THRESHOLD_MAX : (unsigned)t;
  }
  aq_duration base = r->rtt.smoothed > r->rtt.latest ? r->rtt.smoothed : r->rtt.latest;
  if (base > 0 && ts > p->sent_ts) {
    uint64_t need = (ts - p->sent_ts) * 8 / base + 1;
    if (need > r->time_thresh_8th) {
      r->time_thresh_8th =
          need > AQ_TIME_THRESHOLD_8THS_MAX ? AQ_TIME_THRESHOLD_8THS_MAX : (unsigned)need;
    }
  }
}

/* Remove a record from bytes_in_flight and the ack-eliciting count. */
static void take_out_of_flight(aq_rtb *b, const aq_sent_pkt *p) {
  if (p->flags & AQ_SENT_IN_FLIGHT) {
    b->bytes_in_flight -= p->size;
    if (p->flags & AQ_SENT_ACK_ELICITING) {
      b->ae_in_flight--;
    }
  }
}

/* App. A.10 DetectAndRemoveLostPackets + OnPacketsLost (B.8), for one space. */
static int detect_lost(aq_recov *r, unsigned space, aq_tstamp ts) {
  aq_rtb *b = &r->sp[space];
  b->loss_time = AQ_TSTAMP_NEVER;
  if (!b->has_largest_acked) {
    return 0;
  }
  aq_duration ldelay = loss_delay(r);
  aq_tstamp lost_send_time = ts >= ldelay ? ts - ldelay : 0;
  int time_ok = ts >= ldelay;
  aq_tstamp largest_lost_sent = 0;
  int any_in_flight = 0;
  uint64_t nlost = 0;
  size_t first = SIZE_MAX, last = 0;
  for (size_t i = 0; i < b->len; i++) {
    aq_sent_pkt *p = rtb_at(b, i);
    if (p->pn > b->largest_acked) {
      break;
    }
    if (p->flags & TOMB) {
      continue;
    }
    /* §6.1: lost if kPacketThreshold older than an acknowledged packet, or
     * sent long enough before now (time threshold). */
    if ((time_ok && p->sent_ts <= lost_send_time) ||
        b->largest_acked >= p->pn + r->pkt_thresh) {
      p->flags |= AQ_SENT_LOST | AQ_SENT_MARK;
      take_out_of_flight(b, p);
      if (p->flags & AQ_SENT_IN_FLIGHT) {
        any_in_flight = 1;
        nlost++;
        largest_lost_sent = p->sent_ts > largest_lost_sent ? p->sent_ts : largest_lost_sent;
      }
      first = i < first ? i : first;
      last = i;
      if (r->cb(r->user_data, space, p, AQ_RTB_LOST) < 0) {
        return AQ_ERR_CALLBACK_FAILURE;
      }
      p->token = b->largest_acked; /* the frames are handed back: see aq_sent_pkt */
    } else {
      aq_tstamp t = add_sat(p->sent_ts, ldelay);
      b->loss_time = t < b->loss_time ? t : b->loss_time;
    }
  }
  if (first == SIZE_MAX) {
    return 0;
  }
  if (any_in_flight) {
    aq_cc_on_loss(r->cc, largest_lost_sent, ts);
    if (r->cc->recovery_start != r->ev_recovery_start || space != r->ev_space) {
      /* A new congestion event began with these losses. */
      r->ev_recovery_start = r->cc->recovery_start;
      r->ev_space = space;
      r->ev_largest = b->largest_acked;
      r->ev_lost = 0;
      r->ev_spurious = 0;
    }
    r->ev_lost += nlost;
  }
  /* §7.6.2 persistent congestion: two ack-eliciting packets lost in this
   * round, sent after the first RTT sample, none acknowledged between
   * them, further apart than the persistent congestion duration. */
  int pc = 0;
  if (r->rtt.has_sample) {
    aq_duration pcd = aq_recov_pc_duration(r);
    aq_tstamp run_start = AQ_TSTAMP_NEVER;
    for (size_t i = first; i <= last; i++) {
      aq_sent_pkt *p = rtb_at(b, i);
      if (p->flags & AQ_SENT_ACKED) {
        run_start = AQ_TSTAMP_NEVER;
        continue;
      }
      if ((p->flags & (AQ_SENT_LOST | AQ_SENT_MARK)) != (AQ_SENT_LOST | AQ_SENT_MARK)) {
        continue; /* lost earlier: neither extends nor breaks the run */
      }
      p->flags = (uint8_t)(p->flags & ~AQ_SENT_MARK);
      if (!(p->flags & AQ_SENT_ACK_ELICITING) || p->sent_ts <= r->rtt.first_sample_ts) {
        continue;
      }
      if (run_start == AQ_TSTAMP_NEVER) {
        run_start = p->sent_ts;
      } else if (p->sent_ts - run_start > pcd) {
        pc = 1;
      }
    }
  }
  for (size_t i = first; i <= last; i++) {
    aq_sent_pkt *p = rtb_at(b, i);
    if (p->flags & AQ_SENT_LOST) {
      p->flags = (uint8_t)(p->flags & ~AQ_SENT_MARK);
    }
  }
  if (pc) {
    r->ev_lost = 0; /* persistent congestion is never undone */
    aq_cc_on_persistent_congestion(r->cc, ts);
    aq_rtt_on_persistent_congestion(&r->rtt);
  }
  return 0;
}

/* Non-zero if every acknowledged number was sent (and not skipped) and largest is the top of the
 * ranges. */
static int ack_valid(const aq_rtb *b, const aq_ack_in *ack) {
  if (ack->nranges == 0 || ack->largest >= b->next_pn) {
    return 0; /* acknowledges a packet number never sent */
  }
  uint64_t max_end = 0;
  for (size_t k = 0; k < ack->nranges; k++) {
    const aq_range *g = &ack->ranges[k];
    if (g->start >= g->end || g->end > b->next_pn) {
      return 0;
    }
    max_end = g->end > max_end ? g->end : max_end;
    for (size_t j = 0; j < b->nskipped; j++) {
      if (b->skipped[j] >= g->start && b->skipped[j] < g->end) {
        return 0; /* RFC 9000 §13.1: an ACK of an unsent packet */
      }
    }
  }
  return max_end == ack->largest + 1;
}

/* RFC 9000 §13.4.2.1 ECN validation of one ACK; newly_ect0 = newly
 * acknowledged packets we sent with ECT(0).  Returns 0 or -1 (failed). */
static int ecn_validate(const aq_rtb *b, const aq_ack_in *ack, uint64_t newly_ect0) {
  if (!ack->has_ecn) {
    /* "If an ACK frame newly acknowledges a packet that the endpoint sent
     * with either the ECT(0) or ECT(1) codepoint set, ECN validation fails
     * if the corresponding ECN counts are not present in the ACK frame." */
    return newly_ect0 > 0 ? -1 : 0;
  }
  /* Counts never decrease (a peer reporting less is broken or lying). */
  if (ack->ect0 < b->peer_ect0 || ack->ect1 < b->peer_ect1 || ack->ce < b->peer_ce) {
    return -1;
  }
  /* We only send ECT(0): "ECN validation also fails if the sum of the
   * increase in ECT(0) and ECN-CE counts is less than the number of newly
   * acknowledged packets that were originally sent with an ECT(0) marking",
   * and an increasing ECT(1) count means the path or peer mangles marks. */
  if (ack->ect1 > b->peer_ect1) {
    return -1;
  }
  if ((ack->ect0 - b->peer_ect0) + (ack->ce - b->peer_ce) < newly_ect0) {
    return -1;
  }
  return 0;
}

int aq_recov_on_ack(aq_recov *r, unsigned space, const aq_ack_in *ack, aq_tstamp ts) {
  if (space >= AQ_PN_SPACE_COUNT) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  aq_rtb *b = &r->sp[space];
  if (b->discarded) {
    return 0;
  }
  /* https://www.rfc-editor.org/rfc/rfc9000#section-13.1: "An endpoint
   * SHOULD treat receipt of an acknowledgment for a packet it did not send
   * as a connection error of type PROTOCOL_VIOLATION". Checked before any
   * state changes. */
  if (!ack_valid(b, ack)) {
    return AQ_ERR_PROTO;
  }
  if (!b->has_largest_acked || ack->largest > b->largest_acked) {
    b->largest_acked = ack->largest;
    b->has_largest_acked = 1;
  }
  /* DetectAndRemoveAckedPackets. */
  size_t first = SIZE_MAX, last = 0;
  int includes_ae = 0;
  uint64_t newly_ect0 = 0;
  const aq_sent_pkt *largest_rec = NULL;
  const aq_sent_pkt *newest = NULL;
  for (size_t k = 0; k < ack->nranges; k++) {
    for (size_t i = rtb_find(b, ack->ranges[k].start);
         i < b->len && rtb_at(b, i)->pn < ack->ranges[k].end; i++) {
      aq_sent_pkt *p = rtb_at(b, i);
      if ((p->flags & TOMB) == AQ_SENT_LOST) {
        /* A late ACK of a packet declared lost: reordering, not loss. */
        p->flags |= AQ_SENT_ACKED;
        on_spurious_loss(r, space, p, ts);
        continue;
      }
      if (p->flags & TOMB) {
        continue; /* already acknowledged */
      }
      p->flags |= AQ_SENT_ACKED | AQ_SENT_MARK;
      take_out_of_flight(b, p);
      includes_ae |= (p->flags & AQ_SENT_ACK_ELICITING) != 0;
      newly_ect0 += (p->flags & AQ_SENT_ECT0) != 0;
      if (p->pn == ack->largest) {
        largest_rec = p;
      }
      if (newest == NULL || p->pn > newest->pn) {
        newest = p;
      }
      first = i < first ? i : first;
      last = i > last ? i : last;
      if (r->cb(r->user_data, space, p, AQ_RTB_ACKED) < 0) {
        return AQ_ERR_CALLBACK_FAILURE;
      }
    }
  }
  if (first == SIZE_MAX) {
    rtb_reap(b, lost_keep_after(r, ts)); /* late ACKs may have ended tombstones' use */
    return 0; /* "Nothing to do if there are no newly acked packets." */
  }
  /* §5.1: an RTT sample only when the largest acknowledged is newly
   * acknowledged and at least one newly acked packet was ack-eliciting. */
  if (largest_rec != NULL && includes_ae && ts >= largest_rec->sent_ts) {
    aq_duration delay = space == AQ_PN_SPACE_INITIAL ? 0 : ack->ack_delay;
    aq_rtt_update(&r->rtt, ts - largest_rec->sent_ts, delay, r->handshake_confirmed,
                  r->max_ack_delay, ts);
  }
  if (!r->ecn_failed && ecn_validate(b, ack, newly_ect0) != 0) {
    r->ecn_failed = 1;
  }
  if (!r->ecn_failed && ack->has_ecn) {
    /* App. B.7 ProcessECN: a CE increase is a congestion event. */
    int ce_up = ack->ce > b->peer_ce;
    b->peer_ect0 = ack->ect0;
    b->peer_ect1 = ack->ect1;
    b->peer_ce = ack->ce;
    if (ce_up) {
      aq_cc_on_ecn_ce(r->cc, newest->sent_ts, ts);
    }
  }
  int rv = detect_lost(r, space, ts);
  if (rv != 0) {
    return rv;
  }
  /* OnPacketsAcked after OnPacketsLost (App. A.7 order). */
  for (size_t i = first; i <= last; i++) {
    aq_sent_pkt *p = rtb_at(b, i);
    if ((p->flags & (AQ_SENT_ACKED | AQ_SENT_MARK)) == (AQ_SENT_ACKED | AQ_SENT_MARK)) {
      p->flags = (uint8_t)(p->flags & ~AQ_SENT_MARK);
      if (p->flags & AQ_SENT_IN_FLIGHT) {
        aq_cc_on_ack(r->cc, p->size, p->sent_ts, &r->rtt, ts);
      }
    }
  }
  rtb_reap(b, lost_keep_after(r, ts));
  /* App. A.7: reset pto_count unless a client is unsure the server has
   * validated its address. */
  if (r->peer_validated_addr) {
    r->pto_count = 0;
  }
  set_timer(r, ts);
  return 0;
}

aq_tstamp aq_recov_get_expiry(const aq_recov *r) {
  return r->timer;
}

int aq_recov_handle_expiry(aq_recov *r, aq_tstamp ts, aq_recov_action *act) {
  act->probes = 0;
  act->probe_space = AQ_PN_SPACE_INITIAL;
  if (r->timer == AQ_TSTAMP_NEVER || ts < r->timer) {
    return 0;
  }
  unsigned space = 0;
  if (earliest_loss_time(r, &space) != AQ_TSTAMP_NEVER) {
    /* Time threshold loss detection. */
    int rv = detect_lost(r, space, ts);
    if (rv != 0) {
      return rv;
    }
    rtb_reap(&r->sp[space], lost_keep_after(r, ts));
    set_timer(r, ts);
    return 0;
  }
  if (ae_in_flight_all(r) == 0) {
    /* Client anti-deadlock: one ack-eliciting packet (padded Initial or
     * Handshake) to earn more anti-amplification credit. */
    act->probes = 1;
    act->probe_space = r->has_handshake_keys ? AQ_PN_SPACE_HANDSHAKE : AQ_PN_SPACE_INITIAL;
  } else {
    (void)pto_time(r, ts, &space);
    act->probes = 2;
    act->probe_space = space;
  }
  r->pto_count++;
  set_timer(r, ts);
  return 0;
}

int aq_recov_discard_space(aq_recov *r, unsigned space, aq_tstamp ts) {
  if (space >= AQ_PN_SPACE_COUNT) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  aq_rtb *b = &r->sp[space];
  if (b->discarded) {
    return 0;
  }
  int rv = 0;
  for (size_t i = 0; i < b->len; i++) {
    aq_sent_pkt *p = rtb_at(b, i);
    if (p->flags & TOMB) {
      continue;
    }
    take_out_of_flight(b, p);
    if (rv == 0 && r->cb(r->user_data, space, p, AQ_RTB_DISCARDED) < 0) {
      rv = AQ_ERR_CALLBACK_FAILURE;
    }
  }
  /* App. A.11 OnPacketNumberSpaceDiscarded: remove from bytes_in_flight,
   * reset loss and PTO state. */
  b->len = 0;
  b->head = 0;
  b->bytes_in_flight = 0;
  b->ae_in_flight = 0;
  b->loss_time = AQ_TSTAMP_NEVER;
  b->last_ae_sent_ts = 0;
  b->discarded = 1;
  r->pto_count = 0;
  set_timer(r, ts);
  return rv;
}

void aq_recov_set_handshake_confirmed(aq_recov *r, aq_tstamp ts) {
  r->handshake_confirmed = 1;
  r->peer_validated_addr = 1; /* confirmation implies the server validated us */
  set_timer(r, ts);
}

void aq_recov_set_peer_validated_addr(aq_recov *r, aq_tstamp ts) {
  r->peer_validated_addr = 1;
  set_timer(r, ts);
}

void aq_recov_set_has_handshake_keys(aq_recov *r, aq_tstamp ts) {
  r->has_handshake_keys = 1;
  set_timer(r, ts);
}

void aq_recov_set_amplification_limited(aq_recov *r, int limited, aq_tstamp ts) {
  r->amplification_limited = limited != 0;
  set_timer(r, ts);
}

void aq_recov_set_max_ack_delay(aq_recov *r, aq_duration max_ack_delay) {
  r->max_ack_delay = max_ack_delay;
}

uint64_t aq_recov_bytes_in_flight(const aq_recov *r) {
  uint64_t n = 0;
  for (unsigned s = 0; s < AQ_PN_SPACE_COUNT; s++) {
    n += r->sp[s].bytes_in_flight;
  }
  return n;
}
