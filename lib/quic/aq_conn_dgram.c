/*
 * aq_conn_dgram.c - unreliable DATAGRAM frames (RFC 9221) on a connection:
 * the send queue behind aq_conn_send_datagram, writing queued datagrams
 * into 1-RTT packets (ack-eliciting, counted in flight and so congestion
 * controlled, never retransmitted), and the receive checks of §3/§4.
 *
 * Memory: the send queue (AQ_DGRAM_QUEUE_MAX slots of AQ_CONN_MAX_DGRAM
 * bytes) is allocated on the first aq_conn_send_datagram call and freed
 * with the connection; receiving needs no memory (the payload is handed to
 * the callback straight from the decrypted packet).
 *
 * Timers: none.  Queued datagrams make aq_conn_has_app_data true, so the
 * pacer/congestion window decide when they leave.
 */
#include <string.h>

#include "aq_conn_int.h"
#include "aq_mem.h"
#include "aq_qerr.h"

/** Datagrams waiting to be sent, at most. */
#define AQ_DGRAM_QUEUE_MAX 32u

struct aq_conn_dgram {
  uint8_t buf[AQ_DGRAM_QUEUE_MAX][AQ_CONN_MAX_DGRAM];
  uint16_t len[AQ_DGRAM_QUEUE_MAX];
  unsigned head, count;
};

/** Bytes of a DATAGRAM_LEN frame (type 0x31, varint length, payload). */
static size_t dgram_frame_len(size_t len) {
  return 1 + aq_varint_len(len) + len;
}

/**
 * The largest payload that fits one 1-RTT packet whatever the packet
 * number length (4) and the peer CID in use (up to 20 bytes), so a queued
 * datagram can always be sent later, even after a CID change.
 */
static size_t dgram_packet_room(const aq_conn *conn) {
  size_t cap = conn->set.max_udp_payload;
  if (conn->peer_tp_done && cap > conn->peer_tp.max_udp_payload_size) {
    cap = (size_t)conn->peer_tp.max_udp_payload_size;
  }
  size_t overhead = 1 + AQ_MAX_CIDLEN + 4 + AQ_AEAD_TAG_LEN;
  return cap > overhead ? cap - overhead : 0;
}

size_t aq_conn_max_datagram_size(const aq_conn *conn) {
  if (conn->err != 0 || conn->state != AQ_CS_ESTABLISHED || !conn->peer_tp_done ||
      conn->peer_tp.max_datagram_frame_size == 0) {
    return 0;
  }
  /* RFC 9221 §3: the limit covers the frame type, length and payload. */
  uint64_t frame_max = conn->peer_tp.max_datagram_frame_size;
  size_t room = dgram_packet_room(conn);
  if (frame_max < room) {
    room = (size_t)frame_max;
  }
  /* Largest n with 1 + varint_len(n) + n <= room. */
  for (size_t n = room; n > 0; n--) {
    if (dgram_frame_len(n) <= room) {
      return n;
    }
  }
  return 0;
}

