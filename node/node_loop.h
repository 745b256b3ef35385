/*
 * node_loop.h - the node's event loop: owns the clock (CLOCK_MONOTONIC, ns),
 * polls UDP sockets and other fds, and drives a sans-IO "driver" (the QUIC
 * core adapter) in the STYLE.md §F shape:
 *
 *   read all datagrams -> on_datagrams()
 *   handle_expiry(now) if get_expiry() <= now
 *   next_send() until it returns 0, batching consecutive datagrams that go
 *     to the same peer from the same local address with the same size and
 *     ECN into one GSO train, and trains into one sendmmsg
 *   sleep (epoll, or poll) until an fd is ready or the earliest expiry.
 *
 * Work per iteration is bounded (max_rx_batches, max_tx_dgrams); when a
 * bound is hit the loop does not sleep.  SIGINT/SIGTERM (after
 * node_loop_catch_signals) or node_loop_stop() end node_loop_run within one
 * iteration; the wake-up uses a self-pipe, so stopping from a signal handler
 * or another thread is safe.
 *
 * A QUIC connection adapter maps the driver onto the sans-IO core like this
 * (names per STYLE.md §F):
 *   on_datagrams:  for each d[i], for each segment (node_dgram_next_seg):
 *                  aq_conn_read_pkt(conn, path {d[i].local, d[i].remote}, seg, len, now),
 *                  d[i].ecn feeding the ECN counts
 *   next_send:     n = aq_conn_write_pkt(conn, &path_out, buf, cap, now);
 *                  meta->local/remote = path_out, meta->ecn = NODE_ECN_ECT0 if ECN is on
 *   get_expiry:    aq_conn_get_expiry(conn)   handle_expiry: aq_conn_handle_expiry(conn, now)
 * Several connections (or aq_punch / aq_qad) fit behind one driver by taking
 * the minimum expiry and round-robining next_send.
 *
 * Backend: epoll with a timerfd for nanosecond deadlines where <sys/epoll.h>
 * exists, else poll()/ppoll(); the poll backend can also be forced at run
 * time (opts.force_poll) so both are tested on Linux.
 */
#ifndef NODE_LOOP_H
#define NODE_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "node_sock.h"

#define NODE_LOOP_MAX_FDS 16  /* sockets + user fds + the loop's own */
#define NODE_LOOP_MAX_SOCKS 4 /* UDP sockets one loop drives */

#define NODE_EV_IN 1u
#define NODE_EV_OUT 2u
#define NODE_EV_ERR 4u /* error or hang-up */

typedef struct node_loop node_loop;

/** A user fd callback: events is a NODE_EV_* mask.  May call any node_loop_* but _del/_run. */
typedef void (*node_fd_cb)(node_loop *loop, int fd, unsigned events, void *user_data);

/**
 * What the loop drives (the QUIC core adapter implements it).  All four
 * callbacks are required; user_data is passed back unchanged.
 *  - on_datagrams: d[0..n-1] were received (GRO trains keep segsize; the
 *    callee splits them).  Buffers belong to the loop and are reused after
 *    the call returns.
 *  - next_send: write the next datagram into buf (at most cap bytes) and its
 *    addresses/ECN into *meta (meta->buf/len/cap/segsize are ignored;
 *    meta->local.family 0 = kernel picks the source).  Return its length, 0
 *    when there is nothing more to send now.
 *  - get_expiry: the earliest deadline (AQ_TSTAMP_NEVER = none).
 *  - handle_expiry: called with now >= the last get_expiry() value.
 */
typedef struct node_driver {
  void *user_data;
  void (*on_datagrams)(void *user_data, node_dgram *d, size_t n, aq_tstamp now);
  size_t (*next_send)(void *user_data, uint8_t *buf, size_t cap, node_dgram *meta, aq_tstamp now);
  aq_tstamp (*get_expiry)(void *user_data);
  void (*handle_expiry)(void *user_data, aq_tstamp now);
  /** Optional (may be NULL): everything is sent and the loop is about to sleep. */
  void (*on_idle)(void *user_data);
} node_driver;

