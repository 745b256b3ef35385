/*
 * test_cidmap.c - the endpoint's CID table: SipHash-2-4 against the
 * reference vectors, the table against a naive model (random inserts,
 * finds, removals, growth), allocation failure, and in the simulator one
 * endpoint demultiplexing 5000 connections, CIDs that stop routing once
 * retired, and the routes of a deleted connection going away.
 */
#include <stdlib.h>
#include <string.h>

#include "aq_cidmap.h"
#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_sim.h"
#include "aq_sim_quic.h"
#include "aq_test.h"

/* SipHash-2-4 reference vectors (the SipHash paper's vectors.h): key bytes
 * 00..0f, message i = bytes 00..i-1, output as little-endian bytes. */
static const uint8_t sip_vectors[64][8] = {
    {0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72},
    {0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74},
    {0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d},
    {0x2d, 0x7e, 0xfb, 0xd7, 0x96, 0x66, 0x67, 0x85},
    {0xb7, 0x87, 0x71, 0x27, 0xe0, 0x94, 0x27, 0xcf},
    {0x8d, 0xa6, 0x99, 0xcd, 0x64, 0x55, 0x76, 0x18},
    {0xce, 0xe3, 0xfe, 0x58, 0x6e, 0x46, 0xc9, 0xcb},
    {0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab},
    {0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93},
    {0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e},
    {0xf3, 0xb9, 0xdd, 0x94, 0xc5, 0xbb, 0x5d, 0x7a},
    {0xa7, 0xad, 0x6b, 0x22, 0x46, 0x2f, 0xb3, 0xf4},
    {0xfb, 0xe5, 0x0e, 0x86, 0xbc, 0x8f, 0x1e, 0x75},
    {0x90, 0x3d, 0x84, 0xc0, 0x27, 0x56, 0xea, 0x14},
    {0xee, 0xf2, 0x7a, 0x8e, 0x90, 0xca, 0x23, 0xf7},
    {0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1},
    {0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f},
    {0x94, 0x47, 0xbe, 0x2c, 0xf5, 0xe9, 0x9a, 0x69},
    {0x9c, 0xd3, 0x8d, 0x96, 0xf0, 0xb3, 0xc1, 0x4b},
    {0xbd, 0x61, 0x79, 0xa7, 0x1d, 0xc9, 0x6d, 0xbb},
    {0x98, 0xee, 0xa2, 0x1a, 0xf2, 0x5c, 0xd6, 0xbe},
    {0xc7, 0x67, 0x3b, 0x2e, 0xb0, 0xcb, 0xf2, 0xd0},
    {0x88, 0x3e, 0xa3, 0xe3, 0x95, 0x67, 0x53, 0x93},
    {0xc8, 0xce, 0x5c, 0xcd, 0x8c, 0x03, 0x0c, 0xa8},
    {0x94, 0xaf, 0x49, 0xf6, 0xc6, 0x50, 0xad, 0xb8},
    {0xea, 0xb8, 0x85, 0x8a, 0xde, 0x92, 0xe1, 0xbc},
    {0xf3, 0x15, 0xbb, 0x5b, 0xb8, 0x35, 0xd8, 0x17},
    {0xad, 0xcf, 0x6b, 0x07, 0x63, 0x61, 0x2e, 0x2f},
    {0xa5, 0xc9, 0x1d, 0xa7, 0xac, 0xaa, 0x4d, 0xde},
    {0x71, 0x65, 0x95, 0x87, 0x66, 0x50, 0xa2, 0xa6},
    {0x28, 0xef, 0x49, 0x5c, 0x53, 0xa3, 0x87, 0xad},
    {0x42, 0xc3, 0x41, 0xd8, 0xfa, 0x92, 0xd8, 0x32},
    {0xce, 0x7c, 0xf2, 0x72, 0x2f, 0x51, 0x27, 0x71},
    {0xe3, 0x78, 0x59, 0xf9, 0x46, 0x23, 0xf3, 0xa7},
    {0x38, 0x12, 0x05, 0xbb, 0x1a, 0xb0, 0xe0, 0x12},
    {0xae, 0x97, 0xa1, 0x0f, 0xd4, 0x34, 0xe0, 0x15},
    {0xb4, 0xa3, 0x15, 0x08, 0xbe, 0xff, 0x4d, 0x31},
    {0x81, 0x39, 0x62, 0x29, 0xf0, 0x90, 0x79, 0x02},
    {0x4d, 0x0c, 0xf4, 0x9e, 0xe5, 0xd4, 0xdc, 0xca},
    {0x5c, 0x73, 0x33, 0x6a, 0x76, 0xd8, 0xbf, 0x9a},
    {0xd0, 0xa7, 0x04, 0x53, 0x6b, 0xa9, 0x3e, 0x0e},
    {0x92, 0x59, 0x58, 0xfc, 0xd6, 0x42, 0x0c, 0xad},
    {0xa9, 0x15, 0xc2, 0x9b, 0xc8, 0x06, 0x73, 0x18},
    {0x95, 0x2b, 0x79, 0xf3, 0xbc, 0x0a, 0xa6, 0xd4},
    {0xf2, 0x1d, 0xf2, 0xe4, 0x1d, 0x45, 0x35, 0xf9},
    {0x87, 0x57, 0x75, 0x19, 0x04, 0x8f, 0x53, 0xa9},
    {0x10, 0xa5, 0x6c, 0xf5, 0xdf, 0xcd, 0x9a, 0xdb},
    {0xeb, 0x75, 0x09, 0x5c, 0xcd, 0x98, 0x6c, 0xd0},
    {0x51, 0xa9, 0xcb, 0x9e, 0xcb, 0xa3, 0x12, 0xe6},
    {0x96, 0xaf, 0xad, 0xfc, 0x2c, 0xe6, 0x66, 0xc7},
    {0x72, 0xfe, 0x52, 0x97, 0x5a, 0x43, 0x64, 0xee},
    {0x5a, 0x16, 0x45, 0xb2, 0x76, 0xd5, 0x92, 0xa1},
    {0xb2, 0x74, 0xcb, 0x8e, 0xbf, 0x87, 0x87, 0x0a},
    {0x6f, 0x9b, 0xb4, 0x20, 0x3d, 0xe7, 0xb3, 0x81},
    {0xea, 0xec, 0xb2, 0xa3, 0x0b, 0x22, 0xa8, 0x7f},
    {0x99, 0x24, 0xa4, 0x3c, 0xc1, 0x31, 0x57, 0x24},
    {0xbd, 0x83, 0x8d, 0x3a, 0xaf, 0xbf, 0x8d, 0xb7},
    {0x0b, 0x1a, 0x2a, 0x32, 0x65, 0xd5, 0x1a, 0xea},
    {0x13, 0x50, 0x79, 0xa3, 0x23, 0x1c, 0xe6, 0x60},
    {0x93, 0x2b, 0x28, 0x46, 0xe4, 0xd7, 0x06, 0x66},
    {0xe1, 0x91, 0x5f, 0x5c, 0xb1, 0xec, 0xa4, 0x6c},
    {0xf3, 0x25, 0x96, 0x5c, 0xa1, 0x6d, 0x62, 0x9f},
    {0x57, 0x5f, 0xf2, 0x8e, 0x60, 0x38, 0x1b, 0xe5},
    {0x72, 0x45, 0x06, 0xeb, 0x4c, 0x32, 0x8a, 0x95},
};

