#!/usr/bin/env bash
# test_interop_quinn_v6.sh - the same as test_interop_quinn_v4.sh over ::1 (skipped without IPv6
# loopback): both directions, handshake, 10 MiB echo, 50 MiB verified download, DATAGRAM echo,
# key updates.
. "$(dirname "$0")/test_interop_quinn_common.inc"
if ! have_ipv6; then
  echo "SKIP: no ::1 on this host"
  exit 77
fi
run_transfers ::1 v6
echo "PASS"
