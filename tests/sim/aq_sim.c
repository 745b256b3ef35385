/*
 * aq_sim.c - the simulator core: fake clock, event heap, links, hosts,
 * routing and the run loop.  NAT boxes are in aq_sim_nat.c.
 *
 * Events (datagram arrivals and scripted callbacks) live in one binary
 * min-heap ordered by (time, submission sequence), so equal-time events run
 * in the order they were created and a run is a pure function of the seed.
 *
 * Timers: the simulator has none of its own.  The clock jumps straight to
 * the earliest of the next event and the endpoints' get_expiry() values.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "aq_sim_int.h"
#include "aq_test.h"

/* ---------------------------------------------------------------- memory */

void *sim_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n == 0 ? 1 : n);
  if (q == NULL) {
    fprintf(stderr, "aq_sim: out of memory\n");
    abort();
  }
  return q;
}

void *sim_xcalloc(size_t n, size_t size) {
  void *q = calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
  if (q == NULL) {
    fprintf(stderr, "aq_sim: out of memory\n");
    abort();
  }
  return q;
}

void sim_grow(void **arr, size_t *cap, size_t need, size_t sz) {
  if (need <= *cap) {
    return;
  }
  size_t ncap = *cap ? *cap * 2 : 8;
  while (ncap < need) {
    ncap *= 2;
  }
  *arr = sim_xrealloc(*arr, ncap * sz);
  *cap = ncap;
}

/* ---------------------------------------------------------------- random */

/* splitmix64: tiny, full-period, and good enough to drive test impairments. */
uint64_t sim_rng_next(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t sim_rng_stream(aq_sim *sim) {
  uint64_t s = sim->seed ^ (0xD1B54A32D192ED03ULL * ++sim->nobjects);
  return sim_rng_next(&s);
}

/* True with probability pct/100.  Draws nothing when pct <= 0 so that an
 * unused impairment does not shift the stream. */
static int sim_chance(uint64_t *rng, double pct) {
  if (pct <= 0.0) {
    return 0;
  }
  double u = (double)(sim_rng_next(rng) >> 11) * 0x1.0p-53;
  return u * 100.0 < pct;
}

uint64_t aq_sim_rand_u64(aq_sim *sim) {
  return sim_rng_next(&sim->rng);
}

int aq_sim_rand_bytes(uint8_t *buf, size_t len, void *user_data) {
  aq_sim *sim = user_data;
  while (len > 0) {
    uint64_t v = sim_rng_next(&sim->rng);
    size_t n = len < 8 ? len : 8;
    for (size_t i = 0; i < n; i++) {
      buf[i] = (uint8_t)(v >> (8 * i));
    }
    buf += n;
    len -= n;
  }
  return 0;
}

/* ----------------------------------------------------------------- trace */

void sim_trace(aq_sim *sim, const char *where, const aq_addr *from, const aq_addr *to, size_t len,
               const char *fate) {
  if (sim->trace == NULL) {
    return;
  }
  char a[AQ_ADDR_STRLEN], b[AQ_ADDR_STRLEN];
  aq_tstamp t = sim->now - AQ_SIM_ORIGIN;
  fprintf(sim->trace, "%" PRIu64 ".%09" PRIu64 " %s %s -> %s len=%zu %s\n", t / AQ_SECONDS,
          t % AQ_SECONDS, where, aq_addr_format(a, sizeof(a), from),
          aq_addr_format(b, sizeof(b), to), len, fate);
}

void aq_sim_set_trace(aq_sim *sim, FILE *f) {
  sim->trace = f;
}

/* ------------------------------------------------------------------ heap */

static int ev_before(const sim_event *a, const sim_event *b) {
  return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void heap_push(aq_sim *sim, sim_event *ev) {
  ev->seq = sim->evseq++;
  sim_grow((void **)&sim->heap, &sim->capheap, sim->nheap + 1, sizeof(*sim->heap));
  size_t i = sim->nheap++;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!ev_before(ev, sim->heap[parent])) {
      break;
    }
    sim->heap[i] = sim->heap[parent];
    i = parent;
  }
  sim->heap[i] = ev;
}

