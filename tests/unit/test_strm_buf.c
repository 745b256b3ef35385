/* test_strm_buf.c - reassembly (orders, overlaps, gap flood, final size) and
 * the send buffer (back-pressure, loss, acks, FIN). */
#include <stdlib.h>
#include <string.h>

#include "aq_test.h"
#include "quic/aq_strm_buf.h"

static uint64_t rnd(uint64_t *st, uint64_t mod) {
  uint8_t b[8];
  (void)aq_test_rand(b, sizeof b, st);
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) {
    v = (v << 8) | b[i];
  }
  return mod ? v % mod : v;
}

/* A counting allocator: current and peak bytes. */
typedef struct cnt_mem {
  aq_mem mem;
  size_t cur, peak;
} cnt_mem;

static void *cm_malloc(size_t n, void *ud) {
  cnt_mem *c = ud;
  size_t *p = malloc(n + sizeof(size_t));
  if (p == NULL) {
    return NULL;
  }
  *p = n;
  c->cur += n;
  c->peak = c->cur > c->peak ? c->cur : c->peak;
  return p + 1;
}
static void cm_free(void *ptr, void *ud) {
  cnt_mem *c = ud;
  if (ptr) {
    size_t *p = (size_t *)ptr - 1;
    c->cur -= *p;
    free(p);
  }
}
static void *cm_calloc(size_t nm, size_t sz, void *ud) {
  void *p = cm_malloc(nm * sz, ud);
  if (p) {
    memset(p, 0, nm * sz);
  }
  return p;
}
static void *cm_realloc(void *ptr, size_t n, void *ud) {
  (void)ptr;
  (void)n;
  (void)ud;
  return NULL; /* not used by these modules */
}
static void cnt_mem_init(cnt_mem *c) {
  memset(c, 0, sizeof(*c));
  c->mem.user_data = c;
  c->mem.malloc = cm_malloc;
  c->mem.free = cm_free;
  c->mem.calloc = cm_calloc;
  c->mem.realloc = cm_realloc;
}

typedef struct frag {
  uint64_t off, len;
} frag;

/* Random fragments (with overlaps and duplicates) in random order, reads of
 * random sizes interleaved: the output equals the input. */
AQ_TEST(strm_rbuf_random_order_equals_original) {
  for (uint64_t seed = 1; seed <= 6; seed++) {
    uint64_t st = seed * 0x9e3779b97f4a7c15ULL;
    size_t total = 150000 + (size_t)rnd(&st, 50000);
    uint8_t *src = malloc(total), *dst = malloc(total);
    REQUIRE(src && dst);
    (void)aq_test_rand(src, total, &st);
    size_t nf = 0, capf = 4096;
    frag *f = malloc(capf * sizeof(frag));
    REQUIRE(f);
    for (uint64_t o = 0; o < total;) {
      uint64_t len = 1 + rnd(&st, 2500);
      if (o + len > total) {
        len = total - o;
      }
      f[nf++] = (frag){o, len};
      if (rnd(&st, 4) == 0 && nf < capf) { /* an overlapping duplicate */
        uint64_t b = o > 700 ? o - rnd(&st, 700) : 0;
        f[nf++] = (frag){b, o + len - b};
      }
      o += len;
      REQUIRE(nf + 2 < capf);
    }
    for (size_t i = nf - 1; i > 0; i--) { /* Fisher-Yates */
      size_t j = (size_t)rnd(&st, i + 1);
      frag t = f[i];
      f[i] = f[j];
      f[j] = t;
    }
    aq_strm_rbuf rb;
    REQUIRE(aq_strm_rbuf_init(&rb, aq_mem_default(), 256 * 1024) == 0);
    size_t got = 0;
    int fin = 0;
    for (size_t i = 0; i < nf; i++) {
      int is_last = f[i].off + f[i].len == total;
      REQUIRE(aq_strm_rbuf_recv(&rb, f[i].off, src + f[i].off, (size_t)f[i].len, is_last) == 0);
      if (rnd(&st, 3) == 0) {
        got += aq_strm_rbuf_read(&rb, dst + got, (size_t)rnd(&st, 9000), &fin);
      }
    }
    got += aq_strm_rbuf_read(&rb, dst + got, total - got, &fin);
    CHECK_INT(got, total);
    CHECK(fin);
    CHECK(memcmp(src, dst, total) == 0);
    aq_strm_rbuf_free(&rb);
    free(f);
    free(src);
    free(dst);
  }
}

