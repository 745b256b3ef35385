/*
 * test_qad_udp.c - QUIC address discovery over real loopback sockets: a
 * server node_ep (in a thread) and a client node_ep, both with
 * aq_ep_set_qad, learn each other's 127.0.0.1:port (the client its own
 * ephemeral port, the server its listening port) through OBSERVED_ADDRESS
 * frames, seen in addr_observed, aq_conn_observed_addr and aq_ep_discovered.
 * Every run is bounded by a deadline.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "aq_crypto.h"
#include "aq_test.h"
#include "aq_test_cred.h"
#include "aq_tls.h"
#include "aq_tls_cert.h"
#include "node_ep.h"

typedef struct qad_app {
  node_ep *e;
  int is_server;
  aq_test_ed25519 id;
  unsigned nobs;
  int changed_first;
  aq_addr observed;
  aq_conn *conn;
  aq_tstamp deadline;
  int run_rc;
  atomic_int done;
} qad_app;

/* The peer told us our address: record it and stop this side's loop. */
static void cb_observed(aq_conn *conn, const aq_addr *observed, int changed, void *ud) {
  qad_app *a = ud;
  if (a->nobs == 0) {
    a->changed_first = changed;
  }
  a->nobs++;
  a->observed = *observed;
  a->conn = conn;
  atomic_store(&a->done, 1);
  node_ep_stop(a->e);
}

static void app_init(qad_app *a, int is_server, uint8_t seedbyte, aq_settings *s,
                     aq_callbacks *cb) {
  memset(a, 0, sizeof(*a));
  a->is_server = is_server;
  aq_test_ed25519_init(&a->id, seedbyte);
  aq_settings_default(s);
  s->cred = is_server ? &a->id.cred : NULL;
  s->offer_rpk = 1;
  s->allow_x509 = 0;
  memset(cb, 0, sizeof(*cb));
  cb->addr_observed = cb_observed;
}

static void *server_thread(void *arg) {
  qad_app *a = arg;
  a->run_rc = node_ep_run(a->e, a->deadline);
  atomic_store(&a->done, 1);
  return NULL;
}

AQ_TEST(qad_udp_loopback_learns_ports) {
  qad_app srv, cli;
  aq_settings ss, cs;
  aq_callbacks scb, ccb;
  app_init(&srv, 1, 0x61, &ss, &scb);
  app_init(&cli, 0, 0x62, &cs, &ccb);
  aq_addr any;
  REQUIRE(aq_addr_parse(&any, "127.0.0.1:0", 0) == 0);
  REQUIRE(node_ep_new(&srv.e, &any, 1, &ss, &scb, &srv, 1) == 0);
  int rc = node_ep_new(&cli.e, &any, 1, &cs, &ccb, &cli, 0);
  if (rc != 0) {
    node_ep_del(srv.e);
    REQUIRE(rc == 0);
  }
  aq_qad_config cfg;
  aq_qad_config_default(&cfg);
  CHECK_INT(aq_ep_set_qad(node_ep_aq(srv.e), &cfg), 0);
  CHECK_INT(aq_ep_set_qad(node_ep_aq(cli.e), &cfg), 0);
  aq_addr saddr, caddr;
  REQUIRE(node_ep_local_addr(srv.e, 0, &saddr) == 0);
  REQUIRE(node_ep_local_addr(cli.e, 0, &caddr) == 0);
  CHECK(saddr.port != 0 && caddr.port != 0 && saddr.port != caddr.port);

  aq_tstamp t0 = node_now();
  srv.deadline = t0 + 10 * AQ_SECONDS;
  pthread_t th;
  REQUIRE(pthread_create(&th, NULL, server_thread, &srv) == 0);
  aq_conn *conn = NULL;
  rc = node_ep_connect(cli.e, &saddr, &conn);
  CHECK_INT(rc, 0);
  /* Run the client until it has its observation and the server has its own (or time is up). */
  while (rc == 0 && node_now() < t0 + 10 * AQ_SECONDS &&
         !(atomic_load(&cli.done) && atomic_load(&srv.done))) {
    rc = node_ep_run(cli.e, node_now() + 100 * AQ_MILLISECONDS);
    if (rc == AQ_ERR_TIMEOUT) {
      rc = 0;
    }
  }
  CHECK_INT(rc, 0);
  node_ep_stop(srv.e);
  pthread_join(th, NULL);
  CHECK_INT(srv.run_rc, 0);

  /* The client learns 127.0.0.1:<its own port>, the server 127.0.0.1:<its port>. */
  CHECK_INT(cli.nobs, 1);
  CHECK(cli.changed_first);
  CHECK(aq_addr_eq(&cli.observed, &caddr));
  CHECK_INT(srv.nobs, 1);
  CHECK(aq_addr_eq(&srv.observed, &saddr));
  aq_addr got;
  REQUIRE(conn != NULL);
  CHECK_INT(aq_conn_observed_addr(conn, &got), 0);
  CHECK(aq_addr_eq(&got, &caddr));
  aq_discovered_addr d[2];
  CHECK_INT(aq_ep_discovered(node_ep_aq(cli.e), d, 2), 1);
  CHECK(aq_addr_eq(&d[0].addr, &caddr));
  CHECK(aq_addr_eq(&d[0].reporters[0].peer, &saddr));
  CHECK_INT(aq_ep_discovered(node_ep_aq(srv.e), d, 2), 1);
  CHECK(aq_addr_eq(&d[0].addr, &saddr));
  CHECK(aq_addr_eq(&d[0].reporters[0].peer, &caddr));
  CHECK(d[0].first_ts >= t0 && d[0].last_ts <= node_now());
  node_ep_del(cli.e);
  node_ep_del(srv.e);
}
