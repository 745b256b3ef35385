/*
 * aq_conn.h - the QUIC v1 connection (RFC 9000/9001/9002), library-internal
 * calls on top of the public aq_conn_* API in antquic.h: creation (the
 * endpoint creates connections), CID access for demultiplexing, and the
 * extension hook through which address discovery and NAT traversal modules
 * register frame handlers and transport parameters.
 *
 * Timers of a connection (aq_conn_get_expiry is their minimum):
 *  - loss detection / PTO (aq_recov, RFC 9002 App. A.8);
 *  - ACK deadlines per packet number space (aq_acktr);
 *  - pacing: the next send time while data is waiting and cwnd allows it;
 *  - idle timeout (RFC 9000 §10.1): restarted by every processed packet and
 *    by the first ack-eliciting packet sent after one; at least 3 PTO;
 *  - keep-alive: a PING when nothing was sent for settings.keep_alive;
 *  - handshake timeout (settings.handshake_timeout after creation);
 *  - closing / draining: 3 PTO after entering the state (RFC 9000 §10.2).
 */
#ifndef AQ_CONN_H
#define AQ_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "quic/aq_pkt.h"

struct aq_conn_ext_ops;

/**
 * Create a connection (owned by the caller or an endpoint).  Client: path is
 * where to connect; the first aq_conn_write_pkt starts the handshake.
 * Server: hd is the header of the client's first Initial (DCID/SCID/version
 * are copied).  settings/callbacks are copied.  Returns 0, AQ_ERR_NOMEM,
 * AQ_ERR_CALLBACK_FAILURE (rand failed), AQ_ERR_INVALID_ARGUMENT.
 */
AQ_MUST_CHECK int aq_conn_new(aq_conn **out, int is_server, const aq_settings *settings,
                              const aq_callbacks *cb, void *user_data, const aq_mem *mem,
                              const aq_path *path, const aq_pkt_hd *hd, aq_tstamp ts);
/** Free a connection (no callbacks).  NULL is a no-op. */
void aq_conn_del(aq_conn *conn);
/** Set the owning endpoint (passed to new_conn callbacks). */
void aq_conn_set_ep(aq_conn *conn, aq_ep *ep);
/** Our connection ID (sequence 0). */
const aq_cid *aq_conn_scid(const aq_conn *conn);
/** Non-zero if cid is one of the connection IDs this connection issued and has not retired. */
int aq_conn_owns_cid(const aq_conn *conn, const aq_cid *cid);
/**
 * Give the handshake a precomputed X25519 key pair (private key, then its
 * public key; copied, wiped when the connection is deleted) for its X25519
 * share, before the handshake starts.  Used once.
 */
/**
 * A key pair made ahead for this handshake's X25519 share (private, then
 * public) and, if not NULL, the same pair as an aq_x25519_key_new object,
 * which conn takes over (and frees if the handshake already started).
 */
void aq_conn_set_x25519_pre(aq_conn *conn, const uint8_t pre[64], void *key);
/** Share the endpoint's cache of decoded peer keys (borrowed; must outlive conn). */
struct aq_key_cache;
void aq_conn_set_key_cache(aq_conn *conn, struct aq_key_cache *kc);
/**
 * Server: the client's Initial (whose DCID created conn) answered a Retry
 * whose validated token carried odcid: report original_destination_
 * connection_id = odcid and retry_source_connection_id = the current DCID,
 * and treat the address as validated.  Before the first aq_conn_read_pkt.
 */
AQ_MUST_CHECK int aq_conn_set_retry(aq_conn *conn, const aq_cid *odcid);
/**
 * A datagram no connection claimed by its DCID: if it ends with a stateless
 * reset token conn's peer gave us, conn enters draining (conn_closed fires)
 * and 1 is returned; else 0.
 */
int aq_conn_stateless_reset(aq_conn *conn, const uint8_t *data, size_t len, aq_tstamp ts);
/** Give the connection the endpoint's stateless reset key (32 bytes; before it starts). */
void aq_conn_set_reset_key(aq_conn *conn, const uint8_t key[32]);
/**
 * The stateless reset token an endpoint with key sends for cid (RFC 9000
 * §10.3.2): the first 16 bytes of HMAC-SHA256(key, cid).
 */
AQ_MUST_CHECK int aq_reset_token_for(const uint8_t key[32], const aq_cid *cid,
                                     uint8_t token[AQ_STATELESS_RESET_TOKEN_LEN]);
/** Server, during the handshake: cid is the client's original DCID or our Retry SCID. */
int aq_conn_is_initial_dcid(const aq_conn *conn, const aq_cid *cid);
/** The client's original DCID (servers accept it until the handshake completes). */
const aq_cid *aq_conn_odcid(const aq_conn *conn);
/** Non-zero once the connection can be deleted (closed, draining/closing timers over). */
int aq_conn_is_done(const aq_conn *conn);
/** Sticky fatal error or 0. */
int aq_conn_get_error(const aq_conn *conn);

/**
 * Register an extension (see aq_conn_ext_ops in aq_conn_int.h) before the
 * handshake starts (client: before the first write; server: inside the
 * new_conn callback).  tp_value/tp_len: our value of ops->tp_id (borrowed
 * until the handshake is done).  Errors: AQ_ERR_LIMIT, AQ_ERR_STATE.
 */
AQ_MUST_CHECK int aq_conn_ext_register(aq_conn *conn, const struct aq_conn_ext_ops *ops, void *ctx,
                                       const uint8_t *tp_value, size_t tp_len);
/**
 * Only from inside an extension's write_frames: record token in the packet
 * being built, so that the extension's on_frame_fate reports whether it was
 * acknowledged or lost.  Call it after checking the frame fits and before
 * writing it.  Errors: AQ_ERR_LIMIT (no room for another record in this
 * packet: do not write the frame now), AQ_ERR_STATE (not inside write_frames).
 */
AQ_MUST_CHECK int aq_conn_ext_track(aq_conn *conn, uint64_t token);

#endif /* AQ_CONN_H */
