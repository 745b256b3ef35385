/*
 * test_mldsa65.c - ML-DSA-65 (FIPS 204) against every NIST ACVP record
 * (internal interface: message = M') and every Wycheproof case (external
 * pure interface, with contexts, external mu), plus negative tests.
 */
#include <stdlib.h>

#include "aq_mldsa65.h"
#include "aq_sha3.h"
#include "aq_test.h"

/* Decode hex field name of rec into a malloc'd buffer of exactly want bytes (0 = any). */
static uint8_t *kv_hex(const aq_kv_record *rec, const char *name, size_t *len) {
  const char *v = aq_kv_get(rec, name);
  if (v == NULL) {
    return NULL;
  }
  return aq_test_unhex(v, len);
}

AQ_TEST(mldsa65_acvp_keygen) {
  char *path = aq_test_vector_path("acvp/mldsa65_keygen.txt");
  if (path == NULL) {
    return;
  }
  aq_kv_file f;
  REQUIRE(aq_kv_load(&f, path) == 0);
  free(path);
  size_t n = 0;
  for (size_t r = 0; r < f.nrecs; r++) {
    size_t sl, pl, kl;
    uint8_t *seed = kv_hex(&f.recs[r], "seed", &sl);
    uint8_t *pk = kv_hex(&f.recs[r], "pk", &pl);
    uint8_t *sk = kv_hex(&f.recs[r], "sk", &kl);
    REQUIRE(seed && pk && sk);
    REQUIRE(sl == 32 && pl == AQ_MLDSA65_PK_LEN && kl == AQ_MLDSA65_SK_LEN);
    uint8_t gpk[AQ_MLDSA65_PK_LEN], gsk[AQ_MLDSA65_SK_LEN];
    aq_mldsa65_keygen(gpk, gsk, seed);
    CHECK_MEM(gpk, pk, pl);
    CHECK_MEM(gsk, sk, kl);
    free(seed);
    free(pk);
    free(sk);
    n++;
  }
  aq_kv_free(&f);
  CHECK_INT(n, 25);
  printf("mldsa65 ACVP keyGen: %zu records\n", n);
}

AQ_TEST(mldsa65_acvp_siggen) {
  char *path = aq_test_vector_path("acvp/mldsa65_siggen_internal.txt");
  if (path == NULL) {
    return;
  }
  aq_kv_file f;
  REQUIRE(aq_kv_load(&f, path) == 0);
  free(path);
  size_t n = 0;
  for (size_t r = 0; r < f.nrecs; r++) {
    size_t kl, ml, rl, gl;
    uint8_t *sk = kv_hex(&f.recs[r], "sk", &kl);
    uint8_t *msg = kv_hex(&f.recs[r], "message", &ml);
    uint8_t *rnd = kv_hex(&f.recs[r], "rnd", &rl);
    uint8_t *want = kv_hex(&f.recs[r], "signature", &gl);
    REQUIRE(sk && msg && rnd && want);
    REQUIRE(kl == AQ_MLDSA65_SK_LEN && rl == 32 && gl == AQ_MLDSA65_SIG_LEN);
    uint8_t sig[AQ_MLDSA65_SIG_LEN];
    CHECK_INT(aq_mldsa65_sign_internal(sig, sk, msg, ml, rnd), 0);
    CHECK_MEM(sig, want, gl);
    free(sk);
    free(msg);
    free(rnd);
    free(want);
    n++;
  }
  aq_kv_free(&f);
  CHECK_INT(n, 20);
  printf("mldsa65 ACVP sigGen (internal): %zu records\n", n);
}

