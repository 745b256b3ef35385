/*
 * test_qad_conn.c - QUIC Address Discovery wired into connections and
 * endpoints (lib/ext/aq_qad_conn.c).
 *
 * Simulator tests (tests/sim): clients behind NAT boxes learn their
 * translated address; a NAT rebinding gives a new observation with a higher
 * sequence number and a change event; a lost frame is sent again with the
 * same sequence number; the per-path bucket holds under a storm of path
 * changes; an unrequested frame closes with PROTOCOL_VIOLATION; every
 * combination of the modes 0/1/2 (and a peer without the extension); the
 * PATH_RESPONSE bundling of observe_all_paths.
 *
 * White-box tests drive the extension hooks of a bare aq_conn (no TLS, no
 * network): retransmission only on the path of the original, the
 * per-path receive filter, the endpoint's discovered set and its caps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_qad.h"
#include "aq_qad_conn.h"
#include "aq_qerr.h"
#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

/* ================================================================ sim lab */

/** One endpoint of the lab; q first, since the library hands &q back as user_data. */
typedef struct qnode {
  aq_simq q;
  unsigned nobs;     /* addr_observed calls */
  unsigned nchanged; /* ... with changed = 1 */
  aq_addr first, last;
  uint64_t last_seq; /* highest accepted sequence number on any path when last called */
  int blackout_on_hs;
} qnode;

#define LAB_MAX_CLIENTS 2

/** A server on the internet and up to two clients, each behind its own NAT. */
typedef struct lab {
  aq_sim *sim;
  aq_sim_nat *nat[LAB_MAX_CLIENTS];
  aq_sim_host *sh, *ch[LAB_MAX_CLIENTS];
  qnode s, c[LAB_MAX_CLIENTS];
  aq_addr saddr, caddr[LAB_MAX_CLIENTS];
  size_t nc;
} lab;

static void cb_observed(aq_conn *conn, const aq_addr *observed, int changed, void *ud) {
  qnode *n = ud;
  n->nobs++;
  if (changed) {
    n->nchanged++;
  }
  if (n->nobs == 1) {
    n->first = *observed;
  }
  n->last = *observed;
  const aq_qad_conn *qc = aq_qad_conn_of(conn);
  n->last_seq = 0;
  for (unsigned i = 0; qc != NULL && i < AQ_MAX_PATHS; i++) {
    if (qc->path[i].rx.have && qc->path[i].rx.last_seq > n->last_seq) {
      n->last_seq = qc->path[i].rx.last_seq;
    }
  }
}

/** Handshake callback that may black out the node's uplink right away (its next packets). */
static void cb_hs_blackout(aq_conn *conn, void *ud) {
  (void)conn;
  qnode *n = ud;
  n->q.hs_done = 1;
  n->q.hs_done_ts = aq_sim_now(n->q.sim);
  if (n->blackout_on_hs) {
    n->blackout_on_hs = 0;
    aq_sim_link_params *lp = aq_sim_link_params_of(aq_sim_host_uplink(n->q.host));
    aq_tstamp now = aq_sim_now(n->q.sim);
    lp->blackout[0].start = now;
    lp->blackout[0].end = now + 60 * AQ_MILLISECONDS;
  }
}

static void lab_init(lab *L, uint64_t seed, size_t nc, const aq_sim_link_params *lp) {
  memset(L, 0, sizeof(*L));
  L->sim = aq_sim_new(seed);
  L->nc = nc;
  L->saddr = aq_sim_ip4(192, 0, 2, 1, 443);
  L->sh = aq_sim_host_add(L->sim, "server", NULL, &L->saddr, lp, lp);
  aq_simq_init(&L->s.q, L->sim, L->sh, 1, 0x22);
  L->s.q.cb.addr_observed = cb_observed;
  L->s.q.cb.handshake_completed = cb_hs_blackout;
  static const aq_sim_nat_type types[LAB_MAX_CLIENTS] = {AQ_SIM_NAT_PORT_RESTRICTED,
                                                         AQ_SIM_NAT_SYMMETRIC};
  for (size_t i = 0; i < nc && i < LAB_MAX_CLIENTS; i++) {
    char name[16];
    aq_addr ext = aq_sim_ip4(203, 0, 113, (uint8_t)(10 + i), 0);
    aq_sim_nat_config cfg = aq_sim_nat_config_default(types[i]);
    snprintf(name, sizeof(name), "nat%zu", i);
    L->nat[i] = aq_sim_nat_add(L->sim, name, NULL, &ext, &cfg, lp, lp);
    L->caddr[i] = aq_sim_ip4(10, 0, 0, 2, 5000);
    snprintf(name, sizeof(name), "client%zu", i);
    L->ch[i] = aq_sim_host_add(L->sim, name, L->nat[i], &L->caddr[i], NULL, NULL);
    aq_simq_init(&L->c[i].q, L->sim, L->ch[i], 0, (uint8_t)(0x11 + i));
    L->c[i].q.cb.addr_observed = cb_observed;
  }
}

/** Start the endpoints with these address-discovery configs (NULL = off) and connect. */
static int lab_start(lab *L, const aq_qad_config *ccfg, const aq_qad_config *scfg) {
  aq_simq_start(&L->s.q);
  if (scfg != NULL && aq_ep_set_qad(L->s.q.ep, scfg) != 0) {
    return -1;
  }
  for (size_t i = 0; i < L->nc; i++) {
    aq_simq_start(&L->c[i].q);
    if (ccfg != NULL && aq_ep_set_qad(L->c[i].q.ep, ccfg) != 0) {
      return -1;
    }
    aq_simq_connect(&L->c[i].q, &L->saddr);
  }
  if (getenv("AQ_QAD_TRACE") != NULL) {
    aq_sim_set_trace(L->sim, stderr);
  }
  return 0;
}

static int lab_hs_done(void *arg) {
  lab *L = arg;
  for (size_t i = 0; i < L->nc; i++) {
    if (!L->c[i].q.hs_done) {
      return 0;
    }
  }
  return L->s.q.hs_done;
}

/** Handshakes, then settle time (HANDSHAKE_DONE, observations, their ACKs). */
static int lab_run(lab *L, aq_duration settle) {
  if (aq_sim_run(L->sim, 5 * AQ_SECONDS, 200000, lab_hs_done, L) != AQ_SIM_DONE) {
    return -1;
  }
  (void)aq_sim_run_for(L->sim, settle, 2000000);
  return 0;
}

static void lab_free(lab *L) {
  for (size_t i = 0; i < L->nc; i++) {
    aq_simq_free(&L->c[i].q);
  }
  aq_simq_free(&L->s.q);
  aq_sim_del(L->sim);
}

/** The address discovery state of conn (REQUIRE'd non-NULL by callers). */
static const aq_qad_conn *qad_of(const aq_conn *conn) {
  return conn != NULL ? aq_qad_conn_of(conn) : NULL;
}

