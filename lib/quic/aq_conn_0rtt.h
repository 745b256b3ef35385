/*
 * aq_conn_0rtt.h - session resumption and 0-RTT for QUIC connections
 * (RFC 9001 §4.6, RFC 9000 §7.4.1), and the client side of NEW_TOKEN
 * (RFC 9000 §8.1.3) that travels in the same session blob.
 *
 * The session blob handed to the application (aq_callbacks.new_session)
 * and given back with aq_conn_set_session() is ours:
 *
 *   "AQS1" (4 bytes)
 *   varint length || TLS session (lib/tls aq_tls_session encoding; may be empty)
 *   varint length || address-validation token from NEW_TOKEN (may be empty)
 *   varint length || remembered transport parameters (may be empty):
 *      varints max_idle_timeout_ms, max_udp_payload_size, initial_max_data,
 *      initial_max_stream_data_bidi_local, _bidi_remote, _uni,
 *      initial_max_streams_bidi, initial_max_streams_uni,
 *      active_connection_id_limit, max_datagram_frame_size, then one byte
 *      disable_active_migration (0/1).
 *
 * The blob contains the resumption PSK: applications store it as a secret.
 * Codecs here are pure; the connection glue is in aq_conn_0rtt.c.
 */
#ifndef AQ_CONN_0RTT_H
#define AQ_CONN_0RTT_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_buf.h"
#include "quic/aq_pkt.h"
#include "quic/aq_pprot.h"
#include "quic/aq_token.h"
#include "quic/aq_tp.h"
#include "tls/aq_tls.h"

/** Session blob magic "AQS1". */
#define AQ_ZRTT_MAGIC 0x41515331u
/** Longest NEW_TOKEN token we keep (RFC 9000 does not bound it; we do). */
#define AQ_ZRTT_TOKEN_MAX 256u
/** Longest TLS session accepted in a blob (ML-DSA-65 keys make them ~2.3 KB). */
#define AQ_ZRTT_TLS_MAX 8192u
/** 0-RTT packets a server keeps while their keys are not there yet. */
#define AQ_ZRTT_PEND_MAX 4u
/** Datagrams an endpoint keeps for connections whose Initial has not arrived. */
#define AQ_ZRTT_STASH_MAX 4u
/** Largest datagram kept in either buffer. */
#define AQ_ZRTT_DGRAM_MAX 1500u

struct aq_sent_meta;

/** A decoded session blob (pointers into the input). */
typedef struct aq_zrtt_session {
  const uint8_t *tls;
  size_t tls_len;
  const uint8_t *token;
  size_t token_len;
  int has_tp;
  aq_tp tp; /* only the remembered fields are meaningful; the rest are defaults */
} aq_zrtt_session;

/** Encode a session blob; errors are sticky in w.  tp NULL = no remembered parameters. */
void aq_zrtt_session_encode(aq_wbuf *w, const uint8_t *tls, size_t tls_len, const uint8_t *token,
                            size_t token_len, const aq_tp *tp);
/**
 * Decode a session blob.  Errors: AQ_ERR_MALFORMED (magic, values out of
 * range, an empty blob), AQ_ERR_TRUNCATED, AQ_ERR_TRAILING_DATA,
 * AQ_ERR_VALUE_RANGE (a field longer than we accept).  *s is unchanged on
 * error.
 */
AQ_MUST_CHECK int aq_zrtt_session_decode(aq_zrtt_session *s, const uint8_t *data, size_t len);

/** 0-RTT state of one connection (embedded in aq_conn). */
typedef struct aq_conn_zrtt {
  aq_pprot key; /* client: 0-RTT write key; server: 0-RTT read key */
  int has_key;
  int key_done;  /* keys were installed once and dropped since (never again) */
  int decided;   /* client: the server's answer to our early data was handled */
  int state;     /* AQ_EARLY_DATA_* */
  int have_tp;   /* client: remembered transport parameters in use */
  aq_tp tp;      /* client: the remembered parameters */
  uint8_t *blob; /* client: copy of the session blob (the TLS engine points into it) */
  size_t bloblen;
  const uint8_t *tls_sess; /* into blob */
  size_t tls_sess_len;
  uint8_t *last_tls; /* client: the latest TLS session from a ticket (to re-emit with a token) */
  size_t last_tls_len;
  uint8_t token[AQ_ZRTT_TOKEN_MAX]; /* client: the latest NEW_TOKEN token */
  size_t token_len;
  /* server: 0-RTT packets waiting for the 0-RTT read key */
  uint8_t *pend;
  size_t pend_len[AQ_ZRTT_PEND_MAX];
  aq_path pend_path[AQ_ZRTT_PEND_MAX];
  size_t npend;
  uint64_t pend_dropped;
  /* server: the NEW_TOKEN token for this client (RFC 9000 §8.1.3) */
  uint8_t new_token[AQ_TOKEN_NEW_LEN];
  int token_pending; /* NEW_TOKEN to (re)send */
  int token_issued;
} aq_conn_zrtt;

