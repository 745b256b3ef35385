/*
 * test_node_loop.c - node_loop with fake drivers: deadline order and
 * lateness, bounded work (an always-busy sender does not starve timers),
 * sending through GSO batching to a real loopback socket, receiving into the
 * driver, user fds, and stopping by node_loop_stop and by SIGINT/SIGTERM.
 * Each test runs with the epoll backend and the poll backend.  Every run is
 * bounded by a deadline; every socket and fd is closed.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "aq_test.h"
#include "node_loop.h"
#include "node_sock.h"

static const uint8_t lo4[4] = {127, 0, 0, 1};

/* ------------------------------------------------------------ timer driver */

#define TD_MAX 8

typedef struct timer_drv {
  aq_tstamp due[TD_MAX]; /* absolute deadlines, fired in order */
  aq_tstamp fired_at[TD_MAX];
  size_t n, next;
  node_loop *loop;
  int stop_when_done;
  int raise_sig; /* raise this signal at the first expiry (0 = none) */
  size_t expiry_calls;
  size_t idle_calls; /* on_idle: once per sleep */
} timer_drv;

static void td_on_dgrams(void *u, node_dgram *d, size_t n, aq_tstamp now) {
  (void)u, (void)d, (void)n, (void)now;
}

static size_t td_next_send(void *u, uint8_t *buf, size_t cap, node_dgram *meta, aq_tstamp now) {
  (void)u, (void)buf, (void)cap, (void)meta, (void)now;
  return 0;
}

static aq_tstamp td_get_expiry(void *u) {
  timer_drv *t = u;
  return t->next < t->n ? t->due[t->next] : AQ_TSTAMP_NEVER;
}

static void td_handle_expiry(void *u, aq_tstamp now) {
  timer_drv *t = u;
  t->expiry_calls++;
  if (t->raise_sig) {
    int sig = t->raise_sig;
    t->raise_sig = 0;
    raise(sig);
  }
  while (t->next < t->n && t->due[t->next] <= now) {
    t->fired_at[t->next++] = now;
  }
  if (t->stop_when_done && t->next == t->n) {
    node_loop_stop(t->loop);
  }
}

static void td_on_idle(void *u) {
  ((timer_drv *)u)->idle_calls++;
}

static node_driver td_driver(timer_drv *t) {
  node_driver d = {t, td_on_dgrams, td_next_send, td_get_expiry, td_handle_expiry, td_on_idle};
  return d;
}

/* A loop (epoll, or poll if force_poll) whose driver is t, zeroed; NULL on failure. */
static node_loop *td_loop_new(timer_drv *t, int force_poll, int stop_when_done) {
  node_loop *l;
  node_loop_opts o = {.force_poll = force_poll};
  if (node_loop_new(&l, &o) != 0) {
    return NULL;
  }
  memset(t, 0, sizeof(*t));
  t->loop = l;
  t->stop_when_done = stop_when_done;
  return l;
}

static void timer_order(int force_poll) {
  timer_drv t;
  node_loop *l = td_loop_new(&t, force_poll, 1);
  REQUIRE(l != NULL);
  aq_tstamp start = node_now();
  static const unsigned offs_ms[] = {3, 8, 8, 15, 30};
  t.n = sizeof(offs_ms) / sizeof(offs_ms[0]);
  for (size_t i = 0; i < t.n; i++) {
    t.due[i] = start + offs_ms[i] * AQ_MILLISECONDS;
  }
  node_driver d = td_driver(&t);
  REQUIRE(node_loop_set_driver(l, &d) == 0);
  int rc = node_loop_run(l, start + 2 * AQ_SECONDS);
  aq_tstamp elapsed = node_now() - start;
  CHECK_INT(rc, 0); /* stopped by the driver, not by the 2 s deadline */
  CHECK_INT(t.next, t.n);
  for (size_t i = 0; i < t.next; i++) {
    CHECK(t.fired_at[i] >= t.due[i]); /* never early */
    CHECK(i == 0 || t.fired_at[i] >= t.fired_at[i - 1]);
  }
  node_loop_stats st;
  node_loop_stats_get(l, &st);
  /* The two 8 ms deadlines always fire in one call: at most 4 expiry calls for 5 deadlines
   * (fewer when a loaded machine wakes us so late that more deadlines are due at once). */
  CHECK(t.expiry_calls >= 1 && t.expiry_calls <= 4);
  CHECK_INT(st.expiries, t.expiry_calls);
  /* on_idle ran before each sleep (and never more often than the loop iterated). */
  CHECK(t.idle_calls >= 1 && t.idle_calls <= st.iterations);
  /* It slept rather than spun: a handful of iterations, not thousands. */
  CHECK(st.iterations < 50);
  /* Lateness bounded (generous: a loaded 2-core CI box can stall a thread for tens of ms). */
  CHECK(st.max_late_ns < 200 * AQ_MILLISECONDS);
  CHECK(elapsed >= 30 * AQ_MILLISECONDS && elapsed < AQ_SECONDS);
  fprintf(stderr, "  %s: %llu iterations, worst lateness %llu us, elapsed %llu ms\n",
          force_poll ? "poll" : "epoll", (unsigned long long)st.iterations,
          (unsigned long long)(st.max_late_ns / 1000), (unsigned long long)(elapsed / 1000000));
  node_loop_del(l);
}

