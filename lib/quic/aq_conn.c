/*
 * aq_conn.c - the QUIC v1 connection driver: creation, TLS glue and key
 * installation/discard per packet number space (RFC 9001 §4), datagram
 * processing (header protection, decryption, duplicate detection, frame
 * dispatch with the §12.4/12.5 permission checks), loss recovery hookup,
 * timers, and the closing/draining states (§10.2).  Packet building is in
 * aq_conn_tx.c, transport parameters in aq_conn_tp.c, streams in aq_strm.c.
 *
 * Timers: see aq_conn.h.
 */
#include <string.h>

#include "aq_conn_int.h"
#include "aq_ct.h"
#include "aq_mem.h"
#include "aq_qerr.h"
#include "aq_qlog.h"

/** Non-zero if cid holds exactly the len bytes at p. */
static int aq_cid_eq_bytes(const aq_cid *cid, const uint8_t *p, size_t len) {
  return cid->len == len && memcmp(cid->data, p, len) == 0;
}

static int space_of_epoch(aq_epoch e) {
  switch (e) {
  case AQ_EPOCH_INITIAL: return AQ_PN_SPACE_INITIAL;
  case AQ_EPOCH_HANDSHAKE: return AQ_PN_SPACE_HANDSHAKE;
  case AQ_EPOCH_1RTT: return AQ_PN_SPACE_APP;
  case AQ_EPOCH_0RTT:
  default: return -1;
  }
}

static const aq_epoch epoch_of_space[AQ_PN_SPACE_COUNT] = {AQ_EPOCH_INITIAL, AQ_EPOCH_HANDSHAKE,
                                                           AQ_EPOCH_1RTT};

void aq_settings_default(aq_settings *s) {
  memset(s, 0, sizeof(*s));
  s->idle_timeout = 30 * AQ_SECONDS;
  s->handshake_timeout = 10 * AQ_SECONDS;
  s->initial_max_data = 4u << 20;
  s->initial_max_stream_data = 512u << 10;
  s->initial_max_streams_bidi = 100;
  s->initial_max_streams_uni = 100;
  s->stream_send_buffer = 512u << 10;
  s->max_udp_payload = 1200;
  s->max_ack_delay = 25 * AQ_MILLISECONDS;
  s->cc_algo = AQ_CC_ALGO_CUBIC;
  s->scid_len = 8;
  s->max_conns = 1024;
  s->offer_rpk = 1;
  s->allow_x509 = 1;
  s->max_stream_window = 16u << 20; /* receive-window auto-tuning caps */
  s->max_conn_window = 24u << 20;
  s->enable_ecn = 1; /* RFC 9000 §13.4: only through the *_ecn write calls */
  s->token_lifetime = 24 * 3600 * AQ_SECONDS;
}

/* ================================================================ errors */

void aq_conn_set_fatal(aq_conn *conn, int err) {
  if (conn->err == 0) {
    conn->err = err;
  }
  conn->state = AQ_CS_CLOSED;
}

void aq_conn_notify_closed(aq_conn *conn, int by_peer, int idle, int is_app, uint64_t code,
                           const uint8_t *reason, size_t reasonlen, int err) {
  if (conn->closed_notified) {
    return;
  }
  conn->closed_notified = 1;
  aq_qlog_closed(conn, by_peer, idle, is_app, code, reason, reasonlen);
  if (conn->cb.conn_closed != NULL) {
    aq_close_info ci;
    memset(&ci, 0, sizeof(ci));
    ci.is_app = is_app;
    ci.by_peer = by_peer;
    ci.idle_timeout = idle;
    ci.code = code;
    ci.reason = reason;
    ci.reasonlen = reasonlen;
    ci.err = err;
    conn->cb.conn_closed(conn, &ci, conn->user_data);
  }
}

aq_duration aq_conn_three_pto(const aq_conn *conn) {
  return 3 * aq_recov_pto_duration(&conn->recov, AQ_PN_SPACE_INITIAL);
}

/** Enter the closing state with a CONNECTION_CLOSE to send (RFC 9000 §10.2.1). */
static void start_closing(aq_conn *conn, int is_app, uint64_t code, uint64_t ftype,
                          const uint8_t *reason, size_t reasonlen, aq_tstamp ts, int err) {
  if (conn->state >= AQ_CS_CLOSING) {
    return;
  }
  conn->state = AQ_CS_CLOSING;
  conn->close_pending = 1;
  conn->close_is_app = is_app;
  conn->close_code = code;
  conn->close_frame_type = ftype;
  if (reasonlen > AQ_CLOSE_REASON_MAX) {
    reasonlen = AQ_CLOSE_REASON_MAX;
  }
  if (reasonlen > 0) {
    memcpy(conn->close_reason, reason, reasonlen);
  }
  conn->close_reasonlen = reasonlen;
  conn->close_deadline = ts + aq_conn_three_pto(conn);
  conn->close_next_resend = 1;
  aq_conn_notify_closed(conn, 0, 0, is_app, code, conn->close_reason, reasonlen, err);
}

void aq_conn_fail(aq_conn *conn, uint64_t qerr, uint64_t frame_type, const char *reason,
                  aq_tstamp ts) {
  start_closing(conn, 0, qerr, frame_type, (const uint8_t *)reason,
                reason != NULL ? strlen(reason) : 0, ts, AQ_ERR_PROTO);
}

void aq_conn_close(aq_conn *conn, uint64_t app_error, const uint8_t *reason, size_t reasonlen,
                   aq_tstamp ts) {
  if (conn->err != 0) {
    return;
  }
  start_closing(conn, 1, app_error, 0, reason, reasonlen, ts, 0);
}

/* ============================================================ TLS glue */

static int tls_send(void *ud, aq_epoch epoch, const uint8_t *data, size_t len) {
  aq_conn *conn = ud;
  int sp = space_of_epoch(epoch);
  if (sp < 0) {
    return -1;
  }
  aq_ssize n = aq_txbuf_append(&conn->sp[sp].ctx, conn->mem, data, len, SIZE_MAX / 2);
  return (n == (aq_ssize)len) ? 0 : -1;
}

static int tls_set_secret(void *ud, aq_epoch epoch, int is_write, const aq_tls_suite *suite,
                          const uint8_t *secret, size_t secretlen) {
  aq_conn *conn = ud;
  aq_keylog_on_secret(conn, (int)epoch, is_write, secret, secretlen); /* SSLKEYLOGFILE, qlog */
  int sp = space_of_epoch(epoch);
  if (sp < 0) {
    return epoch == AQ_EPOCH_0RTT ? aq_zrtt_set_secret(conn, is_write, suite, secret, secretlen)
                                  : 0;
  }
  aq_pnspace *s = &conn->sp[sp];
  /* RFC 9368 §2.3: a server picks the negotiated version before its first CRYPTO data. */
  if (sp == AQ_PN_SPACE_HANDSHAKE && is_write && aq_ver_server_select(conn) != 0) {
    return -1;
  }
  aq_pprot *pp = is_write ? &s->tx : &s->rx;
  int *has = is_write ? &s->has_tx : &s->has_rx;
  if (*has) {
    aq_pprot_free(pp);
    *has = 0;
  }
  if (aq_pprot_init_a(pp, conn->set.crypto_algs, suite->aead, suite->hash, secret, secretlen,
                      conn->version) != 0) {
    return -1;
  }
  *has = 1;
  if (sp == AQ_PN_SPACE_APP && secretlen <= AQ_HASH_MAX_LEN) {
    memcpy(conn->app_secret[is_write ? 1 : 0], secret, secretlen);
    conn->app_secret_len = secretlen;
    conn->app_hash = suite->hash;
    conn->app_aead = suite->aead;
  }
  if (sp == AQ_PN_SPACE_HANDSHAKE && is_write) {
    aq_recov_set_has_handshake_keys(&conn->recov, conn->last_recv_ts);
  }
  return 0;
}

static int tls_rand(uint8_t *buf, size_t len, void *ud) {
  aq_conn *conn = ud;
  return conn->cb.rand(buf, len, conn->user_data);
}

static int tls_verify(void *ud, const uint8_t *spki, size_t spkilen, const uint8_t *cert,
                      size_t certlen) {
  aq_conn *conn = ud;
  return conn->cb.verify_peer(conn, spki, spkilen, cert, certlen, conn->user_data) == 0 ? 0 : -1;
}

