/*
 * test_conn_migrate.c - client-initiated migration (RFC 9000 §9): a client
 * moves to a second local address in the middle of a transfer (the
 * transfer completes, the server ends up on the new address, a new
 * connection ID is used and the old one retired, congestion state is
 * fresh); a probe of an address that does not work is abandoned and the
 * connection carries on; refusals (server side, before confirmation,
 * disable_active_migration, no spare connection ID, bad arguments).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

typedef struct mig_ctx {
  aq_simq_pair *p;
  aq_addr to;
  int rc;
  int called;
  aq_simq_stream *cs;
  uint64_t bytes;
  aq_cid old_dcid;
  aq_cid old_server_dcid;
  uint64_t cwnd_before;
  uint64_t recvd_at_move; /* bytes the server had when the move began */
} mig_ctx;

static void do_migrate(aq_sim *sim, void *arg) {
  mig_ctx *m = arg;
  m->called = 1;
  m->old_dcid = m->p->c.conn->dcid;
  m->old_server_dcid = m->p->s.conn->dcid;
  m->cwnd_before = aq_cc_cwnd(&m->p->c.conn->cc);
  if (m->cs != NULL) {
    m->recvd_at_move = aq_simq_stream_of(&m->p->s, m->cs->id)->recvd;
  }
  m->rc = aq_conn_migrate(m->p->c.conn, &m->to, aq_sim_now(sim));
}

static int xfer_done(void *arg) {
  mig_ctx *m = arg;
  return m->cs->fin_recvd && m->cs->recvd == m->bytes;
}

static void start_pair(aq_simq_pair *p, uint64_t seed, const aq_sim_link_params *lp) {
  aq_simq_pair_init(p, seed, lp);
  aq_simq_pair_start(p);
  aq_sim_result r = aq_sim_run(p->sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, p);
  CHECK_INT(r, AQ_SIM_DONE);
  /* Let HANDSHAKE_DONE and NEW_CONNECTION_ID frames arrive. */
  (void)aq_sim_run_for(p->sim, 200 * AQ_MILLISECONDS, 100000);
}

AQ_TEST(migrate_mid_transfer) {
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS, .rate_bps = 20000000};
  aq_simq_pair p;
  start_pair(&p, 501, &lp);
  mig_ctx m;
  memset(&m, 0, sizeof(m));
  m.p = &p;
  m.to = aq_sim_ip4(198, 51, 100, 77, 40000);
  aq_sim_host_add_addr(p.ch, &m.to);
  m.bytes = 3000000;
  m.cs = aq_simq_open(&p.c, 1, m.bytes, 1);
  REQUIRE(m.cs != NULL);
  aq_sim_at(p.sim, aq_sim_now(p.sim) + 400 * AQ_MILLISECONDS, do_migrate, &m);
  aq_sim_result r = aq_sim_run(p.sim, 30 * AQ_SECONDS, 20000000, xfer_done, &m);
  CHECK_INT(r, AQ_SIM_DONE);
  CHECK(m.called);
  CHECK_INT(m.rc, 0);
  /* It was mid-transfer. */
  CHECK(m.recvd_at_move > 100000 && m.recvd_at_move < m.bytes - 100000);
  aq_simq_stream *ss = aq_simq_stream_of(&p.s, m.cs->id);
  CHECK_INT(ss->recvd, m.bytes);
  CHECK(!ss->bad && !m.cs->bad);
  CHECK(!p.c.io_err && !p.s.io_err);
  /* The client moved, with a new CID; the server sees the new address. */
  CHECK(aq_addr_eq(&aq_conn_get_path(p.c.conn)->local, &m.to));
  CHECK(aq_addr_eq(&aq_conn_get_path(p.s.conn)->remote, &m.to));
  CHECK(!aq_cid_eq(&p.c.conn->dcid, &m.old_dcid));
  /* ...and the server answers under a fresh CID of the client's too (§9.5). */
  CHECK(!aq_cid_eq(&p.s.conn->dcid, &m.old_server_dcid));
  CHECK(!aq_conn_owns_cid(p.c.conn, &m.old_server_dcid));
  aq_conn_stats cst, sst;
  aq_conn_get_stats(p.c.conn, &cst);
  aq_conn_get_stats(p.s.conn, &sst);
  CHECK_INT(cst.migrations, 1);
  CHECK(sst.migrations >= 1);
  CHECK_INT(p.c.conn->mig.done, 1);
  CHECK_INT(p.c.conn->mig.abandoned, 0);
  /* The server validated the client's new address itself. */
  CHECK(p.s.conn->paths[p.s.conn->active_path].validated);
  /* The old CID (sequence 0) was retired at the server. */
  int retired = 0;
  for (size_t i = 0; i < AQ_MAX_LOCAL_CIDS; i++) {
    if (aq_cid_eq(&p.s.conn->local_cids[i].cid, &m.old_dcid)) {
      retired = p.s.conn->local_cids[i].state == 3;
    }
  }
  CHECK(retired || !aq_conn_owns_cid(p.s.conn, &m.old_dcid));
  CHECK(p.c.conn->mig.probes_sent >= 1);
  aq_simq_pair_free(&p);
}

