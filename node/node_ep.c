/*
 * node_ep.c - an aq_ep on UDP sockets through node_loop (see node_ep.h).
 */
#include "node_ep.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node_rand.h"

/* Source addresses the kernel picked for recent destinations (see source_addr_cached). */
#define EP_ROUTES 4
#define EP_ROUTE_TTL (1 * AQ_SECONDS)

typedef struct ep_route {
  aq_addr remote; /* family + IP (the port is not part of a route) */
  aq_addr src;
  size_t sock;
  aq_tstamp at; /* when it was asked; 0 = empty */
} ep_route;

struct node_ep {
  aq_ep *ep;
  node_loop *loop;
  node_sock socks[NODE_LOOP_MAX_SOCKS];
  size_t nsocks;
  int ecn;
  int err; /* sticky fatal error of the core */
  ep_route routes[EP_ROUTES];
  void (*on_idle)(void *user_data); /* node_ep_opts.on_idle */
  void *user_data;
  size_t route_next; /* the slot the next new route replaces */
};

/* Record a fatal core error and stop the loop. */
static void ep_fail(node_ep *e, int rc) {
  if (e->err == 0) {
    e->err = rc;
  }
  node_loop_stop(e->loop);
}

/* ---------------------------------------------------------------- driver */

/* Driver: feed every received datagram (each GRO segment) to the endpoint. */
static void drv_on_datagrams(void *ud, node_dgram *d, size_t n, aq_tstamp now) {
  node_ep *e = ud;
  for (size_t i = 0; i < n && e->err == 0; i++) {
    aq_path path;
    path.local = d[i].local;
    path.remote = d[i].remote;
    size_t off = 0;
    const uint8_t *seg;
    size_t seglen;
    while (node_dgram_next_seg(&d[i], &off, &seg, &seglen)) {
      /* With ECN on, the core counts the codepoint for its ACK_ECN reports. */
      int rc = e->ecn ? aq_ep_read_ecn(e->ep, &path, seg, seglen, d[i].ecn & 3u, now)
                      : aq_ep_read(e->ep, &path, seg, seglen, now);
      if (rc != 0) {
        ep_fail(e, rc);
        return;
      }
    }
  }
}

/* Non-zero if a's ip is all zero (unspecified). */
static int addr_is_unspec(const aq_addr *a) {
  size_t n = a->family == AQ_AF_INET ? 4 : 16;
  for (size_t i = 0; i < n; i++) {
    if (a->ip[i] != 0) {
      return 0;
    }
  }
  return 1;
}

/* Driver: the next datagram of any connection, with its source address and ECN mark. */
static size_t drv_next_send(void *ud, uint8_t *buf, size_t cap, node_dgram *meta, aq_tstamp now) {
  node_ep *e = ud;
  if (e->err != 0) {
    return 0;
  }
  aq_path path;
  memset(&path, 0, sizeof(path));
  unsigned ecn = AQ_ECN_NOT_ECT;
  aq_ssize n = e->ecn ? aq_ep_write_ecn(e->ep, &path, buf, cap, &ecn, now)
                      : aq_ep_write(e->ep, &path, buf, cap, now);
  if (n < 0) {
    ep_fail(e, (int)n);
    return 0;
  }
  if (n == 0) {
    return 0;
  }
  meta->remote = path.remote;
  if (path.local.family == path.remote.family && !addr_is_unspec(&path.local)) {
    meta->local = path.local;
  } else {
    memset(&meta->local, 0, sizeof(meta->local));
  }
  /* The core decides per datagram (ECT(0) while testing and once validated). */
  meta->ecn = (uint8_t)(ecn & 3u);
  return (size_t)n;
}

/* Driver: the endpoint's next deadline (none after a fatal error). */
static aq_tstamp drv_get_expiry(void *ud) {
  node_ep *e = ud;
  if (e->err != 0) {
    return AQ_TSTAMP_NEVER;
  }
  return aq_ep_get_expiry(e->ep);
}

