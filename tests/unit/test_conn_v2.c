/*
 * test_conn_v2.c - QUIC version 2 (RFC 9369) and compatible version
 * negotiation (RFC 9368) in the simulator.  Both endpoints are wrapped in a
 * tap that decodes the long headers of every datagram they send, so the
 * versions on the wire are checked: a v1-only client to a v2-capable server
 * stays v1; a v1 client offering v2 is moved to v2 and every packet after
 * the switch is v2; a client starting in v2; a server without v2 answering
 * with Version Negotiation; Retry in the original version (v1 and v2); key
 * updates and a transfer in v2; a ClientHello whose version_information was
 * rewritten on the wire (VERSION_NEGOTIATION_ERROR), and the client's
 * checks of the server's version_information.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

#define V1 AQ_PROTO_VER_V1
#define V2 AQ_PROTO_VER_V2
#define TAP_MAX 4096

/** One packet seen leaving an endpoint. */
typedef struct tap_pkt {
  uint32_t version; /* 0 for a short header */
  aq_pkt_type type;
  int switched; /* the sender's connection had switched version when it sent this */
  uint64_t seq; /* global order */
} tap_pkt;

typedef struct vtap {
  aq_simq *q;
  uint64_t *seq;
  tap_pkt pk[TAP_MAX];
  size_t npk;
  int tamper_chosen; /* client: rewrite the Chosen Version in its Initials to v2 */
  int tampered;
} vtap;

/** Rewrite version_information {v1, v2, v1} into {v2, v2, v1} in a client v1 Initial. */
static void tamper_initial(vtap *t, uint8_t *pkt, const aq_pkt_hd *hd) {
  uint8_t dcid[AQ_MAX_CIDLEN];
  memcpy(dcid, hd->dcid, hd->dcidlen);
  aq_pprot tx, rx;
  if (aq_pprot_init_initial(&tx, &rx, dcid, hd->dcidlen, hd->version, 0) != 0) {
    return;
  }
  size_t pn_len;
  uint64_t tpn;
  if (aq_pprot_unprotect_header(&tx, pkt, hd->pktlen, hd->pn_offset, &pn_len, &tpn) == 0) {
    size_t hdrlen = hd->pn_offset + pn_len;
    aq_ssize n = aq_pprot_open(&tx, pkt, hd->pktlen, hdrlen, tpn);
    if (n > 0) {
      static const uint8_t pat[] = {0x11, 0x0c, 0, 0, 0, 1, 0x6b, 0x33, 0x43, 0xcf, 0, 0, 0, 1};
      uint8_t *pl = pkt + hdrlen;
      for (size_t i = 0; i + sizeof(pat) <= (size_t)n; i++) {
        if (memcmp(pl + i, pat, sizeof(pat)) == 0) {
          static const uint8_t v2[4] = {0x6b, 0x33, 0x43, 0xcf};
          memcpy(pl + i + 2, v2, 4);
          t->tampered++;
        }
      }
    }
    /* Re-protect (with or without a change) so the packet stays valid. */
    if (n >= 0 && aq_pprot_seal(&tx, pkt, hd->pktlen, hdrlen, hd->pn_offset, pn_len, tpn) != 0) {
      t->q->io_err = 1;
    }
  }
  aq_pprot_free(&tx);
  aq_pprot_free(&rx);
}

/** Record (and maybe tamper with) the packets of a datagram being sent. */
static void tap_record(vtap *t, uint8_t *buf, size_t n) {
  size_t off = 0;
  int sw = t->q->conn != NULL && aq_conn_version_switched(t->q->conn);
  while (off < n) {
    aq_pkt_hd hd;
    if (aq_pkt_decode_hd(&hd, buf + off, n - off, t->q->set.scid_len) != 0) {
      break;
    }
    if (t->npk < TAP_MAX) {
      tap_pkt *p = &t->pk[t->npk++];
      p->version = hd.version;
      p->type = hd.type;
      p->switched = sw;
      p->seq = (*t->seq)++;
    }
    if (hd.type == AQ_PKT_1RTT || hd.type == AQ_PKT_RETRY ||
        hd.type == AQ_PKT_VERSION_NEGOTIATION || hd.pktlen == 0) {
      break;
    }
    if (t->tamper_chosen && !t->q->is_server && hd.type == AQ_PKT_INITIAL && hd.version == V1) {
      tamper_initial(t, buf + off, &hd);
    }
    off += hd.pktlen;
  }
}

