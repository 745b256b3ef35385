/* test_identity.c - identities, PeerIds (cross-checked with OpenSSL 4.0) and the key-file codec. */
#include <stdlib.h>

#include "aq_identity.h"
#include "aq_tls_cert.h"
#include "aq_test.h"

/* Seed 00 01 .. 1f.  Expected PeerIds computed independently with Python
 * cryptography 48 (OpenSSL 4.0): ML-DSA-65 from_seed_bytes / Ed25519. */
static const char *want_mldsa_pid = "654980fe02a7b4e55168e5f4650ecb1c073d4b26acfff790f111313f4a217de7";
static const char *want_ed_pid = "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c";

static void seq_seed(uint8_t seed[32]) {
  for (int i = 0; i < 32; i++) {
    seed[i] = (uint8_t)i;
  }
}

AQ_TEST(identity_peer_id_known_answers) {
  static aq_identity id; /* large: keep off the stack */
  uint8_t seed[32];
  char hex[AQ_PEER_ID_HEX_LEN + 1];
  seq_seed(seed);
  REQUIRE(aq_identity_from_seed(&id, AQ_IDENTITY_MLDSA65, seed) == 0);
  aq_peer_id_to_hex(hex, id.peer_id);
  CHECK(strcmp(hex, want_mldsa_pid) == 0);
  CHECK_INT(id.pklen, AQ_MLDSA65_PK_LEN);
  REQUIRE(aq_identity_from_seed(&id, AQ_IDENTITY_ED25519, seed) == 0);
  aq_peer_id_to_hex(hex, id.peer_id);
  CHECK(strcmp(hex, want_ed_pid) == 0);
  CHECK_INT(id.pklen, 32);
  aq_identity_wipe(&id);
}

AQ_TEST(identity_peer_id_hex_parse) {
  uint8_t id[32], back[32];
  char hex[65];
  for (int i = 0; i < 32; i++) {
    id[i] = (uint8_t)(i * 37);
  }
  aq_peer_id_to_hex(hex, id);
  CHECK_INT(aq_peer_id_from_hex(back, hex), 0);
  CHECK_MEM(back, id, 32);
  hex[63] = 'g';
  CHECK_INT(aq_peer_id_from_hex(back, hex), AQ_ERR_MALFORMED);
  hex[63] = '\0';
  CHECK_INT(aq_peer_id_from_hex(back, hex), AQ_ERR_MALFORMED);
  CHECK_INT(aq_peer_id_from_hex(back, NULL), AQ_ERR_MALFORMED);
}

AQ_TEST(identity_file_roundtrip_both_types) {
  static aq_identity id, back;
  static const aq_identity_type types[] = {AQ_IDENTITY_MLDSA65, AQ_IDENTITY_ED25519};
  uint8_t seed[32];
  char text[512];
  seq_seed(seed);
  for (size_t t = 0; t < 2; t++) {
    REQUIRE(aq_identity_from_seed(&id, types[t], seed) == 0);
    aq_ssize n = aq_identity_encode_file(text, sizeof(text), &id);
    REQUIRE(n > 0);
    const char *why = "unset";
    CHECK_INT(aq_identity_decode_file(&back, text, (size_t)n, &why), 0);
    CHECK(why == NULL);
    CHECK_MEM(back.peer_id, id.peer_id, 32);
    CHECK_MEM(back.pk, id.pk, id.pklen);
    CHECK_INT(back.type, types[t]);
    /* Too small a buffer at every size: an error, never a partial file. */
    for (size_t cap = 0; cap < (size_t)n + 1; cap++) {
      CHECK_INT(aq_identity_encode_file(text, cap, &id), AQ_ERR_BUFFER_TOO_SMALL);
    }
  }
}

AQ_TEST(identity_file_rejects_corruption) {
  static aq_identity id, back;
  uint8_t seed[32];
  char text[512], bad[512];
  const char *why;
  seq_seed(seed);
  REQUIRE(aq_identity_from_seed(&id, AQ_IDENTITY_ED25519, seed) == 0);
  aq_ssize n = aq_identity_encode_file(text, sizeof(text), &id);
  REQUIRE(n > 0);
  /* A changed seed digit: the stored peer-id no longer matches. */
  memcpy(bad, text, (size_t)n + 1);
  char *s = strstr(bad, "seed: ") + 6;
  *s = *s == '0' ? '1' : '0';
  CHECK_INT(aq_identity_decode_file(&back, bad, (size_t)n, &why), AQ_ERR_VERIFY);
  CHECK(why != NULL && strstr(why, "peer-id") != NULL);
  /* Truncation at every byte: never accepted unless only trailing text went. */
  for (size_t cut = 0; cut < (size_t)n; cut++) {
    int rv = aq_identity_decode_file(&back, text, cut, &why);
    if (rv == 0) {
      CHECK_MEM(back.peer_id, id.peer_id, 32);
    } else {
      CHECK(why != NULL);
    }
  }
  static const char *cases[][2] = {
      {"version: 2\ntype: ed25519\n", "version"},
      {"version: 1\ntype: rsa\n", "key type"},
      {"hello world\n", "key: value"},
      {"version: 1\nversion: 1\n", "repeated"},
      {"version: 1\ntype: ed25519\nseed: 00\n", "64 hex"},
      {"", "missing"},
      {"version: 1\ntype: ed25519\n", "missing"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    why = NULL;
    CHECK(aq_identity_decode_file(&back, cases[i][0], strlen(cases[i][0]), &why) < 0);
    CHECK(why != NULL && strstr(why, cases[i][1]) != NULL);
  }
}

AQ_TEST(identity_sign_verifies) {
  static aq_identity id;
  static uint8_t sig[4000];
  static uint8_t spki[2100];
  uint8_t seed[32];
  static const uint8_t msg[] = "TLS 1.3, server CertificateVerify";
  seq_seed(seed);
  for (int t = 0; t < 2; t++) {
    aq_identity_type type = t ? AQ_IDENTITY_ED25519 : AQ_IDENTITY_MLDSA65;
    REQUIRE(aq_identity_from_seed(&id, type, seed) == 0);
    uint16_t scheme = aq_identity_sig_scheme(&id);
    aq_ssize sl = aq_identity_sign(&id, scheme, sig, sizeof(sig), msg, sizeof(msg));
    REQUIRE(sl > 0);
    aq_ssize kl = aq_identity_spki(&id, spki, sizeof(spki));
    REQUIRE(kl > 0);
    CHECK_INT(aq_sig_verify_spki(scheme, spki, (size_t)kl, msg, sizeof(msg), sig, (size_t)sl), 0);
    sig[5] ^= 1;
    CHECK(aq_sig_verify_spki(scheme, spki, (size_t)kl, msg, sizeof(msg), sig, (size_t)sl) != 0);
    /* The wrong scheme is refused rather than signed. */
    CHECK(aq_identity_sign(&id, t ? AQ_SIG_MLDSA65 : AQ_SIG_ED25519, sig, sizeof(sig), msg,
                           sizeof(msg)) < 0);
    CHECK(aq_identity_sign(&id, scheme, sig, 10, msg, sizeof(msg)) == AQ_ERR_BUFFER_TOO_SMALL);
  }
}
