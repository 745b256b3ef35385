/*
 * aq_sim_int.h - internals shared by aq_sim.c (clock, events, links, hosts,
 * routing) and aq_sim_nat.c (NAT boxes).  Not for tests: use aq_sim.h.
 */
#ifndef AQ_SIM_INT_H
#define AQ_SIM_INT_H

#include "aq_sim.h"

typedef enum sim_kind { SIM_ROUTER, SIM_HOST, SIM_NAT } sim_kind;

/*
 * A node of the tree: the internet (root router), a host (leaf) or a NAT
 * (a leaf of its parent, and the router of its own LAN).
 */
typedef struct sim_node sim_node;
struct sim_node {
  sim_kind kind;
  aq_sim *sim;
  char name[32];
  sim_node *parent;       /* NULL for the internet */
  aq_sim_link *up, *down; /* links to/from the parent; NULL for the internet */
  sim_node **children;    /* routers only (internet, NAT LAN side) */
  size_t nchildren, capchildren;
};

struct aq_sim_link {
  aq_sim *sim;
  char name[72];
  sim_node *src, *dst;
  aq_sim_link_params p;
  aq_sim_link_stats st;
  uint64_t rng;
  uint64_t index;       /* datagrams submitted so far: the loss-mask index */
  aq_tstamp busy_until; /* end of the last accepted serialisation */
  /* Transmit queue: (serialisation end, length) of accepted datagrams whose
   * serialisation has not finished, oldest first, for the tail-drop limit. */
  struct sim_qent {
    aq_tstamp end;
    size_t len;
  } * q;
  size_t qhead, qtail, qcap;
  size_t qbytes;
};

struct aq_sim_host {
  sim_node node; /* first member */
  aq_addr addrs[AQ_SIM_MAX_HOST_ADDRS];
  size_t naddrs;
  const aq_sim_ep_ops *ops;
  void *ep;
  aq_sim_host_stats st;
};

/* One filter permission: a remote this mapping has sent to. */
typedef struct nat_perm {
  aq_addr remote;
  aq_tstamp last;
} nat_perm;

/* One mapping: internal IP:port (+ remote key for ADM/APDM) <-> external port. */
typedef struct nat_map {
  aq_addr internal;
  aq_addr key; /* family 0 for EIM, remote IP (port 0) for ADM, remote IP:port for APDM */
  uint16_t ext_port;
  aq_tstamp last;
  nat_perm *perms;
  size_t nperms, capperms;
} nat_map;

struct aq_sim_nat {
  sim_node node; /* first member */
  aq_addr ext;   /* port 0 */
  aq_sim_nat_config cfg;
  aq_sim_nat_stats st;
  uint64_t rng;
  nat_map *maps;
  size_t nmaps, capmaps;
};

typedef enum sim_ev_kind { SIM_EV_PKT, SIM_EV_CALL } sim_ev_kind;

typedef struct sim_event {
  aq_tstamp at;
  uint64_t seq; /* tie-break: submission order */
  sim_ev_kind kind;
  aq_sim_link *link; /* PKT: arrives at link->dst */
  void (*fn)(aq_sim *sim, void *arg);
  void *arg;
  aq_addr from, to;
  size_t len;
  unsigned ecn;   /* PKT: IP ECN codepoint (0..3) */
  uint8_t data[]; /* PKT payload */
} sim_event;

struct aq_sim {
  uint64_t seed;
  aq_tstamp now;
  uint64_t steps;
  FILE *trace;
  uint64_t rng;
  uint64_t nobjects; /* creation counter: derives per-object PRNG streams */
  sim_node internet;
  aq_sim_host **hosts;
  size_t nhosts, caphosts;
  aq_sim_nat **nats;
  size_t nnats, capnats;
  aq_sim_link **links;
  size_t nlinks, caplinks;
  sim_event **heap;
  size_t nheap, capheap;
  uint64_t evseq;
  aq_sim_stats st;
  uint8_t *sendbuf;
  unsigned cur_ecn; /* ECN codepoint of the datagram being sent / delivered */
};

/* ------------------------------------------------ shared internal helpers */

void *sim_xrealloc(void *p, size_t n);
void *sim_xcalloc(size_t n, size_t size);
/* Grow *arr (element size sz) so that it holds at least need elements. */
void sim_grow(void **arr, size_t *cap, size_t need, size_t sz);

uint64_t sim_rng_next(uint64_t *state);
/* A fresh stream state for the next created object. */
uint64_t sim_rng_stream(aq_sim *sim);

/* Emit one trace line if tracing is on. */
void sim_trace(aq_sim *sim, const char *where, const aq_addr *from, const aq_addr *to, size_t len,
               const char *fate);

/* Submit a datagram (copied) to a link at the current time. */
void sim_link_submit(aq_sim_link *l, const aq_addr *from, const aq_addr *to, const uint8_t *data,
                     size_t len);

/* The child of router node r that owns IP addr (host address or NAT external
 * IP), or NULL. */
sim_node *sim_find_child(sim_node *r, const aq_addr *addr);

/* Forward at router r: to the owning child's down link, or drop (no route). */
void sim_route(sim_node *r, const aq_addr *from, const aq_addr *to, const uint8_t *data,
               size_t len);

/* NAT entry points (aq_sim_nat.c): a datagram arrived at the NAT from its
 * LAN (a child's up link) or from its WAN (its own down link). */
void sim_nat_from_lan(aq_sim_nat *nat, const aq_addr *from, const aq_addr *to, const uint8_t *data,
                      size_t len);
void sim_nat_from_wan(aq_sim_nat *nat, const aq_addr *from, const aq_addr *to, const uint8_t *data,
                      size_t len);
void sim_nat_free(aq_sim_nat *nat);

/* Create the up/down links of a node attached under parent. */
void sim_attach(aq_sim *sim, sim_node *n, sim_node *parent, const aq_sim_link_params *up,
                const aq_sim_link_params *down);

#endif /* AQ_SIM_INT_H */