static const aq_tls_callbacks tls_cbs_verify = {.send = tls_send,
                                                .set_secret = tls_set_secret,
                                                .rand = tls_rand,
                                                .verify_peer = tls_verify,
                                                .on_ticket = aq_zrtt_on_ticket};

static const aq_tls_callbacks tls_cbs = {
    .send = tls_send, .set_secret = tls_set_secret, .rand = tls_rand, .on_ticket = aq_zrtt_on_ticket};

void aq_conn_set_key_cache(aq_conn *conn, struct aq_key_cache *kc) {
  conn->key_cache = kc;
}

void aq_conn_set_x25519_pre(aq_conn *conn, const uint8_t pre[64], void *key) {
  if (conn->tls != NULL || conn->has_x25519_pre) {
    aq_x25519_key_free(key);
    return;
  }
  memcpy(conn->x25519_pre, pre, sizeof(conn->x25519_pre));
  conn->x25519_pre_key = key;
  conn->has_x25519_pre = 1;
}

static int start_tls(aq_conn *conn, aq_tstamp ts) {
  if (conn->tls != NULL) {
    return 0;
  }
  int rc = aq_conn_encode_tp(conn);
  if (rc != 0) {
    return rc;
  }
  if (aq_qlog_on(conn)) {
    aq_tp ltp;
    aq_tp_default(&ltp);
    if (aq_tp_decode(&ltp, conn->tp_buf, conn->tp_len,
                     conn->is_server ? AQ_TP_FROM_SERVER : AQ_TP_FROM_CLIENT) == 0) {
      aq_qlog_params(conn, 1, &ltp, ts);
    }
  }
  const aq_settings *s = &conn->set;
  aq_tls_config tc;
  memset(&tc, 0, sizeof(tc));
  tc.is_server = conn->is_server;
  tc.suites = s->tls_suites;
  tc.nsuites = s->ntls_suites;
  tc.groups = s->tls_groups;
  tc.ngroups = s->ntls_groups;
  tc.require_pq = s->require_pq;
  tc.cred = s->cred;
  tc.request_client_auth = conn->is_server && s->require_client_auth;
  tc.require_client_auth = conn->is_server && s->require_client_auth;
  tc.offer_rpk = s->offer_rpk;
  tc.allow_x509 = s->allow_x509;
  tc.server_name = conn->is_server ? NULL : s->server_name;
  tc.alpn = s->alpn;
  tc.nalpn = s->nalpn;
  tc.alpn_required = conn->is_server && s->nalpn > 0;
  tc.transport_params = conn->tp_buf;
  tc.transport_params_len = conn->tp_len;
  tc.quic = 1;
  tc.x25519_pre = conn->has_x25519_pre ? conn->x25519_pre : NULL;
  tc.x25519_pre_key = conn->has_x25519_pre ? conn->x25519_pre_key : NULL;
  tc.key_cache = conn->key_cache;
  tc.algs = conn->set.crypto_algs;
  aq_zrtt_tls_config(conn, &tc);
  conn->tls =
      aq_tls_new(&tc, conn->cb.verify_peer != NULL ? &tls_cbs_verify : &tls_cbs, conn, conn->mem);
  if (conn->tls == NULL) {
    return AQ_ERR_NOMEM;
  }
  if (!conn->is_server) {
    rc = aq_tls_start(conn->tls, ts);
    if (rc != 0) {
      return rc;
    }
  }
  return 0;
}

void aq_pnspace_drop_keys(aq_pnspace *s) {
  if (s->has_rx) {
    aq_pprot_free(&s->rx);
    s->has_rx = 0;
  }
  if (s->has_tx) {
    aq_pprot_free(&s->tx);
    s->has_tx = 0;
  }
}

/** Install Initial keys derived from the client's first DCID (RFC 9001 §5.2). */
static int install_initial_keys(aq_conn *conn) {
  uint8_t cs[32], ss[32];
  aq_pnspace *s = &conn->sp[AQ_PN_SPACE_INITIAL];
  int rc = aq_quic_initial_secrets_a(conn->set.crypto_algs, cs, ss, conn->initial_key_cid.data,
                                     conn->initial_key_cid.len,
                                   conn->version);
  if (rc == 0) {
    const uint8_t *rx = conn->is_server ? cs : ss;
    const uint8_t *tx = conn->is_server ? ss : cs;
    aq_pnspace_drop_keys(s);
    rc = aq_pprot_init_a(&s->rx, conn->set.crypto_algs, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, rx,
                         32, conn->version);
    if (rc == 0) {
      s->has_rx = 1;
      rc = aq_pprot_init_a(&s->tx, conn->set.crypto_algs, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256,
                           tx, 32, conn->version);
      s->has_tx = rc == 0;
    }
  }
  if (rc == 0) {
    rc = aq_ver_on_initial_keys(conn); /* RFC 9368: the other version's Initial read keys */
  }
  aq_memzero(cs, sizeof(cs));
  aq_memzero(ss, sizeof(ss));
  return rc;
}

/** Drop a space's keys and records (RFC 9001 §4.9). */
static int discard_space(aq_conn *conn, unsigned sp, aq_tstamp ts) {
  aq_pnspace *s = &conn->sp[sp];
  if (s->discarded) {
    return 0;
  }
  s->discarded = 1;
  aq_pnspace_drop_keys(s);
  s->probes = 0;
  s->ping_pending = 0;
  int rc = aq_recov_discard_space(&conn->recov, sp, ts);
  aq_txbuf_free(&s->ctx, conn->mem);
  aq_strm_rbuf_free(&s->crx);
  if (rc != 0) {
    aq_conn_set_fatal(conn, rc);
  }
  return rc;
}

/* ======================================================= sent records */

void aq_conn_requeue_limits(aq_conn *conn, uint32_t flags) {
  if (flags & AQ_SM_MAX_DATA) {
    conn->max_data_pending = 1;
  }
  if (flags & AQ_SM_MAX_STREAMS_BIDI) {
    conn->max_streams_bidi_pending = 1;
  }
  if (flags & AQ_SM_MAX_STREAMS_UNI) {
    conn->max_streams_uni_pending = 1;
  }
}

static void on_meta_fate(aq_conn *conn, unsigned space, aq_sent_meta *m, int acked) {
  if (acked && (m->flags & AQ_SM_ACK)) {
    aq_acktr_on_ack_acked(&conn->sp[space].acktr, m->ack_largest);
  }
  if (!acked) {
    aq_conn_requeue_limits(conn, m->flags);
    if (m->flags & AQ_SM_HANDSHAKE_DONE) {
      conn->hs_done_pending = 1;
    }
    if (m->flags & AQ_SM_RETIRE_CID) {
      conn->retire_pending = 1;
    }
    aq_dgram_on_lost(conn, m);
    if (m->flags & AQ_SM_NEW_TOKEN) {
      conn->zrtt.token_pending = 1;
    }
    if (m->flags & AQ_SM_PATH_CHALLENGE) {
      aq_conn_path *cp = &conn->paths[conn->active_path];
      if (!cp->validated && cp->challenge_outstanding) {
        cp->challenge_pending = 1;
      }
    }
  }
  for (unsigned i = 0; i < m->nframes; i++) {
    const aq_sent_frame *sf = &m->f[i];
    if (sf->kind == AQ_SF_NEW_CID) {
      for (size_t k = 0; !acked && k < AQ_MAX_LOCAL_CIDS; k++) {
        if (conn->local_cids[k].state == 2 && conn->local_cids[k].seq == sf->id) {
          conn->local_cids[k].state = 1; /* lost: advertise again */
        }
      }
      continue;
    }
    if (sf->kind == AQ_SF_EXT) {
      const aq_conn_ext *e = sf->id < conn->next ? &conn->ext[sf->id] : NULL;
      if (e != NULL && e->ops->on_frame_fate != NULL) {
        e->ops->on_frame_fate(e->ctx, conn, sf->off, acked);
      }
      continue;
    }
    if (sf->kind == AQ_SF_CRYPTO) {
      aq_pnspace *cs = &conn->sp[sf->id];
      if (cs->discarded) {
        continue;
      }
      if (acked) {
        aq_txbuf_on_acked(&cs->ctx, sf->off, sf->len);
      } else {
        aq_txbuf_on_lost(&cs->ctx, sf->off, sf->len);
      }
    } else {
      aq_strm_on_record(conn, sf, acked);
    }
  }
}

