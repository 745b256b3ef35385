/* test_acktr.c - RFC 9000 §13.2 ACK generation decisions and ranges. */
#include <string.h>

#include "aq_test.h"
#include "quic/aq_acktr.h"

#define MS AQ_MILLISECONDS
#define US AQ_MICROSECONDS

static void recv_pkt(aq_acktr *at, uint64_t pn, int ae, aq_tstamp ts) {
  CHECK_INT(aq_acktr_on_pkt(at, pn, ae, AQ_ECN_NOT_ECT, ts), 0);
}

AQ_TEST(acktr_delayed_then_every_second) {
  aq_acktr at;
  aq_acktr_init(&at, 0, 25 * MS);
  CHECK_INT(aq_acktr_get_expiry(&at), AQ_TSTAMP_NEVER);
  recv_pkt(&at, 0, 1, 1000);
  CHECK_INT(aq_acktr_get_expiry(&at), 1000 + 25 * MS);
  CHECK(!aq_acktr_handle_expiry(&at, 1000 + 25 * MS - 1));
  CHECK(aq_acktr_handle_expiry(&at, 1000 + 25 * MS));
  /* The second ack-eliciting packet makes the ACK immediate. */
  recv_pkt(&at, 1, 1, 2000);
  CHECK_INT(aq_acktr_get_expiry(&at), 2000);
  aq_acktr_on_ack_sent(&at);
  CHECK_INT(aq_acktr_get_expiry(&at), AQ_TSTAMP_NEVER);
  /* Non-ack-eliciting packets never arm the timer on their own. */
  recv_pkt(&at, 2, 0, 3000);
  recv_pkt(&at, 3, 0, 3100);
  CHECK_INT(aq_acktr_get_expiry(&at), AQ_TSTAMP_NEVER);
  CHECK(at.ack_pending);
  /* A higher threshold (ACK_FREQUENCY) delays further. */
  aq_acktr_set_threshold(&at, 3);
  recv_pkt(&at, 4, 1, 4000);
  recv_pkt(&at, 5, 1, 5000);
  CHECK_INT(aq_acktr_get_expiry(&at), 4000 + 25 * MS);
  recv_pkt(&at, 6, 1, 6000);
  CHECK_INT(aq_acktr_get_expiry(&at), 6000);
}

AQ_TEST(acktr_immediate_cases) {
  static const struct {
    const char *what;
    int immediate_space;
    uint64_t first, second;
    unsigned ecn;
    int expect_immediate;
  } t[] = {
      {"in order", 0, 0, 1, AQ_ECN_NOT_ECT, 0},
      {"gap after largest ack-eliciting", 0, 0, 2, AQ_ECN_NOT_ECT, 1},
      {"reordered (lower than largest)", 0, 5, 4, AQ_ECN_NOT_ECT, 1},
      {"ECN-CE", 0, 0, 1, AQ_ECN_CE, 1},
      {"ECT0 is not special", 0, 0, 1, AQ_ECN_ECT0, 0},
      {"handshake space", 1, 0, 1, AQ_ECN_NOT_ECT, 1},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    aq_acktr at;
    aq_acktr_init(&at, t[i].immediate_space, 25 * MS);
    /* Raise the threshold so that only the rule under test can fire. */
    aq_acktr_set_threshold(&at, 10);
    REQUIRE(aq_acktr_on_pkt(&at, t[i].first, 1, AQ_ECN_NOT_ECT, 0) == 0);
    aq_acktr_on_ack_sent(&at);
    REQUIRE(aq_acktr_on_pkt(&at, t[i].second, 1, t[i].ecn, 7 * MS) == 0);
    aq_tstamp want = t[i].expect_immediate ? 7 * MS : 32 * MS;
    if (aq_acktr_get_expiry(&at) != want) {
      aq_test_fail(__FILE__, __LINE__, "case '%s': expiry %llu want %llu", t[i].what,
                   (unsigned long long)aq_acktr_get_expiry(&at), (unsigned long long)want);
    }
  }
}

AQ_TEST(acktr_duplicates) {
  aq_acktr at;
  aq_acktr_init(&at, 0, 25 * MS);
  recv_pkt(&at, 7, 1, 0);
  CHECK(aq_acktr_is_dup(&at, 7));
  CHECK(!aq_acktr_is_dup(&at, 6));
  CHECK_INT(aq_acktr_on_pkt(&at, 7, 1, AQ_ECN_NOT_ECT, 5), 1);
  CHECK_INT(at.unacked_ae, 1); /* the duplicate was not counted */
}

