/*
 * peer_client.c - ant-quic-peer client: K runs (one connection each) of an
 * echo, a download or a DATAGRAM echo, or N sequential small-echo
 * connections for the handshake rate; RESULT / SUMMARY lines like
 * quinn-peer's (impl=ant-quic).  Stops at the first failed run (exit 1).
 *
 * Each run is a state machine driven by the aq_callbacks; the main loop
 * starts a connection, runs the node_ep until the run is done or failed
 * (the callbacks call node_ep_stop), closes the connection (its closing
 * period continues in the background) and starts the next one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_ct.h"
#include "peer.h"

#define CLI_RBUF (256u * 1024u)

typedef enum cli_kind { CLI_ECHO = 0, CLI_DOWNLOAD, CLI_DATAGRAM } cli_kind;

typedef struct cli_run {
  struct cli_run *next; /* every run (freed at exit: closing connections call back later) */
  aq_conn *conn;
  cli_kind kind;
  aq_tstamp t_start, t_hs, t_op, t_done;
  int hs_done, done, failed, closed;
  char err[256];
  uint64_t sid;
  /* what we send: src (a message) or, with src == NULL, the i mod 256 pattern */
  const uint8_t *src;
  uint64_t src_len;
  uint64_t sent;
  int fin_sent;
  /* what we receive */
  uint64_t expect; /* echo: src_len; download: N */
  uint64_t recvd;
  int fin_recvd;
  char req[32];  /* download request "N\n" */
  char alpn[64]; /* negotiated ALPN ("?" if none) */
  /* DATAGRAM: attempts made and when the next one is due */
  int dg_tries;
  aq_tstamp dg_next;
  /* key updates: the next received-byte mark, due flag, count initiated */
  uint64_t ku_mark;
  int ku_due;
  uint64_t ku_done;
  uint64_t ku_total; /* aq_conn_stats.key_updates at the end of the run */
  int sid_open;      /* the stream is open (at the handshake, or at once with 0-RTT) */
  int resumed;       /* the handshake resumed a session */
  int early;         /* AQ_EARLY_DATA_* at the end of the run */
  int ecn_state;     /* AQ_ECN_STATE_* at the end of the run */
} cli_run;

typedef struct cli {
  const peer_opts *o;
  node_ep *e;
  cli_run *runs;
  cli_run *cur;
  uint8_t *rbuf;
  uint8_t *sess; /* --resume: the latest session blob (a secret: wiped when replaced/freed) */
  size_t sesslen;
} cli;

/* Mark r failed with a printf-style reason (kept in r->err) and stop the loop if it is current. */
__attribute__((format(printf, 3, 4))) static void run_fail(cli *c, cli_run *r, const char *fmt,
                                                           ...) {
  if (r->failed || r->done) {
    return;
  }
  r->failed = 1;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err, sizeof(r->err), fmt, ap);
  va_end(ap);
  if (r == c->cur) {
    node_ep_stop(c->e);
  }
}

/* Mark r finished (t_done = now) and stop the loop if it is the current run. */
static void run_done(cli *c, cli_run *r) {
  if (r->failed || r->done) {
    return;
  }
  r->done = 1;
  r->t_done = node_now();
  if (r == c->cur) {
    node_ep_stop(c->e);
  }
}

/* Queue what is left to send (until the stream is full), then the FIN. */
static void pump(cli *c, cli_run *r) {
  while (r->sent < r->src_len) {
    uint64_t left = r->src_len - r->sent;
    const uint8_t *p;
    size_t k;
    if (r->src != NULL) {
      p = r->src + r->sent;
      k = left > (1u << 20) ? (size_t)1 << 20 : (size_t)left;
    } else {
      p = peer_pattern + (r->sent & 255u);
      k = left > PEER_PATTERN_LEN ? PEER_PATTERN_LEN : (size_t)left;
    }
    aq_ssize w = aq_conn_stream_write(r->conn, r->sid, p, k, 0);
    if (w < 0) {
      run_fail(c, r, "stream write failed: %s", aq_strerror((int)w));
      return;
    }
    r->sent += (uint64_t)w;
    if ((size_t)w < k) {
      return;
    }
  }
  if (!r->fin_sent) {
    r->fin_sent = 1;
    int rc = aq_conn_stream_shutdown(r->conn, r->sid);
    if (rc != 0) {
      run_fail(c, r, "stream shutdown failed: %s", aq_strerror(rc));
    }
  }
}

