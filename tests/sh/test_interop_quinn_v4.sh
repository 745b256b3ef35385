#!/usr/bin/env bash
# test_interop_quinn_v4.sh - ant-quic-peer against quinn-peer (quinn 0.9 / rustls 0.20) on
# 127.0.0.1, both directions: handshake + ALPN, 10 MiB echo, 50 MiB verified download, DATAGRAM
# echo, key updates during a transfer (initiated by our client, and by our server), our server
# shutting down cleanly.  Any failure of either side fails the test.
. "$(dirname "$0")/test_interop_quinn_common.inc"
run_transfers 127.0.0.1 v4
echo "PASS"
