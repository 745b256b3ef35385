/*
 * aq_conn_0rtt.c - session resumption and 0-RTT on the QUIC connection
 * (RFC 9001 §4.6, RFC 9000 §7.4.1), the session blob codec, and the
 * client's handling of NEW_TOKEN tokens (RFC 9000 §8.1.3).
 *
 * Client: aq_conn_set_session() loads a blob (TLS session, token,
 * remembered transport parameters).  The remembered limits apply at once,
 * so the application may open and write streams before the handshake; when
 * TLS installs the 0-RTT write key, that data leaves in 0-RTT packets of
 * the application packet number space (aq_conn_tx.c).  When the
 * EncryptedExtensions arrive, the server's answer is handled: accepted ->
 * its new limits must not be lower than the remembered ones (§7.4.1; we
 * close with PROTOCOL_VIOLATION like ngtcp2); rejected -> every 0-RTT
 * packet leaves bytes_in_flight and its stream data is queued again, to go
 * out in 1-RTT (RFC 9001 §4.6.2).  The 0-RTT key is dropped when the
 * handshake completes (§4.9.3).
 *
 * Server: TLS decides on early data (settings.accept_early_data, a valid
 * ticket, same ALPN, fresh age).  0-RTT packets that arrive before the
 * key exists are kept (AQ_ZRTT_PEND_MAX per connection; datagrams for a
 * connection whose Initial has not come yet wait in the endpoint's stash)
 * and processed as soon as the key is installed.
 *
 * Timers: none.
 */
#include <string.h>

#include "aq_conn_0rtt.h"
#include "aq_conn_int.h"
#include "aq_ct.h"
#include "aq_mem.h"
#include "aq_qerr.h"

/* ================================================================ codec */

void aq_zrtt_session_encode(aq_wbuf *w, const uint8_t *tls, size_t tls_len, const uint8_t *token,
                            size_t token_len, const aq_tp *tp) {
  aq_wbuf_u32(w, AQ_ZRTT_MAGIC);
  aq_wbuf_varint(w, tls_len);
  aq_wbuf_bytes(w, tls, tls_len);
  aq_wbuf_varint(w, token_len);
  aq_wbuf_bytes(w, token, token_len);
  if (tp == NULL) {
    aq_wbuf_varint(w, 0);
    return;
  }
  aq_wbuf_mark m;
  aq_wbuf_len_begin(w, AQ_LEN_VARINT, &m);
  aq_wbuf_varint(w, tp->max_idle_timeout_ms);
  aq_wbuf_varint(w, tp->max_udp_payload_size);
  aq_wbuf_varint(w, tp->initial_max_data);
  aq_wbuf_varint(w, tp->initial_max_stream_data_bidi_local);
  aq_wbuf_varint(w, tp->initial_max_stream_data_bidi_remote);
  aq_wbuf_varint(w, tp->initial_max_stream_data_uni);
  aq_wbuf_varint(w, tp->initial_max_streams_bidi);
  aq_wbuf_varint(w, tp->initial_max_streams_uni);
  aq_wbuf_varint(w, tp->active_connection_id_limit);
  aq_wbuf_varint(w, tp->max_datagram_frame_size);
  aq_wbuf_u8(w, tp->disable_active_migration ? 1u : 0u);
  aq_wbuf_len_end(w, &m);
}

