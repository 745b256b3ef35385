/*
 * aq_tls_ext.c - the extension table.  Each row: where the extension may
 * appear, when we send it, how to write it, a pure decoder, and what its
 * absence means.  The pre_shared_key row must stay last: RFC 8446 §4.2.11
 * "The "pre_shared_key" extension MUST be the last extension in the
 * ClientHello".
 */
#include "aq_tls_ext.h"

#include <string.h>

#include "aq_tls_int.h"

/** Read a u16-prefixed list that must be non-empty and of even length (u16 items). */
static int recv_u16_list(const uint8_t **out, size_t *outlen, const uint8_t *data, size_t len) {
  aq_rbuf r, sub;
  int rv;
  aq_rbuf_init(&r, data, len);
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U16, &sub)) != 0 || (rv = aq_rbuf_done(&r)) != 0) {
    return rv;
  }
  if (aq_rbuf_left(&sub) == 0 || aq_rbuf_left(&sub) % 2 != 0) {
    return AQ_ERR_MALFORMED;
  }
  *out = sub.p;
  *outlen = aq_rbuf_left(&sub);
  return 0;
}

/* ------------------------------------------------------------ server_name */

static int sni_should_send(const aq_tls *tls, unsigned msg) {
  return msg == AQ_TLS_MSG_CH && tls->cfg.server_name != NULL;
}

/** server_name: write the extension_data for msg. */
static void sni_send(const aq_tls *tls, aq_wbuf *w, unsigned msg) {
  aq_wbuf_mark list, name;
  size_t n = strlen(tls->cfg.server_name);
  (void)msg;
  aq_wbuf_len_begin(w, AQ_LEN_U16, &list);
  aq_wbuf_u8(w, 0); /* host_name */
  aq_wbuf_len_begin(w, AQ_LEN_U16, &name);
  aq_wbuf_bytes(w, (const uint8_t *)tls->cfg.server_name, n);
  aq_wbuf_len_end(w, &name);
  aq_wbuf_len_end(w, &list);
}

/** RFC 6066 §3: ServerNameList; we take the host_name entry.  EE carries it empty. */
static int sni_recv(aq_tls_ext_rx *rx, unsigned msg, const uint8_t *data, size_t len) {
  aq_rbuf r, list;
  int rv;
  if (msg == AQ_TLS_MSG_EE) {
    return len == 0 ? 0 : AQ_ERR_MALFORMED;
  }
  aq_rbuf_init(&r, data, len);
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U16, &list)) != 0 || (rv = aq_rbuf_done(&r)) != 0) {
    return rv;
  }
  if (aq_rbuf_left(&list) == 0) {
    return AQ_ERR_MALFORMED;
  }
  while (aq_rbuf_left(&list) > 0) {
    uint8_t type;
    aq_rbuf name;
    if ((rv = aq_rbuf_u8(&list, &type)) != 0 || (rv = aq_rbuf_sub(&list, AQ_LEN_U16, &name)) != 0) {
      return rv;
    }
    if (type == 0) {
      /* "The ServerNameList MUST NOT contain more than one name of the same name_type." */
      if (rx->sni != NULL || aq_rbuf_left(&name) == 0) {
        return AQ_ERR_MALFORMED;
      }
      rx->sni = name.p;
      rx->sni_len = aq_rbuf_left(&name);
    }
  }
  return 0;
}

/* ------------------------------------------------------- supported_groups */

static int groups_should_send(const aq_tls *tls, unsigned msg) {
  (void)tls;
  return msg == AQ_TLS_MSG_CH;
}

/** supported_groups: write the extension_data for msg. */
static void groups_send(const aq_tls *tls, aq_wbuf *w, unsigned msg) {
  aq_wbuf_mark m;
  (void)msg;
  aq_wbuf_len_begin(w, AQ_LEN_U16, &m);
  for (size_t i = 0; i < tls->ngroups; i++) {
    aq_wbuf_u16(w, tls->groups[i]->id);
  }
  aq_wbuf_len_end(w, &m);
}

/** supported_groups: decode the extension_data into rx (pure). */
static int groups_recv(aq_tls_ext_rx *rx, unsigned msg, const uint8_t *data, size_t len) {
  (void)msg;
  return recv_u16_list(&rx->groups, &rx->groups_len, data, len);
}

/* --------------------------------------------------- signature_algorithms */

