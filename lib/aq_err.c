/* aq_err.c - error strings. */
#include "antquic.h"

const char *aq_strerror(int err) {
  switch ((aq_error)err) {
  case AQ_OK: return "success";
  case AQ_ERR_INVALID_ARGUMENT: return "invalid argument";
  case AQ_ERR_BUFFER_TOO_SMALL: return "buffer too small";
  case AQ_ERR_TRUNCATED: return "input truncated";
  case AQ_ERR_MALFORMED: return "malformed input";
  case AQ_ERR_NON_MINIMAL: return "non-minimal variable-length integer";
  case AQ_ERR_TRAILING_DATA: return "trailing data in length-prefixed block";
  case AQ_ERR_VALUE_RANGE: return "value out of range";
  case AQ_ERR_UNSUPPORTED: return "unsupported";
  case AQ_ERR_CRYPTO: return "cryptographic operation failed";
  case AQ_ERR_DECRYPT: return "decryption failed";
  case AQ_ERR_VERIFY: return "verification failed";
  case AQ_ERR_NOT_FOUND: return "not found";
  case AQ_ERR_WOULD_BLOCK: return "would block";
  case AQ_ERR_STATE: return "invalid state";
  case AQ_ERR_PROTO: return "protocol violation by peer";
  case AQ_ERR_IO: return "I/O error";
  case AQ_ERR_CLOSED: return "closed";
  case AQ_ERR_LIMIT: return "limit reached";
  case AQ_ERR_TLS_ALERT: return "TLS alert";
  case AQ_ERR_TIMEOUT: return "timed out";
  case AQ_ERR_FLOW_CONTROL: return "flow control limit exceeded by peer";
  case AQ_ERR_FINAL_SIZE: return "stream final size violated by peer";
  case AQ_ERR_FATAL: return "fatal error";
  case AQ_ERR_NOMEM: return "out of memory";
  case AQ_ERR_CALLBACK_FAILURE: return "callback failure";
  case AQ_ERR_INTERNAL: return "internal error";
  default: return "unknown error";
  }
}

int aq_err_is_fatal(int err) { return err < AQ_ERR_FATAL; }
