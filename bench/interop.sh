#!/usr/bin/env bash
# bench/interop.sh - throughput and handshake rate of ant-quic-peer against quinn-peer
# (quinn 0.9 / rustls 0.20), all four client->server pairs on loopback in ONE run, so the
# ratios compare like with like on a shared, noisy machine:
#   quinn->quinn (the baseline), ours->ours, quinn->ours, ours->quinn
# For each pair: RUNS downloads of SIZE (median / min / max Mbit/s; runs are interleaved across
# the pairs, one connection each, the handshake excluded from the time) and HANDSHAKES
# sequential connections (handshake + small echo + close; in 5 interleaved chunks; rate =
# connections / total seconds).  Ratios are against quinn->quinn measured in the same run.
# Beside the wall-clock rates it prints the CPU time both processes used (client: bash `time`;
# server: /proc/PID/stat) per GiB and per connection, which a busy shared machine disturbs less.
#
# usage: bench/interop.sh [--runs N] [--size 100M] [--handshakes 500] [--host 127.0.0.1|::1]
#                         [--perf] [--keep]
#   --perf   also profile our sender (server) and receiver (client) in one ours->ours download
#            with perf (if installed) and print the top functions of each
# env: AQ_BUILD_DIR (default build/release; built with `make release` when the binary is absent),
#      AQ_SHARED_DIR (default ../shared).
# Not a test: nothing here fails on slowness.  Only loopback addresses are used.
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
build=${AQ_BUILD_DIR:-$here/build/release}
shared=${AQ_SHARED_DIR:-$here/../shared}
runs=5
size=100M
handshakes=500
host=127.0.0.1
do_perf=0
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
  --runs) runs=$2; shift 2 ;;
  --size) size=$2; shift 2 ;;
  --handshakes) handshakes=$2; shift 2 ;;
  --host) host=$2; shift 2 ;;
  --perf) do_perf=1; shift ;;
  --keep) keep=1; shift ;;
  -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
  *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

ap="$build/ant-quic-peer"
if [ ! -x "$ap" ]; then
  echo "building the release binaries (make release)..."
  make -C "$here" release >/dev/null || { echo "make release failed" >&2; exit 1; }
fi
out="$build/interop"
qp="$out/quinn-peer"
mkdir -p "$out"
(
  flock -w 900 9 || exit 1
  if [ ! -x "$qp" ]; then
    echo "building quinn-peer into $out (40-80 s)..."
    bash "$shared/interop/build-quinn-peer.sh" "$out" >/dev/null || exit 1
  fi
  if [ ! -s "$out/certs/cert.pem" ]; then
    bash "$shared/interop/make-cert.sh" "$out/certs" >/dev/null || exit 1
  fi
) 9>"$out/.build.lock" || { echo "cannot build quinn-peer / the certificate" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/aq_bench_interop.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do timeout 5 tail --pid="$p" -f /dev/null 2>/dev/null || kill -9 "$p" 2>/dev/null; done
  [ "$keep" = 1 ] && echo "logs kept in $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start IMPL: a server on a free port; sets addr_IMPL (host:port) and pid_IMPL
start() {
  local impl=$1 bin listen port=""
  if [ "$impl" = quinn ]; then bin=$qp; else bin=$ap; fi
  if [ "$host" = "::1" ]; then listen="[::1]:0"; else listen="$host:0"; fi
  "$bin" server --listen "$listen" --cert "$out/certs/cert.pem" --key "$out/certs/key.pem" \
    >"$work/server-$impl.log" 2>&1 &
  pids+=($!)
  eval "pid_$impl=$!"
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\) alpn=.*/\1/p' "$work/server-$impl.log" | head -n 1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "$impl server did not start" >&2; exit 1; }
  if [ "$host" = "::1" ]; then port="[::1]:$port"; else port="$host:$port"; fi
  eval "addr_$impl=\$port"
}

pid_quinn="" pid_ours="" addr_quinn="" addr_ours=""
start quinn
start ours
pairs="quinn-quinn ours-ours quinn-ours ours-quinn"
bin_of() { if [ "$1" = quinn ]; then echo "$qp"; else echo "$ap"; fi; }
addr_of() { if [ "$1" = quinn ]; then echo "$addr_quinn"; else echo "$addr_ours"; fi; }

echo "ant-quic-peer vs quinn-peer on $host: $runs x $size downloads, $handshakes handshakes per pair"
echo "(client->server; $(nproc) CPUs; both ends on this machine)"

# CPU seconds (user + system) a server has used so far.
srv_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f\n", ($14 + $15) / hz }' "/proc/$1/stat"
}

