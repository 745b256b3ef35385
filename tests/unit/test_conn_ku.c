/*
 * test_conn_ku.c - 1-RTT key updates (RFC 9001 §6) in the simulator:
 * updates during the first MB initiated by the client, by the server and
 * by both (simultaneous ones included), packets reordered across updates
 * opened with the previous keys, per-generation packet counts that match
 * on both sides, automatic updates before the confidentiality limit, the
 * limits' AEAD_LIMIT_REACHED closes, the API's refusals, a peer updating
 * twice without confirmation (KEY_UPDATE_ERROR), and the discard of the
 * previous keys three PTOs later.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

/** A connected pair over links lp, HANDSHAKE_DONE delivered.  0 or -1. */
static int ku_pair(aq_simq_pair *p, uint64_t seed, const aq_sim_link_params *lp) {
  aq_simq_pair_init(p, seed, lp);
  aq_simq_pair_start(p);
  if (aq_sim_run(p->sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, p) != AQ_SIM_DONE) {
    return -1;
  }
  (void)aq_sim_run_for(p->sim, 200 * AQ_MILLISECONDS, 100000);
  if (p->c.conn == NULL || p->s.conn == NULL || !p->c.conn->handshake_confirmed) {
    return -1;
  }
  return 0;
}

typedef struct ku_run {
  aq_simq_pair *p;
  aq_simq_stream *cs;
  int who;        /* 1: client initiates, 2: server, 3: both */
  uint64_t every; /* echoed bytes between updates */
  uint64_t next_at;
  uint64_t done_c, done_s; /* successful aq_conn_initiate_key_update calls */
  int bad_rc;
} ku_run;

/** aq_sim_run predicate: try the updates due, stop when the echo is complete. */
static int ku_step(void *arg) {
  ku_run *r = arg;
  if (r->cs->recvd >= r->next_at && r->every != 0) {
    aq_tstamp now = aq_sim_now(r->p->sim);
    int any = 0;
    if (r->who & 1) {
      int rc = aq_conn_initiate_key_update(r->p->c.conn, now);
      if (rc == 0) {
        r->done_c++;
        any = 1;
      } else if (rc != AQ_ERR_STATE) {
        r->bad_rc = 1;
      }
    }
    if (r->who & 2) {
      int rc = aq_conn_initiate_key_update(r->p->s.conn, now);
      if (rc == 0) {
        r->done_s++;
        any = 1;
      } else if (rc != AQ_ERR_STATE) {
        r->bad_rc = 1;
      }
    }
    if (any) {
      r->next_at += r->every;
    }
  }
  return r->cs->fin_recvd;
}

/** Echo bytes through the pair, initiating updates as r says; checks the data. */
static void ku_transfer(ku_run *r, aq_simq_pair *p, uint64_t bytes) {
  r->p = p;
  r->next_at = r->every;
  r->cs = aq_simq_open(&p->c, 1, bytes, 1);
  REQUIRE(r->cs != NULL);
  CHECK_INT(aq_sim_run(p->sim, 60 * AQ_SECONDS, 20000000, ku_step, r), AQ_SIM_DONE);
  aq_simq_stream *ss = aq_simq_stream_of(&p->s, r->cs->id);
  CHECK_INT(ss->recvd, bytes);
  CHECK(!ss->bad);
  CHECK_INT(r->cs->recvd, bytes);
  CHECK(!r->cs->bad);
  CHECK(!r->bad_rc);
  CHECK(!p->c.closed && !p->s.closed);
  CHECK(!p->c.io_err && !p->s.io_err);
  /* Let the last packets land so the counters settle. */
  (void)aq_sim_run_for(p->sim, 1 * AQ_SECONDS, 1000000);
}