static sim_event *heap_pop(aq_sim *sim) {
  sim_event *top = sim->heap[0];
  sim_event *last = sim->heap[--sim->nheap];
  size_t i = 0, n = sim->nheap;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) {
      break;
    }
    if (c + 1 < n && ev_before(sim->heap[c + 1], sim->heap[c])) {
      c++;
    }
    if (!ev_before(sim->heap[c], last)) {
      break;
    }
    sim->heap[i] = sim->heap[c];
    i = c;
  }
  if (n > 0) {
    sim->heap[i] = last;
  }
  return top;
}

static sim_event *event_new_pkt(aq_sim_link *l, aq_tstamp at, const aq_addr *from,
                                const aq_addr *to, const uint8_t *data, size_t len) {
  sim_event *ev = sim_xcalloc(1, sizeof(*ev) + len);
  ev->kind = SIM_EV_PKT;
  ev->at = at;
  ev->link = l;
  ev->from = *from;
  ev->to = *to;
  ev->len = len;
  if (len > 0) {
    memcpy(ev->data, data, len);
  }
  return ev;
}

void aq_sim_at(aq_sim *sim, aq_tstamp at, void (*fn)(aq_sim *sim, void *arg), void *arg) {
  sim_event *ev = sim_xcalloc(1, sizeof(*ev));
  ev->kind = SIM_EV_CALL;
  ev->at = at < sim->now ? sim->now : at;
  ev->fn = fn;
  ev->arg = arg;
  heap_push(sim, ev);
}

/* ----------------------------------------------------------------- links */

static aq_sim_link *link_new(aq_sim *sim, sim_node *src, sim_node *dst,
                             const aq_sim_link_params *p) {
  aq_sim_link *l = sim_xcalloc(1, sizeof(*l));
  l->sim = sim;
  l->src = src;
  l->dst = dst;
  if (p != NULL) {
    l->p = *p;
  }
  snprintf(l->name, sizeof(l->name), "%s>%s", src->name, dst->name);
  l->rng = sim_rng_stream(sim);
  l->busy_until = sim->now;
  sim_grow((void **)&sim->links, &sim->caplinks, sim->nlinks + 1, sizeof(*sim->links));
  sim->links[sim->nlinks++] = l;
  return l;
}

aq_sim_link_params *aq_sim_link_params_of(aq_sim_link *link) {
  return &link->p;
}
const aq_sim_link_stats *aq_sim_link_stats_of(const aq_sim_link *link) {
  return &link->st;
}
const char *aq_sim_link_name(const aq_sim_link *link) {
  return link->name;
}

uint64_t aq_sim_link_stats_dropped(const aq_sim_link_stats *s) {
  return s->drop_mtu + s->drop_blackout + s->drop_mask + s->drop_random + s->drop_queue;
}

/* Forget queue entries whose serialisation has finished by now. */
static void link_queue_drain(aq_sim_link *l, aq_tstamp now) {
  while (l->qhead < l->qtail && l->q[l->qhead].end <= now) {
    l->qbytes -= l->q[l->qhead].len;
    l->qhead++;
  }
  if (l->qhead == l->qtail) {
    l->qhead = l->qtail = 0;
  }
}

static void link_queue_push(aq_sim_link *l, aq_tstamp end, size_t len) {
  if (l->qtail == l->qcap && l->qhead > 0) {
    memmove(l->q, l->q + l->qhead, (l->qtail - l->qhead) * sizeof(*l->q));
    l->qtail -= l->qhead;
    l->qhead = 0;
  }
  sim_grow((void **)&l->q, &l->qcap, l->qtail + 1, sizeof(*l->q));
  l->q[l->qtail].end = end;
  l->q[l->qtail].len = len;
  l->qtail++;
  l->qbytes += len;
}

static int link_in_blackout(const aq_sim_link_params *p, aq_tstamp now) {
  for (size_t i = 0; i < AQ_SIM_MAX_BLACKOUTS; i++) {
    const aq_sim_window *w = &p->blackout[i];
    if (w->end > w->start && now >= w->start && now < w->end) {
      return 1;
    }
  }
  return 0;
}

/* The ECN codepoint a datagram leaves link l with (bleaching, CE marking). */
static unsigned link_ecn(aq_sim_link *l, unsigned ecn) {
  ecn &= 3u;
  if (ecn != 0 && l->p.ecn_bleach) {
    l->st.ecn_bleached++;
    return 0;
  }
  if ((ecn == 1 || ecn == 2) && sim_chance(&l->rng, l->p.ecn_ce_pct)) {
    l->st.ecn_ce_marked++;
    return 3;
  }
  return ecn;
}

