/*
 * aq_keylog.c - SSLKEYLOGFILE lines (the NSS key log format that Wireshark
 * reads) for a connection's TLS traffic secrets, and the matching qlog
 * key_updated events.
 *
 * Line format: "<LABEL> <ClientHello.random, 64 hex> <secret, hex>" with
 * the TLS 1.3 labels CLIENT_EARLY_TRAFFIC_SECRET,
 * CLIENT/SERVER_HANDSHAKE_TRAFFIC_SECRET and CLIENT/SERVER_TRAFFIC_SECRET_0.
 * QUIC Initial keys are not logged (Wireshark derives them from the
 * Destination Connection ID), nor are key updates (derived from
 * *_TRAFFIC_SECRET_0).  The line is NUL-terminated, without the newline,
 * and is zeroed after the callback: it holds a secret.
 *
 * Timers: none.
 */
#include <string.h>

#include "aq_conn_int.h"
#include "aq_ct.h"
#include "aq_qlog.h"

#define KEYLOG_RANDOM_LEN 32u

static void keylog_line(aq_conn *conn, const char *label, const uint8_t *secret, size_t len) {
  static const char hexd[] = "0123456789abcdef";
  const uint8_t *cr = conn->tls != NULL ? aq_tls_get_client_random(conn->tls) : NULL;
  if (conn->cb.keylog == NULL || cr == NULL || len > AQ_HASH_MAX_LEN) {
    return;
  }
  char line[40 + 2 * KEYLOG_RANDOM_LEN + 2 * AQ_HASH_MAX_LEN];
  size_t n = strlen(label);
  memcpy(line, label, n);
  line[n++] = ' ';
  for (size_t i = 0; i < KEYLOG_RANDOM_LEN; i++) {
    line[n++] = hexd[cr[i] >> 4];
    line[n++] = hexd[cr[i] & 15u];
  }
  line[n++] = ' ';
  for (size_t i = 0; i < len; i++) {
    line[n++] = hexd[secret[i] >> 4];
    line[n++] = hexd[secret[i] & 15u];
  }
  line[n] = '\0';
  conn->cb.keylog(conn, line, conn->user_data);
  aq_memzero(line, sizeof(line));
}

void aq_keylog_on_secret(aq_conn *conn, int epoch, int is_write, const uint8_t *secret,
                         size_t secretlen) {
  /* The client's secret is the one the client writes. */
  int client = conn->is_server ? !is_write : is_write;
  const char *label = NULL, *key_type = NULL;
  switch (epoch) {
  case AQ_EPOCH_0RTT:
    label = "CLIENT_EARLY_TRAFFIC_SECRET";
    key_type = "client_0rtt_secret";
    break;
  case AQ_EPOCH_HANDSHAKE:
    label = client ? "CLIENT_HANDSHAKE_TRAFFIC_SECRET" : "SERVER_HANDSHAKE_TRAFFIC_SECRET";
    key_type = client ? "client_handshake_secret" : "server_handshake_secret";
    break;
  case AQ_EPOCH_1RTT:
    label = client ? "CLIENT_TRAFFIC_SECRET_0" : "SERVER_TRAFFIC_SECRET_0";
    key_type = client ? "client_1rtt_secret" : "server_1rtt_secret";
    break;
  default: return;
  }
  keylog_line(conn, label, secret, secretlen);
  aq_qlog_key(conn, key_type, 0, "tls");
}
