/*
 * aq_tls_cert_ossl.c - the OpenSSL libcrypto 3.0 half of the certificate
 * module: self-signed X.509 generation, signature verification by TLS
 * SignatureScheme, and the PEM private-key signer.
 *
 * Every key a peer sends first goes through our own DER reader
 * (aq_spki_parse in aq_tls_cert.c); OpenSSL only sees an SPKI whose
 * algorithm we have already matched to the SignatureScheme.
 *
 * ML-DSA-65 (0x0905): OpenSSL 3.0 has no ML-DSA, so the raw key from our
 * SPKI reader goes to our own implementation (lib/crypto/aq_mldsa65.h),
 * called directly: there is no registration hook, lib/ has no globals.
 */
#include <limits.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "aq_crypto.h"
#include "aq_ct.h"
#include "aq_mem.h"
#include "aq_mldsa65.h"
#include "aq_tls_cert.h"

/* RSA keys shorter than this are refused (NIST SP 800-131A; 112-bit security). */
#define AQ_RSA_MIN_BITS 2048
/* Longest common name we put in a certificate (RFC 5280 ub-common-name). */
#define AQ_CN_MAX 64

/* --------------------------------------------------------- self-signed */

/* A DNS name / CN we are willing to embed: printable ASCII, no spaces, 1..64 bytes. */
static int cn_ok(const char *cn) {
  size_t n = 0;
  if (cn == NULL) {
    return 0;
  }
  for (; cn[n] != '\0'; n++) {
    unsigned char ch = (unsigned char)cn[n];
    if (n >= AQ_CN_MAX || ch <= 0x20 || ch >= 0x7f) {
      return 0;
    }
  }
  return n > 0;
}

/* Add subjectAltName = DNS:cn (RFC 5280 §4.2.1.6) without going through the
 * text config parser (a cn with ',' must not become two names). */
static int add_san_dns(X509 *x, const char *cn) {
  GENERAL_NAMES *gens = sk_GENERAL_NAME_new_null();
  GENERAL_NAME *gn = GENERAL_NAME_new();
  ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
  int ok = 0;

  if (gens == NULL || gn == NULL || ia5 == NULL || ASN1_STRING_set(ia5, cn, (int)strlen(cn)) != 1) {
    goto out;
  }
  GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
  ia5 = NULL;
  if (sk_GENERAL_NAME_push(gens, gn) <= 0) {
    goto out;
  }
  gn = NULL;
  ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
out:
  ASN1_IA5STRING_free(ia5);
  GENERAL_NAME_free(gn);
  GENERAL_NAMES_free(gens);
  return ok;
}

aq_ssize aq_x509_self_signed_ed25519(uint8_t *out, size_t cap, const uint8_t seed[32],
                                     const char *cn, uint64_t not_before_unix, uint32_t days,
                                     const uint8_t serial[16]) {
  EVP_PKEY *pkey = NULL;
  X509 *x = NULL;
  X509_NAME *name = NULL;
  BIGNUM *bn = NULL;
  aq_ssize rv = AQ_ERR_CRYPTO;

  if (seed == NULL || serial == NULL || !cn_ok(cn) || (out == NULL && cap > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  /* time_t arithmetic below must not overflow (and X.509 ends at year 9999). */
  uint64_t not_after = not_before_unix + (uint64_t)days * 86400u;
  if (not_before_unix > (uint64_t)253402300799u || not_after > (uint64_t)253402300799u) {
    return AQ_ERR_VALUE_RANGE;
  }

  pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
  x = X509_new();
  name = X509_NAME_new();
  bn = BN_bin2bn(serial, 16, NULL);
  if (pkey == NULL || x == NULL || name == NULL || bn == NULL) {
    goto out;
  }
  if (X509_set_version(x, X509_VERSION_3) != 1 ||
      BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
      ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before_unix) == NULL ||
      ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after) == NULL ||
      X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                 -1, 0) != 1 ||
      X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1 ||
      X509_set_pubkey(x, pkey) != 1 || !add_san_dns(x, cn) ||
      /* Ed25519 is a one-shot scheme: no separate digest (RFC 8410 §6). */
      X509_sign(x, pkey, NULL) <= 0) {
    goto out;
  }
  int len = i2d_X509(x, NULL);
  if (len <= 0) {
    goto out;
  }
  if ((size_t)len > cap) {
    rv = AQ_ERR_BUFFER_TOO_SMALL;
    goto out;
  }
  unsigned char *p = out;
  if (i2d_X509(x, &p) != len) {
    aq_memzero(out, (size_t)len);
    goto out;
  }
  rv = len;
