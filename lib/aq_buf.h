/*
 * aq_buf.h - the checked byte reader and writer.  Every wire format in the
 * library is read through aq_rbuf and written through aq_wbuf; no other file
 * does raw wire arithmetic on peer-supplied lengths.
 *
 * Reader invariants:
 *  - A failed read never moves the cursor (the s2n stuffer property).
 *  - aq_rbuf_sub() opens a length-prefixed block; the caller must finish the
 *    sub-reader with aq_rbuf_done() so that trailing bytes are an error
 *    (picotls block discipline).
 *
 * Writer invariants:
 *  - Overflow sets a sticky error: later writes do nothing, so an encoder may
 *    check aq_wbuf_error() once at its end.
 *  - Length prefixes are reserved with aq_wbuf_len_begin() and back-patched
 *    by aq_wbuf_len_end().
 */
#ifndef AQ_BUF_H
#define AQ_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "antquic.h"

/** Largest value a QUIC variable-length integer can carry (2^62 - 1). */
#define AQ_VARINT_MAX ((uint64_t)0x3fffffffffffffffULL)

/** Length-prefix kinds for sub-readers and back-patched writer lengths. */
typedef enum aq_lenprefix {
  AQ_LEN_U8 = 1,      /* 1-byte big-endian length */
  AQ_LEN_U16 = 2,     /* 2-byte big-endian length */
  AQ_LEN_U24 = 3,     /* 3-byte big-endian length */
  AQ_LEN_VARINT = 8,  /* QUIC varint; the writer reserves 4 bytes */
  AQ_LEN_VARINT2 = 9  /* QUIC varint; the writer reserves 2 bytes (max 16383) */
} aq_lenprefix;

/* ---------------------------------------------------------------- varints */

/** Encoded length (1, 2, 4 or 8) of v, or 0 if v > AQ_VARINT_MAX. */
static inline size_t aq_varint_len(uint64_t v) {
  if (v < 64) {
    return 1;
  }
  if (v < 16384) {
    return 2;
  }
  if (v < 1073741824) {
    return 4;
  }
  if (v <= AQ_VARINT_MAX) {
    return 8;
  }
  return 0;
}

/* ----------------------------------------------------------------- reader */

typedef struct aq_rbuf {
  const uint8_t *p;
  const uint8_t *end;
} aq_rbuf;

static inline void aq_rbuf_init(aq_rbuf *r, const uint8_t *data, size_t len) {
  r->p = data;
  r->end = data + len;
}

/** Bytes not yet read. */
static inline size_t aq_rbuf_left(const aq_rbuf *r) { return (size_t)(r->end - r->p); }

/** 0 if r is fully consumed, else AQ_ERR_TRAILING_DATA. */
AQ_MUST_CHECK static inline int aq_rbuf_done(const aq_rbuf *r) {
  return r->p == r->end ? 0 : AQ_ERR_TRAILING_DATA;
}

AQ_MUST_CHECK static inline int aq_rbuf_u8(aq_rbuf *r, uint8_t *v) {
  if (aq_rbuf_left(r) < 1) {
    return AQ_ERR_TRUNCATED;
  }
  *v = r->p[0];
  r->p += 1;
  return 0;
}

AQ_MUST_CHECK static inline int aq_rbuf_u16(aq_rbuf *r, uint16_t *v) {
  if (aq_rbuf_left(r) < 2) {
    return AQ_ERR_TRUNCATED;
  }
  *v = (uint16_t)(((unsigned)r->p[0] << 8) | r->p[1]);
  r->p += 2;
  return 0;
}

AQ_MUST_CHECK static inline int aq_rbuf_u24(aq_rbuf *r, uint32_t *v) {
  if (aq_rbuf_left(r) < 3) {
    return AQ_ERR_TRUNCATED;
  }
  *v = ((uint32_t)r->p[0] << 16) | ((uint32_t)r->p[1] << 8) | r->p[2];
  r->p += 3;
  return 0;
}