static int recov_cb(void *ud, unsigned space, const aq_sent_pkt *pkt, aq_rtb_event ev) {
  aq_conn *conn = ud;
  if (pkt->token >= conn->nmeta) {
    return -1;
  }
  uint32_t idx = (uint32_t)pkt->token;
  aq_sent_meta *m = &conn->meta[idx];
  if (!m->in_use) {
    return -1;
  }
  switch (ev) {
  case AQ_RTB_ACKED:
    aq_qlog_recov(conn, space, pkt, 0);
    on_meta_fate(conn, space, m, 1);
    break;
  case AQ_RTB_LOST:
    aq_qlog_recov(conn, space, pkt, 1);
    conn->stats.pkts_lost++;
    aq_ecn_on_lost(conn, pkt);
    on_meta_fate(conn, space, m, 0);
    break;
  case AQ_RTB_DISCARDED:
  default: break;
  }
  aq_conn_tx_meta_free(conn, idx);
  return 0;
}

/* ============================================================ creation */

static int rand_cid(aq_conn *conn, aq_cid *cid, size_t len) {
  cid->len = (uint8_t)len;
  return conn->cb.rand(cid->data, len, conn->user_data) == 0 ? 0 : AQ_ERR_CALLBACK_FAILURE;
}

int aq_conn_new(aq_conn **out, int is_server, const aq_settings *settings, const aq_callbacks *cb,
                void *user_data, const aq_mem *mem, const aq_path *path, const aq_pkt_hd *hd,
                aq_tstamp ts) {
  *out = NULL;
  if (cb == NULL || cb->rand == NULL || settings == NULL || path == NULL ||
      (is_server && hd == NULL) || settings->scid_len < 4 || settings->scid_len > AQ_MAX_CIDLEN) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (mem == NULL) {
    mem = aq_mem_default();
  }
  aq_conn *conn = aq_mem_calloc(mem, 1, sizeof(*conn));
  if (conn == NULL) {
    return AQ_ERR_NOMEM;
  }
  conn->mem = mem;
  conn->set = *settings;
  if (conn->set.max_udp_payload < 1200) {
    conn->set.max_udp_payload = 1200;
  }
  if (conn->set.max_udp_payload > AQ_CONN_MAX_DGRAM) {
    conn->set.max_udp_payload = AQ_CONN_MAX_DGRAM;
  }
  conn->cb = *cb;
  conn->user_data = user_data;
  conn->is_server = is_server;
  conn->version = AQ_PROTO_VER_V1;
  conn->paths[0].addr = *path;
  conn->paths[0].in_use = 1;
  conn->paths[0].validated = 1; /* a server's first path is governed by addr_validated */
  conn->created_ts = ts;
  conn->last_recv_ts = ts;
  conn->idle_start_ts = ts;
  conn->close_deadline = AQ_TSTAMP_NEVER;
  conn->meta_free = UINT32_MAX;
  aq_tp_default(&conn->peer_tp);
  for (size_t i = 0; i < AQ_PN_SPACE_COUNT; i++) {
    aq_acktr_init(&conn->sp[i].acktr, i != AQ_PN_SPACE_APP, conn->set.max_ack_delay);
    aq_txbuf_init(&conn->sp[i].ctx);
    aq_strm_rbuf_init(&conn->sp[i].crx, mem, AQ_CRYPTO_RX_CAP);
  }
  aq_strm_init_conn(conn, ts);
  int rc = rand_cid(conn, &conn->scid, conn->set.scid_len);
  conn->local_cids[0].seq = 0;
  conn->local_cids[0].cid = conn->scid;
  conn->local_cids[0].state = 2;
  conn->next_local_seq = 1;
  if (rc == 0) {
    if (is_server) {
      conn->addr_validated = 0;
      if (aq_cid_init(&conn->odcid, hd->dcid, hd->dcidlen) != 0 ||
          aq_cid_init(&conn->dcid, hd->scid, hd->scidlen) != 0) {
        rc = AQ_ERR_INVALID_ARGUMENT;
      } else {
        conn->peer_initial_scid = conn->dcid;
        conn->got_peer_scid = 1;
        conn->version = hd->version;
      }
    } else {
      conn->addr_validated = 1;
      rc = rand_cid(conn, &conn->odcid, 8);
      if (rc == 0) {
        conn->dcid = conn->odcid;
      }
    }
  }
  if (rc == 0) {
    conn->initial_key_cid = conn->odcid;
    aq_ver_init(conn); /* a client's first version (aq_conn_ver.c) */
    rc = install_initial_keys(conn);
  }
  if (rc == 0) {
    const aq_cc_ops *ops = conn->set.cc_algo == AQ_CC_ALGO_NEWRENO ? &aq_cc_newreno : &aq_cc_cubic;
    aq_cc_init(&conn->cc, ops, conn->set.max_udp_payload);
    aq_pacer_init(&conn->pacer, conn->set.max_udp_payload);
    const size_t caps[AQ_PN_SPACE_COUNT] = {AQ_CONN_RTB_CAP_INITIAL, AQ_CONN_RTB_CAP_HANDSHAKE,
                                            AQ_CONN_RTB_CAP_APP};
    rc = aq_recov_init(&conn->recov, mem, caps, is_server, &conn->cc, recov_cb, conn);
    if (rc == 0) {
      aq_rtt_init(&conn->recov.rtt, conn->set.initial_rtt);
      /* Start small (a handshake needs few records) and grow with the window. */
      conn->nmeta = AQ_CONN_META_INITIAL;
      conn->meta = aq_mem_calloc(mem, conn->nmeta, sizeof(aq_sent_meta));
      if (conn->meta == NULL) {
        rc = AQ_ERR_NOMEM;
      } else {
        for (uint32_t i = conn->nmeta; i-- > 0;) {
          aq_conn_tx_meta_free(conn, i);
        }
      }
    }
  }
  if (rc != 0) {
    aq_conn_del(conn);
    return rc;
  }
  *out = conn;
  return 0;
}

void aq_conn_del(aq_conn *conn) {
  if (conn == NULL) {
    return;
  }
  const aq_mem *mem = conn->mem;
  for (size_t i = 0; i < conn->next; i++) {
    if (conn->ext[i].ops->on_del != NULL) {
      conn->ext[i].ops->on_del(conn->ext[i].ctx, conn);
    }
  }
  for (size_t i = 0; i < AQ_PN_SPACE_COUNT; i++) {
    aq_pnspace *s = &conn->sp[i];
    aq_pnspace_drop_keys(s);
    aq_txbuf_free(&s->ctx, mem);
    aq_strm_rbuf_free(&s->crx);
  }
  aq_memzero(conn->x25519_pre, sizeof(conn->x25519_pre));
  aq_x25519_key_free(conn->x25519_pre_key);
  aq_strm_free_all(conn);
  aq_dgram_free(conn);
  aq_ku_free(conn);
  aq_ver_free(conn);
  aq_zrtt_free(conn);
  aq_qlog_free(conn);
  if (conn->tls != NULL) {
    aq_tls_del(conn->tls);
  }
  aq_recov_free(&conn->recov);
  aq_memzero(conn->app_secret, sizeof(conn->app_secret));
  aq_memzero(conn->reset_key, sizeof(conn->reset_key));
  if (conn->meta != NULL) {
    aq_mem_free(mem, conn->meta);
  }
  aq_memzero(conn, sizeof(*conn));
  aq_mem_free(mem, conn);
}

int aq_conn_ext_register(aq_conn *conn, const aq_conn_ext_ops *ops, void *ctx,
                         const uint8_t *tp_value, size_t tp_len) {
  if (conn->tls != NULL) {
    return AQ_ERR_STATE;
  }
  if (conn->next >= AQ_CONN_MAX_EXT) {
    return AQ_ERR_LIMIT;
  }
  aq_conn_ext *e = &conn->ext[conn->next++];
  e->ops = ops;
  e->ctx = ctx;
  e->tp_value = tp_value;
  e->tp_len = tp_len;
  return 0;
}

int aq_conn_ext_track(aq_conn *conn, uint64_t token) {
  aq_sent_meta *m = conn->ext_tx_meta;
  if (m == NULL) {
    return AQ_ERR_STATE;
  }
  if (m->nframes >= AQ_SENT_MAX_FRAMES) {
    return AQ_ERR_LIMIT;
  }
  aq_sent_frame *sf = &m->f[m->nframes++];
  memset(sf, 0, sizeof(*sf));
  sf->kind = AQ_SF_EXT;
  sf->id = conn->ext_tx_idx;
  sf->off = token;
  return 0;
}

