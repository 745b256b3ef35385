/*
 * test_tls_alerts.c - one specific protocol violation at a time, each
 * expected to end the handshake with the alert RFC 8446 (or RFC 9001/7301)
 * names.  A real message from our own peer is decoded, one field or
 * extension is rewritten, the message is re-encoded and fed to the engine.
 */
#include <stdlib.h>
#include <string.h>

#include "aq_crypto.h"
#include "aq_test.h"
#include "aq_tls.h"
#include "aq_tls_cert.h"
#include "aq_tls_ext.h"
#include "aq_tls_msg.h"

/* ------------------------------------------------------------ a minimal pair */

typedef struct ep {
  aq_tls *tls;
  uint64_t rng;
  uint8_t out[4][8192]; /* per epoch, appended */
  size_t outlen[4];
  uint8_t seed[32], spki[64];
  aq_tls_credential cred;
} ep;

static int ep_send(void *ud, aq_epoch e, const uint8_t *d, size_t n) {
  ep *p = ud;
  if (p->outlen[e] + n > sizeof(p->out[e])) {
    return -1;
  }
  memcpy(p->out[e] + p->outlen[e], d, n);
  p->outlen[e] += n;
  return 0;
}

static int ep_secret(void *ud, aq_epoch e, int w, const aq_tls_suite *s, const uint8_t *x,
                     size_t l) {
  (void)ud;
  (void)e;
  (void)w;
  (void)s;
  (void)x;
  (void)l;
  return 0;
}

static int ep_rand(uint8_t *b, size_t n, void *ud) {
  return aq_test_rand(b, n, &((ep *)ud)->rng);
}

static aq_ssize ep_sign(void *c, uint16_t scheme, uint8_t *sig, size_t cap, const uint8_t *m,
                        size_t ml) {
  ep *p = c;
  (void)scheme;
  if (cap < 64 || aq_ed25519_sign(sig, p->seed, m, ml) != 0) {
    return AQ_ERR_CRYPTO;
  }
  return 64;
}

static const char *const alpn[] = {"ant-quic"};
static const uint8_t tp[] = {1, 2, 3};

static void ep_init(ep *p, int is_server) {
  aq_tls_config cfg;
  aq_tls_callbacks cb = {ep_send, ep_secret, ep_rand, NULL, NULL};
  uint8_t pub[32];
  memset(p, 0, sizeof(*p));
  p->rng = (uint64_t)is_server + 40;
  memset(p->seed, is_server ? 0x33 : 0x44, 32);
  REQUIRE(aq_ed25519_public(pub, p->seed) == 0);
  aq_ssize n = aq_spki_encode(p->spki, sizeof(p->spki), AQ_KEY_ED25519, pub, 32);
  REQUIRE(n > 0);
  p->cred.sig_scheme = AQ_SIG_ED25519;
  p->cred.spki = p->spki;
  p->cred.spkilen = (size_t)n;
  p->cred.sign = ep_sign;
  p->cred.sign_ctx = p;
  memset(&cfg, 0, sizeof(cfg));
  cfg.is_server = is_server;
  cfg.quic = 1;
  cfg.offer_rpk = 1;
  cfg.cred = &p->cred;
  cfg.alpn = alpn;
  cfg.nalpn = 1;
  cfg.alpn_required = is_server;
  cfg.transport_params = tp;
  cfg.transport_params_len = sizeof(tp);
  p->tls = aq_tls_new(&cfg, &cb, p, NULL);
  REQUIRE(p->tls != NULL);
}

/* --------------------------------------------------------- message rewriting */

typedef struct edit {
  uint16_t drop;      /* extension type to drop (0xffff: none) */
  uint16_t add_type;  /* extension to add (0xffff: none) */
  const uint8_t *add; /* its data */
  size_t addlen;
  int sid_len;     /* CH/SH: replace legacy_session_id by this many 0x5a bytes (-1: keep) */
  int compression; /* CH: replace compression methods by {this} (-1: keep) */
  uint32_t suite;  /* SH: replace cipher_suite (0: keep) */
} edit;

static const edit no_edit = {0xffff, 0xffff, NULL, 0, -1, -1, 0};

