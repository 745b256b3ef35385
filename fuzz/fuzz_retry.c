/*
 * fuzz_retry.c - Retry packets (RFC 9000 §17.2.5) and their integrity tag
 * (RFC 9001 §5.8).  Byte 0 is the original DCID length (mod 21), then that
 * many DCID bytes, then the datagram.  A decoded Retry must keep its token
 * and tag inside the packet; when the tag verifies against the ODCID, the
 * packet must be exactly what aq_pkt_encode_retry + aq_pprot_retry_tag
 * rebuild from its fields, and any flipped byte must make it fail.
 */
#include <stdlib.h>
#include <string.h>

#include "aq_pkt.h"
#include "aq_pprot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) {
    return 0;
  }
  size_t odlen = data[0] % (AQ_MAX_CIDLEN + 1);
  if (size < 1 + odlen) {
    return 0;
  }
  const uint8_t *odcid = data + 1;
  const uint8_t *pkt = data + 1 + odlen;
  size_t len = size - 1 - odlen;
  aq_pkt_hd hd;
  if (aq_pkt_decode_hd(&hd, pkt, len, 8) != 0 || hd.type != AQ_PKT_RETRY) {
    /* Not a Retry: the tag check still runs over arbitrary bytes without harm. */
    int rc = aq_pprot_retry_verify(AQ_PROTO_VER_V1, odcid, odlen, pkt, len);
    if (rc > 0) {
      abort();
    }
    return 0;
  }
  if (hd.pktlen != len || hd.retry_tag + AQ_RETRY_TAG_LEN != pkt + len ||
      hd.token + hd.tokenlen != hd.retry_tag || hd.dcidlen > AQ_MAX_CIDLEN ||
      hd.scidlen > AQ_MAX_CIDLEN) {
    abort();
  }
  if (aq_pprot_retry_verify(hd.version, odcid, odlen, pkt, len) != 0) {
    return 0;
  }
  /* Valid: rebuild it from its fields. */
  uint8_t *buf = malloc(len + 64);
  if (buf == NULL) {
    abort();
  }
  aq_wbuf w;
  aq_wbuf_init(&w, buf, len + 64);
  if (aq_pkt_encode_retry(&w, hd.version, (uint8_t)(hd.first & 0x0fu), hd.dcid, hd.dcidlen, hd.scid,
                          hd.scidlen, hd.token, hd.tokenlen) != 0) {
    abort(); /* a verified Retry has a token and CIDs <= 20 */
  }
  size_t n = aq_wbuf_len(&w);
  if (n + AQ_RETRY_TAG_LEN != len ||
      aq_pprot_retry_tag(buf + n, hd.version, odcid, odlen, buf, n) != 0 ||
      memcmp(buf, pkt, len) != 0) {
    abort();
  }
  /* Integrity: every flipped byte (or another ODCID) fails. */
  for (size_t i = 0; i < len; i++) {
    buf[i] ^= 0x01;
    if (aq_pprot_retry_verify(hd.version, odcid, odlen, buf, len) == 0) {
      abort();
    }
    buf[i] ^= 0x01;
  }
  if (odlen > 0) {
    uint8_t od2[AQ_MAX_CIDLEN];
    memcpy(od2, odcid, odlen);
    od2[0] ^= 0x80;
    if (aq_pprot_retry_verify(hd.version, od2, odlen, buf, len) == 0) {
      abort();
    }
  }
  free(buf);
  return 0;
}
