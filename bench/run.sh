#!/usr/bin/env bash
# make bench: run every benchmark; each prints its own baseline measured in the same run
# and the ratio to it.
#   pqc.sh         ML-KEM-768 / ML-DSA-65 vs OpenSSL 4.0 (Python cryptography), X25519/Ed25519 beside
#   bench_udp.sh   sendto vs sendmmsg vs GSO/GRO on loopback
#   interop.sh     ant-quic vs quinn on loopback: 100 MiB downloads and sequential handshakes, all pairs
#   bench_conn     in-process handshakes/s and transfer Gbit/s per CPU second vs the crypto floor
#   bench_qad      OBSERVED_ADDRESS encode/decode vs a 20-byte memcpy; per-connection state size
set -u
build=${1:-build/release}
here=$(cd "$(dirname "$0")" && pwd)
status=0
for script in "$here"/*.sh; do
  case "$(basename "$script")" in
  run.sh) continue ;;
  interop.sh)
    echo "== interop.sh"
    AQ_BUILD_DIR="$build" bash "$script" || status=1
    ;;
  *)
    echo "== $(basename "$script")"
    bash "$script" "$build" || status=1
    ;;
  esac
done
echo "== bench_conn handshake"
"$build/bench_conn" handshake 1 || status=1
for suite in aes128 chacha20; do
  echo "== bench_conn transfer $suite"
  "$build/bench_conn" transfer 200 "$suite" || status=1
done
echo "== bench_qad"
"$build/bench_qad" || status=1
exit $status
