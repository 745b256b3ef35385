/* node_rand.c - kernel CSPRNG via getrandom(2), retrying short reads and EINTR. */
#include "node_rand.h"

#include <errno.h>
#include <sys/random.h>

#include "antquic.h"

int node_rand(uint8_t *buf, size_t len, void *user_data) {
  (void)user_data;
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
