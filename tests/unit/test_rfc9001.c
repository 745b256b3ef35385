/*
 * test_rfc9001.c - every value of RFC 9001 Appendix A (QUIC v1 Initial
 * secrets, keys, IVs, HP keys, HkdfLabel encodings, the protected client
 * and server Initial packets, Retry, the ChaCha20 short-header packet),
 * read from specs/vectors/quic/rfc9001_appendix_a.txt, and the QUIC v2
 * equivalents of RFC 9369 Appendix A (hex taken from the RFC text).
 */
#include <stdlib.h>

#include "aq_crypto.h"
#include "aq_pprot.h"
#include "aq_test.h"

/* Load the vector file; 0 (test skipped) if it is absent. */
static int load_vectors(aq_kv_file *f) {
  char *path = aq_test_vector_path("quic/rfc9001_appendix_a.txt");
  if (path == NULL) {
    return 0;
  }
  int rv = aq_kv_load(f, path);
  free(path);
  if (rv != 0) {
    aq_test_fail(__FILE__, __LINE__, "cannot load rfc9001_appendix_a.txt");
    return 0;
  }
  return 1;
}

/* A hex value of the file as a malloc'd buffer; NULL (and a failure) if missing. */
static uint8_t *vec_hex(const aq_kv_file *f, const char *name, size_t *len) {
  const char *v = aq_kv_find(f, name);
  uint8_t *out = v != NULL ? aq_test_unhex(v, len) : NULL;
  if (out == NULL) {
    aq_test_fail(__FILE__, __LINE__, "vector %s missing or bad hex", name);
  }
  return out;
}

static uint64_t vec_dec(const aq_kv_file *f, const char *name) {
  const char *v = aq_kv_find(f, name);
  if (v == NULL) {
    aq_test_fail(__FILE__, __LINE__, "vector %s missing", name);
    return 0;
  }
  return strtoull(v, NULL, 10);
}

/* Compare len bytes at p with the named hex value. */
static int vec_eq(const aq_kv_file *f, const char *name, const uint8_t *p, size_t len) {
  const char *v = aq_kv_find(f, name);
  if (v == NULL || !aq_test_memeq_hex(p, len, v)) {
    aq_test_fail(__FILE__, __LINE__, "%s differs", name);
    aq_test_dump("got", p, len);
    return 0;
  }
  return 1;
}

AQ_TEST(rfc9001_a1_initial_secrets_and_keys) {
  aq_kv_file f;
  if (!load_vectors(&f)) {
    return;
  }
  size_t dcidlen, saltlen;
  uint8_t *dcid = vec_hex(&f, "client_dcid", &dcidlen);
  uint8_t *salt = vec_hex(&f, "initial_salt", &saltlen);
  uint8_t initial[32], cs[32], ss[32], key[16], iv[12], hp[16];
  REQUIRE(dcid && salt);
  CHECK_INT(aq_hkdf_extract(AQ_HASH_SHA256, initial, salt, saltlen, dcid, dcidlen), 0);
  vec_eq(&f, "initial_secret", initial, 32);
  CHECK_INT(aq_quic_initial_secrets(cs, ss, dcid, dcidlen, AQ_QUIC_V1), 0);
  vec_eq(&f, "client_initial_secret", cs, 32);
  vec_eq(&f, "server_initial_secret", ss, 32);
  CHECK_INT(
      aq_quic_derive_keys(key, iv, hp, AQ_HASH_SHA256, AQ_AEAD_AES_128_GCM, cs, 32, AQ_QUIC_V1), 0);
  vec_eq(&f, "client_key", key, 16);
  vec_eq(&f, "client_iv", iv, 12);
  vec_eq(&f, "client_hp", hp, 16);
  CHECK_INT(
      aq_quic_derive_keys(key, iv, hp, AQ_HASH_SHA256, AQ_AEAD_AES_128_GCM, ss, 32, AQ_QUIC_V1), 0);
  vec_eq(&f, "server_key", key, 16);
  vec_eq(&f, "server_iv", iv, 12);
  vec_eq(&f, "server_hp", hp, 16);
  CHECK_INT(aq_quic_initial_secrets(cs, ss, dcid, dcidlen, 0xff00001du), AQ_ERR_UNSUPPORTED);
  CHECK_INT(aq_quic_derive_keys(key, iv, hp, AQ_HASH_SHA256, AQ_AEAD_AES_128_GCM, ss, 32, 0),
            AQ_ERR_UNSUPPORTED);
  free(dcid), free(salt);
  aq_kv_free(&f);
}