/* Driver: run the endpoint's due timers. */
static void drv_handle_expiry(void *ud, aq_tstamp now) {
  node_ep *e = ud;
  if (e->err != 0) {
    return;
  }
  int rc = aq_ep_handle_expiry(e->ep, now);
  if (rc != 0) {
    ep_fail(e, rc);
  }
}

/* The datagrams are out: deferred work of the core (next handshake's keys). */
static void drv_on_idle(void *ud) {
  node_ep *e = ud;
  if (e->err == 0) {
    aq_ep_prepare(e->ep);
  }
  if (e->on_idle != NULL) {
    e->on_idle(e->user_data);
  }
}

/* ---------------------------------------------------------------- create */

int node_ep_new(node_ep **out, const aq_addr *listen, size_t nlisten, const aq_settings *s,
                const aq_callbacks *cb, void *user_data, int is_server) {
  return node_ep_new_ex(out, listen, nlisten, s, cb, user_data, is_server, NULL);
}

int node_ep_new_ex(node_ep **out, const aq_addr *listen, size_t nlisten, const aq_settings *s,
                   const aq_callbacks *cb, void *user_data, int is_server,
                   const node_ep_opts *opts) {
  *out = NULL;
  if (listen == NULL || nlisten == 0 || nlisten > NODE_LOOP_MAX_SOCKS || s == NULL || cb == NULL) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  node_ep_opts o;
  memset(&o, 0, sizeof(o));
  if (opts != NULL) {
    o = *opts;
  }
  node_ep *e = calloc(1, sizeof(*e));
  if (e == NULL) {
    return AQ_ERR_NOMEM;
  }
  e->ecn = o.ecn;
  e->on_idle = o.on_idle;
  e->user_data = user_data;
  for (size_t i = 0; i < NODE_LOOP_MAX_SOCKS; i++) {
    e->socks[i].fd = -1;
  }
  int rc = node_loop_new(&e->loop, &o.loop);
  if (rc != 0) {
    node_ep_del(e);
    return rc;
  }
  for (size_t i = 0; i < nlisten; i++) {
    rc = node_sock_open(&e->socks[i], &listen[i], &o.sock);
    if (rc != 0) {
      node_ep_del(e);
      return rc;
    }
    e->nsocks = i + 1;
    rc = node_loop_add_sock(e->loop, &e->socks[i]);
    if (rc != 0) {
      node_ep_del(e);
      return rc;
    }
  }
  aq_callbacks c = *cb;
  if (c.rand == NULL) {
    c.rand = node_rand;
  }
  e->ep = aq_ep_new(s, &c, user_data, NULL, is_server);
  if (e->ep == NULL) {
    node_ep_del(e);
    return AQ_ERR_NOMEM;
  }
  aq_ep_prepare(e->ep); /* the first handshake's key material, like every later one's */
  node_driver drv;
  memset(&drv, 0, sizeof(drv));
  drv.user_data = e;
  drv.on_datagrams = drv_on_datagrams;
  drv.next_send = drv_next_send;
  drv.get_expiry = drv_get_expiry;
  drv.handle_expiry = drv_handle_expiry;
  drv.on_idle = drv_on_idle;
  rc = node_loop_set_driver(e->loop, &drv);
  if (rc != 0) {
    node_ep_del(e);
    return rc;
  }
  *out = e;
  return 0;
}

void node_ep_del(node_ep *e) {
  if (e == NULL) {
    return;
  }
  aq_ep_del(e->ep);
  for (size_t i = 0; i < e->nsocks; i++) {
    if (e->loop != NULL) {
      (void)node_loop_remove_fd(e->loop, e->socks[i].fd);
    }
    node_sock_close(&e->socks[i]);
  }
  node_loop_del(e->loop);
  free(e);
}

aq_ep *node_ep_aq(node_ep *e) {
  return e->ep;
}

node_loop *node_ep_loop(node_ep *e) {
  return e->loop;
}