AQ_TEST(cidmap_siphash24_vectors) {
  uint8_t key[16], msg[64];
  for (int i = 0; i < 16; i++) {
    key[i] = (uint8_t)i;
  }
  for (int i = 0; i < 64; i++) {
    msg[i] = (uint8_t)i;
  }
  for (size_t n = 0; n < 64; n++) {
    uint64_t h = aq_siphash24(key, msg, n);
    uint8_t le[8];
    for (int k = 0; k < 8; k++) {
      le[k] = (uint8_t)(h >> (8 * k));
    }
    CHECK_MEM(le, sip_vectors[n], 8);
  }
  /* The key matters: one flipped key bit changes the output. */
  key[15] ^= 0x80;
  CHECK(aq_siphash24(key, msg, 8) != 0x93f5f5799a932462ULL);
}

static aq_cid mkcid(uint64_t *st, size_t len) {
  aq_cid c;
  memset(&c, 0, sizeof(c));
  c.len = (uint8_t)len;
  (void)aq_test_rand(c.data, len, st);
  return c;
}

AQ_TEST(cidmap_basic) {
  static const uint8_t key[16] = {9};
  aq_cidmap m;
  aq_cidmap_init(&m, aq_mem_default(), key);
  uint64_t st = 5;
  aq_cid a = mkcid(&st, 8), b = mkcid(&st, 20), empty = {0};
  int va, vb;
  CHECK(aq_cidmap_find(&m, &a, NULL) == NULL);
  CHECK_INT(aq_cidmap_remove(&m, &a, NULL), AQ_ERR_NOT_FOUND);
  CHECK_INT(aq_cidmap_insert(&m, &a, &va, 0), 0);
  CHECK_INT(aq_cidmap_insert(&m, &b, &vb, AQ_CIDMAP_INITIAL_ONLY), 0);
  unsigned fl = 99;
  CHECK(aq_cidmap_find(&m, &a, &fl) == &va);
  CHECK_INT(fl, 0);
  CHECK(aq_cidmap_find(&m, &b, &fl) == &vb);
  CHECK_INT(fl, AQ_CIDMAP_INITIAL_ONLY);
  /* A prefix, or the same bytes with another length, is another key. */
  aq_cid a7 = a;
  a7.len = 7;
  CHECK(aq_cidmap_find(&m, &a7, NULL) == NULL);
  /* Same value again: flags replaced; another value: refused, unchanged. */
  CHECK_INT(aq_cidmap_insert(&m, &b, &vb, 0), 0);
  CHECK(aq_cidmap_find(&m, &b, &fl) == &vb && fl == 0);
  CHECK_INT(aq_cidmap_insert(&m, &a, &vb, 0), AQ_ERR_LIMIT);
  CHECK(aq_cidmap_find(&m, &a, NULL) == &va);
  CHECK_INT(aq_cidmap_insert(&m, &empty, &va, 0), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_cidmap_insert(&m, &a7, NULL, 0), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_cidmap_count(&m), 2);
  /* Removal checks the value when given one. */
  CHECK_INT(aq_cidmap_remove(&m, &a, &vb), AQ_ERR_NOT_FOUND);
  CHECK_INT(aq_cidmap_remove(&m, &a, &va), 0);
  CHECK(aq_cidmap_find(&m, &a, NULL) == NULL);
  CHECK(aq_cidmap_find(&m, &b, NULL) == &vb);
  CHECK_INT(aq_cidmap_count(&m), 1);
  aq_cidmap_free(&m);
  CHECK_INT(aq_cidmap_count(&m), 0);
}