/* The HkdfLabel encodings: HKDF-Expand with them equals HKDF-Expand-Label with the label. */
AQ_TEST(rfc9001_a1_hkdf_labels) {
  aq_kv_file f;
  if (!load_vectors(&f)) {
    return;
  }
  static const struct {
    const char *name, *label;
    size_t len;
  } labels[] = {{"hkdf_label_client_in", "client in", 32},
                {"hkdf_label_server_in", "server in", 32},
                {"hkdf_label_quic_key", "quic key", 16},
                {"hkdf_label_quic_iv", "quic iv", 12},
                {"hkdf_label_quic_hp", "quic hp", 16}};
  size_t seclen;
  uint8_t *secret = vec_hex(&f, "initial_secret", &seclen);
  REQUIRE(secret);
  for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
    size_t infolen;
    uint8_t *info = vec_hex(&f, labels[i].name, &infolen);
    uint8_t a[32], b[32];
    REQUIRE(info);
    /* The encoding's own length field says how much to derive. */
    CHECK_INT(((size_t)info[0] << 8 | info[1]), labels[i].len);
    CHECK_INT(aq_hkdf_expand(AQ_HASH_SHA256, a, labels[i].len, secret, seclen, info, infolen), 0);
    CHECK_INT(aq_hkdf_expand_label(AQ_HASH_SHA256, b, labels[i].len, secret, seclen,
                                   labels[i].label, NULL, 0),
              0);
    CHECK_MEM(a, b, labels[i].len);
    free(info);
  }
  /* And the client/server secrets come out of the first two. */
  uint8_t out[32];
  size_t infolen;
  uint8_t *info = vec_hex(&f, "hkdf_label_client_in", &infolen);
  REQUIRE(info);
  CHECK_INT(aq_hkdf_expand(AQ_HASH_SHA256, out, 32, secret, seclen, info, infolen), 0);
  vec_eq(&f, "client_initial_secret", out, 32);
  free(info);
  free(secret);
  aq_kv_free(&f);
}

/*
 * Seal header||payload with tx and compare with want byte for byte, then
 * remove header protection and open it with rx and compare with the input.
 */
static void seal_and_open(aq_pprot *tx, aq_pprot *rx, const uint8_t *hdr, size_t hdrlen,
                          const uint8_t *payload, size_t paylen, uint64_t pn, size_t pn_len,
                          const uint8_t *want, size_t wantlen) {
  size_t pktlen = hdrlen + paylen + AQ_AEAD_TAG_LEN;
  uint8_t *pkt = malloc(pktlen);
  size_t pn_offset = hdrlen - pn_len;
  REQUIRE(pkt != NULL);
  CHECK_INT(pktlen, wantlen);
  memcpy(pkt, hdr, hdrlen);
  memcpy(pkt + hdrlen, payload, paylen);
  CHECK_INT(aq_pprot_seal(tx, pkt, pktlen, hdrlen, pn_offset, pn_len, pn), 0);
  if (pktlen == wantlen) {
    CHECK_MEM(pkt, want, wantlen);
  }
  /* Receive side: from the protected bytes of the vector. */
  memcpy(pkt, want, wantlen);
  size_t got_pn_len = 0;
  uint64_t tpn = 0;
  CHECK_INT(aq_pprot_unprotect_header(rx, pkt, wantlen, pn_offset, &got_pn_len, &tpn), 0);
  CHECK_INT(got_pn_len, pn_len);
  CHECK(tpn == (pn & ((1ULL << (8 * pn_len)) - 1)));
  CHECK_MEM(pkt, hdr, hdrlen);
  CHECK_INT(aq_pprot_open(rx, pkt, wantlen, hdrlen, pn), paylen);
  CHECK_MEM(pkt + hdrlen, payload, paylen);
  free(pkt);
}

