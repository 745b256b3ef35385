#!/usr/bin/env bash
# make bench: endpoint CID lookup, keyed hash table vs the former linear scan, at 10/1000/10000 connections.
set -u
build=${1:-build/release}
[ -x "$build/bench_ep_lookup" ] || { echo "bench_ep_lookup not built in $build"; exit 1; }
exec "$build/bench_ep_lookup" 0.3
