/*
 * aq_tls_group_pq.c - post-quantum key-exchange groups as table rows:
 *   MLKEM768 (0x0201, draft-ietf-tls-mlkem): client share = ek (1184),
 *     server share = ct (1088), secret = ML-KEM ss (32).
 *   X25519MLKEM768 (0x11EC, draft-ietf-tls-ecdhe-mlkem §3): client share =
 *     ek (1184) || X25519 (32), server share = ct (1088) || X25519 (32),
 *     secret = ML-KEM ss || X25519 ss (the ML-KEM part FIRST for this group).
 * Private state: dk (2400) [|| X25519 scalar (32)].
 */
#include <string.h>

#include "aq_ct.h"
#include "aq_mlkem768.h"
#include "aq_tls_group.h"

int aq_tls_mlkem768_keygen(uint8_t *priv, uint8_t *client_share, aq_rand_fn rand, void *rand_ud) {
  uint8_t seed[AQ_MLKEM768_SEED_LEN];
  if (rand(seed, sizeof(seed), rand_ud) != 0) {
    return AQ_ERR_CALLBACK_FAILURE;
  }
  aq_mlkem768_keygen(client_share, priv, seed);
  aq_memzero(seed, sizeof(seed));
  return 0;
}

int aq_tls_mlkem768_exchange(uint8_t *server_share, uint8_t *secret, size_t *secretlen,
                             const uint8_t *client_share, aq_rand_fn rand, void *rand_ud) {
  uint8_t m[AQ_MLKEM768_M_LEN];
  int rv;
  if (rand(m, sizeof(m), rand_ud) != 0) {
    return AQ_ERR_CALLBACK_FAILURE;
  }
  /* draft-ietf-tls-mlkem: the server MUST perform the FIPS 203 §7.2 encapsulation key check;
   * aq_mlkem768_encaps does, and fails with AQ_ERR_MALFORMED (-> illegal_parameter). */
  rv = aq_mlkem768_encaps(server_share, secret, client_share, m);
  aq_memzero(m, sizeof(m));
  *secretlen = AQ_MLKEM768_SS_LEN;
  return rv;
}

int aq_tls_mlkem768_finish(uint8_t *secret, size_t *secretlen, const uint8_t *priv,
                           const uint8_t *server_share) {
  *secretlen = AQ_MLKEM768_SS_LEN;
  return aq_mlkem768_decaps(secret, server_share, priv);
}

int aq_tls_x25519mlkem768_keygen(uint8_t *priv, uint8_t *client_share, aq_rand_fn rand,
                                 void *rand_ud) {
  int rv = aq_tls_mlkem768_keygen(priv, client_share, rand, rand_ud);
  if (rv == 0) {
    rv = aq_tls_x25519_keygen(priv + AQ_MLKEM768_DK_LEN, client_share + AQ_MLKEM768_EK_LEN, rand,
                              rand_ud);
  }
  if (rv != 0) {
    aq_memzero(priv, AQ_MLKEM768_DK_LEN + 2 * AQ_X25519_LEN);
  }
  return rv;
}

int aq_tls_x25519mlkem768_exchange(uint8_t *server_share, uint8_t *secret, size_t *secretlen,
                                   const uint8_t *client_share, aq_rand_fn rand, void *rand_ud) {
  size_t kl, xl;
  int rv = aq_tls_mlkem768_exchange(server_share, secret, &kl, client_share, rand, rand_ud);
  if (rv == 0) {
    /* RFC 8446 §7.4.2 all-zero refusal inside the X25519 step. */
    rv = aq_tls_x25519_exchange(server_share + AQ_MLKEM768_CT_LEN, secret + AQ_MLKEM768_SS_LEN, &xl,
                                client_share + AQ_MLKEM768_EK_LEN, rand, rand_ud);
  }
  if (rv != 0) {
    aq_memzero(secret, AQ_MLKEM768_SS_LEN + AQ_X25519_LEN);
  }
  *secretlen = AQ_MLKEM768_SS_LEN + AQ_X25519_LEN;
  return rv;
}

int aq_tls_x25519mlkem768_finish(uint8_t *secret, size_t *secretlen, const uint8_t *priv,
                                 const uint8_t *server_share) {
  size_t kl, xl;
  int rv = aq_tls_mlkem768_finish(secret, &kl, priv, server_share);
  if (rv == 0) {
    rv = aq_tls_x25519_finish(secret + AQ_MLKEM768_SS_LEN, &xl, priv + AQ_MLKEM768_DK_LEN,
                              server_share + AQ_MLKEM768_CT_LEN);
  }
  if (rv != 0) {
    aq_memzero(secret, AQ_MLKEM768_SS_LEN + AQ_X25519_LEN);
  }
  *secretlen = AQ_MLKEM768_SS_LEN + AQ_X25519_LEN;
  return rv;
}