static int sigalgs_should_send(const aq_tls *tls, unsigned msg) {
  (void)tls;
  return msg == AQ_TLS_MSG_CH || msg == AQ_TLS_MSG_CR;
}

/** signature_algorithms: write the extension_data for msg. */
static void sigalgs_send(const aq_tls *tls, aq_wbuf *w, unsigned msg) {
  aq_wbuf_mark m;
  size_t n;
  const aq_tls_sigscheme *s = aq_tls_sigschemes(&n);
  (void)tls;
  (void)msg;
  aq_wbuf_len_begin(w, AQ_LEN_U16, &m);
  for (size_t i = 0; i < n; i++) {
    aq_wbuf_u16(w, s[i].id);
  }
  aq_wbuf_len_end(w, &m);
}

/** signature_algorithms: decode the extension_data into rx (pure). */
static int sigalgs_recv(aq_tls_ext_rx *rx, unsigned msg, const uint8_t *data, size_t len) {
  (void)msg;
  return recv_u16_list(&rx->sigalgs, &rx->sigalgs_len, data, len);
}

/* RFC 8446 §4.2.3: a certificate-authenticating server needs them (§9.2: missing_extension). */
static uint8_t sigalgs_if_missing(const aq_tls *tls, unsigned msg) {
  (void)tls;
  return (msg == AQ_TLS_MSG_CH || msg == AQ_TLS_MSG_CR) ? AQ_TLS_ALERT_MISSING_EXTENSION : 0;
}

/* ------------------------------------------------------------------- ALPN */

static int alpn_should_send(const aq_tls *tls, unsigned msg) {
  if (msg == AQ_TLS_MSG_CH) {
    return tls->cfg.nalpn > 0;
  }
  return msg == AQ_TLS_MSG_EE && tls->alpn[0] != '\0';
}

/** ALPN: write the extension_data for msg. */
static void alpn_send(const aq_tls *tls, aq_wbuf *w, unsigned msg) {
  aq_wbuf_mark list, name;
  aq_wbuf_len_begin(w, AQ_LEN_U16, &list);
  if (msg == AQ_TLS_MSG_CH) {
    for (size_t i = 0; i < tls->cfg.nalpn; i++) {
      aq_wbuf_len_begin(w, AQ_LEN_U8, &name);
      aq_wbuf_bytes(w, (const uint8_t *)tls->cfg.alpn[i], strlen(tls->cfg.alpn[i]));
      aq_wbuf_len_end(w, &name);
    }
  } else {
    aq_wbuf_len_begin(w, AQ_LEN_U8, &name);
    aq_wbuf_bytes(w, (const uint8_t *)tls->alpn, strlen(tls->alpn));
    aq_wbuf_len_end(w, &name);
  }
  aq_wbuf_len_end(w, &list);
}

/** RFC 7301 §3.1: ProtocolName<1..2^8-1> list; the server answers with exactly one. */
static int alpn_recv(aq_tls_ext_rx *rx, unsigned msg, const uint8_t *data, size_t len) {
  aq_rbuf r, list, name;
  int rv;
  size_t count = 0;
  aq_rbuf_init(&r, data, len);
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U16, &list)) != 0 || (rv = aq_rbuf_done(&r)) != 0) {
    return rv;
  }
  rx->alpn = list.p;
  rx->alpn_len = aq_rbuf_left(&list);
  while (aq_rbuf_left(&list) > 0) {
    if ((rv = aq_rbuf_sub(&list, AQ_LEN_U8, &name)) != 0) {
      return rv;
    }
    if (aq_rbuf_left(&name) == 0) {
      return AQ_ERR_MALFORMED;
    }
    if (msg == AQ_TLS_MSG_EE) {
      rx->alpn = name.p;
      rx->alpn_len = aq_rbuf_left(&name);
    }
    count++;
  }
  if (count == 0 || (msg == AQ_TLS_MSG_EE && count != 1)) {
    return AQ_ERR_MALFORMED;
  }
  return 0;
}

/* ---------------------------------------------- certificate types (7250) */

static int cct_should_send(const aq_tls *tls, unsigned msg) {
  if (msg == AQ_TLS_MSG_CH) {
    return tls->cfg.offer_rpk && tls->cfg.cred != NULL;
  }
  return msg == AQ_TLS_MSG_EE && tls->cct_negotiated;
}

