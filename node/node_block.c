/*
 * node_block.c - the blocking convenience API (see node_block.h): every
 * blocking call is "check the condition; if it does not hold yet, run the
 * loop until a callback stops it; check again", bounded by the timeout.
 */
#include "node_block.h"

#include <stdlib.h>
#include <string.h>

#include "aq_crypto.h"
#include "aq_ct.h"
#include "aq_tls.h"
#include "node_ep.h"
#include "node_loop.h"
#include "node_rand.h"

#define ACCEPT_RING 64 /* peer-opened streams waiting for node_bconn_accept_stream */

struct node_bconn {
  node_bep *ep;
  node_bconn *next;
  aq_conn *conn;       /* NULL once the core reported it closed */
  int hs_done;
  int closed;
  int accepted;        /* server: handed out by node_bconn_accept */
  aq_close_info close; /* valid once closed */
  uint8_t reason[256];
  uint64_t ring[ACCEPT_RING];
  size_t ring_head, ring_len;
};

struct node_bep {
  node_ep *e;
  int is_server;
  aq_duration timeout;
  aq_identity id; /* our key */
  uint8_t spki[2048];
  aq_tls_credential cred;
  uint8_t *pin;
  size_t pin_len;
  node_bconn *conns; /* every live handle */
  int running;       /* inside wait_for's node_ep_run */
};

/* --------------------------------------------------------- callbacks */

static node_bconn *bconn_of(aq_conn *conn) {
  return aq_conn_get_app_data(conn);
}

/*
 * Every event may satisfy the waiting call: stop the loop so it checks.
 * Events outside a run (from aq_conn_close, say) must not leave a stop
 * request behind: it would end the next run before its first iteration.
 */
static void wake(node_bep *ep) {
  if (ep->running) {
    node_ep_stop(ep->e);
  }
}

/* One loop iteration: receive, run timers, send what is queued (a CONNECTION_CLOSE, say). */
static void flush_once(node_bep *ep) {
  ep->running = 1;
  int rv = node_ep_run(ep->e, node_now()); /* AQ_ERR_TIMEOUT after one iteration */
  ep->running = 0;
  (void)rv;
}

static void cb_new_conn(aq_ep *aep, aq_conn *conn, void *ud) {
  node_bep *ep = ud;
  (void)aep;
  node_bconn *c = calloc(1, sizeof(*c));
  if (c == NULL) {
    aq_conn_close(conn, 0x1, NULL, 0, node_now()); /* no memory for the handle: refuse */
    return;
  }
  c->ep = ep;
  c->conn = conn;
  c->next = ep->conns;
  ep->conns = c;
  aq_conn_set_app_data(conn, c);
}

static void cb_hs(aq_conn *conn, void *ud) {
  node_bconn *c = bconn_of(conn);
  if (c != NULL) {
    c->hs_done = 1;
  }
  wake(ud);
}

static void cb_stream_open(aq_conn *conn, uint64_t sid, void *ud) {
  node_bconn *c = bconn_of(conn);
  if (c != NULL && c->ring_len < ACCEPT_RING) {
    c->ring[(c->ring_head + c->ring_len) % ACCEPT_RING] = sid;
    c->ring_len++;
  }
  wake(ud);
}

static void cb_stream_event(aq_conn *conn, uint64_t sid, void *ud) {
  (void)conn;
  (void)sid;
  wake(ud);
}

static void cb_stop_sending(aq_conn *conn, uint64_t sid, uint64_t code, void *ud) {
  (void)conn;
  (void)sid;
  (void)code;
  wake(ud);
}

static int cb_verify(aq_conn *conn, const uint8_t *spki, size_t spkilen, const uint8_t *cert,
                     size_t certlen, void *ud) {
  node_bep *ep = ud;
  (void)conn;
  (void)cert;
  (void)certlen;
  if (ep->pin == NULL) {
    return 0;
  }
  return spkilen == ep->pin_len && memcmp(spki, ep->pin, spkilen) == 0 ? 0 : -1;
}

