/*
 * qad_probe.c - QUIC address discovery over real UDP sockets (node_ep), for
 * tests/sh/test_qad_netns.sh and manual checks.
 *
 *   qad_probe server LISTEN_ADDR SECONDS
 *     Serves for SECONDS.  Prints "LISTEN <bound addr>" once bound, then
 *     "PEER <addr>" for every completed handshake (the client's address as
 *     the server sees it: after NAT, its public address) and
 *     "OBSERVED <addr>" when a client reports the server's address.
 *
 *   qad_probe client BIND_ADDR SERVER_ADDR SECONDS
 *     Connects, prints "LOCAL <bound addr>", "OBSERVED <addr> changed=<0|1>"
 *     when the server reports the client's address, and "DISCOVERED <addr>
 *     reports=<n> reporter=<peer>" for the endpoint's set; exits 0, or 1 when
 *     nothing was observed within SECONDS.
 *
 * Address discovery settings come from aq_qad_config_from_env
 * (ANT_QUIC_ADDRESS_DISCOVERY_ENABLED, ANT_QUIC_MAX_OBSERVATION_RATE); an
 * invalid value is reported and the program exits 2.  Keys: a fixed Ed25519
 * raw public key for the server; the client accepts any (test tool).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_test_cred.h"
#include "node_ep.h"

typedef struct probe {
  node_ep *e;
  int is_server;
  aq_test_ed25519 id; /* the server's key */
  int observed;
  aq_conn *conn;
} probe;

/* Print the address the peer reported; a client stops there. */
static void cb_observed(aq_conn *conn, const aq_addr *observed, int changed, void *ud) {
  probe *p = ud;
  char s[AQ_ADDR_STRLEN];
  if (p->is_server) {
    printf("OBSERVED %s\n", aq_addr_format(s, sizeof(s), observed));
  } else {
    printf("OBSERVED %s changed=%d\n", aq_addr_format(s, sizeof(s), observed), changed);
    p->observed = 1;
    p->conn = conn;
    node_ep_stop(p->e);
  }
}

/* Server: print the client's address as seen here. */
static void cb_hs(aq_conn *conn, void *ud) {
  probe *p = ud;
  char s[AQ_ADDR_STRLEN];
  if (p->is_server) {
    printf("PEER %s\n", aq_addr_format(s, sizeof(s), &aq_conn_get_path(conn)->remote));
  }
}

/* getenv for aq_qad_config_from_env. */
static const char *probe_getenv(const char *name, void *ud) {
  (void)ud;
  return getenv(name);
}

static int usage(void) {
  fprintf(stderr, "usage: qad_probe server LISTEN_ADDR SECONDS\n"
                  "       qad_probe client BIND_ADDR SERVER_ADDR SECONDS\n");
  return 2;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    return usage();
  }
  int is_server = strcmp(argv[1], "server") == 0;
  if ((is_server && argc != 4) || (!is_server && (strcmp(argv[1], "client") != 0 || argc != 5))) {
    return usage();
  }
  aq_addr bind_addr, server_addr;
  if (aq_addr_parse(&bind_addr, argv[2], 0) != 0 ||
      (!is_server && aq_addr_parse(&server_addr, argv[3], 0) != 0)) {
    fprintf(stderr, "qad_probe: bad address\n");
    return 2;
  }
  double secs = atof(argv[is_server ? 3 : 4]);
  if (secs <= 0) {
    return usage();
  }
  aq_qad_config qcfg;
  const char *why = NULL;
  if (aq_qad_config_from_env(&qcfg, probe_getenv, NULL, &why) != 0) {
    fprintf(stderr, "qad_probe: %s\n", why);
    return 2;
  }

  static probe p;
  memset(&p, 0, sizeof(p));
  p.is_server = is_server;
  aq_test_ed25519_init(&p.id, 0x71);
  aq_settings s;
  aq_settings_default(&s);
  s.cred = is_server ? &p.id.cred : NULL;
  s.offer_rpk = 1;
  s.allow_x509 = 0;
  aq_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.addr_observed = cb_observed;
  cb.handshake_completed = cb_hs;

  int rc = node_ep_new(&p.e, &bind_addr, 1, &s, &cb, &p, is_server);
  if (rc != 0) {
    fprintf(stderr, "qad_probe: node_ep_new: %s\n", aq_strerror(rc));
    return 1;
  }
  rc = aq_ep_set_qad(node_ep_aq(p.e), &qcfg);
  if (rc != 0) {
    fprintf(stderr, "qad_probe: aq_ep_set_qad: %s\n", aq_strerror(rc));
    node_ep_del(p.e);
    return 1;
  }
  aq_addr local;
  char str[AQ_ADDR_STRLEN];
  if (node_ep_local_addr(p.e, 0, &local) == 0) {
    printf("%s %s\n", is_server ? "LISTEN" : "LOCAL", aq_addr_format(str, sizeof(str), &local));
  }
  aq_tstamp deadline = node_now() + (aq_tstamp)(secs * 1e9);
  int status = 0;
  if (is_server) {
    rc = node_ep_run(p.e, deadline);
    status = rc == 0 || rc == AQ_ERR_TIMEOUT ? 0 : 1;
  } else {
    aq_conn *conn = NULL;
    rc = node_ep_connect(p.e, &server_addr, &conn);
    if (rc != 0) {
      fprintf(stderr, "qad_probe: connect: %s\n", aq_strerror(rc));
      node_ep_del(p.e);
      return 1;
    }
    rc = node_ep_run(p.e, deadline);
    if (!p.observed) {
      fprintf(stderr, "qad_probe: no observation (%s)\n", aq_strerror(rc));
      status = 1;
    } else {
      aq_discovered_addr d[AQ_QAD_MAX_DISCOVERED];
      size_t nd = aq_ep_discovered(node_ep_aq(p.e), d, AQ_QAD_MAX_DISCOVERED);
      for (size_t i = 0; i < nd && i < AQ_QAD_MAX_DISCOVERED; i++) {
        char r[AQ_ADDR_STRLEN];
        printf("DISCOVERED %s reports=%llu reporter=%s\n",
               aq_addr_format(str, sizeof(str), &d[i].addr), (unsigned long long)d[i].reports,
               d[i].nreporters > 0 ? aq_addr_format(r, sizeof(r), &d[i].reporters[0].peer) : "-");
      }
      /* Close politely and give the CONNECTION_CLOSE a moment to leave. */
      aq_conn_close(conn, 0, (const uint8_t *)"done", 4, node_now());
      if (node_ep_run(p.e, node_now() + 300 * AQ_MILLISECONDS) == AQ_ERR_IO) {
        status = 1;
      }
    }
  }
  node_ep_del(p.e);
  return status;
}
