/*
 * aq_ranges.c - bounded sorted range set (see aq_ranges.h).
 *
 * A sorted array with memmove: the sets we keep are small (tens to a few
 * thousand ranges) and mostly modified at the high end, where an array is
 * both the simplest and the most cache-friendly choice.  Lookups are binary
 * searches.  No timers.
 */
#include "aq_ranges.h"

#include <assert.h>
#include <string.h>

void aq_ranges_init(aq_ranges *rs, aq_range *storage, size_t cap, aq_ranges_policy policy) {
  assert(storage != NULL && cap >= 2);
  rs->r = storage;
  rs->n = 0;
  rs->cap = cap;
  rs->policy = policy;
}

void aq_ranges_clear(aq_ranges *rs) {
  rs->n = 0;
}

/* Index of the first range whose end >= v (ranges ending at v touch v). */
static size_t lb_end_ge(const aq_ranges *rs, uint64_t v) {
  size_t lo = 0, hi = rs->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (rs->r[mid].end >= v) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

/* Index of the first range whose end > v. */
static size_t lb_end_gt(const aq_ranges *rs, uint64_t v) {
  size_t lo = 0, hi = rs->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (rs->r[mid].end > v) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

/* Index of the first range whose start > v. */
static size_t lb_start_gt(const aq_ranges *rs, uint64_t v) {
  size_t lo = 0, hi = rs->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (rs->r[mid].start > v) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

/* Index of the first range whose start >= v. */
static size_t lb_start_ge(const aq_ranges *rs, uint64_t v) {
  size_t lo = 0, hi = rs->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (rs->r[mid].start >= v) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}

/* Remove range i, shifting the tail down. */
static void drop_at(aq_ranges *rs, size_t i) {
  memmove(&rs->r[i], &rs->r[i + 1], (rs->n - i - 1) * sizeof(aq_range));
  rs->n--;
}

/* Insert [start, end) at index i (a free slot must exist). */
static void insert_at(aq_ranges *rs, size_t i, uint64_t start, uint64_t end) {
  assert(rs->n < rs->cap);
  memmove(&rs->r[i + 1], &rs->r[i], (rs->n - i) * sizeof(aq_range));
  rs->r[i].start = start;
  rs->r[i].end = end;
  rs->n++;
}

/* Join the adjacent pair (k, k+1) separated by the smallest gap. */
static void merge_closest_pair(aq_ranges *rs) {
  size_t best = 0;
  uint64_t best_gap = UINT64_MAX;
  for (size_t k = 0; k + 1 < rs->n; k++) {
    uint64_t gap = rs->r[k + 1].start - rs->r[k].end;
    if (gap < best_gap) {
      best_gap = gap;
      best = k;
    }
  }
  rs->r[best].end = rs->r[best + 1].end;
  drop_at(rs, best + 1);
}

int aq_ranges_insert(aq_ranges *rs, uint64_t start, uint64_t end) {
  if (start >= end) {
    return 0;
  }
  for (;;) {
    size_t i = lb_end_ge(rs, start);
    size_t j = lb_start_gt(rs, end);
    if (i < j) {
      /* Overlaps or touches r[i..j): merge them all into r[i]. */
      uint64_t s = rs->r[i].start < start ? rs->r[i].start : start;
      uint64_t e = rs->r[j - 1].end > end ? rs->r[j - 1].end : end;
      rs->r[i].start = s;
      rs->r[i].end = e;
      if (j - i > 1) {
        memmove(&rs->r[i + 1], &rs->r[j], (rs->n - j) * sizeof(aq_range));
        rs->n -= j - i - 1;
      }
      return 0;
    }
    if (rs->n < rs->cap) {
      insert_at(rs, i, start, end);
      return 0;
    }
    switch (rs->policy) {
    case AQ_RANGES_REFUSE: return AQ_ERR_LIMIT;
    case AQ_RANGES_DROP_LOWEST:
      if (i == 0) {
        return 0; /* the new range would be the lowest: it is the one forgotten */
      }
      drop_at(rs, 0);
      insert_at(rs, i - 1, start, end);
      return 0;
    case AQ_RANGES_MERGE_CLOSEST: {
      /* Smallest gap among existing neighbours vs. the new range's gaps. */
      uint64_t gl = i > 0 ? start - rs->r[i - 1].end : UINT64_MAX;
      uint64_t gr = i < rs->n ? rs->r[i].start - end : UINT64_MAX;
      uint64_t gi = UINT64_MAX;
      for (size_t k = 0; k + 1 < rs->n; k++) {
        uint64_t g = rs->r[k + 1].start - rs->r[k].end;
        gi = g < gi ? g : gi;
      }
      if (gl <= gr && gl <= gi) {
        start = rs->r[i - 1].start; /* extend into the left neighbour; next pass merges */
      } else if (gr <= gi) {
        end = rs->r[i].end;
      } else {
        merge_closest_pair(rs);
      }
      continue;
    }
    default: return AQ_ERR_INTERNAL;
    }
  }
}

int aq_ranges_remove(aq_ranges *rs, uint64_t start, uint64_t end) {
  if (start >= end) {
    return 0;
  }
  size_t i = lb_end_gt(rs, start);
  size_t j = lb_start_ge(rs, end);
  if (i >= j) {
    return 0;
  }
  int keep_left = rs->r[i].start < start;
  int keep_right = rs->r[j - 1].end > end;
  aq_range left = {rs->r[i].start, start};
  aq_range right = {end, rs->r[j - 1].end};
  size_t pieces = (size_t)keep_left + (size_t)keep_right;
  if (pieces > j - i && rs->n == rs->cap) {
    /* Splitting one range in two needs a free slot. */
    switch (rs->policy) {
    case AQ_RANGES_REFUSE: return AQ_ERR_LIMIT;
    case AQ_RANGES_MERGE_CLOSEST: return 0; /* keep the range whole: the set over-approximates */
    case AQ_RANGES_DROP_LOWEST:
      if (i == 0) {
        keep_left = 0; /* the left piece is the lowest range: forget it */
        pieces = 1;
      } else {
        drop_at(rs, 0);
        i--;
        j--;
      }
      break;
    default: return AQ_ERR_INTERNAL;
    }
  }
  /* Replace r[i..j) by the kept pieces. */
  size_t tail = rs->n - j;
  memmove(&rs->r[i + pieces], &rs->r[j], tail * sizeof(aq_range));
  rs->n = i + pieces + tail;
  size_t k = i;
  if (keep_left) {
    rs->r[k++] = left;
  }
  if (keep_right) {
    rs->r[k] = right;
  }
  return 0;
}

void aq_ranges_remove_below(aq_ranges *rs, uint64_t v) {
  size_t i = lb_end_gt(rs, v);
  if (i > 0) {
    memmove(&rs->r[0], &rs->r[i], (rs->n - i) * sizeof(aq_range));
    rs->n -= i;
  }
  if (rs->n > 0 && rs->r[0].start < v) {
    rs->r[0].start = v;
  }
}

int aq_ranges_contains(const aq_ranges *rs, uint64_t v) {
  size_t i = lb_end_gt(rs, v);
  return i < rs->n && rs->r[i].start <= v;
}

int aq_ranges_contains_all(const aq_ranges *rs, uint64_t start, uint64_t end) {
  if (start >= end) {
    return 1;
  }
  size_t i = lb_end_gt(rs, start);
  return i < rs->n && rs->r[i].start <= start && rs->r[i].end >= end;
}

int aq_ranges_intersects(const aq_ranges *rs, uint64_t start, uint64_t end) {
  if (start >= end) {
    return 0;
  }
  size_t i = lb_end_gt(rs, start);
  return i < rs->n && rs->r[i].start < end;
}

int aq_ranges_first_in(const aq_ranges *rs, uint64_t start, uint64_t end, aq_range *out) {
  if (start >= end) {
    return AQ_ERR_NOT_FOUND;
  }
  size_t i = lb_end_gt(rs, start);
  if (i >= rs->n || rs->r[i].start >= end) {
    return AQ_ERR_NOT_FOUND;
  }
  out->start = rs->r[i].start > start ? rs->r[i].start : start;
  out->end = rs->r[i].end < end ? rs->r[i].end : end;
  return 0;
}

int aq_ranges_first_gap(const aq_ranges *rs, uint64_t start, uint64_t end, aq_range *out) {
  if (start >= end) {
    return AQ_ERR_NOT_FOUND;
  }
  size_t i = lb_end_gt(rs, start);
  uint64_t s = start;
  if (i < rs->n && rs->r[i].start <= s) {
    s = rs->r[i].end;
    i++;
  }
  if (s >= end) {
    return AQ_ERR_NOT_FOUND;
  }
  uint64_t e = i < rs->n && rs->r[i].start < end ? rs->r[i].start : end;
  out->start = s;
  out->end = e;
  return 0;
}

uint64_t aq_ranges_total(const aq_ranges *rs) {
  uint64_t t = 0;
  for (size_t k = 0; k < rs->n; k++) {
    uint64_t d = rs->r[k].end - rs->r[k].start;
    t = t + d < t ? UINT64_MAX : t + d;
  }
  return t;
}
