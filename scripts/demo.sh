#!/usr/bin/env bash
# make demo: show the product working on an embedded default.
#  1. version and the cryptographic self-test;
#  2. an ML-DSA-65 node identity created, then reloaded;
#  3. a small network on loopback: one bootstrap node and two client nodes.
#     Each client connects with post-quantum TLS and mutual raw-public-key
#     authentication, prints its PeerId and the external address the
#     bootstrap observed (QUIC address discovery); the bootstrap's /peers
#     lists both; then all three stop cleanly on SIGTERM.
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
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
echo "== $bin identity --identity $tmp/identity.key   (ML-DSA-65 node identity, created on first use)"
"$bin" identity --identity "$tmp/identity.key"
echo "== again: the same PeerId is loaded from the file"
"$bin" identity --identity "$tmp/identity.key"
echo

# start NAME ARGS... : a node with its console on a FIFO, output in $tmp/NAME.out.
start() {
  local name=$1 fd
  shift
  mkfifo "$tmp/$name.in"
  "$bin" "$@" <"$tmp/$name.in" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  eval "${name}_pid=$!"
  exec {fd}>"$tmp/$name.in"
  eval "${name}_fd=$fd"
}
# wait_line NAME REGEX : wait (up to 15 s) for a matching output line and print it.
wait_line() {
  local i
  for i in $(seq 1 150); do
    if grep -Eq -- "$2" "$tmp/$1.out"; then
      grep -E -- "$2" "$tmp/$1.out" | head -n 1
      return 0
    fi
    sleep 0.1
  done
  echo "demo: $1 printed no line matching '$2'" >&2
  cat "$tmp/$1.out" "$tmp/$1.err" >&2
  exit 1
}
# stop NAME : SIGTERM and wait for a clean exit.
stop() {
  local pid
  eval "pid=\$$1_pid"
  kill -TERM "$pid"
  wait "$pid"
  echo "$1 stopped (exit status $?)"
}

echo "== a bootstrap node:  $bin --listen 127.0.0.1:0 --minimal"
start boot --listen 127.0.0.1:0 --minimal --identity "$tmp/boot.key"
line=$(wait_line boot '^Listening on ')
echo "   bootstrap $line"
bport=${line##*:}
line=$(wait_line boot '^PeerId: ')
echo "   bootstrap $line"
echo
for c in alice bob; do
  echo "== client node '$c':  $bin --bootstrap 127.0.0.1:$bport --listen 127.0.0.1:0"
  start $c --bootstrap "127.0.0.1:$bport" --listen 127.0.0.1:0 --identity "$tmp/$c.key"
done
for c in alice bob; do
  for pat in '^PeerId: ' '^Connected to bootstrap ' 'Discovered external address: '; do
    line=$(wait_line $c "$pat")
    echo "   $c $line"
  done
done
echo
echo "== the bootstrap's console: /peers"
eval "echo /peers >&\$boot_fd"
wait_line boot '^Peers \(2\):' >/dev/null
sleep 0.2
sed -n '/^Peers (2):/,$p' "$tmp/boot.out" | head -n 3
echo
echo "== stopping the nodes (SIGTERM: connections are closed with a reason)"
stop alice
stop bob
stop boot
pids=()
