/* aq_tls_group.c - the key-exchange group table and the signature-scheme table. */
#include "aq_tls_group.h"

#include <string.h>

#include "aq_ct.h"
#include "aq_mlkem768.h"
#include "aq_tls_cert.h"

/* ------------------------------------------------------------------ X25519 */

/*
 * X25519 keygen: a random scalar and its public value (RFC 7748 §6.1).  The
 * private state is the scalar followed by the public value (see
 * aq_x25519_pair: keeping it halves the cost of the finish).
 */
int aq_tls_x25519_keygen(uint8_t *priv, uint8_t *client_share, aq_rand_fn rand, void *rand_ud) {
  int rv = rand(priv, AQ_X25519_LEN, rand_ud);
  if (rv != 0) {
    aq_memzero(priv, AQ_X25519_LEN);
    return AQ_ERR_CALLBACK_FAILURE;
  }
  rv = aq_x25519_public(client_share, priv);
  if (rv == 0) {
    memcpy(priv + AQ_X25519_LEN, client_share, AQ_X25519_LEN);
  } else {
    aq_memzero(priv, AQ_X25519_LEN);
  }
  return rv;
}

/** X25519 server side: an ephemeral key, its share, and the shared secret. */
int aq_tls_x25519_exchange(uint8_t *server_share, uint8_t *secret, size_t *secretlen,
                           const uint8_t *client_share, aq_rand_fn rand, void *rand_ud) {
  uint8_t priv[AQ_X25519_LEN];
  int rv = rand(priv, sizeof(priv), rand_ud) != 0 ? AQ_ERR_CALLBACK_FAILURE : 0;
  if (rv == 0) {
    /* RFC 8446 §7.4.2: an all-zero shared secret is refused (inside aq_x25519_exchange). */
    rv = aq_x25519_exchange(server_share, secret, priv, client_share);
  }
  aq_memzero(priv, sizeof(priv));
  *secretlen = AQ_X25519_LEN;
  return rv;
}

/** X25519 client side: the shared secret from the scalar and public value of keygen. */
int aq_tls_x25519_finish(uint8_t *secret, size_t *secretlen, const uint8_t *priv,
                         const uint8_t *server_share) {
  *secretlen = AQ_X25519_LEN;
  return aq_x25519_pair(secret, priv, priv + AQ_X25519_LEN, server_share);
}

int aq_tls_group_keygen(const aq_tls_group *g, uint8_t *priv, uint8_t *client_share,
                        const uint8_t **pre, aq_rand_fn rand, void *rand_ud) {
  size_t off; /* where the X25519 part sits in priv / client_share */
  if (*pre == NULL) {
    return g->keygen(priv, client_share, rand, rand_ud);
  }
  if (g->id == AQ_TLS_GROUP_X25519) {
    off = 0;
  } else if (g->id == AQ_TLS_GROUP_X25519MLKEM768) {
    int rv = aq_tls_mlkem768_keygen(priv, client_share, rand, rand_ud);
    if (rv != 0) {
      return rv;
    }
    off = AQ_MLKEM768_DK_LEN; /* ML-KEM first, then X25519 (priv and share alike) */
  } else {
    return g->keygen(priv, client_share, rand, rand_ud);
  }
  size_t share_off = off == 0 ? 0 : AQ_MLKEM768_EK_LEN;
  memcpy(priv + off, *pre, 2 * AQ_X25519_LEN); /* scalar, then public value */
  memcpy(client_share + share_off, *pre + AQ_X25519_LEN, AQ_X25519_LEN);
  *pre = NULL;
  return 0;
}