/** The remembered parameters block (RFC 9000 §18.2 ranges). */
static int decode_tp_block(aq_tp *tp, aq_rbuf *r) {
  uint64_t v[10];
  for (size_t i = 0; i < 10; i++) {
    int rc = aq_rbuf_varint(r, &v[i]);
    if (rc != 0) {
      return rc;
    }
  }
  uint8_t dam;
  int rc = aq_rbuf_u8(r, &dam);
  if (rc != 0) {
    return rc;
  }
  rc = aq_rbuf_done(r);
  if (rc != 0) {
    return rc;
  }
  /* §18.2: max_udp_payload_size >= 1200 and < 2^16 - 8; stream counts <= 2^60;
   * active_connection_id_limit >= 2. */
  if (v[1] < AQ_TP_MIN_UDP_PAYLOAD_SIZE || v[1] > AQ_TP_DEFAULT_MAX_UDP_PAYLOAD_SIZE ||
      v[6] > (1ULL << 60) || v[7] > (1ULL << 60) || v[8] < 2 || dam > 1) {
    return AQ_ERR_MALFORMED;
  }
  aq_tp_default(tp);
  tp->max_idle_timeout_ms = v[0];
  tp->max_udp_payload_size = v[1];
  tp->initial_max_data = v[2];
  tp->initial_max_stream_data_bidi_local = v[3];
  tp->initial_max_stream_data_bidi_remote = v[4];
  tp->initial_max_stream_data_uni = v[5];
  tp->initial_max_streams_bidi = v[6];
  tp->initial_max_streams_uni = v[7];
  tp->active_connection_id_limit = v[8];
  tp->max_datagram_frame_size = v[9];
  tp->disable_active_migration = dam;
  return 0;
}

int aq_zrtt_session_decode(aq_zrtt_session *out, const uint8_t *data, size_t len) {
  aq_zrtt_session s;
  memset(&s, 0, sizeof(s));
  aq_rbuf r, sub;
  aq_rbuf_init(&r, data, len);
  uint32_t magic;
  int rc = aq_rbuf_u32(&r, &magic);
  if (rc != 0) {
    return rc;
  }
  if (magic != AQ_ZRTT_MAGIC) {
    return AQ_ERR_MALFORMED;
  }
  rc = aq_rbuf_sub(&r, AQ_LEN_VARINT, &sub);
  if (rc != 0) {
    return rc;
  }
  s.tls_len = aq_rbuf_left(&sub);
  if (s.tls_len > AQ_ZRTT_TLS_MAX) {
    return AQ_ERR_VALUE_RANGE;
  }
  s.tls = s.tls_len > 0 ? sub.p : NULL;
  rc = aq_rbuf_sub(&r, AQ_LEN_VARINT, &sub);
  if (rc != 0) {
    return rc;
  }
  s.token_len = aq_rbuf_left(&sub);
  if (s.token_len > AQ_ZRTT_TOKEN_MAX) {
    return AQ_ERR_VALUE_RANGE;
  }
  s.token = s.token_len > 0 ? sub.p : NULL;
  rc = aq_rbuf_sub(&r, AQ_LEN_VARINT, &sub);
  if (rc != 0) {
    return rc;
  }
  aq_tp_default(&s.tp);
  if (aq_rbuf_left(&sub) > 0) {
    rc = decode_tp_block(&s.tp, &sub);
    if (rc != 0) {
      return rc;
    }
    s.has_tp = 1;
  }
  rc = aq_rbuf_done(&r);
  if (rc != 0) {
    return rc;
  }
  if (s.tls_len == 0 && s.token_len == 0) {
    return AQ_ERR_MALFORMED; /* nothing to resume with */
  }
  *out = s;
  return 0;
}

/* ======================================================== client: blob */

/** Hand the application the current resumption state (ticket and/or token). */
static void emit_session(aq_conn *conn) {
  aq_conn_zrtt *z = &conn->zrtt;
  if (conn->cb.new_session == NULL || (z->last_tls_len == 0 && z->token_len == 0)) {
    return;
  }
  size_t cap = 64 + z->last_tls_len + z->token_len;
  uint8_t *buf = aq_mem_malloc(conn->mem, cap);
  if (buf == NULL) {
    return; /* no session this time; the connection itself is unaffected */
  }
  aq_wbuf w;
  aq_wbuf_init(&w, buf, cap);
  aq_zrtt_session_encode(&w, z->last_tls, z->last_tls_len, z->token, z->token_len,
                         conn->peer_tp_done && z->last_tls_len > 0 ? &conn->peer_tp : NULL);
  if (aq_wbuf_error(&w) == 0) {
    conn->cb.new_session(conn, buf, aq_wbuf_len(&w), conn->user_data);
  }
  aq_memzero(buf, cap);
  aq_mem_free(conn->mem, buf);
}

