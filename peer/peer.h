/*
 * peer.h - ant-quic-peer: the echo / download / DATAGRAM interop peer of
 * ../shared/interop/README.md on libantquic + node_ep, with the flags,
 * output lines and exit codes of quinn-peer.
 *
 * Application protocol: the client opens a bidirectional stream; a stream
 * starting with ASCII decimal N (1..19 digits) and '\n' is answered with N
 * bytes (byte i = i mod 256) and FIN; anything else is echoed back, FIN
 * after the client's FIN.  DATAGRAM frames are echoed (when built with
 * RFC 9221 support).
 */
#ifndef PEER_H
#define PEER_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_tls.h"
#include "aq_tls_cert.h"
#include "node_ep.h"

#define PEER_MAX_ALPN 8

/** Command line (see usage in main.c). */
typedef struct peer_opts {
  int is_server;
  aq_addr listen;
  const char *connect; /* host:port */
  const char *server_name;
  const char *cert, *key;
  char alpn_buf[256];
  const char *alpn[PEER_MAX_ALPN];
  size_t nalpn;
  int64_t exit_after; /* -1 = forever */
  const char *message;
  int64_t echo_bytes; /* -1 = unset */
  int64_t download;   /* -1 = unset */
  const char *datagram;
  uint64_t runs;
  int64_t connections; /* -1 = unset */
  int verify;
  int cc_algo;
  int64_t stream_window, conn_window; /* -1 = peer defaults */
  uint64_t idle_timeout_ms;
  int quiet;
  /* ant-quic extras */
  uint16_t suite;          /* 0 = all three */
  int retry;               /* server: Retry before accepting */
  uint64_t key_update;     /* client: initiate a key update every N bytes (0 = never) */
  size_t max_udp_payload;  /* datagrams we build */
  uint64_t run_timeout_ms; /* client: give up one run after this */
  int pq;                  /* offer X25519MLKEM768 first */
  int ecn;                 /* ECN on the socket (node_ep_opts.ecn) */
  int resume;              /* client: later connections resume the latest session (0-RTT) */
  int no_early_data;       /* server: refuse 0-RTT data (resumption still works) */
} peer_opts;

/** A 1 MiB + 256 block whose byte i is i mod 256 (built once by peer_pattern_init). */
extern uint8_t *peer_pattern;
#define PEER_PATTERN_LEN ((size_t)1 << 20)
/** Build peer_pattern; 0 or -1 (no memory). */
int peer_pattern_init(void);

/** Parse a size with K/M/G suffixes (powers of 1024); 0 or -1. */
int peer_parse_size(const char *s, uint64_t *out);

/** Resolve "host:port", "[v6]:port" or "a.b.c.d:port" (getaddrinfo for names); 0 or -1. */
int peer_resolve(const char *s, aq_addr *out);

/** Fill s with the settings both sides share (TLS groups/suites, windows, ALPN, cc...). */
void peer_settings(const peer_opts *o, aq_settings *s, uint16_t suites[3], uint16_t groups[4]);

/** A short name of a suite id ("aes128" ...), or "?". */
const char *peer_suite_name(uint16_t id);

/** A loaded X.509 certificate + private key usable as aq_settings.cred. */
typedef struct peer_cred {
  aq_pem_signer signer;
  uint8_t *cert;
  size_t certlen;
  aq_tls_credential cred;
} peer_cred;

/** Load cert (first CERTIFICATE of a PEM file) and key (PEM); prints why on failure; 0 or -1. */
int peer_cred_load(peer_cred *c, const char *certpath, const char *keypath);
/** Free what peer_cred_load allocated (the key is cleansed). */
void peer_cred_free(peer_cred *c);

/*
 * Diagnostics from the environment (peer_diag.c): SSLKEYLOGFILE (append the
 * key log lines) and QLOGDIR (one <odcid>_<client|server>.sqlog JSON-SEQ
 * qlog trace per connection).
 */
/** Read the environment and open the key log; 0, or -1 (printed why). */
int peer_diag_init(void);
/** Install the key log / qlog callbacks and settings.qlog as the environment asked. */
void peer_diag_settings(aq_settings *s, aq_callbacks *cb);
/** conn is closing for good: close its trace file (call from conn_closed). */
void peer_diag_conn_closed(const aq_conn *conn);
/** Close every file (after node_ep_del). */
void peer_diag_free(void);
/** A short name of an ECN validation state (AQ_ECN_STATE_*). */
const char *peer_ecn_state_name(int state);

/** Run the server; returns the process exit code. */
int peer_server_main(const peer_opts *o);
/** Run the client; returns the process exit code. */
int peer_client_main(const peer_opts *o);

#endif
