/*
 * aq_strm.c - QUIC streams (RFC 9000 §2-4): bounded receive reassembly,
 * send buffers with loss/ack bookkeeping, stream and connection flow
 * control, stream limits raised as peer streams finish, STOP_SENDING /
 * RESET_STREAM / FIN, and round-robin scheduling of stream data between
 * streams.
 *
 * Timers: none (flow control updates ride on packets the connection sends).
 *
 * Memory: a stream's receive buffer (aq_strm_buf.h) holds at most its
 * advertised window (x 1.125 for the presence bitmap, plus one chunk)
 * whatever fragments the peer sends, and a chunk exists only where the peer
 * spent connection credit to reach it; a send ring grows up to
 * settings.stream_send_buffer.
 *
 * Receive flow control (aq_fc.h): one aq_fc_recv per stream and one for
 * the connection.  Reads only count consumed bytes and flag an update once
 * half a window is consumed; the MAX_STREAM_DATA / MAX_DATA value (and the
 * auto-tuned window: doubled when half a window drained in under 2 RTTs, up
 * to settings.max_stream_window / max_conn_window) is decided when the
 * frame is written, with the time of writing.  A stream's reassembly
 * buffer grows before a larger window is advertised.
 */
#include <string.h>

#include "aq_conn_int.h"
#include "aq_mem.h"
#include "aq_qerr.h"

/* ================================================================ txbuf */

void aq_txbuf_init(aq_txbuf *tb) {
  memset(tb, 0, sizeof(*tb));
  aq_ranges_init(&tb->lost, tb->lost_st, AQ_TX_RANGES, AQ_RANGES_MERGE_CLOSEST);
  aq_ranges_init(&tb->acked, tb->acked_st, AQ_TX_RANGES, AQ_RANGES_REFUSE);
}

void aq_txbuf_free(aq_txbuf *tb, const aq_mem *mem) {
  if (tb->buf != NULL) {
    aq_mem_free(mem, tb->buf);
    tb->buf = NULL;
  }
  tb->cap = 0;
}

void aq_txbuf_copy(const aq_txbuf *tb, uint64_t o, uint8_t *out, size_t len) {
  size_t pos = (size_t)(o % tb->cap);
  size_t first = tb->cap - pos < len ? tb->cap - pos : len;
  memcpy(out, tb->buf + pos, first);
  if (len > first) {
    memcpy(out + first, tb->buf, len - first);
  }
}

aq_ssize aq_txbuf_append(aq_txbuf *tb, const aq_mem *mem, const uint8_t *data, size_t len,
                         size_t limit) {
  uint64_t used = tb->end - tb->base;
  if (used >= limit) {
    return 0;
  }
  if (len > limit - used) {
    len = (size_t)(limit - used);
  }
  if (len == 0) {
    return 0;
  }
  size_t need = (size_t)used + len;
  if (need > tb->cap) {
    size_t ncap = tb->cap < 4096 ? 4096 : tb->cap * 2;
    while (ncap < need) {
      ncap *= 2;
    }
    uint8_t *nb = aq_mem_malloc(mem, ncap);
    if (nb == NULL) {
      return AQ_ERR_NOMEM;
    }
    /* Re-place [base, end) at their positions modulo the new capacity. */
    for (uint64_t o = tb->base; o < tb->end;) {
      size_t pos = (size_t)(o % ncap);
      size_t n = (size_t)(tb->end - o);
      if (n > ncap - pos) {
        n = ncap - pos;
      }
      aq_txbuf_copy(tb, o, nb + pos, n);
      o += n;
    }
    if (tb->buf != NULL) {
      aq_mem_free(mem, tb->buf);
    }
    tb->buf = nb;
    tb->cap = ncap;
  }
  size_t pos = (size_t)(tb->end % tb->cap);
  size_t first = tb->cap - pos < len ? tb->cap - pos : len;
  memcpy(tb->buf + pos, data, first);
  if (len > first) {
    memcpy(tb->buf, data + first, len - first);
  }
  tb->end += len;
  return (aq_ssize)len;
}

int aq_txbuf_next(const aq_txbuf *tb, uint64_t new_limit, aq_range *out, int *is_new) {
  for (size_t i = 0; i < tb->lost.n; i++) {
    aq_range g;
    uint64_t s = tb->lost.r[i].start < tb->base ? tb->base : tb->lost.r[i].start;
    uint64_t e = tb->lost.r[i].end > tb->next ? tb->next : tb->lost.r[i].end;
    if (s < e && aq_ranges_first_gap(&tb->acked, s, e, &g) == 0) {
      *out = g;
      *is_new = 0;
      return 0;
    }
  }
  uint64_t e = tb->end < new_limit ? tb->end : new_limit;
  if (tb->next < e) {
    out->start = tb->next;
    out->end = e;
    *is_new = 1;
    return 0;
  }
  return AQ_ERR_NOT_FOUND;
}

void aq_txbuf_on_sent(aq_txbuf *tb, uint64_t o, uint64_t len) {
  if (o + len > tb->next) {
    tb->next = o + len;
  }
  /* Sending always starts at the front of a lost range: this never splits. */
  if (aq_ranges_remove(&tb->lost, o, o + len) != 0) {
    /* MERGE_CLOSEST never refuses; REFUSE is handled by the caller */
  }
}

void aq_txbuf_on_lost(aq_txbuf *tb, uint64_t o, uint64_t len) {
  uint64_t end = o + len;
  if (o < tb->base) {
    o = tb->base;
  }
  if (o < end) {
    if (aq_ranges_insert(&tb->lost, o, end) != 0) {
      /* MERGE_CLOSEST never refuses; REFUSE is handled by the caller */
    }
  }
}