static void tap_recv(void *ep, aq_tstamp now, const aq_addr *from, const aq_addr *to,
                     const uint8_t *data, size_t len) {
  vtap *t = ep;
  aq_path p = {*to, *from};
  if (aq_ep_read(t->q->ep, &p, data, len, now) != 0) {
    t->q->io_err = 1;
  }
}

static size_t tap_send(void *ep, aq_tstamp now, aq_addr *from, aq_addr *to, uint8_t *buf,
                       size_t cap) {
  vtap *t = ep;
  aq_simq_pump(t->q);
  aq_path p;
  aq_ssize n = aq_ep_write(t->q->ep, &p, buf, cap, now);
  if (n <= 0) {
    if (n < 0) {
      t->q->io_err = 1;
    }
    return 0;
  }
  tap_record(t, buf, (size_t)n);
  *from = p.local;
  *to = p.remote;
  return (size_t)n;
}

static aq_tstamp tap_expiry(void *ep) {
  vtap *t = ep;
  return aq_ep_get_expiry(t->q->ep);
}

static void tap_handle(void *ep, aq_tstamp now) {
  vtap *t = ep;
  aq_simq *q = t->q;
  if (aq_ep_handle_expiry(q->ep, now) != 0) {
    q->io_err = 1;
  }
  if (q->conn != NULL && aq_ep_conn_count(q->ep) == 0) {
    q->conn = NULL; /* reaped */
  }
}

static const aq_sim_ep_ops tap_ops = {tap_recv, tap_send, tap_expiry, tap_handle};

typedef struct v2_env {
  aq_simq_pair p;
  uint64_t seq;
  vtap ct, st;
} v2_env;

/** Set up a pair; the caller adjusts e->p.c.set / e->p.s.set, then calls env_start. */
static v2_env *env_new(uint64_t seed) {
  v2_env *e = calloc(1, sizeof(*e));
  if (e == NULL) {
    abort();
  }
  aq_simq_pair_init(&e->p, seed, NULL);
  return e;
}

static void env_start(v2_env *e) {
  aq_simq_start(&e->p.s);
  aq_simq_start(&e->p.c);
  e->ct.q = &e->p.c;
  e->st.q = &e->p.s;
  e->ct.seq = e->st.seq = &e->seq;
  aq_sim_host_attach(e->p.ch, &tap_ops, &e->ct);
  aq_sim_host_attach(e->p.sh, &tap_ops, &e->st);
  aq_simq_connect(&e->p.c, &e->p.saddr);
}

static void env_free(v2_env *e) {
  aq_simq_pair_free(&e->p);
  free(e);
}

static int env_hs(v2_env *e) {
  return aq_sim_run(e->p.sim, 5 * AQ_SECONDS, 200000, aq_simq_pair_hs_done, &e->p) == AQ_SIM_DONE;
}

static int predicate_fin(void *arg) {
  aq_simq_stream *cs = arg;
  return cs->fin_recvd;
}

/** Echo bytes through the pair; 1 when all came back intact. */
static int env_echo(v2_env *e, uint64_t bytes) {
  aq_simq_stream *cs = aq_simq_open(&e->p.c, 1, bytes, 1);
  if (cs == NULL) {
    return 0;
  }
  (void)aq_sim_run(e->p.sim, 20 * AQ_SECONDS, 2000000, predicate_fin, cs);
  return cs->fin_recvd && cs->recvd == bytes && !cs->bad && !e->p.c.io_err && !e->p.s.io_err;
}

/** Number of recorded long-header packets of version v (type t, or any if t < 0). */
static size_t count_ver(const vtap *t, uint32_t v, int type) {
  size_t n = 0;
  for (size_t i = 0; i < t->npk; i++) {
    if (t->pk[i].version == v && (type < 0 || (int)t->pk[i].type == type)) {
      n++;
    }
  }
  return n;
}

