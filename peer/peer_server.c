/*
 * peer_server.c - ant-quic-peer server: accepts connections on one node_ep
 * and serves every bidirectional stream the client opens: "N\n" -> N bytes
 * of the i mod 256 pattern then FIN, anything else -> echo then FIN after
 * the client's FIN.  Back-pressure: an echo stream reads only what it could
 * write (the rest waits in the stream, so flow control slows the client);
 * a download writes until the send buffer is full and continues from
 * stream_writable.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

#define SRV_BUF 65536

/* SIGINT/SIGTERM: set the flag and wake the loop (node_ep_stop is async-signal-safe). */
static volatile sig_atomic_t g_signalled;
static node_ep *volatile g_srv_ep;

/* SIGINT/SIGTERM handler. */
static void on_signal(int sig) {
  (void)sig;
  g_signalled = 1;
  node_ep *e = g_srv_ep;
  if (e != NULL) {
    node_ep_stop(e);
  }
}
typedef enum srv_mode { SRV_HEAD = 0, SRV_ECHO, SRV_DOWNLOAD } srv_mode;

typedef struct srv_stream {
  struct srv_stream *next;
  uint64_t id;
  srv_mode mode;
  uint8_t *buf; /* head / echo bytes read but not yet written */
  size_t off, len;
  int rx_fin;   /* the client's FIN was read */
  int fin_sent; /* our FIN is queued */
  int dead;     /* reset by the peer or a write failed: only drain */
  uint64_t dl_left, dl_sent;
} srv_stream;

typedef struct srv_conn {
  struct srv_conn *prev, *next; /* every live connection (freed at exit) */
  aq_conn *conn;
  uint64_t ku_mark; /* --key-update: initiate one when stream bytes sent reach this */
  int ku_due;
  srv_stream *streams;
  int hs_done;
} srv_conn;

typedef struct srv {
  const peer_opts *o;
  node_ep *e;
  uint64_t served; /* connections accepted */
  uint64_t active; /* accepted and not yet closed */
  srv_conn *conns;
  int failed;
  int ku_pending; /* a connection wants a key update initiated */
  int done;       /* --exit-after reached */
} srv;

/* The state of stream id on sc (created when create != 0); NULL if absent or out of memory. */
static srv_stream *stream_get(srv_conn *sc, uint64_t id, int create) {
  for (srv_stream *s = sc->streams; s != NULL; s = s->next) {
    if (s->id == id) {
      return s;
    }
  }
  if (!create) {
    return NULL;
  }
  srv_stream *s = calloc(1, sizeof(*s));
  if (s == NULL) {
    return NULL;
  }
  s->buf = malloc(SRV_BUF);
  if (s->buf == NULL) {
    free(s);
    return NULL;
  }
  s->id = id;
  s->next = sc->streams;
  sc->streams = s;
  return s;
}

/* Forget stream id of sc. */
static void stream_free(srv_conn *sc, uint64_t id) {
  for (srv_stream **pp = &sc->streams; *pp != NULL; pp = &(*pp)->next) {
    if ((*pp)->id == id) {
      srv_stream *s = *pp;
      *pp = s->next;
      free(s->buf);
      free(s);
      return;
    }
  }
}

/* Unlink sc from the live list and free it with its streams. */
static void conn_free(srv *sv, srv_conn *sc) {
  if (sc->prev != NULL) {
    sc->prev->next = sc->next;
  } else {
    sv->conns = sc->next;
  }
  if (sc->next != NULL) {
    sc->next->prev = sc->prev;
  }
  while (sc->streams != NULL) {
    stream_free(sc, sc->streams->id);
  }
  free(sc);
}

/*
 * Classify the first bytes: 1 = download of *n bytes, 0 = echo, -1 = need
 * more (quinn-peer's classify: up to 19 digits then '\n').
 */
