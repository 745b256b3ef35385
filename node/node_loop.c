/*
 * node_loop.c - the node's event loop (see node_loop.h): clock, fd table,
 * signals, and the read -> expire -> write -> sleep iteration with GSO /
 * sendmmsg batching of what the driver produces.
 *
 * Timers: the loop has no timers of its own; it sleeps until the driver's
 * get_expiry() (nanosecond precision: timerfd under epoll, ppoll under
 * poll) or until an fd is ready, and never sleeps while a work bound (rx
 * batches, tx datagrams) was hit in the previous phase.
 */
#include "node_loop_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Largest GSO train the loop builds (leaves room for IPv6 + UDP headers under 64 KiB). */
#define LOOP_GSO_MAX_BYTES 65000u

aq_tstamp node_now(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
    return 0; /* cannot happen with CLOCK_MONOTONIC */
  }
  return (aq_tstamp)ts.tv_sec * AQ_SECONDS + (aq_tstamp)ts.tv_nsec;
}

/* ---------------------------------------------------------------- signals */

/* The write end of the self-pipe of the loop that catches signals (one per process). */
static volatile sig_atomic_t g_signal_fd = -1;
static node_loop *volatile g_signal_loop;

static void loop_on_signal(int sig) {
  (void)sig;
  int saved = errno;
  node_loop *l = g_signal_loop;
  if (l != NULL) {
    l->stop = 1;
  }
  int fd = g_signal_fd;
  if (fd >= 0) {
    uint8_t b = 1;
    ssize_t r = write(fd, &b, 1);
    (void)r; /* a full pipe already wakes the loop */
  }
  errno = saved;
}

int node_loop_catch_signals(node_loop *l) {
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = loop_on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  g_signal_loop = l;
  g_signal_fd = l->wake_wr;
  if (sigaction(SIGINT, &sa, &l->old_int) != 0) {
    return AQ_ERR_IO;
  }
  if (sigaction(SIGTERM, &sa, &l->old_term) != 0) {
    (void)sigaction(SIGINT, &l->old_int, NULL);
    return AQ_ERR_IO;
  }
  l->signals_caught = 1;
  return 0;
}

void node_loop_stop(node_loop *l) {
  l->stop = 1;
  if (l->dispatching && pthread_equal(pthread_self(), l->runner)) {
    return; /* a callback of this loop: node_loop_run checks stop before it sleeps */
  }
  uint8_t b = 1;
  ssize_t r = write(l->wake_wr, &b, 1);
  (void)r;
}

int node_loop_stopped(const node_loop *l) {
  return l->stop != 0;
}

/* ------------------------------------------------------------ create/free */

/* Make fd non-blocking and close-on-exec; 0 or -1. */
static int set_nonblock_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) {
    return -1;
  }
  return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* The slot watching fd, or -1. */
static int loop_slot_find(const node_loop *l, int fd) {
  for (size_t i = 0; i < NODE_LOOP_MAX_FDS; i++) {
    if (l->slots[i].kind != LOOP_SLOT_FREE && l->slots[i].fd == fd) {
      return (int)i;
    }
  }
  return -1;
}

