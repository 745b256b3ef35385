/*
 * aq_sim.h - an in-process discrete-event network simulator for tests.
 *
 * Every QUIC, address-discovery and NAT-traversal test runs its endpoints
 * inside one aq_sim: a fake clock, seeded randomness, lossy links, an
 * "internet" router and NAT boxes that rewrite aq_addr values.  Nothing here
 * touches a socket or the real clock, so a 60-second scenario runs in
 * milliseconds and is reproducible from its seed.
 *
 * This is test code (tests/sim/): it uses malloc and stdio freely and aborts
 * the process on an allocation failure rather than returning errors.
 *
 * ------------------------------------------------------------ topology
 *
 *                 +----------------- internet (router) ------------------+
 *                 |  up/down                  |  up/down                 |
 *             host S (192.0.2.1)        NAT N1 (203.0.113.1)      NAT N2 ...
 *                                        |  up/down (LAN)
 *                                   host A (10.0.0.1)   host B (10.0.0.2)
 *
 *  - The internet is a router created with the simulator.  It forwards a
 *    datagram, instantly, to the attached host whose address has the
 *    destination IP, or to the attached NAT whose external IP it is.
 *  - A host or a NAT is attached either to the internet (behind == NULL) or
 *    to the LAN side of a NAT (behind == that NAT), so double NAT (CGN) is
 *    just a NAT behind a NAT.  A NAT's LAN side is also a router: a datagram
 *    from a LAN host to another LAN address is switched locally, untranslated.
 *  - Every attachment has two directional links: "up" (node -> its parent)
 *    and "down" (parent -> node), each with its own aq_sim_link_params.  So a
 *    datagram from a LAN host to a public server crosses: host up link, NAT
 *    (translation), NAT up link, internet, server down link.
 *
 * ------------------------------------------------------------ the run loop
 *
 * aq_sim_run() repeats one "step" at the current simulated time `now`:
 *   1. deliver every datagram whose arrival time is <= now (and run every
 *      aq_sim_at() callback that is due), in (time, submission order);
 *      a datagram crossing a router/NAT is forwarded onto the next link at
 *      once, and delivered in the same step if that link is instantaneous;
 *   2. for each host with an endpoint (creation order): if
 *      get_expiry(ep) <= now, call handle_expiry(ep, now);
 *   3. for each host with an endpoint: call send() until it returns 0 (at
 *      most AQ_SIM_MAX_SENDS_PER_STEP times per host per step);
 *   4. advance `now` to the earliest of: the next arrival or callback, the
 *      minimum endpoint expiry.  If that is at or before `now` (more work at
 *      the same instant) time does not move.
 * The loop ends when nothing is pending (AQ_SIM_IDLE), the time budget is
 * used (AQ_SIM_TIME_LIMIT; the clock is then exactly start + max_time), the
 * step budget is used (AQ_SIM_STEP_LIMIT) or the test's done() predicate,
 * checked after every step, returns non-zero (AQ_SIM_DONE).  It never hangs:
 * an endpoint whose expiry never moves forward burns the step budget.
 *
 * ------------------------------------------------------------ randomness
 *
 * One 64-bit seed drives everything.  Each link and each NAT has its own
 * PRNG stream derived from the seed and the object's creation index, so
 * changing one link's parameters does not change the random fate of packets
 * on another link.  The environment variable AQ_SIM_SEED (decimal or 0x-hex)
 * overrides the seed given to aq_sim_new().  aq_sim_del() prints the seed to
 * stderr when the running test has failed, so a failure can be replayed with
 * AQ_SIM_SEED=<seed>.
 *
 * ------------------------------------------------------------ example
 *
 *   aq_sim *sim = aq_sim_new(1);
 *   aq_sim_link_params wan = {.delay = 20 * AQ_MILLISECONDS, .rate_bps = 10000000};
 *   aq_addr ext = aq_sim_ip4(203, 0, 113, 1, 0), lan = aq_sim_ip4(10, 0, 0, 1, 5000),
 *           srv = aq_sim_ip4(192, 0, 2, 10, 443);
 *   aq_sim_nat_config nc = aq_sim_nat_config_default(AQ_SIM_NAT_PORT_RESTRICTED);
 *   aq_sim_nat *nat = aq_sim_nat_add(sim, "nat", NULL, &ext, &nc, &wan, &wan);
 *   aq_sim_host *c = aq_sim_host_add(sim, "client", nat, &lan, NULL, NULL);
 *   aq_sim_host *s = aq_sim_host_add(sim, "server", NULL, &srv, NULL, NULL);
 *   aq_sim_host_attach(c, &my_conn_ops, client_conn);   // adapter: 4 functions
 *   aq_sim_host_attach(s, &my_conn_ops, server_conn);
 *   aq_sim_result r = aq_sim_run(sim, 5 * AQ_SECONDS, 100000, handshake_done, ctx);
 *   CHECK(r == AQ_SIM_DONE);
 *   CHECK(aq_sim_now(sim) - AQ_SIM_ORIGIN < 200 * AQ_MILLISECONDS);
 *   aq_sim_del(sim);
 *
 * Routers and NATs forward in zero time; put every delay on a link.
 *
 * ------------------------------------------------------------ threading
 *
 * None.  Endpoint callbacks run inside aq_sim_run(); from a callback a test
 * may call aq_sim_now(), aq_sim_host_send(), aq_sim_at(), the NAT control
 * functions and the link parameter/stats accessors, but never aq_sim_run()
 * or aq_sim_del().
 */
