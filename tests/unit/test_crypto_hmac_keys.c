/*
 * test_crypto_hmac_keys.c - HMAC key-length edge cases of aq_hmac (RFC 2104
 * §2): keys longer than the digest block are hashed first, shorter ones and
 * the empty key are zero-padded.  Expected values: RFC 4231 §4.7 (test case
 * 6) and `openssl mac -digest SHA256|SHA384 -macopt hexkey:... HMAC`.
 */
#include <string.h>

#include "aq_test.h"
#include "aq_crypto.h"

/* RFC 4231 §4.7: a 131-byte key (hashed first), SHA-256 and SHA-384. */
AQ_TEST(crypto_hmac_rfc4231_long_key) {
  uint8_t key[131], out[AQ_HASH_MAX_LEN];
  const char *msg = "Test Using Larger Than Block-Size Key - Hash Key First";
  memset(key, 0xaa, sizeof(key));
  CHECK_INT(aq_hmac(AQ_HASH_SHA256, out, key, sizeof(key), (const uint8_t *)msg, strlen(msg)), 0);
  CHECK(aq_test_memeq_hex(out, 32,
                          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"));
  CHECK_INT(aq_hmac(AQ_HASH_SHA384, out, key, sizeof(key), (const uint8_t *)msg, strlen(msg)), 0);
  CHECK(aq_test_memeq_hex(out, 48,
                          "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
                          "0c2ef6ab4030fe8296248df163f44952"));
}

/* Keys of exactly the block size (kept) and one byte more (hashed). */
AQ_TEST(crypto_hmac_block_boundary_keys) {
  static const struct {
    aq_hash_alg alg;
    size_t keylen;
    const char *mac;
  } v[] = {
      {AQ_HASH_SHA256, 64, "2f8cff867f2668ca93d3c5b03ba9f816746742eda349b3bc4bb35aa27816754c"},
      {AQ_HASH_SHA256, 65, "102ebc7ceb9dff09e5a77413a3cd67382908ece255487006eb0e1e1b801f9ce6"},
      {AQ_HASH_SHA384, 128,
       "b6b4e107425289d77b04f0857d531600348f725f48baeeb129718cc6b4e22012"
       "fb406ce85dc8c9f64765336e7d1b6afa"},
      {AQ_HASH_SHA384, 129,
       "1cd03e84204a37f498f949a0a5a1d36015c6f6685734003ea238d98c223d566c"
       "3b849da8f82ff808afb310cdf8de8386"},
  };
  uint8_t key[129], out[AQ_HASH_MAX_LEN];
  memset(key, 0xaa, sizeof(key));
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    CHECK_INT(aq_hmac(v[i].alg, out, key, v[i].keylen, (const uint8_t *)"abc", 3), 0);
    CHECK(aq_test_memeq_hex(out, aq_hash_len(v[i].alg), v[i].mac));
  }
}

/* The empty key is the all-zero block: the same MAC as a one-byte zero key. */
AQ_TEST(crypto_hmac_empty_key) {
  static const uint8_t zero = 0;
  uint8_t out[AQ_HASH_MAX_LEN], out2[AQ_HASH_MAX_LEN];
  CHECK_INT(aq_hmac(AQ_HASH_SHA256, out, NULL, 0, (const uint8_t *)"abc", 3), 0);
  CHECK(aq_test_memeq_hex(out, 32,
                          "fd7adb152c05ef80dccf50a1fa4c05d5a3ec6da95575fc312ae7c5d091836351"));
  CHECK_INT(aq_hmac(AQ_HASH_SHA384, out, NULL, 0, NULL, 0), 0);
  CHECK_INT(aq_hmac(AQ_HASH_SHA384, out2, &zero, 1, NULL, 0), 0);
  CHECK_MEM(out, out2, 48);
  /* An unknown hash is refused, nothing is computed. */
  CHECK_INT(aq_hmac((aq_hash_alg)99, out, &zero, 1, NULL, 0), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_hkdf_expand((aq_hash_alg)99, out, 16, &zero, 1, NULL, 0), AQ_ERR_INVALID_ARGUMENT);
}
