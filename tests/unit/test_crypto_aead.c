/*
 * test_crypto_aead.c - AES-128/256-GCM and ChaCha20-Poly1305: RFC 8439
 * §2.8.2, every Wycheproof case in scope (valid and invalid), negative
 * cases (flipped tag/ciphertext/AAD/nonce bytes, truncation, small
 * buffers), in-place operation, and the header-protection masks of
 * RFC 9001 App. A.
 */
#include <stdlib.h>

#include "aq_crypto.h"
#include "aq_test.h"

/* RFC 8439 §2.8.2: AEAD_CHACHA20_POLY1305 example. */
static const char r8439_key[] = "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
static const char r8439_nonce[] = "070000004041424344454647";
static const char r8439_aad[] = "50515253c0c1c2c3c4c5c6c7";
static const char r8439_pt[] =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
    "sunscreen would be it.";
static const char r8439_ct[] =
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92"
    "728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b"
    "4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
    "1ae10b594f09e26a7e902ecbd0600691";

AQ_TEST(crypto_aead_chacha_rfc8439) {
  uint8_t key[32], nonce[12], aad[12], buf[256];
  size_t ptlen = strlen(r8439_pt);
  aq_aead a;
  aq_test_unhex_into(key, sizeof(key), r8439_key);
  aq_test_unhex_into(nonce, sizeof(nonce), r8439_nonce);
  aq_test_unhex_into(aad, sizeof(aad), r8439_aad);
  CHECK_INT(aq_aead_key_len(AQ_AEAD_CHACHA20_POLY1305), 32);
  REQUIRE(aq_aead_init(&a, AQ_AEAD_CHACHA20_POLY1305, key) == 0);
  CHECK_INT(aq_aead_seal(&a, buf, sizeof(buf), nonce, aad, 12, (const uint8_t *)r8439_pt, ptlen),
            ptlen + 16);
  CHECK(aq_test_memeq_hex(buf, ptlen + 16, r8439_ct));
  /* Open in place. */
  CHECK_INT(aq_aead_open(&a, buf, sizeof(buf), nonce, aad, 12, buf, ptlen + 16), ptlen);
  CHECK_MEM(buf, r8439_pt, ptlen);
  /* Seal in place gives the same bytes again (the context is reusable). */
  CHECK_INT(aq_aead_seal(&a, buf, sizeof(buf), nonce, aad, 12, buf, ptlen), ptlen + 16);
  CHECK(aq_test_memeq_hex(buf, ptlen + 16, r8439_ct));
  aq_aead_free(&a);
  CHECK(a.enc == NULL && a.dec == NULL);
  aq_aead_free(&a);
}

