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
 * Lookup: a keyed hash table (aq_cidmap.h) maps every CID that routes to a
 * connection - ours, sequence 0 and every issued and not retired one, plus
 * a server's original DCID (long headers only) until the handshake
 * completes - and a second one maps the peers' stateless reset tokens, so
 * demultiplexing and stateless reset detection are O(1) whatever the number
 * of connections.  The tables follow each connection's CIDs: after every
 * call into a connection (read, write, timers) the endpoint compares its
 * current CIDs and tokens with what it registered (ep_sync) - a CID is
 * registered before the packet advertising it leaves aq_ep_write, and a
 * retired one stops routing as soon as the RETIRE_CONNECTION_ID is read.
 */
#include <string.h>

#include "aq_cidmap.h"
#include "aq_conn_int.h"
#include "aq_ct.h"
#include "aq_mem.h"
#include "aq_qad_conn.h"
#include "aq_tls_cert.h"

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
  /* Retry (settings.retry): key for address-validation tokens, from rand at creation. */
  uint8_t token_key[32];
  uint8_t reset_key[32]; /* stateless reset tokens (RFC 9000 §10.3.2) */
  /* One pending stateless packet (Version Negotiation §6.1, or Retry); a newer one replaces it. */
  int vn_pending;
  aq_path vn_path;
  uint8_t vn_buf[2 * AQ_MAX_CIDLEN_INVARIANT + 128];
  size_t vn_len;
  /* Resumption (aq_conn_0rtt.c): session ticket key; 0-RTT datagrams ahead of their Initial. */
  uint8_t ticket_key[32];
  aq_ep_zstash zstash;
  /* ECN (RFC 9000 §13.4) of the datagram in aq_ep_read_ecn / aq_ep_write_ecn. */
  unsigned rx_ecn;
  unsigned *tx_ecn;
  aq_qad_ep *qad; /* address discovery for new connections (aq_ep_set_qad), NULL = off */
  /* Demultiplexing: CID -> connection, and peer stateless reset token -> connection. */
  /* One X25519 key pair made while idle for the next handshake (ep_pre_refill): the
   * scalar multiplication then costs nothing on the handshake's critical path. */
  uint8_t x25519_pre[64];
  void *x25519_pre_key; /* the same pair as an OpenSSL key object (aq_x25519_key_new) */
  int has_x25519_pre;
  aq_key_cache *key_cache; /* peers' decoded public keys, shared by our handshakes; may be NULL */
  aq_crypto_algs *own_algs; /* fetched here when settings.crypto_algs is NULL (set.crypto_algs) */
  aq_cidmap cids;
  aq_cidmap tokens;
};

/* ============================================================ CID routing */

/** Append cid to the list unless empty or already there. */
static void route_add(aq_cid *out, uint8_t *flags, size_t *n, const aq_cid *cid, uint8_t fl) {
  if (cid->len == 0) {
    return;
  }
  for (size_t i = 0; i < *n; i++) {
    if (aq_cid_eq(&out[i], cid)) {
      return;
    }
  }
  out[*n] = *cid;
  flags[*n] = fl;
  (*n)++;
}

/**
 * The CIDs that route to c: the same sets aq_conn_owns_cid and
 * aq_conn_is_initial_dcid accept (the latter for long headers only).
 */
static size_t routes_of(const aq_conn *c, aq_cid out[AQ_MAX_LOCAL_CIDS + 3],
                        uint8_t flags[AQ_MAX_LOCAL_CIDS + 3]) {
  size_t n = 0;
  route_add(out, flags, &n, &c->scid, 0);
  for (size_t i = 0; i < AQ_MAX_LOCAL_CIDS; i++) {
    if (c->local_cids[i].state == 1 || c->local_cids[i].state == 2) {
      route_add(out, flags, &n, &c->local_cids[i].cid, 0);
    }
  }
  if (c->is_server && !c->handshake_complete) {
    route_add(out, flags, &n, &c->odcid, AQ_CIDMAP_INITIAL_ONLY);
    if (c->got_retry) {
      route_add(out, flags, &n, &c->retry_scid, AQ_CIDMAP_INITIAL_ONLY);
    }
  }
  return n;
}

