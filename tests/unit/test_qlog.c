/*
 * test_qlog.c - diagnostics: the JSON writer (structure, numbers, escapes,
 * overflow at every length, nesting limit), the qlog trace of a simulated
 * handshake + transfer + key update + close (parsed back as JSON-SEQ, every
 * event checked against the connection's counters), qlog off by default,
 * and the SSLKEYLOGFILE lines (shape, agreement between both ends, and
 * keys derived from them that decrypt the client's captured Handshake and
 * 1-RTT packets while a flipped secret does not).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_qlog.h"
#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

/* ------------------------------------------------------- JSON writer */

static size_t jw_sample(uint8_t *buf, size_t cap, int *err) {
  aq_wbuf w;
  aq_jw jw;
  aq_wbuf_init(&w, buf, cap);
  aq_jw_init(&jw, &w);
  aq_jw_obj_begin(&jw);
  aq_jw_key(&jw, "a");
  aq_jw_u64(&jw, 0);
  aq_jw_key(&jw, "b");
  aq_jw_u64(&jw, UINT64_MAX);
  aq_jw_key(&jw, "t");
  aq_jw_ms(&jw, 1234567); /* 1.234567 ms -> 1.234 */
  aq_jw_key(&jw, "t2");
  aq_jw_ms(&jw, 5 * AQ_SECONDS + 7 * AQ_MICROSECONDS);
  aq_jw_key(&jw, "arr");
  aq_jw_arr_begin(&jw);
  aq_jw_bool(&jw, 1);
  aq_jw_bool(&jw, 0);
  aq_jw_arr_begin(&jw);
  aq_jw_arr_end(&jw);
  aq_jw_obj_begin(&jw);
  aq_jw_obj_end(&jw);
  aq_jw_cstr(&jw, "x");
  aq_jw_arr_end(&jw);
  static const uint8_t odd[] = {'q', '"', '\\', '\n', 0x01, 0x1f, 0x7f, 0xc3, 0xa9, '/'};
  aq_jw_key(&jw, "s");
  aq_jw_str(&jw, odd, sizeof(odd));
  static const uint8_t hx[] = {0x00, 0xab, 0xff};
  aq_jw_key(&jw, "h");
  aq_jw_hex(&jw, hx, sizeof(hx));
  aq_jw_obj_end(&jw);
  *err = aq_wbuf_error(&w);
  return aq_wbuf_len(&w);
}

AQ_TEST(qlog_json_writer_exact) {
  uint8_t buf[512];
  int err;
  size_t n = jw_sample(buf, sizeof(buf), &err);
  CHECK_INT(err, 0);
  static const char want[] =
      "{\"a\":0,\"b\":18446744073709551615,\"t\":1.234,\"t2\":5000.007,"
      "\"arr\":[true,false,[],{},\"x\"],"
      "\"s\":\"q\\\"\\\\\\n\\u0001\\u001f\\u007f\\u00c3\\u00a9/\",\"h\":\"00abff\"}";
  CHECK_INT(n, sizeof(want) - 1);
  CHECK_MEM(buf, want, sizeof(want) - 1);
  /* It parses, and the escapes decode back. */
  aq_json *j = aq_json_parse((const char *)buf, n);
  REQUIRE(j != NULL);
  CHECK_INT(aq_json_get_int(j, "a", -1), 0);
  const aq_json *s = aq_json_get(j, "s");
  REQUIRE(s != NULL && s->type == AQ_JSON_STRING);
  CHECK(s->strlen >= 7);
  CHECK_MEM(s->str, "q\"\\\n\x01\x1f\x7f", 7);
  CHECK_INT(aq_json_get(j, "arr")->n, 5);
  aq_json_free(j);
}

AQ_TEST(qlog_json_writer_overflow_every_length) {
  uint8_t full[512];
  int err;
  size_t n = jw_sample(full, sizeof(full), &err);
  REQUIRE(err == 0);
  for (size_t cap = 0; cap < n; cap++) {
    uint8_t buf[512];
    size_t got = jw_sample(buf, cap, &err);
    CHECK(err != 0);
    CHECK(got <= cap);
  }
  CHECK_INT(jw_sample(full, n, &err), n);
  CHECK_INT(err, 0);
}