/** Rewrite a ClientHello, ServerHello or EncryptedExtensions message; returns the new length. */
static size_t rewrite(uint8_t *out, size_t cap, const uint8_t *msg, size_t len, const edit *e) {
  const uint8_t *body = msg + 4;
  size_t bodylen = len - 4;
  aq_tls_ext_list l;
  aq_wbuf w;
  aq_wbuf_mark m, x;
  aq_wbuf_init(&w, out, cap);
  aq_tls_msg_begin(&w, msg[0], &m);
  if (msg[0] == AQ_TLS_HS_CLIENT_HELLO) {
    aq_tls_ch ch;
    if (aq_tls_ch_decode(&ch, body, bodylen) != 0) {
      return 0;
    }
    l = ch.exts;
    aq_wbuf_u16(&w, ch.legacy_version);
    aq_wbuf_bytes(&w, ch.random, 32);
    if (e->sid_len >= 0) {
      aq_wbuf_u8(&w, (uint8_t)e->sid_len);
      for (int i = 0; i < e->sid_len; i++) {
        aq_wbuf_u8(&w, 0x5a);
      }
    } else {
      aq_wbuf_u8(&w, (uint8_t)ch.session_id_len);
      aq_wbuf_bytes(&w, ch.session_id, ch.session_id_len);
    }
    aq_wbuf_u16(&w, (uint16_t)ch.suites_len);
    aq_wbuf_bytes(&w, ch.suites, ch.suites_len);
    if (e->compression >= 0) {
      aq_wbuf_u8(&w, 1);
      aq_wbuf_u8(&w, (uint8_t)e->compression);
    } else {
      aq_wbuf_u8(&w, (uint8_t)ch.compression_len);
      aq_wbuf_bytes(&w, ch.compression, ch.compression_len);
    }
  } else if (msg[0] == AQ_TLS_HS_SERVER_HELLO) {
    aq_tls_sh sh;
    if (aq_tls_sh_decode(&sh, body, bodylen) != 0) {
      return 0;
    }
    l = sh.exts;
    aq_wbuf_u16(&w, sh.legacy_version);
    aq_wbuf_bytes(&w, sh.random, 32);
    if (e->sid_len >= 0) {
      aq_wbuf_u8(&w, (uint8_t)e->sid_len);
      for (int i = 0; i < e->sid_len; i++) {
        aq_wbuf_u8(&w, 0x5a);
      }
    } else {
      aq_wbuf_u8(&w, (uint8_t)sh.session_id_len);
      aq_wbuf_bytes(&w, sh.session_id, sh.session_id_len);
    }
    aq_wbuf_u16(&w, e->suite != 0 ? (uint16_t)e->suite : sh.suite);
    aq_wbuf_u8(&w, sh.compression);
  } else {
    if (aq_tls_ee_decode(&l, body, bodylen) != 0) {
      return 0;
    }
  }
  aq_wbuf_len_begin(&w, AQ_LEN_U16, &x);
  for (size_t i = 0; i < l.n; i++) {
    if (l.ext[i].type == e->drop) {
      continue;
    }
    aq_wbuf_u16(&w, l.ext[i].type);
    aq_wbuf_u16(&w, (uint16_t)l.ext[i].len);
    aq_wbuf_bytes(&w, l.ext[i].data, l.ext[i].len);
  }
  if (e->add_type != 0xffff) {
    aq_wbuf_u16(&w, e->add_type);
    aq_wbuf_u16(&w, (uint16_t)e->addlen);
    aq_wbuf_bytes(&w, e->add, e->addlen);
  }
  aq_wbuf_len_end(&w, &x);
  aq_tls_msg_end(&w, &m);
  return aq_wbuf_error(&w) == 0 ? aq_wbuf_len(&w) : 0;
}

/** Feed the server a rewritten ClientHello; returns the server's alert (0 = accepted). */
static uint8_t server_alert_for(const edit *e) {
  ep c, s;
  uint8_t buf[8192];
  ep_init(&c, 0);
  ep_init(&s, 1);
  uint8_t a = 0xff;
  if (aq_tls_start(c.tls, 0) == 0) {
    size_t n = rewrite(buf, sizeof(buf), c.out[AQ_EPOCH_INITIAL], c.outlen[AQ_EPOCH_INITIAL], e);
    if (n > 0) {
      int rv = aq_tls_recv(s.tls, AQ_EPOCH_INITIAL, buf, n, 0);
      a = aq_tls_alert(s.tls);
      if ((rv == 0) != (a == 0)) {
        a = 0xfe;
      }
    }
  }
  aq_tls_del(c.tls);
  aq_tls_del(s.tls);
  return a;
}

/**
 * Run CH -> server, then feed the client the server's flight with message
 * number idx (0 = ServerHello, 1 = EncryptedExtensions) rewritten; returns
 * the client's alert.
 */
