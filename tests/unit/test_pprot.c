/*
 * test_pprot.c - QUIC packet protection on whole packets: header
 * protection round trips for every packet number length and AEAD, flipped
 * bytes anywhere, truncation at every length, small seal buffers, broken
 * layouts, wrong packet numbers and key updates.  The byte-exact RFC
 * vectors are in test_rfc9001.c.
 */
#include <stdlib.h>

#include "aq_pprot.h"
#include "aq_test.h"

static const aq_aead_alg algs[] = {AQ_AEAD_AES_128_GCM, AQ_AEAD_AES_256_GCM,
                                   AQ_AEAD_CHACHA20_POLY1305};

/* Two pprot objects with the same random secret (tx and rx). */
static int make_pair(aq_pprot *tx, aq_pprot *rx, aq_aead_alg alg, uint64_t *seed,
                     uint32_t version) {
  uint8_t secret[48];
  aq_hash_alg hash = alg == AQ_AEAD_AES_256_GCM ? AQ_HASH_SHA384 : AQ_HASH_SHA256;
  size_t len = aq_hash_len(hash);
  aq_test_rand(secret, len, seed);
  if (aq_pprot_init(tx, alg, hash, secret, len, version) != 0) {
    return -1;
  }
  if (aq_pprot_init(rx, alg, hash, secret, len, version) != 0) {
    aq_pprot_free(tx);
    return -1;
  }
  return 0;
}

/*
 * Build a packet: a long header (first byte 0xc0 | pn_len-1, version,
 * DCID, ...) or a short header (0x40 | pn_len-1, DCID), the truncated pn,
 * then payload and 16 bytes of room.  Returns the total length.
 */
static size_t build_packet(uint8_t *pkt, int long_hdr, size_t pn_len, uint64_t pn, size_t paylen,
                           uint64_t *seed, size_t *hdrlen) {
  size_t n = 0;
  uint8_t first = (uint8_t)((long_hdr ? 0xc0 : 0x40) | (pn_len - 1));
  pkt[n++] = first;
  if (long_hdr) {
    pkt[n++] = 0, pkt[n++] = 0, pkt[n++] = 0, pkt[n++] = 1; /* version 1 */
    pkt[n++] = 8;
    aq_test_rand(pkt + n, 8, seed);
    n += 8;
    pkt[n++] = 0;                                      /* SCID length */
    pkt[n++] = 0;                                      /* token length */
    size_t length = pn_len + paylen + AQ_AEAD_TAG_LEN; /* Length varint, 2 bytes */
    pkt[n++] = (uint8_t)(0x40 | (length >> 8));
    pkt[n++] = (uint8_t)length;
  } else {
    aq_test_rand(pkt + n, 8, seed);
    n += 8;
  }
  for (size_t i = 0; i < pn_len; i++) {
    pkt[n + i] = (uint8_t)(pn >> (8 * (pn_len - 1 - i)));
  }
  n += pn_len;
  *hdrlen = n;
  aq_test_rand(pkt + n, paylen, seed);
  return n + paylen + AQ_AEAD_TAG_LEN;
}

AQ_TEST(pprot_roundtrip_all_pn_lengths) {
  uint64_t seed = 1;
  for (size_t a = 0; a < 3; a++) {
    for (int v = 0; v < 2; v++) {
      aq_pprot tx, rx;
      REQUIRE(make_pair(&tx, &rx, algs[a], &seed, v ? AQ_QUIC_V2 : AQ_QUIC_V1) == 0);
      for (int long_hdr = 0; long_hdr < 2; long_hdr++) {
        for (size_t pn_len = 1; pn_len <= 4; pn_len++) {
          uint8_t pkt[256], orig[256];
          size_t hdrlen;
          uint64_t pn = 0x123456789aULL + pn_len;
          /* The smallest payload that still leaves a full sample: 4 - pn_len bytes. */
          size_t paylen = 4 - pn_len + (size_t)long_hdr * 30;
          size_t len = build_packet(pkt, long_hdr, pn_len, pn, paylen, &seed, &hdrlen);
          memcpy(orig, pkt, len);
          CHECK_INT(aq_pprot_seal(&tx, pkt, len, hdrlen, hdrlen - pn_len, pn_len, pn), 0);
          /* The unprotected bits of the first byte are untouched, the protected ones hidden. */
          CHECK_INT(pkt[0] & (long_hdr ? 0xf0 : 0xe0), orig[0] & (long_hdr ? 0xf0 : 0xe0));
          CHECK_MEM(pkt + 1, orig + 1, hdrlen - pn_len - 1);
          size_t got_len = 0;
          uint64_t tpn = 0;
          CHECK_INT(aq_pprot_unprotect_header(&rx, pkt, len, hdrlen - pn_len, &got_len, &tpn), 0);
          CHECK_INT(got_len, pn_len);
          CHECK(tpn == (pn & ((1ULL << (8 * pn_len)) - 1)));
          CHECK_MEM(pkt, orig, hdrlen);
          CHECK_INT(aq_pprot_open(&rx, pkt, len, hdrlen, pn), paylen);
          CHECK_MEM(pkt + hdrlen, orig + hdrlen, paylen);
        }
      }
      aq_pprot_free(&tx);
      aq_pprot_free(&rx);
    }
  }
}