AQ_TEST(acktr_build_ranges_and_delay) {
  aq_acktr at;
  aq_acktr_init(&at, 0, 25 * MS);
  static const uint64_t pns[] = {0, 1, 2, 3, 4, 6, 7, 10};
  for (size_t i = 0; i < sizeof pns / sizeof pns[0]; i++) {
    recv_pkt(&at, pns[i], 1, (aq_tstamp)i * MS);
  }
  /* 10 arrived at 7 ms; build at 7.8 ms with exponent 3: 800 us >> 3 = 100. */
  aq_ack_info ai;
  REQUIRE(aq_acktr_build(&at, &ai, AQ_ACKTR_MAX_RANGES, 3, 7 * MS + 800 * US) == 0);
  CHECK_INT(ai.largest, 10);
  CHECK_INT(ai.ack_delay, 800 * US);
  CHECK_INT(ai.ack_delay_enc, 100);
  REQUIRE(ai.nranges == 3);
  CHECK_INT(ai.ranges[0].start, 10);
  CHECK_INT(ai.ranges[0].end, 11);
  CHECK_INT(ai.ranges[1].start, 6);
  CHECK_INT(ai.ranges[1].end, 8);
  CHECK_INT(ai.ranges[2].start, 0);
  CHECK_INT(ai.ranges[2].end, 5);
  CHECK(!ai.has_ecn);
  /* Bounded output: the two largest ranges only. */
  REQUIRE(aq_acktr_build(&at, &ai, 2, 0, 8 * MS) == 0);
  CHECK_INT(ai.nranges, 2);
  CHECK_INT(ai.ranges[1].start, 6);
  CHECK_INT(ai.ack_delay_enc, 1000);
  /* Nothing to acknowledge in a fresh tracker. */
  aq_acktr empty;
  aq_acktr_init(&empty, 0, 25 * MS);
  CHECK_INT(aq_acktr_build(&empty, &ai, 4, 3, 0), AQ_ERR_NOT_FOUND);
}

AQ_TEST(acktr_ecn_counts) {
  aq_acktr at;
  aq_acktr_init(&at, 0, 25 * MS);
  REQUIRE(aq_acktr_on_pkt(&at, 0, 1, AQ_ECN_ECT0, 0) == 0);
  REQUIRE(aq_acktr_on_pkt(&at, 1, 0, AQ_ECN_ECT0, 0) == 0);
  REQUIRE(aq_acktr_on_pkt(&at, 2, 0, AQ_ECN_ECT1, 0) == 0);
  REQUIRE(aq_acktr_on_pkt(&at, 3, 0, AQ_ECN_CE, 0) == 0);
  REQUIRE(aq_acktr_on_pkt(&at, 3, 0, AQ_ECN_CE, 0) == 1); /* duplicate: not counted */
  aq_ack_info ai;
  REQUIRE(aq_acktr_build(&at, &ai, 4, 3, 0) == 0);
  CHECK(ai.has_ecn);
  CHECK_INT(ai.ect0, 2);
  CHECK_INT(ai.ect1, 1);
  CHECK_INT(ai.ce, 1);
}

AQ_TEST(acktr_bounded_ranges) {
  aq_acktr at;
  aq_acktr_init(&at, 0, 25 * MS);
  /* 1000 packets at every other number: 1000 disjoint ranges offered. */
  for (uint64_t pn = 0; pn < 2000; pn += 2) {
    recv_pkt(&at, pn, 0, pn);
  }
  CHECK_INT(at.rs.n, AQ_ACKTR_MAX_RANGES);
  aq_ack_info ai;
  REQUIRE(aq_acktr_build(&at, &ai, AQ_ACKTR_MAX_RANGES, 0, 5000) == 0);
  CHECK_INT(ai.nranges, AQ_ACKTR_MAX_RANGES);
  CHECK_INT(ai.ranges[0].start, 1998);
  CHECK_INT(ai.ranges[AQ_ACKTR_MAX_RANGES - 1].start, 1998 - 2 * (AQ_ACKTR_MAX_RANGES - 1));
  /* Forgotten (old) packets are treated as duplicates; recent gaps are not. */
  CHECK(aq_acktr_is_dup(&at, 1));
  CHECK(!aq_acktr_is_dup(&at, 1997));
}

AQ_TEST(acktr_ack_of_ack) {
  aq_acktr at;
  aq_acktr_init(&at, 0, 25 * MS);
  for (uint64_t pn = 0; pn < 10; pn++) {
    if (pn != 5) {
      recv_pkt(&at, pn, 1, pn);
    }
  }
  /* Our ACK with largest 7 was acknowledged: stop reporting <= 7. */
  aq_acktr_on_ack_acked(&at, 7);
  aq_ack_info ai;
  REQUIRE(aq_acktr_build(&at, &ai, 8, 0, 20) == 0);
  REQUIRE(ai.nranges == 1);
  CHECK_INT(ai.ranges[0].start, 8);
  CHECK_INT(ai.ranges[0].end, 10);
  CHECK(aq_acktr_is_dup(&at, 5)); /* forgotten gap: a late copy is dropped */
  aq_acktr_on_ack_acked(&at, 9);
  CHECK_INT(aq_acktr_build(&at, &ai, 8, 0, 20), AQ_ERR_NOT_FOUND);
  recv_pkt(&at, 11, 1, 30);
  REQUIRE(aq_acktr_build(&at, &ai, 8, 0, 40) == 0);
  CHECK_INT(ai.largest, 11);
  CHECK_INT(ai.ack_delay, 10);
}

