/*
 * test_tls_handshake.c - our client against our server, in process: the
 * bytes each side hands to cb.send are split into handshake messages and
 * delivered one by one to the other side's aq_tls_recv (optionally mutated,
 * dropped or reordered by a hook), with deterministic randomness.
 */
#include <stdlib.h>
#include <string.h>

#include "aq_crypto.h"
#include "aq_test.h"
#include "aq_tls.h"
#include "aq_tls_cert.h"
#include "aq_tls_group.h"
#include "aq_tls_msg.h"

#define MAXQ 64

/* The time both engines are told (nanoseconds). */
static aq_tstamp g_now;

typedef struct peer {
  aq_tls *tls;
  int is_server;
  uint64_t rng;
  /* Output queue: whole handshake messages with their epoch. */
  struct {
    aq_epoch epoch;
    uint8_t *data;
    size_t len;
  } q[MAXQ];
  size_t nq;
  /* Secrets per epoch and direction (0 = read, 1 = write). */
  uint8_t secret[AQ_EPOCH_COUNT][2][48];
  size_t secretlen[AQ_EPOCH_COUNT][2];
  /* Credential. */
  uint8_t seed[32];
  uint8_t spki[64];
  size_t spkilen;
  uint8_t cert[1024];
  size_t certlen;
  aq_tls_credential cred;
  /* Expected peer key (NULL: accept any); the last verify_peer arguments. */
  const uint8_t *pin;
  size_t pinlen;
  int got_cert;
  int verify_calls;
  /* The last session from on_ticket. */
  uint8_t session[4096];
  size_t session_len;
  int tickets;
} peer;

static int peer_send(void *ud, aq_epoch epoch, const uint8_t *data, size_t len) {
  peer *p = ud;
  aq_rbuf r;
  aq_rbuf_init(&r, data, len);
  /* Split into messages: the engine emits whole messages only. */
  while (aq_rbuf_left(&r) > 0) {
    const uint8_t *start = r.p, *body;
    uint8_t type;
    size_t bodylen;
    if (aq_tls_msg_split(&r, &type, &body, &bodylen) != 0 || p->nq == MAXQ) {
      return -1;
    }
    size_t n = (size_t)(r.p - start);
    p->q[p->nq].epoch = epoch;
    p->q[p->nq].data = malloc(n);
    memcpy(p->q[p->nq].data, start, n);
    p->q[p->nq].len = n;
    p->nq++;
  }
  return 0;
}

static int peer_set_secret(void *ud, aq_epoch epoch, int is_write, const aq_tls_suite *suite,
                           const uint8_t *secret, size_t len) {
  peer *p = ud;
  if (len != aq_hash_len(suite->hash) || len > 48) {
    return -1;
  }
  memcpy(p->secret[epoch][is_write ? 1 : 0], secret, len);
  p->secretlen[epoch][is_write ? 1 : 0] = len;
  return 0;
}

static int peer_rand(uint8_t *buf, size_t len, void *ud) {
  peer *p = ud;
  return aq_test_rand(buf, len, &p->rng);
}

static int peer_verify(void *ud, const uint8_t *spki, size_t spkilen, const uint8_t *cert,
                       size_t certlen) {
  peer *p = ud;
  p->verify_calls++;
  p->got_cert = cert != NULL && certlen > 0;
  if (p->pin == NULL) {
    return 0;
  }
  return (spkilen == p->pinlen && memcmp(spki, p->pin, spkilen) == 0) ? 0 : -1;
}

static int peer_on_ticket(void *ud, const uint8_t *session, size_t len) {
  peer *p = ud;
  if (len > sizeof(p->session)) {
    return -1;
  }
  memcpy(p->session, session, len);
  p->session_len = len;
  p->tickets++;
  return 0;
}

static aq_ssize ed25519_signer(void *ctx, uint16_t scheme, uint8_t *sig, size_t sigcap,
                               const uint8_t *msg, size_t msglen) {
  peer *p = ctx;
  if (scheme != AQ_SIG_ED25519 || sigcap < AQ_ED25519_SIG_LEN) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (aq_ed25519_sign(sig, p->seed, msg, msglen) != 0) {
    return AQ_ERR_CRYPTO;
  }
  return AQ_ED25519_SIG_LEN;
}

/** Give p an Ed25519 identity (RPK SPKI and a self-signed X.509 certificate). */
static void peer_identity(peer *p, uint8_t seedbyte) {
  uint8_t pub[32], serial[16] = {1};
  memset(p->seed, seedbyte, sizeof(p->seed));
  REQUIRE(aq_ed25519_public(pub, p->seed) == 0);
  aq_ssize n = aq_spki_encode(p->spki, sizeof(p->spki), AQ_KEY_ED25519, pub, 32);
  REQUIRE(n > 0);
  p->spkilen = (size_t)n;
  n = aq_x509_self_signed_ed25519(p->cert, sizeof(p->cert), p->seed, "node.test", 1700000000, 365,
                                  serial);
  REQUIRE(n > 0);
  p->certlen = (size_t)n;
  p->cred.sig_scheme = AQ_SIG_ED25519;
  p->cred.spki = p->spki;
  p->cred.spkilen = p->spkilen;
  p->cred.cert = p->cert;
  p->cred.certlen = p->certlen;
  p->cred.sign = ed25519_signer;
  p->cred.sign_ctx = p;
}

static const uint8_t tp_client[] = {0x01, 0x02, 0x03};
static const uint8_t tp_server[] = {0x0a, 0x0b, 0x0c, 0x0d};
static const char *const alpn_both[] = {"ant-quic", "h3"};

/** A P2P-style configuration: QUIC, RPK, mutual auth, ALPN, transport parameters. */
static void default_cfg(aq_tls_config *c, int is_server, peer *p) {
  memset(c, 0, sizeof(*c));
  c->is_server = is_server;
  c->quic = 1;
  c->offer_rpk = 1;
  c->cred = &p->cred;
  c->request_client_auth = is_server;
  c->require_client_auth = is_server;
  c->alpn = alpn_both;
  c->nalpn = 2;
  c->alpn_required = is_server;
  c->transport_params = is_server ? tp_server : tp_client;
  c->transport_params_len = is_server ? sizeof(tp_server) : sizeof(tp_client);
  if (!is_server) {
    c->server_name = "node.test";
  }
}

static const aq_tls_callbacks callbacks = {peer_send, peer_set_secret, peer_rand, peer_verify,
                                           peer_on_ticket};

/* Allocators for the next engines (NULL = default): [0] client, [1] server. */
static const aq_mem *g_mem[2];

static int peer_init(peer *p, const aq_tls_config *cfg, uint64_t seed) {
  p->rng = seed;
  p->is_server = cfg->is_server;
  p->tls = aq_tls_new(cfg, &callbacks, p, g_mem[cfg->is_server ? 1 : 0]);
  return p->tls != NULL;
}

