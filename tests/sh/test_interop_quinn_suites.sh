#!/usr/bin/env bash
# test_interop_quinn_suites.sh - each TLS 1.3 cipher suite forced on our side, both directions
# against quinn-peer (which offers all three): the negotiated suite must be the forced one and a
# 2 MiB echo must come back intact; then Retry on our server: quinn's client must go through it
# (our server logs retry=1) and still echo and download.
. "$(dirname "$0")/test_interop_quinn_common.inc"

start_server quinn 127.0.0.1 q-suites
for s in aes128 aes256 chacha20; do
  client ours "o2q-$s" 60 --suite "$s" --echo-bytes 2M
  expect_result "o2q-$s" " bytes=2097152 ok "
  expect_stderr "o2q-$s" "handshake done suite=$s "
done
stop_server

for s in aes128 aes256 chacha20; do
  start_server ours 127.0.0.1 "o-$s" --suite "$s"
  client quinn "q2o-$s" 60 --echo-bytes 2M
  expect_result "q2o-$s" " bytes=2097152 ok "
  expect_server_log "handshake done suite=$s "
  stop_server
done

start_server ours 127.0.0.1 o-retry --retry
expect_server_log "retry=on"
client quinn q2o-retry-echo 60 --echo-bytes 1M
expect_result q2o-retry-echo " bytes=1048576 ok "
client quinn q2o-retry-dl 60 --download 10M --verify
expect_result q2o-retry-dl " bytes=10485760 "
n=$(grep -c "^handshake done .* retry=1$" "$srv_log")
[ "$n" -eq 2 ] || fail "expected 2 handshakes through Retry, the server logged $n"
grep -q "retry=0$" "$srv_log" && fail "a connection skipped the Retry"
# Our client through our own Retry too (it must echo the token and check the Retry tag).
client ours o2o-retry 60 --echo-bytes 1M
expect_result o2o-retry " bytes=1048576 ok "
expect_stderr o2o-retry "handshake done .* retry=1"
stop_server
echo "PASS"