/* Flip each bit position class of each byte of a protected packet: it must not open. */
AQ_TEST(pprot_flipped_bytes_rejected) {
  uint64_t seed = 2;
  for (size_t a = 0; a < 3; a++) {
    aq_pprot tx, rx;
    REQUIRE(make_pair(&tx, &rx, algs[a], &seed, AQ_QUIC_V1) == 0);
    for (int long_hdr = 0; long_hdr < 2; long_hdr++) {
      uint8_t sealed[128], pkt[128], orig[128];
      size_t hdrlen;
      size_t len = build_packet(orig, long_hdr, 2, 77, 40, &seed, &hdrlen);
      memcpy(sealed, orig, len);
      REQUIRE(aq_pprot_seal(&tx, sealed, len, hdrlen, hdrlen - 2, 2, 77) == 0);
      for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
          size_t pn_len = 0;
          uint64_t tpn = 0;
          memcpy(pkt, sealed, len);
          pkt[i] ^= (uint8_t)(1u << bit);
          int rv = aq_pprot_unprotect_header(&rx, pkt, len, hdrlen - 2, &pn_len, &tpn);
          REQUIRE(rv == 0);
          /* Use whatever the corrupted header says, as a receiver would. */
          size_t hl = hdrlen - 2 + pn_len;
          aq_ssize orv = aq_pprot_open(&rx, pkt, len, hl, tpn);
          if (orv != AQ_ERR_DECRYPT) {
            aq_test_fail(__FILE__, __LINE__, "alg %d long %d byte %zu bit %d opened (%lld)",
                         (int)algs[a], long_hdr, i, bit, (long long)orv);
          }
        }
      }
      /* Unmodified it opens; with a wrong full packet number it does not. */
      memcpy(pkt, sealed, len);
      size_t pn_len;
      uint64_t tpn;
      REQUIRE(aq_pprot_unprotect_header(&rx, pkt, len, hdrlen - 2, &pn_len, &tpn) == 0);
      memcpy(orig, pkt, len); /* header+ciphertext after HP removal */
      CHECK_INT(aq_pprot_open(&rx, pkt, len, hdrlen, 77 + 65536), AQ_ERR_DECRYPT);
      memcpy(pkt, orig, len);
      CHECK_INT(aq_pprot_open(&rx, pkt, len, hdrlen, 77), 40);
    }
    aq_pprot_free(&tx);
    aq_pprot_free(&rx);
  }
}

AQ_TEST(pprot_seal_buffer_too_small_and_layout) {
  uint64_t seed = 3;
  aq_pprot tx, rx;
  REQUIRE(make_pair(&tx, &rx, AQ_AEAD_AES_128_GCM, &seed, AQ_QUIC_V1) == 0);
  uint8_t pkt[128], orig[128];
  size_t hdrlen;
  size_t len = build_packet(orig, 0, 4, 9, 20, &seed, &hdrlen); /* hdrlen 13 */
  /* Every length below the minimum fails and leaves the buffer alone. */
  for (size_t n = 0; n < len; n++) {
    memcpy(pkt, orig, len);
    int rv = aq_pprot_seal(&tx, pkt, n, hdrlen, hdrlen - 4, 4, 9);
    size_t min = hdrlen + AQ_AEAD_TAG_LEN; /* >= pn_offset + 4 + 16 here */
    if (n < min) {
      CHECK_INT(rv, AQ_ERR_BUFFER_TOO_SMALL);
      CHECK_MEM(pkt, orig, len);
    } else {
      CHECK_INT(rv, 0);
    }
  }
  /* Sample not available even though the tag fits: 1-byte pn, no payload. */
  memcpy(pkt, orig, len);
  CHECK_INT(aq_pprot_seal(&tx, pkt, 10 + 16, 10, 9, 1, 9), AQ_ERR_BUFFER_TOO_SMALL);
  CHECK_INT(aq_pprot_seal(&tx, pkt, 9 + 4 + 16, 10, 9, 1, 9), 0);
  /* Broken layouts. */
  CHECK_INT(aq_pprot_seal(&tx, pkt, len, hdrlen, hdrlen - 4, 0, 9), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_pprot_seal(&tx, pkt, len, hdrlen, hdrlen - 5, 5, 9), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_pprot_seal(&tx, pkt, len, hdrlen, hdrlen - 3, 4, 9), AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_pprot_seal(&tx, pkt, len, 4, 0, 4, 9), AQ_ERR_INVALID_ARGUMENT);
  aq_pprot_free(&tx);
  aq_pprot_free(&rx);
}

