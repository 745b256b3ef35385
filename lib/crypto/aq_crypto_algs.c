/*
 * aq_crypto_algs.c - OpenSSL algorithms fetched once (see aq_crypto.h).
 *
 * OpenSSL 3.0 resolves an algorithm on every context set-up that names it
 * (EVP_MD_fetch, or a legacy EVP_sha256() handle, which fetches behind the
 * scenes): a name-map lookup and a method-store lookup under locks.  A
 * handshake sets up about thirty HMAC keys and a dozen cipher contexts, and
 * those lookups were 4% of its CPU.  An endpoint fetches once into an
 * aq_crypto_algs and lends it to its connections.
 */
#include <openssl/evp.h>

#include "aq_crypto.h"
#include "aq_crypto_int.h"
#include "aq_mem.h"

aq_crypto_algs *aq_crypto_algs_new(const aq_mem *mem) {
  static const char *const mds[AQ_ALGS_NMD] = {"SHA256", "SHA384"};
  static const char *const aeads[AQ_ALGS_NAEAD] = {"AES-128-GCM", "AES-256-GCM",
                                                   "ChaCha20-Poly1305"};
  static const char *const hps[AQ_ALGS_NAEAD] = {"AES-128-ECB", "AES-256-ECB", "ChaCha20"};
  if (mem == NULL) {
    mem = aq_mem_default();
  }
  aq_crypto_algs *a = aq_mem_calloc(mem, 1, sizeof(*a));
  if (a == NULL) {
    return NULL;
  }
  a->mem = mem;
  int ok = 1;
  for (size_t i = 0; i < AQ_ALGS_NMD; i++) {
    ok &= (a->md[i] = EVP_MD_fetch(NULL, mds[i], NULL)) != NULL;
  }
  for (size_t i = 0; i < AQ_ALGS_NAEAD; i++) {
    ok &= (a->aead[i] = EVP_CIPHER_fetch(NULL, aeads[i], NULL)) != NULL;
    ok &= (a->hp[i] = EVP_CIPHER_fetch(NULL, hps[i], NULL)) != NULL;
  }
  if (!ok) {
    aq_crypto_algs_free(a);
    return NULL;
  }
  return a;
}

void aq_crypto_algs_free(aq_crypto_algs *a) {
  if (a == NULL) {
    return;
  }
  for (size_t i = 0; i < AQ_ALGS_NMD; i++) {
    EVP_MD_free(a->md[i]);
  }
  for (size_t i = 0; i < AQ_ALGS_NAEAD; i++) {
    EVP_CIPHER_free(a->aead[i]);
    EVP_CIPHER_free(a->hp[i]);
  }
  aq_mem_free(a->mem, a);
}
