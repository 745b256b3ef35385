/*
 * antquic.h - the one public header of libantquic.
 *
 * libantquic is a sans-IO QUIC transport library with NAT traversal, QUIC
 * address discovery and post-quantum cryptography.  The library never opens
 * a socket, reads a clock or asks the OS for randomness: time enters as
 * aq_tstamp arguments, randomness through callbacks, and bytes through
 * caller-owned buffers.
 *
 * Conventions used throughout:
 *  - Functions return 0 or a negative AQ_ERR_* code, or aq_ssize (a byte
 *    count or a negative AQ_ERR_* code).
 *  - The caller owns every buffer it passes in; the library keeps no pointer
 *    to it after the call returns unless the doc comment says otherwise.
 *  - No function may be called from inside a library callback unless its doc
 *    comment says it may.
 */
#ifndef ANTQUIC_H
#define ANTQUIC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define AQ_EXTERN __attribute__((visibility("default")))
#  define AQ_MUST_CHECK __attribute__((warn_unused_result))
#else
#  define AQ_EXTERN
#  define AQ_MUST_CHECK
#endif

#define AQ_VERSION_MAJOR 0
#define AQ_VERSION_MINOR 1
#define AQ_VERSION_PATCH 0
#define AQ_VERSION_STR "0.1.0"

/* ------------------------------------------------------------------ types */

/** Monotonic time in nanoseconds.  The origin is the caller's choice. */
typedef uint64_t aq_tstamp;
/** A span of time in nanoseconds. */
typedef uint64_t aq_duration;
/** A byte count, or a negative AQ_ERR_* code. */
typedef int64_t aq_ssize;

#define AQ_NANOSECONDS ((aq_duration)1ULL)
#define AQ_MICROSECONDS ((aq_duration)1000ULL)
#define AQ_MILLISECONDS ((aq_duration)1000000ULL)
#define AQ_SECONDS ((aq_duration)1000000000ULL)
/** "No deadline": returned by get_expiry functions with nothing pending. */
#define AQ_TSTAMP_NEVER UINT64_MAX

/* ----------------------------------------------------------------- errors */

/*
 * One error enum for the whole library.  Codes below AQ_ERR_FATAL are fatal:
 * the object that returned one is unusable and every later call on it
 * returns the same code until it is deleted.
 */
typedef enum aq_error {
  AQ_OK = 0,
  AQ_ERR_INVALID_ARGUMENT = -201, /* a caller contract was broken */
  AQ_ERR_BUFFER_TOO_SMALL = -202, /* output does not fit; nothing written */
  AQ_ERR_TRUNCATED = -203,        /* input ended in the middle of an item */
  AQ_ERR_MALFORMED = -204,        /* input is not well formed */
  AQ_ERR_NON_MINIMAL = -205,      /* a varint was not minimally encoded where required */
  AQ_ERR_TRAILING_DATA = -206,    /* a length-prefixed block was not fully consumed */
  AQ_ERR_VALUE_RANGE = -207,      /* a value is out of its allowed range */
  AQ_ERR_UNSUPPORTED = -208,      /* a valid but unsupported option was asked for */
  AQ_ERR_CRYPTO = -209,           /* a cryptographic operation failed */
  AQ_ERR_DECRYPT = -210,          /* authentication of ciphertext failed */
  AQ_ERR_VERIFY = -211,           /* a signature or MAC did not verify */
  AQ_ERR_NOT_FOUND = -212,        /* a looked-up item does not exist */
  AQ_ERR_WOULD_BLOCK = -213,      /* try again after more input or time */
  AQ_ERR_STATE = -214,            /* call not valid in the current state */
  AQ_ERR_PROTO = -215,            /* the peer violated the protocol */
  AQ_ERR_IO = -216,               /* an I/O operation failed (node layer) */
  AQ_ERR_CLOSED = -217,           /* the object was closed */
  AQ_ERR_LIMIT = -218,            /* a configured limit was reached */
  AQ_ERR_TLS_ALERT = -219,        /* the TLS handshake ended with an alert */
  AQ_ERR_TIMEOUT = -220,          /* a deadline passed */
  AQ_ERR_FLOW_CONTROL = -240,     /* the peer exceeded flow control (FLOW_CONTROL_ERROR) */
  AQ_ERR_FINAL_SIZE = -241,       /* the peer broke a final size rule (FINAL_SIZE_ERROR) */

  /* Fatal range: anything below AQ_ERR_FATAL. */
  AQ_ERR_FATAL = -500,
  AQ_ERR_NOMEM = -501,            /* an allocation failed */
  AQ_ERR_CALLBACK_FAILURE = -502, /* an application callback failed */
  AQ_ERR_INTERNAL = -503          /* an impossible state was reached (a bug) */
} aq_error;

/** A static English description of an AQ_ERR_* code (never NULL). */
AQ_EXTERN const char *aq_strerror(int err);

/** Non-zero if err is in the fatal range. */
AQ_EXTERN int aq_err_is_fatal(int err);

/* ------------------------------------------------------------- allocation */

/**
 * Allocator hooks.  Every allocation the library makes goes through one of
 * these, passed at object creation.  Functions follow the C library
 * contracts; user_data is passed back unchanged.
 */
typedef struct aq_mem {
  void *user_data;
  void *(*malloc)(size_t size, void *user_data);
  void (*free)(void *ptr, void *user_data);
  void *(*calloc)(size_t nmemb, size_t size, void *user_data);
  void *(*realloc)(void *ptr, size_t size, void *user_data);
} aq_mem;

