/* node_identity.h - load or create the node identity key file. */
#ifndef NODE_IDENTITY_H
#define NODE_IDENTITY_H

#include <stddef.h>

#include "aq_identity.h"

/**
 * The default key-file path: $XDG_DATA_HOME/ant-quic/identity.key, else
 * $HOME/.local/share/ant-quic/identity.key.  0 or -1 (no usable variable).
 */
int node_identity_default_path(char *out, size_t cap);

/**
 * Load the identity at path; if the file does not exist and create != 0,
 * generate one of the given type from the kernel CSPRNG and save it with
 * mode 0600 (parent directories created 0700, written atomically through a
 * temporary file).  On error returns a negative AQ_ERR_* and writes a
 * one-line reason into err (errcap bytes).  *created is set to 1 when a new
 * file was written.
 */
int node_identity_load_or_create(aq_identity *id, const char *path, aq_identity_type type,
                                 int create, int *created, char *err, size_t errcap);

#endif
