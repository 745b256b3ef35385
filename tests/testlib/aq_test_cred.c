/* aq_test_cred.c - see aq_test_cred.h. */
#include "aq_test_cred.h"

#include <stdlib.h>
#include <string.h>

#include "aq_crypto.h"
#include "aq_tls_cert.h"

/* aq_tls_credential.sign with the test seed. */
static aq_ssize ed25519_sign(void *ctx, uint16_t scheme, uint8_t *sig, size_t sigcap,
                             const uint8_t *msg, size_t msglen) {
  const aq_test_ed25519 *e = ctx;
  if (scheme != AQ_SIG_ED25519 || sigcap < AQ_ED25519_SIG_LEN) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (aq_ed25519_sign(sig, e->seed, msg, msglen) != 0) {
    return AQ_ERR_CRYPTO;
  }
  return AQ_ED25519_SIG_LEN;
}

void aq_test_ed25519_init(aq_test_ed25519 *e, uint8_t seedbyte) {
  memset(e, 0, sizeof(*e));
  memset(e->seed, seedbyte, sizeof(e->seed));
  uint8_t pub[32];
  if (aq_ed25519_public(pub, e->seed) != 0) {
    abort();
  }
  aq_ssize n = aq_spki_encode(e->spki, sizeof(e->spki), AQ_KEY_ED25519, pub, sizeof(pub));
  if (n <= 0) {
    abort();
  }
  e->spkilen = (size_t)n;
  e->cred.sig_scheme = AQ_SIG_ED25519;
  e->cred.spki = e->spki;
  e->cred.spkilen = e->spkilen;
  e->cred.sign = ed25519_sign;
  e->cred.sign_ctx = e;
}