AQ_TEST(conn_v2_v1_only_client_stays_v1) {
  v2_env *e = env_new(11);
  e->p.s.set.enable_v2 = 1; /* the server could switch; the client does not offer v2 */
  env_start(e);
  REQUIRE(env_hs(e));
  CHECK(env_echo(e, 50000));
  CHECK_INT(aq_conn_get_version(e->p.c.conn), V1);
  CHECK_INT(aq_conn_get_version(e->p.s.conn), V1);
  CHECK_INT(aq_conn_version_switched(e->p.s.conn), 0);
  CHECK(count_ver(&e->ct, V1, -1) > 0);
  CHECK(count_ver(&e->st, V1, AQ_PKT_HANDSHAKE) > 0);
  CHECK_INT(count_ver(&e->ct, V2, -1), 0);
  CHECK_INT(count_ver(&e->st, V2, -1), 0);
  /* The client sent no version_information: the server's has its list anyway. */
  CHECK(e->p.c.conn->peer_tp.has & AQ_TP_HAS_VERSION_INFO);
  CHECK(!(e->p.s.conn->peer_tp.has & AQ_TP_HAS_VERSION_INFO));
  env_free(e);
}

AQ_TEST(conn_v2_offering_client_to_v1_server) {
  v2_env *e = env_new(18);
  e->p.c.set.enable_v2 = 1; /* the server speaks v1 only and sends no version_information */
  env_start(e);
  REQUIRE(env_hs(e));
  CHECK(env_echo(e, 50000));
  CHECK_INT(aq_conn_get_version(e->p.c.conn), V1);
  CHECK_INT(aq_conn_version_switched(e->p.c.conn), 0);
  CHECK(!(e->p.c.conn->peer_tp.has & AQ_TP_HAS_VERSION_INFO));
  CHECK(e->p.s.conn->peer_tp.has & AQ_TP_HAS_VERSION_INFO);
  CHECK_INT(count_ver(&e->ct, V2, -1), 0);
  CHECK_INT(count_ver(&e->st, V2, -1), 0);
  env_free(e);
}

AQ_TEST(conn_v2_compatible_negotiation) {
  v2_env *e = env_new(12);
  e->p.c.set.enable_v2 = 1;
  e->p.s.set.enable_v2 = 1;
  env_start(e);
  REQUIRE(env_hs(e));
  aq_conn *c = e->p.c.conn, *s = e->p.s.conn;
  CHECK_INT(aq_conn_get_version(c), V2);
  CHECK_INT(aq_conn_get_version(s), V2);
  CHECK_INT(aq_conn_version_switched(c), 1);
  CHECK_INT(aq_conn_version_switched(s), 1);
  CHECK_INT(c->ver.orig, V1);
  /* The client's first packet is a v1 Initial. */
  REQUIRE(e->ct.npk > 0);
  CHECK_INT(e->ct.pk[0].version, V1);
  CHECK_INT(e->ct.pk[0].type, AQ_PKT_INITIAL);
  /* Server: from its first v2 packet on, everything is v2 (or 1-RTT); its
   * CRYPTO-carrying Handshake packets are all v2. */
  size_t first_v2 = SIZE_MAX;
  for (size_t i = 0; i < e->st.npk; i++) {
    if (e->st.pk[i].version == V2 && first_v2 == SIZE_MAX) {
      first_v2 = i;
    }
    if (first_v2 != SIZE_MAX) {
      CHECK(e->st.pk[i].version == V2 || e->st.pk[i].type == AQ_PKT_1RTT);
    }
  }
  REQUIRE(first_v2 != SIZE_MAX);
  CHECK(count_ver(&e->st, V2, AQ_PKT_INITIAL) > 0);
  CHECK(count_ver(&e->st, V2, AQ_PKT_HANDSHAKE) > 0);
  CHECK_INT(count_ver(&e->st, V1, AQ_PKT_HANDSHAKE), 0);
  /* Client: once switched, only v2 long headers. */
  size_t after = 0;
  for (size_t i = 0; i < e->ct.npk; i++) {
    if (e->ct.pk[i].switched) {
      CHECK(e->ct.pk[i].version == V2 || e->ct.pk[i].type == AQ_PKT_1RTT);
      after++;
    }
  }
  CHECK(after > 0);
  CHECK(count_ver(&e->ct, V2, AQ_PKT_HANDSHAKE) > 0);
  CHECK_INT(count_ver(&e->ct, V1, AQ_PKT_HANDSHAKE), 0);
  /* Both authenticated version_information: chosen v2 from the server, v1 from the client. */
  CHECK(c->peer_tp.has & AQ_TP_HAS_VERSION_INFO);
  CHECK_INT(c->peer_tp.chosen_version, V2);
  CHECK_INT(s->peer_tp.chosen_version, V1);
  /* A transfer in v2 (1-RTT keys from the "quicv2" labels on both sides). */
  CHECK(env_echo(e, 300000));
  CHECK_INT(aq_conn_get_version(e->p.c.conn), V2);
  env_free(e);
}