/** Datagrams for connections that do not exist yet (embedded in aq_ep). */
typedef struct aq_ep_zstash {
  uint8_t buf[AQ_ZRTT_STASH_MAX][AQ_ZRTT_DGRAM_MAX];
  size_t len[AQ_ZRTT_STASH_MAX]; /* 0 = free */
  aq_path path[AQ_ZRTT_STASH_MAX];
  size_t next; /* ring position to overwrite when full */
} aq_ep_zstash;

/* ----------------------------------------------- hooks (aq_conn.c etc.) */

/** Fill the resumption / 0-RTT fields of the TLS configuration (start_tls). */
void aq_zrtt_tls_config(aq_conn *conn, aq_tls_config *tc);
/** TLS callback: a NewSessionTicket arrived (client). */
int aq_zrtt_on_ticket(void *user_data, const uint8_t *session, size_t len);
/** TLS installed the 0-RTT secret (client write / server read). 0 or -1. */
int aq_zrtt_set_secret(aq_conn *conn, int is_write, const aq_tls_suite *suite,
                       const uint8_t *secret, size_t secretlen);
/** After every TLS step (feed_tls): handle accept/reject and handshake completion. */
AQ_MUST_CHECK int aq_zrtt_after_tls(aq_conn *conn, aq_tstamp ts);
/** Client: 0-RTT packets may be built now. */
int aq_zrtt_can_send(const aq_conn *conn);
/** Client: the 0-RTT write key (only when aq_zrtt_can_send). */
aq_pprot *aq_zrtt_tx_key(aq_conn *conn);
/**
 * A 0-RTT packet arrived: the read key, or NULL when there is none (the
 * packet was kept for later, up to AQ_ZRTT_PEND_MAX, or dropped).
 */
aq_pprot *aq_zrtt_rx_key(aq_conn *conn, const aq_path *path, const uint8_t *pkt, size_t len);
/** Server: process 0-RTT packets kept before the key existed. 0 or a fatal error. */
AQ_MUST_CHECK int aq_zrtt_replay(aq_conn *conn, aq_tstamp ts);
/** Client before the handshake completes: streams may be opened (remembered limits). */
int aq_zrtt_streams_ok(const aq_conn *conn);
/** Client: NEW_TOKEN arrived (RFC 9000 §19.7): remember it and re-emit the session. */
void aq_zrtt_on_new_token(aq_conn *conn, const uint8_t *token, size_t len);
/** Server: append NEW_TOKEN to a 1-RTT packet when one is owed (flag in m). */
void aq_zrtt_write_frames(aq_conn *conn, aq_wbuf *w, struct aq_sent_meta *m);
/**
 * Endpoint: hd carries a NEW_TOKEN token valid for path's client at ts
 * (secret: the endpoint's ticket key).  Non-zero if so.
 */
int aq_zrtt_token_valid(const uint8_t secret[32], const aq_path *path, const aq_pkt_hd *hd,
                        aq_tstamp ts);
/** Free what aq_conn_zrtt holds. */
void aq_zrtt_free(aq_conn *conn);

/** Endpoint: keep a 0-RTT datagram whose connection does not exist yet. */
void aq_zrtt_stash_put(aq_ep_zstash *st, const aq_path *path, const uint8_t *data, size_t len);
/** Endpoint: feed the kept datagrams that belong to the new connection conn. */
void aq_zrtt_stash_flush(aq_ep_zstash *st, aq_conn *conn, aq_tstamp ts);

/** Server: the client's address is validated (a NEW_TOKEN token): no 3x limit. */
void aq_conn_set_addr_validated(aq_conn *conn);

/* aq_conn.c: process the first packet of pkt/len as if it had arrived on path. */
AQ_MUST_CHECK int aq_conn_read_single(aq_conn *conn, const aq_path *path, const uint8_t *pkt,
                                      size_t len, aq_tstamp ts);

#endif /* AQ_CONN_0RTT_H */
