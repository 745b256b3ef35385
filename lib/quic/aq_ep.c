/*
 * aq_ep.c - the QUIC endpoint: owns connections, demultiplexes incoming
 * datagrams by Destination Connection ID (RFC 9000 §5.2), creates server
 * connections from valid client Initials (§14.1: datagrams of at least 1200
 * bytes, §7.2: DCID of at least 8 bytes), starts client connections, and
 * round-robins aq_ep_write between connections.
 *
 * Timers: the minimum of its connections' expiries; aq_ep_handle_expiry
 * runs them and deletes connections that finished closing.
 *
 * Lookup is a linear scan over the connections (fine for the hundreds a
 * node holds; a hash on the CID is the obvious next step).
 */
#include <string.h>

#include "aq_conn_int.h"
#include "aq_mem.h"

struct aq_ep {
  const aq_mem *mem;
  aq_settings set;
  aq_callbacks cb;
  void *user_data;
  int is_server;
  aq_conn **conns;
  size_t nconns, cap;
  size_t rr;
  uint64_t dropped;
  /* One pending Version Negotiation packet (RFC 9000 §6.1); a newer one replaces it. */
  int vn_pending;
  aq_path vn_path;
  uint8_t vn_buf[2 * AQ_MAX_CIDLEN_INVARIANT + 16];
  size_t vn_len;
};

/** Queue a Version Negotiation answer to a long header of a version we do not speak. */
static void queue_vn(aq_ep *ep, const aq_path *path, const aq_pkt_hd *hd) {
  static const uint32_t versions[] = {AQ_PROTO_VER_V1};
  uint8_t r = 0;
  if (ep->cb.rand(&r, 1, ep->user_data) != 0) {
    return;
  }
  aq_wbuf w;
  aq_wbuf_init(&w, ep->vn_buf, sizeof(ep->vn_buf));
  /* The client's SCID becomes our DCID and vice versa (RFC 8999 §6). */
  if (aq_pkt_encode_vn(&w, r, hd->scid, hd->scidlen, hd->dcid, hd->dcidlen, versions, 1) != 0) {
    return;
  }
  ep->vn_len = aq_wbuf_len(&w);
  ep->vn_path.local = path->local;
  ep->vn_path.remote = path->remote;
  ep->vn_pending = 1;
}

aq_ep *aq_ep_new(const aq_settings *settings, const aq_callbacks *callbacks, void *user_data,
                 const aq_mem *mem, int is_server) {
  if (settings == NULL || callbacks == NULL || callbacks->rand == NULL) {
    return NULL;
  }
  if (mem == NULL) {
    mem = aq_mem_default();
  }
  aq_ep *ep = aq_mem_calloc(mem, 1, sizeof(*ep));
  if (ep == NULL) {
    return NULL;
  }
  ep->mem = mem;
  ep->set = *settings;
  ep->cb = *callbacks;
  ep->user_data = user_data;
  ep->is_server = is_server;
  ep->cap = ep->set.max_conns > 0 ? ep->set.max_conns : 1;
  ep->conns = aq_mem_calloc(mem, ep->cap, sizeof(aq_conn *));
  if (ep->conns == NULL) {
    aq_mem_free(mem, ep);
    return NULL;
  }
  return ep;
}

void aq_ep_del(aq_ep *ep) {
  if (ep == NULL) {
    return;
  }
  for (size_t i = 0; i < ep->nconns; i++) {
    aq_conn_del(ep->conns[i]);
  }
  aq_mem_free(ep->mem, ep->conns);
  aq_mem_free(ep->mem, ep);
}

size_t aq_ep_conn_count(const aq_ep *ep) {
  return ep->nconns;
}

int aq_ep_connect(aq_ep *ep, const aq_path *path, aq_tstamp ts, aq_conn **out) {
  *out = NULL;
  if (ep->is_server) {
    return AQ_ERR_STATE;
  }
  if (ep->nconns >= ep->cap) {
    return AQ_ERR_LIMIT;
  }
  aq_conn *c;
  int rc = aq_conn_new(&c, 0, &ep->set, &ep->cb, ep->user_data, ep->mem, path, NULL, ts);
  if (rc != 0) {
    return rc;
  }
  aq_conn_set_ep(c, ep);
  ep->conns[ep->nconns++] = c;
  *out = c;
  return 0;
}

static aq_conn *find_conn(const aq_ep *ep, const aq_cid *dcid, int initial) {
  for (size_t i = 0; i < ep->nconns; i++) {
    aq_conn *c = ep->conns[i];
    if (aq_conn_owns_cid(c, dcid)) {
      return c;
    }
    if (initial && aq_conn_is_server(c) && aq_cid_eq(aq_conn_odcid(c), dcid)) {
      return c;
    }
  }
  return NULL;
}

