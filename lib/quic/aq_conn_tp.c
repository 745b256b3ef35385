/*
 * aq_conn_tp.c - the connection's transport parameters (RFC 9000 §7.4, §18.2):
 * encoding ours (with extension parameters) and checking the peer's once TLS
 * has authenticated them (§7.3 connection-ID checks, idle timeout, extension
 * callbacks).  Moved out of aq_conn.c unchanged.
 */
#include <string.h>

#include "aq_conn_int.h"
#include "aq_qerr.h"
#include "aq_qlog.h"

/** Our transport parameters (RFC 9000 §18.2). */
int aq_conn_encode_tp(aq_conn *conn) {
  aq_tp tp;
  aq_tp_default(&tp);
  const aq_settings *s = &conn->set;
  tp.max_idle_timeout_ms = s->idle_timeout / AQ_MILLISECONDS;
  tp.max_udp_payload_size = AQ_CONN_MAX_DGRAM;
  tp.initial_max_data = s->initial_max_data;
  tp.initial_max_stream_data_bidi_local = s->initial_max_stream_data;
  tp.initial_max_stream_data_bidi_remote = s->initial_max_stream_data;
  tp.initial_max_stream_data_uni = s->initial_max_stream_data;
  tp.initial_max_streams_bidi = s->initial_max_streams_bidi;
  tp.initial_max_streams_uni = s->initial_max_streams_uni;
  tp.max_ack_delay_ms = s->max_ack_delay / AQ_MILLISECONDS;
  tp.active_connection_id_limit = AQ_MAX_PEER_CIDS;
  tp.max_datagram_frame_size = s->max_datagram_frame_size; /* RFC 9221 §3 */
  tp.initial_scid = conn->scid;
  tp.has |= AQ_TP_HAS_INITIAL_SCID;
  aq_ver_fill_tp(conn, &tp); /* RFC 9368 version_information (aq_conn_ver.c) */
  if (conn->is_server) {
    tp.original_dcid = conn->odcid;
    tp.has |= AQ_TP_HAS_ORIGINAL_DCID;
    if (conn->has_reset_key) {
      if (aq_reset_token_for(conn->reset_key, &conn->scid, tp.stateless_reset_token) != 0) {
        return AQ_ERR_CRYPTO;
      }
      tp.has |= AQ_TP_HAS_STATELESS_RESET_TOKEN;
    }
    if (conn->got_retry) {
      tp.retry_scid = conn->retry_scid;
      tp.has |= AQ_TP_HAS_RETRY_SCID;
    }
  }
  /* Extension parameters: through the codec's table, or appended raw when the
   * codec knows the id itself (address discovery, NAT traversal). */
  int raw[AQ_CONN_MAX_EXT] = {0};
  for (size_t i = 0; i < conn->next; i++) {
    const aq_conn_ext *e = &conn->ext[i];
    if (e->ops->tp_id == 0) {
      continue;
    }
    int rc = aq_tp_ext_set(&tp, e->ops->tp_id, e->tp_value, e->tp_len);
    if (rc == AQ_ERR_INVALID_ARGUMENT) {
      raw[i] = 1;
    } else if (rc != 0) {
      return rc;
    }
  }
  aq_wbuf w;
  aq_wbuf_init(&w, conn->tp_buf, sizeof(conn->tp_buf));
  int rc = aq_tp_encode(&w, &tp, conn->is_server ? AQ_TP_FROM_SERVER : AQ_TP_FROM_CLIENT, NULL, 0);
  if (rc != 0) {
    return rc;
  }
  for (size_t i = 0; i < conn->next; i++) {
    if (raw[i]) {
      aq_wbuf_varint(&w, conn->ext[i].ops->tp_id);
      aq_wbuf_varint(&w, conn->ext[i].tp_len);
      aq_wbuf_bytes(&w, conn->ext[i].tp_value, conn->ext[i].tp_len);
    }
  }
  if (aq_wbuf_error(&w) != 0) {
    return AQ_ERR_BUFFER_TOO_SMALL;
  }
  conn->tp_len = aq_wbuf_len(&w);
  return 0;
}

/** Find parameter id in raw transport parameters (already validated by aq_tp_decode). */
static const uint8_t *tp_raw_find(const uint8_t *p, size_t len, uint64_t id, size_t *vlen) {
  aq_rbuf r;
  aq_rbuf_init(&r, p, len);
  while (aq_rbuf_left(&r) > 0) {
    uint64_t pid, plen;
    const uint8_t *v;
    if (aq_rbuf_varint(&r, &pid) != 0 || aq_rbuf_varint(&r, &plen) != 0 ||
        plen > aq_rbuf_left(&r) || aq_rbuf_bytes(&r, (size_t)plen, &v) != 0) {
      return NULL;
    }
    if (pid == id) {
      *vlen = (size_t)plen;
      return v;
    }
  }
  return NULL;
}