/* Random inserts, removals and lookups against a plain array: the table
 * always agrees, probe sequences stay short, the load stays <= 3/4. */
AQ_TEST(cidmap_model_random) {
  enum { N = 6000 };
  static aq_cid keys[N];
  static int present[N];
  static int vals[N];
  uint8_t key[16];
  uint64_t st = 0x1234;
  (void)aq_test_rand(key, sizeof(key), &st);
  aq_cidmap m;
  aq_cidmap_init(&m, aq_mem_default(), key);
  for (size_t i = 0; i < N; i++) {
    /* Short and structured keys too: sequential 4-byte CIDs differ in one byte. */
    if (i % 3 == 0) {
      keys[i].len = 4;
      memset(keys[i].data, 0, sizeof(keys[i].data));
      keys[i].data[2] = (uint8_t)(i >> 8);
      keys[i].data[3] = (uint8_t)i;
    } else {
      keys[i] = mkcid(&st, 5 + (size_t)(i % (AQ_MAX_CIDLEN - 4))); /* unique (seeded) */
    }
    present[i] = 0;
  }
  size_t live = 0;
  for (int step = 0; step < 60000; step++) {
    uint8_t r[4];
    (void)aq_test_rand(r, sizeof(r), &st);
    size_t i = (size_t)((r[0] | r[1] << 8 | r[2] << 16) % N);
    if (r[3] % 3 != 0) {
      int rc = aq_cidmap_insert(&m, &keys[i], &vals[i], 0);
      if (rc != 0) {
        aq_test_fail(__FILE__, __LINE__, "insert %zu: %d", i, rc);
        break;
      }
      live += !present[i];
      present[i] = 1;
    } else {
      int rc = aq_cidmap_remove(&m, &keys[i], NULL);
      CHECK_INT(rc, present[i] ? 0 : AQ_ERR_NOT_FOUND);
      live -= present[i] != 0;
      present[i] = 0;
    }
    if (step % 5000 == 0 || step == 59999) {
      for (size_t k = 0; k < N; k++) {
        void *v = aq_cidmap_find(&m, &keys[k], NULL);
        if (v != (present[k] ? (void *)&vals[k] : NULL)) {
          aq_test_fail(__FILE__, __LINE__, "step %d key %zu disagrees", step, k);
          aq_cidmap_free(&m);
          return;
        }
      }
    }
  }
  CHECK_INT(aq_cidmap_count(&m), live);
  CHECK(m.n * 4 <= m.cap * 3);
  /* Longest probe sequence (distance from home slot): short with a keyed hash. */
  size_t worst = 0;
  for (size_t i = 0; i < m.cap; i++) {
    if (m.tab[i].val != NULL) {
      size_t d = (i - (m.tab[i].hash & (m.cap - 1))) & (m.cap - 1);
      worst = d > worst ? d : worst;
    }
  }
  CHECK(worst < 64);
  aq_cidmap_free(&m);
}

