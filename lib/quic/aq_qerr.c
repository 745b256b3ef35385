/* aq_qerr.c - QUIC transport error code names and mapping (RFC 9000 §20.1). */
#include "aq_qerr.h"

const char *aq_qerr_name(uint64_t code) {
  static const char *const names[] = {
      "NO_ERROR",
      "INTERNAL_ERROR",
      "CONNECTION_REFUSED",
      "FLOW_CONTROL_ERROR",
      "STREAM_LIMIT_ERROR",
      "STREAM_STATE_ERROR",
      "FINAL_SIZE_ERROR",
      "FRAME_ENCODING_ERROR",
      "TRANSPORT_PARAMETER_ERROR",
      "CONNECTION_ID_LIMIT_ERROR",
      "PROTOCOL_VIOLATION",
      "INVALID_TOKEN",
      "APPLICATION_ERROR",
      "CRYPTO_BUFFER_EXCEEDED",
      "KEY_UPDATE_ERROR",
      "AEAD_LIMIT_REACHED",
      "NO_VIABLE_PATH",
      "VERSION_NEGOTIATION_ERROR",
  };
  if (code < sizeof(names) / sizeof(names[0])) {
    return names[code];
  }
  if (code >= AQ_QERR_CRYPTO_BASE && code <= AQ_QERR_CRYPTO_BASE + 0xffu) {
    return "CRYPTO_ERROR";
  }
  return "unknown";
}

uint64_t aq_qerr_from_err(int err, uint64_t codec_qerr) {
  if (err == 0) {
    return AQ_QERR_NO_ERROR;
  }
  if (err < AQ_ERR_FATAL) {
    return AQ_QERR_INTERNAL_ERROR;
  }
  switch (err) {
  case AQ_ERR_PROTO: return AQ_QERR_PROTOCOL_VIOLATION;
  case AQ_ERR_TRUNCATED:
  case AQ_ERR_MALFORMED:
  case AQ_ERR_NON_MINIMAL:
  case AQ_ERR_TRAILING_DATA:
  case AQ_ERR_VALUE_RANGE:
  case AQ_ERR_UNSUPPORTED: return codec_qerr;
  default: return AQ_QERR_INTERNAL_ERROR;
  }
}
