/* test_strm_buf.c - reassembly (orders, overlaps, gap flood, final size,
 * window growth, discard) and, end to end, the send buffer aq_txbuf. */
#include <stdlib.h>
#include <string.h>

#include "aq_test.h"
#include "quic/aq_conn_int.h"
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
    aq_strm_rbuf_init(&rb, aq_mem_default(), 256 * 1024);
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
  aq_strm_rbuf_init(&rb, aq_mem_default(), 64 * 1024);
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
  CHECK(rb.allocated <= 2 * AQ_STRM_CHUNK_BYTES);
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
  aq_strm_rbuf_init(&rb, &cm.mem, window);
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
    aq_strm_rbuf_init(&rb, aq_mem_default(), 65536);
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
    aq_strm_rbuf_init(&rb, &fm.mem, 65536);
    CHECK_INT(aq_strm_rbuf_mem(&rb), 0); /* nothing before the first byte */
    /* The slot array, then 10000 bytes at 1000 touch 3 chunks; then a growth. */
    int rv = aq_strm_rbuf_recv(&rb, 1000, data, sizeof data, 0);
    if (rv != 0) {
      CHECK_INT(rv, AQ_ERR_NOMEM);
      CHECK_INT(rb.recv_end, 0); /* nothing committed */
    } else {
      rv = aq_strm_rbuf_grow(&rb, 1 << 20);
      if (rv != 0) {
        CHECK_INT(rv, AQ_ERR_NOMEM);
        CHECK_INT(rb.window_cap, 65536); /* unchanged */
      } else {
        CHECK_INT(rb.window_cap, 1 << 20);
      }
      CHECK_INT(rb.recv_end, 11000);
    }
    aq_strm_rbuf_free(&rb);
    CHECK_INT(fm.live, 0);
    if (rv == 0) {
      CHECK_INT(fail_at, 5);
      break;
    }
  }
  /* Windows are clamped and rounded to chunks. */
  aq_strm_rbuf rb;
  aq_strm_rbuf_init(&rb, aq_mem_default(), 0);
  CHECK_INT(rb.window_cap, AQ_STRM_CHUNK);
  aq_strm_rbuf_init(&rb, aq_mem_default(), AQ_STRM_CHUNK + 1);
  CHECK_INT(rb.window_cap, 2 * AQ_STRM_CHUNK);
  aq_strm_rbuf_init(&rb, aq_mem_default(), UINT64_MAX);
  CHECK_INT(rb.window_cap, AQ_STRM_MAX_WINDOW);
}

/* Growing the window mid-stream (auto-tuning) keeps every buffered byte,
 * whatever the read offset modulo the old and new ring sizes, and admits
 * data up to the new window only. */
AQ_TEST(strm_rbuf_grow_keeps_data) {
  uint64_t st = 7;
  static uint8_t src[200000], dst[sizeof src];
  (void)aq_test_rand(src, sizeof src, &st);
  for (uint64_t start = 0; start < 5 * AQ_STRM_CHUNK; start += 1531) {
    aq_strm_rbuf rb;
    aq_strm_rbuf_init(&rb, aq_mem_default(), 3 * AQ_STRM_CHUNK);
    /* Move the read offset to `start`. */
    size_t got = 0;
    while (got < start) {
      size_t n = start - got < AQ_STRM_CHUNK ? (size_t)(start - got) : AQ_STRM_CHUNK;
      REQUIRE(aq_strm_rbuf_recv(&rb, got, src + got, n, 0) == 0);
      got += aq_strm_rbuf_read(&rb, dst + got, sizeof dst - got, NULL);
    }
    CHECK_INT(got, start);
    /* Sparse fragments over the whole old window (every other 100 bytes). */
    uint64_t lim = start + rb.window_cap;
    for (uint64_t o = start + 100; o + 100 <= lim; o += 200) {
      REQUIRE(aq_strm_rbuf_recv(&rb, o, src + o, 100, 0) == 0);
    }
    CHECK_INT(aq_strm_rbuf_recv(&rb, lim, src + lim, 1, 0), AQ_ERR_FLOW_CONTROL);
    REQUIRE(aq_strm_rbuf_grow(&rb, 10 * AQ_STRM_CHUNK) == 0);
    CHECK_INT(rb.window_cap, 10 * AQ_STRM_CHUNK);
    REQUIRE(aq_strm_rbuf_grow(&rb, 2 * AQ_STRM_CHUNK) == 0); /* never shrinks */
    CHECK_INT(rb.window_cap, 10 * AQ_STRM_CHUNK);
    uint64_t lim2 = start + rb.window_cap;
    CHECK_INT(aq_strm_rbuf_recv(&rb, lim2, src + lim2, 1, 0), AQ_ERR_FLOW_CONTROL);
    /* Fill the rest of the new window, gaps included, and read it all. */
    for (uint64_t o = start; o < lim2; o += 200) {
      REQUIRE(aq_strm_rbuf_recv(&rb, o, src + o, 100, 0) == 0);
    }
    REQUIRE(aq_strm_rbuf_recv(&rb, lim, src + lim, (size_t)(lim2 - lim), 0) == 0);
    CHECK_INT(aq_strm_rbuf_readable(&rb), rb.window_cap);
    got += aq_strm_rbuf_read(&rb, dst + got, sizeof dst - got, NULL);
    CHECK_INT(got, lim2);
    CHECK(memcmp(src, dst, got) == 0);
    aq_strm_rbuf_free(&rb);
  }
}

