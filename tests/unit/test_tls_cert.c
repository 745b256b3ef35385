/*
 * test_tls_cert.c - the certificate module (lib/tls/aq_tls_cert*.c):
 * SPKI codec (round trips, truncation at every byte, wrong OIDs/lengths,
 * trailing bytes), X.509 generation cross-checked with OpenSSL, SPKI
 * extraction, signature verification per SignatureScheme (Wycheproof
 * Ed25519 vectors, keys generated with OpenSSL, negative cases), the PEM
 * signer and the PEM decoder.
 */
#include <stdlib.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "aq_mldsa65.h"
#include "aq_test.h"
#include "aq_tls_cert.h"

/* ------------------------------------------------------------ helpers */

/* DER of an OpenSSL public key (SubjectPublicKeyInfo); malloc'd. */
static uint8_t *spki_of(EVP_PKEY *pk, size_t *len) {
  int n = i2d_PUBKEY(pk, NULL);
  if (n <= 0) {
    return NULL;
  }
  uint8_t *buf = malloc((size_t)n);
  unsigned char *p = buf;
  if (buf == NULL || i2d_PUBKEY(pk, &p) != n) {
    free(buf);
    return NULL;
  }
  *len = (size_t)n;
  return buf;
}

/* PEM text of a private key: PKCS#8, or the traditional (SEC1/PKCS#1) form. */
static char *pem_of_key(EVP_PKEY *pk, int traditional, size_t *len) {
  BIO *b = BIO_new(BIO_s_mem());
  char *data;
  int ok = traditional ? PEM_write_bio_PrivateKey_traditional(b, pk, NULL, NULL, 0, NULL, NULL)
                       : PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
  if (!ok) {
    BIO_free(b);
    return NULL;
  }
  long n = BIO_get_mem_data(b, &data);
  char *out = malloc((size_t)n + 1);
  memcpy(out, data, (size_t)n);
  out[n] = '\0';
  *len = (size_t)n;
  BIO_free(b);
  return out;
}

static EVP_PKEY *gen_ed25519(const uint8_t seed[32]) {
  return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
}

/* One RSA-2048 key for the whole run (generation is slow under ASan). */
static EVP_PKEY *rsa_key(void) {
  static EVP_PKEY *k;
  if (k == NULL) {
    k = EVP_RSA_gen(2048);
  }
  return k;
}

static void fill(uint8_t *p, size_t n, uint64_t seed) {
  uint64_t st = seed;
  (void)aq_test_rand(p, n, &st);
}

/* ------------------------------------------------------------- SPKI */

AQ_TEST(tls_cert_spki_ed25519_roundtrip) {
  uint8_t seed[32], raw[32], spki[64];
  size_t rawlen = sizeof(raw), olen;
  fill(seed, sizeof(seed), 1);
  EVP_PKEY *pk = gen_ed25519(seed);
  REQUIRE(pk != NULL);
  REQUIRE(EVP_PKEY_get_raw_public_key(pk, raw, &rawlen) == 1 && rawlen == 32);

  aq_ssize n = aq_spki_encode(spki, sizeof(spki), AQ_KEY_ED25519, raw, 32);
  CHECK_INT(n, 44);
  /* RFC 8410 §10.1 layout: 30 2a 30 05 06 03 2b 65 70 03 21 00 || key */
  CHECK(aq_test_memeq_hex(spki, 12, "302a300506032b6570032100"));
  CHECK_MEM(spki + 12, raw, 32);
  /* Byte-exact with OpenSSL's own encoding. */
  uint8_t *ossl = spki_of(pk, &olen);
  REQUIRE(ossl != NULL);
  CHECK_INT(olen, 44);
  CHECK_MEM(spki, ossl, 44);
  free(ossl);

  aq_key_type t = AQ_KEY_NONE;
  const uint8_t *key = NULL;
  size_t keylen = 0;
  CHECK_INT(aq_spki_parse(&t, &key, &keylen, spki, 44), 0);
  CHECK_INT(t, AQ_KEY_ED25519);
  CHECK(key == spki + 12); /* points into the input */
  CHECK_INT(keylen, 32);

  /* Output buffer one byte short: nothing written. */
  uint8_t small[43];
  memset(small, 0xee, sizeof(small));
  CHECK_INT(aq_spki_encode(small, sizeof(small), AQ_KEY_ED25519, raw, 32), AQ_ERR_BUFFER_TOO_SMALL);
  CHECK_INT(small[0], 0xee);
  /* Wrong key lengths and types are refused. */
  CHECK_INT(aq_spki_encode(spki, sizeof(spki), AQ_KEY_ED25519, raw, 31), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_spki_encode(spki, sizeof(spki), AQ_KEY_ED25519, raw, 33), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_spki_encode(spki, sizeof(spki), AQ_KEY_RSA, raw, 32), AQ_ERR_UNSUPPORTED);
  EVP_PKEY_free(pk);
}

AQ_TEST(tls_cert_spki_mldsa65_roundtrip) {
  static uint8_t raw[1952], spki[2048];
  fill(raw, sizeof(raw), 2);
  aq_ssize n = aq_spki_encode(spki, sizeof(spki), AQ_KEY_MLDSA65, raw, sizeof(raw));
  CHECK_INT(n, 1974);
  /* 30 82 07b2 { 30 0b { 06 09 608648016503040312 } 03 82 07a1 00 key } */
  CHECK(aq_test_memeq_hex(spki, 22, "308207b2300b0609608648016503040312038207a100"));
  CHECK_MEM(spki + 22, raw, sizeof(raw));
  aq_key_type t;
  const uint8_t *key;
  size_t keylen;
  CHECK_INT(aq_spki_parse(&t, &key, &keylen, spki, (size_t)n), 0);
  CHECK_INT(t, AQ_KEY_MLDSA65);
  CHECK(key == spki + 22);
  CHECK_INT(keylen, 1952);
  CHECK_INT(aq_spki_encode(spki, 1973, AQ_KEY_MLDSA65, raw, sizeof(raw)), AQ_ERR_BUFFER_TOO_SMALL);
  CHECK_INT(aq_spki_encode(spki, sizeof(spki), AQ_KEY_MLDSA65, raw, 1951), AQ_ERR_INVALID_ARGUMENT);
}

/* Every strict prefix, and the SPKI plus a trailing byte, is refused. */
static void spki_truncations(const uint8_t *spki, size_t len) {
  uint8_t *buf = malloc(len + 1);
  memcpy(buf, spki, len);
  for (size_t cut = 0; cut < len; cut++) {
    aq_key_type t;
    const uint8_t *key;
    size_t keylen;
    TESTCASE(cut == 0 || cut == len - 1);
    /* Heap copy of exactly cut bytes so ASan catches any over-read. */
    uint8_t *p = malloc(cut ? cut : 1);
    memcpy(p, spki, cut);
    int rv = aq_spki_parse(&t, &key, &keylen, p, cut);
    if (rv != AQ_ERR_MALFORMED) {
      aq_test_fail(__FILE__, __LINE__, "prefix %zu of %zu: rv %d", cut, len, rv);
    }
    free(p);
  }
  buf[len] = 0x00;
  aq_key_type t;
  const uint8_t *key;
  size_t keylen;
  CHECK_INT(aq_spki_parse(&t, &key, &keylen, buf, len + 1), AQ_ERR_MALFORMED);
  free(buf);
}

AQ_TEST(tls_cert_spki_truncation) {
  static uint8_t raw[1952], spki[2048];
  fill(raw, sizeof(raw), 3);
  aq_ssize n = aq_spki_encode(spki, sizeof(spki), AQ_KEY_ED25519, raw, 32);
  REQUIRE(n == 44);
  spki_truncations(spki, 44);
  n = aq_spki_encode(spki, sizeof(spki), AQ_KEY_MLDSA65, raw, sizeof(raw));
  REQUIRE(n == 1974);
  spki_truncations(spki, 1974);

  /* OpenSSL-made EC and RSA SPKIs: parse, then truncate. */
  EVP_PKEY *ec = EVP_EC_gen("P-256");
  size_t len;
  uint8_t *der = spki_of(ec, &len);
  REQUIRE(der != NULL);
  spki_truncations(der, len);
  free(der);
  EVP_PKEY_free(ec);
}

