/*
 * aq_frame.c - QUIC frame codec (RFC 9000 §19, RFC 9221, address discovery
 * and NAT traversal drafts), encoder and decoder side by side, plus the
 * permission table (RFC 9000 §12.4 Table 3) and classification.
 *
 * Each decode_x() reads the fields after the type from r; on error the
 * caller restores r (aq_frame_decode() keeps a copy), so helpers may stop
 * half way.  Each encode_x() writes the fields after the type.
 */
#include "aq_frame.h"

#include <stddef.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

static int read_varint(aq_rbuf *r, uint64_t *v) {
  return aq_rbuf_varint(r, v);
}

/* Length-prefixed bytes whose length must fit what is left (zero-copy). */
static int read_lenbytes(aq_rbuf *r, const uint8_t **p, size_t *len) {
  uint64_t n;
  int rv = aq_rbuf_varint(r, &n);
  if (rv != 0) {
    return rv;
  }
  if (n > aq_rbuf_left(r)) {
    return AQ_ERR_TRUNCATED;
  }
  *len = (size_t)n;
  return aq_rbuf_bytes(r, (size_t)n, p);
}

static int is_stream_type(uint64_t t) {
  return t >= 0x08 && t <= 0x0f;
}

/* The IP of an address frame: 4 or 16 bytes from the type's low bit. */
static int read_addr(aq_rbuf *r, int v6, aq_addr *a) {
  uint16_t port;
  int rv;
  memset(a, 0, sizeof(*a));
  a->family = v6 ? AQ_AF_INET6 : AQ_AF_INET;
  rv = aq_rbuf_copy(r, a->ip, v6 ? 16u : 4u);
  if (rv != 0) {
    return rv;
  }
  rv = aq_rbuf_u16(r, &port);
  if (rv != 0) {
    return rv;
  }
  a->port = port;
  return 0;
}

static void write_addr(aq_wbuf *w, const aq_addr *a) {
  aq_wbuf_bytes(w, a->ip, a->family == AQ_AF_INET6 ? 16u : 4u);
  aq_wbuf_u16(w, a->port);
}

/* ----------------------------------------------------------------- ACK */

/*
 * RFC 9000 §19.3.1: each range's largest is the previous smallest minus
 * Gap minus 2, its smallest that largest minus ACK Range Length.  A
 * negative packet number is a FRAME_ENCODING_ERROR.
 */
static int decode_ack(aq_frame_ack *a, aq_rbuf *r, int ecn) {
  uint64_t count, smallest;
  int rv;
  if ((rv = read_varint(r, &a->largest)) != 0 || (rv = read_varint(r, &a->ack_delay)) != 0 ||
      (rv = read_varint(r, &count)) != 0 || (rv = read_varint(r, &a->first_range)) != 0) {
    return rv;
  }
  if (a->first_range > a->largest) {
    return AQ_ERR_MALFORMED;
  }
  smallest = a->largest - a->first_range;
  a->wire_ranges = count;
  a->nranges = 0;
  a->truncated = 0;
  /* Each range takes at least 2 bytes: a cheap bound before looping. */
  if (count > aq_rbuf_left(r) / 2) {
    return AQ_ERR_TRUNCATED;
  }
  for (uint64_t i = 0; i < count; i++) {
    uint64_t gap, len, largest;
    if ((rv = read_varint(r, &gap)) != 0 || (rv = read_varint(r, &len)) != 0) {
      return rv;
    }
    if (smallest < 2 || gap > smallest - 2) {
      return AQ_ERR_MALFORMED;
    }
    largest = smallest - gap - 2;
    if (len > largest) {
      return AQ_ERR_MALFORMED;
    }
    if (a->nranges < AQ_MAX_ACK_RANGES) {
      a->ranges[a->nranges].gap = gap;
      a->ranges[a->nranges].len = len;
      a->nranges++;
      a->smallest = largest - len;
    } else {
      a->truncated = 1;
    }
    smallest = largest - len;
  }
  if (a->nranges == 0) {
    a->smallest = a->largest - a->first_range;
  }
  if (ecn) {
    if ((rv = read_varint(r, &a->ect0)) != 0 || (rv = read_varint(r, &a->ect1)) != 0 ||
        (rv = read_varint(r, &a->ce)) != 0) {
      return rv;
    }
  }
  return 0;
}

static int check_ack(const aq_frame_ack *a) {
  uint64_t smallest;
  if (a->nranges > AQ_MAX_ACK_RANGES || a->first_range > a->largest) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  smallest = a->largest - a->first_range;
  for (size_t i = 0; i < a->nranges; i++) {
    uint64_t largest;
    if (smallest < 2 || a->ranges[i].gap > smallest - 2) {
      return AQ_ERR_INVALID_ARGUMENT;
    }
    largest = smallest - a->ranges[i].gap - 2;
    if (a->ranges[i].len > largest) {
      return AQ_ERR_INVALID_ARGUMENT;
    }
    smallest = largest - a->ranges[i].len;
  }
  return 0;
}

