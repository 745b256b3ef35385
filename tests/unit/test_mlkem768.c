/*
 * test_mlkem768.c - ML-KEM-768 against every NIST ACVP record (keyGen,
 * encapsulation, decapsulation) and every Wycheproof case (valid and
 * invalid) of the four ML-KEM-768 files, plus implicit rejection, the §7.2
 * modulus check, the §7.3 hash check, wrong lengths and zeroed outputs.
 */
#include <stdlib.h>

#include "aq_mlkem768.h"
#include "aq_keccakx4.h"
#include "aq_sha3.h"
#include "aq_test.h"

/* Decode a hex field of a vector record into a malloc'd buffer (NULL fails the test). */
static uint8_t *field_bytes(const char *hex, size_t *len, const char *what) {
  uint8_t *p;
  if (hex == NULL) {
    aq_test_fail(__FILE__, __LINE__, "missing field %s", what);
    return NULL;
  }
  p = aq_test_unhex(hex, len);
  if (p == NULL) {
    aq_test_fail(__FILE__, __LINE__, "bad hex in field %s", what);
  }
  return p;
}

static int all_zero(const uint8_t *p, size_t len) {
  uint8_t acc = 0;
  for (size_t i = 0; i < len; i++) {
    acc |= p[i];
  }
  return acc == 0;
}

static int load_kv(aq_kv_file *f, const char *rel) {
  char *path = aq_test_vector_path(rel);
  if (path == NULL) {
    return -1; /* skipped */
  }
  int rv = aq_kv_load(f, path);
  free(path);
  if (rv != 0) {
    aq_test_fail(__FILE__, __LINE__, "cannot load %s", rel);
  }
  return rv;
}

/* ------------------------------------------------------------ ACVP */

AQ_TEST(mlkem768_acvp_keygen) {
  aq_kv_file f;
  size_t n = 0;
  if (load_kv(&f, "acvp/mlkem768_keygen.txt") != 0) {
    return;
  }
  for (size_t r = 0; r < f.nrecs; r++) {
    const aq_kv_record *rec = &f.recs[r];
    uint8_t d[32], z[32], ek[AQ_MLKEM768_EK_LEN], dk[AQ_MLKEM768_DK_LEN], seed[64];
    REQUIRE(aq_test_unhex_into(d, 32, aq_kv_get(rec, "d")) == 32);
    REQUIRE(aq_test_unhex_into(z, 32, aq_kv_get(rec, "z")) == 32);
    aq_mlkem768_keygen_internal(ek, dk, d, z);
    CHECK(aq_test_memeq_hex(ek, sizeof(ek), aq_kv_get(rec, "ek")));
    CHECK(aq_test_memeq_hex(dk, sizeof(dk), aq_kv_get(rec, "dk")));
    /* The seed form d ‖ z gives the same keys. */
    memcpy(seed, d, 32);
    memcpy(seed + 32, z, 32);
    memset(ek, 0, sizeof(ek));
    aq_mlkem768_keygen(ek, dk, seed);
    CHECK(aq_test_memeq_hex(ek, sizeof(ek), aq_kv_get(rec, "ek")));
    CHECK(aq_test_memeq_hex(dk, sizeof(dk), aq_kv_get(rec, "dk")));
    n++;
  }
  printf("  ACVP keyGen: %zu records\n", n);
  CHECK_INT(n, 25);
  aq_kv_free(&f);
}

