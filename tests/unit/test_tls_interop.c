/*
 * test_tls_interop.c - our engine against OpenSSL's libssl (TLS 1.3), in
 * process.  OpenSSL speaks records over memory BIOs; a small record layer
 * here (RFC 8446 §5: plaintext records at the Initial epoch, then AEAD
 * records keyed with "key"/"iv" from each traffic secret, nonce = iv XOR
 * sequence number) carries our engine's per-epoch handshake bytes.
 *
 * Covered: every suite in both directions, client authentication both ways,
 * HelloRetryRequest both ways, and resumption both ways (OpenSSL checks our
 * PSK binder; we check OpenSSL's).  Certificates are X.509 Ed25519 made by
 * aq_x509_self_signed_ed25519.  The engine runs in TLS mode (quic = 0).
 */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_crypto.h"
#include "aq_test.h"
#include "aq_tls.h"
#include "aq_tls_cert.h"
#include "aq_tls_group.h"

typedef struct rdir {
  aq_aead aead;
  uint8_t iv[12];
  uint64_t seq;
  int on;
} rdir;

typedef struct iside {
  aq_tls *tls;
  rdir rd, wr;
  aq_epoch repoch;
  BIO *to_ossl; /* OpenSSL's read BIO: we write records into it */
  uint8_t inbuf[65536];
  size_t inlen;
  uint64_t rng;
  uint8_t seed[32], spki[64], cert[1024];
  aq_tls_credential cred;
  uint8_t sess[4096];
  size_t sesslen;
  int tickets;
  int verify_calls;
  int got_x509;
  int app_data; /* OpenSSL's "ping" arrived under our 1-RTT read key */
} iside;

static int i_rand(uint8_t *b, size_t n, void *ud) {
  return aq_test_rand(b, n, &((iside *)ud)->rng);
}

/** nonce = iv XOR the 64-bit record sequence number (RFC 8446 §5.3). */
static void rec_nonce(uint8_t out[12], const rdir *d) {
  memcpy(out, d->iv, 12);
  for (int i = 0; i < 8; i++) {
    out[11 - i] ^= (uint8_t)(d->seq >> (8 * i));
  }
}

static int i_send(void *ud, aq_epoch e, const uint8_t *data, size_t len) {
  iside *s = ud;
  uint8_t rec[20000], pt[20000], n[12];
  if (len + 64 > sizeof(rec)) {
    return -1;
  }
  if (e == AQ_EPOCH_INITIAL) {
    rec[0] = 22; /* handshake */
    rec[1] = 3;
    rec[2] = 1;
    rec[3] = (uint8_t)(len >> 8);
    rec[4] = (uint8_t)len;
    memcpy(rec + 5, data, len);
    return BIO_write(s->to_ossl, rec, (int)(len + 5)) == (int)(len + 5) ? 0 : -1;
  }
  if (!s->wr.on) {
    return -1;
  }
  memcpy(pt, data, len);
  pt[len] = 22; /* TLSInnerPlaintext.type */
  size_t ctlen = len + 1 + 16;
  rec[0] = 23;
  rec[1] = 3;
  rec[2] = 3;
  rec[3] = (uint8_t)(ctlen >> 8);
  rec[4] = (uint8_t)ctlen;
  rec_nonce(n, &s->wr);
  aq_ssize r = aq_aead_seal(&s->wr.aead, rec + 5, sizeof(rec) - 5, n, rec, 5, pt, len + 1);
  if (r < 0) {
    return -1;
  }
  s->wr.seq++;
  return BIO_write(s->to_ossl, rec, (int)(5 + (size_t)r)) > 0 ? 0 : -1;
}

static int i_secret(void *ud, aq_epoch e, int w, const aq_tls_suite *su, const uint8_t *sec,
                    size_t l) {
  iside *s = ud;
  rdir *d = w ? &s->wr : &s->rd;
  uint8_t key[32];
  size_t kl = aq_aead_key_len(su->aead);
  if (e == AQ_EPOCH_0RTT) {
    return 0;
  }
  if (d->on) {
    aq_aead_free(&d->aead);
    d->on = 0;
  }
  if (aq_hkdf_expand_label(su->hash, key, kl, sec, l, "key", NULL, 0) != 0 ||
      aq_hkdf_expand_label(su->hash, d->iv, 12, sec, l, "iv", NULL, 0) != 0 ||
      aq_aead_init(&d->aead, su->aead, key) != 0) {
    return -1;
  }
  d->seq = 0;
  d->on = 1;
  if (!w) {
    s->repoch = e;
  }
  return 0;
}

