/*
 * aq_tls_msg.c - pure codecs for the TLS 1.3 handshake messages (RFC 8446 §4).
 * Every length-prefixed block is opened with aq_rbuf_sub and must be consumed
 * exactly (aq_rbuf_done), so a wrong inner length is always an error.
 */
#include "aq_tls_msg.h"

#include <string.h>

#include "aq_tls.h"

/* RFC 8446 §4.1.3: SHA-256("HelloRetryRequest"). */
const uint8_t aq_tls_hrr_random[AQ_TLS_RANDOM_LEN] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

/** Split one message off r (see header). */
int aq_tls_msg_split(aq_rbuf *r, uint8_t *type, const uint8_t **body, size_t *bodylen) {
  aq_rbuf save = *r, sub;
  uint8_t t;
  int rv;
  if ((rv = aq_rbuf_u8(r, &t)) != 0) {
    return rv;
  }
  if ((rv = aq_rbuf_sub(r, AQ_LEN_U24, &sub)) != 0) {
    *r = save;
    return rv;
  }
  *type = t;
  *body = sub.p;
  *bodylen = aq_rbuf_left(&sub);
  return 0;
}

/** Decode an extension block (see header). */
int aq_tls_ext_list_decode(aq_tls_ext_list *l, aq_rbuf *r) {
  aq_rbuf block;
  int rv;
  l->n = 0;
  if ((rv = aq_rbuf_sub(r, AQ_LEN_U16, &block)) != 0) {
    return rv;
  }
  while (aq_rbuf_left(&block) > 0) {
    uint16_t type;
    aq_rbuf data;
    if ((rv = aq_rbuf_u16(&block, &type)) != 0 ||
        (rv = aq_rbuf_sub(&block, AQ_LEN_U16, &data)) != 0) {
      return rv;
    }
    /* RFC 8446 §4.2: "There MUST NOT be more than one extension of the same type". */
    if (aq_tls_ext_list_find(l, type) != NULL) {
      return AQ_ERR_MALFORMED;
    }
    if (l->n == AQ_TLS_MAX_EXTS) {
      return AQ_ERR_LIMIT;
    }
    l->ext[l->n].type = type;
    l->ext[l->n].data = data.p;
    l->ext[l->n].len = aq_rbuf_left(&data);
    l->n++;
  }
  return 0;
}

/** Find an extension by type (see header). */
const aq_tls_ext_raw *aq_tls_ext_list_find(const aq_tls_ext_list *l, uint16_t type) {
  for (size_t i = 0; i < l->n; i++) {
    if (l->ext[i].type == type) {
      return &l->ext[i];
    }
  }
  return NULL;
}

/** Decode a ClientHello body (RFC 8446 §4.1.2). */
int aq_tls_ch_decode(aq_tls_ch *ch, const uint8_t *body, size_t len) {
  aq_rbuf r, sub;
  int rv;
  memset(ch, 0, sizeof(*ch));
  aq_rbuf_init(&r, body, len);
  if ((rv = aq_rbuf_u16(&r, &ch->legacy_version)) != 0 ||
      (rv = aq_rbuf_bytes(&r, AQ_TLS_RANDOM_LEN, &ch->random)) != 0 ||
      (rv = aq_rbuf_sub(&r, AQ_LEN_U8, &sub)) != 0) {
    return rv;
  }
  ch->session_id = sub.p;
  ch->session_id_len = aq_rbuf_left(&sub);
  if (ch->session_id_len > 32) {
    return AQ_ERR_MALFORMED;
  }
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U16, &sub)) != 0) {
    return rv;
  }
  ch->suites = sub.p;
  ch->suites_len = aq_rbuf_left(&sub);
  if (ch->suites_len == 0 || ch->suites_len % 2 != 0) {
    return AQ_ERR_MALFORMED;
  }
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U8, &sub)) != 0) {
    return rv;
  }
  ch->compression = sub.p;
  ch->compression_len = aq_rbuf_left(&sub);
  if (ch->compression_len == 0) {
    return AQ_ERR_MALFORMED;
  }
  /* A TLS 1.3 ClientHello always carries extensions (supported_versions at least). */
  if ((rv = aq_tls_ext_list_decode(&ch->exts, &r)) != 0) {
    return rv;
  }
  if ((rv = aq_rbuf_done(&r)) != 0) {
    return rv;
  }
  for (size_t i = 0; i < ch->exts.n; i++) {
    if (ch->exts.ext[i].type == 41 /* pre_shared_key */) {
      aq_rbuf psk, ids, binders;
      /* RFC 8446 §4.2.11: it "MUST be the last extension in the ClientHello" -- servers "fail
       * the handshake with an "illegal_parameter" alert" (AQ_ERR_VALUE_RANGE maps to it). */
      if (i + 1 != ch->exts.n) {
        return AQ_ERR_VALUE_RANGE;
      }
      aq_rbuf_init(&psk, ch->exts.ext[i].data, ch->exts.ext[i].len);
      if ((rv = aq_rbuf_sub(&psk, AQ_LEN_U16, &ids)) != 0) {
        return rv;
      }
      ch->binders_off = (size_t)(psk.p - body);
      if ((rv = aq_rbuf_sub(&psk, AQ_LEN_U16, &binders)) != 0 || (rv = aq_rbuf_done(&psk)) != 0) {
        return rv;
      }
    }
  }
  return 0;
}

