/* test_fc.c - receive flow control accounting and window auto-tuning (aq_fc.h). */
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
  aq_fc_recv_on_consumed(&fc, 499);
  CHECK(!aq_fc_recv_update_due(&fc));                             /* 501 left > half the window */
  CHECK_INT(aq_fc_recv_next_limit(&fc, 100 * MS, 10 * MS), 1000); /* a resend: current value */
  aq_fc_recv_on_consumed(&fc, 1);
  REQUIRE(aq_fc_recv_update_due(&fc));
  CHECK_INT(aq_fc_recv_next_limit(&fc, 100 * MS, 10 * MS), 1500);
  /* More consumption before sending moves the value along. */
  aq_fc_recv_on_consumed(&fc, 100);
  CHECK_INT(aq_fc_recv_next_limit(&fc, 100 * MS, 11 * MS), 1600);
  aq_fc_recv_on_update_sent(&fc, 1600, 12 * MS);
  CHECK(!aq_fc_recv_update_due(&fc));
  CHECK_INT(fc.limit, 1600);
  CHECK_INT(fc.window, 1000); /* the cap is the window: no tuning */
  CHECK_INT(fc.epoch_ts, 12 * MS);
  CHECK_INT(aq_fc_recv_on_data(&fc, 1600), 0);
  CHECK_INT(aq_fc_recv_on_data(&fc, 1601), AQ_ERR_FLOW_CONTROL);
  /* An older (lower) value sent again changes nothing. */
  aq_fc_recv_on_update_sent(&fc, 1500, 13 * MS);
  CHECK_INT(fc.limit, 1600);
  CHECK_INT(fc.epoch_ts, 12 * MS);
  /* A zero window never asks for an update. */
  aq_fc_recv_init(&fc, 0, 1000, 0);
  CHECK(!aq_fc_recv_update_due(&fc));
  CHECK_INT(aq_fc_recv_next_limit(&fc, 100 * MS, 1), 0);
}

AQ_TEST(fc_recv_autotune_table) {
  /* window 1000, cap 3000, srtt 100 ms: the update after the first half
   * window is written `elapsed` after the limit was set. */
  static const struct {
    unsigned elapsed_ms;
    aq_duration srtt;
    uint64_t want_window, want_limit;
  } t[] = {
      {50, 100 * MS, 2000, 2500},                       /* fast: doubles */
      {199, 100 * MS, 2000, 2500},                      /* < 2 RTT: doubles */
      {200, 100 * MS, 1000, 1500},                      /* 2 RTT: keeps */
      {1000, 100 * MS, 1000, 1500}, {0, 0, 1000, 1500}, /* no RTT estimate: keeps */
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    aq_fc_recv fc;
    aq_fc_recv_init(&fc, 1000, 3000, 0);
    aq_fc_recv_on_consumed(&fc, 500);
    aq_tstamp ts = t[i].elapsed_ms * MS;
    CHECK_INT(aq_fc_recv_next_window(&fc, t[i].srtt, ts), t[i].want_window);
    uint64_t v = aq_fc_recv_next_limit(&fc, t[i].srtt, ts);
    CHECK_INT(v, t[i].want_limit);
    CHECK_INT(fc.window, 1000); /* pure until sent */
    aq_fc_recv_on_update_sent(&fc, v, ts);
    CHECK_INT(fc.window, t[i].want_window);
  }
  /* Not due: no growth however fast. */
  aq_fc_recv fc;
  aq_fc_recv_init(&fc, 1000, 3000, 0);
  aq_fc_recv_on_consumed(&fc, 499);
  CHECK_INT(aq_fc_recv_next_window(&fc, 100 * MS, 1), 1000);
  /* Repeated fast consumption grows to the cap and no further. */
  aq_fc_recv_init(&fc, 1000, 3000, 0);
  aq_tstamp ts = 0;
  static const uint64_t want[] = {2000, 3000, 3000, 3000};
  for (int i = 0; i < 4; i++) {
    ts += 10 * MS;
    aq_fc_recv_on_consumed(&fc, fc.limit - fc.consumed);
    aq_fc_recv_on_update_sent(&fc, aq_fc_recv_next_limit(&fc, 100 * MS, ts), ts);
    CHECK_INT(fc.window, want[i]);
    CHECK_INT(fc.limit, fc.consumed + want[i]);
  }
  /* Advertising less than proposed (a buffer that could not grow) keeps that window. */
  aq_fc_recv_init(&fc, 1000, 8000, 0);
  aq_fc_recv_on_consumed(&fc, 600);
  CHECK_INT(aq_fc_recv_next_limit(&fc, 100 * MS, 5 * MS), 2600);
  aq_fc_recv_on_update_sent(&fc, 600 + 1500, 5 * MS);
  CHECK_INT(fc.window, 1500);
  CHECK_INT(fc.limit, 2100);
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
  CHECK_INT(fc.highest, 100);
}