/* A stream much larger than the window, fragments shuffled within groups
 * that stay inside the window, read as it becomes contiguous. */
AQ_TEST(strm_rbuf_sliding_window) {
  uint64_t st = 42;
  size_t total = 1 << 20;
  uint8_t *src = malloc(total), *dst = malloc(total);
  REQUIRE(src && dst);
  (void)aq_test_rand(src, total, &st);
  aq_strm_rbuf rb;
  REQUIRE(aq_strm_rbuf_init(&rb, aq_mem_default(), 64 * 1024) == 0);
  size_t got = 0;
  uint64_t o = 0;
  while (o < total) {
    frag g[16];
    size_t n = 0;
    while (n < 16 && o < total) {
      uint64_t len = 1 + rnd(&st, 3000);
      if (o + len > total) {
        len = total - o;
      }
      g[n++] = (frag){o, len};
      o += len;
    }
    for (size_t i = n - 1; i > 0; i--) {
      size_t j = (size_t)rnd(&st, i + 1);
      frag t = g[i];
      g[i] = g[j];
      g[j] = t;
    }
    for (size_t i = 0; i < n; i++) {
      REQUIRE(aq_strm_rbuf_recv(&rb, g[i].off, src + g[i].off, (size_t)g[i].len,
                                g[i].off + g[i].len == total) == 0);
    }
    int fin;
    got += aq_strm_rbuf_read(&rb, dst + got, total - got, &fin);
    CHECK_INT(got, o);
  }
  CHECK(aq_strm_rbuf_is_finished(&rb));
  CHECK(memcmp(src, dst, total) == 0);
  /* Only a window's worth of chunks (plus one spare) was ever held. */
  CHECK(rb.allocated <= 2 * (AQ_STRM_CHUNK + AQ_STRM_CHUNK / 8));
  aq_strm_rbuf_free(&rb);
  free(src);
  free(dst);
}

/* The quinn GHSA-4w2j-m93h-cj5j gap flood: 1-byte fragments at every other
 * offset of a 1 MiB window (524,288 fragments, more than the 100k asked for). */
AQ_TEST(strm_rbuf_gap_flood_bounded) {
  const uint64_t window = 1 << 20;
  cnt_mem cm;
  cnt_mem_init(&cm);
  aq_strm_rbuf rb;
  REQUIRE(aq_strm_rbuf_init(&rb, &cm.mem, window) == 0);
  uint8_t b = 0x5a;
  for (uint64_t off = 1; off < window; off += 2) {
    REQUIRE(aq_strm_rbuf_recv(&rb, off, &b, 1, 0) == 0);
  }
  /* Bound: the window, its presence bitmap (window / 8), the slot array. */
  size_t bound = (size_t)(window + window / 8 + 4096);
  if (cm.peak > bound) {
    aq_test_fail(__FILE__, __LINE__, "peak %zu bytes > bound %zu", cm.peak, bound);
  }
  CHECK(cm.peak >= window); /* and it really stored the window */
  CHECK_INT(aq_strm_rbuf_readable(&rb), 0);
  /* One byte past the window is refused. */
  CHECK_INT(aq_strm_rbuf_recv(&rb, window, &b, 1, 0), AQ_ERR_FLOW_CONTROL);
  /* Fill the gaps: everything becomes readable, still within the bound. */
  uint8_t z = 0;
  for (uint64_t off = 0; off < window; off += 2) {
    REQUIRE(aq_strm_rbuf_recv(&rb, off, &z, 1, 0) == 0);
  }
  CHECK_INT(aq_strm_rbuf_readable(&rb), window);
  CHECK(cm.peak <= bound);
  uint8_t buf[4096];
  int fin;
  uint64_t n = 0;
  size_t k;
  while ((k = aq_strm_rbuf_read(&rb, buf, sizeof buf, &fin)) > 0) {
    for (size_t i = 0; i < k; i++) {
      if (buf[i] != (((n + i) & 1) ? 0x5a : 0)) {
        aq_test_fail(__FILE__, __LINE__, "byte %llu", (unsigned long long)(n + i));
        return;
      }
    }
    n += k;
  }
  CHECK_INT(n, window);
  aq_strm_rbuf_free(&rb);
  CHECK_INT(cm.cur, 0);
}

