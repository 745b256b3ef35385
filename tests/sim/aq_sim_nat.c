/*
 * aq_sim_nat.c - simulated NAT boxes, in RFC 4787 terms
 * (/work/shared/specs/rfc/rfc4787.txt).
 *
 * A NAT has one external IP and a table of mappings.  A mapping binds an
 * internal IP:port (plus, for address-dependent or address-and-port-
 * dependent mapping, the remote IP or IP:port: the "key") to an external
 * port, and holds the filter permissions: the remotes it has sent to.
 *
 *   outbound (LAN -> WAN): find or create the mapping for (internal, key);
 *     refresh it and the permission for the destination (RFC 4787 REQ-6:
 *     outbound refresh is always on); rewrite the source to ext_ip:ext_port.
 *   inbound (WAN -> LAN): find the mapping by external port; apply the
 *     filtering behaviour against its permissions (section 5); rewrite the
 *     destination to the internal address; refresh only if inbound_refresh.
 *   LAN -> LAN: switched without translation.
 *   LAN -> own external IP: hairpinning (section 6, REQ-9): translate the
 *     source as for outbound, then treat as inbound, so the receiver sees
 *     the sender's external address.  Dropped when hairpin is off.
 *
 * Timers: a mapping (and each permission) expires mapping_timeout after its
 * last refresh.  Expiry is evaluated lazily, at the simulated time of each
 * use, so NATs add no events to the run loop.
 */
#include <stdlib.h>
#include <string.h>

#include "aq_sim_int.h"

aq_sim_nat_config aq_sim_nat_config_default(aq_sim_nat_type type) {
  aq_sim_nat_config c;
  memset(&c, 0, sizeof(c));
  switch (type) {
  case AQ_SIM_NAT_FULL_CONE:
    c.mapping = AQ_SIM_MAP_ENDPOINT_INDEPENDENT;
    c.filtering = AQ_SIM_FILTER_ENDPOINT_INDEPENDENT;
    break;
  case AQ_SIM_NAT_ADDRESS_RESTRICTED:
    c.mapping = AQ_SIM_MAP_ENDPOINT_INDEPENDENT;
    c.filtering = AQ_SIM_FILTER_ADDRESS_DEPENDENT;
    break;
  case AQ_SIM_NAT_PORT_RESTRICTED:
    c.mapping = AQ_SIM_MAP_ENDPOINT_INDEPENDENT;
    c.filtering = AQ_SIM_FILTER_ADDRESS_PORT_DEPENDENT;
    break;
  case AQ_SIM_NAT_SYMMETRIC:
    c.mapping = AQ_SIM_MAP_ADDRESS_PORT_DEPENDENT;
    c.filtering = AQ_SIM_FILTER_ADDRESS_PORT_DEPENDENT;
    break;
  default: abort();
  }
  c.ports = AQ_SIM_PORTS_SEQUENTIAL;
  c.port_min = 1024;
  c.port_max = 65535;
  c.next_port = 40000;
  c.port_step = 1;
  c.port_preserve = 0;
  c.hairpin = 1;
  c.mapping_timeout = 30 * AQ_SECONDS;
  c.inbound_refresh = 0;
  return c;
}

aq_sim_nat *aq_sim_nat_add(aq_sim *sim, const char *name, aq_sim_nat *behind,
                           const aq_addr *external, const aq_sim_nat_config *cfg,
                           const aq_sim_link_params *up, const aq_sim_link_params *down) {
  aq_sim_nat *nat = sim_xcalloc(1, sizeof(*nat));
  nat->node.kind = SIM_NAT;
  snprintf(nat->node.name, sizeof(nat->node.name), "%s", name);
  nat->ext = *external;
  nat->ext.port = 0;
  nat->cfg = cfg != NULL ? *cfg : aq_sim_nat_config_default(AQ_SIM_NAT_PORT_RESTRICTED);
  nat->rng = sim_rng_stream(sim);
  sim_attach(sim, &nat->node, behind != NULL ? &behind->node : &sim->internet, up, down);
  sim_grow((void **)&sim->nats, &sim->capnats, sim->nnats + 1, sizeof(*sim->nats));
  sim->nats[sim->nnats++] = nat;
  return nat;
}