int aq_ep_read(aq_ep *ep, const aq_path *path, const uint8_t *data, size_t len, aq_tstamp ts) {
  aq_pkt_hd hd;
  if (aq_pkt_decode_hd(&hd, data, len, ep->set.scid_len) != 0) {
    ep->dropped++;
    return 0;
  }
  if (hd.type == AQ_PKT_UNKNOWN_VERSION) {
    /* §6.1: only for datagrams large enough to be a first Initial (§14.1). */
    if (ep->is_server && len >= 1200) {
      queue_vn(ep, path, &hd);
    } else {
      ep->dropped++;
    }
    return 0;
  }
  aq_cid dcid;
  if (aq_cid_init(&dcid, hd.dcid, hd.dcidlen) != 0) {
    ep->dropped++;
    return 0;
  }
  int long_hdr = hd.type != AQ_PKT_1RTT;
  aq_conn *c = find_conn(ep, &dcid, long_hdr);
  if (c == NULL) {
    /* A new connection: a v1 Initial in a full-sized datagram (§14.1) with a DCID >= 8 (§7.2). */
    if (!ep->is_server || hd.type != AQ_PKT_INITIAL || hd.version != AQ_PROTO_VER_V1 ||
        len < 1200 || hd.dcidlen < 8 || ep->nconns >= ep->cap) {
      ep->dropped++;
      return 0;
    }
    int rc = aq_conn_new(&c, 1, &ep->set, &ep->cb, ep->user_data, ep->mem, path, &hd, ts);
    if (rc != 0) {
      return aq_err_is_fatal(rc) ? rc : 0;
    }
    aq_conn_set_ep(c, ep);
    ep->conns[ep->nconns++] = c;
    if (ep->cb.new_conn != NULL) {
      ep->cb.new_conn(ep, c, ep->user_data);
    }
  }
  int rc = aq_conn_read_pkt(c, path, data, len, ts);
  (void)rc; /* a failed connection is reaped by aq_ep_handle_expiry */
  return 0;
}

aq_ssize aq_ep_write(aq_ep *ep, aq_path *path, uint8_t *buf, size_t cap, aq_tstamp ts) {
  if (ep->vn_pending) {
    if (cap < ep->vn_len) {
      return AQ_ERR_BUFFER_TOO_SMALL;
    }
    ep->vn_pending = 0;
    memcpy(buf, ep->vn_buf, ep->vn_len);
    *path = ep->vn_path;
    return (aq_ssize)ep->vn_len;
  }
  for (size_t k = 0; k < ep->nconns; k++) {
    size_t i = (ep->rr + k) % ep->nconns;
    aq_conn *c = ep->conns[i];
    if (aq_conn_get_error(c) != 0) {
      continue;
    }
    aq_ssize n = aq_conn_write_pkt(c, path, buf, cap, ts);
    if (n > 0) {
      ep->rr = (i + 1) % ep->nconns;
      return n;
    }
    if (n == AQ_ERR_BUFFER_TOO_SMALL) {
      return n;
    }
  }
  return 0;
}

aq_tstamp aq_ep_get_expiry(const aq_ep *ep) {
  aq_tstamp t = AQ_TSTAMP_NEVER;
  if (ep->vn_pending) {
    return 0; /* send it now */
  }
  for (size_t i = 0; i < ep->nconns; i++) {
    const aq_conn *c = ep->conns[i];
    aq_tstamp e = (aq_conn_get_error(c) != 0 || aq_conn_is_done(c)) ? 0 : aq_conn_get_expiry(c);
    if (e < t) {
      t = e;
    }
  }
  return t;
}

int aq_ep_handle_expiry(aq_ep *ep, aq_tstamp ts) {
  for (size_t i = 0; i < ep->nconns;) {
    aq_conn *c = ep->conns[i];
    if (aq_conn_get_error(c) == 0 && !aq_conn_is_done(c) && aq_conn_get_expiry(c) <= ts) {
      if (aq_conn_handle_expiry(c, ts) != 0) {
        /* sticky error: reaped below */
      }
    }
    if (aq_conn_get_error(c) != 0 || aq_conn_is_done(c)) {
      aq_conn_del(c);
      ep->conns[i] = ep->conns[--ep->nconns];
      if (ep->rr >= ep->nconns) {
        ep->rr = 0;
      }
      continue;
    }
    i++;
  }
  return 0;
}