void aq_sim_set_tx_ecn(aq_sim *sim, unsigned ecn) {
  sim->cur_ecn = ecn & 3u;
}

unsigned aq_sim_rx_ecn(const aq_sim *sim) {
  return sim->cur_ecn;
}

void sim_link_submit(aq_sim_link *l, const aq_addr *from, const aq_addr *to, const uint8_t *data,
                     size_t len) {
  aq_sim *sim = l->sim;
  aq_tstamp now = sim->now;
  const aq_sim_link_params *p = &l->p;
  uint64_t i = l->index++;

  l->st.sent++;
  l->st.bytes_sent += len;
  if (p->mtu != 0 && len > p->mtu) {
    l->st.drop_mtu++;
    sim_trace(sim, l->name, from, to, len, "drop:mtu");
    return;
  }
  if (link_in_blackout(p, now)) {
    l->st.drop_blackout++;
    sim_trace(sim, l->name, from, to, len, "drop:blackout");
    return;
  }
  if ((p->loss_mask >> (i % 64)) & 1) {
    l->st.drop_mask++;
    sim_trace(sim, l->name, from, to, len, "drop:mask");
    return;
  }
  if (sim_chance(&l->rng, p->loss_pct)) {
    l->st.drop_random++;
    sim_trace(sim, l->name, from, to, len, "drop:loss");
    return;
  }
  link_queue_drain(l, now);
  if (p->queue_bytes != 0 && l->qbytes + len > p->queue_bytes) {
    l->st.drop_queue++;
    sim_trace(sim, l->name, from, to, len, "drop:queue");
    return;
  }

  /* Serialisation: len * 8 bits at rate_bps, rounded up to a whole ns.
   * len <= 65535 keeps len * 8e9 far below 2^64. */
  aq_duration ser = 0;
  if (p->rate_bps != 0) {
    uint64_t bits_ns = (uint64_t)len * 8u * AQ_SECONDS;
    ser = (bits_ns + p->rate_bps - 1) / p->rate_bps;
  }
  aq_tstamp start = l->busy_until > now ? l->busy_until : now;
  aq_tstamp end = start + ser;
  l->busy_until = end;
  if (ser > 0) {
    link_queue_push(l, end, len);
  }
  aq_tstamp arrive = end + p->delay;
  int reordered = sim_chance(&l->rng, p->reorder_pct);
  if (reordered) {
    arrive += p->reorder_delay;
    l->st.reordered++;
  }
  sim_event *ev = event_new_pkt(l, arrive, from, to, data, len);
  ev->ecn = link_ecn(l, sim->cur_ecn);
  int corrupted = sim_chance(&l->rng, p->corrupt_pct) && len > 0;
  if (corrupted) {
    uint64_t bit = sim_rng_next(&l->rng) % ((uint64_t)len * 8u);
    ev->data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    l->st.corrupted++;
  }
  sim_trace(sim, l->name, from, to, len,
            reordered ? (corrupted ? "sent+reorder+corrupt" : "sent+reorder")
                      : (corrupted ? "sent+corrupt" : "sent"));
  heap_push(sim, ev);
  if (sim_chance(&l->rng, p->dup_pct)) {
    l->st.duplicated++;
    sim_trace(sim, l->name, from, to, len, "dup");
    sim_event *dup = event_new_pkt(l, arrive, from, to, ev->data, len);
    dup->ecn = ev->ecn;
    heap_push(sim, dup);
  }
}

/* --------------------------------------------------------------- routing */

static int host_owns_ip(const aq_sim_host *h, const aq_addr *a) {
  for (size_t i = 0; i < h->naddrs; i++) {
    if (aq_addr_eq_ip(&h->addrs[i], a)) {
      return 1;
    }
  }
  return 0;
}

sim_node *sim_find_child(sim_node *r, const aq_addr *addr) {
  for (size_t i = 0; i < r->nchildren; i++) {
    sim_node *c = r->children[i];
    if (c->kind == SIM_HOST && host_owns_ip((aq_sim_host *)c, addr)) {
      return c;
    }
    if (c->kind == SIM_NAT && aq_addr_eq_ip(&((aq_sim_nat *)c)->ext, addr)) {
      return c;
    }
  }
  return NULL;
}

