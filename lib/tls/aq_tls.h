/*
 * aq_tls.h - the TLS 1.3 handshake engine for QUIC (no record layer).
 *
 * Shape (picotls ptls_handle_message): the caller feeds the handshake bytes
 * received at an epoch with aq_tls_recv(); the engine calls back with the
 * handshake bytes to send at each epoch (cb.send) and with each epoch's
 * traffic secret as soon as it exists (cb.set_secret).  QUIC carries the
 * bytes in CRYPTO frames; a test-only record layer carries them over TCP.
 *
 * THIS FILE IS THE CONTRACT between the TLS engine, the certificate module
 * (aq_tls_cert.h), the QUIC connection and the test record layer.  Additions
 * are fine; changes to what is here need everyone's agreement.
 */
#ifndef AQ_TLS_H
#define AQ_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_crypto.h"

/* QUIC encryption levels = TLS epochs (RFC 9001 §4.1.3). */
typedef enum aq_epoch {
  AQ_EPOCH_INITIAL = 0,   /* ClientHello, ServerHello, HelloRetryRequest */
  AQ_EPOCH_0RTT = 1,      /* early data keys (client write / server read) */
  AQ_EPOCH_HANDSHAKE = 2, /* EE, Certificate, CertificateVerify, Finished */
  AQ_EPOCH_1RTT = 3       /* application keys; NewSessionTicket */
} aq_epoch;
#define AQ_EPOCH_COUNT 4

/* Cipher suites (RFC 8446 §B.4). */
#define AQ_TLS_AES_128_GCM_SHA256 0x1301
#define AQ_TLS_AES_256_GCM_SHA384 0x1302
#define AQ_TLS_CHACHA20_POLY1305_SHA256 0x1303

/** A cipher suite as the QUIC layer and record layer need it. */
typedef struct aq_tls_suite {
  uint16_t id;
  aq_aead_alg aead;
  aq_hash_alg hash;
} aq_tls_suite;

/** Look up a suite descriptor by IANA id; NULL if unknown. */
const aq_tls_suite *aq_tls_suite_find(uint16_t id);

/* TLS alerts used as errors (RFC 8446 §6.2); QUIC maps alert A to CRYPTO_ERROR 0x100 + A. */
#define AQ_TLS_ALERT_UNEXPECTED_MESSAGE 10
#define AQ_TLS_ALERT_BAD_RECORD_MAC 20
#define AQ_TLS_ALERT_HANDSHAKE_FAILURE 40
#define AQ_TLS_ALERT_BAD_CERTIFICATE 42
#define AQ_TLS_ALERT_UNSUPPORTED_CERTIFICATE 43
#define AQ_TLS_ALERT_CERTIFICATE_UNKNOWN 46
#define AQ_TLS_ALERT_ILLEGAL_PARAMETER 47
#define AQ_TLS_ALERT_DECODE_ERROR 50
#define AQ_TLS_ALERT_DECRYPT_ERROR 51
#define AQ_TLS_ALERT_PROTOCOL_VERSION 70
#define AQ_TLS_ALERT_INSUFFICIENT_SECURITY 71
#define AQ_TLS_ALERT_INTERNAL_ERROR 80
#define AQ_TLS_ALERT_MISSING_EXTENSION 109
#define AQ_TLS_ALERT_UNSUPPORTED_EXTENSION 110
#define AQ_TLS_ALERT_CERTIFICATE_REQUIRED 116
#define AQ_TLS_ALERT_NO_APPLICATION_PROTOCOL 120

typedef struct aq_tls aq_tls;

