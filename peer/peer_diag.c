/*
 * peer_diag.c - ant-quic-peer diagnostics from the environment, like
 * quinn-peer and other interop peers:
 *   SSLKEYLOGFILE=path  append one NSS key log line per TLS secret (the
 *                       library's aq_callbacks.keylog) to that file
 *   QLOGDIR=dir         one qlog JSON-SEQ trace per connection (settings.qlog
 *                       + aq_callbacks.qlog) in dir/<odcid hex>_<client|server>.sqlog
 *                       (conn<N>_... if a connection has no original DCID)
 * One process-wide state: the peer is a single-threaded tool.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "peer.h"

typedef struct diag_file {
  struct diag_file *next;
  const aq_conn *conn;
  FILE *f;
} diag_file;

static struct {
  FILE *keylog;
  const char *qlogdir;
  diag_file *files;
  uint64_t counter; /* connections traced (names without an odcid) */
  int warned;
} g_diag;

/* The open trace file of conn, if any. */
static diag_file *file_of(const aq_conn *conn) {
  for (diag_file *d = g_diag.files; d != NULL; d = d->next) {
    if (d->conn == conn) {
      return d;
    }
  }
  return NULL;
}

/* Open the trace file of a connection at its first record; NULL (warned once) on failure. */
static diag_file *file_open(aq_conn *conn) {
  char name[64];
  uint8_t od[20];
  aq_ssize n = aq_conn_get_odcid(conn, od, sizeof(od));
  const char *role = aq_conn_is_server(conn) ? "server" : "client";
  g_diag.counter++;
  if (n > 0) {
    char hex[41];
    for (aq_ssize i = 0; i < n; i++) {
      snprintf(hex + 2 * i, 3, "%02x", od[i]);
    }
    snprintf(name, sizeof(name), "%s_%s.sqlog", hex, role);
  } else {
    snprintf(name, sizeof(name), "conn%llu_%s.sqlog", (unsigned long long)g_diag.counter, role);
  }
  size_t plen = strlen(g_diag.qlogdir) + 1 + strlen(name) + 1;
  char *path = malloc(plen);
  diag_file *d = calloc(1, sizeof(*d));
  if (path == NULL || d == NULL) {
    free(path);
    free(d);
    return NULL;
  }
  snprintf(path, plen, "%s/%s", g_diag.qlogdir, name);
  /* Append: a record after the connection's conn_closed (none expected) cannot wipe the file. */
  d->f = fopen(path, "ab");
  if (d->f == NULL) {
    if (!g_diag.warned) {
      fprintf(stderr, "warning: QLOGDIR: cannot create %s: %s\n", path, strerror(errno));
      g_diag.warned = 1;
    }
    free(path);
    free(d);
    return NULL;
  }
  free(path);
  d->conn = conn;
  d->next = g_diag.files;
  g_diag.files = d;
  return d;
}

static void cb_keylog(aq_conn *conn, const char *line, void *ud) {
  (void)conn, (void)ud;
  if (g_diag.keylog != NULL) {
    fprintf(g_diag.keylog, "%s\n", line);
    fflush(g_diag.keylog); /* usable by a capture tool while we run */
  }
}

static void cb_qlog(aq_conn *conn, const uint8_t *data, size_t len, void *ud) {
  (void)ud;
  diag_file *d = file_of(conn);
  if (d == NULL) {
    d = file_open(conn);
  }
  if (d != NULL && fwrite(data, 1, len, d->f) != len && !g_diag.warned) {
    fprintf(stderr, "warning: QLOGDIR: write failed: %s\n", strerror(errno));
    g_diag.warned = 1;
  }
}

int peer_diag_init(void) {
  memset(&g_diag, 0, sizeof(g_diag));
  const char *kl = getenv("SSLKEYLOGFILE");
  if (kl != NULL && kl[0] != '\0') {
    /* It holds secrets: a new file is private to us (0600). */
    int fd = open(kl, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    g_diag.keylog = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (g_diag.keylog == NULL) {
      if (fd >= 0) {
        close(fd);
      }
      fprintf(stderr, "error: SSLKEYLOGFILE: cannot open %s: %s\n", kl, strerror(errno));
      return -1;
    }
  }
  const char *qd = getenv("QLOGDIR");
  if (qd != NULL && qd[0] != '\0') {
    if (mkdir(qd, 0755) != 0 && errno != EEXIST) {
      fprintf(stderr, "error: QLOGDIR: cannot create %s: %s\n", qd, strerror(errno));
      peer_diag_free();
      return -1;
    }
    g_diag.qlogdir = qd;
  }
  return 0;
}

void peer_diag_settings(aq_settings *s, aq_callbacks *cb) {
  if (g_diag.keylog != NULL) {
    cb->keylog = cb_keylog;
  }
  if (g_diag.qlogdir != NULL) {
    s->qlog = 1;
    cb->qlog = cb_qlog;
  }
}

void peer_diag_conn_closed(const aq_conn *conn) {
  for (diag_file **pp = &g_diag.files; *pp != NULL; pp = &(*pp)->next) {
    if ((*pp)->conn == conn) {
      diag_file *d = *pp;
      *pp = d->next;
      fclose(d->f);
      free(d);
      return;
    }
  }
}

void peer_diag_free(void) {
  while (g_diag.files != NULL) {
    diag_file *d = g_diag.files;
    g_diag.files = d->next;
    fclose(d->f);
    free(d);
  }
  if (g_diag.keylog != NULL) {
    fclose(g_diag.keylog);
    g_diag.keylog = NULL;
  }
  g_diag.qlogdir = NULL;
}

const char *peer_ecn_state_name(int state) {
  switch (state) {
  case AQ_ECN_STATE_TESTING: return "testing";
  case AQ_ECN_STATE_UNKNOWN: return "unknown";
  case AQ_ECN_STATE_CAPABLE: return "capable";
  case AQ_ECN_STATE_FAILED: return "failed";
  default: return "?";
  }
}
