/*
 * aq_tls_group_p256.c - secp256r1 ECDHE (RFC 8446 §4.2.8.2) over OpenSSL's
 * EC_POINT arithmetic.  The private scalar comes from the caller's random
 * callback (never OpenSSL's DRBG); shares are uncompressed points (65 bytes);
 * the shared secret is the x-coordinate (32 bytes).  Peer points are checked
 * to be on the curve by EC_POINT_oct2point.
 */
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "aq_ct.h"
#include "aq_tls_group.h"

#define P256_LEN 32
#define P256_POINT_LEN 65

/**
 * Scalar multiplication by priv: of the generator (peer NULL; out = the
 * 65-byte public point) or of the peer's point (out = the 32-byte x).
 */
static int p256_mul(uint8_t *out, const uint8_t *priv, const uint8_t *peer) {
  int rv = AQ_ERR_CRYPTO;
  EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
  BN_CTX *ctx = BN_CTX_new();
  BIGNUM *k = BN_secure_new(), *x = BN_new();
  EC_POINT *p = grp != NULL ? EC_POINT_new(grp) : NULL;
  EC_POINT *r = grp != NULL ? EC_POINT_new(grp) : NULL;
  if (grp == NULL || ctx == NULL || k == NULL || x == NULL || p == NULL || r == NULL) {
    goto out;
  }
  if (BN_bin2bn(priv, P256_LEN, k) == NULL || BN_is_zero(k) ||
      BN_cmp(k, EC_GROUP_get0_order(grp)) >= 0) {
    goto out;
  }
  if (peer == NULL) {
    if (EC_POINT_mul(grp, r, k, NULL, NULL, ctx) != 1 ||
        EC_POINT_point2oct(grp, r, POINT_CONVERSION_UNCOMPRESSED, out, P256_POINT_LEN, ctx) !=
            P256_POINT_LEN) {
      goto out;
    }
  } else {
    /* RFC 8446 §4.2.8.2: uncompressed form only; oct2point checks the curve equation. */
    if (peer[0] != 0x04 || EC_POINT_oct2point(grp, p, peer, P256_POINT_LEN, ctx) != 1 ||
        EC_POINT_mul(grp, r, NULL, p, k, ctx) != 1 || EC_POINT_is_at_infinity(grp, r) ||
        EC_POINT_get_affine_coordinates(grp, r, x, NULL, ctx) != 1 ||
        BN_bn2binpad(x, out, P256_LEN) != P256_LEN) {
      goto out;
    }
  }
  rv = 0;
out:
  EC_POINT_clear_free(r);
  EC_POINT_free(p);
  BN_clear_free(x);
  BN_clear_free(k);
  BN_CTX_free(ctx);
  EC_GROUP_free(grp);
  return rv;
}

/** Client keygen: a random scalar in [1, n-1] (redrawn when out of range) and its point. */
int aq_tls_p256_keygen(uint8_t *priv, uint8_t *client_share, aq_rand_fn rand, void *rand_ud) {
  for (int tries = 0; tries < 16; tries++) {
    if (rand(priv, P256_LEN, rand_ud) != 0) {
      return AQ_ERR_CALLBACK_FAILURE;
    }
    if (p256_mul(client_share, priv, NULL) == 0) {
      return 0;
    }
  }
  aq_memzero(priv, P256_LEN);
  return AQ_ERR_CRYPTO;
}

/** Server side: ephemeral key, its share, and the shared x-coordinate. */
int aq_tls_p256_exchange(uint8_t *server_share, uint8_t *secret, size_t *secretlen,
                         const uint8_t *client_share, aq_rand_fn rand, void *rand_ud) {
  uint8_t priv[P256_LEN];
  int rv = aq_tls_p256_keygen(priv, server_share, rand, rand_ud);
  if (rv == 0) {
    rv = p256_mul(secret, priv, client_share);
  }
  aq_memzero(priv, sizeof(priv));
  *secretlen = P256_LEN;
  return rv;
}

/** Client side: the shared x-coordinate. */
int aq_tls_p256_finish(uint8_t *secret, size_t *secretlen, const uint8_t *priv,
                       const uint8_t *server_share) {
  *secretlen = P256_LEN;
  return p256_mul(secret, priv, server_share);
}