/* Flip every byte of the tag, ciphertext, AAD and nonce: each must fail with AQ_ERR_DECRYPT. */
static void aead_negative(aq_aead_alg alg) {
  uint8_t key[32], nonce[12], aad[20], pt[40], ct[56], out[56];
  aq_aead a;
  uint64_t seed = (uint64_t)alg;
  aq_test_rand(key, sizeof(key), &seed);
  aq_test_rand(nonce, sizeof(nonce), &seed);
  aq_test_rand(aad, sizeof(aad), &seed);
  aq_test_rand(pt, sizeof(pt), &seed);
  REQUIRE(aq_aead_init(&a, alg, key) == 0);
  REQUIRE(aq_aead_seal(&a, ct, sizeof(ct), nonce, aad, sizeof(aad), pt, sizeof(pt)) == 56);
  CHECK_INT(aq_aead_open(&a, out, sizeof(out), nonce, aad, sizeof(aad), ct, sizeof(ct)), 40);
  CHECK_MEM(out, pt, sizeof(pt));
  for (size_t i = 0; i < sizeof(ct); i++) {
    ct[i] ^= 0x01;
    CHECK_INT(aq_aead_open(&a, out, sizeof(out), nonce, aad, sizeof(aad), ct, sizeof(ct)),
              AQ_ERR_DECRYPT);
    ct[i] ^= 0x01;
  }
  for (size_t i = 0; i < sizeof(aad); i++) {
    aad[i] ^= 0x80;
    CHECK_INT(aq_aead_open(&a, out, sizeof(out), nonce, aad, sizeof(aad), ct, sizeof(ct)),
              AQ_ERR_DECRYPT);
    aad[i] ^= 0x80;
  }
  for (size_t i = 0; i < sizeof(nonce); i++) {
    nonce[i] ^= 0x10;
    CHECK_INT(aq_aead_open(&a, out, sizeof(out), nonce, aad, sizeof(aad), ct, sizeof(ct)),
              AQ_ERR_DECRYPT);
    nonce[i] ^= 0x10;
  }
  /* Truncation at every length (and AAD length off by one). */
  for (size_t n = 0; n < sizeof(ct); n++) {
    CHECK_INT(aq_aead_open(&a, out, sizeof(out), nonce, aad, sizeof(aad), ct, n), AQ_ERR_DECRYPT);
  }
  CHECK_INT(aq_aead_open(&a, out, sizeof(out), nonce, aad, sizeof(aad) - 1, ct, sizeof(ct)),
            AQ_ERR_DECRYPT);
  /* A failed open zeroes the output; the context still works afterwards. */
  ct[0] ^= 1;
  memset(out, 0xee, sizeof(out));
  CHECK_INT(aq_aead_open(&a, out, sizeof(out), nonce, aad, sizeof(aad), ct, sizeof(ct)),
            AQ_ERR_DECRYPT);
  static const uint8_t zeros[40] = {0};
  CHECK_MEM(out, zeros, 40);
  ct[0] ^= 1;
  CHECK_INT(aq_aead_open(&a, out, sizeof(out), nonce, aad, sizeof(aad), ct, sizeof(ct)), 40);
  CHECK_MEM(out, pt, sizeof(pt));
  /* Buffer too small: seal needs ptlen + 16, open needs ctlen - 16. */
  CHECK_INT(aq_aead_seal(&a, out, 55, nonce, aad, sizeof(aad), pt, sizeof(pt)),
            AQ_ERR_BUFFER_TOO_SMALL);
  CHECK_INT(aq_aead_seal(&a, out, 0, nonce, aad, sizeof(aad), pt, 0), AQ_ERR_BUFFER_TOO_SMALL);
  CHECK_INT(aq_aead_open(&a, out, 39, nonce, aad, sizeof(aad), ct, sizeof(ct)),
            AQ_ERR_BUFFER_TOO_SMALL);
  /* Empty plaintext: a bare tag. */
  CHECK_INT(aq_aead_seal(&a, out, 16, nonce, NULL, 0, NULL, 0), 16);
  CHECK_INT(aq_aead_open(&a, NULL, 0, nonce, NULL, 0, out, 16), 0);
  out[15] ^= 1;
  CHECK_INT(aq_aead_open(&a, NULL, 0, nonce, NULL, 0, out, 16), AQ_ERR_DECRYPT);
  aq_aead_free(&a);
}

AQ_TEST(crypto_aead_negative) {
  aead_negative(AQ_AEAD_AES_128_GCM);
  aead_negative(AQ_AEAD_AES_256_GCM);
  aead_negative(AQ_AEAD_CHACHA20_POLY1305);
  aq_aead a;
  uint8_t key[32] = {0};
  CHECK_INT(aq_aead_init(&a, (aq_aead_alg)0, key), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_aead_key_len((aq_aead_alg)4), 0);
}