#ifndef AQ_SIM_H
#define AQ_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "antquic.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The clock value at creation: a fixed, non-zero origin (1000 s), so that
 *  a timestamp of 0 is never a valid "now". */
#define AQ_SIM_ORIGIN ((aq_tstamp)1000 * AQ_SECONDS)
/** Largest datagram an endpoint can produce (the send() buffer size). */
#define AQ_SIM_MAX_DATAGRAM 65535
/** A safety valve: send() is pulled at most this often per host per step. */
#define AQ_SIM_MAX_SENDS_PER_STEP 4096
/** Addresses a host can own. */
#define AQ_SIM_MAX_HOST_ADDRS 8
/** Black-out windows per link. */
#define AQ_SIM_MAX_BLACKOUTS 4

typedef struct aq_sim aq_sim;
typedef struct aq_sim_host aq_sim_host;
typedef struct aq_sim_nat aq_sim_nat;
typedef struct aq_sim_link aq_sim_link;

/* =================================================================== links */

/** A half-open window [start, end) of absolute simulated time. */
typedef struct aq_sim_window {
  aq_tstamp start;
  aq_tstamp end;
} aq_sim_window;

/**
 * Parameters of one directional link.  All-zero (memset 0, or passing NULL
 * where a params pointer is taken) is an ideal link: no delay, infinite
 * rate, no queue limit, no MTU limit, no impairment.  The parameters may be
 * changed at any time through aq_sim_link_params_of(); a change affects
 * datagrams submitted afterwards.
 *
 * Fate of a datagram submitted to a link at time `now`, checks in order
 * (the first that applies decides; every submission is counted in `sent`):
 *   1. mtu != 0 and len > mtu                         -> dropped (mtu)
 *   2. now inside a black-out window                  -> dropped (blackout)
 *   3. bit (i % 64) of loss_mask set, where i counts
 *      every datagram submitted to this link from 0   -> dropped (mask)
 *   4. random draw < loss_pct / 100                   -> dropped (random)
 *   5. queue_bytes != 0 and the bytes still waiting or
 *      being serialised + len > queue_bytes           -> dropped (queue)
 *   otherwise it is accepted: serialisation starts when the transmitter
 *   is free (max(now, end of the previous serialisation)) and lasts
 *   ceil(len * 8e9 / rate_bps) ns (0 if rate_bps == 0); it arrives `delay`
 *   after serialisation ends.  Then, independently, with reorder_pct % it
 *   gets reorder_delay extra delay (so later datagrams overtake it), with
 *   corrupt_pct % one random bit of its payload is flipped, and with
 *   dup_pct % a second copy arrives right after it (same time).
 * All *_pct values are percentages in [0, 100].
 */
typedef struct aq_sim_link_params {
  aq_duration delay;  /* one-way propagation delay */
  uint64_t rate_bps;  /* bits per second; 0 = infinite (no serialisation) */
  size_t queue_bytes; /* tail-drop limit of the transmit queue; 0 = none */
  size_t mtu;         /* largest UDP payload carried; 0 = no limit */
  double loss_pct;    /* seeded random loss */
  uint64_t loss_mask; /* datagram i dropped if bit (i % 64) is set */
  double reorder_pct; /* chance of reorder_delay extra delay */
  aq_duration reorder_delay;
  double dup_pct;                               /* chance of a duplicate copy */
  double corrupt_pct;                           /* chance of one flipped payload bit */
  aq_sim_window blackout[AQ_SIM_MAX_BLACKOUTS]; /* used if end > start */
  /* ECN (IP header codepoint carried with each datagram, see aq_sim_set_tx_ecn):
   * ecn_bleach clears it to Not-ECT; ecn_ce_pct % of ECT datagrams become CE. */
  int ecn_bleach;
  double ecn_ce_pct;
} aq_sim_link_params;

