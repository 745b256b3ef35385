/*
 * aq_conn_ku.c - 1-RTT key updates (RFC 9001 §6) and AEAD usage limits
 * (§6.6).
 *
 * Three sets of read keys, chosen per packet as §6.5 describes: the
 * current keys (conn->sp[APP].rx, for the Key Phase bit conn->key_phase),
 * the previous keys (kept up to three PTOs after the first packet opened
 * with the current ones, so packets reordered across an update still
 * open), and the next keys (derived in advance, so a peer's update costs no
 * key derivation on the packet that carries it).  A packet with the other
 * Key Phase bit whose number is below every packet opened with the current
 * keys uses the previous keys; any other uses the next keys, and opening
 * it is the peer's update: we rotate both directions.
 *
 * Permissions (§6.1, §6.2): we initiate only once the handshake is
 * confirmed and a packet sent with the current write keys has been
 * acknowledged; a peer may update only after we sent, with the current
 * keys, an ACK covering a packet it protected with them, else
 * KEY_UPDATE_ERROR.  Only the AEAD key and IV change; header protection
 * keeps the first 1-RTT key.
 *
 * Limits (§6.6): AES-GCM protects at most 2^23 packets per key: we update
 * at 3/4 of that and close with AEAD_LIMIT_REACHED if the limit is reached
 * without an update being allowed; ChaCha20-Poly1305's limit is beyond any
 * packet count.  Packets failing authentication are counted over the whole
 * connection (2^52 AES-GCM, 2^36 ChaCha20) and close it at the limit.
 *
 * Timers: none of their own.  The previous read keys are discarded on the
 * first packet received (or update) after their three-PTO deadline.
 */
#include <string.h>

#include "aq_conn_int.h"
#include "aq_ct.h"
#include "aq_qerr.h"
#include "aq_qlog.h"

/** Gen g (0 = first 1-RTT keys) as the slot of the per-generation counters. */
static size_t gen_slot(uint64_t gen) {
  return gen < AQ_KU_GEN_TRACK ? (size_t)gen : AQ_KU_GEN_TRACK - 1;
}

/** Key an AEAD from the next-generation secret of secret; next_secret receives it if non-NULL. */
static int derive_aead(const aq_conn *conn, const uint8_t *secret, aq_aead *a,
                       uint8_t iv[AQ_AEAD_NONCE_LEN], uint8_t *next_secret) {
  uint8_t ns[AQ_HASH_MAX_LEN], key[AQ_AEAD_MAX_KEY_LEN], hp[AQ_AEAD_MAX_KEY_LEN];
  size_t sl = conn->app_secret_len;
  const aq_crypto_algs *algs = conn->set.crypto_algs;
  int rc = aq_quic_next_secret_a(algs, ns, conn->app_hash, secret, sl, conn->version);
  if (rc == 0) {
    rc = aq_quic_derive_keys_a(algs, key, iv, hp, conn->app_hash, conn->app_aead, ns, sl,
                               conn->version);
  }
  if (rc == 0) {
    rc = aq_aead_init_a(a, algs, conn->app_aead, key);
  }
  if (rc == 0 && next_secret != NULL) {
    memcpy(next_secret, ns, sl);
  }
  aq_memzero(ns, sizeof(ns));
  aq_memzero(key, sizeof(key));
  aq_memzero(hp, sizeof(hp));
  return rc;
}

/** Make sure the next read keys exist (§6.3: generated ahead of need). */
static int ensure_next(aq_conn *conn) {
  aq_conn_ku *ku = &conn->ku;
  if (ku->has_next) {
    return 0;
  }
  int rc = derive_aead(conn, conn->app_secret[0], &ku->next_aead, ku->next_iv, NULL);
  ku->has_next = rc == 0;
  return rc;
}

static void drop_prev(aq_conn_ku *ku) {
  if (ku->has_prev) {
    aq_aead_free(&ku->prev_aead);
    aq_memzero(ku->prev_iv, sizeof(ku->prev_iv));
    ku->has_prev = 0;
    ku->prev_discard = 0;
  }
}

