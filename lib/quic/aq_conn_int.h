/*
 * aq_conn_int.h - internal state of a QUIC connection, shared by
 * aq_conn.c (driver: keys, packets, timers, close), aq_conn_tx.c (packet
 * building), aq_strm.c (streams and flow control) and aq_ep.c (endpoint).
 * Nothing here is public; applications see only antquic.h.
 */
#ifndef AQ_CONN_INT_H
#define AQ_CONN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "antquic.h"
#include "aq_conn.h"
#include "quic/aq_acktr.h"
#include "quic/aq_cc.h"
#include "quic/aq_conn_0rtt.h"
#include "quic/aq_fc.h"
#include "quic/aq_conn_mig.h"
#include "quic/aq_conn_ver.h"
#include "quic/aq_frame.h"
#include "quic/aq_pkt.h"
#include "quic/aq_pprot.h"
#include "quic/aq_ranges.h"
#include "quic/aq_rtb.h"
#include "quic/aq_strm_buf.h"
#include "quic/aq_tp.h"
#include "tls/aq_tls.h"

/* ------------------------------------------------------------ limits */

/** Largest datagram we accept and build (bytes of UDP payload). */
#define AQ_CONN_MAX_DGRAM 1500u
/** Longest transport parameters we send (extensions included). */
#define AQ_CONN_TP_MAX 8192u
/** Receive window of one epoch's CRYPTO stream (RFC 9000 §7.5: at least 4096). */
#define AQ_CRYPTO_RX_CAP 65536u
/** Lost / acknowledged ranges tracked per send buffer. */
#define AQ_TX_RANGES 32
/** Retransmittable records kept per sent packet. */
#define AQ_SENT_MAX_FRAMES 8
/** Sent-packet ring capacities per space. */
#define AQ_CONN_RTB_CAP_INITIAL 64u
#define AQ_CONN_RTB_CAP_HANDSHAKE 64u
#define AQ_CONN_RTB_CAP_APP 2048u
/** Sent-packet records allocated at creation; the pool doubles up to the ring total. */
#define AQ_CONN_META_INITIAL 128u
#define AQ_CONN_META_MAX (AQ_CONN_RTB_CAP_INITIAL + AQ_CONN_RTB_CAP_HANDSHAKE + AQ_CONN_RTB_CAP_APP)
/** Longest reason phrase kept for CONNECTION_CLOSE. */
#define AQ_CLOSE_REASON_MAX 256u
/** Peer connection IDs kept (NEW_CONNECTION_ID); our active_connection_id_limit. */
#define AQ_MAX_PEER_CIDS 4
/** Longest Retry token a client keeps (RFC 9000 §17.2.5). */
#define AQ_RETRY_TOKEN_MAX 512u
/** Connection IDs we issue (sequence 0 included). */
#define AQ_MAX_LOCAL_CIDS 4
/** Hash buckets of the stream table. */
#define AQ_STRM_BUCKETS 256u
/** Extensions registrable per connection. */
#define AQ_CONN_MAX_EXT 4

/* ----------------------------------------------------- byte buffers */

/**
 * Send buffer: bytes [base, end) are kept in a ring of cap bytes until
 * acknowledged; next is the first never-sent byte; lost holds ranges to
 * resend (over-approximating is harmless), acked ranges above base.
 */
typedef struct aq_txbuf {
  uint8_t *buf;
  size_t cap;
  uint64_t base, end, next;
  aq_range lost_st[AQ_TX_RANGES];
  aq_ranges lost;
  aq_range acked_st[AQ_TX_RANGES];
  aq_ranges acked;
} aq_txbuf;

/* ----------------------------------------------------- sent packets */

enum {
  AQ_SF_STREAM = 1,
  AQ_SF_CRYPTO = 2,
  AQ_SF_MAX_STREAM_DATA = 3,
  AQ_SF_RESET_STREAM = 4,
  AQ_SF_STOP_SENDING = 5,
  AQ_SF_STREAM_DATA_BLOCKED = 6,
  AQ_SF_NEW_CID = 7,
  AQ_SF_EXT = 8 /* an extension's record: id = extension index, off = its token */
};