AQ_TEST(node_loop_timer_order_epoll) {
  timer_order(0);
}

AQ_TEST(node_loop_timer_order_poll) {
  timer_order(1);
}

AQ_TEST(node_loop_run_deadline) {
  /* No driver deadline: run returns AQ_ERR_TIMEOUT at its own deadline, not before. */
  for (int fp = 0; fp < 2; fp++) {
    node_loop *l;
    node_loop_opts o = {.force_poll = fp};
    REQUIRE(node_loop_new(&l, &o) == 0);
    aq_tstamp start = node_now();
    CHECK_INT(node_loop_run(l, start + 20 * AQ_MILLISECONDS), AQ_ERR_TIMEOUT);
    aq_tstamp el = node_now() - start;
    CHECK(el >= 20 * AQ_MILLISECONDS && el < AQ_SECONDS);
    node_loop_stats st;
    node_loop_stats_get(l, &st);
    CHECK(st.iterations < 10);
    node_loop_del(l);
  }
}

/* Stop by a signal raised inside a callback: run returns 0 at once; handlers restored. */
static void stop_by_signal(int sig, int force_poll) {
  struct sigaction before;
  REQUIRE(sigaction(sig, NULL, &before) == 0);
  timer_drv t;
  node_loop *l = td_loop_new(&t, force_poll, 0);
  REQUIRE(l != NULL);
  REQUIRE(node_loop_catch_signals(l) == 0);
  aq_tstamp start = node_now();
  t.n = 2;
  t.due[0] = start + 5 * AQ_MILLISECONDS;
  t.due[1] = start + 10 * AQ_SECONDS; /* would keep the loop asleep without the stop */
  t.raise_sig = sig;
  node_driver d = td_driver(&t);
  REQUIRE(node_loop_set_driver(l, &d) == 0);
  CHECK_INT(node_loop_run(l, start + 5 * AQ_SECONDS), 0);
  aq_tstamp el = node_now() - start;
  CHECK(el < AQ_SECONDS);
  CHECK_INT(t.next, 1);
  CHECK(!node_loop_stopped(l)); /* the request is consumed by run */
  node_loop_del(l);
  struct sigaction after;
  REQUIRE(sigaction(sig, NULL, &after) == 0);
  CHECK(after.sa_handler == before.sa_handler);
}

AQ_TEST(node_loop_stop_sigint_epoll) {
  stop_by_signal(SIGINT, 0);
}

AQ_TEST(node_loop_stop_sigterm_poll) {
  stop_by_signal(SIGTERM, 1);
}

/*
 * node_loop_stop from the loop's own callback sets a flag and leaves no
 * wake-up byte behind (the next run sleeps to its deadline in two
 * iterations); from another thread it wakes a sleeping loop.
 */
static void *stop_later(void *u) {
  struct timespec ts = {0, 20 * 1000 * 1000};
  nanosleep(&ts, NULL);
  node_loop_stop(u);
  return NULL;
}