static int i_verify(void *ud, const uint8_t *spki, size_t spkilen, const uint8_t *cert,
                    size_t certlen) {
  iside *s = ud;
  (void)spki;
  (void)spkilen;
  s->verify_calls++;
  s->got_x509 = cert != NULL && certlen > 0;
  return 0;
}

static int i_ticket(void *ud, const uint8_t *sess, size_t len) {
  iside *s = ud;
  if (len > sizeof(s->sess)) {
    return -1;
  }
  memcpy(s->sess, sess, len);
  s->sesslen = len;
  s->tickets++;
  return 0;
}

static aq_ssize i_sign(void *c, uint16_t sc, uint8_t *sig, size_t cap, const uint8_t *m,
                       size_t ml) {
  iside *s = c;
  if (sc != AQ_SIG_ED25519 || cap < 64) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  return aq_ed25519_sign(sig, s->seed, m, ml) == 0 ? 64 : AQ_ERR_CRYPTO;
}

/** Read the records OpenSSL wrote and feed our engine.  0, or -1 on any failure. */
static int pump(iside *s, BIO *from) {
  int r;
  while ((r = BIO_read(from, s->inbuf + s->inlen, (int)(sizeof(s->inbuf) - s->inlen))) > 0) {
    s->inlen += (size_t)r;
  }
  size_t off = 0;
  while (s->inlen - off >= 5) {
    size_t len = ((size_t)s->inbuf[off + 3] << 8) | s->inbuf[off + 4];
    if (s->inlen - off < 5 + len) {
      break;
    }
    uint8_t type = s->inbuf[off], *body = s->inbuf + off + 5;
    int rv = 0;
    if (type == 22) {
      rv = aq_tls_recv(s->tls, AQ_EPOCH_INITIAL, body, len, 0);
    } else if (type == 23) {
      uint8_t pt[20000], n[12];
      if (!s->rd.on) {
        return -1;
      }
      rec_nonce(n, &s->rd);
      aq_ssize m = aq_aead_open(&s->rd.aead, pt, sizeof(pt), n, s->inbuf + off, 5, body, len);
      if (m < 0) {
        return -1;
      }
      s->rd.seq++;
      while (m > 0 && pt[m - 1] == 0) {
        m--;
      }
      if (m == 0) {
        return -1;
      }
      if (pt[m - 1] == 22) {
        rv = aq_tls_recv(s->tls, s->repoch, pt, (size_t)m - 1, 0);
      } else if (pt[m - 1] == 23) {
        s->app_data = (m - 1 == 4 && memcmp(pt, "ping", 4) == 0);
      } else {
        return -1; /* an alert from OpenSSL */
      }
    } else {
      return -1; /* plaintext alert (21) or change_cipher_spec (we disabled compat mode) */
    }
    if (rv != 0) {
      return -1;
    }
    off += 5 + len;
  }
  memmove(s->inbuf, s->inbuf + off, s->inlen - off);
  s->inlen -= off;
  return 0;
}

static int accept_any(int ok, X509_STORE_CTX *ctx) {
  (void)ok;
  (void)ctx;
  return 1;
}

typedef struct icase {
  int our_server;
  uint16_t suite;
  const char *ossl_groups; /* OpenSSL's group list, or NULL */
  int client_auth;
  SSL_CTX *ctx;           /* reuse (resumption on the OpenSSL side), or NULL */
  const uint8_t *session; /* our client: resume this */
  size_t session_len;
  SSL_SESSION *ossl_sess; /* OpenSSL client: resume this */
  /* results */
  int ours_done, ossl_done, resumed, ossl_reused;
  uint16_t group;
  int export_ok;
  SSL_SESSION *ossl_sess_out;
} icase;

