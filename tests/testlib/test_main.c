/*
 * test_main.c - the runner: `aq_test` lists tests, `aq_test NAME...` runs the
 * named tests (a trailing '*' matches a prefix), `aq_test --all` runs all.
 * Exit status: 0 pass, 1 fail, 77 skipped (CTest SKIP_RETURN_CODE).
 */
#include <stdarg.h>
#include <stdlib.h>

#include "aq_test.h"
#include "runner.h"

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

  qsort(aq_tests, aq_ntests, sizeof(aq_tests[0]), cmp_tests);
  if (argc < 2) {
    for (size_t i = 0; i < aq_ntests; i++) {
      printf("%s\n", aq_tests[i].name);
    }
    return 0;
  }
  for (size_t i = 0; i < aq_ntests; i++) {
    int selected = all;
    for (int a = 1; a < argc && !selected; a++) {
      selected = matches(argv[a], aq_tests[i].name);
    }
    if (!selected) {
      continue;
    }
    aq_cur_failures = 0;
    aq_cur_skipped = 0;
    aq_tests[i].fn();
    if (aq_cur_failures) {
      printf("FAIL %s (%d failures)\n", aq_tests[i].name, aq_cur_failures);
      failed++;
    } else if (aq_cur_skipped) {
      printf("SKIP %s\n", aq_tests[i].name);
      skipped++;
    } else {
      printf("ok   %s\n", aq_tests[i].name);
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