AQ_TEST(strm_rbuf_final_size_rules) {
  static const struct {
    const char *what;
    uint64_t off1, len1;
    int fin1;
    uint64_t off2, len2;
    int fin2;
    int reset2; /* second step is RESET_STREAM with final size off2 */
    int want;
  } t[] = {
      {"data beyond final size", 0, 100, 1, 50, 100, 0, 0, AQ_ERR_FINAL_SIZE},
      {"final size grows", 0, 100, 1, 100, 20, 1, 0, AQ_ERR_FINAL_SIZE},
      {"final size shrinks", 0, 100, 1, 0, 90, 1, 0, AQ_ERR_FINAL_SIZE},
      {"same FIN again", 0, 100, 1, 50, 50, 1, 0, 0},
      {"FIN below received data", 0, 200, 0, 100, 50, 1, 0, AQ_ERR_FINAL_SIZE},
      {"FIN at received data", 0, 200, 0, 200, 0, 1, 0, 0},
      {"data up to the final size", 50, 50, 1, 0, 100, 0, 0, 0},
      {"reset below final size", 0, 100, 1, 90, 0, 0, 1, AQ_ERR_FINAL_SIZE},
      {"reset at final size", 0, 100, 1, 100, 0, 0, 1, 0},
      {"reset below received data", 0, 100, 0, 99, 0, 0, 1, AQ_ERR_FINAL_SIZE},
      {"offset + len beyond 2^62", 0, 10, 0, ((uint64_t)1 << 62) - 5, 10, 0, 0,
       AQ_ERR_FLOW_CONTROL},
      {"beyond the window", 0, 10, 0, 65536, 1, 0, 0, AQ_ERR_FLOW_CONTROL},
  };
  static uint8_t data[256];
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    aq_strm_rbuf rb;
    REQUIRE(aq_strm_rbuf_init(&rb, aq_mem_default(), 65536) == 0);
    REQUIRE(aq_strm_rbuf_recv(&rb, t[i].off1, data, (size_t)t[i].len1, t[i].fin1) == 0);
    uint64_t readable = aq_strm_rbuf_readable(&rb), fs = rb.final_size;
    int rv = t[i].reset2 ? aq_strm_rbuf_on_reset(&rb, t[i].off2)
                         : aq_strm_rbuf_recv(&rb, t[i].off2, data, (size_t)t[i].len2, t[i].fin2);
    if (rv != t[i].want) {
      aq_test_fail(__FILE__, __LINE__, "case '%s': got %d want %d", t[i].what, rv, t[i].want);
    }
    if (rv != 0) {
      CHECK_INT(aq_strm_rbuf_readable(&rb), readable); /* unchanged on error */
      CHECK_INT(rb.final_size, fs);
    }
    aq_strm_rbuf_free(&rb);
  }
}

