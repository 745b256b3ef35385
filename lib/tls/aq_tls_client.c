/*
 * aq_tls_client.c - the client side of the handshake (RFC 8446 §4): the
 * ClientHello (with PSK binder and 0-RTT secret when resuming), then
 * ServerHello/HelloRetryRequest, EncryptedExtensions, CertificateRequest,
 * the server's Finished and our final flight, and NewSessionTicket.
 * Handlers return 0 or an alert; the state table lives in aq_tls.c.
 */
#include <string.h>

#include "aq_ct.h"
#include "aq_mem.h"
#include "aq_tls_cert.h"
#include "aq_tls_int.h"

/* ================================================================ client */

/** Make fresh key shares for the first n groups (or the HRR group). */
static uint8_t client_make_shares(aq_tls *tls, const aq_tls_group *only) {
  size_t n = tls->cfg.nkey_shares == 0 ? 1 : tls->cfg.nkey_shares;
  if (n > AQ_TLS_MAX_KEY_SHARES) {
    n = AQ_TLS_MAX_KEY_SHARES;
  }
  if (n > tls->ngroups) {
    n = tls->ngroups;
  }
  if (only != NULL) {
    n = 1;
  }
  aq_memzero(tls->share, sizeof(tls->share));
  tls->nshares = 0;
  tls->pre_share = -1;
  for (size_t i = 0; i < n; i++) {
    const aq_tls_group *g = only != NULL ? only : tls->groups[i];
    const uint8_t *pre = tls->x25519_pre;
    if (aq_tls_group_keygen(g, tls->share[i].priv, tls->share[i].pub, &tls->x25519_pre,
                            tls->cb.rand, tls->ud) != 0) {
      return AQ_TLS_ALERT_INTERNAL_ERROR;
    }
    if (pre != NULL && tls->x25519_pre == NULL) {
      tls->pre_share = (int)i; /* its X25519 part is cfg.x25519_pre */
    }
    tls->share[i].group = g;
    tls->nshares++;
  }
  return 0;
}

