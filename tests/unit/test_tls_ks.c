/*
 * test_tls_ks.c - the key schedule and the message codecs against RFC 8448 §3
 * "Simple 1-RTT Handshake": every secret byte for byte, computed from the
 * trace's own messages (decoded with our codecs, hashed into the transcript).
 */
#include <string.h>

#include "aq_crypto.h"
#include "aq_test.h"
#include "aq_tls.h"
#include "aq_tls_ext.h"
#include "aq_tls_group.h"
#include "aq_tls_ks.h"
#include "aq_tls_msg.h"

/* RFC 8448 §3, {client} construct a ClientHello handshake message (196 octets). */
static const char rfc8448_ch[] = "010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef"
                                 "6283024dece7000006130113031302010000910000000b000900000673657276"
                                 "6572ff01000100000a00140012001d0017001800190100010101020103010400"
                                 "230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e"
                                 "51c13cae4d5413691e529aaf2c002b0003020304000d0020001e040305030603"
                                 "020308040805080604010501060102010402050206020202002d00020101001c"
                                 "00024001";
/* {server} construct a ServerHello handshake message (90 octets). */
static const char rfc8448_sh[] = "020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155"
                                 "772ed3e2692800130100002e00330024001d0020c9828876112095fe66762bdb"
                                 "f7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304";
/* {server} send handshake record: payload = EE, Certificate, CertificateVerify, Finished. */
static const char rfc8448_sflight[] =
    "080000240022000a00140012001d00170018001901000101010201030104001c"
    "00024001000000000b0001b9000001b50001b0308201ac30820115a003020102"
    "020102300d06092a864886f70d01010b0500300e310c300a0603550403130372"
    "7361301e170d3136303733303031323335395a170d3236303733303031323335"
    "395a300e310c300a0603550403130372736130819f300d06092a864886f70d01"
    "0101050003818d0030818902818100b4bb498f8279303d980836399b36c6988c"
    "0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19e"
    "aa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e2"
    "2a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a"
    "8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304"
    "023000300b0603551d0f0404030205a0300d06092a864886f70d01010b050003"
    "81810085aad2a0e5b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594"
    "365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd"
    "335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb"
    "2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b4"
    "2b4de100000f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f82"
    "4cd484145ab3ff52f1fda8477b0b7abc90db78e2d33a5c141a078653fa6bef78"
    "0c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671"
    "459e46445c9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda"
    "65cdf5aea20d53dfacd42f74f3140000209b9b141d906337fbd2cbdce71df4de"
    "da4ab42c309572cb7fffee5454b78f0718";
/* {client} construct a Finished handshake message. */
static const char rfc8448_cfin[] =
    "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61";
/* {server} construct a NewSessionTicket handshake message (205 octets). */
static const char rfc8448_nst[] = "040000c90000001efad6aac502000000b22c035d829359ee5ff7af4ec9000000"
                                  "00262a6494dc486d2c8a34cb33fa90bf1b0070ad3c498883c9367c09a2be785a"
                                  "bc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827"
                                  "db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529"
                                  "513e3da2677fa5906c5b3f7d8f92f228bda40dda721470f9fbf297b5aea61764"
                                  "6fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934a"
                                  "e4d3570008002a000400000400";

/* Keys and secrets from the same trace. */
static const char c_priv[] = "49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005";
static const char c_pub[] = "99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c";
static const char s_priv[] = "b1580eeadf6dd589b8ef4f2d5652578cc810e9980191ec8d058308cea216a21e";
static const char s_pub[] = "c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f";
static const char ecdhe[] = "8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d";
static const char early_secret[] =
    "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a";
static const char hs_secret[] = "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac";
static const char thash_sh[] = "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8";
static const char c_hs[] = "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
static const char s_hs[] = "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";
static const char s_fin[] = "9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718";
static const char master[] = "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919";
static const char thash_sfin[] = "9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13";
static const char c_ap[] = "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
static const char s_ap[] = "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643";
static const char exp_master[] = "fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50";
static const char c_fin[] = "a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61";
static const char thash_cfin[] = "209145a96ee8e2a122ff810047cc952684658d6049e86429426db87c54ad143d";
static const char res_master[] = "7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c";
static const char ticket_psk[] = "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3";

typedef struct trace {
  uint8_t ch[256], sh[128], sflight[700], cfin[40], nst[256];
  size_t chlen, shlen, sflen, cfinlen, nstlen;
  /* offsets of the four server messages inside sflight */
  size_t off[5];
} trace;