AQ_TEST(strm_rbuf_failmem_sweep) {
  static uint8_t data[10000];
  for (long fail_at = 0;; fail_at++) {
    aq_test_failmem fm;
    aq_test_failmem_init(&fm, fail_at);
    aq_strm_rbuf rb;
    int rv = aq_strm_rbuf_init(&rb, &fm.mem, 65536);
    if (rv == 0) {
      /* 10000 bytes at 1000 touch 3 chunks. */
      rv = aq_strm_rbuf_recv(&rb, 1000, data, sizeof data, 0);
      if (rv != 0) {
        CHECK_INT(rv, AQ_ERR_NOMEM);
        CHECK_INT(rb.recv_end, 0); /* nothing committed */
      }
      aq_strm_rbuf_free(&rb);
    } else {
      CHECK_INT(rv, AQ_ERR_NOMEM);
    }
    CHECK_INT(fm.live, 0);
    if (rv == 0) {
      CHECK_INT(fail_at, 4);
      break;
    }
  }
  aq_strm_sbuf sb;
  aq_test_failmem fm;
  aq_test_failmem_init(&fm, 0);
  CHECK_INT(aq_strm_sbuf_init(&sb, &fm.mem, 100), AQ_ERR_NOMEM);
  CHECK_INT(fm.live, 0);
  aq_strm_rbuf rb;
  CHECK_INT(aq_strm_rbuf_init(&rb, aq_mem_default(), 0), AQ_ERR_INVALID_ARGUMENT);
}

AQ_TEST(strm_sbuf_backpressure_loss_fin) {
  aq_strm_sbuf sb;
  REQUIRE(aq_strm_sbuf_init(&sb, aq_mem_default(), 1000) == 0);
  uint8_t src[1500], out[1500];
  for (int i = 0; i < 1500; i++) {
    src[i] = (uint8_t)(i * 7);
  }
  CHECK_INT(aq_strm_sbuf_write(&sb, src, 1500), 1000); /* back-pressure */
  CHECK_INT(aq_strm_sbuf_space(&sb), 0);
  aq_strm_seg s;
  /* Flow control allows 800 bytes: segments of at most 300. */
  static const uint64_t want_off[] = {0, 300, 600};
  static const uint64_t want_len[] = {300, 300, 200};
  for (int i = 0; i < 3; i++) {
    REQUIRE(aq_strm_sbuf_next(&sb, 300, 800, &s) == 0);
    CHECK_INT(s.offset, want_off[i]);
    CHECK_INT(s.len, want_len[i]);
    CHECK(!s.fin && !s.retransmit);
    REQUIRE(aq_strm_sbuf_copy(&sb, out, s.offset, s.len) == 0);
    CHECK(memcmp(out, src + s.offset, (size_t)s.len) == 0);
    aq_strm_sbuf_on_sent(&sb, &s);
  }
  CHECK_INT(aq_strm_sbuf_next(&sb, 300, 800, &s), AQ_ERR_NOT_FOUND); /* flow control */
  /* [300,600) lost, [0,300) and [600,800) acknowledged. */
  aq_strm_sbuf_on_lost(&sb, 300, 300, 0);
  aq_strm_sbuf_on_acked(&sb, 600, 200, 0);
  CHECK_INT(sb.base, 0);
  aq_strm_sbuf_on_acked(&sb, 0, 300, 0);
  CHECK_INT(sb.base, 300);
  CHECK_INT(aq_strm_sbuf_space(&sb), 300);
  CHECK_INT(aq_strm_sbuf_copy(&sb, out, 0, 10), AQ_ERR_INVALID_ARGUMENT); /* freed */
  /* The retransmission comes first, even with no flow control credit. */
  REQUIRE(aq_strm_sbuf_next(&sb, 1000, 800, &s) == 0);
  CHECK_INT(s.offset, 300);
  CHECK_INT(s.len, 300);
  CHECK(s.retransmit);
  aq_strm_sbuf_on_sent(&sb, &s);
  /* More application data wraps around the ring. */
  CHECK_INT(aq_strm_sbuf_write(&sb, src + 1000, 500), 300);
  aq_strm_sbuf_close(&sb);
  CHECK_INT(aq_strm_sbuf_write(&sb, src, 1), AQ_ERR_STATE);
  REQUIRE(aq_strm_sbuf_next(&sb, 2000, 5000, &s) == 0);
  CHECK_INT(s.offset, 800);
  CHECK_INT(s.len, 500);
  CHECK(s.fin);
  REQUIRE(aq_strm_sbuf_copy(&sb, out, 800, 500) == 0);
  CHECK(memcmp(out, src + 800, 500) == 0);
  aq_strm_sbuf_on_sent(&sb, &s);
  CHECK_INT(aq_strm_sbuf_next(&sb, 2000, 5000, &s), AQ_ERR_NOT_FOUND);
  /* The FIN alone is lost after its data was acknowledged: FIN-only frame. */
  aq_strm_sbuf_on_acked(&sb, 300, 1000, 0);
  CHECK_INT(sb.base, 1300);
  aq_strm_sbuf_on_lost(&sb, 1300, 0, 1);
  REQUIRE(aq_strm_sbuf_next(&sb, 2000, 5000, &s) == 0);
  CHECK_INT(s.offset, 1300);
  CHECK_INT(s.len, 0);
  CHECK(s.fin);
  aq_strm_sbuf_on_sent(&sb, &s);
  CHECK(!aq_strm_sbuf_is_done(&sb));
  aq_strm_sbuf_on_acked(&sb, 1300, 0, 1);
  CHECK(aq_strm_sbuf_is_done(&sb));
  aq_strm_sbuf_free(&sb);
}

