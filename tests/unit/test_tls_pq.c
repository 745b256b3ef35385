/*
 * test_tls_pq.c - post-quantum handshakes: X25519MLKEM768 and MLKEM768 groups
 * as plain table rows, ML-DSA-65 identities (0x0905) on both sides, the
 * default group preference and the require_pq policy.
 */
#include <stdlib.h>
#include <string.h>

#include "aq_crypto.h"
#include "aq_identity.h"
#include "aq_test.h"
#include "aq_tls.h"
#include "aq_tls_cert.h"
#include "aq_tls_group.h"

#define MAXQ 64

typedef struct pqpeer {
  aq_tls *tls;
  uint64_t rng;
  struct {
    aq_epoch epoch;
    uint8_t *data;
    size_t len;
  } q[MAXQ];
  size_t nq;
  uint8_t secret[AQ_EPOCH_COUNT][2][48];
  size_t secretlen[AQ_EPOCH_COUNT][2];
  aq_identity id;
  uint8_t spki[2048];
  size_t spkilen;
  aq_tls_credential cred;
  const uint8_t *pin;
  size_t pinlen;
  int verified;
} pqpeer;

static int pq_send(void *ud, aq_epoch epoch, const uint8_t *data, size_t len) {
  pqpeer *p = ud;
  if (p->nq == MAXQ) {
    return -1;
  }
  p->q[p->nq].epoch = epoch;
  p->q[p->nq].data = malloc(len);
  memcpy(p->q[p->nq].data, data, len);
  p->q[p->nq].len = len;
  p->nq++;
  return 0;
}

static int pq_set_secret(void *ud, aq_epoch epoch, int is_write, const aq_tls_suite *suite,
                         const uint8_t *secret, size_t len) {
  pqpeer *p = ud;
  (void)suite;
  memcpy(p->secret[epoch][is_write ? 1 : 0], secret, len);
  p->secretlen[epoch][is_write ? 1 : 0] = len;
  return 0;
}

static int pq_rand(uint8_t *buf, size_t len, void *ud) {
  pqpeer *p = ud;
  return aq_test_rand(buf, len, &p->rng);
}

static int pq_verify(void *ud, const uint8_t *spki, size_t spkilen, const uint8_t *cert,
                     size_t certlen) {
  pqpeer *p = ud;
  (void)cert;
  (void)certlen;
  p->verified++;
  if (p->pin == NULL) {
    return 0;
  }
  return (spkilen == p->pinlen && memcmp(spki, p->pin, spkilen) == 0) ? 0 : -1;
}

static const aq_tls_callbacks pq_callbacks = {pq_send, pq_set_secret, pq_rand, pq_verify, NULL};
static const uint8_t tp[] = {0x01, 0x02};
static const char *const alpn[] = {"ant-quic"};

static void pq_identity(pqpeer *p, aq_identity_type type, uint8_t seedbyte) {
  uint8_t seed[32];
  memset(seed, seedbyte, sizeof(seed));
  REQUIRE(aq_identity_from_seed(&p->id, type, seed) == 0);
  aq_ssize n = aq_identity_spki(&p->id, p->spki, sizeof(p->spki));
  REQUIRE(n > 0);
  p->spkilen = (size_t)n;
  p->cred.sig_scheme = aq_identity_sig_scheme(&p->id);
  p->cred.spki = p->spki;
  p->cred.spkilen = p->spkilen;
  p->cred.sign = aq_identity_sign;
  p->cred.sign_ctx = &p->id;
}

static void pq_cfg(aq_tls_config *c, int is_server, pqpeer *p) {
  memset(c, 0, sizeof(*c));
  c->is_server = is_server;
  c->quic = 1;
  c->offer_rpk = 1;
  c->cred = &p->cred;
  c->request_client_auth = is_server;
  c->require_client_auth = is_server;
  c->alpn = alpn;
  c->nalpn = 1;
  c->transport_params = tp;
  c->transport_params_len = sizeof(tp);
}

/* Run the handshake to quiescence; 0 or the first aq_tls_recv error.  *msgs counts messages. */
static int pq_run(pqpeer *c, const aq_tls_config *cc, pqpeer *s, const aq_tls_config *sc,
                  size_t *msgs) {
  c->rng = 1;
  s->rng = 2;
  c->tls = aq_tls_new(cc, &pq_callbacks, c, NULL);
  s->tls = aq_tls_new(sc, &pq_callbacks, s, NULL);
  if (c->tls == NULL || s->tls == NULL) {
    return AQ_ERR_NOMEM;
  }
  int rv = aq_tls_start(c->tls, 0);
  *msgs = 0;
  for (int round = 0; rv == 0 && round < 100 && (c->nq || s->nq); round++) {
    pqpeer *from = c->nq ? c : s, *to = from == c ? s : c;
    for (size_t i = 0; i < from->nq; i++) {
      if (rv == 0) {
        rv = aq_tls_recv(to->tls, from->q[i].epoch, from->q[i].data, from->q[i].len, 0);
        (*msgs)++;
      }
      free(from->q[i].data);
    }
    from->nq = 0;
  }
  return rv;
}