/* ===================================================== handshake state */

static void check_handshake(aq_conn *conn, aq_tstamp ts) {
  if (conn->handshake_complete || conn->tls == NULL || !aq_tls_handshake_done(conn->tls) ||
      conn->state >= AQ_CS_CLOSING) {
    return;
  }
  if (!conn->peer_tp_done) {
    aq_conn_fail(conn, AQ_QERR_TRANSPORT_PARAMETER_ERROR, AQ_FT_CRYPTO,
                 "missing transport parameters", ts);
    return;
  }
  conn->handshake_complete = 1;
  conn->state = AQ_CS_ESTABLISHED;
  if (aq_cid_issue(conn) != 0) {
    return;
  }
  if (conn->is_server) {
    /* RFC 9001 §4.1.2: the server's handshake is confirmed when complete. */
    conn->handshake_confirmed = 1;
    conn->hs_done_pending = 1;
    aq_recov_set_handshake_confirmed(&conn->recov, ts);
    (void)discard_space(conn, AQ_PN_SPACE_HANDSHAKE, ts);
  }
  if (!conn->hs_notified) {
    conn->hs_notified = 1;
    if (conn->cb.handshake_completed != NULL) {
      conn->cb.handshake_completed(conn, conn->user_data);
    }
  }
}

/** Deliver contiguous CRYPTO bytes of space sp to TLS. */
static int feed_tls(aq_conn *conn, unsigned sp, aq_tstamp ts) {
  aq_strm_rbuf *rb = &conn->sp[sp].crx;
  uint8_t tmp[2048];
  for (;;) {
    /* Copied out: TLS may discard this space (and free rb) during the call. */
    size_t n = aq_strm_rbuf_read(rb, tmp, sizeof(tmp), NULL);
    if (n == 0) {
      break;
    }
    int rc = aq_tls_recv(conn->tls, epoch_of_space[sp], tmp, n, ts);
    if (rc != 0) {
      uint8_t alert = aq_tls_alert(conn->tls);
      if (alert == 0) {
        alert = AQ_TLS_ALERT_INTERNAL_ERROR;
      }
      aq_conn_fail(conn, AQ_QERR_CRYPTO(alert), AQ_FT_CRYPTO, "TLS handshake failed", ts);
      return AQ_ERR_TLS_ALERT;
    }
  }
  int rc = aq_conn_process_peer_tp(conn, ts);
  if (rc != 0) {
    return rc;
  }
  check_handshake(conn, ts);
  return aq_zrtt_after_tls(conn, ts);
}

/* ==================================================== frame processing */

static int on_ack_frame(aq_conn *conn, unsigned sp, const aq_frame_ack *a, int has_ecn,
                        aq_tstamp ts) {
  aq_range ranges[AQ_MAX_ACK_RANGES + 1];
  size_t n = 0;
  uint64_t smallest = a->largest - a->first_range;
  ranges[n].start = smallest;
  ranges[n].end = a->largest + 1;
  n++;
  for (size_t i = 0; i < a->nranges; i++) {
    /* §19.3.1: decoder guarantees these do not underflow. */
    uint64_t largest = smallest - a->ranges[i].gap - 2;
    smallest = largest - a->ranges[i].len;
    ranges[n].start = smallest;
    ranges[n].end = largest + 1;
    n++;
  }
  aq_ack_in in;
  memset(&in, 0, sizeof(in));
  in.largest = a->largest;
  if (sp == AQ_PN_SPACE_APP) {
    uint64_t exp = conn->peer_tp.ack_delay_exponent;
    uint64_t us = a->ack_delay;
    in.ack_delay =
        (us < (UINT64_MAX >> 30) >> exp) ? (us << exp) * AQ_MICROSECONDS : UINT64_MAX / 2;
  }
  in.ranges = ranges;
  in.nranges = n;
  in.has_ecn = has_ecn; /* ACK_ECN (RFC 9000 §19.3.2): validated in aq_recov */
  in.ect0 = a->ect0;
  in.ect1 = a->ect1;
  in.ce = a->ce;
  int rc = aq_recov_on_ack(&conn->recov, sp, &in, ts);
  if (rc == AQ_ERR_PROTO) {
    aq_conn_fail(conn, AQ_QERR_PROTOCOL_VIOLATION, AQ_FT_ACK, "ACK of unsent packet", ts);
    return rc;
  }
  if (rc != 0) {
    aq_conn_set_fatal(conn, rc);
    return rc;
  }
  if (sp == AQ_PN_SPACE_HANDSHAKE && !conn->is_server) {
    aq_recov_set_peer_validated_addr(&conn->recov, ts);
  }
  return 0;
}

/** Keys of the level after sp's exist: sp's CRYPTO stream ended (RFC 9001 §4.1.3). */
static int crypto_level_done(const aq_conn *conn, unsigned sp) {
  return (sp == AQ_PN_SPACE_INITIAL && conn->sp[AQ_PN_SPACE_HANDSHAKE].has_rx) ||
         (sp == AQ_PN_SPACE_HANDSHAKE && conn->handshake_complete);
}

static int on_crypto(aq_conn *conn, unsigned sp, const aq_frame *f, aq_tstamp ts) {
  aq_strm_rbuf *rb = &conn->sp[sp].crx;
  uint64_t end = f->u.crypto.offset + f->u.crypto.datalen;
  if (end > rb->read_off + rb->window_cap) {
    aq_conn_fail(conn, AQ_QERR_CRYPTO_BUFFER_EXCEEDED, f->type, "CRYPTO beyond buffer", ts);
    return AQ_ERR_PROTO;
  }
  /* RFC 9001 §4.1.3: once keys of the next level exist, a level's CRYPTO stream is complete:
   * data past what was received before "MUST" be a PROTOCOL_VIOLATION (as is data of an
   * older level that TLS never consumed, checked after feeding below). */
  if (crypto_level_done(conn, sp) && end > aq_strm_rbuf_recv_end(rb)) {
    aq_conn_fail(conn, AQ_QERR_PROTOCOL_VIOLATION, f->type, "CRYPTO past an old level", ts);
    return AQ_ERR_PROTO;
  }
  int rc = aq_strm_rbuf_recv(rb, f->u.crypto.offset, f->u.crypto.data, f->u.crypto.datalen, 0);
  if (rc != 0) {
    aq_conn_set_fatal(conn, rc);
    return rc;
  }
  rc = feed_tls(conn, sp, ts);
  if (rc == 0 && crypto_level_done(conn, sp) && aq_strm_rbuf_recv_end(rb) > rb->read_off) {
    aq_conn_fail(conn, AQ_QERR_PROTOCOL_VIOLATION, f->type, "unconsumed CRYPTO data", ts);
    return AQ_ERR_PROTO;
  }
  return rc;
}

static int on_close_frame(aq_conn *conn, const aq_frame *f, aq_tstamp ts) {
  int is_app = f->type == AQ_FT_CONNECTION_CLOSE_APP;
  if (conn->state < AQ_CS_DRAINING) {
    conn->close_deadline = ts + aq_conn_three_pto(conn);
    conn->state = AQ_CS_DRAINING;
    conn->close_pending = 0;
  }
  aq_conn_notify_closed(conn, 1, 0, is_app, f->u.close.error_code, f->u.close.reason,
                        f->u.close.reasonlen, 0);
  return 1;
}

static int ext_frame(aq_conn *conn, const aq_frame *f, unsigned path_idx, aq_tstamp ts) {
  for (size_t i = 0; i < conn->next; i++) {
    const aq_conn_ext *e = &conn->ext[i];
    for (size_t k = 0; k < e->ops->nframe_types; k++) {
      if (e->ops->frame_types[k] == f->type && e->ops->on_frame != NULL) {
        int rc = e->ops->on_frame(e->ctx, conn, f, path_idx, ts);
        if (rc != 0) {
          aq_conn_fail(conn, aq_qerr_from_err(rc, AQ_QERR_PROTOCOL_VIOLATION), f->type,
                       e->ops->name, ts);
        }
        return rc;
      }
    }
  }
  aq_conn_fail(conn, AQ_QERR_FRAME_ENCODING_ERROR, f->type, "unsupported frame type", ts);
  return AQ_ERR_PROTO;
}