/* ------------------------------------------------------------- callbacks */

/* Handshake done: record its time and start the run (stream, or the DATAGRAM via the main loop). */
static void cb_hs(aq_conn *conn, void *ud) {
  cli *c = ud;
  cli_run *r = aq_conn_get_app_data(conn);
  if (r == NULL || r->hs_done) {
    return;
  }
  r->hs_done = 1;
  r->t_hs = r->t_op = node_now();
  const char *alpn = aq_conn_get_alpn(conn, NULL);
  snprintf(r->alpn, sizeof(r->alpn), "%s", alpn != NULL ? alpn : "?");
  if (!c->o->quiet) {
    fprintf(stderr, "handshake done suite=%s group=0x%04x alpn=%s retry=%d",
            peer_suite_name(aq_conn_get_cipher_suite(conn)), aq_conn_get_group(conn),
            alpn != NULL ? alpn : "?", aq_conn_used_retry(conn));
    if (c->o->resume) {
      fprintf(stderr, " resumed=%d", aq_conn_is_resumed(conn) != 0);
    }
    fprintf(stderr, "\n");
  }
  if (r->kind == CLI_DATAGRAM) {
    r->dg_next = r->t_hs; /* the main loop sends (and resends every 500 ms, 3 tries) */
    node_ep_stop(c->e);
    return;
  }
  if (r->sid_open) {
    return; /* opened at once and written as 0-RTT data */
  }
  int rc = aq_conn_open_stream(conn, 1, &r->sid);
  if (rc != 0) {
    run_fail(c, r, "open_bi: %s", aq_strerror(rc));
    return;
  }
  r->sid_open = 1;
  pump(c, r);
}

/* --resume: keep the latest session blob for the next connection. */
static void cb_new_session(aq_conn *conn, const uint8_t *blob, size_t len, void *ud) {
  (void)conn;
  cli *c = ud;
  if (!c->o->resume || len == 0) {
    return;
  }
  uint8_t *copy = malloc(len);
  if (copy == NULL) {
    return; /* the next connection just does a full handshake */
  }
  memcpy(copy, blob, len);
  if (c->sess != NULL) {
    aq_memzero(c->sess, c->sesslen);
    free(c->sess);
  }
  c->sess = copy;
  c->sesslen = len;
}