static void stop_from_callback_and_thread(int force_poll) {
  timer_drv t;
  node_loop *l = td_loop_new(&t, force_poll, 1);
  REQUIRE(l != NULL);
  aq_tstamp start = node_now();
  t.n = 1;
  t.due[0] = start + 2 * AQ_MILLISECONDS;
  node_driver d = td_driver(&t);
  REQUIRE(node_loop_set_driver(l, &d) == 0);
  CHECK_INT(node_loop_run(l, start + 5 * AQ_SECONDS), 0);
  CHECK(node_now() - start < AQ_SECONDS);
  node_loop_stats st0, st1;
  node_loop_stats_get(l, &st0);
  aq_tstamp t1 = node_now();
  CHECK_INT(node_loop_run(l, t1 + 30 * AQ_MILLISECONDS), AQ_ERR_TIMEOUT);
  CHECK(node_now() - t1 >= 30 * AQ_MILLISECONDS);
  node_loop_stats_get(l, &st1);
  CHECK(st1.iterations - st0.iterations <= 2); /* one sleep: no stale wake-up */
  pthread_t th;
  aq_tstamp t2 = node_now();
  REQUIRE(pthread_create(&th, NULL, stop_later, l) == 0);
  CHECK_INT(node_loop_run(l, t2 + 5 * AQ_SECONDS), 0);
  CHECK(node_now() - t2 < 2 * AQ_SECONDS);
  pthread_join(th, NULL);
  node_loop_del(l);
}

AQ_TEST(node_loop_stop_callback_thread_epoll) {
  stop_from_callback_and_thread(0);
}

AQ_TEST(node_loop_stop_callback_thread_poll) {
  stop_from_callback_and_thread(1);
}

/* ------------------------------------------------------------- user fds */

typedef struct fd_ctx {
  int calls;
  unsigned events;
  uint8_t byte;
} fd_ctx;

static void on_pipe(node_loop *l, int fd, unsigned events, void *u) {
  fd_ctx *c = u;
  c->calls++;
  c->events = events;
  if (read(fd, &c->byte, 1) == 1) {
    node_loop_stop(l);
  }
}

AQ_TEST(node_loop_user_fd) {
  for (int fp = 0; fp < 2; fp++) {
    node_loop *l;
    node_loop_opts o = {.force_poll = fp};
    REQUIRE(node_loop_new(&l, &o) == 0);
    int p[2];
    REQUIRE(pipe(p) == 0);
    fd_ctx c;
    memset(&c, 0, sizeof(c));
    REQUIRE(node_loop_add_fd(l, p[0], NODE_EV_IN, on_pipe, &c) == 0);
    CHECK_INT(node_loop_add_fd(l, p[0], NODE_EV_IN, on_pipe, &c), AQ_ERR_INVALID_ARGUMENT);
    CHECK_INT(node_loop_add_fd(l, p[1], 0, on_pipe, &c), AQ_ERR_INVALID_ARGUMENT);
    /* Nothing to read: the run times out without calling back. */
    CHECK_INT(node_loop_run(l, node_now() + 10 * AQ_MILLISECONDS), AQ_ERR_TIMEOUT);
    CHECK_INT(c.calls, 0);
    uint8_t b = 0x42;
    REQUIRE(write(p[1], &b, 1) == 1);
    CHECK_INT(node_loop_run(l, node_now() + 2 * AQ_SECONDS), 0);
    CHECK_INT(c.calls, 1);
    CHECK(c.events & NODE_EV_IN);
    CHECK_INT(c.byte, 0x42);
    CHECK_INT(node_loop_remove_fd(l, p[0]), 0);
    CHECK_INT(node_loop_remove_fd(l, p[0]), AQ_ERR_NOT_FOUND);
    REQUIRE(write(p[1], &b, 1) == 1);
    CHECK_INT(node_loop_run(l, node_now() + 10 * AQ_MILLISECONDS), AQ_ERR_TIMEOUT);
    CHECK_INT(c.calls, 1); /* removed: no more callbacks */
    close(p[0]);
    close(p[1]);
    node_loop_del(l);
  }
}

/* ------------------------------------------------------------ I/O driver */

#define IO_N 200
#define IO_SEG 1200

typedef struct io_drv {
  aq_addr peer;   /* where next_send sends */
  size_t to_send; /* datagrams left */
  size_t sent;
  int infinite; /* always have something to send */
  size_t rx, rx_bad;
  size_t rx_want;
  aq_addr rx_local_expect;
  node_loop *loop;
  aq_tstamp expiry; /* one timer */
  aq_tstamp expired_at;
  size_t rx_at_expiry;
} io_drv;

static uint8_t io_pat(size_t i, size_t j) {
  return (uint8_t)(i * 17u + j * 3u + 5u);
}

