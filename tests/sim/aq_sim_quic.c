/*
 * aq_sim_quic.c - simulator adapter and pattern application for QUIC tests
 * (see aq_sim_quic.h).
 */
#include "aq_sim_quic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_crypto.h"
#include "aq_test.h"
#include "aq_tls_cert.h"

uint8_t aq_simq_pattern(uint64_t id, uint64_t off) {
  return (uint8_t)((off * 31u) ^ (id * 7u) ^ (off >> 9));
}

static int q_rand(uint8_t *buf, size_t len, void *ud) {
  aq_simq *q = ud;
  return aq_sim_rand_bytes(buf, len, q->sim);
}

aq_simq_stream *aq_simq_stream_of(aq_simq *q, uint64_t id) {
  size_t t = (size_t)(id & 3u);
  size_t ord = (size_t)(id >> 2);
  if (ord >= q->stcap[t]) {
    size_t ncap = q->stcap[t] ? q->stcap[t] : 16;
    while (ncap <= ord) {
      ncap *= 2;
    }
    q->st[t] = realloc(q->st[t], ncap * sizeof(aq_simq_stream));
    if (q->st[t] == NULL) {
      abort();
    }
    memset(q->st[t] + q->stcap[t], 0, (ncap - q->stcap[t]) * sizeof(aq_simq_stream));
    q->stcap[t] = ncap;
  }
  aq_simq_stream *s = &q->st[t][ord];
  if (!s->used) {
    s->used = 1;
    s->id = id;
  }
  return s;
}

static void cb_new_conn(aq_ep *ep, aq_conn *conn, void *ud) {
  (void)ep;
  aq_simq *q = ud;
  q->conn = conn;
  if (q->new_conn_hook != NULL) {
    q->new_conn_hook(q, conn);
  }
}

static void cb_hs(aq_conn *conn, void *ud) {
  (void)conn;
  aq_simq *q = ud;
  q->hs_done = 1;
  q->hs_done_ts = aq_sim_now(q->sim);
}

static void cb_stream_open(aq_conn *conn, uint64_t id, void *ud) {
  (void)conn;
  aq_simq *q = ud;
  (void)aq_simq_stream_of(q, id);
  q->streams_opened_by_peer++;
}

static void cb_stream_data(aq_conn *conn, uint64_t id, void *ud) {
  aq_simq *q = ud;
  aq_simq_stream *s = aq_simq_stream_of(q, id);
  if (q->no_read) {
    return;
  }
  uint8_t buf[16384];
  size_t chunk = q->read_chunk ? (size_t)q->read_chunk : sizeof(buf);
  if (chunk > sizeof(buf)) {
    chunk = sizeof(buf);
  }
  for (;;) {
    int fin = 0;
    aq_ssize n = aq_conn_stream_read(conn, id, buf, chunk, &fin);
    if (n == AQ_ERR_CLOSED) {
      s->reset_recvd = 1;
      if (aq_conn_stream_reset_code(conn, id, &s->reset_code) != 0) {
        q->io_err = 1;
      }
      return;
    }
    if (n < 0) {
      q->io_err = 1;
      return;
    }
    for (aq_ssize i = 0; i < n; i++) {
      if (buf[i] != aq_simq_pattern(id, s->recvd + (uint64_t)i)) {
        s->bad = 1;
      }
    }
    s->recvd += (uint64_t)n;
    q->total_recv += (uint64_t)n;
    if (q->echo && !AQ_STREAM_IS_UNI(id)) {
      s->to_send += (uint64_t)n;
    }
    if (fin && !s->fin_recvd) {
      s->fin_recvd = 1;
      q->fins_recv++;
      if (q->echo && !AQ_STREAM_IS_UNI(id)) {
        s->fin = 1;
      }
    }
    if (n == 0 || fin) {
      return;
    }
  }
}

static void cb_stream_close(aq_conn *conn, uint64_t id, void *ud) {
  (void)conn;
  (void)id;
  aq_simq *q = ud;
  q->streams_closed++;
}

