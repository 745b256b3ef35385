/*
 * aq_conn_mig.c - client-initiated connection migration (see
 * aq_conn_mig.h).  RFC 9000 §9.2: the client probes the new path before
 * moving; §9.5: it uses a connection ID the peer has not seen on another
 * path, and retires the old one once it has moved; §8.2.1: datagrams with
 * PATH_CHALLENGE are expanded to 1200 bytes; §9.4: a new path starts with
 * fresh congestion control and RTT state.
 */
#include <string.h>

#include "aq_conn_int.h"
#include "aq_qerr.h"

/** kInitialRtt (RFC 9002 §6.2.2). */
#define MIG_INITIAL_RTT (333 * AQ_MILLISECONDS)

/** A spare peer CID (in use, not the current one): its index, or AQ_MAX_PEER_CIDS. */
static size_t spare_cid(const aq_conn *conn) {
  size_t best = AQ_MAX_PEER_CIDS;
  for (size_t i = 0; i < AQ_MAX_PEER_CIDS; i++) {
    if (!conn->peer_cids[i].in_use || conn->peer_cids[i].seq == conn->dcid_seq ||
        conn->peer_cids[i].seq < conn->retire_prior_to) {
      continue;
    }
    if (best == AQ_MAX_PEER_CIDS || conn->peer_cids[i].seq < conn->peer_cids[best].seq) {
      best = i;
    }
  }
  return best;
}

