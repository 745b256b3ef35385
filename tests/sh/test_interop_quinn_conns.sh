#!/usr/bin/env bash
# test_interop_quinn_conns.sh - 200 sequential connections (handshake + small echo + close) in
# both directions between ant-quic-peer and quinn-peer on 127.0.0.1; the server must see all of
# them (quinn-peer --exit-after 200 leaves by itself; our server counts its connections).
. "$(dirname "$0")/test_interop_quinn_common.inc"

start_server quinn 127.0.0.1 q-conns --exit-after 200
client ours o2q-conns 120 --connections 200
expect_result o2q-conns "^RESULT handshakes impl=ant-quic connections=200 secs=[0-9.]+ conn_per_sec=[0-9.]+$"
# quinn-peer --exit-after 200: it leaves once the 200th connection ended.
timeout 20 tail --pid="$srv_pid" -f /dev/null 2>/dev/null || fail "quinn server did not see 200 connections"
wait "$srv_pid" 2>/dev/null || fail "quinn server exited with an error"
srv_pid=""

start_server ours 127.0.0.1 o-conns --exit-after 200
client quinn q2o-conns 120 --connections 200
expect_result q2o-conns "^RESULT handshakes impl=quinn connections=200 "
n=$(grep -c "^handshake done suite=aes128 group=0x001d alpn=hq-interop" "$srv_log")
[ "$n" -eq 200 ] || fail "our server completed $n handshakes, expected 200"
grep -q "handshake failed" "$srv_log" && fail "our server logged a failed handshake"
# --exit-after 200: our server leaves by itself, with status 0, once every connection ended.
timeout 20 tail --pid="$srv_pid" -f /dev/null 2>/dev/null || fail "our server did not exit after 200"
wait "$srv_pid" 2>/dev/null || fail "our server exited with an error"
srv_pid=""
echo "PASS"