/* Flip each header byte of an Ed25519 SPKI: every one must be refused. */
AQ_TEST(tls_cert_spki_header_flips) {
  uint8_t raw[32], spki[44];
  fill(raw, sizeof(raw), 4);
  REQUIRE(aq_spki_encode(spki, sizeof(spki), AQ_KEY_ED25519, raw, 32) == 44);
  for (size_t i = 0; i < 12; i++) {
    for (int bit = 0; bit < 8; bit++) {
      aq_key_type t;
      const uint8_t *key;
      size_t keylen;
      spki[i] ^= (uint8_t)(1u << bit);
      int rv = aq_spki_parse(&t, &key, &keylen, spki, 44);
      if (rv == 0) {
        aq_test_fail(__FILE__, __LINE__, "flip byte %zu bit %d accepted", i, bit);
      }
      spki[i] ^= (uint8_t)(1u << bit);
    }
  }
  /* Flips inside the key are structurally fine (the key is opaque here). */
  spki[20] ^= 1;
  aq_key_type t;
  const uint8_t *key;
  size_t keylen;
  CHECK_INT(aq_spki_parse(&t, &key, &keylen, spki, 44), 0);
}

/* Hand-written malformed and unsupported SPKIs. */
AQ_TEST(tls_cert_spki_negative) {
  static const struct {
    const char *hex;
    int rv;
    const char *what;
  } cases[] = {
      /* Ed25519 key of 31 and 33 bytes (lengths consistent, key length wrong). */
      {"3029300506032b6570032000"
       "00000000000000000000000000000000000000000000000000000000000000",
       AQ_ERR_MALFORMED, "31-byte key"},
      {"302b300506032b6570032200"
       "000000000000000000000000000000000000000000000000000000000000000000",
       AQ_ERR_MALFORMED, "33-byte key"},
      /* Unused-bits octet 1. */
      {"302a300506032b6570032101"
       "0000000000000000000000000000000000000000000000000000000000000000",
       AQ_ERR_MALFORMED, "unused bits"},
      /* Parameters present (NULL) after the Ed25519 OID: RFC 8410 says absent. */
      {"302c300706032b65700500032100"
       "0000000000000000000000000000000000000000000000000000000000000000",
       AQ_ERR_MALFORMED, "params present"},
      /* Non-minimal length 81 2a for the outer SEQUENCE. */
      {"30812a300506032b6570032100"
       "0000000000000000000000000000000000000000000000000000000000000000",
       AQ_ERR_MALFORMED, "long-form length"},
      /* Indefinite length. */
      {"3080300506032b6570032100"
       "00000000000000000000000000000000000000000000000000000000000000000000",
       AQ_ERR_MALFORMED, "indefinite length"},
      /* X25519 OID 1.3.101.110 (a key-exchange key, not a signature key). */
      {"302a300506032b656e032100"
       "0000000000000000000000000000000000000000000000000000000000000000",
       AQ_ERR_UNSUPPORTED, "X25519 OID"},
      /* Ed448 OID 1.3.101.113. */
      {"302a300506032b6571032100"
       "0000000000000000000000000000000000000000000000000000000000000000",
       AQ_ERR_UNSUPPORTED, "Ed448 OID"},
      /* ML-DSA-44 OID (…04 03 11) with a 32-byte key. */
      {"3030300b0609608648016503040311032100"
       "0000000000000000000000000000000000000000000000000000000000000000",
       AQ_ERR_UNSUPPORTED, "ML-DSA-44 OID"},
      /* ML-DSA-65 OID with a 32-byte key. */
      {"3030300b0609608648016503040312032100"
       "0000000000000000000000000000000000000000000000000000000000000000",
       AQ_ERR_MALFORMED, "ML-DSA-65 short key"},
      /* EC key on secp521r1 (1.3.132.0.35). */
      {"301b301006072a8648ce3d020106052b81040023030700040102030405", AQ_ERR_UNSUPPORTED, "P-521"},
      /* EC key without the curve parameter. */
      {"301309072a8648ce3d0201030600040102030405", AQ_ERR_MALFORMED, "EC alg not a SEQUENCE"},
      {"3015300906072a8648ce3d0201030800040102030405ff", AQ_ERR_MALFORMED, "EC no curve"},
      /* RSA without the NULL parameter. */
      {"3013300b06092a864886f70d0101010304000a0b0c", AQ_ERR_MALFORMED, "RSA no NULL"},
      /* Empty BIT STRING. */
      {"3009300506032b65700300", AQ_ERR_MALFORMED, "empty bit string"},
      /* Outer tag SET instead of SEQUENCE. */
      {"312a300506032b6570032100"
       "0000000000000000000000000000000000000000000000000000000000000000",
       AQ_ERR_MALFORMED, "SET"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    size_t len;
    uint8_t *der = aq_test_unhex(cases[i].hex, &len);
    REQUIRE(der != NULL);
    aq_key_type t;
    const uint8_t *key;
    size_t keylen;
    int rv = aq_spki_parse(&t, &key, &keylen, der, len);
    if (rv != cases[i].rv) {
      aq_test_fail(__FILE__, __LINE__, "%s: rv %d, want %d", cases[i].what, rv, cases[i].rv);
    }
    free(der);
  }
}

AQ_TEST(tls_cert_spki_ec_rsa) {
  EVP_PKEY *p256 = EVP_EC_gen("P-256"), *p384 = EVP_EC_gen("P-384"), *rsa = rsa_key();
  REQUIRE(p256 != NULL && p384 != NULL && rsa != NULL);
  EVP_PKEY *keys[] = {p256, p384, rsa};
  aq_key_type want[] = {AQ_KEY_ECDSA_P256, AQ_KEY_ECDSA_P384, AQ_KEY_RSA};
  for (size_t i = 0; i < 3; i++) {
    size_t len;
    uint8_t *der = spki_of(keys[i], &len);
    aq_key_type t;
    const uint8_t *key;
    size_t keylen;
    CHECK_INT(aq_spki_parse(&t, &key, &keylen, der, len), 0);
    CHECK_INT(t, want[i]);
    CHECK(key == der && keylen == len);
    free(der);
  }
  EVP_PKEY_free(p256);
  EVP_PKEY_free(p384);
}

/* ------------------------------------------------------------- X.509 */

static const uint8_t SERIAL[16] = {0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

AQ_TEST(tls_cert_x509_self_signed) {
  uint8_t seed[32], cert[1024], cert2[1024];
  fill(seed, sizeof(seed), 5);
  const uint64_t nb = 1767225600; /* 2026-01-01T00:00:00Z */
  aq_ssize n =
      aq_x509_self_signed_ed25519(cert, sizeof(cert), seed, "node.example", nb, 365, SERIAL);
  REQUIRE(n > 0);
  /* Ed25519 signatures are deterministic: the same inputs give the same DER. */
  CHECK_INT(
      aq_x509_self_signed_ed25519(cert2, sizeof(cert2), seed, "node.example", nb, 365, SERIAL), n);
  CHECK_MEM(cert, cert2, (size_t)n);

  /* OpenSSL parses it, and every field is what we asked for. */
  const unsigned char *p = cert;
  X509 *x = d2i_X509(NULL, &p, (long)n);
  REQUIRE(x != NULL);
  CHECK(p == cert + n);
  CHECK_INT(X509_get_version(x), X509_VERSION_3);
  EVP_PKEY *pub = X509_get0_pubkey(x);
  REQUIRE(pub != NULL);
  CHECK_INT(EVP_PKEY_get_base_id(pub), EVP_PKEY_ED25519);
  CHECK_INT(X509_verify(x, pub), 1); /* self-signature */
  CHECK_INT(X509_check_issued(x, x), X509_V_OK);
  char cnbuf[64];
  CHECK(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cnbuf, sizeof(cnbuf)) >
        0);
  CHECK(strcmp(cnbuf, "node.example") == 0);
  CHECK_INT(X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)), 0);
  CHECK_INT(X509_check_host(x, "node.example", 0, 0, NULL), 1);
  CHECK(X509_check_host(x, "other.example", 0, 0, NULL) != 1);
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
  uint8_t ser[16];
  CHECK_INT(BN_bn2binpad(bn, ser, 16), 16);
  CHECK_MEM(ser, SERIAL, 16);
  BN_free(bn);
  int day, sec;
  ASN1_TIME *t0 = ASN1_TIME_new();
  ASN1_TIME_set(t0, (time_t)nb);
  CHECK_INT(ASN1_TIME_compare(X509_get0_notBefore(x), t0), 0);
  CHECK(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(x), X509_get0_notAfter(x)) == 1);
  CHECK_INT(day, 365);
  CHECK_INT(sec, 0);
  ASN1_TIME_free(t0);

  /* The public key is the one of the seed; our SPKI extraction agrees with OpenSSL's. */
  EVP_PKEY *priv = gen_ed25519(seed);
  CHECK_INT(EVP_PKEY_eq(priv, pub), 1);
  size_t olen;
  uint8_t *ossl = spki_of(pub, &olen);
  const uint8_t *spki;
  size_t spkilen;
  CHECK_INT(aq_x509_get_spki(&spki, &spkilen, cert, (size_t)n), 0);
  CHECK(spki > cert && spki + spkilen <= cert + n); /* points into the certificate */
  CHECK_INT(spkilen, olen);
  CHECK_MEM(spki, ossl, olen);
  uint8_t raw[32], mine[44];
  size_t rawlen = 32;
  REQUIRE(EVP_PKEY_get_raw_public_key(priv, raw, &rawlen) == 1);
  CHECK_INT(aq_spki_encode(mine, sizeof(mine), AQ_KEY_ED25519, raw, 32), 44);
  CHECK_MEM(spki, mine, 44);
  free(ossl);
  EVP_PKEY_free(priv);
  X509_free(x);

  /* Every output buffer shorter than the certificate is refused. */
  for (size_t cap = 0; cap < (size_t)n; cap += 37) {
    CHECK_INT(aq_x509_self_signed_ed25519(cert2, cap, seed, "node.example", nb, 365, SERIAL),
              AQ_ERR_BUFFER_TOO_SMALL);
  }
  CHECK_INT(
      aq_x509_self_signed_ed25519(cert2, (size_t)n - 1, seed, "node.example", nb, 365, SERIAL),
      AQ_ERR_BUFFER_TOO_SMALL);
  /* Bad names and times. */
  CHECK_INT(aq_x509_self_signed_ed25519(cert2, sizeof(cert2), seed, "", nb, 1, SERIAL),
            AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_x509_self_signed_ed25519(cert2, sizeof(cert2), seed, "a,b", nb, 1, SERIAL) > 0, 1);
  CHECK_INT(aq_x509_self_signed_ed25519(cert2, sizeof(cert2), seed, "a b", nb, 1, SERIAL),
            AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_x509_self_signed_ed25519(cert2, sizeof(cert2), seed, NULL, nb, 1, SERIAL),
            AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_x509_self_signed_ed25519(cert2, sizeof(cert2), seed, "x", UINT64_MAX / 2, 1, SERIAL),
            AQ_ERR_VALUE_RANGE);
}

