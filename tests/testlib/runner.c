/* runner.c - test registration and failure bookkeeping (main() is in test_main.c). */
#include <stdarg.h>
#include <stdlib.h>

#include "aq_test.h"
#include "runner.h"

aq_test_entry aq_tests[MAX_TESTS];
size_t aq_ntests;
int aq_cur_failures;
int aq_cur_skipped;

void aq_test_register(const char *name, aq_test_fn fn) {
  if (aq_ntests == MAX_TESTS) {
    fprintf(stderr, "too many tests\n");
    abort();
  }
  aq_tests[aq_ntests].name = name;
  aq_tests[aq_ntests].fn = fn;
  aq_ntests++;
}

void aq_test_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  aq_cur_failures++;
  if (aq_cur_failures > 50) {
    return; /* enough said */
  }
  fprintf(stderr, "%s:%d: FAIL: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

void aq_test_skip(const char *fmt, ...) {
  va_list ap;
  aq_cur_skipped = 1;
  fprintf(stderr, "SKIP: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

int aq_test_failures(void) { return aq_cur_failures; }

