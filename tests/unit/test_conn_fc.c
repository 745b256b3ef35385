/*
 * test_conn_fc.c - receive-window auto-tuning in the simulator: a long-RTT,
 * high-bandwidth upload finishes much faster with tuning than with fixed
 * windows (simulated time), the windows grow but stay within the caps and
 * the reassembly memory within the window; a slowly reading application
 * keeps its initial windows; MAX_STREAM_DATA / MAX_DATA cadence.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

typedef struct up_result {
  aq_duration d;        /* simulated duration of the upload (UINT64_MAX: did not finish) */
  uint64_t strm_window; /* the server's stream 0 receive window at the end */
  uint64_t conn_window; /* the server's connection receive window at the end */
  size_t strm_mem;      /* the stream's reassembly memory at the end of the run */
  uint64_t msd_limit;   /* the stream's advertised limit */
  uint64_t bytes_sent;  /* client datagram bytes */
} up_result;

static int upload_done(void *arg) {
  aq_simq_pair *p = arg;
  return p->s.fins_recv >= 1;
}

/* Largest reassembly memory of server stream 0, sampled at every read. */
typedef struct mem_probe {
  aq_simq_pair *p;
  size_t peak;
  uint64_t peak_window;
} mem_probe;

static void probe(aq_sim *sim, void *arg) {
  mem_probe *m = arg;
  aq_conn *sc = m->p->s.conn;
  const aq_strm *st = sc != NULL ? aq_strm_find(sc, 0) : NULL;
  if (st != NULL && getenv("AQ_FC_DEBUG") != NULL) {
    const aq_strm *cst = aq_strm_find(m->p->c.conn, 0);
    fprintf(stderr, "%.3f srv limit %llu consumed %llu highest %llu | cli tx_max %llu next %llu\n",
            (double)(aq_sim_now(sim) - AQ_SIM_ORIGIN) / 1e9, (unsigned long long)st->rfc.limit,
            (unsigned long long)st->rfc.consumed, (unsigned long long)st->rfc.highest,
            (unsigned long long)(cst ? cst->tx_max : 0),
            (unsigned long long)(cst ? cst->tx.next : 0));
  }
  if (st != NULL) {
    size_t mem = aq_strm_rbuf_mem(&st->rx);
    m->peak = mem > m->peak ? mem : m->peak;
    if (st->rx.window_cap > m->peak_window) {
      m->peak_window = st->rx.window_cap;
    }
  }
  if (m->p->s.fins_recv == 0) {
    aq_sim_at(sim, aq_sim_now(sim) + 5 * AQ_MILLISECONDS, probe, m);
  }
}

/*
 * bytes from client to server over 200 Mbit/s links with a 400 ms RTT (two
 * 100 ms links each way; bandwidth-delay product 10 MB), 512 KiB initial
 * stream window, 1 MiB connection window.
 */
static up_result upload(uint64_t bytes, int tune, mem_probe *mp) {
  up_result res;
  memset(&res, 0, sizeof(res));
  res.d = UINT64_MAX;
  aq_simq_pair p;
  aq_sim_link_params lp = {
      .delay = 100 * AQ_MILLISECONDS, .rate_bps = 200000000, .queue_bytes = 4000000};
  aq_simq_pair_init(&p, 77, &lp);
  p.s.echo = 0;
  p.s.read_chunk = 65536;
  p.s.set.initial_max_stream_data = 512u << 10;
  p.s.set.initial_max_data = 1u << 20;
  p.s.set.max_stream_window = tune ? 16u << 20 : 0;
  p.s.set.max_conn_window = tune ? 24u << 20 : 0;
  /* The sender's buffer must cover the path, or it limits instead of the window. */
  p.c.set.stream_send_buffer = 32u << 20;
  aq_simq_pair_start(&p);
  aq_simq_stream *cs = NULL;
  if (aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) != AQ_SIM_DONE ||
      (cs = aq_simq_open(&p.c, 1, bytes, 1)) == NULL) {
    aq_test_fail(__FILE__, __LINE__, "no handshake or no stream");
    aq_simq_pair_free(&p);
    return res;
  }
  aq_tstamp t0 = aq_sim_now(p.sim);
  if (getenv("AQ_CONN_TRACE") != NULL) {
    aq_sim_set_trace(p.sim, stderr);
  }
  if (mp != NULL) {
    mp->p = &p;
    aq_sim_at(p.sim, t0, probe, mp);
  }
  aq_sim_result r = aq_sim_run(p.sim, 120 * AQ_SECONDS, 50000000, upload_done, &p);
  CHECK_INT(r, AQ_SIM_DONE);
  if (r == AQ_SIM_DONE) {
    res.d = aq_sim_now(p.sim) - t0;
  }
  aq_simq_stream *ss = aq_simq_stream_of(&p.s, cs->id);
  CHECK_INT(ss->recvd, bytes);
  CHECK(!ss->bad);
  CHECK(!p.c.io_err && !p.s.io_err && !p.c.closed && !p.s.closed);
  const aq_strm *st = p.s.conn != NULL ? aq_strm_find(p.s.conn, cs->id) : NULL;
  if (st == NULL) { /* the server never sends on it: still open */
    aq_test_fail(__FILE__, __LINE__, "server stream gone");
    aq_simq_pair_free(&p);
    res.d = UINT64_MAX;
    return res;
  }
  res.strm_window = st->rfc.window;
  res.msd_limit = st->rfc.limit;
  res.strm_mem = aq_strm_rbuf_mem(&st->rx);
  res.conn_window = p.s.conn->rfc.window;
  aq_conn_stats cst;
  aq_conn_get_stats(p.c.conn, &cst);
  res.bytes_sent = cst.bytes_sent;
  if (getenv("AQ_CONN_DEBUG") != NULL) {
    fprintf(stderr,
            "tune=%d: %llu bytes in %.3f s, stream window %llu, conn window %llu, lost %llu, "
            "cwnd %llu, srtt %.1f ms\n",
            tune, (unsigned long long)bytes, (double)res.d / 1e9,
            (unsigned long long)res.strm_window, (unsigned long long)res.conn_window,
            (unsigned long long)cst.pkts_lost, (unsigned long long)cst.cwnd,
            (double)cst.srtt / 1e6);
  }
  aq_simq_pair_free(&p);
  return res;
}