/* Check the sample and mask values listed for a packet. */
static void check_sample_mask(const aq_kv_file *f, aq_pprot *pp, const uint8_t *pkt,
                              size_t pn_offset, const char *sample_name, const char *mask_name) {
  uint8_t mask[5];
  vec_eq(f, sample_name, pkt + pn_offset + 4, 16);
  CHECK_INT(aq_hp_mask(&pp->hp, mask, pkt + pn_offset + 4), 0);
  vec_eq(f, mask_name, mask, 5);
}

AQ_TEST(rfc9001_a2_client_initial) {
  aq_kv_file f;
  if (!load_vectors(&f)) {
    return;
  }
  size_t dcidlen, framelen, hdrlen, wantlen, phdrlen;
  uint8_t *dcid = vec_hex(&f, "client_dcid", &dcidlen);
  uint8_t *frame = vec_hex(&f, "client_initial_crypto_frame", &framelen);
  uint8_t *hdr = vec_hex(&f, "client_initial_unprotected_header", &hdrlen);
  uint8_t *want = vec_hex(&f, "client_initial_packet", &wantlen);
  uint8_t *phdr = vec_hex(&f, "client_initial_protected_header", &phdrlen);
  size_t paylen = (size_t)vec_dec(&f, "client_initial_payload_len_dec");
  uint64_t pn = vec_dec(&f, "client_initial_pn_dec");
  size_t pn_len = (size_t)vec_dec(&f, "client_initial_pn_len_dec");
  uint8_t cs[32], ss[32];
  aq_pprot tx, rx;
  REQUIRE(dcid && frame && hdr && want && phdr);
  REQUIRE(paylen == 1162 && framelen <= paylen && wantlen == 1200);
  /* The CRYPTO frame padded with PADDING (zero) frames to 1162 bytes. */
  uint8_t *payload = calloc(1, paylen);
  REQUIRE(payload);
  memcpy(payload, frame, framelen);
  REQUIRE(aq_quic_initial_secrets(cs, ss, dcid, dcidlen, AQ_QUIC_V1) == 0);
  REQUIRE(aq_pprot_init(&tx, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, cs, 32, AQ_QUIC_V1) == 0);
  REQUIRE(aq_pprot_init(&rx, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, cs, 32, AQ_QUIC_V1) == 0);
  CHECK_MEM(want, phdr, phdrlen);
  check_sample_mask(&f, &tx, want, hdrlen - pn_len, "client_initial_sample", "client_initial_mask");
  seal_and_open(&tx, &rx, hdr, hdrlen, payload, paylen, pn, pn_len, want, wantlen);
  /* The server's keys cannot open the client's packet. */
  aq_pprot srv;
  REQUIRE(aq_pprot_init(&srv, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, ss, 32, AQ_QUIC_V1) == 0);
  uint8_t *copy = malloc(wantlen);
  size_t l;
  uint64_t t;
  REQUIRE(copy);
  memcpy(copy, want, wantlen);
  CHECK_INT(aq_pprot_unprotect_header(&rx, copy, wantlen, hdrlen - pn_len, &l, &t), 0);
  CHECK_INT(aq_pprot_open(&srv, copy, wantlen, hdrlen, pn), AQ_ERR_DECRYPT);
  free(copy);
  aq_pprot_free(&srv);
  aq_pprot_free(&tx);
  aq_pprot_free(&rx);
  free(dcid), free(frame), free(hdr), free(want), free(phdr), free(payload);
  aq_kv_free(&f);
}