void aq_txbuf_on_acked(aq_txbuf *tb, uint64_t o, uint64_t len) {
  uint64_t end = o + len;
  if (o < tb->base) {
    o = tb->base;
  }
  if (o >= end) {
    return;
  }
  if (aq_ranges_insert(&tb->acked, o, end) == AQ_ERR_LIMIT) {
    /* Forget the lowest acked fragment but resend it, so base can still advance. */
    aq_range lo = tb->acked.r[0];
    aq_ranges_remove_below(&tb->acked, lo.end);
    if (aq_ranges_insert(&tb->lost, lo.start, lo.end) != 0) {
      /* MERGE_CLOSEST never refuses; REFUSE is handled by the caller */
    }
    if (aq_ranges_insert(&tb->acked, o, end) != 0) {
      /* MERGE_CLOSEST never refuses; REFUSE is handled by the caller */
    }
  }
  if (tb->acked.n > 0 && tb->acked.r[0].start <= tb->base) {
    tb->base = tb->acked.r[0].end;
    aq_ranges_remove_below(&tb->acked, tb->base);
    aq_ranges_remove_below(&tb->lost, tb->base);
  }
}

void aq_txbuf_requeue_unacked(aq_txbuf *tb) {
  if (tb->base < tb->next) {
    if (aq_ranges_insert(&tb->lost, tb->base, tb->next) != 0) {
      /* MERGE_CLOSEST never refuses; REFUSE is handled by the caller */
    }
  }
}

/* ================================================================ streams */

static int strm_is_local(const aq_conn *conn, uint64_t id) {
  return (int)(id & 1u) == conn->is_server;
}

static size_t strm_bucket(uint64_t id) {
  return (size_t)((id >> 2) % AQ_STRM_BUCKETS);
}

aq_strm *aq_strm_find(const aq_conn *conn, uint64_t id) {
  for (aq_strm *s = conn->strm_tab[strm_bucket(id)]; s != NULL; s = s->hnext) {
    if (s->id == id) {
      return s;
    }
  }
  return NULL;
}

/* The latest time the connection has seen (reads and stream opens get no ts). */
static aq_tstamp conn_now(const aq_conn *conn) {
  return conn->last_send_ts > conn->last_recv_ts ? conn->last_send_ts : conn->last_recv_ts;
}

void aq_strm_init_conn(aq_conn *conn, aq_tstamp ts) {
  aq_fc_recv_init(&conn->rfc, conn->set.initial_max_data, conn->set.max_conn_window, ts);
  conn->rx_max_bidi = conn->set.initial_max_streams_bidi;
  conn->rx_max_uni = conn->set.initial_max_streams_uni;
}

void aq_strm_apply_peer_tp(aq_conn *conn) {
  const aq_tp *tp = &conn->peer_tp;
  conn->tx_max_data = tp->initial_max_data;
  conn->peer_max_bidi = tp->initial_max_streams_bidi;
  conn->peer_max_uni = tp->initial_max_streams_uni;
}

static void sendq_add(aq_conn *conn, aq_strm *s) {
  conn->tx_stalled = 0;
  if (s->queued) {
    return;
  }
  s->queued = 1;
  if (conn->sendq == NULL) {
    s->qnext = s->qprev = s;
    conn->sendq = s;
  } else {
    aq_strm *h = conn->sendq;
    s->qnext = h;
    s->qprev = h->qprev;
    h->qprev->qnext = s;
    h->qprev = s;
  }
}

static void sendq_remove(aq_conn *conn, aq_strm *s) {
  if (!s->queued) {
    return;
  }
  s->queued = 0;
  if (s->qnext == s) {
    conn->sendq = NULL;
  } else {
    s->qprev->qnext = s->qnext;
    s->qnext->qprev = s->qprev;
    if (conn->sendq == s) {
      conn->sendq = s->qnext;
    }
  }
  s->qnext = s->qprev = NULL;
}

static aq_strm *strm_create(aq_conn *conn, uint64_t id) {
  aq_strm *s = aq_mem_calloc(conn->mem, 1, sizeof(*s));
  if (s == NULL) {
    return NULL;
  }
  int local = strm_is_local(conn, id);
  int uni = AQ_STREAM_IS_UNI(id);
  s->id = id;
  s->has_send = !uni || local;
  s->has_recv = !uni || !local;
  aq_txbuf_init(&s->tx);
  aq_strm_rbuf_init(&s->rx, conn->mem, conn->set.initial_max_stream_data);
  aq_fc_recv_init(&s->rfc, conn->set.initial_max_stream_data, conn->set.max_stream_window,
                  conn_now(conn));
  const aq_tp *tp = &conn->peer_tp;
  if (uni) {
    s->tx_max = tp->initial_max_stream_data_uni;
  } else if (local) {
    s->tx_max = tp->initial_max_stream_data_bidi_remote;
  } else {
    s->tx_max = tp->initial_max_stream_data_bidi_local;
  }
  size_t b = strm_bucket(id);
  s->hnext = conn->strm_tab[b];
  conn->strm_tab[b] = s;
  s->anext = conn->strm_all;
  if (s->anext != NULL) {
    s->anext->aprev = s;
  }
  conn->strm_all = s;
  conn->nstreams++;
  return s;
}

static void strm_free(aq_conn *conn, aq_strm *s) {
  aq_strm **pp = &conn->strm_tab[strm_bucket(s->id)];
  while (*pp != NULL && *pp != s) {
    pp = &(*pp)->hnext;
  }
  if (*pp == s) {
    *pp = s->hnext;
  }
  if (s->aprev != NULL) {
    s->aprev->anext = s->anext;
  } else {
    conn->strm_all = s->anext;
  }
  if (s->anext != NULL) {
    s->anext->aprev = s->aprev;
  }
  sendq_remove(conn, s);
  aq_txbuf_free(&s->tx, conn->mem);
  aq_strm_rbuf_free(&s->rx);
  aq_mem_free(conn->mem, s);
  conn->nstreams--;
}