static aq_duration three_pto(const aq_conn *conn) {
  return 3 * aq_recov_pto_duration(&conn->recov, AQ_PN_SPACE_APP);
}

int aq_ku_rotate(aq_conn *conn, int local, aq_tstamp ts) {
  (void)ts;
  aq_conn_ku *ku = &conn->ku;
  aq_pnspace *s = &conn->sp[AQ_PN_SPACE_APP];
  if (conn->app_secret_len == 0 || !s->has_rx || !s->has_tx) {
    return AQ_ERR_STATE;
  }
  uint8_t next_rx[AQ_HASH_MAX_LEN], next_tx[AQ_HASH_MAX_LEN];
  size_t sl = conn->app_secret_len;
  int rc = ensure_next(conn);
  if (rc == 0) {
    rc = aq_quic_next_secret_a(conn->set.crypto_algs, next_rx, conn->app_hash, conn->app_secret[0],
                               sl, conn->version);
  }
  if (rc == 0) {
    rc = aq_quic_next_secret_a(conn->set.crypto_algs, next_tx, conn->app_hash, conn->app_secret[1],
                               sl, conn->version);
  }
  /* §6.1: the write side moves to the next secret (aq_pprot_rekey keeps HP). */
  if (rc == 0) {
    rc = aq_pprot_rekey(&s->tx, conn->app_hash, next_tx, sl, conn->version);
  }
  if (rc == 0) {
    /* Commit: current read keys become the previous ones, next become current. */
    drop_prev(ku);
    ku->prev_aead = s->rx.aead;
    memcpy(ku->prev_iv, s->rx.iv, AQ_AEAD_NONCE_LEN);
    ku->has_prev = 1;
    ku->prev_discard = 0; /* armed by the first packet opened with the new keys */
    s->rx.aead = ku->next_aead;
    memcpy(s->rx.iv, ku->next_iv, AQ_AEAD_NONCE_LEN);
    memset(&ku->next_aead, 0, sizeof(ku->next_aead));
    aq_memzero(ku->next_iv, sizeof(ku->next_iv));
    ku->has_next = 0;
    memcpy(conn->app_secret[0], next_rx, sl);
    memcpy(conn->app_secret[1], next_tx, sl);
    conn->key_phase ^= 1u;
    conn->key_updates++;
    conn->stats.key_updates++;
    conn->app_pkts_sealed = 0;
    ku->rx_lowest_p1 = 0;
    ku->tx_first_p1 = 0;
    ku->peer_may_update = 0;
    ku->local = local;
    if (local) {
      ku->initiated++;
      /* An ack-eliciting packet in the new phase, so its acknowledgment (which
       * allows the next update) comes back even when we only send ACKs, as a
       * downloading client does. */
      s->ping_pending = 1;
    }
    const char *trig = local ? "local_update" : "remote_update";
    aq_qlog_key(conn, conn->is_server ? "server_1rtt_secret" : "client_1rtt_secret",
                conn->key_updates, trig);
    aq_qlog_key(conn, conn->is_server ? "client_1rtt_secret" : "server_1rtt_secret",
                conn->key_updates, trig);
    /* Failure here is not fatal: the next keys are derived again when needed. */
    (void)ensure_next(conn);
  }
  aq_memzero(next_rx, sizeof(next_rx));
  aq_memzero(next_tx, sizeof(next_tx));
  return rc;
}

/** §6.1: the handshake is confirmed and a packet of the current phase was acknowledged. */
static int may_initiate(const aq_conn *conn) {
  const aq_conn_ku *ku = &conn->ku;
  const aq_rtb *rtb = &conn->recov.sp[AQ_PN_SPACE_APP];
  const aq_pnspace *s = &conn->sp[AQ_PN_SPACE_APP];
  return conn->handshake_confirmed && conn->app_secret_len != 0 && s->has_rx && s->has_tx &&
         ku->tx_first_p1 != 0 && rtb->has_largest_acked &&
         rtb->largest_acked >= ku->tx_first_p1 - 1;
}