/* Read and check what came back (echo bytes, or the download pattern with --verify). */
static void cb_stream_data(aq_conn *conn, uint64_t id, void *ud) {
  cli *c = ud;
  cli_run *r = aq_conn_get_app_data(conn);
  if (r == NULL || id != r->sid || r->failed || r->done) {
    int fin = 0;
    while (aq_conn_stream_read(conn, id, c->rbuf, CLI_RBUF, &fin) > 0) {
    }
    return;
  }
  for (;;) {
    int fin = 0;
    aq_ssize n = aq_conn_stream_read(conn, id, c->rbuf, CLI_RBUF, &fin);
    if (n == AQ_ERR_CLOSED) {
      run_fail(c, r, "%s", "the server reset the stream");
      return;
    }
    if (n < 0) {
      run_fail(c, r, "stream read failed: %s", aq_strerror((int)n));
      return;
    }
    const uint8_t *b = c->rbuf;
    size_t len = (size_t)n;
    if (r->kind == CLI_ECHO) {
      if (r->recvd + len > r->expect) {
        char d[96];
        snprintf(d, sizeof(d), "sent %llu bytes, got more than that back",
                 (unsigned long long)r->expect);
        run_fail(c, r, "echo mismatch: %s", d);
        return;
      }
      if (r->src != NULL) {
        if (memcmp(b, r->src + r->recvd, len) != 0) {
          run_fail(c, r, "%s", "echo mismatch: different bytes came back");
          return;
        }
      } else {
        for (size_t i = 0; i < len; i++) {
          if (b[i] != (uint8_t)(r->recvd + i)) {
            run_fail(c, r, "%s", "echo mismatch: different bytes came back");
            return;
          }
        }
      }
    } else if (c->o->verify) {
      /* The pattern block starts at a multiple of 256, so one memcmp checks i mod 256. */
      size_t k = 0;
      while (k < len) {
        size_t chunk = len - k < PEER_PATTERN_LEN ? len - k : PEER_PATTERN_LEN;
        if (memcmp(b + k, peer_pattern + ((r->recvd + k) & 255u), chunk) != 0) {
          char d[64];
          snprintf(d, sizeof(d), "near byte %llu", (unsigned long long)(r->recvd + k));
          run_fail(c, r, "download mismatch %s", d);
          return;
        }
        k += chunk;
      }
    }
    r->recvd += len;
    if (c->o->key_update != 0 && r->recvd >= r->ku_mark && !fin) {
      r->ku_due = 1; /* aq_conn_initiate_key_update is not allowed in callbacks: main loop */
      node_ep_stop(c->e);
    }
    if (fin) {
      r->fin_recvd = 1;
      if (r->recvd != r->expect) {
        char d[96];
        snprintf(d, sizeof(d), "expected %llu bytes, got %llu", (unsigned long long)r->expect,
                 (unsigned long long)r->recvd);
        run_fail(c, r, "%s: %s", r->kind == CLI_ECHO ? "echo mismatch" : "download", d);
        return;
      }
      run_done(c, r);
      return;
    }
    if (n == 0) {
      return;
    }
  }
}

/* A DATAGRAM came back: the run is done if it is the one we sent. */
static void cb_datagram(aq_conn *conn, const uint8_t *data, size_t len, void *ud) {
  cli *c = ud;
  cli_run *r = aq_conn_get_app_data(conn);
  if (r == NULL || r->kind != CLI_DATAGRAM || r->done || r->failed) {
    return;
  }
  if (len != r->src_len || memcmp(data, r->src, len) != 0) {
    run_fail(c, r, "datagram mismatch: got %zu bytes", len);
    return;
  }
  run_done(c, r);
}

/* The stream has room again: queue more of the request. */
static void cb_writable(aq_conn *conn, uint64_t id, void *ud) {
  cli *c = ud;
  cli_run *r = aq_conn_get_app_data(conn);
  if (r != NULL && id == r->sid && !r->failed && !r->done) {
    pump(c, r);
  }
}

/* STOP_SENDING from the server: fatal only while an echo is incomplete. */
static void cb_stop_sending(aq_conn *conn, uint64_t id, uint64_t code, void *ud) {
  (void)code;
  cli *c = ud;
  cli_run *r = aq_conn_get_app_data(conn);
  /* A download server may stop our (already complete) request: fine, as for quinn-peer. */
  if (r != NULL && id == r->sid && r->kind == CLI_ECHO && r->recvd < r->expect) {
    run_fail(c, r, "%s", "the server stopped the echo stream");
  }
}

/* The connection ended: a run that was not done fails with the reason. */
static void cb_closed(aq_conn *conn, const aq_close_info *ci, void *ud) {
  cli *c = ud;
  peer_diag_conn_closed(conn);
  cli_run *r = aq_conn_get_app_data(conn);
  if (r == NULL) {
    return;
  }
  r->closed = 1;
  r->conn = NULL;
  aq_conn_set_app_data(conn, NULL);
  if (!r->done && !r->failed) {
    char d[200];
    snprintf(d, sizeof(d), "%s by_peer=%d idle_timeout=%d app=%d code=0x%llx err=%s reason=%.*s",
             r->hs_done ? "connection lost:" : "handshake:", ci->by_peer, ci->idle_timeout,
             ci->is_app, (unsigned long long)ci->code, ci->err ? aq_strerror(ci->err) : "-",
             (int)(ci->reasonlen > 64 ? 64 : ci->reasonlen),
             ci->reason != NULL ? (const char *)ci->reason : "");
    run_fail(c, r, "%s", d);
  }
}