static void io_on_dgrams(void *u, node_dgram *d, size_t n, aq_tstamp now) {
  io_drv *x = u;
  (void)now;
  for (size_t k = 0; k < n; k++) {
    size_t off = 0, len;
    const uint8_t *p;
    while (node_dgram_next_seg(&d[k], &off, &p, &len)) {
      int ok = len == 100 && aq_addr_eq(&d[k].local, &x->rx_local_expect);
      for (size_t j = 0; ok && j < len; j++) {
        ok = p[j] == io_pat(x->rx, j);
      }
      x->rx_bad += !ok;
      x->rx++;
    }
  }
  if (x->rx_want && x->rx >= x->rx_want) {
    node_loop_stop(x->loop);
  }
}

static size_t io_next_send(void *u, uint8_t *buf, size_t cap, node_dgram *meta, aq_tstamp now) {
  io_drv *x = u;
  (void)now;
  if (!x->infinite && x->sent >= x->to_send) {
    return 0;
  }
  /* Every 50th datagram is short: it must close a GSO train. */
  size_t len = x->sent % 50 == 49 ? 333 : IO_SEG;
  if (len > cap) {
    return 0;
  }
  for (size_t j = 0; j < len; j++) {
    buf[j] = io_pat(x->sent, j);
  }
  meta->remote = x->peer;
  x->sent++;
  return len;
}

static aq_tstamp io_get_expiry(void *u) {
  io_drv *x = u;
  return x->expired_at ? AQ_TSTAMP_NEVER : x->expiry;
}

static void io_handle_expiry(void *u, aq_tstamp now) {
  io_drv *x = u;
  x->expired_at = now;
  x->rx_at_expiry = x->rx;
  if (x->infinite) {
    node_loop_stop(x->loop);
  }
}

static node_driver io_driver(io_drv *x) {
  node_driver d = {x, io_on_dgrams, io_next_send, io_get_expiry, io_handle_expiry, NULL};
  return d;
}

/* 200 datagrams out through the loop to a peer socket, 40 back in; block_after >= 0 makes the
 * socket "full" after that many messages once, to exercise the wait-for-writable path. */
static void loop_send_recv(int force_poll, int gso, int block_after) {
  aq_addr bind = aq_addr_ipv4(lo4, 0);
  node_sock_opts so = {.no_gso = !gso, .no_gro = 1};
  node_sock mine, peer;
  REQUIRE(node_sock_open(&mine, &bind, &so) == 0);
  REQUIRE(node_sock_open(&peer, &bind, &so) == 0);
  node_loop *l;
  node_loop_opts o = {.force_poll = force_poll};
  REQUIRE(node_loop_new(&l, &o) == 0);
  REQUIRE(node_loop_add_sock(l, &mine) == 0);
  if (block_after >= 0) {
    mine.test_block = 1;
    mine.test_block_after = block_after;
  }
  io_drv x;
  memset(&x, 0, sizeof(x));
  x.peer = peer.bound;
  x.to_send = IO_N;
  x.loop = l;
  x.expiry = AQ_TSTAMP_NEVER;
  x.rx_local_expect = mine.bound;
  node_driver d = io_driver(&x);
  REQUIRE(node_loop_set_driver(l, &d) == 0);
  /* Send phase: the run ends at its deadline once the driver is drained. */
  CHECK_INT(node_loop_run(l, node_now() + 50 * AQ_MILLISECONDS), AQ_ERR_TIMEOUT);
  CHECK_INT(x.sent, IO_N);
  node_loop_stats st;
  node_loop_stats_get(l, &st);
  CHECK_INT(st.tx_dgrams, IO_N);
  CHECK_INT(mine.stats.tx_dgrams, IO_N);
  CHECK_INT(st.tx_blocked, block_after >= 0 ? 1 : 0);
  if (block_after >= 0) {
    CHECK_INT(mine.test_block, 0);
  } else if (mine.gso) {
    /* Trains of up to 50 (54 KB under the 65000-byte cap) closed by the short datagram. */
    CHECK(st.tx_trains <= 12);
  } else {
    CHECK_INT(st.tx_trains, IO_N);
  }
  fprintf(stderr, "  %s gso %d: %llu datagrams in %llu trains, %llu sendmmsg calls\n",
          force_poll ? "poll" : "epoll", mine.gso, (unsigned long long)st.tx_dgrams,
          (unsigned long long)st.tx_trains, (unsigned long long)mine.stats.tx_calls);
  /* The peer got every datagram in order with the right content. */
  static uint8_t buf[64][2048];
  size_t got = 0, bad = 0;
  aq_tstamp end = node_now() + 2 * AQ_SECONDS;
  while (got < IO_N && node_now() < end) {
    struct pollfd pfd = {.fd = peer.fd, .events = POLLIN, .revents = 0};
    if (poll(&pfd, 1, 100) <= 0) {
      continue;
    }
    node_dgram r[64];
    for (size_t i = 0; i < 64; i++) {
      memset(&r[i], 0, sizeof(r[i]));
      r[i].buf = buf[i];
      r[i].cap = sizeof(buf[i]);
    }
    int n = node_sock_recv(&peer, r, 64);
    for (int i = 0; i < n; i++, got++) {
      size_t want = got % 50 == 49 ? 333 : IO_SEG;
      int ok = r[i].len == want && aq_addr_eq(&r[i].remote, &mine.bound);
      for (size_t j = 0; ok && j < want; j++) {
        ok = r[i].buf[j] == io_pat(got, j);
      }
      bad += !ok;
    }
  }
  CHECK_INT(got, IO_N);
  CHECK_INT(bad, 0);
  /* Receive phase: the peer sends 40 datagrams; the driver checks them and stops the loop. */
  x.rx_want = 40;
  node_dgram sd[40];
  static uint8_t sbuf[40][100];
  for (size_t i = 0; i < 40; i++) {
    for (size_t j = 0; j < 100; j++) {
      sbuf[i][j] = io_pat(i, j);
    }
    memset(&sd[i], 0, sizeof(sd[i]));
    sd[i].buf = sbuf[i];
    sd[i].len = 100;
    sd[i].remote = mine.bound;
  }
  CHECK_INT(node_sock_send(&peer, sd, 40), 40);
  CHECK_INT(node_loop_run(l, node_now() + 2 * AQ_SECONDS), 0);
  CHECK_INT(x.rx, 40);
  CHECK_INT(x.rx_bad, 0);
  CHECK_INT(node_loop_remove_fd(l, mine.fd), 0);
  node_loop_del(l);
  node_sock_close(&mine);
  node_sock_close(&peer);
}

