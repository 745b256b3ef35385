/*
 * aq_tls_server.c - the server side of the handshake (RFC 8446 §4): the
 * ClientHello (suite/group/ALPN/certificate-type negotiation, PSK and 0-RTT
 * acceptance, HelloRetryRequest), our flight, the client's Finished and the
 * NewSessionTicket.  Handlers return 0 or an alert; the state table lives in
 * aq_tls.c.
 */
#include <string.h>

#include "aq_ct.h"
#include "aq_mem.h"
#include "aq_tls_cert.h"
#include "aq_tls_int.h"

/* ================================================================ server */

/** Choose the suite: ours in preference order, if the client offered it. */
static const aq_tls_suite *server_pick_suite(const aq_tls *tls, const aq_tls_ch *ch) {
  for (size_t i = 0; i < tls->nsuites; i++) {
    if (aq_tls_u16_list_has(ch->suites, ch->suites_len, tls->suites[i])) {
      return aq_tls_suite_find(tls->suites[i]);
    }
  }
  return NULL;
}

/** Is group g allowed under require_pq? */
static int group_allowed(const aq_tls *tls, const aq_tls_group *g) {
  return !tls->cfg.require_pq || g->post_quantum;
}

/**
 * Walk the client's KeyShareEntry list: check it (§4.2.8: no duplicate groups,
 * each group in supported_groups, exact share sizes for groups we know) and
 * find the share for our most preferred group.  Returns 0 or an alert.
 */
static uint8_t server_pick_share(const aq_tls *tls, const aq_tls_ext_rx *rx,
                                 const aq_tls_group **group, const uint8_t **share,
                                 size_t *nentries) {
  aq_rbuf r;
  uint16_t seen[64];
  size_t nseen = 0;
  size_t best = SIZE_MAX;
  *group = NULL;
  *share = NULL;
  aq_rbuf_init(&r, rx->shares, rx->shares_len);
  while (aq_rbuf_left(&r) > 0) {
    uint16_t gid;
    aq_rbuf ke;
    if (aq_rbuf_u16(&r, &gid) != 0 || aq_rbuf_sub(&r, AQ_LEN_U16, &ke) != 0) {
      return AQ_TLS_ALERT_DECODE_ERROR;
    }
    for (size_t i = 0; i < nseen; i++) {
      if (seen[i] == gid) {
        /* "Clients MUST NOT offer multiple KeyShareEntry values for the same group." */
        return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
      }
    }
    if (nseen == sizeof(seen) / sizeof(seen[0])) {
      return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
    }
    seen[nseen++] = gid;
    /* "Clients MUST NOT offer any KeyShareEntry values for groups not listed in the client's
     * "supported_groups" extension." */
    if (!aq_tls_u16_list_has(rx->groups, rx->groups_len, gid)) {
      return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
    }
    for (size_t i = 0; i < tls->ngroups; i++) {
      const aq_tls_group *g = tls->groups[i];
      if (g->id != gid) {
        continue;
      }
      if (aq_rbuf_left(&ke) != g->client_share_len) {
        return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
      }
      if (i < best && group_allowed(tls, g)) {
        best = i;
        *group = g;
        *share = ke.p;
      }
    }
  }
  *nentries = nseen;
  return 0;
}

/** Send HelloRetryRequest for group g (RFC 8446 §4.1.4). */
static uint8_t server_send_hrr(aq_tls *tls, const uint8_t *msg, size_t msglen, const aq_tls_ch *ch,
                               const aq_tls_suite *suite, const aq_tls_group *g) {
  aq_wbuf w;
  aq_wbuf_mark m;
  uint8_t a;
  tls->suite = suite;
  tls->hrr = 1;
  tls->hrr_suite = suite->id;
  tls->hrr_group = g->id;
  aq_tls_th_select(tls, suite->hash);
  if ((a = aq_tls_th_add(tls, msg, msglen)) != 0 || (a = aq_tls_th_message_hash(tls)) != 0) {
    return a;
  }
  aq_wbuf_init(&w, tls->sbuf, tls->scap);
  aq_tls_sh_encode_head(&w, &m, aq_tls_hrr_random, ch->session_id, ch->session_id_len, suite->id);
  (void)aq_tls_ext_send_all(tls, &w, AQ_TLS_MSG_HRR);
  aq_tls_msg_end(&w, &m);
  if ((a = aq_tls_th_add_written(tls, &w, 0)) != 0) {
    return a;
  }
  tls->state = AQ_TLS_ST_S_WAIT_CH2;
  return aq_tls_emit(tls, AQ_EPOCH_INITIAL, w.begin, aq_wbuf_len(&w));
}