AQ_TEST(mlkem768_acvp_encap) {
  aq_kv_file f;
  size_t n = 0;
  if (load_kv(&f, "acvp/mlkem768_encap.txt") != 0) {
    return;
  }
  for (size_t r = 0; r < f.nrecs; r++) {
    const aq_kv_record *rec = &f.recs[r];
    uint8_t ek[AQ_MLKEM768_EK_LEN], dk[AQ_MLKEM768_DK_LEN], m[32];
    uint8_t ct[AQ_MLKEM768_CT_LEN], ss[32];
    REQUIRE(aq_test_unhex_into(ek, sizeof(ek), aq_kv_get(rec, "ek")) == sizeof(ek));
    REQUIRE(aq_test_unhex_into(dk, sizeof(dk), aq_kv_get(rec, "dk")) == sizeof(dk));
    REQUIRE(aq_test_unhex_into(m, sizeof(m), aq_kv_get(rec, "m")) == sizeof(m));
    aq_mlkem768_encaps_internal(ct, ss, ek, m);
    CHECK(aq_test_memeq_hex(ct, sizeof(ct), aq_kv_get(rec, "c")));
    CHECK(aq_test_memeq_hex(ss, sizeof(ss), aq_kv_get(rec, "k")));
    /* The checked entry point agrees (these keys are well formed). */
    memset(ct, 0, sizeof(ct));
    CHECK_INT(aq_mlkem768_encaps(ct, ss, ek, m), 0);
    CHECK(aq_test_memeq_hex(ct, sizeof(ct), aq_kv_get(rec, "c")));
    CHECK(aq_test_memeq_hex(ss, sizeof(ss), aq_kv_get(rec, "k")));
    /* And the matching dk decapsulates to the same key. */
    memset(ss, 0, sizeof(ss));
    CHECK_INT(aq_mlkem768_decaps(ss, ct, dk), 0);
    CHECK(aq_test_memeq_hex(ss, sizeof(ss), aq_kv_get(rec, "k")));
    n++;
  }
  printf("  ACVP encapsulation: %zu records\n", n);
  CHECK_INT(n, 25);
  aq_kv_free(&f);
}

AQ_TEST(mlkem768_acvp_decap) {
  aq_kv_file f;
  size_t n = 0, modified = 0;
  if (load_kv(&f, "acvp/mlkem768_decap.txt") != 0) {
    return;
  }
  for (size_t r = 0; r < f.nrecs; r++) {
    const aq_kv_record *rec = &f.recs[r];
    uint8_t dk[AQ_MLKEM768_DK_LEN], ct[AQ_MLKEM768_CT_LEN], ss[32];
    REQUIRE(aq_test_unhex_into(dk, sizeof(dk), aq_kv_get(rec, "dk")) == sizeof(dk));
    REQUIRE(aq_test_unhex_into(ct, sizeof(ct), aq_kv_get(rec, "c")) == sizeof(ct));
    CHECK_INT(aq_mlkem768_decaps(ss, ct, dk), 0);
    CHECK(aq_test_memeq_hex(ss, sizeof(ss), aq_kv_get(rec, "k")));
    const char *reason = aq_kv_get(rec, "reason");
    if (reason != NULL && strstr(reason, "modify") != NULL) {
      modified++;
    }
    n++;
  }
  printf("  ACVP decapsulation: %zu records (%zu with a modified ciphertext)\n", n, modified);
  CHECK_INT(n, 10);
  CHECK_INT(modified, 5);
  aq_kv_free(&f);
}

/* ------------------------------------------------------- Wycheproof */

typedef void (*wp_case_fn)(const aq_json *group, const aq_json *tc, int valid, size_t *nvalid,
                           size_t *ninvalid);

/* Run fn over every test of every group; returns the number of cases. */
static size_t wp_run(const char *rel, wp_case_fn fn, size_t *nvalid, size_t *ninvalid) {
  aq_json *j = aq_json_load_vector(rel);
  size_t n = 0;
  *nvalid = *ninvalid = 0;
  if (j == NULL) {
    return 0;
  }
  const aq_json *groups = aq_json_get(j, "testGroups");
  for (size_t g = 0; groups != NULL && g < groups->n; g++) {
    const aq_json *group = groups->items[g];
    const char *ps = aq_json_get_str(group, "parameterSet");
    CHECK(ps != NULL && strcmp(ps, "ML-KEM-768") == 0);
    const aq_json *tests = aq_json_get(group, "tests");
    for (size_t t = 0; tests != NULL && t < tests->n; t++) {
      const aq_json *tc = tests->items[t];
      const char *result = aq_json_get_str(tc, "result");
      int valid = result != NULL && strcmp(result, "valid") == 0;
      CHECK(result != NULL && (valid || strcmp(result, "invalid") == 0));
      size_t before = (size_t)aq_test_failures();
      fn(group, tc, valid, nvalid, ninvalid);
      if ((size_t)aq_test_failures() != before) {
        fprintf(stderr, "  ... in %s tcId %lld\n", rel, aq_json_get_int(tc, "tcId", -1));
      }
      n++;
    }
  }
  CHECK_INT(n, aq_json_get_int(j, "numberOfTests", -1));
  aq_json_free(j);
  return n;
}

