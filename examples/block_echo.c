/*
 * block_echo.c - the blocking API (node/node_block.h) in a small program:
 * an echo server and client speaking the interop echo protocol (ALPN
 * hq-interop: every byte of a bidirectional stream comes back, then FIN).
 *
 *   block_echo server [--listen 127.0.0.1:0] [--count N]
 *       prints "listening on IP:PORT", serves N connections (default 1)
 *   block_echo client --connect IP:PORT [--message TEXT | --bytes N] [--timeout-ms T]
 *       --message: prints the echoed text; --bytes: sends N pattern bytes
 *       and checks every echoed byte; each blocking step may take T ms
 *       (default 10000).  Exit status 0 only if the echo is
 *       complete and correct.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_block.h"

static const char *const k_alpn[] = {"hq-interop"};

static int usage(void) {
  fprintf(stderr, "usage: block_echo server [--listen IP:PORT] [--count N]\n"
                  "       block_echo client --connect IP:PORT [--message TEXT | --bytes N] [--timeout-ms T]\n");
  return 2;
}

static void settings(aq_settings *s) {
  aq_settings_default(s);
  s->alpn = k_alpn;
  s->nalpn = 1;
}

static int serve_one(node_bep *ep) {
  node_bconn *c;
  uint64_t sid;
  uint8_t buf[16384];
  int fin = 0, rv = node_bconn_accept(ep, &c);
  if (rv != 0) {
    fprintf(stderr, "accept: %s\n", aq_strerror(rv));
    return rv;
  }
  rv = node_bconn_accept_stream(c, &sid);
  while (rv == 0 && !fin) {
    aq_ssize n = node_bconn_read(c, sid, buf, sizeof(buf), &fin);
    if (n < 0) {
      rv = (int)n;
      break;
    }
    n = node_bconn_write(c, sid, buf, (size_t)n, fin);
    rv = n < 0 ? (int)n : 0;
  }
  if (rv == 0) {
    rv = node_bconn_wait_closed(c); /* the client closes once it has everything */
  }
  if (rv != 0) {
    fprintf(stderr, "serve: %s\n", aq_strerror(rv));
  }
  node_bconn_close(c, 0, "done");
  return rv;
}

static int server(const char *listen, long count) {
  node_block_opts o;
  aq_settings s;
  node_bep *ep;
  char as[AQ_ADDR_STRLEN];
  aq_addr la;
  settings(&s);
  memset(&o, 0, sizeof(o));
  o.settings = &s;
  o.timeout = 30 * AQ_SECONDS;
  int rv = node_bep_new(&ep, listen, 1, &o);
  if (rv != 0) {
    fprintf(stderr, "listen %s: %s\n", listen, aq_strerror(rv));
    return 1;
  }
  if (node_bep_local_addr(ep, &la) == 0) {
    printf("listening on %s\n", aq_addr_format(as, sizeof(as), &la));
    fflush(stdout);
  }
  int failed = 0;
  for (long i = 0; i < count; i++) {
    failed |= serve_one(ep) != 0;
  }
  node_bep_del(ep);
  return failed;
}

static uint8_t pattern(uint64_t i) {
  return (uint8_t)(i * 7 + (i >> 10));
}