/** client_certificate_type: write the extension_data for msg. */
static void cct_send(const aq_tls *tls, aq_wbuf *w, unsigned msg) {
  if (msg == AQ_TLS_MSG_CH) {
    aq_wbuf_mark m;
    aq_wbuf_len_begin(w, AQ_LEN_U8, &m);
    if (tls->cfg.cred->spki != NULL) {
      aq_wbuf_u8(w, AQ_TLS_CERTTYPE_RPK);
    }
    if (tls->cfg.cred->cert != NULL && aq_tls_x509_ok(tls)) {
      aq_wbuf_u8(w, AQ_TLS_CERTTYPE_X509);
    }
    aq_wbuf_len_end(w, &m);
  } else {
    aq_wbuf_u8(w, tls->peer_cert_type);
  }
}

/** server_certificate_type: whether we send it in msg. */
static int sct_should_send(const aq_tls *tls, unsigned msg) {
  if (msg == AQ_TLS_MSG_CH) {
    return tls->cfg.offer_rpk;
  }
  return msg == AQ_TLS_MSG_EE && tls->sct_negotiated;
}

/** server_certificate_type: write the extension_data for msg. */
static void sct_send(const aq_tls *tls, aq_wbuf *w, unsigned msg) {
  if (msg == AQ_TLS_MSG_CH) {
    aq_wbuf_mark m;
    aq_wbuf_len_begin(w, AQ_LEN_U8, &m);
    aq_wbuf_u8(w, AQ_TLS_CERTTYPE_RPK);
    if (aq_tls_x509_ok(tls)) {
      aq_wbuf_u8(w, AQ_TLS_CERTTYPE_X509);
    }
    aq_wbuf_len_end(w, &m);
  } else {
    aq_wbuf_u8(w, tls->our_cert_type);
  }
}

/** RFC 7250 §3: the client sends a u8-prefixed list, the server one byte. */
static int certtype_recv(const uint8_t **out, size_t *outlen, unsigned msg, const uint8_t *data,
                         size_t len) {
  aq_rbuf r, sub;
  int rv;
  aq_rbuf_init(&r, data, len);
  if (msg == AQ_TLS_MSG_EE) {
    if (len != 1) {
      return AQ_ERR_MALFORMED;
    }
    *out = data;
    *outlen = 1;
    return 0;
  }
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U8, &sub)) != 0 || (rv = aq_rbuf_done(&r)) != 0) {
    return rv;
  }
  if (aq_rbuf_left(&sub) == 0) {
    return AQ_ERR_MALFORMED;
  }
  *out = sub.p;
  *outlen = aq_rbuf_left(&sub);
  return 0;
}

/** client_certificate_type: decode the extension_data into rx (pure). */
static int cct_recv(aq_tls_ext_rx *rx, unsigned msg, const uint8_t *data, size_t len) {
  return certtype_recv(&rx->cct, &rx->cct_len, msg, data, len);
}

/** server_certificate_type: decode the extension_data into rx (pure). */
static int sct_recv(aq_tls_ext_rx *rx, unsigned msg, const uint8_t *data, size_t len) {
  return certtype_recv(&rx->sct, &rx->sct_len, msg, data, len);
}

/* ------------------------------------------------------------- early_data */

static int early_should_send(const aq_tls *tls, unsigned msg) {
  return (msg == AQ_TLS_MSG_CH && tls->early_offered && !tls->hrr) ||
         (msg == AQ_TLS_MSG_EE && tls->early_accepted);
}

/** early_data: write the extension_data for msg. */
static void early_send(const aq_tls *tls, aq_wbuf *w, unsigned msg) {
  (void)tls;
  (void)w;
  (void)msg;
}

/** RFC 8446 §4.2.10: empty in CH/EE, a u32 max_early_data_size in NewSessionTicket. */
static int early_recv(aq_tls_ext_rx *rx, unsigned msg, const uint8_t *data, size_t len) {
  rx->early_data = 1;
  if (msg == AQ_TLS_MSG_NST) {
    aq_rbuf r;
    int rv;
    aq_rbuf_init(&r, data, len);
    if ((rv = aq_rbuf_u32(&r, &rx->max_early_data)) != 0) {
      return rv;
    }
    return aq_rbuf_done(&r);
  }
  return len == 0 ? 0 : AQ_ERR_MALFORMED;
}

/* ----------------------------------------------------- supported_versions */

