/*
 * aq_conn_tx.c - building one datagram: coalesced Initial / Handshake /
 * 1-RTT packets (RFC 9000 §12.2), ACK frames from aq_acktr, CRYPTO data
 * (new and lost), PTO probes, control frames and stream data; padding of
 * datagrams carrying Initial packets to 1200 bytes (§14.1); the 3x
 * anti-amplification limit (§8.1); congestion window and pacing
 * (RFC 9002 §7); CONNECTION_CLOSE in the closing state (§10.2.1).
 *
 * Timers: the pacer's next send time (aq_conn_tx_pacer_expiry), folded
 * into aq_conn_get_expiry only while data waits and cwnd has room.
 */
#include <string.h>

#include "aq_conn_int.h"
#include "aq_mem.h"
#include "aq_qerr.h"
#include "aq_qlog.h"

#define TX_MAX_PKTS 3
#define TX_MIN_ROOM 48 /* don't start a packet with less room than this */
/* Smallest datagram worth building on a path the 3x limit holds below 1200 bytes. */
#define TX_SMALL_DGRAM (TX_MIN_ROOM + AQ_AEAD_TAG_LEN + 2 * AQ_MAX_CIDLEN + 8)

typedef struct tx_pkt {
  unsigned sp;
  size_t start; /* offset of the first byte in the datagram */
  aq_pkt_hd hd;
  size_t payload_end; /* offset after the last frame byte (tag follows) */
  uint32_t meta;
  int ae;
  int padded;
} tx_pkt;

/** Double the record pool (indices stay valid: they are the recov tokens). */
static void meta_grow(aq_conn *conn) {
  uint32_t n = conn->nmeta * 2;
  if (n > AQ_CONN_META_MAX) {
    n = AQ_CONN_META_MAX;
  }
  if (n <= conn->nmeta) {
    return;
  }
  aq_sent_meta *nm = aq_mem_realloc(conn->mem, conn->meta, (size_t)n * sizeof(aq_sent_meta));
  if (nm == NULL) {
    return; /* keep going with what we have */
  }
  memset(nm + conn->nmeta, 0, (size_t)(n - conn->nmeta) * sizeof(aq_sent_meta));
  conn->meta = nm;
  for (uint32_t i = n; i-- > conn->nmeta;) {
    nm[i].next_free = conn->meta_free;
    conn->meta_free = i;
  }
  conn->nmeta = n;
}

static uint32_t meta_alloc(aq_conn *conn) {
  if (conn->meta_free == UINT32_MAX) {
    meta_grow(conn);
  }
  uint32_t idx = conn->meta_free;
  if (idx == UINT32_MAX) {
    return idx;
  }
  aq_sent_meta *m = &conn->meta[idx];
  conn->meta_free = m->next_free;
  memset(m, 0, sizeof(*m));
  m->in_use = 1;
  return idx;
}

static void meta_free(aq_conn *conn, uint32_t idx) {
  aq_sent_meta *m = &conn->meta[idx];
  m->in_use = 0;
  m->next_free = conn->meta_free;
  conn->meta_free = idx;
}

uint32_t aq_conn_tx_meta_alloc(aq_conn *conn) {
  return meta_alloc(conn);
}
void aq_conn_tx_meta_free(aq_conn *conn, uint32_t idx) {
  meta_free(conn, idx);
}

int aq_conn_has_app_data(const aq_conn *conn) {
  if (!conn->handshake_complete) {
    return aq_zrtt_can_send(conn) && aq_strm_has_pending(conn); /* 0-RTT stream data */
  }
  if (conn->hs_done_pending || conn->retire_pending || conn->sp[AQ_PN_SPACE_APP].ping_pending ||
      conn->zrtt.token_pending) {
    return 1;
  }
  for (size_t i = 0; i < AQ_MAX_LOCAL_CIDS; i++) {
    if (conn->local_cids[i].state == 1) {
      return 1;
    }
  }
  const aq_conn_path *ap = &conn->paths[conn->active_path];
  if (ap->response_pending || ap->challenge_pending || aq_dgram_pending(conn)) {
    return 1;
  }
  for (size_t i = 0; i < conn->next; i++) {
    const aq_conn_ext *e = &conn->ext[i];
    if (e->ops->has_pending != NULL && e->ops->has_pending(e->ctx, conn, conn->active_path)) {
      return 1;
    }
  }
  return aq_strm_has_pending(conn);
}

