/*
 * tls_rec_peer.c - a test-only TLS 1.3 record layer (RFC 8446 §5) around the
 * sans-IO handshake engine (lib/tls/aq_tls.h), so the engine can talk to the
 * OpenSSL CLI over TCP on 127.0.0.1.  Not part of the library.
 *
 *   tls_rec_peer client --port P [options]   connect, handshake, send a line,
 *                                             expect the reversed line back
 *   tls_rec_peer server [--port P] [options] accept one connection, handshake,
 *                                             read a line, send it back reversed
 *                                             (what `openssl s_server -rev` does)
 *
 * Records: TLSPlaintext for the Initial epoch (ClientHello, ServerHello/HRR);
 * TLSCiphertext for HANDSHAKE and 1RTT with the keys from cb.set_secret
 * (key/iv = HKDF-Expand-Label(secret, "key"/"iv", "", len), nonce = iv XOR
 * seq, AAD = the record header, inner plaintext = content || type || zeros).
 * change_cipher_spec records are dropped (§5: "MUST simply drop it").
 *
 * Read-epoch rule: TCP has no per-packet epoch, and the engine installs a
 * read secret as soon as it exists (the server learns the client's
 * application secret before the client Finished, which still arrives under
 * the handshake key).  So records are read under HANDSHAKE once that key is
 * set, and under 1RTT only once aq_tls_handshake_done() - which is exactly
 * when a TLS 1.3 peer switches (after Finished; §4.4.4, §7.2).
 *
 * Early data (server side): with a 0-RTT read key from the engine, records
 * are read under 0-RTT until EndOfEarlyData; when the ClientHello offered
 * early data but no 0-RTT key came (rejected), records that fail under the
 * handshake key are skipped until one decrypts (§4.2.10), up to 1 MiB.
 *
 * Exit status 0 on success, 1 on any failure (with a message on stderr),
 * 2 on a usage error.  Only the loopback address is ever used.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "aq_buf.h"
#include "aq_crypto.h"
#include "aq_ct.h"
#include "aq_tls.h"
#include "aq_tls_cert.h"

#define CT_CHANGE_CIPHER_SPEC 20
#define CT_ALERT 21
#define CT_HANDSHAKE 22
#define CT_APPLICATION_DATA 23

#define MAX_PLAINTEXT 16384                  /* 2^14, §5.1 */
#define MAX_CIPHERTEXT (MAX_PLAINTEXT + 256) /* §5.2 */

typedef struct dir_keys {
  int set;
  aq_aead aead;
  uint8_t iv[AQ_AEAD_NONCE_LEN];
  uint64_t seq;
} dir_keys;

typedef struct peer {
  int is_server;
  int fd;
  aq_tls *tls;
  int timeout_ms;
  int verbose;
  size_t max_record; /* largest plaintext fragment we send (--max-record) */
  dir_keys wr[AQ_EPOCH_COUNT], rd[AQ_EPOCH_COUNT];
  int write_epoch;  /* epoch of our last record (alerts go there) */
  int sent_records; /* any record written yet (first ClientHello uses 0x0301) */
  uint8_t in[MAX_CIPHERTEXT + 5 + 4096];
  size_t inlen;
  uint8_t app[8192]; /* application data received */
  size_t applen;
  int got_close_notify;
  int fatal_alert; /* a non-close_notify alert arrived (fails the run even after the exchange) */
  /* Server side of early data (RFC 8446 §4.2.10). */
  int early_offered;    /* the ClientHello carried early_data */
  int early_done;       /* EndOfEarlyData went to the engine: 0-RTT reading is over */
  int hs_record_ok;     /* a record decrypted under the handshake key */
  size_t early_skipped; /* bytes of rejected early data skipped */
  /* Peer key checks. */
  uint8_t *pin_spki; /* the peer's expected SPKI (from --peer-cert), or NULL */
  size_t pin_spkilen;
  int peer_key_seen;
  int peer_key_type;
  /* Client resumption: the latest session from cb.on_ticket. */
  uint8_t session[8192];
  size_t session_len;
  int tickets_seen;
} peer;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "tls_rec_peer: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static void logv(const peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logv(const peer *p, const char *fmt, ...) {
  va_list ap;
  if (!p->verbose) {
    return;
  }
  va_start(ap, fmt);
  fprintf(stderr, "[%s] ", p->is_server ? "server" : "client");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
}

static aq_tstamp now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (aq_tstamp)ts.tv_sec * 1000000000u + (aq_tstamp)ts.tv_nsec;
}

static const char *epoch_name(int e) {
  static const char *names[] = {"initial", "0rtt", "handshake", "1rtt"};
  return e >= 0 && e < AQ_EPOCH_COUNT ? names[e] : "?";
}

/* ---------------------------------------------------------------- socket */

static int write_all(int fd, const uint8_t *data, size_t len) {
  while (len > 0) {
    ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return -1;
    }
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

/* Read more bytes into p->in; 0 on data, -1 on EOF/error/timeout. */
static int fill_input(peer *p) {
  struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
  if (p->inlen == sizeof(p->in)) {
    return -1;
  }
  for (;;) {
    int r = poll(&pfd, 1, p->timeout_ms);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r <= 0) {
      fprintf(stderr, "tls_rec_peer: %s waiting for the peer\n", r == 0 ? "timeout" : "poll error");
      return -1;
    }
    ssize_t n = recv(p->fd, p->in + p->inlen, sizeof(p->in) - p->inlen, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return -1;
    }
    p->inlen += (size_t)n;
    return 0;
  }
}

/* --------------------------------------------------------------- records */

