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
 * This file holds the state table, the byte-stream reassembly, the shared
 * helpers (transcript, output, Certificate/CertificateVerify/Finished) and
 * the object; the client and server handlers live in aq_tls_client.c and
 * aq_tls_server.c.
 *
 * Timers: none (QUIC retransmits CRYPTO data; the engine has no deadline).
 */
#include "aq_tls.h"

#include <string.h>

#include "aq_ct.h"
#include "aq_mem.h"
#include "aq_tls_cert.h"
#include "aq_tls_int.h"

typedef uint8_t (*tls_handler)(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                               size_t bodylen);

static const aq_tls_suite suites[] = {
    {AQ_TLS_AES_128_GCM_SHA256, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256},
    {AQ_TLS_AES_256_GCM_SHA384, AQ_AEAD_AES_256_GCM, AQ_HASH_SHA384},
    {AQ_TLS_CHACHA20_POLY1305_SHA256, AQ_AEAD_CHACHA20_POLY1305, AQ_HASH_SHA256},
};

/* draft-ietf-tls-ecdhe-mlkem + DESIGN.md: hybrid first, then pure ML-KEM (the Rust nodes), then X25519. */
static const uint16_t default_groups[] = {AQ_TLS_GROUP_X25519MLKEM768, AQ_TLS_GROUP_MLKEM768,
                                          AQ_TLS_GROUP_X25519};

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

int aq_tls_hash_index(aq_hash_alg alg) {
  return alg == AQ_HASH_SHA384 ? 1 : 0;
}

/** Add a message to every live transcript hash. */
uint8_t aq_tls_th_add(aq_tls *tls, const uint8_t *data, size_t len) {
  for (int i = 0; i < 2; i++) {
    if (tls->th_live[i] && aq_hash_update(&tls->th[i], data, len) != 0) {
      return AQ_TLS_ALERT_INTERNAL_ERROR;
    }
  }
  return 0;
}

