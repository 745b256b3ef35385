/* aq_tls_ticket.c - client sessions and sealed server tickets (see header). */
#include "aq_tls_ticket.h"

#include <string.h>

#include "aq_crypto.h"

#define SESSION_VERSION 1
static const uint8_t ticket_aad[] = "antquic ticket v1";

/** Session/ticket plaintext encoder (see header). */
void aq_tls_session_encode(aq_wbuf *w, const aq_tls_session *s, int is_client) {
  aq_wbuf_mark m;
  aq_wbuf_u8(w, SESSION_VERSION);
  aq_wbuf_u16(w, s->suite);
  aq_wbuf_u64(w, s->ts);
  aq_wbuf_u32(w, s->lifetime_s);
  aq_wbuf_u32(w, s->age_add);
  aq_wbuf_u32(w, s->max_early_data);
  aq_wbuf_len_begin(w, AQ_LEN_U8, &m);
  aq_wbuf_bytes(w, s->psk, s->psk_len);
  aq_wbuf_len_end(w, &m);
  if (is_client) {
    aq_wbuf_len_begin(w, AQ_LEN_U16, &m);
    aq_wbuf_bytes(w, s->ticket, s->ticket_len);
    aq_wbuf_len_end(w, &m);
  }
  aq_wbuf_len_begin(w, AQ_LEN_U8, &m);
  aq_wbuf_bytes(w, s->alpn, s->alpn_len);
  aq_wbuf_len_end(w, &m);
  aq_wbuf_len_begin(w, AQ_LEN_U16, &m);
  aq_wbuf_bytes(w, s->spki, s->spki_len);
  aq_wbuf_len_end(w, &m);
}

/** Session/ticket plaintext decoder (see header). */
int aq_tls_session_decode(aq_tls_session *s, const uint8_t *data, size_t len, int is_client) {
  aq_rbuf r, sub;
  uint8_t version;
  int rv;
  memset(s, 0, sizeof(*s));
  aq_rbuf_init(&r, data, len);
  if ((rv = aq_rbuf_u8(&r, &version)) != 0 || (rv = aq_rbuf_u16(&r, &s->suite)) != 0 ||
      (rv = aq_rbuf_u64(&r, &s->ts)) != 0 || (rv = aq_rbuf_u32(&r, &s->lifetime_s)) != 0 ||
      (rv = aq_rbuf_u32(&r, &s->age_add)) != 0 || (rv = aq_rbuf_u32(&r, &s->max_early_data)) != 0 ||
      (rv = aq_rbuf_sub(&r, AQ_LEN_U8, &sub)) != 0) {
    return rv;
  }
  if (version != SESSION_VERSION) {
    return AQ_ERR_UNSUPPORTED;
  }
  s->psk = sub.p;
  s->psk_len = aq_rbuf_left(&sub);
  if (s->psk_len != 32 && s->psk_len != 48) {
    return AQ_ERR_MALFORMED;
  }
  if (is_client) {
    if ((rv = aq_rbuf_sub(&r, AQ_LEN_U16, &sub)) != 0) {
      return rv;
    }
    s->ticket = sub.p;
    s->ticket_len = aq_rbuf_left(&sub);
    if (s->ticket_len == 0) {
      return AQ_ERR_MALFORMED;
    }
  }
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U8, &sub)) != 0) {
    return rv;
  }
  s->alpn = sub.p;
  s->alpn_len = aq_rbuf_left(&sub);
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U16, &sub)) != 0) {
    return rv;
  }
  s->spki = sub.p;
  s->spki_len = aq_rbuf_left(&sub);
  return aq_rbuf_done(&r);
}

/** Seal a ticket (see header). */
aq_ssize aq_tls_ticket_seal(uint8_t *out, size_t cap, const uint8_t key[AQ_TLS_TICKET_KEY_LEN],
                            const uint8_t nonce[12], const uint8_t *pt, size_t ptlen) {
  aq_aead a;
  if (cap < ptlen + AQ_TLS_TICKET_OVERHEAD) {
    return AQ_ERR_BUFFER_TOO_SMALL;
  }
  int rv = aq_aead_init(&a, AQ_AEAD_AES_256_GCM, key);
  if (rv != 0) {
    return rv;
  }
  memcpy(out, nonce, 12);
  aq_ssize n =
      aq_aead_seal(&a, out + 12, cap - 12, nonce, ticket_aad, sizeof(ticket_aad), pt, ptlen);
  aq_aead_free(&a);
  return n < 0 ? n : n + 12;
}

/** Open a ticket (see header). */
aq_ssize aq_tls_ticket_open(uint8_t *pt, size_t cap, const uint8_t key[AQ_TLS_TICKET_KEY_LEN],
                            const uint8_t *ticket, size_t len) {
  aq_aead a;
  if (len < AQ_TLS_TICKET_OVERHEAD) {
    return AQ_ERR_DECRYPT;
  }
  if (cap < len - AQ_TLS_TICKET_OVERHEAD) {
    return AQ_ERR_BUFFER_TOO_SMALL;
  }
  int rv = aq_aead_init(&a, AQ_AEAD_AES_256_GCM, key);
  if (rv != 0) {
    return rv;
  }
  aq_ssize n =
      aq_aead_open(&a, pt, cap, ticket, ticket_aad, sizeof(ticket_aad), ticket + 12, len - 12);
  aq_aead_free(&a);
  return n;
}