static void encode_ack(aq_wbuf *w, const aq_frame_ack *a, int ecn) {
  aq_wbuf_varint(w, a->largest);
  aq_wbuf_varint(w, a->ack_delay);
  aq_wbuf_varint(w, a->nranges);
  aq_wbuf_varint(w, a->first_range);
  for (size_t i = 0; i < a->nranges; i++) {
    aq_wbuf_varint(w, a->ranges[i].gap);
    aq_wbuf_varint(w, a->ranges[i].len);
  }
  if (ecn) {
    aq_wbuf_varint(w, a->ect0);
    aq_wbuf_varint(w, a->ect1);
    aq_wbuf_varint(w, a->ce);
  }
}

/* -------------------------------------------------------------- decode */

/* Fields after the type.  t is the (minimal) wire type. */
static int decode_body(aq_frame *f, uint64_t t, aq_rbuf *r) {
  int rv;
  switch (t) {
  case AQ_FT_PADDING: {
    /* Fold a run of PADDING into one frame (the type byte was read). */
    size_t n = 1;
    while (aq_rbuf_left(r) > 0 && r->p[0] == 0x00) {
      if (aq_rbuf_skip(r, 1) != 0) {
        break;
      }
      n++;
    }
    f->u.padding.len = n;
    return 0;
  }
  case AQ_FT_PING:
  case AQ_FT_HANDSHAKE_DONE: return 0;
  case AQ_FT_ACK:
  case AQ_FT_ACK_ECN: return decode_ack(&f->u.ack, r, t == AQ_FT_ACK_ECN);
  case AQ_FT_RESET_STREAM:
    if ((rv = read_varint(r, &f->u.reset_stream.stream_id)) != 0 ||
        (rv = read_varint(r, &f->u.reset_stream.app_error)) != 0) {
      return rv;
    }
    return read_varint(r, &f->u.reset_stream.final_size);
  case AQ_FT_STOP_SENDING:
    if ((rv = read_varint(r, &f->u.stop_sending.stream_id)) != 0) {
      return rv;
    }
    return read_varint(r, &f->u.stop_sending.app_error);
  case AQ_FT_CRYPTO:
    if ((rv = read_varint(r, &f->u.crypto.offset)) != 0 ||
        (rv = read_lenbytes(r, &f->u.crypto.data, &f->u.crypto.datalen)) != 0) {
      return rv;
    }
    /* RFC 9000 §19.6: offset + length must not exceed 2^62-1. */
    if (f->u.crypto.datalen > AQ_VARINT_MAX - f->u.crypto.offset) {
      return AQ_ERR_VALUE_RANGE;
    }
    return 0;
  case AQ_FT_NEW_TOKEN:
    if ((rv = read_lenbytes(r, &f->u.new_token.token, &f->u.new_token.tokenlen)) != 0) {
      return rv;
    }
    /* RFC 9000 §19.7: "A client MUST treat receipt of a NEW_TOKEN frame
     * with an empty Token field as a connection error of type
     * FRAME_ENCODING_ERROR." */
    return f->u.new_token.tokenlen == 0 ? AQ_ERR_MALFORMED : 0;
  case AQ_FT_MAX_DATA:
  case AQ_FT_DATA_BLOCKED: return read_varint(r, &f->u.max_data.max);
  case AQ_FT_MAX_STREAM_DATA:
  case AQ_FT_STREAM_DATA_BLOCKED:
    if ((rv = read_varint(r, &f->u.max_stream_data.stream_id)) != 0) {
      return rv;
    }
    return read_varint(r, &f->u.max_stream_data.max);
  case AQ_FT_MAX_STREAMS_BIDI:
  case AQ_FT_MAX_STREAMS_UNI:
  case AQ_FT_STREAMS_BLOCKED_BIDI:
  case AQ_FT_STREAMS_BLOCKED_UNI:
    if ((rv = read_varint(r, &f->u.max_streams.max)) != 0) {
      return rv;
    }
    /* RFC 9000 §19.11/§19.14: a count above 2^60 is an encoding error. */
    return f->u.max_streams.max > AQ_MAX_STREAMS_LIMIT ? AQ_ERR_VALUE_RANGE : 0;
  case AQ_FT_NEW_CONNECTION_ID: {
    aq_frame_new_cid *nc = &f->u.new_cid;
    uint8_t len;
    if ((rv = read_varint(r, &nc->seq)) != 0 || (rv = read_varint(r, &nc->retire_prior_to)) != 0 ||
        (rv = aq_rbuf_u8(r, &len)) != 0) {
      return rv;
    }
    /* RFC 9000 §19.15: "Values less than 1 and greater than 20 are invalid
     * and MUST be treated as a connection error of type
     * FRAME_ENCODING_ERROR"; so is Retire Prior To > Sequence Number. */
    if (len < 1 || len > AQ_MAX_CIDLEN || nc->retire_prior_to > nc->seq) {
      return AQ_ERR_MALFORMED;
    }
    nc->cid.len = len;
    if ((rv = aq_rbuf_copy(r, nc->cid.data, len)) != 0) {
      return rv;
    }
    return aq_rbuf_copy(r, nc->reset_token, AQ_STATELESS_RESET_TOKEN_LEN);
  }
  case AQ_FT_RETIRE_CONNECTION_ID: return read_varint(r, &f->u.retire_cid.seq);
  case AQ_FT_PATH_CHALLENGE:
  case AQ_FT_PATH_RESPONSE: return aq_rbuf_copy(r, f->u.path.data, AQ_PATH_DATA_LEN);
  case AQ_FT_CONNECTION_CLOSE:
  case AQ_FT_CONNECTION_CLOSE_APP:
    if ((rv = read_varint(r, &f->u.close.error_code)) != 0) {
      return rv;
    }
    if (t == AQ_FT_CONNECTION_CLOSE && (rv = read_varint(r, &f->u.close.frame_type)) != 0) {
      return rv;
    }
    return read_lenbytes(r, &f->u.close.reason, &f->u.close.reasonlen);
  case AQ_FT_DATAGRAM: aq_rbuf_rest(r, &f->u.datagram.data, &f->u.datagram.datalen); return 0;
  case AQ_FT_DATAGRAM_LEN: return read_lenbytes(r, &f->u.datagram.data, &f->u.datagram.datalen);
  case AQ_FT_OBSERVED_ADDRESS_V4:
  case AQ_FT_OBSERVED_ADDRESS_V6:
  case AQ_FT_ADD_ADDRESS_V4:
  case AQ_FT_ADD_ADDRESS_V6:
    if ((rv = read_varint(r, &f->u.addr.seq)) != 0) {
      return rv;
    }
    return read_addr(r, (int)(t & 1u), &f->u.addr.addr);
  case AQ_FT_PUNCH_ME_NOW_V4:
  case AQ_FT_PUNCH_ME_NOW_V6:
    if ((rv = read_varint(r, &f->u.addr.round)) != 0 ||
        (rv = read_varint(r, &f->u.addr.seq)) != 0) {
      return rv;
    }
    return read_addr(r, (int)(t & 1u), &f->u.addr.addr);
  case AQ_FT_REMOVE_ADDRESS: return read_varint(r, &f->u.addr.seq);
  default: break;
  }
  if (is_stream_type(t)) {
    aq_frame_stream *s = &f->u.stream;
    if ((rv = read_varint(r, &s->stream_id)) != 0) {
      return rv;
    }
    if ((t & AQ_FT_STREAM_OFF) && (rv = read_varint(r, &s->offset)) != 0) {
      return rv;
    }
    if (t & AQ_FT_STREAM_LEN) {
      if ((rv = read_lenbytes(r, &s->data, &s->datalen)) != 0) {
        return rv;
      }
    } else {
      aq_rbuf_rest(r, &s->data, &s->datalen);
    }
    s->fin = (uint8_t)(t & AQ_FT_STREAM_FIN);
    /* RFC 9000 §19.8: "The largest offset delivered on a stream -- the sum
     * of the offset and data length -- cannot exceed 2^62-1"; a frame that
     * exceeds it is a FRAME_ENCODING_ERROR. */
    if (s->datalen > AQ_VARINT_MAX - s->offset) {
      return AQ_ERR_VALUE_RANGE;
    }
    return 0;
  }
  /* RFC 9000 §12.4: "An endpoint MUST treat the receipt of a frame of
   * unknown type as a connection error of type FRAME_ENCODING_ERROR." */
  return AQ_ERR_UNSUPPORTED;
}

