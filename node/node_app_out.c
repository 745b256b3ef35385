/*
 * node_app_out.c - what the node prints: events and console answers on
 * stdout (human text, or one JSON object per line with --json: every object
 * has "event" and "t", seconds since start), logs on stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "aq_tls_group.h"
#include "node_app_int.h"
#include "node_json.h"

#define OUT_CAP (APP_MAX_PEERS * 512 + 8192)

/* One JSON line being built (the buffer is static: the node is single-threaded). */
static char out_buf[OUT_CAP];

uint64_t app_uptime_ms(const node_app *app, aq_tstamp now) {
  return (now - app->t0) / AQ_MILLISECONDS;
}

const char *app_role_name(app_role r) {
  switch (r) {
  case APP_ROLE_BOOTSTRAP: return "bootstrap";
  case APP_ROLE_COORDINATOR: return "coordinator";
  case APP_ROLE_CLIENT:
  default: return "client";
  }
}

void app_log(node_app *app, node_log_level lvl, const char *fmt, ...) {
  va_list ap;
  if (lvl > app->log_level) {
    return;
  }
  uint64_t ms = app_uptime_ms(app, node_now());
  fprintf(stderr, "[%5llu.%03u] %-5s ", (unsigned long long)(ms / 1000), (unsigned)(ms % 1000),
          node_log_level_name(lvl));
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static void json_begin(node_app *app, node_json *j, const char *event) {
  node_json_init(j, out_buf, sizeof(out_buf));
  node_json_str(j, "event", event);
  node_json_milli(j, "t", app_uptime_ms(app, node_now()));
}

static void json_end(node_json *j) {
  long n = node_json_finish(j);
  if (n < 0) {
    /* Cannot happen with OUT_CAP sized for the peer table; never print half an object. */
    fputs("{\"event\":\"error\",\"message\":\"event too large\"}\n", stdout);
  } else {
    fputs(out_buf, stdout);
    fputc('\n', stdout);
  }
  fflush(stdout);
}

static void json_addr(node_json *j, const char *key, const aq_addr *a) {
  char s[AQ_ADDR_STRLEN];
  if (a->family == 0) {
    node_json_null(j, key);
  } else {
    node_json_str(j, key, aq_addr_format(s, sizeof(s), a));
  }
}

static void human(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void human(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  fflush(stdout);
}

/* "12.3 s" style durations for people. */
static void fmt_age(char *out, size_t cap, aq_duration d) {
  uint64_t ms = d / AQ_MILLISECONDS;
  if (ms < 60000) {
    snprintf(out, cap, "%llu.%u s", (unsigned long long)(ms / 1000), (unsigned)(ms % 1000 / 100));
  } else if (ms < 3600000) {
    snprintf(out, cap, "%llum%02us", (unsigned long long)(ms / 60000),
             (unsigned)(ms % 60000 / 1000));
  } else {
    snprintf(out, cap, "%lluh%02um", (unsigned long long)(ms / 3600000),
             (unsigned)(ms % 3600000 / 60000));
  }
}

/* The key exchange the connection negotiated ("X25519MLKEM768", ...). */
static const char *kex_name(const aq_conn *conn) {
  const aq_tls_group *g = aq_tls_group_find(aq_conn_get_group(conn));
  return g != NULL ? g->name : "unknown";
}

static void fmt_rtt(char *out, size_t cap, aq_duration d) {
  uint64_t us = d / AQ_MICROSECONDS;
  snprintf(out, cap, "%llu.%03llu ms", (unsigned long long)(us / 1000),
           (unsigned long long)(us % 1000));
}

void app_emit_started(node_app *app) {
  char a[AQ_ADDR_STRLEN];
  if (app->cfg.json) {
    node_json j;
    json_begin(app, &j, "started");
    node_json_str(&j, "version", aq_version());
    node_json_str(&j, "peer_id", app->peer_id_hex);
    node_json_str(&j, "key_type", app->id.type == AQ_IDENTITY_MLDSA65 ? "ml-dsa-65" : "ed25519");
    node_json_str(&j, "identity", app->identity_path);
    node_json_bool(&j, "identity_created", app->identity_created);
    node_json_str(&j, "role", app_role_name(app->role));
    node_json_arr_begin(&j, "listen");
    for (size_t i = 0; i < app->nlocal; i++) {
      json_addr(&j, NULL, &app->local[i]);
    }
    node_json_arr_end(&j);
    node_json_bool(&j, "dual_stack", app->dualstack);
    node_json_arr_begin(&j, "bootstrap");
    for (size_t i = 0; i < app->nboots; i++) {
      node_json_str(&j, NULL, app->boots[i].text);
    }
    node_json_arr_end(&j);
    json_end(&j);
    return;
  }
  if (!app->cfg.minimal) {
    human("ant-quic %s - P2P QUIC node (ML-DSA-65 identity, X25519MLKEM768 key exchange)\n",
          aq_version());
    human("Identity: %s (%s, %s)\n", app->identity_path,
          app->identity_created ? "created" : "loaded",
          app->id.type == AQ_IDENTITY_MLDSA65 ? "ml-dsa-65" : "ed25519");
  }
  human("PeerId: %s\n", app->peer_id_hex);
  for (size_t i = 0; i < app->nlocal; i++) {
    human("Listening on %s%s\n", aq_addr_format(a, sizeof(a), &app->local[i]),
          node_ep_sock(app->ep, i)->dualstack ? " (dual-stack)" : "");
  }
  if (!app->cfg.minimal) {
    human("Role: %s%s\n", app_role_name(app->role),
          app->role == APP_ROLE_BOOTSTRAP ? " (accepting nodes, observing addresses at 63/s)" : "");
    for (size_t i = 0; i < app->nboots; i++) {
      human("Bootstrap: %s\n", app->boots[i].text);
    }
    human("Type /help for commands.\n");
  }
}

void app_emit_bootstrap(node_app *app, const app_boot *b, const app_peer *p, const char *what,
                        const char *reason) {
  char a[AQ_ADDR_STRLEN], id[AQ_PEER_ID_HEX_LEN + 1];
  int have_id = p != NULL && p->have_id;
  if (have_id) {
    aq_peer_id_to_hex(id, p->peer_id);
  }
  if (app->cfg.json) {
    node_json j;
    json_begin(app, &j, what);
    node_json_str(&j, "bootstrap", b->text);
    json_addr(&j, "addr", &b->addr);
    if (have_id) {
      node_json_str(&j, "peer_id", id);
    }
    if (reason) {
      node_json_str(&j, "reason", reason);
    }
    node_json_u64(&j, "attempt", b->attempts);
    node_json_u64(&j, "failures", b->failures);
    json_end(&j);
    return;
  }
  aq_addr_format(a, sizeof(a), &b->addr);
  if (strcmp(what, "bootstrap_connected") == 0) {
    human("Connected to bootstrap %s%s%s%s\n", b->text, b->hp.literal ? "" : " (",
          b->hp.literal ? "" : a, b->hp.literal ? "" : ")");
    if (have_id && !app->cfg.minimal) {
      human("  bootstrap PeerId: %s\n", id);
    }
  } else if (strcmp(what, "bootstrap_disconnected") == 0) {
    human("Lost bootstrap %s: %s; reconnecting\n", b->text, reason ? reason : "closed");
  } else {
    /* Failed attempts are routine while a bootstrap is down: stderr log, not stdout noise. */
    app_log(app, b->failures <= 1 ? NODE_LOG_WARN : NODE_LOG_INFO,
            "bootstrap %s: attempt %llu failed: %s", b->text, (unsigned long long)b->attempts,
            reason ? reason : "?");
  }
}

/* The peer's PeerId in hex, or "(unknown)" before its key was verified. */
static void peer_id_text(char id[AQ_PEER_ID_HEX_LEN + 1], const app_peer *p) {
  if (p->have_id) {
    aq_peer_id_to_hex(id, p->peer_id);
  } else {
    snprintf(id, AQ_PEER_ID_HEX_LEN + 1, "(unknown)");
  }
}

void app_emit_peer(node_app *app, const app_peer *p, const char *what, const char *reason) {
  char a[AQ_ADDR_STRLEN], id[AQ_PEER_ID_HEX_LEN + 1];
  peer_id_text(id, p);
  aq_addr_format(a, sizeof(a), &p->addr);
  if (app->cfg.json) {
    node_json j;
    json_begin(app, &j, what);
    node_json_str(&j, "peer_id", p->have_id ? id : NULL);
    node_json_str(&j, "addr", a);
    node_json_str(&j, "direction", p->inbound ? "inbound" : "outbound");
    if (reason) {
      node_json_str(&j, "reason", reason);
    }
    json_end(&j);
    return;
  }
  if (strcmp(what, "peer_connected") == 0) {
    human("Peer connected: %s from %s\n", id, a);
  } else {
    human("Peer disconnected: %s (%s)\n", id, reason ? reason : "closed");
  }
}

void app_emit_external(node_app *app, const aq_addr *addr, const app_peer *from, int changed) {
  char a[AQ_ADDR_STRLEN], f[AQ_ADDR_STRLEN];
  aq_addr_format(a, sizeof(a), addr);
  if (app->cfg.json) {
    node_json j;
    json_begin(app, &j, "external_address");
    node_json_str(&j, "addr", a);
    node_json_bool(&j, "changed", changed);
    if (from != NULL) {
      json_addr(&j, "observed_by", &from->addr);
      if (from->have_id) {
        char id[AQ_PEER_ID_HEX_LEN + 1];
        aq_peer_id_to_hex(id, from->peer_id);
        node_json_str(&j, "observer_peer_id", id);
      }
    }
    json_end(&j);
    return;
  }
  /* The reference prints a globe emoji first; --minimal keeps the line plain. */
  human("%sDiscovered external address: %s\n", app->cfg.minimal ? "" : "\xf0\x9f\x8c\x90 ", a);
  if (!app->cfg.minimal && from != NULL) {
    app_log(app, NODE_LOG_INFO, "observed by %s", aq_addr_format(f, sizeof(f), &from->addr));
  }
}

void app_emit_no_external(node_app *app) {
  if (app->cfg.json) {
    node_json j;
    json_begin(app, &j, "external_address_not_found");
    node_json_str(&j, "message", "CANNOT_FIND_EXTERNAL_ADDRESS");
    node_json_u64(&j, "timeout_ms", APP_DISCOVERY_TIMEOUT / AQ_MILLISECONDS);
    json_end(&j);
    return;
  }
  human("%sCANNOT_FIND_EXTERNAL_ADDRESS\n", app->cfg.minimal ? "" : "\xe2\x9a\xa0\xef\xb8\x8f ");
}

static size_t count_established(const node_app *app, size_t *in, size_t *out) {
  size_t n = 0;
  *in = *out = 0;
  for (size_t i = 0; i < APP_MAX_PEERS; i++) {
    const app_peer *p = &app->peers[i];
    if (p->used && p->conn != NULL && p->established && !aq_conn_is_closed(p->conn)) {
      n++;
      if (p->inbound) {
        (*in)++;
      } else {
        (*out)++;
      }
    }
  }
  return n;
}

static const char *boot_state_name(const app_boot *b) {
  switch (b->state) {
  case APP_BOOT_CONNECTED: return "connected";
  case APP_BOOT_CONNECTING: return "connecting";
  case APP_BOOT_WAIT:
  default: return b->next_attempt == AQ_TSTAMP_NEVER ? "stopped" : "retrying";
  }
}

void app_emit_status(node_app *app) {
  char a[AQ_ADDR_STRLEN], age[32];
  size_t in, out;
  size_t n = count_established(app, &in, &out);
  aq_tstamp now = node_now();
  if (app->cfg.json) {
    node_json j;
    json_begin(app, &j, "status");
    node_json_str(&j, "peer_id", app->peer_id_hex);
    node_json_str(&j, "role", app_role_name(app->role));
    node_json_arr_begin(&j, "listen");
    for (size_t i = 0; i < app->nlocal; i++) {
      json_addr(&j, NULL, &app->local[i]);
    }
    node_json_arr_end(&j);
    if (app->have_external) {
      json_addr(&j, "external_address", &app->external);
    } else {
      node_json_null(&j, "external_address");
    }
    node_json_arr_begin(&j, "discovered_addresses");
    for (size_t i = 0; i < app->nobserved; i++) {
      json_addr(&j, NULL, &app->observed[i]);
    }
    node_json_arr_end(&j);
    node_json_arr_begin(&j, "bootstraps");
    for (size_t i = 0; i < app->nboots; i++) {
      const app_boot *b = &app->boots[i];
      node_json_obj_begin(&j, NULL);
      node_json_str(&j, "bootstrap", b->text);
      json_addr(&j, "addr", &b->addr);
      node_json_str(&j, "state", boot_state_name(b));
      node_json_u64(&j, "attempts", b->attempts);
      node_json_u64(&j, "failures", b->failures);
      if (b->last_error[0]) {
        node_json_str(&j, "last_error", b->last_error);
      }
      node_json_obj_end(&j);
    }
    node_json_arr_end(&j);
    node_json_obj_begin(&j, "connections");
    node_json_u64(&j, "total", n);
    node_json_u64(&j, "inbound", in);
    node_json_u64(&j, "outbound", out);
    node_json_obj_end(&j);
    node_json_milli(&j, "uptime", app_uptime_ms(app, now));
    json_end(&j);
    return;
  }
  human("Status:\n  PeerId:      %s\n  Role:        %s\n  Listening:  ", app->peer_id_hex,
        app_role_name(app->role));
  for (size_t i = 0; i < app->nlocal; i++) {
    human(" %s", aq_addr_format(a, sizeof(a), &app->local[i]));
  }
  human("\n  External:    %s\n",
        app->have_external ? aq_addr_format(a, sizeof(a), &app->external) : "(not discovered)");
  if (app->nobserved > 1) {
    human("  Discovered: ");
    for (size_t i = 0; i < app->nobserved; i++) {
      human(" %s", aq_addr_format(a, sizeof(a), &app->observed[i]));
    }
    human("\n");
  }
  for (size_t i = 0; i < app->nboots; i++) {
    const app_boot *b = &app->boots[i];
    human("  Bootstrap:   %s %s (attempts %llu)%s%s\n", b->text, boot_state_name(b),
          (unsigned long long)b->attempts,
          b->state != APP_BOOT_CONNECTED && b->last_error[0] ? ": " : "",
          b->state != APP_BOOT_CONNECTED ? b->last_error : "");
  }
  fmt_age(age, sizeof(age), now - app->t0);
  human("  Connections: %zu (%zu inbound, %zu outbound)\n  Uptime:      %s\n", n, in, out, age);
}

void app_emit_peers(node_app *app) {
  char a[AQ_ADDR_STRLEN], id[AQ_PEER_ID_HEX_LEN + 1], age[32], rtt[32];
  size_t in, out;
  size_t n = count_established(app, &in, &out);
  aq_tstamp now = node_now();
  node_json j;
  if (app->cfg.json) {
    json_begin(app, &j, "peers");
    node_json_u64(&j, "count", n);
    node_json_arr_begin(&j, "peers");
  } else {
    human("Peers (%zu):\n", n);
  }
  for (size_t i = 0; i < APP_MAX_PEERS; i++) {
    const app_peer *p = &app->peers[i];
    aq_conn_stats st;
    if (!p->used || p->conn == NULL || !p->established || aq_conn_is_closed(p->conn)) {
      continue;
    }
    aq_conn_get_stats(p->conn, &st);
    const aq_addr *remote = &aq_conn_get_path(p->conn)->remote;
    peer_id_text(id, p);
    if (app->cfg.json) {
      node_json_obj_begin(&j, NULL);
      node_json_str(&j, "peer_id", p->have_id ? id : NULL);
      json_addr(&j, "addr", remote);
      node_json_milli(&j, "rtt_ms", st.srtt / AQ_MICROSECONDS);
      node_json_str(&j, "path", "direct"); /* relayed paths come with the relay feature */
      node_json_str(&j, "direction", p->inbound ? "inbound" : "outbound");
      node_json_str(&j, "kex", kex_name(p->conn));
      node_json_bool(&j, "bootstrap", p->boot >= 0);
      node_json_milli(&j, "age", (now - p->established_at) / AQ_MILLISECONDS);
      node_json_obj_end(&j);
    } else {
      fmt_rtt(rtt, sizeof(rtt), st.srtt);
      fmt_age(age, sizeof(age), now - p->established_at);
      human("  %s  %-22s rtt %-10s direct  %-8s %s%s age %s\n", id,
            aq_addr_format(a, sizeof(a), remote), rtt, p->inbound ? "inbound" : "outbound",
            kex_name(p->conn), p->boot >= 0 ? " bootstrap" : "", age);
    }
  }
  if (app->cfg.json) {
    node_json_arr_end(&j);
    json_end(&j);
  }
}

void app_emit_stats(node_app *app) {
  aq_conn_stats sum = app->tot.closed;
  node_loop_stats ls;
  char id[AQ_PEER_ID_HEX_LEN + 1], rtt[32];
  node_json j;
  size_t nlive = 0;
  for (size_t i = 0; i < APP_MAX_PEERS; i++) {
    const app_peer *p = &app->peers[i];
    aq_conn_stats st;
    if (p->used && p->conn != NULL) {
      aq_conn_get_stats(p->conn, &st);
      app_add_stats(&sum, &st);
      nlive++;
    }
  }
  node_loop_stats_get(node_ep_loop(app->ep), &ls);
  if (app->cfg.json) {
    json_begin(app, &j, "stats");
    node_json_obj_begin(&j, "totals");
    node_json_u64(&j, "packets_sent", sum.pkts_sent);
    node_json_u64(&j, "packets_received", sum.pkts_recv);
    node_json_u64(&j, "packets_lost", sum.pkts_lost);
    node_json_u64(&j, "packets_dropped", sum.pkts_dropped);
    node_json_u64(&j, "bytes_sent", sum.bytes_sent);
    node_json_u64(&j, "bytes_received", sum.bytes_recv);
    node_json_u64(&j, "datagrams_sent", ls.tx_dgrams);
    node_json_u64(&j, "datagrams_received", ls.rx_dgrams);
    node_json_u64(&j, "handshakes_completed", app->tot.handshakes_ok);
    node_json_u64(&j, "handshakes_failed", app->tot.handshakes_failed);
    node_json_u64(&j, "connections_inbound", app->tot.conns_inbound);
    node_json_u64(&j, "connections_outbound", app->tot.conns_outbound);
    node_json_u64(&j, "connections_open", nlive);
    node_json_obj_end(&j);
    node_json_arr_begin(&j, "connections");
  } else {
    human("Stats:\n"
          "  packets:    %llu sent, %llu received, %llu lost, %llu dropped\n"
          "  bytes:      %llu sent, %llu received\n"
          "  datagrams:  %llu sent, %llu received (UDP)\n"
          "  handshakes: %llu completed, %llu failed\n"
          "  connections: %zu open, %llu inbound and %llu outbound since start\n",
          (unsigned long long)sum.pkts_sent, (unsigned long long)sum.pkts_recv,
          (unsigned long long)sum.pkts_lost, (unsigned long long)sum.pkts_dropped,
          (unsigned long long)sum.bytes_sent, (unsigned long long)sum.bytes_recv,
          (unsigned long long)ls.tx_dgrams, (unsigned long long)ls.rx_dgrams,
          (unsigned long long)app->tot.handshakes_ok,
          (unsigned long long)app->tot.handshakes_failed, nlive,
          (unsigned long long)app->tot.conns_inbound, (unsigned long long)app->tot.conns_outbound);
  }
  for (size_t i = 0; i < APP_MAX_PEERS; i++) {
    const app_peer *p = &app->peers[i];
    aq_conn_stats st;
    if (!p->used || p->conn == NULL) {
      continue;
    }
    aq_conn_get_stats(p->conn, &st);
    peer_id_text(id, p);
    if (app->cfg.json) {
      node_json_obj_begin(&j, NULL);
      node_json_str(&j, "peer_id", p->have_id ? id : NULL);
      json_addr(&j, "addr", &aq_conn_get_path(p->conn)->remote);
      node_json_bool(&j, "established", p->established);
      node_json_u64(&j, "packets_sent", st.pkts_sent);
      node_json_u64(&j, "packets_received", st.pkts_recv);
      node_json_u64(&j, "packets_lost", st.pkts_lost);
      node_json_u64(&j, "bytes_sent", st.bytes_sent);
      node_json_u64(&j, "bytes_received", st.bytes_recv);
      node_json_milli(&j, "rtt_ms", st.srtt / AQ_MICROSECONDS);
      node_json_u64(&j, "cwnd", st.cwnd);
      node_json_obj_end(&j);
    } else {
      fmt_rtt(rtt, sizeof(rtt), st.srtt);
      human("  %.16s...  pkts %llu/%llu lost %llu  bytes %llu/%llu  rtt %s  cwnd %llu%s\n", id,
            (unsigned long long)st.pkts_sent, (unsigned long long)st.pkts_recv,
            (unsigned long long)st.pkts_lost, (unsigned long long)st.bytes_sent,
            (unsigned long long)st.bytes_recv, rtt, (unsigned long long)st.cwnd,
            p->established ? "" : "  (handshaking)");
    }
  }
  if (app->cfg.json) {
    node_json_arr_end(&j);
    json_end(&j);
  }
}

void app_emit_help(node_app *app) {
  size_t n;
  const node_cmd_info *t = node_cmd_table(&n);
  if (app->cfg.json) {
    node_json j;
    json_begin(app, &j, "help");
    node_json_arr_begin(&j, "commands");
    for (size_t i = 0; i < n; i++) {
      node_json_obj_begin(&j, NULL);
      node_json_str(&j, "command", t[i].name);
      node_json_str(&j, "help", t[i].help);
      node_json_obj_end(&j);
    }
    node_json_arr_end(&j);
    json_end(&j);
    return;
  }
  human("Commands:\n");
  for (size_t i = 0; i < n; i++) {
    human("  %-8s %s\n", t[i].name, t[i].help);
  }
}

void app_emit_message(node_app *app, const char *event, const char *text) {
  if (app->cfg.json) {
    node_json j;
    json_begin(app, &j, event);
    node_json_str(&j, "message", text);
    json_end(&j);
    return;
  }
  human("%s\n", text);
}

void app_emit_shutdown(node_app *app, const char *reason) {
  if (app->cfg.json) {
    node_json j;
    json_begin(app, &j, "shutdown");
    node_json_str(&j, "reason", reason);
    json_end(&j);
    return;
  }
  if (!app->cfg.minimal) {
    human("Shutting down (%s)\n", reason);
  }
}