static int cb_verify(aq_conn *conn, const uint8_t *spki, size_t spkilen, const uint8_t *cert,
                     size_t certlen, void *ud) {
  (void)conn;
  (void)cert;
  (void)certlen;
  aq_simq *q = ud;
  q->verify_calls++;
  if (q->pin == NULL) {
    return 0;
  }
  return (spkilen == q->pinlen && memcmp(spki, q->pin, spkilen) == 0) ? 0 : -1;
}

static void cb_closed(aq_conn *conn, const aq_close_info *ci, void *ud) {
  (void)conn;
  aq_simq *q = ud;
  q->closed = 1;
  q->closed_ts = aq_sim_now(q->sim);
  q->close = *ci;
  size_t n = ci->reasonlen < sizeof(q->close_reason) ? ci->reasonlen : sizeof(q->close_reason);
  if (n > 0) {
    memcpy(q->close_reason, ci->reason, n);
  }
  q->close.reason = q->close_reason;
  q->close.reasonlen = n;
  if (getenv("AQ_CONN_DEBUG") != NULL) {
    fprintf(stderr, "%s closed t=%.6f by_peer=%d idle=%d app=%d code=0x%llx err=%d reason=%.*s\n",
            q->is_server ? "server" : "client", (double)(q->closed_ts - AQ_SIM_ORIGIN) / 1e9,
            ci->by_peer, ci->idle_timeout, ci->is_app, (unsigned long long)ci->code, ci->err,
            (int)n, (const char *)q->close_reason);
  }
}

void aq_simq_init(aq_simq *q, aq_sim *sim, aq_sim_host *host, int is_server, uint8_t seedbyte) {
  memset(q, 0, sizeof(*q));
  q->sim = sim;
  q->host = host;
  q->is_server = is_server;
  aq_settings_default(&q->set);
  q->groups[0] = 0x001d; /* X25519 */
  q->set.tls_groups = q->groups;
  q->set.ntls_groups = 1;
  aq_test_ed25519_init(&q->id, seedbyte);
  q->set.cred = &q->id.cred;
  q->set.offer_rpk = 1;
  q->set.allow_x509 = 0;
  memset(&q->cb, 0, sizeof(q->cb));
  q->cb.rand = q_rand;
  q->cb.new_conn = cb_new_conn;
  q->cb.handshake_completed = cb_hs;
  q->cb.stream_open = cb_stream_open;
  q->cb.stream_data = cb_stream_data;
  q->cb.stream_close = cb_stream_close;
  q->cb.conn_closed = cb_closed;
  q->cb.verify_peer = cb_verify;
}

void aq_simq_pump(aq_simq *q) {
  if (q->conn == NULL || q->closed) {
    return;
  }
  uint8_t buf[4096];
  for (size_t t = 0; t < 4; t++) {
    for (size_t i = 0; i < q->stcap[t]; i++) {
      aq_simq_stream *s = &q->st[t][i];
      if (!s->used || s->fin_sent) {
        continue;
      }
      while (s->sent < s->to_send) {
        size_t n = sizeof(buf);
        if (s->to_send - s->sent < n) {
          n = (size_t)(s->to_send - s->sent);
        }
        for (size_t k = 0; k < n; k++) {
          buf[k] = aq_simq_pattern(s->id, s->sent + k);
        }
        aq_ssize w = aq_conn_stream_write(q->conn, s->id, buf, n, 0);
        if (w < 0) {
          q->io_err = 1;
          break;
        }
        s->sent += (uint64_t)w;
        if ((size_t)w < n) {
          break;
        }
      }
      if (s->fin && s->sent == s->to_send && !s->fin_sent) {
        if (aq_conn_stream_shutdown(q->conn, s->id) == 0) {
          s->fin_sent = 1;
        } else {
          q->io_err = 1;
        }
      }
    }
  }
}

static void ad_recv(void *ep, aq_tstamp now, const aq_addr *from, const aq_addr *to,
                    const uint8_t *data, size_t len) {
  aq_simq *q = ep;
  aq_path p = {*to, *from};
  if (aq_ep_read(q->ep, &p, data, len, now) != 0) {
    q->io_err = 1;
  }
}

