/*
 * aq_identity.c - node identity keys, PeerIds and the key-file codec.
 *
 * Key file (docs/identity.md), UTF-8 text, one "key: value" per line, '#'
 * lines ignored:
 *     version: 1
 *     type: ml-dsa-65            (or ed25519)
 *     seed: <64 hex>             the 32-byte KeyGen seed (ξ / Ed25519 seed)
 *     peer-id: <64 hex>          redundant; checked on load to catch corruption
 * Only the seed is secret; the key pair is re-derived on load.
 */
#include "aq_identity.h"

#include <string.h>

#include "aq_ct.h"
#include "aq_tls_cert.h"

static const char hexdigits[] = "0123456789abcdef";

static const char *type_name(aq_identity_type t) {
  switch (t) {
  case AQ_IDENTITY_MLDSA65: return "ml-dsa-65";
  case AQ_IDENTITY_ED25519: return "ed25519";
  default: return NULL;
  }
}

int aq_peer_id_from_pk(uint8_t out[AQ_PEER_ID_LEN], aq_identity_type type, const uint8_t *pk,
                       size_t pklen) {
  uint8_t buf[sizeof(AQ_PEER_ID_V2_PREFIX) - 1 + AQ_MLDSA65_PK_LEN];
  size_t plen = sizeof(AQ_PEER_ID_V2_PREFIX) - 1;
  switch (type) {
  case AQ_IDENTITY_MLDSA65:
    if (pklen != AQ_MLDSA65_PK_LEN) {
      return AQ_ERR_INVALID_ARGUMENT;
    }
    memcpy(buf, AQ_PEER_ID_V2_PREFIX, plen);
    memcpy(buf + plen, pk, pklen);
    return aq_hash(AQ_HASH_SHA256, out, buf, plen + pklen);
  case AQ_IDENTITY_ED25519:
    if (pklen != AQ_ED25519_PK_LEN) {
      return AQ_ERR_INVALID_ARGUMENT;
    }
    return aq_hash(AQ_HASH_SHA256, out, pk, pklen);
  default:
    return AQ_ERR_UNSUPPORTED;
  }
}

int aq_identity_from_seed(aq_identity *id, aq_identity_type type,
                          const uint8_t seed[AQ_IDENTITY_SEED_LEN]) {
  int rv;
  memset(id, 0, sizeof(*id));
  id->type = type;
  memcpy(id->seed, seed, AQ_IDENTITY_SEED_LEN);
  switch (type) {
  case AQ_IDENTITY_MLDSA65:
    aq_mldsa65_keygen(id->pk, id->sk, seed);
    rv = 0;
    id->pklen = AQ_MLDSA65_PK_LEN;
    break;
  case AQ_IDENTITY_ED25519:
    rv = aq_ed25519_public(id->pk, seed);
    id->pklen = AQ_ED25519_PK_LEN;
    break;
  default:
    rv = AQ_ERR_UNSUPPORTED;
    break;
  }
  if (rv == 0) {
    rv = aq_peer_id_from_pk(id->peer_id, type, id->pk, id->pklen);
  }
  if (rv != 0) {
    aq_identity_wipe(id);
  }
  return rv;
}

void aq_identity_wipe(aq_identity *id) { aq_memzero(id, sizeof(*id)); }