void sim_route(sim_node *r, const aq_addr *from, const aq_addr *to, const uint8_t *data,
               size_t len) {
  sim_node *c = sim_find_child(r, to);
  if (c == NULL) {
    r->sim->st.drop_no_route++;
    sim_trace(r->sim, r->name, from, to, len, "drop:no-route");
    return;
  }
  sim_link_submit(c->down, from, to, data, len);
}

void sim_attach(aq_sim *sim, sim_node *n, sim_node *parent, const aq_sim_link_params *up,
                const aq_sim_link_params *down) {
  n->sim = sim;
  n->parent = parent;
  n->up = link_new(sim, n, parent, up);
  n->down = link_new(sim, parent, n, down);
  sim_grow((void **)&parent->children, &parent->capchildren, parent->nchildren + 1,
           sizeof(*parent->children));
  parent->children[parent->nchildren++] = n;
}

/* ----------------------------------------------------------------- hosts */

static int host_owns(const aq_sim_host *h, const aq_addr *a) {
  for (size_t i = 0; i < h->naddrs; i++) {
    if (aq_addr_eq(&h->addrs[i], a)) {
      return 1;
    }
  }
  return 0;
}

aq_sim_host *aq_sim_host_add(aq_sim *sim, const char *name, aq_sim_nat *behind, const aq_addr *addr,
                             const aq_sim_link_params *up, const aq_sim_link_params *down) {
  aq_sim_host *h = sim_xcalloc(1, sizeof(*h));
  h->node.kind = SIM_HOST;
  snprintf(h->node.name, sizeof(h->node.name), "%s", name);
  h->addrs[0] = *addr;
  h->naddrs = 1;
  sim_attach(sim, &h->node, behind != NULL ? &behind->node : &sim->internet, up, down);
  sim_grow((void **)&sim->hosts, &sim->caphosts, sim->nhosts + 1, sizeof(*sim->hosts));
  sim->hosts[sim->nhosts++] = h;
  return h;
}

void aq_sim_host_add_addr(aq_sim_host *host, const aq_addr *addr) {
  if (host->naddrs == AQ_SIM_MAX_HOST_ADDRS) {
    fprintf(stderr, "aq_sim: host %s has too many addresses\n", host->node.name);
    abort();
  }
  host->addrs[host->naddrs++] = *addr;
}

int aq_sim_host_remove_addr(aq_sim_host *host, const aq_addr *addr) {
  for (size_t i = 0; i < host->naddrs; i++) {
    if (aq_addr_eq(&host->addrs[i], addr)) {
      memmove(&host->addrs[i], &host->addrs[i + 1], (host->naddrs - i - 1) * sizeof(aq_addr));
      host->naddrs--;
      return 0;
    }
  }
  return AQ_ERR_NOT_FOUND;
}

const aq_addr *aq_sim_host_addr(const aq_sim_host *host, size_t i) {
  return i < host->naddrs ? &host->addrs[i] : NULL;
}

void aq_sim_host_attach(aq_sim_host *host, const aq_sim_ep_ops *ops, void *ep) {
  host->ops = ops;
  host->ep = ops != NULL ? ep : NULL;
}

void aq_sim_host_send(aq_sim_host *host, const aq_addr *from, const aq_addr *to,
                      const uint8_t *data, size_t len) {
  aq_addr src;
  if (from == NULL || from->family == 0) {
    if (host->naddrs == 0) {
      host->st.drop_bad_source++;
      return;
    }
    src = host->addrs[0];
  } else {
    src = *from;
  }
  if (!host_owns(host, &src)) {
    host->st.drop_bad_source++;
    sim_trace(host->node.sim, host->node.name, &src, to, len, "drop:bad-source");
    return;
  }
  host->st.sent++;
  sim_link_submit(host->node.up, &src, to, data, len);
}

static void host_deliver(aq_sim_host *h, const aq_addr *from, const aq_addr *to,
                         const uint8_t *data, size_t len) {
  if (!host_owns(h, to)) {
    h->st.drop_unreachable++;
    sim_trace(h->node.sim, h->node.name, from, to, len, "drop:unreachable");
    return;
  }
  h->st.received++;
  if (h->ops != NULL && h->ops->recv != NULL) {
    h->ops->recv(h->ep, h->node.sim->now, from, to, data, len);
  }
}