static int client(const char *connect, const char *message, uint64_t nbytes, long timeout_ms) {
  node_block_opts o;
  aq_settings s;
  node_bep *ep;
  node_bconn *c;
  aq_addr ra;
  uint64_t sid;
  if (aq_addr_parse(&ra, connect, 0) != 0) {
    fprintf(stderr, "bad address %s\n", connect);
    return 2;
  }
  settings(&s);
  memset(&o, 0, sizeof(o));
  o.settings = &s;
  o.timeout = (aq_duration)timeout_ms * AQ_MILLISECONDS;
  int rv = node_bep_new(&ep, ra.family == AQ_AF_INET6 ? "[::]:0" : "0.0.0.0:0", 0, &o);
  if (rv == 0) {
    rv = node_bconn_connect(ep, &ra, &c);
  }
  if (rv != 0) {
    fprintf(stderr, "connect %s: %s\n", connect, aq_strerror(rv));
    node_bep_del(ep);
    return 1;
  }
  size_t len = message != NULL ? strlen(message) : (size_t)nbytes;
  uint8_t *out = malloc(len + 1), *in = malloc(len + 1);
  uint64_t got = 0;
  int fin = 0, bad = 0;
  if (out == NULL || in == NULL) {
    rv = AQ_ERR_NOMEM;
  }
  for (size_t i = 0; rv == 0 && i < len; i++) {
    out[i] = message != NULL ? (uint8_t)message[i] : pattern(i);
  }
  if (rv == 0) {
    rv = node_bconn_open_stream(c, 1, &sid);
  }
  /*
   * Write in chunks and, between chunks, take whatever echo has arrived
   * (non-blocking, straight from the core), so a large echo never stalls
   * with both sides' windows full; then block for the rest.
   */
  size_t sent = 0;
  int first = 1;
  while (rv == 0 && (first || sent < len)) {
    size_t chunk = len - sent < 65536 ? len - sent : 65536;
    aq_ssize w = node_bconn_write(c, sid, out + sent, chunk, sent + chunk == len);
    first = 0;
    if (w < 0) {
      rv = (int)w;
      break;
    }
    sent += chunk;
    aq_conn *conn = node_bconn_conn(c);
    for (aq_ssize n = 1; conn != NULL && n > 0 && !fin && got <= len;) {
      n = aq_conn_stream_read(conn, sid, in + got, len + 1 - got, &fin);
      got += n > 0 ? (uint64_t)n : 0;
    }
  }
  while (rv == 0 && !fin && got <= len) {
    aq_ssize n = node_bconn_read(c, sid, in + got, len + 1 - got, &fin);
    if (n < 0) {
      rv = (int)n;
      break;
    }
    got += (uint64_t)n;
  }
  bad = got > len; /* more than we sent */
  if (rv != 0) {
    fprintf(stderr, "echo: %s\n", aq_strerror(rv));
  } else if (bad || got != len || memcmp(in, out, len) != 0) {
    fprintf(stderr, "echo mismatch: sent %zu, got %llu\n", len, (unsigned long long)got);
    rv = AQ_ERR_VERIFY;
  } else if (message != NULL) {
    printf("%.*s\n", (int)len, (const char *)in);
  } else {
    printf("echoed %zu bytes, all correct\n", len);
  }
  free(out);
  free(in);
  node_bconn_close(c, 0, "bye");
  node_bep_del(ep);
  return rv == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  const char *listen = "127.0.0.1:0", *connect = NULL, *message = NULL;
  long count = 1, timeout_ms = 10000;
  uint64_t nbytes = 0;
  if (argc < 2) {
    return usage();
  }
  for (int i = 2; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (v == NULL) {
      return usage();
    }
    char *end;
    if (strcmp(argv[i], "--listen") == 0) {
      listen = v;
    } else if (strcmp(argv[i], "--connect") == 0) {
      connect = v;
    } else if (strcmp(argv[i], "--message") == 0) {
      message = v;
    } else if (strcmp(argv[i], "--count") == 0) {
      count = strtol(v, &end, 10);
      if (*end != '\0' || count < 1 || count > 1000000) {
        return usage();
      }
    } else if (strcmp(argv[i], "--timeout-ms") == 0) {
      timeout_ms = strtol(v, &end, 10);
      if (*end != '\0' || timeout_ms < 1 || timeout_ms > 600000) {
        return usage();
      }
    } else if (strcmp(argv[i], "--bytes") == 0) {
      unsigned long long b = strtoull(v, &end, 10);
      if (*end != '\0' || b == 0 || b > (1ull << 30)) {
        return usage();
      }
      nbytes = b;
    } else {
      return usage();
    }
    i++;
  }
  if (strcmp(argv[1], "server") == 0) {
    return server(listen, count);
  }
  if (strcmp(argv[1], "client") == 0 && connect != NULL && (message != NULL) != (nbytes != 0)) {
    return client(connect, message, nbytes, timeout_ms);
  }
  return usage();
}