/* Run one Wycheproof AEAD file.  Returns the number of cases run; counts skipped groups. */
static void aead_wycheproof(const char *file, int chacha, size_t want_run) {
  aq_json *j = aq_json_load_vector(file);
  if (j == NULL) {
    return;
  }
  const aq_json *groups = aq_json_get(j, "testGroups");
  size_t nvalid = 0, ninvalid = 0, nskipped = 0;
  REQUIRE(groups != NULL);
  for (size_t g = 0; g < groups->n; g++) {
    const aq_json *grp = groups->items[g];
    long long keysize = aq_json_get_int(grp, "keySize", 0);
    long long ivsize = aq_json_get_int(grp, "ivSize", 0);
    long long tagsize = aq_json_get_int(grp, "tagSize", 0);
    const aq_json *tests = aq_json_get(grp, "tests");
    aq_aead_alg alg;
    /* In scope: 128/256-bit keys, 96-bit nonces, 128-bit tags (what TLS 1.3/QUIC use). */
    if (ivsize != 96 || tagsize != 128 || (keysize != 128 && keysize != 256) ||
        (chacha && keysize != 256)) {
      nskipped += tests->n;
      continue;
    }
    alg = chacha ? AQ_AEAD_CHACHA20_POLY1305
                 : (keysize == 128 ? AQ_AEAD_AES_128_GCM : AQ_AEAD_AES_256_GCM);
    for (size_t t = 0; t < tests->n; t++) {
      const aq_json *tc = tests->items[t];
      long long id = aq_json_get_int(tc, "tcId", -1);
      size_t keylen, ivlen, aadlen, msglen, ctlen, taglen;
      uint8_t *key = aq_test_unhex(aq_json_get_str(tc, "key"), &keylen);
      uint8_t *iv = aq_test_unhex(aq_json_get_str(tc, "iv"), &ivlen);
      uint8_t *aad = aq_test_unhex(aq_json_get_str(tc, "aad"), &aadlen);
      uint8_t *msg = aq_test_unhex(aq_json_get_str(tc, "msg"), &msglen);
      uint8_t *ct = aq_test_unhex(aq_json_get_str(tc, "ct"), &ctlen);
      uint8_t *tag = aq_test_unhex(aq_json_get_str(tc, "tag"), &taglen);
      const char *result = aq_json_get_str(tc, "result");
      int valid = result != NULL && strcmp(result, "valid") == 0;
      REQUIRE(key && iv && aad && msg && ct && tag && result);
      REQUIRE(keylen == aq_aead_key_len(alg) && ivlen == 12 && taglen == 16 && ctlen == msglen);
      size_t full = ctlen + taglen;
      uint8_t *sealed = malloc(full + 1);
      uint8_t *opened = malloc(full + 1);
      uint8_t *inplace = malloc(full + 1);
      aq_aead a;
      REQUIRE(sealed && opened && inplace);
      REQUIRE(aq_aead_init(&a, alg, key) == 0);
      memcpy(inplace, ct, ctlen);
      memcpy(inplace + ctlen, tag, taglen);
      aq_ssize orv = aq_aead_open(&a, opened, full, iv, aad, aadlen, inplace, full);
      if (valid) {
        nvalid++;
        aq_ssize srv = aq_aead_seal(&a, sealed, full, iv, aad, aadlen, msg, msglen);
        if (srv != (aq_ssize)full || memcmp(sealed, ct, ctlen) != 0 ||
            memcmp(sealed + ctlen, tag, taglen) != 0) {
          aq_test_fail(__FILE__, __LINE__, "%s tcId %lld: seal mismatch", file, id);
        }
        if (orv != (aq_ssize)msglen || memcmp(opened, msg, msglen) != 0) {
          aq_test_fail(__FILE__, __LINE__, "%s tcId %lld: open failed (%lld)", file, id,
                       (long long)orv);
        }
        /* Open in place too. */
        orv = aq_aead_open(&a, inplace, full, iv, aad, aadlen, inplace, full);
        if (orv != (aq_ssize)msglen || memcmp(inplace, msg, msglen) != 0) {
          aq_test_fail(__FILE__, __LINE__, "%s tcId %lld: in-place open failed", file, id);
        }
      } else {
        ninvalid++;
        if (orv != AQ_ERR_DECRYPT) {
          aq_test_fail(__FILE__, __LINE__, "%s tcId %lld: invalid case accepted (%lld)", file, id,
                       (long long)orv);
        }
      }
      aq_aead_free(&a);
      free(key), free(iv), free(aad), free(msg), free(ct), free(tag);
      free(sealed), free(opened), free(inplace);
    }
  }
  printf("    %s: %zu valid + %zu invalid cases run, %zu out of scope skipped\n", file, nvalid,
         ninvalid, nskipped);
  CHECK_INT(nvalid + ninvalid, want_run);
  aq_json_free(j);
}

AQ_TEST(crypto_aead_wycheproof_aes_gcm) {
  /* 316 cases: 133 in scope (keySize 128/256, ivSize 96, tagSize 128), the rest skipped. */
  aead_wycheproof("wycheproof/aes_gcm_test.json", 0, 133);
}

AQ_TEST(crypto_aead_wycheproof_chacha20_poly1305) {
  /* 325 cases: 316 with 96-bit nonces in scope (the others use other nonce sizes). */
  aead_wycheproof("wycheproof/chacha20_poly1305_test.json", 1, 316);
}

