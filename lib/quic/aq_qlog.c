/*
 * aq_qlog.c - the JSON writer and the qlog event trace of a connection
 * (draft-ietf-quic-qlog-main-schema, draft-ietf-quic-qlog-quic-events).
 *
 * Serialization is JSON-SEQ (RFC 7464): every record is RS (0x1e), one
 * JSON text, LF.  The first record of a connection is the header (file
 * schema, vantage point, time format); each later record is one event
 * {"time": ms since the connection was created, "name": "quic:...",
 * "data": {...}}.  Records go to callbacks.qlog one per call, only when
 * settings.qlog is set; nothing is built otherwise.  Events: parameters_set,
 * packet_sent, packet_received (with their frames), packets_acked,
 * packet_lost, key_updated, connection_closed.
 *
 * Memory: one AQ_QLOG_RECORD_MAX buffer, allocated with the first event.
 * Timers: none.
 */
#include "aq_qlog.h"

#include <string.h>

#include "aq_conn_int.h"
#include "aq_mem.h"

/* ============================================================ JSON writer */

void aq_jw_init(aq_jw *jw, aq_wbuf *w) {
  memset(jw, 0, sizeof(*jw));
  jw->w = w;
  jw->first[0] = 1;
}

/** Separator before a value or key at the current depth. */
static void jw_sep(aq_jw *jw) {
  if (jw->after_key) {
    jw->after_key = 0;
    return;
  }
  if (!jw->first[jw->depth]) {
    aq_wbuf_u8(jw->w, ',');
  }
  jw->first[jw->depth] = 0;
}

static void jw_open(aq_jw *jw, uint8_t c) {
  jw_sep(jw);
  if (jw->depth >= AQ_JW_MAX_DEPTH) {
    jw->w->err = AQ_ERR_LIMIT;
    return;
  }
  aq_wbuf_u8(jw->w, c);
  jw->depth++;
  jw->first[jw->depth] = 1;
}

static void jw_close(aq_jw *jw, uint8_t c) {
  if (jw->depth == 0) {
    jw->w->err = AQ_ERR_INVALID_ARGUMENT;
    return;
  }
  jw->depth--;
  aq_wbuf_u8(jw->w, c);
}

void aq_jw_obj_begin(aq_jw *jw) {
  jw_open(jw, '{');
}
void aq_jw_obj_end(aq_jw *jw) {
  jw_close(jw, '}');
}
void aq_jw_arr_begin(aq_jw *jw) {
  jw_open(jw, '[');
}
void aq_jw_arr_end(aq_jw *jw) {
  jw_close(jw, ']');
}

static const char jw_hexdig[] = "0123456789abcdef";

static void jw_str_raw(aq_wbuf *w, const uint8_t *s, size_t len) {
  aq_wbuf_u8(w, '"');
  for (size_t i = 0; i < len; i++) {
    uint8_t c = s[i];
    if (c == '"' || c == '\\') {
      aq_wbuf_u8(w, '\\');
      aq_wbuf_u8(w, c);
    } else if (c == '\n') {
      aq_wbuf_u8(w, '\\');
      aq_wbuf_u8(w, 'n');
    } else if (c < 0x20 || c > 0x7e) {
      /* RFC 8259 §7: control characters must be escaped; bytes >= 0x80 too,
       * so arbitrary (non-UTF-8) peer bytes still give valid JSON. */
      aq_wbuf_u8(w, '\\');
      aq_wbuf_u8(w, 'u');
      aq_wbuf_u8(w, '0');
      aq_wbuf_u8(w, '0');
      aq_wbuf_u8(w, (uint8_t)jw_hexdig[c >> 4]);
      aq_wbuf_u8(w, (uint8_t)jw_hexdig[c & 15u]);
    } else {
      aq_wbuf_u8(w, c);
    }
  }
  aq_wbuf_u8(w, '"');
}