aq_tstamp aq_conn_tx_pacer_expiry(const aq_conn *conn, aq_tstamp ts) {
  if (conn->tx_stalled || !aq_conn_has_app_data(conn)) {
    return AQ_TSTAMP_NEVER;
  }
  uint64_t inflight = aq_recov_bytes_in_flight(&conn->recov);
  if (aq_cc_can_send(&conn->cc, inflight) < conn->set.max_udp_payload) {
    return AQ_TSTAMP_NEVER; /* an ACK or a timer will open the window (same test as tx_build) */
  }
  aq_tstamp t = aq_pacer_get_expiry(&conn->pacer, conn->set.max_udp_payload, aq_cc_cwnd(&conn->cc),
                                    conn->recov.rtt.smoothed, ts);
  return t > ts ? t : AQ_TSTAMP_NEVER;
}

/** ACK frame for space sp; returns 1 if written. */
static int write_ack(aq_conn *conn, unsigned sp, aq_wbuf *w, aq_sent_meta *m, aq_tstamp ts) {
  aq_acktr *at = &conn->sp[sp].acktr;
  aq_ack_info ai;
  unsigned exp = AQ_TP_DEFAULT_ACK_DELAY_EXPONENT;
  if (aq_acktr_build(at, &ai, AQ_ACKTR_MAX_RANGES, exp, ts) != 0) {
    return 0;
  }
  aq_frame f;
  memset(&f, 0, sizeof(f));
  f.type = AQ_FT_ACK;
  aq_frame_ack *a = &f.u.ack;
  a->largest = ai.largest;
  if (ai.has_ecn) { /* RFC 9000 §13.4.1: report the ECN counts */
    f.type = AQ_FT_ACK_ECN;
    a->ect0 = ai.ect0;
    a->ect1 = ai.ect1;
    a->ce = ai.ce;
  }
  a->ack_delay = sp == AQ_PN_SPACE_APP ? ai.ack_delay_enc : 0;
  a->first_range = ai.ranges[0].end - 1 - ai.ranges[0].start;
  size_t nr = ai.nranges;
  for (;;) {
    a->nranges = 0;
    for (size_t i = 1; i < nr && i - 1 < AQ_MAX_ACK_RANGES; i++) {
      a->ranges[i - 1].gap = ai.ranges[i - 1].start - ai.ranges[i].end - 1;
      a->ranges[i - 1].len = ai.ranges[i].end - 1 - ai.ranges[i].start;
      a->nranges++;
    }
    a->wire_ranges = a->nranges;
    size_t need = aq_frame_encoded_len(&f);
    if (need != 0 && need <= aq_wbuf_left(w)) {
      break;
    }
    if (nr <= 1) {
      return 0;
    }
    nr = nr / 2; /* drop the oldest ranges until it fits */
  }
  if (aq_frame_encode(w, &f) != 0) {
    return 0;
  }
  m->flags |= AQ_SM_ACK;
  m->ack_largest = ai.largest;
  aq_acktr_on_ack_sent(at);
  return 1;
}

/** CRYPTO frames of space sp (lost first, then new). Returns frames written. */
static int write_crypto(aq_conn *conn, unsigned sp, aq_wbuf *w, aq_sent_meta *m) {
  aq_txbuf *tb = &conn->sp[sp].ctx;
  int n = 0;
  while (m->nframes < AQ_SENT_MAX_FRAMES) {
    aq_range r;
    int is_new;
    if (aq_txbuf_next(tb, UINT64_MAX, &r, &is_new) != 0) {
      break;
    }
    size_t hdr = 1 + aq_varint_len(r.start) + 2;
    size_t left = aq_wbuf_left(w);
    if (left <= hdr) {
      break;
    }
    uint64_t len = r.end - r.start;
    if (len > left - hdr) {
      len = left - hdr;
    }
    if (len > 16383) {
      len = 16383;
    }
    aq_wbuf_varint(w, AQ_FT_CRYPTO);
    aq_wbuf_varint(w, r.start);
    aq_wbuf_varint_fixed(w, len, 2);
    uint8_t *dst = aq_wbuf_reserve(w, (size_t)len);
    if (dst == NULL || aq_wbuf_error(w) != 0) {
      break;
    }
    aq_txbuf_copy(tb, r.start, dst, (size_t)len);
    aq_txbuf_on_sent(tb, r.start, len);
    aq_sent_frame *sf = &m->f[m->nframes++];
    memset(sf, 0, sizeof(*sf));
    sf->kind = AQ_SF_CRYPTO;
    sf->id = sp;
    sf->off = r.start;
    sf->len = (uint32_t)len;
    n++;
  }
  return n;
}