out:
  if (rv < 0) {
    ERR_clear_error();
  }
  BN_free(bn);
  X509_NAME_free(name);
  X509_free(x);
  EVP_PKEY_free(pkey); /* OpenSSL cleanses the raw Ed25519 private key on free */
  return rv;
}

/* --------------------------------------------------------------- verify */

/* The key type and digest a SignatureScheme requires (RFC 8446 §4.2.3). */
typedef struct sig_scheme {
  uint16_t id;
  aq_key_type key;
  const char *md; /* NULL: one-shot scheme (EdDSA, ML-DSA) */
  int pss;
} sig_scheme;

static const sig_scheme SCHEMES[] = {
    {AQ_SIG_ED25519, AQ_KEY_ED25519, NULL, 0},
    {AQ_SIG_MLDSA65, AQ_KEY_MLDSA65, NULL, 0},
    {AQ_SIG_ECDSA_SECP256R1_SHA256, AQ_KEY_ECDSA_P256, "SHA256", 0},
    {AQ_SIG_ECDSA_SECP384R1_SHA384, AQ_KEY_ECDSA_P384, "SHA384", 0},
    {AQ_SIG_RSA_PSS_RSAE_SHA256, AQ_KEY_RSA, "SHA256", 1},
    {AQ_SIG_RSA_PSS_RSAE_SHA384, AQ_KEY_RSA, "SHA384", 1},
    {AQ_SIG_RSA_PSS_RSAE_SHA512, AQ_KEY_RSA, "SHA512", 1},
};

static const sig_scheme *scheme_find(uint16_t id) {
  for (size_t i = 0; i < sizeof(SCHEMES) / sizeof(SCHEMES[0]); i++) {
    if (SCHEMES[i].id == id) {
      return &SCHEMES[i];
    }
  }
  return NULL;
}

/*
 * RSASSA-PSS as TLS 1.3 uses it: "the length of the Salt MUST be equal to
 * the length of the output of the digest algorithm", MGF1 with the same
 * hash (RFC 8446 §4.2.3).
 */
static int set_pss(EVP_PKEY_CTX *pctx, const EVP_MD *md) {
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) == 1;
}

/*
 * ML-DSA-65 through our own FIPS 204 implementation: pure ML-DSA with the
 * empty context, as draft-ietf-tls-mldsa §3 requires ("the context
 * parameter ctx MUST be the empty string").  key is the raw 1952-byte key
 * that aq_spki_parse checked the length of.
 */
static int sig_verify_mldsa65(const uint8_t *key, size_t keylen, const uint8_t *msg, size_t msglen,
                              const uint8_t *sig, size_t siglen) {
  if (keylen != AQ_MLDSA65_PK_LEN) {
    return AQ_ERR_VERIFY;
  }
  return aq_mldsa65_verify(key, msg, msglen, NULL, 0, sig, siglen) == 0 ? 0 : AQ_ERR_VERIFY;
}

/* Does pkey (decoded by OpenSSL) agree with the type our DER reader found? */
static int pkey_matches(EVP_PKEY *pkey, aq_key_type type) {
  switch (type) {
  case AQ_KEY_ED25519: return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_ED25519;
  case AQ_KEY_ECDSA_P256:
    return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC && EVP_PKEY_is_a(pkey, "EC") &&
           EVP_PKEY_get_bits(pkey) == 256;
  case AQ_KEY_ECDSA_P384:
    return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC && EVP_PKEY_get_bits(pkey) == 384;
  case AQ_KEY_RSA:
    return EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA && EVP_PKEY_get_bits(pkey) >= AQ_RSA_MIN_BITS;
  case AQ_KEY_NONE:
  case AQ_KEY_MLDSA65:
  default: return 0;
  }
}

/*
 * Errors: 0 valid; AQ_ERR_VERIFY for a bad signature, a key whose type does
 * not match the scheme, an RSA key under 2048 bits, or an SPKI that is
 * malformed or of an unknown algorithm (the peer sent a key it cannot sign
 * this scheme with); AQ_ERR_UNSUPPORTED for a scheme not in SCHEMES.
 */