static void peer_free(peer *p) {
  for (size_t i = 0; i < p->nq; i++) {
    free(p->q[i].data);
  }
  p->nq = 0;
  aq_tls_del(p->tls);
  p->tls = NULL;
}

/*
 * Mutation hook: called for the k-th message delivered (counting from 0 over
 * the whole handshake); may rewrite it in place (len adjustable), return 1 to
 * swap it with the next queued message, or 0 to leave it.
 */
typedef int (*mutate_fn)(void *ctx, size_t k, uint8_t *msg, size_t *len);

/** Shuttle messages until neither side has output; returns 0 or the first recv error. */
static int shuttle(peer *a, peer *b, mutate_fn mutate, void *ctx, size_t *count) {
  size_t k = 0;
  int progress = 1;
  while (progress) {
    progress = 0;
    peer *sides[2] = {a, b};
    for (int s = 0; s < 2; s++) {
      peer *from = sides[s], *to = sides[1 - s];
      while (from->nq > 0) {
        if (mutate != NULL && from->nq > 1) {
          size_t len0 = from->q[0].len;
          if (mutate(ctx, k, NULL, &len0) == 1) {
            /* swap the first two queued messages */
            __typeof__(from->q[0]) t = from->q[0];
            from->q[0] = from->q[1];
            from->q[1] = t;
          }
        }
        uint8_t buf[8192];
        size_t len = from->q[0].len;
        aq_epoch ep = from->q[0].epoch;
        memcpy(buf, from->q[0].data, len);
        free(from->q[0].data);
        memmove(&from->q[0], &from->q[1], (from->nq - 1) * sizeof(from->q[0]));
        from->nq--;
        if (mutate != NULL) {
          (void)mutate(ctx, k, buf, &len);
        }
        k++;
        int rv = aq_tls_recv(to->tls, ep, buf, len, g_now);
        if (count != NULL) {
          *count = k;
        }
        if (rv != 0) {
          return rv;
        }
        progress = 1;
      }
    }
  }
  return 0;
}

/** Every epoch's write secret on one side equals the read secret on the other. */
static void check_secrets_match(const peer *c, const peer *s) {
  for (int e = AQ_EPOCH_HANDSHAKE; e <= AQ_EPOCH_1RTT; e++) {
    CHECK(c->secretlen[e][1] > 0);
    CHECK_INT(c->secretlen[e][1], s->secretlen[e][0]);
    CHECK_INT(c->secretlen[e][0], s->secretlen[e][1]);
    CHECK_MEM(c->secret[e][1], s->secret[e][0], c->secretlen[e][1]);
    CHECK_MEM(c->secret[e][0], s->secret[e][1], c->secretlen[e][0]);
    /* and the two directions differ */
    CHECK(memcmp(c->secret[e][0], c->secret[e][1], c->secretlen[e][0]) != 0);
  }
}

typedef struct pair {
  peer c, s;
  aq_tls_config cc, sc;
} pair;

static void pair_setup(pair *p) {
  memset(p, 0, sizeof(*p));
  peer_identity(&p->c, 0x11);
  peer_identity(&p->s, 0x22);
  default_cfg(&p->cc, 0, &p->c);
  default_cfg(&p->sc, 1, &p->s);
}

/** Create engines from the configs, start, and shuttle; returns the shuttle result. */
static int pair_run(pair *p, mutate_fn mutate, void *ctx, size_t *count) {
  if (!peer_init(&p->c, &p->cc, 1) || !peer_init(&p->s, &p->sc, 2)) {
    return AQ_ERR_NOMEM;
  }
  int rv = aq_tls_start(p->c.tls, g_now);
  if (rv != 0) {
    return rv;
  }
  return shuttle(&p->c, &p->s, mutate, ctx, count);
}

static void pair_free(pair *p) {
  peer_free(&p->c);
  peer_free(&p->s);
}

static void run_suite(uint16_t suite) {
  pair p;
  pair_setup(&p);
  p.cc.suites = &suite;
  p.cc.nsuites = 1;
  p.c.pin = p.s.spki;
  p.c.pinlen = p.s.spkilen;
  p.s.pin = p.c.spki;
  p.s.pinlen = p.c.spkilen;
  REQUIRE(pair_run(&p, NULL, NULL, NULL) == 0);
  CHECK(aq_tls_handshake_done(p.c.tls));
  CHECK(aq_tls_handshake_done(p.s.tls));
  CHECK_INT(aq_tls_alert(p.c.tls), 0);
  REQUIRE(aq_tls_get_suite(p.c.tls) != NULL);
  CHECK_INT(aq_tls_get_suite(p.c.tls)->id, suite);
  CHECK_INT(aq_tls_get_suite(p.s.tls)->id, suite);
  CHECK_INT(aq_tls_get_group(p.c.tls), AQ_TLS_GROUP_X25519MLKEM768); /* the default */
  CHECK_INT(aq_tls_get_group(p.s.tls), AQ_TLS_GROUP_X25519MLKEM768); /* the default */
  check_secrets_match(&p.c, &p.s);
  /* ALPN: the server's first preference. */
  REQUIRE(aq_tls_get_alpn(p.c.tls) != NULL && aq_tls_get_alpn(p.s.tls) != NULL);
  CHECK(strcmp(aq_tls_get_alpn(p.c.tls), "ant-quic") == 0);
  CHECK(strcmp(aq_tls_get_alpn(p.s.tls), "ant-quic") == 0);
  /* Transport parameters crossed over; SNI seen by the server. */
  size_t n;
  const uint8_t *tp = aq_tls_get_peer_transport_params(p.c.tls, &n);
  CHECK(tp != NULL && n == sizeof(tp_server) && memcmp(tp, tp_server, n) == 0);
  tp = aq_tls_get_peer_transport_params(p.s.tls, &n);
  CHECK(tp != NULL && n == sizeof(tp_client) && memcmp(tp, tp_client, n) == 0);
  REQUIRE(aq_tls_get_server_name(p.s.tls) != NULL);
  CHECK(strcmp(aq_tls_get_server_name(p.s.tls), "node.test") == 0);
  CHECK(aq_tls_get_server_name(p.c.tls) == NULL);
  /* Both authenticated with raw public keys. */
  const uint8_t *spki = aq_tls_get_peer_spki(p.c.tls, &n);
  CHECK(spki != NULL && n == p.s.spkilen && memcmp(spki, p.s.spki, n) == 0);
  spki = aq_tls_get_peer_spki(p.s.tls, &n);
  CHECK(spki != NULL && n == p.c.spkilen && memcmp(spki, p.c.spki, n) == 0);
  CHECK_INT(p.c.verify_calls, 1);
  CHECK_INT(p.s.verify_calls, 1);
  CHECK(!p.c.got_cert && !p.s.got_cert);
  /* Exporters agree. */
  uint8_t e1[32], e2[32];
  REQUIRE(aq_tls_export(p.c.tls, e1, sizeof(e1), "EXPORTER-test", (const uint8_t *)"x", 1) == 0);
  REQUIRE(aq_tls_export(p.s.tls, e2, sizeof(e2), "EXPORTER-test", (const uint8_t *)"x", 1) == 0);
  CHECK_MEM(e1, e2, 32);
  /* Later input after completion that is not a ticket is refused. */
  pair_free(&p);
}

