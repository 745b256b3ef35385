/*
 * node_app.c - the ant-quic node runtime (see node_app.h).
 *
 * Shape: one node_ep (UDP sockets + loop + aq_ep).  The core's callbacks
 * only record what happened (peer table, bootstrap states, counters) and
 * print events; everything that calls into the core (connect, close) runs
 * in app_tick between node_ep_run slices of at most APP_SLICE.
 *
 * Timers (all in app_tick, at most APP_SLICE late):
 *  - bootstrap attempt: boots[i].next_attempt; after a failed attempt the
 *    delay doubles from APP_BACKOFF_MIN up to APP_BACKOFF_MAX (+-20% jitter);
 *    after a connection that was up drops, the first retry is at
 *    APP_BACKOFF_MIN.  Host names are resolved again on every attempt.
 *  - discovery: APP_DISCOVERY_TIMEOUT after start with bootstraps and no
 *    observation yet -> CANNOT_FIND_EXTERNAL_ADDRESS (once).
 *  - keep-alive (5 s) and the handshake timeout are the core's
 *    (aq_settings.keep_alive / handshake_timeout).
 */
#include "node_app.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aq_ct.h"
#include "aq_sha3.h"
#include "aq_tls_cert.h"
#include "node_app_int.h"
#include "node_identity.h"
#include "node_rand.h"

/* -------------------------------------------------------------- signals */

/*
 * Own SIGINT/SIGTERM handling (rather than node_loop_catch_signals) so the
 * app can tell a signal from its own node_ep_stop requests.  Process-wide
 * state is fine here: node/ is the layer that owns the process.
 */
static volatile sig_atomic_t app_signal;
static node_loop *app_signal_loop;

static void app_on_signal(int signo) {
  app_signal = signo;
  if (app_signal_loop != NULL) {
    node_loop_stop(app_signal_loop);
  }
}

/* Install the handlers (loop may be NULL until the endpoint exists: the flag is enough). */
static void app_catch_signals(node_loop *loop) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  app_signal_loop = loop;
  sa.sa_handler = app_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, NULL); /* a closed stdout pipe must not kill the node */
}

static const char *app_getenv(const char *name, void *ud) {
  (void)ud;
  return getenv(name);
}

/* ------------------------------------------------------------ peer table */

static app_peer *peer_alloc(node_app *app, aq_conn *conn, int inbound, int boot, aq_tstamp now) {
  for (size_t i = 0; i < APP_MAX_PEERS; i++) {
    app_peer *p = &app->peers[i];
    if (!p->used) {
      memset(p, 0, sizeof(*p));
      p->used = 1;
      p->conn = conn;
      p->inbound = inbound;
      p->boot = boot;
      p->started = now;
      if (conn != NULL) {
        p->addr = aq_conn_get_path(conn)->remote;
        aq_conn_set_app_data(conn, p);
      }
      return p;
    }
  }
  return NULL;
}

static int peer_index(const node_app *app, const app_peer *p) {
  return (int)(p - app->peers);
}

/*
 * The PeerId of an authenticated key: ML-DSA-65 and Ed25519 keys as the
 * identity module defines it; any other key (a standard QUIC peer's
 * certificate) as SHA-256 of its SPKI DER, so it is still a stable name.
 */
static int peer_id_from_spki(uint8_t out[AQ_PEER_ID_LEN], const uint8_t *spki, size_t spkilen) {
  aq_key_type type;
  const uint8_t *key;
  size_t keylen;
  if (aq_spki_parse(&type, &key, &keylen, spki, spkilen) != 0) {
    return aq_hash(AQ_HASH_SHA256, out, spki, spkilen);
  }
  switch (type) {
  case AQ_KEY_MLDSA65: return aq_peer_id_from_pk(out, AQ_IDENTITY_MLDSA65, key, keylen);
  case AQ_KEY_ED25519: return aq_peer_id_from_pk(out, AQ_IDENTITY_ED25519, key, keylen);
  case AQ_KEY_NONE:
  case AQ_KEY_ECDSA_P256:
  case AQ_KEY_ECDSA_P384:
  case AQ_KEY_RSA:
  default: return aq_hash(AQ_HASH_SHA256, out, spki, spkilen);
  }
}