AQ_TEST(qlog_json_writer_depth_limit) {
  uint8_t buf[256];
  aq_wbuf w;
  aq_jw jw;
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_jw_init(&jw, &w);
  for (int i = 0; i < AQ_JW_MAX_DEPTH; i++) {
    aq_jw_arr_begin(&jw);
  }
  CHECK_INT(aq_wbuf_error(&w), 0);
  aq_jw_arr_begin(&jw);
  CHECK(aq_wbuf_error(&w) != 0);
  /* Closing more than opened is an error too. */
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_jw_init(&jw, &w);
  aq_jw_obj_end(&jw);
  CHECK(aq_wbuf_error(&w) != 0);
}

/* --------------------------------------------------- capture helpers */

typedef struct cap_side {
  uint8_t *qlog;
  size_t qlen, qcap;
  uint64_t qcalls;
  char lines[16][256];
  size_t nlines;
} cap_side;

static cap_side g_cap[2]; /* [0] client, [1] server */
static aq_simq_pair *g_pair;

static cap_side *side_of(const void *ud) {
  return ud == &g_pair->c ? &g_cap[0] : &g_cap[1];
}

static void cb_qlog(aq_conn *conn, const uint8_t *data, size_t len, void *ud) {
  (void)conn;
  cap_side *c = side_of(ud);
  if (c->qlen + len > c->qcap) {
    c->qcap = (c->qlen + len) * 2 + 4096;
    c->qlog = realloc(c->qlog, c->qcap);
    if (c->qlog == NULL) {
      abort();
    }
  }
  memcpy(c->qlog + c->qlen, data, len);
  c->qlen += len;
  c->qcalls++;
}

static void cb_keylog(aq_conn *conn, const char *line, void *ud) {
  (void)conn;
  cap_side *c = side_of(ud);
  if (c->nlines < 16 && strlen(line) < sizeof(c->lines[0])) {
    strcpy(c->lines[c->nlines++], line);
  }
}

static void cap_reset(aq_simq_pair *p) {
  for (int i = 0; i < 2; i++) {
    free(g_cap[i].qlog);
  }
  memset(g_cap, 0, sizeof(g_cap));
  g_pair = p;
}

/* Datagrams the client sent (for the decryption check). */
#define CAP_DGRAMS 64
static uint8_t g_dg[CAP_DGRAMS][1500];
static size_t g_dglen[CAP_DGRAMS];
static size_t g_ndg;

static void rec_recv(void *ep, aq_tstamp now, const aq_addr *from, const aq_addr *to,
                     const uint8_t *data, size_t len) {
  aq_simq *q = ep;
  aq_path p = {*to, *from};
  if (aq_ep_read(q->ep, &p, data, len, now) != 0) {
    q->io_err = 1;
  }
}

static size_t rec_send(void *ep, aq_tstamp now, aq_addr *from, aq_addr *to, uint8_t *buf,
                       size_t cap) {
  aq_simq *q = ep;
  aq_simq_pump(q);
  aq_path p;
  aq_ssize n = aq_ep_write(q->ep, &p, buf, cap, now);
  if (n <= 0) {
    if (n < 0) {
      q->io_err = 1;
    }
    return 0;
  }
  if (!q->is_server && g_ndg < CAP_DGRAMS && (size_t)n <= sizeof(g_dg[0])) {
    memcpy(g_dg[g_ndg], buf, (size_t)n);
    g_dglen[g_ndg++] = (size_t)n;
  }
  *from = p.local;
  *to = p.remote;
  return (size_t)n;
}

static aq_tstamp rec_expiry(void *ep) {
  aq_simq *q = ep;
  return aq_ep_get_expiry(q->ep);
}

static void rec_handle(void *ep, aq_tstamp now) {
  aq_simq *q = ep;
  if (aq_ep_handle_expiry(q->ep, now) != 0) {
    q->io_err = 1;
  }
}

static const aq_sim_ep_ops rec_ops = {rec_recv, rec_send, rec_expiry, rec_handle};

static int stream_done(void *arg) {
  aq_simq_stream *s = arg;
  return s->fin_recvd;
}

/* ------------------------------------------------------ qlog parsing */