/** Decode and check the peer's transport parameters once TLS has them (RFC 9000 §7.3). */
int aq_conn_process_peer_tp(aq_conn *conn, aq_tstamp ts) {
  if (conn->peer_tp_done || conn->tls == NULL) {
    return 0;
  }
  size_t len;
  const uint8_t *p = aq_tls_get_peer_transport_params(conn->tls, &len);
  if (p == NULL) {
    return 0;
  }
  aq_tp tp;
  aq_tp_default(&tp);
  int rc = aq_tp_decode(&tp, p, len, conn->is_server ? AQ_TP_FROM_CLIENT : AQ_TP_FROM_SERVER);
  if (rc != 0) {
    aq_conn_fail(conn, AQ_QERR_TRANSPORT_PARAMETER_ERROR, AQ_FT_CRYPTO, "bad transport parameters",
                 ts);
    return AQ_ERR_PROTO;
  }
  /* §7.3: the CIDs in the packets must match the authenticated parameters. */
  if (!aq_cid_eq(&tp.initial_scid, &conn->peer_initial_scid)) {
    aq_conn_fail(conn, AQ_QERR_TRANSPORT_PARAMETER_ERROR, AQ_FT_CRYPTO,
                 "initial_source_connection_id mismatch", ts);
    return AQ_ERR_PROTO;
  }
  if (!conn->is_server) {
    /* §7.3: retry_source_connection_id present exactly when we processed a Retry. */
    int retry_ok = conn->got_retry ? ((tp.has & AQ_TP_HAS_RETRY_SCID) &&
                                      aq_cid_eq(&tp.retry_scid, &conn->retry_scid))
                                   : !(tp.has & AQ_TP_HAS_RETRY_SCID);
    if (!aq_cid_eq(&tp.original_dcid, &conn->odcid) || !retry_ok) {
      aq_conn_fail(conn, AQ_QERR_TRANSPORT_PARAMETER_ERROR, AQ_FT_CRYPTO,
                   "original_destination_connection_id mismatch", ts);
      return AQ_ERR_PROTO;
    }
  }
  if (aq_ver_check_peer_tp(conn, &tp, ts) != 0) { /* RFC 9368 §4 downgrade checks */
    return AQ_ERR_PROTO;
  }
  conn->peer_tp = tp;
  conn->peer_tp_done = 1;
  aq_qlog_params(conn, 0, &tp, ts);
  aq_strm_apply_peer_tp(conn);
  aq_recov_set_max_ack_delay(&conn->recov, tp.max_ack_delay_ms * AQ_MILLISECONDS);
  /* §10.1: the effective idle timeout is the minimum of both non-zero values. */
  aq_duration peer_idle = tp.max_idle_timeout_ms * AQ_MILLISECONDS;
  aq_duration idle = conn->set.idle_timeout;
  if (peer_idle != 0 && (idle == 0 || peer_idle < idle)) {
    idle = peer_idle;
  }
  conn->idle_timeout = idle;
  conn->peer_cids[0].in_use = 1;
  conn->peer_cids[0].seq = 0;
  conn->peer_cids[0].cid = conn->dcid;
  if (tp.has & AQ_TP_HAS_STATELESS_RESET_TOKEN) {
    memcpy(conn->peer_cids[0].token, tp.stateless_reset_token, AQ_STATELESS_RESET_TOKEN_LEN);
    conn->peer_reset_token0 = 1;
  }
  for (size_t i = 0; i < conn->next; i++) {
    const aq_conn_ext *e = &conn->ext[i];
    if (e->ops->on_peer_tp == NULL) {
      continue;
    }
    size_t vlen = 0;
    const uint8_t *v = e->ops->tp_id != 0 ? tp_raw_find(p, len, e->ops->tp_id, &vlen) : NULL;
    rc = e->ops->on_peer_tp(e->ctx, conn, v, vlen);
    if (rc != 0) {
      aq_conn_fail(conn, AQ_QERR_TRANSPORT_PARAMETER_ERROR, AQ_FT_CRYPTO, e->ops->name, ts);
      return AQ_ERR_PROTO;
    }
  }
  return 0;
}