/* Per-packet flags for frames that carry "the current value" (resent as such when lost). */
#define AQ_SM_ACK 0x001u
#define AQ_SM_MAX_DATA 0x002u
#define AQ_SM_MAX_STREAMS_BIDI 0x004u
#define AQ_SM_MAX_STREAMS_UNI 0x008u
#define AQ_SM_HANDSHAKE_DONE 0x010u
#define AQ_SM_DATA_BLOCKED 0x020u
#define AQ_SM_STREAMS_BLOCKED_BIDI 0x040u
#define AQ_SM_STREAMS_BLOCKED_UNI 0x080u
#define AQ_SM_RETIRE_CID 0x100u
#define AQ_SM_PATH_CHALLENGE 0x200u
/* Bits 24..31 of aq_sent_meta.flags: DATAGRAM frames in the packet (aq_conn_dgram.c). */
#define AQ_SM_DGRAM_SHIFT 24u
#define AQ_SM_NEW_TOKEN 0x8000u /* aq_conn_0rtt.c */

/** One retransmittable item of a sent packet. */
typedef struct aq_sent_frame {
  uint8_t kind; /* AQ_SF_* */
  uint8_t fin;
  uint32_t len;
  uint64_t id; /* stream id, or epoch space for CRYPTO */
  uint64_t off;
} aq_sent_frame;

/** What one sent packet carried (token of its aq_recov record = index in the pool). */
typedef struct aq_sent_meta {
  uint32_t flags; /* AQ_SM_* */
  uint32_t next_free;
  uint64_t ack_largest;
  uint8_t nframes;
  uint8_t in_use;
  aq_sent_frame f[AQ_SENT_MAX_FRAMES];
} aq_sent_meta;

/* --------------------------------------------------------- streams */

typedef struct aq_strm aq_strm;
struct aq_strm {
  uint64_t id;
  aq_strm *hnext;         /* hash chain */
  aq_strm *anext, *aprev; /* list of all streams (conn->strm_all) */
  aq_strm *qnext, *qprev; /* send round-robin ring (when queued) */
  int queued;
  /* send part */
  int has_send;
  aq_txbuf tx;
  uint64_t tx_max; /* peer's MAX_STREAM_DATA */
  int fin_queued, fin_sent, fin_lost, fin_acked;
  int reset_pending, reset_sent, reset_acked;
  uint64_t reset_code;
  int blocked_pending; /* STREAM_DATA_BLOCKED to send */
  uint64_t blocked_at; /* tx_max + 1 when the last one was sent (0 = never) */
  int want_writable;   /* a write was cut short: signal stream_writable */
  /* receive part */
  int has_recv;
  aq_strm_rbuf rx; /* reassembly; rx.final_size = final size (UINT64_MAX if unknown) */
  aq_fc_recv rfc;  /* our MAX_STREAM_DATA, auto-tuned window */
  int rx_fin_read;     /* the application saw the end */
  int rx_reset;
  uint64_t rx_reset_code;
  int msd_pending; /* MAX_STREAM_DATA to send */
  int stop_pending, stop_sent;
  uint64_t stop_code;
  int closed_notified;
};

/* --------------------------------------------------------- extensions */

/**
 * An extension module (address discovery, NAT traversal) hooked into a
 * connection without editing aq_conn.c: it claims frame types, a transport
 * parameter, and may add frames to 1-RTT packets.
 */
typedef struct aq_conn_ext_ops {
  const char *name;
  const uint64_t *frame_types; /* frame types handed to on_frame */
  size_t nframe_types;
  uint64_t tp_id; /* transport parameter to send/receive; 0 = none */
  /** A frame of a claimed type arrived on path index path_idx; 0 or AQ_ERR_PROTO etc. */
  int (*on_frame)(void *ctx, aq_conn *conn, const aq_frame *f, unsigned path_idx, aq_tstamp ts);
  /**
   * The peer's value of tp_id (value = NULL if it did not send it); value is
   * valid only during the call.  Called once, when the peer's transport
   * parameters arrive; non-zero closes with TRANSPORT_PARAMETER_ERROR.
   * Works for ids the codec knows itself (address discovery, NAT traversal).
   */
  int (*on_peer_tp)(void *ctx, aq_conn *conn, const uint8_t *value, size_t len);
  /** Append frames to a 1-RTT packet (w bounded); the module retransmits its own state. */
  int (*write_frames)(void *ctx, aq_conn *conn, unsigned path_idx, aq_wbuf *w, aq_tstamp ts);
  /* Optional hooks (NULL = unused), added for address discovery: */
  /** Non-zero if the module has a frame to send on path path_idx now (keeps the sender awake). */
  int (*has_pending)(void *ctx, const aq_conn *conn, unsigned path_idx);
  /** The module's next timer (e.g. a rate limiter refill), or AQ_TSTAMP_NEVER. */
  aq_tstamp (*get_expiry)(void *ctx, const aq_conn *conn);
  /** Run the module's timers due at ts. */
  void (*handle_expiry)(void *ctx, aq_conn *conn, aq_tstamp ts);
  /** The packet carrying a record made with aq_conn_ext_track(token) was acked (1) or lost (0). */
  void (*on_frame_fate)(void *ctx, aq_conn *conn, uint64_t token, int acked);
  /** Path slot path_idx now holds a new (local, remote) pair: a new path, or an address change. */
  void (*on_path)(void *ctx, aq_conn *conn, unsigned path_idx);
  /** The connection is being freed (no callbacks may run): release ctx. */
  void (*on_del)(void *ctx, aq_conn *conn);
} aq_conn_ext_ops;