void aq_jw_key(aq_jw *jw, const char *key) {
  jw_sep(jw);
  jw_str_raw(jw->w, (const uint8_t *)key, strlen(key));
  aq_wbuf_u8(jw->w, ':');
  jw->after_key = 1;
}

void aq_jw_str(aq_jw *jw, const uint8_t *s, size_t len) {
  jw_sep(jw);
  jw_str_raw(jw->w, s, len);
}

void aq_jw_cstr(aq_jw *jw, const char *s) {
  aq_jw_str(jw, (const uint8_t *)s, strlen(s));
}

void aq_jw_hex(aq_jw *jw, const uint8_t *s, size_t len) {
  jw_sep(jw);
  aq_wbuf_u8(jw->w, '"');
  for (size_t i = 0; i < len; i++) {
    aq_wbuf_u8(jw->w, (uint8_t)jw_hexdig[s[i] >> 4]);
    aq_wbuf_u8(jw->w, (uint8_t)jw_hexdig[s[i] & 15u]);
  }
  aq_wbuf_u8(jw->w, '"');
}

/** Decimal digits of v (no separator handling). */
static void jw_digits(aq_wbuf *w, uint64_t v, unsigned min_digits) {
  uint8_t tmp[20];
  unsigned n = 0;
  do {
    tmp[n++] = (uint8_t)('0' + v % 10u);
    v /= 10u;
  } while (v != 0 && n < sizeof(tmp));
  while (n < min_digits && n < sizeof(tmp)) {
    tmp[n++] = '0';
  }
  while (n > 0) {
    aq_wbuf_u8(w, tmp[--n]);
  }
}

void aq_jw_u64(aq_jw *jw, uint64_t v) {
  jw_sep(jw);
  jw_digits(jw->w, v, 1);
}

void aq_jw_ms(aq_jw *jw, aq_duration ns) {
  jw_sep(jw);
  uint64_t us = ns / AQ_MICROSECONDS;
  jw_digits(jw->w, us / 1000u, 1);
  aq_wbuf_u8(jw->w, '.');
  jw_digits(jw->w, us % 1000u, 3);
}

void aq_jw_bool(aq_jw *jw, int v) {
  jw_sep(jw);
  const char *s = v ? "true" : "false";
  aq_wbuf_bytes(jw->w, (const uint8_t *)s, strlen(s));
}

/* ================================================================ qlog */

struct aq_conn_qlog {
  uint8_t buf[AQ_QLOG_RECORD_MAX];
  int header_sent;
  aq_tstamp now;
};

int aq_qlog_on(const aq_conn *conn) {
  return conn->set.qlog && conn->cb.qlog != NULL;
}

static aq_conn_qlog *qlog_get(aq_conn *conn) {
  if (!aq_qlog_on(conn)) {
    return NULL;
  }
  if (conn->qlog == NULL) {
    conn->qlog = aq_mem_calloc(conn->mem, 1, sizeof(*conn->qlog));
    if (conn->qlog != NULL) {
      conn->qlog->now = conn->created_ts;
    }
  }
  return conn->qlog;
}

void aq_qlog_set_time(aq_conn *conn, aq_tstamp ts) {
  aq_conn_qlog *q = qlog_get(conn);
  if (q != NULL && ts >= conn->created_ts) {
    q->now = ts;
  }
}

/** Hand one finished record to the application (dropped if it overflowed). */
static int qlog_emit(aq_conn *conn, aq_wbuf *w, const aq_jw *jw) {
  aq_wbuf_u8(w, '\n');
  if (aq_wbuf_error(w) != 0 || jw->depth != 0) {
    return -1;
  }
  conn->cb.qlog(conn, w->begin, aq_wbuf_len(w), conn->user_data);
  return 0;
}

