#!/usr/bin/env bash
# make bench: UDP paths over loopback (sendto vs sendmmsg vs GSO->GRO), 2 s per mode.
set -u
build=${1:-build/release}
[ -x "$build/bench_udp" ] || { echo "bench_udp not built in $build"; exit 1; }
exec "$build/bench_udp" 2