/** The peer's stateless reset tokens that aq_cid_check_stateless_reset would test. */
static size_t tokens_of(const aq_conn *c, aq_cid out[AQ_MAX_PEER_CIDS]) {
  size_t n = 0;
  for (size_t i = 0; i < AQ_MAX_PEER_CIDS; i++) {
    if (!c->peer_cids[i].in_use || (i == 0 && c->peer_cids[i].seq == 0 && !c->peer_reset_token0)) {
      continue;
    }
    out[n].len = AQ_STATELESS_RESET_TOKEN_LEN;
    memcpy(out[n].data, c->peer_cids[i].token, AQ_STATELESS_RESET_TOKEN_LEN);
    n++;
  }
  return n;
}

/** Non-zero if cid is one of list[0..n). */
static int cid_in(const aq_cid *list, size_t n, const aq_cid *cid) {
  for (size_t i = 0; i < n; i++) {
    if (aq_cid_eq(&list[i], cid)) {
      return 1;
    }
  }
  return 0;
}

/**
 * Make table m hold exactly want (with flags, NULL = 0) for c, given what c
 * registered before (*have, *nhave; updated).  A key another connection
 * already holds (a collision) or that cannot be stored (no memory) is not
 * registered and is tried again at the next sync.
 */
static void sync_table(aq_cidmap *m, aq_conn *c, aq_cid *have, size_t *nhave, const aq_cid *want,
                       const uint8_t *flags, size_t nwant) {
  /* Nearly every call finds the set unchanged, in the order of the last sync: no lookups then
   * (this runs for every datagram read or written). */
  if (*nhave == nwant && (nwant == 0 || memcmp(have, want, nwant * sizeof(*want)) == 0)) {
    return;
  }
  size_t k = 0;
  for (size_t i = 0; i < *nhave; i++) {
    if (cid_in(want, nwant, &have[i])) {
      have[k++] = have[i];
    } else {
      (void)aq_cidmap_remove(m, &have[i], c);
    }
  }
  for (size_t i = 0; i < nwant; i++) {
    if (!cid_in(have, k, &want[i]) &&
        aq_cidmap_insert(m, &want[i], c, flags != NULL ? flags[i] : 0u) == 0) {
      have[k++] = want[i];
    }
  }
  *nhave = k;
}

/** Bring the endpoint's tables in line with c's current CIDs and reset tokens. */
static void ep_sync(aq_ep *ep, aq_conn *c) {
  aq_cid want[AQ_MAX_LOCAL_CIDS + 3];
  uint8_t flags[AQ_MAX_LOCAL_CIDS + 3];
  size_t n = routes_of(c, want, flags);
  sync_table(&ep->cids, c, c->ep_cids, &c->ep_ncids, want, flags, n);
  n = tokens_of(c, want);
  sync_table(&ep->tokens, c, c->ep_tokens, &c->ep_ntokens, want, NULL, n);
}

/** Remove every key of c (before deleting it). */
static void ep_unroute(aq_ep *ep, aq_conn *c) {
  sync_table(&ep->cids, c, c->ep_cids, &c->ep_ncids, NULL, NULL, 0);
  sync_table(&ep->tokens, c, c->ep_tokens, &c->ep_ntokens, NULL, NULL, 0);
}