AQ_TEST(tls_hs_rpk_mutual_aes128) {
  run_suite(AQ_TLS_AES_128_GCM_SHA256);
}
AQ_TEST(tls_hs_rpk_mutual_aes256) {
  run_suite(AQ_TLS_AES_256_GCM_SHA384);
}
AQ_TEST(tls_hs_rpk_mutual_chacha) {
  run_suite(AQ_TLS_CHACHA20_POLY1305_SHA256);
}

AQ_TEST(tls_hs_x509_server_only) {
  pair p;
  pair_setup(&p);
  /* A standard TLS client: no RFC 7250, no client certificate. */
  p.cc.offer_rpk = 0;
  p.cc.cred = NULL;
  p.sc.request_client_auth = 0;
  p.sc.require_client_auth = 0;
  p.sc.allow_x509 = 1;
  p.c.pin = p.s.spki; /* verify_peer still sees the SPKI taken out of the certificate */
  p.c.pinlen = p.s.spkilen;
  REQUIRE(pair_run(&p, NULL, NULL, NULL) == 0);
  CHECK(aq_tls_handshake_done(p.c.tls) && aq_tls_handshake_done(p.s.tls));
  CHECK(p.c.got_cert);
  CHECK_INT(p.s.verify_calls, 0);
  check_secrets_match(&p.c, &p.s);
  pair_free(&p);
}

AQ_TEST(tls_hs_x509_mutual) {
  pair p;
  pair_setup(&p);
  p.cc.offer_rpk = 0;
  p.sc.offer_rpk = 0;
  p.c.pin = p.s.spki;
  p.c.pinlen = p.s.spkilen;
  p.s.pin = p.c.spki;
  p.s.pinlen = p.c.spkilen;
  REQUIRE(pair_run(&p, NULL, NULL, NULL) == 0);
  CHECK(aq_tls_handshake_done(p.c.tls) && aq_tls_handshake_done(p.s.tls));
  CHECK(p.c.got_cert && p.s.got_cert);
  check_secrets_match(&p.c, &p.s);
  pair_free(&p);
}

AQ_TEST(tls_hs_hrr) {
  pair p;
  static const uint16_t cgroups[] = {AQ_TLS_GROUP_SECP256R1, AQ_TLS_GROUP_X25519};
  static const uint16_t sgroups[] = {AQ_TLS_GROUP_X25519};
  pair_setup(&p);
  p.cc.groups = cgroups;
  p.cc.ngroups = 2;
  p.sc.groups = sgroups;
  p.sc.ngroups = 1;
  size_t count = 0;
  REQUIRE(pair_run(&p, NULL, NULL, &count) == 0);
  CHECK(aq_tls_handshake_done(p.c.tls) && aq_tls_handshake_done(p.s.tls));
  CHECK_INT(aq_tls_get_group(p.c.tls), AQ_TLS_GROUP_X25519);
  /* CH1, HRR, CH2, SH, EE, CR, Cert, CV, Fin, Cert, CV, Fin */
  CHECK_INT(count, 12);
  check_secrets_match(&p.c, &p.s);
  pair_free(&p);
}

AQ_TEST(tls_hs_p256) {
  pair p;
  static const uint16_t groups[] = {AQ_TLS_GROUP_SECP256R1};
  pair_setup(&p);
  p.cc.groups = groups;
  p.cc.ngroups = 1;
  p.sc.groups = groups;
  p.sc.ngroups = 1;
  REQUIRE(pair_run(&p, NULL, NULL, NULL) == 0);
  CHECK_INT(aq_tls_get_group(p.s.tls), AQ_TLS_GROUP_SECP256R1);
  check_secrets_match(&p.c, &p.s);
  pair_free(&p);
}

AQ_TEST(tls_hs_no_common_group) {
  pair p;
  static const uint16_t cgroups[] = {AQ_TLS_GROUP_SECP256R1};
  static const uint16_t sgroups[] = {AQ_TLS_GROUP_X25519};
  pair_setup(&p);
  p.cc.groups = cgroups;
  p.cc.ngroups = 1;
  p.sc.groups = sgroups;
  p.sc.ngroups = 1;
  CHECK_INT(pair_run(&p, NULL, NULL, NULL), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.s.tls), AQ_TLS_ALERT_HANDSHAKE_FAILURE);
  pair_free(&p);
}

AQ_TEST(tls_hs_no_client_auth) {
  pair p;
  pair_setup(&p);
  p.sc.request_client_auth = 0;
  p.sc.require_client_auth = 0;
  p.cc.cred = NULL;
  REQUIRE(pair_run(&p, NULL, NULL, NULL) == 0);
  CHECK(aq_tls_handshake_done(p.c.tls) && aq_tls_handshake_done(p.s.tls));
  size_t n;
  CHECK(aq_tls_get_peer_spki(p.s.tls, &n) == NULL);
  check_secrets_match(&p.c, &p.s);
  pair_free(&p);
}

AQ_TEST(tls_hs_client_without_cert_refused) {
  pair p;
  pair_setup(&p);
  p.cc.cred = NULL;
  CHECK_INT(pair_run(&p, NULL, NULL, NULL), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.s.tls), AQ_TLS_ALERT_CERTIFICATE_REQUIRED);
  CHECK(!aq_tls_handshake_done(p.s.tls));
  pair_free(&p);
}

AQ_TEST(tls_hs_client_without_cert_optional) {
  pair p;
  pair_setup(&p);
  p.cc.cred = NULL;
  p.sc.require_client_auth = 0;
  REQUIRE(pair_run(&p, NULL, NULL, NULL) == 0);
  CHECK(aq_tls_handshake_done(p.s.tls));
  pair_free(&p);
}

AQ_TEST(tls_hs_alpn_mismatch) {
  pair p;
  static const char *const other[] = {"other"};
  pair_setup(&p);
  p.cc.alpn = other;
  p.cc.nalpn = 1;
  CHECK_INT(pair_run(&p, NULL, NULL, NULL), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.s.tls), AQ_TLS_ALERT_NO_APPLICATION_PROTOCOL);
  /* Sticky: later input returns the same. */
  CHECK_INT(aq_tls_recv(p.s.tls, AQ_EPOCH_INITIAL, (const uint8_t *)"\x01", 1, 0),
            AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.s.tls), AQ_TLS_ALERT_NO_APPLICATION_PROTOCOL);
  pair_free(&p);
}