static void wp_keygen_case(const aq_json *group, const aq_json *tc, int valid, size_t *nvalid,
                           size_t *ninvalid) {
  size_t seedlen;
  uint8_t *seed = field_bytes(aq_json_get_str(tc, "seed"), &seedlen, "seed");
  uint8_t ek[AQ_MLKEM768_EK_LEN], dk[AQ_MLKEM768_DK_LEN];
  CHECK(valid); /* the file has only valid cases */
  if (seed != NULL && seedlen == AQ_MLKEM768_SEED_LEN) {
    aq_mlkem768_keygen(ek, dk, seed);
    CHECK(aq_test_memeq_hex(ek, sizeof(ek), aq_json_get_str(tc, "ek")));
    CHECK(aq_test_memeq_hex(dk, sizeof(dk), aq_json_get_str(tc, "dk")));
    (*nvalid)++;
  } else {
    CHECK(seed != NULL && seedlen == AQ_MLKEM768_SEED_LEN);
    (*ninvalid)++;
  }
  free(seed);
}

AQ_TEST(mlkem768_wycheproof_keygen_seed) {
  size_t nv, ni;
  size_t n = wp_run("wycheproof/mlkem_768_keygen_seed_test.json", wp_keygen_case, &nv, &ni);
  printf("  Wycheproof keygen_seed: %zu cases (%zu valid, %zu invalid)\n", n, nv, ni);
}

/*
 * mlkem_768_test.json: KeyGen(seed), then Decaps(c) = K.  Invalid cases are a
 * seed of the wrong length (the 64-byte seed type check, which the fixed-size
 * API moves to the caller: it is enforced here the way a caller must) and
 * ciphertexts of the wrong length (aq_mlkem768_decaps_len must reject them
 * with a zeroed output).
 */
static void wp_kem_case(const aq_json *group, const aq_json *tc, int valid, size_t *nvalid,
                        size_t *ninvalid) {
  size_t seedlen, clen;
  uint8_t *seed = field_bytes(aq_json_get_str(tc, "seed"), &seedlen, "seed");
  uint8_t *c = field_bytes(aq_json_get_str(tc, "c"), &clen, "c");
  uint8_t ek[AQ_MLKEM768_EK_LEN], dk[AQ_MLKEM768_DK_LEN], ss[32];
  if (seed == NULL || c == NULL) {
    goto out;
  }
  if (seedlen != AQ_MLKEM768_SEED_LEN) {
    CHECK(!valid);
    (*ninvalid)++;
    goto out;
  }
  aq_mlkem768_keygen(ek, dk, seed);
  const char *ekhex = aq_json_get_str(tc, "ek");
  if (ekhex != NULL) {
    CHECK(aq_test_memeq_hex(ek, sizeof(ek), ekhex));
  }
  memset(ss, 0xa5, sizeof(ss));
  int rv = aq_mlkem768_decaps_len(ss, c, clen, dk, sizeof(dk));
  if (valid) {
    CHECK_INT(rv, 0);
    CHECK(aq_test_memeq_hex(ss, sizeof(ss), aq_json_get_str(tc, "K")));
    (*nvalid)++;
  } else {
    CHECK_INT(rv, AQ_ERR_MALFORMED);
    CHECK(all_zero(ss, sizeof(ss)));
    CHECK(clen != AQ_MLKEM768_CT_LEN); /* the only invalid kind with a good seed */
    (*ninvalid)++;
  }
out:
  free(seed);
  free(c);
}

AQ_TEST(mlkem768_wycheproof_kem) {
  size_t nv, ni;
  size_t n = wp_run("wycheproof/mlkem_768_test.json", wp_kem_case, &nv, &ni);
  printf("  Wycheproof mlkem_768_test: %zu cases (%zu valid, %zu invalid)\n", n, nv, ni);
}

