/* test_rtt.c - RFC 9002 §5 RTT estimator with concrete numbers. */
#include "aq_test.h"
#include "quic/aq_rtt.h"

#define MS AQ_MILLISECONDS

AQ_TEST(rtt_initial_values) {
  aq_rtt r;
  aq_rtt_init(&r, 0);
  CHECK_INT(r.smoothed, 333 * MS);
  CHECK_INT(r.var, 333 * MS / 2);
  CHECK(!r.has_sample);
  /* PTO base before any sample = 333 + 4*166.5 = 999 ms. */
  CHECK_INT(aq_rtt_pto_base(&r), 999 * MS);
}

AQ_TEST(rtt_first_sample) {
  aq_rtt r;
  aq_rtt_init(&r, 0);
  /* The first sample ignores ack_delay entirely. */
  aq_rtt_update(&r, 100 * MS, 20 * MS, 0, 25 * MS, 5000);
  CHECK_INT(r.latest, 100 * MS);
  CHECK_INT(r.min, 100 * MS);
  CHECK_INT(r.smoothed, 100 * MS);
  CHECK_INT(r.var, 50 * MS);
  CHECK_INT(r.first_sample_ts, 5000);
  CHECK_INT(aq_rtt_pto_base(&r), 300 * MS);
  CHECK_INT(aq_rtt_loss_delay(&r), 112500 * AQ_MICROSECONDS);
}

/* Table: (latest, ack_delay, confirmed, max_ack_delay) after a 100 ms first sample. */
AQ_TEST(rtt_second_sample_table) {
  static const struct {
    unsigned latest_ms, delay_ms, confirmed, max_delay_ms;
    unsigned long long smoothed_us, var_us;
  } t[] = {
      /* no delay: adjusted 120; var = (3*50 + 20)/4 = 42.5; srtt = (700+120)/8 = 102.5 */
      {120, 0, 0, 25, 102500, 42500},
      /* delay 10 subtracted: adjusted 110; var = (150+10)/4 = 40; srtt = 101.25 */
      {120, 10, 0, 25, 101250, 40000},
      /* before confirmation the delay is not clamped: adjusted 150-40 = 110 */
      {150, 40, 0, 25, 101250, 40000},
      /* after confirmation clamp 40 -> 25: adjusted 125; var=(150+25)/4; srtt=103.125 */
      {150, 40, 1, 25, 103125, 43750},
      /* 120-40 would fall below min_rtt (100): the delay is not subtracted */
      {120, 40, 0, 25, 102500, 42500},
      /* delay would push below min_rtt (100): 105-10 < 100 -> not subtracted */
      {105, 10, 1, 25, 100625, 38750},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    aq_rtt r;
    aq_rtt_init(&r, 0);
    aq_rtt_update(&r, 100 * MS, 0, 0, 25 * MS, 0);
    aq_rtt_update(&r, t[i].latest_ms * MS, t[i].delay_ms * MS, (int)t[i].confirmed,
                  t[i].max_delay_ms * MS, 1);
    CHECK_INT(r.smoothed, t[i].smoothed_us * AQ_MICROSECONDS);
    CHECK_INT(r.var, t[i].var_us * AQ_MICROSECONDS);
    CHECK_INT(r.min, 100 * MS);
  }
}

AQ_TEST(rtt_min_and_persistent_congestion) {
  aq_rtt r;
  aq_rtt_init(&r, 0);
  aq_rtt_update(&r, 100 * MS, 0, 1, 25 * MS, 0);
  aq_rtt_update(&r, 60 * MS, 0, 1, 25 * MS, 1);
  CHECK_INT(r.min, 60 * MS);
  aq_rtt_update(&r, 80 * MS, 0, 1, 25 * MS, 2);
  CHECK_INT(r.min, 60 * MS);
  aq_rtt_on_persistent_congestion(&r);
  aq_rtt_update(&r, 90 * MS, 0, 1, 25 * MS, 3);
  CHECK_INT(r.min, 90 * MS);
  /* Granularity floor for tiny RTTs. */
  aq_rtt t;
  aq_rtt_init(&t, 0);
  aq_rtt_update(&t, 100 * AQ_MICROSECONDS, 0, 0, 0, 0);
  CHECK_INT(aq_rtt_pto_base(&t), 100 * AQ_MICROSECONDS + AQ_GRANULARITY);
  CHECK_INT(aq_rtt_loss_delay(&t), AQ_GRANULARITY);
}
