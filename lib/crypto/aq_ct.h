/*
 * aq_ct.h - every constant-time helper of the library lives here (BearSSL
 * inner.h style).  Nothing here branches on or indexes by its arguments.
 */
#ifndef AQ_CT_H
#define AQ_CT_H

#include <stddef.h>
#include <stdint.h>

/**
 * Zero len bytes at p in a way the compiler cannot drop (the write goes
 * through a volatile function pointer to memset).
 */
void aq_memzero(void *p, size_t len);

/** 1 if the len bytes at a and b are equal, else 0; time depends on len only. */
int aq_ct_memeq(const void *a, const void *b, size_t len);

/*
 * Value barrier: hides v from the optimiser so that mask arithmetic is not
 * turned back into branches (mlkem-native's value_barrier).
 */
static inline uint32_t aq_ct_barrier_u32(uint32_t v) {
#if defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+r"(v));
#endif
  return v;
}

static inline uint64_t aq_ct_barrier_u64(uint64_t v) {
#if defined(__GNUC__) || defined(__clang__)
  __asm__("" : "+r"(v));
#endif
  return v;
}

/** 0xffffffff if v != 0, else 0. */
static inline uint32_t aq_ct_mask_nonzero_u32(uint32_t v) {
  uint32_t x = aq_ct_barrier_u32(v);
  return (uint32_t)0 - ((x | ((uint32_t)0 - x)) >> 31);
}

/** 0xffffffff if a == b, else 0. */
static inline uint32_t aq_ct_mask_eq_u32(uint32_t a, uint32_t b) {
  return ~aq_ct_mask_nonzero_u32(a ^ b);
}

/** mask ? a : b, byte-wise, for mask in {0, 0xff}. */
static inline uint8_t aq_ct_select_u8(uint8_t mask, uint8_t a, uint8_t b) {
  return (uint8_t)(b ^ (mask & (a ^ b)));
}

/** Copy src to dst where mask = 0xff; leave dst where mask = 0. */
void aq_ct_cmov(uint8_t *dst, const uint8_t *src, size_t len, uint8_t mask);

#endif /* AQ_CT_H */