/* A P-256 certificate built by OpenSSL: our walk finds the same SPKI. */
static aq_ssize make_ec_cert(uint8_t *out, size_t cap, EVP_PKEY *k) {
  X509 *x = X509_new();
  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_NAME *nm = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"ec.test", -1, -1, 0);
  X509_set_issuer_name(x, nm);
  X509_set_pubkey(x, k);
  X509_sign(x, k, EVP_sha256());
  int n = i2d_X509(x, NULL);
  unsigned char *p = out;
  if (n <= 0 || (size_t)n > cap || i2d_X509(x, &p) != n) {
    n = -1;
  }
  X509_free(x);
  return n;
}

AQ_TEST(tls_cert_x509_get_spki) {
  uint8_t cert[1024];
  EVP_PKEY *k = EVP_EC_gen("P-256");
  aq_ssize n = make_ec_cert(cert, sizeof(cert), k);
  REQUIRE(n > 0);
  size_t olen;
  uint8_t *ossl = spki_of(k, &olen);
  const uint8_t *spki;
  size_t spkilen;
  CHECK_INT(aq_x509_get_spki(&spki, &spkilen, cert, (size_t)n), 0);
  CHECK_INT(spkilen, olen);
  CHECK_MEM(spki, ossl, olen);
  aq_key_type t;
  const uint8_t *key;
  size_t keylen;
  CHECK_INT(aq_spki_parse(&t, &key, &keylen, spki, spkilen), 0);
  CHECK_INT(t, AQ_KEY_ECDSA_P256);

  /* Truncation at every byte, and one trailing byte, are refused. */
  for (size_t cut = 0; cut < (size_t)n; cut++) {
    uint8_t *p = malloc(cut ? cut : 1);
    memcpy(p, cert, cut);
    int rv = aq_x509_get_spki(&spki, &spkilen, p, cut);
    if (rv != AQ_ERR_MALFORMED) {
      aq_test_fail(__FILE__, __LINE__, "cert prefix %zu: rv %d", cut, rv);
    }
    free(p);
  }
  cert[n] = 0;
  CHECK_INT(aq_x509_get_spki(&spki, &spkilen, cert, (size_t)n + 1), AQ_ERR_MALFORMED);
  /* A bare SPKI is not a certificate. */
  CHECK_INT(aq_x509_get_spki(&spki, &spkilen, ossl, olen), AQ_ERR_MALFORMED);
  free(ossl);
  EVP_PKEY_free(k);
}

/* ------------------------------------------------------------ verify */

/* Wycheproof Ed25519 verification vectors, through the SPKI path. */
AQ_TEST(tls_cert_verify_ed25519_wycheproof) {
  aq_json *j = aq_json_load_vector("wycheproof/ed25519_test.json");
  if (j == NULL) {
    return;
  }
  const aq_json *groups = aq_json_get(j, "testGroups");
  REQUIRE(groups != NULL);
  size_t ntests = 0;
  for (size_t g = 0; g < groups->n; g++) {
    const aq_json *grp = groups->items[g];
    const char *derhex = aq_json_get_str(grp, "publicKeyDer");
    const char *pkhex = aq_json_get_str(aq_json_get(grp, "publicKey"), "pk");
    REQUIRE(derhex != NULL && pkhex != NULL);
    size_t derlen, pklen;
    uint8_t *der = aq_test_unhex(derhex, &derlen);
    uint8_t *pk = aq_test_unhex(pkhex, &pklen);
    REQUIRE(der != NULL && pk != NULL && pklen == 32);
    /* Our encoder produces Wycheproof's DER, and our parser reads it back. */
    uint8_t mine[44];
    CHECK_INT(aq_spki_encode(mine, sizeof(mine), AQ_KEY_ED25519, pk, 32), (aq_ssize)derlen);
    CHECK_MEM(mine, der, derlen);
    const aq_json *tests = aq_json_get(grp, "tests");
    for (size_t i = 0; i < tests->n; i++) {
      const aq_json *tc = tests->items[i];
      size_t msglen, siglen;
      uint8_t *msg = aq_test_unhex(aq_json_get_str(tc, "msg"), &msglen);
      uint8_t *sig = aq_test_unhex(aq_json_get_str(tc, "sig"), &siglen);
      const char *result = aq_json_get_str(tc, "result");
      REQUIRE(msg != NULL && sig != NULL && result != NULL);
      int rv = aq_sig_verify_spki(AQ_SIG_ED25519, der, derlen, msg, msglen, sig, siglen);
      int want = strcmp(result, "valid") == 0 ? 0 : AQ_ERR_VERIFY;
      if (rv != want) {
        aq_test_fail(__FILE__, __LINE__, "tcId %lld: rv %d want %d",
                     aq_json_get_int(tc, "tcId", -1), rv, want);
      }
      /* The same valid signature under the wrong scheme id must fail. */
      if (want == 0) {
        CHECK_INT(aq_sig_verify_spki(AQ_SIG_ECDSA_SECP256R1_SHA256, der, derlen, msg, msglen, sig,
                                     siglen),
                  AQ_ERR_VERIFY);
      }
      ntests++;
      free(msg);
      free(sig);
    }
    free(der);
    free(pk);
  }
  CHECK(ntests >= 100);
  aq_json_free(j);
}