static const uint8_t interop_ticket_key[32] = {0x42};

/** Run one handshake; returns 0 if both sides completed. */
static int interop_run(icase *c, iside *s) {
  uint8_t pub[32], serial[16] = {7}, oseed[32], ocert[1024];
  memset(s, 0, sizeof(*s));
  s->rng = 99;
  memset(s->seed, 5, 32);
  memset(oseed, 9, 32);
  if (aq_ed25519_public(pub, s->seed) != 0) {
    return -1;
  }
  aq_ssize spl = aq_spki_encode(s->spki, sizeof(s->spki), AQ_KEY_ED25519, pub, 32);
  aq_ssize cl = aq_x509_self_signed_ed25519(s->cert, sizeof(s->cert), s->seed, "localhost",
                                            1700000000, 3650, serial);
  aq_ssize ocl =
      aq_x509_self_signed_ed25519(ocert, sizeof(ocert), oseed, "openssl", 1700000000, 3650, serial);
  if (spl <= 0 || cl <= 0 || ocl <= 0) {
    return -1;
  }
  s->cred.sig_scheme = AQ_SIG_ED25519;
  s->cred.spki = s->spki;
  s->cred.spkilen = (size_t)spl;
  s->cred.cert = s->cert;
  s->cred.certlen = (size_t)cl;
  s->cred.sign = i_sign;
  s->cred.sign_ctx = s;

  /* OpenSSL: TLS 1.3 only, no middlebox compatibility (no ChangeCipherSpec), one suite. */
  SSL_CTX *ctx = c->ctx;
  if (ctx == NULL) {
    ctx = SSL_CTX_new(c->our_server ? TLS_client_method() : TLS_server_method());
    if (ctx == NULL) {
      return -1;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_clear_options(ctx, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_SERVER);
  }
  const char *sname = c->suite == 0x1301   ? "TLS_AES_128_GCM_SHA256"
                      : c->suite == 0x1302 ? "TLS_AES_256_GCM_SHA384"
                                           : "TLS_CHACHA20_POLY1305_SHA256";
  SSL_CTX_set_ciphersuites(ctx, sname);
  SSL_CTX_set1_groups_list(ctx, c->ossl_groups != NULL ? c->ossl_groups : "X25519:P-256");
  const uint8_t *p = ocert;
  X509 *ox = d2i_X509(NULL, &p, ocl);
  EVP_PKEY *okey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, oseed, 32);
  if (ox == NULL || okey == NULL) {
    return -1;
  }
  if (!c->our_server || c->client_auth) {
    SSL_CTX_use_certificate(ctx, ox);
    SSL_CTX_use_PrivateKey(ctx, okey);
  }
  if (!c->our_server) {
    SSL_CTX_set_verify(
        ctx, c->client_auth ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT : SSL_VERIFY_NONE,
        accept_any);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
  }
  SSL *ssl = SSL_new(ctx);
  BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rb, wb);
  s->to_ossl = rb;
  if (c->our_server) {
    SSL_set_connect_state(ssl);
    if (c->ossl_sess != NULL) {
      SSL_set_session(ssl, c->ossl_sess);
    }
  } else {
    SSL_set_accept_state(ssl);
  }

  /* Our engine. */
  static const uint16_t g_x[] = {AQ_TLS_GROUP_X25519};
  static const uint16_t g_px[] = {0x0017, AQ_TLS_GROUP_X25519};
  aq_tls_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.is_server = c->our_server;
  cfg.suites = &c->suite;
  cfg.nsuites = 1;
  cfg.allow_x509 = 1;
  cfg.cred = (c->our_server || c->client_auth) ? &s->cred : NULL;
  cfg.request_client_auth = c->our_server && c->client_auth;
  cfg.require_client_auth = c->our_server && c->client_auth;
  /* HRR from OpenSSL: our client puts P-256 first with the only key share. */
  int want_hrr_from_ossl = !c->our_server && c->ossl_groups != NULL;
  cfg.groups = want_hrr_from_ossl ? g_px : g_x;
  cfg.ngroups = want_hrr_from_ossl ? 2 : 1;
  cfg.server_name = c->our_server ? NULL : "openssl";
  cfg.ticket_key = c->our_server ? interop_ticket_key : NULL;
  cfg.session = c->session;
  cfg.session_len = c->session_len;
  aq_tls_callbacks cb = {i_send, i_secret, i_rand, i_verify, i_ticket};
  s->tls = aq_tls_new(&cfg, &cb, s, NULL);
  int rv = -1;
  if (s->tls == NULL || (!c->our_server && aq_tls_start(s->tls, 0) != 0)) {
    goto out;
  }
  for (int round = 0; round < 20; round++) {
    int r = SSL_do_handshake(ssl);
    if (r != 1 && SSL_get_error(ssl, r) != SSL_ERROR_WANT_READ) {
      ERR_print_errors_fp(stderr);
      goto out;
    }
    if (pump(s, wb) != 0) {
      fprintf(stderr, "interop: our alert %u\n", aq_tls_alert(s->tls));
      goto out;
    }
    if (r == 1 && aq_tls_handshake_done(s->tls)) {
      break;
    }
  }
  /* Application data from OpenSSL under the 1-RTT keys; OpenSSL reads our tickets. */
  uint8_t tmp[64];
  if (SSL_write(ssl, "ping", 4) != 4) {
    goto out;
  }
  int rr = SSL_read(ssl, tmp, sizeof(tmp));
  if (getenv("AQ_INTEROP_DEBUG")) {
    fprintf(stderr, "SSL_read %d err %d\n", rr, SSL_get_error(ssl, rr));
    ERR_print_errors_fp(stderr);
  }
  if (pump(s, wb) != 0) {
    goto out;
  }
  c->ours_done = aq_tls_handshake_done(s->tls);
  c->ossl_done = SSL_is_init_finished(ssl);
  c->resumed = aq_tls_resumed(s->tls);
  c->ossl_reused = SSL_session_reused(ssl);
  c->group = aq_tls_get_group(s->tls);
  c->ossl_sess_out = SSL_get1_session(ssl);
  /* RFC 8446 §7.5 exporter: both stacks derive the same bytes. */
  uint8_t e1[32], e2[32];
  static const uint8_t ectx[] = "interop";
  c->export_ok =
      aq_tls_export(s->tls, e1, sizeof(e1), "EXPORTER-aq-test", ectx, sizeof(ectx)) == 0 &&
      SSL_export_keying_material(ssl, e2, sizeof(e2), "EXPORTER-aq-test", 16, ectx, sizeof(ectx),
                                 1) == 1 &&
      memcmp(e1, e2, sizeof(e1)) == 0;
  rv = (c->ours_done && c->ossl_done && s->app_data) ? 0 : -1;
  /* A connection freed without a shutdown makes OpenSSL mark its session not resumable. */
  SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