static uint8_t client_alert_for(int idx, const edit *e) {
  ep c, s;
  uint8_t buf[8192];
  ep_init(&c, 0);
  ep_init(&s, 1);
  uint8_t a = 0xff;
  if (aq_tls_start(c.tls, 0) == 0 && aq_tls_recv(s.tls, AQ_EPOCH_INITIAL, c.out[AQ_EPOCH_INITIAL],
                                                 c.outlen[AQ_EPOCH_INITIAL], 0) == 0) {
    const uint8_t *sh = s.out[AQ_EPOCH_INITIAL];
    size_t shlen = s.outlen[AQ_EPOCH_INITIAL];
    int rv;
    if (idx == 0) {
      size_t n = rewrite(buf, sizeof(buf), sh, shlen, e);
      rv = n > 0 ? aq_tls_recv(c.tls, AQ_EPOCH_INITIAL, buf, n, 0) : -1;
    } else {
      /* EE is the first message of the Handshake flight. */
      const uint8_t *hs = s.out[AQ_EPOCH_HANDSHAKE];
      size_t eelen = 4 + (((size_t)hs[1] << 16) | ((size_t)hs[2] << 8) | hs[3]);
      size_t n = rewrite(buf, sizeof(buf), hs, eelen, e);
      rv = aq_tls_recv(c.tls, AQ_EPOCH_INITIAL, sh, shlen, 0);
      if (rv == 0) {
        rv = n > 0 ? aq_tls_recv(c.tls, AQ_EPOCH_HANDSHAKE, buf, n, 0) : -1;
      }
    }
    a = aq_tls_alert(c.tls);
    if ((rv == 0) != (a == 0)) {
      a = 0xfe;
    }
  }
  aq_tls_del(c.tls);
  aq_tls_del(s.tls);
  return a;
}

AQ_TEST(tls_alert_baseline) {
  /* The unmodified (but re-encoded) messages are accepted: the rewriter itself is faithful. */
  CHECK_INT(server_alert_for(&no_edit), 0);
  CHECK_INT(client_alert_for(0, &no_edit), 0);
  CHECK_INT(client_alert_for(1, &no_edit), 0);
}

