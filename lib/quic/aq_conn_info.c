/*
 * aq_conn_info.c - public read-only accessors for what a connection's
 * handshake negotiated (ALPN, cipher suite, group, Retry, original DCID),
 * so tools need not include aq_conn_int.h.
 */
#include <string.h>

#include "antquic.h"
#include "aq_conn_int.h"
#include "aq_tls.h"

const char *aq_conn_get_alpn(const aq_conn *conn, size_t *len) {
  const char *a = conn->tls != NULL ? aq_tls_get_alpn(conn->tls) : NULL;
  if (len != NULL) {
    *len = a != NULL ? strlen(a) : 0;
  }
  return a;
}

uint16_t aq_conn_get_cipher_suite(const aq_conn *conn) {
  const aq_tls_suite *s = conn->tls != NULL ? aq_tls_get_suite(conn->tls) : NULL;
  return s != NULL ? s->id : 0;
}

uint16_t aq_conn_get_group(const aq_conn *conn) {
  return conn->tls != NULL ? aq_tls_get_group(conn->tls) : 0;
}

int aq_conn_used_retry(const aq_conn *conn) {
  return conn->got_retry != 0;
}

aq_ssize aq_conn_get_odcid(const aq_conn *conn, uint8_t *buf, size_t cap) {
  const aq_cid *c = &conn->odcid;
  if (c->len > cap) {
    return AQ_ERR_BUFFER_TOO_SMALL;
  }
  if (c->len > 0) {
    memcpy(buf, c->data, c->len);
  }
  return (aq_ssize)c->len;
}