/** The default allocator (the C library's).  Never NULL. */
AQ_EXTERN const aq_mem *aq_mem_default(void);

/* -------------------------------------------------------------- addresses */

#define AQ_AF_INET 4
#define AQ_AF_INET6 6

/**
 * An IP address and UDP port as a plain value (not a sockaddr), so that the
 * core and the simulator can compare, hash and rewrite it (like a NAT).
 * IPv4 addresses use the first 4 bytes of ip; the rest are zero.
 */
typedef struct aq_addr {
  uint8_t family; /* AQ_AF_INET or AQ_AF_INET6; 0 = unset */
  uint8_t ip[16];
  uint16_t port; /* host byte order */
} aq_addr;

/** Make an IPv4 address from 4 network-order bytes and a port. */
AQ_EXTERN aq_addr aq_addr_ipv4(const uint8_t ip[4], uint16_t port);
/** Make an IPv6 address from 16 network-order bytes and a port. */
AQ_EXTERN aq_addr aq_addr_ipv6(const uint8_t ip[16], uint16_t port);
/** Non-zero if a and b have the same family, ip and port. */
AQ_EXTERN int aq_addr_eq(const aq_addr *a, const aq_addr *b);
/** Non-zero if a and b have the same family and ip (port ignored). */
AQ_EXTERN int aq_addr_eq_ip(const aq_addr *a, const aq_addr *b);

#define AQ_ADDR_STRLEN 56 /* "[" + 45-char IPv6 + "]:" + 5 digits + NUL, rounded */
/**
 * Write "1.2.3.4:port" or "[v6]:port" into dst (dstcap >= AQ_ADDR_STRLEN is
 * always enough).  Returns dst.
 */
AQ_EXTERN char *aq_addr_format(char *dst, size_t dstcap, const aq_addr *a);
/**
 * Parse "1.2.3.4:port", "[v6]:port", or, when the port is optional
 * (port_optional != 0), the same without ":port" (port 0).  No name
 * resolution.  Returns 0 or AQ_ERR_MALFORMED; *dst is untouched on error.
 */
AQ_EXTERN int aq_addr_parse(aq_addr *dst, const char *s, int port_optional);

/* --------------------------------------------------------------- selftest */

/**
 * Run the built-in known-answer tests of every cryptographic primitive.
 * report (may be NULL) is called once per test with its name and result.
 * Returns 0 if all pass, else AQ_ERR_CRYPTO.
 */
AQ_EXTERN int aq_selftest(void (*report)(const char *name, int ok, void *user_data),
                          void *user_data);

/** The library version string, e.g. "0.1.0". */
AQ_EXTERN const char *aq_version(void);

/* ----------------------------------------------------------- crypto (pqc) */
/* Post-quantum and identity API: see the section added by the PQC work.   */

/* ------------------------------------------------------------------ tls  */
/* TLS engine API: see the section added by the TLS work.                   */

/* ----------------------------------------------------------------- quic  */
/*
 * QUIC v1 connections and endpoints (RFC 9000/9001/9002), sans-IO.
 *
 * An aq_ep (endpoint) owns many aq_conn (connections) and demultiplexes
 * datagrams to them by Destination Connection ID; servers get new
 * connections from valid client Initials.  The caller drives an endpoint
 * (or a single client connection) with four calls: read a datagram,
 * write datagrams until 0, ask for the next expiry, handle the expiry.
 * Handles are opaque.  Events arrive through aq_callbacks.  Unless a doc
 * comment says otherwise, no aq_conn_* / aq_ep_* function may be called
 * from inside a callback; the stream calls aq_conn_stream_read/write/
 * shutdown/reset/stop_sending and aq_conn_open_stream MAY be called from
 * inside stream and handshake callbacks.
 */

typedef struct aq_conn aq_conn;
typedef struct aq_ep aq_ep;
struct aq_tls_credential; /* lib/tls/aq_tls.h: own key + signer */

/** Most network paths a connection tracks at once (one is active). */
#define AQ_MAX_PATHS 4

/** A network path: our local address and the peer's address. */
typedef struct aq_path {
  aq_addr local;
  aq_addr remote;
} aq_path;

/** Congestion control algorithms for aq_settings.cc_algo. */
#define AQ_CC_ALGO_CUBIC 0
#define AQ_CC_ALGO_NEWRENO 1