void aq_peer_id_to_hex(char out[AQ_PEER_ID_HEX_LEN + 1], const uint8_t id[AQ_PEER_ID_LEN]) {
  for (size_t i = 0; i < AQ_PEER_ID_LEN; i++) {
    out[2 * i] = hexdigits[id[i] >> 4];
    out[2 * i + 1] = hexdigits[id[i] & 15];
  }
  out[AQ_PEER_ID_HEX_LEN] = '\0';
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

/* Decode exactly 2*n hex characters at s into out; 0 or AQ_ERR_MALFORMED. */
static int unhex_exact(uint8_t *out, size_t n, const char *s, size_t slen) {
  if (slen != 2 * n) {
    return AQ_ERR_MALFORMED;
  }
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return AQ_ERR_MALFORMED;
    }
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

int aq_peer_id_from_hex(uint8_t out[AQ_PEER_ID_LEN], const char *hex) {
  uint8_t tmp[AQ_PEER_ID_LEN];
  if (hex == NULL || unhex_exact(tmp, sizeof(tmp), hex, strlen(hex)) != 0) {
    return AQ_ERR_MALFORMED;
  }
  memcpy(out, tmp, sizeof(tmp));
  return 0;
}

/* Append s to out (cap bytes) at *pos; the sticky *err goes non-zero on overflow. */
static void put_str(char *out, size_t cap, size_t *pos, const char *s, int *err) {
  size_t n = strlen(s);
  if (*err || *pos + n >= cap) {
    *err = 1;
    return;
  }
  memcpy(out + *pos, s, n);
  *pos += n;
}

static void put_hex(char *out, size_t cap, size_t *pos, const uint8_t *p, size_t n, int *err) {
  if (*err || *pos + 2 * n >= cap) {
    *err = 1;
    return;
  }
  for (size_t i = 0; i < n; i++) {
    out[(*pos)++] = hexdigits[p[i] >> 4];
    out[(*pos)++] = hexdigits[p[i] & 15];
  }
}

aq_ssize aq_identity_encode_file(char *out, size_t cap, const aq_identity *id) {
  size_t pos = 0;
  int err = 0;
  const char *tn = type_name(id->type);
  if (tn == NULL) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  put_str(out, cap, &pos, "# ant-quic node identity. Keep this file secret (mode 0600).\n", &err);
  put_str(out, cap, &pos, "version: 1\ntype: ", &err);
  put_str(out, cap, &pos, tn, &err);
  put_str(out, cap, &pos, "\nseed: ", &err);
  put_hex(out, cap, &pos, id->seed, sizeof(id->seed), &err);
  put_str(out, cap, &pos, "\npeer-id: ", &err);
  put_hex(out, cap, &pos, id->peer_id, sizeof(id->peer_id), &err);
  put_str(out, cap, &pos, "\n", &err);
  if (err) {
    if (cap > 0) {
      aq_memzero(out, cap);
    }
    return AQ_ERR_BUFFER_TOO_SMALL;
  }
  out[pos] = '\0';
  return (aq_ssize)pos;
}

int aq_identity_decode_file(aq_identity *id, const char *text, size_t len, const char **why) {
  const char *p = text, *end = text + len;
  const char *dummy;
  int have_version = 0, have_type = 0, have_seed = 0, have_pid = 0;
  aq_identity_type type = AQ_IDENTITY_MLDSA65;
  uint8_t seed[AQ_IDENTITY_SEED_LEN], pid[AQ_PEER_ID_LEN];
  int rv = AQ_ERR_MALFORMED;

  if (why == NULL) {
    why = &dummy;
  }
  *why = "not an ant-quic identity file";
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end;
    const char *colon;
    size_t klen, vlen;
    const char *v;
    /* Strip a trailing CR and surrounding blanks. */
    const char *le = line_end;
    while (le > p && (le[-1] == '\r' || le[-1] == ' ' || le[-1] == '\t')) {
      le--;
    }
    while (p < le && (*p == ' ' || *p == '\t')) {
      p++;
    }
    if (p == le || *p == '#') {
      p = eol ? eol + 1 : end;
      continue;
    }
    colon = memchr(p, ':', (size_t)(le - p));
    if (colon == NULL) {
      *why = "a line is not 'key: value'";
      goto out;
    }
    klen = (size_t)(colon - p);
    v = colon + 1;
    while (v < le && *v == ' ') {
      v++;
    }
    vlen = (size_t)(le - v);
    if (klen == 7 && memcmp(p, "version", 7) == 0 && !have_version) {
      if (vlen != 1 || v[0] != '1') {
        *why = "unsupported identity file version";
        rv = AQ_ERR_UNSUPPORTED;
        goto out;
      }
      have_version = 1;
    } else if (klen == 4 && memcmp(p, "type", 4) == 0 && !have_type) {
      if (vlen == 9 && memcmp(v, "ml-dsa-65", 9) == 0) {
        type = AQ_IDENTITY_MLDSA65;
      } else if (vlen == 7 && memcmp(v, "ed25519", 7) == 0) {
        type = AQ_IDENTITY_ED25519;
      } else {
        *why = "unsupported key type (expected ml-dsa-65 or ed25519)";
        rv = AQ_ERR_UNSUPPORTED;
        goto out;
      }
      have_type = 1;
    } else if (klen == 4 && memcmp(p, "seed", 4) == 0 && !have_seed) {
      if (unhex_exact(seed, sizeof(seed), v, vlen) != 0) {
        *why = "seed is not 64 hex characters";
        goto out;
      }
      have_seed = 1;
    } else if (klen == 7 && memcmp(p, "peer-id", 7) == 0 && !have_pid) {
      if (unhex_exact(pid, sizeof(pid), v, vlen) != 0) {
        *why = "peer-id is not 64 hex characters";
        goto out;
      }
      have_pid = 1;
    } else {
      *why = "unknown or repeated key";
      goto out;
    }
    p = eol ? eol + 1 : end;
  }
  if (!have_version || !have_type || !have_seed || !have_pid) {
    *why = "missing version, type, seed or peer-id line";
    goto out;
  }
  rv = aq_identity_from_seed(id, type, seed);
  if (rv != 0) {
    *why = "key derivation failed";
    goto out;
  }
  if (!aq_ct_memeq(id->peer_id, pid, sizeof(pid))) {
    aq_identity_wipe(id);
    *why = "peer-id does not match the key (file corrupt)";
    rv = AQ_ERR_VERIFY;
    goto out;
  }
  *why = NULL;
  rv = 0;
out:
  aq_memzero(seed, sizeof(seed));
  return rv;
}

