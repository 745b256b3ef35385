/*
 * node_app_int.h - internal state of the node program (node_app*.c only).
 */
#ifndef NODE_APP_INT_H
#define NODE_APP_INT_H

#include <stdio.h>

#include "aq_identity.h"
#include "aq_tls.h"
#include "node_app.h"
#include "node_console.h"
#include "node_ep.h"

#define APP_MAX_PEERS 256  /* connections tracked at once */
#define APP_MAX_OBSERVED 8 /* distinct external addresses remembered */
#define APP_SPKI_MAX 2048  /* our SPKI DER (ML-DSA-65: 1974 bytes) */

/* Timing policy (reference README "Protocol Timeouts and Constants"). */
#define APP_KEEP_ALIVE (5 * AQ_SECONDS)         /* keep-alive on bootstrap connections */
#define APP_DISCOVERY_TIMEOUT (5 * AQ_SECONDS)  /* CANNOT_FIND_EXTERNAL_ADDRESS after this */
#define APP_HANDSHAKE_TIMEOUT (5 * AQ_SECONDS)  /* give up one bootstrap attempt */
#define APP_BACKOFF_MIN (500 * AQ_MILLISECONDS) /* first reconnect delay, doubled per failure */
#define APP_BACKOFF_MAX (8 * AQ_SECONDS)
#define APP_SLICE (200 * AQ_MILLISECONDS) /* longest loop run between app ticks */
#define APP_SHUTDOWN_GRACE (400 * AQ_MILLISECONDS)

typedef enum app_role {
  APP_ROLE_CLIENT = 0,      /* connects to bootstraps; does not serve */
  APP_ROLE_COORDINATOR = 1, /* --coordinator with bootstraps: serves and connects */
  APP_ROLE_BOOTSTRAP = 2    /* --force-coordinator, or no bootstrap given: serves, observes 63/s */
} app_role;

typedef struct app_peer {
  int used;
  aq_conn *conn; /* NULL once the core reported it closed */
  int inbound;   /* 1: the peer connected to us */
  int boot;      /* index into app->boots for our bootstrap connections, else -1 */
  aq_addr addr;  /* the peer's address */
  uint8_t peer_id[AQ_PEER_ID_LEN];
  int have_id; /* peer_id derived from its authenticated key */
  int established;
  int superseded;       /* a newer connection from the same PeerId is up: close this one */
  aq_tstamp started; /* connect / first Initial */
  aq_tstamp established_at;
} app_peer;

typedef enum app_boot_state {
  APP_BOOT_WAIT = 0, /* next attempt at next_attempt */
  APP_BOOT_CONNECTING,
  APP_BOOT_CONNECTED
} app_boot_state;

typedef struct app_boot {
  node_hostport hp;
  char text[NODE_HOST_MAX + 12]; /* as given: "host:port" / "[v6]:port" */
  aq_addr addr;                  /* last resolved address (family 0 = none yet) */
  app_boot_state state;
  int peer;          /* index into app->peers while connecting/connected, else -1 */
  unsigned failures; /* consecutive failed attempts */
  uint64_t attempts;
  uint64_t connects; /* handshakes completed over the run */
  aq_tstamp next_attempt;
  char last_error[320];
} app_boot;

typedef struct app_totals {
  uint64_t handshakes_ok, handshakes_failed;
  uint64_t conns_inbound, conns_outbound;
  aq_conn_stats closed; /* counters of connections already gone */
} app_totals;

typedef struct node_app {
  node_cfg cfg;
  app_role role;
  node_ep *ep;
  aq_identity id;
  char identity_path[4096];
  int identity_created;
  char peer_id_hex[AQ_PEER_ID_HEX_LEN + 1];
  uint8_t spki[APP_SPKI_MAX];
  size_t spkilen;
  aq_tls_credential cred;
  uint8_t reset_key[32];

  aq_addr local[NODE_CFG_MAX_LISTEN]; /* bound addresses */
  size_t nlocal;
  int dualstack;

  app_peer peers[APP_MAX_PEERS];
  app_boot boots[NODE_CFG_MAX_BOOTSTRAP];
  size_t nboots;

  aq_addr observed[APP_MAX_OBSERVED]; /* distinct external addresses, first seen first */
  size_t nobserved;
  aq_addr external; /* the latest one */
  int have_external;
  int reported_no_external;

  app_totals tot;
  aq_tstamp t0;
  node_log_level log_level;
  int quit;
  int stopping;

  node_console con;
  int stdin_open;
  int stdin_polled; /* stdin is a regular file: read in the tick, not by the loop */
} node_app;

/*
 * node_app.c: one observation of our address (from QUIC address discovery)
 * made by the peer of `from`; prints "Discovered external address" for a
 * new address.
 */
void app_on_observed(node_app *app, app_peer *from, const aq_addr *addr);

/* node_app_out.c: events, console answers and logs. */
void app_log(node_app *app, node_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void app_emit_started(node_app *app);
void app_emit_bootstrap(node_app *app, const app_boot *b, const app_peer *p, const char *what,
                        const char *reason);
void app_emit_peer(node_app *app, const app_peer *p, const char *what, const char *reason);
void app_emit_external(node_app *app, const aq_addr *addr, const app_peer *from, int changed);
void app_emit_no_external(node_app *app);
void app_emit_status(node_app *app);
void app_emit_peers(node_app *app);
void app_emit_stats(node_app *app);
void app_emit_help(node_app *app);
void app_emit_message(node_app *app, const char *event, const char *text);
void app_emit_shutdown(node_app *app, const char *reason);
const char *app_role_name(app_role r);
/* Add the counters of s to sum (node_app.c). */
void app_add_stats(aq_conn_stats *sum, const aq_conn_stats *s);
/* Milliseconds since start. */
uint64_t app_uptime_ms(const node_app *app, aq_tstamp now);

#endif