/** Queue a Version Negotiation answer to a long header of a version we do not speak. */
static void queue_vn(aq_ep *ep, const aq_path *path, const aq_pkt_hd *hd) {
  uint32_t versions[2];
  size_t nversions = aq_ver_list(&ep->set, versions); /* v2 too when enabled */
  uint8_t r = 0;
  if (ep->cb.rand(&r, 1, ep->user_data) != 0) {
    return;
  }
  aq_wbuf w;
  aq_wbuf_init(&w, ep->vn_buf, sizeof(ep->vn_buf));
  /* The client's SCID becomes our DCID and vice versa (RFC 8999 §6). */
  if (aq_pkt_encode_vn(&w, r, hd->scid, hd->scidlen, hd->dcid, hd->dcidlen, versions, nversions) !=
      0) {
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
  int have_key = ep->set.static_key != NULL;
  if (have_key) {
    memcpy(ep->reset_key, ep->set.static_key, sizeof(ep->reset_key));
    ep->set.static_key = NULL; /* not kept by pointer */
  }
  int have_tkey = ep->set.ticket_key != NULL;
  if (have_tkey && is_server) {
    memcpy(ep->ticket_key, ep->set.ticket_key, sizeof(ep->ticket_key));
  }
  ep->set.ticket_key = is_server ? ep->ticket_key : NULL; /* connections borrow ours */
  ep->conns = aq_mem_calloc(mem, ep->cap, sizeof(aq_conn *));
  uint8_t hkey[AQ_CIDMAP_KEY_LEN];
  if (ep->conns == NULL || ep->cb.rand(hkey, sizeof(hkey), user_data) != 0 ||
      (is_server && !have_tkey &&
       ep->cb.rand(ep->ticket_key, sizeof(ep->ticket_key), user_data) != 0) ||
      (is_server && ep->set.retry &&
       ep->cb.rand(ep->token_key, sizeof(ep->token_key), user_data) != 0) ||
      (!have_key && ep->cb.rand(ep->reset_key, sizeof(ep->reset_key), user_data) != 0)) {
    aq_mem_free(mem, ep->conns);
    aq_memzero(hkey, sizeof(hkey));
    aq_mem_free(mem, ep);
    return NULL;
  }
  /* One random key per endpoint: peers cannot aim CIDs at a bucket. */
  aq_cidmap_init(&ep->cids, mem, hkey);
  aq_cidmap_init(&ep->tokens, mem, hkey);
  aq_memzero(hkey, sizeof(hkey));
  ep->key_cache = aq_key_cache_new(mem); /* NULL: every handshake decodes its peer's key */
  if (ep->set.crypto_algs == NULL) {
    ep->own_algs = aq_crypto_algs_new(mem); /* NULL: connections look algorithms up */
    ep->set.crypto_algs = ep->own_algs;
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
  aq_qad_ep_del(ep->qad);
  aq_key_cache_del(ep->key_cache);
  aq_crypto_algs_free(ep->own_algs);
  aq_cidmap_free(&ep->cids);
  aq_cidmap_free(&ep->tokens);
  aq_memzero(ep->token_key, sizeof(ep->token_key));
  aq_memzero(ep->reset_key, sizeof(ep->reset_key));
  aq_memzero(ep->x25519_pre, sizeof(ep->x25519_pre));
  aq_x25519_key_free(ep->x25519_pre_key);
  aq_memzero(ep->ticket_key, sizeof(ep->ticket_key));
  aq_mem_free(ep->mem, ep);
}

/*
 * Retry tokens (RFC 9000 §8.1.2): odcid_len || odcid || HMAC-SHA256(key,
 * client address || odcid || retry SCID || issued)[0..16], then the 8-byte
 * issue time.  They bind the client's address and both CIDs, and expire
 * AQ_RETRY_TOKEN_LIFETIME after they were issued (the endpoint's clock: ts
 * of aq_ep_read), which bounds their replay (RFC 9000 §8.1.4).
 */
#define TOKEN_MAC_LEN 16
#define TOKEN_TIME_LEN 8
#define AQ_RETRY_TOKEN_LIFETIME (10 * AQ_SECONDS)

static int token_mac(const aq_ep *ep, const aq_addr *a, const uint8_t *odcid, size_t odlen,
                     const aq_cid *rscid, aq_tstamp issued, uint8_t mac[32]) {
  uint8_t msg[1 + 16 + 2 + 1 + AQ_MAX_CIDLEN + 1 + AQ_MAX_CIDLEN + TOKEN_TIME_LEN];
  size_t n = 0;
  msg[n++] = a->family;
  memcpy(msg + n, a->ip, 16);
  n += 16;
  msg[n++] = (uint8_t)(a->port >> 8);
  msg[n++] = (uint8_t)a->port;
  msg[n++] = (uint8_t)odlen;
  memcpy(msg + n, odcid, odlen);
  n += odlen;
  msg[n++] = rscid->len;
  memcpy(msg + n, rscid->data, rscid->len);
  n += rscid->len;
  for (int i = 7; i >= 0; i--) {
    msg[n++] = (uint8_t)(issued >> (8 * i));
  }
  return aq_hmac(AQ_HASH_SHA256, mac, ep->token_key, sizeof(ep->token_key), msg, n);
}

/** Answer a token-less Initial with a Retry (queued like VN). */
static void queue_retry(aq_ep *ep, const aq_path *path, const aq_pkt_hd *hd, aq_tstamp ts) {
  aq_cid rscid;
  rscid.len = (uint8_t)ep->set.scid_len;
  uint8_t tok[1 + AQ_MAX_CIDLEN + TOKEN_MAC_LEN + TOKEN_TIME_LEN], mac[32];
  if (hd->dcidlen > AQ_MAX_CIDLEN || ep->cb.rand(rscid.data, rscid.len, ep->user_data) != 0 ||
      token_mac(ep, &path->remote, hd->dcid, hd->dcidlen, &rscid, ts, mac) != 0) {
    return;
  }
  size_t tl = 0;
  tok[tl++] = (uint8_t)hd->dcidlen;
  memcpy(tok + tl, hd->dcid, hd->dcidlen);
  tl += hd->dcidlen;
  memcpy(tok + tl, mac, TOKEN_MAC_LEN);
  tl += TOKEN_MAC_LEN;
  for (int i = 7; i >= 0; i--) {
    tok[tl++] = (uint8_t)(ts >> (8 * i));
  }
  aq_wbuf w;
  aq_wbuf_init(&w, ep->vn_buf, sizeof(ep->vn_buf) - AQ_RETRY_TAG_LEN);
  if (aq_pkt_encode_retry(&w, hd->version, 0, hd->scid, hd->scidlen, rscid.data, rscid.len, tok,
                          tl) != 0) {
    return;
  }
  size_t n = aq_wbuf_len(&w);
  if (aq_pprot_retry_tag(ep->vn_buf + n, hd->version, hd->dcid, hd->dcidlen, ep->vn_buf, n) != 0) {
    return;
  }
  ep->vn_len = n + AQ_RETRY_TAG_LEN;
  ep->vn_path = *path;
  ep->vn_pending = 1;
}

/**
 * RFC 9000 §10.3: a short-header packet for a CID we do not know (e.g. after
 * a restart) gets a stateless reset: random bytes ending in the token of that
 * CID, shorter than what arrived (so two endpoints cannot loop) and at least
 * 21 bytes; nothing is sent for packets of 21 bytes or less.
 */
static void queue_stateless_reset(aq_ep *ep, const aq_path *path, const aq_cid *dcid,
                                  size_t inlen) {
  if (inlen <= 21 + 1 || ep->vn_pending) {
    ep->dropped++;
    return;
  }
  size_t n = inlen - 1 < 43 ? inlen - 1 : 43;
  if (ep->cb.rand(ep->vn_buf, n - AQ_STATELESS_RESET_TOKEN_LEN, ep->user_data) != 0 ||
      aq_reset_token_for(ep->reset_key, dcid, ep->vn_buf + n - AQ_STATELESS_RESET_TOKEN_LEN) != 0) {
    return;
  }
  ep->vn_buf[0] = (uint8_t)((ep->vn_buf[0] & 0x3fu) | 0x40u); /* looks like a short header */
  ep->vn_len = n;
  ep->vn_path = *path;
  ep->vn_pending = 1;
}

/** Check a Retry token for this Initial; on success *odcid = the client's original DCID. */
static int token_check(const aq_ep *ep, const aq_path *path, const aq_pkt_hd *hd, aq_tstamp ts,
                       aq_cid *odcid) {
  if (hd->tokenlen < 1 || hd->token[0] > AQ_MAX_CIDLEN ||
      hd->tokenlen != 1u + hd->token[0] + TOKEN_MAC_LEN + TOKEN_TIME_LEN) {
    return AQ_ERR_VERIFY;
  }
  aq_cid rscid;
  uint8_t mac[32];
  aq_tstamp issued = 0;
  const uint8_t *tp = hd->token + 1 + hd->token[0] + TOKEN_MAC_LEN;
  for (size_t i = 0; i < TOKEN_TIME_LEN; i++) {
    issued = (issued << 8) | tp[i];
  }
  /* Expired, or from the future (another endpoint instance's clock). */
  if (issued > ts || ts - issued > AQ_RETRY_TOKEN_LIFETIME) {
    return AQ_ERR_VERIFY;
  }
  if (aq_cid_init(&rscid, hd->dcid, hd->dcidlen) != 0 ||
      token_mac(ep, &path->remote, hd->token + 1, hd->token[0], &rscid, issued, mac) != 0 ||
      !aq_ct_memeq(mac, hd->token + 1 + hd->token[0], TOKEN_MAC_LEN) ||
      aq_cid_init(odcid, hd->token + 1, hd->token[0]) != 0) {
    return AQ_ERR_VERIFY;
  }
  return 0;
}

/* Does this endpoint's group list use X25519 (alone or in X25519MLKEM768)? */
static int ep_uses_x25519(const aq_ep *ep) {
  if (ep->set.tls_groups == NULL) {
    return 1; /* the default list starts with X25519MLKEM768 */
  }
  for (size_t i = 0; i < ep->set.ntls_groups; i++) {
    if (ep->set.tls_groups[i] == 0x001d || ep->set.tls_groups[i] == 0x11ec) {
      return 1;
    }
  }
  return 0;
}

/*
 * Make the next handshake's X25519 key pair (aq_ep_prepare: called once our
 * datagrams are out), rather than while a peer waits for us.
 */
static void ep_pre_refill(aq_ep *ep) {
  if (ep->has_x25519_pre || !ep_uses_x25519(ep)) {
    return;
  }
  if (ep->cb.rand(ep->x25519_pre, AQ_X25519_LEN, ep->user_data) == 0 &&
      aq_x25519_key_new(&ep->x25519_pre_key, ep->x25519_pre + AQ_X25519_LEN, ep->x25519_pre) ==
          0) {
    ep->has_x25519_pre = 1;
  } else {
    aq_memzero(ep->x25519_pre, sizeof(ep->x25519_pre));
  }
}

/* Hand the prepared key pair (once) and the key cache to a new connection. */
static void ep_pre_give(aq_ep *ep, aq_conn *c) {
  aq_conn_set_key_cache(c, ep->key_cache);
  if (ep->has_x25519_pre) {
    aq_conn_set_x25519_pre(c, ep->x25519_pre, ep->x25519_pre_key); /* c owns the key now */
    ep->x25519_pre_key = NULL;
    aq_memzero(ep->x25519_pre, sizeof(ep->x25519_pre));
    ep->has_x25519_pre = 0;
  }
}

size_t aq_ep_conn_count(const aq_ep *ep) {
  return ep->nconns;
}

int aq_ep_connect(aq_ep *ep, const aq_path *path, aq_tstamp ts, aq_conn **out) {
  *out = NULL;
  if (ep->nconns >= ep->cap) {
    return AQ_ERR_LIMIT;
  }
  aq_conn *c;
  int rc = aq_conn_new(&c, 0, &ep->set, &ep->cb, ep->user_data, ep->mem, path, NULL, ts);
  if (rc == 0 && (rc = aq_qad_ep_attach(ep->qad, c, ts)) != 0) {
    aq_conn_del(c);
  }
  if (rc != 0) {
    return rc;
  }
  aq_conn_set_ep(c, ep);
  aq_conn_set_reset_key(c, ep->reset_key);
  ep_pre_give(ep, c);
  ep->conns[ep->nconns++] = c;
  ep_sync(ep, c);
  *out = c;
  return 0;
}

/** The connection dcid routes to (a server's original DCID only for long headers), or NULL. */
static aq_conn *find_conn(const aq_ep *ep, const aq_cid *dcid, int long_hdr) {
  unsigned flags = 0;
  aq_conn *c = aq_cidmap_find(&ep->cids, dcid, &flags);
  if (c != NULL && (flags & AQ_CIDMAP_INITIAL_ONLY) && !long_hdr) {
    return NULL;
  }
  return c;
}

aq_conn *aq_ep_find_conn(const aq_ep *ep, const aq_cid *dcid, int long_hdr) {
  return find_conn(ep, dcid, long_hdr);
}

void aq_ep_route_counts(const aq_ep *ep, size_t *ncids, size_t *ntokens) {
  *ncids = aq_cidmap_count(&ep->cids);
  *ntokens = aq_cidmap_count(&ep->tokens);
}

/** The connection whose peer gave the stateless reset token ending the datagram, or NULL. */
static aq_conn *find_reset_token(const aq_ep *ep, const uint8_t *data, size_t len) {
  aq_cid tok;
  if (len < AQ_STATELESS_RESET_TOKEN_LEN ||
      aq_cid_init(&tok, data + len - AQ_STATELESS_RESET_TOKEN_LEN, AQ_STATELESS_RESET_TOKEN_LEN) !=
          0) {
    return NULL;
  }
  /* The table only narrows the search; the connection compares in constant time. */
  return aq_cidmap_find(&ep->tokens, &tok, NULL);
}

int aq_ep_read(aq_ep *ep, const aq_path *path, const uint8_t *data, size_t len, aq_tstamp ts) {
  aq_pkt_hd hd;
  if (aq_pkt_decode_hd(&hd, data, len, ep->set.scid_len) != 0) {
    ep->dropped++;
    return 0;
  }
  /* A version the codec knows but the settings do not allow (v2 off) counts as unknown. */
  if (hd.type == AQ_PKT_UNKNOWN_VERSION ||
      (ep->is_server && hd.type == AQ_PKT_INITIAL && !aq_ver_allowed(&ep->set, hd.version))) {
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
  int fresh = c == NULL; /* a server connection is created below */
  if (c == NULL && !long_hdr) {
    /* A stateless reset for one of ours?  (It carries a random DCID.) */
    aq_conn *rc = find_reset_token(ep, data, len);
    if (rc != NULL && aq_conn_stateless_reset(rc, data, len, ts)) {
      return 0;
    }
    queue_stateless_reset(ep, path, &dcid, len);
    return 0;
  }
  if (c == NULL) {
    /* A new connection: a v1 Initial in a full-sized datagram (§14.1) with a DCID >= 8 (§7.2). */
    if (ep->is_server && hd.type == AQ_PKT_0RTT && hd.version == AQ_PROTO_VER_V1) {
      aq_zrtt_stash_put(&ep->zstash, path, data, len); /* its Initial may come next */
      return 0;
    }
    if (!ep->is_server || hd.type != AQ_PKT_INITIAL || !aq_ver_allowed(&ep->set, hd.version) ||
        len < 1200 || hd.dcidlen < 8 || ep->nconns >= ep->cap) {
      ep->dropped++;
      return 0;
    }
    aq_cid odcid;
    int retried = 0;
    /* RFC 9000 §8.1.3: a valid NEW_TOKEN token validates the address (no Retry);
     * an invalid one counts as none. */
    int token_ok = aq_zrtt_token_valid(ep->set.ticket_key, path, &hd, ts);
    if (ep->set.retry && !token_ok) {
      if (hd.tokenlen == 0 || aq_token_is_new(hd.token, hd.tokenlen)) {
        queue_retry(ep, path, &hd, ts);
        return 0;
      }
      if (token_check(ep, path, &hd, ts, &odcid) != 0) {
        ep->dropped++; /* §8.1.3: an invalid token; a stricter server would send INVALID_TOKEN */
        return 0;
      }
      retried = 1;
    }
    int rc = aq_conn_new(&c, 1, &ep->set, &ep->cb, ep->user_data, ep->mem, path, &hd, ts);
    if (rc != 0) {
      return aq_err_is_fatal(rc) ? rc : 0;
    }
    if (retried && aq_conn_set_retry(c, &odcid) != 0) {
      aq_conn_del(c);
      return 0;
    }
    if (token_ok) {
      aq_conn_set_addr_validated(c);
    }
    if ((rc = aq_qad_ep_attach(ep->qad, c, ts)) != 0) {
      aq_conn_del(c);
      return aq_err_is_fatal(rc) ? rc : 0;
    }
    aq_conn_set_ep(c, ep);
    aq_conn_set_reset_key(c, ep->reset_key);
    ep_pre_give(ep, c);
    ep->conns[ep->nconns++] = c;
    ep_sync(ep, c);
    if (ep->cb.new_conn != NULL) {
      ep->cb.new_conn(ep, c, ep->user_data);
    }
  }
  int rc = aq_conn_read_pkt_ecn(c, path, data, len, ep->rx_ecn, ts);
  (void)rc; /* a failed connection is reaped by aq_ep_handle_expiry */
  if (fresh) {
    aq_zrtt_stash_flush(&ep->zstash, c, ts);
  }
  ep_sync(ep, c);
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
    aq_ssize n = aq_conn_write_pkt_ecn(c, path, buf, cap, ep->tx_ecn, ts);
    ep_sync(ep, c); /* a CID this packet advertises routes before it leaves */
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

void aq_ep_prepare(aq_ep *ep) {
  ep_pre_refill(ep);
  const aq_tls_credential *cred = ep->set.cred;
  if (cred != NULL && cred->prepare != NULL) {
    cred->prepare(cred->sign_ctx);
  }
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
      ep_sync(ep, c);
    }
    if (aq_conn_get_error(c) != 0 || aq_conn_is_done(c)) {
      ep_unroute(ep, c);
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

/* ---------------------------------------------- ECN (RFC 9000 §13.4) */

int aq_ep_read_ecn(aq_ep *ep, const aq_path *path, const uint8_t *data, size_t len, unsigned ecn,
                   aq_tstamp ts) {
  ep->rx_ecn = ecn & 3u;
  int rc = aq_ep_read(ep, path, data, len, ts);
  ep->rx_ecn = AQ_ECN_NOT_ECT;
  return rc;
}

aq_ssize aq_ep_write_ecn(aq_ep *ep, aq_path *path, uint8_t *buf, size_t cap, unsigned *ecn,
                         aq_tstamp ts) {
  unsigned mark = AQ_ECN_NOT_ECT;
  ep->tx_ecn = &mark;
  aq_ssize n = aq_ep_write(ep, path, buf, cap, ts);
  ep->tx_ecn = NULL;
  *ecn = n > 0 ? mark : AQ_ECN_NOT_ECT;
  return n;
}

/* ------------------------------------------- QUIC address discovery (issue 8) */

int aq_ep_set_qad(aq_ep *ep, const aq_qad_config *cfg) {
  return aq_qad_ep_configure(&ep->qad, ep->mem, cfg);
}

size_t aq_ep_discovered(const aq_ep *ep, aq_discovered_addr *out, size_t n) {
  return aq_qad_ep_discovered(ep->qad, out, n);
}