AQ_TEST(conn_v2_client_starts_in_v2) {
  v2_env *e = env_new(13);
  e->p.c.set.initial_version = V2; /* without enable_v2: v2 only */
  e->p.s.set.enable_v2 = 1;
  env_start(e);
  REQUIRE(env_hs(e));
  CHECK(env_echo(e, 100000));
  CHECK_INT(aq_conn_get_version(e->p.c.conn), V2);
  CHECK_INT(aq_conn_get_version(e->p.s.conn), V2);
  CHECK_INT(aq_conn_version_switched(e->p.c.conn), 0);
  CHECK_INT(aq_conn_version_switched(e->p.s.conn), 0);
  CHECK_INT(count_ver(&e->ct, V1, -1), 0);
  CHECK_INT(count_ver(&e->st, V1, -1), 0);
  CHECK(count_ver(&e->ct, V2, AQ_PKT_INITIAL) > 0);
  CHECK(count_ver(&e->st, V2, AQ_PKT_HANDSHAKE) > 0);
  CHECK_INT(e->p.s.conn->peer_tp.chosen_version, V2);
  env_free(e);
}

AQ_TEST(conn_v2_server_without_v2_sends_vn) {
  v2_env *e = env_new(14);
  e->p.c.set.initial_version = V2;
  env_start(e);
  (void)aq_sim_run(e->p.sim, 3 * AQ_SECONDS, 100000, NULL, NULL);
  CHECK(!e->p.c.hs_done);
  CHECK(e->p.c.closed); /* RFC 9000 §6.2: no common version */
  CHECK_INT(count_ver(&e->st, AQ_PROTO_VER_NEGOTIATION, AQ_PKT_VERSION_NEGOTIATION), 1);
  CHECK_INT(count_ver(&e->st, V2, -1), 0);
  env_free(e);
}

static void retry_case(uint32_t first, int enable_c) {
  v2_env *e = env_new(15 + first);
  e->p.c.set.initial_version = first;
  e->p.c.set.enable_v2 = enable_c;
  e->p.s.set.enable_v2 = 1;
  e->p.s.set.retry = 1;
  env_start(e);
  REQUIRE(env_hs(e));
  CHECK(aq_conn_used_retry(e->p.c.conn));
  /* RFC 9369 §4.1: the Retry is in the original version; v2 after it. */
  CHECK_INT(count_ver(&e->st, first, AQ_PKT_RETRY), 1);
  CHECK_INT(count_ver(&e->st, first == V1 ? V2 : V1, AQ_PKT_RETRY), 0);
  CHECK_INT(aq_conn_get_version(e->p.c.conn), V2);
  CHECK_INT(aq_conn_get_version(e->p.s.conn), V2);
  CHECK(count_ver(&e->st, V2, AQ_PKT_HANDSHAKE) > 0);
  CHECK(env_echo(e, 20000));
  env_free(e);
}

AQ_TEST(conn_v2_retry_in_v2) {
  retry_case(V2, 0);
}

AQ_TEST(conn_v2_retry_then_negotiation) {
  retry_case(V1, 1);
}

