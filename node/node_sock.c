/*
 * node_sock.c - UDP sockets: dual-stack bind, PKTINFO, ECN, recvmmsg /
 * sendmmsg, UDP GSO / GRO with runtime fallback.  See node_sock.h.
 *
 * Kernel facts this file relies on (Linux):
 *  - A dual-stack IPv6 socket receives IPv4 datagrams with v4-mapped
 *    addresses; IPV6_RECVPKTINFO then reports the v4-mapped destination and
 *    IP_RECVTOS (set on the same socket) reports the IPv4 TOS byte.  Sending
 *    to a v4-mapped address goes through the IPv4 path, which honours SOL_IP
 *    ancillary data (IP_PKTINFO, IP_TOS) but not IPV6_TCLASS, so the control
 *    data is chosen by the family of the destination, not of the socket.
 *  - IP_TOS arrives as one byte on receive; IPV6_TCLASS as an int.
 *  - UDP_SEGMENT (u16 cmsg) splits one buffer into segments of that size, at
 *    most 64, the last may be shorter.  Drivers/routes that cannot do it make
 *    the send fail with EIO (or EINVAL on some kernels): we then turn GSO off
 *    and send each segment separately.
 *  - With UDP_GRO set, a receive may return several coalesced datagrams in
 *    one buffer and a SOL_UDP/UDP_GRO cmsg (int) with the segment size.
 */
#include "node_sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <unistd.h>

#ifndef SOL_UDP
#define SOL_UDP 17
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* Control buffer big enough for everything we send or receive per message. */
#define SOCK_CTRL_LEN                                                                              \
  (CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(struct in_pktinfo)) +                \
   3 * CMSG_SPACE(sizeof(int)) + CMSG_SPACE(sizeof(uint16_t)))

typedef union sock_ctrl {
  struct cmsghdr align;
  uint8_t buf[SOCK_CTRL_LEN];
} sock_ctrl;

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* ------------------------------------------------------------ addresses */

int node_addr_to_sockaddr(struct sockaddr_storage *ss, socklen_t *sslen, const aq_addr *a,
                          int v4mapped) {
  memset(ss, 0, sizeof(*ss));
  if (a->family == AQ_AF_INET && !v4mapped) {
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(a->port);
    memcpy(&sin->sin_addr, a->ip, 4);
    *sslen = (socklen_t)sizeof(*sin);
    return 0;
  }
  if (a->family == AQ_AF_INET || a->family == AQ_AF_INET6) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(a->port);
    if (a->family == AQ_AF_INET) {
      memcpy(sin6->sin6_addr.s6_addr, v4mapped_prefix, 12);
      memcpy(sin6->sin6_addr.s6_addr + 12, a->ip, 4);
    } else {
      memcpy(sin6->sin6_addr.s6_addr, a->ip, 16);
    }
    *sslen = (socklen_t)sizeof(*sin6);
    return 0;
  }
  return AQ_ERR_INVALID_ARGUMENT;
}

/* An IPv6 address as aq_addr, unmapping ::ffff:a.b.c.d to IPv4. */
static aq_addr addr_from_in6(const uint8_t ip[16], uint16_t port) {
  if (memcmp(ip, v4mapped_prefix, 12) == 0) {
    return aq_addr_ipv4(ip + 12, port);
  }
  return aq_addr_ipv6(ip, port);
}

int node_addr_from_sockaddr(aq_addr *a, const struct sockaddr *sa, socklen_t sslen) {
  if (sslen >= (socklen_t)sizeof(struct sockaddr_in) && sa->sa_family == AF_INET) {
    struct sockaddr_in sin;
    memcpy(&sin, sa, sizeof(sin));
    uint8_t ip[4];
    memcpy(ip, &sin.sin_addr, 4);
    *a = aq_addr_ipv4(ip, ntohs(sin.sin_port));
    return 0;
  }
  if (sslen >= (socklen_t)sizeof(struct sockaddr_in6) && sa->sa_family == AF_INET6) {
    struct sockaddr_in6 sin6;
    memcpy(&sin6, sa, sizeof(sin6));
    *a = addr_from_in6(sin6.sin6_addr.s6_addr, ntohs(sin6.sin6_port));
    return 0;
  }
  return AQ_ERR_INVALID_ARGUMENT;
}