/** Decode a ServerHello or HelloRetryRequest body (RFC 8446 §4.1.3). */
int aq_tls_sh_decode(aq_tls_sh *sh, const uint8_t *body, size_t len) {
  aq_rbuf r, sub;
  int rv;
  memset(sh, 0, sizeof(*sh));
  aq_rbuf_init(&r, body, len);
  if ((rv = aq_rbuf_u16(&r, &sh->legacy_version)) != 0 ||
      (rv = aq_rbuf_bytes(&r, AQ_TLS_RANDOM_LEN, &sh->random)) != 0 ||
      (rv = aq_rbuf_sub(&r, AQ_LEN_U8, &sub)) != 0) {
    return rv;
  }
  sh->session_id = sub.p;
  sh->session_id_len = aq_rbuf_left(&sub);
  if (sh->session_id_len > 32) {
    return AQ_ERR_MALFORMED;
  }
  if ((rv = aq_rbuf_u16(&r, &sh->suite)) != 0 || (rv = aq_rbuf_u8(&r, &sh->compression)) != 0 ||
      (rv = aq_tls_ext_list_decode(&sh->exts, &r)) != 0 || (rv = aq_rbuf_done(&r)) != 0) {
    return rv;
  }
  sh->is_hrr = memcmp(sh->random, aq_tls_hrr_random, AQ_TLS_RANDOM_LEN) == 0;
  return 0;
}

/** Decode EncryptedExtensions (RFC 8446 §4.3.1). */
int aq_tls_ee_decode(aq_tls_ext_list *ee, const uint8_t *body, size_t len) {
  aq_rbuf r;
  int rv;
  aq_rbuf_init(&r, body, len);
  if ((rv = aq_tls_ext_list_decode(ee, &r)) != 0) {
    return rv;
  }
  return aq_rbuf_done(&r);
}

/** Decode a Certificate message (RFC 8446 §4.4.2). */
int aq_tls_cert_decode(aq_tls_cert_msg *c, const uint8_t *body, size_t len) {
  aq_rbuf r, sub, list;
  int rv;
  memset(c, 0, sizeof(*c));
  aq_rbuf_init(&r, body, len);
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U8, &sub)) != 0) {
    return rv;
  }
  c->context = sub.p;
  c->context_len = aq_rbuf_left(&sub);
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U24, &list)) != 0 || (rv = aq_rbuf_done(&r)) != 0) {
    return rv;
  }
  while (aq_rbuf_left(&list) > 0) {
    aq_rbuf data, exts;
    if ((rv = aq_rbuf_sub(&list, AQ_LEN_U24, &data)) != 0 ||
        (rv = aq_rbuf_sub(&list, AQ_LEN_U16, &exts)) != 0) {
      return rv;
    }
    /* opaque cert_data<1..2^24-1> */
    if (aq_rbuf_left(&data) == 0) {
      return AQ_ERR_MALFORMED;
    }
    if (c->n == AQ_TLS_MAX_CERT_ENTRIES) {
      return AQ_ERR_LIMIT;
    }
    c->entry[c->n].data = data.p;
    c->entry[c->n].len = aq_rbuf_left(&data);
    c->entry[c->n].exts = exts.p;
    c->entry[c->n].extslen = aq_rbuf_left(&exts);
    c->n++;
  }
  return 0;
}

