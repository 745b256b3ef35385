/*
 * aq_qerr.h - QUIC transport error codes (RFC 9000 §20.1, RFC 9368 §10.2)
 * and the mapping from library AQ_ERR_* codes to them.
 */
#ifndef AQ_QERR_H
#define AQ_QERR_H

#include <stdint.h>

#include "antquic.h"

#define AQ_QERR_NO_ERROR 0x0u
#define AQ_QERR_INTERNAL_ERROR 0x1u
#define AQ_QERR_CONNECTION_REFUSED 0x2u
#define AQ_QERR_FLOW_CONTROL_ERROR 0x3u
#define AQ_QERR_STREAM_LIMIT_ERROR 0x4u
#define AQ_QERR_STREAM_STATE_ERROR 0x5u
#define AQ_QERR_FINAL_SIZE_ERROR 0x6u
#define AQ_QERR_FRAME_ENCODING_ERROR 0x7u
#define AQ_QERR_TRANSPORT_PARAMETER_ERROR 0x8u
#define AQ_QERR_CONNECTION_ID_LIMIT_ERROR 0x9u
#define AQ_QERR_PROTOCOL_VIOLATION 0xau
#define AQ_QERR_INVALID_TOKEN 0xbu
#define AQ_QERR_APPLICATION_ERROR 0xcu
#define AQ_QERR_CRYPTO_BUFFER_EXCEEDED 0xdu
#define AQ_QERR_KEY_UPDATE_ERROR 0xeu
#define AQ_QERR_AEAD_LIMIT_REACHED 0xfu
#define AQ_QERR_NO_VIABLE_PATH 0x10u
#define AQ_QERR_VERSION_NEGOTIATION_ERROR 0x11u /* RFC 9368 */
/* CRYPTO_ERROR range: 0x0100 + TLS alert (RFC 9000 §20.1, RFC 9001 §4.8). */
#define AQ_QERR_CRYPTO_BASE 0x100u
#define AQ_QERR_CRYPTO(alert) ((uint64_t)AQ_QERR_CRYPTO_BASE + (uint8_t)(alert))

/** The RFC name of a transport error code ("CRYPTO_ERROR" for the range, "unknown" otherwise). */
const char *aq_qerr_name(uint64_t code);

/**
 * The transport error code a connection closes with when a codec returned
 * err while decoding: frames → FRAME_ENCODING_ERROR, transport parameters
 * → TRANSPORT_PARAMETER_ERROR (pass the one of the two that applies as
 * codec_qerr); AQ_ERR_PROTO → PROTOCOL_VIOLATION; fatal codes →
 * INTERNAL_ERROR; 0 → NO_ERROR.
 */
uint64_t aq_qerr_from_err(int err, uint64_t codec_qerr);

#endif /* AQ_QERR_H */