/** Both sides agree on the generation, and every packet sent in generation g opened as g. */
static void check_generations(aq_simq_pair *p) {
  aq_conn *c = p->c.conn, *s = p->s.conn;
  CHECK_INT(c->key_updates, s->key_updates);
  CHECK_INT(c->key_phase, s->key_phase);
  CHECK_INT(c->key_phase, (uint8_t)(c->key_updates & 1u));
  CHECK_INT(c->stats.key_updates, c->key_updates);
  uint64_t sum = 0;
  for (size_t g = 0; g < AQ_KU_GEN_TRACK; g++) {
    CHECK_INT(c->ku.gen_tx[g], s->ku.gen_rx[g]);
    CHECK_INT(s->ku.gen_tx[g], c->ku.gen_rx[g]);
    if (g <= c->key_updates) {
      CHECK(c->ku.gen_tx[g] > 0);
    } else {
      CHECK_INT(c->ku.gen_tx[g], 0);
    }
    sum += c->ku.gen_tx[g];
  }
  /* All 1-RTT packets of the client are accounted for in some generation. */
  CHECK(sum > 0 && sum <= c->stats.pkts_sent);
  CHECK_INT(c->aead_failures, 0);
  CHECK_INT(s->aead_failures, 0);
}

static const aq_sim_link_params ku_link = {.delay = 5 * AQ_MILLISECONDS, .rate_bps = 50000000};

AQ_TEST(conn_ku_client_initiated_first_mb) {
  aq_simq_pair p;
  REQUIRE(ku_pair(&p, 601, &ku_link) == 0);
  ku_run r = {.who = 1, .every = 150000};
  ku_transfer(&r, &p, 1 << 20);
  CHECK(r.done_c >= 4);
  CHECK_INT(p.c.conn->key_updates, r.done_c);
  CHECK_INT(p.c.conn->ku.initiated, r.done_c);
  CHECK_INT(p.s.conn->ku.initiated, 0); /* the server only answered */
  check_generations(&p);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_ku_server_initiated_first_mb) {
  aq_simq_pair p;
  REQUIRE(ku_pair(&p, 602, &ku_link) == 0);
  ku_run r = {.who = 2, .every = 150000};
  ku_transfer(&r, &p, 1 << 20);
  CHECK(r.done_s >= 4);
  CHECK_INT(p.s.conn->key_updates, r.done_s);
  CHECK_INT(p.s.conn->ku.initiated, r.done_s);
  CHECK_INT(p.c.conn->ku.initiated, 0);
  check_generations(&p);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_ku_both_initiate_first_mb) {
  aq_simq_pair p;
  REQUIRE(ku_pair(&p, 603, &ku_link) == 0);
  ku_run r = {.who = 3, .every = 100000};
  ku_transfer(&r, &p, 1 << 20);
  CHECK(r.done_c >= 3);
  CHECK(r.done_s >= 3);
  /* Simultaneous updates (both at once) count once: the generation is shared. */
  CHECK(p.c.conn->key_updates >= r.done_c);
  CHECK(p.c.conn->key_updates <= r.done_c + r.done_s);
  CHECK(p.c.conn->ku.initiated > 0 && p.s.conn->ku.initiated > 0);
  check_generations(&p);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_ku_reordering_across_update) {
  aq_simq_pair p;
  /* A fifth of the packets arrive 15 ms late, behind packets of the next phase. */
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS,
                           .rate_bps = 50000000,
                           .reorder_pct = 20,
                           .reorder_delay = 15 * AQ_MILLISECONDS};
  REQUIRE(ku_pair(&p, 604, &lp) == 0);
  ku_run r = {.who = 3, .every = 120000};
  ku_transfer(&r, &p, 1 << 20);
  CHECK(p.c.conn->key_updates >= 4);
  /* Late packets of the previous phase were opened, not dropped. */
  CHECK(p.s.conn->ku.rx_prev > 0);
  CHECK(p.c.conn->ku.rx_prev > 0);
  check_generations(&p);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_ku_automatic_before_limit) {
  aq_simq_pair p;
  REQUIRE(ku_pair(&p, 605, &ku_link) == 0);
  /* Pretend the AEAD allows 800 packets per key. */
  p.c.conn->ku.conf_limit = 800;
  ku_run r = {.who = 0, .every = 0};
  ku_transfer(&r, &p, 3 << 20);
  aq_conn *c = p.c.conn;
  CHECK(c->ku.auto_updates >= 3);
  CHECK_INT(c->ku.initiated, c->ku.auto_updates);
  CHECK_INT(c->key_updates, c->ku.auto_updates);
  /* No key protected more than the limit; the update came at 3/4 of it. */
  for (size_t g = 0; g < AQ_KU_GEN_TRACK; g++) {
    CHECK(c->ku.gen_tx[g] <= 800);
  }
  CHECK(c->ku.gen_tx[1] >= 600);
  check_generations(&p);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_ku_confidentiality_limit_closes) {
  aq_simq_pair p;
  REQUIRE(ku_pair(&p, 606, &ku_link) == 0);
  aq_conn *c = p.c.conn;
  /* Limit reached while no update is allowed (nothing of this phase acknowledged). */
  c->ku.conf_limit = 100;
  c->ku.tx_first_p1 = UINT64_MAX / 2;
  c->app_pkts_sealed = 99;
  c->sp[AQ_PN_SPACE_APP].ping_pending = 1;
  (void)aq_sim_run_for(p.sim, 200 * AQ_MILLISECONDS, 100000);
  /* (c is deleted by now: the connection closed) */
  CHECK(p.c.closed);
  CHECK_INT(p.c.close.code, 0x0f); /* AEAD_LIMIT_REACHED */
  CHECK(p.s.closed);
  CHECK_INT(p.s.close.code, 0x0f);
  CHECK(p.s.close.by_peer);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_ku_integrity_limit_closes) {
  aq_simq_pair p;
  REQUIRE(ku_pair(&p, 607, &ku_link) == 0);
  aq_conn *s = p.s.conn;
  s->ku.integrity_limit = 3;
  uint8_t junk[80];
  aq_path path = {p.saddr, p.caddr};
  for (int i = 0; i < 3; i++) {
    CHECK(!aq_conn_is_closed(s));
    memset(junk, 0x5a + i, sizeof(junk));
    junk[0] = 0x40 | (uint8_t)(i & 1 ? 0x04 : 0); /* short header, either key phase */
    memcpy(junk + 1, s->scid.data, s->scid.len);
    CHECK_INT(aq_conn_read_pkt(s, &path, junk, sizeof(junk), aq_sim_now(p.sim)), 0);
  }
  CHECK_INT(s->aead_failures, 3);
  CHECK(aq_conn_is_closed(s));
  CHECK_INT(s->close_code, 0x0f);
  CHECK_INT(s->key_updates, 0);
  aq_simq_pair_free(&p);
}

