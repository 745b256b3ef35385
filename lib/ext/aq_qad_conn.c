/*
 * aq_qad_conn.c - QUIC Address Discovery on connections and endpoints
 * (see aq_qad_conn.h for the behaviour, timers and memory bounds).
 */
#include "aq_qad_conn.h"

#include <string.h>

#include "aq_conn_int.h"
#include "aq_ct.h"
#include "aq_mem.h"
#include "aq_tp.h"

/** The value of peer_mode before/without the peer's transport parameter. */
#define QAD_MODE_ABSENT UINT64_MAX

struct aq_qad_ep {
  const aq_mem *mem;
  aq_qad_config cfg; /* for connections created from now on */
  size_t n;
  aq_discovered_addr set[AQ_QAD_MAX_DISCOVERED];
};

/* ============================================================ endpoint set */

/** Remember that peer reported addr at ts in e (most recent reporter first). */
static void qad_reporter_touch(aq_discovered_addr *e, const aq_addr *peer, aq_tstamp ts) {
  size_t i = 0;
  while (i < e->nreporters && !aq_addr_eq(&e->reporters[i].peer, peer)) {
    i++;
  }
  if (i == e->nreporters) {
    if (e->nreporters < AQ_QAD_MAX_REPORTERS) {
      e->nreporters++;
    } else {
      i = AQ_QAD_MAX_REPORTERS - 1; /* forget the least recent one */
    }
  }
  memmove(&e->reporters[1], &e->reporters[0], i * sizeof(e->reporters[0]));
  e->reporters[0].peer = *peer;
  e->reporters[0].last_ts = ts;
}

/** Add or refresh addr (reported by peer at ts) in the endpoint's set. */
static void qad_ep_record(aq_qad_ep *qe, const aq_addr *addr, const aq_addr *peer, aq_tstamp ts) {
  aq_discovered_addr *e = NULL;
  for (size_t i = 0; i < qe->n; i++) {
    if (aq_addr_eq(&qe->set[i].addr, addr)) {
      e = &qe->set[i];
      break;
    }
  }
  if (e == NULL) {
    if (qe->n < AQ_QAD_MAX_DISCOVERED) {
      e = &qe->set[qe->n++];
    } else {
      /* Full: forget the entry reported least recently. */
      e = &qe->set[0];
      for (size_t i = 1; i < qe->n; i++) {
        if (qe->set[i].last_ts < e->last_ts) {
          e = &qe->set[i];
        }
      }
    }
    memset(e, 0, sizeof(*e));
    e->addr = *addr;
    e->first_ts = ts;
  }
  e->last_ts = ts;
  e->reports++;
  qad_reporter_touch(e, peer, ts);
}

size_t aq_qad_ep_discovered(const aq_qad_ep *qe, aq_discovered_addr *out, size_t n) {
  if (qe == NULL) {
    return 0;
  }
  /* Insertion of each entry into out[], ordered by last_ts descending (n and the set are small). */
  size_t k = 0;
  for (size_t i = 0; i < qe->n; i++) {
    const aq_discovered_addr *e = &qe->set[i];
    size_t pos = k;
    while (pos > 0 && out[pos - 1].last_ts < e->last_ts) {
      pos--;
    }
    if (pos >= n) {
      continue;
    }
    size_t keep = k < n ? k : n - 1;
    memmove(&out[pos + 1], &out[pos], (keep - pos) * sizeof(out[0]));
    out[pos] = *e;
    if (k < n) {
      k++;
    }
  }
  return qe->n;
}

int aq_qad_config_check(const aq_qad_config *cfg) {
  if (cfg == NULL) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (cfg->mode > AQ_TP_AD_BOTH) {
    return AQ_ERR_VALUE_RANGE;
  }
  if (!cfg->bootstrap && (cfg->max_rate < 1 || cfg->max_rate > AQ_QAD_MAX_RATE)) {
    return AQ_ERR_VALUE_RANGE;
  }
  return 0;
}

int aq_qad_ep_configure(aq_qad_ep **slot, const aq_mem *mem, const aq_qad_config *cfg) {
  if (cfg != NULL && cfg->enabled) {
    int rc = aq_qad_config_check(cfg);
    if (rc != 0) {
      return rc;
    }
  }
  if (*slot == NULL) {
    if (cfg == NULL || !cfg->enabled) {
      return 0;
    }
    *slot = aq_mem_calloc(mem, 1, sizeof(aq_qad_ep));
    if (*slot == NULL) {
      return AQ_ERR_NOMEM;
    }
    (*slot)->mem = mem;
  }
  if (cfg != NULL) {
    (*slot)->cfg = *cfg;
  } else {
    (*slot)->cfg.enabled = 0;
  }
  return 0;
}