aq_sim_link *aq_sim_host_uplink(aq_sim_host *host) {
  return host->node.up;
}
aq_sim_link *aq_sim_host_downlink(aq_sim_host *host) {
  return host->node.down;
}
const char *aq_sim_host_name(const aq_sim_host *host) {
  return host->node.name;
}
aq_sim *aq_sim_host_sim(aq_sim_host *host) {
  return host->node.sim;
}
const aq_sim_host_stats *aq_sim_host_stats_of(const aq_sim_host *host) {
  return &host->st;
}

/* ------------------------------------------------------------- simulator */

aq_sim *aq_sim_new(uint64_t seed) {
  aq_sim *sim = sim_xcalloc(1, sizeof(*sim));
  const char *env = getenv("AQ_SIM_SEED");
  if (env != NULL && *env != '\0') {
    char *end = NULL;
    unsigned long long v = strtoull(env, &end, 0);
    if (end != NULL && *end == '\0') {
      seed = (uint64_t)v;
    } else {
      fprintf(stderr, "aq_sim: ignoring malformed AQ_SIM_SEED=%s\n", env);
    }
  }
  sim->seed = seed;
  sim->now = AQ_SIM_ORIGIN;
  sim->rng = sim_rng_stream(sim);
  sim->internet.kind = SIM_ROUTER;
  sim->internet.sim = sim;
  snprintf(sim->internet.name, sizeof(sim->internet.name), "internet");
  sim->sendbuf = sim_xcalloc(1, AQ_SIM_MAX_DATAGRAM);
  return sim;
}

void aq_sim_del(aq_sim *sim) {
  if (sim == NULL) {
    return;
  }
  if (aq_test_failures() > 0) {
    fprintf(stderr,
            "aq_sim: this run used seed %" PRIu64 " (replay with AQ_SIM_SEED=%" PRIu64 ")\n",
            sim->seed, sim->seed);
  }
  for (size_t i = 0; i < sim->nheap; i++) {
    free(sim->heap[i]);
  }
  free(sim->heap);
  for (size_t i = 0; i < sim->nlinks; i++) {
    free(sim->links[i]->q);
    free(sim->links[i]);
  }
  free(sim->links);
  for (size_t i = 0; i < sim->nhosts; i++) {
    free(sim->hosts[i]);
  }
  free(sim->hosts);
  for (size_t i = 0; i < sim->nnats; i++) {
    sim_nat_free(sim->nats[i]);
  }
  free(sim->nats);
  free(sim->internet.children);
  free(sim->sendbuf);
  free(sim);
}

uint64_t aq_sim_seed(const aq_sim *sim) {
  return sim->seed;
}
aq_tstamp aq_sim_now(const aq_sim *sim) {
  return sim->now;
}
uint64_t aq_sim_steps(const aq_sim *sim) {
  return sim->steps;
}
const aq_sim_stats *aq_sim_stats_of(const aq_sim *sim) {
  return &sim->st;
}

aq_addr aq_sim_ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  const uint8_t ip[4] = {a, b, c, d};
  return aq_addr_ipv4(ip, port);
}

/* A datagram reached the end of its link: hand it to whatever is there. */
static void sim_arrive(aq_sim *sim, sim_event *ev) {
  aq_sim_link *l = ev->link;
  sim_node *dst = l->dst;
  l->st.delivered++;
  l->st.bytes_delivered += ev->len;
  sim_trace(sim, l->name, &ev->from, &ev->to, ev->len, "arrive");
  sim->cur_ecn = ev->ecn; /* carried onto the next link, or read by recv() */
  switch (dst->kind) {
  case SIM_HOST: host_deliver((aq_sim_host *)dst, &ev->from, &ev->to, ev->data, ev->len); break;
  case SIM_NAT:
    if (l == dst->down) {
      sim_nat_from_wan((aq_sim_nat *)dst, &ev->from, &ev->to, ev->data, ev->len);
    } else {
      sim_nat_from_lan((aq_sim_nat *)dst, &ev->from, &ev->to, ev->data, ev->len);
    }
    break;
  case SIM_ROUTER: sim_route(dst, &ev->from, &ev->to, ev->data, ev->len); break;
  default: abort();
  }
  sim->cur_ecn = 0;
}

