/* runner.h - the runner's shared state (test_main.c, runner.c). */
#ifndef AQ_RUNNER_H
#define AQ_RUNNER_H

#include "aq_test.h"

#define MAX_TESTS 4096

typedef struct aq_test_entry {
  const char *name;
  aq_test_fn fn;
} aq_test_entry;

extern aq_test_entry aq_tests[MAX_TESTS];
extern size_t aq_ntests;
extern int aq_cur_failures;
extern int aq_cur_skipped;

#endif