/*
 * What aq_frame_decode clears: the type and the union up to the ACK ranges,
 * not the 1 KiB of ranges themselves (only ranges[0..nranges) of an ACK is
 * ever read, and the ACK decoder writes those).  Clearing the whole frame
 * cost more than decoding most frames.  Every other member fits in front.
 */
#define FRAME_CLEAR_LEN (offsetof(aq_frame, u) + offsetof(aq_frame_ack, ranges))
_Static_assert(sizeof(aq_frame_stream) <= offsetof(aq_frame_ack, ranges), "stream fits");
_Static_assert(sizeof(aq_frame_new_cid) <= offsetof(aq_frame_ack, ranges), "new_cid fits");
_Static_assert(sizeof(aq_frame_close) <= offsetof(aq_frame_ack, ranges), "close fits");
_Static_assert(sizeof(aq_frame_addr) <= offsetof(aq_frame_ack, ranges), "addr fits");

int aq_frame_decode(aq_frame *dst, aq_rbuf *r) {
  aq_rbuf save = *r;
  uint64_t t;
  int rv;

  memset(dst, 0, FRAME_CLEAR_LEN);
  /* RFC 9000 §12.4: "the frame type MUST use the shortest possible
   * encoding" (a longer one is a FRAME_ENCODING_ERROR). */
  rv = aq_rbuf_varint_minimal(r, &t);
  if (rv != 0) {
    return rv;
  }
  dst->type = t;
  rv = decode_body(dst, t, r);
  if (rv != 0) {
    *r = save;
    memset(dst, 0, FRAME_CLEAR_LEN);
    return rv;
  }
  return 0;
}

