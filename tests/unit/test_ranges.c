/* test_ranges.c - aq_ranges: model check against a bitmap, overflow policies. */
#include <string.h>

#include "aq_test.h"
#include "quic/aq_ranges.h"

static int ranges_valid(const aq_ranges *rs) {
  for (size_t k = 0; k < rs->n; k++) {
    if (rs->r[k].start >= rs->r[k].end) {
      return 0;
    }
    if (k > 0 && rs->r[k - 1].end >= rs->r[k].start) {
      return 0; /* overlapping or touching: should have been merged */
    }
  }
  return 1;
}

static uint64_t rnd(uint64_t *st, uint64_t mod) {
  uint8_t b[8];
  (void)aq_test_rand(b, sizeof b, st);
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) {
    v = (v << 8) | b[i];
  }
  return v % mod;
}

/* Random inserts/removes over [0,256) compared with a bitmap model. */
AQ_TEST(ranges_model_random) {
  aq_range st[256];
  aq_ranges rs;
  aq_ranges_init(&rs, st, 256, AQ_RANGES_REFUSE);
  uint8_t model[256];
  memset(model, 0, sizeof model);
  uint64_t seed = 0x5eed;
  for (int it = 0; it < 20000; it++) {
    uint64_t a = rnd(&seed, 256), len = rnd(&seed, 12);
    uint64_t b = a + len > 256 ? 256 : a + len;
    int op = (int)rnd(&seed, 3);
    if (op < 2) {
      REQUIRE(aq_ranges_insert(&rs, a, b) == 0);
      for (uint64_t v = a; v < b; v++) {
        model[v] = 1;
      }
    } else {
      REQUIRE(aq_ranges_remove(&rs, a, b) == 0);
      for (uint64_t v = a; v < b; v++) {
        model[v] = 0;
      }
    }
    REQUIRE(ranges_valid(&rs));
    uint64_t total = 0;
    for (uint64_t v = 0; v < 256; v++) {
      total += model[v];
      if (aq_ranges_contains(&rs, v) != model[v]) {
        aq_test_fail(__FILE__, __LINE__, "iteration %d value %llu", it, (unsigned long long)v);
        return;
      }
    }
    CHECK_INT(aq_ranges_total(&rs), total);
    /* contains_all / intersects / first_gap agree with the model on [a, b+5). */
    uint64_t e = b + 5 > 256 ? 256 : b + 5;
    int all = 1, any = 0;
    for (uint64_t v = a; v < e; v++) {
      all &= model[v];
      any |= model[v];
    }
    CHECK_INT(aq_ranges_contains_all(&rs, a, e), a < e ? all : 1);
    CHECK_INT(aq_ranges_intersects(&rs, a, e), any);
    aq_range g;
    int rc = aq_ranges_first_gap(&rs, a, e, &g);
    if (all) {
      CHECK_INT(rc, AQ_ERR_NOT_FOUND);
    } else {
      REQUIRE(rc == 0);
      uint64_t v = a;
      while (model[v]) {
        v++;
      }
      CHECK_INT(g.start, v);
      while (v < e && !model[v]) {
        v++;
      }
      CHECK_INT(g.end, v);
    }
  }
}

AQ_TEST(ranges_merge_touching) {
  aq_range st[4];
  aq_ranges rs;
  aq_ranges_init(&rs, st, 4, AQ_RANGES_REFUSE);
  REQUIRE(aq_ranges_insert(&rs, 1, 3) == 0);
  REQUIRE(aq_ranges_insert(&rs, 5, 7) == 0);
  REQUIRE(aq_ranges_insert(&rs, 3, 5) == 0);
  CHECK_INT(rs.n, 1);
  CHECK_INT(rs.r[0].start, 1);
  CHECK_INT(rs.r[0].end, 7);
  REQUIRE(aq_ranges_insert(&rs, 9, 9) == 0); /* empty: no-op */
  CHECK_INT(rs.n, 1);
  aq_ranges_remove_below(&rs, 4);
  CHECK_INT(rs.r[0].start, 4);
  aq_ranges_remove_below(&rs, 100);
  CHECK_INT(rs.n, 0);
}

