/* test_qad.c - QUIC Address Discovery policy core (draft-ietf-quic-address-discovery). */
#include <string.h>

#include "aq_qad.h"
#include "aq_test.h"
#include "aq_tp.h"

/* Draft §3: 0 = provide only, 1 = receive only, 2 = both. */
AQ_TEST(qad_mode_matrix) {
  /* expected[local][peer] for may_send / may_receive. */
  static const int send_exp[3][3] = {{0, 1, 1}, {0, 0, 0}, {0, 1, 1}};
  static const int recv_exp[3][3] = {{0, 0, 0}, {1, 0, 1}, {1, 0, 1}};
  for (uint64_t l = 0; l < 3; l++) {
    for (uint64_t p = 0; p < 3; p++) {
      CHECK_INT(aq_qad_may_send(l, p), send_exp[l][p]);
      CHECK_INT(aq_qad_may_receive(l, p), recv_exp[l][p]);
      /* Symmetry: we send iff the peer (in its own view) may receive. */
      CHECK_INT(aq_qad_may_send(l, p), aq_qad_may_receive(p, l));
    }
  }
  CHECK_INT(aq_qad_may_send(AQ_TP_AD_PROVIDE_ONLY, AQ_TP_AD_RECEIVE_ONLY), 1);
  CHECK_INT(aq_qad_may_receive(AQ_TP_AD_PROVIDE_ONLY, AQ_TP_AD_BOTH), 0);
  /* Invalid values never enable anything. */
  for (uint64_t v = 0; v < 3; v++) {
    CHECK_INT(aq_qad_may_send(v, 3), 0);
    CHECK_INT(aq_qad_may_send(3, v), 0);
    CHECK_INT(aq_qad_may_receive(v, UINT64_MAX), 0);
    CHECK_INT(aq_qad_may_receive(UINT64_MAX, v), 0);
  }
}

AQ_TEST(qad_tp_valid) {
  CHECK_INT(aq_qad_tp_valid(0), 0);
  CHECK_INT(aq_qad_tp_valid(1), 0);
  CHECK_INT(aq_qad_tp_valid(2), 0);
  CHECK_INT(aq_qad_tp_valid(3), AQ_ERR_VALUE_RANGE);
  CHECK_INT(aq_qad_tp_valid(63), AQ_ERR_VALUE_RANGE);
  CHECK_INT(aq_qad_tp_valid(UINT64_MAX), AQ_ERR_VALUE_RANGE);
}

/*
 * A storm of take attempts every 1 ms from `first` to `last` (inclusive),
 * with the bucket created full at t0.  Returns the number of tokens taken.
 */
static unsigned storm(uint32_t rate, unsigned first, unsigned last) {
  aq_qad_bucket b;
  aq_tstamp t0 = 5 * AQ_SECONDS;
  if (aq_qad_bucket_init(&b, rate, t0) != 0) return 0;
  unsigned got = 0;
  for (unsigned i = first; i <= last; i++) got += (unsigned)aq_qad_bucket_take(&b, t0 + i * AQ_MILLISECONDS);
  return got;
}

AQ_TEST(qad_bucket_storm) {
  /* Attempts covering [t0, t0 + 10 s] inclusive: burst + exactly 10 s of refill. */
  CHECK_INT(storm(10, 0, 10000), 10 + 100);
  CHECK_INT(storm(63, 0, 10000), 63 + 630);
  CHECK_INT(storm(1, 0, 10000), 1 + 10);
  /* Exactly 10000 attempts at t0+1ms .. t0+10s: the first 1 ms of refill is
     lost because the bucket is still full, so one token fewer (not more). */
  CHECK_INT(storm(10, 1, 10000), 10 + 100 - 1);
  CHECK_INT(storm(63, 1, 10000), 63 + 630 - 1);
  /* 10000 attempts at t0 .. t0+9.999 s: 99.99 tokens of refill -> 99. */
  CHECK_INT(storm(10, 0, 9999), 10 + 99);
}

AQ_TEST(qad_bucket_burst_then_steady) {
  aq_qad_bucket b;
  aq_tstamp t = 1000;
  REQUIRE(aq_qad_bucket_init(&b, 10, t) == 0);
  for (int i = 0; i < 10; i++) CHECK_INT(aq_qad_bucket_take(&b, t), 1);
  CHECK_INT(aq_qad_bucket_take(&b, t), 0);
  /* Next token exactly 100 ms later. */
  CHECK(aq_qad_bucket_next(&b, t) == t + 100 * AQ_MILLISECONDS);
  CHECK_INT(aq_qad_bucket_take(&b, t + 100 * AQ_MILLISECONDS - 1), 0);
  CHECK_INT(aq_qad_bucket_take(&b, t + 100 * AQ_MILLISECONDS), 1);
  CHECK_INT(aq_qad_bucket_take(&b, t + 100 * AQ_MILLISECONDS), 0);
  /* A long idle refills only to the burst, not beyond. */
  t += 3600 * AQ_SECONDS;
  CHECK(aq_qad_bucket_next(&b, t) == t);
  int n = 0;
  while (aq_qad_bucket_take(&b, t)) n++;
  CHECK_INT(n, 10);
  /* A partly drained bucket refills only up to the burst too. */
  CHECK_INT(aq_qad_bucket_take(&b, t + 5 * AQ_SECONDS), 1);
  t += 6 * AQ_SECONDS;
  n = 0;
  while (aq_qad_bucket_take(&b, t)) n++;
  CHECK_INT(n, 10);
  /* Time going backwards adds nothing. */
  CHECK_INT(aq_qad_bucket_take(&b, t - AQ_SECONDS), 0);
}