/* -------------------------------------------------------------- encode */

/* The exact wire type f encodes with, or UINT64_MAX if f cannot be sent. */
static uint64_t wire_type(const aq_frame *f) {
  uint64_t t = f->type;
  if (is_stream_type(t)) {
    uint64_t w = AQ_FT_STREAM | (t & AQ_FT_STREAM_LEN);
    if ((t & AQ_FT_STREAM_OFF) || f->u.stream.offset != 0) {
      w |= AQ_FT_STREAM_OFF;
    }
    if (f->u.stream.fin) {
      w |= AQ_FT_STREAM_FIN;
    }
    return w;
  }
  switch (t) {
  case AQ_FT_OBSERVED_ADDRESS_V4:
  case AQ_FT_OBSERVED_ADDRESS_V6:
  case AQ_FT_ADD_ADDRESS_V4:
  case AQ_FT_ADD_ADDRESS_V6:
  case AQ_FT_PUNCH_ME_NOW_V4:
  case AQ_FT_PUNCH_ME_NOW_V6:
    if (f->u.addr.addr.family == AQ_AF_INET) {
      return t & ~(uint64_t)1;
    }
    if (f->u.addr.addr.family == AQ_AF_INET6) {
      return t | 1u;
    }
    return UINT64_MAX;
  default: return (aq_frame_flags(t) & AQ_FRAME_F_KNOWN) ? t : UINT64_MAX;
  }
}

/* Value checks mirroring the decoder, so we never send what we'd reject. */
static int check_frame(const aq_frame *f, uint64_t t) {
  switch (t) {
  case AQ_FT_PADDING: return f->u.padding.len >= 1 ? 0 : AQ_ERR_INVALID_ARGUMENT;
  case AQ_FT_ACK:
  case AQ_FT_ACK_ECN: return check_ack(&f->u.ack);
  case AQ_FT_CRYPTO:
    return f->u.crypto.offset <= AQ_VARINT_MAX &&
                   f->u.crypto.datalen <= AQ_VARINT_MAX - f->u.crypto.offset
               ? 0
               : AQ_ERR_INVALID_ARGUMENT;
  case AQ_FT_NEW_TOKEN: return f->u.new_token.tokenlen > 0 ? 0 : AQ_ERR_INVALID_ARGUMENT;
  case AQ_FT_MAX_STREAMS_BIDI:
  case AQ_FT_MAX_STREAMS_UNI:
  case AQ_FT_STREAMS_BLOCKED_BIDI:
  case AQ_FT_STREAMS_BLOCKED_UNI:
    return f->u.max_streams.max <= AQ_MAX_STREAMS_LIMIT ? 0 : AQ_ERR_INVALID_ARGUMENT;
  case AQ_FT_NEW_CONNECTION_ID:
    return f->u.new_cid.cid.len >= 1 && f->u.new_cid.cid.len <= AQ_MAX_CIDLEN &&
                   f->u.new_cid.retire_prior_to <= f->u.new_cid.seq
               ? 0
               : AQ_ERR_INVALID_ARGUMENT;
  default: break;
  }
  if (is_stream_type(t)) {
    return f->u.stream.offset <= AQ_VARINT_MAX &&
                   f->u.stream.datalen <= AQ_VARINT_MAX - f->u.stream.offset
               ? 0
               : AQ_ERR_INVALID_ARGUMENT;
  }
  return 0;
}