void aq_strm_free_all(aq_conn *conn) {
  while (conn->strm_all != NULL) {
    strm_free(conn, conn->strm_all);
  }
  conn->sendq = NULL;
}

static int strm_send_done(const aq_strm *s) {
  /* The FIN can be acknowledged before earlier data that is still being resent. */
  return !s->has_send || (s->fin_acked && s->tx.base == s->tx.end) || s->reset_acked;
}

static int strm_recv_done(const aq_strm *s) {
  return !s->has_recv || s->rx_fin_read;
}

void aq_strm_collect(aq_conn *conn) {
  aq_strm *s = conn->strm_all;
  while (s != NULL) {
    aq_strm *nx = s->anext; /* s may be freed; a stream opened by the callback goes to the head */
    if (strm_send_done(s) && strm_recv_done(s) && !s->reset_pending && !s->stop_pending) {
      uint64_t id = s->id;
      if (!strm_is_local(conn, id)) {
        /* RFC 9000 §4.6: let the peer open another stream in place of this one. */
        if (AQ_STREAM_IS_UNI(id)) {
          conn->peer_closed_uni++;
          conn->rx_max_uni = conn->peer_closed_uni + conn->set.initial_max_streams_uni;
          conn->max_streams_uni_pending = 1;
        } else {
          conn->peer_closed_bidi++;
          conn->rx_max_bidi = conn->peer_closed_bidi + conn->set.initial_max_streams_bidi;
          conn->max_streams_bidi_pending = 1;
        }
      }
      strm_free(conn, s);
      if (conn->cb.stream_close != NULL) {
        conn->cb.stream_close(conn, id, conn->user_data);
      }
    }
    s = nx;
  }
}

static int strm_wants_send(const aq_conn *conn, const aq_strm *s) {
  (void)conn;
  if (!s->has_send || s->reset_sent || s->reset_pending) {
    return s->reset_pending;
  }
  if (s->tx.lost.n > 0 || s->tx.next < s->tx.end) {
    return 1;
  }
  return s->fin_queued && (!s->fin_sent || s->fin_lost) && !s->fin_acked;
}

int aq_strm_has_pending(const aq_conn *conn) {
  if (conn->max_data_pending || aq_fc_recv_update_due(&conn->rfc) ||
      conn->max_streams_bidi_pending || conn->max_streams_uni_pending ||
      conn->streams_blocked_bidi_pending || conn->streams_blocked_uni_pending ||
      conn->data_blocked_pending) {
    return 1;
  }
  for (aq_strm *s = conn->sendq; s != NULL;) {
    if (s->reset_pending || s->msd_pending || s->stop_pending) {
      return 1;
    }
    if (strm_wants_send(conn, s)) {
      uint64_t lim = s->tx_max;
      uint64_t conn_room = conn->tx_max_data - conn->tx_data;
      if (s->tx.next + conn_room < lim) {
        lim = s->tx.next + conn_room;
      }
      if (s->tx.lost.n > 0 || s->tx.next < (s->tx.end < lim ? s->tx.end : lim) ||
          (s->fin_queued && s->tx.next == s->tx.end && (!s->fin_sent || s->fin_lost))) {
        return 1;
      }
    }
    s = s->qnext;
    if (s == conn->sendq) {
      break;
    }
  }
  return 0;
}

/* ----------------------------------------------------------- receiving */

/**
 * Find or (for a peer-initiated id) open the stream; *s = NULL for a stream
 * already finished and forgotten (frame ignored).  Errors close the
 * connection: STREAM_STATE_ERROR / STREAM_LIMIT_ERROR.
 */
static int strm_get_rx(aq_conn *conn, uint64_t id, aq_strm **out, aq_tstamp ts, uint64_t ftype) {
  *out = aq_strm_find(conn, id);
  if (*out != NULL) {
    return 0;
  }
  uint64_t ord = id >> 2;
  int uni = AQ_STREAM_IS_UNI(id);
  if (strm_is_local(conn, id)) {
    uint64_t next = uni ? conn->next_uni : conn->next_bidi;
    if (ord >= next) {
      aq_conn_fail(conn, AQ_QERR_STREAM_STATE_ERROR, ftype, "frame for unopened local stream", ts);
      return AQ_ERR_PROTO;
    }
    return 0; /* closed already */
  }
  uint64_t *opened = uni ? &conn->peer_opened_uni : &conn->peer_opened_bidi;
  uint64_t max = uni ? conn->rx_max_uni : conn->rx_max_bidi;
  if (ord >= max) {
    aq_conn_fail(conn, AQ_QERR_STREAM_LIMIT_ERROR, ftype, "stream limit exceeded", ts);
    return AQ_ERR_PROTO;
  }
  if (ord < *opened) {
    return 0; /* closed already */
  }
  /* Opening a stream opens every lower-numbered stream of its type (§3.2). */
  while (*opened <= ord) {
    uint64_t sid = (*opened << 2) | (id & 3u);
    aq_strm *s = strm_create(conn, sid);
    if (s == NULL) {
      aq_conn_set_fatal(conn, AQ_ERR_NOMEM);
      return AQ_ERR_NOMEM;
    }
    (*opened)++;
    if (conn->cb.stream_open != NULL) {
      conn->cb.stream_open(conn, sid, conn->user_data);
    }
    *out = s;
  }
  *out = aq_strm_find(conn, id);
  return 0;
}

/**
 * Flow control for data up to end: the stream's limit, then the
 * connection's (RFC 9000 §4.1).  Errors close with FLOW_CONTROL_ERROR.
 * Final-size rules are the reassembly buffer's (aq_strm_rbuf_recv).
 */