/*
 * The key cache gives the same answers as the uncached path: good and bad
 * signatures under a cached key, keys replaced when more than the cache
 * holds are used, and SPKIs that do not decode are refused every time.
 */
static void cache_cases(aq_pem_signer *s, uint16_t scheme, const uint8_t *spki, size_t spkilen) {
  static const uint8_t msg[] = "cached key, fresh signature";
  uint8_t sig[600];
  aq_key_cache *kc = aq_key_cache_new(NULL);
  REQUIRE(kc != NULL);
  for (int round = 0; round < 3; round++) {
    aq_ssize n = aq_pem_signer_sign(s, scheme, sig, sizeof(sig), msg, sizeof(msg));
    REQUIRE(n > 0);
    CHECK_INT(aq_sig_verify_spki_cached(kc, scheme, spki, spkilen, msg, sizeof(msg), sig,
                                        (size_t)n),
              0);
    sig[n / 2] ^= 0x04;
    CHECK_INT(aq_sig_verify_spki_cached(kc, scheme, spki, spkilen, msg, sizeof(msg), sig,
                                        (size_t)n),
              AQ_ERR_VERIFY);
    sig[n / 2] ^= 0x04;
    CHECK_INT(aq_sig_verify_spki_cached(kc, scheme, spki, spkilen, msg, sizeof(msg) - 1, sig,
                                        (size_t)n),
              AQ_ERR_VERIFY);
    /* A scheme the cached key cannot verify. */
    uint16_t other = scheme == AQ_SIG_ED25519 ? AQ_SIG_ECDSA_SECP256R1_SHA256 : AQ_SIG_ED25519;
    CHECK_INT(aq_sig_verify_spki_cached(kc, other, spki, spkilen, msg, sizeof(msg), sig,
                                        (size_t)n),
              AQ_ERR_VERIFY);
    /* Fill the cache with other keys (each verifies its own signature), evicting ours. */
    for (int i = 0; round == 1 && i < 6; i++) {
      uint8_t seed[32];
      fill(seed, sizeof(seed), (uint8_t)(40 + i));
      EVP_PKEY *ek = gen_ed25519(seed);
      size_t elen, pemlen;
      uint8_t *espki = spki_of(ek, &elen);
      char *epem = pem_of_key(ek, 0, &pemlen);
      aq_pem_signer es;
      REQUIRE(espki != NULL && epem != NULL && aq_pem_signer_load(&es, epem, pemlen) == 0);
      uint8_t esig[64];
      REQUIRE(aq_pem_signer_sign(&es, AQ_SIG_ED25519, esig, sizeof(esig), msg, sizeof(msg)) ==
              64);
      CHECK_INT(aq_sig_verify_spki_cached(kc, AQ_SIG_ED25519, espki, elen, msg, sizeof(msg), esig,
                                          64),
                0);
      /* ...and never our signature. */
      CHECK_INT(aq_sig_verify_spki_cached(kc, AQ_SIG_ED25519, espki, elen, msg, sizeof(msg), sig,
                                          (size_t)n),
                AQ_ERR_VERIFY);
      aq_pem_signer_free(&es);
      EVP_PKEY_free(ek);
      free(espki);
      free(epem);
    }
  }
  /* A corrupt SPKI is refused each time (not remembered as good). */
  uint8_t *bad = malloc(spkilen);
  REQUIRE(bad != NULL);
  memcpy(bad, spki, spkilen);
  bad[spkilen - 1] ^= 0x01;
  aq_ssize n = aq_pem_signer_sign(s, scheme, sig, sizeof(sig), msg, sizeof(msg));
  REQUIRE(n > 0);
  for (int i = 0; i < 2; i++) {
    CHECK_INT(aq_sig_verify_spki_cached(kc, scheme, bad, spkilen, msg, sizeof(msg), sig,
                                        (size_t)n),
              AQ_ERR_VERIFY);
  }
  CHECK_INT(aq_sig_verify_spki_cached(kc, scheme, spki, spkilen, msg, sizeof(msg), sig, (size_t)n),
            0);
  free(bad);
  aq_key_cache_del(kc);
  aq_key_cache_del(NULL);
}

/*
 * ECDSA with a nonce prepared ahead (aq_pem_signer_prepare): each prepared
 * nonce signs once, the signatures verify and differ, and signing without a
 * prepared nonce still works.
 */
static void prepared_cases(aq_pem_signer *s, uint16_t scheme, const uint8_t *spki,
                           size_t spkilen) {
  static const uint8_t msg[] = "prepared nonce";
  uint8_t sig[8][120];
  aq_ssize len[8];
  for (int i = 0; i < 8; i++) {
    aq_pem_signer_prepare(s);
    CHECK(aq_ecdsa_pre_ready(&s->pre));
    aq_pem_signer_prepare(s); /* a second call keeps the one nonce */
    len[i] = aq_pem_signer_sign(s, scheme, sig[i], sizeof(sig[i]), msg, sizeof(msg));
    REQUIRE(len[i] > 0);
    CHECK(!aq_ecdsa_pre_ready(&s->pre)); /* used up */
    CHECK_INT(aq_sig_verify_spki(scheme, spki, spkilen, msg, sizeof(msg), sig[i], (size_t)len[i]),
              0);
    for (int j = 0; j < i; j++) {
      CHECK(len[j] != len[i] || memcmp(sig[j], sig[i], (size_t)len[i]) != 0);
    }
  }
  /* Too small a buffer: refused, and the nonce is kept for the next call. */
  aq_pem_signer_prepare(s);
  CHECK_INT(aq_pem_signer_sign(s, scheme, sig[0], 10, msg, sizeof(msg)), AQ_ERR_BUFFER_TOO_SMALL);
  CHECK(aq_ecdsa_pre_ready(&s->pre));
  len[0] = aq_pem_signer_sign(s, scheme, sig[0], sizeof(sig[0]), msg, sizeof(msg));
  REQUIRE(len[0] > 0);
  CHECK_INT(aq_sig_verify_spki(scheme, spki, spkilen, msg, sizeof(msg), sig[0], (size_t)len[0]),
            0);
  /* Nothing prepared: the ordinary path. */
  len[1] = aq_pem_signer_sign(s, scheme, sig[1], sizeof(sig[1]), msg, sizeof(msg));
  REQUIRE(len[1] > 0);
  CHECK_INT(aq_sig_verify_spki(scheme, spki, spkilen, msg, sizeof(msg), sig[1], (size_t)len[1]),
            0);
}

