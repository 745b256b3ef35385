/*
 * fuzz_tls_client_hello.c - the ClientHello decoder and its extensions on
 * arbitrary bytes (the input is a message body), then a server engine fed the
 * same body as a ClientHello at the Initial epoch.
 */
#include "fuzz_tls_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  aq_tls_ch ch;
  if (aq_tls_ch_decode(&ch, data, size) == 0) {
    aq_tls_ext_rx rx;
    uint8_t alert = 0;
    fz_ignore(aq_tls_ext_decode(&rx, &alert, &ch.exts, AQ_TLS_MSG_CH));
  }
  fuzz_tls f;
  aq_tls *tls = fz_engine(&f, 1);
  if (tls != NULL) {
    fz_feed(tls, AQ_EPOCH_INITIAL, AQ_TLS_HS_CLIENT_HELLO, data, size);
    aq_tls_del(tls);
  }
  return 0;
}