static int strm_rx_account(aq_conn *conn, aq_strm *s, uint64_t end, uint64_t ftype, aq_tstamp ts) {
  uint64_t delta = end > s->rfc.highest ? end - s->rfc.highest : 0;
  if (aq_fc_recv_on_data(&s->rfc, end) != 0) {
    aq_conn_fail(conn, AQ_QERR_FLOW_CONTROL_ERROR, ftype, "stream flow control", ts);
    return AQ_ERR_PROTO;
  }
  if (aq_fc_recv_add(&conn->rfc, delta) != 0) {
    aq_conn_fail(conn, AQ_QERR_FLOW_CONTROL_ERROR, ftype, "connection flow control", ts);
    return AQ_ERR_PROTO;
  }
  return 0;
}

/** Map a reassembly error to a connection close. */
static int strm_rx_error(aq_conn *conn, int rc, uint64_t ftype, aq_tstamp ts) {
  if (rc == AQ_ERR_FINAL_SIZE) {
    aq_conn_fail(conn, AQ_QERR_FINAL_SIZE_ERROR, ftype, "final size", ts);
    return AQ_ERR_PROTO;
  }
  if (rc == AQ_ERR_FLOW_CONTROL) {
    aq_conn_fail(conn, AQ_QERR_FLOW_CONTROL_ERROR, ftype, "beyond the receive window", ts);
    return AQ_ERR_PROTO;
  }
  aq_conn_set_fatal(conn, rc);
  return rc;
}

/** Bytes the read offset moved without the application (reset, discard): return their credit. */
static void strm_rx_skipped(aq_conn *conn, uint64_t n) {
  if (n > 0) {
    aq_fc_recv_on_consumed(&conn->rfc, n);
  }
}

static void strm_notify_data(aq_conn *conn, aq_strm *s) {
  if (conn->cb.stream_data != NULL) {
    conn->cb.stream_data(conn, s->id, conn->user_data);
  }
}

/**
 * The stream a frame names, after the direction rule of RFC 9000 §19: a
 * frame about the receiving part (STREAM, RESET_STREAM, STREAM_DATA_BLOCKED)
 * is invalid on a unidirectional stream we opened, one about the sending part
 * (STOP_SENDING, MAX_STREAM_DATA) on one the peer opened: STREAM_STATE_ERROR
 * with reason why.  Otherwise as strm_get_rx.
 */
static int strm_get_frame(aq_conn *conn, const aq_frame *f, uint64_t id, int recv_part,
                          const char *why, aq_tstamp ts, aq_strm **out) {
  *out = NULL;
  if (AQ_STREAM_IS_UNI(id) && strm_is_local(conn, id) == recv_part) {
    aq_conn_fail(conn, AQ_QERR_STREAM_STATE_ERROR, f->type, why, ts);
    return AQ_ERR_PROTO;
  }
  return strm_get_rx(conn, id, out, ts, f->type);
}

static int on_stream(aq_conn *conn, const aq_frame *f, aq_tstamp ts) {
  const aq_frame_stream *fs = &f->u.stream;
  aq_strm *s;
  int rc = strm_get_frame(conn, f, fs->stream_id, 1, "STREAM on a send-only stream", ts, &s);
  if (rc != 0 || s == NULL) {
    return rc;
  }
  uint64_t end = fs->offset + fs->datalen;
  rc = strm_rx_account(conn, s, end, f->type, ts);
  if (rc != 0) {
    return rc;
  }
  if (s->rx_fin_read) {
    /* Everything was delivered: only the final size rules remain to check. */
    if (end > s->rx.final_size || (fs->fin && end != s->rx.final_size)) {
      return strm_rx_error(conn, AQ_ERR_FINAL_SIZE, f->type, ts);
    }
    return 0;
  }
  uint64_t before = aq_strm_rbuf_readable(&s->rx), off_before = s->rx.read_off;
  rc = aq_strm_rbuf_recv(&s->rx, fs->offset, fs->data, fs->datalen, fs->fin);
  if (rc != 0) {
    return strm_rx_error(conn, rc, f->type, ts);
  }
  strm_rx_skipped(conn, s->rx.read_off - off_before); /* discarding after STOP_SENDING */
  if (s->rx.discard && aq_strm_rbuf_is_finished(&s->rx)) {
    s->rx_fin_read = 1; /* the application gave the stream up: done once the FIN is in */
  }
  conn->stats.stream_bytes_recv += fs->datalen;
  uint64_t after = aq_strm_rbuf_readable(&s->rx);
  if (!s->rx_reset && !s->rx.discard &&
      (after > before ||
       (s->rx.final_size != UINT64_MAX && s->rx.read_off + after == s->rx.final_size))) {
    strm_notify_data(conn, s);
  }
  return 0;
}

static int on_reset_stream(aq_conn *conn, const aq_frame *f, aq_tstamp ts) {
  uint64_t id = f->u.reset_stream.stream_id;
  aq_strm *s;
  int rc = strm_get_frame(conn, f, id, 1, "RESET_STREAM on send-only", ts, &s);
  if (rc != 0 || s == NULL) {
    return rc;
  }
  uint64_t final = f->u.reset_stream.final_size;
  rc = strm_rx_account(conn, s, final, f->type, ts);
  if (rc != 0) {
    return rc;
  }
  if (s->rx_fin_read) {
    return final != s->rx.final_size ? strm_rx_error(conn, AQ_ERR_FINAL_SIZE, f->type, ts) : 0;
  }
  uint64_t off_before = s->rx.read_off;
  rc = aq_strm_rbuf_on_reset(&s->rx, final);
  if (rc != 0) {
    return strm_rx_error(conn, rc, f->type, ts);
  }
  /* Unread bytes will never be read: return their connection credit (§4.5). */
  strm_rx_skipped(conn, s->rx.read_off - off_before);
  if (s->rx_reset) {
    return 0;
  }
  s->rx_reset = 1;
  s->rx_reset_code = f->u.reset_stream.app_error;
  aq_strm_rbuf_free(&s->rx);
  s->stop_pending = 0;
  strm_notify_data(conn, s);
  return 0;
}