/** Build and send a ClientHello (RFC 8446 §4.1.2). */
static uint8_t client_send_ch(aq_tls *tls) {
  aq_wbuf w;
  aq_wbuf_mark m;
  aq_wbuf_init(&w, tls->sbuf, tls->scap);
  aq_tls_ch_encode_head(&w, &m, tls->random, tls->suites, tls->nsuites);
  tls->ch_exts = aq_tls_ext_send_all(tls, &w, AQ_TLS_MSG_CH);
  aq_tls_msg_end(&w, &m);
  if (aq_wbuf_error(&w) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  uint8_t a;
  if (tls->psk_offered) {
    /* The binder is the last hlen bytes; it covers everything before the binders list. */
    size_t hlen = aq_hash_len(tls->psk_suite->hash), len = aq_wbuf_len(&w);
    if ((a = aq_tls_psk_binder(tls, w.begin + len - hlen, tls->psk_suite, tls->psk, w.begin,
                               len - hlen - 3)) != 0) {
      return a;
    }
  }
  if ((a = aq_tls_th_add_written(tls, &w, 0)) != 0 ||
      (a = aq_tls_emit(tls, AQ_EPOCH_INITIAL, w.begin, aq_wbuf_len(&w))) != 0) {
    return a;
  }
  if (tls->early_offered && !tls->hrr) {
    /* client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello) */
    uint8_t thash[AQ_HASH_MAX_LEN], ets[AQ_HASH_MAX_LEN];
    aq_tls_ks early;
    int i = aq_tls_hash_index(tls->psk_suite->hash);
    a = AQ_TLS_ALERT_INTERNAL_ERROR;
    if (aq_hash_peek(&tls->th[i], thash) == 0 &&
        aq_tls_ks_init(&early, tls->cfg.algs, tls->psk_suite->hash, tls->psk, tls->psk_len) == 0 &&
        aq_tls_ks_derive(&early, ets, "c e traffic", thash) == 0) {
      a = aq_tls_install_suite(tls, tls->psk_suite, AQ_EPOCH_0RTT, 1, ets);
    }
    aq_tls_ks_free(&early);
    aq_memzero(ets, sizeof(ets));
    return a;
  }
  return 0;
}

/** Client: take up cfg.session if it is usable (our suite, not expired); else full handshake. */
static void client_load_session(aq_tls *tls, aq_tstamp ts) {
  aq_tls_session s;
  const aq_tls_suite *suite = NULL;
  if (tls->cfg.session == NULL ||
      aq_tls_session_decode(&s, tls->cfg.session, tls->cfg.session_len, 1) != 0) {
    return;
  }
  for (size_t i = 0; i < tls->nsuites; i++) {
    if (tls->suites[i] == s.suite) {
      suite = aq_tls_suite_find(s.suite);
    }
  }
  if (suite == NULL || s.psk_len != aq_hash_len(suite->hash) || ts < s.ts ||
      (ts - s.ts) / AQ_SECONDS >= s.lifetime_s) {
    return;
  }
  tls->sess = s;
  tls->psk_suite = suite;
  memcpy(tls->psk, s.psk, s.psk_len);
  tls->psk_len = s.psk_len;
  /* §4.2.11.1: obfuscated_ticket_age = age in ms + ticket_age_add (mod 2^32). */
  tls->obf_age = (uint32_t)((ts - s.ts) / AQ_MILLISECONDS) + s.age_add;
  tls->psk_offered = 1;
  /* 0-RTT only in QUIC mode: over TLS records it would need EndOfEarlyData, which we omit. */
  tls->early_offered = tls->cfg.quic && tls->cfg.enable_early_data && s.max_early_data != 0;
}

/** Start the client (see header). */
int aq_tls_start(aq_tls *tls, aq_tstamp ts) {
  uint8_t a;
  if (tls->state == AQ_TLS_ST_FAILED) {
    return AQ_ERR_TLS_ALERT;
  }
  if (tls->cfg.is_server || tls->state != AQ_TLS_ST_C_START) {
    return AQ_ERR_STATE;
  }
  tls->now = ts;
  client_load_session(tls, ts);
  if (tls->cb.rand(tls->random, sizeof(tls->random), tls->ud) != 0) {
    a = AQ_TLS_ALERT_INTERNAL_ERROR;
  } else if ((a = client_make_shares(tls, NULL)) == 0) {
    a = client_send_ch(tls);
  }
  if (a != 0) {
    tls->alert = a;
    tls->state = AQ_TLS_ST_FAILED;
    return AQ_ERR_TLS_ALERT;
  }
  tls->state = AQ_TLS_ST_C_WAIT_SH;
  return 0;
}

/**
 * RFC 8446 §4.2: "Implementations MUST NOT send extension responses if the
 * remote endpoint did not send the corresponding extension requests" and a
 * client receiving one "MUST abort the handshake with an unsupported_extension alert".
 */
static uint8_t client_check_offered(const aq_tls *tls, const aq_tls_ext_list *l, int is_hrr) {
  for (size_t i = 0; i < l->n; i++) {
    int idx = aq_tls_ext_index(l->ext[i].type);
    if (is_hrr && l->ext[i].type == AQ_TLS_EXT_COOKIE) {
      continue; /* §4.2.2: a server may send a cookie unasked */
    }
    if (idx < 0 || (tls->ch_exts & (1u << idx)) == 0) {
      return AQ_TLS_ALERT_UNSUPPORTED_EXTENSION;
    }
  }
  return 0;
}

/** HelloRetryRequest (RFC 8446 §4.1.4). */
static uint8_t client_on_hrr(aq_tls *tls, const uint8_t *msg, size_t msglen,
                             const aq_tls_ext_rx *rx, const aq_tls_suite *suite) {
  const aq_tls_group *g = NULL;
  uint8_t a;
  /* "If a client receives a second HelloRetryRequest in the same connection ... it MUST abort
   * the handshake with an "unexpected_message" alert." */
  if (tls->hrr) {
    return AQ_TLS_ALERT_UNEXPECTED_MESSAGE;
  }
  /* "Upon receipt of this extension in a HelloRetryRequest, the client MUST verify that (1) the
   * selected_group field corresponds to a group which was provided in the "supported_groups"
   * extension in the original ClientHello and (2) the selected_group field does not correspond
   * to a group which was provided in the "key_share" extension in the original ClientHello." */
  if ((rx->seen & (1u << aq_tls_ext_index(AQ_TLS_EXT_KEY_SHARE))) == 0) {
    /* Only a cookie would change our ClientHello; we accept that too. */
    if (rx->cookie == NULL) {
      return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
    }
  } else {
    for (size_t i = 0; i < tls->ngroups; i++) {
      if (tls->groups[i]->id == rx->share_group) {
        g = tls->groups[i];
      }
    }
    if (g == NULL) {
      return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
    }
    for (size_t i = 0; i < tls->nshares; i++) {
      if (tls->share[i].group == g) {
        return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
      }
    }
  }
  /* Commit. */
  if (rx->cookie != NULL && (a = aq_tls_keep_copy(tls, &tls->cookie, &tls->cookie_len, rx->cookie,
                                                  rx->cookie_len)) != 0) {
    return a;
  }
  tls->suite = suite;
  tls->hrr = 1;
  tls->hrr_suite = suite->id;
  /* §4.1.2: ClientHello2 drops early_data; a PSK of another hash can no longer be used. */
  tls->early_offered = 0;
  if (tls->psk_offered && tls->psk_suite->hash != suite->hash) {
    tls->psk_offered = 0;
  }
  aq_tls_th_select(tls, suite->hash);
  if ((a = aq_tls_th_message_hash(tls)) != 0 || (a = aq_tls_th_add(tls, msg, msglen)) != 0) {
    return a;
  }
  if ((a = client_make_shares(tls, g != NULL ? g : tls->share[0].group)) != 0) {
    return a;
  }
  return client_send_ch(tls);
}

/** ServerHello or HelloRetryRequest (RFC 8446 §4.1.3). */
uint8_t aq_tls_client_on_sh(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                            size_t bodylen) {
  aq_tls_sh sh;
  aq_tls_ext_rx rx;
  uint8_t a = 0;
  int rv = aq_tls_sh_decode(&sh, body, bodylen);
  if (rv != 0) {
    return aq_tls_msg_alert(rv);
  }
  unsigned mbit = sh.is_hrr ? AQ_TLS_MSG_HRR : AQ_TLS_MSG_SH;
  if (aq_tls_ext_decode(&rx, &a, &sh.exts, mbit) != 0) {
    return a;
  }
  if ((a = client_check_offered(tls, &sh.exts, sh.is_hrr)) != 0 ||
      (a = aq_tls_ext_check_missing(tls, &rx, mbit)) != 0) {
    return a;
  }
  /* §4.2.1: a selected_version the client did not offer -> illegal_parameter. */
  if (rx.version != AQ_TLS_VERSION_13 || sh.legacy_version != AQ_TLS_LEGACY_VERSION) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  /* §4.1.3: a legacy_session_id_echo that does not match ours (empty) -> illegal_parameter;
   * "legacy_compression_method: A single byte which MUST have the value 0". */
  if (sh.session_id_len != 0 || sh.compression != 0) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  const aq_tls_suite *suite = NULL;
  for (size_t i = 0; i < tls->nsuites; i++) {
    if (tls->suites[i] == sh.suite) {
      suite = aq_tls_suite_find(sh.suite);
    }
  }
  /* "A client which receives a cipher suite that was not offered MUST abort the handshake";
   * after an HRR the ServerHello must name the same suite. */
  if (suite == NULL || (tls->hrr && sh.suite != tls->hrr_suite)) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if (sh.is_hrr) {
    return client_on_hrr(tls, msg, msglen, &rx, suite);
  }

  /* §4.2.8: the server's share must be for a group we sent a share for. */
  const aq_tls_share *share = NULL;
  for (size_t i = 0; i < tls->nshares; i++) {
    if (tls->share[i].group->id == rx.share_group) {
      share = &tls->share[i];
    }
  }
  if (share == NULL || rx.share_len != share->group->server_share_len) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if (tls->cfg.require_pq && !share->group->post_quantum) {
    return AQ_TLS_ALERT_INSUFFICIENT_SECURITY;
  }
  /* §4.2.11: the selected identity must be one we offered, with a PSK of the suite's hash. */
  int psk = (rx.seen & (1u << aq_tls_ext_index(AQ_TLS_EXT_PRE_SHARED_KEY))) != 0;
  if (psk && (rx.psk_selected != 0 || tls->psk_suite->hash != suite->hash)) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  uint8_t secret[AQ_TLS_GROUP_MAX_SECRET], thash[AQ_HASH_MAX_LEN];
  size_t secretlen = 0;
  void *pre_key = tls->pre_share >= 0 && share == &tls->share[tls->pre_share]
                      ? tls->cfg.x25519_pre_key
                      : NULL;
  if (aq_tls_group_finish(share->group, secret, &secretlen, share->priv, rx.share, pre_key) != 0) {
    aq_memzero(secret, sizeof(secret));
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER; /* e.g. an all-zero X25519 result, §7.4.2 */
  }
  /* Commit: suite, group, transcript, handshake secrets. */
  tls->suite = suite;
  tls->group = share->group;
  tls->psk_accepted = psk;
  aq_tls_th_select(tls, suite->hash);
  if ((a = aq_tls_th_add(tls, msg, msglen)) == 0 && (a = aq_tls_th_hash(tls, thash)) == 0) {
    if (aq_tls_ks_init(&tls->ks, tls->cfg.algs, suite->hash, psk ? tls->psk : NULL,
                       psk ? tls->psk_len : 0) != 0 ||
        aq_tls_ks_advance(&tls->ks, secret, secretlen) != 0 ||
        aq_tls_ks_derive_hs(&tls->ks, thash, tls->c_hs, tls->s_hs) != 0) {
      a = AQ_TLS_ALERT_INTERNAL_ERROR;
    }
  }
  aq_memzero(secret, sizeof(secret));
  aq_memzero(tls->share, sizeof(tls->share));
  tls->nshares = 0;
  if (a != 0 || (a = aq_tls_install(tls, AQ_EPOCH_HANDSHAKE, 0, tls->s_hs)) != 0 ||
      (a = aq_tls_install(tls, AQ_EPOCH_HANDSHAKE, 1, tls->c_hs)) != 0) {
    return a;
  }
  tls->state = AQ_TLS_ST_C_WAIT_EE;
  return 0;
}

/** EncryptedExtensions (RFC 8446 §4.3.1). */
uint8_t aq_tls_client_on_ee(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                            size_t bodylen) {
  aq_tls_ext_list l;
  aq_tls_ext_rx rx;
  uint8_t a = 0;
  int rv = aq_tls_ee_decode(&l, body, bodylen);
  if (rv != 0) {
    return aq_tls_msg_alert(rv);
  }
  if (aq_tls_ext_decode(&rx, &a, &l, AQ_TLS_MSG_EE) != 0) {
    return a;
  }
  if ((a = client_check_offered(tls, &l, 0)) != 0 ||
      (a = aq_tls_ext_check_missing(tls, &rx, AQ_TLS_MSG_EE)) != 0) {
    return a;
  }
  const char *alpn = NULL;
  /* RFC 9001 §8.1: "When using ALPN, endpoints MUST immediately close a connection ... with a
   * no_application_protocol TLS alert ... if an application protocol is not negotiated." */
  if (rx.alpn == NULL && tls->cfg.quic && tls->cfg.nalpn > 0) {
    return AQ_TLS_ALERT_NO_APPLICATION_PROTOCOL;
  }
  if (rx.alpn != NULL) {
    /* RFC 7301 §3.2: the server's choice must be one the client offered. */
    for (size_t i = 0; i < tls->cfg.nalpn; i++) {
      if (strlen(tls->cfg.alpn[i]) == rx.alpn_len &&
          memcmp(tls->cfg.alpn[i], rx.alpn, rx.alpn_len) == 0) {
        alpn = tls->cfg.alpn[i];
      }
    }
    if (alpn == NULL) {
      return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
    }
  }
  /* RFC 7250 §4.2: the server's pick must come from our lists; no extension means X.509. */
  uint8_t peer_type = AQ_TLS_CERTTYPE_X509, our_type = AQ_TLS_CERTTYPE_X509;
  if (rx.sct != NULL) {
    peer_type = rx.sct[0];
    if (!(peer_type == AQ_TLS_CERTTYPE_RPK ||
          (peer_type == AQ_TLS_CERTTYPE_X509 && aq_tls_x509_ok(tls)))) {
      return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
    }
  } else if (!aq_tls_x509_ok(tls)) {
    return AQ_TLS_ALERT_UNSUPPORTED_CERTIFICATE;
  }
  if (rx.cct != NULL) {
    our_type = rx.cct[0];
    const aq_tls_credential *cred = tls->cfg.cred;
    if (!((our_type == AQ_TLS_CERTTYPE_RPK && cred->spki != NULL) ||
          (our_type == AQ_TLS_CERTTYPE_X509 && cred->cert != NULL && aq_tls_x509_ok(tls)))) {
      return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
    }
  }
  if (rx.tp != NULL &&
      (a = aq_tls_keep_copy(tls, &tls->peer_tp, &tls->peer_tp_len, rx.tp, rx.tp_len)) != 0) {
    return a;
  }
  /* §4.2.10: early_data in EncryptedExtensions only answers an offer we made, with the PSK. */
  if (rx.early_data && !tls->psk_accepted) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if (tls->psk_accepted && (a = aq_tls_keep_copy(tls, &tls->peer_spki, &tls->peer_spki_len,
                                                 tls->sess.spki, tls->sess.spki_len)) != 0) {
    return a;
  }
  /* Commit. */
  tls->peer_authenticated = tls->psk_accepted && tls->sess.spki_len > 0;
  tls->early_accepted = rx.early_data;
  tls->peer_tp_seen = rx.tp != NULL;
  if (alpn != NULL) {
    memcpy(tls->alpn, alpn, rx.alpn_len);
    tls->alpn[rx.alpn_len] = '\0';
  }
  tls->peer_cert_type = peer_type;
  tls->our_cert_type = our_type;
  if ((a = aq_tls_th_add(tls, msg, msglen)) != 0) {
    return a;
  }
  /* A resumed handshake has no Certificate/CertificateVerify (§2.2). */
  tls->state = tls->psk_accepted ? AQ_TLS_ST_C_WAIT_FIN : AQ_TLS_ST_C_WAIT_CERT_CR;
  return 0;
}

/** CertificateRequest (RFC 8446 §4.3.2). */
uint8_t aq_tls_client_on_cr(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                            size_t bodylen) {
  aq_tls_cr cr;
  aq_tls_ext_rx rx;
  uint8_t a = 0;
  int rv = aq_tls_cr_decode(&cr, body, bodylen);
  if (rv != 0) {
    return aq_tls_msg_alert(rv);
  }
  /* "certificate_request_context ... SHALL be zero length unless used for the post-handshake
   * authentication exchanges" */
  if (cr.context_len != 0) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if (aq_tls_ext_decode(&rx, &a, &cr.exts, AQ_TLS_MSG_CR) != 0) {
    return a;
  }
  if ((a = aq_tls_ext_check_missing(tls, &rx, AQ_TLS_MSG_CR)) != 0) {
    return a;
  }
  tls->client_auth = 1;
  tls->can_sign = tls->cfg.cred != NULL &&
                  aq_tls_u16_list_has(rx.sigalgs, rx.sigalgs_len, tls->cfg.cred->sig_scheme);
  if ((a = aq_tls_th_add(tls, msg, msglen)) != 0) {
    return a;
  }
  tls->state = AQ_TLS_ST_C_WAIT_CERT;
  return 0;
}

/** Client: the server's Finished, then our flight (RFC 8446 §4.4.4, §4.4). */
uint8_t aq_tls_client_on_fin(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                             size_t bodylen) {
  uint8_t s_ap[AQ_HASH_MAX_LEN], a;
  aq_wbuf w;
  if ((a = aq_tls_check_finished(tls, body, bodylen, tls->s_hs)) != 0 ||
      (a = aq_tls_th_add(tls, msg, msglen)) != 0 ||
      (a = aq_tls_derive_app_secrets(tls, s_ap)) != 0) {
    aq_memzero(s_ap, sizeof(s_ap));
    return a;
  }
  aq_wbuf_init(&w, tls->sbuf, tls->scap);
  if (tls->client_auth) {
    a = aq_tls_write_cert_cv(tls, &w, !tls->can_sign);
  }
  if (a == 0) {
    a = aq_tls_write_finished(tls, &w, tls->c_hs);
  }
  if (a == 0) {
    a = aq_tls_emit(tls, AQ_EPOCH_HANDSHAKE, w.begin, aq_wbuf_len(&w));
  }
  if (a == 0) {
    a = aq_tls_install(tls, AQ_EPOCH_1RTT, 0, s_ap);
  }
  if (a == 0) {
    a = aq_tls_install(tls, AQ_EPOCH_1RTT, 1, tls->c_ap);
  }
  aq_memzero(s_ap, sizeof(s_ap));
  if (a == 0) {
    a = aq_tls_finish_handshake(tls);
  }
  if (a == 0) {
    tls->state = AQ_TLS_ST_C_DONE;
  }
  return a;
}

/**
 * NewSessionTicket after the handshake (RFC 8446 §4.6.1): derive the ticket's
 * PSK and hand the application an opaque session through cb.on_ticket.
 */
uint8_t aq_tls_client_on_nst(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                             size_t bodylen) {
  aq_tls_nst nst;
  aq_tls_ext_rx rx;
  uint8_t a = 0;
  int rv = aq_tls_nst_decode(&nst, body, bodylen);
  (void)msg;
  (void)msglen;
  if (rv != 0) {
    return aq_tls_msg_alert(rv);
  }
  if (aq_tls_ext_decode(&rx, &a, &nst.exts, AQ_TLS_MSG_NST) != 0) {
    return a;
  }
  /* RFC 9001 §4.6.1: "a max_early_data_size ... other than 0xffffffff" is a PROTOCOL_VIOLATION. */
  if (tls->cfg.quic && rx.early_data && rx.max_early_data != 0xffffffffu) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  /* "Servers MUST NOT use any value greater than 604800 seconds"; 0 = do not use it. */
  if (nst.lifetime > 604800u) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if (tls->cb.on_ticket == NULL || nst.lifetime == 0) {
    return 0;
  }
  aq_tls_session s;
  uint8_t psk[AQ_HASH_MAX_LEN];
  size_t hlen = aq_hash_len(tls->suite->hash);
  if (aq_tls_ks_ticket_psk(tls->cfg.algs, tls->suite->hash, psk, tls->res_master, nst.nonce,
                           nst.nonce_len) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  memset(&s, 0, sizeof(s));
  s.suite = tls->suite->id;
  s.ts = tls->now;
  s.lifetime_s = nst.lifetime;
  s.age_add = nst.age_add;
  s.max_early_data = rx.early_data ? rx.max_early_data : 0;
  s.psk = psk;
  s.psk_len = hlen;
  s.ticket = nst.ticket;
  s.ticket_len = nst.ticket_len;
  s.alpn = (const uint8_t *)tls->alpn;
  s.alpn_len = strlen(tls->alpn);
  s.spki = tls->peer_spki;
  s.spki_len = tls->peer_spki_len;
  size_t cap = 64 + nst.ticket_len + s.alpn_len + s.spki_len + hlen;
  uint8_t *buf = aq_mem_malloc(tls->mem, cap);
  if (buf == NULL) {
    aq_memzero(psk, sizeof(psk));
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  aq_wbuf w;
  aq_wbuf_init(&w, buf, cap);
  aq_tls_session_encode(&w, &s, 1);
  a = AQ_TLS_ALERT_INTERNAL_ERROR;
  if (aq_wbuf_error(&w) == 0 && tls->cb.on_ticket(tls->ud, buf, aq_wbuf_len(&w)) == 0) {
    a = 0;
  }
  aq_memzero(buf, cap);
  aq_mem_free(tls->mem, buf);
  aq_memzero(psk, sizeof(psk));
  return a;
}