static int versions_should_send(const aq_tls *tls, unsigned msg) {
  (void)tls;
  return msg == AQ_TLS_MSG_CH || msg == AQ_TLS_MSG_SH || msg == AQ_TLS_MSG_HRR;
}

/** supported_versions: write the extension_data for msg. */
static void versions_send(const aq_tls *tls, aq_wbuf *w, unsigned msg) {
  (void)tls;
  if (msg == AQ_TLS_MSG_CH) {
    aq_wbuf_u8(w, 2);
  }
  aq_wbuf_u16(w, AQ_TLS_VERSION_13);
}

/** RFC 8446 §4.2.1: a u8-prefixed version list in CH, selected_version in SH/HRR. */
static int versions_recv(aq_tls_ext_rx *rx, unsigned msg, const uint8_t *data, size_t len) {
  aq_rbuf r, sub;
  int rv;
  aq_rbuf_init(&r, data, len);
  if (msg != AQ_TLS_MSG_CH) {
    if ((rv = aq_rbuf_u16(&r, &rx->version)) != 0) {
      return rv;
    }
    return aq_rbuf_done(&r);
  }
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U8, &sub)) != 0 || (rv = aq_rbuf_done(&r)) != 0) {
    return rv;
  }
  if (aq_rbuf_left(&sub) == 0 || aq_rbuf_left(&sub) % 2 != 0) {
    return AQ_ERR_MALFORMED;
  }
  while (aq_rbuf_left(&sub) > 0) {
    uint16_t v;
    if ((rv = aq_rbuf_u16(&sub, &v)) != 0) {
      return rv;
    }
    if (v == AQ_TLS_VERSION_13) {
      rx->tls13_offered = 1;
    }
  }
  return 0;
}

/* A TLS 1.3 peer always sends it; without it the peer speaks an older version. */
static uint8_t versions_if_missing(const aq_tls *tls, unsigned msg) {
  (void)tls;
  (void)msg;
  return AQ_TLS_ALERT_PROTOCOL_VERSION;
}

/* ----------------------------------------------------------------- cookie */

static int cookie_should_send(const aq_tls *tls, unsigned msg) {
  return msg == AQ_TLS_MSG_CH && tls->cookie_len > 0;
}

/** cookie: write the extension_data for msg. */
static void cookie_send(const aq_tls *tls, aq_wbuf *w, unsigned msg) {
  (void)msg;
  aq_wbuf_u16(w, (uint16_t)tls->cookie_len);
  aq_wbuf_bytes(w, tls->cookie, tls->cookie_len);
}

/** cookie: decode the extension_data into rx (pure). */
static int cookie_recv(aq_tls_ext_rx *rx, unsigned msg, const uint8_t *data, size_t len) {
  aq_rbuf r, sub;
  int rv;
  (void)msg;
  aq_rbuf_init(&r, data, len);
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U16, &sub)) != 0 || (rv = aq_rbuf_done(&r)) != 0) {
    return rv;
  }
  if (aq_rbuf_left(&sub) == 0) {
    return AQ_ERR_MALFORMED;
  }
  rx->cookie = sub.p;
  rx->cookie_len = aq_rbuf_left(&sub);
  return 0;
}

/* ------------------------------------------------- psk_key_exchange_modes */

static int pskmodes_should_send(const aq_tls *tls, unsigned msg) {
  return msg == AQ_TLS_MSG_CH && tls->psk_offered;
}

/** psk_key_exchange_modes: write the extension_data for msg. */
static void pskmodes_send(const aq_tls *tls, aq_wbuf *w, unsigned msg) {
  (void)tls;
  (void)msg;
  aq_wbuf_u8(w, 1);
  aq_wbuf_u8(w, 1); /* psk_dhe_ke only: every handshake has a fresh (EC)DHE/KEM secret */
}

/** psk_key_exchange_modes: decode the extension_data into rx (pure). */
static int pskmodes_recv(aq_tls_ext_rx *rx, unsigned msg, const uint8_t *data, size_t len) {
  aq_rbuf r, sub;
  int rv;
  (void)msg;
  aq_rbuf_init(&r, data, len);
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U8, &sub)) != 0 || (rv = aq_rbuf_done(&r)) != 0) {
    return rv;
  }
  if (aq_rbuf_left(&sub) == 0) {
    return AQ_ERR_MALFORMED;
  }
  while (aq_rbuf_left(&sub) > 0) {
    uint8_t mode;
    if ((rv = aq_rbuf_u8(&sub, &mode)) != 0) {
      return rv;
    }
    if (mode == 1) { /* psk_dhe_ke */
      rx->psk_dhe_ke = 1;
    }
  }
  return 0;
}

