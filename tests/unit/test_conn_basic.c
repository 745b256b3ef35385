/*
 * test_conn_basic.c - QUIC client <-> server in the network simulator:
 * handshake, bidirectional stream transfer, with and without loss.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

typedef aq_simq_pair pair;
#define pair_init aq_simq_pair_init
#define pair_start aq_simq_pair_start
#define pair_free aq_simq_pair_free
#define both_hs aq_simq_pair_hs_done

AQ_TEST(conn_handshake) {
  pair p;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS};
  pair_init(&p, 1, &lp);
  pair_start(&p);
  if (getenv("AQ_CONN_TRACE") != NULL) {
    aq_sim_set_trace(p.sim, stderr);
  }
  aq_sim_result r = aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, both_hs, &p);
  CHECK_INT(r, AQ_SIM_DONE);
  /* Two 10 ms links each way: RTT 40 ms.  Exactly 1 RTT for the client, 1.5 for the server. */
  CHECK_INT(p.c.hs_done_ts - AQ_SIM_ORIGIN, 40 * AQ_MILLISECONDS);
  CHECK_INT(p.s.hs_done_ts - AQ_SIM_ORIGIN, 60 * AQ_MILLISECONDS);
  /* Client Initial padded to 1200 bytes; the server stays within 3x before validation. */
  CHECK_INT(aq_sim_host_stats_of(p.ch)->sent, 2);
  CHECK(!p.c.io_err && !p.s.io_err);
  CHECK(!p.c.closed && !p.s.closed);
  pair_free(&p);
}

typedef struct xfer {
  pair *p;
  size_t n;
  aq_simq_stream *cs[16];
  uint64_t bytes;
} xfer;

static int xfer_done(void *arg) {
  xfer *x = arg;
  for (size_t i = 0; i < x->n; i++) {
    if (x->cs[i] == NULL || !x->cs[i]->fin_recvd) {
      return 0;
    }
  }
  return 1;
}

/** Open n bidi streams of bytes each from the client; the server echoes. */
static void run_xfer(pair *p, size_t n, uint64_t bytes, aq_duration max_time, xfer *x) {
  memset(x, 0, sizeof(*x));
  x->p = p;
  x->n = n;
  x->bytes = bytes;
  REQUIRE(aq_sim_run(p->sim, 10 * AQ_SECONDS, 1000000, both_hs, p) == AQ_SIM_DONE);
  for (size_t i = 0; i < n; i++) {
    x->cs[i] = aq_simq_open(&p->c, 1, bytes, 1);
    REQUIRE(x->cs[i] != NULL);
  }
  aq_sim_result r = aq_sim_run(p->sim, max_time, 10000000, xfer_done, x);
  CHECK_INT(r, AQ_SIM_DONE);
  for (size_t i = 0; i < n; i++) {
    aq_simq_stream *cs = x->cs[i];
    aq_simq_stream *ss = aq_simq_stream_of(&p->s, cs->id);
    CHECK_INT(ss->recvd, bytes);
    CHECK(ss->fin_recvd);
    CHECK(!ss->bad);
    CHECK_INT(cs->recvd, bytes);
    CHECK(!cs->bad);
  }
  CHECK(!p->c.io_err && !p->s.io_err);
  CHECK(!p->c.closed && !p->s.closed);
}

AQ_TEST(conn_transfer_one_stream) {
  pair p;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS, .rate_bps = 50000000};
  pair_init(&p, 2, &lp);
  pair_start(&p);
  xfer x;
  run_xfer(&p, 1, 300000, 10 * AQ_SECONDS, &x);
  pair_free(&p);
}

AQ_TEST(conn_transfer_loss_2pct) {
  pair p;
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS, .rate_bps = 20000000, .loss_pct = 2};
  pair_init(&p, 3, &lp);
  pair_start(&p);
  xfer x;
  run_xfer(&p, 1, 500000, 30 * AQ_SECONDS, &x);
  pair_free(&p);
}