static int on_stop_sending(aq_conn *conn, const aq_frame *f, aq_tstamp ts) {
  uint64_t id = f->u.stop_sending.stream_id;
  aq_strm *s;
  int rc = strm_get_frame(conn, f, id, 0, "STOP_SENDING on receive-only", ts, &s);
  if (rc != 0 || s == NULL) {
    return rc;
  }
  if (!s->reset_sent && !s->reset_pending && !s->fin_acked) {
    s->reset_pending = 1;
    s->reset_code = f->u.stop_sending.app_error;
    sendq_add(conn, s);
    if (conn->cb.stream_stop_sending != NULL) {
      conn->cb.stream_stop_sending(conn, id, s->reset_code, conn->user_data);
    }
  }
  return 0;
}

static int on_max_stream_data(aq_conn *conn, const aq_frame *f, aq_tstamp ts) {
  uint64_t id = f->u.max_stream_data.stream_id;
  aq_strm *s;
  int rc = strm_get_frame(conn, f, id, 0, "MAX_STREAM_DATA on receive-only", ts, &s);
  if (rc != 0 || s == NULL) {
    return rc;
  }
  if (f->u.max_stream_data.max > s->tx_max) {
    s->tx_max = f->u.max_stream_data.max;
    if (strm_wants_send(conn, s)) {
      sendq_add(conn, s);
    }
  }
  return 0;
}

int aq_strm_on_frame(aq_conn *conn, const aq_frame *f, aq_tstamp ts) {
  switch (f->type) {
  case AQ_FT_RESET_STREAM: return on_reset_stream(conn, f, ts);
  case AQ_FT_STOP_SENDING: return on_stop_sending(conn, f, ts);
  case AQ_FT_MAX_DATA:
    if (f->u.max_data.max > conn->tx_max_data) {
      conn->tx_max_data = f->u.max_data.max;
    }
    return 0;
  case AQ_FT_MAX_STREAM_DATA: return on_max_stream_data(conn, f, ts);
  case AQ_FT_MAX_STREAMS_BIDI:
    if (f->u.max_streams.max > conn->peer_max_bidi) {
      conn->peer_max_bidi = f->u.max_streams.max;
    }
    return 0;
  case AQ_FT_MAX_STREAMS_UNI:
    if (f->u.max_streams.max > conn->peer_max_uni) {
      conn->peer_max_uni = f->u.max_streams.max;
    }
    return 0;
  case AQ_FT_DATA_BLOCKED:
  case AQ_FT_STREAMS_BLOCKED_BIDI:
  case AQ_FT_STREAMS_BLOCKED_UNI: return 0;
  case AQ_FT_STREAM_DATA_BLOCKED: {
    aq_strm *s;
    return strm_get_frame(conn, f, f->u.max_stream_data.stream_id, 1,
                          "STREAM_DATA_BLOCKED on send-only", ts, &s);
  }
  default:
    if (f->type >= AQ_FT_STREAM && f->type <= (AQ_FT_STREAM | 7u)) {
      return on_stream(conn, f, ts);
    }
    return AQ_ERR_INTERNAL;
  }
}

/* ------------------------------------------------------- ack / loss */

void aq_strm_on_record(aq_conn *conn, const aq_sent_frame *sf, int acked) {
  aq_strm *s = aq_strm_find(conn, sf->id);
  if (s == NULL) {
    return;
  }
  switch (sf->kind) {
  case AQ_SF_STREAM:
    if (acked) {
      aq_txbuf_on_acked(&s->tx, sf->off, sf->len);
      if (sf->fin) {
        s->fin_acked = 1;
      }
      if (s->want_writable && s->tx.end - s->tx.base < conn->set.stream_send_buffer) {
        /* notified by aq_strm_notify_writable after the ACK is processed */
      }
    } else if (!s->reset_sent && !s->reset_pending) {
      aq_txbuf_on_lost(&s->tx, sf->off, sf->len);
      if (sf->fin && !s->fin_acked) {
        s->fin_lost = 1;
      }
      sendq_add(conn, s);
    }
    break;
  case AQ_SF_RESET_STREAM:
    if (acked) {
      s->reset_acked = 1;
    } else if (!s->reset_acked) {
      s->reset_pending = 1;
      sendq_add(conn, s);
    }
    break;
  case AQ_SF_STOP_SENDING:
    if (!acked && !s->rx_reset && s->rx.final_size == UINT64_MAX) {
      s->stop_pending = 1;
      sendq_add(conn, s);
    }
    break;
  case AQ_SF_MAX_STREAM_DATA:
    if (!acked && !s->rx_reset && s->rx.final_size == UINT64_MAX) {
      s->msd_pending = 1;
      sendq_add(conn, s);
    }
    break;
  default: break;
  }
}

void aq_strm_notify_writable(aq_conn *conn) {
  if (conn->cb.stream_writable == NULL) {
    return;
  }
  for (aq_strm *s = conn->strm_all; s != NULL; s = s->anext) {
    if (s->want_writable && s->tx.end - s->tx.base < conn->set.stream_send_buffer) {
      s->want_writable = 0;
      conn->cb.stream_writable(conn, s->id, conn->user_data);
    }
  }
}

/* ------------------------------------------------------------ sending */