/* -------------------------------------------------------------- key_share */

static int ks_should_send(const aq_tls *tls, unsigned msg) {
  (void)tls;
  return msg == AQ_TLS_MSG_CH || msg == AQ_TLS_MSG_SH || msg == AQ_TLS_MSG_HRR;
}

/** key_share: write the extension_data for msg. */
static void ks_send(const aq_tls *tls, aq_wbuf *w, unsigned msg) {
  aq_wbuf_mark m, e;
  switch (msg) {
  case AQ_TLS_MSG_CH:
    aq_wbuf_len_begin(w, AQ_LEN_U16, &m);
    for (size_t i = 0; i < tls->nshares; i++) {
      aq_wbuf_u16(w, tls->share[i].group->id);
      aq_wbuf_len_begin(w, AQ_LEN_U16, &e);
      aq_wbuf_bytes(w, tls->share[i].pub, tls->share[i].group->client_share_len);
      aq_wbuf_len_end(w, &e);
    }
    aq_wbuf_len_end(w, &m);
    break;
  case AQ_TLS_MSG_SH:
    aq_wbuf_u16(w, tls->group->id);
    aq_wbuf_u16(w, (uint16_t)tls->srv_share_len);
    aq_wbuf_bytes(w, tls->srv_share, tls->srv_share_len);
    break;
  default: /* HRR */ aq_wbuf_u16(w, tls->hrr_group); break;
  }
}

/** RFC 8446 §4.2.8: KeyShareClientHello / KeyShareServerHello / KeyShareHelloRetryRequest. */
static int ks_recv(aq_tls_ext_rx *rx, unsigned msg, const uint8_t *data, size_t len) {
  aq_rbuf r, sub, share;
  int rv;
  aq_rbuf_init(&r, data, len);
  switch (msg) {
  case AQ_TLS_MSG_CH:
    if ((rv = aq_rbuf_sub(&r, AQ_LEN_U16, &sub)) != 0 || (rv = aq_rbuf_done(&r)) != 0) {
      return rv;
    }
    rx->shares = sub.p;
    rx->shares_len = aq_rbuf_left(&sub);
    while (aq_rbuf_left(&sub) > 0) { /* structure only; the engine checks groups */
      uint16_t g;
      if ((rv = aq_rbuf_u16(&sub, &g)) != 0 || (rv = aq_rbuf_sub(&sub, AQ_LEN_U16, &share)) != 0) {
        return rv;
      }
      if (aq_rbuf_left(&share) == 0) {
        return AQ_ERR_MALFORMED;
      }
    }
    return 0;
  case AQ_TLS_MSG_SH:
    if ((rv = aq_rbuf_u16(&r, &rx->share_group)) != 0 ||
        (rv = aq_rbuf_sub(&r, AQ_LEN_U16, &share)) != 0 || (rv = aq_rbuf_done(&r)) != 0) {
      return rv;
    }
    if (aq_rbuf_left(&share) == 0) {
      return AQ_ERR_MALFORMED;
    }
    rx->share = share.p;
    rx->share_len = aq_rbuf_left(&share);
    return 0;
  default:
    if ((rv = aq_rbuf_u16(&r, &rx->share_group)) != 0) {
      return rv;
    }
    return aq_rbuf_done(&r);
  }
}

/* We only do (EC)DHE or psk_dhe_ke: a ClientHello or ServerHello without key_share fails. */
static uint8_t ks_if_missing(const aq_tls *tls, unsigned msg) {
  (void)tls;
  return (msg == AQ_TLS_MSG_CH || msg == AQ_TLS_MSG_SH) ? AQ_TLS_ALERT_MISSING_EXTENSION : 0;
}

/* ---------------------------------------------- quic_transport_parameters */

static int tp_should_send(const aq_tls *tls, unsigned msg) {
  return (msg == AQ_TLS_MSG_CH || msg == AQ_TLS_MSG_EE) && tls->cfg.transport_params != NULL;
}

/** quic_transport_parameters: write the extension_data for msg. */
static void tp_send(const aq_tls *tls, aq_wbuf *w, unsigned msg) {
  (void)msg;
  aq_wbuf_bytes(w, tls->cfg.transport_params, tls->cfg.transport_params_len);
}