/* ------------------------------------------------------------------ main */

/* Run one connection to completion; 0 or -1 (r->err says why). */
static int do_run(cli *c, const aq_addr *server, cli_run *r) {
  r->next = c->runs;
  c->runs = r;
  c->cur = r;
  r->t_start = node_now();
  int rc = node_ep_connect(c->e, server, &r->conn);
  if (rc != 0) {
    run_fail(c, r, "connect: %s", aq_strerror(rc));
    return -1;
  }
  aq_conn_set_app_data(r->conn, r);
  if (c->o->resume && c->sess != NULL) {
    rc = aq_conn_set_session(r->conn, c->sess, c->sesslen);
    if (rc != 0) {
      run_fail(c, r, "set_session: %s", aq_strerror(rc));
      return -1;
    }
    /* With 0-RTT keys the stream opens now and the request goes out as early data. */
    if (r->kind != CLI_DATAGRAM && aq_conn_open_stream(r->conn, 1, &r->sid) == 0) {
      r->sid_open = 1;
      pump(c, r);
    }
  }
  aq_tstamp deadline = r->t_start + c->o->run_timeout_ms * AQ_MILLISECONDS;
  r->ku_mark = c->o->key_update;
  while (!r->done && !r->failed) {
    aq_tstamp now = node_now();
    if (r->kind == CLI_DATAGRAM && r->hs_done && r->dg_next != 0 && now >= r->dg_next) {
      if (r->dg_tries == 3) {
        run_fail(c, r, "%s", "no datagram echo after 3 tries");
        break;
      }
      aq_ssize w = aq_conn_send_datagram(r->conn, r->src, (size_t)r->src_len);
      if (w < 0) {
        run_fail(c, r, "send_datagram: %s", aq_strerror((int)w));
        break;
      }
      r->dg_tries++;
      r->dg_next = now + 500 * AQ_MILLISECONDS;
    }
    if (r->ku_due && r->conn != NULL) {
      rc = aq_conn_initiate_key_update(r->conn, now);
      if (rc == 0) {
        r->ku_done++;
        r->ku_due = 0;
        while (r->ku_mark <= r->recvd) {
          r->ku_mark += c->o->key_update;
        }
      } else if (rc != AQ_ERR_STATE) {
        run_fail(c, r, "key update: %s", aq_strerror(rc));
        break;
      } /* AQ_ERR_STATE: the previous update is not confirmed yet; retry at the next data */
    }
    aq_tstamp until = deadline;
    if (r->kind == CLI_DATAGRAM && r->dg_next != 0 && r->dg_next < until) {
      until = r->dg_next;
    }
    rc = node_ep_run(c->e, until);
    if (rc == AQ_ERR_TIMEOUT && node_now() >= deadline) {
      run_fail(c, r, "%s", r->hs_done ? "timed out" : "handshake timed out");
    } else if (rc != 0 && rc != AQ_ERR_TIMEOUT) {
      run_fail(c, r, "endpoint failed: %s", aq_strerror(rc));
    }
  }
  if (r->conn != NULL) {
    aq_conn_stats st;
    aq_conn_get_stats(r->conn, &st);
    r->ku_total = st.key_updates;
    r->ecn_state = st.ecn_state;
    r->resumed = aq_conn_is_resumed(r->conn) != 0;
    r->early = aq_conn_early_data_state(r->conn);
    aq_conn_close(r->conn, 0, (const uint8_t *)"done", 4, node_now());
  }
  c->cur = NULL;
  return r->done ? 0 : -1;
}

