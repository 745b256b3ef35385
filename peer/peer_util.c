/*
 * peer_util.c - ant-quic-peer helpers: the i mod 256 pattern, sizes, name
 * resolution, shared settings, X.509 credential loading, suite names.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "aq_ct.h"
#include "aq_tls_group.h"
#include "peer.h"

uint8_t *peer_pattern;

int peer_pattern_init(void) {
  peer_pattern = malloc(PEER_PATTERN_LEN + 256);
  if (peer_pattern == NULL) {
    return -1;
  }
  for (size_t i = 0; i < PEER_PATTERN_LEN + 256; i++) {
    peer_pattern[i] = (uint8_t)i;
  }
  return 0;
}

int peer_parse_size(const char *s, uint64_t *out) {
  size_t n = strlen(s);
  uint64_t mul = 1;
  if (n > 0) {
    switch (s[n - 1]) {
    case 'k':
    case 'K':
      mul = 1ULL << 10;
      n--;
      break;
    case 'm':
    case 'M':
      mul = 1ULL << 20;
      n--;
      break;
    case 'g':
    case 'G':
      mul = 1ULL << 30;
      n--;
      break;
    default: break;
    }
  }
  if (n == 0 || n > 19) {
    return -1;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') {
      return -1;
    }
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (v > UINT64_MAX / mul) {
    return -1;
  }
  *out = v * mul;
  return 0;
}

int peer_resolve(const char *s, aq_addr *out) {
  if (aq_addr_parse(out, s, 0) == 0) {
    return 0;
  }
  const char *colon = strrchr(s, ':');
  if (colon == NULL || colon == s || strlen(colon + 1) == 0) {
    return -1;
  }
  char host[256];
  size_t hl = (size_t)(colon - s);
  if (hl >= sizeof(host)) {
    return -1;
  }
  memcpy(host, s, hl);
  host[hl] = '\0';
  if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
    memmove(host, host + 1, hl - 2);
    host[hl - 2] = '\0';
  }
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || res == NULL) {
    return -1;
  }
  int rc = node_addr_from_sockaddr(out, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return rc == 0 ? 0 : -1;
}

void peer_settings(const peer_opts *o, aq_settings *s, uint16_t suites[3], uint16_t groups[4]) {
  aq_settings_default(s);
  s->idle_timeout = o->idle_timeout_ms * AQ_MILLISECONDS;
  /* Windows like quinn 0.9's defaults unless given: 1.25 MB per stream, a large connection window.
   */
  s->initial_max_stream_data = o->stream_window >= 0 ? (uint64_t)o->stream_window : 1250000;
  s->initial_max_data = o->conn_window >= 0 ? (uint64_t)o->conn_window : 64ULL << 20;
  s->stream_send_buffer = 4ULL << 20;
  s->cc_algo = o->cc_algo;
  s->max_udp_payload = o->max_udp_payload;
  s->retry = o->retry;
  size_t ns = 0;
  if (o->suite != 0) {
    suites[ns++] = o->suite;
  } else {
    suites[ns++] = AQ_TLS_AES_128_GCM_SHA256;
    suites[ns++] = AQ_TLS_AES_256_GCM_SHA384;
    suites[ns++] = AQ_TLS_CHACHA20_POLY1305_SHA256;
  }
  s->tls_suites = suites;
  s->ntls_suites = ns;
  size_t ng = 0;
  if (o->pq) {
    groups[ng++] = AQ_TLS_GROUP_X25519MLKEM768;
  }
  groups[ng++] = AQ_TLS_GROUP_X25519;
  groups[ng++] = AQ_TLS_GROUP_SECP256R1;
  s->tls_groups = groups;
  s->ntls_groups = ng;
  s->alpn = o->alpn;
  s->nalpn = o->nalpn;
  s->max_datagram_frame_size = 65535; /* RFC 9221 DATAGRAM echo */
  s->offer_rpk = 0;                   /* standard stacks (rustls 0.20) know only X.509 */
  s->allow_x509 = 1;
}

const char *peer_suite_name(uint16_t id) {
  switch (id) {
  case AQ_TLS_AES_128_GCM_SHA256: return "aes128";
  case AQ_TLS_AES_256_GCM_SHA384: return "aes256";
  case AQ_TLS_CHACHA20_POLY1305_SHA256: return "chacha20";
  default: return "?";
  }
}

/* Read a whole (small) file, NUL-terminated; NULL on error. */
static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap + 1);
  while (buf != NULL) {
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (n < cap) {
      break;
    }
    if (cap >= (1u << 24)) {
      free(buf);
      buf = NULL;
      break;
    }
    char *nb = realloc(buf, 2 * cap + 1);
    if (nb == NULL) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  fclose(f);
  if (buf != NULL) {
    buf[n] = '\0';
    *len = n;
  }
  return buf;
}

int peer_cred_load(peer_cred *c, const char *certpath, const char *keypath) {
  memset(c, 0, sizeof(*c));
  size_t keylen = 0, pemlen = 0;
  char *key = slurp(keypath, &keylen);
  if (key == NULL) {
    fprintf(stderr, "error: reading %s\n", keypath);
    return -1;
  }
  int rc = aq_pem_signer_load(&c->signer, key, keylen);
  aq_memzero(key, keylen);
  free(key);
  if (rc != 0) {
    fprintf(stderr, "error: no usable private key in %s (%s)\n", keypath, aq_strerror(rc));
    return -1;
  }
  char *pem = slurp(certpath, &pemlen);
  if (pem == NULL) {
    fprintf(stderr, "error: reading %s\n", certpath);
    peer_cred_free(c);
    return -1;
  }
  c->cert = malloc(pemlen + 1);
  aq_ssize n = c->cert != NULL ? aq_pem_decode(c->cert, pemlen + 1, "CERTIFICATE", pem, pemlen)
                               : AQ_ERR_NOMEM;
  free(pem);
  if (n <= 0) {
    fprintf(stderr, "error: no certificate found in %s\n", certpath);
    peer_cred_free(c);
    return -1;
  }
  c->certlen = (size_t)n;
  if (aq_x509_get_spki(&c->cred.spki, &c->cred.spkilen, c->cert, c->certlen) != 0) {
    fprintf(stderr, "error: %s: malformed certificate\n", certpath);
    peer_cred_free(c);
    return -1;
  }
  c->cred.sig_scheme = c->signer.sig_scheme;
  c->cred.cert = c->cert;
  c->cred.certlen = c->certlen;
  c->cred.sign = aq_pem_signer_sign;
  c->cred.sign_ctx = &c->signer;
  c->cred.prepare = aq_pem_signer_prepare;
  return 0;
}

void peer_cred_free(peer_cred *c) {
  aq_pem_signer_free(&c->signer);
  free(c->cert);
  memset(c, 0, sizeof(*c));
}