/* Encaps(ek, m): invalid = wrong ek length or a coefficient >= q (ModulusOverflow). */
static void wp_encaps_case(const aq_json *group, const aq_json *tc, int valid, size_t *nvalid,
                           size_t *ninvalid) {
  size_t eklen, mlen;
  uint8_t *ek = field_bytes(aq_json_get_str(tc, "ek"), &eklen, "ek");
  uint8_t *m = field_bytes(aq_json_get_str(tc, "m"), &mlen, "m");
  uint8_t ct[AQ_MLKEM768_CT_LEN], ss[32];
  if (ek == NULL || m == NULL) {
    goto out;
  }
  REQUIRE(mlen == 32);
  memset(ct, 0xa5, sizeof(ct));
  memset(ss, 0xa5, sizeof(ss));
  int rv = aq_mlkem768_encaps_len(ct, ss, ek, eklen, m);
  if (valid) {
    CHECK_INT(rv, 0);
    CHECK(aq_test_memeq_hex(ct, sizeof(ct), aq_json_get_str(tc, "c")));
    CHECK(aq_test_memeq_hex(ss, sizeof(ss), aq_json_get_str(tc, "K")));
    (*nvalid)++;
  } else {
    CHECK_INT(rv, AQ_ERR_MALFORMED);
    CHECK(all_zero(ct, sizeof(ct)));
    CHECK(all_zero(ss, sizeof(ss)));
    (*ninvalid)++;
  }
out:
  free(ek);
  free(m);
}

AQ_TEST(mlkem768_wycheproof_encaps) {
  size_t nv, ni;
  size_t n = wp_run("wycheproof/mlkem_768_encaps_test.json", wp_encaps_case, &nv, &ni);
  printf("  Wycheproof encaps: %zu cases (%zu valid, %zu invalid)\n", n, nv, ni);
}

/* Decaps(dk, c) with the §7.3 checks: lengths and the H(ek) hash check. */
static void wp_decaps_case(const aq_json *group, const aq_json *tc, int valid, size_t *nvalid,
                           size_t *ninvalid) {
  size_t dklen, clen;
  uint8_t *dk = field_bytes(aq_json_get_str(tc, "dk"), &dklen, "dk");
  uint8_t *c = field_bytes(aq_json_get_str(tc, "c"), &clen, "c");
  uint8_t ss[32];
  if (dk == NULL || c == NULL) {
    goto out;
  }
  memset(ss, 0xa5, sizeof(ss));
  int rv = aq_mlkem768_decaps_len(ss, c, clen, dk, dklen);
  if (valid) {
    CHECK_INT(rv, 0);
    CHECK(aq_test_memeq_hex(ss, sizeof(ss), aq_json_get_str(tc, "K")));
    (*nvalid)++;
  } else {
    CHECK_INT(rv, AQ_ERR_MALFORMED);
    CHECK(all_zero(ss, sizeof(ss)));
    (*ninvalid)++;
  }
out:
  free(dk);
  free(c);
}

AQ_TEST(mlkem768_wycheproof_semi_expanded_decaps) {
  size_t nv, ni;
  size_t n =
      wp_run("wycheproof/mlkem_768_semi_expanded_decaps_test.json", wp_decaps_case, &nv, &ni);
  printf("  Wycheproof semi_expanded_decaps: %zu cases (%zu valid, %zu invalid)\n", n, nv, ni);
}

/* ------------------------------------------------------ properties */

static void rand_bytes(uint64_t *st, uint8_t *p, size_t len) {
  CHECK_INT(aq_test_rand(p, len, st), 0);
}

/* J(z ‖ c) = SHAKE256(z ‖ c, 32): the implicit-rejection key, computed here directly. */
static void kbar(uint8_t out[32], const uint8_t dk[AQ_MLKEM768_DK_LEN],
                 const uint8_t ct[AQ_MLKEM768_CT_LEN]) {
  uint8_t in[32 + AQ_MLKEM768_CT_LEN];
  memcpy(in, dk + AQ_MLKEM768_DK_LEN - 32, 32);
  memcpy(in + 32, ct, AQ_MLKEM768_CT_LEN);
  aq_shake256(out, 32, in, sizeof(in));
}