static void make_nonce(uint8_t nonce[AQ_AEAD_NONCE_LEN], const dir_keys *k) {
  /* §5.3: the 64-bit sequence number, big-endian, left-padded to iv_length, XOR iv. */
  memcpy(nonce, k->iv, AQ_AEAD_NONCE_LEN);
  for (int i = 0; i < 8; i++) {
    nonce[AQ_AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(k->seq >> (8 * i));
  }
}

/* Write one record of content type ct at epoch (plaintext at Initial). */
static int write_record(peer *p, int epoch, uint8_t ct, const uint8_t *data, size_t len) {
  uint8_t rec[5 + MAX_CIPHERTEXT];
  aq_wbuf w;

  if (len > MAX_PLAINTEXT) {
    return -1;
  }
  aq_wbuf_init(&w, rec, sizeof(rec));
  if (epoch == AQ_EPOCH_INITIAL) {
    /* §5.1: legacy_record_version "MAY be 0x0301 for an initial ClientHello". */
    aq_wbuf_u8(&w, ct);
    aq_wbuf_u16(&w, (!p->is_server && !p->sent_records) ? 0x0301 : 0x0303);
    aq_wbuf_u16(&w, (uint16_t)len);
    aq_wbuf_bytes(&w, data, len);
  } else {
    dir_keys *k = &p->wr[epoch];
    uint8_t nonce[AQ_AEAD_NONCE_LEN];
    if (!k->set) {
      fprintf(stderr, "tls_rec_peer: no write key for epoch %s\n", epoch_name(epoch));
      return -1;
    }
    size_t inner = len + 1;
    aq_wbuf_u8(&w, CT_APPLICATION_DATA); /* opaque_type */
    aq_wbuf_u16(&w, 0x0303);
    aq_wbuf_u16(&w, (uint16_t)(inner + AQ_AEAD_TAG_LEN));
    uint8_t *body = aq_wbuf_reserve(&w, inner + AQ_AEAD_TAG_LEN);
    if (body == NULL) {
      return -1;
    }
    memcpy(body, data, len);
    body[len] = ct;
    make_nonce(nonce, k);
    aq_ssize n = aq_aead_seal(&k->aead, body, inner + AQ_AEAD_TAG_LEN, nonce, rec, 5, body, inner);
    if (n != (aq_ssize)(inner + AQ_AEAD_TAG_LEN)) {
      return -1;
    }
    k->seq++;
  }
  if (aq_wbuf_error(&w) != 0 || write_all(p->fd, rec, aq_wbuf_len(&w)) != 0) {
    return -1;
  }
  p->sent_records++;
  p->write_epoch = epoch;
  return 0;
}

static int write_stream(peer *p, int epoch, uint8_t ct, const uint8_t *data, size_t len) {
  do {
    size_t n = len < p->max_record ? len : p->max_record;
    if (write_record(p, epoch, ct, data, n) != 0) {
      return -1;
    }
    data += n;
    len -= n;
  } while (len > 0);
  return 0;
}

static void send_alert(peer *p, uint8_t level, uint8_t desc) {
  uint8_t a[2] = {level, desc};
  if (write_record(p, p->write_epoch, CT_ALERT, a, 2) != 0) {
    fprintf(stderr, "tls_rec_peer: could not send alert %u\n", desc);
  }
}

/*
 * The epoch incoming records are protected under (see the file comment).
 * A server that accepted early data (the engine installed a 0-RTT read key)
 * reads under 0-RTT until EndOfEarlyData has been processed.
 */
static int read_epoch(const peer *p) {
  if (p->rd[AQ_EPOCH_1RTT].set && aq_tls_handshake_done(p->tls)) {
    return AQ_EPOCH_1RTT;
  }
  if (p->is_server && p->rd[AQ_EPOCH_0RTT].set && !p->early_done) {
    return AQ_EPOCH_0RTT;
  }
  if (p->rd[AQ_EPOCH_HANDSHAKE].set) {
    return AQ_EPOCH_HANDSHAKE;
  }
  return AQ_EPOCH_INITIAL;
}

/* Does this plaintext ClientHello (one whole message) carry early_data (42)? */
static int ch_offers_early_data(const uint8_t *msg, size_t len) {
  aq_rbuf r, body, sub, exts;
  uint8_t type;
  uint32_t blen;
  uint16_t ver;
  aq_rbuf_init(&r, msg, len);
  if (aq_rbuf_u8(&r, &type) != 0 || type != 1 || aq_rbuf_u24(&r, &blen) != 0 ||
      aq_rbuf_left(&r) < blen) {
    return 0;
  }
  aq_rbuf_init(&body, r.p, blen);
  if (aq_rbuf_u16(&body, &ver) != 0 || aq_rbuf_skip(&body, 32) != 0 ||
      aq_rbuf_sub(&body, AQ_LEN_U8, &sub) != 0 || aq_rbuf_sub(&body, AQ_LEN_U16, &sub) != 0 ||
      aq_rbuf_sub(&body, AQ_LEN_U8, &sub) != 0 || aq_rbuf_sub(&body, AQ_LEN_U16, &exts) != 0) {
    return 0;
  }
  while (aq_rbuf_left(&exts) > 0) {
    uint16_t et;
    if (aq_rbuf_u16(&exts, &et) != 0 || aq_rbuf_sub(&exts, AQ_LEN_U16, &sub) != 0) {
      return 0;
    }
    if (et == 42) {
      return 1;
    }
  }
  return 0;
}

static int handle_alert(peer *p, const uint8_t *a, size_t len) {
  if (len != 2) {
    fprintf(stderr, "tls_rec_peer: malformed alert record (%zu bytes)\n", len);
    return -1;
  }
  if (a[1] == 0) { /* close_notify */
    logv(p, "received close_notify");
    p->got_close_notify = 1;
    return 0;
  }
  fprintf(stderr, "tls_rec_peer: received alert level %u description %u\n", a[0], a[1]);
  p->fatal_alert = a[1];
  return -1;
}

static int feed_engine(peer *p, int epoch, const uint8_t *data, size_t len) {
  int rv = aq_tls_recv(p->tls, (aq_epoch)epoch, data, len, now_ns());
  if (rv != 0) {
    uint8_t alert = aq_tls_alert(p->tls);
    fprintf(stderr, "tls_rec_peer: engine refused %zu bytes at %s: %s (alert %u)\n", len,
            epoch_name(epoch), aq_strerror(rv), alert);
    send_alert(p, 2, alert != 0 ? alert : AQ_TLS_ALERT_INTERNAL_ERROR);
    return -1;
  }
  return 0;
}

/*
 * Read and process one record.  Returns 0, or -1 on failure (an alert has
 * been sent where we caused it) or on EOF.
 */
static int process_record(peer *p) {
  aq_rbuf r;
  uint8_t type;
  uint16_t version, len;
  const uint8_t *frag;

  while (p->inlen < 5) {
    if (fill_input(p) != 0) {
      return -1;
    }
  }
  aq_rbuf_init(&r, p->in, p->inlen);
  if (aq_rbuf_u8(&r, &type) != 0 || aq_rbuf_u16(&r, &version) != 0 || aq_rbuf_u16(&r, &len) != 0) {
    return -1;
  }
  if (len > MAX_CIPHERTEXT) {
    fprintf(stderr, "tls_rec_peer: record of %u bytes\n", len);
    send_alert(p, 2, 22 /* record_overflow */);
    return -1;
  }
  while (p->inlen < 5u + len) {
    if (fill_input(p) != 0) {
      return -1;
    }
  }
  aq_rbuf_init(&r, p->in + 5, len);
  if (aq_rbuf_bytes(&r, len, &frag) != 0) {
    return -1;
  }
  uint8_t hdr[5];
  memcpy(hdr, p->in, 5);
  uint8_t buf[MAX_CIPHERTEXT];
  memcpy(buf, frag, len);
  memmove(p->in, p->in + 5 + len, p->inlen - 5 - len);
  p->inlen -= 5u + len;

  int epoch = read_epoch(p);
  logv(p, "record type %u len %u (read epoch %s)", type, len, epoch_name(epoch));
  switch (type) {
  case CT_CHANGE_CIPHER_SPEC:
    if (len != 1 || buf[0] != 1) {
      send_alert(p, 2, AQ_TLS_ALERT_UNEXPECTED_MESSAGE);
      return -1;
    }
    return 0; /* §5: dropped */
  case CT_ALERT: return handle_alert(p, buf, len);
  case CT_HANDSHAKE:
    if (epoch != AQ_EPOCH_INITIAL) {
      fprintf(stderr, "tls_rec_peer: plaintext handshake record after keys were set\n");
      send_alert(p, 2, AQ_TLS_ALERT_UNEXPECTED_MESSAGE);
      return -1;
    }
    if (p->is_server && ch_offers_early_data(buf, len)) {
      logv(p, "the ClientHello offers early data");
      p->early_offered = 1;
    }
    return feed_engine(p, epoch, buf, len);
  case CT_APPLICATION_DATA: break;
  default: send_alert(p, 2, AQ_TLS_ALERT_UNEXPECTED_MESSAGE); return -1;
  }

  dir_keys *k = &p->rd[epoch];
  if (epoch == AQ_EPOCH_INITIAL || !k->set) {
    fprintf(stderr, "tls_rec_peer: encrypted record before any read key\n");
    send_alert(p, 2, AQ_TLS_ALERT_UNEXPECTED_MESSAGE);
    return -1;
  }
  uint8_t nonce[AQ_AEAD_NONCE_LEN];
  make_nonce(nonce, k);
  aq_ssize n = aq_aead_open(&k->aead, buf, sizeof(buf), nonce, hdr, 5, buf, len);
  if (n < 0 && p->is_server && p->early_offered && epoch == AQ_EPOCH_HANDSHAKE &&
      !p->hs_record_ok && p->early_skipped + len <= (1u << 20)) {
    /* §4.2.10: a server that rejects early data "skip[s] past early data by
     * attempting to deprotect received records using the handshake traffic
     * key, discarding records which fail deprotection" (bounded). */
    p->early_skipped += len;
    logv(p, "skipping a rejected early-data record (%u bytes)", len);
    return 0;
  }
  if (n < 0) {
    fprintf(stderr, "tls_rec_peer: record %llu at %s failed to decrypt\n",
            (unsigned long long)k->seq, epoch_name(epoch));
    send_alert(p, 2, AQ_TLS_ALERT_BAD_RECORD_MAC);
    return -1;
  }
  k->seq++;
  if (epoch == AQ_EPOCH_HANDSHAKE) {
    p->hs_record_ok = 1;
  }
  /* §5.4: the inner type is the last non-zero byte; zeros after it are padding. */
  size_t plen = (size_t)n;
  while (plen > 0 && buf[plen - 1] == 0) {
    plen--;
  }
  if (plen == 0) {
    send_alert(p, 2, AQ_TLS_ALERT_UNEXPECTED_MESSAGE);
    return -1;
  }
  uint8_t inner = buf[--plen];
  switch (inner) {
  case CT_HANDSHAKE:
    if (epoch == AQ_EPOCH_0RTT) {
      /* EndOfEarlyData (type 5) closes the 0-RTT epoch (§4.5). */
      int eoed = plen > 0 && buf[0] == 5;
      int rv = feed_engine(p, epoch, buf, plen);
      if (rv == 0 && eoed) {
        logv(p, "EndOfEarlyData processed");
        p->early_done = 1;
      }
      return rv;
    }
    return feed_engine(p, epoch, buf, plen);
  case CT_ALERT: return handle_alert(p, buf, plen);
  case CT_APPLICATION_DATA:
    if (epoch != AQ_EPOCH_1RTT && epoch != AQ_EPOCH_0RTT) {
      send_alert(p, 2, AQ_TLS_ALERT_UNEXPECTED_MESSAGE);
      return -1;
    }
    if (plen > sizeof(p->app) - p->applen) {
      return -1;
    }
    memcpy(p->app + p->applen, buf, plen);
    p->applen += plen;
    return 0;
  default: send_alert(p, 2, AQ_TLS_ALERT_UNEXPECTED_MESSAGE); return -1;
  }
}

/* ------------------------------------------------------------- callbacks */

static int cb_send(void *ud, aq_epoch epoch, const uint8_t *data, size_t len) {
  peer *p = ud;
  logv(p, "engine sends %zu bytes at %s", len, epoch_name(epoch));
  return write_stream(p, (int)epoch, CT_HANDSHAKE, data, len) == 0 ? 0 : -1;
}

static int cb_set_secret(void *ud, aq_epoch epoch, int is_write, const aq_tls_suite *suite,
                         const uint8_t *secret, size_t secretlen) {
  peer *p = ud;
  dir_keys *k = is_write ? &p->wr[epoch] : &p->rd[epoch];
  uint8_t key[AQ_AEAD_MAX_KEY_LEN];
  size_t keylen = aq_aead_key_len(suite->aead);

  logv(p, "set_secret %s %s suite %04x", epoch_name(epoch), is_write ? "write" : "read", suite->id);
  if (epoch == AQ_EPOCH_INITIAL || (int)epoch >= AQ_EPOCH_COUNT || keylen == 0 ||
      secretlen != aq_hash_len(suite->hash)) {
    return -1;
  }
  if (k->set) {
    aq_aead_free(&k->aead);
    k->set = 0;
  }
  /* §7.3: [sender]_write_key = HKDF-Expand-Label(Secret, "key", "", key_length). */
  if (aq_hkdf_expand_label(suite->hash, key, keylen, secret, secretlen, "key", NULL, 0) != 0 ||
      aq_hkdf_expand_label(suite->hash, k->iv, AQ_AEAD_NONCE_LEN, secret, secretlen, "iv", NULL,
                           0) != 0 ||
      aq_aead_init(&k->aead, suite->aead, key) != 0) {
    aq_memzero(key, sizeof(key));
    return -1;
  }
  aq_memzero(key, sizeof(key));
  k->seq = 0;
  k->set = 1;
  return 0;
}

static int cb_rand(uint8_t *buf, size_t len, void *ud) {
  (void)ud;
  while (len > 0) {
    ssize_t n = getrandom(buf, len, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return AQ_ERR_CRYPTO;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

static int cb_verify_peer(void *ud, const uint8_t *spki, size_t spkilen, const uint8_t *cert,
                          size_t certlen) {
  peer *p = ud;
  aq_key_type type;
  const uint8_t *key;
  size_t keylen;
  int rv = aq_spki_parse(&type, &key, &keylen, spki, spkilen);
  logv(p, "peer presents a %s, SPKI %zu bytes, key type %d (parse %d)",
       cert != NULL ? "certificate" : "raw public key", spkilen, (int)type, rv);
  if (rv != 0) {
    return -1;
  }
  /* The SPKI the engine hands us must be the one inside the certificate. */
  if (cert != NULL) {
    const uint8_t *inner;
    size_t innerlen;
    if (aq_x509_get_spki(&inner, &innerlen, cert, certlen) != 0 || innerlen != spkilen ||
        memcmp(inner, spki, spkilen) != 0) {
      fprintf(stderr, "tls_rec_peer: SPKI does not match the certificate\n");
      return -1;
    }
  }
  if (p->pin_spki != NULL &&
      (spkilen != p->pin_spkilen || !aq_ct_memeq(spki, p->pin_spki, spkilen))) {
    fprintf(stderr, "tls_rec_peer: peer key does not match --peer-cert\n");
    return -1;
  }
  p->peer_key_seen = 1;
  p->peer_key_type = (int)type;
  return 0;
}

static int cb_on_ticket(void *ud, const uint8_t *session, size_t len) {
  peer *p = ud;
  logv(p, "NewSessionTicket: session of %zu bytes", len);
  if (len > sizeof(p->session)) {
    return -1;
  }
  memcpy(p->session, session, len);
  p->session_len = len;
  p->tickets_seen++;
  return 0;
}

/* ------------------------------------------------------------ credentials */

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    die("cannot open %s", path);
  }
  char *buf = malloc(1 << 20);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  fclose(f);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* DER of the first CERTIFICATE in a PEM file (malloc'd). */
static uint8_t *load_cert_der(const char *path, size_t *derlen) {
  size_t pemlen;
  char *pem = read_file(path, &pemlen);
  uint8_t *der = malloc(pemlen);
  aq_ssize n = aq_pem_decode(der, pemlen, "CERTIFICATE", pem, pemlen);
  free(pem);
  if (n <= 0) {
    die("%s: no CERTIFICATE block (%s)", path, aq_strerror((int)n));
  }
  *derlen = (size_t)n;
  return der;
}

typedef struct cred_store {
  aq_pem_signer signer;
  uint8_t *cert;
  size_t certlen;
  aq_tls_credential cred;
} cred_store;

static void load_credential(cred_store *cs, const char *certpath, const char *keypath) {
  size_t keylen;
  char *key = read_file(keypath, &keylen);
  int rv = aq_pem_signer_load(&cs->signer, key, keylen);
  aq_memzero(key, keylen);
  free(key);
  if (rv != 0) {
    die("%s: cannot load the private key (%s)", keypath, aq_strerror(rv));
  }
  cs->cert = load_cert_der(certpath, &cs->certlen);
  memset(&cs->cred, 0, sizeof(cs->cred));
  if (aq_x509_get_spki(&cs->cred.spki, &cs->cred.spkilen, cs->cert, cs->certlen) != 0) {
    die("%s: cannot find the SPKI", certpath);
  }
  cs->cred.sig_scheme = cs->signer.sig_scheme;
  cs->cred.cert = cs->cert;
  cs->cred.certlen = cs->certlen;
  cs->cred.sign = aq_pem_signer_sign;
  cs->cred.sign_ctx = &cs->signer;
}

/*
 * --self-signed CN: a fresh Ed25519 key and a certificate made by
 * aq_x509_self_signed_ed25519 (so OpenSSL checks our generator too); the
 * certificate is written as PEM to --write-cert for the peer to trust.
 */
static void make_self_signed(cred_store *cs, const char *cn, const char *outpath) {
  uint8_t seed[32], serial[16];
  uint8_t der[2048];
  if (cb_rand(seed, 32, NULL) != 0 || cb_rand(serial, 16, NULL) != 0) {
    die("no randomness");
  }
  serial[0] &= 0x7f;
  aq_ssize n = aq_x509_self_signed_ed25519(der, sizeof(der), seed, cn, (uint64_t)time(NULL) - 3600,
                                           30, serial);
  if (n <= 0) {
    die("aq_x509_self_signed_ed25519: %s", aq_strerror((int)n));
  }
  EVP_PKEY *pk = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
  aq_memzero(seed, sizeof(seed));
  BIO *b = BIO_new(BIO_s_mem());
  if (pk == NULL || b == NULL || PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL) != 1) {
    die("cannot encode the key");
  }
  char *pem;
  long pemlen = BIO_get_mem_data(b, &pem);
  if (aq_pem_signer_load(&cs->signer, pem, (size_t)pemlen) != 0) {
    die("aq_pem_signer_load of our own key failed");
  }
  BIO_free(b);
  EVP_PKEY_free(pk);
  cs->cert = malloc((size_t)n);
  memcpy(cs->cert, der, (size_t)n);
  cs->certlen = (size_t)n;
  memset(&cs->cred, 0, sizeof(cs->cred));
  if (aq_x509_get_spki(&cs->cred.spki, &cs->cred.spkilen, cs->cert, cs->certlen) != 0) {
    die("our certificate has no SPKI");
  }
  cs->cred.sig_scheme = cs->signer.sig_scheme;
  cs->cred.cert = cs->cert;
  cs->cred.certlen = cs->certlen;
  cs->cred.sign = aq_pem_signer_sign;
  cs->cred.sign_ctx = &cs->signer;
  if (outpath != NULL) {
    const unsigned char *cp = cs->cert;
    X509 *x = d2i_X509(NULL, &cp, (long)cs->certlen);
    FILE *f = fopen(outpath, "w");
    if (x == NULL || f == NULL || PEM_write_X509(f, x) != 1) {
      die("cannot write %s", outpath);
    }
    fclose(f);
    X509_free(x);
  }
}

/* ------------------------------------------------------------------ main */

static void usage(void) {
  fprintf(stderr, "usage: tls_rec_peer client|server [options]\n"
                  "  --port N            TCP port on 127.0.0.1 (server: 0 = any, see --port-file)\n"
                  "  --port-file PATH    server: write the listening port here once listening\n"
                  "  --suite HEX         offer/accept only this cipher suite (e.g. 1301)\n"
                  "  --groups HEX,...    key-exchange groups in order (default 001d = x25519)\n"
                  "  --key-shares N      client: key shares for the first N groups (default 1)\n"
                  "  --cert PEM --key PEM   our certificate and private key\n"
                  "  --self-signed CN    make an Ed25519 cert with aq_x509_self_signed_ed25519\n"
                  "  --write-cert PATH   ... and write it as PEM here\n"
                  "  --peer-cert PEM     pin: the peer's key must be this certificate's key\n"
                  "  --client-auth none|request|require   server: ask for a client certificate\n"
                  "  --expect-peer-cert  fail unless the peer presented a certificate\n"
                  "  --expect-suite HEX  fail unless this suite was negotiated\n"
                  "  --sni NAME          client: server_name (default localhost; '-' = none)\n"
                  "  --message TEXT      client: the line to send (default 'hello from aq')\n"
                  "  --timeout SEC       per-read timeout (default 10)\n"
                  "  --max-record N      split what we send into records of at most N bytes\n"
                  "  --alpn A,B          client: offer; server: accept (preference order)\n"
                  "  --alpn-required     server: no common protocol -> no_application_protocol\n"
                  "  --expect-alpn NAME  fail unless NAME was negotiated\n"
                  "  --connections N     client: connect N times; server: accept N connections\n"
                  "  --tickets           server: issue NewSessionTickets (random ticket key)\n"
                  "  --resume            client: connections after the first use the last ticket\n"
                  "  --expect-resumed    the first connection is full, every later one resumed\n"
                  "  --early-data        client: offer 0-RTT on resumption; server: accept it\n"
                  "  --no-reply          client: send the line, do not wait for an answer\n"
                  "  -v                  trace records and engine callbacks\n");
  exit(2);
}

static unsigned long parse_hex(const char *s) {
  char *end;
  unsigned long v = strtoul(s, &end, 16);
  if (*s == '\0' || *end != '\0' || v > 0xffff) {
    usage();
  }
  return v;
}

static int tcp_connect(int port) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    die("connect 127.0.0.1:%d: %s", port, strerror(errno));
  }
  return fd;
}

/* Listen on 127.0.0.1:port; the chosen port goes to port_file (atomically). */
static int tcp_listen(int port, const char *port_file) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 4) != 0) {
    die("listen 127.0.0.1:%d: %s", port, strerror(errno));
  }
  socklen_t sl = sizeof(sa);
  if (getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0) {
    die("getsockname: %s", strerror(errno));
  }
  if (port_file != NULL) {
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", port_file);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
      die("cannot write %s", tmp);
    }
    fprintf(f, "%u\n", ntohs(sa.sin_port));
    fclose(f);
    if (rename(tmp, port_file) != 0) { /* readers never see a partial file */
      die("rename %s: %s", port_file, strerror(errno));
    }
  }
  return lfd;
}

