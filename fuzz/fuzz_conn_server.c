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
 *
 * Plaintext mode (first byte 'P'): each record is instead a frame payload
 * that the target seals into a client Initial packet (fixed DCID, the
 * public Initial keys, increasing packet numbers, padded to 1200 bytes),
 * so the fuzzer works directly on frames and CRYPTO/TLS input.
 */
#include <stdlib.h>
#include <string.h>

#include "antquic.h"
#include "aq_buf.h"
#include "aq_crypto.h"
#include "aq_pkt.h"
#include "aq_pprot.h"
#include "aq_tls.h"
#include "aq_tls_cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_SEALED_MAX 65600

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

static aq_ssize fz_sign(void *ctx, uint16_t scheme, uint8_t *sig, size_t sigcap, const uint8_t *msg,
                        size_t msglen) {
  fz *f = ctx;
  if (scheme != AQ_SIG_ED25519 || sigcap < AQ_ED25519_SIG_LEN) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  return aq_ed25519_sign(sig, f->seed, msg, msglen) == 0 ? AQ_ED25519_SIG_LEN : AQ_ERR_CRYPTO;
}

/** Seal payload as a client Initial in a 1200-byte datagram; returns its length or 0. */
static size_t seal_initial(aq_pprot *pp, uint64_t pn, const uint8_t *payload, size_t len,
                           uint8_t *out, size_t cap) {
  static const uint8_t dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
  static const uint8_t scid[4] = {1, 2, 3, 4};
  aq_pkt_hd hd;
  memset(&hd, 0, sizeof(hd));
  hd.type = AQ_PKT_INITIAL;
  hd.version = AQ_PROTO_VER_V1;
  hd.dcid = dcid;
  hd.dcidlen = sizeof(dcid);
  hd.scid = scid;
  hd.scidlen = sizeof(scid);
  hd.pkt_num = pn;
  hd.pn_len = 4;
  hd.len_width = 2;
  aq_wbuf w;
  aq_wbuf_init(&w, out, cap);
  if (aq_pkt_encode_hd(&w, &hd) != 0) {
    return 0;
  }
  aq_wbuf_bytes(&w, payload, len);
  size_t total = aq_wbuf_len(&w) + AQ_AEAD_TAG_LEN;
  if (total < 1200) {
    aq_wbuf_zeros(&w, 1200 - total); /* PADDING frames */
  }
  aq_wbuf_zeros(&w, AQ_AEAD_TAG_LEN);
  if (aq_wbuf_error(&w) != 0) {
    return 0;
  }
  total = aq_wbuf_len(&w);
  if (aq_pkt_set_length(out, &hd, total) != 0 ||
      aq_pprot_seal(pp, out, total, hd.pktlen, hd.pn_offset, hd.pn_len, pn) != 0) {
    return 0;
  }
  return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int plaintext = size > 0 && data[0] == 'P';
  if (plaintext) {
    data++;
    size--;
  }
  aq_pprot cpp;
  memset(&cpp, 0, sizeof(cpp));
  if (plaintext) {
    static const uint8_t dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
    uint8_t cs[32], ss[32];
    if (aq_quic_initial_secrets(cs, ss, dcid, sizeof(dcid), AQ_QUIC_V1) != 0 ||
        aq_pprot_init(&cpp, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, cs, 32, AQ_QUIC_V1) != 0) {
      abort();
    }
  }
  uint64_t pn = 0;
  uint8_t sealed[FZ_SEALED_MAX];
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
    const uint8_t *dg = data + off;
    size_t dglen = len;
    if (plaintext) {
      dglen = seal_initial(&cpp, pn++, data + off, len, sealed, sizeof(sealed));
      dg = sealed;
    }
    if (dglen > 0 && aq_ep_read(ep, p, dg, dglen, now) != 0) {
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
  aq_pprot_free(&cpp);
  return 0;
}