/** Per-link counters (datagrams unless the name says bytes). */
typedef struct aq_sim_link_stats {
  uint64_t sent; /* submitted to the link */
  uint64_t bytes_sent;
  uint64_t delivered; /* arrived at the far end (duplicates count) */
  uint64_t bytes_delivered;
  uint64_t drop_mtu;
  uint64_t drop_blackout;
  uint64_t drop_mask;
  uint64_t drop_random;
  uint64_t drop_queue;
  uint64_t reordered;  /* got the extra reorder delay */
  uint64_t duplicated; /* extra copies made */
  uint64_t corrupted;  /* had a bit flipped */
  uint64_t ecn_bleached, ecn_ce_marked; /* ECN codepoints rewritten */
} aq_sim_link_stats;

/** Total drops of all reasons on a link. */
uint64_t aq_sim_link_stats_dropped(const aq_sim_link_stats *s);

/** The link's parameters, writable; valid until aq_sim_del(). */
aq_sim_link_params *aq_sim_link_params_of(aq_sim_link *link);
/** The link's counters; valid until aq_sim_del(). */
const aq_sim_link_stats *aq_sim_link_stats_of(const aq_sim_link *link);
/** The link's trace name, "<node>>up" style, e.g. "alice>internet". */
const char *aq_sim_link_name(const aq_sim_link *link);

/* ============================================================== simulator */

/**
 * Create a simulator whose clock reads AQ_SIM_ORIGIN.  seed seeds every
 * random choice (overridden by $AQ_SIM_SEED).  Never returns NULL (aborts
 * on allocation failure).  Free with aq_sim_del().
 */
aq_sim *aq_sim_new(uint64_t seed);

/**
 * Free the simulator, its hosts, NATs, links and in-flight datagrams (not
 * the endpoints: the test owns those).  If the running test has recorded a
 * failure, print the seed to stderr first.  NULL is a no-op.
 */
void aq_sim_del(aq_sim *sim);

/** The seed in use (after the $AQ_SIM_SEED override). */
uint64_t aq_sim_seed(const aq_sim *sim);

/** The current simulated time. */
aq_tstamp aq_sim_now(const aq_sim *sim);

/** Steps run so far by all aq_sim_run() calls. */
uint64_t aq_sim_steps(const aq_sim *sim);

/**
 * Trace every datagram event (submission fate, delivery, NAT translation,
 * routing drops) as one line to f, or stop tracing with NULL.  The line is
 *   "<seconds since origin, 9 decimals> <where> <from> -> <to> len=<n> <fate>"
 * The simulator does not close f.
 */
void aq_sim_set_trace(aq_sim *sim, FILE *f);

/** Counters of the routers (internet and NAT LAN sides together). */
typedef struct aq_sim_stats {
  uint64_t drop_no_route; /* no attached node owns the destination IP */
  uint64_t callbacks_run; /* aq_sim_at() callbacks fired */
} aq_sim_stats;

/** The simulator-wide counters. */
const aq_sim_stats *aq_sim_stats_of(const aq_sim *sim);

/** Why aq_sim_run() returned. */
typedef enum aq_sim_result {
  AQ_SIM_IDLE = 0,       /* nothing in flight, no expiry, no callback */
  AQ_SIM_TIME_LIMIT = 1, /* now == start + max_time */
  AQ_SIM_STEP_LIMIT = 2, /* max_steps steps were run */
  AQ_SIM_DONE = 3        /* done(arg) returned non-zero */
} aq_sim_result;

/**
 * Run the loop described at the top of this file for at most max_time of
 * simulated time and max_steps steps.  done (may be NULL) is called after
 * every step; a non-zero result stops the run.  Calls may be repeated: the
 * clock and all state carry over.
 */
aq_sim_result aq_sim_run(aq_sim *sim, aq_duration max_time, uint64_t max_steps,
                         int (*done)(void *arg), void *arg);

