#!/usr/bin/env bash
# The blocking API example (examples/block_echo.c) over real loopback
# sockets: a server serving several connections, clients echoing a message
# and 4 MiB of pattern bytes (every byte checked by the client), IPv6, and a
# client to a port nobody listens on failing within its timeout.
set -u
bin="${AQ_BUILD_DIR:?}/block_echo"
tmp=$(mktemp -d /tmp/aq-block-echo.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.out; do echo "--- $f"; cat "$f"; done; exit 1; }

# Start a server on $1 serving $2 connections; sets $addr.
start_server() {
  local out="$tmp/srv$RANDOM.out"
  timeout 60 "$bin" server --listen "$1" --count "$2" >"$out" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    addr=$(sed -n 's/^listening on //p' "$out")
    [ -n "$addr" ] && return 0
    sleep 0.05
  done
  fail "server on $1 did not start"
}

start_server 127.0.0.1:0 3
out=$(timeout 20 "$bin" client --connect "$addr" --message "hello over QUIC") || fail "message echo"
[ "$out" = "hello over QUIC" ] || fail "echo was '$out'"
timeout 60 "$bin" client --connect "$addr" --bytes 4194304 >"$tmp/big.out" 2>&1 || fail "4 MiB echo"
grep -q 'all correct' "$tmp/big.out" || fail "4 MiB echo not verified"
out=$(timeout 20 "$bin" client --connect "$addr" --message "third") || fail "third connection"
[ "$out" = "third" ] || fail "third echo was '$out'"
wait "${pids[0]}" || fail "server exited with an error"

if ip -6 addr show lo 2>/dev/null | grep -q '::1'; then
  start_server '[::1]:0' 1
  out=$(timeout 20 "$bin" client --connect "$addr" --message "v6") || fail "IPv6 echo"
  [ "$out" = "v6" ] || fail "IPv6 echo was '$out'"
else
  echo "no ::1 on lo: IPv6 part skipped"
fi

# Nobody listens there (a bound but silent UDP socket would also do; a free port is enough).
start=$(date +%s%N)
if timeout 20 "$bin" client --connect 127.0.0.1:9 --message x --timeout-ms 700 >"$tmp/dead.out" 2>&1; then
  fail "connect to a dead port succeeded"
fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 5000 ] || fail "dead-port connect took ${ms} ms"
grep -q 'connect' "$tmp/dead.out" || fail "no clear error: $(cat "$tmp/dead.out")"
[ "$(wc -l <"$tmp/dead.out")" -eq 1 ] || fail "error not one line"
# Bad usage: exit 2.
"$bin" client --connect nonsense --message x >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad address exit"
"$bin" client >/dev/null 2>&1; [ $? -eq 2 ] || fail "missing flags exit"
echo "block_echo: all checks passed"
