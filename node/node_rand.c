/*
 * node_rand.c - the kernel CSPRNG via getrandom(2), retrying short reads and
 * EINTR.
 *
 * Small requests (connection IDs, nonces, key seeds: 8-32 bytes, several
 * per handshake) are served from a per-thread pool of 256 bytes filled by
 * one getrandom call, so a handshake no longer makes about eight system
 * calls for them.  The bytes are the kernel's, handed out once and wiped as
 * they go.  A fork() child starts with an empty pool (pthread_atfork), so
 * parent and child never share randomness.
 */
#include "node_rand.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>

#include "antquic.h"

/* Requests up to this size come from the pool; larger ones go to the kernel directly. */
#define POOL_MAX_REQ 64
#define POOL_SIZE 256

typedef struct rand_pool {
  uint8_t buf[POOL_SIZE];
  size_t pos; /* the next unused byte; POOL_SIZE = empty */
} rand_pool;

static _Thread_local rand_pool pool = {.pos = POOL_SIZE};
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* In a fork child (only the forking thread exists there): drop the inherited bytes. */
static void pool_drop_in_child(void) {
  volatile uint8_t *p = pool.buf;
  for (size_t i = 0; i < POOL_SIZE; i++) {
    p[i] = 0;
  }
  pool.pos = POOL_SIZE;
}

static void register_atfork(void) {
  (void)pthread_atfork(NULL, NULL, pool_drop_in_child);
}

/* len bytes straight from the kernel; 0 or AQ_ERR_IO. */
static int kernel_rand(uint8_t *buf, size_t len) {
  size_t done = 0;
  int tries = 0;
  while (done < len) {
    ssize_t n = getrandom(buf + done, len - done, 0);
    if (n < 0) {
      if (errno == EINTR && ++tries < 100) {
        continue;
      }
      return AQ_ERR_IO;
    }
    done += (size_t)n;
  }
  return 0;
}

int node_rand(uint8_t *buf, size_t len, void *user_data) {
  (void)user_data;
  if (len > POOL_MAX_REQ) {
    return kernel_rand(buf, len);
  }
  (void)pthread_once(&atfork_once, register_atfork);
  if (POOL_SIZE - pool.pos < len) {
    if (kernel_rand(pool.buf, POOL_SIZE) != 0) {
      return AQ_ERR_IO;
    }
    pool.pos = 0;
  }
  memcpy(buf, pool.buf + pool.pos, len);
  volatile uint8_t *used = pool.buf + pool.pos; /* never handed out twice, nor left behind */
  for (size_t i = 0; i < len; i++) {
    used[i] = 0;
  }
  pool.pos += len;
  return 0;
}