/** Negotiate certificate types (RFC 7250 §4.2) into *ours / *peers. */
static uint8_t server_pick_cert_types(aq_tls *tls, const aq_tls_ext_rx *rx, uint8_t *ours,
                                      uint8_t *peers) {
  const aq_tls_credential *cred = tls->cfg.cred;
  *ours = 0xff;
  if (rx->sct != NULL) {
    for (size_t i = 0; i < rx->sct_len && *ours == 0xff; i++) {
      if (rx->sct[i] == AQ_TLS_CERTTYPE_RPK && tls->cfg.offer_rpk && cred->spki != NULL) {
        *ours = AQ_TLS_CERTTYPE_RPK;
      } else if (rx->sct[i] == AQ_TLS_CERTTYPE_X509 && cred->cert != NULL && aq_tls_x509_ok(tls)) {
        *ours = AQ_TLS_CERTTYPE_X509;
      }
    }
  } else if (cred->cert != NULL) {
    *ours = AQ_TLS_CERTTYPE_X509;
  }
  if (*ours == 0xff) {
    return AQ_TLS_ALERT_UNSUPPORTED_CERTIFICATE;
  }
  *peers = AQ_TLS_CERTTYPE_X509;
  if (tls->cfg.request_client_auth && rx->cct != NULL) {
    *peers = 0xff;
    for (size_t i = 0; i < rx->cct_len && *peers == 0xff; i++) {
      if (rx->cct[i] == AQ_TLS_CERTTYPE_RPK && tls->cfg.offer_rpk) {
        *peers = AQ_TLS_CERTTYPE_RPK;
      } else if (rx->cct[i] == AQ_TLS_CERTTYPE_X509 && aq_tls_x509_ok(tls)) {
        *peers = AQ_TLS_CERTTYPE_X509;
      }
    }
    if (*peers == 0xff) {
      return AQ_TLS_ALERT_UNSUPPORTED_CERTIFICATE;
    }
  }
  return 0;
}

/** RFC 7301 §3.2: pick our most preferred protocol the client offered. */
static uint8_t server_pick_alpn(const aq_tls *tls, const aq_tls_ext_rx *rx, const char **out) {
  *out = NULL;
  for (size_t i = 0; i < tls->cfg.nalpn && rx->alpn != NULL && *out == NULL; i++) {
    size_t n = strlen(tls->cfg.alpn[i]);
    aq_rbuf r;
    aq_rbuf_init(&r, rx->alpn, rx->alpn_len);
    while (aq_rbuf_left(&r) > 0) {
      aq_rbuf name;
      if (aq_rbuf_sub(&r, AQ_LEN_U8, &name) != 0) {
        return AQ_TLS_ALERT_DECODE_ERROR;
      }
      if (aq_rbuf_left(&name) == n && memcmp(name.p, tls->cfg.alpn[i], n) == 0) {
        *out = tls->cfg.alpn[i];
        break;
      }
    }
  }
  /* "In the event that the server supports no protocols that the client advertises, then the
   * server SHALL respond with a fatal "no_application_protocol" alert." */
  if (*out == NULL && tls->cfg.alpn_required) {
    return AQ_TLS_ALERT_NO_APPLICATION_PROTOCOL;
  }
  return 0;
}