/**
 * Run like aq_sim_run() without a predicate, but always end with the clock
 * at exactly now + duration (even if everything went idle earlier), unless
 * the step budget ran out first.  Returns AQ_SIM_TIME_LIMIT or
 * AQ_SIM_STEP_LIMIT.  The way to "let time pass" in a scripted test.
 */
aq_sim_result aq_sim_run_for(aq_sim *sim, aq_duration duration, uint64_t max_steps);

/**
 * Call fn(sim, arg) at absolute time at (or at now, if at is in the past),
 * during step 1 of the step at that time.  Used by tests to script events
 * such as "rebind the NAT at t=5s".  May be called from callbacks.
 */
void aq_sim_at(aq_sim *sim, aq_tstamp at, void (*fn)(aq_sim *sim, void *arg), void *arg);

/** A uniformly random 64-bit value from the simulator's own stream. */
uint64_t aq_sim_rand_u64(aq_sim *sim);

/**
 * Fill buf with len bytes from the simulator's stream; always returns 0.
 * Its signature matches the library's random callback (user_data = sim), so
 * endpoints under test can take their randomness from the seed too.
 */
int aq_sim_rand_bytes(uint8_t *buf, size_t len, void *user_data);

/* ================================================================== hosts */

/**
 * A test endpoint, driven by the run loop.  ep is the test's object, passed
 * back unchanged.  Any member may be NULL (no receive / never sends / no
 * timers).
 *  - recv: a datagram arrived; from/to/data are valid only for the call.
 *    `to` is the host address it was sent to (one of the host's addresses).
 *  - send: write one datagram into buf (cap = AQ_SIM_MAX_DATAGRAM bytes),
 *    set *to, and *from to one of the host's addresses (or leave
 *    from->family == 0 to mean the host's first address); return its
 *    length, or 0 when there is nothing to send.  Called until it returns 0.
 *    A datagram whose from is not one of the host's addresses is dropped
 *    (aq_sim_host_stats.drop_bad_source).
 *  - get_expiry: the next time handle_expiry must run, or AQ_TSTAMP_NEVER.
 *  - handle_expiry: timers due at now.
 * This is the shape of the sans-IO core (aq_conn_read_pkt / write_pkt /
 * get_expiry / handle_expiry), so an adapter is a few lines.
 */
typedef struct aq_sim_ep_ops {
  void (*recv)(void *ep, aq_tstamp now, const aq_addr *from, const aq_addr *to, const uint8_t *data,
               size_t len);
  size_t (*send)(void *ep, aq_tstamp now, aq_addr *from, aq_addr *to, uint8_t *buf, size_t cap);
  aq_tstamp (*get_expiry)(void *ep);
  void (*handle_expiry)(void *ep, aq_tstamp now);
} aq_sim_ep_ops;

/** Per-host counters. */
typedef struct aq_sim_host_stats {
  uint64_t sent;             /* datagrams the host put on its up link */
  uint64_t received;         /* datagrams handed to recv (or that would be) */
  uint64_t drop_unreachable; /* arrived for an IP:port the host does not own */
  uint64_t drop_bad_source;  /* send() used a source address not owned */
} aq_sim_host_stats;

/**
 * Add a host named name (copied; for traces) with address addr (IP and
 * port; the host receives only datagrams addressed to one of its IP:port
 * pairs) attached to the internet (behind == NULL) or to the LAN side of
 * NAT behind.  up/down are the parameters of its links towards/from the
 * parent (NULL = ideal).  The host is owned by sim.
 */
aq_sim_host *aq_sim_host_add(aq_sim *sim, const char *name, aq_sim_nat *behind, const aq_addr *addr,
                             const aq_sim_link_params *up, const aq_sim_link_params *down);

/** Give the host one more address (multi-homing, migration); aborts past
 *  AQ_SIM_MAX_HOST_ADDRS.  Its IP must route to this host's parent. */
void aq_sim_host_add_addr(aq_sim_host *host, const aq_addr *addr);

/** Remove an address (e.g. to simulate losing an interface).  Returns 0 or
 *  AQ_ERR_NOT_FOUND. */
int aq_sim_host_remove_addr(aq_sim_host *host, const aq_addr *addr);

/** The host's address number i (0 = the one given at creation). */
const aq_addr *aq_sim_host_addr(const aq_sim_host *host, size_t i);