/** Decode a CertificateRequest (RFC 8446 §4.3.2). */
int aq_tls_cr_decode(aq_tls_cr *cr, const uint8_t *body, size_t len) {
  aq_rbuf r, sub;
  int rv;
  memset(cr, 0, sizeof(*cr));
  aq_rbuf_init(&r, body, len);
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U8, &sub)) != 0) {
    return rv;
  }
  cr->context = sub.p;
  cr->context_len = aq_rbuf_left(&sub);
  if ((rv = aq_tls_ext_list_decode(&cr->exts, &r)) != 0) {
    return rv;
  }
  return aq_rbuf_done(&r);
}

/** Decode a CertificateVerify (RFC 8446 §4.4.3). */
int aq_tls_cv_decode(aq_tls_cv *cv, const uint8_t *body, size_t len) {
  aq_rbuf r, sub;
  int rv;
  aq_rbuf_init(&r, body, len);
  if ((rv = aq_rbuf_u16(&r, &cv->scheme)) != 0 || (rv = aq_rbuf_sub(&r, AQ_LEN_U16, &sub)) != 0 ||
      (rv = aq_rbuf_done(&r)) != 0) {
    return rv;
  }
  cv->sig = sub.p;
  cv->siglen = aq_rbuf_left(&sub);
  if (cv->siglen == 0) {
    return AQ_ERR_MALFORMED;
  }
  return 0;
}

/** Decode Finished (RFC 8446 §4.4.4). */
int aq_tls_fin_decode(const uint8_t **verify_data, const uint8_t *body, size_t len,
                      size_t hashlen) {
  if (len != hashlen) {
    return AQ_ERR_MALFORMED;
  }
  *verify_data = body;
  return 0;
}

/** Decode a NewSessionTicket (RFC 8446 §4.6.1). */
int aq_tls_nst_decode(aq_tls_nst *nst, const uint8_t *body, size_t len) {
  aq_rbuf r, sub;
  int rv;
  memset(nst, 0, sizeof(*nst));
  aq_rbuf_init(&r, body, len);
  if ((rv = aq_rbuf_u32(&r, &nst->lifetime)) != 0 || (rv = aq_rbuf_u32(&r, &nst->age_add)) != 0 ||
      (rv = aq_rbuf_sub(&r, AQ_LEN_U8, &sub)) != 0) {
    return rv;
  }
  nst->nonce = sub.p;
  nst->nonce_len = aq_rbuf_left(&sub);
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U16, &sub)) != 0) {
    return rv;
  }
  nst->ticket = sub.p;
  nst->ticket_len = aq_rbuf_left(&sub);
  if (nst->ticket_len == 0) {
    return AQ_ERR_MALFORMED;
  }
  if ((rv = aq_tls_ext_list_decode(&nst->exts, &r)) != 0) {
    return rv;
  }
  return aq_rbuf_done(&r);
}

/* ---------------------------------------------------------------- encoders */

/** Open a handshake message (see header). */
void aq_tls_msg_begin(aq_wbuf *w, uint8_t type, aq_wbuf_mark *mark) {
  aq_wbuf_u8(w, type);
  aq_wbuf_len_begin(w, AQ_LEN_U24, mark);
}

/** Close a handshake message (see header). */
void aq_tls_msg_end(aq_wbuf *w, const aq_wbuf_mark *mark) {
  aq_wbuf_len_end(w, mark);
}

/** ClientHello head (see header). */
void aq_tls_ch_encode_head(aq_wbuf *w, aq_wbuf_mark *mark, const uint8_t random[32],
                           const uint16_t *suites, size_t nsuites) {
  aq_wbuf_mark m;
  aq_tls_msg_begin(w, AQ_TLS_HS_CLIENT_HELLO, mark);
  aq_wbuf_u16(w, AQ_TLS_LEGACY_VERSION);
  aq_wbuf_bytes(w, random, AQ_TLS_RANDOM_LEN);
  aq_wbuf_u8(w, 0); /* legacy_session_id: empty in QUIC (RFC 9001 §8.4) */
  aq_wbuf_len_begin(w, AQ_LEN_U16, &m);
  for (size_t i = 0; i < nsuites; i++) {
    aq_wbuf_u16(w, suites[i]);
  }
  aq_wbuf_len_end(w, &m);
  aq_wbuf_u8(w, 1); /* legacy_compression_methods = { null } */
  aq_wbuf_u8(w, 0);
}

