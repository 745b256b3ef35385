#!/usr/bin/env bash
# One bootstrap and three client nodes on loopback, all with --json:
#  - every stdout line of every node is one JSON object with "event" and "t";
#  - each client connects (bootstrap_connected, the bootstrap's PeerId) and
#    reports its external address = its own loopback address and port;
#  - the bootstrap's /peers lists exactly the three client PeerIds, inbound;
#  - /status and /stats answer on both sides with the expected fields;
#  - SIGTERM stops every node with status 0 within a second, and the clients
#    see the bootstrap close their connections.
set -u
. "$(dirname "$0")/test_node_lib.inc"

# The bootstrap binds the default [::]:0 (dual-stack); the clients reach it over
# IPv4, IPv6 and a host name.
start_node boot "$AQ_BIN" --json --identity "$tmp/boot.key"
wait_for boot '"event":"started"' 20 || fail "bootstrap did not start"
bport=$(port_of boot) || fail "no bootstrap port"
bid=$(peer_id_of boot) || fail "no bootstrap PeerId"
json 'events("started")[0]["role"] == "bootstrap"' boot || fail "role is not bootstrap"

json 'events("started")[0]["dual_stack"] is True and events("started")[0]["listen"][0].startswith("[::]:")' boot ||
  fail "default listen is not [::]:0 dual-stack"
start_node c1 "$AQ_BIN" --json --listen 127.0.0.1:0 --bootstrap "127.0.0.1:$bport" --identity "$tmp/c1.key"
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; then
  start_node c2 "$AQ_BIN" --json --listen '[::1]:0' --bootstrap "[::1]:$bport" --identity "$tmp/c2.key"
else
  echo "no ::1 on lo: the second client uses IPv4"
  start_node c2 "$AQ_BIN" --json --listen 127.0.0.2:0 --bootstrap "127.0.0.1:$bport" --identity "$tmp/c2.key"
fi
start_node c3 "$AQ_BIN" --json --listen 127.0.0.1:0 --bootstrap "localhost:$bport" --identity "$tmp/c3.key"
ids=()
addrs=()
for c in c1 c2 c3; do
  wait_for $c '"event":"bootstrap_connected"' 20 || fail "$c did not connect"
  wait_for $c '"event":"external_address"' 10 || fail "$c reported no external address"
  caddr=$(json 'events("started")[0]["listen"][0]' $c) || fail "no $c address"
  json "events('bootstrap_connected')[0]['peer_id'] == '$bid'" $c || fail "$c: wrong bootstrap PeerId"
  json "events('external_address')[0]['addr'] == '$caddr'" $c ||
    fail "$c: external address is not $caddr: $(json 'events("external_address")' $c)"
  json "events('started')[0]['role'] == 'client'" $c || fail "$c: role is not client"
  ids+=("$(peer_id_of $c)")
  addrs+=("$caddr")
done

# All three PeerIds differ.
[ "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)" -eq 3 ] || fail "PeerIds are not distinct"

send boot /peers
wait_for boot '"event":"peers"' 10 || fail "no /peers answer"
want=$(printf "'%s'," "${ids[@]}")
want_addrs=$(printf "'%s'," "${addrs[@]}")
json "sorted(p['peer_id'] for p in events('peers')[-1]['peers']) == sorted([$want]) and \
      sorted(p['addr'] for p in events('peers')[-1]['peers']) == sorted([$want_addrs]) and \
      events('peers')[-1]['count'] == 3 and \
      all(p['direction'] == 'inbound' and p['path'] == 'direct' and p['rtt_ms'] >= 0 and \
          p['kex'] == 'X25519MLKEM768' \
          for p in events('peers')[-1]['peers'])" boot ||
  fail "bootstrap /peers does not list exactly the 3 clients: $(json 'events("peers")[-1]' boot)"

send boot /status
send boot /stats
send c1 /status
send c1 /stats
send c1 /help
wait_for boot '"event":"stats"' 10 || fail "no /stats answer from the bootstrap"
wait_for c1 '"event":"help"' 10 || fail "no /help answer from c1"
json "events('status')[-1]['connections']['inbound'] == 3 and \
      events('status')[-1]['peer_id'] == '$bid' and events('status')[-1]['role'] == 'bootstrap'" boot ||
  fail "bootstrap /status: $(json 'events("status")[-1]' boot)"
json "events('stats')[-1]['totals']['handshakes_completed'] >= 3 and \
      events('stats')[-1]['totals']['packets_received'] > 0 and \
      len(events('stats')[-1]['connections']) == 3" boot ||
  fail "bootstrap /stats: $(json 'events("stats")[-1]' boot)"
json "events('status')[-1]['external_address'] == events('external_address')[0]['addr'] and \
      events('status')[-1]['bootstraps'][0]['state'] == 'connected' and \
      events('status')[-1]['connections']['outbound'] == 1" c1 ||
  fail "client /status: $(json 'events("status")[-1]' c1)"
json "events('stats')[-1]['totals']['handshakes_completed'] == 1" c1 || fail "client /stats"
json "[c['command'] for c in events('help')[-1]['commands']] == \
      ['/status', '/peers', '/stats', '/debug', '/help', '/quit']" c1 || fail "client /help"

# No CANNOT_FIND_EXTERNAL_ADDRESS once an address was found (the 5 s timer passes).
sleep 5.5
for c in c1 c2 c3; do
  [ "$(count_lines $c external_address_not_found)" -eq 0 ] || fail "$c: spurious not-found event"
done

stop_node boot TERM
for c in c1 c2 c3; do
  wait_for $c '"event":"bootstrap_disconnected"' 5 || fail "$c did not see the bootstrap close"
  json "'node shutting down' in events('bootstrap_disconnected')[0]['reason']" $c ||
    fail "$c: close reason missing"
  stop_node $c INT
  json "events('shutdown')[-1]['reason'] == 'SIGINT'" $c || fail "$c: no shutdown event"
  no_sanitizer_report $c
done
no_sanitizer_report boot
json "events('shutdown')[-1]['reason'] == 'SIGTERM'" boot || fail "bootstrap: no shutdown event"
echo "PASS: 1 bootstrap + 3 clients"