/** Attach (or with ops == NULL detach) the endpoint driven by the loop. */
void aq_sim_host_attach(aq_sim_host *host, const aq_sim_ep_ops *ops, void *ep);

/**
 * Put a datagram on the host's up link now, as if its endpoint had sent it
 * (from == NULL means the first address).  For scripted traffic without an
 * endpoint, or from inside a callback.  data is copied.
 */
void aq_sim_host_send(aq_sim_host *host, const aq_addr *from, const aq_addr *to,
                      const uint8_t *data, size_t len);

/** The link host -> parent (internet or NAT LAN); owned by sim. */
aq_sim_link *aq_sim_host_uplink(aq_sim_host *host);
/** The link parent -> host; owned by sim. */
aq_sim_link *aq_sim_host_downlink(aq_sim_host *host);
/** The host's counters; valid until aq_sim_del(). */
const aq_sim_host_stats *aq_sim_host_stats_of(const aq_sim_host *host);
/** The name given at creation. */
const char *aq_sim_host_name(const aq_sim_host *host);
/** The simulator the host belongs to (handy inside endpoint adapters). */
aq_sim *aq_sim_host_sim(aq_sim_host *host);

/* =================================================================== NATs */

/**
 * Mapping behaviour (RFC 4787 section 4.1): which outbound flows share one
 * external port.
 */
typedef enum aq_sim_nat_mapping {
  AQ_SIM_MAP_ENDPOINT_INDEPENDENT = 0,  /* one port per internal IP:port */
  AQ_SIM_MAP_ADDRESS_DEPENDENT = 1,     /* ... per remote IP */
  AQ_SIM_MAP_ADDRESS_PORT_DEPENDENT = 2 /* ... per remote IP:port ("symmetric") */
} aq_sim_nat_mapping;

/**
 * Filtering behaviour (RFC 4787 section 5): which inbound datagrams to an
 * existing mapping pass.
 */
typedef enum aq_sim_nat_filtering {
  AQ_SIM_FILTER_ENDPOINT_INDEPENDENT = 0,  /* anyone */
  AQ_SIM_FILTER_ADDRESS_DEPENDENT = 1,     /* IPs the mapping has sent to */
  AQ_SIM_FILTER_ADDRESS_PORT_DEPENDENT = 2 /* IP:ports the mapping has sent to */
} aq_sim_nat_filtering;

/** The four classic NAT types (RFC 3489 names). */
typedef enum aq_sim_nat_type {
  AQ_SIM_NAT_FULL_CONE = 0,          /* EIM + EIF */
  AQ_SIM_NAT_ADDRESS_RESTRICTED = 1, /* EIM + ADF */
  AQ_SIM_NAT_PORT_RESTRICTED = 2,    /* EIM + APDF */
  AQ_SIM_NAT_SYMMETRIC = 3           /* APDM + APDF */
} aq_sim_nat_type;

/** How external ports are chosen (RFC 4787 section 4.2). */
typedef enum aq_sim_nat_ports {
  AQ_SIM_PORTS_SEQUENTIAL = 0, /* next_port, next_port + port_step, ... (predictable) */
  AQ_SIM_PORTS_RANDOM = 1      /* uniform in [port_min, port_max] from the NAT's stream */
} aq_sim_nat_ports;

/** NAT configuration.  Start from aq_sim_nat_config_default(type). */
typedef struct aq_sim_nat_config {
  aq_sim_nat_mapping mapping;
  aq_sim_nat_filtering filtering;
  aq_sim_nat_ports ports;
  uint16_t port_min, port_max; /* external port range (inclusive) */
  uint16_t next_port;          /* SEQUENTIAL: first port handed out */
  uint16_t port_step;          /* SEQUENTIAL: increment (>= 1) */
  int port_preserve;           /* try the internal port first if free */
  int hairpin;                 /* RFC 4787 REQ-9 hairpinning on/off */
  /* Idle mappings (and their filter permissions) expire this long after
   * their last refresh; 0 = never.  Outbound traffic always refreshes
   * (REQ-6); inbound traffic refreshes only if inbound_refresh is set. */
  aq_duration mapping_timeout;
  int inbound_refresh;
} aq_sim_nat_config;

/**
 * The default configuration of a NAT type: ports SEQUENTIAL from 40000 step
 * 1 in [1024, 65535], no port preservation, hairpin on, mapping timeout
 * 30 s, outbound-only refresh.
 */