static int tcp_accept(int lfd, int timeout_ms) {
  struct pollfd pfd = {.fd = lfd, .events = POLLIN};
  if (poll(&pfd, 1, timeout_ms * 3) <= 0) {
    die("no connection within %d ms", timeout_ms * 3);
  }
  int fd = accept(lfd, NULL, NULL);
  if (fd < 0) {
    die("accept: %s", strerror(errno));
  }
  return fd;
}

/* What one connection must show. */
typedef struct run_opts {
  const char *message;
  unsigned long expect_suite;
  int expect_peer_cert;
  const char *expect_alpn;
  int expect_resumed; /* 1: must resume, 0: must not, -1: either */
  int no_reply;       /* client: do not wait for an answer (peers that do not echo) */
} run_opts;

/* One connection on fd: handshake, one line each way, close.  Dies on failure. */
static void run_connection(peer *p, int fd, const aq_tls_config *cfg, const aq_tls_callbacks *cb,
                           const run_opts *o) {
  /* Per-connection state (the session and pins carry over). */
  memset(p->wr, 0, sizeof(p->wr));
  memset(p->rd, 0, sizeof(p->rd));
  p->write_epoch = AQ_EPOCH_INITIAL;
  p->sent_records = 0;
  p->inlen = 0;
  p->applen = 0;
  p->got_close_notify = 0;
  p->fatal_alert = 0;
  p->early_offered = 0;
  p->early_done = 0;
  p->hs_record_ok = 0;
  p->early_skipped = 0;
  p->peer_key_seen = 0;
  p->peer_key_type = 0;
  p->fd = fd;
  p->tls = aq_tls_new(cfg, cb, p, aq_mem_default());
  if (p->tls == NULL) {
    die("aq_tls_new failed");
  }

  /* ---- handshake */
  if (!p->is_server) {
    int rv = aq_tls_start(p->tls, now_ns());
    if (rv != 0) {
      die("aq_tls_start: %s", aq_strerror(rv));
    }
  }
  while (!aq_tls_handshake_done(p->tls)) {
    if (process_record(p) != 0 || p->got_close_notify) {
      die("handshake failed");
    }
  }
  const aq_tls_suite *suite = aq_tls_get_suite(p->tls);
  const char *alpn = aq_tls_get_alpn(p->tls);
  const char *sni = p->is_server ? aq_tls_get_server_name(p->tls) : NULL;
  int resumed = aq_tls_resumed(p->tls);
  fprintf(stderr,
          "tls_rec_peer: %s handshake done: suite %04x group %04x peer key %s (type %d) "
          "alpn %s sni %s resumed %d\n",
          p->is_server ? "server" : "client", suite != NULL ? suite->id : 0,
          aq_tls_get_group(p->tls), p->peer_key_seen ? "verified" : "none", p->peer_key_type,
          alpn != NULL ? alpn : "-", sni != NULL ? sni : "-", resumed);
  if (o->expect_suite != 0 && (suite == NULL || suite->id != o->expect_suite)) {
    die("negotiated suite %04x, expected %04lx", suite != NULL ? suite->id : 0, o->expect_suite);
  }
  /* A resumed handshake authenticates through the PSK: no certificate then. */
  if (o->expect_peer_cert && !resumed && !p->peer_key_seen) {
    die("the peer presented no certificate");
  }
  if (o->expect_alpn != NULL && (alpn == NULL || strcmp(alpn, o->expect_alpn) != 0)) {
    die("negotiated ALPN %s, expected %s", alpn != NULL ? alpn : "(none)", o->expect_alpn);
  }
  if (o->expect_resumed >= 0 && resumed != o->expect_resumed) {
    die("resumed = %d, expected %d", resumed, o->expect_resumed);
  }

  /* ---- application data: one line each way */
  char line[1024];
  if (!p->is_server) {
    size_t mlen = strlen(o->message);
    memcpy(line, o->message, mlen);
    line[mlen] = '\n';
    if (write_stream(p, AQ_EPOCH_1RTT, CT_APPLICATION_DATA, (const uint8_t *)line, mlen + 1) != 0) {
      die("cannot send application data");
    }
  }
  uint8_t *nl;
  while (!o->no_reply && (nl = memchr(p->app, '\n', p->applen)) == NULL) {
    if (process_record(p) != 0 || p->got_close_notify) {
      die("no application line from the peer");
    }
  }
  size_t llen = o->no_reply ? 0 : (size_t)(nl - p->app);
  if (llen > 0 && p->app[llen - 1] == '\r') {
    llen--;
  }
  if (llen >= sizeof(line)) {
    die("line too long");
  }
  if (o->no_reply) {
    fprintf(stderr, "tls_rec_peer: line sent, no reply awaited\n");
  } else if (!p->is_server) {
    /* s_server -rev (and our server) answer with the line reversed. */
    size_t mlen = strlen(o->message);
    int ok = llen == mlen;
    for (size_t i = 0; ok && i < mlen; i++) {
      ok = p->app[i] == (uint8_t)o->message[mlen - 1 - i];
    }
    fprintf(stderr, "tls_rec_peer: reply '%.*s'\n", (int)llen, (const char *)p->app);
    if (!ok) {
      die("unexpected reply");
    }
  } else {
    for (size_t i = 0; i < llen; i++) {
      line[i] = (char)p->app[llen - 1 - i];
    }
    line[llen] = '\n';
    fprintf(stderr, "tls_rec_peer: received '%.*s'\n", (int)llen, (const char *)p->app);
    if (write_stream(p, AQ_EPOCH_1RTT, CT_APPLICATION_DATA, (const uint8_t *)line, llen + 1) != 0) {
      die("cannot send application data");
    }
  }

  /* ---- close: close_notify, then read (briefly) until the peer's side ends.
   * Tickets that arrive meanwhile still reach the engine. */
  send_alert(p, 1, 0);
  shutdown(p->fd, SHUT_WR);
  int saved = p->timeout_ms;
  p->timeout_ms = p->timeout_ms < 2000 ? p->timeout_ms : 2000;
  for (int i = 0; i < 16 && !p->got_close_notify; i++) {
    if (process_record(p) != 0) {
      break; /* EOF or the peer's own close: the exchange already succeeded */
    }
  }
  p->timeout_ms = saved;
  if (p->fatal_alert != 0) {
    die("the peer sent alert %d after the exchange", p->fatal_alert);
  }
  close(p->fd);
  aq_tls_del(p->tls);
  p->tls = NULL;
  for (int e = 0; e < AQ_EPOCH_COUNT; e++) {
    if (p->wr[e].set) {
      aq_aead_free(&p->wr[e].aead);
    }
    if (p->rd[e].set) {
      aq_aead_free(&p->rd[e].aead);
    }
  }
  memset(p->wr, 0, sizeof(p->wr));
  memset(p->rd, 0, sizeof(p->rd));
}