/** The header record: file schema, vantage point, time format (sent once). */
static void qlog_header(aq_conn *conn, aq_conn_qlog *q) {
  if (q->header_sent) {
    return;
  }
  q->header_sent = 1;
  aq_wbuf w;
  aq_jw jw;
  aq_wbuf_init(&w, q->buf, sizeof(q->buf));
  aq_wbuf_u8(&w, 0x1e);
  aq_jw_init(&jw, &w);
  aq_jw_obj_begin(&jw);
  aq_jw_key(&jw, "file_schema");
  aq_jw_cstr(&jw, "urn:ietf:params:qlog:file:sequential");
  aq_jw_key(&jw, "serialization_format");
  aq_jw_cstr(&jw, "application/qlog+json-seq");
  aq_jw_key(&jw, "title");
  aq_jw_cstr(&jw, "ant-quic");
  aq_jw_key(&jw, "trace");
  aq_jw_obj_begin(&jw);
  aq_jw_key(&jw, "vantage_point");
  aq_jw_obj_begin(&jw);
  aq_jw_key(&jw, "name");
  aq_jw_cstr(&jw, "libantquic " AQ_VERSION_STR);
  aq_jw_key(&jw, "type");
  aq_jw_cstr(&jw, conn->is_server ? "server" : "client");
  aq_jw_obj_end(&jw);
  aq_jw_key(&jw, "common_fields");
  aq_jw_obj_begin(&jw);
  aq_jw_key(&jw, "group_id");
  aq_jw_hex(&jw, conn->odcid.data, conn->odcid.len);
  aq_jw_key(&jw, "time_format");
  aq_jw_cstr(&jw, "relative_to_epoch");
  aq_jw_key(&jw, "reference_time");
  aq_jw_obj_begin(&jw);
  aq_jw_key(&jw, "clock_type");
  aq_jw_cstr(&jw, "monotonic");
  aq_jw_key(&jw, "epoch");
  aq_jw_cstr(&jw, "unknown");
  aq_jw_obj_end(&jw);
  aq_jw_obj_end(&jw);
  aq_jw_key(&jw, "event_schemas");
  aq_jw_arr_begin(&jw);
  aq_jw_cstr(&jw, "urn:ietf:params:qlog:events:quic");
  aq_jw_arr_end(&jw);
  aq_jw_obj_end(&jw);
  aq_jw_obj_end(&jw);
  (void)qlog_emit(conn, &w, &jw);
}

/** Open an event record: RS {"time":..,"name":"quic:<name>","data":{ — NULL if off. */
static aq_conn_qlog *ev_begin(aq_conn *conn, aq_wbuf *w, aq_jw *jw, const char *name,
                              aq_tstamp ts) {
  aq_conn_qlog *q = qlog_get(conn);
  if (q == NULL) {
    return NULL;
  }
  qlog_header(conn, q);
  if (ts < conn->created_ts) {
    ts = q->now;
  }
  aq_wbuf_init(w, q->buf, sizeof(q->buf));
  aq_wbuf_u8(w, 0x1e);
  aq_jw_init(jw, w);
  aq_jw_obj_begin(jw);
  aq_jw_key(jw, "time");
  aq_jw_ms(jw, ts - conn->created_ts);
  aq_jw_key(jw, "name");
  aq_wbuf_u8(w, '"');
  aq_wbuf_bytes(w, (const uint8_t *)"quic:", 5);
  aq_wbuf_bytes(w, (const uint8_t *)name, strlen(name));
  aq_wbuf_u8(w, '"');
  jw->after_key = 0;
  aq_jw_key(jw, "data");
  aq_jw_obj_begin(jw);
  return q;
}

/** Close the data object and the event, and emit it. */
static int ev_end(aq_conn *conn, aq_wbuf *w, aq_jw *jw) {
  aq_jw_obj_end(jw);
  aq_jw_obj_end(jw);
  return qlog_emit(conn, w, jw);
}