AQ_TEST(tls_hs_missing_transport_params) {
  pair p;
  pair_setup(&p);
  p.cc.transport_params = NULL;
  p.cc.transport_params_len = 0;
  CHECK_INT(pair_run(&p, NULL, NULL, NULL), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.s.tls), AQ_TLS_ALERT_MISSING_EXTENSION);
  pair_free(&p);
  pair_setup(&p);
  p.sc.transport_params = NULL;
  p.sc.transport_params_len = 0;
  CHECK_INT(pair_run(&p, NULL, NULL, NULL), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.c.tls), AQ_TLS_ALERT_MISSING_EXTENSION);
  pair_free(&p);
}

AQ_TEST(tls_hs_wrong_pin) {
  pair p;
  uint8_t other[64];
  pair_setup(&p);
  memcpy(other, p.s.spki, p.s.spkilen);
  other[p.s.spkilen - 1] ^= 1;
  p.c.pin = other;
  p.c.pinlen = p.s.spkilen;
  CHECK_INT(pair_run(&p, NULL, NULL, NULL), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.c.tls), AQ_TLS_ALERT_BAD_CERTIFICATE);
  CHECK(!aq_tls_handshake_done(p.c.tls));
  /* No 1-RTT keys were handed out. */
  CHECK_INT(p.c.secretlen[AQ_EPOCH_1RTT][0], 0);
  CHECK_INT(p.c.secretlen[AQ_EPOCH_1RTT][1], 0);
  pair_free(&p);
  /* And the server refusing the client's key. */
  pair_setup(&p);
  memcpy(other, p.c.spki, p.c.spkilen);
  other[5] ^= 0x40;
  p.s.pin = other;
  p.s.pinlen = p.c.spkilen;
  CHECK_INT(pair_run(&p, NULL, NULL, NULL), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.s.tls), AQ_TLS_ALERT_BAD_CERTIFICATE);
  CHECK_INT(p.s.secretlen[AQ_EPOCH_1RTT][0], 0);
  pair_free(&p);
}

/* ---------------------------------------------------- mutation scenarios */

typedef struct mut {
  size_t target;   /* message index to mutate */
  uint8_t type;    /* or: first message of this type (if target == SIZE_MAX) */
  int from_server; /* with type: which side's message */
  size_t trunc;    /* truncate the body to this length (SIZE_MAX: no) */
  long flip;       /* flip a byte at this offset from the end (-1: no) */
  int swap;        /* swap with the next message */
  int done;
} mut;

static int mutate(void *ctx, size_t k, uint8_t *msg, size_t *len) {
  mut *m = ctx;
  if (m->done || k != m->target) {
    return 0;
  }
  if (msg == NULL) {
    return m->swap; /* swap request (before delivery) */
  }
  /* A ticket is opaque to the client: changing it is not detectable, so sweeps skip it. */
  if (msg[0] == AQ_TLS_HS_NEW_SESSION_TICKET) {
    return 0;
  }
  /* Flips stay inside the body (a larger length would only make the receiver wait). */
  if (m->flip >= 0 && (size_t)m->flip + 4 >= *len) {
    return 0;
  }
  m->done = 1;
  if (m->trunc != SIZE_MAX) {
    msg[1] = (uint8_t)(m->trunc >> 16);
    msg[2] = (uint8_t)(m->trunc >> 8);
    msg[3] = (uint8_t)m->trunc;
    *len = 4 + m->trunc;
  }
  if (m->flip >= 0) {
    msg[*len - 1 - (size_t)m->flip] ^= 0x01;
  }
  return 0;
}

/* Message order in the full P2P handshake (client auth, no HRR). */
enum { M_CH, M_SH, M_EE, M_CR, M_SCERT, M_SCV, M_SFIN, M_CCERT, M_CCV, M_CFIN, M_COUNT };

/*
 * Sweep scenarios: 0 = the P2P handshake (RPK, mutual auth), 1 = with a
 * HelloRetryRequest, 2 = resumption with 0-RTT, 3 = X.509 both ways.
 */
static int g_scenario;
static const uint8_t sweep_ticket_key[32] = {0x77};
static uint8_t sweep_sess[4096];
static size_t sweep_sesslen;

static void scenario_setup(pair *p) {
  static const uint16_t cgroups[] = {AQ_TLS_GROUP_SECP256R1, AQ_TLS_GROUP_X25519};
  static const uint16_t sgroups[] = {AQ_TLS_GROUP_X25519};
  pair_setup(p);
  g_now = 0;
  switch (g_scenario) {
  case 1:
    p->cc.groups = cgroups;
    p->cc.ngroups = 2;
    p->sc.groups = sgroups;
    p->sc.ngroups = 1;
    break;
  case 2:
    p->sc.ticket_key = sweep_ticket_key;
    p->sc.accept_early_data = 1;
    p->cc.enable_early_data = 1;
    p->cc.session = sweep_sess;
    p->cc.session_len = sweep_sesslen;
    g_now = 2 * AQ_SECONDS;
    break;
  case 3:
    p->cc.offer_rpk = 0;
    p->sc.offer_rpk = 0;
    break;
  default: break;
  }
}

/** The session scenario 2 resumes (from one full handshake). */
static void sweep_prepare(void) {
  pair p;
  pair_setup(&p);
  p.sc.ticket_key = sweep_ticket_key;
  p.sc.accept_early_data = 1;
  g_now = AQ_SECONDS;
  if (pair_run(&p, NULL, NULL, NULL) == 0 && p.c.tickets == 1) {
    memcpy(sweep_sess, p.c.session, p.c.session_len);
    sweep_sesslen = p.c.session_len;
  }
  pair_free(&p);
}

static void run_mut(mut *m, int *rv, uint8_t *calert, uint8_t *salert) {
  pair p;
  scenario_setup(&p);
  m->done = 0;
  *rv = pair_run(&p, mutate, m, NULL);
  *calert = aq_tls_alert(p.c.tls);
  *salert = aq_tls_alert(p.s.tls);
  pair_free(&p);
}

AQ_TEST(tls_hs_tampered_finished) {
  int rv;
  uint8_t ca, sa;
  mut m = {M_SFIN, 0, 0, SIZE_MAX, 0, 0, 0};
  run_mut(&m, &rv, &ca, &sa);
  CHECK_INT(rv, AQ_ERR_TLS_ALERT);
  CHECK_INT(ca, AQ_TLS_ALERT_DECRYPT_ERROR);
  m.target = M_CFIN;
  run_mut(&m, &rv, &ca, &sa);
  CHECK_INT(rv, AQ_ERR_TLS_ALERT);
  CHECK_INT(sa, AQ_TLS_ALERT_DECRYPT_ERROR);
}

