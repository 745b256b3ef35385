/*
 * aq_strm_buf.c - stream reassembly and send buffers (see aq_strm_buf.h).
 *
 * No timers.
 */
#include "aq_strm_buf.h"

#include <string.h>

#include "aq_mem.h"

#define CHUNK ((uint64_t)AQ_STRM_CHUNK)
#define CHUNK_BYTES (AQ_STRM_CHUNK + AQ_STRM_CHUNK / 8u) /* data, then presence bitmap */
#define MAX_WINDOW ((uint64_t)1 << 40)

/* ---------------------------------------------------------- receive side */

static uint8_t *chunk_bitmap(uint8_t *c) {
  return c + AQ_STRM_CHUNK;
}

/* The ring slot holding chunk chunk_idx. */
static uint8_t **slot_of(const aq_strm_rbuf *rb, uint64_t chunk_idx) {
  return &rb->slots[chunk_idx % rb->nslots];
}

int aq_strm_rbuf_init(aq_strm_rbuf *rb, const aq_mem *mem, uint64_t window_cap) {
  memset(rb, 0, sizeof(*rb));
  if (window_cap == 0 || window_cap > MAX_WINDOW) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  window_cap = (window_cap + CHUNK - 1) / CHUNK * CHUNK;
  /* A window not aligned to chunks touches one chunk more than it covers. */
  size_t nslots = (size_t)(window_cap / CHUNK) + 1;
  rb->slots = aq_mem_calloc(mem, nslots, sizeof(uint8_t *));
  if (rb->slots == NULL) {
    return AQ_ERR_NOMEM;
  }
  rb->mem = mem;
  rb->nslots = nslots;
  rb->window_cap = window_cap;
  rb->final_size = UINT64_MAX;
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
  for (size_t i = 0; i < rb->nslots; i++) {
    if (rb->slots[i] != NULL) {
      aq_mem_free(rb->mem, rb->slots[i]);
      rb->slots[i] = NULL;
      rb->allocated -= CHUNK_BYTES;
    }
  }
}

