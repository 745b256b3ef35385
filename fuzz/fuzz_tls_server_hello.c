/*
 * fuzz_tls_server_hello.c - the ServerHello/HelloRetryRequest decoder on
 * arbitrary bytes (a message body), then a started client engine fed it at
 * the Initial epoch.
 */
#include "fuzz_tls_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  aq_tls_sh sh;
  if (aq_tls_sh_decode(&sh, data, size) == 0) {
    aq_tls_ext_rx rx;
    uint8_t alert = 0;
    fz_ignore(aq_tls_ext_decode(&rx, &alert, &sh.exts, sh.is_hrr ? AQ_TLS_MSG_HRR : AQ_TLS_MSG_SH));
  }
  fuzz_tls f;
  aq_tls *tls = fz_engine(&f, 0);
  if (tls != NULL) {
    fz_feed(tls, AQ_EPOCH_INITIAL, AQ_TLS_HS_SERVER_HELLO, data, size);
    aq_tls_del(tls);
  }
  return 0;
}