/* Non-zero for the IPv6 unspecified address [::]. */
static int is_unspecified_v6(const aq_addr *a) {
  static const uint8_t zero[16];
  return a->family == AQ_AF_INET6 && memcmp(a->ip, zero, 16) == 0;
}

/* ------------------------------------------------------------ open/close */

/* setsockopt with an int value; 0 or -1. */
static int setopt_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, (socklen_t)sizeof(value));
}

/* getsockopt of an int value, -1 on failure. */
static int getopt_int(int fd, int level, int name) {
  int v = 0;
  socklen_t l = (socklen_t)sizeof(v);
  if (getsockopt(fd, level, name, &v, &l) != 0) {
    return -1;
  }
  return v;
}

/*
 * Ask for large buffers: first the privileged *BUFFORCE (ignores
 * rmem_max/wmem_max), then the plain option from want down to 1 MiB.  The
 * kernel clamps silently, so the value it reports is what we record.
 */
static void sock_set_buffers(node_sock *s, int want) {
  static const int levels[2][2] = {{SO_RCVBUFFORCE, SO_RCVBUF}, {SO_SNDBUFFORCE, SO_SNDBUF}};
  for (int k = 0; k < 2; k++) {
    if (setopt_int(s->fd, SOL_SOCKET, levels[k][0], want) != 0) {
      for (int v = want; v >= (1 << 20); v /= 2) {
        if (setopt_int(s->fd, SOL_SOCKET, levels[k][1], v) == 0) {
          break;
        }
      }
    }
  }
  s->rcvbuf = getopt_int(s->fd, SOL_SOCKET, SO_RCVBUF);
  s->sndbuf = getopt_int(s->fd, SOL_SOCKET, SO_SNDBUF);
}