AQ_TEST(qad_bucket_fractional_refill) {
  aq_qad_bucket b;
  REQUIRE(aq_qad_bucket_init(&b, 3, 0) == 0);
  for (int i = 0; i < 3; i++) CHECK_INT(aq_qad_bucket_take(&b, 0), 1);
  /* 1/3 s = 333333333.33 ns: three partial refills of 111111111 ns add
     999999999 units, one short of a token; ceil rounding in next(). */
  aq_tstamp t = 0;
  for (int i = 0; i < 3; i++) {
    t += 111111111;
    CHECK_INT(aq_qad_bucket_take(&b, t), 0);
  }
  CHECK(aq_qad_bucket_next(&b, t) == t + 1); /* 1 unit missing, ceil(1/3) = 1 ns */
  CHECK_INT(aq_qad_bucket_take(&b, t + 1), 1);
  /* With rate 7, next() from empty is ceil(1e9/7) = 142857143 ns. */
  REQUIRE(aq_qad_bucket_init(&b, 7, 0) == 0);
  while (aq_qad_bucket_take(&b, 0)) {
  }
  CHECK(aq_qad_bucket_next(&b, 0) == 142857143u);
  CHECK_INT(aq_qad_bucket_take(&b, 142857142u), 0);
  CHECK_INT(aq_qad_bucket_take(&b, 142857143u), 1);
  /* 1000 steps of 1 ms at rate 7 yield exactly 7 tokens. */
  REQUIRE(aq_qad_bucket_init(&b, 7, 0) == 0);
  while (aq_qad_bucket_take(&b, 0)) {
  }
  int n = 0;
  for (unsigned i = 1; i <= 1000; i++) n += aq_qad_bucket_take(&b, i * AQ_MILLISECONDS);
  CHECK_INT(n, 7);
}

AQ_TEST(qad_bucket_bad_rate) {
  aq_qad_bucket b;
  CHECK_INT(aq_qad_bucket_init(&b, 0, 0), AQ_ERR_VALUE_RANGE);
  CHECK_INT(aq_qad_bucket_take(&b, AQ_SECONDS), 0);
  CHECK(aq_qad_bucket_next(&b, 0) == AQ_TSTAMP_NEVER);
  CHECK_INT(aq_qad_bucket_init(&b, 64, 0), AQ_ERR_VALUE_RANGE);
  CHECK_INT(aq_qad_bucket_take(&b, AQ_SECONDS), 0);
  CHECK_INT(aq_qad_bucket_init(&b, 63, 0), 0);
  CHECK_INT(aq_qad_bucket_init(&b, 1, 0), 0);
}

AQ_TEST(qad_rx_sequence_filter) {
  static const uint8_t ip1[4] = {192, 0, 2, 1}, ip2[4] = {198, 51, 100, 7};
  aq_addr a1 = aq_addr_ipv4(ip1, 4433), a1p = aq_addr_ipv4(ip1, 4434), a2 = aq_addr_ipv4(ip2, 4433);
  aq_qad_rx rx, other;
  aq_qad_rx_init(&rx);
  aq_qad_rx_init(&other);
  CHECK_INT(aq_qad_rx_accept(&rx, 5, &a1), AQ_QAD_RX_CHANGED); /* first observation */
  CHECK_INT(aq_qad_rx_accept(&rx, 5, &a2), AQ_QAD_RX_STALE);   /* equal seq */
  CHECK_INT(aq_qad_rx_accept(&rx, 3, &a2), AQ_QAD_RX_STALE);   /* older seq */
  CHECK(aq_addr_eq(&rx.addr, &a1));
  CHECK_INT(aq_qad_rx_accept(&rx, 6, &a1), AQ_QAD_RX_SAME);
  CHECK_INT(aq_qad_rx_accept(&rx, 9, &a1p), AQ_QAD_RX_CHANGED); /* port change only */
  CHECK_INT(aq_qad_rx_accept(&rx, 8, &a1), AQ_QAD_RX_STALE);    /* reordered old frame */
  CHECK_INT(aq_qad_rx_accept(&rx, 10, &a2), AQ_QAD_RX_CHANGED);
  CHECK_INT(aq_qad_rx_accept(&rx, UINT64_MAX, &a2), AQ_QAD_RX_SAME);
  CHECK_INT(aq_qad_rx_accept(&rx, UINT64_MAX, &a1), AQ_QAD_RX_STALE);
  CHECK(rx.last_seq == UINT64_MAX);
  /* Per path: another path starts fresh, and seq 0 is accepted first. */
  CHECK_INT(aq_qad_rx_accept(&other, 0, &a2), AQ_QAD_RX_CHANGED);
  CHECK_INT(aq_qad_rx_accept(&other, 0, &a2), AQ_QAD_RX_STALE);
  CHECK_INT(aq_qad_rx_accept(&other, 1, &a2), AQ_QAD_RX_SAME);
}