AQ_TEST(mldsa65_acvp_sigver) {
  char *path = aq_test_vector_path("acvp/mldsa65_sigver_internal.txt");
  if (path == NULL) {
    return;
  }
  aq_kv_file f;
  REQUIRE(aq_kv_load(&f, path) == 0);
  free(path);
  size_t n = 0, npass = 0;
  for (size_t r = 0; r < f.nrecs; r++) {
    size_t pl, ml, gl;
    uint8_t *pk = kv_hex(&f.recs[r], "pk", &pl);
    uint8_t *msg = kv_hex(&f.recs[r], "message", &ml);
    uint8_t *sig = kv_hex(&f.recs[r], "signature", &gl);
    const char *passed = aq_kv_get(&f.recs[r], "testPassed");
    REQUIRE(pk && msg && sig && passed);
    REQUIRE(pl == AQ_MLDSA65_PK_LEN);
    int want = atoi(passed);
    int rv = aq_mldsa65_verify_internal(pk, msg, ml, sig, gl);
    if (want) {
      CHECK_INT(rv, 0);
      npass++;
    } else {
      CHECK_INT(rv, AQ_ERR_VERIFY);
    }
    free(pk);
    free(msg);
    free(sig);
    n++;
  }
  aq_kv_free(&f);
  CHECK_INT(n, 15);
  CHECK_INT(npass, 3);
  printf("mldsa65 ACVP sigVer (internal): %zu records (%zu valid)\n", n, npass);
}

/* Hex member of a JSON object, malloc'd (empty string -> non-NULL, length 0). */
static uint8_t *j_hex(const aq_json *o, const char *key, size_t *len) {
  const char *s = aq_json_get_str(o, key);
  if (s == NULL) {
    *len = 0;
    return NULL;
  }
  uint8_t *p = aq_test_unhex(s, len);
  return p != NULL ? p : NULL;
}

static int has_flag(const aq_json *t, const char *flag) {
  const aq_json *fl = aq_json_get(t, "flags");
  for (size_t i = 0; fl != NULL && i < fl->n; i++) {
    if (strcmp(fl->items[i]->str, flag) == 0) {
      return 1;
    }
  }
  return 0;
}

/*
 * One Wycheproof signing case with the expanded key sk and public key pk.
 * Checks: signature (msg+ctx, or mu for Internal cases) byte-exact, the
 * computed mu, and that the signature verifies.  Invalid cases must fail.
 */
static void wp_sign_case(const aq_json *t, const uint8_t *sk, const uint8_t *pk, size_t *nvalid,
                         size_t *ninvalid) {
  long long tc = aq_json_get_int(t, "tcId", -1);
  const char *result = aq_json_get_str(t, "result");
  int valid = strcmp(result, "valid") == 0;
  size_t ml, cl, rl, mul, gl;
  uint8_t *msg = j_hex(t, "msg", &ml);
  uint8_t *ctx = j_hex(t, "ctx", &cl);
  uint8_t *rnd = j_hex(t, "rnd", &rl);
  uint8_t *mu = j_hex(t, "mu", &mul);
  uint8_t *want = j_hex(t, "sig", &gl);
  const uint8_t *r = rnd != NULL ? rnd : AQ_MLDSA65_RND_DETERMINISTIC;
  if (rnd != NULL && rl != 32) {
    aq_test_fail(__FILE__, __LINE__, "tc %lld: bad rnd", tc);
  }
  uint8_t sig[AQ_MLDSA65_SIG_LEN];
  uint8_t gmu[AQ_MLDSA65_MU_LEN];
  if (!valid) {
    /* Only invalid cases reaching here: context too long or an s1/s2 out of range. */
    int rv = msg != NULL ? aq_mldsa65_sign(sig, sk, msg, ml, ctx, cl, r)
                         : aq_mldsa65_sign_mu(sig, sk, mu, r);
    if (rv == 0 && mu != NULL && mul == 64) {
      rv = aq_mldsa65_sign_mu(sig, sk, mu, r);
    }
    if (rv == 0) {
      aq_test_fail(__FILE__, __LINE__, "tc %lld: invalid case signed", tc);
    }
    if (msg != NULL) {
      CHECK_INT(aq_mldsa65_mu(gmu, pk, msg, ml, ctx, cl), cl > 255 ? AQ_ERR_INVALID_ARGUMENT : 0);
    }
    (*ninvalid)++;
  } else {
    REQUIRE(want != NULL && gl == AQ_MLDSA65_SIG_LEN);
    if (msg != NULL) {
      int rv = aq_mldsa65_sign(sig, sk, msg, ml, ctx, cl, r);
      if (rv != 0 || memcmp(sig, want, gl) != 0) {
        aq_test_fail(__FILE__, __LINE__, "tc %lld: sign(msg, ctx) mismatch (rv %d)", tc, rv);
      }
      CHECK_INT(aq_mldsa65_verify(pk, msg, ml, ctx, cl, sig, gl), 0);
      CHECK_INT(aq_mldsa65_mu(gmu, pk, msg, ml, ctx, cl), 0);
      if (mu != NULL) {
        CHECK_MEM(gmu, mu, 64);
      }
    }
    if (mu != NULL) {
      REQUIRE(mul == 64);
      int rv = aq_mldsa65_sign_mu(sig, sk, mu, r);
      if (rv != 0 || memcmp(sig, want, gl) != 0) {
        aq_test_fail(__FILE__, __LINE__, "tc %lld: sign_mu mismatch (rv %d)", tc, rv);
      }
      CHECK_INT(aq_mldsa65_verify_mu(pk, mu, sig, gl), 0);
    }
    (*nvalid)++;
  }
  free(msg);
  free(ctx);
  free(rnd);
  free(mu);
  free(want);
}

