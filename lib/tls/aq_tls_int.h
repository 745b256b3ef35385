/*
 * aq_tls_int.h - the engine object, shared by aq_tls.c (state machine) and
 * aq_tls_ext.c (extension send functions).  Not part of the API.
 */
#ifndef AQ_TLS_INT_H
#define AQ_TLS_INT_H

#include "aq_crypto.h"
#include "aq_tls.h"
#include "aq_tls_ext.h"
#include "aq_tls_group.h"
#include "aq_tls_ks.h"
#include "aq_tls_msg.h"
#include "aq_tls_ticket.h"

#define AQ_TLS_MAX_KEY_SHARES 2
#define AQ_TLS_MAX_GROUPS 8
#define AQ_TLS_MAX_SIG_LEN 5120
#define AQ_TLS_MAX_ALPN_LEN 255
#define AQ_TLS_MAX_SNI_LEN 255
/** Largest handshake message we accept (certificate chains included). */
#define AQ_TLS_MAX_MSG_LEN (128u * 1024u)

typedef enum aq_tls_state {
  AQ_TLS_ST_C_START = 0,
  AQ_TLS_ST_C_WAIT_SH,
  AQ_TLS_ST_C_WAIT_EE,
  AQ_TLS_ST_C_WAIT_CERT_CR,
  AQ_TLS_ST_C_WAIT_CERT,
  AQ_TLS_ST_C_WAIT_CV,
  AQ_TLS_ST_C_WAIT_FIN,
  AQ_TLS_ST_C_DONE,
  AQ_TLS_ST_S_WAIT_CH,
  AQ_TLS_ST_S_WAIT_CH2,
  AQ_TLS_ST_S_WAIT_CERT,
  AQ_TLS_ST_S_WAIT_CV,
  AQ_TLS_ST_S_WAIT_FIN,
  AQ_TLS_ST_S_DONE,
  AQ_TLS_ST_FAILED
} aq_tls_state;

/** A client key share in flight. */
typedef struct aq_tls_share {
  const aq_tls_group *group;
  uint8_t priv[AQ_TLS_GROUP_MAX_PRIV];
  uint8_t pub[AQ_TLS_GROUP_MAX_SHARE]; /* client_share as sent */
} aq_tls_share;

struct aq_tls {
  aq_tls_config cfg;
  const uint8_t *x25519_pre; /* cfg.x25519_pre until its one use, then NULL */
  int pre_share;             /* client: the key share made from cfg.x25519_pre, or -1 */
  aq_tls_callbacks cb;
  void *ud;
  const aq_mem *mem;
  aq_tls_state state;
  uint8_t alert;
  /* Configuration filtered to what we implement, in preference order. */
  uint16_t suites[3];
  size_t nsuites;
  const aq_tls_group *groups[AQ_TLS_MAX_GROUPS];
  size_t ngroups;

  /* Receive reassembly: bytes of a partial message at repoch. */
  uint8_t *rbuf;
  size_t rlen, rcap;
  aq_epoch repoch;
  /* Send scratch: one flight is built here then handed to cb.send. */
  uint8_t *sbuf;
  size_t scap;

  /* Transcript: both hashes run until the suite is known (client, before ServerHello). */
  aq_hash_ctx th[2]; /* [0] SHA-256, [1] SHA-384 */
  int th_live[2];
  const aq_tls_suite *suite;
  uint16_t hrr_suite; /* suite named by a HelloRetryRequest, or 0 */
  int hrr;            /* a HelloRetryRequest was sent/received */

  /* Client key shares (CH1: cfg.nkey_shares; CH2: the HRR group only). */
  aq_tls_share share[AQ_TLS_MAX_KEY_SHARES];
  size_t nshares;
  const aq_tls_group *group; /* negotiated */
  uint8_t random[AQ_TLS_RANDOM_LEN];
  uint32_t ch_exts; /* rows sent in our ClientHello (client) */

  /* Negotiated parameters. */
  uint8_t our_cert_type;  /* type we present */
  uint8_t peer_cert_type; /* type the peer presents */
  int cct_negotiated;     /* server: echo client_certificate_type in EE */
  int sct_negotiated;     /* server: echo server_certificate_type in EE */
  int client_auth;        /* server sent / client received CertificateRequest */
  char alpn[AQ_TLS_MAX_ALPN_LEN + 1];
  char sni[AQ_TLS_MAX_SNI_LEN + 1];
  uint8_t *peer_tp;
  size_t peer_tp_len;
  int peer_tp_seen;
  uint8_t *peer_spki; /* the peer key from its Certificate (or the resumed session) */
  size_t peer_spki_len;
  int peer_authenticated; /* peer_spki proved by CertificateVerify, or from a resumed session */
  uint8_t *cookie;        /* client: cookie from a HelloRetryRequest, echoed in ClientHello2 */
  size_t cookie_len;
  int can_sign;       /* client: our scheme is in the CertificateRequest's list */
  uint16_t hrr_group; /* the group a HelloRetryRequest asked for */
  uint8_t srv_share[AQ_TLS_GROUP_MAX_SHARE]; /* server: its key_share for the ServerHello */
  size_t srv_share_len;

