/*
 * fuzz_observed_addr.c - OBSERVED_ADDRESS (draft-ietf-quic-address-discovery):
 * byte 0 picks IPv4/IPv6, the rest is the frame body after the type.  A
 * decoded frame must use exactly seq + ip + port bytes, and re-encode to
 * the same bytes when its sequence number was minimally encoded.
 */
#include <stdlib.h>

#include "aq_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) {
    return 0;
  }
  uint64_t type = (data[0] & 1) ? AQ_FT_OBSERVED_ADDRESS_V6 : AQ_FT_OBSERVED_ADDRESS_V4;
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
  size_t inlen = aq_wbuf_len(&w);
  aq_rbuf_init(&r, in, inlen);
  if (aq_frame_decode(&f, &r) == 0) {
    size_t used = (size_t)(r.p - in);
    size_t iplen = type == AQ_FT_OBSERVED_ADDRESS_V6 ? 16 : 4;
    size_t seqlen = (size_t)1 << (in[4] >> 6); /* the varint's own length prefix */
    if (f.type != type || f.u.addr.addr.family != ((type & 1) ? AQ_AF_INET6 : AQ_AF_INET) ||
        used != 4 + seqlen + iplen + 2) {
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