AQ_TEST(conn_v2_key_update) {
  v2_env *e = env_new(16);
  e->p.c.set.enable_v2 = 1;
  e->p.s.set.enable_v2 = 1;
  env_start(e);
  REQUIRE(env_hs(e));
  (void)aq_sim_run_for(e->p.sim, 200 * AQ_MILLISECONDS, 100000);
  REQUIRE(e->p.c.conn->handshake_confirmed);
  REQUIRE(aq_conn_get_version(e->p.c.conn) == V2);
  /* The first update by hand: the next secret comes from the "quicv2 ku" label. */
  aq_conn *c = e->p.c.conn;
  uint8_t old[AQ_HASH_MAX_LEN], want[AQ_HASH_MAX_LEN], v1[AQ_HASH_MAX_LEN];
  size_t sl = c->app_secret_len;
  REQUIRE(sl > 0 && sl <= sizeof(old));
  memcpy(old, c->app_secret[1], sl);
  REQUIRE(aq_quic_next_secret(want, c->app_hash, old, sl, V2) == 0);
  REQUIRE(aq_quic_next_secret(v1, c->app_hash, old, sl, V1) == 0);
  CHECK(memcmp(want, v1, sl) != 0);
  REQUIRE(aq_conn_initiate_key_update(c, aq_sim_now(e->p.sim)) == 0);
  CHECK_MEM(c->app_secret[1], want, sl);
  int updates = 1;
  aq_simq_stream *cs = aq_simq_open(&e->p.c, 1, 2000000, 1);
  REQUIRE(cs != NULL);
  for (int round = 0; round < 2000 && !cs->fin_recvd; round++) {
    (void)aq_sim_run(e->p.sim, 10 * AQ_MILLISECONDS, 100000, predicate_fin, cs);
    aq_conn *who = (round & 1) ? e->p.s.conn : e->p.c.conn;
    if (who != NULL && aq_conn_initiate_key_update(who, aq_sim_now(e->p.sim)) == 0) {
      updates++;
    }
  }
  CHECK(cs->fin_recvd);
  CHECK_INT(cs->recvd, 2000000);
  CHECK(!cs->bad);
  CHECK(updates >= 2); /* the one above and at least one while data flows */
  aq_conn_stats st;
  aq_conn_get_stats(e->p.c.conn, &st);
  CHECK(st.key_updates >= 2);
  CHECK_INT(aq_conn_get_version(e->p.c.conn), V2);
  CHECK(e->p.c.conn->state == AQ_CS_ESTABLISHED);
  env_free(e);
}

AQ_TEST(conn_v2_tampered_chosen_version) {
  v2_env *e = env_new(17);
  e->p.c.set.enable_v2 = 1;
  e->p.s.set.enable_v2 = 1;
  e->ct.tamper_chosen = 1; /* an on-path attacker rewrites the ClientHello's Chosen Version */
  env_start(e);
  (void)aq_sim_run(e->p.sim, 3 * AQ_SECONDS, 100000, NULL, NULL);
  CHECK(e->ct.tampered > 0);
  CHECK(!e->p.c.hs_done);
  CHECK(!e->p.s.hs_done);
  CHECK(e->p.s.closed);
  CHECK_INT(e->p.s.close.code, AQ_QERR_VERSION_NEGOTIATION_ERROR);
  CHECK(e->p.c.closed);
  CHECK_INT(e->p.c.close.code, AQ_QERR_VERSION_NEGOTIATION_ERROR);
  CHECK_INT(e->p.c.close.by_peer, 1);
  CHECK_INT(count_ver(&e->st, V2, -1), 0); /* the server did not switch */
  env_free(e);
}

static int rand_fn(uint8_t *buf, size_t len, void *ud) {
  (void)ud;
  for (size_t i = 0; i < len; i++) {
    buf[i] = (uint8_t)(i * 37u + 5u);
  }
  return 0;
}

/** A client connection (no network) to run the version_information checks on. */
static aq_conn *check_conn(uint32_t version, uint32_t orig) {
  aq_settings s;
  aq_settings_default(&s);
  s.enable_v2 = 1;
  aq_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.rand = rand_fn;
  aq_path path;
  memset(&path, 0, sizeof(path));
  aq_conn *c = NULL;
  if (aq_conn_new(&c, 0, &s, &cb, NULL, NULL, &path, NULL, 0) != 0) {
    return NULL;
  }
  c->version = version;
  c->ver.orig = orig;
  return c;
}