static int classify(const uint8_t *h, size_t len, int fin, uint64_t *n) {
  for (size_t i = 0; i < len; i++) {
    if (h[i] >= '0' && h[i] <= '9' && i < 19) {
      continue;
    }
    if (h[i] == '\n' && i > 0) {
      uint64_t v = 0;
      for (size_t k = 0; k < i; k++) {
        uint64_t d = (uint64_t)(h[k] - '0');
        if (v > (UINT64_MAX - d) / 10) {
          return 0; /* does not fit: quinn-peer would fail the stream; echo instead */
        }
        v = v * 10 + d;
      }
      *n = v;
      return 1;
    }
    return 0;
  }
  return (fin || len >= 20) ? 0 : -1;
}

/* Write download bytes until the send buffer is full; FIN at the end. */
static void pump_download(aq_conn *conn, srv_stream *s) {
  while (s->dl_left > 0) {
    size_t k = s->dl_left < PEER_PATTERN_LEN ? (size_t)s->dl_left : PEER_PATTERN_LEN;
    aq_ssize w = aq_conn_stream_write(conn, s->id, peer_pattern + (s->dl_sent & 255u), k, 0);
    if (w < 0) {
      s->dead = 1;
      return;
    }
    s->dl_left -= (uint64_t)w;
    s->dl_sent += (uint64_t)w;
    if ((size_t)w < k) {
      return;
    }
  }
  if (!s->fin_sent) {
    s->fin_sent = 1;
    if (aq_conn_stream_shutdown(conn, s->id) != 0) {
      s->dead = 1;
    }
  }
}

/* Read up to cap bytes into buf + len; the byte count, or -1 (stream dead). */
static aq_ssize read_in(aq_conn *conn, srv_stream *s, size_t cap) {
  int fin = 0;
  aq_ssize n = aq_conn_stream_read(conn, s->id, s->buf + s->len, cap, &fin);
  if (n < 0) {
    s->dead = 1; /* reset by the peer (or gone) */
    return -1;
  }
  s->len += (size_t)n;
  if (fin) {
    s->rx_fin = 1;
  }
  return n;
}

/* Read what arrived and make progress: classify, echo (bounded by what can be written), drain. */
static void serve(aq_conn *conn, srv_stream *s) {
  while (!s->dead) {
    /* 1. output */
    if (s->mode == SRV_ECHO) {
      while (s->off < s->len) {
        aq_ssize w = aq_conn_stream_write(conn, s->id, s->buf + s->off, s->len - s->off, 0);
        if (w < 0) {
          s->dead = 1;
          return;
        }
        if (w == 0) {
          return; /* send buffer full: stream_writable resumes */
        }
        s->off += (size_t)w;
      }
      s->off = s->len = 0;
      if (s->rx_fin) {
        if (!s->fin_sent) {
          s->fin_sent = 1;
          if (aq_conn_stream_shutdown(conn, s->id) != 0) {
            s->dead = 1;
          }
        }
        return;
      }
    } else if (s->mode == SRV_DOWNLOAD) {
      pump_download(conn, s);
      s->len = 0; /* the rest of the request is read and discarded */
    }
    if (s->rx_fin) {
      return;
    }
    /* 2. input */
    size_t cap = SRV_BUF - s->len;
    aq_ssize n = read_in(conn, s, cap);
    if (n < 0) {
      return;
    }
    int fin = s->rx_fin;
    if (s->mode == SRV_HEAD) {
      uint64_t dl = 0;
      int c = classify(s->buf, s->len, s->rx_fin, &dl);
      if (c == 1) {
        s->mode = SRV_DOWNLOAD;
        s->dl_left = dl;
        s->len = 0;
      } else if (c == 0) {
        s->mode = SRV_ECHO;
        s->off = 0;
      }
    }
    if (n == 0 && !fin) {
      return;
    }
  }
}

/* --key-update: past the next mark, ask the main loop to initiate one (not allowed in callbacks).
 */
static void ku_check(srv *sv, aq_conn *conn, srv_conn *sc) {
  if (sv->o->key_update == 0 || sc == NULL) {
    return;
  }
  aq_conn_stats st;
  aq_conn_get_stats(conn, &st);
  if (st.stream_bytes_sent >= sc->ku_mark) {
    sc->ku_due = 1;
    sv->ku_pending = 1;
    node_ep_stop(sv->e);
  }
}