/** Server: ServerHello, then EE [CR] Certificate CertificateVerify Finished. */
static uint8_t server_send_flight(aq_tls *tls, const uint8_t *msg, size_t msglen,
                                  const aq_tls_ch *ch, const uint8_t *secret, size_t secretlen) {
  uint8_t thash[AQ_HASH_MAX_LEN], s_ap[AQ_HASH_MAX_LEN], a;
  aq_wbuf w;
  aq_wbuf_mark m;
  size_t from;
  if ((a = aq_tls_th_add(tls, msg, msglen)) != 0) {
    return a;
  }
  if (aq_tls_ks_init(&tls->ks, tls->cfg.algs, tls->suite->hash, tls->psk_accepted ? tls->psk : NULL,
                     tls->psk_accepted ? tls->psk_len : 0) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  if (tls->early_accepted) {
    /* client_early_traffic_secret over the ClientHello: our 0-RTT read key. */
    uint8_t ets[AQ_HASH_MAX_LEN];
    if ((a = aq_tls_th_hash(tls, thash)) == 0 &&
        aq_tls_ks_derive(&tls->ks, ets, "c e traffic", thash) != 0) {
      a = AQ_TLS_ALERT_INTERNAL_ERROR;
    }
    if (a == 0) {
      a = aq_tls_install(tls, AQ_EPOCH_0RTT, 0, ets);
    }
    aq_memzero(ets, sizeof(ets));
    if (a != 0) {
      return a;
    }
  }
  if (tls->cb.rand(tls->random, sizeof(tls->random), tls->ud) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  aq_wbuf_init(&w, tls->sbuf, tls->scap);
  aq_tls_sh_encode_head(&w, &m, tls->random, ch->session_id, ch->session_id_len, tls->suite->id);
  (void)aq_tls_ext_send_all(tls, &w, AQ_TLS_MSG_SH);
  aq_tls_msg_end(&w, &m);
  if ((a = aq_tls_th_add_written(tls, &w, 0)) != 0 || (a = aq_tls_th_hash(tls, thash)) != 0 ||
      (a = aq_tls_emit(tls, AQ_EPOCH_INITIAL, w.begin, aq_wbuf_len(&w))) != 0) {
    return a;
  }
  if (aq_tls_ks_advance(&tls->ks, secret, secretlen) != 0 ||
      aq_tls_ks_derive_hs(&tls->ks, thash, tls->c_hs, tls->s_hs) != 0) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  if ((a = aq_tls_install(tls, AQ_EPOCH_HANDSHAKE, 1, tls->s_hs)) != 0 ||
      (a = aq_tls_install(tls, AQ_EPOCH_HANDSHAKE, 0, tls->c_hs)) != 0) {
    return a;
  }
  /* EncryptedExtensions */
  aq_wbuf_init(&w, tls->sbuf, tls->scap);
  aq_tls_msg_begin(&w, AQ_TLS_HS_ENCRYPTED_EXTENSIONS, &m);
  (void)aq_tls_ext_send_all(tls, &w, AQ_TLS_MSG_EE);
  aq_tls_msg_end(&w, &m);
  if ((a = aq_tls_th_add_written(tls, &w, 0)) != 0) {
    return a;
  }
  if (tls->client_auth) {
    from = aq_wbuf_len(&w);
    aq_tls_msg_begin(&w, AQ_TLS_HS_CERTIFICATE_REQUEST, &m);
    aq_wbuf_u8(&w, 0); /* certificate_request_context: empty in the handshake */
    (void)aq_tls_ext_send_all(tls, &w, AQ_TLS_MSG_CR);
    aq_tls_msg_end(&w, &m);
    if ((a = aq_tls_th_add_written(tls, &w, from)) != 0) {
      return a;
    }
  }
  /* With a PSK the server does not authenticate with a certificate (§2.2). */
  if ((!tls->psk_accepted && (a = aq_tls_write_cert_cv(tls, &w, 0)) != 0) ||
      (a = aq_tls_write_finished(tls, &w, tls->s_hs)) != 0 ||
      (a = aq_tls_emit(tls, AQ_EPOCH_HANDSHAKE, w.begin, aq_wbuf_len(&w))) != 0) {
    return a;
  }
  if ((a = aq_tls_derive_app_secrets(tls, s_ap)) == 0) {
    a = aq_tls_install(tls, AQ_EPOCH_1RTT, 1, s_ap);
  }
  aq_memzero(s_ap, sizeof(s_ap));
  if (a != 0) {
    return a;
  }
  tls->state = tls->client_auth ? AQ_TLS_ST_S_WAIT_CERT : AQ_TLS_ST_S_WAIT_FIN;
  return 0;
}

/**
 * Server: try the client's first PSK identity (RFC 8446 §4.2.11).  A ticket
 * we cannot open, of another hash, or expired is ignored (full handshake);
 * a bad binder is fatal (decrypt_error).  On success tls->psk/psk_accepted,
 * the original peer key and the 0-RTT decision are set.
 */
static uint8_t server_try_psk(aq_tls *tls, const aq_tls_ch *ch, const aq_tls_ext_rx *rx,
                              const uint8_t *msg, const aq_tls_suite *suite, const char *alpn) {
  aq_rbuf ids, binders, id, b;
  uint32_t obf_age = 0;
  size_t nids = 0, nbinders = 0, hlen = aq_hash_len(suite->hash);
  const uint8_t *binder = NULL;
  uint8_t a;
  /* Count identities and binders: "the number of binders MUST match the number of identities". */
  aq_rbuf_init(&ids, rx->psk_ids, rx->psk_ids_len);
  while (aq_rbuf_left(&ids) > 0) {
    uint32_t age;
    if (aq_rbuf_sub(&ids, AQ_LEN_U16, &id) != 0 || aq_rbuf_u32(&ids, &age) != 0 ||
        aq_rbuf_left(&id) == 0) {
      return AQ_TLS_ALERT_DECODE_ERROR;
    }
    if (nids++ == 0) {
      b = id;
      obf_age = age;
    }
  }
  id = b;
  aq_rbuf_init(&binders, rx->psk_binders, rx->psk_binders_len);
  while (aq_rbuf_left(&binders) > 0) {
    aq_rbuf one;
    if (aq_rbuf_sub(&binders, AQ_LEN_U8, &one) != 0 || aq_rbuf_left(&one) < 32) {
      return AQ_TLS_ALERT_DECODE_ERROR;
    }
    if (nbinders++ == 0) {
      binder = aq_rbuf_left(&one) == hlen ? one.p : NULL;
    }
  }
  if (nids != nbinders) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if (tls->cfg.ticket_key == NULL || !rx->psk_dhe_ke || binder == NULL) {
    return 0;
  }
  size_t tlen = aq_rbuf_left(&id);
  uint8_t *pt = aq_mem_malloc(tls->mem, tlen);
  if (pt == NULL) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  aq_tls_session s;
  aq_ssize n = aq_tls_ticket_open(pt, tlen, tls->cfg.ticket_key, id.p, tlen);
  a = 0;
  if (n < 0 || aq_tls_session_decode(&s, pt, (size_t)n, 0) != 0 || s.suite == 0 ||
      aq_tls_suite_find(s.suite) == NULL || aq_tls_suite_find(s.suite)->hash != suite->hash ||
      s.psk_len != hlen || tls->now < s.ts || (tls->now - s.ts) / AQ_SECONDS >= s.lifetime_s) {
    goto out; /* not usable: full handshake */
  }
  uint8_t want[AQ_HASH_MAX_LEN];
  if ((a = aq_tls_psk_binder(tls, want, suite, s.psk, msg,
                             AQ_TLS_HS_HEADER_LEN + ch->binders_off)) != 0) {
    goto out;
  }
  if (!aq_ct_memeq(want, binder, hlen)) {
    a = AQ_TLS_ALERT_DECRYPT_ERROR;
    goto out;
  }
  if ((a = aq_tls_keep_copy(tls, &tls->peer_spki, &tls->peer_spki_len, s.spki, s.spki_len)) != 0) {
    goto out;
  }
  memcpy(tls->psk, s.psk, hlen);
  tls->psk_len = hlen;
  tls->psk_accepted = 1;
  tls->peer_authenticated = s.spki_len > 0;
  /* 0-RTT (§4.2.10): first ClientHello only, allowed by the ticket and by us, same ALPN, and a
   * ticket age within 10 s of what we expect (§8.3 freshness). */
  uint64_t server_age_ms = (tls->now - s.ts) / AQ_MILLISECONDS;
  uint32_t client_age_ms = obf_age - s.age_add;
  uint64_t skew =
      server_age_ms > client_age_ms ? server_age_ms - client_age_ms : client_age_ms - server_age_ms;
  size_t alpn_len = alpn != NULL ? strlen(alpn) : 0;
  tls->early_accepted = rx->early_data && !tls->hrr && tls->cfg.quic &&
                        tls->cfg.accept_early_data && s.max_early_data != 0 && skew <= 10000 &&
                        alpn_len == s.alpn_len &&
                        (alpn_len == 0 || memcmp(alpn, s.alpn, alpn_len) == 0);
out:
  aq_memzero(pt, tlen);
  aq_mem_free(tls->mem, pt);
  return a;
}

/** ClientHello (RFC 8446 §4.1.2), first or after our HelloRetryRequest. */
uint8_t aq_tls_server_on_ch(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                            size_t bodylen) {
  aq_tls_ch ch;
  aq_tls_ext_rx rx;
  uint8_t a = 0;
  int rv = aq_tls_ch_decode(&ch, body, bodylen);
  if (rv != 0) {
    return aq_tls_msg_alert(rv);
  }
  memcpy(tls->client_random, ch.random, AQ_TLS_RANDOM_LEN); /* key log (NSS format) */
  tls->has_client_random = 1;
  if (aq_tls_ext_decode(&rx, &a, &ch.exts, AQ_TLS_MSG_CH) != 0) {
    return a;
  }
  /* §4.2.1: a ClientHello without 0x0304 in supported_versions is an older TLS. */
  if (!rx.tls13_offered) {
    return AQ_TLS_ALERT_PROTOCOL_VERSION;
  }
  /* §4.1.2: "For every TLS 1.3 ClientHello, this vector MUST contain exactly one byte, set to
   * zero ... the server MUST abort the handshake with an "illegal_parameter" alert." */
  if (ch.compression_len != 1 || ch.compression[0] != 0) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  /* RFC 9001 §8.4: a non-empty legacy_session_id in QUIC is a protocol violation. */
  if (tls->cfg.quic && ch.session_id_len != 0) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if ((a = aq_tls_ext_check_missing(tls, &rx, AQ_TLS_MSG_CH)) != 0) {
    return a;
  }
  /* §9.2: key_share requires supported_groups. */
  if (rx.groups == NULL) {
    return AQ_TLS_ALERT_MISSING_EXTENSION;
  }
  const aq_tls_suite *suite = server_pick_suite(tls, &ch);
  if (suite == NULL) {
    return AQ_TLS_ALERT_HANDSHAKE_FAILURE;
  }
  /* §4.1.4: the second ClientHello must be consistent with our HelloRetryRequest. */
  if (tls->hrr && suite->id != tls->hrr_suite) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  const aq_tls_group *g;
  const uint8_t *share;
  size_t nentries = 0;
  if ((a = server_pick_share(tls, &rx, &g, &share, &nentries)) != 0) {
    return a;
  }
  if (tls->hrr && (g == NULL || g->id != tls->hrr_group || nentries != 1)) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  const aq_tls_group *retry = NULL;
  if (g == NULL) {
    for (size_t i = 0; i < tls->ngroups && retry == NULL; i++) {
      if (group_allowed(tls, tls->groups[i]) &&
          aq_tls_u16_list_has(rx.groups, rx.groups_len, tls->groups[i]->id)) {
        retry = tls->groups[i];
      }
    }
    if (retry == NULL) {
      /* "If the server is unable to negotiate a supported set of parameters ... it MUST abort
       * the handshake with either a "handshake_failure" or "insufficient_security"". */
      return tls->cfg.require_pq ? AQ_TLS_ALERT_INSUFFICIENT_SECURITY
                                 : AQ_TLS_ALERT_HANDSHAKE_FAILURE;
    }
  }
  if (tls->cfg.cred == NULL || tls->cfg.cred->sign == NULL) {
    return AQ_TLS_ALERT_INTERNAL_ERROR;
  }
  /* §4.4.2.2: the certificate must be signable with a scheme the client offered. */
  if (!aq_tls_u16_list_has(rx.sigalgs, rx.sigalgs_len, tls->cfg.cred->sig_scheme)) {
    return AQ_TLS_ALERT_HANDSHAKE_FAILURE;
  }
  uint8_t our_type, peer_type;
  if ((a = server_pick_cert_types(tls, &rx, &our_type, &peer_type)) != 0) {
    return a;
  }
  const char *alpn;
  if ((a = server_pick_alpn(tls, &rx, &alpn)) != 0) {
    return a;
  }
  if (rx.sni != NULL) {
    if (rx.sni_len > AQ_TLS_MAX_SNI_LEN || memchr(rx.sni, 0, rx.sni_len) != NULL) {
      return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
    }
  }
  /* §4.2.9: "If clients offer "pre_shared_key" without a "psk_key_exchange_modes" extension,
   * servers MUST abort the handshake." */
  if (rx.psk_ids != NULL &&
      (rx.seen & (1u << aq_tls_ext_index(AQ_TLS_EXT_PSK_KEY_EXCHANGE_MODES))) == 0) {
    return AQ_TLS_ALERT_MISSING_EXTENSION;
  }
  /* §4.2.10: "A client MUST NOT include the "early_data" extension in its followup ClientHello." */
  if (tls->hrr && rx.early_data) {
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if (retry != NULL) {
    return server_send_hrr(tls, msg, msglen, &ch, suite, retry);
  }
  aq_tls_th_select(tls, suite->hash);
  if (rx.psk_ids != NULL && (a = server_try_psk(tls, &ch, &rx, msg, suite, alpn)) != 0) {
    return a;
  }
  uint8_t secret[AQ_TLS_GROUP_MAX_SECRET];
  size_t secretlen = 0;
  if (aq_tls_group_exchange(g, tls->srv_share, secret, &secretlen, share, &tls->x25519_pre,
                            tls->cfg.x25519_pre_key, tls->cb.rand, tls->ud) != 0) {
    aq_memzero(secret, sizeof(secret));
    return AQ_TLS_ALERT_ILLEGAL_PARAMETER;
  }
  if (rx.tp != NULL &&
      (a = aq_tls_keep_copy(tls, &tls->peer_tp, &tls->peer_tp_len, rx.tp, rx.tp_len)) != 0) {
    aq_memzero(secret, sizeof(secret));
    return a;
  }
  /* Commit the negotiated parameters. */
  tls->peer_tp_seen = rx.tp != NULL;
  tls->suite = suite;
  tls->group = g;
  tls->srv_share_len = g->server_share_len;
  tls->our_cert_type = our_type;
  tls->peer_cert_type = peer_type;
  tls->sct_negotiated = rx.sct != NULL;
  tls->client_auth = tls->cfg.request_client_auth && !tls->psk_accepted;
  tls->cct_negotiated = tls->client_auth && rx.cct != NULL;
  if (alpn != NULL) {
    memcpy(tls->alpn, alpn, strlen(alpn) + 1);
  }
  if (rx.sni != NULL) {
    memcpy(tls->sni, rx.sni, rx.sni_len);
    tls->sni[rx.sni_len] = '\0';
  }
  aq_tls_th_select(tls, suite->hash);
  a = server_send_flight(tls, msg, msglen, &ch, secret, secretlen);
  aq_memzero(secret, sizeof(secret));
  return a;
}

/**
 * Server: issue one NewSessionTicket at 1-RTT (RFC 8446 §4.6.1): the
 * resumption state sealed under cfg.ticket_key; max_early_data 0xffffffff
 * when we accept 0-RTT (RFC 9001 §4.6.1).
 */
static uint8_t server_send_ticket(aq_tls *tls) {
  static const uint8_t nonce[1] = {0};
  uint8_t psk[AQ_HASH_MAX_LEN], rnd[16];
  size_t hlen = aq_hash_len(tls->suite->hash);
  aq_tls_session s;
  uint8_t a = AQ_TLS_ALERT_INTERNAL_ERROR;
  if (tls->cb.rand(rnd, sizeof(rnd), tls->ud) != 0 ||
      aq_tls_ks_ticket_psk(tls->cfg.algs, tls->suite->hash, psk, tls->res_master, nonce,
                           sizeof(nonce)) != 0) {
    return a;
  }
  memset(&s, 0, sizeof(s));
  s.suite = tls->suite->id;
  s.ts = tls->now;
  s.lifetime_s = tls->cfg.ticket_lifetime_s == 0 ? 86400 : tls->cfg.ticket_lifetime_s;
  if (s.lifetime_s > 604800) {
    s.lifetime_s = 604800;
  }
  s.age_add =
      ((uint32_t)rnd[12] << 24) | ((uint32_t)rnd[13] << 16) | ((uint32_t)rnd[14] << 8) | rnd[15];
  s.max_early_data = tls->cfg.accept_early_data ? 0xffffffffu : 0;
  s.psk = psk;
  s.psk_len = hlen;
  s.alpn = (const uint8_t *)tls->alpn;
  s.alpn_len = strlen(tls->alpn);
  s.spki = tls->peer_spki;
  s.spki_len = tls->peer_spki_len;
  size_t cap = 64 + s.alpn_len + s.spki_len + hlen;
  uint8_t *pt = aq_mem_malloc(tls->mem, 2 * cap + AQ_TLS_TICKET_OVERHEAD);
  if (pt == NULL) {
    aq_memzero(psk, sizeof(psk));
    return a;
  }
  uint8_t *ticket = pt + cap;
  aq_wbuf w;
  aq_wbuf_init(&w, pt, cap);
  aq_tls_session_encode(&w, &s, 0);
  if (aq_wbuf_error(&w) == 0) {
    aq_ssize n = aq_tls_ticket_seal(ticket, cap + AQ_TLS_TICKET_OVERHEAD, tls->cfg.ticket_key, rnd,
                                    pt, aq_wbuf_len(&w));
    if (n > 0 && (size_t)n + 64 <= tls->scap) {
      aq_wbuf_init(&w, tls->sbuf, tls->scap);
      aq_tls_nst_encode(&w, s.lifetime_s, s.age_add, nonce, sizeof(nonce), ticket, (size_t)n,
                        s.max_early_data);
      if (aq_wbuf_error(&w) == 0) {
        a = aq_tls_emit(tls, AQ_EPOCH_1RTT, w.begin, aq_wbuf_len(&w));
      }
    }
  }
  aq_memzero(pt, 2 * cap + AQ_TLS_TICKET_OVERHEAD);
  aq_mem_free(tls->mem, pt);
  aq_memzero(psk, sizeof(psk));
  return a;
}

/** Server: the client's Finished (RFC 8446 §4.4.4). */
uint8_t aq_tls_server_on_fin(aq_tls *tls, const uint8_t *msg, size_t msglen, const uint8_t *body,
                             size_t bodylen) {
  uint8_t a;
  if ((a = aq_tls_check_finished(tls, body, bodylen, tls->c_hs)) != 0 ||
      (a = aq_tls_th_add(tls, msg, msglen)) != 0 ||
      (a = aq_tls_install(tls, AQ_EPOCH_1RTT, 0, tls->c_ap)) != 0 ||
      (a = aq_tls_finish_handshake(tls)) != 0) {
    return a;
  }
  tls->state = AQ_TLS_ST_S_DONE;
  if (tls->cfg.ticket_key != NULL) {
    return server_send_ticket(tls);
  }
  return 0;
}