typedef struct qlog_summary {
  int ok;
  size_t records;
  const char *vantage;
  uint64_t sent, recv, acked, lost, params_local, params_remote, keys, keys_local, keys_remote,
      closed, stream_frames, frames;
  char close_reason[128];
  size_t close_reasonlen;
  uint64_t close_code;
} qlog_summary;

static int name_is(const char *name, const char *ev) {
  return name != NULL && strncmp(name, "quic:", 5) == 0 && strcmp(name + 5, ev) == 0;
}

/** Split JSON-SEQ, parse each record, count the events.  s->ok = 0 on any format error. */
static void qlog_parse(const uint8_t *d, size_t len, qlog_summary *s) {
  memset(s, 0, sizeof(*s));
  s->ok = 1;
  size_t i = 0;
  double last_time = -1;
  static char vantage[16];
  while (i < len) {
    if (d[i] != 0x1e) {
      s->ok = 0;
      return;
    }
    size_t end = i + 1;
    while (end < len && d[end] != '\n') {
      if (d[end] == 0x1e || d[end] < 0x20) {
        s->ok = 0; /* raw control bytes never appear inside a record */
        return;
      }
      end++;
    }
    if (end >= len) {
      s->ok = 0; /* no LF */
      return;
    }
    aq_json *j = aq_json_parse((const char *)d + i + 1, end - i - 1);
    if (j == NULL || j->type != AQ_JSON_OBJECT) {
      s->ok = 0;
      aq_json_free(j);
      return;
    }
    if (s->records == 0) {
      const aq_json *tr = aq_json_get(j, "trace");
      const aq_json *vp = tr != NULL ? aq_json_get(tr, "vantage_point") : NULL;
      const char *fs = aq_json_get_str(j, "file_schema");
      const char *vt = vp != NULL ? aq_json_get_str(vp, "type") : NULL;
      if (fs == NULL || strcmp(fs, "urn:ietf:params:qlog:file:sequential") != 0 || vt == NULL ||
          strlen(vt) >= sizeof(vantage)) {
        s->ok = 0;
      } else {
        strcpy(vantage, vt);
        s->vantage = vantage;
      }
    } else {
      const aq_json *t = aq_json_get(j, "time");
      const char *name = aq_json_get_str(j, "name");
      const aq_json *data = aq_json_get(j, "data");
      if (t == NULL || t->type != AQ_JSON_NUMBER || t->num < last_time || name == NULL ||
          data == NULL || data->type != AQ_JSON_OBJECT) {
        s->ok = 0;
      } else {
        last_time = t->num;
      }
      if (name_is(name, "packet_sent") || name_is(name, "packet_received")) {
        *(name_is(name, "packet_sent") ? &s->sent : &s->recv) += 1;
        const aq_json *hd = aq_json_get(data, "header");
        const aq_json *fr = aq_json_get(data, "frames");
        if (hd == NULL || aq_json_get_str(hd, "packet_type") == NULL ||
            aq_json_get_int(hd, "packet_number", -1) < 0 || fr == NULL ||
            fr->type != AQ_JSON_ARRAY || fr->n == 0) {
          s->ok = 0;
        } else {
          for (size_t k = 0; k < fr->n; k++) {
            const char *ft = aq_json_get_str(fr->items[k], "frame_type");
            s->frames++;
            if (ft == NULL || strcmp(ft, "unknown") == 0) {
              s->ok = 0;
            } else if (strcmp(ft, "stream") == 0) {
              s->stream_frames++;
            }
          }
        }
      } else if (name_is(name, "packets_acked")) {
        s->acked++;
      } else if (name_is(name, "packet_lost")) {
        s->lost++;
      } else if (name_is(name, "parameters_set")) {
        const char *o = aq_json_get_str(data, "owner");
        if (o != NULL && strcmp(o, "local") == 0) {
          s->params_local++;
        } else if (o != NULL && strcmp(o, "remote") == 0) {
          s->params_remote++;
        } else {
          s->ok = 0;
        }
        if (aq_json_get_int(data, "initial_max_data", -1) <= 0) {
          s->ok = 0;
        }
      } else if (name_is(name, "key_updated")) {
        s->keys++;
        const char *tg = aq_json_get_str(data, "trigger");
        if (tg != NULL && strcmp(tg, "local_update") == 0) {
          s->keys_local++;
        } else if (tg != NULL && strcmp(tg, "remote_update") == 0) {
          s->keys_remote++;
        } else if (tg == NULL || strcmp(tg, "tls") != 0) {
          s->ok = 0;
        }
      } else if (name_is(name, "connection_closed")) {
        s->closed++;
        s->close_code = (uint64_t)aq_json_get_int(data, "application_code", -1);
        const aq_json *r = aq_json_get(data, "reason");
        if (r != NULL && r->type == AQ_JSON_STRING && r->strlen < sizeof(s->close_reason)) {
          memcpy(s->close_reason, r->str, r->strlen);
          s->close_reasonlen = r->strlen;
        }
      } else {
        s->ok = 0; /* an event we did not expect */
      }
    }
    aq_json_free(j);
    s->records++;
    i = end + 1;
  }
}