/* Take a free slot and register it with the backend; returns the slot or a negative error. */
static int loop_slot_add(node_loop *l, int fd, unsigned events, loop_slot_kind kind) {
  if (fd < 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (loop_slot_find(l, fd) >= 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < NODE_LOOP_MAX_FDS; i++) {
    if (l->slots[i].kind == LOOP_SLOT_FREE) {
      memset(&l->slots[i], 0, sizeof(l->slots[i]));
      l->slots[i].fd = fd;
      l->slots[i].events = events;
      l->slots[i].kind = kind;
      if (l->be->update(l, i, LOOP_OP_ADD) != 0) {
        l->slots[i].kind = LOOP_SLOT_FREE;
        return AQ_ERR_IO;
      }
      return (int)i;
    }
  }
  return AQ_ERR_LIMIT;
}

int node_loop_new(node_loop **out, const node_loop_opts *opts) {
  *out = NULL;
  node_loop_opts o;
  memset(&o, 0, sizeof(o));
  if (opts != NULL) {
    o = *opts;
  }
  if (o.max_dgram == 0) {
    o.max_dgram = 1500;
  }
  if (o.batch == 0) {
    o.batch = 32;
  }
  if (o.max_rx_batches == 0) {
    o.max_rx_batches = 8;
  }
  if (o.max_tx_dgrams == 0) {
    o.max_tx_dgrams = 1024;
  }
  if (o.max_dgram > NODE_SOCK_MAX_UDP_PAYLOAD || o.batch > NODE_SOCK_MAX_BATCH) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  node_loop *l = calloc(1, sizeof(*l));
  if (l == NULL) {
    return AQ_ERR_NOMEM;
  }
  l->opts = o;
  l->wake_rd = l->wake_wr = l->epfd = l->timerfd = -1;
  l->timer_armed = AQ_TSTAMP_NEVER;
  /* Room for a full batch of maximal GSO trains is not needed: the writer flushes when the
   * arena cannot take one more max_dgram.  Four full trains keep sendmmsg batches useful. */
  l->arena_cap = 4 * (size_t)LOOP_GSO_MAX_BYTES;
  if (l->arena_cap < o.batch * o.max_dgram) {
    l->arena_cap = o.batch * o.max_dgram;
  }
  l->arena = malloc(l->arena_cap);
  l->rxmem = malloc(o.batch * (size_t)NODE_SOCK_RECV_BUF_GRO);
  if (l->arena == NULL || l->rxmem == NULL) {
    free(l->arena);
    free(l->rxmem);
    free(l);
    return AQ_ERR_NOMEM;
  }
  for (size_t i = 0; i < o.batch; i++) {
    l->rx[i].buf = l->rxmem + i * NODE_SOCK_RECV_BUF_GRO;
    l->rx[i].cap = NODE_SOCK_RECV_BUF_GRO;
  }
  l->be = o.force_poll ? &node_loop_backend_poll : NODE_LOOP_NATIVE_BACKEND;
  int p[2];
  if (pipe(p) != 0) {
    node_loop_del(l);
    return AQ_ERR_IO;
  }
  l->wake_rd = p[0];
  l->wake_wr = p[1];
  if (set_nonblock_cloexec(p[0]) != 0 || set_nonblock_cloexec(p[1]) != 0 || l->be->init(l) != 0 ||
      loop_slot_add(l, l->wake_rd, NODE_EV_IN, LOOP_SLOT_WAKE) < 0) {
    node_loop_del(l);
    return AQ_ERR_IO;
  }
  *out = l;
  return 0;
}

void node_loop_del(node_loop *l) {
  if (l == NULL) {
    return;
  }
  if (l->signals_caught) {
    (void)sigaction(SIGINT, &l->old_int, NULL);
    (void)sigaction(SIGTERM, &l->old_term, NULL);
    g_signal_fd = -1;
    g_signal_loop = NULL;
  }
  if (l->be != NULL && l->be->fini != NULL) {
    l->be->fini(l);
  }
  if (l->wake_rd >= 0) {
    close(l->wake_rd);
  }
  if (l->wake_wr >= 0) {
    close(l->wake_wr);
  }
  free(l->arena);
  free(l->rxmem);
  free(l);
}

int node_loop_set_driver(node_loop *l, const node_driver *drv) {
  if (drv == NULL) {
    l->have_drv = 0;
    return 0;
  }
  if (drv->on_datagrams == NULL || drv->next_send == NULL || drv->get_expiry == NULL ||
      drv->handle_expiry == NULL) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  l->drv = *drv;
  l->have_drv = 1;
  return 0;
}

int node_loop_add_sock(node_loop *l, node_sock *s) {
  if (l->nsocks >= NODE_LOOP_MAX_SOCKS) {
    return AQ_ERR_LIMIT;
  }
  int slot = loop_slot_add(l, s->fd, NODE_EV_IN, LOOP_SLOT_SOCK);
  if (slot < 0) {
    return slot;
  }
  loop_sock *ls = &l->socks[l->nsocks];
  memset(ls, 0, sizeof(*ls));
  ls->s = s;
  ls->slot = (size_t)slot;
  ls->readable = 1;
  l->slots[slot].sock = l->nsocks;
  l->nsocks++;
  return 0;
}

int node_loop_add_fd(node_loop *l, int fd, unsigned events, node_fd_cb cb, void *user_data) {
  if (cb == NULL || (events & (NODE_EV_IN | NODE_EV_OUT)) == 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  int slot = loop_slot_add(l, fd, events & (NODE_EV_IN | NODE_EV_OUT), LOOP_SLOT_USER);
  if (slot < 0) {
    return slot;
  }
  l->slots[slot].cb = cb;
  l->slots[slot].user_data = user_data;
  return 0;
}

int node_loop_remove_fd(node_loop *l, int fd) {
  int slot = loop_slot_find(l, fd);
  if (slot < 0 || l->slots[slot].kind == LOOP_SLOT_WAKE) {
    return AQ_ERR_NOT_FOUND;
  }
  (void)l->be->update(l, (size_t)slot, LOOP_OP_DEL);
  if (l->slots[slot].kind == LOOP_SLOT_SOCK) {
    size_t si = l->slots[slot].sock;
    /* Pending sends for this socket are dropped; later ones shift down. */
    size_t w = l->msgs_sent;
    for (size_t i = l->msgs_sent; i < l->nmsgs; i++) {
      if (l->msgs[i].sock == si) {
        continue;
      }
      l->msgs[w] = l->msgs[i];
      if (l->msgs[w].sock > si) {
        l->msgs[w].sock--;
      }
      w++;
    }
    l->nmsgs = w;
    for (size_t i = si; i + 1 < l->nsocks; i++) {
      l->socks[i] = l->socks[i + 1];
      l->slots[l->socks[i].slot].sock = i;
    }
    l->nsocks--;
  }
  l->slots[slot].kind = LOOP_SLOT_FREE;
  l->slots[slot].fd = -1;
  return 0;
}

void node_loop_stats_get(const node_loop *l, node_loop_stats *st) {
  *st = l->stats;
}

/* ------------------------------------------------------------ readiness */

void node_loop_on_ready(node_loop *l, size_t slot, unsigned events) {
  loop_slot *sl = &l->slots[slot];
  switch (sl->kind) {
  case LOOP_SLOT_WAKE: {
    uint8_t drain[64];
    for (int i = 0; i < 16 && read(sl->fd, drain, sizeof(drain)) > 0; i++) {
    }
    break;
  }
  case LOOP_SLOT_SOCK: {
    loop_sock *ls = &l->socks[sl->sock];
    if (events & (NODE_EV_IN | NODE_EV_ERR)) {
      ls->readable = 1;
    }
    if ((events & (NODE_EV_OUT | NODE_EV_ERR)) && ls->blocked) {
      ls->blocked = 0;
      sl->events = NODE_EV_IN;
      (void)l->be->update(l, slot, LOOP_OP_MOD);
    }
    break;
  }
  case LOOP_SLOT_USER: sl->cb(l, sl->fd, events, sl->user_data); break;
  case LOOP_SLOT_FREE:
  default: break;
  }
}

/* ------------------------------------------------------------------ read */

/* Receive from every readable socket, bounded; returns 1 if a bound was hit (more may wait). */
static int loop_read(node_loop *l) {
  int more = 0;
  for (size_t si = 0; si < l->nsocks; si++) {
    loop_sock *ls = &l->socks[si];
    for (size_t b = 0; ls->readable && b < l->opts.max_rx_batches; b++) {
      for (size_t i = 0; i < l->opts.batch; i++) {
        l->rx[i].buf = l->rxmem + i * NODE_SOCK_RECV_BUF_GRO;
        l->rx[i].cap = NODE_SOCK_RECV_BUF_GRO;
      }
      int r = node_sock_recv(ls->s, l->rx, l->opts.batch);
      if (r <= 0) {
        ls->readable = 0; /* empty (or an error the next readiness event will retry) */
        break;
      }
      if ((size_t)r < l->opts.batch) {
        ls->readable = 0;
      }
      l->stats.rx_dgrams += (uint64_t)r;
      if (l->have_drv) {
        l->drv.on_datagrams(l->drv.user_data, l->rx, (size_t)r, node_now());
      }
      if (b + 1 == l->opts.max_rx_batches && ls->readable) {
        more = 1;
      }
    }
  }
  return more;
}

/* ----------------------------------------------------------------- write */

/* Send the queued messages of one socket run at a time; returns 1 if everything went. */
static int loop_flush(node_loop *l) {
  while (l->msgs_sent < l->nmsgs) {
    size_t si = l->msgs[l->msgs_sent].sock;
    loop_sock *ls = &l->socks[si];
    if (ls->blocked) {
      return 0;
    }
    node_dgram batch[NODE_SOCK_MAX_BATCH];
    size_t k = 0;
    while (l->msgs_sent + k < l->nmsgs && l->msgs[l->msgs_sent + k].sock == si) {
      batch[k] = l->msgs[l->msgs_sent + k].d;
      k++;
    }
    int r = node_sock_send(ls->s, batch, k);
    if (r < 0) {
      /* A malformed entry from the driver: drop the run rather than loop on it. */
      l->msgs_sent += k;
      continue;
    }
    l->stats.tx_trains += (uint64_t)r;
    l->msgs_sent += (size_t)r;
    if ((size_t)r < k) {
      ls->blocked = 1;
      l->stats.tx_blocked++;
      loop_slot *sl = &l->slots[ls->slot];
      sl->events = NODE_EV_IN | NODE_EV_OUT;
      (void)l->be->update(l, ls->slot, LOOP_OP_MOD);
      return 0;
    }
  }
  l->nmsgs = l->msgs_sent = 0;
  l->arena_used = 0;
  return 1;
}

/* The first socket that can send to meta->remote (from meta->local's family), or nsocks. */
static size_t loop_route(const node_loop *l, const node_dgram *meta) {
  if (meta->local.family != 0 && meta->local.family != meta->remote.family) {
    return l->nsocks; /* node_sock_send would reject the whole batch: drop just this one */
  }
  for (size_t i = 0; i < l->nsocks; i++) {
    if (node_sock_can_reach(l->socks[i].s, &meta->remote)) {
      return i;
    }
  }
  return l->nsocks;
}

/* Append the datagram just written at arena_used to the last train, or start a new message. */
static void loop_queue(node_loop *l, const node_dgram *meta, size_t len, size_t si) {
  uint8_t *p = l->arena + l->arena_used;
  l->arena_used += len;
  if (l->nmsgs > l->msgs_sent) {
    loop_msg *m = &l->msgs[l->nmsgs - 1];
    size_t segs = (m->d.len + m->d.segsize - 1) / m->d.segsize;
    if (!m->closed && m->sock == si && l->socks[si].s->gso && len <= m->d.segsize &&
        segs < NODE_SOCK_MAX_GSO_SEGS && m->d.len + len <= LOOP_GSO_MAX_BYTES &&
        m->d.ecn == meta->ecn && aq_addr_eq(&m->d.remote, &meta->remote) &&
        (m->d.local.family == 0 ? meta->local.family == 0
                                : aq_addr_eq_ip(&m->d.local, &meta->local)) &&
        m->d.buf + m->d.len == p) {
      m->d.len += len;
      if (len < m->d.segsize) {
        m->closed = 1; /* only the last segment may be shorter */
      }
      return;
    }
  }
  loop_msg *m = &l->msgs[l->nmsgs++];
  memset(m, 0, sizeof(*m));
  m->d.buf = p;
  m->d.len = len;
  m->d.segsize = len;
  m->d.local = meta->local;
  m->d.remote = meta->remote;
  m->d.ecn = meta->ecn & 3u;
  m->sock = si;
}

/* Pull datagrams from the driver until it has none or a bound is hit; 1 if a bound was hit. */
static int loop_write(node_loop *l) {
  if (!loop_flush(l)) {
    return 0; /* blocked: wait for NODE_EV_OUT */
  }
  if (!l->have_drv || l->nsocks == 0) {
    return 0;
  }
  for (size_t n = 0; n < l->opts.max_tx_dgrams; n++) {
    if (l->nmsgs >= l->opts.batch || l->arena_cap - l->arena_used < l->opts.max_dgram) {
      if (!loop_flush(l)) {
        return 0;
      }
    }
    node_dgram meta;
    memset(&meta, 0, sizeof(meta));
    size_t len = l->drv.next_send(l->drv.user_data, l->arena + l->arena_used, l->opts.max_dgram,
                                  &meta, node_now());
    if (len == 0) {
      (void)loop_flush(l);
      return 0;
    }
    if (len > l->opts.max_dgram) {
      len = l->opts.max_dgram; /* a driver bug; never read past what it was given */
    }
    l->stats.tx_dgrams++;
    size_t si = loop_route(l, &meta);
    if (si == l->nsocks) {
      l->stats.tx_unroutable++;
      continue;
    }
    loop_queue(l, &meta, len, si);
  }
  (void)loop_flush(l);
  return 1;
}

/* ------------------------------------------------------------------- run */

/* Call handle_expiry if the driver's deadline has passed. */
static void loop_expire(node_loop *l) {
  if (!l->have_drv) {
    return;
  }
  aq_tstamp exp = l->drv.get_expiry(l->drv.user_data);
  aq_tstamp now = node_now();
  if (exp != AQ_TSTAMP_NEVER && exp <= now) {
    if (now - exp > l->stats.max_late_ns) {
      l->stats.max_late_ns = now - exp;
    }
    l->stats.expiries++;
    l->drv.handle_expiry(l->drv.user_data, now);
  }
}

int node_loop_run(node_loop *l, aq_tstamp deadline) {
  int rc = 0;
  l->runner = pthread_self();
  while (!l->stop) {
    l->stats.iterations++;
    l->dispatching = 1;
    int busy = loop_read(l);
    loop_expire(l);
    busy |= loop_write(l);
    l->dispatching = 0;
    if (l->stop) {
      break;
    }
    aq_tstamp now = node_now();
    if (deadline != AQ_TSTAMP_NEVER && now >= deadline) {
      rc = AQ_ERR_TIMEOUT;
      break;
    }
    aq_tstamp wake = deadline;
    if (l->have_drv) {
      aq_tstamp exp = l->drv.get_expiry(l->drv.user_data);
      if (exp < wake) {
        wake = exp;
      }
    }
    if (busy) {
      wake = now;
    } else if (l->have_drv && l->drv.on_idle != NULL) {
      /* Deferred work (e.g. key material for the next handshake) once the datagrams are out. */
      l->dispatching = 1;
      l->drv.on_idle(l->drv.user_data);
      l->dispatching = 0;
      if (l->stop) {
        break;
      }
      aq_tstamp exp2 = l->drv.get_expiry(l->drv.user_data);
      if (exp2 < wake) {
        wake = exp2;
      }
    }
    if (l->be->wait(l, wake) != 0) {
      rc = AQ_ERR_IO;
      break;
    }
  }
  l->stop = 0;
  return rc;
}