AQ_MUST_CHECK static inline int aq_rbuf_u32(aq_rbuf *r, uint32_t *v) {
  if (aq_rbuf_left(r) < 4) {
    return AQ_ERR_TRUNCATED;
  }
  *v = ((uint32_t)r->p[0] << 24) | ((uint32_t)r->p[1] << 16) | ((uint32_t)r->p[2] << 8) | r->p[3];
  r->p += 4;
  return 0;
}

AQ_MUST_CHECK static inline int aq_rbuf_u64(aq_rbuf *r, uint64_t *v) {
  uint64_t x = 0;
  if (aq_rbuf_left(r) < 8) {
    return AQ_ERR_TRUNCATED;
  }
  for (size_t i = 0; i < 8; i++) {
    x = (x << 8) | r->p[i];
  }
  *v = x;
  r->p += 8;
  return 0;
}

/** Read a QUIC varint (RFC 9000 §16); any encoding length is accepted. */
AQ_MUST_CHECK int aq_rbuf_varint(aq_rbuf *r, uint64_t *v);

/**
 * Read a QUIC varint that must be minimally encoded (frame types,
 * RFC 9000 §12.4: "the frame type MUST use the shortest possible encoding").
 * Returns AQ_ERR_NON_MINIMAL (cursor unmoved) otherwise.
 */
AQ_MUST_CHECK int aq_rbuf_varint_minimal(aq_rbuf *r, uint64_t *v);

/**
 * Take n bytes without copying: *out points into the reader's buffer and is
 * valid only as long as that buffer is.
 */
AQ_MUST_CHECK static inline int aq_rbuf_bytes(aq_rbuf *r, size_t n, const uint8_t **out) {
  if (aq_rbuf_left(r) < n) {
    return AQ_ERR_TRUNCATED;
  }
  *out = r->p;
  r->p += n;
  return 0;
}

/** Copy n bytes to dst. */
AQ_MUST_CHECK static inline int aq_rbuf_copy(aq_rbuf *r, uint8_t *dst, size_t n) {
  if (aq_rbuf_left(r) < n) {
    return AQ_ERR_TRUNCATED;
  }
  if (n > 0) {
    memcpy(dst, r->p, n);
  }
  r->p += n;
  return 0;
}

AQ_MUST_CHECK static inline int aq_rbuf_skip(aq_rbuf *r, size_t n) {
  if (aq_rbuf_left(r) < n) {
    return AQ_ERR_TRUNCATED;
  }
  r->p += n;
  return 0;
}

/** Take all remaining bytes. */
static inline void aq_rbuf_rest(aq_rbuf *r, const uint8_t **out, size_t *outlen) {
  *out = r->p;
  *outlen = aq_rbuf_left(r);
  r->p = r->end;
}

/**
 * Open a length-prefixed block: read a length of kind prefix, then hand the
 * next length bytes to *sub and skip them in r.  On error (truncated length
 * or block) r is unmoved.  The caller finishes sub with aq_rbuf_done().
 */
AQ_MUST_CHECK int aq_rbuf_sub(aq_rbuf *r, aq_lenprefix prefix, aq_rbuf *sub);

/* ----------------------------------------------------------------- writer */

typedef struct aq_wbuf {
  uint8_t *begin;
  uint8_t *p;
  uint8_t *end;
  int err; /* sticky: 0 or AQ_ERR_BUFFER_TOO_SMALL / AQ_ERR_VALUE_RANGE */
} aq_wbuf;

/** A reserved length prefix, to be filled by aq_wbuf_len_end(). */
typedef struct aq_wbuf_mark {
  size_t off;          /* offset of the reserved prefix */
  aq_lenprefix prefix; /* its kind */
} aq_wbuf_mark;

static inline void aq_wbuf_init(aq_wbuf *w, uint8_t *buf, size_t cap) {
  w->begin = buf;
  w->p = buf;
  w->end = buf + cap;
  w->err = 0;
}

