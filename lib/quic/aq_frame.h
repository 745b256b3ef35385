/*
 * aq_frame.h - QUIC frames: every RFC 9000 §19 frame, RFC 9221 DATAGRAM,
 * OBSERVED_ADDRESS (draft-ietf-quic-address-discovery) and the NAT
 * traversal frames of draft-seemann-quic-nat-traversal-02; the frame /
 * packet-type permission table (RFC 9000 §12.4 Table 3, §12.5) and the
 * per-type classification (ack-eliciting, probing, in flight).
 *
 * Decoding is pure and zero-copy: data, token and reason fields point into
 * the packet payload being read and are valid only as long as it is.
 * Value rules that make a frame malformed are enforced by the decoder and
 * reported as codec errors; aq_qerr_from_err(err,
 * AQ_QERR_FRAME_ENCODING_ERROR) turns them into the transport error code.
 */
#ifndef AQ_FRAME_H
#define AQ_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_buf.h"
#include "aq_pkt.h"
#include "aq_qerr.h"

/* Frame types (RFC 9000 §19, Table 3; RFC 9221; extension drafts). */
#define AQ_FT_PADDING 0x00u
#define AQ_FT_PING 0x01u
#define AQ_FT_ACK 0x02u
#define AQ_FT_ACK_ECN 0x03u
#define AQ_FT_RESET_STREAM 0x04u
#define AQ_FT_STOP_SENDING 0x05u
#define AQ_FT_CRYPTO 0x06u
#define AQ_FT_NEW_TOKEN 0x07u
#define AQ_FT_STREAM 0x08u /* 0x08..0x0f: | OFF | LEN | FIN */
#define AQ_FT_STREAM_FIN 0x01u
#define AQ_FT_STREAM_LEN 0x02u
#define AQ_FT_STREAM_OFF 0x04u
#define AQ_FT_MAX_DATA 0x10u
#define AQ_FT_MAX_STREAM_DATA 0x11u
#define AQ_FT_MAX_STREAMS_BIDI 0x12u
#define AQ_FT_MAX_STREAMS_UNI 0x13u
#define AQ_FT_DATA_BLOCKED 0x14u
#define AQ_FT_STREAM_DATA_BLOCKED 0x15u
#define AQ_FT_STREAMS_BLOCKED_BIDI 0x16u
#define AQ_FT_STREAMS_BLOCKED_UNI 0x17u
#define AQ_FT_NEW_CONNECTION_ID 0x18u
#define AQ_FT_RETIRE_CONNECTION_ID 0x19u
#define AQ_FT_PATH_CHALLENGE 0x1au
#define AQ_FT_PATH_RESPONSE 0x1bu
#define AQ_FT_CONNECTION_CLOSE 0x1cu
#define AQ_FT_CONNECTION_CLOSE_APP 0x1du
#define AQ_FT_HANDSHAKE_DONE 0x1eu
#define AQ_FT_DATAGRAM 0x30u     /* RFC 9221: no Length, runs to the end */
#define AQ_FT_DATAGRAM_LEN 0x31u /* RFC 9221: with Length */
#define AQ_FT_OBSERVED_ADDRESS_V4 0x9f81a6u
#define AQ_FT_OBSERVED_ADDRESS_V6 0x9f81a7u
#define AQ_FT_ADD_ADDRESS_V4 0x3d7e90u
#define AQ_FT_ADD_ADDRESS_V6 0x3d7e91u
#define AQ_FT_PUNCH_ME_NOW_V4 0x3d7e92u
#define AQ_FT_PUNCH_ME_NOW_V6 0x3d7e93u
#define AQ_FT_REMOVE_ADDRESS 0x3d7e94u

/**
 * Most ACK ranges (after the First ACK Range) kept from one ACK frame.
 * Decoding an ACK with more ranges validates all of them but keeps only
 * the first AQ_MAX_ACK_RANGES (the ones with the highest packet numbers)
 * and sets ack.truncated; the older packets it acknowledges are then
 * simply not seen as acknowledged by this frame (safe: at worst they are
 * retransmitted).
 */