int main(int argc, char **argv) {
  peer p;
  cred_store cs;
  const char *certpath = NULL, *keypath = NULL, *peercert = NULL, *port_file = NULL;
  const char *self_cn = NULL, *write_cert = NULL;
  const char *sni = "localhost", *message = "hello from aq";
  int port = -1, client_auth = 0, expect_peer_cert = 0, have_cred = 0;
  unsigned long expect_suite = 0;
  uint16_t suites[1];
  size_t nsuites = 0;
  uint16_t groups[8] = {0x001d};
  size_t ngroups = 1, nkey_shares = 1;
  char *alpn[8];
  size_t nalpn = 0;
  int early_data = 0;
  int alpn_required = 0, tickets = 0, resume = 0, expect_resumed = 0, connections = 1;
  run_opts ro;
  memset(&ro, 0, sizeof(ro));

  if (argc < 2 || (strcmp(argv[1], "client") != 0 && strcmp(argv[1], "server") != 0)) {
    usage();
  }
  memset(&p, 0, sizeof(p));
  memset(&cs, 0, sizeof(cs));
  p.is_server = strcmp(argv[1], "server") == 0;
  p.timeout_ms = 10000;
  p.max_record = MAX_PLAINTEXT;

  static const struct option opts[] = {{"port", required_argument, NULL, 'p'},
                                       {"port-file", required_argument, NULL, 'P'},
                                       {"suite", required_argument, NULL, 's'},
                                       {"groups", required_argument, NULL, 'g'},
                                       {"key-shares", required_argument, NULL, 'k'},
                                       {"cert", required_argument, NULL, 'c'},
                                       {"key", required_argument, NULL, 'K'},
                                       {"peer-cert", required_argument, NULL, 'C'},
                                       {"client-auth", required_argument, NULL, 'a'},
                                       {"expect-peer-cert", no_argument, NULL, 'E'},
                                       {"expect-suite", required_argument, NULL, 'S'},
                                       {"sni", required_argument, NULL, 'n'},
                                       {"message", required_argument, NULL, 'm'},
                                       {"timeout", required_argument, NULL, 't'},
                                       {"max-record", required_argument, NULL, 'M'},
                                       {"alpn", required_argument, NULL, 'A'},
                                       {"alpn-required", no_argument, NULL, 'R'},
                                       {"expect-alpn", required_argument, NULL, 'L'},
                                       {"connections", required_argument, NULL, 'N'},
                                       {"tickets", no_argument, NULL, 'T'},
                                       {"resume", no_argument, NULL, 'r'},
                                       {"expect-resumed", no_argument, NULL, 'X'},
                                       {"early-data", no_argument, NULL, 'Y'},
                                       {"no-reply", no_argument, NULL, 'Z'},
                                       {"self-signed", required_argument, NULL, 'x'},
                                       {"write-cert", required_argument, NULL, 'w'},
                                       {NULL, 0, NULL, 0}};
  int opt;
  optind = 2;
  while ((opt = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
    switch (opt) {
    case 'p': port = atoi(optarg); break;
    case 'P': port_file = optarg; break;
    case 's':
      suites[0] = (uint16_t)parse_hex(optarg);
      nsuites = 1;
      break;
    case 'g': {
      char *save = NULL, *copy = strdup(optarg);
      ngroups = 0;
      for (char *t = strtok_r(copy, ",", &save); t != NULL && ngroups < 8;
           t = strtok_r(NULL, ",", &save)) {
        groups[ngroups++] = (uint16_t)parse_hex(t);
      }
      free(copy);
      break;
    }
    case 'k': nkey_shares = (size_t)atoi(optarg); break;
    case 'c': certpath = optarg; break;
    case 'K': keypath = optarg; break;
    case 'C': peercert = optarg; break;
    case 'a':
      client_auth = strcmp(optarg, "require") == 0 ? 2 : strcmp(optarg, "request") == 0 ? 1 : 0;
      break;
    case 'E': expect_peer_cert = 1; break;
    case 'S': expect_suite = parse_hex(optarg); break;
    case 'n': sni = strcmp(optarg, "-") == 0 ? NULL : optarg; break;
    case 'm': message = optarg; break;
    case 't': p.timeout_ms = atoi(optarg) * 1000; break;
    case 'M':
      p.max_record = (size_t)atoi(optarg);
      if (p.max_record == 0 || p.max_record > MAX_PLAINTEXT) {
        usage();
      }
      break;
    case 'A': {
      char *save = NULL, *copy = strdup(optarg);
      for (char *t = strtok_r(copy, ",", &save); t != NULL && nalpn < 8;
           t = strtok_r(NULL, ",", &save)) {
        alpn[nalpn++] = strdup(t);
      }
      free(copy);
      break;
    }
    case 'R': alpn_required = 1; break;
    case 'L': ro.expect_alpn = optarg; break;
    case 'N': connections = atoi(optarg); break;
    case 'T': tickets = 1; break;
    case 'r': resume = 1; break;
    case 'X': expect_resumed = 1; break;
    case 'Y': early_data = 1; break;
    case 'Z': ro.no_reply = 1; break;
    case 'x': self_cn = optarg; break;
    case 'w': write_cert = optarg; break;
    case 'v': p.verbose = 1; break;
    default: usage();
    }
  }
  if ((port < 0 && !p.is_server) || port > 65535 || (certpath == NULL) != (keypath == NULL) ||
      (self_cn != NULL && certpath != NULL) || p.timeout_ms <= 0 || ngroups == 0 ||
      strchr(message, '\n') != NULL || connections < 1 || connections > 16) {
    usage();
  }
  if (port < 0) {
    port = 0;
  }
  ro.message = message;
  ro.expect_suite = expect_suite;
  ro.expect_peer_cert = expect_peer_cert;
  if (certpath != NULL) {
    load_credential(&cs, certpath, keypath);
    have_cred = 1;
  } else if (self_cn != NULL) {
    make_self_signed(&cs, self_cn, write_cert);
    have_cred = 1;
  }
  if (p.is_server && !have_cred) {
    die("a server needs --cert/--key or --self-signed");
  }
  if (peercert != NULL) {
    uint8_t *der = load_cert_der(peercert, &p.pin_spkilen);
    const uint8_t *spki;
    if (aq_x509_get_spki(&spki, &p.pin_spkilen, der, p.pin_spkilen) != 0) {
      die("%s: no SPKI", peercert);
    }
    p.pin_spki = malloc(p.pin_spkilen);
    memcpy(p.pin_spki, spki, p.pin_spkilen);
    free(der);
  }

  aq_tls_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.is_server = p.is_server;
  cfg.suites = nsuites ? suites : NULL;
  cfg.nsuites = nsuites;
  cfg.groups = groups;
  cfg.ngroups = ngroups;
  cfg.nkey_shares = nkey_shares;
  cfg.cred = have_cred ? &cs.cred : NULL;
  cfg.request_client_auth = client_auth >= 1;
  cfg.require_client_auth = client_auth == 2;
  cfg.offer_rpk = 0; /* OpenSSL 3.0 does not do RFC 7250 */
  cfg.allow_x509 = 1;
  cfg.server_name = p.is_server ? NULL : sni;
  cfg.alpn = nalpn ? (const char *const *)alpn : NULL;
  cfg.nalpn = nalpn;
  cfg.alpn_required = alpn_required;
  cfg.quic = 0;
  cfg.transport_params = NULL;
  /* Offer / accept 0-RTT (no early application data is sent: this only
   * exercises the negotiation, which over TCP needs EndOfEarlyData). */
  cfg.enable_early_data = !p.is_server && early_data;
  cfg.accept_early_data = p.is_server && early_data;
  uint8_t ticket_key[32];
  if (p.is_server && tickets) {
    if (cb_rand(ticket_key, sizeof(ticket_key), NULL) != 0) {
      die("no randomness");
    }
    cfg.ticket_key = ticket_key;
  }

  aq_tls_callbacks cb;
  memset(&cb, 0, sizeof(cb));
  cb.send = cb_send;
  cb.set_secret = cb_set_secret;
  cb.rand = cb_rand;
  cb.verify_peer = cb_verify_peer;
  cb.on_ticket = cb_on_ticket;

  int lfd = p.is_server ? tcp_listen(port, port_file) : -1;
  for (int c = 0; c < connections; c++) {
    ro.expect_resumed = -1;
    if (expect_resumed) {
      ro.expect_resumed = c > 0;
    }
    if (!p.is_server && c > 0 && resume) {
      if (p.session_len == 0) {
        die("no NewSessionTicket arrived on connection %d", c);
      }
      cfg.session = p.session;
      cfg.session_len = p.session_len;
    }
    int fd = p.is_server ? tcp_accept(lfd, p.timeout_ms) : tcp_connect(port);
    run_connection(&p, fd, &cfg, &cb, &ro);
  }
  if (lfd >= 0) {
    close(lfd);
  }
  aq_memzero(ticket_key, sizeof(ticket_key));
  aq_memzero(p.session, sizeof(p.session));
  aq_pem_signer_free(&cs.signer);
  free(cs.cert);
  free(p.pin_spki);
  for (size_t i = 0; i < nalpn; i++) {
    free(alpn[i]);
  }
  fprintf(stderr, "tls_rec_peer: %s OK (%d connection%s, %d ticket%s)\n",
          p.is_server ? "server" : "client", connections, connections == 1 ? "" : "s",
          p.tickets_seen, p.tickets_seen == 1 ? "" : "s");
  return 0;
}
