/*
 * test_node_ep.c - node_ep on real loopback sockets: a server node_ep (in a
 * thread) and a client node_ep in one process complete a handshake (Ed25519
 * raw public keys, the client pins the server's key) and echo a pattern on
 * one bidirectional stream, over 127.0.0.1, over ::1, and from an IPv4
 * client to a dual-stack [::] server.  Every received byte is compared with
 * what was sent; every run is bounded by a deadline.  Negative cases: a
 * client pinned to another key fails the handshake, connecting an IPv6
 * address from an IPv4-only endpoint is refused, and bad arguments.
 * With node_ep_opts.ecn both sides' connections validate ECN (state
 * CAPABLE, datagrams marked ECT(0)); without it nothing is marked.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "aq_crypto.h"
#include "aq_test.h"
#include "aq_test_cred.h"
#include "aq_tls.h"
#include "aq_tls_cert.h"
#include "node_ep.h"

#define ECHO_LEN (300u * 1024u)

typedef struct ep_app {
  node_ep *e;
  int is_server;
  aq_test_ed25519 id;
  const uint8_t *pin; /* client: expected server SPKI */
  size_t pinlen;
  /* server: echo state (one stream at a time) */
  uint8_t *pending;
  size_t pend_off, pend_len;
  int pend_fin;
  uint64_t sid;
  /* client */
  aq_conn *conn;
  uint64_t sent, recvd;
  int fin_sent, fin_recvd;
  int bad;
  int hs_done;
  int closed;
  int io_err;
  aq_tstamp deadline;
  int run_rc;
  aq_conn_stats end_stats; /* server: its connection's stats when it closed */
  int have_end_stats;
} ep_app;

/* The test pattern byte at stream offset off. */
static uint8_t pat(uint64_t off) {
  return (uint8_t)((off * 131u) ^ (off >> 8));
}

/* Client: queue pattern bytes until the stream is full, then the FIN. */
static void client_pump(ep_app *a, aq_conn *conn) {
  uint8_t buf[8192];
  while (a->sent < ECHO_LEN) {
    size_t n = sizeof(buf);
    if (ECHO_LEN - a->sent < n) {
      n = (size_t)(ECHO_LEN - a->sent);
    }
    for (size_t i = 0; i < n; i++) {
      buf[i] = pat(a->sent + i);
    }
    aq_ssize w = aq_conn_stream_write(conn, a->sid, buf, n, 0);
    if (w < 0) {
      a->io_err = 1;
      return;
    }
    a->sent += (uint64_t)w;
    if ((size_t)w < n) {
      return;
    }
  }
  if (!a->fin_sent) {
    if (aq_conn_stream_shutdown(conn, a->sid) != 0) {
      a->io_err = 1;
    }
    a->fin_sent = 1;
  }
}

/* Server: write pending echo bytes back, and the FIN once everything went. */
static void server_pump(ep_app *a, aq_conn *conn) {
  while (a->pend_off < a->pend_len) {
    aq_ssize w =
        aq_conn_stream_write(conn, a->sid, a->pending + a->pend_off, a->pend_len - a->pend_off, 0);
    if (w < 0) {
      a->io_err = 1;
      return;
    }
    a->pend_off += (size_t)w;
    if (w == 0) {
      return;
    }
  }
  if (a->pend_fin == 1) {
    if (aq_conn_stream_shutdown(conn, a->sid) != 0) {
      a->io_err = 1;
    }
    a->pend_fin = 2;
  }
}

/* Handshake done: the client opens its stream and starts sending. */
static void cb_hs(aq_conn *conn, void *ud) {
  ep_app *a = ud;
  a->hs_done = 1;
  a->conn = conn;
  if (!a->is_server) {
    if (aq_conn_open_stream(conn, 1, &a->sid) != 0) {
      a->io_err = 1;
      return;
    }
    client_pump(a, conn);
  }
}