typedef struct aq_conn_ext {
  const aq_conn_ext_ops *ops;
  void *ctx;
  const uint8_t *tp_value;
  size_t tp_len;
} aq_conn_ext;

/* --------------------------------------------------------- paths */

typedef struct aq_conn_path {
  aq_path addr;
  int in_use;
  int validated;
  int challenge_pending;     /* PATH_CHALLENGE to send */
  int challenge_outstanding; /* sent, PATH_RESPONSE not yet seen */
  uint8_t challenge[AQ_PATH_DATA_LEN];
  uint64_t amp_recv, amp_sent; /* §8.1/§9.3: 3x limit until validated */
  int response_pending;        /* PATH_RESPONSE to send */
  uint8_t response[AQ_PATH_DATA_LEN];
} aq_conn_path;

/* --------------------------------------------------------- key update */

/** Key generations with their own packet counters (later ones share the last). */
#define AQ_KU_GEN_TRACK 16

/** 1-RTT key update state (RFC 9001 §6; aq_conn_ku.c). */
typedef struct aq_conn_ku {
  aq_aead prev_aead, next_aead; /* previous / next read keys (header protection is shared) */
  uint8_t prev_iv[AQ_AEAD_NONCE_LEN], next_iv[AQ_AEAD_NONCE_LEN];
  int has_prev, has_next;
  aq_tstamp prev_discard; /* previous keys go at this time; 0 = not yet armed */
  uint64_t rx_lowest_p1;  /* 1 + lowest packet number opened with the current keys; 0 = none */
  uint64_t tx_first_p1;   /* 1 + first packet number sealed with the current keys; 0 = none */
  int peer_may_update;    /* we acknowledged, in this phase, a packet of this phase */
  int local;              /* this phase was initiated by us */
  uint64_t conf_limit;      /* packets per key; 0 = RFC 9001 §6.6 value (tests lower it) */
  uint64_t integrity_limit; /* failed packets per connection; 0 = §6.6 value */
  uint64_t initiated, auto_updates; /* updates we started (on command + automatic), automatic */
  uint64_t rx_prev;                 /* packets opened with the previous keys (reordered) */
  uint64_t gen_tx[AQ_KU_GEN_TRACK], gen_rx[AQ_KU_GEN_TRACK]; /* packets per key generation */
} aq_conn_ku;

/* --------------------------------------------------------- ECN */

/** ECN state of a connection (RFC 9000 §13.4; aq_conn_ecn.c). */
typedef struct aq_conn_ecn {
  unsigned rx;       /* codepoint of the datagram being read */
  unsigned tx;       /* codepoint of the datagram being built */
  int can_mark;      /* the writer can set the codepoint (aq_conn_write_pkt_ecn) */
  int state;         /* AQ_ECN_STATE_* */
  unsigned test_sent, test_lost; /* ECT(0) datagrams while testing, and those lost */
  uint64_t path_base;            /* peer ECT(0)+CE counts when the current path started */
} aq_conn_ecn;

/* --------------------------------------------------------- connection */

typedef enum aq_conn_state {
  AQ_CS_HANDSHAKE = 0,
  AQ_CS_ESTABLISHED = 1,
  AQ_CS_CLOSING = 2,
  AQ_CS_DRAINING = 3,
  AQ_CS_CLOSED = 4
} aq_conn_state;

