/* aq_mem.c - default allocator and hook dispatch. */
#include "aq_mem.h"

#include <stdlib.h>

static void *default_malloc(size_t size, void *ud) {
  (void)ud;
  return malloc(size);
}
static void default_free(void *ptr, void *ud) {
  (void)ud;
  free(ptr);
}
static void *default_calloc(size_t nmemb, size_t size, void *ud) {
  (void)ud;
  return calloc(nmemb, size);
}
static void *default_realloc(void *ptr, size_t size, void *ud) {
  (void)ud;
  return realloc(ptr, size);
}

static const aq_mem mem_default = {NULL, default_malloc, default_free, default_calloc,
                                   default_realloc};

const aq_mem *aq_mem_default(void) { return &mem_default; }

void *aq_mem_malloc(const aq_mem *mem, size_t size) { return mem->malloc(size, mem->user_data); }
void *aq_mem_calloc(const aq_mem *mem, size_t nmemb, size_t size) {
  return mem->calloc(nmemb, size, mem->user_data);
}
void *aq_mem_realloc(const aq_mem *mem, void *ptr, size_t size) {
  return mem->realloc(ptr, size, mem->user_data);
}
void aq_mem_free(const aq_mem *mem, void *ptr) {
  if (ptr) {
    mem->free(ptr, mem->user_data);
  }
}
