#!/usr/bin/env bash
# pqc.sh - our ML-KEM-768 / ML-DSA-65 speeds against OpenSSL's (through
# Python `cryptography`), as one table with the ratio ours / OpenSSL.
# Usage: bench/pqc.sh [build_dir] [seconds_per_op]
#   build_dir defaults to build/release (make release); seconds default 1.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$HERE/../build/release}
SECS=${2:-1}
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

ran=0
for b in bench_mlkem bench_mldsa bench_classical; do
  if [ -x "$BUILD/$b" ]; then
    "$BUILD/$b" "$SECS" | grep '^OP ' >>"$OUT"
    ran=1
  else
    echo "note: $BUILD/$b not found (build with: make release)" >&2
  fi
done
if [ "$ran" = 0 ]; then
  echo "no benchmark binaries in $BUILD" >&2
  exit 1
fi
if python3 "$HERE/pqc_reference.py" "$SECS" >>"$OUT"; then
  :
else
  echo "note: the Python/OpenSSL reference is unavailable; showing ours only" >&2
fi

awk '
  $1 == "OP"  { ours[$2] = $3; order[n++] = $2 }
  $1 == "REF" { ref[$2] = $3; if (!($2 in ours)) extra[m++] = $2 }
  END {
    printf "%-30s %14s %14s %8s\n", "operation", "ours ops/s", "OpenSSL ops/s", "ratio"
    for (i = 0; i < n; i++) {
      op = order[i]
      if (op in ref && ref[op] > 0) {
        printf "%-30s %14.0f %14.0f %7.2fx\n", op, ours[op], ref[op], ours[op] / ref[op]
      } else {
        printf "%-30s %14.0f %14s %8s\n", op, ours[op], "-", "-"
      }
    }
    for (i = 0; i < m; i++) {
      op = extra[i]
      printf "%-30s %14s %14.0f %8s\n", op, "-", ref[op], "(ref)"
    }
    print "ratio > 1: ours is faster.  OpenSSL through Python includes ~0.5 us call overhead per op."
  }' "$OUT"
