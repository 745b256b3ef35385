/*
 * test_strm_buf_scan.c - the reassembly buffer's scan for the first missing
 * byte (bits_first_zero in aq_strm_buf.c skips whole 64-bit words of the
 * presence bitmap): a one-byte hole at every position around word, byte and
 * chunk boundaries must stop the readable prefix exactly there, and filling
 * it must make everything readable.
 */
#include <string.h>

#include "aq_test.h"
#include "quic/aq_strm_buf.h"

AQ_TEST(strm_rbuf_scan_single_hole) {
  enum { N = 3 * AQ_STRM_CHUNK + 200 };
  static uint8_t data[N];
  static uint8_t out[N];
  for (size_t i = 0; i < N; i++) {
    data[i] = (uint8_t)(i * 7u + 3u);
  }
  /* Holes near bitmap word (64-byte), byte and chunk boundaries, and some others. */
  size_t holes[64];
  size_t nh = 0;
  const size_t bases[] = {0, 64, 128, 512, AQ_STRM_CHUNK, 2 * AQ_STRM_CHUNK + 64, N - 8};
  for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
    for (size_t d = 0; d < 9 && nh < 64; d += 1) {
      size_t h = bases[b] + d;
      if (h < N) {
        holes[nh++] = h;
      }
    }
  }
  holes[nh++] = N - 1;
  for (size_t k = 0; k < nh; k++) {
    size_t h = holes[k];
    aq_strm_rbuf rb;
    aq_strm_rbuf_init(&rb, aq_mem_default(), 4 * AQ_STRM_CHUNK);
    /* The bytes after the hole first (in odd-sized pieces), then before it. */
    for (size_t o = h + 1; o < N; o += 1000) {
      size_t n = N - o < 1000 ? N - o : 1000;
      REQUIRE(aq_strm_rbuf_recv(&rb, o, data + o, n, 0) == 0);
    }
    if (h > 0) {
      REQUIRE(aq_strm_rbuf_recv(&rb, 0, data, h, 0) == 0);
    }
    CHECK_INT((long long)aq_strm_rbuf_readable(&rb), (long long)h);
    REQUIRE(aq_strm_rbuf_recv(&rb, h, data + h, 1, 0) == 0);
    CHECK_INT((long long)aq_strm_rbuf_readable(&rb), (long long)N);
    int fin = 0;
    size_t got = aq_strm_rbuf_read(&rb, out, sizeof(out), &fin);
    CHECK_INT((long long)got, (long long)N);
    CHECK_MEM(out, data, N);
    aq_strm_rbuf_free(&rb);
  }
}