static void check_addr(const aq_addr *got, const aq_addr *want, int line) {
  if (!aq_addr_eq(got, want)) {
    char a[AQ_ADDR_STRLEN], b[AQ_ADDR_STRLEN];
    aq_test_fail(__FILE__, line, "address %s, expected %s", aq_addr_format(a, sizeof(a), got),
                 aq_addr_format(b, sizeof(b), want));
  }
}
#define CHECK_ADDR(got, want) check_addr((got), (want), __LINE__)

/* ========================================================== sim scenarios */

AQ_TEST(qad_conn_nat_translated) {
  /* Two clients behind a port-restricted and a symmetric NAT learn the NATs' external
   * address and port; the server learns its own; the endpoint sets say who reported what. */
  lab L;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  lab_init(&L, 801, 2, &lp);
  aq_qad_config cfg;
  aq_qad_config_default(&cfg);
  REQUIRE(lab_start(&L, &cfg, &cfg) == 0);
  REQUIRE(lab_run(&L, 300 * AQ_MILLISECONDS) == 0);
  aq_addr ext[2];
  for (size_t i = 0; i < 2; i++) {
    qnode *c = &L.c[i];
    REQUIRE(aq_sim_nat_lookup(L.nat[i], &L.caddr[i], &L.saddr, &ext[i]) == 0);
    CHECK(ext[i].ip[0] == 203 && ext[i].ip[3] == 10 + i && ext[i].port != 5000);
    CHECK_INT(c->nobs, 1);
    CHECK_INT(c->nchanged, 1);
    CHECK_ADDR(&c->last, &ext[i]);
    aq_addr got;
    REQUIRE(c->q.conn != NULL);
    REQUIRE(aq_conn_observed_addr(c->q.conn, &got) == 0);
    CHECK_ADDR(&got, &ext[i]);
    /* The client's endpoint set: exactly its external address, reported by the server. */
    aq_discovered_addr d[4];
    CHECK_INT(aq_ep_discovered(c->q.ep, d, 4), 1);
    CHECK_ADDR(&d[0].addr, &ext[i]);
    CHECK_INT(d[0].reports, 1);
    CHECK_INT(d[0].nreporters, 1);
    CHECK_ADDR(&d[0].reporters[0].peer, &L.saddr);
    CHECK(d[0].first_ts > AQ_SIM_ORIGIN && d[0].first_ts == d[0].last_ts);
    const aq_qad_conn *qc = qad_of(c->q.conn);
    REQUIRE(qc != NULL);
    CHECK(qc->may_send && qc->may_receive);
    CHECK_INT(qc->stats.tx_new, 1);
    CHECK_INT(qc->stats.tx_acked, 1);
    CHECK_INT(qc->stats.rx_accepted, 1);
    CHECK(!c->q.closed && !c->q.io_err);
  }
  CHECK(!aq_addr_eq(&ext[0], &ext[1]));
  /* The server heard its own address from both clients (one entry, two reporters). */
  CHECK_INT(L.s.nobs, 2);
  CHECK_ADDR(&L.s.last, &L.saddr);
  aq_discovered_addr d[4];
  CHECK_INT(aq_ep_discovered(L.s.q.ep, d, 4), 1);
  CHECK_ADDR(&d[0].addr, &L.saddr);
  CHECK_INT(d[0].reports, 2);
  REQUIRE(d[0].nreporters == 2);
  int r0 =
      aq_addr_eq(&d[0].reporters[0].peer, &ext[0]) || aq_addr_eq(&d[0].reporters[1].peer, &ext[0]);
  int r1 =
      aq_addr_eq(&d[0].reporters[0].peer, &ext[1]) || aq_addr_eq(&d[0].reporters[1].peer, &ext[1]);
  CHECK(r0 && r1);
  CHECK(d[0].reporters[0].last_ts >= d[0].reporters[1].last_ts);
  lab_free(&L);
}

static void do_rebind(aq_sim *sim, void *arg) {
  (void)sim;
  aq_sim_nat_rebind(arg);
}

AQ_TEST(qad_conn_nat_rebinding) {
  /* The NAT moves the client's flow to a new external port: the server follows it (a new
   * path) and reports it with a higher sequence number; the client sees a change event. */
  lab L;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS, .rate_bps = 20000000};
  lab_init(&L, 802, 1, &lp);
  L.c[0].q.set.keep_alive = 50 * AQ_MILLISECONDS; /* the client keeps talking */
  aq_qad_config cfg;
  aq_qad_config_default(&cfg);
  REQUIRE(lab_start(&L, &cfg, &cfg) == 0);
  REQUIRE(lab_run(&L, 300 * AQ_MILLISECONDS) == 0);
  qnode *c = &L.c[0];
  aq_addr before, after;
  REQUIRE(aq_sim_nat_lookup(L.nat[0], &L.caddr[0], &L.saddr, &before) == 0);
  CHECK_INT(c->nobs, 1);
  CHECK_ADDR(&c->last, &before);
  uint64_t seq1 = c->last_seq;
  /* Full-sized packets from the client: the server may answer on the new path before it is
   * validated (3x anti-amplification, RFC 9000 §9.3). */
  REQUIRE(aq_simq_open(&c->q, 0, 1000000, 1) != NULL);
  aq_sim_at(L.sim, aq_sim_now(L.sim) + 100 * AQ_MILLISECONDS, do_rebind, L.nat[0]);
  (void)aq_sim_run_for(L.sim, 1500 * AQ_MILLISECONDS, 2000000);
  REQUIRE(aq_sim_nat_lookup(L.nat[0], &L.caddr[0], &L.saddr, &after) == 0);
  CHECK(aq_addr_eq_ip(&after, &before) && after.port != before.port);
  CHECK_INT(c->nobs, 2);
  CHECK_INT(c->nchanged, 2);
  CHECK_ADDR(&c->first, &before);
  CHECK_ADDR(&c->last, &after);
  CHECK(c->last_seq > seq1);
  aq_addr got;
  REQUIRE(aq_conn_observed_addr(c->q.conn, &got) == 0);
  CHECK_ADDR(&got, &after);
  /* Server: one migration, one new observation for the new path. */
  REQUIRE(L.s.q.conn != NULL);
  aq_conn_stats st;
  aq_conn_get_stats(L.s.q.conn, &st);
  CHECK_INT(st.migrations, 1);
  const aq_qad_conn *sq = qad_of(L.s.q.conn);
  REQUIRE(sq != NULL);
  if (getenv("AQ_QAD_DEBUG")) {
    for (unsigned i = 0; i < AQ_MAX_PATHS; i++) {
      fprintf(stderr, "path %u in_use %d tx %d seq %llu wake %llu active %u\n", i,
              L.s.q.conn->paths[i].in_use, sq->path[i].tx, (unsigned long long)sq->path[i].tx_seq,
              (unsigned long long)sq->path[i].wake_at, L.s.q.conn->active_path);
    }
  }
  CHECK_INT(sq->stats.tx_new, 2);
  CHECK_INT(sq->next_seq, 2);
  /* The client's endpoint set holds both, the newer first. */
  aq_discovered_addr d[4];
  CHECK_INT(aq_ep_discovered(c->q.ep, d, 4), 2);
  CHECK_ADDR(&d[0].addr, &after);
  CHECK_ADDR(&d[1].addr, &before);
  CHECK(d[0].last_ts > d[1].last_ts);
  /* Asking for one gives the newest, and the count of all. */
  memset(d, 0, sizeof(d));
  CHECK_INT(aq_ep_discovered(c->q.ep, d, 1), 2);
  CHECK_ADDR(&d[0].addr, &after);
  CHECK_INT(d[1].addr.family, 0);
  CHECK(!c->q.closed && !L.s.q.closed);
  lab_free(&L);
}