# measure KIND PAIR ARGS...: one client run against PAIR's server; appends to $work/KIND-PAIR
# "value client_cpu_s server_cpu_s" where value is mbit_per_s (download) or secs (handshakes).
measure() {
  local kind=$1 p=$2 c s spid before after val
  shift 2
  c=${p%-*}
  s=${p#*-}
  if [ "$s" = quinn ]; then spid=$pid_quinn; else spid=$pid_ours; fi
  before=$(srv_cpu "$spid")
  local TIMEFORMAT='%U %S'
  { time timeout 300 "$(bin_of "$c")" client --connect "$(addr_of "$s")" "$@" -q \
      >"$work/last.out" 2>"$work/last.err"; } 2>"$work/last.cpu"
  after=$(srv_cpu "$spid")
  if [ "$kind" = dl ]; then
    val=$(sed -n 's/^RESULT download .* mbit_per_s=\([0-9.]*\).*/\1/p' "$work/last.out")
  else
    val=$(sed -n 's/^RESULT handshakes .* secs=\([0-9.]*\) .*/\1/p' "$work/last.out")
  fi
  [ -n "$val" ] || { echo "$kind $p failed:"; cat "$work/last.err"; exit 1; } >&2
  echo "$val $(awk '{ print $1 + $2 }' "$work/last.cpu") $(awk -v a="$after" -v b="$before" 'BEGIN { print a - b }')" \
    >>"$work/$kind-$p"
}

# ---------------------------------------------------------------- downloads (interleaved)
for i in $(seq 1 "$runs"); do
  for p in $pairs; do
    measure dl "$p" --download "$size"
  done
done

# ---------------------------------------------------------------- handshakes (5 interleaved chunks)
chunk=$(((handshakes + 4) / 5))
for i in 1 2 3 4 5; do
  for p in $pairs; do
    measure hs "$p" --connections "$chunk"
  done
done

# ---------------------------------------------------------------- table
sizebytes=$(python3 -c "import sys; s=sys.argv[1]; m={'K':1<<10,'M':1<<20,'G':1<<30}; print(int(s[:-1])*m[s[-1].upper()] if s[-1].upper() in m else int(s))" "$size")
python3 - "$work" "$chunk" "$sizebytes" $pairs <<'EOF'
import sys, statistics
work, chunk, nbytes, pairs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
def rows(f):
    return [[float(x) for x in l.split()] for l in open(f) if l.strip()]
res = {}
for p in pairs:
    dl = rows(f"{work}/dl-{p}")
    hs = rows(f"{work}/hs-{p}")
    rates = [r[0] for r in dl]
    # CPU per GiB moved (client + server) and per connection, summed over the runs
    cpu_gib = sum(r[1] + r[2] for r in dl) / (len(dl) * nbytes / 2**30)
    cpu_conn = sum(r[1] + r[2] for r in hs) / (chunk * len(hs)) * 1e3
    cps = chunk * len(hs) / sum(r[0] for r in hs)
    res[p] = (statistics.median(rates), min(rates), max(rates), cps, cpu_gib, cpu_conn)
b = res["quinn-quinn"]
print()
print("wall-clock rates (x quinn: higher is better)")
print(f"{'client->server':16} {'median Mbit/s':>13} {'min':>8} {'max':>8} {'x quinn':>8}   {'conn/s':>8} {'x quinn':>8}")
for p in pairs:
    r = res[p]
    print(f"{p.replace('-', '->'):16} {r[0]:13.1f} {r[1]:8.1f} {r[2]:8.1f} {r[0] / b[0]:8.2f}   {r[3]:8.1f} {r[3] / b[3]:8.2f}")
print()
print("CPU cost, client + server together (user + system; x quinn: lower is better; less noisy")
print("than wall-clock rates on a shared machine)")
print(f"{'client->server':16} {'CPU s/GiB':>10} {'x quinn':>8}   {'CPU ms/conn':>11} {'x quinn':>8}")
for p in pairs:
    r = res[p]
    print(f"{p.replace('-', '->'):16} {r[4]:10.2f} {r[4] / b[4]:8.2f}   {r[5]:11.2f} {r[5] / b[5]:8.2f}")
print()
o = res["ours-ours"]
print(f"goal: ours->ours throughput >= 1.2x quinn->quinn: {o[0] / b[0]:.2f}x; "
      f"handshake rate >= 1.5x: {o[3] / b[3]:.2f}x")
EOF

# ---------------------------------------------------------------- optional profile
if [ "$do_perf" = 1 ]; then
  if ! command -v perf >/dev/null; then
    echo "perf not installed (apt-get install linux-perf): no profile"
    exit 0
  fi
  echo
  echo "profile: one ours->ours $size download (perf, 2 kHz, DWARF call graphs)"
  perf record -q -F 2000 --call-graph dwarf,16384 -o "$work/perf-sender.data" -p "$pid_ours" \
    -- sleep 4 >/dev/null 2>&1 &
  perfpid=$!
  sleep 0.3
  perf record -q -F 2000 --call-graph dwarf,16384 -o "$work/perf-receiver.data" \
    "$ap" client --connect "$addr_ours" --download "$size" -q | grep '^RESULT'
  wait "$perfpid"
  for side in sender receiver; do
    echo "---- $side (self time, top 15)"
    perf report -i "$work/perf-$side.data" --no-children --stdio --sort sym 2>/dev/null |
      grep -E '^ +[0-9.]+%' | head -n 15
    echo "---- $side (inclusive, ant-quic functions, top 15)"
    perf report -i "$work/perf-$side.data" --children --stdio --sort sym 2>/dev/null |
      grep -E '^ +[0-9.]+% +[0-9.]+% +\[\.\] (aq_|node_)' | head -n 15
  done
fi