static void encode_body(aq_wbuf *w, const aq_frame *f, uint64_t t) {
  switch (t) {
  case AQ_FT_PADDING:
    /* The type byte is the first zero. */
    aq_wbuf_zeros(w, f->u.padding.len - 1);
    return;
  case AQ_FT_PING:
  case AQ_FT_HANDSHAKE_DONE: return;
  case AQ_FT_ACK:
  case AQ_FT_ACK_ECN: encode_ack(w, &f->u.ack, t == AQ_FT_ACK_ECN); return;
  case AQ_FT_RESET_STREAM:
    aq_wbuf_varint(w, f->u.reset_stream.stream_id);
    aq_wbuf_varint(w, f->u.reset_stream.app_error);
    aq_wbuf_varint(w, f->u.reset_stream.final_size);
    return;
  case AQ_FT_STOP_SENDING:
    aq_wbuf_varint(w, f->u.stop_sending.stream_id);
    aq_wbuf_varint(w, f->u.stop_sending.app_error);
    return;
  case AQ_FT_CRYPTO:
    aq_wbuf_varint(w, f->u.crypto.offset);
    aq_wbuf_varint(w, f->u.crypto.datalen);
    aq_wbuf_bytes(w, f->u.crypto.data, f->u.crypto.datalen);
    return;
  case AQ_FT_NEW_TOKEN:
    aq_wbuf_varint(w, f->u.new_token.tokenlen);
    aq_wbuf_bytes(w, f->u.new_token.token, f->u.new_token.tokenlen);
    return;
  case AQ_FT_MAX_DATA:
  case AQ_FT_DATA_BLOCKED: aq_wbuf_varint(w, f->u.max_data.max); return;
  case AQ_FT_MAX_STREAM_DATA:
  case AQ_FT_STREAM_DATA_BLOCKED:
    aq_wbuf_varint(w, f->u.max_stream_data.stream_id);
    aq_wbuf_varint(w, f->u.max_stream_data.max);
    return;
  case AQ_FT_MAX_STREAMS_BIDI:
  case AQ_FT_MAX_STREAMS_UNI:
  case AQ_FT_STREAMS_BLOCKED_BIDI:
  case AQ_FT_STREAMS_BLOCKED_UNI: aq_wbuf_varint(w, f->u.max_streams.max); return;
  case AQ_FT_NEW_CONNECTION_ID:
    aq_wbuf_varint(w, f->u.new_cid.seq);
    aq_wbuf_varint(w, f->u.new_cid.retire_prior_to);
    aq_wbuf_u8(w, f->u.new_cid.cid.len);
    aq_wbuf_bytes(w, f->u.new_cid.cid.data, f->u.new_cid.cid.len);
    aq_wbuf_bytes(w, f->u.new_cid.reset_token, AQ_STATELESS_RESET_TOKEN_LEN);
    return;
  case AQ_FT_RETIRE_CONNECTION_ID: aq_wbuf_varint(w, f->u.retire_cid.seq); return;
  case AQ_FT_PATH_CHALLENGE:
  case AQ_FT_PATH_RESPONSE: aq_wbuf_bytes(w, f->u.path.data, AQ_PATH_DATA_LEN); return;
  case AQ_FT_CONNECTION_CLOSE:
  case AQ_FT_CONNECTION_CLOSE_APP:
    aq_wbuf_varint(w, f->u.close.error_code);
    if (t == AQ_FT_CONNECTION_CLOSE) {
      aq_wbuf_varint(w, f->u.close.frame_type);
    }
    aq_wbuf_varint(w, f->u.close.reasonlen);
    aq_wbuf_bytes(w, f->u.close.reason, f->u.close.reasonlen);
    return;
  case AQ_FT_DATAGRAM: aq_wbuf_bytes(w, f->u.datagram.data, f->u.datagram.datalen); return;
  case AQ_FT_DATAGRAM_LEN:
    aq_wbuf_varint(w, f->u.datagram.datalen);
    aq_wbuf_bytes(w, f->u.datagram.data, f->u.datagram.datalen);
    return;
  case AQ_FT_OBSERVED_ADDRESS_V4:
  case AQ_FT_OBSERVED_ADDRESS_V6:
  case AQ_FT_ADD_ADDRESS_V4:
  case AQ_FT_ADD_ADDRESS_V6:
    aq_wbuf_varint(w, f->u.addr.seq);
    write_addr(w, &f->u.addr.addr);
    return;
  case AQ_FT_PUNCH_ME_NOW_V4:
  case AQ_FT_PUNCH_ME_NOW_V6:
    aq_wbuf_varint(w, f->u.addr.round);
    aq_wbuf_varint(w, f->u.addr.seq);
    write_addr(w, &f->u.addr.addr);
    return;
  case AQ_FT_REMOVE_ADDRESS: aq_wbuf_varint(w, f->u.addr.seq); return;
  default: break;
  }
  if (is_stream_type(t)) {
    aq_wbuf_varint(w, f->u.stream.stream_id);
    if (t & AQ_FT_STREAM_OFF) {
      aq_wbuf_varint(w, f->u.stream.offset);
    }
    if (t & AQ_FT_STREAM_LEN) {
      aq_wbuf_varint(w, f->u.stream.datalen);
    }
    aq_wbuf_bytes(w, f->u.stream.data, f->u.stream.datalen);
  }
}

int aq_frame_encode(aq_wbuf *w, const aq_frame *f) {
  uint64_t t = wire_type(f);
  int rv;
  if (t == UINT64_MAX) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  rv = check_frame(f, t);
  if (rv != 0) {
    return rv;
  }
  aq_wbuf_varint(w, t);
  encode_body(w, f, t);
  return aq_wbuf_error(w);
}

/* Varint length, counting oversize values as failures. */
static size_t vlen(uint64_t v, int *bad) {
  size_t n = aq_varint_len(v);
  if (n == 0) {
    *bad = 1;
  }
  return n;
}

static size_t addr_len(const aq_addr *a) {
  return (a->family == AQ_AF_INET6 ? 16u : 4u) + 2u;
}

