#!/usr/bin/env bash
# Two bootstrap addresses, one dead (nothing listens there): the node works
# with the live one (connects, discovers its address, answers /status) and
# keeps retrying the dead one with backoff; the live one is given second and
# by host name ("localhost") so resolution is exercised too.
set -u
. "$(dirname "$0")/test_node_lib.inc"

dead=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_node boot "$AQ_BIN" --json --listen 127.0.0.1:0 --identity "$tmp/boot.key"
wait_for boot '"event":"started"' 20 || fail "bootstrap did not start"
bport=$(port_of boot)

start_node c1 "$AQ_BIN" --json --listen 127.0.0.1:0 --bootstrap "127.0.0.1:$dead,localhost:$bport" \
  --identity "$tmp/c1.key"
# c2 has address discovery switched off: connected, but no address -> CANNOT_FIND after 5 s.
ANT_QUIC_ADDRESS_DISCOVERY_ENABLED=false start_node c2 "$AQ_BIN" --json --listen 127.0.0.1:0 \
  --bootstrap "127.0.0.1:$bport" --identity "$tmp/c2.key"
wait_for c1 '"event":"bootstrap_connected"' 20 || fail "c1 did not connect to the live bootstrap"
json "events('bootstrap_connected')[0]['bootstrap'] == 'localhost:$bport' and \
      events('bootstrap_connected')[0]['addr'] == '127.0.0.1:$bport'" c1 ||
  fail "connected to the wrong bootstrap: $(json 'events("bootstrap_connected")' c1)"
wait_for c1 '"event":"external_address"' 10 || fail "no external address with one bootstrap dead"

# The dead one: the first attempt times out after 5 s, then it is retried.
end=$((SECONDS + 20))
while [ "$(count_lines c1 '"event":"bootstrap_connect_failed".*"127.0.0.1:'"$dead"'"')" -lt 2 ]; do
  [ $SECONDS -ge $end ] && fail "the dead bootstrap was not retried"
  sleep 0.2
done
json "all(e['bootstrap'] == '127.0.0.1:$dead' for e in events('bootstrap_connect_failed'))" c1 ||
  fail "the live bootstrap failed"
json "[e['attempt'] for e in events('bootstrap_connect_failed')][:2] == [1, 2]" c1 ||
  fail "attempt numbers: $(json 'events("bootstrap_connect_failed")' c1)"

wait_for c2 '"event":"external_address_not_found"' 10 || fail "c2: no CANNOT_FIND_EXTERNAL_ADDRESS"
json "len(events('bootstrap_connected')) == 1 and not events('external_address') and \
      events('external_address_not_found')[0]['message'] == 'CANNOT_FIND_EXTERNAL_ADDRESS' and \
      events('external_address_not_found')[0]['t'] >= 5.0" c2 || fail "c2 events"
stop_node c2 TERM

send c1 /status
wait_for c1 '"event":"status"' 10 || fail "no /status"
json "{b['bootstrap']: b['state'] for b in events('status')[-1]['bootstraps']}['localhost:$bport'] == 'connected' and \
      {b['bootstrap']: b['state'] for b in events('status')[-1]['bootstraps']}['127.0.0.1:$dead'] in ('retrying', 'connecting') and \
      len(events('status')[-1]['bootstraps']) == 2" c1 ||
  fail "/status bootstraps: $(json 'events("status")[-1]["bootstraps"]' c1)"
json "events('status')[-1]['connections']['total'] == 1" c1 || fail "/status connections"

stop_node c1 TERM
stop_node boot TERM
no_sanitizer_report c1
no_sanitizer_report boot
echo "PASS: works with the live bootstrap, keeps retrying the dead one"
