/*
 * test_ep_dual.c - one endpoint that serves and dials at once (a P2P node
 * on one socket): server endpoint B connects to server A and echoes a
 * stream through it, while client C connects to B and sends B a stream;
 * both transfers are checked byte for byte.
 */
#include <string.h>

#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

typedef struct dual {
  aq_simq *a, *b, *c;
  aq_conn *dial; /* B's client connection to A */
  uint64_t dial_sid, c_sid;
  int opened;
} dual;

static int dual_done(void *arg) {
  dual *d = arg;
  aq_simq_stream *echo = aq_simq_stream_of(d->b, d->dial_sid);
  aq_simq_stream *in = aq_simq_stream_of(d->b, d->c_sid);
  return echo->fin_recvd && in->fin_recvd;
}

AQ_TEST(ep_server_endpoint_also_dials) {
  aq_sim *sim = aq_sim_new(701);
  aq_addr aaddr = aq_sim_ip4(192, 0, 2, 1, 443), baddr = aq_sim_ip4(192, 0, 2, 2, 443);
  aq_addr caddr = aq_sim_ip4(198, 51, 100, 2, 50000);
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS, .rate_bps = 50000000};
  aq_sim_host *ha = aq_sim_host_add(sim, "a", NULL, &aaddr, &lp, &lp);
  aq_sim_host *hb = aq_sim_host_add(sim, "b", NULL, &baddr, &lp, &lp);
  aq_sim_host *hc = aq_sim_host_add(sim, "c", NULL, &caddr, &lp, &lp);
  static aq_simq a, b, c;
  aq_simq_init(&a, sim, ha, 1, 0x21);
  aq_simq_init(&b, sim, hb, 1, 0x22);
  aq_simq_init(&c, sim, hc, 0, 0x23);
  a.echo = 1;
  aq_simq_start(&a);
  aq_simq_start(&b);
  aq_simq_start(&c);
  dual d = {&a, &b, &c, NULL, 0, 0, 0};
  /* B (a server endpoint) dials A. */
  aq_simq_connect(&b, &aaddr);
  d.dial = b.conn;
  REQUIRE(d.dial != NULL);
  (void)aq_sim_run_for(sim, 200 * AQ_MILLISECONDS, 100000);
  REQUIRE(aq_conn_is_established(d.dial));
  CHECK(!aq_conn_is_server(d.dial));
  aq_simq_stream *echo = aq_simq_open(&b, 1, 300000, 1);
  REQUIRE(echo != NULL);
  d.dial_sid = echo->id;
  /* C dials B meanwhile; its uni stream (id 2) does not collide with B's bidi stream 0. */
  aq_simq_connect(&c, &baddr);
  (void)aq_sim_run_for(sim, 200 * AQ_MILLISECONDS, 100000);
  REQUIRE(c.conn != NULL && aq_conn_is_established(c.conn));
  aq_simq_stream *up = aq_simq_open(&c, 0, 200000, 1);
  REQUIRE(up != NULL);
  d.c_sid = up->id;
  CHECK_INT(aq_sim_run(sim, 30 * AQ_SECONDS, 5000000, dual_done, &d), AQ_SIM_DONE);
  aq_simq_stream *back = aq_simq_stream_of(&b, d.dial_sid), *in = aq_simq_stream_of(&b, d.c_sid);
  CHECK_INT(back->recvd, 300000);
  CHECK(!back->bad);
  CHECK_INT(in->recvd, 200000);
  CHECK(!in->bad);
  CHECK_INT(aq_ep_conn_count(b.ep), 2); /* one dialled, one accepted */
  CHECK(!a.io_err && !b.io_err && !c.io_err);
  aq_simq_free(&c);
  aq_simq_free(&b);
  aq_simq_free(&a);
  aq_sim_del(sim);
}
