/*
 * test_node_rand.c - node_rand: small requests served from the per-thread
 * pool are never repeated, a fork child does not inherit the parent's pool,
 * and large requests bypass it.
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aq_test.h"
#include "node_rand.h"

/* Many small draws: no two 16-byte draws are equal, and the bits are balanced. */
AQ_TEST(node_rand_pool_draws_unique) {
  static uint8_t draws[512][16];
  for (size_t i = 0; i < 512; i++) {
    REQUIRE(node_rand(draws[i], sizeof(draws[i]), NULL) == 0);
  }
  for (size_t i = 0; i < 512; i++) {
    for (size_t j = 0; j < i; j++) {
      if (memcmp(draws[i], draws[j], 16) == 0) {
        aq_test_fail(__FILE__, __LINE__, "draws %zu and %zu are equal", i, j);
      }
    }
  }
  size_t ones = 0;
  for (size_t i = 0; i < 512; i++) {
    for (size_t b = 0; b < 16; b++) {
      ones += (size_t)__builtin_popcount(draws[i][b]);
    }
  }
  /* 65536 bits: mean 32768, sd 128; 10 sd either way. */
  CHECK(ones > 32768 - 1280 && ones < 32768 + 1280);
  /* Odd sizes across refills, zero-length, and a request larger than the pool. */
  uint8_t odd[63], big[1000];
  for (int i = 0; i < 20; i++) {
    REQUIRE(node_rand(odd, sizeof(odd), NULL) == 0);
  }
  CHECK_INT(node_rand(odd, 0, NULL), 0);
  memset(big, 0, sizeof(big));
  CHECK_INT(node_rand(big, sizeof(big), NULL), 0);
  size_t zeros = 0;
  for (size_t i = 0; i < sizeof(big); i++) {
    zeros += big[i] == 0;
  }
  CHECK(zeros < 20);
}

/* After fork the child draws bytes the parent never sees (its pool starts empty). */
AQ_TEST(node_rand_fork_child_does_not_share_pool) {
  uint8_t warm[8];
  REQUIRE(node_rand(warm, sizeof(warm), NULL) == 0); /* the pool now holds 248 unused bytes */
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    uint8_t c[32];
    int ok =
        node_rand(c, sizeof(c), NULL) == 0 && write(fds[1], c, sizeof(c)) == (ssize_t)sizeof(c);
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  uint8_t child[32], parent[32];
  ssize_t n = read(fds[0], child, sizeof(child));
  close(fds[0]);
  int st = 0;
  REQUIRE(waitpid(pid, &st, 0) == pid);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  REQUIRE(n == (ssize_t)sizeof(child));
  REQUIRE(node_rand(parent, sizeof(parent), NULL) == 0);
  CHECK(memcmp(child, parent, sizeof(child)) != 0);
}
