/*
 * aq_tp.h - QUIC transport parameters (RFC 9000 §7.4, §18), plus
 * max_datagram_frame_size (RFC 9221), version_information (RFC 9368),
 * address_discovery (draft-ietf-quic-address-discovery), nat_traversal
 * (draft-seemann-quic-nat-traversal-02) and the empty "draft frame layout"
 * flag 0x3d7e9f0bca12fea8; greasing (RFC 9000 §18.1) and a small table of
 * caller-registered extension parameters kept inside the struct (no
 * globals).
 *
 * Decoded connection IDs are copied; extension values point into the
 * decoded bytes (zero-copy) and are valid only as long as those are.
 * Every decode error maps to TRANSPORT_PARAMETER_ERROR:
 * aq_qerr_from_err(err, AQ_QERR_TRANSPORT_PARAMETER_ERROR).
 */
#ifndef AQ_TP_H
#define AQ_TP_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_buf.h"
#include "aq_pkt.h"
#include "aq_qerr.h"

/* Parameter ids. */
#define AQ_TP_ORIGINAL_DCID 0x00u
#define AQ_TP_MAX_IDLE_TIMEOUT 0x01u
#define AQ_TP_STATELESS_RESET_TOKEN 0x02u
#define AQ_TP_MAX_UDP_PAYLOAD_SIZE 0x03u
#define AQ_TP_INITIAL_MAX_DATA 0x04u
#define AQ_TP_INITIAL_MAX_STREAM_DATA_BIDI_LOCAL 0x05u
#define AQ_TP_INITIAL_MAX_STREAM_DATA_BIDI_REMOTE 0x06u
#define AQ_TP_INITIAL_MAX_STREAM_DATA_UNI 0x07u
#define AQ_TP_INITIAL_MAX_STREAMS_BIDI 0x08u
#define AQ_TP_INITIAL_MAX_STREAMS_UNI 0x09u
#define AQ_TP_ACK_DELAY_EXPONENT 0x0au
#define AQ_TP_MAX_ACK_DELAY 0x0bu
#define AQ_TP_DISABLE_ACTIVE_MIGRATION 0x0cu
#define AQ_TP_PREFERRED_ADDRESS 0x0du
#define AQ_TP_ACTIVE_CONNECTION_ID_LIMIT 0x0eu
#define AQ_TP_INITIAL_SCID 0x0fu
#define AQ_TP_RETRY_SCID 0x10u
#define AQ_TP_VERSION_INFORMATION 0x11u
#define AQ_TP_MAX_DATAGRAM_FRAME_SIZE 0x20u
#define AQ_TP_ADDRESS_DISCOVERY 0x9f81a176u
#define AQ_TP_NAT_TRAVERSAL 0x3d7e9f0bca12fea6ULL
#define AQ_TP_DRAFT_FRAME_LAYOUT 0x3d7e9f0bca12fea8ULL

/* Defaults (RFC 9000 §18.2). */
#define AQ_TP_DEFAULT_MAX_UDP_PAYLOAD_SIZE 65527u
#define AQ_TP_DEFAULT_ACK_DELAY_EXPONENT 3u
#define AQ_TP_DEFAULT_MAX_ACK_DELAY_MS 25u
#define AQ_TP_DEFAULT_ACTIVE_CID_LIMIT 2u
/* Limits. */
#define AQ_TP_MIN_UDP_PAYLOAD_SIZE 1200u
#define AQ_TP_MAX_ACK_DELAY_EXPONENT 20u
#define AQ_TP_MAX_MAX_ACK_DELAY_MS 16383u /* "values of 2^14 or greater are invalid" */

/** Most Available Versions kept from version_information. */
#define AQ_TP_MAX_VERSIONS 16
/** Size of the extension-parameter table inside aq_tp. */
#define AQ_TP_MAX_EXT 8

/** address_discovery values (draft-ietf-quic-address-discovery §3). */
#define AQ_TP_AD_PROVIDE_ONLY 0u /* willing to send observations, not interested */
#define AQ_TP_AD_RECEIVE_ONLY 1u /* interested, will not send */
#define AQ_TP_AD_BOTH 2u

/** Presence flags for parameters whose absence differs from a default value. */
#define AQ_TP_HAS_ORIGINAL_DCID 0x001u
#define AQ_TP_HAS_STATELESS_RESET_TOKEN 0x002u
#define AQ_TP_HAS_PREFERRED_ADDRESS 0x004u
#define AQ_TP_HAS_INITIAL_SCID 0x008u
#define AQ_TP_HAS_RETRY_SCID 0x010u
#define AQ_TP_HAS_VERSION_INFO 0x020u
#define AQ_TP_HAS_ADDRESS_DISCOVERY 0x040u
#define AQ_TP_HAS_NAT_TRAVERSAL 0x080u
#define AQ_TP_HAS_DRAFT_FRAME_LAYOUT 0x100u

