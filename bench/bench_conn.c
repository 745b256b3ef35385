/*
 * bench_conn.c - the QUIC connection's own cost in one process, no sockets:
 * a client and a server endpoint hand each other their datagrams in memory,
 * so the figures are the library's CPU time (TLS 1.3, packet protection,
 * frames, recovery, streams) with both ends on one core.  Each figure comes
 * with a floor measured in the same run and the ratio to it (1.0 would mean
 * everything but the unavoidable cryptography is free).
 *
 *   bench_conn handshake [seconds per profile (default 1.0)] [profile]
 *     full handshakes/s; floor = the public-key operations one handshake
 *     cannot avoid (key exchange both sides, one signature and one
 *     verification per authenticated side).  Profiles:
 *       x25519-ed25519         X25519, Ed25519 raw public key on the server
 *       x25519-ed25519-mutual  ... and on the client
 *       hybrid-mldsa           X25519MLKEM768, ML-DSA-65 keys on both sides
 *     Output: OP handshake_<profile> <handshakes/s>, OP floor_<profile> <ops/s>,
 *             RATIO <profile> <handshake time / floor time>
 *
 *   bench_conn transfer [MiB (default 200)] [aes128|aes256|chacha20]
 *     one stream, client -> server, 1452-byte datagrams; floor = sealing and
 *     opening (AEAD + header protection) as many packets of that size.
 *     Output: OP transfer_<suite>_gbps <Gbit/s of stream data per CPU second>,
 *             OP floor_<suite>_gbps <Gbit/s>, RATIO transfer_<suite> <time / floor>
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "antquic.h"
#include "aq_crypto.h"
#include "aq_identity.h"
#include "aq_mlkem768.h"
#include "aq_tls.h"
#include "aq_tls_cert.h"

typedef struct profile {
  const char *name;
  uint16_t group;
  aq_identity_type id_type;
  int mutual;
} profile;

static const profile k_profiles[] = {
    {"x25519-ed25519", 0x001d, AQ_IDENTITY_ED25519, 0},
    {"x25519-ed25519-mutual", 0x001d, AQ_IDENTITY_ED25519, 1},
    {"hybrid-mldsa", 0x11ec, AQ_IDENTITY_MLDSA65, 1},
};

/* xorshift: the bench needs unpredictable-enough bytes, not secrets. */
static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static int bench_rand(uint8_t *buf, size_t len, void *ud) {
  (void)ud;
  for (size_t i = 0; i < len; i++) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    buf[i] = (uint8_t)g_rng;
  }
  return 0;
}

typedef struct side {
  aq_identity id;
  uint8_t spki[2048];
  aq_tls_credential cred;
  uint16_t group;
  aq_settings set;
  aq_callbacks cb;
  aq_ep *ep;
  int hs_done;
  uint16_t suite;
  uint64_t recvd; /* stream bytes read (transfer) */
  int fin;
} side;

static void on_hs(aq_conn *conn, void *ud) {
  (void)conn;
  ((side *)ud)->hs_done++;
}

/* Transfer receiver: read and drop everything. */
static void on_data(aq_conn *conn, uint64_t sid, void *ud) {
  static uint8_t sink[65536];
  side *s = ud;
  for (;;) {
    int fin = 0;
    aq_ssize n = aq_conn_stream_read(conn, sid, sink, sizeof(sink), &fin);
    if (n > 0) {
      s->recvd += (uint64_t)n;
    }
    s->fin |= fin;
    if (n <= 0) {
      break;
    }
  }
}

static void side_init(side *s, const profile *p, int is_server, uint8_t seedbyte) {
  uint8_t seed[32];
  uint16_t suite = s->suite;
  memset(s, 0, sizeof(*s));
  s->suite = suite;
  memset(seed, seedbyte, sizeof(seed));
  if (aq_identity_from_seed(&s->id, p->id_type, seed) != 0) {
    abort();
  }
  aq_ssize n = aq_identity_spki(&s->id, s->spki, sizeof(s->spki));
  if (n <= 0) {
    abort();
  }
  s->cred.sig_scheme = aq_identity_sig_scheme(&s->id);
  s->cred.spki = s->spki;
  s->cred.spkilen = (size_t)n;
  s->cred.sign = aq_identity_sign;
  s->cred.sign_ctx = &s->id;
  s->group = p->group;
  aq_settings_default(&s->set);
  s->set.tls_groups = &s->group;
  s->set.ntls_groups = 1;
  s->set.offer_rpk = 1;
  s->set.allow_x509 = 0;
  if (is_server || p->mutual) {
    s->set.cred = &s->cred;
  }
  s->set.require_client_auth = is_server && p->mutual;
  if (s->suite != 0) {
    s->set.tls_suites = &s->suite;
    s->set.ntls_suites = 1;
    s->set.max_udp_payload = 1452;
    s->set.initial_max_data = 64u << 20;
    s->set.initial_max_stream_data = 32u << 20;
    s->set.stream_send_buffer = 8u << 20;
  }
  s->cb.rand = bench_rand;
  s->cb.handshake_completed = on_hs;
  s->cb.stream_data = on_data;
  s->ep = aq_ep_new(&s->set, &s->cb, s, NULL, is_server);
  if (s->ep == NULL) {
    abort();
  }
}