/* A new run of the mode the flags ask for (connections_mode: small echo). */
static cli_run *new_run(cli *c, int connections_mode) {
  const peer_opts *o = c->o;
  cli_run *r = calloc(1, sizeof(*r));
  if (r == NULL) {
    return NULL;
  }
  if (!connections_mode && o->datagram != NULL) {
    r->kind = CLI_DATAGRAM;
    r->src = (const uint8_t *)o->datagram;
    r->src_len = strlen(o->datagram);
  } else if (!connections_mode && o->download >= 0) {
    r->kind = CLI_DOWNLOAD;
    int n = snprintf(r->req, sizeof(r->req), "%llu\n", (unsigned long long)o->download);
    r->src = (const uint8_t *)r->req;
    r->src_len = (uint64_t)n;
    r->expect = (uint64_t)o->download;
  } else if (!connections_mode && o->echo_bytes >= 0) {
    r->kind = CLI_ECHO;
    r->src = NULL;
    r->src_len = r->expect = (uint64_t)o->echo_bytes;
  } else {
    r->kind = CLI_ECHO;
    r->src = (const uint8_t *)o->message;
    r->src_len = r->expect = strlen(o->message);
  }
  return r;
}

/* A short name of an AQ_EARLY_DATA_* state. */
static const char *early_name(int st) {
  switch (st) {
  case AQ_EARLY_DATA_NONE: return "none";
  case AQ_EARLY_DATA_OFFERED: return "offered";
  case AQ_EARLY_DATA_ACCEPTED: return "accepted";
  case AQ_EARLY_DATA_REJECTED: return "rejected";
  default: return "?";
  }
}

/* qsort comparator for doubles. */
static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y ? 1 : 0;
}

/* Let closing connections finish (quinn-peer's wait_idle), at most 3 s. */
static void wait_idle(cli *c) {
  aq_tstamp end = node_now() + 3 * AQ_SECONDS;
  while (aq_ep_conn_count(node_ep_aq(c->e)) > 0 && node_now() < end) {
    int rc = node_ep_run(c->e, node_now() + 20 * AQ_MILLISECONDS);
    if (rc != 0 && rc != AQ_ERR_TIMEOUT) {
      break;
    }
  }
}

