/*
 * fuzz_recov.c - loss recovery as a state machine: the input drives sends,
 * ACKs (well-formed or acknowledging unsent/skipped packet numbers), time
 * and timer expiry, packet number skips and space discards.  Checked: every
 * sent packet gets at most one fate (acked, lost or discarded) and only if
 * it was sent; an invalid ACK is rejected with AQ_ERR_PROTO without any
 * effect; bytes in flight always equal the model's; the window never falls
 * below the minimum.
 */
#include <stdlib.h>
#include <string.h>

#include "quic/aq_rtb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXPN 2048

typedef struct model {
  uint8_t state[AQ_PN_SPACE_COUNT][MAXPN]; /* 0 unsent/skipped, 1 outstanding, 2 done */
  uint32_t pkt_size[AQ_PN_SPACE_COUNT][MAXPN];
  uint8_t in_flight[AQ_PN_SPACE_COUNT][MAXPN];
  uint8_t skipped[AQ_PN_SPACE_COUNT][MAXPN];
  uint64_t bif[AQ_PN_SPACE_COUNT];
  int events;
} model;

static int on_pkt(void *ud, unsigned space, const aq_sent_pkt *p, aq_rtb_event ev) {
  model *m = ud;
  if (space >= AQ_PN_SPACE_COUNT || p->pn >= MAXPN || m->state[space][p->pn] != 1 ||
      p->token != p->pn * 3 + space || p->size != m->pkt_size[space][p->pn]) {
    abort();
  }
  (void)ev;
  m->state[space][p->pn] = 2;
  if (m->in_flight[space][p->pn]) {
    m->bif[space] -= p->size;
  }
  m->events++;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static model m;
  memset(&m, 0, sizeof m);
  aq_cc cc;
  aq_cc_init(&cc, size > 0 && (data[0] & 1) ? &aq_cc_cubic : &aq_cc_newreno, 1200);
  aq_recov r;
  size_t caps[AQ_PN_SPACE_COUNT] = {16, 16, 64};
  if (aq_recov_init(&r, aq_mem_default(), caps, size > 0 && (data[0] & 2), &cc, on_pkt, &m) != 0) {
    abort();
  }
  aq_tstamp ts = 1000;
  size_t i = 1;
  while (i + 4 <= size) {
    uint8_t op = data[i], a = data[i + 1], b = data[i + 2], c = data[i + 3];
    i += 4;
    unsigned space = (unsigned)(a % AQ_PN_SPACE_COUNT);
    uint64_t next = aq_recov_next_pn(&r, space);
    switch (op % 7) {
    case 0: { /* send */
      if (next >= MAXPN) {
        break;
      }
      unsigned flags = (b & 1 ? AQ_SENT_ACK_ELICITING : 0) | (b & 2 ? AQ_SENT_IN_FLIGHT : 0) |
                       (c & 1 ? AQ_SENT_ECT0 : 0);
      uint32_t sz = 50u + (uint32_t)c * 5u;
      ts += (aq_tstamp)(b >> 2) * AQ_MILLISECONDS;
      int rv = aq_recov_on_sent(&r, space, next, sz, flags, next * 3 + space, ts);
      if (rv == 0) {
        m.state[space][next] = 1;
        m.pkt_size[space][next] = sz;
        m.in_flight[space][next] = (flags & AQ_SENT_IN_FLIGHT) != 0;
        if (flags & AQ_SENT_IN_FLIGHT) {
          m.bif[space] += sz;
        }
      } else if (aq_recov_next_pn(&r, space) != next) {
        abort();
      }
      break;
    }
    case 1: { /* ACK with up to 3 ranges below next + a little */
      aq_range rg[3];
      size_t n = 1 + (size_t)(b % 3);
      uint64_t top = next + (c % 4 == 0 ? 1 : 0); /* sometimes acknowledge the unsent */
      uint64_t hi = top;
      int valid = 1;
      for (size_t k = 0; k < n; k++) {
        uint64_t gap = (uint64_t)((c >> (2 * k)) & 3);
        uint64_t len = 1 + (uint64_t)((b >> (2 + 2 * k)) & 3);
        if (hi < gap + len) {
          n = k;
          break;
        }
        rg[k].end = hi - gap;
        rg[k].start = rg[k].end - len;
        hi = rg[k].start;
        if (hi > 0) {
          hi--;
        }
      }
      if (n == 0) {
        break;
      }
      uint64_t largest = rg[0].end - 1;
      for (size_t k = 0; k < n; k++) {
        if (rg[k].start >= rg[k].end || rg[k].end > next) {
          valid = 0;
        }
        for (uint64_t p = rg[k].start; p < rg[k].end && p < MAXPN; p++) {
          if (m.skipped[space][p]) {
            valid = 0;
          }
        }
      }
      if (r.sp[space].discarded) {
        valid = 1; /* ignored */
      }
      aq_ack_in ack;
      memset(&ack, 0, sizeof ack);
      ack.largest = largest;
      ack.ranges = rg;
      ack.nranges = n;
      ack.ack_delay = (aq_duration)(op >> 3) * AQ_MILLISECONDS;
      ack.has_ecn = op & 0x80;
      ack.ce = (uint64_t)(a >> 4);
      ts += (aq_tstamp)(a & 0x0f) * AQ_MILLISECONDS;
      int before = m.events;
      int rv = aq_recov_on_ack(&r, space, &ack, ts);
      if (rv != (valid ? 0 : AQ_ERR_PROTO)) {
        abort();
      }
      if (rv != 0 && m.events != before) {
        abort();
      }
      break;
    }
    case 2: { /* time passes; run the timer */
      aq_tstamp exp = aq_recov_get_expiry(&r);
      if ((b & 1) && exp != AQ_TSTAMP_NEVER && exp > ts) {
        ts = exp;
      } else {
        ts += (aq_tstamp)c * AQ_MILLISECONDS;
      }
      /* Loss timers are handled one space per call: within three calls
       * the timer must move past ts, unless probes are asked for (sending
       * them moves it). */
      for (int k = 0;; k++) {
        aq_recov_action act;
        if (aq_recov_handle_expiry(&r, ts, &act) != 0 || act.probes > 2 ||
            act.probe_space >= AQ_PN_SPACE_COUNT) {
          abort();
        }
        exp = aq_recov_get_expiry(&r);
        if (act.probes > 0 || exp == AQ_TSTAMP_NEVER || exp > ts) {
          break;
        }
        if (k == 3) {
          abort(); /* the timer would spin the caller */
        }
      }
      break;
    }
    case 3: /* skip */
      if (next < MAXPN && !r.sp[space].discarded) {
        uint64_t s = aq_recov_skip_pn(&r, space);
        if (s != next) {
          abort();
        }
        m.skipped[space][s] = 1;
        /* only the newest AQ_MAX_SKIPPED_PNS are remembered */
        unsigned cnt = 0;
        for (uint64_t p = s + 1; p-- > 0;) {
          if (m.skipped[space][p] && ++cnt > AQ_MAX_SKIPPED_PNS) {
            m.skipped[space][p] = 0;
          }
        }
      }
      break;
    case 4: /* discard Initial or Handshake */
      if (space != AQ_PN_SPACE_APP) {
        if (aq_recov_discard_space(&r, space, ts) != 0) {
          abort();
        }
        for (uint64_t p = 0; p < MAXPN; p++) {
          if (m.state[space][p] == 1) {
            abort(); /* every outstanding packet got its DISCARDED event */
          }
        }
      }
      break;
    case 5: /* connection state */
      switch (b % 5) {
      case 0: aq_recov_set_handshake_confirmed(&r, ts); break;
      case 1: aq_recov_set_has_handshake_keys(&r, ts); break;
      case 2: aq_recov_set_peer_validated_addr(&r, ts); break;
      case 3: aq_recov_set_amplification_limited(&r, c & 1, ts); break;
      default: aq_recov_set_max_ack_delay(&r, (aq_duration)c * AQ_MILLISECONDS); break;
      }
      break;
    default: aq_cc_set_app_limited(&cc, b & 1); break;
    }
    uint64_t total = 0;
    for (unsigned s = 0; s < AQ_PN_SPACE_COUNT; s++) {
      if (r.sp[s].bytes_in_flight != m.bif[s]) {
        abort();
      }
      total += m.bif[s];
    }
    if (aq_recov_bytes_in_flight(&r) != total || aq_cc_cwnd(&cc) < aq_cc_min_window(1200)) {
      abort();
    }
  }
  aq_recov_free(&r);
  return 0;
}