/*
 * An EC public key from its SEC1 point on a named curve.  OpenSSL checks
 * that the point is on the curve.  d2i_PUBKEY does the same through OpenSSL
 * 3.0's generic decoder chain, about six times slower (~340 us against
 * ~55 us for a P-256 key here): the SPKI has already been parsed and its
 * curve OID checked by aq_spki_parse.  NULL on failure.
 */
/* Largest SEC1 point we accept: uncompressed P-384. */
#define AQ_EC_POINT_MAX 97

static EVP_PKEY *ec_pkey_from_point(aq_key_type type, const uint8_t *pt, size_t ptlen) {
  char group[16];
  uint8_t ptc[AQ_EC_POINT_MAX];
  EVP_PKEY *pkey = NULL;
  if (ptlen == 0 || ptlen > sizeof(ptc)) {
    return NULL;
  }
  memcpy(group, type == AQ_KEY_ECDSA_P256 ? "prime256v1" : "secp384r1",
         type == AQ_KEY_ECDSA_P256 ? sizeof("prime256v1") : sizeof("secp384r1"));
  memcpy(ptc, pt, ptlen);
  OSSL_PARAM params[3] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
                          OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, ptc, ptlen),
                          OSSL_PARAM_construct_end()};
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    pkey = NULL;
  }
  EVP_PKEY_CTX_free(ctx);
  return pkey;
}

/*
 * The peer key in spki as an OpenSSL key checked against type, or NULL.
 * key/keylen: the raw key aq_spki_parse found in spki.
 */
static EVP_PKEY *pkey_from_spki(aq_key_type type, const uint8_t *key, size_t keylen,
                                const uint8_t *spki, size_t spkilen) {
  EVP_PKEY *pkey = NULL;
  if (type == AQ_KEY_ED25519) {
    pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, key, keylen);
  } else if (type == AQ_KEY_ECDSA_P256 || type == AQ_KEY_ECDSA_P384) {
    const uint8_t *pt;
    size_t ptlen;
    if (aq_spki_key_bits(&pt, &ptlen, spki, spkilen) == 0) {
      pkey = ec_pkey_from_point(type, pt, ptlen);
    }
  } else if (spkilen <= LONG_MAX) {
    const unsigned char *p = spki;
    pkey = d2i_PUBKEY(NULL, &p, (long)spkilen);
    if (pkey != NULL && p != spki + spkilen) {
      EVP_PKEY_free(pkey);
      pkey = NULL;
    }
  }
  if (pkey != NULL && !pkey_matches(pkey, type)) {
    EVP_PKEY_free(pkey);
    pkey = NULL;
  }
  return pkey;
}

/* Verify sig over msg with pkey under scheme s; 0, AQ_ERR_VERIFY, AQ_ERR_CRYPTO or AQ_ERR_NOMEM. */
static int verify_with(const sig_scheme *s, EVP_PKEY *pkey, const uint8_t *msg, size_t msglen,
                       const uint8_t *sig, size_t siglen) {
  EVP_PKEY_CTX *pctx = NULL;
  int rv = AQ_ERR_VERIFY;
  EVP_MD_CTX *mctx = EVP_MD_CTX_new();
  if (mctx == NULL) {
    return AQ_ERR_NOMEM;
  }
  const EVP_MD *md = s->md != NULL ? EVP_get_digestbyname(s->md) : NULL;
  if (s->md != NULL && md == NULL) {
    rv = AQ_ERR_CRYPTO;
    goto out;
  }
  if (EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pkey) != 1 || (s->pss && !set_pss(pctx, md))) {
    rv = AQ_ERR_CRYPTO;
    goto out;
  }
  /* ECDSA: OpenSSL re-encodes the parsed (r, s) and rejects any signature
   * that is not the exact DER encoding, so BER variants fail here. */
  if (EVP_DigestVerify(mctx, sig, siglen, msg, msglen) == 1) {
    rv = 0;
  }
out:
  ERR_clear_error();
  EVP_MD_CTX_free(mctx); /* frees pctx too */
  return rv;
}

/* --------------------------------------------------------- key cache */