/* The internal end-of-run marker of aq_sim_run_for (not counted). */
static void sim_noop(aq_sim *sim, void *arg) {
  (void)sim;
  (void)arg;
}

/* One step at sim->now: deliveries and callbacks, expiries, sends. */
static void sim_step(aq_sim *sim) {
  while (sim->nheap > 0 && sim->heap[0]->at <= sim->now) {
    sim_event *ev = heap_pop(sim);
    if (ev->kind == SIM_EV_CALL) {
      if (ev->fn != sim_noop) {
        sim->st.callbacks_run++;
      }
      ev->fn(sim, ev->arg);
    } else {
      sim_arrive(sim, ev);
    }
    free(ev);
  }
  for (size_t i = 0; i < sim->nhosts; i++) {
    aq_sim_host *h = sim->hosts[i];
    const aq_sim_ep_ops *ops = h->ops;
    if (ops != NULL && ops->get_expiry != NULL && ops->handle_expiry != NULL &&
        ops->get_expiry(h->ep) <= sim->now) {
      ops->handle_expiry(h->ep, sim->now);
    }
  }
  for (size_t i = 0; i < sim->nhosts; i++) {
    aq_sim_host *h = sim->hosts[i];
    for (int k = 0; k < AQ_SIM_MAX_SENDS_PER_STEP; k++) {
      if (h->ops == NULL || h->ops->send == NULL) {
        break;
      }
      aq_addr from, to;
      memset(&from, 0, sizeof(from));
      memset(&to, 0, sizeof(to));
      sim->cur_ecn = 0;
      size_t len = h->ops->send(h->ep, sim->now, &from, &to, sim->sendbuf, AQ_SIM_MAX_DATAGRAM);
      if (len == 0) {
        break;
      }
      if (len > AQ_SIM_MAX_DATAGRAM) {
        fprintf(stderr, "aq_sim: endpoint of %s returned %zu > cap\n", h->node.name, len);
        abort();
      }
      aq_sim_host_send(h, &from, &to, sim->sendbuf, len);
      sim->cur_ecn = 0;
    }
  }
}

/* The earliest time anything is pending, or AQ_TSTAMP_NEVER. */
static aq_tstamp sim_next_time(aq_sim *sim) {
  aq_tstamp next = sim->nheap > 0 ? sim->heap[0]->at : AQ_TSTAMP_NEVER;
  for (size_t i = 0; i < sim->nhosts; i++) {
    aq_sim_host *h = sim->hosts[i];
    if (h->ops != NULL && h->ops->get_expiry != NULL && h->ops->handle_expiry != NULL) {
      aq_tstamp e = h->ops->get_expiry(h->ep);
      if (e < next) {
        next = e;
      }
    }
  }
  return next;
}

aq_sim_result aq_sim_run(aq_sim *sim, aq_duration max_time, uint64_t max_steps,
                         int (*done)(void *arg), void *arg) {
  aq_tstamp limit = sim->now + max_time < sim->now ? AQ_TSTAMP_NEVER - 1 : sim->now + max_time;
  uint64_t steps = 0;
  for (;;) {
    if (steps >= max_steps) {
      return AQ_SIM_STEP_LIMIT;
    }
    steps++;
    sim->steps++;
    sim_step(sim);
    if (done != NULL && done(arg)) {
      return AQ_SIM_DONE;
    }
    aq_tstamp next = sim_next_time(sim);
    if (next == AQ_TSTAMP_NEVER) {
      return AQ_SIM_IDLE;
    }
    if (next <= sim->now) {
      continue; /* more work at this instant */
    }
    if (next > limit) {
      sim->now = limit;
      return AQ_SIM_TIME_LIMIT;
    }
    sim->now = next;
  }
}

aq_sim_result aq_sim_run_for(aq_sim *sim, aq_duration duration, uint64_t max_steps) {
  aq_tstamp end = sim->now + duration;
  /* A no-op event at the end keeps the loop from going idle before it. */
  aq_sim_at(sim, end, sim_noop, NULL);
  aq_sim_result r = aq_sim_run(sim, duration, max_steps, NULL, NULL);
  if (r == AQ_SIM_STEP_LIMIT) {
    return r;
  }
  sim->now = end;
  return AQ_SIM_TIME_LIMIT;
}