AQ_TEST(mldsa65_wycheproof_sign_seed) {
  aq_json *j = aq_json_load_vector("wycheproof/mldsa_65_sign_seed_test.json");
  if (j == NULL) {
    return;
  }
  const aq_json *groups = aq_json_get(j, "testGroups");
  REQUIRE(groups != NULL);
  size_t nvalid = 0, ninvalid = 0;
  for (size_t g = 0; g < groups->n; g++) {
    const aq_json *grp = groups->items[g];
    size_t sl, pl;
    uint8_t *seed = j_hex(grp, "privateSeed", &sl);
    uint8_t *pk = j_hex(grp, "publicKey", &pl);
    const aq_json *tests = aq_json_get(grp, "tests");
    if (seed == NULL || sl != AQ_MLDSA65_SEED_LEN) {
      /* Wrong seed length: the fixed-size API cannot take it; every case must be invalid. */
      for (size_t i = 0; i < tests->n; i++) {
        CHECK(strcmp(aq_json_get_str(tests->items[i], "result"), "invalid") == 0);
        CHECK(has_flag(tests->items[i], "IncorrectPrivateKeyLength"));
        ninvalid++;
      }
      free(seed);
      free(pk);
      continue;
    }
    REQUIRE(pk != NULL && pl == AQ_MLDSA65_PK_LEN);
    uint8_t gpk[AQ_MLDSA65_PK_LEN], gsk[AQ_MLDSA65_SK_LEN];
    aq_mldsa65_keygen(gpk, gsk, seed);
    CHECK_MEM(gpk, pk, pl);
    for (size_t i = 0; i < tests->n; i++) {
      wp_sign_case(tests->items[i], gsk, gpk, &nvalid, &ninvalid);
    }
    free(seed);
    free(pk);
  }
  aq_json_free(j);
  CHECK_INT(nvalid + ninvalid, 105);
  printf("mldsa65 Wycheproof sign_seed: %zu valid, %zu invalid\n", nvalid, ninvalid);
}

AQ_TEST(mldsa65_wycheproof_sign_noseed) {
  aq_json *j = aq_json_load_vector("wycheproof/mldsa_65_sign_noseed_test.json");
  if (j == NULL) {
    return;
  }
  const aq_json *groups = aq_json_get(j, "testGroups");
  REQUIRE(groups != NULL);
  size_t nvalid = 0, ninvalid = 0;
  for (size_t g = 0; g < groups->n; g++) {
    const aq_json *grp = groups->items[g];
    size_t kl, pl;
    uint8_t *sk = j_hex(grp, "privateKey", &kl);
    uint8_t *pk = j_hex(grp, "publicKey", &pl);
    const aq_json *tests = aq_json_get(grp, "tests");
    if (sk == NULL || kl != AQ_MLDSA65_SK_LEN) {
      for (size_t i = 0; i < tests->n; i++) {
        CHECK(strcmp(aq_json_get_str(tests->items[i], "result"), "invalid") == 0);
        CHECK(has_flag(tests->items[i], "IncorrectPrivateKeyLength"));
        ninvalid++;
      }
      free(sk);
      free(pk);
      continue;
    }
    REQUIRE(pk != NULL && pl == AQ_MLDSA65_PK_LEN);
    for (size_t i = 0; i < tests->n; i++) {
      wp_sign_case(tests->items[i], sk, pk, &nvalid, &ninvalid);
    }
    free(sk);
    free(pk);
  }
  aq_json_free(j);
  CHECK_INT(nvalid + ninvalid, 78);
  printf("mldsa65 Wycheproof sign_noseed: %zu valid, %zu invalid\n", nvalid, ninvalid);
}