static const char *pkt_type_name(int t) {
  switch (t) {
  case AQ_PKT_INITIAL: return "initial";
  case AQ_PKT_0RTT: return "0RTT";
  case AQ_PKT_HANDSHAKE: return "handshake";
  case AQ_PKT_RETRY: return "retry";
  case AQ_PKT_VERSION_NEGOTIATION: return "version_negotiation";
  case AQ_PKT_1RTT: return "1RTT";
  default: return "unknown";
  }
}

static const char *frame_name(uint64_t t) {
  if (t >= AQ_FT_STREAM && t <= (AQ_FT_STREAM | 7u)) {
    return "stream";
  }
  switch (t) {
  case AQ_FT_PADDING: return "padding";
  case AQ_FT_PING: return "ping";
  case AQ_FT_ACK:
  case AQ_FT_ACK_ECN: return "ack";
  case AQ_FT_RESET_STREAM: return "reset_stream";
  case AQ_FT_STOP_SENDING: return "stop_sending";
  case AQ_FT_CRYPTO: return "crypto";
  case AQ_FT_NEW_TOKEN: return "new_token";
  case AQ_FT_MAX_DATA: return "max_data";
  case AQ_FT_MAX_STREAM_DATA: return "max_stream_data";
  case AQ_FT_MAX_STREAMS_BIDI:
  case AQ_FT_MAX_STREAMS_UNI: return "max_streams";
  case AQ_FT_DATA_BLOCKED: return "data_blocked";
  case AQ_FT_STREAM_DATA_BLOCKED: return "stream_data_blocked";
  case AQ_FT_STREAMS_BLOCKED_BIDI:
  case AQ_FT_STREAMS_BLOCKED_UNI: return "streams_blocked";
  case AQ_FT_NEW_CONNECTION_ID: return "new_connection_id";
  case AQ_FT_RETIRE_CONNECTION_ID: return "retire_connection_id";
  case AQ_FT_PATH_CHALLENGE: return "path_challenge";
  case AQ_FT_PATH_RESPONSE: return "path_response";
  case AQ_FT_CONNECTION_CLOSE:
  case AQ_FT_CONNECTION_CLOSE_APP: return "connection_close";
  case AQ_FT_HANDSHAKE_DONE: return "handshake_done";
  case AQ_FT_DATAGRAM:
  case AQ_FT_DATAGRAM_LEN: return "datagram";
  default: return "unknown";
  }
}

