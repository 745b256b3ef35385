/*
 * aq_tls.c - the TLS 1.3 handshake engine for QUIC (RFC 8446, RFC 9001 §4).
 *
 * A state table maps (state, epoch, message type) to a handler; anything
 * else is unexpected_message.  Handlers decode with the pure codecs of
 * aq_tls_msg.c / aq_tls_ext.c, run every check, and only then commit state
 * (transcript, secrets, negotiated values).  A handler returns 0 or the alert
 * that ends the handshake; the alert is sticky.
 *
 * Client:  START -> WAIT_SH (-> HRR -> WAIT_SH) -> WAIT_EE -> WAIT_CERT_CR
 *          [-> WAIT_CERT] -> WAIT_CV -> WAIT_FIN -> DONE
 * Server:  WAIT_CH (-> HRR -> WAIT_CH2) -> [WAIT_CERT -> WAIT_CV] -> WAIT_FIN -> DONE
 *
 * Timers: none (QUIC retransmits CRYPTO data; the engine has no deadline).
 */
#include "aq_tls.h"

#include <string.h>

#include "aq_ct.h"
#include "aq_mem.h"
#include "aq_tls_cert.h"
#include "aq_tls_int.h"

typedef uint8_t (*tls_handler)(aq_tls *tls, const uint8_t *msg, size_t msglen,
                               const uint8_t *body, size_t bodylen);

static const aq_tls_suite suites[] = {
    {AQ_TLS_AES_128_GCM_SHA256, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256},
    {AQ_TLS_AES_256_GCM_SHA384, AQ_AEAD_AES_256_GCM, AQ_HASH_SHA384},
    {AQ_TLS_CHACHA20_POLY1305_SHA256, AQ_AEAD_CHACHA20_POLY1305, AQ_HASH_SHA256},
};

static const uint16_t default_groups[] = {AQ_TLS_GROUP_X25519};

/* RFC 8446 §4.4.3: 64 spaces, the context string, a zero byte, the transcript hash. */
static const char cv_ctx_server[] = "TLS 1.3, server CertificateVerify";
static const char cv_ctx_client[] = "TLS 1.3, client CertificateVerify";

/** Suite lookup (see header). */
const aq_tls_suite *aq_tls_suite_find(uint16_t id) {
  for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
    if (suites[i].id == id) {
      return &suites[i];
    }
  }
  return NULL;
}

/* ------------------------------------------------------------ transcript */

static int hash_index(aq_hash_alg alg) { return alg == AQ_HASH_SHA384 ? 1 : 0; }

/** Add a message to every live transcript hash. */
static uint8_t th_add(aq_tls *tls, const uint8_t *data, size_t len) {
  for (int i = 0; i < 2; i++) {
    if (tls->th_live[i] && aq_hash_update(&tls->th[i], data, len) != 0) {
      return AQ_TLS_ALERT_INTERNAL_ERROR;
    }
  }
  return 0;
}