/** Loop options (zero = defaults). */
typedef struct node_loop_opts {
  int force_poll;        /* 1: use the poll() backend even where epoll exists */
  size_t max_dgram;      /* cap passed to next_send; default 1500, max 65507 */
  size_t batch;          /* datagrams per recvmmsg / entries per sendmmsg; default 32, max 64 */
  size_t max_rx_batches; /* receive calls per socket per iteration; default 8 */
  size_t max_tx_dgrams;  /* next_send calls per iteration; default 1024 */
} node_loop_opts;

/** Counters (read with node_loop_stats). */
typedef struct node_loop_stats {
  uint64_t iterations;
  uint64_t expiries;      /* handle_expiry calls */
  uint64_t max_late_ns;   /* worst (now - expiry) at a handle_expiry call */
  uint64_t rx_dgrams;     /* datagrams (GRO trains count once) given to on_datagrams */
  uint64_t tx_dgrams;     /* datagrams taken from next_send */
  uint64_t tx_trains;     /* entries handed to node_sock_send (a GSO train counts once) */
  uint64_t tx_unroutable; /* datagrams dropped: no socket can reach meta.remote */
  uint64_t tx_blocked;    /* times the socket buffer filled */
} node_loop_stats;

/** Current CLOCK_MONOTONIC time in ns (the node's only clock). */
aq_tstamp node_now(void);

/**
 * Create a loop (allocates its send arena and receive buffers).  opts may be
 * NULL.  Returns 0, AQ_ERR_INVALID_ARGUMENT (option out of range),
 * AQ_ERR_NOMEM or AQ_ERR_IO (epoll/pipe/timerfd creation failed).
 */
AQ_MUST_CHECK int node_loop_new(node_loop **out, const node_loop_opts *opts);

/** Free the loop (restoring signal handlers it installed).  Does not close added fds/sockets. */
void node_loop_del(node_loop *loop);

/** Set the driver (copied).  NULL detaches it.  Returns 0 or AQ_ERR_INVALID_ARGUMENT. */
AQ_MUST_CHECK int node_loop_set_driver(node_loop *loop, const node_driver *drv);

/**
 * Add a UDP socket (the loop keeps the pointer; the caller keeps ownership
 * and must node_loop_remove_fd(s->fd) before closing it).  Datagrams from
 * next_send go out on the first added socket that can reach meta->remote.
 * Returns 0, AQ_ERR_LIMIT (too many) or AQ_ERR_IO.
 */
AQ_MUST_CHECK int node_loop_add_sock(node_loop *loop, node_sock *s);

/**
 * Watch fd for events (NODE_EV_IN and/or NODE_EV_OUT); cb runs from
 * node_loop_run when ready.  Returns 0, AQ_ERR_LIMIT, AQ_ERR_INVALID_ARGUMENT
 * (already watched) or AQ_ERR_IO.
 */
AQ_MUST_CHECK int node_loop_add_fd(node_loop *loop, int fd, unsigned events, node_fd_cb cb,
                                   void *user_data);

/** Stop watching fd (socket or user fd).  Returns 0 or AQ_ERR_NOT_FOUND. */
int node_loop_remove_fd(node_loop *loop, int fd);

/**
 * Make SIGINT and SIGTERM stop this loop (one loop per process at a time).
 * The previous handlers come back at node_loop_del.  Returns 0 or AQ_ERR_IO.
 */
AQ_MUST_CHECK int node_loop_catch_signals(node_loop *loop);

/**
 * Ask node_loop_run to return.  Async-signal-safe and callable from any
 * thread (those wake the loop through its self-pipe); from the loop's own
 * callbacks it only sets a flag, which the loop checks before it sleeps.
 */
void node_loop_stop(node_loop *loop);

/** Non-zero once a stop was requested (by node_loop_stop or a caught signal). */
int node_loop_stopped(const node_loop *loop);

/**
 * Run iterations until stopped or until the monotonic time reaches deadline
 * (AQ_TSTAMP_NEVER = no deadline).  A stop request is cleared on return.
 * Returns 0 (stopped), AQ_ERR_TIMEOUT (deadline reached) or AQ_ERR_IO (the
 * poll backend failed).  Not reentrant (not from inside a callback).
 */
AQ_MUST_CHECK int node_loop_run(node_loop *loop, aq_tstamp deadline);

/** Copy the counters into *st. */
void node_loop_stats_get(const node_loop *loop, node_loop_stats *st);

#endif