AQ_TEST(node_loop_send_recv_gso_epoll) {
  loop_send_recv(0, 1, -1);
}

AQ_TEST(node_loop_send_recv_nogso_poll) {
  loop_send_recv(1, 0, -1);
}

AQ_TEST(node_loop_send_blocked_epoll) {
  loop_send_recv(0, 0, 5);
}

AQ_TEST(node_loop_send_blocked_gso_poll) {
  loop_send_recv(1, 1, 1);
}

/* A flooded receiver must not starve the timer: one bounded read phase, then the expiry. */
static void flooded_receiver(int force_poll) {
  aq_addr bind = aq_addr_ipv4(lo4, 0);
  node_sock_opts no = {.no_gro = 1};
  node_sock mine, peer;
  REQUIRE(node_sock_open(&mine, &bind, &no) == 0);
  REQUIRE(node_sock_open(&peer, &bind, &no) == 0);
  enum { FLOOD = 640 };
  static uint8_t sbuf[64][100];
  node_dgram sd[64];
  size_t queued = 0;
  for (size_t round = 0; round < FLOOD / 64; round++) {
    for (size_t i = 0; i < 64; i++) {
      for (size_t j = 0; j < 100; j++) {
        sbuf[i][j] = io_pat(round * 64 + i, j);
      }
      memset(&sd[i], 0, sizeof(sd[i]));
      sd[i].buf = sbuf[i];
      sd[i].len = 100;
      sd[i].remote = mine.bound;
    }
    int r = node_sock_send(&peer, sd, 64);
    CHECK_INT(r, 64);
    queued += r > 0 ? (size_t)r : 0;
  }
  REQUIRE(queued == FLOOD);
  node_loop *l;
  node_loop_opts o = {.force_poll = force_poll, .batch = 8, .max_rx_batches = 2};
  REQUIRE(node_loop_new(&l, &o) == 0);
  REQUIRE(node_loop_add_sock(l, &mine) == 0);
  io_drv x;
  memset(&x, 0, sizeof(x));
  x.peer = peer.bound;
  x.loop = l;
  x.rx_local_expect = mine.bound;
  x.rx_want = FLOOD;
  x.expiry = node_now(); /* already due */
  node_driver d = io_driver(&x);
  REQUIRE(node_loop_set_driver(l, &d) == 0);
  CHECK_INT(node_loop_run(l, node_now() + 2 * AQ_SECONDS), 0);
  CHECK(x.expired_at != 0);
  CHECK_INT(x.rx_at_expiry, 16); /* 2 batches of 8 before the timer, not the whole flood */
  CHECK_INT(x.rx, FLOOD);
  CHECK_INT(x.rx_bad, 0);
  CHECK_INT(node_loop_remove_fd(l, mine.fd), 0);
  node_loop_del(l);
  node_sock_close(&mine);
  node_sock_close(&peer);
}