static void load_trace(trace *t) {
  t->chlen = aq_test_unhex_into(t->ch, sizeof(t->ch), rfc8448_ch);
  t->shlen = aq_test_unhex_into(t->sh, sizeof(t->sh), rfc8448_sh);
  t->sflen = aq_test_unhex_into(t->sflight, sizeof(t->sflight), rfc8448_sflight);
  t->cfinlen = aq_test_unhex_into(t->cfin, sizeof(t->cfin), rfc8448_cfin);
  t->nstlen = aq_test_unhex_into(t->nst, sizeof(t->nst), rfc8448_nst);
  aq_rbuf r;
  aq_rbuf_init(&r, t->sflight, t->sflen);
  t->off[0] = 0;
  for (int i = 0; i < 4; i++) {
    uint8_t type;
    const uint8_t *body;
    size_t bodylen;
    if (aq_tls_msg_split(&r, &type, &body, &bodylen) != 0) {
      break;
    }
    t->off[i + 1] = (size_t)(r.p - t->sflight);
  }
}

/** SHA-256 over ch || sh || the first n server flight messages (|| cfin if with_cfin). */
static void transcript(const trace *t, uint8_t out[32], int n, int with_cfin) {
  aq_hash_ctx h;
  REQUIRE(aq_hash_init(&h, AQ_HASH_SHA256) == 0);
  CHECK(aq_hash_update(&h, t->ch, t->chlen) == 0);
  CHECK(aq_hash_update(&h, t->sh, t->shlen) == 0);
  CHECK(aq_hash_update(&h, t->sflight, t->off[n]) == 0);
  if (with_cfin) {
    CHECK(aq_hash_update(&h, t->cfin, t->cfinlen) == 0);
  }
  CHECK(aq_hash_peek(&h, out) == 0);
  aq_hash_free(&h);
}

AQ_TEST(tls_ks_rfc8448_simple_1rtt) {
  trace t;
  uint8_t th[32], out[32], ikm[32];
  load_trace(&t);
  REQUIRE(t.chlen == 196 && t.shlen == 90 && t.sflen == 657 && t.nstlen == 205);
  CHECK_INT(t.off[1], 40);
  CHECK_INT(t.off[4], 657);

  aq_tls_ks ks;
  REQUIRE(aq_tls_ks_init(&ks, NULL, AQ_HASH_SHA256, NULL, 0) == 0);
  CHECK(aq_test_memeq_hex(ks.secret, 32, early_secret));
  aq_test_unhex_into(ikm, sizeof(ikm), ecdhe);
  REQUIRE(aq_tls_ks_advance(&ks, ikm, 32) == 0);
  CHECK(aq_test_memeq_hex(ks.secret, 32, hs_secret));

  transcript(&t, th, 0, 0);
  CHECK(aq_test_memeq_hex(th, 32, thash_sh));
  REQUIRE(aq_tls_ks_derive(&ks, out, "c hs traffic", th) == 0);
  CHECK(aq_test_memeq_hex(out, 32, c_hs));
  REQUIRE(aq_tls_ks_derive(&ks, out, "s hs traffic", th) == 0);
  CHECK(aq_test_memeq_hex(out, 32, s_hs));

  /* Server Finished over CH..CertificateVerify, keyed by s hs traffic. */
  uint8_t base[32];
  aq_test_unhex_into(base, sizeof(base), s_hs);
  transcript(&t, th, 3, 0);
  REQUIRE(aq_tls_ks_finished(NULL, AQ_HASH_SHA256, out, base, th) == 0);
  CHECK(aq_test_memeq_hex(out, 32, s_fin));
  CHECK_MEM(out, t.sflight + t.off[3] + 4, 32);

  REQUIRE(aq_tls_ks_advance(&ks, NULL, 0) == 0);
  CHECK(aq_test_memeq_hex(ks.secret, 32, master));
  transcript(&t, th, 4, 0);
  CHECK(aq_test_memeq_hex(th, 32, thash_sfin));
  REQUIRE(aq_tls_ks_derive(&ks, out, "c ap traffic", th) == 0);
  CHECK(aq_test_memeq_hex(out, 32, c_ap));
  REQUIRE(aq_tls_ks_derive(&ks, out, "s ap traffic", th) == 0);
  CHECK(aq_test_memeq_hex(out, 32, s_ap));
  REQUIRE(aq_tls_ks_derive(&ks, out, "exp master", th) == 0);
  CHECK(aq_test_memeq_hex(out, 32, exp_master));

  /* Client Finished over CH..server Finished, keyed by c hs traffic. */
  aq_test_unhex_into(base, sizeof(base), c_hs);
  REQUIRE(aq_tls_ks_finished(NULL, AQ_HASH_SHA256, out, base, th) == 0);
  CHECK(aq_test_memeq_hex(out, 32, c_fin));

  transcript(&t, th, 4, 1);
  CHECK(aq_test_memeq_hex(th, 32, thash_cfin));
  REQUIRE(aq_tls_ks_derive(&ks, out, "res master", th) == 0);
  CHECK(aq_test_memeq_hex(out, 32, res_master));

  /* The ticket PSK for ticket_nonce = 00 00 (the NewSessionTicket of the trace). */
  uint8_t psk[32];
  const uint8_t nonce[2] = {0, 0};
  REQUIRE(aq_tls_ks_ticket_psk(NULL, AQ_HASH_SHA256, psk, out, nonce, 2) == 0);
  CHECK(aq_test_memeq_hex(psk, 32, ticket_psk));
  aq_tls_ks_free(&ks);
  for (size_t i = 0; i < sizeof(ks.secret); i++) {
    CHECK(ks.secret[i] == 0);
  }
}

