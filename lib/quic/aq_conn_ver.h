/*
 * aq_conn_ver.h - QUIC version 2 (RFC 9369) and compatible version
 * negotiation (RFC 9368) for a connection: which version a client starts
 * in, the version_information transport parameter we send and the checks
 * on the peer's, the server's switch from v1 to v2 when the client lists
 * v2, the client's switch on the first Initial in the other version, and
 * the Initial read keys of the other version kept meanwhile.
 */
#ifndef AQ_CONN_VER_H
#define AQ_CONN_VER_H

#include <stdint.h>

#include "antquic.h"
#include "quic/aq_pkt.h"
#include "quic/aq_pprot.h"
#include "quic/aq_tp.h"

/** Per-connection version state (a member of aq_conn). */
typedef struct aq_conn_ver {
  uint32_t orig;        /* original version: of the client's first Initial */
  uint32_t alt_version; /* version of alt_rx */
  aq_pprot alt_rx;      /* Initial read keys of alt_version (client: v2 candidate; server: v1) */
  int has_alt;
  int switched; /* compatible negotiation moved us off orig */
} aq_conn_ver;

struct aq_conn;

/** Non-zero if settings s let an endpoint speak version v. */
int aq_ver_allowed(const aq_settings *s, uint32_t v);
/** Versions we speak, in preference order, into out[2]; returns the count. */
size_t aq_ver_list(const aq_settings *s, uint32_t out[2]);
/** At creation, before the Initial keys: a client's first version from its settings. */
void aq_ver_init(struct aq_conn *conn);
/** The Initial keys were (re)installed: a client offering v2 derives the v2 read keys. */
AQ_MUST_CHECK int aq_ver_on_initial_keys(struct aq_conn *conn);
/** Read keys for a long-header packet whose version is not conn->version, or NULL (drop). */
aq_pprot *aq_ver_rx_key(struct aq_conn *conn, const aq_pkt_hd *hd);
/** A packet in another version was opened with aq_ver_rx_key's keys: a client switches. */
AQ_MUST_CHECK int aq_ver_on_opened(struct aq_conn *conn, const aq_pkt_hd *hd);
/** Server, at its handshake keys: switch to v2 if the client's parameters list it. */
AQ_MUST_CHECK int aq_ver_server_select(struct aq_conn *conn);
/** Version of a long-header packet of type t we send (0-RTT stays in the original version). */
uint32_t aq_ver_tx_version(const struct aq_conn *conn, aq_pkt_type t);
/** Add our version_information to tp (when v2 is enabled or in use). */
void aq_ver_fill_tp(const struct aq_conn *conn, aq_tp *tp);
/** Check the peer's version_information (RFC 9368 §4); closes with 0x11.  0 or AQ_ERR_PROTO. */
AQ_MUST_CHECK int aq_ver_check_peer_tp(struct aq_conn *conn, const aq_tp *tp, aq_tstamp ts);
/** Free the kept keys. */
void aq_ver_free(struct aq_conn *conn);

#endif /* AQ_CONN_VER_H */
