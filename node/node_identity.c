/* node_identity.c - the identity key file on disk (format: docs/identity.md). */
#include "node_identity.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aq_ct.h"
#include "node_rand.h"

#define MAX_KEYFILE 4096

int node_identity_default_path(char *out, size_t cap) {
  const char *xdg = getenv("XDG_DATA_HOME");
  const char *home = getenv("HOME");
  int n;
  if (xdg && xdg[0] == '/') {
    n = snprintf(out, cap, "%s/ant-quic/identity.key", xdg);
  } else if (home && home[0] == '/') {
    n = snprintf(out, cap, "%s/.local/share/ant-quic/identity.key", home);
  } else {
    return -1;
  }
  return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

/* mkdir -p of the directory part of path, mode 0700 for new directories. */
static int make_parents(const char *path) {
  char tmp[4096];
  size_t n = strlen(path);
  if (n >= sizeof(tmp)) {
    return -1;
  }
  memcpy(tmp, path, n + 1);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') {
      continue;
    }
    *p = '\0';
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST) {
      return -1;
    }
    *p = '/';
  }
  return 0;
}

static int read_small_file(const char *path, char *buf, size_t cap, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  size_t n = 0;
  if (fd < 0) {
    return -1;
  }
  for (;;) {
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      close(fd);
      return -1;
    }
    if (r == 0) {
      break;
    }
    n += (size_t)r;
    if (n == cap) {
      close(fd);
      errno = EFBIG;
      return -1;
    }
  }
  close(fd);
  *len = n;
  return 0;
}

static int write_file_0600(const char *path, const char *data, size_t len) {
  char tmp[4200];
  int fd;
  size_t done = 0;
  if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
    errno = ENAMETOOLONG;
    return -1;
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return -1;
  }
  while (done < len) {
    ssize_t w = write(fd, data + done, len - done);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w < 0) {
      close(fd);
      unlink(tmp);
      return -1;
    }
    done += (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    unlink(tmp);
    return -1;
  }
  /* link() instead of rename(): never replace a file another process just created. */
  if (link(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    errno = e;
    return -1;
  }
  unlink(tmp);
  return 0;
}

int node_identity_load_or_create(aq_identity *id, const char *path, aq_identity_type type,
                                 int create, int *created, char *err, size_t errcap) {
  char text[MAX_KEYFILE];
  size_t len = 0;
  const char *why = NULL;
  int rv;

  *created = 0;
  if (read_small_file(path, text, sizeof(text), &len) == 0) {
    rv = aq_identity_decode_file(id, text, len, &why);
    aq_memzero(text, sizeof(text));
    if (rv != 0) {
      snprintf(err, errcap, "identity file %s: %s", path, why ? why : aq_strerror(rv));
    }
    return rv;
  }
  if (errno != ENOENT || !create) {
    snprintf(err, errcap, "identity file %s: %s", path, strerror(errno));
    return AQ_ERR_IO;
  }

  uint8_t seed[AQ_IDENTITY_SEED_LEN];
  if (node_rand(seed, sizeof(seed), NULL) != 0) {
    snprintf(err, errcap, "cannot read the kernel random source");
    return AQ_ERR_IO;
  }
  rv = aq_identity_from_seed(id, type, seed);
  aq_memzero(seed, sizeof(seed));
  if (rv != 0) {
    snprintf(err, errcap, "key generation failed: %s", aq_strerror(rv));
    return rv;
  }
  aq_ssize n = aq_identity_encode_file(text, sizeof(text), id);
  if (n < 0) {
    aq_identity_wipe(id);
    snprintf(err, errcap, "cannot encode identity: %s", aq_strerror((int)n));
    return (int)n;
  }
  if (make_parents(path) != 0 || write_file_0600(path, text, (size_t)n) != 0) {
    int e = errno;
    aq_memzero(text, sizeof(text));
    aq_identity_wipe(id);
    snprintf(err, errcap, "cannot write identity file %s: %s", path, strerror(e));
    return AQ_ERR_IO;
  }
  aq_memzero(text, sizeof(text));
  *created = 1;
  return 0;
}