/** Connection and endpoint settings (plain data; see aq_settings_default). */
typedef struct aq_settings {
  aq_duration idle_timeout;          /* max_idle_timeout we offer; 0 = none (default 30 s) */
  aq_duration keep_alive;            /* send a PING after this long without sending; 0 = off */
  aq_duration handshake_timeout;     /* give up a handshake after this; 0 = only idle (default 10 s) */
  uint64_t initial_max_data;         /* connection receive window (default 4 MiB) */
  uint64_t initial_max_stream_data;  /* per-stream receive window, every stream kind (default 512 KiB) */
  uint64_t initial_max_streams_bidi; /* peer-initiated bidi streams allowed at once (default 100) */
  uint64_t initial_max_streams_uni;  /* peer-initiated uni streams allowed at once (default 100) */
  uint64_t stream_send_buffer;       /* bytes a stream buffers for sending (default 512 KiB) */
  size_t max_udp_payload;            /* datagrams we build, 1200..1452 (default 1200) */
  aq_duration max_ack_delay;         /* our max_ack_delay (default 25 ms) */
  aq_duration initial_rtt;           /* 0 = 333 ms (RFC 9002) */
  int cc_algo;                       /* AQ_CC_ALGO_* (default CUBIC) */
  size_t scid_len;                   /* our connection ID length, 4..20 (default 8) */
  size_t max_conns;                  /* endpoint: most connections (default 1024) */
  int retry;                         /* server: validate addresses with Retry first (default 0) */
  const uint8_t *static_key;         /* 32 bytes for stateless reset tokens that survive a
                                      * restart (keep it secret); NULL = random per endpoint */
  /* TLS (lib/tls): NULL/0 fields take the engine defaults. */
  const uint16_t *tls_suites;        /* cipher suites in preference order */
  size_t ntls_suites;
  const uint16_t *tls_groups;        /* key exchange groups in preference order */
  size_t ntls_groups;
  int require_pq;                    /* refuse classical-only key exchange */
  const char *const *alpn;           /* ALPN list (client: offered; server: accepted) */
  size_t nalpn;
  const char *server_name;           /* client: SNI, or NULL */
  const struct aq_tls_credential *cred; /* our key; borrowed for the object's lifetime */
  int require_client_auth;           /* server: demand a client key */
  int offer_rpk;                     /* raw public keys (RFC 7250), default 1 */
  int allow_x509;                    /* X.509 certificates too, default 1 */
  /* RFC 9221 DATAGRAM: largest DATAGRAM frame (type + length + payload) we
   * accept, advertised as max_datagram_frame_size; 0 = unsupported (default). */
  uint64_t max_datagram_frame_size;
  /* Resumption and 0-RTT (RFC 9001 §4.6), address-validation tokens (RFC 9000 §8.1.3). */
  const uint8_t *ticket_key;         /* server: 32 bytes sealing session tickets and NEW_TOKEN
                                      * tokens (copied); NULL = random per endpoint */
  int accept_early_data;             /* server: accept 0-RTT data from resuming clients */
  /* Receive-window auto-tuning (lib/quic/aq_fc.h): a window drained by the application in less
   * than 2 RTTs doubles, up to these caps; a cap <= the initial window disables tuning. */
  uint64_t max_stream_window;        /* per stream (default 16 MiB) */
  uint64_t max_conn_window;          /* per connection (default 24 MiB) */
  /* ECN (RFC 9000 §13.4): mark datagrams ECT(0) when written with
   * aq_ep_write_ecn / aq_conn_write_pkt_ecn, after validating the path
   * (default 1; the plain write calls never mark). */
  int enable_ecn;
  aq_duration token_lifetime;        /* server: NEW_TOKEN tokens sent after the handshake stay
                                      * valid this long; 0 = send none (default 24 h) */
  /* Diagnostics: trace qlog events through callbacks.qlog (default 0 = off). */
  int qlog;
  /* QUIC version 2 (RFC 9369) and compatible version negotiation (RFC 9368; aq_conn_ver.c).
   * enable_v2: a client lists v2 in its version_information; a server accepts v2 Initials
   * and moves a v1 client that lists v2 to v2 (default 0: v1 only, as interop peers such
   * as quinn 0.9 expect; tickets and tokens are not yet bound to a version). */
  int enable_v2;
  uint32_t initial_version; /* client: version of its first Initial, AQ_QUIC_V1/V2 (0 = v1) */
  /* OpenSSL algorithms fetched once (lib/crypto aq_crypto_algs), lent to every connection;
   * NULL = the endpoint fetches its own (the usual case; it must outlive the endpoint). */
  const struct aq_crypto_algs *crypto_algs;
} aq_settings;

/** Fill s with the defaults documented in aq_settings. */
AQ_EXTERN void aq_settings_default(aq_settings *s);

/** Why a connection ended (argument of aq_callbacks.conn_closed). */
typedef struct aq_close_info {
  int is_app;              /* 1: application error code (CONNECTION_CLOSE 0x1d) */
  int by_peer;             /* 1: the peer closed; 0: we closed (API, error or timeout) */
  int idle_timeout;        /* 1: closed silently by the idle timeout */
  uint64_t code;           /* transport (RFC 9000 §20) or application error code */
  const uint8_t *reason;   /* reason phrase (not NUL-terminated); valid during the call */
  size_t reasonlen;
  int err;                 /* local AQ_ERR_* that caused the close, or 0 */
} aq_close_info;

/**
 * Application callbacks; user_data (given to aq_ep_new) is passed back.
 * rand is required; everything else may be NULL.
 */