static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Move every datagram from one endpoint to the other; returns how many moved. */
static int pump(aq_ep *from, aq_ep *to, aq_tstamp ts) {
  static uint8_t buf[1500];
  int moved = 0;
  for (int i = 0; i < 64; i++) {
    aq_path path;
    aq_ssize n = aq_ep_write(from, &path, buf, sizeof(buf), ts);
    if (n < 0) {
      fprintf(stderr, "aq_ep_write: %s\n", aq_strerror((int)n));
      exit(1);
    }
    if (n == 0) {
      break;
    }
    aq_path in = {path.remote, path.local};
    if (aq_ep_read(to, &in, buf, (size_t)n, ts) != 0) {
      fprintf(stderr, "aq_ep_read failed\n");
      exit(1);
    }
    moved++;
  }
  return moved;
}

/* One handshake to completion on both sides, then both close and drain. */
static void one_handshake(side *c, side *s, aq_tstamp *ts) {
  aq_path path;
  aq_conn *conn;
  memset(&path, 0, sizeof(path));
  if (aq_addr_parse(&path.local, "192.0.2.1:5000", 0) != 0 ||
      aq_addr_parse(&path.remote, "198.51.100.1:443", 0) != 0) {
    abort();
  }
  int want_c = c->hs_done + 1, want_s = s->hs_done + 1;
  if (aq_ep_connect(c->ep, &path, *ts, &conn) != 0) {
    abort();
  }
  for (int round = 0; round < 50 && (c->hs_done < want_c || s->hs_done < want_s); round++) {
    *ts += 1000;
    int moved = pump(c->ep, s->ep, *ts) + pump(s->ep, c->ep, *ts);
    if (moved == 0) {
      *ts += 30000000; /* let delayed ACKs / PTO fire */
      if (aq_ep_handle_expiry(c->ep, *ts) != 0 || aq_ep_handle_expiry(s->ep, *ts) != 0) {
        abort();
      }
    }
  }
  if (c->hs_done < want_c || s->hs_done < want_s) {
    fprintf(stderr, "handshake did not complete\n");
    exit(1);
  }
  aq_conn_close(conn, 0, NULL, 0, *ts);
  for (int round = 0; round < 20 && (aq_ep_conn_count(c->ep) || aq_ep_conn_count(s->ep)); round++) {
    pump(c->ep, s->ep, *ts);
    pump(s->ep, c->ep, *ts);
    *ts += 2000000000ull;
    if (aq_ep_handle_expiry(c->ep, *ts) != 0 || aq_ep_handle_expiry(s->ep, *ts) != 0) {
      abort();
    }
  }
}

/* The unavoidable public-key work of one handshake of profile p. */
static void one_floor(const profile *p, side *c, side *s) {
  uint8_t priv[32], pub[32], peer[32], shared[32], sig[AQ_MLDSA65_SIG_LEN];
  uint8_t spub[32], sshared[32];
  uint8_t msg[130];
  bench_rand(priv, sizeof(priv), NULL);
  bench_rand(msg, sizeof(msg), NULL);
  if (aq_x25519_public(peer, priv) != 0) {
    abort();
  }
  /* Client: keygen, then derive with the kept public value; server: both in one step. */
  bench_rand(priv, sizeof(priv), NULL);
  if (aq_x25519_public(pub, priv) != 0 || aq_x25519_pair(shared, priv, pub, peer) != 0 ||
      aq_x25519_exchange(spub, sshared, priv, peer) != 0) {
    abort();
  }
  if (p->group == 0x11ec) {
    static uint8_t ek[AQ_MLKEM768_EK_LEN], dk[AQ_MLKEM768_DK_LEN], ct[AQ_MLKEM768_CT_LEN];
    uint8_t coins[64], ss[32], ss2[32];
    bench_rand(coins, sizeof(coins), NULL);
    aq_mlkem768_keygen(ek, dk, coins);
    if (aq_mlkem768_encaps(ct, ss, ek, coins) != 0 || aq_mlkem768_decaps(ss2, ct, dk) != 0) {
      abort();
    }
  }
  int signers = p->mutual ? 2 : 1;
  side *who[2] = {s, c};
  for (int i = 0; i < signers; i++) {
    aq_ssize n = aq_identity_sign(&who[i]->id, who[i]->cred.sig_scheme, sig, sizeof(sig), msg,
                                  sizeof(msg));
    if (n <= 0) {
      abort();
    }
    if (aq_sig_verify_spki(who[i]->cred.sig_scheme, who[i]->cred.spki, who[i]->cred.spkilen, msg,
                           sizeof(msg), sig, (size_t)n) != 0) {
      abort();
    }
  }
}

