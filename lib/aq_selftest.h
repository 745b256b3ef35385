/* aq_selftest.h - the table of built-in known-answer tests. */
#ifndef AQ_SELFTEST_H
#define AQ_SELFTEST_H

#include <stddef.h>

typedef struct aq_selftest_entry {
  const char *name;
  int (*fn)(void); /* 0 = pass */
} aq_selftest_entry;

const aq_selftest_entry *aq_selftest_table(size_t *n);

#endif