aq_sim_nat_config aq_sim_nat_config_default(aq_sim_nat_type type);

/** Per-NAT counters. */
typedef struct aq_sim_nat_stats {
  uint64_t translated_out; /* LAN -> WAN datagrams translated */
  uint64_t translated_in;  /* WAN -> LAN datagrams translated */
  uint64_t lan_switched;   /* LAN -> LAN, untranslated */
  uint64_t hairpinned;     /* LAN -> own external address -> LAN */
  uint64_t mappings_created;
  uint64_t mappings_expired;
  uint64_t drop_no_mapping; /* inbound to an external port with no live mapping */
  uint64_t drop_filtered;   /* inbound refused by the filtering behaviour */
  uint64_t drop_hairpin;    /* hairpin needed but disabled */
  uint64_t drop_no_port;    /* external port range exhausted */
} aq_sim_nat_stats;

/**
 * Add a NAT named name whose external (WAN) side has IP external->ip
 * (port ignored) and is attached to the internet (behind == NULL) or to
 * another NAT's LAN.  cfg NULL = aq_sim_nat_config_default(PORT_RESTRICTED).
 * up/down: the links of its WAN attachment (NULL = ideal).  Hosts join its
 * LAN with aq_sim_host_add(sim, ..., nat, ...).
 */
aq_sim_nat *aq_sim_nat_add(aq_sim *sim, const char *name, aq_sim_nat *behind,
                           const aq_addr *external, const aq_sim_nat_config *cfg,
                           const aq_sim_link_params *up, const aq_sim_link_params *down);

/** The configuration, writable (changes apply to later datagrams/mappings;
 *  changing mapping behaviour with live mappings is allowed but odd). */
aq_sim_nat_config *aq_sim_nat_config_of(aq_sim_nat *nat);
/** The NAT's counters; valid until aq_sim_del(). */
const aq_sim_nat_stats *aq_sim_nat_stats_of(const aq_sim_nat *nat);
/** The link from the NAT's WAN side to its parent; owned by sim. */
aq_sim_link *aq_sim_nat_uplink(aq_sim_nat *nat);
/** The link from the parent to the NAT's WAN side; owned by sim. */
aq_sim_link *aq_sim_nat_downlink(aq_sim_nat *nat);
/** The external address (port 0). */
aq_addr aq_sim_nat_external(const aq_sim_nat *nat);

/** Live (unexpired at now) mappings. */
size_t aq_sim_nat_mapping_count(aq_sim_nat *nat);

/**
 * The external address that a datagram from internal to remote would use
 * right now, if a live mapping for that flow exists: 0 and *external set,
 * else AQ_ERR_NOT_FOUND.  Does not create or refresh anything.
 */
int aq_sim_nat_lookup(aq_sim_nat *nat, const aq_addr *internal, const aq_addr *remote,
                      aq_addr *external);

/** Drop every mapping (a NAT reboot / state loss).  Later outbound traffic
 *  creates fresh mappings; inbound traffic to old ports is dropped. */
void aq_sim_nat_flush(aq_sim_nat *nat);

/**
 * Rebinding: move every live mapping to a new external port (never its old
 * one), keeping its filter permissions, as a NAT does when it reassigns a
 * flow.  The far side sees the internal host's datagrams arrive from a new
 * port; datagrams sent to the old port are dropped (no mapping).
 */
void aq_sim_nat_rebind(aq_sim_nat *nat);

/** Change the external IP (e.g. a new DHCP lease); all mappings are kept,
 *  the internet routes the new IP to this NAT from now on. */
void aq_sim_nat_set_external(aq_sim_nat *nat, const aq_addr *external);

/* ================================================================== ECN */

/**
 * From inside an endpoint's send(): the IP ECN codepoint (0 Not-ECT,
 * 1 ECT(1), 2 ECT(0), 3 CE) of the datagram being returned.  Reset to 0
 * before every send() call, so endpoints that never call it send Not-ECT.
 */
void aq_sim_set_tx_ecn(aq_sim *sim, unsigned ecn);
/** From inside an endpoint's recv(): the ECN codepoint of the datagram. */
unsigned aq_sim_rx_ecn(const aq_sim *sim);

/* ============================================================== helpers */

/** An IPv4 aq_addr from four octets and a port (test convenience). */
aq_addr aq_sim_ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port);

#ifdef __cplusplus
}
#endif

#endif /* AQ_SIM_H */