/* Server: buffer for echo; client: check the echoed bytes. */
static void cb_data(aq_conn *conn, uint64_t id, void *ud) {
  ep_app *a = ud;
  uint8_t buf[16384];
  for (;;) {
    int fin = 0;
    aq_ssize n = aq_conn_stream_read(conn, id, buf, sizeof(buf), &fin);
    if (n < 0) {
      a->io_err = 1;
      return;
    }
    if (a->is_server) {
      a->sid = id;
      if (a->pend_len + (size_t)n > ECHO_LEN) {
        a->io_err = 1;
        return;
      }
      memcpy(a->pending + a->pend_len, buf, (size_t)n);
      a->pend_len += (size_t)n;
      if (fin && a->pend_fin == 0) {
        a->pend_fin = 1;
      }
    } else {
      for (aq_ssize i = 0; i < n; i++) {
        if (buf[i] != pat(a->recvd + (uint64_t)i)) {
          a->bad = 1;
        }
      }
      a->recvd += (uint64_t)n;
      if (fin && !a->fin_recvd) {
        a->fin_recvd = 1;
        node_ep_stop(a->e);
      }
    }
    if (n == 0 || fin) {
      break;
    }
  }
  if (a->is_server) {
    server_pump(a, conn);
  }
}

/* Room again: continue writing. */
static void cb_writable(aq_conn *conn, uint64_t id, void *ud) {
  ep_app *a = ud;
  (void)id;
  if (a->is_server) {
    server_pump(a, conn);
  } else {
    client_pump(a, conn);
  }
}

/* Client: accept only the pinned server key. */
static int cb_verify(aq_conn *conn, const uint8_t *spki, size_t spkilen, const uint8_t *cert,
                     size_t certlen, void *ud) {
  (void)conn, (void)cert, (void)certlen;
  ep_app *a = ud;
  if (a->pin == NULL) {
    return 0;
  }
  return spkilen == a->pinlen && memcmp(spki, a->pin, spkilen) == 0 ? 0 : -1;
}

/* The connection ended. */
static void cb_closed(aq_conn *conn, const aq_close_info *ci, void *ud) {
  (void)ci;
  ep_app *a = ud;
  a->closed = 1;
  if (a->is_server) {
    aq_conn_get_stats(conn, &a->end_stats);
    a->have_end_stats = 1;
    a->conn = NULL;
  }
  if (!a->is_server) {
    node_ep_stop(a->e);
  }
}

/* Settings, callbacks and an Ed25519 identity for one side. */
static void app_init(ep_app *a, int is_server, uint8_t seedbyte, aq_settings *s, aq_callbacks *cb) {
  memset(a, 0, sizeof(*a));
  a->is_server = is_server;
  aq_test_ed25519_init(&a->id, seedbyte);
  aq_settings_default(s);
  s->cred = is_server ? &a->id.cred : NULL;
  s->offer_rpk = 1;
  s->allow_x509 = 0;
  s->max_udp_payload = 1452;
  memset(cb, 0, sizeof(*cb));
  cb->handshake_completed = cb_hs;
  cb->stream_data = cb_data;
  cb->stream_writable = cb_writable;
  cb->verify_peer = cb_verify;
  cb->conn_closed = cb_closed;
  if (is_server) {
    a->pending = malloc(ECHO_LEN);
    if (a->pending == NULL) {
      abort();
    }
  }
}

/* Run the server endpoint until stopped or its deadline. */
static void *server_thread(void *arg) {
  ep_app *a = arg;
  a->run_rc = node_ep_run(a->e, a->deadline);
  return NULL;
}

/*
 * Echo ECHO_LEN bytes from a client bound to cli_bind to a server bound to
 * srv_bind, connecting to connect_ip (with the server's port).  pin_ok = 0
 * pins a wrong key: the handshake must then fail.
 */