AQ_TEST(mlkem768_roundtrip_random) {
  uint64_t st = 0x6d6c6b656d373638ULL;
  for (int i = 0; i < 40; i++) {
    uint8_t seed[64], m[32], ek[AQ_MLKEM768_EK_LEN], dk[AQ_MLKEM768_DK_LEN];
    uint8_t ct[AQ_MLKEM768_CT_LEN], ss1[32], ss2[32];
    rand_bytes(&st, seed, sizeof(seed));
    rand_bytes(&st, m, sizeof(m));
    aq_mlkem768_keygen(ek, dk, seed);
    REQUIRE(aq_mlkem768_encaps(ct, ss1, ek, m) == 0);
    REQUIRE(aq_mlkem768_decaps(ss2, ct, dk) == 0);
    CHECK_MEM(ss1, ss2, 32);
  }
}

/*
 * A flipped ciphertext bit decapsulates without error to J(z ‖ c'), never to
 * the real key, and the same way every time.
 */
AQ_TEST(mlkem768_implicit_rejection) {
  uint64_t st = 42;
  uint8_t seed[64], m[32], ek[AQ_MLKEM768_EK_LEN], dk[AQ_MLKEM768_DK_LEN];
  uint8_t ct[AQ_MLKEM768_CT_LEN], ss[32], got[32], again[32], want[32];
  size_t n = 0;
  rand_bytes(&st, seed, sizeof(seed));
  rand_bytes(&st, m, sizeof(m));
  aq_mlkem768_keygen(ek, dk, seed);
  REQUIRE(aq_mlkem768_encaps(ct, ss, ek, m) == 0);
  /* First and last byte of each c1 polynomial and of c2, plus a stride through all of it. */
  static const size_t fixed[] = {0, 319, 320, 639, 640, 959, 960, 1087};
  for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]) + 1088 / 61; k++) {
    size_t pos = k < 8 ? fixed[k] : (k - 8) * 61 + 7;
    for (int bit = 0; bit < 8; bit += 7) {
      ct[pos] ^= (uint8_t)(1u << bit);
      CHECK_INT(aq_mlkem768_decaps(got, ct, dk), 0);
      CHECK(memcmp(got, ss, 32) != 0);
      kbar(want, dk, ct);
      CHECK_MEM(got, want, 32);
      CHECK_INT(aq_mlkem768_decaps(again, ct, dk), 0);
      CHECK_MEM(again, got, 32);
      ct[pos] ^= (uint8_t)(1u << bit);
      n++;
    }
  }
  /* Restored ciphertext gives the real key again. */
  CHECK_INT(aq_mlkem768_decaps(got, ct, dk), 0);
  CHECK_MEM(got, ss, 32);
  printf("  implicit rejection: %zu flipped ciphertexts\n", n);
}

