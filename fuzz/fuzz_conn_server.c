/*
 * fuzz_conn_server.c - arbitrary datagrams into a server endpoint with the
 * real crypto and deterministic randomness.  The input is a sequence of
 * records: u16 length (big endian) + datagram bytes; a record with its top
 * length bit set is delivered from a second client address.  After each
 * datagram the endpoint is drained (write until 0) and its timers run with
 * the clock advanced by 50 ms.  No crash, no leak, no sanitizer report.
 *
 * Inputs that are not Initials of a known DCID die at decryption, which is
 * expected; the corpus holds a real client Initial (from the simulator
 * tests) whose keys anyone can derive, so mutations of it reach the frame
 * parser and the TLS engine.
 */
#include <stdlib.h>
#include <string.h>

#include "antquic.h"
#include "aq_crypto.h"
#include "aq_tls.h"
#include "aq_tls_cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fz {
  uint64_t ctr;
  uint8_t seed[32];
} fz;

static int fz_rand(uint8_t *buf, size_t len, void *ud) {
  fz *f = ud;
  for (size_t i = 0; i < len; i++) {
    f->ctr = f->ctr * 6364136223846793005ULL + 1442695040888963407ULL;
    buf[i] = (uint8_t)(f->ctr >> 56);
  }
  return 0;
}

static aq_ssize fz_sign(void *ctx, uint16_t scheme, uint8_t *sig, size_t sigcap,
                        const uint8_t *msg, size_t msglen) {
  fz *f = ctx;
  if (scheme != AQ_SIG_ED25519 || sigcap < AQ_ED25519_SIG_LEN) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  return aq_ed25519_sign(sig, f->seed, msg, msglen) == 0 ? AQ_ED25519_SIG_LEN : AQ_ERR_CRYPTO;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fz f;
  memset(&f, 0, sizeof(f));
  memset(f.seed, 0x22, sizeof(f.seed));
  uint8_t pub[32], spki[64];
  if (aq_ed25519_public(pub, f.seed) != 0) {
    abort();
  }
  aq_ssize spkilen = aq_spki_encode(spki, sizeof(spki), AQ_KEY_ED25519, pub, 32);
  if (spkilen <= 0) {
    abort();
  }
  aq_tls_credential cred;
  memset(&cred, 0, sizeof(cred));
  cred.sig_scheme = AQ_SIG_ED25519;
  cred.spki = spki;
  cred.spkilen = (size_t)spkilen;
  cred.sign = fz_sign;
  cred.sign_ctx = &f;
  static const uint16_t groups[] = {0x001d};
  aq_settings set;
  aq_settings_default(&set);
  set.cred = &cred;
  set.tls_groups = groups;
  set.ntls_groups = 1;
  set.allow_x509 = 0;
  set.max_conns = 4;
  aq_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.rand = fz_rand;
  aq_ep *ep = aq_ep_new(&set, &cb, &f, NULL, 1);
  if (ep == NULL) {
    abort();
  }
  static const uint8_t sip[4] = {192, 0, 2, 1}, c1[4] = {198, 51, 100, 2}, c2[4] = {203, 0, 113, 9};
  aq_path p1 = {aq_addr_ipv4(sip, 443), aq_addr_ipv4(c1, 50000)};
  aq_path p2 = {aq_addr_ipv4(sip, 443), aq_addr_ipv4(c2, 40000)};
  aq_tstamp now = 1000 * AQ_SECONDS;
  uint8_t out[1500];
  size_t off = 0;
  while (off + 2 <= size) {
    size_t hdr = ((size_t)data[off] << 8) | data[off + 1];
    off += 2;
    size_t len = hdr & 0x7fffu;
    if (len > size - off) {
      len = size - off;
    }
    const aq_path *p = (hdr & 0x8000u) ? &p2 : &p1;
    if (aq_ep_read(ep, p, data + off, len, now) != 0) {
      abort();
    }
    off += len;
    for (int i = 0; i < 64; i++) {
      aq_path op;
      aq_ssize n = aq_ep_write(ep, &op, out, sizeof(out), now);
      if (n <= 0) {
        break;
      }
      if ((size_t)n > sizeof(out)) {
        abort();
      }
    }
    now += 50 * AQ_MILLISECONDS;
    if (aq_ep_get_expiry(ep) <= now && aq_ep_handle_expiry(ep, now) != 0) {
      abort();
    }
  }
  aq_ep_del(ep);
  return 0;
}