typedef struct aq_callbacks {
  /** Fill buf with len random bytes; return 0 (non-zero = failure, fatal). */
  int (*rand)(uint8_t *buf, size_t len, void *user_data);
  /** Server: a new connection was created from a client Initial. */
  void (*new_conn)(aq_ep *ep, aq_conn *conn, void *user_data);
  /** The handshake completed (client: Finished sent; server: client Finished verified). */
  void (*handshake_completed)(aq_conn *conn, void *user_data);
  /** The peer opened stream_id (its first frame arrived). */
  void (*stream_open)(aq_conn *conn, uint64_t stream_id, void *user_data);
  /** stream_id has data, a FIN or a reset to read (call aq_conn_stream_read). */
  void (*stream_data)(aq_conn *conn, uint64_t stream_id, void *user_data);
  /** stream_id can accept more data after a write returned less than asked. */
  void (*stream_writable)(aq_conn *conn, uint64_t stream_id, void *user_data);
  /** The peer sent STOP_SENDING for stream_id (the stream's sending part is reset). */
  void (*stream_stop_sending)(aq_conn *conn, uint64_t stream_id, uint64_t app_error,
                              void *user_data);
  /** stream_id is finished in both directions and forgotten. */
  void (*stream_close)(aq_conn *conn, uint64_t stream_id, void *user_data);
  /**
   * Decide on the peer's key during the handshake: spki = its
   * SubjectPublicKeyInfo DER (raw public key, or taken from its X.509
   * certificate, then cert/certlen = that DER, else NULL).  Return 0 to
   * accept; anything else fails the handshake (CRYPTO_ERROR bad_certificate).
   * The CertificateVerify signature is always checked as well.  NULL =
   * accept any key (only for tests and opportunistic encryption).
   */
  int (*verify_peer)(aq_conn *conn, const uint8_t *spki, size_t spkilen, const uint8_t *cert,
                     size_t certlen, void *user_data);
  /** The connection is closed (entered closing/draining or timed out); called once. */
  void (*conn_closed)(aq_conn *conn, const aq_close_info *info, void *user_data);
  /** A DATAGRAM frame (RFC 9221) arrived; data is valid only during the call. */
  void (*datagram_recv)(aq_conn *conn, const uint8_t *data, size_t len, void *user_data);
  /**
   * Client: a resumption state arrived (a session ticket and/or a NEW_TOKEN
   * address-validation token).  blob/len is opaque; store it as a secret
   * (it holds the resumption key) and give it to aq_conn_set_session for a
   * later connection to the same server.  Later calls supersede earlier
   * ones.  blob is valid only during the call.
   */
  void (*new_session)(aq_conn *conn, const uint8_t *blob, size_t len, void *user_data);
  /**
   * SSLKEYLOGFILE line for a new TLS secret ("CLIENT_HANDSHAKE_TRAFFIC_SECRET
   * <client random hex> <secret hex>", NUL-terminated, no newline: append
   * one when writing a key log file).  The line holds a secret and is wiped
   * after the call.  NULL = no key log.
   */
  void (*keylog)(aq_conn *conn, const char *line, void *user_data);
  /**
   * One qlog record (settings.qlog): RS (0x1e), a JSON text, LF, in
   * draft-ietf-quic-qlog-main-schema JSON-SEQ form; the first record of a
   * connection is the header.  data is valid only during the call.
   */
  void (*qlog)(aq_conn *conn, const uint8_t *data, size_t len, void *user_data);
  /**
   * Address discovery (aq_ep_set_qad): the peer reported the address it
   * sees us at (an OBSERVED_ADDRESS frame it was asked for, newer than the
   * last one on its path).  changed = 1 for the first report on this
   * connection and whenever it differs from the previous report (e.g. after
   * a NAT rebinding).  observed is valid during the call.
   */
  void (*addr_observed)(aq_conn *conn, const aq_addr *observed, int changed, void *user_data);
} aq_callbacks;

/** Statistics of one connection. */
typedef struct aq_conn_stats {
  uint64_t pkts_sent, pkts_recv, pkts_lost, pkts_dropped;
  uint64_t bytes_sent, bytes_recv;  /* UDP payload bytes */
  uint64_t stream_bytes_sent, stream_bytes_recv;
  uint64_t migrations;              /* times the peer's address changed (active path switched) */
  aq_duration srtt, min_rtt;
  uint64_t cwnd;
  /* RFC 9221 DATAGRAM frames: sent, received, declared lost (never resent),
   * refused by a full send queue or dropped because they no longer fit. */
  uint64_t datagrams_sent, datagrams_recv, datagrams_lost, datagrams_dropped;
  uint64_t key_updates; /* 1-RTT key updates (RFC 9001 §6), initiated by either side */
  /* ECN (RFC 9000 §13.4): datagrams we marked ECT(0), CE marks the peer
   * reported (each one a congestion event), validation state AQ_ECN_STATE_*. */
  uint64_t ecn_ect0_sent, ecn_ce_reported;
  int ecn_state;
} aq_conn_stats;

/* Stream ID helpers (RFC 9000 §2.1). */
#define AQ_STREAM_IS_UNI(id) (((id)&2u) != 0)
#define AQ_STREAM_IS_SERVER(id) (((id)&1u) != 0)

/**
 * Create an endpoint.  settings and callbacks are copied (the pointers
 * inside settings are borrowed for the endpoint's lifetime); mem may be
 * NULL (default allocator).  is_server: accept connections from Initials.
 * Returns NULL on allocation failure or a missing rand callback.
 */
AQ_EXTERN aq_ep *aq_ep_new(const aq_settings *settings, const aq_callbacks *callbacks,
                           void *user_data, const aq_mem *mem, int is_server);
/** Delete an endpoint and all its connections (no callbacks). NULL is a no-op. */
AQ_EXTERN void aq_ep_del(aq_ep *ep);

/**
 * Start a client connection over path at ts; *out receives the handle
 * (owned by ep).  A server endpoint may dial too (a P2P node serves and
 * connects on one socket): its client connections share the demultiplexer.
 * Errors: AQ_ERR_LIMIT (max_conns), AQ_ERR_NOMEM, AQ_ERR_CALLBACK_FAILURE
 * (rand failed).
 */
AQ_EXTERN AQ_MUST_CHECK int aq_ep_connect(aq_ep *ep, const aq_path *path, aq_tstamp ts,
                                          aq_conn **out);