/** One packet number space's keys, CRYPTO streams and ACK state. */
typedef struct aq_pnspace {
  aq_pprot rx, tx;
  int has_rx, has_tx;
  int discarded;
  aq_acktr acktr;
  aq_txbuf ctx;    /* CRYPTO to send (cap grows: whole handshake flight) */
  aq_strm_rbuf crx; /* CRYPTO received */
  unsigned probes; /* PTO probes owed */
  int ping_pending;
} aq_pnspace;

struct aq_conn {
  const aq_mem *mem;
  aq_settings set;
  aq_callbacks cb;
  void *user_data;
  void *app_data;
  aq_ep *ep;
  int is_server;
  int err; /* sticky fatal error */
  aq_conn_state state;
  uint32_t version;

  /* connection IDs */
  aq_cid scid;  /* ours (sequence 0) */
  aq_cid dcid;  /* the peer's, in use */
  aq_cid odcid; /* client's first DCID (Initial keys, TP check) */
  /* CIDs we issued (RFC 9000 §5.1.1); [0] is scid, sequence 0. */
  struct {
    uint64_t seq;
    aq_cid cid;
    uint8_t token[AQ_STATELESS_RESET_TOKEN_LEN];
    uint8_t state; /* 0 unused, 1 to advertise, 2 advertised, 3 retired */
  } local_cids[AQ_MAX_LOCAL_CIDS];
  uint64_t next_local_seq;
  uint8_t reset_key[32]; /* endpoint key: stateless reset token = HMAC(key, cid) */
  int has_reset_key;
  aq_cid peer_initial_scid; /* SCID the peer used in its first Initial */
  aq_cid initial_key_cid;   /* the DCID the Initial keys derive from (odcid, or after Retry) */
  int got_retry;            /* client: a Retry was processed (at most one, §17.2.5.2) */
  aq_cid retry_scid; /* client: the Retry's SCID, checked against retry_source_connection_id */
  uint8_t retry_token[AQ_RETRY_TOKEN_MAX];
  size_t retry_token_len;
  int got_peer_scid;
  struct {
    uint64_t seq;
    aq_cid cid;
    uint8_t token[AQ_STATELESS_RESET_TOKEN_LEN];
    int in_use;
  } peer_cids[AQ_MAX_PEER_CIDS];
  uint64_t dcid_seq;
  int peer_reset_token0; /* peer_cids[0].token is real (server transport parameter) */
  uint64_t retire_prior_to;
  int retire_pending;
  uint64_t retire_seq_lo, retire_seq_hi; /* RETIRE_CONNECTION_ID for [lo, hi) owed */

  aq_conn_path paths[AQ_MAX_PATHS];
  unsigned active_path;

  /* TLS and transport parameters */
  aq_tls *tls;
  uint8_t tp_buf[AQ_CONN_TP_MAX];
  size_t tp_len;
  aq_tp peer_tp;
  int peer_tp_done;
  int handshake_complete;
  int handshake_confirmed;
  int hs_done_pending; /* server: HANDSHAKE_DONE to send */
  int hs_notified;

  aq_pnspace sp[AQ_PN_SPACE_COUNT];
  /* 1-RTT secrets for key updates (RFC 9001 §6); [0] = read, [1] = write. */
  uint8_t app_secret[2][AQ_HASH_MAX_LEN];
  size_t app_secret_len;
  aq_hash_alg app_hash;
  aq_aead_alg app_aead;
  uint8_t key_phase;
  uint64_t key_updates;
  uint64_t aead_failures;   /* 1-RTT packets that failed authentication */
  uint64_t app_pkts_sealed; /* 1-RTT packets sent under the current keys */
  aq_recov recov;
  aq_cc cc;
  aq_pacer pacer;
  aq_sent_meta *meta;
  uint32_t nmeta;
  uint32_t meta_free; /* head of the free list, UINT32_MAX = empty */

  /* anti-amplification (RFC 9000 §8.1) */
  int addr_validated;
  uint64_t amp_recv, amp_sent;