/**
 * Process the frames of one decrypted packet.  Returns 0, 1 if the peer
 * closed (stop processing), or a negative error (connection closed).
 * *ack_eliciting is set if any frame elicits an ACK.
 */
static int process_frames(aq_conn *conn, unsigned sp, aq_pkt_type pt, unsigned path_idx,
                          const uint8_t *payload, size_t len, int *ack_eliciting, int *non_probing,
                          aq_tstamp ts) {
  aq_rbuf r;
  aq_rbuf_init(&r, payload, len);
  if (len == 0) {
    aq_conn_fail(conn, AQ_QERR_PROTOCOL_VIOLATION, 0, "packet without frames", ts);
    return AQ_ERR_PROTO;
  }
  while (aq_rbuf_left(&r) > 0) {
    aq_frame f;
    uint64_t ftype = 0;
    aq_rbuf peek = r;
    if (aq_rbuf_varint(&peek, &ftype) != 0) {
      ftype = 0;
    }
    int rc = aq_frame_decode(&f, &r);
    if (rc != 0) {
      aq_conn_fail(conn, aq_qerr_from_err(rc, AQ_QERR_FRAME_ENCODING_ERROR), ftype,
                   "frame decoding failed", ts);
      return AQ_ERR_PROTO;
    }
    if (!aq_frame_allowed(f.type, pt)) {
      uint64_t code = (aq_frame_flags(f.type) & AQ_FRAME_F_KNOWN) ? AQ_QERR_PROTOCOL_VIOLATION
                                                                  : AQ_QERR_FRAME_ENCODING_ERROR;
      aq_conn_fail(conn, code, f.type, "frame not allowed in this packet type", ts);
      return AQ_ERR_PROTO;
    }
    if (aq_frame_flags(f.type) & AQ_FRAME_F_ACK_ELICITING) {
      *ack_eliciting = 1;
    }
    if (!(aq_frame_flags(f.type) & AQ_FRAME_F_PROBING)) {
      *non_probing = 1;
    }
    switch (f.type) {
    case AQ_FT_PADDING:
    case AQ_FT_PING: break;
    case AQ_FT_ACK:
    case AQ_FT_ACK_ECN: rc = on_ack_frame(conn, sp, &f.u.ack, f.type == AQ_FT_ACK_ECN, ts); break;
    case AQ_FT_CRYPTO: rc = on_crypto(conn, sp, &f, ts); break;
    case AQ_FT_NEW_TOKEN:
      if (conn->is_server) {
        aq_conn_fail(conn, AQ_QERR_PROTOCOL_VIOLATION, f.type, "NEW_TOKEN from a client", ts);
        rc = AQ_ERR_PROTO;
      } else {
        aq_zrtt_on_new_token(conn, f.u.new_token.token, f.u.new_token.tokenlen);
      }
      break;
    case AQ_FT_NEW_CONNECTION_ID: rc = aq_cid_on_new(conn, &f.u.new_cid, ts); break;
    case AQ_FT_RETIRE_CONNECTION_ID: rc = aq_cid_on_retire(conn, f.u.retire_cid.seq, ts); break;
    case AQ_FT_PATH_CHALLENGE:
      memcpy(conn->paths[path_idx].response, f.u.path.data, AQ_PATH_DATA_LEN);
      conn->paths[path_idx].response_pending = 1;
      break;
    case AQ_FT_PATH_RESPONSE:
      for (unsigned i = 0; i < AQ_MAX_PATHS; i++) {
        aq_conn_path *cp = &conn->paths[i];
        if (cp->in_use && cp->challenge_outstanding &&
            aq_ct_memeq(cp->challenge, f.u.path.data, AQ_PATH_DATA_LEN)) {
          cp->validated = 1;
          cp->challenge_outstanding = 0;
          cp->challenge_pending = 0;
        }
      }
      aq_mig_on_response(conn, ts);
      break;
    case AQ_FT_CONNECTION_CLOSE:
    case AQ_FT_CONNECTION_CLOSE_APP: return on_close_frame(conn, &f, ts);
    case AQ_FT_HANDSHAKE_DONE:
      if (conn->is_server) {
        aq_conn_fail(conn, AQ_QERR_PROTOCOL_VIOLATION, f.type, "HANDSHAKE_DONE from a client", ts);
        rc = AQ_ERR_PROTO;
      } else if (!conn->handshake_confirmed) {
        conn->handshake_confirmed = 1;
        aq_recov_set_handshake_confirmed(&conn->recov, ts);
        rc = discard_space(conn, AQ_PN_SPACE_HANDSHAKE, ts);
      }
      break;
    case AQ_FT_DATAGRAM:
    case AQ_FT_DATAGRAM_LEN: rc = aq_dgram_on_frame(conn, &f, ts); break;
    case AQ_FT_RESET_STREAM:
    case AQ_FT_STOP_SENDING:
    case AQ_FT_MAX_DATA:
    case AQ_FT_MAX_STREAM_DATA:
    case AQ_FT_MAX_STREAMS_BIDI:
    case AQ_FT_MAX_STREAMS_UNI:
    case AQ_FT_DATA_BLOCKED:
    case AQ_FT_STREAM_DATA_BLOCKED:
    case AQ_FT_STREAMS_BLOCKED_BIDI:
    case AQ_FT_STREAMS_BLOCKED_UNI: rc = aq_strm_on_frame(conn, &f, ts); break;
    default:
      if (f.type >= AQ_FT_STREAM && f.type <= (AQ_FT_STREAM | 7u)) {
        rc = aq_strm_on_frame(conn, &f, ts);
      } else {
        rc = ext_frame(conn, &f, path_idx, ts);
      }
      break;
    }
    if (rc < 0 || conn->state >= AQ_CS_CLOSING) {
      return rc < 0 ? rc : AQ_ERR_PROTO;
    }
  }
  return 0;
}

/* ==================================================== packet reception */

static int pkt_space(aq_pkt_type t) {
  switch (t) {
  case AQ_PKT_INITIAL: return AQ_PN_SPACE_INITIAL;
  case AQ_PKT_HANDSHAKE: return AQ_PN_SPACE_HANDSHAKE;
  case AQ_PKT_1RTT: return AQ_PN_SPACE_APP;
  case AQ_PKT_0RTT:
  case AQ_PKT_RETRY:
  case AQ_PKT_VERSION_NEGOTIATION:
  case AQ_PKT_UNKNOWN_VERSION:
  default: return -1;
  }
}

static unsigned find_path(aq_conn *conn, const aq_path *path) {
  for (unsigned i = 0; i < AQ_MAX_PATHS; i++) {
    if (conn->paths[i].in_use && aq_addr_eq(&conn->paths[i].addr.remote, &path->remote) &&
        aq_addr_eq(&conn->paths[i].addr.local, &path->local)) {
      return i;
    }
  }
  /* A new path: take a free slot, else recycle an inactive one. */
  unsigned slot = AQ_MAX_PATHS;
  for (unsigned i = 0; i < AQ_MAX_PATHS; i++) {
    if (!conn->paths[i].in_use) {
      slot = i;
      break;
    }
  }
  if (slot == AQ_MAX_PATHS) {
    slot = conn->active_path == AQ_MAX_PATHS - 1 ? 0 : AQ_MAX_PATHS - 1;
  }
  memset(&conn->paths[slot], 0, sizeof(conn->paths[slot]));
  conn->paths[slot].in_use = 1;
  conn->paths[slot].addr = *path;
  for (size_t i = 0; i < conn->next; i++) {
    if (conn->ext[i].ops->on_path != NULL) {
      conn->ext[i].ops->on_path(conn->ext[i].ctx, conn, slot);
    }
  }
  return slot;
}

/**
 * Make path_idx the active path after the peer moved there (RFC 9000 §9.3):
 * validate it with PATH_CHALLENGE (sending at most 3x what it brought in
 * meanwhile), and restart congestion control and RTT unless only the port
 * changed (§9.4).
 */