/** The fields qlog knows for frame f. */
static void frame_fields(aq_jw *jw, const aq_frame *f) {
  uint64_t t = f->type;
  if (t >= AQ_FT_STREAM && t <= (AQ_FT_STREAM | 7u)) {
    aq_jw_key(jw, "stream_id");
    aq_jw_u64(jw, f->u.stream.stream_id);
    aq_jw_key(jw, "offset");
    aq_jw_u64(jw, f->u.stream.offset);
    aq_jw_key(jw, "length");
    aq_jw_u64(jw, f->u.stream.datalen);
    aq_jw_key(jw, "fin");
    aq_jw_bool(jw, f->u.stream.fin);
    return;
  }
  switch (t) {
  case AQ_FT_PADDING:
    aq_jw_key(jw, "payload_length");
    aq_jw_u64(jw, f->u.padding.len);
    break;
  case AQ_FT_ACK:
  case AQ_FT_ACK_ECN: {
    const aq_frame_ack *a = &f->u.ack;
    aq_jw_key(jw, "ack_delay");
    aq_jw_u64(jw, a->ack_delay);
    aq_jw_key(jw, "acked_ranges");
    aq_jw_arr_begin(jw);
    uint64_t smallest = a->largest - a->first_range;
    aq_jw_arr_begin(jw);
    aq_jw_u64(jw, smallest);
    aq_jw_u64(jw, a->largest);
    aq_jw_arr_end(jw);
    for (size_t i = 0; i < a->nranges; i++) {
      uint64_t largest = smallest - a->ranges[i].gap - 2;
      smallest = largest - a->ranges[i].len;
      aq_jw_arr_begin(jw);
      aq_jw_u64(jw, smallest);
      aq_jw_u64(jw, largest);
      aq_jw_arr_end(jw);
    }
    aq_jw_arr_end(jw);
    if (t == AQ_FT_ACK_ECN) {
      aq_jw_key(jw, "ect0");
      aq_jw_u64(jw, a->ect0);
      aq_jw_key(jw, "ect1");
      aq_jw_u64(jw, a->ect1);
      aq_jw_key(jw, "ce");
      aq_jw_u64(jw, a->ce);
    }
    break;
  }
  case AQ_FT_CRYPTO:
    aq_jw_key(jw, "offset");
    aq_jw_u64(jw, f->u.crypto.offset);
    aq_jw_key(jw, "length");
    aq_jw_u64(jw, f->u.crypto.datalen);
    break;
  case AQ_FT_MAX_DATA:
  case AQ_FT_DATA_BLOCKED:
    aq_jw_key(jw, t == AQ_FT_MAX_DATA ? "maximum" : "limit");
    aq_jw_u64(jw, f->u.max_data.max);
    break;
  case AQ_FT_MAX_STREAM_DATA:
  case AQ_FT_STREAM_DATA_BLOCKED:
    aq_jw_key(jw, "stream_id");
    aq_jw_u64(jw, f->u.max_stream_data.stream_id);
    aq_jw_key(jw, t == AQ_FT_MAX_STREAM_DATA ? "maximum" : "limit");
    aq_jw_u64(jw, f->u.max_stream_data.max);
    break;
  case AQ_FT_NEW_CONNECTION_ID:
    aq_jw_key(jw, "sequence_number");
    aq_jw_u64(jw, f->u.new_cid.seq);
    aq_jw_key(jw, "retire_prior_to");
    aq_jw_u64(jw, f->u.new_cid.retire_prior_to);
    aq_jw_key(jw, "connection_id");
    aq_jw_hex(jw, f->u.new_cid.cid.data, f->u.new_cid.cid.len);
    break;
  case AQ_FT_CONNECTION_CLOSE:
  case AQ_FT_CONNECTION_CLOSE_APP:
    aq_jw_key(jw, "error_space");
    aq_jw_cstr(jw, t == AQ_FT_CONNECTION_CLOSE ? "transport" : "application");
    aq_jw_key(jw, "error_code");
    aq_jw_u64(jw, f->u.close.error_code);
    aq_jw_key(jw, "reason");
    aq_jw_str(jw, f->u.close.reason, f->u.close.reasonlen);
    break;
  case AQ_FT_DATAGRAM:
  case AQ_FT_DATAGRAM_LEN:
    aq_jw_key(jw, "length");
    aq_jw_u64(jw, f->u.datagram.datalen);
    break;
  default:
    if (frame_name(t)[0] == 'u') {
      aq_jw_key(jw, "raw_frame_type");
      aq_jw_u64(jw, t);
    }
    break;
  }
}