  /* timers */
  aq_tstamp created_ts;
  aq_tstamp last_recv_ts;
  aq_tstamp last_send_ts;
  aq_tstamp idle_start_ts; /* restarted by receipt, and by the first ack-eliciting send after it */
  int ae_sent_since_recv;
  int tx_stalled; /* data claimed pending but nothing could be sent: no pacer timer */
  aq_tstamp close_deadline;
  aq_duration idle_timeout; /* effective */

  /* closing */
  int close_pending; /* CONNECTION_CLOSE to (re)send */
  int close_is_app;
  uint64_t close_code;
  uint64_t close_frame_type;
  uint8_t close_reason[AQ_CLOSE_REASON_MAX];
  size_t close_reasonlen;
  uint64_t close_recv_count, close_next_resend;
  int closed_notified;

  /* flow control: connection level */
  uint64_t tx_max_data; /* peer's MAX_DATA */
  uint64_t tx_data;     /* new stream bytes sent (sum over streams) */
  aq_fc_recv rfc; /* our MAX_DATA (sum of highest received offsets), auto-tuned window */
  int max_data_pending;
  int data_blocked_pending;
  uint64_t data_blocked_at; /* tx_max_data + 1 when DATA_BLOCKED was last queued */

  /* streams */
  aq_strm *strm_tab[AQ_STRM_BUCKETS];
  aq_strm *strm_all; /* every stream, newest first: per-packet scans cost O(streams), not O(buckets) */
  size_t nstreams;
  aq_strm *sendq;                             /* round-robin ring head */
  uint64_t next_bidi, next_uni;               /* our next stream ordinal */
  uint64_t peer_max_bidi, peer_max_uni;       /* peer's MAX_STREAMS for our streams */
  uint64_t peer_opened_bidi, peer_opened_uni; /* peer streams opened (count) */
  uint64_t peer_closed_bidi, peer_closed_uni; /* peer streams finished */
  uint64_t rx_max_bidi, rx_max_uni;           /* our MAX_STREAMS */
  int max_streams_bidi_pending, max_streams_uni_pending;
  int streams_blocked_bidi_pending, streams_blocked_uni_pending;

  aq_conn_ext ext[AQ_CONN_MAX_EXT];
  size_t next;

  aq_conn_stats stats;
  uint8_t scratch[AQ_CONN_MAX_DGRAM];

  /* RFC 9221 DATAGRAM send queue (aq_conn_dgram.c); NULL until the first send. */
  struct aq_conn_dgram *dgram;
  /* RFC 9001 §6 key updates (aq_conn_ku.c). */
  aq_conn_ku ku;
  aq_conn_zrtt zrtt; /* resumption and 0-RTT (aq_conn_0rtt.c) */
  /* RFC 9000 §13.4 ECN (aq_conn_ecn.c). */
  aq_conn_ecn ecn;
  aq_conn_mig mig;   /* client-initiated migration (aq_conn_mig.c) */
  /* qlog trace buffer (aq_qlog.c); NULL until the first event. */
  struct aq_conn_qlog *qlog;
  /* extension records (aq_conn_ext_track): the packet being built, set around write_frames */
  aq_sent_meta *ext_tx_meta;
  size_t ext_tx_idx;
  /* The active path is unvalidated and its 3x budget is below one packet: timers that only
   * want to send (ACK, pacer) wait for the peer's next datagram instead of spinning. */
  int amp_blocked;
  /* Endpoint demultiplexing (aq_ep.c): the keys this connection has in the
   * endpoint's CID and stateless-reset-token tables. */
  aq_cid ep_cids[AQ_MAX_LOCAL_CIDS + 3];
  size_t ep_ncids;
  aq_cid ep_tokens[AQ_MAX_PEER_CIDS];
  size_t ep_ntokens;
  aq_conn_ver ver; /* QUIC v2 and compatible version negotiation (aq_conn_ver.c) */
  /* An X25519 key pair the endpoint made ahead of time for this handshake (aq_conn_set_x25519_pre). */
  uint8_t x25519_pre[64];
  void *x25519_pre_key; /* owned: the pair as an OpenSSL key object, or NULL */
  int has_x25519_pre;
  struct aq_key_cache *key_cache; /* the endpoint's decoded peer keys (aq_conn_set_key_cache) */
};

/* --------------------------------------------------- internal calls */

/* aq_conn.c */
/** Fire conn_closed once. */
void aq_conn_notify_closed(aq_conn *conn, int by_peer, int idle, int is_app, uint64_t code,
                           const uint8_t *reason, size_t reasonlen, int err);
