/*
 * node_sock.h - non-blocking UDP sockets for the node (Linux).
 *
 * One node_sock is one UDP socket, bound either to an IPv4 address or to an
 * IPv6 address.  Binding to [::] first tries a dual-stack socket
 * (IPV6_V6ONLY=0) so one socket serves both families; IPv4 peers then appear
 * as plain AQ_AF_INET addresses (the v4-mapped form never leaves this file).
 *
 * Every received datagram carries the local address it was sent to
 * (IP_PKTINFO / IPV6_RECVPKTINFO) and its ECN bits (IP_RECVTOS /
 * IPV6_RECVTCLASS); a send may choose its source address (multi-homed hosts)
 * and its ECN codepoint.  I/O is batched with recvmmsg/sendmmsg, and UDP GSO
 * (UDP_SEGMENT) / GRO (UDP_GRO) are used when the kernel accepts them, with a
 * runtime fallback when it refuses.
 *
 * sockaddr <-> aq_addr conversion happens only in node_addr_to_sockaddr and
 * node_addr_from_sockaddr.
 */
#ifndef NODE_SOCK_H
#define NODE_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "antquic.h"

/** Most datagrams one node_sock_recv/node_sock_send call moves (mmsg batch). */
#define NODE_SOCK_MAX_BATCH 64
/** Most GSO segments in one send (the kernel's UDP_MAX_SEGMENTS). */
#define NODE_SOCK_MAX_GSO_SEGS 64
/** Largest UDP payload over IPv4/IPv6 (and the largest GSO buffer). */
#define NODE_SOCK_MAX_UDP_PAYLOAD 65507
/** A receive buffer of this size can hold any GRO super-datagram. */
#define NODE_SOCK_RECV_BUF_GRO 65536

/* ECN codepoints (RFC 3168), the low two bits of TOS / traffic class. */
#define NODE_ECN_NOT_ECT 0
#define NODE_ECN_ECT1 1
#define NODE_ECN_ECT0 2
#define NODE_ECN_CE 3

/**
 * One datagram, or one GSO/GRO train of datagrams, with its addresses.
 *  - Receive: the caller sets buf and cap; node_sock_recv sets len, segsize
 *    (the GRO segment size: every segment is segsize bytes except the last,
 *    which may be shorter; segsize == len when the kernel did not coalesce),
 *    local (the destination address, port = the socket's port), remote, ecn.
 *  - Send: buf/len hold one datagram, or, with segsize > 0 and
 *    segsize < len, back-to-back segments of segsize bytes (last may be
 *    shorter) sent with GSO or one by one.  local.family == 0 lets the
 *    kernel pick the source address; otherwise local.ip is the source (its
 *    port is ignored).  ecn is the codepoint to mark (0..3).
 */
typedef struct node_dgram {
  uint8_t *buf;
  size_t len;
  size_t cap;
  size_t segsize;
  aq_addr local;
  aq_addr remote;
  uint8_t ecn;
} node_dgram;

/**
 * Iterate over the segments of a received GRO train (or the one datagram):
 * start with *off = 0; each call sets *seg and *seglen to the next segment and
 * advances *off.  Returns 1 while a segment was produced, 0 at the end.
 */
static inline int node_dgram_next_seg(const node_dgram *d, size_t *off, const uint8_t **seg,
                                      size_t *seglen) {
  if (*off >= d->len) {
    return 0;
  }
  size_t step = d->segsize ? d->segsize : d->len;
  size_t left = d->len - *off;
  *seg = d->buf + *off;
  *seglen = left < step ? left : step;
  *off += *seglen;
  return 1;
}

/** Options for node_sock_open (zero = defaults). */
typedef struct node_sock_opts {
  int bufsize; /* SO_RCVBUF/SO_SNDBUF to ask for; 0 = 8 MiB (then 4, 2, 1 MiB) */
  int no_gso;  /* 1: never use UDP_SEGMENT */
  int no_gro;  /* 1: do not enable UDP_GRO */
  int no_mmsg; /* 1: use sendmsg/recvmsg one at a time */
  int v6only;  /* 1: an IPv6 bind is IPv6-only (no dual-stack attempt) */
} node_sock_opts;

/** Counters (read-only for callers). */
typedef struct node_sock_stats {
  uint64_t rx_dgrams, rx_bytes, rx_calls;
  uint64_t tx_dgrams, tx_bytes, tx_calls;
  uint64_t gso_fallbacks; /* sends retried without GSO after the kernel refused */
  uint64_t tx_errors;     /* datagrams dropped on a hard send error */
} node_sock_stats;