/** Callbacks from the engine.  Returning non-zero aborts the handshake (internal_error). */
typedef struct aq_tls_callbacks {
  /** Handshake bytes to send at epoch (copy them; data is valid only during the call). */
  int (*send)(void *user_data, aq_epoch epoch, const uint8_t *data, size_t len);
  /**
   * The traffic secret for epoch in one direction (is_write = our sending
   * direction) with its suite.  Called for HANDSHAKE and 1RTT (and 0RTT with
   * early data) as soon as the secret exists; the QUIC layer derives packet
   * keys with aq_quic_derive_keys(), the record layer with "key"/"iv".
   */
  int (*set_secret)(void *user_data, aq_epoch epoch, int is_write, const aq_tls_suite *suite,
                    const uint8_t *secret, size_t secretlen);
  /** Randomness (ClientHello.random, key shares, tickets). Required. */
  aq_rand_fn rand;
  /**
   * Decide on the peer's end-entity key.  spki/spkilen = SubjectPublicKeyInfo
   * DER (from a raw-public-key entry or taken out of the X.509 certificate;
   * cert/certlen = the full X.509 DER or NULL for a raw key).  Return 0 to
   * accept; the CertificateVerify signature is always checked as well.  NULL
   * = accept any key (tests only).
   */
  int (*verify_peer)(void *user_data, const uint8_t *spki, size_t spkilen, const uint8_t *cert,
                     size_t certlen);
  /**
   * Client, optional: a NewSessionTicket arrived.  session/len is an opaque
   * resumption state (ticket, PSK, 0-RTT limits, ALPN, the server's key) to
   * store as a secret and give back as aq_tls_config.session later; valid only
   * during the call.
   */
  int (*on_ticket)(void *user_data, const uint8_t *session, size_t len);
} aq_tls_callbacks;

/** Our own credential: a raw public key (RPK) and/or an X.509 certificate, and a signer. */
typedef struct aq_tls_credential {
  uint16_t sig_scheme;      /* 0x0807 ed25519, 0x0905 mldsa65, 0x0403 ecdsa_secp256r1_sha256, ... */
  const uint8_t *spki;      /* SubjectPublicKeyInfo DER of our key (for raw public keys) */
  size_t spkilen;
  const uint8_t *cert;      /* X.509 DER (for peers without RFC 7250), or NULL */
  size_t certlen;
  /** Sign msg with scheme; returns the signature length or a negative error. */
  aq_ssize (*sign)(void *sign_ctx, uint16_t scheme, uint8_t *sig, size_t sigcap,
                   const uint8_t *msg, size_t msglen);
  void *sign_ctx;
  /** Optional: work ahead for the next sign while idle (called from aq_ep_prepare). */
  void (*prepare)(void *sign_ctx);
} aq_tls_credential;

/** Engine configuration (plain data; copied by aq_tls_new except the pointed-to buffers). */
typedef struct aq_tls_config {
  int is_server;
  const uint16_t *suites; /* preference order; NULL = all three, AES-128 first */
  size_t nsuites;
  const uint16_t *groups; /* key-exchange groups in preference order; NULL = defaults */
  size_t ngroups;
  size_t nkey_shares;     /* client: how many of the first groups get a key share (default 1) */
  int require_pq;         /* refuse a handshake that ends with a classical-only group */
  const aq_tls_credential *cred; /* NULL: client without a certificate */
  int request_client_auth;       /* server: send CertificateRequest */
  int require_client_auth;       /* server: fail (certificate_required) if the client sends none */
  int offer_rpk;          /* offer/accept raw public keys (RFC 7250) */
  int allow_x509;         /* accept/present X.509 too */
  const char *server_name; /* client: SNI to send (NULL = none) */
  const char *const *alpn; /* client: offered list; server: acceptable list (preference order) */
  size_t nalpn;
  int alpn_required;      /* server: no overlap -> no_application_protocol */
  const uint8_t *transport_params; /* quic_transport_parameters (0x39) to send; NULL = omit */
  size_t transport_params_len;
  int quic;               /* 1 = QUIC rules (no middlebox compat, no EndOfEarlyData) */
  /* Resumption, server: tickets are sealed (AES-256-GCM) with this 32-byte key; NULL = none. */
  const uint8_t *ticket_key;
  uint32_t ticket_lifetime_s; /* 0 = 86400; at most 604800 (RFC 8446 §4.6.1) */
  int accept_early_data;      /* server: accept 0-RTT on resumption (QUIC mode only) */
  /*
   * Resumption, client: a session from cb.on_ticket (NULL = full handshake).
   * The engine keeps pointers into it: it must stay valid until the
   * handshake is done.  An unusable session (expired, other suites, corrupt)
   * is ignored and a full handshake follows.
   */
  const uint8_t *session;
  size_t session_len;
  int enable_early_data;      /* client: offer 0-RTT when the session allows it (QUIC mode only) */
  /*
   * A fresh X25519 key pair made ahead of time (64 bytes: private key, then
   * its public key; borrowed until the key exchange is done) for this
   * handshake's X25519 share (X25519 or the classical half of
   * X25519MLKEM768), used once.  NULL: generated when needed.  Taking the
   * scalar multiplication off the handshake's critical path is the point.
   */
  const uint8_t *x25519_pre;
  void *x25519_pre_key; /* optional: x25519_pre as an aq_x25519_key_new object (borrowed) */
  /* Algorithms fetched once by the endpoint (lent; NULL: looked up each time). */
  const aq_crypto_algs *algs;
  /* Decoded peer keys shared by an endpoint's handshakes (aq_key_cache); NULL = none. */
  struct aq_key_cache *key_cache;
} aq_tls_config;

