/*
 * main.c - ant-quic-peer: flag parsing (the flags of quinn-peer plus a few
 * ant-quic extras) and dispatch to the server or the client.
 * Exit codes: 0 success, 1 a run or the server failed, 2 bad arguments.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

static const char usage_text[] =
    "ant-quic-peer (libantquic " AQ_VERSION_STR ") -- QUIC echo + download interop peer\n"
    "\n"
    "USAGE:\n"
    "  ant-quic-peer server [--listen ADDR] [--cert PEM] [--key PEM] [--alpn LIST]\n"
    "                       [--exit-after N] [--retry] [--no-early-data] [--key-update N]\n"
    "                       [common flags]\n"
    "  ant-quic-peer client [--connect ADDR] [--server-name NAME] [--alpn LIST]\n"
    "                       [--message TEXT | --echo-bytes N | --download N | --datagram TEXT]\n"
    "                       [--runs K] [--connections N] [--verify] [--key-update N]\n"
    "                       [--run-timeout-ms N] [--resume] [common flags]\n"
    "\n"
    "SERVER FLAGS:\n"
    "  --listen ADDR        UDP address to bind (default 127.0.0.1:4433; [::]:PORT is dual-stack)\n"
    "  --cert PEM           certificate PEM, the first CERTIFICATE is used (default "
    "certs/cert.pem)\n"
    "  --key PEM            private key PEM: PKCS#8 / SEC1 EC / PKCS#1 RSA, Ed25519, P-256, P-384\n"
    "                       (default certs/key.pem)\n"
    "  --exit-after N       exit after N connections have been served (default: run forever)\n"
    "  --retry              validate client addresses with a Retry packet first\n"
    "  --no-early-data      refuse 0-RTT data of resuming clients (accepted by default)\n"
    "\n"
    "CLIENT FLAGS:\n"
    "  --connect ADDR       server address HOST:PORT (default 127.0.0.1:4433)\n"
    "  --server-name NAME   SNI to send (default localhost); the certificate is NOT verified\n"
    "                       (the CertificateVerify signature is)\n"
    "  --message TEXT       echo TEXT on one stream and check it comes back (default mode)\n"
    "  --echo-bytes N       echo N pattern bytes on one stream and check them\n"
    "  --download N         request N bytes (\"N\\n\") and measure the transfer\n"
    "  --datagram TEXT      send TEXT in a DATAGRAM frame and wait for it to come back\n"
    "  --runs K             repeat the echo/download K times, one new connection each (default 1)\n"
    "  --connections N      handshake-rate test: N sequential connections, each doing one\n"
    "                       small echo, then report connections/second\n"
    "  --verify             check every downloaded byte against the i mod 256 pattern\n"
    "  --key-update N       initiate a 1-RTT key update every N stream bytes (client: received;\n"
    "                       server: sent) -- also a server flag\n"
    "  --run-timeout-ms N   give up a run after N ms (default 120000)\n"
    "  --resume             connections after the first resume its TLS session and send\n"
    "                       their request as 0-RTT data (RESULT: resumed=0|1 early_data=...)\n"
    "\n"
    "COMMON FLAGS:\n"
    "  --alpn LIST          comma-separated ALPN list (default hq-interop)\n"
    "  --cc NAME            congestion controller: cubic (default), newreno\n"
    "  --stream-window N    stream receive window in bytes (default 1250000)\n"
    "  --conn-window N      connection receive window in bytes (default 64M)\n"
    "  --idle-timeout-ms N  max idle timeout (default 30000)\n"
    "  --suite NAME         only this TLS cipher suite: aes128, aes256, chacha20\n"
    "  --pq                 offer/prefer the X25519MLKEM768 hybrid group first\n"
    "  --max-udp-payload N  largest UDP payload we send, 1200..1452 (default 1452)\n"
    "  --ecn                ECN: mark ECT(0) once the path is validated (RESULT/log: ecn=...)\n"
    "  -q, --quiet          only print RESULT lines and errors\n"
    "\n"
    "Sizes take K/M/G suffixes (powers of 1024).\n"
    "ENVIRONMENT: SSLKEYLOGFILE=FILE appends TLS key log lines (Wireshark) to FILE;\n"
    "QLOGDIR=DIR writes one qlog JSON-SEQ trace per connection, DIR/<odcid>_<role>.sqlog.\n"
    "OUTPUT: the client prints one `RESULT ...` line per run and a `SUMMARY ...`\n"
    "line; exit status is 0 only if every run succeeded.\n";

/* Parse an unsigned decimal; 0 or -1. */
static int parse_u64(const char *s, uint64_t *out) {
  if (*s == '\0') {
    return -1;
  }
  char *end = NULL;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == NULL || *end != '\0' || *s == '-') {
    return -1;
  }
  *out = (uint64_t)v;
  return 0;
}