static size_t ad_send(void *ep, aq_tstamp now, aq_addr *from, aq_addr *to, uint8_t *buf,
                      size_t cap) {
  aq_simq *q = ep;
  aq_simq_pump(q);
  aq_path p;
  aq_ssize n = aq_ep_write(q->ep, &p, buf, cap, now);
  if (n < 0) {
    q->io_err = 1;
    return 0;
  }
  if (n == 0) {
    return 0;
  }
  *from = p.local;
  *to = p.remote;
  return (size_t)n;
}

static aq_tstamp ad_expiry(void *ep) {
  aq_simq *q = ep;
  return aq_ep_get_expiry(q->ep);
}

static void ad_handle(void *ep, aq_tstamp now) {
  aq_simq *q = ep;
  int client_had = q->conn != NULL && !q->is_server;
  if (aq_ep_handle_expiry(q->ep, now) != 0) {
    q->io_err = 1;
  }
  if (client_had && aq_ep_conn_count(q->ep) == 0) {
    q->conn = NULL; /* reaped */
  }
  if (q->is_server && q->conn != NULL && aq_ep_conn_count(q->ep) == 0) {
    q->conn = NULL;
  }
}

static const aq_sim_ep_ops simq_ops = {ad_recv, ad_send, ad_expiry, ad_handle};

void aq_simq_start(aq_simq *q) {
  if (q->certlen > 0) {
    q->id.cred.cert = q->cert;
    q->id.cred.certlen = q->certlen;
  }
  q->ep = aq_ep_new(&q->set, &q->cb, q, NULL, q->is_server);
  if (q->ep == NULL) {
    abort();
  }
  aq_sim_host_attach(q->host, &simq_ops, q);
}

void aq_simq_connect(aq_simq *q, const aq_addr *server) {
  aq_path p = {*aq_sim_host_addr(q->host, 0), *server};
  if (aq_ep_connect(q->ep, &p, aq_sim_now(q->sim), &q->conn) != 0) {
    abort();
  }
}

aq_simq_stream *aq_simq_open(aq_simq *q, int bidi, uint64_t bytes, int fin) {
  uint64_t id;
  if (q->conn == NULL || aq_conn_open_stream(q->conn, bidi, &id) != 0) {
    return NULL;
  }
  aq_simq_stream *s = aq_simq_stream_of(q, id);
  s->to_send = bytes;
  s->fin = fin;
  return s;
}

void aq_simq_free(aq_simq *q) {
  if (q->host != NULL) {
    aq_sim_host_attach(q->host, NULL, NULL);
  }
  aq_ep_del(q->ep);
  for (size_t t = 0; t < 4; t++) {
    free(q->st[t]);
  }
  memset(q, 0, sizeof(*q));
}

void aq_simq_pair_init(aq_simq_pair *p, uint64_t seed, const aq_sim_link_params *lp) {
  memset(p, 0, sizeof(*p));
  p->sim = aq_sim_new(seed);
  p->caddr = aq_sim_ip4(198, 51, 100, 2, 50000);
  p->saddr = aq_sim_ip4(192, 0, 2, 1, 443);
  p->ch = aq_sim_host_add(p->sim, "client", NULL, &p->caddr, lp, lp);
  p->sh = aq_sim_host_add(p->sim, "server", NULL, &p->saddr, lp, lp);
  aq_simq_init(&p->c, p->sim, p->ch, 0, 0x11);
  aq_simq_init(&p->s, p->sim, p->sh, 1, 0x22);
  p->s.echo = 1;
}

void aq_simq_pair_start(aq_simq_pair *p) {
  aq_simq_start(&p->s);
  aq_simq_start(&p->c);
  aq_simq_connect(&p->c, &p->saddr);
}

void aq_simq_pair_free(aq_simq_pair *p) {
  aq_simq_free(&p->c);
  aq_simq_free(&p->s);
  aq_sim_del(p->sim);
}

int aq_simq_pair_hs_done(void *arg) {
  aq_simq_pair *p = arg;
  return p->c.hs_done && p->s.hs_done;
}