/**
 * Create an engine.  Returns NULL on allocation failure, or when the config
 * leaves no suite or group we implement, or cb lacks send/set_secret/rand.
 * mem NULL = the default allocator.  cfg is copied; the buffers it points
 * to (credential, ALPN strings, transport parameters, ticket key, session)
 * must outlive the engine.
 */
aq_tls *aq_tls_new(const aq_tls_config *cfg, const aq_tls_callbacks *cb, void *user_data,
                   const aq_mem *mem);
void aq_tls_del(aq_tls *tls);

/** Client: produce the ClientHello (cb.send at AQ_EPOCH_INITIAL).  ts = now. */
AQ_MUST_CHECK int aq_tls_start(aq_tls *tls, aq_tstamp ts);

/**
 * Feed handshake bytes received at epoch (any split: partial messages are
 * buffered, several messages may arrive at once).  Returns 0, or
 * AQ_ERR_TLS_ALERT with the alert in aq_tls_alert() (sticky: later calls
 * return the same).
 */
AQ_MUST_CHECK int aq_tls_recv(aq_tls *tls, aq_epoch epoch, const uint8_t *data, size_t len,
                              aq_tstamp ts);

/** Non-zero once the handshake is complete (both Finished verified/sent). */
int aq_tls_handshake_done(const aq_tls *tls);
/** The alert that ended the handshake, or 0. */
uint8_t aq_tls_alert(const aq_tls *tls);
/** Negotiated suite, group, ALPN (NULL if none), peer transport parameters. */
const aq_tls_suite *aq_tls_get_suite(const aq_tls *tls);
uint16_t aq_tls_get_group(const aq_tls *tls);
const char *aq_tls_get_alpn(const aq_tls *tls);
const uint8_t *aq_tls_get_peer_transport_params(const aq_tls *tls, size_t *len);
/** Server: the SNI the client sent, or NULL. */
const char *aq_tls_get_server_name(const aq_tls *tls);
/**
 * ClientHello.random (32 bytes; client: ours, server: the client's, NULL
 * before it arrived), the key of SSLKEYLOGFILE lines.  Valid until aq_tls_del.
 */
const uint8_t *aq_tls_get_client_random(const aq_tls *tls);

/**
 * 0-RTT outcome: client = the server accepted our early data; server = we
 * accepted the client's.  Known once EncryptedExtensions is sent/received.
 */
int aq_tls_early_data_accepted(const aq_tls *tls);
/** Non-zero if the handshake resumed a session (PSK accepted). */
int aq_tls_resumed(const aq_tls *tls);

/**
 * The peer's authenticated SubjectPublicKeyInfo (after its Certificate and
 * CertificateVerify), or NULL; valid until aq_tls_del.
 */
const uint8_t *aq_tls_get_peer_spki(const aq_tls *tls, size_t *len);

/**
 * TLS-Exporter (RFC 8446 §7.5) after the handshake: outlen bytes for label
 * and context.  AQ_ERR_STATE before the handshake is done.
 */
AQ_MUST_CHECK int aq_tls_export(const aq_tls *tls, uint8_t *out, size_t outlen, const char *label,
                                const uint8_t *context, size_t context_len);

#endif /* AQ_TLS_H */