/* How many peer keys an endpoint keeps decoded (least recently used goes). */
#define KEY_CACHE_SLOTS 4
/* Longest SPKI kept (RSA-4096 is about 550 bytes). */
#define KEY_CACHE_MAX_SPKI 1024

typedef struct key_slot {
  uint8_t *spki; /* a copy; NULL = empty */
  size_t spkilen;
  EVP_PKEY *pkey;
  uint64_t used; /* kc->clock at the last hit */
} key_slot;

struct aq_key_cache {
  const aq_mem *mem;
  key_slot slots[KEY_CACHE_SLOTS];
  uint64_t clock;
};

aq_key_cache *aq_key_cache_new(const aq_mem *mem) {
  if (mem == NULL) {
    mem = aq_mem_default();
  }
  aq_key_cache *kc = aq_mem_calloc(mem, 1, sizeof(*kc));
  if (kc != NULL) {
    kc->mem = mem;
  }
  return kc;
}

static void key_slot_clear(aq_key_cache *kc, key_slot *k) {
  EVP_PKEY_free(k->pkey);
  aq_mem_free(kc->mem, k->spki);
  memset(k, 0, sizeof(*k));
}

void aq_key_cache_del(aq_key_cache *kc) {
  if (kc == NULL) {
    return;
  }
  for (size_t i = 0; i < KEY_CACHE_SLOTS; i++) {
    key_slot_clear(kc, &kc->slots[i]);
  }
  aq_mem_free(kc->mem, kc);
}

/*
 * The decoded key for exactly these SPKI bytes, decoding and remembering it
 * on a miss (NULL if it does not decode or match type).  The key belongs to
 * the cache.  Keys are public and compared as whole DER encodings, so a hit
 * is the same key; signatures are still verified every time.
 */
static EVP_PKEY *key_cache_get(aq_key_cache *kc, aq_key_type type, const uint8_t *key,
                               size_t keylen, const uint8_t *spki, size_t spkilen) {
  key_slot *victim = &kc->slots[0];
  kc->clock++;
  for (size_t i = 0; i < KEY_CACHE_SLOTS; i++) {
    key_slot *k = &kc->slots[i];
    if (k->spki != NULL && k->spkilen == spkilen && memcmp(k->spki, spki, spkilen) == 0) {
      k->used = kc->clock;
      return k->pkey;
    }
    if (k->used < victim->used) {
      victim = k;
    }
  }
  EVP_PKEY *pkey = pkey_from_spki(type, key, keylen, spki, spkilen);
  uint8_t *copy = pkey != NULL && spkilen <= KEY_CACHE_MAX_SPKI ? aq_mem_malloc(kc->mem, spkilen)
                                                                 : NULL;
  if (copy == NULL) {
    return pkey; /* not cached: the caller frees it (see aq_sig_verify_spki_cached) */
  }
  key_slot_clear(kc, victim);
  memcpy(copy, spki, spkilen);
  victim->spki = copy;
  victim->spkilen = spkilen;
  victim->pkey = pkey;
  victim->used = kc->clock;
  return pkey;
}

/* Is pkey one the cache owns? */
static int key_cache_owns(const aq_key_cache *kc, const EVP_PKEY *pkey) {
  for (size_t i = 0; kc != NULL && i < KEY_CACHE_SLOTS; i++) {
    if (kc->slots[i].pkey == pkey) {
      return 1;
    }
  }
  return 0;
}