/**
 * A datagram arrived on path (local = where it was received, remote = its
 * source).  Undecryptable datagrams are dropped silently; a server answers
 * unknown versions with Version Negotiation, token-less Initials with Retry
 * (settings.retry), and short headers for unknown CIDs with a stateless
 * reset (queued: sent by the next aq_ep_write).  data is not kept.
 * Returns 0 or a fatal error (AQ_ERR_NOMEM, AQ_ERR_CALLBACK_FAILURE).
 */
AQ_EXTERN AQ_MUST_CHECK int aq_ep_read(aq_ep *ep, const aq_path *path, const uint8_t *data,
                                       size_t len, aq_tstamp ts);

/**
 * Build the next datagram of any connection into buf (cap >= 1200) and its
 * path into *path.  Returns its length, 0 if nothing is to be sent now, or
 * a fatal error.  Call until it returns 0.
 */
AQ_EXTERN AQ_MUST_CHECK aq_ssize aq_ep_write(aq_ep *ep, aq_path *path, uint8_t *buf, size_t cap,
                                             aq_tstamp ts);

/** The earliest time aq_ep_handle_expiry must run (AQ_TSTAMP_NEVER if none). */
AQ_EXTERN aq_tstamp aq_ep_get_expiry(const aq_ep *ep);

/**
 * Run every timer due at ts (retransmissions, ACKs, idle/close timeouts).
 * Connections that finished closing are deleted here (after their
 * conn_closed callback).  Returns 0 or a fatal error.
 */
AQ_EXTERN AQ_MUST_CHECK int aq_ep_handle_expiry(aq_ep *ep, aq_tstamp ts);

/**
 * Optional deferred work, for when the caller's loop is idle (every
 * datagram from aq_ep_write has been sent): makes the X25519 key pair of the
 * next handshake now, and lets the credential prepare its next signature
 * (aq_tls_credential.prepare: an ECDSA nonce), so that neither a connecting
 * client nor a server answering a ClientHello spends those scalar
 * multiplications while a peer waits.  Cheap when there is nothing to do.
 * Without it, handshakes do that work when needed.
 */
AQ_EXTERN void aq_ep_prepare(aq_ep *ep);

/** Connections currently held by the endpoint. */
AQ_EXTERN size_t aq_ep_conn_count(const aq_ep *ep);

/* Single-connection surface (what aq_ep_* call per connection). */

/** Feed one datagram received on path; 0, or the connection's sticky fatal error. */
AQ_EXTERN AQ_MUST_CHECK int aq_conn_read_pkt(aq_conn *conn, const aq_path *path,
                                             const uint8_t *data, size_t len, aq_tstamp ts);
/** Build one datagram (see aq_ep_write); 0 = nothing to send now. */
AQ_EXTERN AQ_MUST_CHECK aq_ssize aq_conn_write_pkt(aq_conn *conn, aq_path *path, uint8_t *buf,
                                                   size_t cap, aq_tstamp ts);
/** The connection's next deadline (AQ_TSTAMP_NEVER if none). */
AQ_EXTERN aq_tstamp aq_conn_get_expiry(const aq_conn *conn);
/** Run the connection's timers due at ts. 0 or the sticky fatal error. */
AQ_EXTERN AQ_MUST_CHECK int aq_conn_handle_expiry(aq_conn *conn, aq_tstamp ts);

/** Per-connection application pointer (NULL until set). */
AQ_EXTERN void aq_conn_set_app_data(aq_conn *conn, void *app_data);
AQ_EXTERN void *aq_conn_get_app_data(const aq_conn *conn);
/** Non-zero once the handshake completed (and the connection is not closed). */
AQ_EXTERN int aq_conn_is_established(const aq_conn *conn);
/** Non-zero once the connection is closing, draining or closed. */
AQ_EXTERN int aq_conn_is_closed(const aq_conn *conn);
/** Non-zero for a server-side connection. */
AQ_EXTERN int aq_conn_is_server(const aq_conn *conn);
/** Copy the connection's statistics into *st. */
AQ_EXTERN void aq_conn_get_stats(const aq_conn *conn, aq_conn_stats *st);
/**
 * The peer's authenticated SubjectPublicKeyInfo DER (valid until the
 * connection is deleted), or NULL before the handshake has verified it.
 */
AQ_EXTERN const uint8_t *aq_conn_peer_spki(const aq_conn *conn, size_t *len);
/** The active path. */
AQ_EXTERN const aq_path *aq_conn_get_path(const aq_conn *conn);

/**
 * Open a new locally initiated stream (bidi != 0: bidirectional) and
 * return its id in *stream_id.  Errors: AQ_ERR_LIMIT (the peer's
 * MAX_STREAMS is reached: a STREAMS_BLOCKED is sent; retry after the peer
 * raises it), AQ_ERR_STATE (handshake not complete, or closed),
 * AQ_ERR_NOMEM.
 */
AQ_EXTERN AQ_MUST_CHECK int aq_conn_open_stream(aq_conn *conn, int bidi, uint64_t *stream_id);

/**
 * Queue up to len bytes of data on stream_id, and the FIN if fin != 0 and
 * every byte was accepted.  Returns the bytes accepted (less than len, maybe
 * 0, when the send buffer is full: wait for stream_writable), or
 * AQ_ERR_NOT_FOUND (no such stream / already closed), AQ_ERR_STATE (a
 * receive-only stream, FIN already queued, or reset), AQ_ERR_CLOSED.
 */