AQ_TEST(tls_hs_tampered_cert_verify) {
  int rv;
  uint8_t ca, sa;
  mut m = {M_SCV, 0, 0, SIZE_MAX, 3, 0, 0};
  run_mut(&m, &rv, &ca, &sa);
  CHECK_INT(rv, AQ_ERR_TLS_ALERT);
  CHECK_INT(ca, AQ_TLS_ALERT_DECRYPT_ERROR);
  m.target = M_CCV;
  run_mut(&m, &rv, &ca, &sa);
  CHECK_INT(rv, AQ_ERR_TLS_ALERT);
  CHECK_INT(sa, AQ_TLS_ALERT_DECRYPT_ERROR);
  /* The key whose signature failed is never reported as the peer's. */
  pair p;
  pair_setup(&p);
  mut m2 = {M_SCV, 0, 0, SIZE_MAX, 3, 0, 0};
  CHECK_INT(pair_run(&p, mutate, &m2, NULL), AQ_ERR_TLS_ALERT);
  size_t n = 1;
  CHECK(aq_tls_get_peer_spki(p.c.tls, &n) == NULL);
  CHECK_INT(n, 0);
  pair_free(&p);
}

/* A flipped byte anywhere in any message ends the handshake with an alert (or, where the byte
 * carries no meaning we check — e.g. random or an ignored field — the handshake still fails at
 * Finished because the transcripts differ), never a crash. */
static void flip_sweep(int scenario, long maxoff) {
  g_scenario = scenario;
  sweep_prepare();
  REQUIRE(sweep_sesslen > 0);
  for (size_t t = 0; t < 14; t++) {
    for (long off = 0; off < maxoff; off++) {
      int rv;
      uint8_t ca, sa;
      mut m = {t, 0, 0, SIZE_MAX, off, 0, 0};
      run_mut(&m, &rv, &ca, &sa);
      if (!m.done) {
        break;
      }
      CHECK_INT(rv, AQ_ERR_TLS_ALERT);
      CHECK(ca != 0 || sa != 0);
    }
  }
  g_scenario = 0;
}

AQ_TEST(tls_hs_flip_every_byte) {
  flip_sweep(0, 400);
}
AQ_TEST(tls_hs_flip_every_byte_hrr) {
  flip_sweep(1, 400);
}
AQ_TEST(tls_hs_flip_every_byte_resumption) {
  flip_sweep(2, 400);
}
/* X.509 certificates are long: the last 200 bytes of each message (the signature and the
 * SPKI of a certificate sit there). */
AQ_TEST(tls_hs_flip_every_byte_x509) {
  flip_sweep(3, 200);
}

static void trunc_sweep(int scenario) {
  g_scenario = scenario;
  sweep_prepare();
  REQUIRE(sweep_sesslen > 0);
  for (size_t t = 0; t < 14; t++) {
    for (size_t n = 0;; n++) {
      int rv;
      uint8_t ca, sa;
      pair p;
      mut m = {t, 0, 0, n, -1, 0, 0};
      scenario_setup(&p);
      /* stop once n reaches the real body length */
      rv = pair_run(&p, mutate, &m, NULL);
      ca = aq_tls_alert(p.c.tls);
      sa = aq_tls_alert(p.s.tls);
      int finished = aq_tls_handshake_done(p.c.tls) && aq_tls_handshake_done(p.s.tls);
      pair_free(&p);
      if (finished) {
        /* n was >= the body length: only possible when the message is unchanged */
        break;
      }
      CHECK_INT(rv, AQ_ERR_TLS_ALERT);
      CHECK(ca != 0 || sa != 0);
      if (n > 2000) {
        CHECK(0);
        break;
      }
    }
  }
  g_scenario = 0;
}

AQ_TEST(tls_hs_truncated_every_offset) {
  trunc_sweep(0);
}
AQ_TEST(tls_hs_truncated_every_offset_hrr) {
  trunc_sweep(1);
}
AQ_TEST(tls_hs_truncated_every_offset_resumption) {
  trunc_sweep(2);
}
AQ_TEST(tls_hs_truncated_every_offset_x509) {
  trunc_sweep(3);
}

AQ_TEST(tls_hs_reordered) {
  /* Swap each adjacent pair of messages from the same sender. */
  static const size_t pairs[] = {M_EE, M_CR, M_SCERT, M_SCV, M_CCERT, M_CCV};
  for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
    int rv;
    uint8_t ca, sa;
    mut m = {pairs[i], 0, 0, SIZE_MAX, -1, 1, 0};
    run_mut(&m, &rv, &ca, &sa);
    CHECK_INT(rv, AQ_ERR_TLS_ALERT);
    CHECK(ca == AQ_TLS_ALERT_UNEXPECTED_MESSAGE || sa == AQ_TLS_ALERT_UNEXPECTED_MESSAGE);
  }
}

AQ_TEST(tls_hs_wrong_epoch_and_unexpected) {
  pair p;
  pair_setup(&p);
  REQUIRE(peer_init(&p.c, &p.cc, 1) && peer_init(&p.s, &p.sc, 2));
  REQUIRE(aq_tls_start(p.c.tls, 0) == 0);
  REQUIRE(p.c.nq == 1);
  /* The ClientHello at the Handshake epoch. */
  CHECK_INT(aq_tls_recv(p.s.tls, AQ_EPOCH_HANDSHAKE, p.c.q[0].data, p.c.q[0].len, 0),
            AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.s.tls), AQ_TLS_ALERT_UNEXPECTED_MESSAGE);
  /* A ClientHello sent to a client. */
  CHECK_INT(aq_tls_recv(p.c.tls, AQ_EPOCH_INITIAL, p.c.q[0].data, p.c.q[0].len, 0),
            AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.c.tls), AQ_TLS_ALERT_UNEXPECTED_MESSAGE);
  pair_free(&p);

  /* A message split across epochs. */
  pair_setup(&p);
  REQUIRE(peer_init(&p.c, &p.cc, 1) && peer_init(&p.s, &p.sc, 2));
  REQUIRE(aq_tls_start(p.c.tls, 0) == 0);
  CHECK_INT(aq_tls_recv(p.s.tls, AQ_EPOCH_INITIAL, p.c.q[0].data, 10, 0), 0);
  CHECK_INT(aq_tls_recv(p.s.tls, AQ_EPOCH_HANDSHAKE, p.c.q[0].data + 10, p.c.q[0].len - 10, 0),
            AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.s.tls), AQ_TLS_ALERT_UNEXPECTED_MESSAGE);
  pair_free(&p);
}

AQ_TEST(tls_hs_byte_by_byte) {
  /* Deliver the ClientHello one byte at a time: the server buffers and proceeds. */
  pair p;
  pair_setup(&p);
  REQUIRE(peer_init(&p.c, &p.cc, 1) && peer_init(&p.s, &p.sc, 2));
  REQUIRE(aq_tls_start(p.c.tls, 0) == 0);
  for (size_t i = 0; i < p.c.q[0].len; i++) {
    REQUIRE(aq_tls_recv(p.s.tls, AQ_EPOCH_INITIAL, p.c.q[0].data + i, 1, 0) == 0);
    CHECK_INT(p.s.nq, i + 1 == p.c.q[0].len ? 6 : 0);
  }
  free(p.c.q[0].data);
  p.c.nq = 0;
  REQUIRE(shuttle(&p.c, &p.s, NULL, NULL, NULL) == 0);
  CHECK(aq_tls_handshake_done(p.c.tls) && aq_tls_handshake_done(p.s.tls));
  pair_free(&p);
}