int aq_tls_group_exchange(const aq_tls_group *g, uint8_t *server_share, uint8_t *secret,
                          size_t *secretlen, const uint8_t *client_share, const uint8_t **pre,
                          void *pre_key, aq_rand_fn rand, void *rand_ud) {
  const uint8_t *p = *pre;
  if (p == NULL || (g->id != AQ_TLS_GROUP_X25519 && g->id != AQ_TLS_GROUP_X25519MLKEM768)) {
    return g->exchange(server_share, secret, secretlen, client_share, rand, rand_ud);
  }
  size_t soff = 0, coff = 0, koff = 0, kl = 0;
  int rv = 0;
  if (g->id == AQ_TLS_GROUP_X25519MLKEM768) {
    rv = aq_tls_mlkem768_exchange(server_share, secret, &kl, client_share, rand, rand_ud);
    soff = AQ_MLKEM768_CT_LEN;
    coff = AQ_MLKEM768_EK_LEN;
    koff = AQ_MLKEM768_SS_LEN;
  }
  if (rv == 0) {
    /* RFC 8446 §7.4.2 all-zero refusal inside aq_x25519_pair / aq_x25519_with. */
    rv = pre_key != NULL ? aq_x25519_with(secret + koff, pre_key, client_share + coff)
                         : aq_x25519_pair(secret + koff, p, p + AQ_X25519_LEN, client_share + coff);
  }
  if (rv == 0) {
    memcpy(server_share + soff, p + AQ_X25519_LEN, AQ_X25519_LEN);
  } else {
    aq_memzero(secret, koff + AQ_X25519_LEN);
  }
  *secretlen = koff + AQ_X25519_LEN;
  *pre = NULL;
  return rv;
}

int aq_tls_group_finish(const aq_tls_group *g, uint8_t *secret, size_t *secretlen,
                        const uint8_t *priv, const uint8_t *server_share, void *pre_key) {
  if (pre_key == NULL || (g->id != AQ_TLS_GROUP_X25519 && g->id != AQ_TLS_GROUP_X25519MLKEM768)) {
    return g->finish(secret, secretlen, priv, server_share);
  }
  size_t koff = 0, soff = 0, kl = 0;
  int rv = 0;
  if (g->id == AQ_TLS_GROUP_X25519MLKEM768) {
    rv = aq_tls_mlkem768_finish(secret, &kl, priv, server_share);
    koff = AQ_MLKEM768_SS_LEN;
    soff = AQ_MLKEM768_CT_LEN;
  }
  if (rv == 0) {
    rv = aq_x25519_with(secret + koff, pre_key, server_share + soff);
  }
  if (rv != 0) {
    aq_memzero(secret, koff + AQ_X25519_LEN);
  }
  *secretlen = koff + AQ_X25519_LEN;
  return rv;
}

static const aq_tls_group groups[] = {
    {AQ_TLS_GROUP_X25519MLKEM768, "X25519MLKEM768", 1, 1216, 1120, aq_tls_x25519mlkem768_keygen,
     aq_tls_x25519mlkem768_exchange, aq_tls_x25519mlkem768_finish},
    {AQ_TLS_GROUP_MLKEM768, "MLKEM768", 1, 1184, 1088, aq_tls_mlkem768_keygen,
     aq_tls_mlkem768_exchange, aq_tls_mlkem768_finish},
    {AQ_TLS_GROUP_X25519, "x25519", 0, AQ_X25519_LEN, AQ_X25519_LEN, aq_tls_x25519_keygen,
     aq_tls_x25519_exchange, aq_tls_x25519_finish},
    {AQ_TLS_GROUP_SECP256R1, "secp256r1", 0, 65, 65, aq_tls_p256_keygen, aq_tls_p256_exchange,
     aq_tls_p256_finish},
};

/** Group lookup (see header). */
const aq_tls_group *aq_tls_group_find(uint16_t id) {
  for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
    if (groups[i].id == id) {
      return &groups[i];
    }
  }
  return NULL;
}

/* ------------------------------------------------------- signature schemes */

static const aq_tls_sigscheme schemes[] = {
    {AQ_SIG_MLDSA65, "mldsa65"},
    {AQ_SIG_ED25519, "ed25519"},
    {AQ_SIG_ECDSA_SECP256R1_SHA256, "ecdsa_secp256r1_sha256"},
    {AQ_SIG_ECDSA_SECP384R1_SHA384, "ecdsa_secp384r1_sha384"},
    {AQ_SIG_RSA_PSS_RSAE_SHA256, "rsa_pss_rsae_sha256"},
    {AQ_SIG_RSA_PSS_RSAE_SHA384, "rsa_pss_rsae_sha384"},
    {AQ_SIG_RSA_PSS_RSAE_SHA512, "rsa_pss_rsae_sha512"},
};

/** Scheme table (see header). */
const aq_tls_sigscheme *aq_tls_sigschemes(size_t *n) {
  *n = sizeof(schemes) / sizeof(schemes[0]);
  return schemes;
}

/** Scheme acceptable from a peer (see header). */
int aq_tls_sigscheme_ok(uint16_t id) {
  for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
    if (schemes[i].id == id) {
      return 1;
    }
  }
  return 0;
}
