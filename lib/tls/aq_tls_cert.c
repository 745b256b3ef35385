/*
 * aq_tls_cert.c - the pure codecs of the certificate module: the
 * SubjectPublicKeyInfo reader/writer, the X.509 walk to the SPKI, and PEM
 * decoding.  No OpenSSL here: everything a peer sends is read through
 * aq_rbuf with exact DER lengths (the OpenSSL-backed operations are in
 * aq_tls_cert_ossl.c).
 *
 * DER subset (X.690 §8.1, §10.1): a one-byte tag (no high tag numbers), a
 * definite length in the minimal form, contents that end exactly where the
 * length says.
 */
#include <string.h>

#include "aq_buf.h"
#include "aq_ct.h"
#include "aq_tls_cert.h"

/* ------------------------------------------------------------------ DER */

#define DER_INTEGER 0x02
#define DER_BIT_STRING 0x03
#define DER_NULL 0x05
#define DER_OID 0x06
#define DER_SEQUENCE 0x30
#define DER_CTX0_CONSTRUCTED 0xa0

/*
 * Read one TLV with the given tag: *content covers its contents and, if
 * whole is not NULL, *whole the entire TLV (tag and length included).  On
 * any error r is unmoved and AQ_ERR_MALFORMED is returned (a truncated DER
 * item is as malformed as any other; the callers need no finer split).
 */
AQ_MUST_CHECK static int der_read_tlv(aq_rbuf *r, uint8_t tag, aq_rbuf *content, aq_rbuf *whole) {
  aq_rbuf t = *r;
  uint8_t got;
  uint8_t b;
  size_t len;

  if (aq_rbuf_u8(&t, &got) != 0 || got != tag || aq_rbuf_u8(&t, &b) != 0) {
    return AQ_ERR_MALFORMED;
  }
  if (b < 0x80) {
    len = b;
  } else if (b == 0x81) {
    uint8_t v;
    /* X.690 §10.1: "the definite form of length encoding shall be used,
     * encoded in the minimum number of octets". */
    if (aq_rbuf_u8(&t, &v) != 0 || v < 0x80) {
      return AQ_ERR_MALFORMED;
    }
    len = v;
  } else if (b == 0x82) {
    uint16_t v;
    if (aq_rbuf_u16(&t, &v) != 0 || v < 0x100) {
      return AQ_ERR_MALFORMED;
    }
    len = v;
  } else if (b == 0x83) {
    uint32_t v;
    if (aq_rbuf_u24(&t, &v) != 0 || v < 0x10000) {
      return AQ_ERR_MALFORMED;
    }
    len = v;
  } else {
    /* 0x80 is the BER indefinite form; 4+ length octets are far beyond any
     * certificate we accept (16 MiB). */
    return AQ_ERR_MALFORMED;
  }
  const uint8_t *body;
  if (aq_rbuf_bytes(&t, len, &body) != 0) {
    return AQ_ERR_MALFORMED;
  }
  aq_rbuf_init(content, body, len);
  if (whole != NULL) {
    aq_rbuf_init(whole, r->p, (size_t)(t.p - r->p));
  }
  *r = t;
  return 0;
}

/* Write a DER length in the minimal form. */
static void der_put_len(aq_wbuf *w, size_t len) {
  if (len < 0x80) {
    aq_wbuf_u8(w, (uint8_t)len);
  } else if (len < 0x100) {
    aq_wbuf_u8(w, 0x81);
    aq_wbuf_u8(w, (uint8_t)len);
  } else if (len < 0x10000) {
    aq_wbuf_u8(w, 0x82);
    aq_wbuf_u16(w, (uint16_t)len);
  } else {
    aq_wbuf_u8(w, 0x83);
    aq_wbuf_u24(w, (uint32_t)len); /* > 0xffffff sets AQ_ERR_VALUE_RANGE */
  }
}

/* Size of a DER length field for len. */
static size_t der_len_size(size_t len) {
  if (len < 0x80) {
    return 1;
  }
  if (len < 0x100) {
    return 2;
  }
  if (len < 0x10000) {
    return 3;
  }
  return 4;
}

/* ------------------------------------------------------------------ OIDs */