/* Sign with an aq_pem_signer, verify through the SPKI, then the negatives. */
static void sign_verify_cases(EVP_PKEY *k, uint16_t scheme, aq_key_type type) {
  size_t pemlen, spkilen;
  char *pem = pem_of_key(k, 0, &pemlen);
  uint8_t *spki = spki_of(k, &spkilen);
  REQUIRE(pem != NULL && spki != NULL);
  aq_pem_signer s;
  REQUIRE(aq_pem_signer_load(&s, pem, pemlen) == 0);
  CHECK_INT(s.type, type);
  static const uint8_t msg[] = "TLS 1.3, server CertificateVerify\0 transcript hash here";
  uint8_t sig[600];
  aq_ssize n = aq_pem_signer_sign(&s, scheme, sig, sizeof(sig), msg, sizeof(msg));
  REQUIRE(n > 0);
  CHECK_INT(aq_sig_verify_spki(scheme, spki, spkilen, msg, sizeof(msg), sig, (size_t)n), 0);

  /* Flip one bit in each signature byte. */
  for (size_t i = 0; i < (size_t)n; i++) {
    sig[i] ^= 0x10;
    int rv = aq_sig_verify_spki(scheme, spki, spkilen, msg, sizeof(msg), sig, (size_t)n);
    if (rv != AQ_ERR_VERIFY) {
      aq_test_fail(__FILE__, __LINE__, "scheme %04x: flip sig[%zu] rv %d", scheme, i, rv);
    }
    sig[i] ^= 0x10;
  }
  /* Flipped message, truncated / extended signature, empty signature. */
  uint8_t msg2[sizeof(msg)];
  memcpy(msg2, msg, sizeof(msg));
  msg2[3] ^= 1;
  CHECK_INT(aq_sig_verify_spki(scheme, spki, spkilen, msg2, sizeof(msg2), sig, (size_t)n),
            AQ_ERR_VERIFY);
  CHECK_INT(aq_sig_verify_spki(scheme, spki, spkilen, msg, sizeof(msg), sig, (size_t)n - 1),
            AQ_ERR_VERIFY);
  sig[n] = 0;
  CHECK_INT(aq_sig_verify_spki(scheme, spki, spkilen, msg, sizeof(msg), sig, (size_t)n + 1),
            AQ_ERR_VERIFY);
  CHECK_INT(aq_sig_verify_spki(scheme, spki, spkilen, msg, sizeof(msg), sig, 0), AQ_ERR_VERIFY);
  /* The right signature under every other scheme fails (key/scheme mismatch or hash mismatch). */
  static const uint16_t all[] = {AQ_SIG_ED25519,
                                 AQ_SIG_ECDSA_SECP256R1_SHA256,
                                 AQ_SIG_ECDSA_SECP384R1_SHA384,
                                 AQ_SIG_RSA_PSS_RSAE_SHA256,
                                 AQ_SIG_RSA_PSS_RSAE_SHA384,
                                 AQ_SIG_RSA_PSS_RSAE_SHA512};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    if (all[i] != scheme) {
      int rv = aq_sig_verify_spki(all[i], spki, spkilen, msg, sizeof(msg), sig, (size_t)n);
      if (rv != AQ_ERR_VERIFY) {
        aq_test_fail(__FILE__, __LINE__, "sig %04x checked as %04x: rv %d", scheme, all[i], rv);
      }
    }
  }
  /* ML-DSA and unknown schemes: unsupported; rsa_pkcs1_sha256 is not a TLS 1.3 CV scheme. */
  CHECK_INT(aq_sig_verify_spki(0x0401, spki, spkilen, msg, sizeof(msg), sig, (size_t)n),
            AQ_ERR_UNSUPPORTED);
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_MLDSA65, spki, spkilen, msg, sizeof(msg), sig, (size_t)n),
            AQ_ERR_VERIFY);
  /* Corrupt SPKI. */
  spki[spkilen - 1] ^= 0x01;
  int rv = aq_sig_verify_spki(scheme, spki, spkilen, msg, sizeof(msg), sig, (size_t)n);
  CHECK_INT(rv, AQ_ERR_VERIFY);
  spki[spkilen - 1] ^= 0x01;
  CHECK_INT(aq_sig_verify_spki(scheme, spki, spkilen - 1, msg, sizeof(msg), sig, (size_t)n),
            AQ_ERR_VERIFY);
  /* The signer refuses schemes its key cannot make, and small buffers. */
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
    aq_ssize r = aq_pem_signer_sign(&s, all[i], sig, sizeof(sig), msg, sizeof(msg));
    int ok = (type == AQ_KEY_RSA && (all[i] >> 8) == 0x08 && all[i] != AQ_SIG_ED25519) ||
             all[i] == scheme;
    CHECK(ok ? r > 0 : r == AQ_ERR_UNSUPPORTED);
    if (ok) {
      CHECK_INT(aq_sig_verify_spki(all[i], spki, spkilen, msg, sizeof(msg), sig, (size_t)r), 0);
    }
  }
  CHECK_INT(aq_pem_signer_sign(&s, scheme, sig, 10, msg, sizeof(msg)), AQ_ERR_BUFFER_TOO_SMALL);
  cache_cases(&s, scheme, spki, spkilen);
  if (type == AQ_KEY_ECDSA_P256 || type == AQ_KEY_ECDSA_P384) {
    prepared_cases(&s, scheme, spki, spkilen);
  } else {
    aq_pem_signer_prepare(&s); /* nothing to prepare */
    CHECK(!aq_ecdsa_pre_ready(&s.pre));
  }
  aq_pem_signer_prepare(NULL);
  aq_pem_signer_free(&s);
  CHECK(s.pkey == NULL);
  free(pem);
  free(spki);
}

AQ_TEST(tls_cert_verify_ed25519) {
  uint8_t seed[32];
  fill(seed, sizeof(seed), 6);
  EVP_PKEY *k = gen_ed25519(seed);
  sign_verify_cases(k, AQ_SIG_ED25519, AQ_KEY_ED25519);
  EVP_PKEY_free(k);
}

AQ_TEST(tls_cert_verify_p256) {
  EVP_PKEY *k = EVP_EC_gen("P-256");
  sign_verify_cases(k, AQ_SIG_ECDSA_SECP256R1_SHA256, AQ_KEY_ECDSA_P256);
  EVP_PKEY_free(k);
}

AQ_TEST(tls_cert_verify_p384) {
  EVP_PKEY *k = EVP_EC_gen("P-384");
  sign_verify_cases(k, AQ_SIG_ECDSA_SECP384R1_SHA384, AQ_KEY_ECDSA_P384);
  EVP_PKEY_free(k);
}

AQ_TEST(tls_cert_verify_rsa_pss) {
  EVP_PKEY *k = rsa_key();
  REQUIRE(k != NULL);
  sign_verify_cases(k, AQ_SIG_RSA_PSS_RSAE_SHA256, AQ_KEY_RSA);
}

/* Signatures made directly with OpenSSL under other parameters must fail. */
static size_t ossl_sign(EVP_PKEY *k, const EVP_MD *md, int pad, int saltlen, uint8_t *sig,
                        size_t cap, const uint8_t *msg, size_t msglen) {
  EVP_MD_CTX *m = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pc = NULL;
  size_t len = cap;
  if (EVP_DigestSignInit(m, &pc, md, NULL, k) != 1) {
    len = 0;
  } else {
    if (pad != 0) {
      EVP_PKEY_CTX_set_rsa_padding(pc, pad);
      if (pad == RSA_PKCS1_PSS_PADDING) {
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, saltlen);
        EVP_PKEY_CTX_set_rsa_mgf1_md(pc, md);
      }
    }
    if (EVP_DigestSign(m, sig, &len, msg, msglen) != 1) {
      len = 0;
    }
  }
  EVP_MD_CTX_free(m);
  return len;
}