/* Switch on the receive ancillary data, DF, GSO/GRO.  Optional: failures only clear flags. */
static void sock_set_features(node_sock *s, const node_sock_opts *o) {
  int v4 = s->family == AQ_AF_INET || s->dualstack;
  int v6 = s->family == AQ_AF_INET6;
  if (v4) {
    (void)setopt_int(s->fd, IPPROTO_IP, IP_PKTINFO, 1);
    (void)setopt_int(s->fd, IPPROTO_IP, IP_RECVTOS, 1);
    /* QUIC requires DF (RFC 9000 §14); PROBE sets DF without using the PMTU cache. */
    (void)setopt_int(s->fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE);
  }
  if (v6) {
    (void)setopt_int(s->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1);
    (void)setopt_int(s->fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
    (void)setopt_int(s->fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_PROBE);
  }
  /* Setting segment size 0 is a no-op that only succeeds where UDP_SEGMENT exists. */
  s->gso = !o->no_gso && setopt_int(s->fd, SOL_UDP, UDP_SEGMENT, 0) == 0;
  s->gro = !o->no_gro && setopt_int(s->fd, SOL_UDP, UDP_GRO, 1) == 0;
  s->mmsg = !o->no_mmsg;
}

/* Create and bind one socket of the given OS family; 0 or -1 (errno set). */
static int sock_bind(node_sock *s, int osfamily, const aq_addr *a, int dualstack) {
  int fd = socket(osfamily, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
  if (fd < 0) {
    return -1;
  }
  if (osfamily == AF_INET6 && setopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, dualstack ? 0 : 1) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  struct sockaddr_storage ss;
  socklen_t sslen;
  if (node_addr_to_sockaddr(&ss, &sslen, a, osfamily == AF_INET6) != 0 ||
      bind(fd, (struct sockaddr *)&ss, sslen) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  sslen = (socklen_t)sizeof(ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0 ||
      node_addr_from_sockaddr(&s->bound, (struct sockaddr *)&ss, sslen) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  s->fd = fd;
  s->family = osfamily == AF_INET6 ? AQ_AF_INET6 : AQ_AF_INET;
  s->dualstack = dualstack;
  return 0;
}

int node_sock_open(node_sock *s, const aq_addr *bind_addr, const node_sock_opts *opts) {
  static const node_sock_opts defaults;
  const node_sock_opts *o = opts ? opts : &defaults;
  memset(s, 0, sizeof(*s));
  s->fd = -1;
  if (bind_addr->family != AQ_AF_INET && bind_addr->family != AQ_AF_INET6) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  int rc = -1;
  if (bind_addr->family == AQ_AF_INET) {
    rc = sock_bind(s, AF_INET, bind_addr, 0);
  } else if (is_unspecified_v6(bind_addr) && !o->v6only) {
    rc = sock_bind(s, AF_INET6, bind_addr, 1);
    if (rc != 0) {
      /* No dual-stack here (or no IPv6 at all): v6-only, then plain IPv4 0.0.0.0. */
      rc = sock_bind(s, AF_INET6, bind_addr, 0);
      if (rc != 0) {
        static const uint8_t any4[4];
        aq_addr a4 = aq_addr_ipv4(any4, bind_addr->port);
        rc = sock_bind(s, AF_INET, &a4, 0);
      }
    }
  } else {
    rc = sock_bind(s, AF_INET6, bind_addr, 0);
  }
  if (rc != 0) {
    s->fd = -1;
    return AQ_ERR_IO;
  }
  sock_set_buffers(s, o->bufsize > 0 ? o->bufsize : 8 << 20);
  sock_set_features(s, o);
  return 0;
}

void node_sock_close(node_sock *s) {
  if (s->fd >= 0) {
    close(s->fd);
  }
  s->fd = -1;
}

int node_sock_can_reach(const node_sock *s, const aq_addr *a) {
  if (a->family == AQ_AF_INET6) {
    return s->family == AQ_AF_INET6;
  }
  if (a->family == AQ_AF_INET) {
    return s->family == AQ_AF_INET || s->dualstack;
  }
  return 0;
}

/* ----------------------------------------------------------------- recv */

/* Fill d's local address, ECN and GRO segment size from the control data. */
static void sock_parse_cmsgs(const node_sock *s, struct msghdr *mh, node_dgram *d) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
    const uint8_t *data = CMSG_DATA(c);
    size_t dlen = c->cmsg_len - (size_t)(data - (const uint8_t *)c);
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
        dlen >= sizeof(struct in_pktinfo)) {
      struct in_pktinfo pi;
      memcpy(&pi, data, sizeof(pi));
      uint8_t ip[4];
      memcpy(ip, &pi.ipi_addr, 4);
      d->local = aq_addr_ipv4(ip, s->bound.port);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
               dlen >= sizeof(struct in6_pktinfo)) {
      struct in6_pktinfo pi;
      memcpy(&pi, data, sizeof(pi));
      d->local = addr_from_in6(pi.ipi6_addr.s6_addr, s->bound.port);
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS && dlen >= 1) {
      d->ecn = (uint8_t)(data[0] & 3u);
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS &&
               dlen >= sizeof(int)) {
      int tc;
      memcpy(&tc, data, sizeof(tc));
      d->ecn = (uint8_t)((unsigned)tc & 3u);
    } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && dlen >= sizeof(int)) {
      int seg;
      memcpy(&seg, data, sizeof(seg));
      if (seg > 0) {
        d->segsize = (size_t)seg;
      }
    }
  }
}

/* recvmmsg, or a recvmsg loop when mmsg is off; same return convention. */
static int sys_recvmmsg(const node_sock *s, struct mmsghdr *m, unsigned n) {
  if (s->mmsg) {
    return recvmmsg(s->fd, m, n, MSG_DONTWAIT, NULL);
  }
  unsigned i = 0;
  for (; i < n; i++) {
    ssize_t r = recvmsg(s->fd, &m[i].msg_hdr, MSG_DONTWAIT);
    if (r < 0) {
      return i > 0 ? (int)i : -1;
    }
    m[i].msg_len = (unsigned)r;
  }
  return (int)i;
}