/* A rand callback that hands out fixed bytes (the trace's private keys). */
static int fixed_rand(uint8_t *buf, size_t len, void *ud) {
  const char *hex = ud;
  return aq_test_unhex_into(buf, len, hex) == len ? 0 : -1;
}

AQ_TEST(tls_group_x25519_rfc8448) {
  const aq_tls_group *g = aq_tls_group_find(AQ_TLS_GROUP_X25519);
  REQUIRE(g != NULL);
  CHECK(aq_tls_group_find(0x9999) == NULL);
  uint8_t priv[AQ_TLS_GROUP_MAX_PRIV], cshare[AQ_TLS_GROUP_MAX_SHARE],
      sshare[AQ_TLS_GROUP_MAX_SHARE];
  uint8_t ssec[64], csec[64];
  size_t slen = 0, clen = 0;
  REQUIRE(g->keygen(priv, cshare, fixed_rand, (void *)c_priv) == 0);
  CHECK(aq_test_memeq_hex(cshare, 32, c_pub));
  REQUIRE(g->exchange(sshare, ssec, &slen, cshare, fixed_rand, (void *)s_priv) == 0);
  CHECK(aq_test_memeq_hex(sshare, 32, s_pub));
  CHECK_INT(slen, 32);
  CHECK(aq_test_memeq_hex(ssec, 32, ecdhe));
  REQUIRE(g->finish(csec, &clen, priv, sshare) == 0);
  CHECK_INT(clen, 32);
  CHECK(aq_test_memeq_hex(csec, 32, ecdhe));
  /* A low-order (all-zero) peer point is refused (RFC 8446 §7.4.2). */
  uint8_t zero[32] = {0};
  CHECK(g->finish(csec, &clen, priv, zero) != 0);
}

