/* aq_buf.c - QUIC varints, sub-readers and back-patched lengths. */
#include "aq_buf.h"

#include <assert.h>

/*
 * RFC 9000 §16: the two most significant bits of the first byte give the
 * base-2 logarithm of the encoding length; the rest is the value, big-endian.
 */
static int rbuf_varint_peek(const aq_rbuf *r, uint64_t *v, size_t *len) {
  size_t n;
  uint64_t x;
  if (aq_rbuf_left(r) < 1) {
    return AQ_ERR_TRUNCATED;
  }
  n = (size_t)1 << (r->p[0] >> 6);
  if (aq_rbuf_left(r) < n) {
    return AQ_ERR_TRUNCATED;
  }
  x = r->p[0] & 0x3f;
  for (size_t i = 1; i < n; i++) {
    x = (x << 8) | r->p[i];
  }
  *v = x;
  *len = n;
  return 0;
}

int aq_rbuf_varint(aq_rbuf *r, uint64_t *v) {
  size_t n;
  uint64_t x;
  int rv = rbuf_varint_peek(r, &x, &n);
  if (rv != 0) {
    return rv;
  }
  r->p += n;
  *v = x;
  return 0;
}

int aq_rbuf_varint_minimal(aq_rbuf *r, uint64_t *v) {
  size_t n;
  uint64_t x;
  int rv = rbuf_varint_peek(r, &x, &n);
  if (rv != 0) {
    return rv;
  }
  if (aq_varint_len(x) != n) {
    return AQ_ERR_NON_MINIMAL;
  }
  r->p += n;
  *v = x;
  return 0;
}

int aq_rbuf_sub(aq_rbuf *r, aq_lenprefix prefix, aq_rbuf *sub) {
  aq_rbuf t = *r; /* work on a copy so that failure leaves r unmoved */
  uint64_t len = 0;
  int rv;

  switch (prefix) {
  case AQ_LEN_U8: {
    uint8_t v;
    rv = aq_rbuf_u8(&t, &v);
    len = v;
    break;
  }
  case AQ_LEN_U16: {
    uint16_t v;
    rv = aq_rbuf_u16(&t, &v);
    len = v;
    break;
  }
  case AQ_LEN_U24: {
    uint32_t v;
    rv = aq_rbuf_u24(&t, &v);
    len = v;
    break;
  }
  case AQ_LEN_VARINT:
  case AQ_LEN_VARINT2:
    rv = aq_rbuf_varint(&t, &len);
    break;
  default:
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (rv != 0) {
    return rv;
  }
  if (len > aq_rbuf_left(&t)) {
    return AQ_ERR_TRUNCATED;
  }
  aq_rbuf_init(sub, t.p, (size_t)len);
  r->p = t.p + len;
  return 0;
}

void aq_varint_put(uint8_t *dst, uint64_t v, size_t len) {
  static const uint8_t tag[9] = {0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0};
  assert(len == 1 || len == 2 || len == 4 || len == 8);
  for (size_t i = 0; i < len; i++) {
    dst[len - 1 - i] = (uint8_t)(v >> (8 * i));
  }
  dst[0] = (uint8_t)(dst[0] | tag[len]);
}

static void wbuf_set_err(aq_wbuf *w, int err) {
  if (w->err == 0) {
    w->err = err;
  }
}

void aq_wbuf_varint(aq_wbuf *w, uint64_t v) {
  size_t n = aq_varint_len(v);
  uint8_t *at;
  if (n == 0) {
    wbuf_set_err(w, AQ_ERR_VALUE_RANGE);
    return;
  }
  at = aq_wbuf_reserve(w, n);
  if (at) {
    aq_varint_put(at, v, n);
  }
}

void aq_wbuf_varint_fixed(aq_wbuf *w, uint64_t v, size_t len) {
  uint8_t *at;
  size_t need = aq_varint_len(v);
  if ((len != 1 && len != 2 && len != 4 && len != 8) || need == 0 || need > len) {
    wbuf_set_err(w, AQ_ERR_VALUE_RANGE);
    return;
  }
  at = aq_wbuf_reserve(w, len);
  if (at) {
    aq_varint_put(at, v, len);
  }
}

static size_t prefix_size(aq_lenprefix prefix) {
  switch (prefix) {
  case AQ_LEN_U8: return 1;
  case AQ_LEN_U16: return 2;
  case AQ_LEN_U24: return 3;
  case AQ_LEN_VARINT: return 4;
  case AQ_LEN_VARINT2: return 2;
  default: return 0;
  }
}

void aq_wbuf_len_begin(aq_wbuf *w, aq_lenprefix prefix, aq_wbuf_mark *mark) {
  size_t n = prefix_size(prefix);
  mark->prefix = prefix;
  mark->off = aq_wbuf_len(w);
  if (n == 0) {
    wbuf_set_err(w, AQ_ERR_INVALID_ARGUMENT);
    return;
  }
  (void)aq_wbuf_reserve(w, n);
}

void aq_wbuf_len_end(aq_wbuf *w, const aq_wbuf_mark *mark) {
  size_t n = prefix_size(mark->prefix);
  uint8_t *at;
  uint64_t len;
  if (w->err != 0) {
    return;
  }
  at = w->begin + mark->off;
  len = (uint64_t)(aq_wbuf_len(w) - mark->off - n);
  switch (mark->prefix) {
  case AQ_LEN_U8:
  case AQ_LEN_U16:
  case AQ_LEN_U24:
    if (len >> (8 * n) != 0) {
      wbuf_set_err(w, AQ_ERR_VALUE_RANGE);
      return;
    }
    for (size_t i = 0; i < n; i++) {
      at[n - 1 - i] = (uint8_t)(len >> (8 * i));
    }
    break;
  case AQ_LEN_VARINT:
  case AQ_LEN_VARINT2:
    if (aq_varint_len(len) == 0 || aq_varint_len(len) > n) {
      wbuf_set_err(w, AQ_ERR_VALUE_RANGE);
      return;
    }
    aq_varint_put(at, len, n);
    break;
  default:
    wbuf_set_err(w, AQ_ERR_INVALID_ARGUMENT);
    break;
  }
}