AQ_TEST(pprot_truncated_packets) {
  uint64_t seed = 4;
  aq_pprot tx, rx;
  REQUIRE(make_pair(&tx, &rx, AQ_AEAD_CHACHA20_POLY1305, &seed, AQ_QUIC_V1) == 0);
  uint8_t sealed[128], pkt[128];
  size_t hdrlen;
  size_t len = build_packet(sealed, 1, 1, 5, 30, &seed, &hdrlen);
  REQUIRE(aq_pprot_seal(&tx, sealed, len, hdrlen, hdrlen - 1, 1, 5) == 0);
  size_t pn_offset = hdrlen - 1;
  for (size_t n = 0; n < len; n++) {
    size_t pn_len;
    uint64_t tpn;
    memcpy(pkt, sealed, len);
    int rv = aq_pprot_unprotect_header(&rx, pkt, n, pn_offset, &pn_len, &tpn);
    if (n < pn_offset + 20) {
      CHECK_INT(rv, AQ_ERR_TRUNCATED);
      CHECK_MEM(pkt, sealed, len);
      continue;
    }
    CHECK_INT(rv, 0);
    CHECK_INT(pn_len, 1);
    /* A packet cut anywhere fails to open. */
    aq_ssize orv = aq_pprot_open(&rx, pkt, n, hdrlen, 5);
    CHECK(orv == AQ_ERR_DECRYPT || (n < hdrlen + 16 && orv == AQ_ERR_TRUNCATED));
  }
  memcpy(pkt, sealed, len);
  CHECK_INT(aq_pprot_open(&rx, pkt, hdrlen + 15, hdrlen, 5), AQ_ERR_TRUNCATED);
  aq_pprot_free(&tx);
  aq_pprot_free(&rx);
}

AQ_TEST(pprot_key_update_keeps_hp) {
  uint64_t seed = 5;
  uint8_t secret[32], next[32];
  aq_pprot tx, rx, old;
  aq_test_rand(secret, 32, &seed);
  REQUIRE(aq_pprot_init(&tx, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, secret, 32, AQ_QUIC_V1) == 0);
  REQUIRE(aq_pprot_init(&rx, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, secret, 32, AQ_QUIC_V1) == 0);
  REQUIRE(aq_pprot_init(&old, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, secret, 32, AQ_QUIC_V1) == 0);
  REQUIRE(aq_quic_next_secret(next, AQ_HASH_SHA256, secret, 32, AQ_QUIC_V1) == 0);
  CHECK_INT(aq_pprot_rekey(&tx, AQ_HASH_SHA256, next, 32, AQ_QUIC_V1), 0);
  CHECK_INT(aq_pprot_rekey(&rx, AQ_HASH_SHA256, next, 32, AQ_QUIC_V1), 0);
  uint8_t pkt[64], orig[64], copy[64];
  size_t hdrlen, pn_len;
  uint64_t tpn;
  size_t len = build_packet(orig, 0, 2, 1000, 10, &seed, &hdrlen);
  memcpy(pkt, orig, len);
  REQUIRE(aq_pprot_seal(&tx, pkt, len, hdrlen, hdrlen - 2, 2, 1000) == 0);
  memcpy(copy, pkt, len);
  /* The old keys still remove header protection (same HP key) but cannot open. */
  CHECK_INT(aq_pprot_unprotect_header(&old, copy, len, hdrlen - 2, &pn_len, &tpn), 0);
  CHECK_MEM(copy, orig, hdrlen);
  CHECK_INT(aq_pprot_open(&old, copy, len, hdrlen, 1000), AQ_ERR_DECRYPT);
  CHECK_INT(aq_pprot_unprotect_header(&rx, pkt, len, hdrlen - 2, &pn_len, &tpn), 0);
  CHECK_INT(aq_pprot_open(&rx, pkt, len, hdrlen, 1000), 10);
  CHECK_MEM(pkt + hdrlen, orig + hdrlen, 10);
  /* A failed rekey leaves the object working. */
  CHECK_INT(aq_pprot_rekey(&rx, AQ_HASH_SHA256, next, 32, 0x0a0a0a0a), AQ_ERR_UNSUPPORTED);
  aq_pprot_free(&tx);
  aq_pprot_free(&rx);
  aq_pprot_free(&old);
  aq_pprot_free(&old); /* idempotent */
}