/** One packet event; with_frames = 0 on the retry after an overflow. */
static int packet_event(aq_conn *conn, int sent, int pkt_type, uint64_t pn, unsigned key_phase,
                        const uint8_t *payload, size_t len, size_t pktlen, aq_tstamp ts,
                        int with_frames) {
  aq_wbuf w;
  aq_jw jw;
  if (ev_begin(conn, &w, &jw, sent ? "packet_sent" : "packet_received", ts) == NULL) {
    return 0;
  }
  aq_jw_key(&jw, "header");
  aq_jw_obj_begin(&jw);
  aq_jw_key(&jw, "packet_type");
  aq_jw_cstr(&jw, pkt_type_name(pkt_type));
  aq_jw_key(&jw, "packet_number");
  aq_jw_u64(&jw, pn);
  if (pkt_type == AQ_PKT_1RTT) {
    aq_jw_key(&jw, "key_phase");
    aq_jw_u64(&jw, key_phase);
  }
  aq_jw_obj_end(&jw);
  aq_jw_key(&jw, "raw");
  aq_jw_obj_begin(&jw);
  aq_jw_key(&jw, "length");
  aq_jw_u64(&jw, pktlen);
  aq_jw_key(&jw, "payload_length");
  aq_jw_u64(&jw, len);
  aq_jw_obj_end(&jw);
  if (with_frames) {
    aq_jw_key(&jw, "frames");
    aq_jw_arr_begin(&jw);
    aq_rbuf r;
    aq_rbuf_init(&r, payload, len);
    while (aq_rbuf_left(&r) > 0) {
      aq_frame f;
      if (aq_frame_decode(&f, &r) != 0) {
        aq_jw_obj_begin(&jw);
        aq_jw_key(&jw, "frame_type");
        aq_jw_cstr(&jw, "unknown");
        aq_jw_obj_end(&jw);
        break;
      }
      aq_jw_obj_begin(&jw);
      aq_jw_key(&jw, "frame_type");
      aq_jw_cstr(&jw, frame_name(f.type));
      frame_fields(&jw, &f);
      aq_jw_obj_end(&jw);
    }
    aq_jw_arr_end(&jw);
  }
  return ev_end(conn, &w, &jw);
}

void aq_qlog_packet(aq_conn *conn, int sent, int pkt_type, uint64_t pn, unsigned key_phase,
                    const uint8_t *payload, size_t len, size_t pktlen, aq_tstamp ts) {
  if (!aq_qlog_on(conn)) {
    return;
  }
  aq_qlog_set_time(conn, ts);
  if (packet_event(conn, sent, pkt_type, pn, key_phase, payload, len, pktlen, ts, 1) != 0) {
    (void)packet_event(conn, sent, pkt_type, pn, key_phase, payload, len, pktlen, ts, 0);
  }
}

static const char *space_name(unsigned sp) {
  switch (sp) {
  case AQ_PN_SPACE_INITIAL: return "initial";
  case AQ_PN_SPACE_HANDSHAKE: return "handshake";
  default: return "application_data";
  }
}

void aq_qlog_recov(aq_conn *conn, unsigned space, const aq_sent_pkt *pkt, int lost) {
  aq_wbuf w;
  aq_jw jw;
  if (!aq_qlog_on(conn) ||
      ev_begin(conn, &w, &jw, lost ? "packet_lost" : "packets_acked", 0) == NULL) {
    return;
  }
  if (lost) {
    aq_jw_key(&jw, "header");
    aq_jw_obj_begin(&jw);
    aq_jw_key(&jw, "packet_type");
    aq_jw_cstr(&jw, space == AQ_PN_SPACE_INITIAL     ? "initial"
                    : space == AQ_PN_SPACE_HANDSHAKE ? "handshake"
                                                     : "1RTT");
    aq_jw_key(&jw, "packet_number");
    aq_jw_u64(&jw, pkt->pn);
    aq_jw_obj_end(&jw);
  } else {
    aq_jw_key(&jw, "packet_number_space");
    aq_jw_cstr(&jw, space_name(space));
    aq_jw_key(&jw, "packet_numbers");
    aq_jw_arr_begin(&jw);
    aq_jw_u64(&jw, pkt->pn);
    aq_jw_arr_end(&jw);
  }
  (void)ev_end(conn, &w, &jw);
}