AQ_EXTERN AQ_MUST_CHECK aq_ssize aq_conn_stream_write(aq_conn *conn, uint64_t stream_id,
                                                      const uint8_t *data, size_t len, int fin);

/**
 * Read up to cap in-order bytes from stream_id; *fin is set to 1 when the
 * stream's end has been reached (all data read).  Returns bytes read (0 if
 * nothing is available), or AQ_ERR_NOT_FOUND (no such stream, or already
 * finished and forgotten), AQ_ERR_STATE (send-only stream), AQ_ERR_CLOSED
 * (the peer reset the stream: *fin = 1; the code is available from
 * aq_conn_stream_reset_code until the stream is forgotten).
 */
AQ_EXTERN AQ_MUST_CHECK aq_ssize aq_conn_stream_read(aq_conn *conn, uint64_t stream_id,
                                                     uint8_t *buf, size_t cap, int *fin);

/** Queue the FIN of stream_id (same as a zero-length write with fin). */
AQ_EXTERN AQ_MUST_CHECK int aq_conn_stream_shutdown(aq_conn *conn, uint64_t stream_id);
/** Abandon sending on stream_id with RESET_STREAM(app_error). */
AQ_EXTERN AQ_MUST_CHECK int aq_conn_stream_reset(aq_conn *conn, uint64_t stream_id,
                                                 uint64_t app_error);
/** Ask the peer to stop sending on stream_id (STOP_SENDING(app_error)); unread data is dropped. */
AQ_EXTERN AQ_MUST_CHECK int aq_conn_stream_stop_sending(aq_conn *conn, uint64_t stream_id,
                                                        uint64_t app_error);
/** The peer's RESET_STREAM code for stream_id in *code; AQ_ERR_NOT_FOUND if not reset. */
AQ_EXTERN AQ_MUST_CHECK int aq_conn_stream_reset_code(const aq_conn *conn, uint64_t stream_id,
                                                      uint64_t *code);

/**
 * Close the connection with an application error code and reason (copied,
 * truncated to 256 bytes): CONNECTION_CLOSE (0x1d; APPLICATION_ERROR 0x1c
 * in Initial/Handshake packets) is sent, the connection enters the
 * closing state for three PTOs, then conn_closed fires.  Idempotent.
 */
AQ_EXTERN void aq_conn_close(aq_conn *conn, uint64_t app_error, const uint8_t *reason,
                             size_t reasonlen, aq_tstamp ts);

/* ------------------------------------------ datagrams (RFC 9221) */

/**
 * Queue one unreliable DATAGRAM frame carrying data (copied).  It is sent
 * once, in a 1-RTT packet, when congestion control allows; it is never
 * retransmitted (a loss shows in aq_conn_stats.datagrams_lost).  Returns
 * len, or AQ_ERR_STATE (handshake not complete, or the peer did not
 * advertise max_datagram_frame_size), AQ_ERR_LIMIT (len above
 * aq_conn_max_datagram_size), AQ_ERR_WOULD_BLOCK (32 datagrams already
 * queued: send later or drop), AQ_ERR_CLOSED, AQ_ERR_NOMEM.  May be called
 * from inside callbacks.
 */
AQ_EXTERN AQ_MUST_CHECK aq_ssize aq_conn_send_datagram(aq_conn *conn, const uint8_t *data,
                                                       size_t len);
/** The largest datagram payload aq_conn_send_datagram accepts now (0 = none allowed). */
AQ_EXTERN size_t aq_conn_max_datagram_size(const aq_conn *conn);

/* ------------------------------------------ key update (RFC 9001 §6) */

/**
 * Initiate a 1-RTT key update now: packets sent from here on use the next
 * key generation and the other Key Phase bit; the peer follows.  Updates
 * also happen automatically before the AEAD confidentiality limit (2^23
 * packets per AES-GCM key), and a peer's updates are answered.  Returns 0,
 * AQ_ERR_STATE (not allowed yet: the handshake is not confirmed, or no
 * packet sent with the current keys has been acknowledged, e.g. the
 * previous update is still unconfirmed; retry later), AQ_ERR_CLOSED,
 * AQ_ERR_CRYPTO.  Must not be called from inside a callback.
 */
AQ_EXTERN AQ_MUST_CHECK int aq_conn_initiate_key_update(aq_conn *conn, aq_tstamp ts);
/* ---- resumption and 0-RTT (RFC 9001 §4.6, RFC 9000 §7.4.1) */

/** aq_conn_early_data_state values. */
#define AQ_EARLY_DATA_NONE 0     /* not attempted (no usable session, or server side without) */
#define AQ_EARLY_DATA_OFFERED 1  /* 0-RTT keys in use, the server has not answered yet */
#define AQ_EARLY_DATA_ACCEPTED 2 /* the server accepted our 0-RTT data / we accepted the peer's */
#define AQ_EARLY_DATA_REJECTED 3 /* rejected: the 0-RTT data was sent again in 1-RTT */

/**
 * Client: resume with a blob from aq_callbacks.new_session, before the
 * first aq_conn_write_pkt (aq_ep_connect, then this).  The blob is copied.
 * With a session that allows early data, streams may be opened and written
 * at once: that data goes out in 0-RTT packets under the remembered limits,
 * and is resent in 1-RTT if the server rejects it.  An expired or foreign
 * ticket just means a full handshake.  A token in the blob is sent in the
 * Initial.  Errors: AQ_ERR_MALFORMED / AQ_ERR_TRUNCATED /
 * AQ_ERR_TRAILING_DATA / AQ_ERR_VALUE_RANGE (not a blob of ours: nothing
 * changed), AQ_ERR_STATE (server, or the handshake has started),
 * AQ_ERR_NOMEM.
 */
