#!/usr/bin/env bash
# test_ct_mlkem.sh - ML-KEM-768 constant-time check with valgrind memcheck
# (and, first, the ML-KEM unit tests on the portable code).
# `make test` builds with ASan, which valgrind cannot run, so this compiles its
# own plain -O2 binary (with -DAQ_CT_TESTING so the library's declassification
# hook for rho is active) from the needed sources into a temporary folder,
# then runs it under memcheck: any branch or memory index that depends on
# d, z, m, s or z' is reported and fails the test.  Skips (77) without
# valgrind, its memcheck.h header or a C compiler.
set -euo pipefail

SRC=${AQ_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
CC=${CC:-cc}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Stage 1 (no valgrind needed): the ML-KEM unit tests (ACVP, Wycheproof,
# properties) on the portable code only (-DAQ_NO_AVX2), since the
# normal build takes the AVX2 paths on this machine.
VEC=${AQ_VECTORS_DIR:-${AQ_VECTORS_DIR_DEFAULT:-$SRC/../shared/specs/vectors}}
if "$CC" -std=c11 -D_GNU_SOURCE -O2 -DAQ_NO_AVX2 -DAQ_DEFAULT_VECTORS_DIR="\"$VEC\"" \
    -I"$SRC/include" -I"$SRC/lib" -I"$SRC/lib/crypto" -I"$SRC/tests/testlib" \
    "$SRC"/tests/testlib/*.c "$SRC/tests/unit/test_mlkem768.c" "$SRC"/lib/crypto/aq_mlkem768*.c \
    "$SRC/lib/crypto/aq_keccakx4.c" "$SRC/lib/crypto/aq_sha3.c" "$SRC/lib/crypto/aq_ct.c" "$SRC/lib/aq_err.c" "$SRC/lib/aq_mem.c" \
    -o "$TMP/test_portable" 2>"$TMP/cc.log"; then
  echo "== portable ML-KEM unit tests"
  rc=0
  "$TMP/test_portable" 'mlkem768*' >"$TMP/portable.log" 2>&1 || rc=$?
  tail -1 "$TMP/portable.log"
  if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
    cat "$TMP/portable.log"
    echo "FAIL: portable ML-KEM unit tests"
    exit 1
  fi
else
  echo "note: portable unit-test build skipped (test library needs more sources):"
  head -5 "$TMP/cc.log"
fi

if ! command -v valgrind >/dev/null 2>&1; then
  echo "SKIP: valgrind is not installed"
  exit 77
fi
if ! command -v "$CC" >/dev/null 2>&1; then
  echo "SKIP: no C compiler ($CC)"
  exit 77
fi
if ! printf '#include <valgrind/memcheck.h>\nint main(void){return 0;}\n' |
    "$CC" -x c - -o /dev/null 2>/dev/null; then
  echo "SKIP: valgrind/memcheck.h is not installed (valgrind development headers)"
  exit 77
fi

# Stage 2: -O2 and -O3 with the AVX2 code (when the CPU has it), and -O2 with the portable code.
for opt in ${AQ_CT_OPTS:--O2 -O3 -O2,-DAQ_NO_AVX2}; do
  # shellcheck disable=SC2086
  "$CC" -std=c11 -D_GNU_SOURCE -DAQ_CT_TESTING ${opt//,/ } -g \
    -I"$SRC/include" -I"$SRC/lib" -I"$SRC/lib/crypto" \
    "$SRC"/lib/crypto/aq_mlkem768*.c "$SRC/lib/crypto/aq_keccakx4.c" "$SRC/lib/crypto/aq_sha3.c" "$SRC/lib/crypto/aq_ct.c" \
    "$SRC/tests/tools/ct_mlkem.c" -o "$TMP/ct_mlkem"
  echo "== $CC $opt"
  valgrind -q --error-exitcode=1 --track-origins=yes "$TMP/ct_mlkem" 2
done
echo "ML-KEM-768 constant-time check: no secret-dependent branch or index found"
