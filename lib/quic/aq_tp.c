/*
 * aq_tp.c - QUIC transport parameters codec (RFC 9000 §18), encoder and
 * decoder side by side.
 */
#include "aq_tp.h"

#include <string.h>

void aq_tp_default(aq_tp *tp) {
  memset(tp, 0, sizeof(*tp));
  tp->max_udp_payload_size = AQ_TP_DEFAULT_MAX_UDP_PAYLOAD_SIZE;
  tp->ack_delay_exponent = AQ_TP_DEFAULT_ACK_DELAY_EXPONENT;
  tp->max_ack_delay_ms = AQ_TP_DEFAULT_MAX_ACK_DELAY_MS;
  tp->active_connection_id_limit = AQ_TP_DEFAULT_ACTIVE_CID_LIMIT;
}

/* Index of a built-in parameter id (0..21), or -1. */
static int builtin_index(uint64_t id) {
  if (id <= AQ_TP_VERSION_INFORMATION) {
    return (int)id;
  }
  switch (id) {
  case AQ_TP_MAX_DATAGRAM_FRAME_SIZE: return 18;
  case AQ_TP_ADDRESS_DISCOVERY: return 19;
  case AQ_TP_NAT_TRAVERSAL: return 20;
  case AQ_TP_DRAFT_FRAME_LAYOUT: return 21;
  default: return -1;
  }
}

/* ---------------------------------------------------------- extensions */

static aq_tp_ext *ext_find(aq_tp *tp, uint64_t id) {
  for (size_t i = 0; i < tp->next && i < AQ_TP_MAX_EXT; i++) {
    if (tp->ext[i].id == id) {
      return &tp->ext[i];
    }
  }
  return NULL;
}

int aq_tp_ext_register(aq_tp *tp, uint64_t id) {
  if (builtin_index(id) >= 0 || id > AQ_VARINT_MAX) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (ext_find(tp, id) != NULL) {
    return 0;
  }
  if (tp->next >= AQ_TP_MAX_EXT) {
    return AQ_ERR_LIMIT;
  }
  memset(&tp->ext[tp->next], 0, sizeof(tp->ext[0]));
  tp->ext[tp->next].id = id;
  tp->next++;
  return 0;
}

int aq_tp_ext_set(aq_tp *tp, uint64_t id, const uint8_t *value, size_t len) {
  aq_tp_ext *e;
  int rv = aq_tp_ext_register(tp, id);
  if (rv != 0) {
    return rv;
  }
  e = ext_find(tp, id);
  if (e == NULL) {
    return AQ_ERR_INTERNAL;
  }
  e->present = 1;
  e->value = value;
  e->len = len;
  return 0;
}

const aq_tp_ext *aq_tp_ext_get(const aq_tp *tp, uint64_t id) {
  for (size_t i = 0; i < tp->next && i < AQ_TP_MAX_EXT; i++) {
    if (tp->ext[i].id == id && tp->ext[i].present) {
      return &tp->ext[i];
    }
  }
  return NULL;
}

/* -------------------------------------------------------------- encode */

static void put_varint_param(aq_wbuf *w, uint64_t id, uint64_t v) {
  aq_wbuf_varint(w, id);
  aq_wbuf_varint(w, aq_varint_len(v));
  aq_wbuf_varint(w, v);
}

static void put_bytes_param(aq_wbuf *w, uint64_t id, const uint8_t *p, size_t len) {
  aq_wbuf_varint(w, id);
  aq_wbuf_varint(w, len);
  aq_wbuf_bytes(w, p, len);
}

/* A varint parameter, omitted when equal to its default. */
static void put_varint_nondefault(aq_wbuf *w, uint64_t id, uint64_t v, uint64_t dflt) {
  if (v != dflt) {
    put_varint_param(w, id, v);
  }
}