/* ------------------------------------------------------------ resumption */

static const uint8_t ticket_key[32] = {0x5e, 0xc7, 0x01};

/** A first full handshake that leaves a session in *sess (the client's on_ticket output). */
static void first_connection(uint8_t *sess, size_t *sesslen, int accept_early) {
  pair p;
  pair_setup(&p);
  p.sc.ticket_key = ticket_key;
  p.sc.accept_early_data = accept_early;
  g_now = 1000 * AQ_SECONDS;
  *sesslen = 0;
  REQUIRE(pair_run(&p, NULL, NULL, NULL) == 0);
  CHECK(aq_tls_handshake_done(p.c.tls) && aq_tls_handshake_done(p.s.tls));
  CHECK(!aq_tls_resumed(p.c.tls) && !aq_tls_resumed(p.s.tls));
  REQUIRE(p.c.tickets == 1);
  memcpy(sess, p.c.session, p.c.session_len);
  *sesslen = p.c.session_len;
  pair_free(&p);
}

static void resume_setup(pair *p, const uint8_t *sess, size_t sesslen) {
  pair_setup(p);
  p->sc.ticket_key = ticket_key;
  p->cc.session = sess;
  p->cc.session_len = sesslen;
  g_now = 1005 * AQ_SECONDS;
}

AQ_TEST(tls_hs_resumption) {
  uint8_t sess[4096];
  size_t sesslen;
  first_connection(sess, &sesslen, 0);
  REQUIRE(sesslen > 0);
  pair p;
  resume_setup(&p, sess, sesslen);
  size_t count = 0;
  REQUIRE(pair_run(&p, NULL, NULL, &count) == 0);
  CHECK(aq_tls_handshake_done(p.c.tls) && aq_tls_handshake_done(p.s.tls));
  CHECK(aq_tls_resumed(p.c.tls) && aq_tls_resumed(p.s.tls));
  /* CH, SH, EE, Finished, Finished, NewSessionTicket: no certificates. */
  CHECK_INT(count, 6);
  CHECK_INT(p.c.verify_calls, 0);
  CHECK_INT(p.s.verify_calls, 0);
  /* Both still know who the peer is (carried in the session / ticket). */
  size_t n;
  const uint8_t *spki = aq_tls_get_peer_spki(p.c.tls, &n);
  CHECK(spki != NULL && n == p.s.spkilen && memcmp(spki, p.s.spki, n) == 0);
  spki = aq_tls_get_peer_spki(p.s.tls, &n);
  CHECK(spki != NULL && n == p.c.spkilen && memcmp(spki, p.c.spki, n) == 0);
  CHECK(!aq_tls_early_data_accepted(p.c.tls) && !aq_tls_early_data_accepted(p.s.tls));
  CHECK_INT(p.c.secretlen[AQ_EPOCH_0RTT][1], 0);
  check_secrets_match(&p.c, &p.s);
  CHECK_INT(p.c.tickets, 1);
  pair_free(&p);
}

AQ_TEST(tls_hs_0rtt) {
  uint8_t sess[4096];
  size_t sesslen;
  first_connection(sess, &sesslen, 1);
  pair p;
  resume_setup(&p, sess, sesslen);
  p.sc.accept_early_data = 1;
  p.cc.enable_early_data = 1;
  REQUIRE(pair_run(&p, NULL, NULL, NULL) == 0);
  CHECK(aq_tls_resumed(p.c.tls) && aq_tls_resumed(p.s.tls));
  CHECK(aq_tls_early_data_accepted(p.c.tls));
  CHECK(aq_tls_early_data_accepted(p.s.tls));
  /* client_early_traffic_secret: client write == server read, set on both sides. */
  REQUIRE(p.c.secretlen[AQ_EPOCH_0RTT][1] == 32);
  REQUIRE(p.s.secretlen[AQ_EPOCH_0RTT][0] == 32);
  CHECK_MEM(p.c.secret[AQ_EPOCH_0RTT][1], p.s.secret[AQ_EPOCH_0RTT][0], 32);
  check_secrets_match(&p.c, &p.s);
  pair_free(&p);

  /* The same session, a server that refuses 0-RTT: resumed, early data rejected. */
  resume_setup(&p, sess, sesslen);
  p.cc.enable_early_data = 1;
  REQUIRE(pair_run(&p, NULL, NULL, NULL) == 0);
  CHECK(aq_tls_resumed(p.c.tls) && aq_tls_resumed(p.s.tls));
  CHECK(!aq_tls_early_data_accepted(p.c.tls) && !aq_tls_early_data_accepted(p.s.tls));
  CHECK_INT(p.c.secretlen[AQ_EPOCH_0RTT][1], 32); /* the client did send with it */
  CHECK_INT(p.s.secretlen[AQ_EPOCH_0RTT][0], 0);
  pair_free(&p);

  /* A ticket age far from the real one (client clock 30 s off): resumed, no 0-RTT. */
  resume_setup(&p, sess, sesslen);
  p.sc.accept_early_data = 1;
  p.cc.enable_early_data = 1;
  REQUIRE(peer_init(&p.c, &p.cc, 1) && peer_init(&p.s, &p.sc, 2));
  REQUIRE(aq_tls_start(p.c.tls, g_now) == 0);
  g_now += 30 * AQ_SECONDS;
  REQUIRE(shuttle(&p.c, &p.s, NULL, NULL, NULL) == 0);
  CHECK(aq_tls_resumed(p.s.tls));
  CHECK(!aq_tls_early_data_accepted(p.s.tls) && !aq_tls_early_data_accepted(p.c.tls));
  pair_free(&p);
}

