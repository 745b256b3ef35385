/*
 * bench_udp.c - UDP throughput over loopback with the node_sock paths, no
 * crypto: 1350-byte datagrams for ~2 s per mode, a sender thread and a
 * receiver thread (one core each on a 2-core box):
 *
 *   sendto/recvfrom        one datagram per system call (the baseline)
 *   sendmmsg/recvmmsg(32)  node_sock batches of 32, GSO/GRO off
 *   GSO -> GRO             node_sock trains of 44 x 1350 B, 4 trains per sendmmsg,
 *                          GRO receive into 64 KiB buffers
 *
 * It prints Gbit/s delivered to the receiver (bytes received / sender time)
 * and the ratio against sendto/recvfrom measured in the same run.  Compare
 * with the ceilings in ../shared/interop/README.md (about 2.7, 3.2 and 35-40
 * Gbit/s there).  Usage: bench_udp [seconds-per-mode] (default 2).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "node_loop.h"
#include "node_sock.h"

#define DGRAM 1350
#define BATCH 32
#define GSO_SEGS 44
#define GSO_TRAINS 4

typedef enum bench_mode { MODE_PLAIN, MODE_MMSG, MODE_GSO } bench_mode;

typedef struct bench_rx {
  node_sock *s;
  bench_mode mode;
  atomic_int stop;
  uint64_t bytes, dgrams, calls;
} bench_rx;

static void *rx_thread(void *arg) {
  bench_rx *r = arg;
  uint8_t *mem = malloc((size_t)BATCH * NODE_SOCK_RECV_BUF_GRO);
  if (mem == NULL) {
    return NULL;
  }
  node_dgram d[BATCH];
  while (!atomic_load(&r->stop)) {
    struct pollfd pfd = {.fd = r->s->fd, .events = POLLIN, .revents = 0};
    if (poll(&pfd, 1, 20) <= 0) {
      continue;
    }
    for (int spin = 0; spin < 64; spin++) {
      if (r->mode == MODE_PLAIN) {
        ssize_t n = recvfrom(r->s->fd, mem, NODE_SOCK_RECV_BUF_GRO, MSG_DONTWAIT, NULL, NULL);
        if (n <= 0) {
          break;
        }
        r->bytes += (uint64_t)n;
        r->dgrams++;
        r->calls++;
        continue;
      }
      for (size_t i = 0; i < BATCH; i++) {
        memset(&d[i], 0, sizeof(d[i]));
        d[i].buf = mem + i * NODE_SOCK_RECV_BUF_GRO;
        d[i].cap = NODE_SOCK_RECV_BUF_GRO;
      }
      int n = node_sock_recv(r->s, d, BATCH);
      if (n <= 0) {
        break;
      }
      r->calls++;
      for (int i = 0; i < n; i++) {
        r->bytes += d[i].len;
        r->dgrams += (d[i].len + d[i].segsize - 1) / d[i].segsize;
      }
    }
  }
  free(mem);
  return NULL;
}

/* Run one mode for secs seconds; returns delivered Gbit/s (0 on setup failure). */
static double run_mode(bench_mode mode, double secs, const char *name) {
  static const uint8_t lo4[4] = {127, 0, 0, 1};
  aq_addr bind = aq_addr_ipv4(lo4, 0);
  node_sock_opts o = {.no_gso = mode != MODE_GSO, .no_gro = mode != MODE_GSO};
  node_sock tx, rxs;
  if (node_sock_open(&tx, &bind, &o) != 0 || node_sock_open(&rxs, &bind, &o) != 0) {
    fprintf(stderr, "%s: socket setup failed\n", name);
    return 0;
  }
  if (mode == MODE_GSO && (!tx.gso || !rxs.gro)) {
    printf("%-24s skipped: kernel refused GSO (%d) or GRO (%d)\n", name, tx.gso, rxs.gro);
    node_sock_close(&tx);
    node_sock_close(&rxs);
    return 0;
  }
  static uint8_t payload[GSO_TRAINS][GSO_SEGS * DGRAM];
  for (size_t i = 0; i < sizeof(payload); i++) {
    ((uint8_t *)payload)[i] = (uint8_t)i;
  }
  struct sockaddr_storage ss;
  socklen_t sslen;
  if (node_addr_to_sockaddr(&ss, &sslen, &rxs.bound, 0) != 0) {
    return 0;
  }
  node_dgram d[BATCH];
  size_t nd = mode == MODE_GSO ? GSO_TRAINS : BATCH;
  for (size_t i = 0; i < nd; i++) {
    memset(&d[i], 0, sizeof(d[i]));
    d[i].buf = mode == MODE_GSO ? payload[i] : payload[0] + i * DGRAM;
    d[i].len = mode == MODE_GSO ? (size_t)GSO_SEGS * DGRAM : DGRAM;
    d[i].segsize = DGRAM;
    d[i].remote = rxs.bound;
  }
  bench_rx r;
  memset(&r, 0, sizeof(r));
  r.s = &rxs;
  r.mode = mode;
  atomic_init(&r.stop, 0);
  pthread_t th;
  if (pthread_create(&th, NULL, rx_thread, &r) != 0) {
    return 0;
  }
  uint64_t sent = 0, calls = 0;
  aq_tstamp start = node_now(), end = start + (aq_tstamp)(secs * 1e9);
  aq_tstamp now = start;
  while (now < end) {
    for (int k = 0; k < 16; k++) {
      if (mode == MODE_PLAIN) {
        ssize_t n = sendto(tx.fd, payload[0], DGRAM, 0, (struct sockaddr *)&ss, sslen);
        if (n > 0) {
          sent += (uint64_t)n;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
          struct pollfd pfd = {.fd = tx.fd, .events = POLLOUT, .revents = 0};
          (void)poll(&pfd, 1, 1);
        }
      } else {
        int n = node_sock_send(&tx, d, nd);
        for (int i = 0; i < n; i++) {
          sent += d[i].len;
        }
        if (n >= 0 && (size_t)n < nd) {
          struct pollfd pfd = {.fd = tx.fd, .events = POLLOUT, .revents = 0};
          (void)poll(&pfd, 1, 1);
        }
      }
      calls++;
    }
    now = node_now();
  }
  double el = (double)(now - start) / 1e9;
  /* Let the receiver drain what is already queued, then stop it. */
  struct timespec pause = {0, 50 * 1000 * 1000};
  nanosleep(&pause, NULL);
  atomic_store(&r.stop, 1);
  pthread_join(th, NULL);
  double gbps = (double)r.bytes * 8 / el / 1e9;
  printf("%-24s %6.2f Gbit/s delivered (%5.2f Gbit/s offered), %6.0f kdgram/s, %llu send calls, "
         "%llu recv calls, loss %.1f%%\n",
         name, gbps, (double)sent * 8 / el / 1e9, (double)r.dgrams / el / 1e3,
         (unsigned long long)calls, (unsigned long long)r.calls,
         sent ? 100.0 * (1.0 - (double)r.bytes / (double)sent) : 0.0);
  if (mode != MODE_PLAIN) {
    printf("%-24s rcvbuf %d sndbuf %d gso %d gro %d fallbacks %llu\n", "", rxs.rcvbuf, tx.sndbuf,
           tx.gso, rxs.gro, (unsigned long long)tx.stats.gso_fallbacks);
  }
  node_sock_close(&tx);
  node_sock_close(&rxs);
  return gbps;
}

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 2.0;
  if (secs <= 0 || secs > 60) {
    fprintf(stderr, "usage: bench_udp [seconds per mode, 0-60]\n");
    return 2;
  }
  printf("bench_udp: %d-byte datagrams over 127.0.0.1, %.1f s per mode, no crypto\n", DGRAM, secs);
  double plain = run_mode(MODE_PLAIN, secs, "sendto/recvfrom");
  double mmsg = run_mode(MODE_MMSG, secs, "sendmmsg/recvmmsg(32)");
  double gso = run_mode(MODE_GSO, secs, "GSO->GRO (44 segs)");
  if (plain > 0) {
    printf("ratios vs sendto/recvfrom in this run: mmsg %.2fx, GSO->GRO %.2fx\n", mmsg / plain,
           gso / plain);
    printf("reference ceilings (shared/interop/README.md, 2-core box): 2.7 / 3.2 / 35-40 Gbit/s\n");
  }
  return plain > 0 && mmsg > 0 ? 0 : 1;
}