AQ_TEST(mldsa65_wycheproof_verify) {
  aq_json *j = aq_json_load_vector("wycheproof/mldsa_65_verify_test.json");
  if (j == NULL) {
    return;
  }
  const aq_json *groups = aq_json_get(j, "testGroups");
  REQUIRE(groups != NULL);
  size_t nvalid = 0, ninvalid = 0;
  for (size_t g = 0; g < groups->n; g++) {
    const aq_json *grp = groups->items[g];
    size_t pl;
    uint8_t *pk = j_hex(grp, "publicKey", &pl);
    const aq_json *tests = aq_json_get(grp, "tests");
    for (size_t i = 0; i < tests->n; i++) {
      const aq_json *t = tests->items[i];
      long long tc = aq_json_get_int(t, "tcId", -1);
      int valid = strcmp(aq_json_get_str(t, "result"), "valid") == 0;
      size_t ml, cl, gl;
      uint8_t *msg = j_hex(t, "msg", &ml);
      uint8_t *ctx = j_hex(t, "ctx", &cl);
      uint8_t *sig = j_hex(t, "sig", &gl);
      int rv;
      if (pk == NULL || pl != AQ_MLDSA65_PK_LEN) {
        rv = AQ_ERR_INVALID_ARGUMENT; /* the fixed-size API cannot take it */
      } else {
        rv = aq_mldsa65_verify(pk, msg, ml, ctx, cl, sig, gl);
      }
      if (valid && rv != 0) {
        aq_test_fail(__FILE__, __LINE__, "tc %lld: valid signature rejected (%d)", tc, rv);
      }
      if (!valid && rv == 0) {
        aq_test_fail(__FILE__, __LINE__, "tc %lld: invalid signature accepted", tc);
      }
      if (valid) {
        nvalid++;
      } else {
        ninvalid++;
      }
      free(msg);
      free(ctx);
      free(sig);
    }
    free(pk);
  }
  aq_json_free(j);
  CHECK_INT(nvalid + ninvalid, 210);
  printf("mldsa65 Wycheproof verify: %zu valid, %zu invalid\n", nvalid, ninvalid);
}