void sim_nat_free(aq_sim_nat *nat) {
  for (size_t i = 0; i < nat->nmaps; i++) {
    free(nat->maps[i].perms);
  }
  free(nat->maps);
  free(nat->node.children);
  free(nat);
}

aq_sim_nat_config *aq_sim_nat_config_of(aq_sim_nat *nat) {
  return &nat->cfg;
}
const aq_sim_nat_stats *aq_sim_nat_stats_of(const aq_sim_nat *nat) {
  return &nat->st;
}
aq_sim_link *aq_sim_nat_uplink(aq_sim_nat *nat) {
  return nat->node.up;
}
aq_sim_link *aq_sim_nat_downlink(aq_sim_nat *nat) {
  return nat->node.down;
}
aq_addr aq_sim_nat_external(const aq_sim_nat *nat) {
  return nat->ext;
}

void aq_sim_nat_set_external(aq_sim_nat *nat, const aq_addr *external) {
  nat->ext = *external;
  nat->ext.port = 0;
}

/* ------------------------------------------------------------ the table */

static int nat_expired(const aq_sim_nat *nat, aq_tstamp last, aq_tstamp now) {
  return nat->cfg.mapping_timeout != 0 && now - last >= nat->cfg.mapping_timeout;
}

static void nat_map_remove(aq_sim_nat *nat, size_t i) {
  free(nat->maps[i].perms);
  nat->maps[i] = nat->maps[nat->nmaps - 1];
  nat->nmaps--;
}

/* Drop expired mappings and permissions as of now. */
static void nat_purge(aq_sim_nat *nat) {
  aq_tstamp now = nat->node.sim->now;
  size_t i = 0;
  while (i < nat->nmaps) {
    nat_map *m = &nat->maps[i];
    if (nat_expired(nat, m->last, now)) {
      nat->st.mappings_expired++;
      nat_map_remove(nat, i);
      continue;
    }
    size_t j = 0;
    while (j < m->nperms) {
      if (nat_expired(nat, m->perms[j].last, now)) {
        m->perms[j] = m->perms[--m->nperms];
      } else {
        j++;
      }
    }
    i++;
  }
}

/* The mapping key of a flow to remote under the configured behaviour. */
static aq_addr nat_key(const aq_sim_nat *nat, const aq_addr *remote) {
  aq_addr k;
  memset(&k, 0, sizeof(k));
  switch (nat->cfg.mapping) {
  case AQ_SIM_MAP_ENDPOINT_INDEPENDENT: break;
  case AQ_SIM_MAP_ADDRESS_DEPENDENT:
    k = *remote;
    k.port = 0;
    break;
  case AQ_SIM_MAP_ADDRESS_PORT_DEPENDENT: k = *remote; break;
  default: abort();
  }
  return k;
}

static nat_map *nat_find_flow(aq_sim_nat *nat, const aq_addr *internal, const aq_addr *key) {
  for (size_t i = 0; i < nat->nmaps; i++) {
    nat_map *m = &nat->maps[i];
    if (aq_addr_eq(&m->internal, internal) && m->key.family == key->family &&
        (key->family == 0 || aq_addr_eq(&m->key, key))) {
      return m;
    }
  }
  return NULL;
}

static nat_map *nat_find_port(aq_sim_nat *nat, uint16_t port) {
  for (size_t i = 0; i < nat->nmaps; i++) {
    if (nat->maps[i].ext_port == port) {
      return &nat->maps[i];
    }
  }
  return NULL;
}

static int nat_port_ok(aq_sim_nat *nat, uint32_t p, const uint16_t *avoid, size_t navoid) {
  if (p < nat->cfg.port_min || p > nat->cfg.port_max || nat_find_port(nat, (uint16_t)p) != NULL) {
    return 0;
  }
  for (size_t i = 0; i < navoid; i++) {
    if (avoid[i] == p) {
      return 0;
    }
  }
  return 1;
}