AQ_TEST(tls_hs_resumption_refused_cases) {
  uint8_t sess[4096];
  size_t sesslen;
  first_connection(sess, &sesslen, 1);
  pair p;
  /* Another server key: the ticket does not open -> full handshake. */
  static const uint8_t other_key[32] = {9};
  resume_setup(&p, sess, sesslen);
  p.sc.ticket_key = other_key;
  REQUIRE(pair_run(&p, NULL, NULL, NULL) == 0);
  CHECK(aq_tls_handshake_done(p.c.tls) && !aq_tls_resumed(p.c.tls) && !aq_tls_resumed(p.s.tls));
  CHECK_INT(p.c.verify_calls, 1);
  pair_free(&p);
  /* Expired (lifetime 86400 s): the client does not offer it. */
  resume_setup(&p, sess, sesslen);
  g_now = (1000 + 86400) * AQ_SECONDS;
  REQUIRE(pair_run(&p, NULL, NULL, NULL) == 0);
  CHECK(!aq_tls_resumed(p.c.tls) && !aq_tls_resumed(p.s.tls));
  pair_free(&p);
  /* A corrupt session blob is ignored. */
  uint8_t bad[4096];
  memcpy(bad, sess, sesslen);
  bad[0] ^= 0xff;
  resume_setup(&p, bad, sesslen);
  REQUIRE(pair_run(&p, NULL, NULL, NULL) == 0);
  CHECK(!aq_tls_resumed(p.c.tls));
  pair_free(&p);
  /* A flipped binder byte (the last byte of the ClientHello): decrypt_error. */
  resume_setup(&p, sess, sesslen);
  mut m = {0, 0, 0, SIZE_MAX, 0, 0, 0};
  CHECK_INT(pair_run(&p, mutate, &m, NULL), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.s.tls), AQ_TLS_ALERT_DECRYPT_ERROR);
  pair_free(&p);
  /* A flipped ticket byte: the ticket does not open, but the binder no longer matches the
   * transcript either; the server ignores the PSK and the handshake completes in full. */
  resume_setup(&p, sess, sesslen);
  mut m2 = {0, 0, 0, SIZE_MAX, 60, 0, 0};
  int rv = pair_run(&p, mutate, &m2, NULL);
  CHECK(rv == AQ_ERR_TLS_ALERT || !aq_tls_resumed(p.s.tls));
  pair_free(&p);
}

AQ_TEST(tls_hs_resumption_after_hrr) {
  uint8_t sess[4096];
  size_t sesslen;
  first_connection(sess, &sesslen, 1);
  pair p;
  static const uint16_t cgroups[] = {AQ_TLS_GROUP_SECP256R1, AQ_TLS_GROUP_X25519};
  static const uint16_t sgroups[] = {AQ_TLS_GROUP_X25519};
  resume_setup(&p, sess, sesslen);
  p.cc.groups = cgroups;
  p.cc.ngroups = 2;
  p.sc.groups = sgroups;
  p.sc.ngroups = 1;
  p.sc.accept_early_data = 1;
  p.cc.enable_early_data = 1;
  REQUIRE(pair_run(&p, NULL, NULL, NULL) == 0);
  CHECK(aq_tls_resumed(p.c.tls) && aq_tls_resumed(p.s.tls));
  /* 0-RTT cannot survive a HelloRetryRequest. */
  CHECK(!aq_tls_early_data_accepted(p.s.tls) && !aq_tls_early_data_accepted(p.c.tls));
  check_secrets_match(&p.c, &p.s);
  pair_free(&p);
}

AQ_TEST(tls_hs_large_client_hello) {
  /* Transport parameters large enough to push the ClientHello past one 1200-byte packet (as
   * post-quantum key shares will): the engine hands out one byte stream, never assumes a packet. */
  static uint8_t big_tp[3000];
  for (size_t i = 0; i < sizeof(big_tp); i++) {
    big_tp[i] = (uint8_t)i;
  }
  pair p;
  pair_setup(&p);
  p.cc.transport_params = big_tp;
  p.cc.transport_params_len = sizeof(big_tp);
  REQUIRE(peer_init(&p.c, &p.cc, 1) && peer_init(&p.s, &p.sc, 2));
  REQUIRE(aq_tls_start(p.c.tls, 0) == 0);
  REQUIRE(p.c.nq == 1);
  CHECK(p.c.q[0].len > 3000);
  /* Deliver it in 1200-byte chunks. */
  for (size_t off = 0; off < p.c.q[0].len; off += 1200) {
    size_t n = p.c.q[0].len - off < 1200 ? p.c.q[0].len - off : 1200;
    REQUIRE(aq_tls_recv(p.s.tls, AQ_EPOCH_INITIAL, p.c.q[0].data + off, n, 0) == 0);
  }
  free(p.c.q[0].data);
  p.c.nq = 0;
  REQUIRE(shuttle(&p.c, &p.s, NULL, NULL, NULL) == 0);
  CHECK(aq_tls_handshake_done(p.c.tls) && aq_tls_handshake_done(p.s.tls));
  size_t n;
  const uint8_t *tp = aq_tls_get_peer_transport_params(p.s.tls, &n);
  CHECK(tp != NULL && n == sizeof(big_tp) && memcmp(tp, big_tp, n) == 0);
  pair_free(&p);
}

AQ_TEST(tls_hs_require_pq) {
  /* Defaults negotiate X25519MLKEM768, so require_pq on both sides succeeds; a peer limited to
   * X25519 is refused with insufficient_security by the side that requires post-quantum. */
  static const uint16_t classical[] = {AQ_TLS_GROUP_X25519};
  pair p;
  pair_setup(&p);
  p.sc.require_pq = 1;
  p.cc.require_pq = 1;
  CHECK_INT(pair_run(&p, NULL, NULL, NULL), 0);
  CHECK_INT(aq_tls_get_group(p.c.tls), AQ_TLS_GROUP_X25519MLKEM768);
  pair_free(&p);
  pair_setup(&p);
  p.sc.require_pq = 1;
  p.cc.groups = classical;
  p.cc.ngroups = 1;
  CHECK_INT(pair_run(&p, NULL, NULL, NULL), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.s.tls), AQ_TLS_ALERT_INSUFFICIENT_SECURITY);
  pair_free(&p);
  pair_setup(&p);
  p.cc.require_pq = 1;
  p.sc.groups = classical;
  p.sc.ngroups = 1;
  CHECK_INT(pair_run(&p, NULL, NULL, NULL), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.c.tls), AQ_TLS_ALERT_INSUFFICIENT_SECURITY);
  pair_free(&p);
}

AQ_TEST(tls_hs_rpk_not_an_spki) {
  /* A server whose "raw public key" is not a SubjectPublicKeyInfo: bad_certificate. */
  pair p;
  pair_setup(&p);
  p.s.spki[0] ^= 0x20; /* SEQUENCE tag broken */
  CHECK_INT(pair_run(&p, NULL, NULL, NULL), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.c.tls), AQ_TLS_ALERT_BAD_CERTIFICATE);
  pair_free(&p);
}

AQ_TEST(tls_hs_server_without_alpn) {
  /* A QUIC client that offered ALPN and got none back: no_application_protocol (RFC 9001 §8.1). */
  pair p;
  pair_setup(&p);
  p.sc.alpn = NULL;
  p.sc.nalpn = 0;
  p.sc.alpn_required = 0;
  CHECK_INT(pair_run(&p, NULL, NULL, NULL), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.c.tls), AQ_TLS_ALERT_NO_APPLICATION_PROTOCOL);
  pair_free(&p);
}

