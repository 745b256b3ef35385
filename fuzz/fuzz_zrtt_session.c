/*
 * fuzz_zrtt_session.c - the session blob an application hands back to
 * aq_conn_set_session (lib/quic/aq_conn_0rtt.h).  A decoded blob must point
 * inside the input, respect the length caps, and survive encode -> decode
 * with every field equal.
 */
#include <stdlib.h>
#include <string.h>

#include "aq_conn_0rtt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  aq_zrtt_session s, t;
  if (aq_zrtt_session_decode(&s, data, size) != 0) {
    return 0;
  }
  if (s.tls_len > AQ_ZRTT_TLS_MAX || s.token_len > AQ_ZRTT_TOKEN_MAX ||
      (s.tls_len > 0 && (s.tls < data || s.tls + s.tls_len > data + size)) ||
      (s.token_len > 0 && (s.token < data || s.token + s.token_len > data + size)) ||
      (s.tls_len == 0 && s.token_len == 0)) {
    abort();
  }
  size_t cap = size + 128;
  uint8_t *buf = malloc(cap);
  if (buf == NULL) {
    abort();
  }
  aq_wbuf w;
  aq_wbuf_init(&w, buf, cap);
  aq_zrtt_session_encode(&w, s.tls, s.tls_len, s.token, s.token_len, s.has_tp ? &s.tp : NULL);
  if (aq_wbuf_error(&w) != 0 || aq_zrtt_session_decode(&t, buf, aq_wbuf_len(&w)) != 0 ||
      !same(s.tls, s.tls_len, t.tls, t.tls_len) ||
      !same(s.token, s.token_len, t.token, t.token_len) || s.has_tp != t.has_tp) {
    abort();
  }
  if (s.has_tp &&
      (s.tp.max_idle_timeout_ms != t.tp.max_idle_timeout_ms ||
       s.tp.max_udp_payload_size != t.tp.max_udp_payload_size ||
       s.tp.initial_max_data != t.tp.initial_max_data ||
       s.tp.initial_max_stream_data_bidi_local != t.tp.initial_max_stream_data_bidi_local ||
       s.tp.initial_max_stream_data_bidi_remote != t.tp.initial_max_stream_data_bidi_remote ||
       s.tp.initial_max_stream_data_uni != t.tp.initial_max_stream_data_uni ||
       s.tp.initial_max_streams_bidi != t.tp.initial_max_streams_bidi ||
       s.tp.initial_max_streams_uni != t.tp.initial_max_streams_uni ||
       s.tp.active_connection_id_limit != t.tp.active_connection_id_limit ||
       s.tp.max_datagram_frame_size != t.tp.max_datagram_frame_size ||
       s.tp.disable_active_migration != t.tp.disable_active_migration)) {
    abort();
  }
  free(buf);
  return 0;
}
