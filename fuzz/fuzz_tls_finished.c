/* fuzz_tls_finished.c - Finished decoding for both hash lengths on arbitrary bytes. */
#include <stdlib.h>

#include "fuzz_tls_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *vd = NULL;
  int a = aq_tls_fin_decode(&vd, data, size, 32);
  int b = aq_tls_fin_decode(&vd, data, size, 48);
  if ((a == 0) != (size == 32) || (b == 0) != (size == 48)) {
    abort();
  }
  /* A message split off arbitrary bytes stays inside them. */
  aq_rbuf r;
  uint8_t type;
  const uint8_t *body;
  size_t bodylen;
  aq_rbuf_init(&r, data, size);
  while (aq_tls_msg_split(&r, &type, &body, &bodylen) == 0) {
    if (body < data || body + bodylen > data + size) {
      abort();
    }
  }
  return 0;
}
