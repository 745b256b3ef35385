/*
 * test_main.c - the runner: `aq_test` lists tests, `aq_test NAME...` runs the
 * named tests (a trailing '*' matches a prefix), `aq_test --all` runs all.
 * Exit status: 0 pass, 1 fail, 77 skipped (CTest SKIP_RETURN_CODE).
 */
#include <stdarg.h>
#include <stdlib.h>

#include "aq_test.h"

#define MAX_TESTS 4096

static struct {
  const char *name;
  aq_test_fn fn;
} tests[MAX_TESTS];
static size_t ntests;
static int cur_failures;
static int cur_skipped;

void aq_test_register(const char *name, aq_test_fn fn) {
  if (ntests == MAX_TESTS) {
    fprintf(stderr, "too many tests\n");
    abort();
  }
  tests[ntests].name = name;
  tests[ntests].fn = fn;
  ntests++;
}

void aq_test_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  cur_failures++;
  if (cur_failures > 50) {
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
  cur_skipped = 1;
  fprintf(stderr, "SKIP: ");
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

int aq_test_failures(void) { return cur_failures; }

static int matches(const char *pattern, const char *name) {
  size_t n = strlen(pattern);
  if (n > 0 && pattern[n - 1] == '*') {
    return strncmp(pattern, name, n - 1) == 0;
  }
  return strcmp(pattern, name) == 0;
}

static int cmp_tests(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv) {
  int failed = 0, passed = 0, skipped = 0;
  int all = argc > 1 && strcmp(argv[1], "--all") == 0;

  qsort(tests, ntests, sizeof(tests[0]), cmp_tests);
  if (argc < 2) {
    for (size_t i = 0; i < ntests; i++) {
      printf("%s\n", tests[i].name);
    }
    return 0;
  }
  for (size_t i = 0; i < ntests; i++) {
    int selected = all;
    for (int a = 1; a < argc && !selected; a++) {
      selected = matches(argv[a], tests[i].name);
    }
    if (!selected) {
      continue;
    }
    cur_failures = 0;
    cur_skipped = 0;
    tests[i].fn();
    if (cur_failures) {
      printf("FAIL %s (%d failures)\n", tests[i].name, cur_failures);
      failed++;
    } else if (cur_skipped) {
      printf("SKIP %s\n", tests[i].name);
      skipped++;
    } else {
      printf("ok   %s\n", tests[i].name);
      passed++;
    }
  }
  if (failed + passed + skipped == 0) {
    fprintf(stderr, "no test matched\n");
    return 1;
  }
  printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  if (failed) {
    return 1;
  }
  return (skipped && !passed) ? 77 : 0;
}