AQ_TEST(cidmap_growth_failure_keeps_table) {
  static const uint8_t key[16] = {1, 2, 3};
  static aq_cid keys[40];
  static int v;
  uint64_t st = 77;
  for (size_t i = 0; i < 40; i++) {
    keys[i] = mkcid(&st, 8);
  }
  for (long fail_at = 0; fail_at < 4; fail_at++) {
    aq_test_failmem fm;
    aq_test_failmem_init(&fm, fail_at);
    aq_cidmap m;
    aq_cidmap_init(&m, &fm.mem, key);
    size_t ok = 0;
    for (size_t i = 0; i < 40; i++) {
      int rc = aq_cidmap_insert(&m, &keys[i], &v, 0);
      if (rc != 0) {
        CHECK_INT(rc, AQ_ERR_NOMEM);
        break;
      }
      ok++;
    }
    /* Allocations: 16 slots (first insert), 32 (13th), 64 (25th). */
    static const size_t want_ok[4] = {0, 12, 24, 40};
    CHECK_INT(ok, want_ok[fail_at]);
    CHECK_INT(aq_cidmap_count(&m), ok);
    for (size_t i = 0; i < 40; i++) {
      CHECK((aq_cidmap_find(&m, &keys[i], NULL) != NULL) == (i < ok));
    }
    aq_cidmap_free(&m);
    CHECK_INT(fm.live, 0);
  }
}

/* ------------------------------------------------------ endpoint tests */

static size_t hs_count;
static void count_hs(aq_conn *conn, void *ud) {
  (void)conn;
  (void)ud;
  hs_count++;
}

typedef struct many {
  aq_simq_pair *p;
  size_t want;
} many;

static int all_hs(void *arg) {
  many *m = arg;
  return hs_count >= 2 * m->want;
}

/* One server endpoint, one client endpoint, 5000 connections between them:
 * every handshake completes (each needs both endpoints to route by CID),
 * the server's table holds every connection's CIDs and each one finds its
 * own connection; closing them empties the tables. */