int aq_sig_verify_spki_cached(aq_key_cache *kc, uint16_t scheme, const uint8_t *spki,
                              size_t spkilen, const uint8_t *msg, size_t msglen,
                              const uint8_t *sig, size_t siglen) {
  const sig_scheme *s = scheme_find(scheme);
  aq_key_type type;
  const uint8_t *key;
  size_t keylen;

  if (s == NULL) {
    return AQ_ERR_UNSUPPORTED;
  }
  if ((spki == NULL && spkilen > 0) || (msg == NULL && msglen > 0) || (sig == NULL && siglen > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (aq_spki_parse(&type, &key, &keylen, spki, spkilen) != 0 || type != s->key) {
    return AQ_ERR_VERIFY;
  }
  if (type == AQ_KEY_MLDSA65) {
    return sig_verify_mldsa65(key, keylen, msg, msglen, sig, siglen);
  }
  EVP_PKEY *pkey = kc != NULL ? key_cache_get(kc, type, key, keylen, spki, spkilen)
                              : pkey_from_spki(type, key, keylen, spki, spkilen);
  if (pkey == NULL) {
    ERR_clear_error();
    return AQ_ERR_VERIFY;
  }
  int rv = verify_with(s, pkey, msg, msglen, sig, siglen);
  if (!key_cache_owns(kc, pkey)) {
    EVP_PKEY_free(pkey);
  }
  return rv;
}

int aq_sig_verify_spki(uint16_t scheme, const uint8_t *spki, size_t spkilen, const uint8_t *msg,
                       size_t msglen, const uint8_t *sig, size_t siglen) {
  return aq_sig_verify_spki_cached(NULL, scheme, spki, spkilen, msg, msglen, sig, siglen);
}

/* ---------------------------------------------------------------- signer */

/* Never prompt for a passphrase: encrypted keys simply fail to load. */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
  (void)buf;
  (void)size;
  (void)rwflag;
  (void)u;
  return 0;
}

/*
 * Load the first private key in pem (PKCS#8 "PRIVATE KEY", SEC1 "EC PRIVATE
 * KEY", PKCS#1 "RSA PRIVATE KEY").  Errors: AQ_ERR_MALFORMED (no key, bad
 * PEM, encrypted key), AQ_ERR_UNSUPPORTED (another algorithm or curve, RSA
 * under 2048 bits), AQ_ERR_INVALID_ARGUMENT.  s is zeroed on error; release
 * a loaded signer with aq_pem_signer_free().
 */
int aq_pem_signer_load(aq_pem_signer *s, const char *pem, size_t pemlen) {
  BIO *bio;
  EVP_PKEY *pkey;

  if (s == NULL || pem == NULL || pemlen == 0 || pemlen > INT_MAX) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  memset(s, 0, sizeof(*s));
  bio = BIO_new_mem_buf(pem, (int)pemlen);
  if (bio == NULL) {
    return AQ_ERR_NOMEM;
  }
  pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
  BIO_free(bio);
  ERR_clear_error();
  if (pkey == NULL) {
    return AQ_ERR_MALFORMED;
  }
  aq_key_type type = AQ_KEY_NONE;
  uint16_t scheme = 0;
  switch (EVP_PKEY_get_base_id(pkey)) {
  case EVP_PKEY_ED25519:
    type = AQ_KEY_ED25519;
    scheme = AQ_SIG_ED25519;
    break;
  case EVP_PKEY_EC: {
    char group[64];
    size_t glen = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, "group", group, sizeof(group), &glen) == 1) {
      if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) {
        type = AQ_KEY_ECDSA_P256;
        scheme = AQ_SIG_ECDSA_SECP256R1_SHA256;
      } else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) {
        type = AQ_KEY_ECDSA_P384;
        scheme = AQ_SIG_ECDSA_SECP384R1_SHA384;
      }
    }
    break;
  }
  case EVP_PKEY_RSA:
    if (EVP_PKEY_get_bits(pkey) >= AQ_RSA_MIN_BITS) {
      type = AQ_KEY_RSA;
      scheme = AQ_SIG_RSA_PSS_RSAE_SHA256;
    }
    break;
  default: break;
  }
  ERR_clear_error();
  if (type == AQ_KEY_NONE) {
    EVP_PKEY_free(pkey);
    return AQ_ERR_UNSUPPORTED;
  }
  s->type = type;
  s->pkey = pkey;
  s->sig_scheme = scheme;
  if (type == AQ_KEY_ECDSA_P256 || type == AQ_KEY_ECDSA_P384) {
    if (aq_ecdsa_pre_init(&s->pre, pkey) != 0) {
      memset(&s->pre, 0, sizeof(s->pre)); /* every signature the ordinary way */
    }
  }
  return 0;
}

void aq_pem_signer_free(aq_pem_signer *s) {
  if (s == NULL) {
    return;
  }
  aq_ecdsa_pre_free(&s->pre);
  EVP_PKEY_free(s->pkey); /* OpenSSL clears private key material on free */
  memset(s, 0, sizeof(*s));
}