static void run_profile(const profile *p, double secs) {
  side *c = calloc(1, sizeof(*c)), *s = calloc(1, sizeof(*s));
  if (c == NULL || s == NULL) {
    abort();
  }
  side_init(c, p, 0, 0x11);
  side_init(s, p, 1, 0x22);
  aq_tstamp ts = 1000000000ull;
  one_handshake(c, s, &ts); /* warm-up */
  unsigned long n = 0;
  double t0 = cpu_now(), t;
  do {
    one_handshake(c, s, &ts);
    n++;
    t = cpu_now() - t0;
  } while (t < secs);
  double hs_per_s = (double)n / t;
  unsigned long m = 0;
  t0 = cpu_now();
  do {
    one_floor(p, c, s);
    m++;
    t = cpu_now() - t0;
  } while (t < secs);
  double floor_per_s = (double)m / t;
  printf("OP handshake_%s %.1f\n", p->name, hs_per_s);
  printf("OP floor_%s %.1f\n", p->name, floor_per_s);
  printf("RATIO %s %.2f   (handshake CPU time / public-key floor, same run)\n", p->name,
         floor_per_s / hs_per_s);
  aq_ep_del(c->ep);
  aq_ep_del(s->ep);
  aq_identity_wipe(&c->id);
  aq_identity_wipe(&s->id);
  free(c);
  free(s);
}

static int usage(void) {
  fprintf(stderr, "usage: bench_conn handshake [seconds] [profile]\n"
                  "       bench_conn transfer [MiB] [aes128|aes256|chacha20]\n");
  return 2;
}

static int main_handshake(int argc, char **argv) {
  double secs = argc > 0 ? strtod(argv[0], NULL) : 1.0;
  const char *only = argc > 1 ? argv[1] : NULL;
  if (!(secs > 0 && secs < 3600)) {
    return usage();
  }
  int ran = 0;
  for (size_t i = 0; i < sizeof(k_profiles) / sizeof(k_profiles[0]); i++) {
    if (only == NULL || strcmp(only, k_profiles[i].name) == 0) {
      run_profile(&k_profiles[i], secs);
      ran++;
    }
  }
  if (ran == 0) {
    fprintf(stderr, "unknown profile %s\n", only);
    return 2;
  }
  return 0;
}

/* ---------------------------------------------------------------- transfer */

static aq_tstamp mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (aq_tstamp)ts.tv_sec * 1000000000u + (aq_tstamp)ts.tv_nsec;
}

/* Seal + protect and unprotect + open npkts packets of size len: the floor. */
static double crypto_floor(aq_aead_alg alg, uint64_t npkts, size_t len) {
  uint8_t key[32], nonce[12] = {0}, pkt[1500], mask[AQ_HP_MASK_LEN];
  aq_aead a;
  aq_hp hp;
  memset(key, 7, sizeof(key));
  if (aq_aead_init(&a, alg, key) != 0 || aq_hp_init(&hp, alg, key) != 0) {
    abort();
  }
  memset(pkt, 0x5a, sizeof(pkt));
  size_t ptlen = len - 20 - AQ_AEAD_TAG_LEN; /* short header ~20 bytes */
  double t0 = cpu_now();
  for (uint64_t i = 0; i < npkts; i++) {
    nonce[11] = (uint8_t)i;
    nonce[10] = (uint8_t)(i >> 8);
    if (aq_aead_seal(&a, pkt + 20, sizeof(pkt) - 20, nonce, pkt, 20, pkt + 20, ptlen) < 0 ||
        aq_hp_mask(&hp, mask, pkt + 24) != 0 || aq_hp_mask(&hp, mask, pkt + 24) != 0 ||
        aq_aead_open(&a, pkt + 20, sizeof(pkt) - 20, nonce, pkt, 20, pkt + 20,
                     ptlen + AQ_AEAD_TAG_LEN) < 0) {
      abort();
    }
  }
  double t = cpu_now() - t0;
  aq_aead_free(&a);
  aq_hp_free(&hp);
  return t;
}