AQ_TEST(tls_msg_decode_rfc8448) {
  trace t;
  load_trace(&t);
  aq_rbuf r;
  uint8_t type;
  const uint8_t *body;
  size_t bodylen;

  /* ClientHello: extensions as the trace lists them. */
  aq_rbuf_init(&r, t.ch, t.chlen);
  REQUIRE(aq_tls_msg_split(&r, &type, &body, &bodylen) == 0);
  CHECK_INT(type, AQ_TLS_HS_CLIENT_HELLO);
  aq_tls_ch ch;
  REQUIRE(aq_tls_ch_decode(&ch, body, bodylen) == 0);
  CHECK_INT(ch.suites_len, 6);
  CHECK_INT(ch.exts.n, 9);
  aq_tls_ext_rx rx;
  uint8_t alert = 0;
  REQUIRE(aq_tls_ext_decode(&rx, &alert, &ch.exts, AQ_TLS_MSG_CH) == 0);
  CHECK(rx.tls13_offered);
  REQUIRE(rx.sni != NULL);
  CHECK(rx.sni_len == 6 && memcmp(rx.sni, "server", 6) == 0);
  CHECK_INT(rx.groups_len, 18);
  CHECK_INT(rx.shares_len, 36);
  CHECK_INT(rx.sigalgs_len, 30);
  CHECK(rx.psk_dhe_ke);

  /* ServerHello. */
  aq_rbuf_init(&r, t.sh, t.shlen);
  REQUIRE(aq_tls_msg_split(&r, &type, &body, &bodylen) == 0);
  aq_tls_sh sh;
  REQUIRE(aq_tls_sh_decode(&sh, body, bodylen) == 0);
  CHECK(!sh.is_hrr);
  CHECK_INT(sh.suite, 0x1301);
  REQUIRE(aq_tls_ext_decode(&rx, &alert, &sh.exts, AQ_TLS_MSG_SH) == 0);
  CHECK_INT(rx.version, 0x0304);
  CHECK_INT(rx.share_group, 0x001d);
  CHECK(rx.share_len == 32 && aq_test_memeq_hex(rx.share, 32, s_pub));

  /* Server flight. */
  aq_rbuf_init(&r, t.sflight, t.sflen);
  REQUIRE(aq_tls_msg_split(&r, &type, &body, &bodylen) == 0);
  CHECK_INT(type, AQ_TLS_HS_ENCRYPTED_EXTENSIONS);
  aq_tls_ext_list ee;
  REQUIRE(aq_tls_ee_decode(&ee, body, bodylen) == 0);
  CHECK_INT(ee.n, 3);
  REQUIRE(aq_tls_msg_split(&r, &type, &body, &bodylen) == 0);
  CHECK_INT(type, AQ_TLS_HS_CERTIFICATE);
  aq_tls_cert_msg cm;
  REQUIRE(aq_tls_cert_decode(&cm, body, bodylen) == 0);
  CHECK_INT(cm.n, 1);
  CHECK_INT(cm.entry[0].len, 432);
  REQUIRE(aq_tls_msg_split(&r, &type, &body, &bodylen) == 0);
  aq_tls_cv cv;
  REQUIRE(aq_tls_cv_decode(&cv, body, bodylen) == 0);
  CHECK_INT(cv.scheme, 0x0804);
  CHECK_INT(cv.siglen, 128);
  REQUIRE(aq_tls_msg_split(&r, &type, &body, &bodylen) == 0);
  const uint8_t *vd;
  CHECK(aq_tls_fin_decode(&vd, body, bodylen, 32) == 0);
  CHECK(aq_tls_fin_decode(&vd, body, bodylen, 48) != 0);
  CHECK_INT(aq_rbuf_left(&r), 0);

  /* NewSessionTicket with early_data(max 0x400). */
  aq_rbuf_init(&r, t.nst, t.nstlen);
  REQUIRE(aq_tls_msg_split(&r, &type, &body, &bodylen) == 0);
  aq_tls_nst nst;
  REQUIRE(aq_tls_nst_decode(&nst, body, bodylen) == 0);
  CHECK_INT(nst.lifetime, 30);
  CHECK_INT(nst.nonce_len, 2);
  CHECK_INT(nst.ticket_len, 178);
  REQUIRE(aq_tls_ext_decode(&rx, &alert, &nst.exts, AQ_TLS_MSG_NST) == 0);
  CHECK(rx.early_data);
  CHECK_INT(rx.max_early_data, 0x400);
}

/* Every truncation of every trace message body fails to decode, never crashes. */
AQ_TEST(tls_msg_truncation_every_offset) {
  trace t;
  load_trace(&t);
  struct {
    const uint8_t *m;
    size_t len;
  } msgs[] = {{t.ch, t.chlen},
              {t.sh, t.shlen},
              {t.sflight + t.off[0], t.off[1] - t.off[0]},
              {t.sflight + t.off[1], t.off[2] - t.off[1]},
              {t.sflight + t.off[2], t.off[3] - t.off[2]},
              {t.sflight + t.off[3], t.off[4] - t.off[3]},
              {t.nst, t.nstlen}};
  for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
    const uint8_t *body = msgs[i].m + 4;
    size_t full = msgs[i].len - 4;
    for (size_t n = 0; n < full; n++) {
      int rv;
      aq_tls_ch ch;
      aq_tls_sh sh;
      aq_tls_ext_list ee;
      aq_tls_cert_msg cm;
      aq_tls_cv cv;
      aq_tls_nst nst;
      const uint8_t *vd;
      switch (msgs[i].m[0]) {
      case AQ_TLS_HS_CLIENT_HELLO: rv = aq_tls_ch_decode(&ch, body, n); break;
      case AQ_TLS_HS_SERVER_HELLO: rv = aq_tls_sh_decode(&sh, body, n); break;
      case AQ_TLS_HS_ENCRYPTED_EXTENSIONS: rv = aq_tls_ee_decode(&ee, body, n); break;
      case AQ_TLS_HS_CERTIFICATE: rv = aq_tls_cert_decode(&cm, body, n); break;
      case AQ_TLS_HS_CERTIFICATE_VERIFY: rv = aq_tls_cv_decode(&cv, body, n); break;
      case AQ_TLS_HS_FINISHED: rv = aq_tls_fin_decode(&vd, body, n, 32); break;
      default: rv = aq_tls_nst_decode(&nst, body, n); break;
      }
      CHECK(rv != 0);
    }
    /* And the message split refuses a truncated header/body. */
    for (size_t n = 0; n < msgs[i].len; n++) {
      aq_rbuf r;
      uint8_t type;
      const uint8_t *b;
      size_t bl;
      aq_rbuf_init(&r, msgs[i].m, n);
      CHECK_INT(aq_tls_msg_split(&r, &type, &b, &bl), AQ_ERR_TRUNCATED);
      CHECK(r.p == msgs[i].m);
    }
  }
}