/* ------------------------------------------------------ external address */

/*
 * One observation of our address by a peer (QUIC address discovery).  The
 * first observation, and any address not seen before, is printed as
 * "Discovered external address"; repeats of known addresses are silent.
 */
void app_on_observed(node_app *app, app_peer *from, const aq_addr *addr) {
  char a[AQ_ADDR_STRLEN];
  app_log(app, NODE_LOG_DEBUG, "observed address %s", aq_addr_format(a, sizeof(a), addr));
  for (size_t i = 0; i < app->nobserved; i++) {
    if (aq_addr_eq(&app->observed[i], addr)) {
      app->external = *addr;
      return;
    }
  }
  int changed = app->have_external;
  if (app->nobserved < APP_MAX_OBSERVED) {
    app->observed[app->nobserved++] = *addr;
  } else {
    memmove(&app->observed[0], &app->observed[1], (APP_MAX_OBSERVED - 1) * sizeof(aq_addr));
    app->observed[APP_MAX_OBSERVED - 1] = *addr;
  }
  app->external = *addr;
  app->have_external = 1;
  app_emit_external(app, addr, from, changed);
}

/* ------------------------------------------------------------ callbacks */

/* QUIC address discovery: the peer of conn reported our address. */
static void cb_addr_observed(aq_conn *conn, const aq_addr *observed, int changed, void *user_data) {
  (void)changed; /* app_on_observed tells new addresses from known ones itself */
  node_app *app = user_data;
  app_on_observed(app, aq_conn_get_app_data(conn), observed);
}

static void cb_new_conn(aq_ep *ep, aq_conn *conn, void *user_data) {
  (void)ep;
  node_app *app = user_data;
  app_peer *p = peer_alloc(app, conn, 1, -1, node_now());
  char a[AQ_ADDR_STRLEN];
  aq_addr_format(a, sizeof(a), &aq_conn_get_path(conn)->remote);
  if (p == NULL) {
    app_log(app, NODE_LOG_WARN, "peer table full: not tracking the connection from %s", a);
    return;
  }
  app->tot.conns_inbound++;
  app_log(app, NODE_LOG_DEBUG, "incoming connection from %s", a);
}

static int cb_verify_peer(aq_conn *conn, const uint8_t *spki, size_t spkilen, const uint8_t *cert,
                          size_t certlen, void *user_data) {
  (void)cert;
  (void)certlen;
  node_app *app = user_data;
  app_peer *p = aq_conn_get_app_data(conn);
  if (p == NULL) {
    return 0;
  }
  /* Any key is accepted (an open network); the PeerId we record is its hash. */
  if (peer_id_from_spki(p->peer_id, spki, spkilen) == 0) {
    p->have_id = 1;
  } else {
    app_log(app, NODE_LOG_WARN, "cannot derive a PeerId from the peer's key");
  }
  return 0;
}

static void cb_handshake_completed(aq_conn *conn, void *user_data) {
  node_app *app = user_data;
  app_peer *p = aq_conn_get_app_data(conn);
  app->tot.handshakes_ok++;
  if (p == NULL) {
    return;
  }
  p->established = 1;
  p->established_at = node_now();
  p->addr = aq_conn_get_path(conn)->remote;
  /*
   * One connection per peer: an older one from the same PeerId (a peer
   * that crashed and came back, or changed address) is closed in the next
   * tick (no core calls from inside a callback).
   */
  for (size_t i = 0; p->have_id && i < APP_MAX_PEERS; i++) {
    app_peer *q = &app->peers[i];
    if (q != p && q->used && q->conn != NULL && q->established && q->have_id &&
        q->inbound == p->inbound && memcmp(q->peer_id, p->peer_id, AQ_PEER_ID_LEN) == 0) {
      q->superseded = 1;
    }
  }
  if (p->boot >= 0) {
    app_boot *b = &app->boots[p->boot];
    b->state = APP_BOOT_CONNECTED;
    b->failures = 0;
    b->connects++;
    b->last_error[0] = '\0';
    app_emit_bootstrap(app, b, p, "bootstrap_connected", NULL);
  } else {
    app_emit_peer(app, p, "peer_connected", NULL);
  }
}