/* OID contents (without tag and length). */
static const uint8_t OID_ED25519[] = {0x2b, 0x65, 0x70}; /* 1.3.101.112, RFC 8410 §3 */
/* 2.16.840.1.101.3.4.3.18 id-ml-dsa-65 (NIST CSOR; draft-ietf-lamps-dilithium-certificates) */
static const uint8_t OID_MLDSA65[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12};
/* 1.2.840.10045.2.1 id-ecPublicKey (RFC 5480 §2.1.1) */
static const uint8_t OID_EC_PUBKEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
/* 1.2.840.10045.3.1.7 secp256r1 */
static const uint8_t OID_P256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
/* 1.3.132.0.34 secp384r1 */
static const uint8_t OID_P384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
/* 1.2.840.113549.1.1.1 rsaEncryption (RFC 3279 §2.3.1) */
static const uint8_t OID_RSA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};

#define AQ_ED25519_RAW_LEN 32
#define AQ_MLDSA65_RAW_LEN 1952

static int oid_is(const aq_rbuf *oid, const uint8_t *want, size_t wantlen) {
  return aq_rbuf_left(oid) == wantlen && memcmp(oid->p, want, wantlen) == 0;
}

/* ------------------------------------------------------------------ SPKI */

/*
 * SubjectPublicKeyInfo ::= SEQUENCE {
 *   algorithm         AlgorithmIdentifier,   -- SEQUENCE { OID, params ANY OPTIONAL }
 *   subjectPublicKey  BIT STRING }            (RFC 5280 §4.1.2.7)
 */
int aq_spki_key_bits(const uint8_t **bits, size_t *bitslen, const uint8_t *spki, size_t spkilen) {
  aq_rbuf in, seq, alg, b;
  uint8_t unused;
  aq_rbuf_init(&in, spki, spkilen);
  if (der_read_tlv(&in, DER_SEQUENCE, &seq, NULL) != 0 || aq_rbuf_done(&in) != 0 ||
      der_read_tlv(&seq, DER_SEQUENCE, &alg, NULL) != 0 ||
      der_read_tlv(&seq, DER_BIT_STRING, &b, NULL) != 0 || aq_rbuf_done(&seq) != 0 ||
      aq_rbuf_u8(&b, &unused) != 0 || unused != 0 || aq_rbuf_left(&b) == 0) {
    return AQ_ERR_MALFORMED;
  }
  *bits = b.p;
  *bitslen = aq_rbuf_left(&b);
  return 0;
}

