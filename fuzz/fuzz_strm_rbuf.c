/*
 * fuzz_strm_rbuf.c - stream reassembly against a model.  The input is a
 * list of operations (receive a fragment with or without FIN, read,
 * RESET_STREAM).  Stream byte i is always (i * 131 + 7) & 0xff, so every
 * delivered byte can be checked; the expected error of each receive is
 * computed from the RFC 9000 §4.5 rules independently of the library; a
 * failed call must leave the buffer unchanged; memory stays bounded by the
 * window.  Another operation grows the window (auto-tuning) mid-stream.
 */
#include <stdlib.h>
#include <string.h>

#include "quic/aq_strm_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WINDOW 8192u

static uint8_t byte_at(uint64_t i) {
  return (uint8_t)((i * 131 + 7) & 0xff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  aq_strm_rbuf rb;
  aq_strm_rbuf_init(&rb, aq_mem_default(), WINDOW);
  static uint8_t frag[65536], out[65536];
  uint64_t m_final = UINT64_MAX, m_recv_end = 0;
  int reset = 0;
  size_t i = 0;
  while (i + 5 <= size) {
    uint8_t op = data[i];
    uint64_t off = (uint64_t)data[i + 1] << 8 | data[i + 2];
    uint64_t len = (uint64_t)data[i + 3] << 4 | (data[i + 4] & 0x0f);
    i += 5;
    off = off * (1 + (op >> 5)); /* reach a bit beyond the window */
    if ((op & 3) == 3) {
      int fin = 0;
      size_t n = aq_strm_rbuf_read(&rb, out, (size_t)len + 1, &fin);
      for (size_t k = 0; k < n; k++) {
        if (out[k] != byte_at(rb.read_off - n + k)) {
          abort();
        }
      }
      if (fin != (m_final != UINT64_MAX && rb.read_off == m_final)) {
        abort();
      }
      continue;
    }
    if ((op & 3) == 2 && (op & 8) && !(op & 4)) {
      /* Grow the window (at most 4x) and check the bytes survive. */
      uint64_t before = aq_strm_rbuf_readable(&rb);
      if (rb.window_cap < 4 * WINDOW && (aq_strm_rbuf_grow(&rb, rb.window_cap + len * 16) != 0 ||
                                         aq_strm_rbuf_readable(&rb) != before)) {
        abort();
      }
      continue;
    }
    aq_strm_rbuf saved = rb;
    if ((op & 3) == 2 && (op & 4)) {
      /* RESET_STREAM(final size = off) */
      int want = 0;
      if ((m_final != UINT64_MAX && off != m_final) || off < m_recv_end) {
        want = AQ_ERR_FINAL_SIZE;
      }
      int rv = aq_strm_rbuf_on_reset(&rb, off);
      if (rv != want) {
        abort();
      }
      if (rv == 0) {
        m_final = off;
        m_recv_end = off;
        reset = 1;
      }
      continue;
    }
    int fin = (op & 1) != 0;
    uint64_t end = off + len;
    int want = 0;
    if (m_final != UINT64_MAX && ((fin && end != m_final) || end > m_final)) {
      want = AQ_ERR_FINAL_SIZE;
    } else if (m_final == UINT64_MAX && fin && end < m_recv_end) {
      want = AQ_ERR_FINAL_SIZE;
    } else if (end > rb.read_off && end - rb.read_off > rb.window_cap) {
      want = AQ_ERR_FLOW_CONTROL;
    }
    for (uint64_t k = 0; k < len; k++) {
      frag[k] = byte_at(off + k);
    }
    int rv = aq_strm_rbuf_recv(&rb, off, frag, (size_t)len, fin);
    if (rv != want) {
      abort();
    }
    if (rv != 0) {
      if (rb.read_off != saved.read_off || rb.recv_end != saved.recv_end ||
          rb.final_size != saved.final_size || rb.contig_end != saved.contig_end) {
        abort();
      }
      continue;
    }
    if (end > m_recv_end) {
      m_recv_end = end;
    }
    if (fin) {
      m_final = end;
    }
    if (rb.contig_end < rb.read_off || rb.contig_end > rb.recv_end ||
        (!reset && rb.recv_end != m_recv_end) || rb.final_size != m_final) {
      abort();
    }
    if (rb.allocated > (rb.window_cap / AQ_STRM_CHUNK + 2) * AQ_STRM_CHUNK_BYTES) {
      abort();
    }
  }
  aq_strm_rbuf_free(&rb);
  return 0;
}
