/*
 * bench_qad.c - QUIC address discovery costs: OBSERVED_ADDRESS encode and
 * decode (IPv4, IPv6) through the frame codec (aq_frame_encode /
 * aq_frame_decode), next to a plain 20-byte memcpy timed in the same run as
 * the unit, and the per-connection state size.
 *
 * Each operation runs in rounds of `iters` calls; the rounds of all
 * operations are interleaved and the best round of each is reported (ns per
 * call, CLOCK_MONOTONIC), with its ratio to the memcpy.  A compiler barrier
 * after every call keeps the work from being hoisted or dropped.
 *
 * Usage: bench_qad [iterations_per_round (default 2000000)] [rounds (default 7)]
 * Output lines: "OP <name> <ns/op> <x memcpy>" and "SIZE <name> <bytes>".
 * Not run by `make bench` (no script); run build/release/bench_qad.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aq_frame.h"
#include "aq_qad_conn.h"

#define BARRIER() __asm__ volatile("" ::: "memory")

enum { OP_MEMCPY, OP_ENC4, OP_DEC4, OP_ENC6, OP_DEC6, OP_COUNT };
static const char *const op_names[OP_COUNT] = {
    "memcpy20", "observed_addr_encode_ipv4", "observed_addr_decode_ipv4",
    "observed_addr_encode_ipv6", "observed_addr_decode_ipv6"};

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static aq_frame frame_of(int v6) {
  aq_frame f;
  memset(&f, 0, sizeof(f));
  static const uint8_t ip4[4] = {203, 0, 113, 7};
  static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34};
  f.type = v6 ? AQ_FT_OBSERVED_ADDRESS_V6 : AQ_FT_OBSERVED_ADDRESS_V4;
  f.u.addr.seq = 1234; /* a two-byte varint, as after a few hundred observations */
  f.u.addr.addr = v6 ? aq_addr_ipv6(ip6, 40001) : aq_addr_ipv4(ip4, 40001);
  return f;
}

/** One round of op; returns ns per call, or a negative value on a codec failure. */
static double run_round(int op, long iters, const uint8_t *enc, size_t enclen) {
  uint8_t out[64];
  static uint8_t src[64] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
  aq_frame f = frame_of(op == OP_ENC6 || op == OP_DEC6);
  double t0 = now_ns();
  for (long i = 0; i < iters; i++) {
    switch (op) {
    case OP_MEMCPY: memcpy(out, src + (i & 7), 20); break;
    case OP_ENC4:
    case OP_ENC6: {
      aq_wbuf w;
      aq_wbuf_init(&w, out, sizeof(out));
      if (aq_frame_encode(&w, &f) != 0) {
        return -1;
      }
      break;
    }
    case OP_DEC4:
    case OP_DEC6: {
      aq_rbuf r;
      aq_rbuf_init(&r, enc, enclen);
      if (aq_frame_decode(&f, &r) != 0) {
        return -1;
      }
      break;
    }
    default: return -1;
    }
    BARRIER();
  }
  double t = now_ns() - t0;
  return t / (double)iters;
}

int main(int argc, char **argv) {
  long iters = argc > 1 ? atol(argv[1]) : 2000000;
  int rounds = argc > 2 ? atoi(argv[2]) : 7;
  if (iters < 1 || rounds < 1) {
    fprintf(stderr, "usage: bench_qad [iterations_per_round] [rounds]\n");
    return 2;
  }
  uint8_t enc4[64], enc6[64];
  size_t len4, len6;
  {
    aq_wbuf w;
    aq_frame f = frame_of(0);
    aq_wbuf_init(&w, enc4, sizeof(enc4));
    if (aq_frame_encode(&w, &f) != 0) {
      return 1;
    }
    len4 = aq_wbuf_len(&w);
    f = frame_of(1);
    aq_wbuf_init(&w, enc6, sizeof(enc6));
    if (aq_frame_encode(&w, &f) != 0) {
      return 1;
    }
    len6 = aq_wbuf_len(&w);
  }
  double best[OP_COUNT];
  for (int op = 0; op < OP_COUNT; op++) {
    best[op] = 1e30;
  }
  for (int r = 0; r < rounds; r++) {
    for (int op = 0; op < OP_COUNT; op++) {
      int v6 = op == OP_DEC6;
      double ns = run_round(op, iters, v6 ? enc6 : enc4, v6 ? len6 : len4);
      if (ns < 0) {
        fprintf(stderr, "%s failed\n", op_names[op]);
        return 1;
      }
      if (ns < best[op]) {
        best[op] = ns;
      }
    }
  }
  printf("# best of %d rounds x %ld calls; frame sizes: IPv4 %zu bytes, IPv6 %zu bytes\n", rounds,
         iters, len4, len6);
  for (int op = 0; op < OP_COUNT; op++) {
    printf("OP %s %.2f ns %.2fx\n", op_names[op], best[op], best[op] / best[OP_MEMCPY]);
  }
  /* The generic decoder clears the whole aq_frame (ACK ranges included) for every frame. */
  printf("SIZE aq_frame %zu (aq_frame_decode clears it up to the ACK ranges)\n", sizeof(aq_frame));
  printf("SIZE qad_conn_state %zu\n", sizeof(aq_qad_conn));
  printf("SIZE qad_path_state %zu (x %d paths)\n", sizeof(aq_qad_path), AQ_MAX_PATHS);
  printf("SIZE qad_discovered_entry %zu (x %d per endpoint)\n", sizeof(aq_discovered_addr),
         AQ_QAD_MAX_DISCOVERED);
  return 0;
}
