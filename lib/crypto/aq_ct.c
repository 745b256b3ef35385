/* aq_ct.c - constant-time helpers. */
#include "aq_ct.h"

#include <string.h>

static void *(*const volatile memset_fn)(void *, int, size_t) = memset;

void aq_memzero(void *p, size_t len) {
  if (len > 0) {
    memset_fn(p, 0, len);
  }
}

int aq_ct_memeq(const void *a, const void *b, size_t len) {
  const uint8_t *x = a;
  const uint8_t *y = b;
  uint32_t d = 0;
  for (size_t i = 0; i < len; i++) {
    d |= (uint32_t)(x[i] ^ y[i]);
  }
  return (int)(1 & ((d - 1) >> 8));
}

void aq_ct_cmov(uint8_t *dst, const uint8_t *src, size_t len, uint8_t mask) {
  uint8_t m = (uint8_t)aq_ct_barrier_u32(mask);
  for (size_t i = 0; i < len; i++) {
    dst[i] = aq_ct_select_u8(m, src[i], dst[i]);
  }
}
