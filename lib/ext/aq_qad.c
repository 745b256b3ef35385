/* aq_qad.c - QUIC Address Discovery policy core (see aq_qad.h). */
#include "aq_qad.h"

#include <string.h>

#include "aq_tp.h"

int aq_qad_tp_valid(uint64_t v) {
  return v <= 2 ? 0 : AQ_ERR_VALUE_RANGE;
}

/** 1 if the TP value says "willing to provide observations" (0 or 2). */
static int qad_provides(uint64_t v) {
  return v == 0 || v == 2;
}

/** 1 if the TP value says "interested in receiving observations" (1 or 2). */
static int qad_wants(uint64_t v) {
  return v == 1 || v == 2;
}

int aq_qad_may_send(uint64_t local, uint64_t peer) {
  return qad_provides(local) && qad_wants(peer);
}

int aq_qad_may_receive(uint64_t local, uint64_t peer) {
  return qad_wants(local) && qad_provides(peer);
}

int aq_qad_bucket_init(aq_qad_bucket *b, uint32_t rate, aq_tstamp ts) {
  memset(b, 0, sizeof(*b));
  if (rate < 1 || rate > AQ_QAD_MAX_RATE) return AQ_ERR_VALUE_RANGE;
  b->rate = rate;
  b->units = (uint64_t)rate * AQ_QAD_TOKEN_UNIT;
  b->last = ts;
  return 0;
}

/** Units in the bucket at ts (refilled, capped at the burst), without storing. */
static uint64_t qad_bucket_units_at(const aq_qad_bucket *b, aq_tstamp ts) {
  uint64_t cap = (uint64_t)b->rate * AQ_QAD_TOKEN_UNIT;
  if (ts <= b->last || b->units >= cap) return b->units < cap ? b->units : cap;
  uint64_t dt = ts - b->last;
  /* One second refills the whole burst; clamping dt keeps dt * rate in range. */
  if (dt > AQ_SECONDS) dt = AQ_SECONDS;
  uint64_t u = b->units + dt * b->rate;
  return u < cap ? u : cap;
}

int aq_qad_bucket_take(aq_qad_bucket *b, aq_tstamp ts) {
  if (b->rate == 0) return 0;
  b->units = qad_bucket_units_at(b, ts);
  if (ts > b->last) b->last = ts;
  if (b->units < AQ_QAD_TOKEN_UNIT) return 0;
  b->units -= AQ_QAD_TOKEN_UNIT;
  return 1;
}

aq_tstamp aq_qad_bucket_next(const aq_qad_bucket *b, aq_tstamp ts) {
  if (b->rate == 0) return AQ_TSTAMP_NEVER;
  uint64_t u = qad_bucket_units_at(b, ts);
  if (u >= AQ_QAD_TOKEN_UNIT) return ts;
  aq_tstamp base = ts > b->last ? ts : b->last;
  uint64_t missing = AQ_QAD_TOKEN_UNIT - u;
  uint64_t wait = (missing + b->rate - 1) / b->rate;
  return base > AQ_TSTAMP_NEVER - wait ? AQ_TSTAMP_NEVER : base + wait;
}

void aq_qad_rx_init(aq_qad_rx *rx) {
  memset(rx, 0, sizeof(*rx));
}

int aq_qad_rx_accept(aq_qad_rx *rx, uint64_t seq, const aq_addr *addr) {
  if (rx->have && seq <= rx->last_seq) return AQ_QAD_RX_STALE;
  int changed = !rx->have || !aq_addr_eq(&rx->addr, addr);
  rx->have = 1;
  rx->last_seq = seq;
  rx->addr = *addr;
  return changed ? AQ_QAD_RX_CHANGED : AQ_QAD_RX_SAME;
}

void aq_qad_config_default(aq_qad_config *cfg) {
  memset(cfg, 0, sizeof(*cfg));
  cfg->enabled = 1;
  cfg->max_rate = AQ_QAD_DEFAULT_RATE;
  cfg->observe_all_paths = 0;
  cfg->bootstrap = 0;
  cfg->mode = AQ_TP_AD_BOTH;
}

/** ASCII case-insensitive string equality (no locale). */
static int qad_ieq(const char *a, const char *b) {
  for (;; a++, b++) {
    char ca = *a, cb = *b;
    if (ca >= 'A' && ca <= 'Z') ca = (char)(ca - 'A' + 'a');
    if (cb >= 'A' && cb <= 'Z') cb = (char)(cb - 'A' + 'a');
    if (ca != cb) return 0;
    if (ca == '\0') return 1;
  }
}

/** Parse a boolean spelling: 1/0 into *out, or AQ_ERR_MALFORMED. */
static int qad_parse_bool(const char *s, int *out) {
  if (qad_ieq(s, "true") || qad_ieq(s, "1") || qad_ieq(s, "yes")) {
    *out = 1;
    return 0;
  }
  if (qad_ieq(s, "false") || qad_ieq(s, "0") || qad_ieq(s, "no")) {
    *out = 0;
    return 0;
  }
  return AQ_ERR_MALFORMED;
}

int aq_qad_config_from_env(aq_qad_config *cfg, aq_qad_getenv_fn get, void *ud, const char **why) {
  aq_qad_config c;
  const char *dummy;
  if (why == NULL) why = &dummy;
  *why = NULL;
  if (cfg == NULL || get == NULL) {
    *why = "missing argument";
    return AQ_ERR_INVALID_ARGUMENT;
  }
  aq_qad_config_default(&c);
  const char *s = get("ANT_QUIC_ADDRESS_DISCOVERY_ENABLED", ud);
  if (s != NULL && qad_parse_bool(s, &c.enabled) != 0) {
    *why = "ANT_QUIC_ADDRESS_DISCOVERY_ENABLED must be true/false/1/0/yes/no";
    return AQ_ERR_MALFORMED;
  }
  s = get("ANT_QUIC_MAX_OBSERVATION_RATE", ud);
  if (s != NULL) {
    uint32_t v = 0;
    size_t n = 0;
    if (s[0] == '\0') {
      *why = "ANT_QUIC_MAX_OBSERVATION_RATE is empty";
      return AQ_ERR_MALFORMED;
    }
    for (; s[n] != '\0'; n++) {
      if (s[n] < '0' || s[n] > '9') {
        *why = "ANT_QUIC_MAX_OBSERVATION_RATE must be a decimal integer";
        return AQ_ERR_MALFORMED;
      }
      v = v * 10u + (uint32_t)(s[n] - '0');
      if (v > AQ_QAD_MAX_RATE) {
        *why = "ANT_QUIC_MAX_OBSERVATION_RATE must be 1..63";
        return AQ_ERR_VALUE_RANGE;
      }
    }
    if (v < 1) {
      *why = "ANT_QUIC_MAX_OBSERVATION_RATE must be 1..63";
      return AQ_ERR_VALUE_RANGE;
    }
    c.max_rate = v;
  }
  *cfg = c;
  return 0;
}