AQ_TEST(qad_conn_lost_frame_retransmitted) {
  /* The server's first 1-RTT packets (HANDSHAKE_DONE + OBSERVED_ADDRESS) are blacked out: the
   * observation is declared lost and sent again with the same sequence number. */
  lab L;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  lab_init(&L, 803, 1, &lp);
  L.s.blackout_on_hs = 1;
  aq_qad_config cfg;
  aq_qad_config_default(&cfg);
  REQUIRE(lab_start(&L, &cfg, &cfg) == 0);
  REQUIRE(lab_run(&L, 2 * AQ_SECONDS) == 0);
  const aq_sim_link_stats *ls = aq_sim_link_stats_of(aq_sim_host_uplink(L.sh));
  CHECK(ls->drop_blackout >= 1);
  const aq_qad_conn *sq = qad_of(L.s.q.conn);
  REQUIRE(sq != NULL);
  CHECK_INT(sq->stats.tx_new, 1);
  CHECK(sq->stats.tx_lost >= 1);
  CHECK(sq->stats.tx_retx >= 1);
  CHECK_INT(sq->next_seq, 1); /* no new sequence number was spent on the retransmission */
  CHECK_INT(sq->path[0].tx, AQ_QAD_TX_IDLE); /* finally acknowledged */
  qnode *c = &L.c[0];
  aq_addr ext;
  REQUIRE(aq_sim_nat_lookup(L.nat[0], &L.caddr[0], &L.saddr, &ext) == 0);
  CHECK_INT(c->nobs, 1);
  CHECK_ADDR(&c->last, &ext);
  CHECK_INT(c->last_seq, 0);
  CHECK(!c->q.closed && !L.s.q.closed);
  lab_free(&L);
}

typedef struct storm {
  aq_sim_nat *nat;
  unsigned left;
  aq_duration every;
} storm;

static void storm_tick(aq_sim *sim, void *arg) {
  storm *s = arg;
  aq_sim_nat_rebind(s->nat);
  if (--s->left > 0) {
    aq_sim_at(sim, aq_sim_now(sim) + s->every, storm_tick, s);
  }
}

/**
 * 40 NAT rebindings, one every 100 ms, during a transfer from the client.
 * Returns the server's new observations, its migrations in *migr and the
 * simulated time since the connection started in *elapsed.
 */
static uint64_t run_storm(const aq_qad_config *scfg, uint64_t seed, uint64_t *migr,
                          aq_duration *elapsed, uint64_t *client_obs) {
  lab L;
  aq_sim_link_params lp = {.delay = 2 * AQ_MILLISECONDS, .rate_bps = 4000000};
  lab_init(&L, seed, 1, &lp);
  L.c[0].q.set.keep_alive = 5 * AQ_MILLISECONDS;
  aq_qad_config ccfg;
  aq_qad_config_default(&ccfg);
  aq_tstamp t0 = aq_sim_now(L.sim);
  uint64_t n = UINT64_MAX;
  *migr = 0;
  if (lab_start(&L, &ccfg, scfg) == 0 && lab_run(&L, 100 * AQ_MILLISECONDS) == 0) {
    /* A transfer that outlasts the storm keeps full-sized packets coming from every new port. */
    if (aq_simq_open(&L.c[0].q, 0, 3000000, 1) == NULL) {
      aq_test_fail(__FILE__, __LINE__, "open");
    }
    storm s = {L.nat[0], 40, 100 * AQ_MILLISECONDS};
    aq_sim_at(L.sim, aq_sim_now(L.sim), storm_tick, &s);
    (void)aq_sim_run_for(L.sim, 4500 * AQ_MILLISECONDS, 5000000);
    const aq_qad_conn *sq = qad_of(L.s.q.conn);
    if (getenv("AQ_QAD_DEBUG") != NULL && L.s.q.conn != NULL && L.c[0].q.conn != NULL) {
      aq_conn_stats cs, ss;
      aq_conn_get_stats(L.c[0].q.conn, &cs);
      aq_conn_get_stats(L.s.q.conn, &ss);
      fprintf(stderr,
              "steps %llu t %.3f client sent %llu pkts %llu lost %llu; server recv %llu bytes, "
              "sent %llu pkts, migrations %llu, closed %d/%d\n",
              (unsigned long long)aq_sim_steps(L.sim), (double)(aq_sim_now(L.sim) - t0) / 1e9,
              (unsigned long long)cs.stream_bytes_sent, (unsigned long long)cs.pkts_sent,
              (unsigned long long)cs.pkts_lost, (unsigned long long)ss.stream_bytes_recv,
              (unsigned long long)ss.pkts_sent, (unsigned long long)ss.migrations, L.c[0].q.closed,
              L.s.q.closed);
    }
    if (sq != NULL && !L.s.q.closed && !L.c[0].q.closed) {
      aq_conn_stats st;
      aq_conn_get_stats(L.s.q.conn, &st);
      *migr = st.migrations;
      n = sq->stats.tx_new;
      *client_obs = L.c[0].nobs;
      CHECK(L.c[0].nobs <= n);
      CHECK(sq->stats.rate_limited > 0 || scfg->bootstrap);
    }
  }
  *elapsed = aq_sim_now(L.sim) - t0;
  lab_free(&L);
  return n;
}

AQ_TEST(qad_conn_rate_limit_storm) {
  aq_qad_config cfg;
  aq_qad_config_default(&cfg);
  cfg.max_rate = 1;
  uint64_t migr = 0, cobs = 0;
  aq_duration el = 0;
  uint64_t n = run_storm(&cfg, 804, &migr, &el, &cobs);
  REQUIRE(n != UINT64_MAX);
  /* Each of the AQ_MAX_PATHS slot buckets gives at most its burst plus rate x elapsed time. */
  double secs = (double)el / 1e9;
  uint64_t bound = (uint64_t)(AQ_MAX_PATHS * (1.0 + 1.0 * secs));
  printf("storm at 1/s: %llu path changes, %llu observations sent (bound %llu), %llu received\n",
         (unsigned long long)migr, (unsigned long long)n, (unsigned long long)bound,
         (unsigned long long)cobs);
  CHECK(migr >= 20); /* the storm happened (PATH_CHALLENGEs padded to 1200 bytes slow the transfer a little) */
  CHECK(n >= 1);
  CHECK(n <= bound);
  /* The same storm on a bootstrap node (63/s) reports far more: the limit is what held. */
  cfg.bootstrap = 1;
  uint64_t migr2 = 0, cobs2 = 0;
  uint64_t n2 = run_storm(&cfg, 804, &migr2, &el, &cobs2);
  printf("storm at 63/s: %llu path changes, %llu observations sent, %llu received\n",
         (unsigned long long)migr2, (unsigned long long)n2, (unsigned long long)cobs2);
  REQUIRE(n2 != UINT64_MAX);
  CHECK(migr2 >= 20);
  CHECK(n2 > bound);
  CHECK(n2 <= migr2 + 1);
}