void aq_strm_rbuf_free(aq_strm_rbuf *rb) {
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

/* First clear bit in [from, to), or to. */
static size_t bits_first_zero(const uint8_t *bm, size_t from, size_t to) {
  while (from < to) {
    if ((from & 7) == 0 && to - from >= 8 && bm[from >> 3] == 0xff) {
      from += 8;
      continue;
    }
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
  while (rb->contig_end < rb->recv_end) {
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
  if (end > rb->read_off && len > 0) {
    uint64_t s = offset > rb->read_off ? offset : rb->read_off;
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

void aq_strm_rbuf_peek(const aq_strm_rbuf *rb, const uint8_t **p, size_t *len) {
  *p = NULL;
  *len = 0;
  if (rb->read_off >= rb->contig_end) {
    return;
  }
  uint64_t ci = rb->read_off / CHUNK;
  size_t off = (size_t)(rb->read_off % CHUNK);
  uint64_t avail = rb->contig_end - rb->read_off;
  uint64_t room = CHUNK - off;
  *p = rb->slots[ci % rb->nslots] + off;
  *len = (size_t)(avail < room ? avail : room);
}

void aq_strm_rbuf_consume(aq_strm_rbuf *rb, size_t n) {
  while (n > 0 && rb->read_off < rb->contig_end) {
    uint64_t ci = rb->read_off / CHUNK;
    uint64_t room = CHUNK - rb->read_off % CHUNK;
    uint64_t avail = rb->contig_end - rb->read_off;
    uint64_t k = n < room ? n : room;
    k = k < avail ? k : avail;
    rb->read_off += k;
    n -= (size_t)k;
    if (rb->read_off % CHUNK == 0) {
      uint8_t **slot = slot_of(rb, ci);
      chunk_release(rb, *slot);
      *slot = NULL;
    }
  }
}

int aq_strm_rbuf_is_finished(const aq_strm_rbuf *rb) {
  return rb->final_size != UINT64_MAX && rb->read_off == rb->final_size;
}

/* ------------------------------------------------------------- send side */

/* The lost set uses AQ_RANGES_MERGE_CLOSEST, which never refuses, and whole
 * range removals never split: those results carry no information. */
static void rs_ignore(int rv) {
  (void)rv;
}

int aq_strm_sbuf_init(aq_strm_sbuf *sb, const aq_mem *mem, size_t cap) {
  memset(sb, 0, sizeof(*sb));
  if (cap == 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  sb->buf = aq_mem_malloc(mem, cap);
  if (sb->buf == NULL) {
    return AQ_ERR_NOMEM;
  }
  sb->mem = mem;
  sb->cap = cap;
  aq_ranges_init(&sb->acked, sb->acked_st, AQ_MAX_SBUF_RANGES, AQ_RANGES_REFUSE);
  aq_ranges_init(&sb->lost, sb->lost_st, AQ_MAX_SBUF_RANGES, AQ_RANGES_MERGE_CLOSEST);
  return 0;
}

void aq_strm_sbuf_free(aq_strm_sbuf *sb) {
  aq_mem_free(sb->mem, sb->buf);
  sb->buf = NULL;
}

aq_ssize aq_strm_sbuf_write(aq_strm_sbuf *sb, const uint8_t *data, size_t len) {
  if (sb->closed) {
    return AQ_ERR_STATE;
  }
  uint64_t space = aq_strm_sbuf_space(sb);
  if (sb->write_off + space > AQ_STRM_MAX_OFFSET) {
    space = AQ_STRM_MAX_OFFSET - sb->write_off;
  }
  size_t n = (uint64_t)len < space ? len : (size_t)space;
  size_t done = 0;
  while (done < n) {
    size_t p = (size_t)((sb->write_off + done) % sb->cap);
    size_t k = sb->cap - p < n - done ? sb->cap - p : n - done;
    memcpy(sb->buf + p, data + done, k);
    done += k;
  }
  sb->write_off += n;
  return (aq_ssize)n;
}

void aq_strm_sbuf_close(aq_strm_sbuf *sb) {
  sb->closed = 1;
}

/* Non-zero if a FIN must (still or again) be sent. */
static int fin_wanted(const aq_strm_sbuf *sb) {
  return sb->closed && !sb->fin_acked && (!sb->fin_sent || sb->fin_lost);
}

int aq_strm_sbuf_next(aq_strm_sbuf *sb, uint64_t max_len, uint64_t max_new_off, aq_strm_seg *seg) {
  /* Retransmissions first, skipping what was acknowledged meanwhile. */
  while (max_len > 0 && !aq_ranges_empty(&sb->lost)) {
    aq_range r = sb->lost.r[0];
    uint64_t s = r.start > sb->base ? r.start : sb->base;
    aq_range gap;
    if (s >= r.end || aq_ranges_first_gap(&sb->acked, s, r.end, &gap) != 0) {
      rs_ignore(aq_ranges_remove(&sb->lost, r.start, r.end)); /* a whole range: never splits */
      continue;
    }
    seg->offset = gap.start;
    seg->len = gap.end - gap.start < max_len ? gap.end - gap.start : max_len;
    seg->fin = sb->closed && !sb->fin_acked && seg->offset + seg->len == sb->write_off;
    seg->retransmit = 1;
    return 0;
  }
  uint64_t lim = sb->write_off < max_new_off ? sb->write_off : max_new_off;
  if (max_len > 0 && sb->send_off < lim) {
    seg->offset = sb->send_off;
    seg->len = lim - sb->send_off < max_len ? lim - sb->send_off : max_len;
    seg->fin = sb->closed && seg->offset + seg->len == sb->write_off;
    seg->retransmit = 0;
    return 0;
  }
  if (fin_wanted(sb) && sb->send_off == sb->write_off) {
    seg->offset = sb->write_off;
    seg->len = 0;
    seg->fin = 1;
    seg->retransmit = sb->fin_sent;
    return 0;
  }
  return AQ_ERR_NOT_FOUND;
}

int aq_strm_sbuf_copy(const aq_strm_sbuf *sb, uint8_t *dst, uint64_t offset, uint64_t len) {
  if (offset < sb->base || offset > sb->write_off || len > sb->write_off - offset) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  uint64_t done = 0;
  while (done < len) {
    size_t p = (size_t)((offset + done) % sb->cap);
    uint64_t k = sb->cap - p < len - done ? sb->cap - p : len - done;
    memcpy(dst + done, sb->buf + p, (size_t)k);
    done += k;
  }
  return 0;
}

void aq_strm_sbuf_on_sent(aq_strm_sbuf *sb, const aq_strm_seg *seg) {
  uint64_t end = seg->offset + seg->len;
  if (seg->len > 0) {
    /* MERGE_CLOSEST never refuses; an unsplittable range stays queued and
     * its acknowledged parts are skipped later. */
    rs_ignore(aq_ranges_remove(&sb->lost, seg->offset, end));
  }
  if (end > sb->send_off) {
    sb->send_off = end;
  }
  if (seg->fin) {
    sb->fin_sent = 1;
    sb->fin_lost = 0;
  }
}

void aq_strm_sbuf_on_acked(aq_strm_sbuf *sb, uint64_t offset, uint64_t len, int fin) {
  uint64_t end = offset + len;
  if (end > sb->send_off) {
    end = sb->send_off; /* never sent: cannot be acknowledged (caller bug) */
  }
  uint64_t s = offset > sb->base ? offset : sb->base;
  if (end > s) {
    rs_ignore(aq_ranges_remove(&sb->lost, s, end));
    if (s == sb->base) {
      /* Acknowledged from the base: advance directly, which needs no slot
       * in the acked set, so progress is guaranteed even when it is full. */
      sb->base = end;
    } else if (aq_ranges_insert(&sb->acked, s, end) != 0) {
      /* Too many acknowledged islands to remember: forget this one and
       * queue it again; it will be resent and acknowledged later. */
      rs_ignore(aq_ranges_insert(&sb->lost, s, end));
    }
    aq_ranges_remove_below(&sb->acked, sb->base);
    while (!aq_ranges_empty(&sb->acked) && aq_ranges_min(&sb->acked) <= sb->base) {
      uint64_t e = sb->acked.r[0].end;
      sb->base = e > sb->base ? e : sb->base;
      aq_ranges_remove_below(&sb->acked, sb->base);
    }
  }
  if (fin) {
    sb->fin_acked = 1;
    sb->fin_lost = 0;
  }
}

void aq_strm_sbuf_on_lost(aq_strm_sbuf *sb, uint64_t offset, uint64_t len, int fin) {
  uint64_t end = offset + len;
  uint64_t s = offset > sb->base ? offset : sb->base;
  if (end > s) {
    rs_ignore(aq_ranges_insert(&sb->lost, s, end));
  }
  if (fin && !sb->fin_acked) {
    sb->fin_lost = 1;
  }
}

int aq_strm_sbuf_is_done(const aq_strm_sbuf *sb) {
  return sb->closed && sb->fin_acked && sb->base == sb->write_off;
}
