/*
 * aq_tls_ecdsa_pre.c - ECDSA signing split into an offline and an online
 * half, so that a server's CertificateVerify costs about 1 us instead of
 * about 25 us (P-256) on the handshake's critical path.
 *
 * An ECDSA signature is r = (k*G).x mod n and s = k^-1 (z + r*d) mod n.
 * Everything expensive (the scalar multiplication k*G and the inversion of
 * k) depends only on the random nonce k, not on the message, so
 * aq_ecdsa_pre_refill computes (k^-1, r) while the endpoint is idle and
 * aq_ecdsa_pre_sign finishes a signature with one modular multiplication
 * and addition.  Each precomputed pair is used exactly once and then
 * cleared; k comes from OpenSSL's DRBG as in an ordinary ECDSA_sign.
 *
 * OpenSSL 3.0's provider interface cannot take a precomputed nonce, so this
 * file, alone in the library, uses the EC_KEY functions (ECDSA_sign_setup,
 * ECDSA_do_sign_ex), deprecated in 3.0 but present in every build that has
 * EC.  Any failure here makes the caller sign the ordinary way.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "aq_tls_ecdsa_pre.h"

#include <limits.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

int aq_ecdsa_pre_init(aq_ecdsa_pre *p, void *evp_pkey) {
  memset(p, 0, sizeof(*p));
  EC_KEY *ec = EVP_PKEY_get1_EC_KEY(evp_pkey);
  if (ec == NULL) {
    ERR_clear_error();
    return AQ_ERR_UNSUPPORTED;
  }
  p->ec_key = ec;
  return 0;
}

/* Drop the precomputed pair (if any), clearing it. */
static void pre_clear(aq_ecdsa_pre *p) {
  BN_clear_free(p->kinv);
  BN_clear_free(p->r);
  p->kinv = NULL;
  p->r = NULL;
}

void aq_ecdsa_pre_free(aq_ecdsa_pre *p) {
  if (p == NULL) {
    return;
  }
  pre_clear(p);
  EC_KEY_free(p->ec_key); /* OpenSSL clears the private scalar */
  memset(p, 0, sizeof(*p));
}

void aq_ecdsa_pre_refill(aq_ecdsa_pre *p) {
  if (p->ec_key == NULL || p->kinv != NULL) {
    return;
  }
  BIGNUM *kinv = NULL, *r = NULL;
  if (ECDSA_sign_setup(p->ec_key, NULL, &kinv, &r) != 1) {
    BN_clear_free(kinv);
    BN_clear_free(r);
    ERR_clear_error();
    return;
  }
  p->kinv = kinv;
  p->r = r;
}

int aq_ecdsa_pre_ready(const aq_ecdsa_pre *p) {
  return p->ec_key != NULL && p->kinv != NULL;
}

aq_ssize aq_ecdsa_pre_sign(aq_ecdsa_pre *p, uint8_t *sig, size_t sigcap, const uint8_t *dgst,
                           size_t dgstlen) {
  if (!aq_ecdsa_pre_ready(p)) {
    return AQ_ERR_STATE;
  }
  if (dgstlen > INT_MAX) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  ECDSA_SIG *es = ECDSA_do_sign_ex(dgst, (int)dgstlen, p->kinv, p->r, p->ec_key);
  pre_clear(p); /* one nonce, one signature, whatever happened */
  if (es == NULL) {
    ERR_clear_error();
    return AQ_ERR_CRYPTO;
  }
  aq_ssize rv = AQ_ERR_CRYPTO;
  int len = i2d_ECDSA_SIG(es, NULL);
  if (len > 0 && (size_t)len > sigcap) {
    rv = AQ_ERR_BUFFER_TOO_SMALL;
  } else if (len > 0) {
    unsigned char *q = sig;
    if (i2d_ECDSA_SIG(es, &q) == len) {
      rv = len;
    }
  }
  ECDSA_SIG_free(es);
  ERR_clear_error();
  return rv;
}