out:
  aq_tls_del(s->tls);
  if (s->rd.on) {
    aq_aead_free(&s->rd.aead);
  }
  if (s->wr.on) {
    aq_aead_free(&s->wr.aead);
  }
  SSL_free(ssl);
  if (c->ctx == NULL) {
    SSL_CTX_free(ctx);
  }
  X509_free(ox);
  EVP_PKEY_free(okey);
  return rv;
}

static iside g_side;

static void suite_both_ways(uint16_t suite) {
  for (int our_server = 0; our_server < 2; our_server++) {
    for (int auth = 0; auth < 2; auth++) {
      icase c;
      memset(&c, 0, sizeof(c));
      c.our_server = our_server;
      c.suite = suite;
      c.client_auth = auth;
      CHECK_INT(interop_run(&c, &g_side), 0);
      CHECK(c.ours_done && c.ossl_done);
      CHECK_INT(c.group, AQ_TLS_GROUP_X25519);
      CHECK(c.export_ok);
      /* We saw and accepted OpenSSL's X.509 certificate whenever it authenticated. */
      CHECK_INT(g_side.verify_calls, (!our_server || auth) ? 1 : 0);
      CHECK(g_side.got_x509 == ((!our_server || auth) ? 1 : 0));
      SSL_SESSION_free(c.ossl_sess_out);
    }
  }
}