AQ_TEST(tls_cert_verify_cross) {
  static const uint8_t msg[] = "cross-check message";
  uint8_t sig[600];
  size_t spkilen, n;
  EVP_PKEY *rsa = rsa_key();
  uint8_t *spki = spki_of(rsa, &spkilen);
  /* PSS, SHA-384, salt = 48: the exact TLS parameters made by OpenSSL verify. */
  n = ossl_sign(rsa, EVP_sha384(), RSA_PKCS1_PSS_PADDING, 48, sig, sizeof(sig), msg, sizeof(msg));
  REQUIRE(n > 0);
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_RSA_PSS_RSAE_SHA384, spki, spkilen, msg, sizeof(msg), sig, n),
            0);
  /* PSS with salt length 0 / 20: TLS 1.3 requires salt = hash length. */
  n = ossl_sign(rsa, EVP_sha256(), RSA_PKCS1_PSS_PADDING, 0, sig, sizeof(sig), msg, sizeof(msg));
  REQUIRE(n > 0);
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_RSA_PSS_RSAE_SHA256, spki, spkilen, msg, sizeof(msg), sig, n),
            AQ_ERR_VERIFY);
  n = ossl_sign(rsa, EVP_sha256(), RSA_PKCS1_PSS_PADDING, 20, sig, sizeof(sig), msg, sizeof(msg));
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_RSA_PSS_RSAE_SHA256, spki, spkilen, msg, sizeof(msg), sig, n),
            AQ_ERR_VERIFY);
  /* PKCS#1 v1.5 is not allowed for CertificateVerify (RFC 8446 §4.2.3). */
  n = ossl_sign(rsa, EVP_sha256(), RSA_PKCS1_PADDING, 0, sig, sizeof(sig), msg, sizeof(msg));
  REQUIRE(n > 0);
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_RSA_PSS_RSAE_SHA256, spki, spkilen, msg, sizeof(msg), sig, n),
            AQ_ERR_VERIFY);
  free(spki);

  /* ECDSA P-256 with SHA-384 is not 0x0403. */
  EVP_PKEY *ec = EVP_EC_gen("P-256");
  spki = spki_of(ec, &spkilen);
  n = ossl_sign(ec, EVP_sha384(), 0, 0, sig, sizeof(sig), msg, sizeof(msg));
  REQUIRE(n > 0);
  CHECK_INT(
      aq_sig_verify_spki(AQ_SIG_ECDSA_SECP256R1_SHA256, spki, spkilen, msg, sizeof(msg), sig, n),
      AQ_ERR_VERIFY);
  n = ossl_sign(ec, EVP_sha256(), 0, 0, sig, sizeof(sig), msg, sizeof(msg));
  REQUIRE(n > 8);
  CHECK_INT(
      aq_sig_verify_spki(AQ_SIG_ECDSA_SECP256R1_SHA256, spki, spkilen, msg, sizeof(msg), sig, n),
      0);
  /* BER, not DER: the SEQUENCE length in long form (30 81 LL) must fail. */
  uint8_t ber[80];
  REQUIRE(sig[0] == 0x30 && sig[1] < 0x80);
  ber[0] = 0x30;
  ber[1] = 0x81;
  memcpy(ber + 2, sig + 1, n - 1);
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_ECDSA_SECP256R1_SHA256, spki, spkilen, msg, sizeof(msg), ber,
                               n + 1),
            AQ_ERR_VERIFY);
  /* Raw r||s (not DER) fails. */
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_ECDSA_SECP256R1_SHA256, spki, spkilen, msg, sizeof(msg),
                               sig + 4, 64),
            AQ_ERR_VERIFY);
  free(spki);
  EVP_PKEY_free(ec);

  /* An RSA-1024 key is refused even with a good signature. */
  EVP_PKEY *small = EVP_RSA_gen(1024);
  spki = spki_of(small, &spkilen);
  n = ossl_sign(small, EVP_sha256(), RSA_PKCS1_PSS_PADDING, 32, sig, sizeof(sig), msg, sizeof(msg));
  REQUIRE(n > 0);
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_RSA_PSS_RSAE_SHA256, spki, spkilen, msg, sizeof(msg), sig, n),
            AQ_ERR_VERIFY);
  size_t pemlen;
  char *pem = pem_of_key(small, 0, &pemlen);
  aq_pem_signer s;
  CHECK_INT(aq_pem_signer_load(&s, pem, pemlen), AQ_ERR_UNSUPPORTED);
  free(pem);
  free(spki);
  EVP_PKEY_free(small);

  /* An all-zero "ML-DSA-65 key" and garbage signature: refused, not unsupported. */
  static uint8_t raw[1952], mspki[2048];
  aq_ssize mlen = aq_spki_encode(mspki, sizeof(mspki), AQ_KEY_MLDSA65, raw, sizeof(raw));
  REQUIRE(mlen > 0);
  memset(sig, 0x5a, sizeof(sig));
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_MLDSA65, mspki, (size_t)mlen, msg, sizeof(msg), sig, 600),
            AQ_ERR_VERIFY);
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_ED25519, mspki, (size_t)mlen, msg, sizeof(msg), sig, 64),
            AQ_ERR_VERIFY);
}

/* ML-DSA-65 (0x0905): pure ML-DSA, empty context, through the SPKI path. */
AQ_TEST(tls_cert_verify_mldsa65) {
  static uint8_t pk[AQ_MLDSA65_PK_LEN], sk[AQ_MLDSA65_SK_LEN], sig[AQ_MLDSA65_SIG_LEN + 1];
  static uint8_t spki[2048];
  uint8_t xi[32];
  static const uint8_t msg[] = "TLS 1.3, server CertificateVerify ML-DSA";
  static const uint8_t ctx[] = "tls";
  fill(xi, sizeof(xi), 9);
  aq_mldsa65_keygen(pk, sk, xi);
  aq_ssize n = aq_spki_encode(spki, sizeof(spki), AQ_KEY_MLDSA65, pk, sizeof(pk));
  REQUIRE(n == 1974);
  REQUIRE(aq_mldsa65_sign(sig, sk, msg, sizeof(msg), NULL, 0, AQ_MLDSA65_RND_DETERMINISTIC) == 0);
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_MLDSA65, spki, (size_t)n, msg, sizeof(msg), sig,
                               AQ_MLDSA65_SIG_LEN),
            0);
  /* Flipped signature bytes (a spread of offsets, both ends included). */
  for (size_t i = 0; i < AQ_MLDSA65_SIG_LEN;
       i += (i < 40 || i > AQ_MLDSA65_SIG_LEN - 40) ? 1 : 53) {
    sig[i] ^= 0x01;
    int rv = aq_sig_verify_spki(AQ_SIG_MLDSA65, spki, (size_t)n, msg, sizeof(msg), sig,
                                AQ_MLDSA65_SIG_LEN);
    if (rv != AQ_ERR_VERIFY) {
      aq_test_fail(__FILE__, __LINE__, "flip sig[%zu]: rv %d", i, rv);
    }
    sig[i] ^= 0x01;
  }
  /* Flipped message, short/long signature, flipped key. */
  uint8_t msg2[sizeof(msg)];
  memcpy(msg2, msg, sizeof(msg));
  msg2[0] ^= 0x80;
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_MLDSA65, spki, (size_t)n, msg2, sizeof(msg2), sig,
                               AQ_MLDSA65_SIG_LEN),
            AQ_ERR_VERIFY);
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_MLDSA65, spki, (size_t)n, msg, sizeof(msg), sig,
                               AQ_MLDSA65_SIG_LEN - 1),
            AQ_ERR_VERIFY);
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_MLDSA65, spki, (size_t)n, msg, sizeof(msg), sig,
                               AQ_MLDSA65_SIG_LEN + 1),
            AQ_ERR_VERIFY);
  spki[100] ^= 0x04;
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_MLDSA65, spki, (size_t)n, msg, sizeof(msg), sig,
                               AQ_MLDSA65_SIG_LEN),
            AQ_ERR_VERIFY);
  spki[100] ^= 0x04;
  /* The same key/signature under the Ed25519 scheme id: key type mismatch. */
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_ED25519, spki, (size_t)n, msg, sizeof(msg), sig,
                               AQ_MLDSA65_SIG_LEN),
            AQ_ERR_VERIFY);
  /* A signature with a non-empty context is not a TLS signature (draft-ietf-tls-mldsa). */
  REQUIRE(aq_mldsa65_sign(sig, sk, msg, sizeof(msg), ctx, 3, AQ_MLDSA65_RND_DETERMINISTIC) == 0);
  CHECK_INT(aq_mldsa65_verify(pk, msg, sizeof(msg), ctx, 3, sig, AQ_MLDSA65_SIG_LEN), 0);
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_MLDSA65, spki, (size_t)n, msg, sizeof(msg), sig,
                               AQ_MLDSA65_SIG_LEN),
            AQ_ERR_VERIFY);
  /* An Ed25519 key cannot carry 0x0905. */
  uint8_t edspki[44];
  REQUIRE(aq_spki_encode(edspki, sizeof(edspki), AQ_KEY_ED25519, pk, 32) == 44);
  CHECK_INT(
      aq_sig_verify_spki(AQ_SIG_MLDSA65, edspki, 44, msg, sizeof(msg), sig, AQ_MLDSA65_SIG_LEN),
      AQ_ERR_VERIFY);
}

