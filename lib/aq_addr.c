/* aq_addr.c - the address value type: construct, compare, format, parse. */
#include "antquic.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

aq_addr aq_addr_ipv4(const uint8_t ip[4], uint16_t port) {
  aq_addr a;
  memset(&a, 0, sizeof(a));
  a.family = AQ_AF_INET;
  memcpy(a.ip, ip, 4);
  a.port = port;
  return a;
}

aq_addr aq_addr_ipv6(const uint8_t ip[16], uint16_t port) {
  aq_addr a;
  memset(&a, 0, sizeof(a));
  a.family = AQ_AF_INET6;
  memcpy(a.ip, ip, 16);
  a.port = port;
  return a;
}

static size_t addr_iplen(const aq_addr *a) { return a->family == AQ_AF_INET ? 4 : 16; }

int aq_addr_eq_ip(const aq_addr *a, const aq_addr *b) {
  return a->family == b->family && memcmp(a->ip, b->ip, addr_iplen(a)) == 0;
}

int aq_addr_eq(const aq_addr *a, const aq_addr *b) {
  return aq_addr_eq_ip(a, b) && a->port == b->port;
}

char *aq_addr_format(char *dst, size_t dstcap, const aq_addr *a) {
  char ip[INET6_ADDRSTRLEN];
  if (dstcap == 0) {
    return dst;
  }
  if (a->family == AQ_AF_INET) {
    inet_ntop(AF_INET, a->ip, ip, sizeof(ip));
    snprintf(dst, dstcap, "%s:%u", ip, (unsigned)a->port);
  } else if (a->family == AQ_AF_INET6) {
    inet_ntop(AF_INET6, a->ip, ip, sizeof(ip));
    snprintf(dst, dstcap, "[%s]:%u", ip, (unsigned)a->port);
  } else {
    snprintf(dst, dstcap, "(unset)");
  }
  return dst;
}

/* Parse a decimal port 0..65535 that fills all of s. */
static int parse_port(const char *s, uint16_t *port) {
  unsigned long v = 0;
  if (*s == '\0' || strlen(s) > 5) {
    return AQ_ERR_MALFORMED;
  }
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') {
      return AQ_ERR_MALFORMED;
    }
    v = v * 10 + (unsigned long)(*p - '0');
  }
  if (v > 65535) {
    return AQ_ERR_MALFORMED;
  }
  *port = (uint16_t)v;
  return 0;
}

int aq_addr_parse(aq_addr *dst, const char *s, int port_optional) {
  char host[INET6_ADDRSTRLEN + 1];
  const char *portstr = NULL;
  size_t hostlen;
  aq_addr a;
  uint16_t port = 0;

  if (s == NULL) {
    return AQ_ERR_MALFORMED;
  }
  memset(&a, 0, sizeof(a));
  if (s[0] == '[') {
    const char *close = strchr(s, ']');
    if (close == NULL) {
      return AQ_ERR_MALFORMED;
    }
    hostlen = (size_t)(close - (s + 1));
    if (hostlen == 0 || hostlen >= sizeof(host)) {
      return AQ_ERR_MALFORMED;
    }
    memcpy(host, s + 1, hostlen);
    host[hostlen] = '\0';
    if (close[1] == ':') {
      portstr = close + 2;
    } else if (close[1] != '\0') {
      return AQ_ERR_MALFORMED;
    }
    if (inet_pton(AF_INET6, host, a.ip) != 1) {
      return AQ_ERR_MALFORMED;
    }
    a.family = AQ_AF_INET6;
  } else {
    const char *colon = strchr(s, ':');
    if (colon != NULL && strchr(colon + 1, ':') != NULL) {
      /* Bare IPv6 without brackets: only valid with no port. */
      hostlen = strlen(s);
      colon = NULL;
    } else {
      hostlen = colon ? (size_t)(colon - s) : strlen(s);
    }
    if (hostlen == 0 || hostlen >= sizeof(host)) {
      return AQ_ERR_MALFORMED;
    }
    memcpy(host, s, hostlen);
    host[hostlen] = '\0';
    if (colon) {
      portstr = colon + 1;
    }
    if (inet_pton(AF_INET, host, a.ip) == 1) {
      a.family = AQ_AF_INET;
    } else if (inet_pton(AF_INET6, host, a.ip) == 1) {
      a.family = AQ_AF_INET6;
    } else {
      return AQ_ERR_MALFORMED;
    }
  }
  if (portstr) {
    if (parse_port(portstr, &port) != 0) {
      return AQ_ERR_MALFORMED;
    }
  } else if (!port_optional) {
    return AQ_ERR_MALFORMED;
  }
  a.port = port;
  *dst = a;
  return 0;
}