static int add_record(aq_sent_meta *m, uint8_t kind, uint64_t id, uint64_t off, uint64_t len,
                      int fin) {
  if (m->nframes >= AQ_SENT_MAX_FRAMES) {
    return AQ_ERR_LIMIT;
  }
  aq_sent_frame *sf = &m->f[m->nframes++];
  sf->kind = kind;
  sf->id = id;
  sf->off = off;
  sf->len = (uint32_t)len;
  sf->fin = (uint8_t)(fin != 0);
  return 0;
}

/**
 * The MAX_STREAM_DATA / MAX_DATA value to send now (aq_fc_recv_next_limit);
 * for a stream, its reassembly buffer first grows to the new window (on
 * allocation failure the window it has is advertised).
 */
static uint64_t fc_update_value(aq_conn *conn, aq_fc_recv *fc, aq_strm_rbuf *rb, aq_tstamp ts) {
  uint64_t v = aq_fc_recv_next_limit(fc, conn->recov.rtt.smoothed, ts);
  if (rb != NULL && v - fc->consumed > rb->window_cap &&
      aq_strm_rbuf_grow(rb, v - fc->consumed) != 0) {
    uint64_t capped = fc->consumed + rb->window_cap;
    v = capped > fc->limit ? capped : fc->limit;
  }
  return v;
}

/** Stream-level control frames of s (reset, stop, max_stream_data). */
static void write_strm_ctrl(aq_conn *conn, aq_strm *s, aq_wbuf *w, aq_sent_meta *m, aq_tstamp ts) {
  aq_frame f;
  if (s->reset_pending && m->nframes < AQ_SENT_MAX_FRAMES) {
    memset(&f, 0, sizeof(f));
    f.type = AQ_FT_RESET_STREAM;
    f.u.reset_stream.stream_id = s->id;
    f.u.reset_stream.app_error = s->reset_code;
    f.u.reset_stream.final_size = s->tx.next;
    if (aq_frame_put(w, &f)) {
      (void)add_record(m, AQ_SF_RESET_STREAM, s->id, 0, 0, 0);
      s->reset_pending = 0;
      s->reset_sent = 1;
    }
  }
  if (s->stop_pending && m->nframes < AQ_SENT_MAX_FRAMES) {
    memset(&f, 0, sizeof(f));
    f.type = AQ_FT_STOP_SENDING;
    f.u.stop_sending.stream_id = s->id;
    f.u.stop_sending.app_error = s->stop_code;
    if (aq_frame_put(w, &f)) {
      (void)add_record(m, AQ_SF_STOP_SENDING, s->id, 0, 0, 0);
      s->stop_pending = 0;
      s->stop_sent = 1;
    }
  }
  if (s->msd_pending && m->nframes < AQ_SENT_MAX_FRAMES) {
    memset(&f, 0, sizeof(f));
    f.type = AQ_FT_MAX_STREAM_DATA;
    f.u.max_stream_data.stream_id = s->id;
    f.u.max_stream_data.max = fc_update_value(conn, &s->rfc, &s->rx, ts);
    if (aq_frame_put(w, &f)) {
      (void)add_record(m, AQ_SF_MAX_STREAM_DATA, s->id, 0, 0, 0);
      s->msd_pending = 0;
      aq_fc_recv_on_update_sent(&s->rfc, f.u.max_stream_data.max, ts);
    }
  }
}

/**
 * One STREAM frame for s if anything fits: lost data first, then new data
 * within stream and connection credit, with the FIN when it is due.
 * Returns 1 if a frame was written, 0 if nothing (more) can be sent now.
 */
static int write_strm_data(aq_conn *conn, aq_strm *s, aq_wbuf *w, aq_sent_meta *m) {
  if (!s->has_send || s->reset_pending || s->reset_sent || m->nframes >= AQ_SENT_MAX_FRAMES) {
    return 0;
  }
  uint64_t lim = s->tx_max;
  uint64_t room = conn->tx_max_data - conn->tx_data;
  if (s->tx.next + room < lim) {
    lim = s->tx.next + room;
  }
  aq_range r;
  int is_new = 0;
  int have = aq_txbuf_next(&s->tx, lim, &r, &is_new) == 0;
  int fin_due = s->fin_queued && !s->fin_acked && (!s->fin_sent || s->fin_lost);
  if (!have) {
    if (s->tx.next < s->tx.end) {
      /* Blocked by flow control. */
      /* One *_BLOCKED per limit value (RFC 9000 §4.1: SHOULD send when blocked). */
      if (lim == s->tx_max) {
        if (s->blocked_at != s->tx_max + 1) {
          s->blocked_at = s->tx_max + 1;
          s->blocked_pending = 1;
        }
      } else if (conn->data_blocked_at != conn->tx_max_data + 1) {
        conn->data_blocked_at = conn->tx_max_data + 1;
        conn->data_blocked_pending = 1;
      }
    }
    if (!fin_due || s->tx.next != s->tx.end) {
      return 0;
    }
    r.start = r.end = s->tx.end; /* FIN only */
  }
  size_t hdr = 1 + aq_varint_len(s->id) + aq_varint_len(r.start) + 2;
  size_t left = aq_wbuf_left(w);
  if (left < hdr + (r.end > r.start ? 1 : 0)) {
    return 0;
  }
  uint64_t len = r.end - r.start;
  if (len > left - hdr) {
    len = left - hdr;
  }
  if (len > 16383) {
    len = 16383;
  }
  int fin = fin_due && r.start + len == s->tx.end;
  aq_frame f;
  memset(&f, 0, sizeof(f));
  f.type = AQ_FT_STREAM | AQ_FT_STREAM_LEN | (r.start != 0 ? AQ_FT_STREAM_OFF : 0u);
  f.u.stream.stream_id = s->id;
  f.u.stream.offset = r.start;
  f.u.stream.fin = (uint8_t)fin;
  f.u.stream.datalen = (size_t)len;
  /* Encode the header with the data copied straight from the ring. */
  aq_wbuf_varint(w, f.type | (fin ? AQ_FT_STREAM_FIN : 0u));
  aq_wbuf_varint(w, s->id);
  if (r.start != 0) {
    aq_wbuf_varint(w, r.start);
  }
  aq_wbuf_varint_fixed(w, len, 2);
  uint8_t *dst = aq_wbuf_reserve(w, (size_t)len);
  if (aq_wbuf_error(w) != 0 || (len > 0 && dst == NULL)) {
    return 0;
  }
  if (len > 0) {
    aq_txbuf_copy(&s->tx, r.start, dst, (size_t)len);
  }
  (void)add_record(m, AQ_SF_STREAM, s->id, r.start, len, fin);
  if (is_new && have) {
    uint64_t newbytes = r.start + len > s->tx.next ? r.start + len - s->tx.next : 0;
    conn->tx_data += newbytes;
    conn->stats.stream_bytes_sent += newbytes;
  }
  if (have) {
    aq_txbuf_on_sent(&s->tx, r.start, len);
  }
  if (fin) {
    s->fin_sent = 1;
    s->fin_lost = 0;
  }
  return 1;
}