int node_sock_recv(node_sock *s, node_dgram *d, size_t n) {
  if (n == 0) {
    return 0;
  }
  if (n > NODE_SOCK_MAX_BATCH || s->fd < 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  struct mmsghdr m[NODE_SOCK_MAX_BATCH];
  struct iovec iov[NODE_SOCK_MAX_BATCH];
  struct sockaddr_storage names[NODE_SOCK_MAX_BATCH];
  sock_ctrl ctrl[NODE_SOCK_MAX_BATCH];
  memset(m, 0, n * sizeof(m[0]));
  for (size_t i = 0; i < n; i++) {
    iov[i].iov_base = d[i].buf;
    iov[i].iov_len = d[i].cap;
    m[i].msg_hdr.msg_name = &names[i];
    m[i].msg_hdr.msg_namelen = (socklen_t)sizeof(names[i]);
    m[i].msg_hdr.msg_iov = &iov[i];
    m[i].msg_hdr.msg_iovlen = 1;
    m[i].msg_hdr.msg_control = ctrl[i].buf;
    m[i].msg_hdr.msg_controllen = sizeof(ctrl[i].buf);
  }
  int r;
  int tries = 0;
  do {
    r = sys_recvmmsg(s, m, (unsigned)n);
  } while (r < 0 && errno == EINTR && ++tries < 16);
  s->stats.rx_calls++;
  if (r < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
      return 0;
    }
    return AQ_ERR_IO;
  }
  /* Compact: drop truncated or unparseable datagrams. */
  size_t out = 0;
  for (size_t i = 0; i < (size_t)r; i++) {
    struct msghdr *mh = &m[i].msg_hdr;
    node_dgram tmp = d[i];
    if ((mh->msg_flags & MSG_TRUNC) ||
        node_addr_from_sockaddr(&tmp.remote, (struct sockaddr *)mh->msg_name, mh->msg_namelen) !=
            0) {
      continue;
    }
    tmp.len = m[i].msg_len;
    tmp.segsize = 0;
    tmp.ecn = 0;
    memset(&tmp.local, 0, sizeof(tmp.local));
    sock_parse_cmsgs(s, mh, &tmp);
    if (tmp.segsize == 0 || tmp.segsize > tmp.len) {
      tmp.segsize = tmp.len;
    }
    s->stats.rx_dgrams += tmp.segsize ? (tmp.len + tmp.segsize - 1) / tmp.segsize : 1;
    s->stats.rx_bytes += tmp.len;
    if (out != i) {
      /* Entry i's buffer moves to slot out; slot out's buffer (dropped datagram) goes to i. */
      uint8_t *spare = d[out].buf;
      size_t sparecap = d[out].cap;
      d[out] = tmp;
      d[i].buf = spare;
      d[i].cap = sparecap;
    } else {
      d[out] = tmp;
    }
    out++;
  }
  return (int)out;
}

/* ----------------------------------------------------------------- send */

/* Per wire message: which entry it came from and where in it it ends. */
typedef struct wire_ref {
  size_t entry;
  size_t end;
  int gso;
} wire_ref;

/* Append one cmsg of the given level/type/payload; returns the new control length. */
static size_t put_cmsg(uint8_t *ctrl, size_t used, int level, int type, const void *data,
                       size_t len) {
  struct cmsghdr c;
  memset(&c, 0, sizeof(c));
  c.cmsg_level = level;
  c.cmsg_type = type;
  c.cmsg_len = CMSG_LEN(len);
  memset(ctrl + used, 0, CMSG_SPACE(len));
  memcpy(ctrl + used, &c, sizeof(c));
  memcpy(ctrl + used + CMSG_LEN(0), data, len);
  return used + CMSG_SPACE(len);
}