/* Initiate the key updates callbacks asked for (outside callbacks). */
static void ku_run(srv *sv) {
  sv->ku_pending = 0;
  for (srv_conn *sc = sv->conns; sc != NULL; sc = sc->next) {
    if (!sc->ku_due) {
      continue;
    }
    int rc = aq_conn_initiate_key_update(sc->conn, node_now());
    if (rc == 0) {
      sc->ku_due = 0;
      aq_conn_stats st;
      aq_conn_get_stats(sc->conn, &st);
      while (sc->ku_mark <= st.stream_bytes_sent) {
        sc->ku_mark += sv->o->key_update;
      }
    } else if (rc != AQ_ERR_STATE) {
      sc->ku_due = 0; /* closed: nothing more to do */
    } /* AQ_ERR_STATE: the previous update is unconfirmed; retried after the next callback */
  }
}

/* ------------------------------------------------------------- callbacks */

/* A client connection was created: attach its state. */
static void cb_new_conn(aq_ep *ep, aq_conn *conn, void *ud) {
  (void)ep;
  srv *sv = ud;
  srv_conn *sc = calloc(1, sizeof(*sc));
  if (sc == NULL) {
    aq_conn_close(conn, 1, (const uint8_t *)"oom", 3, node_now());
    return;
  }
  aq_conn_set_app_data(conn, sc);
  sc->conn = conn;
  sc->ku_mark = sv->o->key_update;
  sc->next = sv->conns;
  if (sv->conns != NULL) {
    sv->conns->prev = sc;
  }
  sv->conns = sc;
  sv->served++;
  sv->active++;
}

/*
 * Handshake done: log the peer and what was negotiated (like quinn-peer, once
 * the handshake is complete, and in one write: stderr is unbuffered, and this
 * runs while a client waits for our reply).
 */
static void cb_hs(aq_conn *conn, void *ud) {
  srv *sv = ud;
  srv_conn *sc = aq_conn_get_app_data(conn);
  if (sc != NULL) {
    sc->hs_done = 1;
  }
  if (!sv->o->quiet) {
    char a[AQ_ADDR_STRLEN], line[AQ_ADDR_STRLEN + 160];
    const char *alpn = aq_conn_get_alpn(conn, NULL);
    uint16_t suite = aq_conn_get_cipher_suite(conn);
    /* The second line ends in retry=N unless resumed (scripts anchor on it). */
    int n = snprintf(line, sizeof(line),
                     "connection from %s\nhandshake done suite=%s group=0x%04x alpn=%s retry=%d",
                     aq_addr_format(a, sizeof(a), &aq_conn_get_path(conn)->remote),
                     peer_suite_name(suite), aq_conn_get_group(conn), alpn != NULL ? alpn : "?",
                     aq_conn_used_retry(conn));
    if (n > 0 && (size_t)n < sizeof(line) && aq_conn_is_resumed(conn)) {
      n += snprintf(line + n, sizeof(line) - (size_t)n, " resumed=1 early_data=%d",
                    aq_conn_early_data_state(conn) == AQ_EARLY_DATA_ACCEPTED);
    }
    if (n > 0 && (size_t)n < sizeof(line)) {
      fprintf(stderr, "%s\n", line);
    }
  }
}

/* Data, FIN or reset on a stream: serve it (client uni streams are drained). */
static void cb_stream_data(aq_conn *conn, uint64_t id, void *ud) {
  (void)ud;
  srv_conn *sc = aq_conn_get_app_data(conn);
  if (sc == NULL || AQ_STREAM_IS_UNI(id) || AQ_STREAM_IS_SERVER(id)) {
    uint8_t sink[4096];
    int fin = 0;
    while (aq_conn_stream_read(conn, id, sink, sizeof(sink), &fin) > 0) {
    }
    return;
  }
  srv_stream *s = stream_get(sc, id, 1);
  if (s == NULL) {
    aq_conn_close(conn, 1, (const uint8_t *)"oom", 3, node_now());
    return;
  }
  if (s->dead) {
    uint8_t sink[4096];
    int fin = 0;
    while (aq_conn_stream_read(conn, id, sink, sizeof(sink), &fin) > 0) {
    }
    return;
  }
  serve(conn, s);
  ku_check(ud, conn, sc);
}