int aq_zrtt_on_ticket(void *user_data, const uint8_t *session, size_t len) {
  aq_conn *conn = user_data;
  aq_conn_zrtt *z = &conn->zrtt;
  if (conn->is_server || len == 0 || len > AQ_ZRTT_TLS_MAX) {
    return 0;
  }
  uint8_t *copy = aq_mem_malloc(conn->mem, len);
  if (copy == NULL) {
    return 0; /* a lost ticket is not an error of the connection */
  }
  memcpy(copy, session, len);
  if (z->last_tls != NULL) {
    aq_memzero(z->last_tls, z->last_tls_len);
    aq_mem_free(conn->mem, z->last_tls);
  }
  z->last_tls = copy;
  z->last_tls_len = len;
  emit_session(conn);
  return 0;
}

void aq_zrtt_on_new_token(aq_conn *conn, const uint8_t *token, size_t len) {
  aq_conn_zrtt *z = &conn->zrtt;
  /* §19.7: an empty token is a FRAME_ENCODING_ERROR (the decoder rejects it). */
  if (conn->is_server || len == 0 || len > AQ_ZRTT_TOKEN_MAX) {
    return;
  }
  memcpy(z->token, token, len);
  z->token_len = len;
  emit_session(conn);
}

int aq_conn_set_session(aq_conn *conn, const uint8_t *blob, size_t len) {
  if (conn->err != 0) {
    return conn->err;
  }
  if (conn->is_server || conn->tls != NULL || conn->state != AQ_CS_HANDSHAKE) {
    return AQ_ERR_STATE;
  }
  if (blob == NULL || len == 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  aq_zrtt_session s;
  int rc = aq_zrtt_session_decode(&s, blob, len);
  if (rc != 0) {
    return rc;
  }
  uint8_t *copy = aq_mem_malloc(conn->mem, len);
  if (copy == NULL) {
    return AQ_ERR_NOMEM;
  }
  memcpy(copy, blob, len);
  rc = aq_zrtt_session_decode(&s, copy, len); /* pointers into our copy */
  if (rc != 0) {
    aq_mem_free(conn->mem, copy);
    return AQ_ERR_INTERNAL;
  }
  aq_conn_zrtt *z = &conn->zrtt;
  if (z->blob != NULL) {
    aq_memzero(z->blob, z->bloblen);
    aq_mem_free(conn->mem, z->blob);
  }
  z->blob = copy;
  z->bloblen = len;
  z->tls_sess = s.tls;
  z->tls_sess_len = s.tls_len;
  /* RFC 9000 §8.1.3: the token goes in the Initial's Token field. */
  if (!conn->got_retry) {
    conn->retry_token_len = 0; /* a blob given earlier is replaced as a whole */
  }
  if (s.token_len > 0 && s.token_len <= sizeof(conn->retry_token) && !conn->got_retry) {
    memcpy(conn->retry_token, s.token, s.token_len);
    conn->retry_token_len = s.token_len;
  }
  if (z->have_tp) {
    /* Limits of a blob given earlier no longer apply. */
    aq_tp_default(&conn->peer_tp);
    aq_strm_apply_peer_tp(conn);
  }
  z->have_tp = 0;
  if (s.has_tp && s.tls_len > 0) {
    /* §7.4.1: the remembered limits govern streams until the handshake completes. */
    z->tp = s.tp;
    z->have_tp = 1;
    aq_tp *pt = &conn->peer_tp;
    pt->initial_max_data = s.tp.initial_max_data;
    pt->initial_max_stream_data_bidi_local = s.tp.initial_max_stream_data_bidi_local;
    pt->initial_max_stream_data_bidi_remote = s.tp.initial_max_stream_data_bidi_remote;
    pt->initial_max_stream_data_uni = s.tp.initial_max_stream_data_uni;
    pt->initial_max_streams_bidi = s.tp.initial_max_streams_bidi;
    pt->initial_max_streams_uni = s.tp.initial_max_streams_uni;
    pt->active_connection_id_limit = s.tp.active_connection_id_limit;
    pt->max_datagram_frame_size = s.tp.max_datagram_frame_size;
    pt->disable_active_migration = s.tp.disable_active_migration;
    aq_strm_apply_peer_tp(conn);
  }
  return 0;
}

/* ======================================================= TLS and keys */

void aq_zrtt_tls_config(aq_conn *conn, aq_tls_config *tc) {
  if (conn->is_server) {
    tc->ticket_key = conn->set.ticket_key;
    tc->accept_early_data = conn->set.accept_early_data && conn->set.ticket_key != NULL;
    return;
  }
  if (conn->zrtt.tls_sess_len > 0) {
    tc->session = conn->zrtt.tls_sess;
    tc->session_len = conn->zrtt.tls_sess_len;
    /* 0-RTT needs the limits it must respect (§7.4.1). */
    tc->enable_early_data = conn->zrtt.have_tp;
  }
}

int aq_zrtt_set_secret(aq_conn *conn, int is_write, const aq_tls_suite *suite,
                       const uint8_t *secret, size_t secretlen) {
  aq_conn_zrtt *z = &conn->zrtt;
  /* Client: write key; server: read key.  Never reinstalled once dropped. */
  if (is_write == conn->is_server || z->key_done || z->has_key) {
    return 0;
  }
  if (aq_pprot_init_a(&z->key, conn->set.crypto_algs, suite->aead, suite->hash, secret, secretlen,
                      conn->version) != 0) {
    return -1;
  }
  z->has_key = 1;
  z->state = conn->is_server ? AQ_EARLY_DATA_ACCEPTED : AQ_EARLY_DATA_OFFERED;
  return 0;
}

static void drop_key(aq_conn_zrtt *z) {
  if (z->has_key) {
    aq_pprot_free(&z->key);
    z->has_key = 0;
    z->key_done = 1;
  }
}

static void drop_pending(aq_conn *conn) {
  aq_conn_zrtt *z = &conn->zrtt;
  if (z->pend != NULL) {
    aq_mem_free(conn->mem, z->pend);
    z->pend = NULL;
  }
  z->pend_dropped += z->npend;
  z->npend = 0;
}

void aq_zrtt_free(aq_conn *conn) {
  aq_conn_zrtt *z = &conn->zrtt;
  drop_key(z);
  drop_pending(conn);
  if (z->blob != NULL) {
    aq_memzero(z->blob, z->bloblen);
    aq_mem_free(conn->mem, z->blob);
    z->blob = NULL;
  }
  if (z->last_tls != NULL) {
    aq_memzero(z->last_tls, z->last_tls_len);
    aq_mem_free(conn->mem, z->last_tls);
    z->last_tls = NULL;
  }
}

int aq_zrtt_can_send(const aq_conn *conn) {
  return !conn->is_server && conn->zrtt.has_key && !conn->handshake_complete &&
         conn->state == AQ_CS_HANDSHAKE;
}

aq_pprot *aq_zrtt_tx_key(aq_conn *conn) {
  return conn->zrtt.has_key ? &conn->zrtt.key : NULL;
}

int aq_zrtt_streams_ok(const aq_conn *conn) {
  return !conn->is_server && conn->zrtt.have_tp && conn->state == AQ_CS_HANDSHAKE;
}

static int issue_token(aq_conn *conn, aq_tstamp ts);

/* ====================================================== accept / reject */

/** Client, 0-RTT rejected (RFC 9001 §4.6.2): the 0-RTT packets are gone; resend their data. */
static int on_rejected(aq_conn *conn, aq_tstamp ts) {
  /* Only 0-RTT packets carry stream-related records before the handshake
   * completes: queue those again and strip them from the records. */
  for (uint32_t i = 0; i < conn->nmeta; i++) {
    aq_sent_meta *m = &conn->meta[i];
    if (!m->in_use) {
      continue;
    }
    uint8_t keep = 0;
    for (uint8_t k = 0; k < m->nframes; k++) {
      const aq_sent_frame *sf = &m->f[k];
      if (sf->kind == AQ_SF_CRYPTO || sf->kind == AQ_SF_NEW_CID) {
        m->f[keep++] = *sf;
      } else {
        aq_strm_on_record(conn, sf, 0);
      }
    }
    m->nframes = keep;
    aq_conn_requeue_limits(conn, m->flags);
  }
  /* RFC 9002 §A.? / ngtcp2: rejected 0-RTT packets leave bytes_in_flight at
   * once.  Discarding the application space's records does exactly that;
   * the space itself stays in use (packet numbers continue). */
  int rc = aq_recov_discard_space(&conn->recov, AQ_PN_SPACE_APP, ts);
  conn->recov.sp[AQ_PN_SPACE_APP].discarded = 0;
  if (rc != 0) {
    aq_conn_set_fatal(conn, rc);
    return rc;
  }
  /* The server's new limits replace the remembered ones for the resent data. */
  for (size_t b = 0; b < AQ_STRM_BUCKETS; b++) {
    for (aq_strm *s = conn->strm_tab[b]; s != NULL; s = s->hnext) {
      if (s->has_send) {
        s->tx_max = AQ_STREAM_IS_UNI(s->id) ? conn->peer_tp.initial_max_stream_data_uni
                                            : conn->peer_tp.initial_max_stream_data_bidi_remote;
      }
    }
  }
  return 0;
}

/** Client, 0-RTT accepted: §7.4.1 forbids lowering the remembered limits. */
static int check_accepted(aq_conn *conn, aq_tstamp ts) {
  const aq_tp *o = &conn->zrtt.tp, *n = &conn->peer_tp;
  if (n->active_connection_id_limit < o->active_connection_id_limit ||
      n->initial_max_data < o->initial_max_data ||
      n->initial_max_stream_data_bidi_local < o->initial_max_stream_data_bidi_local ||
      n->initial_max_stream_data_bidi_remote < o->initial_max_stream_data_bidi_remote ||
      n->initial_max_stream_data_uni < o->initial_max_stream_data_uni ||
      n->initial_max_streams_bidi < o->initial_max_streams_bidi ||
      n->initial_max_streams_uni < o->initial_max_streams_uni) {
    aq_conn_fail(conn, AQ_QERR_PROTOCOL_VIOLATION, AQ_FT_CRYPTO,
                 "0-RTT accepted with lower limits than remembered", ts);
    return AQ_ERR_PROTO;
  }
  return 0;
}

int aq_zrtt_after_tls(aq_conn *conn, aq_tstamp ts) {
  aq_conn_zrtt *z = &conn->zrtt;
  if (conn->tls == NULL || conn->state >= AQ_CS_CLOSING) {
    return 0;
  }
  if (conn->is_server) {
    /* ClientHello processed without a 0-RTT key, or handshake over: nothing to wait for. */
    if (z->npend > 0 && ((!z->has_key && conn->peer_tp_done) || conn->handshake_complete)) {
      drop_pending(conn);
    }
    if (conn->handshake_complete && !z->token_issued) {
      z->token_issued = 1;
      return issue_token(conn, ts);
    }
    return 0;
  }
  /* Client: EncryptedExtensions (peer transport parameters) carry the answer. */
  if (!z->decided && conn->peer_tp_done && (z->has_key || z->key_done)) {
    z->decided = 1;
    if (aq_tls_early_data_accepted(conn->tls)) {
      z->state = AQ_EARLY_DATA_ACCEPTED;
      int rc = check_accepted(conn, ts);
      if (rc != 0) {
        return rc;
      }
    } else {
      z->state = AQ_EARLY_DATA_REJECTED;
      drop_key(z);
      int rc = on_rejected(conn, ts);
      if (rc != 0) {
        return rc;
      }
    }
  }
  if (conn->handshake_complete) {
    drop_key(z); /* RFC 9001 §4.9.3: once 1-RTT keys are installed */
    if (z->have_tp) {
      z->have_tp = 0;
      /* §7.4.1: once the handshake completes, raise the sending streams' limits. */
      for (size_t b = 0; b < AQ_STRM_BUCKETS; b++) {
        for (aq_strm *s = conn->strm_tab[b]; s != NULL; s = s->hnext) {
          uint64_t nv = AQ_STREAM_IS_UNI(s->id) ? conn->peer_tp.initial_max_stream_data_uni
                                                : conn->peer_tp.initial_max_stream_data_bidi_remote;
          if (s->has_send && (s->id & 1u) == 0 && nv > s->tx_max) {
            s->tx_max = nv;
          }
        }
      }
    }
  }
  return 0;
}

/* ================================================ server: NEW_TOKEN */

/**
 * RFC 9000 §8.1.3: after the handshake, give the client a token for its
 * next connection, bound to its address and expiring after token_lifetime.
 */
static int issue_token(aq_conn *conn, aq_tstamp ts) {
  aq_conn_zrtt *z = &conn->zrtt;
  if (conn->set.token_lifetime == 0 || conn->set.ticket_key == NULL) {
    return 0;
  }
  uint8_t key[AQ_TOKEN_KEY_LEN], nonce[12];
  int rc = 0;
  if (conn->cb.rand(nonce, sizeof(nonce), conn->user_data) != 0) {
    rc = AQ_ERR_CALLBACK_FAILURE;
  } else if (aq_token_derive_key(key, conn->set.ticket_key) != 0 ||
             aq_token_seal_new(z->new_token, sizeof(z->new_token), key, nonce,
                               &conn->paths[conn->active_path].addr.remote,
                               ts + conn->set.token_lifetime) != (aq_ssize)AQ_TOKEN_NEW_LEN) {
    rc = 0; /* no token this time; the connection is unaffected */
  } else {
    z->token_pending = 1;
  }
  aq_memzero(key, sizeof(key));
  if (rc != 0) {
    aq_conn_set_fatal(conn, rc);
  }
  return rc;
}

void aq_zrtt_write_frames(aq_conn *conn, aq_wbuf *w, aq_sent_meta *m) {
  aq_conn_zrtt *z = &conn->zrtt;
  if (!z->token_pending || !conn->is_server || !conn->handshake_complete) {
    return;
  }
  aq_frame f;
  memset(&f, 0, sizeof(f));
  f.type = AQ_FT_NEW_TOKEN;
  f.u.new_token.token = z->new_token;
  f.u.new_token.tokenlen = sizeof(z->new_token);
  if (!aq_frame_put(w, &f)) {
    return;
  }
  z->token_pending = 0;
  m->flags |= AQ_SM_NEW_TOKEN;
}

int aq_zrtt_token_valid(const uint8_t secret[32], const aq_path *path, const aq_pkt_hd *hd,
                        aq_tstamp ts) {
  if (secret == NULL || !aq_token_is_new(hd->token, hd->tokenlen)) {
    return 0;
  }
  uint8_t key[AQ_TOKEN_KEY_LEN];
  int ok = aq_token_derive_key(key, secret) == 0 &&
           aq_token_open_new(key, hd->token, hd->tokenlen, &path->remote, ts) == 0;
  aq_memzero(key, sizeof(key));
  return ok;
}

/* ================================================== server: reception */

aq_pprot *aq_zrtt_rx_key(aq_conn *conn, const aq_path *path, const uint8_t *pkt, size_t len) {
  aq_conn_zrtt *z = &conn->zrtt;
  if (!conn->is_server) {
    return NULL; /* 0-RTT is client to server only */
  }
  if (z->has_key) {
    return &z->key;
  }
  /* No key yet: keep a few while the ClientHello may still be on its way. */
  if (z->key_done || conn->peer_tp_done || conn->handshake_complete || len > AQ_ZRTT_DGRAM_MAX ||
      z->npend >= AQ_ZRTT_PEND_MAX) {
    z->pend_dropped++;
    return NULL;
  }
  if (z->pend == NULL) {
    z->pend = aq_mem_malloc(conn->mem, (size_t)AQ_ZRTT_PEND_MAX * AQ_ZRTT_DGRAM_MAX);
    if (z->pend == NULL) {
      z->pend_dropped++;
      return NULL;
    }
  }
  memcpy(z->pend + z->npend * AQ_ZRTT_DGRAM_MAX, pkt, len);
  z->pend_len[z->npend] = len;
  z->pend_path[z->npend] = *path;
  z->npend++;
  return NULL;
}

int aq_zrtt_replay(aq_conn *conn, aq_tstamp ts) {
  aq_conn_zrtt *z = &conn->zrtt;
  if (!conn->is_server || z->npend == 0 || !z->has_key) {
    return 0;
  }
  size_t n = z->npend;
  z->npend = 0;
  for (size_t i = 0; i < n && conn->err == 0 && conn->state < AQ_CS_CLOSING; i++) {
    int rc = aq_conn_read_single(conn, &z->pend_path[i], z->pend + i * AQ_ZRTT_DGRAM_MAX,
                                 z->pend_len[i], ts);
    if (rc != 0) {
      return rc;
    }
  }
  drop_pending(conn);
  return 0;
}

/* ================================================== endpoint stash */

void aq_zrtt_stash_put(aq_ep_zstash *st, const aq_path *path, const uint8_t *data, size_t len) {
  if (len == 0 || len > AQ_ZRTT_DGRAM_MAX) {
    return;
  }
  size_t slot = AQ_ZRTT_STASH_MAX;
  for (size_t i = 0; i < AQ_ZRTT_STASH_MAX; i++) {
    if (st->len[i] == 0) {
      slot = i;
      break;
    }
  }
  if (slot == AQ_ZRTT_STASH_MAX) {
    slot = st->next; /* full: the oldest entry makes room */
    st->next = (st->next + 1) % AQ_ZRTT_STASH_MAX;
  }
  memcpy(st->buf[slot], data, len);
  st->len[slot] = len;
  st->path[slot] = *path;
}

void aq_zrtt_stash_flush(aq_ep_zstash *st, aq_conn *conn, aq_tstamp ts) {
  for (size_t i = 0; i < AQ_ZRTT_STASH_MAX; i++) {
    size_t len = st->len[i];
    if (len == 0) {
      continue;
    }
    aq_pkt_hd hd;
    aq_cid d;
    if (aq_pkt_decode_hd(&hd, st->buf[i], len, 0) != 0 ||
        aq_cid_init(&d, hd.dcid, hd.dcidlen) != 0) {
      st->len[i] = 0;
      continue;
    }
    if (!aq_conn_is_initial_dcid(conn, &d) ||
        !aq_addr_eq(&st->path[i].remote, &aq_conn_get_path(conn)->remote)) {
      continue;
    }
    st->len[i] = 0;
    if (aq_conn_read_pkt(conn, &st->path[i], st->buf[i], len, ts) != 0) {
      return; /* the error is sticky: the endpoint reaps the connection */
    }
  }
}

void aq_conn_set_addr_validated(aq_conn *conn) {
  conn->addr_validated = 1;
}

/* ================================================================ API */

int aq_conn_early_data_state(const aq_conn *conn) {
  return conn->zrtt.state;
}

int aq_conn_is_resumed(const aq_conn *conn) {
  return conn->tls != NULL && aq_tls_resumed(conn->tls);
}