void aq_pem_signer_prepare(void *sign_ctx) {
  aq_pem_signer *s = sign_ctx;
  if (s != NULL) {
    aq_ecdsa_pre_refill(&s->pre);
  }
}

/* Longest DER ECDSA signature for a key type (two INTEGERs of the order's size, plus headers). */
static size_t ecdsa_max_sig(aq_key_type type) {
  return type == AQ_KEY_ECDSA_P256 ? 72 : 104;
}

/*
 * An ECDSA signature with the prepared nonce, if there is one: the length,
 * AQ_ERR_BUFFER_TOO_SMALL, or AQ_ERR_STATE (sign the ordinary way).
 */
static aq_ssize sign_prepared(aq_pem_signer *s, uint8_t *sig, size_t sigcap, const uint8_t *msg,
                              size_t msglen) {
  uint8_t dgst[AQ_HASH_MAX_LEN];
  aq_hash_alg h = s->type == AQ_KEY_ECDSA_P256 ? AQ_HASH_SHA256 : AQ_HASH_SHA384;
  if (!aq_ecdsa_pre_ready(&s->pre)) {
    return AQ_ERR_STATE;
  }
  if (sigcap < ecdsa_max_sig(s->type)) {
    return AQ_ERR_BUFFER_TOO_SMALL;
  }
  if (aq_hash(h, dgst, msg, msglen) != 0) {
    return AQ_ERR_STATE;
  }
  aq_ssize rv = aq_ecdsa_pre_sign(&s->pre, sig, sigcap, dgst, aq_hash_len(h));
  return rv > 0 || rv == AQ_ERR_BUFFER_TOO_SMALL ? rv : AQ_ERR_STATE;
}

/*
 * Sign msg with scheme, which must suit the key (Ed25519: 0x0807; P-256:
 * 0x0403; P-384: 0x0503; RSA: 0x0804/0x0805/0x0806), else
 * AQ_ERR_UNSUPPORTED.  sigcap must hold the longest signature of the key
 * (64, 72, 104 bytes, or the RSA modulus size), else
 * AQ_ERR_BUFFER_TOO_SMALL.  ECDSA nonces and PSS salts come from OpenSSL's
 * DRBG (the one documented use of randomness we were not handed).
 */
aq_ssize aq_pem_signer_sign(void *sign_ctx, uint16_t scheme, uint8_t *sig, size_t sigcap,
                            const uint8_t *msg, size_t msglen) {
  aq_pem_signer *s = sign_ctx;
  const sig_scheme *sc = scheme_find(scheme);
  EVP_MD_CTX *mctx = NULL;
  EVP_PKEY_CTX *pctx = NULL;
  aq_ssize rv = AQ_ERR_CRYPTO;

  if (s == NULL || s->pkey == NULL || sig == NULL || (msg == NULL && msglen > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (sc == NULL || sc->key != s->type) {
    return AQ_ERR_UNSUPPORTED;
  }
  if (s->type == AQ_KEY_ECDSA_P256 || s->type == AQ_KEY_ECDSA_P384) {
    aq_ssize pre = sign_prepared(s, sig, sigcap, msg, msglen);
    if (pre != AQ_ERR_STATE) {
      return pre;
    }
  }
  const EVP_MD *md = sc->md != NULL ? EVP_get_digestbyname(sc->md) : NULL;
  mctx = EVP_MD_CTX_new();
  if (mctx == NULL) {
    return AQ_ERR_NOMEM;
  }
  if ((sc->md != NULL && md == NULL) ||
      EVP_DigestSignInit(mctx, &pctx, md, NULL, (EVP_PKEY *)s->pkey) != 1 ||
      (sc->pss && !set_pss(pctx, md))) {
    goto out;
  }
  size_t maxlen = 0;
  if (EVP_DigestSign(mctx, NULL, &maxlen, msg, msglen) != 1) {
    goto out;
  }
  if (maxlen > sigcap) {
    rv = AQ_ERR_BUFFER_TOO_SMALL;
    goto out;
  }
  size_t siglen = sigcap;
  if (EVP_DigestSign(mctx, sig, &siglen, msg, msglen) != 1 || siglen > sigcap) {
    goto out;
  }
  rv = (aq_ssize)siglen;
out:
  ERR_clear_error();
  EVP_MD_CTX_free(mctx);
  return rv;
}
