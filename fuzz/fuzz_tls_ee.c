/* fuzz_tls_ee.c - EncryptedExtensions (and CertificateRequest) decoding on arbitrary bytes. */
#include "fuzz_tls_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  aq_tls_ext_list ee;
  aq_tls_ext_rx rx;
  uint8_t alert = 0;
  if (aq_tls_ee_decode(&ee, data, size) == 0) {
    fz_ignore(aq_tls_ext_decode(&rx, &alert, &ee, AQ_TLS_MSG_EE));
  }
  aq_tls_cr cr;
  if (aq_tls_cr_decode(&cr, data, size) == 0) {
    fz_ignore(aq_tls_ext_decode(&rx, &alert, &cr.exts, AQ_TLS_MSG_CR));
  }
  return 0;
}
