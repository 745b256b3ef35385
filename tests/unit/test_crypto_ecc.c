/*
 * test_crypto_ecc.c - X25519 (RFC 7748 §5.2 and §6.1, all Wycheproof
 * x25519 cases) and Ed25519 (RFC 8032 §7.1 tests 1-3, all Wycheproof
 * ed25519 cases, flipped bytes).
 */
#include <stdlib.h>

#include "aq_crypto.h"
#include "aq_test.h"

AQ_TEST(crypto_x25519_rfc7748) {
  static const struct {
    const char *scalar, *u, *out;
  } v[] = {
      {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
       "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
       "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
      {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
       "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
       "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
  };
  for (size_t i = 0; i < 2; i++) {
    uint8_t k[32], u[32], out[32];
    aq_test_unhex_into(k, 32, v[i].scalar);
    aq_test_unhex_into(u, 32, v[i].u);
    CHECK_INT(aq_x25519(out, k, u), 0);
    CHECK(aq_test_memeq_hex(out, 32, v[i].out));
  }
  /* §6.1 Diffie-Hellman example. */
  uint8_t a[32], b[32], pa[32], pb[32], ka[32], kb[32];
  aq_test_unhex_into(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  aq_test_unhex_into(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  CHECK_INT(aq_x25519_public(pa, a), 0);
  CHECK(aq_test_memeq_hex(pa, 32,
                          "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
  CHECK_INT(aq_x25519_public(pb, b), 0);
  CHECK(aq_test_memeq_hex(pb, 32,
                          "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));
  CHECK_INT(aq_x25519(ka, a, pb), 0);
  CHECK_INT(aq_x25519(kb, b, pa), 0);
  CHECK(aq_test_memeq_hex(ka, 32,
                          "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"));
  CHECK_MEM(ka, kb, 32);
  /* The same exchange through the fast paths (responder b, initiator a). */
  uint8_t pb2[32], kb2[32], ka2[32];
  CHECK_INT(aq_x25519_exchange(pb2, kb2, b, pa), 0);
  CHECK_MEM(pb2, pb, 32);
  CHECK_MEM(kb2, ka, 32);
  CHECK_INT(aq_x25519_pair(ka2, a, pa, pb), 0);
  CHECK_MEM(ka2, ka, 32);
}

AQ_TEST(crypto_x25519_zero_shared_refused) {
  /* u = 0 and u = 1 are low-order points: the result is all zero and must be refused. */
  uint8_t priv[32], peer[32] = {0}, out[32];
  memset(priv, 0x42, sizeof(priv));
  memset(out, 0xaa, sizeof(out));
  CHECK_INT(aq_x25519(out, priv, peer), AQ_ERR_CRYPTO);
  static const uint8_t zeros[32] = {0};
  CHECK_MEM(out, zeros, 32); /* zeroed on refusal */
  peer[0] = 1;
  CHECK_INT(aq_x25519(out, priv, peer), AQ_ERR_CRYPTO);
}

/*
 * Wycheproof x25519: "valid" cases must give the listed shared secret.
 * "acceptable" cases, our choice: a case whose shared secret is all zero
 * (flag ZeroSharedSecret, low-order public keys) MUST be refused, as RFC
 * 8446 §7.4.2 requires for TLS; every other acceptable case (twist points,
 * non-canonical u >= p, which RFC 7748 §5 says to reduce mod p) must be
 * accepted with the listed result.
 */
AQ_TEST(crypto_x25519_wycheproof) {
  aq_json *j = aq_json_load_vector("wycheproof/x25519_test.json");
  if (j == NULL) {
    return;
  }
  const aq_json *groups = aq_json_get(j, "testGroups");
  size_t nvalid = 0, nacc_ok = 0, nacc_refused = 0, ninvalid = 0;
  static const uint8_t zeros[32] = {0};
  REQUIRE(groups != NULL);
  for (size_t g = 0; g < groups->n; g++) {
    const aq_json *tests = aq_json_get(groups->items[g], "tests");
    for (size_t t = 0; t < tests->n; t++) {
      const aq_json *tc = tests->items[t];
      long long id = aq_json_get_int(tc, "tcId", -1);
      uint8_t pub[32], priv[32], want[32], out[32];
      const char *result = aq_json_get_str(tc, "result");
      REQUIRE(result != NULL);
      REQUIRE(aq_test_unhex_into(pub, 32, aq_json_get_str(tc, "public")) == 32);
      REQUIRE(aq_test_unhex_into(priv, 32, aq_json_get_str(tc, "private")) == 32);
      REQUIRE(aq_test_unhex_into(want, 32, aq_json_get_str(tc, "shared")) == 32);
      int rv = aq_x25519(out, priv, pub);
      int zero = memcmp(want, zeros, 32) == 0;
      /* The fast paths give the same answer, refusals included. */
      uint8_t mypub[32], out2[32], out3[32], pub3[32];
      REQUIRE(aq_x25519_public(mypub, priv) == 0);
      int rv2 = aq_x25519_pair(out2, priv, mypub, pub);
      int rv3 = aq_x25519_exchange(pub3, out3, priv, pub);
      if (rv2 != rv || rv3 != rv || memcmp(out2, out, 32) != 0 || memcmp(out3, out, 32) != 0 ||
          (rv == 0 && memcmp(pub3, mypub, 32) != 0)) {
        aq_test_fail(__FILE__, __LINE__, "x25519 tcId %lld: fast paths disagree", id);
      }
      if (strcmp(result, "valid") == 0) {
        nvalid++;
        if (rv != 0 || memcmp(out, want, 32) != 0) {
          aq_test_fail(__FILE__, __LINE__, "x25519 tcId %lld: rv %d / mismatch", id, rv);
        }
      } else if (strcmp(result, "acceptable") == 0) {
        if (zero) {
          nacc_refused++;
          if (rv != AQ_ERR_CRYPTO || memcmp(out, zeros, 32) != 0) {
            aq_test_fail(__FILE__, __LINE__, "x25519 tcId %lld: zero secret not refused", id);
          }
        } else {
          nacc_ok++;
          if (rv != 0 || memcmp(out, want, 32) != 0) {
            aq_test_fail(__FILE__, __LINE__, "x25519 tcId %lld: acceptable case failed", id);
          }
        }
      } else {
        ninvalid++;
        if (rv == 0) {
          aq_test_fail(__FILE__, __LINE__, "x25519 tcId %lld: invalid accepted", id);
        }
      }
    }
  }
  printf("    x25519: %zu valid, %zu acceptable accepted, %zu acceptable (zero secret) refused, "
         "%zu invalid\n",
         nvalid, nacc_ok, nacc_refused, ninvalid);
  CHECK_INT(nvalid + nacc_ok + nacc_refused + ninvalid, 518);
  CHECK_INT(nvalid, 264);
  aq_json_free(j);
}

/* RFC 8032 §7.1, tests 1-3. */
static const struct {
  const char *sk, *pk, *msg, *sig;
} rfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b"
     "46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11"
     "d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc"
     "6594a7c15e9716ed28dc027beceea1ec40a"},
};

AQ_TEST(crypto_ed25519_rfc8032) {
  for (size_t i = 0; i < sizeof(rfc8032) / sizeof(rfc8032[0]); i++) {
    uint8_t sk[32], pk[32], msg[4], sig[64];
    size_t msglen = aq_test_unhex_into(msg, sizeof(msg), rfc8032[i].msg);
    aq_test_unhex_into(sk, 32, rfc8032[i].sk);
    CHECK_INT(aq_ed25519_public(pk, sk), 0);
    CHECK(aq_test_memeq_hex(pk, 32, rfc8032[i].pk));
    CHECK_INT(aq_ed25519_sign(sig, sk, msglen ? msg : NULL, msglen), 0);
    CHECK(aq_test_memeq_hex(sig, 64, rfc8032[i].sig));
    memset(sig, 0, sizeof(sig));
    CHECK_INT(aq_ed25519_sign_pair(sig, sk, pk, msglen ? msg : NULL, msglen), 0);
    CHECK(aq_test_memeq_hex(sig, 64, rfc8032[i].sig));
    CHECK_INT(aq_ed25519_verify(sig, 64, pk, msg, msglen), 0);
    /* Any flipped bit of the signature, key or message breaks it; wrong lengths too. */
    for (size_t b = 0; b < 64; b++) {
      sig[b] ^= 0x04;
      CHECK_INT(aq_ed25519_verify(sig, 64, pk, msg, msglen), AQ_ERR_VERIFY);
      sig[b] ^= 0x04;
    }
    for (size_t b = 0; b < 32; b++) {
      pk[b] ^= 0x20;
      CHECK_INT(aq_ed25519_verify(sig, 64, pk, msg, msglen), AQ_ERR_VERIFY);
      pk[b] ^= 0x20;
    }
    CHECK_INT(aq_ed25519_verify(sig, 64, pk, (const uint8_t *)"x", 1), AQ_ERR_VERIFY);
    CHECK_INT(aq_ed25519_verify(sig, 63, pk, msg, msglen), AQ_ERR_VERIFY);
    CHECK_INT(aq_ed25519_verify(sig, 65, pk, msg, msglen), AQ_ERR_VERIFY);
    CHECK_INT(aq_ed25519_verify(sig, 0, pk, msg, msglen), AQ_ERR_VERIFY);
  }
}

/* Wycheproof ed25519_test.json: every valid signature verifies, every invalid one is rejected. */
AQ_TEST(crypto_ed25519_wycheproof) {
  aq_json *j = aq_json_load_vector("wycheproof/ed25519_test.json");
  if (j == NULL) {
    return;
  }
  const aq_json *groups = aq_json_get(j, "testGroups");
  size_t nvalid = 0, ninvalid = 0;
  REQUIRE(groups != NULL);
  for (size_t g = 0; g < groups->n; g++) {
    const aq_json *grp = groups->items[g];
    uint8_t pk[32];
    REQUIRE(aq_test_unhex_into(pk, 32, aq_json_get_str(aq_json_get(grp, "publicKey"), "pk")) == 32);
    const aq_json *tests = aq_json_get(grp, "tests");
    for (size_t t = 0; t < tests->n; t++) {
      const aq_json *tc = tests->items[t];
      long long id = aq_json_get_int(tc, "tcId", -1);
      size_t msglen, siglen;
      uint8_t *msg = aq_test_unhex(aq_json_get_str(tc, "msg"), &msglen);
      uint8_t *sig = aq_test_unhex(aq_json_get_str(tc, "sig"), &siglen);
      const char *result = aq_json_get_str(tc, "result");
      REQUIRE(msg && sig && result);
      int rv = aq_ed25519_verify(sig, siglen, pk, msg, msglen);
      if (strcmp(result, "valid") == 0) {
        nvalid++;
        if (rv != 0) {
          aq_test_fail(__FILE__, __LINE__, "ed25519 tcId %lld: valid rejected (%d)", id, rv);
        }
      } else {
        ninvalid++;
        if (rv != AQ_ERR_VERIFY) {
          aq_test_fail(__FILE__, __LINE__, "ed25519 tcId %lld: invalid accepted (%d)", id, rv);
        }
      }
      free(msg), free(sig);
    }
  }
  printf("    ed25519: %zu valid + %zu invalid cases run\n", nvalid, ninvalid);
  CHECK_INT(nvalid + ninvalid, 151);
  CHECK_INT(ninvalid, 63);
  aq_json_free(j);
}
