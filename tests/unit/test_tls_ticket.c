/* test_tls_ticket.c - the session codec and sealed tickets (aq_tls_ticket.c). */
#include <string.h>

#include "aq_test.h"
#include "aq_tls_ticket.h"

static void sample(aq_tls_session *s, uint8_t *psk, uint8_t *ticket, uint8_t *spki) {
  memset(s, 0, sizeof(*s));
  memset(psk, 0xab, 32);
  memset(ticket, 0xcd, 40);
  memset(spki, 0xef, 44);
  s->suite = 0x1303;
  s->ts = 0x0102030405060708ULL;
  s->lifetime_s = 86400;
  s->age_add = 0xdeadbeef;
  s->max_early_data = 0xffffffffu;
  s->psk = psk;
  s->psk_len = 32;
  s->ticket = ticket;
  s->ticket_len = 40;
  s->alpn = (const uint8_t *)"ant-quic";
  s->alpn_len = 8;
  s->spki = spki;
  s->spki_len = 44;
}

AQ_TEST(tls_ticket_session_roundtrip_and_truncation) {
  uint8_t psk[32], ticket[40], spki[44], buf[512];
  aq_tls_session s, d;
  sample(&s, psk, ticket, spki);
  for (int is_client = 0; is_client < 2; is_client++) {
    aq_wbuf w;
    aq_wbuf_init(&w, buf, sizeof(buf));
    aq_tls_session_encode(&w, &s, is_client);
    REQUIRE(aq_wbuf_error(&w) == 0);
    size_t n = aq_wbuf_len(&w);
    CHECK_INT(n, 1 + 2 + 8 + 4 + 4 + 4 + 33 + (is_client ? 42 : 0) + 9 + 46);
    REQUIRE(aq_tls_session_decode(&d, buf, n, is_client) == 0);
    CHECK_INT(d.suite, 0x1303);
    CHECK(d.ts == s.ts);
    CHECK_INT(d.lifetime_s, 86400);
    CHECK(d.age_add == 0xdeadbeefu);
    CHECK(d.max_early_data == 0xffffffffu);
    CHECK(d.psk_len == 32 && memcmp(d.psk, psk, 32) == 0);
    CHECK(d.alpn_len == 8 && memcmp(d.alpn, "ant-quic", 8) == 0);
    CHECK(d.spki_len == 44 && memcmp(d.spki, spki, 44) == 0);
    if (is_client) {
      CHECK(d.ticket_len == 40 && memcmp(d.ticket, ticket, 40) == 0);
    }
    for (size_t k = 0; k < n; k++) {
      CHECK(aq_tls_session_decode(&d, buf, k, is_client) != 0);
    }
    buf[n] = 0;
    CHECK_INT(aq_tls_session_decode(&d, buf, n + 1, is_client), AQ_ERR_TRAILING_DATA);
    buf[0] = 2; /* unknown version */
    CHECK_INT(aq_tls_session_decode(&d, buf, n, is_client), AQ_ERR_UNSUPPORTED);
  }
  /* A PSK that is neither 32 nor 48 bytes. */
  s.psk_len = 31;
  aq_wbuf w;
  aq_wbuf_init(&w, buf, sizeof(buf));
  aq_tls_session_encode(&w, &s, 0);
  CHECK_INT(aq_tls_session_decode(&d, buf, aq_wbuf_len(&w), 0), AQ_ERR_MALFORMED);
}

AQ_TEST(tls_ticket_seal_open) {
  uint8_t key[32], other[32], nonce[12], pt[100], sealed[200], out[200];
  for (size_t i = 0; i < sizeof(pt); i++) {
    pt[i] = (uint8_t)(i * 7);
  }
  memset(key, 1, sizeof(key));
  memset(other, 2, sizeof(other));
  memset(nonce, 3, sizeof(nonce));
  aq_ssize n = aq_tls_ticket_seal(sealed, sizeof(sealed), key, nonce, pt, sizeof(pt));
  REQUIRE(n == (aq_ssize)(sizeof(pt) + AQ_TLS_TICKET_OVERHEAD));
  CHECK_MEM(sealed, nonce, 12);
  aq_ssize m = aq_tls_ticket_open(out, sizeof(out), key, sealed, (size_t)n);
  REQUIRE(m == (aq_ssize)sizeof(pt));
  CHECK_MEM(out, pt, sizeof(pt));
  /* Wrong key, any flipped byte, truncation: AQ_ERR_DECRYPT. */
  CHECK_INT(aq_tls_ticket_open(out, sizeof(out), other, sealed, (size_t)n), AQ_ERR_DECRYPT);
  for (size_t i = 0; i < (size_t)n; i++) {
    sealed[i] ^= 0x80;
    CHECK_INT(aq_tls_ticket_open(out, sizeof(out), key, sealed, (size_t)n), AQ_ERR_DECRYPT);
    sealed[i] ^= 0x80;
  }
  for (size_t k = 0; k < (size_t)n; k++) {
    CHECK(aq_tls_ticket_open(out, sizeof(out), key, sealed, k) < 0);
  }
  CHECK_INT(aq_tls_ticket_seal(sealed, 50, key, nonce, pt, sizeof(pt)), AQ_ERR_BUFFER_TOO_SMALL);
}