/* Choose a free external port, none of avoid[0..navoid); 0 if none is left. */
static uint16_t nat_alloc_port(aq_sim_nat *nat, uint16_t internal_port, const uint16_t *avoid,
                               size_t navoid) {
  const aq_sim_nat_config *c = &nat->cfg;
  if (c->port_min == 0 || c->port_max < c->port_min) {
    return 0;
  }
  uint32_t range = (uint32_t)c->port_max - c->port_min + 1;
  if (c->port_preserve && nat_port_ok(nat, internal_port, avoid, navoid)) {
    return internal_port;
  }
  if (c->ports == AQ_SIM_PORTS_RANDOM) {
    for (int tries = 0; tries < 64; tries++) {
      uint32_t p = c->port_min + (uint32_t)(sim_rng_next(&nat->rng) % range);
      if (nat_port_ok(nat, p, avoid, navoid)) {
        return (uint16_t)p;
      }
    }
  }
  /* Sequential (or a random draw that kept colliding): walk from next_port. */
  uint32_t step = c->port_step ? c->port_step : 1;
  uint32_t p = c->next_port;
  if (p < c->port_min || p > c->port_max) {
    p = c->port_min;
  }
  for (uint32_t k = 0; k < range; k++) {
    uint32_t nxt = c->port_min + ((p - c->port_min) + step) % range;
    if (nat_port_ok(nat, p, avoid, navoid)) {
      if (c->ports == AQ_SIM_PORTS_SEQUENTIAL) {
        nat->cfg.next_port = (uint16_t)nxt;
      }
      return (uint16_t)p;
    }
    p = nxt;
  }
  return 0;
}

static void nat_permit(nat_map *m, const aq_addr *remote, aq_tstamp now) {
  for (size_t i = 0; i < m->nperms; i++) {
    if (aq_addr_eq(&m->perms[i].remote, remote)) {
      m->perms[i].last = now;
      return;
    }
  }
  sim_grow((void **)&m->perms, &m->capperms, m->nperms + 1, sizeof(*m->perms));
  m->perms[m->nperms].remote = *remote;
  m->perms[m->nperms].last = now;
  m->nperms++;
}

/* The mapping for an outbound flow, created if needed and refreshed, with a
 * permission for remote.  NULL if no port is free. */
static nat_map *nat_outbound(aq_sim_nat *nat, const aq_addr *internal, const aq_addr *remote) {
  aq_tstamp now = nat->node.sim->now;
  aq_addr key = nat_key(nat, remote);
  nat_map *m = nat_find_flow(nat, internal, &key);
  if (m == NULL) {
    uint16_t port = nat_alloc_port(nat, internal->port, NULL, 0);
    if (port == 0) {
      nat->st.drop_no_port++;
      return NULL;
    }
    sim_grow((void **)&nat->maps, &nat->capmaps, nat->nmaps + 1, sizeof(*nat->maps));
    m = &nat->maps[nat->nmaps++];
    memset(m, 0, sizeof(*m));
    m->internal = *internal;
    m->key = key;
    m->ext_port = port;
    nat->st.mappings_created++;
  }
  m->last = now;
  nat_permit(m, remote, now);
  return m;
}

static int nat_filter_pass(const aq_sim_nat *nat, const nat_map *m, const aq_addr *from) {
  switch (nat->cfg.filtering) {
  case AQ_SIM_FILTER_ENDPOINT_INDEPENDENT: return 1;
  case AQ_SIM_FILTER_ADDRESS_DEPENDENT:
    for (size_t i = 0; i < m->nperms; i++) {
      if (aq_addr_eq_ip(&m->perms[i].remote, from)) {
        return 1;
      }
    }
    return 0;
  case AQ_SIM_FILTER_ADDRESS_PORT_DEPENDENT:
    for (size_t i = 0; i < m->nperms; i++) {
      if (aq_addr_eq(&m->perms[i].remote, from)) {
        return 1;
      }
    }
    return 0;
  default: abort();
  }
}