/** The transcript hash under the negotiated suite. */
uint8_t aq_tls_th_hash(aq_tls *tls, uint8_t *out) {
  int i = aq_tls_hash_index(tls->suite->hash);
  if (!tls->th_live[i] || aq_hash_peek(&tls->th[i], out) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  return 0;
}

/** Keep only the transcript of hash alg (the suite is now known). */
void aq_tls_th_select(aq_tls *tls, aq_hash_alg alg) {
  int keep = aq_tls_hash_index(alg);
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
uint8_t aq_tls_th_message_hash(aq_tls *tls) {
  uint8_t h[AQ_HASH_MAX_LEN], hdr[4];
  size_t hlen = aq_hash_len(tls->suite->hash);
  int i = aq_tls_hash_index(tls->suite->hash);
  uint8_t a = aq_tls_th_hash(tls, h);
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
  if ((a = aq_tls_th_add(tls, hdr, 4)) != 0) {
    return a;
  }
  return aq_tls_th_add(tls, h, hlen);
}

/* ---------------------------------------------------------------- output */

uint8_t aq_tls_emit(aq_tls *tls, aq_epoch epoch, const uint8_t *data, size_t len) {
  if (tls->cb.send(tls->ud, epoch, data, len) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  return 0;
}

uint8_t aq_tls_install_suite(aq_tls *tls, const aq_tls_suite *suite, aq_epoch epoch, int is_write,
                             const uint8_t *secret) {
  if (tls->cb.set_secret(tls->ud, epoch, is_write, suite, secret, aq_hash_len(suite->hash)) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  return 0;
}

uint8_t aq_tls_install(aq_tls *tls, aq_epoch epoch, int is_write, const uint8_t *secret) {
  return aq_tls_install_suite(tls, tls->suite, epoch, is_write, secret);
}

/**
 * PSK binder (RFC 8446 §4.2.11.2): the Finished computation keyed by
 * Derive-Secret(Early Secret, "res binder", "") over the transcript so far
 * plus the partial ClientHello (up to, not including, the binders list).
 */
uint8_t aq_tls_psk_binder(aq_tls *tls, uint8_t *out, const aq_tls_suite *suite, const uint8_t *psk,
                          const uint8_t *partial, size_t partial_len) {
  aq_tls_ks early;
  aq_hash_ctx h;
  uint8_t binder_key[AQ_HASH_MAX_LEN], thash[AQ_HASH_MAX_LEN];
  size_t hlen = aq_hash_len(suite->hash);
  int i = aq_tls_hash_index(suite->hash);
  uint8_t a = AQ_TLS_ALERT_INTERNAL_ERROR;
  if (!tls->th_live[i] || aq_hash_dup(&h, &tls->th[i]) != 0) {
    return a;
  }
  if (aq_hash_update(&h, partial, partial_len) == 0 && aq_hash_peek(&h, thash) == 0 &&
      aq_tls_ks_init(&early, tls->cfg.algs, suite->hash, psk, hlen) == 0 &&
      aq_tls_ks_derive_empty(&early, binder_key, "res binder") == 0 &&
      aq_tls_ks_finished(tls->cfg.algs, suite->hash, out, binder_key, thash) == 0) {
    a = 0;
  }
  aq_hash_free(&h);
  aq_tls_ks_free(&early);
  aq_memzero(binder_key, sizeof(binder_key));
  return a;
}

/** Add the bytes written to w since offset `from` to the transcript. */
uint8_t aq_tls_th_add_written(aq_tls *tls, const aq_wbuf *w, size_t from) {
  if (aq_wbuf_error(w) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  return aq_tls_th_add(tls, w->begin + from, aq_wbuf_len(w) - from);
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
uint8_t aq_tls_write_cert_cv(aq_tls *tls, aq_wbuf *w, int empty) {
  const aq_tls_credential *cred = tls->cfg.cred;
  size_t from = aq_wbuf_len(w);
  uint8_t a;
  if (empty) {
    aq_tls_cert_encode(w, NULL, 0, NULL, 0);
    return aq_tls_th_add_written(tls, w, from);
  }
  if (tls->our_cert_type == AQ_TLS_CERTTYPE_RPK) {
    aq_tls_cert_encode(w, NULL, 0, cred->spki, cred->spkilen);
  } else {
    aq_tls_cert_encode(w, NULL, 0, cred->cert, cred->certlen);
  }
  if ((a = aq_tls_th_add_written(tls, w, from)) != 0) {
    return a;
  }
  uint8_t thash[AQ_HASH_MAX_LEN], content[160], sig[AQ_TLS_MAX_SIG_LEN];
  if ((a = aq_tls_th_hash(tls, thash)) != 0) {
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
  return aq_tls_th_add_written(tls, w, from);
}

/** Append Finished (keyed by base) to w. */
uint8_t aq_tls_write_finished(aq_tls *tls, aq_wbuf *w, const uint8_t *base) {
  uint8_t thash[AQ_HASH_MAX_LEN], vd[AQ_HASH_MAX_LEN];
  size_t from = aq_wbuf_len(w);
  uint8_t a = aq_tls_th_hash(tls, thash);
  if (a != 0) {
    return a;
  }
  if (aq_tls_ks_finished(tls->cfg.algs, tls->suite->hash, vd, base, thash) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  aq_tls_fin_encode(w, vd, aq_hash_len(tls->suite->hash));
  return aq_tls_th_add_written(tls, w, from);
}

/* ------------------------------------------------------- list membership */

/** Non-zero if the u16 list (wire bytes) contains v. */
int aq_tls_u16_list_has(const uint8_t *list, size_t len, uint16_t v) {
  for (size_t i = 0; i + 1 < len; i += 2) {
    if ((((unsigned)list[i] << 8) | list[i + 1]) == v) {
      return 1;
    }
  }
  return 0;
}

int aq_tls_x509_ok(const aq_tls *tls) {
  return tls->cfg.allow_x509 || !tls->cfg.offer_rpk;
}

/** Copy a peer-supplied blob into *dst (replacing what was there). */
uint8_t aq_tls_keep_copy(aq_tls *tls, uint8_t **dst, size_t *dstlen, const uint8_t *src,
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
    if ((a = aq_tls_th_add(tls, msg, msglen)) != 0) {
      return a;
    }
    tls->state = AQ_TLS_ST_S_WAIT_FIN;
    return 0;
  }
  const uint8_t *spki = c.entry[0].data, *cert = NULL;
  size_t spkilen = c.entry[0].len, certlen = 0;
  if (tls->peer_cert_type == AQ_TLS_CERTTYPE_X509) {
    if (!aq_tls_x509_ok(tls)) {
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
  if (tls->cb.verify_peer != NULL &&
      tls->cb.verify_peer(tls->ud, spki, spkilen, cert, certlen) != 0) {
    return AQ_TLS_ALERT_BAD_CERTIFICATE;
  }
  if ((a = aq_tls_keep_copy(tls, &tls->peer_spki, &tls->peer_spki_len, spki, spkilen)) != 0 ||
      (a = aq_tls_th_add(tls, msg, msglen)) != 0) {
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
  if ((a = aq_tls_th_hash(tls, thash)) != 0) {
    return a;
  }
  size_t clen = cv_content(content, tls->cfg.is_server ? cv_ctx_client : cv_ctx_server, thash,
                           aq_hash_len(tls->suite->hash));
  rv = aq_sig_verify_spki_cached(tls->cfg.key_cache, cv.scheme, tls->peer_spki,
                                 tls->peer_spki_len, content, clen, cv.sig, cv.siglen);
  if (rv != 0) {
    /* "If the verification fails, the receiver MUST terminate the handshake with a
     * "decrypt_error" alert." */
    return rv == AQ_ERR_UNSUPPORTED ? AQ_TLS_ALERT_ILLEGAL_PARAMETER : AQ_TLS_ALERT_DECRYPT_ERROR;
  }
  if ((a = aq_tls_th_add(tls, msg, msglen)) != 0) {
    return a;
  }
  tls->peer_authenticated = 1;
  tls->state = tls->cfg.is_server ? AQ_TLS_ST_S_WAIT_FIN : AQ_TLS_ST_C_WAIT_FIN;
  return 0;
}

/** Check a peer Finished against the key base (RFC 8446 §4.4.4). */
uint8_t aq_tls_check_finished(aq_tls *tls, const uint8_t *body, size_t bodylen,
                              const uint8_t *base) {
  const uint8_t *vd;
  uint8_t thash[AQ_HASH_MAX_LEN], want[AQ_HASH_MAX_LEN], a;
  size_t hlen = aq_hash_len(tls->suite->hash);
  if (aq_tls_fin_decode(&vd, body, bodylen, hlen) != 0) {
    return AQ_TLS_ALERT_DECODE_ERROR;
  }
  if ((a = aq_tls_th_hash(tls, thash)) != 0) {
    return a;
  }
  if (aq_tls_ks_finished(tls->cfg.algs, tls->suite->hash, want, base, thash) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  /* "Recipients of Finished messages MUST verify that the contents are correct and if
   * incorrect MUST terminate the connection with a "decrypt_error" alert." */
  a = aq_ct_memeq(want, vd, hlen) ? 0 : AQ_TLS_ALERT_DECRYPT_ERROR;
  aq_memzero(want, sizeof(want));
  return a;
}

/** Master secret and application/exporter secrets over the transcript up to server Finished. */
uint8_t aq_tls_derive_app_secrets(aq_tls *tls, uint8_t *s_ap) {
  uint8_t thash[AQ_HASH_MAX_LEN];
  uint8_t a = aq_tls_th_hash(tls, thash);
  if (a != 0) {
    return a;
  }
  static const char *const labels[3] = {"c ap traffic", "s ap traffic", "exp master"};
  uint8_t *const outs[3] = {tls->c_ap, s_ap, tls->exporter};
  if (aq_tls_ks_advance(&tls->ks, NULL, 0) != 0 ||
      aq_tls_ks_derive_n(&tls->ks, thash, labels, outs, 3) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  tls->have_app_secrets = 1;
  return 0;
}

/** resumption_master_secret over the transcript through client Finished; drop hs secrets. */
uint8_t aq_tls_finish_handshake(aq_tls *tls) {
  uint8_t thash[AQ_HASH_MAX_LEN];
  uint8_t a = aq_tls_th_hash(tls, thash);
  if (a != 0) {
    return a;
  }
  if (aq_tls_ks_derive(&tls->ks, tls->res_master, "res master", thash) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  aq_memzero(tls->c_hs, sizeof(tls->c_hs));
  aq_memzero(tls->s_hs, sizeof(tls->s_hs));
  aq_memzero(tls->c_ap, sizeof(tls->c_ap));
  aq_memzero(tls->psk, sizeof(tls->psk));
  aq_tls_ks_free(&tls->ks);
  return 0;
}

/* ============================================================ state table */

static const struct {
  aq_tls_state state;
  aq_epoch epoch;
  uint8_t type;
  tls_handler fn;
} state_table[] = {
    {AQ_TLS_ST_C_WAIT_SH, AQ_EPOCH_INITIAL, AQ_TLS_HS_SERVER_HELLO, aq_tls_client_on_sh},
    {AQ_TLS_ST_C_WAIT_EE, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_ENCRYPTED_EXTENSIONS, aq_tls_client_on_ee},
    {AQ_TLS_ST_C_WAIT_CERT_CR, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_CERTIFICATE_REQUEST,
     aq_tls_client_on_cr},
    {AQ_TLS_ST_C_WAIT_CERT_CR, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_CERTIFICATE, on_cert},
    {AQ_TLS_ST_C_WAIT_CERT, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_CERTIFICATE, on_cert},
    {AQ_TLS_ST_C_WAIT_CV, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_CERTIFICATE_VERIFY, on_cv},
    {AQ_TLS_ST_C_WAIT_FIN, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_FINISHED, aq_tls_client_on_fin},
    {AQ_TLS_ST_C_DONE, AQ_EPOCH_1RTT, AQ_TLS_HS_NEW_SESSION_TICKET, aq_tls_client_on_nst},
    {AQ_TLS_ST_S_WAIT_CH, AQ_EPOCH_INITIAL, AQ_TLS_HS_CLIENT_HELLO, aq_tls_server_on_ch},
    {AQ_TLS_ST_S_WAIT_CH2, AQ_EPOCH_INITIAL, AQ_TLS_HS_CLIENT_HELLO, aq_tls_server_on_ch},
    {AQ_TLS_ST_S_WAIT_CERT, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_CERTIFICATE, on_cert},
    {AQ_TLS_ST_S_WAIT_CV, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_CERTIFICATE_VERIFY, on_cv},
    {AQ_TLS_ST_S_WAIT_FIN, AQ_EPOCH_HANDSHAKE, AQ_TLS_HS_FINISHED, aq_tls_server_on_fin},
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

/** End the handshake with alert (sticky). */
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
  tls->x25519_pre = cfg->x25519_pre;
  tls->pre_share = -1;
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
  size_t ng =
      cfg->groups != NULL ? cfg->ngroups : sizeof(default_groups) / sizeof(default_groups[0]);
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

/* Getters and the exporter: documented in aq_tls.h. */
int aq_tls_handshake_done(const aq_tls *tls) {
  return tls->state == AQ_TLS_ST_C_DONE || tls->state == AQ_TLS_ST_S_DONE;
}

uint8_t aq_tls_alert(const aq_tls *tls) {
  return tls->alert;
}

const aq_tls_suite *aq_tls_get_suite(const aq_tls *tls) {
  return tls->suite;
}

uint16_t aq_tls_get_group(const aq_tls *tls) {
  return tls->group != NULL ? tls->group->id : 0;
}

const char *aq_tls_get_alpn(const aq_tls *tls) {
  return tls->alpn[0] != '\0' ? tls->alpn : NULL;
}

const uint8_t *aq_tls_get_peer_transport_params(const aq_tls *tls, size_t *len) {
  *len = tls->peer_tp_len;
  return tls->peer_tp_seen ? tls->peer_tp : NULL;
}

const char *aq_tls_get_server_name(const aq_tls *tls) {
  return tls->sni[0] != '\0' ? tls->sni : NULL;
}

int aq_tls_early_data_accepted(const aq_tls *tls) {
  return tls->early_accepted;
}

int aq_tls_resumed(const aq_tls *tls) {
  return tls->psk_accepted;
}

const uint8_t *aq_tls_get_peer_spki(const aq_tls *tls, size_t *len) {
  /* Only a key that proved possession (CertificateVerify) or came with a resumed session. */
  if (!tls->peer_authenticated) {
    *len = 0;
    return NULL;
  }
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

const uint8_t *aq_tls_get_client_random(const aq_tls *tls) {
  if (tls->cfg.is_server) {
    return tls->has_client_random ? tls->client_random : NULL;
  }
  return tls->random;
}
