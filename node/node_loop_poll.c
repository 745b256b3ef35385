/*
 * node_loop_poll.c - the portable wait backend: ppoll() over the fd table
 * with a nanosecond relative timeout.  Used where epoll is missing, or when
 * node_loop_opts.force_poll asks for it.
 */
#include "node_loop_int.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

/* Nothing to set up: the pollfd array is built per wait. */
static int poll_be_init(node_loop *l) {
  (void)l;
  return 0;
}

/* Nothing to free. */
static void poll_be_fini(node_loop *l) {
  (void)l;
}

/* The fd table is the state: nothing to register. */
static int poll_be_update(node_loop *l, size_t slot, int op) {
  (void)l;
  (void)slot;
  (void)op;
  return 0;
}

/* Build the pollfd array, ppoll until ready or the deadline, dispatch.  0 or -1. */
static int poll_be_wait(node_loop *l, aq_tstamp deadline) {
  struct pollfd pfd[NODE_LOOP_MAX_FDS];
  size_t map[NODE_LOOP_MAX_FDS];
  nfds_t n = 0;
  for (size_t i = 0; i < NODE_LOOP_MAX_FDS; i++) {
    if (l->slots[i].kind == LOOP_SLOT_FREE) {
      continue;
    }
    pfd[n].fd = l->slots[i].fd;
    pfd[n].events = (short)(((l->slots[i].events & NODE_EV_IN) ? POLLIN : 0) |
                            ((l->slots[i].events & NODE_EV_OUT) ? POLLOUT : 0));
    pfd[n].revents = 0;
    map[n] = i;
    n++;
  }
  struct timespec ts, *tsp = NULL;
  if (deadline != AQ_TSTAMP_NEVER) {
    aq_tstamp now = node_now();
    aq_duration d = deadline > now ? deadline - now : 0;
    ts.tv_sec = (time_t)(d / AQ_SECONDS);
    ts.tv_nsec = (long)(d % AQ_SECONDS);
    tsp = &ts;
  }
  int r = ppoll(pfd, n, tsp, NULL);
  if (r < 0) {
    return errno == EINTR ? 0 : -1;
  }
  for (nfds_t k = 0; k < n && r > 0; k++) {
    if (pfd[k].revents == 0) {
      continue;
    }
    size_t slot = map[k];
    if (l->slots[slot].kind == LOOP_SLOT_FREE || l->slots[slot].fd != pfd[k].fd) {
      continue; /* removed by an earlier callback in this round */
    }
    unsigned ev = 0;
    if (pfd[k].revents & POLLIN) {
      ev |= NODE_EV_IN;
    }
    if (pfd[k].revents & POLLOUT) {
      ev |= NODE_EV_OUT;
    }
    if (pfd[k].revents & (POLLERR | POLLHUP | POLLNVAL)) {
      ev |= NODE_EV_ERR;
    }
    node_loop_on_ready(l, slot, ev);
  }
  return 0;
}

const loop_backend node_loop_backend_poll = {"poll", poll_be_init, poll_be_fini, poll_be_update,
                                             poll_be_wait};
