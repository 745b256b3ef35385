/*
 * aq_sim_quic.h - glue between the network simulator (aq_sim.h) and QUIC
 * endpoints (antquic.h) for tests: an aq_simq wraps one aq_ep on one
 * simulated host, with an Ed25519 raw-public-key identity, a small
 * application that sends a deterministic byte pattern on streams (with
 * back-pressure), checks everything it receives against that pattern, and
 * optionally echoes bidirectional stream data back (servers).
 *
 * Test code: allocates with malloc and aborts on failure.
 */
#ifndef AQ_SIM_QUIC_H
#define AQ_SIM_QUIC_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_sim.h"
#include "aq_test_cred.h"
#include "aq_tls.h"

/** One stream as the test application sees it. */
typedef struct aq_simq_stream {
  uint64_t id;
  int used;
  uint64_t to_send; /* bytes the app wants to send in total */
  uint64_t sent;    /* bytes accepted by aq_conn_stream_write */
  int fin;          /* send the FIN once everything is accepted */
  int fin_sent;
  uint64_t recvd; /* in-order bytes read */
  int fin_recvd;
  int reset_recvd;
  uint64_t reset_code;
  int bad; /* a received byte did not match the pattern */
} aq_simq_stream;

typedef struct aq_simq aq_simq;
struct aq_simq {
  aq_sim *sim;
  aq_sim_host *host;
  aq_ep *ep;
  aq_conn *conn; /* client: its connection; server: the latest accepted */
  aq_settings set;
  aq_callbacks cb;
  int is_server;
  int echo; /* echo bidi stream data back, FIN included */
  int hs_done;
  aq_tstamp hs_done_ts;
  int closed;
  aq_close_info close;
  uint8_t close_reason[256];
  aq_tstamp closed_ts;
  aq_simq_stream *st[4]; /* per stream type (id & 3), indexed by id >> 2 */
  size_t stcap[4];
  uint64_t total_recv;
  uint64_t fins_recv;
  uint64_t streams_opened_by_peer;
  uint64_t streams_closed;
  int io_err;          /* a library call failed unexpectedly */
  uint64_t read_chunk; /* bytes read per aq_conn_stream_read (default 4096) */
  int no_read;         /* do not read (tests flow control) */
  /* identity */
  aq_test_ed25519 id;
  uint8_t *cert; /* padded "certificate" for large-flight tests (NULL = none) */
  size_t certlen;
  void (*new_conn_hook)(aq_simq *q, aq_conn *conn); /* server: called from new_conn */
  void *hook_arg;
  const uint8_t *pin;  /* expected peer SPKI (NULL: accept any) */
  size_t pinlen;
  int verify_calls;
  uint16_t suites[3];
  uint16_t groups[3];
};

/** Default settings for tests (X25519, RPK); call before aq_simq_start to tweak q->set. */
void aq_simq_init(aq_simq *q, aq_sim *sim, aq_sim_host *host, int is_server, uint8_t seedbyte);
/** Create the endpoint and attach it to the host. */
void aq_simq_start(aq_simq *q);
/** Client: connect to server at the current simulated time. */
void aq_simq_connect(aq_simq *q, const aq_addr *server);
/** Open a stream that sends bytes (and the FIN if fin); NULL if the stream limit blocks. */
aq_simq_stream *aq_simq_open(aq_simq *q, int bidi, uint64_t bytes, int fin);
/** The record of stream id (created on demand). */
aq_simq_stream *aq_simq_stream_of(aq_simq *q, uint64_t id);
/** Push pending application data into the connection (called before every send). */
void aq_simq_pump(aq_simq *q);
/** Detach and free everything. */
void aq_simq_free(aq_simq *q);
/** The pattern byte at offset off of stream id. */
uint8_t aq_simq_pattern(uint64_t id, uint64_t off);

/** A client and a server on the internet, links with the same parameters both ways. */
typedef struct aq_simq_pair {
  aq_sim *sim;
  aq_sim_host *ch, *sh;
  aq_simq c, s;
  aq_addr caddr, saddr;
} aq_simq_pair;

/** Client 198.51.100.2:50000, server 192.0.2.1:443 (echoing); lp NULL = ideal links. */
void aq_simq_pair_init(aq_simq_pair *p, uint64_t seed, const aq_sim_link_params *lp);
/** Start both endpoints and connect (tweak p->c.set / p->s.set before). */
void aq_simq_pair_start(aq_simq_pair *p);
void aq_simq_pair_free(aq_simq_pair *p);
/** aq_sim_run predicate: both handshakes completed. */
int aq_simq_pair_hs_done(void *arg);

#endif /* AQ_SIM_QUIC_H */