/* The range rules of the decoder, checked before sending. */
static int check_values(const aq_tp *tp) {
  if (tp->max_udp_payload_size < AQ_TP_MIN_UDP_PAYLOAD_SIZE ||
      tp->ack_delay_exponent > AQ_TP_MAX_ACK_DELAY_EXPONENT ||
      tp->max_ack_delay_ms > AQ_TP_MAX_MAX_ACK_DELAY_MS || tp->active_connection_id_limit < 2 ||
      tp->initial_max_streams_bidi > (1ULL << 60) || tp->initial_max_streams_uni > (1ULL << 60) ||
      tp->navailable_versions > AQ_TP_MAX_VERSIONS) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if ((tp->has & AQ_TP_HAS_ADDRESS_DISCOVERY) && tp->address_discovery > AQ_TP_AD_BOTH) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if ((tp->has & AQ_TP_HAS_PREFERRED_ADDRESS) &&
      (tp->preferred_address.cid.len == 0 || tp->preferred_address.cid.len > AQ_MAX_CIDLEN)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if ((tp->has & AQ_TP_HAS_VERSION_INFO) && tp->chosen_version == 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < tp->navailable_versions; i++) {
    if (tp->available_versions[i] == 0) {
      return AQ_ERR_INVALID_ARGUMENT;
    }
  }
  if (tp->original_dcid.len > AQ_MAX_CIDLEN || tp->initial_scid.len > AQ_MAX_CIDLEN ||
      tp->retry_scid.len > AQ_MAX_CIDLEN) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  return 0;
}

int aq_tp_encode(aq_wbuf *w, const aq_tp *tp, aq_tp_sender sender, const uint8_t *grease,
                 size_t greaselen) {
  const uint32_t server_only = AQ_TP_HAS_ORIGINAL_DCID | AQ_TP_HAS_STATELESS_RESET_TOKEN |
                               AQ_TP_HAS_PREFERRED_ADDRESS | AQ_TP_HAS_RETRY_SCID;
  int rv = check_values(tp);
  if (rv != 0) {
    return rv;
  }
  if (sender == AQ_TP_FROM_CLIENT && (tp->has & server_only)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (sender == AQ_TP_FROM_SERVER && (tp->has & AQ_TP_HAS_NAT_TRAVERSAL) &&
      tp->nat_traversal_limit == 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (tp->has & AQ_TP_HAS_ORIGINAL_DCID) {
    put_bytes_param(w, AQ_TP_ORIGINAL_DCID, tp->original_dcid.data, tp->original_dcid.len);
  }
  put_varint_nondefault(w, AQ_TP_MAX_IDLE_TIMEOUT, tp->max_idle_timeout_ms, 0);
  if (tp->has & AQ_TP_HAS_STATELESS_RESET_TOKEN) {
    put_bytes_param(w, AQ_TP_STATELESS_RESET_TOKEN, tp->stateless_reset_token,
                    AQ_STATELESS_RESET_TOKEN_LEN);
  }
  put_varint_nondefault(w, AQ_TP_MAX_UDP_PAYLOAD_SIZE, tp->max_udp_payload_size,
                        AQ_TP_DEFAULT_MAX_UDP_PAYLOAD_SIZE);
  put_varint_nondefault(w, AQ_TP_INITIAL_MAX_DATA, tp->initial_max_data, 0);
  put_varint_nondefault(w, AQ_TP_INITIAL_MAX_STREAM_DATA_BIDI_LOCAL,
                        tp->initial_max_stream_data_bidi_local, 0);
  put_varint_nondefault(w, AQ_TP_INITIAL_MAX_STREAM_DATA_BIDI_REMOTE,
                        tp->initial_max_stream_data_bidi_remote, 0);
  put_varint_nondefault(w, AQ_TP_INITIAL_MAX_STREAM_DATA_UNI, tp->initial_max_stream_data_uni, 0);
  put_varint_nondefault(w, AQ_TP_INITIAL_MAX_STREAMS_BIDI, tp->initial_max_streams_bidi, 0);
  put_varint_nondefault(w, AQ_TP_INITIAL_MAX_STREAMS_UNI, tp->initial_max_streams_uni, 0);
  put_varint_nondefault(w, AQ_TP_ACK_DELAY_EXPONENT, tp->ack_delay_exponent,
                        AQ_TP_DEFAULT_ACK_DELAY_EXPONENT);
  put_varint_nondefault(w, AQ_TP_MAX_ACK_DELAY, tp->max_ack_delay_ms,
                        AQ_TP_DEFAULT_MAX_ACK_DELAY_MS);
  if (tp->disable_active_migration) {
    put_bytes_param(w, AQ_TP_DISABLE_ACTIVE_MIGRATION, NULL, 0);
  }
  if (tp->has & AQ_TP_HAS_PREFERRED_ADDRESS) {
    const aq_tp_preferred_addr *pa = &tp->preferred_address;
    aq_wbuf_varint(w, AQ_TP_PREFERRED_ADDRESS);
    aq_wbuf_varint(w, 4u + 2u + 16u + 2u + 1u + pa->cid.len + AQ_STATELESS_RESET_TOKEN_LEN);
    aq_wbuf_bytes(w, pa->ipv4, 4);
    aq_wbuf_u16(w, pa->ipv4_port);
    aq_wbuf_bytes(w, pa->ipv6, 16);
    aq_wbuf_u16(w, pa->ipv6_port);
    aq_wbuf_u8(w, pa->cid.len);
    aq_wbuf_bytes(w, pa->cid.data, pa->cid.len);
    aq_wbuf_bytes(w, pa->reset_token, AQ_STATELESS_RESET_TOKEN_LEN);
  }
  put_varint_nondefault(w, AQ_TP_ACTIVE_CONNECTION_ID_LIMIT, tp->active_connection_id_limit,
                        AQ_TP_DEFAULT_ACTIVE_CID_LIMIT);
  if (tp->has & AQ_TP_HAS_INITIAL_SCID) {
    put_bytes_param(w, AQ_TP_INITIAL_SCID, tp->initial_scid.data, tp->initial_scid.len);
  }
  if (tp->has & AQ_TP_HAS_RETRY_SCID) {
    put_bytes_param(w, AQ_TP_RETRY_SCID, tp->retry_scid.data, tp->retry_scid.len);
  }
  if (tp->has & AQ_TP_HAS_VERSION_INFO) {
    aq_wbuf_varint(w, AQ_TP_VERSION_INFORMATION);
    aq_wbuf_varint(w, 4 * (1 + tp->navailable_versions));
    aq_wbuf_u32(w, tp->chosen_version);
    for (size_t i = 0; i < tp->navailable_versions; i++) {
      aq_wbuf_u32(w, tp->available_versions[i]);
    }
  }
  put_varint_nondefault(w, AQ_TP_MAX_DATAGRAM_FRAME_SIZE, tp->max_datagram_frame_size, 0);
  if (tp->has & AQ_TP_HAS_ADDRESS_DISCOVERY) {
    put_varint_param(w, AQ_TP_ADDRESS_DISCOVERY, tp->address_discovery);
  }
  if (tp->has & AQ_TP_HAS_NAT_TRAVERSAL) {
    /* draft-seemann-quic-nat-traversal §4: "The client MUST send this
     * transport parameter with an empty value"; the server sends its
     * concurrency limit. */
    if (sender == AQ_TP_FROM_CLIENT) {
      put_bytes_param(w, AQ_TP_NAT_TRAVERSAL, NULL, 0);
    } else {
      put_varint_param(w, AQ_TP_NAT_TRAVERSAL, tp->nat_traversal_limit);
    }
  }
  if (tp->has & AQ_TP_HAS_DRAFT_FRAME_LAYOUT) {
    put_bytes_param(w, AQ_TP_DRAFT_FRAME_LAYOUT, NULL, 0);
  }
  for (size_t i = 0; i < tp->next && i < AQ_TP_MAX_EXT; i++) {
    if (tp->ext[i].present) {
      put_bytes_param(w, tp->ext[i].id, tp->ext[i].value, tp->ext[i].len);
    }
  }
  if (grease != NULL && greaselen >= 3) {
    /* RFC 9000 §18.1: reserved ids 31 * N + 27 "exist to exercise the
     * requirement that unknown transport parameters be ignored". */
    uint64_t n = ((uint64_t)grease[0] << 8) | grease[1];
    size_t len = grease[2] % 16u;
    if (len > greaselen - 3) {
      len = greaselen - 3;
    }
    put_bytes_param(w, 31 * n + 27, grease + 3, len);
  }
  return aq_wbuf_error(w);
}

/* -------------------------------------------------------------- decode */

/* A parameter value that is exactly one varint. */
static int get_varint_value(aq_rbuf *v, uint64_t *out) {
  int rv = aq_rbuf_varint(v, out);
  if (rv != 0) {
    return rv;
  }
  return aq_rbuf_done(v);
}

static int get_cid_value(aq_rbuf *v, aq_cid *cid) {
  size_t len = aq_rbuf_left(v);
  if (len > AQ_MAX_CIDLEN) {
    return AQ_ERR_MALFORMED;
  }
  cid->len = (uint8_t)len;
  return aq_rbuf_copy(v, cid->data, len);
}

static int get_preferred_address(aq_rbuf *v, aq_tp_preferred_addr *pa) {
  uint8_t cidlen;
  int rv;
  if ((rv = aq_rbuf_copy(v, pa->ipv4, 4)) != 0 || (rv = aq_rbuf_u16(v, &pa->ipv4_port)) != 0 ||
      (rv = aq_rbuf_copy(v, pa->ipv6, 16)) != 0 || (rv = aq_rbuf_u16(v, &pa->ipv6_port)) != 0 ||
      (rv = aq_rbuf_u8(v, &cidlen)) != 0) {
    return rv;
  }
  /* RFC 9000 §18.2: "a server MUST NOT include a zero-length connection ID
   * in this transport parameter. A client MUST treat a violation of these
   * requirements as a connection error of type TRANSPORT_PARAMETER_ERROR." */
  if (cidlen == 0 || cidlen > AQ_MAX_CIDLEN) {
    return AQ_ERR_MALFORMED;
  }
  pa->cid.len = cidlen;
  if ((rv = aq_rbuf_copy(v, pa->cid.data, cidlen)) != 0 ||
      (rv = aq_rbuf_copy(v, pa->reset_token, AQ_STATELESS_RESET_TOKEN_LEN)) != 0) {
    return rv;
  }
  return aq_rbuf_done(v);
}

static int get_version_info(aq_rbuf *v, aq_tp *tp) {
  size_t len = aq_rbuf_left(v);
  uint32_t ver;
  int rv;
  /* RFC 9368 §3: a list of 4-byte versions, the first the Chosen Version;
   * zero versions and lengths that are not a multiple of 4 are parsing
   * failures. */
  if (len < 4 || len % 4 != 0) {
    return AQ_ERR_MALFORMED;
  }
  if ((rv = aq_rbuf_u32(v, &tp->chosen_version)) != 0) {
    return rv;
  }
  if (tp->chosen_version == 0) {
    return AQ_ERR_MALFORMED;
  }
  tp->navailable_versions = 0;
  while (aq_rbuf_left(v) > 0) {
    if ((rv = aq_rbuf_u32(v, &ver)) != 0) {
      return rv;
    }
    if (ver == 0) {
      return AQ_ERR_MALFORMED;
    }
    /* Versions past AQ_TP_MAX_VERSIONS are validated but not kept. */
    if (tp->navailable_versions < AQ_TP_MAX_VERSIONS) {
      tp->available_versions[tp->navailable_versions++] = ver;
    }
  }
  return 0;
}

/* One parameter: id and its value sub-reader. */
static int decode_param(aq_tp *tp, uint64_t id, aq_rbuf *v, aq_tp_sender sender) {
  int rv;
  switch (id) {
  case AQ_TP_ORIGINAL_DCID:
    tp->has |= AQ_TP_HAS_ORIGINAL_DCID;
    return get_cid_value(v, &tp->original_dcid);
  case AQ_TP_MAX_IDLE_TIMEOUT: return get_varint_value(v, &tp->max_idle_timeout_ms);
  case AQ_TP_STATELESS_RESET_TOKEN:
    if (aq_rbuf_left(v) != AQ_STATELESS_RESET_TOKEN_LEN) {
      return AQ_ERR_MALFORMED;
    }
    tp->has |= AQ_TP_HAS_STATELESS_RESET_TOKEN;
    return aq_rbuf_copy(v, tp->stateless_reset_token, AQ_STATELESS_RESET_TOKEN_LEN);
  case AQ_TP_MAX_UDP_PAYLOAD_SIZE:
    if ((rv = get_varint_value(v, &tp->max_udp_payload_size)) != 0) {
      return rv;
    }
    /* "Values below 1200 are invalid." */
    return tp->max_udp_payload_size < AQ_TP_MIN_UDP_PAYLOAD_SIZE ? AQ_ERR_VALUE_RANGE : 0;
  case AQ_TP_INITIAL_MAX_DATA: return get_varint_value(v, &tp->initial_max_data);
  case AQ_TP_INITIAL_MAX_STREAM_DATA_BIDI_LOCAL:
    return get_varint_value(v, &tp->initial_max_stream_data_bidi_local);
  case AQ_TP_INITIAL_MAX_STREAM_DATA_BIDI_REMOTE:
    return get_varint_value(v, &tp->initial_max_stream_data_bidi_remote);
  case AQ_TP_INITIAL_MAX_STREAM_DATA_UNI:
    return get_varint_value(v, &tp->initial_max_stream_data_uni);
  case AQ_TP_INITIAL_MAX_STREAMS_BIDI:
  case AQ_TP_INITIAL_MAX_STREAMS_UNI: {
    uint64_t *dst = id == AQ_TP_INITIAL_MAX_STREAMS_BIDI ? &tp->initial_max_streams_bidi
                                                         : &tp->initial_max_streams_uni;
    if ((rv = get_varint_value(v, dst)) != 0) {
      return rv;
    }
    /* "If a max_streams transport parameter ... is received with a value
     * greater than 2^60 ... TRANSPORT_PARAMETER_ERROR" (§4.6). */
    return *dst > (1ULL << 60) ? AQ_ERR_VALUE_RANGE : 0;
  }
  case AQ_TP_ACK_DELAY_EXPONENT:
    if ((rv = get_varint_value(v, &tp->ack_delay_exponent)) != 0) {
      return rv;
    }
    /* "Values above 20 are invalid." */
    return tp->ack_delay_exponent > AQ_TP_MAX_ACK_DELAY_EXPONENT ? AQ_ERR_VALUE_RANGE : 0;
  case AQ_TP_MAX_ACK_DELAY:
    if ((rv = get_varint_value(v, &tp->max_ack_delay_ms)) != 0) {
      return rv;
    }
    /* "Values of 2^14 or greater are invalid." */
    return tp->max_ack_delay_ms > AQ_TP_MAX_MAX_ACK_DELAY_MS ? AQ_ERR_VALUE_RANGE : 0;
  case AQ_TP_DISABLE_ACTIVE_MIGRATION:
    tp->disable_active_migration = 1;
    return aq_rbuf_done(v); /* "This parameter is a zero-length value." */
  case AQ_TP_PREFERRED_ADDRESS:
    tp->has |= AQ_TP_HAS_PREFERRED_ADDRESS;
    return get_preferred_address(v, &tp->preferred_address);
  case AQ_TP_ACTIVE_CONNECTION_ID_LIMIT:
    if ((rv = get_varint_value(v, &tp->active_connection_id_limit)) != 0) {
      return rv;
    }
    /* "The value of the active_connection_id_limit parameter MUST be at
     * least 2. An endpoint that receives a value less than 2 MUST close the
     * connection with an error of type TRANSPORT_PARAMETER_ERROR." */
    return tp->active_connection_id_limit < 2 ? AQ_ERR_VALUE_RANGE : 0;
  case AQ_TP_INITIAL_SCID:
    tp->has |= AQ_TP_HAS_INITIAL_SCID;
    return get_cid_value(v, &tp->initial_scid);
  case AQ_TP_RETRY_SCID: tp->has |= AQ_TP_HAS_RETRY_SCID; return get_cid_value(v, &tp->retry_scid);
  case AQ_TP_VERSION_INFORMATION: tp->has |= AQ_TP_HAS_VERSION_INFO; return get_version_info(v, tp);
  case AQ_TP_MAX_DATAGRAM_FRAME_SIZE: return get_varint_value(v, &tp->max_datagram_frame_size);
  case AQ_TP_ADDRESS_DISCOVERY:
    tp->has |= AQ_TP_HAS_ADDRESS_DISCOVERY;
    if ((rv = get_varint_value(v, &tp->address_discovery)) != 0) {
      return rv;
    }
    /* "MUST treat the receipt of any other value than these as a
     * connection error of type TRANSPORT_PARAMETER_ERROR." */
    return tp->address_discovery > AQ_TP_AD_BOTH ? AQ_ERR_VALUE_RANGE : 0;
  case AQ_TP_NAT_TRAVERSAL:
    tp->has |= AQ_TP_HAS_NAT_TRAVERSAL;
    if (sender == AQ_TP_FROM_CLIENT) {
      /* "A server ... MUST treat the receipt of a non-empty value as a
       * connection error of type TRANSPORT_PARAMETER_ERROR." */
      return aq_rbuf_done(v);
    }
    if ((rv = get_varint_value(v, &tp->nat_traversal_limit)) != 0) {
      return rv;
    }
    /* "... or the receipt of the value 0, as a connection error". */
    return tp->nat_traversal_limit == 0 ? AQ_ERR_VALUE_RANGE : 0;
  case AQ_TP_DRAFT_FRAME_LAYOUT: tp->has |= AQ_TP_HAS_DRAFT_FRAME_LAYOUT; return aq_rbuf_done(v);
  default: break;
  }
  {
    aq_tp_ext *e = ext_find(tp, id);
    if (e != NULL) {
      e->present = 1;
      aq_rbuf_rest(v, &e->value, &e->len);
    }
    /* RFC 9000 §7.4.2: "An endpoint MUST ignore transport parameters that
     * it does not support." */
    return 0;
  }
}

int aq_tp_decode(aq_tp *tp, const uint8_t *data, size_t datalen, aq_tp_sender sender) {
  aq_tp out;
  aq_rbuf r;
  uint32_t seen = 0; /* built-in ids seen (duplicate detection) */

  aq_tp_default(&out);
  out.next = tp->next < AQ_TP_MAX_EXT ? tp->next : AQ_TP_MAX_EXT;
  for (size_t i = 0; i < out.next; i++) {
    out.ext[i].id = tp->ext[i].id;
  }
  aq_rbuf_init(&r, data, datalen);
  while (aq_rbuf_left(&r) > 0) {
    uint64_t id;
    aq_rbuf v;
    int idx, rv;
    if ((rv = aq_rbuf_varint(&r, &id)) != 0 || (rv = aq_rbuf_sub(&r, AQ_LEN_VARINT, &v)) != 0) {
      return rv;
    }
    idx = builtin_index(id);
    if (idx >= 0) {
      /* RFC 9000 §7.4: "An endpoint SHOULD treat receipt of duplicate
       * transport parameters as a connection error of type
       * TRANSPORT_PARAMETER_ERROR." */
      if (seen & (1u << idx)) {
        return AQ_ERR_MALFORMED;
      }
      seen |= 1u << idx;
      /* RFC 9000 §18.2: "A server MUST treat receipt of any of these
       * [server-only] transport parameters as a connection error of type
       * TRANSPORT_PARAMETER_ERROR." */
      if (sender == AQ_TP_FROM_CLIENT &&
          (id == AQ_TP_ORIGINAL_DCID || id == AQ_TP_STATELESS_RESET_TOKEN ||
           id == AQ_TP_PREFERRED_ADDRESS || id == AQ_TP_RETRY_SCID)) {
        return AQ_ERR_MALFORMED;
      }
    } else {
      aq_tp_ext *e = ext_find(&out, id);
      if (e != NULL && e->present) {
        return AQ_ERR_MALFORMED;
      }
    }
    rv = decode_param(&out, id, &v, sender);
    if (rv != 0) {
      return rv;
    }
  }
  /* RFC 9000 §7.3: "An endpoint MUST treat the absence of the
   * initial_source_connection_id transport parameter from either endpoint
   * or the absence of the original_destination_connection_id transport
   * parameter from the server as a connection error of type
   * TRANSPORT_PARAMETER_ERROR." */
  if (!(out.has & AQ_TP_HAS_INITIAL_SCID) ||
      (sender == AQ_TP_FROM_SERVER && !(out.has & AQ_TP_HAS_ORIGINAL_DCID))) {
    return AQ_ERR_MALFORMED;
  }
  *tp = out;
  return 0;
}