int aq_conn_initiate_key_update(aq_conn *conn, aq_tstamp ts) {
  if (conn->err != 0) {
    return conn->err;
  }
  if (conn->state >= AQ_CS_CLOSING) {
    return AQ_ERR_CLOSED;
  }
  if (conn->state != AQ_CS_ESTABLISHED || !may_initiate(conn)) {
    return AQ_ERR_STATE;
  }
  int rc = aq_ku_rotate(conn, 1, ts);
  if (aq_err_is_fatal(rc)) {
    aq_conn_set_fatal(conn, rc);
  }
  return rc == 0 ? 0 : AQ_ERR_CRYPTO;
}

/** A packet opened with the current read keys. */
static void on_current_rx(aq_conn *conn, uint64_t pn, aq_tstamp ts) {
  aq_conn_ku *ku = &conn->ku;
  if (ku->rx_lowest_p1 == 0 || pn < ku->rx_lowest_p1 - 1) {
    ku->rx_lowest_p1 = pn + 1;
  }
  /* §6.5: keep old read keys at most three PTOs after the new ones worked. */
  if (ku->has_prev && ku->prev_discard == 0) {
    ku->prev_discard = ts + three_pto(conn);
  }
  ku->gen_rx[gen_slot(conn->key_updates)]++;
}

/**
 * Open a 1-RTT payload with an AEAD other than the current one (header
 * protection is shared).  The view's AEAD goes back to a: its opening
 * context may have been made by this first use.
 */
static aq_ssize open_with(aq_conn *conn, aq_aead *a, const uint8_t *iv, uint8_t *p, size_t pktlen,
                          size_t hdrlen, uint64_t pn) {
  aq_pprot view = conn->sp[AQ_PN_SPACE_APP].rx;
  view.aead = *a;
  memcpy(view.iv, iv, AQ_AEAD_NONCE_LEN);
  aq_ssize n = aq_pprot_open(&view, p, pktlen, hdrlen, pn);
  *a = view.aead;
  aq_memzero(&view.aead, sizeof(view.aead));
  aq_memzero(view.iv, sizeof(view.iv));
  return n;
}

aq_ssize aq_ku_open(aq_conn *conn, uint8_t *p, size_t pktlen, size_t hdrlen, uint64_t pn,
                    unsigned phase, aq_tstamp ts) {
  aq_conn_ku *ku = &conn->ku;
  aq_pnspace *s = &conn->sp[AQ_PN_SPACE_APP];
  if (ku->has_prev && ku->prev_discard != 0 && ts >= ku->prev_discard) {
    drop_prev(ku);
  }
  if (phase == conn->key_phase) {
    aq_ssize n = aq_pprot_open(&s->rx, p, pktlen, hdrlen, pn);
    if (n >= 0) {
      on_current_rx(conn, pn, ts);
    }
    return n;
  }
  /* §6.5: "A recovered packet number that is lower than any packet number
   * from the current key phase uses the previous packet protection keys". */
  int older = ku->rx_lowest_p1 != 0 ? pn < ku->rx_lowest_p1 - 1 : ku->has_prev;
  if (older) {
    if (!ku->has_prev) {
      /* Too late: the old keys are gone.  §6.3: spend the same effort as a
       * real attempt (with keys the packet cannot be for) so that timing
       * does not tell which keys were tried. */
      if (ku->has_next) {
        (void)open_with(conn, &ku->next_aead, ku->next_iv, p, pktlen, hdrlen, pn);
      }
      return AQ_ERR_DECRYPT;
    }
    aq_ssize n = open_with(conn, &ku->prev_aead, ku->prev_iv, p, pktlen, hdrlen, pn);
    if (n >= 0) {
      ku->rx_prev++;
      ku->gen_rx[gen_slot(conn->key_updates - 1)]++;
    }
    return n;
  }
  /* §6: no key update before the handshake is confirmed. */
  if (!conn->handshake_confirmed || conn->app_secret_len == 0 || !s->has_tx) {
    return AQ_ERR_DECRYPT;
  }
  int rc = ensure_next(conn);
  if (rc != 0) {
    return aq_err_is_fatal(rc) ? rc : AQ_ERR_DECRYPT;
  }
  aq_ssize n = open_with(conn, &ku->next_aead, ku->next_iv, p, pktlen, hdrlen, pn);
  if (n < 0) {
    return n;
  }
  /* §6.2: "If an endpoint detects a second update before it has sent any
   * packets with updated keys containing an acknowledgment for the packet
   * that initiated the key update, it indicates that its peer has updated
   * keys twice without awaiting confirmation.  An endpoint MAY treat such
   * consecutive key updates as a connection error of type KEY_UPDATE_ERROR." */
  if (!ku->peer_may_update) {
    aq_conn_fail(conn, AQ_QERR_KEY_UPDATE_ERROR, 0, "key update before confirmation", ts);
    return AQ_ERR_DECRYPT;
  }
  rc = aq_ku_rotate(conn, 0, ts);
  if (rc != 0) {
    return aq_err_is_fatal(rc) ? rc : AQ_ERR_INTERNAL;
  }
  on_current_rx(conn, pn, ts);
  return n;
}

