/*
 * aq_strm_buf.c - stream reassembly (see aq_strm_buf.h).
 *
 * No timers.
 */
#include "aq_strm_buf.h"

#include <string.h>

#include "aq_mem.h"

#define CHUNK ((uint64_t)AQ_STRM_CHUNK)
#define CHUNK_BYTES AQ_STRM_CHUNK_BYTES /* data, then presence bitmap */

/* The presence bitmap that follows a chunk's data. */
static uint8_t *chunk_bitmap(uint8_t *c) {
  return c + AQ_STRM_CHUNK;
}

/* The ring slot holding chunk chunk_idx. */
static uint8_t **slot_of(const aq_strm_rbuf *rb, uint64_t chunk_idx) {
  return &rb->slots[chunk_idx % rb->nslots];
}

/* Ring slots needed for a window: one more than it covers, since a window
 * not aligned to chunks touches one chunk more. */
static size_t slots_for(uint64_t window_cap) {
  return (size_t)(window_cap / CHUNK) + 1;
}

/* window_cap clamped to [one chunk, AQ_STRM_MAX_WINDOW] and rounded up to whole chunks. */
static uint64_t round_window(uint64_t window_cap) {
  if (window_cap < CHUNK) {
    window_cap = CHUNK;
  }
  if (window_cap > AQ_STRM_MAX_WINDOW) {
    window_cap = AQ_STRM_MAX_WINDOW;
  }
  return (window_cap + CHUNK - 1) / CHUNK * CHUNK;
}

void aq_strm_rbuf_init(aq_strm_rbuf *rb, const aq_mem *mem, uint64_t window_cap) {
  memset(rb, 0, sizeof(*rb));
  rb->mem = mem;
  rb->window_cap = round_window(window_cap);
  rb->nslots = slots_for(rb->window_cap);
  rb->final_size = UINT64_MAX;
}

int aq_strm_rbuf_grow(aq_strm_rbuf *rb, uint64_t window_cap) {
  window_cap = round_window(window_cap);
  if (window_cap <= rb->window_cap) {
    return 0;
  }
  size_t nslots = slots_for(window_cap);
  if (rb->slots != NULL) {
    uint8_t **ns = aq_mem_calloc(rb->mem, nslots, sizeof(uint8_t *));
    if (ns == NULL) {
      return AQ_ERR_NOMEM;
    }
    /* Every held chunk lies in [read_off, read_off + old window): re-place
     * each at its index modulo the new ring size. */
    uint64_t first = rb->read_off / CHUNK;
    for (uint64_t ci = first; ci < first + rb->nslots; ci++) {
      ns[ci % nslots] = rb->slots[ci % rb->nslots];
    }
    aq_mem_free(rb->mem, rb->slots);
    rb->slots = ns;
  }
  rb->nslots = nslots;
  rb->window_cap = window_cap;
  return 0;
}

/* Give a fully read chunk back (kept as the spare if there is none). */
static void chunk_release(aq_strm_rbuf *rb, uint8_t *c) {
  if (rb->spare == NULL) {
    rb->spare = c;
    return;
  }
  aq_mem_free(rb->mem, c);
  rb->allocated -= CHUNK_BYTES;
}

/* Free every chunk in the ring (not the spare). */
static void drop_all_chunks(aq_strm_rbuf *rb) {
  for (size_t i = 0; rb->slots != NULL && i < rb->nslots; i++) {
    if (rb->slots[i] != NULL) {
      aq_mem_free(rb->mem, rb->slots[i]);
      rb->slots[i] = NULL;
      rb->allocated -= CHUNK_BYTES;
    }
  }
}

void aq_strm_rbuf_free(aq_strm_rbuf *rb) {
  rb->contig_end = rb->read_off; /* buffered bytes are gone */
  if (rb->slots != NULL) {
    drop_all_chunks(rb);
    aq_mem_free(rb->mem, rb->slots);
    rb->slots = NULL;
  }
  if (rb->spare != NULL) {
    aq_mem_free(rb->mem, rb->spare);
    rb->spare = NULL;
    rb->allocated -= CHUNK_BYTES;
  }
}