int aq_qad_ep_attach(aq_qad_ep *qe, aq_conn *conn, aq_tstamp ts) {
  if (qe == NULL || !qe->cfg.enabled) {
    return 0;
  }
  return aq_qad_conn_attach(conn, &qe->cfg, qe, ts);
}

void aq_qad_ep_del(aq_qad_ep *qe) {
  if (qe != NULL) {
    aq_mem_free(qe->mem, qe);
  }
}

/* ========================================================= connection hooks */

static const uint64_t qad_frame_types[] = {AQ_FT_OBSERVED_ADDRESS_V4, AQ_FT_OBSERVED_ADDRESS_V6};

/** Tokens of aq_conn_ext_track: sequence number and path slot. */
static uint64_t qad_token(uint64_t seq, unsigned path_idx) {
  return seq * AQ_MAX_PATHS + path_idx;
}

/** A path slot starts over: a new observation is due, the receive filter is empty. */
static void qad_path_reset(aq_qad_path *pp) {
  aq_qad_rx_init(&pp->rx);
  pp->tx = AQ_QAD_TX_NEW;
  pp->tx_seq = 0;
  pp->wake_at = AQ_TSTAMP_NEVER;
}

/** Non-zero if we report on path_idx at all (negotiated, in use, active unless observe_all). */
static int qad_observes(const aq_qad_conn *qc, const aq_conn *conn, unsigned path_idx) {
  return qc->may_send && path_idx < AQ_MAX_PATHS && conn->paths[path_idx].in_use &&
         (path_idx == conn->active_path || qc->observe_all);
}

/*
 * Draft §4.1: "A node that did not request the receipt of address
 * observations MUST close the connection with a PROTOCOL_VIOLATION error if
 * it receives an OBSERVED_ADDRESS frame."  "A peer SHOULD ignore an incoming
 * OBSERVED_ADDRESS frame if it previously received another OBSERVED_ADDRESS
 * frame for the same path with a Sequence Number equal to or higher than the
 * sequence number of the incoming frame."
 */
static int qad_on_frame(void *ctx, aq_conn *conn, const aq_frame *f, unsigned path_idx,
                        aq_tstamp ts) {
  aq_qad_conn *qc = ctx;
  if (!qc->may_receive) {
    return AQ_ERR_PROTO;
  }
  if (path_idx >= AQ_MAX_PATHS) {
    return AQ_ERR_INTERNAL;
  }
  const aq_addr *addr = &f->u.addr.addr;
  if (aq_qad_rx_accept(&qc->path[path_idx].rx, f->u.addr.seq, addr) == AQ_QAD_RX_STALE) {
    qc->stats.rx_stale++;
    return 0;
  }
  qc->stats.rx_accepted++;
  int changed = !qc->have_observed || !aq_addr_eq(&qc->observed, addr);
  qc->observed = *addr;
  qc->have_observed = 1;
  if (changed) {
    qc->stats.rx_changes++;
    qc->nchanges++;
  }
  if (qc->ep != NULL) {
    if (qc->nchanges <= AQ_QAD_MAX_ADDRS_PER_CONN) {
      qad_ep_record(qc->ep, addr, &conn->paths[path_idx].addr.remote, ts);
    } else {
      qc->stats.rx_untracked++;
    }
  }
  if (conn->cb.addr_observed != NULL) {
    conn->cb.addr_observed(conn, addr, changed, conn->user_data);
  }
  return 0;
}

/** Draft §3: the peer's address_discovery value decides who may send. */
static int qad_on_peer_tp(void *ctx, aq_conn *conn, const uint8_t *value, size_t len) {
  (void)conn;
  aq_qad_conn *qc = ctx;
  qc->peer_mode = QAD_MODE_ABSENT;
  qc->may_send = 0;
  qc->may_receive = 0;
  if (value == NULL) {
    return 0; /* the peer does not speak the extension */
  }
  aq_rbuf r;
  uint64_t v;
  aq_rbuf_init(&r, value, len);
  if (aq_rbuf_varint(&r, &v) != 0 || aq_rbuf_done(&r) != 0) {
    return AQ_ERR_MALFORMED;
  }
  /* "MUST treat the receipt of any other value than these as a connection
   * error of type TRANSPORT_PARAMETER_ERROR" (the caller closes with it). */
  int rc = aq_qad_tp_valid(v);
  if (rc != 0) {
    return rc;
  }
  qc->peer_mode = v;
  qc->may_send = (uint8_t)aq_qad_may_send(qc->mode, v);
  qc->may_receive = (uint8_t)aq_qad_may_receive(qc->mode, v);
  return 0;
}