/** Bytes written so far. */
static inline size_t aq_wbuf_len(const aq_wbuf *w) { return (size_t)(w->p - w->begin); }
/** Room left. */
static inline size_t aq_wbuf_left(const aq_wbuf *w) { return (size_t)(w->end - w->p); }
/** The sticky error (0 if every write so far fitted). */
AQ_MUST_CHECK static inline int aq_wbuf_error(const aq_wbuf *w) { return w->err; }

/** Reserve n bytes: a pointer to them, or NULL (and the sticky error set). */
static inline uint8_t *aq_wbuf_reserve(aq_wbuf *w, size_t n) {
  uint8_t *at;
  if (w->err != 0) {
    return NULL;
  }
  if (aq_wbuf_left(w) < n) {
    w->err = AQ_ERR_BUFFER_TOO_SMALL;
    return NULL;
  }
  at = w->p;
  w->p += n;
  return at;
}

static inline void aq_wbuf_u8(aq_wbuf *w, uint8_t v) {
  uint8_t *at = aq_wbuf_reserve(w, 1);
  if (at) {
    at[0] = v;
  }
}

static inline void aq_wbuf_u16(aq_wbuf *w, uint16_t v) {
  uint8_t *at = aq_wbuf_reserve(w, 2);
  if (at) {
    at[0] = (uint8_t)(v >> 8);
    at[1] = (uint8_t)v;
  }
}

static inline void aq_wbuf_u24(aq_wbuf *w, uint32_t v) {
  uint8_t *at;
  if (v > 0xffffff) {
    if (w->err == 0) {
      w->err = AQ_ERR_VALUE_RANGE;
    }
    return;
  }
  at = aq_wbuf_reserve(w, 3);
  if (at) {
    at[0] = (uint8_t)(v >> 16);
    at[1] = (uint8_t)(v >> 8);
    at[2] = (uint8_t)v;
  }
}

static inline void aq_wbuf_u32(aq_wbuf *w, uint32_t v) {
  uint8_t *at = aq_wbuf_reserve(w, 4);
  if (at) {
    at[0] = (uint8_t)(v >> 24);
    at[1] = (uint8_t)(v >> 16);
    at[2] = (uint8_t)(v >> 8);
    at[3] = (uint8_t)v;
  }
}

static inline void aq_wbuf_u64(aq_wbuf *w, uint64_t v) {
  uint8_t *at = aq_wbuf_reserve(w, 8);
  if (at) {
    for (size_t i = 0; i < 8; i++) {
      at[i] = (uint8_t)(v >> (56 - 8 * i));
    }
  }
}

static inline void aq_wbuf_bytes(aq_wbuf *w, const uint8_t *data, size_t len) {
  uint8_t *at = aq_wbuf_reserve(w, len);
  if (at && len > 0) {
    memcpy(at, data, len);
  }
}

static inline void aq_wbuf_zeros(aq_wbuf *w, size_t len) {
  uint8_t *at = aq_wbuf_reserve(w, len);
  if (at && len > 0) {
    memset(at, 0, len);
  }
}

/** Write v as a minimal QUIC varint; v > AQ_VARINT_MAX sets AQ_ERR_VALUE_RANGE. */
void aq_wbuf_varint(aq_wbuf *w, uint64_t v);

/**
 * Write v as a QUIC varint of exactly len bytes (1, 2, 4 or 8); a v that
 * does not fit, or a bad len, sets AQ_ERR_VALUE_RANGE.
 */
void aq_wbuf_varint_fixed(aq_wbuf *w, uint64_t v, size_t len);

/** Encode v as a varint of exactly len bytes into dst (no checks but asserts). */
void aq_varint_put(uint8_t *dst, uint64_t v, size_t len);

/** Reserve a length prefix; close it with aq_wbuf_len_end(). */
void aq_wbuf_len_begin(aq_wbuf *w, aq_lenprefix prefix, aq_wbuf_mark *mark);

/**
 * Back-patch the length of everything written since the matching
 * aq_wbuf_len_begin().  A length too large for the prefix sets
 * AQ_ERR_VALUE_RANGE.
 */
void aq_wbuf_len_end(aq_wbuf *w, const aq_wbuf_mark *mark);

#endif /* AQ_BUF_H */