/* §7.2 modulus check: any 12-bit field >= q rejects, = q - 1 accepts. */
AQ_TEST(mlkem768_modulus_check) {
  uint64_t st = 7;
  uint8_t seed[64], m[32], ek[AQ_MLKEM768_EK_LEN], dk[AQ_MLKEM768_DK_LEN], bad[AQ_MLKEM768_EK_LEN];
  uint8_t ct[AQ_MLKEM768_CT_LEN], ss[32];
  rand_bytes(&st, seed, sizeof(seed));
  rand_bytes(&st, m, sizeof(m));
  aq_mlkem768_keygen(ek, dk, seed);
  /* Coefficient indices: first/last of each polynomial, even and odd slots. */
  static const unsigned idx[] = {0, 1, 254, 255, 256, 257, 511, 512, 700, 767};
  static const unsigned vals[] = {3329, 3330, 4095};
  for (size_t a = 0; a < sizeof(idx) / sizeof(idx[0]); a++) {
    for (size_t v = 0; v < 4; v++) {
      unsigned val = v < 3 ? vals[v] : 3328;
      unsigned i = idx[a];
      memcpy(bad, ek, sizeof(bad));
      uint8_t *p = bad + 3 * (i / 2);
      if (i % 2 == 0) {
        p[0] = (uint8_t)val;
        p[1] = (uint8_t)((p[1] & 0xf0) | (val >> 8));
      } else {
        p[1] = (uint8_t)((p[1] & 0x0f) | ((val & 0x0f) << 4));
        p[2] = (uint8_t)(val >> 4);
      }
      memset(ct, 0xa5, sizeof(ct));
      memset(ss, 0xa5, sizeof(ss));
      int rv = aq_mlkem768_encaps(ct, ss, bad, m);
      if (val >= 3329) {
        CHECK_INT(rv, AQ_ERR_MALFORMED);
        CHECK(all_zero(ct, sizeof(ct)));
        CHECK(all_zero(ss, sizeof(ss)));
      } else {
        CHECK_INT(rv, 0);
        CHECK(!all_zero(ss, sizeof(ss)));
      }
    }
  }
  /* rho is not checked: any 32 bytes are fine. */
  memcpy(bad, ek, sizeof(bad));
  memset(bad + 1152, 0xff, 32);
  CHECK_INT(aq_mlkem768_encaps(ct, ss, bad, m), 0);
}

/* §7.3 hash check over the ek copy inside dk and over H(ek); s and z are not covered. */
AQ_TEST(mlkem768_dk_hash_check) {
  uint64_t st = 9;
  uint8_t seed[64], m[32], ek[AQ_MLKEM768_EK_LEN], dk[AQ_MLKEM768_DK_LEN];
  uint8_t bad[AQ_MLKEM768_DK_LEN], ct[AQ_MLKEM768_CT_LEN], ss[32], got[32];
  rand_bytes(&st, seed, sizeof(seed));
  rand_bytes(&st, m, sizeof(m));
  aq_mlkem768_keygen(ek, dk, seed);
  REQUIRE(aq_mlkem768_encaps(ct, ss, ek, m) == 0);
  static const size_t hashed[] = {1152, 1153, 2000, 2303, 2335, 2336, 2350, 2367};
  for (size_t k = 0; k < sizeof(hashed) / sizeof(hashed[0]); k++) {
    memcpy(bad, dk, sizeof(bad));
    bad[hashed[k]] ^= 0x10;
    memset(got, 0xa5, sizeof(got));
    CHECK_INT(aq_mlkem768_decaps(got, ct, bad), AQ_ERR_MALFORMED);
    CHECK(all_zero(got, sizeof(got)));
  }
  /* A different z changes only the rejection key: the honest ciphertext still works. */
  memcpy(bad, dk, sizeof(bad));
  bad[2399] ^= 1;
  CHECK_INT(aq_mlkem768_decaps(got, ct, bad), 0);
  CHECK_MEM(got, ss, 32);
  /* A corrupted s is not detectable; it ends in implicit rejection, not an error. */
  memcpy(bad, dk, sizeof(bad));
  bad[5] ^= 0x40;
  CHECK_INT(aq_mlkem768_decaps(got, ct, bad), 0);
  uint8_t want[32];
  kbar(want, bad, ct);
  CHECK_MEM(got, want, 32);
}