/** An open socket.  Fields are read-only for callers except the test hooks. */
typedef struct node_sock {
  int fd;
  int family;    /* socket family: AQ_AF_INET or AQ_AF_INET6 */
  int dualstack; /* IPv6 socket that also carries IPv4 (v4-mapped) */
  aq_addr bound; /* the local address after bind (port filled in) */
  int rcvbuf;    /* SO_RCVBUF per getsockopt (Linux doubles what was set) */
  int sndbuf;    /* SO_SNDBUF as getsockopt reports it */
  int gso;       /* 1 while UDP_SEGMENT is used; cleared on a kernel refusal */
  int gro;       /* 1 if UDP_GRO was accepted */
  int mmsg;      /* 1 if recvmmsg/sendmmsg are used */
  node_sock_stats stats;
  /*
   * Test hook: while > 0, each GSO send fails as if the kernel returned
   * test_gso_errno (default EIO when 0), and the counter is decremented.
   */
  int test_fail_gso;
  int test_gso_errno;
  /*
   * Test hook: while test_block != 0, only test_block_after more messages
   * reach the kernel; the send after that fails with EAGAIN as if the
   * socket buffer were full, and test_block is cleared.
   */
  int test_block;
  int test_block_after;
} node_sock;

/**
 * Open a non-blocking UDP socket bound to *bind_addr (port 0 = any free
 * port).  An IPv6 unspecified address ([::]) tries dual-stack first unless
 * opts->v6only.  opts may be NULL.  Large socket buffers, PKTINFO, ECN
 * reception and (unless disabled) GRO are switched on; failures of the
 * optional features only clear the matching flag.  s->fd is -1 on error.
 * Returns 0, AQ_ERR_INVALID_ARGUMENT (bad family) or AQ_ERR_IO (socket or
 * bind failed; errno is left as the OS set it).
 */
AQ_MUST_CHECK int node_sock_open(node_sock *s, const aq_addr *bind_addr,
                                 const node_sock_opts *opts);

/** Close the socket; safe to repeat, and after a failed node_sock_open (fd -1). */
void node_sock_close(node_sock *s);

/**
 * Receive up to n datagrams into d[0..n-1] (n <= NODE_SOCK_MAX_BATCH; each
 * d[i].buf/cap set by the caller; use NODE_SOCK_RECV_BUF_GRO-sized buffers
 * when s->gro, or a GRO train is truncated).  Does not block.  Returns the
 * number received (0 = nothing pending), or AQ_ERR_IO on a socket error.
 * Datagrams truncated because cap was too small are dropped and not counted.
 */
AQ_MUST_CHECK int node_sock_recv(node_sock *s, node_dgram *d, size_t n);

/**
 * Send d[0..n-1] in order (n <= NODE_SOCK_MAX_BATCH).  Does not block.
 * Returns how many entries were sent completely (an entry is a datagram or a
 * whole GSO train): n when all went, fewer when the socket buffer is full
 * (retry the rest when writable).  An entry the kernel rejects for good
 * (e.g. unreachable address) is counted in stats.tx_errors and skipped as if
 * sent.  When a GSO send fails with EIO/EINVAL (kernel, NIC or route refuses
 * segmentation), GSO is switched off for this socket and the entry is resent
 * segment by segment.  Returns AQ_ERR_INVALID_ARGUMENT for a malformed entry
 * (len 0, too many segments, family the socket cannot reach).
 */
AQ_MUST_CHECK int node_sock_send(node_sock *s, const node_dgram *d, size_t n);

/** Non-zero if socket s can send to (and from) an address of a's family. */
int node_sock_can_reach(const node_sock *s, const aq_addr *a);

/**
 * Convert a to a sockaddr in *ss, setting *sslen.  With v4mapped != 0 an
 * IPv4 address becomes ::ffff:a.b.c.d (for a dual-stack IPv6 socket).
 * Returns 0 or AQ_ERR_INVALID_ARGUMENT (family unset/unknown).
 */
AQ_MUST_CHECK int node_addr_to_sockaddr(struct sockaddr_storage *ss, socklen_t *sslen,
                                        const aq_addr *a, int v4mapped);

/**
 * Convert a sockaddr (AF_INET or AF_INET6) to *a; a v4-mapped IPv6 address
 * becomes AQ_AF_INET.  Returns 0, or AQ_ERR_INVALID_ARGUMENT (other family or
 * sslen too short; *a untouched).
 */
AQ_MUST_CHECK int node_addr_from_sockaddr(aq_addr *a, const struct sockaddr *sa, socklen_t sslen);

#endif
