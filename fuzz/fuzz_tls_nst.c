/*
 * fuzz_tls_nst.c - NewSessionTicket decoding on arbitrary bytes, and a client
 * engine (not yet past its handshake) fed it at the 1-RTT epoch.
 */
#include "fuzz_tls_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  aq_tls_nst nst;
  if (aq_tls_nst_decode(&nst, data, size) == 0) {
    aq_tls_ext_rx rx;
    uint8_t alert = 0;
    fz_ignore(aq_tls_ext_decode(&rx, &alert, &nst.exts, AQ_TLS_MSG_NST));
  }
  fuzz_tls f;
  aq_tls *tls = fz_engine(&f, 0);
  if (tls != NULL) {
    fz_feed(tls, AQ_EPOCH_1RTT, AQ_TLS_HS_NEW_SESSION_TICKET, data, size);
    aq_tls_del(tls);
  }
  return 0;
}