/* Rewrite the HelloRetryRequest (message 1 of the HRR scenario) to carry a cookie. */
static const uint8_t test_cookie[] = {0xc0, 0x0c, 0x1e, 0x55};
static int add_cookie(void *ctx, size_t k, uint8_t *msg, size_t *len) {
  int *echoed = ctx;
  if (msg != NULL && k == 2 && msg[0] == AQ_TLS_HS_CLIENT_HELLO) {
    static const uint8_t ext[] = {0x00, 0x2c, 0x00, 0x06, 0x00, 0x04, 0xc0, 0x0c, 0x1e, 0x55};
    for (size_t i = 0; i + sizeof(ext) <= *len; i++) {
      if (memcmp(msg + i, ext, sizeof(ext)) == 0) {
        *echoed = 1;
      }
    }
    return 0;
  }
  if (msg == NULL || k != 1 || msg[0] != AQ_TLS_HS_SERVER_HELLO) {
    return 0;
  }
  /* HRR body: version(2) random(32) sid(1+0) suite(2) comp(1) exts(2+...) */
  size_t extlen_off = 4 + 2 + 32 + 1 + msg[4 + 34] + 2 + 1;
  size_t add = 4 + 2 + sizeof(test_cookie);
  uint8_t *e = msg + *len;
  e[0] = 0;
  e[1] = 44; /* cookie */
  e[2] = 0;
  e[3] = (uint8_t)(2 + sizeof(test_cookie));
  e[4] = 0;
  e[5] = sizeof(test_cookie);
  memcpy(e + 6, test_cookie, sizeof(test_cookie));
  size_t extlen = ((size_t)msg[extlen_off] << 8 | msg[extlen_off + 1]) + add;
  msg[extlen_off] = (uint8_t)(extlen >> 8);
  msg[extlen_off + 1] = (uint8_t)extlen;
  *len += add;
  size_t body = *len - 4;
  msg[1] = (uint8_t)(body >> 16);
  msg[2] = (uint8_t)(body >> 8);
  msg[3] = (uint8_t)body;
  return 0;
}

AQ_TEST(tls_hs_hrr_cookie_echoed) {
  pair p;
  g_scenario = 1;
  scenario_setup(&p);
  g_scenario = 0;
  REQUIRE(peer_init(&p.c, &p.cc, 1) && peer_init(&p.s, &p.sc, 2));
  REQUIRE(aq_tls_start(p.c.tls, 0) == 0);
  size_t count = 0;
  /* The server never sent that cookie, so the transcripts differ and the handshake fails at the
   * client's check of the server Finished -- after the client echoed the cookie in CH2. */
  int echoed = 0;
  int rv = shuttle(&p.c, &p.s, add_cookie, &echoed, &count);
  CHECK(echoed);
  CHECK_INT(rv, AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.c.tls), AQ_TLS_ALERT_DECRYPT_ERROR);
  pair_free(&p);
}

/* Every allocation the engine makes may fail: the handshake then ends with internal_error (or
 * aq_tls_new returns NULL), nothing leaks, nothing crashes.  Covers tickets and resumption. */
AQ_TEST(tls_hs_failing_allocator) {
  uint8_t sess[4096];
  size_t sesslen;
  first_connection(sess, &sesslen, 1);
  REQUIRE(sesslen > 0);
  for (int side = 0; side < 2; side++) {
    for (int resume = 0; resume < 2; resume++) {
      int completed = 0;
      for (long fail_at = 0; fail_at < 64 && !completed; fail_at++) {
        aq_test_failmem fm;
        aq_test_failmem_init(&fm, fail_at);
        pair p;
        pair_setup(&p);
        p.sc.ticket_key = ticket_key;
        p.sc.accept_early_data = 1;
        if (resume) {
          p.cc.session = sess;
          p.cc.session_len = sesslen;
          p.cc.enable_early_data = 1;
        }
        g_now = 1005 * AQ_SECONDS;
        g_mem[side] = &fm.mem;
        int rv = pair_run(&p, NULL, NULL, NULL);
        peer *me = side ? &p.s : &p.c;
        if (rv == 0 && me->tls != NULL && aq_tls_handshake_done(p.c.tls) &&
            aq_tls_handshake_done(p.s.tls) && p.c.tickets == 1) {
          completed = 1;
        } else if (me->tls != NULL && rv == AQ_ERR_TLS_ALERT && aq_tls_alert(me->tls) != 0) {
          CHECK_INT(aq_tls_alert(me->tls), AQ_TLS_ALERT_INTERNAL_ERROR);
        } else {
          CHECK(me->tls == NULL || rv != 0);
        }
        pair_free(&p);
        g_mem[side] = NULL;
        CHECK_INT(fm.live, 0);
      }
      CHECK(completed);
    }
  }
}

AQ_TEST(tls_hs_post_handshake_messages_refused) {
  /* RFC 9001 §6: a TLS KeyUpdate is a connection error (unexpected_message); so are
   * EndOfEarlyData (§8.3), a second ClientHello, and handshake bytes at the 0-RTT epoch. */
  static const uint8_t key_update[] = {AQ_TLS_HS_KEY_UPDATE, 0, 0, 1, 0};
  static const uint8_t eoed[] = {AQ_TLS_HS_END_OF_EARLY_DATA, 0, 0, 0};
  pair p;
  pair_setup(&p);
  REQUIRE(pair_run(&p, NULL, NULL, NULL) == 0);
  CHECK_INT(aq_tls_recv(p.c.tls, AQ_EPOCH_1RTT, key_update, sizeof(key_update), 0),
            AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.c.tls), AQ_TLS_ALERT_UNEXPECTED_MESSAGE);
  CHECK_INT(aq_tls_recv(p.s.tls, AQ_EPOCH_HANDSHAKE, eoed, sizeof(eoed), 0), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.s.tls), AQ_TLS_ALERT_UNEXPECTED_MESSAGE);
  pair_free(&p);
  pair_setup(&p);
  REQUIRE(peer_init(&p.c, &p.cc, 1) && peer_init(&p.s, &p.sc, 2));
  CHECK_INT(aq_tls_recv(p.s.tls, AQ_EPOCH_0RTT, eoed, sizeof(eoed), 0), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.s.tls), AQ_TLS_ALERT_UNEXPECTED_MESSAGE);
  /* The client refuses a second start and input before it started. */
  CHECK_INT(aq_tls_recv(p.c.tls, AQ_EPOCH_INITIAL, eoed, sizeof(eoed), 0), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_start(p.c.tls, 0), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_start(p.s.tls, 0), AQ_ERR_TLS_ALERT);
  pair_free(&p);
  /* A message longer than any we accept is refused from its header. */
  static const uint8_t huge[] = {AQ_TLS_HS_CLIENT_HELLO, 0xff, 0xff, 0xff};
  pair_setup(&p);
  REQUIRE(peer_init(&p.s, &p.sc, 2));
  CHECK_INT(aq_tls_recv(p.s.tls, AQ_EPOCH_INITIAL, huge, sizeof(huge), 0), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(p.s.tls), AQ_TLS_ALERT_DECODE_ERROR);
  pair_free(&p);
}