static void pq_free(pqpeer *p) {
  for (size_t i = 0; i < p->nq; i++) {
    free(p->q[i].data);
  }
  aq_tls_del(p->tls);
  aq_identity_wipe(&p->id);
}

static void check_match(const pqpeer *c, const pqpeer *s) {
  for (int e = AQ_EPOCH_HANDSHAKE; e <= AQ_EPOCH_1RTT; e++) {
    CHECK(c->secretlen[e][1] > 0);
    CHECK_INT(c->secretlen[e][1], s->secretlen[e][0]);
    CHECK_MEM(c->secret[e][1], s->secret[e][0], c->secretlen[e][1]);
    CHECK_MEM(c->secret[e][0], s->secret[e][1], c->secretlen[e][0]);
  }
}

/* Both sides with identities of the given type, groups as given (NULL = defaults). */
static void run_group(aq_identity_type type, const uint16_t *cg, size_t ncg, const uint16_t *sg,
                      size_t nsg, uint16_t want_group, size_t want_msgs) {
  static pqpeer c, s;
  aq_tls_config cc, sc;
  size_t msgs;
  memset(&c, 0, sizeof(c));
  memset(&s, 0, sizeof(s));
  pq_identity(&c, type, 0x31);
  pq_identity(&s, type, 0x32);
  pq_cfg(&cc, 0, &c);
  pq_cfg(&sc, 1, &s);
  cc.groups = cg;
  cc.ngroups = ncg;
  sc.groups = sg;
  sc.ngroups = nsg;
  c.pin = s.spki;
  c.pinlen = s.spkilen;
  s.pin = c.spki;
  s.pinlen = c.spkilen;
  CHECK_INT(pq_run(&c, &cc, &s, &sc, &msgs), 0);
  CHECK(aq_tls_handshake_done(c.tls) && aq_tls_handshake_done(s.tls));
  CHECK_INT(aq_tls_get_group(c.tls), want_group);
  CHECK_INT(aq_tls_get_group(s.tls), want_group);
  CHECK_INT(msgs, want_msgs);
  CHECK(c.verified == 1 && s.verified == 1);
  check_match(&c, &s);
  pq_free(&c);
  pq_free(&s);
}

static const uint16_t g_hybrid[] = {AQ_TLS_GROUP_X25519MLKEM768};
static const uint16_t g_mlkem[] = {AQ_TLS_GROUP_MLKEM768};
static const uint16_t g_x25519[] = {AQ_TLS_GROUP_X25519};

/* Flights (cb.send calls): CH, SH, EE..Fin, client Cert..Fin = 4; with HRR 6. */
AQ_TEST(tls_pq_x25519mlkem768_mldsa65) {
  run_group(AQ_IDENTITY_MLDSA65, g_hybrid, 1, g_hybrid, 1, AQ_TLS_GROUP_X25519MLKEM768, 4);
}

AQ_TEST(tls_pq_mlkem768_mldsa65) {
  run_group(AQ_IDENTITY_MLDSA65, g_mlkem, 1, g_mlkem, 1, AQ_TLS_GROUP_MLKEM768, 4);
}

AQ_TEST(tls_pq_mlkem768_ed25519) {
  run_group(AQ_IDENTITY_ED25519, g_mlkem, 1, g_mlkem, 1, AQ_TLS_GROUP_MLKEM768, 4);
}

/* Defaults on both sides: the hybrid group, with one key share, no HRR. */
AQ_TEST(tls_pq_default_prefers_hybrid) {
  run_group(AQ_IDENTITY_MLDSA65, NULL, 0, NULL, 0, AQ_TLS_GROUP_X25519MLKEM768, 4);
}

/* A default client meets a classical-only server (a standard QUIC stack): HRR to X25519. */
AQ_TEST(tls_pq_default_client_classical_server_hrr) {
  run_group(AQ_IDENTITY_ED25519, NULL, 0, g_x25519, 1, AQ_TLS_GROUP_X25519, 6);
}

/* A server preferring pure ML-KEM picks it from a default client's list via HRR. */
AQ_TEST(tls_pq_server_prefers_mlkem_only) {
  run_group(AQ_IDENTITY_MLDSA65, NULL, 0, g_mlkem, 1, AQ_TLS_GROUP_MLKEM768, 6);
}