static int migrate_to(aq_conn *conn, unsigned path_idx, aq_tstamp ts) {
  aq_conn_path *old = &conn->paths[conn->active_path];
  aq_conn_path *np = &conn->paths[path_idx];
  int same_ip = aq_addr_eq_ip(&old->addr.remote, &np->addr.remote);
  conn->active_path = path_idx;
  conn->stats.migrations++;
  if (!np->validated && !np->challenge_outstanding) {
    if (conn->cb.rand(np->challenge, AQ_PATH_DATA_LEN, conn->user_data) != 0) {
      aq_conn_set_fatal(conn, AQ_ERR_CALLBACK_FAILURE);
      return AQ_ERR_CALLBACK_FAILURE;
    }
    np->challenge_pending = 1;
  }
  if (!same_ip) {
    aq_ecn_on_new_path(conn); /* RFC 9000 §13.4.2: validate ECN per path */
    aq_cc_init(&conn->cc, conn->cc.ops, conn->set.max_udp_payload);
    aq_rtt_init(&conn->recov.rtt, conn->set.initial_rtt);
    aq_pacer_init(&conn->pacer, conn->set.max_udp_payload);
  }
  (void)ts;
  return 0;
}

/** One (coalesced) packet.  Returns 0 (processed or dropped) or a fatal error. */
static int read_one(aq_conn *conn, unsigned path_idx, size_t dgram_len, const aq_pkt_hd *hd,
                    const uint8_t *pkt, size_t pktlen, aq_tstamp ts) {
  int sp = pkt_space(hd->type);
  aq_pprot *zk = NULL; /* 0-RTT packets: application space, 0-RTT read key */
  if (hd->type == AQ_PKT_0RTT) {
    zk = aq_zrtt_rx_key(conn, &conn->paths[path_idx].addr, pkt, pktlen);
    if (zk == NULL) {
      conn->stats.pkts_dropped++;
      return 0; /* kept for when the key exists, or dropped */
    }
    sp = AQ_PN_SPACE_APP;
  }
  if (sp < 0) {
    return 0; /* Retry, VN: not handled here */
  }
  aq_pnspace *s = &conn->sp[sp];
  aq_pprot *rxk = zk != NULL ? zk : &s->rx;
  /* RFC 9001 §5.7: a server processes no 1-RTT packet before the handshake completes;
   * RFC 9000 §14.1: a server drops Initials in datagrams below 1200 bytes. */
  if ((conn->is_server && hd->type == AQ_PKT_1RTT && !conn->handshake_complete) ||
      (conn->is_server && sp == AQ_PN_SPACE_INITIAL && dgram_len < 1200)) {
    conn->stats.pkts_dropped++;
    return 0;
  }
  if ((zk == NULL && !s->has_rx) || s->discarded || pktlen > sizeof(conn->scratch)) {
    conn->stats.pkts_dropped++;
    return 0;
  }
  if (hd->type != AQ_PKT_1RTT && hd->version != conn->version &&
      (rxk = aq_ver_rx_key(conn, hd)) == NULL) { /* RFC 9368: other version's Initial keys */
    conn->stats.pkts_dropped++;
    return 0;
  }
  /* RFC 9000 §7.2: once the peer's first Initial fixed its SCID, long-header packets with
   * another SCID "MUST be discarded"; §17.2.2: a client "MUST either discard" a server
   * Initial with a non-zero Token Length. */
  if ((hd->type != AQ_PKT_1RTT && conn->got_peer_scid &&
       !aq_cid_eq_bytes(&conn->peer_initial_scid, hd->scid, hd->scidlen)) ||
      (!conn->is_server && hd->type == AQ_PKT_INITIAL && hd->tokenlen != 0)) {
    conn->stats.pkts_dropped++;
    return 0;
  }
  /* DCID must be ours (or, early on a server, the client's original DCID). */
  aq_cid d;
  if (aq_cid_init(&d, hd->dcid, hd->dcidlen) != 0 ||
      !(aq_conn_owns_cid(conn, &d) || aq_conn_is_initial_dcid(conn, &d))) {
    conn->stats.pkts_dropped++;
    return 0;
  }
  uint8_t *p = conn->scratch;
  memcpy(p, pkt, pktlen);
  size_t pn_len;
  uint64_t tpn;
  if (aq_pprot_unprotect_header(rxk, p, pktlen, hd->pn_offset, &pn_len, &tpn) != 0) {
    conn->stats.pkts_dropped++;
    return 0;
  }
  int is_long = (p[0] & AQ_PKT_HEADER_FORM_BIT) != 0;
  uint64_t largest = s->acktr.has_largest ? s->acktr.largest : UINT64_MAX;
  uint64_t pn = aq_pkt_pn_decode(largest, tpn, pn_len);
  size_t hdrlen = hd->pn_offset + pn_len;
  aq_ssize plen;
  uint8_t phase = (p[0] & AQ_PKT_SHORT_KEY_PHASE_BIT) ? 1 : 0;
  if (!is_long) {
    plen = aq_ku_open(conn, p, pktlen, hdrlen, pn, phase, ts); /* RFC 9001 §6 */
  } else {
    plen = aq_pprot_open(rxk, p, pktlen, hdrlen, pn);
  }
  if (plen < 0) {
    if (aq_err_is_fatal((int)plen)) {
      aq_conn_set_fatal(conn, (int)plen);
      return (int)plen;
    }
    conn->stats.pkts_dropped++;
    /* RFC 9001 §6.6: the integrity limit on forged packets (2^52 AES-GCM, 2^36 ChaCha20). */
    if (sp == AQ_PN_SPACE_APP) {
      aq_ku_on_auth_fail(conn, ts);
    }
    return 0;
  }
  /* Reserved bits must be zero after removing protection (§17.2, §17.3.1). */
  uint8_t reserved = is_long ? (p[0] & 0x0cu) : (p[0] & 0x18u);
  if (reserved != 0) {
    aq_conn_fail(conn, AQ_QERR_PROTOCOL_VIOLATION, 0, "reserved bits set", ts);
    return 0;
  }
  if (is_long && hd->version != conn->version) {
    int vrc = aq_ver_on_opened(conn, hd); /* client: the server negotiated this version */
    if (vrc != 0) {
      aq_conn_set_fatal(conn, vrc);
      return vrc;
    }
  }
  if (aq_acktr_is_dup(&s->acktr, pn)) {
    conn->stats.pkts_dropped++;
    return 0;
  }
  conn->stats.pkts_recv++;
  aq_qlog_packet(conn, 0, (int)hd->type, pn, phase, p + hdrlen, (size_t)plen, pktlen, ts);
  if (conn->state == AQ_CS_CLOSING) {
    /* §10.2.1: answer with CONNECTION_CLOSE, at a decreasing rate. */
    conn->close_recv_count++;
    if (conn->close_recv_count >= conn->close_next_resend) {
      conn->close_pending = 1;
      conn->close_next_resend *= 2;
    }
    return 0;
  }
  if (conn->state >= AQ_CS_DRAINING) {
    return 0;
  }
  /* First packet from the peer's side: adopt its SCID (client, §7.2). */
  if (is_long && !conn->got_peer_scid && !conn->is_server && hd->type == AQ_PKT_INITIAL) {
    if (aq_cid_init(&conn->dcid, hd->scid, hd->scidlen) != 0) {
      return 0;
    }
    conn->peer_initial_scid = conn->dcid;
    conn->got_peer_scid = 1;
  }
  if (conn->is_server && sp == AQ_PN_SPACE_HANDSHAKE && !conn->addr_validated) {
    /* §8.1: a Handshake packet proves the client owns its address. */
    conn->addr_validated = 1;
    aq_recov_set_amplification_limited(&conn->recov, 0, ts);
  }
  if (conn->is_server && conn->tls == NULL) {
    int rc = start_tls(conn, ts);
    if (rc != 0) {
      aq_conn_set_fatal(conn, rc);
      return rc;
    }
  }
  int ae = 0, non_probing = 0;
  int rc = process_frames(conn, (unsigned)sp, hd->type, path_idx, p + hdrlen, (size_t)plen, &ae,
                          &non_probing, ts);
  if (aq_err_is_fatal(rc) || conn->err != 0) {
    return conn->err != 0 ? conn->err : rc;
  }
  if (conn->state < AQ_CS_DRAINING && !conn->sp[sp].discarded) {
    if (aq_acktr_on_pkt(&conn->sp[sp].acktr, pn, ae, conn->ecn.rx, ts) < 0) {
      aq_conn_set_fatal(conn, AQ_ERR_INTERNAL);
      return AQ_ERR_INTERNAL;
    }
  }
  conn->last_recv_ts = ts;
  conn->idle_start_ts = ts;
  conn->ae_sent_since_recv = 0;
  /* §9.3: a non-probing packet with the highest packet number from a new
   * address moves us there (NAT rebinding or migration), pending validation. */
  if (sp == AQ_PN_SPACE_APP && path_idx != conn->active_path && non_probing &&
      conn->handshake_confirmed && conn->state == AQ_CS_ESTABLISHED &&
      /* a client picks its own local address (aq_conn_mig.c); it follows only the server's */
      (conn->is_server || !aq_addr_eq(&conn->paths[path_idx].addr.remote,
                                      &conn->paths[conn->active_path].addr.remote)) &&
      conn->sp[sp].acktr.has_largest && conn->sp[sp].acktr.largest == pn) {
    rc = migrate_to(conn, path_idx, ts);
    if (rc != 0) {
      return rc;
    }
    aq_mig_on_peer_moved(conn, &d);
  }
  /* RFC 9001 §4.9.1: a server discards Initial keys on its first Handshake packet. */
  if (conn->is_server && sp == AQ_PN_SPACE_HANDSHAKE) {
    rc = discard_space(conn, AQ_PN_SPACE_INITIAL, ts);
  }
  return aq_err_is_fatal(rc) ? rc : 0;
}

