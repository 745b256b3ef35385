/*
 * fuzz_tls_cert_verify.c - CertificateVerify decoding on arbitrary bytes; a
 * decoded signature is checked against a fixed Ed25519 key (must not verify).
 */
#include <stdlib.h>

#include "fuzz_tls_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  aq_tls_cv cv;
  if (aq_tls_cv_decode(&cv, data, size) != 0) {
    return 0;
  }
  fuzz_tls f;
  aq_tls *tls = fz_engine(&f, 1);
  if (tls == NULL) {
    return 0;
  }
  static const uint8_t msg[] = "fuzz";
  int rv =
      aq_sig_verify_spki(cv.scheme, f.spki, f.cred.spkilen, msg, sizeof(msg), cv.sig, cv.siglen);
  aq_tls_del(tls);
  (void)rv;
  return 0;
}