static void cb_closed(aq_conn *conn, const aq_close_info *info, void *ud) {
  node_bep *ep = ud;
  node_bconn *c = bconn_of(conn);
  if (c != NULL) {
    c->closed = 1;
    c->close = *info;
    c->close.reasonlen = info->reasonlen < sizeof(c->reason) ? info->reasonlen : sizeof(c->reason);
    if (c->close.reasonlen > 0) {
      memcpy(c->reason, info->reason, c->close.reasonlen);
    }
    c->close.reason = c->reason;
    c->conn = NULL; /* the endpoint frees it later */
    aq_conn_set_app_data(conn, NULL);
  }
  wake(ep);
}

/* --------------------------------------------------------- waiting */

/* A condition: 1 = holds, 0 = not yet, negative = give up with that error. */
typedef int (*cond_fn)(void *arg);

static int wait_for(node_bep *ep, cond_fn cond, void *arg) {
  aq_tstamp deadline = node_now() + ep->timeout;
  for (;;) {
    int c = cond(arg);
    if (c != 0) {
      return c > 0 ? 0 : c;
    }
    if (node_now() >= deadline) {
      return AQ_ERR_TIMEOUT;
    }
    ep->running = 1;
    int rv = node_ep_run(ep->e, deadline);
    ep->running = 0;
    if (rv != 0 && rv != AQ_ERR_TIMEOUT) {
      return rv;
    }
  }
}

/* ------------------------------------------------------------- endpoint */

static aq_ssize bep_sign(void *ctx, uint16_t scheme, uint8_t *sig, size_t cap, const uint8_t *msg,
                         size_t len) {
  return aq_identity_sign(ctx, scheme, sig, cap, msg, len);
}