AQ_TEST(ep_5000_connections) {
  enum { NCONN = 5000 };
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 2 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 500, &lp);
  p.s.echo = 0;
  p.c.set.max_conns = p.s.set.max_conns = NCONN + 10;
  p.c.cb.handshake_completed = p.s.cb.handshake_completed = count_hs;
  hs_count = 0;
  aq_simq_pair_start(&p); /* connection 1 */
  aq_conn **cc = calloc(NCONN, sizeof(*cc));
  REQUIRE(cc != NULL);
  cc[0] = p.c.conn;
  aq_path path = {p.caddr, p.saddr};
  for (size_t i = 1; i < NCONN; i++) {
    if (aq_ep_connect(p.c.ep, &path, aq_sim_now(p.sim), &cc[i]) != 0) {
      aq_test_fail(__FILE__, __LINE__, "connect %zu", i);
      free(cc);
      aq_simq_pair_free(&p);
      return;
    }
  }
  many m = {&p, NCONN};
  aq_tstamp t0 = aq_sim_now(p.sim);
  CHECK_INT(aq_sim_run(p.sim, 60 * AQ_SECONDS, 10000000, all_hs, &m), AQ_SIM_DONE);
  CHECK_INT(hs_count, 2 * NCONN);
  CHECK(aq_sim_now(p.sim) - t0 < 30 * AQ_SECONDS);
  CHECK_INT(aq_ep_conn_count(p.s.ep), NCONN);
  CHECK_INT(aq_ep_conn_count(p.c.ep), NCONN);
  (void)aq_sim_run_for(p.sim, 100 * AQ_MILLISECONDS, 10000000); /* NEW_CONNECTION_IDs settle */
  /* Every client connection's DCID (a server CID) finds the server connection
   * whose peer it is; every client SCID finds the client connection. */
  size_t bad = 0, spare = 0, tokens = 0;
  for (size_t i = 0; i < NCONN; i++) {
    aq_conn *s = aq_ep_find_conn(p.s.ep, &cc[i]->dcid, 0);
    if (s == NULL || !aq_cid_eq(&s->dcid, &cc[i]->scid) ||
        aq_ep_find_conn(p.c.ep, &cc[i]->scid, 0) != cc[i]) {
      bad++;
      continue;
    }
    /* Reset tokens the client gave (all but that of its first CID, §18.2). */
    for (size_t k = 0; k < AQ_MAX_PEER_CIDS; k++) {
      tokens +=
          s->peer_cids[k].in_use && !(k == 0 && s->peer_cids[k].seq == 0 && !s->peer_reset_token0);
    }
    /* The spare CIDs the server issued route to it as well. */
    for (size_t k = 0; k < AQ_MAX_PEER_CIDS; k++) {
      if (cc[i]->peer_cids[k].in_use) {
        spare += aq_ep_find_conn(p.s.ep, &cc[i]->peer_cids[k].cid, 0) == s;
      }
    }
  }
  CHECK_INT(bad, 0);
  CHECK_INT(spare, (size_t)NCONN * AQ_MAX_PEER_CIDS);
  size_t ncids, ntok;
  aq_ep_route_counts(p.s.ep, &ncids, &ntok);
  /* AQ_MAX_LOCAL_CIDS CIDs each (the handshake-time original DCIDs are gone). */
  CHECK_INT(ncids, (size_t)NCONN * AQ_MAX_LOCAL_CIDS);
  CHECK_INT(ntok, tokens);
  CHECK_INT(tokens, (size_t)NCONN * (AQ_MAX_PEER_CIDS - 1));
  /* Close every client connection: both endpoints reap them and the tables empty. */
  for (size_t i = 0; i < NCONN; i++) {
    aq_conn_close(cc[i], 0, NULL, 0, aq_sim_now(p.sim));
  }
  (void)aq_sim_run_for(p.sim, 10 * AQ_SECONDS, 10000000);
  CHECK_INT(aq_ep_conn_count(p.c.ep), 0);
  CHECK_INT(aq_ep_conn_count(p.s.ep), 0);
  aq_ep_route_counts(p.s.ep, &ncids, &ntok);
  CHECK_INT(ncids, 0);
  CHECK_INT(ntok, 0);
  aq_ep_route_counts(p.c.ep, &ncids, &ntok);
  CHECK_INT(ncids, 0);
  CHECK_INT(ntok, 0);
  p.c.conn = p.s.conn = NULL;
  free(cc);
  aq_simq_pair_free(&p);
}

/* A short-header datagram for dcid handed straight to ep; returns 1 if ep
 * answers with a stateless reset carrying token (the CID did not route). */
static int junk_gets_reset(aq_simq_pair *p, aq_ep *ep, const aq_cid *dcid,
                           const uint8_t token[AQ_STATELESS_RESET_TOKEN_LEN]) {
  uint8_t dg[60], out[1500];
  memset(dg, 0x3c, sizeof(dg));
  dg[0] = 0x41;
  memcpy(dg + 1, dcid->data, dcid->len);
  aq_path path = {p->saddr, p->caddr};
  if (aq_ep_read(ep, &path, dg, sizeof(dg), aq_sim_now(p->sim)) != 0) {
    return -1;
  }
  aq_path op;
  aq_ssize n = aq_ep_write(ep, &op, out, sizeof(out), aq_sim_now(p->sim));
  return n == 43 &&
         memcmp(out + n - AQ_STATELESS_RESET_TOKEN_LEN, token, AQ_STATELESS_RESET_TOKEN_LEN) == 0;
}

static int stream_done(void *arg) {
  aq_simq_stream *s = arg;
  return s->fin_recvd;
}

/* The client retires the server's CID with sequence 1: from then on it no
 * longer routes (a packet for it gets a stateless reset), its replacement
 * (sequence 4) does, and the connection carries on. */