/* A rogue server extension: claims address_discovery = tp_val and sends one OBSERVED_ADDRESS
 * whatever the client asked for. */
static const uint64_t rogue_types[] = {AQ_FT_OBSERVED_ADDRESS_V4, AQ_FT_OBSERVED_ADDRESS_V6};
static uint8_t rogue_tp[1];
static int rogue_sent;

static int rogue_write(void *ctx, aq_conn *conn, unsigned path_idx, aq_wbuf *w, aq_tstamp ts) {
  (void)ctx;
  (void)ts;
  if (rogue_sent) {
    return 0;
  }
  aq_frame f;
  memset(&f, 0, sizeof(f));
  f.type = AQ_FT_OBSERVED_ADDRESS_V4;
  f.u.addr.seq = 7;
  f.u.addr.addr = conn->paths[path_idx].addr.remote;
  size_t n = aq_frame_encoded_len(&f);
  if (n == 0 || n > aq_wbuf_left(w) || aq_frame_encode(w, &f) != 0) {
    return 0;
  }
  rogue_sent = 1;
  return 0;
}

static int rogue_on_frame(void *ctx, aq_conn *conn, const aq_frame *f, unsigned path_idx,
                          aq_tstamp ts) {
  (void)ctx;
  (void)conn;
  (void)f;
  (void)path_idx;
  (void)ts;
  return 0;
}

static const aq_conn_ext_ops rogue_ops = {.name = "rogue",
                                          .frame_types = rogue_types,
                                          .nframe_types = 2,
                                          .tp_id = AQ_TP_ADDRESS_DISCOVERY,
                                          .on_frame = rogue_on_frame,
                                          .write_frames = rogue_write};

static void add_rogue(aq_simq *q, aq_conn *conn) {
  if (aq_conn_ext_register(conn, &rogue_ops, NULL, rogue_tp, sizeof(rogue_tp)) != 0) {
    q->io_err = 1;
  }
}

/** Client with qad (mode cmode) against the rogue server; returns the lab for checks. */
static void run_rogue(lab *L, uint64_t seed, uint8_t cmode, uint8_t tp_val) {
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS};
  lab_init(L, seed, 1, &lp);
  rogue_tp[0] = tp_val;
  rogue_sent = 0;
  L->s.q.new_conn_hook = add_rogue;
  aq_qad_config cfg;
  aq_qad_config_default(&cfg);
  cfg.mode = cmode;
  if (lab_start(L, &cfg, NULL) != 0) {
    aq_test_fail(__FILE__, __LINE__, "lab_start");
  }
  (void)aq_sim_run_for(L->sim, 500 * AQ_MILLISECONDS, 200000);
}

AQ_TEST(qad_conn_unrequested_frame_closes) {
  /* Draft §4.1: a node that did not request observations (mode 0) closes with
   * PROTOCOL_VIOLATION when one arrives anyway. */
  lab L;
  run_rogue(&L, 805, AQ_TP_AD_PROVIDE_ONLY, AQ_TP_AD_BOTH);
  CHECK(rogue_sent);
  qnode *c = &L.c[0];
  CHECK(c->q.hs_done);
  CHECK(c->q.closed && !c->q.close.by_peer);
  CHECK_INT(c->q.close.code, AQ_QERR_PROTOCOL_VIOLATION);
  CHECK_INT(c->nobs, 0);
  CHECK(L.s.q.closed && L.s.q.close.by_peer);
  CHECK_INT(L.s.q.close.code, AQ_QERR_PROTOCOL_VIOLATION);
  lab_free(&L);
  /* The same frame to a client that asked (mode 1) is accepted. */
  run_rogue(&L, 806, AQ_TP_AD_RECEIVE_ONLY, AQ_TP_AD_BOTH);
  CHECK(rogue_sent);
  CHECK(!L.c[0].q.closed && !L.s.q.closed);
  CHECK_INT(L.c[0].nobs, 1);
  CHECK_INT(L.c[0].last_seq, 7);
  lab_free(&L);
}

AQ_TEST(qad_conn_bad_tp_value) {
  /* Draft §3: any value other than 0, 1, 2 is a TRANSPORT_PARAMETER_ERROR. */
  lab L;
  run_rogue(&L, 807, AQ_TP_AD_BOTH, 3);
  CHECK(L.c[0].q.closed && !L.c[0].q.close.by_peer);
  CHECK_INT(L.c[0].q.close.code, AQ_QERR_TRANSPORT_PARAMETER_ERROR);
  CHECK(!L.c[0].q.hs_done);
  lab_free(&L);
}

AQ_TEST(qad_conn_modes_matrix) {
  /* Every pair of modes (and a peer without the extension, index 3): an endpoint receives
   * observations exactly when it wants them (1, 2) and the peer provides them (0, 2). */
  static const int wants[4] = {0, 1, 1, 0};
  static const int provides[4] = {1, 0, 1, 0};
  for (unsigned cm = 0; cm < 4; cm++) {
    for (unsigned sm = 0; sm < 4; sm++) {
      lab L;
      aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS};
      lab_init(&L, 810 + cm * 4 + sm, 1, &lp);
      aq_qad_config cc, sc;
      aq_qad_config_default(&cc);
      aq_qad_config_default(&sc);
      cc.mode = (uint8_t)(cm < 3 ? cm : 0);
      sc.mode = (uint8_t)(sm < 3 ? sm : 0);
      REQUIRE(lab_start(&L, cm < 3 ? &cc : NULL, sm < 3 ? &sc : NULL) == 0);
      REQUIRE(lab_run(&L, 300 * AQ_MILLISECONDS) == 0);
      int c_gets = wants[cm] && provides[sm];
      int s_gets = wants[sm] && provides[cm];
      if ((int)L.c[0].nobs != c_gets || (int)L.s.nobs != s_gets) {
        aq_test_fail(__FILE__, __LINE__, "client mode %u server mode %u: client got %u, server %u",
                     cm, sm, L.c[0].nobs, L.s.nobs);
      }
      CHECK(!L.c[0].q.closed && !L.s.q.closed);
      const aq_qad_conn *cq = qad_of(L.c[0].q.conn);
      const aq_qad_conn *sq = qad_of(L.s.q.conn);
      CHECK((cq != NULL) == (cm < 3));
      CHECK((sq != NULL) == (sm < 3));
      if (cq != NULL) {
        CHECK_INT(cq->may_send, s_gets);
        CHECK_INT(cq->may_receive, c_gets);
        CHECK_INT(cq->stats.tx_new, s_gets);
        CHECK_INT(cq->peer_mode, sm < 3 ? sm : UINT64_MAX);
      }
      if (sq != NULL) {
        CHECK_INT(sq->may_send, c_gets);
        CHECK_INT(sq->stats.tx_new, c_gets);
      }
      lab_free(&L);
    }
  }
}

