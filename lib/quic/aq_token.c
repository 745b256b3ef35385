/*
 * aq_token.c - NEW_TOKEN address-validation tokens (see aq_token.h).
 */
#include "aq_token.h"

#include <string.h>

#include "aq_crypto.h"
#include "aq_ct.h"

static const char token_label[] = "aq new_token key v1";

int aq_token_derive_key(uint8_t key[AQ_TOKEN_KEY_LEN], const uint8_t secret[32]) {
  return aq_hmac(AQ_HASH_SHA256, key, secret, 32, (const uint8_t *)token_label,
                 sizeof(token_label) - 1);
}

/** Associated data: type byte, address family, 16 IP bytes. */
static void token_aad(uint8_t aad[18], const aq_addr *client) {
  aad[0] = AQ_TOKEN_TYPE_NEW;
  aad[1] = client->family;
  memcpy(aad + 2, client->ip, 16);
}

aq_ssize aq_token_seal_new(uint8_t *out, size_t cap, const uint8_t key[AQ_TOKEN_KEY_LEN],
                           const uint8_t nonce[12], const aq_addr *client, aq_tstamp expiry) {
  if (cap < AQ_TOKEN_NEW_LEN) {
    return AQ_ERR_BUFFER_TOO_SMALL;
  }
  uint8_t aad[18], pt[8];
  token_aad(aad, client);
  for (size_t i = 0; i < 8; i++) {
    pt[i] = (uint8_t)(expiry >> (56 - 8 * i));
  }
  aq_aead a;
  if (aq_aead_init(&a, AQ_AEAD_AES_256_GCM, key) != 0) {
    return AQ_ERR_CRYPTO;
  }
  out[0] = AQ_TOKEN_TYPE_NEW;
  memcpy(out + 1, nonce, 12);
  aq_ssize n = aq_aead_seal(&a, out + 13, cap - 13, nonce, aad, sizeof(aad), pt, sizeof(pt));
  aq_aead_free(&a);
  if (n != 8 + AQ_AEAD_TAG_LEN) {
    return AQ_ERR_CRYPTO;
  }
  return AQ_TOKEN_NEW_LEN;
}

int aq_token_is_new(const uint8_t *tok, size_t len) {
  return len == AQ_TOKEN_NEW_LEN && tok[0] == AQ_TOKEN_TYPE_NEW;
}

int aq_token_open_new(const uint8_t key[AQ_TOKEN_KEY_LEN], const uint8_t *tok, size_t len,
                      const aq_addr *client, aq_tstamp now) {
  if (!aq_token_is_new(tok, len)) {
    return AQ_ERR_MALFORMED;
  }
  uint8_t aad[18], pt[8];
  token_aad(aad, client);
  aq_aead a;
  if (aq_aead_init(&a, AQ_AEAD_AES_256_GCM, key) != 0) {
    return AQ_ERR_CRYPTO;
  }
  aq_ssize n = aq_aead_open(&a, pt, sizeof(pt), tok + 1, aad, sizeof(aad), tok + 13, len - 13);
  aq_aead_free(&a);
  if (n != 8) {
    return AQ_ERR_DECRYPT;
  }
  aq_tstamp expiry = 0;
  for (size_t i = 0; i < 8; i++) {
    expiry = (expiry << 8) | pt[i];
  }
  /* RFC 9000 §8.1.3: "Tokens ... SHOULD have an expiration time". */
  return now < expiry ? 0 : AQ_ERR_TIMEOUT;
}