AQ_TEST(rfc9001_a3_server_initial) {
  aq_kv_file f;
  if (!load_vectors(&f)) {
    return;
  }
  size_t dcidlen, paylen, hdrlen, wantlen, phdrlen;
  uint8_t *dcid = vec_hex(&f, "client_dcid", &dcidlen);
  uint8_t *payload = vec_hex(&f, "server_initial_payload", &paylen);
  uint8_t *hdr = vec_hex(&f, "server_initial_unprotected_header", &hdrlen);
  uint8_t *want = vec_hex(&f, "server_initial_packet", &wantlen);
  uint8_t *phdr = vec_hex(&f, "server_initial_protected_header", &phdrlen);
  uint64_t pn = vec_dec(&f, "server_initial_pn_dec");
  size_t pn_len = (size_t)vec_dec(&f, "server_initial_pn_len_dec");
  uint8_t cs[32], ss[32];
  aq_pprot tx, rx;
  REQUIRE(dcid && payload && hdr && want && phdr);
  REQUIRE(aq_quic_initial_secrets(cs, ss, dcid, dcidlen, AQ_QUIC_V1) == 0);
  REQUIRE(aq_pprot_init(&tx, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, ss, 32, AQ_QUIC_V1) == 0);
  REQUIRE(aq_pprot_init(&rx, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, ss, 32, AQ_QUIC_V1) == 0);
  CHECK_MEM(want, phdr, phdrlen);
  check_sample_mask(&f, &tx, want, hdrlen - pn_len, "server_initial_sample", "server_initial_mask");
  seal_and_open(&tx, &rx, hdr, hdrlen, payload, paylen, pn, pn_len, want, wantlen);
  aq_pprot_free(&tx);
  aq_pprot_free(&rx);
  free(dcid), free(payload), free(hdr), free(want), free(phdr);
  aq_kv_free(&f);
}

AQ_TEST(rfc9001_a4_retry) {
  aq_kv_file f;
  if (!load_vectors(&f)) {
    return;
  }
  size_t dcidlen, retrylen, keylen, noncelen;
  uint8_t *dcid = vec_hex(&f, "client_dcid", &dcidlen);
  uint8_t *retry = vec_hex(&f, "retry_packet", &retrylen);
  uint8_t *key = vec_hex(&f, "retry_integrity_key", &keylen);
  uint8_t *nonce = vec_hex(&f, "retry_integrity_nonce", &noncelen);
  uint8_t tag[16];
  REQUIRE(dcid && retry && key && nonce && retrylen > 16);
  CHECK_INT(aq_pprot_retry_tag(tag, AQ_QUIC_V1, dcid, dcidlen, retry, retrylen - 16), 0);
  vec_eq(&f, "retry_integrity_tag", tag, 16);
  CHECK_MEM(tag, retry + retrylen - 16, 16);
  CHECK_INT(aq_pprot_retry_verify(AQ_QUIC_V1, dcid, dcidlen, retry, retrylen), 0);
  /* The listed key and nonce give the same tag through the plain AEAD over the pseudo-packet. */
  uint8_t pseudo[128], out[16];
  aq_aead a;
  REQUIRE(1 + dcidlen + retrylen - 16 <= sizeof(pseudo));
  pseudo[0] = (uint8_t)dcidlen;
  memcpy(pseudo + 1, dcid, dcidlen);
  memcpy(pseudo + 1 + dcidlen, retry, retrylen - 16);
  REQUIRE(aq_aead_init(&a, AQ_AEAD_AES_128_GCM, key) == 0);
  CHECK_INT(aq_aead_seal(&a, out, sizeof(out), nonce, pseudo, 1 + dcidlen + retrylen - 16, NULL, 0),
            16);
  CHECK_MEM(out, tag, 16);
  aq_aead_free(&a);
  /* Every flipped byte of the packet, a wrong ODCID, the v2 keys and truncation all fail. */
  for (size_t i = 0; i < retrylen; i++) {
    retry[i] ^= 0x01;
    CHECK_INT(aq_pprot_retry_verify(AQ_QUIC_V1, dcid, dcidlen, retry, retrylen), AQ_ERR_VERIFY);
    retry[i] ^= 0x01;
  }
  dcid[0] ^= 1;
  CHECK_INT(aq_pprot_retry_verify(AQ_QUIC_V1, dcid, dcidlen, retry, retrylen), AQ_ERR_VERIFY);
  dcid[0] ^= 1;
  CHECK_INT(aq_pprot_retry_verify(AQ_QUIC_V1, dcid, dcidlen - 1, retry, retrylen), AQ_ERR_VERIFY);
  CHECK_INT(aq_pprot_retry_verify(AQ_QUIC_V2, dcid, dcidlen, retry, retrylen), AQ_ERR_VERIFY);
  CHECK_INT(aq_pprot_retry_verify(7, dcid, dcidlen, retry, retrylen), AQ_ERR_UNSUPPORTED);
  for (size_t n = 0; n < 16; n++) {
    CHECK_INT(aq_pprot_retry_verify(AQ_QUIC_V1, dcid, dcidlen, retry, n), AQ_ERR_TRUNCATED);
  }
  uint8_t longcid[21] = {0};
  CHECK_INT(aq_pprot_retry_verify(AQ_QUIC_V1, longcid, 21, retry, retrylen), AQ_ERR_VALUE_RANGE);
  free(dcid), free(retry), free(key), free(nonce);
  aq_kv_free(&f);
}

