/*
 * fuzz_punch_msg.c - the NAT traversal frames of
 * draft-seemann-quic-nat-traversal-02 (ADD_ADDRESS v4/v6, PUNCH_ME_NOW
 * v4/v6, REMOVE_ADDRESS): byte 0 picks the type, the rest is the body.
 * Decoded frames must round-trip (encode, decode, equal), use exactly the
 * bytes their layout says, and be allowed only in 0-RTT/1-RTT packets.
 */
#include <stdlib.h>

#include "aq_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint64_t types[5] = {AQ_FT_ADD_ADDRESS_V4, AQ_FT_ADD_ADDRESS_V6,
                                    AQ_FT_PUNCH_ME_NOW_V4, AQ_FT_PUNCH_ME_NOW_V6,
                                    AQ_FT_REMOVE_ADDRESS};
  if (size < 1) {
    return 0;
  }
  uint64_t type = types[data[0] % 5];
  size_t cap = size + 8;
  uint8_t *in = malloc(cap), *out = malloc(cap + 16);
  aq_wbuf w;
  aq_rbuf r;
  aq_frame f, g;
  if (in == NULL || out == NULL) {
    abort();
  }
  aq_wbuf_init(&w, in, cap);
  aq_wbuf_varint(&w, type);
  aq_wbuf_bytes(&w, data + 1, size - 1);
  if (aq_wbuf_error(&w) != 0) {
    abort();
  }
  aq_rbuf_init(&r, in, aq_wbuf_len(&w));
  if (aq_frame_decode(&f, &r) == 0) {
    size_t used = (size_t)(r.p - in), want = 4;
    const uint8_t *p = in + 4;
    int nvar = type == AQ_FT_PUNCH_ME_NOW_V4 || type == AQ_FT_PUNCH_ME_NOW_V6 ? 2 : 1;
    for (int i = 0; i < nvar; i++) {
      size_t l = (size_t)1 << (p[0] >> 6);
      want += l;
      p += l;
    }
    if (type != AQ_FT_REMOVE_ADDRESS) {
      want += ((type & 1) ? 16u : 4u) + 2u;
    }
    if (f.type != type || used != want || aq_frame_allowed(type, AQ_PKT_INITIAL) ||
        aq_frame_allowed(type, AQ_PKT_HANDSHAKE) || !aq_frame_allowed(type, AQ_PKT_1RTT) ||
        !(aq_frame_flags(type) & AQ_FRAME_F_ACK_ELICITING)) {
      abort();
    }
    aq_wbuf_init(&w, out, cap + 16);
    if (aq_frame_encode(&w, &f) != 0 || aq_frame_encoded_len(&f) != aq_wbuf_len(&w)) {
      abort();
    }
    size_t n = aq_wbuf_len(&w);
    aq_rbuf_init(&r, out, n);
    if (aq_frame_decode(&g, &r) != 0 || aq_rbuf_left(&r) != 0 || !aq_frame_eq(&f, &g)) {
      abort();
    }
    if (n == used && memcmp(out, in, n) != 0) {
      abort();
    }
  }
  free(in);
  free(out);
  return 0;
}