/** The transcript hash under the negotiated suite. */
static uint8_t th_hash(aq_tls *tls, uint8_t *out) {
  int i = hash_index(tls->suite->hash);
  if (!tls->th_live[i] || aq_hash_peek(&tls->th[i], out) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  return 0;
}

/** Keep only the transcript of hash alg (the suite is now known). */
static void th_select(aq_tls *tls, aq_hash_alg alg) {
  int keep = hash_index(alg);
  for (int i = 0; i < 2; i++) {
    if (i != keep && tls->th_live[i]) {
      aq_hash_free(&tls->th[i]);
      tls->th_live[i] = 0;
    }
  }
}

/**
 * RFC 8446 §4.4.1: after a HelloRetryRequest, ClientHello1 is replaced by
 * message_hash(Hash(ClientHello1)).  The transcript must already hold CH1 only.
 */
static uint8_t th_replace_with_message_hash(aq_tls *tls) {
  uint8_t h[AQ_HASH_MAX_LEN], hdr[4];
  size_t hlen = aq_hash_len(tls->suite->hash);
  int i = hash_index(tls->suite->hash);
  uint8_t a = th_hash(tls, h);
  if (a != 0) {
    return a;
  }
  aq_hash_free(&tls->th[i]);
  tls->th_live[i] = 0;
  if (aq_hash_init(&tls->th[i], tls->suite->hash) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  tls->th_live[i] = 1;
  hdr[0] = AQ_TLS_HS_MESSAGE_HASH;
  hdr[1] = 0;
  hdr[2] = 0;
  hdr[3] = (uint8_t)hlen;
  if ((a = th_add(tls, hdr, 4)) != 0) {
    return a;
  }
  return th_add(tls, h, hlen);
}

/* ---------------------------------------------------------------- output */

static uint8_t emit(aq_tls *tls, aq_epoch epoch, const uint8_t *data, size_t len) {
  if (tls->cb.send(tls->ud, epoch, data, len) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  return 0;
}

static uint8_t install_suite(aq_tls *tls, const aq_tls_suite *suite, aq_epoch epoch, int is_write,
                             const uint8_t *secret) {
  if (tls->cb.set_secret(tls->ud, epoch, is_write, suite, secret, aq_hash_len(suite->hash)) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  return 0;
}

static uint8_t install(aq_tls *tls, aq_epoch epoch, int is_write, const uint8_t *secret) {
  return install_suite(tls, tls->suite, epoch, is_write, secret);
}

/**
 * PSK binder (RFC 8446 §4.2.11.2): the Finished computation keyed by
 * Derive-Secret(Early Secret, "res binder", "") over the transcript so far
 * plus the partial ClientHello (up to, not including, the binders list).
 */
static uint8_t psk_binder(aq_tls *tls, uint8_t *out, const aq_tls_suite *suite,
                          const uint8_t *psk, const uint8_t *partial, size_t partial_len) {
  aq_tls_ks early;
  aq_hash_ctx h;
  uint8_t binder_key[AQ_HASH_MAX_LEN], thash[AQ_HASH_MAX_LEN];
  size_t hlen = aq_hash_len(suite->hash);
  int i = hash_index(suite->hash);
  uint8_t a = AQ_TLS_ALERT_INTERNAL_ERROR;
  if (!tls->th_live[i] || aq_hash_dup(&h, &tls->th[i]) != 0) {
    return a;
  }
  if (aq_hash_update(&h, partial, partial_len) == 0 && aq_hash_peek(&h, thash) == 0 &&
      aq_tls_ks_init(&early, suite->hash, psk, hlen) == 0 &&
      aq_tls_ks_derive_empty(&early, binder_key, "res binder") == 0 &&
      aq_tls_ks_finished(suite->hash, out, binder_key, thash) == 0) {
    a = 0;
  }
  aq_hash_free(&h);
  aq_tls_ks_free(&early);
  aq_memzero(binder_key, sizeof(binder_key));
  return a;
}

/** Add the bytes written to w since offset `from` to the transcript. */
static uint8_t th_add_written(aq_tls *tls, const aq_wbuf *w, size_t from) {
  if (aq_wbuf_error(w) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  return th_add(tls, w->begin + from, aq_wbuf_len(w) - from);
}

/** The signed content of a CertificateVerify (RFC 8446 §4.4.3); returns its length. */
static size_t cv_content(uint8_t *out, const char *ctx, const uint8_t *thash, size_t hlen) {
  size_t n = strlen(ctx);
  memset(out, 0x20, 64);
  memcpy(out + 64, ctx, n);
  out[64 + n] = 0;
  memcpy(out + 65 + n, thash, hlen);
  return 65 + n + hlen;
}

/** Append our Certificate (of our_cert_type, or empty) and its CertificateVerify to w. */
static uint8_t write_cert_cv(aq_tls *tls, aq_wbuf *w, int empty) {
  const aq_tls_credential *cred = tls->cfg.cred;
  size_t from = aq_wbuf_len(w);
  uint8_t a;
  if (empty) {
    aq_tls_cert_encode(w, NULL, 0, NULL, 0);
    return th_add_written(tls, w, from);
  }
  if (tls->our_cert_type == AQ_TLS_CERTTYPE_RPK) {
    aq_tls_cert_encode(w, NULL, 0, cred->spki, cred->spkilen);
  } else {
    aq_tls_cert_encode(w, NULL, 0, cred->cert, cred->certlen);
  }
  if ((a = th_add_written(tls, w, from)) != 0) {
    return a;
  }
  uint8_t thash[AQ_HASH_MAX_LEN], content[160], sig[AQ_TLS_MAX_SIG_LEN];
  if ((a = th_hash(tls, thash)) != 0) {
    return a;
  }
  size_t clen = cv_content(content, tls->cfg.is_server ? cv_ctx_server : cv_ctx_client, thash,
                           aq_hash_len(tls->suite->hash));
  aq_ssize siglen = cred->sign(cred->sign_ctx, cred->sig_scheme, sig, sizeof(sig), content, clen);
  if (siglen <= 0 || (size_t)siglen > sizeof(sig)) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  from = aq_wbuf_len(w);
  aq_tls_cv_encode(w, cred->sig_scheme, sig, (size_t)siglen);
  return th_add_written(tls, w, from);
}

/** Append Finished (keyed by base) to w. */
static uint8_t write_finished(aq_tls *tls, aq_wbuf *w, const uint8_t *base) {
  uint8_t thash[AQ_HASH_MAX_LEN], vd[AQ_HASH_MAX_LEN];
  size_t from = aq_wbuf_len(w);
  uint8_t a = th_hash(tls, thash);
  if (a != 0) {
    return a;
  }
  if (aq_tls_ks_finished(tls->suite->hash, vd, base, thash) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  aq_tls_fin_encode(w, vd, aq_hash_len(tls->suite->hash));
  return th_add_written(tls, w, from);
}

/* ------------------------------------------------------- list membership */

/** Non-zero if the u16 list (wire bytes) contains v. */
static int u16_list_has(const uint8_t *list, size_t len, uint16_t v) {
  for (size_t i = 0; i + 1 < len; i += 2) {
    if ((((unsigned)list[i] << 8) | list[i + 1]) == v) {
      return 1;
    }
  }
  return 0;
}

static int x509_ok(const aq_tls *tls) { return tls->cfg.allow_x509 || !tls->cfg.offer_rpk; }

/** Copy a peer-supplied blob into *dst (replacing what was there). */
static uint8_t keep_copy(aq_tls *tls, uint8_t **dst, size_t *dstlen, const uint8_t *src,
                         size_t len) {
  uint8_t *p = aq_mem_malloc(tls->mem, len > 0 ? len : 1);
  if (p == NULL) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  if (len > 0) {
    memcpy(p, src, len);
  }
  aq_mem_free(tls->mem, *dst);
  *dst = p;
  *dstlen = len;
  return 0;
}

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
  for (size_t i = 0; i < n; i++) {
    const aq_tls_group *g = only != NULL ? only : tls->groups[i];
    if (g->keygen(tls->share[i].priv, tls->share[i].pub, tls->cb.rand, tls->ud) != 0) {
      return AQ_TLS_ALERT_INTERNAL_ERROR;
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
    if ((a = psk_binder(tls, w.begin + len - hlen, tls->psk_suite, tls->psk, w.begin,
                        len - hlen - 3)) != 0) {
      return a;
    }
  }
  if ((a = th_add_written(tls, &w, 0)) != 0 ||
      (a = emit(tls, AQ_EPOCH_INITIAL, w.begin, aq_wbuf_len(&w))) != 0) {
    return a;
  }
  if (tls->early_offered && !tls->hrr) {
    /* client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic", ClientHello) */
    uint8_t thash[AQ_HASH_MAX_LEN], ets[AQ_HASH_MAX_LEN];
    aq_tls_ks early;
    int i = hash_index(tls->psk_suite->hash);
    a = AQ_TLS_ALERT_INTERNAL_ERROR;
    if (aq_hash_peek(&tls->th[i], thash) == 0 &&
        aq_tls_ks_init(&early, tls->psk_suite->hash, tls->psk, tls->psk_len) == 0 &&
        aq_tls_ks_derive(&early, ets, "c e traffic", thash) == 0) {
      a = install_suite(tls, tls->psk_suite, AQ_EPOCH_0RTT, 1, ets);
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
  tls->early_offered = tls->cfg.enable_early_data && s.max_early_data != 0;
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
  if (rx->cookie != NULL &&
      (a = keep_copy(tls, &tls->cookie, &tls->cookie_len, rx->cookie, rx->cookie_len)) != 0) {
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
  th_select(tls, suite->hash);
  if ((a = th_replace_with_message_hash(tls)) != 0 || (a = th_add(tls, msg, msglen)) != 0) {
    return a;
  }
  if ((a = client_make_shares(tls, g != NULL ? g : tls->share[0].group)) != 0) {
    return a;
  }
  return client_send_ch(tls);
}

/** ServerHello or HelloRetryRequest (RFC 8446 §4.1.3). */
static uint8_t client_on_sh(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
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
  if (share->group->finish(secret, &secretlen, share->priv, rx.share) != 0) {
    aq_memzero(secret, sizeof(secret));
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER; /* e.g. an all-zero X25519 result, §7.4.2 */
  }
  /* Commit: suite, group, transcript, handshake secrets. */
  tls->suite = suite;
  tls->group = share->group;
  tls->psk_accepted = psk;
  th_select(tls, suite->hash);
  if ((a = th_add(tls, msg, msglen)) == 0 && (a = th_hash(tls, thash)) == 0) {
    if (aq_tls_ks_init(&tls->ks, suite->hash, psk ? tls->psk : NULL, psk ? tls->psk_len : 0) != 0 ||
        aq_tls_ks_advance(&tls->ks, secret, secretlen) != 0 ||
        aq_tls_ks_derive(&tls->ks, tls->c_hs, "c hs traffic", thash) != 0 ||
        aq_tls_ks_derive(&tls->ks, tls->s_hs, "s hs traffic", thash) != 0) {
      a = AQ_TLS_ALERT_INTERNAL_ERROR;
    }
  }
  aq_memzero(secret, sizeof(secret));
  aq_memzero(tls->share, sizeof(tls->share));
  tls->nshares = 0;
  if (a != 0 || (a = install(tls, AQ_EPOCH_HANDSHAKE, 0, tls->s_hs)) != 0 ||
      (a = install(tls, AQ_EPOCH_HANDSHAKE, 1, tls->c_hs)) != 0) {
    return a;
  }
  tls->state = AQ_TLS_ST_C_WAIT_EE;
  return 0;
}

/** EncryptedExtensions (RFC 8446 §4.3.1). */
static uint8_t client_on_ee(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
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
    if (!(peer_type == AQ_TLS_CERTTYPE_RPK || (peer_type == AQ_TLS_CERTTYPE_X509 && x509_ok(tls)))) {
      return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
    }
  } else if (!x509_ok(tls)) {
    return AQ_TLS_ALERT_UNSUPPORTED_CERTIFICATE;
  }
  if (rx.cct != NULL) {
    our_type = rx.cct[0];
    const aq_tls_credential *cred = tls->cfg.cred;
    if (!((our_type == AQ_TLS_CERTTYPE_RPK && cred->spki != NULL) ||
          (our_type == AQ_TLS_CERTTYPE_X509 && cred->cert != NULL && x509_ok(tls)))) {
      return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
    }
  }
  if (rx.tp != NULL && (a = keep_copy(tls, &tls->peer_tp, &tls->peer_tp_len, rx.tp, rx.tp_len)) != 0) {
    return a;
  }
  /* §4.2.10: early_data in EncryptedExtensions only answers an offer we made, with the PSK. */
  if (rx.early_data && !tls->psk_accepted) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if (tls->psk_accepted &&
      (a = keep_copy(tls, &tls->peer_spki, &tls->peer_spki_len, tls->sess.spki,
                     tls->sess.spki_len)) != 0) {
    return a;
  }
  /* Commit. */
  tls->early_accepted = rx.early_data;
  tls->peer_tp_seen = rx.tp != NULL;
  if (alpn != NULL) {
    memcpy(tls->alpn, alpn, rx.alpn_len);
    tls->alpn[rx.alpn_len] = '\0';
  }
  tls->peer_cert_type = peer_type;
  tls->our_cert_type = our_type;
  if ((a = th_add(tls, msg, msglen)) != 0) {
    return a;
  }
  /* A resumed handshake has no Certificate/CertificateVerify (§2.2). */
  tls->state = tls->psk_accepted ? AQ_TLS_ST_C_WAIT_FIN : AQ_TLS_ST_C_WAIT_CERT_CR;
  return 0;
}

/** CertificateRequest (RFC 8446 §4.3.2). */
static uint8_t client_on_cr(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
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
                  u16_list_has(rx.sigalgs, rx.sigalgs_len, tls->cfg.cred->sig_scheme);
  if ((a = th_add(tls, msg, msglen)) != 0) {
    return a;
  }
  tls->state = AQ_TLS_ST_C_WAIT_CERT;
  return 0;
}

/* ============================================================ both sides */

/** The peer's Certificate (RFC 8446 §4.4.2, RFC 7250 §3). */
static uint8_t on_cert(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                       size_t bodylen) {
  aq_tls_cert_msg c;
  uint8_t a;
  int rv = aq_tls_cert_decode(&c, body, bodylen);
  if (rv != 0) {
    return aq_tls_msg_alert(rv);
  }
  /* In the handshake the context is empty (we never send a non-empty one in CertificateRequest). */
  if (c.context_len != 0) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if (c.n == 0) {
    if (!tls->cfg.is_server) {
      /* §4.4.2.4: "If the server supplies an empty Certificate message, the client MUST abort
       * the handshake with a "decode_error" alert." */
      return AQ_TLS_ALERT_DECODE_ERROR;
    }
    /* "If the client does not send any certificates, the server MAY at its discretion either
     * continue the handshake without client authentication, or abort the handshake with a
     * "certificate_required" alert." */
    if (tls->cfg.require_client_auth) {
      return AQ_TLS_ALERT_CERTIFICATE_REQUIRED;
    }
    if ((a = th_add(tls, msg, msglen)) != 0) {
      return a;
    }
    tls->state = AQ_TLS_ST_S_WAIT_FIN;
    return 0;
  }
  const uint8_t *spki = c.entry[0].data, *cert = NULL;
  size_t spkilen = c.entry[0].len, certlen = 0;
  if (tls->peer_cert_type == AQ_TLS_CERTTYPE_X509) {
    if (!x509_ok(tls)) {
      return AQ_TLS_ALERT_UNSUPPORTED_CERTIFICATE;
    }
    cert = c.entry[0].data;
    certlen = c.entry[0].len;
    if (aq_x509_get_spki(&spki, &spkilen, cert, certlen) != 0) {
      return AQ_TLS_ALERT_BAD_CERTIFICATE;
    }
  } else {
    aq_key_type kt;
    const uint8_t *key;
    size_t keylen;
    /* RFC 7250 §3: a raw public key is a single entry holding a SubjectPublicKeyInfo. */
    if (c.n != 1) {
      return AQ_TLS_ALERT_DECODE_ERROR;
    }
    if (aq_spki_parse(&kt, &key, &keylen, spki, spkilen) != 0) {
      return AQ_TLS_ALERT_BAD_CERTIFICATE;
    }
  }
  if (tls->cb.verify_peer != NULL && tls->cb.verify_peer(tls->ud, spki, spkilen, cert, certlen) != 0) {
    return AQ_TLS_ALERT_BAD_CERTIFICATE;
  }
  if ((a = keep_copy(tls, &tls->peer_spki, &tls->peer_spki_len, spki, spkilen)) != 0 ||
      (a = th_add(tls, msg, msglen)) != 0) {
    return a;
  }
  tls->state = tls->cfg.is_server ? AQ_TLS_ST_S_WAIT_CV : AQ_TLS_ST_C_WAIT_CV;
  return 0;
}

/** The peer's CertificateVerify (RFC 8446 §4.4.3): the signature is always checked. */
static uint8_t on_cv(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                     size_t bodylen) {
  aq_tls_cv cv;
  uint8_t thash[AQ_HASH_MAX_LEN], content[160], a;
  int rv = aq_tls_cv_decode(&cv, body, bodylen);
  if (rv != 0) {
    return aq_tls_msg_alert(rv);
  }
  /* §4.4.3: the scheme must be one we offered in signature_algorithms. */
  if (!aq_tls_sigscheme_ok(cv.scheme)) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if ((a = th_hash(tls, thash)) != 0) {
    return a;
  }
  size_t clen = cv_content(content, tls->cfg.is_server ? cv_ctx_client : cv_ctx_server, thash,
                           aq_hash_len(tls->suite->hash));
  rv = aq_sig_verify_spki(cv.scheme, tls->peer_spki, tls->peer_spki_len, content, clen, cv.sig,
                          cv.siglen);
  if (rv != 0) {
    /* "If the verification fails, the receiver MUST terminate the handshake with a
     * "decrypt_error" alert." */
    return rv == AQ_ERR_UNSUPPORTED ? AQ_TLS_ALERT_ILLEGAL_PARAMETER : AQ_TLS_ALERT_DECRYPT_ERROR;
  }
  if ((a = th_add(tls, msg, msglen)) != 0) {
    return a;
  }
  tls->state = tls->cfg.is_server ? AQ_TLS_ST_S_WAIT_FIN : AQ_TLS_ST_C_WAIT_FIN;
  return 0;
}

/** Check a peer Finished against the key base (RFC 8446 §4.4.4). */
static uint8_t check_finished(aq_tls *tls, const uint8_t *body, size_t bodylen,
                              const uint8_t *base) {
  const uint8_t *vd;
  uint8_t thash[AQ_HASH_MAX_LEN], want[AQ_HASH_MAX_LEN], a;
  size_t hlen = aq_hash_len(tls->suite->hash);
  if (aq_tls_fin_decode(&vd, body, bodylen, hlen) != 0) {
    return AQ_TLS_ALERT_DECODE_ERROR;
  }
  if ((a = th_hash(tls, thash)) != 0) {
    return a;
  }
  if (aq_tls_ks_finished(tls->suite->hash, want, base, thash) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  /* "Recipients of Finished messages MUST verify that the contents are correct and if
   * incorrect MUST terminate the connection with a "decrypt_error" alert." */
  a = aq_ct_memeq(want, vd, hlen) ? 0 : AQ_TLS_ALERT_DECRYPT_ERROR;
  aq_memzero(want, sizeof(want));
  return a;
}

/** Master secret and application/exporter secrets over the transcript up to server Finished. */
static uint8_t derive_app_secrets(aq_tls *tls, uint8_t *s_ap) {
  uint8_t thash[AQ_HASH_MAX_LEN];
  uint8_t a = th_hash(tls, thash);
  if (a != 0) {
    return a;
  }
  if (aq_tls_ks_advance(&tls->ks, NULL, 0) != 0 ||
      aq_tls_ks_derive(&tls->ks, tls->c_ap, "c ap traffic", thash) != 0 ||
      aq_tls_ks_derive(&tls->ks, s_ap, "s ap traffic", thash) != 0 ||
      aq_tls_ks_derive(&tls->ks, tls->exporter, "exp master", thash) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  tls->have_app_secrets = 1;
  return 0;
}

/** resumption_master_secret over the transcript through client Finished; drop hs secrets. */
static uint8_t finish_handshake(aq_tls *tls) {
  uint8_t thash[AQ_HASH_MAX_LEN];
  uint8_t a = th_hash(tls, thash);
  if (a != 0) {
    return a;
  }
  if (aq_tls_ks_derive(&tls->ks, tls->res_master, "res master", thash) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  aq_memzero(tls->c_hs, sizeof(tls->c_hs));
  aq_memzero(tls->s_hs, sizeof(tls->s_hs));
  aq_memzero(tls->c_ap, sizeof(tls->c_ap));
  aq_tls_ks_free(&tls->ks);
  return 0;
}

/** Client: the server's Finished, then our flight (RFC 8446 §4.4.4, §4.4). */
static uint8_t client_on_fin(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                             size_t bodylen) {
  uint8_t s_ap[AQ_HASH_MAX_LEN], a;
  aq_wbuf w;
  if ((a = check_finished(tls, body, bodylen, tls->s_hs)) != 0 ||
      (a = th_add(tls, msg, msglen)) != 0 || (a = derive_app_secrets(tls, s_ap)) != 0) {
    aq_memzero(s_ap, sizeof(s_ap));
    return a;
  }
  aq_wbuf_init(&w, tls->sbuf, tls->scap);
  if (tls->client_auth) {
    a = write_cert_cv(tls, &w, !tls->can_sign);
  }
  if (a == 0) {
    a = write_finished(tls, &w, tls->c_hs);
  }
  if (a == 0) {
    a = emit(tls, AQ_EPOCH_HANDSHAKE, w.begin, aq_wbuf_len(&w));
  }
  if (a == 0) {
    a = install(tls, AQ_EPOCH_1RTT, 0, s_ap);
  }
  if (a == 0) {
    a = install(tls, AQ_EPOCH_1RTT, 1, tls->c_ap);
  }
  aq_memzero(s_ap, sizeof(s_ap));
  if (a == 0) {
    a = finish_handshake(tls);
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
static uint8_t client_on_nst(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
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
  if (aq_tls_ks_ticket_psk(tls->suite->hash, psk, tls->res_master, nst.nonce, nst.nonce_len) != 0) {
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

/* ================================================================ server */

/** Choose the suite: ours in preference order, if the client offered it. */
static const aq_tls_suite *server_pick_suite(const aq_tls *tls, const aq_tls_ch *ch) {
  for (size_t i = 0; i < tls->nsuites; i++) {
    if (u16_list_has(ch->suites, ch->suites_len, tls->suites[i])) {
      return aq_tls_suite_find(tls->suites[i]);
    }
  }
  return NULL;
}

/** Is group g allowed under require_pq? */
static int group_allowed(const aq_tls *tls, const aq_tls_group *g) {
  return !tls->cfg.require_pq || g->post_quantum;
}

/**
 * Walk the client's KeyShareEntry list: check it (§4.2.8: no duplicate groups,
 * each group in supported_groups, exact share sizes for groups we know) and
 * find the share for our most preferred group.  Returns 0 or an alert.
 */
static uint8_t server_pick_share(const aq_tls *tls, const aq_tls_ext_rx *rx,
                                 const aq_tls_group **group, const uint8_t **share,
                                 size_t *nentries) {
  aq_rbuf r;
  uint16_t seen[64];
  size_t nseen = 0;
  size_t best = SIZE_MAX;
  *group = NULL;
  *share = NULL;
  aq_rbuf_init(&r, rx->shares, rx->shares_len);
  while (aq_rbuf_left(&r) > 0) {
    uint16_t gid;
    aq_rbuf ke;
    if (aq_rbuf_u16(&r, &gid) != 0 || aq_rbuf_sub(&r, AQ_LEN_U16, &ke) != 0) {
      return AQ_TLS_ALERT_DECODE_ERROR;
    }
    for (size_t i = 0; i < nseen; i++) {
      if (seen[i] == gid) {
        /* "Clients MUST NOT offer multiple KeyShareEntry values for the same group." */
        return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
      }
    }
    if (nseen == sizeof(seen) / sizeof(seen[0])) {
      return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
    }
    seen[nseen++] = gid;
    /* "Clients MUST NOT offer any KeyShareEntry values for groups not listed in the client's
     * "supported_groups" extension." */
    if (!u16_list_has(rx->groups, rx->groups_len, gid)) {
      return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
    }
    for (size_t i = 0; i < tls->ngroups; i++) {
      const aq_tls_group *g = tls->groups[i];
      if (g->id != gid) {
        continue;
      }
      if (aq_rbuf_left(&ke) != g->client_share_len) {
        return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
      }
      if (i < best && group_allowed(tls, g)) {
        best = i;
        *group = g;
        *share = ke.p;
      }
    }
  }
  *nentries = nseen;
  return 0;
}

/** Send HelloRetryRequest for group g (RFC 8446 §4.1.4). */
static uint8_t server_send_hrr(aq_tls *tls, const uint8_t *msg, size_t msglen,
                               const aq_tls_ch *ch, const aq_tls_suite *suite,
                               const aq_tls_group *g) {
  aq_wbuf w;
  aq_wbuf_mark m;
  uint8_t a;
  tls->suite = suite;
  tls->hrr = 1;
  tls->hrr_suite = suite->id;
  tls->hrr_group = g->id;
  th_select(tls, suite->hash);
  if ((a = th_add(tls, msg, msglen)) != 0 || (a = th_replace_with_message_hash(tls)) != 0) {
    return a;
  }
  aq_wbuf_init(&w, tls->sbuf, tls->scap);
  aq_tls_sh_encode_head(&w, &m, aq_tls_hrr_random, ch->session_id, ch->session_id_len, suite->id);
  (void)aq_tls_ext_send_all(tls, &w, AQ_TLS_MSG_HRR);
  aq_tls_msg_end(&w, &m);
  if ((a = th_add_written(tls, &w, 0)) != 0) {
    return a;
  }
  tls->state = AQ_TLS_ST_S_WAIT_CH2;
  return emit(tls, AQ_EPOCH_INITIAL, w.begin, aq_wbuf_len(&w));
}

/** Negotiate certificate types (RFC 7250 §4.2) into *ours / *peers. */
static uint8_t server_pick_cert_types(aq_tls *tls, const aq_tls_ext_rx *rx, uint8_t *ours,
                                      uint8_t *peers) {
  const aq_tls_credential *cred = tls->cfg.cred;
  *ours = 0xff;
  if (rx->sct != NULL) {
    for (size_t i = 0; i < rx->sct_len && *ours == 0xff; i++) {
      if (rx->sct[i] == AQ_TLS_CERTTYPE_RPK && tls->cfg.offer_rpk && cred->spki != NULL) {
        *ours = AQ_TLS_CERTTYPE_RPK;
      } else if (rx->sct[i] == AQ_TLS_CERTTYPE_X509 && cred->cert != NULL && x509_ok(tls)) {
        *ours = AQ_TLS_CERTTYPE_X509;
      }
    }
  } else if (cred->cert != NULL) {
    *ours = AQ_TLS_CERTTYPE_X509;
  }
  if (*ours == 0xff) {
    return AQ_TLS_ALERT_UNSUPPORTED_CERTIFICATE;
  }
  *peers = AQ_TLS_CERTTYPE_X509;
  if (tls->cfg.request_client_auth && rx->cct != NULL) {
    *peers = 0xff;
    for (size_t i = 0; i < rx->cct_len && *peers == 0xff; i++) {
      if (rx->cct[i] == AQ_TLS_CERTTYPE_RPK && tls->cfg.offer_rpk) {
        *peers = AQ_TLS_CERTTYPE_RPK;
      } else if (rx->cct[i] == AQ_TLS_CERTTYPE_X509 && x509_ok(tls)) {
        *peers = AQ_TLS_CERTTYPE_X509;
      }
    }
    if (*peers == 0xff) {
      return AQ_TLS_ALERT_UNSUPPORTED_CERTIFICATE;
    }
  }
  return 0;
}

/** RFC 7301 §3.2: pick our most preferred protocol the client offered. */
static uint8_t server_pick_alpn(const aq_tls *tls, const aq_tls_ext_rx *rx, const char **out) {
  *out = NULL;
  for (size_t i = 0; i < tls->cfg.nalpn && rx->alpn != NULL && *out == NULL; i++) {
    size_t n = strlen(tls->cfg.alpn[i]);
    aq_rbuf r;
    aq_rbuf_init(&r, rx->alpn, rx->alpn_len);
    while (aq_rbuf_left(&r) > 0) {
      aq_rbuf name;
      if (aq_rbuf_sub(&r, AQ_LEN_U8, &name) != 0) {
        return AQ_TLS_ALERT_DECODE_ERROR;
      }
      if (aq_rbuf_left(&name) == n && memcmp(name.p, tls->cfg.alpn[i], n) == 0) {
        *out = tls->cfg.alpn[i];
        break;
      }
    }
  }
  /* "In the event that the server supports no protocols that the client advertises, then the
   * server SHALL respond with a fatal "no_application_protocol" alert." */
  if (*out == NULL && tls->cfg.alpn_required) {
    return AQ_TLS_ALERT_NO_APPLICATION_PROTOCOL;
  }
  return 0;
}

/** Server: ServerHello, then EE [CR] Certificate CertificateVerify Finished. */
static uint8_t server_send_flight(aq_tls *tls, const uint8_t *msg, size_t msglen,
                                  const aq_tls_ch *ch, const uint8_t *secret, size_t secretlen) {
  uint8_t thash[AQ_HASH_MAX_LEN], s_ap[AQ_HASH_MAX_LEN], a;
  aq_wbuf w;
  aq_wbuf_mark m;
  size_t from;
  if ((a = th_add(tls, msg, msglen)) != 0) {
    return a;
  }
  if (aq_tls_ks_init(&tls->ks, tls->suite->hash, tls->psk_accepted ? tls->psk : NULL,
                     tls->psk_accepted ? tls->psk_len : 0) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  if (tls->early_accepted) {
    /* client_early_traffic_secret over the ClientHello: our 0-RTT read key. */
    uint8_t ets[AQ_HASH_MAX_LEN];
    if ((a = th_hash(tls, thash)) == 0 && aq_tls_ks_derive(&tls->ks, ets, "c e traffic", thash) != 0) {
      a = AQ_TLS_ALERT_INTERNAL_ERROR;
    }
    if (a == 0) {
      a = install(tls, AQ_EPOCH_0RTT, 0, ets);
    }
    aq_memzero(ets, sizeof(ets));
    if (a != 0) {
      return a;
    }
  }
  if (tls->cb.rand(tls->random, sizeof(tls->random), tls->ud) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  aq_wbuf_init(&w, tls->sbuf, tls->scap);
  aq_tls_sh_encode_head(&w, &m, tls->random, ch->session_id, ch->session_id_len, tls->suite->id);
  (void)aq_tls_ext_send_all(tls, &w, AQ_TLS_MSG_SH);
  aq_tls_msg_end(&w, &m);
  if ((a = th_add_written(tls, &w, 0)) != 0 || (a = th_hash(tls, thash)) != 0 ||
      (a = emit(tls, AQ_EPOCH_INITIAL, w.begin, aq_wbuf_len(&w))) != 0) {
    return a;
  }
  if (aq_tls_ks_advance(&tls->ks, secret, secretlen) != 0 ||
      aq_tls_ks_derive(&tls->ks, tls->c_hs, "c hs traffic", thash) != 0 ||
      aq_tls_ks_derive(&tls->ks, tls->s_hs, "s hs traffic", thash) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  if ((a = install(tls, AQ_EPOCH_HANDSHAKE, 1, tls->s_hs)) != 0 ||
      (a = install(tls, AQ_EPOCH_HANDSHAKE, 0, tls->c_hs)) != 0) {
    return a;
  }
  /* EncryptedExtensions */
  aq_wbuf_init(&w, tls->sbuf, tls->scap);
  aq_tls_msg_begin(&w, AQ_TLS_HS_ENCRYPTED_EXTENSIONS, &m);
  (void)aq_tls_ext_send_all(tls, &w, AQ_TLS_MSG_EE);
  aq_tls_msg_end(&w, &m);
  if ((a = th_add_written(tls, &w, 0)) != 0) {
    return a;
  }
  if (tls->client_auth) {
    from = aq_wbuf_len(&w);
    aq_tls_msg_begin(&w, AQ_TLS_HS_CERTIFICATE_REQUEST, &m);
    aq_wbuf_u8(&w, 0); /* certificate_request_context: empty in the handshake */
    (void)aq_tls_ext_send_all(tls, &w, AQ_TLS_MSG_CR);
    aq_tls_msg_end(&w, &m);
    if ((a = th_add_written(tls, &w, from)) != 0) {
      return a;
    }
  }
  /* With a PSK the server does not authenticate with a certificate (§2.2). */
  if ((!tls->psk_accepted && (a = write_cert_cv(tls, &w, 0)) != 0) ||
      (a = write_finished(tls, &w, tls->s_hs)) != 0 ||
      (a = emit(tls, AQ_EPOCH_HANDSHAKE, w.begin, aq_wbuf_len(&w))) != 0) {
    return a;
  }
  if ((a = derive_app_secrets(tls, s_ap)) == 0) {
    a = install(tls, AQ_EPOCH_1RTT, 1, s_ap);
  }
  aq_memzero(s_ap, sizeof(s_ap));
  if (a != 0) {
    return a;
  }
  tls->state = tls->client_auth ? AQ_TLS_ST_S_WAIT_CERT : AQ_TLS_ST_S_WAIT_FIN;
  return 0;
}

/**
 * Server: try the client's first PSK identity (RFC 8446 §4.2.11).  A ticket
 * we cannot open, of another hash, or expired is ignored (full handshake);
 * a bad binder is fatal (decrypt_error).  On success tls->psk/psk_accepted,
 * the original peer key and the 0-RTT decision are set.
 */
static uint8_t server_try_psk(aq_tls *tls, const aq_tls_ch *ch, const aq_tls_ext_rx *rx,
                              const uint8_t *msg, const aq_tls_suite *suite, const char *alpn) {
  aq_rbuf ids, binders, id, b;
  uint32_t obf_age = 0;
  size_t nids = 0, nbinders = 0, hlen = aq_hash_len(suite->hash);
  const uint8_t *binder = NULL;
  uint8_t a;
  /* Count identities and binders: "the number of binders MUST match the number of identities". */
  aq_rbuf_init(&ids, rx->psk_ids, rx->psk_ids_len);
  while (aq_rbuf_left(&ids) > 0) {
    uint32_t age;
    if (aq_rbuf_sub(&ids, AQ_LEN_U16, &id) != 0 || aq_rbuf_u32(&ids, &age) != 0 ||
        aq_rbuf_left(&id) == 0) {
      return AQ_TLS_ALERT_DECODE_ERROR;
    }
    if (nids++ == 0) {
      b = id;
      obf_age = age;
    }
  }
  id = b;
  aq_rbuf_init(&binders, rx->psk_binders, rx->psk_binders_len);
  while (aq_rbuf_left(&binders) > 0) {
    aq_rbuf one;
    if (aq_rbuf_sub(&binders, AQ_LEN_U8, &one) != 0 || aq_rbuf_left(&one) < 32) {
      return AQ_TLS_ALERT_DECODE_ERROR;
    }
    if (nbinders++ == 0) {
      binder = aq_rbuf_left(&one) == hlen ? one.p : NULL;
    }
  }
  if (nids != nbinders) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if (tls->cfg.ticket_key == NULL || !rx->psk_dhe_ke || binder == NULL) {
    return 0;
  }
  size_t tlen = aq_rbuf_left(&id);
  uint8_t *pt = aq_mem_malloc(tls->mem, tlen);
  if (pt == NULL) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  aq_tls_session s;
  aq_ssize n = aq_tls_ticket_open(pt, tlen, tls->cfg.ticket_key, id.p, tlen);
  a = 0;
  if (n < 0 || aq_tls_session_decode(&s, pt, (size_t)n, 0) != 0 || s.suite == 0 ||
      aq_tls_suite_find(s.suite) == NULL || aq_tls_suite_find(s.suite)->hash != suite->hash ||
      s.psk_len != hlen || tls->now < s.ts || (tls->now - s.ts) / AQ_SECONDS >= s.lifetime_s) {
    goto out; /* not usable: full handshake */
  }
  uint8_t want[AQ_HASH_MAX_LEN];
  if ((a = psk_binder(tls, want, suite, s.psk, msg, AQ_TLS_HS_HEADER_LEN + ch->binders_off)) !=
      0) {
    goto out;
  }
  if (!aq_ct_memeq(want, binder, hlen)) {
    a = AQ_TLS_ALERT_DECRYPT_ERROR;
    goto out;
  }
  if ((a = keep_copy(tls, &tls->peer_spki, &tls->peer_spki_len, s.spki, s.spki_len)) != 0) {
    goto out;
  }
  memcpy(tls->psk, s.psk, hlen);
  tls->psk_len = hlen;
  tls->psk_accepted = 1;
  /* 0-RTT (§4.2.10): first ClientHello only, allowed by the ticket and by us, same ALPN, and a
   * ticket age within 10 s of what we expect (§8.3 freshness). */
  uint64_t server_age_ms = (tls->now - s.ts) / AQ_MILLISECONDS;
  uint32_t client_age_ms = obf_age - s.age_add;
  uint64_t skew = server_age_ms > client_age_ms ? server_age_ms - client_age_ms
                                                : client_age_ms - server_age_ms;
  size_t alpn_len = alpn != NULL ? strlen(alpn) : 0;
  tls->early_accepted = rx->early_data && !tls->hrr && tls->cfg.accept_early_data &&
                        s.max_early_data != 0 && skew <= 10000 && alpn_len == s.alpn_len &&
                        (alpn_len == 0 || memcmp(alpn, s.alpn, alpn_len) == 0);
out:
  aq_memzero(pt, tlen);
  aq_mem_free(tls->mem, pt);
  return a;
}

/** ClientHello (RFC 8446 §4.1.2), first or after our HelloRetryRequest. */
static uint8_t server_on_ch(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                            size_t bodylen) {
  aq_tls_ch ch;
  aq_tls_ext_rx rx;
  uint8_t a = 0;
  int rv = aq_tls_ch_decode(&ch, body, bodylen);
  if (rv != 0) {
    return aq_tls_msg_alert(rv);
  }
  if (aq_tls_ext_decode(&rx, &a, &ch.exts, AQ_TLS_MSG_CH) != 0) {
    return a;
  }
  /* §4.2.1: a ClientHello without 0x0304 in supported_versions is an older TLS. */
  if (!rx.tls13_offered) {
    return AQ_TLS_ALERT_PROTOCOL_VERSION;
  }
  /* §4.1.2: "For every TLS 1.3 ClientHello, this vector MUST contain exactly one byte, set to
   * zero ... the server MUST abort the handshake with an "illegal_parameter" alert." */
  if (ch.compression_len != 1 || ch.compression[0] != 0) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  /* RFC 9001 §8.4: a non-empty legacy_session_id in QUIC is a protocol violation. */
  if (tls->cfg.quic && ch.session_id_len != 0) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if ((a = aq_tls_ext_check_missing(tls, &rx, AQ_TLS_MSG_CH)) != 0) {
    return a;
  }
  /* §9.2: key_share requires supported_groups. */
  if (rx.groups == NULL) {
    return AQ_TLS_ALERT_MISSING_EXTENSION;
  }
  const aq_tls_suite *suite = server_pick_suite(tls, &ch);
  if (suite == NULL) {
    return AQ_TLS_ALERT_HANDSHAKE_FAILURE;
  }
  /* §4.1.4: the second ClientHello must be consistent with our HelloRetryRequest. */
  if (tls->hrr && suite->id != tls->hrr_suite) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  const aq_tls_group *g;
  const uint8_t *share;
  size_t nentries = 0;
  if ((a = server_pick_share(tls, &rx, &g, &share, &nentries)) != 0) {
    return a;
  }
  if (tls->hrr && (g == NULL || g->id != tls->hrr_group || nentries != 1)) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  const aq_tls_group *retry = NULL;
  if (g == NULL) {
    for (size_t i = 0; i < tls->ngroups && retry == NULL; i++) {
      if (group_allowed(tls, tls->groups[i]) &&
          u16_list_has(rx.groups, rx.groups_len, tls->groups[i]->id)) {
        retry = tls->groups[i];
      }
    }
    if (retry == NULL) {
      /* "If the server is unable to negotiate a supported set of parameters ... it MUST abort
       * the handshake with either a "handshake_failure" or "insufficient_security"". */
      return tls->cfg.require_pq ? AQ_TLS_ALERT_INSUFFICIENT_SECURITY
                                 : AQ_TLS_ALERT_HANDSHAKE_FAILURE;
    }
  }
  if (tls->cfg.cred == NULL || tls->cfg.cred->sign == NULL) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  /* §4.4.2.2: the certificate must be signable with a scheme the client offered. */
  if (!u16_list_has(rx.sigalgs, rx.sigalgs_len, tls->cfg.cred->sig_scheme)) {
    return AQ_TLS_ALERT_HANDSHAKE_FAILURE;
  }
  uint8_t our_type, peer_type;
  if ((a = server_pick_cert_types(tls, &rx, &our_type, &peer_type)) != 0) {
    return a;
  }
  const char *alpn;
  if ((a = server_pick_alpn(tls, &rx, &alpn)) != 0) {
    return a;
  }
  if (rx.sni != NULL) {
    if (rx.sni_len > AQ_TLS_MAX_SNI_LEN || memchr(rx.sni, 0, rx.sni_len) != NULL) {
      return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
    }
  }
  /* §4.2.9: "If clients offer "pre_shared_key" without a "psk_key_exchange_modes" extension,
   * servers MUST abort the handshake." */
  if (rx.psk_ids != NULL && (rx.seen & (1u << aq_tls_ext_index(AQ_TLS_EXT_PSK_KEY_EXCHANGE_MODES))) == 0) {
    return AQ_TLS_ALERT_MISSING_EXTENSION;
  }
  /* §4.2.10: "A client MUST NOT include the "early_data" extension in its followup ClientHello." */
  if (tls->hrr && rx.early_data) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if (retry != NULL) {
    return server_send_hrr(tls, msg, msglen, &ch, suite, retry);
  }
  th_select(tls, suite->hash);
  if (rx.psk_ids != NULL && (a = server_try_psk(tls, &ch, &rx, msg, suite, alpn)) != 0) {
    return a;
  }
  uint8_t secret[AQ_TLS_GROUP_MAX_SECRET];
  size_t secretlen = 0;
  if (g->exchange(tls->srv_share, secret, &secretlen, share, tls->cb.rand, tls->ud) != 0) {
    aq_memzero(secret, sizeof(secret));
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if (rx.tp != NULL &&
      (a = keep_copy(tls, &tls->peer_tp, &tls->peer_tp_len, rx.tp, rx.tp_len)) != 0) {
    aq_memzero(secret, sizeof(secret));
    return a;
  }
  /* Commit the negotiated parameters. */
  tls->peer_tp_seen = rx.tp != NULL;
  tls->suite = suite;
  tls->group = g;
  tls->srv_share_len = g->server_share_len;
  tls->our_cert_type = our_type;
  tls->peer_cert_type = peer_type;
  tls->sct_negotiated = rx.sct != NULL;
  tls->client_auth = tls->cfg.request_client_auth && !tls->psk_accepted;
  tls->cct_negotiated = tls->client_auth && rx.cct != NULL;
  if (alpn != NULL) {
    memcpy(tls->alpn, alpn, strlen(alpn) + 1);
  }
  if (rx.sni != NULL) {
    memcpy(tls->sni, rx.sni, rx.sni_len);
    tls->sni[rx.sni_len] = '\0';
  }
  th_select(tls, suite->hash);
  a = server_send_flight(tls, msg, msglen, &ch, secret, secretlen);
  aq_memzero(secret, sizeof(secret));
  return a;
}

/**
 * Server: issue one NewSessionTicket at 1-RTT (RFC 8446 §4.6.1): the
 * resumption state sealed under cfg.ticket_key; max_early_data 0xffffffff
 * when we accept 0-RTT (RFC 9001 §4.6.1).
 */
static uint8_t server_send_ticket(aq_tls *tls) {
  static const uint8_t nonce[1] = {0};
  uint8_t psk[AQ_HASH_MAX_LEN], rnd[16];
  size_t hlen = aq_hash_len(tls->suite->hash);
  aq_tls_session s;
  uint8_t a = AQ_TLS_ALERT_INTERNAL_ERROR;
  if (tls->cb.rand(rnd, sizeof(rnd), tls->ud) != 0 ||
      aq_tls_ks_ticket_psk(tls->suite->hash, psk, tls->res_master, nonce, sizeof(nonce)) != 0) {
    return a;
  }
  memset(&s, 0, sizeof(s));
  s.suite = tls->suite->id;
  s.ts = tls->now;
  s.lifetime_s = tls->cfg.ticket_lifetime_s == 0 ? 86400 : tls->cfg.ticket_lifetime_s;
  if (s.lifetime_s > 604800) {
    s.lifetime_s = 604800;
  }
  s.age_add = ((uint32_t)rnd[12] << 24) | ((uint32_t)rnd[13] << 16) | ((uint32_t)rnd[14] << 8) |
              rnd[15];
  s.max_early_data = tls->cfg.accept_early_data ? 0xffffffffu : 0;
  s.psk = psk;
  s.psk_len = hlen;
  s.alpn = (const uint8_t *)tls->alpn;
  s.alpn_len = strlen(tls->alpn);
  s.spki = tls->peer_spki;
  s.spki_len = tls->peer_spki_len;
  size_t cap = 64 + s.alpn_len + s.spki_len + hlen;
  uint8_t *pt = aq_mem_malloc(tls->mem, 2 * cap + AQ_TLS_TICKET_OVERHEAD);
  if (pt == NULL) {
    aq_memzero(psk, sizeof(psk));
    return a;
  }
  uint8_t *ticket = pt + cap;
  aq_wbuf w;
  aq_wbuf_init(&w, pt, cap);
  aq_tls_session_encode(&w, &s, 0);
  if (aq_wbuf_error(&w) == 0) {
    aq_ssize n = aq_tls_ticket_seal(ticket, cap + AQ_TLS_TICKET_OVERHEAD, tls->cfg.ticket_key, rnd,
                                    pt, aq_wbuf_len(&w));
    if (n > 0 && (size_t)n + 64 <= tls->scap) {
      aq_wbuf_init(&w, tls->sbuf, tls->scap);
      aq_tls_nst_encode(&w, s.lifetime_s, s.age_add, nonce, sizeof(nonce), ticket, (size_t)n,
                        s.max_early_data);
      if (aq_wbuf_error(&w) == 0) {
        a = emit(tls, AQ_EPOCH_1RTT, w.begin, aq_wbuf_len(&w));
      }
    }
  }
  aq_memzero(pt, 2 * cap + AQ_TLS_TICKET_OVERHEAD);
  aq_mem_free(tls->mem, pt);
  aq_memzero(psk, sizeof(psk));
  return a;
}

/** Server: the client's Finished (RFC 8446 §4.4.4). */
static uint8_t server_on_fin(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                             size_t bodylen) {
  uint8_t a;
  if ((a = check_finished(tls, body, bodylen, tls->c_hs)) != 0 ||
      (a = th_add(tls, msg, msglen)) != 0 || (a = install(tls, AQ_EPOCH_1RTT, 0, tls->c_ap)) != 0 ||
      (a = finish_handshake(tls)) != 0) {
    return a;
  }
  tls->state = AQ_TLS_ST_S_DONE;
  if (tls->cfg.ticket_key != NULL) {
    return server_send_ticket(tls);
  }
  return 0;
}

/* ============================================================ state table */

static const struct {
  aq_tls_state state;
  aq_epoch epoch;
  uint8_t type;
  tls_handler fn;
} state_table[] = {
    {AQ_TLS_ST_C_WAIT_SH, AQ_EPOCH_INITIAL, AQ_TLS_HS_SERVER_HELLO, client_on_sh},
    {AQ_TLS_ST_C_WAIT_EE, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_ENCRYPTED_EXTENSIONS, client_on_ee},
    {AQ_TLS_ST_C_WAIT_CERT_CR, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_CERTIFICATE_REQUEST, client_on_cr},
    {AQ_TLS_ST_C_WAIT_CERT_CR, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_CERTIFICATE, on_cert},
    {AQ_TLS_ST_C_WAIT_CERT, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_CERTIFICATE, on_cert},
    {AQ_TLS_ST_C_WAIT_CV, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_CERTIFICATE_VERIFY, on_cv},
    {AQ_TLS_ST_C_WAIT_FIN, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_FINISHED, client_on_fin},
    {AQ_TLS_ST_C_DONE, AQ_EPOCH_1RTT, AQ_TLS_HS_NEW_SESSION_TICKET, client_on_nst},
    {AQ_TLS_ST_S_WAIT_CH, AQ_EPOCH_INITIAL, AQ_TLS_HS_CLIENT_HELLO, server_on_ch},
    {AQ_TLS_ST_S_WAIT_CH2, AQ_EPOCH_INITIAL, AQ_TLS_HS_CLIENT_HELLO, server_on_ch},
    {AQ_TLS_ST_S_WAIT_CERT, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_CERTIFICATE, on_cert},
    {AQ_TLS_ST_S_WAIT_CV, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_CERTIFICATE_VERIFY, on_cv},
    {AQ_TLS_ST_S_WAIT_FIN, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_FINISHED, server_on_fin},
};

/** Dispatch one complete message: a (state, type) pair not in the table is unexpected. */
static uint8_t handle_message(aq_tls *tls, aq_epoch epoch, uint8_t type, const uint8_t *msg,
                              size_t msglen) {
  for (size_t i = 0; i < sizeof(state_table) / sizeof(state_table[0]); i++) {
    if (state_table[i].state == tls->state && state_table[i].type == type) {
      /* RFC 9001 §4.1.3: handshake messages must arrive at their own encryption level. */
      if (state_table[i].epoch != epoch) {
        return AQ_TLS_ALERT_UNEXPECTED_MESSAGE;
      }
      return state_table[i].fn(tls, msg, msglen, msg + AQ_TLS_HS_HEADER_LEN,
                               msglen - AQ_TLS_HS_HEADER_LEN);
    }
  }
  return AQ_TLS_ALERT_UNEXPECTED_MESSAGE;
}

static int fail(aq_tls *tls, uint8_t alert) {
  tls->alert = alert;
  tls->state = AQ_TLS_ST_FAILED;
  return AQ_ERR_TLS_ALERT;
}

/** Feed handshake bytes (see header). */
int aq_tls_recv(aq_tls *tls, aq_epoch epoch, const uint8_t *data, size_t len, aq_tstamp ts) {
  tls->now = ts;
  if (tls->state == AQ_TLS_ST_FAILED) {
    return AQ_ERR_TLS_ALERT;
  }
  if ((unsigned)epoch >= AQ_EPOCH_COUNT) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (len == 0) {
    return 0;
  }
  /* RFC 8446 §5.1 / RFC 9001 §4.1.3: a message may not span a key change. */
  if (tls->rlen > 0 && epoch != tls->repoch) {
    return fail(tls, AQ_TLS_ALERT_UNEXPECTED_MESSAGE);
  }
  /* Never buffer more than a few maximal messages (the header check below refines this). */
  if (len > 4 * (AQ_TLS_MAX_MSG_LEN + AQ_TLS_HS_HEADER_LEN) - tls->rlen) {
    return fail(tls, AQ_TLS_ALERT_DECODE_ERROR);
  }
  if (tls->rlen + len > tls->rcap) {
    size_t cap = tls->rcap == 0 ? 4096 : tls->rcap;
    while (cap < tls->rlen + len) {
      cap *= 2;
    }
    uint8_t *nb = aq_mem_realloc(tls->mem, tls->rbuf, cap);
    if (nb == NULL) {
      return fail(tls, AQ_TLS_ALERT_INTERNAL_ERROR);
    }
    tls->rbuf = nb;
    tls->rcap = cap;
  }
  memcpy(tls->rbuf + tls->rlen, data, len);
  tls->rlen += len;
  tls->repoch = epoch;

  size_t off = 0;
  while (tls->rlen - off >= AQ_TLS_HS_HEADER_LEN) {
    const uint8_t *p = tls->rbuf + off;
    size_t bodylen = ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
    if (bodylen > AQ_TLS_MAX_MSG_LEN) {
      return fail(tls, AQ_TLS_ALERT_DECODE_ERROR);
    }
    if (tls->rlen - off < AQ_TLS_HS_HEADER_LEN + bodylen) {
      break;
    }
    uint8_t a = handle_message(tls, epoch, p[0], p, AQ_TLS_HS_HEADER_LEN + bodylen);
    if (a != 0) {
      return fail(tls, a);
    }
    off += AQ_TLS_HS_HEADER_LEN + bodylen;
  }
  memmove(tls->rbuf, tls->rbuf + off, tls->rlen - off);
  tls->rlen -= off;
  return 0;
}

/* ======================================================== object & getters */

/** Create an engine (see header). */
aq_tls *aq_tls_new(const aq_tls_config *cfg, const aq_tls_callbacks *cb, void *user_data,
                   const aq_mem *mem) {
  if (mem == NULL) {
    mem = aq_mem_default();
  }
  aq_tls *tls = aq_mem_calloc(mem, 1, sizeof(*tls));
  if (tls == NULL) {
    return NULL;
  }
  tls->cfg = *cfg;
  tls->cb = *cb;
  tls->ud = user_data;
  tls->mem = mem;
  tls->state = cfg->is_server ? AQ_TLS_ST_S_WAIT_CH : AQ_TLS_ST_C_START;
  if (cfg->suites == NULL) {
    for (size_t i = 0; i < 3; i++) {
      tls->suites[tls->nsuites++] = suites[i].id;
    }
  } else {
    for (size_t i = 0; i < cfg->nsuites && tls->nsuites < 3; i++) {
      if (aq_tls_suite_find(cfg->suites[i]) != NULL) {
        tls->suites[tls->nsuites++] = cfg->suites[i];
      }
    }
  }
  const uint16_t *g = cfg->groups != NULL ? cfg->groups : default_groups;
  size_t ng = cfg->groups != NULL ? cfg->ngroups : sizeof(default_groups) / sizeof(default_groups[0]);
  for (size_t i = 0; i < ng && tls->ngroups < AQ_TLS_MAX_GROUPS; i++) {
    const aq_tls_group *d = aq_tls_group_find(g[i]);
    if (d != NULL) {
      tls->groups[tls->ngroups++] = d;
    }
  }
  size_t scap = 8192 + 2 * AQ_TLS_GROUP_MAX_SHARE + AQ_TLS_MAX_SIG_LEN + cfg->transport_params_len;
  if (cfg->cred != NULL) {
    scap += cfg->cred->certlen + cfg->cred->spkilen;
  }
  for (size_t i = 0; i < cfg->nalpn; i++) {
    scap += strlen(cfg->alpn[i]) + 1;
  }
  if (cfg->server_name != NULL) {
    scap += strlen(cfg->server_name);
  }
  tls->sbuf = aq_mem_malloc(mem, scap);
  tls->scap = scap;
  int ok = tls->sbuf != NULL && aq_hash_init(&tls->th[0], AQ_HASH_SHA256) == 0;
  tls->th_live[0] = ok;
  ok = ok && aq_hash_init(&tls->th[1], AQ_HASH_SHA384) == 0;
  tls->th_live[1] = ok;
  if (!ok || tls->nsuites == 0 || tls->ngroups == 0 || cb->rand == NULL || cb->send == NULL ||
      cb->set_secret == NULL) {
    aq_tls_del(tls);
    return NULL;
  }
  return tls;
}

/** Free an engine, zeroing every secret (see header). */
void aq_tls_del(aq_tls *tls) {
  if (tls == NULL) {
    return;
  }
  const aq_mem *mem = tls->mem;
  for (int i = 0; i < 2; i++) {
    if (tls->th_live[i]) {
      aq_hash_free(&tls->th[i]);
    }
  }
  aq_mem_free(mem, tls->rbuf);
  if (tls->sbuf != NULL) {
    aq_memzero(tls->sbuf, tls->scap);
  }
  aq_mem_free(mem, tls->sbuf);
  aq_mem_free(mem, tls->peer_tp);
  aq_mem_free(mem, tls->peer_spki);
  aq_mem_free(mem, tls->cookie);
  aq_memzero(tls, sizeof(*tls));
  aq_mem_free(mem, tls);
}

int aq_tls_handshake_done(const aq_tls *tls) {
  return tls->state == AQ_TLS_ST_C_DONE || tls->state == AQ_TLS_ST_S_DONE;
}

uint8_t aq_tls_alert(const aq_tls *tls) { return tls->alert; }

/* Getters: see aq_tls.h. */
const aq_tls_suite *aq_tls_get_suite(const aq_tls *tls) { return tls->suite; }

uint16_t aq_tls_get_group(const aq_tls *tls) { return tls->group != NULL ? tls->group->id : 0; }

const char *aq_tls_get_alpn(const aq_tls *tls) { return tls->alpn[0] != '\0' ? tls->alpn : NULL; }

const uint8_t *aq_tls_get_peer_transport_params(const aq_tls *tls, size_t *len) {
  *len = tls->peer_tp_len;
  return tls->peer_tp_seen ? tls->peer_tp : NULL;
}

const char *aq_tls_get_server_name(const aq_tls *tls) {
  return tls->sni[0] != '\0' ? tls->sni : NULL;
}

int aq_tls_early_data_accepted(const aq_tls *tls) { return tls->early_accepted; }

int aq_tls_resumed(const aq_tls *tls) { return tls->psk_accepted; }

const uint8_t *aq_tls_get_peer_spki(const aq_tls *tls, size_t *len) {
  *len = tls->peer_spki_len;
  return tls->peer_spki;
}

int aq_tls_export(const aq_tls *tls, uint8_t *out, size_t outlen, const char *label,
                  const uint8_t *context, size_t context_len) {
  if (!aq_tls_handshake_done(tls)) {
    return AQ_ERR_STATE;
  }
  return aq_tls_ks_export(tls->suite->hash, out, outlen, tls->exporter, label, context,
                          context_len);
}