/** 1-RTT control frames and stream data.  Returns non-zero if anything was written. */
static int write_app(aq_conn *conn, aq_wbuf *w, aq_sent_meta *m, aq_tstamp ts) {
  size_t before = aq_wbuf_len(w);
  aq_frame f;
  memset(&f, 0, sizeof(f));
  if (conn->hs_done_pending) {
    f.type = AQ_FT_HANDSHAKE_DONE;
    if (aq_frame_put(w, &f)) {
      conn->hs_done_pending = 0;
      m->flags |= AQ_SM_HANDSHAKE_DONE;
    }
  }
  aq_zrtt_write_frames(conn, w, m);
  aq_conn_path *p = &conn->paths[conn->active_path];
  if (p->challenge_pending) {
    f.type = AQ_FT_PATH_CHALLENGE;
    memcpy(f.u.path.data, p->challenge, AQ_PATH_DATA_LEN);
    if (aq_frame_put(w, &f)) {
      p->challenge_pending = 0;
      p->challenge_outstanding = 1;
      m->flags |= AQ_SM_PATH_CHALLENGE;
    }
  }
  if (p->response_pending) {
    f.type = AQ_FT_PATH_RESPONSE;
    memcpy(f.u.path.data, p->response, AQ_PATH_DATA_LEN);
    if (aq_frame_put(w, &f)) {
      p->response_pending = 0;
    }
  }
  for (size_t i = 0; i < AQ_MAX_LOCAL_CIDS && m->nframes < AQ_SENT_MAX_FRAMES; i++) {
    if (conn->local_cids[i].state != 1) {
      continue;
    }
    f.type = AQ_FT_NEW_CONNECTION_ID;
    f.u.new_cid.seq = conn->local_cids[i].seq;
    f.u.new_cid.retire_prior_to = 0;
    f.u.new_cid.cid = conn->local_cids[i].cid;
    memcpy(f.u.new_cid.reset_token, conn->local_cids[i].token, AQ_STATELESS_RESET_TOKEN_LEN);
    if (!aq_frame_put(w, &f)) {
      break;
    }
    conn->local_cids[i].state = 2;
    aq_sent_frame *sf = &m->f[m->nframes++];
    memset(sf, 0, sizeof(*sf));
    sf->kind = AQ_SF_NEW_CID;
    sf->id = conn->local_cids[i].seq;
  }
  while (conn->retire_pending && conn->retire_seq_lo < conn->retire_seq_hi) {
    f.type = AQ_FT_RETIRE_CONNECTION_ID;
    f.u.retire_cid.seq = conn->retire_seq_lo;
    if (!aq_frame_put(w, &f)) {
      break;
    }
    conn->retire_seq_lo++;
    m->flags |= AQ_SM_RETIRE_CID;
  }
  if (conn->retire_seq_lo >= conn->retire_seq_hi) {
    conn->retire_pending = 0;
  }
  /* Extension frames only in 1-RTT: their parameters are not remembered for 0-RTT. */
  for (size_t i = 0; i < conn->next && conn->handshake_complete; i++) {
    const aq_conn_ext *e = &conn->ext[i];
    conn->ext_tx_meta = m;
    conn->ext_tx_idx = i;
    int erc = e->ops->write_frames != NULL
                  ? e->ops->write_frames(e->ctx, conn, conn->active_path, w, ts)
                  : 0;
    conn->ext_tx_meta = NULL;
    if (erc != 0) {
      break;
    }
  }
  aq_dgram_write_frames(conn, w, m); /* RFC 9221: before stream data, never resent */
  (void)aq_strm_write_frames(conn, w, m, ts);
  return aq_wbuf_len(w) > before;
}