/* Set presence bits [from, to). */
static void bits_set(uint8_t *bm, size_t from, size_t to) {
  while (from < to && (from & 7) != 0) {
    bm[from >> 3] = (uint8_t)(bm[from >> 3] | (1u << (from & 7)));
    from++;
  }
  if (to - from >= 8) {
    memset(&bm[from >> 3], 0xff, (to - from) >> 3);
    from += (to - from) & ~(size_t)7;
  }
  while (from < to) {
    bm[from >> 3] = (uint8_t)(bm[from >> 3] | (1u << (from & 7)));
    from++;
  }
}

/* First clear bit in [from, to), or to.  Whole bytes and then 64-bit words
 * of set bits are skipped at once (the receiver scans every packet's bits). */
static size_t bits_first_zero(const uint8_t *bm, size_t from, size_t to) {
  while (from < to && (from & 7) != 0) {
    if (!(bm[from >> 3] & (1u << (from & 7)))) {
      return from;
    }
    from++;
  }
  while (to - from >= 64) {
    uint64_t w;
    memcpy(&w, &bm[from >> 3], sizeof(w));
    if (w != UINT64_MAX) {
      break;
    }
    from += 64;
  }
  while (to - from >= 8 && bm[from >> 3] == 0xff) {
    from += 8;
  }
  while (from < to) {
    if (!(bm[from >> 3] & (1u << (from & 7)))) {
      return from;
    }
    from++;
  }
  return to;
}

/* RFC 9000 §4.5 final size rules, checked before anything is stored. */
static int check_final_size(const aq_strm_rbuf *rb, uint64_t end, int fin) {
  if (rb->final_size != UINT64_MAX) {
    /* "Once a final size for a stream is known, it cannot change. If a
     * RESET_STREAM or STREAM frame is received indicating a change in the
     * final size for the stream, an endpoint SHOULD respond with an error
     * of type FINAL_SIZE_ERROR" */
    if (fin && end != rb->final_size) {
      return AQ_ERR_FINAL_SIZE;
    }
    /* "...if data is received at or beyond the final size" */
    if (end > rb->final_size) {
      return AQ_ERR_FINAL_SIZE;
    }
  } else if (fin && end < rb->recv_end) {
    /* "...receiving a final size that is lower than the highest offset of
     * data already received" */
    return AQ_ERR_FINAL_SIZE;
  }
  return 0;
}

/* Move contig_end over bytes that are present. */
static void advance_contig(aq_strm_rbuf *rb) {
  while (rb->slots != NULL && rb->contig_end < rb->recv_end) {
    uint64_t ci = rb->contig_end / CHUNK;
    uint8_t *c = *slot_of(rb, ci);
    if (c == NULL) {
      return;
    }
    size_t p = (size_t)(rb->contig_end % CHUNK);
    uint64_t lim64 = rb->recv_end - ci * CHUNK;
    size_t lim = lim64 < CHUNK ? (size_t)lim64 : (size_t)CHUNK;
    size_t z = bits_first_zero(chunk_bitmap(c), p, lim);
    rb->contig_end = ci * CHUNK + z;
    if (z < lim) {
      return;
    }
  }
}