/* Every DATAGRAM frame is sent back (dropped if the queue is full, like any datagram). */
static void cb_datagram(aq_conn *conn, const uint8_t *data, size_t len, void *ud) {
  srv *sv = ud;
  aq_ssize w = aq_conn_send_datagram(conn, data, len);
  if (w < 0 && !sv->o->quiet) {
    fprintf(stderr, "datagram echo dropped: %s\n", aq_strerror((int)w));
  }
}

/* Room in a stream send buffer: continue echo or download. */
static void cb_writable(aq_conn *conn, uint64_t id, void *ud) {
  (void)ud;
  srv_conn *sc = aq_conn_get_app_data(conn);
  srv_stream *s = sc != NULL ? stream_get(sc, id, 0) : NULL;
  if (s != NULL && !s->dead) {
    serve(conn, s);
    ku_check(ud, conn, sc);
  }
}

/* A stream is finished both ways: drop its state. */
static void cb_stream_close(aq_conn *conn, uint64_t id, void *ud) {
  (void)ud;
  srv_conn *sc = aq_conn_get_app_data(conn);
  if (sc != NULL) {
    stream_free(sc, id);
  }
}

/* A connection ended: log why, free its state, honour --exit-after. */
static void cb_closed(aq_conn *conn, const aq_close_info *ci, void *ud) {
  srv *sv = ud;
  peer_diag_conn_closed(conn);
  srv_conn *sc = aq_conn_get_app_data(conn);
  if (sc == NULL) {
    return;
  }
  aq_conn_set_app_data(conn, NULL);
  if (!sc->hs_done) {
    fprintf(stderr, "handshake failed: code=0x%llx err=%s reason=%.*s\n",
            (unsigned long long)ci->code, ci->err ? aq_strerror(ci->err) : "-", (int)ci->reasonlen,
            ci->reason != NULL ? (const char *)ci->reason : "");
  } else if (!sv->o->quiet && getenv("AQ_PEER_STATS") != NULL) {
    aq_conn_stats st;
    aq_conn_get_stats(conn, &st);
    fprintf(stderr,
            "stats: pkts_sent=%llu pkts_recv=%llu lost=%llu dropped=%llu srtt_us=%llu "
            "min_rtt_us=%llu cwnd=%llu stream_bytes_sent=%llu\n",
            (unsigned long long)st.pkts_sent, (unsigned long long)st.pkts_recv,
            (unsigned long long)st.pkts_lost, (unsigned long long)st.pkts_dropped,
            (unsigned long long)(st.srtt / 1000), (unsigned long long)(st.min_rtt / 1000),
            (unsigned long long)st.cwnd, (unsigned long long)st.stream_bytes_sent);
  } else if (!sv->o->quiet && !(ci->is_app && ci->code == 0)) {
    fprintf(stderr, "connection ended: by_peer=%d idle=%d app=%d code=0x%llx err=%s\n", ci->by_peer,
            ci->idle_timeout, ci->is_app, (unsigned long long)ci->code,
            ci->err ? aq_strerror(ci->err) : "-");
  }
  if (sv->o->key_update != 0) {
    aq_conn_stats st;
    aq_conn_get_stats(conn, &st);
    fprintf(stderr, "connection closed key_updates=%llu stream_bytes_sent=%llu\n",
            (unsigned long long)st.key_updates, (unsigned long long)st.stream_bytes_sent);
  }
  if (sv->o->ecn && !sv->o->quiet) {
    aq_conn_stats st;
    aq_conn_get_stats(conn, &st);
    fprintf(stderr, "connection closed ecn=%s ect0_sent=%llu ce_reported=%llu\n",
            peer_ecn_state_name(st.ecn_state), (unsigned long long)st.ecn_ect0_sent,
            (unsigned long long)st.ecn_ce_reported);
  }
  conn_free(sv, sc);
  sv->active--;
  if (sv->o->exit_after >= 0 && sv->served >= (uint64_t)sv->o->exit_after && sv->active == 0) {
    sv->done = 1;
    node_ep_stop(sv->e);
  }
}