/* RFC 9000 §19.3.1 range arithmetic, both directions. */
AQ_TEST(acktr_wire_ranges_roundtrip) {
  /* Acknowledged: 2..4, 8, 10..12 -> largest 12, first range 2, then
   * gap = 10 - 8 - 2 = 0, len 0; gap = 8 - 4 - 2 = 2, len 2. */
  static const aq_range r[3] = {{10, 13}, {8, 9}, {2, 5}};
  uint64_t largest, first, gaps[2], lens[2];
  REQUIRE(aq_ack_ranges_to_wire(r, 3, &largest, &first, gaps, lens) == 0);
  CHECK_INT(largest, 12);
  CHECK_INT(first, 2);
  CHECK_INT(gaps[0], 0);
  CHECK_INT(lens[0], 0);
  CHECK_INT(gaps[1], 2);
  CHECK_INT(lens[1], 2);
  aq_range back[3];
  REQUIRE(aq_ack_ranges_from_wire(back, 3, largest, first, gaps, lens, 2) == 3);
  for (int i = 0; i < 3; i++) {
    CHECK_INT(back[i].start, r[i].start);
    CHECK_INT(back[i].end, r[i].end);
  }
  /* Built ACKs convert too. */
  aq_acktr at;
  aq_acktr_init(&at, 0, 0);
  for (uint64_t pn = 0; pn < 40; pn += 3) {
    REQUIRE(aq_acktr_on_pkt(&at, pn, 1, AQ_ECN_NOT_ECT, pn) == 0);
    REQUIRE(aq_acktr_on_pkt(&at, pn + 1, 1, AQ_ECN_NOT_ECT, pn) == 0);
  }
  aq_ack_info ai;
  REQUIRE(aq_acktr_build(&at, &ai, AQ_ACKTR_MAX_RANGES, 3, 100) == 0);
  uint64_t g[AQ_ACKTR_MAX_RANGES], l[AQ_ACKTR_MAX_RANGES];
  REQUIRE(aq_ack_ranges_to_wire(ai.ranges, ai.nranges, &largest, &first, g, l) == 0);
  aq_range rb[AQ_ACKTR_MAX_RANGES];
  REQUIRE(aq_ack_ranges_from_wire(rb, AQ_ACKTR_MAX_RANGES, largest, first, g, l, ai.nranges - 1) ==
          (aq_ssize)ai.nranges);
  CHECK(memcmp(rb, ai.ranges, ai.nranges * sizeof(aq_range)) == 0);
}

AQ_TEST(acktr_wire_ranges_negative) {
  aq_range out[4];
  uint64_t g[2] = {0, 0}, l[2] = {0, 0};
  /* first range larger than largest: packet number -1 */
  CHECK_INT(aq_ack_ranges_from_wire(out, 4, 5, 6, g, l, 0), AQ_ERR_MALFORMED);
  CHECK_INT(aq_ack_ranges_from_wire(out, 4, 5, 5, g, l, 0), 1);
  /* smallest 0, then any gap goes negative */
  CHECK_INT(aq_ack_ranges_from_wire(out, 4, 5, 5, g, l, 1), AQ_ERR_MALFORMED);
  /* smallest 2: gap 0 -> largest 0, len 0 ok; len 1 -> -1 */
  CHECK_INT(aq_ack_ranges_from_wire(out, 4, 5, 3, g, l, 1), 2);
  CHECK_INT(out[1].start, 0);
  CHECK_INT(out[1].end, 1);
  l[0] = 1;
  CHECK_INT(aq_ack_ranges_from_wire(out, 4, 5, 3, g, l, 1), AQ_ERR_MALFORMED);
  uint64_t huge[1] = {UINT64_MAX};
  CHECK_INT(aq_ack_ranges_from_wire(out, 4, 5, 0, huge, l, 1), AQ_ERR_MALFORMED);
  CHECK_INT(aq_ack_ranges_from_wire(out, 1, 100, 0, g, l, 1), AQ_ERR_LIMIT);
  /* to_wire refuses adjacent or unordered ranges */
  static const aq_range adj[2] = {{5, 8}, {3, 5}};
  uint64_t a, b;
  CHECK_INT(aq_ack_ranges_to_wire(adj, 2, &a, &b, g, l), AQ_ERR_INVALID_ARGUMENT);
  static const aq_range ok[2] = {{5, 8}, {3, 4}};
  CHECK_INT(aq_ack_ranges_to_wire(ok, 2, &a, &b, g, l), 0);
  CHECK_INT(g[0], 0);
}