/** ServerHello head (see header). */
void aq_tls_sh_encode_head(aq_wbuf *w, aq_wbuf_mark *mark, const uint8_t random[32],
                           const uint8_t *session_id, size_t session_id_len, uint16_t suite) {
  aq_tls_msg_begin(w, AQ_TLS_HS_SERVER_HELLO, mark);
  aq_wbuf_u16(w, AQ_TLS_LEGACY_VERSION);
  aq_wbuf_bytes(w, random, AQ_TLS_RANDOM_LEN);
  aq_wbuf_u8(w, (uint8_t)session_id_len);
  aq_wbuf_bytes(w, session_id, session_id_len);
  aq_wbuf_u16(w, suite);
  aq_wbuf_u8(w, 0);
}

/** Certificate with zero or one entry (see header). */
void aq_tls_cert_encode(aq_wbuf *w, const uint8_t *context, size_t context_len, const uint8_t *data,
                        size_t len) {
  aq_wbuf_mark msg, m;
  aq_tls_msg_begin(w, AQ_TLS_HS_CERTIFICATE, &msg);
  aq_wbuf_u8(w, (uint8_t)context_len);
  aq_wbuf_bytes(w, context, context_len);
  aq_wbuf_len_begin(w, AQ_LEN_U24, &m);
  if (data != NULL) {
    aq_wbuf_u24(w, (uint32_t)len);
    aq_wbuf_bytes(w, data, len);
    aq_wbuf_u16(w, 0); /* no per-entry extensions */
  }
  aq_wbuf_len_end(w, &m);
  aq_tls_msg_end(w, &msg);
}

/** CertificateVerify (see header). */
void aq_tls_cv_encode(aq_wbuf *w, uint16_t scheme, const uint8_t *sig, size_t siglen) {
  aq_wbuf_mark msg;
  aq_tls_msg_begin(w, AQ_TLS_HS_CERTIFICATE_VERIFY, &msg);
  aq_wbuf_u16(w, scheme);
  aq_wbuf_u16(w, (uint16_t)siglen);
  aq_wbuf_bytes(w, sig, siglen);
  aq_tls_msg_end(w, &msg);
}

/** Finished (see header). */
void aq_tls_fin_encode(aq_wbuf *w, const uint8_t *verify_data, size_t len) {
  aq_wbuf_mark msg;
  aq_tls_msg_begin(w, AQ_TLS_HS_FINISHED, &msg);
  aq_wbuf_bytes(w, verify_data, len);
  aq_tls_msg_end(w, &msg);
}

/** NewSessionTicket (see header). */
void aq_tls_nst_encode(aq_wbuf *w, uint32_t lifetime, uint32_t age_add, const uint8_t *nonce,
                       size_t nonce_len, const uint8_t *ticket, size_t ticket_len,
                       uint32_t max_early_data) {
  aq_wbuf_mark msg, m;
  aq_tls_msg_begin(w, AQ_TLS_HS_NEW_SESSION_TICKET, &msg);
  aq_wbuf_u32(w, lifetime);
  aq_wbuf_u32(w, age_add);
  aq_wbuf_u8(w, (uint8_t)nonce_len);
  aq_wbuf_bytes(w, nonce, nonce_len);
  aq_wbuf_u16(w, (uint16_t)ticket_len);
  aq_wbuf_bytes(w, ticket, ticket_len);
  aq_wbuf_len_begin(w, AQ_LEN_U16, &m);
  if (max_early_data != 0) {
    aq_wbuf_u16(w, 42); /* early_data */
    aq_wbuf_u16(w, 4);
    aq_wbuf_u32(w, max_early_data);
  }
  aq_wbuf_len_end(w, &m);
  aq_tls_msg_end(w, &msg);
}

/** Decoder error -> alert (see header). */
uint8_t aq_tls_msg_alert(int err) {
  switch (err) {
  case AQ_ERR_TRUNCATED:
  case AQ_ERR_TRAILING_DATA:
  case AQ_ERR_LIMIT: return AQ_TLS_ALERT_DECODE_ERROR;
  case AQ_ERR_MALFORMED: return AQ_TLS_ALERT_DECODE_ERROR;
  case AQ_ERR_VALUE_RANGE: return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  default: return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
}