/* Print "error: <fmt with a>" and return the bad-arguments exit code. */
__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "error: ");
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  return 2;
}

/* Split a comma-separated ALPN list into o->alpn. */
static int set_alpn(peer_opts *o, const char *list) {
  size_t n = strlen(list);
  if (n >= sizeof(o->alpn_buf)) {
    return -1;
  }
  memcpy(o->alpn_buf, list, n + 1);
  o->nalpn = 0;
  char *save = NULL;
  for (char *t = strtok_r(o->alpn_buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
    if (o->nalpn == PEER_MAX_ALPN) {
      return -1;
    }
    o->alpn[o->nalpn++] = t;
  }
  return 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) {
    fputs(usage_text, stderr);
    fprintf(stderr, "error: first argument must be 'server' or 'client'\n");
    return 2;
  }
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    fputs(usage_text, stdout);
    return 0;
  }
  if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
    printf("ant-quic-peer %s\n", aq_version());
    return 0;
  }
  peer_opts o;
  memset(&o, 0, sizeof(o));
  if (strcmp(argv[1], "server") == 0) {
    o.is_server = 1;
  } else if (strcmp(argv[1], "client") != 0) {
    fputs(usage_text, stderr);
    return bad("first argument must be 'server' or 'client', got \"%s\"", argv[1]);
  }
  if (aq_addr_parse(&o.listen, "127.0.0.1:4433", 0) != 0) {
    return 1;
  }
  o.connect = "127.0.0.1:4433";
  o.server_name = "localhost";
  o.cert = "certs/cert.pem";
  o.key = "certs/key.pem";
  (void)set_alpn(&o, "hq-interop");
  o.exit_after = -1;
  o.message = "hello from ant-quic-peer";
  o.echo_bytes = -1;
  o.download = -1;
  o.runs = 1;
  o.connections = -1;
  o.cc_algo = AQ_CC_ALGO_CUBIC;
  o.stream_window = -1;
  o.conn_window = -1;
  o.idle_timeout_ms = 30000;
  o.max_udp_payload = 1452;
  o.run_timeout_ms = 120000;

  for (int i = 2; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    uint64_t u = 0;
#define NEED_VAL()                                                                                 \
  do {                                                                                             \
    if (v == NULL) {                                                                               \
      return bad("%s needs a value", a);                                                           \
    }                                                                                              \
    i++;                                                                                           \
  } while (0)
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(usage_text, stdout);
      return 0;
    } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
      o.quiet = 1;
    } else if (strcmp(a, "--verify") == 0) {
      o.verify = 1;
    } else if (strcmp(a, "--retry") == 0) {
      o.retry = 1;
    } else if (strcmp(a, "--pq") == 0) {
      o.pq = 1;
    } else if (strcmp(a, "--ecn") == 0) {
      o.ecn = 1;
    } else if (strcmp(a, "--resume") == 0) {
      o.resume = 1;
    } else if (strcmp(a, "--no-early-data") == 0) {
      o.no_early_data = 1;
    } else if (strcmp(a, "--listen") == 0) {
      NEED_VAL();
      if (aq_addr_parse(&o.listen, v, 0) != 0) {
        return bad("--listen: bad address \"%s\"", v);
      }
    } else if (strcmp(a, "--connect") == 0) {
      NEED_VAL();
      o.connect = v;
    } else if (strcmp(a, "--server-name") == 0 || strcmp(a, "--sni") == 0) {
      NEED_VAL();
      o.server_name = v;
    } else if (strcmp(a, "--cert") == 0) {
      NEED_VAL();
      o.cert = v;
    } else if (strcmp(a, "--key") == 0) {
      NEED_VAL();
      o.key = v;
    } else if (strcmp(a, "--alpn") == 0) {
      NEED_VAL();
      if (set_alpn(&o, v) != 0) {
        return bad("--alpn: list too long \"%s\"", v);
      }
    } else if (strcmp(a, "--exit-after") == 0) {
      NEED_VAL();
      if (parse_u64(v, &u) != 0 || u > INT64_MAX) {
        return bad("--exit-after: bad number \"%s\"", v);
      }
      o.exit_after = (int64_t)u;
    } else if (strcmp(a, "--message") == 0) {
      NEED_VAL();
      o.message = v;
    } else if (strcmp(a, "--echo-bytes") == 0 || strcmp(a, "--download") == 0) {
      NEED_VAL();
      if (peer_parse_size(v, &u) != 0 || u > INT64_MAX) {
        return bad("bad size \"%s\"", v);
      }
      if (a[2] == 'e') {
        o.echo_bytes = (int64_t)u;
      } else {
        o.download = (int64_t)u;
      }
    } else if (strcmp(a, "--datagram") == 0) {
      NEED_VAL();
      o.datagram = v;
    } else if (strcmp(a, "--runs") == 0) {
      NEED_VAL();
      if (parse_u64(v, &o.runs) != 0) {
        return bad("--runs: bad number \"%s\"", v);
      }
    } else if (strcmp(a, "--connections") == 0) {
      NEED_VAL();
      if (parse_u64(v, &u) != 0 || u > INT64_MAX) {
        return bad("--connections: bad number \"%s\"", v);
      }
      o.connections = (int64_t)u;
    } else if (strcmp(a, "--cc") == 0) {
      NEED_VAL();
      if (strcmp(v, "cubic") == 0) {
        o.cc_algo = AQ_CC_ALGO_CUBIC;
      } else if (strcmp(v, "newreno") == 0 || strcmp(v, "reno") == 0) {
        o.cc_algo = AQ_CC_ALGO_NEWRENO;
      } else {
        return bad("unknown or unsupported --cc \"%s\" (cubic, newreno)", v);
      }
    } else if (strcmp(a, "--stream-window") == 0 || strcmp(a, "--conn-window") == 0) {
      NEED_VAL();
      if (peer_parse_size(v, &u) != 0 || u > (1ULL << 62) - 1) {
        return bad("bad size \"%s\"", v);
      }
      if (a[2] == 's') {
        o.stream_window = (int64_t)u;
      } else {
        o.conn_window = (int64_t)u;
      }
    } else if (strcmp(a, "--idle-timeout-ms") == 0) {
      NEED_VAL();
      if (parse_u64(v, &o.idle_timeout_ms) != 0 || o.idle_timeout_ms > 86400000ULL) {
        return bad("--idle-timeout-ms: bad number \"%s\"", v);
      }
    } else if (strcmp(a, "--run-timeout-ms") == 0) {
      NEED_VAL();
      if (parse_u64(v, &o.run_timeout_ms) != 0 || o.run_timeout_ms > 86400000ULL) {
        return bad("--run-timeout-ms: bad number \"%s\"", v);
      }
    } else if (strcmp(a, "--max-udp-payload") == 0) {
      NEED_VAL();
      if (parse_u64(v, &u) != 0 || u < 1200 || u > 1452) {
        return bad("--max-udp-payload: must be 1200..1452, got \"%s\"", v);
      }
      o.max_udp_payload = (size_t)u;
    } else if (strcmp(a, "--suite") == 0) {
      NEED_VAL();
      if (strcmp(v, "aes128") == 0) {
        o.suite = AQ_TLS_AES_128_GCM_SHA256;
      } else if (strcmp(v, "aes256") == 0) {
        o.suite = AQ_TLS_AES_256_GCM_SHA384;
      } else if (strcmp(v, "chacha20") == 0) {
        o.suite = AQ_TLS_CHACHA20_POLY1305_SHA256;
      } else {
        return bad("--suite: aes128, aes256 or chacha20, got \"%s\"", v);
      }
    } else if (strcmp(a, "--key-update") == 0) {
      NEED_VAL();
      if (peer_parse_size(v, &o.key_update) != 0) {
        return bad("--key-update: bad size \"%s\"", v);
      }
    } else {
      return bad("unknown argument \"%s\" (try --help)", a);
    }
#undef NEED_VAL
  }
  if (o.runs == 0) {
    o.runs = 1;
  }
  if (o.nalpn == 0) {
    return bad("--alpn: empty list%s", "");
  }
  if (peer_pattern_init() != 0) {
    fprintf(stderr, "error: out of memory\n");
    return 1;
  }
  if (peer_diag_init() != 0) {
    free(peer_pattern);
    return 1;
  }
  int rc = o.is_server ? peer_server_main(&o) : peer_client_main(&o);
  peer_diag_free();
  free(peer_pattern);
  return rc;
}
