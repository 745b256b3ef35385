/*
 * fuzz_frame.c - frames (RFC 9000 §19 and extensions): decode in a loop
 * until the input is consumed or an error (as ngtcp2 decode_frame.cc); every
 * decoded frame must re-encode (to aq_frame_encoded_len bytes, no longer
 * than its input) and decode again to an equal frame using every byte.
 */
#include <stdlib.h>

#include "aq_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  aq_rbuf r;
  aq_rbuf_init(&r, data, size);
  while (aq_rbuf_left(&r) > 0) {
    const uint8_t *start = r.p;
    aq_frame f, g;
    int rv = aq_frame_decode(&f, &r);
    if (rv != 0) {
      if (r.p != start || rv >= 0) {
        abort(); /* a failed decode moved the cursor, or a bogus code */
      }
      break;
    }
    size_t used = (size_t)(r.p - start);
    if (used == 0 || !(aq_frame_flags(f.type) & AQ_FRAME_F_KNOWN)) {
      abort();
    }
    (void)aq_frame_allowed(f.type, AQ_PKT_INITIAL);
    (void)aq_frame_allowed(f.type, AQ_PKT_0RTT);
    uint8_t *buf = malloc(used + 16);
    if (buf == NULL) {
      abort();
    }
    aq_wbuf w;
    aq_wbuf_init(&w, buf, used + 16);
    if (aq_frame_encode(&w, &f) != 0) {
      abort(); /* a frame we accepted must be sendable */
    }
    size_t n = aq_wbuf_len(&w);
    if (n > used || n != aq_frame_encoded_len(&f)) {
      abort();
    }
    aq_rbuf r2;
    aq_rbuf_init(&r2, buf, n);
    if (aq_frame_decode(&g, &r2) != 0 || aq_rbuf_left(&r2) != 0 || !aq_frame_eq(&f, &g)) {
      abort();
    }
    free(buf);
  }
  return 0;
}