AQ_TEST(migrate_fresh_congestion_state) {
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS, .rate_bps = 50000000};
  aq_simq_pair p;
  start_pair(&p, 502, &lp);
  mig_ctx m;
  memset(&m, 0, sizeof(m));
  m.p = &p;
  m.to = aq_sim_ip4(198, 51, 100, 78, 40001);
  aq_sim_host_add_addr(p.ch, &m.to);
  m.bytes = 4000000;
  m.cs = aq_simq_open(&p.c, 1, m.bytes, 1);
  REQUIRE(m.cs != NULL);
  /* Grow the window first. */
  (void)aq_sim_run_for(p.sim, 300 * AQ_MILLISECONDS, 2000000);
  do_migrate(p.sim, &m);
  CHECK_INT(m.rc, 0);
  CHECK(m.cwnd_before > 10 * 1200);
  /* Run until the probe's answer moved the client. */
  for (int i = 0; i < 200 && p.c.conn->mig.active; i++) {
    (void)aq_sim_run_for(p.sim, AQ_MILLISECONDS, 100000);
  }
  CHECK(!p.c.conn->mig.active);
  CHECK_INT(p.c.conn->mig.done, 1);
  /* Right after the switch: a window restarted from the initial one, RTT from the
   * probe (40 ms) instead of the old path's estimate. */
  printf("# cwnd before %llu, after %llu\n", (unsigned long long)m.cwnd_before,
         (unsigned long long)aq_cc_cwnd(&p.c.conn->cc));
  /* (ACKs of packets sent before the move, processed in the same millisecond, may
   * have grown it a little from the initial 10 packets.) */
  CHECK(aq_cc_cwnd(&p.c.conn->cc) <= 32 * 1200);
  CHECK(aq_cc_cwnd(&p.c.conn->cc) * 10 < m.cwnd_before);
  printf("# srtt after %llu us\n", (unsigned long long)(p.c.conn->recov.rtt.smoothed / 1000));
  /* The probe's round trip is at least the new path's 40 ms; it also waits behind
   * the old path's queue on the shared simulated link (with auto-tuned windows
   * that queue holds up to ~125 ms of data at 50 Mbit/s). */
  CHECK(p.c.conn->recov.rtt.smoothed >= 40 * AQ_MILLISECONDS &&
        p.c.conn->recov.rtt.smoothed <= 250 * AQ_MILLISECONDS);
  aq_sim_result r = aq_sim_run(p.sim, 30 * AQ_SECONDS, 20000000, xfer_done, &m);
  CHECK_INT(r, AQ_SIM_DONE);
  aq_simq_pair_free(&p);
}