size_t aq_frame_encoded_len(const aq_frame *f) {
  uint64_t t = wire_type(f);
  int bad = 0;
  size_t n;
  if (t == UINT64_MAX || check_frame(f, t) != 0) {
    return 0;
  }
  n = aq_varint_len(t);
  switch (t) {
  case AQ_FT_PADDING: return f->u.padding.len;
  case AQ_FT_PING:
  case AQ_FT_HANDSHAKE_DONE: break;
  case AQ_FT_ACK:
  case AQ_FT_ACK_ECN: {
    const aq_frame_ack *a = &f->u.ack;
    n += vlen(a->largest, &bad) + vlen(a->ack_delay, &bad) + vlen(a->nranges, &bad) +
         vlen(a->first_range, &bad);
    for (size_t i = 0; i < a->nranges; i++) {
      n += vlen(a->ranges[i].gap, &bad) + vlen(a->ranges[i].len, &bad);
    }
    if (t == AQ_FT_ACK_ECN) {
      n += vlen(a->ect0, &bad) + vlen(a->ect1, &bad) + vlen(a->ce, &bad);
    }
    break;
  }
  case AQ_FT_RESET_STREAM:
    n += vlen(f->u.reset_stream.stream_id, &bad) + vlen(f->u.reset_stream.app_error, &bad) +
         vlen(f->u.reset_stream.final_size, &bad);
    break;
  case AQ_FT_STOP_SENDING:
    n += vlen(f->u.stop_sending.stream_id, &bad) + vlen(f->u.stop_sending.app_error, &bad);
    break;
  case AQ_FT_CRYPTO:
    n += vlen(f->u.crypto.offset, &bad) + vlen(f->u.crypto.datalen, &bad) + f->u.crypto.datalen;
    break;
  case AQ_FT_NEW_TOKEN: n += vlen(f->u.new_token.tokenlen, &bad) + f->u.new_token.tokenlen; break;
  case AQ_FT_MAX_DATA:
  case AQ_FT_DATA_BLOCKED: n += vlen(f->u.max_data.max, &bad); break;
  case AQ_FT_MAX_STREAM_DATA:
  case AQ_FT_STREAM_DATA_BLOCKED:
    n += vlen(f->u.max_stream_data.stream_id, &bad) + vlen(f->u.max_stream_data.max, &bad);
    break;
  case AQ_FT_MAX_STREAMS_BIDI:
  case AQ_FT_MAX_STREAMS_UNI:
  case AQ_FT_STREAMS_BLOCKED_BIDI:
  case AQ_FT_STREAMS_BLOCKED_UNI: n += vlen(f->u.max_streams.max, &bad); break;
  case AQ_FT_NEW_CONNECTION_ID:
    n += vlen(f->u.new_cid.seq, &bad) + vlen(f->u.new_cid.retire_prior_to, &bad) + 1 +
         f->u.new_cid.cid.len + AQ_STATELESS_RESET_TOKEN_LEN;
    break;
  case AQ_FT_RETIRE_CONNECTION_ID: n += vlen(f->u.retire_cid.seq, &bad); break;
  case AQ_FT_PATH_CHALLENGE:
  case AQ_FT_PATH_RESPONSE: n += AQ_PATH_DATA_LEN; break;
  case AQ_FT_CONNECTION_CLOSE:
  case AQ_FT_CONNECTION_CLOSE_APP:
    n +=
        vlen(f->u.close.error_code, &bad) + vlen(f->u.close.reasonlen, &bad) + f->u.close.reasonlen;
    if (t == AQ_FT_CONNECTION_CLOSE) {
      n += vlen(f->u.close.frame_type, &bad);
    }
    break;
  case AQ_FT_DATAGRAM: n += f->u.datagram.datalen; break;
  case AQ_FT_DATAGRAM_LEN: n += vlen(f->u.datagram.datalen, &bad) + f->u.datagram.datalen; break;
  case AQ_FT_OBSERVED_ADDRESS_V4:
  case AQ_FT_OBSERVED_ADDRESS_V6:
  case AQ_FT_ADD_ADDRESS_V4:
  case AQ_FT_ADD_ADDRESS_V6: n += vlen(f->u.addr.seq, &bad) + addr_len(&f->u.addr.addr); break;
  case AQ_FT_PUNCH_ME_NOW_V4:
  case AQ_FT_PUNCH_ME_NOW_V6:
    n += vlen(f->u.addr.round, &bad) + vlen(f->u.addr.seq, &bad) + addr_len(&f->u.addr.addr);
    break;
  case AQ_FT_REMOVE_ADDRESS: n += vlen(f->u.addr.seq, &bad); break;
  default:
    if (!is_stream_type(t)) {
      return 0;
    }
    n += vlen(f->u.stream.stream_id, &bad) + f->u.stream.datalen;
    if (t & AQ_FT_STREAM_OFF) {
      n += vlen(f->u.stream.offset, &bad);
    }
    if (t & AQ_FT_STREAM_LEN) {
      n += vlen(f->u.stream.datalen, &bad);
    }
    break;
  }
  return bad ? 0 : n;
}

int aq_frame_put(aq_wbuf *w, const aq_frame *f) {
  size_t n = aq_frame_encoded_len(f);
  if (n == 0 || n > aq_wbuf_left(w)) {
    return 0;
  }
  return aq_frame_encode(w, f) == 0;
}

/* ---------------------------------------------------------- equality */