static void run_echo_ex(const char *srv_bind, const char *cli_bind, const char *connect_ip,
                        int pin_ok, int ecn) {
  ep_app srv, cli;
  aq_settings ss, cs;
  aq_callbacks scb, ccb;
  app_init(&srv, 1, 0x51, &ss, &scb);
  app_init(&cli, 0, 0x52, &cs, &ccb);
  uint8_t wrong[64];
  memcpy(wrong, srv.id.spki, srv.id.spkilen);
  wrong[srv.id.spkilen - 1] ^= 1;
  cli.pin = pin_ok ? srv.id.spki : wrong;
  cli.pinlen = srv.id.spkilen;

  aq_addr sa, ca, dst;
  REQUIRE(aq_addr_parse(&sa, srv_bind, 0) == 0);
  REQUIRE(aq_addr_parse(&ca, cli_bind, 0) == 0);
  REQUIRE(aq_addr_parse(&dst, connect_ip, 1) == 0);
  node_ep_opts eo;
  memset(&eo, 0, sizeof(eo));
  eo.ecn = ecn;
  int rc = node_ep_new_ex(&srv.e, &sa, 1, &ss, &scb, &srv, 1, &eo);
  if (rc == AQ_ERR_IO && sa.family == AQ_AF_INET6) {
    aq_test_skip("no IPv6 loopback here");
    free(srv.pending);
    return;
  }
  REQUIRE(rc == 0);
  rc = node_ep_new_ex(&cli.e, &ca, 1, &cs, &ccb, &cli, 0, &eo);
  if (rc != 0) {
    node_ep_del(srv.e);
    free(srv.pending);
    REQUIRE(rc == 0);
  }
  aq_addr bound;
  CHECK(node_ep_local_addr(srv.e, 0, &bound) == 0);
  CHECK(bound.port != 0);
  CHECK(node_ep_local_addr(srv.e, 1, &bound) == AQ_ERR_NOT_FOUND);
  CHECK(node_ep_local_addr(srv.e, 0, &bound) == 0);
  dst.port = bound.port;

  aq_tstamp t0 = node_now();
  srv.deadline = t0 + 20 * AQ_SECONDS;
  pthread_t th;
  REQUIRE(pthread_create(&th, NULL, server_thread, &srv) == 0);

  aq_conn *conn = NULL;
  rc = node_ep_connect(cli.e, &dst, &conn);
  CHECK_INT(rc, 0);
  cli.conn = conn;
  if (rc == 0) {
    rc = node_ep_run(cli.e, t0 + 15 * AQ_SECONDS);
    CHECK_INT(rc, 0);
  }
  if (pin_ok) {
    CHECK(cli.hs_done);
    CHECK(!cli.io_err);
    CHECK(!cli.bad);
    CHECK(cli.fin_recvd);
    CHECK_INT(cli.recvd, ECHO_LEN);
    CHECK(aq_conn_is_established(conn));
    aq_conn_stats st;
    aq_conn_get_stats(conn, &st);
    CHECK_INT(st.stream_bytes_recv, ECHO_LEN);
    CHECK_INT(st.migrations, 0);
    if (ecn) {
      /* Marks survived loopback both ways and the server echoed the counts. */
      CHECK_INT(st.ecn_state, AQ_ECN_STATE_CAPABLE);
      CHECK(st.ecn_ect0_sent > 10);
      CHECK_INT(st.ecn_ce_reported, 0);
    } else {
      CHECK_INT(st.ecn_ect0_sent, 0);
      CHECK(st.ecn_state != AQ_ECN_STATE_CAPABLE);
    }
    /* Close and let the CONNECTION_CLOSE go out (the closing period ends with conn_closed). */
    aq_conn_close(conn, 0, (const uint8_t *)"done", 4, node_now());
    rc = node_ep_run(cli.e, node_now() + 5 * AQ_SECONDS);
    CHECK_INT(rc, 0);
    CHECK(cli.closed);
  } else {
    CHECK(!cli.hs_done);
    CHECK(cli.closed);
    CHECK_INT(cli.recvd, 0);
  }
  node_ep_stop(srv.e);
  pthread_join(th, NULL);
  CHECK(srv.run_rc == 0);
  CHECK(!srv.io_err);
  if (pin_ok) {
    CHECK(srv.hs_done);
    CHECK_INT(srv.pend_len, ECHO_LEN);
    CHECK_INT(srv.pend_off, ECHO_LEN);
    /* The server's connection closed (the client's CONNECTION_CLOSE) or is still open. */
    aq_conn_stats sst;
    memset(&sst, 0, sizeof(sst));
    if (srv.have_end_stats) {
      sst = srv.end_stats;
    } else if (srv.conn != NULL) {
      aq_conn_get_stats(srv.conn, &sst);
    }
    CHECK(srv.have_end_stats || srv.conn != NULL);
    if (ecn) {
      CHECK_INT(sst.ecn_state, AQ_ECN_STATE_CAPABLE);
      CHECK(sst.ecn_ect0_sent > 10);
    } else {
      CHECK_INT(sst.ecn_ect0_sent, 0);
    }
  }
  CHECK_INT(node_ep_error(cli.e), 0);
  CHECK_INT(node_ep_error(srv.e), 0);
  node_loop_stats lst;
  node_loop_stats_get(node_ep_loop(cli.e), &lst);
  CHECK(lst.tx_dgrams > 0);
  CHECK(lst.rx_dgrams > 0);
  CHECK_INT(lst.tx_unroutable, 0);
  node_ep_del(cli.e);
  node_ep_del(srv.e);
  free(srv.pending);
}