AQ_TEST(mlkem768_wrong_lengths) {
  uint64_t st = 11;
  uint8_t seed[64], m[32], ek[AQ_MLKEM768_EK_LEN + 1], dk[AQ_MLKEM768_DK_LEN + 1];
  uint8_t ct[AQ_MLKEM768_CT_LEN + 1], ss[32], got[32], ct2[AQ_MLKEM768_CT_LEN];
  rand_bytes(&st, seed, sizeof(seed));
  rand_bytes(&st, m, sizeof(m));
  aq_mlkem768_keygen(ek, dk, seed);
  ek[AQ_MLKEM768_EK_LEN] = 0;
  dk[AQ_MLKEM768_DK_LEN] = 0;
  REQUIRE(aq_mlkem768_encaps_len(ct, ss, ek, AQ_MLKEM768_EK_LEN, m) == 0);
  ct[AQ_MLKEM768_CT_LEN] = 0;
  static const size_t ekl[] = {0, 1, 1151, 1183, 1185};
  for (size_t i = 0; i < sizeof(ekl) / sizeof(ekl[0]); i++) {
    memset(ct2, 0xa5, sizeof(ct2));
    memset(got, 0xa5, sizeof(got));
    CHECK_INT(aq_mlkem768_encaps_len(ct2, got, ek, ekl[i], m), AQ_ERR_MALFORMED);
    CHECK(all_zero(ct2, sizeof(ct2)));
    CHECK(all_zero(got, sizeof(got)));
  }
  memset(got, 0xa5, sizeof(got));
  CHECK_INT(aq_mlkem768_encaps_len(ct2, got, NULL, AQ_MLKEM768_EK_LEN, m), AQ_ERR_MALFORMED);
  CHECK(all_zero(got, sizeof(got)));
  static const size_t ctl[] = {0, 1, 1087, 1089};
  for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
    memset(got, 0xa5, sizeof(got));
    CHECK_INT(aq_mlkem768_decaps_len(got, ct, ctl[i], dk, AQ_MLKEM768_DK_LEN), AQ_ERR_MALFORMED);
    CHECK(all_zero(got, sizeof(got)));
  }
  static const size_t dkl[] = {0, 1152, 2399, 2401};
  for (size_t i = 0; i < sizeof(dkl) / sizeof(dkl[0]); i++) {
    memset(got, 0xa5, sizeof(got));
    CHECK_INT(aq_mlkem768_decaps_len(got, ct, AQ_MLKEM768_CT_LEN, dk, dkl[i]), AQ_ERR_MALFORMED);
    CHECK(all_zero(got, sizeof(got)));
  }
  /* Every truncation and one byte too many, for each of the three inputs. */
  size_t nlen = 0;
  for (size_t len = 0; len <= AQ_MLKEM768_DK_LEN + 1; len++) {
    if (len <= AQ_MLKEM768_EK_LEN + 1 && len != AQ_MLKEM768_EK_LEN) {
      memset(got, 0xa5, sizeof(got));
      CHECK_INT(aq_mlkem768_encaps_len(ct2, got, ek, len, m), AQ_ERR_MALFORMED);
      CHECK(all_zero(got, sizeof(got)));
      nlen++;
    }
    if (len <= AQ_MLKEM768_CT_LEN + 1 && len != AQ_MLKEM768_CT_LEN) {
      memset(got, 0xa5, sizeof(got));
      CHECK_INT(aq_mlkem768_decaps_len(got, ct, len, dk, AQ_MLKEM768_DK_LEN), AQ_ERR_MALFORMED);
      CHECK(all_zero(got, sizeof(got)));
      nlen++;
    }
    if (len != AQ_MLKEM768_DK_LEN) {
      memset(got, 0xa5, sizeof(got));
      CHECK_INT(aq_mlkem768_decaps_len(got, ct, AQ_MLKEM768_CT_LEN, dk, len), AQ_ERR_MALFORMED);
      CHECK(all_zero(got, sizeof(got)));
      nlen++;
    }
  }
  printf("  wrong lengths: %zu rejected\n", nlen);
  memset(got, 0xa5, sizeof(got));
  CHECK_INT(aq_mlkem768_decaps_len(got, NULL, AQ_MLKEM768_CT_LEN, dk, AQ_MLKEM768_DK_LEN),
            AQ_ERR_MALFORMED);
  CHECK(all_zero(got, sizeof(got)));
  CHECK_INT(aq_mlkem768_decaps_len(got, ct, AQ_MLKEM768_CT_LEN, dk, AQ_MLKEM768_DK_LEN), 0);
  CHECK_MEM(got, ss, 32);
}

AQ_TEST(mlkem768_selftest) {
  CHECK_INT(aq_mlkem768_selftest(), 0);
}