static int bytes_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
  return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static int addr_eq(const aq_addr *a, const aq_addr *b) {
  size_t iplen = a->family == AQ_AF_INET6 ? 16u : 4u;
  return a->family == b->family && a->port == b->port && memcmp(a->ip, b->ip, iplen) == 0;
}

int aq_frame_eq(const aq_frame *a, const aq_frame *b) {
  uint64_t t = a->type;
  if (t != b->type) {
    return 0;
  }
  if (is_stream_type(t)) {
    const aq_frame_stream *x = &a->u.stream, *y = &b->u.stream;
    return x->stream_id == y->stream_id && x->offset == y->offset && x->fin == y->fin &&
           bytes_eq(x->data, x->datalen, y->data, y->datalen);
  }
  switch (t) {
  case AQ_FT_PADDING: return a->u.padding.len == b->u.padding.len;
  case AQ_FT_PING:
  case AQ_FT_HANDSHAKE_DONE: return 1;
  case AQ_FT_ACK:
  case AQ_FT_ACK_ECN: {
    const aq_frame_ack *x = &a->u.ack, *y = &b->u.ack;
    if (x->largest != y->largest || x->ack_delay != y->ack_delay ||
        x->first_range != y->first_range || x->nranges != y->nranges ||
        x->nranges > AQ_MAX_ACK_RANGES) {
      return 0;
    }
    for (size_t i = 0; i < x->nranges; i++) {
      if (x->ranges[i].gap != y->ranges[i].gap || x->ranges[i].len != y->ranges[i].len) {
        return 0;
      }
    }
    return t == AQ_FT_ACK || (x->ect0 == y->ect0 && x->ect1 == y->ect1 && x->ce == y->ce);
  }
  case AQ_FT_RESET_STREAM:
    return a->u.reset_stream.stream_id == b->u.reset_stream.stream_id &&
           a->u.reset_stream.app_error == b->u.reset_stream.app_error &&
           a->u.reset_stream.final_size == b->u.reset_stream.final_size;
  case AQ_FT_STOP_SENDING:
    return a->u.stop_sending.stream_id == b->u.stop_sending.stream_id &&
           a->u.stop_sending.app_error == b->u.stop_sending.app_error;
  case AQ_FT_CRYPTO:
    return a->u.crypto.offset == b->u.crypto.offset &&
           bytes_eq(a->u.crypto.data, a->u.crypto.datalen, b->u.crypto.data, b->u.crypto.datalen);
  case AQ_FT_NEW_TOKEN:
    return bytes_eq(a->u.new_token.token, a->u.new_token.tokenlen, b->u.new_token.token,
                    b->u.new_token.tokenlen);
  case AQ_FT_MAX_DATA:
  case AQ_FT_DATA_BLOCKED: return a->u.max_data.max == b->u.max_data.max;
  case AQ_FT_MAX_STREAM_DATA:
  case AQ_FT_STREAM_DATA_BLOCKED:
    return a->u.max_stream_data.stream_id == b->u.max_stream_data.stream_id &&
           a->u.max_stream_data.max == b->u.max_stream_data.max;
  case AQ_FT_MAX_STREAMS_BIDI:
  case AQ_FT_MAX_STREAMS_UNI:
  case AQ_FT_STREAMS_BLOCKED_BIDI:
  case AQ_FT_STREAMS_BLOCKED_UNI: return a->u.max_streams.max == b->u.max_streams.max;
  case AQ_FT_NEW_CONNECTION_ID:
    return a->u.new_cid.seq == b->u.new_cid.seq &&
           a->u.new_cid.retire_prior_to == b->u.new_cid.retire_prior_to &&
           a->u.new_cid.cid.len <= AQ_MAX_CIDLEN &&
           aq_cid_eq(&a->u.new_cid.cid, &b->u.new_cid.cid) &&
           memcmp(a->u.new_cid.reset_token, b->u.new_cid.reset_token,
                  AQ_STATELESS_RESET_TOKEN_LEN) == 0;
  case AQ_FT_RETIRE_CONNECTION_ID: return a->u.retire_cid.seq == b->u.retire_cid.seq;
  case AQ_FT_PATH_CHALLENGE:
  case AQ_FT_PATH_RESPONSE: return memcmp(a->u.path.data, b->u.path.data, AQ_PATH_DATA_LEN) == 0;
  case AQ_FT_CONNECTION_CLOSE:
  case AQ_FT_CONNECTION_CLOSE_APP:
    return a->u.close.error_code == b->u.close.error_code &&
           (t == AQ_FT_CONNECTION_CLOSE_APP || a->u.close.frame_type == b->u.close.frame_type) &&
           bytes_eq(a->u.close.reason, a->u.close.reasonlen, b->u.close.reason,
                    b->u.close.reasonlen);
  case AQ_FT_DATAGRAM:
  case AQ_FT_DATAGRAM_LEN:
    return bytes_eq(a->u.datagram.data, a->u.datagram.datalen, b->u.datagram.data,
                    b->u.datagram.datalen);
  case AQ_FT_OBSERVED_ADDRESS_V4:
  case AQ_FT_OBSERVED_ADDRESS_V6:
  case AQ_FT_ADD_ADDRESS_V4:
  case AQ_FT_ADD_ADDRESS_V6:
    return a->u.addr.seq == b->u.addr.seq && addr_eq(&a->u.addr.addr, &b->u.addr.addr);
  case AQ_FT_PUNCH_ME_NOW_V4:
  case AQ_FT_PUNCH_ME_NOW_V6:
    return a->u.addr.seq == b->u.addr.seq && a->u.addr.round == b->u.addr.round &&
           addr_eq(&a->u.addr.addr, &b->u.addr.addr);
  case AQ_FT_REMOVE_ADDRESS: return a->u.addr.seq == b->u.addr.seq;
  default: return 0;
  }
}

