/*
 * node_app.h - the ant-quic P2P node (the program's default action): load
 * or create the identity, bind, connect to the bootstrap nodes with mutual
 * raw-public-key authentication and post-quantum key exchange, keep those
 * connections alive and reconnect with backoff, report the external address
 * learned through QUIC address discovery, serve other nodes, and answer the
 * console on stdin.  Events go to stdout (human text, or one JSON object per
 * line with --json); logs go to stderr.
 */
#ifndef NODE_APP_H
#define NODE_APP_H

#include "node_cfg.h"

/**
 * Run the node until /quit, SIGINT or SIGTERM.  Returns the process exit
 * status: 0 after a clean stop, 1 when it could not start or failed at run
 * time (bind error, fatal core error), 2 for bad input found at start-up
 * (unreadable or corrupt identity file, unresolvable bootstrap host).
 * Messages for 1 and 2 are one line on stderr.
 */
int node_app_run(const node_cfg *cfg);

#endif
