/*
 * aq_strm_buf.h - stream data buffers: receive-side reassembly and the
 * send-side retransmission buffer (RFC 9000 §2.2, §3, §4.5).
 *
 * No timers.
 *
 * Receive side (aq_strm_rbuf).  Bytes are stored in fixed 4 KiB chunks
 * addressed as a ring over [read_offset, read_offset + window_cap); each
 * chunk carries a presence bitmap (1 bit per byte).  Memory is therefore
 * bounded by the window however the peer fragments: at most
 * (window_cap / 4096 + 1) chunks of 4096 + 512 bytes, plus the slot array,
 * i.e. about 1.125 x window_cap.  A presence bitmap is the information-
 * theoretic minimum for arbitrary fragment patterns (the quinn
 * GHSA-4w2j-m93h-cj5j gap flood — 1-byte fragments at every other offset —
 * costs the same as a full window here).  Chunks are allocated on first
 * use and released once read past (one spare is kept to avoid churn).
 *
 * Overlapping or duplicate data is accepted and NOT compared with what was
 * received before (RFC 9000 §2.2 lets a receiver MAY check; we do not, so
 * a retransmission can never close a connection by accident); a later copy
 * of a byte not yet delivered overwrites the earlier one.
 *
 * Send side (aq_strm_sbuf).  A ring of cap bytes holds data from the
 * lowest unacknowledged offset to the last written byte; writes beyond it
 * are refused (back-pressure).  Lost ranges are queued for retransmission
 * (an over-approximating range set: resending a few acknowledged bytes is
 * harmless), acknowledged ranges free the ring once contiguous from its
 * start.  The FIN is tracked like data.
 */
#ifndef AQ_STRM_BUF_H
#define AQ_STRM_BUF_H

#include "antquic.h"
#include "quic/aq_ranges.h"

#define AQ_STRM_CHUNK 4096u
/** Range-set capacity of a send buffer (acknowledged / lost ranges). */
#define AQ_MAX_SBUF_RANGES 64
/** Largest stream offset + 1 (RFC 9000 §4.5: 2^62 - 1 bytes at most). */
#define AQ_STRM_MAX_OFFSET ((uint64_t)1 << 62)

/* ---------------------------------------------------------- receive side */

typedef struct aq_strm_rbuf {
  const aq_mem *mem;
  uint8_t **slots; /* nslots chunk pointers (NULL = not allocated) */
  size_t nslots;
  uint64_t window_cap; /* bytes storable beyond read_off (multiple of the chunk) */
  uint64_t read_off;   /* next byte to deliver */
  uint64_t contig_end; /* first missing byte at or after read_off */
  uint64_t recv_end;   /* highest end offset received */
  uint64_t final_size; /* UINT64_MAX while unknown */
  uint8_t *spare;      /* one released chunk kept for reuse */
  size_t allocated;    /* bytes currently held by chunks (spare included) */
} aq_strm_rbuf;

/**
 * Initialise for a receive window of at most window_cap bytes (rounded up to
 * the chunk size; it must cover every window the connection will advertise).
 * Returns 0, AQ_ERR_INVALID_ARGUMENT (0 or > 2^40), or AQ_ERR_NOMEM.
 */
AQ_MUST_CHECK int aq_strm_rbuf_init(aq_strm_rbuf *rb, const aq_mem *mem, uint64_t window_cap);

/** Release all memory. */
void aq_strm_rbuf_free(aq_strm_rbuf *rb);

/**
 * Accept STREAM frame data [offset, offset + len), with fin if the frame had
 * the FIN bit.  Bytes below the read offset are ignored.  The caller keeps
 * ownership of data.  Errors (the buffer is unchanged):
 *  - AQ_ERR_FINAL_SIZE: the final size changed, or data lies beyond it, or a
 *    FIN is below data already received (RFC 9000 §4.5) -> FINAL_SIZE_ERROR;
 *  - AQ_ERR_FLOW_CONTROL: the data ends beyond read offset + window_cap or
 *    beyond 2^62 (flow control should have caught it) -> FLOW_CONTROL_ERROR;
 *  - AQ_ERR_NOMEM.
 */
AQ_MUST_CHECK int aq_strm_rbuf_recv(aq_strm_rbuf *rb, uint64_t offset, const uint8_t *data,
                                    size_t len, int fin);

/**
 * RESET_STREAM with final_size: applies the same final size rules
 * (AQ_ERR_FINAL_SIZE), then the buffered data is dropped.  Returns 0 or
 * AQ_ERR_FINAL_SIZE.
 */
AQ_MUST_CHECK int aq_strm_rbuf_on_reset(aq_strm_rbuf *rb, uint64_t final_size);

/** Contiguous bytes ready to read. */
static inline uint64_t aq_strm_rbuf_readable(const aq_strm_rbuf *rb) {
  return rb->contig_end - rb->read_off;
}

/**
 * Copy up to dstcap in-order bytes to dst and consume them.  *fin is set
 * non-zero once every byte up to the final size has been read.  Returns the
 * number of bytes copied (0 if none is ready).
 */