/* ------------------------------------------------- permission and class */

int aq_frame_allowed(uint64_t type, aq_pkt_type pkt_type) {
  unsigned flags = aq_frame_flags(type);
  if (!(flags & AQ_FRAME_F_KNOWN)) {
    return 0;
  }
  switch (pkt_type) {
  case AQ_PKT_INITIAL:
  case AQ_PKT_HANDSHAKE:
    /* Table 3 "IH": PADDING, PING, ACK, CRYPTO, CONNECTION_CLOSE 0x1c
     * ("Only a CONNECTION_CLOSE frame of type 0x1c can appear in Initial
     * or Handshake packets"). */
    return type == AQ_FT_PADDING || type == AQ_FT_PING || type == AQ_FT_ACK ||
           type == AQ_FT_ACK_ECN || type == AQ_FT_CRYPTO || type == AQ_FT_CONNECTION_CLOSE;
  case AQ_PKT_0RTT:
    /* §12.5 / Table 3: 0-RTT carries no ACK, CRYPTO, HANDSHAKE_DONE,
     * NEW_TOKEN, PATH_RESPONSE or RETIRE_CONNECTION_ID. */
    return !(type == AQ_FT_ACK || type == AQ_FT_ACK_ECN || type == AQ_FT_CRYPTO ||
             type == AQ_FT_HANDSHAKE_DONE || type == AQ_FT_NEW_TOKEN ||
             type == AQ_FT_PATH_RESPONSE || type == AQ_FT_RETIRE_CONNECTION_ID);
  case AQ_PKT_1RTT: return 1;
  case AQ_PKT_RETRY:
  case AQ_PKT_VERSION_NEGOTIATION:
  case AQ_PKT_UNKNOWN_VERSION:
  default: return 0;
  }
}

unsigned aq_frame_flags(uint64_t type) {
  const unsigned K = AQ_FRAME_F_KNOWN;
  const unsigned AE = AQ_FRAME_F_ACK_ELICITING | AQ_FRAME_F_IN_FLIGHT;
  if (is_stream_type(type)) {
    return K | AE;
  }
  switch (type) {
  case AQ_FT_PADDING:
    /* Not ack-eliciting, but counted in flight (RFC 9002 §2); probing (§9.1). */
    return K | AQ_FRAME_F_IN_FLIGHT | AQ_FRAME_F_PROBING;
  case AQ_FT_ACK:
  case AQ_FT_ACK_ECN:
  case AQ_FT_CONNECTION_CLOSE:
  case AQ_FT_CONNECTION_CLOSE_APP: return K;
  case AQ_FT_PATH_CHALLENGE:
  case AQ_FT_PATH_RESPONSE:
  case AQ_FT_NEW_CONNECTION_ID:
  case AQ_FT_OBSERVED_ADDRESS_V4: /* "It is a probing frame" (address discovery draft) */
  case AQ_FT_OBSERVED_ADDRESS_V6: return K | AE | AQ_FRAME_F_PROBING;
  case AQ_FT_PING:
  case AQ_FT_RESET_STREAM:
  case AQ_FT_STOP_SENDING:
  case AQ_FT_CRYPTO:
  case AQ_FT_NEW_TOKEN:
  case AQ_FT_MAX_DATA:
  case AQ_FT_MAX_STREAM_DATA:
  case AQ_FT_MAX_STREAMS_BIDI:
  case AQ_FT_MAX_STREAMS_UNI:
  case AQ_FT_DATA_BLOCKED:
  case AQ_FT_STREAM_DATA_BLOCKED:
  case AQ_FT_STREAMS_BLOCKED_BIDI:
  case AQ_FT_STREAMS_BLOCKED_UNI:
  case AQ_FT_RETIRE_CONNECTION_ID:
  case AQ_FT_HANDSHAKE_DONE:
  case AQ_FT_DATAGRAM: /* RFC 9221 §5.2: ack-eliciting */
  case AQ_FT_DATAGRAM_LEN:
  case AQ_FT_ADD_ADDRESS_V4:
  case AQ_FT_ADD_ADDRESS_V6:
  case AQ_FT_PUNCH_ME_NOW_V4:
  case AQ_FT_PUNCH_ME_NOW_V6:
  case AQ_FT_REMOVE_ADDRESS: return K | AE;
  default: return 0;
  }
}