/* End to end over a lossy, reordering "network": segments are randomly
 * lost or delivered (and acknowledged) out of order; the receiver's
 * reassembly equals the input and the sender ends with everything acked. */
AQ_TEST(strm_buf_lossy_transfer) {
  for (uint64_t seed = 1; seed <= 4; seed++) {
    uint64_t st = seed;
    const size_t total = 300000;
    uint8_t *src = malloc(total), *dst = malloc(total), pkt[1200];
    REQUIRE(src && dst);
    (void)aq_test_rand(src, total, &st);
    aq_strm_sbuf sb;
    aq_strm_rbuf rb;
    REQUIRE(aq_strm_sbuf_init(&sb, aq_mem_default(), 50000) == 0);
    REQUIRE(aq_strm_rbuf_init(&rb, aq_mem_default(), 64 * 1024) == 0);
    size_t written = 0, got = 0;
    aq_strm_seg inflight[64];
    size_t ninf = 0;
    int fin = 0;
    for (int iter = 0; iter < 200000 && !aq_strm_sbuf_is_done(&sb); iter++) {
      if (written < total) {
        aq_ssize w = aq_strm_sbuf_write(&sb, src + written, total - written);
        REQUIRE(w >= 0);
        written += (size_t)w;
        if (written == total) {
          aq_strm_sbuf_close(&sb);
        }
      }
      /* Send while there is room "in flight"; flow control = read + window. */
      aq_strm_seg s;
      while (ninf < 64 &&
             aq_strm_sbuf_next(&sb, 1 + rnd(&st, 1200), rb.read_off + 64 * 1024, &s) == 0) {
        aq_strm_sbuf_on_sent(&sb, &s);
        inflight[ninf++] = s;
      }
      if (ninf == 0) {
        continue;
      }
      /* Deliver or lose one random in-flight segment. */
      size_t k = (size_t)rnd(&st, ninf);
      s = inflight[k];
      inflight[k] = inflight[--ninf];
      if (rnd(&st, 5) == 0) {
        aq_strm_sbuf_on_lost(&sb, s.offset, s.len, s.fin);
        continue;
      }
      REQUIRE(aq_strm_sbuf_copy(&sb, pkt, s.offset, s.len) == 0);
      REQUIRE(aq_strm_rbuf_recv(&rb, s.offset, pkt, (size_t)s.len, s.fin) == 0);
      aq_strm_sbuf_on_acked(&sb, s.offset, s.len, s.fin);
      got += aq_strm_rbuf_read(&rb, dst + got, total - got, &fin);
    }
    CHECK(aq_strm_sbuf_is_done(&sb));
    CHECK_INT(got, total);
    CHECK(fin);
    CHECK(memcmp(src, dst, total) == 0);
    aq_strm_sbuf_free(&sb);
    aq_strm_rbuf_free(&rb);
    free(src);
    free(dst);
  }
}