AQ_TEST(tls_alert_client_hello) {
  edit e;
  /* §4.2.1: no supported_versions = an older TLS client. */
  e = no_edit;
  e.drop = AQ_TLS_EXT_SUPPORTED_VERSIONS;
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_PROTOCOL_VERSION);
  /* supported_versions without 0x0304. */
  static const uint8_t v12[] = {2, 0x03, 0x03};
  e.add_type = AQ_TLS_EXT_SUPPORTED_VERSIONS;
  e.add = v12;
  e.addlen = sizeof(v12);
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_PROTOCOL_VERSION);
  /* §9.2: key_share / supported_groups / signature_algorithms missing. */
  e = no_edit;
  e.drop = AQ_TLS_EXT_KEY_SHARE;
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_MISSING_EXTENSION);
  e.drop = AQ_TLS_EXT_SUPPORTED_GROUPS;
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_MISSING_EXTENSION);
  e.drop = AQ_TLS_EXT_SIGNATURE_ALGORITHMS;
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_MISSING_EXTENSION);
  /* RFC 9001 §8.2: no quic_transport_parameters. */
  e.drop = AQ_TLS_EXT_QUIC_TRANSPORT_PARAMETERS;
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_MISSING_EXTENSION);
  /* RFC 7301: ALPN required by the server but absent. */
  e.drop = AQ_TLS_EXT_ALPN;
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_NO_APPLICATION_PROTOCOL);
  /* §4.1.2: compression other than {null}. */
  e = no_edit;
  e.compression = 1;
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
  /* RFC 9001 §8.4: a legacy_session_id in QUIC. */
  e = no_edit;
  e.sid_len = 8;
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
  /* A duplicated extension (decode_error at the block). */
  static const uint8_t groups[] = {0, 2, 0, 0x1d};
  e = no_edit;
  e.add_type = AQ_TLS_EXT_SUPPORTED_GROUPS;
  e.add = groups;
  e.addlen = sizeof(groups);
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_DECODE_ERROR);
  /* An unknown extension is ignored. */
  static const uint8_t junk[] = {1, 2, 3};
  e = no_edit;
  e.add_type = 0x7a7a;
  e.add = junk;
  e.addlen = sizeof(junk);
  CHECK_INT(server_alert_for(&e), 0);
  /* A known extension in the wrong message (§4.2): early_data with a payload is malformed,
   * a NewSessionTicket-only value. */
  static const uint8_t ed[] = {0, 0, 0, 1};
  e.add_type = AQ_TLS_EXT_EARLY_DATA;
  e.add = ed;
  e.addlen = sizeof(ed);
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_DECODE_ERROR);
  /* pre_shared_key that is not the last extension (§4.2.11): illegal_parameter.  The rewriter
   * appends what it adds, so: add pre_shared_key (last), then rewrite again adding another. */
  static const uint8_t psk[] = {0, 7, 0, 1, 0xaa, 0, 0, 0, 0, 0, 33, 32, 1, 1, 1,
                                1, 1, 1, 1, 1,    1, 1, 1, 1, 1, 1,  1,  1, 1, 1,
                                1, 1, 1, 1, 1,    1, 1, 1, 1, 1, 1,  1,  1, 1};
  e = no_edit;
  e.add_type = AQ_TLS_EXT_PRE_SHARED_KEY;
  e.add = psk;
  e.addlen = sizeof(psk);
  {
    ep c, s;
    uint8_t buf1[8192], buf2[8192];
    ep_init(&c, 0);
    ep_init(&s, 1);
    REQUIRE(aq_tls_start(c.tls, 0) == 0);
    size_t n1 = rewrite(buf1, sizeof(buf1), c.out[0], c.outlen[0], &e);
    REQUIRE(n1 > 0);
    /* psk last: decodes (the binder then fails, or the ticket is ignored: no ticket key) */
    aq_tls_ch ch;
    CHECK_INT(aq_tls_ch_decode(&ch, buf1 + 4, n1 - 4), 0);
    CHECK(ch.binders_off > 0);
    /* now move an extension after it */
    edit e2 = no_edit;
    static const uint8_t junk2[] = {9};
    e2.add_type = 0x7a7a;
    e2.add = junk2;
    e2.addlen = 1;
    size_t n2 = rewrite(buf2, sizeof(buf2), buf1, n1, &e2);
    REQUIRE(n2 > 0);
    CHECK_INT(aq_tls_ch_decode(&ch, buf2 + 4, n2 - 4), AQ_ERR_VALUE_RANGE);
    CHECK_INT(aq_tls_recv(s.tls, AQ_EPOCH_INITIAL, buf2, n2, 0), AQ_ERR_TLS_ALERT);
    CHECK_INT(aq_tls_alert(s.tls), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
    aq_tls_del(c.tls);
    aq_tls_del(s.tls);
  }
}

AQ_TEST(tls_alert_client_hello_key_share) {
  edit e = no_edit;
  uint8_t ks[128];
  e.drop = AQ_TLS_EXT_KEY_SHARE;
  e.add_type = AQ_TLS_EXT_KEY_SHARE;
  e.add = ks;
  /* Two entries for x25519 (§4.2.8: "MUST NOT offer multiple KeyShareEntry values for the same
   * group"). */
  size_t n = aq_test_unhex_into(ks, sizeof(ks),
                                "0048"
                                "001d0020"
                                "0909090909090909090909090909090909090909090909090909090909090909"
                                "001d0020"
                                "0909090909090909090909090909090909090909090909090909090909090909");
  e.addlen = n;
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
  /* A 31-byte X25519 share. */
  n = aq_test_unhex_into(ks, sizeof(ks),
                         "0023001d001f"
                         "09090909090909090909090909090909090909090909090909090909090909");
  e.addlen = n;
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
  /* A share for a group not in supported_groups (secp384r1). */
  n = aq_test_unhex_into(ks, sizeof(ks), "000500180001aa");
  e.addlen = n;
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
  /* The all-zero X25519 point (§7.4.2). */
  n = aq_test_unhex_into(ks, sizeof(ks),
                         "0024001d0020"
                         "0000000000000000000000000000000000000000000000000000000000000000");
  e.addlen = n;
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
  /* A truncated entry list. */
  n = aq_test_unhex_into(ks, sizeof(ks), "0005001d0020aa");
  e.addlen = n;
  CHECK_INT(server_alert_for(&e), AQ_TLS_ALERT_DECODE_ERROR);
}