int aq_strm_rbuf_recv(aq_strm_rbuf *rb, uint64_t offset, const uint8_t *data, size_t len, int fin) {
  if (offset >= AQ_STRM_MAX_OFFSET || (uint64_t)len > AQ_STRM_MAX_OFFSET - offset) {
    /* §4.5: "...the final size cannot exceed 2^62 - 1" / §19.8. */
    return AQ_ERR_FLOW_CONTROL;
  }
  uint64_t end = offset + len;
  int rv = check_final_size(rb, end, fin);
  if (rv != 0) {
    return rv;
  }
  if (end > rb->read_off && end - rb->read_off > rb->window_cap) {
    return AQ_ERR_FLOW_CONTROL;
  }
  if (rb->discard) {
    /* Checked and counted, not stored. */
    if (end > rb->recv_end) {
      rb->recv_end = end;
    }
    if (fin) {
      rb->final_size = end;
    }
    rb->read_off = rb->contig_end = rb->recv_end;
    return 0;
  }
  if (end > rb->read_off && len > 0) {
    uint64_t s = offset > rb->read_off ? offset : rb->read_off;
    if (rb->slots == NULL) {
      rb->slots = aq_mem_calloc(rb->mem, rb->nslots, sizeof(uint8_t *));
      if (rb->slots == NULL) {
        return AQ_ERR_NOMEM;
      }
    }
    /* Allocate every chunk first so that a failure stores nothing. */
    for (uint64_t ci = s / CHUNK; ci <= (end - 1) / CHUNK; ci++) {
      uint8_t **slot = slot_of(rb, ci);
      if (*slot != NULL) {
        continue;
      }
      uint8_t *c = rb->spare;
      if (c != NULL) {
        rb->spare = NULL;
      } else {
        c = aq_mem_malloc(rb->mem, CHUNK_BYTES);
        if (c == NULL) {
          return AQ_ERR_NOMEM;
        }
        rb->allocated += CHUNK_BYTES;
      }
      memset(chunk_bitmap(c), 0, AQ_STRM_CHUNK / 8u);
      *slot = c;
    }
    uint64_t o = s;
    while (o < end) {
      uint64_t ci = o / CHUNK;
      uint8_t *c = *slot_of(rb, ci);
      size_t p = (size_t)(o % CHUNK);
      uint64_t room = CHUNK - p;
      size_t n = (size_t)(end - o < room ? end - o : room);
      memcpy(c + p, data + (o - offset), n);
      bits_set(chunk_bitmap(c), p, p + n);
      o += n;
    }
  }
  if (end > rb->recv_end) {
    rb->recv_end = end;
  }
  if (fin) {
    rb->final_size = end;
  }
  advance_contig(rb);
  return 0;
}

int aq_strm_rbuf_on_reset(aq_strm_rbuf *rb, uint64_t final_size) {
  if (final_size >= AQ_STRM_MAX_OFFSET) {
    return AQ_ERR_FINAL_SIZE;
  }
  int rv = check_final_size(rb, final_size, 1);
  if (rv != 0) {
    return rv;
  }
  drop_all_chunks(rb);
  rb->final_size = final_size;
  rb->recv_end = final_size;
  rb->read_off = final_size;
  rb->contig_end = final_size;
  return 0;
}

uint64_t aq_strm_rbuf_discard(aq_strm_rbuf *rb) {
  uint64_t moved = rb->recv_end > rb->read_off ? rb->recv_end - rb->read_off : 0;
  drop_all_chunks(rb);
  if (rb->spare != NULL) {
    aq_mem_free(rb->mem, rb->spare);
    rb->spare = NULL;
    rb->allocated -= CHUNK_BYTES;
  }
  rb->discard = 1;
  if (moved > 0) {
    rb->read_off = rb->contig_end = rb->recv_end;
  }
  return moved;
}

size_t aq_strm_rbuf_read(aq_strm_rbuf *rb, uint8_t *dst, size_t dstcap, int *fin) {
  size_t done = 0;
  while (done < dstcap && rb->read_off < rb->contig_end) {
    uint64_t ci = rb->read_off / CHUNK;
    uint8_t **slot = slot_of(rb, ci);
    size_t p = (size_t)(rb->read_off % CHUNK);
    uint64_t avail = rb->contig_end - rb->read_off;
    uint64_t room = CHUNK - p;
    size_t n = dstcap - done;
    if (n > avail) {
      n = (size_t)avail;
    }
    if (n > room) {
      n = (size_t)room;
    }
    memcpy(dst + done, *slot + p, n);
    done += n;
    rb->read_off += n;
    if (rb->read_off % CHUNK == 0) {
      chunk_release(rb, *slot);
      *slot = NULL;
    }
  }
  if (fin != NULL) {
    *fin = aq_strm_rbuf_is_finished(rb);
  }
  return done;
}

int aq_strm_rbuf_is_finished(const aq_strm_rbuf *rb) {
  return rb->final_size != UINT64_MAX && rb->read_off == rb->final_size;
}