AQ_TEST(qlog_trace_of_sim_connection) {
  aq_simq_pair p;
  /* 2% loss each way: some packet_lost events too. */
  aq_sim_link_params lp = {.delay = 10 * AQ_MILLISECONDS, .rate_bps = 20000000, .loss_pct = 2};
  aq_simq_pair_init(&p, 801, &lp);
  cap_reset(&p);
  p.c.set.qlog = 1;
  p.s.set.qlog = 1;
  p.c.cb.qlog = cb_qlog;
  p.s.cb.qlog = cb_qlog;
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 10 * AQ_SECONDS, 1000000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  (void)aq_sim_run_for(p.sim, 300 * AQ_MILLISECONDS, 100000);
  aq_simq_stream *cs = aq_simq_open(&p.c, 1, 200000, 1);
  REQUIRE(cs != NULL);
  REQUIRE(aq_sim_run(p.sim, 30 * AQ_SECONDS, 10000000, stream_done, cs) == AQ_SIM_DONE);
  REQUIRE(aq_conn_initiate_key_update(p.c.conn, aq_sim_now(p.sim)) == 0);
  cs = aq_simq_open(&p.c, 1, 20000, 1);
  REQUIRE(cs != NULL);
  REQUIRE(aq_sim_run(p.sim, 30 * AQ_SECONDS, 10000000, stream_done, cs) == AQ_SIM_DONE);
  (void)aq_sim_run_for(p.sim, 500 * AQ_MILLISECONDS, 1000000);
  aq_conn_stats cst, sst;
  aq_conn_get_stats(p.c.conn, &cst);
  aq_conn_get_stats(p.s.conn, &sst);
  static const char reason[] = "bye \"quoted\" back\\slash\nline\x01ctl";
  aq_conn_close(p.c.conn, 42, (const uint8_t *)reason, sizeof(reason) - 1, aq_sim_now(p.sim));
  (void)aq_sim_run_for(p.sim, 3 * AQ_SECONDS, 1000000);
  CHECK(p.c.closed && p.s.closed);

  if (getenv("AQ_QLOG_DUMP") != NULL) {
    FILE *f = fopen(getenv("AQ_QLOG_DUMP"), "wb");
    if (f != NULL) {
      fwrite(g_cap[0].qlog, 1, g_cap[0].qlen, f);
      fclose(f);
    }
  }
  qlog_summary c, s;
  qlog_parse(g_cap[0].qlog, g_cap[0].qlen, &c);
  qlog_parse(g_cap[1].qlog, g_cap[1].qlen, &s);
  CHECK(c.ok);
  CHECK(s.ok);
  /* One record per callback, header first. */
  CHECK_INT(c.records, g_cap[0].qcalls);
  CHECK_INT(s.records, g_cap[1].qcalls);
  REQUIRE(c.vantage != NULL && s.vantage != NULL);
  /* (vantage is a static buffer: the second parse overwrote it) */
  CHECK(strcmp(s.vantage, "server") == 0);
  /* Every packet before the statistics snapshot was traced (closing adds a few). */
  CHECK(c.sent >= cst.pkts_sent && c.sent <= cst.pkts_sent + 8);
  CHECK(c.recv >= cst.pkts_recv && c.recv <= cst.pkts_recv + 8);
  CHECK(s.sent >= sst.pkts_sent && s.sent <= sst.pkts_sent + 8);
  CHECK(c.lost >= cst.pkts_lost);
  CHECK(c.lost + s.lost > 0);
  CHECK(c.acked > 100);
  CHECK(c.stream_frames > 100);
  CHECK_INT(c.params_local, 1);
  CHECK_INT(c.params_remote, 1);
  CHECK_INT(s.params_local, 1);
  CHECK_INT(s.params_remote, 1);
  /* 4 TLS secrets (handshake + 1-RTT, both directions), then the update (2 keys). */
  CHECK_INT(c.keys, 6);
  CHECK_INT(c.keys_local, 2);
  CHECK_INT(s.keys_remote, 2);
  CHECK_INT(c.closed, 1);
  CHECK_INT(s.closed, 1);
  CHECK_INT(s.close_code, 42);
  CHECK_INT(s.close_reasonlen, sizeof(reason) - 1);
  CHECK_MEM(s.close_reason, reason, sizeof(reason) - 1);
  aq_simq_pair_free(&p);
  cap_reset(NULL);
}

