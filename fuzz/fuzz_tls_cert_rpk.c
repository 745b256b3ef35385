/*
 * fuzz_tls_cert_rpk.c - arbitrary bytes into the certificate module's
 * parsers: aq_spki_parse (raw public keys, RFC 7250) and aq_x509_get_spki.
 * Invariants: no crash or over-read; a parsed raw key lies inside the input
 * and re-encodes to exactly the input; an SPKI found in a certificate lies
 * inside it; PEM decoding of the bytes never writes past its buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "aq_tls_cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_spki(const uint8_t *data, size_t size) {
  aq_key_type type;
  const uint8_t *key;
  size_t keylen;
  if (aq_spki_parse(&type, &key, &keylen, data, size) != 0) {
    return;
  }
  if (key < data || keylen > size || key + keylen > data + size) {
    abort();
  }
  if (type == AQ_KEY_ED25519 || type == AQ_KEY_MLDSA65) {
    static uint8_t enc[2048];
    aq_ssize n = aq_spki_encode(enc, sizeof(enc), type, key, keylen);
    /* DER is canonical: the only accepted encoding is ours. */
    if (n < 0 || (size_t)n != size || memcmp(enc, data, size) != 0) {
      abort();
    }
  } else if (key != data || keylen != size) {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Copy to an exact-size heap block so ASan sees any over-read. */
  uint8_t *buf = malloc(size ? size : 1);
  if (buf == NULL) {
    return 0;
  }
  if (size > 0) {
    memcpy(buf, data, size);
  }
  check_spki(buf, size);

  const uint8_t *spki;
  size_t spkilen;
  if (aq_x509_get_spki(&spki, &spkilen, buf, size) == 0) {
    if (spki < buf || spki + spkilen > buf + size) {
      abort();
    }
    check_spki(spki, spkilen);
  }

  static uint8_t out[4096];
  aq_ssize n = aq_pem_decode(out, sizeof(out), "CERTIFICATE", (const char *)buf, size);
  if (n > (aq_ssize)sizeof(out)) {
    abort();
  }
  free(buf);
  return 0;
}
