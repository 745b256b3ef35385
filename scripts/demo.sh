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
echo
tmp=$(mktemp -d /tmp/ant-quic-demo.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
echo "== $bin identity --identity $tmp/identity.key   (ML-DSA-65 node identity, created on first use)"
"$bin" identity --identity "$tmp/identity.key"
echo "== again: the same PeerId is loaded from the file"
"$bin" identity --identity "$tmp/identity.key"
