/*
 * aq_cidmap.c - keyed hash table of connection IDs (see aq_cidmap.h).
 *
 * No timers.
 */
#include "aq_cidmap.h"

#include <string.h>

#include "aq_ct.h"
#include "aq_mem.h"

#define MIN_CAP 16u

/* ------------------------------------------------------------ SipHash */

/* x rotated left by b bits (0 < b < 64). */
static uint64_t rotl(uint64_t x, unsigned b) {
  return (x << b) | (x >> (64u - b));
}

/* 8 bytes as a little-endian integer. */
static uint64_t load_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (unsigned i = 0; i < 8; i++) {
    v |= (uint64_t)p[i] << (8u * i);
  }
  return v;
}

/* One SipRound on the state v[0..3]. */
static void sipround(uint64_t v[4]) {
  v[0] += v[1];
  v[1] = rotl(v[1], 13);
  v[1] ^= v[0];
  v[0] = rotl(v[0], 32);
  v[2] += v[3];
  v[3] = rotl(v[3], 16);
  v[3] ^= v[2];
  v[0] += v[3];
  v[3] = rotl(v[3], 21);
  v[3] ^= v[0];
  v[2] += v[1];
  v[1] = rotl(v[1], 17);
  v[1] ^= v[2];
  v[2] = rotl(v[2], 32);
}

uint64_t aq_siphash24(const uint8_t key[AQ_CIDMAP_KEY_LEN], const uint8_t *data, size_t len) {
  uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
  /* Initialisation: the key XORed into "somepseudorandomlygeneratedbytes". */
  uint64_t v[4] = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
                   k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
  size_t full = len & ~(size_t)7;
  for (size_t i = 0; i < full; i += 8) {
    uint64_t m = load_le64(data + i);
    v[3] ^= m;
    sipround(v);
    sipround(v);
    v[0] ^= m;
  }
  /* Last block: the remaining bytes, and len mod 256 in the top byte. */
  uint64_t b = (uint64_t)len << 56;
  for (size_t i = 0; i < (len & 7u); i++) {
    b |= (uint64_t)data[full + i] << (8u * i);
  }
  v[3] ^= b;
  sipround(v);
  sipround(v);
  v[0] ^= b;
  v[2] ^= 0xff;
  for (int r = 0; r < 4; r++) {
    sipround(v);
  }
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ------------------------------------------------------------ the table */

void aq_cidmap_init(aq_cidmap *m, const aq_mem *mem, const uint8_t key[AQ_CIDMAP_KEY_LEN]) {
  memset(m, 0, sizeof(*m));
  m->mem = mem;
  memcpy(m->key, key, AQ_CIDMAP_KEY_LEN);
}

void aq_cidmap_free(aq_cidmap *m) {
  if (m->tab != NULL) {
    aq_mem_free(m->mem, m->tab);
  }
  m->tab = NULL;
  m->cap = m->n = 0;
  aq_memzero(m->key, sizeof(m->key));
}

/* The keyed hash of cid (low 32 bits of SipHash-2-4). */
static uint32_t cid_hash(const aq_cidmap *m, const aq_cid *cid) {
  return (uint32_t)aq_siphash24(m->key, cid->data, cid->len);
}

/* The slot holding cid, or SIZE_MAX. */
static size_t find_slot(const aq_cidmap *m, const aq_cid *cid, uint32_t h) {
  if (m->cap == 0) {
    return SIZE_MAX;
  }
  size_t mask = m->cap - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const aq_cidmap_ent *e = &m->tab[i];
    if (e->val == NULL) {
      return SIZE_MAX;
    }
    if (e->hash == h && aq_cid_eq(&e->cid, cid)) {
      return i;
    }
  }
}

/* Place e in the first free slot of its probe sequence (it is not present). */
static void place(aq_cidmap_ent *tab, size_t cap, const aq_cidmap_ent *e) {
  size_t mask = cap - 1;
  size_t i = e->hash & mask;
  while (tab[i].val != NULL) {
    i = (i + 1) & mask;
  }
  tab[i] = *e;
}

/* Double the capacity (16 at first), re-placing every entry; AQ_ERR_NOMEM leaves m unchanged. */
static int grow(aq_cidmap *m) {
  size_t ncap = m->cap == 0 ? MIN_CAP : m->cap * 2;
  if (ncap > SIZE_MAX / 2 / sizeof(aq_cidmap_ent)) {
    return AQ_ERR_NOMEM;
  }
  aq_cidmap_ent *nt = aq_mem_calloc(m->mem, ncap, sizeof(aq_cidmap_ent));
  if (nt == NULL) {
    return AQ_ERR_NOMEM;
  }
  for (size_t i = 0; i < m->cap; i++) {
    if (m->tab[i].val != NULL) {
      place(nt, ncap, &m->tab[i]);
    }
  }
  if (m->tab != NULL) {
    aq_mem_free(m->mem, m->tab);
  }
  m->tab = nt;
  m->cap = ncap;
  return 0;
}

int aq_cidmap_insert(aq_cidmap *m, const aq_cid *cid, void *val, unsigned flags) {
  if (cid->len == 0 || cid->len > AQ_MAX_CIDLEN || val == NULL) {
    return AQ_ERR_INVALID_ARGUMENT;
  }
  uint32_t h = cid_hash(m, cid);
  size_t i = find_slot(m, cid, h);
  if (i != SIZE_MAX) {
    if (m->tab[i].val != val) {
      return AQ_ERR_LIMIT;
    }
    m->tab[i].flags = (uint8_t)flags;
    return 0;
  }
  /* Keep the load at most 3/4 so probe sequences stay short. */
  if ((m->n + 1) * 4 > m->cap * 3) {
    int rc = grow(m);
    if (rc != 0) {
      return rc;
    }
  }
  aq_cidmap_ent e;
  memset(&e, 0, sizeof(e));
  e.val = val;
  e.hash = h;
  e.flags = (uint8_t)flags;
  e.cid = *cid;
  place(m->tab, m->cap, &e);
  m->n++;
  return 0;
}

void *aq_cidmap_find(const aq_cidmap *m, const aq_cid *cid, unsigned *flags) {
  if (m->n == 0 || cid->len == 0 || cid->len > AQ_MAX_CIDLEN) {
    return NULL;
  }
  size_t i = find_slot(m, cid, cid_hash(m, cid));
  if (i == SIZE_MAX) {
    return NULL;
  }
  if (flags != NULL) {
    *flags = m->tab[i].flags;
  }
  return m->tab[i].val;
}

int aq_cidmap_remove(aq_cidmap *m, const aq_cid *cid, const void *val) {
  if (m->n == 0 || cid->len == 0 || cid->len > AQ_MAX_CIDLEN) {
    return AQ_ERR_NOT_FOUND;
  }
  size_t i = find_slot(m, cid, cid_hash(m, cid));
  if (i == SIZE_MAX || (val != NULL && m->tab[i].val != val)) {
    return AQ_ERR_NOT_FOUND;
  }
  /* Backward-shift deletion: pull later members of the cluster into the
   * hole when the hole lies on their probe path (between home and slot). */
  size_t mask = m->cap - 1;
  size_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    aq_cidmap_ent *e = &m->tab[j];
    if (e->val == NULL) {
      break;
    }
    size_t home = e->hash & mask;
    if (((j - home) & mask) >= ((j - i) & mask)) {
      m->tab[i] = *e;
      i = j;
    }
  }
  memset(&m->tab[i], 0, sizeof(m->tab[i]));
  m->n--;
  return 0;
}
