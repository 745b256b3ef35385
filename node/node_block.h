/*
 * node_block.h - a blocking convenience API over the event-driven core, for
 * simple programs: connect (or listen and accept), open or accept streams,
 * write, read, close; each call returns when its work is done, a timeout
 * passes or the connection ends.
 *
 *   node_bep *ep;  node_bconn *c;  uint64_t sid;  int fin;
 *   node_bep_new(&ep, "0.0.0.0:0", 0, NULL);
 *   node_bconn_connect(ep, &server, &c);
 *   node_bconn_open_stream(c, 1, &sid);
 *   node_bconn_write(c, sid, "hello", 5, 1);
 *   n = node_bconn_read(c, sid, buf, sizeof(buf), &fin);
 *   node_bconn_close(c, 0, "bye");  node_bep_del(ep);
 *
 * How it works: one node_ep (UDP sockets + event loop + aq_ep) per node_bep.
 * A blocking call checks its condition with the core's non-blocking calls
 * and, while it does not hold, runs the event loop; every callback of the
 * core stops the loop so the condition is checked again.  So the network
 * only makes progress while some blocking call is running: a program that
 * computes for a long time between calls should not expect ACKs or
 * keep-alives meanwhile (use the event API of node_ep.h for that).  All
 * connections of one node_bep progress during any of its blocking calls.
 *
 * Closing: node_bconn_close discards data not yet sent (RFC 9000 close
 * semantics).  To be sure the peer got everything, wait for its answer (read
 * to its FIN) or for its close (node_bconn_wait_closed) before closing.
 *
 * Not thread-safe: one thread uses a node_bep and its connections.
 */
#ifndef NODE_BLOCK_H
#define NODE_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_identity.h"

typedef struct node_bep node_bep;
typedef struct node_bconn node_bconn;

/** Options of node_bep_new (NULL or zero fields = defaults). */
typedef struct node_block_opts {
  const aq_settings *settings; /* base settings (NULL: aq_settings_default); ALPN, suites, ... */
  const aq_identity *identity; /* our key; NULL: a fresh Ed25519 key (servers always have one) */
  const uint8_t *pin_spki;     /* accept only a peer with this SubjectPublicKeyInfo (NULL: any) */
  size_t pin_len;
  aq_duration timeout;         /* limit of each blocking call; 0 = 10 s */
} node_block_opts;

/**
 * Bind a UDP socket on listen ("IP:port", port 0 = any free one; "[::]:0"
 * is dual-stack where the OS allows) and create the endpoint; is_server
 * accepts connections.  Returns 0, AQ_ERR_INVALID_ARGUMENT (bad address),
 * AQ_ERR_IO (bind failed), AQ_ERR_NOMEM.
 */
AQ_MUST_CHECK int node_bep_new(node_bep **out, const char *listen, int is_server,
                               const node_block_opts *opts);
/** Close every connection (immediately, no waiting), then free everything.  NULL is fine. */
void node_bep_del(node_bep *ep);
/** The bound address (port resolved). */
AQ_MUST_CHECK int node_bep_local_addr(const node_bep *ep, aq_addr *out);

/**
 * Connect to remote and block until the handshake is complete.  Errors:
 * AQ_ERR_TIMEOUT, AQ_ERR_CLOSED (the handshake failed; node_bconn_error
 * is not available since no handle is returned), errors of node_ep_connect.
 */
AQ_MUST_CHECK int node_bconn_connect(node_bep *ep, const aq_addr *remote, node_bconn **out);
/** Server: block until a client's handshake completes; AQ_ERR_TIMEOUT otherwise. */
AQ_MUST_CHECK int node_bconn_accept(node_bep *ep, node_bconn **out);

/** Open a stream (bidi != 0: bidirectional), waiting while the peer's stream limit is reached. */
AQ_MUST_CHECK int node_bconn_open_stream(node_bconn *c, int bidi, uint64_t *sid);
/** Block until the peer opens a stream; its id in *sid. */
AQ_MUST_CHECK int node_bconn_accept_stream(node_bconn *c, uint64_t *sid);

/**
 * Queue all len bytes (and the FIN if fin), waiting for send-buffer space
 * as needed.  Returns len, or an error (AQ_ERR_TIMEOUT: some bytes may have
 * been queued; AQ_ERR_CLOSED; the core's stream errors).
 */
AQ_MUST_CHECK aq_ssize node_bconn_write(node_bconn *c, uint64_t sid, const void *data, size_t len,
                                        int fin);
/**
 * Block until at least one byte or the end of the stream is available, then
 * read up to cap bytes.  Returns the count (0 only with *fin = 1), or an
 * error: AQ_ERR_CLOSED (the peer reset the stream, or the connection
 * closed), AQ_ERR_TIMEOUT.
 */
AQ_MUST_CHECK aq_ssize node_bconn_read(node_bconn *c, uint64_t sid, void *buf, size_t cap,
                                       int *fin);
/** Block until the connection is closed (by the peer, an error or the idle timeout). */
AQ_MUST_CHECK int node_bconn_wait_closed(node_bconn *c);
/**
 * Close with an application error code and reason (may be NULL), wait
 * (bounded) until the CONNECTION_CLOSE went out, and free the handle.
 */
void node_bconn_close(node_bconn *c, uint64_t app_error, const char *reason);

/** The underlying connection (NULL once closed): stats, peer key, ... (no callbacks to override). */
aq_conn *node_bconn_conn(node_bconn *c);
/** Why the connection closed (valid once it did; reason bytes are copied, up to 256). */
const aq_close_info *node_bconn_close_info(const node_bconn *c);

#endif /* NODE_BLOCK_H */