size_t node_ep_nsocks(const node_ep *e) {
  return e->nsocks;
}

const node_sock *node_ep_sock(const node_ep *e, size_t i) {
  return i < e->nsocks ? &e->socks[i] : NULL;
}

int node_ep_local_addr(const node_ep *e, size_t i, aq_addr *out) {
  if (i >= e->nsocks) {
    return AQ_ERR_NOT_FOUND;
  }
  *out = e->socks[i].bound;
  return 0;
}

/* ---------------------------------------------------------------- client */

/*
 * The source address the kernel picks for remote: connect a throw-away UDP
 * socket of the same kind and read its name (no packet is sent).
 */
static int source_addr_for(const node_sock *s, const aq_addr *remote, aq_addr *src) {
  int v4mapped = s->family == AQ_AF_INET6 && remote->family == AQ_AF_INET;
  struct sockaddr_storage ss;
  socklen_t sslen;
  int rc = node_addr_to_sockaddr(&ss, &sslen, remote, v4mapped);
  if (rc != 0) {
    return rc;
  }
  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return AQ_ERR_IO;
  }
  struct sockaddr_storage me;
  socklen_t melen = (socklen_t)sizeof(me);
  if (connect(fd, (const struct sockaddr *)&ss, sslen) != 0 ||
      getsockname(fd, (struct sockaddr *)&me, &melen) != 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return AQ_ERR_IO;
  }
  close(fd);
  return node_addr_from_sockaddr(src, (const struct sockaddr *)&me, melen);
}

/*
 * source_addr_for, remembered for a second per destination IP: a client
 * dialling the same peers again (reconnects, repeated handshakes) skips the
 * four system calls.  A route change is picked up within EP_ROUTE_TTL.
 */
static int source_addr_cached(node_ep *e, size_t si, const aq_addr *remote, aq_addr *src,
                              aq_tstamp now) {
  for (size_t i = 0; i < EP_ROUTES; i++) {
    ep_route *r = &e->routes[i];
    if (r->at != 0 && r->sock == si && now - r->at < EP_ROUTE_TTL &&
        aq_addr_eq_ip(&r->remote, remote)) {
      *src = r->src;
      return 0;
    }
  }
  int rc = source_addr_for(&e->socks[si], remote, src);
  if (rc == 0) {
    ep_route *r = &e->routes[e->route_next];
    e->route_next = (e->route_next + 1) % EP_ROUTES;
    r->remote = *remote;
    r->src = *src;
    r->sock = si;
    r->at = now > 0 ? now : 1;
  }
  return rc;
}

int node_ep_connect(node_ep *e, const aq_addr *remote, aq_conn **out) {
  *out = NULL;
  for (size_t i = 0; i < e->nsocks; i++) {
    const node_sock *s = &e->socks[i];
    if (!node_sock_can_reach(s, remote)) {
      continue;
    }
    aq_path path;
    memset(&path, 0, sizeof(path));
    path.remote = *remote;
    aq_tstamp now = node_now();
    if (s->bound.family == remote->family && !addr_is_unspec(&s->bound)) {
      path.local = s->bound; /* bound to one address: that is the source */
    } else {
      int rc = source_addr_cached(e, i, remote, &path.local, now);
      if (rc != 0) {
        return rc;
      }
    }
    path.local.port = s->bound.port;
    return aq_ep_connect(e->ep, &path, now, out);
  }
  return AQ_ERR_NOT_FOUND;
}

/* ------------------------------------------------------------------- run */

int node_ep_run(node_ep *e, aq_tstamp deadline) {
  if (e->err != 0) {
    return e->err;
  }
  int rc = node_loop_run(e->loop, deadline);
  if (e->err != 0) {
    return e->err;
  }
  return rc;
}

void node_ep_stop(node_ep *e) {
  node_loop_stop(e->loop);
}

int node_ep_error(const node_ep *e) {
  return e->err;
}
