/*
 * fuzz_tls_common.h - shared pieces of the TLS fuzz targets: an engine with
 * deterministic randomness, an Ed25519 credential, and callbacks that accept
 * everything, so arbitrary bytes can be fed to a server or a started client.
 */
#ifndef FUZZ_TLS_COMMON_H
#define FUZZ_TLS_COMMON_H

#include <string.h>

#include "aq_crypto.h"
#include "aq_tls.h"
#include "aq_tls_cert.h"
#include "aq_tls_ext.h"
#include "aq_tls_msg.h"

typedef struct fuzz_tls {
  uint8_t seed[32];
  uint8_t spki[64];
  aq_tls_credential cred;
  uint64_t ctr;
} fuzz_tls;

static inline int fz_send(void *ud, aq_epoch epoch, const uint8_t *data, size_t len) {
  (void)ud;
  (void)epoch;
  (void)data;
  (void)len;
  return 0;
}

static inline int fz_set_secret(void *ud, aq_epoch epoch, int is_write, const aq_tls_suite *suite,
                                const uint8_t *secret, size_t len) {
  (void)ud;
  (void)epoch;
  (void)is_write;
  (void)suite;
  (void)secret;
  (void)len;
  return 0;
}

static inline int fz_rand(uint8_t *buf, size_t len, void *ud) {
  fuzz_tls *f = ud;
  for (size_t i = 0; i < len; i++) {
    f->ctr = f->ctr * 6364136223846793005ULL + 1442695040888963407ULL;
    buf[i] = (uint8_t)(f->ctr >> 56);
  }
  return 0;
}

static inline aq_ssize fz_sign(void *ctx, uint16_t scheme, uint8_t *sig, size_t cap,
                               const uint8_t *msg, size_t msglen) {
  fuzz_tls *f = ctx;
  (void)scheme;
  if (cap < 64 || aq_ed25519_sign(sig, f->seed, msg, msglen) != 0) {
    return AQ_ERR_CRYPTO;
  }
  return 64;
}

/** Discard a must-check result: in a fuzz target any result is fine. */
static inline void fz_ignore(int v) {
  (void)v;
}

/** An engine (server or started client) with a P2P-like configuration; NULL on failure. */
static inline aq_tls *fz_engine(fuzz_tls *f, int is_server) {
  static const char *const alpn[] = {"ant-quic"};
  static const uint8_t tp[] = {1, 2, 3};
  static const uint16_t groups[] = {0x001d, 0x0017};
  aq_tls_config cfg;
  aq_tls_callbacks cb = {fz_send, fz_set_secret, fz_rand, NULL, NULL};
  uint8_t pub[32];
  memset(f, 0, sizeof(*f));
  memset(f->seed, 7, sizeof(f->seed));
  if (aq_ed25519_public(pub, f->seed) != 0) {
    return NULL;
  }
  aq_ssize n = aq_spki_encode(f->spki, sizeof(f->spki), AQ_KEY_ED25519, pub, 32);
  if (n <= 0) {
    return NULL;
  }
  f->cred.sig_scheme = 0x0807;
  f->cred.spki = f->spki;
  f->cred.spkilen = (size_t)n;
  f->cred.sign = fz_sign;
  f->cred.sign_ctx = f;
  memset(&cfg, 0, sizeof(cfg));
  cfg.is_server = is_server;
  cfg.quic = 1;
  cfg.offer_rpk = 1;
  cfg.allow_x509 = 1;
  cfg.cred = &f->cred;
  cfg.request_client_auth = is_server;
  cfg.groups = groups;
  cfg.ngroups = 2;
  cfg.alpn = alpn;
  cfg.nalpn = 1;
  cfg.transport_params = tp;
  cfg.transport_params_len = sizeof(tp);
  aq_tls *tls = aq_tls_new(&cfg, &cb, f, NULL);
  if (tls != NULL && !is_server && aq_tls_start(tls, 0) != 0) {
    aq_tls_del(tls);
    return NULL;
  }
  return tls;
}

/** Feed body as a handshake message of type at epoch. */
static inline void fz_feed(aq_tls *tls, aq_epoch epoch, uint8_t type, const uint8_t *body,
                           size_t len) {
  uint8_t hdr[4] = {type, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
  if (len > 0xffffff) {
    return;
  }
  if (aq_tls_recv(tls, epoch, hdr, 4, 0) == 0) {
    int rv = aq_tls_recv(tls, epoch, body, len, 0);
    (void)rv; /* any result is fine; only crashes and leaks count */
  }
}

#endif /* FUZZ_TLS_COMMON_H */