int aq_conn_migrate(aq_conn *conn, const aq_addr *new_local, aq_tstamp ts) {
  if (conn->err != 0) {
    return conn->err;
  }
  if (new_local == NULL || (new_local->family != AQ_AF_INET && new_local->family != AQ_AF_INET6)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  /* §9: only the client migrates, and not before the handshake is confirmed (§9.1);
   * §18.2: never when the peer set disable_active_migration. */
  if (conn->is_server || conn->state != AQ_CS_ESTABLISHED || !conn->handshake_confirmed ||
      conn->peer_tp.disable_active_migration) {
    return AQ_ERR_STATE;
  }
  aq_path np;
  np.local = *new_local;
  np.remote = conn->paths[conn->active_path].addr.remote;
  if (np.local.family != np.remote.family ||
      aq_addr_eq(&np.local, &conn->paths[conn->active_path].addr.local)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  /* §9.5: a connection ID the peer has not seen from us on another path. */
  size_t ci = spare_cid(conn);
  if (ci == AQ_MAX_PEER_CIDS) {
    return AQ_ERR_LIMIT;
  }
  uint8_t challenge[AQ_PATH_DATA_LEN];
  if (conn->cb.rand(challenge, sizeof(challenge), conn->user_data) != 0) {
    aq_conn_set_fatal(conn, AQ_ERR_CALLBACK_FAILURE);
    return AQ_ERR_CALLBACK_FAILURE;
  }
  unsigned slot = aq_conn_path_slot(conn, &np);
  if (slot == conn->active_path) {
    return AQ_ERR_INTERNAL;
  }
  aq_conn_path *cp = &conn->paths[slot];
  cp->validated = 0;
  cp->challenge_pending = 0;
  cp->challenge_outstanding = 0;
  memcpy(cp->challenge, challenge, sizeof(challenge));
  aq_conn_mig *m = &conn->mig;
  m->active = 1;
  m->path_idx = slot;
  m->cid_idx = ci;
  m->started_ts = ts;
  m->last_probe_ts = ts;
  m->next_probe_ts = ts;
  m->probes_sent = 0;
  aq_duration pto = aq_recov_pto_duration(&conn->recov, AQ_PN_SPACE_APP);
  aq_duration wait = pto > 6 * MIG_INITIAL_RTT ? pto : 6 * MIG_INITIAL_RTT;
  m->deadline_ts = ts + 3 * wait;
  conn->tx_stalled = 0;
  return 0;
}

aq_ssize aq_mig_write(aq_conn *conn, aq_path *path, uint8_t *buf, size_t cap, aq_tstamp ts) {
  aq_conn_mig *m = &conn->mig;
  aq_pnspace *s = &conn->sp[AQ_PN_SPACE_APP];
  if (!m->active || ts < m->next_probe_ts) {
    return 0;
  }
  aq_conn_path *cp = &conn->paths[m->path_idx];
  if (conn->state != AQ_CS_ESTABLISHED || !s->has_tx || !cp->in_use ||
      !conn->peer_cids[m->cid_idx].in_use) {
    m->active = 0; /* the path or its CID went away: give up */
    m->abandoned++;
    return 0;
  }
  /* Whatever happens below, do not retry before the next PTO (no busy loop). */
  m->next_probe_ts = ts + aq_recov_pto_duration(&conn->recov, AQ_PN_SPACE_APP);
  if (cap > conn->set.max_udp_payload) {
    cap = conn->set.max_udp_payload;
  }
  if (conn->peer_tp_done && cap > conn->peer_tp.max_udp_payload_size) {
    cap = (size_t)conn->peer_tp.max_udp_payload_size;
  }
  const aq_rtb *rtb = &conn->recov.sp[AQ_PN_SPACE_APP];
  if (cap < 1200 || aq_rtb_full(rtb)) {
    return 0;
  }
  uint32_t mi = aq_conn_tx_meta_alloc(conn);
  if (mi == UINT32_MAX) {
    return 0;
  }
  const aq_cid *dcid = &conn->peer_cids[m->cid_idx].cid;
  aq_pkt_hd hd;
  memset(&hd, 0, sizeof(hd));
  hd.type = AQ_PKT_1RTT;
  hd.dcid = dcid->data;
  hd.dcidlen = dcid->len;
  hd.key_phase = conn->key_phase;
  hd.pkt_num = aq_recov_next_pn(&conn->recov, AQ_PN_SPACE_APP);
  hd.pn_len = aq_pkt_pn_len(hd.pkt_num, rtb->has_largest_acked ? rtb->largest_acked : UINT64_MAX);
  aq_wbuf w;
  aq_wbuf_init(&w, buf, 1200);
  if (aq_pkt_encode_hd(&w, &hd) != 0) {
    aq_conn_tx_meta_free(conn, mi);
    return 0;
  }
  aq_frame f;
  memset(&f, 0, sizeof(f));
  f.type = AQ_FT_PATH_CHALLENGE;
  memcpy(f.u.path.data, cp->challenge, AQ_PATH_DATA_LEN);
  int ok = aq_frame_encode(&w, &f) == 0;
  if (ok && cp->response_pending) {
    f.type = AQ_FT_PATH_RESPONSE;
    memcpy(f.u.path.data, cp->response, AQ_PATH_DATA_LEN);
    ok = aq_frame_encode(&w, &f) == 0;
  }
  if (!ok || aq_wbuf_left(&w) < AQ_AEAD_TAG_LEN) {
    aq_conn_tx_meta_free(conn, mi);
    return 0;
  }
  aq_wbuf_zeros(&w, aq_wbuf_left(&w)); /* PADDING to 1200 (§8.2.1), then the tag's room */
  size_t len = aq_wbuf_len(&w);
  int rc = aq_pprot_seal(&s->tx, buf, len, hd.pktlen, hd.pn_offset, hd.pn_len, hd.pkt_num);
  if (rc == 0) {
    /* Not in flight: the probe's own timer resends it (congestion state of the old
     * path must not be charged for a path that may not work). */
    rc = aq_recov_on_sent(&conn->recov, AQ_PN_SPACE_APP, hd.pkt_num, (uint32_t)len, 0, mi, ts);
  }
  if (rc != 0) {
    aq_conn_tx_meta_free(conn, mi);
    if (rc == AQ_ERR_LIMIT) {
      return 0;
    }
    aq_conn_set_fatal(conn, rc);
    return rc;
  }
  cp->response_pending = 0;
  cp->challenge_outstanding = 1;
  cp->amp_sent += len;
  m->probes_sent++;
  m->last_probe_ts = ts;
  conn->stats.pkts_sent++;
  conn->stats.bytes_sent += len;
  conn->app_pkts_sealed++;
  *path = cp->addr;
  return (aq_ssize)len;
}

/** Send under peer_cids[ci] from now on and retire the CID used so far (§5.1.2). */
static void switch_dcid(aq_conn *conn, size_t ci) {
  uint64_t old_seq = conn->dcid_seq;
  conn->dcid = conn->peer_cids[ci].cid;
  conn->dcid_seq = conn->peer_cids[ci].seq;
  /* Retired when it extends the queued RETIRE_CONNECTION_ID range. */
  for (size_t i = 0; i < AQ_MAX_PEER_CIDS; i++) {
    if (conn->peer_cids[i].in_use && conn->peer_cids[i].seq == old_seq) {
      if (conn->retire_seq_lo >= conn->retire_seq_hi) {
        conn->retire_seq_lo = old_seq;
        conn->retire_seq_hi = old_seq + 1;
        conn->retire_pending = 1;
        conn->peer_cids[i].in_use = 0;
      } else if (conn->retire_seq_hi == old_seq) {
        conn->retire_seq_hi = old_seq + 1;
        conn->retire_pending = 1;
        conn->peer_cids[i].in_use = 0;
      }
    }
  }
}

void aq_mig_on_response(aq_conn *conn, aq_tstamp ts) {
  aq_conn_mig *m = &conn->mig;
  if (!m->active || !conn->paths[m->path_idx].validated || conn->state != AQ_CS_ESTABLISHED) {
    return;
  }
  m->active = 0;
  m->done++;
  /* Move: new path, new CID (§9.5). */
  conn->active_path = m->path_idx;
  switch_dcid(conn, m->cid_idx);
  conn->stats.migrations++;
  /* §9.4: fresh congestion state; the probe's round trip seeds the RTT estimate. */
  aq_duration rtt = ts > m->last_probe_ts ? ts - m->last_probe_ts : conn->set.initial_rtt;
  aq_cc_init(&conn->cc, conn->cc.ops, conn->set.max_udp_payload);
  aq_rtt_init(&conn->recov.rtt, rtt);
  aq_pacer_init(&conn->pacer, conn->set.max_udp_payload);
  conn->tx_stalled = 0;
}

void aq_mig_on_peer_moved(aq_conn *conn, const aq_cid *dcid) {
  aq_conn_mig *m = &conn->mig;
  if (!conn->is_server) {
    return;
  }
  const aq_cid *prev = m->peer_used.len > 0 ? &m->peer_used : &conn->local_cids[0].cid;
  if (aq_cid_eq(dcid, prev)) {
    return; /* §9.5: after a NAT rebinding the current CID may stay */
  }
  m->peer_used = *dcid;
  size_t ci = spare_cid(conn);
  if (ci != AQ_MAX_PEER_CIDS) {
    switch_dcid(conn, ci);
  }
}

aq_tstamp aq_mig_get_expiry(const aq_conn *conn) {
  const aq_conn_mig *m = &conn->mig;
  if (!m->active) {
    return AQ_TSTAMP_NEVER;
  }
  return m->next_probe_ts < m->deadline_ts ? m->next_probe_ts : m->deadline_ts;
}

void aq_mig_handle_expiry(aq_conn *conn, aq_tstamp ts) {
  aq_conn_mig *m = &conn->mig;
  if (m->active && ts >= m->deadline_ts) {
    /* §8.2.4: give up; the connection stays on its current path. */
    m->active = 0;
    m->abandoned++;
    conn->paths[m->path_idx].challenge_outstanding = 0;
  }
}
