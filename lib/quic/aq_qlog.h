/*
 * aq_qlog.h - diagnostics of a connection: a qlog event trace
 * (draft-ietf-quic-qlog-main-schema / -quic-events, JSON-SEQ records
 * delivered one per callback) and an SSLKEYLOGFILE key log, plus the small
 * JSON writer they use (lib/ has no printf).
 */
#ifndef AQ_QLOG_H
#define AQ_QLOG_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_buf.h"

/* ------------------------------------------------------- JSON writer */

/** Deepest nesting of objects/arrays. */
#define AQ_JW_MAX_DEPTH 16

/**
 * A JSON writer over an aq_wbuf: it inserts commas and colons itself, so
 * callers only say "key, value" or "value" (in arrays).  Errors (overflow,
 * nesting too deep) are sticky in the aq_wbuf.
 */
typedef struct aq_jw {
  aq_wbuf *w;
  unsigned depth;
  int after_key;
  uint8_t first[AQ_JW_MAX_DEPTH + 1]; /* next item at this depth is the first */
} aq_jw;

/** Start writing into w. */
void aq_jw_init(aq_jw *jw, aq_wbuf *w);
void aq_jw_obj_begin(aq_jw *jw);
void aq_jw_obj_end(aq_jw *jw);
void aq_jw_arr_begin(aq_jw *jw);
void aq_jw_arr_end(aq_jw *jw);
/** An object member name (a NUL-terminated ASCII literal). */
void aq_jw_key(aq_jw *jw, const char *key);
/**
 * A string value from len bytes, escaped: '"', '\\' and every byte below
 * 0x20 or above 0x7e become escapes (bytes >= 0x80 as \u00XX, so any input
 * gives valid ASCII JSON).
 */
void aq_jw_str(aq_jw *jw, const uint8_t *s, size_t len);
/** A string value from a NUL-terminated string. */
void aq_jw_cstr(aq_jw *jw, const char *s);
/** A string value: len bytes as lowercase hex. */
void aq_jw_hex(aq_jw *jw, const uint8_t *s, size_t len);
/** An unsigned integer value. */
void aq_jw_u64(aq_jw *jw, uint64_t v);
/** A duration in milliseconds with three decimals (microsecond resolution). */
void aq_jw_ms(aq_jw *jw, aq_duration ns);
/** true / false. */
void aq_jw_bool(aq_jw *jw, int v);

/* ------------------------------------------------ connection hooks */

struct aq_conn;
struct aq_sent_pkt;
struct aq_tp;

/** Most bytes of one qlog record (longer events lose their frame list). */
#define AQ_QLOG_RECORD_MAX 8192u

/** Non-zero if the connection traces qlog events. */
int aq_qlog_on(const struct aq_conn *conn);
/** The time of events raised without one (acks, losses, closes). */
void aq_qlog_set_time(struct aq_conn *conn, aq_tstamp ts);
/**
 * quic:packet_sent (sent != 0) / quic:packet_received: pkt_type an
 * aq_pkt_type, payload the plaintext frames (decoded for the frame list),
 * pktlen the protected packet's size.
 */
void aq_qlog_packet(struct aq_conn *conn, int sent, int pkt_type, uint64_t pn, unsigned key_phase,
                    const uint8_t *payload, size_t len, size_t pktlen, aq_tstamp ts);
/** quic:packets_acked / quic:packet_lost for one packet of space. */
void aq_qlog_recov(struct aq_conn *conn, unsigned space, const struct aq_sent_pkt *pkt, int lost);
/** quic:parameters_set for our (local) or the peer's transport parameters. */
void aq_qlog_params(struct aq_conn *conn, int local, const struct aq_tp *tp, aq_tstamp ts);
/** quic:key_updated: key_type as in the qlog schema, generation, trigger ("tls", ...). */
void aq_qlog_key(struct aq_conn *conn, const char *key_type, uint64_t generation,
                 const char *trigger);
/** quic:connection_closed. */
void aq_qlog_closed(struct aq_conn *conn, int by_peer, int idle, int is_app, uint64_t code,
                    const uint8_t *reason, size_t reasonlen);
/** Free the trace buffer. */
void aq_qlog_free(struct aq_conn *conn);

/**
 * TLS installed a traffic secret (aq_conn's set_secret hook): write its
 * SSLKEYLOGFILE line through callbacks.keylog (handshake, 1-RTT and 0-RTT
 * secrets) and raise quic:key_updated.
 */
void aq_keylog_on_secret(struct aq_conn *conn, int epoch, int is_write, const uint8_t *secret,
                         size_t secretlen);

#endif /* AQ_QLOG_H */