/* More acknowledged islands than the set holds: the extra one is queued for
 * retransmission, and acknowledging the base still makes progress. */
AQ_TEST(strm_sbuf_acked_set_overflow) {
  aq_strm_sbuf sb;
  REQUIRE(aq_strm_sbuf_init(&sb, aq_mem_default(), 4096) == 0);
  static uint8_t src[4096];
  REQUIRE(aq_strm_sbuf_write(&sb, src, 4096) == 4096);
  aq_strm_seg s;
  REQUIRE(aq_strm_sbuf_next(&sb, 4096, 4096, &s) == 0);
  aq_strm_sbuf_on_sent(&sb, &s);
  /* Islands [2k+1, 2k+2) for k = 0..AQ_MAX_SBUF_RANGES: one too many. */
  for (uint64_t k = 0; k <= AQ_MAX_SBUF_RANGES; k++) {
    aq_strm_sbuf_on_acked(&sb, 2 * k + 1, 1, 0);
  }
  CHECK_INT(aq_ranges_count(&sb.acked), AQ_MAX_SBUF_RANGES);
  CHECK_INT(sb.base, 0);
  /* The refused island is offered again for retransmission. */
  REQUIRE(aq_strm_sbuf_next(&sb, 100, 4096, &s) == 0);
  CHECK(s.retransmit);
  CHECK_INT(s.offset, 2 * AQ_MAX_SBUF_RANGES + 1);
  CHECK_INT(s.len, 1);
  /* Acknowledging the gaps from the base moves it without needing a slot. */
  for (uint64_t k = 0; k <= AQ_MAX_SBUF_RANGES; k++) {
    aq_strm_sbuf_on_acked(&sb, 2 * k, 1, 0);
  }
  CHECK_INT(sb.base, 2 * AQ_MAX_SBUF_RANGES + 1);
  aq_strm_sbuf_on_acked(&sb, 2 * AQ_MAX_SBUF_RANGES + 1, 4096 - 2 * AQ_MAX_SBUF_RANGES - 1, 0);
  CHECK_INT(sb.base, 4096);
  CHECK_INT(aq_ranges_count(&sb.acked), 0);
  CHECK_INT(aq_strm_sbuf_next(&sb, 100, 4096, &s), AQ_ERR_NOT_FOUND);
  aq_strm_sbuf_free(&sb);
}

/* Zero-copy reads see the same bytes as copying reads, chunk by chunk. */
AQ_TEST(strm_rbuf_peek_consume) {
  uint64_t st = 99;
  static uint8_t src[3 * AQ_STRM_CHUNK + 100], dst[sizeof src];
  (void)aq_test_rand(src, sizeof src, &st);
  aq_strm_rbuf rb;
  REQUIRE(aq_strm_rbuf_init(&rb, aq_mem_default(), 16384) == 0);
  REQUIRE(aq_strm_rbuf_recv(&rb, 100, src + 100, sizeof src - 100, 1) == 0);
  const uint8_t *p;
  size_t n;
  aq_strm_rbuf_peek(&rb, &p, &n);
  CHECK_INT(n, 0); /* the first 100 bytes are missing */
  REQUIRE(aq_strm_rbuf_recv(&rb, 0, src, 100, 0) == 0);
  CHECK_INT(aq_strm_rbuf_recv_end(&rb), sizeof src);
  size_t got = 0;
  for (;;) {
    aq_strm_rbuf_peek(&rb, &p, &n);
    if (n == 0) {
      break;
    }
    CHECK(n <= AQ_STRM_CHUNK);
    size_t take = n > 1000 ? 1000 : n; /* consume part of what is shown */
    memcpy(dst + got, p, take);
    aq_strm_rbuf_consume(&rb, take);
    got += take;
  }
  CHECK_INT(got, sizeof src);
  CHECK(memcmp(src, dst, sizeof src) == 0);
  CHECK(aq_strm_rbuf_is_finished(&rb));
  aq_strm_rbuf_free(&rb);
}
