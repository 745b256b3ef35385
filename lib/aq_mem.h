/* aq_mem.h - allocation through the caller's hooks. */
#ifndef AQ_MEM_H
#define AQ_MEM_H

#include "antquic.h"

void *aq_mem_malloc(const aq_mem *mem, size_t size);
void *aq_mem_calloc(const aq_mem *mem, size_t nmemb, size_t size);
void *aq_mem_realloc(const aq_mem *mem, void *ptr, size_t size);
void aq_mem_free(const aq_mem *mem, void *ptr);

#endif
