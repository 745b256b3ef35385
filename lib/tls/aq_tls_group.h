/*
 * aq_tls_group.h - key-exchange groups as const descriptors (picotls
 * ptls_key_exchange_algorithm_t, s2n s2n_kem.c).  Each row has an IANA id and
 * three operations that cover both Diffie-Hellman and KEM groups:
 *
 *   client  keygen(priv, client_share)            -> sends client_share
 *   server  exchange(server_share, secret, client_share)   (DH: derive;
 *           KEM: encapsulate to the client's key)  -> sends server_share
 *   client  finish(secret, priv, server_share)     (DH: derive; KEM: decapsulate)
 *
 * Shares are asymmetric in size (ML-KEM-768: 1184-byte client share, 1088
 * byte ciphertext; X25519MLKEM768: 1216 / 1120), so a new group is one more
 * table row and the state machine never changes.
 */
#ifndef AQ_TLS_GROUP_H
#define AQ_TLS_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_crypto.h"

#define AQ_TLS_GROUP_SECP256R1 0x0017
#define AQ_TLS_GROUP_X25519 0x001d
#define AQ_TLS_GROUP_MLKEM768 0x0201
#define AQ_TLS_GROUP_X25519MLKEM768 0x11ec

/* Capacity for every group we will carry (X25519MLKEM768 is the largest:
 * the ML-KEM decapsulation key, then the X25519 scalar and public value). */
#define AQ_TLS_GROUP_MAX_PRIV 2464
#define AQ_TLS_GROUP_MAX_SHARE 1216
#define AQ_TLS_GROUP_MAX_SECRET 64

typedef struct aq_tls_group {
  uint16_t id;
  const char *name;
  int post_quantum;        /* contributes a post-quantum secret (for require_pq) */
  size_t client_share_len; /* exact key_share length the client sends */
  size_t server_share_len; /* exact key_share length the server sends */
  /** Client: private state and the public share, from len(rand) bytes of randomness. */
  AQ_MUST_CHECK int (*keygen)(uint8_t *priv, uint8_t *client_share, aq_rand_fn rand, void *rand_ud);
  /** Server: from the client's share, its own share and the shared secret; *secretlen set. */
  AQ_MUST_CHECK int (*exchange)(uint8_t *server_share, uint8_t *secret, size_t *secretlen,
                                const uint8_t *client_share, aq_rand_fn rand, void *rand_ud);
  /** Client: the shared secret from its private state and the server's share. */
  AQ_MUST_CHECK int (*finish)(uint8_t *secret, size_t *secretlen, const uint8_t *priv,
                              const uint8_t *server_share);
} aq_tls_group;

/* X25519 (aq_tls_group.c), also the classical half of X25519MLKEM768.  The
 * private state is 64 bytes: the scalar, then its public value. */
AQ_MUST_CHECK int aq_tls_x25519_keygen(uint8_t *priv, uint8_t *client_share, aq_rand_fn rand,
                                       void *rand_ud);
AQ_MUST_CHECK int aq_tls_x25519_exchange(uint8_t *server_share, uint8_t *secret, size_t *secretlen,
                                         const uint8_t *client_share, aq_rand_fn rand,
                                         void *rand_ud);
AQ_MUST_CHECK int aq_tls_x25519_finish(uint8_t *secret, size_t *secretlen, const uint8_t *priv,
                                       const uint8_t *server_share);

/*
 * g->keygen / g->exchange, but with a precomputed X25519 key pair (see
 * aq_tls_config.x25519_pre) for X25519 and X25519MLKEM768; *pre is set to
 * NULL once used.  Other groups, or *pre == NULL: the plain operations.
 */
AQ_MUST_CHECK int aq_tls_group_keygen(const aq_tls_group *g, uint8_t *priv, uint8_t *client_share,
                                      const uint8_t **pre, aq_rand_fn rand, void *rand_ud);
AQ_MUST_CHECK int aq_tls_group_exchange(const aq_tls_group *g, uint8_t *server_share,
                                        uint8_t *secret, size_t *secretlen,
                                        const uint8_t *client_share, const uint8_t **pre,
                                        void *pre_key, aq_rand_fn rand, void *rand_ud);
/*
 * g->finish, but with the X25519 half taken from pre_key (the
 * aq_x25519_key_new object of the pair the share was made from; see
 * aq_tls_config.x25519_pre_key).  pre_key NULL or another group: g->finish.
 */
AQ_MUST_CHECK int aq_tls_group_finish(const aq_tls_group *g, uint8_t *secret, size_t *secretlen,
                                      const uint8_t *priv, const uint8_t *server_share,
                                      void *pre_key);

/* secp256r1 (aq_tls_group_p256.c): operations for the table row. */
AQ_MUST_CHECK int aq_tls_p256_keygen(uint8_t *priv, uint8_t *client_share, aq_rand_fn rand,
                                     void *rand_ud);
AQ_MUST_CHECK int aq_tls_p256_exchange(uint8_t *server_share, uint8_t *secret, size_t *secretlen,
                                       const uint8_t *client_share, aq_rand_fn rand, void *rand_ud);
AQ_MUST_CHECK int aq_tls_p256_finish(uint8_t *secret, size_t *secretlen, const uint8_t *priv,
                                     const uint8_t *server_share);

/** The group with IANA id, or NULL if we do not implement it. */
/* Post-quantum rows (aq_tls_group_pq.c). */
AQ_MUST_CHECK int aq_tls_mlkem768_keygen(uint8_t *priv, uint8_t *client_share, aq_rand_fn rand,
                                         void *rand_ud);
AQ_MUST_CHECK int aq_tls_mlkem768_exchange(uint8_t *server_share, uint8_t *secret,
                                           size_t *secretlen, const uint8_t *client_share,
                                           aq_rand_fn rand, void *rand_ud);
AQ_MUST_CHECK int aq_tls_mlkem768_finish(uint8_t *secret, size_t *secretlen, const uint8_t *priv,
                                         const uint8_t *server_share);
AQ_MUST_CHECK int aq_tls_x25519mlkem768_keygen(uint8_t *priv, uint8_t *client_share,
                                               aq_rand_fn rand, void *rand_ud);
AQ_MUST_CHECK int aq_tls_x25519mlkem768_exchange(uint8_t *server_share, uint8_t *secret,
                                                 size_t *secretlen, const uint8_t *client_share,
                                                 aq_rand_fn rand, void *rand_ud);
AQ_MUST_CHECK int aq_tls_x25519mlkem768_finish(uint8_t *secret, size_t *secretlen,
                                               const uint8_t *priv, const uint8_t *server_share);

const aq_tls_group *aq_tls_group_find(uint16_t id);

/** A signature scheme we can verify (and maybe sign with, through the credential). */
typedef struct aq_tls_sigscheme {
  uint16_t id;
  const char *name;
} aq_tls_sigscheme;

/** The schemes we accept from peers, in our preference order; *n set. */
const aq_tls_sigscheme *aq_tls_sigschemes(size_t *n);
/** Non-zero if we accept scheme from a peer. */
int aq_tls_sigscheme_ok(uint16_t id);

#endif /* AQ_TLS_GROUP_H */