/*
 * The loop is about to sleep: write what the callbacks logged.  stderr is
 * fully buffered in the server, so log lines never delay a reply; they go
 * out here, once every datagram of the iteration has been sent.
 */
static void srv_on_idle(void *ud) {
  (void)ud;
  fflush(stderr);
}

int peer_server_main(const peer_opts *o) {
  static char errbuf[1 << 14];
  (void)setvbuf(stderr, errbuf, _IOFBF, sizeof(errbuf)); /* flushed by srv_on_idle and at exit */
  peer_cred cred;
  if (peer_cred_load(&cred, o->cert, o->key) != 0) {
    return 1;
  }
  srv sv;
  memset(&sv, 0, sizeof(sv));
  sv.o = o;
  aq_settings s;
  uint16_t suites[3], groups[4];
  peer_settings(o, &s, suites, groups);
  s.cred = &cred.cred;
  s.max_conns = 4096;
  aq_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.new_conn = cb_new_conn;
  cb.handshake_completed = cb_hs;
  cb.stream_data = cb_stream_data;
  cb.stream_writable = cb_writable;
  cb.stream_close = cb_stream_close;
  cb.conn_closed = cb_closed;
  cb.datagram_recv = cb_datagram;
  s.accept_early_data = !o->no_early_data; /* resuming clients may send 0-RTT data */
  peer_diag_settings(&s, &cb);
  node_ep_opts eo;
  memset(&eo, 0, sizeof(eo));
  eo.ecn = o->ecn;
  eo.on_idle = srv_on_idle;
  int rc = node_ep_new_ex(&sv.e, &o->listen, 1, &s, &cb, &sv, 1, &eo);
  if (rc != 0) {
    char a[AQ_ADDR_STRLEN];
    fprintf(stderr, "error: cannot listen on %s: %s\n", aq_addr_format(a, sizeof(a), &o->listen),
            aq_strerror(rc));
    peer_cred_free(&cred);
    return 1;
  }
  g_srv_ep = sv.e;
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) {
    fprintf(stderr, "warning: cannot catch SIGINT/SIGTERM\n");
  }
  if (!o->quiet) {
    aq_addr la;
    char a[AQ_ADDR_STRLEN];
    if (node_ep_local_addr(sv.e, 0, &la) == 0) {
      fprintf(stderr,
              "ant-quic-peer server listening on %s alpn=", aq_addr_format(a, sizeof(a), &la));
      for (size_t i = 0; i < o->nalpn; i++) {
        fprintf(stderr, "%s%s", i ? "," : "", o->alpn[i]);
      }
      fprintf(stderr, "%s\n", o->retry ? " retry=on" : "");
    }
  }
  fflush(stderr); /* scripts wait for the listening line */
  int exit_code = 0;
  rc = 0;
  while (o->exit_after != 0 && !sv.done && !g_signalled) {
    rc = node_ep_run(sv.e, AQ_TSTAMP_NEVER);
    if (rc != 0) {
      break;
    }
    if (sv.ku_pending) {
      ku_run(&sv);
    }
  }
  g_srv_ep = NULL;
  if (rc != 0 && rc != AQ_ERR_TIMEOUT) {
    fprintf(stderr, "error: endpoint failed: %s\n", aq_strerror(rc));
    exit_code = 1;
  }
  node_ep_del(sv.e); /* deletes connections without callbacks */
  while (sv.conns != NULL) {
    conn_free(&sv, sv.conns);
  }
  peer_cred_free(&cred);
  return exit_code;
}
