/*
 * fuzz_tls_cert.c - Certificate decoding on arbitrary bytes; every entry is
 * also tried as an SPKI and as an X.509 certificate.
 */
#include "fuzz_tls_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  aq_tls_cert_msg c;
  if (aq_tls_cert_decode(&c, data, size) != 0) {
    return 0;
  }
  for (size_t i = 0; i < c.n; i++) {
    aq_key_type type;
    const uint8_t *key, *spki;
    size_t keylen, spkilen;
    int a = aq_spki_parse(&type, &key, &keylen, c.entry[i].data, c.entry[i].len);
    int b = aq_x509_get_spki(&spki, &spkilen, c.entry[i].data, c.entry[i].len);
    (void)a;
    (void)b;
  }
  return 0;
}