AQ_EXTERN AQ_MUST_CHECK int aq_conn_set_session(aq_conn *conn, const uint8_t *blob, size_t len);
/** AQ_EARLY_DATA_* of the connection. */
AQ_EXTERN int aq_conn_early_data_state(const aq_conn *conn);
/** Non-zero if the handshake resumed a session (no certificate exchange). */
AQ_EXTERN int aq_conn_is_resumed(const aq_conn *conn);

/* ---------------------------------------------- ECN (RFC 9000 §13.4) */

/* IP header ECN codepoints. */
#define AQ_ECN_NOT_ECT 0
#define AQ_ECN_ECT1 1
#define AQ_ECN_ECT0 2
#define AQ_ECN_CE 3
/* ECN validation states (aq_conn_stats.ecn_state, §13.4.2). */
#define AQ_ECN_STATE_TESTING 0 /* marking the first 10 datagrams */
#define AQ_ECN_STATE_UNKNOWN 1 /* test datagrams sent, waiting for the peer's counts */
#define AQ_ECN_STATE_CAPABLE 2 /* validated: every datagram is marked */
#define AQ_ECN_STATE_FAILED 3  /* bleached, not echoed or mangled: no marking */

/**
 * aq_ep_read with the datagram's IP ECN codepoint (AQ_ECN_*, e.g. from
 * IP_RECVTOS / IPV6_RECVTCLASS); aq_ep_read is this with AQ_ECN_NOT_ECT.
 */
AQ_EXTERN AQ_MUST_CHECK int aq_ep_read_ecn(aq_ep *ep, const aq_path *path, const uint8_t *data,
                                           size_t len, unsigned ecn, aq_tstamp ts);
/**
 * aq_ep_write that also returns in *ecn the ECN codepoint to set on the
 * datagram (AQ_ECN_ECT0 or AQ_ECN_NOT_ECT).  Call it only if the socket can
 * set the codepoint per datagram: marking starts only through this call.
 */
AQ_EXTERN AQ_MUST_CHECK aq_ssize aq_ep_write_ecn(aq_ep *ep, aq_path *path, uint8_t *buf,
                                                 size_t cap, unsigned *ecn, aq_tstamp ts);
/** aq_conn_read_pkt with the datagram's ECN codepoint. */
AQ_EXTERN AQ_MUST_CHECK int aq_conn_read_pkt_ecn(aq_conn *conn, const aq_path *path,
                                                 const uint8_t *data, size_t len, unsigned ecn,
                                                 aq_tstamp ts);
/** aq_conn_write_pkt returning the datagram's ECN codepoint in *ecn (see aq_ep_write_ecn). */
AQ_EXTERN AQ_MUST_CHECK aq_ssize aq_conn_write_pkt_ecn(aq_conn *conn, aq_path *path, uint8_t *buf,
                                                       size_t cap, unsigned *ecn, aq_tstamp ts);
/* ---- client-initiated migration (RFC 9000 §9) */

/**
 * Client: move the connection to a new local address (same server
 * address).  The new path is probed with PATH_CHALLENGE under a fresh
 * connection ID of the server's; once PATH_RESPONSE arrives the connection
 * switches there (stats.migrations counts it), with fresh congestion state,
 * and retires the old connection ID.  Until then, and if the probe fails
 * (abandoned after 3 x max(PTO, 2 s)), traffic stays on the current path.
 * Calling again replaces a probe in progress.  Errors: AQ_ERR_STATE (a
 * server, the handshake not confirmed, closed, or the server set
 * disable_active_migration), AQ_ERR_LIMIT (the server gave no spare
 * connection ID), AQ_ERR_INVALID_ARGUMENT (not an address, other family, or
 * the current one), AQ_ERR_CALLBACK_FAILURE.
 */
AQ_EXTERN AQ_MUST_CHECK int aq_conn_migrate(aq_conn *conn, const aq_addr *new_local, aq_tstamp ts);
/* ------------------------------------------- QUIC address discovery (issue 8) */
/*
 * draft-ietf-quic-address-discovery: each side may tell the other the
 * address (IP:port) it sees the other's packets come from, in
 * OBSERVED_ADDRESS frames, so a node behind a NAT learns its public
 * address.  aq_ep_set_qad turns it on for every connection the endpoint
 * creates afterwards; reports arrive through aq_callbacks.addr_observed and
 * collect in the endpoint's set of discovered addresses (aq_ep_discovered).
 * Rate limits are local policy: a token bucket per path (rate = burst).
 */

/** Address discovery policy (see aq_qad_config_default). */
typedef struct aq_qad_config {
  int enabled;           /* default 1 (ANT_QUIC_ADDRESS_DISCOVERY_ENABLED) */
  uint32_t max_rate;     /* observations/s per path, 1..63, default 10 (ANT_QUIC_MAX_OBSERVATION_RATE) */
  int observe_all_paths; /* also report on non-active paths (in probing packets); default 0 */
  int bootstrap;         /* bootstrap node: 63/s and all paths, whatever the two fields above say */
  uint8_t mode;          /* address_discovery transport parameter we send: 0 = we only provide
                          * observations, 1 = we only want them, 2 = both (default) */
} aq_qad_config;

