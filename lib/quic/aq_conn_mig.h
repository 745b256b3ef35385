/*
 * aq_conn_mig.h - client-initiated connection migration (RFC 9000 §9.2,
 * §9.5, §8.2): aq_conn_migrate() probes a new local address with
 * PATH_CHALLENGE under a fresh peer connection ID, and switches the
 * connection there once PATH_RESPONSE validates it, with fresh congestion
 * state and an RTT estimate seeded from the probe's round trip.  Internal
 * state and hooks; the public call is in antquic.h.
 *
 * Timers: while a probe is outstanding, its retransmission (one PTO after
 * the last probe) and its abandonment (RFC 9000 §8.2.4: three times the
 * larger of the PTO and 6 x kInitialRtt after the start).
 */
#ifndef AQ_CONN_MIG_H
#define AQ_CONN_MIG_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"

/** Probe state of a client migration (embedded in aq_conn). */
typedef struct aq_conn_mig {
  int active;        /* a probe is in progress */
  unsigned path_idx; /* the path being probed */
  size_t cid_idx;    /* peer_cids entry to use on it */
  aq_tstamp started_ts, last_probe_ts, next_probe_ts, deadline_ts;
  unsigned probes_sent;
  uint64_t done;      /* migrations completed */
  uint64_t abandoned; /* probes that timed out */
  aq_cid peer_used;   /* server: our CID the peer used on its current path (len 0 = seq 0) */
} aq_conn_mig;

/** aq_conn_write_pkt hook: a probe datagram for the new path, or 0. */
AQ_MUST_CHECK aq_ssize aq_mig_write(aq_conn *conn, aq_path *path, uint8_t *buf, size_t cap,
                                    aq_tstamp ts);
/** A PATH_RESPONSE was processed: switch if it validated the probed path. */
void aq_mig_on_response(aq_conn *conn, aq_tstamp ts);
/**
 * Server: the peer moved to a new path with packets for our CID dcid.  If
 * that is not the CID it used before (a deliberate migration, not a NAT
 * rebinding), answer under a fresh CID of the peer's as well (§9.5).
 */
void aq_mig_on_peer_moved(aq_conn *conn, const aq_cid *dcid);
/** The probe's next deadline (AQ_TSTAMP_NEVER if none). */
aq_tstamp aq_mig_get_expiry(const aq_conn *conn);
/** Abandon a probe past its deadline (the connection stays where it is). */
void aq_mig_handle_expiry(aq_conn *conn, aq_tstamp ts);

/* Exported by aq_conn.c / aq_conn_tx.c for this module. */
/** The paths[] slot for path (an existing one, or a new one). */
unsigned aq_conn_path_slot(aq_conn *conn, const aq_path *path);

#endif /* AQ_CONN_MIG_H */