/** Space sp has ack-eliciting content to send. */
static int space_has_data(const aq_conn *conn, unsigned sp) {
  const aq_pnspace *s = &conn->sp[sp];
  aq_range r;
  int is_new;
  if (s->probes > 0 || s->ping_pending || aq_txbuf_next(&s->ctx, UINT64_MAX, &r, &is_new) == 0) {
    return 1;
  }
  return sp == AQ_PN_SPACE_APP && aq_conn_has_app_data(conn);
}

/** Encode the CONNECTION_CLOSE of the closing state for space sp. */
static int write_close(aq_conn *conn, unsigned sp, aq_wbuf *w) {
  aq_frame f;
  memset(&f, 0, sizeof(f));
  if (conn->close_is_app && sp != AQ_PN_SPACE_APP) {
    /* RFC 9000 §10.2.3: no application close before 1-RTT; say APPLICATION_ERROR. */
    f.type = AQ_FT_CONNECTION_CLOSE;
    f.u.close.error_code = AQ_QERR_APPLICATION_ERROR;
  } else {
    f.type = conn->close_is_app ? AQ_FT_CONNECTION_CLOSE_APP : AQ_FT_CONNECTION_CLOSE;
    f.u.close.error_code = conn->close_code;
    f.u.close.frame_type = conn->close_frame_type;
    f.u.close.reason = conn->close_reason;
    f.u.close.reasonlen = conn->close_reasonlen;
  }
  if (aq_frame_put(w, &f)) {
    return 1;
  }
  f.u.close.reasonlen = 0;
  return aq_frame_put(w, &f);
}