/* Wycheproof ML-DSA-65 verification vectors through publicKeyDer and the TLS path. */
AQ_TEST(tls_cert_verify_mldsa65_wycheproof) {
  aq_json *j = aq_json_load_vector("wycheproof/mldsa_65_verify_test.json");
  if (j == NULL) {
    return;
  }
  const aq_json *groups = aq_json_get(j, "testGroups");
  REQUIRE(groups != NULL);
  size_t nvalid = 0, ninvalid = 0;
  for (size_t g = 0; g < groups->n; g++) {
    const aq_json *grp = groups->items[g];
    size_t derlen, pklen;
    uint8_t *der = aq_test_unhex(aq_json_get_str(grp, "publicKeyDer"), &derlen);
    uint8_t *pk = aq_test_unhex(aq_json_get_str(grp, "publicKey"), &pklen);
    REQUIRE(der != NULL && pk != NULL);
    aq_key_type t;
    const uint8_t *key;
    size_t keylen;
    int prv = aq_spki_parse(&t, &key, &keylen, der, derlen);
    if (pklen == AQ_MLDSA65_PK_LEN) {
      /* Well-sized keys: our parser and encoder agree with Wycheproof's DER. */
      static uint8_t mine[2048];
      CHECK_INT(prv, 0);
      CHECK(keylen == pklen && memcmp(key, pk, pklen) == 0);
      CHECK_INT(aq_spki_encode(mine, sizeof(mine), AQ_KEY_MLDSA65, pk, pklen), (aq_ssize)derlen);
      CHECK_MEM(mine, der, derlen);
    } else {
      CHECK(prv != 0);
    }
    const aq_json *tests = aq_json_get(grp, "tests");
    for (size_t i = 0; i < tests->n; i++) {
      const aq_json *tc = tests->items[i];
      const char *ctxhex = aq_json_get_str(tc, "ctx");
      size_t msglen, siglen;
      uint8_t *msg = aq_test_unhex(aq_json_get_str(tc, "msg"), &msglen);
      uint8_t *sig = aq_test_unhex(aq_json_get_str(tc, "sig"), &siglen);
      REQUIRE(msg != NULL && sig != NULL);
      /* TLS always verifies with the empty context: only empty-ctx "valid" cases pass. */
      int valid = strcmp(aq_json_get_str(tc, "result"), "valid") == 0 &&
                  (ctxhex == NULL || ctxhex[0] == '\0');
      int rv = aq_sig_verify_spki(AQ_SIG_MLDSA65, der, derlen, msg, msglen, sig, siglen);
      if (rv != (valid ? 0 : AQ_ERR_VERIFY)) {
        aq_test_fail(__FILE__, __LINE__, "tcId %lld: rv %d, valid %d",
                     aq_json_get_int(tc, "tcId", -1), rv, valid);
      }
      if (valid) {
        nvalid++;
      } else {
        ninvalid++;
      }
      free(msg);
      free(sig);
    }
    free(der);
    free(pk);
  }
  CHECK(nvalid >= 50 && ninvalid >= 100);
  aq_json_free(j);
}

/* -------------------------------------------------------------- PEM */

AQ_TEST(tls_cert_pem_signer_forms) {
  /* Traditional SEC1 / PKCS#1 forms load too; the scheme follows the key. */
  EVP_PKEY *keys[] = {EVP_EC_gen("P-256"), EVP_EC_gen("P-384"), rsa_key()};
  uint16_t want[] = {AQ_SIG_ECDSA_SECP256R1_SHA256, AQ_SIG_ECDSA_SECP384R1_SHA384,
                     AQ_SIG_RSA_PSS_RSAE_SHA256};
  const char *label[] = {"EC PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY"};
  for (size_t i = 0; i < 3; i++) {
    size_t pemlen;
    char *pem = pem_of_key(keys[i], 1, &pemlen);
    REQUIRE(pem != NULL);
    CHECK(strstr(pem, label[i]) != NULL);
    aq_pem_signer s;
    CHECK_INT(aq_pem_signer_load(&s, pem, pemlen), 0);
    CHECK_INT(s.sig_scheme, want[i]);
    aq_pem_signer_free(&s);
    free(pem);
  }
  EVP_PKEY_free(keys[0]);
  EVP_PKEY_free(keys[1]);

  /* P-521 and X25519 keys: unsupported. */
  EVP_PKEY *p521 = EVP_EC_gen("P-521");
  EVP_PKEY *x25519 = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
  EVP_PKEY *bad[] = {p521, x25519};
  for (size_t i = 0; i < 2; i++) {
    size_t pemlen;
    char *pem = pem_of_key(bad[i], 0, &pemlen);
    aq_pem_signer s;
    CHECK_INT(aq_pem_signer_load(&s, pem, pemlen), AQ_ERR_UNSUPPORTED);
    free(pem);
    EVP_PKEY_free(bad[i]);
  }

  /* An encrypted key fails without prompting for a passphrase. */
  BIO *b = BIO_new(BIO_s_mem());
  uint8_t seed[32];
  fill(seed, 32, 7);
  EVP_PKEY *ed = gen_ed25519(seed);
  REQUIRE(PEM_write_bio_PKCS8PrivateKey(b, ed, EVP_aes_128_cbc(), NULL, 0, NULL, "pass") == 1);
  char *data;
  long dn = BIO_get_mem_data(b, &data);
  aq_pem_signer s;
  CHECK_INT(aq_pem_signer_load(&s, data, (size_t)dn), AQ_ERR_MALFORMED);
  BIO_free(b);
  EVP_PKEY_free(ed);
  /* Garbage and a certificate (no key) are malformed. */
  CHECK_INT(aq_pem_signer_load(&s, "hello", 5), AQ_ERR_MALFORMED);
  CHECK_INT(aq_pem_signer_load(&s, "", 0), AQ_ERR_INVALID_ARGUMENT);
}

/* PEM of a certificate, decoded by us, equals OpenSSL's DER. */
AQ_TEST(tls_cert_pem_decode) {
  uint8_t seed[32], cert[1024], der[1024];
  fill(seed, 32, 8);
  aq_ssize n =
      aq_x509_self_signed_ed25519(cert, sizeof(cert), seed, "pem.test", 1767225600, 30, SERIAL);
  REQUIRE(n > 0);
  const unsigned char *cp = cert;
  X509 *x = d2i_X509(NULL, &cp, (long)n);
  REQUIRE(x != NULL);
  BIO *b = BIO_new(BIO_s_mem());
  /* A key block first, then the certificate: the label picks the block. */
  EVP_PKEY *ed = gen_ed25519(seed);
  REQUIRE(PEM_write_bio_PrivateKey(b, ed, NULL, NULL, 0, NULL, NULL) == 1);
  REQUIRE(PEM_write_bio_X509(b, x) == 1);
  char *data;
  long dn = BIO_get_mem_data(b, &data);
  size_t pemlen = (size_t)dn;
  char *pem = malloc(pemlen);
  memcpy(pem, data, pemlen);
  BIO_free(b);

  CHECK_INT(aq_pem_decode(der, sizeof(der), "CERTIFICATE", pem, pemlen), n);
  CHECK_MEM(der, cert, (size_t)n);
  /* The key block decodes to a PKCS#8 structure that OpenSSL reads back. */
  aq_ssize kn = aq_pem_decode(der, sizeof(der), "PRIVATE KEY", pem, pemlen);
  REQUIRE(kn > 0);
  const unsigned char *kp = der;
  EVP_PKEY *back = d2i_AutoPrivateKey(NULL, &kp, (long)kn);
  CHECK(back != NULL && EVP_PKEY_eq(back, ed) == 1);
  EVP_PKEY_free(back);
  EVP_PKEY_free(ed);

  CHECK_INT(aq_pem_decode(der, sizeof(der), "PUBLIC KEY", pem, pemlen), AQ_ERR_NOT_FOUND);
  CHECK_INT(aq_pem_decode(der, (size_t)n - 1, "CERTIFICATE", pem, pemlen), AQ_ERR_BUFFER_TOO_SMALL);
  /* "CERT" must not match "CERTIFICATE". */
  CHECK_INT(aq_pem_decode(der, sizeof(der), "CERT", pem, pemlen), AQ_ERR_NOT_FOUND);

  /* Truncation at every offset: never a crash, never a wrong success. */
  char *begin = strstr(pem, "-----BEGIN CERTIFICATE-----");
  REQUIRE(begin != NULL);
  size_t certoff = (size_t)(begin - pem);
  for (size_t cut = 0; cut < pemlen; cut++) {
    char *p = malloc(cut ? cut : 1);
    memcpy(p, pem, cut);
    aq_ssize rv = aq_pem_decode(der, sizeof(der), "CERTIFICATE", p, cut);
    /* Only the cut that drops just the final newline may still succeed. */
    if (cut == pemlen - 1) {
      CHECK_INT(rv, n);
    } else if (cut < certoff + 27) {
      if (rv != AQ_ERR_NOT_FOUND) {
        aq_test_fail(__FILE__, __LINE__, "cut %zu: rv %lld", cut, (long long)rv);
      }
    } else if (rv != AQ_ERR_MALFORMED) {
      aq_test_fail(__FILE__, __LINE__, "cut %zu: rv %lld", cut, (long long)rv);
    }
    free(p);
  }

  /* CRLF line endings decode the same. */
  size_t crlen = 0;
  char *cr = malloc(pemlen * 2);
  for (size_t i = 0; i < pemlen; i++) {
    if (pem[i] == '\n') {
      cr[crlen++] = '\r';
    }
    cr[crlen++] = pem[i];
  }
  CHECK_INT(aq_pem_decode(der, sizeof(der), "CERTIFICATE", cr, crlen), n);
  CHECK_MEM(der, cert, (size_t)n);
  free(cr);

  /* A bad character in the body, and an encrypted-PEM header, are malformed. */
  char *body = strstr(begin, "\n") + 1;
  char save = body[10];
  body[10] = '*';
  CHECK_INT(aq_pem_decode(der, sizeof(der), "CERTIFICATE", pem, pemlen), AQ_ERR_MALFORMED);
  body[10] = save;
  free(pem);
  X509_free(x);

  static const char enc[] = "-----BEGIN RSA PRIVATE KEY-----\n"
                            "Proc-Type: 4,ENCRYPTED\n"
                            "DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n"
                            "\n"
                            "AAAA\n"
                            "-----END RSA PRIVATE KEY-----\n";
  CHECK_INT(aq_pem_decode(der, sizeof(der), "RSA PRIVATE KEY", enc, sizeof(enc) - 1),
            AQ_ERR_MALFORMED);
  /* Padding rules (RFC 4648): "AQ==" = 01; non-canonical "AR==", misplaced '='. */
  static const struct {
    const char *body;
    aq_ssize rv;
  } pads[] = {
      {"AQ==", 1},
      {"AQI=", 2},
      {"AQID", 3},
      {"AR==", AQ_ERR_MALFORMED},
      {"AQ=", AQ_ERR_MALFORMED},
      {"A===", AQ_ERR_MALFORMED},
      {"AQ==AQ==", AQ_ERR_MALFORMED},
      {"A", AQ_ERR_MALFORMED},
      {"", AQ_ERR_MALFORMED},
      {"AQI", AQ_ERR_MALFORMED},
      {"AQ\n ID", 3},
  };
  for (size_t i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
    char buf[128];
    int bl = snprintf(buf, sizeof(buf), "-----BEGIN X-----\n%s\n-----END X-----\n", pads[i].body);
    aq_ssize rv = aq_pem_decode(der, sizeof(der), "X", buf, (size_t)bl);
    if (rv != pads[i].rv) {
      aq_test_fail(__FILE__, __LINE__, "body '%s': rv %lld", pads[i].body, (long long)rv);
    }
  }
  static const char one[] = "-----BEGIN X-----\nAQID\n-----END X-----";
  CHECK_INT(aq_pem_decode(der, sizeof(der), "X", one, strlen(one)), 3);
  CHECK(aq_test_memeq_hex(der, 3, "010203"));
  /* The marker must start a line. */
  static const char notline[] = "x-----BEGIN X-----\nAQID\n-----END X-----";
  CHECK_INT(aq_pem_decode(der, sizeof(der), "X", notline, strlen(notline)), AQ_ERR_NOT_FOUND);
}