AQ_TEST(conn_ku_api_refusals) {
  aq_simq_pair p;
  aq_simq_pair_init(&p, 608, &ku_link);
  aq_simq_pair_start(&p);
  /* Before the handshake: not allowed. */
  CHECK_INT(aq_conn_initiate_key_update(p.c.conn, aq_sim_now(p.sim)), AQ_ERR_STATE);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  (void)aq_sim_run_for(p.sim, 200 * AQ_MILLISECONDS, 100000);
  aq_conn *c = p.c.conn;
  REQUIRE(c->handshake_confirmed);
  /* Nothing sent with phase 0 keys acknowledged yet?  The keep-alive-free
   * pair has exchanged 1-RTT packets (HANDSHAKE_DONE, ACKs), so it is allowed. */
  CHECK_INT(aq_conn_initiate_key_update(c, aq_sim_now(p.sim)), 0);
  CHECK_INT(c->key_phase, 1);
  /* No packet of the new phase acknowledged: a second update must wait. */
  CHECK_INT(aq_conn_initiate_key_update(c, aq_sim_now(p.sim)), AQ_ERR_STATE);
  c->sp[AQ_PN_SPACE_APP].ping_pending = 1;
  (void)aq_sim_run_for(p.sim, 10 * AQ_MILLISECONDS, 100000);
  /* Sent, not yet acknowledged (RTT 10 ms + ack delay). */
  CHECK_INT(aq_conn_initiate_key_update(c, aq_sim_now(p.sim)), AQ_ERR_STATE);
  (void)aq_sim_run_for(p.sim, 200 * AQ_MILLISECONDS, 100000);
  CHECK_INT(p.s.conn->key_updates, 1);
  CHECK_INT(aq_conn_initiate_key_update(c, aq_sim_now(p.sim)), 0);
  CHECK_INT(c->key_updates, 2);
  /* After close: AQ_ERR_CLOSED. */
  aq_conn_close(c, 0, NULL, 0, aq_sim_now(p.sim));
  CHECK_INT(aq_conn_initiate_key_update(c, aq_sim_now(p.sim)), AQ_ERR_CLOSED);
  aq_simq_pair_free(&p);
}

