/*
 * aq_qad_conn.h - QUIC Address Discovery (draft-ietf-quic-address-discovery)
 * wired into connections and endpoints through the connection extension
 * hook (aq_conn_ext_ops):
 *
 *  - negotiation: we send address_discovery = cfg.mode; when the peer's
 *    value arrives, may_send / may_receive follow aq_qad_may_send/_receive;
 *  - sending (only if the peer asked): one OBSERVED_ADDRESS per new path,
 *    the handshake path included, and again when the path slot gets a new
 *    address pair (NAT rebinding, migration); 1-RTT packets only; sequence
 *    numbers increase per connection; a lost frame is sent again with the
 *    same sequence number on the same path slot, unless a newer observation
 *    for that path superseded it; new observations take a token from the
 *    slot's bucket (rate = burst = cfg.max_rate, 63 for bootstrap nodes);
 *    by default only the active path is observed (the one 1-RTT packets go
 *    to), with observe_all_paths (or bootstrap) also other paths, bundled
 *    into the PATH_RESPONSE packets sent there (draft §5: "bundle the
 *    OBSERVED_ADDRESS frame with probing packets");
 *  - receiving: a frame the peer was not asked for is a PROTOCOL_VIOLATION
 *    (draft §4.1); a sequence number not above the last one accepted on that
 *    path is ignored; accepted reports fire aq_callbacks.addr_observed and
 *    enter the endpoint's discovered set (at most AQ_QAD_MAX_ADDRS_PER_CONN
 *    address changes per connection).
 *
 * Memory: one aq_qad_conn per connection, O(AQ_MAX_PATHS), allocated at
 * attach time with the connection's allocator and freed with the connection;
 * one aq_qad_ep per endpoint (fixed-size discovered set).
 *
 * Timers: per path, when a new observation is waiting for a token, the time
 * the bucket refills one (only the active path's timer is armed: other
 * paths send when a probing packet goes there anyway).
 */
#ifndef AQ_QAD_CONN_H
#define AQ_QAD_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_qad.h"

typedef struct aq_qad_ep aq_qad_ep;

/** Counters of one connection's address discovery. */
typedef struct aq_qad_stats {
  uint64_t tx_new;       /* observations sent with a new sequence number */
  uint64_t tx_retx;      /* sent again (same sequence number, same path) after a loss */
  uint64_t tx_acked;     /* packets carrying one were acknowledged */
  uint64_t tx_lost;      /* packets carrying one were declared lost */
  uint64_t rate_limited; /* a new observation had to wait for a token */
  uint64_t rx_accepted;  /* frames accepted (sequence above the last on the path) */
  uint64_t rx_stale;     /* frames ignored (sequence not above the last on the path) */
  uint64_t rx_changes;   /* accepted frames whose address differed from the previous report */
  uint64_t rx_untracked; /* accepted frames kept out of the endpoint set (per-connection cap) */
} aq_qad_stats;

/** Per-path sender states. */
enum {
  AQ_QAD_TX_IDLE = 0, /* nothing to send (acknowledged, or not needed) */
  AQ_QAD_TX_NEW = 1,  /* a new observation is due (new sequence number, needs a token) */
  AQ_QAD_TX_RETX = 2, /* the last one was lost: send it again (same sequence number) */
  AQ_QAD_TX_SENT = 3  /* in flight */
};

/** State of one path slot (index = the connection's path index). */
typedef struct aq_qad_path {
  aq_qad_bucket bucket; /* kept when the slot is reused: a storm of new paths gets no refill */
  aq_qad_rx rx;         /* receiver: last accepted observation on this path */
  uint64_t tx_seq;      /* sequence number of the last frame sent for this path */
  aq_tstamp wake_at;    /* AQ_TX_NEW waiting for a token until then; AQ_TSTAMP_NEVER = not */
  uint8_t tx;           /* AQ_QAD_TX_* */
} aq_qad_path;

/** Per-connection state (O(AQ_MAX_PATHS)). */
typedef struct aq_qad_conn {
  const aq_mem *mem;
  aq_qad_ep *ep;         /* discovered set to feed, or NULL */
  uint64_t peer_mode;    /* the peer's address_discovery, UINT64_MAX = absent/unknown */
  uint64_t next_seq;     /* next sequence number we send */
  uint64_t nchanges;     /* address changes reported by this peer (cap for the ep set) */
  aq_addr observed;      /* the peer's latest accepted report */
  uint32_t rate;         /* tokens per second per path */
  uint8_t mode;          /* our address_discovery value */
  uint8_t tp_value[1];   /* its varint encoding (borrowed by the connection) */
  uint8_t observe_all;   /* also observe non-active paths */
  uint8_t may_send;      /* negotiated */
  uint8_t may_receive;   /* negotiated */
  uint8_t have_observed; /* observed is set */
  aq_qad_stats stats;
  aq_qad_path path[AQ_MAX_PATHS];
} aq_qad_conn;

/**
 * Attach address discovery to conn (before its handshake starts: client
 * before the first write, server inside/before new_conn).  cfg is copied
 * (bootstrap: 63/s and all paths); ep (may be NULL) receives accepted
 * reports.  Errors: AQ_ERR_VALUE_RANGE (bad cfg), AQ_ERR_NOMEM, and those of
 * aq_conn_ext_register (AQ_ERR_STATE, AQ_ERR_LIMIT).
 */
AQ_MUST_CHECK int aq_qad_conn_attach(aq_conn *conn, const aq_qad_config *cfg, aq_qad_ep *ep,
                                     aq_tstamp ts);

/** conn's address-discovery state, or NULL if none is attached. */
const aq_qad_conn *aq_qad_conn_of(const aq_conn *conn);

/** Check a configuration: 0 or AQ_ERR_VALUE_RANGE (rate, mode) / AQ_ERR_INVALID_ARGUMENT. */
AQ_MUST_CHECK int aq_qad_config_check(const aq_qad_config *cfg);

/**
 * Endpoint side (called from aq_ep.c): create *slot on first use and store
 * cfg for new connections (cfg NULL or disabled: new connections get none;
 * the set stays).  Errors: those of aq_qad_config_check, AQ_ERR_NOMEM.
 */
AQ_MUST_CHECK int aq_qad_ep_configure(aq_qad_ep **slot, const aq_mem *mem,
                                      const aq_qad_config *cfg);
/** Attach to a connection the endpoint just created (no-op if qe is NULL or disabled). */
AQ_MUST_CHECK int aq_qad_ep_attach(aq_qad_ep *qe, aq_conn *conn, aq_tstamp ts);
/** Free the endpoint state (after every connection using it is gone).  NULL is a no-op. */
void aq_qad_ep_del(aq_qad_ep *qe);
/** See aq_ep_discovered (qe may be NULL). */
size_t aq_qad_ep_discovered(const aq_qad_ep *qe, aq_discovered_addr *out, size_t n);

#endif /* AQ_QAD_CONN_H */
