/*
 * aq_tls_msg.h - pure codecs for the TLS 1.3 handshake messages (RFC 8446 §4).
 *
 * Decoders take the message BODY (after the 4-byte handshake header), fill a
 * struct whose pointers point into the input (valid as long as the input is)
 * and touch no engine state.  Extensions are decoded only to the generic
 * (type, data) list here; aq_tls_ext.c gives them meaning.  Encoders write a
 * whole message (header included) with aq_wbuf; their errors are sticky in
 * the writer.
 *
 * Every decoder returns 0 or a negative AQ_ERR_* code; aq_tls_msg_alert()
 * maps the code to the alert the engine sends (decode_error for framing,
 * illegal_parameter for values).
 */
#ifndef AQ_TLS_MSG_H
#define AQ_TLS_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_buf.h"

/* HandshakeType (RFC 8446 §4). */
#define AQ_TLS_HS_CLIENT_HELLO 1
#define AQ_TLS_HS_SERVER_HELLO 2
#define AQ_TLS_HS_NEW_SESSION_TICKET 4
#define AQ_TLS_HS_END_OF_EARLY_DATA 5
#define AQ_TLS_HS_ENCRYPTED_EXTENSIONS 8
#define AQ_TLS_HS_CERTIFICATE 11
#define AQ_TLS_HS_CERTIFICATE_REQUEST 13
#define AQ_TLS_HS_CERTIFICATE_VERIFY 15
#define AQ_TLS_HS_FINISHED 20
#define AQ_TLS_HS_KEY_UPDATE 24
#define AQ_TLS_HS_MESSAGE_HASH 254

#define AQ_TLS_HS_HEADER_LEN 4
#define AQ_TLS_RANDOM_LEN 32
#define AQ_TLS_LEGACY_VERSION 0x0303
#define AQ_TLS_VERSION_13 0x0304

/** Most extensions one message may carry (more is refused with decode_error). */
#define AQ_TLS_MAX_EXTS 32
/** Most certificate entries in one Certificate message. */
#define AQ_TLS_MAX_CERT_ENTRIES 8

/** One extension as it is on the wire. */
typedef struct aq_tls_ext_raw {
  uint16_t type;
  const uint8_t *data;
  size_t len;
} aq_tls_ext_raw;

/** The extension block of a message: duplicates are refused at decode. */
typedef struct aq_tls_ext_list {
  aq_tls_ext_raw ext[AQ_TLS_MAX_EXTS];
  size_t n;
} aq_tls_ext_list;

/** ClientHello (RFC 8446 §4.1.2). */
typedef struct aq_tls_ch {
  uint16_t legacy_version;
  const uint8_t *random; /* 32 bytes */
  const uint8_t *session_id;
  size_t session_id_len;
  const uint8_t *suites; /* pairs of bytes */
  size_t suites_len;
  const uint8_t *compression;
  size_t compression_len;
  aq_tls_ext_list exts;
  /*
   * Offset, from the start of the body, of the binders list of a final
   * pre_shared_key extension (for the binder transcript), or 0.
   */
  size_t binders_off;
} aq_tls_ch;

/** ServerHello or HelloRetryRequest (RFC 8446 §4.1.3-4). */
typedef struct aq_tls_sh {
  int is_hrr; /* random equals the HelloRetryRequest magic */
  uint16_t legacy_version;
  const uint8_t *random;
  const uint8_t *session_id;
  size_t session_id_len;
  uint16_t suite;
  uint8_t compression;
  aq_tls_ext_list exts;
} aq_tls_sh;

/** One CertificateEntry (RFC 8446 §4.4.2): X.509 DER or a SubjectPublicKeyInfo. */
typedef struct aq_tls_cert_entry {
  const uint8_t *data;
  size_t len;
  const uint8_t *exts; /* raw extension block (content, without the length) */
  size_t extslen;
} aq_tls_cert_entry;

typedef struct aq_tls_cert_msg {
  const uint8_t *context;
  size_t context_len;
  aq_tls_cert_entry entry[AQ_TLS_MAX_CERT_ENTRIES];
  size_t n;
} aq_tls_cert_msg;

/** CertificateRequest (RFC 8446 §4.3.2). */
typedef struct aq_tls_cr {
  const uint8_t *context;
  size_t context_len;
  aq_tls_ext_list exts;
} aq_tls_cr;

/** CertificateVerify (RFC 8446 §4.4.3). */
typedef struct aq_tls_cv {
  uint16_t scheme;
  const uint8_t *sig;
  size_t siglen;
} aq_tls_cv;