int aq_strm_write_frames(aq_conn *conn, aq_wbuf *w, aq_sent_meta *m, aq_tstamp ts) {
  aq_frame f;
  memset(&f, 0, sizeof(f));
  if (conn->max_data_pending || aq_fc_recv_update_due(&conn->rfc)) {
    f.type = AQ_FT_MAX_DATA;
    f.u.max_data.max = fc_update_value(conn, &conn->rfc, NULL, ts);
    if (aq_frame_put(w, &f)) {
      m->flags |= AQ_SM_MAX_DATA;
      conn->max_data_pending = 0;
      aq_fc_recv_on_update_sent(&conn->rfc, f.u.max_data.max, ts);
    }
  }
  if (conn->max_streams_bidi_pending) {
    f.type = AQ_FT_MAX_STREAMS_BIDI;
    f.u.max_streams.max = conn->rx_max_bidi;
    if (aq_frame_put(w, &f)) {
      m->flags |= AQ_SM_MAX_STREAMS_BIDI;
      conn->max_streams_bidi_pending = 0;
    }
  }
  if (conn->max_streams_uni_pending) {
    f.type = AQ_FT_MAX_STREAMS_UNI;
    f.u.max_streams.max = conn->rx_max_uni;
    if (aq_frame_put(w, &f)) {
      m->flags |= AQ_SM_MAX_STREAMS_UNI;
      conn->max_streams_uni_pending = 0;
    }
  }
  if (conn->streams_blocked_bidi_pending) {
    f.type = AQ_FT_STREAMS_BLOCKED_BIDI;
    f.u.max_streams.max = conn->peer_max_bidi;
    if (aq_frame_put(w, &f)) {
      conn->streams_blocked_bidi_pending = 0;
    }
  }
  if (conn->streams_blocked_uni_pending) {
    f.type = AQ_FT_STREAMS_BLOCKED_UNI;
    f.u.max_streams.max = conn->peer_max_uni;
    if (aq_frame_put(w, &f)) {
      conn->streams_blocked_uni_pending = 0;
    }
  }
  if (conn->data_blocked_pending) {
    f.type = AQ_FT_DATA_BLOCKED;
    f.u.max_data.max = conn->tx_max_data;
    if (aq_frame_put(w, &f)) {
      conn->data_blocked_pending = 0;
    }
  }
  /* Round-robin over queued streams: one frame per stream per turn. */
  aq_strm *start = conn->sendq;
  if (start == NULL) {
    return 0;
  }
  aq_strm *s = start;
  int progress = 0;
  for (;;) {
    aq_strm *nx = s->qnext;
    write_strm_ctrl(conn, s, w, m, ts);
    int wrote = write_strm_data(conn, s, w, m);
    /* RFC 9000 §3.3: no STREAM_DATA_BLOCKED once the stream is reset. */
    if (s->reset_pending || s->reset_sent) {
      s->blocked_pending = 0;
    }
    if (s->blocked_pending && m->nframes < AQ_SENT_MAX_FRAMES) {
      memset(&f, 0, sizeof(f));
      f.type = AQ_FT_STREAM_DATA_BLOCKED;
      f.u.max_stream_data.stream_id = s->id;
      f.u.max_stream_data.max = s->tx_max;
      if (aq_frame_put(w, &f)) {
        s->blocked_pending = 0;
      }
    }
    progress |= wrote;
    if (!strm_wants_send(conn, s) && !s->msd_pending && !s->stop_pending) {
      int was_start = s == start;
      sendq_remove(conn, s);
      if (conn->sendq == NULL) {
        break;
      }
      if (was_start) {
        start = nx;
      }
    } else if (wrote) {
      /* Rotate: the next turn starts after this stream. */
      conn->sendq = nx;
    }
    if (aq_wbuf_left(w) < 8 || m->nframes >= AQ_SENT_MAX_FRAMES) {
      break;
    }
    s = nx;
    if (s == start) {
      if (!progress) {
        break;
      }
      progress = 0;
    }
  }
  return 0;
}

/* ===================================================== application API */