AQ_TEST(qlog_off_by_default) {
  aq_simq_pair p;
  aq_simq_pair_init(&p, 802, NULL);
  cap_reset(&p);
  p.c.cb.qlog = cb_qlog;
  p.s.cb.qlog = cb_qlog;
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  CHECK_INT(g_cap[0].qcalls, 0);
  CHECK_INT(g_cap[1].qcalls, 0);
  CHECK(p.c.conn->qlog == NULL);
  aq_simq_pair_free(&p);
  cap_reset(NULL);
}

/* -------------------------------------------------------------- keylog */

/** Parse "<LABEL> <64 hex> <hex>"; 0 if the shape is right. */
static int keylog_split(const char *line, char *label, size_t labelcap, uint8_t random[32],
                        uint8_t *secret, size_t *secretlen) {
  const char *sp1 = strchr(line, ' ');
  if (sp1 == NULL || (size_t)(sp1 - line) >= labelcap) {
    return -1;
  }
  memcpy(label, line, (size_t)(sp1 - line));
  label[sp1 - line] = '\0';
  const char *sp2 = strchr(sp1 + 1, ' ');
  if (sp2 == NULL || sp2 - sp1 - 1 != 64 || strchr(sp2 + 1, ' ') != NULL) {
    return -1;
  }
  size_t hl = strlen(sp2 + 1);
  if (hl != 64 && hl != 96) {
    return -1;
  }
  for (const char *c = sp1 + 1; *c != '\0'; c++) {
    if (c != sp2 && !((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f'))) {
      return -1; /* lowercase hex only */
    }
  }
  char tmp[65];
  memcpy(tmp, sp1 + 1, 64);
  tmp[64] = '\0';
  if (aq_test_unhex_into(random, 32, tmp) != 32) {
    return -1;
  }
  *secretlen = hl / 2;
  return aq_test_unhex_into(secret, *secretlen, sp2 + 1) == *secretlen ? 0 : -1;
}

/** Open the first packet of type want in the captured client datagrams with secret. */
static int try_open(aq_pkt_type want, const aq_tls_suite *suite, const uint8_t *secret,
                    size_t secretlen, size_t short_dcidlen) {
  aq_pprot pp;
  if (aq_pprot_init(&pp, suite->aead, suite->hash, secret, secretlen, AQ_PROTO_VER_V1) != 0) {
    return -2;
  }
  int result = -3; /* no such packet */
  for (size_t d = 0; d < g_ndg && result == -3; d++) {
    aq_pkt_iter it;
    aq_pkt_iter_init(&it, g_dg[d], g_dglen[d], short_dcidlen);
    for (;;) {
      aq_pkt_hd hd;
      const uint8_t *pkt;
      size_t pktlen;
      if (aq_pkt_iter_next(&it, &hd, &pkt, &pktlen) <= 0) {
        break;
      }
      if (hd.type != want) {
        continue;
      }
      uint8_t copy[1500];
      memcpy(copy, pkt, pktlen);
      size_t pn_len;
      uint64_t tpn;
      if (aq_pprot_unprotect_header(&pp, copy, pktlen, hd.pn_offset, &pn_len, &tpn) != 0) {
        result = -1;
        break;
      }
      uint64_t pn = aq_pkt_pn_decode(UINT64_MAX, tpn, pn_len);
      aq_ssize n = aq_pprot_open(&pp, copy, pktlen, hd.pn_offset + pn_len, pn);
      result = -1;
      if (n > 0) {
        /* The plaintext is a valid frame sequence. */
        aq_rbuf r;
        aq_rbuf_init(&r, copy + hd.pn_offset + pn_len, (size_t)n);
        result = 0;
        while (aq_rbuf_left(&r) > 0) {
          aq_frame f;
          if (aq_frame_decode(&f, &r) != 0) {
            result = -1;
            break;
          }
        }
      }
      break;
    }
  }
  aq_pprot_free(&pp);
  return result;
}

AQ_TEST(keylog_lines_shape_and_decrypt) {
  aq_simq_pair p;
  aq_simq_pair_init(&p, 803, NULL);
  cap_reset(&p);
  g_ndg = 0;
  p.c.cb.keylog = cb_keylog;
  p.s.cb.keylog = cb_keylog;
  aq_simq_pair_start(&p);
  aq_sim_host_attach(p.ch, &rec_ops, &p.c);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  aq_simq_stream *cs = aq_simq_open(&p.c, 1, 3000, 1);
  REQUIRE(cs != NULL);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 1000000, stream_done, cs) == AQ_SIM_DONE);
  aq_conn *c = p.c.conn;
  const aq_tls_suite *suite = aq_tls_get_suite(c->tls);
  REQUIRE(suite != NULL);
  const uint8_t *cr = aq_tls_get_client_random(c->tls);
  REQUIRE(cr != NULL);
  /* Four lines each, the same four on both sides. */
  CHECK_INT(g_cap[0].nlines, 4);
  CHECK_INT(g_cap[1].nlines, 4);
  static const char *const labels[] = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
                                       "SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0",
                                       "SERVER_TRAFFIC_SECRET_0"};
  uint8_t secrets[4][48];
  size_t slen[4] = {0};
  for (size_t k = 0; k < 4; k++) {
    int found = 0;
    for (size_t i = 0; i < g_cap[0].nlines; i++) {
      char label[48];
      uint8_t rnd[32], sec[48];
      size_t sl;
      REQUIRE(keylog_split(g_cap[0].lines[i], label, sizeof(label), rnd, sec, &sl) == 0);
      CHECK_MEM(rnd, cr, 32);
      CHECK_INT(sl, aq_hash_len(suite->hash));
      if (strcmp(label, labels[k]) == 0) {
        found++;
        memcpy(secrets[k], sec, sl);
        slen[k] = sl;
      }
    }
    CHECK_INT(found, 1);
    int same = 0;
    for (size_t i = 0; i < g_cap[1].nlines; i++) {
      for (size_t m = 0; m < g_cap[0].nlines; m++) {
        same += strcmp(g_cap[1].lines[i], g_cap[0].lines[m]) == 0 &&
                strncmp(g_cap[1].lines[i], labels[k], strlen(labels[k])) == 0 &&
                g_cap[1].lines[i][strlen(labels[k])] == ' ';
      }
    }
    CHECK_INT(same, 1);
  }
  REQUIRE(slen[0] > 0 && slen[2] > 0);
  size_t dl = p.s.conn->scid.len;
  /* The client's Handshake packets open with CLIENT_HANDSHAKE_TRAFFIC_SECRET... */
  CHECK_INT(try_open(AQ_PKT_HANDSHAKE, suite, secrets[0], slen[0], dl), 0);
  /* ...its 1-RTT packets with CLIENT_TRAFFIC_SECRET_0... */
  CHECK_INT(try_open(AQ_PKT_1RTT, suite, secrets[2], slen[2], dl), 0);
  /* ...and not with the server's secrets or a flipped bit. */
  CHECK_INT(try_open(AQ_PKT_HANDSHAKE, suite, secrets[1], slen[1], dl), -1);
  CHECK_INT(try_open(AQ_PKT_1RTT, suite, secrets[3], slen[3], dl), -1);
  secrets[2][5] ^= 0x10;
  CHECK_INT(try_open(AQ_PKT_1RTT, suite, secrets[2], slen[2], dl), -1);
  aq_simq_pair_free(&p);
  cap_reset(NULL);
}
