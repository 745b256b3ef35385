/* aq_crypto_int.h - inside the OpenSSL wrappers: the fetched-algorithm table. */
#ifndef AQ_CRYPTO_INT_H
#define AQ_CRYPTO_INT_H

#include <openssl/evp.h>

#include "aq_crypto.h"

#define AQ_ALGS_NMD 2   /* aq_hash_alg - 1 */
#define AQ_ALGS_NAEAD 3 /* aq_aead_alg - 1 */

struct aq_crypto_algs {
  const aq_mem *mem;
  EVP_MD *md[AQ_ALGS_NMD];
  EVP_CIPHER *aead[AQ_ALGS_NAEAD]; /* the AEADs */
  EVP_CIPHER *hp[AQ_ALGS_NAEAD];   /* their header protection ciphers (RFC 9001 §5.4) */
};

#endif