/*
 * Draft §5: "MUST send an OBSERVED_ADDRESS frame on every new path.  This
 * also applies to the path used for the QUIC handshake."  §4.1: "SHOULD be
 * retransmitted if lost.  Retransmissions MUST happen on the same path as the
 * original frame was sent on."  write_frames is called for the path the
 * packet goes to, so a retransmission waits for its own path.
 */
static int qad_write_frames(void *ctx, aq_conn *conn, unsigned path_idx, aq_wbuf *w, aq_tstamp ts) {
  aq_qad_conn *qc = ctx;
  if (!qad_observes(qc, conn, path_idx)) {
    return 0;
  }
  aq_qad_path *pp = &qc->path[path_idx];
  if (pp->tx != AQ_QAD_TX_NEW && pp->tx != AQ_QAD_TX_RETX) {
    return 0;
  }
  int is_new = pp->tx == AQ_QAD_TX_NEW;
  aq_frame f;
  memset(&f, 0, sizeof(f));
  f.u.addr.addr = conn->paths[path_idx].addr.remote;
  f.type =
      f.u.addr.addr.family == AQ_AF_INET6 ? AQ_FT_OBSERVED_ADDRESS_V6 : AQ_FT_OBSERVED_ADDRESS_V4;
  f.u.addr.seq = is_new ? qc->next_seq : pp->tx_seq;
  size_t need = aq_frame_encoded_len(&f);
  if (need == 0) {
    pp->tx = AQ_QAD_TX_IDLE; /* nothing we can report (no address family) */
    return 0;
  }
  if (need > aq_wbuf_left(w)) {
    return 0;
  }
  if (is_new) {
    aq_tstamp next = aq_qad_bucket_next(&pp->bucket, ts);
    if (next > ts) {
      if (pp->wake_at == AQ_TSTAMP_NEVER) {
        qc->stats.rate_limited++;
      }
      pp->wake_at = next;
      return 0;
    }
  }
  if (aq_conn_ext_track(conn, qad_token(f.u.addr.seq, path_idx)) != 0) {
    return 0; /* no room for the record in this packet: the next one */
  }
  if (is_new && !aq_qad_bucket_take(&pp->bucket, ts)) {
    return AQ_ERR_INTERNAL; /* bucket_next said a token is there */
  }
  if (aq_frame_encode(w, &f) != 0) {
    return AQ_ERR_INTERNAL; /* it fitted a moment ago */
  }
  pp->tx = AQ_QAD_TX_SENT;
  pp->tx_seq = f.u.addr.seq;
  pp->wake_at = AQ_TSTAMP_NEVER;
  if (is_new) {
    qc->next_seq++;
    qc->stats.tx_new++;
  } else {
    qc->stats.tx_retx++;
  }
  return 0;
}

/** Something to send on path_idx now: a retransmission, or a new observation not waiting. */
static int qad_has_pending(void *ctx, const aq_conn *conn, unsigned path_idx) {
  const aq_qad_conn *qc = ctx;
  if (!qad_observes(qc, conn, path_idx)) {
    return 0;
  }
  const aq_qad_path *pp = &qc->path[path_idx];
  return pp->tx == AQ_QAD_TX_RETX || (pp->tx == AQ_QAD_TX_NEW && pp->wake_at == AQ_TSTAMP_NEVER);
}

/** When the active path's bucket refills for a waiting new observation (else NEVER). */
static aq_tstamp qad_get_expiry(void *ctx, const aq_conn *conn) {
  const aq_qad_conn *qc = ctx;
  unsigned a = conn->active_path;
  if (!qad_observes(qc, conn, a) || qc->path[a].tx != AQ_QAD_TX_NEW) {
    return AQ_TSTAMP_NEVER;
  }
  return qc->path[a].wake_at;
}

/** Refill times that passed: those observations may go out now. */
static void qad_handle_expiry(void *ctx, aq_conn *conn, aq_tstamp ts) {
  (void)conn;
  aq_qad_conn *qc = ctx;
  for (unsigned i = 0; i < AQ_MAX_PATHS; i++) {
    if (qc->path[i].wake_at <= ts) {
      qc->path[i].wake_at = AQ_TSTAMP_NEVER; /* has_pending says yes again */
    }
  }
}

