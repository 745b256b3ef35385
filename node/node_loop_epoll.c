/*
 * node_loop_epoll.c - the epoll wait backend (Linux): level-triggered epoll
 * plus a timerfd armed at the absolute CLOCK_MONOTONIC deadline, so sleeps
 * end on the nanosecond rather than rounded to epoll_wait's milliseconds.
 */
#include "node_loop_int.h"

#ifdef NODE_LOOP_HAVE_EPOLL

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* epoll data value of the timerfd (slot indices are below NODE_LOOP_MAX_FDS). */
#define EPOLL_TIMER_TAG 0xffffffffu
#define EPOLL_MAX_EVENTS NODE_LOOP_MAX_FDS

/* Create the epoll set and the timerfd (registered under EPOLL_TIMER_TAG). */
static int epoll_be_init(node_loop *l) {
  l->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (l->epfd < 0) {
    return -1;
  }
  l->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (l->timerfd < 0) {
    return -1;
  }
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = EPOLLIN;
  ev.data.u32 = EPOLL_TIMER_TAG;
  l->timer_armed = AQ_TSTAMP_NEVER;
  return epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->timerfd, &ev);
}

/* Close the timerfd and the epoll set. */
static void epoll_be_fini(node_loop *l) {
  if (l->timerfd >= 0) {
    close(l->timerfd);
  }
  if (l->epfd >= 0) {
    close(l->epfd);
  }
  l->timerfd = l->epfd = -1;
}

/* Mirror a slot change (add / modify events / remove) into the epoll set. */
static int epoll_be_update(node_loop *l, size_t slot, int op) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  unsigned want = l->slots[slot].events;
  ev.events = ((want & NODE_EV_IN) ? (uint32_t)EPOLLIN : 0u) |
              ((want & NODE_EV_OUT) ? (uint32_t)EPOLLOUT : 0u);
  ev.data.u32 = (uint32_t)slot;
  int eop = op == LOOP_OP_ADD ? EPOLL_CTL_ADD : op == LOOP_OP_MOD ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
  return epoll_ctl(l->epfd, eop, l->slots[slot].fd, &ev);
}

/* Arm (or disarm, for NEVER) the timerfd at an absolute deadline, skipping no-op changes. */
static int epoll_arm(node_loop *l, aq_tstamp deadline) {
  if (deadline == l->timer_armed) {
    return 0;
  }
  struct itimerspec its;
  memset(&its, 0, sizeof(its));
  if (deadline != AQ_TSTAMP_NEVER) {
    aq_tstamp d = deadline == 0 ? 1 : deadline; /* all-zero would disarm */
    its.it_value.tv_sec = (time_t)(d / AQ_SECONDS);
    its.it_value.tv_nsec = (long)(d % AQ_SECONDS);
  }
  if (timerfd_settime(l->timerfd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
    return -1;
  }
  l->timer_armed = deadline;
  return 0;
}

/* Sleep until an fd is ready or the deadline; dispatch ready slots.  0 or -1. */
static int epoll_be_wait(node_loop *l, aq_tstamp deadline) {
  int timeout_ms = -1;
  if (deadline != AQ_TSTAMP_NEVER && deadline <= node_now()) {
    timeout_ms = 0;
  } else if (epoll_arm(l, deadline) != 0) {
    return -1;
  }
  struct epoll_event evs[EPOLL_MAX_EVENTS + 1];
  int n = epoll_wait(l->epfd, evs, EPOLL_MAX_EVENTS + 1, timeout_ms);
  if (n < 0) {
    return errno == EINTR ? 0 : -1;
  }
  for (int i = 0; i < n; i++) {
    uint32_t tag = evs[i].data.u32;
    if (tag == EPOLL_TIMER_TAG) {
      uint64_t expirations;
      ssize_t r = read(l->timerfd, &expirations, sizeof(expirations));
      (void)r;
      l->timer_armed = AQ_TSTAMP_NEVER; /* a fired absolute timer is disarmed */
      continue;
    }
    if (tag >= NODE_LOOP_MAX_FDS || l->slots[tag].kind == LOOP_SLOT_FREE) {
      continue; /* removed by an earlier callback in this batch */
    }
    unsigned ev = 0;
    if (evs[i].events & EPOLLIN) {
      ev |= NODE_EV_IN;
    }
    if (evs[i].events & EPOLLOUT) {
      ev |= NODE_EV_OUT;
    }
    if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
      ev |= NODE_EV_ERR;
    }
    node_loop_on_ready(l, tag, ev);
  }
  return 0;
}

const loop_backend node_loop_backend_epoll = {"epoll", epoll_be_init, epoll_be_fini,
                                              epoll_be_update, epoll_be_wait};

#else
typedef int node_loop_epoll_unused; /* ISO C: a translation unit must not be empty */
#endif