AQ_TEST(conn_v2_client_checks_server_version_information) {
  struct {
    uint32_t version, orig; /* client state */
    int has;
    uint32_t chosen;
    uint32_t avail[2];
    size_t navail;
    int ok;
  } cases[] = {
      {V2, V1, 1, V2, {V2, V1}, 2, 1}, /* compatible negotiation, honest server */
      {V1, V1, 1, V1, {V2, V1}, 2, 1}, /* no switch */
      {V1, V1, 0, 0, {0, 0}, 0, 1},    /* a v1 server without the parameter (quinn 0.9) */
      {V2, V2, 0, 0, {0, 0}, 0, 1},    /* started in v2, parameter absent */
      {V2, V1, 0, 0, {0, 0}, 0, 0},    /* switched, but no version_information */
      {V2, V1, 1, V1, {V2, V1}, 2, 0}, /* Chosen Version is not what the packets use */
      {V1, V1, 1, V2, {V2, V1}, 2, 0}, /* server claims v2 in v1 packets */
      {V2, V1, 1, V2, {V1, 0}, 1, 0},  /* negotiated version missing from Available */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    aq_conn *c = check_conn(cases[i].version, cases[i].orig);
    REQUIRE(c != NULL);
    aq_tp tp;
    aq_tp_default(&tp);
    if (cases[i].has) {
      tp.has |= AQ_TP_HAS_VERSION_INFO;
      tp.chosen_version = cases[i].chosen;
      tp.navailable_versions = cases[i].navail;
      memcpy(tp.available_versions, cases[i].avail, sizeof(cases[i].avail));
    }
    int rc = aq_ver_check_peer_tp(c, &tp, 0);
    if (cases[i].ok) {
      CHECK_INT(rc, 0);
      CHECK(c->state == AQ_CS_HANDSHAKE);
    } else {
      CHECK_INT(rc, AQ_ERR_PROTO);
      CHECK(c->state == AQ_CS_CLOSING);
      CHECK_INT(c->close_code, AQ_QERR_VERSION_NEGOTIATION_ERROR);
    }
    aq_conn_del(c);
  }
}

AQ_TEST(conn_v2_server_checks_client_chosen_version) {
  aq_conn *c = check_conn(V2, V1);
  REQUIRE(c != NULL);
  c->is_server = 1; /* only the check's view: a server whose client started in v1 */
  aq_tp tp;
  aq_tp_default(&tp);
  tp.has |= AQ_TP_HAS_VERSION_INFO;
  tp.chosen_version = V1;
  tp.navailable_versions = 2;
  tp.available_versions[0] = V2;
  tp.available_versions[1] = V1;
  CHECK_INT(aq_ver_check_peer_tp(c, &tp, 0), 0);
  tp.chosen_version = V2; /* not the version of its Initial */
  CHECK_INT(aq_ver_check_peer_tp(c, &tp, 0), AQ_ERR_PROTO);
  CHECK_INT(c->close_code, AQ_QERR_VERSION_NEGOTIATION_ERROR);
  c->is_server = 0;
  aq_conn_del(c);
}

