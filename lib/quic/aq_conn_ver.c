/*
 * aq_conn_ver.c - QUIC version 2 (RFC 9369) and compatible version
 * negotiation (RFC 9368) for a connection.
 *
 * A client starts in settings.initial_version (v1 by default) and, with
 * enable_v2, lists both versions in version_information.  A server with
 * enable_v2 that sees v2 in the client's Available Versions switches to v2
 * when it installs its handshake keys, i.e. after reading the client's
 * transport parameters and before sending any CRYPTO data (RFC 9369 §4.1):
 * its Initial keys become the v2 ones, while the client's original-version
 * Initials still open with the v1 read keys kept in ver.alt_rx until the
 * Initial space is discarded.  Our version_information is re-encoded in
 * place (same length) before TLS writes EncryptedExtensions.  A client
 * learns the negotiated version from the first server Initial in another
 * version that authenticates under that version's keys (derived ahead in
 * ver.alt_rx), unless the server already sent CRYPTO in the original
 * version (then the handshake keys exist and the version is settled).
 */
#include <string.h>

#include "aq_conn_int.h"
#include "aq_qerr.h"
#include "crypto/aq_ct.h"

int aq_ver_allowed(const aq_settings *s, uint32_t v) {
  return v == AQ_PROTO_VER_V1 ||
         (v == AQ_PROTO_VER_V2 && (s->enable_v2 || s->initial_version == v));
}

size_t aq_ver_list(const aq_settings *s, uint32_t out[2]) {
  size_t n = 0;
  if (aq_ver_allowed(s, AQ_PROTO_VER_V2)) {
    out[n++] = AQ_PROTO_VER_V2; /* preferred */
  }
  out[n++] = AQ_PROTO_VER_V1;
  return n;
}

void aq_ver_init(aq_conn *conn) {
  if (!conn->is_server && conn->set.initial_version == AQ_PROTO_VER_V2) {
    conn->version = AQ_PROTO_VER_V2;
  }
  conn->ver.orig = conn->version;
}

/** Initial keys of version v for the DCID the connection derives them from (rx and/or tx). */
static int derive_initial(aq_conn *conn, uint32_t v, aq_pprot *rx, aq_pprot *tx) {
  uint8_t cs[32], ss[32];
  int rc =
      aq_quic_initial_secrets_a(conn->set.crypto_algs, cs, ss, conn->initial_key_cid.data,
                                conn->initial_key_cid.len, v);
  if (rc == 0 && rx != NULL) {
    rc = aq_pprot_init_a(rx, conn->set.crypto_algs, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256,
                         conn->is_server ? cs : ss, 32, v);
  }
  if (rc == 0 && tx != NULL) {
    rc = aq_pprot_init_a(tx, conn->set.crypto_algs, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256,
                         conn->is_server ? ss : cs, 32, v);
    if (rc != 0 && rx != NULL) {
      aq_pprot_free(rx);
    }
  }
  aq_memzero(cs, sizeof(cs));
  aq_memzero(ss, sizeof(ss));
  return rc;
}

static void drop_alt(aq_conn *conn) {
  if (conn->ver.has_alt) {
    aq_pprot_free(&conn->ver.alt_rx);
    conn->ver.has_alt = 0;
  }
}

int aq_ver_on_initial_keys(aq_conn *conn) {
  if (conn->is_server || conn->ver.switched || conn->version != AQ_PROTO_VER_V1 ||
      !conn->set.enable_v2) {
    return 0;
  }
  drop_alt(conn); /* after a Retry the keys come from the new DCID */
  int rc = derive_initial(conn, AQ_PROTO_VER_V2, &conn->ver.alt_rx, NULL);
  if (rc == 0) {
    conn->ver.has_alt = 1;
    conn->ver.alt_version = AQ_PROTO_VER_V2;
  }
  return rc;
}

aq_pprot *aq_ver_rx_key(aq_conn *conn, const aq_pkt_hd *hd) {
  if (!conn->ver.has_alt || hd->type != AQ_PKT_INITIAL || hd->version != conn->ver.alt_version ||
      conn->sp[AQ_PN_SPACE_INITIAL].discarded) {
    return NULL;
  }
  /* RFC 9369 §4.1: a client that got CRYPTO in the original version (it has
   * handshake keys then) stays there, and drops packets of other versions. */
  if (!conn->is_server && conn->sp[AQ_PN_SPACE_HANDSHAKE].has_rx) {
    return NULL;
  }
  return &conn->ver.alt_rx;
}

int aq_ver_on_opened(aq_conn *conn, const aq_pkt_hd *hd) {
  if (conn->is_server || !conn->ver.has_alt || hd->version != conn->ver.alt_version) {
    return 0;
  }
  /* Client: the server chose alt_version.  Its read keys are alt_rx; derive the write keys. */
  aq_pnspace *s = &conn->sp[AQ_PN_SPACE_INITIAL];
  aq_pprot tx;
  int rc = derive_initial(conn, hd->version, NULL, &tx);
  if (rc != 0) {
    return rc;
  }
  aq_pnspace_drop_keys(s);
  s->rx = conn->ver.alt_rx;
  s->tx = tx;
  s->has_rx = s->has_tx = 1;
  conn->ver.has_alt = 0;
  memset(&conn->ver.alt_rx, 0, sizeof(conn->ver.alt_rx));
  conn->version = hd->version;
  conn->ver.switched = 1;
  return 0;
}

