/*
 * aq_tls_ticket.h - resumption state (RFC 8446 §4.6.1, §2.2).
 *
 * Two encodings, both ours:
 *  - the SESSION a client keeps (handed to the application by cb.on_ticket,
 *    given back as aq_tls_config.session): the ticket as received plus the
 *    PSK and what 0-RTT needs;
 *  - the TICKET a server issues: the same state sealed with AES-256-GCM
 *    under the server's ticket key: nonce(12) || ciphertext || tag.
 * Decoders are pure; pointers point into the input.
 */
#ifndef AQ_TLS_TICKET_H
#define AQ_TLS_TICKET_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_buf.h"

#define AQ_TLS_TICKET_KEY_LEN 32
#define AQ_TLS_TICKET_OVERHEAD (12 + 16)

/** Resumption state: a client session or the inside of a server ticket. */
typedef struct aq_tls_session {
  uint16_t suite;
  uint64_t ts;         /* client: when the ticket arrived; server: when it was issued */
  uint32_t lifetime_s; /* ticket_lifetime (client) / the server's own limit */
  uint32_t age_add;
  uint32_t max_early_data; /* 0 = no 0-RTT */
  const uint8_t *psk;
  size_t psk_len;
  const uint8_t *ticket; /* client only: the opaque ticket */
  size_t ticket_len;
  const uint8_t *alpn; /* ALPN of the original connection (0-RTT must match) */
  size_t alpn_len;
  const uint8_t *spki; /* the peer's authenticated key in the original connection */
  size_t spki_len;
} aq_tls_session;

/** Encode s (the ticket field is included when is_client); errors are sticky in w. */
void aq_tls_session_encode(aq_wbuf *w, const aq_tls_session *s, int is_client);
/** Decode what aq_tls_session_encode wrote. */
AQ_MUST_CHECK int aq_tls_session_decode(aq_tls_session *s, const uint8_t *data, size_t len,
                                        int is_client);

/**
 * Seal a server ticket: nonce (12 bytes from the caller's randomness) ||
 * AES-256-GCM(key, plaintext).  Returns the ticket length.
 */
AQ_MUST_CHECK aq_ssize aq_tls_ticket_seal(uint8_t *out, size_t cap,
                                          const uint8_t key[AQ_TLS_TICKET_KEY_LEN],
                                          const uint8_t nonce[12], const uint8_t *pt, size_t ptlen);
/** Open a ticket into pt (cap >= len - overhead); AQ_ERR_DECRYPT if it is not ours. */
AQ_MUST_CHECK aq_ssize aq_tls_ticket_open(uint8_t *pt, size_t cap,
                                          const uint8_t key[AQ_TLS_TICKET_KEY_LEN],
                                          const uint8_t *ticket, size_t len);

#endif /* AQ_TLS_TICKET_H */