int aq_conn_open_stream(aq_conn *conn, int bidi, uint64_t *stream_id) {
  if (conn->err != 0) {
    return conn->err;
  }
  if ((conn->state != AQ_CS_ESTABLISHED || !conn->peer_tp_done) && !aq_zrtt_streams_ok(conn)) {
    return AQ_ERR_STATE;
  }
  uint64_t *next = bidi ? &conn->next_bidi : &conn->next_uni;
  uint64_t max = bidi ? conn->peer_max_bidi : conn->peer_max_uni;
  if (*next >= max) {
    if (bidi) {
      conn->streams_blocked_bidi_pending = 1;
    } else {
      conn->streams_blocked_uni_pending = 1;
    }
    return AQ_ERR_LIMIT;
  }
  uint64_t id = (*next << 2) | (bidi ? 0u : 2u) | (conn->is_server ? 1u : 0u);
  aq_strm *s = strm_create(conn, id);
  if (s == NULL) {
    return AQ_ERR_NOMEM;
  }
  (*next)++;
  *stream_id = id;
  return 0;
}

aq_ssize aq_conn_stream_write(aq_conn *conn, uint64_t stream_id, const uint8_t *data, size_t len,
                              int fin) {
  if (conn->err != 0) {
    return conn->err;
  }
  if (conn->state >= AQ_CS_CLOSING) {
    return AQ_ERR_CLOSED;
  }
  aq_strm *s = aq_strm_find(conn, stream_id);
  if (s == NULL) {
    return AQ_ERR_NOT_FOUND;
  }
  if (!s->has_send || s->fin_queued || s->reset_pending || s->reset_sent) {
    return AQ_ERR_STATE;
  }
  aq_ssize n = 0;
  if (len > 0) {
    n = aq_txbuf_append(&s->tx, conn->mem, data, len, (size_t)conn->set.stream_send_buffer);
    if (n < 0) {
      return n;
    }
  }
  if ((size_t)n < len) {
    s->want_writable = 1;
  } else if (fin) {
    s->fin_queued = 1;
  }
  if (n > 0 || s->fin_queued) {
    sendq_add(conn, s);
  }
  return n;
}

aq_ssize aq_conn_stream_read(aq_conn *conn, uint64_t stream_id, uint8_t *buf, size_t cap,
                             int *fin) {
  *fin = 0;
  if (conn->err != 0) {
    return conn->err;
  }
  aq_strm *s = aq_strm_find(conn, stream_id);
  if (s == NULL) {
    return AQ_ERR_NOT_FOUND;
  }
  if (!s->has_recv) {
    return AQ_ERR_STATE;
  }
  if (s->rx_reset) {
    *fin = 1;
    s->rx_fin_read = 1;
    return AQ_ERR_CLOSED;
  }
  int done = 0;
  size_t n = aq_strm_rbuf_read(&s->rx, buf, cap, &done);
  aq_fc_recv_on_consumed(&s->rfc, n);
  aq_fc_recv_on_consumed(&conn->rfc, n);
  if (aq_fc_recv_update_due(&conn->rfc)) {
    conn->tx_stalled = 0; /* MAX_DATA to send */
  }
  if (done) {
    *fin = 1;
    s->rx_fin_read = 1;
    aq_strm_rbuf_free(&s->rx);
  } else if (s->rx.final_size == UINT64_MAX && aq_fc_recv_update_due(&s->rfc) && !s->msd_pending) {
    /* Half the stream window consumed: MAX_STREAM_DATA (value decided when written). */
    s->msd_pending = 1;
    sendq_add(conn, s);
  }
  return (aq_ssize)n;
}

int aq_conn_stream_shutdown(aq_conn *conn, uint64_t stream_id) {
  aq_ssize n = aq_conn_stream_write(conn, stream_id, NULL, 0, 1);
  return n < 0 ? (int)n : 0;
}

int aq_conn_stream_reset(aq_conn *conn, uint64_t stream_id, uint64_t app_error) {
  if (conn->err != 0) {
    return conn->err;
  }
  aq_strm *s = aq_strm_find(conn, stream_id);
  if (s == NULL) {
    return AQ_ERR_NOT_FOUND;
  }
  if (!s->has_send) {
    return AQ_ERR_STATE;
  }
  if (s->reset_pending || s->reset_sent || s->fin_acked) {
    return 0;
  }
  s->reset_pending = 1;
  s->reset_code = app_error;
  aq_ranges_clear(&s->tx.lost);
  sendq_add(conn, s);
  return 0;
}

int aq_conn_stream_stop_sending(aq_conn *conn, uint64_t stream_id, uint64_t app_error) {
  if (conn->err != 0) {
    return conn->err;
  }
  aq_strm *s = aq_strm_find(conn, stream_id);
  if (s == NULL) {
    return AQ_ERR_NOT_FOUND;
  }
  if (!s->has_recv) {
    return AQ_ERR_STATE;
  }
  if (s->rx_reset || s->rx_fin_read || s->rx.discard) {
    return 0;
  }
  /* RFC 9000 §3.5: STOP_SENDING in the "Recv" and "Size Known" states; once every byte is
   * in ("Data Recvd") there is nothing left to stop. */
  int all_in = s->rx.final_size != UINT64_MAX && s->rx.contig_end == s->rx.final_size;
  s->msd_pending = 0;
  /* Unread data is discarded, later data too, and its connection credit returned. */
  strm_rx_skipped(conn, aq_strm_rbuf_discard(&s->rx));
  if (aq_strm_rbuf_is_finished(&s->rx)) {
    s->rx_fin_read = 1; /* nothing more will come: the receiving part is done */
  }
  if (!all_in) {
    s->stop_pending = 1;
    s->stop_code = app_error;
    sendq_add(conn, s);
  }
  return 0;
}

int aq_conn_stream_reset_code(const aq_conn *conn, uint64_t stream_id, uint64_t *code) {
  const aq_strm *s = aq_strm_find(conn, stream_id);
  if (s == NULL || !s->rx_reset) {
    return AQ_ERR_NOT_FOUND;
  }
  *code = s->rx_reset_code;
  return 0;
}
