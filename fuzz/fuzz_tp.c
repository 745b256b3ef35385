/*
 * fuzz_tp.c - transport parameters: decode arbitrary bytes as sent by a
 * client and by a server (with one registered extension id); whatever
 * decodes must re-encode, decode again, and re-encode to the same bytes.
 */
#include <stdlib.h>

#include "aq_tp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const uint8_t *data, size_t size, aq_tp_sender sender) {
  aq_tp tp, again;
  aq_tp_default(&tp);
  if (aq_tp_ext_register(&tp, 0x2142) != 0) {
    abort();
  }
  again = tp;
  if (aq_tp_decode(&tp, data, size, sender) != 0) {
    return;
  }
  size_t cap = size + 64;
  uint8_t *b1 = malloc(cap), *b2 = malloc(cap);
  aq_wbuf w;
  if (b1 == NULL || b2 == NULL) {
    abort();
  }
  aq_wbuf_init(&w, b1, cap);
  if (aq_tp_encode(&w, &tp, sender, NULL, 0) != 0) {
    abort();
  }
  size_t n1 = aq_wbuf_len(&w);
  if (aq_tp_decode(&again, b1, n1, sender) != 0) {
    abort();
  }
  aq_wbuf_init(&w, b2, cap);
  if (aq_tp_encode(&w, &again, sender, NULL, 0) != 0 || aq_wbuf_len(&w) != n1 ||
      memcmp(b1, b2, n1) != 0) {
    abort();
  }
  if (tp.has != again.has || tp.max_idle_timeout_ms != again.max_idle_timeout_ms ||
      tp.initial_max_data != again.initial_max_data ||
      tp.active_connection_id_limit != again.active_connection_id_limit ||
      !aq_cid_eq(&tp.initial_scid, &again.initial_scid)) {
    abort();
  }
  free(b1);
  free(b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  one(data, size, AQ_TP_FROM_CLIENT);
  one(data, size, AQ_TP_FROM_SERVER);
  return 0;
}