aq_ssize aq_conn_tx_build(aq_conn *conn, uint8_t *buf, size_t cap, aq_tstamp ts) {
  if (cap > conn->set.max_udp_payload) {
    cap = conn->set.max_udp_payload;
  }
  /* RFC 9000 §18.2: never above the peer's max_udp_payload_size (>= 1200). */
  if (conn->peer_tp_done && cap > conn->peer_tp.max_udp_payload_size) {
    cap = (size_t)conn->peer_tp.max_udp_payload_size;
  }
  int closing = conn->state == AQ_CS_CLOSING;
  if (closing && !conn->close_pending) {
    return 0;
  }
  /* §8.1: before validation a server sends at most 3x what it received. */
  if (conn->is_server && !conn->addr_validated) {
    uint64_t budget = 3 * conn->amp_recv > conn->amp_sent ? 3 * conn->amp_recv - conn->amp_sent : 0;
    if (budget < cap) {
      cap = (size_t)budget;
    }
    if (cap < 1200) {
      aq_recov_set_amplification_limited(&conn->recov, 1, ts);
      return 0;
    }
  }
  if (cap < 1200) {
    return AQ_ERR_BUFFER_TOO_SMALL;
  }
  /* §9.3.1 / §8.2: on a path not yet validated, 3x what arrived on it. */
  const aq_conn_path *ap = &conn->paths[conn->active_path];
  if (!ap->validated) {
    uint64_t budget = 3 * ap->amp_recv > ap->amp_sent ? 3 * ap->amp_recv - ap->amp_sent : 0;
    if (budget < cap) {
      cap = (size_t)budget;
    }
    /*
     * RFC 9000 §8.2.1: a PATH_CHALLENGE datagram is expanded to 1200 bytes
     * "unless the anti-amplification limit for the path does not permit".
     * After the handshake a smaller datagram (ACK, PATH_CHALLENGE) goes out
     * rather than nothing: a peer that only sends keep-alive PINGs after a
     * NAT rebinding would otherwise never hear from us on its new address.
     */
    size_t need = conn->handshake_confirmed ? TX_SMALL_DGRAM : 1200;
    if (cap < need) {
      conn->amp_blocked = 1; /* no ACK/pacer wake-ups: the peer's next datagram raises the budget */
      return 0;
    }
  }
  int probing = 0;
  for (unsigned i = 0; i < AQ_PN_SPACE_COUNT; i++) {
    if (conn->sp[i].probes > 0 && conn->sp[i].has_tx && !conn->sp[i].discarded) {
      probing = 1;
    }
  }
  uint64_t inflight = aq_recov_bytes_in_flight(&conn->recov);
  /* RFC 9002 §7: "MUST NOT send a packet if it would cause bytes_in_flight ... to be larger
   * than the congestion window" (probes excepted, below). */
  int cc_ok = aq_cc_can_send(&conn->cc, inflight) >= cap;
  int pace_ok = aq_pacer_get_expiry(&conn->pacer, cap, aq_cc_cwnd(&conn->cc),
                                    conn->recov.rtt.smoothed, ts) <= ts;
  int can_ae = closing ? 0 : (probing || (cc_ok && pace_ok));

  tx_pkt pk[TX_MAX_PKTS];
  size_t npk = 0;
  int wanted_ae = 0;
  size_t pos = 0;
  int has_initial = 0, initial_ae = 0, any_ae = 0;
  for (unsigned sp = 0; sp < AQ_PN_SPACE_COUNT; sp++) {
    aq_pnspace *s = &conn->sp[sp];
    /* Client before the handshake completes: application data in 0-RTT packets. */
    int zrtt = sp == AQ_PN_SPACE_APP && !closing && aq_zrtt_can_send(conn);
    if ((!s->has_tx && !zrtt) || s->discarded) {
      continue;
    }
    /* Server: 0-RTT packets are acknowledged in 1-RTT packets before the handshake
     * completes (RFC 9000 §12.3; only ACKs: no 0.5-RTT data). */
    int early_ack = sp == AQ_PN_SPACE_APP && conn->is_server && !closing;
    if (sp == AQ_PN_SPACE_APP && !conn->handshake_complete && !closing && !zrtt && !early_ack) {
      continue;
    }
    if (closing && sp == AQ_PN_SPACE_APP && !conn->handshake_complete) {
      continue;
    }
    if (closing && conn->handshake_confirmed && sp != AQ_PN_SPACE_APP) {
      continue;
    }
    int ack_due = !closing && aq_acktr_get_expiry(&s->acktr) <= ts;
    if (ack_due) {
      aq_ack_info probe_ai;
      if (aq_acktr_build(&s->acktr, &probe_ai, 1, AQ_TP_DEFAULT_ACK_DELAY_EXPONENT, ts) != 0) {
        /* A deadline with nothing left to acknowledge: clear it rather than spin. */
        aq_acktr_on_ack_sent(&s->acktr);
        ack_due = 0;
      }
    }
    int data = can_ae && space_has_data(conn, sp);
    wanted_ae |= data;
    if (!closing && !ack_due && !data) {
      continue;
    }
    if (cap - pos < TX_MIN_ROOM + AQ_AEAD_TAG_LEN + 2 * AQ_MAX_CIDLEN) {
      break;
    }
    const aq_rtb *rtb = &conn->recov.sp[sp];
    if (aq_rtb_full(rtb)) {
      continue; /* too many packets outstanding: wait for ACKs */
    }
    uint32_t mi = meta_alloc(conn);
    if (mi == UINT32_MAX) {
      break;
    }
    aq_sent_meta *m = &conn->meta[mi];
    tx_pkt *t = &pk[npk];
    memset(t, 0, sizeof(*t));
    t->sp = sp;
    t->start = pos;
    t->meta = mi;
    aq_pkt_hd *hd = &t->hd;
    hd->type = sp == AQ_PN_SPACE_INITIAL     ? AQ_PKT_INITIAL
               : sp == AQ_PN_SPACE_HANDSHAKE ? AQ_PKT_HANDSHAKE
               : zrtt                        ? AQ_PKT_0RTT
                                             : AQ_PKT_1RTT;
    hd->version = aq_ver_tx_version(conn, hd->type); /* 0-RTT: original version */
    hd->dcid = conn->dcid.data;
    hd->dcidlen = conn->dcid.len;
    hd->scid = conn->scid.data;
    hd->scidlen = conn->scid.len;
    if (sp == AQ_PN_SPACE_INITIAL && !conn->is_server) {
      hd->token = conn->retry_token;
      hd->tokenlen = conn->retry_token_len;
    }
    hd->len_width = 2;
    hd->key_phase = conn->key_phase;
    hd->pkt_num = aq_recov_next_pn(&conn->recov, sp);
    hd->pn_len =
        aq_pkt_pn_len(hd->pkt_num, rtb->has_largest_acked ? rtb->largest_acked : UINT64_MAX);
    aq_wbuf hw;
    aq_wbuf_init(&hw, buf + pos, cap - pos);
    if (aq_pkt_encode_hd(&hw, hd) != 0) {
      meta_free(conn, mi);
      break;
    }
    aq_wbuf w;
    aq_wbuf_init(&w, buf + pos + hd->pktlen, cap - pos - hd->pktlen - AQ_AEAD_TAG_LEN);
    if (closing) {
      t->ae = 0;
      if (!write_close(conn, sp, &w)) {
        meta_free(conn, mi);
        break;
      }
    } else {
      if (s->acktr.ack_pending && !zrtt) { /* no ACK in 0-RTT (RFC 9000 §12.5) */
        (void)write_ack(conn, sp, &w, m, ts);
      }
      if (data) {
        size_t mark = aq_wbuf_len(&w);
        if (sp == AQ_PN_SPACE_APP) {
          (void)write_app(conn, &w, m, ts);
        }
        (void)write_crypto(conn, sp, &w, m);
        int wrote = aq_wbuf_len(&w) > mark;
        if ((s->probes > 0 || s->ping_pending) && !wrote && aq_wbuf_left(&w) > 0) {
          aq_wbuf_u8(&w, AQ_FT_PING);
          wrote = 1;
        }
        /* Anything but ACK/PADDING/CONNECTION_CLOSE here is ack-eliciting. */
        t->ae = wrote;
        if (wrote) {
          s->ping_pending = 0;
          if (s->probes > 0) {
            s->probes--;
          }
        }
      }
    }
    if (aq_wbuf_error(&w) != 0 || aq_wbuf_len(&w) == 0) {
      meta_free(conn, mi);
      continue;
    }
    /* Header protection samples 4 bytes past the packet number start (RFC 9001 §5.4.2). */
    while (hd->pn_len + aq_wbuf_len(&w) < 4) {
      aq_wbuf_u8(&w, AQ_FT_PADDING);
      t->padded = 1;
    }
    t->payload_end = pos + hd->pktlen + aq_wbuf_len(&w);
    pos = t->payload_end + AQ_AEAD_TAG_LEN;
    if (sp == AQ_PN_SPACE_INITIAL) {
      has_initial = 1;
      initial_ae |= t->ae;
    }
    any_ae |= t->ae;
    npk++;
    if (sp == AQ_PN_SPACE_APP) {
      break;
    }
  }
  /* Something claimed to be pending but nothing ack-eliciting went out: no
   * pacer wake-ups until new input (a packet, a timer or an API call). */
  conn->tx_stalled = wanted_ae && !any_ae;
  /* RFC 9002 §7.8: the window may only grow while it limits sending.  Where
   * it and the pacer allowed an ack-eliciting packet and none went out (no
   * data, or flow control), the sender is application-limited; where the
   * window stopped it, it is not; where the pacer did, only if at least half
   * the window is in use (a burst of fresh flow-control credit being paced
   * out is no evidence that the window is too small). */
  if (!closing && !probing) {
    if (!cc_ok || (!pace_ok && 2 * inflight >= aq_cc_cwnd(&conn->cc))) {
      aq_cc_set_app_limited(&conn->cc, 0);
    } else if (!any_ae || !pace_ok) {
      aq_cc_set_app_limited(&conn->cc, 1);
    }
  }
  if (npk == 0) {
    return 0;
  }
  /* RFC 9000 §14.1: pad datagrams with Initial packets (client: all; server: ack-eliciting). */
  if (has_initial && (!conn->is_server || initial_ae) && pos < 1200) {
    tx_pkt *last = &pk[npk - 1];
    size_t add = 1200 - pos;
    memset(buf + last->payload_end, 0, add);
    last->payload_end += add;
    last->padded = 1;
    pos = 1200;
  }
  /* RFC 9000 §8.2.1: a datagram with a PATH_CHALLENGE is expanded to 1200
   * bytes, or as far as the path's 3x limit (already in cap) allows. */
  if ((conn->meta[pk[npk - 1].meta].flags & AQ_SM_PATH_CHALLENGE) && pos < 1200 && pos < cap) {
    tx_pkt *last = &pk[npk - 1];
    size_t add = (cap < 1200 ? cap : 1200) - pos;
    memset(buf + last->payload_end, 0, add);
    last->payload_end += add;
    last->padded = 1;
    pos += add;
  }
  /* Finish: lengths, protection, records. */
  unsigned ecn_mark = aq_ecn_tx_begin(conn); /* RFC 9000 §13.4.2 (aq_conn_ecn.c) */
  for (size_t i = 0; i < npk; i++) {
    tx_pkt *t = &pk[i];
    size_t pktlen = t->payload_end + AQ_AEAD_TAG_LEN - t->start;
    uint8_t *p = buf + t->start;
    if (t->hd.type != AQ_PKT_1RTT && aq_pkt_set_length(p, &t->hd, pktlen) != 0) {
      return AQ_ERR_INTERNAL;
    }
    aq_pnspace *s = &conn->sp[t->sp];
    aq_pprot *txk = t->hd.type == AQ_PKT_0RTT ? aq_zrtt_tx_key(conn) : &s->tx;
    aq_qlog_packet(conn, 1, (int)t->hd.type, t->hd.pkt_num, t->hd.key_phase, p + t->hd.pktlen,
                   t->payload_end - t->start - t->hd.pktlen, pktlen, ts);
    int rc = aq_pprot_seal(txk, p, pktlen, t->hd.pktlen, t->hd.pn_offset, t->hd.pn_len,
                           t->hd.pkt_num);
    if (rc != 0) {
      return rc;
    }
    unsigned flags = 0;
    if (t->ae) {
      flags |= AQ_SENT_ACK_ELICITING | AQ_SENT_IN_FLIGHT;
    } else if (t->padded) {
      flags |= AQ_SENT_IN_FLIGHT;
    }
    if (ecn_mark == AQ_ECN_ECT0) {
      flags |= AQ_SENT_ECT0;
    }
    rc = aq_recov_on_sent(&conn->recov, t->sp, t->hd.pkt_num, (uint32_t)pktlen, flags, t->meta, ts);
    if (rc != 0) {
      meta_free(conn, t->meta);
      return rc == AQ_ERR_LIMIT ? AQ_ERR_INTERNAL : rc;
    }
    conn->stats.pkts_sent++;
    if (t->sp == AQ_PN_SPACE_APP) {
      /* RFC 9001 §6.6: count per key, update before the limit (aq_conn_ku.c). */
      aq_ku_on_sealed(conn, t->hd.pkt_num, &conn->meta[t->meta], ts);
    }
  }
  if (closing) {
    conn->close_pending = 0;
  }
  if (any_ae) {
    aq_pacer_on_sent(&conn->pacer, pos, aq_cc_cwnd(&conn->cc), conn->recov.rtt.smoothed, ts);
    if (!conn->ae_sent_since_recv) {
      conn->ae_sent_since_recv = 1;
      conn->idle_start_ts = ts;
    }
  }
  conn->last_send_ts = ts;
  return (aq_ssize)pos;
}