aq_ssize aq_conn_send_datagram(aq_conn *conn, const uint8_t *data, size_t len) {
  if (conn->err != 0) {
    return conn->err;
  }
  if (conn->state >= AQ_CS_CLOSING) {
    return AQ_ERR_CLOSED;
  }
  /* RFC 9221 §3: "An endpoint MUST NOT send DATAGRAM frames until it has
   * received the max_datagram_frame_size transport parameter with a
   * non-zero value". */
  if (conn->state != AQ_CS_ESTABLISHED || !conn->peer_tp_done ||
      conn->peer_tp.max_datagram_frame_size == 0) {
    return AQ_ERR_STATE;
  }
  /* §5: a DATAGRAM frame is never split over packets. */
  if (len > aq_conn_max_datagram_size(conn)) {
    return AQ_ERR_LIMIT;
  }
  if (data == NULL && len > 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (conn->dgram == NULL) {
    conn->dgram = aq_mem_calloc(conn->mem, 1, sizeof(*conn->dgram));
    if (conn->dgram == NULL) {
      return AQ_ERR_NOMEM;
    }
  }
  aq_conn_dgram *q = conn->dgram;
  if (q->count >= AQ_DGRAM_QUEUE_MAX) {
    conn->stats.datagrams_dropped++;
    return AQ_ERR_WOULD_BLOCK;
  }
  unsigned slot = (q->head + q->count) % AQ_DGRAM_QUEUE_MAX;
  if (len > 0) {
    memcpy(q->buf[slot], data, len);
  }
  q->len[slot] = (uint16_t)len;
  q->count++;
  conn->tx_stalled = 0;
  return (aq_ssize)len;
}

int aq_dgram_pending(const aq_conn *conn) {
  return conn->dgram != NULL && conn->dgram->count > 0;
}

void aq_dgram_write_frames(aq_conn *conn, aq_wbuf *w, aq_sent_meta *m) {
  aq_conn_dgram *q = conn->dgram;
  if (q == NULL) {
    return;
  }
  unsigned n = (m->flags >> AQ_SM_DGRAM_SHIFT) & 0xffu;
  while (q->count > 0 && n < 0xffu) {
    size_t len = q->len[q->head];
    size_t need = dgram_frame_len(len);
    if (need > (size_t)(w->end - w->begin)) {
      /* Can never fit (the path's packets shrank): drop it, it is unreliable anyway. */
      conn->stats.datagrams_dropped++;
    } else if (need > aq_wbuf_left(w)) {
      break; /* next packet */
    } else {
      aq_wbuf_varint(w, AQ_FT_DATAGRAM_LEN);
      aq_wbuf_varint(w, len);
      aq_wbuf_bytes(w, q->buf[q->head], len);
      conn->stats.datagrams_sent++;
      n++;
    }
    q->head = (q->head + 1) % AQ_DGRAM_QUEUE_MAX;
    q->count--;
  }
  m->flags = (m->flags & ~(0xffu << AQ_SM_DGRAM_SHIFT)) | (n << AQ_SM_DGRAM_SHIFT);
}

void aq_dgram_on_lost(aq_conn *conn, const aq_sent_meta *m) {
  /* §5.2: lost DATAGRAM frames are not retransmitted; only counted. */
  conn->stats.datagrams_lost += (m->flags >> AQ_SM_DGRAM_SHIFT) & 0xffu;
}

int aq_dgram_on_frame(aq_conn *conn, const aq_frame *f, aq_tstamp ts) {
  uint64_t limit = conn->set.max_datagram_frame_size;
  /* RFC 9221 §3: "An endpoint that receives a DATAGRAM frame when it has not
   * indicated support via the transport parameter MUST terminate the
   * connection with an error of type PROTOCOL_VIOLATION." */
  if (limit == 0) {
    aq_conn_fail(conn, AQ_QERR_PROTOCOL_VIOLATION, f->type, "DATAGRAM not negotiated", ts);
    return AQ_ERR_PROTO;
  }
  /* "An endpoint that receives a DATAGRAM frame that is larger than the value
   * it sent in its max_datagram_frame_size transport parameter MUST
   * terminate the connection with an error of type PROTOCOL_VIOLATION." */
  size_t flen = f->type == AQ_FT_DATAGRAM_LEN ? dgram_frame_len(f->u.datagram.datalen)
                                              : 1 + f->u.datagram.datalen;
  if (flen > limit) {
    aq_conn_fail(conn, AQ_QERR_PROTOCOL_VIOLATION, f->type, "DATAGRAM too large", ts);
    return AQ_ERR_PROTO;
  }
  conn->stats.datagrams_recv++;
  if (conn->cb.datagram_recv != NULL) {
    conn->cb.datagram_recv(conn, f->u.datagram.data, f->u.datagram.datalen, conn->user_data);
  }
  return 0;
}

void aq_dgram_free(aq_conn *conn) {
  if (conn->dgram != NULL) {
    aq_mem_free(conn->mem, conn->dgram);
    conn->dgram = NULL;
  }
}