/** NewSessionTicket (RFC 8446 §4.6.1). */
typedef struct aq_tls_nst {
  uint32_t lifetime;
  uint32_t age_add;
  const uint8_t *nonce;
  size_t nonce_len;
  const uint8_t *ticket;
  size_t ticket_len;
  aq_tls_ext_list exts;
} aq_tls_nst;

/** The 32-byte ServerHello.random that marks a HelloRetryRequest (RFC 8446 §4.1.3). */
extern const uint8_t aq_tls_hrr_random[AQ_TLS_RANDOM_LEN];

/**
 * Split one handshake message off r: *type, and *body with *bodylen.  Returns
 * AQ_ERR_TRUNCATED (r unmoved) when the message is not complete yet.
 */
AQ_MUST_CHECK int aq_tls_msg_split(aq_rbuf *r, uint8_t *type, const uint8_t **body,
                                   size_t *bodylen);

/** Decode an extension block (u16 length + extensions); duplicates -> AQ_ERR_MALFORMED. */
AQ_MUST_CHECK int aq_tls_ext_list_decode(aq_tls_ext_list *l, aq_rbuf *r);
/** The extension of the given type in l, or NULL. */
const aq_tls_ext_raw *aq_tls_ext_list_find(const aq_tls_ext_list *l, uint16_t type);

AQ_MUST_CHECK int aq_tls_ch_decode(aq_tls_ch *ch, const uint8_t *body, size_t len);
AQ_MUST_CHECK int aq_tls_sh_decode(aq_tls_sh *sh, const uint8_t *body, size_t len);
/** EncryptedExtensions: the extension list only. */
AQ_MUST_CHECK int aq_tls_ee_decode(aq_tls_ext_list *ee, const uint8_t *body, size_t len);
AQ_MUST_CHECK int aq_tls_cert_decode(aq_tls_cert_msg *c, const uint8_t *body, size_t len);
AQ_MUST_CHECK int aq_tls_cr_decode(aq_tls_cr *cr, const uint8_t *body, size_t len);
AQ_MUST_CHECK int aq_tls_cv_decode(aq_tls_cv *cv, const uint8_t *body, size_t len);
/** Finished: the body must be exactly hashlen bytes (else AQ_ERR_MALFORMED). */
AQ_MUST_CHECK int aq_tls_fin_decode(const uint8_t **verify_data, const uint8_t *body, size_t len,
                                    size_t hashlen);
AQ_MUST_CHECK int aq_tls_nst_decode(aq_tls_nst *nst, const uint8_t *body, size_t len);

/** Open a handshake message of type (header with a back-patched u24 length). */
void aq_tls_msg_begin(aq_wbuf *w, uint8_t type, aq_wbuf_mark *mark);
/** Close the message opened by aq_tls_msg_begin(). */
void aq_tls_msg_end(aq_wbuf *w, const aq_wbuf_mark *mark);

/**
 * ClientHello up to its extension block: legacy_version, random, empty
 * legacy_session_id (QUIC, RFC 9001 §8.4), the suites, null compression.
 * The caller appends the extension block and closes the message.
 */
void aq_tls_ch_encode_head(aq_wbuf *w, aq_wbuf_mark *mark, const uint8_t random[32],
                           const uint16_t *suites, size_t nsuites);
/** ServerHello/HRR up to its extension block (session id echoed). */
void aq_tls_sh_encode_head(aq_wbuf *w, aq_wbuf_mark *mark, const uint8_t random[32],
                           const uint8_t *session_id, size_t session_id_len, uint16_t suite);

/** Certificate message: one entry (data may be NULL for an empty list), no entry extensions. */
void aq_tls_cert_encode(aq_wbuf *w, const uint8_t *context, size_t context_len, const uint8_t *data,
                        size_t len);
void aq_tls_cv_encode(aq_wbuf *w, uint16_t scheme, const uint8_t *sig, size_t siglen);
void aq_tls_fin_encode(aq_wbuf *w, const uint8_t *verify_data, size_t len);
/** NewSessionTicket with an optional early_data extension (max_early_data != 0). */
void aq_tls_nst_encode(aq_wbuf *w, uint32_t lifetime, uint32_t age_add, const uint8_t *nonce,
                       size_t nonce_len, const uint8_t *ticket, size_t ticket_len,
                       uint32_t max_early_data);

/** The alert for a decoder error code. */
uint8_t aq_tls_msg_alert(int err);

#endif /* AQ_TLS_MSG_H */