/* Sign/verify round trip plus every kind of corruption. */
AQ_TEST(mldsa65_negative) {
  uint8_t seed[32], rnd[32];
  uint64_t st = 0x6d6c647361ULL;
  REQUIRE(aq_test_rand(seed, sizeof(seed), &st) == 0);
  REQUIRE(aq_test_rand(rnd, sizeof(rnd), &st) == 0);
  static uint8_t pk[AQ_MLDSA65_PK_LEN], sk[AQ_MLDSA65_SK_LEN];
  static uint8_t sig[AQ_MLDSA65_SIG_LEN + 1], sig2[AQ_MLDSA65_SIG_LEN], bad[AQ_MLDSA65_SIG_LEN];
  aq_mldsa65_keygen(pk, sk, seed);
  uint8_t msg[100];
  REQUIRE(aq_test_rand(msg, sizeof(msg), &st) == 0);
  const uint8_t ctx[3] = {1, 2, 3};
  REQUIRE(aq_mldsa65_sign(sig, sk, msg, sizeof(msg), ctx, sizeof(ctx), rnd) == 0);
  CHECK_INT(aq_mldsa65_verify(pk, msg, sizeof(msg), ctx, sizeof(ctx), sig, AQ_MLDSA65_SIG_LEN), 0);
  /* Hedged: a different rnd gives a different, also valid, signature. */
  rnd[0] ^= 1;
  REQUIRE(aq_mldsa65_sign(sig2, sk, msg, sizeof(msg), ctx, sizeof(ctx), rnd) == 0);
  CHECK(memcmp(sig, sig2, sizeof(sig2)) != 0);
  CHECK_INT(aq_mldsa65_verify(pk, msg, sizeof(msg), ctx, sizeof(ctx), sig2, sizeof(sig2)), 0);
  /* Empty message and context with NULL pointers. */
  REQUIRE(aq_mldsa65_sign(sig2, sk, NULL, 0, NULL, 0, AQ_MLDSA65_RND_DETERMINISTIC) == 0);
  CHECK_INT(aq_mldsa65_verify(pk, NULL, 0, NULL, 0, sig2, sizeof(sig2)), 0);
  CHECK_INT(aq_mldsa65_verify(pk, msg, 1, NULL, 0, sig2, sizeof(sig2)), AQ_ERR_VERIFY);

  /* Wrong context, wrong message, ctx vs message boundary. */
  CHECK_INT(aq_mldsa65_verify(pk, msg, sizeof(msg), ctx, 2, sig, AQ_MLDSA65_SIG_LEN),
            AQ_ERR_VERIFY);
  CHECK_INT(aq_mldsa65_verify(pk, msg, sizeof(msg), NULL, 0, sig, AQ_MLDSA65_SIG_LEN),
            AQ_ERR_VERIFY);
  CHECK_INT(aq_mldsa65_verify(pk, msg, sizeof(msg) - 1, ctx, sizeof(ctx), sig, AQ_MLDSA65_SIG_LEN),
            AQ_ERR_VERIFY);
  /* Flipped message bits (a few positions, every bit of byte 0). */
  for (size_t i = 0; i < sizeof(msg); i += 33) {
    for (int b = 0; b < 8; b++) {
      msg[i] ^= (uint8_t)(1u << b);
      CHECK_INT(aq_mldsa65_verify(pk, msg, sizeof(msg), ctx, sizeof(ctx), sig, AQ_MLDSA65_SIG_LEN),
                AQ_ERR_VERIFY);
      msg[i] ^= (uint8_t)(1u << b);
    }
  }
  /* Flipped signature bytes: c~, z, the hint area (every byte of it). */
  size_t flips = 0;
  for (size_t i = 0; i < AQ_MLDSA65_SIG_LEN; i += (i >= 3200 ? 1 : 97)) {
    memcpy(bad, sig, sizeof(bad));
    bad[i] ^= 0x01;
    if (aq_mldsa65_verify(pk, msg, sizeof(msg), ctx, sizeof(ctx), bad, sizeof(bad)) == 0) {
      aq_test_fail(__FILE__, __LINE__, "flipped sig byte %zu accepted", i);
    }
    flips++;
  }
  /* Flipped public key bytes. */
  static uint8_t pk2[AQ_MLDSA65_PK_LEN];
  for (size_t i = 0; i < AQ_MLDSA65_PK_LEN; i += 61) {
    memcpy(pk2, pk, sizeof(pk2));
    pk2[i] ^= 0x80;
    if (aq_mldsa65_verify(pk2, msg, sizeof(msg), ctx, sizeof(ctx), sig, AQ_MLDSA65_SIG_LEN) == 0) {
      aq_test_fail(__FILE__, __LINE__, "flipped pk byte %zu accepted", i);
    }
  }
  /* Wrong lengths: every truncation and one byte more. */
  for (size_t len = 0; len < AQ_MLDSA65_SIG_LEN; len += (len < 64 ? 1 : 211)) {
    CHECK_INT(aq_mldsa65_verify(pk, msg, sizeof(msg), ctx, sizeof(ctx), sig, len), AQ_ERR_VERIFY);
  }
  CHECK_INT(aq_mldsa65_verify(pk, msg, sizeof(msg), ctx, sizeof(ctx), sig, AQ_MLDSA65_SIG_LEN - 1),
            AQ_ERR_VERIFY);
  sig[AQ_MLDSA65_SIG_LEN] = 0;
  CHECK_INT(aq_mldsa65_verify(pk, msg, sizeof(msg), ctx, sizeof(ctx), sig, AQ_MLDSA65_SIG_LEN + 1),
            AQ_ERR_VERIFY);
  CHECK_INT(aq_mldsa65_verify(pk, msg, sizeof(msg), ctx, sizeof(ctx), NULL, 0), AQ_ERR_VERIFY);

  /* ctx of 255 bytes is fine, 256 refused by sign, verify and mu. */
  static uint8_t bigctx[256];
  memset(bigctx, 0xa5, sizeof(bigctx));
  CHECK_INT(aq_mldsa65_sign(sig2, sk, msg, sizeof(msg), bigctx, 255, rnd), 0);
  CHECK_INT(aq_mldsa65_verify(pk, msg, sizeof(msg), bigctx, 255, sig2, sizeof(sig2)), 0);
  memset(sig2, 0x55, sizeof(sig2));
  CHECK_INT(aq_mldsa65_sign(sig2, sk, msg, sizeof(msg), bigctx, 256, rnd), AQ_ERR_INVALID_ARGUMENT);
  static const uint8_t zero[AQ_MLDSA65_SIG_LEN];
  CHECK_MEM(sig2, zero, sizeof(sig2)); /* output zeroed on error */
  CHECK_INT(aq_mldsa65_verify(pk, msg, sizeof(msg), bigctx, 256, sig, AQ_MLDSA65_SIG_LEN),
            AQ_ERR_INVALID_ARGUMENT);
  uint8_t mu[64];
  CHECK_INT(aq_mldsa65_mu(mu, pk, msg, sizeof(msg), bigctx, 256), AQ_ERR_INVALID_ARGUMENT);

  /* External mu agrees with the pure API; internal API agrees with hand-built M'. */
  CHECK_INT(aq_mldsa65_mu(mu, pk, msg, sizeof(msg), ctx, sizeof(ctx)), 0);
  CHECK_INT(aq_mldsa65_verify_mu(pk, mu, sig, AQ_MLDSA65_SIG_LEN), 0);
  uint8_t mprime[2 + 3 + 100];
  mprime[0] = 0;
  mprime[1] = 3;
  memcpy(mprime + 2, ctx, 3);
  memcpy(mprime + 5, msg, 100);
  CHECK_INT(aq_mldsa65_verify_internal(pk, mprime, sizeof(mprime), sig, AQ_MLDSA65_SIG_LEN), 0);
  REQUIRE(aq_mldsa65_sign_internal(sig2, sk, mprime, sizeof(mprime), rnd) == 0);
  CHECK_INT(aq_mldsa65_sign(bad, sk, msg, sizeof(msg), ctx, sizeof(ctx), rnd), 0);
  CHECK_MEM(sig2, bad, sizeof(bad));

  /* A secret key with an s1 nibble of 9 (not in [-eta, eta]) is refused. */
  static uint8_t sk2[AQ_MLDSA65_SK_LEN];
  memcpy(sk2, sk, sizeof(sk2));
  sk2[128 + 7] = (uint8_t)((sk2[128 + 7] & 0xf0) | 9);
  CHECK_INT(aq_mldsa65_sign(sig2, sk2, msg, sizeof(msg), NULL, 0, rnd), AQ_ERR_INVALID_ARGUMENT);
  memcpy(sk2, sk, sizeof(sk2));
  sk2[128 + 640 + 767] = (uint8_t)((sk2[128 + 640 + 767] & 0x0f) | 0xf0); /* last s2 byte */
  CHECK_INT(aq_mldsa65_sign(sig2, sk2, msg, sizeof(msg), NULL, 0, rnd), AQ_ERR_INVALID_ARGUMENT);
  printf("mldsa65 negative: %zu flipped signature bytes rejected\n", flips);
}

AQ_TEST(mldsa65_selftest) {
  CHECK_INT(aq_mldsa65_selftest(), 0);
}
