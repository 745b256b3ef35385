/* node_rand.h - the OS randomness source (getrandom), as an aq_rand_fn. */
#ifndef NODE_RAND_H
#define NODE_RAND_H

#include <stddef.h>
#include <stdint.h>

/**
 * Fill buf with len bytes from the kernel CSPRNG; 0 or AQ_ERR_IO.  Requests
 * of up to 64 bytes come from a per-thread pool refilled 256 bytes at a
 * time (emptied in fork children).  user_data unused.
 */
int node_rand(uint8_t *buf, size_t len, void *user_data);

#endif
