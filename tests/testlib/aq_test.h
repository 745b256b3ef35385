/*
 * aq_test.h - the one test runner's API.  A test is a function declared
 * with AQ_TEST(name); it registers itself at load time, and CMake registers
 * each name with CTest (so `ctest -R name` and `aq_test name` both work).
 */
#ifndef AQ_TEST_H
#define AQ_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "antquic.h"

typedef void (*aq_test_fn)(void);
void aq_test_register(const char *name, aq_test_fn fn);

#define AQ_TEST(name)                                                                              \
  static void test_##name(void);                                                                   \
  __attribute__((constructor)) static void aq_test_reg_##name(void) {                             \
    aq_test_register(#name, test_##name);                                                          \
  }                                                                                                \
  static void test_##name(void)

/* Failure reporting: the test continues after CHECK, returns after REQUIRE. */
void aq_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** Mark the running test skipped (exit code 77 unless something failed). */
void aq_test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Number of failures so far in the running test. */
int aq_test_failures(void);

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      aq_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                                        \
    }                                                                                              \
  } while (0)

#define REQUIRE(cond)                                                                              \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      aq_test_fail(__FILE__, __LINE__, "REQUIRE(%s)", #cond);                                      \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

#define CHECK_INT(a, b)                                                                            \
  do {                                                                                             \
    long long aq_a_ = (long long)(a), aq_b_ = (long long)(b);                                      \
    if (aq_a_ != aq_b_) {                                                                          \
      aq_test_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, aq_a_, #b, aq_b_);   \
    }                                                                                              \
  } while (0)

#define CHECK_MEM(a, b, len)                                                                       \
  do {                                                                                             \
    if (memcmp((a), (b), (len)) != 0) {                                                            \
      aq_test_fail(__FILE__, __LINE__, "CHECK_MEM(%s, %s, %s)", #a, #b, #len);                     \
      aq_test_dump("got", (const uint8_t *)(a), (len));                                            \
      aq_test_dump("want", (const uint8_t *)(b), (len));                                           \
    }                                                                                              \
  } while (0)

/* A boundary marker (SQLite testcase()): documents which edge a check covers. */
#define TESTCASE(cond) ((void)(cond))

/* ------------------------------------------------------------------ hex */

void aq_test_dump(const char *label, const uint8_t *p, size_t len);
/** Decode hex (any case, no separators) into a malloc'd buffer; NULL on bad hex. */
uint8_t *aq_test_unhex(const char *hex, size_t *len);
/** Decode hex into out (cap bytes); returns the length or (size_t)-1. */
size_t aq_test_unhex_into(uint8_t *out, size_t cap, const char *hex);
/** Compare len bytes with a hex string. */
int aq_test_memeq_hex(const uint8_t *p, size_t len, const char *hex);

/* -------------------------------------------------------------- vectors */

/**
 * The vectors folder: $AQ_VECTORS_DIR, or ../shared/specs/vectors beside the
 * source tree.  aq_test_vector_path() returns a malloc'd path to relpath in
 * it, or NULL (and marks the test skipped with a message) if it is absent.
 */
const char *aq_test_vectors_dir(void);
char *aq_test_vector_path(const char *relpath);
/** Read a whole file (NUL-terminated); NULL if unreadable. */
char *aq_test_read_file(const char *path, size_t *len);

/*
 * "name = value" record files (specs/vectors/acvp, vectors/quic): records are
 * blocks of lines separated by blank lines; '#' lines are comments.
 */
typedef struct aq_kv_field {
  const char *name;
  const char *value;
} aq_kv_field;

typedef struct aq_kv_record {
  aq_kv_field *fields;
  size_t nfields;
} aq_kv_record;

typedef struct aq_kv_file {
  char *text;
  aq_kv_record *recs;
  size_t nrecs;
} aq_kv_file;

/** Load path; 0 or -1. */
int aq_kv_load(aq_kv_file *f, const char *path);
void aq_kv_free(aq_kv_file *f);
/** The value of name in rec, or NULL. */
const char *aq_kv_get(const aq_kv_record *rec, const char *name);
/** The value of name in any record (first match), or NULL. */
const char *aq_kv_find(const aq_kv_file *f, const char *name);

/* ----------------------------------------------------------------- JSON */

typedef enum aq_json_type {
  AQ_JSON_NULL,
  AQ_JSON_BOOL,
  AQ_JSON_NUMBER,
  AQ_JSON_STRING,
  AQ_JSON_ARRAY,
  AQ_JSON_OBJECT
} aq_json_type;

typedef struct aq_json aq_json;
struct aq_json {
  aq_json_type type;
  double num;       /* NUMBER; BOOL as 0/1 */
  char *str;        /* STRING (NUL-terminated, escapes decoded) */
  size_t strlen;
  char **keys;      /* OBJECT keys */
  aq_json **items;  /* ARRAY items or OBJECT values */
  size_t n;
};

/** Parse a JSON text; NULL on a syntax error. */
aq_json *aq_json_parse(const char *text, size_t len);
/** Parse a file under the vectors folder; NULL (test skipped) if absent. */
aq_json *aq_json_load_vector(const char *relpath);
void aq_json_free(aq_json *j);
/** Member of an object, or NULL. */
const aq_json *aq_json_get(const aq_json *obj, const char *key);
/** String member, or NULL. */
const char *aq_json_get_str(const aq_json *obj, const char *key);
/** Number member, or dflt. */
long long aq_json_get_int(const aq_json *obj, const char *key, long long dflt);

/* ------------------------------------------------------- deterministic */

/** Deterministic RNG (splitmix64) usable as an aq_rand_fn; user_data = uint64_t* state. */
int aq_test_rand(uint8_t *buf, size_t len, void *user_data);

/**
 * A failing allocator (ngtcp2 failmalloc): the allocation numbered fail_at
 * (0-based) and every later one fail; fail_at < 0 never fails.
 */
typedef struct aq_test_failmem {
  aq_mem mem;
  long fail_at;
  long count;
  long live;
} aq_test_failmem;
void aq_test_failmem_init(aq_test_failmem *fm, long fail_at);

#endif /* AQ_TEST_H */