static void run_require_pq(int server_requires) {
  static pqpeer c, s;
  aq_tls_config cc, sc;
  size_t msgs;
  memset(&c, 0, sizeof(c));
  memset(&s, 0, sizeof(s));
  pq_identity(&c, AQ_IDENTITY_ED25519, 0x41);
  pq_identity(&s, AQ_IDENTITY_ED25519, 0x42);
  pq_cfg(&cc, 0, &c);
  pq_cfg(&sc, 1, &s);
  if (server_requires) {
    cc.groups = g_x25519; /* classical-only client */
    cc.ngroups = 1;
    sc.require_pq = 1;
  } else {
    sc.groups = g_x25519; /* classical-only server */
    sc.ngroups = 1;
    cc.require_pq = 1;
  }
  CHECK_INT(pq_run(&c, &cc, &s, &sc, &msgs), AQ_ERR_TLS_ALERT);
  CHECK(!aq_tls_handshake_done(c.tls) && !aq_tls_handshake_done(s.tls));
  uint8_t alert = server_requires ? aq_tls_alert(s.tls) : aq_tls_alert(c.tls);
  CHECK(alert == AQ_TLS_ALERT_INSUFFICIENT_SECURITY || alert == AQ_TLS_ALERT_HANDSHAKE_FAILURE);
  pq_free(&c);
  pq_free(&s);
}

AQ_TEST(tls_pq_require_pq_server_refuses_classical) { run_require_pq(1); }
AQ_TEST(tls_pq_require_pq_client_refuses_classical) { run_require_pq(0); }

/* A pinned ML-DSA key that does not match: bad_certificate, no handshake. */
AQ_TEST(tls_pq_mldsa_wrong_pin) {
  static pqpeer c, s, other;
  aq_tls_config cc, sc;
  size_t msgs;
  memset(&c, 0, sizeof(c));
  memset(&s, 0, sizeof(s));
  memset(&other, 0, sizeof(other));
  pq_identity(&c, AQ_IDENTITY_MLDSA65, 0x51);
  pq_identity(&s, AQ_IDENTITY_MLDSA65, 0x52);
  pq_identity(&other, AQ_IDENTITY_MLDSA65, 0x53);
  pq_cfg(&cc, 0, &c);
  pq_cfg(&sc, 1, &s);
  c.pin = other.spki;
  c.pinlen = other.spkilen;
  CHECK_INT(pq_run(&c, &cc, &s, &sc, &msgs), AQ_ERR_TLS_ALERT);
  CHECK_INT(aq_tls_alert(c.tls), AQ_TLS_ALERT_BAD_CERTIFICATE);
  pq_free(&c);
  pq_free(&s);
  aq_identity_wipe(&other.id);
}

/* Group rows on their own: a flipped ciphertext gives a different secret (implicit
 * rejection), an ek failing the modulus check is refused by the server side. */
AQ_TEST(tls_pq_group_rows) {
  static const uint16_t ids[] = {AQ_TLS_GROUP_X25519MLKEM768, AQ_TLS_GROUP_MLKEM768};
  for (size_t i = 0; i < 2; i++) {
    const aq_tls_group *g = aq_tls_group_find(ids[i]);
    static uint8_t priv[AQ_TLS_GROUP_MAX_PRIV], cs[AQ_TLS_GROUP_MAX_SHARE],
        ss[AQ_TLS_GROUP_MAX_SHARE];
    uint8_t k1[64], k2[64];
    size_t l1, l2;
    uint64_t rng = 7;
    REQUIRE(g != NULL && g->post_quantum);
    REQUIRE(g->keygen(priv, cs, aq_test_rand, &rng) == 0);
    REQUIRE(g->exchange(ss, k1, &l1, cs, aq_test_rand, &rng) == 0);
    REQUIRE(g->finish(k2, &l2, priv, ss) == 0);
    CHECK_INT(l1, ids[i] == AQ_TLS_GROUP_MLKEM768 ? 32 : 64);
    CHECK_INT(l1, l2);
    CHECK_MEM(k1, k2, l1);
    ss[10] ^= 1;
    REQUIRE(g->finish(k2, &l2, priv, ss) == 0);
    CHECK(memcmp(k1, k2, 32) != 0);
    /* Coefficient 0 of the ek set to 4095 > q: the §7.2 check refuses it. */
    cs[0] = 0xff;
    cs[1] |= 0x0f;
    CHECK(g->exchange(ss, k1, &l1, cs, aq_test_rand, &rng) != 0);
  }
}