static void run_echo(const char *srv_bind, const char *cli_bind, const char *connect_ip,
                     int pin_ok) {
  run_echo_ex(srv_bind, cli_bind, connect_ip, pin_ok, 0);
}

/* ECN over real sockets: IP_TOS / IPV6_TCLASS marks out, IP_RECVTOS codepoints in. */
AQ_TEST(node_ep_ecn_ipv4) {
  run_echo_ex("127.0.0.1:0", "0.0.0.0:0", "127.0.0.1", 1, 1);
}

AQ_TEST(node_ep_ecn_ipv6) {
  run_echo_ex("[::1]:0", "[::]:0", "[::1]", 1, 1);
}

AQ_TEST(node_ep_echo_ipv4) {
  run_echo("127.0.0.1:0", "0.0.0.0:0", "127.0.0.1", 1);
}

AQ_TEST(node_ep_echo_ipv6) {
  run_echo("[::1]:0", "[::]:0", "[::1]", 1);
}

AQ_TEST(node_ep_echo_v4_to_dualstack) {
  run_echo("[::]:0", "127.0.0.1:0", "127.0.0.1", 1);
}

AQ_TEST(node_ep_wrong_pin_fails) {
  run_echo("127.0.0.1:0", "127.0.0.1:0", "127.0.0.1", 0);
}

AQ_TEST(node_ep_bad_args) {
  aq_settings s;
  aq_settings_default(&s);
  aq_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  node_ep *e = (node_ep *)1;
  aq_addr a;
  REQUIRE(aq_addr_parse(&a, "127.0.0.1:0", 0) == 0);
  CHECK_INT(node_ep_new(&e, &a, 0, &s, &cb, NULL, 0), AQ_ERR_INVALID_ARGUMENT);
  CHECK(e == NULL);
  aq_addr five[5] = {a, a, a, a, a};
  CHECK_INT(node_ep_new(&e, five, 5, &s, &cb, NULL, 0), AQ_ERR_INVALID_ARGUMENT);
  aq_addr bad;
  memset(&bad, 0, sizeof(bad));
  CHECK(node_ep_new(&e, &bad, 1, &s, &cb, NULL, 0) != 0);
  CHECK(e == NULL);
  /* An IPv4-only endpoint cannot reach an IPv6 address. */
  REQUIRE(node_ep_new(&e, &a, 1, &s, &cb, NULL, 0) == 0);
  aq_addr v6;
  REQUIRE(aq_addr_parse(&v6, "[::1]:443", 0) == 0);
  aq_conn *c = (aq_conn *)1;
  CHECK_INT(node_ep_connect(e, &v6, &c), AQ_ERR_NOT_FOUND);
  CHECK(c == NULL);
  CHECK_INT(aq_ep_conn_count(node_ep_aq(e)), 0);
  CHECK_INT(node_ep_nsocks(e), 1);
  CHECK(node_ep_sock(e, 0) != NULL && node_ep_sock(e, 1) == NULL);
  node_ep_del(e);
  /* Two sockets: the IPv6 one is picked for an IPv6 peer, the IPv4 one for IPv4. */
  aq_addr two[2];
  two[0] = a;
  REQUIRE(aq_addr_parse(&two[1], "[::1]:0", 0) == 0);
  if (node_ep_new(&e, two, 2, &s, &cb, NULL, 0) != 0) {
    aq_test_skip("no IPv6 loopback here");
    return;
  }
  CHECK_INT(node_ep_connect(e, &v6, &c), 0);
  CHECK(c != NULL && aq_conn_get_path(c)->local.family == AQ_AF_INET6);
  aq_addr v4;
  REQUIRE(aq_addr_parse(&v4, "127.0.0.1:443", 0) == 0);
  CHECK_INT(node_ep_connect(e, &v4, &c), 0);
  CHECK(c != NULL && aq_conn_get_path(c)->local.family == AQ_AF_INET);
  aq_addr l1;
  CHECK(node_ep_local_addr(e, 1, &l1) == 0);
  CHECK(c != NULL && aq_conn_get_path(c)->local.port != 0);
  CHECK_INT(aq_ep_conn_count(node_ep_aq(e)), 2);
  node_ep_del(e);
}