aq_ssize aq_conn_tx_path_response(aq_conn *conn, unsigned path_idx, uint8_t *buf, size_t cap,
                                  aq_tstamp ts) {
  aq_conn_path *cp = &conn->paths[path_idx];
  aq_pnspace *s = &conn->sp[AQ_PN_SPACE_APP];
  if (!s->has_tx || !conn->handshake_complete || conn->state != AQ_CS_ESTABLISHED) {
    cp->response_pending = 0;
    return 0;
  }
  /* Padded to 1200 bytes unless that would exceed 3x what the path brought in. */
  uint64_t budget = 3 * cp->amp_recv > cp->amp_sent ? 3 * cp->amp_recv - cp->amp_sent : 0;
  size_t target = 1200;
  if (budget < target) {
    target = (size_t)budget;
  }
  if (cap > conn->set.max_udp_payload) {
    cap = conn->set.max_udp_payload;
  }
  /* RFC 9000 §18.2: never above the peer's max_udp_payload_size (>= 1200). */
  if (conn->peer_tp_done && cap > conn->peer_tp.max_udp_payload_size) {
    cap = (size_t)conn->peer_tp.max_udp_payload_size;
  }
  const aq_rtb *rtb = &conn->recov.sp[AQ_PN_SPACE_APP];
  if (target < 64 || cap < target || aq_rtb_full(rtb)) {
    cp->response_pending = 0; /* dropped: the peer challenges again */
    return 0;
  }
  uint32_t mi = meta_alloc(conn);
  if (mi == UINT32_MAX) {
    return 0;
  }
  aq_pkt_hd hd;
  memset(&hd, 0, sizeof(hd));
  hd.type = AQ_PKT_1RTT;
  hd.dcid = conn->dcid.data;
  hd.dcidlen = conn->dcid.len;
  hd.key_phase = conn->key_phase;
  hd.pkt_num = aq_recov_next_pn(&conn->recov, AQ_PN_SPACE_APP);
  hd.pn_len = aq_pkt_pn_len(hd.pkt_num, rtb->has_largest_acked ? rtb->largest_acked : UINT64_MAX);
  aq_wbuf w;
  aq_wbuf_init(&w, buf, target);
  if (aq_pkt_encode_hd(&w, &hd) != 0) {
    meta_free(conn, mi);
    return 0;
  }
  aq_frame f;
  memset(&f, 0, sizeof(f));
  f.type = AQ_FT_PATH_RESPONSE;
  memcpy(f.u.path.data, cp->response, AQ_PATH_DATA_LEN);
  if (aq_frame_encode(&w, &f) != 0 || aq_wbuf_left(&w) < AQ_AEAD_TAG_LEN) {
    meta_free(conn, mi);
    return 0;
  }
  /* Extensions may bundle probing frames for this path (OBSERVED_ADDRESS, address discovery §5);
   * they make the packet ack-eliciting. */
  unsigned sent_flags = 0;
  for (size_t i = 0; i < conn->next; i++) {
    const aq_conn_ext *e = &conn->ext[i];
    aq_wbuf ew;
    aq_wbuf_init(&ew, w.p, aq_wbuf_left(&w) - AQ_AEAD_TAG_LEN);
    conn->ext_tx_meta = &conn->meta[mi];
    conn->ext_tx_idx = i;
    int erc = e->ops->write_frames != NULL ? e->ops->write_frames(e->ctx, conn, path_idx, &ew, ts)
                                           : 0;
    conn->ext_tx_meta = NULL;
    if (aq_wbuf_error(&ew) == 0 && aq_wbuf_len(&ew) > 0) {
      (void)aq_wbuf_reserve(&w, aq_wbuf_len(&ew));
      sent_flags = AQ_SENT_ACK_ELICITING | AQ_SENT_IN_FLIGHT;
    }
    if (erc != 0) {
      break;
    }
  }
  aq_wbuf_zeros(&w, aq_wbuf_left(&w)); /* PADDING, then the tag's room */
  size_t len = aq_wbuf_len(&w);
  aq_qlog_packet(conn, 1, AQ_PKT_1RTT, hd.pkt_num, hd.key_phase, buf + hd.pktlen,
                 len - hd.pktlen - AQ_AEAD_TAG_LEN, len, ts);
  int rc = aq_pprot_seal(&s->tx, buf, len, hd.pktlen, hd.pn_offset, hd.pn_len, hd.pkt_num);
  if (rc == 0) {
    rc = aq_recov_on_sent(&conn->recov, AQ_PN_SPACE_APP, hd.pkt_num, (uint32_t)len, sent_flags,
                          mi, ts);
  }
  if (rc != 0) {
    meta_free(conn, mi);
    return rc == AQ_ERR_LIMIT ? 0 : rc;
  }
  cp->response_pending = 0;
  cp->amp_sent += len;
  conn->stats.pkts_sent++;
  aq_ku_on_sealed(conn, hd.pkt_num, NULL, ts);
  return (aq_ssize)len;
}
