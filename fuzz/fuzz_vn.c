/*
 * fuzz_vn.c - Version Negotiation packets (RFC 9000 §17.2.1, RFC 8999 §6).
 * The input is a datagram.  A decoded VN must have its CIDs and version
 * list inside the packet and re-encode to exactly the same bytes.  The
 * datagram is also fed to a client connection whose CIDs are all 0xaa
 * (8 bytes, so seeds can match them): it must either ignore it or end the
 * connection (never on a list that holds v1, §6.2), and never crash.
 */
#include <stdlib.h>
#include <string.h>

#include "aq_conn.h"
#include "aq_conn_int.h"
#include "aq_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fixed_rand(uint8_t *buf, size_t len, void *ud) {
  (void)ud;
  memset(buf, 0xaa, len);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  aq_pkt_vn vn;
  int has_v1 = 0;
  int is_vn = aq_pkt_decode_vn(&vn, data, size) == 0;
  if (is_vn) {
    if (vn.nversions == 0 || vn.dcid < data || vn.dcid + vn.dcidlen > data + size ||
        vn.scid + vn.scidlen > data + size || vn.versions + 4 * vn.nversions != data + size ||
        7 + vn.dcidlen + vn.scidlen + 4 * vn.nversions != size) {
      abort();
    }
    uint32_t *versions = malloc(vn.nversions * sizeof(uint32_t));
    uint8_t *buf = malloc(size);
    if (versions == NULL || buf == NULL) {
      abort();
    }
    for (size_t i = 0; i < vn.nversions; i++) {
      versions[i] = aq_pkt_vn_version(&vn, i);
      has_v1 |= versions[i] == AQ_PROTO_VER_V1;
    }
    aq_wbuf w;
    aq_wbuf_init(&w, buf, size);
    if (aq_pkt_encode_vn(&w, (uint8_t)(data[0] & 0x7fu), vn.dcid, vn.dcidlen, vn.scid, vn.scidlen,
                         versions, vn.nversions) != 0 ||
        aq_wbuf_len(&w) != size || memcmp(buf, data, size) != 0) {
      abort();
    }
    free(versions);
    free(buf);
  }
  /* A client that has received nothing yet. */
  aq_settings s;
  aq_settings_default(&s);
  aq_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.rand = fixed_rand;
  aq_path path;
  memset(&path, 0, sizeof(path));
  path.local.family = AQ_AF_INET;
  path.remote.family = AQ_AF_INET;
  path.remote.port = 443;
  aq_conn *c;
  if (aq_conn_new(&c, 0, &s, &cb, NULL, NULL, &path, NULL, 0) != 0) {
    abort();
  }
  int rc = size > 0 ? aq_conn_read_pkt(c, &path, data, size, 1) : 0;
  if (is_vn && rc != 0) {
    abort(); /* VN never makes the connection fail fatally */
  }
  if (has_v1 && aq_conn_is_done(c)) {
    abort(); /* §6.2: a VN listing our version is ignored */
  }
  aq_conn_del(c);
  return 0;
}