AQ_TEST(migrate_unreachable_is_abandoned) {
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  aq_simq_pair p;
  start_pair(&p, 503, &lp);
  mig_ctx m;
  memset(&m, 0, sizeof(m));
  m.p = &p;
  m.to = aq_sim_ip4(198, 51, 100, 99, 40000); /* not an address of the client host */
  m.bytes = 200000;
  m.cs = aq_simq_open(&p.c, 1, m.bytes, 1);
  REQUIRE(m.cs != NULL);
  do_migrate(p.sim, &m);
  CHECK_INT(m.rc, 0);
  aq_sim_result r = aq_sim_run(p.sim, 30 * AQ_SECONDS, 20000000, xfer_done, &m);
  CHECK_INT(r, AQ_SIM_DONE);
  /* Probes were sent (and lost); the deadline is 3 x 2 s; wait for it. */
  (void)aq_sim_run_for(p.sim, 7 * AQ_SECONDS, 2000000);
  CHECK(p.c.conn->mig.probes_sent >= 2);
  CHECK(!p.c.conn->mig.active);
  CHECK_INT(p.c.conn->mig.abandoned, 1);
  CHECK_INT(p.c.conn->mig.done, 0);
  CHECK(aq_addr_eq(&aq_conn_get_path(p.c.conn)->local, &p.caddr));
  CHECK(!p.c.closed && !p.s.closed);
  /* And the expiry does not spin while nothing is due. */
  CHECK(aq_conn_get_expiry(p.c.conn) > aq_sim_now(p.sim));
  aq_simq_pair_free(&p);
}

AQ_TEST(migrate_refusals) {
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  aq_simq_pair p;
  aq_simq_pair_init(&p, 504, &lp);
  aq_simq_pair_start(&p);
  aq_addr to = aq_sim_ip4(198, 51, 100, 77, 40000);
  /* Before the handshake (not even started). */
  CHECK_INT(aq_conn_migrate(p.c.conn, &to, aq_sim_now(p.sim)), AQ_ERR_STATE);
  aq_sim_result r = aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p);
  CHECK_INT(r, AQ_SIM_DONE);
  (void)aq_sim_run_for(p.sim, 200 * AQ_MILLISECONDS, 100000);
  aq_tstamp now = aq_sim_now(p.sim);
  /* A server does not migrate. */
  CHECK_INT(aq_conn_migrate(p.s.conn, &to, now), AQ_ERR_STATE);
  /* Bad arguments. */
  CHECK_INT(aq_conn_migrate(p.c.conn, NULL, now), AQ_ERR_INVALID_ARGUMENT);
  aq_addr none;
  memset(&none, 0, sizeof(none));
  CHECK_INT(aq_conn_migrate(p.c.conn, &none, now), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_conn_migrate(p.c.conn, &p.caddr, now), AQ_ERR_INVALID_ARGUMENT);
  const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
  aq_addr a6 = aq_addr_ipv6(v6, 1);
  CHECK_INT(aq_conn_migrate(p.c.conn, &a6, now), AQ_ERR_INVALID_ARGUMENT);
  /* disable_active_migration from the server. */
  p.c.conn->peer_tp.disable_active_migration = 1;
  CHECK_INT(aq_conn_migrate(p.c.conn, &to, now), AQ_ERR_STATE);
  p.c.conn->peer_tp.disable_active_migration = 0;
  /* No spare CID: only the one in use remains. */
  int saved[AQ_MAX_PEER_CIDS];
  int spares = 0;
  for (size_t i = 0; i < AQ_MAX_PEER_CIDS; i++) {
    saved[i] = p.c.conn->peer_cids[i].in_use;
    if (p.c.conn->peer_cids[i].in_use && p.c.conn->peer_cids[i].seq != p.c.conn->dcid_seq) {
      spares++;
      p.c.conn->peer_cids[i].in_use = 0;
    }
  }
  CHECK(spares >= 1);
  CHECK_INT(aq_conn_migrate(p.c.conn, &to, now), AQ_ERR_LIMIT);
  for (size_t i = 0; i < AQ_MAX_PEER_CIDS; i++) {
    p.c.conn->peer_cids[i].in_use = saved[i];
  }
  CHECK(!p.c.conn->mig.active);
  /* With everything in order it starts. */
  CHECK_INT(aq_conn_migrate(p.c.conn, &to, now), 0);
  CHECK(p.c.conn->mig.active);
  aq_simq_pair_free(&p);
}
