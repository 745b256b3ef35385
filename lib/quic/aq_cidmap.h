/*
 * aq_cidmap.h - the endpoint's demultiplexing table: connection ID (or any
 * key of 1..20 bytes, e.g. a stateless reset token) -> connection.
 *
 * No timers.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), power-of-two capacity kept at most 3/4 full, doubling on
 * insert: O(1) expected lookup, insert and removal.  The hash is SipHash-2-4
 * under a per-endpoint random key, so a peer choosing CIDs (a client picks
 * its first Destination CID, RFC 9000 §7.2) cannot predict buckets and
 * force collisions: the table stays O(1) under attack.
 *
 * Memory: nothing until the first insert; then 16 slots, doubling.  A
 * failed growth leaves the table unchanged (AQ_ERR_NOMEM).
 */
#ifndef AQ_CIDMAP_H
#define AQ_CIDMAP_H

#include "antquic.h"
#include "quic/aq_pkt.h"

/** SipHash key length. */
#define AQ_CIDMAP_KEY_LEN 16
/** Entry flag: match only long-header packets (a server's original DCID during the handshake). */
#define AQ_CIDMAP_INITIAL_ONLY 1u

/**
 * SipHash-2-4 (Aumasson, Bernstein 2012) of data under key: a keyed 64-bit
 * PRF, fast on short inputs.
 */
uint64_t aq_siphash24(const uint8_t key[AQ_CIDMAP_KEY_LEN], const uint8_t *data, size_t len);

typedef struct aq_cidmap_ent {
  void *val; /* NULL = empty slot */
  uint32_t hash;
  uint8_t flags;
  aq_cid cid;
} aq_cidmap_ent;

typedef struct aq_cidmap {
  const aq_mem *mem;
  aq_cidmap_ent *tab;
  size_t cap; /* 0 or a power of two */
  size_t n;
  uint8_t key[AQ_CIDMAP_KEY_LEN];
} aq_cidmap;

/** Initialise an empty table with the hash key (copied); allocates nothing. */
void aq_cidmap_init(aq_cidmap *m, const aq_mem *mem, const uint8_t key[AQ_CIDMAP_KEY_LEN]);

/** Free the table and zero the key. */
void aq_cidmap_free(aq_cidmap *m);

/**
 * Map cid (1..20 bytes) to val (not NULL) with flags (AQ_CIDMAP_*).  If cid
 * is already mapped to val, its flags are replaced.  Returns 0,
 * AQ_ERR_INVALID_ARGUMENT (empty cid or NULL val), AQ_ERR_LIMIT (cid is
 * mapped to another value: nothing changed), or AQ_ERR_NOMEM.
 */
AQ_MUST_CHECK int aq_cidmap_insert(aq_cidmap *m, const aq_cid *cid, void *val, unsigned flags);

/** The value of cid (and its flags in *flags if not NULL), or NULL. */
void *aq_cidmap_find(const aq_cidmap *m, const aq_cid *cid, unsigned *flags);

/**
 * Remove cid if it maps to val (val NULL: whatever it maps to).  Returns 0
 * or AQ_ERR_NOT_FOUND.
 */
int aq_cidmap_remove(aq_cidmap *m, const aq_cid *cid, const void *val);

/** Number of entries. */
static inline size_t aq_cidmap_count(const aq_cidmap *m) {
  return m->n;
}

/* -------------------------------------- endpoint lookups (aq_ep.c), for tests and benchmarks */

/** The connection dcid routes to in ep (long_hdr: the packet has a long header), or NULL. */
aq_conn *aq_ep_find_conn(const aq_ep *ep, const aq_cid *dcid, int long_hdr);

/** Entries in ep's CID table and in its stateless-reset-token table. */
void aq_ep_route_counts(const aq_ep *ep, size_t *ncids, size_t *ntokens);

#endif /* AQ_CIDMAP_H */