size_t aq_strm_rbuf_read(aq_strm_rbuf *rb, uint8_t *dst, size_t dstcap, int *fin);

/**
 * Zero-copy read: *p and *len describe the next in-order bytes (at most up
 * to the end of the current chunk; *len is 0 if none is ready).  The
 * pointer is valid until the next call on rb.  Follow with
 * aq_strm_rbuf_consume.
 */
void aq_strm_rbuf_peek(const aq_strm_rbuf *rb, const uint8_t **p, size_t *len);

/** Consume n (<= what _peek returned) in-order bytes. */
void aq_strm_rbuf_consume(aq_strm_rbuf *rb, size_t n);

/** The highest end offset received (for connection-level flow control). */
static inline uint64_t aq_strm_rbuf_recv_end(const aq_strm_rbuf *rb) {
  return rb->recv_end;
}

/** Non-zero if the final size is known and every byte was read. */
int aq_strm_rbuf_is_finished(const aq_strm_rbuf *rb);

/* ------------------------------------------------------------- send side */

/** A piece of stream data to put in a STREAM frame. */
typedef struct aq_strm_seg {
  uint64_t offset;
  uint64_t len; /* may be 0 for a FIN-only frame */
  int fin;
  int retransmit; /* non-zero if it comes from the lost queue */
} aq_strm_seg;

typedef struct aq_strm_sbuf {
  const aq_mem *mem;
  uint8_t *buf; /* ring of cap bytes; byte at offset o is buf[o % cap] */
  size_t cap;
  uint64_t base;      /* every byte below it is acknowledged (and freed) */
  uint64_t write_off; /* end of the data written by the application */
  uint64_t send_off;  /* end of the data sent at least once */
  aq_range acked_st[AQ_MAX_SBUF_RANGES];
  aq_ranges acked; /* acknowledged ranges above base */
  aq_range lost_st[AQ_MAX_SBUF_RANGES];
  aq_ranges lost; /* ranges to retransmit */
  int closed;     /* the application finished the stream (FIN at write_off) */
  int fin_sent, fin_acked, fin_lost;
} aq_strm_sbuf;

/** Initialise with a buffer of cap bytes (> 0).  Returns 0 or AQ_ERR_NOMEM. */
AQ_MUST_CHECK int aq_strm_sbuf_init(aq_strm_sbuf *sb, const aq_mem *mem, size_t cap);

/** Release the buffer. */
void aq_strm_sbuf_free(aq_strm_sbuf *sb);

/**
 * Append application data; the caller keeps ownership of data.  Returns the
 * number of bytes accepted (less than len, possibly 0, when the buffer is
 * full: back-pressure), or AQ_ERR_STATE after aq_strm_sbuf_close.
 */
AQ_MUST_CHECK aq_ssize aq_strm_sbuf_write(aq_strm_sbuf *sb, const uint8_t *data, size_t len);

/** Mark the end of the stream (a FIN follows the written data). */
void aq_strm_sbuf_close(aq_strm_sbuf *sb);

/**
 * The next segment to send: lost data first (not limited by flow control,
 * which already counted it), then new data up to max_new_off (the peer's
 * MAX_STREAM_DATA, capped by connection credit), each at most max_len bytes.
 * Does not change state.  Returns 0, or AQ_ERR_NOT_FOUND when nothing can
 * be sent.
 */
AQ_MUST_CHECK int aq_strm_sbuf_next(aq_strm_sbuf *sb, uint64_t max_len, uint64_t max_new_off,
                                    aq_strm_seg *seg);

/**
 * Copy the bytes of [offset, offset + len) (a segment from _next) to dst.
 * Returns 0 or AQ_ERR_INVALID_ARGUMENT if they are not in the buffer.
 */
AQ_MUST_CHECK int aq_strm_sbuf_copy(const aq_strm_sbuf *sb, uint8_t *dst, uint64_t offset,
                                    uint64_t len);

/** The segment (from _next, possibly shortened) was sent. */
void aq_strm_sbuf_on_sent(aq_strm_sbuf *sb, const aq_strm_seg *seg);

/** Data [offset, offset + len) (and the FIN if fin) was acknowledged. */
void aq_strm_sbuf_on_acked(aq_strm_sbuf *sb, uint64_t offset, uint64_t len, int fin);

/** Data [offset, offset + len) (and the FIN if fin) was lost: queue it again. */
void aq_strm_sbuf_on_lost(aq_strm_sbuf *sb, uint64_t offset, uint64_t len, int fin);

/** Bytes the application may still write before back-pressure. */
static inline uint64_t aq_strm_sbuf_space(const aq_strm_sbuf *sb) {
  return sb->cap - (sb->write_off - sb->base);
}

/** Non-zero if all data and the FIN were acknowledged. */
int aq_strm_sbuf_is_done(const aq_strm_sbuf *sb);

#endif /* AQ_STRM_BUF_H */