/*
 * A fixed key and certificate made by
 *   openssl req -x509 -newkey ed25519 -nodes -days 36500 -subj /CN=test.example \
 *     -addext subjectAltName=DNS:test.example
 * (a test key, never used elsewhere).  The expected DER and SPKI are the
 * `openssl x509 -outform DER` / `openssl pkey -pubout -outform DER` output.
 */
static const char EMB_KEY[] = "-----BEGIN PRIVATE KEY-----\n"
                              "MC4CAQAwBQYDK2VwBCIEIFR0SR22e89C5FPWnyo2fEW1vKNEhpdWVfGCt1TQyloM\n"
                              "-----END PRIVATE KEY-----\n";
static const char EMB_CERT[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIBXjCCARCgAwIBAgIUCSXrbQ7H8ZiYpvraV1g+bq2YhRwwBQYDK2VwMBcxFTAT\n"
                               "BgNVBAMMDHRlc3QuZXhhbXBsZTAgFw0yNjExMjUyMjU3NDlaGA8yMTI2MTEwMTIy\n"
                               "NTc0OVowFzEVMBMGA1UEAwwMdGVzdC5leGFtcGxlMCowBQYDK2VwAyEAP3LVi9bl\n"
                               "FI2wDrn3r2uf09wYR//l55OXSYkk09VhXMqjbDBqMB0GA1UdDgQWBBQ19ZxCW9Ox\n"
                               "3wDHfM6Bgo94Tk+kkTAfBgNVHSMEGDAWgBQ19ZxCW9Ox3wDHfM6Bgo94Tk+kkTAP\n"
                               "BgNVHRMBAf8EBTADAQH/MBcGA1UdEQQQMA6CDHRlc3QuZXhhbXBsZTAFBgMrZXAD\n"
                               "QQAzUv+juxFpX7h3+RYy2vq5ybEN4wuZfUBgD3i3vOheH3PaMtXM1SYWJehFdpL/\n"
                               "4Ms7fUeb1NHsbWe8PU/breQP\n"
                               "-----END CERTIFICATE-----\n";
static const char EMB_CERT_DER[] =
    "3082015e30820110a00302010202140925eb6d0ec7f19898a6fada57583e6ead98851c300506032b657030"
    "173115301306035504030c0c746573742e6578616d706c653020170d3236313132353232353734395a180f"
    "32313236313130313232353734395a30173115301306035504030c0c746573742e6578616d706c65302a30"
    "0506032b65700321003f72d58bd6e5148db00eb9f7af6b9fd3dc1847ffe5e79397498924d3d5615ccaa36c"
    "306a301d0603551d0e0416041435f59c425bd3b1df00c77cce81828f784e4fa491301f0603551d23041830"
    "16801435f59c425bd3b1df00c77cce81828f784e4fa491300f0603551d130101ff040530030101ff301706"
    "03551d110410300e820c746573742e6578616d706c65300506032b65700341003352ffa3bb11695fb877f9"
    "1632dafab9c9b10de30b997d40600f78b7bce85e1f73da32d5ccd5261625e8457692ffe0cb3b7d479bd4d1"
    "ec6d67bc3d4fdbade40f";
static const char EMB_SPKI[] =
    "302a300506032b65700321003f72d58bd6e5148db00eb9f7af6b9fd3dc1847ffe5e79397498924d3d5615cca";

AQ_TEST(tls_cert_openssl_req_pem) {
  uint8_t der[512], want[512], spki_want[64];
  size_t wantlen = aq_test_unhex_into(want, sizeof(want), EMB_CERT_DER);
  size_t spkilen_want = aq_test_unhex_into(spki_want, sizeof(spki_want), EMB_SPKI);
  REQUIRE(wantlen == 354 && spkilen_want == 44);
  /* Key and certificate in one buffer, as a user's single PEM file. */
  char both[2048];
  int bl = snprintf(both, sizeof(both), "%s%s", EMB_KEY, EMB_CERT);
  aq_ssize n = aq_pem_decode(der, sizeof(der), "CERTIFICATE", both, (size_t)bl);
  CHECK_INT(n, (aq_ssize)wantlen);
  CHECK_MEM(der, want, wantlen);
  const uint8_t *spki;
  size_t spkilen;
  CHECK_INT(aq_x509_get_spki(&spki, &spkilen, der, (size_t)n), 0);
  CHECK_INT(spkilen, 44);
  CHECK_MEM(spki, spki_want, 44);
  CHECK(spki == der + 0x7e); /* at its offset inside the certificate */

  /* The key signs; the certificate's SPKI verifies. */
  aq_pem_signer s;
  REQUIRE(aq_pem_signer_load(&s, both, (size_t)bl) == 0);
  CHECK_INT(s.type, AQ_KEY_ED25519);
  CHECK_INT(s.sig_scheme, AQ_SIG_ED25519);
  uint8_t sig[64];
  static const uint8_t msg[] = "embedded";
  CHECK_INT(aq_pem_signer_sign(&s, AQ_SIG_ED25519, sig, sizeof(sig), msg, sizeof(msg)), 64);
  CHECK_INT(aq_sig_verify_spki(AQ_SIG_ED25519, spki, spkilen, msg, sizeof(msg), sig, 64), 0);
  aq_pem_signer_free(&s);
}
