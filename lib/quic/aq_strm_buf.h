/*
 * aq_strm_buf.h - receive-side reassembly of a QUIC stream or of one
 * epoch's CRYPTO stream (RFC 9000 §2.2, §4.5, §7.5).
 *
 * No timers.
 *
 * Bytes are stored in fixed 4 KiB chunks addressed as a ring over
 * [read_offset, read_offset + window_cap); each chunk carries a presence
 * bitmap (1 bit per byte).  Memory is therefore bounded by the window
 * however the peer fragments: at most (window_cap / 4096 + 1) chunks of
 * 4096 + 512 bytes (one more is kept as a spare), plus the slot array,
 * i.e. about 1.125 x window_cap.  A presence bitmap is the
 * information-theoretic minimum for arbitrary fragment patterns (the quinn
 * GHSA-4w2j-m93h-cj5j gap flood - 1-byte fragments at every other offset -
 * costs the same as a full window here), and unlike a bounded range list it
 * never has to drop data of a packet that was already acknowledged.
 * Nothing is allocated before the first byte arrives; chunks are allocated
 * on first use and released once read past.
 *
 * The window can grow (receive-window auto-tuning, aq_fc.h): the slot ring
 * is re-laid out, chunks are kept.  It never shrinks.
 *
 * Overlapping or duplicate data is accepted and NOT compared with what was
 * received before (RFC 9000 §2.2 lets a receiver MAY check; we do not, so
 * a retransmission can never close a connection by accident); a later copy
 * of a byte not yet delivered overwrites the earlier one.
 *
 * Discard mode (after STOP_SENDING): data is checked (final size, window)
 * and counted but not stored; the read offset follows the highest offset.
 */
#ifndef AQ_STRM_BUF_H
#define AQ_STRM_BUF_H

#include "antquic.h"

#define AQ_STRM_CHUNK 4096u
/** Bytes of one allocated chunk: data, then its presence bitmap. */
#define AQ_STRM_CHUNK_BYTES (AQ_STRM_CHUNK + AQ_STRM_CHUNK / 8u)
/** Largest window a buffer accepts (2^40 bytes). */
#define AQ_STRM_MAX_WINDOW ((uint64_t)1 << 40)
/** Largest stream offset + 1 (RFC 9000 §4.5: 2^62 - 1 bytes at most). */
#define AQ_STRM_MAX_OFFSET ((uint64_t)1 << 62)

typedef struct aq_strm_rbuf {
  const aq_mem *mem;
  uint8_t **slots; /* nslots chunk pointers (NULL = not allocated); NULL until first data */
  size_t nslots;
  uint64_t window_cap; /* bytes storable beyond read_off (multiple of the chunk) */
  uint64_t read_off;   /* next byte to deliver */
  uint64_t contig_end; /* first missing byte at or after read_off */
  uint64_t recv_end;   /* highest end offset received */
  uint64_t final_size; /* UINT64_MAX while unknown */
  uint8_t *spare;      /* one released chunk kept for reuse */
  size_t allocated;    /* bytes currently held by chunks (spare included) */
  int discard;         /* aq_strm_rbuf_discard was called */
} aq_strm_rbuf;

/**
 * Initialise for a receive window of window_cap bytes (clamped to
 * [AQ_STRM_CHUNK, AQ_STRM_MAX_WINDOW] and rounded up to the chunk size).
 * Allocates nothing; mem is kept for later allocations.
 */
void aq_strm_rbuf_init(aq_strm_rbuf *rb, const aq_mem *mem, uint64_t window_cap);

/**
 * Release all memory, dropping unread bytes (offsets and the final size are
 * kept: the buffer may be used again and reallocates on demand).
 */
void aq_strm_rbuf_free(aq_strm_rbuf *rb);

/**
 * Raise the window to window_cap bytes (rounded up to the chunk size;
 * smaller values are ignored).  Returns 0, or AQ_ERR_NOMEM with the buffer
 * unchanged (the caller then keeps advertising the old window).
 */
AQ_MUST_CHECK int aq_strm_rbuf_grow(aq_strm_rbuf *rb, uint64_t window_cap);

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
 * (AQ_ERR_FINAL_SIZE), then the buffered data is dropped and the read
 * offset moves to the final size.  Returns 0 or AQ_ERR_FINAL_SIZE.
 */
AQ_MUST_CHECK int aq_strm_rbuf_on_reset(aq_strm_rbuf *rb, uint64_t final_size);

/**
 * Stop storing (STOP_SENDING): drop every buffered byte and move the read
 * offset to the highest offset received; later data only moves it further.
 * Returns how far the read offset moved (bytes the application will never
 * read, whose connection-level credit the caller returns).
 */
uint64_t aq_strm_rbuf_discard(aq_strm_rbuf *rb);

/** Contiguous bytes ready to read. */
static inline uint64_t aq_strm_rbuf_readable(const aq_strm_rbuf *rb) {
  return rb->contig_end - rb->read_off;
}

/**
 * Copy up to dstcap in-order bytes to dst and consume them.  *fin (if not
 * NULL) is set non-zero once every byte up to the final size has been read.
 * Returns the number of bytes copied (0 if none is ready).
 */
size_t aq_strm_rbuf_read(aq_strm_rbuf *rb, uint8_t *dst, size_t dstcap, int *fin);

/** The highest end offset received. */
static inline uint64_t aq_strm_rbuf_recv_end(const aq_strm_rbuf *rb) {
  return rb->recv_end;
}

/** Bytes of heap memory held (chunks, spare and slot array). */
static inline size_t aq_strm_rbuf_mem(const aq_strm_rbuf *rb) {
  return rb->allocated + (rb->slots != NULL ? rb->nslots * sizeof(uint8_t *) : 0);
}

/** Non-zero if the final size is known and every byte was read. */
int aq_strm_rbuf_is_finished(const aq_strm_rbuf *rb);

#endif /* AQ_STRM_BUF_H */