/**
 * RFC 9000 §6.2: a client that has processed nothing else abandons the
 * attempt on a Version Negotiation packet for its CIDs that does not list
 * the version it used (we speak only v1, so there is nothing to retry with).
 */
/**
 * Client: a Retry (RFC 9000 §17.2.5.2).  Accepted once, before any Initial
 * from the server, with a valid integrity tag (RFC 9001 §5.8) and a token:
 * the new DCID rekeys the Initial space and the ClientHello is sent again
 * with the token.
 */
static void on_retry(aq_conn *conn, const aq_pkt_hd *hd, const uint8_t *pkt, size_t len) {
  if (conn->is_server || conn->got_retry || conn->got_peer_scid || hd->tokenlen == 0 ||
      hd->tokenlen > AQ_RETRY_TOKEN_MAX || hd->version != conn->version ||
      !aq_cid_eq_bytes(&conn->scid, hd->dcid, hd->dcidlen) ||
      aq_pprot_retry_verify(conn->version, conn->odcid.data, conn->odcid.len, pkt, len) != 0) {
    conn->stats.pkts_dropped++;
    return;
  }
  aq_cid ns;
  if (aq_cid_init(&ns, hd->scid, hd->scidlen) != 0 || aq_cid_eq(&ns, &conn->odcid)) {
    conn->stats.pkts_dropped++;
    return;
  }
  conn->got_retry = 1;
  conn->retry_scid = ns;
  conn->dcid = ns;
  conn->initial_key_cid = ns;
  memcpy(conn->retry_token, hd->token, hd->tokenlen);
  conn->retry_token_len = hd->tokenlen;
  if (install_initial_keys(conn) != 0) {
    aq_conn_set_fatal(conn, AQ_ERR_CRYPTO);
    return;
  }
  /* Everything sent in Initial packets so far is sent again under the new keys. */
  aq_txbuf_requeue_unacked(&conn->sp[AQ_PN_SPACE_INITIAL].ctx);
}

static void on_version_negotiation(aq_conn *conn, const uint8_t *data, size_t len, aq_tstamp ts) {
  (void)ts;
  aq_pkt_vn vn;
  if (conn->is_server || conn->stats.pkts_recv > 0 || aq_pkt_decode_vn(&vn, data, len) != 0 ||
      vn.dcidlen != conn->scid.len || memcmp(vn.dcid, conn->scid.data, vn.dcidlen) != 0 ||
      vn.scidlen != conn->odcid.len || memcmp(vn.scid, conn->odcid.data, vn.scidlen) != 0) {
    conn->stats.pkts_dropped++;
    return;
  }
  for (size_t i = 0; i < vn.nversions; i++) {
    if (aq_pkt_vn_version(&vn, i) == conn->version) {
      conn->stats.pkts_dropped++;
      return; /* §6.2: must be ignored */
    }
  }
  conn->state = AQ_CS_CLOSED;
  aq_conn_notify_closed(conn, 0, 0, 0, AQ_QERR_VERSION_NEGOTIATION_ERROR, NULL, 0,
                        AQ_ERR_UNSUPPORTED);
}

int aq_conn_read_pkt(aq_conn *conn, const aq_path *path, const uint8_t *data, size_t len,
                     aq_tstamp ts) {
  if (conn->err != 0) {
    return conn->err;
  }
  if (conn->state == AQ_CS_CLOSED) {
    return 0;
  }
  conn->stats.bytes_recv += len;
  conn->tx_stalled = 0;
  conn->amp_blocked = 0;
  if (conn->is_server && !conn->addr_validated) {
    conn->amp_recv += len;
    aq_recov_set_amplification_limited(&conn->recov, 0, ts);
  }
  unsigned pi = find_path(conn, path);
  conn->paths[pi].amp_recv += len;
  if (len > 5 && (data[0] & AQ_PKT_HEADER_FORM_BIT) && data[1] == 0 && data[2] == 0 &&
      data[3] == 0 && data[4] == 0) {
    on_version_negotiation(conn, data, len, ts);
    return conn->err;
  }
  uint64_t recv_before = conn->stats.pkts_recv;
  {
    aq_pkt_hd rh;
    if ((data[0] & AQ_PKT_HEADER_FORM_BIT) &&
        aq_pkt_decode_hd(&rh, data, len, conn->scid.len) == 0 && rh.type == AQ_PKT_RETRY) {
      on_retry(conn, &rh, data, len);
      return conn->err;
    }
  }
  aq_pkt_iter it;
  aq_pkt_iter_init(&it, data, len, conn->scid.len);
  for (;;) {
    aq_pkt_hd hd;
    const uint8_t *pkt;
    size_t pktlen;
    int more = aq_pkt_iter_next(&it, &hd, &pkt, &pktlen);
    if (more <= 0) {
      break;
    }
    int rc = read_one(conn, pi, len, &hd, pkt, pktlen, ts);
    if (rc != 0) {
      return rc;
    }
    if (conn->state >= AQ_CS_DRAINING) {
      break;
    }
  }
  if (conn->stats.pkts_recv == recv_before && conn->err == 0) {
    aq_cid_check_stateless_reset(conn, data, len, ts);
  }
  if (aq_zrtt_replay(conn, ts) != 0) {
    return conn->err;
  }
  aq_strm_collect(conn);
  aq_strm_notify_writable(conn);
  return conn->err;
}

unsigned aq_conn_path_slot(aq_conn *conn, const aq_path *path) {
  return find_path(conn, path);
}

int aq_conn_read_single(aq_conn *conn, const aq_path *path, const uint8_t *pkt, size_t len,
                        aq_tstamp ts) {
  aq_pkt_iter it;
  aq_pkt_hd hd;
  const uint8_t *p;
  size_t plen;
  aq_pkt_iter_init(&it, pkt, len, conn->scid.len);
  if (conn->err != 0 || aq_pkt_iter_next(&it, &hd, &p, &plen) <= 0) {
    return conn->err;
  }
  return read_one(conn, find_path(conn, path), len, &hd, p, plen, ts);
}

/* ================================================================ timers */

static aq_tstamp idle_deadline(const aq_conn *conn) {
  aq_duration idle = conn->peer_tp_done ? conn->idle_timeout : conn->set.idle_timeout;
  if (idle == 0) {
    return AQ_TSTAMP_NEVER;
  }
  aq_duration min = aq_conn_three_pto(conn);
  if (idle < min) {
    idle = min;
  }
  return conn->idle_start_ts + idle;
}

