/*
 * bench_ep_lookup.c - endpoint demultiplexing: nanoseconds per lookup of a
 * Destination CID among N connections of one endpoint, with the keyed hash
 * table (aq_ep_find_conn, O(1)) and with the linear scan the endpoint used
 * before (aq_conn_owns_cid over every connection, O(N)), for N = 10, 1000,
 * 10000.  Connections are real client connections (aq_ep_connect); the
 * looked-up CIDs are their own, in a shuffled order, plus unknown CIDs (the
 * worst case of a scan: a stateless reset or a new connection).
 * Usage: bench_ep_lookup [seconds_per_case]
 * Prints: OP ep_lookup_<hash|scan>_<hit|miss>_n<N> <ns per lookup>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aq_cidmap.h"
#include "aq_conn.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static int b_rand(uint8_t *buf, size_t len, void *ud) {
  (void)ud;
  for (size_t i = 0; i < len; i++) {
    buf[i] = (uint8_t)next_rand();
  }
  return 0;
}

/* The endpoint's lookup before the hash table: every connection in turn. */
static aq_conn *scan(aq_conn **conns, size_t n, const aq_cid *dcid) {
  for (size_t i = 0; i < n; i++) {
    if (aq_conn_owns_cid(conns[i], dcid)) {
      return conns[i];
    }
  }
  return NULL;
}

static volatile uintptr_t sink;

static double run_case(aq_ep *ep, aq_conn **conns, size_t n, const aq_cid *keys, size_t nkeys,
                       int use_scan, double secs) {
  size_t done = 0;
  double t0 = now_s(), t;
  do {
    for (size_t k = 0; k < nkeys; k++) {
      aq_conn *c = use_scan ? scan(conns, n, &keys[k]) : aq_ep_find_conn(ep, &keys[k], 0);
      sink ^= (uintptr_t)c;
    }
    done += nkeys;
    t = now_s() - t0;
  } while (t < secs);
  return t * 1e9 / (double)done;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 0.3;
  static const size_t sizes[] = {10, 1000, 10000};
  for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
    size_t n = sizes[si];
    aq_settings set;
    aq_settings_default(&set);
    set.max_conns = n;
    aq_callbacks cb;
    memset(&cb, 0, sizeof(cb));
    cb.rand = b_rand;
    aq_ep *ep = aq_ep_new(&set, &cb, NULL, NULL, 0);
    aq_conn **conns = calloc(n, sizeof(*conns));
    aq_cid *hit = calloc(n, sizeof(*hit)), *miss = calloc(n, sizeof(*miss));
    if (ep == NULL || conns == NULL || hit == NULL || miss == NULL) {
      return 1;
    }
    aq_path path;
    memset(&path, 0, sizeof(path));
    for (size_t i = 0; i < n; i++) {
      if (aq_ep_connect(ep, &path, 0, &conns[i]) != 0) {
        fprintf(stderr, "connect %zu failed\n", i);
        return 1;
      }
      hit[i] = *aq_conn_scid(conns[i]);
      miss[i] = hit[i];
      miss[i].data[0] ^= 0x5a; /* unknown */
    }
    for (size_t i = n - 1; i > 0; i--) {
      size_t j = (size_t)(next_rand() % (i + 1));
      aq_cid tmp = hit[i];
      hit[i] = hit[j];
      hit[j] = tmp;
    }
    /* Check the two lookups agree before timing them. */
    for (size_t i = 0; i < n; i++) {
      if (aq_ep_find_conn(ep, &hit[i], 0) != scan(conns, n, &hit[i]) ||
          aq_ep_find_conn(ep, &hit[i], 0) == NULL || aq_ep_find_conn(ep, &miss[i], 0) != NULL) {
        fprintf(stderr, "lookup mismatch at %zu\n", i);
        return 1;
      }
    }
    printf("OP ep_lookup_hash_hit_n%zu %.1f\n", n, run_case(ep, conns, n, hit, n, 0, secs));
    printf("OP ep_lookup_scan_hit_n%zu %.1f\n", n, run_case(ep, conns, n, hit, n, 1, secs));
    printf("OP ep_lookup_hash_miss_n%zu %.1f\n", n, run_case(ep, conns, n, miss, n, 0, secs));
    printf("OP ep_lookup_scan_miss_n%zu %.1f\n", n, run_case(ep, conns, n, miss, n, 1, secs));
    fflush(stdout);
    aq_ep_del(ep);
    free(conns);
    free(hit);
    free(miss);
  }
  return 0;
}