/* Build the control data for one message to d->remote; returns its length. */
static size_t sock_build_ctrl(uint8_t *ctrl, const node_dgram *d, size_t gso_seg) {
  size_t used = 0;
  int tos = d->ecn & 3;
  if (d->remote.family == AQ_AF_INET) {
    if (d->local.family == AQ_AF_INET) {
      struct in_pktinfo pi;
      memset(&pi, 0, sizeof(pi));
      memcpy(&pi.ipi_spec_dst, d->local.ip, 4);
      used = put_cmsg(ctrl, used, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
    }
    if (tos != 0) {
      used = put_cmsg(ctrl, used, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
    }
  } else {
    if (d->local.family == AQ_AF_INET6) {
      struct in6_pktinfo pi;
      memset(&pi, 0, sizeof(pi));
      memcpy(pi.ipi6_addr.s6_addr, d->local.ip, 16);
      used = put_cmsg(ctrl, used, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
    }
    if (tos != 0) {
      used = put_cmsg(ctrl, used, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
    }
  }
  if (gso_seg > 0) {
    uint16_t seg = (uint16_t)gso_seg;
    used = put_cmsg(ctrl, used, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg));
  }
  return used;
}

/*
 * sendmmsg, or a sendmsg loop when mmsg is off; same return convention
 * (count sent, or -1 with errno for the first message).  The GSO test hook
 * fails the first GSO message: messages before it are sent normally; the
 * block hook caps how many messages go before an EAGAIN.
 */
static int sys_sendmmsg(node_sock *s, struct mmsghdr *m, const wire_ref *ref, unsigned n) {
  if (s->test_fail_gso > 0) {
    unsigned first_gso = n;
    for (unsigned i = 0; i < n; i++) {
      if (ref[i].gso) {
        first_gso = i;
        break;
      }
    }
    if (first_gso == 0) {
      s->test_fail_gso--;
      errno = s->test_gso_errno ? s->test_gso_errno : EIO;
      return -1;
    }
    n = first_gso;
  }
  if (s->test_block) {
    if (s->test_block_after <= 0) {
      s->test_block = 0;
      errno = EAGAIN;
      return -1;
    }
    if ((int)n > s->test_block_after) {
      n = (unsigned)s->test_block_after;
    }
    s->test_block_after -= (int)n;
  }
  s->stats.tx_calls++;
  if (s->mmsg) {
    return sendmmsg(s->fd, m, n, MSG_DONTWAIT);
  }
  unsigned i = 0;
  for (; i < n; i++) {
    ssize_t r = sendmsg(s->fd, &m[i].msg_hdr, MSG_DONTWAIT);
    if (r < 0) {
      return i > 0 ? (int)i : -1;
    }
    m[i].msg_len = (unsigned)r;
  }
  return (int)i;
}

/* Check one entry before anything is sent. */
static int sock_check_entry(const node_sock *s, const node_dgram *d) {
  if (d->len == 0 || d->buf == NULL || !node_sock_can_reach(s, &d->remote) || d->ecn > 3) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (d->local.family != 0 && d->local.family != d->remote.family) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  if (d->segsize > 0 && d->segsize < d->len) {
    size_t segs = (d->len + d->segsize - 1) / d->segsize;
    if (segs > NODE_SOCK_MAX_GSO_SEGS || d->segsize > NODE_SOCK_MAX_UDP_PAYLOAD) {
      return AQ_ERR_INVALID_ARGUMENT;
    }
  }
  return d->len <= NODE_SOCK_MAX_UDP_PAYLOAD || (d->segsize > 0 && d->segsize < d->len)
             ? 0
             : AQ_ERR_INVALID_ARGUMENT;
}

int node_sock_send(node_sock *s, const node_dgram *d, size_t n) {
  if (n > NODE_SOCK_MAX_BATCH || s->fd < 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  for (size_t i = 0; i < n; i++) {
    int rc = sock_check_entry(s, &d[i]);
    if (rc != 0) {
      return rc;
    }
  }
  struct mmsghdr m[NODE_SOCK_MAX_BATCH];
  struct iovec iov[NODE_SOCK_MAX_BATCH];
  struct sockaddr_storage names[NODE_SOCK_MAX_BATCH];
  sock_ctrl ctrl[NODE_SOCK_MAX_BATCH];
  wire_ref ref[NODE_SOCK_MAX_BATCH];
  size_t entry = 0; /* first entry not fully sent */
  size_t off = 0;   /* bytes of d[entry] already sent (segment-by-segment trains) */
  int eintr = 0;
  /* Each round sends at least one message or stops, so n * 64 rounds bound it. */
  for (size_t round = 0; entry < n && round < n * NODE_SOCK_MAX_GSO_SEGS + 16; round++) {
    unsigned cnt = 0;
    size_t e = entry, eo = off;
    while (e < n && cnt < NODE_SOCK_MAX_BATCH) {
      const node_dgram *dg = &d[e];
      int train = dg->segsize > 0 && dg->segsize < dg->len;
      size_t start = eo, end, gso_seg = 0;
      if (train && s->gso && eo == 0) {
        end = dg->len;
        gso_seg = dg->segsize;
      } else if (train) {
        end = eo + dg->segsize < dg->len ? eo + dg->segsize : dg->len;
      } else {
        end = dg->len;
      }
      struct msghdr *mh = &m[cnt].msg_hdr;
      memset(&m[cnt], 0, sizeof(m[cnt]));
      socklen_t nl = 0;
      if (node_addr_to_sockaddr(&names[cnt], &nl, &dg->remote, s->family == AQ_AF_INET6) != 0) {
        return AQ_ERR_INVALID_ARGUMENT; /* unreachable: checked above */
      }
      iov[cnt].iov_base = dg->buf + start;
      iov[cnt].iov_len = end - start;
      mh->msg_name = &names[cnt];
      mh->msg_namelen = nl;
      mh->msg_iov = &iov[cnt];
      mh->msg_iovlen = 1;
      size_t cl = sock_build_ctrl(ctrl[cnt].buf, dg, gso_seg);
      mh->msg_control = cl ? ctrl[cnt].buf : NULL;
      mh->msg_controllen = cl;
      ref[cnt].entry = e;
      ref[cnt].end = end;
      ref[cnt].gso = gso_seg > 0;
      cnt++;
      if (end == dg->len) {
        e++;
        eo = 0;
      } else {
        eo = end;
      }
    }
    int r = sys_sendmmsg(s, m, ref, cnt);
    unsigned adv = 0;
    if (r > 0) {
      adv = (unsigned)r;
    } else {
      int err = errno;
      if (err == EINTR && ++eintr < 16) {
        continue;
      }
      if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS || err == EINTR) {
        break;
      }
      if ((err == EIO || err == EINVAL) && ref[0].gso) {
        s->gso = 0;
        s->stats.gso_fallbacks++;
        continue; /* rebuild the same entry as single segments */
      }
      s->stats.tx_errors++; /* hard error for this message: drop it and go on */
      adv = 1;
    }
    for (unsigned k = 0; k < adv; k++) {
      const node_dgram *dg = &d[ref[k].entry];
      size_t start = ref[k].entry == entry ? off : 0;
      size_t bytes = ref[k].end - start;
      if (r > 0) {
        s->stats.tx_bytes += bytes;
        s->stats.tx_dgrams += ref[k].gso ? (bytes + dg->segsize - 1) / dg->segsize : 1;
      }
      entry = ref[k].entry;
      off = ref[k].end;
      if (off == dg->len) {
        entry++;
        off = 0;
      }
    }
  }
  if (off > 0) {
    /* A train sent segment by segment was cut by a full buffer: its tail is dropped (QUIC
     * recovers it as loss) rather than resent later as duplicates. */
    s->stats.tx_errors++;
    entry++;
  }
  return (int)entry;
}