/* After a discard (STOP_SENDING) nothing is stored, the read offset follows
 * the data, and the final size rules still hold. */
AQ_TEST(strm_rbuf_discard) {
  static uint8_t data[20000];
  cnt_mem cm;
  cnt_mem_init(&cm);
  aq_strm_rbuf rb;
  aq_strm_rbuf_init(&rb, &cm.mem, 16384);
  REQUIRE(aq_strm_rbuf_recv(&rb, 0, data, 1000, 0) == 0);
  REQUIRE(aq_strm_rbuf_recv(&rb, 5000, data, 3000, 0) == 0);
  CHECK(cm.cur > 0);
  CHECK_INT(aq_strm_rbuf_discard(&rb), 8000);       /* read offset 0 -> 8000 */
  CHECK_INT(cm.cur, rb.nslots * sizeof(uint8_t *)); /* only the slot array is left */
  CHECK_INT(rb.read_off, 8000);
  REQUIRE(aq_strm_rbuf_recv(&rb, 8000, data, 10000, 0) == 0);
  CHECK_INT(rb.read_off, 18000);
  CHECK_INT(aq_strm_rbuf_readable(&rb), 0);
  CHECK_INT(cm.cur, rb.nslots * sizeof(uint8_t *));
  CHECK_INT(aq_strm_rbuf_recv(&rb, 18000, data, 16385, 0), AQ_ERR_FLOW_CONTROL);
  REQUIRE(aq_strm_rbuf_recv(&rb, 18000, data, 100, 1) == 0);
  CHECK_INT(rb.final_size, 18100);
  CHECK_INT(aq_strm_rbuf_recv(&rb, 18000, data, 200, 0), AQ_ERR_FINAL_SIZE);
  CHECK_INT(aq_strm_rbuf_discard(&rb), 0);
  aq_strm_rbuf_free(&rb);
  CHECK_INT(cm.cur, 0);
}

/* End to end over a lossy, reordering "network": the connection's send
 * buffer aq_txbuf (growing ring, lost/acked ranges) feeds segments that are
 * randomly lost or delivered (and acknowledged) out of order; the receiver's
 * reassembly, whose window grows mid-transfer, equals the input. */
AQ_TEST(strm_buf_lossy_transfer) {
  for (uint64_t seed = 1; seed <= 4; seed++) {
    uint64_t st = seed;
    const size_t total = 300000;
    uint8_t *src = malloc(total), *dst = malloc(total), pkt[1200];
    REQUIRE(src && dst);
    (void)aq_test_rand(src, total, &st);
    aq_txbuf tb;
    aq_txbuf_init(&tb);
    aq_strm_rbuf rb;
    aq_strm_rbuf_init(&rb, aq_mem_default(), 16 * 1024);
    size_t written = 0, got = 0;
    aq_range inflight[64];
    size_t ninf = 0;
    for (int iter = 0; iter < 400000 && got < total; iter++) {
      if (written < total) {
        aq_ssize w = aq_txbuf_append(&tb, aq_mem_default(), src + written, total - written, 50000);
        REQUIRE(w >= 0);
        written += (size_t)w;
      }
      if (iter == 3000) {
        REQUIRE(aq_strm_rbuf_grow(&rb, 64 * 1024) == 0);
      }
      /* Send while there is room "in flight"; flow control = read + window. */
      aq_range r;
      int is_new;
      while (ninf < 64 && aq_txbuf_next(&tb, rb.read_off + rb.window_cap, &r, &is_new) == 0) {
        uint64_t len = 1 + rnd(&st, 1200);
        if (r.end - r.start < len) {
          len = r.end - r.start;
        }
        aq_txbuf_on_sent(&tb, r.start, len);
        inflight[ninf++] = (aq_range){r.start, r.start + len};
      }
      if (ninf == 0) {
        continue;
      }
      /* Deliver or lose one random in-flight segment. */
      size_t k = (size_t)rnd(&st, ninf);
      r = inflight[k];
      inflight[k] = inflight[--ninf];
      if (rnd(&st, 5) == 0) {
        aq_txbuf_on_lost(&tb, r.start, r.end - r.start);
        continue;
      }
      aq_txbuf_copy(&tb, r.start, pkt, (size_t)(r.end - r.start));
      REQUIRE(aq_strm_rbuf_recv(&rb, r.start, pkt, (size_t)(r.end - r.start), r.end == total) == 0);
      aq_txbuf_on_acked(&tb, r.start, r.end - r.start);
      got += aq_strm_rbuf_read(&rb, dst + got, total - got, NULL);
    }
    CHECK_INT(got, total);
    CHECK(memcmp(src, dst, total) == 0);
    CHECK_INT(tb.base, total); /* everything acknowledged */
    CHECK(rb.allocated <= (64 * 1024 / AQ_STRM_CHUNK + 2) * AQ_STRM_CHUNK_BYTES);
    aq_txbuf_free(&tb, aq_mem_default());
    aq_strm_rbuf_free(&rb);
    free(src);
    free(dst);
  }
}
