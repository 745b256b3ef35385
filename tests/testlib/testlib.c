/* testlib.c - hex, files, vector records, deterministic RNG, failing allocator. */
#include <ctype.h>
#include <stdlib.h>

#include "aq_test.h"

#ifndef AQ_DEFAULT_VECTORS_DIR
#define AQ_DEFAULT_VECTORS_DIR "../shared/specs/vectors"
#endif

void aq_test_dump(const char *label, const uint8_t *p, size_t len) {
  fprintf(stderr, "  %s (%zu): ", label, len);
  for (size_t i = 0; i < len && i < 96; i++) {
    fprintf(stderr, "%02x", p[i]);
  }
  fprintf(stderr, len > 96 ? "...\n" : "\n");
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = tolower(c);
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

size_t aq_test_unhex_into(uint8_t *out, size_t cap, const char *hex) {
  size_t n = strlen(hex);
  if (n % 2 != 0 || n / 2 > cap) {
    return (size_t)-1;
  }
  for (size_t i = 0; i < n / 2; i++) {
    int hi = hexval((unsigned char)hex[2 * i]), lo = hexval((unsigned char)hex[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      return (size_t)-1;
    }
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return n / 2;
}

uint8_t *aq_test_unhex(const char *hex, size_t *len) {
  size_t cap = strlen(hex) / 2 + 1;
  uint8_t *out = malloc(cap);
  size_t n;
  if (out == NULL) {
    return NULL;
  }
  n = aq_test_unhex_into(out, cap, hex);
  if (n == (size_t)-1) {
    free(out);
    return NULL;
  }
  *len = n;
  return out;
}

int aq_test_memeq_hex(const uint8_t *p, size_t len, const char *hex) {
  size_t n;
  uint8_t *want = aq_test_unhex(hex, &n);
  int eq = want != NULL && n == len && memcmp(p, want, len) == 0;
  free(want);
  return eq;
}

const char *aq_test_vectors_dir(void) {
  const char *d = getenv("AQ_VECTORS_DIR");
  return (d && *d) ? d : AQ_DEFAULT_VECTORS_DIR;
}

char *aq_test_read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0;
  if (f == NULL) {
    return NULL;
  }
  for (;;) {
    if (n + 65536 + 1 > cap) {
      cap = (n + 65536 + 1) * 2;
      char *nb = realloc(buf, cap);
      if (nb == NULL) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = nb;
    }
    size_t got = fread(buf + n, 1, 65536, f);
    n += got;
    if (got == 0) {
      break;
    }
  }
  fclose(f);
  buf[n] = '\0';
  if (len) {
    *len = n;
  }
  return buf;
}

char *aq_test_vector_path(const char *relpath) {
  const char *dir = aq_test_vectors_dir();
  size_t n = strlen(dir) + strlen(relpath) + 2;
  char *p = malloc(n);
  FILE *f;
  if (p == NULL) {
    return NULL;
  }
  snprintf(p, n, "%s/%s", dir, relpath);
  f = fopen(p, "rb");
  if (f == NULL) {
    aq_test_skip("vector file %s is absent (set AQ_VECTORS_DIR to the specs/vectors folder)", p);
    free(p);
    return NULL;
  }
  fclose(f);
  return p;
}

static char *trim(char *s) {
  char *e;
  while (*s == ' ' || *s == '\t') {
    s++;
  }
  e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) {
    *--e = '\0';
  }
  return s;
}

int aq_kv_load(aq_kv_file *f, const char *path) {
  size_t len;
  char *line, *next;
  size_t capf = 0, caprec = 0;
  int in_rec = 0;
  memset(f, 0, sizeof(*f));
  f->text = aq_test_read_file(path, &len);
  if (f->text == NULL) {
    return -1;
  }
  for (line = f->text; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) {
      *next++ = '\0';
    }
    char *t = trim(line);
    if (*t == '#') {
      continue;
    }
    if (*t == '\0') {
      in_rec = 0;
      continue;
    }
    char *eq = strstr(t, " = ");
    if (eq == NULL) {
      continue;
    }
    *eq = '\0';
    if (!in_rec) {
      if (f->nrecs == caprec) {
        caprec = caprec ? caprec * 2 : 16;
        f->recs = realloc(f->recs, caprec * sizeof(*f->recs));
      }
      f->recs[f->nrecs].fields = NULL;
      f->recs[f->nrecs].nfields = 0;
      f->nrecs++;
      in_rec = 1;
      capf = 0;
    }
    aq_kv_record *r = &f->recs[f->nrecs - 1];
    if (r->nfields == capf) {
      capf = capf ? capf * 2 : 8;
      r->fields = realloc(r->fields, capf * sizeof(*r->fields));
    }
    r->fields[r->nfields].name = trim(t);
    r->fields[r->nfields].value = trim(eq + 3);
    r->nfields++;
  }
  return 0;
}

void aq_kv_free(aq_kv_file *f) {
  for (size_t i = 0; i < f->nrecs; i++) {
    free(f->recs[i].fields);
  }
  free(f->recs);
  free(f->text);
  memset(f, 0, sizeof(*f));
}

const char *aq_kv_get(const aq_kv_record *rec, const char *name) {
  for (size_t i = 0; i < rec->nfields; i++) {
    if (strcmp(rec->fields[i].name, name) == 0) {
      return rec->fields[i].value;
    }
  }
  return NULL;
}

const char *aq_kv_find(const aq_kv_file *f, const char *name) {
  for (size_t i = 0; i < f->nrecs; i++) {
    const char *v = aq_kv_get(&f->recs[i], name);
    if (v) {
      return v;
    }
  }
  return NULL;
}

int aq_test_rand(uint8_t *buf, size_t len, void *user_data) {
  uint64_t *state = user_data;
  for (size_t i = 0; i < len; i++) {
    if (i % 8 == 0) {
      uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      z ^= z >> 31;
      memcpy(buf + i, &z, len - i < 8 ? len - i : 8);
    }
  }
  return 0;
}

static int failmem_take(aq_test_failmem *fm) {
  long n = fm->count++;
  return fm->fail_at >= 0 && n >= fm->fail_at;
}

static void *failmem_malloc(size_t size, void *ud) {
  aq_test_failmem *fm = ud;
  if (failmem_take(fm)) {
    return NULL;
  }
  void *p = malloc(size);
  fm->live += p != NULL;
  return p;
}

static void failmem_free(void *ptr, void *ud) {
  aq_test_failmem *fm = ud;
  if (ptr) {
    fm->live--;
  }
  free(ptr);
}

static void *failmem_calloc(size_t nmemb, size_t size, void *ud) {
  aq_test_failmem *fm = ud;
  if (failmem_take(fm)) {
    return NULL;
  }
  void *p = calloc(nmemb, size);
  fm->live += p != NULL;
  return p;
}

static void *failmem_realloc(void *ptr, size_t size, void *ud) {
  aq_test_failmem *fm = ud;
  if (failmem_take(fm)) {
    return NULL;
  }
  void *p = realloc(ptr, size);
  if (ptr == NULL && p != NULL) {
    fm->live++;
  }
  return p;
}

void aq_test_failmem_init(aq_test_failmem *fm, long fail_at) {
  fm->mem.user_data = fm;
  fm->mem.malloc = failmem_malloc;
  fm->mem.free = failmem_free;
  fm->mem.calloc = failmem_calloc;
  fm->mem.realloc = failmem_realloc;
  fm->fail_at = fail_at;
  fm->count = 0;
  fm->live = 0;
}