/** quic_transport_parameters: decode the extension_data into rx (pure). */
static int tp_recv(aq_tls_ext_rx *rx, unsigned msg, const uint8_t *data, size_t len) {
  (void)msg;
  rx->tp = data;
  rx->tp_len = len;
  return 0;
}

/* RFC 9001 §8.2: "endpoints that receive ClientHello or EncryptedExtensions messages without
 * the quic_transport_parameters extension MUST close the connection with ... 0x016d"
 * (missing_extension). */
static uint8_t tp_if_missing(const aq_tls *tls, unsigned msg) {
  return (tls->cfg.quic && (msg == AQ_TLS_MSG_CH || msg == AQ_TLS_MSG_EE))
             ? AQ_TLS_ALERT_MISSING_EXTENSION
             : 0;
}

/* --------------------------------------------------------- pre_shared_key */

static int psk_should_send(const aq_tls *tls, unsigned msg) {
  return (msg == AQ_TLS_MSG_CH && tls->psk_offered) || (msg == AQ_TLS_MSG_SH && tls->psk_accepted);
}

/**
 * CH: one identity (ticket, obfuscated age) and a zero binder that the engine
 * patches once the rest of the ClientHello is known (§4.2.11.2); SH: index 0.
 */
static void psk_send(const aq_tls *tls, aq_wbuf *w, unsigned msg) {
  aq_wbuf_mark m, e;
  size_t hlen;
  if (msg == AQ_TLS_MSG_SH) {
    aq_wbuf_u16(w, 0);
    return;
  }
  hlen = aq_hash_len(tls->psk_suite->hash);
  aq_wbuf_len_begin(w, AQ_LEN_U16, &m);
  aq_wbuf_len_begin(w, AQ_LEN_U16, &e);
  aq_wbuf_bytes(w, tls->sess.ticket, tls->sess.ticket_len);
  aq_wbuf_len_end(w, &e);
  aq_wbuf_u32(w, tls->obf_age);
  aq_wbuf_len_end(w, &m);
  aq_wbuf_u16(w, (uint16_t)(1 + hlen));
  aq_wbuf_u8(w, (uint8_t)hlen);
  aq_wbuf_zeros(w, hlen);
}

/** RFC 8446 §4.2.11: identities + binders in CH, selected_identity in SH. */
static int psk_recv(aq_tls_ext_rx *rx, unsigned msg, const uint8_t *data, size_t len) {
  aq_rbuf r, ids, binders;
  int rv;
  aq_rbuf_init(&r, data, len);
  if (msg == AQ_TLS_MSG_SH) {
    if ((rv = aq_rbuf_u16(&r, &rx->psk_selected)) != 0) {
      return rv;
    }
    return aq_rbuf_done(&r);
  }
  if ((rv = aq_rbuf_sub(&r, AQ_LEN_U16, &ids)) != 0 ||
      (rv = aq_rbuf_sub(&r, AQ_LEN_U16, &binders)) != 0 || (rv = aq_rbuf_done(&r)) != 0) {
    return rv;
  }
  if (aq_rbuf_left(&ids) == 0 || aq_rbuf_left(&binders) == 0) {
    return AQ_ERR_MALFORMED;
  }
  rx->psk_ids = ids.p;
  rx->psk_ids_len = aq_rbuf_left(&ids);
  rx->psk_binders = binders.p;
  rx->psk_binders_len = aq_rbuf_left(&binders);
  return 0;
}

static uint8_t none_missing(const aq_tls *tls, unsigned msg) {
  (void)tls;
  (void)msg;
  return 0;
}

/* ------------------------------------------------------------------ table */

#define CH AQ_TLS_MSG_CH
#define SH AQ_TLS_MSG_SH
#define HRR AQ_TLS_MSG_HRR
#define EE AQ_TLS_MSG_EE
#define CR AQ_TLS_MSG_CR
#define NST AQ_TLS_MSG_NST

