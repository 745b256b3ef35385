/*
 * node_loop_int.h - node_loop internals shared by node_loop.c and the two
 * wait backends (node_loop_epoll.c, node_loop_poll.c).  Not for other users.
 */
#ifndef NODE_LOOP_INT_H
#define NODE_LOOP_INT_H

#include <pthread.h>
#include <signal.h>

#include "node_loop.h"

/* Build-time choice: epoll where the headers exist (Linux) unless -DNODE_LOOP_NO_EPOLL. */
#if defined(__has_include) && !defined(NODE_LOOP_NO_EPOLL)
#if __has_include(<sys/epoll.h>) && __has_include(<sys/timerfd.h>)
#define NODE_LOOP_HAVE_EPOLL 1
#endif
#endif

typedef enum loop_slot_kind {
  LOOP_SLOT_FREE = 0,
  LOOP_SLOT_USER,
  LOOP_SLOT_SOCK,
  LOOP_SLOT_WAKE
} loop_slot_kind;

/* One watched fd. */
typedef struct loop_slot {
  int fd;
  unsigned events; /* NODE_EV_* currently asked for */
  loop_slot_kind kind;
  node_fd_cb cb;
  void *user_data;
  size_t sock; /* index into socks[] for LOOP_SLOT_SOCK */
} loop_slot;

/* A wait backend.  wait() sleeps until an fd is ready or the absolute
 * deadline (AQ_TSTAMP_NEVER = none; deadline <= now = do not sleep) and
 * calls node_loop_on_ready() for each ready slot. */
typedef struct loop_backend {
  const char *name;
  int (*init)(node_loop *l);
  void (*fini)(node_loop *l);
  int (*update)(node_loop *l, size_t slot, int op); /* op: 0 add, 1 modify, 2 remove */
  int (*wait)(node_loop *l, aq_tstamp deadline);
} loop_backend;

#define LOOP_OP_ADD 0
#define LOOP_OP_MOD 1
#define LOOP_OP_DEL 2

/* A message waiting in the send arena (one datagram or one GSO train). */
typedef struct loop_msg {
  node_dgram d;
  size_t sock;
  int closed; /* a shorter last segment ended the train */
} loop_msg;

/* Per-socket receive state. */
typedef struct loop_sock {
  node_sock *s;
  size_t slot;
  int readable; /* try recv this iteration */
  int blocked;  /* send buffer full: waiting for NODE_EV_OUT */
} loop_sock;

struct node_loop {
  const loop_backend *be;
  node_loop_opts opts;
  node_driver drv;
  int have_drv;
  loop_slot slots[NODE_LOOP_MAX_FDS];
  loop_sock socks[NODE_LOOP_MAX_SOCKS];
  size_t nsocks;
  int wake_rd, wake_wr; /* self-pipe */
  volatile sig_atomic_t stop;
  /* Set while node_loop_run dispatches (read, expire, write) on thread runner:
   * a stop requested from there is seen before the loop sleeps, without the pipe. */
  volatile sig_atomic_t dispatching;
  pthread_t runner;
  int signals_caught;
  struct sigaction old_int, old_term;
  /* backend state */
  int epfd;
  int timerfd;
  aq_tstamp timer_armed;
  /* send arena */
  uint8_t *arena;
  size_t arena_cap, arena_used;
  loop_msg msgs[NODE_SOCK_MAX_BATCH];
  size_t nmsgs, msgs_sent;
  /* receive buffers */
  uint8_t *rxmem;
  node_dgram rx[NODE_SOCK_MAX_BATCH];
  node_loop_stats stats;
};

/* Called by a backend for each ready slot (events = NODE_EV_* mask). */
void node_loop_on_ready(node_loop *l, size_t slot, unsigned events);

extern const loop_backend node_loop_backend_poll;
#ifdef NODE_LOOP_HAVE_EPOLL
extern const loop_backend node_loop_backend_epoll;
#define NODE_LOOP_NATIVE_BACKEND (&node_loop_backend_epoll)
#else
#define NODE_LOOP_NATIVE_BACKEND (&node_loop_backend_poll)
#endif

#endif