/** Which endpoint sent (or will send) the parameters. */
typedef enum aq_tp_sender { AQ_TP_FROM_CLIENT = 0, AQ_TP_FROM_SERVER = 1 } aq_tp_sender;

/** preferred_address (RFC 9000 §18.2). */
typedef struct aq_tp_preferred_addr {
  uint8_t ipv4[4];
  uint16_t ipv4_port;
  uint8_t ipv6[16];
  uint16_t ipv6_port;
  aq_cid cid; /* 1..20 bytes */
  uint8_t reset_token[AQ_STATELESS_RESET_TOKEN_LEN];
} aq_tp_preferred_addr;

/** A caller-registered extension parameter. */
typedef struct aq_tp_ext {
  uint64_t id;
  uint8_t present;      /* set by decode (received) or aq_tp_ext_set (to send) */
  const uint8_t *value; /* decode: into the decoded bytes; set: the caller's buffer */
  size_t len;
} aq_tp_ext;

typedef struct aq_tp {
  uint32_t has; /* AQ_TP_HAS_* */
  aq_cid original_dcid;
  aq_cid initial_scid;
  aq_cid retry_scid;
  uint8_t stateless_reset_token[AQ_STATELESS_RESET_TOKEN_LEN];
  uint64_t max_idle_timeout_ms; /* 0 = none */
  uint64_t max_udp_payload_size;
  uint64_t initial_max_data;
  uint64_t initial_max_stream_data_bidi_local;
  uint64_t initial_max_stream_data_bidi_remote;
  uint64_t initial_max_stream_data_uni;
  uint64_t initial_max_streams_bidi;
  uint64_t initial_max_streams_uni;
  uint64_t ack_delay_exponent;
  uint64_t max_ack_delay_ms;
  uint8_t disable_active_migration;
  aq_tp_preferred_addr preferred_address;
  uint64_t active_connection_id_limit;
  uint64_t max_datagram_frame_size; /* 0 = DATAGRAM not supported */
  uint32_t chosen_version;          /* version_information */
  size_t navailable_versions;
  uint32_t available_versions[AQ_TP_MAX_VERSIONS];
  uint64_t address_discovery;   /* AQ_TP_AD_* when HAS_ADDRESS_DISCOVERY */
  uint64_t nat_traversal_limit; /* server's concurrency limit (> 0); the client sends it empty */
  size_t next;
  aq_tp_ext ext[AQ_TP_MAX_EXT];
} aq_tp;

/** Set every parameter to its RFC default (nothing present, no extensions). */
void aq_tp_default(aq_tp *tp);

/**
 * Register an extension parameter id so that aq_tp_decode() captures it.
 * Errors: AQ_ERR_INVALID_ARGUMENT (id built in, or >= 2^62),
 * AQ_ERR_LIMIT (table full).  Registering twice is a no-op.
 */
AQ_MUST_CHECK int aq_tp_ext_register(aq_tp *tp, uint64_t id);

/**
 * Register id (if needed) and give it a value to send.  value is kept by
 * pointer until encoding: the caller keeps it alive.  Errors as
 * aq_tp_ext_register().
 */
AQ_MUST_CHECK int aq_tp_ext_set(aq_tp *tp, uint64_t id, const uint8_t *value, size_t len);

/** A registered extension that is present, or NULL. */
const aq_tp_ext *aq_tp_ext_get(const aq_tp *tp, uint64_t id);

/**
 * Encode tp as the sender's quic_transport_parameters value, omitting
 * parameters equal to their defaults.  If greaselen >= 3, a reserved
 * parameter 31*N+27 is added (N from grease[0..1], value length
 * grease[2] % 16 bytes taken from grease[3..], bounded by what is there).
 * Errors: AQ_ERR_INVALID_ARGUMENT (a client with server-only parameters,
 * a value the decoder would reject), writer errors.
 */
AQ_MUST_CHECK int aq_tp_encode(aq_wbuf *w, const aq_tp *tp, aq_tp_sender sender,
                               const uint8_t *grease, size_t greaselen);

/**
 * Decode the parameters sent by sender into *tp.  The ids registered in
 * tp->ext are kept and captured; everything else is reset to defaults
 * first.  On error *tp is unchanged.  Unknown ids are ignored.  Errors
 * (all TRANSPORT_PARAMETER_ERROR): AQ_ERR_TRUNCATED, AQ_ERR_TRAILING_DATA
 * (a value longer than its content), AQ_ERR_MALFORMED (duplicate id,
 * server-only parameter from a client, bad lengths, missing
 * initial_source_connection_id or, from a server,
 * original_destination_connection_id), AQ_ERR_VALUE_RANGE (a value out of
 * its range).
 */
AQ_MUST_CHECK int aq_tp_decode(aq_tp *tp, const uint8_t *data, size_t datalen, aq_tp_sender sender);

#endif /* AQ_TP_H */