/** v1 -> v2 negotiation still completes with the given groups and link settings. */
static void negotiate_case(uint64_t seed, uint16_t group, uint64_t srv_mask, double loss,
                           uint64_t cli_mask) {
  v2_env *e = env_new(seed);
  e->p.c.set.enable_v2 = 1;
  e->p.s.set.enable_v2 = 1;
  e->p.c.groups[0] = group;
  e->p.s.groups[0] = group;
  aq_sim_link_params_of(aq_sim_host_uplink(e->p.sh))->loss_mask = srv_mask;
  aq_sim_link_params_of(aq_sim_host_uplink(e->p.ch))->loss_mask = cli_mask;
  aq_sim_link_params_of(aq_sim_host_uplink(e->p.ch))->loss_pct = loss;
  aq_sim_link_params_of(aq_sim_host_uplink(e->p.sh))->loss_pct = loss;
  env_start(e);
  REQUIRE(aq_sim_run(e->p.sim, 20 * AQ_SECONDS, 500000, aq_simq_pair_hs_done, &e->p) ==
          AQ_SIM_DONE);
  CHECK_INT(aq_conn_get_version(e->p.c.conn), V2);
  CHECK_INT(aq_conn_get_version(e->p.s.conn), V2);
  CHECK(count_ver(&e->st, V2, AQ_PKT_HANDSHAKE) > 0);
  CHECK_INT(count_ver(&e->st, V1, AQ_PKT_HANDSHAKE), 0);
  CHECK_INT(count_ver(&e->ct, V1, AQ_PKT_HANDSHAKE), 0);
  for (size_t i = 0; i < e->ct.npk; i++) {
    if (e->ct.pk[i].switched) {
      CHECK(e->ct.pk[i].version == V2 || e->ct.pk[i].type == AQ_PKT_1RTT);
    }
  }
  if (srv_mask & 1u) {
    /* The server's first flight was lost: the client resent its v1 Initial,
     * which the server opened with the original-version keys it kept. */
    CHECK(count_ver(&e->ct, V1, AQ_PKT_INITIAL) >= 2);
  }
  if (cli_mask & 2u) {
    CHECK(count_ver(&e->st, V1, AQ_PKT_INITIAL) >= 1); /* ACK before the switch */
  }
  if (getenv("V2_DEBUG") != NULL) {
    fprintf(stderr, "seed %llu: server v1 Initials %zu, v2 Initials %zu\n",
            (unsigned long long)seed, count_ver(&e->st, V1, AQ_PKT_INITIAL),
            count_ver(&e->st, V2, AQ_PKT_INITIAL));
  }
  if (loss == 0) {
    aq_conn_stats st;
    aq_conn_get_stats(e->p.s.conn, &st);
    CHECK_INT(st.pkts_dropped, 0); /* every v1 Initial of the client was opened */
  }
  CHECK(env_echo(e, 100000));
  env_free(e);
}

AQ_TEST(conn_v2_negotiation_server_flight_lost) {
  negotiate_case(21, 0x001d, 0x1u, 0, 0);
  negotiate_case(22, 0x001d, 0x3u, 0, 0);
}

AQ_TEST(conn_v2_negotiation_pq_two_datagram_client_hello) {
  /* X25519MLKEM768: the ClientHello spans two Initials; the server may
   * acknowledge the first in v1 before it knows the client's parameters. */
  negotiate_case(23, 0x11ec, 0, 0, 0);
  negotiate_case(24, 0x11ec, 0x1u, 0, 0);
  /* The second half is lost: the server acknowledges the first half in a v1
   * Initial, then answers the resent half in v2; the client still switches. */
  negotiate_case(25, 0x11ec, 0, 0, 0x2u);
}

AQ_TEST(conn_v2_negotiation_lossy_seeds) {
  for (uint64_t seed = 30; seed < 36; seed++) {
    negotiate_case(seed, seed & 1 ? 0x11ec : 0x001d, 0, 10.0, 0);
  }
}

/* ------------------------------------------------ resumption and 0-RTT */

static struct {
  uint8_t blob[16384];
  size_t len;
  int n;
} g_v2sess;

static void v2_new_session(aq_conn *conn, const uint8_t *blob, size_t len, void *ud) {
  (void)conn;
  (void)ud;
  if (len <= sizeof(g_v2sess.blob)) {
    memcpy(g_v2sess.blob, blob, len);
    g_v2sess.len = len;
    g_v2sess.n++;
  }
}

static int v2_got_session(void *arg) {
  (void)arg;
  return g_v2sess.n > 0;
}

static const uint8_t v2_tkey[32] = {0x51, 0x52, 0x53, 0x54, 0x55};

typedef struct v2_second {
  aq_simq c, s;
  vtap ct, st;
  aq_addr caddr, saddr;
} v2_second;

static int second_echoed(void *arg) {
  aq_simq_stream *cs = arg;
  return cs->fin_recvd && cs->recvd == 3000;
}