/** Index of the address-discovery extension on conn, or AQ_CONN_MAX_EXT. */
static size_t qad_ext_index(const aq_conn *conn) {
  for (size_t i = 0; i < conn->next; i++) {
    if (strcmp(conn->ext[i].ops->name, "address discovery") == 0) {
      return i;
    }
  }
  return AQ_CONN_MAX_EXT;
}

/**
 * Make the server answer a (fabricated) PATH_CHALLENGE on a second path slot
 * with the same addresses as the active one, so the PATH_RESPONSE packet
 * reaches the client.  Returns the server's new observations afterwards.
 */
static uint64_t run_probe_bundle(int observe_all, unsigned *client_obs, uint64_t *acked) {
  lab L;
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS};
  lab_init(&L, 820, 1, &lp);
  aq_qad_config cfg;
  aq_qad_config_default(&cfg);
  aq_qad_config scfg = cfg;
  scfg.observe_all_paths = observe_all;
  uint64_t n = UINT64_MAX;
  if (lab_start(&L, &cfg, &scfg) == 0 && lab_run(&L, 300 * AQ_MILLISECONDS) == 0 &&
      L.s.q.conn != NULL) {
    aq_conn *sc = L.s.q.conn;
    size_t k = qad_ext_index(sc);
    unsigned slot = sc->active_path == 1 ? 2 : 1;
    aq_conn_path *cp = &sc->paths[slot];
    if (k < AQ_CONN_MAX_EXT && !cp->in_use) {
      memset(cp, 0, sizeof(*cp));
      cp->in_use = 1;
      cp->addr = sc->paths[sc->active_path].addr;
      cp->amp_recv = 1200;
      cp->response_pending = 1;
      memset(cp->response, 0x5a, sizeof(cp->response));
      sc->ext[k].ops->on_path(sc->ext[k].ctx, sc, slot);
      (void)aq_sim_run_for(L.sim, 300 * AQ_MILLISECONDS, 200000);
      const aq_qad_conn *sq = qad_of(sc);
      n = sq->stats.tx_new;
      *acked = sq->stats.tx_acked;
      *client_obs = L.c[0].nobs;
      CHECK(cp->response_pending == 0);
      CHECK(!L.c[0].q.closed && !L.s.q.closed);
      CHECK_INT(L.c[0].nchanged, 1);
    }
  }
  lab_free(&L);
  return n;
}

AQ_TEST(qad_conn_observe_all_paths_probe) {
  /* observe_all_paths: a probing packet on a non-active path (PATH_RESPONSE) carries an
   * observation for that path, which makes it ack-eliciting; without it, nothing is added. */
  unsigned cobs = 0;
  uint64_t acked = 0;
  uint64_t n = run_probe_bundle(1, &cobs, &acked);
  CHECK_INT(n, 2);
  CHECK_INT(cobs, 2);
  CHECK_INT(acked, 2);
  n = run_probe_bundle(0, &cobs, &acked);
  CHECK_INT(n, 1);
  CHECK_INT(cobs, 1);
  CHECK_INT(acked, 1);
}

/* ===================================================== white-box: bare conn */

/** A bare connection (no TLS, no network) with address discovery attached. */
typedef struct bare {
  aq_conn *conn;
  const aq_conn_ext_ops *ops;
  void *ctx;
  aq_sent_meta meta;
  unsigned nobs, nchanged;
  aq_addr last;
} bare;

static void bare_observed(aq_conn *conn, const aq_addr *observed, int changed, void *ud) {
  (void)conn;
  bare *b = ud;
  b->nobs++;
  b->nchanged += changed != 0;
  b->last = *observed;
}

static aq_path bare_path(uint8_t last_octet, uint16_t port) {
  aq_path p;
  p.local = aq_sim_ip4(192, 0, 2, 1, 443);
  p.remote = aq_sim_ip4(198, 51, 100, last_octet, port);
  return p;
}

static int bare_init(bare *b, const aq_qad_config *cfg, aq_qad_ep *qe, uint8_t peer_mode) {
  memset(b, 0, sizeof(*b));
  b->conn = calloc(1, sizeof(aq_conn));
  if (b->conn == NULL) {
    return -1;
  }
  b->conn->mem = aq_mem_default();
  b->conn->paths[0].in_use = 1;
  b->conn->paths[0].addr = bare_path(7, 1000);
  b->conn->cb.addr_observed = bare_observed;
  b->conn->user_data = b;
  if (aq_qad_conn_attach(b->conn, cfg, qe, AQ_SECONDS) != 0 || b->conn->next != 1) {
    free(b->conn);
    return -1;
  }
  b->ops = b->conn->ext[0].ops;
  b->ctx = b->conn->ext[0].ctx;
  CHECK(b->conn->ext[0].tp_len == 1 && b->conn->ext[0].tp_value[0] == cfg->mode);
  uint8_t v = peer_mode;
  return b->ops->on_peer_tp(b->ctx, b->conn, &v, 1);
}

static void bare_free(bare *b) {
  if (b->conn != NULL) {
    b->ops->on_del(b->ctx, b->conn);
    free(b->conn);
  }
}

/** Let the extension write into a fresh packet for path_idx; 1 and *out if it wrote a frame. */
static int bare_write(bare *b, unsigned path_idx, aq_tstamp ts, aq_frame *out, uint64_t *token) {
  uint8_t buf[64];
  aq_wbuf w;
  aq_wbuf_init(&w, buf, sizeof(buf));
  memset(&b->meta, 0, sizeof(b->meta));
  b->conn->ext_tx_meta = &b->meta;
  b->conn->ext_tx_idx = 0;
  int rc = b->ops->write_frames(b->ctx, b->conn, path_idx, &w, ts);
  b->conn->ext_tx_meta = NULL;
  CHECK_INT(rc, 0);
  if (aq_wbuf_len(&w) == 0) {
    CHECK_INT(b->meta.nframes, 0);
    return 0;
  }
  aq_rbuf r;
  aq_rbuf_init(&r, buf, aq_wbuf_len(&w));
  CHECK_INT(aq_frame_decode(out, &r), 0);
  CHECK_INT(aq_rbuf_left(&r), 0);
  CHECK(out->type == AQ_FT_OBSERVED_ADDRESS_V4 || out->type == AQ_FT_OBSERVED_ADDRESS_V6);
  CHECK_INT(b->meta.nframes, 1);
  CHECK_INT(b->meta.f[0].kind, AQ_SF_EXT);
  *token = b->meta.f[0].off;
  return 1;
}

/** Deliver an OBSERVED_ADDRESS (seq, addr) on path_idx; returns on_frame's result. */
static int bare_recv(bare *b, unsigned path_idx, uint64_t seq, const aq_addr *addr) {
  aq_frame f;
  memset(&f, 0, sizeof(f));
  f.type = addr->family == AQ_AF_INET6 ? AQ_FT_OBSERVED_ADDRESS_V6 : AQ_FT_OBSERVED_ADDRESS_V4;
  f.u.addr.seq = seq;
  f.u.addr.addr = *addr;
  return b->ops->on_frame(b->ctx, b->conn, &f, path_idx, 2 * AQ_SECONDS);
}