/* RFC 9001 App. A.2/A.3/A.5 header-protection masks from their samples. */
AQ_TEST(crypto_hp_masks_rfc9001) {
  static const struct {
    aq_aead_alg alg;
    const char *key, *sample, *mask;
  } cases[] = {
      {AQ_AEAD_AES_128_GCM, "9f50449e04a0e810283a1e9933adedd2", "d1b1c98dd7689fb8ec11d242b123dc9b",
       "437b9aec36"},
      {AQ_AEAD_AES_128_GCM, "c206b8d9b9f0f37644430b490eeaa314", "2cd0991cd25b0aac406a5816b6394100",
       "2ec0d8356a"},
      {AQ_AEAD_CHACHA20_POLY1305,
       "25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4",
       "5e5cd55c41f69080575d7999c25a5bfb", "aefefe7d03"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    uint8_t key[32], sample[16], mask[5];
    aq_hp hp;
    aq_test_unhex_into(key, sizeof(key), cases[i].key);
    aq_test_unhex_into(sample, sizeof(sample), cases[i].sample);
    REQUIRE(aq_hp_init(&hp, cases[i].alg, key) == 0);
    /* Twice: the context is reusable. */
    for (int k = 0; k < 2; k++) {
      CHECK_INT(aq_hp_mask(&hp, mask, sample), 0);
      CHECK(aq_test_memeq_hex(mask, 5, cases[i].mask));
    }
    sample[15] ^= 1;
    CHECK_INT(aq_hp_mask(&hp, mask, sample), 0);
    CHECK(!aq_test_memeq_hex(mask, 5, cases[i].mask));
    aq_hp_free(&hp);
    CHECK(hp.ctx == NULL);
  }
  aq_hp hp;
  uint8_t key[32] = {0};
  CHECK_INT(aq_hp_init(&hp, (aq_aead_alg)9, key), AQ_ERR_INVALID_ARGUMENT);
}

/* AES-256 header protection: mask = AES-256-ECB(key, sample)[0..5], FIPS 197 C.3 block. */
AQ_TEST(crypto_hp_aes256_fips197) {
  uint8_t key[32], sample[16], mask[5];
  aq_hp hp;
  aq_test_unhex_into(key, sizeof(key),
                     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  aq_test_unhex_into(sample, sizeof(sample), "00112233445566778899aabbccddeeff");
  REQUIRE(aq_hp_init(&hp, AQ_AEAD_AES_256_GCM, key) == 0);
  CHECK_INT(aq_hp_mask(&hp, mask, sample), 0);
  CHECK(aq_test_memeq_hex(mask, 5, "8ea2b7ca51")); /* 8ea2b7ca516745bfeafc49904b496089 */
  aq_hp_free(&hp);
}

/*
 * No allocation per packet: count OpenSSL's allocations through
 * CRYPTO_set_mem_functions (installed by a constructor, before OpenSSL
 * allocates anything; pass-through wrappers, so harmless to other tests).
 */
#include <openssl/crypto.h>

static unsigned long ossl_allocs;
static int ossl_hooks_ok;

static void *count_malloc(size_t n, const char *file, int line) {
  (void)file, (void)line;
  ossl_allocs++;
  return malloc(n);
}
static void *count_realloc(void *p, size_t n, const char *file, int line) {
  (void)file, (void)line;
  ossl_allocs++;
  return realloc(p, n);
}
static void count_free(void *p, const char *file, int line) {
  (void)file, (void)line;
  free(p);
}

__attribute__((constructor)) static void install_ossl_counter(void) {
  ossl_hooks_ok = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);
}

AQ_TEST(crypto_aead_hp_no_alloc_per_call) {
  if (!ossl_hooks_ok) {
    aq_test_skip("OpenSSL allocated before the counting hooks could be installed");
    return;
  }
  for (size_t k = 0; k < 3; k++) {
    static const aq_aead_alg algs[] = {AQ_AEAD_AES_128_GCM, AQ_AEAD_AES_256_GCM,
                                       AQ_AEAD_CHACHA20_POLY1305};
    uint8_t key[32] = {1, 2, 3}, nonce[12] = {0}, aad[20] = {9}, buf[1200 + 16], mask[5];
    aq_aead a;
    aq_hp hp;
    REQUIRE(aq_aead_init(&a, algs[k], key) == 0);
    REQUIRE(aq_hp_init(&hp, algs[k], key) == 0);
    memset(buf, 0x5a, sizeof(buf));
    /* Each direction's context is made on its first use. */
    CHECK_INT(aq_aead_seal(&a, buf, sizeof(buf), nonce, aad, sizeof(aad), buf, 1200), 1216);
    CHECK_INT(aq_aead_open(&a, buf, sizeof(buf), nonce, aad, sizeof(aad), buf, 1216), 1200);
    unsigned long before = ossl_allocs;
    for (int i = 0; i < 100; i++) {
      nonce[11] = (uint8_t)i;
      CHECK_INT(aq_aead_seal(&a, buf, sizeof(buf), nonce, aad, sizeof(aad), buf, 1200), 1216);
      CHECK_INT(aq_hp_mask(&hp, mask, buf + 4), 0);
      CHECK_INT(aq_aead_open(&a, buf, sizeof(buf), nonce, aad, sizeof(aad), buf, 1216), 1200);
      buf[0] ^= 1;
      CHECK_INT(aq_aead_open(&a, buf, sizeof(buf), nonce, aad, sizeof(aad), buf, 1216),
                AQ_ERR_DECRYPT);
    }
    CHECK_INT(ossl_allocs - before, 0);
    /* The counter does see allocations (a first seal makes the context). */
    aq_aead b;
    REQUIRE(aq_aead_init(&b, algs[k], key) == 0);
    CHECK_INT(ossl_allocs - before, 0);
    CHECK_INT(aq_aead_seal(&b, buf, sizeof(buf), nonce, aad, sizeof(aad), buf, 1200), 1216);
    CHECK(ossl_allocs > before);
    /* A key that only seals never makes the opening context. */
    CHECK(b.enc != NULL);
    CHECK(b.dec == NULL);
    aq_aead_free(&b);
    aq_hp_free(&hp);
    aq_aead_free(&a);
  }
}

/* AEAD and header protection keyed through the fetched-algorithm table match the lookups. */
AQ_TEST(crypto_aead_hp_with_algs) {
  aq_crypto_algs *algs = aq_crypto_algs_new(NULL);
  REQUIRE(algs != NULL);
  static const aq_aead_alg as[] = {AQ_AEAD_AES_128_GCM, AQ_AEAD_AES_256_GCM,
                                   AQ_AEAD_CHACHA20_POLY1305};
  for (size_t k = 0; k < 3; k++) {
    uint8_t key[32], nonce[12] = {7}, pt[50], c1[66], c2[66], m1[5], m2[5];
    memset(key, (int)(k + 1), sizeof(key));
    memset(pt, 0x33, sizeof(pt));
    aq_aead a, b;
    aq_hp h1, h2;
    REQUIRE(aq_aead_init_a(&a, algs, as[k], key) == 0);
    REQUIRE(aq_aead_init(&b, as[k], key) == 0);
    CHECK(a.cipher != NULL && b.cipher == NULL);
    CHECK_INT(aq_aead_seal(&a, c1, sizeof(c1), nonce, key, 5, pt, sizeof(pt)), 66);
    CHECK_INT(aq_aead_seal(&b, c2, sizeof(c2), nonce, key, 5, pt, sizeof(pt)), 66);
    CHECK_MEM(c1, c2, 66);
    CHECK_INT(aq_aead_open(&b, c1, sizeof(c1), nonce, key, 5, c1, 66), 50);
    CHECK_MEM(c1, pt, 50);
    REQUIRE(aq_hp_init_a(&h1, algs, as[k], key) == 0);
    REQUIRE(aq_hp_init(&h2, as[k], key) == 0);
    CHECK_INT(aq_hp_mask(&h1, m1, c2 + 4), 0);
    CHECK_INT(aq_hp_mask(&h2, m2, c2 + 4), 0);
    CHECK_MEM(m1, m2, 5);
    aq_hp_free(&h1);
    aq_hp_free(&h2);
    aq_aead_free(&a);
    aq_aead_free(&b);
  }
  aq_crypto_algs_free(algs);
}
