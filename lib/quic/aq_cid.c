/*
 * aq_cid.c - connection IDs of a connection (RFC 9000 §5.1): the peer's
 * (NEW_CONNECTION_ID, retire_prior_to, RETIRE_CONNECTION_ID owed), ours
 * (issued up to the peer's active_connection_id_limit, replaced when
 * retired, matched for demultiplexing) and stateless reset detection
 * (§10.3.1) against the tokens the peer gave with its CIDs.
 *
 * Timers: none.
 */
#include <string.h>

#include "aq_conn_int.h"
#include "aq_ct.h"
#include "aq_qerr.h"

/**
 * NEW_CONNECTION_ID (§19.15): store the CID and its reset token, honour
 * retire_prior_to (switching our DCID if it is retired, and owing
 * RETIRE_CONNECTION_ID frames), CONNECTION_ID_LIMIT_ERROR past our limit.
 */
int aq_cid_on_new(aq_conn *conn, const aq_frame_new_cid *nc, aq_tstamp ts) {
  if (conn->dcid.len == 0) {
    aq_conn_fail(conn, AQ_QERR_PROTOCOL_VIOLATION, AQ_FT_NEW_CONNECTION_ID,
                 "NEW_CONNECTION_ID with zero-length CIDs", ts);
    return AQ_ERR_PROTO;
  }
  if (nc->retire_prior_to > conn->retire_prior_to) {
    conn->retire_prior_to = nc->retire_prior_to;
  }
  int found = 0;
  for (size_t i = 0; i < AQ_MAX_PEER_CIDS; i++) {
    if (conn->peer_cids[i].in_use && conn->peer_cids[i].seq == nc->seq) {
      found = 1;
      if (!aq_cid_eq(&conn->peer_cids[i].cid, &nc->cid)) {
        aq_conn_fail(conn, AQ_QERR_PROTOCOL_VIOLATION, AQ_FT_NEW_CONNECTION_ID,
                     "sequence reused for another CID", ts);
        return AQ_ERR_PROTO;
      }
    }
  }
  /*
   * Retire what the peer asked us to first: §5.1.1 counts the active IDs
   * "after processing a NEW_CONNECTION_ID frame and adding and retiring
   * active connection IDs" (a peer replacing all its IDs at once is legal).
   * conn->dcid is a copy, so it stays usable until the switch below.
   */
  for (size_t i = 0; i < AQ_MAX_PEER_CIDS; i++) {
    if (conn->peer_cids[i].in_use && conn->peer_cids[i].seq < conn->retire_prior_to) {
      conn->peer_cids[i].in_use = 0;
    }
  }
  if (!found && nc->seq >= conn->retire_prior_to) {
    size_t i = 0;
    while (i < AQ_MAX_PEER_CIDS && conn->peer_cids[i].in_use) {
      i++;
    }
    if (i == AQ_MAX_PEER_CIDS) {
      aq_conn_fail(conn, AQ_QERR_CONNECTION_ID_LIMIT_ERROR, AQ_FT_NEW_CONNECTION_ID,
                   "too many connection IDs", ts);
      return AQ_ERR_PROTO;
    }
    conn->peer_cids[i].in_use = 1;
    conn->peer_cids[i].seq = nc->seq;
    conn->peer_cids[i].cid = nc->cid;
    memcpy(conn->peer_cids[i].token, nc->reset_token, AQ_STATELESS_RESET_TOKEN_LEN);
  }
  if (conn->dcid_seq < conn->retire_prior_to) {
    for (size_t i = 0; i < AQ_MAX_PEER_CIDS; i++) {
      if (conn->peer_cids[i].in_use) {
        conn->dcid = conn->peer_cids[i].cid;
        conn->dcid_seq = conn->peer_cids[i].seq;
        break;
      }
    }
  }
  if (conn->retire_seq_hi < conn->retire_prior_to) {
    conn->retire_seq_hi = conn->retire_prior_to;
    conn->retire_pending = 1;
  }
  if (!found && nc->seq < conn->retire_prior_to) {
    /* A CID that arrives already retired is retired at once (§5.1.2). */
    conn->retire_pending = 1;
  }
  return 0;
}

/** RETIRE_CONNECTION_ID (§19.16): forget that CID and issue a replacement. */
int aq_cid_on_retire(aq_conn *conn, uint64_t seq, aq_tstamp ts) {
  if (seq >= conn->next_local_seq) {
    aq_conn_fail(conn, AQ_QERR_PROTOCOL_VIOLATION, AQ_FT_RETIRE_CONNECTION_ID,
                 "retiring an unissued CID", ts);
    return AQ_ERR_PROTO;
  }
  for (size_t i = 0; i < AQ_MAX_LOCAL_CIDS; i++) {
    if (conn->local_cids[i].state != 0 && conn->local_cids[i].seq == seq) {
      conn->local_cids[i].state = 3;
      if (aq_cid_eq(&conn->local_cids[i].cid, &conn->scid)) {
        /* Sequence 0 retired: keep accepting it for demultiplexing only via others. */
        conn->scid.len = 0;
        memset(conn->scid.data, 0, sizeof(conn->scid.data));
        for (size_t k = 0; k < AQ_MAX_LOCAL_CIDS; k++) {
          if (conn->local_cids[k].state == 2) {
            conn->scid = conn->local_cids[k].cid;
            break;
          }
        }
      }
    }
  }
  return aq_cid_issue(conn);
}

