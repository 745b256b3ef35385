#!/usr/bin/env bash
# make demo: show the product working on an embedded default.
set -euo pipefail
build=${1:-build/release}
bin="$build/ant-quic"
echo "== $bin --version"
"$bin" --version
echo
echo "== $bin selftest"
"$bin" selftest
