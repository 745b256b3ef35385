/*
 * aq_tls_ext.h - the extension table (s2n style): one const descriptor per
 * extension type with the messages it may appear in and its
 * send/recv/should_send/if_missing operations.
 *
 * recv is a pure decoder: it fills an aq_tls_ext_rx (pointers into the
 * message) and touches no engine state, so aq_tls_ext_decode() can be fuzzed
 * alone.  The handshake handlers in aq_tls.c then apply the meaning
 * (negotiation, "was it offered?") and commit state only after every check.
 */
#ifndef AQ_TLS_EXT_H
#define AQ_TLS_EXT_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_buf.h"
#include "aq_tls_msg.h"

/* ExtensionType (RFC 8446 §4.2, RFC 7250, RFC 7301, RFC 9001 §8.2). */
#define AQ_TLS_EXT_SERVER_NAME 0
#define AQ_TLS_EXT_SUPPORTED_GROUPS 10
#define AQ_TLS_EXT_SIGNATURE_ALGORITHMS 13
#define AQ_TLS_EXT_ALPN 16
#define AQ_TLS_EXT_CLIENT_CERT_TYPE 19
#define AQ_TLS_EXT_SERVER_CERT_TYPE 20
#define AQ_TLS_EXT_PRE_SHARED_KEY 41
#define AQ_TLS_EXT_EARLY_DATA 42
#define AQ_TLS_EXT_SUPPORTED_VERSIONS 43
#define AQ_TLS_EXT_COOKIE 44
#define AQ_TLS_EXT_PSK_KEY_EXCHANGE_MODES 45
#define AQ_TLS_EXT_KEY_SHARE 51
#define AQ_TLS_EXT_QUIC_TRANSPORT_PARAMETERS 0x39

/* Certificate types (RFC 7250 §3, IANA TLS Certificate Types). */
#define AQ_TLS_CERTTYPE_X509 0
#define AQ_TLS_CERTTYPE_RPK 2

/* The message an extension block belongs to (bit mask). */
#define AQ_TLS_MSG_CH 0x01u
#define AQ_TLS_MSG_SH 0x02u
#define AQ_TLS_MSG_HRR 0x04u
#define AQ_TLS_MSG_EE 0x08u
#define AQ_TLS_MSG_CR 0x10u
#define AQ_TLS_MSG_CT 0x20u
#define AQ_TLS_MSG_NST 0x40u

/** Decoded extension contents of one message; pointers point into the message. */
typedef struct aq_tls_ext_rx {
  uint32_t seen;         /* bit i: table row i was present */
  int tls13_offered;     /* CH supported_versions lists 0x0304 */
  uint16_t version;      /* SH/HRR selected_version */
  const uint8_t *groups; /* CH supported_groups: u16 list content */
  size_t groups_len;
  const uint8_t *shares; /* CH key_share: KeyShareEntry list content */
  size_t shares_len;
  uint16_t share_group; /* SH: entry group; HRR: selected_group */
  const uint8_t *share; /* SH: key_exchange */
  size_t share_len;
  const uint8_t *sigalgs; /* CH/CR signature_algorithms: u16 list content */
  size_t sigalgs_len;
  const uint8_t *sni; /* CH: host_name (not NUL terminated) */
  size_t sni_len;
  const uint8_t *alpn; /* CH: ProtocolName list content; EE: the one protocol name */
  size_t alpn_len;
  const uint8_t *cct; /* client_certificate_type: CH list / EE one byte */
  size_t cct_len;
  const uint8_t *sct; /* server_certificate_type: CH list / EE one byte */
  size_t sct_len;
  const uint8_t *tp; /* quic_transport_parameters (opaque) */
  size_t tp_len;
  const uint8_t *psk_ids; /* CH: PskIdentity list content */
  size_t psk_ids_len;
  const uint8_t *psk_binders; /* CH: binder list content */
  size_t psk_binders_len;
  uint16_t psk_selected;   /* SH: selected_identity */
  int psk_dhe_ke;          /* CH psk_key_exchange_modes includes psk_dhe_ke */
  int early_data;          /* early_data present */
  uint32_t max_early_data; /* NST: max_early_data_size */
  const uint8_t *cookie;
  size_t cookie_len;
} aq_tls_ext_rx;

struct aq_tls;

typedef struct aq_tls_ext_desc {
  uint16_t type;
  unsigned msgs; /* AQ_TLS_MSG_* where it may appear */
  /** Non-zero if we send it in msg. */
  int (*should_send)(const struct aq_tls *tls, unsigned msg);
  /** Write the extension_data (the length is framed by the caller). */
  void (*send)(const struct aq_tls *tls, aq_wbuf *w, unsigned msg);
  /** Pure decode of extension_data into rx. */
  AQ_MUST_CHECK int (*recv)(aq_tls_ext_rx *rx, unsigned msg, const uint8_t *data, size_t len);
  /** The alert when it is absent from msg, or 0 if that is fine. */
  uint8_t (*if_missing)(const struct aq_tls *tls, unsigned msg);
} aq_tls_ext_desc;

/** Table row index of an extension type, or -1 if we do not know it. */
int aq_tls_ext_index(uint16_t type);

/**
 * Pure decode of every known extension in l for message msg.  A known
 * extension not allowed in msg -> *alert = illegal_parameter; a malformed
 * one -> decode_error (or illegal_parameter for bad values).  Unknown
 * extensions are skipped (the engine refuses them where RFC 8446 §4.2 says
 * so).  Returns 0 or AQ_ERR_PROTO with *alert set.
 */
AQ_MUST_CHECK int aq_tls_ext_decode(aq_tls_ext_rx *rx, uint8_t *alert, const aq_tls_ext_list *l,
                                    unsigned msg);

/** Write the extension block for msg (every row whose should_send is true); returns the row mask.
 */
uint32_t aq_tls_ext_send_all(const struct aq_tls *tls, aq_wbuf *w, unsigned msg);

/** First if_missing alert over rows absent from rx for msg, or 0. */
uint8_t aq_tls_ext_check_missing(const struct aq_tls *tls, const aq_tls_ext_rx *rx, unsigned msg);

#endif /* AQ_TLS_EXT_H */