#define AQ_MAX_ACK_RANGES 64
/** Largest stream count in MAX_STREAMS / STREAMS_BLOCKED (RFC 9000 §19.11). */
#define AQ_MAX_STREAMS_LIMIT ((uint64_t)1 << 60)
/** Length of PATH_CHALLENGE / PATH_RESPONSE data. */
#define AQ_PATH_DATA_LEN 8

/** One additional ACK range, as on the wire (RFC 9000 §19.3.1). */
typedef struct aq_ack_range {
  uint64_t gap; /* unacknowledged packets before this range, minus 1 */
  uint64_t len; /* acknowledged packets in this range, minus 1 */
} aq_ack_range;

typedef struct aq_frame_ack {
  uint64_t largest;
  uint64_t ack_delay; /* raw, not yet scaled by ack_delay_exponent */
  uint64_t first_range;
  size_t nranges;          /* ranges kept in ranges[] */
  uint64_t wire_ranges;    /* ACK Range Count on the wire (>= nranges) */
  uint8_t truncated;       /* 1 if wire_ranges > AQ_MAX_ACK_RANGES */
  uint64_t smallest;       /* decoder: smallest PN acknowledged by the kept ranges */
  uint64_t ect0, ect1, ce; /* ACK_ECN only */
  aq_ack_range ranges[AQ_MAX_ACK_RANGES];
} aq_frame_ack;

typedef struct aq_frame_stream {
  uint64_t stream_id;
  uint64_t offset;
  const uint8_t *data;
  size_t datalen;
  uint8_t fin;
} aq_frame_stream;

typedef struct aq_frame_new_cid {
  uint64_t seq;
  uint64_t retire_prior_to;
  aq_cid cid;
  uint8_t reset_token[AQ_STATELESS_RESET_TOKEN_LEN];
} aq_frame_new_cid;

typedef struct aq_frame_close {
  uint64_t error_code;
  uint64_t frame_type; /* 0x1c only */
  const uint8_t *reason;
  size_t reasonlen;
} aq_frame_close;

/** OBSERVED_ADDRESS, ADD_ADDRESS, PUNCH_ME_NOW and REMOVE_ADDRESS. */
typedef struct aq_frame_addr {
  uint64_t seq;   /* Sequence Number; PUNCH_ME_NOW: Paired With Sequence Number */
  uint64_t round; /* PUNCH_ME_NOW: Round */
  aq_addr addr;   /* family picks the V4/V6 type on encode; unused by REMOVE_ADDRESS */
} aq_frame_addr;

/**
 * One decoded frame.  type is the exact wire type (e.g. 0x0e for STREAM
 * with OFF and LEN); the union member follows from it.
 */
typedef struct aq_frame {
  uint64_t type;
  union {
    struct {
      size_t len; /* consecutive PADDING bytes (the decoder folds a run into one frame) */
    } padding;
    aq_frame_ack ack;
    struct {
      uint64_t stream_id, app_error, final_size;
    } reset_stream;
    struct {
      uint64_t stream_id, app_error;
    } stop_sending;
    struct {
      uint64_t offset;
      const uint8_t *data;
      size_t datalen;
    } crypto;
    struct {
      const uint8_t *token;
      size_t tokenlen;
    } new_token;
    aq_frame_stream stream;
    struct {
      uint64_t max;
    } max_data; /* MAX_DATA, DATA_BLOCKED (limit) */
    struct {
      uint64_t stream_id, max;
    } max_stream_data; /* MAX_STREAM_DATA, STREAM_DATA_BLOCKED (limit) */
    struct {
      uint64_t max;
    } max_streams; /* MAX_STREAMS and STREAMS_BLOCKED, both directions */
    aq_frame_new_cid new_cid;
    struct {
      uint64_t seq;
    } retire_cid;
    struct {
      uint8_t data[AQ_PATH_DATA_LEN];
    } path; /* PATH_CHALLENGE, PATH_RESPONSE */
    aq_frame_close close;
    struct {
      const uint8_t *data;
      size_t datalen;
    } datagram;
    aq_frame_addr addr;
  } u;
} aq_frame;