int peer_client_main(const peer_opts *o) {
  aq_addr server;
  if (peer_resolve(o->connect, &server) != 0) {
    fprintf(stderr, "error: cannot resolve %s\n", o->connect);
    return 1;
  }
  cli c;
  memset(&c, 0, sizeof(c));
  c.o = o;
  c.rbuf = malloc(CLI_RBUF);
  if (c.rbuf == NULL) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  aq_settings s;
  uint16_t suites[3], groups[4];
  peer_settings(o, &s, suites, groups);
  s.server_name = o->server_name;
  aq_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.handshake_completed = cb_hs;
  cb.stream_data = cb_stream_data;
  cb.stream_writable = cb_writable;
  cb.stream_stop_sending = cb_stop_sending;
  cb.conn_closed = cb_closed;
  cb.datagram_recv = cb_datagram;
  cb.new_session = cb_new_session;
  peer_diag_settings(&s, &cb);
  node_ep_opts eo;
  memset(&eo, 0, sizeof(eo));
  eo.ecn = o->ecn;
  aq_addr bind;
  (void)aq_addr_parse(&bind, server.family == AQ_AF_INET6 ? "[::]:0" : "0.0.0.0:0", 0);
  int rc = node_ep_new_ex(&c.e, &bind, 1, &s, &cb, &c, 0, &eo);
  if (rc != 0) {
    fprintf(stderr, "error: cannot open a UDP socket: %s\n", aq_strerror(rc));
    free(c.rbuf);
    return 1;
  }
  int exit_code = 0;
  double *rates = NULL;
  size_t nrates = 0;
  if (o->connections >= 0) {
    aq_tstamp t0 = node_now();
    uint64_t nresumed = 0, nearly = 0;
    for (int64_t i = 0; i < o->connections; i++) {
      cli_run *r = new_run(&c, 1);
      if (r == NULL || do_run(&c, &server, r) != 0) {
        fprintf(stderr, "error: connection %lld: %s\n", (long long)i,
                r != NULL ? r->err : "out of memory");
        exit_code = 1;
        break;
      }
      nresumed += r->resumed != 0;
      nearly += r->early == AQ_EARLY_DATA_ACCEPTED;
    }
    if (exit_code == 0) {
      double secs = (double)(node_now() - t0) / 1e9;
      printf("RESULT handshakes impl=ant-quic connections=%lld secs=%.3f conn_per_sec=%.1f",
             (long long)o->connections, secs, secs > 0 ? (double)o->connections / secs : 0.0);
      if (o->resume) {
        printf(" resumed=%llu early_data_accepted=%llu", (unsigned long long)nresumed,
               (unsigned long long)nearly);
      }
      printf("\n");
    }
  } else {
    rates = calloc(o->runs, sizeof(double));
    for (uint64_t run = 1; rates != NULL && run <= o->runs; run++) {
      cli_run *r = new_run(&c, 0);
      if (r == NULL || do_run(&c, &server, r) != 0) {
        fprintf(stderr, "error: %s\n", r != NULL ? r->err : "out of memory");
        exit_code = 1;
        break;
      }
      double hs_ms = (double)(r->t_hs - r->t_start) / 1e6;
      double secs = (double)(r->t_done - r->t_op) / 1e9;
      if (secs <= 0) {
        secs = 1e-9;
      }
      if (r->kind == CLI_DOWNLOAD) {
        double mbit = (double)r->recvd * 8.0 / secs / 1e6;
        rates[nrates++] = mbit;
        printf("RESULT download impl=ant-quic run=%llu bytes=%llu secs=%.3f mbit_per_s=%.1f "
               "MiB_per_s=%.1f handshake_ms=%.2f",
               (unsigned long long)run, (unsigned long long)r->recvd, secs, mbit,
               (double)r->recvd / secs / 1048576.0, hs_ms);
      } else if (r->kind == CLI_DATAGRAM) {
        printf("RESULT datagram impl=ant-quic run=%llu bytes=%llu ok secs=%.3f handshake_ms=%.2f",
               (unsigned long long)run, (unsigned long long)r->src_len, secs, hs_ms);
      } else {
        printf("RESULT echo impl=ant-quic run=%llu bytes=%llu ok secs=%.3f handshake_ms=%.2f "
               "alpn=%s",
               (unsigned long long)run, (unsigned long long)r->src_len, secs, hs_ms, r->alpn);
      }
      if (o->key_update != 0) {
        /* key_updates: every 1-RTT key update of the connection (either side); initiated: ours */
        printf(" key_updates=%llu initiated=%llu", (unsigned long long)r->ku_total,
               (unsigned long long)r->ku_done);
      }
      if (o->resume) {
        printf(" resumed=%d early_data=%s", r->resumed, early_name(r->early));
      }
      if (o->ecn) {
        printf(" ecn=%s", peer_ecn_state_name(r->ecn_state));
      }
      printf("\n");
    }
    if (rates == NULL) {
      fprintf(stderr, "error: out of memory\n");
      exit_code = 1;
    }
    if (exit_code == 0 && nrates > 0) {
      qsort(rates, nrates, sizeof(double), cmp_double);
      double med =
          nrates % 2 ? rates[nrates / 2] : (rates[nrates / 2 - 1] + rates[nrates / 2]) / 2.0;
      printf("SUMMARY download impl=ant-quic runs=%zu median_mbit_per_s=%.1f min=%.1f max=%.1f\n",
             nrates, med, rates[0], rates[nrates - 1]);
    }
  }
  wait_idle(&c);
  free(rates);
  node_ep_del(c.e);
  while (c.runs != NULL) {
    cli_run *n = c.runs->next;
    free(c.runs);
    c.runs = n;
  }
  if (c.sess != NULL) {
    aq_memzero(c.sess, c.sesslen);
    free(c.sess);
  }
  free(c.rbuf);
  return exit_code;
}
