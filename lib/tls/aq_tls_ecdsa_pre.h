/*
 * aq_tls_ecdsa_pre.h - ECDSA with the nonce-dependent work done ahead of
 * time (see aq_tls_ecdsa_pre.c).  Used by aq_pem_signer for P-256 / P-384
 * keys; not for concurrent use.
 */
#ifndef AQ_TLS_ECDSA_PRE_H
#define AQ_TLS_ECDSA_PRE_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"

typedef struct aq_ecdsa_pre {
  void *ec_key; /* EC_KEY, a reference to the signer's key */
  void *kinv;   /* BIGNUM k^-1 mod n, NULL = nothing precomputed */
  void *r;      /* BIGNUM (k*G).x mod n */
} aq_ecdsa_pre;

/** Attach to an EC EVP_PKEY (private); AQ_ERR_UNSUPPORTED for other keys. */
AQ_MUST_CHECK int aq_ecdsa_pre_init(aq_ecdsa_pre *p, void *evp_pkey);
void aq_ecdsa_pre_free(aq_ecdsa_pre *p);
/** Precompute one nonce's (k^-1, r) unless one is ready (failures leave none). */
void aq_ecdsa_pre_refill(aq_ecdsa_pre *p);
/** Non-zero when a precomputed nonce is ready. */
int aq_ecdsa_pre_ready(const aq_ecdsa_pre *p);
/**
 * Sign the digest dgst (already hashed with the scheme's hash) with the
 * precomputed nonce, which is used up: the DER signature goes to sig, its
 * length is returned.  AQ_ERR_STATE when nothing was precomputed,
 * AQ_ERR_BUFFER_TOO_SMALL, AQ_ERR_CRYPTO.
 */
AQ_MUST_CHECK aq_ssize aq_ecdsa_pre_sign(aq_ecdsa_pre *p, uint8_t *sig, size_t sigcap,
                                         const uint8_t *dgst, size_t dgstlen);

#endif
