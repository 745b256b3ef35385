#!/usr/bin/env bash
# The node's identity file: created 0600 on first start, the same PeerId
# after a restart (and the same as `ant-quic identity` prints), and a corrupt,
# wrong or unreadable file stops the node with a one-line error and status 2.
set -u
. "$(dirname "$0")/test_node_lib.inc"

key="$tmp/sub/dir/node.key"
printf '/quit\n' >"$tmp/quit.txt"
"$AQ_BIN" --json --listen 127.0.0.1:0 --identity "$key" <"$tmp/quit.txt" >"$tmp/run1.out" 2>"$tmp/run1.err" ||
  fail "first run failed"
[ "$(stat -c %a "$key")" = 600 ] || fail "key file mode is not 0600"
json 'events("started")[0]["identity_created"] is True' run1 || fail "not reported as created"
id1=$(peer_id_of run1)
[[ "$id1" =~ ^[0-9a-f]{64}$ ]] || fail "PeerId is not 64 hex digits: $id1"

"$AQ_BIN" --json --listen 127.0.0.1:0 --identity "$key" <"$tmp/quit.txt" >"$tmp/run2.out" 2>"$tmp/run2.err" ||
  fail "second run failed"
json 'events("started")[0]["identity_created"] is False' run2 || fail "not reported as loaded"
[ "$(peer_id_of run2)" = "$id1" ] || fail "PeerId changed across restarts"
"$AQ_BIN" identity --identity "$key" | grep -q "^PeerId: $id1\$" || fail "identity subcommand disagrees"

# Human output shows the same PeerId.
"$AQ_BIN" --minimal --listen 127.0.0.1:0 --identity "$key" <"$tmp/quit.txt" >"$tmp/run3.out" 2>&1 ||
  fail "third run failed"
grep -q "^PeerId: $id1\$" "$tmp/run3.out" || fail "human output lacks the PeerId"

# XDG default path.
mkdir -p "$tmp/xdg"
XDG_DATA_HOME="$tmp/xdg" "$AQ_BIN" --minimal --listen 127.0.0.1:0 <"$tmp/quit.txt" >"$tmp/run4.out" 2>&1 ||
  fail "default-path run failed"
[ -f "$tmp/xdg/ant-quic/identity.key" ] || fail "no key in \$XDG_DATA_HOME/ant-quic/identity.key"

check_bad() { # FILE PATTERN
  local err rc
  err=$("$AQ_BIN" --listen 127.0.0.1:0 --identity "$1" </dev/null 2>&1 >/dev/null)
  rc=$?
  [ $rc -eq 2 ] || fail "$1: exit status $rc, want 2 ($err)"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$1: error is not one line: $err"
  printf '%s\n' "$err" | grep -q "$2" || fail "$1: unclear error: $err"
  printf '%s\n' "$err" | grep -Eq 'Sanitizer|runtime error' && fail "$1: sanitizer report"
  echo "ok: $err"
}
sed 's/^seed: \(.\)/seed: X/' "$key" >"$tmp/corrupt.key"
check_bad "$tmp/corrupt.key" 'seed'
# A stored PeerId that does not match the key (first hex digit changed).
awk '/^peer-id: /{c=substr($2,1,1); $2=(c=="0"?"1":"0") substr($2,2)} {print}' "$key" >"$tmp/wrongid.key"
cmp -s "$key" "$tmp/wrongid.key" && fail "could not alter the peer-id line"
check_bad "$tmp/wrongid.key" 'identity file'
head -c 200 /dev/urandom >"$tmp/garbage.key"
check_bad "$tmp/garbage.key" 'identity file'
: >"$tmp/empty.key"
check_bad "$tmp/empty.key" 'identity file'
mkdir "$tmp/adir"
check_bad "$tmp/adir" 'identity file'
echo "PASS: identity persists; bad files refused"