AQ_TEST(qad_conn_retx_same_path) {
  /* Draft §4.1: "Retransmissions MUST happen on the same path as the original frame." */
  aq_qad_config cfg;
  aq_qad_config_default(&cfg);
  bare b;
  REQUIRE(bare_init(&b, &cfg, NULL, AQ_TP_AD_BOTH) == 0);
  aq_conn *c = b.conn;
  aq_tstamp ts = AQ_SECONDS;
  aq_frame f;
  uint64_t tok0, tok1, t;
  CHECK(b.ops->has_pending(b.ctx, c, 0));
  REQUIRE(bare_write(&b, 0, ts, &f, &tok0));
  CHECK_INT(f.u.addr.seq, 0);
  CHECK_ADDR(&f.u.addr.addr, &c->paths[0].addr.remote);
  CHECK(!b.ops->has_pending(b.ctx, c, 0));
  CHECK(!bare_write(&b, 0, ts, &f, &t)); /* in flight: nothing more */
  /* A second path appears and becomes active; then the frame of path 0 is lost. */
  c->paths[1].in_use = 1;
  c->paths[1].addr = bare_path(8, 2000);
  b.ops->on_path(b.ctx, c, 1);
  c->active_path = 1;
  b.ops->on_frame_fate(b.ctx, c, tok0, 0);
  /* Path 1 gets its own observation (new sequence number, its own address)... */
  REQUIRE(bare_write(&b, 1, ts, &f, &tok1));
  CHECK_INT(f.u.addr.seq, 1);
  CHECK_ADDR(&f.u.addr.addr, &c->paths[1].addr.remote);
  /* ...and the lost one is not sent on path 1, nor on path 0 while it is not active. */
  CHECK(!bare_write(&b, 1, ts, &f, &t));
  CHECK(!b.ops->has_pending(b.ctx, c, 1));
  CHECK(!bare_write(&b, 0, ts, &f, &t));
  /* Back on path 0: the same frame again (same sequence number, path 0's address). */
  c->active_path = 0;
  CHECK(b.ops->has_pending(b.ctx, c, 0));
  REQUIRE(bare_write(&b, 0, ts, &f, &t));
  CHECK_INT(f.u.addr.seq, 0);
  CHECK_ADDR(&f.u.addr.addr, &c->paths[0].addr.remote);
  CHECK_INT(t, tok0);
  /* A late ACK of the first copy settles it; the fate of the second copy is then ignored. */
  b.ops->on_frame_fate(b.ctx, c, tok0, 1);
  b.ops->on_frame_fate(b.ctx, c, t, 0);
  CHECK(!b.ops->has_pending(b.ctx, c, 0));
  /* A loss of path 1's frame after path 1 got a new address pair: superseded, not resent. */
  b.ops->on_path(b.ctx, c, 1);
  b.ops->on_frame_fate(b.ctx, c, tok1, 0);
  c->active_path = 1;
  REQUIRE(bare_write(&b, 1, ts, &f, &t));
  CHECK_INT(f.u.addr.seq, 2);
  const aq_qad_conn *qc = aq_qad_conn_of(c);
  CHECK_INT(qc->stats.tx_new, 3);
  CHECK_INT(qc->stats.tx_retx, 1);
  CHECK_INT(qc->stats.tx_lost, 3);
  CHECK_INT(qc->stats.tx_acked, 1);
  bare_free(&b);

  /* With observe_all_paths, the retransmission goes out on path 0 while path 1 is active. */
  cfg.observe_all_paths = 1;
  REQUIRE(bare_init(&b, &cfg, NULL, AQ_TP_AD_BOTH) == 0);
  c = b.conn;
  REQUIRE(bare_write(&b, 0, ts, &f, &tok0));
  c->paths[1].in_use = 1;
  c->paths[1].addr = bare_path(8, 2000);
  b.ops->on_path(b.ctx, c, 1);
  c->active_path = 1;
  b.ops->on_frame_fate(b.ctx, c, tok0, 0);
  REQUIRE(bare_write(&b, 0, ts, &f, &t));
  CHECK_INT(f.u.addr.seq, 0);
  CHECK_ADDR(&f.u.addr.addr, &c->paths[0].addr.remote);
  REQUIRE(bare_write(&b, 1, ts, &f, &t));
  CHECK_INT(f.u.addr.seq, 1);
  bare_free(&b);
}

AQ_TEST(qad_conn_bucket_timer) {
  /* New observations wait for a token: the extension arms a timer, says it has nothing to send
   * until it fires, then sends.  Retransmissions take no token. */
  aq_qad_config cfg;
  aq_qad_config_default(&cfg);
  cfg.max_rate = 2;
  bare b;
  REQUIRE(bare_init(&b, &cfg, NULL, AQ_TP_AD_RECEIVE_ONLY) == 0);
  aq_conn *c = b.conn;
  aq_tstamp ts = AQ_SECONDS; /* the bucket was created full (2 tokens) at this time */
  aq_frame f;
  uint64_t t;
  unsigned sent = 0;
  for (unsigned i = 0; i < 4; i++) {
    b.ops->on_path(b.ctx, c, 0); /* the address changes again and again */
    sent += (unsigned)bare_write(&b, 0, ts, &f, &t);
  }
  CHECK_INT(sent, 2);
  CHECK(!b.ops->has_pending(b.ctx, c, 0));
  CHECK_INT(b.ops->get_expiry(b.ctx, c), ts + AQ_SECONDS / 2);
  /* The loss of the last frame sent cannot jump the queue: it was superseded. */
  b.ops->on_frame_fate(b.ctx, c, t, 0);
  CHECK(!b.ops->has_pending(b.ctx, c, 0));
  b.ops->handle_expiry(b.ctx, c, ts + AQ_SECONDS / 2 - 1);
  CHECK(!b.ops->has_pending(b.ctx, c, 0));
  b.ops->handle_expiry(b.ctx, c, ts + AQ_SECONDS / 2);
  CHECK(b.ops->has_pending(b.ctx, c, 0));
  CHECK_INT(b.ops->get_expiry(b.ctx, c), AQ_TSTAMP_NEVER);
  REQUIRE(bare_write(&b, 0, ts + AQ_SECONDS / 2, &f, &t));
  CHECK_INT(f.u.addr.seq, 2);
  /* Lost: resent at once although the bucket is empty. */
  b.ops->on_frame_fate(b.ctx, c, t, 0);
  CHECK(b.ops->has_pending(b.ctx, c, 0));
  REQUIRE(bare_write(&b, 0, ts + AQ_SECONDS / 2, &f, &t));
  CHECK_INT(f.u.addr.seq, 2);
  CHECK_INT(aq_qad_conn_of(c)->stats.rate_limited, 1);
  /* Mode 1 receives only: its frames are not asked for, so it sends nothing at all. */
  bare_free(&b);
  cfg.mode = AQ_TP_AD_RECEIVE_ONLY;
  REQUIRE(bare_init(&b, &cfg, NULL, AQ_TP_AD_BOTH) == 0);
  CHECK(!b.ops->has_pending(b.ctx, b.conn, 0));
  CHECK(!bare_write(&b, 0, ts, &f, &t));
  bare_free(&b);
}