/** Three PTO periods: the closing / draining duration (RFC 9000 §10.2). */
aq_duration aq_conn_three_pto(const aq_conn *conn);

/* aq_cid.c */
/** The stateless reset token of our CID cid (HMAC with the endpoint key, else random). */
AQ_MUST_CHECK int aq_cid_reset_token(aq_conn *conn, const aq_cid *cid,
                                     uint8_t token[AQ_STATELESS_RESET_TOKEN_LEN]);
/** Issue spare CIDs up to the peer's active_connection_id_limit. 0 or a fatal error. */
AQ_MUST_CHECK int aq_cid_issue(aq_conn *conn);
/** NEW_CONNECTION_ID from the peer.  0 or negative (connection closed). */
AQ_MUST_CHECK int aq_cid_on_new(aq_conn *conn, const aq_frame_new_cid *nc, aq_tstamp ts);
/** RETIRE_CONNECTION_ID from the peer.  0 or negative (connection closed). */
AQ_MUST_CHECK int aq_cid_on_retire(aq_conn *conn, uint64_t seq, aq_tstamp ts);
/** An unprocessable datagram: enter draining if it carries a stateless reset token of the peer. */
int aq_cid_check_stateless_reset(aq_conn *conn, const uint8_t *data, size_t len, aq_tstamp ts);

void aq_conn_fail(aq_conn *conn, uint64_t qerr, uint64_t frame_type, const char *reason,
                  aq_tstamp ts);
/** The MAX_DATA / MAX_STREAMS frames of a lost (or rejected 0-RTT) packet with these flags are owed again. */
void aq_conn_requeue_limits(aq_conn *conn, uint32_t flags);
/** A sent-packet record from the connection's pool (UINT32_MAX if none), and its release (aq_conn_tx.c). */
uint32_t aq_conn_tx_meta_alloc(aq_conn *conn);
void aq_conn_tx_meta_free(aq_conn *conn, uint32_t idx);
/** Free a packet number space's read and write keys, if it has them. */
void aq_pnspace_drop_keys(aq_pnspace *s);
void aq_conn_set_fatal(aq_conn *conn, int err);

/* aq_conn_dgram.c (RFC 9221) */
typedef struct aq_conn_dgram aq_conn_dgram;
/** Datagrams wait in the send queue. */
int aq_dgram_pending(const aq_conn *conn);
/** Move queued datagrams that fit into w (a 1-RTT packet); counts them in m->flags. */
void aq_dgram_write_frames(aq_conn *conn, aq_wbuf *w, aq_sent_meta *m);
/** A packet recorded by m was lost: count its datagrams (never resent). */
void aq_dgram_on_lost(aq_conn *conn, const aq_sent_meta *m);
/** A DATAGRAM frame arrived: check it against our limit and deliver it. 0 or AQ_ERR_PROTO. */
AQ_MUST_CHECK int aq_dgram_on_frame(aq_conn *conn, const aq_frame *f, aq_tstamp ts);
/** Free the send queue. */
void aq_dgram_free(aq_conn *conn);

/* aq_conn_ku.c (RFC 9001 §6) */
/** Open a 1-RTT packet with the current, previous or next keys (rotating on a peer update). */
AQ_MUST_CHECK aq_ssize aq_ku_open(aq_conn *conn, uint8_t *p, size_t pktlen, size_t hdrlen,
                                  uint64_t pn, unsigned phase, aq_tstamp ts);
/** A 1-RTT packet pn was sealed (m: its record or NULL): count it, update before the limit. */
void aq_ku_on_sealed(aq_conn *conn, uint64_t pn, const aq_sent_meta *m, aq_tstamp ts);
/** A 1-RTT packet failed authentication: count it against the integrity limit. */
void aq_ku_on_auth_fail(aq_conn *conn, aq_tstamp ts);
/** Move both directions to the next key generation (local: we initiate). 0 or an error. */
AQ_MUST_CHECK int aq_ku_rotate(aq_conn *conn, int local, aq_tstamp ts);
/** Free the previous / next read keys. */
void aq_ku_free(aq_conn *conn);