/** Non-zero if list[0..n) holds v. */
static int has_version(const uint32_t *list, size_t n, uint32_t v) {
  for (size_t i = 0; i < n; i++) {
    if (list[i] == v) {
      return 1;
    }
  }
  return 0;
}

int aq_ver_server_select(aq_conn *conn) {
  if (!conn->is_server || conn->ver.switched || conn->version != AQ_PROTO_VER_V1 ||
      !conn->set.enable_v2 || conn->tls == NULL || aq_tls_early_data_accepted(conn->tls)) {
    return 0; /* RFC 9369 §5: 0-RTT from a v1 ticket stays in v1 */
  }
  size_t len;
  const uint8_t *p = aq_tls_get_peer_transport_params(conn->tls, &len);
  aq_tp tp;
  aq_tp_default(&tp);
  if (p == NULL || aq_tp_decode(&tp, p, len, AQ_TP_FROM_CLIENT) != 0 ||
      !(tp.has & AQ_TP_HAS_VERSION_INFO) || tp.chosen_version != conn->version ||
      !has_version(tp.available_versions, tp.navailable_versions, AQ_PROTO_VER_V2)) {
    return 0; /* stay; bad parameters are refused when they are processed */
  }
  aq_pnspace *s = &conn->sp[AQ_PN_SPACE_INITIAL];
  if (!s->has_rx || !s->has_tx || s->discarded) {
    return 0;
  }
  aq_pprot rx, tx;
  int rc = derive_initial(conn, AQ_PROTO_VER_V2, &rx, &tx);
  if (rc != 0) {
    return rc;
  }
  /* The client's v1 Initials (retransmitted ClientHello, ACKs) still open. */
  drop_alt(conn);
  conn->ver.alt_rx = s->rx;
  conn->ver.alt_version = conn->version;
  conn->ver.has_alt = 1;
  aq_pprot_free(&s->tx);
  s->rx = rx;
  s->tx = tx;
  conn->version = AQ_PROTO_VER_V2;
  conn->ver.switched = 1;
  /* TLS holds a pointer to tp_buf and writes EncryptedExtensions next:
   * re-encode with the new Chosen Version (the length cannot change). */
  size_t old_len = conn->tp_len;
  rc = aq_conn_encode_tp(conn);
  if (rc == 0 && conn->tp_len != old_len) {
    rc = AQ_ERR_INTERNAL;
  }
  return rc;
}

uint32_t aq_ver_tx_version(const aq_conn *conn, aq_pkt_type t) {
  /* RFC 9369 §4.1: 0-RTT is never sent in the negotiated version. */
  return t == AQ_PKT_0RTT ? conn->ver.orig : conn->version;
}

void aq_ver_fill_tp(const aq_conn *conn, aq_tp *tp) {
  if (!conn->set.enable_v2 && conn->version == AQ_PROTO_VER_V1) {
    return; /* v1 only: nothing to negotiate, parameters as before */
  }
  uint32_t list[2];
  size_t n = aq_ver_list(&conn->set, list);
  tp->has |= AQ_TP_HAS_VERSION_INFO;
  tp->chosen_version = conn->version;
  tp->navailable_versions = 0;
  if (!has_version(list, n, conn->version)) {
    tp->available_versions[tp->navailable_versions++] = conn->version;
  }
  for (size_t i = 0; i < n && tp->navailable_versions < AQ_TP_MAX_VERSIONS; i++) {
    tp->available_versions[tp->navailable_versions++] = list[i];
  }
}

int aq_ver_check_peer_tp(aq_conn *conn, const aq_tp *tp, aq_tstamp ts) {
  const char *why = NULL;
  int has = (tp->has & AQ_TP_HAS_VERSION_INFO) != 0;
  if (conn->is_server) {
    /* RFC 9368 §4: the client's Chosen Version is the version of its first Initial. */
    if (has && tp->chosen_version != conn->ver.orig) {
      why = "client Chosen Version differs from its Initial";
    }
  } else if (has && tp->chosen_version != conn->version) {
    /* RFC 9368 §4: the server's Chosen Version is the version in use. */
    why = "server Chosen Version differs from the negotiated version";
  } else if (!has && conn->version != conn->ver.orig) {
    why = "version changed without version_information";
  } else if (has && conn->version != conn->ver.orig &&
             !has_version(tp->available_versions, tp->navailable_versions, conn->version)) {
    why = "negotiated version missing from server Available Versions";
  }
  if (why != NULL) {
    aq_conn_fail(conn, AQ_QERR_VERSION_NEGOTIATION_ERROR, AQ_FT_CRYPTO, why, ts);
    return AQ_ERR_PROTO;
  }
  return 0;
}

void aq_ver_free(aq_conn *conn) {
  drop_alt(conn);
}

uint32_t aq_conn_get_version(const aq_conn *conn) {
  return conn->version;
}

int aq_conn_version_switched(const aq_conn *conn) {
  return conn->ver.switched;
}