AQ_TEST(pprot_init_errors) {
  uint8_t secret[32] = {1}, key[32] = {0}, iv[12] = {0};
  aq_pprot pp;
  CHECK_INT(aq_pprot_init(&pp, AQ_AEAD_AES_128_GCM, AQ_HASH_SHA256, secret, 32, 0xbabababa),
            AQ_ERR_UNSUPPORTED);
  CHECK_INT(aq_pprot_init(&pp, (aq_aead_alg)0, AQ_HASH_SHA256, secret, 32, AQ_QUIC_V1),
            AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_pprot_init(&pp, AQ_AEAD_AES_128_GCM, (aq_hash_alg)0, secret, 32, AQ_QUIC_V1),
            AQ_ERR_INVALID_ARGUMENT);
  CHECK_INT(aq_pprot_init_keys(&pp, (aq_aead_alg)5, key, iv, key), AQ_ERR_INVALID_ARGUMENT);
  aq_pprot_free(&pp); /* safe after a failed init */
  CHECK_INT(aq_pprot_init_keys(&pp, AQ_AEAD_AES_256_GCM, key, iv, key), 0);
  aq_pprot_free(&pp);
}

/* Client tx opens at server rx and the other way round, for v1 and v2; v1 and v2 keys differ. */
AQ_TEST(pprot_init_initial_both_directions) {
  static const uint8_t dcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
  static const uint32_t versions[2] = {AQ_QUIC_V1, AQ_QUIC_V2};
  uint64_t seed = 6;
  for (int v = 0; v < 2; v++) {
    aq_pprot ctx, crx, stx, srx, other_tx, other_rx;
    REQUIRE(aq_pprot_init_initial(&ctx, &crx, dcid, 8, versions[v], 0) == 0);
    REQUIRE(aq_pprot_init_initial(&stx, &srx, dcid, 8, versions[v], 1) == 0);
    REQUIRE(aq_pprot_init_initial(&other_tx, &other_rx, dcid, 8, versions[1 - v], 1) == 0);
    aq_pprot *pairs[2][2] = {{&ctx, &srx}, {&stx, &crx}};
    for (int d = 0; d < 2; d++) {
      uint8_t pkt[128], orig[128], copy[128];
      size_t hdrlen, pn_len;
      uint64_t tpn;
      size_t len = build_packet(orig, 1, 4, 3, 50, &seed, &hdrlen);
      memcpy(pkt, orig, len);
      REQUIRE(aq_pprot_seal(pairs[d][0], pkt, len, hdrlen, hdrlen - 4, 4, 3) == 0);
      memcpy(copy, pkt, len);
      CHECK_INT(aq_pprot_unprotect_header(pairs[d][1], pkt, len, hdrlen - 4, &pn_len, &tpn), 0);
      CHECK_INT(aq_pprot_open(pairs[d][1], pkt, len, hdrlen, 3), 50);
      CHECK_MEM(pkt + hdrlen, orig + hdrlen, 50);
      /* The other version's server keys cannot open it. */
      CHECK_INT(aq_pprot_unprotect_header(&other_rx, copy, len, hdrlen - 4, &pn_len, &tpn), 0);
      CHECK_INT(aq_pprot_open(&other_rx, copy, len, hdrlen - 4 + pn_len, tpn), AQ_ERR_DECRYPT);
    }
    aq_pprot_free(&ctx), aq_pprot_free(&crx), aq_pprot_free(&stx), aq_pprot_free(&srx);
    aq_pprot_free(&other_tx), aq_pprot_free(&other_rx);
  }
  aq_pprot a, b;
  CHECK_INT(aq_pprot_init_initial(&a, &b, dcid, 8, 0x1a2a3a4a, 0), AQ_ERR_UNSUPPORTED);
}