/* aq_conn_ecn.c (RFC 9000 §13.4) */
/** The codepoint of the datagram about to be sealed (AQ_ECN_ECT0 or NOT_ECT); counts it. */
unsigned aq_ecn_tx_begin(aq_conn *conn);
/** A sent packet was declared lost (validation: all test packets lost). */
void aq_ecn_on_lost(aq_conn *conn, const aq_sent_pkt *pkt);
/** The active path changed to a new IP: validate ECN on it from scratch. */
void aq_ecn_on_new_path(aq_conn *conn);
/** Fill the ECN fields of *st. */
void aq_ecn_fill_stats(const aq_conn *conn, aq_conn_stats *st);

/* aq_qlog.c */
typedef struct aq_conn_qlog aq_conn_qlog;

/* aq_conn_tx.c */
aq_ssize aq_conn_tx_build(aq_conn *conn, uint8_t *buf, size_t cap, aq_tstamp ts);
/** A datagram with only PATH_RESPONSE for a non-active path (§8.2.2); 0 if none. */
aq_ssize aq_conn_tx_path_response(aq_conn *conn, unsigned path_idx, uint8_t *buf, size_t cap,
                                  aq_tstamp ts);
aq_tstamp aq_conn_tx_pacer_expiry(const aq_conn *conn, aq_tstamp ts);
int aq_conn_has_app_data(const aq_conn *conn);

/* send buffers (aq_strm.c) */
void aq_txbuf_init(aq_txbuf *tb);
void aq_txbuf_free(aq_txbuf *tb, const aq_mem *mem);
/** Append up to len bytes (bounded by limit total buffered; grows the ring). Returns accepted. */
aq_ssize aq_txbuf_append(aq_txbuf *tb, const aq_mem *mem, const uint8_t *data, size_t len,
                         size_t limit);
/** Copy [o, o + len) out of the ring. */
void aq_txbuf_copy(const aq_txbuf *tb, uint64_t o, uint8_t *out, size_t len);
/** The next range to send: lost data first (*is_new = 0), then new data. 0 or AQ_ERR_NOT_FOUND. */
AQ_MUST_CHECK int aq_txbuf_next(const aq_txbuf *tb, uint64_t new_limit, aq_range *out, int *is_new);
/** [o, o+len) was sent. */
void aq_txbuf_on_sent(aq_txbuf *tb, uint64_t o, uint64_t len);
void aq_txbuf_on_lost(aq_txbuf *tb, uint64_t o, uint64_t len);
void aq_txbuf_on_acked(aq_txbuf *tb, uint64_t o, uint64_t len);
/** Mark everything sent but not acknowledged as lost (PTO probe of CRYPTO data). */
void aq_txbuf_requeue_unacked(aq_txbuf *tb);

/* streams (aq_strm.c) */
/** Connection-level receive flow control from the settings, at ts. */
void aq_strm_init_conn(aq_conn *conn, aq_tstamp ts);
void aq_strm_free_all(aq_conn *conn);
aq_strm *aq_strm_find(const aq_conn *conn, uint64_t id);
void aq_strm_apply_peer_tp(aq_conn *conn);
/** Frame handlers (1-RTT/0-RTT stream-related frames). 0 or negative; errors already closed conn.
 */
AQ_MUST_CHECK int aq_strm_on_frame(aq_conn *conn, const aq_frame *f, aq_tstamp ts);
/** A sent STREAM/RESET/STOP/MSD record was acked (acked != 0) or lost. */
void aq_strm_on_record(aq_conn *conn, const aq_sent_frame *sf, int acked);
/** Write stream-level and connection-level control frames and stream data. */
int aq_strm_write_frames(aq_conn *conn, aq_wbuf *w, aq_sent_meta *m, aq_tstamp ts);
int aq_strm_has_pending(const aq_conn *conn);
/** Free streams finished in both directions (fires stream_close). */
void aq_strm_collect(aq_conn *conn);
/** Fire stream_writable for streams whose writes were cut short and have room now. */
void aq_strm_notify_writable(aq_conn *conn);

/** Encode our transport parameters into conn->tp_buf (aq_conn_tp.c). */
AQ_MUST_CHECK int aq_conn_encode_tp(aq_conn *conn);
/** Decode and check the peer's transport parameters once TLS has them (aq_conn_tp.c). */
AQ_MUST_CHECK int aq_conn_process_peer_tp(aq_conn *conn, aq_tstamp ts);

#endif /* AQ_CONN_INT_H */