aq_tstamp aq_conn_get_expiry(const aq_conn *conn) {
  if (conn->err != 0 || conn->state == AQ_CS_CLOSED) {
    return AQ_TSTAMP_NEVER;
  }
  if (conn->state >= AQ_CS_CLOSING) {
    return conn->close_deadline;
  }
  aq_tstamp t = aq_recov_get_expiry(&conn->recov);
  for (size_t i = 0; i < AQ_PN_SPACE_COUNT && !conn->amp_blocked; i++) {
    if (conn->sp[i].has_tx && !conn->sp[i].discarded) {
      aq_tstamp a = aq_acktr_get_expiry(&conn->sp[i].acktr);
      if (a < t) {
        t = a;
      }
    }
  }
  aq_tstamp idle = idle_deadline(conn);
  if (idle < t) {
    t = idle;
  }
  if (!conn->handshake_complete && conn->set.handshake_timeout != 0 &&
      conn->created_ts + conn->set.handshake_timeout < t) {
    t = conn->created_ts + conn->set.handshake_timeout;
  }
  if (conn->handshake_complete && conn->set.keep_alive != 0 &&
      !conn->sp[AQ_PN_SPACE_APP].ping_pending) {
    aq_tstamp ka = conn->last_send_ts + conn->set.keep_alive;
    if (ka < t) {
      t = ka;
    }
  }
  aq_tstamp pace = conn->amp_blocked ? AQ_TSTAMP_NEVER
                                     : aq_conn_tx_pacer_expiry(conn, conn->last_send_ts);
  if (pace < t) {
    t = pace;
  }
  aq_tstamp mig = aq_mig_get_expiry(conn);
  if (mig < t) {
    t = mig;
  }
  for (size_t i = 0; conn->handshake_complete && i < conn->next; i++) {
    if (conn->ext[i].ops->get_expiry != NULL) {
      aq_tstamp e = conn->ext[i].ops->get_expiry(conn->ext[i].ctx, conn);
      if (e < t) {
        t = e;
      }
    }
  }
  return t;
}

int aq_conn_handle_expiry(aq_conn *conn, aq_tstamp ts) {
  if (conn->err != 0) {
    return conn->err;
  }
  if (conn->state == AQ_CS_CLOSED) {
    return 0;
  }
  if (conn->state >= AQ_CS_CLOSING) {
    if (ts >= conn->close_deadline) {
      conn->state = AQ_CS_CLOSED;
    }
    return 0;
  }
  conn->tx_stalled = 0;
  aq_qlog_set_time(conn, ts);
  if (ts >= idle_deadline(conn)) {
    conn->state = AQ_CS_CLOSED;
    aq_conn_notify_closed(conn, 0, 1, 0, AQ_QERR_NO_ERROR, NULL, 0, AQ_ERR_TIMEOUT);
    return 0;
  }
  if (!conn->handshake_complete && conn->set.handshake_timeout != 0 &&
      ts >= conn->created_ts + conn->set.handshake_timeout) {
    conn->state = AQ_CS_CLOSED;
    aq_conn_notify_closed(conn, 0, 1, 0, AQ_QERR_NO_ERROR, NULL, 0, AQ_ERR_TIMEOUT);
    return 0;
  }
  if (conn->handshake_complete && conn->set.keep_alive != 0 &&
      ts >= conn->last_send_ts + conn->set.keep_alive) {
    conn->sp[AQ_PN_SPACE_APP].ping_pending = 1;
  }
  aq_mig_handle_expiry(conn, ts);
  aq_recov_action act;
  memset(&act, 0, sizeof(act));
  int rc = aq_recov_handle_expiry(&conn->recov, ts, &act);
  if (rc != 0) {
    aq_conn_set_fatal(conn, rc);
    return rc;
  }
  if (act.probes > 0 && act.probe_space < AQ_PN_SPACE_COUNT) {
    aq_pnspace *s = &conn->sp[act.probe_space];
    s->probes += act.probes;
    /* Probe with the unacknowledged handshake data (RFC 9002 §6.2.4). */
    aq_txbuf_requeue_unacked(&s->ctx);
  }
  for (size_t i = 0; conn->handshake_complete && i < conn->next; i++) {
    if (conn->ext[i].ops->handle_expiry != NULL) {
      conn->ext[i].ops->handle_expiry(conn->ext[i].ctx, conn, ts);
    }
  }
  aq_strm_collect(conn);
  return 0;
}

aq_ssize aq_conn_write_pkt(aq_conn *conn, aq_path *path, uint8_t *buf, size_t cap, aq_tstamp ts) {
  if (conn->err != 0) {
    return conn->err;
  }
  if (conn->state == AQ_CS_CLOSED || conn->state == AQ_CS_DRAINING) {
    return 0;
  }
  if (!conn->is_server && conn->tls == NULL) {
    int rc = start_tls(conn, ts);
    if (rc != 0) {
      aq_conn_set_fatal(conn, rc);
      return rc;
    }
  }
  /* PATH_RESPONSE goes out on the path the challenge came from (§8.2.2). */
  for (unsigned i = 0; i < AQ_MAX_PATHS; i++) {
    if (i != conn->active_path && conn->paths[i].in_use && conn->paths[i].response_pending) {
      aq_ssize r = aq_conn_tx_path_response(conn, i, buf, cap, ts);
      if (r != 0) {
        if (r > 0) {
          *path = conn->paths[i].addr;
          conn->stats.bytes_sent += (uint64_t)r;
        }
        return r;
      }
    }
  }
  aq_ssize mr = aq_mig_write(conn, path, buf, cap, ts); /* a migration probe (aq_conn_mig.c) */
  if (mr != 0) {
    return mr;
  }
  *path = conn->paths[conn->active_path].addr;
  aq_ssize n = aq_conn_tx_build(conn, buf, cap, ts);
  if (n < 0) {
    if (aq_err_is_fatal((int)n)) {
      aq_conn_set_fatal(conn, (int)n);
    }
    return n;
  }
  if (n > 0) {
    conn->stats.bytes_sent += (uint64_t)n;
    conn->paths[conn->active_path].amp_sent += (uint64_t)n;
    if (conn->is_server && !conn->addr_validated) {
      conn->amp_sent += (uint64_t)n;
    }
    /* RFC 9001 §4.9.1: a client discards Initial keys once it sends a Handshake packet. */
    if (!conn->is_server && conn->sp[AQ_PN_SPACE_HANDSHAKE].has_tx &&
        !conn->sp[AQ_PN_SPACE_INITIAL].discarded &&
        aq_recov_next_pn(&conn->recov, AQ_PN_SPACE_HANDSHAKE) > 0) {
      int rc = discard_space(conn, AQ_PN_SPACE_INITIAL, ts);
      if (rc != 0) {
        return rc;
      }
    }
  }
  return n;
}

/* ============================================================ accessors */

void aq_conn_set_ep(aq_conn *conn, aq_ep *ep) {
  conn->ep = ep;
}
const aq_cid *aq_conn_scid(const aq_conn *conn) {
  return &conn->scid;
}
int aq_conn_is_initial_dcid(const aq_conn *conn, const aq_cid *cid) {
  return conn->is_server && !conn->handshake_complete &&
         (aq_cid_eq(cid, &conn->odcid) || (conn->got_retry && aq_cid_eq(cid, &conn->retry_scid)));
}

int aq_conn_set_retry(aq_conn *conn, const aq_cid *odcid) {
  if (!conn->is_server || conn->tls != NULL) {
    return AQ_ERR_STATE;
  }
  /* The Initial keys stay those of the DCID the client now uses (the Retry's SCID). */
  conn->retry_scid = conn->odcid;
  conn->got_retry = 1;
  conn->odcid = *odcid;
  conn->addr_validated = 1; /* the token proved the address (§8.1.2) */
  return 0;
}

const aq_cid *aq_conn_odcid(const aq_conn *conn) {
  return &conn->odcid;
}
int aq_conn_is_done(const aq_conn *conn) {
  return conn->state == AQ_CS_CLOSED;
}
int aq_conn_get_error(const aq_conn *conn) {
  return conn->err;
}
void aq_conn_set_app_data(aq_conn *conn, void *app_data) {
  conn->app_data = app_data;
}
void *aq_conn_get_app_data(const aq_conn *conn) {
  return conn->app_data;
}
int aq_conn_is_established(const aq_conn *conn) {
  return conn->state == AQ_CS_ESTABLISHED;
}
int aq_conn_is_closed(const aq_conn *conn) {
  return conn->state >= AQ_CS_CLOSING;
}
int aq_conn_is_server(const aq_conn *conn) {
  return conn->is_server;
}
const uint8_t *aq_conn_peer_spki(const aq_conn *conn, size_t *len) {
  *len = 0;
  return conn->tls != NULL ? aq_tls_get_peer_spki(conn->tls, len) : NULL;
}

const aq_path *aq_conn_get_path(const aq_conn *conn) {
  return &conn->paths[conn->active_path].addr;
}

void aq_conn_get_stats(const aq_conn *conn, aq_conn_stats *st) {
  *st = conn->stats;
  st->srtt = conn->recov.rtt.smoothed;
  st->min_rtt = conn->recov.rtt.min;
  st->cwnd = aq_cc_cwnd(&conn->cc);
  aq_ecn_fill_stats(conn, st);
}