/* Extra bytes after a complete body, or a duplicated extension, are refused. */
AQ_TEST(tls_msg_trailing_and_duplicates) {
  trace t;
  load_trace(&t);
  uint8_t buf[300];
  aq_tls_ch ch;
  aq_tls_sh sh;
  memcpy(buf, t.ch + 4, t.chlen - 4);
  buf[t.chlen - 4] = 0;
  CHECK(aq_tls_ch_decode(&ch, buf, t.chlen - 4 + 1) != 0);
  memcpy(buf, t.sh + 4, t.shlen - 4);
  buf[t.shlen - 4] = 0;
  CHECK(aq_tls_sh_decode(&sh, buf, t.shlen - 3) != 0);
  /* ServerHello with supported_versions twice: bump the extension block length by 6. */
  memcpy(buf, t.sh + 4, t.shlen - 4);
  size_t n = t.shlen - 4;
  memcpy(buf + n, "\x00\x2b\x00\x02\x03\x04", 6);
  buf[38] = 0x00; /* extensions length hi */
  buf[39] = (uint8_t)(0x2e + 6);
  CHECK_INT(aq_tls_sh_decode(&sh, buf, n + 6), AQ_ERR_MALFORMED);
  buf[39] = 0x2e + 1;
  CHECK(aq_tls_sh_decode(&sh, buf, n + 6) != 0);
}

/* Derive-Secret over "" (built-in Hash("") constants) equals it with Hash("") computed. */
AQ_TEST(tls_ks_derive_empty_constants) {
  static const aq_hash_alg algs[] = {AQ_HASH_SHA256, AQ_HASH_SHA384};
  for (size_t k = 0; k < 2; k++) {
    aq_tls_ks ks;
    REQUIRE(aq_tls_ks_init(&ks, NULL, algs[k], NULL, 0) == 0);
    uint8_t h[AQ_HASH_MAX_LEN], a[AQ_HASH_MAX_LEN], b[AQ_HASH_MAX_LEN];
    REQUIRE(aq_hash(algs[k], h, NULL, 0) == 0);
    CHECK_INT(aq_tls_ks_derive_empty(&ks, a, "derived"), 0);
    CHECK_INT(aq_tls_ks_derive(&ks, b, "derived", h), 0);
    CHECK_MEM(a, b, ks.hlen);
    /* ...and the multi-label form equals single derivations. */
    uint8_t c[AQ_HASH_MAX_LEN], s[AQ_HASH_MAX_LEN], c1[AQ_HASH_MAX_LEN], s1[AQ_HASH_MAX_LEN];
    CHECK_INT(aq_tls_ks_derive_hs(&ks, h, c, s), 0);
    CHECK_INT(aq_tls_ks_derive(&ks, c1, "c hs traffic", h), 0);
    CHECK_INT(aq_tls_ks_derive(&ks, s1, "s hs traffic", h), 0);
    CHECK_MEM(c, c1, ks.hlen);
    CHECK_MEM(s, s1, ks.hlen);
    const char *const five[5] = {"a", "b", "c", "d", "e"};
    uint8_t *const outs[5] = {a, b, c, s, h};
    CHECK_INT(aq_tls_ks_derive_n(&ks, h, five, outs, 5), AQ_ERR_INVALID_ARGUMENT);
  }
}