AQ_TEST(tls_alert_server_hello) {
  edit e = no_edit;
  /* §4.1.3: a session id echo that does not match ours (empty). */
  e.sid_len = 4;
  CHECK_INT(client_alert_for(0, &e), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
  /* A cipher suite we did not offer. */
  e = no_edit;
  e.suite = 0x1304;
  CHECK_INT(client_alert_for(0, &e), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
  /* §4.2.1: a selected_version we did not offer. */
  static const uint8_t v12[] = {0x03, 0x03};
  e = no_edit;
  e.drop = AQ_TLS_EXT_SUPPORTED_VERSIONS;
  e.add_type = AQ_TLS_EXT_SUPPORTED_VERSIONS;
  e.add = v12;
  e.addlen = 2;
  CHECK_INT(client_alert_for(0, &e), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
  /* No supported_versions at all: a TLS 1.2 server. */
  e = no_edit;
  e.drop = AQ_TLS_EXT_SUPPORTED_VERSIONS;
  CHECK_INT(client_alert_for(0, &e), AQ_TLS_ALERT_PROTOCOL_VERSION);
  /* No key_share. */
  e = no_edit;
  e.drop = AQ_TLS_EXT_KEY_SHARE;
  CHECK_INT(client_alert_for(0, &e), AQ_TLS_ALERT_MISSING_EXTENSION);
  /* A key_share for a group we sent no share for. */
  uint8_t ks[80];
  e.add_type = AQ_TLS_EXT_KEY_SHARE;
  e.add = ks;
  e.addlen = aq_test_unhex_into(ks, sizeof(ks), "00170001aa");
  CHECK_INT(client_alert_for(0, &e), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
  /* An extension we never offered (§4.2: unsupported_extension). */
  static const uint8_t empty[1] = {0};
  e = no_edit;
  e.add_type = AQ_TLS_EXT_COOKIE + 100;
  e.add = empty;
  e.addlen = 0;
  CHECK_INT(client_alert_for(0, &e), AQ_TLS_ALERT_UNSUPPORTED_EXTENSION);
  /* A recognised extension not allowed in ServerHello (§4.2: illegal_parameter). */
  e.add_type = AQ_TLS_EXT_ALPN;
  CHECK_INT(client_alert_for(0, &e), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
}

AQ_TEST(tls_alert_encrypted_extensions) {
  edit e = no_edit;
  /* ALPN the client never offered (RFC 7301 §3.2). */
  static const uint8_t h3[] = {0, 3, 2, 'h', '3'};
  e.drop = AQ_TLS_EXT_ALPN;
  e.add_type = AQ_TLS_EXT_ALPN;
  e.add = h3;
  e.addlen = sizeof(h3);
  CHECK_INT(client_alert_for(1, &e), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
  /* Two protocols in the server's answer. */
  static const uint8_t two[] = {0, 6, 2, 'h', '3', 2, 'h', '2'};
  e.add = two;
  e.addlen = sizeof(two);
  CHECK_INT(client_alert_for(1, &e), AQ_TLS_ALERT_DECODE_ERROR);
  /* No transport parameters (RFC 9001 §8.2). */
  e = no_edit;
  e.drop = AQ_TLS_EXT_QUIC_TRANSPORT_PARAMETERS;
  CHECK_INT(client_alert_for(1, &e), AQ_TLS_ALERT_MISSING_EXTENSION);
  /* key_share does not belong in EncryptedExtensions (§4.2). */
  static const uint8_t ks[] = {0, 0x1d};
  e = no_edit;
  e.add_type = AQ_TLS_EXT_KEY_SHARE;
  e.add = ks;
  e.addlen = sizeof(ks);
  CHECK_INT(client_alert_for(1, &e), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
  /* early_data without our offer. */
  e.add_type = AQ_TLS_EXT_EARLY_DATA;
  e.add = NULL;
  e.addlen = 0;
  CHECK_INT(client_alert_for(1, &e), AQ_TLS_ALERT_UNSUPPORTED_EXTENSION);
  /* A server certificate type we did not offer (X.509 while we offered RPK only). */
  static const uint8_t x509[] = {AQ_TLS_CERTTYPE_X509};
  e = no_edit;
  e.drop = AQ_TLS_EXT_SERVER_CERT_TYPE;
  e.add_type = AQ_TLS_EXT_SERVER_CERT_TYPE;
  e.add = x509;
  e.addlen = 1;
  CHECK_INT(client_alert_for(1, &e), AQ_TLS_ALERT_ILLEGAL_PARAMETER);
  /* No server_certificate_type answer at all means X.509, which we did not allow. */
  e = no_edit;
  e.drop = AQ_TLS_EXT_SERVER_CERT_TYPE;
  CHECK_INT(client_alert_for(1, &e), AQ_TLS_ALERT_UNSUPPORTED_CERTIFICATE);
}