uint16_t aq_identity_sig_scheme(const aq_identity *id) {
  return id->type == AQ_IDENTITY_ED25519 ? AQ_SIG_ED25519 : AQ_SIG_MLDSA65;
}

aq_ssize aq_identity_spki(const aq_identity *id, uint8_t *out, size_t cap) {
  aq_key_type kt = id->type == AQ_IDENTITY_ED25519 ? AQ_KEY_ED25519 : AQ_KEY_MLDSA65;
  return aq_spki_encode(out, cap, kt, id->pk, id->pklen);
}

aq_ssize aq_identity_sign(void *sign_ctx, uint16_t scheme, uint8_t *sig, size_t sigcap,
                          const uint8_t *msg, size_t msglen) {
  aq_identity *id = sign_ctx;
  int rv;
  if (scheme != aq_identity_sig_scheme(id)) {
    return AQ_ERR_UNSUPPORTED;
  }
  if (id->type == AQ_IDENTITY_ED25519) {
    if (sigcap < AQ_ED25519_SIG_LEN) {
      return AQ_ERR_BUFFER_TOO_SMALL;
    }
    rv = aq_ed25519_sign_pair(sig, id->seed, id->pk, msg, msglen);
    return rv != 0 ? rv : AQ_ED25519_SIG_LEN;
  }
  uint8_t rnd[32] = {0};
  if (sigcap < AQ_MLDSA65_SIG_LEN) {
    return AQ_ERR_BUFFER_TOO_SMALL;
  }
  if (id->rand != NULL && id->rand(rnd, sizeof(rnd), id->rand_ud) != 0) {
    return AQ_ERR_CALLBACK_FAILURE;
  }
  /* Pure ML-DSA with the empty context (draft-ietf-tls-mldsa). */
  rv = aq_mldsa65_sign(sig, id->sk, msg, msglen, NULL, 0, rnd);
  aq_memzero(rnd, sizeof(rnd));
  return rv != 0 ? rv : AQ_MLDSA65_SIG_LEN;
}