/* A short reason for a closed connection, for events and /status. */
static void close_reason(char *out, size_t cap, const aq_close_info *info, int established) {
  if (info->idle_timeout) {
    snprintf(out, cap, "%s", established ? "idle timeout" : "no answer (handshake timeout)");
  } else if (info->by_peer) {
    /* The peer's reason phrase goes to a terminal: no control bytes (escape sequences). */
    char why[65];
    size_t n = info->reason ? (info->reasonlen < 64 ? info->reasonlen : 64) : 0;
    for (size_t i = 0; i < n; i++) {
      uint8_t c = info->reason[i];
      why[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    why[n] = '\0';
    snprintf(out, cap, "closed by peer (%s code 0x%llx%s%s)", info->is_app ? "app" : "transport",
             (unsigned long long)info->code, n ? ": " : "", why);
  } else if (info->err == AQ_ERR_TIMEOUT) {
    snprintf(out, cap, "no answer (handshake timeout)");
  } else if (info->err != 0) {
    snprintf(out, cap, "%s", aq_strerror(info->err));
  } else {
    snprintf(out, cap, "closed locally (code 0x%llx)", (unsigned long long)info->code);
  }
}

static aq_duration backoff_delay(unsigned failures) {
  aq_duration d = APP_BACKOFF_MIN;
  for (unsigned i = 1; i < failures && d < APP_BACKOFF_MAX; i++) {
    d *= 2;
  }
  if (d > APP_BACKOFF_MAX) {
    d = APP_BACKOFF_MAX;
  }
  /* +-20% jitter so that many clients of one restarted bootstrap spread out. */
  uint8_t r[2] = {0, 0};
  if (node_rand(r, sizeof(r), NULL) == 0) {
    uint64_t permille = 800u + (((uint64_t)r[0] << 8 | r[1]) % 401u);
    d = d / 1000u * permille;
  }
  return d;
}

static void boot_schedule_retry(node_app *app, app_boot *b, aq_tstamp now) {
  aq_duration d = backoff_delay(b->failures ? b->failures : 1);
  b->state = APP_BOOT_WAIT;
  b->peer = -1;
  b->next_attempt = now + d;
  app_log(app, NODE_LOG_INFO, "bootstrap %s: next attempt in %llu ms", b->text,
          (unsigned long long)(d / AQ_MILLISECONDS));
}

void app_add_stats(aq_conn_stats *sum, const aq_conn_stats *s) {
  sum->pkts_sent += s->pkts_sent;
  sum->pkts_recv += s->pkts_recv;
  sum->pkts_lost += s->pkts_lost;
  sum->pkts_dropped += s->pkts_dropped;
  sum->bytes_sent += s->bytes_sent;
  sum->bytes_recv += s->bytes_recv;
  sum->stream_bytes_sent += s->stream_bytes_sent;
  sum->stream_bytes_recv += s->stream_bytes_recv;
  sum->migrations += s->migrations;
}

static void cb_conn_closed(aq_conn *conn, const aq_close_info *info, void *user_data) {
  node_app *app = user_data;
  app_peer *p = aq_conn_get_app_data(conn);
  aq_conn_stats st;
  char reason[160];
  aq_conn_get_stats(conn, &st);
  app_add_stats(&app->tot.closed, &st);
  if (p == NULL) {
    return;
  }
  aq_conn_set_app_data(conn, NULL);
  p->conn = NULL;
  close_reason(reason, sizeof(reason), info, p->established);
  if (!p->established) {
    app->tot.handshakes_failed++;
  }
  if (p->boot >= 0) {
    app_boot *b = &app->boots[p->boot];
    aq_tstamp now = node_now();
    snprintf(b->last_error, sizeof(b->last_error), "%s", reason);
    if (p->established && app->stopping) {
      app_log(app, NODE_LOG_INFO, "bootstrap %s: closed", b->text);
    } else if (p->established) {
      app_emit_bootstrap(app, b, p, "bootstrap_disconnected", reason);
      b->failures = 0;
    } else {
      b->failures++;
      app_emit_bootstrap(app, b, p, "bootstrap_connect_failed", reason);
    }
    if (!app->stopping) {
      boot_schedule_retry(app, b, now);
    } else {
      b->state = APP_BOOT_WAIT;
      b->peer = -1;
    }
  } else if (p->established && !app->stopping) {
    app_emit_peer(app, p, "peer_disconnected", reason);
  } else if (!p->established) {
    app_log(app, NODE_LOG_DEBUG, "incoming handshake failed: %s", reason);
  }
  p->used = 0;
}

/* ----------------------------------------------------------- bootstraps */

/*
 * Resolve b's host to an address one of our sockets can reach (literals
 * need no lookup).  Returns 0, or -1 with a reason in err.
 */
static int boot_resolve(node_app *app, app_boot *b, char *err, size_t errcap) {
  aq_addr cand;
  if (b->hp.literal) {
    cand = b->hp.addr;
    for (size_t i = 0; i < node_ep_nsocks(app->ep); i++) {
      if (node_sock_can_reach(node_ep_sock(app->ep, i), &cand)) {
        b->addr = cand;
        return 0;
      }
    }
    snprintf(err, errcap, "no listening socket can reach %s (IPv%d)", b->text,
             cand.family == AQ_AF_INET ? 4 : 6);
    return -1;
  }
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  int rc = getaddrinfo(b->hp.host, NULL, &hints, &res);
  if (rc != 0) {
    snprintf(err, errcap, "cannot resolve host '%s': %s", b->hp.host, gai_strerror(rc));
    return -1;
  }
  int found = 0;
  for (struct addrinfo *ai = res; ai != NULL && !found; ai = ai->ai_next) {
    if (node_addr_from_sockaddr(&cand, ai->ai_addr, ai->ai_addrlen) != 0) {
      continue;
    }
    cand.port = b->hp.port;
    for (size_t i = 0; i < node_ep_nsocks(app->ep); i++) {
      if (node_sock_can_reach(node_ep_sock(app->ep, i), &cand)) {
        found = 1;
        break;
      }
    }
  }
  freeaddrinfo(res);
  if (!found) {
    snprintf(err, errcap, "host '%s' has no address our sockets can reach", b->hp.host);
    return -1;
  }
  b->addr = cand;
  return 0;
}

static void boot_attempt(node_app *app, size_t idx, aq_tstamp now) {
  app_boot *b = &app->boots[idx];
  char err[300];
  aq_conn *conn = NULL;
  b->attempts++;
  if (boot_resolve(app, b, err, sizeof(err)) != 0) {
    b->failures++;
    snprintf(b->last_error, sizeof(b->last_error), "%s", err);
    app_emit_bootstrap(app, b, NULL, "bootstrap_connect_failed", err);
    boot_schedule_retry(app, b, now);
    return;
  }
  int rc = node_ep_connect(app->ep, &b->addr, &conn);
  if (rc != 0) {
    b->failures++;
    snprintf(b->last_error, sizeof(b->last_error), "connect failed: %s", aq_strerror(rc));
    app_emit_bootstrap(app, b, NULL, "bootstrap_connect_failed", b->last_error);
    boot_schedule_retry(app, b, now);
    return;
  }
  app_peer *p = peer_alloc(app, conn, 0, (int)idx, now);
  if (p == NULL) {
    aq_conn_close(conn, 0, (const uint8_t *)"busy", 4, now);
    b->failures++;
    boot_schedule_retry(app, b, now);
    return;
  }
  app->tot.conns_outbound++;
  b->state = APP_BOOT_CONNECTING;
  b->peer = peer_index(app, p);
  char a[AQ_ADDR_STRLEN];
  app_log(app, NODE_LOG_INFO, "bootstrap %s: connecting to %s (attempt %llu)", b->text,
          aq_addr_format(a, sizeof(a), &b->addr), (unsigned long long)b->attempts);
}

/* ---------------------------------------------------------------- stdin */

static void console_line(const char *line, size_t len, int truncated, void *user_data) {
  node_app *app = user_data;
  const char *arg;
  size_t arglen;
  if (truncated) {
    app_emit_message(app, "error", "console line too long (ignored)");
    return;
  }
  switch (node_console_parse(line, len, &arg, &arglen)) {
  case NODE_CMD_NONE: break;
  case NODE_CMD_STATUS: app_emit_status(app); break;
  case NODE_CMD_PEERS: app_emit_peers(app); break;
  case NODE_CMD_STATS: app_emit_stats(app); break;
  case NODE_CMD_DEBUG:
    if (app->log_level >= NODE_LOG_DEBUG) {
      app->log_level = app->cfg.log_level < NODE_LOG_DEBUG ? app->cfg.log_level : NODE_LOG_INFO;
      app_emit_message(app, "debug", "Debug logging off");
    } else {
      app->log_level = NODE_LOG_DEBUG;
      app_emit_message(app, "debug", "Debug logging on");
    }
    break;
  case NODE_CMD_HELP: app_emit_help(app); break;
  case NODE_CMD_QUIT:
    app->quit = 1;
    node_ep_stop(app->ep);
    break;
  case NODE_CMD_UNKNOWN: {
    char msg[160];
    snprintf(msg, sizeof(msg), "unknown command '%.*s' (try /help)",
             (int)(arglen > 64 ? 64 : arglen), arg);
    app_emit_message(app, "error", msg);
    break;
  }
  case NODE_CMD_TEXT:
  default:
    app_emit_message(app, "error", "chat messages are not yet available; commands start with '/'");
    break;
  }
}

static void stdin_eof(node_app *app) {
  node_console_flush(&app->con, console_line, app);
  if (!app->stdin_polled) {
    (void)node_loop_remove_fd(node_ep_loop(app->ep), 0);
  }
  app->stdin_open = 0;
  app_log(app, NODE_LOG_INFO, "stdin closed; the node keeps running (stop it with a signal)");
}

/* Read what stdin has (one read: a pipe or terminal never blocks after readiness). */
static void stdin_read(node_app *app) {
  char buf[4096];
  ssize_t n = read(0, buf, sizeof(buf));
  if (n > 0) {
    node_console_feed(&app->con, buf, (size_t)n, console_line, app);
  } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
    stdin_eof(app);
  }
}

static void on_stdin(node_loop *loop, int fd, unsigned events, void *user_data) {
  (void)loop;
  (void)fd;
  (void)events;
  stdin_read(user_data);
}

static void stdin_setup(node_app *app) {
  struct stat st;
  if (fstat(0, &st) != 0) {
    return; /* no stdin at all */
  }
  node_console_init(&app->con);
  app->stdin_open = 1;
  if (node_loop_add_fd(node_ep_loop(app->ep), 0, NODE_EV_IN, on_stdin, app) != 0) {
    /* epoll refuses regular files and /dev/null: read them from the tick. */
    app->stdin_polled = 1;
  }
}

/* ------------------------------------------------------------------ run */

static void app_tick(node_app *app, aq_tstamp now) {
  static const char replaced[] = "replaced by a newer connection from the same peer";
  if (app->stdin_open && app->stdin_polled) {
    stdin_read(app);
  }
  for (size_t i = 0; i < APP_MAX_PEERS; i++) {
    app_peer *p = &app->peers[i];
    if (p->used && p->conn != NULL && p->superseded) {
      p->superseded = 0;
      app_log(app, NODE_LOG_INFO, "closing an older connection: %s", replaced);
      aq_conn_close(p->conn, 0, (const uint8_t *)replaced, sizeof(replaced) - 1, now);
    }
  }
  for (size_t i = 0; i < app->nboots; i++) {
    if (app->boots[i].state == APP_BOOT_WAIT && now >= app->boots[i].next_attempt) {
      boot_attempt(app, i, now);
    }
  }
  if (app->nboots > 0 && !app->have_external && !app->reported_no_external &&
      now - app->t0 >= APP_DISCOVERY_TIMEOUT) {
    app->reported_no_external = 1;
    app_emit_no_external(app);
  }
}

static aq_tstamp app_next_deadline(const node_app *app, aq_tstamp now) {
  aq_tstamp dl = now + APP_SLICE;
  for (size_t i = 0; i < app->nboots; i++) {
    if (app->boots[i].state == APP_BOOT_WAIT && app->boots[i].next_attempt < dl) {
      dl = app->boots[i].next_attempt;
    }
  }
  if (app->nboots > 0 && !app->have_external && !app->reported_no_external &&
      app->t0 + APP_DISCOVERY_TIMEOUT < dl) {
    dl = app->t0 + APP_DISCOVERY_TIMEOUT;
  }
  return dl < now ? now : dl;
}

/*
 * Bind the listen addresses (default: [::]:0 dual-stack, else 0.0.0.0:0).
 * Every node serves: it accepts connections from other nodes, and the same
 * endpoint dials out.
 */
static int app_bind(node_app *app, const aq_settings *s, const aq_callbacks *cb) {
  int rc;
  char list[NODE_CFG_MAX_LISTEN * AQ_ADDR_STRLEN] = "";
  if (app->cfg.nlisten == 0) {
    aq_addr any6, any4;
    static const uint8_t zero[16];
    any6 = aq_addr_ipv6(zero, 0);
    any4 = aq_addr_ipv4(zero, 0);
    rc = node_ep_new(&app->ep, &any6, 1, s, cb, app, 1);
    if (rc != 0) {
      app_log(app, NODE_LOG_INFO, "IPv6 unavailable (%s); listening on IPv4 only", strerror(errno));
      rc = node_ep_new(&app->ep, &any4, 1, s, cb, app, 1);
      aq_addr_format(list, sizeof(list), &any4);
    }
  } else {
    rc = node_ep_new(&app->ep, app->cfg.listen, app->cfg.nlisten, s, cb, app, 1);
    for (size_t i = 0; i < app->cfg.nlisten; i++) {
      char a[AQ_ADDR_STRLEN];
      if (i > 0) {
        strcat(list, ", ");
      }
      strcat(list, aq_addr_format(a, sizeof(a), &app->cfg.listen[i]));
    }
  }
  if (rc != 0) {
    int e = errno;
    fprintf(stderr, "ant-quic: cannot listen on %s: %s\n", list,
            rc == AQ_ERR_IO ? strerror(e) : aq_strerror(rc));
    return -1;
  }
  app->nlocal = node_ep_nsocks(app->ep);
  for (size_t i = 0; i < app->nlocal; i++) {
    if (node_ep_local_addr(app->ep, i, &app->local[i]) != 0) {
      memset(&app->local[i], 0, sizeof(app->local[i]));
    }
    if (node_ep_sock(app->ep, i)->dualstack) {
      app->dualstack = 1;
    }
  }
  return 0;
}

/* Identity, credential and the stateless-reset key derived from it. */
static int app_identity(node_app *app) {
  char err[600];
  if (app->cfg.identity_path != NULL) {
    snprintf(app->identity_path, sizeof(app->identity_path), "%s", app->cfg.identity_path);
  } else if (node_identity_default_path(app->identity_path, sizeof(app->identity_path)) != 0) {
    fprintf(stderr,
            "ant-quic: no HOME or XDG_DATA_HOME for the identity file; use --identity FILE\n");
    return -1;
  }
  if (node_identity_load_or_create(&app->id, app->identity_path, AQ_IDENTITY_MLDSA65, 1,
                                   &app->identity_created, err, sizeof(err)) != 0) {
    fprintf(stderr, "ant-quic: %s\n", err);
    return -1;
  }
  app->id.rand = node_rand; /* hedged ML-DSA signatures */
  app->id.rand_ud = NULL;
  aq_peer_id_to_hex(app->peer_id_hex, app->id.peer_id);
  aq_ssize n = aq_identity_spki(&app->id, app->spki, sizeof(app->spki));
  if (n < 0) {
    fprintf(stderr, "ant-quic: cannot encode the public key: %s\n", aq_strerror((int)n));
    return -1;
  }
  app->spkilen = (size_t)n;
  memset(&app->cred, 0, sizeof(app->cred));
  app->cred.sig_scheme = aq_identity_sig_scheme(&app->id);
  app->cred.spki = app->spki;
  app->cred.spkilen = app->spkilen;
  app->cred.sign = aq_identity_sign;
  app->cred.sign_ctx = &app->id;
  /*
   * Stateless-reset tokens from a key bound to the identity: after a
   * restart the node can still reset its old connections, so peers notice
   * at once instead of after an idle timeout.
   */
  aq_keccak k;
  static const char label[] = "ant-quic stateless reset key v1";
  aq_sha3_256_init(&k);
  aq_keccak_absorb(&k, (const uint8_t *)label, sizeof(label) - 1);
  aq_keccak_absorb(&k, app->id.seed, sizeof(app->id.seed));
  aq_keccak_squeeze(&k, app->reset_key, sizeof(app->reset_key));
  aq_keccak_wipe(&k);
  return 0;
}

static void app_shutdown(node_app *app, const char *reason) {
  aq_tstamp now = node_now();
  static const char bye[] = "node shutting down";
  app->stopping = 1;
  for (size_t i = 0; i < APP_MAX_PEERS; i++) {
    if (app->peers[i].used && app->peers[i].conn != NULL) {
      aq_conn_close(app->peers[i].conn, 0, (const uint8_t *)bye, sizeof(bye) - 1, now);
    }
  }
  /* Let the CONNECTION_CLOSE frames go out; do not wait the full closing period. */
  aq_tstamp end = now + APP_SHUTDOWN_GRACE;
  while (aq_ep_conn_count(node_ep_aq(app->ep)) > 0 && (now = node_now()) < end) {
    aq_tstamp dl = now + 20 * AQ_MILLISECONDS;
    int rc = node_ep_run(app->ep, dl < end ? dl : end);
    if (rc != 0 && rc != AQ_ERR_TIMEOUT) {
      break;
    }
  }
  app_emit_shutdown(app, reason);
}

int node_app_run(const node_cfg *cfg) {
  node_app *app = calloc(1, sizeof(*app));
  int status = 0;
  if (app == NULL) {
    fprintf(stderr, "ant-quic: out of memory\n");
    return 1;
  }
  app->cfg = *cfg;
  app->log_level = cfg->log_level;
  app->t0 = node_now();
  setvbuf(stdout, NULL, _IOLBF, 0);
  app_signal = 0;
  app_catch_signals(NULL); /* a signal during start-up is a clean stop too */

  app->role = APP_ROLE_CLIENT;
  if (cfg->force_coordinator || cfg->nbootstrap == 0) {
    app->role = APP_ROLE_BOOTSTRAP;
  } else if (cfg->coordinator) {
    app->role = APP_ROLE_COORDINATOR;
  }
  /*
   * Address discovery policy: ANT_QUIC_ADDRESS_DISCOVERY_ENABLED and
   * ANT_QUIC_MAX_OBSERVATION_RATE; a bootstrap node observes at 63/s on
   * every path (reference README, "Bootstrap nodes automatically use
   * aggressive observation settings").
   */
  aq_qad_config qad;
  const char *why = NULL;
  if (aq_qad_config_from_env(&qad, app_getenv, NULL, &why) != 0) {
    fprintf(stderr, "ant-quic: %s\n", why ? why : "bad address discovery environment");
    status = 2;
    goto out;
  }
  if (app->role == APP_ROLE_BOOTSTRAP) {
    qad.bootstrap = 1;
  }

  if (app_identity(app) != 0) {
    status = 2;
    goto out;
  }

  aq_settings s;
  aq_settings_default(&s);
  s.keep_alive = APP_KEEP_ALIVE;
  s.handshake_timeout = APP_HANDSHAKE_TIMEOUT;
  s.cred = &app->cred;
  s.offer_rpk = 1;
  s.require_client_auth = 1; /* mutual authentication: every node shows its key */
  s.static_key = app->reset_key;

  aq_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.rand = node_rand;
  cb.new_conn = cb_new_conn;
  cb.handshake_completed = cb_handshake_completed;
  cb.verify_peer = cb_verify_peer;
  cb.conn_closed = cb_conn_closed;
  cb.addr_observed = cb_addr_observed;

  if (app_bind(app, &s, &cb) != 0) {
    status = 1;
    goto out;
  }

  int qrc = aq_ep_set_qad(node_ep_aq(app->ep), &qad);
  if (qrc != 0) {
    fprintf(stderr, "ant-quic: address discovery: %s\n", aq_strerror(qrc));
    status = 2;
    goto out;
  }

  app->nboots = cfg->nbootstrap;
  for (size_t i = 0; i < app->nboots; i++) {
    app_boot *b = &app->boots[i];
    char err[300];
    b->hp = cfg->bootstrap[i];
    b->peer = -1;
    b->state = APP_BOOT_WAIT;
    b->next_attempt = app->t0;
    if (b->hp.literal) {
      aq_addr_format(b->text, sizeof(b->text), &b->hp.addr);
    } else {
      snprintf(b->text, sizeof(b->text), "%s:%u", cfg->bootstrap[i].host, (unsigned)b->hp.port);
    }
    /* Host names are resolved now (a typo is an error) and again on every attempt. */
    if (boot_resolve(app, b, err, sizeof(err)) != 0) {
      fprintf(stderr, "ant-quic: --bootstrap %s: %s\n", b->text, err);
      status = 2;
      goto out;
    }
  }

  app_catch_signals(node_ep_loop(app->ep));
  stdin_setup(app);
  app_emit_started(app);

  while (!app->quit && app_signal == 0) {
    aq_tstamp now = node_now();
    app_tick(app, now);
    int rc = node_ep_run(app->ep, app_next_deadline(app, now));
    if (rc != 0 && rc != AQ_ERR_TIMEOUT) {
      app_log(app, NODE_LOG_ERROR, "endpoint failed: %s", aq_strerror(rc));
      fprintf(stderr, "ant-quic: endpoint failed: %s\n", aq_strerror(rc));
      status = 1;
      break;
    }
  }
  if (status == 0) {
    app_shutdown(app, app_signal == SIGINT ? "SIGINT" : app_signal == SIGTERM ? "SIGTERM" : "quit");
  }

out:
  app_signal_loop = NULL;
  node_ep_del(app->ep);
  aq_identity_wipe(&app->id);
  aq_memzero(app->reset_key, sizeof(app->reset_key));
  free(app);
  fflush(stdout);
  return status;
}