/* A tiny fake environment: pairs of name, value. */
typedef struct {
  const char *enabled;
  const char *rate;
  int calls;
} fake_env;

static const char *fake_get(const char *name, void *ud) {
  fake_env *e = ud;
  e->calls++;
  if (strcmp(name, "ANT_QUIC_ADDRESS_DISCOVERY_ENABLED") == 0) return e->enabled;
  if (strcmp(name, "ANT_QUIC_MAX_OBSERVATION_RATE") == 0) return e->rate;
  return NULL;
}

AQ_TEST(qad_env_valid) {
  aq_qad_config c;
  const char *why = "x";
  fake_env e = {NULL, NULL, 0};
  memset(&c, 0xff, sizeof(c));
  CHECK_INT(aq_qad_config_from_env(&c, fake_get, &e, &why), 0);
  CHECK_INT(c.enabled, 1);
  CHECK_INT(c.max_rate, 10);
  CHECK(why == NULL);
  CHECK_INT(e.calls, 2);
  static const struct {
    const char *s;
    int v;
  } bools[] = {{"true", 1}, {"TRUE", 1}, {"True", 1}, {"1", 1}, {"yes", 1}, {"YeS", 1},
               {"false", 0}, {"FALSE", 0}, {"0", 0}, {"no", 0}, {"No", 0}, {"fAlSe", 0}};
  for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
    e.enabled = bools[i].s;
    e.rate = NULL;
    c.enabled = -1;
    CHECK_INT(aq_qad_config_from_env(&c, fake_get, &e, &why), 0);
    CHECK_INT(c.enabled, bools[i].v);
  }
  static const struct {
    const char *s;
    unsigned v;
  } rates[] = {{"1", 1}, {"10", 10}, {"63", 63}, {"007", 7}, {"32", 32}};
  for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
    e.enabled = "no";
    e.rate = rates[i].s;
    CHECK_INT(aq_qad_config_from_env(&c, fake_get, &e, NULL), 0);
    CHECK_INT(c.max_rate, rates[i].v);
    CHECK_INT(c.enabled, 0);
  }
}

AQ_TEST(qad_env_invalid) {
  static const char *bad_bools[] = {"", "2", "on", "off", "tru", "truee", "yes ", " no", "-1", "y"};
  static const struct {
    const char *s;
    int err;
  } bad_rates[] = {{"", AQ_ERR_MALFORMED},          {"0", AQ_ERR_VALUE_RANGE},
                   {"64", AQ_ERR_VALUE_RANGE},       {"100", AQ_ERR_VALUE_RANGE},
                   {"-5", AQ_ERR_MALFORMED},         {"+5", AQ_ERR_MALFORMED},
                   {"10 ", AQ_ERR_MALFORMED},        {"1e1", AQ_ERR_MALFORMED},
                   {"0x10", AQ_ERR_MALFORMED},       {"99999999999999999999", AQ_ERR_VALUE_RANGE},
                   {"000", AQ_ERR_VALUE_RANGE}};
  aq_qad_config c, orig;
  fake_env e = {NULL, NULL, 0};
  orig.enabled = 7;
  orig.max_rate = 99;
  for (size_t i = 0; i < sizeof(bad_bools) / sizeof(bad_bools[0]); i++) {
    const char *why = NULL;
    e.enabled = bad_bools[i];
    e.rate = NULL;
    c = orig;
    CHECK_INT(aq_qad_config_from_env(&c, fake_get, &e, &why), AQ_ERR_MALFORMED);
    CHECK(why != NULL && strstr(why, "ENABLED") != NULL);
    CHECK(memcmp(&c, &orig, sizeof(c)) == 0); /* untouched on error */
  }
  for (size_t i = 0; i < sizeof(bad_rates) / sizeof(bad_rates[0]); i++) {
    const char *why = NULL;
    e.enabled = "yes";
    e.rate = bad_rates[i].s;
    c = orig;
    CHECK_INT(aq_qad_config_from_env(&c, fake_get, &e, &why), bad_rates[i].err);
    CHECK(why != NULL && strstr(why, "RATE") != NULL);
    CHECK(memcmp(&c, &orig, sizeof(c)) == 0);
  }
  CHECK_INT(aq_qad_config_from_env(&c, NULL, &e, NULL), AQ_ERR_INVALID_ARGUMENT);
}