static const aq_tls_ext_desc ext_table[] = {
    {AQ_TLS_EXT_SUPPORTED_VERSIONS, CH | SH | HRR, versions_should_send, versions_send,
     versions_recv, versions_if_missing},
    {AQ_TLS_EXT_SERVER_NAME, CH | EE, sni_should_send, sni_send, sni_recv, none_missing},
    {AQ_TLS_EXT_SUPPORTED_GROUPS, CH | EE, groups_should_send, groups_send, groups_recv,
     none_missing},
    {AQ_TLS_EXT_SIGNATURE_ALGORITHMS, CH | CR, sigalgs_should_send, sigalgs_send, sigalgs_recv,
     sigalgs_if_missing},
    {AQ_TLS_EXT_ALPN, CH | EE, alpn_should_send, alpn_send, alpn_recv, none_missing},
    {AQ_TLS_EXT_CLIENT_CERT_TYPE, CH | EE, cct_should_send, cct_send, cct_recv, none_missing},
    {AQ_TLS_EXT_SERVER_CERT_TYPE, CH | EE, sct_should_send, sct_send, sct_recv, none_missing},
    {AQ_TLS_EXT_COOKIE, CH | HRR, cookie_should_send, cookie_send, cookie_recv, none_missing},
    {AQ_TLS_EXT_PSK_KEY_EXCHANGE_MODES, CH, pskmodes_should_send, pskmodes_send, pskmodes_recv,
     none_missing},
    {AQ_TLS_EXT_KEY_SHARE, CH | SH | HRR, ks_should_send, ks_send, ks_recv, ks_if_missing},
    {AQ_TLS_EXT_QUIC_TRANSPORT_PARAMETERS, CH | EE, tp_should_send, tp_send, tp_recv,
     tp_if_missing},
    {AQ_TLS_EXT_EARLY_DATA, CH | EE | NST, early_should_send, early_send, early_recv, none_missing},
    /* MUST stay last (RFC 8446 §4.2.11). */
    {AQ_TLS_EXT_PRE_SHARED_KEY, CH | SH, psk_should_send, psk_send, psk_recv, none_missing},
};

#define NROWS (sizeof(ext_table) / sizeof(ext_table[0]))

/** Row index (see header). */
int aq_tls_ext_index(uint16_t type) {
  for (size_t i = 0; i < NROWS; i++) {
    if (ext_table[i].type == type) {
      return (int)i;
    }
  }
  return -1;
}

/** Pure decode of a message's extensions (see header). */
int aq_tls_ext_decode(aq_tls_ext_rx *rx, uint8_t *alert, const aq_tls_ext_list *l, unsigned msg) {
  memset(rx, 0, sizeof(*rx));
  for (size_t i = 0; i < l->n; i++) {
    int idx = aq_tls_ext_index(l->ext[i].type);
    int rv;
    if (idx < 0) {
      continue;
    }
    /* RFC 8446 §4.2: "If an implementation receives an extension which it recognizes and which
     * is not specified for the message in which it appears, it MUST abort the handshake with an
     * "illegal_parameter" alert." */
    if ((ext_table[idx].msgs & msg) == 0) {
      *alert = AQ_TLS_ALERT_ILLEGAL_PARAMETER;
      return AQ_ERR_PROTO;
    }
    rv = ext_table[idx].recv(rx, msg, l->ext[i].data, l->ext[i].len);
    if (rv != 0) {
      *alert = aq_tls_msg_alert(rv);
      return AQ_ERR_PROTO;
    }
    rx->seen |= 1u << idx;
  }
  return 0;
}

/** Write the extension block of msg (see header). */
uint32_t aq_tls_ext_send_all(const aq_tls *tls, aq_wbuf *w, unsigned msg) {
  aq_wbuf_mark block, one;
  uint32_t sent = 0;
  aq_wbuf_len_begin(w, AQ_LEN_U16, &block);
  for (size_t i = 0; i < NROWS; i++) {
    if ((ext_table[i].msgs & msg) == 0 || !ext_table[i].should_send(tls, msg)) {
      continue;
    }
    aq_wbuf_u16(w, ext_table[i].type);
    aq_wbuf_len_begin(w, AQ_LEN_U16, &one);
    ext_table[i].send(tls, w, msg);
    aq_wbuf_len_end(w, &one);
    sent |= 1u << i;
  }
  aq_wbuf_len_end(w, &block);
  return sent;
}

/** Missing-extension check (see header). */
uint8_t aq_tls_ext_check_missing(const aq_tls *tls, const aq_tls_ext_rx *rx, unsigned msg) {
  for (size_t i = 0; i < NROWS; i++) {
    if ((ext_table[i].msgs & msg) != 0 && (rx->seen & (1u << i)) == 0) {
      uint8_t a = ext_table[i].if_missing(tls, msg);
      if (a != 0) {
        return a;
      }
    }
  }
  return 0;
}