AQ_TEST(qad_conn_rx_filter) {
  /* Draft §4.1: ignore a sequence number not above the last one seen on the same path. */
  aq_qad_config cfg;
  aq_qad_config_default(&cfg);
  bare b;
  REQUIRE(bare_init(&b, &cfg, NULL, AQ_TP_AD_BOTH) == 0);
  aq_conn *c = b.conn;
  aq_addr a = aq_sim_ip4(203, 0, 113, 5, 4000), a2 = aq_sim_ip4(203, 0, 113, 5, 4001);
  uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
  aq_addr a6 = aq_addr_ipv6(ip6, 443);
  CHECK_INT(bare_recv(&b, 0, 5, &a), 0);
  CHECK_INT(b.nobs, 1);
  CHECK_INT(b.nchanged, 1);
  CHECK_INT(bare_recv(&b, 0, 3, &a2), 0); /* older: ignored */
  CHECK_INT(bare_recv(&b, 0, 5, &a2), 0); /* equal: ignored */
  CHECK_INT(b.nobs, 1);
  CHECK_ADDR(&b.last, &a);
  CHECK_INT(bare_recv(&b, 0, 6, &a), 0); /* newer, same address: reported, unchanged */
  CHECK_INT(b.nobs, 2);
  CHECK_INT(b.nchanged, 1);
  /* Another path has its own filter: sequence 4 is fine there. */
  c->paths[1].in_use = 1;
  c->paths[1].addr = bare_path(9, 3000);
  b.ops->on_path(b.ctx, c, 1);
  CHECK_INT(bare_recv(&b, 1, 4, &a6), 0);
  CHECK_INT(b.nobs, 3);
  CHECK_INT(b.nchanged, 2);
  CHECK_ADDR(&b.last, &a6);
  aq_addr got;
  CHECK_INT(aq_conn_observed_addr(c, &got), 0);
  CHECK_ADDR(&got, &a6);
  const aq_qad_conn *qc = aq_qad_conn_of(c);
  CHECK_INT(qc->stats.rx_accepted, 3);
  CHECK_INT(qc->stats.rx_stale, 2);
  CHECK_INT(qc->stats.rx_changes, 2);
  bare_free(&b);
  /* Not asked for (we are mode 0, or the peer does not provide): PROTOCOL_VIOLATION. */
  cfg.mode = AQ_TP_AD_PROVIDE_ONLY;
  REQUIRE(bare_init(&b, &cfg, NULL, AQ_TP_AD_BOTH) == 0);
  CHECK_INT(bare_recv(&b, 0, 1, &a), AQ_ERR_PROTO);
  CHECK_INT(aq_conn_observed_addr(b.conn, &got), AQ_ERR_NOT_FOUND);
  bare_free(&b);
  cfg.mode = AQ_TP_AD_BOTH;
  REQUIRE(bare_init(&b, &cfg, NULL, AQ_TP_AD_RECEIVE_ONLY) == 0);
  CHECK_INT(bare_recv(&b, 0, 1, &a), AQ_ERR_PROTO);
  CHECK_INT(b.nobs, 0);
  /* The peer's parameter: absent = nothing either way; malformed or 3 = error. */
  CHECK_INT(b.ops->on_peer_tp(b.ctx, b.conn, NULL, 0), 0);
  CHECK_INT(bare_recv(&b, 0, 1, &a), AQ_ERR_PROTO);
  static const uint8_t v3[1] = {3}, v2x[2] = {2, 0}, vlong[2] = {0x40, 0x02}, vcut[1] = {0x40};
  CHECK(b.ops->on_peer_tp(b.ctx, b.conn, v3, 1) != 0);
  CHECK(b.ops->on_peer_tp(b.ctx, b.conn, v2x, 2) != 0);
  CHECK(b.ops->on_peer_tp(b.ctx, b.conn, vcut, 1) != 0);
  CHECK(b.ops->on_peer_tp(b.ctx, b.conn, v3, 0) != 0);
  CHECK_INT(b.ops->on_peer_tp(b.ctx, b.conn, vlong, 2), 0); /* 2 in two bytes: a valid varint */
  CHECK(aq_qad_conn_of(b.conn)->may_receive);
  bare_free(&b);
}

AQ_TEST(qad_conn_discovered_set_caps) {
  aq_qad_config cfg;
  aq_qad_config_default(&cfg);
  aq_qad_ep *qe = NULL;
  REQUIRE(aq_qad_ep_configure(&qe, aq_mem_default(), &cfg) == 0);
  REQUIRE(qe != NULL);
  /* One connection flipping between two addresses: deduplicated into two entries, and only
   * its first AQ_QAD_MAX_ADDRS_PER_CONN address changes enter the set. */
  bare b;
  REQUIRE(bare_init(&b, &cfg, qe, AQ_TP_AD_BOTH) == 0);
  aq_addr a = aq_sim_ip4(203, 0, 113, 1, 1111), a2 = aq_sim_ip4(203, 0, 113, 1, 2222);
  for (uint64_t i = 0; i < 150; i++) {
    CHECK_INT(bare_recv(&b, 0, i + 1, (i & 1) ? &a2 : &a), 0);
  }
  CHECK_INT(b.nobs, 150);
  CHECK_INT(b.nchanged, 150);
  const aq_qad_conn *qc = aq_qad_conn_of(b.conn);
  CHECK_INT(qc->stats.rx_untracked, 150 - AQ_QAD_MAX_ADDRS_PER_CONN);
  aq_discovered_addr d[AQ_QAD_MAX_DISCOVERED + 4];
  CHECK_INT(aq_qad_ep_discovered(qe, d, 4), 2);
  CHECK_INT(d[0].reports + d[1].reports, AQ_QAD_MAX_ADDRS_PER_CONN);
  CHECK_INT(d[0].nreporters, 1);
  CHECK_ADDR(&d[0].reporters[0].peer, &b.conn->paths[0].addr.remote);
  bare_free(&b);
  /* Reporters: the AQ_QAD_MAX_REPORTERS most recent peers, newest first. */
  aq_qad_ep_del(qe);
  qe = NULL;
  REQUIRE(aq_qad_ep_configure(&qe, aq_mem_default(), &cfg) == 0);
  for (uint8_t p = 0; p < 6; p++) {
    REQUIRE(bare_init(&b, &cfg, qe, AQ_TP_AD_BOTH) == 0);
    b.conn->paths[0].addr = bare_path((uint8_t)(20 + p), 3000);
    CHECK_INT(bare_recv(&b, 0, 0, &a), 0);
    bare_free(&b);
  }
  REQUIRE(aq_qad_ep_discovered(qe, d, 4) == 1);
  CHECK_INT(d[0].reports, 6);
  REQUIRE(d[0].nreporters == AQ_QAD_MAX_REPORTERS);
  for (size_t i = 0; i < AQ_QAD_MAX_REPORTERS; i++) {
    aq_path want = bare_path((uint8_t)(25 - i), 3000);
    CHECK_ADDR(&d[0].reporters[i].peer, &want.remote);
  }
  /* The set keeps AQ_QAD_MAX_DISCOVERED addresses, forgetting the least recently reported. */
  REQUIRE(bare_init(&b, &cfg, qe, AQ_TP_AD_BOTH) == 0);
  for (uint16_t i = 0; i < AQ_QAD_MAX_DISCOVERED + 8; i++) {
    aq_addr x = aq_sim_ip4(198, 18, 0, 1, (uint16_t)(10000 + i));
    aq_frame f;
    memset(&f, 0, sizeof(f));
    f.type = AQ_FT_OBSERVED_ADDRESS_V4;
    f.u.addr.seq = 100 + i;
    f.u.addr.addr = x;
    CHECK_INT(b.ops->on_frame(b.ctx, b.conn, &f, 0, 10 * AQ_SECONDS + i), 0);
  }
  CHECK_INT(aq_qad_ep_discovered(qe, NULL, 0), AQ_QAD_MAX_DISCOVERED);
  memset(d, 0, sizeof(d));
  CHECK_INT(aq_qad_ep_discovered(qe, d, AQ_QAD_MAX_DISCOVERED + 4), AQ_QAD_MAX_DISCOVERED);
  for (size_t i = 0; i < AQ_QAD_MAX_DISCOVERED; i++) {
    /* Newest first: ports 10039 down to 10008 (the 8 oldest and `a` were forgotten). */
    CHECK_INT(d[i].addr.port, 10000 + AQ_QAD_MAX_DISCOVERED + 7 - i);
    CHECK_INT(d[i].last_ts, 10 * AQ_SECONDS + AQ_QAD_MAX_DISCOVERED + 7 - i);
  }
  CHECK_INT(d[AQ_QAD_MAX_DISCOVERED].addr.family, 0);
  bare_free(&b);
  aq_qad_ep_del(qe);
}