AQ_TEST(rfc9001_a5_chacha20_short_header) {
  aq_kv_file f;
  if (!load_vectors(&f)) {
    return;
  }
  size_t seclen, hdrlen, ptlen, ctlen, wantlen, phdrlen;
  uint8_t *secret = vec_hex(&f, "chacha_secret", &seclen);
  uint8_t *hdr = vec_hex(&f, "chacha_unprotected_header", &hdrlen);
  uint8_t *pt = vec_hex(&f, "chacha_payload_plaintext", &ptlen);
  uint8_t *ct = vec_hex(&f, "chacha_payload_ciphertext", &ctlen);
  uint8_t *want = vec_hex(&f, "chacha_packet", &wantlen);
  uint8_t *phdr = vec_hex(&f, "chacha_protected_header", &phdrlen);
  uint64_t pn = vec_dec(&f, "chacha_pn_dec");
  size_t pn_len = (size_t)vec_dec(&f, "chacha_pn_len_dec");
  uint8_t key[32], iv[12], hp[32], ku[32], nonce[12];
  REQUIRE(secret && hdr && pt && ct && want && phdr);
  CHECK_INT(aq_quic_derive_keys(key, iv, hp, AQ_HASH_SHA256, AQ_AEAD_CHACHA20_POLY1305, secret,
                                seclen, AQ_QUIC_V1),
            0);
  vec_eq(&f, "chacha_key", key, 32);
  vec_eq(&f, "chacha_iv", iv, 12);
  vec_eq(&f, "chacha_hp", hp, 32);
  CHECK_INT(aq_quic_next_secret(ku, AQ_HASH_SHA256, secret, seclen, AQ_QUIC_V1), 0);
  vec_eq(&f, "chacha_ku", ku, 32);
  /* nonce = iv XOR pn */
  memcpy(nonce, iv, 12);
  for (int i = 0; i < 8; i++) {
    nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
  }
  vec_eq(&f, "chacha_nonce", nonce, 12);
  CHECK_MEM(want + hdrlen, ct, ctlen);
  CHECK_MEM(want, phdr, phdrlen);
  aq_pprot tx, rx;
  REQUIRE(aq_pprot_init(&tx, AQ_AEAD_CHACHA20_POLY1305, AQ_HASH_SHA256, secret, seclen,
                        AQ_QUIC_V1) == 0);
  REQUIRE(aq_pprot_init(&rx, AQ_AEAD_CHACHA20_POLY1305, AQ_HASH_SHA256, secret, seclen,
                        AQ_QUIC_V1) == 0);
  check_sample_mask(&f, &tx, want, hdrlen - pn_len, "chacha_sample", "chacha_mask");
  seal_and_open(&tx, &rx, hdr, hdrlen, pt, ptlen, pn, pn_len, want, wantlen);
  /* After a key update (rekey to "quic ku") the old packet no longer opens, the header still
   * unprotects. */
  uint8_t copy[64];
  size_t l;
  uint64_t t;
  REQUIRE(wantlen <= sizeof(copy));
  CHECK_INT(aq_pprot_rekey(&rx, AQ_HASH_SHA256, ku, 32, AQ_QUIC_V1), 0);
  memcpy(copy, want, wantlen);
  CHECK_INT(aq_pprot_unprotect_header(&rx, copy, wantlen, 1, &l, &t), 0);
  CHECK_MEM(copy, hdr, hdrlen);
  CHECK_INT(aq_pprot_open(&rx, copy, wantlen, hdrlen, pn), AQ_ERR_DECRYPT);
  aq_pprot_free(&tx);
  aq_pprot_free(&rx);
  free(secret), free(hdr), free(pt), free(ct), free(want), free(phdr);
  aq_kv_free(&f);
}