  /* Secrets (zeroed as soon as they are no longer needed, and in _del). */
  aq_tls_ks ks;
  uint8_t c_hs[AQ_HASH_MAX_LEN], s_hs[AQ_HASH_MAX_LEN];
  uint8_t c_ap[AQ_HASH_MAX_LEN];
  uint8_t exporter[AQ_HASH_MAX_LEN];
  uint8_t res_master[AQ_HASH_MAX_LEN];
  int have_app_secrets;

  /* Resumption and 0-RTT. */
  aq_tstamp now;                 /* ts of the current call */
  aq_tls_session sess;           /* client: parsed cfg.session (points into it) */
  const aq_tls_suite *psk_suite; /* client: the suite of the offered PSK */
  uint8_t psk[AQ_HASH_MAX_LEN];
  size_t psk_len;
  uint32_t obf_age; /* client: obfuscated_ticket_age of the offered PSK */
  int psk_offered, psk_accepted;
  int early_offered, early_accepted;

  /* Server: the ClientHello.random, for SSLKEYLOGFILE lines (aq_tls_get_client_random). */
  uint8_t client_random[AQ_TLS_RANDOM_LEN];
  int has_client_random;
};

/*
 * Shared engine helpers (aq_tls.c).  Functions returning uint8_t return 0 or
 * the alert that ends the handshake.
 */

/** Transcript index of a hash: 0 = SHA-256, 1 = SHA-384. */
int aq_tls_hash_index(aq_hash_alg alg);
/** Add bytes to every live transcript. */
uint8_t aq_tls_th_add(aq_tls *tls, const uint8_t *data, size_t len);
/** Add what w holds from offset from on to the transcript (internal_error if w overflowed). */
uint8_t aq_tls_th_add_written(aq_tls *tls, const aq_wbuf *w, size_t from);
/** The transcript hash under the negotiated suite. */
uint8_t aq_tls_th_hash(aq_tls *tls, uint8_t *out);
/** Keep only the transcript of alg (the suite is known). */
void aq_tls_th_select(aq_tls *tls, aq_hash_alg alg);
/** Replace ClientHello1 in the transcript by message_hash (RFC 8446 §4.4.1). */
uint8_t aq_tls_th_message_hash(aq_tls *tls);
/** Hand bytes to cb.send. */
uint8_t aq_tls_emit(aq_tls *tls, aq_epoch epoch, const uint8_t *data, size_t len);
/** Hand a secret to cb.set_secret with the negotiated suite / a given suite. */
uint8_t aq_tls_install(aq_tls *tls, aq_epoch epoch, int is_write, const uint8_t *secret);
uint8_t aq_tls_install_suite(aq_tls *tls, const aq_tls_suite *suite, aq_epoch epoch, int is_write,
                             const uint8_t *secret);
/** PSK binder over the transcript plus a partial ClientHello (RFC 8446 §4.2.11.2). */
uint8_t aq_tls_psk_binder(aq_tls *tls, uint8_t *out, const aq_tls_suite *suite, const uint8_t *psk,
                          const uint8_t *partial, size_t partial_len);
/** Append our Certificate (empty if asked) and CertificateVerify to w. */
uint8_t aq_tls_write_cert_cv(aq_tls *tls, aq_wbuf *w, int empty);
/** Append Finished keyed by base to w. */
uint8_t aq_tls_write_finished(aq_tls *tls, aq_wbuf *w, const uint8_t *base);
/** Check a peer Finished body against the key base. */
uint8_t aq_tls_check_finished(aq_tls *tls, const uint8_t *body, size_t bodylen,
                              const uint8_t *base);
/** Master, application and exporter secrets (transcript up to server Finished). */
uint8_t aq_tls_derive_app_secrets(aq_tls *tls, uint8_t *s_ap);
/** resumption_master_secret; zero the handshake secrets. */
uint8_t aq_tls_finish_handshake(aq_tls *tls);
/** Non-zero if the wire u16 list contains v. */
int aq_tls_u16_list_has(const uint8_t *list, size_t len, uint16_t v);
/** X.509 acceptable: explicitly, or because raw public keys are not offered. */
int aq_tls_x509_ok(const aq_tls *tls);
/** Replace *dst by a copy of src. */
uint8_t aq_tls_keep_copy(aq_tls *tls, uint8_t **dst, size_t *dstlen, const uint8_t *src,
                         size_t len);

/* Message handlers (aq_tls_client.c, aq_tls_server.c). */
uint8_t aq_tls_client_on_sh(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                            size_t bodylen);
uint8_t aq_tls_client_on_ee(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                            size_t bodylen);
uint8_t aq_tls_client_on_cr(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                            size_t bodylen);
uint8_t aq_tls_client_on_fin(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                             size_t bodylen);
uint8_t aq_tls_client_on_nst(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                             size_t bodylen);
uint8_t aq_tls_server_on_ch(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                            size_t bodylen);
uint8_t aq_tls_server_on_fin(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                             size_t bodylen);

#endif /* AQ_TLS_INT_H */