int node_bep_new(node_bep **out, const char *listen, int is_server, const node_block_opts *opts) {
  static const node_block_opts none;
  aq_addr la;
  aq_settings s;
  aq_callbacks cb;
  *out = NULL;
  if (opts == NULL) {
    opts = &none;
  }
  if (listen == NULL || aq_addr_parse(&la, listen, 0) != 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  node_bep *ep = calloc(1, sizeof(*ep));
  if (ep == NULL) {
    return AQ_ERR_NOMEM;
  }
  ep->is_server = is_server;
  ep->timeout = opts->timeout != 0 ? opts->timeout : 10 * AQ_SECONDS;
  int rv = 0;
  if (opts->identity != NULL) {
    ep->id = *opts->identity;
  } else {
    uint8_t seed[AQ_IDENTITY_SEED_LEN];
    rv = node_rand(seed, sizeof(seed), NULL) != 0 ? AQ_ERR_IO
                                                  : aq_identity_from_seed(&ep->id, AQ_IDENTITY_ED25519, seed);
    aq_memzero(seed, sizeof(seed));
  }
  aq_ssize n = rv == 0 ? aq_identity_spki(&ep->id, ep->spki, sizeof(ep->spki)) : rv;
  if (n < 0) {
    rv = (int)n;
    goto fail;
  }
  ep->cred.sig_scheme = aq_identity_sig_scheme(&ep->id);
  ep->cred.spki = ep->spki;
  ep->cred.spkilen = (size_t)n;
  ep->cred.sign = bep_sign;
  ep->cred.sign_ctx = &ep->id;
  if (opts->pin_spki != NULL) {
    ep->pin = malloc(opts->pin_len > 0 ? opts->pin_len : 1);
    if (ep->pin == NULL) {
      rv = AQ_ERR_NOMEM;
      goto fail;
    }
    memcpy(ep->pin, opts->pin_spki, opts->pin_len);
    ep->pin_len = opts->pin_len;
  }
  if (opts->settings != NULL) {
    s = *opts->settings;
  } else {
    aq_settings_default(&s);
  }
  if (s.cred == NULL && (is_server || opts->identity != NULL)) {
    s.cred = &ep->cred;
  }
  memset(&cb, 0, sizeof(cb));
  cb.new_conn = cb_new_conn;
  cb.handshake_completed = cb_hs;
  cb.stream_open = cb_stream_open;
  cb.stream_data = cb_stream_event;
  cb.stream_writable = cb_stream_event;
  cb.stream_close = cb_stream_event;
  cb.stream_stop_sending = cb_stop_sending;
  cb.verify_peer = cb_verify;
  cb.conn_closed = cb_closed;
  rv = node_ep_new(&ep->e, &la, 1, &s, &cb, ep, is_server);
  if (rv != 0) {
    goto fail;
  }
  *out = ep;
  return 0;
fail:
  aq_identity_wipe(&ep->id);
  free(ep->pin);
  free(ep);
  return rv;
}

int node_bep_local_addr(const node_bep *ep, aq_addr *out) {
  return node_ep_local_addr(ep->e, 0, out);
}

void node_bep_del(node_bep *ep) {
  if (ep == NULL) {
    return;
  }
  int any = 0;
  for (node_bconn *c = ep->conns; c != NULL; c = c->next) {
    if (c->conn != NULL) {
      static const char why[] = "endpoint closed";
      aq_conn_close(c->conn, 0, (const uint8_t *)why, sizeof(why) - 1, node_now());
      any = 1;
    }
  }
  if (any) {
    flush_once(ep); /* the CONNECTION_CLOSE frames go out */
  }
  node_ep_del(ep->e); /* frees every aq_conn, no callbacks */
  for (node_bconn *c = ep->conns, *next; c != NULL; c = next) {
    next = c->next;
    free(c);
  }
  aq_identity_wipe(&ep->id);
  free(ep->pin);
  free(ep);
}

/* ------------------------------------------------------------- connections */

static void unlink_bconn(node_bconn *c) {
  for (node_bconn **pp = &c->ep->conns; *pp != NULL; pp = &(*pp)->next) {
    if (*pp == c) {
      *pp = c->next;
      return;
    }
  }
}

static int cond_connected(void *arg) {
  node_bconn *c = arg;
  if (c->hs_done && c->conn != NULL) {
    return 1;
  }
  return c->closed ? AQ_ERR_CLOSED : 0;
}

int node_bconn_connect(node_bep *ep, const aq_addr *remote, node_bconn **out) {
  *out = NULL;
  node_bconn *c = calloc(1, sizeof(*c));
  if (c == NULL) {
    return AQ_ERR_NOMEM;
  }
  int rv = node_ep_connect(ep->e, remote, &c->conn);
  if (rv != 0) {
    free(c);
    return rv;
  }
  c->ep = ep;
  c->next = ep->conns;
  ep->conns = c;
  aq_conn_set_app_data(c->conn, c);
  rv = wait_for(ep, cond_connected, c);
  if (rv != 0) {
    node_bconn_close(c, 0, "connect failed");
    return rv;
  }
  *out = c;
  return 0;
}

static int cond_accept(void *arg) {
  node_bep *ep = arg;
  for (node_bconn *c = ep->conns; c != NULL; c = c->next) {
    if (!c->accepted && c->hs_done && c->conn != NULL) {
      return 1;
    }
  }
  return 0;
}

int node_bconn_accept(node_bep *ep, node_bconn **out) {
  *out = NULL;
  if (!ep->is_server) {
    return AQ_ERR_STATE;
  }
  /* Handles of connections that died before being accepted are freed here. */
  for (node_bconn **pp = &ep->conns; *pp != NULL;) {
    node_bconn *c = *pp;
    if (!c->accepted && c->closed) {
      *pp = c->next;
      free(c);
    } else {
      pp = &c->next;
    }
  }
  int rv = wait_for(ep, cond_accept, ep);
  if (rv != 0) {
    return rv;
  }
  node_bconn *found = NULL;
  for (node_bconn *c = ep->conns; c != NULL; c = c->next) {
    if (!c->accepted && c->hs_done && c->conn != NULL) {
      found = c; /* the list is newest first: keep going to take the oldest */
    }
  }
  found->accepted = 1;
  *out = found;
  return 0;
}

typedef struct {
  node_bconn *c;
  int bidi;
  uint64_t *sid;
} open_arg;

static int cond_open(void *arg) {
  open_arg *a = arg;
  if (a->c->conn == NULL) {
    return AQ_ERR_CLOSED;
  }
  int rv = aq_conn_open_stream(a->c->conn, a->bidi, a->sid);
  return rv == 0 ? 1 : rv == AQ_ERR_LIMIT ? 0 : rv;
}

int node_bconn_open_stream(node_bconn *c, int bidi, uint64_t *sid) {
  open_arg a = {c, bidi, sid};
  return wait_for(c->ep, cond_open, &a);
}

static int cond_stream(void *arg) {
  node_bconn *c = arg;
  if (c->ring_len > 0) {
    return 1;
  }
  return c->conn == NULL ? AQ_ERR_CLOSED : 0;
}

int node_bconn_accept_stream(node_bconn *c, uint64_t *sid) {
  int rv = wait_for(c->ep, cond_stream, c);
  if (rv != 0) {
    return rv;
  }
  *sid = c->ring[c->ring_head];
  c->ring_head = (c->ring_head + 1) % ACCEPT_RING;
  c->ring_len--;
  return 0;
}

typedef struct {
  node_bconn *c;
  uint64_t sid;
  const uint8_t *p;
  size_t left;
  int fin;
} write_arg;

static int cond_write(void *arg) {
  write_arg *a = arg;
  if (a->c->conn == NULL) {
    return AQ_ERR_CLOSED;
  }
  aq_ssize n = aq_conn_stream_write(a->c->conn, a->sid, a->p, a->left, a->fin);
  if (n < 0) {
    return (int)n;
  }
  a->p += n;
  a->left -= (size_t)n;
  return a->left == 0 ? 1 : 0;
}

aq_ssize node_bconn_write(node_bconn *c, uint64_t sid, const void *data, size_t len, int fin) {
  write_arg a = {c, sid, data, len, fin};
  if (len > (size_t)INT64_MAX || (data == NULL && len > 0)) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  int rv = wait_for(c->ep, cond_write, &a);
  return rv != 0 ? rv : (aq_ssize)len;
}

typedef struct {
  node_bconn *c;
  uint64_t sid;
  uint8_t *buf;
  size_t cap;
  int *fin;
  aq_ssize got;
} read_arg;

static int cond_read(void *arg) {
  read_arg *a = arg;
  if (a->c->conn == NULL) {
    return AQ_ERR_CLOSED;
  }
  a->got = aq_conn_stream_read(a->c->conn, a->sid, a->buf, a->cap, a->fin);
  if (a->got < 0) {
    return (int)a->got;
  }
  return a->got > 0 || *a->fin ? 1 : 0;
}

aq_ssize node_bconn_read(node_bconn *c, uint64_t sid, void *buf, size_t cap, int *fin) {
  read_arg a = {c, sid, buf, cap, fin, 0};
  *fin = 0;
  if (buf == NULL || cap == 0) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  int rv = wait_for(c->ep, cond_read, &a);
  return rv != 0 ? rv : a.got;
}

static int cond_closed(void *arg) {
  return ((node_bconn *)arg)->closed ? 1 : 0;
}

int node_bconn_wait_closed(node_bconn *c) {
  return wait_for(c->ep, cond_closed, c);
}

void node_bconn_close(node_bconn *c, uint64_t app_error, const char *reason) {
  if (c == NULL) {
    return;
  }
  if (c->conn != NULL) {
    aq_conn_close(c->conn, app_error, (const uint8_t *)reason, reason ? strlen(reason) : 0,
                  node_now());
    flush_once(c->ep); /* the CONNECTION_CLOSE goes out; the endpoint finishes the closing period */
  }
  if (c->conn != NULL) {
    aq_conn_set_app_data(c->conn, NULL);
  }
  unlink_bconn(c);
  free(c);
}

aq_conn *node_bconn_conn(node_bconn *c) {
  return c->conn;
}

const aq_close_info *node_bconn_close_info(const node_bconn *c) {
  return c->closed ? &c->close : NULL;
}