/* ---------------------------------------------------- RFC 9369 Appendix A (QUIC v2) */

/* A.2: the same client Initial (CRYPTO frame padded to 1162 bytes, pn 2) under v2 keys. */
static const char v2_client_initial_packet[] =
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
    "dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
    "9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
    "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
    "12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
    "cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
    "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
    "12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
    "d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
    "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
    "bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
    "636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
    "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
    "16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
    "4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
    "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
    "8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
    "14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
    "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
    "abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
    "80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
    "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
    "d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
    "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
    "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
    "f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
    "10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
    "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
    "06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
    "8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
    "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
    "e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
    "5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
    "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
    "d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
    "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
    "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
    "a18b2faa745b6fe189cf772a9f84cbfc";

static const char v2_client_hdr[] = "d36b3343cf088394c8f03e5157080000449e00000002";
static const char v2_server_hdr[] = "d16b3343cf0008f067a5502a4262b50040750001";
static const char v2_server_packet[] =
    "dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698"
    "baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17"
    "f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2"
    "c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8"
    "4bed8521e2e140";
static const char v2_retry[] =
    "cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6";
static const char v2_chacha_packet[] = "5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba";

AQ_TEST(rfc9369_v2_keys) {
  uint8_t dcid[8], cs[32], ss[32], key[32], iv[12], hp[32], ku[32], secret[32];
  aq_test_unhex_into(dcid, 8, "8394c8f03e515708");
  CHECK_INT(aq_quic_initial_secrets(cs, ss, dcid, 8, AQ_QUIC_V2), 0);
  CHECK(aq_test_memeq_hex(cs, 32,
                          "14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b"));
  CHECK(aq_test_memeq_hex(ss, 32,
                          "0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1"));
  CHECK_INT(
      aq_quic_derive_keys(key, iv, hp, AQ_HASH_SHA256, AQ_AEAD_AES_128_GCM, cs, 32, AQ_QUIC_V2), 0);
  CHECK(aq_test_memeq_hex(key, 16, "8b1a0bc121284290a29e0971b5cd045d"));
  CHECK(aq_test_memeq_hex(iv, 12, "91f73e2351d8fa91660e909f"));
  CHECK(aq_test_memeq_hex(hp, 16, "45b95e15235d6f45a6b19cbcb0294ba9"));
  CHECK_INT(
      aq_quic_derive_keys(key, iv, hp, AQ_HASH_SHA256, AQ_AEAD_AES_128_GCM, ss, 32, AQ_QUIC_V2), 0);
  CHECK(aq_test_memeq_hex(key, 16, "82db637861d55e1d011f19ea71d5d2a7"));
  CHECK(aq_test_memeq_hex(iv, 12, "dd13c276499c0249d3310652"));
  CHECK(aq_test_memeq_hex(hp, 16, "edf6d05c83121201b436e16877593c3a"));
  aq_test_unhex_into(secret, 32,
                     "9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");
  CHECK_INT(aq_quic_derive_keys(key, iv, hp, AQ_HASH_SHA256, AQ_AEAD_CHACHA20_POLY1305, secret, 32,
                                AQ_QUIC_V2),
            0);
  CHECK(aq_test_memeq_hex(key, 32,
                          "3bfcddd72bcf02541d7fa0dd1f5f9eeea817e09a6963a0e6c7df0f9a1bab90f2"));
  CHECK(aq_test_memeq_hex(iv, 12, "a6b5bc6ab7dafce30ffff5dd"));
  CHECK(aq_test_memeq_hex(hp, 32,
                          "d659760d2ba434a226fd37b35c69e2da8211d10c4f12538787d65645d5d1b8e2"));
  CHECK_INT(aq_quic_next_secret(ku, AQ_HASH_SHA256, secret, 32, AQ_QUIC_V2), 0);
  CHECK(aq_test_memeq_hex(ku, 32,
                          "c69374c49e3d2a9466fa689e49d476db5d0dfbc87d32ceeaa6343fd0ae4c7d88"));
  CHECK_INT(aq_quic_next_secret(ku, AQ_HASH_SHA256, secret, 32, 2), AQ_ERR_UNSUPPORTED);
}