/** See aq_conn.h. */
int aq_reset_token_for(const uint8_t key[32], const aq_cid *cid,
                       uint8_t token[AQ_STATELESS_RESET_TOKEN_LEN]) {
  uint8_t mac[32];
  int rc = aq_hmac(AQ_HASH_SHA256, mac, key, 32, cid->data, cid->len);
  if (rc == 0) {
    memcpy(token, mac, AQ_STATELESS_RESET_TOKEN_LEN);
  }
  aq_memzero(mac, sizeof(mac));
  return rc;
}

void aq_conn_set_reset_key(aq_conn *conn, const uint8_t key[32]) {
  memcpy(conn->reset_key, key, 32);
  conn->has_reset_key = 1;
}

int aq_cid_reset_token(aq_conn *conn, const aq_cid *cid,
                       uint8_t token[AQ_STATELESS_RESET_TOKEN_LEN]) {
  if (conn->has_reset_key) {
    return aq_reset_token_for(conn->reset_key, cid, token) == 0 ? 0 : AQ_ERR_CRYPTO;
  }
  return conn->cb.rand(token, AQ_STATELESS_RESET_TOKEN_LEN, conn->user_data) == 0
             ? 0
             : AQ_ERR_CALLBACK_FAILURE;
}

/** See aq_conn.h. */
int aq_conn_owns_cid(const aq_conn *conn, const aq_cid *cid) {
  if (aq_cid_eq(&conn->scid, cid)) {
    return 1;
  }
  for (size_t i = 0; i < AQ_MAX_LOCAL_CIDS; i++) {
    if ((conn->local_cids[i].state == 1 || conn->local_cids[i].state == 2) &&
        aq_cid_eq(&conn->local_cids[i].cid, cid)) {
      return 1;
    }
  }
  return 0;
}

/**
 * Keep the peer supplied with spare connection IDs (RFC 9000 §5.1.1), up
 * to its active_connection_id_limit, for migration and new paths.
 */
int aq_cid_issue(aq_conn *conn) {
  uint64_t limit = conn->peer_tp.active_connection_id_limit;
  if (limit > AQ_MAX_LOCAL_CIDS) {
    limit = AQ_MAX_LOCAL_CIDS;
  }
  uint64_t active = 0;
  for (size_t i = 0; i < AQ_MAX_LOCAL_CIDS; i++) {
    active += conn->local_cids[i].state == 1 || conn->local_cids[i].state == 2;
  }
  for (size_t i = 0; i < AQ_MAX_LOCAL_CIDS && active < limit; i++) {
    if (conn->local_cids[i].state == 1 || conn->local_cids[i].state == 2) {
      continue;
    }
    conn->local_cids[i].seq = conn->next_local_seq++;
    conn->local_cids[i].cid.len = (uint8_t)conn->set.scid_len;
    if (conn->cb.rand(conn->local_cids[i].cid.data, conn->set.scid_len, conn->user_data) != 0 ||
        aq_cid_reset_token(conn, &conn->local_cids[i].cid, conn->local_cids[i].token) != 0) {
      aq_conn_set_fatal(conn, AQ_ERR_CALLBACK_FAILURE);
      return AQ_ERR_CALLBACK_FAILURE;
    }
    conn->local_cids[i].state = 1;
    active++;
  }
  return 0;
}

/**
 * RFC 9000 §10.3.1: a datagram that could not be processed and ends with a
 * stateless reset token the peer gave us means the peer lost our state:
 * enter draining and stay silent.
 */
int aq_cid_check_stateless_reset(aq_conn *conn, const uint8_t *data, size_t len, aq_tstamp ts) {
  if (len < 21 || (data[0] & AQ_PKT_HEADER_FORM_BIT) != 0 || conn->state >= AQ_CS_CLOSING) {
    return 0;
  }
  const uint8_t *tok = data + len - AQ_STATELESS_RESET_TOKEN_LEN;
  for (size_t i = 0; i < AQ_MAX_PEER_CIDS; i++) {
    const uint8_t *t = conn->peer_cids[i].token;
    if (!conn->peer_cids[i].in_use ||
        (i == 0 && conn->peer_cids[i].seq == 0 && !conn->peer_reset_token0)) {
      continue;
    }
    if (aq_ct_memeq(t, tok, AQ_STATELESS_RESET_TOKEN_LEN)) {
      conn->state = AQ_CS_DRAINING;
      conn->close_pending = 0;
      conn->close_deadline = ts + aq_conn_three_pto(conn);
      aq_conn_notify_closed(conn, 1, 0, 0, AQ_QERR_NO_ERROR, NULL, 0, AQ_ERR_CLOSED);
      return 1;
    }
  }
  return 0;
}

int aq_conn_stateless_reset(aq_conn *conn, const uint8_t *data, size_t len, aq_tstamp ts) {
  return aq_cid_check_stateless_reset(conn, data, len, ts);
}