AQ_TEST(node_loop_flooded_receiver_epoll) {
  flooded_receiver(0);
}

AQ_TEST(node_loop_flooded_receiver_poll) {
  flooded_receiver(1);
}

/* An always-busy sender must not starve the timer: bounded work per iteration. */
static void busy_sender(int force_poll) {
  aq_addr bind = aq_addr_ipv4(lo4, 0);
  node_sock mine, sink;
  REQUIRE(node_sock_open(&mine, &bind, NULL) == 0);
  node_sock_opts small = {.bufsize = 1 << 20};
  REQUIRE(node_sock_open(&sink, &bind, &small) == 0);
  node_loop *l;
  node_loop_opts o = {.force_poll = force_poll, .max_tx_dgrams = 256};
  REQUIRE(node_loop_new(&l, &o) == 0);
  REQUIRE(node_loop_add_sock(l, &mine) == 0);
  io_drv x;
  memset(&x, 0, sizeof(x));
  x.peer = sink.bound;
  x.infinite = 1;
  x.loop = l;
  aq_tstamp start = node_now();
  x.expiry = start + 20 * AQ_MILLISECONDS;
  node_driver d = io_driver(&x);
  REQUIRE(node_loop_set_driver(l, &d) == 0);
  CHECK_INT(node_loop_run(l, start + 2 * AQ_SECONDS), 0); /* the expiry stopped it */
  CHECK(x.expired_at >= x.expiry);
  CHECK(x.expired_at - x.expiry < 250 * AQ_MILLISECONDS);
  CHECK(x.sent > 256); /* it really was busy for several iterations */
  fprintf(stderr, "  %s: %zu datagrams sent before the timer, %llu us late\n",
          force_poll ? "poll" : "epoll", x.sent,
          (unsigned long long)((x.expired_at - x.expiry) / 1000));
  CHECK_INT(node_loop_remove_fd(l, mine.fd), 0);
  node_loop_del(l);
  node_sock_close(&mine);
  node_sock_close(&sink);
}

AQ_TEST(node_loop_busy_sender_timer_epoll) {
  busy_sender(0);
}

AQ_TEST(node_loop_busy_sender_timer_poll) {
  busy_sender(1);
}

AQ_TEST(node_loop_bad_args) {
  node_loop *l;
  node_loop_opts big = {.batch = NODE_SOCK_MAX_BATCH + 1};
  CHECK_INT(node_loop_new(&l, &big), AQ_ERR_INVALID_ARGUMENT);
  node_loop_opts huge = {.max_dgram = NODE_SOCK_MAX_UDP_PAYLOAD + 1};
  CHECK_INT(node_loop_new(&l, &huge), AQ_ERR_INVALID_ARGUMENT);
  REQUIRE(node_loop_new(&l, NULL) == 0);
  node_driver partial = {NULL, td_on_dgrams, NULL, td_get_expiry, td_handle_expiry, NULL};
  CHECK_INT(node_loop_set_driver(l, &partial), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(node_loop_remove_fd(l, 12345), AQ_ERR_NOT_FOUND);
  /* Socket table limit. */
  node_sock s[NODE_LOOP_MAX_SOCKS + 1];
  aq_addr bind = aq_addr_ipv4(lo4, 0);
  size_t opened = 0;
  for (; opened < NODE_LOOP_MAX_SOCKS + 1; opened++) {
    if (node_sock_open(&s[opened], &bind, NULL) != 0) {
      break;
    }
  }
  REQUIRE(opened == NODE_LOOP_MAX_SOCKS + 1);
  for (size_t i = 0; i < NODE_LOOP_MAX_SOCKS; i++) {
    CHECK_INT(node_loop_add_sock(l, &s[i]), 0);
  }
  CHECK_INT(node_loop_add_sock(l, &s[NODE_LOOP_MAX_SOCKS]), AQ_ERR_LIMIT);
  node_loop_del(l);
  for (size_t i = 0; i < opened; i++) {
    node_sock_close(&s[i]);
  }
}