/* The four-way Keccak (AVX2 when present) equals four scalar permutations, lane by lane. */
AQ_TEST(mlkem768_keccakx4) {
  uint64_t st = 99;
  uint64_t x4[100], port[100], one[4][25];
  for (int round = 0; round < 20; round++) {
    CHECK_INT(aq_test_rand((uint8_t *)x4, sizeof(x4), &st), 0);
    memcpy(port, x4, sizeof(x4));
    for (int k = 0; k < 4; k++) {
      for (int i = 0; i < 25; i++) {
        one[k][i] = x4[4 * i + k];
      }
      aq_keccak_f1600(one[k]);
    }
    aq_keccakx4_f1600(x4);
    aq_keccakx4_f1600_portable(port);
    for (int k = 0; k < 4; k++) {
      for (int i = 0; i < 25; i++) {
        CHECK(x4[4 * i + k] == one[k][i]);
        CHECK(port[4 * i + k] == one[k][i]);
      }
    }
  }
}

/* Collects up to cap bytes of a job's output blocks; asks for more until full. */
typedef struct {
  uint8_t buf[700];
  size_t len, cap;
} collect_ctx;

static int collect_block(aq_keccakx4_job *job, const uint8_t *out, size_t len) {
  collect_ctx *c = job->ctx;
  size_t n = len < c->cap - c->len ? len : c->cap - c->len;
  memcpy(c->buf + c->len, out, n);
  c->len += n;
  return c->len < c->cap;
}

/*
 * The job runner equals the one-shot scalar functions for every input length
 * class (empty, < rate, = rate - 1, = rate, multi-block) and output length,
 * with more jobs than lanes so lanes get reused.
 */
AQ_TEST(mlkem768_keccakx4_jobs) {
  static const size_t inlens[] = {0, 33, 135, 136, 137, 167, 168, 169, 1184, 1120, 71, 72, 500};
  enum { NJ = sizeof(inlens) / sizeof(inlens[0]) * 4 };
  static uint8_t msg[1200];
  static collect_ctx ctx[NJ];
  aq_keccakx4_job jobs[NJ];
  uint8_t want[700];
  uint64_t st = 5;
  CHECK_INT(aq_test_rand(msg, sizeof(msg), &st), 0);
  for (size_t i = 0; i < NJ; i++) {
    size_t inlen = inlens[i / 4];
    ctx[i].len = 0;
    switch (i % 4) {
    case 0: /* SHAKE128, several blocks out */
      ctx[i].cap = 3 * 168 + 10;
      jobs[i] = (aq_keccakx4_job){msg, inlen, 168, 0x1f, 168, collect_block, &ctx[i]};
      break;
    case 1: /* SHAKE256, partial block handed over */
      ctx[i].cap = 2 * 128;
      jobs[i] = (aq_keccakx4_job){msg + 1, inlen, 136, 0x1f, 128, collect_block, &ctx[i]};
      break;
    case 2: /* SHA3-256 */
      ctx[i].cap = 32;
      jobs[i] = (aq_keccakx4_job){msg + 2, inlen, 136, 0x06, 32, collect_block, &ctx[i]};
      break;
    default: /* SHA3-512 */
      ctx[i].cap = 64;
      jobs[i] = (aq_keccakx4_job){msg + 3, inlen, 72, 0x06, 64, collect_block, &ctx[i]};
      break;
    }
  }
  aq_keccakx4_run(jobs, NJ);
  for (size_t i = 0; i < NJ; i++) {
    size_t inlen = inlens[i / 4];
    CHECK_INT(ctx[i].len, ctx[i].cap);
    switch (i % 4) {
    case 0:
      aq_shake128(want, ctx[i].cap, msg, inlen);
      CHECK_MEM(ctx[i].buf, want, ctx[i].cap);
      break;
    case 1: {
      /* Blocks of 136 bytes, of which the first 128 were handed over. */
      uint8_t full[272];
      aq_shake256(full, sizeof(full), msg + 1, inlen);
      CHECK_MEM(ctx[i].buf, full, 128);
      CHECK_MEM(ctx[i].buf + 128, full + 136, 128);
      break;
    }
    case 2:
      aq_sha3_256(want, msg + 2, inlen);
      CHECK_MEM(ctx[i].buf, want, 32);
      break;
    default:
      aq_sha3_512(want, msg + 3, inlen);
      CHECK_MEM(ctx[i].buf, want, 64);
      break;
    }
  }
}