AQ_TEST(conn_fc_autotune_long_fat_path) {
  const uint64_t bytes = 24u << 20;
  mem_probe mp;
  memset(&mp, 0, sizeof(mp));
  mem_probe mp0;
  memset(&mp0, 0, sizeof(mp0));
  up_result fixed = upload(bytes, 0, &mp0);
  up_result tuned = upload(bytes, 1, &mp);
  REQUIRE(fixed.d != UINT64_MAX && tuned.d != UINT64_MAX);
  /* With updates at half a window, the sender gets a fresh window of W only after it
   * sent W/2 more: at most W / (2 RTT) = 512 KiB / 0.8 s = 655 KB/s, 24 MiB in > 38 s. */
  CHECK(fixed.d > 35 * AQ_SECONDS);
  CHECK_INT(fixed.strm_window, 512u << 10);
  CHECK_INT(fixed.conn_window, 1u << 20);
  /* Tuned: several times faster (line rate alone is 1 s; slow start from 10 packets
   * to the 10 MB path takes about 10 RTTs = 4 s). */
  if (!(tuned.d * 4 < fixed.d && tuned.d < 10 * AQ_SECONDS)) {
    aq_test_fail(__FILE__, __LINE__, "tuned %.3f s vs fixed %.3f s", (double)tuned.d / 1e9,
                 (double)fixed.d / 1e9);
  }
  /* The windows grew, within their caps. */
  CHECK(tuned.strm_window >= 2u << 20);
  CHECK(tuned.strm_window <= 16u << 20);
  CHECK(tuned.conn_window >= 2u << 20);
  CHECK(tuned.conn_window <= 24u << 20);
  CHECK(mp.peak_window <= 16u << 20);
  /* Reassembly memory never exceeded the window (+1/8 bitmap, one chunk, the slots). */
  size_t bound = (size_t)(mp.peak_window + mp.peak_window / 8) + 2 * AQ_STRM_CHUNK_BYTES +
                 (size_t)(mp.peak_window / AQ_STRM_CHUNK + 1) * sizeof(void *);
  if (mp.peak == 0 || mp.peak > bound) {
    aq_test_fail(__FILE__, __LINE__, "peak reassembly memory %zu, bound %zu", mp.peak, bound);
  }
  /* A clean path: tuning did not cost retransmissions. */
  CHECK(tuned.bytes_sent < bytes * 11 / 10);
}

/* The application reads 16 KiB every 100 ms (160 KB/s) over a 200 ms RTT. */
typedef struct slow_reader {
  aq_simq_pair *p;
  uint64_t read;
  int bad;
  int stop;
} slow_reader;

static void slow_read(aq_sim *sim, void *arg) {
  slow_reader *r = arg;
  aq_conn *sc = r->p->s.conn;
  if (r->stop) {
    return;
  }
  if (sc != NULL) {
    uint8_t buf[16384];
    int fin = 0;
    aq_ssize n = aq_conn_stream_read(sc, 0, buf, sizeof(buf), &fin);
    if (n > 0) {
      for (aq_ssize i = 0; i < n; i++) {
        if (buf[i] != aq_simq_pattern(0, r->read + (uint64_t)i)) {
          r->bad = 1;
        }
      }
      r->read += (uint64_t)n;
    }
  }
  aq_sim_at(sim, aq_sim_now(sim) + 100 * AQ_MILLISECONDS, slow_read, r);
}

