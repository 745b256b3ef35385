#!/usr/bin/env bash
# The identity key file on disk: created 0600, PeerId stable across runs,
# corrupt / wrong-type / unreadable files refused with a one-line error.
set -u
bin="${AQ_BUILD_DIR:?}/ant-quic"
tmp=$(mktemp -d /tmp/aq-identity.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out1=$("$bin" identity --identity "$tmp/a/b/id.key") || fail "create failed"
echo "$out1"
echo "$out1" | grep -q '^created identity' || fail "not reported as created"
[ "$(stat -c %a "$tmp/a/b/id.key")" = 600 ] || fail "mode is not 0600"
pid1=$(echo "$out1" | sed -n 's/^PeerId: \([0-9a-f]\{64\}\)$/\1/p')
[ -n "$pid1" ] || fail "no 64-hex PeerId printed"
grep -q '^type: ml-dsa-65$' "$tmp/a/b/id.key" || fail "default type is not ml-dsa-65"

out2=$("$bin" identity --identity "$tmp/a/b/id.key") || fail "reload failed"
echo "$out2" | grep -q '^loaded identity' || fail "not reported as loaded"
pid2=$(echo "$out2" | sed -n 's/^PeerId: //p')
[ "$pid1" = "$pid2" ] || fail "PeerId changed across runs"

"$bin" identity --identity "$tmp/ed.key" --key-type ed25519 | grep -q '(ed25519)' || fail "ed25519"

# Corrupt: flip one seed digit.
sed 's/^seed: \(.\)/seed: X/' "$tmp/a/b/id.key" > "$tmp/bad.key"
err=$("$bin" identity --identity "$tmp/bad.key" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] || fail "corrupt file exit $rc"
[ "$(echo "$err" | wc -l)" -eq 1 ] || fail "error is not one line: $err"
echo "$err" | grep -q 'seed' || fail "unclear error: $err"

sed 's/^type: .*/type: rsa/' "$tmp/a/b/id.key" > "$tmp/rsa.key"
err=$("$bin" identity --identity "$tmp/rsa.key" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && echo "$err" | grep -q 'key type' || fail "wrong type: rc=$rc $err"

head -c 300 /dev/urandom > "$tmp/garbage.key"
"$bin" identity --identity "$tmp/garbage.key" >/dev/null 2>&1 && fail "garbage accepted"

err=$("$bin" identity --identity "$tmp/missing.key" --no-create 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$err" | grep -q 'No such file' || fail "missing file: rc=$rc $err"

"$bin" identity --key-type dsa >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --key-type accepted"
echo "identity file checks passed"
