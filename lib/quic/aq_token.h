/*
 * aq_token.h - NEW_TOKEN address-validation tokens (RFC 9000 §8.1.3).
 *
 * A server hands these to clients after the handshake; a client presents
 * one in the Initial of a later connection and the server may then skip
 * Retry and the anti-amplification limit.  Format (ours):
 *
 *   0xb7 (1 byte: Retry tokens start with a CID length <= 20, so the kinds
 *   never collide) || nonce (12) || AES-256-GCM(expiry as u64 ns) || tag (16)
 *
 * The AEAD's associated data is the type byte and the client's IP address
 * (family and 16 bytes; not the port, which NATs change between
 * connections).  The key is HMAC-SHA256(ticket key, "aq new_token key v1"),
 * so tokens outlive restarts when the ticket key does.  Expiry is in the
 * endpoint's aq_tstamp clock.  Codecs are pure.
 */
#ifndef AQ_TOKEN_H
#define AQ_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"

#define AQ_TOKEN_TYPE_NEW 0xb7u
#define AQ_TOKEN_NEW_LEN (1u + 12u + 8u + 16u)
#define AQ_TOKEN_KEY_LEN 32u

/** Derive the token AEAD key from a 32-byte endpoint secret (the ticket key). */
AQ_MUST_CHECK int aq_token_derive_key(uint8_t key[AQ_TOKEN_KEY_LEN], const uint8_t secret[32]);

/**
 * Seal a NEW_TOKEN token for client (its IP) valid until expiry into out
 * (cap >= AQ_TOKEN_NEW_LEN).  nonce: 12 random bytes.  Returns
 * AQ_TOKEN_NEW_LEN, AQ_ERR_BUFFER_TOO_SMALL or AQ_ERR_CRYPTO.
 */
AQ_MUST_CHECK aq_ssize aq_token_seal_new(uint8_t *out, size_t cap,
                                         const uint8_t key[AQ_TOKEN_KEY_LEN],
                                         const uint8_t nonce[12], const aq_addr *client,
                                         aq_tstamp expiry);

/** Non-zero if tok looks like one of our NEW_TOKEN tokens (type byte and length). */
int aq_token_is_new(const uint8_t *tok, size_t len);

/**
 * Open a NEW_TOKEN token presented by client at now.  Returns 0 (valid),
 * AQ_ERR_MALFORMED (not a NEW_TOKEN token), AQ_ERR_DECRYPT (foreign key,
 * other client IP, or tampered), AQ_ERR_TIMEOUT (expired), AQ_ERR_CRYPTO.
 */
AQ_MUST_CHECK int aq_token_open_new(const uint8_t key[AQ_TOKEN_KEY_LEN], const uint8_t *tok,
                                    size_t len, const aq_addr *client, aq_tstamp now);

#endif /* AQ_TOKEN_H */