AQ_TEST(ranges_policy_refuse) {
  aq_range st[3];
  aq_ranges rs;
  aq_ranges_init(&rs, st, 3, AQ_RANGES_REFUSE);
  REQUIRE(aq_ranges_insert(&rs, 0, 1) == 0);
  REQUIRE(aq_ranges_insert(&rs, 2, 3) == 0);
  REQUIRE(aq_ranges_insert(&rs, 4, 5) == 0);
  CHECK_INT(aq_ranges_insert(&rs, 6, 7), AQ_ERR_LIMIT);
  CHECK_INT(rs.n, 3);
  CHECK(!aq_ranges_contains(&rs, 6));
  /* A merging insert still works when full. */
  REQUIRE(aq_ranges_insert(&rs, 1, 2) == 0);
  CHECK_INT(rs.n, 2);
  /* Splitting when full is refused and leaves the set unchanged. */
  REQUIRE(aq_ranges_insert(&rs, 6, 10) == 0);
  CHECK_INT(rs.n, 3);
  CHECK_INT(aq_ranges_remove(&rs, 7, 8), AQ_ERR_LIMIT);
  CHECK(aq_ranges_contains(&rs, 7));
  REQUIRE(aq_ranges_remove(&rs, 6, 7) == 0); /* trimming needs no slot */
  CHECK(!aq_ranges_contains(&rs, 6));
}

AQ_TEST(ranges_policy_drop_lowest) {
  aq_range st[3];
  aq_ranges rs;
  aq_ranges_init(&rs, st, 3, AQ_RANGES_DROP_LOWEST);
  for (uint64_t v = 10; v < 20; v += 2) {
    REQUIRE(aq_ranges_insert(&rs, v, v + 1) == 0);
  }
  /* 10,12,14,16,18 inserted; only the three highest remain. */
  CHECK_INT(rs.n, 3);
  CHECK_INT(rs.r[0].start, 14);
  CHECK_INT(rs.r[2].start, 18);
  /* A new lowest range is itself the one forgotten. */
  REQUIRE(aq_ranges_insert(&rs, 1, 2) == 0);
  CHECK(!aq_ranges_contains(&rs, 1));
  CHECK_INT(rs.r[0].start, 14);
  /* Splitting the lowest range when full forgets its lower piece. */
  REQUIRE(aq_ranges_insert(&rs, 14, 17) == 0); /* [14,17) [18,19) */
  REQUIRE(aq_ranges_insert(&rs, 20, 21) == 0); /* 3 ranges */
  REQUIRE(aq_ranges_remove(&rs, 15, 16) == 0);
  CHECK(!aq_ranges_contains(&rs, 14));
  CHECK(aq_ranges_contains(&rs, 16));
  CHECK_INT(rs.n, 3);
}

AQ_TEST(ranges_policy_merge_closest) {
  aq_range st[3];
  aq_ranges rs;
  aq_ranges_init(&rs, st, 3, AQ_RANGES_MERGE_CLOSEST);
  REQUIRE(aq_ranges_insert(&rs, 0, 1) == 0);
  REQUIRE(aq_ranges_insert(&rs, 10, 11) == 0);
  REQUIRE(aq_ranges_insert(&rs, 12, 13) == 0);
  REQUIRE(aq_ranges_insert(&rs, 30, 31) == 0); /* gaps: 9, 1, 17 -> join [10,13) */
  CHECK_INT(rs.n, 3);
  CHECK(aq_ranges_contains(&rs, 11));
  CHECK(aq_ranges_contains(&rs, 30));
  REQUIRE(aq_ranges_insert(&rs, 14, 15) == 0); /* new range's left gap (1) is smallest */
  CHECK_INT(rs.n, 3);
  CHECK_INT(rs.r[1].start, 10);
  CHECK_INT(rs.r[1].end, 15);
  /* Everything originally inserted is still covered (over-approximation). */
  CHECK(aq_ranges_contains(&rs, 0) && aq_ranges_contains(&rs, 12) && aq_ranges_contains(&rs, 30));
  /* A split that does not fit keeps the range whole. */
  REQUIRE(aq_ranges_remove(&rs, 12, 13) == 0);
  CHECK(aq_ranges_contains(&rs, 12));
}

AQ_TEST(ranges_first_in) {
  aq_range st[4];
  aq_ranges rs;
  aq_ranges_init(&rs, st, 4, AQ_RANGES_REFUSE);
  REQUIRE(aq_ranges_insert(&rs, 5, 10) == 0);
  REQUIRE(aq_ranges_insert(&rs, 20, 30) == 0);
  aq_range o;
  REQUIRE(aq_ranges_first_in(&rs, 7, 25, &o) == 0);
  CHECK_INT(o.start, 7);
  CHECK_INT(o.end, 10);
  REQUIRE(aq_ranges_first_in(&rs, 10, 25, &o) == 0);
  CHECK_INT(o.start, 20);
  CHECK_INT(o.end, 25);
  CHECK_INT(aq_ranges_first_in(&rs, 10, 20, &o), AQ_ERR_NOT_FOUND);
  CHECK_INT(aq_ranges_min(&rs), 5);
  CHECK_INT(aq_ranges_max_end(&rs), 30);
}
