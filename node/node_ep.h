/*
 * node_ep.h - a QUIC endpoint on real UDP sockets: one aq_ep (the sans-IO
 * core) driven by one node_loop over up to NODE_LOOP_MAX_SOCKS node_socks.
 *
 * The driver it installs follows node_loop.h:
 *   on_datagrams:  every GRO segment -> aq_ep_read(path {d.local, d.remote});
 *                  with opts.ecn aq_ep_read_ecn(d.ecn)
 *   next_send:     aq_ep_write (with opts.ecn aq_ep_write_ecn: the core's ECN
 *                  codepoint goes on the datagram); the path's local address
 *                  becomes the source address (unless it is unspecified: the
 *                  kernel picks)
 *   get_expiry / handle_expiry: aq_ep_get_expiry / aq_ep_handle_expiry
 * The loop batches consecutive same-size datagrams to one peer into GSO
 * trains and sendmmsg calls.
 *
 * Application code runs inside the aq_callbacks (called from node_ep_run).
 * Calls that are not allowed inside a callback (aq_ep_connect, ...) are made
 * between runs: a callback calls node_ep_stop(), node_ep_run() returns, the
 * application does its work and runs again.
 *
 * A fatal error of the core (aq_ep_read / _write / _handle_expiry) stops the
 * loop and is kept: node_ep_run returns it, and so does node_ep_error.
 */
#ifndef NODE_EP_H
#define NODE_EP_H

#include <stddef.h>

#include "antquic.h"
#include "node_loop.h"
#include "node_sock.h"

typedef struct node_ep node_ep;

/** Optional knobs for node_ep_new_ex (zero = defaults). */
typedef struct node_ep_opts {
  node_sock_opts sock; /* socket options (buffers, no_gso, no_gro, v6only) */
  node_loop_opts loop; /* loop options (batch sizes, force_poll) */
  int ecn;             /* 1: ECN (RFC 9000 §13.4): received codepoints go to the core,
                        * which validates the path and marks datagrams ECT(0) (settings.
                        * enable_ecn); 0: no marking, received codepoints ignored */
  /* Optional: called with the endpoint's user_data when every datagram is out and the loop
   * is about to sleep (after the core's own deferred work): the place for work that must
   * not delay a reply, such as flushing buffered log lines. */
  void (*on_idle)(void *user_data);
} node_ep_opts;

/**
 * Bind UDP sockets on listen[0..nlisten-1] (1..NODE_LOOP_MAX_SOCKS; port 0 =
 * any free port; [::] tries dual-stack), create an aq_ep (is_server: accept
 * connections) with settings s and callbacks cb (copied; cb->rand NULL =
 * node_rand) and user_data passed back to them, and a node_loop driving it.
 * Returns 0, AQ_ERR_INVALID_ARGUMENT, AQ_ERR_IO (socket/bind failed) or
 * AQ_ERR_NOMEM.  *out is NULL on error.
 */
AQ_MUST_CHECK int node_ep_new(node_ep **out, const aq_addr *listen, size_t nlisten,
                              const aq_settings *s, const aq_callbacks *cb, void *user_data,
                              int is_server);

/** node_ep_new with options (opts may be NULL). */
AQ_MUST_CHECK int node_ep_new_ex(node_ep **out, const aq_addr *listen, size_t nlisten,
                                 const aq_settings *s, const aq_callbacks *cb, void *user_data,
                                 int is_server, const node_ep_opts *opts);

/** Delete the endpoint (all connections, no callbacks), the loop and the sockets. NULL is fine. */
void node_ep_del(node_ep *e);

/** The sans-IO endpoint (owned by e). */
aq_ep *node_ep_aq(node_ep *e);
/** The event loop (owned by e): add user fds, catch signals, read stats. */
node_loop *node_ep_loop(node_ep *e);
/** Number of sockets. */
size_t node_ep_nsocks(const node_ep *e);
/** Socket i (read-only use: stats, flags), or NULL. */
const node_sock *node_ep_sock(const node_ep *e, size_t i);

/** The actual bound address of socket i (port 0 resolved).  0 or AQ_ERR_NOT_FOUND. */
AQ_MUST_CHECK int node_ep_local_addr(const node_ep *e, size_t i, aq_addr *out);

/**
 * Start a client connection to remote from the first socket that can reach
 * it.  The path's local address is the source address the kernel would use
 * for remote (found with a connected probe socket) and the socket's port,
 * so it matches what PKTINFO reports for the answers.  Errors:
 * AQ_ERR_NOT_FOUND (no socket of a fitting family), AQ_ERR_IO, and those of
 * aq_ep_connect.  Not from inside a callback.
 */
AQ_MUST_CHECK int node_ep_connect(node_ep *e, const aq_addr *remote, aq_conn **out);

/**
 * Run the loop until node_ep_stop (or a caught signal), the monotonic
 * deadline (AQ_TSTAMP_NEVER = none) or a fatal core error.  Returns 0
 * (stopped), AQ_ERR_TIMEOUT, AQ_ERR_IO, or the core's fatal error.
 */
AQ_MUST_CHECK int node_ep_run(node_ep *e, aq_tstamp deadline);

/** Make node_ep_run return after the current iteration (callable from callbacks). */
void node_ep_stop(node_ep *e);

/** The fatal core error that stopped the endpoint, or 0. */
int node_ep_error(const node_ep *e);

#endif