/* Inbound translation to a LAN host (from the WAN, or hairpinned). */
static void nat_inbound(aq_sim_nat *nat, const aq_addr *from, const aq_addr *to,
                        const uint8_t *data, size_t len, int hairpin) {
  aq_sim *sim = nat->node.sim;
  nat_map *m = nat_find_port(nat, to->port);
  if (m == NULL) {
    nat->st.drop_no_mapping++;
    sim_trace(sim, nat->node.name, from, to, len, "drop:no-mapping");
    return;
  }
  if (!nat_filter_pass(nat, m, from)) {
    nat->st.drop_filtered++;
    sim_trace(sim, nat->node.name, from, to, len, "drop:filtered");
    return;
  }
  if (nat->cfg.inbound_refresh) {
    m->last = sim->now;
  }
  aq_addr dst = m->internal;
  if (hairpin) {
    nat->st.hairpinned++;
  } else {
    nat->st.translated_in++;
  }
  sim_trace(sim, nat->node.name, from, &dst, len, hairpin ? "hairpin" : "translate-in");
  sim_route(&nat->node, from, &dst, data, len);
}

void sim_nat_from_lan(aq_sim_nat *nat, const aq_addr *from, const aq_addr *to, const uint8_t *data,
                      size_t len) {
  aq_sim *sim = nat->node.sim;
  nat_purge(nat);
  sim_node *c = sim_find_child(&nat->node, to);
  if (c != NULL) {
    nat->st.lan_switched++;
    sim_link_submit(c->down, from, to, data, len);
    return;
  }
  int to_self = aq_addr_eq_ip(to, &nat->ext);
  if (to_self && !nat->cfg.hairpin) {
    nat->st.drop_hairpin++;
    sim_trace(sim, nat->node.name, from, to, len, "drop:hairpin-off");
    return;
  }
  nat_map *m = nat_outbound(nat, from, to);
  if (m == NULL) {
    sim_trace(sim, nat->node.name, from, to, len, "drop:no-port");
    return;
  }
  aq_addr src = nat->ext;
  src.port = m->ext_port;
  if (to_self) {
    nat_inbound(nat, &src, to, data, len, 1);
    return;
  }
  nat->st.translated_out++;
  sim_trace(sim, nat->node.name, &src, to, len, "translate-out");
  sim_link_submit(nat->node.up, &src, to, data, len);
}

void sim_nat_from_wan(aq_sim_nat *nat, const aq_addr *from, const aq_addr *to, const uint8_t *data,
                      size_t len) {
  nat_purge(nat);
  if (!aq_addr_eq_ip(to, &nat->ext)) {
    /* Was in flight when the external IP changed. */
    nat->node.sim->st.drop_no_route++;
    sim_trace(nat->node.sim, nat->node.name, from, to, len, "drop:no-route");
    return;
  }
  nat_inbound(nat, from, to, data, len, 0);
}

/* ------------------------------------------------------------ control */

size_t aq_sim_nat_mapping_count(aq_sim_nat *nat) {
  nat_purge(nat);
  return nat->nmaps;
}

int aq_sim_nat_lookup(aq_sim_nat *nat, const aq_addr *internal, const aq_addr *remote,
                      aq_addr *external) {
  nat_purge(nat);
  aq_addr key = nat_key(nat, remote);
  nat_map *m = nat_find_flow(nat, internal, &key);
  if (m == NULL) {
    return AQ_ERR_NOT_FOUND;
  }
  *external = nat->ext;
  external->port = m->ext_port;
  return 0;
}

void aq_sim_nat_flush(aq_sim_nat *nat) {
  while (nat->nmaps > 0) {
    nat_map_remove(nat, nat->nmaps - 1);
  }
}

void aq_sim_nat_rebind(aq_sim_nat *nat) {
  nat_purge(nat);
  /* Every old port is avoided, so no datagram to an old port can reach a
   * rebound flow; the old ports are released first so they do not count as
   * in use. */
  uint16_t *old = sim_xcalloc(nat->nmaps, sizeof(*old));
  size_t nold = nat->nmaps;
  for (size_t i = 0; i < nold; i++) {
    old[i] = nat->maps[i].ext_port;
    nat->maps[i].ext_port = 0;
  }
  size_t i = 0;
  while (i < nat->nmaps) {
    uint16_t port = nat_alloc_port(nat, nat->maps[i].internal.port, old, nold);
    if (port == 0) {
      nat->st.drop_no_port++;
      nat_map_remove(nat, i);
      continue;
    }
    nat->maps[i].ext_port = port;
    i++;
  }
  free(old);
}
