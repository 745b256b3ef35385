/* test_fc.c - flow control accounting and window auto-tuning. */
#include "aq_test.h"
#include "quic/aq_fc.h"

#define MS AQ_MILLISECONDS

AQ_TEST(fc_recv_limit_and_update_cadence) {
  aq_fc_recv fc;
  aq_fc_recv_init(&fc, 1000, 1000, 0);
  CHECK_INT(aq_fc_recv_on_data(&fc, 1000), 0);
  CHECK_INT(aq_fc_recv_on_data(&fc, 1001), AQ_ERR_FLOW_CONTROL);
  CHECK_INT(fc.highest, 1000);
  CHECK_INT(aq_fc_recv_on_data(&fc, 10), 0); /* retransmission below: fine */
  CHECK_INT(fc.highest, 1000);
  aq_fc_recv_on_consumed(&fc, 499, 100 * MS, 10 * MS);
  CHECK(!aq_fc_recv_should_update(&fc)); /* 501 left > half the window */
  aq_fc_recv_on_consumed(&fc, 1, 100 * MS, 10 * MS);
  REQUIRE(aq_fc_recv_should_update(&fc));
  CHECK_INT(aq_fc_recv_next_limit(&fc), 1500);
  /* More consumption before sending moves the pending value along. */
  aq_fc_recv_on_consumed(&fc, 100, 100 * MS, 11 * MS);
  CHECK_INT(aq_fc_recv_next_limit(&fc), 1600);
  aq_fc_recv_on_update_sent(&fc, 1600, 12 * MS);
  CHECK(!aq_fc_recv_should_update(&fc));
  CHECK_INT(aq_fc_recv_on_data(&fc, 1600), 0);
  CHECK_INT(aq_fc_recv_on_data(&fc, 1601), AQ_ERR_FLOW_CONTROL);
  /* Losing the latest update asks for it again; an older value does not. */
  aq_fc_recv_on_update_lost(&fc, 1500);
  CHECK(!aq_fc_recv_should_update(&fc));
  aq_fc_recv_on_update_lost(&fc, 1600);
  CHECK(aq_fc_recv_should_update(&fc));
  CHECK_INT(aq_fc_recv_next_limit(&fc), 1600);
  aq_fc_recv_on_update_sent(&fc, 1600, 13 * MS);
  CHECK(!aq_fc_recv_should_update(&fc));
}

AQ_TEST(fc_recv_autotune_table) {
  /* window 1000, cap 3000, srtt 100 ms: the first half window is consumed
   * `elapsed` after the limit was set. */
  static const struct {
    unsigned elapsed_ms;
    uint64_t want_window, want_limit;
  } t[] = {
      {50, 2000, 2500},  /* fast: doubles */
      {199, 2000, 2500}, /* < 2 RTT: doubles */
      {200, 1000, 1500}, /* 2 RTT: keeps */
      {1000, 1000, 1500},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    aq_fc_recv fc;
    aq_fc_recv_init(&fc, 1000, 3000, 0);
    aq_fc_recv_on_consumed(&fc, 500, 100 * MS, t[i].elapsed_ms * MS);
    CHECK_INT(fc.window, t[i].want_window);
    CHECK_INT(aq_fc_recv_next_limit(&fc), t[i].want_limit);
  }
  /* Repeated fast consumption grows to the cap and no further. */
  aq_fc_recv fc;
  aq_fc_recv_init(&fc, 1000, 3000, 0);
  aq_tstamp ts = 0;
  for (int i = 0; i < 6; i++) {
    ts += 10 * MS;
    aq_fc_recv_on_consumed(&fc, fc.limit - fc.consumed, 100 * MS, ts);
    aq_fc_recv_on_update_sent(&fc, aq_fc_recv_next_limit(&fc), ts);
  }
  CHECK_INT(fc.window, 3000);
  CHECK_INT(fc.limit, fc.consumed + 3000);
}

AQ_TEST(fc_recv_connection_sum) {
  aq_fc_recv fc;
  aq_fc_recv_init(&fc, 100, 100, 0);
  CHECK_INT(aq_fc_recv_add(&fc, 60), 0);
  CHECK_INT(aq_fc_recv_add(&fc, 41), AQ_ERR_FLOW_CONTROL);
  CHECK_INT(fc.highest, 60);
  CHECK_INT(aq_fc_recv_add(&fc, 40), 0);
  CHECK_INT(aq_fc_recv_add(&fc, 1), AQ_ERR_FLOW_CONTROL);
  CHECK_INT(aq_fc_recv_add(&fc, UINT64_MAX), AQ_ERR_FLOW_CONTROL);
}

AQ_TEST(fc_send_credit_and_blocked) {
  aq_fc_send fc;
  aq_fc_send_init(&fc, 100);
  CHECK_INT(aq_fc_send_avail(&fc), 100);
  CHECK_INT(aq_fc_send_consume(&fc, 60), 0);
  CHECK(!aq_fc_send_blocked_needed(&fc, 1));
  CHECK_INT(aq_fc_send_consume(&fc, 41), AQ_ERR_LIMIT);
  CHECK_INT(aq_fc_send_consume(&fc, 40), 0);
  CHECK(!aq_fc_send_blocked_needed(&fc, 0)); /* nothing waiting */
  CHECK(aq_fc_send_blocked_needed(&fc, 1));
  aq_fc_send_on_blocked_sent(&fc);
  CHECK(!aq_fc_send_blocked_needed(&fc, 1)); /* once per limit */
  aq_fc_send_on_blocked_lost(&fc, 100);
  CHECK(aq_fc_send_blocked_needed(&fc, 1));
  aq_fc_send_on_blocked_sent(&fc);
  CHECK_INT(aq_fc_send_on_max(&fc, 90), 0); /* smaller: ignored */
  CHECK_INT(fc.limit, 100);
  CHECK_INT(aq_fc_send_on_max(&fc, 100), 0);
  CHECK_INT(aq_fc_send_on_max(&fc, 150), 1); /* unblocked */
  CHECK_INT(aq_fc_send_avail(&fc), 50);
  CHECK_INT(aq_fc_send_on_max(&fc, 160), 0); /* was not blocked */
  aq_fc_send_on_blocked_lost(&fc, 100);      /* stale: ignored */
  CHECK_INT(aq_fc_send_consume(&fc, 60), 0);
  CHECK(aq_fc_send_blocked_needed(&fc, 1)); /* blocked at a new limit */
}