AQ_TEST(rfc9369_v2_packets) {
  aq_kv_file f;
  if (!load_vectors(&f)) { /* the v1 file has the CRYPTO frames shared by both versions */
    return;
  }
  uint8_t dcid[8], cs[32], ss[32], hdr[32], secret[32];
  size_t framelen, paylen, wantlen, hdrlen;
  uint8_t *frame = vec_hex(&f, "client_initial_crypto_frame", &framelen);
  uint8_t *spayload = vec_hex(&f, "server_initial_payload", &paylen);
  uint8_t *want = aq_test_unhex(v2_client_initial_packet, &wantlen);
  uint8_t *payload = calloc(1, 1162);
  aq_pprot tx, rx;
  REQUIRE(frame && spayload && want && payload && wantlen == 1200);
  memcpy(payload, frame, framelen);
  aq_test_unhex_into(dcid, 8, "8394c8f03e515708");
  REQUIRE(aq_quic_initial_secrets(cs, ss, dcid, 8, AQ_QUIC_V2) == 0);
  /* Client Initial. */
  hdrlen = aq_test_unhex_into(hdr, sizeof(hdr), v2_client_hdr);
  REQUIRE(aq_pprot_init(&tx, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, cs, 32, AQ_QUIC_V2) == 0);
  REQUIRE(aq_pprot_init(&rx, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, cs, 32, AQ_QUIC_V2) == 0);
  seal_and_open(&tx, &rx, hdr, hdrlen, payload, 1162, 2, 4, want, wantlen);
  aq_pprot_free(&tx);
  aq_pprot_free(&rx);
  free(want);
  /* Server Initial. */
  want = aq_test_unhex(v2_server_packet, &wantlen);
  REQUIRE(want);
  hdrlen = aq_test_unhex_into(hdr, sizeof(hdr), v2_server_hdr);
  REQUIRE(aq_pprot_init(&tx, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, ss, 32, AQ_QUIC_V2) == 0);
  REQUIRE(aq_pprot_init(&rx, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, ss, 32, AQ_QUIC_V2) == 0);
  seal_and_open(&tx, &rx, hdr, hdrlen, spayload, paylen, 1, 2, want, wantlen);
  aq_pprot_free(&tx);
  aq_pprot_free(&rx);
  free(want);
  /* Retry (v2 keys); the v1 keys must not verify it. */
  want = aq_test_unhex(v2_retry, &wantlen);
  REQUIRE(want);
  CHECK_INT(aq_pprot_retry_verify(AQ_QUIC_V2, dcid, 8, want, wantlen), 0);
  CHECK_INT(aq_pprot_retry_verify(AQ_QUIC_V1, dcid, 8, want, wantlen), AQ_ERR_VERIFY);
  free(want);
  /* ChaCha20 short header, pn 654360564 on 3 bytes, payload PING. */
  want = aq_test_unhex(v2_chacha_packet, &wantlen);
  REQUIRE(want);
  aq_test_unhex_into(secret, 32,
                     "9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b");
  hdrlen = aq_test_unhex_into(hdr, sizeof(hdr), "4200bff4");
  static const uint8_t ping[1] = {0x01};
  REQUIRE(aq_pprot_init(&tx, AQ_AEAD_CHACHA20_POLY1305, AQ_HASH_SHA256, secret, 32, AQ_QUIC_V2) ==
          0);
  REQUIRE(aq_pprot_init(&rx, AQ_AEAD_CHACHA20_POLY1305, AQ_HASH_SHA256, secret, 32, AQ_QUIC_V2) ==
          0);
  seal_and_open(&tx, &rx, hdr, hdrlen, ping, 1, 654360564, 3, want, wantlen);
  aq_pprot_free(&tx);
  aq_pprot_free(&rx);
  free(want), free(frame), free(spayload), free(payload);
  aq_kv_free(&f);
}
