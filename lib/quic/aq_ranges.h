/*
 * aq_ranges.h - a bounded, sorted set of disjoint half-open uint64 ranges.
 *
 * Used for received packet numbers (aq_acktr), acknowledged / lost stream
 * byte ranges (aq_strm_buf) and anything else that is "a set of integers
 * stored as runs".  The storage is a caller-provided array (usually embedded
 * in the owner next to the set, sized by an AQ_MAX_* constant), so this
 * module never allocates.  Ranges are kept sorted ascending and are merged
 * whenever they touch ([1,3) + [3,5) = [1,5)).
 *
 * Because the capacity is fixed, an insert that needs one more range than
 * fits is resolved by the set's overflow policy, chosen at init:
 *  - AQ_RANGES_REFUSE: the insert fails with AQ_ERR_LIMIT and the set is
 *    unchanged (exact sets whose owner must handle the case).
 *  - AQ_RANGES_DROP_LOWEST: the lowest range is forgotten to make room
 *    (received packet numbers: the oldest ranges matter least; RFC 9000
 *    §13.2.3 lets a receiver limit the ranges it remembers).
 *  - AQ_RANGES_MERGE_CLOSEST: the two neighbouring ranges separated by the
 *    smallest gap are joined, so the set over-approximates (retransmission
 *    queues: resending a few extra bytes is harmless).
 */
#ifndef AQ_RANGES_H
#define AQ_RANGES_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"

/** A half-open range [start, end); empty if start >= end. */
typedef struct aq_range {
  uint64_t start;
  uint64_t end;
} aq_range;

typedef enum aq_ranges_policy {
  AQ_RANGES_REFUSE = 0,
  AQ_RANGES_DROP_LOWEST = 1,
  AQ_RANGES_MERGE_CLOSEST = 2
} aq_ranges_policy;

typedef struct aq_ranges {
  aq_range *r; /* sorted ascending, disjoint, non-adjacent; storage owned by the caller */
  size_t n;
  size_t cap;
  aq_ranges_policy policy;
} aq_ranges;

/**
 * Initialise an empty set over caller storage of cap ranges (cap >= 2; the
 * storage must outlive the set and is not zeroed on free).
 */
void aq_ranges_init(aq_ranges *rs, aq_range *storage, size_t cap, aq_ranges_policy policy);

/** Remove every range. */
void aq_ranges_clear(aq_ranges *rs);

/**
 * Add [start, end) to the set.  An empty range is a no-op.  Returns 0, or
 * AQ_ERR_LIMIT (policy AQ_RANGES_REFUSE only; the set is unchanged).
 */
AQ_MUST_CHECK int aq_ranges_insert(aq_ranges *rs, uint64_t start, uint64_t end);

/**
 * Remove [start, end) from the set.  Removing the middle of a range splits
 * it; if the split would exceed the capacity, the policy applies as for an
 * insert (REFUSE: AQ_ERR_LIMIT and no change; DROP_LOWEST: the lowest range
 * is dropped; MERGE_CLOSEST: the split is not performed and 0 is returned —
 * the set then over-approximates).  Returns 0 or AQ_ERR_LIMIT.
 */
AQ_MUST_CHECK int aq_ranges_remove(aq_ranges *rs, uint64_t start, uint64_t end);

/** Remove every value < v (never fails: this cannot split a range). */
void aq_ranges_remove_below(aq_ranges *rs, uint64_t v);

/** Non-zero if v is in the set. */
int aq_ranges_contains(const aq_ranges *rs, uint64_t v);

/** Non-zero if all of [start, end) is in the set (an empty range is). */
int aq_ranges_contains_all(const aq_ranges *rs, uint64_t start, uint64_t end);

/** Non-zero if any value of [start, end) is in the set. */
int aq_ranges_intersects(const aq_ranges *rs, uint64_t start, uint64_t end);

/**
 * The first range of the set that intersects [start, end), clipped to it,
 * written to *out.  Returns 0, or AQ_ERR_NOT_FOUND.
 */
AQ_MUST_CHECK int aq_ranges_first_in(const aq_ranges *rs, uint64_t start, uint64_t end,
                                     aq_range *out);

/**
 * The first gap of [start, end) not covered by the set, written to *out.
 * Returns 0, or AQ_ERR_NOT_FOUND if [start, end) is fully covered.
 */
AQ_MUST_CHECK int aq_ranges_first_gap(const aq_ranges *rs, uint64_t start, uint64_t end,
                                      aq_range *out);

/** Number of ranges. */
static inline size_t aq_ranges_count(const aq_ranges *rs) {
  return rs->n;
}
/** Non-zero if the set is empty. */
static inline int aq_ranges_empty(const aq_ranges *rs) {
  return rs->n == 0;
}
/** The lowest value in the set; the set must not be empty. */
static inline uint64_t aq_ranges_min(const aq_ranges *rs) {
  return rs->r[0].start;
}
/** One past the highest value in the set; the set must not be empty. */
static inline uint64_t aq_ranges_max_end(const aq_ranges *rs) {
  return rs->r[rs->n - 1].end;
}
/** Total number of values in the set (saturating). */
uint64_t aq_ranges_total(const aq_ranges *rs);

#endif /* AQ_RANGES_H */