int aq_spki_parse(aq_key_type *type, const uint8_t **key, size_t *keylen, const uint8_t *spki,
                  size_t spkilen) {
  aq_rbuf in, seq, alg, oid, bits;
  aq_key_type t;
  uint8_t unused;

  if (spki == NULL && spkilen > 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  aq_rbuf_init(&in, spki, spkilen);
  if (der_read_tlv(&in, DER_SEQUENCE, &seq, NULL) != 0 || aq_rbuf_done(&in) != 0 ||
      der_read_tlv(&seq, DER_SEQUENCE, &alg, NULL) != 0 ||
      der_read_tlv(&alg, DER_OID, &oid, NULL) != 0 ||
      der_read_tlv(&seq, DER_BIT_STRING, &bits, NULL) != 0 || aq_rbuf_done(&seq) != 0) {
    return AQ_ERR_MALFORMED;
  }
  /* Public keys are whole octets: "the number of unused bits" must be 0. */
  if (aq_rbuf_u8(&bits, &unused) != 0 || unused != 0 || aq_rbuf_left(&bits) == 0) {
    return AQ_ERR_MALFORMED;
  }

  if (oid_is(&oid, OID_ED25519, sizeof(OID_ED25519)) ||
      oid_is(&oid, OID_MLDSA65, sizeof(OID_MLDSA65))) {
    int ed = oid_is(&oid, OID_ED25519, sizeof(OID_ED25519));
    size_t want = ed ? AQ_ED25519_RAW_LEN : AQ_MLDSA65_RAW_LEN;
    /* RFC 8410 §3: "the parameters MUST be absent"; the same holds for
     * ML-DSA (draft-ietf-lamps-dilithium-certificates §2). */
    if (aq_rbuf_done(&alg) != 0 || aq_rbuf_left(&bits) != want) {
      return AQ_ERR_MALFORMED;
    }
    *type = ed ? AQ_KEY_ED25519 : AQ_KEY_MLDSA65;
    *key = bits.p;
    *keylen = want;
    return 0;
  }

  if (oid_is(&oid, OID_EC_PUBKEY, sizeof(OID_EC_PUBKEY))) {
    aq_rbuf curve;
    /* RFC 5480 §2.1.1: namedCurve is the only form allowed in PKIX. */
    if (der_read_tlv(&alg, DER_OID, &curve, NULL) != 0 || aq_rbuf_done(&alg) != 0) {
      return AQ_ERR_MALFORMED;
    }
    if (oid_is(&curve, OID_P256, sizeof(OID_P256))) {
      t = AQ_KEY_ECDSA_P256;
    } else if (oid_is(&curve, OID_P384, sizeof(OID_P384))) {
      t = AQ_KEY_ECDSA_P384;
    } else {
      return AQ_ERR_UNSUPPORTED;
    }
  } else if (oid_is(&oid, OID_RSA, sizeof(OID_RSA))) {
    aq_rbuf null;
    /* RFC 3279 §2.3.1: "the parameters field MUST have ASN.1 type NULL". */
    if (der_read_tlv(&alg, DER_NULL, &null, NULL) != 0 || aq_rbuf_left(&null) != 0 ||
        aq_rbuf_done(&alg) != 0) {
      return AQ_ERR_MALFORMED;
    }
    t = AQ_KEY_RSA;
  } else {
    return AQ_ERR_UNSUPPORTED;
  }
  /* The key itself (EC point, RSAPublicKey) is checked by OpenSSL when used. */
  *type = t;
  *key = spki;
  *keylen = spkilen;
  return 0;
}

aq_ssize aq_spki_encode(uint8_t *out, size_t cap, aq_key_type type, const uint8_t *key,
                        size_t keylen) {
  const uint8_t *oid;
  size_t oidlen, want;
  aq_wbuf w;

  switch (type) {
  case AQ_KEY_ED25519:
    oid = OID_ED25519;
    oidlen = sizeof(OID_ED25519);
    want = AQ_ED25519_RAW_LEN;
    break;
  case AQ_KEY_MLDSA65:
    oid = OID_MLDSA65;
    oidlen = sizeof(OID_MLDSA65);
    want = AQ_MLDSA65_RAW_LEN;
    break;
  case AQ_KEY_NONE:
  case AQ_KEY_ECDSA_P256:
  case AQ_KEY_ECDSA_P384:
  case AQ_KEY_RSA:
  default: return AQ_ERR_UNSUPPORTED;
  }
  if (key == NULL || keylen != want) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  size_t alglen = 2 + oidlen;  /* OID TLV (short lengths) */
  size_t bitslen = 1 + keylen; /* unused-bits octet + key */
  size_t body = 1 + der_len_size(alglen) + alglen + 1 + der_len_size(bitslen) + bitslen;
  size_t total = 1 + der_len_size(body) + body;
  if (cap < total) {
    return AQ_ERR_BUFFER_TOO_SMALL;
  }
  aq_wbuf_init(&w, out, cap);
  aq_wbuf_u8(&w, DER_SEQUENCE);
  der_put_len(&w, body);
  aq_wbuf_u8(&w, DER_SEQUENCE);
  der_put_len(&w, alglen);
  aq_wbuf_u8(&w, DER_OID);
  der_put_len(&w, oidlen);
  aq_wbuf_bytes(&w, oid, oidlen);
  aq_wbuf_u8(&w, DER_BIT_STRING);
  der_put_len(&w, bitslen);
  aq_wbuf_u8(&w, 0);
  aq_wbuf_bytes(&w, key, keylen);
  if (aq_wbuf_error(&w) != 0 || aq_wbuf_len(&w) != total) {
    return AQ_ERR_INTERNAL;
  }
  return (aq_ssize)total;
}

/* ------------------------------------------------------------------ X.509 */

/*
 * Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
 * TBSCertificate ::= SEQUENCE { version [0] EXPLICIT OPTIONAL, serialNumber INTEGER,
 *   signature AlgorithmIdentifier, issuer Name, validity Validity, subject Name,
 *   subjectPublicKeyInfo, ... }                                 (RFC 5280 §4.1)
 *
 * Only the framing is checked here (every TLV well formed and exact); the
 * names, validity and signature are not interpreted: the engine learns the
 * key and the application's verify_peer callback decides whether to trust it.
 * *spki points INTO cert (no copy): it is valid as long as cert is.
 */
int aq_x509_get_spki(const uint8_t **spki, size_t *spkilen, const uint8_t *cert, size_t certlen) {
  aq_rbuf in, c, tbs, skip, sigalg, sigval, pk, pkwhole;

  if (cert == NULL && certlen > 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  aq_rbuf_init(&in, cert, certlen);
  if (der_read_tlv(&in, DER_SEQUENCE, &c, NULL) != 0 || aq_rbuf_done(&in) != 0 ||
      der_read_tlv(&c, DER_SEQUENCE, &tbs, NULL) != 0 ||
      der_read_tlv(&c, DER_SEQUENCE, &sigalg, NULL) != 0 ||
      der_read_tlv(&c, DER_BIT_STRING, &sigval, NULL) != 0 || aq_rbuf_done(&c) != 0) {
    return AQ_ERR_MALFORMED;
  }
  if (aq_rbuf_left(&tbs) > 0 && tbs.p[0] == DER_CTX0_CONSTRUCTED) {
    if (der_read_tlv(&tbs, DER_CTX0_CONSTRUCTED, &skip, NULL) != 0) {
      return AQ_ERR_MALFORMED;
    }
  }
  if (der_read_tlv(&tbs, DER_INTEGER, &skip, NULL) != 0 ||  /* serialNumber */
      der_read_tlv(&tbs, DER_SEQUENCE, &skip, NULL) != 0 || /* signature */
      der_read_tlv(&tbs, DER_SEQUENCE, &skip, NULL) != 0 || /* issuer */
      der_read_tlv(&tbs, DER_SEQUENCE, &skip, NULL) != 0 || /* validity */
      der_read_tlv(&tbs, DER_SEQUENCE, &skip, NULL) != 0 || /* subject */
      der_read_tlv(&tbs, DER_SEQUENCE, &pk, &pkwhole) != 0) {
    return AQ_ERR_MALFORMED;
  }
  *spki = pkwhole.p;
  *spkilen = aq_rbuf_left(&pkwhole);
  return 0;
}

/* ------------------------------------------------------------------ PEM */

/*
 * Base64 digit value (RFC 4648 §4) without table lookups or branches on the
 * character, since the body may be a private key: returns 0..63, or -1 for
 * a character outside the alphabet.
 */
static int b64_value(uint8_t ch) {
  int c = ch;
  /* in_range(lo, hi) = -1 if lo <= c <= hi else 0 (c, lo, hi < 256). */
#define IN_RANGE(lo, hi) ((((lo)-1 - c) & (c - (hi)-1)) >> 8)
  int v = -1;
  v += IN_RANGE('A', 'Z') & (c - 'A' + 1);
  v += IN_RANGE('a', 'z') & (c - 'a' + 26 + 1);
  v += IN_RANGE('0', '9') & (c - '0' + 52 + 1);
  v += IN_RANGE('+', '+') & ('+' - '+' + 62 + 1);
  v += IN_RANGE('/', '/') & ('/' - '/' + 63 + 1);
#undef IN_RANGE
  return v;
}

static int pem_is_space(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Decode the base64 body [p, end) into out (out may be NULL to only count).
 * Whitespace is skipped anywhere; '=' padding only at the very end, as RFC
 * 7468 §3 strict decoders require.  Returns the decoded length or
 * AQ_ERR_MALFORMED.
 */
static aq_ssize pem_b64_decode(uint8_t *out, const uint8_t *p, const uint8_t *end) {
  uint32_t acc = 0;
  size_t nacc = 0, n = 0, pad = 0;

  for (; p < end; p++) {
    uint8_t c = *p;
    if (pem_is_space(c)) {
      continue;
    }
    if (c == '=') {
      pad++;
      if (pad > 2) {
        return AQ_ERR_MALFORMED;
      }
      continue;
    }
    int v = b64_value(c);
    if (v < 0 || pad > 0) {
      return AQ_ERR_MALFORMED;
    }
    acc = (acc << 6) | (uint32_t)v;
    nacc++;
    if (nacc == 4) {
      if (out != NULL) {
        out[n] = (uint8_t)(acc >> 16);
        out[n + 1] = (uint8_t)(acc >> 8);
        out[n + 2] = (uint8_t)acc;
      }
      n += 3;
      acc = 0;
      nacc = 0;
    }
  }
  /* nacc digits left: 0 (pad must be 0), 2 (+ "=="), 3 (+ "="). */
  if ((nacc == 0 && pad != 0) || nacc == 1 || (nacc == 2 && pad != 2) || (nacc == 3 && pad != 1)) {
    return AQ_ERR_MALFORMED;
  }
  if (nacc == 2) {
    /* RFC 4648 §3.5: the unused low bits must be zero (canonical). */
    if ((acc & 0xf) != 0) {
      return AQ_ERR_MALFORMED;
    }
    if (out != NULL) {
      out[n] = (uint8_t)(acc >> 4);
    }
    n += 1;
  } else if (nacc == 3) {
    if ((acc & 0x3) != 0) {
      return AQ_ERR_MALFORMED;
    }
    if (out != NULL) {
      out[n] = (uint8_t)(acc >> 10);
      out[n + 1] = (uint8_t)(acc >> 2);
    }
    n += 2;
  }
  return (aq_ssize)n;
}

/* Find the line "-----<kind> <label>-----" starting at a line start in [from, end). */
static const uint8_t *pem_find_line(const uint8_t *begin, const uint8_t *from, const uint8_t *end,
                                    const char *kind, const char *label, size_t *linelen) {
  char pat[96];
  size_t klen = strlen(kind), llen = strlen(label);
  if (5 + klen + 1 + llen + 5 > sizeof(pat)) {
    return NULL;
  }
  memcpy(pat, "-----", 5);
  memcpy(pat + 5, kind, klen);
  pat[5 + klen] = ' ';
  memcpy(pat + 6 + klen, label, llen);
  memcpy(pat + 6 + klen + llen, "-----", 5);
  size_t plen = 11 + klen + llen;

  while (from < end) {
    const uint8_t *hit = memmem(from, (size_t)(end - from), pat, plen);
    if (hit == NULL) {
      return NULL;
    }
    const uint8_t *after = hit + plen;
    /* The marker must fill its line (trailing whitespace tolerated, RFC 7468 §2). */
    const uint8_t *q = after;
    while (q < end && (*q == ' ' || *q == '\t' || *q == '\r')) {
      q++;
    }
    if ((hit == begin || hit[-1] == '\n') && (q == end || *q == '\n')) {
      *linelen = (size_t)(after - hit);
      return hit;
    }
    from = hit + 1;
  }
  return NULL;
}

aq_ssize aq_pem_decode(uint8_t *out, size_t cap, const char *label, const char *pem,
                       size_t pemlen) {
  const uint8_t *begin = (const uint8_t *)pem;
  const uint8_t *end;
  size_t blen, elen;

  if (label == NULL || (pem == NULL && pemlen > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (pemlen == 0) {
    return AQ_ERR_NOT_FOUND;
  }
  end = begin + pemlen;
  const uint8_t *b = pem_find_line(begin, begin, end, "BEGIN", label, &blen);
  if (b == NULL) {
    return AQ_ERR_NOT_FOUND;
  }
  const uint8_t *body = b + blen;
  const uint8_t *e = pem_find_line(begin, body, end, "END", label, &elen);
  if (e == NULL) {
    return AQ_ERR_MALFORMED;
  }
  /* Encapsulated headers (RFC 1421 "Proc-Type: 4,ENCRYPTED") and stray
   * markers make b64 decoding fail on ':' / '-', so they end up MALFORMED. */
  aq_ssize n = pem_b64_decode(NULL, body, e);
  if (n < 0) {
    return n;
  }
  if (n == 0) {
    return AQ_ERR_MALFORMED;
  }
  if ((size_t)n > cap) {
    return AQ_ERR_BUFFER_TOO_SMALL;
  }
  aq_ssize m = pem_b64_decode(out, body, e);
  if (m != n) {
    aq_memzero(out, (size_t)n);
    return AQ_ERR_INTERNAL;
  }
  return n;
}