AQ_TEST(ep_retired_cid_stops_routing) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 5 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 510, &lp);
  aq_simq_pair_start(&p);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  (void)aq_sim_run_for(p.sim, 200 * AQ_MILLISECONDS, 100000);
  aq_conn *s = p.s.conn, *c = p.c.conn;
  REQUIRE(s != NULL && c != NULL);
  aq_cid one;
  uint8_t tok1[AQ_STATELESS_RESET_TOKEN_LEN];
  int have = 0;
  for (size_t i = 0; i < AQ_MAX_LOCAL_CIDS; i++) {
    if (s->local_cids[i].seq == 1 && s->local_cids[i].state == 2) {
      one = s->local_cids[i].cid;
      memcpy(tok1, s->local_cids[i].token, sizeof(tok1));
      have = 1;
    }
  }
  REQUIRE(have);
  CHECK(aq_ep_find_conn(p.s.ep, &one, 0) == s);
  CHECK(aq_ep_find_conn(p.s.ep, &one, 1) == s);
  CHECK_INT(junk_gets_reset(&p, p.s.ep, &one, tok1), 0); /* routed to s: no reset */
  CHECK(!aq_conn_is_closed(s));
  /* The client retires sequence 1 (RETIRE_CONNECTION_ID). */
  for (size_t i = 0; i < AQ_MAX_PEER_CIDS; i++) {
    if (c->peer_cids[i].seq == 1) {
      c->peer_cids[i].in_use = 0;
    }
  }
  c->retire_seq_lo = 1;
  c->retire_seq_hi = 2;
  c->retire_pending = 1;
  (void)aq_sim_run_for(p.sim, 100 * AQ_MILLISECONDS, 100000);
  CHECK(aq_ep_find_conn(p.s.ep, &one, 0) == NULL);
  CHECK(aq_ep_find_conn(p.s.ep, &one, 1) == NULL);
  CHECK_INT(junk_gets_reset(&p, p.s.ep, &one, tok1), 1);
  /* Its replacement routes; the connection still works over it. */
  aq_cid four;
  have = 0;
  for (size_t i = 0; i < AQ_MAX_LOCAL_CIDS; i++) {
    if (s->local_cids[i].seq == 4 && s->local_cids[i].state == 2) {
      four = s->local_cids[i].cid;
      have = 1;
    }
  }
  REQUIRE(have);
  CHECK(aq_ep_find_conn(p.s.ep, &four, 0) == s);
  (void)aq_sim_run_for(p.sim, 100 * AQ_MILLISECONDS, 100000);
  for (size_t i = 0; i < AQ_MAX_PEER_CIDS; i++) {
    if (c->peer_cids[i].in_use && c->peer_cids[i].seq == 4) {
      c->dcid = c->peer_cids[i].cid;
      c->dcid_seq = 4;
    }
  }
  REQUIRE(aq_cid_eq(&c->dcid, &four));
  aq_simq_stream *cs = aq_simq_open(&p.c, 1, 20000, 1);
  REQUIRE(cs != NULL);
  CHECK_INT(aq_sim_run(p.sim, 5 * AQ_SECONDS, 1000000, stream_done, cs), AQ_SIM_DONE);
  CHECK_INT(cs->recvd, 20000);
  CHECK(!aq_conn_is_closed(s) && !aq_conn_is_closed(c));
  /* The server's original DCID (the client's first, long headers only) went with the handshake. */
  CHECK(aq_ep_find_conn(p.s.ep, &s->odcid, 1) == NULL);
  aq_simq_pair_free(&p);
}

/* During the handshake the client's chosen DCID routes long headers only. */
AQ_TEST(ep_original_dcid_long_header_only) {
  aq_simq_pair p;
  aq_sim_link_params lp = {.delay = 50 * AQ_MILLISECONDS};
  aq_simq_pair_init(&p, 511, &lp);
  aq_simq_pair_start(&p);
  /* The server has read the client's Initial but the handshake is not complete. */
  (void)aq_sim_run_for(p.sim, 120 * AQ_MILLISECONDS, 100000);
  aq_conn *s = p.s.conn;
  REQUIRE(s != NULL);
  REQUIRE(!s->handshake_complete);
  CHECK(aq_ep_find_conn(p.s.ep, &s->odcid, 1) == s);
  CHECK(aq_ep_find_conn(p.s.ep, &s->odcid, 0) == NULL);
  CHECK(aq_ep_find_conn(p.s.ep, &s->scid, 0) == s);
  REQUIRE(aq_sim_run(p.sim, 5 * AQ_SECONDS, 100000, aq_simq_pair_hs_done, &p) == AQ_SIM_DONE);
  (void)aq_sim_run_for(p.sim, 200 * AQ_MILLISECONDS, 100000);
  CHECK(aq_ep_find_conn(p.s.ep, &s->odcid, 1) == NULL);
  aq_simq_pair_free(&p);
}