/** Build one datagram from `from` (a PING is queued) and feed it straight to `to`. */
static void ku_hand_over(aq_simq_pair *p, aq_conn *from, aq_conn *to, aq_tstamp ts) {
  uint8_t buf[1500];
  aq_path path;
  from->sp[AQ_PN_SPACE_APP].ping_pending = 1;
  aq_ssize n = aq_conn_write_pkt(from, &path, buf, sizeof(buf), ts);
  REQUIRE(n > 0);
  aq_path rp = {path.remote, path.local};
  (void)p;
  REQUIRE(aq_conn_read_pkt(to, &rp, buf, (size_t)n, ts) == 0);
}

AQ_TEST(conn_ku_peer_updates_twice_unconfirmed) {
  aq_simq_pair p;
  REQUIRE(ku_pair(&p, 609, &ku_link) == 0);
  aq_conn *c = p.c.conn, *s = p.s.conn;
  aq_tstamp ts = aq_sim_now(p.sim) + 50 * AQ_MILLISECONDS;
  /* Update 1, delivered: the server follows. */
  REQUIRE(aq_ku_rotate(c, 1, ts) == 0);
  ku_hand_over(&p, c, s, ts);
  CHECK_INT(s->key_updates, 1);
  CHECK(!s->ku.peer_may_update);
  /* The server acknowledges it in the new phase: a further update is fine. */
  ts += 50 * AQ_MILLISECONDS;
  s->sp[AQ_PN_SPACE_APP].acktr.ack_pending = 1;
  ku_hand_over(&p, s, c, ts);
  CHECK(s->ku.peer_may_update);
  ts += 50 * AQ_MILLISECONDS;
  REQUIRE(aq_ku_rotate(c, 1, ts) == 0);
  ku_hand_over(&p, c, s, ts);
  CHECK_INT(s->key_updates, 2);
  CHECK(!aq_conn_is_closed(s));
  /* Update 3 right behind it, before the server sent any ACK: KEY_UPDATE_ERROR. */
  ts += 50 * AQ_MILLISECONDS;
  REQUIRE(aq_ku_rotate(c, 1, ts) == 0);
  ku_hand_over(&p, c, s, ts);
  CHECK(aq_conn_is_closed(s));
  CHECK_INT(s->close_code, 0x0e);
  CHECK_INT(s->key_updates, 2);
  aq_simq_pair_free(&p);
}

static int stream_done(void *arg) {
  aq_simq_stream *s = arg;
  return s->fin_recvd;
}

AQ_TEST(conn_ku_previous_keys_discarded_after_3pto) {
  aq_simq_pair p;
  REQUIRE(ku_pair(&p, 610, &ku_link) == 0);
  aq_conn *c = p.c.conn, *s = p.s.conn;
  CHECK_INT(aq_conn_initiate_key_update(c, aq_sim_now(p.sim)), 0);
  aq_simq_stream *cs = aq_simq_open(&p.c, 1, 20000, 1);
  REQUIRE(cs != NULL);
  CHECK_INT(aq_sim_run(p.sim, 5 * AQ_SECONDS, 1000000, stream_done, cs), AQ_SIM_DONE);
  CHECK_INT(s->key_updates, 1);
  /* Kept for a while after the first packet of the new phase... */
  CHECK(s->ku.has_prev);
  CHECK(s->ku.prev_discard != 0);
  CHECK(c->ku.has_prev);
  aq_duration pto3 = 3 * aq_recov_pto_duration(&s->recov, AQ_PN_SPACE_APP);
  aq_tstamp now = aq_sim_now(p.sim);
  CHECK(s->ku.prev_discard > now);
  CHECK(s->ku.prev_discard < now + 2 * pto3);
  /* ...and gone once that time has passed and another packet arrives. */
  aq_tstamp until =
      s->ku.prev_discard > c->ku.prev_discard ? s->ku.prev_discard : c->ku.prev_discard;
  (void)aq_sim_run_for(p.sim, until - now + 10 * AQ_MILLISECONDS, 100000);
  cs = aq_simq_open(&p.c, 1, 1000, 1);
  REQUIRE(cs != NULL);
  CHECK_INT(aq_sim_run(p.sim, 5 * AQ_SECONDS, 1000000, stream_done, cs), AQ_SIM_DONE);
  CHECK(!s->ku.has_prev);
  CHECK(!c->ku.has_prev);
  CHECK(!aq_conn_is_closed(s));
  aq_simq_pair_free(&p);
}