static int main_transfer(int argc, char **argv) {
  static uint8_t chunk[1 << 16];
  long mib = argc > 0 ? strtol(argv[0], NULL, 10) : 200;
  const char *sname = argc > 1 ? argv[1] : "aes128";
  uint16_t suite;
  aq_aead_alg alg;
  if (strcmp(sname, "aes128") == 0) {
    suite = AQ_TLS_AES_128_GCM_SHA256, alg = AQ_AEAD_AES_128_GCM;
  } else if (strcmp(sname, "aes256") == 0) {
    suite = AQ_TLS_AES_256_GCM_SHA384, alg = AQ_AEAD_AES_256_GCM;
  } else if (strcmp(sname, "chacha20") == 0) {
    suite = 0x1303, alg = AQ_AEAD_CHACHA20_POLY1305;
  } else {
    return usage();
  }
  if (mib < 1 || mib > 100000) {
    return usage();
  }
  uint64_t total = (uint64_t)mib << 20;
  side *c = calloc(1, sizeof(*c)), *s = calloc(1, sizeof(*s));
  if (c == NULL || s == NULL) {
    abort();
  }
  c->suite = s->suite = suite;
  side_init(c, &k_profiles[0], 0, 0x11);
  side_init(s, &k_profiles[0], 1, 0x22);
  aq_path path;
  aq_conn *conn;
  memset(&path, 0, sizeof(path));
  if (aq_addr_parse(&path.local, "192.0.2.1:5000", 0) != 0 ||
      aq_addr_parse(&path.remote, "198.51.100.1:443", 0) != 0 ||
      aq_ep_connect(c->ep, &path, mono_ns(), &conn) != 0) {
    abort();
  }
  for (int i = 0; i < 100 && (c->hs_done == 0 || s->hs_done == 0); i++) {
    aq_tstamp ts = mono_ns();
    pump(c->ep, s->ep, ts);
    pump(s->ep, c->ep, ts);
  }
  uint64_t sid, sent = 0;
  if (c->hs_done == 0 || s->hs_done == 0 || aq_conn_open_stream(conn, 0, &sid) != 0) {
    fprintf(stderr, "handshake failed\n");
    return 1;
  }
  memset(chunk, 0xab, sizeof(chunk));
  double t0 = cpu_now();
  aq_tstamp wall0 = mono_ns();
  for (long rounds = 0; !s->fin && rounds < 100000000; rounds++) {
    aq_tstamp ts = mono_ns();
    while (sent < total) {
      size_t want = total - sent < sizeof(chunk) ? (size_t)(total - sent) : sizeof(chunk);
      aq_ssize n = aq_conn_stream_write(conn, sid, chunk, want, sent + want == total);
      if (n <= 0) {
        break;
      }
      sent += (uint64_t)n;
    }
    int moved = pump(c->ep, s->ep, ts) + pump(s->ep, c->ep, ts);
    if (moved == 0) {
      aq_tstamp exp = aq_ep_get_expiry(c->ep), e2 = aq_ep_get_expiry(s->ep);
      if (e2 < exp) {
        exp = e2;
      }
      while (exp != AQ_TSTAMP_NEVER && mono_ns() < exp && exp - mono_ns() < 50000000u) {
        /* pacing or a timer: wait for it (counts as idle, not CPU) */
      }
      ts = mono_ns();
      if (aq_ep_handle_expiry(c->ep, ts) != 0 || aq_ep_handle_expiry(s->ep, ts) != 0) {
        abort();
      }
    }
    if (mono_ns() - wall0 > 120000000000ull) {
      fprintf(stderr, "transfer did not finish in 120 s\n");
      return 1;
    }
  }
  double t = cpu_now() - t0;
  double wall = (double)(mono_ns() - wall0) * 1e-9;
  if (s->recvd != total) {
    fprintf(stderr, "received %llu of %llu bytes\n", (unsigned long long)s->recvd,
            (unsigned long long)total);
    return 1;
  }
  aq_conn_stats st;
  aq_conn_get_stats(conn, &st);
  double fl = crypto_floor(alg, st.pkts_sent, 1452);
  double gbps = (double)total * 8 / t / 1e9, fgbps = (double)total * 8 / fl / 1e9;
  printf("OP transfer_%s_gbps %.2f   (%.0f MiB, %llu packets, %.2f s CPU, %.2f s wall, lost %llu)\n",
         sname, gbps, (double)mib, (unsigned long long)st.pkts_sent, t, wall,
         (unsigned long long)st.pkts_lost);
  printf("OP floor_%s_gbps %.2f\n", sname, fgbps);
  printf("RATIO transfer_%s %.2f   (transfer CPU time / AEAD+HP floor, same run)\n", sname, t / fl);
  aq_ep_del(c->ep);
  aq_ep_del(s->ep);
  free(c);
  free(s);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    return usage();
  }
  if (strcmp(argv[1], "handshake") == 0) {
    return main_handshake(argc - 2, argv + 2);
  }
  if (strcmp(argv[1], "transfer") == 0) {
    return main_transfer(argc - 2, argv + 2);
  }
  return usage();
}