/** Fill cfg with the defaults (enabled, 10/s, active path only, not bootstrap, mode 2). */
AQ_EXTERN void aq_qad_config_default(aq_qad_config *cfg);

/** Environment lookup for aq_qad_config_from_env: the value of name, or NULL if unset. */
typedef const char *(*aq_qad_getenv_fn)(const char *name, void *ud);

/**
 * Defaults, then ANT_QUIC_ADDRESS_DISCOVERY_ENABLED (true/false/1/0/yes/no,
 * any case) and ANT_QUIC_MAX_OBSERVATION_RATE (decimal 1..63) read through
 * get (e.g. a wrapper of getenv).  Returns 0, or AQ_ERR_MALFORMED /
 * AQ_ERR_VALUE_RANGE with *why (if why is non-NULL) set to a static message
 * to print at start-up; cfg is written only on success.
 */
AQ_EXTERN AQ_MUST_CHECK int aq_qad_config_from_env(aq_qad_config *cfg, aq_qad_getenv_fn get,
                                                   void *ud, const char **why);

/**
 * Use address discovery on every connection ep creates from now on (cfg is
 * copied; connections that exist keep their settings).  cfg NULL or
 * cfg->enabled == 0 turns it off for new connections (the discovered set is
 * kept).  Errors: AQ_ERR_VALUE_RANGE (max_rate not 1..63 without bootstrap,
 * mode > 2), AQ_ERR_NOMEM.  Not from inside a callback.
 */
AQ_EXTERN AQ_MUST_CHECK int aq_ep_set_qad(aq_ep *ep, const aq_qad_config *cfg);

/** Peers remembered per discovered address (the most recent ones). */
#define AQ_QAD_MAX_REPORTERS 4
/** Discovered addresses an endpoint remembers (the least recently reported is forgotten). */
#define AQ_QAD_MAX_DISCOVERED 32
/** Address changes one connection may add to the endpoint's set (the reference's 100). */
#define AQ_QAD_MAX_ADDRS_PER_CONN 100

/** One peer that reported a discovered address. */
typedef struct aq_qad_reporter {
  aq_addr peer;      /* the reporting peer's address (its end of the path) */
  aq_tstamp last_ts; /* when it last reported this address */
} aq_qad_reporter;

/** One of our external addresses as peers reported it. */
typedef struct aq_discovered_addr {
  aq_addr addr;        /* our address as seen from outside */
  aq_tstamp first_ts;  /* first report */
  aq_tstamp last_ts;   /* latest report */
  uint64_t reports;    /* accepted OBSERVED_ADDRESS frames carrying it */
  size_t nreporters;   /* entries used in reporters[] */
  aq_qad_reporter reporters[AQ_QAD_MAX_REPORTERS]; /* most recent first */
} aq_discovered_addr;

/**
 * Copy up to n discovered addresses (most recently reported first) into
 * out (may be NULL when n == 0).  Returns how many the endpoint holds (may
 * exceed n).  0 if address discovery was never enabled.
 */
AQ_EXTERN size_t aq_ep_discovered(const aq_ep *ep, aq_discovered_addr *out, size_t n);

/**
 * Our address as conn's peer last reported it: 0 and *out set, or
 * AQ_ERR_NOT_FOUND (no report yet, or address discovery not in use).
 */
AQ_EXTERN AQ_MUST_CHECK int aq_conn_observed_addr(const aq_conn *conn, aq_addr *out);

/* ---- QUIC versions (RFC 9369 v2, RFC 9368 compatible negotiation; lib/quic/aq_conn_ver.c) */
#define AQ_QUIC_V1 0x00000001u
#define AQ_QUIC_V2 0x6b3343cfu
/** The QUIC version the connection sends its packets in now (after any negotiation). */
AQ_EXTERN uint32_t aq_conn_get_version(const aq_conn *conn);
/** 1 if compatible version negotiation moved the connection off its original version. */
AQ_EXTERN int aq_conn_version_switched(const aq_conn *conn);

/* ---- connection info: what the handshake negotiated (lib/quic/aq_conn_info.c) */
/* These only read state: they MAY be called from inside callbacks. */

/** The negotiated ALPN protocol (NUL-terminated, *len = its length; valid until the
 * connection is deleted), or NULL (and *len = 0) before the handshake agreed on one.
 * len may be NULL. */
AQ_EXTERN const char *aq_conn_get_alpn(const aq_conn *conn, size_t *len);
/** The negotiated TLS cipher suite (IANA id, e.g. 0x1301), or 0 before it is known. */
AQ_EXTERN uint16_t aq_conn_get_cipher_suite(const aq_conn *conn);
/** The negotiated key exchange group (IANA id, e.g. 0x001d), or 0 (none yet, or a resumption
 * without key exchange). */
AQ_EXTERN uint16_t aq_conn_get_group(const aq_conn *conn);
/** Non-zero if the handshake went through a Retry (client: one was processed; server: the
 * client's Initial carried a valid Retry token of ours). */
AQ_EXTERN int aq_conn_used_retry(const aq_conn *conn);
/** Copy the original Destination Connection ID (the client's first DCID, the same on both
 * sides, also after a Retry; the qlog group id) into buf; returns its length (0..20), or
 * AQ_ERR_BUFFER_TOO_SMALL (nothing copied). */
AQ_EXTERN AQ_MUST_CHECK aq_ssize aq_conn_get_odcid(const aq_conn *conn, uint8_t *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* ANTQUIC_H */
