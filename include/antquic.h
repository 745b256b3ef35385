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
/* QUIC connection API: see the section added by the transport work.        */

#ifdef __cplusplus
}
#endif

#endif /* ANTQUIC_H */