/** The confidentiality limit of the 1-RTT AEAD in packets; 0 = none (§6.6). */
static uint64_t conf_limit(const aq_conn *conn) {
  if (conn->ku.conf_limit != 0) {
    return conn->ku.conf_limit;
  }
  return conn->app_aead == AQ_AEAD_CHACHA20_POLY1305 ? 0 : (1ULL << 23);
}

void aq_ku_on_sealed(aq_conn *conn, uint64_t pn, const aq_sent_meta *m, aq_tstamp ts) {
  aq_conn_ku *ku = &conn->ku;
  if (ku->tx_first_p1 == 0) {
    ku->tx_first_p1 = pn + 1;
  }
  conn->app_pkts_sealed++;
  ku->gen_tx[gen_slot(conn->key_updates)]++;
  /* Our ACK of a packet of the current phase lets the peer update again (§6.2). */
  if (m != NULL && (m->flags & AQ_SM_ACK) && ku->rx_lowest_p1 != 0 &&
      m->ack_largest >= ku->rx_lowest_p1 - 1) {
    ku->peer_may_update = 1;
  }
  uint64_t limit = conf_limit(conn);
  if (limit == 0 || conn->state >= AQ_CS_CLOSING) {
    return;
  }
  /* §6.6: "Endpoints MUST initiate a key update before sending more protected
   * packets than the confidentiality limit for the selected AEAD permits." */
  if (conn->app_pkts_sealed >= limit - limit / 4 && may_initiate(conn)) {
    int rc = aq_ku_rotate(conn, 1, ts);
    if (aq_err_is_fatal(rc)) {
      aq_conn_set_fatal(conn, rc);
    }
    if (rc == 0) {
      ku->auto_updates++;
      return;
    }
  }
  /* "If a key update is not possible ..., the endpoint MUST stop using the
   * connection"; we close cleanly with AEAD_LIMIT_REACHED. */
  if (conn->app_pkts_sealed >= limit) {
    aq_conn_fail(conn, AQ_QERR_AEAD_LIMIT_REACHED, 0, "AEAD confidentiality limit", ts);
  }
}

void aq_ku_on_auth_fail(aq_conn *conn, aq_tstamp ts) {
  /* §6.6: the integrity limit counts failures over the connection's lifetime. */
  uint64_t limit = conn->ku.integrity_limit;
  if (limit == 0) {
    limit = conn->app_aead == AQ_AEAD_CHACHA20_POLY1305 ? (1ULL << 36) : (1ULL << 52);
  }
  if (++conn->aead_failures >= limit && conn->state < AQ_CS_CLOSING) {
    aq_conn_fail(conn, AQ_QERR_AEAD_LIMIT_REACHED, 0, "AEAD integrity limit", ts);
  }
}

void aq_ku_free(aq_conn *conn) {
  aq_conn_ku *ku = &conn->ku;
  drop_prev(ku);
  if (ku->has_next) {
    aq_aead_free(&ku->next_aead);
    aq_memzero(ku->next_iv, sizeof(ku->next_iv));
    ku->has_next = 0;
  }
}
