/*
 * fuzz_token.c - address-validation tokens (RFC 9000 §8.1): NEW_TOKEN
 * tokens (aq_token.c) and, through a Retry server endpoint, both token
 * kinds as they arrive in an Initial.  Input: 8 bytes "now" (big endian),
 * 1 flag byte (bit 0: IPv6 client), then the token.
 *
 *  - aq_token_open_new never accepts a token that is not exactly a NEW_TOKEN
 *    token; a token it accepts stops verifying with any flipped bit, another
 *    client IP, or at its expiry; a token sealed with the input's bytes as
 *    nonce opens, then expires.
 *  - The endpoint (retry on, fixed keys) creates a connection only for a
 *    valid token; a missing or NEW_TOKEN-shaped invalid token gets a Retry,
 *    a Retry-shaped invalid token is dropped (no Retry loop either way).
 */
#include <stdlib.h>
#include <string.h>

#include "aq_conn.h"
#include "aq_pkt.h"
#include "aq_token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret[32] = {0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c,
                                   0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c,
                                   0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c, 0x5c};

static int fixed_rand(uint8_t *buf, size_t len, void *ud) {
  (void)ud;
  memset(buf, 0x5c, len);
  return 0;
}

static aq_addr client_addr(int v6, uint8_t last) {
  uint8_t ip[16] = {0};
  if (v6) {
    ip[0] = 0x20;
    ip[1] = 0x01;
    ip[2] = 0x0d;
    ip[3] = 0xb8;
    ip[15] = last;
    return aq_addr_ipv6(ip, 50000);
  }
  ip[0] = 198;
  ip[1] = 51;
  ip[2] = 100;
  ip[3] = last;
  return aq_addr_ipv4(ip, 50000);
}

/** Feed an Initial carrying tok to a fresh Retry server; check what it does. */
static void via_endpoint(const uint8_t *tok, size_t toklen, const aq_addr *client, aq_tstamp now,
                         int new_ok) {
  aq_settings s;
  aq_settings_default(&s);
  s.retry = 1;
  s.ticket_key = secret;
  aq_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.rand = fixed_rand;
  aq_ep *ep = aq_ep_new(&s, &cb, NULL, NULL, 1);
  if (ep == NULL) {
    abort();
  }
  static const uint8_t dcid[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  static const uint8_t scid[8] = {9, 9, 9, 9, 9, 9, 9, 9};
  uint8_t *dg = calloc(1, toklen + 1300);
  if (dg == NULL) {
    abort();
  }
  aq_pkt_hd hd;
  memset(&hd, 0, sizeof(hd));
  hd.type = AQ_PKT_INITIAL;
  hd.version = AQ_PROTO_VER_V1;
  hd.dcid = dcid;
  hd.dcidlen = sizeof(dcid);
  hd.scid = scid;
  hd.scidlen = sizeof(scid);
  hd.token = toklen > 0 ? tok : NULL;
  hd.tokenlen = toklen;
  hd.len_width = 2;
  hd.pn_len = 1;
  aq_wbuf w;
  aq_wbuf_init(&w, dg, toklen + 1300);
  if (aq_pkt_encode_hd(&w, &hd) != 0) {
    abort();
  }
  size_t total = toklen + 1250;
  aq_wbuf_zeros(&w, total - aq_wbuf_len(&w));
  if (aq_wbuf_error(&w) != 0 || aq_pkt_set_length(dg, &hd, total) != 0) {
    abort();
  }
  aq_path path;
  memset(&path, 0, sizeof(path));
  path.local = aq_addr_ipv4((const uint8_t[4]){192, 0, 2, 1}, 443);
  path.remote = *client;
  if (client->family == AQ_AF_INET6) {
    path.local = aq_addr_ipv6(
        (const uint8_t[16]){0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 443);
  }
  if (aq_ep_read(ep, &path, dg, total, now) != 0) {
    abort();
  }
  uint8_t out[1500];
  aq_path op;
  aq_ssize n = aq_ep_write(ep, &op, out, sizeof(out), now);
  int retry_sent = n > 0 && (out[0] & 0xf0u) == 0xf0u;
  size_t conns = aq_ep_conn_count(ep);
  if (new_ok) {
    if (conns != 1 || retry_sent) {
      abort(); /* a valid NEW_TOKEN token: no Retry */
    }
  } else if (toklen == 0 || aq_token_is_new(tok, toklen)) {
    if (conns != 0 || !retry_sent) {
      abort(); /* no token, or an invalid NEW_TOKEN token: Retry */
    }
  } else if (conns == 1 && retry_sent) {
    abort(); /* a Retry token either opens a connection or is dropped */
  }
  free(dg);
  aq_ep_del(ep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 9) {
    return 0;
  }
  aq_tstamp now = 0;
  for (size_t i = 0; i < 8; i++) {
    now = (now << 8) | data[i];
  }
  now >>= 2; /* keep now + lifetimes below 2^64 */
  int v6 = data[8] & 1;
  const uint8_t *tok = data + 9;
  size_t toklen = size - 9;
  aq_addr client = client_addr(v6, 2);
  uint8_t key[AQ_TOKEN_KEY_LEN];
  if (aq_token_derive_key(key, secret) != 0) {
    abort();
  }
  int rc = aq_token_open_new(key, tok, toklen, &client, now);
  if (rc == 0) {
    if (!aq_token_is_new(tok, toklen)) {
      abort();
    }
    uint8_t t2[AQ_TOKEN_NEW_LEN];
    memcpy(t2, tok, sizeof(t2));
    for (size_t i = 0; i < sizeof(t2); i++) {
      t2[i] ^= 0x40;
      if (aq_token_open_new(key, t2, sizeof(t2), &client, now) == 0) {
        abort();
      }
      t2[i] ^= 0x40;
    }
    aq_addr other = client_addr(v6, 3);
    if (aq_token_open_new(key, tok, toklen, &other, now) != AQ_ERR_DECRYPT ||
        aq_token_open_new(key, tok, toklen, &client, UINT64_MAX) != AQ_ERR_TIMEOUT) {
      abort();
    }
  } else if (rc != AQ_ERR_MALFORMED && rc != AQ_ERR_DECRYPT && rc != AQ_ERR_TIMEOUT) {
    abort();
  }
  /* A token we seal ourselves opens until its expiry, for this client only. */
  uint8_t nonce[12] = {0};
  memcpy(nonce, tok, toklen < 12 ? toklen : 12);
  uint8_t sealed[AQ_TOKEN_NEW_LEN];
  if (aq_token_seal_new(sealed, sizeof(sealed), key, nonce, &client, now + 1000) !=
          (aq_ssize)AQ_TOKEN_NEW_LEN ||
      aq_token_open_new(key, sealed, sizeof(sealed), &client, now) != 0 ||
      aq_token_open_new(key, sealed, sizeof(sealed), &client, now + 1000) != AQ_ERR_TIMEOUT) {
    abort();
  }
  if (toklen <= 512) {
    via_endpoint(tok, toklen, &client, now, rc == 0);
  }
  return 0;
}