AQ_TEST(conn_fc_slow_reader_window_stays) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 50 * AQ_MILLISECONDS, .rate_bps = 100000000};
  aq_simq_pair_init(&p, 78, &lp);
  p.s.echo = 0;
  p.s.no_read = 1;
  p.s.set.initial_max_stream_data = 256u << 10;
  p.s.set.initial_max_data = 1u << 20;
  p.c.set.stream_send_buffer = 8u << 20;
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  REQUIRE(aq_simq_open(&p.c, 1, 8u << 20, 1) != NULL);
  slow_reader r = {.p = &p};
  aq_sim_at(p.sim, aq_sim_now(p.sim) + 100 * AQ_MILLISECONDS, slow_read, &r);
  (void)aq_sim_run_for(p.sim, 10 * AQ_SECONDS, 5000000);
  r.stop = 1;
  /* ~100 reads of 16 KiB: the reader, not the network, sets the pace. */
  CHECK(r.read >= 95u * 16384);
  CHECK(r.read <= 101u * 16384);
  CHECK(!r.bad);
  REQUIRE(p.s.conn != NULL);
  const aq_strm *st = aq_strm_find(p.s.conn, 0);
  REQUIRE(st != NULL);
  /* Half a window (128 KiB) takes 800 ms > 2 RTT to drain: no growth. */
  CHECK_INT(st->rfc.window, 256u << 10);
  CHECK_INT(st->rx.window_cap, 256u << 10);
  CHECK_INT(p.s.conn->rfc.window, 1u << 20);
  /* The peer was kept exactly at the window: what it sent is read + at most the window. */
  CHECK(st->rfc.highest <= r.read + (256u << 10));
  CHECK(st->rfc.highest >= r.read + (64u << 10)); /* and fed: data waits for the reader */
  CHECK(aq_strm_rbuf_mem(&st->rx) <= (256u << 10) + (32u << 10) + 2 * AQ_STRM_CHUNK_BYTES + 1024);
  CHECK(aq_strm_rbuf_mem(&st->rx) >= (128u << 10)); /* it does hold what the peer sent */
  CHECK(!p.c.closed && !p.s.closed);
  aq_simq_pair_free(&p);
}

/* Fixed windows: every limit sent is consumed + window, never more. */
AQ_TEST(conn_fc_fixed_window_limits) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS, .rate_bps = 50000000};
  aq_simq_pair_init(&p, 79, &lp);
  p.s.echo = 0;
  p.s.set.initial_max_stream_data = 64u << 10;
  p.s.set.initial_max_data = 128u << 10;
  p.s.set.max_stream_window = 0; /* fixed windows: exact counts */
  p.s.set.max_conn_window = 0;
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  REQUIRE(aq_simq_open(&p.c, 1, 4u << 20, 1) != NULL);
  REQUIRE(aq_sim_run(p.sim, 30 * AQ_SECONDS, 5000000, upload_done, &p) == AQ_SIM_DONE);
  const aq_strm *st = aq_strm_find(p.s.conn, 0);
  REQUIRE(st != NULL);
  /* Every limit sent was consumed + window, so the last one is within a window of the end. */
  CHECK(st->rfc.limit >= (4u << 20));
  CHECK(st->rfc.limit <= (4u << 20) + (64u << 10));
  CHECK(p.s.conn->rfc.limit <= (4u << 20) + (128u << 10));
  aq_simq_pair_free(&p);
}

/* STOP_SENDING discards the unread data and returns its connection credit at once, and later
 * data of that stream is counted and dropped: another stream can use the whole connection
 * window although the application never read the first one. */
AQ_TEST(conn_fc_stop_sending_returns_credit) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 81, &lp);
  p.s.echo = 0;
  p.s.no_read = 1;
  p.s.set.initial_max_stream_data = 64u << 10;
  p.s.set.initial_max_data = 64u << 10;
  p.s.set.max_stream_window = p.s.set.max_conn_window = 0;
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  aq_simq_stream *a = aq_simq_open(&p.c, 1, 48u << 10, 1);
  REQUIRE(a != NULL);
  (void)aq_sim_run_for(p.sim, 300 * AQ_MILLISECONDS, 1000000);
  aq_conn *s = p.s.conn;
  const aq_strm *sa = aq_strm_find(s, a->id);
  REQUIRE(sa != NULL);
  CHECK_INT(sa->rfc.highest, 48u << 10); /* all of it arrived, unread */
  CHECK(aq_strm_rbuf_mem(&sa->rx) >= (48u << 10));
  CHECK_INT(s->rfc.consumed, 0);
  REQUIRE(aq_conn_stream_stop_sending(s, a->id, 9) == 0);
  CHECK_INT(s->rfc.consumed, 48u << 10);                   /* credit back */
  CHECK(aq_strm_rbuf_mem(&sa->rx) <= 64 * sizeof(void *)); /* chunks freed */
  /* 48 KiB more on a second stream: more than the 16 KiB left without the returned credit. */
  aq_simq_stream *b = aq_simq_open(&p.c, 1, 48u << 10, 1);
  REQUIRE(b != NULL);
  (void)aq_sim_run_for(p.sim, 500 * AQ_MILLISECONDS, 1000000);
  const aq_strm *sb = aq_strm_find(s, b->id);
  REQUIRE(sb != NULL);
  CHECK_INT(sb->rfc.highest, 48u << 10);
  CHECK(!p.c.closed && !p.s.closed);
  aq_simq_pair_free(&p);
}
