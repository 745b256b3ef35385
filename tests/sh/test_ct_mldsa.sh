#!/usr/bin/env bash
# test_ct_mldsa.sh - ML-DSA-65 keygen and sign are constant time: build
# tests/tools/ct_mldsa.c with the library sources it needs, plain -O2 -g (no
# ASan: valgrind cannot run ASan binaries) and -DAQ_CT_VALGRIND (turns the
# library's permitted declassifications into VALGRIND_MAKE_MEM_DEFINED), then
# run it under valgrind memcheck: any branch or memory index on the secret
# seed, secret key or rnd is an error.  Skips (77) without valgrind or headers.
set -eu
src=${AQ_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
command -v valgrind >/dev/null 2>&1 || { echo "valgrind not installed: skip"; exit 77; }
cc=${CC_CT:-cc}
command -v "$cc" >/dev/null 2>&1 || { echo "no C compiler: skip"; exit 77; }
echo '#include <valgrind/memcheck.h>' | "$cc" -E -x c - >/dev/null 2>&1 ||
  { echo "valgrind headers missing: skip"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cc" -std=c11 -O2 -g -DAQ_CT_VALGRIND -I"$src/include" -I"$src/lib" -I"$src/lib/crypto" \
  -o "$tmp/ct_mldsa" "$src/tests/tools/ct_mldsa.c" "$src/lib/crypto/aq_mldsa65.c" "$src/lib/crypto/aq_keccakx4.c" \
  "$src/lib/crypto/aq_sha3.c" "$src/lib/crypto/aq_ct.c"
valgrind -q --error-exitcode=1 --track-origins=yes "$tmp/ct_mldsa" 2
