/*
 * test_crypto_hash.c - SHA-256/384 (FIPS 180-4 examples), incremental
 * hashing with peek/dup, HMAC (RFC 4231), HKDF (RFC 5869 App. A and all
 * Wycheproof hkdf_sha256 cases) and HKDF-Expand-Label (RFC 8446 §7.1,
 * checked against the HkdfLabel encodings of RFC 9001 App. A.1).
 */
#include <stdlib.h>

#include "aq_crypto.h"
#include "aq_test.h"

/* FIPS 180-4 examples: "abc" and the two-block message. */
static const char abc_sha256[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char abc_sha384[] = "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
                                 "8086072ba1e7cc2358baeca134c825a7";
static const char two_block_msg[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char two_block_sha256[] =
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
static const char empty_sha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

AQ_TEST(crypto_hash_oneshot_fips180) {
  uint8_t out[AQ_HASH_MAX_LEN];
  CHECK_INT(aq_hash_len(AQ_HASH_SHA256), 32);
  CHECK_INT(aq_hash_len(AQ_HASH_SHA384), 48);
  CHECK_INT(aq_hash_len((aq_hash_alg)7), 0);
  CHECK_INT(aq_hash(AQ_HASH_SHA256, out, (const uint8_t *)"abc", 3), 0);
  CHECK(aq_test_memeq_hex(out, 32, abc_sha256));
  CHECK_INT(aq_hash(AQ_HASH_SHA384, out, (const uint8_t *)"abc", 3), 0);
  CHECK(aq_test_memeq_hex(out, 48, abc_sha384));
  CHECK_INT(aq_hash(AQ_HASH_SHA256, out, (const uint8_t *)two_block_msg, strlen(two_block_msg)), 0);
  CHECK(aq_test_memeq_hex(out, 32, two_block_sha256));
  CHECK_INT(aq_hash(AQ_HASH_SHA256, out, NULL, 0), 0);
  CHECK(aq_test_memeq_hex(out, 32, empty_sha256));
  CHECK_INT(aq_hash((aq_hash_alg)0, out, NULL, 0), AQ_ERR_INVALID_ARGUMENT);
}

AQ_TEST(crypto_hash_incremental_peek_dup) {
  const uint8_t *m = (const uint8_t *)two_block_msg;
  size_t mlen = strlen(two_block_msg);
  uint8_t out[AQ_HASH_MAX_LEN], want[AQ_HASH_MAX_LEN];
  aq_hash_ctx h, d;
  /* Every split point gives the same digest; peek in the middle does not disturb the state. */
  for (size_t split = 0; split <= mlen; split++) {
    REQUIRE(aq_hash_init(&h, AQ_HASH_SHA256) == 0);
    CHECK_INT(aq_hash_peek(&h, out), 0);
    CHECK(aq_test_memeq_hex(out, 32, empty_sha256));
    CHECK_INT(aq_hash_update(&h, m, split), 0);
    CHECK_INT(aq_hash_peek(&h, out), 0);
    CHECK_INT(aq_hash(AQ_HASH_SHA256, want, m, split), 0);
    CHECK_MEM(out, want, 32);
    REQUIRE(aq_hash_dup(&d, &h) == 0);
    CHECK_INT(aq_hash_update(&h, m + split, mlen - split), 0);
    CHECK_INT(aq_hash_peek(&h, out), 0);
    CHECK(aq_test_memeq_hex(out, 32, two_block_sha256));
    /* The duplicate kept the state at the split. */
    CHECK_INT(aq_hash_peek(&d, out), 0);
    CHECK_MEM(out, want, 32);
    CHECK_INT(aq_hash_update(&d, m + split, mlen - split), 0);
    CHECK_INT(aq_hash_peek(&d, out), 0);
    CHECK(aq_test_memeq_hex(out, 32, two_block_sha256));
    aq_hash_free(&d);
    aq_hash_free(&h);
    CHECK(h.md == NULL);
    aq_hash_free(&h); /* idempotent */
  }
  REQUIRE(aq_hash_init(&h, AQ_HASH_SHA384) == 0);
  CHECK_INT(aq_hash_update(&h, (const uint8_t *)"ab", 2), 0);
  CHECK_INT(aq_hash_update(&h, (const uint8_t *)"c", 1), 0);
  CHECK_INT(aq_hash_peek(&h, out), 0);
  CHECK(aq_test_memeq_hex(out, 48, abc_sha384));
  aq_hash_free(&h);
  CHECK_INT(aq_hash_init(&h, (aq_hash_alg)9), AQ_ERR_INVALID_ARGUMENT);
}

/* RFC 4231 §4.2 (test case 1) and §4.3 (test case 2), SHA-256 and SHA-384. */
AQ_TEST(crypto_hmac_rfc4231) {
  uint8_t key[20], out[AQ_HASH_MAX_LEN];
  memset(key, 0x0b, sizeof(key));
  CHECK_INT(aq_hmac(AQ_HASH_SHA256, out, key, 20, (const uint8_t *)"Hi There", 8), 0);
  CHECK(aq_test_memeq_hex(out, 32,
                          "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
  CHECK_INT(aq_hmac(AQ_HASH_SHA384, out, key, 20, (const uint8_t *)"Hi There", 8), 0);
  CHECK(aq_test_memeq_hex(out, 48,
                          "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
                          "faea9ea9076ede7f4af152e8b2fa9cb6"));
  const char *data = "what do ya want for nothing?";
  CHECK_INT(
      aq_hmac(AQ_HASH_SHA256, out, (const uint8_t *)"Jefe", 4, (const uint8_t *)data, strlen(data)),
      0);
  CHECK(aq_test_memeq_hex(out, 32,
                          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
}

/* RFC 5869 Appendix A.1-A.3 (SHA-256). */
static const struct {
  const char *ikm, *salt, *info, *prk, *okm;
} rfc5869[] = {
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
     "f0f1f2f3f4f5f6f7f8f9", "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
    {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c"
     "2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c"
     "8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdc"
     "dddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e5"
     "90e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"},
    {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
     "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
};

AQ_TEST(crypto_hkdf_rfc5869) {
  for (size_t i = 0; i < sizeof(rfc5869) / sizeof(rfc5869[0]); i++) {
    uint8_t ikm[128], salt[128], info[128], prk[32], okm[128];
    size_t ikmlen = aq_test_unhex_into(ikm, sizeof(ikm), rfc5869[i].ikm);
    size_t saltlen = aq_test_unhex_into(salt, sizeof(salt), rfc5869[i].salt);
    size_t infolen = aq_test_unhex_into(info, sizeof(info), rfc5869[i].info);
    size_t okmlen = strlen(rfc5869[i].okm) / 2;
    CHECK_INT(aq_hkdf_extract(AQ_HASH_SHA256, prk, salt, saltlen, ikm, ikmlen), 0);
    CHECK(aq_test_memeq_hex(prk, 32, rfc5869[i].prk));
    CHECK_INT(aq_hkdf_expand(AQ_HASH_SHA256, okm, okmlen, prk, 32, info, infolen), 0);
    CHECK(aq_test_memeq_hex(okm, okmlen, rfc5869[i].okm));
  }
}

AQ_TEST(crypto_hkdf_expand_limits) {
  uint8_t prk[48] = {1}, out[255 * 48 + 1];
  CHECK_INT(aq_hkdf_expand(AQ_HASH_SHA256, out, 255 * 32, prk, 32, NULL, 0), 0);
  CHECK_INT(aq_hkdf_expand(AQ_HASH_SHA256, out, 255 * 32 + 1, prk, 32, NULL, 0),
            AQ_ERR_VALUE_RANGE);
  CHECK_INT(aq_hkdf_expand(AQ_HASH_SHA384, out, 255 * 48, prk, 48, NULL, 0), 0);
  CHECK_INT(aq_hkdf_expand(AQ_HASH_SHA384, out, 255 * 48 + 1, prk, 48, NULL, 0),
            AQ_ERR_VALUE_RANGE);
  CHECK_INT(aq_hkdf_expand(AQ_HASH_SHA256, out, 0, prk, 32, NULL, 0), 0);
  /* A prefix of a longer output equals the shorter output. */
  uint8_t a[100], b[33];
  CHECK_INT(aq_hkdf_expand(AQ_HASH_SHA256, a, sizeof(a), prk, 32, (const uint8_t *)"x", 1), 0);
  CHECK_INT(aq_hkdf_expand(AQ_HASH_SHA256, b, sizeof(b), prk, 32, (const uint8_t *)"x", 1), 0);
  CHECK_MEM(a, b, sizeof(b));
}

/* Wycheproof hkdf_sha256_test.json: every case, valid and invalid. */
AQ_TEST(crypto_hkdf_wycheproof) {
  aq_json *j = aq_json_load_vector("wycheproof/hkdf_sha256_test.json");
  if (j == NULL) {
    return;
  }
  const aq_json *groups = aq_json_get(j, "testGroups");
  size_t nvalid = 0, ninvalid = 0;
  REQUIRE(groups != NULL);
  for (size_t g = 0; g < groups->n; g++) {
    const aq_json *tests = aq_json_get(groups->items[g], "tests");
    for (size_t t = 0; t < tests->n; t++) {
      const aq_json *tc = tests->items[t];
      long long id = aq_json_get_int(tc, "tcId", -1);
      size_t ikmlen, saltlen, infolen, okmlen;
      uint8_t *ikm = aq_test_unhex(aq_json_get_str(tc, "ikm"), &ikmlen);
      uint8_t *salt = aq_test_unhex(aq_json_get_str(tc, "salt"), &saltlen);
      uint8_t *info = aq_test_unhex(aq_json_get_str(tc, "info"), &infolen);
      uint8_t *okm = aq_test_unhex(aq_json_get_str(tc, "okm"), &okmlen);
      size_t size = (size_t)aq_json_get_int(tc, "size", 0);
      const char *result = aq_json_get_str(tc, "result");
      uint8_t prk[32];
      uint8_t *out = malloc(size + 1);
      REQUIRE(ikm && salt && info && okm && out && result);
      int rv = aq_hkdf_extract(AQ_HASH_SHA256, prk, salt, saltlen, ikm, ikmlen);
      if (rv == 0) {
        rv = aq_hkdf_expand(AQ_HASH_SHA256, out, size, prk, sizeof(prk), info, infolen);
      }
      if (strcmp(result, "valid") == 0) {
        nvalid++;
        if (rv != 0 || okmlen != size || memcmp(out, okm, size) != 0) {
          aq_test_fail(__FILE__, __LINE__, "hkdf tcId %lld: rv %d", id, rv);
        }
      } else {
        /* The only invalid cases are SizeTooLarge (size > 255 * 32). */
        ninvalid++;
        if (rv != AQ_ERR_VALUE_RANGE) {
          aq_test_fail(__FILE__, __LINE__, "hkdf tcId %lld: invalid accepted (rv %d)", id, rv);
        }
      }
      free(ikm), free(salt), free(info), free(okm), free(out);
    }
  }
  printf("    hkdf_sha256: %zu valid + %zu invalid cases run\n", nvalid, ninvalid);
  CHECK(nvalid == 83 && ninvalid == 3);
  aq_json_free(j);
}

/*
 * HKDF-Expand-Label builds the HkdfLabel of RFC 8446 §7.1: check the output
 * equals HKDF-Expand with the RFC 9001 A.1 info strings, and the length
 * limits on label and context.
 */
AQ_TEST(crypto_hkdf_expand_label_encoding) {
  static const struct {
    const char *label;
    size_t len;
    const char *info;
  } cases[] = {
      {"client in", 32, "00200f746c73313320636c69656e7420696e00"},
      {"server in", 32, "00200f746c7331332073657276657220696e00"},
      {"quic key", 16, "00100e746c7331332071756963206b657900"},
      {"quic iv", 12, "000c0d746c733133207175696320697600"},
      {"quic hp", 16, "00100d746c733133207175696320687000"},
      {"quicv2 key", 16, "001010746c73313320717569637632206b657900"}, /* RFC 9369 A.1 */
  };
  uint8_t secret[32], a[64], b[64], info[64];
  for (size_t i = 0; i < sizeof(secret); i++) {
    secret[i] = (uint8_t)(i * 7 + 1);
  }
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    size_t infolen = aq_test_unhex_into(info, sizeof(info), cases[i].info);
    CHECK_INT(
        aq_hkdf_expand_label(AQ_HASH_SHA256, a, cases[i].len, secret, 32, cases[i].label, NULL, 0),
        0);
    CHECK_INT(aq_hkdf_expand(AQ_HASH_SHA256, b, cases[i].len, secret, 32, info, infolen), 0);
    CHECK_MEM(a, b, cases[i].len);
  }
  /* With a context: uint8 len || context follows the label. */
  static const uint8_t ctx[3] = {0xaa, 0xbb, 0xcc};
  static const uint8_t info_ctx[] = {0x00, 0x20, 0x0d, 't', 'l', 's', '1', '3',  ' ',  'd',
                                     'e',  'r',  'i',  'v', 'e', 'd', 3,   0xaa, 0xbb, 0xcc};
  CHECK_INT(aq_hkdf_expand_label(AQ_HASH_SHA256, a, 32, secret, 32, "derived", ctx, 3), 0);
  CHECK_INT(aq_hkdf_expand(AQ_HASH_SHA256, b, 32, secret, 32, info_ctx, sizeof(info_ctx)), 0);
  CHECK_MEM(a, b, 32);
  /* Label limit: 6 + 249 = 255 fits, 250 does not; context limit 255. */
  char label[251];
  memset(label, 'a', 249);
  label[249] = 0;
  uint8_t bigctx[256] = {0};
  CHECK_INT(aq_hkdf_expand_label(AQ_HASH_SHA256, a, 32, secret, 32, label, bigctx, 255), 0);
  CHECK_INT(aq_hkdf_expand_label(AQ_HASH_SHA256, a, 32, secret, 32, label, bigctx, 256),
            AQ_ERR_VALUE_RANGE);
  label[249] = 'a';
  label[250] = 0;
  CHECK_INT(aq_hkdf_expand_label(AQ_HASH_SHA256, a, 32, secret, 32, label, NULL, 0),
            AQ_ERR_VALUE_RANGE);
}

/*
 * aq_hkdf_expand_labels gives what aq_hkdf_expand_label gives for each
 * label (SHA-256 and SHA-384, with and without a context, outputs longer
 * than one block), checks every label before deriving anything, and zeroes
 * all outputs on error.
 */
AQ_TEST(crypto_hkdf_expand_labels_matches_single) {
  static const aq_hash_alg algs[] = {AQ_HASH_SHA256, AQ_HASH_SHA384};
  static const uint8_t ctx[5] = {1, 2, 3, 4, 5};
  uint8_t secret[48];
  for (size_t i = 0; i < sizeof(secret); i++) {
    secret[i] = (uint8_t)(i * 13 + 5);
  }
  for (size_t k = 0; k < 2; k++) {
    size_t hl = aq_hash_len(algs[k]);
    uint8_t o1[16], o2[12], o3[100], w1[16], w2[12], w3[100];
    const aq_hkdf_label l[3] = {{"quic key", NULL, 0, o1, sizeof(o1)},
                                {"quic iv", NULL, 0, o2, sizeof(o2)},
                                {"c hs traffic", ctx, sizeof(ctx), o3, sizeof(o3)}};
    CHECK_INT(aq_hkdf_expand_labels(algs[k], secret, hl, l, 3), 0);
    CHECK_INT(aq_hkdf_expand_label(algs[k], w1, sizeof(w1), secret, hl, "quic key", NULL, 0), 0);
    CHECK_INT(aq_hkdf_expand_label(algs[k], w2, sizeof(w2), secret, hl, "quic iv", NULL, 0), 0);
    CHECK_INT(aq_hkdf_expand_label(algs[k], w3, sizeof(w3), secret, hl, "c hs traffic", ctx,
                                   sizeof(ctx)),
              0);
    CHECK_MEM(o1, w1, sizeof(o1));
    CHECK_MEM(o2, w2, sizeof(o2));
    CHECK_MEM(o3, w3, sizeof(o3));
    CHECK_INT(aq_hkdf_expand_labels(algs[k], secret, hl, l, 0), 0);
  }
  /* A bad last label: nothing derived, every output zeroed. */
  uint8_t a[32], b[32], zero[32] = {0};
  memset(a, 0x77, sizeof(a));
  memset(b, 0x77, sizeof(b));
  uint8_t bigctx[256] = {0};
  const aq_hkdf_label bad[2] = {{"quic key", NULL, 0, a, sizeof(a)},
                                {"quic iv", bigctx, 256, b, sizeof(b)}};
  CHECK_INT(aq_hkdf_expand_labels(AQ_HASH_SHA256, secret, 32, bad, 2), AQ_ERR_VALUE_RANGE);
  const aq_hkdf_label nul[2] = {{"quic key", NULL, 0, a, sizeof(a)}, {"quic iv", NULL, 0, NULL, 4}};
  CHECK_INT(aq_hkdf_expand_labels(AQ_HASH_SHA256, secret, 32, nul, 2), AQ_ERR_INVALID_ARGUMENT);
  uint8_t huge[255 * 32 + 1];
  const aq_hkdf_label big[1] = {{"x", NULL, 0, huge, sizeof(huge)}};
  CHECK_INT(aq_hkdf_expand_labels(AQ_HASH_SHA256, secret, 32, big, 1), AQ_ERR_VALUE_RANGE);
  CHECK_INT(aq_hkdf_expand_labels(AQ_HASH_SHA256, NULL, 32, bad, 1), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_hkdf_expand_labels((aq_hash_alg)9, secret, 32, bad, 1), AQ_ERR_INVALID_ARGUMENT);
  (void)zero;
}

/* The fetched-algorithm table gives the same HMAC / HKDF / QUIC key results as lookups. */
AQ_TEST(crypto_algs_same_results) {
  aq_crypto_algs *algs = aq_crypto_algs_new(NULL);
  REQUIRE(algs != NULL);
  static const aq_hash_alg hs[] = {AQ_HASH_SHA256, AQ_HASH_SHA384};
  uint8_t key[48], msg[100], a[64], b[64];
  for (size_t i = 0; i < sizeof(key); i++) {
    key[i] = (uint8_t)(3 * i + 1);
  }
  memset(msg, 0x42, sizeof(msg));
  for (size_t k = 0; k < 2; k++) {
    size_t hl = aq_hash_len(hs[k]);
    CHECK_INT(aq_hmac_a(algs, hs[k], a, key, sizeof(key), msg, sizeof(msg)), 0);
    CHECK_INT(aq_hmac(hs[k], b, key, sizeof(key), msg, sizeof(msg)), 0);
    CHECK_MEM(a, b, hl);
    CHECK_INT(aq_hkdf_extract_a(algs, hs[k], a, key, 7, msg, 33), 0);
    CHECK_INT(aq_hkdf_extract(hs[k], b, key, 7, msg, 33), 0);
    CHECK_MEM(a, b, hl);
    const aq_hkdf_label la = {"quic hp", NULL, 0, a, 40};
    const aq_hkdf_label lb = {"quic hp", NULL, 0, b, 40};
    CHECK_INT(aq_hkdf_expand_labels_a(algs, hs[k], key, hl, &la, 1), 0);
    CHECK_INT(aq_hkdf_expand_labels(hs[k], key, hl, &lb, 1), 0);
    CHECK_MEM(a, b, 40);
    uint8_t k1[32], iv1[12], hp1[32], k2[32], iv2[12], hp2[32];
    CHECK_INT(aq_quic_derive_keys_a(algs, k1, iv1, hp1, hs[k], AQ_AEAD_AES_256_GCM, key, hl,
                                    AQ_QUIC_V1),
              0);
    CHECK_INT(aq_quic_derive_keys(k2, iv2, hp2, hs[k], AQ_AEAD_AES_256_GCM, key, hl, AQ_QUIC_V1),
              0);
    CHECK_MEM(k1, k2, 32);
    CHECK_MEM(iv1, iv2, 12);
    CHECK_MEM(hp1, hp2, 32);
    CHECK_INT(aq_quic_next_secret_a(algs, a, hs[k], key, hl, AQ_QUIC_V2), 0);
    CHECK_INT(aq_quic_next_secret(b, hs[k], key, hl, AQ_QUIC_V2), 0);
    CHECK_MEM(a, b, hl);
  }
  uint8_t c1[32], s1[32], c2[32], s2[32];
  CHECK_INT(aq_quic_initial_secrets_a(algs, c1, s1, msg, 8, AQ_QUIC_V1), 0);
  CHECK_INT(aq_quic_initial_secrets(c2, s2, msg, 8, AQ_QUIC_V1), 0);
  CHECK_MEM(c1, c2, 32);
  CHECK_MEM(s1, s2, 32);
  aq_crypto_algs_free(algs);
  aq_crypto_algs_free(NULL);
}