/** A packet carrying the frame of token (seq, slot) was acknowledged or lost. */
static void qad_on_frame_fate(void *ctx, aq_conn *conn, uint64_t token, int acked) {
  (void)conn;
  aq_qad_conn *qc = ctx;
  unsigned slot = (unsigned)(token % AQ_MAX_PATHS);
  uint64_t seq = token / AQ_MAX_PATHS;
  aq_qad_path *pp = &qc->path[slot];
  if (acked) {
    qc->stats.tx_acked++;
  } else {
    qc->stats.tx_lost++;
  }
  /* Only the latest observation of this slot matters: a newer one (new path
   * or address) superseded anything older. */
  if (pp->tx != AQ_QAD_TX_SENT || pp->tx_seq != seq) {
    return;
  }
  pp->tx = acked ? AQ_QAD_TX_IDLE : AQ_QAD_TX_RETX;
}

/** Path slot path_idx got a new address pair: a new observation is due there. */
static void qad_on_path(void *ctx, aq_conn *conn, unsigned path_idx) {
  (void)conn;
  aq_qad_conn *qc = ctx;
  if (path_idx < AQ_MAX_PATHS) {
    aq_tstamp wake = qc->path[path_idx].wake_at;
    qad_path_reset(&qc->path[path_idx]);
    qc->path[path_idx].wake_at = wake; /* the slot's bucket is still as empty as it was */
  }
}

/** The connection is freed: zero and free our state. */
static void qad_on_del(void *ctx, aq_conn *conn) {
  (void)conn;
  aq_qad_conn *qc = ctx;
  const aq_mem *mem = qc->mem;
  aq_memzero(qc, sizeof(*qc));
  aq_mem_free(mem, qc);
}

static const aq_conn_ext_ops qad_ops = {
    .name = "address discovery",
    .frame_types = qad_frame_types,
    .nframe_types = sizeof(qad_frame_types) / sizeof(qad_frame_types[0]),
    .tp_id = AQ_TP_ADDRESS_DISCOVERY,
    .on_frame = qad_on_frame,
    .on_peer_tp = qad_on_peer_tp,
    .write_frames = qad_write_frames,
    .has_pending = qad_has_pending,
    .get_expiry = qad_get_expiry,
    .handle_expiry = qad_handle_expiry,
    .on_frame_fate = qad_on_frame_fate,
    .on_path = qad_on_path,
    .on_del = qad_on_del,
};

int aq_qad_conn_attach(aq_conn *conn, const aq_qad_config *cfg, aq_qad_ep *ep, aq_tstamp ts) {
  int rc = aq_qad_config_check(cfg);
  if (rc != 0) {
    return rc;
  }
  aq_qad_conn *qc = aq_mem_calloc(conn->mem, 1, sizeof(*qc));
  if (qc == NULL) {
    return AQ_ERR_NOMEM;
  }
  qc->mem = conn->mem;
  qc->ep = ep;
  qc->peer_mode = QAD_MODE_ABSENT;
  qc->mode = cfg->mode;
  qc->tp_value[0] = cfg->mode; /* a one-byte varint */
  qc->rate = cfg->bootstrap ? AQ_QAD_MAX_RATE : cfg->max_rate;
  qc->observe_all = (uint8_t)(cfg->bootstrap || cfg->observe_all_paths);
  for (unsigned i = 0; i < AQ_MAX_PATHS; i++) {
    aq_qad_path *pp = &qc->path[i];
    if (aq_qad_bucket_init(&pp->bucket, qc->rate, ts) != 0) {
      aq_mem_free(conn->mem, qc);
      return AQ_ERR_INTERNAL;
    }
    qad_path_reset(pp);
    if (!conn->paths[i].in_use) {
      pp->tx = AQ_QAD_TX_IDLE; /* on_path arms it when the slot gets a path */
    }
  }
  rc = aq_conn_ext_register(conn, &qad_ops, qc, qc->tp_value, sizeof(qc->tp_value));
  if (rc != 0) {
    aq_mem_free(conn->mem, qc);
    return rc;
  }
  return 0;
}

const aq_qad_conn *aq_qad_conn_of(const aq_conn *conn) {
  for (size_t i = 0; i < conn->next; i++) {
    if (conn->ext[i].ops == &qad_ops) {
      return conn->ext[i].ctx;
    }
  }
  return NULL;
}

int aq_conn_observed_addr(const aq_conn *conn, aq_addr *out) {
  const aq_qad_conn *qc = aq_qad_conn_of(conn);
  if (qc == NULL || !qc->have_observed) {
    return AQ_ERR_NOT_FOUND;
  }
  *out = qc->observed;
  return 0;
}