/**
 * Decode one frame from r into *dst.  On success r has moved past the
 * frame.  On error r is unmoved and *dst is zeroed, except the ACK range
 * array: an ACK's ranges[] is valid up to nranges only, and entries past it
 * are left as they were (clearing 1 KiB per frame cost more than decoding).
 * Errors:
 *  - AQ_ERR_NON_MINIMAL: the frame type is not minimally encoded (§12.4);
 *  - AQ_ERR_UNSUPPORTED: unknown frame type (§12.4: FRAME_ENCODING_ERROR);
 *  - AQ_ERR_TRUNCATED: the frame runs past the end of r;
 *  - AQ_ERR_MALFORMED / AQ_ERR_VALUE_RANGE: a value rule is broken
 *    (offset + length > 2^62-1, MAX_STREAMS > 2^60, NEW_CONNECTION_ID
 *    length not 1..20 or retire_prior_to > seq, ACK ranges below 0,
 *    empty NEW_TOKEN).
 * All of them map to FRAME_ENCODING_ERROR; see aq_qerr_from_err().
 */
AQ_MUST_CHECK int aq_frame_decode(aq_frame *dst, aq_rbuf *r);

/**
 * Encode f.  STREAM: the OFF bit is set when offset != 0 or it is set in
 * f->type, LEN comes from f->type, FIN from u.stream.fin.  Frames without
 * a Length (STREAM without LEN, DATAGRAM 0x30) must be the last of their
 * packet.  Address frames take V4/V6 from u.addr.addr.family.
 * Errors: AQ_ERR_INVALID_ARGUMENT (unknown type, a value the decoder would
 * reject, bad address family), writer errors (AQ_ERR_BUFFER_TOO_SMALL,
 * AQ_ERR_VALUE_RANGE); on error the writer may hold a partial frame:
 * discard it (the sticky error tells).
 */
AQ_MUST_CHECK int aq_frame_encode(aq_wbuf *w, const aq_frame *f);

/** Bytes aq_frame_encode(f) would write, or 0 if it would fail. */
size_t aq_frame_encoded_len(const aq_frame *f);

/**
 * Encode f only if it fits entirely in what is left of w (packet building:
 * a frame that does not fit waits for the next packet).  Returns 1 if
 * written, 0 if not (w unchanged).
 */
int aq_frame_put(aq_wbuf *w, const aq_frame *f);

/* --------------------------------------------- permissions and classes */

/**
 * Non-zero if a and b carry the same frame: same type and the same values
 * for every field the encoder writes (byte strings compared by content;
 * the decoder-derived ACK fields smallest/wire_ranges/truncated are
 * ignored).
 */
int aq_frame_eq(const aq_frame *a, const aq_frame *b);

/**
 * Non-zero if a frame of this type may appear in a packet of pkt_type
 * (RFC 9000 §12.4 Table 3 and §12.5; RFC 9221 §4; the extension drafts
 * allow their frames in 0-RTT and 1-RTT only).  Unknown types: 0.
 * A frame in the wrong packet type is a PROTOCOL_VIOLATION.
 */
int aq_frame_allowed(uint64_t type, aq_pkt_type pkt_type);

#define AQ_FRAME_F_KNOWN 0x01u         /* a type this module decodes */
#define AQ_FRAME_F_ACK_ELICITING 0x02u /* RFC 9002 §2: all but ACK, PADDING, CONNECTION_CLOSE */
#define AQ_FRAME_F_PROBING 0x04u       /* RFC 9000 §9.1 (+ OBSERVED_ADDRESS, per its draft) */
#define AQ_FRAME_F_IN_FLIGHT 0x08u     /* counts toward bytes in flight (RFC 9002 §2) */

/** Classification flags (AQ_FRAME_F_*) of a frame type; 0 for unknown types. */
unsigned aq_frame_flags(uint64_t type);

#endif /* AQ_FRAME_H */
