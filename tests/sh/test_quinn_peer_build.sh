#!/usr/bin/env bash
# test_quinn_peer_build.sh - prove CI can build and run the independent QUIC peer.
#
# 1. Builds quinn-peer (quinn 0.9 / rustls 0.20) with $AQ_SHARED_DIR/interop/build-quinn-peer.sh
#    into $AQ_BUILD_DIR/interop, once (kept between runs; a lock serialises parallel runs).
# 2. Checks `quinn-peer --help` runs.
# 3. Loopback smoke test, IPv4 (127.0.0.1) then IPv6 (::1, skipped if absent): a quinn-peer
#    server on an OS-chosen free port (--listen ADDR:0, port read back from its log), and a
#    quinn-peer client doing --download 1M --verify and --echo-bytes 100K.  The client exits
#    non-zero on any failure, so it is the oracle; we also require its RESULT lines.
# Only loopback addresses are used; every wait is bounded; every process is killed on exit.
# Exit 77 (skipped) only when the build script is absent.
set -uo pipefail

shared=${AQ_SHARED_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)/shared}
build=${AQ_BUILD_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build}
builder="$shared/interop/build-quinn-peer.sh"
certer="$shared/interop/make-cert.sh"
out="$build/interop"
qp="$out/quinn-peer"

if [ ! -f "$builder" ]; then
  echo "SKIP: $builder not found (set AQ_SHARED_DIR)"
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/aq_quinn.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null
  done
  for p in "${pids[@]}"; do
    timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null || kill -9 "$p" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do
    [ -f "$f" ] && { echo "---- $(basename "$f")"; tail -n 30 "$f"; }
  done
  exit 1
}

# ------------------------------------------------------------------ build (once)
mkdir -p "$out"
(
  flock -w 900 9 || exit 1
  if [ ! -x "$qp" ]; then
    echo "building quinn-peer into $out (first time: 40-80 s)"
    timeout 900 bash "$builder" "$out" >"$work/build.log" 2>&1 || exit 1
  else
    echo "quinn-peer already built: $qp"
  fi
) 9>"$out/.build.lock" || { cat "$work/build.log" 2>/dev/null | tail -n 40; fail "build-quinn-peer.sh failed"; }
[ -x "$qp" ] || fail "no executable at $qp after the build"

timeout 10 "$qp" --help >"$work/help.log" 2>&1 || fail "quinn-peer --help failed"
grep -q "quinn-peer server" "$work/help.log" || fail "--help output lacks the usage text"
echo "ok: quinn-peer --help"

timeout 30 bash "$certer" "$out/certs" >"$work/cert.log" 2>&1 || fail "make-cert.sh failed"
[ -s "$out/certs/cert.pem" ] && [ -s "$out/certs/key.pem" ] || fail "no certificate"

# ------------------------------------------------------------------ smoke test
# start_server HOST -> sets srv_pid and srv_port (HOST is 127.0.0.1 or ::1)
start_server() {
  local host=$1 tag=$2 listen
  if [ "$host" = "::1" ]; then listen="[::1]:0"; else listen="$host:0"; fi
  "$qp" server --listen "$listen" --cert "$out/certs/cert.pem" --key "$out/certs/key.pem" \
    --exit-after 2 >"$work/server-$tag.log" 2>&1 &
  srv_pid=$!
  pids+=("$srv_pid")
  srv_port=""
  for _ in $(seq 1 100); do   # at most 10 s
    srv_port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\) alpn=.*/\1/p' "$work/server-$tag.log" | head -n 1)
    [ -n "$srv_port" ] && return 0
    kill -0 "$srv_pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

run_pair() {
  local host=$1 tag=$2 connect
  start_server "$host" "$tag" || fail "[$tag] server did not start"
  if [ "$host" = "::1" ]; then connect="[::1]:$srv_port"; else connect="$host:$srv_port"; fi
  echo "[$tag] server pid $srv_pid on $connect"

  timeout 60 "$qp" client --connect "$connect" --download 1M --verify \
    >"$work/client-$tag-download.log" 2>&1 || fail "[$tag] client --download 1M failed"
  grep -q "^RESULT" "$work/client-$tag-download.log" || fail "[$tag] no RESULT line (download)"
  grep "^RESULT" "$work/client-$tag-download.log" | grep -q " bytes=1048576 " ||
    fail "[$tag] download RESULT does not report 1048576 bytes"
  echo "[$tag] ok: $(grep '^RESULT' "$work/client-$tag-download.log" | head -n 1)"

  timeout 60 "$qp" client --connect "$connect" --echo-bytes 100K \
    >"$work/client-$tag-echo.log" 2>&1 || fail "[$tag] client --echo-bytes 100K failed"
  grep "^RESULT" "$work/client-$tag-echo.log" | grep -q " bytes=102400 ok " ||
    fail "[$tag] echo RESULT does not report 102400 bytes ok"
  echo "[$tag] ok: $(grep '^RESULT' "$work/client-$tag-echo.log" | head -n 1)"

  # --exit-after 2: the server leaves by itself after the two connections.
  timeout 15 tail --pid="$srv_pid" -f /dev/null 2>/dev/null || fail "[$tag] server did not exit after 2 connections"
  wait "$srv_pid" 2>/dev/null || fail "[$tag] server exited with an error"
}

run_pair 127.0.0.1 v4

if ip -6 addr show dev lo 2>/dev/null | grep -q "::1" ||
   grep -q "00000000000000000000000000000001" /proc/net/if_inet6 2>/dev/null; then
  run_pair ::1 v6
else
  echo "[v6] skipped: no ::1 on this host"
fi
echo "PASS"