AQ_TEST(qad_conn_ep_config) {
  aq_qad_config cfg;
  memset(&cfg, 0xff, sizeof(cfg));
  aq_qad_config_default(&cfg);
  CHECK_INT(cfg.enabled, 1);
  CHECK_INT(cfg.max_rate, 10);
  CHECK_INT(cfg.observe_all_paths, 0);
  CHECK_INT(cfg.bootstrap, 0);
  CHECK_INT(cfg.mode, AQ_TP_AD_BOTH);
  aq_settings set;
  aq_settings_default(&set);
  aq_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.rand = aq_sim_rand_bytes;
  aq_sim *sim = aq_sim_new(830);
  aq_ep *ep = aq_ep_new(&set, &cb, sim, NULL, 0);
  REQUIRE(ep != NULL);
  CHECK_INT(aq_ep_discovered(ep, NULL, 0), 0);
  aq_qad_config bad = cfg;
  bad.max_rate = 0;
  CHECK_INT(aq_ep_set_qad(ep, &bad), AQ_ERR_VALUE_RANGE);
  bad.max_rate = 64;
  CHECK_INT(aq_ep_set_qad(ep, &bad), AQ_ERR_VALUE_RANGE);
  bad.bootstrap = 1; /* the rate field does not matter for bootstrap nodes */
  CHECK_INT(aq_ep_set_qad(ep, &bad), 0);
  bad = cfg;
  bad.mode = 3;
  CHECK_INT(aq_ep_set_qad(ep, &bad), AQ_ERR_VALUE_RANGE);
  /* Enabled: new connections carry the extension (bootstrap: 63/s, all paths). */
  aq_qad_config boot = cfg;
  boot.bootstrap = 1;
  CHECK_INT(aq_ep_set_qad(ep, &boot), 0);
  aq_path p = bare_path(1, 1);
  aq_conn *c1 = NULL, *c2 = NULL, *c3 = NULL;
  REQUIRE(aq_ep_connect(ep, &p, AQ_SIM_ORIGIN, &c1) == 0);
  const aq_qad_conn *q1 = aq_qad_conn_of(c1);
  REQUIRE(q1 != NULL);
  CHECK_INT(q1->rate, AQ_QAD_MAX_RATE);
  CHECK_INT(q1->observe_all, 1);
  CHECK_INT(q1->path[0].tx, AQ_QAD_TX_NEW); /* the handshake path is due an observation */
  CHECK_INT(q1->path[1].tx, AQ_QAD_TX_IDLE);
  /* Disabled: later connections have none, the earlier one keeps it. */
  CHECK_INT(aq_ep_set_qad(ep, NULL), 0);
  REQUIRE(aq_ep_connect(ep, &p, AQ_SIM_ORIGIN, &c2) == 0);
  CHECK(aq_qad_conn_of(c2) == NULL);
  CHECK(aq_qad_conn_of(c1) == q1);
  cfg.max_rate = 7;
  cfg.mode = AQ_TP_AD_PROVIDE_ONLY;
  CHECK_INT(aq_ep_set_qad(ep, &cfg), 0);
  REQUIRE(aq_ep_connect(ep, &p, AQ_SIM_ORIGIN, &c3) == 0);
  const aq_qad_conn *q3 = aq_qad_conn_of(c3);
  REQUIRE(q3 != NULL);
  CHECK_INT(q3->rate, 7);
  CHECK_INT(q3->observe_all, 0);
  CHECK_INT(q3->mode, AQ_TP_AD_PROVIDE_ONLY);
  aq_ep_del(ep);
  aq_sim_del(sim);
}

AQ_TEST(qad_conn_attach_nomem) {
  /* Allocation failure: AQ_ERR_NOMEM and nothing registered; then success frees cleanly. */
  aq_qad_config cfg;
  aq_qad_config_default(&cfg);
  aq_conn *c = calloc(1, sizeof(aq_conn));
  REQUIRE(c != NULL);
  aq_test_failmem fm;
  aq_test_failmem_init(&fm, 0);
  c->mem = &fm.mem;
  c->paths[0].in_use = 1;
  CHECK_INT(aq_qad_conn_attach(c, &cfg, NULL, AQ_SECONDS), AQ_ERR_NOMEM);
  CHECK_INT(c->next, 0);
  CHECK(aq_qad_conn_of(c) == NULL);
  aq_test_failmem_init(&fm, -1);
  cfg.max_rate = 0;
  CHECK_INT(aq_qad_conn_attach(c, &cfg, NULL, AQ_SECONDS), AQ_ERR_VALUE_RANGE);
  cfg.max_rate = 10;
  REQUIRE(aq_qad_conn_attach(c, &cfg, NULL, AQ_SECONDS) == 0);
  CHECK_INT(fm.live, 1);
  c->ext[0].ops->on_del(c->ext[0].ctx, c);
  CHECK_INT(fm.live, 0);
  free(c);
}