/*
 * A session from a v2-negotiated connection resumed with 0-RTT: the client
 * starts in v1 again and sends its 0-RTT packets in v1 (RFC 9369 §4.1: never
 * in the negotiated version).  A server accepting the early data stays in
 * v1 (it would otherwise have to read v1 0-RTT next to v2 packets); one
 * refusing it moves the connection to v2 and the data is resent in 1-RTT.
 */
static void zrtt_case(int accept) {
  v2_env *e = env_new(40 + (uint64_t)accept);
  memset(&g_v2sess, 0, sizeof(g_v2sess));
  e->p.c.set.enable_v2 = 1;
  e->p.s.set.enable_v2 = 1;
  e->p.s.set.ticket_key = v2_tkey;
  e->p.s.set.accept_early_data = 1;
  e->p.c.cb.new_session = v2_new_session;
  env_start(e);
  REQUIRE(aq_sim_run(e->p.sim, 5 * AQ_SECONDS, 100000, v2_got_session, NULL) == AQ_SIM_DONE);
  CHECK_INT(aq_conn_get_version(e->p.c.conn), V2);

  v2_second *x = calloc(1, sizeof(*x));
  REQUIRE(x != NULL);
  x->caddr = aq_sim_ip4(198, 51, 100, 3, 50001);
  x->saddr = aq_sim_ip4(192, 0, 2, 2, 443);
  aq_sim_host *ch = aq_sim_host_add(e->p.sim, "client2", NULL, &x->caddr, NULL, NULL);
  aq_sim_host *sh = aq_sim_host_add(e->p.sim, "server2", NULL, &x->saddr, NULL, NULL);
  aq_simq_init(&x->c, e->p.sim, ch, 0, 0x11);
  aq_simq_init(&x->s, e->p.sim, sh, 1, 0x22);
  x->s.echo = 1;
  x->c.set.enable_v2 = 1;
  x->s.set.enable_v2 = 1;
  x->s.set.ticket_key = v2_tkey;
  x->s.set.accept_early_data = accept;
  aq_simq_start(&x->s);
  aq_simq_start(&x->c);
  x->ct.q = &x->c;
  x->st.q = &x->s;
  x->ct.seq = x->st.seq = &e->seq;
  aq_sim_host_attach(ch, &tap_ops, &x->ct);
  aq_sim_host_attach(sh, &tap_ops, &x->st);
  aq_simq_connect(&x->c, &x->saddr);
  REQUIRE(aq_conn_set_session(x->c.conn, g_v2sess.blob, g_v2sess.len) == 0);
  aq_simq_stream *cs = aq_simq_open(&x->c, 1, 3000, 1); /* before the first packet: 0-RTT */
  REQUIRE(cs != NULL);
  (void)aq_sim_run(e->p.sim, 10 * AQ_SECONDS, 1000000, second_echoed, cs);
  CHECK(cs->fin_recvd);
  CHECK_INT(cs->recvd, 3000);
  CHECK(!cs->bad);
  REQUIRE(x->c.conn != NULL && x->s.conn != NULL);
  CHECK(count_ver(&x->ct, V1, AQ_PKT_0RTT) > 0);
  CHECK_INT(count_ver(&x->ct, V2, AQ_PKT_0RTT), 0);
  if (accept) {
    CHECK_INT(aq_conn_early_data_state(x->c.conn), AQ_EARLY_DATA_ACCEPTED);
    CHECK_INT(aq_conn_get_version(x->c.conn), V1);
    CHECK_INT(aq_conn_get_version(x->s.conn), V1);
    CHECK_INT(count_ver(&x->st, V2, -1), 0);
  } else {
    CHECK_INT(aq_conn_early_data_state(x->c.conn), AQ_EARLY_DATA_REJECTED);
    CHECK_INT(aq_conn_get_version(x->c.conn), V2);
    CHECK_INT(aq_conn_get_version(x->s.conn), V2);
    CHECK_INT(count_ver(&x->st, V1, AQ_PKT_HANDSHAKE), 0);
  }
  aq_simq_free(&x->c);
  aq_simq_free(&x->s);
  free(x);
  env_free(e);
}

AQ_TEST(conn_v2_zrtt_accepted_stays_v1) {
  zrtt_case(1);
}

AQ_TEST(conn_v2_zrtt_rejected_switches) {
  zrtt_case(0);
}