void aq_qlog_params(aq_conn *conn, int local, const aq_tp *tp, aq_tstamp ts) {
  aq_wbuf w;
  aq_jw jw;
  if (!aq_qlog_on(conn) || ev_begin(conn, &w, &jw, "parameters_set", ts) == NULL) {
    return;
  }
  aq_jw_key(&jw, "owner");
  aq_jw_cstr(&jw, local ? "local" : "remote");
  if (tp->has & AQ_TP_HAS_ORIGINAL_DCID) {
    aq_jw_key(&jw, "original_destination_connection_id");
    aq_jw_hex(&jw, tp->original_dcid.data, tp->original_dcid.len);
  }
  if (tp->has & AQ_TP_HAS_INITIAL_SCID) {
    aq_jw_key(&jw, "initial_source_connection_id");
    aq_jw_hex(&jw, tp->initial_scid.data, tp->initial_scid.len);
  }
  if (tp->has & AQ_TP_HAS_RETRY_SCID) {
    aq_jw_key(&jw, "retry_source_connection_id");
    aq_jw_hex(&jw, tp->retry_scid.data, tp->retry_scid.len);
  }
  static const struct {
    const char *name;
    size_t off;
  } nums[] = {
      {"max_idle_timeout", offsetof(aq_tp, max_idle_timeout_ms)},
      {"max_udp_payload_size", offsetof(aq_tp, max_udp_payload_size)},
      {"initial_max_data", offsetof(aq_tp, initial_max_data)},
      {"initial_max_stream_data_bidi_local", offsetof(aq_tp, initial_max_stream_data_bidi_local)},
      {"initial_max_stream_data_bidi_remote", offsetof(aq_tp, initial_max_stream_data_bidi_remote)},
      {"initial_max_stream_data_uni", offsetof(aq_tp, initial_max_stream_data_uni)},
      {"initial_max_streams_bidi", offsetof(aq_tp, initial_max_streams_bidi)},
      {"initial_max_streams_uni", offsetof(aq_tp, initial_max_streams_uni)},
      {"ack_delay_exponent", offsetof(aq_tp, ack_delay_exponent)},
      {"max_ack_delay", offsetof(aq_tp, max_ack_delay_ms)},
      {"active_connection_id_limit", offsetof(aq_tp, active_connection_id_limit)},
      {"max_datagram_frame_size", offsetof(aq_tp, max_datagram_frame_size)},
  };
  for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
    uint64_t v;
    memcpy(&v, (const uint8_t *)tp + nums[i].off, sizeof(v));
    aq_jw_key(&jw, nums[i].name);
    aq_jw_u64(&jw, v);
  }
  aq_jw_key(&jw, "disable_active_migration");
  aq_jw_bool(&jw, tp->disable_active_migration);
  (void)ev_end(conn, &w, &jw);
}

void aq_qlog_key(aq_conn *conn, const char *key_type, uint64_t generation, const char *trigger) {
  aq_wbuf w;
  aq_jw jw;
  if (!aq_qlog_on(conn) || ev_begin(conn, &w, &jw, "key_updated", 0) == NULL) {
    return;
  }
  aq_jw_key(&jw, "key_type");
  aq_jw_cstr(&jw, key_type);
  aq_jw_key(&jw, "key_phase");
  aq_jw_u64(&jw, generation);
  aq_jw_key(&jw, "trigger");
  aq_jw_cstr(&jw, trigger);
  (void)ev_end(conn, &w, &jw);
}

void aq_qlog_closed(aq_conn *conn, int by_peer, int idle, int is_app, uint64_t code,
                    const uint8_t *reason, size_t reasonlen) {
  aq_wbuf w;
  aq_jw jw;
  if (!aq_qlog_on(conn) || ev_begin(conn, &w, &jw, "connection_closed", 0) == NULL) {
    return;
  }
  aq_jw_key(&jw, "owner");
  aq_jw_cstr(&jw, by_peer ? "remote" : "local");
  aq_jw_key(&jw, is_app ? "application_code" : "connection_code");
  aq_jw_u64(&jw, code);
  if (reasonlen > 0) {
    aq_jw_key(&jw, "reason");
    aq_jw_str(&jw, reason, reasonlen);
  }
  if (idle) {
    aq_jw_key(&jw, "trigger");
    aq_jw_cstr(&jw, "idle_timeout");
  }
  (void)ev_end(conn, &w, &jw);
}

void aq_qlog_free(aq_conn *conn) {
  if (conn->qlog != NULL) {
    aq_mem_free(conn->mem, conn->qlog);
    conn->qlog = NULL;
  }
}
