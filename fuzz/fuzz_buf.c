/*
 * fuzz_buf.c - the reader's invariants on arbitrary bytes: every read either
 * succeeds and moves forward, or fails and leaves the cursor where it was;
 * sub-readers stay inside their parent; minimal varints re-encode exactly.
 */
#include <stdlib.h>

#include "aq_buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  aq_rbuf r;
  aq_rbuf_init(&r, data, size);
  for (int steps = 0; steps < 1000 && aq_rbuf_left(&r) > 0; steps++) {
    const uint8_t *before = r.p;
    uint8_t op;
    if (aq_rbuf_u8(&r, &op) != 0) {
      abort();
    }
    before = r.p;
    uint64_t v;
    int rv;
    switch (op % 4) {
    case 0:
      rv = aq_rbuf_varint_minimal(&r, &v);
      if (rv == 0) {
        uint8_t enc[8];
        aq_wbuf w;
        aq_wbuf_init(&w, enc, sizeof(enc));
        aq_wbuf_varint(&w, v);
        if (aq_wbuf_error(&w) != 0 || aq_wbuf_len(&w) != (size_t)(r.p - before) ||
            memcmp(enc, before, aq_wbuf_len(&w)) != 0) {
          abort();
        }
      }
      break;
    case 1: {
      aq_rbuf sub;
      rv = aq_rbuf_sub(&r, (aq_lenprefix)(1 + op / 4 % 3), &sub);
      if (rv == 0 && (sub.p < before || sub.end > r.end || sub.end != r.p)) {
        abort();
      }
      break;
    }
    case 2: {
      aq_rbuf sub;
      rv = aq_rbuf_sub(&r, AQ_LEN_VARINT, &sub);
      if (rv == 0 && (sub.end != r.p)) {
        abort();
      }
      break;
    }
    default:
      rv = aq_rbuf_varint(&r, &v);
      if (rv == 0 && v > AQ_VARINT_MAX) {
        abort();
      }
      break;
    }
    if (rv != 0) {
      if (r.p != before) {
        abort(); /* a failed read moved the cursor */
      }
      break;
    }
  }
  return 0;
}