AQ_TEST(tls_interop_openssl_aes128) {
  suite_both_ways(AQ_TLS_AES_128_GCM_SHA256);
}
AQ_TEST(tls_interop_openssl_aes256) {
  suite_both_ways(AQ_TLS_AES_256_GCM_SHA384);
}
AQ_TEST(tls_interop_openssl_chacha) {
  suite_both_ways(AQ_TLS_CHACHA20_POLY1305_SHA256);
}

AQ_TEST(tls_interop_openssl_hrr) {
  icase c;
  /* OpenSSL server with X25519 only; our client's one share is P-256. */
  memset(&c, 0, sizeof(c));
  c.suite = AQ_TLS_AES_128_GCM_SHA256;
  c.ossl_groups = "X25519";
  CHECK_INT(interop_run(&c, &g_side), 0);
  CHECK_INT(c.group, AQ_TLS_GROUP_X25519);
  SSL_SESSION_free(c.ossl_sess_out);
  /* OpenSSL client sends a P-256 share first; our server only does X25519. */
  memset(&c, 0, sizeof(c));
  c.our_server = 1;
  c.suite = AQ_TLS_AES_256_GCM_SHA384;
  c.ossl_groups = "P-256:X25519";
  CHECK_INT(interop_run(&c, &g_side), 0);
  CHECK_INT(c.group, AQ_TLS_GROUP_X25519);
  SSL_SESSION_free(c.ossl_sess_out);
}

AQ_TEST(tls_interop_openssl_resumption) {
  icase c;
  /* Our client resumes with OpenSSL's ticket: OpenSSL verifies our binder. */
  SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
  REQUIRE(sctx != NULL);
  SSL_CTX_set_min_proto_version(sctx, TLS1_3_VERSION);
  SSL_CTX_clear_options(sctx, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
  memset(&c, 0, sizeof(c));
  c.suite = AQ_TLS_AES_128_GCM_SHA256;
  c.ctx = sctx;
  CHECK_INT(interop_run(&c, &g_side), 0);
  SSL_SESSION_free(c.ossl_sess_out);
  CHECK(g_side.tickets >= 1);
  uint8_t sess[4096];
  size_t sesslen = g_side.sesslen;
  memcpy(sess, g_side.sess, sesslen);
  memset(&c, 0, sizeof(c));
  c.suite = AQ_TLS_AES_128_GCM_SHA256;
  c.ctx = sctx;
  c.session = sess;
  c.session_len = sesslen;
  CHECK_INT(interop_run(&c, &g_side), 0);
  CHECK(c.resumed);
  CHECK(c.ossl_reused);
  CHECK_INT(g_side.verify_calls, 0);
  SSL_SESSION_free(c.ossl_sess_out);
  SSL_CTX_free(sctx);

  /* OpenSSL's client resumes with our ticket: we verify its binder. */
  SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
  REQUIRE(cctx != NULL);
  SSL_CTX_set_min_proto_version(cctx, TLS1_3_VERSION);
  SSL_CTX_clear_options(cctx, SSL_OP_ENABLE_MIDDLEBOX_COMPAT);
  /* Without a client cache (or callback) OpenSSL drops the NewSessionTicket. */
  SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT);
  memset(&c, 0, sizeof(c));
  c.our_server = 1;
  c.suite = AQ_TLS_AES_128_GCM_SHA256;
  c.ctx = cctx;
  CHECK_INT(interop_run(&c, &g_side), 0);
  SSL_SESSION *os = c.ossl_sess_out;
  REQUIRE(os != NULL);
  CHECK(SSL_SESSION_has_ticket(os));
  CHECK_INT(SSL_SESSION_get_ticket_lifetime_hint(os), 86400);
  CHECK(SSL_SESSION_is_resumable(os));
  memset(&c, 0, sizeof(c));
  c.our_server = 1;
  c.suite = AQ_TLS_AES_128_GCM_SHA256;
  c.ctx = cctx;
  c.ossl_sess = os;
  CHECK_INT(interop_run(&c, &g_side), 0);
  CHECK(c.resumed);
  CHECK(c.ossl_reused);
  SSL_SESSION_free(c.ossl_sess_out);
  SSL_SESSION_free(os);
  SSL_CTX_free(cctx);
}
